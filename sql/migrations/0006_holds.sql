-- 0006_holds: seat holds and the per-event inventory state the hold path needs: hold
-- settings a partner configures (lifetime, per-user limit, orphan-seat rule), an inventory
-- version that every change of an event's seats, GA capacities or tiers bumps (cheap ETags,
-- and the hold worker's test that its in-memory view is still exact), and the holds
-- themselves. The database stays the arbiter: event_seats.state and event_ga's CHECK decide,
-- whatever any worker believes (docs/holds.md).

-- One row per event with inventory. version counts committed transactions that changed the
-- event's inventory (bumped at most once per transaction: bumped_xact remembers which one
-- bumped it last). Every transaction that changes an event's inventory therefore also
-- locks this row: the hold worker takes it first (FOR UPDATE), so writers of one event
-- are serialized on it and a batch of holds sees a stable inventory.
CREATE TABLE event_inventory (
    event_id     UUID PRIMARY KEY REFERENCES events (id),
    version      BIGINT NOT NULL DEFAULT 1,
    bumped_xact  xid8,
    hold_ttl_s   INTEGER NOT NULL DEFAULT 600 CHECK (hold_ttl_s BETWEEN 5 AND 7200),
    max_per_user INTEGER NOT NULL DEFAULT 10 CHECK (max_per_user BETWEEN 1 AND 1000),
    orphan_rule  BOOLEAN NOT NULL DEFAULT false,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO event_inventory (event_id)
SELECT id FROM events WHERE status <> 'draft'
ON CONFLICT DO NOTHING;

-- Bumps the version of every event named in the statement's changed rows (transition
-- table bx_changed), once per transaction.
CREATE FUNCTION bx_inventory_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_inventory AS i (event_id, bumped_xact)
    SELECT DISTINCT c.event_id, pg_current_xact_id() FROM bx_changed c
    ON CONFLICT (event_id) DO UPDATE
        SET version = i.version + 1, bumped_xact = excluded.bumped_xact, updated_at = now()
        WHERE i.bumped_xact IS DISTINCT FROM excluded.bumped_xact;
    RETURN NULL;
END
$$;

CREATE TRIGGER event_seats_touch_ins AFTER INSERT ON event_seats
    REFERENCING NEW TABLE AS bx_changed FOR EACH STATEMENT EXECUTE FUNCTION bx_inventory_touch();
CREATE TRIGGER event_seats_touch_upd AFTER UPDATE ON event_seats
    REFERENCING NEW TABLE AS bx_changed FOR EACH STATEMENT EXECUTE FUNCTION bx_inventory_touch();
CREATE TRIGGER event_ga_touch_ins AFTER INSERT ON event_ga
    REFERENCING NEW TABLE AS bx_changed FOR EACH STATEMENT EXECUTE FUNCTION bx_inventory_touch();
CREATE TRIGGER event_ga_touch_upd AFTER UPDATE ON event_ga
    REFERENCING NEW TABLE AS bx_changed FOR EACH STATEMENT EXECUTE FUNCTION bx_inventory_touch();
CREATE TRIGGER ticket_tiers_touch_upd AFTER UPDATE ON ticket_tiers
    REFERENCING NEW TABLE AS bx_changed FOR EACH STATEMENT EXECUTE FUNCTION bx_inventory_touch();

-- A hold: seats (kind seats or best_available: their event_seats rows point here through
-- hold_id) or a quantity of one GA tier (kind ga), for one user, until expires_at. The id
-- is the id of the pipeline request that made it, so a replayed job can never make a
-- second hold. The price summary is fixed when the hold is made.
CREATE TABLE holds (
    id               UUID PRIMARY KEY,
    event_id         UUID NOT NULL REFERENCES events (id),
    user_id          UUID NOT NULL REFERENCES users (id),
    kind             VARCHAR(16) NOT NULL CHECK (kind IN ('seats', 'ga', 'best_available')),
    state            VARCHAR(16) NOT NULL DEFAULT 'active'
                     CHECK (state IN ('active', 'released', 'expired', 'converted')),
    ga_tier_id       UUID REFERENCES ticket_tiers (id),
    quantity         INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    seats            JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(seats) = 'array'),
    currency         CHAR(3) NOT NULL,
    total_minor      BIGINT NOT NULL CHECK (total_minor >= 0),
    lines            JSONB NOT NULL CHECK (jsonb_typeof(lines) = 'array'),
    expires_at       TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    ended_at         TIMESTAMPTZ,
    expiry_queued_at TIMESTAMPTZ,
    CHECK ((kind = 'ga') = (ga_tier_id IS NOT NULL)),
    CHECK ((state = 'active') = (ended_at IS NULL))
);
-- The expiry sweep reads the active holds that are due, oldest first.
CREATE INDEX holds_due ON holds (expires_at) WHERE state = 'active';
-- The per-user limit counts a user's active and converted holds of an event.
CREATE INDEX holds_user ON holds (event_id, user_id) WHERE state IN ('active', 'converted');

-- Tickets a user has or is holding for an event: the per-user limit counts these. Until
-- bookings exist a converted hold stands for what was bought; the booking pipeline
-- (issue 5) replaces this function to count its bookings instead of converted holds.
CREATE FUNCTION bx_user_event_tickets(p_event UUID, p_user UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(quantity), 0) FROM holds
    WHERE event_id = p_event AND user_id = p_user AND state IN ('active', 'converted')
$$;

-- The hold document every answer about a hold carries (worker results, GET, DELETE).
CREATE FUNCTION bx_hold_doc(h holds) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('data', jsonb_build_object(
        'id', h.id, 'type', 'hold',
        'attributes', jsonb_build_object(
            'event_id', h.event_id, 'user_id', h.user_id, 'kind', h.kind, 'state', h.state,
            'tier_id', h.ga_tier_id, 'quantity', h.quantity, 'seats', h.seats,
            'price', jsonb_build_object('currency', h.currency, 'total_minor', h.total_minor,
                                        'lines', h.lines),
            'expires_at', bx_utc_rfc3339(h.expires_at),
            'created_at', bx_utc_rfc3339(h.created_at),
            'ended_at', bx_utc_rfc3339(h.ended_at)),
        'links', jsonb_build_object(
            'self', '/api/v1/events/' || h.event_id || '/inventory/hold/' || h.id)))
$$;
