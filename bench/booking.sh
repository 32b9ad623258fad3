#!/usr/bin/env bash
# booking.sh: booking confirmation latency under load. Simulated customers each hold two
# seats (or two GA units), check out, pay with the sandbox gateway's test card and read
# their tickets, all over HTTP through the whole product; the latency from POST /bookings
# to the tickets being readable is what the issue measures (spec: under 5 s; goal: p95
# under 1 s). In the same run pgbench measures, at the same concurrency, the latency of
# one synchronous single-row INSERT transaction on the same PostgreSQL: the floor any
# durable step costs here.
#   bash bench/booking.sh [-n CUSTOMERS] [-c CONNECTIONS] [-d PGBENCH_DURATION]
#                         [--provider stripe|razorpay]
#
# Loads the running system (bash deploy/run.sh with rate limits raised, as bench/README.md
# says) and mints tokens with its key (var/keys). Results: bench/results/<stamp>-booking.md
# and .json. Environment (options win): BENCH_USERS (1000), BENCH_CONNECTIONS (32),
# BENCH_DURATION (10s), BENCH_BASE_URL, BENCH_PG_PORT (15432), BENCH_KEYS.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

users=${BENCH_USERS:-1000}
conns=${BENCH_CONNECTIONS:-32}
duration=${BENCH_DURATION:-10s}
base=${BENCH_BASE_URL:-http://127.0.0.1:8080}
pg_port=${BENCH_PG_PORT:-15432}
keys=${BENCH_KEYS:-$BENCH_ROOT/var/keys}
provider=stripe
bench_db=bx_bench

usage() {
    sed -n '9,10p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    -n) users=${2:?}; shift 2 ;;
    -c) conns=${2:?}; shift 2 ;;
    -d) duration=${2:?}; shift 2 ;;
    --provider) provider=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) bench_warn "unknown argument $1"; usage ;;
    esac
done
secs=$(bench_seconds "$duration")
bench_is_uint "$users" || bench_die "customers must be a positive integer: $users"
bench_is_uint "$conns" || bench_die "connections must be a positive integer: $conns"
bench_need jq psql pgbench
gen_bin=$BENCH_ROOT/build/bin/bx-booking-bench
[ -x "$gen_bin" ] || bench_die "bx-booking-bench is not built (cmake --build build --target bx-booking-bench)"

mkdir -p "$BENCH_TMP_ROOT"
tmp=$(mktemp -d "$BENCH_TMP_ROOT/booking.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pg_admin() {
    PGCONNECT_TIMEOUT=10 PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t \
        -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U boxoffice "$@"
}
machine=$(bench_machine)
bench_say "machine: $machine"

# ---- 1. the booking path ----
bench_say "bx-booking-bench: $users customers, $conns at once, provider $provider"
"$gen_bin" --base "$base" --pg "host=127.0.0.1 port=$pg_port dbname=boxoffice user=boxoffice" \
    --keys "$keys" --users "$users" --connections "$conns" --provider "$provider" \
    >"$tmp/gen.json" 2>"$tmp/gen.err" || { cat "$tmp/gen.err" >&2; bench_die "bx-booking-bench failed"; }
cat "$tmp/gen.err" >&2

# ---- 2. pgbench: one durable single-row INSERT per transaction ----
[ "$(pg_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$bench_db'")" = 1 ] ||
    pg_admin -d postgres -c "CREATE DATABASE $bench_db"
pg_admin -d "$bench_db" -c "DROP TABLE IF EXISTS bench_booking" \
    -c "CREATE TABLE bench_booking (id uuid PRIMARY KEY, total bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())"
echo "INSERT INTO bench_booking (id, total) VALUES (gen_random_uuid(), 1000);" >"$tmp/insert.sql"
jobs=$((conns < 2 ? conns : 2))
pgb=$(PGOPTIONS='-c synchronous_commit=on' timeout $((secs + 60)) pgbench -n -h 127.0.0.1 \
    -p "$pg_port" -U boxoffice -M prepared -c "$conns" -j "$jobs" -T "$secs" -f "$tmp/insert.sql" \
    "$bench_db" 2>&1) || true
pg_admin -d "$bench_db" -c "DROP TABLE bench_booking"
tps=$(printf '%s\n' "$pgb" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p')
lat=$(printf '%s\n' "$pgb" | sed -n 's/^latency average = \([0-9][0-9.]*\) ms.*/\1/p')

# ---- report ----
stamp=$(date +%Y-%m-%d-%H%M%S)
doc=$(jq -n --arg stamp "$stamp" --arg machine "$machine" --slurpfile gen "$tmp/gen.json" \
    --arg cmd "bash bench/booking.sh -n $users -c $conns -d $duration --provider $provider" \
    --argjson tps "${tps:-0}" --argjson lat "${lat:-0}" --argjson c "$conns" \
    '{benchmark: "booking", stamp: $stamp, machine: $machine, command: $cmd,
      generator: $gen[0], pgbench: {clients: $c, tps: $tps, latency_avg_ms: $lat},
      ratios: {p50_vs_pgbench_latency: (if $lat > 0 then ($gen[0].latency.booking_to_tickets.p50_ms / $lat * 10 | round / 10) else null end)}}')
table=$(printf '%s' "$doc" | jq -r '
  def r0: . | round;
  "| step | n | p50 ms | p95 ms | p99 ms | max ms |", "|---|---|---|---|---|---|",
  (.generator.latency | to_entries[] |
   "| \(.key) | \(.value.n) | \(.value.p50_ms | r0) | \(.value.p95_ms | r0) | \(.value.p99_ms | r0) | \(.value.max_ms | r0) |"),
  "",
  "- confirmed bookings: \(.generator.confirmed) in \(.generator.secs * 10 | round / 10) s (\(.generator.confirmed_per_s * 10 | round / 10)/s); failures by step and status: \(.generator.failed | tojson)",
  "- pgbench single-row INSERT, \(.pgbench.clients) clients: \(.pgbench.tps | floor) tps, latency avg \(.pgbench.latency_avg_ms) ms; booking p50 / pgbench latency = \(.ratios.p50_vs_pgbench_latency // "n/a")"')
mkdir -p "$BENCH_RESULTS"
printf '%s\n' "$doc" >"$BENCH_RESULTS/$stamp-booking.json"
{
    printf '# bench/booking.sh, %s\n\nMachine: %s. Load generator and servers share these cores.\n\n' "$stamp" "$machine"
    printf 'Command: `%s`\n\n%s\n\n' "$(printf '%s' "$doc" | jq -r .command)" "$table"
    printf '"booking_to_tickets" runs from sending POST /bookings to the first 200 of GET /bookings/{id}/ticket.\n\n'
    printf '## JSON\n\n```json\n%s\n```\n\n## pgbench\n\n```\n%s\n```\n' "$doc" "$pgb"
} >"$BENCH_RESULTS/$stamp-booking.md"
printf '%s\n' "$table"
bench_say "results: bench/results/$stamp-booking.md"
