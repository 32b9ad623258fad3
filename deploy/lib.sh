# lib.sh: helpers shared by the deploy scripts. Sourced, never run on its own.
# shellcheck shell=bash

# shellcheck disable=SC2034 # used by the scripts that source this file
BX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2034
BX_PGBIN=/usr/lib/postgresql/15/bin
BX_ME=${0##*/}

# Progress, warnings and fatal errors, each prefixed with the script's name.
bx_say() { printf '%s: %s\n' "$BX_ME" "$*"; }
bx_warn() { printf '%s: warning: %s\n' "$BX_ME" "$*" >&2; }
bx_die() {
    printf '%s: error: %s\n' "$BX_ME" "$*" >&2
    exit 1
}

bx_need_root() {
    [ "$(id -u)" -eq 0 ] || bx_die "must run as root (it starts PostgreSQL as the postgres user)"
}

# Absolute path of $1, which need not exist yet.
bx_abspath() {
    case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}

# True when something accepts TCP connections on 127.0.0.1:$1.
bx_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when process $1 exists.
bx_pid_alive() {
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null
}

# True when process $1 exists and is the program $2: its argv[0] (or the first word of
# it: Redis rewrites its title to "redis-server 127.0.0.1:PORT") ends with $2. A
# recycled PID that now belongs to another program is never signalled.
bx_pid_is() {
    local argv0
    bx_pid_alive "$1" || return 1
    argv0=$(tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | head -n 1) || return 1
    case $argv0 in
    "$2" | */"$2") return 0 ;;
    esac
    case ${argv0%% *} in
    "$2" | */"$2") return 0 ;;
    esac
    return 1
}

# PID stored in pidfile $1, or nothing.
bx_pidfile_pid() {
    [ -f "$1" ] || return 0
    local pid
    read -r pid <"$1" || true
    case $pid in
    '' | *[!0-9]*) return 0 ;;
    *) printf '%s\n' "$pid" ;;
    esac
}

# Waits up to $2 seconds for process $1 to exit. True when it is gone.
bx_wait_gone() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        bx_pid_alive "$1" || return 0
        sleep 0.1
    done
    ! bx_pid_alive "$1"
}

# Stops the process named $2 whose PID is in pidfile $1: SIGTERM, up to $3 seconds to
# drain, then SIGKILL. Removes the pidfile. Quiet when it was not running; returns 1
# only when the process survived SIGKILL.
bx_stop_pidfile() {
    local pidfile=$1 name=$2 grace=$3 pid
    pid=$(bx_pidfile_pid "$pidfile")
    if [ -n "$pid" ] && bx_pid_is "$pid" "$name"; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! bx_wait_gone "$pid" "$grace"; then
            bx_warn "$name (pid $pid) did not stop within ${grace}s: sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            if ! bx_wait_gone "$pid" 5; then
                bx_warn "could not stop $name (pid $pid)"
                return 1
            fi
        fi
        bx_say "stopped $name (pid $pid)"
    fi
    rm -f "$pidfile"
}
