#!/usr/bin/env bash
# profile.sh: where the frontdoor spends its CPU on the authenticated read path.
#   profile.sh [-d SECONDS] [-c CONNECTIONS] [-u BASE_URL] [--path PATH]
#
# Logs in as BENCH_EMAIL / BENCH_PASSWORD (default the demo customer), drives GET PATH
# (default /api/v1/users/profile) with wrk, and meanwhile samples the frontdoor process
# with `perf record -g` (call graphs by frame pointer: the build keeps them). Writes
# bench/results/<stamp>-profile.txt: the hottest symbols (self time), the hottest shared
# objects, and the hottest call chains (children time). perf.data is kept only in
# bench/results/tmp while the script runs. Needs root (perf on another process).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

secs=${BENCH_PROFILE_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
base=${BENCH_BASE_URL:-http://127.0.0.1:8080}
email=${BENCH_EMAIL:-customer@boxoffice.test}
password=${BENCH_PASSWORD:-demo-customer-password}
path=/api/v1/users/profile

usage() {
    sed -n '2,2p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    -d) secs=$(bench_seconds "${2:?}"); shift 2 ;;
    -c) conns=${2:?}; shift 2 ;;
    -u) base=${2:?}; shift 2 ;;
    --path) path=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) bench_warn "unknown argument $1"; usage ;;
    esac
done
base=${base%/}
bench_is_uint "$secs" || bench_die "bad duration: $secs"
bench_is_uint "$conns" || bench_die "connections must be a positive integer: $conns"
bench_need wrk perf curl jq ss

mkdir -p "$BENCH_TMP_ROOT"
tmp=$(mktemp -d "$BENCH_TMP_ROOT/profile.XXXXXX")
wrk_pid=
cleanup() {
    if [ -n "$wrk_pid" ] && kill -0 "$wrk_pid" 2>/dev/null; then
        kill "$wrk_pid" 2>/dev/null || true
        wait "$wrk_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r host port <<<"$(bench_host_port "$base")"
case $host in
127.0.0.1 | localhost) ;;
*) bench_die "the frontdoor must run on this machine to be profiled" ;;
esac
fd_pid=$(bench_listener_pid "$port")
[ -n "$fd_pid" ] || bench_die "nothing listens on port $port: start the system with 'bash deploy/run.sh'"
token=$(bench_login "$base" "$email" "$password")
bench_check_idle

export BENCH_TOKEN=$token BENCH_COUNT_STATUS=1
bench_say "wrk GET $path for $((secs + 2))s, perf on pid $fd_pid for ${secs}s"
wrk -t"$threads" -c"$conns" -d"$((secs + 2))s" --latency -s "$BENCH_DIR/lua/bench.lua" \
    "$base$path" >"$tmp/wrk.txt" 2>&1 &
wrk_pid=$!
sleep 1
perf record -q -F 999 -g -p "$fd_pid" -o "$tmp/perf.data" -- sleep "$secs" >"$tmp/perf.log" 2>&1 ||
    bench_die "perf record failed: $(tail -n 3 "$tmp/perf.log")"
wait "$wrk_pid" || true
wrk_pid=

stamp=$(date +%Y-%m-%d-%H%M%S)
out=$BENCH_RESULTS/$stamp-profile.txt
# Each report goes to a file first: perf must not die of SIGPIPE under pipefail.
report() { # $1: output file, then perf report options
    local file=$1
    shift
    perf report -i "$tmp/perf.data" --stdio --quiet "$@" >"$file" 2>"$file.err" ||
        bench_warn "perf report $* failed: $(tail -n 2 "$file.err")"
}
report "$tmp/dso.txt" --no-children --sort dso -g none
report "$tmp/self.txt" --no-children --sort dso,symbol -g none
report "$tmp/children.txt" --children --sort symbol -g none
report "$tmp/chains.txt" --no-children --sort symbol -g caller,0.5,callee,function,percent \
    --percent-limit 2
{
    printf 'bench/profile.sh %s: frontdoor pid %s, GET %s, %s connections, perf -F 999 -g for %ss\n' \
        "$stamp" "$fd_pid" "$path" "$conns" "$secs"
    printf 'machine: %s\n\n' "$(bench_machine)"
    printf '== wrk ==\n'
    grep -v '^BENCH_JSON' "$tmp/wrk.txt" || true
    sed -n 's/^BENCH_JSON //p' "$tmp/wrk.txt"
    printf '\n== self time by shared object ==\n'
    grep -v '^$' "$tmp/dso.txt" | sed -n '1,25p'
    printf '\n== self time by symbol (top 60) ==\n'
    grep -v '^$' "$tmp/self.txt" | sed -n '1,60p'
    printf '\n== time including callees, by symbol (top 60) ==\n'
    grep -v '^$' "$tmp/children.txt" | sed -n '1,60p'
    printf '\n== call chains of the symbols with at least 2%% self time (callers below each) ==\n'
    sed -n '1,400p' "$tmp/chains.txt"
} >"$out"
bench_say "profile: ${out#"$BENCH_ROOT"/}"
sed -n '/== self time by symbol/,/== time including/p' "$out" | sed -n '1,30p'
