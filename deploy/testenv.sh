#!/usr/bin/env bash
# testenv.sh: the PostgreSQL and Redis the test suite runs against (ctest fixture).
#   testenv.sh start|stop [DIR]        DIR defaults to $BX_TESTENV_DIR
#
# Ports: $BX_TEST_PG_PORT (default 25432) and $BX_TEST_REDIS_PORT (default 26379).
# start: when a healthy server already answers on a port (a developer's own, say), it is
# reused and left alone; otherwise one is started in DIR/pg or DIR/redis and the marker
# DIR/pg.ours or DIR/redis.ours records that this script owns it. stop stops only the
# servers this script started. Healthy PostgreSQL means: role boxoffice can log in to
# database postgres and may create databases (each integration suite makes its own).
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    echo "usage: $BX_ME start|stop [DIR]   (or set BX_TESTENV_DIR)" >&2
    exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
cmd=$1
dir=${2:-${BX_TESTENV_DIR:-}}
[ -n "$dir" ] || usage
dir=$(bx_abspath "$dir")
pg_port=${BX_TEST_PG_PORT:-25432}
redis_port=${BX_TEST_REDIS_PORT:-26379}
here=$(dirname "${BASH_SOURCE[0]}")

pg_healthy() {
    local ok
    ok=$(PGCONNECT_TIMEOUT=5 psql -X -A -t -h 127.0.0.1 -p "$pg_port" -U boxoffice -d postgres \
        -c "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user" \
        2>/dev/null) || return 1
    [ "$ok" = t ]
}

redis_healthy() {
    [ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" = PONG ]
}

start_pg() {
    if [ -f "$dir/pg.ours" ]; then
        bash "$here/pg.sh" start "$dir/pg" "$pg_port"
    elif pg_healthy; then
        bx_say "reusing the PostgreSQL already serving 127.0.0.1:$pg_port (left running)"
    elif bx_port_open "$pg_port"; then
        bx_die "port $pg_port is taken by something that is not a usable PostgreSQL (need role boxoffice with CREATEDB)"
    else
        touch "$dir/pg.ours"
        bash "$here/pg.sh" start "$dir/pg" "$pg_port"
    fi
}

start_redis() {
    if [ -f "$dir/redis.ours" ]; then
        bash "$here/redis.sh" start "$dir/redis" "$redis_port"
    elif redis_healthy; then
        bx_say "reusing the Redis already serving 127.0.0.1:$redis_port (left running)"
    elif bx_port_open "$redis_port"; then
        bx_die "port $redis_port is taken by something that is not Redis"
    else
        touch "$dir/redis.ours"
        bash "$here/redis.sh" start "$dir/redis" "$redis_port"
    fi
}

do_stop() {
    local rc=0
    if [ -f "$dir/pg.ours" ]; then
        bash "$here/pg.sh" stop "$dir/pg" "$pg_port" || rc=1
        rm -f "$dir/pg.ours"
    else
        bx_say "PostgreSQL on $pg_port was not started here: left running"
    fi
    if [ -f "$dir/redis.ours" ]; then
        bash "$here/redis.sh" stop "$dir/redis" "$redis_port" || rc=1
        rm -f "$dir/redis.ours"
    else
        bx_say "Redis on $redis_port was not started here: left running"
    fi
    return $rc
}

case $cmd in
start)
    mkdir -p "$dir"
    start_pg
    start_redis
    ;;
stop) do_stop ;;
*) usage ;;
esac
