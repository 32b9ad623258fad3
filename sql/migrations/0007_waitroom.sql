-- 0007_waitroom: the virtual waiting room of a hot sale and the waitlist of a sold-out
-- event. PostgreSQL keeps what must survive (room configuration and its lottery seed,
-- every place in the queue, admissions, per-minute statistics, waitlist entries and their
-- offers); Redis keeps the hot queue, rebuilt from these rows when it is lost
-- (docs/waitroom.md).

-- One room per event, configured by a partner of the event's organization. The lottery
-- seed is secret until the sale starts; its SHA-256 (seed_sha256, hex) is public from the
-- moment the room exists, so nobody can pick a seed after seeing who queued.
CREATE TABLE waitroom_config (
    event_id             UUID PRIMARY KEY REFERENCES events (id),
    enabled              BOOLEAN NOT NULL DEFAULT true,
    prequeue_opens_at    TIMESTAMPTZ NOT NULL,
    sale_starts_at       TIMESTAMPTZ NOT NULL,
    admit_per_minute     INTEGER NOT NULL CHECK (admit_per_minute BETWEEN 1 AND 1000000),
    max_active_shoppers  INTEGER NOT NULL CHECK (max_active_shoppers BETWEEN 1 AND 10000000),
    token_ttl_s          INTEGER NOT NULL CHECK (token_ttl_s BETWEEN 10 AND 7200),
    inventory_margin_pct INTEGER NOT NULL DEFAULT 10 CHECK (inventory_margin_pct BETWEEN 0 AND 100),
    offer_ttl_s          INTEGER NOT NULL DEFAULT 600 CHECK (offer_ttl_s BETWEEN 5 AND 86400),
    seed                 CHAR(64) NOT NULL CHECK (seed ~ '^[0-9a-f]{64}$'),
    seed_sha256          CHAR(64) NOT NULL CHECK (seed_sha256 ~ '^[0-9a-f]{64}$'),
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT waitroom_prequeue_first CHECK (prequeue_opens_at <= sale_starts_at)
);
CREATE INDEX waitroom_config_enabled ON waitroom_config (event_id) WHERE enabled;

-- A place in the queue. seq orders later arrivals (FIFO); prequeue entries are ordered by
-- the lottery instead: lottery is the first 48 bits of HMAC-SHA256 keyed by the seed over
-- the entry id (kept for every entry, used only for prequeue ones), ties by id. A user has at
-- most one live place per event (queued or admitted); after it is spent, expired or left
-- a new join makes a new place at the back.
CREATE TABLE waitroom_entries (
    id                   UUID PRIMARY KEY,
    event_id             UUID NOT NULL REFERENCES events (id),
    user_id              UUID NOT NULL REFERENCES users (id),
    seq                  BIGINT GENERATED ALWAYS AS IDENTITY,
    prequeue             BOOLEAN NOT NULL,
    lottery              BIGINT NOT NULL CHECK (lottery BETWEEN 0 AND 281474976710655),
    state                VARCHAR(16) NOT NULL DEFAULT 'queued'
                         CHECK (state IN ('queued', 'admitted', 'spent', 'expired', 'left')),
    joined_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    admitted_at          TIMESTAMPTZ,
    admission_jti        UUID,
    admission_expires_at TIMESTAMPTZ,
    used_at              TIMESTAMPTZ,
    finished_at          TIMESTAMPTZ,
    CHECK (state = 'queued' OR state = 'left'
           OR (admission_jti IS NOT NULL AND admission_expires_at IS NOT NULL))
);
CREATE UNIQUE INDEX waitroom_entries_live ON waitroom_entries (event_id, user_id)
    WHERE state IN ('queued', 'admitted');
CREATE INDEX waitroom_entries_queue ON waitroom_entries (event_id, seq) WHERE state = 'queued';
CREATE INDEX waitroom_entries_admitted ON waitroom_entries (event_id, admission_expires_at)
    WHERE state = 'admitted';
CREATE INDEX waitroom_entries_lottery ON waitroom_entries (event_id, lottery, id) WHERE prequeue;
CREATE UNIQUE INDEX waitroom_entries_jti ON waitroom_entries (admission_jti)
    WHERE admission_jti IS NOT NULL;

-- Per event and minute: what the gatekeeper did, for partners' reports (live numbers come
-- from Redis). abandoned counts admissions that expired without ever reaching the hold
-- path, expired_used those that expired after using it without completing a booking.
CREATE TABLE waitroom_stats (
    event_id        UUID NOT NULL REFERENCES events (id),
    minute          TIMESTAMPTZ NOT NULL,
    admitted        INTEGER NOT NULL DEFAULT 0,
    abandoned       INTEGER NOT NULL DEFAULT 0,
    expired_used    INTEGER NOT NULL DEFAULT 0,
    queue_length    INTEGER NOT NULL DEFAULT 0,
    active_shoppers INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, minute)
);

-- The waitlist of a sold-out event (or of one tier of it). position is the order offers
-- follow. An offer is a hold (holds, 0006) made for the person (offer_hold_id) that lapses
-- at offer_expires_at, when the next person is offered what it held; lapse_queued_at keeps
-- the gatekeeper tick from queueing one lapse twice. accepted: the hold was converted.
CREATE TABLE waitlist_entries (
    id               UUID PRIMARY KEY,
    event_id         UUID NOT NULL REFERENCES events (id),
    tier_id          UUID REFERENCES ticket_tiers (id) ON DELETE CASCADE,
    user_id          UUID NOT NULL REFERENCES users (id),
    quantity         INTEGER NOT NULL DEFAULT 1 CHECK (quantity BETWEEN 1 AND 10),
    position         BIGINT GENERATED ALWAYS AS IDENTITY,
    state            VARCHAR(16) NOT NULL DEFAULT 'waiting'
                     CHECK (state IN ('waiting', 'offered', 'accepted', 'lapsed', 'cancelled')),
    offer_hold_id    UUID,
    offered_quantity INTEGER,
    offered_at       TIMESTAMPTZ,
    offer_expires_at TIMESTAMPTZ,
    lapse_queued_at  TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (state <> 'offered'
           OR (offer_hold_id IS NOT NULL AND offer_expires_at IS NOT NULL))
);
CREATE UNIQUE INDEX waitlist_entries_live ON waitlist_entries (event_id, user_id)
    WHERE state IN ('waiting', 'offered');
CREATE INDEX waitlist_entries_queue ON waitlist_entries (event_id, position)
    WHERE state = 'waiting';
CREATE INDEX waitlist_entries_offers ON waitlist_entries (offer_expires_at)
    WHERE state = 'offered';
CREATE INDEX waitlist_entries_hold ON waitlist_entries (offer_hold_id)
    WHERE offer_hold_id IS NOT NULL;
