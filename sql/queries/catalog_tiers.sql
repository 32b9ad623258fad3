-- Catalog: ticket tiers and their mapping to sections, seats and GA areas (frontdoor
-- fd_tiers). available is null until the event is published.

-- name: cat_tier_list
SELECT t.id, extract(epoch FROM t.updated_at)::bigint,
       jsonb_build_object(
           'event_id', t.event_id, 'name', t.name, 'description', t.description,
           'kind', t.kind, 'price_minor', t.price_minor, 'currency', t.currency,
           'sections', (SELECT coalesce(jsonb_agg(s.code ORDER BY s.position), '[]')
                        FROM tier_sections ts JOIN layout_sections s ON s.id = ts.section_id
                        WHERE ts.tier_id = t.id),
           'seats', (SELECT coalesce(jsonb_agg(st.label ORDER BY st.position), '[]')
                     FROM tier_seats x JOIN layout_seats st ON st.id = x.seat_id
                     WHERE x.tier_id = t.id),
           'section', (SELECT s.code FROM layout_sections s WHERE s.id = t.ga_section_id),
           'capacity', t.capacity,
           'sale_starts_at', bx_utc_rfc3339(t.sale_starts_at),
           'sale_ends_at', bx_utc_rfc3339(t.sale_ends_at),
           'min_per_order', t.min_per_order, 'max_per_order', t.max_per_order,
           'available', CASE
               WHEN e.status = 'draft' THEN NULL
               WHEN t.kind = 'ga' THEN (SELECT g.capacity - g.held - g.sold FROM event_ga g
                                        WHERE g.event_id = t.event_id AND g.tier_id = t.id)
               ELSE (SELECT count(*) FROM event_seats es
                     WHERE es.event_id = t.event_id AND es.tier_id = t.id
                       AND es.state = 'available') END,
           'created_at', bx_utc_rfc3339(t.created_at),
           'updated_at', bx_utc_rfc3339(t.updated_at))::text
FROM ticket_tiers t JOIN events e ON e.id = t.event_id
WHERE t.event_id = $1 AND ($2::uuid IS NULL OR t.id = $2::uuid)
ORDER BY t.position, t.id
LIMIT 500

-- name: cat_tier_ga_area
SELECT s.id, s.capacity - coalesce((SELECT sum(t.capacity) FROM ticket_tiers t
                                    WHERE t.event_id = $1 AND t.ga_section_id = s.id
                                      AND ($4::uuid IS NULL OR t.id <> $4::uuid)), 0)
FROM layout_sections s WHERE s.layout_id = $2 AND s.code = $3 AND s.kind = 'ga'

-- name: cat_tier_insert
INSERT INTO ticket_tiers (id, event_id, name, description, kind, price_minor, currency,
                          ga_section_id, capacity, sale_starts_at, sale_ends_at, min_per_order,
                          max_per_order, position)
SELECT $1, e.id, b->>'name', b->>'description', b->>'kind', (b->>'price_minor')::bigint,
       e.currency, $3::uuid, (b->>'capacity')::int, (b->>'sale_starts_at')::timestamptz,
       (b->>'sale_ends_at')::timestamptz, coalesce((b->>'min_per_order')::int, 1),
       coalesce((b->>'max_per_order')::int, 10),
       (SELECT count(*) FROM ticket_tiers t WHERE t.event_id = e.id)
FROM events e, (SELECT $2::jsonb AS b) s
WHERE e.id = $4

-- name: cat_tier_lock
SELECT t.kind, t.ga_section_id, (SELECT s.code FROM layout_sections s WHERE s.id = t.ga_section_id)
FROM ticket_tiers t WHERE t.id = $1 AND t.event_id = $2 FOR UPDATE

-- name: cat_tier_update
UPDATE ticket_tiers t
SET name = coalesce(b->>'name', t.name),
    description = CASE WHEN b ? 'description' THEN b->>'description' ELSE t.description END,
    price_minor = coalesce((b->>'price_minor')::bigint, t.price_minor),
    ga_section_id = coalesce($3::uuid, t.ga_section_id),
    capacity = coalesce((b->>'capacity')::int, t.capacity),
    sale_starts_at = CASE WHEN b ? 'sale_starts_at' THEN (b->>'sale_starts_at')::timestamptz
                          ELSE t.sale_starts_at END,
    sale_ends_at = CASE WHEN b ? 'sale_ends_at' THEN (b->>'sale_ends_at')::timestamptz
                        ELSE t.sale_ends_at END,
    min_per_order = coalesce((b->>'min_per_order')::int, t.min_per_order),
    max_per_order = coalesce((b->>'max_per_order')::int, t.max_per_order),
    updated_at = now()
FROM (SELECT $2::jsonb AS b) s
WHERE t.id = $1

-- name: cat_tier_ga_resize
UPDATE event_ga g SET capacity = t.capacity, version = g.version + 1
FROM ticket_tiers t
WHERE g.tier_id = t.id AND t.id = $1 AND g.event_id = t.event_id

-- name: cat_tier_ga_open
INSERT INTO event_ga (event_id, tier_id, section_id, capacity)
SELECT t.event_id, t.id, t.ga_section_id, t.capacity FROM ticket_tiers t WHERE t.id = $1

-- name: cat_tier_unmap
WITH a AS (DELETE FROM tier_sections WHERE tier_id = $1 RETURNING 1),
     b AS (DELETE FROM tier_seats WHERE tier_id = $1 RETURNING 1)
SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)

-- name: cat_tier_delete
DELETE FROM ticket_tiers WHERE id = $1 AND event_id = $2

-- name: cat_tier_map_sections
WITH want AS (SELECT DISTINCT jsonb_array_elements_text($3::jsonb) AS code),
     found AS (SELECT s.id, w.code FROM want w
               JOIN layout_sections s ON s.layout_id = $4 AND s.code = w.code AND s.kind = 'seated'),
     ins AS (INSERT INTO tier_sections (event_id, section_id, tier_id)
             SELECT $1, f.id, $2 FROM found f RETURNING 1)
SELECT (SELECT count(*) FROM ins),
       (SELECT string_agg(w.code, ', ') FROM want w
        WHERE NOT EXISTS (SELECT 1 FROM found f WHERE f.code = w.code))

-- name: cat_tier_map_seats
WITH want AS (SELECT DISTINCT jsonb_array_elements_text($3::jsonb) AS label),
     found AS (SELECT st.id, w.label FROM want w
               JOIN layout_seats st ON st.layout_id = $4 AND st.label = w.label),
     ins AS (INSERT INTO tier_seats (event_id, seat_id, tier_id)
             SELECT $1, f.id, $2 FROM found f RETURNING 1)
SELECT (SELECT count(*) FROM ins),
       (SELECT string_agg(w.label, ', ') FROM (SELECT label FROM want w
                                               WHERE NOT EXISTS (SELECT 1 FROM found f
                                                                 WHERE f.label = w.label)
                                               LIMIT 20) w)
