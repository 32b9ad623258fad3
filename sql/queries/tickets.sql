-- Tickets (docs/tickets.md): the signing keys, the ticket pool (workers/ticket) and the
-- frontdoor's ticket, check-in and revocation routes (frontdoor/fd_tickets.c).

-- ---- keys ----

-- name: ticket_key_signing
SELECT kid, private_key FROM ticket_keys WHERE retired_at IS NULL

-- name: ticket_key_insert
-- A racing creator's key wins through the unique index on the signing key.
INSERT INTO ticket_keys (kid, private_key, public_key) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING

-- name: ticket_key_public
SELECT public_key FROM ticket_keys WHERE kid = $1

-- name: ticket_keys_public
-- Every key, signing key first, then newest first.
SELECT kid, public_key FROM ticket_keys ORDER BY retired_at IS NOT NULL, created_at DESC

-- name: ticket_key_rotate
-- Retires the signing key; the next signer generates a new one.
UPDATE ticket_keys SET retired_at = now() WHERE retired_at IS NULL RETURNING kid

-- ---- the ticket pool ----

-- name: ticket_booking_lock
-- The booking (locked: one issue job at a time per booking), its hold and its event.
SELECT b.status, b.user_id, b.event_id, b.org_id, b.hold_id, b.currency, b.total_minor,
       b.tickets_issued_at IS NOT NULL, h.kind, h.ga_tier_id, h.quantity, e.name,
       to_char(e.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
FROM bookings b JOIN holds h ON h.id = b.hold_id JOIN events e ON e.id = b.event_id
WHERE b.id = $1
FOR UPDATE OF b

-- name: ticket_units
-- One row per ticket to issue, in serial order: the hold's sold seats in layout order, or
-- the GA tier repeated quantity times. $1 event, $2 hold, $3 GA tier (NULL for seats),
-- $4 quantity.
SELECT es.seat_id, es.label, es.tier_id, t.price_minor, ls.position::bigint
FROM event_seats es JOIN layout_seats ls ON ls.id = es.seat_id
     JOIN ticket_tiers t ON t.id = es.tier_id
WHERE $3::uuid IS NULL AND es.event_id = $1 AND es.hold_id = $2 AND es.state = 'sold'
UNION ALL
SELECT NULL, left(t.name, 56) || ' #' || n, t.id, t.price_minor, n::bigint
FROM ticket_tiers t, generate_series(1, $4::int) n
WHERE t.id = $3::uuid
ORDER BY 5, 2

-- name: ticket_insert
-- $1 id, $2 booking, $3 event, $4 user, $5 tier, $6 seat, $7 label, $8 price, $9 serial,
-- $10 kid, $11 payload, $12 issued (epoch seconds). A replay finds the serial taken.
INSERT INTO tickets (id, booking_id, event_id, user_id, tier_id, seat_id, label, price_minor,
                     serial, kid, payload, issued_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, to_timestamp($12::bigint))
ON CONFLICT (booking_id, serial) DO NOTHING

-- name: ticket_issued
UPDATE bookings SET tickets_issued_at = now(), updated_at = now()
WHERE id = $1 AND tickets_issued_at IS NULL

-- name: ticket_list_brief
SELECT id, label, payload FROM tickets WHERE booking_id = $1 ORDER BY serial

-- ---- frontdoor ----

-- name: ticket_booking_get
-- The booking's status, owner, organization, whether its tickets are issued, and its
-- tickets as JSON.
SELECT b.status, b.user_id, b.org_id, b.tickets_issued_at IS NOT NULL, b.event_id,
       coalesce((SELECT json_agg(json_build_object(
                    'id', t.id, 'label', t.label, 'serial', t.serial,
                    'tier', json_build_object('id', t.tier_id, 'name', tt.name),
                    'seat', CASE WHEN t.seat_id IS NULL THEN NULL ELSE json_build_object(
                        'id', t.seat_id, 'label', es.label, 'section', es.section,
                        'row', es.row) END,
                    'status', t.status, 'kid', t.kid, 'payload', t.payload,
                    'issued_at', t.issued_at, 'revoked_at', t.revoked_at,
                    'checked_in_at', c.scanned_at) ORDER BY t.serial)
                 FROM tickets t JOIN ticket_tiers tt ON tt.id = t.tier_id
                      LEFT JOIN event_seats es ON es.event_id = t.event_id AND es.seat_id = t.seat_id
                      LEFT JOIN checkins c ON c.ticket_id = t.id
                 WHERE t.booking_id = b.id), '[]')
FROM bookings b WHERE b.id = $1

-- name: ticket_get
-- A ticket with what the QR routes and check-ins need.
SELECT t.payload, t.status, t.user_id, e.org_id, t.event_id, e.status, t.booking_id
FROM tickets t JOIN events e ON e.id = t.event_id
WHERE t.id = $1

-- name: ticket_checkin
-- Admits once: the row exists afterwards either way; inserted says whether this scan made it.
WITH ins AS (
    INSERT INTO checkins (ticket_id, event_id, scanner_id, gate, device)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (ticket_id) DO NOTHING
    RETURNING scanned_at, gate, device
)
SELECT true, to_char(scanned_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), gate, device
FROM ins

-- name: ticket_checkin_first
SELECT to_char(scanned_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), gate, device,
       scanner_id
FROM checkins WHERE ticket_id = $1

-- name: ticket_event_org
SELECT org_id, status FROM events WHERE id = $1

-- name: ticket_revoked
-- The event's revoked tickets, revoked after $2 (NULL: all), with the server's time. A
-- delta reaches 60 s before $2: a cancellation whose transaction began before the previous
-- list was generated but committed after it carries an earlier revoked_at, and must not
-- be missed (ids are a set: the overlap repeats a few, harmlessly).
SELECT coalesce(json_agg(t.id ORDER BY t.revoked_at, t.id), '[]'),
       to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       to_char(max(t.revoked_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
FROM tickets t
WHERE t.event_id = $1 AND t.status = 'revoked' AND ($2::timestamptz IS NULL OR t.revoked_at > $2::timestamptz - interval '60 seconds')
