-- Media of events and venues (frontdoor fd_media). An owner is an event or a venue; its
-- id alone identifies it (coalesce(event_id, venue_id), indexed), since both are UUIDs.

-- name: media_event_owner
SELECT org_id FROM events WHERE id = $1 FOR UPDATE

-- name: media_venue_owner
SELECT org_id FROM venues WHERE id = $1 AND deleted_at IS NULL FOR UPDATE

-- name: media_owner_count
SELECT count(*) FROM media WHERE coalesce(event_id, venue_id) = $1

-- name: media_same_upload
SELECT id FROM media WHERE coalesce(event_id, venue_id) = $1 AND role = $2 AND sha256 = $3

-- name: media_blob_upsert
-- Locks the content's row until commit (see 0005_media_content.sql); inserted tells
-- whether the content is new to the store.
INSERT INTO media_blobs (sha256, mime, bytes, width, height, duration_ms)
VALUES ($1, $2, $3::bigint, $4::int, $5::int, $6::bigint)
ON CONFLICT (sha256) DO UPDATE SET orphaned_at = NULL
RETURNING (xmax = 0)

-- name: media_poster_replace
DELETE FROM media WHERE coalesce(event_id, venue_id) = $1 AND role = 'poster' RETURNING id

-- name: media_insert
INSERT INTO media (id, org_id, event_id, venue_id, role, sha256, position, created_by)
SELECT $1, $2, $3::uuid, $4::uuid, $5::text, $6,
       coalesce((SELECT max(position) + 1 FROM media
                 WHERE coalesce(event_id, venue_id) = coalesce($3::uuid, $4::uuid)
                   AND role = $5::text), 0),
       $7::uuid

-- name: media_get
-- Visibility: an event's media as its event (published and on sale: public), a venue's as
-- its venue (public unless deleted, then gone for everyone).
SELECT m.id, m.org_id, m.sha256, b.mime, b.bytes,
       CASE WHEN m.event_id IS NOT NULL THEN e.status IN ('published', 'on_sale')
            ELSE true END,
       m.venue_id IS NOT NULL AND v.deleted_at IS NOT NULL,
       extract(epoch FROM m.created_at)::bigint,
       jsonb_build_object(
           'owner', jsonb_build_object(
               'type', CASE WHEN m.event_id IS NOT NULL THEN 'event' ELSE 'venue' END,
               'id', coalesce(m.event_id, m.venue_id)),
           'role', m.role, 'mime', b.mime, 'bytes', b.bytes, 'width', b.width,
           'height', b.height, 'duration_ms', b.duration_ms, 'sha256', m.sha256,
           'position', m.position, 'organization_id', m.org_id,
           'content_url', '/api/v1/media/' || m.id || '/content',
           'created_at', bx_utc_rfc3339(m.created_at))::text
FROM media m
JOIN media_blobs b ON b.sha256 = m.sha256
LEFT JOIN events e ON e.id = m.event_id
LEFT JOIN venues v ON v.id = m.venue_id
WHERE m.id = $1

-- name: media_of_owner
-- The media an event or venue document embeds: poster, trailers, then the gallery.
SELECT coalesce(jsonb_agg(jsonb_build_object(
           'id', m.id, 'role', m.role, 'mime', b.mime, 'bytes', b.bytes, 'width', b.width,
           'height', b.height, 'duration_ms', b.duration_ms,
           'links', jsonb_build_object('self', '/api/v1/media/' || m.id,
                                       'content', '/api/v1/media/' || m.id || '/content'))
           ORDER BY CASE m.role WHEN 'poster' THEN 0 WHEN 'trailer' THEN 1 ELSE 2 END,
                    m.position, m.id), '[]')::text
FROM media m JOIN media_blobs b ON b.sha256 = m.sha256
WHERE coalesce(m.event_id, m.venue_id) = $1

-- name: media_lock
SELECT m.org_id, coalesce(m.event_id, m.venue_id), m.event_id IS NOT NULL
FROM media m LEFT JOIN venues v ON v.id = m.venue_id
WHERE m.id = $1 AND (m.venue_id IS NULL OR v.deleted_at IS NULL)
FOR UPDATE OF m

-- name: media_delete
DELETE FROM media WHERE id = $1

-- name: media_orphan_next
SELECT sha256 FROM media_blobs WHERE orphaned_at IS NOT NULL
ORDER BY orphaned_at LIMIT 1 FOR UPDATE SKIP LOCKED

-- name: media_orphan_delete
DELETE FROM media_blobs b
WHERE b.sha256 = $1 AND b.orphaned_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM media m WHERE m.sha256 = b.sha256)
RETURNING 1
