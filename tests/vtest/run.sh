#!/usr/bin/env bash
# Runs HAProxy's own reg-tests (VTest2 .vtc files) against a haproxy-compatible binary and prints
# a per-folder pass/fail/skip table.
#
#   VTEST=/path/to/vtest REGTESTS=/path/to/haproxy-2.6.0/reg-tests tests/vtest/run.sh [FOLDER...]
#
# Environment:
#   VTEST            the vtest binary (VTest2), required
#   REGTESTS         the reg-tests directory of a HAProxy 2.6 source tree, required
#   HAPROXY_PROGRAM  binary under test (default: target/release/rhaproxy of this checkout);
#                    use HAPROXY_PROGRAM=/usr/sbin/haproxy for the baseline
#   FEATURES_FROM    binary whose `-vv` decides the #REQUIRE_OPTIONS/SERVICES/VERSION skips
#                    (default: HAPROXY_PROGRAM, falling back to /usr/sbin/haproxy when the binary
#                    under test prints no "Feature list"); use the same value for both runs to
#                    compare like with like
#   JOBS             parallel vtest jobs (default 2)
#   TIMEOUT          per-test timeout in seconds (default 10)
#   LOG              detailed log file (default: $TMPDIR/vtest-<name>-<date>.log)
#   TSV              optional file receiving "folder<TAB>test<TAB>result" for every test
#
# FOLDER arguments are reg-tests sub-folders (e.g. balance checks); default: the ten folders the
# engine work targets. Use "all" for every folder.
# Nothing here builds VTest2; build it yourself (see tests/vtest/README.md).
set -u

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

: "${VTEST:?set VTEST to the vtest binary}"
: "${REGTESTS:?set REGTESTS to the haproxy reg-tests directory}"
HAPROXY_PROGRAM="${HAPROXY_PROGRAM:-$root/target/release/rhaproxy}"
JOBS="${JOBS:-2}"
TIMEOUT="${TIMEOUT:-10}"

if [ ! -x "$VTEST" ]; then echo "vtest not executable: $VTEST" >&2; exit 2; fi
if [ ! -d "$REGTESTS" ]; then echo "no reg-tests directory: $REGTESTS" >&2; exit 2; fi
if [ ! -x "$HAPROXY_PROGRAM" ]; then echo "binary not executable: $HAPROXY_PROGRAM" >&2; exit 2; fi
REGTESTS="$(cd "$REGTESTS" && pwd)"

default_folders="balance checks http-rules http-cookies stickiness webstats http-errorfiles stream converter http-messaging"
if [ $# -eq 0 ]; then
    set -- $default_folders
elif [ "$1" = all ]; then
    set -- $(cd "$REGTESTS" && find . -mindepth 1 -maxdepth 1 -type d | sed 's|^\./||' | sort)
fi
folders="$*"

name="$(basename "$HAPROXY_PROGRAM")"
stamp="$(date +%Y%m%d-%H%M%S)"
LOG="${LOG:-${TMPDIR:-/tmp}/vtest-$name-$stamp.log}"
work="$(mktemp -d "${TMPDIR:-/tmp}/vtest-run.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --- features used by the #REQUIRE_* headers (same logic as haproxy's scripts/run-regtests.sh) ---
features_of() {
    "$1" -vv 2>/dev/null | grep 'HA-\?Proxy version\|TARGET.*=\|^Feature\|^Available services' \
        | sed 's/.* [:=] //'
}
FEATURES_FROM="${FEATURES_FROM:-$HAPROXY_PROGRAM}"
vv="$(features_of "$FEATURES_FROM")"
if ! printf '%s\n' "$vv" | grep -q '[+-][A-Z]'; then
    if [ -x /usr/sbin/haproxy ]; then
        echo "note: $FEATURES_FROM prints no feature list; using /usr/sbin/haproxy -vv for REQUIRE_* skips"
        FEATURES_FROM=/usr/sbin/haproxy
        vv="$(features_of /usr/sbin/haproxy)"
    fi
fi
{ read -r hv_line; read -r TARGET; read -r FEATURES; read -r SERVICES; } <<EOF
$vv
EOF
HAPROXY_VERSION="$(echo "${hv_line:-0.0}" | cut -d' ' -f3)"
[ -n "$HAPROXY_VERSION" ] || HAPROXY_VERSION="${hv_line:-0.0}"
FEATURES_PATTERN=" ${FEATURES:-} "
SERVICES_PATTERN=" ${SERVICES:-} "

version_num() { # 2.6.12 -> 2006012, 2.5-dev0 -> 2005000
    echo "$1" | sed 's/[^0-9.].*//' | awk -F. '{ printf "%d%03d%03d\n", $1, $2, $3 }'
}

# Prints a skip reason for a .vtc, or nothing when it should run.
skip_reason() {
    local f="$1" line key val req alt found t
    local need_opts="" need_svcs="" excl="" ver="" below="" type="default"
    while IFS= read -r line; do
        key="${line%%=*}"; val="${line#*=}"
        case "$key" in
            "#REQUIRE_VERSION") ver="$val" ;;
            "#REQUIRE_VERSION_BELOW") below="$val" ;;
            "#REQUIRE_OPTIONS"|"#REQUIRE_OPTION") need_opts="$need_opts,$val" ;;
            "#REQUIRE_SERVICES"|"#REQUIRE_SERVICE") need_svcs="$need_svcs,$val" ;;
            "#EXCLUDE_TARGETS"|"#EXCLUDE_TARGET") excl="$excl,$val" ;;
            "#REGTEST_TYPE") type="$val" ;;
        esac
    done < <(grep '^#[0-9A-Z_]*=' "$f")
    case ",${REGTESTS_TYPES:-default,bug,devel,slow}," in
        *",$type,"*|*",any,"*) ;;
        *) echo "type $type"; return ;;
    esac
    if [ -n "$ver" ] && [ "$(version_num "$HAPROXY_VERSION")" -lt "$(version_num "$ver")" ]; then
        echo "needs version >= $ver"; return
    fi
    if [ -n "$below" ] && [ "$(version_num "$HAPROXY_VERSION")" -ge "$(version_num "$below")" ]; then
        echo "needs version < $below"; return
    fi
    for t in ${excl//,/ }; do
        [ "$t" = "${TARGET:-}" ] && { echo "excluded target $t"; return; }
    done
    for req in ${need_opts//,/ }; do
        found=
        for alt in ${req//|/ }; do
            case "$FEATURES_PATTERN" in *" +$alt "*) found=1 ;; esac
        done
        [ -z "$found" ] && { echo "needs option $req"; return; }
    done
    for req in ${need_svcs//,/ }; do
        found=
        for alt in ${req//|/ }; do
            case "$SERVICES_PATTERN" in *" $alt "*) found=1 ;; esac
        done
        [ -z "$found" ] && { echo "needs service $req"; return; }
    done
}

# --- gather ---
: > "$work/skipped"
: > "$work/list"
for d in $folders; do
    if [ ! -d "$REGTESTS/$d" ]; then echo "no such folder: $d" >&2; continue; fi
    for f in $(find "$REGTESTS/$d" -name '*.vtc' | sort); do
        why="$(skip_reason "$f")"
        if [ -n "$why" ]; then
            printf '%s\t%s\n' "$f" "$why" >> "$work/skipped"
        else
            echo "$f" >> "$work/list"
        fi
    done
done

{
    echo "# vtest run $stamp"
    echo "# HAPROXY_PROGRAM=$HAPROXY_PROGRAM"
    echo "# REQUIRE_* decided by: $FEATURES_FROM (version $HAPROXY_VERSION)"
    echo "# folders: $folders"
    echo "# skipped by REQUIRE_* headers:"
    sed 's/^/#   /' "$work/skipped"
} > "$LOG"

# --- run ---
export HAPROXY_PROGRAM
export TMPDIR="$work"
if [ -s "$work/list" ]; then
    # -k: keep going, -l: leave the temp dir of failed tests (logged below), default verbosity
    # prints one "passed"/"skipped"/"FAILED" line per test.
    "$VTEST" -b $((2 << 20)) -k -l -t "$TIMEOUT" -j "$JOBS" $(cat "$work/list") \
        > "$work/out" 2>&1
fi
cat "$work/out" >> "$LOG" 2>/dev/null
for d in "$work"/vtc.*; do
    [ -e "$d/LOG" ] || continue
    { echo "###### $(cat "$d/INFO" 2>/dev/null) ######"; grep -E -- '^(----|\*    diag)' "$d/LOG"; } >> "$LOG"
done

# --- report ---
result_of() { # file -> pass|fail|skip
    local f="$1" line
    line="$(grep -F "TEST $f " "$work/out" 2>/dev/null | tail -n 1)"
    case "$line" in
        *" passed "*) echo pass ;;
        *" skipped "*) echo skip ;;
        *) echo fail ;;
    esac
}
tsv="$work/results"
: > "$tsv"
while read -r f; do
    rel="${f#$REGTESTS/}"
    printf '%s\t%s\t%s\n' "${rel%%/*}" "$rel" "$(result_of "$f")" >> "$tsv"
done < "$work/list"
while IFS=$'\t' read -r f why; do
    rel="${f#$REGTESTS/}"
    printf '%s\t%s\t%s\n' "${rel%%/*}" "$rel" "skip" >> "$tsv"
done < "$work/skipped"
[ -n "${TSV:-}" ] && sort "$tsv" > "$TSV"

printf '%-18s %5s %5s %5s %5s\n' folder pass fail skip total
tp=0; tf=0; ts=0
for d in $folders; do
    p=$(awk -F'\t' -v d="$d" '$1==d && $3=="pass"' "$tsv" | wc -l)
    fl=$(awk -F'\t' -v d="$d" '$1==d && $3=="fail"' "$tsv" | wc -l)
    s=$(awk -F'\t' -v d="$d" '$1==d && $3=="skip"' "$tsv" | wc -l)
    printf '%-18s %5d %5d %5d %5d\n' "$d" "$p" "$fl" "$s" $((p + fl + s))
    tp=$((tp + p)); tf=$((tf + fl)); ts=$((ts + s))
done
printf '%-18s %5d %5d %5d %5d\n' TOTAL "$tp" "$tf" "$ts" $((tp + tf + ts))
echo "binary: $HAPROXY_PROGRAM"
echo "detailed log: $LOG"
[ "$tf" -eq 0 ]
