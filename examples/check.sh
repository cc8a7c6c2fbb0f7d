#!/usr/bin/env bash
# Checks every example config with a haproxy-compatible and a keepalived-compatible checker and
# prints one TSV line per config (the format of VERDICTS.tsv):
#   tool  config  args  interfaces  exit  first-diagnostic
# haproxy configs run as `$HAPROXY -c -f FILE` from the file's folder; keepalived configs run as
# `$KEEPALIVED -t -f FILE` from the file's folder inside a network namespace created here with a
# veth interface for every name the config uses (interface / dev), removed on exit. Needs root.
#   examples/check.sh                     # reference tools: haproxy, keepalived
#   HAPROXY=target/debug/rhaproxy KEEPALIVED=target/debug/rkeepalived examples/check.sh
#   examples/check.sh --write             # regenerate VERDICTS.tsv from the reference tools
set -u
here="$(cd "$(dirname "$0")" && pwd)"
HAPROXY="${HAPROXY:-haproxy}"
KEEPALIVED="${KEEPALIVED:-keepalived}"
ns="rhx-ex-$$"
bare="rhx-exb-$$"
# Configs also checked in a namespace without their interfaces (interfaces column "none").
NO_IFACE_CASES="quickstart/keepalived.conf 002-haproxy-keepalived-apache/vm1/keepalived.conf"
# haproxy configs also checked with -dW (warnings are fatal): one with warnings, one clean.
DW_CASES="002-haproxy-keepalived-apache/sample-centos/haproxy-fixed.cfg quickstart/haproxy.cfg"

cleanup() { ip netns del "$ns" 2>/dev/null; ip netns del "$bare" 2>/dev/null; }
trap cleanup EXIT

ifaces_of() { # the interface names a keepalived.conf uses, comma-separated
    sed 's/[#!].*//' "$1" \
        | grep -oE '(^|[[:space:]])(interface|dev)[[:space:]]+[A-Za-z0-9_.-]+' \
        | awk '{print $2}' | sort -u | paste -sd, -
}

ip netns add "$ns" || exit 2
ip -n "$ns" link set lo up
ip netns add "$bare" || exit 2
ip -n "$bare" link set lo up
made=","
ensure_iface() {
    case "$made" in *",$1,"*) return ;; esac
    ip -n "$ns" link add name "$1" type veth peer name "${1:0:12}-p" &&
        ip -n "$ns" link set "$1" up && ip -n "$ns" link set "${1:0:12}-p" up
    made="$made$1,"
}

first_diag() { grep -m1 -E 'ALERT|WARNING|Error|error|deprecated|SECURITY|incompatible|doesn.t exist' | sed 's/\t/ /g; s/^\[[A-Z]*\] *([0-9]*) : //' | cut -c1-160; }

out="$(mktemp)"
{
    printf '# tool\tconfig\targs\tinterfaces\texit\tfirst-diagnostic (reference tools: %s, %s)\n' \
        "$("$HAPROXY" -v 2>/dev/null | head -1 | awk '{print $1" "$3}')" \
        "$("$KEEPALIVED" -v 2>&1 | head -1 | awk '{print $1" "$2}')"
    cd "$here"
    for f in $(find . -name '*.cfg' | sed 's|^\./||' | sort); do
        d="$(dirname "$f")"; b="$(basename "$f")"
        diag="$(cd "$d" && "$HAPROXY" -c -f "$b" 2>&1 >/dev/null | first_diag)"
        (cd "$d" && "$HAPROXY" -c -q -f "$b" >/dev/null 2>&1); rc=$?
        printf 'haproxy\t%s\t-\t-\t%s\t%s\n' "$f" "$rc" "${diag:--}"
    done
    for f in $DW_CASES; do
        d="$(dirname "$f")"; b="$(basename "$f")"
        diag="$(cd "$d" && "$HAPROXY" -c -dW -f "$b" 2>&1 >/dev/null | first_diag)"
        (cd "$d" && "$HAPROXY" -c -dW -q -f "$b" >/dev/null 2>&1); rc=$?
        printf 'haproxy\t%s\t-dW\t-\t%s\t%s\n' "$f" "$rc" "${diag:--}"
    done
    for f in $(find . -name 'keepalived*.conf' | sed 's|^\./||' | sort); do
        d="$(dirname "$f")"; b="$(basename "$f")"
        ifs="$(ifaces_of "$f")"
        for i in ${ifs//,/ }; do ensure_iface "$i"; done
        diag="$(cd "$d" && ip netns exec "$ns" "$KEEPALIVED" -t -f "$b" 2>&1 | first_diag)"
        (cd "$d" && ip netns exec "$ns" "$KEEPALIVED" -t -f "$b" >/dev/null 2>&1); rc=$?
        printf 'keepalived\t%s\t-\t%s\t%s\t%s\n' "$f" "${ifs:--}" "$rc" "${diag:--}"
    done
    for f in $NO_IFACE_CASES; do
        d="$(dirname "$f")"; b="$(basename "$f")"
        diag="$(cd "$d" && ip netns exec "$bare" "$KEEPALIVED" -t -f "$b" 2>&1 | first_diag)"
        (cd "$d" && ip netns exec "$bare" "$KEEPALIVED" -t -f "$b" >/dev/null 2>&1); rc=$?
        printf 'keepalived\t%s\t-\tnone\t%s\t%s\n' "$f" "$rc" "${diag:--}"
    done
} > "$out"
if [ "${1:-}" = --write ]; then
    cp "$out" "$here/VERDICTS.tsv"
fi
cat "$out"
rm -f "$out"
