/* fd_waitroom: the gate the hold path calls while an event's waiting room is active, the
 * spent marker of admission tokens, the per-thread cache of room configurations, the
 * partner's room configuration (PUT/GET with live statistics) and the route list of the
 * waiting room, the waitlist and the inventory stream. Design in docs/waitroom.md. */
#include "fd_waitroom.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bx_log.h"
#include "bx_util.h"
#include "fd_auth.h"
#include "fd_catalog.h"
#include "fd_internal.h"
#include "fd_routes.h"
#include "fd_wr.h"

#define S_SLOTS 64 /* cached rooms per thread (direct-mapped by event id) */

/* ---- the per-thread room cache ---- */

static pthread_key_t s_cache_key;
static pthread_once_t s_cache_once = PTHREAD_ONCE_INIT;

static void s_cache_make(void)
{
    pthread_key_create(&s_cache_key, free);
}

static fd_wr_room_t *s_slot(const char *event_id)
{
    pthread_once(&s_cache_once, s_cache_make);
    fd_wr_room_t *cache = pthread_getspecific(s_cache_key);
    if (!cache) {
        cache = calloc(S_SLOTS, sizeof *cache);
        if (!cache)
            return NULL;
        pthread_setspecific(s_cache_key, cache);
    }
    uint32_t h = 2166136261u;
    for (const char *p = event_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &cache[h % S_SLOTS];
}

static long s_col_long(const PGresult *res, int col)
{
    const char *v = bx_pg_val(res, 0, col);
    return v ? strtol(v, NULL, 10) : 0;
}

static void s_col_str(const PGresult *res, int col, char *dst, size_t cap)
{
    const char *v = bx_pg_val(res, 0, col);
    bx_strlcpy(dst, v ? v : "", cap);
}

/* Columns of wr_config_get. */
enum {
    C_ORG,
    C_STATUS,
    C_ENABLED,
    C_PRE,
    C_SALE,
    C_RATE,
    C_MAX,
    C_TTL,
    C_MARGIN,
    C_OFFER,
    C_SEED,
    C_SHA,
    C_PRE_TXT,
    C_SALE_TXT,
    C_UPD_TXT,
    C_NOW
};

static void s_room_fill(fd_wr_room_t *r, const char *event_id, const PGresult *res)
{
    memset(r, 0, sizeof *r);
    bx_strlcpy(r->event_id, event_id, sizeof r->event_id);
    s_col_str(res, C_ORG, r->org_id, sizeof r->org_id);
    s_col_str(res, C_STATUS, r->status, sizeof r->status);
    r->has_room = bx_pg_val(res, 0, C_ENABLED) != NULL;
    r->enabled = r->has_room && !strcmp(bx_pg_val(res, 0, C_ENABLED), "t");
    r->prequeue_at = s_col_long(res, C_PRE);
    r->sale_at = s_col_long(res, C_SALE);
    r->rate = (int)s_col_long(res, C_RATE);
    r->max_active = (int)s_col_long(res, C_MAX);
    r->ttl_s = (int)s_col_long(res, C_TTL);
    r->margin_pct = (int)s_col_long(res, C_MARGIN);
    r->offer_ttl_s = (int)s_col_long(res, C_OFFER);
    s_col_str(res, C_SEED, r->seed, sizeof r->seed);
    s_col_str(res, C_SHA, r->seed_sha256, sizeof r->seed_sha256);
    s_col_str(res, C_PRE_TXT, r->prequeue_txt, sizeof r->prequeue_txt);
    s_col_str(res, C_SALE_TXT, r->sale_txt, sizeof r->sale_txt);
    s_col_str(res, C_UPD_TXT, r->updated_txt, sizeof r->updated_txt);
    r->loaded_ms = bx_mono_ms();
}

bx_err_t fd_wr_room_get(fd_req_t *req, const char *event_id, int fresh, fd_wr_room_t *out)
{
    bx_err_t err = BX_EUNAVAILABLE;
    fd_wr_room_t *slot = s_slot(event_id);
    int64_t now = bx_mono_ms();
    int cached = slot && !strcmp(slot->event_id, event_id);
    if (cached && !fresh && now - slot->loaded_ms < FD_WR_CACHE_MS) {
        *out = *slot;
        return slot->org_id[0] ? BX_OK : BX_ENOTFOUND;
    }
    const char *p[] = {event_id};
    PGresult *res = fd_pg(req) ? bx_pg_query(fd_pg(req), "wr_config_get", 1, p, &err) : NULL;
    if (res && PQntuples(res) == 1) {
        s_room_fill(out, event_id, res);
        err = BX_OK;
    } else if (res) {
        memset(out, 0, sizeof *out); /* remembered as "no such event" */
        bx_strlcpy(out->event_id, event_id, sizeof out->event_id);
        out->loaded_ms = now;
        err = BX_ENOTFOUND;
    }
    PQclear(res);
    if (res && slot)
        *slot = *out;
    if (!res && cached && now - slot->loaded_ms < FD_WR_STALE_MS) {
        *out = *slot;
        return slot->org_id[0] ? BX_OK : BX_ENOTFOUND;
    }
    return res ? err : BX_EUNAVAILABLE;
}

/* ---- helpers shared by the waiting-room modules ---- */

int fd_wr_event_param(fd_req_t *req, char out[37])
{
    const char *id = fd_param(req, "eventId");
    if (!id || !bx_uuid_valid(id)) {
        fd_reply_problem(req, BX_ENOTFOUND, "no such event");
        return 0;
    }
    for (int i = 0; i < 36; i++)
        out[i] = (char)tolower((unsigned char)id[i]);
    out[36] = '\0';
    return 1;
}

int fd_wr_manages(fd_req_t *req, const fd_wr_room_t *room)
{
    int ok = 0;
    if (!fd_who(req)->authenticated)
        return 0;
    if (fd_cat_manages(req, fd_pg(req), room->org_id, &ok) != BX_OK) {
        fd_reply_problem(req, BX_EUNAVAILABLE, "the organization could not be checked; try again");
        return -1;
    }
    return ok;
}

int fd_wr_on_sale(const fd_wr_room_t *room)
{
    return !strcmp(room->status, "published") || !strcmp(room->status, "on_sale");
}

void fd_wr_retry_after(fd_req_t *req, int64_t secs)
{
    char v[24];
    snprintf(v, sizeof v, "%lld", (long long)(secs < 1 ? 1 : secs > 86400 ? 86400 : secs));
    fd_add_header(req, "Retry-After", v);
}

void fd_wr_minute_keys(const char *event_id, char keys[6][BX_WROOM_KEY_MAX])
{
    char part[48];
    long long cur = (long long)(bx_now_ms() / 10000);
    for (int i = 0; i < 6; i++) {
        snprintf(part, sizeof part, "am:%lld", cur - 1 - i);
        bx_wroom_key(keys[i], event_id, part);
    }
}

bx_err_t fd_wr_live(fd_req_t *req, const char *event_id, long *admitted_last_min, int *sold_out)
{
    char keys[7][BX_WROOM_KEY_MAX];
    const char *argv[8] = {"MGET"};
    fd_wr_minute_keys(event_id, keys);
    bx_wroom_key(keys[6], event_id, "soldout");
    for (int i = 0; i < 7; i++)
        argv[i + 1] = keys[i];
    redisReply *r = bx_redis_cmdv(fd_redis(req), 8, argv, NULL);
    *admitted_last_min = 0;
    *sold_out = 0;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 7) {
        freeReplyObject(r);
        return BX_EUNAVAILABLE;
    }
    for (size_t i = 0; i < 6; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING)
            *admitted_last_min += strtol(r->element[i]->str, NULL, 10);
    *sold_out = r->element[6]->type == REDIS_REPLY_STRING;
    freeReplyObject(r);
    return BX_OK;
}

/* ---- the gate ---- */

/* The jti the gate accepted last on this thread, for the request it accepted it on. */
static __thread const fd_req_t *s_gate_req;
static __thread char s_gate_jti[37];
static __thread int64_t s_gate_exp; /* the accepted token's expiry, epoch s */

/* KEYS: spent marker, used marker. ARGV: used marker lifetime. 0 when spent; else marks
 * the admission as used (the gatekeeper tells abandoned from used ones by it). */
static const char *s_gate_lua = "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
                                "redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])\n"
                                "return 1\n";

/* BX_OK unless Redis says the admission was spent. */
static bx_err_t s_not_spent(fd_req_t *req, const bx_wroom_claims_t *c)
{
    char spent[BX_WROOM_KEY_MAX], used[BX_WROOM_KEY_MAX], part[64], ttl[24];
    int64_t left = c->exp - bx_now_ms() / 1000 + 60;
    snprintf(ttl, sizeof ttl, "%lld", (long long)(left > 60 ? left : 60));
    snprintf(part, sizeof part, "spent:%s", c->jti);
    bx_wroom_key(spent, c->event_id, part);
    snprintf(part, sizeof part, "used:%s", c->jti);
    bx_wroom_key(used, c->event_id, part);
    const char *argv[] = {spent, used, ttl};
    redisReply *r = bx_redis_script(fd_redis(req), s_gate_lua, 2, 1, argv);
    if (!r) {
        static __thread int64_t warned_ms;
        if (bx_mono_ms() - warned_ms >= 1000) { /* once a second per thread, not per hold */
            warned_ms = bx_mono_ms();
            BX_WARN("admission tokens let through without the spent check: redis unavailable");
        }
        return BX_OK;
    }
    bx_err_t err = r->type == REDIS_REPLY_INTEGER && r->integer == 0 ? BX_EUNAUTHORIZED : BX_OK;
    freeReplyObject(r);
    return err;
}

/* Verifies the Admission-Token of req for event_id and its caller into *c. */
static bx_err_t s_admission(fd_req_t *req, const char *event_id, bx_wroom_claims_t *c)
{
    const char *token = fd_header(req, FD_WAITROOM_ADMISSION_HEADER);
    const char *why = NULL;
    const fd_principal_t *who = fd_who(req);
    if (!token || !*token)
        return BX_EFORBIDDEN;
    if (bx_wroom_verify(fd_auth_ring(), token, BX_WROOM_ADMIT, bx_now_ms() / 1000, c, &why)) {
        BX_INFO("admission token refused: %s", why);
        return BX_EUNAUTHORIZED;
    }
    if (strcasecmp(c->event_id, event_id) || !who->authenticated ||
        strcasecmp(c->user_id, who->user_id)) {
        BX_INFO("admission token refused: issued for another %s",
                strcasecmp(c->event_id, event_id) ? "event" : "user");
        return BX_EUNAUTHORIZED;
    }
    return BX_OK;
}

bx_err_t fd_waitroom_gate(fd_req_t *req, const char *event_id)
{
    fd_wr_room_t room;
    bx_wroom_claims_t c;
    char ev[37];
    s_gate_req = NULL;
    s_gate_jti[0] = '\0';
    if (!event_id || !bx_uuid_valid(event_id))
        return BX_OK; /* the hold path answers 404 for it */
    for (int i = 0; i < 37; i++)
        ev[i] = (char)tolower((unsigned char)event_id[i]);
    bx_err_t err = fd_wr_room_get(req, ev, 0, &room);
    if (err == BX_ENOTFOUND)
        return BX_OK;
    if (err)
        return err;
    if (!room.has_room || !room.enabled)
        return BX_OK;
    err = s_admission(req, ev, &c);
    if (!err)
        err = s_not_spent(req, &c);
    if (err)
        return err;
    s_gate_req = req;
    bx_strlcpy(s_gate_jti, c.jti, sizeof s_gate_jti);
    s_gate_exp = c.exp;
    return BX_OK;
}

const char *fd_waitroom_admission_jti(fd_req_t *req)
{
    return s_gate_req == req ? s_gate_jti : "";
}

int64_t fd_waitroom_admission_exp(fd_req_t *req)
{
    return s_gate_req == req && s_gate_jti[0] ? s_gate_exp : 0;
}

void fd_waitroom_problem(fd_req_t *req, const char *event_id, bx_err_t err)
{
    char join[160], position[160], link[400];
    snprintf(join, sizeof join, "/api/v1/events/%s/waiting-room/join", event_id);
    snprintf(position, sizeof position, "/api/v1/events/%s/waiting-room/position", event_id);
    snprintf(link, sizeof link, "<%s>; rel=\"waiting-room\"", join);
    if (err == BX_EUNAVAILABLE) {
        fd_wr_retry_after(req, 2);
        fd_reply_problem(req, err,
                         "the waiting room cannot be checked right now; try again shortly");
        return;
    }
    fd_add_header(req, "Link", link);
    json_t *ext =
        json_pack("{s:{s:s, s:s, s:s, s:s}}", "waiting_room", "reason",
                  err == BX_EFORBIDDEN ? "admission_required" : "admission_invalid", "header",
                  FD_WAITROOM_ADMISSION_HEADER, "join", join, "position", position);
    fd_reply_problem_ext(
        req, err == BX_EFORBIDDEN ? BX_EFORBIDDEN : BX_EUNAUTHORIZED,
        err == BX_EFORBIDDEN
            ? "this sale runs through a waiting room: join it, and when admitted send the "
              "admission token in the Admission-Token header"
            : "the admission token is invalid, expired, already spent by a booking, or issued "
              "for another user or event",
        ext);
}

bx_err_t fd_waitroom_spend(fd_req_t *req, const char *event_id)
{
    bx_wroom_claims_t c;
    char ev[37];
    if (!event_id || !bx_uuid_valid(event_id))
        return BX_EINVAL;
    for (int i = 0; i < 37; i++)
        ev[i] = (char)tolower((unsigned char)event_id[i]);
    bx_err_t err = s_admission(req, ev, &c);
    if (err == BX_EFORBIDDEN)
        return BX_OK; /* no token: nothing to spend */
    if (err)
        return err;
    return bx_wroom_spend(fd_redis(req), fd_pg(req), ev, c.jti, c.exp);
}

/* ---- partner configuration ---- */

static const bx_jfield_t s_config_schema[] = {
    {.name = "enabled", .type = BX_JT_BOOL, .required = 1},
    {.name = "prequeue_opens_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME, .nullable = 1},
    {.name = "sale_starts_at", .type = BX_JT_STRING, .required = 1, .format = BX_FMT_DATETIME},
    {.name = "admit_per_minute", .type = BX_JT_INT, .required = 1, .min = 1, .max = 1000000},
    {.name = "max_active_shoppers", .type = BX_JT_INT, .required = 1, .min = 1, .max = 10000000},
    {.name = "token_ttl_s", .type = BX_JT_INT, .min = 10, .max = 7200},
    {.name = "inventory_margin_pct", .type = BX_JT_INT, .min = 0, .max = 100},
    {.name = "waitlist_offer_ttl_s", .type = BX_JT_INT, .min = 5, .max = 86400},
    {0},
};

/* Live statistics from Redis: KEYS queue, active set, stats hash. ARGV: now (ms). */
static const char *s_stats_lua =
    "local q = redis.call('ZCARD', KEYS[1])\n"
    "local a = redis.call('ZCOUNT', KEYS[2], ARGV[1], '+inf')\n"
    "local s = redis.call('HMGET', KEYS[3], 'admitted', 'spent', 'abandoned', 'expired_used', "
    "'joined')\n"
    "return {q, a, s[1] or '0', s[2] or '0', s[3] or '0', s[4] or '0', s[5] or '0'}\n";

static json_t *s_stats(fd_req_t *req, const fd_wr_room_t *room)
{
    char q[BX_WROOM_KEY_MAX], a[BX_WROOM_KEY_MAX], st[BX_WROOM_KEY_MAX], now[24];
    long last_min = 0;
    int sold_out = 0;
    snprintf(now, sizeof now, "%lld", (long long)bx_now_ms());
    const char *argv[] = {bx_wroom_key(q, room->event_id, "q"),
                          bx_wroom_key(a, room->event_id, "active"),
                          bx_wroom_key(st, room->event_id, "stat"), now};
    redisReply *r = bx_redis_script(fd_redis(req), s_stats_lua, 3, 1, argv);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 7 ||
        fd_wr_live(req, room->event_id, &last_min, &sold_out)) {
        freeReplyObject(r);
        return json_pack("{s:b}", "available", 0);
    }
    long v[7];
    for (int i = 0; i < 7; i++)
        v[i] = r->element[i]->type == REDIS_REPLY_INTEGER ? (long)r->element[i]->integer
                                                          : strtol(r->element[i]->str, NULL, 10);
    freeReplyObject(r);
    long finished = v[3] + v[4] + v[5];
    json_t *rate = finished ? json_real((double)v[4] / (double)finished) : json_null();
    return json_pack("{s:b, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:b}", "available", 1,
                     "queue_length", (int)v[0], "active_shoppers", (int)v[1],
                     "admissions_last_minute", (int)last_min, "joined", (int)v[6], "admitted",
                     (int)v[2], "spent", (int)v[3], "abandoned", (int)v[4], "expired_used",
                     (int)v[5], "abandon_rate", rate, "sold_out", sold_out);
}

/* The room document; stats for the partner (stolen, may be NULL). */
static json_t *s_room_doc(const fd_wr_room_t *room, json_t *stats)
{
    char self[128], join[160], lottery[160];
    int64_t now = bx_now_ms() / 1000;
    int started = now >= room->sale_at;
    snprintf(self, sizeof self, "/api/v1/events/%s/waiting-room", room->event_id);
    snprintf(join, sizeof join, "%s/join", self);
    snprintf(lottery, sizeof lottery, "%s/lottery", self);
    json_t *attrs = json_pack(
        "{s:s, s:b, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:s, s:{s:s, s:s?, s:s}}", "event_id",
        room->event_id, "enabled", room->enabled, "phase",
        !room->enabled             ? "off"
        : started                  ? "sale"
        : now >= room->prequeue_at ? "pre_queue"
                                   : "closed",
        "prequeue_opens_at", room->prequeue_txt, "sale_starts_at", room->sale_txt,
        "admit_per_minute", room->rate, "max_active_shoppers", room->max_active, "token_ttl_s",
        room->ttl_s, "inventory_margin_pct", room->margin_pct, "waitlist_offer_ttl_s",
        room->offer_ttl_s, "updated_at", room->updated_txt, "lottery", "seed_sha256",
        room->seed_sha256, "seed", started ? room->seed : NULL, "algorithm",
        "pre-queue entries ordered by the first 48 bits (big-endian) of HMAC-SHA256(key = the "
        "32 seed bytes, message = entry id as lower-case text), ties by entry id; later "
        "arrivals first in, first out");
    if (stats)
        json_object_set_new(attrs, "stats", stats);
    json_t *res = fd_resource("waiting_room", room->event_id, attrs, self);
    json_object_set_new(json_object_get(res, "links"), "join", json_string(join));
    json_object_set_new(json_object_get(res, "links"), "lottery", json_string(lottery));
    return fd_document(res, NULL);
}

static void s_room_get(fd_req_t *req)
{
    fd_wr_room_t room;
    char ev[37];
    if (!fd_wr_event_param(req, ev))
        return;
    bx_err_t err = fd_wr_room_get(req, ev, 1, &room);
    if (err && err != BX_ENOTFOUND) {
        fd_reply_problem(req, err, "the waiting room could not be read; try again");
        return;
    }
    int manages = err ? 0 : fd_wr_manages(req, &room);
    if (manages < 0)
        return;
    if (err || !room.has_room || (!manages && !fd_wr_on_sale(&room))) {
        fd_reply_problem(req, BX_ENOTFOUND, "this event has no waiting room");
        return;
    }
    fd_reply_json(req, 200, s_room_doc(&room, manages ? s_stats(req, &room) : NULL));
}

/* The sale start and pre-queue opening a PUT asks for, as epochs; 0 after answering. */
static int s_put_times(fd_req_t *req, const fd_wr_room_t *room, int64_t *sale, int64_t *pre)
{
    json_t *body = fd_body(req);
    const char *pre_txt = bx_json_str(body, "prequeue_opens_at");
    const char *p[] = {bx_json_str(body, "sale_starts_at"), pre_txt};
    bx_err_t err;
    PGresult *res = bx_pg_query(fd_pg(req), "wr_config_epochs", 2, p, &err);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        fd_cat_fail(req, fd_pg(req), err ? err : BX_EINTERNAL, NULL);
        return 0;
    }
    *sale = strtoll(bx_pg_val(res, 0, 0), NULL, 10);
    *pre = !pre_txt && room->has_room ? room->prequeue_at : strtoll(bx_pg_val(res, 0, 1), NULL, 10);
    int64_t now = strtoll(bx_pg_val(res, 0, 2), NULL, 10);
    PQclear(res);
    if (*pre > *sale) {
        fd_cat_invalid(req, "/prequeue_opens_at", "must not be after sale_starts_at");
        return 0;
    }
    if (room->has_room && now >= room->sale_at &&
        (*sale != room->sale_at || *pre != room->prequeue_at)) {
        fd_reply_problem(req, BX_ECONFLICT,
                         "the sale has started and its lottery is drawn: the sale start and the "
                         "pre-queue opening can no longer change");
        return 0;
    }
    return 1;
}

/* A new lottery seed and its SHA-256, both hex. */
static bx_err_t s_new_seed(char seed[65], char sha[65])
{
    unsigned char raw[32];
    bx_err_t err = bx_random(raw, sizeof raw);
    if (err)
        return err;
    bx_hex(raw, sizeof raw, seed);
    bx_sha256_hex(raw, sizeof raw, sha);
    return BX_OK;
}

static long s_int_or(json_t *body, const char *key, long def)
{
    json_t *v = json_object_get(body, key);
    return json_is_integer(v) ? (long)json_integer_value(v) : def;
}

/* Writes the configuration of a PUT; answers on failure. */
static int s_put_write(fd_req_t *req, const fd_wr_room_t *room, int64_t sale, int64_t pre)
{
    json_t *body = fd_body(req);
    char seed[65], sha[65], num[8][24];
    if (room->has_room) {
        bx_strlcpy(seed, room->seed, sizeof seed);
        bx_strlcpy(sha, room->seed_sha256, sizeof sha);
    } else if (s_new_seed(seed, sha) != BX_OK) {
        fd_reply_problem(req, BX_EINTERNAL, "no randomness for the lottery seed");
        return 0;
    }
    snprintf(num[0], 24, "%lld", (long long)pre);
    snprintf(num[1], 24, "%lld", (long long)sale);
    snprintf(num[2], 24, "%ld", s_int_or(body, "admit_per_minute", 60));
    snprintf(num[3], 24, "%ld", s_int_or(body, "max_active_shoppers", 100));
    snprintf(num[4], 24, "%ld", s_int_or(body, "token_ttl_s", room->has_room ? room->ttl_s : 600));
    snprintf(num[5], 24, "%ld",
             s_int_or(body, "inventory_margin_pct", room->has_room ? room->margin_pct : 10));
    snprintf(num[6], 24, "%ld",
             s_int_or(body, "waitlist_offer_ttl_s", room->has_room ? room->offer_ttl_s : 600));
    const char *p[] = {room->event_id,
                       json_is_true(json_object_get(body, "enabled")) ? "t" : "f",
                       num[0],
                       num[1],
                       num[2],
                       num[3],
                       num[4],
                       num[5],
                       num[6],
                       seed,
                       sha};
    bx_err_t err = bx_pg_run(fd_pg(req), "wr_config_upsert", 11, p);
    if (err) {
        fd_cat_fail(req, fd_pg(req), err, NULL);
        return 0;
    }
    return 1;
}

static void s_room_put(fd_req_t *req)
{
    fd_wr_room_t room;
    char ev[37];
    int64_t sale, pre;
    if (!fd_wr_event_param(req, ev))
        return;
    bx_err_t err = fd_wr_room_get(req, ev, 1, &room);
    int manages = err ? 0 : fd_wr_manages(req, &room);
    if (manages < 0)
        return;
    if (err == BX_EUNAVAILABLE) {
        fd_reply_problem(req, err, "the event could not be read; try again");
        return;
    }
    if (err || !manages) {
        fd_reply_problem(req, BX_ENOTFOUND, "no such event");
        return;
    }
    if (!strcmp(room.status, "cancelled") || !strcmp(room.status, "completed")) {
        fd_reply_problem(req, BX_ECONFLICT, "the event is over or cancelled");
        return;
    }
    if (!s_put_times(req, &room, &sale, &pre) || !s_put_write(req, &room, sale, pre))
        return;
    int created = !room.has_room;
    fd_audit(req, created ? "waiting_room.create" : "waiting_room.update", "event", ev,
             json_incref(fd_body(req)));
    if (fd_wr_room_get(req, ev, 1, &room) != BX_OK) {
        fd_reply_problem(req, BX_EUNAVAILABLE, "the waiting room was saved but could not be read");
        return;
    }
    fd_reply_json(req, created ? 201 : 200, s_room_doc(&room, s_stats(req, &room)));
}

/* GET .../waiting-room/admission: what the hold path's gate says about the caller's
 * Admission-Token, without holding anything (clients check before they shop). */
static void s_admission_check(fd_req_t *req)
{
    char ev[37], self[160];
    bx_wroom_claims_t c = {0};
    if (!fd_wr_event_param(req, ev))
        return;
    bx_err_t err = fd_waitroom_gate(req, ev);
    if (err) {
        fd_waitroom_problem(req, ev, err);
        return;
    }
    const char *jti = fd_waitroom_admission_jti(req);
    if (jti[0])
        s_admission(req, ev, &c);
    snprintf(self, sizeof self, "/api/v1/events/%s/waiting-room/admission", ev);
    json_t *attrs =
        json_pack("{s:s, s:b, s:s?, s:I}", "event_id", ev, "required", jti[0] != '\0', "jti",
                  jti[0] ? jti : NULL, "expires_in_s",
                  (json_int_t)(c.exp > bx_now_ms() / 1000 ? c.exp - bx_now_ms() / 1000 : 0));
    fd_reply_json(req, 200, fd_document(fd_resource("admission", ev, attrs, self), NULL));
}

/* ---- routes ---- */

const fd_route_t fd_waitroom_routes[] = {
    {"GET", "/api/v1/events/{eventId}/waiting-room", s_room_get, FD_OPT_AUTH, FD_RL_READ, NULL},
    {"PUT", "/api/v1/events/{eventId}/waiting-room", s_room_put, FD_PARTNER, FD_RL_WRITE,
     s_config_schema},
    {"POST", "/api/v1/events/{eventId}/waiting-room/join", fd_wr_join, FD_AUTH, FD_RL_WRITE, NULL},
    {"GET", "/api/v1/events/{eventId}/waiting-room/position", fd_wr_position, FD_AUTH, FD_RL_READ,
     NULL},
    {"GET", "/api/v1/events/{eventId}/waiting-room/lottery", fd_wr_lottery, 0, FD_RL_READ, NULL},
    {"GET", "/api/v1/events/{eventId}/waiting-room/admission", s_admission_check, FD_AUTH,
     FD_RL_READ, NULL},
    {"POST", "/api/v1/events/{eventId}/waitlist", fd_wl_join, FD_AUTH, FD_RL_WRITE,
     fd_wl_join_schema},
    {"GET", "/api/v1/events/{eventId}/waitlist", fd_wl_get, FD_AUTH, FD_RL_READ, NULL},
    {"DELETE", "/api/v1/events/{eventId}/waitlist", fd_wl_leave, FD_AUTH, FD_RL_WRITE, NULL},
    {"GET", "/api/v1/events/{eventId}/inventory/stream", fd_sse_stream, FD_ANY_ACCEPT, FD_RL_READ,
     NULL},
    {0},
};
