-- Audit trail of critical operations.

-- name: audit_insert
INSERT INTO audit_log (actor_id, action, object_type, object_id, ip, detail)
VALUES ($1, $2, $3, $4, $5, $6::jsonb)
