/* holds_fixture: the system the hold suites run against (real processes on the suite's
 * ports) and the catalog calls that make an on-sale event. */
#include "holds_fixture.h"

#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_harness.h"
#include "bx_jwt.h"
#include "bx_util.h"

#define S_ENV_MAX 32

static char s_env[S_ENV_MAX][512];
static const char *s_envp[S_ENV_MAX + 1];
static bx_jwt_ring_t *s_ring;
static char s_venue[37];
static int s_halls;

/* ---- small helpers ---- */

const char *hf_j(const char *fmt, ...)
{
    static char bufs[32][16384];
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

json_t *hf_get(json_t *j, const char *path)
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

const char *hf_str(json_t *j, const char *path)
{
    return json_string_value(hf_get(j, path));
}

long hf_int(json_t *j, const char *path)
{
    return (long)json_integer_value(hf_get(j, path));
}

static char *s_vsql(hf_sys_t *sys, const char *fmt, va_list ap)
{
    char sql[8192];
    vsnprintf(sql, sizeof sql, fmt, ap);
    return bx_h_sql(sys->dsn, sql);
}

long hf_num(hf_sys_t *sys, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = s_vsql(sys, fmt, ap);
    va_end(ap);
    long n = v ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

char *hf_text(hf_sys_t *sys, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = s_vsql(sys, fmt, ap);
    va_end(ap);
    return v;
}

bx_httpc_resp_t hf_call(hf_sys_t *sys, const char *method, const char *path, const char *tok,
                        const char *body, const char *const *headers)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", sys->base, path);
    return bx_httpc_json(method, url, tok, body, headers);
}

/* ---- tokens ---- */

static void s_mint(hf_sys_t *sys, const char *role, const char *org, char *tok, size_t cap,
                   char *uid_out)
{
    char uid[37], sid[37], jti[37];
    bx_uuid_v7(uid);
    bx_uuid_v7(sid);
    bx_uuid_v7(jti);
    free(hf_text(sys,
                 "INSERT INTO users (id, email, password_hash, role) VALUES ('%s', '%s@t.test', "
                 "'x', '%s'); INSERT INTO sessions (id, user_id, expires_at) VALUES ('%s', '%s', "
                 "now() + interval '1 day')",
                 uid, uid, role, sid, uid));
    if (org)
        free(hf_text(sys,
                     "INSERT INTO organization_members (org_id, user_id, role) VALUES ('%s', "
                     "'%s', 'owner')",
                     org, uid));
    long now = (long)(bx_now_ms() / 1000);
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "iss", "boxoffice", "sub", uid,
                          "sid", sid, "role", role, "jti", jti, "iat", (json_int_t)now, "exp",
                          (json_int_t)(now + 7200));
    char *t = bx_jwt_sign(s_ring, c);
    json_decref(c);
    ck_assert_ptr_nonnull(t);
    bx_strlcpy(tok, t, cap);
    free(t);
    if (uid_out)
        memcpy(uid_out, uid, 37);
}

void hf_customer(hf_sys_t *sys, char *tok, size_t cap, char *uid)
{
    s_mint(sys, "customer", NULL, tok, cap, uid);
}

void hf_token(hf_sys_t *sys, const char *role, char *tok, size_t cap, char *uid_out)
{
    s_mint(sys, role, NULL, tok, cap, uid_out);
}

/* Appends to a growing SQL text (test values only). */
static void s_append(char **buf, size_t *len, size_t *cap, const char *text)
{
    size_t n = strlen(text);
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = realloc(*buf, *cap);
        ck_assert_ptr_nonnull(*buf);
    }
    memcpy(*buf + *len, text, n + 1);
    *len += n;
}

void hf_customers(hf_sys_t *sys, int n, char **toks)
{
    char(*uid)[37] = calloc((size_t)n, 37), (*sid)[37] = calloc((size_t)n, 37), row[256], jti[37];
    char *users = NULL, *sessions = NULL;
    size_t ul = 0, uc = 0, sl = 0, sc = 0;
    ck_assert(uid && sid);
    s_append(&users, &ul, &uc, "INSERT INTO users (id, email, password_hash, role) VALUES ");
    s_append(&sessions, &sl, &sc, "INSERT INTO sessions (id, user_id, expires_at) VALUES ");
    long now = (long)(bx_now_ms() / 1000);
    for (int i = 0; i < n; i++) {
        bx_uuid_v7(uid[i]);
        bx_uuid_v7(sid[i]);
        bx_uuid_v7(jti);
        snprintf(row, sizeof row, "%s('%s', '%s@t.test', 'x', 'customer')", i ? "," : "", uid[i],
                 uid[i]);
        s_append(&users, &ul, &uc, row);
        snprintf(row, sizeof row, "%s('%s', '%s', now() + interval '1 day')", i ? "," : "", sid[i],
                 uid[i]);
        s_append(&sessions, &sl, &sc, row);
        json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "iss", "boxoffice", "sub",
                              uid[i], "sid", sid[i], "role", "customer", "jti", jti, "iat",
                              (json_int_t)now, "exp", (json_int_t)(now + 7200));
        toks[i] = bx_jwt_sign(s_ring, c);
        json_decref(c);
        ck_assert_ptr_nonnull(toks[i]);
    }
    free(bx_h_sql(sys->dsn, users));
    free(bx_h_sql(sys->dsn, sessions));
    ck_assert_int_ge(hf_num(sys, "SELECT count(*) FROM sessions"), n);
    free(users);
    free(sessions);
    free(uid);
    free(sid);
}

/* ---- processes ---- */

static void s_env_init(hf_sys_t *sys, const char *const *extra)
{
    const char *rp = getenv("BX_TEST_REDIS_PORT");
    int n = 0;
    snprintf(s_env[n++], 512, "BOXOFFICE_PG_DSN=%s", sys->dsn);
    snprintf(s_env[n++], 512, "BOXOFFICE_REDIS_PORT=%s", rp ? rp : "26379");
    snprintf(s_env[n++], 512, "BOXOFFICE_BROKER_ENDPOINT=tcp://127.0.0.1:%d", sys->broker_port);
    snprintf(s_env[n++], 512, "BOXOFFICE_HTTP_PORT=%d", sys->http_port);
    snprintf(s_env[n++], 512, "BOXOFFICE_JWT_KEY_DIR=%s/keys", sys->dir);
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_WRITE_PER_MIN=100000000");
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_READ_PER_MIN=100000000");
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_IP_PER_MIN=100000000");
    snprintf(s_env[n++], 512, "BOXOFFICE_HEARTBEAT_MS=400");
    snprintf(s_env[n++], 512, "BOXOFFICE_SCHEDULER_TICK_MS=200");
    snprintf(s_env[n++], 512, "BOXOFFICE_REQUEST_LEASE_S=3");
    snprintf(s_env[n++], 512, "BOXOFFICE_LOG_LEVEL=info");
    for (int i = 0; extra && extra[i] && n < S_ENV_MAX; i++)
        bx_strlcpy(s_env[n++], extra[i], 512);
    for (int i = 0; i < n; i++)
        s_envp[i] = s_env[i];
    s_envp[n] = NULL;
}

static pid_t s_spawn(hf_sys_t *sys, const char *bin)
{
    return bx_h_spawn(bx_h_bin(bin), NULL, s_envp, sys->log);
}

int hf_spawn(hf_sys_t *sys, const char *bin, const char *const *argv)
{
    ck_assert_int_lt(sys->nextra, HF_EXTRA_MAX);
    int i = sys->nextra++;
    sys->extra_bin[i] = bin;
    sys->extra[i] = bx_h_spawn(bx_h_bin(bin), argv, s_envp, sys->log);
    ck_assert_int_gt(sys->extra[i], 0);
    return i;
}

void hf_respawn(hf_sys_t *sys, int i)
{
    ck_assert_int_lt(i, sys->nextra);
    sys->extra[i] = s_spawn(sys, sys->extra_bin[i]);
}

void hf_worker_start(hf_sys_t *sys, int i)
{
    sys->workers[i] = s_spawn(sys, "bx-worker-hold");
}

void hf_start(hf_sys_t *sys, const char *db, int http_port, int nworkers, const char *const *env)
{
    char cmd[1024];
    const char *tmp = getenv("BX_TMP_DIR") ? getenv("BX_TMP_DIR") : "/tmp";
    sys->dsn = strdup(bx_h_db(db));
    sys->http_port = http_port;
    sys->broker_port = http_port + 1;
    sys->nworkers = nworkers;
    snprintf(sys->base, sizeof sys->base, "http://127.0.0.1:%d", http_port);
    snprintf(sys->dir, sizeof sys->dir, "%s/%s.tmp", tmp, db);
    snprintf(sys->log, sizeof sys->log, "%s/processes.log", sys->dir);
    snprintf(cmd, sizeof cmd,
             "rm -rf '%s' && mkdir -p '%s/keys' && BOXOFFICE_JWT_KEY_DIR='%s/keys' %s keygen "
             ">/dev/null",
             sys->dir, sys->dir, sys->dir, bx_h_bin("bxctl"));
    ck_assert_int_eq(bx_h_sh(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/keys", sys->dir);
    s_ring = bx_jwt_ring_load(cmd, "boxoffice");
    ck_assert_ptr_nonnull(s_ring);
    bx_uuid_v7(sys->org);
    char other[37];
    bx_uuid_v7(other);
    free(hf_text(sys,
                 "INSERT INTO organizations (id, name) VALUES ('%s', 'Org A'), ('%s', 'Org B')",
                 sys->org, other));
    s_mint(sys, "partner", sys->org, sys->partner, sizeof sys->partner, NULL);
    s_mint(sys, "partner", other, sys->other_partner, sizeof sys->other_partner, NULL);
    s_env_init(sys, env);
    sys->broker = s_spawn(sys, "bx-broker");
    ck_assert_int_eq(bx_h_wait_port(sys->broker_port, 5000), 0);
    for (int i = 0; i < nworkers; i++)
        hf_worker_start(sys, i);
    sys->scheduler = s_spawn(sys, "bx-worker-scheduler");
    sys->frontdoor = s_spawn(sys, "bx-frontdoor");
    ck_assert_int_eq(bx_h_wait_port(http_port, 10000), 0);
    s_halls = 0;
    s_venue[0] = '\0';
}

void hf_stop(hf_sys_t *sys)
{
    if (sys->frontdoor > 0)
        bx_h_stop(sys->frontdoor, SIGTERM, 5000);
    for (int i = sys->nextra - 1; i >= 0; i--)
        if (sys->extra[i] > 0)
            bx_h_stop(sys->extra[i], SIGTERM, 5000);
    for (int i = 0; i < sys->nworkers; i++)
        if (sys->workers[i] > 0)
            bx_h_stop(sys->workers[i], SIGTERM, 5000);
    if (sys->scheduler > 0)
        bx_h_stop(sys->scheduler, SIGTERM, 5000);
    if (sys->broker > 0)
        bx_h_stop(sys->broker, SIGTERM, 5000);
    bx_jwt_ring_destroy(&s_ring);
}

/* ---- events ---- */

/* POSTs body to path as the partner, expects 201 and copies data.id into id. */
static void s_create(hf_sys_t *sys, const char *path, const char *body, char id[37])
{
    bx_httpc_resp_t r = hf_call(sys, "POST", path, sys->partner, body, NULL);
    ck_assert_msg(r.status == 201, "POST %s: %ld %s", path, r.status, r.body);
    bx_strlcpy(id, hf_str(r.json, "data.id"), 37);
    bx_httpc_free(&r);
}

static void s_expect(hf_sys_t *sys, const char *method, const char *path, const char *body,
                     long status)
{
    bx_httpc_resp_t r = hf_call(sys, method, path, sys->partner, body, NULL);
    ck_assert_msg(r.status == status, "%s %s: %ld %s", method, path, r.status, r.body);
    bx_httpc_free(&r);
}

/* A hall with the standard layout; returns its id. */
static void s_hall(hf_sys_t *sys, int rows, int per_row, int ga_capacity, char hall[37])
{
    char path[160], name[32], rowdocs[8192] = "";
    size_t len = 0;
    if (!s_venue[0])
        s_create(sys, "/api/v1/venues",
                 hf_j("{'name':'Arena','address':'1 Main Street','city':'Berlin','country':'DE',"
                      "'latitude':52.52,'longitude':13.405,'time_zone':'Europe/Berlin',"
                      "'capacity':100000}"),
                 s_venue);
    snprintf(name, sizeof name, "Hall %d", ++s_halls);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls", s_venue);
    s_create(sys, path, hf_j("{'name':'%s','kind':'arena'}", name), hall);
    for (int r = 0; r < rows && len + 64 < sizeof rowdocs; r++) {
        char label[8];
        if (r < 26)
            snprintf(label, sizeof label, "%c", 'A' + r);
        else
            snprintf(label, sizeof label, "%c%c", 'A' + r / 26 - 1, 'A' + r % 26);
        len += (size_t)snprintf(rowdocs + len, sizeof rowdocs - len,
                                "%s{'label':'%s','count':%d,'x':0,'y':%d}", r ? "," : "", label,
                                per_row, r);
    }
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls/%s/layout", s_venue, hall);
    s_expect(sys, "PUT", path,
             hf_j("{'sections':[{'code':'MAIN','name':'Main','kind':'seated','rows':[%s]},"
                  "{'code':'PIT','name':'Pit','kind':'ga','capacity':%d}]}",
                  rowdocs, ga_capacity > 0 ? ga_capacity : 1),
             201);
}

static void s_event(hf_sys_t *sys, int rows, int per_row, int ga_capacity, hf_event_t *ev,
                    int publish);

void hf_draft(hf_sys_t *sys, hf_event_t *ev)
{
    s_event(sys, 2, 10, 10, ev, 0);
}

void hf_event(hf_sys_t *sys, int rows, int per_row, int ga_capacity, hf_event_t *ev)
{
    s_event(sys, rows, per_row, ga_capacity, ev, 1);
}

static void s_event(hf_sys_t *sys, int rows, int per_row, int ga_capacity, hf_event_t *ev,
                    int publish)
{
    char hall[37], path[160];
    s_hall(sys, rows, per_row, ga_capacity, hall);
    s_create(sys, "/api/v1/events",
             hf_j("{'name':'Hot show','event_type':'concert','venue_id':'%s','hall_id':'%s',"
                  "'starts_at':'2031-06-01T20:00:00Z','ends_at':'2031-06-01T23:00:00Z',"
                  "'currency':'EUR'}",
                  s_venue, hall),
             ev->id);
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", ev->id);
    s_create(sys, path,
             hf_j("{'name':'Standard','kind':'seated','price_minor':5000,'sections':['MAIN']}"),
             ev->standard);
    ev->premium[0] = '\0';
    if (per_row >= 6)
        s_create(sys, path,
                 hf_j("{'name':'Premium','kind':'seated','price_minor':9000,'seats':['A5','A6']}"),
                 ev->premium);
    ev->standing[0] = '\0';
    if (ga_capacity > 0)
        s_create(sys, path,
                 hf_j("{'name':'Standing','kind':'ga','price_minor':2500,'section':'PIT',"
                      "'capacity':%d,'max_per_order':100}",
                      ga_capacity),
                 ev->standing);
    if (!publish)
        return;
    snprintf(path, sizeof path, "/api/v1/events/%s/publish", ev->id);
    s_expect(sys, "POST", path, NULL, 200);
    snprintf(path, sizeof path, "/api/v1/events/%s", ev->id);
    s_expect(sys, "PUT", path, hf_j("{'status':'on_sale'}"), 200);
}

/* ---- assertions and steps the suites share ---- */

void hf_problem(const bx_httpc_resp_t *r, long status, const char *slug, int line)
{
    char ct[128], want[128];
    ck_assert_msg(r->status == status, "line %d: want %ld, got %ld: %s", line, status, r->status,
                  r->body);
    ck_assert(bx_httpc_header(r, "Content-Type", ct, sizeof ct));
    ck_assert_msg(strstr(ct, "application/problem+json"), "line %d: content type %s", line, ct);
    snprintf(want, sizeof want, "https://boxoffice.dev/problems/%s", slug);
    ck_assert_msg(r->json && hf_str(r->json, "type") && !strcmp(hf_str(r->json, "type"), want),
                  "line %d: type in %s", line, r->body);
}

void hf_hold(hf_sys_t *sys, const hf_event_t *ev, const char *tok, const char *body, char id[37])
{
    char path[160];
    const char *h[] = {"Prefer: wait=15", NULL};
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory/hold", ev->id);
    bx_httpc_resp_t r = hf_call(sys, "POST", path, tok, body, h);
    HF_EXPECT(r, 201);
    bx_strlcpy(id, hf_str(r.json, "data.id"), 37);
    bx_httpc_free(&r);
}

bx_httpc_resp_t hf_on_hold(hf_sys_t *sys, const char *method, const hf_event_t *ev,
                           const char *hold, const char *tok)
{
    char path[256];
    const char *h[] = {"Prefer: wait=10", NULL};
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory/hold/%s", ev->id, hold);
    return hf_call(sys, method, path, tok, NULL, h);
}

void hf_settings(hf_sys_t *sys, const hf_event_t *ev, const char *settings)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory", ev->id);
    bx_httpc_resp_t r =
        hf_call(sys, "PUT", path, sys->partner, hf_j("{'settings':%s}", settings), NULL);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
}

const char *hf_seat_state(hf_sys_t *sys, const hf_event_t *ev, const char *label)
{
    static char state[16];
    char *v = hf_text(sys, "SELECT state FROM event_seats WHERE event_id = '%s' AND label = '%s'",
                      ev->id, label);
    bx_strlcpy(state, v ? v : "", sizeof state);
    free(v);
    return state;
}
