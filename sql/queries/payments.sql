-- payments (workers/payment, frontdoor/fd_payments.c): payment attempts, their settlement,
-- refunds and inbound gateway events (docs/payments.md).

-- name: pay_lock
-- $1 payment id: serializes everything that settles one payment (held until commit).
SELECT pg_advisory_xact_lock(hashtextextended('payment:' || $1, 0))

-- name: pay_booking
-- $1 booking id: what a payment needs of its booking.
SELECT b.status, b.user_id, b.payment_due_at < now(), b.total_minor, b.currency, b.event_id,
       b.org_id, u.email,
       EXISTS (SELECT 1 FROM payments p WHERE p.booking_id = b.id AND p.status = 'succeeded')
FROM bookings b JOIN users u ON u.id = b.user_id WHERE b.id = $1

-- name: pay_insert
-- $1 id, $2 booking, $3 user, $4 provider, $5 method, $6 amount, $7 currency.
INSERT INTO payments (id, booking_id, user_id, provider, method, amount_minor, currency)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING

-- name: pay_get
-- $1 payment id (locked).
SELECT id, booking_id, user_id, provider, method, status, amount_minor, currency,
       captured_minor, refunded_minor, provider_ref, next_action::text, failure_code,
       failure_message
FROM payments WHERE id = $1 FOR UPDATE

-- name: pay_set
-- $1 id, $2 status, $3 provider_ref (NULL keeps), $4 captured, $5 next_action json,
-- $6 failure_code, $7 failure_message.
UPDATE payments SET status = $2, provider_ref = coalesce($3, provider_ref),
                    captured_minor = $4::bigint, next_action = $5::jsonb,
                    failure_code = left($6, 64), failure_message = left($7, 300),
                    last_checked_at = now(), updated_at = now()
WHERE id = $1

-- name: pay_confirm
SELECT bx_booking_confirm($1, $2::bigint)

-- name: pay_admission
-- $1 booking: the waiting-room admission of its hold, and its event.
SELECT h.admission_jti, coalesce(h.admission_exp, 0), b.event_id
FROM bookings b JOIN holds h ON h.id = b.hold_id WHERE b.id = $1

-- name: pay_receipt
-- $1 booking: what the receipt shows.
SELECT b.lines::text, b.taxes::text, b.currency, b.org_id, b.event_id FROM bookings b WHERE b.id = $1

-- name: pay_refund_insert
-- $1 refund id, $2 payment, $3 booking, $4 amount, $5 reason, $6 requested_by.
INSERT INTO refunds (id, payment_id, booking_id, amount_minor, reason, requested_by)
VALUES ($1, $2, $3, $4::bigint, left($5, 200), $6) ON CONFLICT (id) DO NOTHING

-- name: pay_refund_done
-- $1 refund id, $2 status, $3 provider_ref.
UPDATE refunds SET status = $2, provider_ref = $3, updated_at = now() WHERE id = $1

-- name: pay_refunded_add
-- $1 payment, $2 amount: counts a succeeded refund on the payment and its booking.
WITH p AS (UPDATE payments SET refunded_minor = refunded_minor + $2::bigint, updated_at = now()
           WHERE id = $1 RETURNING booking_id)
UPDATE bookings b SET refunded_minor = b.refunded_minor + $2::bigint, updated_at = now()
FROM p WHERE b.id = p.booking_id AND b.paid_minor >= b.refunded_minor + $2::bigint

-- name: pay_refund_find
-- $1 booking: its successful payment.
SELECT id FROM payments WHERE booking_id = $1 AND status = 'succeeded'

-- name: pay_event_insert
-- $1 provider, $2 event id, $3 type, $4 payload: 1 row when the event is new.
INSERT INTO gateway_events (provider, event_id, type, payload) VALUES ($1, $2, $3, $4::jsonb)
ON CONFLICT DO NOTHING RETURNING 1

-- name: pay_sweep
-- $1 seconds: payments left unknown or processing that long, or waiting for an action past
-- their booking's due time (or that long), get a settle job (at most one per period each).
WITH s AS (
    SELECT p.id, p.booking_id FROM payments p JOIN bookings b ON b.id = p.booking_id
    WHERE p.status IN ('processing', 'requires_action', 'unknown')
      AND (p.updated_at < now() - make_interval(secs => $1::int)
           OR p.status = 'requires_action' AND b.payment_due_at < now())
      AND (p.last_checked_at IS NULL OR p.last_checked_at < now() - make_interval(secs => $1::int))
    ORDER BY p.updated_at LIMIT 100 FOR UPDATE OF p SKIP LOCKED
), u AS (
    UPDATE payments p SET last_checked_at = now() FROM s WHERE p.id = s.id
)
INSERT INTO outbox (service, topic, route_key, payload)
SELECT 'payment', 'settle', s.booking_id::text,
       jsonb_build_object('op', 'settle', 'payment_id', s.id) FROM s
RETURNING 1

-- name: pay_view
-- $1 payment: the resource, with the booking's event and organization for visibility.
SELECT p.id, p.booking_id, p.user_id, p.provider, p.method, p.status, p.amount_minor,
       p.currency, p.captured_minor, p.refunded_minor, p.next_action::text, p.failure_code,
       p.failure_message, to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), b.org_id, b.event_id,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'amount_minor', r.amount_minor,
                                                     'status', r.status, 'reason', r.reason)
                                  ORDER BY r.created_at), '[]') FROM refunds r
        WHERE r.payment_id = p.id)::text
FROM payments p JOIN bookings b ON b.id = p.booking_id WHERE p.id = $1

-- name: pay_booking_owner
-- $1 booking: owner and event of a booking (frontdoor checks before queueing).
SELECT user_id, status, event_id FROM bookings WHERE id = $1

-- name: pay_gw_outbox
-- $1 route key (booking id or NULL), $2 payload: a verified gateway event for the pool.
INSERT INTO outbox (service, topic, route_key, payload)
VALUES ('payment', 'gateway_event', $1, $2::jsonb)
