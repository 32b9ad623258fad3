-- Waiting room: room configuration (frontdoor fd_waitroom), places in the queue (join,
-- position, lottery list) and the gatekeeper's admissions, expiries and statistics
-- (bx-worker-waitlist). Times leave as epoch seconds for C and RFC 3339 UTC for documents.

-- name: wr_config_get
-- The event's owner and status and its room (NULL columns when it has none), with now():
-- the database clock decides what "before the sale" means everywhere.
SELECT e.org_id, e.status, c.enabled,
       extract(epoch FROM c.prequeue_opens_at)::bigint,
       extract(epoch FROM c.sale_starts_at)::bigint,
       c.admit_per_minute, c.max_active_shoppers, c.token_ttl_s, c.inventory_margin_pct,
       c.offer_ttl_s, c.seed, c.seed_sha256,
       bx_utc_rfc3339(c.prequeue_opens_at), bx_utc_rfc3339(c.sale_starts_at),
       bx_utc_rfc3339(c.updated_at), extract(epoch FROM now())::bigint
FROM events e LEFT JOIN waitroom_config c ON c.event_id = e.id
WHERE e.id = $1

-- name: wr_config_upsert
-- The seed is written once: an update never changes it.
INSERT INTO waitroom_config (event_id, enabled, prequeue_opens_at, sale_starts_at,
                             admit_per_minute, max_active_shoppers, token_ttl_s,
                             inventory_margin_pct, offer_ttl_s, seed, seed_sha256)
VALUES ($1, $2::boolean, to_timestamp($3::bigint), to_timestamp($4::bigint), $5::int, $6::int, $7::int, $8::int,
        $9::int, $10, $11)
ON CONFLICT (event_id) DO UPDATE
SET enabled = EXCLUDED.enabled, prequeue_opens_at = EXCLUDED.prequeue_opens_at,
    sale_starts_at = EXCLUDED.sale_starts_at, admit_per_minute = EXCLUDED.admit_per_minute,
    max_active_shoppers = EXCLUDED.max_active_shoppers, token_ttl_s = EXCLUDED.token_ttl_s,
    inventory_margin_pct = EXCLUDED.inventory_margin_pct, offer_ttl_s = EXCLUDED.offer_ttl_s,
    updated_at = now()

-- name: wr_config_epochs
-- A PUT's sale start and pre-queue opening (default: now, or the sale start if earlier) as
-- epoch seconds, with the database's now.
SELECT extract(epoch FROM $1::timestamptz)::bigint,
       extract(epoch FROM coalesce($2::timestamptz, least(now(), $1::timestamptz)))::bigint,
       extract(epoch FROM now())::bigint

-- name: wr_expire_user
-- A lapsed admission of this user ends before the user joins again.
UPDATE waitroom_entries SET state = 'expired', finished_at = now()
WHERE event_id = $1 AND user_id = $2 AND state = 'admitted' AND admission_expires_at < now()

-- name: wr_join
-- One live place per user and event. prequeue is decided by the database clock.
WITH ins AS (
    INSERT INTO waitroom_entries (id, event_id, user_id, prequeue, lottery)
    SELECT $1, $2, $3, now() < c.sale_starts_at, $4::bigint
    FROM waitroom_config c WHERE c.event_id = $2
    ON CONFLICT (event_id, user_id) WHERE state IN ('queued', 'admitted') DO NOTHING
    RETURNING id, seq, prequeue, state, joined_at, lottery
)
SELECT id, seq, prequeue, state, bx_utc_rfc3339(joined_at), lottery FROM ins

-- name: wr_entry_live
SELECT id, seq, prequeue, state, bx_utc_rfc3339(joined_at), lottery
FROM waitroom_entries
WHERE event_id = $1 AND user_id = $2 AND state IN ('queued', 'admitted')

-- name: wr_entry_get
-- An entry's state; for an admitted one, what its token says (re-signing is idempotent).
SELECT state, admission_jti, extract(epoch FROM admission_expires_at)::bigint,
       extract(epoch FROM admitted_at)::bigint, admission_expires_at < now()
FROM waitroom_entries WHERE id = $1 AND event_id = $2 AND user_id = $3

-- name: wr_entry_spend
UPDATE waitroom_entries SET state = 'spent', finished_at = now()
WHERE admission_jti = $1 AND state IN ('admitted', 'expired')

-- name: wr_lottery_page
-- The pre-sale entries of an event in lottery order, after the cursor (lottery, id).
SELECT id, lottery, bx_utc_rfc3339(joined_at)
FROM waitroom_entries
WHERE event_id = $1 AND prequeue
  AND ($2::bigint IS NULL OR (lottery, id) > ($2::bigint, $3::uuid))
ORDER BY lottery, id
LIMIT $4::int

-- name: wr_rooms
-- Rooms the gatekeeper works on: enabled, event on sale or published.
SELECT c.event_id, c.admit_per_minute, c.max_active_shoppers, c.token_ttl_s,
       c.inventory_margin_pct, c.sale_starts_at <= now(), c.seed
FROM waitroom_config c JOIN events e ON e.id = c.event_id
WHERE c.enabled AND e.status IN ('published', 'on_sale')
ORDER BY c.event_id
LIMIT $1::int

-- name: wr_inventory
-- Units that nobody holds or bought (seats available, GA capacity left) and units held.
SELECT (SELECT count(*) FROM event_seats s WHERE s.event_id = $1 AND s.state = 'available')
     + (SELECT coalesce(sum(g.capacity - g.held - g.sold), 0) FROM event_ga g
        WHERE g.event_id = $1),
       (SELECT count(*) FROM event_seats s WHERE s.event_id = $1 AND s.state = 'held')
     + (SELECT coalesce(sum(g.held), 0) FROM event_ga g WHERE g.event_id = $1)

-- name: wr_admit
-- Admits the given entries: jtis and the expiry are written once, so a repeated admission
-- (after a crash between this and Redis) re-issues the same token.
UPDATE waitroom_entries w
SET state = 'admitted', admitted_at = coalesce(w.admitted_at, now()),
    admission_jti = coalesce(w.admission_jti, a.jti),
    admission_expires_at = coalesce(w.admission_expires_at,
                                    now() + make_interval(secs => $4::int))
FROM unnest($2::uuid[], $3::uuid[]) AS a (id, jti)
WHERE w.id = a.id AND w.event_id = $1 AND w.state IN ('queued', 'admitted')
RETURNING w.id, w.user_id, w.admission_jti, extract(epoch FROM w.admitted_at)::bigint,
          extract(epoch FROM w.admission_expires_at)::bigint

-- name: wr_expire_due
UPDATE waitroom_entries SET state = 'expired', finished_at = now()
WHERE event_id = $1 AND state = 'admitted' AND admission_expires_at < now()

-- name: wr_queued_page
-- Queued entries for rebuilding the Redis queue, by seq after a cursor.
SELECT id, prequeue, seq, lottery FROM waitroom_entries
WHERE event_id = $1 AND state = 'queued' AND seq > $2::bigint
ORDER BY seq LIMIT $3::int

-- name: wr_admitted_live
-- Live admissions for rebuilding Redis: their tokens are re-signed from these columns.
SELECT id, user_id, admission_jti, extract(epoch FROM admitted_at)::bigint,
       extract(epoch FROM admission_expires_at)::bigint
FROM waitroom_entries
WHERE event_id = $1 AND state = 'admitted' AND admission_expires_at > now()
LIMIT $2::int

-- name: wr_stats_add
INSERT INTO waitroom_stats (event_id, minute, admitted, abandoned, expired_used, queue_length,
                            active_shoppers)
VALUES ($1, date_trunc('minute', now()), $2::int, $3::int, $4::int, $5::int, $6::int)
ON CONFLICT (event_id, minute) DO UPDATE
SET admitted = waitroom_stats.admitted + EXCLUDED.admitted,
    abandoned = waitroom_stats.abandoned + EXCLUDED.abandoned,
    expired_used = waitroom_stats.expired_used + EXCLUDED.expired_used,
    queue_length = EXCLUDED.queue_length, active_shoppers = EXCLUDED.active_shoppers

-- name: wr_stats_totals
-- Totals of the room for the partner's view (Redis has the live ones; these survive it).
SELECT coalesce(sum(admitted), 0), coalesce(sum(abandoned), 0), coalesce(sum(expired_used), 0),
       (SELECT count(*) FROM waitroom_entries WHERE event_id = $1 AND state = 'spent'),
       (SELECT count(*) FROM waitroom_entries WHERE event_id = $1)
FROM waitroom_stats WHERE event_id = $1
