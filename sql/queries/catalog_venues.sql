-- Catalog: venues, halls and versioned seating layouts (frontdoor fd_venues, fd_layouts).
-- Documents are built here as JSON (attributes); timestamps leave as RFC 3339 UTC text.

-- name: cat_outbox_insert
INSERT INTO outbox (service, topic, route_key, payload) VALUES ('index', $1, $2, $3::jsonb)

-- name: cat_place_known
SELECT $1::text IS NULL OR EXISTS (SELECT 1 FROM iso_countries WHERE code = $1),
       $2::text IS NULL OR EXISTS (SELECT 1 FROM iana_time_zones WHERE name = $2)

-- name: cat_currency_known
SELECT EXISTS (SELECT 1 FROM iso_currencies WHERE code = $1)

-- name: cat_user_single_org
SELECT min(org_id::text), count(*) FROM organization_members WHERE user_id = $1

-- name: cat_org_exists
SELECT 1 FROM organizations WHERE id = $1

-- name: cat_venue_insert
INSERT INTO venues (id, org_id, name, description, address, city, postal_code, country, latitude,
                    longitude, time_zone, capacity, region)
SELECT $1, $2, b->>'name', b->>'description', b->>'address', b->>'city', b->>'postal_code',
       b->>'country', (b->>'latitude')::float8, (b->>'longitude')::float8, b->>'time_zone',
       (b->>'capacity')::int, b->>'region'
FROM (SELECT $3::jsonb AS b) s

-- name: cat_venue_lock
SELECT org_id, time_zone,
       EXISTS (SELECT 1 FROM events e WHERE e.venue_id = v.id AND e.status <> 'cancelled')
FROM venues v WHERE id = $1 AND deleted_at IS NULL FOR UPDATE

-- name: cat_venue_update
UPDATE venues v
SET name = coalesce(b->>'name', v.name),
    description = CASE WHEN b ? 'description' THEN b->>'description' ELSE v.description END,
    address = coalesce(b->>'address', v.address),
    city = coalesce(b->>'city', v.city),
    postal_code = CASE WHEN b ? 'postal_code' THEN b->>'postal_code' ELSE v.postal_code END,
    country = coalesce(b->>'country', v.country),
    latitude = coalesce((b->>'latitude')::float8, v.latitude),
    longitude = coalesce((b->>'longitude')::float8, v.longitude),
    time_zone = coalesce(b->>'time_zone', v.time_zone),
    capacity = coalesce((b->>'capacity')::int, v.capacity),
    region = CASE WHEN b ? 'region' THEN b->>'region' ELSE v.region END,
    updated_at = now()
FROM (SELECT $2::jsonb AS b) s
WHERE v.id = $1 AND v.deleted_at IS NULL

-- name: cat_venue_delete
UPDATE venues SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL

-- name: cat_venue_touch
UPDATE venues SET updated_at = now() WHERE id = $1

-- name: cat_venue_get
SELECT v.id, v.org_id, extract(epoch FROM v.updated_at)::bigint,
       jsonb_build_object(
           'name', v.name, 'description', v.description, 'address', v.address, 'city', v.city,
           'postal_code', v.postal_code, 'country', v.country, 'latitude', v.latitude,
           'longitude', v.longitude, 'time_zone', v.time_zone, 'capacity', v.capacity,
           'region', v.region, 'organization_id', v.org_id,
           'halls', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                         'id', h.id, 'name', h.name, 'kind', h.kind,
                         'layout_version', (SELECT max(l.version) FROM layouts l WHERE l.hall_id = h.id))
                         ORDER BY h.name), '[]')
                     FROM halls h WHERE h.venue_id = v.id),
           'created_at', bx_utc_rfc3339(v.created_at),
           'updated_at', bx_utc_rfc3339(v.updated_at))::text
FROM venues v WHERE v.id = $1 AND v.deleted_at IS NULL

-- name: cat_venue_list
SELECT v.id,
       jsonb_build_object(
           'name', v.name, 'address', v.address, 'city', v.city, 'country', v.country,
           'latitude', v.latitude, 'longitude', v.longitude, 'time_zone', v.time_zone,
           'capacity', v.capacity, 'organization_id', v.org_id,
           'updated_at', bx_utc_rfc3339(v.updated_at))::text
FROM venues v
WHERE v.deleted_at IS NULL
  AND ($1::text IS NULL OR lower(v.city) = lower($1))
  AND ($2::text IS NULL OR v.country = $2)
  AND ($3::uuid IS NULL OR v.org_id = $3)
  AND ($4::uuid IS NULL OR v.id > $4)
ORDER BY v.id
LIMIT $5::int

-- name: cat_hall_insert
INSERT INTO halls (id, venue_id, name, kind) VALUES ($1, $2, $3, $4)

-- name: cat_hall_get
SELECT h.id, v.org_id, extract(epoch FROM greatest(h.updated_at, v.updated_at))::bigint,
       jsonb_build_object(
           'venue_id', h.venue_id, 'name', h.name, 'kind', h.kind,
           'versions', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                            'version', l.version, 'seat_count', l.seat_count,
                            'ga_capacity', l.ga_capacity,
                            'created_at', bx_utc_rfc3339(l.created_at),
                            'events', (SELECT count(*) FROM events e WHERE e.layout_id = l.id))
                            ORDER BY l.version), '[]')
                        FROM layouts l WHERE l.hall_id = h.id),
           'created_at', bx_utc_rfc3339(h.created_at),
           'updated_at', bx_utc_rfc3339(h.updated_at))::text
FROM halls h JOIN venues v ON v.id = h.venue_id
WHERE h.id = $1 AND h.venue_id = $2 AND v.deleted_at IS NULL

-- name: cat_hall_list
SELECT h.id,
       jsonb_build_object('venue_id', h.venue_id, 'name', h.name, 'kind', h.kind,
                          'layout_version', (SELECT max(l.version) FROM layouts l WHERE l.hall_id = h.id),
                          'created_at', bx_utc_rfc3339(h.created_at))::text
FROM halls h JOIN venues v ON v.id = h.venue_id
WHERE h.venue_id = $1 AND v.deleted_at IS NULL
ORDER BY h.name, h.id
LIMIT 500

-- name: cat_hall_lock
SELECT h.id, v.org_id, coalesce((SELECT max(version) FROM layouts l WHERE l.hall_id = h.id), 0)
FROM halls h JOIN venues v ON v.id = h.venue_id
WHERE h.id = $1 AND h.venue_id = $2 AND v.deleted_at IS NULL
FOR UPDATE OF h

-- name: cat_layout_insert
INSERT INTO layouts (id, hall_id, version, seat_count, ga_capacity, created_by)
VALUES ($1, $2, $3::int, $4::int, $5::int, $6)

-- name: cat_sections_insert
INSERT INTO layout_sections (id, layout_id, code, name, kind, capacity, position)
SELECT s.id, $1, s.code, s.name, s.kind, s.capacity, s.position
FROM jsonb_to_recordset($2::jsonb) AS s(id uuid, code text, name text, kind text, capacity int,
                                          position int)

-- name: cat_seats_insert
INSERT INTO layout_seats (id, layout_id, section_id, row, number, label, x, y, wheelchair,
                          companion, restricted_view, position)
SELECT (s->>0)::uuid, $1, (s->>1)::uuid, s->>2, s->>3, s->>4, (s->>5)::real, (s->>6)::real,
       (s->>7)::boolean, (s->>8)::boolean, (s->>9)::boolean, (s->>10)::int
FROM jsonb_array_elements($2::jsonb) AS s

-- name: cat_layout_get
SELECT l.id, extract(epoch FROM l.created_at)::bigint, l.version,
       jsonb_build_object('data', jsonb_build_object(
           'id', l.id, 'type', 'layout',
           'attributes', jsonb_build_object(
               'hall_id', l.hall_id, 'venue_id', h.venue_id, 'version', l.version,
               'seat_count', l.seat_count, 'ga_capacity', l.ga_capacity,
               'created_at', bx_utc_rfc3339(l.created_at),
               'latest_version', (SELECT max(version) FROM layouts x WHERE x.hall_id = l.hall_id),
               'sections', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'id', s.id, 'code', s.code, 'name', s.name, 'kind', s.kind,
                                'capacity', s.capacity,
                                'rows', CASE WHEN $4::boolean THEN (
                                    SELECT coalesce(jsonb_agg(r.doc ORDER BY r.first), '[]')
                                    FROM (SELECT min(st.position) AS first,
                                                 jsonb_build_object('label', st.row, 'seats',
                                                     jsonb_agg(jsonb_build_object(
                                                         'id', st.id, 'label', st.label,
                                                         'number', st.number, 'x', st.x, 'y', st.y,
                                                         'wheelchair', st.wheelchair,
                                                         'companion', st.companion,
                                                         'restricted_view', st.restricted_view)
                                                         ORDER BY st.position)) AS doc
                                          FROM layout_seats st WHERE st.section_id = s.id
                                          GROUP BY st.row) r) END,
                                'seat_count', (SELECT count(*) FROM layout_seats st
                                               WHERE st.section_id = s.id))
                                ORDER BY s.position), '[]')
                            FROM layout_sections s WHERE s.layout_id = l.id)),
           'links', jsonb_build_object(
               'self', '/api/v1/venues/' || h.venue_id || '/halls/' || l.hall_id
                       || '/layout?version=' || l.version)))::text
FROM layouts l JOIN halls h ON h.id = l.hall_id JOIN venues v ON v.id = h.venue_id
WHERE l.hall_id = $1 AND h.venue_id = $2 AND v.deleted_at IS NULL
  AND l.version = coalesce($3::int, (SELECT max(version) FROM layouts y WHERE y.hall_id = $1))
