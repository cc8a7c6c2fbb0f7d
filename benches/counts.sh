#!/usr/bin/env bash
# Load-independent costs of haproxy (A) and rhaproxy (B) with the same config: valgrind
# instructions per request (callgrind), heap allocations per request (dhat), syscalls per
# request (strace -c -f) and resident memory per idle connection. Unlike load.sh these do not
# depend on what else runs on the machine, so they can be compared on a busy one.
#
#   benches/counts.sh                                  # all cases, both sides
#   CASES="ka close" MEASURES="ir sys" benches/counts.sh
#
# Cases: ka (keep-alive, 17-byte responses), close (one client connection per request), big
# (100 KB responses). Measures: ir (callgrind Ir/request), alloc (dhat allocations and bytes per
# request), sys (syscalls/request, strace -c -f), idle (KB of RSS per connection for
# IDLE_CONNS connections that connected and sent nothing, as wrk's idle case; then the same after
# each sent one keep-alive request). ir and alloc run the proxy twice (N_SMALL and N_LARGE
# requests) and report the difference, so start-up costs cancel out. Requests are sent one at a
# time by a small Python client.
#
# Environment (defaults): A_BIN (/usr/sbin/haproxy), B_BIN ($RHAPROXY or
# target/release/rhaproxy), CASES (ka close big), MEASURES (ir alloc sys idle), N_SMALL (200),
# N_LARGE (1200), N_SYS (3000), IDLE_CONNS (3000), BASE_PORT (19000).
set -u

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
A_BIN="${A_BIN:-/usr/sbin/haproxy}"
B_BIN="${B_BIN:-${RHAPROXY:-$root/target/release/rhaproxy}}"
CASES="${CASES:-ka close big}"
MEASURES="${MEASURES:-ir alloc sys idle}"
N_SMALL="${N_SMALL:-200}"
N_LARGE="${N_LARGE:-1200}"
N_SYS="${N_SYS:-3000}"
IDLE_CONNS="${IDLE_CONNS:-3000}"
BASE_PORT="${BASE_PORT:-19000}"
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"

die() { echo "counts.sh: $*" >&2; exit 2; }
for t in valgrind strace python3 curl "$NGINX"; do command -v "$t" >/dev/null || die "missing $t"; done
[ -x "$A_BIN" ] || die "A_BIN not executable: $A_BIN"
[ -x "$B_BIN" ] || die "B_BIN not executable: $B_BIN (cargo build --release, or set B_BIN)"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

tmp="$(mktemp -d "${TMPDIR:-/tmp}/rhaproxy-counts.XXXXXX")"
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    if [ -z "${KEEP:-}" ]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BE_PORT=$((BASE_PORT + 80)); A_PORT=$((BASE_PORT + 101)); B_PORT=$((BASE_PORT + 201))
for p in $BE_PORT $A_PORT $B_PORT; do
    if ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then die "port $p busy (set BASE_PORT)"; fi
done

# ---- nginx backend (as load.sh) ------------------------------------------------------------
mkdir -p "$tmp/nginx/logs" "$tmp/nginx/tmp" "$tmp/www"
head -c 102400 /dev/zero | tr '\0' 'x' > "$tmp/www/100k"
chmod 755 "$tmp" "$tmp/www"; chmod 644 "$tmp/www/100k"
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 20000; }
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
"$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" > "$tmp/nginx.out" 2>&1 &
pids="$pids $!"

write_cfg() { # port
    cat <<EOF
global
    nbthread 1
    maxconn 9000

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

backend nginx_http
    http-reuse safe
    server nginx 127.0.0.1:$BE_PORT
EOF
}
write_cfg $A_PORT > "$tmp/A.cfg"
write_cfg $B_PORT > "$tmp/B.cfg"

# ---- client: N sequential requests ----------------------------------------------------------
cat > "$tmp/client.py" <<'EOF'
import socket, sys
port, case, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
path = b"/100k" if case == "big" else b"/small"
req = b"GET " + path + b" HTTP/1.1\r\nHost: bench\r\n"
req += (b"Connection: close\r\n" if case == "close" else b"") + b"\r\n"
def one(s, buf):
    while True:
        i = buf.find(b"\r\n\r\n")
        if i >= 0:
            cl = int(buf[:i].lower().split(b"content-length:")[1].split(b"\r\n")[0])
            if len(buf) >= i + 4 + cl:
                if not buf[:i].startswith(b"HTTP/1.1 200"):
                    raise SystemExit("bad status: %r" % buf[:40])
                return buf[i + 4 + cl:]
        d = s.recv(262144)
        if not d:
            raise SystemExit("connection closed early")
        buf += d
s, buf = None, b""
for _ in range(n):
    if s is None:
        s, buf = socket.create_connection(("127.0.0.1", port)), b""
    s.sendall(req)
    buf = one(s, buf)
    if case == "close":
        s.close(); s = None
EOF

# idle: connects N sockets (optionally sending one request each), prints KB of RSS per connection
cat > "$tmp/idle.py" <<'EOF'
import socket, sys, time
pid, port, n, send = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
def rss():
    for l in open("/proc/%d/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
before = rss()
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if send:
        s.sendall(b"GET /small HTTP/1.1\r\nHost: bench\r\n\r\n")
        d = b""
        while b"hello from nginx" not in d:
            d += s.recv(4096)
    socks.append(s)
time.sleep(1.5)
print("%.2f" % ((rss() - before) / n))
EOF

wait_up() { # port
    local i
    for i in $(seq 1 150); do
        curl -s -o /dev/null "http://127.0.0.1:$1/small" && return 0
        sleep 0.2
    done
    return 1
}
port_of() { if [ "$1" = A ]; then echo $A_PORT; else echo $B_PORT; fi; }
bin_of() { if [ "$1" = A ]; then echo "$A_BIN"; else echo "$B_BIN"; fi; }

# Runs the proxy of side $1 under "$2..." (a wrapper command), sends $N requests of case $C,
# stops it. The wrapper writes its own report.
under() { # side case n wrapper...
    local side=$1 case=$2 n=$3; shift 3
    "$@" "$(bin_of "$side")" -f "$tmp/$side.cfg" > "$tmp/run.log" 2>&1 &
    local wp=$!
    wait_up "$(port_of "$side")" || die "$side did not start: $(head -5 "$tmp/run.log")"
    python3 "$tmp/client.py" "$(port_of "$side")" "$case" "$n" || die "client failed ($side $case)"
    # stop the proxy itself (the wrapper's child when there is one)
    local child; child=$(pgrep -P $wp | head -1)
    kill "${child:-$wp}" 2>/dev/null; kill $wp 2>/dev/null; wait $wp 2>/dev/null
}

ir_of() { # side case n -> total Ir
    under "$1" "$2" "$3" valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out"
    awk '/^(summary|totals):/ { print $2; exit }' "$tmp/cg.out"
}
alloc_of() { # side case n -> "blocks bytes"
    under "$1" "$2" "$3" valgrind --tool=dhat --dhat-out-file=/dev/null
    sed 's/,//g' "$tmp/run.log" | awk '/Total:/ { print $6, $3; exit }'
}
sys_of() { # side case n -> per-request lines
    under "$1" "$2" "$3" strace -f -c -o "$tmp/strace.txt"
    awk -v n="$3" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { c[$NF] = $4; t += $4 }
        END { printf "total:%.2f", t / n; for (k in c) if (c[k] / n >= 0.05) printf " %s:%.2f", k, c[k] / n
              print "" }' "$tmp/strace.txt" | tr ' ' '\n' | sort -t: -k2 -nr | tr '\n' ' '
}

echo "A = $A_BIN   B = $B_BIN   ($(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r))"
for m in $MEASURES; do
    [ "$m" = idle ] && continue
    for c in $CASES; do
        for side in A B; do
            case $m in
                ir)
                    a=$(ir_of $side $c "$N_SMALL"); b=$(ir_of $side $c "$N_LARGE")
                    printf '%-6s %-6s %s  %8d Ir/request\n' ir "$c" $side $(( (b - a) / (N_LARGE - N_SMALL) )) ;;
                alloc)
                    read -r a ab <<< "$(alloc_of $side $c "$N_SMALL")"
                    read -r b bb <<< "$(alloc_of $side $c "$N_LARGE")"
                    printf '%-6s %-6s %s  %8.1f allocations/request, %d bytes/request\n' alloc "$c" $side \
                        "$(awk -v a="$a" -v b="$b" -v n=$((N_LARGE - N_SMALL)) 'BEGIN { print (b - a) / n }')" \
                        $(( (bb - ab) / (N_LARGE - N_SMALL) )) ;;
                sys)
                    printf '%-6s %-6s %s  %s\n' sys "$c" $side "$(sys_of $side $c "$N_SYS")" ;;
            esac
        done
    done
done
case " $MEASURES " in *" idle "*)
    for send in 0 1; do
        for side in A B; do
            "$(bin_of $side)" -f "$tmp/$side.cfg" > "$tmp/idle.log" 2>&1 &
            p=$!
            wait_up "$(port_of $side)" || die "$side did not start"
            kb=$(python3 "$tmp/idle.py" $p "$(port_of $side)" "$IDLE_CONNS" $send)
            kill $p; wait $p 2>/dev/null
            what=$([ $send = 1 ] && echo "after one request each" || echo "connected, nothing sent")
            printf '%-6s %-6s %s  %6s KB/connection (%d connections, %s)\n' idle - $side "$kb" "$IDLE_CONNS" "$what"
        done
    done ;;
esac
