-- 0005_media_content: media of events and venues (posters, trailers, gallery images),
-- whose bytes live in the content-addressed media store (frontdoor/fd_media_store.h)
-- under their SHA-256, and the storefront's editorial content: featured events,
-- promotions and news, each with a publication window and an optional locale. Also
-- bx_uuid_v7(), so that set-based generators (bxctl seed) make the same time-ordered ids
-- as the C code.

-- RFC 9562 UUIDv7 from the clock: 48-bit milliseconds, version 7, random tail.
CREATE FUNCTION bx_uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
               substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                         FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;

-- One row per distinct content in the store: the unit of deduplication, with what the
-- upload's bytes were found to be (never what the client declared). When the last media
-- row using a content goes, the trigger below sets orphaned_at; the frontdoor's sweep
-- then deletes the bytes and this row under the row's lock. An upload of the same
-- content takes the same lock and clears orphaned_at, so it never loses its file.
CREATE TABLE media_blobs (
    sha256      CHAR(64) PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    mime        VARCHAR(32) NOT NULL
                CHECK (mime IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif',
                                'video/mp4', 'video/webm')),
    bytes       BIGINT NOT NULL CHECK (bytes > 0),
    width       INTEGER CHECK (width > 0),
    height      INTEGER CHECK (height > 0),
    duration_ms BIGINT CHECK (duration_ms >= 0),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    orphaned_at TIMESTAMPTZ
);
CREATE INDEX media_blobs_orphaned ON media_blobs (orphaned_at) WHERE orphaned_at IS NOT NULL;

-- A use of a content by an event or a venue in a role. An event's media go with the
-- event when a draft is deleted; a venue is only ever soft-deleted. One poster per owner.
CREATE TABLE media (
    id         UUID PRIMARY KEY,
    org_id     UUID NOT NULL REFERENCES organizations (id),
    event_id   UUID REFERENCES events (id) ON DELETE CASCADE,
    venue_id   UUID REFERENCES venues (id),
    role       VARCHAR(16) NOT NULL CHECK (role IN ('poster', 'trailer', 'gallery')),
    sha256     CHAR(64) NOT NULL REFERENCES media_blobs (sha256),
    position   INTEGER NOT NULL DEFAULT 0,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT media_one_owner CHECK ((event_id IS NULL) <> (venue_id IS NULL))
);
CREATE INDEX media_owner ON media ((coalesce(event_id, venue_id)), role, position);
CREATE UNIQUE INDEX media_same_upload ON media ((coalesce(event_id, venue_id)), role, sha256);
CREATE UNIQUE INDEX media_one_poster ON media ((coalesce(event_id, venue_id)))
    WHERE role = 'poster';
CREATE INDEX media_sha ON media (sha256);

-- Lock first, then look: an upload of the same content holds the blob row until it
-- commits its media row, and the NOT EXISTS below runs with a new snapshot that sees it.
CREATE FUNCTION bx_media_release() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM media_blobs WHERE sha256 = OLD.sha256 FOR UPDATE;
    IF NOT EXISTS (SELECT 1 FROM media WHERE sha256 = OLD.sha256) THEN
        UPDATE media_blobs SET orphaned_at = now() WHERE sha256 = OLD.sha256;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER media_release AFTER DELETE ON media
    FOR EACH ROW EXECUTE FUNCTION bx_media_release();

-- Editorial content. A window [starts_at, ends_at) with open ends; locale NULL means every
-- locale, "de" every German one, "de-AT" only that one.
CREATE TABLE featured_events (
    id         UUID PRIMARY KEY,
    event_id   UUID NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    rank       INTEGER NOT NULL DEFAULT 100 CHECK (rank BETWEEN 0 AND 1000000),
    starts_at  TIMESTAMPTZ,
    ends_at    TIMESTAMPTZ,
    locale     VARCHAR(5) CHECK (locale ~ '^[a-z]{2}(-[A-Z]{2})?$'),
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT featured_window CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at),
    CONSTRAINT featured_once UNIQUE NULLS NOT DISTINCT (event_id, locale)
);
CREATE INDEX featured_events_rank ON featured_events (rank, id);

CREATE TABLE promotions (
    id             UUID PRIMARY KEY,
    title          VARCHAR(200) NOT NULL,
    body           TEXT,
    image_media_id UUID REFERENCES media (id) ON DELETE SET NULL,
    link_url       VARCHAR(2000),
    rank           INTEGER NOT NULL DEFAULT 100 CHECK (rank BETWEEN 0 AND 1000000),
    starts_at      TIMESTAMPTZ,
    ends_at        TIMESTAMPTZ,
    locale         VARCHAR(5) CHECK (locale ~ '^[a-z]{2}(-[A-Z]{2})?$'),
    created_by     UUID,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT promotion_window CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX promotions_rank ON promotions (rank, id);

CREATE TABLE news (
    id           UUID PRIMARY KEY,
    title        VARCHAR(200) NOT NULL,
    body         TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    locale       VARCHAR(5) CHECK (locale ~ '^[a-z]{2}(-[A-Z]{2})?$'),
    created_by   UUID,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX news_published ON news (published_at DESC, id DESC);
