#!/bin/bash
# Issue 12.4: the schedule explorer (src/Testing) against a plain stress loop and Microsoft.Coyote 1.7.11 on the bug
# corpus (tests/Bugs). bench/Explore drives it: per bug, the explorer from 10 starting seeds (a patched child process
# each), the body on native threads in a loop (an unpatched child), and bench/Explore.Coyote rewritten by the coyote
# CLI (Task.Run variants from the same seeds; the unchanged Thread bodies from the first 3).
# Usage: bench/run explore     stdout: explore<TAB>{evergreen-explorer,native-stress,coyote-task,coyote-thread,...}<TAB>bug=..<TAB>metric<TAB>v
# The markdown table goes to stderr and to bench/out/explore-<date>.md.
# Knobs: EXPLORE_SEEDS (10), EXPLORE_BUDGET_MS (5000: the explorer's TimeBudget, and Coyote's per seed),
#        STRESS_MS (5000), COYOTE_THREAD_SEEDS (3), COYOTE_THREAD_BUDGET_MS (5000), COYOTE (the coyote CLI; default:
#        installed into bench/out/tools/coyote with `dotnet tool install`), EXPLORE_BUGS (all), NOBUILD=1.
set -u
cd "$(dirname "$0")/../.." || exit 1
log() { echo "[explore.sh] $*" >&2; }
OUT=${BENCH_OUT:-bench/out}
mkdir -p "$OUT"
EXPLORE_DLL=bench/Explore/bin/Release/net10.0/Evergreen.Bench.Explore.dll
COYOTE_BIN=bench/Explore.Coyote/bin/Release/net10.0
if [ "${NOBUILD:-0}" != 1 ]; then
  timeout 600 dotnet build bench/Explore -c Release -nologo -v q >&2 || { log "bench/Explore build failed"; exit 1; }
  timeout 600 dotnet build bench/Explore.Coyote -c Release -nologo -v q >&2 || log "bench/Explore.Coyote build failed: no Coyote rows"
fi

# Coyote only controls what its rewriter instrumented: rewrite a copy of the build (the corpus and the Task variants).
coyote_args=()
COYOTE=${COYOTE:-$OUT/tools/coyote/coyote}
if [ ! -x "$COYOTE" ]; then
  timeout 300 dotnet tool install --tool-path "$OUT/tools/coyote" Microsoft.Coyote.CLI --version 1.7.11 >&2 \
    || log "could not install the coyote CLI (Microsoft.Coyote.CLI 1.7.11): no Coyote rows"
fi
COYOTE=$(readlink -f "$COYOTE")
if [ -x "$COYOTE" ] && [ -f "$COYOTE_BIN/Evergreen.Bench.Explore.Coyote.dll" ]; then
  rm -rf "$OUT/coyote" && cp -r "$COYOTE_BIN" "$OUT/coyote"
  printf '{ "AssembliesPath": ".", "Assemblies": [ "Evergreen.Bench.Explore.Coyote.dll", "Evergreen.Bugs.dll" ] }\n' >"$OUT/coyote/rewrite.coyote.json"
  # The CLI targets .NET 8 at most; roll it forward onto the installed runtime.
  if ( cd "$OUT/coyote" && DOTNET_ROLL_FORWARD=Major timeout 300 "$COYOTE" rewrite rewrite.coyote.json ) >&2; then
    coyote_args=(--coyote "$OUT/coyote/Evergreen.Bench.Explore.Coyote.dll" --coyote-thread-seeds "${COYOTE_THREAD_SEEDS:-3}" --coyote-thread-budget-ms "${COYOTE_THREAD_BUDGET_MS:-5000}")
  else
    log "coyote rewrite failed: no Coyote rows"
  fi
fi

STAMP=$(date +%Y-%m-%dT%H%M%S)
# shellcheck disable=SC2086 # EXPLORE_BUGS is a list of names
timeout 1800 dotnet "$EXPLORE_DLL" table --seeds "${EXPLORE_SEEDS:-10}" --budget-ms "${EXPLORE_BUDGET_MS:-5000}" \
  --stress-ms "${STRESS_MS:-5000}" "${coyote_args[@]}" --markdown "$OUT/explore-$STAMP.md" ${EXPLORE_BUGS:-}
