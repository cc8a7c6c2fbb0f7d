#!/bin/sh
# Serves the quick-start backends with nginx on loopback:
#   127.0.0.1:9001 answers "app1 (9001)", 127.0.0.1:9002 answers "app2 (9002)", both answer
#   /health with 200. Runs as an ordinary user; state lives in $QS_DIR (default /tmp/rhaproxy-qs).
#   ./backends.sh start | stop | status
set -eu
QS_DIR="${QS_DIR:-/tmp/rhaproxy-qs}"
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"

start() {
    mkdir -p "$QS_DIR/logs" "$QS_DIR/tmp"
    cat > "$QS_DIR/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $QS_DIR/nginx.pid;
error_log $QS_DIR/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $QS_DIR/tmp/body;
    proxy_temp_path $QS_DIR/tmp/proxy;
    fastcgi_temp_path $QS_DIR/tmp/fastcgi;
    uwsgi_temp_path $QS_DIR/tmp/uwsgi;
    scgi_temp_path $QS_DIR/tmp/scgi;
    default_type text/plain;
    server {
        listen 127.0.0.1:9001;
        location /health { return 200 "ok\n"; }
        location / { return 200 "app1 (9001)\n"; }
    }
    server {
        listen 127.0.0.1:9002;
        location /health { return 200 "ok\n"; }
        location / { return 200 "app2 (9002)\n"; }
    }
}
CONF
    "$NGINX" -p "$QS_DIR" -c "$QS_DIR/nginx.conf" -e "$QS_DIR/logs/error.log"
    echo "backends up: 127.0.0.1:9001 127.0.0.1:9002 (nginx pid $(cat "$QS_DIR/nginx.pid"))"
}

stop() {
    if [ -f "$QS_DIR/nginx.pid" ]; then
        kill "$(cat "$QS_DIR/nginx.pid")" && rm -f "$QS_DIR/nginx.pid"
        echo "backends stopped"
    else
        echo "backends not running"
    fi
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    status) [ -f "$QS_DIR/nginx.pid" ] && kill -0 "$(cat "$QS_DIR/nginx.pid")" && echo running || echo stopped ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
