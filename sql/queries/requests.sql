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
