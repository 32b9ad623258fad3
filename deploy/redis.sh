#!/usr/bin/env bash
# redis.sh: a project-local Redis server.
#   redis.sh start|stop|status DIR PORT
#
# DIR holds redis.pid, redis.log and the append-only file (appendonly yes, fsync
# everysec). The server listens on 127.0.0.1:PORT only and runs daemonized. start is
# idempotent; stop signals the PID in DIR/redis.pid (SIGTERM: Redis flushes its AOF and
# exits) and waits for it.
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    echo "usage: $BX_ME start|stop|status DIR PORT" >&2
    exit 2
}
[ $# -eq 3 ] || usage
cmd=$1
dir=$(bx_abspath "$2")
port=$3
case $port in
'' | *[!0-9]*) bx_die "port must be a number: $port" ;;
esac
pidfile=$dir/redis.pid

redis_pid() {
    local pid
    pid=$(bx_pidfile_pid "$pidfile")
    if [ -n "$pid" ] && bx_pid_is "$pid" redis-server; then
        printf '%s\n' "$pid"
    fi
}

pong() {
    [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]
}

do_start() {
    command -v redis-server >/dev/null || bx_die "redis-server is not installed (run deploy/deps.sh)"
    mkdir -p "$dir"
    local pid
    pid=$(redis_pid)
    if [ -n "$pid" ]; then
        bx_say "Redis already running in $dir (pid $pid)"
        return 0
    fi
    bx_port_open "$port" && bx_die "port $port is already in use by another process"
    rm -f "$pidfile"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --pidfile "$pidfile" \
        --dir "$dir" --logfile "$dir/redis.log" --appendonly yes --appendfsync everysec \
        --save "" >/dev/null
    local i
    for ((i = 0; i < 100; i++)); do
        pid=$(redis_pid)
        if [ -n "$pid" ] && pong; then
            bx_say "Redis started on 127.0.0.1:$port (pid $pid)"
            return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$dir/redis.log" >&2 || true
    bx_die "Redis did not start: see $dir/redis.log"
}

do_stop() {
    local pid
    pid=$(redis_pid)
    if [ -z "$pid" ]; then
        bx_say "Redis in $dir is not running"
        rm -f "$pidfile"
        return 0
    fi
    kill -TERM "$pid"
    if ! bx_wait_gone "$pid" 30; then
        bx_warn "Redis (pid $pid) did not stop within 30s: sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        bx_wait_gone "$pid" 5 || bx_die "could not stop Redis (pid $pid)"
    fi
    rm -f "$pidfile"
    bx_say "stopped Redis (pid $pid)"
}

do_status() {
    local pid
    pid=$(redis_pid)
    if [ -n "$pid" ] && pong; then
        bx_say "Redis running in $dir on 127.0.0.1:$port (pid $pid)"
        return 0
    fi
    bx_say "Redis in $dir is not running"
    return 3
}

case $cmd in
start) do_start ;;
stop) do_stop ;;
status) do_status ;;
*) usage ;;
esac
