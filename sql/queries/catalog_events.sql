-- Catalog: events, their publication (inventory materialization) and cancellation
-- (frontdoor fd_events, fd_publish). Times leave as RFC 3339 UTC plus the venue's zone
-- name and local time with offset.

-- name: cat_event_get
SELECT e.id, e.org_id, e.status,
       extract(epoch FROM greatest(e.updated_at, v.updated_at))::bigint,
       jsonb_build_object(
           'name', e.name, 'description', e.description, 'event_type', e.event_type,
           'status', e.status, 'performers', e.performers,
           'starts_at', bx_utc_rfc3339(e.starts_at), 'ends_at', bx_utc_rfc3339(e.ends_at),
           'duration_minutes', (extract(epoch FROM e.ends_at - e.starts_at) / 60)::int,
           'time_zone', v.time_zone,
           'local_starts_at', bx_local_rfc3339(e.starts_at, v.time_zone),
           'local_ends_at', bx_local_rfc3339(e.ends_at, v.time_zone),
           'currency', e.currency,
           'venue', jsonb_build_object('id', v.id, 'name', v.name, 'city', v.city,
                                       'country', v.country),
           'hall', jsonb_build_object('id', h.id, 'name', h.name, 'kind', h.kind),
           'layout_version', l.version, 'organization_id', e.org_id, 'series_id', e.series_id,
           'price_range', (SELECT CASE WHEN count(*) = 0 THEN NULL ELSE jsonb_build_object(
                               'min_minor', min(t.price_minor), 'max_minor', max(t.price_minor),
                               'currency', e.currency) END
                           FROM ticket_tiers t WHERE t.event_id = e.id),
           'published_at', bx_utc_rfc3339(e.published_at),
           'cancelled_at', bx_utc_rfc3339(e.cancelled_at),
           'created_at', bx_utc_rfc3339(e.created_at),
           'updated_at', bx_utc_rfc3339(e.updated_at))::text
FROM events e
JOIN venues v ON v.id = e.venue_id
JOIN halls h ON h.id = e.hall_id
JOIN layouts l ON l.id = e.layout_id
WHERE e.id = $1

-- name: cat_event_list
-- The event list (frontdoor fd_search_catalog): the search's filters over the catalog
-- tables, in start order. $1 statuses (JSON array), $2 city, $3 types (text[]), $4/$5
-- from/to instants, $6/$7 from/to local dates, $8 organization, $9 venue, $10/$11 cursor
-- (start in microseconds, id), $12 page size, $13/$14/$15 latitude, longitude, radius in
-- metres, $16/$17 price bounds in minor units of currency $18, $19 has availability.
SELECT e.id, (extract(epoch FROM e.starts_at) * 1000000)::bigint,
       jsonb_build_object(
           'name', e.name, 'event_type', e.event_type, 'status', e.status,
           'performers', e.performers,
           'starts_at', bx_utc_rfc3339(e.starts_at), 'ends_at', bx_utc_rfc3339(e.ends_at),
           'duration_minutes', (extract(epoch FROM e.ends_at - e.starts_at) / 60)::int,
           'time_zone', v.time_zone,
           'local_starts_at', bx_local_rfc3339(e.starts_at, v.time_zone),
           'currency', e.currency,
           'venue', jsonb_build_object('id', v.id, 'name', v.name, 'city', v.city,
                                       'country', v.country),
           'hall_id', e.hall_id, 'organization_id', e.org_id, 'series_id', e.series_id,
           'price_range', pr.range, 'available', av.available,
           'updated_at', bx_utc_rfc3339(e.updated_at))::text
FROM events e JOIN venues v ON v.id = e.venue_id
CROSS JOIN LATERAL (
    SELECT CASE WHEN count(*) = 0 THEN NULL ELSE jsonb_build_object(
               'min_minor', min(t.price_minor), 'max_minor', max(t.price_minor),
               'currency', e.currency) END AS range
    FROM ticket_tiers t WHERE t.event_id = e.id) pr
CROSS JOIN LATERAL (
    SELECT EXISTS (SELECT 1 FROM event_seats s WHERE s.event_id = e.id AND s.state = 'available')
           OR EXISTS (SELECT 1 FROM event_ga g
                      WHERE g.event_id = e.id AND g.held + g.sold < g.capacity) AS available) av
WHERE e.status IN (SELECT jsonb_array_elements_text($1::jsonb))
  AND ($2::text IS NULL OR bx_search_fold(v.city) = bx_search_fold($2::text))
  AND ($3::text[] IS NULL OR e.event_type = ANY ($3::text[]))
  AND ($4::timestamptz IS NULL OR e.starts_at >= $4::timestamptz)
  AND ($5::timestamptz IS NULL OR e.starts_at < $5::timestamptz)
  AND ($6::date IS NULL OR (e.starts_at AT TIME ZONE v.time_zone)::date >= $6::date)
  AND ($7::date IS NULL OR (e.starts_at AT TIME ZONE v.time_zone)::date <= $7::date)
  AND ($8::uuid IS NULL OR e.org_id = $8::uuid)
  AND ($9::uuid IS NULL OR e.venue_id = $9::uuid)
  AND ($10::bigint IS NULL
       OR (e.starts_at, e.id) > ('epoch'::timestamptz + $10::bigint * interval '1 microsecond',
                                 $11::uuid))
  AND ($13::float8 IS NULL
       OR bx_geo_distance_m($13::float8, $14::float8, v.latitude, v.longitude) <= $15::float8)
  AND ($16::bigint IS NULL AND $17::bigint IS NULL OR (
          e.currency = $18::text
          AND EXISTS (SELECT 1 FROM ticket_tiers t
                      WHERE t.event_id = e.id
                        AND t.price_minor BETWEEN coalesce($16::bigint, 0)
                                              AND coalesce($17::bigint, 9223372036854775807))))
  AND ($18::text IS NULL OR e.currency = $18::text)
  AND ($19::boolean IS NULL OR av.available = $19::boolean)
ORDER BY e.starts_at, e.id
LIMIT $12::int

-- name: cat_event_place
SELECT v.org_id, h.id, l.id, l.version
FROM venues v
LEFT JOIN halls h ON h.venue_id = v.id AND h.id = $2
LEFT JOIN layouts l ON l.hall_id = h.id
     AND l.version = coalesce($3::int, (SELECT max(m.version) FROM layouts m WHERE m.hall_id = h.id))
WHERE v.id = $1 AND v.deleted_at IS NULL
FOR SHARE OF v

-- name: cat_event_times
SELECT bx_utc_rfc3339(t.s), bx_utc_rfc3339(t.e), t.e > t.s,
       $2::timestamptz IS NULL OR $3::int IS NULL
           OR $2::timestamptz = t.s + make_interval(mins => $3::int)
FROM (SELECT $1::timestamptz AS s,
             coalesce($2::timestamptz, $1::timestamptz + make_interval(mins => $3::int),
                      $1::timestamptz + $4::interval) AS e) t

-- name: cat_event_overlap
SELECT e.id, e.name, bx_utc_rfc3339(e.starts_at), bx_utc_rfc3339(e.ends_at), e.series_id
FROM events e
WHERE e.hall_id = $1 AND e.status <> 'cancelled'
  AND tstzrange(e.starts_at, e.ends_at) && tstzrange($2::timestamptz, $3::timestamptz)
  AND ($4::uuid IS NULL OR e.id <> $4::uuid)
ORDER BY e.starts_at
LIMIT 1

-- name: cat_event_insert
INSERT INTO events (id, org_id, venue_id, hall_id, layout_id, series_id, event_type, name,
                    description, performers, starts_at, ends_at, currency)
SELECT $1, $2, $3, $4, $5, $6, b->>'event_type', b->>'name', b->>'description',
       coalesce(b->'performers', '[]'), $7::timestamptz, $8::timestamptz, b->>'currency'
FROM (SELECT $9::jsonb AS b) s

-- name: cat_event_lock
SELECT e.org_id, e.status, e.hall_id, e.layout_id, bx_utc_rfc3339(e.starts_at),
       (e.ends_at - e.starts_at)::text, e.venue_id, e.currency
FROM events e WHERE e.id = $1 FOR UPDATE

-- name: cat_event_update
UPDATE events e
SET name = coalesce(b->>'name', e.name),
    description = CASE WHEN b ? 'description' THEN b->>'description' ELSE e.description END,
    event_type = coalesce(b->>'event_type', e.event_type),
    performers = coalesce(b->'performers', e.performers),
    currency = coalesce(b->>'currency', e.currency),
    starts_at = $2::timestamptz, ends_at = $3::timestamptz,
    hall_id = $4, layout_id = $5,
    status = $6,
    updated_at = now()
FROM (SELECT $7::jsonb AS b) s
WHERE e.id = $1

-- name: cat_event_delete
DELETE FROM events WHERE id = $1 AND status = 'draft'

-- name: cat_event_touch
UPDATE events SET updated_at = now() WHERE id = $1

-- name: cat_pub_check
-- Tier count, unpriced seats and their sections, GA areas sold beyond capacity. Per-seat
-- lookups are subqueries for the reason given at cat_pub_seats.
WITH e AS (SELECT id, layout_id FROM events WHERE id = $1),
     unpriced AS (
         SELECT st.section_id FROM e, layout_seats st
         WHERE st.layout_id = e.layout_id
           AND (SELECT ts.tier_id FROM tier_seats ts
                WHERE ts.event_id = e.id AND ts.seat_id = st.id) IS NULL
           AND (SELECT tc.tier_id FROM tier_sections tc
                WHERE tc.event_id = e.id AND tc.section_id = st.section_id) IS NULL)
SELECT (SELECT count(*) FROM ticket_tiers t, e WHERE t.event_id = e.id),
       (SELECT count(*) FROM unpriced),
       (SELECT string_agg(s.code, ', ' ORDER BY s.position) FROM layout_sections s
        WHERE s.id IN (SELECT section_id FROM unpriced)),
       (SELECT string_agg(s.code, ', ') FROM layout_sections s, e
        WHERE s.kind = 'ga' AND s.layout_id = e.layout_id
          AND s.capacity < (SELECT coalesce(sum(t.capacity), 0) FROM ticket_tiers t
                            WHERE t.event_id = e.id AND t.ga_section_id = s.id))

-- name: cat_pub_seats
-- Driven by the layout's seats with per-seat index lookups (subqueries, not joins): right
-- after a big layout is saved its statistics are stale, and a join order picked from them
-- can turn 60,000 seats into minutes.
WITH ins AS (
    INSERT INTO event_seats (event_id, seat_id, section, row, label, tier_id)
    SELECT $1, st.id, (SELECT s.code FROM layout_sections s WHERE s.id = st.section_id),
           st.row, st.label,
           coalesce((SELECT ts.tier_id FROM tier_seats ts
                     WHERE ts.event_id = $1 AND ts.seat_id = st.id),
                    (SELECT tc.tier_id FROM tier_sections tc
                     WHERE tc.event_id = $1 AND tc.section_id = st.section_id))
    FROM layout_seats st
    WHERE st.layout_id = (SELECT e.layout_id FROM events e WHERE e.id = $1)
    RETURNING 1
)
SELECT count(*) FROM ins

-- name: cat_pub_ga
WITH ins AS (
    INSERT INTO event_ga (event_id, tier_id, section_id, capacity)
    SELECT t.event_id, t.id, t.ga_section_id, t.capacity
    FROM ticket_tiers t WHERE t.event_id = $1 AND t.kind = 'ga'
    ON CONFLICT (event_id, tier_id) DO NOTHING
    RETURNING capacity
)
SELECT coalesce(sum(capacity), 0) FROM ins

-- name: cat_pub_mark
UPDATE events SET status = 'published', published_at = now(), updated_at = now()
WHERE id = $1 AND status = 'draft'

-- name: cat_event_cancel
UPDATE events SET status = 'cancelled', cancelled_at = now(), updated_at = now()
WHERE id = $1 AND status NOT IN ('completed', 'cancelled')

-- name: cat_event_sales
SELECT (SELECT count(*) FROM event_seats s WHERE s.event_id = $1 AND s.state IN ('held', 'sold'))
     + (SELECT coalesce(sum(g.held + g.sold), 0) FROM event_ga g WHERE g.event_id = $1)

-- name: cat_event_block_seats
UPDATE event_seats SET state = 'blocked', version = version + 1
WHERE event_id = $1 AND state = 'available'

-- name: cat_event_started
SELECT starts_at <= now() FROM events WHERE id = $1

-- name: cat_event_brief
SELECT org_id, status, extract(epoch FROM updated_at)::bigint FROM events WHERE id = $1
