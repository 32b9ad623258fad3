/* it_search: event search over real HTTP against a real frontdoor, broker, scheduler and
 * index worker on a fresh database: the catalog is written through the API, so every
 * document reaches the index the way production's do (outbox → scheduler → broker →
 * bx-worker-index). Covers typo tolerance, every filter (city, near with radius across the
 * antimeridian, local dates and instants, types, prices, availability), every sort, facet
 * counts, cursor pagination without gaps or duplicates, drafts and cancelled events kept
 * out, a change searchable within 2 seconds, every bad parameter answered 400 with its
 * name, SQL and tsquery metacharacters in q harmless, and the event list taking the same
 * filters. */
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_harness.h"
#include "bx_httpc.h"
#include "bx_jwt.h"
#include "bx_suite.h"
#include "bx_util.h"

#define HTTP_PORT   26000
#define BROKER_PORT 26001
#define BASE        "http://127.0.0.1:26000"
#define PT          "https://boxoffice.dev/problems/"
#define S_NEVENTS   9 /* the fixture's events; 0..6 are public */
#define S_NPUBLIC   7

static const char *s_dsn;
static char s_dir[256], s_keydir[300], s_log[300];
static char s_env[12][512];
static const char *s_envp[13];
static pid_t s_broker, s_sched, s_index, s_fd;
static bx_jwt_ring_t *s_ring;
static char s_tok_a[4096], s_tok_admin[4096], s_org_a[37];

/* The fixture's venues: name, city, country, latitude, longitude, zone. */
static const struct {
    const char *city, *country, *tz;
    double lat, lon;
} s_venues[] = {
    {"Berlin", "DE", "Europe/Berlin", 52.5163, 13.3777},
    {"Potsdam", "DE", "Europe/Berlin", 52.3906, 13.0645},
    {"Hamburg", "DE", "Europe/Berlin", 53.5511, 9.9937},
    {"Taveuni", "FJ", "Pacific/Fiji", -16.80, 179.97},
};
static char s_venue_ids[4][37], s_hall_ids[4][37];

/* The fixture's events. status: p published, d draft, c cancelled. */
static const struct {
    const char *name, *type, *performer, *starts, *ends, *currency;
    int venue;   /* index in s_venues */
    long price;  /* the one GA tier's price, minor units */
    int sold;    /* of 100 */
    char status; /* p, d, c */
} s_events[S_NEVENTS] = {
    {"Rolling Stones Reunion", "concert", "The Rolling Stones", "2031-05-01T18:00:00Z",
     "2031-05-01T20:00:00Z", "EUR", 0, 9000, 80, 'p'},
    {"Berliner Philharmoniker plays Mahler", "concert", "Berliner Philharmoniker",
     "2031-05-02T17:00:00Z", "2031-05-02T19:00:00Z", "EUR", 0, 4500, 50, 'p'},
    {"Hamlet", "theater", "Lars Eidinger", "2031-05-01T17:30:00Z", "2031-05-01T20:30:00Z", "EUR", 2,
     3000, 0, 'p'},
    {"Hertha BSC vs Union Berlin", "sports", "Hertha BSC", "2031-05-03T13:30:00Z",
     "2031-05-03T15:30:00Z", "EUR", 0, 2500, 100, 'p'},
    {"Dune Part Three", "movie", "Zendaya", "2031-05-02T19:00:00Z", "2031-05-02T22:00:00Z", "EUR",
     1, 1200, 10, 'p'},
    {"Cloud Native Summit", "conference", "Kelsey Hightower", "2031-06-10T07:00:00Z",
     "2031-06-10T16:00:00Z", "EUR", 2, 39900, 0, 'p'},
    /* 20:00Z on May 5 is 08:00 on May 6 in Fiji */
    {"Fire Dance Festival", "concert", "Island Drums", "2031-05-05T20:00:00Z",
     "2031-05-05T23:00:00Z", "FJD", 3, 5000, 0, 'p'},
    {"Secret Draft Konzert", "concert", "Nobody Yet", "2031-05-04T18:00:00Z",
     "2031-05-04T20:00:00Z", "EUR", 0, 1000, 0, 'd'},
    {"Cancelled Opera Night", "theater", "Anna Netrebko", "2031-05-06T18:00:00Z",
     "2031-05-06T21:00:00Z", "EUR", 2, 8000, 0, 'c'},
};
static char s_ids[S_NEVENTS][37];

/* The public events in date order, and by popularity (sold, then id). */
static const int s_by_date[S_NPUBLIC] = {2, 0, 1, 4, 3, 6, 5};
static const int s_by_popularity[S_NPUBLIC] = {3, 0, 1, 4, 2, 5, 6};

/* ---- helpers ---- */

static void s_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs SQL built from fmt (test-controlled values only). */
static void s_sql(const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    free(bx_h_sql(s_dsn, sql));
}

static long s_count(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static long s_count(const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    char *v = bx_h_sql(s_dsn, sql);
    long n = v ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

/* Formats a JSON text written with ' for " (rotating static buffers). */
static const char *s_j(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *s_j(const char *fmt, ...)
{
    static char bufs[32][2048];
    static int next;
    char *b = bufs[next++ % 32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    for (char *p = b; *p; p++)
        if (*p == '\'')
            *p = '"';
    return b;
}

static json_t *s_jget(json_t *j, const char *path)
{
    char part[64];
    while (j && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        j = json_is_array(j) ? json_array_get(j, strtoul(part, NULL, 10))
                             : json_object_get(j, part);
        path += n + (dot ? 1 : 0);
    }
    return j;
}

static const char *s_jstr(json_t *j, const char *path)
{
    return json_string_value(s_jget(j, path));
}

static bx_httpc_resp_t s_call(const char *method, const char *path, const char *tok,
                              const char *body)
{
    char url[4096];
    snprintf(url, sizeof url, BASE "%s", path);
    return bx_httpc_json(method, url, tok, body, NULL);
}

#define S_EXPECT(r, st)                                                                            \
    ck_assert_msg((r).status == (st), "%s:%d: want %d, got %ld: %s", __FILE__, __LINE__, (st),     \
                  (r).status, (r).body ? (r).body : "")

static void s_create(const char *path, const char *body, char id[37])
{
    bx_httpc_resp_t r = s_call("POST", path, s_tok_a, body);
    S_EXPECT(r, 201);
    bx_strlcpy(id, s_jstr(r.json, "data.id"), 37);
    bx_httpc_free(&r);
}

/* Percent-encodes s into out (cap bytes). */
static const char *s_enc(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n + 4 < cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
    return out;
}

/* GET /api/v1/events/search?<args>, expecting 200. Caller frees. */
static bx_httpc_resp_t s_search(const char *args)
{
    char path[1536];
    snprintf(path, sizeof path, "/api/v1/events/search?%s", args);
    bx_httpc_resp_t r = s_call("GET", path, NULL, NULL);
    S_EXPECT(r, 200);
    return r;
}

/* Index in s_ids of event id, or -1. */
static int s_which(const char *id)
{
    for (int i = 0; id && i < S_NEVENTS; i++)
        if (!strcmp(s_ids[i], id))
            return i;
    return -1;
}

/* The fixture indexes of a page's events, as "2,0,1" (for messages and comparisons). */
static const char *s_page(json_t *doc, char *out, size_t cap)
{
    json_t *data = s_jget(doc, "data");
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(data) && n + 8 < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%d", i ? "," : "",
                              s_which(s_jstr(data, s_j("%zu.id", i))));
    return out;
}

/* Asserts that the search args answers exactly the fixture events want ("2,0,1"). */
static void s_expect_page(const char *args, const char *want, int line)
{
    char got[256];
    bx_httpc_resp_t r = s_search(args);
    ck_assert_msg(!strcmp(s_page(r.json, got, sizeof got), want),
                  "line %d: %s: want [%s], got [%s]", line, args, want, got);
    bx_httpc_free(&r);
}
#define S_PAGE(args, want) s_expect_page((args), (want), __LINE__)

/* Asserts that the search args answers the fixture events of want in any order. */
static void s_expect_set(const char *args, const char *want, int line)
{
    char got[256];
    int seen[S_NEVENTS] = {0}, wanted[S_NEVENTS] = {0};
    bx_httpc_resp_t r = s_search(args);
    s_page(r.json, got, sizeof got);
    for (const char *p = want; *p; p++)
        if (*p >= '0' && *p <= '9')
            wanted[*p - '0'] = 1;
    for (const char *p = got; *p; p++)
        if (*p >= '0' && *p <= '9')
            seen[*p - '0']++;
    for (int i = 0; i < S_NEVENTS; i++)
        ck_assert_msg(seen[i] == wanted[i], "line %d: %s: want {%s}, got [%s]", line, args, want,
                      got);
    bx_httpc_free(&r);
}
#define S_SET(args, want) s_expect_set((args), (want), __LINE__)

/* Waits until every outbox row is relayed and every index request finished; none failed. */
static void s_wait_indexed(void)
{
    long pending = -1;
    for (int i = 0; i < 300; i++) {
        pending = s_count("SELECT (SELECT count(*) FROM outbox WHERE relayed_at IS NULL) + "
                          "(SELECT count(*) FROM requests WHERE service = 'index' "
                          " AND status IN ('queued', 'running'))");
        if (pending == 0)
            break;
        usleep(50 * 1000);
    }
    ck_assert_msg(pending == 0, "index jobs still pending after 15 s: %ld", pending);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM requests WHERE service = 'index' AND status = 'failed'"), 0);
}

/* ---- fixture ---- */

static void s_env_init(void)
{
    const char *rp = getenv("BX_TEST_REDIS_PORT");
    int n = 0;
    snprintf(s_env[n++], 512, "BOXOFFICE_PG_DSN=%s", s_dsn);
    snprintf(s_env[n++], 512, "BOXOFFICE_REDIS_PORT=%s", rp ? rp : "26379");
    snprintf(s_env[n++], 512, "BOXOFFICE_BROKER_ENDPOINT=tcp://127.0.0.1:%d", BROKER_PORT);
    snprintf(s_env[n++], 512, "BOXOFFICE_HTTP_PORT=%d", HTTP_PORT);
    snprintf(s_env[n++], 512, "BOXOFFICE_JWT_KEY_DIR=%s", s_keydir);
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_WRITE_PER_MIN=1000000");
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_READ_PER_MIN=1000000");
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_IP_PER_MIN=10000000");
    snprintf(s_env[n++], 512, "BOXOFFICE_LOG_LEVEL=info");
    for (int i = 0; i < n; i++)
        s_envp[i] = s_env[i];
    s_envp[n] = NULL;
}

/* Inserts a user with role (member of org when not NULL) and a session; mints a token. */
static void s_mint(const char *role, const char *org, char *tok, size_t cap)
{
    char uid[37], sid[37], jti[37];
    bx_uuid_v7(uid);
    bx_uuid_v7(sid);
    bx_uuid_v7(jti);
    s_sql("INSERT INTO users (id, email, password_hash, role) VALUES ('%s', '%s@t.test', 'x', "
          "'%s'); INSERT INTO sessions (id, user_id, expires_at) VALUES ('%s', '%s', now() + "
          "interval '1 day')",
          uid, uid, role, sid, uid);
    if (org)
        s_sql("INSERT INTO organization_members (org_id, user_id, role) "
              "VALUES ('%s', '%s', 'owner')",
              org, uid);
    long now = (long)(bx_now_ms() / 1000);
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "iss", "boxoffice", "sub", uid,
                          "sid", sid, "role", role, "jti", jti, "iat", (json_int_t)now, "exp",
                          (json_int_t)(now + 3600));
    char *t = bx_jwt_sign(s_ring, c);
    json_decref(c);
    ck_assert_ptr_nonnull(t);
    bx_strlcpy(tok, t, cap);
    free(t);
}

/* A venue in city with one hall holding a general-admission floor of 100. */
static void s_place(int i, const char *name)
{
    char path[512];
    s_create("/api/v1/venues",
             s_j("{'name':'%s','address':'1 Main Street','city':'%s','country':'%s',"
                 "'latitude':%.4f,'longitude':%.4f,'time_zone':'%s','capacity':100}",
                 name, s_venues[i].city, s_venues[i].country, s_venues[i].lat, s_venues[i].lon,
                 s_venues[i].tz),
             s_venue_ids[i]);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls", s_venue_ids[i]);
    s_create(path, s_j("{'name':'Main hall','kind':'hall'}"), s_hall_ids[i]);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls/%s/layout", s_venue_ids[i], s_hall_ids[i]);
    bx_httpc_resp_t r =
        s_call("PUT", path, s_tok_a,
               s_j("{'sections':[{'code':'FLOOR','name':'Floor','kind':'ga','capacity':100}]}"));
    S_EXPECT(r, 201);
    bx_httpc_free(&r);
}

/* Creates event i of s_events (or with the given name) with its tier, and publishes it
 * unless it is a draft. */
static void s_event(int i, const char *name, char id[37])
{
    char path[512], tier[37];
    int v = s_events[i].venue;
    s_create("/api/v1/events",
             s_j("{'name':'%s','event_type':'%s','venue_id':'%s','hall_id':'%s','starts_at':'%s',"
                 "'ends_at':'%s','currency':'%s','description':'An evening to remember.',"
                 "'performers':[{'name':'%s','role':'artist'}]}",
                 name, s_events[i].type, s_venue_ids[v], s_hall_ids[v], s_events[i].starts,
                 s_events[i].ends, s_events[i].currency, s_events[i].performer),
             id);
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", id);
    s_create(path,
             s_j("{'name':'Floor','kind':'ga','price_minor':%ld,'section':'FLOOR','capacity':100}",
                 s_events[i].price),
             tier);
    if (s_events[i].status == 'd')
        return;
    snprintf(path, sizeof path, "/api/v1/events/%s/publish", id);
    bx_httpc_resp_t r = s_call("POST", path, s_tok_a, NULL);
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
}

/* Records sales the way the booking pipeline will: inventory and an index job in one
 * transaction. */
static void s_sell(const char *id, int sold)
{
    s_sql("BEGIN; UPDATE event_ga SET sold = %d WHERE event_id = '%s';"
          "INSERT INTO outbox (service, topic, route_key, payload) VALUES ('index', "
          "'event.updated', '%s', '{\"id\": \"%s\", \"action\": \"inventory\"}'); COMMIT",
          sold, id, id, id);
}

static void s_setup(void)
{
    char cmd[2048];
    const char *tmp = getenv("BX_TMP_DIR") ? getenv("BX_TMP_DIR") : "/tmp";
    s_dsn = strdup(bx_h_db("search"));
    snprintf(s_dir, sizeof s_dir, "%s/it_search.tmp", tmp);
    snprintf(s_keydir, sizeof s_keydir, "%s/keys", s_dir);
    snprintf(s_log, sizeof s_log, "%s/processes.log", s_dir);
    snprintf(cmd, sizeof cmd,
             "rm -rf '%s' && mkdir -p '%s' && BOXOFFICE_JWT_KEY_DIR='%s' %s keygen >/dev/null",
             s_dir, s_keydir, s_keydir, bx_h_bin("bxctl"));
    ck_assert_int_eq(bx_h_sh(cmd), 0);
    s_ring = bx_jwt_ring_load(s_keydir, "boxoffice");
    ck_assert_ptr_nonnull(s_ring);
    bx_uuid_v7(s_org_a);
    s_sql("INSERT INTO organizations (id, name) VALUES ('%s', 'Org A')", s_org_a);
    s_mint("partner", s_org_a, s_tok_a, sizeof s_tok_a);
    s_mint("admin", NULL, s_tok_admin, sizeof s_tok_admin);
    s_env_init();
    s_broker = bx_h_spawn(bx_h_bin("bx-broker"), NULL, s_envp, s_log);
    s_sched = bx_h_spawn(bx_h_bin("bx-worker-scheduler"), NULL, s_envp, s_log);
    s_index = bx_h_spawn(bx_h_bin("bx-worker-index"), NULL, s_envp, s_log);
    s_fd = bx_h_spawn(bx_h_bin("bx-frontdoor"), NULL, s_envp, s_log);
    ck_assert_int_eq(bx_h_wait_port(HTTP_PORT, 10000), 0);
    const char *names[] = {"Mitte Arena", "Waschhaus", "Thalia Theater", "Island Stage"};
    for (int i = 0; i < 4; i++)
        s_place(i, names[i]);
    for (int i = 0; i < S_NEVENTS; i++)
        s_event(i, s_events[i].name, s_ids[i]);
    bx_httpc_resp_t r = s_call("POST", s_j("/api/v1/events/%s/cancel", s_ids[8]), s_tok_a, NULL);
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
    for (int i = 0; i < S_NEVENTS; i++)
        if (s_events[i].sold)
            s_sell(s_ids[i], s_events[i].sold);
    s_wait_indexed();
}

static void s_teardown(void)
{
    pid_t p[] = {s_fd, s_index, s_sched, s_broker};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        if (p[i] > 0)
            bx_h_stop(p[i], SIGTERM, 5000);
    bx_jwt_ring_destroy(&s_ring);
}

/* ---- typo tolerance and relevance ---- */

START_TEST(typos_still_find_events)
{
    char got[256];
    /* "konsert" is no word of any document: it sounds like "concert", every concert's type */
    S_SET("q=konsert", "0,1,6");
    S_SET("q=concerts", "0,1,6");
    S_PAGE("q=rolling%20stons", "0");
    S_PAGE("q=hamlte", "2");
    S_PAGE("q=mahlr", "1");
    S_PAGE("q=philharmonikr%20berlin", "1");
    S_PAGE("q=DUNE", "4");
    S_PAGE("q=d%C3%BCne", "4"); /* accents folded */
    S_PAGE("q=zendaya", "4");   /* performers are searched */
    S_SET("q=thalia", "2,5");   /* so are venue names */
    S_PAGE("q=xylophonic%20quasar", "");
    bx_httpc_resp_t r = s_search("q=konsert");
    json_t *v = s_jget(r.json, "meta.query.variants.konsert");
    ck_assert_msg(json_is_array(v) && json_array_size(v) >= 1, "variants: %s", r.body);
    ck_assert_str_eq(s_jstr(r.json, "meta.query.sort"), "relevance");
    bx_httpc_free(&r);
    /* a word in the name outranks the same word in the city, and scores never rise */
    r = s_search("q=berlin");
    s_page(r.json, got, sizeof got);
    ck_assert_msg(!strcmp(got, "3,1,0") || !strcmp(got, "1,3,0"), "q=berlin: [%s]", got);
    json_t *data = s_jget(r.json, "data");
    for (size_t i = 1; i < json_array_size(data); i++)
        ck_assert(json_real_value(s_jget(data, s_j("%zu.meta.score", i))) <=
                  json_real_value(s_jget(data, s_j("%zu.meta.score", i - 1))));
    bx_httpc_free(&r);
}
END_TEST

/* ---- filters ---- */

/* Asserts that a filter answers the same set on both query paths: the ordered one (date,
 * popularity) and the ranked one (relevance with a word every fixture event has, distance
 * from a point with a radius covering the Earth). */
static void s_expect_everywhere(const char *args, const char *want, int line)
{
    s_expect_set(args, want, line);
    s_expect_set(s_j("%s&sort=popularity", args), want, line);
    s_expect_set(s_j("%s&q=evening", args), want, line);
    if (!strstr(args, "near="))
        s_expect_set(s_j("%s&near=0,0&radius_km=20038&sort=distance", args), want, line);
}
#define S_ALL(args, want) s_expect_everywhere((args), (want), __LINE__)

START_TEST(every_filter_narrows_the_results)
{
    S_ALL("city=berlin", "0,1,3");
    S_ALL("city=BERLIN&type=concert", "0,1");
    S_ALL("type=movie,theater", "2,4");
    S_ALL("near=52.52,13.405&radius_km=10", "0,1,3");
    S_ALL("near=52.52,13.405&radius_km=40", "0,1,3,4");
    S_ALL("near=52.52,13.405", "0,1,3,4"); /* 50 km without radius_km */
    /* across the antimeridian: 5 km east of 180 degrees finds the venue 3 km west of it */
    S_ALL("near=-16.80,-179.98&radius_km=20", "6");
    S_ALL("near=-16.80,179.5&radius_km=20", "");
    /* dates are the venue's local dates: 20:00Z on May 5 is May 6 in Fiji */
    S_ALL("from=2031-05-06&to=2031-05-06", "6");
    S_ALL("from=2031-05-02&to=2031-05-03", "1,3,4");
    S_ALL("from=2031-05-01T17:45:00Z&to=2031-05-02T18:00:00Z", "0,1");
    S_ALL("from=2031-05-01T19:00:00%2B02:00&to=2031-05-01T20:30:00%2B02:00", "2,0");
    S_ALL("price_min=2000&price_max=5000&currency=EUR", "1,2,3");
    S_ALL("price_max=1500&currency=EUR", "4");
    S_ALL("currency=FJD", "6");
    S_ALL("available=false", "3");
    S_ALL("available=true&city=berlin", "0,1");
    S_SET("q=festival&near=-16.8,179.97&radius_km=1&type=concert&currency=FJD", "6");
    /* past events only with an explicit from */
    S_ALL("from=2000-01-01&to=2031-05-01", "0,2");
}
END_TEST

START_TEST(every_sort_orders_the_results)
{
    char want[64];
    size_t n = 0;
    for (int i = 0; i < S_NPUBLIC; i++)
        n += (size_t)snprintf(want + n, sizeof want - n, "%s%d", i ? "," : "", s_by_date[i]);
    S_PAGE("sort=date", want);
    S_PAGE("", want); /* date is the default without q */
    n = 0;
    for (int i = 0; i < S_NPUBLIC; i++)
        n += (size_t)snprintf(want + n, sizeof want - n, "%s%d", i ? "," : "", s_by_popularity[i]);
    S_PAGE("sort=popularity", want);
    /* distance from the Brandenburg Gate: Berlin (same venue: by id), Potsdam, Hamburg */
    S_PAGE("near=52.5163,13.3777&radius_km=300&sort=distance", "0,1,3,4,2,5");
    bx_httpc_resp_t r = s_search("near=52.5163,13.3777&radius_km=300&sort=distance");
    ck_assert(json_real_value(s_jget(r.json, "data.0.meta.distance_m")) < 1.0);
    double potsdam = json_real_value(s_jget(r.json, "data.3.meta.distance_m"));
    ck_assert_msg(potsdam > 24000 && potsdam < 28000, "Potsdam at %f m", potsdam);
    bx_httpc_free(&r);
    S_PAGE("q=hamlet&sort=date", "2");
    S_PAGE("q=concert&sort=popularity", "0,1,6");
}
END_TEST

START_TEST(facets_count_everything_that_matched)
{
    bx_httpc_resp_t r = s_search("limit=1");
    ck_assert_int_eq(json_integer_value(s_jget(r.json, "meta.total")), S_NPUBLIC);
    json_t *types = s_jget(r.json, "meta.facets.event_type");
    long sum = 0;
    for (size_t i = 0; i < json_array_size(types); i++)
        sum += json_integer_value(s_jget(types, s_j("%zu.count", i)));
    ck_assert_int_eq(sum, S_NPUBLIC);
    ck_assert_str_eq(s_jstr(types, "0.value"), "concert");
    ck_assert_int_eq(json_integer_value(s_jget(types, "0.count")), 3);
    json_t *cities = s_jget(r.json, "meta.facets.city");
    ck_assert_int_eq(json_array_size(cities), 4);
    ck_assert_str_eq(s_jstr(cities, "0.value"), "Berlin");
    ck_assert_int_eq(json_integer_value(s_jget(cities, "0.count")), 3);
    json_t *days = s_jget(r.json, "meta.facets.date");
    ck_assert_str_eq(s_jstr(days, "0.value"), "2031-05-01");
    ck_assert_int_eq(json_integer_value(s_jget(days, "0.count")), 2);
    ck_assert_str_eq(s_jstr(days, s_j("%zu.value", json_array_size(days) - 1)), "2031-06-10");
    const char *next = s_jstr(r.json, "links.next");
    ck_assert_ptr_nonnull(next);
    char path[1024];
    bx_strlcpy(path, next, sizeof path);
    bx_httpc_free(&r);
    /* facets of a filtered search count the filtered set; later pages carry none */
    r = s_search("q=konsert&city=berlin");
    ck_assert_int_eq(json_integer_value(s_jget(r.json, "meta.total")), 2);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "meta.facets.city")), 1);
    bx_httpc_free(&r);
    r = s_call("GET", path, NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_ptr_null(s_jget(r.json, "meta.facets"));
    bx_httpc_free(&r);
}
END_TEST

/* Walks every page of args with page size limit; returns the indexes seen, "2,0,...". */
static const char *s_walk(const char *args, int limit, char *out, size_t cap)
{
    char path[2048], page[256];
    size_t n = 0;
    int pages = 0;
    snprintf(path, sizeof path, "/api/v1/events/search?%s&limit=%d", args, limit);
    out[0] = '\0';
    while (path[0] && pages++ < 20) {
        bx_httpc_resp_t r = s_call("GET", path, NULL, NULL);
        S_EXPECT(r, 200);
        ck_assert_int_le(json_array_size(s_jget(r.json, "data")), limit);
        s_page(r.json, page, sizeof page);
        if (page[0])
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "," : "", page);
        const char *next = s_jstr(r.json, "links.next");
        bx_strlcpy(path, next ? next : "", sizeof path);
        bx_httpc_free(&r);
    }
    return out;
}

START_TEST(cursor_pages_have_no_gaps_or_duplicates)
{
    char whole[256], walked[256];
    const char *queries[] = {"sort=date",
                             "sort=popularity",
                             "q=concert",
                             "q=berlin",
                             "near=52.52,13.405&radius_km=20000&sort=distance",
                             "available=true&sort=popularity",
                             "q=evening&sort=date",
                             "q=evening&sort=popularity"};
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        for (int limit = 1; limit <= 3; limit++) {
            bx_httpc_resp_t r = s_search(s_j("%s&limit=100", queries[i]));
            s_page(r.json, whole, sizeof whole);
            bx_httpc_free(&r);
            s_walk(queries[i], limit, walked, sizeof walked);
            ck_assert_msg(!strcmp(whole, walked), "%s by %d: whole [%s], pages [%s]", queries[i],
                          limit, whole, walked);
        }
    }
    /* a cursor belongs to its sort */
    bx_httpc_resp_t r = s_search("sort=popularity&limit=1");
    const char *next = strstr(s_jstr(r.json, "links.next"), "cursor=");
    ck_assert_ptr_nonnull(next);
    char path[512];
    snprintf(path, sizeof path, "/api/v1/events/search?sort=date&%s", next);
    bx_httpc_free(&r);
    r = s_call("GET", path, NULL, NULL);
    S_EXPECT(r, 400);
    ck_assert_str_eq(s_jstr(r.json, "errors.0.parameter"), "cursor");
    bx_httpc_free(&r);
}
END_TEST

START_TEST(drafts_and_cancelled_events_are_never_found)
{
    char path[256];
    S_SET("q=secret", "");
    S_SET("q=draft%20konzert", "");
    S_SET("q=cancelled%20opera", "");
    S_SET("q=netrebko", "");
    /* not even for their organization or an admin: search is the public catalog */
    snprintf(path, sizeof path, "/api/v1/events/search?q=secret");
    bx_httpc_resp_t r = s_call("GET", path, s_tok_a, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data")), 0);
    bx_httpc_free(&r);
    r = s_call("GET", path, s_tok_admin, NULL);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data")), 0);
    bx_httpc_free(&r);
    /* yet the index holds them (a status change is an update), invisible */
    ck_assert_int_eq(s_count("SELECT count(*) FROM event_search WHERE NOT visible"), 2);
}
END_TEST

/* Polls the search for q until it answers n events or timeout_ms passes; returns the
 * milliseconds it took, or -1. */
static long s_until_args(const char *args, size_t n, long timeout_ms)
{
    int64_t t0 = bx_mono_ms();
    while (bx_mono_ms() - t0 <= timeout_ms) {
        bx_httpc_resp_t r = s_search(args);
        size_t got = json_array_size(s_jget(r.json, "data"));
        bx_httpc_free(&r);
        if (got == n)
            return (long)(bx_mono_ms() - t0);
        usleep(25 * 1000);
    }
    return -1;
}

/* Milliseconds until a search for the text q finds n events, or -1 after timeout_ms. */
static long s_until(const char *q, size_t n, long timeout_ms)
{
    char args[256], enc[128];
    snprintf(args, sizeof args, "q=%s", s_enc(q, enc, sizeof enc));
    return s_until_args(args, n, timeout_ms);
}

START_TEST(a_change_is_searchable_within_two_seconds)
{
    char venue[37], hall[37], id[37], tier[37], path[512];
    s_create("/api/v1/venues",
             s_j("{'name':'Moritzbastei','address':'1 Ring','city':'Leipzig','country':'DE',"
                 "'latitude':51.3380,'longitude':12.3790,'time_zone':'Europe/Berlin',"
                 "'capacity':100}"),
             venue);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls", venue);
    s_create(path, s_j("{'name':'Cellar','kind':'hall'}"), hall);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls/%s/layout", venue, hall);
    bx_httpc_resp_t r =
        s_call("PUT", path, s_tok_a,
               s_j("{'sections':[{'code':'FLOOR','name':'Floor','kind':'ga','capacity':100}]}"));
    S_EXPECT(r, 201);
    bx_httpc_free(&r);
    s_create("/api/v1/events",
             s_j("{'name':'Zanzibar Jazz Night','event_type':'concert','venue_id':'%s',"
                 "'hall_id':'%s','starts_at':'2031-07-01T18:00:00Z','duration_minutes':120,"
                 "'currency':'EUR'}",
                 venue, hall),
             id);
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", id);
    s_create(path,
             s_j("{'name':'Floor','kind':'ga','price_minor':2000,'section':'FLOOR',"
                 "'capacity':100}"),
             tier);
    /* a draft is indexed but not found; publishing makes it searchable */
    snprintf(path, sizeof path, "/api/v1/events/%s/publish", id);
    r = s_call("POST", path, s_tok_a, NULL);
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
    long ms = s_until("zanzibar", 1, 2000);
    ck_assert_msg(ms >= 0, "a published event was not searchable within 2 s");
    /* facet counts may be reused for search_facet_cache_ms (2 s): they catch up after */
    long counted = -1;
    for (int64_t t0 = bx_mono_ms(); counted < 0 && bx_mono_ms() - t0 < 3000; usleep(50 * 1000)) {
        bx_httpc_resp_t c = s_search("q=zanzibar");
        if (json_integer_value(s_jget(c.json, "meta.total")) == 1)
            counted = (long)(bx_mono_ms() - t0);
        bx_httpc_free(&c);
    }
    ck_assert_msg(counted >= 0, "meta.total did not count the new event within 2 s more");
    /* renaming the event */
    snprintf(path, sizeof path, "/api/v1/events/%s", id);
    r = s_call("PUT", path, s_tok_a, s_j("{'name':'Quokka Jazz Night'}"));
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
    long renamed = s_until("quokka", 1, 2000);
    ck_assert_msg(renamed >= 0, "a renamed event was not searchable by its new name within 2 s");
    ck_assert_int_ge(s_until("zanzibar", 0, 2000), 0);
    /* renaming its venue reaches every event of the venue */
    snprintf(path, sizeof path, "/api/v1/venues/%s", venue);
    r = s_call("PUT", path, s_tok_a, s_j("{'name':'Wombat Cellar'}"));
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
    long moved = s_until("wombat", 1, 2000);
    ck_assert_msg(moved >= 0, "an event was not searchable by its venue's new name within 2 s");
    /* moving the venue to another city: its events are found by the new city (filter and
     * text), and no longer by the old one, within 2 s */
    r = s_call("PUT", path, s_tok_a, s_j("{'city':'Zwenkau'}"));
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
    long city = s_until_args("city=Zwenkau", 1, 2000);
    ck_assert_msg(city >= 0, "an event was not found by its venue's new city within 2 s");
    ck_assert_msg(s_until("zwenkau", 1, 2000) >= 0, "the new city was not searchable as text");
    ck_assert_msg(s_until_args("city=Leipzig&q=quokka", 0, 2000) >= 0,
                  "the event was still found in the venue's old city after 2 s");
    printf("it_search: searchable after publish %ld ms, event rename %ld ms, venue rename %ld ms, "
           "venue city change %ld ms\n",
           ms, renamed, moved, city);
    /* cancelling takes it out as fast */
    snprintf(path, sizeof path, "/api/v1/events/%s/cancel", id);
    r = s_call("POST", path, s_tok_a, NULL);
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
    ck_assert_msg(s_until("wombat", 0, 2000) >= 0, "a cancelled event stayed findable over 2 s");
}
END_TEST

/* ---- bad input ---- */

START_TEST(bad_parameters_are_400_with_the_parameter_named)
{
    static const struct {
        const char *args;  /* query string */
        const char *param; /* the first error's parameter */
    } cases[] = {
        {"qq=rock", "qq"},
        {"%FF%FE=1", "(unreadable name)"},
        {"a%01b=1", "(unreadable name)"},
        {"q=rock&q=jazz", "q"},
        {"q=", "q"},
        {"q", "q"},
        {"q=%27%22%3B", "q"}, /* no letter or digit */
        {"q=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "q"},
        {"q=a%01b", "q"},
        {"q=%FF%FE", "q"},
        {"near=91,0", "near"},
        {"near=52.5", "near"},
        {"near=52.5,13.4,1", "near"},
        {"near=abc,def", "near"},
        {"near=52.5,181", "near"},
        {"near=1e1,2", "near"},
        {"near=nan,0", "near"},
        {"radius_km=10", "radius_km"},
        {"near=52.5,13.4&radius_km=0", "radius_km"},
        {"near=52.5,13.4&radius_km=-5", "radius_km"},
        {"near=52.5,13.4&radius_km=30000", "radius_km"},
        {"from=2031-02-30", "from"},
        {"from=31-05-01", "from"},
        {"to=2031-05-01T25:00:00Z", "to"},
        {"from=2031-05-02&to=2031-05-01", "to"},
        {"from=2031-05-02T00:00:00Z&to=2031-05-01T00:00:00Z", "to"},
        {"type=opera", "type"},
        {"type=concert,", "type"},
        {"type=concert,concert", "type"},
        {"price_min=100", "currency"},
        {"price_min=-1&currency=EUR", "price_min"},
        {"price_min=500&price_max=100&currency=EUR", "price_max"},
        {"price_max=1.5&currency=EUR", "price_max"},
        {"currency=eur", "currency"},
        {"available=yes", "available"},
        {"sort=name", "sort"},
        {"sort=distance", "sort"},
        {"sort=relevance", "sort"},
        {"limit=0", "limit"},
        {"limit=101", "limit"},
        {"cursor=not-a-cursor", "cursor"},
        {"organization_id=00000000-0000-0000-0000-000000000000", "organization_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512], ct[128];
        snprintf(path, sizeof path, "/api/v1/events/search?%s", cases[i].args);
        bx_httpc_resp_t r = s_call("GET", path, NULL, NULL);
        ck_assert_msg(r.status == 400, "%s: %ld %s", cases[i].args, r.status, r.body);
        ck_assert(bx_httpc_header(&r, "Content-Type", ct, sizeof ct));
        ck_assert_msg(strstr(ct, "application/problem+json"), "%s: %s", cases[i].args, ct);
        ck_assert_str_eq(s_jstr(r.json, "type"), PT "validation-failed");
        ck_assert_msg(s_jstr(r.json, "errors.0.parameter") &&
                          !strcmp(s_jstr(r.json, "errors.0.parameter"), cases[i].param),
                      "%s: want the error on %s: %s", cases[i].args, cases[i].param, r.body);
        bx_httpc_free(&r);
    }
    /* every mistake at once */
    bx_httpc_resp_t r = s_call("GET", "/api/v1/events/search?near=95,0&limit=0&foo=1", NULL, NULL);
    S_EXPECT(r, 400);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "errors")), 3);
    bx_httpc_free(&r);
}
END_TEST

START_TEST(sql_and_tsquery_syntax_in_q_is_just_text)
{
    char args[512], enc[400];
    const char *qs[] = {"'; DROP TABLE events; --",
                        "\") OR 1=1 --",
                        "rolling & !stones | x:*",
                        "hamlet' OR '1'='1",
                        "\\x00 hamlet \\",
                        "$1 $$ hamlet $$",
                        "<b>hamlet</b>",
                        "hamlet%",
                        "ham_let"};
    long before = s_count("SELECT count(*) FROM events");
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        snprintf(args, sizeof args, "q=%s", s_enc(qs[i], enc, sizeof enc));
        bx_httpc_resp_t r = s_search(args);
        ck_assert(json_is_array(s_jget(r.json, "data")));
        bx_httpc_free(&r);
    }
    ck_assert_int_eq(s_count("SELECT count(*) FROM events"), before);
    S_PAGE("q=%3Cb%3Ehamlet%3C%2Fb%3E", "2");
    S_PAGE("q=hamlet'%20OR%20'1'%3D'1", "");
}
END_TEST

START_TEST(the_event_list_takes_the_same_filters)
{
    char got[256];
    bx_httpc_resp_t r = s_call("GET",
                               "/api/v1/events?near=52.52,13.405&radius_km=10&price_min=2000&"
                               "price_max=5000&currency=EUR&type=concert,sports",
                               NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_page(r.json, got, sizeof got), "1,3");
    ck_assert_int_eq(json_integer_value(s_jget(r.json, "data.0.attributes.price_range.min_minor")),
                     4500);
    bx_httpc_free(&r);
    r = s_call("GET", "/api/v1/events?available=false", NULL, NULL);
    ck_assert_str_eq(s_page(r.json, got, sizeof got), "3");
    bx_httpc_free(&r);
    /* the list reads the catalog: a manager sees the draft at once */
    r = s_call("GET", s_j("/api/v1/events?organization_id=%s&status=draft", s_org_a), s_tok_a,
               NULL);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_page(r.json, got, sizeof got), "7");
    bx_httpc_free(&r);
    /* and refuses what only the search does */
    const char *bad[] = {"q=rock", "sort=date", "foo=bar", "near=100,0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = s_call("GET", s_j("/api/v1/events?%s", bad[i]), NULL, NULL);
        ck_assert_msg(r.status == 400, "%s: %ld", bad[i], r.status);
        ck_assert_str_eq(s_jstr(r.json, "type"), PT "validation-failed");
        bx_httpc_free(&r);
    }
}
END_TEST

START_TEST(search_answers_revalidate_with_etag)
{
    char etag[128], hdr[160], url[256];
    bx_httpc_resp_t r = s_search("q=hamlet");
    ck_assert(bx_httpc_header(&r, "ETag", etag, sizeof etag));
    bx_httpc_free(&r);
    snprintf(hdr, sizeof hdr, "If-None-Match: %s", etag);
    snprintf(url, sizeof url, BASE "/api/v1/events/search?q=hamlet");
    const char *h[] = {hdr, NULL};
    r = bx_httpc("GET", url, h, NULL, 0);
    S_EXPECT(r, 304);
    bx_httpc_free(&r);
}
END_TEST

START_TEST(index_jobs_skip_layout_changes_and_refuse_other_topics)
{
    char hall[37], path[512];
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls", s_venue_ids[0]);
    s_create(path, s_j("{'name':'Side hall','kind':'hall'}"), hall);
    snprintf(path, sizeof path, "/api/v1/venues/%s", s_venue_ids[2]);
    bx_httpc_resp_t r = s_call("PUT", path, s_tok_a, s_j("{'description':'By the Alster'}"));
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
    s_sql("INSERT INTO outbox (service, topic, route_key, payload) VALUES ('index', "
          "'mystery.changed', 'x', '{\"id\": \"%s\"}')",
          s_ids[0]);
    long left = -1;
    for (int i = 0; i < 200 && left != 0; i++) {
        usleep(50 * 1000);
        left = s_count("SELECT (SELECT count(*) FROM outbox WHERE relayed_at IS NULL) + "
                       "(SELECT count(*) FROM requests WHERE service = 'index' AND status IN "
                       "('queued', 'running'))");
    }
    ck_assert_int_eq(left, 0);
    /* a new hall changes no document: done without a refresh */
    ck_assert_int_eq(s_count("SELECT (result->'data'->'attributes'->>'documents')::int "
                             "FROM requests WHERE service = 'index' AND topic = 'venue.updated' "
                             "AND payload->>'action' = 'hall_created' "
                             "ORDER BY created_at DESC LIMIT 1"),
                     0);
    /* a topic the index does not serve fails visibly, once */
    ck_assert_int_eq(s_count("SELECT count(*) FROM requests WHERE service = 'index' "
                             "AND topic = 'mystery.changed' AND status = 'failed' "
                             "AND http_status = 422"),
                     1);
    /* a venue refresh rewrites each of its events' documents (Hamburg: 2, 5 and 8) */
    ck_assert_int_eq(s_count("SELECT (result->'data'->'attributes'->>'documents')::int "
                             "FROM requests WHERE service = 'index' AND topic = 'venue.updated' "
                             "AND payload->>'action' = 'updated' "
                             "ORDER BY created_at DESC LIMIT 1"),
                     3);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("it_search");
    TCase *tc = tcase_create("search");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, typos_still_find_events);
    tcase_add_test(tc, every_filter_narrows_the_results);
    tcase_add_test(tc, every_sort_orders_the_results);
    tcase_add_test(tc, facets_count_everything_that_matched);
    tcase_add_test(tc, cursor_pages_have_no_gaps_or_duplicates);
    tcase_add_test(tc, drafts_and_cancelled_events_are_never_found);
    tcase_add_test(tc, bad_parameters_are_400_with_the_parameter_named);
    tcase_add_test(tc, sql_and_tsquery_syntax_in_q_is_just_text);
    tcase_add_test(tc, the_event_list_takes_the_same_filters);
    tcase_add_test(tc, search_answers_revalidate_with_etag);
    tcase_add_test(tc, index_jobs_skip_layout_changes_and_refuse_other_topics);
    tcase_add_test(tc, a_change_is_searchable_within_two_seconds);
    suite_add_tcase(s, tc);
    return s;
}
