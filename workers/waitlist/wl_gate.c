/* wl_gate: admissions, expiries, sold-out flags and Redis rebuilds of waiting rooms, and
 * the lapse queue of waitlist offers (see wl_gate.h and docs/waitroom.md). */
#include "wl_gate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_metrics.h"
#include "bx_pg.h"
#include "bx_redis.h"
#include "bx_util.h"
#include "bx_wroom.h"

#define S_TICK_MAX       500  /* admissions per room and tick */
#define S_CHUNK          8    /* admissions per Redis script call (its argument cap) */
#define S_EXPIRE_MAX     1000 /* expiries per room and tick */
#define S_LOCK_MS        5000 /* a room's lock outlives a crashed gatekeeper so long */
#define S_REBUILD_PAGE   1000 /* queued entries re-added per statement */
#define S_SNAPSHOT_TICKS 20   /* statistics rows are written at least this often */

struct wl_gate {
    bx_jwt_ring_t *ring; /* signs admission tokens */
    bx_pg_t *pg;         /* NULL until connected */
    bx_redis_t *redis;   /* this thread's handle */
    char owner[33];      /* lock value of this process */
    unsigned long ticks; /* ticks run */
};

/* One room of wr_rooms. */
typedef struct {
    char event_id[37];
    int rate, max_active, ttl_s, margin_pct, started;
    char seed[65];
} s_room_t;

/* A room's counts for one tick. */
typedef struct {
    long queue_len, active, abandoned, expired_used, admitted, available, held;
    double tokens;
    int64_t bucket_t;
} s_tick_t;

wl_gate_t *wl_gate_new(void)
{
    unsigned char rnd[16];
    wl_gate_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ring = bx_jwt_ring_load(bx_config_str("jwt_key_dir"), bx_config_str("jwt_issuer"));
    self->redis = bx_redis_new(bx_config_str("redis_host"), (int)bx_config_int("redis_port"),
                               (int)bx_config_int("redis_timeout_ms"));
    if (!self->ring || !self->redis || bx_random(rnd, sizeof rnd) != BX_OK) {
        BX_ERROR("could not start the gatekeeper: no signing keys in %s (run bxctl keygen)",
                 bx_config_str("jwt_key_dir"));
        wl_gate_destroy(&self);
        return NULL;
    }
    bx_hex(rnd, sizeof rnd, self->owner);
    return self;
}

void wl_gate_destroy(wl_gate_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bx_jwt_ring_destroy(&(*self_p)->ring);
    bx_pg_destroy(&(*self_p)->pg);
    bx_redis_destroy(&(*self_p)->redis);
    free(*self_p);
    *self_p = NULL;
}

/* ---- Redis scripts ---- */

static const char *s_unlock_lua =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

/* KEYS: active, stats. ARGV: now ms, used-marker prefix, limit. */
static const char *s_expire_lua =
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])\n"
    "local ab, used = 0, 0\n"
    "for _, jti in ipairs(due) do\n"
    "  if redis.call('EXISTS', ARGV[2] .. jti) == 1 then used = used + 1 else ab = ab + 1 end\n"
    "  redis.call('ZREM', KEYS[1], jti)\n"
    "end\n"
    "if ab > 0 then redis.call('HINCRBY', KEYS[2], 'abandoned', ab) end\n"
    "if used > 0 then redis.call('HINCRBY', KEYS[2], 'expired_used', used) end\n"
    "return {ab, used}\n";

/* KEYS: queue, active, bucket. ARGV: now ms. */
static const char *s_state_lua =
    "local b = redis.call('HMGET', KEYS[3], 't', 'tokens')\n"
    "return {redis.call('ZCARD', KEYS[1]), redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[1], '+inf'),\n"
    "        b[1] or '', b[2] or ''}\n";

/* KEYS: queue, active, stats, minute bucket. ARGV: admission-key prefix, bucket ttl,
 * admitted count k, removed count m, then k x (entry, token, jti, score, ttl), then m
 * entries to take off the queue. */
static const char *s_admit_lua =
    "local k, m, i = tonumber(ARGV[3]), tonumber(ARGV[4]), 5\n"
    "for _ = 1, k do\n"
    "  redis.call('SET', ARGV[1] .. ARGV[i], ARGV[i + 1], 'EX', ARGV[i + 4])\n"
    "  redis.call('ZADD', KEYS[2], ARGV[i + 3], ARGV[i + 2])\n"
    "  i = i + 5\n"
    "end\n"
    "for _ = 1, m do redis.call('ZREM', KEYS[1], ARGV[i]); i = i + 1 end\n"
    "if k > 0 then\n"
    "  redis.call('HINCRBY', KEYS[3], 'admitted', k)\n"
    "  redis.call('INCRBY', KEYS[4], k)\n"
    "  redis.call('EXPIRE', KEYS[4], ARGV[2])\n"
    "end\n"
    "return k\n";

static int s_lock(wl_gate_t *self, const s_room_t *room, int take)
{
    char key[BX_WROOM_KEY_MAX];
    bx_wroom_key(key, room->event_id, "gk");
    if (!take) {
        const char *argv[] = {key, self->owner};
        freeReplyObject(bx_redis_script(self->redis, s_unlock_lua, 1, 1, argv));
        return 1;
    }
    redisReply *r = bx_redis_cmd(self->redis, "SET %s %s NX PX %d", key, self->owner, S_LOCK_MS);
    int ok = r && r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    return ok;
}

/* ---- rebuilding Redis from PostgreSQL ---- */

/* Re-adds every queued entry of the room (NX: scores already there stay). */
static bx_err_t s_rebuild_queue(wl_gate_t *self, const s_room_t *room)
{
    char after[24] = "0", page[8], q[BX_WROOM_KEY_MAX], score[32];
    bx_wroom_key(q, room->event_id, "q");
    snprintf(page, sizeof page, "%d", S_REBUILD_PAGE);
    for (;;) {
        bx_err_t err;
        const char *p[] = {room->event_id, after, page};
        PGresult *res = bx_pg_query(self->pg, "wr_queued_page", 3, p, &err);
        if (!res)
            return err;
        int n = PQntuples(res);
        for (int r = 0; r < n; r++) {
            int pre = !strcmp(bx_pg_val(res, r, 1), "t");
            if (pre)
                bx_strlcpy(score, bx_pg_val(res, r, 3), sizeof score);
            else
                snprintf(score, sizeof score, "%.0f",
                         BX_WROOM_FIFO_BASE + (double)strtoll(bx_pg_val(res, r, 2), NULL, 10));
            freeReplyObject(
                bx_redis_cmd(self->redis, "ZADD %s NX %s %s", q, score, bx_pg_val(res, r, 0)));
        }
        if (n > 0)
            bx_strlcpy(after, bx_pg_val(res, n - 1, 2), sizeof after);
        PQclear(res);
        if (n < S_REBUILD_PAGE)
            return BX_OK;
    }
}

/* Signs the admission of row r of a wr_admit / wr_admitted_live result (columns id, user,
 * jti, admitted_at, expires_at) into *c; returns the token (caller frees) or NULL. */
static char *s_sign(wl_gate_t *self, const s_room_t *room, const PGresult *res, int r,
                    bx_wroom_claims_t *c)
{
    memset(c, 0, sizeof *c);
    bx_strlcpy(c->entry_id, bx_pg_val(res, r, 0), sizeof c->entry_id);
    bx_strlcpy(c->user_id, bx_pg_val(res, r, 1), sizeof c->user_id);
    bx_strlcpy(c->jti, bx_pg_val(res, r, 2), sizeof c->jti);
    bx_strlcpy(c->event_id, room->event_id, sizeof c->event_id);
    c->iat = strtoll(bx_pg_val(res, r, 3), NULL, 10);
    c->exp = strtoll(bx_pg_val(res, r, 4), NULL, 10);
    return bx_wroom_sign(self->ring, BX_WROOM_ADMIT, c);
}

/* Stores up to S_CHUNK admissions (rows from..to of res) and takes extra[] off the queue. */
static bx_err_t s_store(wl_gate_t *self, const s_room_t *room, const PGresult *res, int from,
                        int to, const char *const *extra, int nextra)
{
    char keys[4][BX_WROOM_KEY_MAX], prefix[BX_WROOM_KEY_MAX], part[32], counts[2][16];
    char score[S_CHUNK][24], ttl[S_CHUNK][24], *tok[S_CHUNK] = {0};
    const char *argv[64];
    int n = 0, k = 0;
    bx_wroom_claims_t c;
    snprintf(part, sizeof part, "am:%lld", (long long)(bx_now_ms() / 10000));
    argv[n++] = bx_wroom_key(keys[0], room->event_id, "q");
    argv[n++] = bx_wroom_key(keys[1], room->event_id, "active");
    argv[n++] = bx_wroom_key(keys[2], room->event_id, "stat");
    argv[n++] = bx_wroom_key(keys[3], room->event_id, part);
    argv[n++] = bx_wroom_key(prefix, room->event_id, "adm:");
    argv[n++] = "180";
    argv[n++] = counts[0];
    argv[n++] = counts[1];
    for (int r = from; r < to; r++) {
        if (!(tok[k] = s_sign(self, room, res, r, &c)))
            continue;
        snprintf(score[k], sizeof score[k], "%lld", (long long)c.exp * 1000);
        snprintf(ttl[k], sizeof ttl[k], "%lld", (long long)(c.exp - bx_now_ms() / 1000 + 60));
        argv[n++] = bx_pg_val(res, r, 0);
        argv[n++] = tok[k];
        argv[n++] = bx_pg_val(res, r, 2);
        argv[n++] = score[k];
        argv[n++] = ttl[k++];
    }
    for (int i = 0; i < nextra; i++)
        argv[n++] = extra[i];
    snprintf(counts[0], sizeof counts[0], "%d", k);
    snprintf(counts[1], sizeof counts[1], "%d", nextra);
    redisReply *rep = bx_redis_script(self->redis, s_admit_lua, 4, n - 4, argv);
    for (int i = 0; i < k; i++)
        free(tok[i]);
    bx_err_t err = rep ? BX_OK : BX_EUNAVAILABLE;
    freeReplyObject(rep);
    return err;
}

/* Re-issues the live admissions of the room (same jti and expiry: the same tokens). */
static bx_err_t s_rebuild_admitted(wl_gate_t *self, const s_room_t *room)
{
    bx_err_t err;
    const char *p[] = {room->event_id, "100000"};
    PGresult *res = bx_pg_query(self->pg, "wr_admitted_live", 2, p, &err);
    if (!res)
        return err;
    int n = PQntuples(res);
    for (int r = 0; r < n && !err; r += S_CHUNK)
        err = s_store(self, room, res, r, r + S_CHUNK < n ? r + S_CHUNK : n, NULL, 0);
    PQclear(res);
    return err;
}

/* Rebuilds the room's Redis state when its marker is missing (Redis restarted empty). */
static bx_err_t s_rebuild(wl_gate_t *self, const s_room_t *room)
{
    char key[BX_WROOM_KEY_MAX];
    redisReply *r =
        bx_redis_cmd(self->redis, "EXISTS %s", bx_wroom_key(key, room->event_id, "built"));
    if (!r)
        return BX_EUNAVAILABLE;
    int built = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    if (built)
        return BX_OK;
    bx_err_t err = s_rebuild_queue(self, room);
    if (!err)
        err = s_rebuild_admitted(self, room);
    if (!err) {
        freeReplyObject(bx_redis_cmd(self->redis, "SET %s 1", key));
        BX_INFO("waiting room of %s rebuilt in redis from postgresql", room->event_id);
    }
    return err;
}

/* ---- one room ---- */

static bx_err_t s_expire(wl_gate_t *self, const s_room_t *room, s_tick_t *t)
{
    char active[BX_WROOM_KEY_MAX], stat[BX_WROOM_KEY_MAX], used[BX_WROOM_KEY_MAX], now[24], lim[8];
    snprintf(now, sizeof now, "%lld", (long long)bx_now_ms());
    snprintf(lim, sizeof lim, "%d", S_EXPIRE_MAX);
    const char *argv[] = {bx_wroom_key(active, room->event_id, "active"),
                          bx_wroom_key(stat, room->event_id, "stat"), now,
                          bx_wroom_key(used, room->event_id, "used:"), lim};
    redisReply *r = bx_redis_script(self->redis, s_expire_lua, 2, 3, argv);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        freeReplyObject(r);
        return BX_EUNAVAILABLE;
    }
    t->abandoned = (long)r->element[0]->integer;
    t->expired_used = (long)r->element[1]->integer;
    freeReplyObject(r);
    if (t->abandoned + t->expired_used == 0 && self->ticks % S_SNAPSHOT_TICKS)
        return BX_OK;
    const char *p[] = {room->event_id};
    return bx_pg_run(self->pg, "wr_expire_due", 1, p);
}

/* Reads queue length, live shoppers, the token bucket and the inventory into t. */
static bx_err_t s_measure(wl_gate_t *self, const s_room_t *room, s_tick_t *t)
{
    char q[BX_WROOM_KEY_MAX], a[BX_WROOM_KEY_MAX], b[BX_WROOM_KEY_MAX], now[24];
    bx_err_t err;
    snprintf(now, sizeof now, "%lld", (long long)bx_now_ms());
    const char *argv[] = {bx_wroom_key(q, room->event_id, "q"),
                          bx_wroom_key(a, room->event_id, "active"),
                          bx_wroom_key(b, room->event_id, "bucket"), now};
    redisReply *r = bx_redis_script(self->redis, s_state_lua, 3, 1, argv);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
        freeReplyObject(r);
        return BX_EUNAVAILABLE;
    }
    t->queue_len = (long)r->element[0]->integer;
    t->active = (long)r->element[1]->integer;
    t->bucket_t = r->element[2]->len ? strtoll(r->element[2]->str, NULL, 10) : 0;
    t->tokens = r->element[3]->len ? strtod(r->element[3]->str, NULL) : 0.0;
    freeReplyObject(r);
    const char *p[] = {room->event_id};
    PGresult *res = bx_pg_query(self->pg, "wr_inventory", 1, p, &err);
    if (!res)
        return err;
    t->available = strtol(bx_pg_val(res, 0, 0), NULL, 10);
    t->held = strtol(bx_pg_val(res, 0, 1), NULL, 10);
    PQclear(res);
    return BX_OK;
}

/* How many to admit now, refilling the bucket (t->tokens) first. */
static long s_budget(const s_room_t *room, s_tick_t *t, int64_t now_ms)
{
    double per_s = room->rate / 60.0 < 1.0 ? 1.0 : room->rate / 60.0;
    double gap_s = t->bucket_t ? (double)(now_ms - t->bucket_t) / 1000.0 : 0.0;
    /* The bucket holds one second of admissions plus one (so the fraction that accrues
     * between ticks is not cut off), or what accrued while ticks were late or failing (a
     * starved process, a Redis timeout), up to five seconds: the rate holds over a minute
     * without turning a long outage into one burst. Empty at the sale start. */
    double cap = per_s * (gap_s < 1.0 ? 1.0 : gap_s > 5.0 ? 5.0 : gap_s) + 1.0;
    double refill = gap_s > 0 ? gap_s * room->rate / 60.0 : 0.0;
    t->tokens = fmin(cap, t->tokens + refill);
    long n = (long)floor(t->tokens);
    long by_active = room->max_active - t->active;
    long by_inventory =
        (long)floor((double)t->available * (100 + room->margin_pct) / 100.0) - t->active;
    n = n < by_active ? n : by_active;
    n = n < by_inventory ? n : by_inventory;
    n = n < t->queue_len ? n : t->queue_len;
    return n < S_TICK_MAX ? (n > 0 ? n : 0) : S_TICK_MAX;
}

/* Admits the first n of the queue: PostgreSQL first (the durable record, jti and expiry
 * fixed once), then the tokens into Redis and the entries off the queue. */
static bx_err_t s_admit(wl_gate_t *self, const s_room_t *room, long n, s_tick_t *t)
{
    char q[BX_WROOM_KEY_MAX], ids[S_TICK_MAX * 37 + 3], jtis[S_TICK_MAX * 37 + 3], ttl[16], jti[37];
    redisReply *r =
        bx_redis_cmd(self->redis, "ZRANGE %s 0 %ld", bx_wroom_key(q, room->event_id, "q"), n - 1);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        return BX_EUNAVAILABLE;
    }
    size_t a = bx_strlcpy(ids, "{", sizeof ids), b = bx_strlcpy(jtis, "{", sizeof jtis);
    for (size_t i = 0; i < r->elements; i++) {
        bx_uuid_v7(jti);
        a += (size_t)snprintf(ids + a, sizeof ids - a, "%s%s", i ? "," : "", r->element[i]->str);
        b += (size_t)snprintf(jtis + b, sizeof jtis - b, "%s%s", i ? "," : "", jti);
    }
    bx_strlcpy(ids + a, "}", sizeof ids - a);
    bx_strlcpy(jtis + b, "}", sizeof jtis - b);
    snprintf(ttl, sizeof ttl, "%d", room->ttl_s);
    bx_err_t err;
    const char *p[] = {room->event_id, ids, jtis, ttl};
    PGresult *res = bx_pg_query(self->pg, "wr_admit", 4, p, &err);
    int rows = res ? PQntuples(res) : 0;
    for (int i = 0; res && !err && i < rows; i += S_CHUNK)
        err = s_store(self, room, res, i, i + S_CHUNK < rows ? i + S_CHUNK : rows, NULL, 0);
    /* every entry read (admitted now, or no longer queued in PostgreSQL) leaves the queue */
    for (size_t i = 0; res && !err && i < r->elements; i += 48) {
        const char *extra[48];
        int m = 0;
        for (size_t e = i; e < r->elements && m < 48; e++)
            extra[m++] = r->element[e]->str;
        err = s_store(self, room, res, 0, 0, extra, m);
    }
    t->admitted = err ? 0 : rows;
    PQclear(res);
    freeReplyObject(r);
    return res ? err : BX_EUNAVAILABLE;
}

static void s_bucket_save(wl_gate_t *self, const s_room_t *room, const s_tick_t *t, int64_t now_ms)
{
    char key[BX_WROOM_KEY_MAX], tv[24], kv[32];
    snprintf(tv, sizeof tv, "%lld", (long long)now_ms);
    snprintf(kv, sizeof kv, "%.6f", t->tokens - (double)t->admitted);
    freeReplyObject(bx_redis_cmd(self->redis, "HSET %s t %s tokens %s",
                                 bx_wroom_key(key, room->event_id, "bucket"), tv, kv));
}

static void s_sold_out(wl_gate_t *self, const s_room_t *room, const s_tick_t *t)
{
    char key[BX_WROOM_KEY_MAX];
    bx_wroom_key(key, room->event_id, "soldout");
    if (t->available == 0 && t->held == 0)
        freeReplyObject(bx_redis_cmd(self->redis, "SET %s 1", key));
    else
        freeReplyObject(bx_redis_cmd(self->redis, "DEL %s", key));
}

static void s_stats(wl_gate_t *self, const s_room_t *room, const s_tick_t *t)
{
    char v[5][24];
    if (t->admitted + t->abandoned + t->expired_used == 0 && self->ticks % S_SNAPSHOT_TICKS)
        return;
    snprintf(v[0], 24, "%ld", t->admitted);
    snprintf(v[1], 24, "%ld", t->abandoned);
    snprintf(v[2], 24, "%ld", t->expired_used);
    snprintf(v[3], 24, "%ld", t->queue_len - t->admitted);
    snprintf(v[4], 24, "%ld", t->active + t->admitted);
    const char *p[] = {room->event_id, v[0], v[1], v[2], v[3], v[4]};
    if (bx_pg_run(self->pg, "wr_stats_add", 6, p) != BX_OK)
        BX_WARN("waiting room statistics of %s not written: %s", room->event_id,
                bx_pg_error(self->pg));
}

static bx_err_t s_room_tick(wl_gate_t *self, const s_room_t *room)
{
    s_tick_t t = {0};
    int64_t now = bx_now_ms();
    bx_err_t err = s_rebuild(self, room);
    if (!err)
        err = s_expire(self, room, &t);
    if (!err)
        err = s_measure(self, room, &t);
    if (err)
        return err;
    s_sold_out(self, room, &t);
    long n = room->started ? s_budget(room, &t, now) : 0;
    if (n > 0)
        err = s_admit(self, room, n, &t);
    if (room->started)
        s_bucket_save(self, room, &t, now);
    s_stats(self, room, &t);
    if (t.admitted > 0)
        bx_counter_add(
            bx_metric_series(bx_metrics_counter("bx_waitroom_admitted_total",
                                                "Shoppers admitted from waiting rooms.", NULL)),
            (uint64_t)t.admitted);
    return err;
}

/* ---- the tick ---- */

static void s_room_read(const PGresult *res, int r, s_room_t *room)
{
    bx_strlcpy(room->event_id, bx_pg_val(res, r, 0), sizeof room->event_id);
    room->rate = (int)strtol(bx_pg_val(res, r, 1), NULL, 10);
    room->max_active = (int)strtol(bx_pg_val(res, r, 2), NULL, 10);
    room->ttl_s = (int)strtol(bx_pg_val(res, r, 3), NULL, 10);
    room->margin_pct = (int)strtol(bx_pg_val(res, r, 4), NULL, 10);
    room->started = !strcmp(bx_pg_val(res, r, 5), "t");
    bx_strlcpy(room->seed, bx_pg_val(res, r, 6), sizeof room->seed);
}

static void s_lapse_queue(wl_gate_t *self)
{
    bx_err_t err;
    const char *p[] = {"200"};
    PGresult *res = bx_pg_query(self->pg, "wl_lapse_queue", 1, p, &err);
    if (!res)
        BX_WARN("waitlist lapse queue failed: %s", bx_pg_error(self->pg));
    else if (PQntuples(res) > 0)
        BX_INFO("waitlist: %d lapse jobs queued", PQntuples(res));
    PQclear(res);
}

void wl_gate_tick(void *arg)
{
    wl_gate_t *self = arg;
    char lim[16];
    bx_err_t err;
    if (!self->pg && !(self->pg = bx_pg_new(bx_config_str("pg_dsn"), 1)))
        return; /* logged; tried again next tick */
    self->ticks++;
    snprintf(lim, sizeof lim, "%ld", bx_config_int("waitroom_max_rooms"));
    const char *p[] = {lim};
    PGresult *res = bx_pg_query(self->pg, "wr_rooms", 1, p, &err);
    if (!res) {
        BX_WARN("gatekeeper could not read rooms: %s", bx_pg_error(self->pg));
        return;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        s_room_t room;
        s_room_read(res, r, &room);
        if (!s_lock(self, &room, 1))
            continue;
        if (s_room_tick(self, &room) != BX_OK)
            BX_WARN("gatekeeper tick of %s failed", room.event_id);
        s_lock(self, &room, 0);
    }
    PQclear(res);
    s_lapse_queue(self);
}
