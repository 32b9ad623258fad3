#!/usr/bin/env bash
# delivery.sh: how fast the delivery engine sends (docs/delivery.md). Starts its own
# private stack (database bx_bench_delivery on the given PostgreSQL, ports 26450-26459 on
# 127.0.0.1 only): broker, scheduler, the notify and webhook pools, the frontdoor,
# bx-sandbox (webhook receiver) and a real SMTP server (Debian's python3-aiosmtpd), then
#   1. throughput: N partner webhook deliveries (100 endpoints x N/100 events, signed,
#      recorded by the sandbox receiver): deliveries per second from the first trigger
#      to the last arrival;
#   2. end-to-end delay: K registrations (welcome mail) and K admin-triggered
#      booking.confirmed mails (with an inline QR code), each timed from the API answer
#      to the message being stored by the SMTP server: p50, p95, max;
#   3. with bx-worker-ticket built: K bookings confirmed in SQL (the payment pool's
#      transaction: booking confirmed + the ticket pool's issue job), each timed from
#      that commit through the ticket pool and the notify pool to the stored mail.
# Bounded: every wait has a deadline; everything it started is stopped by PID.
#
#   bash bench/delivery.sh [-n 10000] [-k 30] [--pg-port 25432] [--redis-port 26379]
#                          [--tick-ms 500] [--build DIR]
set -euo pipefail
N=10000 K=30 PG_PORT=${BENCH_PG_PORT:-25432} REDIS_PORT=${BENCH_REDIS_PORT:-26379} TICK=500
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build-delivery
while [ $# -gt 0 ]; do
    case $1 in
    -n) N=$2 ;;
    -k) K=$2 ;;
    --pg-port) PG_PORT=$2 ;;
    --redis-port) REDIS_PORT=$2 ;;
    --tick-ms) TICK=$2 ;;
    --build) BUILD=$2 ;;
    *) echo "usage: $0 [-n N] [-k K] [--pg-port P] [--redis-port P] [--tick-ms MS] [--build DIR]" >&2; exit 2 ;;
    esac
    shift 2
done
BIN=$BUILD/bin
PY=/usr/bin/python3
for b in bx-broker bx-worker-scheduler bx-worker-notify bx-worker-webhook bx-frontdoor bx-sandbox bxctl; do
    [ -x "$BIN/$b" ] || { echo "delivery.sh: $BIN/$b is not built" >&2; exit 1; }
done
$PY -c 'import aiosmtpd' 2>/dev/null || { echo "delivery.sh: python3-aiosmtpd is not installed" >&2; exit 1; }
WORK=$(mktemp -d /tmp/bx-bench-delivery.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 1
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
DB=bx_bench_delivery
PGC="host=127.0.0.1 port=$PG_PORT user=boxoffice"
psql "$PGC dbname=postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
export BOXOFFICE_PG_DSN="$PGC dbname=$DB" BOXOFFICE_REDIS_PORT=$REDIS_PORT
export BOXOFFICE_BROKER_ENDPOINT=tcp://127.0.0.1:26450 BOXOFFICE_HTTP_PORT=26451
export BOXOFFICE_SMTP_URL=smtp://127.0.0.1:26453 BOXOFFICE_PUBLIC_BASE_URL=http://127.0.0.1:26451
export BOXOFFICE_DELIVERY_ALLOW_CIDRS=127.0.0.1/32 BOXOFFICE_JWT_KEY_DIR=$WORK/keys
export BOXOFFICE_SCHEDULER_TICK_MS=$TICK BOXOFFICE_LOG_LEVEL=warn
export BOXOFFICE_RL_WRITE_PER_MIN=100000000 BOXOFFICE_RL_AUTH_PER_MIN=1000000 BOXOFFICE_RL_IP_PER_MIN=100000000
"$BIN/bxctl" migrate >/dev/null
mkdir -p "$WORK/keys" "$WORK/mail"
"$BIN/bxctl" keygen >/dev/null
start() { "$@" >>"$WORK/log" 2>&1 & PIDS+=($!); }
start "$PY" "$ROOT/tests/delivery/smtp_sink.py" 127.0.0.1 26453 "$WORK/mail"
start "$BIN/bx-sandbox" --port 26452
start "$BIN/bx-broker"
sleep 0.5
start "$BIN/bx-worker-scheduler"
start "$BIN/bx-worker-notify"
start "$BIN/bx-worker-webhook"
start "$BIN/bx-frontdoor"
TICKET=0
if [ -x "$BIN/bx-worker-ticket" ]; then
    start "$BIN/bx-worker-ticket"
    TICKET=1
fi
for i in $(seq 100); do
    curl -sf http://127.0.0.1:26451/readyz >/dev/null 2>&1 && break
    sleep 0.2
done
curl -sf http://127.0.0.1:26451/readyz >/dev/null || { echo "delivery.sh: the stack did not come up" >&2; tail "$WORK/log" >&2; exit 1; }
BOXOFFICE_ADMIN_PASSWORD='bench admin password 42' "$BIN/bxctl" create-admin --email admin@bench.test >/dev/null
ORG=$(psql "$BOXOFFICE_PG_DSN" -qtAc "INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), 'Bench') RETURNING id")
psql "$BOXOFFICE_PG_DSN" -qc "INSERT INTO webhook_endpoints (id, org_id, url, event_types, secret)
    SELECT gen_random_uuid(), '$ORG', 'http://127.0.0.1:26452/hooks/bench', ARRAY['event.sold_out'],
           'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' FROM generate_series(1, 100)" >/dev/null
# 3. booking confirmed -> mail: a GA tier of the demo data to book (when the ticket pool is built)
GA_TIER=""
if [ "$TICKET" = 1 ]; then
    "$BIN/bxctl" seed >/dev/null
    GA_TIER=$(psql "$BOXOFFICE_PG_DSN" -qtAc "SELECT g.event_id || ' ' || g.tier_id FROM event_ga g
        JOIN events e ON e.id = g.event_id WHERE e.status IN ('published', 'on_sale')
        AND e.starts_at > now() + interval '2 days' AND g.capacity - g.held - g.sold >= $K LIMIT 1")
fi
export N K ORG WORK GA_TIER
$PY - <<'PYEOF'
import json, os, statistics, time, urllib.request, glob

BASE, SBX = "http://127.0.0.1:26451", "http://127.0.0.1:26452"
N, K, ORG, WORK = int(os.environ["N"]), int(os.environ["K"]), os.environ["ORG"], os.environ["WORK"]

def call(method, path, body=None, token=None):
    req = urllib.request.Request(BASE + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)

def count():
    with urllib.request.urlopen(SBX + "/_sandbox/count?key=hooks:bench", timeout=30) as r:
        return json.load(r)["count"]

token = call("POST", "/api/v1/users/login", {"email": "admin@bench.test", "password": "bench admin password 42"})["data"]["attributes"]["access_token"]
events = max(1, N // 100)
t0 = time.monotonic()
for _ in range(events):
    call("POST", "/api/v1/admin/webhooks/events", {"type": "event.sold_out", "organization_id": ORG, "data": {"bench": True}}, token)
t_sent = time.monotonic() - t0
deadline = t0 + 300
while count() < events * 100 and time.monotonic() < deadline:
    time.sleep(0.05)
took = time.monotonic() - t0
got = count()
print("throughput: %d webhook deliveries (%d events x 100 endpoints) in %.2f s = %.0f deliveries/s (triggers sent in %.2f s)"
      % (got, events, took, got / took, t_sent))

def wait_mail(rcpt, deadline):
    while time.monotonic() < deadline:
        for f in glob.glob(os.path.join(WORK, "mail", "*.json")):
            if rcpt in open(f).read() and os.path.exists(f[:-5] + ".eml"):
                return os.path.getmtime(f[:-5] + ".eml")
        time.sleep(0.005)
    return None

def e2e(kind):
    delays = []
    for i in range(K):
        email = "%s-%d-%d@bench.test" % (kind, os.getpid(), i)
        if kind == "welcome":
            t = time.time()
            call("POST", "/api/v1/users/register", {"email": email, "password": "bench password number %d" % i, "first_name": "B"})
        else:
            uid = call("POST", "/api/v1/users/register", {"email": email, "password": "bench password number %d" % i})["data"]["id"]
            wait_mail(email, time.monotonic() + 30)  # the welcome mail first
            t = time.time()
            call("POST", "/api/v1/admin/notifications/test", {"user_id": uid, "type": "booking.confirmed"}, token)
            email = email  # the same mailbox gets the booking mail second
        arrived = None
        end = time.monotonic() + 30
        while time.monotonic() < end:
            files = [f for f in glob.glob(os.path.join(WORK, "mail", "*.json")) if email in open(f).read()]
            done = [f for f in files if os.path.exists(f[:-5] + ".eml")]
            if len(done) >= (1 if kind == "welcome" else 2):
                arrived = max(os.path.getmtime(f[:-5] + ".eml") for f in done)
                break
            time.sleep(0.005)
        if arrived:
            delays.append((arrived - t) * 1000)
    delays.sort()
    p = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
    print("e2e %-18s %d/%d mails: p50 %.0f ms, p95 %.0f ms, max %.0f ms"
          % (kind, len(delays), K, p(0.5), p(0.95), delays[-1]))

e2e("welcome")
e2e("booking.confirmed")

def booking_e2e():
    """The booking pipeline's last steps for real: one transaction confirms a booking (as
    bx_booking_confirm in the payment pool: GA unit sold, hold converted, booking confirmed)
    and writes the ticket pool's issue job; the ticket pool signs the tickets and sends
    booking.confirmed; the notify pool mails it with the QR. Timed from that commit to the
    mail stored by the SMTP server."""
    import subprocess
    if not os.environ.get("GA_TIER"):
        print("e2e booking->mail: skipped (bx-worker-ticket not built or no GA tier in the demo data)")
        return
    event, tier = os.environ["GA_TIER"].split()
    delays = []
    for i in range(K):
        email = "booked-%d-%d@bench.test" % (os.getpid(), i)
        sql = """
        WITH u AS (INSERT INTO users (id, email, password_hash, role, first_name) VALUES
                   (gen_random_uuid(), '{email}', 'x', 'customer', 'B') RETURNING id),
        g AS (UPDATE event_ga SET sold = sold + 1, version = version + 1
              WHERE event_id = '{event}' AND tier_id = '{tier}' RETURNING 1),
        h AS (INSERT INTO holds (id, event_id, user_id, kind, state, ga_tier_id, quantity, currency,
                                 total_minor, lines, expires_at, ended_at)
              SELECT gen_random_uuid(), e.id, u.id, 'ga', 'converted', '{tier}', 1, e.currency, 1000,
                     '[]', now(), now() FROM u, g, events e WHERE e.id = '{event}' RETURNING id, user_id, currency),
        b AS (INSERT INTO bookings (id, user_id, event_id, org_id, hold_id, status, quantity, currency,
                                    subtotal_minor, total_minor, lines, payment_due_at, confirmed_at, paid_minor)
              SELECT gen_random_uuid(), h.user_id, e.id, e.org_id, h.id, 'confirmed', 1, h.currency, 1000,
                     1000, '[]', now(), now(), 1000 FROM h, events e WHERE e.id = '{event}' RETURNING id)
        INSERT INTO outbox (service, topic, route_key, payload, request_id)
        SELECT 'ticket', 'issue', b.id::text, jsonb_build_object('op', 'issue', 'booking_id', b.id),
               gen_random_uuid() FROM b""".format(email=email, event=event, tier=tier)
        subprocess.run(["psql", os.environ["BOXOFFICE_PG_DSN"], "-qc", sql], check=True,
                       stdout=subprocess.DEVNULL)
        t = time.time()
        arrived = wait_mail(email, time.monotonic() + 30)
        if arrived:
            delays.append((arrived - t) * 1000)
    if not delays:
        print("e2e booking->mail: no mail arrived")
        return
    delays.sort()
    p = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
    print("e2e %-18s %d/%d mails: p50 %.0f ms, p95 %.0f ms, max %.0f ms"
          % ("booking->mail", len(delays), K, p(0.5), p(0.95), delays[-1]))

booking_e2e()
PYEOF
echo "settings: scheduler_tick_ms=$TICK (outbox relay period), delivery_senders=4, delivery_batch=32; $(nproc) CPUs"
