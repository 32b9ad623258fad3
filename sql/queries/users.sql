-- Accounts, login sessions, rotating refresh tokens and partner organizations
-- (frontdoor fd_users/fd_orgs, bxctl create-admin). Timestamps leave as RFC 3339 UTC text.

-- name: user_insert
INSERT INTO users (id, email, password_hash, first_name, last_name, phone_number, locale)
VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, 'en'))
RETURNING id, email, first_name, last_name, phone_number, locale, role,
          to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          extract(epoch FROM updated_at)::bigint

-- name: user_get
SELECT id, email, first_name, last_name, phone_number, locale, role,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       extract(epoch FROM updated_at)::bigint
FROM users WHERE id = $1

-- name: user_get_for_update
SELECT id, email, first_name, last_name, phone_number, locale, role,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       extract(epoch FROM updated_at)::bigint, password_hash
FROM users WHERE id = $1 FOR UPDATE

-- name: user_update
UPDATE users SET email = $2, first_name = $3, last_name = $4, phone_number = $5, locale = $6,
                 password_hash = $7, updated_at = now()
WHERE id = $1
RETURNING id, email, first_name, last_name, phone_number, locale, role,
          to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          extract(epoch FROM updated_at)::bigint

-- name: user_login_lookup
SELECT id, password_hash, role FROM users WHERE lower(email) = lower($1)

-- name: user_set_password_hash
UPDATE users SET password_hash = $2 WHERE id = $1

-- name: user_orgs
SELECT org_id, role FROM organization_members WHERE user_id = $1 ORDER BY org_id LIMIT $2::int

-- name: user_promote_partner
UPDATE users SET role = 'partner', updated_at = now() WHERE id = $1 AND role = 'customer'

-- name: user_by_email
SELECT id, email, role FROM users WHERE lower(email) = lower($1)

-- name: admin_upsert
INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, $3, 'admin')
ON CONFLICT ((lower(email))) DO UPDATE
    SET role = 'admin', password_hash = EXCLUDED.password_hash, updated_at = now()
RETURNING id, (xmax = 0)

-- name: session_insert
INSERT INTO sessions (id, user_id, expires_at)
VALUES ($1, $2, now() + make_interval(secs => $3::int))
RETURNING extract(epoch FROM expires_at)::bigint

-- name: session_revoke
UPDATE sessions SET revoked_at = now(), revoked_reason = $3
WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL

-- name: sessions_revoke_others
UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout'
WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL
RETURNING id

-- name: refresh_insert
INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
SELECT $1, id, expires_at FROM sessions WHERE id = $2

-- name: refresh_lookup
SELECT s.id, s.user_id, u.role, rt.used_at IS NOT NULL,
       (rt.expires_at <= now() OR s.expires_at <= now() OR s.revoked_at IS NOT NULL),
       extract(epoch FROM s.expires_at)::bigint
FROM refresh_tokens rt
JOIN sessions s ON s.id = rt.session_id
JOIN users u ON u.id = s.user_id
WHERE rt.token_hash = $1
FOR UPDATE OF rt, s

-- name: refresh_mark_used
UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL

-- name: org_insert
INSERT INTO organizations (id, name) VALUES ($1, $2)

-- name: org_get
SELECT id, name,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       extract(epoch FROM updated_at)::bigint
FROM organizations WHERE id = $1

-- name: org_member_role
SELECT role FROM organization_members WHERE org_id = $1 AND user_id = $2

-- name: org_members
SELECT m.user_id, u.email, m.role, u.first_name, u.last_name,
       to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
FROM organization_members m JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1
ORDER BY m.created_at, m.user_id
LIMIT $2::int

-- name: org_member_upsert
INSERT INTO organization_members (org_id, user_id, role) VALUES ($1, $2, $3)
ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role
RETURNING (xmax = 0), to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')

-- name: org_touch
UPDATE organizations SET updated_at = now() WHERE id = $1

-- name: org_other_owners
SELECT count(*) FROM organization_members WHERE org_id = $1 AND user_id <> $2 AND role = 'owner'

-- name: admin_audit
INSERT INTO audit_log (actor_id, action, object_type, object_id, ip, detail)
VALUES (NULL, $1, 'user', $2, 'bxctl', jsonb_build_object('created', $3::boolean))
