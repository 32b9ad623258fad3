-- 0008_delivery: the delivery engine (docs/delivery.md): notification settings, push
-- subscriptions, partner webhook endpoints, the platform's signing keys, deliveries with
-- their attempt log, circuit breakers, per-key ordering, and the trigger that turns a
-- finished request with a Callback-Url into a signed result callback.

-- Keys the platform signs or encrypts with, one per purpose, created by whichever process
-- needs one first (INSERT ... ON CONFLICT DO NOTHING, then read back): the Ed25519 key of
-- result callbacks (Standard Webhooks v1a), the VAPID P-256 key of Web Push, and the HMAC
-- key of one-click unsubscribe links. Kept next to the data they protect, so every host
-- signs with the same key.
CREATE TABLE signing_keys (
    purpose     VARCHAR(16) PRIMARY KEY CHECK (purpose IN ('callback', 'vapid', 'unsubscribe')),
    kid         VARCHAR(32) NOT NULL,
    private_key TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Per-user notification settings. prefs holds only what the user changed, as
-- {"email": {"marketing": true}, ...}; everything else is the default of
-- common/bx_dlv_types.c. Quiet hours are local times in time_zone; both or neither.
CREATE TABLE notification_settings (
    user_id     UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    time_zone   VARCHAR(64) NOT NULL DEFAULT 'UTC' REFERENCES iana_time_zones (name),
    quiet_start TIME,
    quiet_end   TIME,
    prefs       JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(prefs) = 'object'),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- When a non-urgent message may go out: at, or the end of the quiet window at contains.
-- A window may span midnight (22:00-07:00).
CREATE FUNCTION bx_quiet_until(tz TEXT, qs TIME, qe TIME, at TIMESTAMPTZ) RETURNS TIMESTAMPTZ
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN qs IS NULL OR qe IS NULL OR qs = qe THEN at
        WHEN qs < qe AND x.lt >= qs AND x.lt < qe THEN (x.l::date + qe) AT TIME ZONE tz
        WHEN qs > qe AND x.lt >= qs THEN ((x.l::date + 1) + qe) AT TIME ZONE tz
        WHEN qs > qe AND x.lt < qe THEN (x.l::date + qe) AT TIME ZONE tz
        ELSE at END
    FROM (SELECT at AT TIME ZONE tz AS l, (at AT TIME ZONE tz)::time AS lt) x
$$;

-- Browser push subscriptions (the PushSubscription JSON of the Push API). An endpoint the
-- push service answered 404/410 for is expired, never used again.
CREATE TABLE push_subscriptions (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     VARCHAR(128) NOT NULL,
    auth       VARCHAR(64) NOT NULL,
    user_agent VARCHAR(300),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expired_at TIMESTAMPTZ
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id) WHERE expired_at IS NULL;

-- Partner webhook endpoints. secret signs every message ("whsec_" + base64); after a
-- rotation old_secret signs too until old_secret_until (Standard Webhooks allows several
-- signatures). failing_since is the first failure since the last success: five days of
-- it (webhook_disable_after_s) disables the endpoint, as does a 410.
CREATE TABLE webhook_endpoints (
    id               UUID PRIMARY KEY,
    org_id           UUID NOT NULL REFERENCES organizations (id),
    url              TEXT NOT NULL,
    description      VARCHAR(500),
    event_types      TEXT[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 32),
    status           VARCHAR(16) NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
    disabled_reason  VARCHAR(200),
    disabled_at      TIMESTAMPTZ,
    secret           VARCHAR(100) NOT NULL,
    old_secret       VARCHAR(100),
    old_secret_until TIMESTAMPTZ,
    failing_since    TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at       TIMESTAMPTZ
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at, id) WHERE deleted_at IS NULL;

-- Ordering keys ("booking:<id>"): last_seq is handed out in the transaction that writes
-- the message (so seq order is commit order); fanned_upto says every message up to it
-- has its deliveries, fanned_ahead holds the ones fanned out beyond a gap.
CREATE TABLE delivery_order_keys (
    key          VARCHAR(128) PRIMARY KEY,
    last_seq     BIGINT NOT NULL DEFAULT 0,
    fanned_upto  BIGINT NOT NULL DEFAULT 0,
    fanned_ahead BIGINT[] NOT NULL DEFAULT '{}'
);

-- Marks message seq of key as fanned out and advances fanned_upto over every contiguous
-- message. The row lock serializes fan-outs of one key.
CREATE FUNCTION bx_order_fanned(k TEXT, s BIGINT) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    upto  BIGINT;
    ahead BIGINT[];
BEGIN
    SELECT fanned_upto, fanned_ahead || s INTO upto, ahead
    FROM delivery_order_keys WHERE key = k FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    WHILE upto + 1 = ANY (ahead) LOOP
        upto := upto + 1;
    END LOOP;
    UPDATE delivery_order_keys
    SET fanned_upto = upto, fanned_ahead = ARRAY(SELECT DISTINCT x FROM unnest(ahead) x WHERE x > upto)
    WHERE key = k;
    RETURN upto;
END $$;

-- One message to one recipient on one channel. pool is the worker pool that sends it.
-- next_attempt_at doubles as the claim lease: a sender moves it forward when it claims
-- the row, so a sender that dies mid-send leaves it due again after delivery_lease_s.
-- claim_token makes the result of a claim that lost its lease a no-op. message_id is
-- what receivers dedupe by (webhook-id, Message-ID); a replay keeps it.
CREATE TABLE deliveries (
    id              UUID PRIMARY KEY,
    message_id      VARCHAR(64) NOT NULL,
    pool            VARCHAR(8) NOT NULL CHECK (pool IN ('notify', 'webhook')),
    channel         VARCHAR(8) NOT NULL CHECK (channel IN ('email', 'sms', 'push', 'webhook', 'callback')),
    message_type    VARCHAR(64) NOT NULL,
    category        VARCHAR(16) NOT NULL DEFAULT 'transactional'
                    CHECK (category IN ('transactional', 'reminders', 'marketing', 'partner_updates')),
    urgent          BOOLEAN NOT NULL DEFAULT false,
    user_id         UUID REFERENCES users (id) ON DELETE SET NULL,
    org_id          UUID REFERENCES organizations (id),
    endpoint_id     UUID REFERENCES webhook_endpoints (id),
    subscription_id UUID REFERENCES push_subscriptions (id) ON DELETE SET NULL,
    request_id      UUID,
    recipient       TEXT NOT NULL,
    locale          VARCHAR(16) NOT NULL DEFAULT 'en',
    payload         JSONB NOT NULL,
    order_key       VARCHAR(128),
    order_lane      VARCHAR(256),
    seq             BIGINT,
    status          VARCHAR(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    claim_token     UUID,
    provider        VARCHAR(32),
    last_error      VARCHAR(300),
    replay_of       UUID REFERENCES deliveries (id),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at    TIMESTAMPTZ,
    CHECK ((status = 'pending') = (completed_at IS NULL)),
    CHECK ((order_key IS NULL) = (seq IS NULL))
);
CREATE INDEX deliveries_due ON deliveries (pool, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_lane ON deliveries (order_lane, seq) WHERE status = 'pending' AND order_lane IS NOT NULL;
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, created_at, id) WHERE endpoint_id IS NOT NULL;
CREATE INDEX deliveries_user ON deliveries (user_id, created_at) WHERE user_id IS NOT NULL;
-- One result callback per request (replays excepted).
CREATE UNIQUE INDEX deliveries_callback ON deliveries (request_id) WHERE channel = 'callback' AND replay_of IS NULL;

-- Every attempt: when, through which provider, how it ended, how long it took, and at
-- most 1 KiB of what the other side answered. Request headers (credentials, signatures)
-- are never stored.
CREATE TABLE delivery_attempts (
    id          BIGSERIAL PRIMARY KEY,
    delivery_id UUID NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    provider    VARCHAR(32),
    outcome     VARCHAR(16) NOT NULL
                CHECK (outcome IN ('succeeded', 'failed', 'timeout', 'gone', 'rejected', 'deferred')),
    http_status INTEGER,
    latency_ms  INTEGER NOT NULL,
    response    VARCHAR(1024),
    error       VARCHAR(300)
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

-- Circuit breakers, one per endpoint ("endpoint:<id>"), provider ("sms:twilio",
-- "smtp", "push:<origin>") or callback host. Open after breaker_threshold consecutive
-- failures for breaker_cooldown_ms, doubling per re-opening (capped); once the cool-down
-- ends one sender at a time holds the half-open trial (trial_until).
CREATE TABLE delivery_breakers (
    key          VARCHAR(200) PRIMARY KEY,
    state        VARCHAR(8) NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open')),
    failures     INTEGER NOT NULL DEFAULT 0,
    openings     INTEGER NOT NULL DEFAULT 0,
    open_until   TIMESTAMPTZ,
    trial_until  TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Records n failures on breaker k. Returns the time it is open until when this call
-- opened (or re-opened) it, else NULL.
CREATE FUNCTION bx_breaker_fail(k TEXT, n INT, threshold INT, cooldown_ms BIGINT, max_ms BIGINT)
RETURNS TIMESTAMPTZ LANGUAGE plpgsql AS $$
DECLARE
    b delivery_breakers%ROWTYPE;
    wait_ms BIGINT;
BEGIN
    INSERT INTO delivery_breakers (key) VALUES (k) ON CONFLICT (key) DO NOTHING;
    SELECT * INTO b FROM delivery_breakers WHERE key = k FOR UPDATE;
    b.failures := b.failures + n;
    IF (b.state = 'closed' AND b.failures >= threshold)
       OR (b.state = 'open' AND b.open_until <= now()) THEN
        wait_ms := least(max_ms, cooldown_ms * (2 ^ least(b.openings, 20))::bigint);
        UPDATE delivery_breakers
        SET state = 'open', failures = b.failures, openings = b.openings + 1,
            open_until = now() + wait_ms * interval '1 millisecond', trial_until = NULL,
            updated_at = now()
        WHERE key = k RETURNING open_until INTO b.open_until;
        RETURN b.open_until;
    END IF;
    UPDATE delivery_breakers SET failures = b.failures, updated_at = now() WHERE key = k;
    RETURN NULL;
END $$;

-- A webhook endpoint's outcome: success clears failing_since; a failure starts it, and
-- once it is older than disable_after_s the endpoint is disabled. Returns true when this
-- call disabled it.
CREATE FUNCTION bx_endpoint_outcome(ep UUID, ok BOOLEAN, disable_after_s INT) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    since TIMESTAMPTZ;
BEGIN
    IF ok THEN
        UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ep AND failing_since IS NOT NULL;
        RETURN false;
    END IF;
    UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, now())
    WHERE id = ep AND status = 'enabled' RETURNING failing_since INTO since;
    IF since IS NULL OR since > now() - make_interval(secs => disable_after_s) THEN
        RETURN false;
    END IF;
    UPDATE webhook_endpoints
    SET status = 'disabled', disabled_at = now(), updated_at = now(),
        disabled_reason = 'failing for ' || disable_after_s || ' seconds'
    WHERE id = ep;
    RETURN true;
END $$;

-- A request with a Callback-Url that reaches its final state writes its result callback
-- to the outbox in the very transaction that finished it (worker completion, or the
-- scheduler giving up), so the callback exists if and only if the result does.
CREATE FUNCTION bx_request_callback() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (service, topic, payload, parent_id, request_id)
    VALUES ('webhook', 'request.completed', jsonb_build_object('request_id', NEW.id), NEW.id,
            gen_random_uuid());
    RETURN NULL;
END $$;
CREATE TRIGGER requests_callback AFTER UPDATE OF status ON requests FOR EACH ROW
    WHEN (NEW.callback_url IS NOT NULL AND NEW.status IN ('succeeded', 'failed')
          AND OLD.status NOT IN ('succeeded', 'failed'))
    EXECUTE FUNCTION bx_request_callback();
