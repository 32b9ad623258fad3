/* it_accounts: accounts over real HTTP against a real frontdoor, PostgreSQL and Redis:
 * register, login (uniform failures), rotating refresh tokens and reuse detection,
 * logout taking effect at once, the profile, organizations and object-level visibility,
 * forged / expired / alg-none tokens, bxctl create-admin, and logs free of secrets. */
#include <check.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_harness.h"
#include "bx_httpc.h"
#include "bx_jwt.h"
#include "bx_suite.h"
#include "bx_util.h"

#define HTTP_PORT   25841
#define BROKER_PORT 25840 /* nothing listens: these routes never use the pipeline */
#define BASE        "http://127.0.0.1:25841"
#define PW          "velvet-curtain-42"
#define PW2         "opening-night-77"
#define ADMIN_PW    "stage-door-admin-9"

static const char *s_dsn;
static char s_dir[256], s_keydir[300], s_log[300], s_admin_email[128];
static char s_env[12][512];
static const char *s_envp[13];
static pid_t s_fd;
static bx_jwt_ring_t *s_ring;

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
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_AUTH_PER_MIN=100000");
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_WRITE_PER_MIN=100000");
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_READ_PER_MIN=100000");
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_IP_PER_MIN=1000000");
    snprintf(s_env[n++], 512, "BOXOFFICE_LOG_LEVEL=debug");
    for (int i = 0; i < n; i++)
        s_envp[i] = s_env[i];
    s_envp[n] = NULL;
}

/* Runs bxctl create-admin with password in the environment; returns its exit status. */
static int s_create_admin(const char *email, const char *password, const char *extra)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "BOXOFFICE_PG_DSN='%s' BOXOFFICE_ADMIN_PASSWORD='%s' %s create-admin --email '%s' %s "
             ">>%s 2>&1",
             s_dsn, password, bx_h_bin("bxctl"), email, extra ? extra : "", s_log);
    return bx_h_sh(cmd);
}

static void s_setup(void)
{
    char cmd[2048];
    const char *tmp = getenv("BX_TMP_DIR") ? getenv("BX_TMP_DIR") : "/tmp";
    s_dsn = strdup(bx_h_db("accounts"));
    snprintf(s_dir, sizeof s_dir, "%s/it_accounts.tmp", tmp);
    snprintf(s_keydir, sizeof s_keydir, "%s/keys", s_dir);
    snprintf(s_log, sizeof s_log, "%s/frontdoor.log", s_dir);
    snprintf(cmd, sizeof cmd,
             "rm -rf '%s' && mkdir -p '%s' && BOXOFFICE_JWT_KEY_DIR='%s' %s keygen >/dev/null",
             s_dir, s_keydir, s_keydir, bx_h_bin("bxctl"));
    ck_assert_int_eq(bx_h_sh(cmd), 0);
    s_ring = bx_jwt_ring_load(s_keydir, "boxoffice");
    ck_assert_ptr_nonnull(s_ring);
    snprintf(s_admin_email, sizeof s_admin_email, "root@boxoffice.test");
    ck_assert_int_eq(s_create_admin(s_admin_email, ADMIN_PW, NULL), 0);
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

/* A string at a dotted path ("data.attributes.email"), or NULL. */
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
        j = json_object_get(j, part);
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
    char url[512];
    snprintf(url, sizeof url, BASE "%s", path);
    return bx_httpc_json(method, url, tok, body, NULL);
}

/* A fresh address for this test: tag-<uuid>@example.org. */
static void s_email(const char *tag, char out[128])
{
    char id[37];
    bx_uuid_v7(id);
    snprintf(out, 128, "%s-%s@example.org", tag, id);
}

/* Registers email with password; returns the new user id in id_out. */
static void s_register(const char *email, const char *password, char id_out[37])
{
    char body[512];
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\",\"first_name\":\"Ada\"}",
             email, password);
    bx_httpc_resp_t r = s_call("POST", "/api/v1/users/register", NULL, body);
    ck_assert_msg(r.status == 201, "register: %ld %s", r.status, r.body);
    if (id_out)
        bx_strlcpy(id_out, s_jstr(r.json, "data.id"), 37);
    bx_httpc_free(&r);
}

/* Logs in; fills access and refresh (4096 / 128 bytes). Returns the HTTP status. */
static long s_login(const char *email, const char *password, char *access, char *refresh)
{
    char body[512];
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}", email, password);
    bx_httpc_resp_t r = s_call("POST", "/api/v1/users/login", NULL, body);
    long st = r.status;
    if (st == 200) {
        bx_strlcpy(access, s_jstr(r.json, "data.attributes.access_token"), 4096);
        bx_strlcpy(refresh, s_jstr(r.json, "data.attributes.refresh_token"), 128);
    }
    bx_httpc_free(&r);
    return st;
}

/* Presents refresh; on 200 replaces access and refresh with the new pair. */
static long s_refresh(char *access, char *refresh)
{
    char body[256];
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", refresh);
    bx_httpc_resp_t r = s_call("POST", "/api/v1/users/token/refresh", NULL, body);
    long st = r.status;
    if (st == 200) {
        bx_strlcpy(access, s_jstr(r.json, "data.attributes.access_token"), 4096);
        bx_strlcpy(refresh, s_jstr(r.json, "data.attributes.refresh_token"), 128);
    }
    bx_httpc_free(&r);
    return st;
}

static long s_status(const char *method, const char *path, const char *tok, const char *body)
{
    bx_httpc_resp_t r = s_call(method, path, tok, body);
    long st = r.status;
    bx_httpc_free(&r);
    return st;
}

static char *s_sql(const char *fmt, const char *arg)
{
    char sql[1024];
    snprintf(sql, sizeof sql, fmt, arg);
    return bx_h_sql(s_dsn, sql);
}

static long s_count(const char *fmt, const char *arg)
{
    char *v = s_sql(fmt, arg);
    long n = v ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

/* ---- register ---- */

START_TEST(register_answers_201_with_the_user_and_no_secret)
{
    char email[128], url[64];
    s_email("reg", email);
    char body[512];
    snprintf(
        body, sizeof body,
        "{\"email\":\"%s\",\"password\":\"%s\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\","
        "\"phone_number\":\"+441234567890\",\"locale\":\"en-GB\"}",
        email, PW);
    bx_httpc_resp_t r = s_call("POST", "/api/v1/users/register", NULL, body);
    ck_assert_int_eq(r.status, 201);
    ck_assert_str_eq(s_jstr(r.json, "data.type"), "user");
    ck_assert(bx_uuid_valid(s_jstr(r.json, "data.id")));
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.email"), email);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.role"), "customer");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.locale"), "en-GB");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.phone_number"), "+441234567890");
    ck_assert_str_eq(s_jstr(r.json, "data.links.self"), "/api/v1/users/profile");
    ck_assert_ptr_null(strstr(r.body, PW));
    ck_assert_ptr_null(strstr(r.body, "argon2"));
    ck_assert_ptr_null(strstr(r.body, "password"));
    ck_assert(bx_httpc_header(&r, "Location", url, sizeof url));
    char *hash = s_sql("SELECT password_hash FROM users WHERE email = '%s'", email);
    ck_assert_ptr_nonnull(hash);
    ck_assert_int_eq(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
    free(hash);
    bx_httpc_free(&r);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM audit_log WHERE action = 'user.register' AND object_id = "
                "(SELECT id::text FROM users WHERE email = '%s')",
                email),
        1);
}
END_TEST

/* One bad registration: body template (%s = a fresh email) and the expected status. */
typedef struct {
    const char *body;
    long status;
    const char *pointer; /* expected first error pointer, or NULL */
} s_bad_reg_t;

static const s_bad_reg_t s_bad_regs[] = {
    {"{\"email\":\"%s\",\"password\":\"short\"}", 400, "/password"},
    {"{\"email\":\"%s\",\"password\":\"password123\"}", 400, "/password"},
    {"{\"email\":\"%s\",\"password\":\"" PW "\",\"role\":\"admin\"}", 400, "/role"},
    {"{\"email\":\"@%s\",\"password\":\"" PW "\"}", 400, "/email"},
    {"{\"email\":\"%s\"}", 400, "/password"},
    {"{\"email\":\"%s\",\"password\":12345678}", 400, "/password"},
    {"{\"email\":\"%s\",\"password\":\"" PW "\",\"phone_number\":\"12345\"}", 400, "/phone_number"},
    {"{\"email\":\"%s\",\"password\":\"" PW "\",\"first_name\":\"<script>\"}", 400, "/first_name"},
    {"{\"email\":\"%s'); DROP TABLE users; --\",\"password\":\"" PW "\"}", 400, "/email"},
    {"{\"email\":\"%s\",\"password\":\"" PW "\",\"locale\":\"english\"}", 400, "/locale"},
};

START_TEST(bad_registrations_are_refused_and_write_nothing)
{
    const s_bad_reg_t *c = &s_bad_regs[_i];
    char email[128], body[1024];
    s_email("bad", email);
    snprintf(body, sizeof body, c->body, email);
    long before = s_count("SELECT count(*) FROM users%s", "");
    bx_httpc_resp_t r = s_call("POST", "/api/v1/users/register", NULL, body);
    ck_assert_msg(r.status == c->status, "case %d: %ld %s", _i, r.status, r.body);
    json_t *first = json_array_get(json_object_get(r.json, "errors"), 0);
    if (c->pointer)
        ck_assert_str_eq(json_string_value(json_object_get(first, "pointer")), c->pointer);
    ck_assert_ptr_null(strstr(r.body, PW));
    bx_httpc_free(&r);
    ck_assert_int_eq(s_count("SELECT count(*) FROM users%s", ""), before);
}
END_TEST

START_TEST(duplicate_email_in_any_case_is_409)
{
    char email[128], upper[128];
    s_email("dup", email);
    s_register(email, PW, NULL);
    bx_strlcpy(upper, email, sizeof upper);
    for (char *p = upper; *p && *p != '@'; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    char body[512];
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}", upper, PW);
    bx_httpc_resp_t r = s_call("POST", "/api/v1/users/register", NULL, body);
    ck_assert_int_eq(r.status, 409);
    ck_assert_str_eq(s_jstr(r.json, "type"), "https://boxoffice.dev/problems/conflict");
    bx_httpc_free(&r);
}
END_TEST

/* ---- login ---- */

START_TEST(login_issues_an_eddsa_access_token_and_a_refresh_token)
{
    char email[128], uid[37];
    s_email("login", email);
    s_register(email, PW, uid);
    char body[512];
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}", email, PW);
    bx_httpc_resp_t r = s_call("POST", "/api/v1/users/login", NULL, body);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.type"), "token");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.token_type"), "Bearer");
    ck_assert_int_eq(json_integer_value(s_jget(r.json, "data.attributes.expires_in")), 900);
    ck_assert_int_gt(json_integer_value(s_jget(r.json, "data.attributes.refresh_expires_in")),
                     2590000);
    ck_assert_int_eq(strlen(s_jstr(r.json, "data.attributes.refresh_token")), 43);
    char cc[64];
    ck_assert(bx_httpc_header(&r, "Cache-Control", cc, sizeof cc));
    ck_assert_str_eq(cc, "no-store");
    json_t *claims = NULL;
    const char *tok = s_jstr(r.json, "data.attributes.access_token");
    ck_assert_int_eq(bx_jwt_verify(s_ring, tok, bx_now_ms() / 1000, &claims), BX_OK);
    ck_assert_str_eq(s_jstr(claims, "iss"), "boxoffice");
    ck_assert_str_eq(s_jstr(claims, "sub"), uid);
    ck_assert_str_eq(s_jstr(claims, "role"), "customer");
    ck_assert_str_eq(s_jstr(claims, "sid"), s_jstr(r.json, "data.id"));
    ck_assert(bx_uuid_valid(s_jstr(claims, "jti")));
    ck_assert_int_eq((int)json_array_size(json_object_get(claims, "orgs")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(claims, "exp")) -
                         json_integer_value(json_object_get(claims, "iat")),
                     900);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", tok, NULL), 200);
    json_decref(claims);
    bx_httpc_free(&r);
}
END_TEST

static double s_login_ms(const char *email, const char *password, long *status)
{
    char a[4096], rt[128];
    int64_t t0 = bx_mono_ms();
    *status = s_login(email, password, a, rt);
    return (double)(bx_mono_ms() - t0);
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

START_TEST(login_failures_look_the_same_for_known_and_unknown_emails)
{
    char email[128], ghost[128];
    double known[7], unknown[7];
    long st;
    s_email("timing", email);
    s_email("ghost", ghost);
    s_register(email, PW, NULL);
    bx_httpc_resp_t a = s_call("POST", "/api/v1/users/login", NULL,
                               "{\"email\":\"nobody@example.org\",\"password\":\"x\"}");
    char body[512];
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"wrong-password\"}", email);
    bx_httpc_resp_t b = s_call("POST", "/api/v1/users/login", NULL, body);
    ck_assert_int_eq(a.status, 401);
    ck_assert_int_eq(b.status, 401);
    ck_assert_str_eq(s_jstr(a.json, "detail"), s_jstr(b.json, "detail"));
    ck_assert_str_eq(s_jstr(a.json, "type"), s_jstr(b.json, "type"));
    bx_httpc_free(&a);
    bx_httpc_free(&b);
    for (int i = 0; i < 7; i++) {
        known[i] = s_login_ms(email, "wrong-password", &st);
        ck_assert_int_eq(st, 401);
        unknown[i] = s_login_ms(ghost, "wrong-password", &st);
        ck_assert_int_eq(st, 401);
    }
    qsort(known, 7, sizeof known[0], s_cmp_double);
    qsort(unknown, 7, sizeof unknown[0], s_cmp_double);
    /* both pay one argon2id run: the medians stay within a factor of two */
    ck_assert_msg(unknown[3] * 2 >= known[3] && known[3] * 2 >= unknown[3],
                  "median known %.1f ms, unknown %.1f ms", known[3], unknown[3]);
}
END_TEST

/* ---- refresh ---- */

START_TEST(refresh_rotates_tokens_within_the_same_session)
{
    char email[128], a1[4096], r1[128], a2[4096], r2[128];
    s_email("rot", email);
    s_register(email, PW, NULL);
    ck_assert_int_eq(s_login(email, PW, a1, r1), 200);
    bx_strlcpy(a2, a1, sizeof a2);
    bx_strlcpy(r2, r1, sizeof r2);
    ck_assert_int_eq(s_refresh(a2, r2), 200);
    ck_assert_str_ne(r1, r2);
    ck_assert_str_ne(a1, a2);
    json_t *c1 = NULL, *c2 = NULL;
    int64_t now = bx_now_ms() / 1000;
    ck_assert_int_eq(bx_jwt_verify(s_ring, a1, now, &c1), BX_OK);
    ck_assert_int_eq(bx_jwt_verify(s_ring, a2, now, &c2), BX_OK);
    ck_assert_str_eq(s_jstr(c1, "sid"), s_jstr(c2, "sid"));
    ck_assert_str_ne(s_jstr(c1, "jti"), s_jstr(c2, "jti"));
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", a2, NULL), 200);
    ck_assert_int_eq(s_refresh(a2, r2), 200); /* the new one rotates again */
    /* only hashes are stored */
    char hash[65];
    bx_sha256_hex(r1, strlen(r1), hash);
    ck_assert_int_eq(
        s_count(
            "SELECT count(*) FROM refresh_tokens WHERE token_hash = '%s' AND used_at IS NOT NULL",
            hash),
        1);
    ck_assert_int_eq(s_count("SELECT count(*) FROM refresh_tokens WHERE token_hash = '%s'", r1), 0);
    json_decref(c1);
    json_decref(c2);
}
END_TEST

START_TEST(reusing_a_spent_refresh_token_revokes_the_whole_session)
{
    char email[128], a[4096], r1[128], r2[128], stolen[128];
    s_email("reuse", email);
    s_register(email, PW, NULL);
    ck_assert_int_eq(s_login(email, PW, a, r1), 200);
    bx_strlcpy(stolen, r1, sizeof stolen);
    bx_strlcpy(r2, r1, sizeof r2);
    ck_assert_int_eq(s_refresh(a, r2), 200); /* the legitimate client rotates */
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", a, NULL), 200);
    char scratch[4096];
    bx_httpc_resp_t r;
    char body[256];
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", stolen);
    r = s_call("POST", "/api/v1/users/token/refresh", NULL, body);
    ck_assert_int_eq(r.status, 401);
    bx_httpc_free(&r);
    /* the whole family is dead: the newest refresh token and the live access token */
    ck_assert_int_eq(s_refresh(scratch, r2), 401);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", a, NULL), 401);
    json_t *claims = NULL;
    ck_assert_int_eq(bx_jwt_verify(s_ring, a, bx_now_ms() / 1000, &claims), BX_OK);
    char *reason =
        s_sql("SELECT revoked_reason FROM sessions WHERE id = '%s'", s_jstr(claims, "sid"));
    ck_assert_str_eq(reason, "reuse");
    ck_assert_int_eq(s_count("SELECT count(*) FROM audit_log WHERE action = 'session.revoke_reuse' "
                             "AND object_id = '%s'",
                             s_jstr(claims, "sid")),
                     1);
    free(reason);
    json_decref(claims);
    /* other sessions of the same user are untouched */
    char a3[4096], r3[128];
    ck_assert_int_eq(s_login(email, PW, a3, r3), 200);
    ck_assert_int_eq(s_refresh(a3, r3), 200);
}
END_TEST

START_TEST(malformed_or_unknown_refresh_tokens_are_401)
{
    ck_assert_int_eq(
        s_status("POST", "/api/v1/users/token/refresh", NULL, "{\"refresh_token\":\"abc\"}"), 401);
    ck_assert_int_eq(
        s_status("POST", "/api/v1/users/token/refresh", NULL,
                 "{\"refresh_token\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}"),
        401);
    ck_assert_int_eq(
        s_status("POST", "/api/v1/users/token/refresh", NULL,
                 "{\"refresh_token\":\"' OR 1=1 --AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}"),
        401);
    ck_assert_int_eq(s_status("POST", "/api/v1/users/token/refresh", NULL, "{}"), 400);
    ck_assert_int_eq(s_status("POST", "/api/v1/users/token/refresh", NULL, "{\"refresh_token\":7}"),
                     400);
}
END_TEST

/* ---- logout ---- */

START_TEST(logout_revokes_the_session_at_once)
{
    char email[128], a[4096], rt[128], other_a[4096], other_r[128];
    s_email("logout", email);
    s_register(email, PW, NULL);
    ck_assert_int_eq(s_login(email, PW, a, rt), 200);
    ck_assert_int_eq(s_login(email, PW, other_a, other_r), 200);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", a, NULL), 200);
    ck_assert_int_eq(s_status("POST", "/api/v1/users/logout", a, NULL), 204);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", a, NULL), 401);
    ck_assert_int_eq(s_status("POST", "/api/v1/users/logout", a, NULL), 401);
    ck_assert_int_eq(s_refresh(a, rt), 401);
    /* the user's other session lives on */
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", other_a, NULL), 200);
    json_t *claims = NULL;
    bx_jwt_verify(s_ring, other_a, bx_now_ms() / 1000, &claims);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM sessions WHERE user_id = '%s' AND revoked_reason = 'logout'",
                s_jstr(claims, "sub")),
        1);
    json_decref(claims);
    ck_assert_int_eq(s_status("POST", "/api/v1/users/logout", NULL, NULL), 401);
}
END_TEST

/* ---- profile ---- */

START_TEST(profile_update_validates_and_merges)
{
    char email[128], a[4096], rt[128], etag[128];
    s_email("prof", email);
    s_register(email, PW, NULL);
    ck_assert_int_eq(s_login(email, PW, a, rt), 200);
    bx_httpc_resp_t r = s_call("PUT", "/api/v1/users/profile", a,
                               "{\"first_name\":\"Grace\",\"last_name\":\"Hopper\",\"phone_"
                               "number\":\"+15551234567\",\"locale\":\"en-US\"}");
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.first_name"), "Grace");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.locale"), "en-US");
    bx_httpc_free(&r);
    r = s_call("PUT", "/api/v1/users/profile", a, "{\"phone_number\":null}");
    ck_assert_int_eq(r.status, 200);
    ck_assert(json_is_null(s_jget(r.json, "data.attributes.phone_number")));
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.last_name"), "Hopper"); /* absent: kept */
    bx_httpc_free(&r);
    ck_assert_int_eq(s_status("PUT", "/api/v1/users/profile", a, "{\"role\":\"admin\"}"), 400);
    ck_assert_int_eq(s_status("PUT", "/api/v1/users/profile", a, "{\"phone_number\":\"555-1234\"}"),
                     400);
    ck_assert_int_eq(s_status("PUT", "/api/v1/users/profile", a, "{\"locale\":null}"), 400);
    char longname[160] = "{\"first_name\":\"";
    size_t n = strlen(longname);
    memset(longname + n, 'x', 101);
    bx_strlcpy(longname + n + 101, "\"}", 4);
    ck_assert_int_eq(s_status("PUT", "/api/v1/users/profile", a, longname), 400);
    r = s_call("GET", "/api/v1/users/profile", a, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.first_name"), "Grace");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.role"), "customer");
    ck_assert(bx_httpc_header(&r, "ETag", etag, sizeof etag));
    bx_httpc_free(&r);
    char inm[160], auth[4200];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", a);
    const char *h[] = {inm, auth, NULL};
    r = bx_httpc("GET", BASE "/api/v1/users/profile", h, NULL, 0);
    ck_assert_int_eq(r.status, 304);
    bx_httpc_free(&r);
}
END_TEST

START_TEST(email_change_needs_the_current_password)
{
    char email[128], new_email[128], a[4096], rt[128], body[512];
    s_email("mail", email);
    s_email("mail-new", new_email);
    s_register(email, PW, NULL);
    ck_assert_int_eq(s_login(email, PW, a, rt), 200);
    snprintf(body, sizeof body, "{\"email\":\"%s\"}", new_email);
    ck_assert_int_eq(s_status("PUT", "/api/v1/users/profile", a, body), 400);
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"current_password\":\"guess-guess\"}",
             new_email);
    ck_assert_int_eq(s_status("PUT", "/api/v1/users/profile", a, body), 403);
    ck_assert_int_eq(s_login(email, PW, a, rt), 200); /* unchanged */
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"current_password\":\"%s\"}", new_email, PW);
    ck_assert_int_eq(s_status("PUT", "/api/v1/users/profile", a, body), 200);
    ck_assert_int_eq(s_login(email, PW, a, rt), 401);
    ck_assert_int_eq(s_login(new_email, PW, a, rt), 200);
    /* taking someone else's address is a conflict */
    char third[128];
    s_email("mail-3", third);
    s_register(third, PW, NULL);
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"current_password\":\"%s\"}", third, PW);
    ck_assert_int_eq(s_status("PUT", "/api/v1/users/profile", a, body), 409);
}
END_TEST

START_TEST(password_change_ends_every_other_session)
{
    char email[128], a1[4096], r1[128], a2[4096], r2[128], body[512];
    s_email("pwchg", email);
    s_register(email, PW, NULL);
    ck_assert_int_eq(s_login(email, PW, a1, r1), 200);
    ck_assert_int_eq(s_login(email, PW, a2, r2), 200);
    ck_assert_int_eq(s_status("PUT", "/api/v1/users/profile", a1, "{\"new_password\":\"" PW2 "\"}"),
                     400);
    snprintf(body, sizeof body, "{\"new_password\":\"12345678\",\"current_password\":\"%s\"}", PW);
    ck_assert_int_eq(s_status("PUT", "/api/v1/users/profile", a1, body), 400);
    snprintf(body, sizeof body, "{\"new_password\":\"%s\",\"current_password\":\"%s\"}", PW2, PW);
    ck_assert_int_eq(s_status("PUT", "/api/v1/users/profile", a1, body), 200);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", a2, NULL), 401);
    ck_assert_int_eq(s_refresh(a2, r2), 401);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", a1, NULL), 200);
    ck_assert_int_eq(s_login(email, PW, a2, r2), 401);
    ck_assert_int_eq(s_login(email, PW2, a2, r2), 200);
}
END_TEST

/* ---- hostile tokens ---- */

/* b64url(header).b64url(payload).sig where sig is HMAC-SHA256 under key when key_len > 0,
 * an Ed25519 signature by ring when ring is set, else empty. */
static void s_forge(const char *header, const char *payload, const void *key, size_t key_len,
                    char *out, size_t cap)
{
    size_t o = bx_b64url_encode((const unsigned char *)header, strlen(header), out, cap);
    out[o++] = '.';
    o += bx_b64url_encode((const unsigned char *)payload, strlen(payload), out + o, cap - o);
    unsigned char mac[32];
    unsigned int maclen = 0;
    if (key_len)
        HMAC(EVP_sha256(), key, (int)key_len, (unsigned char *)out, o, mac, &maclen);
    out[o++] = '.';
    out[o] = '\0';
    if (maclen)
        bx_b64url_encode(mac, maclen, out + o, cap - o);
}

/* Claims of a real session of a fresh user, as JSON text, with exp offset. */
static void s_real_claims(char *out, size_t cap, long exp_offset, const char *iss, char *good_token)
{
    char email[128], rt[128];
    s_email("forge", email);
    s_register(email, PW, NULL);
    ck_assert_int_eq(s_login(email, PW, good_token, rt), 200);
    json_t *c = NULL;
    ck_assert_int_eq(bx_jwt_verify(s_ring, good_token, bx_now_ms() / 1000, &c), BX_OK);
    json_object_set_new(c, "exp", json_integer(bx_now_ms() / 1000 + exp_offset));
    json_object_set_new(c, "iss", json_string(iss));
    json_object_set_new(c, "role", json_string("admin"));
    char *t = json_dumps(c, JSON_COMPACT);
    bx_strlcpy(out, t, cap);
    free(t);
    json_decref(c);
}

START_TEST(forged_expired_and_alg_none_tokens_are_401)
{
    char payload[2048], good[4096], tok[8192], hdr[256], dir[300];
    s_real_claims(payload, sizeof payload, 900, "boxoffice", good);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", good, NULL), 200);
    snprintf(hdr, sizeof hdr, "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
             bx_jwt_ring_kid(s_ring));
    s_forge(hdr, payload, NULL, 0, tok, sizeof tok);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", tok, NULL), 401);
    /* HS256 keyed with the published key */
    char *jwks = bx_jwt_jwks(s_ring);
    snprintf(hdr, sizeof hdr, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
             bx_jwt_ring_kid(s_ring));
    s_forge(hdr, payload, jwks, strlen(jwks), tok, sizeof tok);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", tok, NULL), 401);
    free(jwks);
    /* a well-formed EdDSA token from a key the server does not have */
    snprintf(dir, sizeof dir, "%s/foreign-XXXXXX", s_dir);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    bx_jwt_ring_t *foreign = bx_jwt_ring_generate(dir, "boxoffice");
    json_t *c = json_loads(payload, 0, NULL);
    char *ft = bx_jwt_sign(foreign, c);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", ft, NULL), 401);
    free(ft);
    /* our own key, but expired, or from another issuer */
    json_object_set_new(c, "exp", json_integer(bx_now_ms() / 1000 - 3600));
    char *expired = bx_jwt_sign(s_ring, c);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", expired, NULL), 401);
    json_object_set_new(c, "exp", json_integer(bx_now_ms() / 1000 + 900));
    json_object_set_new(c, "iss", json_string("evil"));
    char *wrong_iss = bx_jwt_sign(s_ring, c);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", wrong_iss, NULL), 401);
    free(expired);
    free(wrong_iss);
    json_decref(c);
    bx_jwt_ring_destroy(&foreign);
    /* tampered: the genuine token with its role raised */
    char *sig = strrchr(good, '.');
    s_forge("{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"x\"}", payload, NULL, 0, tok, sizeof tok);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", tok, NULL), 401);
    char *dot = strchr(good, '.');
    snprintf(tok, sizeof tok, "%.*s.", (int)(dot - good), good);
    size_t o = strlen(tok);
    o += bx_b64url_encode((const unsigned char *)payload, strlen(payload), tok + o, sizeof tok - o);
    snprintf(tok + o, sizeof tok - o, "%s", sig);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", tok, NULL), 401);
    ck_assert_int_eq(s_status("GET", "/api/v1/users/profile", "garbage", NULL), 401);
    const char *h[] = {"Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l", NULL};
    bx_httpc_resp_t r = bx_httpc("GET", BASE "/api/v1/users/profile", h, NULL, 0);
    ck_assert_int_eq(r.status, 401);
    bx_httpc_free(&r);
}
END_TEST

/* ---- organizations ---- */

static void s_admin_login(char *a)
{
    char rt[128];
    ck_assert_int_eq(s_login(s_admin_email, ADMIN_PW, a, rt), 200);
}

/* Creates an organization as admin; fills its id. Returns the status. */
static long s_org_create(const char *admin, const char *name, const char *owner, char id[37])
{
    char body[512];
    if (owner)
        snprintf(body, sizeof body, "{\"name\":\"%s\",\"owner_email\":\"%s\"}", name, owner);
    else
        snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    bx_httpc_resp_t r = s_call("POST", "/api/v1/organizations", admin, body);
    long st = r.status;
    if (st == 201)
        bx_strlcpy(id, s_jstr(r.json, "data.id"), 37);
    bx_httpc_free(&r);
    return st;
}

static long s_add_member(const char *tok, const char *org, const char *email, const char *role)
{
    char path[128], body[512];
    snprintf(path, sizeof path, "/api/v1/organizations/%s/members", org);
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"role\":\"%s\"}", email, role);
    return s_status("POST", path, tok, body);
}

START_TEST(organizations_make_partners_and_stay_private)
{
    char admin[4096], owner_mail[128], member_mail[128], outsider_mail[128], org[37], path[128];
    char owner_a[4096], owner_r[128], mem_a[4096], mem_r[128], out_a[4096], out_r[128];
    s_admin_login(admin);
    s_email("owner", owner_mail);
    s_email("member", member_mail);
    s_email("outsider", outsider_mail);
    s_register(owner_mail, PW, NULL);
    s_register(member_mail, PW, NULL);
    s_register(outsider_mail, PW, NULL);
    ck_assert_int_eq(s_login(owner_mail, PW, owner_a, owner_r), 200);
    ck_assert_int_eq(s_login(member_mail, PW, mem_a, mem_r), 200);
    ck_assert_int_eq(s_login(outsider_mail, PW, out_a, out_r), 200);
    /* only an admin creates organizations */
    ck_assert_int_eq(s_org_create(owner_a, "Nope Ltd", NULL, org), 403);
    ck_assert_int_eq(s_org_create(admin, "Ghost Ltd", "nobody-at-all@example.org", org), 422);
    ck_assert_int_eq(s_count("SELECT count(*) FROM organizations WHERE name = '%s'", "Ghost Ltd"),
                     0);
    ck_assert_int_eq(s_org_create(admin, "Riverside Theatre", owner_mail, org), 201);
    /* the owner's next tokens say partner and carry the organization */
    ck_assert_int_eq(s_refresh(owner_a, owner_r), 200);
    json_t *c = NULL;
    ck_assert_int_eq(bx_jwt_verify(s_ring, owner_a, bx_now_ms() / 1000, &c), BX_OK);
    ck_assert_str_eq(s_jstr(c, "role"), "partner");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "orgs"), 0)), org);
    json_decref(c);
    /* owners add members; members do not; strangers do not even see it */
    ck_assert_int_eq(s_add_member(owner_a, org, member_mail, "member"), 201);
    ck_assert_int_eq(s_add_member(owner_a, org, member_mail, "member"), 200);
    ck_assert_int_eq(s_refresh(mem_a, mem_r), 200);
    ck_assert_int_eq(s_add_member(mem_a, org, outsider_mail, "member"), 403);
    ck_assert_int_eq(s_add_member(out_a, org, outsider_mail, "owner"), 404);
    ck_assert_int_eq(s_add_member(owner_a, org, "nobody-at-all@example.org", "member"), 422);
    ck_assert_int_eq(s_add_member(owner_a, org, owner_mail, "member"), 409); /* last owner */
    ck_assert_int_eq(s_add_member(owner_a, org, member_mail, "boss"), 400);
    snprintf(path, sizeof path, "/api/v1/organizations/%s", org);
    bx_httpc_resp_t r = s_call("GET", path, mem_a, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.name"), "Riverside Theatre");
    ck_assert_int_eq((int)json_array_size(s_jget(r.json, "data.attributes.members")), 2);
    bx_httpc_free(&r);
    ck_assert_int_eq(s_status("GET", path, admin, NULL), 200);
    r = s_call("GET", path, out_a, NULL);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_null(strstr(r.body, "Riverside"));
    bx_httpc_free(&r);
    ck_assert_int_eq(
        s_status("GET", "/api/v1/organizations/00000000-0000-7000-8000-000000000000", admin, NULL),
        404);
    ck_assert_int_eq(s_status("GET", "/api/v1/organizations/not-a-uuid", admin, NULL), 404);
    ck_assert_int_eq(s_status("GET", "/api/v1/organizations/1%27%20OR%201=1", out_a, NULL), 404);
    ck_assert_int_eq(s_status("GET", path, NULL, NULL), 401);
    ck_assert_int_eq(s_count("SELECT count(*) FROM audit_log WHERE object_id = '%s' AND action "
                             "LIKE 'organization.member%%'",
                             org),
                     3);
}
END_TEST

/* ---- bxctl ---- */

START_TEST(create_admin_is_idempotent_and_keeps_passwords_off_the_command_line)
{
    char a[4096], rt[128], cmd[1024];
    ck_assert_int_eq(s_create_admin(s_admin_email, ADMIN_PW, NULL), 0); /* again: updated */
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM users WHERE lower(email) = lower('%s') AND role = 'admin'",
                s_admin_email),
        1);
    ck_assert_int_eq(s_login(s_admin_email, ADMIN_PW, a, rt), 200);
    ck_assert_int_eq(s_create_admin("second-admin@boxoffice.test", "short", NULL), 1);
    ck_assert_int_eq(
        s_create_admin("second-admin@boxoffice.test", ADMIN_PW, "--password " ADMIN_PW), 2);
    ck_assert_int_eq(s_create_admin("not an email", ADMIN_PW, NULL), 2);
    /* from a file */
    char file[400];
    snprintf(file, sizeof file, "%s/admin-password", s_dir);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs(PW2 "\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "BOXOFFICE_PG_DSN='%s' %s create-admin --email second-admin@boxoffice.test "
             "--password-file '%s' >>%s 2>&1",
             s_dsn, bx_h_bin("bxctl"), file, s_log);
    ck_assert_int_eq(bx_h_sh(cmd), 0);
    ck_assert_int_eq(s_login("second-admin@boxoffice.test", PW2, a, rt), 200);
    json_t *c = NULL;
    bx_jwt_verify(s_ring, a, bx_now_ms() / 1000, &c);
    ck_assert_str_eq(s_jstr(c, "role"), "admin");
    json_decref(c);
}
END_TEST

/* ---- keys ---- */

START_TEST(pyjwt_verifies_login_tokens_with_the_served_jwks)
{
    char email[128], a[4096], rt[128], path[400], cmd[2048];
    s_email("jwks", email);
    s_register(email, PW, NULL);
    ck_assert_int_eq(s_login(email, PW, a, rt), 200);
    bx_httpc_resp_t r = bx_httpc("GET", BASE "/.well-known/jwks.json", NULL, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    json_t *k = json_array_get(json_object_get(r.json, "keys"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(k, "kid")), bx_jwt_ring_kid(s_ring));
    ck_assert_ptr_null(json_object_get(k, "d"));
    snprintf(path, sizeof path, "%s/jwks.json", s_dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fwrite(r.body, 1, r.len, f);
    fclose(f);
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "%s/token", s_dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(a, f);
    fclose(f);
    const char *py = getenv("BX_PYTHON3") ? getenv("BX_PYTHON3") : "/usr/bin/python3";
    snprintf(cmd, sizeof cmd,
             "'%s' '%s/tests/verify_jwt.py' '%s/token' '%s/jwks.json' boxoffice >/dev/null", py,
             getenv("BX_SOURCE_DIR"), s_dir, s_dir);
    ck_assert_msg(bx_h_sh(cmd) == 0, "PyJWT refused a login token with the served JWKS");
}
END_TEST

/* ---- logs ---- */

START_TEST(logs_never_hold_passwords_hashes_or_tokens)
{
    char email[128], a[4096], rt[128], spent[128];
    s_email("logs", email);
    s_register(email, PW, NULL);
    ck_assert_int_eq(s_login(email, PW, a, rt), 200);
    bx_strlcpy(spent, rt, sizeof spent);
    ck_assert_int_eq(s_refresh(a, rt), 200);
    ck_assert_int_eq(s_status("POST", "/api/v1/users/logout", a, NULL), 204);
    usleep(200 * 1000);
    FILE *f = fopen(s_log, "r");
    ck_assert_ptr_nonnull(f);
    char line[16384];
    int lines = 0;
    const char *secrets[] = {PW, PW2, ADMIN_PW, "$argon2id", spent, rt, a, strchr(a, '.') + 1};
    while (fgets(line, sizeof line, f)) {
        lines++;
        for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
            ck_assert_msg(!strstr(line, secrets[i]), "secret %zu in log line: %.120s", i, line);
    }
    fclose(f);
    ck_assert_int_gt(lines, 10);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("accounts");
    TCase *tc = tcase_create("http");
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, register_answers_201_with_the_user_and_no_secret);
    tcase_add_loop_test(tc, bad_registrations_are_refused_and_write_nothing, 0,
                        (int)(sizeof s_bad_regs / sizeof s_bad_regs[0]));
    tcase_add_test(tc, duplicate_email_in_any_case_is_409);
    tcase_add_test(tc, login_issues_an_eddsa_access_token_and_a_refresh_token);
    tcase_add_test(tc, login_failures_look_the_same_for_known_and_unknown_emails);
    tcase_add_test(tc, refresh_rotates_tokens_within_the_same_session);
    tcase_add_test(tc, reusing_a_spent_refresh_token_revokes_the_whole_session);
    tcase_add_test(tc, malformed_or_unknown_refresh_tokens_are_401);
    tcase_add_test(tc, logout_revokes_the_session_at_once);
    tcase_add_test(tc, profile_update_validates_and_merges);
    tcase_add_test(tc, email_change_needs_the_current_password);
    tcase_add_test(tc, password_change_ends_every_other_session);
    tcase_add_test(tc, forged_expired_and_alg_none_tokens_are_401);
    tcase_add_test(tc, organizations_make_partners_and_stay_private);
    tcase_add_test(tc, create_admin_is_idempotent_and_keeps_passwords_off_the_command_line);
    tcase_add_test(tc, pyjwt_verifies_login_tokens_with_the_served_jwks);
    tcase_add_test(tc, logs_never_hold_passwords_hashes_or_tokens);
    suite_add_tcase(s, tc);
    return s;
}
