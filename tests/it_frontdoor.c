/* it_frontdoor: the frontdoor over real HTTP against real PostgreSQL, Redis, broker, echo
 * workers and scheduler: document shape, problems, ids, auth refusals, Prefer: wait,
 * durable requests and their owners, Idempotency-Key, bad input that writes nothing,
 * gzip/ETag/CORS/XML, rate limits, a full queue, a worker SIGKILLed mid-job, a broker
 * restart, clean drain, and logs free of secrets. */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_harness.h"
#include "bx_httpc.h"
#include "bx_jwt.h"
#include "bx_log.h"
#include "bx_util.h"

#define HTTP_PORT 25811
#define BROKER_PORT 25810
#define BASE "http://127.0.0.1:25811"

static const char *s_dsn;
static char s_keydir[256], s_log[256], s_env[16][512];
static const char *s_envp[17];
static pid_t s_broker, s_echo[2], s_sched, s_fd;
static bx_jwt_ring_t *s_ring;
static char s_admin_tok[4096], s_admin2_tok[4096], s_cust_tok[4096];
static char s_admin_id[37];

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
    snprintf(s_env[n++], 512, "BOXOFFICE_REQUEST_LEASE_S=2");
    snprintf(s_env[n++], 512, "BOXOFFICE_BROKER_QUEUE_MAX=6");
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_WRITE_PER_MIN=40");
    snprintf(s_env[n++], 512, "BOXOFFICE_HEARTBEAT_MS=250");
    snprintf(s_env[n++], 512, "BOXOFFICE_WORKER_CREDIT=1");
    snprintf(s_env[n++], 512, "BOXOFFICE_LOG_LEVEL=debug");
    for (int i = 0; i < n; i++)
        s_envp[i] = s_env[i];
    s_envp[n] = NULL;
}

static pid_t s_start(const char *name)
{
    return bx_h_spawn(bx_h_bin(name), NULL, s_envp, s_log);
}

/* Inserts a user and a live session, and mints an access token for them. */
static void s_mint(const char *role, char *tok, size_t cap, char uid_out[37], long ttl)
{
    char uid[37], sid[37], jti[37], sql[512];
    bx_uuid_v7(uid);
    bx_uuid_v7(sid);
    bx_uuid_v7(jti);
    snprintf(sql, sizeof sql,
             "INSERT INTO users (id, email, password_hash, role) VALUES ('%s', '%s@t.test', 'x', '%s');"
             "INSERT INTO sessions (id, user_id, expires_at) VALUES ('%s', '%s', now() + interval '1 day')",
             uid, uid, role, sid, uid);
    free(bx_h_sql(s_dsn, sql));
    long now = (long)(bx_now_ms() / 1000);
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "iss", "boxoffice", "sub", uid, "sid",
                          sid, "role", role, "jti", jti, "iat", (json_int_t)now, "exp",
                          (json_int_t)(now + ttl));
    char *t = bx_jwt_sign(s_ring, c);
    json_decref(c);
    ck_assert_ptr_nonnull(t);
    bx_strlcpy(tok, t, cap);
    free(t);
    if (uid_out)
        bx_strlcpy(uid_out, uid, 37);
}

static int s_ready(void)
{
    for (int i = 0; i < 100; i++) {
        bx_httpc_resp_t r = bx_httpc("GET", BASE "/readyz", NULL, NULL, 0);
        long st = r.status;
        bx_httpc_free(&r);
        if (st == 200)
            return 1;
        usleep(100 * 1000);
    }
    return 0;
}

static void s_setup(void)
{
    s_dsn = strdup(bx_h_db("frontdoor"));
    snprintf(s_keydir, sizeof s_keydir, "%s/it_frontdoor_keys", getenv("BX_TMP_DIR") ? getenv("BX_TMP_DIR") : "/tmp");
    snprintf(s_log, sizeof s_log, "%s/it_frontdoor.log", getenv("BX_TMP_DIR") ? getenv("BX_TMP_DIR") : "/tmp");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s && rm -f %s && BOXOFFICE_JWT_KEY_DIR=%s %s keygen >/dev/null",
             s_keydir, s_keydir, s_log, s_keydir, bx_h_bin("bxctl"));
    ck_assert_int_eq(bx_h_sh(cmd), 0);
    s_ring = bx_jwt_ring_load(s_keydir, "boxoffice");
    ck_assert_ptr_nonnull(s_ring);
    s_env_init();
    s_broker = s_start("bx-broker");
    ck_assert_int_eq(bx_h_wait_port(BROKER_PORT, 5000), 0);
    s_echo[0] = s_start("bx-worker-echo");
    s_echo[1] = s_start("bx-worker-echo");
    s_sched = s_start("bx-worker-scheduler");
    s_fd = s_start("bx-frontdoor");
    ck_assert_int_eq(bx_h_wait_port(HTTP_PORT, 10000), 0);
    ck_assert(s_ready());
    s_mint("admin", s_admin_tok, sizeof s_admin_tok, s_admin_id, 900);
    s_mint("admin", s_admin2_tok, sizeof s_admin2_tok, NULL, 900);
    s_mint("customer", s_cust_tok, sizeof s_cust_tok, NULL, 900);
}

static void s_teardown(void)
{
    pid_t all[] = {s_fd, s_sched, s_echo[0], s_echo[1], s_broker};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i] > 0)
            bx_h_stop(all[i], SIGTERM, 5000);
    bx_jwt_ring_destroy(&s_ring);
}

/* ---- helpers ---- */

static long s_count(const char *sql)
{
    char *v = bx_h_sql(s_dsn, sql);
    long n = v ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

static bx_httpc_resp_t s_echo_post(const char *tok, const char *body, const char *prefer, const char *key)
{
    char p[64], k[300];
    const char *extra[3] = {NULL, NULL, NULL};
    int n = 0;
    if (prefer) {
        snprintf(p, sizeof p, "Prefer: %s", prefer);
        extra[n++] = p;
    }
    if (key) {
        snprintf(k, sizeof k, "Idempotency-Key: %s", key);
        extra[n++] = k;
    }
    return bx_httpc_json("POST", BASE "/api/v1/admin/pipeline/echo", tok, body, extra);
}

static const char *s_jstr(json_t *j, const char *path)
{
    /* path like "data.attributes.status" */
    char part[64];
    json_t *cur = j;
    while (cur && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        cur = json_object_get(cur, part);
        path += n + (dot ? 1 : 0);
    }
    return json_string_value(cur);
}

/* Polls a request until it is terminal; returns its status ("succeeded"/"failed") or "". */
static const char *s_await(const char *id, int seconds)
{
    static char status[32];
    char url[256];
    snprintf(url, sizeof url, BASE "/api/v1/requests/%s", id);
    status[0] = '\0';
    for (int i = 0; i < seconds * 10; i++) {
        bx_httpc_resp_t r = bx_httpc_json("GET", url, s_admin_tok, NULL, NULL);
        const char *st = r.json ? s_jstr(r.json, "data.attributes.status") : NULL;
        if (st && (!strcmp(st, "succeeded") || !strcmp(st, "failed"))) {
            bx_strlcpy(status, st, sizeof status);
            bx_httpc_free(&r);
            break;
        }
        bx_httpc_free(&r);
        usleep(100 * 1000);
    }
    return status;
}

/* Id of the request a 202 points at (Location header). */
static int s_location_id(const bx_httpc_resp_t *r, char id[37])
{
    char loc[256];
    if (!bx_httpc_header(r, "Location", loc, sizeof loc) || strlen(loc) < 36)
        return 0;
    bx_strlcpy(id, loc + strlen(loc) - 36, 37);
    return 1;
}

/* ---- tests ---- */

START_TEST(health_has_ids_and_security_headers)
{
    const char *h[] = {"X-Request-Id: test-req-0001",
                       "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", NULL};
    bx_httpc_resp_t r = bx_httpc("GET", BASE "/healthz", h, NULL, 0);
    char v[256];
    ck_assert_int_eq(r.status, 200);
    ck_assert(bx_httpc_header(&r, "X-Request-Id", v, sizeof v));
    ck_assert_str_eq(v, "test-req-0001");
    ck_assert(bx_httpc_header(&r, "traceparent", v, sizeof v));
    ck_assert(strstr(v, "4bf92f3577b34da6a3ce929d0e0e4736") != NULL);
    ck_assert(bx_httpc_header(&r, "X-Content-Type-Options", v, sizeof v));
    ck_assert(bx_httpc_header(&r, "Content-Security-Policy", v, sizeof v));
    ck_assert(bx_httpc_header(&r, "X-Frame-Options", v, sizeof v));
    bx_httpc_free(&r);
    r = bx_httpc("GET", BASE "/readyz", NULL, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(s_jstr(r.json, "checks.postgresql"), "up");
    ck_assert_str_eq(s_jstr(r.json, "checks.redis"), "up");
    ck_assert_str_eq(s_jstr(r.json, "checks.broker"), "up");
    bx_httpc_free(&r);
    r = bx_httpc("GET", BASE "/metrics", NULL, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(strstr(r.body, "# TYPE") != NULL);
    bx_httpc_free(&r);
}
END_TEST

START_TEST(unknown_path_and_method_are_problems)
{
    char v[128];
    bx_httpc_resp_t r = bx_httpc("GET", BASE "/api/v1/nope", NULL, NULL, 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert(bx_httpc_header(&r, "Content-Type", v, sizeof v));
    ck_assert_str_eq(v, "application/problem+json");
    ck_assert_str_eq(s_jstr(r.json, "type"), "https://boxoffice.dev/problems/not-found");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "status")), 404);
    bx_httpc_free(&r);
    r = bx_httpc("DELETE", BASE "/healthz", NULL, NULL, 0);
    ck_assert_int_eq(r.status, 405);
    ck_assert(bx_httpc_header(&r, "Allow", v, sizeof v));
    ck_assert(strstr(v, "GET") != NULL);
    bx_httpc_free(&r);
}
END_TEST

static long s_get_status(const char *auth_header)
{
    char id[37];
    char url[128];
    bx_uuid_v7(id);
    snprintf(url, sizeof url, BASE "/api/v1/requests/%s", id);
    const char *h[] = {auth_header, NULL};
    bx_httpc_resp_t r = bx_httpc("GET", url, auth_header ? h : NULL, NULL, 0);
    long st = r.status;
    if (st == 401)
        ck_assert_str_eq(s_jstr(r.json, "type"), "https://boxoffice.dev/problems/unauthorized");
    bx_httpc_free(&r);
    return st;
}

START_TEST(bad_tokens_are_refused)
{
    char h[4300], uid[37], expired[4096];
    ck_assert_int_eq(s_get_status(NULL), 401);
    /* tampered signature */
    snprintf(h, sizeof h, "Authorization: Bearer %s", s_admin_tok);
    h[strlen(h) - 3] = h[strlen(h) - 3] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(s_get_status(h), 401);
    /* alg none */
    ck_assert_int_eq(s_get_status("Authorization: Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
                                  "eyJzdWIiOiIwMTkzMDAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDAiLCJyb2xlIjoiYWRtaW4ifQ."),
                     401);
    /* expired */
    s_mint("admin", expired, sizeof expired, uid, -120);
    snprintf(h, sizeof h, "Authorization: Bearer %s", expired);
    ck_assert_int_eq(s_get_status(h), 401);
    /* garbage and wrong scheme */
    ck_assert_int_eq(s_get_status("Authorization: Bearer \xff\xfe garbage"), 401);
    ck_assert_int_eq(s_get_status("Authorization: Basic YWRtaW46YWRtaW4="), 401);
    /* valid token, unknown request: 404 */
    snprintf(h, sizeof h, "Authorization: Bearer %s", s_admin_tok);
    ck_assert_int_eq(s_get_status(h), 404);
    /* a customer cannot use the admin route */
    bx_httpc_resp_t r = s_echo_post(s_cust_tok, "{}", NULL, NULL);
    ck_assert_int_eq(r.status, 403);
    bx_httpc_free(&r);
}
END_TEST

START_TEST(wait_returns_result_inline_and_request_is_readable_by_owner_only)
{
    bx_httpc_resp_t r = s_echo_post(s_admin_tok, "{\"message\":\"hello\"}", "wait=5", NULL);
    char link[256], url[256];
    ck_assert_int_eq(r.status, 201);
    ck_assert_str_eq(s_jstr(r.json, "data.type"), "echo");
    ck_assert(bx_httpc_header(&r, "Link", link, sizeof link));
    char *lt = strchr(link, '<'), *gt = strchr(link, '>');
    ck_assert(lt && gt);
    *gt = '\0';
    snprintf(url, sizeof url, BASE "%s", lt + 1);
    bx_httpc_free(&r);
    r = bx_httpc_json("GET", url, s_admin_tok, NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.type"), "request");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.status"), "succeeded");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.result.data.attributes.message"), "hello");
    bx_httpc_free(&r);
    /* another user (even an admin is allowed; a customer is not) */
    r = bx_httpc_json("GET", url, s_cust_tok, NULL, NULL);
    ck_assert_int_eq(r.status, 404);
    ck_assert(strstr(r.body, "hello") == NULL);
    bx_httpc_free(&r);
}
END_TEST

START_TEST(respond_async_gives_202_then_polling_finds_result)
{
    char id[37];
    bx_httpc_resp_t r = s_echo_post(s_admin_tok, "{\"message\":\"later\",\"sleep_ms\":300}", "respond-async", NULL);
    ck_assert_int_eq(r.status, 202);
    ck_assert(s_location_id(&r, id));
    /* the 202 shows the request as it is when the broker took it: a fast worker may have
     * started it already, but it cannot have finished (the job sleeps 300 ms) */
    const char *st = s_jstr(r.json, "data.attributes.status");
    ck_assert_msg(st && (!strcmp(st, "queued") || !strcmp(st, "running")), "status %s", st);
    bx_httpc_free(&r);
    ck_assert_str_eq(s_await(id, 10), "succeeded");
}
END_TEST

START_TEST(failed_job_is_a_problem_with_its_status)
{
    bx_httpc_resp_t r = s_echo_post(s_admin_tok, "{\"fail\":true}", "wait=5", NULL);
    ck_assert_int_eq(r.status, 422);
    ck_assert(strstr(r.headers, "application/problem+json") != NULL);
    bx_httpc_free(&r);
}
END_TEST

START_TEST(idempotency_key_replays_refuses_changes_and_conflicts)
{
    char key[64], k1[300];
    snprintf(key, sizeof key, "idem-%lld", (long long)bx_now_ms());
    bx_httpc_resp_t a = s_echo_post(s_admin_tok, "{\"message\":\"once\"}", "wait=5", key);
    ck_assert_int_eq(a.status, 201);
    bx_httpc_resp_t b = s_echo_post(s_admin_tok, "{\"message\":\"once\"}", "wait=5", key);
    ck_assert_int_eq(b.status, 201);
    ck_assert_str_eq(a.body, b.body);
    ck_assert(bx_httpc_header(&b, "Idempotent-Replayed", k1, sizeof k1));
    bx_httpc_free(&b);
    b = s_echo_post(s_admin_tok, "{\"message\":\"twice\"}", "wait=5", key);
    ck_assert_int_eq(b.status, 422);
    bx_httpc_free(&b);
    /* the same key under another user is another key */
    b = s_echo_post(s_admin2_tok, "{\"message\":\"once\"}", "wait=5", key);
    ck_assert_int_eq(b.status, 201);
    ck_assert(!bx_httpc_header(&b, "Idempotent-Replayed", k1, sizeof k1));
    bx_httpc_free(&b);
    bx_httpc_free(&a);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM echo_effects e JOIN requests r ON r.id = e.request_id "
             "WHERE r.user_id = '%s' AND r.payload->>'message' = 'once'", s_admin_id);
    ck_assert_int_eq(s_count(sql), 1);
}
END_TEST

typedef struct {
    const char *key;
    long status;
} s_race_t;

static void *s_race(void *arg)
{
    s_race_t *r = arg;
    bx_httpc_resp_t resp = s_echo_post(s_admin_tok, "{\"message\":\"slow\",\"sleep_ms\":1500}", "wait=5", r->key);
    r->status = resp.status;
    bx_httpc_free(&resp);
    return NULL;
}

START_TEST(idempotency_key_in_flight_is_409)
{
    char key[64];
    pthread_t th;
    snprintf(key, sizeof key, "inflight-%lld", (long long)bx_now_ms());
    s_race_t first = {key, 0};
    pthread_create(&th, NULL, s_race, &first);
    usleep(400 * 1000);
    bx_httpc_resp_t r = s_echo_post(s_admin_tok, "{\"message\":\"slow\",\"sleep_ms\":1500}", "wait=5", key);
    ck_assert_int_eq(r.status, 409);
    bx_httpc_free(&r);
    pthread_join(th, NULL);
    ck_assert_int_eq(first.status, 201);
}
END_TEST

/* Each bad body must be refused with its status and problem type, writing nothing. */
static void s_bad(const char *body, size_t len, const char *ctype, long status, const char *type)
{
    char auth[4200], ct[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", s_admin_tok);
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
    /* a body over the cap waits for the server's verdict (413) instead of racing it */
    const char *h[] = {auth, ct, len > (1u << 20) ? "Expect: 100-continue" : NULL, NULL};
    long before = s_count("SELECT count(*) FROM requests");
    bx_httpc_resp_t r = bx_httpc("POST", BASE "/api/v1/admin/pipeline/echo", h, body, len);
    ck_assert_int_eq(r.status, status);
    ck_assert_msg(r.json && s_jstr(r.json, "type"), "no problem document for %ld", status);
    ck_assert_str_eq(s_jstr(r.json, "type"), type);
    bx_httpc_free(&r);
    ck_assert_int_eq(s_count("SELECT count(*) FROM requests"), before);
}

START_TEST(bad_input_is_refused_and_writes_nothing)
{
    const char *inval = "https://boxoffice.dev/problems/validation-failed";
    const char *malformed = "https://boxoffice.dev/problems/malformed-body";
    s_bad("{\"message\":", 11, "application/json", 400, malformed);
    s_bad("[1,2]", 5, "application/json", 400, malformed);
    s_bad("{\"sleep_ms\":\"soon\"}", 19, "application/json", 400, inval);
    s_bad("{\"sleep_ms\":1.5}", 16, "application/json", 400, inval);
    s_bad("{\"sleep_ms\":-1}", 15, "application/json", 400, inval);
    s_bad("{\"unknown\":1}", 13, "application/json", 400, inval);
    s_bad("{\"message\":\"a\",\"message\":\"b\"}", 29, "application/json", 400, malformed);
    s_bad("{\"message\":\"\xc3\x28\"}", 15, "application/json", 400, malformed);
    s_bad("{\"message\":\"x\"}", 15, "text/plain", 415, "https://boxoffice.dev/problems/unsupported-media-type");
    /* 5,000-deep nesting */
    size_t n = 5000;
    char *deep = malloc(2 * n + 16);
    memcpy(deep, "{\"message\":", 11);
    size_t o = 11;
    for (size_t i = 0; i < n; i++)
        deep[o++] = '[';
    for (size_t i = 0; i < n; i++)
        deep[o++] = ']';
    deep[o++] = '}';
    s_bad(deep, o, "application/json", 400, malformed);
    free(deep);
    /* 12 MB body */
    size_t big = 12u << 20;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    s_bad(huge, big, "application/json", 413, "https://boxoffice.dev/problems/payload-too-large");
    free(huge);
    /* errors carry JSON pointers */
    bx_httpc_resp_t r = s_echo_post(s_admin_tok, "{\"sleep_ms\":\"x\",\"zzz\":1}", NULL, NULL);
    ck_assert_int_eq(r.status, 400);
    json_t *errs = json_object_get(r.json, "errors");
    ck_assert_int_eq(json_array_size(errs), 2);
    ck_assert(strstr(r.body, "\"/sleep_ms\"") && strstr(r.body, "\"/zzz\""));
    bx_httpc_free(&r);
}
END_TEST

START_TEST(sql_and_script_metacharacters_are_only_data)
{
    const char *body = "{\"message\":\"'); DROP TABLE requests; -- <script>alert(1)</script> \\u00e9\\u4e2d\"}";
    bx_httpc_resp_t r = s_echo_post(s_admin_tok, body, "wait=5", NULL);
    ck_assert_int_eq(r.status, 201);
    ck_assert(strstr(r.body, "DROP TABLE requests") != NULL);
    bx_httpc_free(&r);
    ck_assert_int_ge(s_count("SELECT count(*) FROM requests"), 1);
}
END_TEST

START_TEST(gzip_etag_cors_and_xml)
{
    const char *gz[] = {"Accept-Encoding: gzip", NULL};
    char etag[128], v[256], inm[200];
    bx_httpc_resp_t r = bx_httpc("GET", BASE "/api/v1/openapi.json", gz, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(bx_httpc_header(&r, "Content-Encoding", v, sizeof v));
    ck_assert_str_eq(v, "gzip");
    ck_assert(bx_httpc_header(&r, "ETag", etag, sizeof etag));
    bx_httpc_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *cond[] = {inm, NULL};
    r = bx_httpc("GET", BASE "/api/v1/openapi.json", cond, NULL, 0);
    ck_assert_int_eq(r.status, 304);
    ck_assert_int_eq(r.len, 0);
    ck_assert(bx_httpc_header(&r, "Last-Modified", v, sizeof v));
    bx_httpc_free(&r);
    char ims[300];
    snprintf(ims, sizeof ims, "If-Modified-Since: %s", v);
    const char *since[] = {ims, NULL};
    r = bx_httpc("GET", BASE "/api/v1/openapi.json", since, NULL, 0);
    ck_assert_int_eq(r.status, 304);
    bx_httpc_free(&r);
    const char *old[] = {"If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT", NULL};
    r = bx_httpc("GET", BASE "/api/v1/openapi.json", old, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    bx_httpc_free(&r);
    const char *text[] = {"Accept: text/plain", NULL};
    r = bx_httpc("GET", BASE "/metrics", text, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    bx_httpc_free(&r);
    const char *pre_ok[] = {"Origin: http://localhost:8080", "Access-Control-Request-Method: POST", NULL};
    r = bx_httpc("OPTIONS", BASE "/api/v1/admin/pipeline/echo", pre_ok, NULL, 0);
    ck_assert_int_eq(r.status, 204);
    ck_assert(bx_httpc_header(&r, "Access-Control-Allow-Origin", v, sizeof v));
    ck_assert_str_eq(v, "http://localhost:8080");
    bx_httpc_free(&r);
    const char *pre_bad[] = {"Origin: https://evil.example", "Access-Control-Request-Method: POST", NULL};
    r = bx_httpc("OPTIONS", BASE "/api/v1/admin/pipeline/echo", pre_bad, NULL, 0);
    ck_assert_int_eq(r.status, 403);
    ck_assert(!bx_httpc_header(&r, "Access-Control-Allow-Origin", v, sizeof v));
    bx_httpc_free(&r);
    const char *xml[] = {"Accept: application/xml", NULL};
    r = bx_httpc("GET", BASE "/healthz", xml, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(strstr(r.body, "<status>ok</status>") != NULL);
    bx_httpc_free(&r);
    const char *nope[] = {"Accept: image/png", NULL};
    r = bx_httpc("GET", BASE "/healthz", nope, NULL, 0);
    ck_assert_int_eq(r.status, 406);
    bx_httpc_free(&r);
}
END_TEST

START_TEST(rate_limit_answers_429_with_headers)
{
    char tok[4096], v[128];
    long limited = 0, ok = 0;
    s_mint("admin", tok, sizeof tok, NULL, 900);
    for (int i = 0; i < 60 && !limited; i++) {
        bx_httpc_resp_t r = s_echo_post(tok, "{}", "respond-async", NULL);
        if (r.status == 429) {
            limited++;
            ck_assert(bx_httpc_header(&r, "Retry-After", v, sizeof v));
            ck_assert_int_ge(strtol(v, NULL, 10), 1);
            ck_assert_str_eq(s_jstr(r.json, "type"), "https://boxoffice.dev/problems/rate-limited");
        } else if (r.status == 202 || r.status == 201) {
            ok++;
            ck_assert(bx_httpc_header(&r, "RateLimit", v, sizeof v));
            ck_assert(bx_httpc_header(&r, "RateLimit-Policy", v, sizeof v));
        }
        bx_httpc_free(&r);
    }
    ck_assert_int_eq(limited, 1);
    ck_assert_int_ge(ok, 30);
}
END_TEST

START_TEST(worker_killed_mid_job_completes_exactly_once)
{
    char id[37], sql[256];
    bx_httpc_resp_t r = s_echo_post(s_admin_tok, "{\"message\":\"kill\",\"sleep_ms\":2000}", "respond-async", NULL);
    ck_assert_int_eq(r.status, 202);
    ck_assert(s_location_id(&r, id));
    bx_httpc_free(&r);
    usleep(700 * 1000);
    /* Kill every echo worker while the job sleeps inside its transaction. */
    bx_h_stop(s_echo[0], SIGKILL, 2000);
    bx_h_stop(s_echo[1], SIGKILL, 2000);
    s_echo[0] = s_start("bx-worker-echo");
    s_echo[1] = s_start("bx-worker-echo");
    ck_assert_str_eq(s_await(id, 20), "succeeded");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM echo_effects WHERE request_id = '%s'", id);
    ck_assert_int_eq(s_count(sql), 1);
    snprintf(sql, sizeof sql, "SELECT attempts FROM requests WHERE id = '%s'", id);
    ck_assert_int_ge(s_count(sql), 2);
}
END_TEST

START_TEST(broker_restart_loses_no_acknowledged_request)
{
    char ids[5][37], sql[256];
    for (int i = 0; i < 5; i++) {
        bx_httpc_resp_t r = s_echo_post(s_admin_tok, "{\"message\":\"restart\",\"sleep_ms\":400}", "respond-async", NULL);
        ck_assert_int_eq(r.status, 202);
        ck_assert(s_location_id(&r, ids[i]));
        bx_httpc_free(&r);
    }
    bx_h_stop(s_broker, SIGKILL, 2000);
    usleep(300 * 1000);
    s_broker = s_start("bx-broker");
    ck_assert_int_eq(bx_h_wait_port(BROKER_PORT, 5000), 0);
    for (int i = 0; i < 5; i++) {
        ck_assert_str_eq(s_await(ids[i], 30), "succeeded");
        snprintf(sql, sizeof sql, "SELECT count(*) FROM echo_effects WHERE request_id = '%s'", ids[i]);
        ck_assert_int_eq(s_count(sql), 1);
    }
    ck_assert(s_ready());
}
END_TEST

START_TEST(full_queue_answers_503_and_forgets_the_request)
{
    char v[64];
    int accepted = 0, refused = 0;
    bx_h_stop(s_echo[0], SIGTERM, 5000);
    bx_h_stop(s_echo[1], SIGTERM, 5000);
    s_echo[0] = s_echo[1] = 0;
    usleep(800 * 1000); /* the broker notices they left */
    long before = s_count("SELECT count(*) FROM requests");
    for (int i = 0; i < 10; i++) {
        bx_httpc_resp_t r = s_echo_post(s_admin2_tok, "{\"message\":\"flood\"}", "respond-async", NULL);
        if (r.status == 503) {
            refused++;
            ck_assert(bx_httpc_header(&r, "Retry-After", v, sizeof v));
        } else {
            ck_assert_int_eq(r.status, 202);
            accepted++;
        }
        bx_httpc_free(&r);
    }
    ck_assert_int_ge(refused, 1);
    ck_assert_int_ge(accepted, 1);
    ck_assert_int_eq(s_count("SELECT count(*) FROM requests") - before, accepted);
    s_echo[0] = s_start("bx-worker-echo");
    s_echo[1] = s_start("bx-worker-echo");
    for (int i = 0; i < 100; i++) {
        if (s_count("SELECT count(*) FROM requests WHERE status IN ('queued','running')") == 0)
            break;
        usleep(200 * 1000);
    }
    ck_assert_int_eq(s_count("SELECT count(*) FROM requests WHERE status IN ('queued','running')"), 0);
}
END_TEST

START_TEST(sigterm_drains_and_logs_hold_no_secrets)
{
    int st = bx_h_stop(s_fd, SIGTERM, 10000);
    s_fd = 0;
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    FILE *f = fopen(s_log, "r");
    ck_assert_ptr_nonnull(f);
    char line[16384];
    const char *sig = strrchr(s_admin_tok, '.') + 1;
    long lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        ck_assert_msg(!strstr(line, sig), "a token appears in the logs: %s", line);
        ck_assert_msg(!bx_log_has_card_number(line), "a card-like number appears in the logs: %s", line);
        ck_assert_msg(!strstr(line, "Bearer ey"), "a bearer token appears in the logs");
    }
    fclose(f);
    ck_assert_int_gt(lines, 50);
    s_fd = s_start("bx-frontdoor");
    ck_assert(s_ready());
}
END_TEST

int main(void)
{
    Suite *s = suite_create("it_frontdoor");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, health_has_ids_and_security_headers);
    tcase_add_test(tc, unknown_path_and_method_are_problems);
    tcase_add_test(tc, bad_tokens_are_refused);
    tcase_add_test(tc, wait_returns_result_inline_and_request_is_readable_by_owner_only);
    tcase_add_test(tc, respond_async_gives_202_then_polling_finds_result);
    tcase_add_test(tc, failed_job_is_a_problem_with_its_status);
    tcase_add_test(tc, idempotency_key_replays_refuses_changes_and_conflicts);
    tcase_add_test(tc, idempotency_key_in_flight_is_409);
    tcase_add_test(tc, bad_input_is_refused_and_writes_nothing);
    tcase_add_test(tc, sql_and_script_metacharacters_are_only_data);
    tcase_add_test(tc, gzip_etag_cors_and_xml);
    tcase_add_test(tc, rate_limit_answers_429_with_headers);
    tcase_add_test(tc, worker_killed_mid_job_completes_exactly_once);
    tcase_add_test(tc, broker_restart_loses_no_acknowledged_request);
    tcase_add_test(tc, full_queue_answers_503_and_forgets_the_request);
    tcase_add_test(tc, sigterm_drains_and_logs_hold_no_secrets);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
