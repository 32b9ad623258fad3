# lib.sh: helpers shared by the bench scripts (wrk runs, login, CPU and server counters,
# result files). Sourced, never run on its own.
# shellcheck shell=bash

# shellcheck disable=SC2034 # used by the scripts that source this file
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_ROOT=$(cd "$BENCH_DIR/.." && pwd)
BENCH_ME=${0##*/}
BENCH_RESULTS=$BENCH_DIR/results
BENCH_TMP_ROOT=$BENCH_RESULTS/tmp
BENCH_HZ=$(getconf CLK_TCK)

bench_say() { printf '%s: %s\n' "$BENCH_ME" "$*" >&2; }
bench_warn() { printf '%s: warning: %s\n' "$BENCH_ME" "$*" >&2; }
bench_die() {
    printf '%s: error: %s\n' "$BENCH_ME" "$*" >&2
    exit 1
}

bench_need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || bench_die "$tool is not installed"
    done
}

# True when $1 is a positive integer.
bench_is_uint() {
    case $1 in
    '' | *[!0-9]*) return 1 ;;
    esac
    [ "$1" -gt 0 ]
}

# Duration "10s", "2m" or "30" to seconds.
bench_seconds() {
    case $1 in
    *s) printf '%s\n' "${1%s}" ;;
    *m) printf '%s\n' $((${1%m} * 60)) ;;
    *) printf '%s\n' "$1" ;;
    esac
}

# True when something accepts TCP connections on 127.0.0.1:$1.
bench_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# host and port of a base URL such as http://127.0.0.1:8080 -> "127.0.0.1 8080".
bench_host_port() {
    local rest=${1#*://}
    rest=${rest%%/*}
    case $rest in
    *:*) printf '%s %s\n' "${rest%:*}" "${rest##*:}" ;;
    *) printf '%s 80\n' "$rest" ;;
    esac
}

# PID of the process listening on 127.0.0.1:$1 (needs root to see other users'), or nothing.
bench_listener_pid() {
    ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1
}

# CPU ticks (user+system, all threads) of process $1, 0 when it is gone; with $2 = 1
# also those of its children that exited and were reaped (PostgreSQL backends).
bench_pid_ticks() {
    local stat rest
    local -a f
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
        echo 0
        return
    }
    rest=${stat##*) } # fields after "(comm) ": utime is the 12th, stime, cutime, cstime follow
    read -r -a f <<<"$rest"
    if [ "${2:-0}" = 1 ]; then
        echo $((f[11] + f[12] + f[13] + f[14]))
    else
        echo $((f[11] + f[12]))
    fi
}

# Machine-wide ticks from /proc/stat: "busy total interrupts". Interrupt time (irq and
# softirq: on loopback most TCP processing) is charged to no process, so it is kept apart.
bench_machine_ticks() {
    local cpu user nice sys idle iowait irq softirq steal rest
    read -r cpu user nice sys idle iowait irq softirq steal rest </proc/stat
    printf '%s %s %s\n' $((user + nice + sys + irq + softirq + steal)) \
        $((user + nice + sys + idle + iowait + irq + softirq + steal)) $((irq + softirq))
}

# PIDs of a process group spec, one a line. A spec is LABEL:KIND:ARG where KIND is
#   pid   ARG is one PID;
#   tree  ARG is a PID, taken with its direct children (nginx, postmaster + backends);
#   name  ARG is an exact process name (pgrep -x), every match.
bench_spec_pids() {
    local kind arg rest=${1#*:}
    kind=${rest%%:*}
    arg=${rest#*:}
    case $kind in
    pid) [ -n "$arg" ] && echo "$arg" ;;
    tree) [ -n "$arg" ] && { echo "$arg"; ps -o pid= --ppid "$arg" 2>/dev/null | tr -d ' '; } ;;
    name) pgrep -x "$arg" 2>/dev/null ;;
    esac
    return 0
}

# Snapshot "label pid ticks" of every process of the specs $@.
bench_cpu_snap() {
    local spec pid root
    for spec in "$@"; do
        root=
        case $spec in *:tree:*) root=${spec##*:} ;; esac
        for pid in $(bench_spec_pids "$spec"); do
            printf '%s %s %s\n' "${spec%%:*}" "$pid" \
                "$(bench_pid_ticks "$pid" "$([ "$pid" = "$root" ] && echo 1)")"
        done
    done
}

# CPU per label between snapshot files $1 and $2 over $3 seconds, as a JSON object of
# percent of one core. A process born in between counts from zero.
bench_cpu_delta() {
    awk -v secs="$3" -v hz="$BENCH_HZ" 'NR == FNR { t0[$2] = $3; next }
        { d = $3 - (($2 in t0) ? t0[$2] : 0); if (d < 0) d = 0; sum[$1] += d; seen[$1] = 1 }
        END { printf "{"; n = 0
              for (l in seen) { printf "%s\"%s\":%d", (n++ ? "," : ""), l, sum[l] / hz / secs * 100 + 0.5 }
              print "}" }' "$1" "$2"
}

# Logs in at base URL $1 with email $2 and password $3; prints the access token.
bench_login() {
    local base=$1 email=$2 password=$3 body out code token
    body=$(jq -cn --arg e "$email" --arg p "$password" '{email: $e, password: $p}')
    out=$(curl -sS -m 20 -o - -w '\n%{http_code}' -H 'Content-Type: application/json' \
        -H 'Accept: application/json' --data-binary @- "$base/api/v1/users/login" <<<"$body") ||
        bench_die "login at $base failed: frontdoor not reachable"
    code=${out##*$'\n'}
    out=${out%$'\n'*}
    if [ "$code" != 200 ] && [ "$code" != 201 ]; then
        bench_die "login as $email answered HTTP $code: $(printf '%s' "$out" | head -c 300)"
    fi
    token=$(printf '%s' "$out" | jq -r 'first(.. | objects | .access_token? // empty)' 2>/dev/null)
    [ -n "$token" ] ||
        bench_die "login as $email: no access_token in the answer: $(printf '%s' "$out" | head -c 300)"
    printf '%s\n' "$token"
}

# Header $2 of a response header dump in file $1 (case-insensitive), value only.
bench_header() {
    tr -d '\r' <"$1" | awk -v h="$2" 'BEGIN { h = tolower(h) }
        { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == h) { print substr($0, i + 2) } }' |
        tail -n 1
}

# Runs wrk once and prints its BENCH_JSON summary extended with CPU figures.
#   bench_wrk NAME URL THREADS CONNS DURATION TIMEOUT RAWFILE [SPEC...]
# The request shape comes from BENCH_* variables already exported (see lua/bench.lua).
# The raw wrk output is appended to RAWFILE. CPU figures are percent of one core averaged
# over the run (100 per core): cpu_pct per process group SPEC (see bench_spec_pids),
# server_cpu_pct their sum, wrk_cpu_pct the load generator, irq_cpu_pct interrupt time
# (the kernel's loopback TCP work, charged to no process), other_cpu_pct the rest of the
# machine (other work skewing the run).
bench_wrk() {
    local name=$1 url=$2 threads=$3 conns=$4 dur=$5 timeout=$6 raw=$7
    shift 7
    local m0 m1 mb0 mt0 mi0 mb1 mt1 mi1 out json wrk_cpu t0 t1 secs tfile snap0 snap1 cpu
    tfile=$(mktemp "$BENCH_TMP_ROOT/time.XXXXXX")
    snap0=$(mktemp "$BENCH_TMP_ROOT/snap.XXXXXX")
    snap1=$(mktemp "$BENCH_TMP_ROOT/snap.XXXXXX")
    bench_cpu_snap "$@" >"$snap0"
    m0=$(bench_machine_ticks)
    t0=$(date +%s.%N)
    out=$( { TIMEFORMAT='%U %S'; time wrk -t"$threads" -c"$conns" -d"$dur" --timeout "$timeout" \
        --latency -s "$BENCH_DIR/lua/bench.lua" "$url" 2>&1; } 2>"$tfile") || true
    t1=$(date +%s.%N)
    m1=$(bench_machine_ticks)
    bench_cpu_snap "$@" >"$snap1"
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    cpu=$(bench_cpu_delta "$snap0" "$snap1" "$secs")
    {
        printf '### %s: wrk -t%s -c%s -d%s --timeout %s --latency -s bench/lua/bench.lua %s\n\n' \
            "$name" "$threads" "$conns" "$dur" "$timeout" "$url"
        printf '%s\n\n' "$out"
    } >>"$raw"
    json=$(printf '%s\n' "$out" | sed -n 's/^BENCH_JSON //p' | tail -n 1)
    if [ -z "$json" ]; then
        bench_warn "wrk against $url produced no summary: $(printf '%s' "$out" | tail -n 3)"
        json='{"requests":0,"rps":0,"errors":{},"latency_us":{}}'
    fi
    wrk_cpu=$(awk '{ print $1 + $2 }' "$tfile")
    rm -f "$tfile" "$snap0" "$snap1"
    read -r mb0 mt0 mi0 <<<"$m0"
    read -r mb1 mt1 mi1 <<<"$m1"
    printf '%s\n' "$json" | jq -c --arg name "$name" --arg url "$url" \
        --argjson threads "$threads" --argjson conns "$conns" --argjson secs "$secs" \
        --argjson cpu "$cpu" --argjson wcpu "$wrk_cpu" --argjson ncpu "$(nproc)" \
        --argjson mbusy $((mb1 - mb0)) --argjson mtotal $((mt1 - mt0)) --argjson mirq $((mi1 - mi0)) \
        '{name: $name, url: $url, threads: $threads, connections: $conns} + . +
         ([$cpu[]] | add // 0) as $server | ($wcpu / $secs * 100 | round) as $w |
         (if $mtotal > 0 then $mirq / $mtotal * 100 * $ncpu | round else 0 end) as $irq |
         {cpu_pct: $cpu, server_cpu_pct: (if ($cpu | length) > 0 then $server else null end),
          wrk_cpu_pct: $w, irq_cpu_pct: $irq,
          other_cpu_pct: (if $mtotal > 0 then ([$mbusy / $mtotal * 100 * $ncpu - $server - $w - $irq, 0] | max | round) else null end)}'
}

# Redis commands by name on 127.0.0.1:$1, "name calls" a line (INFO commandstats). The
# commands a Lua script runs count too, so one EVALSHA that does GET and SET shows as
# evalsha 1, get 1, set 1.
bench_redis_cmdstats() {
    redis-cli -h 127.0.0.1 -p "$1" info commandstats 2>/dev/null | tr -d '\r' |
        sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\),.*/\1 \2/p'
}

# Per-request Redis commands between commandstats dumps $1 and $2 for $3 requests, as a
# JSON object {"evalsha": 1.00, ...}; INFO itself is left out.
bench_redis_per_request() {
    awk -v n="$3" 'NR == FNR { a[$1] = $2; next }
        { d = $2 - a[$1]; if ($1 != "info" && d > 0 && n > 0) o[$1] = d / n }
        END { printf "{"; k = 0; for (c in o) printf "%s\"%s\":%.2f", (k++ ? "," : ""), c, o[c]; print "}" }' \
        "$1" "$2"
}

# Committed + rolled back transactions of database $2 on 127.0.0.1:$1, or nothing.
bench_pg_xacts() {
    PGCONNECT_TIMEOUT=5 psql -X -A -t -h 127.0.0.1 -p "$1" -U boxoffice -d "$2" -c \
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$2'" \
        2>/dev/null
}

# Prints "x / y" with 2 decimals, or n/a.
bench_per() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "null"; else printf "%.2f\n", a / b }'
}

# One line describing this machine and its load right now (the results depend on it).
bench_machine() {
    local model
    model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    printf '%s CPU(s) %s; %s; load average %s\n' "$(nproc)" "${model:-unknown}" \
        "$(. /etc/os-release && printf '%s' "$PRETTY_NAME")" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# Warns when the machine is already busy: other work skews every number.
bench_check_idle() {
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" -v n="$(nproc)" 'BEGIN { exit !(l > n * 0.5) }'; then
        bench_warn "load average is $load on $(nproc) cores: other work is running and will skew the numbers"
    fi
}

# Milliseconds from microseconds, 2 decimals.
bench_ms() {
    awk -v u="$1" 'BEGIN { if (u == "" || u == "null") print "n/a"; else printf "%.2f\n", u / 1000 }'
}

# jq definition of f2: a number with exactly two decimals, "n/a" for null.
# shellcheck disable=SC2016 # jq variables, not shell ones
JQ_F2='def f2: if . == null then "n/a" else (. * 100 | round) as $x | ($x / 100 | floor | tostring) + "." + (($x % 100) | tostring | if length < 2 then "0" + . else . end) end;'
