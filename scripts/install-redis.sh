#!/usr/bin/env bash
# Installs (Debian) and starts a local redis-server on 127.0.0.1:6379 for the StackExchange.Redis test
# (tests/Patcher.Child/Scenarios.Wakes.cs). Idempotent. Needs root to install; a running server is left alone.
set -euo pipefail
if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  echo "install-redis: redis-server already answers on 127.0.0.1:6379"
  exit 0
fi
if ! command -v redis-server >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "install-redis: not root; install Debian's redis-server yourself" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
# Started by hand, not through the service manager (none runs in CI containers); no persistence: the test's keys expire.
redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no >/dev/null
for _ in $(seq 50); do
  redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && { echo "install-redis: redis-server online on 127.0.0.1:6379"; exit 0; }
  sleep 0.1
done
echo "install-redis: redis-server did not answer on 127.0.0.1:6379" >&2
exit 1
