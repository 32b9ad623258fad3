-- Holds: the hold worker (workers/hold). Every seat change is conditional, so the database
-- decides even when two workers ever own one event: a seat is taken only while it is
-- available, a GA quantity only while held + sold + n <= capacity.

-- name: hold_lock_events
-- First statement of a batch: the events (KEY SHARE, as the holds' foreign key will take)
-- and their inventory rows (FOR UPDATE), in id order. Every writer of an event's inventory
-- locks the inventory row (its trigger), so the batch sees a stable inventory.
SELECT e.id, i.version, i.hold_ttl_s, i.max_per_user, i.orphan_rule, e.status
FROM events e JOIN event_inventory i ON i.event_id = e.id
WHERE e.id = ANY ($1::uuid[])
ORDER BY e.id
FOR KEY SHARE OF e FOR UPDATE OF i

-- name: hold_versions
SELECT event_id, version FROM event_inventory WHERE event_id = ANY ($1::uuid[])

-- name: hold_view_load
-- One event's seats in layout order (section, row, seat), for the worker's view.
SELECT es.seat_id, es.label, es.section, es.row, es.tier_id, es.state
FROM event_seats es JOIN layout_seats ls ON ls.id = es.seat_id
WHERE es.event_id = $1
ORDER BY ls.position

-- name: hold_take_seats
-- $1 hold id (the request id), $2 event, $3 user, $4 seat ids (uuid[] text), $5 kind,
-- $6 lifetime in seconds, $7 per-user limit. Takes every seat or (count < n) the caller
-- rolls back; returns the user's tickets before, the seats taken, the labels that were not
-- available, and the hold document.
WITH lim AS (
    SELECT bx_user_event_tickets($2, $3) AS have
), upd AS (
    UPDATE event_seats s
    SET state = 'held', hold_id = $1, version = s.version + 1
    FROM lim
    WHERE s.event_id = $2 AND s.seat_id = ANY ($4::uuid[]) AND s.state = 'available'
      AND lim.have + cardinality($4::uuid[]) <= $7::int
    RETURNING s.seat_id, s.label, s.section, s.row, s.tier_id
), priced AS (
    SELECT u.seat_id, u.label, u.section, u.row, u.tier_id, t.name, t.price_minor
    FROM upd u JOIN ticket_tiers t ON t.id = u.tier_id
), lines AS (
    SELECT jsonb_agg(jsonb_build_object('tier_id', l.tier_id, 'name', l.name,
                                        'unit_price_minor', l.price_minor, 'quantity', l.n,
                                        'subtotal_minor', l.price_minor * l.n)
                     ORDER BY l.name) AS doc
    FROM (SELECT tier_id, name, price_minor, count(*) AS n FROM priced
          GROUP BY tier_id, name, price_minor) l
), ins AS (
    INSERT INTO holds (id, event_id, user_id, kind, quantity, seats, currency, total_minor, lines,
                       expires_at)
    SELECT $1, $2, $3, $5, count(*),
           jsonb_agg(jsonb_build_object('seat_id', p.seat_id, 'label', p.label,
                                        'section', p.section, 'row', p.row,
                                        'tier_id', p.tier_id, 'price_minor', p.price_minor)
                     ORDER BY p.label),
           e.currency, sum(p.price_minor), (SELECT doc FROM lines),
           now() + make_interval(secs => $6::int)
    FROM priced p, events e
    WHERE e.id = $2
    GROUP BY e.currency
    HAVING count(*) = cardinality($4::uuid[])
    RETURNING *
)
SELECT (SELECT have FROM lim), (SELECT count(*) FROM upd),
       (SELECT coalesce(jsonb_agg(s.label ORDER BY s.label), '[]')::text FROM event_seats s
        WHERE s.event_id = $2 AND s.seat_id = ANY ($4::uuid[])
          AND s.seat_id NOT IN (SELECT seat_id FROM upd)),
       (SELECT bx_hold_doc(ins::holds)::text FROM ins)

-- name: hold_take_ga
-- $1 hold id, $2 event, $3 user, $4 GA tier, $5 quantity, $6 lifetime s, $7 per-user limit.
-- Returns the user's tickets before, what the tier had left, the hold document, and the
-- tier's counts after it ({tier_id, capacity, held, sold, available}, for the live feed).
WITH lim AS (
    SELECT bx_user_event_tickets($2, $3) AS have
), upd AS (
    UPDATE event_ga g
    SET held = g.held + $5::int, version = g.version + 1
    FROM lim
    WHERE g.event_id = $2 AND g.tier_id = $4 AND g.held + g.sold + $5::int <= g.capacity
      AND lim.have + $5::int <= $7::int
    RETURNING g.tier_id, g.capacity, g.held, g.sold
), ins AS (
    INSERT INTO holds (id, event_id, user_id, kind, ga_tier_id, quantity, currency, total_minor,
                       lines, expires_at)
    SELECT $1, $2, $3, 'ga', t.id, $5::int, t.currency, t.price_minor * $5::int,
           jsonb_build_array(jsonb_build_object('tier_id', t.id, 'name', t.name,
                                                'unit_price_minor', t.price_minor,
                                                'quantity', $5::int,
                                                'subtotal_minor', t.price_minor * $5::int)),
           now() + make_interval(secs => $6::int)
    FROM upd JOIN ticket_tiers t ON t.id = upd.tier_id
    RETURNING *
)
SELECT (SELECT have FROM lim),
       (SELECT g.capacity - g.held - g.sold FROM event_ga g
        WHERE g.event_id = $2 AND g.tier_id = $4),
       (SELECT bx_hold_doc(ins::holds)::text FROM ins),
       (SELECT jsonb_build_object('tier_id', tier_id, 'capacity', capacity, 'held', held,
                                  'sold', sold, 'available', capacity - held - sold)::text
        FROM upd)

-- name: hold_admission
-- $1 hold, $2 admission token jti, $3 its expiry (epoch s): the waiting-room admission the
-- hold was made under, spent by the booking that completes it (bx_wroom_spend).
UPDATE holds SET admission_jti = $2, admission_exp = $3::bigint WHERE id = $1

-- name: hold_release
-- $1 hold, $2 event, $3 new state (released | expired), $4 owner user id or '' (any),
-- $5 only when due (expiry). Seats go back to available (blocked when the event was
-- cancelled meanwhile), GA held goes down. A hold whose booking is pending payment is not
-- released (only expired: checkout extended it to the payment deadline); a booking pending
-- on an expired hold expires with it (bx_booking_hold_ended). Returns holds ended (0 or 1),
-- the released seats [{seat_id, label, tier_id, state}], GA lines [{tier_id, quantity,
-- capacity, held, sold, available}] (counts after the release), the booking that expired
-- with the hold (or NULL), and whether a booking is pending payment on the hold.
WITH pend AS (
    SELECT EXISTS (SELECT 1 FROM bookings b
                   WHERE b.hold_id = $1 AND b.status = 'pending_payment') AS booked
), h AS (
    UPDATE holds
    SET state = $3, ended_at = now()
    WHERE id = $1 AND event_id = $2 AND state = 'active'
      AND ($4 = '' OR user_id::text = $4)
      AND (NOT $5::boolean OR expires_at <= now())
      AND ($3 <> 'released' OR NOT (SELECT booked FROM pend))
    RETURNING id, ga_tier_id, quantity
), bk AS (
    SELECT bx_booking_hold_ended(h.id) AS booking FROM h
), ev AS (
    SELECT status FROM events WHERE id = $2
), s AS (
    UPDATE event_seats es
    SET state = CASE WHEN (SELECT status FROM ev) = 'cancelled' THEN 'blocked'
                     ELSE 'available' END,
        hold_id = NULL, version = es.version + 1
    FROM h
    WHERE es.event_id = $2 AND es.hold_id = h.id AND es.state = 'held'
    RETURNING es.seat_id, es.label, es.tier_id, es.state
), g AS (
    UPDATE event_ga x
    SET held = x.held - h.quantity, version = x.version + 1
    FROM h
    WHERE x.event_id = $2 AND x.tier_id = h.ga_tier_id
    RETURNING x.tier_id, h.quantity, x.capacity, x.held, x.sold
)
SELECT (SELECT count(*) FROM h),
       (SELECT coalesce(jsonb_agg(jsonb_build_object('seat_id', seat_id, 'label', label,
                                                     'tier_id', tier_id, 'state', state)),
                        '[]')::text FROM s),
       (SELECT coalesce(jsonb_agg(jsonb_build_object('tier_id', tier_id, 'quantity', quantity,
                                                     'capacity', capacity, 'held', held,
                                                     'sold', sold,
                                                     'available', capacity - held - sold)),
                        '[]')::text FROM g),
       (SELECT booking FROM bk),
       (SELECT booked FROM pend)

-- name: hold_doc
-- $1 hold, $2 event, $3 owner user id or '' (any).
SELECT bx_hold_doc(h)::text, h.state FROM holds h
WHERE h.id = $1 AND h.event_id = $2 AND ($3 = '' OR h.user_id::text = $3)

-- name: hold_expiry_due
-- The expiry sweep (each hold worker's timer): due active holds become expire_many jobs for
-- the hold pool, up to 100 holds of one event per job (outbox service hold, topic
-- hold.expire, keyed by event, so the worker owning the event releases them): a mass
-- expiry after a hot sale is a few hundred jobs, not tens of thousands crowding out new
-- holds in the pool's queue. expiry_queued_at keeps two workers from queueing one hold
-- twice; a hold still active 30 s after being queued is queued again (its release is
-- idempotent).
WITH due AS (
    SELECT id, event_id FROM holds
    WHERE state = 'active' AND expires_at <= now()
      AND (expiry_queued_at IS NULL OR expiry_queued_at < now() - interval '30 seconds')
    ORDER BY expires_at
    LIMIT $1::int
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE holds h SET expiry_queued_at = now()
    FROM due WHERE h.id = due.id
    RETURNING h.id, h.event_id
), chunks AS (
    SELECT event_id, jsonb_agg(id ORDER BY id) AS ids
    FROM (SELECT id, event_id,
                 (row_number() OVER (PARTITION BY event_id ORDER BY id) - 1) / 100 AS chunk
          FROM marked) m
    GROUP BY event_id, chunk
)
INSERT INTO outbox (service, topic, route_key, payload, request_id)
SELECT 'hold', 'hold.expire', c.event_id::text,
       jsonb_build_object('op', 'expire_many', 'hold_ids', c.ids, 'event_id', c.event_id),
       gen_random_uuid()
FROM chunks c
RETURNING id

-- ---- the cart: seats and GA units added to or removed from an active hold ----

-- name: hold_owned
-- The frontdoor's read of a caller's hold: $1 hold, $2 event, $3 owner. The document, the
-- state, and whether a booking is pending payment on it.
SELECT bx_hold_doc(h)::text, h.state,
       EXISTS (SELECT 1 FROM bookings b WHERE b.hold_id = h.id AND b.status = 'pending_payment')
FROM holds h
WHERE h.id = $1 AND h.event_id = $2 AND h.user_id::text = $3

-- name: hold_cart
-- The hold pool's read of a hold before a cart change, locking it: $1 hold, $2 event,
-- $3 owner. State, kind, GA tier, quantity, seats, lines, a booking pending payment on it,
-- already due, and the event's tiers {tier_id: {name, kind, price_minor, min, max}}.
SELECT h.state, h.kind, h.ga_tier_id, h.quantity, h.seats::text, h.lines::text,
       EXISTS (SELECT 1 FROM bookings b WHERE b.hold_id = h.id AND b.status = 'pending_payment'),
       h.expires_at <= now(),
       (SELECT jsonb_object_agg(t.id, jsonb_build_object(
                   'name', t.name, 'kind', t.kind, 'price_minor', t.price_minor,
                   'min', t.min_per_order, 'max', t.max_per_order))
        FROM ticket_tiers t WHERE t.event_id = h.event_id)::text
FROM holds h
WHERE h.id = $1 AND h.event_id = $2 AND h.user_id::text = $3
FOR UPDATE OF h

-- name: hold_add_seats
-- $1 hold, $2 event, $3 user, $4 seat ids (uuid[] text), $5 per-user limit. Takes every
-- seat for the hold at its tier's price, or (count < n) the caller rolls back; returns the
-- user's tickets before, the seats taken, the labels that were not available, and the hold
-- document after.
WITH lim AS (
    SELECT bx_user_event_tickets($2, $3::uuid) AS have
), upd AS (
    UPDATE event_seats s
    SET state = 'held', hold_id = $1, version = s.version + 1
    FROM lim
    WHERE s.event_id = $2 AND s.seat_id = ANY ($4::uuid[]) AND s.state = 'available'
      AND lim.have + cardinality($4::uuid[]) <= $5::int
    RETURNING s.seat_id, s.label, s.section, s.row, s.tier_id
), added AS (
    SELECT coalesce(jsonb_agg(jsonb_build_object('seat_id', u.seat_id, 'label', u.label,
                                                 'section', u.section, 'row', u.row,
                                                 'tier_id', u.tier_id,
                                                 'price_minor', t.price_minor)), '[]') AS seats,
           count(*) AS n
    FROM upd u JOIN ticket_tiers t ON t.id = u.tier_id
)
SELECT (SELECT have FROM lim), (SELECT n FROM added),
       (SELECT coalesce(jsonb_agg(s.label ORDER BY s.label), '[]')::text FROM event_seats s
        WHERE s.event_id = $2 AND s.seat_id = ANY ($4::uuid[])
          AND s.seat_id NOT IN (SELECT seat_id FROM upd)),
       (SELECT bx_hold_doc(bx_hold_set_seats($1, h.seats || a.seats))::text
        FROM holds h, added a
        WHERE h.id = $1 AND a.n = cardinality($4::uuid[]))

-- name: hold_remove_seats
-- $1 hold, $2 event, $3 seat ids (uuid[] text) of the hold. They go back to available
-- (blocked when the event was cancelled meanwhile) and leave the hold, or (count < n) the
-- caller rolls back. Returns the seats released [{seat_id, label, tier_id, state}] and the
-- hold document after.
WITH ev AS (
    SELECT status FROM events WHERE id = $2
), upd AS (
    UPDATE event_seats es
    SET state = CASE WHEN (SELECT status FROM ev) = 'cancelled' THEN 'blocked'
                     ELSE 'available' END,
        hold_id = NULL, version = es.version + 1
    WHERE es.event_id = $2 AND es.hold_id = $1 AND es.state = 'held'
      AND es.seat_id = ANY ($3::uuid[])
    RETURNING es.seat_id, es.label, es.tier_id, es.state
)
SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('seat_id', seat_id, 'label', label,
                                                     'tier_id', tier_id, 'state', state)),
                        '[]')::text FROM upd),
       (SELECT bx_hold_doc(bx_hold_set_seats($1, (
                   SELECT jsonb_agg(x) FROM jsonb_array_elements(h.seats) x
                   WHERE NOT (x->>'seat_id')::uuid = ANY ($3::uuid[]))))::text
        FROM holds h
        WHERE h.id = $1 AND (SELECT count(*) FROM upd) = cardinality($3::uuid[]))

-- name: hold_add_ga
-- $1 hold, $2 event, $3 user, $4 GA tier, $5 units, $6 per-user limit, $7 the hold's new
-- lines (JSON). Returns the user's tickets before, what the tier had left, the hold
-- document after (NULL when refused: the caller rolls back) and the tier's counts after.
WITH lim AS (
    SELECT bx_user_event_tickets($2, $3::uuid) AS have
), upd AS (
    UPDATE event_ga g
    SET held = g.held + $5::int, version = g.version + 1
    FROM lim
    WHERE g.event_id = $2 AND g.tier_id = $4 AND g.held + g.sold + $5::int <= g.capacity
      AND lim.have + $5::int <= $6::int
    RETURNING g.tier_id, g.capacity, g.held, g.sold
)
SELECT (SELECT have FROM lim),
       (SELECT g.capacity - g.held - g.sold FROM event_ga g
        WHERE g.event_id = $2 AND g.tier_id = $4),
       (SELECT bx_hold_doc(bx_hold_set_ga($1, $7::jsonb))::text FROM upd),
       (SELECT jsonb_build_object('tier_id', tier_id, 'capacity', capacity, 'held', held,
                                  'sold', sold, 'available', capacity - held - sold)::text
        FROM upd)

-- name: hold_remove_ga
-- $1 hold, $2 event, $3 GA tier, $4 units, $5 the hold's new lines (JSON). Returns the hold
-- document after and the tier's counts after.
WITH upd AS (
    UPDATE event_ga g
    SET held = g.held - $4::int, version = g.version + 1
    WHERE g.event_id = $2 AND g.tier_id = $3 AND g.held >= $4::int
    RETURNING g.tier_id, g.capacity, g.held, g.sold
)
SELECT (SELECT bx_hold_doc(bx_hold_set_ga($1, $5::jsonb))::text FROM upd),
       (SELECT jsonb_build_object('tier_id', tier_id, 'capacity', capacity, 'held', held,
                                  'sold', sold, 'available', capacity - held - sold)::text
        FROM upd)
