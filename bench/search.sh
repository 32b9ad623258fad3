#!/usr/bin/env bash
# search.sh: event search latency over a large catalog, and the event read against nginx
# static in the same run.
#   search.sh [-d DURATION] [-c CONNECTIONS[,...]] [-t THREADS] [-n EVENTS] [-P PG_PORT]
#             [-p NGINX_PORT] [-f FRONTDOOR_PORT] [--reuse] [--keep] [--no-facet-cache]
#
# 0. PostgreSQL: with -P, the server at 127.0.0.1:PG_PORT (role boxoffice). Without it, a
#    private cluster of its own (deploy/pg.sh in var/bench-search-pg, port 26060,
#    shared_buffers 512MB), so that the index competes for no buffer cache with other
#    databases; stopped at the end (kept with --keep, and reused by the next run).
# 1. Builds a bench catalog in its own database bx_bench_search on that PostgreSQL:
#    migrated by bxctl, then EVENTS events (100,000 by default) made by
#    bench/search-data.sql (41 cities on five continents, 492 venues, every event type,
#    tiers, sales, drafts and cancellations), indexed with bx_search_refresh (the function
#    bx-worker-index calls per event) in batches, vacuumed and analyzed. --reuse keeps a
#    database that already holds EVENTS events.
# 2. Starts its own bx-frontdoor on FRONTDOOR_PORT (8181) over that database, with the rate
#    limits RAISED through the environment (BOXOFFICE_RL_READ_PER_MIN and
#    BOXOFFICE_RL_IP_PER_MIN = 100000000) so that the run measures searches, not 429s.
#    Facet counts are reused for 2 s as in production (search_facet_cache_ms);
#    --no-facet-cache sets it to 0, so that every first page counts its facets.
# 3. Picks a published upcoming event, reads GET /api/v1/events/{id} once anonymously (the
#    public, revalidated read path: Cache-Control public, ETag), and starts nginx on
#    NGINX_PORT (8182) serving that very answer as a static file of the same size; runs wrk
#    against nginx, then against the event read (200) and its revalidation (If-None-Match
#    with the current ETag: 304) at the highest -c, and prints each rate as a ratio to nginx.
# 4. Runs wrk with bench/lua/search.lua rotating the realistic queries below (text with and
#    without typos, filters, geo, dates, prices, every sort, second pages by cursor, and a
#    few unfiltered browses), then each query alone, unloaded, to show which kinds cost what.
#    With several -c values (-c 1,2,4,8) the search runs once at each concurrency.
# 5. Prints req/s and p50/p95/p99 of all (goal: search p95 < 50 ms; the spec allows 1 s),
#    and writes bench/results/<stamp>-search.md and .json. Stops what it started; --keep
#    leaves the database for the next --reuse.
#
# Needs: wrk, nginx, psql, curl, jq, and the built binaries in BX_BUILD (default build/);
# the private cluster needs root (deploy/pg.sh runs PostgreSQL as the postgres user).
# Environment (options win): BENCH_DURATION (20s), BENCH_CONNECTIONS (8), BENCH_THREADS
# (2), BENCH_EVENTS (100000), BENCH_PG_PORT (private cluster), BENCH_REDIS_PORT (16379),
# BENCH_NGINX_PORT (8182), BENCH_SEARCH_PORT (8181), BENCH_TIMEOUT (5s), BX_BUILD.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

duration=${BENCH_DURATION:-20s}
conns=${BENCH_CONNECTIONS:-8}
threads=${BENCH_THREADS:-2}
events=${BENCH_EVENTS:-100000}
pg_port=${BENCH_PG_PORT:-}
private_port=26060
private_dir=$BENCH_ROOT/var/bench-search-pg
redis_port=${BENCH_REDIS_PORT:-16379}
nginx_port=${BENCH_NGINX_PORT:-8182}
fd_port=${BENCH_SEARCH_PORT:-8181}
timeout=${BENCH_TIMEOUT:-5s}
build=${BX_BUILD:-$BENCH_ROOT/build}
reuse=0
keep=0
facet_ms=2000
db=bx_bench_search

usage() {
    sed -n '2,3p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    -d) duration=${2:?}; shift 2 ;;
    -c) conns=${2:?}; shift 2 ;;
    -t) threads=${2:?}; shift 2 ;;
    -n) events=${2:?}; shift 2 ;;
    -P) pg_port=${2:?}; shift 2 ;;
    -p) nginx_port=${2:?}; shift 2 ;;
    -f) fd_port=${2:?}; shift 2 ;;
    --reuse) reuse=1; shift ;;
    --keep) keep=1; shift ;;
    --no-facet-cache) facet_ms=0; shift ;;
    -h | --help) usage ;;
    *) bench_warn "unknown argument $1"; usage ;;
    esac
done
for v in threads events nginx_port fd_port; do
    bench_is_uint "${!v}" || bench_die "$v must be a positive integer: ${!v}"
done
IFS=, read -r -a conn_list <<<"$conns"
max_conns=0
for c in "${conn_list[@]}"; do
    bench_is_uint "$c" || bench_die "connections must be positive integers: $conns"
    [ "$c" -gt "$max_conns" ] && max_conns=$c
done
bench_is_uint "$(bench_seconds "$duration")" || bench_die "bad duration: $duration"
[ "$events" -le 1000000 ] || bench_die "at most 1000000 events"

bench_need wrk nginx psql curl jq awk
for b in bxctl bx-frontdoor; do
    [ -x "$build/bin/$b" ] || bench_die "$build/bin/$b is not built (set BX_BUILD)"
done

private=0
if [ -z "$pg_port" ]; then
    private=1
    pg_port=$private_port
fi
bench_is_uint "$pg_port" || bench_die "PG_PORT must be a positive integer: $pg_port"
psql_db() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U boxoffice "$@"; }

# The private cluster: deploy/pg.sh, then shared_buffers raised (ALTER SYSTEM, which
# overrides the boxoffice.conf pg.sh writes) and a restart.
start_private_pg() {
    local pgsh=$BENCH_ROOT/deploy/pg.sh
    bash "$pgsh" start "$private_dir" "$private_port" >/dev/null ||
        bench_die "deploy/pg.sh could not start the private cluster in $private_dir"
    if [ "$(psql -X -A -t -h 127.0.0.1 -p "$private_port" -U postgres -d postgres \
        -c 'SHOW shared_buffers')" != 512MB ]; then
        psql -X -q -h 127.0.0.1 -p "$private_port" -U postgres -d postgres \
            -c "ALTER SYSTEM SET shared_buffers = '512MB'" >/dev/null
        bash "$pgsh" stop "$private_dir" "$private_port" >/dev/null
        bash "$pgsh" start "$private_dir" "$private_port" >/dev/null ||
            bench_die "the private cluster did not restart"
    fi
    bench_say "private PostgreSQL on 127.0.0.1:$private_port ($private_dir, shared_buffers 512MB)"
}
if [ "$private" = 1 ]; then
    start_private_pg
fi
psql_db -d postgres -c 'SELECT 1' >/dev/null 2>&1 ||
    bench_die "no PostgreSQL at 127.0.0.1:$pg_port (user boxoffice): start it or pass -P"
for p in "$nginx_port" "$fd_port"; do
    bench_port_open "$p" && bench_die "port $p is in use: pick others with -p / -f"
done

mkdir -p "$BENCH_TMP_ROOT" "$BENCH_RESULTS"
tmp=$(mktemp -d "$BENCH_TMP_ROOT/search.XXXXXX")
chmod 0755 "$tmp"
raw=$tmp/raw.txt
: >"$raw"
ngx_pid=
fd_pid=

stop_pid() {
    local pid=$1 sig=$2 i
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    stop_pid "$ngx_pid" QUIT
    stop_pid "$fd_pid" TERM
    if [ "$keep" = 0 ]; then
        psql_db -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    fi
    if [ "$private" = 1 ] && [ "$keep" = 0 ]; then
        bash "$BENCH_ROOT/deploy/pg.sh" stop "$private_dir" "$private_port" >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_check_idle
machine=$(bench_machine)
bench_say "machine: $machine"
dsn="host=127.0.0.1 port=$pg_port user=boxoffice dbname=$db"

# ---- 1. the catalog ----
have=$(psql_db -d "$db" -A -t -c 'SELECT count(*) FROM event_search' 2>/dev/null || echo 0)
if [ "$reuse" = 1 ] && [ "$have" = "$events" ]; then
    bench_say "reusing $db with $have indexed events"
    # migrations added since it was made (the frontdoor prepares queries over every table)
    BOXOFFICE_PG_DSN=$dsn "$build/bin/bxctl" migrate >"$tmp/migrate.log" 2>&1 ||
        bench_die "bxctl migrate failed: $(tail -n 3 "$tmp/migrate.log")"
    gen_s=null
    index_s=null
else
    bench_say "creating $db with $events events (generator: bench/search-data.sql)"
    psql_db -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    BOXOFFICE_PG_DSN=$dsn "$build/bin/bxctl" migrate >"$tmp/migrate.log" 2>&1 ||
        bench_die "bxctl migrate failed: $(tail -n 3 "$tmp/migrate.log")"
    t0=$(date +%s.%N)
    psql_db -d "$db" -v events="$events" -f "$BENCH_DIR/search-data.sql" >/dev/null
    t1=$(date +%s.%N)
    # The index, as bx-worker-index writes it, in batches of 10,000 events.
    psql_db -d "$db" -c "DO \$\$ DECLARE b UUID[]; BEGIN
        FOR b IN SELECT array_agg(id) FROM (SELECT id, row_number() OVER (ORDER BY id) AS r
                                            FROM events) x GROUP BY r / 10000 LOOP
            PERFORM bx_search_refresh(b);
        END LOOP; END \$\$" >/dev/null
    t2=$(date +%s.%N)
    psql_db -d "$db" -c 'VACUUM ANALYZE' >/dev/null
    gen_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    index_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')
    bench_say "generated in ${gen_s}s, indexed in ${index_s}s"
fi
counts=$(psql_db -d "$db" -A -t -F ' ' -c "SELECT count(*), count(*) FILTER (WHERE visible),
    (SELECT count(*) FROM search_terms), pg_size_pretty(pg_total_relation_size('event_search'))
    FROM event_search")
read -r n_events n_visible n_terms idx_size idx_unit <<<"$counts"
bench_say "index: $n_events documents ($n_visible public), $n_terms terms, $idx_size $idx_unit"

# ---- 2. the frontdoor ----
mkdir -p "$tmp/keys"
BOXOFFICE_JWT_KEY_DIR=$tmp/keys "$build/bin/bxctl" keygen >/dev/null
BOXOFFICE_PG_DSN=$dsn BOXOFFICE_HTTP_PORT=$fd_port BOXOFFICE_REDIS_PORT=$redis_port \
    BOXOFFICE_BROKER_ENDPOINT=tcp://127.0.0.1:9 BOXOFFICE_JWT_KEY_DIR=$tmp/keys \
    BOXOFFICE_RL_READ_PER_MIN=100000000 BOXOFFICE_RL_IP_PER_MIN=100000000 \
    BOXOFFICE_SEARCH_FACET_CACHE_MS=$facet_ms BOXOFFICE_LOG_LEVEL=warn \
    "$build/bin/bx-frontdoor" >"$tmp/frontdoor.log" 2>&1 &
fd_pid=$!
for ((i = 0; i < 100; i++)); do
    bench_port_open "$fd_port" && break
    kill -0 "$fd_pid" 2>/dev/null || bench_die "bx-frontdoor exited: $(tail -n 5 "$tmp/frontdoor.log")"
    sleep 0.1
done
base=http://127.0.0.1:$fd_port
bench_say "bx-frontdoor on $base (pid $fd_pid) over $db, rate limits raised by environment, facet cache ${facet_ms} ms"

# ---- the queries: what people type and click ----
d0=$(date -u +%Y-%m-%d)
sat=$(date -u -d "$d0 +$(((6 - $(date -u +%u) + 7) % 7 + 7)) days" +%Y-%m-%d)
sun=$(date -u -d "$sat +1 day" +%Y-%m-%d)
m1=$(date -u -d "$d0 +30 days" +%Y-%m-%d)
m3=$(date -u -d "$d0 +90 days" +%Y-%m-%d)
s=/api/v1/events/search
cat >"$tmp/queries.txt" <<EOF
text	$s?q=jazz
text	$s?q=rolling
text	$s?q=hamlet
text	$s?q=swan%20lake
text	$s?q=football
text	$s?q=machine%20learning
text	$s?q=wolves%20live
text	$s?q=golden%20harbor
text	$s?q=midnight%20kings
text	$s?q=techno%20berlin
text	$s?q=mamma%20mia
text	$s?q=summit%202027
text	$s?q=lion%20king%20london
text	$s?q=silent%20ghosts%20tour
typo	$s?q=konsert
typo	$s?q=hamlte
typo	$s?q=wolfs
typo	$s?q=nutcraker
typo	$s?q=jaz%20wien
typo	$s?q=basketbal
text+filter	$s?q=rock&city=London
text+filter	$s?q=concert&near=48.857,2.352&radius_km=20
text+filter	$s?q=summit&from=$d0&to=$m3&type=conference
text+filter	$s?q=live&available=true&sort=date
text+filter	$s?q=opera&price_max=6000&currency=EUR
text+filter	$s?q=drama&city=Tokyo&sort=popularity
browse	$s?city=Berlin
browse	$s?city=Tokyo&type=movie
browse	$s?city=S%C3%A3o%20Paulo&type=concert,sports
browse	$s?near=40.713,-74.006&radius_km=15&sort=distance
browse	$s?near=51.507,-0.128&radius_km=30&type=theater
browse	$s?type=concert&from=$sat&to=$sun
browse	$s?price_max=3000&currency=EUR&type=theater
browse	$s?sort=popularity&type=sports
browse	$s?from=$sat&to=$sat
browse	$s?city=Paris&available=true&from=$d0&to=$m1
browse	$s?type=conference&sort=popularity&limit=50
broad	$s?sort=date
broad	$s?sort=popularity
EOF
# Second pages: the links.next of some of the queries above.
for q in "$s?q=jazz" "$s?city=Berlin" "$s?near=40.713,-74.006&radius_km=15&sort=distance" \
    "$s?sort=popularity&type=sports" "$s?q=konsert"; do
    next=$(curl -s -m 10 "$base$q" | jq -r '.links.next // empty')
    [ -n "$next" ] && printf 'page 2\t%s\n' "$next" >>"$tmp/queries.txt"
done
cut -f2 "$tmp/queries.txt" >"$tmp/paths.txt"
bench_say "$(wc -l <"$tmp/paths.txt") queries; checking each answers 200"
while IFS=$'\t' read -r kind path; do
    code=$(curl -s -m 10 -o "$tmp/body" -w '%{http_code}' "$base$path") || code=000
    [ "$code" = 200 ] || bench_die "$path answered $code: $(head -c 300 "$tmp/body")"
done <"$tmp/queries.txt"

# ---- the event read: one published upcoming event, read as an anonymous customer ----
ev_id=$(psql_db -d "$db" -A -t -c "SELECT id FROM events WHERE status IN ('published', 'on_sale')
    AND starts_at > now() ORDER BY id LIMIT 1")
[ -n "$ev_id" ] || bench_die "no published upcoming event in $db"
ev_path=/api/v1/events/$ev_id
code=$(curl -s -m 10 -H 'Accept: application/json' -D "$tmp/event.hdr" -o "$tmp/event.json" \
    -w '%{http_code}' "$base$ev_path") || code=000
[ "$code" = 200 ] || bench_die "$ev_path answered $code: $(head -c 300 "$tmp/event.json")"
ev_bytes=$(wc -c <"$tmp/event.json")
ev_etag=$(bench_header "$tmp/event.hdr" ETag)
[ -n "$ev_etag" ] || bench_die "$ev_path has no ETag"
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "If-None-Match: $ev_etag" "$base$ev_path") || true
[ "$code" = 304 ] || bench_die "$ev_path with If-None-Match of its ETag answered $code, not 304"
echo "$ev_path" >"$tmp/event.txt"
bench_say "event read: $ev_path, $ev_bytes bytes, Cache-Control: $(bench_header "$tmp/event.hdr" Cache-Control)"

# ---- wrk ----
run_wrk() { # NAME URL PATHSFILE CONNECTIONS SPEC...
    local name=$1 url=$2 paths=$3 c=$4 th snap0 snap1 t0 t1 secs out json wrk_cpu cpu
    shift 4
    th=$((c < threads ? c : threads))
    snap0=$(mktemp "$tmp/snap.XXXXXX")
    snap1=$(mktemp "$tmp/snap.XXXXXX")
    bench_cpu_snap "$@" >"$snap0"
    t0=$(date +%s.%N)
    out=$( { TIMEFORMAT='%U %S'; time BENCH_PATHS=$paths BENCH_INM=${BENCH_INM:-} wrk -t"$th" -c"$c" \
        -d"$duration" --timeout "$timeout" --latency -s "$BENCH_DIR/lua/search.lua" "$url" 2>&1; } \
        2>"$tmp/time") || true
    t1=$(date +%s.%N)
    bench_cpu_snap "$@" >"$snap1"
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    cpu=$(bench_cpu_delta "$snap0" "$snap1" "$secs")
    wrk_cpu=$(awk -v s="$secs" '{ printf "%d", ($1 + $2) / s * 100 + 0.5 }' "$tmp/time")
    printf '### %s: wrk -t%s -c%s -d%s --timeout %s --latency -s bench/lua/search.lua %s\n\n%s\n\n' \
        "$name" "$th" "$c" "$duration" "$timeout" "$url" "$out" >>"$raw"
    json=$(printf '%s\n' "$out" | sed -n 's/^BENCH_JSON //p' | tail -n 1)
    [ -n "$json" ] || bench_die "wrk against $url produced no summary: $(printf '%s' "$out" | tail -n 3)"
    printf '%s\n' "$json" | jq -c --arg name "$name" --argjson cpu "$cpu" --argjson w "$wrk_cpu" \
        --argjson c "$c" '{name: $name, connections: $c} + . + {cpu_pct: $cpu, wrk_cpu_pct: $w}'
}

start_nginx() {
    mkdir -p "$tmp/www" "$tmp/nginx"
    chmod 0755 "$tmp/www"
    cp "$tmp/event.json" "$tmp/www/static.json" # the event's answer: the same bytes
    chmod 0644 "$tmp/www/static.json"
    cat >"$tmp/nginx.conf" <<EOF
# generated by bench/search.sh: a plain static-file server, the reference rate
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    default_type application/json;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server { listen 127.0.0.1:$nginx_port; root $tmp/www; location / { } }
}
EOF
    nginx -c "$tmp/nginx.conf" -g 'daemon off;' >"$tmp/nginx/stdout.log" 2>&1 &
    ngx_pid=$!
    for ((i = 0; i < 50; i++)); do
        bench_port_open "$nginx_port" && return 0
        kill -0 "$ngx_pid" 2>/dev/null || bench_die "nginx exited: $(cat "$tmp/nginx/"*.log)"
        sleep 0.1
    done
    bench_die "nginx did not listen on $nginx_port"
}

results=()
start_nginx
echo /static.json >"$tmp/static.txt"
bench_say "wrk against nginx static ($duration, $max_conns connections)"
results+=("$(run_wrk "nginx static $ev_bytes B" "http://127.0.0.1:$nginx_port" "$tmp/static.txt" \
    "$max_conns" "nginx:tree:$ngx_pid")")
stop_pid "$ngx_pid" QUIT
ngx_pid=
sleep 2
pg_pid=$(bench_listener_pid "$pg_port")
specs=("frontdoor:pid:$fd_pid" "postgres:tree:$pg_pid" "redis:pid:$(bench_listener_pid "$redis_port")")
bench_say "wrk against $base$ev_path ($duration, $max_conns connections), then with If-None-Match"
results+=("$(run_wrk "event read 200, $max_conns connections" "$base" "$tmp/event.txt" \
    "$max_conns" "${specs[@]}")")
sleep 2
results+=("$(BENCH_INM=$ev_etag run_wrk "event revalidation 304, $max_conns connections" "$base" \
    "$tmp/event.txt" "$max_conns" "${specs[@]}")")
sleep 2
for c in "${conn_list[@]}"; do
    bench_say "wrk against $base$s rotating $(wc -l <"$tmp/paths.txt") queries ($duration, $c connections)"
    results+=("$(run_wrk "search mix, $c connections" "$base" "$tmp/paths.txt" "$c" "${specs[@]}")")
    sleep 2
done

# ---- each query alone, unloaded: median and worst of 15 ----
bench_say "each query alone, unloaded (15 runs each)"
per_query=$(while IFS=$'\t' read -r kind path; do
    for ((i = 0; i < 15; i++)); do
        curl -s -m 10 -o /dev/null -w '%{time_total}\n' "$base$path"
    done | sort -n | awk -v k="$kind" -v p="$path" '{ t[NR] = $1 * 1000 }
        END { printf "{\"kind\":\"%s\",\"path\":\"%s\",\"p50_ms\":%.2f,\"max_ms\":%.2f}\n", k, p, t[8], t[NR] }'
done <"$tmp/queries.txt" | jq -s '.')

# ---- report ----
all=$(printf '%s\n' "${results[@]}" | jq -s '.')
nginx_rps=$(printf '%s' "$all" | jq '.[0].rps')
all=$(printf '%s' "$all" | jq --argjson n "$nginx_rps" \
    'map(. + {ratio_to_nginx: (if $n > 0 then (.rps / $n * 1000 | round / 1000) else null end)})')
stamp=$(date +%Y-%m-%d-%H%M%S)
doc=$(jq -n --argjson runs "$all" --argjson per "$per_query" --arg machine "$machine" \
    --arg stamp "$stamp" --arg duration "$duration" --arg conns "$conns" \
    --argjson threads "$threads" --argjson events "$n_events" --argjson visible "$n_visible" \
    --argjson terms "$n_terms" --arg size "$idx_size $idx_unit" --argjson gen "$gen_s" \
    --argjson idx "$index_s" --argjson facet_ms "$facet_ms" \
    --arg ev_path "$ev_path" --argjson ev_bytes "$ev_bytes" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    '{benchmark: "search", stamp: $stamp, machine: $machine, duration: $duration,
      connections: $conns, threads: $threads, events: $events, public_events: $visible,
      vocabulary_terms: $terms, event_search_size: $size, generate_s: $gen, index_s: $idx,
      search_facet_cache_ms: $facet_ms, event_read: {path: $ev_path, bytes: $ev_bytes},
      load_average_at_end: $load,
      rate_limits: "raised by environment: BOXOFFICE_RL_READ_PER_MIN=BOXOFFICE_RL_IP_PER_MIN=100000000",
      runs: $runs, per_query_unloaded: $per}')
table() {
    printf '%s' "$all" | jq -r "$JQ_F2"' .[] | [ .name, (.rps | round | tostring),
        (.latency_us.p50 / 1000 | f2), (.latency_us.p95 / 1000 | f2), (.latency_us.p99 / 1000 | f2),
        (.latency_us.max / 1000 | f2), (.ratio_to_nginx | f2),
        (.statuses | to_entries | map(select(.key != "200" and .key != "304")) | map(.value) | add // 0 | tostring),
        (((.errors.connect) + (.errors.read) + (.errors.write) + (.errors.timeout)) | tostring),
        ((.cpu_pct | to_entries | map("\(.key) \(.value)%") | join(", ")) + ", wrk \(.wrk_cpu_pct)%") ] | @tsv'
}
kinds() {
    printf '%s' "$per_query" | jq -r "$JQ_F2"' group_by(.kind)[] |
        [ .[0].kind, (length | tostring), (map(.p50_ms) | sort | .[length / 2 | floor] | f2),
          (map(.p50_ms) | max | f2), (map(.max_ms) | max | f2) ] | @tsv'
}
header=$'run\treq/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\tvs nginx\tnon-2xx/304\tsocket errors\tCPU (% of one core)'
kheader=$'kind\tqueries\tmedian of p50 ms\tworst p50 ms\tworst single ms'
{
    printf '%s\n' "$header"
    table
} | column -t -s $'\t'
echo
{
    printf '%s\n' "$kheader"
    kinds
} | column -t -s $'\t'
printf '%s' "$all" | jq -r '.[] | select(.name | startswith("search")) | "\(.connections) \(.latency_us.p95 / 1000)"' |
    while read -r c p95; do
        if awk -v p="$p95" 'BEGIN { exit !(p < 50) }'; then
            bench_say "search p95 at $c connections: ${p95} ms, within the 50 ms goal"
        else
            bench_warn "search p95 at $c connections: ${p95} ms, above the 50 ms goal (the spec allows 1 s)"
        fi
    done
md=$BENCH_RESULTS/$stamp-search.md
printf '%s\n' "$doc" >"$BENCH_RESULTS/$stamp-search.json"
# shellcheck disable=SC2016 # the backquotes are markdown
{
    printf '# bench/search.sh, %s\n\n' "$stamp"
    printf 'Machine: %s. Load generator (wrk), frontdoor, PostgreSQL and nginx share these cores.\n\n' "$machine"
    printf 'Load average at the end: %s.\n\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf 'Event read: `GET %s` anonymous (%s bytes); nginx serves the same bytes as a static file.\n\n' \
        "$ev_path" "$ev_bytes"
    printf 'Command: `bash bench/search.sh -d %s -c %s -t %s -n %s%s%s`\n\n' \
        "$duration" "$conns" "$threads" "$events" "$([ "$private" = 1 ] || printf ' -P %s' "$pg_port")" \
        "$([ "$facet_ms" = 0 ] && printf ' --no-facet-cache')"
    printf 'Facet counts reused for %s ms (search_facet_cache_ms).\n\n' "$facet_ms"
    if [ "$private" = 1 ]; then
        printf 'PostgreSQL: a private cluster (deploy/pg.sh, shared_buffers 512MB) on port %s.\n\n' "$pg_port"
    else
        printf 'PostgreSQL: the server on port %s (shared with whatever else it serves).\n\n' "$pg_port"
    fi
    printf 'Catalog: %s events (%s public), %s vocabulary terms, event_search %s %s; ' \
        "$n_events" "$n_visible" "$n_terms" "$idx_size" "$idx_unit"
    printf 'generated in %s s, indexed in %s s. Rate limits raised by environment ' "$gen_s" "$index_s"
    printf '(BOXOFFICE_RL_READ_PER_MIN and BOXOFFICE_RL_IP_PER_MIN = 100000000).\n\n'
    printf '| %s |\n' "${header//$'\t'/ | }"
    printf '|%s\n' "$(printf '%s' "$header" | tr -cd '\t' | sed 's/\t/---|/g')---|"
    table | sed 's/\t/ | /g; s/^/| /; s/$/ |/'
    printf '\nEach query alone, unloaded (curl, 15 runs each):\n\n'
    printf '| %s |\n' "${kheader//$'\t'/ | }"
    printf '|%s\n' "$(printf '%s' "$kheader" | tr -cd '\t' | sed 's/\t/---|/g')---|"
    kinds | sed 's/\t/ | /g; s/^/| /; s/$/ |/'
    printf '\n## The queries\n\n```\n%s\n```\n' "$(cat "$tmp/queries.txt")"
    printf '\n## JSON\n\n```json\n%s\n```\n\n## Raw wrk output\n\n```\n%s\n```\n' "$doc" "$(cat "$raw")"
} >"$md"
bench_say "results: ${md#"$BENCH_ROOT"/} and $(basename "${md%.md}").json"
