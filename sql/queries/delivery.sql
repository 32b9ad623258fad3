-- Delivery engine (docs/delivery.md): entry points (common/bx_dlv), fan-out and senders
-- (workers/delivery), settings, push subscriptions and webhook endpoints (frontdoor
-- fd_notify, fd_webhooks). Documents are built here as JSON; timestamps are RFC 3339 UTC.

-- ---- entry points and keys ----

-- name: dlv_order_next
INSERT INTO delivery_order_keys (key, last_seq) VALUES ($1, 1)
ON CONFLICT (key) DO UPDATE SET last_seq = delivery_order_keys.last_seq + 1
RETURNING last_seq

-- name: dlv_outbox_insert
INSERT INTO outbox (service, topic, payload, request_id, parent_id)
VALUES ($1, $2, $3::jsonb, $4, NULLIF($5, '')::uuid)

-- name: dlv_key_get
SELECT kid, private_key, public_key FROM signing_keys WHERE purpose = $1

-- name: dlv_key_insert
INSERT INTO signing_keys (purpose, kid, private_key, public_key) VALUES ($1, $2, $3, $4)
ON CONFLICT (purpose) DO NOTHING

-- ---- fan-out ----

-- name: dlv_user_profile
SELECT u.email, COALESCE(u.phone_number, ''), u.locale, COALESCE(u.first_name, ''),
       COALESCE(s.prefs, '{}')::text,
       bx_quiet_until(COALESCE(s.time_zone, 'UTC'), s.quiet_start, s.quiet_end, now())::text,
       COALESCE(u.last_name, '')
FROM users u LEFT JOIN notification_settings s ON s.user_id = u.id
WHERE u.id = $1

-- name: dlv_user_subscriptions
SELECT id, endpoint FROM push_subscriptions
WHERE user_id = $1 AND expired_at IS NULL ORDER BY created_at LIMIT 10

-- name: dlv_insert
INSERT INTO deliveries (id, message_id, pool, channel, message_type, category, urgent, user_id,
                        org_id, endpoint_id, subscription_id, request_id, recipient, locale,
                        payload, order_key, order_lane, seq, next_attempt_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::boolean, NULLIF($8, '')::uuid, NULLIF($9, '')::uuid,
        NULLIF($10, '')::uuid, NULLIF($11, '')::uuid, NULLIF($12, '')::uuid, $13, $14,
        $15::jsonb, NULLIF($16, ''), NULLIF($17, ''), NULLIF($18, '')::bigint,
        COALESCE(NULLIF($19, '')::timestamptz, now()))
ON CONFLICT DO NOTHING

-- name: dlv_order_fanned
SELECT bx_order_fanned($1, $2::bigint)

-- name: dlv_wake
SELECT pg_notify('bx_delivery_' || $1, '')

-- name: dlv_org_endpoints
SELECT id, url FROM webhook_endpoints
WHERE org_id = $1 AND status = 'enabled' AND deleted_at IS NULL AND $2 = ANY (event_types)
ORDER BY created_at

-- name: dlv_event_snapshot
SELECT org_id, jsonb_build_object('id', id, 'name', name, 'status', status,
           'event_type', event_type, 'venue_id', venue_id, 'hall_id', hall_id,
           'starts_at', bx_utc_rfc3339(starts_at), 'ends_at', bx_utc_rfc3339(ends_at),
           'updated_at', bx_utc_rfc3339(updated_at))::text
FROM events WHERE id = $1

-- name: dlv_request_result
SELECT callback_url, status, http_status, COALESCE(result, '{}')::text, service,
       bx_utc_rfc3339(completed_at), COALESCE(user_id::text, '')
FROM requests WHERE id = $1

-- name: dlv_org_owners
SELECT user_id FROM organization_members WHERE org_id = $1 AND role = 'owner' ORDER BY user_id LIMIT 20

-- ---- senders ----

-- Claims up to $2 due deliveries of pool $1 for $4 seconds under token $3. A delivery
-- with an ordering key waits until every earlier message of its key is fanned out and
-- every earlier delivery of its lane has succeeded or died.
-- name: dlv_claim
WITH c AS (
    SELECT d.id FROM deliveries d
    WHERE d.status = 'pending' AND d.pool = $1 AND d.next_attempt_at <= now()
      AND (d.order_key IS NULL OR (
            EXISTS (SELECT 1 FROM delivery_order_keys o
                    WHERE o.key = d.order_key AND o.fanned_upto >= d.seq)
            AND NOT EXISTS (SELECT 1 FROM deliveries p
                            WHERE p.order_lane = d.order_lane AND p.status = 'pending'
                              AND p.seq < d.seq)))
    ORDER BY d.next_attempt_at LIMIT $2::int
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE deliveries d
SET attempts = d.attempts + 1, claim_token = $3::uuid, updated_at = now(),
    next_attempt_at = now() + make_interval(secs => $4::int)
FROM c WHERE d.id = c.id
RETURNING d.id, d.message_id, d.channel, d.message_type, d.category, d.recipient, d.locale,
          d.payload::text, d.attempts, COALESCE(d.endpoint_id::text, ''),
          COALESCE(d.subscription_id::text, ''), COALESCE(d.user_id::text, ''),
          d.urgent, COALESCE(d.org_id::text, '')

-- Secrets and current URL of the endpoints of a batch ($1: JSON array of ids).
-- name: dlv_endpoints_for_send
SELECT id, url, status, secret, COALESCE(old_secret, ''),
       (old_secret IS NOT NULL AND old_secret_until > now()), deleted_at IS NOT NULL
FROM webhook_endpoints WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::uuid)

-- name: dlv_subscriptions_for_send
SELECT id, endpoint, p256dh, auth, expired_at IS NOT NULL
FROM push_subscriptions WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::uuid)

-- Outcome of a claimed batch ($1: JSON array of records). Only rows still held by the
-- claim are changed; "deferred" hands the claim back without counting an attempt.
-- name: dlv_record
WITH r AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb)
        AS x(id uuid, claim uuid, status text, delay_ms bigint, uncount int, provider text,
             error text)
)
UPDATE deliveries d
SET status = r.status,
    next_attempt_at = CASE WHEN r.status = 'pending'
                           THEN now() + r.delay_ms * interval '1 millisecond'
                           ELSE d.next_attempt_at END,
    attempts = d.attempts - COALESCE(r.uncount, 0),
    completed_at = CASE WHEN r.status = 'pending' THEN NULL ELSE now() END,
    provider = COALESCE(r.provider, d.provider), last_error = left(r.error, 300),
    claim_token = NULL, updated_at = now()
FROM r WHERE d.id = r.id AND d.claim_token = r.claim AND d.status = 'pending'
RETURNING d.id

-- name: dlv_attempts_insert
INSERT INTO delivery_attempts (delivery_id, attempt, started_at, provider, outcome, http_status,
                               latency_ms, response, error)
SELECT x.id, x.attempt, to_timestamp(x.started_ms / 1000.0), x.provider, x.outcome,
       x.http_status, x.latency_ms, x.response, left(x.error, 300)
FROM jsonb_to_recordset($1::jsonb)
    AS x(id uuid, attempt int, started_ms bigint, provider text, outcome text, http_status int,
         latency_ms int, response text, error text)

-- Open breakers among $1 (JSON array of keys): key, cool-down over, open until (epoch ms).
-- name: dlv_breakers_open
SELECT key, (open_until <= now()), (extract(epoch FROM open_until) * 1000)::bigint
FROM delivery_breakers
WHERE state = 'open' AND key IN (SELECT jsonb_array_elements_text($1::jsonb))

-- name: dlv_breaker_trial
UPDATE delivery_breakers SET trial_until = now() + make_interval(secs => $2::int)
WHERE key = $1 AND state = 'open' AND open_until <= now()
  AND (trial_until IS NULL OR trial_until < now())
RETURNING key

-- name: dlv_breaker_ok
UPDATE delivery_breakers
SET state = 'closed', failures = 0, openings = 0, open_until = NULL, trial_until = NULL,
    updated_at = now()
WHERE key IN (SELECT jsonb_array_elements_text($1::jsonb)) AND (state <> 'closed' OR failures > 0)

-- name: dlv_breaker_fail
SELECT bx_breaker_fail($1, $2::int, $3::int, $4::bigint, $5::bigint)::text

-- name: dlv_postpone_endpoint
UPDATE deliveries SET next_attempt_at = $2::timestamptz, updated_at = now()
WHERE endpoint_id = $1 AND status = 'pending' AND next_attempt_at < $2::timestamptz

-- name: dlv_endpoint_outcome
SELECT bx_endpoint_outcome($1, $2::boolean, $3::int)

-- name: dlv_endpoint_gone
UPDATE webhook_endpoints
SET status = 'disabled', disabled_at = now(), updated_at = now(),
    disabled_reason = 'the endpoint answered 410 Gone'
WHERE id = $1 AND status = 'enabled'
RETURNING id

-- Pending deliveries of a disabled endpoint die (a replay brings them back).
-- name: dlv_endpoint_bury
UPDATE deliveries SET status = 'dead', completed_at = now(), updated_at = now(),
                      last_error = 'endpoint disabled: ' || $2
WHERE endpoint_id = $1 AND status = 'pending'

-- name: dlv_endpoint_notice
SELECT org_id, url, COALESCE(disabled_reason, '') FROM webhook_endpoints WHERE id = $1

-- name: dlv_subscription_expire
UPDATE push_subscriptions SET expired_at = now() WHERE id = $1 AND expired_at IS NULL

-- ---- settings, push subscriptions, unsubscribe (frontdoor fd_notify) ----

-- name: dlv_settings_get
SELECT COALESCE(s.time_zone, 'UTC'), to_char(s.quiet_start, 'HH24:MI'),
       to_char(s.quiet_end, 'HH24:MI'), COALESCE(s.prefs, '{}')::text,
       COALESCE(bx_utc_rfc3339(s.updated_at), bx_utc_rfc3339(u.updated_at)),
       extract(epoch FROM COALESCE(s.updated_at, u.updated_at))::bigint,
       u.phone_number IS NOT NULL
FROM users u LEFT JOIN notification_settings s ON s.user_id = u.id
WHERE u.id = $1

-- name: dlv_settings_lock
INSERT INTO notification_settings (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING

-- name: dlv_settings_save
UPDATE notification_settings
SET time_zone = $2, quiet_start = NULLIF($3, '')::time, quiet_end = NULLIF($4, '')::time,
    prefs = $5::jsonb, updated_at = now()
WHERE user_id = $1

-- name: dlv_tz_known
SELECT EXISTS (SELECT 1 FROM iana_time_zones WHERE name = $1)

-- name: dlv_unsubscribe
INSERT INTO notification_settings (user_id, prefs)
SELECT $1, jsonb_build_object($2::text, jsonb_build_object($3::text, false))
WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)
ON CONFLICT (user_id) DO UPDATE
SET prefs = jsonb_set(notification_settings.prefs, ARRAY[$2::text],
                      COALESCE(notification_settings.prefs -> $2::text, '{}')
                      || jsonb_build_object($3::text, false)),
    updated_at = now()

-- name: dlv_push_upsert
INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, user_agent)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (endpoint) DO UPDATE
SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
    user_agent = EXCLUDED.user_agent, expired_at = NULL
RETURNING id, jsonb_build_object('endpoint', endpoint, 'user_agent', user_agent,
                                 'created_at', bx_utc_rfc3339(created_at), 'expired_at', NULL)::text

-- name: dlv_push_list
SELECT id, jsonb_build_object('endpoint', endpoint, 'user_agent', user_agent,
                              'created_at', bx_utc_rfc3339(created_at),
                              'expired_at', bx_utc_rfc3339(expired_at))::text
FROM push_subscriptions WHERE user_id = $1 ORDER BY created_at, id LIMIT 50

-- name: dlv_push_delete
DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2

-- ---- webhook endpoints, delivery log, replay (frontdoor fd_webhooks) ----

-- name: wh_endpoint_insert
INSERT INTO webhook_endpoints (id, org_id, url, description, event_types, secret)
VALUES ($1, $2, $3, $4, ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), $6)

-- The endpoint document's attributes (never the secret) and its organization.
-- name: wh_endpoint_get
SELECT org_id, jsonb_build_object('organization_id', org_id, 'url', url,
           'description', description, 'event_types', to_jsonb(event_types),
           'status', status, 'disabled_reason', disabled_reason,
           'disabled_at', bx_utc_rfc3339(disabled_at), 'failing_since', bx_utc_rfc3339(failing_since),
           'previous_secret_expires_at',
           CASE WHEN old_secret_until > now() THEN bx_utc_rfc3339(old_secret_until) END,
           'created_at', bx_utc_rfc3339(created_at), 'updated_at', bx_utc_rfc3339(updated_at))::text,
       extract(epoch FROM updated_at)::bigint
FROM webhook_endpoints WHERE id = $1 AND deleted_at IS NULL

-- name: wh_endpoint_list
SELECT id, bx_utc_rfc3339(created_at),
       jsonb_build_object('organization_id', org_id, 'url', url, 'description', description,
           'event_types', to_jsonb(event_types), 'status', status,
           'disabled_reason', disabled_reason, 'failing_since', bx_utc_rfc3339(failing_since),
           'created_at', bx_utc_rfc3339(created_at), 'updated_at', bx_utc_rfc3339(updated_at))::text,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
FROM webhook_endpoints
WHERE org_id = $1 AND deleted_at IS NULL
  AND ($2::text IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
ORDER BY created_at, id LIMIT $4::int

-- name: wh_endpoint_update
UPDATE webhook_endpoints
SET url = COALESCE($2, url), description = CASE WHEN $3::boolean THEN $4 ELSE description END,
    event_types = CASE WHEN $5::jsonb IS NULL THEN event_types
                       ELSE ARRAY(SELECT jsonb_array_elements_text($5::jsonb)) END,
    status = COALESCE($6, status),
    disabled_reason = CASE WHEN $6 = 'enabled' THEN NULL WHEN $6 = 'disabled' THEN 'disabled by the partner' ELSE disabled_reason END,
    disabled_at = CASE WHEN $6 = 'enabled' THEN NULL WHEN $6 = 'disabled' THEN now() ELSE disabled_at END,
    failing_since = CASE WHEN $6 = 'enabled' THEN NULL ELSE failing_since END,
    updated_at = now()
WHERE id = $1 AND deleted_at IS NULL

-- name: wh_endpoint_delete
UPDATE webhook_endpoints SET deleted_at = now(), status = 'disabled', updated_at = now(),
                             disabled_reason = 'deleted'
WHERE id = $1 AND deleted_at IS NULL

-- name: wh_endpoint_rotate
UPDATE webhook_endpoints
SET old_secret = CASE WHEN $3::int > 0 THEN secret END,
    old_secret_until = CASE WHEN $3::int > 0 THEN now() + make_interval(secs => $3::int) END,
    secret = $2, updated_at = now()
WHERE id = $1 AND deleted_at IS NULL
RETURNING bx_utc_rfc3339(old_secret_until)

-- name: wh_deliveries_list
SELECT id, jsonb_build_object('endpoint_id', endpoint_id, 'message_id', message_id,
           'event_type', message_type, 'status', status, 'attempts', attempts,
           'next_attempt_at', CASE WHEN status = 'pending' THEN bx_utc_rfc3339(next_attempt_at) END,
           'last_error', last_error, 'replay_of', replay_of,
           'created_at', bx_utc_rfc3339(created_at),
           'completed_at', bx_utc_rfc3339(completed_at))::text,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
FROM deliveries
WHERE endpoint_id = $1 AND ($2::text IS NULL OR status = $2)
  AND ($3::text IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
ORDER BY created_at DESC, id DESC LIMIT $5::int

-- name: wh_delivery_get
SELECT d.org_id, jsonb_build_object('endpoint_id', d.endpoint_id, 'channel', d.channel,
           'message_id', d.message_id, 'event_type', d.message_type, 'status', d.status,
           'attempts', d.attempts,
           'next_attempt_at', CASE WHEN d.status = 'pending' THEN bx_utc_rfc3339(d.next_attempt_at) END,
           'last_error', d.last_error, 'replay_of', d.replay_of, 'payload', d.payload,
           'created_at', bx_utc_rfc3339(d.created_at), 'completed_at', bx_utc_rfc3339(d.completed_at),
           'attempt_log', COALESCE((
               SELECT jsonb_agg(jsonb_build_object('attempt', a.attempt,
                          'started_at', bx_utc_rfc3339(a.started_at), 'provider', a.provider,
                          'outcome', a.outcome, 'http_status', a.http_status,
                          'latency_ms', a.latency_ms, 'response', a.response, 'error', a.error)
                      ORDER BY a.id)
               FROM (SELECT * FROM delivery_attempts WHERE delivery_id = d.id ORDER BY id DESC LIMIT 50) a),
               '[]'::jsonb))::text,
       COALESCE(d.user_id::text, '')
FROM deliveries d WHERE d.id = $1

-- name: wh_replay_one
INSERT INTO deliveries (id, message_id, pool, channel, message_type, category, urgent, user_id,
                        org_id, endpoint_id, subscription_id, request_id, recipient, locale,
                        payload, replay_of)
SELECT $2, message_id, pool, channel, message_type, category, urgent, user_id, org_id,
       endpoint_id, subscription_id, request_id, recipient, locale, payload, id
FROM deliveries WHERE id = $1 AND status <> 'pending'
RETURNING pool

-- name: wh_replay_since
INSERT INTO deliveries (id, message_id, pool, channel, message_type, category, urgent, user_id,
                        org_id, endpoint_id, subscription_id, request_id, recipient, locale,
                        payload, replay_of)
SELECT gen_random_uuid(), message_id, pool, channel, message_type, category, urgent, user_id,
       org_id, endpoint_id, subscription_id, request_id, recipient, locale, payload, id
FROM (SELECT * FROM deliveries
      WHERE endpoint_id = $1 AND created_at >= $2::timestamptz AND replay_of IS NULL
        AND status <> 'pending' AND (NOT $3::boolean OR status = 'dead')
      ORDER BY created_at LIMIT 10000) d
