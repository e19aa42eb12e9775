#!/bin/bash
# Echo benchmark: the green EchoServer example (thread-per-connection code on GreenSocket, one hub; system `green`)
# and the PatchedEchoServer example (the same server in plain BCL code — TcpListener, new Thread per client,
# blocking Socket.Receive/Send — made green by Patcher.MonkeyPatch(); system `green-patched`), each driven by
# the neutral Go load client from ../shared/anchors at C=100 and C=1000 connections x 200 messages x 64 B.
# With PEERS=1 the anchors' eventlet, gevent, Go and .NET (threads, async) echo servers run in the same
# invocation, with the same client, so the figures compare within one run.
#
# Usage (from the repo root): bench/cases/echo.sh        PEERS=1 bench/cases/echo.sh
# stdout: only TSV lines  echo<TAB>system<TAB>param<TAB>metric<TAB>value ; everything else goes to stderr.
# Env: PEERS (0), PORT (19010, the green server; PORT+2 the patched one), T (120 s, per-client-run timeout), M (200), SIZE (64),
#      GEN0BIG (1: also the row green-gen0big, the same server with DOTNET_GCgen0size=$GEN0SIZE), GEN0SIZE (0x10000000).
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
ANCHORS=$ROOT/../shared/anchors
PEERS=${PEERS:-0}
PORT=${PORT:-19010}
T=${T:-120}
M=${M:-200}
SIZE=${SIZE:-64}
GEN0BIG=${GEN0BIG:-1}
GEN0SIZE=${GEN0SIZE:-0x10000000}
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/evergreen-echo.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT
log() { echo "[echo.sh] $*" >&2; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || log "could not raise ulimit -n (now $(ulimit -n))"

log "building EchoServer (Release)"
timeout 600 dotnet build examples/EchoServer -c Release -o "$TMP/echoserver" -nologo -v q >"$TMP/build.log" 2>&1 \
  || { cat "$TMP/build.log" >&2; log "EchoServer build failed"; exit 1; }
log "building PatchedEchoServer (Release)"
timeout 600 dotnet build examples/PatchedEchoServer -c Release -o "$TMP/patchedechoserver" -nologo -v q >"$TMP/build_patched.log" 2>&1 \
  || { cat "$TMP/build_patched.log" >&2; log "PatchedEchoServer build failed: no green-patched rows"; }

if ! command -v go >/dev/null; then log "go is not installed: the load client cannot be built"; exit 1; fi
log "building the Go echo client"
( cd "$ANCHORS/go" && GOFLAGS=-mod=mod timeout 600 go build -o "$TMP/echoclient" ./echoclient ) >&2 \
  || { log "echoclient build failed"; exit 1; }

# serve NAME PORT CMD... : start a server, wait for READY, run the client at C=100 and C=1000, stop it.
serve() {
  local name=$1 port=$2; shift 2
  log "server $name on 127.0.0.1:$port: $*"
  "$@" >"$TMP/srv_$name.out" 2>&1 &
  local pid=$!
  local i
  for i in $(seq 150); do grep -q READY "$TMP/srv_$name.out" && break; sleep 0.1; done
  if ! grep -q READY "$TMP/srv_$name.out"; then
    log "server $name did not become ready; its output:"; cat "$TMP/srv_$name.out" >&2
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; return 0
  fi
  # The server's own process (timeout and env fork or exec it): its CPU time per message is the row
  # server_cpu_us_per_msg (utime+stime from /proc, 10 ms ticks, over the timed client run incl. its connects).
  local spid; spid=$(pgrep -P "$pid" | head -1); [ -n "$spid" ] || spid=$pid
  local c t0 t1
  for c in 100 1000; do
    t0=$(awk '{print $14+$15}' "/proc/$spid/stat" 2>/dev/null)
    timeout "$T" "$TMP/echoclient" -addr "127.0.0.1:$port" -c "$c" -m "$M" -size "$SIZE" -sys "$name" \
      2> >(sed "s/^/[echoclient $name C=$c] /" >&2) | grep -P '^echo\t' \
      || log "client run $name C=$c failed or timed out"
    t1=$(awk '{print $14+$15}' "/proc/$spid/stat" 2>/dev/null)
    if [ -n "$t0" ] && [ -n "$t1" ]; then
      printf 'echo\t%s\tC=%s,M=%s,B=%s\tserver_cpu_us_per_msg\t%s\n' "$name" "$c" "$M" "$SIZE" \
        "$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n=$((c * M)) 'BEGIN{printf "%.2f", d / hz * 1e6 / n}')"
    fi
  done
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  sleep 1 # let TIME_WAIT and the CPUs settle between servers
}

# Workstation, non-concurrent GC: one green thread runs at a time, so server GC's per-core heaps and
# background GC threads only add threads competing for the 2 cores.
# The hub's Receive/Send/wait path allocates nothing per message (measured: 0 KB over 50k messages at C=1000,
# GC.GetTotalAllocatedBytes sampled each second), so GCs happen only while connections are accepted (~5 KB each:
# the Socket, its state, the green thread, and for a new OS thread the runtime's Thread). Each of those GCs scans
# every green thread's stack (~25-45 ms with 1,000 alive), which lands in p99 at C=1000. The -gen0big row
# (DOTNET_GCgen0size, a tuning an application may choose; not the default) shows the figure without them.
serve green "$PORT" env DOTNET_gcServer=0 DOTNET_gcConcurrent=0 DOTNET_TieredPGO=1 \
  timeout 900 dotnet "$TMP/echoserver/Evergreen.Examples.EchoServer.dll" --port "$PORT"
# The same server written as plain BCL code + MonkeyPatch, with the same runtime settings: only how it is written differs.
if [ -f "$TMP/patchedechoserver/Evergreen.Examples.PatchedEchoServer.dll" ]; then
  serve green-patched "$((PORT + 2))" env DOTNET_gcServer=0 DOTNET_gcConcurrent=0 DOTNET_TieredPGO=1 \
    timeout 900 dotnet "$TMP/patchedechoserver/Evergreen.Examples.PatchedEchoServer.dll" --port "$((PORT + 2))"
fi
if [ "$GEN0BIG" = 1 ]; then
  serve green-gen0big "$((PORT + 1))" env DOTNET_gcServer=0 DOTNET_gcConcurrent=0 DOTNET_TieredPGO=1 DOTNET_GCgen0size="$GEN0SIZE" \
    timeout 900 dotnet "$TMP/echoserver/Evergreen.Examples.EchoServer.dll" --port "$((PORT + 1))"
fi

if [ "$PEERS" = 1 ]; then
  # The exact server commands of ../shared/anchors/run_all.sh (echo_server ... lines).
  log "building peers (anchors)"
  ( cd "$ANCHORS/go" && GOFLAGS=-mod=mod timeout 600 go build -o "$TMP/gobench" ./bench ) >&2 || log "gobench build failed"
  ( cd "$ANCHORS/dotnet" && timeout 600 dotnet build -c Release -o "$TMP/dotnet" -nologo -v q ) >"$TMP/peer_build.log" 2>&1 \
    || { cat "$TMP/peer_build.log" >&2; log "anchor .NET bench build failed"; }
  if [ -x "$PY" ] && "$PY" -c 'import eventlet' 2>/dev/null; then
    serve eventlet 19001 timeout 900 "$PY" "$ANCHORS/py/eventlet_bench.py" echo 19001
  else log "skipping eventlet: $PY cannot import eventlet (apt-get install python3-eventlet)"; fi
  if [ -x "$PY" ] && "$PY" -c 'import gevent' 2>/dev/null; then
    serve gevent 19002 timeout 900 "$PY" "$ANCHORS/py/gevent_bench.py" echo 19002
  else log "skipping gevent: $PY cannot import gevent (apt-get install python3-gevent)"; fi
  if [ -x "$TMP/gobench" ]; then serve go-gmp2 19003 timeout 900 "$TMP/gobench" echo 19003
  else log "skipping go: gobench not built"; fi
  # The one-CPU floor (not an anchor; bench/floor/epoll_echo.c): one C thread, edge-triggered epoll, pinned to
  # the CPU the hub uses (the last one) — what a single core serves here when only the socket work is paid.
  if command -v gcc >/dev/null && gcc -O2 -o "$TMP/epoll_echo" bench/floor/epoll_echo.c 2>"$TMP/gcc.log"; then
    serve c-epoll-1cpu 19006 timeout 900 taskset -c "$(( $(nproc) - 1 ))" "$TMP/epoll_echo" 19006
  else log "skipping c-epoll-1cpu: gcc missing or the build failed ($(cat "$TMP/gcc.log" 2>/dev/null))"; fi
  # Our design in C (bench/floor/baton_echo.c): a pthread per connection on one CPU, one baton, futex handoffs,
  # the blocking thread runs the scheduler. green vs c-baton-1cpu = what .NET and our code add to the design.
  if command -v gcc >/dev/null && gcc -O2 -pthread -o "$TMP/baton_echo" bench/floor/baton_echo.c 2>"$TMP/gcc2.log"; then
    serve c-baton-1cpu 19007 timeout 900 taskset -c "$(( $(nproc) - 1 ))" "$TMP/baton_echo" 19007
  else log "skipping c-baton-1cpu: gcc missing or the build failed ($(cat "$TMP/gcc2.log" 2>/dev/null))"; fi
  if [ -f "$TMP/dotnet/Bench.dll" ]; then
    serve dotnet-thread 19004 timeout 900 dotnet "$TMP/dotnet/Bench.dll" echo-threads 19004
    serve dotnet-async 19005 timeout 900 dotnet "$TMP/dotnet/Bench.dll" echo-async 19005
  else log "skipping .NET peers: Bench.dll not built"; fi
fi
