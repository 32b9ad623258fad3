-- delivery_booking: the sweeps and the ticket-holder fan-out of the delivery pools
-- (workers/delivery/dlv_sweep.c, dlv_holders.c; migration 0014). Each sweep claims what
-- it sends by inserting its "sent" row in the same statement (ON CONFLICT DO NOTHING), so
-- concurrent sweepers never send one message twice.

-- Confirmed bookings of events starting within 24 hours (never after the start) that were
-- confirmed before the reminder fell due (a booking made within the last 24 hours just got
-- its confirmation with the date) and have no reminder yet: claims up to $1 of them and
-- returns booking id, user id and the message data.
-- name: dlvb_reminders_claim
WITH due AS (
    SELECT b.id FROM events e JOIN bookings b ON b.event_id = e.id
    WHERE e.starts_at > now() AND e.starts_at <= now() + interval '24 hours'
      AND e.status IN ('published', 'on_sale')
      AND b.status = 'confirmed' AND b.confirmed_at <= e.starts_at - interval '24 hours'
      AND NOT EXISTS (SELECT 1 FROM dlv_reminders_sent r WHERE r.booking_id = b.id)
    ORDER BY e.starts_at, b.id LIMIT $1::int
), ins AS (
    INSERT INTO dlv_reminders_sent (booking_id) SELECT id FROM due
    ON CONFLICT DO NOTHING RETURNING booking_id
)
SELECT b.id, b.user_id,
       jsonb_build_object('booking_id', b.id,
                          'event', jsonb_build_object('id', e.id, 'name', e.name,
                                       'starts_at', bx_local_rfc3339(e.starts_at, v.time_zone)),
                          'venue_name', v.name)::text
FROM ins JOIN bookings b ON b.id = ins.booking_id JOIN events e ON e.id = b.event_id
JOIN venues v ON v.id = e.venue_id

-- Active holds expiring within $1 seconds whose lifetime is at least twice that and that
-- were not warned yet: claims up to $2 and returns hold id, user id and the message data.
-- name: dlvb_hold_notices_claim
WITH due AS (
    SELECT h.id FROM holds h
    WHERE h.state = 'active' AND h.expires_at > now()
      AND h.expires_at <= now() + make_interval(secs => $1::int)
      AND h.expires_at - h.created_at >= make_interval(secs => 2 * $1::int)
      AND NOT EXISTS (SELECT 1 FROM dlv_hold_notices n WHERE n.hold_id = h.id)
    ORDER BY h.expires_at LIMIT $2::int
), ins AS (
    INSERT INTO dlv_hold_notices (hold_id) SELECT id FROM due
    ON CONFLICT DO NOTHING RETURNING hold_id
)
SELECT h.id, h.user_id,
       jsonb_build_object('hold_id', h.id,
                          'event', jsonb_build_object('id', e.id, 'name', e.name),
                          'expires_at', bx_local_rfc3339(h.expires_at, v.time_zone),
                          'booking_id', (SELECT b.id FROM bookings b WHERE b.hold_id = h.id
                                         AND b.status = 'pending_payment'))::text
FROM ins JOIN holds h ON h.id = ins.hold_id JOIN events e ON e.id = h.event_id
JOIN venues v ON v.id = e.venue_id

-- Events of the future whose inventory changed since the last check (up to $2): records
-- the version checked, claims the marks they reached (less than $1 percent of the capacity
-- left: inventory.low; nothing left: event.sold_out) and returns event id, mark, capacity
-- and what is left, low before sold out.
-- name: dlvb_inventory_marks_claim
WITH changed AS (
    SELECT i.event_id, i.version FROM event_inventory i JOIN events e ON e.id = i.event_id
    LEFT JOIN dlv_inventory_checked c ON c.event_id = i.event_id
    WHERE e.status IN ('published', 'on_sale') AND e.starts_at > now()
      AND c.version IS DISTINCT FROM i.version
    ORDER BY i.updated_at LIMIT $2::int
), counts AS (
    SELECT c.event_id, c.version,
           coalesce((SELECT count(*) FROM event_seats s
                     WHERE s.event_id = c.event_id AND s.state <> 'blocked'), 0)
           + coalesce((SELECT sum(g.capacity) FROM event_ga g WHERE g.event_id = c.event_id), 0)
               AS capacity,
           coalesce((SELECT count(*) FROM event_seats s
                     WHERE s.event_id = c.event_id AND s.state = 'available'), 0)
           + coalesce((SELECT sum(g.capacity - g.held - g.sold) FROM event_ga g
                       WHERE g.event_id = c.event_id), 0) AS remaining
    FROM changed c
), checked AS (
    INSERT INTO dlv_inventory_checked (event_id, version) SELECT event_id, version FROM counts
    ON CONFLICT (event_id) DO UPDATE SET version = excluded.version
), marks AS (
    INSERT INTO dlv_event_marks (event_id, mark)
    SELECT c.event_id, x.m FROM counts c, (VALUES ('inventory.low'), ('event.sold_out')) x (m)
    WHERE c.capacity > 0
      AND (x.m = 'inventory.low' AND c.remaining * 100 < c.capacity * $1::int
           OR x.m = 'event.sold_out' AND c.remaining = 0)
    ON CONFLICT DO NOTHING RETURNING event_id, mark
)
SELECT m.event_id, m.mark, c.capacity, c.remaining
FROM marks m JOIN counts c ON c.event_id = m.event_id
ORDER BY m.event_id, m.mark DESC

-- Waiting rooms that opened (prequeue) within the last day and were not announced yet:
-- claims up to $1 and returns event id and the room's times.
-- name: dlvb_queue_opened_claim
WITH due AS (
    SELECT w.event_id FROM waitroom_config w JOIN events e ON e.id = w.event_id
    WHERE w.enabled AND w.prequeue_opens_at <= now()
      AND w.prequeue_opens_at > now() - interval '1 day'
      AND e.status IN ('published', 'on_sale')
      AND NOT EXISTS (SELECT 1 FROM dlv_event_marks m
                      WHERE m.event_id = w.event_id AND m.mark = 'queue.opened')
    LIMIT $1::int
), ins AS (
    INSERT INTO dlv_event_marks (event_id, mark) SELECT event_id, 'queue.opened' FROM due
    ON CONFLICT DO NOTHING RETURNING event_id
)
SELECT w.event_id, bx_utc_rfc3339(w.prequeue_opens_at), bx_utc_rfc3339(w.sale_starts_at)
FROM ins JOIN waitroom_config w ON w.event_id = ins.event_id

-- Waiting-room admissions still valid, made within the last hour and not told yet:
-- claims up to $1 and returns entry id, user id and the message data (queue.admitted).
-- name: dlvb_admissions_claim
WITH due AS (
    SELECT w.id FROM waitroom_entries w
    WHERE w.state = 'admitted' AND w.admission_expires_at > now()
      AND w.admitted_at > now() - interval '1 hour'
      AND NOT EXISTS (SELECT 1 FROM dlv_admission_notices n WHERE n.entry_id = w.id)
    ORDER BY w.admitted_at LIMIT $1::int
), ins AS (
    INSERT INTO dlv_admission_notices (entry_id) SELECT id FROM due
    ON CONFLICT DO NOTHING RETURNING entry_id
)
SELECT w.id, w.user_id,
       jsonb_build_object('event', jsonb_build_object('id', e.id, 'name', e.name),
                          'expires_at', bx_local_rfc3339(w.admission_expires_at, v.time_zone),
                          'link', '/api/v1/events/' || e.id || '/inventory')::text
FROM ins JOIN waitroom_entries w ON w.id = ins.entry_id JOIN events e ON e.id = w.event_id
JOIN venues v ON v.id = e.venue_id

-- Waitlist offers still open and not told yet: claims up to $1 and returns entry id, user
-- id and the message data (waitlist.offer).
-- name: dlvb_offers_claim
WITH due AS (
    SELECT w.id, w.offer_hold_id FROM waitlist_entries w
    WHERE w.state = 'offered' AND w.offer_expires_at > now()
      AND NOT EXISTS (SELECT 1 FROM dlv_offer_notices n
                      WHERE n.entry_id = w.id AND n.hold_id = w.offer_hold_id)
    ORDER BY w.offered_at LIMIT $1::int
), ins AS (
    INSERT INTO dlv_offer_notices (entry_id, hold_id) SELECT id, offer_hold_id FROM due
    ON CONFLICT DO NOTHING RETURNING entry_id
)
SELECT w.id, w.user_id,
       jsonb_build_object('event', jsonb_build_object('id', e.id, 'name', e.name),
                          'hold_id', w.offer_hold_id, 'quantity', w.offered_quantity,
                          'expires_at', bx_local_rfc3339(w.offer_expires_at, v.time_zone),
                          'link', '/api/v1/events/' || e.id || '/inventory/hold/'
                                  || w.offer_hold_id)::text
FROM ins JOIN waitlist_entries w ON w.id = ins.entry_id JOIN events e ON e.id = w.event_id
JOIN venues v ON v.id = e.venue_id

-- ---- ticket holders of a changed or cancelled event ----

-- The event as holders' messages show it (local start time, venue name).
-- name: dlvb_event_brief
SELECT jsonb_build_object('id', e.id, 'name', e.name,
                          'starts_at', bx_local_rfc3339(e.starts_at, v.time_zone),
                          'status', e.status)::text, v.name
FROM events e JOIN venues v ON v.id = e.venue_id WHERE e.id = $1

-- The next $5 holders of event $1 after user $4 ('' from the start), each once: users with
-- a confirmed booking, and for a cancellation ($2 'event.cancelled') also bookings
-- cancelled at or after the event's cancellation ($3, microseconds since the epoch).
-- name: dlvb_holders_page
SELECT b.user_id FROM bookings b
WHERE b.event_id = $1 AND b.confirmed_at IS NOT NULL
  AND (b.status = 'confirmed'
       OR $2 = 'event.cancelled' AND b.status = 'cancelled'
          AND b.cancelled_at >= to_timestamp($3::bigint / 1000000.0))
  AND ($4 = '' OR b.user_id > NULLIF($4, '')::uuid)
GROUP BY b.user_id ORDER BY b.user_id LIMIT $5::int
