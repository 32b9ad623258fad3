#!/usr/bin/env bash
# stop.sh: stops everything deploy/run.sh started, by the PIDs it recorded: the frontdoor
# first (no new work comes in), then the worker pools, then the broker (each gets SIGTERM
# and up to 20 s to drain before SIGKILL), then Redis and PostgreSQL. Data stays in var/.
#   stop.sh [--apps-only]     --apps-only leaves Redis and PostgreSQL running
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BX_VAR=$BX_ROOT/var
here=$(dirname "${BASH_SOURCE[0]}")
apps_only=0
case ${1:-} in
'') ;;
--apps-only) apps_only=1 ;;
*) bx_die "unknown argument $1 (usage: $BX_ME [--apps-only])" ;;
esac

if [ ! -d "$BX_VAR" ]; then
    bx_say "nothing to stop: $BX_VAR does not exist"
    exit 0
fi

shopt -s nullglob
rc=0
ordered=("$BX_VAR/run/bx-frontdoor.pid")
for f in "$BX_VAR"/run/bx-worker-*.pid; do ordered+=("$f"); done
ordered+=("$BX_VAR/run/bx-broker.pid")
for f in "$BX_VAR"/run/*.pid; do
    case " ${ordered[*]} " in *" $f "*) ;; *) ordered+=("$f") ;; esac
done
for pidfile in "${ordered[@]}"; do
    [ -e "$pidfile" ] || continue
    name=${pidfile##*/}
    name=${name%.pid}
    [ "$name" = mailcatcher ] && name=python3 # tools/mailcatcher.py runs in the interpreter
    bx_stop_pidfile "$pidfile" "$name" 20 || rc=1
done

if [ "$apps_only" = 0 ]; then
    bash "$here/redis.sh" stop "$BX_VAR/redis" 16379 || rc=1
    if [ -e "$BX_VAR/pg" ]; then
        bash "$here/pg.sh" stop "$BX_VAR/pg" 15432 || rc=1
    fi
fi
exit $rc
