#!/usr/bin/env bash
# HTTP/1.1 keep-alive, small responses: haproxy vs rhaproxy with the same config, one thread
# each, proxy pinned to CPU 0, nginx and wrk pinned to CPU 1, runs A B A B.
# Usage: benches/compare_http.sh [seconds] [connections]   (needs nginx, haproxy, wrk, taskset)
set -euo pipefail
DUR=${1:-10}
CONNS=${2:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RH=${RHAPROXY:-$ROOT/target/release/rhaproxy}
T=$(mktemp -d)
trap 'kill $(cat $T/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf $T' EXIT
NG=18990; PX=18991
cat > $T/nginx.conf <<NGX
daemon off; master_process off; worker_processes 1; error_log $T/ng.err; pid $T/ng.pid;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  client_body_temp_path $T/b; proxy_temp_path $T/p; fastcgi_temp_path $T/f; uwsgi_temp_path $T/u; scgi_temp_path $T/s;
  server { listen 127.0.0.1:$NG; location / { return 200 "web1\n"; } } }
NGX
cat > $T/h.cfg <<CFG
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
listen app
  bind 127.0.0.1:$PX
  server s1 127.0.0.1:$NG
CFG
taskset -c 1 nginx -p $T -c $T/nginx.conf & echo $! > $T/nginx.pid
sleep 0.5
run() { # name binary
  taskset -c 0 "$2" -db -f $T/h.cfg & local pid=$!; echo $pid > $T/px.pid
  sleep 0.5
  taskset -c 1 wrk -t1 -c$CONNS -d2s http://127.0.0.1:$PX/ >/dev/null   # warm-up
  local t0; t0=$(awk '{print $14+$15}' /proc/$pid/stat)
  local out; out=$(taskset -c 1 wrk -t1 -c$CONNS -d${DUR}s --latency http://127.0.0.1:$PX/)
  local t1; t1=$(awk '{print $14+$15}' /proc/$pid/stat)
  local rss; rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  kill $pid; wait $pid 2>/dev/null || true
  local rps p50 p99 reqs cpu
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  # CPU time of the proxy per request (clock ticks -> microseconds)
  cpu=$(awk -v t=$((t1 - t0)) -v r="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t * 1e6 / hz / r }')
  printf "%-9s %10s req/s  p50 %8s  p99 %8s  cpu/req %6s us  rss %6s kB\n" "$1" "$rps" "$p50" "$p99" "$cpu" "$rss"
}
for round in 1 2; do
  run haproxy haproxy
  run rhaproxy "$RH"
done
