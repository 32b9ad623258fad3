-- 0009_booking: the booking pipeline checkout -> payment -> ticket (docs/booking.md):
-- per-event booking settings (fees, payment window, cancellation policy), tax rules as
-- data, promo codes and their redemptions, bookings, payments with their gateway
-- attempts and refunds, inbound gateway events (deduplicated), tickets and check-ins.
-- Money is always integer minor units of the event's ISO 4217 currency.

-- What a partner sets per event for checkout and cancellation. A missing row means the
-- defaults below. Fees: service_fee_bp of the discounted ticket price (basis points,
-- 1/100 of a percent) plus service_fee_minor per ticket. Cancellation: allowed until
-- cancel_deadline_h hours before the event starts; the fee kept is cancel_fee_bp of what
-- was paid for the tickets (the service fee is never refunded on a customer cancel, always
-- on an event the partner cancels).
CREATE TABLE event_booking_settings (
    event_id          UUID PRIMARY KEY REFERENCES events (id),
    service_fee_bp    INTEGER NOT NULL DEFAULT 0 CHECK (service_fee_bp BETWEEN 0 AND 5000),
    service_fee_minor BIGINT NOT NULL DEFAULT 0 CHECK (service_fee_minor >= 0),
    payment_window_s  INTEGER NOT NULL DEFAULT 900 CHECK (payment_window_s BETWEEN 60 AND 7200),
    cancellable       BOOLEAN NOT NULL DEFAULT true,
    cancel_deadline_h INTEGER NOT NULL DEFAULT 24 CHECK (cancel_deadline_h BETWEEN 0 AND 8760),
    cancel_fee_bp     INTEGER NOT NULL DEFAULT 0 CHECK (cancel_fee_bp BETWEEN 0 AND 10000),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The waiting-room admission a hold was made under (issue 4): the booking that completes
-- the hold spends it (bx_wroom_spend). NULL when the event's room was not active.
ALTER TABLE holds ADD COLUMN admission_jti VARCHAR(64), ADD COLUMN admission_exp BIGINT;

-- The tax jurisdiction of a venue below its country: a state, province or similar
-- (ISO 3166-2 subdivision code without the country, e.g. 'NY', 'MH'). NULL: country only.
ALTER TABLE venues ADD COLUMN region VARCHAR(8);

-- Tax rules as data. A rule applies to a ticket when the venue's country matches, the
-- rule's region is NULL or the venue's region, the unit price (before tax, after
-- discount) lies in [band_min_minor, band_max_minor] (NULL: unbounded) in the rule's
-- currency (NULL: any), and the event starts within [valid_from, valid_to). Several rules
-- may apply at once (e.g. state and city tax, or CGST + SGST): each is a line on the
-- booking. inclusive: the price already contains the tax (VAT style); otherwise it is
-- added on top (sales-tax style). rate_ppm: parts per million (18% = 180000, 0.375% =
-- 3750). applies_to: 'ticket' or 'fee'.
CREATE TABLE tax_rules (
    id             UUID PRIMARY KEY,
    country        CHAR(2) NOT NULL REFERENCES iso_countries (code),
    region         VARCHAR(8),
    name           VARCHAR(64) NOT NULL,
    rate_ppm       INTEGER NOT NULL CHECK (rate_ppm BETWEEN 0 AND 1000000),
    inclusive      BOOLEAN NOT NULL,
    applies_to     VARCHAR(8) NOT NULL DEFAULT 'ticket' CHECK (applies_to IN ('ticket', 'fee')),
    currency       CHAR(3) REFERENCES iso_currencies (code),
    band_min_minor BIGINT CHECK (band_min_minor >= 0),
    band_max_minor BIGINT CHECK (band_max_minor >= 0),
    valid_from     TIMESTAMPTZ NOT NULL DEFAULT '2000-01-01Z',
    valid_to       TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX tax_rules_place ON tax_rules (country, region);

-- Promo codes: per organization (event_id NULL: every event of it) or per event. code is
-- stored upper-case and unique per organization. kind percent: value is basis points of
-- the ticket subtotal; kind fixed: value is minor units of currency, off the order.
-- uses counts redemptions of bookings not cancelled before payment; the CHECK is the last
-- word on the total limit, so concurrent checkouts can never exceed it.
CREATE TABLE promo_codes (
    id             UUID PRIMARY KEY,
    org_id         UUID NOT NULL REFERENCES organizations (id),
    event_id       UUID REFERENCES events (id),
    code           VARCHAR(32) NOT NULL CHECK (code = upper(code) AND code ~ '^[A-Z0-9_-]{3,32}$'),
    kind           VARCHAR(8) NOT NULL CHECK (kind IN ('percent', 'fixed')),
    value          BIGINT NOT NULL CHECK (value > 0),
    currency       CHAR(3) REFERENCES iso_currencies (code),
    starts_at      TIMESTAMPTZ,
    ends_at        TIMESTAMPTZ,
    max_uses       INTEGER CHECK (max_uses >= 1),
    per_user_limit INTEGER CHECK (per_user_limit >= 1),
    min_quantity   INTEGER NOT NULL DEFAULT 1 CHECK (min_quantity BETWEEN 1 AND 100),
    uses           INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    active         BOOLEAN NOT NULL DEFAULT true,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (max_uses IS NULL OR uses <= max_uses),
    CHECK (kind = 'percent' AND value <= 10000 OR kind = 'fixed' AND currency IS NOT NULL),
    CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at),
    UNIQUE (org_id, code)
);

-- Bookings. The id is the id of the POST /bookings pipeline request that made it (a
-- replayed job cannot make a second booking); one booking per hold. status:
--   pending_payment -> confirmed -> cancelled
--   pending_payment -> failed (payment declined for good) | expired (window over)
-- tickets_issued_at is set by the ticket worker once every ticket exists.
CREATE TABLE bookings (
    id                UUID PRIMARY KEY,
    user_id           UUID NOT NULL REFERENCES users (id),
    event_id          UUID NOT NULL REFERENCES events (id),
    org_id            UUID NOT NULL REFERENCES organizations (id),
    hold_id           UUID NOT NULL UNIQUE REFERENCES holds (id),
    status            VARCHAR(16) NOT NULL DEFAULT 'pending_payment'
                      CHECK (status IN ('pending_payment', 'confirmed', 'failed', 'expired',
                                        'cancelled')),
    quantity          INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    currency          CHAR(3) NOT NULL REFERENCES iso_currencies (code),
    subtotal_minor    BIGINT NOT NULL CHECK (subtotal_minor >= 0),
    discount_minor    BIGINT NOT NULL DEFAULT 0 CHECK (discount_minor >= 0),
    fee_minor         BIGINT NOT NULL DEFAULT 0 CHECK (fee_minor >= 0),
    tax_minor         BIGINT NOT NULL DEFAULT 0 CHECK (tax_minor >= 0),
    total_minor       BIGINT NOT NULL CHECK (total_minor >= 0),
    lines             JSONB NOT NULL CHECK (jsonb_typeof(lines) = 'array'),
    taxes             JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(taxes) = 'array'),
    promo_id          UUID REFERENCES promo_codes (id),
    promo_code        VARCHAR(32),
    locale            VARCHAR(16) NOT NULL DEFAULT 'en',
    payment_due_at    TIMESTAMPTZ NOT NULL,
    confirmed_at      TIMESTAMPTZ,
    tickets_issued_at TIMESTAMPTZ,
    cancelled_at      TIMESTAMPTZ,
    cancel_reason     VARCHAR(200),
    failure_reason    VARCHAR(200),
    paid_minor        BIGINT NOT NULL DEFAULT 0 CHECK (paid_minor >= 0),
    refunded_minor    BIGINT NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (refunded_minor <= paid_minor),
    CHECK (discount_minor <= subtotal_minor),
    CHECK ((status = 'confirmed' OR status = 'cancelled' AND confirmed_at IS NOT NULL)
           = (confirmed_at IS NOT NULL))
);
CREATE INDEX bookings_user ON bookings (user_id, created_at DESC);
CREATE INDEX bookings_event ON bookings (event_id, status);
CREATE INDEX bookings_due ON bookings (payment_due_at) WHERE status = 'pending_payment';

-- One row per booking that redeemed a code: the per-user limit counts these, and the row
-- goes away (with promo_codes.uses decremented) when the booking fails or expires.
CREATE TABLE promo_redemptions (
    booking_id UUID PRIMARY KEY REFERENCES bookings (id),
    promo_id   UUID NOT NULL REFERENCES promo_codes (id),
    user_id    UUID NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX promo_redemptions_user ON promo_redemptions (promo_id, user_id);

-- Payments: one attempt to pay one booking through one gateway. The id is the id of the
-- pipeline request that made it, and it is the idempotency key sent to the gateway, so a
-- replayed or re-dispatched job can only ever find the same gateway object, never charge
-- twice. status:
--   processing (call made or about to be) -> requires_action (3-D Secure, UPI, net banking:
--   next_action says where the customer goes) -> succeeded | failed
--   unknown: the call's outcome was lost (timeout, crash); settled by asking the gateway.
CREATE TABLE payments (
    id              UUID PRIMARY KEY,
    booking_id      UUID NOT NULL REFERENCES bookings (id),
    user_id         UUID NOT NULL REFERENCES users (id),
    provider        VARCHAR(16) NOT NULL CHECK (provider IN ('stripe', 'razorpay')),
    method          VARCHAR(16) NOT NULL CHECK (method IN ('card', 'upi', 'netbanking', 'wallet')),
    status          VARCHAR(16) NOT NULL DEFAULT 'processing'
                    CHECK (status IN ('processing', 'requires_action', 'succeeded', 'failed',
                                      'unknown')),
    amount_minor    BIGINT NOT NULL CHECK (amount_minor >= 0),
    currency        CHAR(3) NOT NULL,
    captured_minor  BIGINT NOT NULL DEFAULT 0 CHECK (captured_minor >= 0),
    refunded_minor  BIGINT NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    provider_ref    VARCHAR(128),
    next_action     JSONB,
    failure_code    VARCHAR(64),
    failure_message VARCHAR(300),
    last_checked_at TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (refunded_minor <= captured_minor),
    CHECK (captured_minor <= amount_minor)
);
CREATE INDEX payments_booking ON payments (booking_id);
CREATE UNIQUE INDEX payments_provider_ref ON payments (provider, provider_ref);
-- At most one successful payment per booking.
CREATE UNIQUE INDEX payments_one_success ON payments (booking_id) WHERE status = 'succeeded';
CREATE INDEX payments_unsettled ON payments (updated_at)
    WHERE status IN ('processing', 'requires_action', 'unknown');

-- Refunds of a payment, each sent to the gateway with its own id as idempotency key.
CREATE TABLE refunds (
    id           UUID PRIMARY KEY,
    payment_id   UUID NOT NULL REFERENCES payments (id),
    booking_id   UUID NOT NULL REFERENCES bookings (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    status       VARCHAR(16) NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'succeeded', 'failed')),
    reason       VARCHAR(200),
    provider_ref VARCHAR(128),
    requested_by UUID REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX refunds_payment ON refunds (payment_id);

-- Inbound gateway webhooks already taken (providers deliver at least once).
CREATE TABLE gateway_events (
    provider    VARCHAR(16) NOT NULL,
    event_id    VARCHAR(128) NOT NULL,
    type        VARCHAR(64) NOT NULL,
    payload     JSONB NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

-- Tickets: one per seat or GA unit of a confirmed booking. payload is the compact signed
-- string the QR code carries (docs/tickets.md); kid names the key that signed it.
CREATE TABLE tickets (
    id         UUID PRIMARY KEY,
    booking_id UUID NOT NULL REFERENCES bookings (id),
    event_id   UUID NOT NULL REFERENCES events (id),
    user_id    UUID NOT NULL REFERENCES users (id),
    tier_id    UUID NOT NULL REFERENCES ticket_tiers (id),
    seat_id    UUID,
    label      VARCHAR(64) NOT NULL,
    price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
    serial     INTEGER NOT NULL CHECK (serial >= 1),
    status     VARCHAR(16) NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
    kid        VARCHAR(32) NOT NULL,
    payload    TEXT NOT NULL,
    issued_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ,
    UNIQUE (booking_id, serial),
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX tickets_event ON tickets (event_id);
CREATE INDEX tickets_revoked ON tickets (event_id, revoked_at) WHERE status = 'revoked';

-- Check-ins: a ticket admits once; the row says when, where and by whom.
CREATE TABLE checkins (
    ticket_id  UUID PRIMARY KEY REFERENCES tickets (id),
    event_id   UUID NOT NULL REFERENCES events (id),
    scanner_id UUID NOT NULL REFERENCES users (id),
    gate       VARCHAR(64),
    device     VARCHAR(64),
    scanned_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX checkins_event ON checkins (event_id, scanned_at);

-- The per-user ticket limit now counts bookings: tickets in active holds that are not
-- yet a booking, plus bookings pending payment or confirmed.
CREATE OR REPLACE FUNCTION bx_user_event_tickets(p_event UUID, p_user UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT sum(h.quantity) FROM holds h
                     WHERE h.event_id = p_event AND h.user_id = p_user AND h.state = 'active'
                       AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.hold_id = h.id)), 0)
         + coalesce((SELECT sum(b.quantity) FROM bookings b
                     WHERE b.event_id = p_event AND b.user_id = p_user
                       AND b.status IN ('pending_payment', 'confirmed')), 0)
$$;

-- ---- the booking state machine: every change of a booking's seats goes through these ----
-- Each locks the event's inventory row first (as the hold pool does), then the booking,
-- then the hold, so they serialize with the hold pool without deadlocks; each is a no-op
-- answering the booking's current status when the booking is not in the state it acts on.

-- Gives a booking's promo redemption back (the booking did not go through).
CREATE FUNCTION bx_booking_unredeem(p_booking UUID) RETURNS VOID
LANGUAGE sql AS $$
    WITH r AS (DELETE FROM promo_redemptions WHERE booking_id = p_booking RETURNING promo_id)
    UPDATE promo_codes p SET uses = p.uses - 1, updated_at = now() FROM r WHERE p.id = r.promo_id
$$;

-- The hold pool ended hold p_hold (released or expired): a booking still pending payment
-- on it expires. Returns that booking's id, or NULL.
CREATE FUNCTION bx_booking_hold_ended(p_hold UUID) RETURNS UUID
LANGUAGE plpgsql AS $$
DECLARE
    b UUID;
BEGIN
    UPDATE bookings SET status = 'expired', failure_reason = 'payment window over',
                        updated_at = now()
    WHERE hold_id = p_hold AND status = 'pending_payment'
    RETURNING id INTO b;
    IF b IS NOT NULL THEN
        PERFORM bx_booking_unredeem(b);
    END IF;
    RETURN b;
END
$$;

-- Returns the booking's event after locking that event's inventory row (the first lock of
-- every function below), or NULL when there is no such booking.
CREATE FUNCTION bx_booking_lock_event(p_booking UUID) RETURNS UUID
LANGUAGE plpgsql AS $$
DECLARE
    ev UUID;
BEGIN
    SELECT event_id INTO ev FROM bookings WHERE id = p_booking;
    IF ev IS NOT NULL THEN
        PERFORM 1 FROM event_inventory WHERE event_id = ev FOR UPDATE;
    END IF;
    RETURN ev;
END
$$;

-- Ends a booking pending payment without a payment: p_status 'failed' (declined for
-- good), 'expired' (window over) or 'cancelled' (the customer gave up). Its hold ends
-- (released) and the seats and GA units go back. Returns p_status when it acted, else the
-- booking's current status ('missing' when there is none).
CREATE FUNCTION bx_booking_abandon(p_booking UUID, p_status TEXT, p_reason TEXT) RETURNS TEXT
LANGUAGE plpgsql AS $$
DECLARE
    ev UUID := bx_booking_lock_event(p_booking);
    b bookings;
    h holds;
BEGIN
    IF p_status NOT IN ('failed', 'expired', 'cancelled') THEN
        RAISE EXCEPTION 'bx_booking_abandon: bad status %', p_status;
    END IF;
    SELECT * INTO b FROM bookings WHERE id = p_booking FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'missing';
    ELSIF b.status <> 'pending_payment' THEN
        RETURN b.status;
    END IF;
    SELECT * INTO h FROM holds WHERE id = b.hold_id FOR UPDATE;
    IF h.state = 'active' THEN
        UPDATE event_seats es
        SET state = CASE WHEN (SELECT status FROM events WHERE id = ev) = 'cancelled'
                         THEN 'blocked' ELSE 'available' END,
            hold_id = NULL, version = es.version + 1
        WHERE es.event_id = ev AND es.hold_id = h.id AND es.state = 'held';
        UPDATE event_ga g SET held = g.held - h.quantity, version = g.version + 1
        WHERE g.event_id = ev AND g.tier_id = h.ga_tier_id;
        UPDATE holds SET state = 'released', ended_at = now() WHERE id = h.id;
    END IF;
    UPDATE bookings SET status = p_status,
                        failure_reason = CASE WHEN p_status = 'cancelled' THEN failure_reason
                                              ELSE left(p_reason, 200) END,
                        cancel_reason = CASE WHEN p_status = 'cancelled' THEN left(p_reason, 200)
                                             ELSE cancel_reason END,
                        cancelled_at = CASE WHEN p_status = 'cancelled' THEN now() END,
                        updated_at = now()
    WHERE id = p_booking;
    PERFORM bx_booking_unredeem(p_booking);
    RETURN p_status;
END
$$;

-- Confirms a booking pending payment, paid p_paid minor units: its held seats and GA units
-- become sold, its hold converted, the booking confirmed, all in the caller's
-- transaction. Returns 'confirmed'; 'already' when it was confirmed before; 'hold_gone'
-- when its hold ended meanwhile (nothing changed: the caller refunds); else the booking's
-- status ('expired', 'failed', 'cancelled': the caller refunds) or 'missing'.
CREATE FUNCTION bx_booking_confirm(p_booking UUID, p_paid BIGINT) RETURNS TEXT
LANGUAGE plpgsql AS $$
DECLARE
    ev UUID := bx_booking_lock_event(p_booking);
    b bookings;
    h holds;
    n INTEGER;
BEGIN
    SELECT * INTO b FROM bookings WHERE id = p_booking FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'missing';
    ELSIF b.status = 'confirmed' THEN
        RETURN 'already';
    ELSIF b.status <> 'pending_payment' THEN
        RETURN b.status;
    END IF;
    SELECT * INTO h FROM holds WHERE id = b.hold_id FOR UPDATE;
    IF h.state <> 'active' THEN
        RETURN 'hold_gone';
    END IF;
    IF h.kind = 'ga' THEN
        UPDATE event_ga g SET held = g.held - h.quantity, sold = g.sold + h.quantity,
                              version = g.version + 1
        WHERE g.event_id = ev AND g.tier_id = h.ga_tier_id;
    ELSE
        UPDATE event_seats es SET state = 'sold', version = es.version + 1
        WHERE es.event_id = ev AND es.hold_id = h.id AND es.state = 'held';
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n <> h.quantity THEN
            RAISE EXCEPTION 'bx_booking_confirm: hold % has % held seats, expected %',
                h.id, n, h.quantity;
        END IF;
    END IF;
    UPDATE holds SET state = 'converted', ended_at = now() WHERE id = h.id;
    UPDATE bookings SET status = 'confirmed', confirmed_at = now(), paid_minor = p_paid,
                        updated_at = now()
    WHERE id = p_booking;
    RETURN 'confirmed';
END
$$;

-- Cancels a confirmed booking: its seats go back to available (blocked when the event is
-- cancelled), its GA units back to the tier, its tickets are revoked. Refunds are the
-- caller's (through the payment pool). Returns 'cancelled', or the booking's status when
-- it was not confirmed ('missing' when there is none).
CREATE FUNCTION bx_booking_cancel(p_booking UUID, p_reason TEXT) RETURNS TEXT
LANGUAGE plpgsql AS $$
DECLARE
    ev UUID := bx_booking_lock_event(p_booking);
    b bookings;
    h holds;
BEGIN
    SELECT * INTO b FROM bookings WHERE id = p_booking FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'missing';
    ELSIF b.status <> 'confirmed' THEN
        RETURN b.status;
    END IF;
    SELECT * INTO h FROM holds WHERE id = b.hold_id;
    IF h.kind = 'ga' THEN
        UPDATE event_ga g SET sold = g.sold - h.quantity, version = g.version + 1
        WHERE g.event_id = ev AND g.tier_id = h.ga_tier_id;
    ELSE
        UPDATE event_seats es
        SET state = CASE WHEN (SELECT status FROM events WHERE id = ev) = 'cancelled'
                         THEN 'blocked' ELSE 'available' END,
            hold_id = NULL, version = es.version + 1
        WHERE es.event_id = ev AND es.hold_id = h.id AND es.state = 'sold';
    END IF;
    UPDATE tickets SET status = 'revoked', revoked_at = now()
    WHERE booking_id = p_booking AND status = 'valid';
    UPDATE bookings SET status = 'cancelled', cancelled_at = now(),
                        cancel_reason = left(p_reason, 200), updated_at = now()
    WHERE id = p_booking;
    RETURN 'cancelled';
END
$$;

-- Tax rules of three jurisdictions the demo venues use (rates as published for 2026):
-- India GST on admission tickets (12% up to INR 100 per ticket, 18% above; shown as CGST
-- + SGST halves), UK VAT 20% included in the price, New York State + City sales tax
-- (4% + 4.5% + MCTD 0.375% = 8.875%, added on top). Service fees: 18% GST in India,
-- 20% VAT in the UK.
INSERT INTO tax_rules (id, country, region, name, rate_ppm, inclusive, applies_to, currency,
                       band_min_minor, band_max_minor) VALUES
    ('01900000-0000-7000-8000-000000000001', 'IN', NULL, 'CGST', 60000, false, 'ticket', 'INR', 0, 10000),
    ('01900000-0000-7000-8000-000000000002', 'IN', NULL, 'SGST', 60000, false, 'ticket', 'INR', 0, 10000),
    ('01900000-0000-7000-8000-000000000003', 'IN', NULL, 'CGST', 90000, false, 'ticket', 'INR', 10001, NULL),
    ('01900000-0000-7000-8000-000000000004', 'IN', NULL, 'SGST', 90000, false, 'ticket', 'INR', 10001, NULL),
    ('01900000-0000-7000-8000-000000000005', 'IN', NULL, 'CGST', 90000, false, 'fee', 'INR', NULL, NULL),
    ('01900000-0000-7000-8000-000000000006', 'IN', NULL, 'SGST', 90000, false, 'fee', 'INR', NULL, NULL),
    ('01900000-0000-7000-8000-000000000007', 'GB', NULL, 'VAT', 200000, true, 'ticket', NULL, NULL, NULL),
    ('01900000-0000-7000-8000-000000000008', 'GB', NULL, 'VAT', 200000, true, 'fee', NULL, NULL, NULL),
    ('01900000-0000-7000-8000-000000000009', 'US', 'NY', 'NY State sales tax', 40000, false, 'ticket', NULL, NULL, NULL),
    ('01900000-0000-7000-8000-00000000000a', 'US', 'NY', 'NYC sales tax', 45000, false, 'ticket', NULL, NULL, NULL),
    ('01900000-0000-7000-8000-00000000000b', 'US', 'NY', 'MCTD surcharge', 3750, false, 'ticket', NULL, NULL, NULL);
