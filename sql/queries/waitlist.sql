-- Waitlist: customers' entries (frontdoor fd_waitlist) and the offers bx-worker-waitlist
-- makes from released inventory, in position order, lapsing to the next person.

-- name: wl_available
-- Units of the event (or of tier $2) nobody holds or bought, and whether tier $2 is the
-- event's (1) or not (0; always 1 without a tier).
SELECT (SELECT count(*) FROM event_seats s
        WHERE s.event_id = $1 AND s.state = 'available' AND ($2::uuid IS NULL OR s.tier_id = $2))
     + (SELECT coalesce(sum(g.capacity - g.held - g.sold), 0) FROM event_ga g
        WHERE g.event_id = $1 AND ($2::uuid IS NULL OR g.tier_id = $2)),
       CASE WHEN $2::uuid IS NULL THEN 1
            ELSE (SELECT count(*) FROM ticket_tiers t WHERE t.event_id = $1 AND t.id = $2) END

-- name: wl_join
INSERT INTO waitlist_entries (id, event_id, tier_id, user_id, quantity)
VALUES ($1, $2, $3, $4, $5::int)
ON CONFLICT (event_id, user_id) WHERE state IN ('waiting', 'offered') DO NOTHING
RETURNING id

-- name: wl_mine
-- The caller's live entry (else the latest), with the number of people waiting ahead; an
-- offer whose hold was converted reads as accepted at once.
SELECT w.id, w.tier_id, w.quantity,
       CASE WHEN w.state = 'offered'
                 AND (SELECT h.state FROM holds h WHERE h.id = w.offer_hold_id) = 'converted'
            THEN 'accepted' ELSE w.state END,
       w.offer_hold_id, w.offered_quantity,
       bx_utc_rfc3339(w.offer_expires_at), bx_utc_rfc3339(w.created_at),
       (SELECT count(*) FROM waitlist_entries o
        WHERE o.event_id = w.event_id AND o.state = 'waiting' AND o.position < w.position)
FROM waitlist_entries w
WHERE w.event_id = $1 AND w.user_id = $2
ORDER BY (w.state IN ('waiting', 'offered')) DESC, w.position DESC
LIMIT 1

-- name: wl_cancel
UPDATE waitlist_entries SET state = 'cancelled', updated_at = now()
WHERE event_id = $1 AND user_id = $2 AND state IN ('waiting', 'offered')
RETURNING id, offer_hold_id

-- name: wl_outbox_released
-- Inventory a waitlist change gave back ($2, the inventory.released payload), offered to
-- the next people by bx-worker-waitlist.
INSERT INTO outbox (service, topic, route_key, payload, request_id)
VALUES ('waitlist', 'inventory.released', $1, $2::jsonb, gen_random_uuid())

-- name: wl_next
-- The next people waiting, in order, after position $3.
SELECT id, user_id, tier_id, quantity, position FROM waitlist_entries
WHERE event_id = $1 AND state = 'waiting' AND position > $3::bigint
ORDER BY position
LIMIT $2::int
FOR UPDATE SKIP LOCKED

-- name: wl_user_tickets
SELECT bx_user_event_tickets($1, $2)

-- name: wl_seats_free
-- Which of the released seats are still available, with their tiers, in label order.
SELECT s.seat_id, s.tier_id FROM event_seats s
WHERE s.event_id = $1 AND s.seat_id = ANY ($2::uuid[]) AND s.state = 'available'
ORDER BY s.label

-- name: wl_ga_left
SELECT g.capacity - g.held - g.sold FROM event_ga g WHERE g.event_id = $1 AND g.tier_id = $2

-- name: wl_offer_ttl
SELECT coalesce((SELECT offer_ttl_s FROM waitroom_config WHERE event_id = $1), $2::int)

-- name: wl_offer
UPDATE waitlist_entries
SET state = 'offered', offer_hold_id = $2, offered_quantity = $3::int, offered_at = now(),
    offer_expires_at = (SELECT expires_at FROM holds WHERE id = $2), updated_at = now()
WHERE id = $1 AND state = 'waiting'

-- name: wl_due_offers
-- Offers of an event that are over: expired, or whose hold ended (converted: accepted).
SELECT w.id, w.offer_hold_id, coalesce(h.state, 'released') FROM waitlist_entries w
LEFT JOIN holds h ON h.id = w.offer_hold_id
WHERE w.event_id = $1 AND w.state = 'offered'
  AND (w.offer_expires_at <= now() OR h.state IS DISTINCT FROM 'active')
ORDER BY w.position
FOR UPDATE OF w

-- name: wl_settle
UPDATE waitlist_entries SET state = $2, updated_at = now() WHERE id = $1 AND state = 'offered'

-- name: wl_lapse_queue
-- The gatekeeper tick: one waitlist.lapse job per event with offers that are over.
WITH due AS (
    SELECT w.id, w.event_id FROM waitlist_entries w
    WHERE w.state = 'offered'
      AND (w.offer_expires_at <= now()
           OR EXISTS (SELECT 1 FROM holds h WHERE h.id = w.offer_hold_id AND h.state <> 'active'))
      AND (w.lapse_queued_at IS NULL OR w.lapse_queued_at < now() - interval '30 seconds')
    ORDER BY w.offer_expires_at
    LIMIT $1::int
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE waitlist_entries w SET lapse_queued_at = now()
    FROM due WHERE w.id = due.id
    RETURNING w.event_id
)
INSERT INTO outbox (service, topic, route_key, payload, request_id)
SELECT 'waitlist', 'waitlist.lapse', m.event_id::text,
       jsonb_build_object('op', 'lapse', 'event_id', m.event_id), gen_random_uuid()
FROM (SELECT DISTINCT event_id FROM marked) m
RETURNING id

-- name: wl_seat_states
-- What the live feed says about changed seats.
SELECT coalesce(jsonb_agg(jsonb_build_object('seat_id', s.seat_id, 'label', s.label,
                                             'tier_id', s.tier_id, 'state', s.state)
                          ORDER BY s.label), '[]')::text
FROM event_seats s WHERE s.event_id = $1 AND s.seat_id = ANY ($2::uuid[])

-- name: wl_ga_counts
SELECT coalesce(jsonb_agg(jsonb_build_object('tier_id', g.tier_id, 'capacity', g.capacity,
                                             'held', g.held, 'sold', g.sold,
                                             'available', g.capacity - g.held - g.sold)), '[]')::text
FROM event_ga g WHERE g.event_id = $1 AND g.tier_id = ANY ($2::uuid[])
