#!/bin/bash
# What one switch costs the kernel with one OS thread per green thread: bench/floor/handoff_ring.c passes a
# token round a ring of N pthreads pinned to one CPU (futex wake of the next + futex wait), each touching 8 KB
# of stack per turn. N=2 is the best case (bench/run switch measures ours at that size); N=1000 is what the
# hub pays per message in the echo benchmark at C=1000 (every message wakes a different thread).
# The same ring of green threads on the hub (bench/Hub `ring N ROUNDS`: Semaphore Acquire/Release) is system green.
# Usage: bench/run handoff      stdout: handoff<TAB>{c-futex-ring-1cpu,green}<TAB>N=..<TAB>ns_per_handoff<TAB>v
set -u
cd "$(dirname "$0")/../.." || exit 1
log() { echo "[handoff.sh] $*" >&2; }
HUB_DLL=${HUB_DLL:-bench/Hub/bin/Release/net10.0/Evergreen.Bench.Hub.dll}
if [ ! -f "$HUB_DLL" ] || [ "${NOBUILD:-0}" != 1 ]; then
  timeout 600 dotnet build bench/Hub -c Release -nologo -v q >&2 || log "bench/Hub build failed: no green rows"
fi
TMP=$(mktemp -d /tmp/evergreen-handoff.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
CPU=$(( $(nproc) - 1 ))
if command -v gcc >/dev/null && gcc -O2 -pthread -o "$TMP/ring" bench/floor/handoff_ring.c; then
  for spec in 2:200000 100:2000 1000:300; do
    n=${spec%%:*} rounds=${spec##*:}
    v=$(timeout 300 "$TMP/ring" "$n" "$rounds" "$CPU" | awk '$1=="ns_per_handoff"{print $2}')
    [ -n "$v" ] && printf 'handoff\tc-futex-ring-1cpu\tN=%s\tns_per_handoff\t%s\n' "$n" "$v" || log "C ring N=$n failed"
  done
else log "gcc is missing (apt-get install -y gcc) or the build failed: no C rows"; fi
if [ -f "$HUB_DLL" ]; then
  for spec in 2:100000 100:2000 1000:300; do
    n=${spec%%:*} rounds=${spec##*:}
    timeout 300 dotnet "$HUB_DLL" ring "$n" "$rounds" | grep -P '^handoff\t' || log "green ring N=$n failed"
  done
fi
