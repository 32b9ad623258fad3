-- Session checks for bearer tokens (frontdoor).

-- name: session_active
SELECT 1 FROM sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()
