#!/usr/bin/env bash
# Issue 9's stress run (not part of ./test): for each target, PROCS child processes each apply and undo the target's
# detours CYCLES times while 8 threads call it without pause. Reports per target the crashed processes (0 allowed) and
# the median/max time of one apply and one undo (median over the processes of their medians).
# Usage: scripts/detour-stress.sh [target ...]   (PROCS=10 CYCLES=50 by default: 500 apply+undo per target)
set -uo pipefail
cd "$(dirname "$0")/.."
PROCS=${PROCS:-10}
CYCLES=${CYCLES:-50}
dotnet build tests/Detours.Child -c Release -nologo -v q >/dev/null || { echo "build failed"; exit 1; }
child=tests/Detours.Child/bin/Release/net10.0/Evergreen.Detours.Child.dll
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(sleep-int sleep-timespan yield start join monitor wait pulse pulseall lock
           socket-accept socket-connect socket-send socket-receive socket-sendto socket-receivefrom socket-poll socket-select)
fi
printf '%-20s %8s %8s %12s %10s %12s %10s\n' target cycles crashed apply_med_us apply_max undo_med_us undo_max
total_crashed=0
start=$(date +%s)
for t in "${targets[@]}"; do
  crashed=0; applies=(); undos=(); amax=0; umax=0
  for _ in $(seq 1 "$PROCS"); do
    out=$(ulimit -c 0; timeout 300 dotnet "$child" "$t:cycles:$CYCLES" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || [ "$(tail -n1 <<<"$out")" != pass ]; then
      crashed=$((crashed + 1)); echo "  $t: exit $rc: $( (grep -m1 FAIL <<<"$out" || tail -n3 <<<"$out") | tr '\n' ' ' | cut -c1-400)" >&2; continue
    fi
    line=$(grep '^cycles:' <<<"$out")
    applies+=("$(sed -n 's/.*apply µs median \([0-9]*\) max.*/\1/p' <<<"$line")")
    undos+=("$(sed -n 's/.*undo µs median \([0-9]*\) max.*/\1/p' <<<"$line")")
    a=$(sed -n 's/.*apply µs median [0-9]* max \([0-9]*\);.*/\1/p' <<<"$line"); [ "$a" -gt "$amax" ] && amax=$a
    u=$(sed -n 's/.*undo µs median [0-9]* max \([0-9]*\)$/\1/p' <<<"$line"); [ "${u:-0}" -gt "$umax" ] && umax=$u
  done
  med() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR ? v[int((NR+1)/2)] : "-")}'; }
  printf '%-20s %8d %8d %12s %10s %12s %10s\n' "$t" $((PROCS * CYCLES)) "$crashed" "$(med "${applies[@]}")" "$amax" "$(med "${undos[@]}")" "$umax"
  total_crashed=$((total_crashed + crashed))
done
echo "crashed processes: $total_crashed; $(( $(date +%s) - start )) s"
[ "$total_crashed" -eq 0 ]
