-- 0001_foundation: accounts, partner organizations, sessions, durable pipeline requests,
-- idempotency records, the outbox and the audit log.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE organizations (
    id          UUID PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    email         VARCHAR(254) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    first_name    VARCHAR(100),
    last_name     VARCHAR(100),
    phone_number  VARCHAR(20),
    locale        VARCHAR(16) NOT NULL DEFAULT 'en',
    role          VARCHAR(16) NOT NULL DEFAULT 'customer'
                  CHECK (role IN ('customer', 'partner', 'admin', 'scanner')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Emails compare case-insensitively: one account per mailbox.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE organization_members (
    org_id     UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       VARCHAR(16) NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX organization_members_user ON organization_members (user_id);

-- A session is one login: the family of its rotating refresh tokens.
CREATE TABLE sessions (
    id             UUID PRIMARY KEY,
    user_id        UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    revoked_reason VARCHAR(32) CHECK (revoked_reason IN ('logout', 'reuse', 'admin', 'expired'))
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens are stored as SHA-256 hashes only.
CREATE TABLE refresh_tokens (
    token_hash  CHAR(64) PRIMARY KEY,
    session_id  UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Every pipeline request, recorded before its id is given to the client.
CREATE TABLE requests (
    id           UUID PRIMARY KEY,
    user_id      UUID REFERENCES users (id) ON DELETE SET NULL,
    service      VARCHAR(32) NOT NULL,
    route_key    VARCHAR(64),
    payload      JSONB NOT NULL,
    status       VARCHAR(16) NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    http_status  INTEGER,
    result       JSONB,
    attempts     INTEGER NOT NULL DEFAULT 0,
    trace_id     CHAR(32),
    callback_url TEXT,
    lease_until  TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at TIMESTAMPTZ,
    CHECK ((status IN ('succeeded', 'failed')) = (completed_at IS NOT NULL))
);
-- The scheduler scans unfinished requests whose lease ran out.
CREATE INDEX requests_unfinished ON requests (lease_until) WHERE status IN ('queued', 'running');
CREATE INDEX requests_user ON requests (user_id, created_at);

-- Idempotency-Key records: the first response to a key is kept and replayed.
CREATE TABLE idempotency_keys (
    scope        VARCHAR(64) NOT NULL,
    key          VARCHAR(255) NOT NULL,
    method       VARCHAR(8) NOT NULL,
    path         VARCHAR(512) NOT NULL,
    body_hash    CHAR(64) NOT NULL,
    state        VARCHAR(16) NOT NULL DEFAULT 'in_flight' CHECK (state IN ('in_flight', 'done')),
    http_status  INTEGER,
    content_type VARCHAR(100),
    location     VARCHAR(512),
    body         TEXT,
    request_id   UUID,
    locked_until TIMESTAMPTZ NOT NULL DEFAULT now() + interval '60 seconds',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL DEFAULT now() + interval '24 hours',
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- Follow-up jobs written in the transaction that caused them, relayed by the scheduler.
CREATE TABLE outbox (
    id          BIGSERIAL PRIMARY KEY,
    service     VARCHAR(32) NOT NULL,
    topic       VARCHAR(64) NOT NULL,
    route_key   VARCHAR(64),
    payload     JSONB NOT NULL,
    request_id  UUID,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    relayed_at  TIMESTAMPTZ
);
CREATE INDEX outbox_pending ON outbox (id) WHERE relayed_at IS NULL;

-- Who did what to which object, for audit.
CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor_id    UUID,
    action      VARCHAR(64) NOT NULL,
    object_type VARCHAR(32),
    object_id   VARCHAR(64),
    ip          VARCHAR(64),
    detail      JSONB
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
