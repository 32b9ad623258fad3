/* it_doc_cache: the Redis document cache of the event and venue reads over real HTTP
 * (frontdoor, broker, scheduler; database doc_cache; ports 25960-25969): a second read is
 * served from Redis and not from PostgreSQL (a row changed behind the frontdoor's back
 * stays unseen until a write through the API), every write path is read fresh at once
 * (event PUT, status change, tier price, inventory price, venue rename shown in the event,
 * publish, cancel, series edit), ETag/Last-Modified and 304 on cached reads, drafts never
 * cached, a stamped key refuses fills and hits, and a frontdoor whose Redis is down still
 * reads and writes through PostgreSQL. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_harness.h"
#include "bx_redis.h"
#include "bx_suite.h"
#include "bx_util.h"
#include "holds_fixture.h"

#define HTTP_PORT    25960 /* broker 25961 */
#define NOREDIS_PORT 25962 /* a second frontdoor whose Redis (25969) is not there */
#define DEAD_REDIS   "25969"

static hf_sys_t s_sys;
static bx_redis_t *s_redis;
static char s_cust[4096];

static void s_setup(void)
{
    const char *rp = getenv("BX_TEST_REDIS_PORT");
    hf_start(&s_sys, "doc_cache", HTTP_PORT, 0, NULL);
    hf_customer(&s_sys, s_cust, sizeof s_cust, NULL);
    s_redis = bx_redis_new("127.0.0.1", rp ? atoi(rp) : 26379, 2000);
}

static void s_teardown(void)
{
    bx_redis_destroy(&s_redis);
    hf_stop(&s_sys);
}

/* ---- helpers ---- */

/* GET path with the token (may be NULL) and If-None-Match (may be NULL). */
static bx_httpc_resp_t s_get(const char *path, const char *tok, const char *inm)
{
    char h[128];
    const char *headers[] = {h, NULL};
    snprintf(h, sizeof h, "If-None-Match: %s", inm ? inm : "");
    return hf_call(&s_sys, "GET", path, tok, NULL, inm ? headers : NULL);
}

/* The X-Cache header of r ("hit", "miss") or "". Static buffer. */
static const char *s_xcache(const bx_httpc_resp_t *r)
{
    static char v[16];
    if (!bx_httpc_header(r, "X-Cache", v, sizeof v))
        v[0] = '\0';
    return v;
}

/* Reads path anonymously until it is a cache hit (at most two reads) and returns that
 * reply's attribute at dotted path attr (copied into out). */
static void s_cached(const char *path, const char *attr, char *out, size_t cap)
{
    bx_httpc_resp_t r = s_get(path, NULL, NULL);
    ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
    bx_httpc_free(&r);
    r = s_get(path, NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(!strcmp(s_xcache(&r), "hit"), "GET %s: X-Cache %s", path, s_xcache(&r));
    if (out)
        bx_strlcpy(out, hf_str(r.json, attr) ? hf_str(r.json, attr) : "", cap);
    bx_httpc_free(&r);
}

/* The attribute of a fresh anonymous read, which must answer want. */
static void s_fresh(const char *path, long want, const char *attr, char *out, size_t cap)
{
    bx_httpc_resp_t r = s_get(path, NULL, NULL);
    ck_assert_msg(r.status == want, "GET %s: want %ld got %ld %s", path, want, r.status, r.body);
    if (out)
        bx_strlcpy(out, r.json && hf_str(r.json, attr) ? hf_str(r.json, attr) : "", cap);
    bx_httpc_free(&r);
}

static void s_call_ok(const char *method, const char *path, const char *body, long want)
{
    bx_httpc_resp_t r = hf_call(&s_sys, method, path, s_sys.partner, body, NULL);
    ck_assert_msg(r.status == want, "%s %s: want %ld got %ld %s", method, path, want, r.status,
                  r.body);
    bx_httpc_free(&r);
}

/* A field of the Redis hash key, or "" (static buffer). */
static const char *s_field(const char *key, const char *field)
{
    static char v[256];
    redisReply *r = bx_redis_cmd(s_redis, "HGET %s %s", key, field);
    ck_assert_ptr_nonnull(r);
    bx_strlcpy(v, r->type == REDIS_REPLY_STRING ? r->str : "", sizeof v);
    freeReplyObject(r);
    return v;
}

static void s_paths(const hf_event_t *ev, char *event, char *venue, size_t cap)
{
    snprintf(event, cap, "/api/v1/events/%s", ev->id);
    bx_httpc_resp_t r = s_get(event, NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    snprintf(venue, cap, "/api/v1/venues/%s", hf_str(r.json, "data.attributes.venue.id"));
    bx_httpc_free(&r);
}

/* ---- tests ---- */

/* The second read comes from Redis: a change made in PostgreSQL behind the frontdoor's
 * back is not seen (only writes through the API invalidate; the TTL bounds the rest). */
START_TEST(a_second_read_is_served_from_redis_not_postgresql)
{
    hf_event_t ev;
    char ep[128], vp[128], key[96], name[64], etag[80];
    hf_event(&s_sys, 2, 10, 10, &ev);
    s_paths(&ev, ep, vp, sizeof ep);
    snprintf(key, sizeof key, "bx:doc:event:%s", ev.id);
    s_cached(ep, "data.attributes.name", name, sizeof name);
    ck_assert_str_eq(name, "Hot show");
    bx_httpc_resp_t r = s_get(ep, s_cust, NULL);
    ck_assert_str_eq(s_xcache(&r), "hit");
    ck_assert(bx_httpc_header(&r, "ETag", etag, sizeof etag));
    ck_assert_str_eq(s_field(key, "etag"), etag);
    ck_assert_ptr_nonnull(strstr(s_field(key, "pk"), "bx:doc:venue:"));
    bx_httpc_free(&r);
    redisReply *ttl = bx_redis_cmd(s_redis, "TTL %s", key);
    ck_assert(ttl && ttl->type == REDIS_REPLY_INTEGER && ttl->integer > 250 && ttl->integer <= 300);
    freeReplyObject(ttl);
    ck_assert_int_eq(hf_num(&s_sys, "UPDATE events SET name = 'Changed behind the cache' "
                                    "WHERE id = '%s' RETURNING 1", ev.id), 1);
    s_fresh(ep, 200, "data.attributes.name", name, sizeof name);
    ck_assert_str_eq(name, "Hot show"); /* PostgreSQL was not asked */
    s_call_ok("PUT", ep, hf_j("{'description':'now with a description'}"), 200);
    s_fresh(ep, 200, "data.attributes.name", name, sizeof name);
    ck_assert_str_eq(name, "Changed behind the cache");
    /* the venue read is cached the same way */
    s_cached(vp, "data.attributes.name", name, sizeof name);
    char vkey[160];
    snprintf(vkey, sizeof vkey, "bx:doc:venue:%s", vp + strlen("/api/v1/venues/"));
    ck_assert_int_gt((int)strlen(s_field(vkey, "body")), 10);
}
END_TEST

/* Every write through the API is seen by the very next read, whatever it changed. */
START_TEST(every_write_path_is_read_fresh_at_once)
{
    hf_event_t ev;
    char ep[128], vp[128], path[200], v[128];
    hf_event(&s_sys, 2, 10, 10, &ev);
    s_paths(&ev, ep, vp, sizeof ep);

    s_cached(ep, "data.attributes.name", v, sizeof v);
    s_call_ok("PUT", ep, hf_j("{'name':'Renamed show'}"), 200);
    s_fresh(ep, 200, "data.attributes.name", v, sizeof v);
    ck_assert_str_eq(v, "Renamed show");

    s_cached(ep, "data.attributes.status", v, sizeof v);
    ck_assert_str_eq(v, "on_sale");
    s_call_ok("PUT", ep, hf_j("{'status':'published'}"), 200);
    s_fresh(ep, 200, "data.attributes.status", v, sizeof v);
    ck_assert_str_eq(v, "published");

    s_cached(ep, "data.attributes.price_range.max_minor", NULL, 0);
    snprintf(path, sizeof path, "%s/tiers/%s", ep, ev.premium);
    s_call_ok("PUT", path, hf_j("{'price_minor':12345}"), 200);
    bx_httpc_resp_t r = s_get(ep, NULL, NULL);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.price_range.max_minor"), 12345);
    bx_httpc_free(&r);

    s_cached(ep, "data.attributes.price_range.min_minor", NULL, 0);
    snprintf(path, sizeof path, "%s/inventory", ep);
    s_call_ok("PUT", path, hf_j("{'tiers':[{'tier_id':'%s','price_minor':777}]}", ev.standing),
              200);
    r = s_get(ep, NULL, NULL);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.price_range.min_minor"), 777);
    bx_httpc_free(&r);

    s_cached(ep, "data.attributes.venue.name", v, sizeof v);
    s_call_ok("PUT", vp, hf_j("{'name':'Renamed Arena'}"), 200);
    s_fresh(ep, 200, "data.attributes.venue.name", v, sizeof v);
    ck_assert_str_eq(v, "Renamed Arena");
    s_fresh(vp, 200, "data.attributes.name", v, sizeof v);
    ck_assert_str_eq(v, "Renamed Arena");

    s_cached(ep, "data.attributes.name", NULL, 0);
    snprintf(path, sizeof path, "/api/v1/events/%s/cancel", ev.id);
    s_call_ok("POST", path, NULL, 200);
    s_fresh(ep, 404, NULL, NULL, 0); /* customers see published and on-sale events only */
    s_fresh(ep, 404, NULL, NULL, 0);
}
END_TEST

/* A draft is read by its partner from PostgreSQL, never stored, 404 to anyone else until
 * it is published, and then read fresh. */
START_TEST(drafts_are_never_cached_and_publishing_is_read_fresh)
{
    hf_event_t ev;
    char ep[128], key[96], path[160], v[64];
    hf_draft(&s_sys, &ev);
    snprintf(ep, sizeof ep, "/api/v1/events/%s", ev.id);
    snprintf(key, sizeof key, "bx:doc:event:%s", ev.id);
    for (int i = 0; i < 2; i++) {
        bx_httpc_resp_t r = hf_call(&s_sys, "GET", ep, s_sys.partner, NULL, NULL);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(s_xcache(&r), "miss");
        bx_httpc_free(&r);
        s_fresh(ep, 404, NULL, NULL, 0);
        r = s_get(ep, s_cust, NULL);
        ck_assert_int_eq(r.status, 404);
        bx_httpc_free(&r);
    }
    ck_assert_str_eq(s_field(key, "body"), "");
    snprintf(path, sizeof path, "/api/v1/events/%s/publish", ev.id);
    s_call_ok("POST", path, NULL, 200);
    s_fresh(ep, 200, "data.attributes.status", v, sizeof v);
    ck_assert_str_eq(v, "published");
    s_cached(ep, "data.attributes.status", v, sizeof v);
    ck_assert_str_eq(v, "published");
}
END_TEST

/* A series edit rewrites its showtimes without sales: each is read fresh at once. */
START_TEST(a_series_edit_is_read_fresh_in_its_showtimes)
{
    hf_event_t ev;
    char ep[160], sp[96], v[64], sid[37];
    hf_draft(&s_sys, &ev); /* for a hall with the standard layout */
    snprintf(ep, sizeof ep, "/api/v1/events/%s", ev.id);
    char *hall = hf_text(&s_sys, "SELECT hall_id FROM events WHERE id = '%s'", ev.id);
    char *venue = hf_text(&s_sys, "SELECT venue_id FROM events WHERE id = '%s'", ev.id);
    bx_httpc_resp_t r = hf_call(
        &s_sys, "POST", "/api/v1/series", s_sys.partner,
        hf_j("{'name':'Daily film','event_type':'movie','venue_id':'%s','hall_id':'%s',"
             "'currency':'EUR','duration_minutes':90,'publish':true,'recurrence':{'freq':'daily',"
             "'times':['18:00'],'start_date':'2031-07-01','until_date':'2031-07-02'},'tiers':["
             "{'name':'Seat','kind':'seated','price_minor':1100,'sections':['MAIN']},"
             "{'name':'Floor','kind':'ga','price_minor':800,'section':'PIT','capacity':5}]}",
             venue, hall),
        NULL);
    ck_assert_msg(r.status == 201, "series: %ld %s", r.status, r.body);
    bx_strlcpy(sid, hf_str(r.json, "data.id"), sizeof sid);
    bx_httpc_free(&r);
    free(hall);
    free(venue);
    char *show = hf_text(&s_sys, "SELECT id FROM events WHERE series_id = '%s' "
                                 "ORDER BY starts_at LIMIT 1", sid);
    ck_assert_ptr_nonnull(show);
    snprintf(ep, sizeof ep, "/api/v1/events/%s", show);
    free(show);
    s_cached(ep, "data.attributes.name", v, sizeof v);
    ck_assert_str_eq(v, "Daily film");
    snprintf(sp, sizeof sp, "/api/v1/series/%s", sid);
    s_call_ok("PUT", sp, hf_j("{'name':'Nightly film'}"), 200);
    s_fresh(ep, 200, "data.attributes.name", v, sizeof v);
    ck_assert_str_eq(v, "Nightly film");
}
END_TEST

/* Cached reads keep the validators: the body hash ETag, Last-Modified, 304 with the current
 * ETag, and a new ETag after a write (the old one answers 200 with the new body). */
START_TEST(etag_changes_on_write_and_304_with_the_current_one)
{
    hf_event_t ev;
    char ep[128], vp[128], e1[80], e2[80], lm[64];
    hf_event(&s_sys, 2, 10, 10, &ev);
    s_paths(&ev, ep, vp, sizeof ep);
    s_cached(ep, "data.id", NULL, 0);
    bx_httpc_resp_t r = s_get(ep, NULL, NULL);
    ck_assert_str_eq(s_xcache(&r), "hit");
    ck_assert(bx_httpc_header(&r, "ETag", e1, sizeof e1));
    ck_assert(bx_httpc_header(&r, "Last-Modified", lm, sizeof lm));
    ck_assert_ptr_nonnull(strstr(lm, "GMT"));
    bx_httpc_free(&r);
    r = s_get(ep, NULL, e1);
    ck_assert_int_eq(r.status, 304);
    ck_assert_str_eq(s_xcache(&r), "hit");
    bx_httpc_free(&r);
    s_call_ok("PUT", ep, hf_j("{'performers':[{'name':'New Band'}]}"), 200);
    r = s_get(ep, NULL, e1);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.performers.0.name"), "New Band");
    ck_assert(bx_httpc_header(&r, "ETag", e2, sizeof e2));
    ck_assert_str_ne(e1, e2);
    bx_httpc_free(&r);
    r = s_get(ep, NULL, e2);
    ck_assert_int_eq(r.status, 304);
    bx_httpc_free(&r);
}
END_TEST

/* A key stamped by a write after a lookup refuses that lookup's fill, and an event copy
 * built before its venue's stamp is not served. */
START_TEST(a_stamped_key_refuses_fills_and_hits)
{
    hf_event_t ev;
    char ep[128], vp[128], key[96], vkey[160];
    hf_event(&s_sys, 2, 10, 10, &ev);
    s_paths(&ev, ep, vp, sizeof ep);
    snprintf(key, sizeof key, "bx:doc:event:%s", ev.id);
    snprintf(vkey, sizeof vkey, "bx:doc:venue:%s", vp + strlen("/api/v1/venues/"));
    /* a stamp in the future stands for a write that lands while every read is in flight */
    freeReplyObject(bx_redis_cmd(s_redis, "DEL %s", key));
    freeReplyObject(bx_redis_cmd(s_redis, "HSET %s u 9999999999999999", key));
    for (int i = 0; i < 3; i++) {
        bx_httpc_resp_t r = s_get(ep, NULL, NULL);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(s_xcache(&r), "miss");
        bx_httpc_free(&r);
    }
    ck_assert_str_eq(s_field(key, "body"), "");
    freeReplyObject(bx_redis_cmd(s_redis, "DEL %s", key));
    s_cached(ep, "data.id", NULL, 0);
    freeReplyObject(bx_redis_cmd(s_redis, "HSET %s u 9999999999999999", vkey));
    bx_httpc_resp_t r = s_get(ep, NULL, NULL);
    ck_assert_str_eq(s_xcache(&r), "miss");
    bx_httpc_free(&r);
    freeReplyObject(bx_redis_cmd(s_redis, "DEL %s", vkey));
}
END_TEST

/* A frontdoor that cannot reach Redis answers reads from PostgreSQL and takes writes; its
 * writer reads its own write. */
START_TEST(a_frontdoor_without_redis_reads_and_writes_through_postgresql)
{
    char env[8][512], path[160];
    const char *envp[9];
    hf_event_t ev;
    hf_event(&s_sys, 2, 10, 10, &ev);
    snprintf(env[0], 512, "BOXOFFICE_PG_DSN=%s", s_sys.dsn);
    snprintf(env[1], 512, "BOXOFFICE_REDIS_PORT=%s", DEAD_REDIS);
    snprintf(env[2], 512, "BOXOFFICE_BROKER_ENDPOINT=tcp://127.0.0.1:%d", s_sys.broker_port);
    snprintf(env[3], 512, "BOXOFFICE_HTTP_PORT=%d", NOREDIS_PORT);
    snprintf(env[4], 512, "BOXOFFICE_JWT_KEY_DIR=%s/keys", s_sys.dir);
    snprintf(env[5], 512, "BOXOFFICE_RL_READ_PER_MIN=100000000");
    snprintf(env[6], 512, "BOXOFFICE_RL_WRITE_PER_MIN=100000000");
    snprintf(env[7], 512, "BOXOFFICE_RL_IP_PER_MIN=100000000");
    for (int i = 0; i < 8; i++)
        envp[i] = env[i];
    envp[8] = NULL;
    pid_t fd = bx_h_spawn(bx_h_bin("bx-frontdoor"), NULL, envp, s_sys.log);
    ck_assert_int_eq(bx_h_wait_port(NOREDIS_PORT, 10000), 0);
    hf_sys_t other = s_sys;
    snprintf(other.base, sizeof other.base, "http://127.0.0.1:%d", NOREDIS_PORT);
    snprintf(path, sizeof path, "/api/v1/events/%s", ev.id);
    for (int i = 0; i < 2; i++) {
        bx_httpc_resp_t r = hf_call(&other, "GET", path, NULL, NULL, NULL);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_ne(s_xcache(&r), "hit");
        bx_httpc_free(&r);
    }
    bx_httpc_resp_t r = hf_call(&other, "PUT", path, other.partner, hf_j("{'name':'No Redis'}"),
                                NULL);
    ck_assert_msg(r.status == 200, "PUT: %ld %s", r.status, r.body);
    bx_httpc_free(&r);
    r = hf_call(&other, "GET", path, NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.name"), "No Redis");
    bx_httpc_free(&r);
    bx_h_stop(fd, SIGTERM, 5000);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("it_doc_cache");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 240);
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, a_second_read_is_served_from_redis_not_postgresql);
    tcase_add_test(tc, every_write_path_is_read_fresh_at_once);
    tcase_add_test(tc, drafts_are_never_cached_and_publishing_is_read_fresh);
    tcase_add_test(tc, a_series_edit_is_read_fresh_in_its_showtimes);
    tcase_add_test(tc, etag_changes_on_write_and_304_with_the_current_one);
    tcase_add_test(tc, a_stamped_key_refuses_fills_and_hits);
    tcase_add_test(tc, a_frontdoor_without_redis_reads_and_writes_through_postgresql);
    suite_add_tcase(s, tc);
    return s;
}
