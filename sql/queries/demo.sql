-- Demo and benchmark data (tools/bxctl_demo.c). The demo catalog is made through the
-- catalog's own named queries (cat_*), so it is what the API would have made; these add
-- what a generator needs on top: seating layouts from a compact spec, local times, and
-- the benchmark catalog, set-based (generate_series) so that 100,000 events take seconds.

-- name: demo_venue_exists
SELECT 1 FROM venues WHERE id = $1

-- name: demo_when
-- Start and end (RFC 3339 UTC) of local time $2 on the day $1 days after today in zone
-- $3, lasting $4 minutes, and that local date.
SELECT bx_utc_rfc3339((d + $2::time) AT TIME ZONE $3),
       bx_utc_rfc3339(((d + $2::time) AT TIME ZONE $3) + make_interval(mins => $4::int)), d::text
FROM (SELECT (now() AT TIME ZONE $3)::date + $1::int AS d) x

-- name: demo_layout
-- Version 1 of hall $2's layout, id $1, from spec $3: {"bowl": bool, "sections": [{"code",
-- "name", "rows", "seats"} | {"code", "name", "capacity"}]}. Seated rows are labelled A, B,
-- ... (numbers past 26 rows), seats numbered from 1, labels "<section>-<row>-<seat>"; a
-- bowl places the sections around an ellipse, otherwise they stack front to back. The
-- two seats at the aisle end of each section's last row are wheelchair places, the next
-- one a companion seat.
WITH secs AS (
    SELECT bx_uuid_v7() AS id, e->>'code' AS code, e->>'name' AS name,
           CASE WHEN e ? 'capacity' THEN 'ga' ELSE 'seated' END AS kind,
           coalesce((e->>'rows')::int, 0) AS nrows, coalesce((e->>'seats')::int, 0) AS nseats,
           (e->>'capacity')::int AS capacity, (o - 1)::int AS pos,
           jsonb_array_length($3::jsonb->'sections') AS total,
           coalesce(($3::jsonb->>'bowl')::boolean, false) AS bowl
    FROM jsonb_array_elements($3::jsonb->'sections') WITH ORDINALITY AS t(e, o)
),
lay AS (
    INSERT INTO layouts (id, hall_id, version, seat_count, ga_capacity)
    SELECT $1, $2, 1, coalesce(sum(nrows * nseats) FILTER (WHERE kind = 'seated'), 0),
           coalesce(sum(capacity) FILTER (WHERE kind = 'ga'), 0)
    FROM secs
    RETURNING id
),
ins_secs AS (
    INSERT INTO layout_sections (id, layout_id, code, name, kind, capacity, position)
    SELECT s.id, lay.id, s.code, s.name, s.kind, s.capacity, s.pos FROM secs s, lay
    RETURNING id
),
seats AS (
    INSERT INTO layout_seats (id, layout_id, section_id, row, number, label, x, y, wheelchair,
                              companion, restricted_view, position)
    SELECT bx_uuid_v7(), lay.id, s.id, r.label, n::text, s.code || '-' || r.label || '-' || n,
           CASE WHEN s.bowl
                THEN round(((70 + 1.2 * r.i) * cos(a.ang) - (n - (s.nseats + 1) / 2.0) * sin(a.ang))::numeric, 1)
                ELSE n END,
           CASE WHEN s.bowl
                THEN round(((50 + 1.2 * r.i) * sin(a.ang) + (n - (s.nseats + 1) / 2.0) * cos(a.ang))::numeric, 1)
                ELSE r.i + s.pos * 40 END,
           r.i = s.nrows AND n <= 2, r.i = s.nrows AND n = 3, false,
           (r.i - 1) * s.nseats + n
    FROM secs s
    CROSS JOIN lay
    CROSS JOIN LATERAL (SELECT 2 * pi() * s.pos / s.total AS ang) a
    CROSS JOIN LATERAL (SELECT i, CASE WHEN s.nrows <= 26 THEN chr(64 + i) ELSE i::text END AS label
                        FROM generate_series(1, s.nrows) i) r
    CROSS JOIN LATERAL generate_series(1, s.nseats) n
    WHERE s.kind = 'seated'
    RETURNING 1
)
SELECT (SELECT count(*) FROM ins_secs), (SELECT count(*) FROM seats)

-- name: demo_ga_section
SELECT id FROM layout_sections WHERE layout_id = $1 AND code = $2 AND kind = 'ga'

-- name: demo_org
INSERT INTO organizations (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING

-- name: demo_org_owner
-- The owners of organization $2 own $1 too.
INSERT INTO organization_members (org_id, user_id, role)
SELECT $1, user_id, 'owner' FROM organization_members WHERE org_id = $2 AND role = 'owner'
ON CONFLICT DO NOTHING

-- name: demo_bench_count
SELECT (SELECT count(*) FROM venues WHERE org_id = $1), (SELECT count(*) FROM events WHERE org_id = $1)

-- name: demo_bench_venues
-- Adds venues to organization $1 until it has $2, round-robin over the cities of $3
-- ([{"city", "country", "tz", "lat", "lon", "currency", "mult"}]): each with two halls of
-- one general-admission area.
WITH c AS (
    SELECT (o - 1)::int AS k, e->>'city' AS city, e->>'country' AS country, e->>'tz' AS tz,
           (e->>'lat')::float8 AS lat, (e->>'lon')::float8 AS lon
    FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS t(e, o)
),
have AS (SELECT count(*)::int AS n FROM venues WHERE org_id = $1),
v AS (
    INSERT INTO venues (id, org_id, name, description, address, city, country, latitude,
                        longitude, time_zone, capacity)
    SELECT bx_uuid_v7(), $1,
           (ARRAY['Palace', 'Arena', 'Hall', 'Theatre', 'Forum', 'Pavilion', 'Dome', 'Lounge'])
               [1 + g % 8] || ' ' || c.city || ' ' || g,
           'A benchmark venue in ' || c.city || '.', g || ' Benchmark Road', c.city, c.country,
           c.lat + (g % 40) * 0.002, c.lon + (g % 40) * 0.002, c.tz, 1000 + (g % 10) * 400
    FROM have, generate_series(have.n, $2::int - 1) g
    JOIN c ON c.k = g % (SELECT count(*) FROM c)
    RETURNING id, capacity
),
h AS (
    INSERT INTO halls (id, venue_id, name, kind)
    SELECT bx_uuid_v7(), v.id, x.name, 'hall' FROM v, (VALUES ('Hall A'), ('Hall B')) x(name)
    RETURNING id, venue_id
),
l AS (
    INSERT INTO layouts (id, hall_id, version, seat_count, ga_capacity)
    SELECT bx_uuid_v7(), h.id, 1, 0, v.capacity / 2 FROM h JOIN v ON v.id = h.venue_id
    RETURNING id, ga_capacity
),
s AS (
    INSERT INTO layout_sections (id, layout_id, code, name, kind, capacity, position)
    SELECT bx_uuid_v7(), l.id, 'GA', 'General admission', 'ga', l.ga_capacity, 0 FROM l
    RETURNING 1
)
SELECT (SELECT count(*) FROM v), (SELECT count(*) FROM s)

-- name: demo_bench_events
-- Adds events to organization $1 until it has $2, published with two GA tiers each,
-- their inventory and an event.published outbox row, in one statement. Event g goes to
-- hall g mod H in slot g div H (13:00 or 19:30 local, one day after another), so no two
-- overlap; types, names and performers come from word lists; prices from the city's
-- currency multiplier in $3 (as for demo_bench_venues).
WITH c AS (
    SELECT x.* FROM jsonb_to_recordset($3::jsonb)
         AS x(city text, country text, tz text, lat float8, lon float8, currency text, mult numeric)
),
hn AS (
    SELECT h.id AS hall_id, h.venue_id, l.id AS layout_id, s.id AS section_id, s.capacity,
           v.time_zone, v.city, c.currency, c.mult,
           (row_number() OVER (ORDER BY h.id) - 1)::int AS k
    FROM halls h
    JOIN venues v ON v.id = h.venue_id AND v.org_id = $1
    JOIN layouts l ON l.hall_id = h.id
    JOIN layout_sections s ON s.layout_id = l.id AND s.kind = 'ga'
    JOIN c ON c.city = v.city
),
n AS (SELECT count(*)::int AS halls, (SELECT count(*)::int FROM events WHERE org_id = $1) AS have
      FROM hn),
w AS (
    SELECT g, hn.*, g / n.halls AS slot, g % 5 AS t,
           (ARRAY['Electric', 'Midnight', 'Silver', 'Golden', 'Crimson', 'Velvet', 'Wild', 'Neon',
                  'Frozen', 'Silent', 'Cosmic', 'Northern', 'Restless', 'Iron', 'Scarlet',
                  'Royal', 'Lucky', 'Hidden', 'Eternal', 'Atomic'])[1 + (g / 5) % 20] AS adj,
           (ARRAY['Wolves', 'Harbor', 'Rivers', 'Tigers', 'Hearts', 'Ghosts', 'Pilots', 'Riders',
                  'Dreamers', 'Strangers', 'Echoes', 'Lanterns', 'Sparrows', 'Comets', 'Foxes',
                  'Ravens', 'Lions', 'Sailors', 'Giants', 'Rebels'])[1 + (g / 100) % 20] AS noun
    FROM n CROSS JOIN generate_series(n.have, $2::int - 1) g
    JOIN hn ON hn.k = g % n.halls
),
e AS (
    INSERT INTO events (id, org_id, venue_id, hall_id, layout_id, event_type, name, description,
                        performers, starts_at, ends_at, currency, status, published_at)
    SELECT bx_uuid_v7(), $1, w.venue_id, w.hall_id, w.layout_id,
           (ARRAY['concert', 'sports', 'theater', 'movie', 'conference'])[1 + w.t],
           CASE w.t WHEN 0 THEN 'The ' || w.adj || ' ' || w.noun || ' Live'
                    WHEN 1 THEN w.city || ' ' || w.noun || ' vs ' || w.adj || ' ' || w.noun
                    WHEN 2 THEN 'The ' || w.adj || ' Garden'
                    WHEN 3 THEN w.adj || ' ' || w.noun || ': The Movie'
                    ELSE w.adj || ' ' || w.noun || ' Summit ' || (2027 + w.g % 3) END,
           CASE w.t WHEN 0 THEN 'An evening of live music in ' || w.city || '.'
                    WHEN 1 THEN 'League match in ' || w.city || '.'
                    WHEN 2 THEN 'A new production of a modern classic, in ' || w.city || '.'
                    WHEN 3 THEN 'Screening in ' || w.city || '.'
                    ELSE 'Two tracks of talks and workshops in ' || w.city || '.' END,
           jsonb_build_array(jsonb_build_object('name', w.adj || ' ' || w.noun, 'role',
               (ARRAY['artist', 'team', 'cast', 'director', 'speaker'])[1 + w.t])),
           st.s, st.s + make_interval(mins => 90 + (w.g % 4) * 30), w.currency, 'published', now()
    FROM w
    CROSS JOIN LATERAL (
        SELECT ((current_date + 1 + w.slot / 2)
                + CASE WHEN w.slot % 2 = 0 THEN time '13:00' ELSE time '19:30' END)
               AT TIME ZONE w.time_zone AS s) st
    RETURNING id, layout_id, event_type, currency
),
t AS (
    INSERT INTO ticket_tiers (id, event_id, name, kind, price_minor, currency, ga_section_id,
                              capacity, max_per_order, position)
    SELECT bx_uuid_v7(), e.id, x.name, 'ga',
           (round((CASE e.event_type WHEN 'concert' THEN 4500 WHEN 'sports' THEN 6000
                                     WHEN 'theater' THEN 7000 WHEN 'movie' THEN 1200
                                     ELSE 25000 END) * x.factor * hn.mult / 100) * 100)::bigint,
           e.currency, hn.section_id,
           CASE WHEN x.pos = 0 THEN hn.capacity * 4 / 5 ELSE hn.capacity - hn.capacity * 4 / 5 END,
           x.max, x.pos
    FROM e
    JOIN hn ON hn.layout_id = e.layout_id
    CROSS JOIN (VALUES ('General admission', 1.0, 10, 0), ('VIP', 3.0, 4, 1)) x(name, factor, max, pos)
    RETURNING id, event_id, ga_section_id, capacity
),
ga AS (
    INSERT INTO event_ga (event_id, tier_id, section_id, capacity)
    SELECT event_id, id, ga_section_id, capacity FROM t
    RETURNING 1
),
ob AS (
    INSERT INTO outbox (service, topic, route_key, payload)
    SELECT 'index', 'event.published', e.id::text,
           jsonb_build_object('id', e.id, 'action', 'published', 'request_id', 'bxctl-seed')
    FROM e
    RETURNING 1
)
SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM ga), (SELECT count(*) FROM ob)
