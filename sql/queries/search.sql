-- Search: the index worker's refresh of search documents (workers/index) and the public
-- event search over event_search (frontdoor fd_search_pg). Every filter is a parameter:
-- NULL means "not asked", and the search runs with force_custom_plan so that PostgreSQL
-- plans each call with its values (the NULL branches fold away, indexes are picked for
-- what was asked). Schema and functions: sql/migrations/0004_search.sql.

-- name: idx_event_venue
-- The venue whose lock serializes an event's refreshes (no row: the event is gone, and
-- its document went with it).
SELECT venue_id FROM events WHERE id = $1::uuid

-- name: idx_lock_venue
-- Serializes the refreshes of one venue's documents until the transaction ends, so that
-- a refresh never overwrites a newer one with what it read earlier.
SELECT pg_advisory_xact_lock(hashtextextended('bx_search:' || $1::text, 0))

-- name: idx_refresh_event
SELECT bx_search_refresh(ARRAY[$1::uuid])

-- name: idx_refresh_venue
SELECT bx_search_refresh(coalesce(array_agg(id), '{}')) FROM events WHERE venue_id = $1::uuid

-- name: search_tune
-- Transaction-local settings of one search: plan each statement with its parameters; no
-- JIT compilation and no parallel workers (their start-up costs more than a search that
-- reads a few thousand rows); give up after $1 milliseconds.
SELECT set_config('plan_cache_mode', 'force_custom_plan', true),
       set_config('jit', 'off', true),
       set_config('max_parallel_workers_per_gather', '0', true),
       set_config('statement_timeout', $1::text, true)

-- name: search_expand
-- The words of query $1 (at most $2, in order) as tsqueries: exact (each word, a prefix
-- from three letters on), and tolerant (each word OR its variants from the vocabulary:
-- at most $3 terms within edit distance 1 (words of 4-5 letters) or 2 (longer), or that
-- sound alike (Double Metaphone) within distance 2). Returns the tolerant and exact
-- tsqueries, the folded query text, the variants by word (JSON) and the word count.
WITH words AS (
    SELECT lexeme AS w, positions[1] AS pos
    FROM unnest(to_tsvector('bx_search', $1::text))
    ORDER BY positions[1]
    LIMIT $2::int
), variants AS (
    SELECT w.w, v.term
    FROM words w
    CROSS JOIN LATERAL (
        SELECT t.term FROM search_terms t
        WHERE char_length(w.w) BETWEEN 4 AND 64 AND char_length(t.term) <= 64
          AND t.term <> w.w
          AND (t.term % w.w OR (t.sound = dmetaphone(w.w) AND t.sound <> ''))
          AND (levenshtein(t.term, w.w) <= CASE WHEN char_length(w.w) >= 6 THEN 2 ELSE 1 END
               OR (t.sound = dmetaphone(w.w) AND levenshtein(t.term, w.w) <= 2))
        ORDER BY levenshtein(t.term, w.w), similarity(t.term, w.w) DESC, t.term
        LIMIT $3::int
    ) v
), per_word AS (
    SELECT w.w, w.pos, bx_search_lexeme(w.w, char_length(w.w) >= 3) AS exact,
           bx_tsquery_or(bx_search_lexeme(v.term, false)) AS fuzzy,
           array_agg(v.term ORDER BY v.term) FILTER (WHERE v.term IS NOT NULL) AS alts
    FROM words w LEFT JOIN variants v ON v.w = w.w
    GROUP BY w.w, w.pos
)
SELECT bx_tsquery_and(CASE WHEN fuzzy IS NULL THEN exact ELSE exact || fuzzy END
                      ORDER BY pos)::text,
       bx_tsquery_and(exact ORDER BY pos)::text,
       bx_search_fold($1::text),
       coalesce(jsonb_object_agg(w, to_jsonb(alts)) FILTER (WHERE alts IS NOT NULL),
                '{}')::text,
       count(*)
FROM per_word

-- name: search_ordered
-- A page of public events in date or popularity order, read in index order from the
-- cursor on (the other order's branch is pruned at planning), and on a first page the
-- facet counts of every match (index-only when nothing but dates is asked).
-- Upcoming only ($16), date order: the page's index scan starts at the earliest start of
-- an event that has not ended (an index-only InitPlan over event_search_starts, which
-- includes ends_at), not at now() - 32 days; otherwise it walks and tests every event of
-- the past month first (13,000 rows of the bench catalog: 60-500 ms for a text query in
-- date order, 3-50 ms with the bound). Only where each of those rows costs a heap fetch
-- (text, distance or price filters): the other filters are columns of the index, whose
-- walk is as cheap as the bound's. Popularity order and facets do not need it. The
-- upcoming test comes first so that cheap comparisons drop past events before any text
-- is matched.
--  $1 tolerant tsquery, $2 folded query text (both NULL: no text), $3 city, $4 event
--  types (text[]), $5/$6 from/to instants (to exclusive), $7/$8 from/to local dates
--  (inclusive), $9/$10 latitude/longitude, $11 radius in metres, $12/$13 price bounds in
--  minor units of currency $14, $15 has availability, $16 only events that have not ended,
--  $17 sort, $18/$19 the cursor (sort key, event id) of the previous page's last row, $20
--  page size, $21 count facets (a first page).
-- k: the start in microseconds since the epoch, or minus the tickets sold.
-- Rows, hits first: kind 'h' (id, k, score, distance, document) in order, then facets
-- when $21: kind 'n' (the total in k), 't' (event types by count), 'c' (cities by count),
-- 'd' (local start dates in order), each with its value and its count in k.
WITH hits AS NOT MATERIALIZED (
    SELECT d.event_id, d.event_type, d.city, d.city_key, d.local_date, d.starts_at,
           d.popularity, d.tsv,
           CASE WHEN $9::float8 IS NULL THEN NULL
                ELSE round(bx_geo_distance_m($9::float8, $10::float8, d.latitude,
                                             d.longitude)::numeric, 1) END AS dist
    FROM event_search d
    WHERE d.visible
      AND (NOT $16::boolean OR (d.ends_at > now() AND d.starts_at > now() - interval '32 days'))
      AND ($1::tsquery IS NULL OR d.tsv @@ $1::tsquery OR $2::text <% d.search_text)
      AND ($3::text IS NULL OR d.city_key = bx_search_fold($3::text))
      AND ($4::text[] IS NULL OR d.event_type = ANY ($4::text[]))
      AND ($5::timestamptz IS NULL OR d.starts_at >= $5::timestamptz)
      AND ($6::timestamptz IS NULL OR d.starts_at < $6::timestamptz)
      AND ($7::date IS NULL OR (d.local_date >= $7::date
           AND d.starts_at >= ($7::date - 1)::timestamp AT TIME ZONE 'UTC'))
      AND ($8::date IS NULL OR (d.local_date <= $8::date
           AND d.starts_at < ($8::date + 2)::timestamp AT TIME ZONE 'UTC'))
      AND ($9::float8 IS NULL OR (
              (d.geo <@ bx_geo_box($9::float8, $10::float8, $11::float8, 1)
               OR d.geo <@ bx_geo_box($9::float8, $10::float8, $11::float8, 2))
              AND bx_geo_distance_m($9::float8, $10::float8, d.latitude, d.longitude)
                  <= $11::float8))
      AND ($12::bigint IS NULL AND $13::bigint IS NULL OR (
              d.currency = $14::text
              AND d.price_max_minor >= coalesce($12::bigint, 0)
              AND d.price_min_minor <= coalesce($13::bigint, 9223372036854775807)
              AND EXISTS (SELECT 1 FROM unnest(d.prices) p
                          WHERE p BETWEEN coalesce($12::bigint, 0)
                                      AND coalesce($13::bigint, 9223372036854775807))))
      AND ($14::text IS NULL OR d.currency = $14::text)
      AND ($15::boolean IS NULL OR d.has_availability = $15::boolean)
), page AS (
    (SELECT h.event_id, (extract(epoch FROM h.starts_at) * 1000000)::numeric AS k,
            NULL::numeric AS score, h.dist
     FROM hits h
     WHERE $17::text = 'date'
       AND (NOT $16::boolean
            OR ($1::tsquery IS NULL AND $9::float8 IS NULL AND $12::bigint IS NULL
                AND $13::bigint IS NULL)
            OR h.starts_at >= (SELECT min(u.starts_at) FROM event_search u
                               WHERE u.visible AND u.ends_at > now()
                                 AND u.starts_at > now() - interval '32 days'))
       AND ($18::numeric IS NULL OR (h.starts_at, h.event_id)
            > ('epoch'::timestamptz + $18::bigint * interval '1 microsecond', $19::uuid))
     ORDER BY h.starts_at, h.event_id
     LIMIT $20::int)
    UNION ALL
    (SELECT h.event_id, (-h.popularity)::numeric, NULL, h.dist
     FROM hits h
     WHERE $17::text = 'popularity'
       AND ($18::numeric IS NULL OR ((-h.popularity), h.event_id) > ($18::int, $19::uuid))
     ORDER BY (-h.popularity), h.event_id
     LIMIT $20::int)
), facets AS (
    SELECT h.event_type, min(h.city) AS city, h.local_date,
           GROUPING(h.event_type, h.city_key, h.local_date) AS g, count(*) AS n
    FROM hits h
    WHERE $21::boolean
    GROUP BY GROUPING SETS ((h.event_type), (h.city_key), (h.local_date), ())
)
SELECT 'h' AS kind, p.event_id::text AS id, p.k, p.score, p.dist, o.doc::text,
       p.k AS o1, p.event_id::text AS o2
FROM page p JOIN event_search_doc o ON o.event_id = p.event_id
UNION ALL
SELECT CASE f.g WHEN 3 THEN 't' WHEN 5 THEN 'c' WHEN 6 THEN 'd' ELSE 'n' END, NULL, f.n, NULL,
       NULL, f.v, CASE f.g WHEN 6 THEN (f.local_date - DATE '2000-01-01')::numeric ELSE -f.n END,
       f.v
FROM (SELECT x.*, CASE x.g WHEN 3 THEN x.event_type WHEN 5 THEN x.city
                           WHEN 6 THEN x.local_date::text END AS v
      FROM facets x) f
ORDER BY 1, 7, 8

-- name: search_ranked
-- A page of public events in relevance or distance order, or the first page of a text
-- search in date or popularity order: every match is read once and ranked (materialized),
-- the page is the top of the order after the cursor, and on a first page the facets count
-- the same matches. The score is the weighted rank (name 1.0,
-- performers 0.4, venue and city 0.2, the rest 0.1) of the tolerant query plus twice that
-- of the exact words $22 (an exact word outranks its typo variants) plus a small
-- popularity term, rounded so the cursor carries it exactly.
--  $1 tolerant tsquery, $2 folded query text (both NULL: no text), $3 city, $4 event
--  types (text[]), $5/$6 from/to instants (to exclusive), $7/$8 from/to local dates
--  (inclusive), $9/$10 latitude/longitude, $11 radius in metres, $12/$13 price bounds in
--  minor units of currency $14, $15 has availability, $16 only events that have not ended,
--  $17 sort, $18/$19 the cursor (sort key, event id) of the previous page's last row, $20
--  page size, $21 count facets (a first page).
-- k: minus the score, the distance in metres, or as in search_ordered.
-- Rows, hits first: kind 'h' (id, k, score, distance, document) in order, then facets
-- when $21: kind 'n' (the total in k), 't' (event types by count), 'c' (cities by count),
-- 'd' (local start dates in order), each with its value and its count in k.
WITH hits AS NOT MATERIALIZED (
    SELECT d.event_id, d.event_type, d.city, d.city_key, d.local_date, d.starts_at,
           d.popularity, d.tsv,
           CASE WHEN $9::float8 IS NULL THEN NULL
                ELSE round(bx_geo_distance_m($9::float8, $10::float8, d.latitude,
                                             d.longitude)::numeric, 1) END AS dist
    FROM event_search d
    WHERE d.visible
      AND (NOT $16::boolean OR (d.ends_at > now() AND d.starts_at > now() - interval '32 days'))
      AND ($1::tsquery IS NULL OR d.tsv @@ $1::tsquery OR $2::text <% d.search_text)
      AND ($3::text IS NULL OR d.city_key = bx_search_fold($3::text))
      AND ($4::text[] IS NULL OR d.event_type = ANY ($4::text[]))
      AND ($5::timestamptz IS NULL OR d.starts_at >= $5::timestamptz)
      AND ($6::timestamptz IS NULL OR d.starts_at < $6::timestamptz)
      AND ($7::date IS NULL OR (d.local_date >= $7::date
           AND d.starts_at >= ($7::date - 1)::timestamp AT TIME ZONE 'UTC'))
      AND ($8::date IS NULL OR (d.local_date <= $8::date
           AND d.starts_at < ($8::date + 2)::timestamp AT TIME ZONE 'UTC'))
      AND ($9::float8 IS NULL OR (
              (d.geo <@ bx_geo_box($9::float8, $10::float8, $11::float8, 1)
               OR d.geo <@ bx_geo_box($9::float8, $10::float8, $11::float8, 2))
              AND bx_geo_distance_m($9::float8, $10::float8, d.latitude, d.longitude)
                  <= $11::float8))
      AND ($12::bigint IS NULL AND $13::bigint IS NULL OR (
              d.currency = $14::text
              AND d.price_max_minor >= coalesce($12::bigint, 0)
              AND d.price_min_minor <= coalesce($13::bigint, 9223372036854775807)
              AND EXISTS (SELECT 1 FROM unnest(d.prices) p
                          WHERE p BETWEEN coalesce($12::bigint, 0)
                                      AND coalesce($13::bigint, 9223372036854775807))))
      AND ($14::text IS NULL OR d.currency = $14::text)
      AND ($15::boolean IS NULL OR d.has_availability = $15::boolean)
), ranked AS MATERIALIZED (
    SELECT h.event_id, h.event_type, h.city, h.city_key, h.local_date, h.dist, h.popularity,
           (extract(epoch FROM h.starts_at) * 1000000)::numeric AS start_us,
           CASE WHEN $17::text = 'relevance' THEN
               round((ts_rank('{0.1, 0.2, 0.4, 1.0}', h.tsv, $1::tsquery)
                      + 2 * ts_rank('{0.1, 0.2, 0.4, 1.0}', h.tsv, $22::tsquery)
                      + 0.01 * ln(1 + h.popularity))::numeric, 6) END AS score
    FROM hits h
), page AS (
    SELECT r.event_id, r.k, r.score, r.dist
    FROM (SELECT r.*, CASE $17::text WHEN 'relevance' THEN -r.score
                                     WHEN 'distance' THEN r.dist
                                     WHEN 'date' THEN r.start_us
                                     ELSE (-r.popularity)::numeric END AS k
          FROM ranked r) r
    WHERE $18::numeric IS NULL OR (r.k, r.event_id) > ($18::numeric, $19::uuid)
    ORDER BY r.k, r.event_id
    LIMIT $20::int
), facets AS (
    SELECT h.event_type, min(h.city) AS city, h.local_date,
           GROUPING(h.event_type, h.city_key, h.local_date) AS g, count(*) AS n
    FROM ranked h
    WHERE $21::boolean
    GROUP BY GROUPING SETS ((h.event_type), (h.city_key), (h.local_date), ())
)
SELECT 'h' AS kind, p.event_id::text AS id, p.k, p.score, p.dist, o.doc::text,
       p.k AS o1, p.event_id::text AS o2
FROM page p JOIN event_search_doc o ON o.event_id = p.event_id
UNION ALL
SELECT CASE f.g WHEN 3 THEN 't' WHEN 5 THEN 'c' WHEN 6 THEN 'd' ELSE 'n' END, NULL, f.n, NULL,
       NULL, f.v, CASE f.g WHEN 6 THEN (f.local_date - DATE '2000-01-01')::numeric ELSE -f.n END,
       f.v
FROM (SELECT x.*, CASE x.g WHEN 3 THEN x.event_type WHEN 5 THEN x.city
                           WHEN 6 THEN x.local_date::text END AS v
      FROM facets x) f
ORDER BY 1, 7, 8
