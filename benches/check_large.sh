#!/usr/bin/env bash
# Generates a 10,000 backends × 10 servers haproxy.cfg and times `rhaproxy -c` against
# `haproxy -c` on it (release build). Usage: benches/check_large.sh [backends] [servers]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-10000}
S=${2:-10}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cfg="$dir/large.cfg"
{
  printf 'global\n    maxconn 100000\n\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n    option httplog\n\n'
  printf 'frontend www\n    bind 127.0.0.1:18080\n'
  for ((b = 0; b < 100 && b < B; b++)); do
    printf '    acl host_%d hdr(host) -i b%d.example.com\n    use_backend be%d if host_%d\n' "$b" "$b" "$b" "$b"
  done
  printf '    default_backend be0\n\n'
  awk -v B="$B" -v S="$S" 'BEGIN {
    for (b = 0; b < B; b++) {
      printf "backend be%d\n    balance roundrobin\n    option httpchk GET /health\n", b
      for (n = 0; n < S; n++) {
        ip = b * S + n
        printf "    server s%d 10.%d.%d.%d:8080 check inter 2s fall 3 rise 2 weight %d\n", n, int(ip / 65536) % 256, int(ip / 256) % 256, ip % 256, 1 + n
      }
      printf "\n"
    }
  }'
} > "$cfg"
echo "config: $B backends x $S servers, $(wc -l < "$cfg") lines, $(du -h "$cfg" | cut -f1)"
cargo build --release --quiet --bin rhaproxy
time_it() {
  local start end
  start=$(date +%s%N)
  "$@" > /dev/null 2>&1 || true
  end=$(date +%s%N)
  local ms=$(( (end - start) / 1000000 ))
  printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}
r=$(time_it ./target/release/rhaproxy -c -q -f "$cfg")
echo "rhaproxy -c: ${r}s (exit $(./target/release/rhaproxy -c -q -f "$cfg" > /dev/null 2>&1; echo $?))"
if command -v haproxy > /dev/null; then
  h=$(time_it haproxy -c -q -f "$cfg")
  echo "haproxy  -c: ${h}s (exit $(haproxy -c -q -f "$cfg" > /dev/null 2>&1; echo $?))"
else
  echo "haproxy not installed: no reference figure"
fi
