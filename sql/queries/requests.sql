-- Durable pipeline requests and idempotency records (frontdoor, workers, scheduler).

-- name: request_insert
INSERT INTO requests (id, user_id, service, route_key, payload, trace_id, callback_url, lease_until)
VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, now() + make_interval(secs => $8::int))
-- name: request_get
SELECT id, user_id, service, status, http_status, result, attempts, trace_id,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       extract(epoch FROM updated_at)::bigint
FROM requests WHERE id = $1
-- name: request_delete_queued
DELETE FROM requests WHERE id = $1 AND status = 'queued'
-- name: idem_insert
INSERT INTO idempotency_keys (scope, key, method, path, body_hash)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (scope, key) DO NOTHING
RETURNING 1
-- name: idem_get
SELECT method, path, body_hash, state, http_status, content_type, location, body, request_id,
       (locked_until < now()) AS lock_expired
FROM idempotency_keys WHERE scope = $1 AND key = $2
-- name: idem_takeover
UPDATE idempotency_keys SET locked_until = now() + interval '60 seconds'
WHERE scope = $1 AND key = $2 AND state = 'in_flight' AND locked_until < now()
RETURNING 1
-- name: idem_finish
UPDATE idempotency_keys
SET state = 'done', http_status = $3, content_type = $4, location = $5, body = $6
WHERE scope = $1 AND key = $2
-- name: idem_forget
DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'in_flight'
-- name: idem_link_request
UPDATE idempotency_keys SET request_id = $3 WHERE scope = $1 AND key = $2
