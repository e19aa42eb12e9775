#!/usr/bin/env bash
# Installs (Debian) and starts a local PostgreSQL for the Npgsql test and the service example, with a
# password-less role/database "evergreen" reachable on 127.0.0.1:5432. Idempotent. Needs root.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "install-postgres: not root; install Debian's postgresql yourself" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h 2>/dev/null | grep -q online; then
  pg_lsclusters -h | grep -q . || pg_createcluster "$ver" main >/dev/null
  if ! pg_ctlcluster "$ver" main start 2>/dev/null; then
    # A server killed uncleanly (e.g. with the session that started it) leaves lock files whose PID may since have been
    # reused by another process; postgres then refuses to start. With no postgres running they are stale.
    if ! pgrep -x postgres >/dev/null; then
      rm -f /var/run/postgresql/.s.PGSQL.*.lock "/var/lib/postgresql/$ver/main/postmaster.pid"
    fi
    pg_ctlcluster "$ver" main start
  fi
fi
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='evergreen'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE evergreen LOGIN PASSWORD 'evergreen' SUPERUSER\""
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='evergreen'\"" | grep -q 1 ||
  su postgres -c "createdb -O evergreen evergreen"
echo "install-postgres: PostgreSQL $ver online on 127.0.0.1:5432 (user/password/db: evergreen)"
