#!/usr/bin/env bash
# run.sh: runs the whole boxoffice system on this machine, from a fresh Debian 12 as root:
# Debian packages -> build -> PostgreSQL (127.0.0.1:15432) and Redis (127.0.0.1:16379)
# in var/ -> migrations -> JWT signing key (first run only) -> demo data -> the broker,
# every worker pool and the frontdoor on http://127.0.0.1:8080.
#
# Everything it starts has a pidfile in var/run and a log in var/log; deploy/stop.sh stops
# it all by PID. Running it again is safe: PostgreSQL and Redis are kept running (their
# data stays in var/), migrations and the demo data are idempotent, the signing key is
# kept, and the application processes are restarted so that a rebuilt binary takes
# effect.
#
# BOXOFFICE_* variables set in the environment are passed to every process (see
# README.md); BOXOFFICE_PG_DSN, BOXOFFICE_REDIS_PORT and BOXOFFICE_JWT_KEY_DIR default to
# the servers and folder started here.
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BX_VAR=$BX_ROOT/var
BX_BUILD=$BX_ROOT/build
PG_PORT=15432
REDIS_PORT=16379
HTTP_PORT=${BOXOFFICE_HTTP_PORT:-8080}
METRICS_BASE=19100 # broker 19100, worker pools 19101...
here=$(dirname "${BASH_SOURCE[0]}")

bx_need_root
bash "$here/deps.sh"
bash "$here/build.sh"

mkdir -p "$BX_VAR/run" "$BX_VAR/log" "$BX_VAR/keys"
chmod 0700 "$BX_VAR/keys"
bash "$here/pg.sh" start "$BX_VAR/pg" "$PG_PORT"
bash "$here/redis.sh" start "$BX_VAR/redis" "$REDIS_PORT"

export BOXOFFICE_PG_DSN=${BOXOFFICE_PG_DSN:-host=127.0.0.1 port=$PG_PORT dbname=boxoffice user=boxoffice}
export BOXOFFICE_REDIS_HOST=${BOXOFFICE_REDIS_HOST:-127.0.0.1}
export BOXOFFICE_REDIS_PORT=${BOXOFFICE_REDIS_PORT:-$REDIS_PORT}
export BOXOFFICE_JWT_KEY_DIR=${BOXOFFICE_JWT_KEY_DIR:-$BX_VAR/keys}
cd "$BX_ROOT"

# The application processes of a previous run stop before the schema may change under
# them (PostgreSQL and Redis stay).
restart_note=""
for pidfile in "$BX_VAR"/run/bx-*.pid; do
    [ -e "$pidfile" ] || continue
    restart_note="(restarted: a previous run's processes were stopped first)"
    bash "$here/stop.sh" --apps-only
    break
done

bxctl=$BX_BUILD/bin/bxctl
"$bxctl" migrate
"$bxctl" keygen --if-missing
seed_out=$("$bxctl" seed)
printf '%s\n' "$seed_out"

# Targets CMake knows about, so that a process which is declared but was not built fails
# loudly, while one that nobody has written yet is only reported.
declared=$(cmake --build "$BX_BUILD" --target help | sed -n 's/^\.\.\. \([^ ]*\).*/\1/p')
is_declared() { grep -qx -- "$1" <<<"$declared"; }

# Says whether process $1 can be started: 0 yes, 1 not declared in CMake (skip).
runnable() {
    if [ -x "$BX_BUILD/bin/$1" ]; then
        return 0
    elif is_declared "$1"; then
        bx_die "$1 is a CMake target but $BX_BUILD/bin/$1 was not built"
    fi
    bx_warn "$1 is not part of the build yet: not started"
    return 1
}

# Starts $1 in the background, in its own session, with BOXOFFICE_METRICS_PORT=$2.
start_proc() {
    local name=$1 log=$BX_VAR/log/$1.log pid
    (
        export BOXOFFICE_METRICS_PORT=$2
        exec setsid "$BX_BUILD/bin/$name" >>"$log" 2>&1 </dev/null
    ) &
    pid=$!
    echo "$pid" >"$BX_VAR/run/$name.pid"
    started+=("$name")
    bx_say "started $name (pid $pid, log var/log/$name.log)"
}

workers=()
for w in bx-worker-echo bx-worker-scheduler; do
    runnable "$w" && workers+=("$w")
done
shopt -s nullglob
for bin in "$BX_BUILD"/bin/bx-worker-*; do
    w=${bin##*/}
    case " ${workers[*]} " in *" $w "*) continue ;; esac
    workers+=("$w")
done
for w in $(grep -x 'bx-worker-.*' <<<"$declared" || true); do
    case " ${workers[*]} " in *" $w "*) continue ;; esac
    runnable "$w" && workers+=("$w")
done

started=()
if runnable bx-broker; then
    start_proc bx-broker "$METRICS_BASE"
    endpoint=${BOXOFFICE_BROKER_ENDPOINT:-tcp://127.0.0.1:15555}
    bport=${endpoint##*:}
    for ((i = 0; i < 100; i++)); do
        bx_port_open "$bport" && break
        sleep 0.1
    done
fi
# The provider sandbox (docs/sandbox.md): SMS and push go there unless configured otherwise.
if [ -x "$BX_BUILD/bin/bx-sandbox" ]; then
    start_proc bx-sandbox 0
fi
# The demo's SMTP server (tools/mailcatcher.py, aiosmtpd): every e-mail the notify pool
# sends lands in var/mail/ as an .eml file. Not started when BOXOFFICE_SMTP_URL names a
# real server.
mail_note="sent to ${BOXOFFICE_SMTP_URL:-}"
if [ -z "${BOXOFFICE_SMTP_URL:-}" ]; then
    mail_port=2525
    export BOXOFFICE_SMTP_URL=smtp://127.0.0.1:$mail_port
    mkdir -p "$BX_VAR/mail"
    (exec setsid /usr/bin/python3 "$BX_ROOT/tools/mailcatcher.py" --port "$mail_port" \
        --dir "$BX_VAR/mail" >>"$BX_VAR/log/mailcatcher.log" 2>&1 </dev/null) &
    echo "$!" >"$BX_VAR/run/mailcatcher.pid"
    for ((i = 0; i < 50; i++)); do
        bx_port_open "$mail_port" && break
        sleep 0.1
    done
    bx_port_open "$mail_port" || bx_die "mailcatcher did not listen on $mail_port: see var/log/mailcatcher.log"
    bx_say "started mailcatcher (pid $(cat "$BX_VAR/run/mailcatcher.pid"), mail lands in var/mail/)"
    mail_note="var/mail/*.eml (local SMTP server 127.0.0.1:$mail_port, log var/log/mailcatcher.log)"
fi
n=1
for w in "${workers[@]}"; do
    start_proc "$w" $((METRICS_BASE + n))
    n=$((n + 1))
done
has_frontdoor=0
if runnable bx-frontdoor; then
    start_proc bx-frontdoor 0
    has_frontdoor=1
fi

# Every process must still be alive a moment later (a taken port, a bad config...).
sleep 1
for name in "${started[@]}"; do
    pid=$(bx_pidfile_pid "$BX_VAR/run/$name.pid")
    if ! bx_pid_is "$pid" "$name"; then
        tail -n 20 "$BX_VAR/log/$name.log" >&2 || true
        bx_die "$name exited right after start: see var/log/$name.log (deploy/stop.sh stops the rest)"
    fi
done

if [ "$has_frontdoor" = 1 ]; then
    ok=0
    for ((i = 0; i < 300; i++)); do
        if curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz" 2>/dev/null; then
            ok=1
            break
        fi
        sleep 0.1
    done
    if [ "$ok" != 1 ]; then
        tail -n 20 "$BX_VAR/log/bx-frontdoor.log" >&2 || true
        bx_die "http://127.0.0.1:$HTTP_PORT/healthz did not answer within 30s: see var/log/bx-frontdoor.log"
    fi
fi

cat <<EOF

boxoffice is running${restart_note:+ $restart_note}
  API          http://127.0.0.1:$HTTP_PORT/api/v1/   health: /healthz  readiness: /readyz  metrics: /metrics
  processes    ${started[*]:-none}
  logs         var/log/<process>.log (JSON lines); PostgreSQL: var/pg/log/postgresql.log; Redis: var/redis/redis.log
  PostgreSQL   psql -h 127.0.0.1 -p $PG_PORT -U boxoffice boxoffice
  Redis        redis-cli -p $REDIS_PORT
  signing key  $BOXOFFICE_JWT_KEY_DIR
  e-mail       $mail_note
  ${seed_out//$'\n'/$'\n'  }
  stop         bash deploy/stop.sh   (data stays in var/; remove var/ after stopping to start afresh)
EOF
[ "$has_frontdoor" = 1 ] || bx_warn "bx-frontdoor is not built yet: there is no HTTP API to look at"
