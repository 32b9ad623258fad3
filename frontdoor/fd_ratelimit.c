/* fd_ratelimit: GCRA rate limits in Redis (one Lua script checks and updates the class
 * policy and the per-IP ceiling atomically), the in-process fallback used while Redis is
 * unreachable, and the RateLimit header fields.
 *
 * GCRA state per key is "stamp backlog": the time of the last update (µs) and the backlog
 * of not-yet-drained work in µs. Each request adds T = window / quota; a request fits while
 * the backlog after it stays within the window, so a client may burst its whole quota and
 * then proceeds at one request per T. The fallback keeps the same state in a fixed table,
 * so both paths give identical answers. Refused requests consume nothing. */
#include "fd_ratelimit.h"

#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_metrics.h"
#include "bx_util.h"

#define S_KEY_MAX     160  /* bytes of one Redis key */
#define S_LOCAL_SLOTS 4096 /* fallback table entries (bounded memory, about 600 KiB) */
#define S_LOCAL_PROBE 8    /* slots probed per key before the oldest is evicted */

/* One GCRA check and update of up to FD_RL_MAX_POLICIES keys. KEYS[i] is a state key,
 * ARGV[2i-1] its quota and ARGV[2i] its window in seconds. Returns {all_allowed, then per
 * key: allowed, backlog_us}; the backlog is after this request when all allowed (and then
 * stored), else as it stands. Time comes from the Redis server, so every frontdoor agrees. */
static const char s_script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local ok, cur, nxt, fits = 1, {}, {}, {}\n"
    "for i = 1, #KEYS do\n"
    "  local win = tonumber(ARGV[2 * i]) * 1000000\n"
    "  local T = win / tonumber(ARGV[2 * i - 1])\n"
    "  local b = 0\n"
    "  local v = redis.call('GET', KEYS[i])\n"
    "  if v then\n"
    "    local stamp, left = string.match(v, '^(%d+) ([%d%.]+)$')\n"
    "    if stamp then b = math.max(0, tonumber(left) - (now - tonumber(stamp))) end\n"
    "  end\n"
    "  cur[i] = b\n"
    "  nxt[i] = b + T\n"
    "  fits[i] = nxt[i] <= win + T / 1000\n"
    "  if not fits[i] then ok = 0 end\n"
    "end\n"
    "local out = {ok}\n"
    "for i = 1, #KEYS do\n"
    "  local b = cur[i]\n"
    "  if ok == 1 then\n"
    "    b = nxt[i]\n"
    "    redis.call('SET', KEYS[i], string.format('%d %.6f', now, b), 'PX',\n"
    "               math.ceil(b / 1000) + 1)\n"
    "  end\n"
    "  out[#out + 1] = fits[i] and 1 or 0\n"
    "  out[#out + 1] = string.format('%.6f', b)\n"
    "end\n"
    "return out\n";

/* What one request is checked against. */
typedef struct {
    int n;                                   /* policies */
    const char *policy[FD_RL_MAX_POLICIES];  /* names */
    long limit[FD_RL_MAX_POLICIES];          /* quotas */
    char key[FD_RL_MAX_POLICIES][S_KEY_MAX]; /* state keys (Redis and fallback) */
} s_plan_t;

/* One policy's state as returned by either path. */
typedef struct {
    int fits;       /* this policy allows the request */
    double backlog; /* µs, after the request when it was allowed overall */
} s_state_t;

/* A fallback table entry. */
typedef struct {
    char key[S_KEY_MAX]; /* "" when free */
    int64_t stamp_us;    /* monotonic time of the last update */
    double backlog;      /* µs of work not yet drained */
} s_slot_t;

static const char *const s_class_names[FD_RL_COUNT] = {"read", "write", "auth", NULL};

static fd_rl_config_t s_cfg;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static s_slot_t s_slots[S_LOCAL_SLOTS];
static pthread_mutex_t s_slots_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int s_redis_down; /* 1 during an outage: the warning was logged */

static bx_series_t *s_m_decisions[4][2]; /* [read, write, auth, ip][allowed] */
static bx_series_t *s_m_local;           /* decisions taken locally */
static bx_series_t *s_m_seconds;         /* Redis check latency */

/* ---- configuration and metrics ---- */

static void s_metrics_init(void)
{
    bx_metric_t *d =
        bx_metrics_counter("bx_ratelimit_decisions_total",
                           "Rate-limit decisions by binding policy and result.", "policy,result");
    static const char *const names[4] = {"read", "write", "auth", "ip"};
    for (int p = 0; p < 4; p++) {
        s_m_decisions[p][0] = bx_metric_series(d, names[p], "limited");
        s_m_decisions[p][1] = bx_metric_series(d, names[p], "allowed");
    }
    s_m_local = bx_metric_series(bx_metrics_counter(
        "bx_ratelimit_fallback_total",
        "Rate-limit decisions taken by the in-process fallback while Redis was unreachable.",
        NULL));
    s_m_seconds = bx_metric_series(bx_metrics_histogram(
        "bx_ratelimit_redis_seconds", "Duration of the rate-limit script round trip to Redis.",
        NULL, NULL, 0));
}

static void s_config_from_bx(fd_rl_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->per_min[FD_RL_READ] = bx_config_int("rl_read_per_min");
    c->per_min[FD_RL_WRITE] = bx_config_int("rl_write_per_min");
    c->per_min[FD_RL_AUTH] = bx_config_int("rl_auth_per_min");
    c->ip_per_min = bx_config_int("rl_ip_per_min");
    c->fallback_divisor = 1;
    bx_strlcpy(c->prefix, "rl:", sizeof c->prefix);
}

static void s_default_init(void)
{
    s_metrics_init();
    s_config_from_bx(&s_cfg);
}

bx_err_t fd_ratelimit_init(const fd_rl_config_t *cfg)
{
    fd_rl_config_t c;
    pthread_once(&s_once, s_default_init);
    if (cfg)
        c = *cfg;
    else
        s_config_from_bx(&c);
    for (int i = 0; i < FD_RL_NONE; i++)
        if (c.per_min[i] < 1 || c.per_min[i] > FD_RL_QUOTA_MAX)
            return BX_EINVAL;
    if (c.ip_per_min < 1 || c.ip_per_min > FD_RL_QUOTA_MAX || c.fallback_divisor < 1 ||
        !c.prefix[0] || !memchr(c.prefix, '\0', sizeof c.prefix))
        return BX_EINVAL;
    pthread_mutex_lock(&s_slots_lock);
    s_cfg = c;
    memset(s_slots, 0, sizeof s_slots);
    pthread_mutex_unlock(&s_slots_lock);
    atomic_store(&s_redis_down, 0);
    return BX_OK;
}

const char *fd_ratelimit_policy_name(fd_rl_class_t cls)
{
    return (unsigned)cls < FD_RL_COUNT ? s_class_names[cls] : NULL;
}

/* ---- keys ---- */

/* Writes "h:" and 32 hex chars of SHA-256(s): for identifiers we do not want in keys. */
static void s_hashed(const char *s, char *out, size_t cap)
{
    char hex[65];
    bx_sha256_hex(s, strlen(s), hex);
    snprintf(out, cap, "h:%.32s", hex);
}

/* Client IP as a key part: IPv4 dotted, IPv4-mapped IPv6 as IPv4, other IPv6 as its /64
 * (one host usually owns a whole /64), anything unparseable hashed. */
static void s_ident_ip(const char *ip, char *out, size_t cap)
{
    unsigned char a[16];
    char txt[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, ip, a) == 1 && inet_ntop(AF_INET, a, txt, sizeof txt)) {
        bx_strlcpy(out, txt, cap);
        return;
    }
    if (inet_pton(AF_INET6, ip, a) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(a, mapped, 12) && inet_ntop(AF_INET, a + 12, txt, sizeof txt)) {
            bx_strlcpy(out, txt, cap);
            return;
        }
        memset(a + 8, 0, 8);
        if (inet_ntop(AF_INET6, a, txt, sizeof txt)) {
            snprintf(out, cap, "%s/64", txt);
            return;
        }
    }
    s_hashed(ip, out, cap);
}

/* User id as a key part: kept when it is short UUID-like text, else hashed, so a token
 * passed by mistake never reaches Redis. */
static void s_ident_user(const char *uid, char *out, size_t cap)
{
    size_t n = strlen(uid);
    int plain = n > 0 && n <= 40;
    for (size_t i = 0; plain && i < n; i++) {
        char c = uid[i];
        plain =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
    }
    if (plain)
        bx_strlcpy(out, uid, cap);
    else
        s_hashed(uid, out, cap);
}

static void s_plan(fd_rl_class_t cls, const char *uid, const char *ip, s_plan_t *p)
{
    char who[64], addr[64];
    s_ident_ip(ip, addr, sizeof addr);
    p->n = 0;
    if (cls != FD_RL_NONE) {
        int per_user = uid && *uid && cls != FD_RL_AUTH;
        if (per_user)
            s_ident_user(uid, who, sizeof who);
        p->policy[0] = s_class_names[cls];
        p->limit[0] = s_cfg.per_min[cls];
        snprintf(p->key[0], S_KEY_MAX, "%s%s:%s:%s", s_cfg.prefix, s_class_names[cls],
                 per_user ? "u" : "ip", per_user ? who : addr);
        p->n = 1;
    }
    p->policy[p->n] = "ip";
    p->limit[p->n] = s_cfg.ip_per_min;
    snprintf(p->key[p->n], S_KEY_MAX, "%sip:%s", s_cfg.prefix, addr);
    p->n++;
}

/* ---- the Redis path ---- */

/* Parses the script's reply. Returns 0, or -1 when it is not of the expected shape. */
static int s_parse_reply(const redisReply *r, int n, s_state_t *st)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != (size_t)(1 + 2 * n))
        return -1;
    for (int i = 0; i < n; i++) {
        const redisReply *fits = r->element[1 + 2 * i], *b = r->element[2 + 2 * i];
        if (fits->type != REDIS_REPLY_INTEGER || b->type != REDIS_REPLY_STRING)
            return -1;
        st[i].fits = fits->integer == 1;
        st[i].backlog = strtod(b->str, NULL);
    }
    return 0;
}

static int s_redis_check(bx_redis_t *redis, const s_plan_t *p, s_state_t *st)
{
    const char *argv[3 * FD_RL_MAX_POLICIES];
    char num[FD_RL_MAX_POLICIES][24], win[24];
    if (!redis)
        return -1;
    snprintf(win, sizeof win, "%d", FD_RL_WINDOW_S);
    for (int i = 0; i < p->n; i++) {
        snprintf(num[i], sizeof num[i], "%ld", p->limit[i]);
        argv[i] = p->key[i];
        argv[p->n + 2 * i] = num[i];
        argv[p->n + 2 * i + 1] = win;
    }
    double t0 = bx_metrics_now();
    redisReply *r = bx_redis_script(redis, s_script, p->n, 2 * p->n, argv);
    if (!r)
        return -1;
    bx_histogram_observe(s_m_seconds, bx_metrics_now() - t0);
    int rc = s_parse_reply(r, p->n, st);
    if (rc)
        BX_ERROR("rate-limit script returned an unexpected reply (type %d)", r->type);
    freeReplyObject(r);
    return rc;
}

/* ---- the in-process fallback ---- */

static int64_t s_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The slot of key: its own, else a free or drained one (its state equals a fresh one),
 * else the least recently updated of the probe window, evicted. A slot in taken (already
 * chosen for this request) is never evicted. Caller holds s_slots_lock. */
static s_slot_t *s_slot(const char *key, int64_t now, s_slot_t *const *taken, int ntaken)
{
    size_t base = (size_t)(s_hash(key) % S_LOCAL_SLOTS);
    s_slot_t *idle = NULL, *oldest = NULL;
    for (int i = 0; i < S_LOCAL_PROBE; i++) {
        s_slot_t *s = &s_slots[(base + (size_t)i) % S_LOCAL_SLOTS];
        int busy = 0;
        if (!strcmp(s->key, key))
            return s;
        for (int k = 0; k < ntaken; k++)
            busy |= taken[k] == s;
        if (busy)
            continue;
        if (!idle && (!s->key[0] || s->backlog - (double)(now - s->stamp_us) <= 0))
            idle = s;
        if (!oldest || s->stamp_us < oldest->stamp_us)
            oldest = s;
    }
    s_slot_t *victim = idle ? idle : oldest;
    bx_strlcpy(victim->key, key, sizeof victim->key);
    victim->stamp_us = now;
    victim->backlog = 0;
    return victim;
}

static void s_local_check(const s_plan_t *p, s_state_t *st)
{
    s_slot_t *slot[FD_RL_MAX_POLICIES];
    double next[FD_RL_MAX_POLICIES];
    int ok = 1;
    pthread_mutex_lock(&s_slots_lock);
    int64_t now = s_mono_us();
    for (int i = 0; i < p->n; i++) {
        long limit = p->limit[i] / s_cfg.fallback_divisor;
        double win = FD_RL_WINDOW_S * 1e6, T = win / (double)(limit > 0 ? limit : 1);
        slot[i] = s_slot(p->key[i], now, slot, i);
        st[i].backlog = fmax(0, slot[i]->backlog - (double)(now - slot[i]->stamp_us));
        next[i] = st[i].backlog + T;
        st[i].fits = next[i] <= win + T / 1000;
        ok &= st[i].fits;
    }
    for (int i = 0; ok && i < p->n; i++) {
        slot[i]->stamp_us = now;
        slot[i]->backlog = st[i].backlog = next[i];
    }
    pthread_mutex_unlock(&s_slots_lock);
}

/* ---- the decision ---- */

/* Turns a policy's backlog into the header numbers. */
static void s_policy_state(const char *name, int limit, const s_state_t *st, fd_rl_policy_t *o)
{
    double win = FD_RL_WINDOW_S * 1e6, T = win / (double)limit;
    o->policy = name;
    o->limit = limit;
    o->window_s = FD_RL_WINDOW_S;
    o->allowed = st->fits;
    if (!st->fits) {
        /* Wait until the backlog has drained enough for one more T to fit. */
        o->remaining = 0;
        o->reset_s = (int)ceil((st->backlog + T - win) / 1e6);
        if (o->reset_s < 1)
            o->reset_s = 1;
        return;
    }
    double avail = win - st->backlog;
    double r = floor(avail / T + 1e-9);
    o->remaining = r < 0 ? 0 : r > limit ? limit : (int)r;
    double next_unit = T - (avail - (double)o->remaining * T); /* µs until r grows */
    o->reset_s = st->backlog <= 0 ? 0 : (int)ceil(fmin(fmax(next_unit, 1), T) / 1e6);
}

/* Picks the binding policy and fills the summary fields of out. */
static void s_summarize(fd_rl_result_t *out)
{
    const fd_rl_policy_t *bind = &out->policies[0];
    out->allowed = 1;
    for (int i = 0; i < out->npolicies; i++)
        out->allowed &= out->policies[i].allowed;
    for (int i = 1; i < out->npolicies; i++) {
        const fd_rl_policy_t *p = &out->policies[i];
        if (out->allowed ? (double)p->remaining / (double)p->limit <
                               (double)bind->remaining / (double)bind->limit
                         : !p->allowed && (bind->allowed || p->reset_s > bind->reset_s))
            bind = p;
    }
    out->policy = bind->policy;
    out->limit = bind->limit;
    out->remaining = bind->remaining;
    out->reset_s = bind->reset_s;
    out->retry_after_s = out->allowed ? 0 : bind->reset_s;
}

static void s_note_redis(int up)
{
    if (!up && !atomic_exchange(&s_redis_down, 1))
        BX_WARN("redis unreachable or failing: rate limits enforced by the in-process fallback");
    else if (up && atomic_load_explicit(&s_redis_down, memory_order_relaxed) &&
             atomic_exchange(&s_redis_down, 0))
        BX_INFO("redis reachable again: rate limits enforced in redis");
}

bx_err_t fd_ratelimit_check(bx_redis_t *redis, fd_rl_class_t cls, const char *user_id_or_null,
                            const char *ip, fd_rl_result_t *out)
{
    s_plan_t plan;
    s_state_t st[FD_RL_MAX_POLICIES];
    if (!out)
        return BX_EINVAL;
    memset(out, 0, sizeof *out);
    if ((unsigned)cls >= FD_RL_COUNT) {
        out->allowed = 1;
        out->policy = "";
        return BX_EINVAL;
    }
    pthread_once(&s_once, s_default_init);
    s_plan(cls, user_id_or_null, ip && *ip ? ip : "unknown", &plan);
    if (s_redis_check(redis, &plan, st) == 0) {
        s_note_redis(1);
    } else {
        s_note_redis(0);
        s_local_check(&plan, st);
        out->local = 1;
        bx_counter_inc(s_m_local);
    }
    out->npolicies = plan.n;
    for (int i = 0; i < plan.n; i++) {
        long limit = out->local ? plan.limit[i] / s_cfg.fallback_divisor : plan.limit[i];
        s_policy_state(plan.policy[i], limit > 0 ? (int)limit : 1, &st[i], &out->policies[i]);
    }
    s_summarize(out);
    bx_counter_inc(s_m_decisions[strcmp(out->policy, "ip") ? (int)cls : 3][out->allowed]);
    return out->allowed ? BX_OK : BX_ERATELIMIT;
}

/* ---- headers ---- */

/* Appends to buf at *len, never past cap; *len stops growing once the buffer is full. */
static void s_append(char *buf, size_t cap, size_t *len, const char *fmt, const char *sep,
                     const char *name, int a, int b)
{
    if (*len >= cap)
        return;
    int n = snprintf(buf + *len, cap - *len, fmt, sep, name, a, b);
    *len = n < 0 ? cap : *len + (size_t)n;
}

void fd_ratelimit_headers(const fd_rl_result_t *res, char *policy, size_t policy_cap, char *state,
                          size_t state_cap)
{
    size_t np = 0, ns = 0;
    if (policy_cap)
        policy[0] = '\0';
    if (state_cap)
        state[0] = '\0';
    for (int i = 0; i < res->npolicies; i++) {
        const fd_rl_policy_t *p = &res->policies[i];
        const char *sep = i ? ", " : "";
        s_append(policy, policy_cap, &np, "%s\"%s\";q=%d;w=%d", sep, p->policy, p->limit,
                 p->window_s);
        s_append(state, state_cap, &ns, "%s\"%s\";r=%d;t=%d", sep, p->policy, p->remaining,
                 p->reset_s);
    }
}
