#!/usr/bin/env bash
# pipeline.sh: round trip through frontdoor -> broker -> echo worker -> PostgreSQL commit
# -> reply, against references for the same work on the same servers.
#   pipeline.sh [-d DURATION] [-c CONNECTIONS] [-t THREADS] [-u BASE_URL]
#               [--only pipeline,pgbench,redis]
#
# 1. Logs in as the demo admin (BENCH_ADMIN_EMAIL / BENCH_ADMIN_PASSWORD) and runs wrk
#    POSTing /api/v1/admin/pipeline/echo with Prefer: wait=5, a unique Idempotency-Key
#    per request and {"message":"bench","sleep_ms":0}: once with 1 connection (unloaded
#    round trip), once with CONNECTIONS. Every status is counted; anything but 201 is
#    reported.
# 2. pgbench of the equivalent database work: one single-row INSERT per transaction,
#    synchronous commit, same client counts, against the same PostgreSQL, in the scratch
#    database bx_bench (table bench_echo), so the product's data is never touched.
# 3. redis-benchmark PING and a small Lua EVAL (a GCRA-like read-modify-write, the shape
#    of the frontdoor's per-request rate-limit call) against the system's Redis.
# Prints the table and the ratio pipeline/pgbench, writes
# bench/results/<stamp>-pipeline.md (table, JSON, raw outputs) and <stamp>-pipeline.json.
#
# The system must run (bash deploy/run.sh) with its write quota raised, or the run
# measures 429s:
#   BOXOFFICE_RL_WRITE_PER_MIN=100000000 BOXOFFICE_RL_IP_PER_MIN=100000000 bash deploy/run.sh
# Every pipeline request is a real durable request: each run leaves its request and
# idempotency records in the product database, as any client's would.
#
# Environment (options win): BENCH_DURATION (10s), BENCH_CONNECTIONS (32), BENCH_THREADS
# (2), BENCH_BASE_URL (http://127.0.0.1:8080), BENCH_ADMIN_EMAIL, BENCH_ADMIN_PASSWORD,
# BENCH_PG_PORT (15432), BENCH_REDIS_PORT (16379), BENCH_WAIT (5), BENCH_SLEEP_MS (0),
# BENCH_REDIS_REQUESTS (100000).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

duration=${BENCH_DURATION:-10s}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
base=${BENCH_BASE_URL:-http://127.0.0.1:8080}
email=${BENCH_ADMIN_EMAIL:-admin@boxoffice.test}
password=${BENCH_ADMIN_PASSWORD:-demo-admin-password}
pg_port=${BENCH_PG_PORT:-15432}
redis_port=${BENCH_REDIS_PORT:-16379}
wait_s=${BENCH_WAIT:-5}
sleep_ms=${BENCH_SLEEP_MS:-0}
redis_n=${BENCH_REDIS_REQUESTS:-100000}
only=pipeline,pgbench,redis
bench_db=bx_bench

usage() {
    sed -n '2,4p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    -d) duration=${2:?}; shift 2 ;;
    -c) conns=${2:?}; shift 2 ;;
    -t) threads=${2:?}; shift 2 ;;
    -u) base=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) bench_warn "unknown argument $1"; usage ;;
    esac
done
base=${base%/}
secs=$(bench_seconds "$duration")
bench_is_uint "$secs" || bench_die "bad duration: $duration"
bench_is_uint "$conns" || bench_die "connections must be a positive integer: $conns"
bench_is_uint "$threads" || bench_die "threads must be a positive integer: $threads"
bench_is_uint "$redis_n" || bench_die "BENCH_REDIS_REQUESTS must be a positive integer"
[ "$conns" -ge "$threads" ] || bench_die "need at least one connection per thread"
bench_is_uint "$wait_s" || bench_die "BENCH_WAIT must be a positive integer"
want() { case ,$only, in *,"$1",*) return 0 ;; esac; return 1; }
bench_need jq awk curl ss
want pipeline && bench_need wrk
want pgbench && bench_need pgbench psql
want redis && bench_need redis-benchmark redis-cli

mkdir -p "$BENCH_TMP_ROOT"
tmp=$(mktemp -d "$BENCH_TMP_ROOT/pipeline.XXXXXX")
raw=$tmp/raw.txt
: >"$raw"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

bench_check_idle
machine=$(bench_machine)
bench_say "machine: $machine"
short=$(((secs + 2) / 3)) # the unloaded runs are shorter: their rate is low anyway
pg_pid=$(bench_listener_pid "$pg_port")
redis_pid=$(bench_listener_pid "$redis_port")
pipeline=()
pgb=()
redis=()
rl_policy=
probe=

# Process groups whose CPU is reported: every process on the request's path.
specs() {
    local fd_port
    read -r _ fd_port <<<"$(bench_host_port "$base")"
    printf '%s\n' "frontdoor:pid:$(bench_listener_pid "$fd_port")" "broker:name:bx-broker" \
        "echo-workers:name:bx-worker-echo" "postgres:tree:$pg_pid" "redis:pid:$redis_pid"
}

# ---- 1. the pipeline ----
run_pipeline() { # $1 name, $2 connections, $3 threads, $4 duration
    local p0 p1 res n
    local -a sp
    mapfile -t sp < <(specs)
    bench_redis_cmdstats "$redis_port" >"$tmp/redis0"
    p0=$(bench_pg_xacts "$pg_port" boxoffice)
    res=$(bench_wrk "$1" "$base/api/v1/admin/pipeline/echo" "$3" "$2" "$4" 15s "$raw" "${sp[@]}")
    bench_redis_cmdstats "$redis_port" >"$tmp/redis1"
    p1=$(bench_pg_xacts "$pg_port" boxoffice)
    n=$(printf '%s' "$res" | jq '.requests')
    printf '%s' "$res" | jq -c \
        --argjson r "$(bench_redis_per_request "$tmp/redis0" "$tmp/redis1" "$n")" \
        --argjson p "$(bench_per "$([ -n "$p0" ] && [ -n "$p1" ] && echo $((p1 - p0)))" "$n")" \
        '. + {redis_commands_per_request: $r, pg_transactions_per_request: $p,
              non_201: ((.statuses // {}) | to_entries | map(select(.key != "201")) | from_entries)}'
}

if want pipeline; then
    code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$base/healthz") || true
    [ "$code" = 200 ] || bench_die "frontdoor at $base/healthz answered '$code': start it with 'bash deploy/run.sh'"
    token=$(bench_login "$base" "$email" "$password")
    body=$(jq -cn --argjson s "$sleep_ms" '{message: "bench", sleep_ms: $s}')
    # One request by hand first: it must be a 201, or the load run measures an error path.
    probe=$(curl -s -m $((wait_s + 5)) -D "$tmp/probe.hdr" -o "$tmp/probe.body" \
        -w '%{http_code} %{time_total}' -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' -H 'Accept: application/json' \
        -H "Prefer: wait=$wait_s" -H "Idempotency-Key: bench-probe-$(date +%s%N)" \
        --data-binary "$body" "$base/api/v1/admin/pipeline/echo") || true
    bench_say "probe: HTTP ${probe% *} in ${probe#* }s: $(head -c 300 "$tmp/probe.body")"
    [ "${probe% *}" = 201 ] || bench_warn "the probe did not answer 201: the load run will count errors"
    rl_policy=$(bench_header "$tmp/probe.hdr" RateLimit-Policy)
    q=$(printf '%s' "$rl_policy" | sed -n 's/.*"write";q=\([0-9]*\).*/\1/p')
    if [ -n "$q" ] && [ "$q" -lt 10000000 ]; then
        bench_warn "write quota is $q per minute per user: expect 429s; start the system with BOXOFFICE_RL_WRITE_PER_MIN=100000000 BOXOFFICE_RL_IP_PER_MIN=100000000"
    fi
    export BENCH_METHOD=POST BENCH_BODY=$body BENCH_TOKEN=$token BENCH_PREFER="wait=$wait_s"
    export BENCH_IDEMPOTENCY=1 BENCH_COUNT_STATUS=1 BENCH_RUN_ID
    BENCH_RUN_ID=$(date +%s)-$$
    bench_say "wrk pipeline echo, 1 connection, ${short}s"
    pipeline+=("$(run_pipeline "pipeline echo, 1 connection" 1 1 "${short}s")")
    sleep 2
    bench_say "wrk pipeline echo, $conns connections, $duration"
    pipeline+=("$(run_pipeline "pipeline echo, $conns connections" "$conns" "$threads" "$duration")")
    unset BENCH_TOKEN BENCH_BODY BENCH_METHOD BENCH_PREFER BENCH_IDEMPOTENCY
    sleep 3 # let 202s finish in the background before the reference runs
fi

# ---- 2. pgbench: one single-row INSERT per transaction, synchronous commit ----
pg_admin() {
    PGCONNECT_TIMEOUT=10 PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" \
        -U boxoffice "$@"
}

pgbench_prepare() {
    [ "$(pg_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$bench_db'")" = 1 ] ||
        pg_admin -d postgres -c "CREATE DATABASE $bench_db" ||
        bench_die "could not create database $bench_db on port $pg_port"
    pg_admin -d "$bench_db" -c "CREATE TABLE IF NOT EXISTS bench_echo (
        id bigserial PRIMARY KEY,
        client_id integer NOT NULL,
        seq bigint NOT NULL,
        message text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())" -c "TRUNCATE bench_echo"
    cat >"$tmp/insert.sql" <<'EOF'
\set seq random(1, 1000000000)
INSERT INTO bench_echo (client_id, seq, message) VALUES (:client_id, :seq, 'bench');
EOF
}

# Runs pgbench with $1 clients for $2 seconds; prints a JSON summary.
run_pgbench() {
    local clients=$1 t=$2 jobs out tps lat failed
    jobs=$((clients < threads ? clients : threads))
    local -a sp
    mapfile -t sp < <(printf '%s\n' "postgres:tree:$pg_pid")
    local s0=$tmp/s0 s1=$tmp/s1 t0 t1
    rm -f "$tmp"/pgb.*
    bench_cpu_snap "${sp[@]}" >"$s0"
    t0=$(date +%s.%N)
    out=$(cd "$tmp" && PGOPTIONS='-c synchronous_commit=on' timeout $((t + 60)) pgbench -n \
        -h 127.0.0.1 -p "$pg_port" -U boxoffice -M prepared -c "$clients" -j "$jobs" -T "$t" \
        -f "$tmp/insert.sql" -l --log-prefix=pgb "$bench_db" 2>&1) || true
    t1=$(date +%s.%N)
    bench_cpu_snap "${sp[@]}" >"$s1"
    printf '### pgbench -n -M prepared -c %s -j %s -T %s -f insert.sql %s (synchronous_commit=on)\n\n%s\n\n' \
        "$clients" "$jobs" "$t" "$bench_db" "$out" >>"$raw"
    tps=$(printf '%s\n' "$out" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p')
    failed=$(printf '%s\n' "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
    [ -n "$tps" ] || bench_warn "pgbench with $clients clients failed: $(printf '%s' "$out" | tail -n 3)"
    # Per-transaction log: client, tx number, latency (us), script, epoch s, epoch us.
    lat=$(cat "$tmp"/pgb.* 2>/dev/null | awk '{ print $3 }' | sort -n | awk '
        { v[NR] = $1; s += $1 }
        END { if (NR == 0) { print "{}"; exit }
              printf "{\"mean\":%.3f,\"p50\":%d,\"p90\":%d,\"p99\":%d,\"max\":%d}\n", s / NR,
                     v[int(NR * 0.50) + (NR * 0.50 > int(NR * 0.50))], v[int(NR * 0.90) + (NR * 0.90 > int(NR * 0.90))],
                     v[int(NR * 0.99) + (NR * 0.99 > int(NR * 0.99))], v[NR] }')
    jq -cn --arg name "pgbench INSERT, $clients client$([ "$clients" -gt 1 ] && echo s)" \
        --argjson clients "$clients" --argjson tps "${tps:-0}" --argjson lat "$lat" \
        --argjson failed "${failed:-0}" \
        --argjson cpu "$(bench_cpu_delta "$s0" "$s1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")" \
        '{name: $name, connections: $clients, rps: $tps, latency_us: $lat, failed: $failed, cpu_pct: $cpu}'
}

if want pgbench; then
    [ -n "$pg_pid" ] || bench_die "no PostgreSQL listens on 127.0.0.1:$pg_port"
    pgbench_prepare
    bench_say "pgbench INSERT, 1 client, ${short}s"
    pgb+=("$(run_pgbench 1 "$short")")
    bench_say "pgbench INSERT, $conns clients, ${secs}s"
    pgb+=("$(run_pgbench "$conns" "$secs")")
    pg_admin -d "$bench_db" -c "TRUNCATE bench_echo"
fi

# ---- 3. redis-benchmark: PING and a small EVAL ----
# A GCRA-like step: read the key's theoretical arrival time, compare, write it back with
# an expiry, as the frontdoor's limiter does once per request. Keys expire in 60 s.
redis_lua="local now = tonumber(ARGV[1]) local tat = tonumber(redis.call('GET', KEYS[1]) or now) if tat < now then tat = now end if tat - now > 60000 then return 0 end redis.call('SET', KEYS[1], tat + 10, 'PX', 60000) return 1"

run_redis() { # $1 name, then redis-benchmark arguments
    local name=$1 out line t0 t1 cpu
    shift
    bench_cpu_snap "redis:pid:$redis_pid" >"$tmp/r0"
    t0=$(date +%s.%N)
    out=$(timeout 120 redis-benchmark -h 127.0.0.1 -p "$redis_port" -c "$conns" -n "$redis_n" \
        --csv "$@" 2>&1) || true
    t1=$(date +%s.%N)
    bench_cpu_snap "redis:pid:$redis_pid" >"$tmp/r1"
    cpu=$(bench_cpu_delta "$tmp/r0" "$tmp/r1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
    printf '### redis-benchmark -c %s -n %s --csv %s\n\n%s\n\n' "$conns" "$redis_n" "$*" "$out" >>"$raw"
    line=$(printf '%s\n' "$out" | grep -v '^"test"' | grep '^"' | tail -n 1)
    [ -n "$line" ] || bench_warn "redis-benchmark $name failed: $(printf '%s' "$out" | tail -n 2)"
    # the last 7 fields (the test name may hold commas):
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    printf '%s\n' "$line" | tr -d '"' | awk -F, -v name="$name" -v c="$conns" -v cpu="$cpu" '
        { printf "{\"name\":\"%s\",\"connections\":%d,\"rps\":%s,\"latency_us\":{\"mean\":%.0f,\"p50\":%.0f,\"p99\":%.0f,\"max\":%.0f},\"cpu_pct\":%s}\n",
                 name, c, $(NF - 6) + 0, $(NF - 5) * 1000, $(NF - 3) * 1000, $(NF - 1) * 1000, $NF * 1000, cpu }'
}

if want redis; then
    [ -n "$redis_pid" ] || bench_die "no Redis listens on 127.0.0.1:$redis_port"
    bench_say "redis-benchmark PING and EVAL, $conns connections, $redis_n requests each"
    redis+=("$(run_redis "redis PING" -t ping_mbulk)")
    redis+=("$(run_redis "redis EVAL (GCRA-like)" -r 100000 eval "$redis_lua" 1 \
        'bench:rl:__rand_int__' "$(($(date +%s) * 1000))")")
fi

# ---- report ----
j() { if [ $# -gt 0 ]; then printf '%s\n' "$@" | jq -s '.'; else echo '[]'; fi; }
pl=$(j "${pipeline[@]}")
pg=$(j "${pgb[@]}")
rd=$(j "${redis[@]}")
ratios=$(jq -n --argjson pl "$pl" --argjson pg "$pg" '
    [ $pl[] as $p | $pg[] | select(.connections == $p.connections and .rps > 0) |
      {connections: .connections, pipeline_rps: $p.rps, pgbench_tps: .rps,
       ratio: ($p.rps / .rps * 1000 | round / 1000)} ]')
stamp=$(date +%Y-%m-%d-%H%M%S)
doc=$(jq -n --arg stamp "$stamp" --arg machine "$machine" --arg duration "$duration" \
    --argjson conns "$conns" --argjson threads "$threads" --arg base "$base" --arg user "$email" \
    --arg rl "$rl_policy" --arg probe "$probe" --argjson pl "$pl" --argjson pg "$pg" \
    --argjson rd "$rd" --argjson ratios "$ratios" \
    '{benchmark: "pipeline", stamp: $stamp, machine: $machine, duration: $duration,
      connections: $conns, threads: $threads, base_url: $base, user: $user,
      ratelimit_policy: $rl, probe: $probe, pipeline: $pl, pgbench: $pg, redis: $rd,
      ratio_pipeline_to_pgbench: $ratios}')

table_rows() {
    printf '%s' "$doc" | jq -r "$JQ_F2"' (.pipeline + .pgbench + .redis)[] |
      [ .name, (.rps | round | tostring),
        (.latency_us.p50 | if . == null then null else . / 1000 end | f2),
        (.latency_us.p99 | if . == null then null else . / 1000 end | f2),
        (if .statuses then ((.non_201 // {}) | [.[]] | add // 0 | tostring)
         elif .failed != null then (.failed | tostring) else "-" end),
        (if .errors then (((.errors.connect // 0) + (.errors.read // 0) + (.errors.write // 0) + (.errors.timeout // 0)) | tostring) else "-" end),
        (if .server_cpu_pct then .server_cpu_pct elif .cpu_pct then ([.cpu_pct[]] | add) else null end) as $c |
        (if $c == null then "-" else ($c | tostring) + "%" end),
        (if $c != null and .rps > 0 then ($c * 10000 / .rps | round | tostring) else "-" end) ] | @tsv'
}
header=$'run\treq/s\tp50 ms\tp99 ms\tnon-201/failed\tsocket errors\tserver CPU\tCPU us/req'
{
    printf '%s\n' "$header"
    table_rows
} | column -t -s $'\t'
printf '%s' "$doc" | jq -r "$JQ_F2"'
    (.pipeline[] | "\(.name): statuses \(.statuses | tojson), CPU % of one core \(.cpu_pct | tojson), wrk \(.wrk_cpu_pct)%, irq \(.irq_cpu_pct)%, other \(.other_cpu_pct)%, PostgreSQL transactions/request \(.pg_transactions_per_request), Redis commands/request \(.redis_commands_per_request | tojson)"),
    (.ratio_pipeline_to_pgbench[] | "ratio pipeline/pgbench at \(.connections) connection(s): \(.ratio | f2)")'
if [ -n "$rl_policy" ]; then printf 'rate-limit policy seen on the echo route: %s\n' "$rl_policy"; fi
if printf '%s' "$pl" | jq -e 'any(.[]; (.non_201 // {}) | length > 0)' >/dev/null; then
    bench_warn "some pipeline requests did not answer 201: $(printf '%s' "$pl" | jq -c '[.[] | .non_201]')"
fi

mkdir -p "$BENCH_RESULTS"
md=$BENCH_RESULTS/$stamp-pipeline.md
printf '%s\n' "$doc" >"$BENCH_RESULTS/$stamp-pipeline.json"
# shellcheck disable=SC2016 # the backquotes are markdown
{
    printf '# bench/pipeline.sh, %s\n\n' "$stamp"
    printf 'Machine: %s. Load generators and servers share these cores.\n\n' "$machine"
    printf 'Command: `bash bench/pipeline.sh -d %s -c %s -t %s -u %s` (user %s, Prefer: wait=%s, sleep_ms %s)\n\n' \
        "$duration" "$conns" "$threads" "$base" "$email" "$wait_s" "$sleep_ms"
    printf '| %s |\n' "${header//$'\t'/ | }"
    printf '|%s\n' "$(printf '%s' "$header" | tr -cd '\t' | sed 's/\t/---|/g')---|"
    table_rows | sed 's/\t/ | /g; s/^/| /; s/$/ |/'
    printf '\n'
    printf '%s' "$doc" | jq -r "$JQ_F2"'
        (.ratio_pipeline_to_pgbench[] | "- ratio pipeline/pgbench at \(.connections) connection(s): \(.ratio | f2)"),
        (.pipeline[] | "- \(.name): statuses `\(.statuses | tojson)`, CPU % of one core `\(.cpu_pct | tojson)`, wrk \(.wrk_cpu_pct)%, irq \(.irq_cpu_pct)%, other \(.other_cpu_pct)%, PostgreSQL transactions/request \(.pg_transactions_per_request), Redis commands/request `\(.redis_commands_per_request | tojson)`")'
    if [ -n "$rl_policy" ]; then printf -- '- rate-limit policy on the echo route: `%s`\n' "$rl_policy"; fi
    printf '\nCPU is percent of one core averaged over the run (%s00%% = all cores); "CPU us/req" is\n' "$(nproc)"
    printf 'server CPU time per request in microseconds (frontdoor, broker, workers, PostgreSQL, Redis;\n'
    printf 'for the references only the server measured).\n'
    printf '\n## JSON\n\n```json\n%s\n```\n\n## Raw outputs\n\n```\n%s\n```\n' "$doc" "$(cat "$raw")"
} >"$md"
bench_say "results: ${md#"$BENCH_ROOT"/} and $(basename "${md%.md}").json"
