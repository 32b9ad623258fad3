-- 0004_search: the event search index that the index worker keeps current from the outbox
-- (one event_search row per event: weighted full text, trigram text, the filter, sort and
-- facet columns, and the list document), the vocabulary that typo tolerance expands query
-- words against, and the functions that compute both from the catalog tables. The search
-- queries are in sql/queries/search.sql; the design is in docs/search.md.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- Text search: no stemming and no stop words (names of bands, films, teams and places come
-- in every language, and an English stemmer mangles them), accents folded ("Motörhead"
-- matches "motorhead"). Plurals and partial words are found by prefix matching and by the
-- typo tolerance of the vocabulary.
CREATE TEXT SEARCH CONFIGURATION bx_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION bx_search
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
    WITH unaccent, simple;

-- Folded form for comparisons of cities and for trigram text: lower case, no accents.
-- Declared immutable (unaccent is stable only because its rules file could change; a
-- change of that file needs a re-index anyway).
CREATE FUNCTION bx_search_fold(s TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT lower(public.unaccent('public.unaccent'::regdictionary, s))
$$;

-- Great-circle distance in metres between two points given in degrees (haversine on the
-- mean Earth radius; the clamp keeps rounding from taking asin out of its domain).
CREATE FUNCTION bx_geo_distance_m(lat1 DOUBLE PRECISION, lon1 DOUBLE PRECISION,
                                  lat2 DOUBLE PRECISION, lon2 DOUBLE PRECISION)
RETURNS DOUBLE PRECISION
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT 2 * 6371008.8 * asin(least(1, sqrt(
        sin(radians(lat2 - lat1) / 2) ^ 2
        + cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lon2 - lon1) / 2) ^ 2)))
$$;

-- Part 1 or 2 of the bounding box of a circle (lat, lon, radius in metres) as a box of
-- points (longitude, latitude), for the GiST index on event_search.geo. A circle that
-- crosses the antimeridian needs two boxes: part 2 is then the wrapped half, else NULL.
-- Near a pole the box spans every longitude. The box is a superset: callers check the
-- exact distance too.
CREATE FUNCTION bx_geo_box(lat DOUBLE PRECISION, lon DOUBLE PRECISION, radius_m DOUBLE PRECISION,
                           part INTEGER)
RETURNS box
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE
        WHEN b.dlon >= 180 THEN
            CASE WHEN part = 1 THEN box(point(-180, b.lo), point(180, b.hi)) END
        WHEN lon - b.dlon < -180 THEN
            CASE WHEN part = 1 THEN box(point(-180, b.lo), point(lon + b.dlon, b.hi))
                 ELSE box(point(lon - b.dlon + 360, b.lo), point(180, b.hi)) END
        WHEN lon + b.dlon > 180 THEN
            CASE WHEN part = 1 THEN box(point(lon - b.dlon, b.lo), point(180, b.hi))
                 ELSE box(point(-180, b.lo), point(lon + b.dlon - 360, b.hi)) END
        ELSE
            CASE WHEN part = 1 THEN box(point(lon - b.dlon, b.lo), point(lon + b.dlon, b.hi)) END
    END
    FROM (SELECT greatest(-90, lat - d.dlat) AS lo, least(90, lat + d.dlat) AS hi,
                 CASE WHEN abs(lat) + d.dlat >= 89.9 THEN 180
                      ELSE least(180, d.dlat / cos(radians(abs(lat) + d.dlat))) END AS dlon
          FROM (SELECT degrees(radius_m / 6371008.8) * 1.001 AS dlat) d) b
$$;

-- Single-lexeme tsquery (optionally a prefix) for a lexeme taken from a tsvector, quoted
-- so that no character of it is read as tsquery syntax.
CREATE FUNCTION bx_search_lexeme(term TEXT, prefix BOOLEAN) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ('''' || replace(replace(term, '\', '\\'), '''', '''''') || ''''
            || CASE WHEN prefix THEN ':*' ELSE '' END)::tsquery
$$;

-- OR and AND over a set of tsqueries (a query word and its typo variants; the words).
CREATE AGGREGATE bx_tsquery_or(tsquery) (SFUNC = tsquery_or, STYPE = tsquery);
CREATE AGGREGATE bx_tsquery_and(tsquery) (SFUNC = tsquery_and, STYPE = tsquery);

-- Words that make an event of a type findable by the type ("konsert" → concert), indexed
-- with the lowest weight.
CREATE TABLE search_type_words (
    event_type VARCHAR(16) PRIMARY KEY,
    words      TEXT NOT NULL
);
INSERT INTO search_type_words (event_type, words) VALUES
    ('movie', 'movie movies film films cinema screening'),
    ('concert', 'concert concerts music live gig'),
    ('sports', 'sports sport match game'),
    ('theater', 'theater theatre play stage show'),
    ('conference', 'conference congress summit talks convention');

-- The search document of one event, in two tables: event_search holds what matching,
-- filters, sorts and facets read (the tsvector and about 200 bytes more), event_search_doc
-- the list document that only the rows of the answered page need, so that counting facets
-- over tens of thousands of matches scans narrow rows. Every event has a row (drafts too,
-- so that a status change is an update); only rows with visible = true are answered to
-- the public, and every search index covers those rows only.
CREATE TABLE event_search (
    event_id          UUID PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    venue_id          UUID NOT NULL,
    org_id            UUID NOT NULL,
    status            VARCHAR(16) NOT NULL,  -- the event's status when indexed
    visible           BOOLEAN NOT NULL,      -- published or on sale, venue not deleted
    event_type        VARCHAR(16) NOT NULL,
    starts_at         TIMESTAMPTZ NOT NULL,
    ends_at           TIMESTAMPTZ NOT NULL,
    local_date        DATE NOT NULL,         -- start date in the venue's zone
    city              VARCHAR(100) NOT NULL, -- as the venue spells it
    city_key          TEXT NOT NULL,         -- bx_search_fold(city)
    country           CHAR(2) NOT NULL,
    latitude          DOUBLE PRECISION NOT NULL,
    longitude         DOUBLE PRECISION NOT NULL,
    geo               POINT NOT NULL,        -- (longitude, latitude)
    currency          CHAR(3) NOT NULL,
    price_min_minor   BIGINT,                -- cheapest tier; NULL without tiers
    price_max_minor   BIGINT,                -- dearest tier
    prices            BIGINT[] NOT NULL,     -- every tier price, ascending
    has_availability  BOOLEAN NOT NULL,      -- a seat available or GA capacity left
    popularity        INTEGER NOT NULL,      -- tickets sold
    search_text       TEXT NOT NULL,         -- folded name and performers, for trigrams
    tsv               TSVECTOR NOT NULL,     -- A name, B performers, C venue and city, D rest
    source_updated_at TIMESTAMPTZ NOT NULL,  -- later of the event's and venue's updated_at
    indexed_at        TIMESTAMPTZ NOT NULL DEFAULT now()
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
CREATE INDEX event_search_tsv ON event_search USING gin (tsv) WHERE visible;
CREATE INDEX event_search_trgm ON event_search USING gin (search_text gin_trgm_ops) WHERE visible;
-- Date order, and browsing without text: the included columns let a page in date order
-- skip events that have ended, and facets over a date range count, without reading rows.
CREATE INDEX event_search_starts ON event_search (starts_at, event_id)
    INCLUDE (ends_at, event_type, city_key, city, local_date, has_availability) WHERE visible;
CREATE INDEX event_search_popular ON event_search ((-popularity), event_id) WHERE visible;
CREATE INDEX event_search_city ON event_search (city_key, starts_at, event_id) WHERE visible;
CREATE INDEX event_search_type ON event_search (event_type, starts_at, event_id) WHERE visible;
CREATE INDEX event_search_geo ON event_search USING gist (geo) WHERE visible;
CREATE INDEX event_search_venue ON event_search (venue_id);

CREATE TABLE event_search_doc (
    event_id UUID PRIMARY KEY REFERENCES event_search (event_id) ON DELETE CASCADE,
    doc      JSONB NOT NULL -- the event's list attributes
);

-- Every word of every indexed document, with its Double Metaphone code: a query word is
-- expanded to the terms within a small edit distance or sounding alike, so a typo still
-- hits the tsvector index. Terms are never deleted (a stale term only widens a query to
-- a word that matches nothing).
CREATE TABLE search_terms (
    term  TEXT PRIMARY KEY,
    sound TEXT NOT NULL -- dmetaphone(term), '' for terms without one (numbers)
);
CREATE INDEX search_terms_trgm ON search_terms USING gin (term gin_trgm_ops);
CREATE INDEX search_terms_sound ON search_terms (sound) WHERE sound <> '';

-- Recomputes the search documents of the events ids from the catalog tables (insert or
-- update; an event that no longer exists has lost its rows by the cascade) and adds their
-- words to the vocabulary. The events are key-share locked first, so that a concurrent
-- delete waits until this transaction ends (and then cascades) and no row is written for
-- an event already gone. Returns the number of documents written.
CREATE FUNCTION bx_search_refresh(ids UUID[]) RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    n INTEGER;
BEGIN
    PERFORM 1 FROM events WHERE id = ANY (ids) ORDER BY id FOR KEY SHARE;
    WITH src AS (
        SELECT e.*, v.name AS venue_name, v.city, v.country, v.latitude, v.longitude,
               v.time_zone, v.deleted_at AS venue_deleted_at, v.updated_at AS venue_updated_at,
               coalesce((SELECT string_agg(p->>'name', ' ')
                         FROM jsonb_array_elements(e.performers) p), '') AS performer_names,
               (SELECT array_agg(DISTINCT t.price_minor ORDER BY t.price_minor)
                FROM ticket_tiers t WHERE t.event_id = e.id) AS tier_prices,
               EXISTS (SELECT 1 FROM event_seats s
                       WHERE s.event_id = e.id AND s.state = 'available')
               OR EXISTS (SELECT 1 FROM event_ga g
                          WHERE g.event_id = e.id AND g.held + g.sold < g.capacity)
                   AS available,
               (SELECT count(*) FROM event_seats s WHERE s.event_id = e.id AND s.state = 'sold')
               + (SELECT coalesce(sum(g.sold), 0) FROM event_ga g WHERE g.event_id = e.id)
                   AS sold
        FROM events e JOIN venues v ON v.id = e.venue_id
        WHERE e.id = ANY (ids)
    ), narrow AS (
        INSERT INTO event_search AS d (
            event_id, venue_id, org_id, status, visible, event_type, starts_at, ends_at,
            local_date, city, city_key, country, latitude, longitude, geo, currency,
            price_min_minor, price_max_minor, prices, has_availability, popularity,
            search_text, tsv, source_updated_at, indexed_at)
        SELECT s.id, s.venue_id, s.org_id, s.status,
               s.status IN ('published', 'on_sale') AND s.venue_deleted_at IS NULL,
               s.event_type, s.starts_at, s.ends_at,
               (s.starts_at AT TIME ZONE s.time_zone)::date,
               s.city, bx_search_fold(s.city), s.country, s.latitude, s.longitude,
               point(s.longitude, s.latitude), s.currency,
               s.tier_prices[1], s.tier_prices[cardinality(s.tier_prices)],
               coalesce(s.tier_prices, '{}'), s.available, least(s.sold, 2147483647)::int,
               bx_search_fold(s.name || ' ' || s.performer_names),
               setweight(to_tsvector('bx_search', s.name), 'A')
               || setweight(to_tsvector('bx_search', s.performer_names), 'B')
               || setweight(to_tsvector('bx_search', s.venue_name || ' ' || s.city), 'C')
               || setweight(to_tsvector('bx_search', coalesce(s.description, '') || ' '
                                        || coalesce(w.words, '')), 'D'),
               greatest(s.updated_at, s.venue_updated_at), now()
        FROM src s LEFT JOIN search_type_words w ON w.event_type = s.event_type
        ON CONFLICT (event_id) DO UPDATE SET
            venue_id = EXCLUDED.venue_id, org_id = EXCLUDED.org_id, status = EXCLUDED.status,
            visible = EXCLUDED.visible, event_type = EXCLUDED.event_type,
            starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
            local_date = EXCLUDED.local_date, city = EXCLUDED.city,
            city_key = EXCLUDED.city_key, country = EXCLUDED.country,
            latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, geo = EXCLUDED.geo,
            currency = EXCLUDED.currency, price_min_minor = EXCLUDED.price_min_minor,
            price_max_minor = EXCLUDED.price_max_minor, prices = EXCLUDED.prices,
            has_availability = EXCLUDED.has_availability, popularity = EXCLUDED.popularity,
            search_text = EXCLUDED.search_text, tsv = EXCLUDED.tsv,
            source_updated_at = EXCLUDED.source_updated_at, indexed_at = EXCLUDED.indexed_at
        RETURNING d.event_id, d.tsv
    ), docs AS (
        INSERT INTO event_search_doc AS o (event_id, doc)
        SELECT s.id, jsonb_build_object(
                   'name', s.name, 'event_type', s.event_type, 'status', s.status,
                   'performers', s.performers,
                   'starts_at', bx_utc_rfc3339(s.starts_at), 'ends_at', bx_utc_rfc3339(s.ends_at),
                   'duration_minutes', (extract(epoch FROM s.ends_at - s.starts_at) / 60)::int,
                   'time_zone', s.time_zone,
                   'local_starts_at', bx_local_rfc3339(s.starts_at, s.time_zone),
                   'currency', s.currency,
                   'venue', jsonb_build_object('id', s.venue_id, 'name', s.venue_name,
                                               'city', s.city, 'country', s.country),
                   'hall_id', s.hall_id, 'organization_id', s.org_id, 'series_id', s.series_id,
                   'price_range', CASE WHEN s.tier_prices IS NULL THEN NULL ELSE jsonb_build_object(
                       'min_minor', s.tier_prices[1],
                       'max_minor', s.tier_prices[cardinality(s.tier_prices)],
                       'currency', s.currency) END,
                   'available', s.available,
                   'updated_at', bx_utc_rfc3339(s.updated_at))
        FROM src s JOIN narrow n ON n.event_id = s.id
        ON CONFLICT (event_id) DO UPDATE SET doc = EXCLUDED.doc
        RETURNING o.event_id
    ), terms AS (
        -- New words in a fixed order, so that two refreshes adding the same words cannot
        -- deadlock on the unique index.
        INSERT INTO search_terms (term, sound)
        SELECT x.term, coalesce(dmetaphone(x.term), '')
        FROM (SELECT DISTINCT unnest(tsvector_to_array(narrow.tsv)) AS term FROM narrow) x
        WHERE NOT EXISTS (SELECT 1 FROM search_terms o WHERE o.term = x.term)
        ORDER BY x.term
        ON CONFLICT (term) DO NOTHING
        RETURNING 1
    )
    SELECT count(*) INTO n FROM docs;
    RETURN n;
END
$$;

-- Existing events (a database migrated after the catalog was in use).
SELECT bx_search_refresh(array_agg(id)) FROM events HAVING count(*) > 0;
