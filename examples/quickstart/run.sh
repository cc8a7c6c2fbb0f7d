#!/bin/sh
# One command from a fresh checkout: builds rhaproxy, starts two loopback backends and runs
# rhaproxy in the foreground on examples/quickstart/haproxy.cfg (Ctrl-C stops everything).
#   examples/quickstart/run.sh
# Backends: nginx when installed (backends.sh), otherwise rhaproxy itself answering
# "app1 (9001)" / "app2 (9002)" with `http-request return`. Loopback only.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin rhaproxy
bin="$root/target/release/rhaproxy"
QS_DIR="${QS_DIR:-/tmp/rhaproxy-qs}"; export QS_DIR
mkdir -p "$QS_DIR"

backend_pid=
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    "$here/backends.sh" start
    trap '"$here/backends.sh" stop >/dev/null 2>&1 || true' EXIT INT TERM
else
    cat > "$QS_DIR/backends.cfg" <<CONF
defaults
    mode http
    timeout client 30s
frontend app1
    bind 127.0.0.1:9001
    http-request return status 200 content-type text/plain string "app1 (9001)\n"
frontend app2
    bind 127.0.0.1:9002
    http-request return status 200 content-type text/plain string "app2 (9002)\n"
CONF
    "$bin" -f "$QS_DIR/backends.cfg" &
    backend_pid=$!
    trap 'kill $backend_pid 2>/dev/null || true' EXIT INT TERM
fi

cat <<MSG
rhaproxy on http://127.0.0.1:8080/ (weights 2:1 over 127.0.0.1:9001/9002), stats on http://127.0.0.1:8404/stats
try: for i in 1 2 3 4 5 6; do curl -s http://127.0.0.1:8080/; done
MSG
cd "$here"
"$bin" -f haproxy.cfg
