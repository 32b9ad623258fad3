-- Catalog: recurring series and the showtimes they materialize (frontdoor fd_series).
-- Local times of day are turned into instants in the venue's zone by PostgreSQL, so
-- daylight-saving changes are applied (a time that does not exist moves forward).

-- name: cat_series_insert
INSERT INTO event_series (id, org_id, venue_id, hall_id, event_type, name, description,
                          performers, currency, duration_minutes, freq, weekdays, times_of_day,
                          start_date, until_date, exceptions, tiers, publish)
SELECT $1, $2, $3, $4, b->>'event_type', b->>'name', b->>'description',
       coalesce(b->'performers', '[]'), b->>'currency', (b->>'duration_minutes')::int,
       r->>'freq', ARRAY(SELECT jsonb_array_elements_text(coalesce(r->'weekdays', '[]'))::smallint),
       ARRAY(SELECT jsonb_array_elements_text(r->'times')::time),
       (r->>'start_date')::date, (r->>'until_date')::date,
       ARRAY(SELECT jsonb_array_elements_text(coalesce(r->'exceptions', '[]'))::date),
       coalesce(b->'tiers', '[]'), coalesce((b->>'publish')::boolean, false)
FROM (SELECT $5::jsonb AS b, $5::jsonb->'recurrence' AS r) s

-- name: cat_series_occurrences
SELECT bx_utc_rfc3339(o.s), bx_utc_rfc3339(o.s + make_interval(mins => x.duration_minutes))
FROM event_series x
JOIN venues v ON v.id = x.venue_id
CROSS JOIN LATERAL (
    SELECT (d::date + t) AT TIME ZONE v.time_zone AS s
    FROM generate_series(x.start_date, x.until_date, interval '1 day') d,
         unnest(x.times_of_day) t
    WHERE (x.freq = 'daily' OR extract(isodow FROM d)::smallint = ANY (x.weekdays))
      AND NOT (d::date = ANY (x.exceptions))
) o
WHERE x.id = $1 AND o.s > now()
ORDER BY o.s
LIMIT 1001

-- name: cat_series_lock
SELECT x.org_id, x.venue_id, x.hall_id, x.currency, x.tiers::text, x.publish,
       (SELECT l.id FROM layouts l WHERE l.hall_id = x.hall_id ORDER BY l.version DESC LIMIT 1)
FROM event_series x WHERE x.id = $1 FOR UPDATE

-- name: cat_series_update
UPDATE event_series x
SET name = coalesce(b->>'name', x.name),
    description = CASE WHEN b ? 'description' THEN b->>'description' ELSE x.description END,
    event_type = coalesce(b->>'event_type', x.event_type),
    performers = coalesce(b->'performers', x.performers),
    duration_minutes = coalesce((b->>'duration_minutes')::int, x.duration_minutes),
    freq = coalesce(r->>'freq', x.freq),
    weekdays = CASE WHEN r IS NULL THEN x.weekdays ELSE
               ARRAY(SELECT jsonb_array_elements_text(coalesce(r->'weekdays', '[]'))::smallint) END,
    times_of_day = CASE WHEN r IS NULL THEN x.times_of_day ELSE
                   ARRAY(SELECT jsonb_array_elements_text(r->'times')::time) END,
    start_date = coalesce((r->>'start_date')::date, x.start_date),
    until_date = coalesce((r->>'until_date')::date, x.until_date),
    exceptions = CASE WHEN r IS NULL THEN x.exceptions ELSE
                 ARRAY(SELECT jsonb_array_elements_text(coalesce(r->'exceptions', '[]'))::date) END,
    updated_at = now()
FROM (SELECT $2::jsonb AS b, $2::jsonb->'recurrence' AS r) s
WHERE x.id = $1

-- name: cat_series_future
SELECT e.id, bx_utc_rfc3339(e.starts_at), e.status,
       (SELECT count(*) FROM event_seats s WHERE s.event_id = e.id AND s.state IN ('held', 'sold'))
       + (SELECT coalesce(sum(g.held + g.sold), 0) FROM event_ga g WHERE g.event_id = e.id)
FROM events e
WHERE e.series_id = $1 AND e.starts_at > now()
ORDER BY e.starts_at DESC
FOR UPDATE OF e

-- name: cat_series_event_update
UPDATE events e
SET name = x.name, description = x.description, event_type = x.event_type,
    performers = x.performers,
    ends_at = e.starts_at + make_interval(mins => x.duration_minutes),
    updated_at = now()
FROM event_series x
WHERE e.id = $1 AND x.id = e.series_id
RETURNING bx_utc_rfc3339(e.ends_at)

-- name: cat_series_event_ends
SELECT bx_utc_rfc3339(e.starts_at + make_interval(mins => x.duration_minutes))
FROM events e JOIN event_series x ON x.id = e.series_id WHERE e.id = $1

-- name: cat_series_get
SELECT x.id, x.org_id, extract(epoch FROM x.updated_at)::bigint,
       jsonb_build_object(
           'name', x.name, 'description', x.description, 'event_type', x.event_type,
           'performers', x.performers, 'venue_id', x.venue_id, 'hall_id', x.hall_id,
           'currency', x.currency, 'duration_minutes', x.duration_minutes,
           'time_zone', v.time_zone, 'organization_id', x.org_id, 'publish', x.publish,
           'recurrence', jsonb_build_object(
               'freq', x.freq, 'weekdays', to_jsonb(x.weekdays),
               'times', (SELECT coalesce(jsonb_agg(to_char(t, 'HH24:MI') ORDER BY t), '[]')
                         FROM unnest(x.times_of_day) t),
               'start_date', x.start_date, 'until_date', x.until_date,
               'exceptions', to_jsonb(x.exceptions)),
           'tiers', x.tiers,
           'showtimes', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                             'id', e.id, 'starts_at', bx_utc_rfc3339(e.starts_at),
                             'local_starts_at', bx_local_rfc3339(e.starts_at, v.time_zone),
                             'status', e.status) ORDER BY e.starts_at), '[]')
                         FROM (SELECT * FROM events e2 WHERE e2.series_id = x.id
                               ORDER BY e2.starts_at LIMIT 1000) e),
           'created_at', bx_utc_rfc3339(x.created_at),
           'updated_at', bx_utc_rfc3339(x.updated_at))::text
FROM event_series x JOIN venues v ON v.id = x.venue_id
WHERE x.id = $1

-- name: cat_series_owner
SELECT org_id FROM event_series WHERE id = $1
