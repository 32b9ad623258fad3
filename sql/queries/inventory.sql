-- Inventory and holds in the frontdoor (fd_inventory, fd_holds): availability documents,
-- the checks a hold request passes before it is queued, reading and releasing holds, and the
-- partner's inventory control (block/unblock seats, tier prices and GA capacities, hold
-- settings), each a conditional statement inside one transaction.

-- name: inv_hold_check
-- $1 event, $2 JSON array of requested seats (seat ids or labels) or NULL. Returns the
-- status, the requested seats resolved in request order ({ask, seat_id, label, tier_id},
-- seat_id null when unknown) and the event's tiers by id.
SELECT e.status,
       (SELECT jsonb_agg(jsonb_build_object('ask', a.ask, 'seat_id', s.seat_id, 'label', s.label,
                                            'tier_id', s.tier_id) ORDER BY a.n)
        FROM jsonb_array_elements_text(coalesce($2::jsonb, '[]'::jsonb)) WITH ORDINALITY
             AS a (ask, n)
        LEFT JOIN LATERAL (
            SELECT x.seat_id, x.label, x.tier_id FROM (
                SELECT es.seat_id, es.label, es.tier_id FROM event_seats es
                WHERE es.event_id = e.id AND es.label = a.ask
                UNION ALL
                SELECT es.seat_id, es.label, es.tier_id FROM event_seats es
                WHERE es.event_id = e.id
                  AND es.seat_id = CASE WHEN a.ask ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
                                        THEN a.ask::uuid END) x
            LIMIT 1) s ON true)::text,
       (SELECT jsonb_object_agg(t.id, jsonb_build_object(
                   'kind', t.kind, 'name', t.name, 'min', t.min_per_order,
                   'max', t.max_per_order,
                   'open', (t.sale_starts_at IS NULL OR t.sale_starts_at <= now())
                           AND (t.sale_ends_at IS NULL OR t.sale_ends_at > now())))
        FROM ticket_tiers t WHERE t.event_id = e.id)::text
FROM events e WHERE e.id = $1

-- name: inv_hold_get
-- $1 hold, $2 event, $3 owner: the hold document and state, only for its owner.
SELECT bx_hold_doc(h)::text, h.state FROM holds h
WHERE h.id = $1 AND h.event_id = $2 AND h.user_id = $3

-- name: inv_version
-- What an availability read needs first: status, owner, inventory version and its time.
SELECT e.status, e.org_id, i.version, extract(epoch FROM i.updated_at)::bigint
FROM events e LEFT JOIN event_inventory i ON i.event_id = e.id
WHERE e.id = $1

-- name: inv_document
-- $1 event, $2 with seat states (boolean). The document (tier counts, settings; sections
-- null: the frontdoor fills the seat map from its cached layout and the states), the
-- inventory version, and, when asked, one letter per seat in layout order (a available,
-- h held, s sold, b blocked), all from one snapshot.
SELECT jsonb_build_object('data', jsonb_build_object(
    'id', e.id, 'type', 'inventory',
    'attributes', jsonb_build_object(
        'event_id', e.id, 'status', e.status, 'version', i.version, 'currency', e.currency,
        'updated_at', bx_utc_rfc3339(i.updated_at),
        'settings', jsonb_build_object('hold_ttl_s', i.hold_ttl_s,
                                       'max_per_user', i.max_per_user,
                                       'orphan_rule', i.orphan_rule),
        'tiers', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'id', t.id, 'name', t.name, 'kind', t.kind,
                       'price_minor', t.price_minor, 'currency', t.currency,
                       'capacity', coalesce(g.capacity, c.total, 0),
                       'available', coalesce(g.capacity - g.held - g.sold, c.available, 0),
                       'held', coalesce(g.held, c.held, 0),
                       'sold', coalesce(g.sold, c.sold, 0),
                       'blocked', coalesce(c.blocked, 0)) ORDER BY t.position, t.id), '[]')
            FROM ticket_tiers t
            LEFT JOIN event_ga g ON g.event_id = t.event_id AND g.tier_id = t.id
            LEFT JOIN (SELECT es.tier_id, count(*) AS total,
                              count(*) FILTER (WHERE es.state = 'available') AS available,
                              count(*) FILTER (WHERE es.state = 'held') AS held,
                              count(*) FILTER (WHERE es.state = 'sold') AS sold,
                              count(*) FILTER (WHERE es.state = 'blocked') AS blocked
                       FROM event_seats es WHERE es.event_id = $1 GROUP BY es.tier_id) c
                   ON c.tier_id = t.id
            WHERE t.event_id = e.id),
        'sections', NULL),
    'links', jsonb_build_object('self', '/api/v1/events/' || e.id || '/inventory')))::text,
    i.version,
    CASE WHEN $2::boolean THEN (
        SELECT string_agg(left(es.state, 1), '' ORDER BY ls.position)
        FROM event_seats es JOIN layout_seats ls ON ls.id = es.seat_id
        WHERE es.event_id = $1) END
FROM events e JOIN event_inventory i ON i.event_id = e.id
WHERE e.id = $1

-- name: inv_seatmap
-- The event's seat map without states, in layout order: it never changes once the event is
-- published (layouts are immutable, seated tiers fixed), so the frontdoor keeps it.
SELECT es.section, es.row, es.seat_id, es.label, es.tier_id
FROM event_seats es JOIN layout_seats ls ON ls.id = es.seat_id
WHERE es.event_id = $1
ORDER BY ls.position

-- name: inv_lock
-- The partner's change takes the inventory row after the event row (fd_events_lock), the
-- order every writer of the event uses, so it waits for a running hold batch and vice versa.
SELECT version FROM event_inventory WHERE event_id = $1 FOR UPDATE

-- name: inv_seats_resolve
-- $1 event, $2 JSON array of seat ids or labels: {ask, seat_id, label, state} in order.
SELECT coalesce(jsonb_agg(jsonb_build_object('ask', a.ask, 'seat_id', s.seat_id,
                                             'label', s.label, 'state', s.state,
                                             'tier_id', s.tier_id) ORDER BY a.n), '[]')::text
FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS a (ask, n)
LEFT JOIN LATERAL (
    SELECT x.seat_id, x.label, x.state, x.tier_id FROM (
        SELECT es.seat_id, es.label, es.state, es.tier_id FROM event_seats es
        WHERE es.event_id = $1 AND es.label = a.ask
        UNION ALL
        SELECT es.seat_id, es.label, es.state, es.tier_id FROM event_seats es
        WHERE es.event_id = $1
          AND es.seat_id = CASE WHEN a.ask ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
                                THEN a.ask::uuid END) x
    LIMIT 1) s ON true

-- name: inv_block_seats
-- Blocks the seats that are available; held and sold seats are left alone (the caller
-- checked them first and counts what changed).
UPDATE event_seats SET state = 'blocked', version = version + 1
WHERE event_id = $1 AND seat_id = ANY ($2::uuid[]) AND state = 'available'
RETURNING seat_id

-- name: inv_unblock_seats
UPDATE event_seats SET state = 'available', version = version + 1
WHERE event_id = $1 AND seat_id = ANY ($2::uuid[]) AND state = 'blocked'
RETURNING seat_id, tier_id

-- name: inv_tier_get
-- $1 tier, $2 event: kind, capacity and what is held + sold of a GA tier.
SELECT t.kind, t.capacity, g.held + g.sold
FROM ticket_tiers t
LEFT JOIN event_ga g ON g.event_id = t.event_id AND g.tier_id = t.id
WHERE t.id = $1 AND t.event_id = $2
FOR UPDATE OF t

-- name: inv_tier_area_room
-- Room the GA area of tier $1 leaves for it: the area's capacity minus its other tiers'.
SELECT s.capacity - coalesce((SELECT sum(o.capacity) FROM ticket_tiers o
                              WHERE o.event_id = t.event_id AND o.ga_section_id = s.id
                                AND o.id <> t.id), 0)
FROM ticket_tiers t JOIN layout_sections s ON s.id = t.ga_section_id
WHERE t.id = $1

-- name: inv_tier_price
UPDATE ticket_tiers SET price_minor = $3::bigint, updated_at = now()
WHERE id = $2 AND event_id = $1

-- name: inv_tier_capacity
-- Never below what is held or sold: no row comes back then.
WITH g AS (
    UPDATE event_ga SET capacity = $3::int, version = version + 1
    WHERE event_id = $1 AND tier_id = $2 AND held + sold <= $3::int
    RETURNING tier_id
)
UPDATE ticket_tiers t SET capacity = $3::int, updated_at = now()
FROM g WHERE t.id = g.tier_id
RETURNING t.id

-- name: inv_settings
-- The settings are part of the availability document, so they count as a change (once per
-- transaction, like the trigger's bumps).
UPDATE event_inventory
SET hold_ttl_s = coalesce($2::int, hold_ttl_s), max_per_user = coalesce($3::int, max_per_user),
    orphan_rule = coalesce($4::boolean, orphan_rule), updated_at = now(),
    version = version + CASE WHEN bumped_xact IS DISTINCT FROM pg_current_xact_id()
                             THEN 1 ELSE 0 END,
    bumped_xact = pg_current_xact_id()
WHERE event_id = $1

-- name: inv_offer
-- Seats or GA units that became sellable are offered to the event's waitlist (service
-- waitlist, topic inventory.released), in the caller's transaction.
INSERT INTO outbox (service, topic, route_key, payload, request_id)
VALUES ('waitlist', 'inventory.released', $1, $2::jsonb, gen_random_uuid())
