#!/usr/bin/env bash
# mode tcp throughput: haproxy vs rhaproxy relaying one bulk stream (client -> proxy -> sink),
# same config, one thread each, proxy pinned to CPU 0, socat source and sink on CPU 1,
# runs A B A B. Prints MB/s and the proxy's CPU seconds per GB.
# Usage: benches/compare_tcp.sh [MB per run] [parallel streams]   (needs haproxy, socat, taskset)
set -euo pipefail
MB=${1:-2000}
STREAMS=${2:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RH=${RHAPROXY:-$ROOT/target/release/rhaproxy}
T=$(mktemp -d)
trap 'kill $(cat $T/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf $T' EXIT
SK=18995; PX=18996
cat > $T/h.cfg <<CFG
global
  nbthread 1
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
listen bulk
  bind 127.0.0.1:$PX
  server sink 127.0.0.1:$SK
CFG
taskset -c 1 socat -u TCP-LISTEN:$SK,reuseaddr,fork OPEN:/dev/null & echo $! > $T/sink.pid
sleep 0.3
run() { # name binary
  taskset -c 0 "$2" -db -f $T/h.cfg & local pid=$!; echo $pid > $T/px.pid
  sleep 0.5
  local t0 c0; c0=$(awk '{print $14+$15}' /proc/$pid/stat); t0=$(date +%s.%N)
  local clients=()
  for _ in $(seq "$STREAMS"); do
    ( head -c "${MB}M" /dev/zero | taskset -c 1 socat -u - TCP:127.0.0.1:$PX ) & clients+=($!)
  done
  wait "${clients[@]}"
  local t1 c1; t1=$(date +%s.%N); c1=$(awk '{print $14+$15}' /proc/$pid/stat)
  kill $pid; wait $pid 2>/dev/null || true
  local hz; hz=$(getconf CLK_TCK)
  awk -v n="$1" -v mb="$((MB*STREAMS))" -v t0="$t0" -v t1="$t1" -v c="$((c1-c0))" -v hz="$hz" \
    'BEGIN { s=t1-t0; printf "%-9s %8.0f MB/s  %6.2f s  proxy CPU %.2f s/GB\n", n, mb/s, s, (c/hz)/(mb/1024) }'
}
for _ in 1 2; do
  run haproxy haproxy
  run rhaproxy "$RH"
done
