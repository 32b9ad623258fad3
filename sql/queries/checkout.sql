-- Checkout: the checkout pool (workers/checkout) and the frontdoor's booking, promo-code,
-- booking-settings and tax-rule routes (frontdoor/fd_bookings.c, fd_promos.c).

-- name: co_lock_event
-- The first lock of a checkout, as in every booking function (docs/booking.md lock order).
SELECT 1 FROM event_inventory WHERE event_id = $1 FOR UPDATE

-- name: co_booking_of_hold
SELECT b.id, b.user_id, bx_booking_doc(b)::text FROM bookings b WHERE b.hold_id = $1

-- name: co_hold
-- $1 hold. The hold (locked), its event, the venue's tax place and the booking settings.
SELECT h.user_id, h.event_id, h.state, h.expires_at <= now(), h.lines::text, h.quantity,
       e.status, e.org_id, e.currency, v.country, v.region,
       coalesce(s.service_fee_bp, 0), coalesce(s.service_fee_minor, 0),
       coalesce(s.payment_window_s, 900)
FROM holds h
JOIN events e ON e.id = h.event_id
JOIN venues v ON v.id = e.venue_id
LEFT JOIN event_booking_settings s ON s.event_id = e.id
WHERE h.id = $1
FOR UPDATE OF h

-- name: co_tax_rules
-- $1 event: the rules of its venue's country and region, currency and start date; ticket
-- rules first, then fee rules, each in id order (bx_price itemizes in this order).
SELECT r.name, r.rate_ppm, r.inclusive, r.applies_to = 'fee',
       coalesce(r.band_min_minor, -1), coalesce(r.band_max_minor, -1)
FROM events e
JOIN venues v ON v.id = e.venue_id
JOIN tax_rules r ON r.country = v.country AND (r.region IS NULL OR r.region = v.region)
WHERE e.id = $1 AND (r.currency IS NULL OR r.currency = e.currency)
  AND e.starts_at >= r.valid_from AND (r.valid_to IS NULL OR e.starts_at < r.valid_to)
ORDER BY r.applies_to DESC, r.id
LIMIT 17

-- name: co_promo
-- $1 org, $2 code (any case), $3 event: the code as this event sees it.
SELECT p.id, p.kind, p.value, p.currency, p.active,
       (p.starts_at IS NULL OR p.starts_at <= now()) AND (p.ends_at IS NULL OR p.ends_at > now()),
       p.min_quantity, p.per_user_limit, p.code
FROM promo_codes p
WHERE p.org_id = $1 AND p.code = upper($2) AND (p.event_id IS NULL OR p.event_id = $3)

-- name: co_promo_take
-- The total limit: one use more only while there is one left (0 rows: used up). The row
-- lock serializes concurrent redemptions of one code.
UPDATE promo_codes SET uses = uses + 1, updated_at = now()
WHERE id = $1 AND (max_uses IS NULL OR uses < max_uses)
RETURNING uses

-- name: co_promo_user_uses
-- After co_promo_take holds the code's row lock: this user's redemptions so far (a new
-- statement, so it sees every redemption committed before the lock was granted).
SELECT count(*) FROM promo_redemptions WHERE promo_id = $1 AND user_id = $2

-- name: co_booking_insert
-- $1 id (the request id), $2 user, $3 event, $4 org, $5 hold, $6 quantity, $7 currency,
-- $8 subtotal, $9 discount, $10 fee, $11 tax, $12 total, $13 lines, $14 taxes, $15 promo
-- id, $16 promo code, $17 locale, $18 payment window s. Writes the booking, its promo
-- redemption, and keeps the hold alive until the payment is due.
WITH b AS (
    INSERT INTO bookings (id, user_id, event_id, org_id, hold_id, quantity, currency,
                          subtotal_minor, discount_minor, fee_minor, tax_minor, total_minor,
                          lines, taxes, promo_id, promo_code, locale, payment_due_at)
    VALUES ($1, $2, $3, $4, $5, $6::int, $7, $8::bigint, $9::bigint, $10::bigint, $11::bigint,
            $12::bigint, $13::jsonb, $14::jsonb, $15, $16, $17,
            now() + make_interval(secs => $18::int))
    RETURNING *
), r AS (
    INSERT INTO promo_redemptions (booking_id, promo_id, user_id)
    SELECT id, promo_id, user_id FROM b WHERE promo_id IS NOT NULL
), h AS (
    UPDATE holds SET expires_at = b.payment_due_at, expiry_queued_at = NULL
    FROM b WHERE holds.id = b.hold_id
)
SELECT bx_booking_doc(b::bookings)::text FROM b

-- name: co_booking_lock
-- Locks the booking's event inventory row (the first lock), returns the event or NULL.
SELECT bx_booking_lock_event($1)

-- name: co_booking
-- $1 booking: what cancel decides on. fee_tax: exclusive taxes on the service fee.
SELECT b.status, b.user_id, b.event_id, b.org_id, b.hold_id, b.paid_minor, b.fee_minor,
       (SELECT coalesce(sum((t ->> 'amount_minor')::bigint), 0)
        FROM jsonb_array_elements(b.taxes) t
        WHERE t ->> 'applies_to' = 'fee' AND NOT (t ->> 'inclusive')::boolean),
       coalesce(s.cancellable, true),
       now() < e.starts_at - make_interval(hours => coalesce(s.cancel_deadline_h, 24)),
       coalesce(s.cancel_fee_bp, 0), e.status, e.name, bx_utc_rfc3339(e.starts_at),
       coalesce(s.cancel_deadline_h, 24)
FROM bookings b
JOIN events e ON e.id = b.event_id
LEFT JOIN event_booking_settings s ON s.event_id = b.event_id
WHERE b.id = $1

-- name: co_org_member
SELECT 1 FROM organization_members WHERE org_id = $1 AND user_id = $2

-- name: co_user_role
SELECT role FROM users WHERE id = $1

-- name: co_abandon
SELECT bx_booking_abandon($1, 'cancelled', $2)

-- name: co_cancel
SELECT bx_booking_cancel($1, $2)

-- name: co_released
-- $1 hold: what its end gave back, for the waitlist: its seats with their state now, and
-- for a GA hold its tier and quantity.
SELECT coalesce((SELECT jsonb_agg(jsonb_build_object('seat_id', es.seat_id,
                                                     'tier_id', es.tier_id, 'state', es.state))
                 FROM jsonb_array_elements(h.seats) s
                 JOIN event_seats es ON es.event_id = h.event_id
                                    AND es.seat_id = (s ->> 'seat_id')::uuid), '[]')::text,
       CASE WHEN h.kind = 'ga' AND e.status <> 'cancelled'
            THEN jsonb_build_array(jsonb_build_object('tier_id', h.ga_tier_id,
                                                      'quantity', h.quantity))
            ELSE '[]'::jsonb END::text
FROM holds h JOIN events e ON e.id = h.event_id
WHERE h.id = $1

-- name: co_doc
SELECT bx_booking_doc(b)::text FROM bookings b WHERE b.id = $1

-- name: co_event_bookings
-- $1 event, $2 page size: the next bookings a cancelled event still has to undo, oldest
-- first (each page's are cancelled by then, so the next page starts where this one ended).
SELECT id FROM bookings
WHERE event_id = $1 AND status IN ('pending_payment', 'confirmed')
ORDER BY created_at, id
LIMIT $2::int

-- name: co_event_cancel_outbox
-- $1 event, $2 the cancelling request: a checkout cancel_event job, in the cancel's
-- transaction (frontdoor/fd_publish.c).
INSERT INTO outbox (service, topic, route_key, payload, request_id, parent_id)
VALUES ('checkout', 'event.cancelled', $1::text,
        jsonb_build_object('op', 'cancel_event', 'event_id', $1::text), gen_random_uuid(), $2::uuid)

-- name: co_fd_hold
-- POST /bookings: the caller's hold and its event.
SELECT event_id FROM holds WHERE id = $1 AND user_id = $2

-- name: co_fd_booking
-- $1 booking: its document, owner, organization and event.
SELECT bx_booking_doc(b)::text, b.user_id, b.org_id, b.event_id, b.status
FROM bookings b WHERE b.id = $1

-- name: co_fd_list
-- $1 user, $2 status or NULL, $3/$4 the cursor (created_at text, id) or NULL, $5 limit:
-- the caller's bookings, newest first.
SELECT (bx_booking_doc(b) -> 'data')::text, b.created_at::text, b.id
FROM bookings b
WHERE b.user_id = $1 AND ($2::text IS NULL OR b.status = $2)
  AND ($3::timestamptz IS NULL OR (b.created_at, b.id) < ($3::timestamptz, $4::uuid))
ORDER BY b.created_at DESC, b.id DESC
LIMIT $5::int

-- name: co_promo_orgs
-- $1 user: the organizations whose codes a partner manages.
SELECT org_id FROM organization_members WHERE user_id = $1 ORDER BY org_id LIMIT 2

-- name: co_event_org
SELECT org_id, currency FROM events WHERE id = $1

-- name: co_promo_insert
-- $1 id, $2 org, $3 event, $4 code, $5 kind, $6 value, $7 currency, $8 starts, $9 ends,
-- $10 max uses, $11 per-user limit, $12 min quantity, $13 active.
INSERT INTO promo_codes (id, org_id, event_id, code, kind, value, currency, starts_at, ends_at,
                         max_uses, per_user_limit, min_quantity, active)
VALUES ($1, $2, $3, upper($4), $5, $6::bigint, $7, $8::timestamptz, $9::timestamptz,
        $10::int, $11::int, coalesce($12::int, 1), coalesce($13::boolean, true))
RETURNING bx_promo_doc(promo_codes.*)::text

-- name: co_promo_get
SELECT bx_promo_doc(p)::text, p.org_id FROM promo_codes p WHERE p.id = $1

-- name: co_promo_update
-- $1 id, then the members a PUT may change (NULL: unchanged).
UPDATE promo_codes SET value = coalesce($2::bigint, value),
                       starts_at = coalesce($3::timestamptz, starts_at),
                       ends_at = coalesce($4::timestamptz, ends_at),
                       max_uses = coalesce($5::int, max_uses),
                       per_user_limit = coalesce($6::int, per_user_limit),
                       min_quantity = coalesce($7::int, min_quantity),
                       active = coalesce($8::boolean, active),
                       updated_at = now()
WHERE id = $1
RETURNING bx_promo_doc(promo_codes.*)::text

-- name: co_promo_delete
-- A code nobody redeemed goes; one with bookings stays, switched off (bookings name it).
WITH used AS (SELECT EXISTS (SELECT 1 FROM bookings WHERE promo_id = $1) AS yes),
del AS (DELETE FROM promo_codes WHERE id = $1 AND NOT (SELECT yes FROM used) RETURNING id),
off AS (UPDATE promo_codes SET active = false, updated_at = now()
        WHERE id = $1 AND (SELECT yes FROM used) RETURNING id)
SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM off)

-- name: co_promo_list
-- $1 user (partner: codes of the organizations they belong to), $2 1 for an admin (every
-- organization), $3 org filter or NULL, $4/$5 cursor, $6 limit.
SELECT bx_promo_doc(p)::text, p.created_at::text, p.id
FROM promo_codes p
WHERE ($2::int = 1 OR p.org_id IN (SELECT org_id FROM organization_members WHERE user_id = $1))
  AND ($3::uuid IS NULL OR p.org_id = $3)
  AND ($4::timestamptz IS NULL OR (p.created_at, p.id) < ($4::timestamptz, $5::uuid))
ORDER BY p.created_at DESC, p.id DESC
LIMIT $6::int

-- name: co_settings_get
-- $1 event: its booking settings, defaults when none were set.
SELECT jsonb_build_object('event_id', e.id,
        'service_fee_bp', coalesce(s.service_fee_bp, 0),
        'service_fee_minor', coalesce(s.service_fee_minor, 0),
        'payment_window_s', coalesce(s.payment_window_s, 900),
        'cancellable', coalesce(s.cancellable, true),
        'cancel_deadline_h', coalesce(s.cancel_deadline_h, 24),
        'cancel_fee_bp', coalesce(s.cancel_fee_bp, 0),
        'updated_at', bx_utc_rfc3339(s.updated_at))::text
FROM events e LEFT JOIN event_booking_settings s ON s.event_id = e.id
WHERE e.id = $1

-- name: co_settings_put
-- $1 event, then each setting or NULL (unchanged, or the default for a new row).
INSERT INTO event_booking_settings AS s (event_id, service_fee_bp, service_fee_minor,
                                         payment_window_s, cancellable, cancel_deadline_h,
                                         cancel_fee_bp)
VALUES ($1, coalesce($2::int, 0), coalesce($3::bigint, 0), coalesce($4::int, 900),
        coalesce($5::boolean, true), coalesce($6::int, 24), coalesce($7::int, 0))
ON CONFLICT (event_id) DO UPDATE
SET service_fee_bp = coalesce($2::int, s.service_fee_bp),
    service_fee_minor = coalesce($3::bigint, s.service_fee_minor),
    payment_window_s = coalesce($4::int, s.payment_window_s),
    cancellable = coalesce($5::boolean, s.cancellable),
    cancel_deadline_h = coalesce($6::int, s.cancel_deadline_h),
    cancel_fee_bp = coalesce($7::int, s.cancel_fee_bp),
    updated_at = now()

-- name: co_tax_doc_list
-- $1 country or NULL: the tax rules, by place.
SELECT coalesce(jsonb_agg(jsonb_build_object(
        'id', r.id, 'type', 'tax_rule',
        'attributes', jsonb_build_object('country', r.country, 'region', r.region,
            'name', r.name, 'rate_ppm', r.rate_ppm, 'inclusive', r.inclusive,
            'applies_to', r.applies_to, 'currency', r.currency,
            'band_min_minor', r.band_min_minor, 'band_max_minor', r.band_max_minor,
            'valid_from', bx_utc_rfc3339(r.valid_from), 'valid_to', bx_utc_rfc3339(r.valid_to)))
        ORDER BY r.country, r.region NULLS FIRST, r.applies_to DESC, r.id), '[]')::text
FROM tax_rules r WHERE $1::text IS NULL OR r.country = $1

-- name: co_tax_insert
-- $1 id, $2 country, $3 region, $4 name, $5 rate ppm, $6 inclusive, $7 applies_to,
-- $8 currency, $9 band min, $10 band max, $11 valid from, $12 valid to.
INSERT INTO tax_rules (id, country, region, name, rate_ppm, inclusive, applies_to, currency,
                       band_min_minor, band_max_minor, valid_from, valid_to)
VALUES ($1, $2, $3, $4, $5::int, $6::boolean, coalesce($7, 'ticket'), $8, $9::bigint,
        $10::bigint, coalesce($11::timestamptz, '2000-01-01Z'), $12::timestamptz)
RETURNING id

-- name: co_tax_delete
DELETE FROM tax_rules WHERE id = $1
