-- Pipeline, batch mode of the worker runtime: many jobs of one executor in one
-- transaction (workers/runtime/bx_worker_batch.c). Each job's row is still locked and
-- checked terminal before its handler runs, exactly as for a single job.

-- name: pipe_mark_running_batch
-- $1: text array of request ids; the rows that may run come back.
UPDATE requests
SET status = 'running', attempts = attempts + 1,
    lease_until = now() + make_interval(secs => $2::int), updated_at = now()
WHERE id = ANY ($1::uuid[]) AND service = $3 AND status IN ('queued', 'running')
RETURNING id

-- name: pipe_lock_batch
-- Locks in id order (the LockRows node sits above the sort), so two batches that share
-- rows cannot deadlock on them.
SELECT status, http_status, result::text, payload::text, service, COALESCE(topic, ''),
       COALESCE(route_key, ''), COALESCE(user_id::text, ''), COALESCE(trace_id, ''),
       COALESCE(parent_id::text, ''), attempts, id
FROM requests WHERE id = ANY ($1::uuid[]) ORDER BY id FOR UPDATE

-- name: pipe_complete_batch
-- $1: JSON array of {"id", "status", "http", "result"}; returns each stored result text.
UPDATE requests r
SET status = v.status, http_status = v.http, result = v.result, completed_at = now(),
    updated_at = now()
FROM jsonb_to_recordset($1::jsonb) AS v (id uuid, status text, http int, result jsonb)
WHERE r.id = v.id AND r.status IN ('queued', 'running')
RETURNING r.id, r.result::text
