#!/usr/bin/env bash
# Load comparison: haproxy (A) against rhaproxy (B) with the same config, on loopback.
#
#   benches/load.sh                         # A=/usr/sbin/haproxy, B=target/release/rhaproxy
#   B_BIN=/usr/sbin/haproxy benches/load.sh # haproxy on both sides: validates the script
#   CASES="keepalive close" DURATION=5 benches/load.sh
#   CASES=h2 benches/load.sh                # HTTP/2 over TLS (ALPN h2) with h2load
#
# Layout: nginx backend (1 worker) and wrk (1 thread) pinned to LOAD_CPU, each proxy (nbthread 1)
# pinned to PROXY_CPU. Both proxies run side by side with one config text that differs only in
# its ports; every case runs A B A B (ROUNDS pairs) and the table shows the mean of the rounds.
# Columns: req/s, p50 and p99 latency (ms), proxy CPU time per request (µs, from
# /proc/PID/stat utime+stime deltas), proxy RSS after the case (MB), errors (wrk socket errors +
# non-2xx/3xx), and the ratio B/A. The idle case restarts both proxies, holds IDLE_CONNS connections
# open (wrk with a 600 s delay: connected, no request yet) and reports memory per connection (KB,
# RSS growth / connections) instead.
#
# Environment (defaults): A_BIN (/usr/sbin/haproxy), B_BIN ($RHAPROXY or
# target/release/rhaproxy), A_NAME/B_NAME (binary names), CASES (keepalive close big tcp tls
# h2 idle), DURATION (8 s per run), CONNS (50), ROUNDS (2), IDLE_CONNS (10000), IDLE_SECS (8),
# PROXY_CPU (0), LOAD_CPU (1), BASE_PORT (18000), KEEP (set to keep the temp dir), H2_STREAMS
# (10 concurrent streams per h2load connection).
#
# The h2 case runs h2load (Debian nghttp2-client) over TLS with ALPN h2: CONNS connections, each
# handshaking once then carrying H2_STREAMS concurrent streams; p50/p99 come from its per-request
# log.
set -u

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
A_BIN="${A_BIN:-/usr/sbin/haproxy}"
B_BIN="${B_BIN:-${RHAPROXY:-$root/target/release/rhaproxy}}"
A_NAME="${A_NAME:-$(basename "$A_BIN")}"
B_NAME="${B_NAME:-$(basename "$B_BIN")}"
CASES="${CASES:-keepalive close big tcp tls h2 idle}"
H2_STREAMS="${H2_STREAMS:-10}"
DURATION="${DURATION:-8}"
CONNS="${CONNS:-50}"
ROUNDS="${ROUNDS:-2}"
IDLE_CONNS="${IDLE_CONNS:-10000}"
IDLE_SECS="${IDLE_SECS:-8}"
PROXY_CPU="${PROXY_CPU:-0}"
LOAD_CPU="${LOAD_CPU:-1}"
BASE_PORT="${BASE_PORT:-18000}"
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"

die() { echo "load.sh: $*" >&2; exit 2; }
for t in wrk taskset openssl "$NGINX"; do command -v "$t" >/dev/null || die "missing $t"; done
case " $CASES " in *" h2 "*) command -v h2load >/dev/null || die "missing h2load (apt-get install nghttp2-client)" ;; esac
[ -x "$A_BIN" ] || die "A_BIN not executable: $A_BIN"
[ -x "$B_BIN" ] || die "B_BIN not executable: $B_BIN (build with cargo build --release, or set B_BIN)"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE="$(ulimit -n)"
# haproxy needs about 2 fds per connection: size maxconn (and the idle case) to the fd limit.
MAXCONN=$(( (NOFILE - 200) / 2 )); [ "$MAXCONN" -gt 40000 ] && MAXCONN=40000
if [ "$IDLE_CONNS" -gt $((MAXCONN - 500)) ]; then
    echo "note: fd limit $NOFILE: idle case reduced to $((MAXCONN - 500)) connections"
    IDLE_CONNS=$((MAXCONN - 500))
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/rhaproxy-bench.XXXXXX")"
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    sleep 0.3
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    if [ -z "${KEEP:-}" ]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- ports -------------------------------------------------------------------------------
BE_PORT=$((BASE_PORT + 80))
# per side: http, tcp, tls, h2 (TLS with ALPN h2)
A_HTTP=$((BASE_PORT + 101)); A_TCP=$((BASE_PORT + 102)); A_TLS=$((BASE_PORT + 103)); A_H2=$((BASE_PORT + 104))
B_HTTP=$((BASE_PORT + 201)); B_TCP=$((BASE_PORT + 202)); B_TLS=$((BASE_PORT + 203)); B_H2=$((BASE_PORT + 204))
for p in $BE_PORT $A_HTTP $A_TCP $A_TLS $A_H2 $B_HTTP $B_TCP $B_TLS $B_H2; do
    if ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then die "port $p busy (set BASE_PORT)"; fi
done

# ---- backend: nginx ----------------------------------------------------------------------
mkdir -p "$tmp/nginx/logs" "$tmp/nginx/tmp" "$tmp/www"
head -c 102400 /dev/zero | tr '\0' 'x' > "$tmp/www/100k"
chmod 755 "$tmp" "$tmp/www"; chmod 644 "$tmp/www/100k"   # nginx workers may run as nobody
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 65536;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 30000; multi_accept on; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_body_temp_path $tmp/nginx/tmp/body;
    proxy_temp_path $tmp/nginx/tmp/proxy;
    fastcgi_temp_path $tmp/nginx/tmp/fastcgi;
    uwsgi_temp_path $tmp/nginx/tmp/uwsgi;
    scgi_temp_path $tmp/nginx/tmp/scgi;
    default_type text/plain;
    server {
        listen 127.0.0.1:$BE_PORT backlog=4096;
        root $tmp/www;
        location = /small { return 200 "hello from nginx\n"; }
        location = /100k { }
    }
}
EOF
taskset -c "$LOAD_CPU" "$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" \
    > "$tmp/nginx/out.log" 2>&1 &
pids="$pids $!"

# ---- TLS certificate (self-signed, test only) --------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -keyout "$tmp/key.pem" -out "$tmp/crt.pem" >/dev/null 2>&1 || die "openssl failed"
cat "$tmp/crt.pem" "$tmp/key.pem" > "$tmp/site.pem"

# ---- proxy config (same text for both sides, only the ports differ) ----------------------
write_cfg() { # http tcp tls h2 -> stdout
    cat <<EOF
global
    nbthread 1
    maxconn $MAXCONN
    log stderr format short local0 err

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
    option http-keep-alive

frontend bench_http
    bind 127.0.0.1:$1
    default_backend nginx_http

frontend bench_tls
    bind 127.0.0.1:$3 ssl crt $tmp/site.pem
    default_backend nginx_http

frontend bench_h2
    bind 127.0.0.1:$4 ssl crt $tmp/site.pem alpn h2,http/1.1
    default_backend nginx_http

backend nginx_http
    http-reuse safe
    server nginx 127.0.0.1:$BE_PORT

listen bench_tcp
    mode tcp
    bind 127.0.0.1:$2
    server nginx 127.0.0.1:$BE_PORT
EOF
}
write_cfg $A_HTTP $A_TCP $A_TLS $A_H2 > "$tmp/A.cfg"
write_cfg $B_HTTP $B_TCP $B_TLS $B_H2 > "$tmp/B.cfg"

start_proxy() { # side bin cfg -> pid in $proxy_pid
    taskset -c "$PROXY_CPU" "$2" -f "$3" > "$tmp/$1.log" 2>&1 &
    proxy_pid=$!
    pids="$pids $proxy_pid"
}
start_proxy A "$A_BIN" "$tmp/A.cfg"; A_PID=$proxy_pid
start_proxy B "$B_BIN" "$tmp/B.cfg"; B_PID=$proxy_pid

wait_port() { # port
    local i
    for i in $(seq 1 100); do
        ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.05
    done
    return 1
}
wait_port $BE_PORT || die "nginx did not start: $(cat "$tmp/nginx/logs/error.log" "$tmp/nginx/out.log")"
wait_port $A_HTTP || die "A ($A_BIN) did not start: $(head -20 "$tmp/A.log")"
wait_port $B_HTTP || die "B ($B_BIN) did not start: $(head -20 "$tmp/B.log")"
curl -sf "http://127.0.0.1:$A_HTTP/small" >/dev/null || die "A does not proxy: $(head -20 "$tmp/A.log")"
curl -sf "http://127.0.0.1:$B_HTTP/small" >/dev/null || die "B does not proxy: $(head -20 "$tmp/B.log")"

# ---- measurement helpers -----------------------------------------------------------------
HZ="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
to_ms() { # "1.23ms" | "456.00us" | "1.02s" -> ms
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
        else printf "nan" }'
}

# Runs one wrk measurement; prints "rps p50 p99 cpu_us_per_req rss_mb errors".
measure() { # pid url [wrk args...]
    local pid="$1" url="$2"; shift 2
    local t0 t1 out rps p50 p99 reqs errs
    t0=$(cpu_ticks "$pid")
    out="$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$url" 2>&1)"
    t1=$(cpu_ticks "$pid")
    echo "$out" >> "$tmp/wrk.log"
    rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
    p50=$(to_ms "$(echo "$out" | awk '$1 == "50%" { print $2 }')")
    p99=$(to_ms "$(echo "$out" | awk '$1 == "99%" { print $2 }')")
    reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
    errs=$(echo "$out" | awk '/Socket errors/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 }
                              /Non-2xx/ { s += $NF } END { print s + 0 }')
    awk -v r="${rps:-0}" -v a="$p50" -v b="$p99" -v n="${reqs:-0}" -v d=$((t1 - t0)) -v hz="$HZ" \
        -v rss="$(rss_kb "$pid")" -v e="$errs" 'BEGIN {
            cpu = (n > 0) ? d / hz * 1e6 / n : 0
            printf "%s %s %s %.2f %.1f %d\n", r, a, b, cpu, rss / 1024, e }'
}

# HTTP/2 over TLS with h2load; prints the same columns as measure. Latency percentiles come
# from h2load's per-request log (microseconds until the end of each response).
measure_h2() { # pid url
    local pid="$1" url="$2" t0 t1 out rps reqs errs lat="$tmp/h2lat.log"
    rm -f "$lat"
    t0=$(cpu_ticks "$pid")
    out="$(taskset -c "$LOAD_CPU" h2load -t1 -c"$CONNS" -m"$H2_STREAMS" -D"$DURATION" \
        --log-file="$lat" "$url" 2>&1)"
    t1=$(cpu_ticks "$pid")
    echo "$out" >> "$tmp/h2load.log"
    rps=$(echo "$out" | awk '/^finished in/ { gsub(/,/, ""); print $4 }')
    reqs=$(echo "$out" | awk '/^requests:/ { print $8 }')
    errs=$(echo "$out" | awk '/^requests:/ { s += $10 + $12 + $14 }
                              /^status codes:/ { gsub(/,/, ""); s += $9 + $11 } END { print s + 0 }')
    read -r p50 p99 < <(awk '{ print $3 }' "$lat" 2>/dev/null | sort -n | awk '{ v[NR] = $1 }
        END { if (NR == 0) print "nan nan"; else printf "%.3f %.3f\n",
              v[int((NR - 1) * 0.50) + 1] / 1000, v[int((NR - 1) * 0.99) + 1] / 1000 }')
    awk -v r="${rps:-0}" -v a="$p50" -v b="$p99" -v n="${reqs:-0}" -v d=$((t1 - t0)) -v hz="$HZ" \
        -v rss="$(rss_kb "$pid")" -v e="$errs" 'BEGIN {
            cpu = (n > 0) ? d / hz * 1e6 / n : 0
            printf "%s %s %s %.2f %.1f %d\n", r, a, b, cpu, rss / 1024, e }'
}

# Idle keep-alive connections: every connection sends one request, then waits. Prints
# "conns kb_per_conn rss_mb errors".
IDLE_LUA="$tmp/idle.lua"
cat > "$IDLE_LUA" <<'EOF'
function delay() return 600000 end
EOF
measure_idle() { # pid url
    local pid="$1" url="$2" before after out errs
    before=$(rss_kb "$pid")
    taskset -c "$LOAD_CPU" wrk -t1 -c"$IDLE_CONNS" -d"${IDLE_SECS}s" -s "$IDLE_LUA" "$url" \
        > "$tmp/idle.out" 2>&1 &
    local wpid=$!
    sleep $((IDLE_SECS * 3 / 4))
    after=$(rss_kb "$pid")
    local open port="${url##*:}"
    port="${port%%/*}"
    open=$(ss -Htn state established "dport = :$port" 2>/dev/null | wc -l)
    wait "$wpid"
    out="$(cat "$tmp/idle.out")"; echo "$out" >> "$tmp/wrk.log"
    errs=$(echo "$out" | awk '/Socket errors/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 } END { print s + 0 }')
    awk -v b="$before" -v a="$after" -v n="$open" -v e="$errs" 'BEGIN {
        per = (n > 0) ? (a - b) / n : 0
        printf "%d %.2f %.1f %d\n", n, per, a / 1024, e }'
}

url_for() { # side case
    local http tcp tls h2
    if [ "$1" = A ]; then http=$A_HTTP; tcp=$A_TCP; tls=$A_TLS; h2=$A_H2; else http=$B_HTTP; tcp=$B_TCP; tls=$B_TLS; h2=$B_H2; fi
    case "$2" in
        keepalive|close) echo "http://127.0.0.1:$http/small" ;;
        big) echo "http://127.0.0.1:$http/100k" ;;
        tcp) echo "http://127.0.0.1:$tcp/small" ;;
        tls) echo "https://127.0.0.1:$tls/small" ;;
        h2) echo "https://127.0.0.1:$h2/small" ;;
        idle) echo "http://127.0.0.1:$http/small" ;;
    esac
}
# wrk only takes headers written "Name: value" (with the space) as ONE argument.
needs_close() { case "$1" in close|tls) return 0 ;; *) return 1 ;; esac; }

restart_proxies() {
    local p
    for p in $A_PID $B_PID; do kill "$p" 2>/dev/null; done
    for p in $A_PID $B_PID; do wait "$p" 2>/dev/null; done
    start_proxy A "$A_BIN" "$tmp/A.cfg"; A_PID=$proxy_pid
    start_proxy B "$B_BIN" "$tmp/B.cfg"; B_PID=$proxy_pid
    wait_port $A_HTTP || die "A did not restart: $(head -20 "$tmp/A.log")"
    wait_port $B_HTTP || die "B did not restart: $(head -20 "$tmp/B.log")"
    sleep 1
}

pid_of() { if [ "$1" = A ]; then echo "$A_PID"; else echo "$B_PID"; fi; }

mean() { awk '{ for (i = 1; i <= NF; i++) s[i] += $i; n++ } END {
    for (i = 1; i <= NF; i++) printf "%s%.2f", (i > 1 ? " " : ""), s[i] / n; print "" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.2f", b / a; else printf "-" }'; }

echo "A = $A_NAME ($A_BIN), pid $A_PID   B = $B_NAME ($B_BIN), pid $B_PID"
echo "proxies on CPU $PROXY_CPU; nginx + wrk on CPU $LOAD_CPU; $ROUNDS x (A B), ${DURATION}s per run, $CONNS connections"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo
printf '%-10s %-4s %10s %9s %9s %10s %8s %6s\n' case side "req/s" "p50 ms" "p99 ms" "cpu us/req" "RSS MB" errors
results="$tmp/results"
: > "$results"
for c in $CASES; do
    for side in A B; do : > "$tmp/$c.$side"; done
    if [ "$c" = idle ]; then
        # fresh processes: memory grown by earlier cases (pools, caches) would hide the growth
        restart_proxies
        for side in A B; do
            measure_idle "$(pid_of $side)" "$(url_for $side idle)" > "$tmp/$c.$side"
            sleep 1
        done
        ia=($(cat "$tmp/idle.A")); ib=($(cat "$tmp/idle.B"))
        printf '%-10s %-4s %10s %9s %9s %10s %8s %6s   %s conns, %s KB/conn\n' idle A - - - - "${ia[2]}" "${ia[3]}" "${ia[0]}" "${ia[1]}"
        printf '%-10s %-4s %10s %9s %9s %10s %8s %6s   %s conns, %s KB/conn\n' idle B - - - - "${ib[2]}" "${ib[3]}" "${ib[0]}" "${ib[1]}"
        printf '%-10s %-4s   KB/conn B/A = %s\n' idle B/A "$(ratio "${ia[1]}" "${ib[1]}")"
        echo "idle ${ia[*]} | ${ib[*]}" >> "$results"
        continue
    fi
    for r in $(seq 1 "$ROUNDS"); do
        for side in A B; do
            if [ "$c" = h2 ]; then
                measure_h2 "$(pid_of $side)" "$(url_for $side h2)" >> "$tmp/$c.$side"
            elif needs_close "$c"; then
                measure "$(pid_of $side)" "$(url_for $side "$c")" -H "Connection: close" >> "$tmp/$c.$side"
            else
                measure "$(pid_of $side)" "$(url_for $side "$c")" >> "$tmp/$c.$side"
            fi
        done
    done
    a=($(mean < "$tmp/$c.A")); b=($(mean < "$tmp/$c.B"))
    printf '%-10s %-4s %10.0f %9s %9s %10s %8s %6.0f\n' "$c" A "${a[0]}" "${a[1]}" "${a[2]}" "${a[3]}" "${a[4]}" "${a[5]}"
    printf '%-10s %-4s %10.0f %9s %9s %10s %8s %6.0f\n' "$c" B "${b[0]}" "${b[1]}" "${b[2]}" "${b[3]}" "${b[4]}" "${b[5]}"
    printf '%-10s %-4s %10s %9s %9s %10s %8s\n' "$c" B/A "$(ratio "${a[0]}" "${b[0]}")" \
        "$(ratio "${a[1]}" "${b[1]}")" "$(ratio "${a[2]}" "${b[2]}")" "$(ratio "${a[3]}" "${b[3]}")" \
        "$(ratio "${a[4]}" "${b[4]}")"
    echo "$c ${a[*]} | ${b[*]}" >> "$results"
done
echo
echo "per-run wrk/h2load output: $tmp/wrk.log $tmp/h2load.log (set KEEP=1 to keep them)"
