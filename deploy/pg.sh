#!/usr/bin/env bash
# pg.sh: a project-local PostgreSQL 15 cluster, run by the postgres system user.
#   pg.sh start|stop|status DIR PORT
#
# DIR holds everything of the cluster: data/ (PGDATA), log/postgresql.log, and the Unix
# socket. The server listens on 127.0.0.1:PORT only, with synchronous_commit=on (an
# acknowledged commit survives a crash) and max_connections=300.
#
# Authentication: initdb is run with trust for local and loopback connections. That is
# acceptable only because this is a development and test cluster that listens on
# 127.0.0.1 alone; a production cluster uses scram-sha-256 and its own pg_hba.conf.
#
# start is idempotent: it initializes the cluster when DIR has none, starts it when it is
# not running, and creates the role and database "boxoffice" (role: LOGIN CREATEDB, not a
# superuser) when they are missing. stop stops the postmaster whose PID is in
# data/postmaster.pid with "pg_ctl stop -m fast".
#
# PostgreSQL refuses to run as root, and the postgres user must be able to reach DIR. When
# DIR lies below a folder postgres cannot enter (a clone in /root, say), the cluster is
# placed in /var/lib/boxoffice/pg-<hash> and DIR becomes a symbolic link to it.
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

as_pg() { runuser -u postgres -- "$@"; }

# Superuser SQL over loopback TCP (trust); prints the rows unaligned.
psql_admin() {
    PGCONNECT_TIMEOUT=10 psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" \
        -U postgres -d postgres -c "$1"
}

ensure_user() {
    id -u postgres >/dev/null 2>&1 && return 0
    bx_say "creating the postgres system user"
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
}

# Sets $real to the directory that really holds the cluster, creating it (owned by
# postgres, mode 0700) when asked with $1 = create.
resolve_dir() {
    if [ -L "$dir" ]; then
        real=$(readlink -f "$dir")
    elif [ -d "$dir" ] || [ "${1:-}" != create ]; then
        real=$dir
    else
        mkdir -p "$(dirname "$dir")"
        if as_pg test -x "$(dirname "$dir")"; then
            real=$dir
        else
            real=/var/lib/boxoffice/pg-$(printf '%s' "$dir" | sha256sum | cut -c1-12)
            bx_warn "postgres cannot enter $(dirname "$dir"): cluster lives in $real, linked from $dir"
            mkdir -p "$real"
            ln -sfn "$real" "$dir"
        fi
    fi
    if [ "${1:-}" = create ]; then
        mkdir -p "$real/data" "$real/log"
        chown postgres:postgres "$real" "$real/data" "$real/log"
        chmod 0700 "$real" "$real/data"
    fi
    data=$real/data
    # A Unix socket path is limited to 107 bytes; fall back to a short folder in /tmp.
    sockdir=$real
    if [ $((${#real} + 16)) -gt 100 ]; then
        sockdir=/tmp/bx-pg-$(printf '%s' "$real" | sha256sum | cut -c1-12)
    fi
}

# Writes the settings the project relies on into data/boxoffice.conf, which
# postgresql.conf includes; rewritten on every start so PORT may change between runs.
write_conf() {
    local q="'"
    grep -q "^include_if_exists = 'boxoffice.conf'" "$data/postgresql.conf" ||
        echo "include_if_exists = 'boxoffice.conf'" >>"$data/postgresql.conf"
    mkdir -p "$sockdir"
    chown postgres:postgres "$sockdir"
    cat >"$data/boxoffice.conf" <<EOF
# written by deploy/pg.sh on every start: edits here are lost
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '${sockdir//$q/$q$q}'
synchronous_commit = on
fsync = on
max_connections = 300
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
EOF
    chown postgres:postgres "$data/boxoffice.conf"
}

pg_running() {
    [ -f "$data/PG_VERSION" ] && as_pg "$BX_PGBIN/pg_ctl" status -D "$data" >/dev/null 2>&1
}

ensure_role_db() {
    if [ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname = 'boxoffice'")" != 1 ]; then
        psql_admin "CREATE ROLE boxoffice LOGIN CREATEDB"
        bx_say "created role boxoffice"
    fi
    if [ "$(psql_admin "SELECT 1 FROM pg_database WHERE datname = 'boxoffice'")" != 1 ]; then
        psql_admin "CREATE DATABASE boxoffice OWNER boxoffice"
        bx_say "created database boxoffice"
    fi
}

do_start() {
    bx_need_root
    [ -x "$BX_PGBIN/postgres" ] || bx_die "PostgreSQL 15 is not installed (run deploy/deps.sh)"
    ensure_user
    resolve_dir create
    if [ ! -f "$data/PG_VERSION" ]; then
        bx_say "initializing a cluster in $data"
        as_pg "$BX_PGBIN/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=trust \
            --encoding=UTF8 --locale=C.UTF-8 --no-instructions >"$real/log/initdb.log" 2>&1 ||
            bx_die "initdb failed: see $real/log/initdb.log"
    fi
    if pg_running; then
        bx_say "PostgreSQL already running in $dir"
    else
        if bx_port_open "$port"; then
            bx_die "port $port is already in use by another process"
        fi
        write_conf
        if ! as_pg "$BX_PGBIN/pg_ctl" start -D "$data" -l "$real/log/postgresql.log" -w -t 60 \
            >/dev/null; then
            tail -n 20 "$real/log/postgresql.log" >&2 || true
            bx_die "PostgreSQL did not start: see $real/log/postgresql.log"
        fi
        bx_say "PostgreSQL started on 127.0.0.1:$port (pid $(head -n 1 "$data/postmaster.pid"))"
    fi
    ensure_role_db
}

do_stop() {
    resolve_dir
    local pid
    pid=$(bx_pidfile_pid "$data/postmaster.pid")
    if [ -z "$pid" ] || ! bx_pid_alive "$pid"; then
        bx_say "PostgreSQL in $dir is not running"
        return 0
    fi
    bx_need_root
    if ! as_pg "$BX_PGBIN/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null; then
        bx_warn "fast shutdown timed out: shutting down immediately"
        as_pg "$BX_PGBIN/pg_ctl" stop -D "$data" -m immediate -w -t 30 >/dev/null
    fi
    bx_say "stopped PostgreSQL (pid $pid)"
}

do_status() {
    resolve_dir
    if pg_running && pg_isready -q -h 127.0.0.1 -p "$port"; then
        bx_say "PostgreSQL running in $dir on 127.0.0.1:$port (pid $(head -n 1 "$data/postmaster.pid"))"
        return 0
    fi
    bx_say "PostgreSQL in $dir is not running"
    return 3
}

case $cmd in
start) do_start ;;
stop) do_stop ;;
status) do_status ;;
*) usage ;;
esac
