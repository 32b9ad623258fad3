/* bxctl demo: the catalog half of `bxctl seed`. The demo catalog: five cities (London,
 * Mumbai, New York, Berlin, São Paulo), a 60,000-seat stadium of 40 sections, an 8-screen
 * multiplex whose daily showtimes come from recurring series, a theatre, a
 * general-admission club and a congress centre, events of every type with price tiers,
 * published with their inventory, plus featured events, promotions and news. It is built
 * through the catalog's own named queries (what the API would have written, outbox rows
 * included), in one transaction, once: a fixed stadium id marks it as loaded. The
 * benchmark catalog (`--events N`) is set-based SQL (sql/queries/demo.sql) that tops a
 * separate organization up to N published general-admission events across twelve
 * cities, in chunks of S_BENCH_CHUNK events per transaction. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_json.h"
#include "bx_util.h"
#include "bxctl.h"

static const char *const S_CMD = "seed";

#define S_STADIUM_ID   "01900000-0000-7000-8000-00000000d001" /* its presence: demo loaded */
#define S_BENCH_ORG    "01900000-0000-7000-8000-000000000002"
#define S_BENCH_NAME   "Benchmark Promotions"
#define S_BENCH_VENUES 150   /* 300 halls: 100,000 events fit in under six months */
#define S_BENCH_CHUNK  20000 /* events per transaction */

/* A city of the demo and the benchmark catalogs; mult turns GBP prices into its currency's
 * minor units, roughly. */
typedef struct {
    const char *city, *country, *tz, *currency; /* name, ISO 3166, IANA zone, ISO 4217 */
    double lat, lon, mult;                      /* centre, price multiplier */
} s_city_t;

static const s_city_t s_cities[] = {
    {"London", "GB", "Europe/London", "GBP", 51.5072, -0.1276, 1.0},
    {"Mumbai", "IN", "Asia/Kolkata", "INR", 19.0760, 72.8777, 105.0},
    {"New York", "US", "America/New_York", "USD", 40.7128, -74.0060, 1.27},
    {"Berlin", "DE", "Europe/Berlin", "EUR", 52.5200, 13.4050, 1.17},
    {"São Paulo", "BR", "America/Sao_Paulo", "BRL", -23.5505, -46.6333, 6.9},
    {"Tokyo", "JP", "Asia/Tokyo", "JPY", 35.6762, 139.6503, 1.9},
    {"Sydney", "AU", "Australia/Sydney", "AUD", -33.8688, 151.2093, 1.95},
    {"Toronto", "CA", "America/Toronto", "CAD", 43.6532, -79.3832, 1.75},
    {"Paris", "FR", "Europe/Paris", "EUR", 48.8566, 2.3522, 1.17},
    {"Mexico City", "MX", "America/Mexico_City", "MXN", 19.4326, -99.1332, 23.0},
    {"Cape Town", "ZA", "Africa/Johannesburg", "ZAR", -33.9249, 18.4241, 23.0},
    {"Singapore", "SG", "Asia/Singapore", "SGD", 1.3521, 103.8198, 1.7},
};
enum { S_LONDON, S_MUMBAI, S_NEW_YORK, S_BERLIN, S_SAO_PAULO };
#define S_NCITIES (sizeof s_cities / sizeof s_cities[0])

/* A section of a hall: seated rows x seats, or a general-admission capacity. */
typedef struct {
    const char *code, *name; /* section code and name */
    int rows, seats;         /* seated block */
    int capacity;            /* GA area when > 0 */
} s_sec_t;

/* A price tier: seated over sections (comma-separated codes) or GA units of one area. */
typedef struct {
    const char *name;     /* tier name */
    long price;           /* minor units of the event's currency */
    const char *sections; /* seated: "101,102" */
    const char *ga;       /* GA: area code */
    int capacity;         /* GA: units */
} s_tier_t;

/* Where an event takes place. */
typedef struct {
    char venue[BX_UUID_LEN + 1];  /* venue id */
    char hall[BX_UUID_LEN + 1];   /* hall id */
    char layout[BX_UUID_LEN + 1]; /* its layout version 1 */
    int city;                     /* index in s_cities */
} s_place_t;

/* An event to make: what, when (days from today, local time), how long, how priced. */
typedef struct {
    const char *type, *name, *description, *performer, *role;
    int day;          /* days from today */
    const char *time; /* local "HH:MM" */
    int minutes;      /* duration */
    const s_tier_t *tiers;
    int ntiers;
} s_event_t;

/* ---- queries ---- */

/* Runs a named query; returns the result (caller clears) or NULL after printing why. */
static PGresult *s_q(bx_pg_t *pg, const char *name, int n, const char *const *p)
{
    bx_err_t err;
    PGresult *res = bx_pg_query(pg, name, n, p, &err);
    if (!res)
        bxctl_err(S_CMD, "could not load demo data (%s): %s", name, bx_pg_error(pg));
    return res;
}

static int s_run(bx_pg_t *pg, const char *name, int n, const char *const *p)
{
    PGresult *res = s_q(pg, name, n, p);
    PQclear(res);
    return res ? 0 : -1;
}

/* Runs a named query with one JSON parameter in position at (stolen). */
static int s_run_json(bx_pg_t *pg, const char *name, int n, const char **p, int at, json_t *j)
{
    char *text = j ? bx_json_dump(j) : NULL;
    json_decref(j);
    if (!text) {
        bxctl_err(S_CMD, "out of memory");
        return -1;
    }
    p[at] = text;
    int rc = s_run(pg, name, n, p);
    free(text);
    return rc;
}

static int s_outbox(bx_pg_t *pg, const char *topic, const char *id, const char *action)
{
    const char *p[3] = {topic, id, NULL};
    return s_run_json(
        pg, "cat_outbox_insert", 3, p, 2,
        json_pack("{s:s, s:s, s:s}", "id", id, "action", action, "request_id", "bxctl-seed"));
}

/* ---- places ---- */

static int s_venue(bx_pg_t *pg, const char *org, const char *id, int city, const char *name,
                   const char *address, int capacity, s_place_t *out)
{
    const s_city_t *c = &s_cities[city];
    if (id)
        bx_strlcpy(out->venue, id, sizeof out->venue);
    else
        bx_uuid_v7(out->venue);
    out->city = city;
    const char *p[3] = {out->venue, org, NULL};
    json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:s, s:i}", "name", name, "address",
                          address, "city", c->city, "country", c->country, "latitude", c->lat,
                          "longitude", c->lon, "time_zone", c->tz, "capacity", capacity);
    if (s_run_json(pg, "cat_venue_insert", 3, p, 2, b))
        return -1;
    return s_outbox(pg, "venue.updated", out->venue, "created");
}

/* Adds a hall with layout version 1 made of the sections; bowl places them in a ring. */
static int s_hall(bx_pg_t *pg, s_place_t *pl, const char *name, const char *kind,
                  const s_sec_t *secs, int n, int bowl)
{
    json_t *list = json_array();
    for (int i = 0; list && i < n; i++) {
        json_t *s = secs[i].capacity > 0
                        ? json_pack("{s:s, s:s, s:i}", "code", secs[i].code, "name", secs[i].name,
                                    "capacity", secs[i].capacity)
                        : json_pack("{s:s, s:s, s:i, s:i}", "code", secs[i].code, "name",
                                    secs[i].name, "rows", secs[i].rows, "seats", secs[i].seats);
        json_array_append_new(list, s);
    }
    bx_uuid_v7(pl->hall);
    bx_uuid_v7(pl->layout);
    const char *h[4] = {pl->hall, pl->venue, name, kind};
    const char *p[3] = {pl->layout, pl->hall, NULL};
    if (s_run(pg, "cat_hall_insert", 4, h))
        return -1;
    return s_run_json(pg, "demo_layout", 3, p, 2,
                      json_pack("{s:b, s:o}", "bowl", bowl, "sections", list));
}

/* ---- events ---- */

/* The tier template as POST /events/{id}/tiers takes it. */
static json_t *s_tier_json(const s_tier_t *t)
{
    json_t *j = json_pack("{s:s, s:s, s:I}", "name", t->name, "kind", t->ga ? "ga" : "seated",
                          "price_minor", (json_int_t)t->price);
    if (j && t->ga) {
        json_object_set_new(j, "section", json_string(t->ga));
        json_object_set_new(j, "capacity", json_integer(t->capacity));
    } else if (j) {
        json_t *codes = json_array();
        for (const char *c = t->sections; codes && *c;) {
            size_t n = strcspn(c, ",");
            json_array_append_new(codes, json_stringn(c, n));
            c += n + (c[n] == ',');
        }
        json_object_set_new(j, "sections", codes);
    }
    return j;
}

static int s_tier(bx_pg_t *pg, const char *event, const s_place_t *pl, const s_tier_t *t)
{
    char id[BX_UUID_LEN + 1], section[BX_UUID_LEN + 1] = "";
    json_t *j = s_tier_json(t);
    json_t *codes = json_incref(json_object_get(j, "sections"));
    json_object_del(j, "sections");
    json_object_del(j, "section");
    if (t->ga) {
        const char *q[2] = {pl->layout, t->ga};
        PGresult *res = s_q(pg, "demo_ga_section", 2, q);
        if (res && PQntuples(res) == 1)
            bx_strlcpy(section, bx_pg_val(res, 0, 0), sizeof section);
        PQclear(res);
    }
    bx_uuid_v7(id);
    const char *p[4] = {id, NULL, t->ga ? section : NULL, event};
    if (s_run_json(pg, "cat_tier_insert", 4, p, 1, j) || (t->ga && !section[0])) {
        json_decref(codes);
        return -1;
    }
    const char *m[4] = {event, id, NULL, pl->layout};
    return t->ga ? 0 : s_run_json(pg, "cat_tier_map_sections", 4, m, 2, codes);
}

/* Materializes the inventory and marks the event published, as POST .../publish does. */
static int s_publish(bx_pg_t *pg, const char *event)
{
    const char *p[1] = {event};
    if (s_run(pg, "cat_pub_seats", 1, p) || s_run(pg, "cat_pub_ga", 1, p) ||
        s_run(pg, "cat_pub_mark", 1, p))
        return -1;
    return s_outbox(pg, "event.published", event, "published");
}

/* Creates and publishes e at pl from starts to ends (RFC 3339), in series (may be NULL). */
static int s_event_at(bx_pg_t *pg, const char *org, const s_place_t *pl, const s_event_t *e,
                      const char *series, const char *starts, const char *ends, char *id_out)
{
    char id[BX_UUID_LEN + 1];
    bx_uuid_v7(id);
    const char *p[9] = {id, org, pl->venue, pl->hall, pl->layout, series, starts, ends, NULL};
    json_t *b = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}], s:s}", "event_type", e->type, "name",
                          e->name, "description", e->description, "performers", "name",
                          e->performer, "role", e->role, "currency", s_cities[pl->city].currency);
    if (s_run_json(pg, "cat_event_insert", 9, p, 8, b))
        return -1;
    for (int i = 0; i < e->ntiers; i++)
        if (s_tier(pg, id, pl, &e->tiers[i]))
            return -1;
    if (id_out)
        bx_strlcpy(id_out, id, BX_UUID_LEN + 1);
    return s_publish(pg, id);
}

/* Creates and publishes e on its day and time, local to pl's city. */
static int s_event(bx_pg_t *pg, const char *org, const s_place_t *pl, const s_event_t *e,
                   char *id_out)
{
    char day[16], minutes[16];
    snprintf(day, sizeof day, "%d", e->day);
    snprintf(minutes, sizeof minutes, "%d", e->minutes);
    const char *p[4] = {day, e->time, s_cities[pl->city].tz, minutes};
    PGresult *res = s_q(pg, "demo_when", 4, p);
    int rc =
        res ? s_event_at(pg, org, pl, e, NULL, bx_pg_val(res, 0, 0), bx_pg_val(res, 0, 1), id_out)
            : -1;
    PQclear(res);
    return rc;
}

/* ---- the demo places ---- */

static int s_stadium(bx_pg_t *pg, const char *org, char featured[BX_UUID_LEN + 1])
{
    static const s_tier_t tiers_match[] = {
        {"Category 1", 9500, "101,102,103,104,105,106,107,108,109,110", NULL, 0},
        {"Category 2", 6500, "111,112,113,114,115,116,117,118,119,120,121,122,123,124,125", NULL,
         0},
        {"Category 3", 4000, "126,127,128,129,130,131,132,133,134,135,136,137,138,139,140", NULL,
         0},
    };
    static const s_tier_t tiers_show[] = {
        {"Golden circle", 14900, "101,102,103,104,105,106,107,108,109,110", NULL, 0},
        {"Lower bowl", 9900, "111,112,113,114,115,116,117,118,119,120,121,122,123,124,125", NULL,
         0},
        {"Upper bowl", 6500, "126,127,128,129,130,131,132,133,134,135,136,137,138,139,140", NULL,
         0},
    };
    static const s_event_t events[] = {
        {"sports", "London Lions vs Manchester Mariners", "Premier match day at the Riverside.",
         "London Lions", "team", 10, "15:00", 120, tiers_match, 3},
        {"concert", "Aurora Skies: Stadium Tour", "The stadium tour with the full light show.",
         "Aurora Skies", "artist", 24, "19:30", 180, tiers_show, 3},
    };
    s_sec_t secs[40];
    char codes[40][4], names[40][16];
    s_place_t pl;
    for (int i = 0; i < 40; i++) { /* 40 sections x 30 rows x 50 seats = 60,000 */
        snprintf(codes[i], sizeof codes[i], "%d", 101 + i);
        snprintf(names[i], sizeof names[i], "Block %d", 101 + i);
        secs[i] = (s_sec_t){codes[i], names[i], 30, 50, 0};
    }
    if (s_venue(pg, org, S_STADIUM_ID, S_LONDON, "Thames Riverside Stadium", "1 Riverside Way",
                60000, &pl) ||
        s_hall(pg, &pl, "Main Bowl", "arena", secs, 40, 1))
        return -1;
    return s_event(pg, org, &pl, &events[0], NULL) || s_event(pg, org, &pl, &events[1], featured);
}

/* One recurring series per screen: daily showtimes for a week, published. */
static int s_screen_series(bx_pg_t *pg, const char *org, const s_place_t *pl, const s_event_t *e)
{
    char sid[BX_UUID_LEN + 1];
    const char *w[4] = {"1", "00:00", s_cities[pl->city].tz, "0"},
               *w2[4] = {"7", "00:00", w[2], "0"};
    PGresult *from = s_q(pg, "demo_when", 4, w), *until = from ? s_q(pg, "demo_when", 4, w2) : NULL;
    json_t *tiers = json_array();
    for (int i = 0; i < e->ntiers; i++)
        json_array_append_new(tiers, s_tier_json(&e->tiers[i]));
    json_t *b = json_pack(
        "{s:s, s:s, s:s, s:[{s:s, s:s}], s:s, s:i, s:{s:s, s:[s, s, s, s], s:s, s:s}, s:o, s:b}",
        "event_type", e->type, "name", e->name, "description", e->description, "performers", "name",
        e->performer, "role", e->role, "currency", s_cities[pl->city].currency, "duration_minutes",
        e->minutes, "recurrence", "freq", "daily", "times", "10:30", "14:00", "17:30", "21:00",
        "start_date", from ? bx_pg_val(from, 0, 2) : "", "until_date",
        until ? bx_pg_val(until, 0, 2) : "", "tiers", tiers, "publish", 1);
    PQclear(from);
    PQclear(until);
    bx_uuid_v7(sid);
    const char *p[5] = {sid, org, pl->venue, pl->hall, NULL};
    if (!until || s_run_json(pg, "cat_series_insert", 5, p, 4, b))
        return -1;
    const char *q[1] = {sid};
    PGresult *occ = s_q(pg, "cat_series_occurrences", 1, q);
    int rc = occ ? 0 : -1;
    for (int i = 0; occ && !rc && i < PQntuples(occ); i++)
        rc = s_event_at(pg, org, pl, e, sid, bx_pg_val(occ, i, 0), bx_pg_val(occ, i, 1), NULL);
    PQclear(occ);
    return rc;
}

static int s_multiplex(bx_pg_t *pg, const char *org)
{
    static const s_tier_t tiers[] = {{"Standard", 25000, "STD", NULL, 0},
                                     {"Recliner", 60000, "REC", NULL, 0}};
    static const char *const movies[8][2] = {
        {"Monsoon Letters", "A love story told in letters across one rainy season."},
        {"Starfall Protocol", "Sci-fi thriller: a crew races a falling satellite."},
        {"The Last Chai Stall", "A comedy about the last tea stall on Marine Drive."},
        {"Kingdom of Kites", "An animated adventure above the rooftops of Jaipur."},
        {"Midnight Express Mumbai", "A heist on the last local train of the night."},
        {"Desert Symphony", "A musical journey across Rajasthan."},
        {"Code Red: Bandra", "Action: a hacker and a cop against the clock."},
        {"Laughing Buddha Returns", "The family comedy sequel."},
    };
    s_place_t pl;
    if (s_venue(pg, org, NULL, S_MUMBAI, "Galaxy Multiplex Andheri", "Link Road, Andheri West",
                2200, &pl))
        return -1;
    for (int k = 1; k <= 8; k++) {
        char name[16];
        s_sec_t secs[2] = {{"STD", "Standard", 6 + k, 12 + 2 * k, 0},
                           {"REC", "Recliners", 2, 8 + k, 0}};
        s_event_t e = {"movie",
                       movies[k - 1][0],
                       movies[k - 1][1],
                       "Galaxy Pictures",
                       "studio",
                       0,
                       NULL,
                       150,
                       tiers,
                       2};
        snprintf(name, sizeof name, "Screen %d", k);
        if (s_hall(pg, &pl, name, "screen", secs, 2, 0) || s_screen_series(pg, org, &pl, &e))
            return -1;
    }
    return 0;
}

static int s_theatre(bx_pg_t *pg, const char *org, char featured[BX_UUID_LEN + 1])
{
    static const s_sec_t secs[] = {{"ORCH", "Orchestra", 20, 30, 0},
                                   {"MEZZ", "Mezzanine", 8, 28, 0},
                                   {"BALC", "Balcony", 10, 30, 0}};
    static const s_tier_t tiers[] = {{"Orchestra", 12900, "ORCH", NULL, 0},
                                     {"Mezzanine", 8900, "MEZZ", NULL, 0},
                                     {"Balcony", 4900, "BALC", NULL, 0}};
    s_place_t pl;
    if (s_venue(pg, org, NULL, S_NEW_YORK, "Broadway Crown Theatre", "245 West 44th Street", 1124,
                &pl) ||
        s_hall(pg, &pl, "Main Stage", "hall", secs, 3, 0))
        return -1;
    for (int d = 3; d <= 8; d++) {
        s_event_t e = {"theater",
                       "The Glass Menagerie",
                       "Tennessee Williams' memory play.",
                       "Crown Repertory Company",
                       "cast",
                       d,
                       "19:30",
                       150,
                       tiers,
                       3};
        if (s_event(pg, org, &pl, &e, d == 3 ? featured : NULL))
            return -1;
    }
    return 0;
}

static int s_club(bx_pg_t *pg, const char *org, char featured[BX_UUID_LEN + 1])
{
    static const s_sec_t secs[] = {{"FLOOR", "Dance floor", 0, 0, 800}};
    static const s_tier_t tiers[] = {{"Early bird", 1900, NULL, "FLOOR", 200},
                                     {"Regular", 2900, NULL, "FLOOR", 600}};
    static const char *const acts[4] = {"Neon Harbor", "Velvet Comets", "The Silent Engines",
                                        "DJ Lunar Tide"};
    s_place_t pl;
    if (s_venue(pg, org, NULL, S_BERLIN, "Kreuzberg Klub", "Oranienstraße 77", 800, &pl) ||
        s_hall(pg, &pl, "Floor", "hall", secs, 1, 0))
        return -1;
    for (int i = 0; i < 4; i++) {
        s_event_t e = {"concert", acts[i],  "Live in Kreuzberg, doors at 22:00.",
                       acts[i],   "artist", 5 + 7 * i,
                       "22:00",   240,      tiers,
                       2};
        if (s_event(pg, org, &pl, &e, i == 0 ? featured : NULL))
            return -1;
    }
    return 0;
}

static int s_congress(bx_pg_t *pg, const char *org, char featured[BX_UUID_LEN + 1])
{
    static const s_sec_t secs[] = {{"PLENARY", "Plenary", 0, 0, 2000}};
    static const s_tier_t tiers[] = {{"Standard", 89000, NULL, "PLENARY", 1500},
                                     {"VIP", 249000, NULL, "PLENARY", 500}};
    static const s_event_t e = {"conference",
                                "DevConf Brasil",
                                "Two days of talks and workshops.",
                                "Comunidade DevConf",
                                "organizer",
                                40,
                                "09:00",
                                540,
                                tiers,
                                2};
    s_place_t pl;
    if (s_venue(pg, org, NULL, S_SAO_PAULO, "Centro de Convenções Paulista",
                "Avenida Paulista 1000", 2000, &pl) ||
        s_hall(pg, &pl, "Auditório Principal", "hall", secs, 1, 0))
        return -1;
    return s_event(pg, org, &pl, &e, featured);
}

/* Featured events (one for German readers, one for Portuguese), promotions, news. */
static int s_content(bx_pg_t *pg, char featured[4][BX_UUID_LEN + 1])
{
    static const char *const locales[4] = {NULL, NULL, "de", "pt"};
    char id[BX_UUID_LEN + 1];
    const char *p[3] = {id, NULL, NULL};
    for (int i = 0; i < 4; i++) {
        bx_uuid_v7(id);
        if (s_run_json(pg, "content_featured_insert", 3, p, 1,
                       json_pack("{s:s, s:i, s:s?}", "event_id", featured[i], "rank", 10 * (i + 1),
                                 "locale", locales[i])))
            return -1;
    }
    bx_uuid_v7(id);
    if (s_run_json(pg, "content_promotions_insert", 3, p, 1,
                   json_pack("{s:s, s:s, s:s, s:i}", "title", "Summer of live music", "body",
                             "Stadium shows, club nights and premieres in five cities.", "link_url",
                             "http://127.0.0.1:8080/", "rank", 10)))
        return -1;
    bx_uuid_v7(id);
    if (s_run_json(pg, "content_promotions_insert", 3, p, 1,
                   json_pack("{s:s, s:s, s:s, s:i}", "title", "Clubnächte in Kreuzberg", "body",
                             "Vier Nächte, ein Floor: jetzt Early-Bird-Tickets sichern.", "locale",
                             "de", "rank", 20)))
        return -1;
    static const char *const news[3][3] = {
        {"boxoffice opens in five cities", "London, Mumbai, New York, Berlin and São Paulo.", NULL},
        {"Monsoon Letters premieres in Mumbai", "Daily shows on all eight screens.", "en"},
        {"Neue Clubnächte in Kreuzberg", "Vier Konzerte im Kreuzberg Klub.", "de"}};
    for (int i = 0; i < 3; i++) {
        bx_uuid_v7(id);
        if (s_run_json(pg, "content_news_insert", 3, p, 1,
                       json_pack("{s:s, s:s, s:s?}", "title", news[i][0], "body", news[i][1],
                                 "locale", news[i][2])))
            return -1;
    }
    return 0;
}

/* Loads the demo catalog unless it is there. Returns 1 loaded now, 0 already there, -1. */
static int s_demo(bx_pg_t *pg, const char *org)
{
    char featured[4][BX_UUID_LEN + 1];
    const char *p[1] = {S_STADIUM_ID};
    PGresult *res = s_q(pg, "demo_venue_exists", 1, p);
    int loaded = res && PQntuples(res) == 1;
    PQclear(res);
    if (!res || loaded)
        return res ? 0 : -1;
    if (bx_pg_begin(pg) || s_stadium(pg, org, featured[0]) || s_multiplex(pg, org) ||
        s_theatre(pg, org, featured[1]) || s_club(pg, org, featured[2]) ||
        s_congress(pg, org, featured[3]) || s_content(pg, featured) || bx_pg_commit(pg)) {
        bx_pg_rollback(pg);
        return -1;
    }
    return 1;
}

/* ---- the benchmark catalog ---- */

static char *s_cities_json(void)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < S_NCITIES; i++) {
        const s_city_t *c = &s_cities[i];
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:f, s:f, s:s, s:f}", "city", c->city,
                                           "country", c->country, "tz", c->tz, "lat", c->lat, "lon",
                                           c->lon, "currency", c->currency, "mult", c->mult));
    }
    char *text = a ? bx_json_dump(a) : NULL;
    json_decref(a);
    return text;
}

/* Events the benchmark organization has now, or -1. */
static long s_bench_events(bx_pg_t *pg)
{
    const char *p[1] = {S_BENCH_ORG};
    PGresult *res = s_q(pg, "demo_bench_count", 1, p);
    long n = res ? strtol(bx_pg_val(res, 0, 1), NULL, 10) : -1;
    PQclear(res);
    return n;
}

/* Tops the benchmark organization (owned by org's owners) up to want events. Returns
 * the events added, or -1. */
static long s_bench(bx_pg_t *pg, const char *org, long want)
{
    char total[24], venues[24];
    char *cities = s_cities_json();
    long have = cities ? s_bench_events(pg) : -1, start = have;
    snprintf(venues, sizeof venues, "%d", S_BENCH_VENUES);
    const char *o[2] = {S_BENCH_ORG, S_BENCH_NAME}, *m[2] = {S_BENCH_ORG, org};
    const char *v[3] = {S_BENCH_ORG, venues, cities};
    if (have < 0 || bx_pg_begin(pg) || s_run(pg, "demo_org", 2, o) ||
        s_run(pg, "demo_org_owner", 2, m) || s_run(pg, "demo_bench_venues", 3, v) ||
        bx_pg_commit(pg))
        have = -1;
    while (have >= 0 && have < want) {
        long next = want - have > S_BENCH_CHUNK ? have + S_BENCH_CHUNK : want;
        snprintf(total, sizeof total, "%ld", next);
        const char *e[3] = {S_BENCH_ORG, total, cities};
        if (bx_pg_begin(pg) || s_run(pg, "demo_bench_events", 3, e) || bx_pg_commit(pg))
            have = -1;
        else
            fprintf(stderr, "bxctl seed: %ld of %ld benchmark events\n", have = next, want);
    }
    if (have < 0)
        bx_pg_rollback(pg);
    free(cities);
    return have < 0 ? -1 : have - start;
}

int bxctl_demo_seed(const char *org, long bench_events)
{
    bx_pg_t *pg = bx_pg_new(bx_config_str("pg_dsn"), 1); /* the named queries, prepared */
    int64_t t0 = bx_mono_ms();
    if (!pg) {
        bxctl_err(S_CMD, "could not connect to postgresql with the named queries prepared");
        return -1;
    }
    int demo = s_demo(pg, org);
    long added = demo >= 0 && bench_events > 0 ? s_bench(pg, org, bench_events) : 0;
    bx_pg_destroy(&pg);
    if (demo < 0 || added < 0)
        return -1;
    printf("demo catalog: %s\n", demo ? "loaded (5 cities, stadium, multiplex, theatre, club, "
                                        "congress centre, content)"
                                      : "already loaded");
    if (bench_events > 0)
        printf("benchmark catalog: %ld events added (organization %s), %lld ms\n", added,
               S_BENCH_ORG, (long long)(bx_mono_ms() - t0));
    return 0;
}
