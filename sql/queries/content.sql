-- Editorial content: featured events, promotions and news (frontdoor fd_content). Public
-- lists take ($1 locale, $2 and $3 the cursor, $4 limit) and show what is inside its
-- window now for that locale: an item without a locale shows everywhere, "de" for every
-- German locale, "de-AT" for that one only. Admin lists show everything.

-- name: content_featured_public
-- One entry per event: the one whose locale matches most closely.
SELECT f.id, f.rank,
       jsonb_build_object(
           'rank', f.rank, 'locale', f.locale,
           'starts_at', bx_utc_rfc3339(f.starts_at), 'ends_at', bx_utc_rfc3339(f.ends_at),
           'event', jsonb_build_object(
               'id', e.id, 'name', e.name, 'event_type', e.event_type, 'status', e.status,
               'performers', e.performers,
               'starts_at', bx_utc_rfc3339(e.starts_at),
               'local_starts_at', bx_local_rfc3339(e.starts_at, v.time_zone),
               'time_zone', v.time_zone, 'currency', e.currency,
               'venue', jsonb_build_object('id', v.id, 'name', v.name, 'city', v.city,
                                           'country', v.country),
               'price_range', (SELECT CASE WHEN count(*) = 0 THEN NULL ELSE jsonb_build_object(
                                   'min_minor', min(t.price_minor), 'max_minor', max(t.price_minor),
                                   'currency', e.currency) END
                               FROM ticket_tiers t WHERE t.event_id = e.id),
               'poster', (SELECT jsonb_build_object(
                              'id', m.id, 'mime', b.mime, 'width', b.width, 'height', b.height,
                              'content_url', '/api/v1/media/' || m.id || '/content')
                          FROM media m JOIN media_blobs b ON b.sha256 = m.sha256
                          WHERE coalesce(m.event_id, m.venue_id) = e.id AND m.role = 'poster')))::text
FROM (SELECT DISTINCT ON (x.event_id) x.*
      FROM featured_events x
      WHERE (x.starts_at IS NULL OR x.starts_at <= now())
        AND (x.ends_at IS NULL OR x.ends_at > now())
        AND (x.locale IS NULL OR x.locale = $1 OR x.locale = split_part($1, '-', 1))
      ORDER BY x.event_id, length(coalesce(x.locale, '')) DESC) f
JOIN events e ON e.id = f.event_id AND e.status IN ('published', 'on_sale') AND e.ends_at > now()
JOIN venues v ON v.id = e.venue_id
WHERE ($2::int IS NULL OR (f.rank, f.id) > ($2::int, $3::uuid))
ORDER BY f.rank, f.id
LIMIT $4::int

-- name: content_promotions_public
-- The image shows only while anyone may see it (its event public, its venue not deleted).
SELECT p.id, p.rank,
       jsonb_build_object(
           'title', p.title, 'body', p.body, 'link_url', p.link_url, 'rank', p.rank,
           'locale', p.locale,
           'starts_at', bx_utc_rfc3339(p.starts_at), 'ends_at', bx_utc_rfc3339(p.ends_at),
           'image', (SELECT jsonb_build_object(
                         'id', m.id, 'mime', b.mime, 'width', b.width, 'height', b.height,
                         'content_url', '/api/v1/media/' || m.id || '/content')
                     FROM media m JOIN media_blobs b ON b.sha256 = m.sha256
                     LEFT JOIN events e ON e.id = m.event_id
                     LEFT JOIN venues v ON v.id = m.venue_id
                     WHERE m.id = p.image_media_id
                       AND (m.event_id IS NULL OR e.status IN ('published', 'on_sale'))
                       AND (m.venue_id IS NULL OR v.deleted_at IS NULL)))::text
FROM promotions p
WHERE (p.starts_at IS NULL OR p.starts_at <= now())
  AND (p.ends_at IS NULL OR p.ends_at > now())
  AND (p.locale IS NULL OR p.locale = $1 OR p.locale = split_part($1, '-', 1))
  AND ($2::int IS NULL OR (p.rank, p.id) > ($2::int, $3::uuid))
ORDER BY p.rank, p.id
LIMIT $4::int

-- name: content_news_public
SELECT n.id, (extract(epoch FROM n.published_at) * 1000000)::bigint,
       jsonb_build_object(
           'title', n.title, 'body', n.body, 'locale', n.locale,
           'published_at', bx_utc_rfc3339(n.published_at),
           'updated_at', bx_utc_rfc3339(n.updated_at))::text
FROM news n
WHERE n.published_at <= now()
  AND (n.locale IS NULL OR n.locale = $1 OR n.locale = split_part($1, '-', 1))
  AND ($2::bigint IS NULL
       OR (n.published_at, n.id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond',
                                    $3::uuid))
ORDER BY n.published_at DESC, n.id DESC
LIMIT $4::int

-- name: content_next_change
-- Seconds until a public list may change by the clock alone (a window opening or
-- closing, news being published, a featured event ending); NULL when nothing is ahead.
SELECT ceil(extract(epoch FROM min(t) - now()))::bigint
FROM (SELECT starts_at AS t FROM featured_events WHERE $1 = 'featured' AND starts_at > now()
      UNION ALL
      SELECT ends_at FROM featured_events WHERE $1 = 'featured' AND ends_at > now()
      UNION ALL
      SELECT e.ends_at FROM featured_events f JOIN events e ON e.id = f.event_id
      WHERE $1 = 'featured' AND e.ends_at > now()
      UNION ALL
      SELECT starts_at FROM promotions WHERE $1 = 'promotions' AND starts_at > now()
      UNION ALL
      SELECT ends_at FROM promotions WHERE $1 = 'promotions' AND ends_at > now()
      UNION ALL
      SELECT published_at FROM news WHERE $1 = 'news' AND published_at > now()) x

-- name: content_featured_admin
-- Admin lists take ($1 after id, $2 limit, $3 one id).
SELECT f.id,
       jsonb_build_object(
           'event_id', f.event_id, 'event_name', e.name, 'event_status', e.status,
           'rank', f.rank, 'locale', f.locale,
           'starts_at', bx_utc_rfc3339(f.starts_at), 'ends_at', bx_utc_rfc3339(f.ends_at),
           'active', (f.starts_at IS NULL OR f.starts_at <= now())
                     AND (f.ends_at IS NULL OR f.ends_at > now()),
           'created_at', bx_utc_rfc3339(f.created_at),
           'updated_at', bx_utc_rfc3339(f.updated_at))::text
FROM featured_events f JOIN events e ON e.id = f.event_id
WHERE ($1::uuid IS NULL OR f.id > $1::uuid) AND ($3::uuid IS NULL OR f.id = $3::uuid)
ORDER BY f.id
LIMIT $2::int

-- name: content_promotions_admin
SELECT p.id,
       jsonb_build_object(
           'title', p.title, 'body', p.body, 'image_media_id', p.image_media_id,
           'link_url', p.link_url, 'rank', p.rank, 'locale', p.locale,
           'starts_at', bx_utc_rfc3339(p.starts_at), 'ends_at', bx_utc_rfc3339(p.ends_at),
           'active', (p.starts_at IS NULL OR p.starts_at <= now())
                     AND (p.ends_at IS NULL OR p.ends_at > now()),
           'created_at', bx_utc_rfc3339(p.created_at),
           'updated_at', bx_utc_rfc3339(p.updated_at))::text
FROM promotions p
WHERE ($1::uuid IS NULL OR p.id > $1::uuid) AND ($3::uuid IS NULL OR p.id = $3::uuid)
ORDER BY p.id
LIMIT $2::int

-- name: content_news_admin
SELECT n.id,
       jsonb_build_object(
           'title', n.title, 'body', n.body, 'locale', n.locale,
           'published_at', bx_utc_rfc3339(n.published_at),
           'active', n.published_at <= now(),
           'created_at', bx_utc_rfc3339(n.created_at),
           'updated_at', bx_utc_rfc3339(n.updated_at))::text
FROM news n
WHERE ($1::uuid IS NULL OR n.id > $1::uuid) AND ($3::uuid IS NULL OR n.id = $3::uuid)
ORDER BY n.id
LIMIT $2::int

-- name: content_featured_insert
-- Writes take ($1 id, $2 body, $3 author).
INSERT INTO featured_events (id, event_id, rank, starts_at, ends_at, locale, created_by)
SELECT $1, (b->>'event_id')::uuid, coalesce((b->>'rank')::int, 100),
       (b->>'starts_at')::timestamptz, (b->>'ends_at')::timestamptz, b->>'locale', $3::uuid
FROM (SELECT $2::jsonb AS b) s

-- name: content_promotions_insert
INSERT INTO promotions (id, title, body, image_media_id, link_url, rank, starts_at, ends_at,
                        locale, created_by)
SELECT $1, b->>'title', b->>'body', (b->>'image_media_id')::uuid, b->>'link_url',
       coalesce((b->>'rank')::int, 100), (b->>'starts_at')::timestamptz,
       (b->>'ends_at')::timestamptz, b->>'locale', $3::uuid
FROM (SELECT $2::jsonb AS b) s

-- name: content_news_insert
INSERT INTO news (id, title, body, published_at, locale, created_by)
SELECT $1, b->>'title', b->>'body', coalesce((b->>'published_at')::timestamptz, now()),
       b->>'locale', $3::uuid
FROM (SELECT $2::jsonb AS b) s

-- name: content_featured_update
-- Updates merge: absent members keep their value, null clears a nullable one.
UPDATE featured_events f
SET event_id = coalesce((b->>'event_id')::uuid, f.event_id),
    rank = coalesce((b->>'rank')::int, f.rank),
    starts_at = CASE WHEN b ? 'starts_at' THEN (b->>'starts_at')::timestamptz ELSE f.starts_at END,
    ends_at = CASE WHEN b ? 'ends_at' THEN (b->>'ends_at')::timestamptz ELSE f.ends_at END,
    locale = CASE WHEN b ? 'locale' THEN b->>'locale' ELSE f.locale END,
    updated_at = now()
FROM (SELECT $2::jsonb AS b) s
WHERE f.id = $1
RETURNING 1

-- name: content_promotions_update
UPDATE promotions p
SET title = coalesce(b->>'title', p.title),
    body = CASE WHEN b ? 'body' THEN b->>'body' ELSE p.body END,
    image_media_id = CASE WHEN b ? 'image_media_id' THEN (b->>'image_media_id')::uuid
                          ELSE p.image_media_id END,
    link_url = CASE WHEN b ? 'link_url' THEN b->>'link_url' ELSE p.link_url END,
    rank = coalesce((b->>'rank')::int, p.rank),
    starts_at = CASE WHEN b ? 'starts_at' THEN (b->>'starts_at')::timestamptz ELSE p.starts_at END,
    ends_at = CASE WHEN b ? 'ends_at' THEN (b->>'ends_at')::timestamptz ELSE p.ends_at END,
    locale = CASE WHEN b ? 'locale' THEN b->>'locale' ELSE p.locale END,
    updated_at = now()
FROM (SELECT $2::jsonb AS b) s
WHERE p.id = $1
RETURNING 1

-- name: content_news_update
UPDATE news n
SET title = coalesce(b->>'title', n.title),
    body = coalesce(b->>'body', n.body),
    published_at = coalesce((b->>'published_at')::timestamptz, n.published_at),
    locale = CASE WHEN b ? 'locale' THEN b->>'locale' ELSE n.locale END,
    updated_at = now()
FROM (SELECT $2::jsonb AS b) s
WHERE n.id = $1
RETURNING 1

-- name: content_featured_delete
DELETE FROM featured_events WHERE id = $1 RETURNING 1

-- name: content_promotions_delete
DELETE FROM promotions WHERE id = $1 RETURNING 1

-- name: content_news_delete
DELETE FROM news WHERE id = $1 RETURNING 1

-- name: content_event_exists
SELECT 1 FROM events WHERE id = $1

-- name: content_image_kind
SELECT b.mime FROM media m JOIN media_blobs b ON b.sha256 = m.sha256 WHERE m.id = $1
