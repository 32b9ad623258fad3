-- search-data.sql: the bench catalog for bench/search.sh, generated in SQL on a migrated,
-- empty database: 41 cities on five continents, 12 venues per city (cinemas, arenas,
-- theatres, clubs, congress centres) with general-admission halls, and :events events
-- (psql variable, 100000 by default in search.sh) of every type from a month ago to ten
-- months ahead, with performers, descriptions, one to three price tiers, sales (some sold
-- out) and a status mix (85% on sale, 7% published, 5% draft, 3% cancelled). Names come
-- from word lists so that the vocabulary is realistic: recurring band names, film titles,
-- plays and teams. Deterministic (setseed), so two runs search the same data.
-- Run: psql -v events=100000 -f search-data.sql; then index with bx_search_refresh.
\set ON_ERROR_STOP on
SELECT setseed(0.42);

CREATE TEMP TABLE b_city (n INT PRIMARY KEY, name TEXT, country TEXT, tz TEXT, lat FLOAT8,
                          lon FLOAT8, currency TEXT);
INSERT INTO b_city VALUES
 (0,'Berlin','DE','Europe/Berlin',52.520,13.405,'EUR'), (1,'Hamburg','DE','Europe/Berlin',53.551,9.993,'EUR'),
 (2,'München','DE','Europe/Berlin',48.137,11.575,'EUR'), (3,'Köln','DE','Europe/Berlin',50.937,6.960,'EUR'),
 (4,'Frankfurt am Main','DE','Europe/Berlin',50.110,8.682,'EUR'), (5,'Wien','AT','Europe/Vienna',48.208,16.373,'EUR'),
 (6,'Zürich','CH','Europe/Zurich',47.377,8.541,'CHF'), (7,'Paris','FR','Europe/Paris',48.857,2.352,'EUR'),
 (8,'Lyon','FR','Europe/Paris',45.764,4.835,'EUR'), (9,'Madrid','ES','Europe/Madrid',40.417,-3.704,'EUR'),
 (10,'Barcelona','ES','Europe/Madrid',41.385,2.173,'EUR'), (11,'Lisboa','PT','Europe/Lisbon',38.722,-9.139,'EUR'),
 (12,'Roma','IT','Europe/Rome',41.903,12.496,'EUR'), (13,'Milano','IT','Europe/Rome',45.464,9.190,'EUR'),
 (14,'Amsterdam','NL','Europe/Amsterdam',52.368,4.904,'EUR'), (15,'Bruxelles','BE','Europe/Brussels',50.850,4.352,'EUR'),
 (16,'København','DK','Europe/Copenhagen',55.676,12.568,'DKK'), (17,'Stockholm','SE','Europe/Stockholm',59.329,18.069,'SEK'),
 (18,'Oslo','NO','Europe/Oslo',59.914,10.752,'NOK'), (19,'Helsinki','FI','Europe/Helsinki',60.170,24.940,'EUR'),
 (20,'Warszawa','PL','Europe/Warsaw',52.230,21.012,'PLN'), (21,'Praha','CZ','Europe/Prague',50.075,14.438,'CZK'),
 (22,'Budapest','HU','Europe/Budapest',47.498,19.040,'HUF'), (23,'London','GB','Europe/London',51.507,-0.128,'GBP'),
 (24,'Manchester','GB','Europe/London',53.480,-2.242,'GBP'), (25,'Dublin','IE','Europe/Dublin',53.350,-6.260,'EUR'),
 (26,'Edinburgh','GB','Europe/London',55.953,-3.189,'GBP'), (27,'New York','US','America/New_York',40.713,-74.006,'USD'),
 (28,'Chicago','US','America/Chicago',41.878,-87.630,'USD'), (29,'Los Angeles','US','America/Los_Angeles',34.052,-118.244,'USD'),
 (30,'San Francisco','US','America/Los_Angeles',37.775,-122.419,'USD'), (31,'Toronto','CA','America/Toronto',43.653,-79.383,'CAD'),
 (32,'Montréal','CA','America/Toronto',45.502,-73.567,'CAD'), (33,'Mexico City','MX','America/Mexico_City',19.433,-99.133,'MXN'),
 (34,'São Paulo','BR','America/Sao_Paulo',-23.550,-46.633,'BRL'), (35,'Buenos Aires','AR','America/Argentina/Buenos_Aires',-34.604,-58.382,'ARS'),
 (36,'Tokyo','JP','Asia/Tokyo',35.676,139.650,'JPY'), (37,'Sydney','AU','Australia/Sydney',-33.869,151.209,'AUD'),
 (38,'Auckland','NZ','Pacific/Auckland',-36.848,174.763,'NZD'), (39,'Singapore','SG','Asia/Singapore',1.352,103.820,'SGD'),
 (40,'Cape Town','ZA','Africa/Johannesburg',-33.925,18.424,'ZAR');

-- Venue kinds: what they host and how big their halls are.
CREATE TEMP TABLE b_kind (n INT PRIMARY KEY, kind TEXT, label TEXT, halls INT, cap INT);
INSERT INTO b_kind VALUES
 (0,'cinema','Cinema',6,300), (1,'arena','Arena',1,15000), (2,'theater','Theatre',2,900),
 (3,'club','Club',1,600), (4,'congress','Congress Centre',3,1500), (5,'stadium','Stadium',1,40000);

CREATE TEMP TABLE b_words (list TEXT, n INT, w TEXT, PRIMARY KEY (list, n));
INSERT INTO b_words SELECT 'adj', o - 1, w FROM unnest(string_to_array(
 'Electric,Midnight,Silver,Golden,Crimson,Velvet,Wild,Neon,Frozen,Burning,Silent,Broken,Lonely,'
 'Cosmic,Northern,Southern,Hollow,Restless,Savage,Gentle,Iron,Crystal,Scarlet,Purple,Black,White,'
 'Blue,Green,Royal,Lucky,Dancing,Flying,Sleeping,Hidden,Eternal,Wandering,Atomic,Radio,Paper,Stone',
 ',')) WITH ORDINALITY AS t(w, o);
INSERT INTO b_words SELECT 'noun', o - 1, w FROM unnest(string_to_array(
 'Wolves,Harbor,Rivers,Kings,Queens,Tigers,Hearts,Ghosts,Pilots,Riders,Dreamers,Strangers,Machines,'
 'Echoes,Lanterns,Sparrows,Mountains,Oceans,Shadows,Comets,Horses,Foxes,Ravens,Lions,Sailors,Saints,'
 'Monkeys,Engines,Mirrors,Satellites,Owls,Bandits,Orchids,Giants,Poets,Rebels,Twins,Drifters,Hunters,Knights',
 ',')) WITH ORDINALITY AS t(w, o);
INSERT INTO b_words SELECT 'genre', o - 1, w FROM unnest(string_to_array(
 'rock,jazz,pop,techno,blues,folk,metal,hip hop,classical,soul,indie,punk,reggae,electronic,country',
 ',')) WITH ORDINALITY AS t(w, o);
INSERT INTO b_words SELECT 'play', o - 1, w FROM unnest(string_to_array(
 'Hamlet|Romeo and Juliet|Macbeth|King Lear|Othello|The Tempest|A Midsummer Night''s Dream|'
 'Faust|The Seagull|Uncle Vanya|Three Sisters|The Cherry Orchard|Death of a Salesman|'
 'A Streetcar Named Desire|Waiting for Godot|The Importance of Being Earnest|Les Misérables|'
 'The Phantom of the Opera|Cats|Wicked|Chicago|Cabaret|Mamma Mia|The Lion King|Hedda Gabler|'
 'A Doll''s House|Peer Gynt|Woyzeck|The Threepenny Opera|Carmen|La Traviata|Die Zauberflöte|'
 'Swan Lake|The Nutcracker|Giselle|Tosca|Aida|Don Giovanni|Rigoletto|Le Nozze di Figaro',
 '|')) WITH ORDINALITY AS t(w, o);
INSERT INTO b_words SELECT 'team', o - 1, w FROM unnest(string_to_array(
 'Bears,Lions,Eagles,Sharks,Titans,Rangers,United,Rovers,Wanderers,Falcons,Hawks,Bulls,Panthers,'
 'Dragons,Vikings,Warriors,Giants,Stars,Comets,Thunder',
 ',')) WITH ORDINALITY AS t(w, o);
INSERT INTO b_words SELECT 'sport', o - 1, w FROM unnest(string_to_array(
 'Football,Basketball,Ice Hockey,Handball,Volleyball,Rugby,Baseball,Tennis,Boxing,Athletics',
 ',')) WITH ORDINALITY AS t(w, o);
INSERT INTO b_words SELECT 'topic', o - 1, w FROM unnest(string_to_array(
 'Cloud Native,Data Science,Open Source,FinTech,Climate Tech,Machine Learning,Cyber Security,'
 'Product Management,Web Performance,Databases,Robotics,Health Tech,Game Development,Design Systems,'
 'Quantum Computing,DevOps,Mobile,Blockchain,Space Industry,Urban Mobility',
 ',')) WITH ORDINALITY AS t(w, o);
INSERT INTO b_words SELECT 'first', o - 1, w FROM unnest(string_to_array(
 'Anna,Ben,Clara,David,Elena,Felix,Greta,Hugo,Ines,Jonas,Karin,Leon,Maria,Noah,Olga,Paul,Rosa,'
 'Samuel,Tara,Victor,Yara,Zoe,Amélie,Björn,Chiara,Dmitri,Emeka,Fatima,Giulia,Hiro',
 ',')) WITH ORDINALITY AS t(w, o);
INSERT INTO b_words SELECT 'last', o - 1, w FROM unnest(string_to_array(
 'Müller,Schmidt,García,Rossi,Dubois,Smith,Jones,Kowalski,Novak,Jensen,Larsen,Nakamura,Silva,'
 'Santos,Walsh,O''Brien,Martin,Bernard,Fischer,Weber,Costa,Ferreira,Tanaka,Kim,Nguyen,Cohen,'
 'Andersson,Virtanen,Horváth,Dvořák',
 ',')) WITH ORDINALITY AS t(w, o);

CREATE TEMP TABLE b_lists AS SELECT list, count(*)::int AS n FROM b_words GROUP BY list;
CREATE FUNCTION pg_temp.b_w(l TEXT, i INT) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT w.w FROM pg_temp.b_words w JOIN pg_temp.b_lists s ON s.list = w.list
    WHERE w.list = l AND w.n = i % s.n
$$;

INSERT INTO organizations (id, name)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'Bench Promoter ' || g
FROM generate_series(1, 5) g;

-- 12 venues per city: 4 cinemas, 2 arenas, 2 theatres, 2 clubs, 1 congress centre, 1 stadium.
CREATE TEMP TABLE b_venue AS
SELECT ('00000000-0000-7001-8000-' || lpad(to_hex(c.n * 100 + v), 12, '0'))::uuid AS id,
       c.n AS city, v,
       (ARRAY[0,0,0,0,1,1,2,2,3,3,4,5])[v + 1] AS kind
FROM b_city c, generate_series(0, 11) v;

INSERT INTO venues (id, org_id, name, address, city, country, latitude, longitude, time_zone,
                    capacity)
SELECT bv.id, ('00000000-0000-7000-8000-' || lpad(to_hex(1 + (bv.city + bv.v) % 5), 12, '0'))::uuid,
       pg_temp.b_w('adj', bv.city * 7 + bv.v) || ' ' || k.label || ' ' || c.name,
       (10 + bv.v * 7) || ' ' || pg_temp.b_w('last', bv.city + bv.v) || ' Street', c.name, c.country,
       c.lat + (random() - 0.5) * 0.2, c.lon + (random() - 0.5) * 0.3, c.tz,
       k.cap * k.halls
FROM b_venue bv JOIN b_city c ON c.n = bv.city JOIN b_kind k ON k.n = bv.kind;

CREATE TEMP TABLE b_hall AS
SELECT ('00000000-0000-7002-8000-' || lpad(to_hex((c.n * 100 + bv.v) * 10 + h), 12, '0'))::uuid AS id,
       bv.id AS venue, bv.city, bv.kind, h,
       ('00000000-0000-7003-8000-' || lpad(to_hex((c.n * 100 + bv.v) * 10 + h), 12, '0'))::uuid AS layout,
       ('00000000-0000-7004-8000-' || lpad(to_hex((c.n * 100 + bv.v) * 10 + h), 12, '0'))::uuid AS floor,
       ('00000000-0000-7005-8000-' || lpad(to_hex((c.n * 100 + bv.v) * 10 + h), 12, '0'))::uuid AS balcony,
       k.cap
FROM b_venue bv JOIN b_city c ON c.n = bv.city JOIN b_kind k ON k.n = bv.kind,
     generate_series(0, k.halls - 1) h;
ALTER TABLE b_hall ADD COLUMN i SERIAL;

INSERT INTO halls (id, venue_id, name, kind)
SELECT id, venue, CASE WHEN kind = 0 THEN 'Screen ' ELSE 'Hall ' END || (h + 1),
       CASE WHEN kind = 0 THEN 'screen' WHEN kind IN (1, 5) THEN 'arena' ELSE 'hall' END
FROM b_hall;
INSERT INTO layouts (id, hall_id, version, seat_count, ga_capacity)
SELECT layout, id, 1, 0, cap FROM b_hall;
INSERT INTO layout_sections (id, layout_id, code, name, kind, capacity, position)
SELECT floor, layout, 'FLOOR', 'Floor', 'ga', cap * 3 / 4, 1 FROM b_hall
UNION ALL
SELECT balcony, layout, 'BALC', 'Balcony', 'ga', cap - cap * 3 / 4, 2 FROM b_hall;

-- Events: spread over the halls, one every three days per hall, so no two overlap.
CREATE TEMP TABLE b_event AS
SELECT ('00000000-0000-7006-8000-' || lpad(to_hex(g), 12, '0'))::uuid AS id, g,
       h.id AS hall, h.venue, h.city, h.kind, h.layout, h.floor, h.balcony, h.cap,
       (g / (SELECT count(*) FROM b_hall))::int AS slot, random() AS r1, random() AS r2,
       random() AS r3
FROM generate_series(0, :events - 1) g
JOIN b_hall h ON h.i = 1 + g % (SELECT count(*) FROM b_hall);

INSERT INTO events (id, org_id, venue_id, hall_id, layout_id, event_type, name, description,
                    performers, starts_at, ends_at, currency, status, published_at,
                    cancelled_at)
SELECT e.id, v.org_id, e.venue, e.hall, e.layout, t.type, t.name,
       t.name || ': ' || t.blurb || ' at ' || v.name || ', ' || c.name || '.',
       t.performers, s.starts, s.starts + t.len, c.currency,
       CASE WHEN e.r3 < 0.85 THEN 'on_sale' WHEN e.r3 < 0.92 THEN 'published'
            WHEN e.r3 < 0.97 THEN 'draft' ELSE 'cancelled' END,
       CASE WHEN e.r3 < 0.92 THEN now() - interval '40 days' END,
       CASE WHEN e.r3 >= 0.97 THEN now() - interval '1 day' END
FROM b_event e
JOIN venues v ON v.id = e.venue
JOIN b_city c ON c.n = e.city
CROSS JOIN LATERAL (
    SELECT ((current_date - 30 + e.slot * 3 + e.g % 3)::timestamp
            + make_interval(hours => 11 + e.g % 10)) AT TIME ZONE c.tz AS starts
) s
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN e.kind = 0 THEN 'movie'
        WHEN e.kind IN (1, 5) THEN CASE WHEN e.r1 < 0.5 THEN 'sports' ELSE 'concert' END
        WHEN e.kind = 2 THEN CASE WHEN e.r1 < 0.8 THEN 'theater' ELSE 'concert' END
        WHEN e.kind = 3 THEN 'concert'
        ELSE CASE WHEN e.r1 < 0.85 THEN 'conference' ELSE 'concert' END END AS type
) ty
CROSS JOIN LATERAL (
    SELECT ty.type,
           CASE ty.type
             WHEN 'movie' THEN 'The ' || pg_temp.b_w('adj', e.g / 7) || ' ' || pg_temp.b_w('noun', e.g / 3)
                               || CASE WHEN e.g % 5 = 0 THEN ' (OV)' ELSE '' END
             WHEN 'concert' THEN 'The ' || pg_temp.b_w('adj', e.g / 11) || ' ' || pg_temp.b_w('noun', e.g / 13)
                                 || CASE e.g % 4 WHEN 0 THEN ' Live' WHEN 1 THEN ' World Tour '
                                    || (2026 + e.g % 2) WHEN 2 THEN ' in Concert' ELSE '' END
             WHEN 'sports' THEN c.name || ' ' || pg_temp.b_w('team', e.g) || ' vs ' ||
                                (SELECT name FROM b_city WHERE n = (e.city + 1 + e.g % 40) % 41)
                                || ' ' || pg_temp.b_w('team', e.g / 20)
             WHEN 'theater' THEN pg_temp.b_w('play', e.g / 3)
             ELSE pg_temp.b_w('topic', e.g / 5) || ' Summit ' || (2026 + e.g % 2) END AS name,
           CASE ty.type
             WHEN 'movie' THEN 'A ' || pg_temp.b_w('genre', e.g) || '-scored drama about ' ||
                               lower(pg_temp.b_w('noun', e.g / 2)) || ' and ' || lower(pg_temp.b_w('noun', e.g / 5))
             WHEN 'concert' THEN 'An evening of ' || pg_temp.b_w('genre', e.g / 13) || ' with support acts'
             WHEN 'sports' THEN pg_temp.b_w('sport', e.g / 41) || ' league match'
             WHEN 'theater' THEN 'A new production directed by ' || pg_temp.b_w('first', e.g) || ' '
                                 || pg_temp.b_w('last', e.g / 30)
             ELSE 'Two days of talks and workshops on ' || lower(pg_temp.b_w('topic', e.g / 5)) END AS blurb,
           CASE ty.type
             WHEN 'concert' THEN jsonb_build_array(
                 jsonb_build_object('name', 'The ' || pg_temp.b_w('adj', e.g / 11) || ' ' || pg_temp.b_w('noun', e.g / 13),
                                    'role', 'headliner'),
                 jsonb_build_object('name', pg_temp.b_w('first', e.g / 3) || ' ' || pg_temp.b_w('last', e.g / 7),
                                    'role', 'support'))
             WHEN 'movie' THEN jsonb_build_array(
                 jsonb_build_object('name', pg_temp.b_w('first', e.g / 3) || ' ' || pg_temp.b_w('last', e.g / 5),
                                    'role', 'lead'),
                 jsonb_build_object('name', pg_temp.b_w('first', e.g / 11) || ' ' || pg_temp.b_w('last', e.g / 13),
                                    'role', 'director'))
             WHEN 'theater' THEN jsonb_build_array(
                 jsonb_build_object('name', pg_temp.b_w('first', e.g / 2) || ' ' || pg_temp.b_w('last', e.g / 9),
                                    'role', 'cast'))
             WHEN 'conference' THEN jsonb_build_array(
                 jsonb_build_object('name', pg_temp.b_w('first', e.g / 4) || ' ' || pg_temp.b_w('last', e.g / 6),
                                    'role', 'keynote'))
             ELSE '[]'::jsonb END AS performers,
           CASE ty.type WHEN 'movie' THEN interval '2 hours' WHEN 'conference' THEN interval '9 hours'
                        ELSE interval '3 hours' END AS len
) t;

-- Tiers: the floor always, the balcony for two events in three (a third, cheaper "reduced"
-- floor tier shares nothing: one tier per GA area).
CREATE TEMP TABLE b_tier AS
SELECT e.id AS event, ('00000000-0000-7007-8000-' || lpad(to_hex(e.g * 2), 12, '0'))::uuid AS id,
       'Floor' AS name, e.floor AS section, e.cap * 3 / 4 AS capacity,
       ((CASE e.kind WHEN 0 THEN 900 WHEN 3 THEN 2500 WHEN 4 THEN 39900 ELSE 4900 END)
        * (1 + e.r2 * 2))::bigint / 100 * 100 AS price, e.r2, e.r3, e.g
FROM b_event e
UNION ALL
SELECT e.id, ('00000000-0000-7007-8000-' || lpad(to_hex(e.g * 2 + 1), 12, '0'))::uuid,
       'Balcony', e.balcony, e.cap - e.cap * 3 / 4,
       ((CASE e.kind WHEN 0 THEN 1400 WHEN 3 THEN 3500 WHEN 4 THEN 59900 ELSE 8900 END)
        * (1 + e.r2 * 2))::bigint / 100 * 100, e.r2, e.r3, e.g
FROM b_event e WHERE e.g % 3 <> 0;

INSERT INTO ticket_tiers (id, event_id, name, kind, price_minor, currency, ga_section_id, capacity)
SELECT t.id, t.event, t.name, 'ga', t.price, ev.currency, t.section, t.capacity
FROM b_tier t JOIN events ev ON ev.id = t.event;

-- Inventory of published events; sales follow a skewed curve, one event in twenty sold out.
INSERT INTO event_ga (event_id, tier_id, section_id, capacity, sold)
SELECT t.event, t.id, t.section, t.capacity,
       CASE WHEN t.g % 20 = 0 THEN t.capacity
            ELSE least(t.capacity, (t.capacity * (t.r2 ^ 3)))::int END
FROM b_tier t JOIN events ev ON ev.id = t.event
WHERE ev.status IN ('published', 'on_sale', 'cancelled');

ANALYZE;
