/* it_catalog: the catalog over real HTTP against a real frontdoor and PostgreSQL: venue
 * CRUD and listing, halls and versioned layouts, events, publishing (inventory
 * materialization), recurring series (DST, exceptions, edits that skip showtimes with
 * sales), tiers, overlap refusal, ETag revalidation after writes, object-level
 * authorization (another organization's objects are 404 with nothing written), and the
 * bad inputs of the catalog issue, each a problem document that changes nothing. */
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

#define HTTP_PORT   25900
#define BROKER_PORT 25901 /* nothing listens: catalog routes never use the pipeline */
#define BASE        "http://127.0.0.1:25900"
#define PT          "https://boxoffice.dev/problems/"

static const char *s_dsn;
static char s_dir[256], s_keydir[300], s_log[300];
static char s_env[12][512];
static const char *s_envp[13];
static pid_t s_fd;
static bx_jwt_ring_t *s_ring;

/* Callers: partners of organizations A and B, a customer, an admin. */
static char s_tok_a[4096], s_tok_b[4096], s_tok_cust[4096], s_tok_admin[4096];
static char s_org_a[37], s_org_b[37];

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

static char *s_sql_str(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like s_sql, returning the first value (caller frees) or NULL. */
static char *s_sql_str(const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return bx_h_sql(s_dsn, sql);
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

/* Inserts a user with role (member of org when not NULL) and a session; mints a token. */
static void s_mint(const char *role, const char *org, char *tok, size_t cap)
{
    char uid[37], sid[37], jti[37];
    bx_uuid_v7(uid);
    bx_uuid_v7(sid);
    bx_uuid_v7(jti);
    s_sql(
        "INSERT INTO users (id, email, password_hash, role) VALUES ('%s', '%s@t.test', 'x', '%s');"
        "INSERT INTO sessions (id, user_id, expires_at) VALUES ('%s', '%s', now() + interval '1 "
        "day')",
        uid, uid, role, sid, uid);
    if (org)
        s_sql(
            "INSERT INTO organization_members (org_id, user_id, role) VALUES ('%s', '%s', 'owner')",
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

static void s_setup(void)
{
    char cmd[2048];
    const char *tmp = getenv("BX_TMP_DIR") ? getenv("BX_TMP_DIR") : "/tmp";
    s_dsn = strdup(bx_h_db("catalog"));
    snprintf(s_dir, sizeof s_dir, "%s/it_catalog.tmp", tmp);
    snprintf(s_keydir, sizeof s_keydir, "%s/keys", s_dir);
    snprintf(s_log, sizeof s_log, "%s/frontdoor.log", s_dir);
    snprintf(cmd, sizeof cmd,
             "rm -rf '%s' && mkdir -p '%s' && BOXOFFICE_JWT_KEY_DIR='%s' %s keygen >/dev/null",
             s_dir, s_keydir, s_keydir, bx_h_bin("bxctl"));
    ck_assert_int_eq(bx_h_sh(cmd), 0);
    s_ring = bx_jwt_ring_load(s_keydir, "boxoffice");
    ck_assert_ptr_nonnull(s_ring);
    bx_uuid_v7(s_org_a);
    bx_uuid_v7(s_org_b);
    s_sql("INSERT INTO organizations (id, name) VALUES ('%s', 'Org A'), ('%s', 'Org B')", s_org_a,
          s_org_b);
    s_mint("partner", s_org_a, s_tok_a, sizeof s_tok_a);
    s_mint("partner", s_org_b, s_tok_b, sizeof s_tok_b);
    s_mint("customer", NULL, s_tok_cust, sizeof s_tok_cust);
    s_mint("admin", NULL, s_tok_admin, sizeof s_tok_admin);
    s_env_init();
    s_fd = bx_h_spawn(bx_h_bin("bx-frontdoor"), NULL, s_envp, s_log);
    ck_assert_int_eq(bx_h_wait_port(HTTP_PORT, 10000), 0);
}

static void s_teardown(void)
{
    if (s_fd > 0)
        bx_h_stop(s_fd, SIGTERM, 5000);
    bx_jwt_ring_destroy(&s_ring);
}

/* ---- helpers ---- */

/* Formats a JSON text written with ' for " (rotating static buffers). */
static const char *s_j(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *s_j(const char *fmt, ...)
{
    static char bufs[64][8192];
    static int next;
    char *b = bufs[next++ % 64];
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

static long s_jint(json_t *j, const char *path)
{
    return (long)json_integer_value(s_jget(j, path));
}

static bx_httpc_resp_t s_call(const char *method, const char *path, const char *tok,
                              const char *body)
{
    char url[1024];
    snprintf(url, sizeof url, BASE "%s", path);
    return bx_httpc_json(method, url, tok, body, NULL);
}

/* Asserts status; on a mismatch the body explains. */
#define S_EXPECT(r, st)                                                                            \
    ck_assert_msg((r).status == (st), "%s:%d: want %d, got %ld: %s", __FILE__, __LINE__, (st),     \
                  (r).status, (r).body ? (r).body : "")

/* Asserts a problem document of status and type slug. */
static void s_problem(bx_httpc_resp_t *r, long status, const char *slug, int line)
{
    char ct[128], want[128];
    ck_assert_msg(r->status == status, "line %d: want %ld, got %ld: %s", line, status, r->status,
                  r->body);
    ck_assert(bx_httpc_header(r, "Content-Type", ct, sizeof ct));
    ck_assert_msg(strstr(ct, "application/problem+json"), "line %d: content type %s", line, ct);
    snprintf(want, sizeof want, PT "%s", slug);
    ck_assert_msg(r->json && !strcmp(s_jstr(r->json, "type"), want), "line %d: type in %s", line,
                  r->body);
}
#define S_PROBLEM(r, st, slug) s_problem(&(r), (st), (slug), __LINE__)

/* POSTs body to path as tok, expects 201 and copies data.id into id. */
static void s_create(const char *path, const char *tok, const char *body, char id[37])
{
    bx_httpc_resp_t r = s_call("POST", path, tok, body);
    S_EXPECT(r, 201);
    bx_strlcpy(id, s_jstr(r.json, "data.id"), 37);
    bx_httpc_free(&r);
}

static void s_venue(const char *tok, const char *city, const char *tz, char id[37])
{
    s_create("/api/v1/venues", tok,
             s_j("{'name':'Venue in %s','address':'1 Main "
                 "Street','city':'%s','country':'DE','latitude':52.52,"
                 "'longitude':13.405,'time_zone':'%s','capacity':500}",
                 city, city, tz),
             id);
}

static void s_hall(const char *tok, const char *venue, const char *name, char id[37])
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls", venue);
    s_create(path, tok, s_j("{'name':'%s','kind':'screen'}", name), id);
}

/* The layout used throughout: section MAIN rows A (3 listed seats, A1 wheelchair) and
 * B (4 generated seats), section BOX with 2 generated seats, GA area PIT of 50. */
static const char *s_layout_body(void)
{
    return s_j("{'sections':["
               "{'code':'MAIN','name':'Main floor','kind':'seated','rows':["
               "{'label':'A','seats':[{'label':'A1','x':0,'y':0,'wheelchair':true},{'label':'A2','"
               "x':1,'y':0},"
               "{'label':'A3','x':2,'y':0,'restricted_view':true}]},"
               "{'label':'B','count':4,'x':0,'y':1}]},"
               "{'code':'BOX','name':'Box','kind':'seated','label_prefix':'BOX-','rows':[{'label':'"
               "X','count':2}]},"
               "{'code':'PIT','name':'Standing','kind':'ga','capacity':50}]}");
}

/* PUTs a layout and returns its version. */
static long s_layout(const char *tok, const char *venue, const char *hall, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls/%s/layout", venue, hall);
    bx_httpc_resp_t r = s_call("PUT", path, tok, body);
    S_EXPECT(r, 201);
    long v = s_jint(r.json, "data.attributes.version");
    bx_httpc_free(&r);
    return v;
}

/* A venue with one hall and the standard layout, owned by tok's organization. */
static void s_place(const char *tok, const char *city, char venue[37], char hall[37])
{
    s_venue(tok, city, "Europe/Berlin", venue);
    s_hall(tok, venue, "Screen 1", hall);
    ck_assert_int_eq(s_layout(tok, venue, hall, s_layout_body()), 1);
}

static void s_event(const char *tok, const char *venue, const char *hall, const char *type,
                    const char *starts, const char *ends, char id[37])
{
    s_create(
        "/api/v1/events", tok,
        s_j("{'name':'Show at "
            "%s','event_type':'%s','venue_id':'%s','hall_id':'%s','starts_at':'%s',"
            "'ends_at':'%s','currency':'EUR','performers':[{'name':'The Band','role':'artist'}]}",
            starts, type, venue, hall, starts, ends),
        id);
}

/* Prices every seat: MAIN at 5000, seat A2 at 9000, BOX at 12000, PIT GA 50 at 2500. */
static void s_tiers(const char *tok, const char *event)
{
    char path[128], id[37];
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", event);
    s_create(path, tok,
             s_j("{'name':'Standard','kind':'seated','price_minor':5000,'sections':['MAIN']}"), id);
    s_create(path, tok,
             s_j("{'name':'Premium','kind':'seated','price_minor':9000,'seats':['A2'],'currency':'"
                 "EUR'}"),
             id);
    s_create(path, tok,
             s_j("{'name':'Box','kind':'seated','price_minor':12000,'sections':['BOX']}"), id);
    s_create(
        path, tok,
        s_j("{'name':'Standing','kind':'ga','price_minor':2500,'section':'PIT','capacity':50}"),
        id);
}

static bx_httpc_resp_t s_post_action(const char *event, const char *action, const char *tok)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/events/%s/%s", event, action);
    return s_call("POST", path, tok, NULL);
}

/* Rows in every catalog table plus outbox and audit: "nothing written" means equal. */
static long s_catalog_rows(void)
{
    return s_count("SELECT (SELECT count(*) FROM venues) + (SELECT count(*) FROM halls) + "
                   "(SELECT count(*) FROM layouts) + (SELECT count(*) FROM layout_sections) + "
                   "(SELECT count(*) FROM layout_seats) + (SELECT count(*) FROM events) + "
                   "(SELECT count(*) FROM event_series) + (SELECT count(*) FROM ticket_tiers) + "
                   "(SELECT count(*) FROM tier_sections) + (SELECT count(*) FROM tier_seats) + "
                   "(SELECT count(*) FROM event_seats) + (SELECT count(*) FROM event_ga) + "
                   "(SELECT count(*) FROM outbox) + "
                   "(SELECT coalesce(sum(hashtext(v::text)), 0) FROM venues v) + "
                   "(SELECT coalesce(sum(hashtext(e::text)), 0) FROM events e) + "
                   "(SELECT coalesce(sum(hashtext(t::text)), 0) FROM ticket_tiers t)");
}

/* ---- venues ---- */

START_TEST(venue_crud_listing_and_fresh_reads)
{
    char v1[37], v2[37], v3[37], path[128], etag[128], etag2[128], lm[64], hdr[160];
    long outbox = s_count("SELECT count(*) FROM outbox WHERE topic = 'venue.updated'");
    s_venue(s_tok_a, "Leipzig", "Europe/Berlin", v1);
    s_venue(s_tok_a, "Leipzig", "Europe/Berlin", v2);
    s_create("/api/v1/venues", s_tok_admin,
             s_j("{'organization_id':'%s','name':'Arena','address':'2 "
                 "Ring','city':'Leipzig','country':'DE',"
                 "'latitude':51.34,'longitude':12.37,'time_zone':'Europe/Berlin','capacity':9000}",
                 s_org_b),
             v3);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM outbox WHERE topic = 'venue.updated' AND service = 'index'"),
        outbox + 3);
    snprintf(path, sizeof path, "/api/v1/venues/%s", v1);
    bx_httpc_resp_t r = s_call("GET", path, NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.type"), "venue");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.time_zone"), "Europe/Berlin");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.organization_id"), s_org_a);
    ck_assert(bx_httpc_header(&r, "ETag", etag, sizeof etag));
    ck_assert(bx_httpc_header(&r, "Last-Modified", lm, sizeof lm));
    bx_httpc_free(&r);
    /* revalidation answers 304 until the venue changes, then the new body at once */
    snprintf(hdr, sizeof hdr, "If-None-Match: %s", etag);
    const char *h[] = {hdr, NULL};
    char url[256];
    snprintf(url, sizeof url, BASE "%s", path);
    r = bx_httpc("GET", url, h, NULL, 0);
    S_EXPECT(r, 304);
    bx_httpc_free(&r);
    r = s_call("PUT", path, s_tok_a,
               s_j("{'name':'Renamed hall','capacity':800,'description':null}"));
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.name"), "Renamed hall");
    bx_httpc_free(&r);
    r = bx_httpc("GET", url, h, NULL, 0);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.name"), "Renamed hall");
    ck_assert_int_eq(s_jint(r.json, "data.attributes.capacity"), 800);
    ck_assert(bx_httpc_header(&r, "ETag", etag2, sizeof etag2));
    ck_assert_str_ne(etag, etag2);
    bx_httpc_free(&r);
    /* the list pages by cursor through all three Leipzig venues */
    r = s_call("GET", "/api/v1/venues?city=leipzig&limit=2", NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data")), 2);
    const char *next = s_jstr(r.json, "links.next");
    ck_assert_ptr_nonnull(next);
    ck_assert_ptr_nonnull(strstr(next, "city=leipzig"));
    bx_httpc_resp_t r2 = s_call("GET", next, NULL, NULL);
    S_EXPECT(r2, 200);
    ck_assert_int_eq(json_array_size(s_jget(r2.json, "data")), 1);
    ck_assert_str_eq(s_jstr(r2.json, "data.0.id"), v3);
    ck_assert_ptr_null(s_jget(r2.json, "links.next"));
    bx_httpc_free(&r);
    bx_httpc_free(&r2);
    /* delete is soft: gone from reads, row kept */
    r = s_call("DELETE", path, s_tok_a, NULL);
    S_EXPECT(r, 204);
    bx_httpc_free(&r);
    r = s_call("GET", path, NULL, NULL);
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM venues WHERE id = '%s' AND deleted_at IS NOT NULL", v1), 1);
    r = s_call("GET", "/api/v1/venues?city=Leipzig", NULL, NULL);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data")), 2);
    bx_httpc_free(&r);
}
END_TEST

/* ---- layouts ---- */

START_TEST(layouts_are_versioned_and_events_keep_theirs)
{
    char venue[37], hall[37], ev1[37], ev2[37], path[200];
    s_place(s_tok_a, "Dresden", venue, hall);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls/%s/layout", venue, hall);
    bx_httpc_resp_t r = s_call("GET", path, NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.seat_count"), 9);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.ga_capacity"), 50);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.sections.0.rows.1.seats.3.label"), "B4");
    ck_assert(json_is_true(s_jget(r.json, "data.attributes.sections.0.rows.0.seats.0.wheelchair")));
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.sections.1.rows.0.seats.1.label"), "BOX-X2");
    bx_httpc_free(&r);
    s_event(s_tok_a, venue, hall, "concert", "2030-05-01T18:00:00Z", "2030-05-01T20:00:00Z", ev1);
    /* a new version: one seat more; the event keeps version 1 */
    const char *v2 = s_j("{'sections':[{'code':'MAIN','name':'Main floor','kind':'seated','rows':["
                         "{'label':'A','count':10}]}]}");
    ck_assert_int_eq(s_layout(s_tok_a, venue, hall, v2), 2);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM layout_seats s JOIN layouts l ON l.id = s.layout_id "
                "WHERE l.hall_id = '%s' AND l.version = 1",
                hall),
        9);
    snprintf(path, sizeof path, "/api/v1/events/%s", ev1);
    r = s_call("GET", path, s_tok_a, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.layout_version"), 1);
    bx_httpc_free(&r);
    s_event(s_tok_a, venue, hall, "concert", "2030-05-02T18:00:00Z", "2030-05-02T20:00:00Z", ev2);
    snprintf(path, sizeof path, "/api/v1/events/%s", ev2);
    r = s_call("GET", path, s_tok_a, NULL);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.layout_version"), 2);
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls/%s/layout?version=1", venue, hall);
    r = s_call("GET", path, NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.seat_count"), 9);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.latest_version"), 2);
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls/%s", venue, hall);
    r = s_call("GET", path, NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.versions.0.events"), 1);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.versions.1.seat_count"), 10);
    bx_httpc_free(&r);
    /* the database itself refuses to edit a version */
    ck_assert_ptr_null(bx_h_sql(s_dsn, "UPDATE layout_seats SET label = 'Z' WHERE label = 'A1'"));
    ck_assert_int_eq(s_count("SELECT count(*) FROM layout_seats WHERE label = 'Z'"), 0);
}
END_TEST

/* ---- publishing ---- */

START_TEST(publish_materializes_seats_and_ga_in_one_transaction)
{
    char venue[37], hall[37], ev[37], bare[37], path[128];
    s_place(s_tok_a, "Hamburg", venue, hall);
    s_event(s_tok_a, venue, hall, "theater", "2030-06-10T18:00:00Z", "2030-06-10T21:00:00Z", ev);
    s_tiers(s_tok_a, ev);
    long published = s_count(
        "SELECT count(*) FROM outbox WHERE topic = 'event.published' AND route_key = '%s'", ev);
    ck_assert_int_eq(published, 0);
    snprintf(path, sizeof path, "/api/v1/events/%s", ev);
    bx_httpc_resp_t r = s_call("GET", path, NULL, NULL);
    S_PROBLEM(r, 404, "not-found"); /* a draft is invisible to the public */
    bx_httpc_free(&r);
    r = s_post_action(ev, "publish", s_tok_a);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.status"), "published");
    ck_assert_int_eq(s_jint(r.json, "meta.inventory.seats"), 9);
    ck_assert_int_eq(s_jint(r.json, "meta.inventory.ga_capacity"), 50);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.price_range.min_minor"), 2500);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.price_range.max_minor"), 12000);
    bx_httpc_free(&r);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM event_seats WHERE event_id = '%s' AND state = 'available'",
                ev),
        9);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM event_seats s JOIN ticket_tiers t ON t.id = s.tier_id "
                "WHERE s.event_id = '%s' AND s.label = 'A2' AND t.name = 'Premium'",
                ev),
        1);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM event_seats s JOIN ticket_tiers t ON t.id = s.tier_id "
                "WHERE s.event_id = '%s' AND t.name = 'Standard'",
                ev),
        6);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM event_seats WHERE event_id = '%s' AND section = 'BOX' "
                "AND row = 'X'",
                ev),
        2);
    ck_assert_int_eq(s_count("SELECT capacity FROM event_ga WHERE event_id = '%s'", ev), 50);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM outbox WHERE topic = 'event.published' AND service = 'index' "
                "AND route_key = '%s'",
                ev),
        1);
    /* anyone sees it now, with tiers and their availability */
    r = s_call("GET", path, NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.local_starts_at"),
                     "2030-06-10T20:00:00+02:00");
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", ev);
    r = s_call("GET", path, s_tok_cust, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data")), 4);
    ck_assert_int_eq(s_jint(r.json, "data.3.attributes.available"), 50);
    ck_assert_int_eq(s_jint(r.json, "data.0.attributes.available"), 6);
    bx_httpc_free(&r);
    r = s_post_action(ev, "publish", s_tok_a);
    S_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    /* an event whose seats are not all priced is refused, and nothing is written */
    s_event(s_tok_a, venue, hall, "theater", "2030-06-11T18:00:00Z", "2030-06-11T21:00:00Z", bare);
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", bare);
    char tier[37];
    s_create(path, s_tok_a,
             s_j("{'name':'Standard','kind':'seated','price_minor':5000,'sections':['MAIN']}"),
             tier);
    long before = s_catalog_rows();
    r = s_post_action(bare, "publish", s_tok_a);
    S_PROBLEM(r, 422, "unprocessable");
    ck_assert_ptr_nonnull(strstr(s_jstr(r.json, "detail"), "BOX"));
    bx_httpc_free(&r);
    ck_assert_int_eq(s_catalog_rows(), before);
}
END_TEST

START_TEST(status_rules_for_published_events_and_their_tiers)
{
    char venue[37], hall[37], ev[37], draft[37], path[160];
    s_place(s_tok_a, "Bremen", venue, hall);
    s_event(s_tok_a, venue, hall, "concert", "2030-07-01T18:00:00Z", "2030-07-01T20:00:00Z", ev);
    snprintf(path, sizeof path, "/api/v1/events/%s", ev);
    bx_httpc_resp_t r = s_call("PUT", path, s_tok_a, s_j("{'status':'published'}"));
    S_PROBLEM(r, 409, "conflict"); /* publishing has its own route */
    bx_httpc_free(&r);
    s_tiers(s_tok_a, ev);
    r = s_post_action(ev, "publish", s_tok_a);
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
    r = s_call("PUT", path, s_tok_a, s_j("{'status':'on_sale','name':'On sale now'}"));
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.status"), "on_sale");
    bx_httpc_free(&r);
    r = s_call("PUT", path, s_tok_a, s_j("{'layout_version':1}"));
    S_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    r = s_call("DELETE", path, s_tok_a, NULL);
    S_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    /* tiers: a seated one can no longer be added, a GA one can, within the area */
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", ev);
    r = s_call("POST", path, s_tok_a,
               s_j("{'name':'Late','kind':'seated','price_minor':1,'sections':['BOX']}"));
    S_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    r = s_call("POST", path, s_tok_a,
               s_j("{'name':'More','kind':'ga','price_minor':1,'section':'PIT','capacity':1}"));
    S_PROBLEM(r, 422, "unprocessable"); /* PIT is full with the Standing tier */
    bx_httpc_free(&r);
    /* GA capacity cannot drop below what is sold */
    s_sql("UPDATE event_ga SET sold = 20 WHERE event_id = '%s'", ev);
    char *t = s_sql_str("SELECT id FROM ticket_tiers WHERE event_id = '%s' AND kind = 'ga'", ev);
    ck_assert_ptr_nonnull(t);
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers/%s", ev, t);
    free(t);
    r = s_call("PUT", path, s_tok_a, s_j("{'capacity':10}"));
    S_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    r = s_call("PUT", path, s_tok_a, s_j("{'capacity':30,'price_minor':2700}"));
    S_EXPECT(r, 200);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.available"), 10);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.price_minor"), 2700);
    bx_httpc_free(&r);
    r = s_call("DELETE", path, s_tok_a, NULL);
    S_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    /* the venue cannot be deleted while it has events; cancelling blocks what is unsold */
    snprintf(path, sizeof path, "/api/v1/venues/%s", venue);
    r = s_call("DELETE", path, s_tok_a, NULL);
    S_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    r = s_post_action(ev, "cancel", s_tok_a);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.status"), "cancelled");
    bx_httpc_free(&r);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM event_seats WHERE event_id = '%s' AND state = 'blocked'", ev),
        9);
    r = s_post_action(ev, "cancel", s_tok_a);
    S_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    /* a draft is deleted outright, tiers and all; then the venue may go */
    s_event(s_tok_a, venue, hall, "concert", "2030-07-02T18:00:00Z", "2030-07-02T20:00:00Z", draft);
    s_tiers(s_tok_a, draft);
    snprintf(path, sizeof path, "/api/v1/events/%s", draft);
    r = s_call("DELETE", path, s_tok_a, NULL);
    S_EXPECT(r, 204);
    bx_httpc_free(&r);
    ck_assert_int_eq(s_count("SELECT count(*) FROM ticket_tiers WHERE event_id = '%s'", draft), 0);
    snprintf(path, sizeof path, "/api/v1/venues/%s", venue);
    r = s_call("DELETE", path, s_tok_a, NULL);
    S_EXPECT(r, 204);
    bx_httpc_free(&r);
}
END_TEST

/* ---- overlaps ---- */

START_TEST(overlapping_showtimes_in_one_hall_are_refused)
{
    char venue[37], hall[37], hall2[37], ev[37], other[37], next[37];
    s_place(s_tok_a, "Kiel", venue, hall);
    s_hall(s_tok_a, venue, "Screen 2", hall2);
    ck_assert_int_eq(s_layout(s_tok_a, venue, hall2, s_layout_body()), 1);
    s_event(s_tok_a, venue, hall, "movie", "2030-08-01T18:00:00Z", "2030-08-01T20:00:00Z", ev);
    long before = s_catalog_rows();
    bx_httpc_resp_t r = s_call(
        "POST", "/api/v1/events", s_tok_a,
        s_j("{'name':'Clash','event_type':'movie','venue_id':'%s','hall_id':'%s',"
            "'starts_at':'2030-08-01T21:00:00+02:00','duration_minutes':90,'currency':'EUR'}",
            venue, hall));
    S_PROBLEM(r, 409, "conflict");
    ck_assert_str_eq(s_jstr(r.json, "conflicting_event_id"), ev);
    bx_httpc_free(&r);
    ck_assert_int_eq(s_catalog_rows(), before);
    /* the same time in another hall, and the next slot in this one, are fine */
    s_event(s_tok_a, venue, hall2, "movie", "2030-08-01T18:00:00Z", "2030-08-01T20:00:00Z", other);
    s_event(s_tok_a, venue, hall, "movie", "2030-08-01T20:00:00Z", "2030-08-01T22:00:00Z", next);
    /* moving an event onto another is refused too */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/events/%s", next);
    before = s_catalog_rows();
    r = s_call("PUT", path, s_tok_a, s_j("{'starts_at':'2030-08-01T19:00:00Z'}"));
    S_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    ck_assert_int_eq(s_catalog_rows(), before);
    /* a series with one showtime on top of an event writes nothing at all */
    r = s_call("POST", "/api/v1/series", s_tok_a,
               s_j("{'name':'Nightly','event_type':'movie','venue_id':'%s','hall_id':'%s','"
                   "currency':'EUR',"
                   "'duration_minutes':100,'recurrence':{'freq':'daily','times':['20:30'],"
                   "'start_date':'2030-07-30','until_date':'2030-08-03'}}",
                   venue, hall));
    S_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    ck_assert_int_eq(s_catalog_rows(), before);
    /* the exclusion constraint holds even without the frontdoor's check */
    ck_assert_ptr_null(
        s_sql_str("UPDATE events SET starts_at = '2030-08-01T19:00:00Z' WHERE id = '%s' "
                  "RETURNING id",
                  next));
}
END_TEST

/* ---- series ---- */

/* Creates a series and returns its document (caller frees). */
static bx_httpc_resp_t s_series(const char *venue, const char *hall, const char *rule, int publish)
{
    return s_call(
        "POST", "/api/v1/series", s_tok_a,
        s_j("{'name':'Daily "
            "film','event_type':'movie','venue_id':'%s','hall_id':'%s','currency':'EUR',"
            "'duration_minutes':120,'recurrence':%s,'publish':%s,'tiers':["
            "{'name':'Seat','kind':'seated','price_minor':1100,'sections':['MAIN','BOX']},"
            "{'name':'Floor','kind':'ga','price_minor':800,'section':'PIT','capacity':40}]}",
            venue, hall, rule, publish ? "true" : "false"));
}

START_TEST(series_materializes_daily_showtimes_across_dst_and_exceptions)
{
    char venue[37], hall[37], hall2[37], sid[37];
    s_place(s_tok_a, "Munich", venue, hall);
    bx_httpc_resp_t r = s_series(venue, hall,
                                 s_j("{'freq':'daily','times':['20:00'],'start_date':'2030-06-03',"
                                     "'until_date':'2030-06-09'}"),
                                 0);
    S_EXPECT(r, 201);
    bx_strlcpy(sid, s_jstr(r.json, "data.id"), sizeof sid);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "meta.created")), 7);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data.attributes.showtimes")), 7);
    bx_httpc_free(&r);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM events WHERE series_id = '%s' AND status = 'draft'", sid), 7);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM ticket_tiers t JOIN events e ON e.id = t.event_id "
                "WHERE e.series_id = '%s'",
                sid),
        14);
    /* the week DST starts in Berlin (2030-03-31): 20:00 local is 19:00Z before, 18:00Z after;
     * 2030-03-30 is an exception; published showtimes each get their own inventory */
    s_hall(s_tok_a, venue, "Screen 9", hall2);
    ck_assert_int_eq(s_layout(s_tok_a, venue, hall2, s_layout_body()), 1);
    r = s_series(venue, hall2,
                 s_j("{'freq':'daily','times':['20:00'],'start_date':'2030-03-28',"
                     "'until_date':'2030-04-03','exceptions':['2030-03-30']}"),
                 1);
    S_EXPECT(r, 201);
    bx_strlcpy(sid, s_jstr(r.json, "data.id"), sizeof sid);
    json_t *st = s_jget(r.json, "data.attributes.showtimes");
    ck_assert_int_eq(json_array_size(st), 6);
    ck_assert_str_eq(s_jstr(st, "0.starts_at"), "2030-03-28T19:00:00Z");
    ck_assert_str_eq(s_jstr(st, "0.local_starts_at"), "2030-03-28T20:00:00+01:00");
    ck_assert_str_eq(s_jstr(st, "1.starts_at"), "2030-03-29T19:00:00Z");
    ck_assert_str_eq(s_jstr(st, "2.starts_at"), "2030-03-31T18:00:00Z");
    ck_assert_str_eq(s_jstr(st, "2.local_starts_at"), "2030-03-31T20:00:00+02:00");
    ck_assert_str_eq(s_jstr(st, "5.starts_at"), "2030-04-03T18:00:00Z");
    ck_assert_str_eq(s_jstr(st, "5.status"), "published");
    bx_httpc_free(&r);
    ck_assert_int_eq(s_count("SELECT count(*) FROM events WHERE series_id = '%s' AND "
                             "(starts_at AT TIME ZONE 'Europe/Berlin')::date = '2030-03-30'",
                             sid),
                     0);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM event_seats s JOIN events e ON e.id = s.event_id "
                "WHERE e.series_id = '%s'",
                sid),
        6 * 9);
    ck_assert_int_eq(
        s_count("SELECT sum(capacity) FROM event_ga g JOIN events e ON e.id = g.event_id "
                "WHERE e.series_id = '%s'",
                sid),
        6 * 40);
    /* weekly on Monday and Friday for two weeks: 4 showtimes */
    r = s_series(venue, hall2,
                 s_j("{'freq':'weekly','weekdays':[1,5],'times':['12:00'],"
                     "'start_date':'2030-09-02','until_date':'2030-09-15'}"),
                 0);
    S_EXPECT(r, 201);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data.attributes.showtimes")), 4);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.showtimes.1.local_starts_at"),
                     "2030-09-06T12:00:00+02:00");
    bx_httpc_free(&r);
}
END_TEST

START_TEST(series_edit_changes_unsold_showtimes_and_reports_the_rest)
{
    char venue[37], hall[37], sid[37], path[128], sold[37], last[37];
    s_place(s_tok_a, "Cologne", venue, hall);
    bx_httpc_resp_t r = s_series(venue, hall,
                                 s_j("{'freq':'daily','times':['19:00'],'start_date':'2030-10-01',"
                                     "'until_date':'2030-10-05'}"),
                                 1);
    S_EXPECT(r, 201);
    bx_strlcpy(sid, s_jstr(r.json, "data.id"), sizeof sid);
    bx_strlcpy(sold, s_jstr(r.json, "data.attributes.showtimes.2.id"), sizeof sold);
    bx_strlcpy(last, s_jstr(r.json, "data.attributes.showtimes.4.id"), sizeof last);
    bx_httpc_free(&r);
    s_sql("UPDATE event_seats SET state = 'sold', version = version + 1 WHERE event_id = '%s' AND "
          "label = 'A1'",
          sold);
    /* rename, lengthen, and end a day earlier */
    snprintf(path, sizeof path, "/api/v1/series/%s", sid);
    r = s_call("PUT", path, s_tok_a,
               s_j("{'name':'Director "
                   "cut','duration_minutes':150,'recurrence':{'freq':'daily','times':['19:00'],"
                   "'start_date':'2030-10-01','until_date':'2030-10-04'}}"));
    S_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "meta.updated")), 3);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "meta.removed")), 1);
    ck_assert_str_eq(s_jstr(r.json, "meta.removed.0"), last);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "meta.unchanged")), 1);
    ck_assert_str_eq(s_jstr(r.json, "meta.unchanged.0.event_id"), sold);
    ck_assert_str_eq(s_jstr(r.json, "meta.unchanged.0.reason"), "has sales or holds");
    ck_assert_int_eq(json_array_size(s_jget(r.json, "meta.created")), 0);
    bx_httpc_free(&r);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM events WHERE series_id = '%s' AND name = 'Director cut' AND "
                "ends_at - starts_at = interval '150 minutes'",
                sid),
        3);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM events WHERE id = '%s' AND name = 'Daily film' AND "
                "ends_at - starts_at = interval '120 minutes'",
                sold),
        1);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM events WHERE id = '%s' AND status = 'cancelled'", last), 1);
    /* moving the time: unsold showtimes move (old cancelled, new published), the sold one stays */
    r = s_call("PUT", path, s_tok_a,
               s_j("{'recurrence':{'freq':'daily','times':['15:00'],'start_date':'2030-10-01',"
                   "'until_date':'2030-10-04'}}"));
    S_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "meta.removed")), 3);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "meta.unchanged")), 1);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "meta.created")), 4);
    bx_httpc_free(&r);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM events WHERE series_id = '%s' AND status = 'published' AND "
                "name = 'Director cut'",
                sid),
        4);
    /* another organization cannot see or edit the series */
    r = s_call("PUT", path, s_tok_b, s_j("{'name':'Hijack'}"));
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = s_call("GET", path, s_tok_b, NULL);
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = s_call("GET", path, s_tok_a, NULL);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.recurrence.times.0"), "15:00");
    bx_httpc_free(&r);
}
END_TEST

/* ---- tiers ---- */

START_TEST(tiers_keep_prices_sale_windows_and_order_limits)
{
    char venue[37], hall[37], ev[37], seated[37], ga[37], path[200];
    s_place(s_tok_a, "Bochum", venue, hall);
    s_event(s_tok_a, venue, hall, "theater", "2031-02-01T18:00:00Z", "2031-02-01T20:00:00Z", ev);
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", ev);
    bx_httpc_resp_t r = s_call(
        "POST", path, s_tok_a,
        s_j("{'name':'Stalls','kind':'seated','price_minor':4550,'sections':['MAIN'],"
            "'seats':['BOX-X1'],'sale_starts_at':'2030-12-01T09:00:00Z',"
            "'sale_ends_at':'2031-02-01T17:00:00Z','min_per_order':2,'max_per_order':6}"));
    S_EXPECT(r, 201);
    bx_strlcpy(seated, s_jstr(r.json, "data.id"), sizeof seated);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.price_minor"), 4550);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.currency"), "EUR");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.sections.0"), "MAIN");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.seats.0"), "BOX-X1");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.sale_starts_at"), "2030-12-01T09:00:00Z");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.sale_ends_at"), "2031-02-01T17:00:00Z");
    ck_assert_int_eq(s_jint(r.json, "data.attributes.min_per_order"), 2);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.max_per_order"), 6);
    bx_httpc_free(&r);
    r = s_call("POST", path, s_tok_a,
               s_j("{'name':'Standing','kind':'ga','price_minor':0,'section':'PIT','capacity':40}"));
    S_EXPECT(r, 201);
    bx_strlcpy(ga, s_jstr(r.json, "data.id"), sizeof ga);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.capacity"), 40);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.price_minor"), 0);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.min_per_order"), 1);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.max_per_order"), 10);
    bx_httpc_free(&r);
    ck_assert_int_eq(s_count("SELECT count(*) FROM ticket_tiers WHERE id IN ('%s', '%s') AND "
                             "currency = 'EUR'",
                             seated, ga),
                     2);
    /* a minimum above the maximum is refused and writes nothing, on create and on edit */
    long before = s_catalog_rows();
    r = s_call("POST", path, s_tok_a,
               s_j("{'name':'Odd','kind':'seated','price_minor':1,'sections':['BOX'],"
                   "'min_per_order':5,'max_per_order':2}"));
    S_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    char one[240];
    snprintf(one, sizeof one, "%s/%s", path, seated);
    r = s_call("PUT", one, s_tok_a, s_j("{'min_per_order':7}"));
    S_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    ck_assert_int_eq(s_catalog_rows(), before);
    /* the event's tiers, in order, to its managers */
    r = s_call("GET", path, s_tok_a, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data")), 2);
    ck_assert_str_eq(s_jstr(r.json, "data.0.id"), seated);
    ck_assert_str_eq(s_jstr(r.json, "data.1.id"), ga);
    bx_httpc_free(&r);
}
END_TEST

/* A venue in London with one hall and the standard layout. */
static void s_london(char venue[37], char hall[37])
{
    s_create("/api/v1/venues", s_tok_a,
             s_j("{'name':'Riverside Screen','address':'1 Bankside','city':'London','country':'GB',"
                 "'latitude':51.5074,'longitude':-0.1278,'time_zone':'Europe/London',"
                 "'capacity':300}"),
             venue);
    s_hall(s_tok_a, venue, "Screen 1", hall);
    ck_assert_int_eq(s_layout(s_tok_a, venue, hall, s_layout_body()), 1);
}

START_TEST(series_stays_at_19_00_local_in_london_across_both_dst_changes)
{
    char venue[37], hall[37], sid[37];
    s_london(venue, hall);
    /* British Summer Time 2030 starts Sunday 31 March and ends Sunday 27 October */
    const struct {
        const char *from, *until;
        const char *utc[5], *local[5];
    } weeks[] = {
        {"2030-03-29",
         "2030-04-02",
         {"2030-03-29T19:00:00Z", "2030-03-30T19:00:00Z", "2030-03-31T18:00:00Z",
          "2030-04-01T18:00:00Z", "2030-04-02T18:00:00Z"},
         {"2030-03-29T19:00:00+00:00", "2030-03-30T19:00:00+00:00", "2030-03-31T19:00:00+01:00",
          "2030-04-01T19:00:00+01:00", "2030-04-02T19:00:00+01:00"}},
        {"2030-10-25",
         "2030-10-29",
         {"2030-10-25T18:00:00Z", "2030-10-26T18:00:00Z", "2030-10-27T19:00:00Z",
          "2030-10-28T19:00:00Z", "2030-10-29T19:00:00Z"},
         {"2030-10-25T19:00:00+01:00", "2030-10-26T19:00:00+01:00", "2030-10-27T19:00:00+00:00",
          "2030-10-28T19:00:00+00:00", "2030-10-29T19:00:00+00:00"}},
    };
    for (size_t w = 0; w < 2; w++) {
        bx_httpc_resp_t r = s_series(venue, hall,
                                     s_j("{'freq':'daily','times':['19:00'],'start_date':'%s',"
                                         "'until_date':'%s'}",
                                         weeks[w].from, weeks[w].until),
                                     1);
        S_EXPECT(r, 201);
        bx_strlcpy(sid, s_jstr(r.json, "data.id"), sizeof sid);
        json_t *st = s_jget(r.json, "data.attributes.showtimes");
        ck_assert_int_eq(json_array_size(st), 5);
        for (size_t i = 0; i < 5; i++) {
            char k[32];
            snprintf(k, sizeof k, "%zu.starts_at", i);
            ck_assert_str_eq(s_jstr(st, k), weeks[w].utc[i]);
            snprintf(k, sizeof k, "%zu.local_starts_at", i);
            ck_assert_str_eq(s_jstr(st, k), weeks[w].local[i]);
        }
        bx_httpc_free(&r);
        /* and in the database: every showtime at 19:00 on the wall clocks of London */
        ck_assert_int_eq(s_count("SELECT count(*) FROM events WHERE series_id = '%s' AND "
                                 "to_char(starts_at AT TIME ZONE 'Europe/London', 'HH24:MI') = "
                                 "'19:00' AND ends_at - starts_at = interval '120 minutes'",
                                 sid),
                         5);
    }
    /* a single event read answers the local time with the summer offset */
    char *id = s_sql_str("SELECT id FROM events WHERE hall_id = '%s' AND starts_at = "
                         "'2030-03-31T18:00:00Z'",
                         hall);
    ck_assert_ptr_nonnull(id);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/events/%s", id);
    free(id);
    bx_httpc_resp_t r = s_call("GET", path, NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.local_starts_at"),
                     "2030-03-31T19:00:00+01:00");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.time_zone"), "Europe/London");
    bx_httpc_free(&r);
}
END_TEST

START_TEST(series_edit_keeps_held_showtimes_and_never_overlaps_them)
{
    char venue[37], hall[37], sid[37], path[128], ga_held[37], seat_held[37], hold[37];
    s_place(s_tok_a, "Potsdam", venue, hall);
    bx_httpc_resp_t r = s_series(venue, hall,
                                 s_j("{'freq':'daily','times':['19:00'],'start_date':'2030-11-04',"
                                     "'until_date':'2030-11-07'}"),
                                 1);
    S_EXPECT(r, 201);
    bx_strlcpy(sid, s_jstr(r.json, "data.id"), sizeof sid);
    bx_strlcpy(ga_held, s_jstr(r.json, "data.attributes.showtimes.1.id"), sizeof ga_held);
    bx_strlcpy(seat_held, s_jstr(r.json, "data.attributes.showtimes.2.id"), sizeof seat_held);
    bx_httpc_free(&r);
    /* a customer holds two GA places of one showtime and one seat of the next */
    bx_uuid_v7(hold);
    s_sql("UPDATE event_ga SET held = 2 WHERE event_id = '%s'", ga_held);
    s_sql("UPDATE event_seats SET state = 'held', hold_id = '%s', version = version + 1 "
          "WHERE event_id = '%s' AND label = 'B2'",
          hold, seat_held);
    ck_assert_int_eq(s_count("SELECT sum(held) FROM event_ga WHERE event_id = '%s'", ga_held), 2);
    ck_assert_int_eq(s_count("SELECT count(*) FROM event_seats WHERE event_id = '%s' AND "
                             "state = 'held'",
                             seat_held),
                     1);
    /* an hour earlier: 18:00-20:00 would overlap the held 19:00-21:00 showtimes */
    snprintf(path, sizeof path, "/api/v1/series/%s", sid);
    r = s_call("PUT", path, s_tok_a,
               s_j("{'recurrence':{'freq':'daily','times':['18:00'],'start_date':'2030-11-04',"
                   "'until_date':'2030-11-07'}}"));
    S_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "meta.removed")), 2);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "meta.created")), 2);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "meta.unchanged")), 2);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "meta.skipped")), 2);
    for (int i = 0; i < 2; i++) {
        char k[48];
        snprintf(k, sizeof k, "meta.unchanged.%d.event_id", i);
        const char *u = s_jstr(r.json, k);
        ck_assert_msg(u && (!strcmp(u, ga_held) || !strcmp(u, seat_held)), "unchanged %s", u);
        snprintf(k, sizeof k, "meta.unchanged.%d.reason", i);
        ck_assert_str_eq(s_jstr(r.json, k), "has sales or holds");
        snprintf(k, sizeof k, "meta.skipped.%d.event_id", i);
        u = s_jstr(r.json, k);
        ck_assert_msg(u && (!strcmp(u, ga_held) || !strcmp(u, seat_held)), "skipped %s", u);
    }
    bx_httpc_free(&r);
    /* the held showtimes kept their time and their holds */
    ck_assert_int_eq(s_count("SELECT count(*) FROM events WHERE id IN ('%s', '%s') AND status = "
                             "'published' AND to_char(starts_at AT TIME ZONE 'Europe/Berlin', "
                             "'HH24:MI') = '19:00'",
                             ga_held, seat_held),
                     2);
    ck_assert_int_eq(s_count("SELECT sum(held) FROM event_ga WHERE event_id = '%s'", ga_held), 2);
    ck_assert_int_eq(s_count("SELECT count(*) FROM event_seats WHERE event_id = '%s' AND "
                             "state = 'held' AND hold_id = '%s'",
                             seat_held, hold),
                     1);
    /* four live showtimes: two moved to 18:00, two kept at 19:00, none overlapping */
    ck_assert_int_eq(s_count("SELECT count(*) FROM events WHERE series_id = '%s' AND status <> "
                             "'cancelled'",
                             sid),
                     4);
    ck_assert_int_eq(s_count("SELECT count(*) FROM events a JOIN events b ON a.hall_id = b.hall_id "
                             "AND a.id < b.id AND tstzrange(a.starts_at, a.ends_at) && "
                             "tstzrange(b.starts_at, b.ends_at) WHERE a.hall_id = '%s' AND "
                             "a.status <> 'cancelled' AND b.status <> 'cancelled'",
                             hall),
                     0);
}
END_TEST

/* ---- authorization ---- */

START_TEST(other_organizations_get_404_and_nothing_is_written)
{
    char venue[37], hall[37], ev[37], tier[37], path[200], p_series[96];
    s_place(s_tok_a, "Bonn", venue, hall);
    bx_httpc_resp_t rs = s_series(venue, hall,
                                  s_j("{'freq':'daily','times':['10:00'],'start_date':'2031-04-01',"
                                      "'until_date':'2031-04-02'}"),
                                  0);
    S_EXPECT(rs, 201);
    snprintf(p_series, sizeof p_series, "/api/v1/series/%s", s_jstr(rs.json, "data.id"));
    bx_httpc_free(&rs);
    s_event(s_tok_a, venue, hall, "sports", "2030-11-01T18:00:00Z", "2030-11-01T20:00:00Z", ev);
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", ev);
    s_create(path, s_tok_a,
             s_j("{'name':'All','kind':'seated','price_minor':100,'sections':['MAIN','BOX']}"),
             tier);
    char p_venue[96], p_halls[128], p_layout[200], p_event[96], p_tiers[128], p_tier[200];
    snprintf(p_venue, sizeof p_venue, "/api/v1/venues/%s", venue);
    snprintf(p_halls, sizeof p_halls, "/api/v1/venues/%s/halls", venue);
    snprintf(p_layout, sizeof p_layout, "/api/v1/venues/%s/halls/%s/layout", venue, hall);
    snprintf(p_event, sizeof p_event, "/api/v1/events/%s", ev);
    snprintf(p_tiers, sizeof p_tiers, "/api/v1/events/%s/tiers", ev);
    snprintf(p_tier, sizeof p_tier, "/api/v1/events/%s/tiers/%s", ev, tier);
    const struct {
        const char *method, *path, *body;
    } cases[] = {
        {"PUT", p_venue, s_j("{'name':'Mine now'}")},
        {"DELETE", p_venue, NULL},
        {"POST", p_halls, s_j("{'name':'Sneaky','kind':'hall'}")},
        {"PUT", p_layout, s_j("{'sections':[{'code':'G','name':'G','kind':'ga','capacity':5}]}")},
        {"POST", "/api/v1/events",
         s_j("{'name':'Squat','event_type':'concert','venue_id':'%s','hall_id':'%s',"
             "'starts_at':'2031-01-01T10:00:00Z','duration_minutes':60,'currency':'EUR'}",
             venue, hall)},
        {"POST", "/api/v1/series",
         s_j("{'name':'Squat','event_type':'movie','venue_id':'%s','hall_id':'%s',"
             "'currency':'EUR','duration_minutes':60,'recurrence':{'freq':'daily',"
             "'times':['10:00'],'start_date':'2031-02-01','until_date':'2031-02-02'}}",
             venue, hall)},
        {"GET", p_event, NULL},
        {"GET", p_tiers, NULL},
        {"PUT", p_event, s_j("{'name':'Mine now'}")},
        {"DELETE", p_event, NULL},
        {"POST", p_tiers,
         s_j("{'name':'Cheap','kind':'ga','price_minor':1,'section':'PIT','capacity':1}")},
        {"PUT", p_tier, s_j("{'price_minor':1}")},
        {"DELETE", p_tier, NULL},
        {"GET", p_series, NULL},
        {"PUT", p_series, s_j("{'name':'Hijack','duration_minutes':30}")},
        {"PUT", p_series,
         s_j("{'recurrence':{'freq':'daily','times':['11:00'],'start_date':'2031-04-01',"
             "'until_date':'2031-04-03'}}")},
    };
    long before = s_catalog_rows();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bx_httpc_resp_t r = s_call(cases[i].method, cases[i].path, s_tok_b, cases[i].body);
        ck_assert_msg(r.status == 404, "case %zu %s %s: %ld %s", i, cases[i].method, cases[i].path,
                      r.status, r.body);
        bx_httpc_free(&r);
    }
    const char *actions[] = {"publish", "cancel"};
    for (int i = 0; i < 2; i++) {
        bx_httpc_resp_t r = s_post_action(ev, actions[i], s_tok_b);
        S_PROBLEM(r, 404, "not-found");
        bx_httpc_free(&r);
    }
    ck_assert_int_eq(s_catalog_rows(), before);
    /* customers and anonymous callers: no writes at all, no drafts */
    bx_httpc_resp_t r = s_call("POST", "/api/v1/venues", s_tok_cust, s_j("{'name':'x'}"));
    S_PROBLEM(r, 403, "forbidden");
    bx_httpc_free(&r);
    r = s_call("PUT", p_event, NULL, s_j("{'name':'x'}"));
    S_PROBLEM(r, 401, "unauthorized");
    bx_httpc_free(&r);
    r = s_call("GET", p_event, s_tok_cust, NULL);
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = s_call("GET", p_tiers, NULL, NULL);
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    ck_assert_int_eq(s_catalog_rows(), before);
    /* the owner and an admin do see the draft; the admin may change it */
    r = s_call("GET", p_event, s_tok_a, NULL);
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
    r = s_call("PUT", p_event, s_tok_admin, s_j("{'description':'Checked by support'}"));
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
    /* a partner who names another organization for a new venue is refused too */
    r = s_call("POST", "/api/v1/venues", s_tok_b,
               s_j("{'organization_id':'%s','name':'Fake','address':'x','city':'Bonn','country':'"
                   "DE','latitude':1,"
                   "'longitude':1,'time_zone':'UTC','capacity':1}",
                   s_org_a));
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
}
END_TEST

/* ---- bad input ---- */

START_TEST(bad_input_is_a_problem_and_writes_nothing)
{
    char venue[37], hall[37], ev[37], vb[37], hb[37], p_layout[200], p_tiers[128];
    s_place(s_tok_a, "Essen", venue, hall);
    s_place(s_tok_b, "Essen", vb, hb);
    s_event(s_tok_a, venue, hall, "concert", "2030-12-01T18:00:00Z", "2030-12-01T20:00:00Z", ev);
    snprintf(p_layout, sizeof p_layout, "/api/v1/venues/%s/halls/%s/layout", venue, hall);
    snprintf(p_tiers, sizeof p_tiers, "/api/v1/events/%s/tiers", ev);
    const char *venue_fmt =
        "{'name':'V','address':'A','city':'C','country':'%s','latitude':%s,'longitude':%s,"
        "'time_zone':'%s','capacity':10}";
    const char *event_fmt =
        "{'name':'E','event_type':'%s','venue_id':'%s','hall_id':'%s','starts_at':'%s',"
        "'ends_at':'%s','currency':'%s'}";
    const struct {
        const char *what, *method, *path, *body;
        long status;
        const char *slug, *pointer;
    } cases[] = {
        {"latitude over 90", "POST", "/api/v1/venues",
         s_j(venue_fmt, "DE", "91.5", "10", "Europe/Berlin"), 400, "validation-failed",
         "/latitude"},
        {"longitude under -180", "POST", "/api/v1/venues",
         s_j(venue_fmt, "DE", "10", "-180.01", "Europe/Berlin"), 400, "validation-failed",
         "/longitude"},
        {"coordinates as text", "POST", "/api/v1/venues",
         s_j(venue_fmt, "DE", "'north'", "10", "Europe/Berlin"), 400, "validation-failed",
         "/latitude"},
        {"unknown country", "POST", "/api/v1/venues",
         s_j(venue_fmt, "XX", "1", "1", "Europe/Berlin"), 400, "validation-failed", "/country"},
        {"unknown time zone", "POST", "/api/v1/venues",
         s_j(venue_fmt, "DE", "1", "1", "Mars/Olympus_Mons"), 400, "validation-failed",
         "/time_zone"},
        {"unknown field", "POST", "/api/v1/venues", s_j("{'name':'V','rating':5}"), 400,
         "validation-failed", NULL},
        {"end before start", "POST", "/api/v1/events",
         s_j(event_fmt, "concert", venue, hall, "2031-03-01T20:00:00Z", "2031-03-01T19:00:00Z",
             "EUR"),
         400, "validation-failed", "/ends_at"},
        {"unknown event type", "POST", "/api/v1/events",
         s_j(event_fmt, "opera", venue, hall, "2031-03-01T18:00:00Z", "2031-03-01T19:00:00Z",
             "EUR"),
         400, "validation-failed", "/event_type"},
        {"unknown currency", "POST", "/api/v1/events",
         s_j(event_fmt, "concert", venue, hall, "2031-03-01T18:00:00Z", "2031-03-01T19:00:00Z",
             "ZZZ"),
         400, "validation-failed", "/currency"},
        {"another organization's venue id", "POST", "/api/v1/events",
         s_j(event_fmt, "concert", vb, hb, "2031-03-01T18:00:00Z", "2031-03-01T19:00:00Z", "EUR"),
         404, "not-found", NULL},
        {"overlapping showtime", "POST", "/api/v1/events",
         s_j(event_fmt, "concert", venue, hall, "2030-12-01T19:00:00Z", "2030-12-01T21:00:00Z",
             "EUR"),
         409, "conflict", NULL},
        {"duplicate seat labels", "PUT", p_layout,
         s_j("{'sections':[{'code':'S','name':'S','kind':'seated','rows':[{'label':'A','count':3},"
             "{'label':'B','seats':[{'label':'A2','x':0,'y':1}]}]}]}"),
         400, "validation-failed", "/sections/0/rows/1/seats/0/label"},
        {"GA area without capacity", "PUT", p_layout,
         s_j("{'sections':[{'code':'G','name':'G','kind':'ga'}]}"), 400, "validation-failed",
         "/sections/0"},
        {"price below zero", "POST", p_tiers,
         s_j("{'name':'Neg','kind':'seated','price_minor':-1,'sections':['MAIN']}"), 400,
         "validation-failed", "/price_minor"},
        {"price as a decimal", "POST", p_tiers,
         s_j("{'name':'Dec','kind':'seated','price_minor':10.5,'sections':['MAIN']}"), 400,
         "validation-failed", "/price_minor"},
        {"currency other than the event's", "POST", p_tiers,
         s_j("{'name':'USD','kind':'seated','price_minor':1,'currency':'USD','sections':['MAIN']}"),
         400, "validation-failed", "/currency"},
        {"unknown section", "POST", p_tiers,
         s_j("{'name':'Nope','kind':'seated','price_minor':1,'sections':['ZZ']}"), 400,
         "validation-failed", "/sections"},
        {"GA tier over the area", "POST", p_tiers,
         s_j("{'name':'Big','kind':'ga','price_minor':1,'section':'PIT','capacity':51}"), 422,
         "unprocessable", NULL},
        {"sale window reversed", "POST", p_tiers,
         s_j("{'name':'W','kind':'seated','price_minor':1,'sections':['BOX'],'sale_starts_at':'"
             "2030-11-01T00:00:00Z',"
             "'sale_ends_at':'2030-10-01T00:00:00Z'}"),
         400, "validation-failed", NULL},
        {"series with a bad time", "POST", "/api/v1/series",
         s_j("{'name':'S','event_type':'movie','venue_id':'%s','hall_id':'%s','currency':'EUR','"
             "duration_minutes':60,"
             "'recurrence':{'freq':'daily','times':['25:00'],'start_date':'2031-01-01','until_date'"
             ":'2031-01-02'}}",
             venue, hall),
         400, "validation-failed", "/recurrence/times/0"},
        {"series until before start", "POST", "/api/v1/series",
         s_j("{'name':'S','event_type':'movie','venue_id':'%s','hall_id':'%s','currency':'EUR','"
             "duration_minutes':60,"
             "'recurrence':{'freq':'daily','times':['10:00'],'start_date':'2031-01-05','until_date'"
             ":'2031-01-02'}}",
             venue, hall),
         400, "validation-failed", "/recurrence/until_date"},
        {"bad cursor", "GET", "/api/v1/events?cursor=bm90LWEtY3Vyc29y", NULL, 400,
         "validation-failed", NULL},
        {"limit out of range", "GET", "/api/v1/events?limit=101", NULL, 400, "validation-failed",
         NULL},
        {"unknown type filter", "GET", "/api/v1/events?type=opera", NULL, 400, "validation-failed",
         NULL},
        {"malformed id", "GET", "/api/v1/events/not-a-uuid", NULL, 404, "not-found", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long before = s_catalog_rows();
        bx_httpc_resp_t r = s_call(cases[i].method, cases[i].path, s_tok_a, cases[i].body);
        ck_assert_msg(r.status == cases[i].status, "%s: %ld %s", cases[i].what, r.status, r.body);
        s_problem(&r, cases[i].status, cases[i].slug, (int)i);
        if (cases[i].pointer)
            ck_assert_msg(s_jstr(r.json, "errors.0.pointer") &&
                              !strcmp(s_jstr(r.json, "errors.0.pointer"), cases[i].pointer),
                          "%s: pointer in %s", cases[i].what, r.body);
        bx_httpc_free(&r);
        ck_assert_msg(s_catalog_rows() == before, "%s wrote something", cases[i].what);
    }
}
END_TEST

/* ---- listing ---- */

START_TEST(event_list_filters_pages_and_hides_drafts)
{
    char venue[37], hall[37], ids[5][37], draft[37], url[512];
    s_place(s_tok_a, "Wuppertal", venue, hall);
    const char *starts[] = {"2031-04-01T08:00:00Z", "2031-04-01T12:00:00Z", "2031-04-01T22:30:00Z",
                            "2031-04-02T12:00:00Z", "2031-04-03T12:00:00Z"};
    for (int i = 0; i < 5; i++) {
        char ends[32]; /* 59 minutes later: the same hour, minute 59 */
        bx_strlcpy(ends, starts[i], sizeof ends);
        memcpy(ends + 14, "59", 2);
        s_event(s_tok_a, venue, hall, i == 4 ? "sports" : "concert", starts[i], ends, ids[i]);
        s_tiers(s_tok_a, ids[i]);
        bx_httpc_resp_t r = s_post_action(ids[i], "publish", s_tok_a);
        S_EXPECT(r, 200);
        bx_httpc_free(&r);
    }
    s_event(s_tok_a, venue, hall, "concert", "2031-04-04T12:00:00Z", "2031-04-04T13:00:00Z", draft);
    /* pages of two, in start order, drafts left out */
    snprintf(url, sizeof url, "/api/v1/events?city=Wuppertal&limit=2");
    int seen = 0;
    for (int page = 0; page < 5 && url[0]; page++) {
        bx_httpc_resp_t r = s_call("GET", url, NULL, NULL);
        S_EXPECT(r, 200);
        json_t *data = s_jget(r.json, "data");
        for (size_t i = 0; i < json_array_size(data); i++, seen++)
            ck_assert_str_eq(s_jstr(data, s_j("%zu.id", i)), ids[seen]);
        const char *next = s_jstr(r.json, "links.next");
        bx_strlcpy(url, next ? next : "", sizeof url);
        bx_httpc_free(&r);
    }
    ck_assert_int_eq(seen, 5);
    /* type, and dates local to the venue: 22:30Z on April 1 is April 2 in Berlin */
    bx_httpc_resp_t r = s_call("GET", "/api/v1/events?city=wuppertal&type=sports", NULL, NULL);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data")), 1);
    ck_assert_str_eq(s_jstr(r.json, "data.0.id"), ids[4]);
    bx_httpc_free(&r);
    r = s_call("GET", "/api/v1/events?city=wuppertal&from=2031-04-02&to=2031-04-02", NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data")), 2);
    ck_assert_str_eq(s_jstr(r.json, "data.0.id"), ids[2]);
    bx_httpc_free(&r);
    r = s_call("GET",
               "/api/v1/events?city=wuppertal&from=2031-04-01T10:00:00Z&to=2031-04-02T00:00:00Z",
               NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data")), 2);
    bx_httpc_free(&r);
    /* drafts: only for the organization's own members */
    snprintf(url, sizeof url, "/api/v1/events?organization_id=%s&status=draft&venue_id=%s", s_org_a,
             venue);
    r = s_call("GET", url, s_tok_a, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data")), 1);
    ck_assert_str_eq(s_jstr(r.json, "data.0.id"), draft);
    bx_httpc_free(&r);
    r = s_call("GET", url, s_tok_b, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data")), 0);
    bx_httpc_free(&r);
    r = s_call("GET", url, NULL, NULL);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data")), 0);
    bx_httpc_free(&r);
}
END_TEST

/* ---- scale and freshness ---- */

START_TEST(stadium_layout_of_60000_seats_publishes_in_one_request)
{
    char venue[37], hall[37], ev[37], path[200];
    static char body[900000];
    size_t n = (size_t)snprintf(body, sizeof body, "{\"sections\":[");
    for (int s = 0; s < 40; s++) {
        n += (size_t)snprintf(body + n, sizeof body - n,
                              "%s{\"code\":\"%d\",\"name\":\"Block %d\",\"kind\":\"seated\","
                              "\"label_prefix\":\"%d-\",\"rows\":[",
                              s ? "," : "", 101 + s, 101 + s, 101 + s);
        for (int r = 0; r < 50; r++)
            n += (size_t)snprintf(body + n, sizeof body - n,
                                  "%s{\"label\":\"R%d-\",\"count\":30,\"x\":%d,\"y\":%d}",
                                  r ? "," : "", r + 1, s * 40, r);
        n += (size_t)snprintf(body + n, sizeof body - n, "]}");
    }
    snprintf(body + n, sizeof body - n,
             ",{\"code\":\"FIELD\",\"name\":\"Field\",\"kind\":\"ga\","
             "\"capacity\":5000}]}");
    s_venue(s_tok_a, "Dortmund", "Europe/Berlin", venue);
    s_hall(s_tok_a, venue, "Stadium", hall);
    int64_t t0 = bx_mono_ms();
    ck_assert_int_eq(s_layout(s_tok_a, venue, hall, body), 1);
    int64_t t1 = bx_mono_ms();
    s_event(s_tok_a, venue, hall, "sports", "2031-05-01T16:00:00Z", "2031-05-01T18:00:00Z", ev);
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", ev);
    char tier[37];
    s_create(path, s_tok_a,
             s_j("{'name':'Lower','kind':'seated','price_minor':4500,'sections':['101','102','103',"
                 "'104','105','106','107','108','109','110','111','112','113','114','115','116',"
                 "'117','118','119','120']}"),
             tier);
    s_create(path, s_tok_a,
             s_j("{'name':'Upper','kind':'seated','price_minor':3000,'sections':['121','122','123',"
                 "'124','125','126','127','128','129','130','131','132','133','134','135','136',"
                 "'137','138','139','140']}"),
             tier);
    s_create(
        path, s_tok_a,
        s_j("{'name':'Field','kind':'ga','price_minor':6000,'section':'FIELD','capacity':5000}"),
        tier);
    int64_t t2 = bx_mono_ms();
    bx_httpc_resp_t r = s_post_action(ev, "publish", s_tok_a);
    int64_t t3 = bx_mono_ms();
    S_EXPECT(r, 200);
    ck_assert_int_eq(s_jint(r.json, "meta.inventory.seats"), 60000);
    ck_assert_int_eq(s_jint(r.json, "meta.inventory.ga_capacity"), 5000);
    bx_httpc_free(&r);
    ck_assert_int_eq(s_count("SELECT count(*) FROM event_seats WHERE event_id = '%s'", ev), 60000);
    ck_assert_int_eq(
        s_count("SELECT count(DISTINCT label) FROM event_seats WHERE event_id = '%s'", ev), 60000);
    fprintf(stderr,
            "it_catalog: 60000-seat layout (%zu bytes) saved in %lld ms, published in %lld ms\n", n,
            (long long)(t1 - t0), (long long)(t3 - t2));
}
END_TEST

START_TEST(event_reads_revalidate_and_never_go_stale)
{
    char venue[37], hall[37], ev[37], url[256], etag[128], inm[160], cc[128];
    s_place(s_tok_a, "Mainz", venue, hall);
    s_event(s_tok_a, venue, hall, "conference", "2031-06-01T07:00:00Z", "2031-06-01T15:00:00Z", ev);
    s_tiers(s_tok_a, ev);
    bx_httpc_resp_t r = s_post_action(ev, "publish", s_tok_a);
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
    snprintf(url, sizeof url, BASE "/api/v1/events/%s", ev);
    r = bx_httpc("GET", url, NULL, NULL, 0);
    S_EXPECT(r, 200);
    ck_assert(bx_httpc_header(&r, "ETag", etag, sizeof etag));
    ck_assert(bx_httpc_header(&r, "Cache-Control", cc, sizeof cc));
    ck_assert_str_eq(cc, "public, max-age=0");
    ck_assert(bx_httpc_header(&r, "Last-Modified", cc, sizeof cc));
    bx_httpc_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *h[] = {inm, NULL};
    r = bx_httpc("GET", url, h, NULL, 0);
    S_EXPECT(r, 304);
    bx_httpc_free(&r);
    r = s_call("PUT", url + strlen(BASE), s_tok_a,
               s_j("{'name':'Renamed summit','status':'on_sale'}"));
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
    r = bx_httpc("GET", url, h, NULL, 0);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.name"), "Renamed summit");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.status"), "on_sale");
    bx_httpc_free(&r);
    /* a venue rename shows in the event at once too */
    snprintf(url, sizeof url, "/api/v1/venues/%s", venue);
    r = s_call("PUT", url, s_tok_a, s_j("{'name':'Congress Centre'}"));
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
    snprintf(url, sizeof url, "/api/v1/events/%s", ev);
    r = s_call("GET", url, NULL, NULL);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.venue.name"), "Congress Centre");
    bx_httpc_free(&r);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("it_catalog");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 240);
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, venue_crud_listing_and_fresh_reads);
    tcase_add_test(tc, layouts_are_versioned_and_events_keep_theirs);
    tcase_add_test(tc, publish_materializes_seats_and_ga_in_one_transaction);
    tcase_add_test(tc, status_rules_for_published_events_and_their_tiers);
    tcase_add_test(tc, overlapping_showtimes_in_one_hall_are_refused);
    tcase_add_test(tc, series_materializes_daily_showtimes_across_dst_and_exceptions);
    tcase_add_test(tc, series_edit_changes_unsold_showtimes_and_reports_the_rest);
    tcase_add_test(tc, tiers_keep_prices_sale_windows_and_order_limits);
    tcase_add_test(tc, series_stays_at_19_00_local_in_london_across_both_dst_changes);
    tcase_add_test(tc, series_edit_keeps_held_showtimes_and_never_overlaps_them);
    tcase_add_test(tc, other_organizations_get_404_and_nothing_is_written);
    tcase_add_test(tc, bad_input_is_a_problem_and_writes_nothing);
    tcase_add_test(tc, event_list_filters_pages_and_hides_drafts);
    tcase_add_test(tc, stadium_layout_of_60000_seats_publishes_in_one_request);
    tcase_add_test(tc, event_reads_revalidate_and_never_go_stale);
    suite_add_tcase(s, tc);
    return s;
}
