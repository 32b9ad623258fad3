-- Pipeline: the worker runtime's job transaction, outbox writes and the scheduler's sweeps.

-- name: pipe_mark_running
UPDATE requests
SET status = 'running', attempts = attempts + 1,
    lease_until = now() + make_interval(secs => $2::int), updated_at = now()
WHERE id = $1 AND service = $3 AND status IN ('queued', 'running')
RETURNING attempts
-- name: pipe_stored
SELECT status, http_status, result::text, service FROM requests WHERE id = $1
-- name: pipe_lock
SELECT status, http_status, result::text, payload::text, service, COALESCE(topic, ''),
       COALESCE(route_key, ''), COALESCE(user_id::text, ''), COALESCE(trace_id, ''),
       COALESCE(parent_id::text, ''), attempts
FROM requests WHERE id = $1 FOR UPDATE
-- name: pipe_complete
UPDATE requests
SET status = $2, http_status = $3::int, result = $4::jsonb, completed_at = now(),
    updated_at = now()
WHERE id = $1 AND status IN ('queued', 'running')
RETURNING result::text
-- name: pipe_outbox_insert
INSERT INTO outbox (service, topic, route_key, payload, request_id, parent_id)
VALUES ($1, $2, NULLIF($3, ''), $4::jsonb, $5, $6)
-- name: sched_relay
WITH batch AS (
    SELECT id FROM outbox WHERE relayed_at IS NULL ORDER BY id LIMIT $1::int
    FOR UPDATE SKIP LOCKED
), moved AS (
    UPDATE outbox o
    SET relayed_at = now(), request_id = COALESCE(o.request_id, gen_random_uuid())
    FROM batch WHERE o.id = batch.id
    RETURNING o.request_id, o.service, o.topic, o.route_key, o.payload, o.parent_id
)
INSERT INTO requests (id, user_id, service, topic, parent_id, route_key, payload, trace_id,
                      lease_until)
SELECT m.request_id, p.user_id, m.service, m.topic, m.parent_id, m.route_key, m.payload,
       p.trace_id, now() + make_interval(secs => $2::int)
FROM moved m LEFT JOIN requests p ON p.id = m.parent_id
ON CONFLICT (id) DO NOTHING
RETURNING id, service, COALESCE(route_key, ''), payload::text, COALESCE(trace_id, '')
-- name: sched_give_up
WITH stuck AS (
    SELECT id FROM requests
    WHERE status IN ('queued', 'running') AND lease_until < now() AND attempts >= $1::int
    ORDER BY lease_until LIMIT $2::int
    FOR UPDATE SKIP LOCKED
)
UPDATE requests r
SET status = 'failed', http_status = 500, completed_at = now(), updated_at = now(),
    result = jsonb_build_object('type', $3::text, 'title', $4::text, 'status', 500,
                                'detail', 'gave up after ' || r.attempts || ' attempts')
FROM stuck WHERE r.id = stuck.id
RETURNING r.id
-- name: sched_expired
WITH due AS (
    SELECT id FROM requests
    WHERE status IN ('queued', 'running') AND lease_until < now()
    ORDER BY lease_until LIMIT $1::int
    FOR UPDATE SKIP LOCKED
)
UPDATE requests r SET lease_until = now() + make_interval(secs => $2::int)
FROM due WHERE r.id = due.id
RETURNING r.id, r.service, COALESCE(r.route_key, ''), r.payload::text, COALESCE(r.trace_id, '')
-- name: sched_idem_purge
DELETE FROM idempotency_keys
WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at < now() LIMIT $1::int)
