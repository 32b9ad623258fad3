-- 0003_catalog: what customers browse and partners sell: venues and their halls, versioned
-- seating layouts (sections, rows as seat columns, seats, general-admission areas), events
-- and recurring series, ticket tiers with their section/seat mapping, and the per-event
-- inventory (event_seats, event_ga) that publishing materializes for the hold path.
-- Layout rows are immutable (a trigger refuses UPDATE and DELETE): an edit is a new version,
-- so an event pinned to a version never changes under its sales.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- ISO 3166-1 alpha-2 and ISO 4217 codes (from Debian's iso-codes; precious metals, fund and
-- test codes left out), so that "XX" or "EURO" is refused by the database as well.
CREATE TABLE iso_countries (code CHAR(2) PRIMARY KEY);
CREATE TABLE iso_currencies (code CHAR(3) PRIMARY KEY);

-- IANA zone names PostgreSQL knows, copied once: reading pg_timezone_names scans the whole
-- zone database (hundreds of milliseconds), too slow for every venue write. A later
-- tzdata with new zones needs a migration that inserts them.
CREATE TABLE iana_time_zones (name VARCHAR(64) PRIMARY KEY);
INSERT INTO iana_time_zones (name)
SELECT name FROM pg_timezone_names
WHERE name !~ '^(posix|right)/' AND name NOT IN ('posixrules', 'Factory', 'localtime')
ON CONFLICT DO NOTHING;

INSERT INTO iso_countries (code) VALUES
    ('AD'), ('AE'), ('AF'), ('AG'), ('AI'), ('AL'), ('AM'), ('AO'), ('AQ'), ('AR'), ('AS'),
    ('AT'), ('AU'), ('AW'), ('AX'), ('AZ'), ('BA'), ('BB'), ('BD'), ('BE'), ('BF'), ('BG'),
    ('BH'), ('BI'), ('BJ'), ('BL'), ('BM'), ('BN'), ('BO'), ('BQ'), ('BR'), ('BS'), ('BT'),
    ('BV'), ('BW'), ('BY'), ('BZ'), ('CA'), ('CC'), ('CD'), ('CF'), ('CG'), ('CH'), ('CI'),
    ('CK'), ('CL'), ('CM'), ('CN'), ('CO'), ('CR'), ('CU'), ('CV'), ('CW'), ('CX'), ('CY'),
    ('CZ'), ('DE'), ('DJ'), ('DK'), ('DM'), ('DO'), ('DZ'), ('EC'), ('EE'), ('EG'), ('EH'),
    ('ER'), ('ES'), ('ET'), ('FI'), ('FJ'), ('FK'), ('FM'), ('FO'), ('FR'), ('GA'), ('GB'),
    ('GD'), ('GE'), ('GF'), ('GG'), ('GH'), ('GI'), ('GL'), ('GM'), ('GN'), ('GP'), ('GQ'),
    ('GR'), ('GS'), ('GT'), ('GU'), ('GW'), ('GY'), ('HK'), ('HM'), ('HN'), ('HR'), ('HT'),
    ('HU'), ('ID'), ('IE'), ('IL'), ('IM'), ('IN'), ('IO'), ('IQ'), ('IR'), ('IS'), ('IT'),
    ('JE'), ('JM'), ('JO'), ('JP'), ('KE'), ('KG'), ('KH'), ('KI'), ('KM'), ('KN'), ('KP'),
    ('KR'), ('KW'), ('KY'), ('KZ'), ('LA'), ('LB'), ('LC'), ('LI'), ('LK'), ('LR'), ('LS'),
    ('LT'), ('LU'), ('LV'), ('LY'), ('MA'), ('MC'), ('MD'), ('ME'), ('MF'), ('MG'), ('MH'),
    ('MK'), ('ML'), ('MM'), ('MN'), ('MO'), ('MP'), ('MQ'), ('MR'), ('MS'), ('MT'), ('MU'),
    ('MV'), ('MW'), ('MX'), ('MY'), ('MZ'), ('NA'), ('NC'), ('NE'), ('NF'), ('NG'), ('NI'),
    ('NL'), ('NO'), ('NP'), ('NR'), ('NU'), ('NZ'), ('OM'), ('PA'), ('PE'), ('PF'), ('PG'),
    ('PH'), ('PK'), ('PL'), ('PM'), ('PN'), ('PR'), ('PS'), ('PT'), ('PW'), ('PY'), ('QA'),
    ('RE'), ('RO'), ('RS'), ('RU'), ('RW'), ('SA'), ('SB'), ('SC'), ('SD'), ('SE'), ('SG'),
    ('SH'), ('SI'), ('SJ'), ('SK'), ('SL'), ('SM'), ('SN'), ('SO'), ('SR'), ('SS'), ('ST'),
    ('SV'), ('SX'), ('SY'), ('SZ'), ('TC'), ('TD'), ('TF'), ('TG'), ('TH'), ('TJ'), ('TK'),
    ('TL'), ('TM'), ('TN'), ('TO'), ('TR'), ('TT'), ('TV'), ('TW'), ('TZ'), ('UA'), ('UG'),
    ('UM'), ('US'), ('UY'), ('UZ'), ('VA'), ('VC'), ('VE'), ('VG'), ('VI'), ('VN'), ('VU'),
    ('WF'), ('WS'), ('YE'), ('YT'), ('ZA'), ('ZM'), ('ZW');

INSERT INTO iso_currencies (code) VALUES
    ('AED'), ('AFN'), ('ALL'), ('AMD'), ('ANG'), ('AOA'), ('ARS'), ('AUD'), ('AWG'), ('AZN'),
    ('BAM'), ('BBD'), ('BDT'), ('BGN'), ('BHD'), ('BIF'), ('BMD'), ('BND'), ('BOB'), ('BOV'),
    ('BRL'), ('BSD'), ('BTN'), ('BWP'), ('BYN'), ('BZD'), ('CAD'), ('CDF'), ('CHE'), ('CHF'),
    ('CHW'), ('CLF'), ('CLP'), ('CNY'), ('COP'), ('COU'), ('CRC'), ('CUC'), ('CUP'), ('CVE'),
    ('CZK'), ('DJF'), ('DKK'), ('DOP'), ('DZD'), ('EGP'), ('ERN'), ('ETB'), ('EUR'), ('FJD'),
    ('FKP'), ('GBP'), ('GEL'), ('GHS'), ('GIP'), ('GMD'), ('GNF'), ('GTQ'), ('GYD'), ('HKD'),
    ('HNL'), ('HRK'), ('HTG'), ('HUF'), ('IDR'), ('ILS'), ('INR'), ('IQD'), ('IRR'), ('ISK'),
    ('JMD'), ('JOD'), ('JPY'), ('KES'), ('KGS'), ('KHR'), ('KMF'), ('KPW'), ('KRW'), ('KWD'),
    ('KYD'), ('KZT'), ('LAK'), ('LBP'), ('LKR'), ('LRD'), ('LSL'), ('LYD'), ('MAD'), ('MDL'),
    ('MGA'), ('MKD'), ('MMK'), ('MNT'), ('MOP'), ('MRU'), ('MUR'), ('MVR'), ('MWK'), ('MXN'),
    ('MXV'), ('MYR'), ('MZN'), ('NAD'), ('NGN'), ('NIO'), ('NOK'), ('NPR'), ('NZD'), ('OMR'),
    ('PAB'), ('PEN'), ('PGK'), ('PHP'), ('PKR'), ('PLN'), ('PYG'), ('QAR'), ('RON'), ('RSD'),
    ('RUB'), ('RWF'), ('SAR'), ('SBD'), ('SCR'), ('SDG'), ('SEK'), ('SGD'), ('SHP'), ('SLE'),
    ('SLL'), ('SOS'), ('SRD'), ('SSP'), ('STN'), ('SVC'), ('SYP'), ('SZL'), ('THB'), ('TJS'),
    ('TMT'), ('TND'), ('TOP'), ('TRY'), ('TTD'), ('TWD'), ('TZS'), ('UAH'), ('UGX'), ('USD'),
    ('USN'), ('UYI'), ('UYU'), ('UYW'), ('UZS'), ('VED'), ('VES'), ('VND'), ('VUV'), ('WST'),
    ('XAF'), ('XCD'), ('XOF'), ('XPF'), ('YER'), ('ZAR'), ('ZMW'), ('ZWL');

-- ts as RFC 3339 local time in zone tz with its UTC offset ("2026-03-29T20:00:00+02:00").
-- to_char of a negative interval with minutes is wrong ("-03:-30"), hence the arithmetic.
CREATE FUNCTION bx_local_rfc3339(ts TIMESTAMPTZ, tz TEXT) RETURNS TEXT
LANGUAGE sql STABLE STRICT AS $$
    SELECT to_char(ts AT TIME ZONE tz, 'YYYY-MM-DD"T"HH24:MI:SS')
           || CASE WHEN m < 0 THEN '-' ELSE '+' END
           || lpad((abs(m) / 60)::text, 2, '0') || ':' || lpad((abs(m) % 60)::text, 2, '0')
    FROM (SELECT (extract(epoch FROM (ts AT TIME ZONE tz) - (ts AT TIME ZONE 'UTC')) / 60)::int
          AS m) o
$$;

-- UTC RFC 3339 text of a timestamp, as every API document shows it.
CREATE FUNCTION bx_utc_rfc3339(ts TIMESTAMPTZ) RETURNS TEXT
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- Venues are soft-deleted (deleted_at): bookings and tickets of past events keep pointing
-- at them. Deleting is refused while the venue has events that are not cancelled.
CREATE TABLE venues (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES organizations (id),
    name        VARCHAR(200) NOT NULL,
    description TEXT,
    address     VARCHAR(500) NOT NULL,
    city        VARCHAR(100) NOT NULL,
    postal_code VARCHAR(20),
    country     CHAR(2) NOT NULL REFERENCES iso_countries (code),
    latitude    DOUBLE PRECISION NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude   DOUBLE PRECISION NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    time_zone   VARCHAR(64) NOT NULL,
    capacity    INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 1000000),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at  TIMESTAMPTZ
);
CREATE INDEX venues_org ON venues (org_id) WHERE deleted_at IS NULL;
CREATE INDEX venues_list ON venues (created_at, id) WHERE deleted_at IS NULL;

-- A screen of a multiplex, a concert hall, an arena: what one event occupies.
CREATE TABLE halls (
    id         UUID PRIMARY KEY,
    venue_id   UUID NOT NULL REFERENCES venues (id),
    name       VARCHAR(100) NOT NULL,
    kind       VARCHAR(16) NOT NULL CHECK (kind IN ('screen', 'hall', 'arena')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (venue_id, name)
);

-- One version of a hall's seating. Versions count up from 1 per hall.
CREATE TABLE layouts (
    id          UUID PRIMARY KEY,
    hall_id     UUID NOT NULL REFERENCES halls (id),
    version     INTEGER NOT NULL CHECK (version >= 1),
    seat_count  INTEGER NOT NULL CHECK (seat_count >= 0),
    ga_capacity INTEGER NOT NULL CHECK (ga_capacity >= 0),
    created_by  UUID,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (hall_id, version),
    CHECK (seat_count + ga_capacity > 0)
);

-- A seated block (its seats in layout_seats) or a general-admission area with a capacity.
CREATE TABLE layout_sections (
    id        UUID PRIMARY KEY,
    layout_id UUID NOT NULL REFERENCES layouts (id),
    code      VARCHAR(32) NOT NULL,
    name      VARCHAR(100) NOT NULL,
    kind      VARCHAR(8) NOT NULL CHECK (kind IN ('seated', 'ga')),
    capacity  INTEGER CHECK (capacity BETWEEN 1 AND 1000000),
    position  INTEGER NOT NULL,
    UNIQUE (layout_id, code),
    CHECK ((kind = 'ga') = (capacity IS NOT NULL))
);

-- Seats carry their row; a row is the seats that share (section, row). x/y place the seat
-- on a drawn seat map. label is unique within the layout version ("A12", "101-C-7").
CREATE TABLE layout_seats (
    id              UUID PRIMARY KEY,
    layout_id       UUID NOT NULL REFERENCES layouts (id),
    section_id      UUID NOT NULL REFERENCES layout_sections (id),
    row             VARCHAR(16) NOT NULL,
    number          VARCHAR(16) NOT NULL,
    label           VARCHAR(64) NOT NULL,
    x               REAL NOT NULL,
    y               REAL NOT NULL,
    wheelchair      BOOLEAN NOT NULL DEFAULT false,
    companion       BOOLEAN NOT NULL DEFAULT false,
    restricted_view BOOLEAN NOT NULL DEFAULT false,
    position        INTEGER NOT NULL,
    UNIQUE (layout_id, label)
);
CREATE INDEX layout_seats_section ON layout_seats (section_id, position);

CREATE FUNCTION bx_layout_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'layout versions are immutable: create a new version instead'
        USING ERRCODE = 'P0001';
END
$$;
CREATE TRIGGER layouts_immutable BEFORE UPDATE OR DELETE ON layouts
    FOR EACH ROW EXECUTE FUNCTION bx_layout_immutable();
CREATE TRIGGER layout_sections_immutable BEFORE UPDATE OR DELETE ON layout_sections
    FOR EACH ROW EXECUTE FUNCTION bx_layout_immutable();
CREATE TRIGGER layout_seats_immutable BEFORE UPDATE OR DELETE ON layout_seats
    FOR EACH ROW EXECUTE FUNCTION bx_layout_immutable();

-- A recurring series: showtimes on every day (daily) or on the ISO weekdays listed
-- (weekly, 1 = Monday), at each local time of day in the venue's zone, from start_date to
-- until_date, except the listed dates. Each showtime is its own event (series_id).
CREATE TABLE event_series (
    id               UUID PRIMARY KEY,
    org_id           UUID NOT NULL REFERENCES organizations (id),
    venue_id         UUID NOT NULL REFERENCES venues (id),
    hall_id          UUID NOT NULL REFERENCES halls (id),
    event_type       VARCHAR(16) NOT NULL
                     CHECK (event_type IN ('movie', 'concert', 'sports', 'theater', 'conference')),
    name             VARCHAR(255) NOT NULL,
    description      TEXT,
    performers       JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(performers) = 'array'),
    currency         CHAR(3) NOT NULL REFERENCES iso_currencies (code),
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 4320),
    freq             VARCHAR(8) NOT NULL CHECK (freq IN ('daily', 'weekly')),
    weekdays         SMALLINT[] NOT NULL DEFAULT '{}' CHECK (weekdays <@ '{1,2,3,4,5,6,7}'),
    times_of_day     TIME[] NOT NULL CHECK (cardinality(times_of_day) BETWEEN 1 AND 48),
    start_date       DATE NOT NULL,
    until_date       DATE NOT NULL,
    exceptions       DATE[] NOT NULL DEFAULT '{}',
    tiers            JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tiers) = 'array'),
    publish          BOOLEAN NOT NULL DEFAULT false,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT series_span CHECK (until_date BETWEEN start_date AND start_date + 400),
    CONSTRAINT series_weekdays CHECK (freq = 'daily' OR cardinality(weekdays) >= 1)
);

-- Status: draft -> published -> on_sale -> completed, or cancelled from any but completed.
-- Two events that are not cancelled never overlap in one hall (events_no_overlap).
CREATE TABLE events (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES organizations (id),
    venue_id     UUID NOT NULL REFERENCES venues (id),
    hall_id      UUID NOT NULL REFERENCES halls (id),
    layout_id    UUID NOT NULL REFERENCES layouts (id),
    series_id    UUID REFERENCES event_series (id),
    event_type   VARCHAR(16) NOT NULL
                 CHECK (event_type IN ('movie', 'concert', 'sports', 'theater', 'conference')),
    name         VARCHAR(255) NOT NULL,
    description  TEXT,
    performers   JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(performers) = 'array'),
    starts_at    TIMESTAMPTZ NOT NULL,
    ends_at      TIMESTAMPTZ NOT NULL,
    currency     CHAR(3) NOT NULL REFERENCES iso_currencies (code),
    status       VARCHAR(16) NOT NULL DEFAULT 'draft'
                 CHECK (status IN ('draft', 'published', 'on_sale', 'completed', 'cancelled')),
    published_at TIMESTAMPTZ,
    cancelled_at TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT events_span CHECK (ends_at > starts_at),
    CONSTRAINT events_span_max CHECK (ends_at - starts_at <= interval '31 days'),
    UNIQUE (id, currency),
    CONSTRAINT events_no_overlap EXCLUDE USING gist
        (hall_id WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE (status <> 'cancelled')
);
CREATE INDEX events_starts ON events (starts_at, id);
CREATE INDEX events_org ON events (org_id, starts_at, id);
CREATE INDEX events_venue ON events (venue_id) WHERE status <> 'cancelled';
CREATE INDEX events_series ON events (series_id, starts_at) WHERE series_id IS NOT NULL;

-- A price tier. Seated tiers cover the sections in tier_sections and the single seats in
-- tier_seats (a seat's own mapping wins over its section's); a GA tier sells capacity
-- units of one general-admission area. The currency is always the event's (composite key).
CREATE TABLE ticket_tiers (
    id             UUID PRIMARY KEY,
    event_id       UUID NOT NULL,
    name           VARCHAR(100) NOT NULL,
    description    VARCHAR(1000),
    kind           VARCHAR(8) NOT NULL CHECK (kind IN ('seated', 'ga')),
    price_minor    BIGINT NOT NULL CHECK (price_minor >= 0),
    currency       CHAR(3) NOT NULL,
    ga_section_id  UUID REFERENCES layout_sections (id),
    capacity       INTEGER CHECK (capacity BETWEEN 1 AND 1000000),
    sale_starts_at TIMESTAMPTZ,
    sale_ends_at   TIMESTAMPTZ,
    min_per_order  INTEGER NOT NULL DEFAULT 1 CHECK (min_per_order BETWEEN 1 AND 100),
    max_per_order  INTEGER NOT NULL DEFAULT 10 CHECK (max_per_order BETWEEN 1 AND 100),
    position       INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (event_id, currency) REFERENCES events (id, currency) ON DELETE CASCADE,
    UNIQUE (event_id, name),
    CONSTRAINT tier_order_limits CHECK (max_per_order >= min_per_order),
    CONSTRAINT tier_sale_window
        CHECK (sale_ends_at IS NULL OR sale_starts_at IS NULL OR sale_ends_at > sale_starts_at),
    CHECK ((kind = 'ga') = (capacity IS NOT NULL)),
    CHECK ((kind = 'ga') = (ga_section_id IS NOT NULL))
);
CREATE INDEX ticket_tiers_event ON ticket_tiers (event_id, position);

-- One tier per section and per seat within an event (the primary keys say so).
CREATE TABLE tier_sections (
    event_id   UUID NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    section_id UUID NOT NULL REFERENCES layout_sections (id),
    tier_id    UUID NOT NULL REFERENCES ticket_tiers (id) ON DELETE CASCADE,
    PRIMARY KEY (event_id, section_id)
);
CREATE INDEX tier_sections_tier ON tier_sections (tier_id);
CREATE TABLE tier_seats (
    event_id UUID NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    seat_id  UUID NOT NULL REFERENCES layout_seats (id),
    tier_id  UUID NOT NULL REFERENCES ticket_tiers (id) ON DELETE CASCADE,
    PRIMARY KEY (event_id, seat_id)
);
CREATE INDEX tier_seats_tier ON tier_seats (tier_id);

-- Inventory, materialized on publish. A seat is sold at most once: state moves
-- available -> held -> sold (or back); version counts changes for optimistic checks.
CREATE TABLE event_seats (
    event_id UUID NOT NULL REFERENCES events (id),
    seat_id  UUID NOT NULL REFERENCES layout_seats (id),
    section  VARCHAR(32) NOT NULL,
    row      VARCHAR(16) NOT NULL,
    label    VARCHAR(64) NOT NULL,
    tier_id  UUID NOT NULL REFERENCES ticket_tiers (id),
    state    VARCHAR(16) NOT NULL DEFAULT 'available'
             CHECK (state IN ('available', 'held', 'sold', 'blocked')),
    hold_id  UUID,
    version  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, seat_id),
    UNIQUE (event_id, label),
    CHECK (state <> 'held' OR hold_id IS NOT NULL)
);
CREATE INDEX event_seats_tier ON event_seats (tier_id, state);

-- General-admission capacity per tier; held + sold never exceeds capacity.
CREATE TABLE event_ga (
    event_id   UUID NOT NULL REFERENCES events (id),
    tier_id    UUID NOT NULL REFERENCES ticket_tiers (id),
    section_id UUID NOT NULL REFERENCES layout_sections (id),
    capacity   INTEGER NOT NULL CHECK (capacity >= 0),
    held       INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0),
    sold       INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0),
    version    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, tier_id),
    CHECK (held + sold <= capacity)
);
