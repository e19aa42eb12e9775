#!/bin/bash
# What one switch costs the kernel with one OS thread per green thread: bench/floor/handoff_ring.c passes a
# token round a ring of N pthreads pinned to one CPU (futex wake of the next + futex wait), each touching 8 KB
# of stack per turn. N=2 is the best case (bench/run switch measures ours at that size); N=1000 is what the
# hub pays per message in the echo benchmark at C=1000 (every message wakes a different thread).
# Usage: bench/run handoff      stdout: handoff<TAB>c-futex-ring-1cpu<TAB>N=..<TAB>ns_per_handoff<TAB>v
set -u
cd "$(dirname "$0")/../.." || exit 1
log() { echo "[handoff.sh] $*" >&2; }
command -v gcc >/dev/null || { log "gcc is not installed (apt-get install -y gcc): no rows"; exit 0; }
TMP=$(mktemp -d /tmp/evergreen-handoff.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
gcc -O2 -pthread -o "$TMP/ring" bench/floor/handoff_ring.c || { log "build failed"; exit 1; }
CPU=$(( $(nproc) - 1 ))
for spec in 2:200000 100:2000 1000:300; do
  n=${spec%%:*} rounds=${spec##*:}
  v=$(timeout 300 "$TMP/ring" "$n" "$rounds" "$CPU" | awk '$1=="ns_per_handoff"{print $2}')
  [ -n "$v" ] && printf 'handoff\tc-futex-ring-1cpu\tN=%s\tns_per_handoff\t%s\n' "$n" "$v" || log "N=$n failed"
done
