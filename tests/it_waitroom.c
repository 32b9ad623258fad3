/* it_waitroom: the virtual waiting room, the waitlist and the live inventory stream over
 * real HTTP against a real frontdoor, broker, scheduler and bx-worker-waitlist (the
 * gatekeeper), PostgreSQL and Redis: one place per user, the pre-sale lottery recomputed
 * from the revealed seed, FIFO after the start, the admission rate, max active shoppers
 * and the inventory bound, the sold-out notice, the hold gate refusing missing, forged,
 * expired, spent and other users' or events' admission tokens, forged queue tokens,
 * waitlist offers in order that lapse to the next person, SSE delivery within a second
 * (measured), resume by Last-Event-ID, and a slow SSE client dropped without memory
 * growth. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bx_harness.h"
#include "bx_httpc.h"
#include "bx_invfeed.h"
#include "bx_jwt.h"
#include "bx_redis.h"
#include "bx_suite.h"
#include "bx_util.h"
#include "bx_wroom.h"

#define HTTP_PORT   26300
#define BROKER_PORT 26301
#define BASE        "http://127.0.0.1:26300"
#define PT          "https://boxoffice.dev/problems/"
#define NUSERS      48

static const char *s_dsn;
static char s_dir[256], s_keydir[300], s_log[300];
static char s_env[24][512];
static const char *s_envp[25];
static pid_t s_fd, s_broker, s_sched, s_wl;
static bx_jwt_ring_t *s_ring;
static char s_tok_a[4096], s_tok_b[4096], s_org_a[37], s_org_b[37];
static char s_users[NUSERS][37], s_toks[NUSERS][4096];
static int s_next_user;

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
    snprintf(s_env[n++], 512, "BOXOFFICE_WAITROOM_TICK_MS=100");
    snprintf(s_env[n++], 512, "BOXOFFICE_SCHEDULER_TICK_MS=100");
    snprintf(s_env[n++], 512, "BOXOFFICE_HEARTBEAT_MS=250");
    snprintf(s_env[n++], 512, "BOXOFFICE_REQUEST_LEASE_S=3");
    snprintf(s_env[n++], 512, "BOXOFFICE_WAITLIST_OFFER_TTL_S=5");
    snprintf(s_env[n++], 512, "BOXOFFICE_SSE_BUFFER_BYTES=65536");
    snprintf(s_env[n++], 512, "BOXOFFICE_SSE_HEARTBEAT_S=2");
    snprintf(s_env[n++], 512, "BOXOFFICE_LOG_LEVEL=info");
    for (int i = 0; i < n; i++)
        s_envp[i] = s_env[i];
    s_envp[n] = NULL;
}

static void s_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void s_sql(const char *fmt, ...)
{
    char sql[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    free(bx_h_sql(s_dsn, sql));
}

static long s_count(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static long s_count(const char *fmt, ...)
{
    char sql[8192];
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
static void s_mint(const char *role, const char *org, char uid[37], char *tok, size_t cap)
{
    char sid[37], jti[37];
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
                          (json_int_t)(now + 7200));
    char *t = bx_jwt_sign(s_ring, c);
    json_decref(c);
    ck_assert_ptr_nonnull(t);
    bx_strlcpy(tok, t, cap);
    free(t);
}

static pid_t s_spawn(const char *bin)
{
    return bx_h_spawn(bx_h_bin(bin), NULL, s_envp, s_log);
}

static void s_setup(void)
{
    char cmd[2048], uid[37];
    const char *tmp = getenv("BX_TMP_DIR") ? getenv("BX_TMP_DIR") : "/tmp";
    s_dsn = strdup(bx_h_db("waitroom"));
    snprintf(s_dir, sizeof s_dir, "%s/it_waitroom.tmp", tmp);
    snprintf(s_keydir, sizeof s_keydir, "%s/keys", s_dir);
    snprintf(s_log, sizeof s_log, "%s/processes.log", s_dir);
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
    s_mint("partner", s_org_a, uid, s_tok_a, sizeof s_tok_a);
    s_mint("partner", s_org_b, uid, s_tok_b, sizeof s_tok_b);
    for (int i = 0; i < NUSERS; i++)
        s_mint("customer", NULL, s_users[i], s_toks[i], sizeof s_toks[i]);
    s_env_init();
    s_broker = s_spawn("bx-broker");
    s_sched = s_spawn("bx-worker-scheduler");
    s_wl = s_spawn("bx-worker-waitlist");
    s_fd = s_spawn("bx-frontdoor");
    ck_assert_int_eq(bx_h_wait_port(HTTP_PORT, 10000), 0);
}

static void s_teardown(void)
{
    pid_t all[] = {s_fd, s_wl, s_sched, s_broker};
    for (int i = 0; i < 4; i++)
        if (all[i] > 0)
            bx_h_stop(all[i], SIGTERM, 8000);
    bx_jwt_ring_destroy(&s_ring);
}

/* ---- helpers ---- */

/* Formats a JSON text written with ' for " (rotating static buffers). */
static const char *s_j(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *s_j(const char *fmt, ...)
{
    static char bufs[16][8192];
    static int next;
    char *b = bufs[next++ % 16];
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
    const char *v = json_string_value(s_jget(j, path));
    return v ? v : "";
}

static long s_jint(json_t *j, const char *path)
{
    return (long)json_integer_value(s_jget(j, path));
}

static bx_httpc_resp_t s_call(const char *method, const char *path, const char *tok,
                              const char *body, const char *const *extra)
{
    char url[1024];
    snprintf(url, sizeof url, BASE "%s", path);
    return bx_httpc_json(method, url, tok, body, extra);
}

#define S_EXPECT(r, st)                                                                            \
    ck_assert_msg((r).status == (st), "%s:%d: want %d, got %ld: %s", __FILE__, __LINE__, (st),     \
                  (r).status, (r).body ? (r).body : "")

static void s_problem(bx_httpc_resp_t *r, long status, const char *slug, int line)
{
    char want[128];
    ck_assert_msg(r->status == status, "line %d: want %ld, got %ld: %s", line, status, r->status,
                  r->body);
    snprintf(want, sizeof want, PT "%s", slug);
    ck_assert_msg(r->json && !strcmp(s_jstr(r->json, "type"), want), "line %d: type in %s", line,
                  r->body);
}
#define S_PROBLEM(r, st, slug) s_problem(&(r), (st), (slug), __LINE__)

static void s_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* A published event of org A with `seats` seats in one row, in its own venue. */
static void s_event(int seats, char ev[37])
{
    static int n;
    char venue[37], hall[37], path[200], tier[37];
    bx_httpc_resp_t r = s_call("POST", "/api/v1/venues", s_tok_a,
                               s_j("{'name':'Arena %d','address':'1 Main Street','city':'Wroom',"
                                   "'country':'DE','latitude':52.5,'longitude':13.4,"
                                   "'time_zone':'Europe/Berlin','capacity':5000}",
                                   n),
                               NULL);
    S_EXPECT(r, 201);
    bx_strlcpy(venue, s_jstr(r.json, "data.id"), sizeof venue);
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls", venue);
    r = s_call("POST", path, s_tok_a, s_j("{'name':'Hall','kind':'hall'}"), NULL);
    S_EXPECT(r, 201);
    bx_strlcpy(hall, s_jstr(r.json, "data.id"), sizeof hall);
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls/%s/layout", venue, hall);
    r = s_call("PUT", path, s_tok_a,
               s_j("{'sections':[{'code':'MAIN','name':'Main','kind':'seated','rows':[{'label':'A',"
                   "'count':%d}]}]}",
                   seats),
               NULL);
    S_EXPECT(r, 201);
    bx_httpc_free(&r);
    r = s_call("POST", "/api/v1/events", s_tok_a,
               s_j("{'name':'Hot sale %d','event_type':'concert','venue_id':'%s','hall_id':'%s',"
                   "'starts_at':'2031-0%d-10T18:00:00Z','ends_at':'2031-0%d-10T21:00:00Z','"
                   "currency':'EUR'}",
                   n, venue, hall, 1 + n % 9, 1 + n % 9),
               NULL);
    S_EXPECT(r, 201);
    bx_strlcpy(ev, s_jstr(r.json, "data.id"), 37);
    bx_httpc_free(&r);
    n++;
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", ev);
    r = s_call("POST", path, s_tok_a,
               s_j("{'name':'Standard','kind':'seated','price_minor':5000,'sections':['MAIN']}"),
               NULL);
    S_EXPECT(r, 201);
    bx_strlcpy(tier, s_jstr(r.json, "data.id"), sizeof tier);
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/events/%s/publish", ev);
    r = s_call("POST", path, s_tok_a, NULL, NULL);
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
}

/* Configures the room of ev: sale start and pre-queue opening relative to now. */
static bx_httpc_resp_t s_room_put(const char *tok, const char *ev, long sale_in_s, long pre_in_s,
                                  int rate, int max_active, int ttl, int margin)
{
    char path[160], sale[32], pre[32];
    int64_t now = bx_now_ms() / 1000;
    bx_time_rfc3339(now + sale_in_s, sale);
    bx_time_rfc3339(now + pre_in_s, pre);
    snprintf(path, sizeof path, "/api/v1/events/%s/waiting-room", ev);
    return s_call("PUT", path, tok,
                  s_j("{'enabled':true,'sale_starts_at':'%s','prequeue_opens_at':'%s',"
                      "'admit_per_minute':%d,'max_active_shoppers':%d,'token_ttl_s':%d,"
                      "'inventory_margin_pct':%d,'waitlist_offer_ttl_s':5}",
                      sale, pre, rate, max_active, ttl, margin),
                  NULL);
}

static void s_room(const char *ev, long sale_in_s, int rate, int max_active, int ttl, int margin)
{
    bx_httpc_resp_t r = s_room_put(s_tok_a, ev, sale_in_s, sale_in_s < 0 ? sale_in_s - 60 : -60,
                                   rate, max_active, ttl, margin);
    ck_assert_msg(r.status == 201 || r.status == 200, "room: %ld %s", r.status, r.body);
    bx_httpc_free(&r);
}

/* A fresh customer index. */
static int s_user(void)
{
    ck_assert_int_lt(s_next_user, NUSERS);
    return s_next_user++;
}

/* Joins ev as user u; copies the entry id and queue token. Returns the status. */
static long s_join(int u, const char *ev, char entry[37], char *qtok, size_t cap)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/events/%s/waiting-room/join", ev);
    bx_httpc_resp_t r = s_call("POST", path, s_toks[u], NULL, NULL);
    long st = r.status;
    if (st == 200 || st == 201) {
        bx_strlcpy(entry, s_jstr(r.json, "data.id"), 37);
        bx_strlcpy(qtok, s_jstr(r.json, "data.attributes.queue_token"), cap);
    }
    bx_httpc_free(&r);
    return st;
}

static bx_httpc_resp_t s_position(int u, const char *ev, const char *qtok)
{
    char path[160], hdr[4200];
    snprintf(path, sizeof path, "/api/v1/events/%s/waiting-room/position", ev);
    snprintf(hdr, sizeof hdr, "Queue-Token: %s", qtok);
    const char *h[] = {hdr, NULL};
    return s_call("GET", path, s_toks[u], NULL, qtok ? h : NULL);
}

/* Polls the position of user u until it is admitted (copies the token) or timeout. */
static int s_wait_admitted(int u, const char *ev, const char *qtok, char *adm, size_t cap, int ms)
{
    for (int waited = 0; waited < ms; waited += 100) {
        bx_httpc_resp_t r = s_position(u, ev, qtok);
        int ok = r.status == 200 && !strcmp(s_jstr(r.json, "data.attributes.state"), "admitted");
        if (ok && adm)
            bx_strlcpy(adm, s_jstr(r.json, "data.attributes.admission_token"), cap);
        bx_httpc_free(&r);
        if (ok)
            return 1;
        s_sleep_ms(100);
    }
    return 0;
}

static bx_httpc_resp_t s_admission(int u, const char *ev, const char *adm)
{
    char path[160], hdr[4200];
    snprintf(path, sizeof path, "/api/v1/events/%s/waiting-room/admission", ev);
    snprintf(hdr, sizeof hdr, "Admission-Token: %s", adm ? adm : "");
    const char *h[] = {hdr, NULL};
    return s_call("GET", path, s_toks[u], NULL, adm ? h : NULL);
}

static long s_admitted(const char *ev)
{
    return s_count(
        "SELECT count(*) FROM waitroom_entries WHERE event_id = '%s' AND state <> 'queued'", ev);
}

static bx_redis_t *s_redis(void)
{
    const char *rp = getenv("BX_TEST_REDIS_PORT");
    return bx_redis_new("127.0.0.1", rp ? (int)strtol(rp, NULL, 10) : 26379, 2000);
}

/* ---- the queue ---- */

START_TEST(join_is_idempotent_and_keeps_one_place_per_user)
{
    char ev[37], e1[37], e2[37], q1[4096], q2[4096], path[160];
    s_event(5, ev);
    int u = s_user();
    /* no room yet: joining is refused, the partner's room is 404 for others */
    ck_assert_int_eq(s_join(u, ev, e1, q1, sizeof q1), 409);
    bx_httpc_resp_t r = s_room_put(s_tok_b, ev, 60, -60, 60, 10, 600, 10);
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = s_room_put(s_toks[u], ev, 60, -60, 60, 10, 600, 10);
    S_PROBLEM(r, 403, "forbidden");
    bx_httpc_free(&r);
    r = s_room_put(s_tok_a, ev, 60, 120, 60, 10, 600, 10);
    S_PROBLEM(r, 400, "validation-failed"); /* pre-queue after the sale start */
    bx_httpc_free(&r);
    /* pre-queue not open yet: 409 with Retry-After */
    r = s_room_put(s_tok_a, ev, 600, 300, 60, 10, 600, 10);
    S_EXPECT(r, 201);
    char sha[65];
    bx_strlcpy(sha, s_jstr(r.json, "data.attributes.lottery.seed_sha256"), sizeof sha);
    ck_assert_int_eq(strlen(sha), 64);
    ck_assert(
        json_is_null(s_jget(r.json, "data.attributes.lottery.seed"))); /* secret before the sale */
    bx_httpc_free(&r);
    ck_assert_int_eq(s_join(u, ev, e1, q1, sizeof q1), 409);
    s_room(ev, 60, 60, 10, 600, 10);
    s_sleep_ms(1100); /* frontdoors re-read a room's configuration within a second */
    ck_assert_int_eq(s_join(u, ev, e1, q1, sizeof q1), 201);
    ck_assert_int_eq(s_join(u, ev, e2, q2, sizeof q2), 200); /* the tab was closed: same place */
    ck_assert_str_eq(e1, e2);
    ck_assert_int_eq(s_count("SELECT count(*) FROM waitroom_entries WHERE event_id = '%s'", ev), 1);
    /* both tokens read the same place; before the sale it is the pre-queue */
    r = s_position(u, ev, q2);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.state"), "pre_queue");
    ck_assert_str_eq(s_jstr(r.json, "data.id"), e1);
    char ra[16];
    ck_assert(bx_httpc_header(&r, "Retry-After", ra, sizeof ra));
    bx_httpc_free(&r);
    /* the partner sees the queue; the public view has no statistics */
    snprintf(path, sizeof path, "/api/v1/events/%s/waiting-room", ev);
    r = s_call("GET", path, s_tok_a, NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.stats.joined"), 1);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.lottery.seed_sha256"), sha);
    bx_httpc_free(&r);
    r = s_call("GET", path, NULL, NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_ptr_null(s_jget(r.json, "data.attributes.stats"));
    bx_httpc_free(&r);
}
END_TEST

/* The lottery order, recomputed here independently: the first 48 bits of
 * HMAC-SHA256(seed bytes, entry id), ascending, ties by entry id. */
static unsigned long long s_lottery(const unsigned char seed[32], const char *entry)
{
    unsigned char mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), seed, 32, (const unsigned char *)entry, strlen(entry), mac, &len);
    unsigned long long v = 0;
    for (int i = 0; i < 6; i++)
        v = v << 8 | mac[i];
    return v;
}

typedef struct {
    int u;
    char entry[37];
    char qtok[4096];
    unsigned long long key;
} s_placed_t;

static int s_by_key(const void *a, const void *b)
{
    const s_placed_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return strcmp(x->entry, y->entry);
}

START_TEST(lottery_order_is_reproducible_from_the_revealed_seed_then_fifo)
{
    enum { N = 8 };
    static s_placed_t p[N + 2];
    char ev[37], path[160], sha[65], seed_hex[65];
    unsigned char seed[32];
    s_event(50, ev);
    s_room(ev, 4, 1, 100, 600, 10); /* one admission a minute: the order stays visible */
    snprintf(path, sizeof path, "/api/v1/events/%s/waiting-room", ev);
    bx_httpc_resp_t r = s_call("GET", path, NULL, NULL, NULL);
    bx_strlcpy(sha, s_jstr(r.json, "data.attributes.lottery.seed_sha256"), sizeof sha);
    bx_httpc_free(&r);
    for (int i = 0; i < N; i++) {
        p[i].u = s_user();
        ck_assert_int_eq(s_join(p[i].u, ev, p[i].entry, p[i].qtok, sizeof p[i].qtok), 201);
    }
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM waitroom_entries WHERE event_id = '%s' AND prequeue", ev), N);
    s_sleep_ms(4500);                 /* the sale starts: the seed is revealed */
    for (int i = N; i < N + 2; i++) { /* later arrivals, first in, first out */
        p[i].u = s_user();
        ck_assert_int_eq(s_join(p[i].u, ev, p[i].entry, p[i].qtok, sizeof p[i].qtok), 201);
        s_sleep_ms(20);
    }
    r = s_call("GET", path, NULL, NULL, NULL);
    bx_strlcpy(seed_hex, s_jstr(r.json, "data.attributes.lottery.seed"), sizeof seed_hex);
    bx_httpc_free(&r);
    ck_assert_int_eq(strlen(seed_hex), 64);
    for (int i = 0; i < 32; i++)
        sscanf(seed_hex + 2 * i, "%2hhx", &seed[i]);
    unsigned char digest[32];
    char digest_hex[65];
    SHA256(seed, 32, digest);
    bx_hex(digest, 32, digest_hex);
    ck_assert_str_eq(digest_hex, sha); /* the seed is the one committed to before the sale */
    for (int i = 0; i < N; i++)
        p[i].key = s_lottery(seed, p[i].entry);
    qsort(p, N, sizeof p[0], s_by_key);
    for (int i = 0; i < N + 2; i++) { /* one admission a minute: nobody is in yet */
        r = s_position(p[i].u, ev, p[i].qtok);
        S_EXPECT(r, 200);
        ck_assert_msg(!strcmp(s_jstr(r.json, "data.attributes.state"), "queued"), "place %d: %s", i,
                      r.body);
        ck_assert_int_eq(s_jint(r.json, "data.attributes.position"), i + 1);
        ck_assert_int_eq(s_jint(r.json, "data.attributes.people_ahead"), i);
        ck_assert_int_ge(s_jint(r.json, "data.attributes.estimated_wait_s"), 60 * i);
        char ra[16];
        ck_assert(bx_httpc_header(&r, "Retry-After", ra, sizeof ra));
        bx_httpc_free(&r);
    }
    /* the public lottery list is the same order */
    snprintf(path, sizeof path, "/api/v1/events/%s/waiting-room/lottery?limit=5", ev);
    r = s_call("GET", path, NULL, NULL, NULL);
    S_EXPECT(r, 200);
    for (int i = 0; i < 5; i++)
        ck_assert_str_eq(s_jstr(r.json, s_j("data.%d.id", i)), p[i].entry);
    ck_assert_str_eq(s_jstr(r.json, "meta.seed"), seed_hex);
    bx_httpc_resp_t r2 = s_call("GET", s_jstr(r.json, "links.next"), NULL, NULL, NULL);
    S_EXPECT(r2, 200);
    ck_assert_int_eq(json_array_size(s_jget(r2.json, "data")), 3);
    ck_assert_str_eq(s_jstr(r2.json, "data.2.id"), p[N - 1].entry);
    bx_httpc_free(&r);
    bx_httpc_free(&r2);
}
END_TEST

START_TEST(admission_rate_is_respected)
{
    enum { N = 20 };
    char ev[37], e[37], q[4096];
    s_event(200, ev);
    s_room(ev, 30, 60, 1000, 10, 10); /* 60 a minute: one a second; tokens live 10 s */
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(s_join(s_user(), ev, e, q, sizeof q), 201);
    s_sql("UPDATE waitroom_config SET sale_starts_at = now() WHERE event_id = '%s'", ev);
    s_sleep_ms(1500);
    long a0 = s_admitted(ev);
    s_sleep_ms(10000);
    long a1 = s_admitted(ev);
    printf("admission rate: configured 60/min, observed %ld in 10 s (%.1f/min)\n", a1 - a0,
           (a1 - a0) * 6.0);
    ck_assert_msg(a1 - a0 >= 9 && a1 - a0 <= 11, "admitted %ld in 10 s at 60/min", a1 - a0);
    ck_assert_int_le(a1, 13); /* the burst is one second of admissions */
    /* nobody used their admission: the first ones expired as abandoned; the partner sees it */
    s_sleep_ms(2500);
    char path[160];
    snprintf(path, sizeof path, "/api/v1/events/%s/waiting-room", ev);
    bx_httpc_resp_t r = s_call("GET", path, s_tok_a, NULL, NULL);
    S_EXPECT(r, 200);
    json_t *st = s_jget(r.json, "data.attributes.stats");
    char *stats_text = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
    printf("waiting room stats: %s\n", stats_text);
    free(stats_text);
    ck_assert_int_ge(s_jint(st, "abandoned"), 2);
    ck_assert(json_real_value(s_jget(st, "abandon_rate")) == 1.0);
    ck_assert_int_ge(s_jint(st, "admitted"), a1);
    ck_assert_int_eq(s_jint(st, "joined"), N);
    /* queue length (Redis) and admitted (the gatekeeper's counter) are read one after the
     * other while admissions go on: one admission may fall between the two reads */
    long seen = s_jint(st, "queue_length") + s_jint(st, "admitted");
    ck_assert_msg(seen >= N && seen <= N + 1, "queue_length + admitted = %ld of %d", seen, N);
    ck_assert_int_le(s_jint(st, "active_shoppers"), 12); /* about 10 s of admissions */
    ck_assert_int_ge(s_jint(st, "admissions_last_minute"), 3); /* slow ASan runs admit fewer */
    bx_httpc_free(&r);
    ck_assert_int_ge(
        s_count("SELECT coalesce(sum(abandoned), 0) FROM waitroom_stats WHERE event_id = '%s'", ev),
        2);
}
END_TEST

START_TEST(max_active_shoppers_is_respected_and_a_spent_token_frees_a_slot)
{
    char ev[37], e[37], q[4096], adm[4096] = "";
    int first = -1;
    char firstq[4096];
    s_event(100, ev);
    s_room(ev, -1, 6000, 3, 600, 10);
    for (int i = 0; i < 8; i++) {
        int u = s_user();
        ck_assert_int_eq(s_join(u, ev, e, q, sizeof q), 201);
        if (first < 0) {
            first = u;
            bx_strlcpy(firstq, q, sizeof firstq);
        }
    }
    s_sleep_ms(1500);
    ck_assert_int_eq(s_admitted(ev), 3);
    ck_assert(s_wait_admitted(first, ev, firstq, adm, sizeof adm, 2000));
    /* a completed booking spends the token: the slot goes to the next person */
    bx_wroom_claims_t c;
    ck_assert_int_eq(bx_wroom_verify(s_ring, adm, BX_WROOM_ADMIT, bx_now_ms() / 1000, &c, NULL),
                     BX_OK);
    bx_redis_t *redis = s_redis();
    ck_assert_int_eq(bx_wroom_spend(redis, NULL, ev, c.jti, c.exp), BX_OK);
    bx_redis_destroy(&redis);
    s_sleep_ms(1000);
    ck_assert_int_eq(s_admitted(ev), 4);
    bx_httpc_resp_t r = s_admission(first, ev, adm);
    S_PROBLEM(r, 401, "unauthorized"); /* spent */
    bx_httpc_free(&r);
    r = s_position(first, ev, firstq);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.state"), "spent");
    ck_assert_ptr_null(s_jget(r.json, "data.attributes.admission_token"));
    bx_httpc_free(&r);
}
END_TEST

START_TEST(admission_is_bounded_by_inventory_and_sold_out_is_told_at_once)
{
    char ev[37], e[37], q[10][4096], path[160];
    int u[10];
    s_event(4, ev);
    s_room(ev, -1, 6000, 100, 600, 0);
    for (int i = 0; i < 10; i++) {
        u[i] = s_user();
        ck_assert_int_eq(s_join(u[i], ev, e, q[i], sizeof q[i]), 201);
    }
    s_sleep_ms(1500);
    ck_assert_int_eq(s_admitted(ev), 4); /* four seats: four shoppers */
    /* everything sells: every waiting place says sold out at once, with the waitlist */
    s_sql("UPDATE event_seats SET state = 'sold' WHERE event_id = '%s'", ev);
    s_sleep_ms(500);
    int sold_out = 0;
    for (int i = 0; i < 10; i++) {
        bx_httpc_resp_t r = s_position(u[i], ev, q[i]);
        S_EXPECT(r, 200);
        if (!strcmp(s_jstr(r.json, "data.attributes.state"), "sold_out")) {
            sold_out++;
            ck_assert_ptr_nonnull(strstr(s_jstr(r.json, "data.links.waitlist"), "/waitlist"));
        }
        bx_httpc_free(&r);
    }
    ck_assert_int_eq(sold_out, 6);
    int late = s_user();
    char lq[4096];
    ck_assert_int_eq(s_join(late, ev, e, lq, sizeof lq), 409);
    snprintf(path, sizeof path, "/api/v1/events/%s/waitlist", ev);
    bx_httpc_resp_t r = s_call("POST", path, s_toks[late], "{}", NULL);
    S_EXPECT(r, 201);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.state"), "waiting");
    bx_httpc_free(&r);
}
END_TEST

/* ---- the gate and the tokens ---- */

START_TEST(gate_refuses_missing_forged_expired_and_foreign_tokens_and_accepts_a_valid_one)
{
    char ev[37], other[37], e[37], q[4096], adm[4096], oq[4096], oadm[4096];
    s_event(20, ev);
    s_event(20, other);
    s_room(ev, -1, 6000, 100, 600, 10);
    s_room(other, -1, 6000, 100, 600, 10);
    int u = s_user(), v = s_user();
    ck_assert_int_eq(s_join(u, ev, e, q, sizeof q), 201);
    ck_assert_int_eq(s_join(u, other, e, oq, sizeof oq), 201);
    ck_assert(s_wait_admitted(u, ev, q, adm, sizeof adm, 3000));
    ck_assert(s_wait_admitted(u, other, oq, oadm, sizeof oadm, 3000));
    bx_httpc_resp_t r = s_admission(u, ev, adm);
    S_EXPECT(r, 200); /* valid */
    ck_assert(json_is_true(s_jget(r.json, "data.attributes.required")));
    bx_httpc_free(&r);
    r = s_admission(u, ev, NULL);
    S_PROBLEM(r, 403, "forbidden"); /* room active, no token: where to join */
    ck_assert_ptr_nonnull(strstr(s_jstr(r.json, "waiting_room.join"), "/waiting-room/join"));
    bx_httpc_free(&r);
    r = s_admission(v, ev, adm);
    S_PROBLEM(r, 401, "unauthorized"); /* another user's token */
    bx_httpc_free(&r);
    r = s_admission(u, ev, oadm);
    S_PROBLEM(r, 401, "unauthorized"); /* another event's token */
    bx_httpc_free(&r);
    /* forged: signed by a key that is not ours, or tampered with */
    bx_wroom_claims_t c;
    ck_assert_int_eq(bx_wroom_verify(s_ring, adm, BX_WROOM_ADMIT, bx_now_ms() / 1000, &c, NULL),
                     BX_OK);
    char fdir[400];
    snprintf(fdir, sizeof fdir, "%s/forger", s_dir);
    bx_h_sh(s_j("mkdir -p %s", fdir));
    bx_jwt_ring_t *forger = bx_jwt_ring_generate(fdir, "boxoffice");
    char *forged = bx_wroom_sign(forger, BX_WROOM_ADMIT, &c);
    r = s_admission(u, ev, forged);
    S_PROBLEM(r, 401, "unauthorized");
    bx_httpc_free(&r);
    free(forged);
    bx_jwt_ring_destroy(&forger);
    char tampered[4096];
    bx_strlcpy(tampered, adm, sizeof tampered);
    char *dot = strchr(tampered, '.');
    dot[3] = dot[3] == 'A' ? 'B' : 'A';
    r = s_admission(u, ev, tampered);
    S_PROBLEM(r, 401, "unauthorized");
    bx_httpc_free(&r);
    /* expired: our key, lifetime over */
    c.iat = bx_now_ms() / 1000 - 600;
    c.exp = bx_now_ms() / 1000 - 120;
    char *expired = bx_wroom_sign(s_ring, BX_WROOM_ADMIT, &c);
    r = s_admission(u, ev, expired);
    S_PROBLEM(r, 401, "unauthorized");
    bx_httpc_free(&r);
    free(expired);
    /* a queue token is not an admission token */
    r = s_admission(u, ev, q);
    S_PROBLEM(r, 401, "unauthorized");
    bx_httpc_free(&r);
    /* the room turned off: no token needed */
    s_sql("UPDATE waitroom_config SET enabled = false WHERE event_id = '%s'", ev);
    s_sleep_ms(1100);
    r = s_admission(v, ev, NULL);
    S_EXPECT(r, 200);
    ck_assert(json_is_false(s_jget(r.json, "data.attributes.required")));
    bx_httpc_free(&r);
}
END_TEST

START_TEST(forged_traded_and_foreign_queue_tokens_are_refused)
{
    char ev[37], other[37], e[37], q[4096], oq[4096];
    s_event(20, ev);
    s_event(20, other);
    s_room(ev, 60, 60, 10, 600, 10);
    s_room(other, 60, 60, 10, 600, 10);
    int u = s_user(), v = s_user();
    ck_assert_int_eq(s_join(u, ev, e, q, sizeof q), 201);
    ck_assert_int_eq(s_join(u, other, e, oq, sizeof oq), 201);
    bx_httpc_resp_t r = s_position(u, ev, NULL);
    S_PROBLEM(r, 401, "unauthorized");
    bx_httpc_free(&r);
    r = s_position(v, ev, q); /* traded to another user */
    S_PROBLEM(r, 401, "unauthorized");
    bx_httpc_free(&r);
    r = s_position(u, ev, oq); /* for another event */
    S_PROBLEM(r, 401, "unauthorized");
    bx_httpc_free(&r);
    /* a better place written into the token: the signature no longer matches */
    bx_wroom_claims_t c;
    ck_assert_int_eq(bx_wroom_verify(s_ring, q, BX_WROOM_QUEUE, bx_now_ms() / 1000, &c, NULL),
                     BX_OK);
    json_t *claims =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:I, s:I}", "iss", "boxoffice", "tok",
                  BX_WROOM_QUEUE, "sub", c.user_id, "evt", c.event_id, "ent", c.entry_id, "pre", 1,
                  "seq", 1, "iat", (json_int_t)c.iat, "exp", (json_int_t)c.exp);
    char *body = json_dumps(claims, JSON_COMPACT), seg[2048], forged[4096];
    json_decref(claims);
    bx_b64url_encode((const unsigned char *)body, strlen(body), seg, sizeof seg);
    free(body);
    const char *d1 = strchr(q, '.'), *d2 = strchr(d1 + 1, '.');
    snprintf(forged, sizeof forged, "%.*s.%s%s", (int)(d1 - q), q, seg, d2);
    r = s_position(u, ev, forged);
    S_PROBLEM(r, 401, "unauthorized");
    bx_httpc_free(&r);
    r = s_position(u, ev, q);
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
}
END_TEST

/* ---- the waitlist ---- */

static void s_wl_state(int u, const char *ev, const char *want, char hold[37])
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/events/%s/waitlist", ev);
    bx_httpc_resp_t r = s_call("GET", path, s_toks[u], NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_msg(!strcmp(s_jstr(r.json, "data.attributes.state"), want), "want %s: %s", want,
                  r.body);
    if (hold)
        bx_strlcpy(hold, s_jstr(r.json, "data.attributes.offer.hold_id"), 37);
    bx_httpc_free(&r);
}

static int s_wl_wait(int u, const char *ev, const char *want, int ms)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/events/%s/waitlist", ev);
    for (int waited = 0; waited < ms; waited += 200) {
        bx_httpc_resp_t r = s_call("GET", path, s_toks[u], NULL, NULL);
        int ok = !strcmp(s_jstr(r.json, "data.attributes.state"), want);
        bx_httpc_free(&r);
        if (ok)
            return 1;
        s_sleep_ms(200);
    }
    return 0;
}

/* ---- SSE client (raw socket, chunked decoding) ---- */

typedef struct {
    int fd;
    char raw[1 << 16];
    size_t rawlen;
    char body[1 << 18];
    size_t len;
    long total; /* bytes read from the socket */
} s_sse_t;

static int s_sse_open(s_sse_t *s, const char *ev, long long last, int rcvbuf)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(HTTP_PORT)};
    char req[512], lh[64] = "";
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    memset(s, 0, sizeof *s);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf)
        setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (connect(s->fd, (struct sockaddr *)&a, sizeof a) != 0)
        return 0;
    if (last >= 0)
        snprintf(lh, sizeof lh, "Last-Event-ID: %lld\r\n", last);
    int n = snprintf(req, sizeof req,
                     "GET /api/v1/events/%s/inventory/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Accept: text/event-stream\r\n%s\r\n",
                     ev, lh);
    return write(s->fd, req, (size_t)n) == n;
}

/* Reads what arrives within ms into s->body (headers dropped, chunks decoded). */
static void s_sse_read(s_sse_t *s, int ms)
{
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return;
    ssize_t n = read(s->fd, s->raw + s->rawlen, sizeof s->raw - s->rawlen - 1);
    if (n <= 0)
        return;
    s->rawlen += (size_t)n;
    s->total += n;
    s->raw[s->rawlen] = '\0';
    char *start = s->raw;
    char *hdr_end = strstr(s->raw, "\r\n\r\n");
    if (!strncmp(s->raw, "HTTP/1.1", 8)) {
        if (!hdr_end)
            return;
        start = hdr_end + 4;
    }
    for (;;) {
        char *eol = strstr(start, "\r\n");
        if (!eol)
            break;
        size_t size = strtoul(start, NULL, 16);
        if ((size_t)(s->raw + s->rawlen - (eol + 2)) < size + 2)
            break;
        if (s->len + size >= sizeof s->body) { /* keep the tail: needles are searched there */
            memmove(s->body, s->body + s->len - 1024, 1024);
            s->len = 1024;
        }
        if (s->len + size < sizeof s->body) {
            memcpy(s->body + s->len, eol + 2, size);
            s->len += size;
            s->body[s->len] = '\0';
        }
        start = eol + 2 + size + 2;
    }
    memmove(s->raw, start, (size_t)(s->raw + s->rawlen - start));
    s->rawlen = (size_t)(s->raw + s->rawlen - start);
    s->raw[s->rawlen] = '\0';
}

/* Reads everything that is already there, keeping only the last part of the body. */
static void s_sse_drain(s_sse_t *s)
{
    for (;;) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            return;
        size_t before = s->rawlen + s->len;
        s_sse_read(s, 0);
        if (s->rawlen + s->len == before)
            return;
    }
}

/* Reads until needle shows up in the body or ms pass; returns the ms it took or -1. */
static long s_sse_until(s_sse_t *s, const char *needle, int ms)
{
    int64_t t0 = bx_mono_ms();
    while (bx_mono_ms() - t0 < ms) {
        if (strstr(s->body, needle))
            return (long)(bx_mono_ms() - t0);
        s_sse_read(s, 50);
    }
    return strstr(s->body, needle) ? (long)(bx_mono_ms() - t0) : -1;
}

START_TEST(waitlist_offers_in_order_and_lapsed_offers_pass_to_the_next)
{
    char ev[37], path[160], seat[64], seat_b[64], hold1[37], hold2[37], hold3[37];
    static s_sse_t watch;
    s_event(2, ev);
    int u[3] = {s_user(), s_user(), s_user()};
    snprintf(path, sizeof path, "/api/v1/events/%s/waitlist", ev);
    bx_httpc_resp_t r = s_call("POST", path, s_toks[u[0]], "{}", NULL);
    S_PROBLEM(r, 409, "conflict"); /* a seat is still there */
    bx_httpc_free(&r);
    s_sql("UPDATE event_seats SET state = 'sold' WHERE event_id = '%s'", ev);
    r = s_call("POST", path, s_toks[u[0]], s_j("{'tier_id':'%s'}", ev), NULL);
    S_PROBLEM(r, 400, "validation-failed"); /* not a tier of the event */
    bx_httpc_free(&r);
    for (int i = 0; i < 3; i++) {
        r = s_call("POST", path, s_toks[u[i]], "{\"quantity\":1}", NULL);
        S_EXPECT(r, 201);
        ck_assert_int_eq(s_jint(r.json, "data.attributes.people_ahead"), i);
        bx_httpc_free(&r);
    }
    r = s_call("POST", path, s_toks[u[0]], "{}", NULL);
    S_EXPECT(r, 200); /* already on it */
    bx_httpc_free(&r);
    ck_assert(s_sse_open(&watch, ev, -1, 0));
    ck_assert_int_ge(s_sse_until(&watch, "event: ready", 2000), 0);
    /* a cancellation gives the seat back: the release path writes inventory.released */
    char q[200];
    snprintf(q, sizeof q, "SELECT seat_id FROM event_seats WHERE event_id = '%s' ORDER BY label",
             ev);
    char *sid = bx_h_sql(s_dsn, q);
    bx_strlcpy(seat, sid, sizeof seat);
    free(sid);
    snprintf(q, sizeof q,
             "SELECT seat_id FROM event_seats WHERE event_id = '%s' ORDER BY label DESC", ev);
    sid = bx_h_sql(s_dsn, q);
    bx_strlcpy(seat_b, sid, sizeof seat_b);
    free(sid);
    s_sql("UPDATE event_seats SET state = 'available' WHERE event_id = '%s' AND seat_id = '%s';"
          "INSERT INTO outbox (service, topic, route_key, payload, request_id) VALUES ('waitlist', "
          "'inventory.released', '%s', '{\"event_id\":\"%s\",\"seat_ids\":[\"%s\"]}', "
          "gen_random_uuid())",
          ev, seat, ev, ev, seat);
    ck_assert(s_wl_wait(u[0], ev, "offered", 5000));
    s_wl_state(u[0], ev, "offered", hold1);
    s_wl_state(u[1], ev, "waiting", NULL);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM event_seats WHERE event_id = '%s' AND state = 'held' "
                "AND hold_id = '%s' AND seat_id = '%s'",
                ev, hold1, seat),
        1);
    ck_assert_int_eq(
        s_count(
            "SELECT count(*) FROM holds WHERE id = '%s' AND user_id = '%s' AND state = 'active'",
            hold1, s_users[u[0]]),
        1);
    /* the watcher saw the seat held within a second of the commit */
    ck_assert_int_ge(s_sse_until(&watch, "\"cause\":\"waitlist\"", 2000), 0);
    ck_assert_ptr_nonnull(strstr(watch.body, "\"state\":\"held\""));
    /* the offer lapses after its lifetime (5 s): the next person gets the seat */
    ck_assert(s_wl_wait(u[1], ev, "offered", 12000));
    s_wl_state(u[0], ev, "lapsed", NULL);
    s_wl_state(u[1], ev, "offered", hold2);
    ck_assert_str_ne(hold1, hold2);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM holds WHERE id = '%s' AND state = 'expired'", hold1), 1);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM event_seats WHERE event_id = '%s' AND hold_id = '%s'", ev,
                hold2),
        1);
    /* the second person buys: the offer is accepted, the third keeps waiting */
    s_sql("UPDATE holds SET state = 'converted', ended_at = now() WHERE id = '%s';"
          "UPDATE event_seats SET state = 'sold', hold_id = NULL WHERE event_id = '%s' AND hold_id "
          "= '%s'",
          hold2, ev, hold2);
    s_wl_state(u[1], ev, "accepted", NULL);
    s_sleep_ms(1500);
    s_wl_state(u[2], ev, "waiting", NULL);
    ck_assert_int_eq(s_count("SELECT count(*) FROM waitlist_entries WHERE event_id = '%s' "
                             "AND state = 'accepted'",
                             ev),
                     1);
    /* the other seat comes back: the third person is offered it, then leaves the waitlist,
     * which releases the offer at once */
    s_sql("UPDATE event_seats SET state = 'available' WHERE event_id = '%s' AND seat_id = '%s';"
          "INSERT INTO outbox (service, topic, route_key, payload, request_id) VALUES ('waitlist', "
          "'inventory.released', '%s', '{\"event_id\":\"%s\",\"seats\":[{\"seat_id\":\"%s\"}]}', "
          "gen_random_uuid())",
          ev, seat_b, ev, ev, seat_b);
    ck_assert(s_wl_wait(u[2], ev, "offered", 5000));
    s_wl_state(u[2], ev, "offered", hold3);
    r = s_call("DELETE", path, s_toks[u[2]], NULL, NULL);
    S_EXPECT(r, 204);
    bx_httpc_free(&r);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM holds WHERE id = '%s' AND state = 'released'", hold3), 1);
    ck_assert_int_eq(
        s_count("SELECT count(*) FROM event_seats WHERE seat_id = '%s' AND event_id = '%s' "
                "AND state = 'available'",
                seat_b, ev),
        1);
    s_wl_state(u[2], ev, "cancelled", NULL);
    r = s_call("DELETE", path, s_toks[u[2]], NULL, NULL);
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    close(watch.fd);
}
END_TEST

/* ---- the live feed ---- */

START_TEST(sse_delivers_changes_within_a_second_and_resumes_from_last_event_id)
{
    enum { N = 50 };
    static s_sse_t s, resumed;
    char ev[37], needle[64];
    long lat[N];
    s_event(10, ev);
    bx_redis_t *redis = s_redis();
    ck_assert(s_sse_open(&s, ev, -1, 0));
    ck_assert_int_ge(s_sse_until(&s, "event: ready", 2000), 0);
    ck_assert_ptr_nonnull(strstr(s.body, "retry: 2000"));
    long long ver = 0;
    for (int i = 0; i < N; i++) {
        json_t *change = json_pack("{s:s, s:[{s:s, s:s}]}", "cause", "hold", "seats", "label", "A1",
                                   "state", i % 2 ? "available" : "held");
        int64_t t0 = bx_mono_ms();
        ck_assert_int_eq(bx_invfeed_publish(redis, ev, change, &ver), BX_OK);
        json_decref(change);
        snprintf(needle, sizeof needle, "id: %lld\n", ver);
        ck_assert_int_ge(s_sse_until(&s, needle, 2000), 0);
        lat[i] = (long)(bx_mono_ms() - t0);
    }
    long max = 0, sum = 0;
    for (int i = 0; i < N; i++) {
        max = lat[i] > max ? lat[i] : max;
        sum += lat[i];
    }
    printf("sse latency over %d changes: mean %.1f ms, max %ld ms\n", N, (double)sum / N, max);
    ck_assert_int_lt(max, 1000);
    /* a client that reconnects with Last-Event-ID gets exactly what it missed */
    ck_assert(s_sse_open(&resumed, ev, ver - 3, 0));
    snprintf(needle, sizeof needle, "id: %lld\n", ver);
    ck_assert_int_ge(s_sse_until(&resumed, needle, 2000), 0);
    snprintf(needle, sizeof needle, "id: %lld\n", ver - 2);
    ck_assert_ptr_nonnull(strstr(resumed.body, needle));
    snprintf(needle, sizeof needle, "id: %lld\n", ver - 3);
    ck_assert_ptr_null(strstr(resumed.body, needle));
    /* heartbeats keep an idle stream alive */
    ck_assert_int_ge(s_sse_until(&resumed, ": keep-alive", 4000), 0);
    /* an id the log cannot serve (from the future) gets a reset with the current version */
    static s_sse_t future;
    ck_assert(s_sse_open(&future, ev, ver + 1000, 0));
    snprintf(needle, sizeof needle, "event: reset\ndata: {\"version\":%lld}", ver);
    ck_assert_int_ge(s_sse_until(&future, needle, 2000), 0);
    close(future.fd);
    close(resumed.fd);
    close(s.fd);
    bx_redis_destroy(&redis);
}
END_TEST

static long s_rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

static long s_metric(const char *name)
{
    bx_httpc_resp_t r = bx_httpc("GET", BASE "/metrics", NULL, NULL, 0);
    const char *p = r.body ? strstr(r.body, name) : NULL;
    while (p && p > r.body && p[-1] != '\n')
        p = strstr(p + 1, name);
    long v = p ? strtol(p + strlen(name), NULL, 10) : 0;
    bx_httpc_free(&r);
    return v;
}

START_TEST(slow_sse_client_is_dropped_without_memory_growth)
{
    static s_sse_t slow, fast;
    char ev[37], pad[1025], needle[64];
    s_event(10, ev);
    memset(pad, 'x', 1024);
    pad[1024] = '\0';
    bx_redis_t *redis = s_redis();
    ck_assert(s_sse_open(&slow, ev, -1, 4096));
    ck_assert(s_sse_open(&fast, ev, -1, 0));
    ck_assert_int_ge(s_sse_until(&fast, "event: ready", 2000), 0);
    long dropped0 = s_metric("bx_sse_dropped_total ");
    long rss0 = s_rss_kib(s_fd);
    long long ver = 0;
    for (int i = 0; i < 6000; i++) { /* 6 MB the slow client never reads */
        json_t *change = json_pack("{s:s, s:s}", "cause", "test", "pad", pad);
        ck_assert_int_eq(bx_invfeed_publish(redis, ev, change, &ver), BX_OK);
        json_decref(change);
        s_sse_drain(&fast); /* the fast one keeps reading */
        s_sleep_ms(1);
    }
    snprintf(needle, sizeof needle, "id: %lld\n", ver);
    long took = s_sse_until(&fast, needle, 5000);
    fprintf(stderr, "fast sse client read %ld bytes; tail: %.200s\n", fast.total,
            fast.body + (fast.len > 200 ? fast.len - 200 : 0));
    ck_assert_int_ge(took, 0); /* and is not dropped */
    long rss1 = s_rss_kib(s_fd);
    long dropped1 = s_metric("bx_sse_dropped_total ");
    printf("slow sse client: dropped %ld -> %ld, frontdoor rss %ld -> %ld KiB\n", dropped0,
           dropped1, rss0, rss1);
    ck_assert_int_ge(dropped1, dropped0 + 1);
    if (!getenv("ASAN_OPTIONS")) /* ASan's quarantine keeps freed memory resident */
        ck_assert_int_lt(rss1 - rss0, 8 * 1024); /* far below the 6 MB that was not read */
    /* the dropped client's connection is closed by the server */
    char buf[65536];
    ssize_t n = 0;
    int closed = 0;
    long got = 0;
    for (int64_t t0 = bx_mono_ms(); bx_mono_ms() - t0 < 10000 && !closed;) {
        struct pollfd p = {.fd = slow.fd, .events = POLLIN};
        if (poll(&p, 1, 50) > 0 && (n = read(slow.fd, buf, sizeof buf)) <= 0)
            closed = 1;
        else if (p.revents)
            got += n;
    }
    printf("slow sse client: %ld bytes were still in flight when the server closed it\n", got);
    ck_assert(closed);
    close(slow.fd);
    close(fast.fd);
    bx_redis_destroy(&redis);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("it_waitroom");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 240);
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, join_is_idempotent_and_keeps_one_place_per_user);
    tcase_add_test(tc, lottery_order_is_reproducible_from_the_revealed_seed_then_fifo);
    tcase_add_test(tc, admission_rate_is_respected);
    tcase_add_test(tc, max_active_shoppers_is_respected_and_a_spent_token_frees_a_slot);
    tcase_add_test(tc, admission_is_bounded_by_inventory_and_sold_out_is_told_at_once);
    tcase_add_test(tc,
                   gate_refuses_missing_forged_expired_and_foreign_tokens_and_accepts_a_valid_one);
    tcase_add_test(tc, forged_traded_and_foreign_queue_tokens_are_refused);
    tcase_add_test(tc, waitlist_offers_in_order_and_lapsed_offers_pass_to_the_next);
    tcase_add_test(tc, sse_delivers_changes_within_a_second_and_resumes_from_last_event_id);
    tcase_add_test(tc, slow_sse_client_is_dropped_without_memory_growth);
    suite_add_tcase(s, tc);
    return s;
}
