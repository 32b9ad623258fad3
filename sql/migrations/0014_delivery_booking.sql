-- 0014_delivery_booking: what the delivery engine sends from the booking data
-- (docs/delivery.md "What is sent"): the record of which 24 h reminders, hold-expiry
-- warnings, inventory marks and queue openings have been sent (each exactly once: the
-- primary key is the guard, so any number of sweeping pool processes may race), and the
-- trigger that turns a partner's change or cancellation of an event into a fan-out job to
-- every ticket holder, written in the very transaction that changed the event.

-- One row per booking whose event.reminder was written to the outbox.
CREATE TABLE dlv_reminders_sent (
    booking_id UUID PRIMARY KEY REFERENCES bookings (id),
    sent_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per hold whose hold.expiring was written to the outbox.
CREATE TABLE dlv_hold_notices (
    hold_id UUID PRIMARY KEY REFERENCES holds (id),
    sent_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Partner events about an event's inventory and waiting room, once per event and mark:
-- 'inventory.low' (less than the configured share left), 'event.sold_out' (nothing left),
-- 'queue.opened' (its waiting room opened).
CREATE TABLE dlv_event_marks (
    event_id UUID NOT NULL REFERENCES events (id),
    mark     VARCHAR(32) NOT NULL CHECK (mark IN ('inventory.low', 'event.sold_out', 'queue.opened')),
    sent_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, mark)
);

-- The inventory version each event was last checked at: the inventory sweep only looks
-- at events whose inventory changed since (event_inventory.version moves on every change).
CREATE TABLE dlv_inventory_checked (
    event_id UUID PRIMARY KEY REFERENCES events (id),
    version  BIGINT NOT NULL
);

-- The holder fan-out pages through holders by user id.
CREATE INDEX bookings_event_user ON bookings (event_id, user_id);

-- "starts 2026-12-01 20:00 instead of 19:00" / "now at Hall 2, Arena instead of Hall 1,
-- Arena": what a partner's change did to an event, in the venue's local time.
CREATE FUNCTION bx_dlv_change_text(o events, n events) RETURNS TEXT
LANGUAGE plpgsql STABLE AS $$
DECLARE
    tz TEXT;
    parts TEXT[] := '{}';
    ol TIMESTAMP;
    nl TIMESTAMP;
    old_place TEXT;
    new_place TEXT;
BEGIN
    SELECT time_zone INTO tz FROM venues WHERE id = n.venue_id;
    tz := coalesce(tz, 'UTC');
    IF o.starts_at IS DISTINCT FROM n.starts_at THEN
        ol := o.starts_at AT TIME ZONE tz;
        nl := n.starts_at AT TIME ZONE tz;
        parts := parts || ('starts ' || to_char(nl, 'YYYY-MM-DD HH24:MI') || ' instead of '
                           || CASE WHEN ol::date = nl::date THEN to_char(ol, 'HH24:MI')
                                   ELSE to_char(ol, 'YYYY-MM-DD HH24:MI') END
                           || ' (' || tz || ')');
    END IF;
    IF o.hall_id IS DISTINCT FROM n.hall_id OR o.venue_id IS DISTINCT FROM n.venue_id THEN
        SELECT h.name || ', ' || v.name INTO old_place
        FROM halls h JOIN venues v ON v.id = o.venue_id WHERE h.id = o.hall_id;
        SELECT h.name || ', ' || v.name INTO new_place
        FROM halls h JOIN venues v ON v.id = n.venue_id WHERE h.id = n.hall_id;
        parts := parts || ('now at ' || coalesce(new_place, '?') || ' instead of '
                           || coalesce(old_place, '?'));
    END IF;
    IF o.ends_at IS DISTINCT FROM n.ends_at AND o.starts_at IS NOT DISTINCT FROM n.starts_at THEN
        parts := parts || ('ends ' || to_char(n.ends_at AT TIME ZONE tz, 'YYYY-MM-DD HH24:MI')
                           || ' instead of '
                           || to_char(o.ends_at AT TIME ZONE tz, 'YYYY-MM-DD HH24:MI'));
    END IF;
    RETURN array_to_string(parts, '; ');
END $$;

-- A published event whose time or place changed, or that was cancelled: one outbox job
-- for the notify pool (topic 'event.holders') that tells every ticket holder, 1,000 users
-- a job (dlv_holders.c pages on with a keyed cursor). as_of is this transaction's start:
-- a cancellation also reaches bookings cancelled after it (the refund job of the event's
-- cancellation runs later), never ones cancelled before.
CREATE FUNCTION bx_dlv_event_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind TEXT;
    change TEXT := '';
BEGIN
    IF NEW.status = 'cancelled' AND OLD.status <> 'cancelled' THEN
        kind := 'event.cancelled';
    ELSIF NEW.status IN ('published', 'on_sale') AND OLD.status IN ('published', 'on_sale')
          AND (OLD.starts_at IS DISTINCT FROM NEW.starts_at OR OLD.ends_at IS DISTINCT FROM NEW.ends_at
               OR OLD.hall_id IS DISTINCT FROM NEW.hall_id OR OLD.venue_id IS DISTINCT FROM NEW.venue_id) THEN
        kind := 'event.changed';
        change := bx_dlv_change_text(OLD, NEW);
    ELSE
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bookings WHERE event_id = NEW.id AND confirmed_at IS NOT NULL) THEN
        RETURN NULL; /* nobody holds a ticket */
    END IF;
    INSERT INTO outbox (service, topic, route_key, payload, request_id)
    VALUES ('notify', 'event.holders', NEW.id::text,
            jsonb_build_object('type', kind, 'event_id', NEW.id, 'change', change,
                               'as_of', bx_utc_rfc3339(now()), 'as_of_us',
                               (extract(epoch FROM now()) * 1000000)::bigint::text,
                               'after', '', 'batch', 1),
            gen_random_uuid());
    RETURN NULL;
END $$;
CREATE TRIGGER events_dlv_changed AFTER UPDATE ON events FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.starts_at IS DISTINCT FROM NEW.starts_at
          OR OLD.ends_at IS DISTINCT FROM NEW.ends_at OR OLD.hall_id IS DISTINCT FROM NEW.hall_id
          OR OLD.venue_id IS DISTINCT FROM NEW.venue_id)
    EXECUTE FUNCTION bx_dlv_event_changed();
