#!/usr/bin/env bash
# hot-sale.sh: the hot sale. Simulated customers hold seats through the whole product
# (HTTP -> frontdoor -> broker -> hold workers -> PostgreSQL), all on one event and then
# spread over many, and in the same run pgbench does the equivalent single-statement hold
# on the same PostgreSQL, spread and hot; prints holds/s, latency and the ratios.
#   bash bench/hot-sale.sh [-n USERS] [-c CONNECTIONS] [-d PGBENCH_DURATION] [--full]
#                          [--start BUILD_DIR] [--workers N] [--only hot,spread,pgbench]
#
# 1. bx-hot-sale (bench/hot_sale*.c) makes an event of 10,000 reserved seats and 10,000 GA
#    units and 16 events sharing the same inventory, creates USERS customers (rows and
#    sessions in bulk, tokens minted with the system's signing key), then sends one hold per
#    customer over CONNECTIONS keep-alive connections: phase "hot" (every customer on the
#    one event; 20% of them after the same 20 seats), phase "spread" (the same customers
#    over the 16 events). It waits for every request to finish and counts oversold seats
#    and GA units in SQL: the oversell count must be 0. Phase "waitroom"
#    (bench/hot_sale_waitroom.c) sends every customer through a fresh event's waiting room:
#    all join the pre-queue, the sale starts (lottery), each polls with Retry-After and
#    holds once admitted; it prints admissions per minute against the configured rate.
# 2. pgbench, CONNECTIONS clients, synchronous commit, in database bx_bench (table
#    bench_seats, 10,000 rows shaped like event_seats, no triggers): one UPDATE of one seat
#    row per transaction, on a random seat ("spread") or always the same one ("hot").
#    The hold statement toggles the seat (available <-> held), so every transaction writes
#    a row and commits as a successful hold does; a plain "WHERE state = 'available'"
#    would turn into no-op updates once the seats are gone.
#
# By default it loads the running system (deploy/run.sh, with rate limits raised:
#   BOXOFFICE_RL_WRITE_PER_MIN=100000000 BOXOFFICE_RL_IP_PER_MIN=100000000 bash deploy/run.sh)
# and mints tokens with its key (var/keys). --start BUILD_DIR instead starts a private
# system from BUILD_DIR/bin on ports 26250-26252 (frontdoor, broker, metrics off) against a
# fresh database bx_hotsale on the same PostgreSQL, with --workers hold workers (2), and
# stops it at the end. --full sends 50,000 customers (the issue's size); the default 5,000
# is a quick run.
#
# Results: bench/results/<stamp>-hot-sale.md and .json.
# Environment (options win): BENCH_USERS (5000), BENCH_CONNECTIONS (128), BENCH_DURATION
# (10s, pgbench), BENCH_BASE_URL (http://127.0.0.1:8080), BENCH_PG_PORT (15432),
# BENCH_REDIS_PORT (16379), BENCH_KEYS (var/keys), BENCH_HOT_SHARE (20).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

users=${BENCH_USERS:-5000}
conns=${BENCH_CONNECTIONS:-128}
duration=${BENCH_DURATION:-10s}
base=${BENCH_BASE_URL:-http://127.0.0.1:8080}
pg_port=${BENCH_PG_PORT:-15432}
redis_port=${BENCH_REDIS_PORT:-16379}
keys=${BENCH_KEYS:-$BENCH_ROOT/var/keys}
hot_share=${BENCH_HOT_SHARE:-20}
only=hot,spread,waitroom,pgbench
start_dir=
workers=2
bench_db=bx_bench
own_db=bx_hotsale
own_port=26250

usage() {
    sed -n '6,8p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    -n) users=${2:?}; shift 2 ;;
    -c) conns=${2:?}; shift 2 ;;
    -d) duration=${2:?}; shift 2 ;;
    --full) users=50000; shift ;;
    --start) start_dir=${2:?}; shift 2 ;;
    --workers) workers=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) bench_warn "unknown argument $1"; usage ;;
    esac
done
secs=$(bench_seconds "$duration")
bench_is_uint "$users" || bench_die "users must be a positive integer: $users"
bench_is_uint "$conns" || bench_die "connections must be a positive integer: $conns"
bench_is_uint "$secs" || bench_die "bad duration: $duration"
bench_is_uint "$workers" || bench_die "workers must be a positive integer: $workers"
want() { case ,$only, in *,"$1",*) return 0 ;; esac; return 1; }
bench_need jq awk psql
want pgbench && bench_need pgbench

mkdir -p "$BENCH_TMP_ROOT"
tmp=$(mktemp -d "$BENCH_TMP_ROOT/hot-sale.XXXXXX")
raw=$tmp/raw.txt
: >"$raw"
pids=()
stop_own() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}
trap 'stop_own; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

pg_admin() {
    PGCONNECT_TIMEOUT=10 PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t \
        -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U boxoffice "$@"
}

# ---- a private system (--start) ----
start_own() {
    local bin=$start_dir/bin dsn i
    [ -x "$bin/bx-frontdoor" ] && [ -x "$bin/bx-worker-hold" ] || bench_die "no binaries in $bin"
    pg_admin -d postgres -c "DROP DATABASE IF EXISTS $own_db" -c "CREATE DATABASE $own_db"
    dsn="host=127.0.0.1 port=$pg_port dbname=$own_db user=boxoffice"
    keys=$tmp/keys
    mkdir -p "$keys"
    export BOXOFFICE_PG_DSN=$dsn BOXOFFICE_JWT_KEY_DIR=$keys BOXOFFICE_REDIS_PORT=$redis_port \
        BOXOFFICE_HTTP_PORT=$own_port BOXOFFICE_BROKER_ENDPOINT=tcp://127.0.0.1:$((own_port + 1)) \
        BOXOFFICE_RL_WRITE_PER_MIN=100000000 BOXOFFICE_RL_READ_PER_MIN=100000000 \
        BOXOFFICE_RL_IP_PER_MIN=100000000 BOXOFFICE_LOG_LEVEL=warn BOXOFFICE_METRICS_PORT=0
    "$bin/bxctl" migrate >>"$raw" 2>&1 || bench_die "migrate failed (see $raw)"
    "$bin/bxctl" keygen >/dev/null || bench_die "keygen failed"
    "$bin/bx-broker" >>"$tmp/system.log" 2>&1 &
    pids+=($!)
    for ((i = 0; i < workers; i++)); do
        "$bin/bx-worker-hold" >>"$tmp/system.log" 2>&1 &
        pids+=($!)
    done
    "$bin/bx-worker-scheduler" >>"$tmp/system.log" 2>&1 &
    pids+=($!)
    if [ -x "$bin/bx-worker-waitlist" ]; then # the waiting room's gatekeeper
        "$bin/bx-worker-waitlist" >>"$tmp/system.log" 2>&1 &
        pids+=($!)
    fi
    "$bin/bx-frontdoor" >>"$tmp/system.log" 2>&1 &
    pids+=($!)
    for ((i = 0; i < 100; i++)); do bench_port_open "$own_port" && break; sleep 0.1; done
    bench_port_open "$own_port" || bench_die "the private frontdoor did not start ($tmp/system.log)"
    base=http://127.0.0.1:$own_port
    gen_dsn=$dsn
    gen_bin=$bin/bx-hot-sale
}

gen_dsn="host=127.0.0.1 port=$pg_port dbname=boxoffice user=boxoffice"
gen_bin=$BENCH_ROOT/build/bin/bx-hot-sale
if want hot || want spread || want waitroom; then
    [ -n "$start_dir" ] && start_own
    [ -x "$gen_bin" ] || gen_bin=$(command -v bx-hot-sale || true)
    [ -x "$gen_bin" ] || bench_die "bx-hot-sale is not built (cmake --build build --target bx-hot-sale)"
fi
pg_pid=$(bench_listener_pid "$pg_port")
machine=$(bench_machine)
bench_say "machine: $machine"

# ---- 1. the pipeline ----
phases=()
want hot && phases+=(hot)
want spread && phases+=(spread)
want waitroom && phases+=(waitroom) # bench/hot_sale_waitroom.c (needs bx-worker-waitlist)
gen='{}'
if [ ${#phases[@]} -gt 0 ]; then
    list=$(IFS=,; echo "${phases[*]}")
    bench_say "bx-hot-sale: $users customers, $conns connections, phases $list"
    "$gen_bin" --base "$base" --pg "$gen_dsn" --keys "$keys" --users "$users" \
        --connections "$conns" --hot-share "$hot_share" --phases "$list" \
        >"$tmp/gen.json" 2>"$tmp/gen.err" || { cat "$tmp/gen.err" >&2; bench_die "bx-hot-sale failed"; }
    cat "$tmp/gen.err" >&2
    gen=$(cat "$tmp/gen.json")
fi
stop_own

# ---- 2. pgbench: the single-statement hold ----
pgbench_prepare() {
    [ "$(pg_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$bench_db'")" = 1 ] ||
        pg_admin -d postgres -c "CREATE DATABASE $bench_db"
    pg_admin -d "$bench_db" -c "DROP TABLE IF EXISTS bench_seats" -c "CREATE TABLE bench_seats (
        event_id uuid NOT NULL, seat integer NOT NULL, label varchar(64) NOT NULL,
        state varchar(16) NOT NULL DEFAULT 'available'
              CHECK (state IN ('available', 'held', 'sold', 'blocked')),
        hold_id uuid, version integer NOT NULL DEFAULT 0,
        PRIMARY KEY (event_id, seat), UNIQUE (event_id, label),
        CHECK (state <> 'held' OR hold_id IS NOT NULL))" \
        -c "INSERT INTO bench_seats (event_id, seat, label)
            SELECT '00000000-0000-7000-8000-000000000001', g, 'S' || g
            FROM generate_series(1, 10000) g" -c "VACUUM ANALYZE bench_seats"
    cat >"$tmp/spread.sql" <<'EOF'
\set id random(1, 10000)
UPDATE bench_seats SET state = CASE state WHEN 'available' THEN 'held' ELSE 'available' END, hold_id = CASE state WHEN 'available' THEN gen_random_uuid() END, version = version + 1 WHERE event_id = '00000000-0000-7000-8000-000000000001' AND seat = :id AND state IN ('available', 'held');
EOF
    sed 's/random(1, 10000)/random(1, 1)/' "$tmp/spread.sql" >"$tmp/hot.sql"
}

run_pgbench() { # $1 variant (spread|hot)
    local v=$1 out tps jobs=$((conns < 2 ? conns : 2))
    out=$(cd "$tmp" && PGOPTIONS='-c synchronous_commit=on' timeout $((secs + 60)) pgbench -n \
        -h 127.0.0.1 -p "$pg_port" -U boxoffice -M prepared -c "$conns" -j "$jobs" -T "$secs" \
        -f "$tmp/$v.sql" -r "$bench_db" 2>&1) || true
    printf '### pgbench -n -M prepared -c %s -j %s -T %s -f %s.sql (synchronous_commit=on)\n\n%s\n\n' \
        "$conns" "$jobs" "$secs" "$v" "$out" >>"$raw"
    tps=$(printf '%s\n' "$out" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p')
    [ -n "$tps" ] || bench_warn "pgbench $v failed: $(printf '%s' "$out" | tail -n 3)"
    lat=$(printf '%s\n' "$out" | sed -n 's/^latency average = \([0-9][0-9.]*\) ms.*/\1/p')
    jq -cn --arg v "$v" --argjson c "$conns" --argjson tps "${tps:-0}" --argjson lat "${lat:-0}" \
        '{name: ("pgbench hold, " + $v), variant: $v, clients: $c, tps: $tps, latency_avg_ms: $lat}'
}

pgb='[]'
if want pgbench; then
    [ -n "$pg_pid" ] || bench_die "no PostgreSQL listens on 127.0.0.1:$pg_port"
    pgbench_prepare
    bench_say "pgbench single-statement hold, spread, $conns clients, ${secs}s"
    s=$(run_pgbench spread)
    bench_say "pgbench single-statement hold, hot (one row), $conns clients, ${secs}s"
    h=$(run_pgbench hot)
    pgb=$(printf '%s\n%s\n' "$s" "$h" | jq -s '.')
    pg_admin -d "$bench_db" -c "DROP TABLE bench_seats"
fi

# ---- report ----
cat >"$tmp/doc.jq" <<'EOF'
def rate(n): ($gen.phases // [] | map(select(.name == n)) | first);
def tps(v): ($pg | map(select(.variant == v and .tps > 0)) | first | .tps);
def ratio(a; b): if a and b and b > 0 then (a / b * 100 | round / 100) else null end;
{benchmark: "hot-sale", stamp: $stamp, machine: $machine, command: $cmd,
 generator: $gen, pgbench: $pg,
 ratios: {
   hot_vs_spread_pipeline: ratio(rate("hot").decided_per_s; rate("spread").decided_per_s),
   hot_vs_spread_pgbench: ratio(tps("hot"); tps("spread")),
   pipeline_hot_vs_pgbench_spread: ratio(rate("hot").decided_per_s; tps("spread")),
   pipeline_hot_vs_pgbench_hot: ratio(rate("hot").decided_per_s; tps("hot")),
   pipeline_spread_vs_pgbench_spread: ratio(rate("spread").decided_per_s; tps("spread"))}}
EOF
cat >"$tmp/table.jq" <<'EOF'
def r1: . * 10 | round / 10;
"| run | rate /s | holds made /s | p50 ms | p95 ms | p99 ms | 201 | 409 | 202 | other |",
"|---|---|---|---|---|---|---|---|---|---|",
(.generator.phases // [] | .[] |
 "| pipeline \(.name) (\(.events) event(s)) | \(.decided_per_s | floor) | \(.holds_per_s | floor) | \(.latency_ms.p50 | r1) | \(.latency_ms.p95 | r1) | \(.latency_ms.p99 | r1) | \(.created) | \(.conflict) | \(.accepted) | \(.other) |"),
(.pgbench[] |
 "| \(.name), \(.clients) clients | \(.tps | floor) | \(.tps | floor) | avg \(.latency_avg_ms) | - | - | - | - | - | - |"),
"",
"- oversell count: \(.generator.oversell // "n/a") (unfinished requests: \(.generator.unfinished_requests // "n/a"))",
(.generator.phases // [] | .[] | select(.name == "waitroom") |
 "- waiting room: \(.joined) joined, \(.admitted) admitted at \(.server_admissions.per_minute // 0 | floor)/min by the gatekeeper's clock (configured \(.admit_per_minute_configured)/min, at most \(.server_admissions.max_per_second // 0) in one second), \(.still_waiting) still waiting when the inventory was held, oversell \(.oversell)"),
"- hot/spread: pipeline \(.ratios.hot_vs_spread_pipeline // "n/a"), pgbench \(.ratios.hot_vs_spread_pgbench // "n/a")",
"- pipeline/pgbench: hot vs pgbench spread \(.ratios.pipeline_hot_vs_pgbench_spread // "n/a"), hot vs pgbench hot \(.ratios.pipeline_hot_vs_pgbench_hot // "n/a"), spread vs pgbench spread \(.ratios.pipeline_spread_vs_pgbench_spread // "n/a")"
EOF
stamp=$(date +%Y-%m-%d-%H%M%S)
cmd="bash bench/hot-sale.sh -n $users -c $conns -d $duration${start_dir:+ --start $start_dir --workers $workers}"
doc=$(jq -n --arg stamp "$stamp" --arg machine "$machine" --argjson gen "$gen" --argjson pg "$pgb" \
    --arg cmd "$cmd" -f "$tmp/doc.jq")
table=$(printf '%s' "$doc" | jq -r -f "$tmp/table.jq")
mkdir -p "$BENCH_RESULTS"
printf '%s\n' "$doc" >"$BENCH_RESULTS/$stamp-hot-sale.json"
{
    printf '# bench/hot-sale.sh, %s\n\nMachine: %s. Load generator and servers share these cores.\n\n' \
        "$stamp" "$machine"
    printf 'Command: `%s`\n\n' "$(printf '%s' "$doc" | jq -r .command)"
    printf '%s\n\n' "$table"
    printf '"rate" counts decided holds (201 made + 409 refused), the work pgbench does per transaction; "holds made" only 201.\n\n'
    printf '## JSON\n\n```json\n%s\n```\n\n## Raw output\n\n%s\n' "$doc" "$(cat "$raw")"
} >"$BENCH_RESULTS/$stamp-hot-sale.md"
printf '%s\n' "$table"
bench_say "results: bench/results/$stamp-hot-sale.md"
oversell=$(printf '%s' "$doc" | jq -r '.generator.oversell // 0')
[ "$oversell" = 0 ] || bench_die "OVERSOLD: $oversell"
