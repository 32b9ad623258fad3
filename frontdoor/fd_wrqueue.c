/* fd_wrqueue: the customer's side of the waiting room: joining (one place per user and
 * event, a signed queue token), reading the position (people ahead, estimated wait,
 * Retry-After, and the admission token once admitted), and the public lottery list that
 * lets anyone recompute the pre-sale order from the revealed seed. The hot state is in
 * Redis; every place is also a waitroom_entries row, from which Redis heals itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bx_log.h"
#include "bx_util.h"
#include "fd_auth.h"
#include "fd_catalog.h"
#include "fd_waitroom.h"
#include "fd_wr.h"

#define S_QUEUE_HEADER "Queue-Token"
#define S_POLL_MAX_S   30 /* longest Retry-After while queued */

/* A place as wr_join / wr_entry_live return it. */
typedef struct {
    char id[37];        /* entry id */
    long long seq;      /* arrival number */
    int prequeue;       /* joined before the sale started */
    char state[16];     /* queued, admitted */
    char joined_at[24]; /* RFC 3339 */
} s_place_t;

static int s_place_read(PGresult *res, s_place_t *pl)
{
    if (!res || PQntuples(res) != 1)
        return 0;
    bx_strlcpy(pl->id, bx_pg_val(res, 0, 0), sizeof pl->id);
    pl->seq = strtoll(bx_pg_val(res, 0, 1), NULL, 10);
    pl->prequeue = !strcmp(bx_pg_val(res, 0, 2), "t");
    bx_strlcpy(pl->state, bx_pg_val(res, 0, 3), sizeof pl->state);
    bx_strlcpy(pl->joined_at, bx_pg_val(res, 0, 4), sizeof pl->joined_at);
    return 1;
}

/* Inserts or finds the caller's live place. Returns 1 when created, 0 when it existed,
 * -1 on a database error. */
static int s_place(fd_req_t *req, const fd_wr_room_t *room, s_place_t *pl)
{
    char id[37], lottery[24];
    double score;
    bx_err_t err;
    const char *uid = fd_who(req)->user_id;
    const char *pu[] = {room->event_id, uid};
    if (bx_pg_run(fd_pg(req), "wr_expire_user", 2, pu) != BX_OK)
        return -1;
    bx_uuid_v7(id);
    if (bx_wroom_lottery(room->seed, id, &score) != BX_OK)
        return -1;
    snprintf(lottery, sizeof lottery, "%.0f", score);
    const char *p[] = {id, room->event_id, uid, lottery};
    PGresult *res = bx_pg_query(fd_pg(req), "wr_join", 4, p, &err);
    int created = s_place_read(res, pl);
    PQclear(res);
    if (!res)
        return -1;
    if (created)
        return 1;
    res = bx_pg_query(fd_pg(req), "wr_entry_live", 2, pu, &err);
    int found = s_place_read(res, pl);
    PQclear(res);
    return found ? 0 : -1;
}

/* Puts a queued place into the Redis queue (NX: an existing score is never changed). */
static void s_enqueue(fd_req_t *req, const fd_wr_room_t *room, const char *entry, int prequeue,
                      long long seq, int count_join)
{
    char q[BX_WROOM_KEY_MAX], st[BX_WROOM_KEY_MAX], score_txt[32];
    double score;
    if (bx_wroom_score(room->seed, entry, prequeue, seq, &score) != BX_OK)
        return;
    snprintf(score_txt, sizeof score_txt, "%.0f", score);
    redisReply *r = bx_redis_cmd(fd_redis(req), "ZADD %s NX %s %s",
                                 bx_wroom_key(q, room->event_id, "q"), score_txt, entry);
    if (!r)
        BX_WARN("place %s not queued in redis: the gatekeeper rebuilds it", entry);
    freeReplyObject(r);
    if (r && count_join) {
        r = bx_redis_cmd(fd_redis(req), "HINCRBY %s joined 1",
                         bx_wroom_key(st, room->event_id, "stat"));
        freeReplyObject(r);
    }
}

/* The room must be on, the event on sale and the pre-queue open. Answers otherwise. */
static int s_join_allowed(fd_req_t *req, const fd_wr_room_t *room)
{
    char detail[160];
    long last_min;
    int sold_out = 0;
    int64_t now = bx_now_ms() / 1000;
    if (!fd_wr_on_sale(room)) {
        fd_reply_problem(req, BX_ENOTFOUND, "no such event");
        return 0;
    }
    if (!room->has_room || !room->enabled) {
        fd_reply_problem(req, BX_ECONFLICT,
                         "this event has no active waiting room: hold seats directly");
        return 0;
    }
    if (now < room->prequeue_at) {
        snprintf(detail, sizeof detail, "the waiting room opens at %s", room->prequeue_txt);
        fd_wr_retry_after(req, room->prequeue_at - now);
        fd_reply_problem(req, BX_ECONFLICT, detail);
        return 0;
    }
    if (fd_wr_live(req, room->event_id, &last_min, &sold_out) == BX_OK && sold_out) {
        char wl[128];
        snprintf(wl, sizeof wl, "/api/v1/events/%s/waitlist", room->event_id);
        fd_reply_problem_ext(req, BX_ECONFLICT, "the event is sold out: join the waitlist instead",
                             json_pack("{s:s}", "waitlist", wl));
        return 0;
    }
    return 1;
}

/* The queue token of a place (caller frees) or NULL. */
static char *s_queue_token(fd_req_t *req, const fd_wr_room_t *room, const s_place_t *pl)
{
    bx_wroom_claims_t c = {0};
    bx_strlcpy(c.user_id, fd_who(req)->user_id, sizeof c.user_id);
    bx_strlcpy(c.event_id, room->event_id, sizeof c.event_id);
    bx_strlcpy(c.entry_id, pl->id, sizeof c.entry_id);
    c.prequeue = pl->prequeue;
    c.seq = pl->seq;
    c.iat = bx_now_ms() / 1000;
    c.exp = c.iat + BX_WROOM_QUEUE_TTL_S;
    return bx_wroom_sign(fd_auth_ring(), BX_WROOM_QUEUE, &c);
}

void fd_wr_join(fd_req_t *req)
{
    fd_wr_room_t room;
    s_place_t pl;
    char ev[37], pos[160];
    if (!fd_wr_event_param(req, ev))
        return;
    bx_err_t err = fd_wr_room_get(req, ev, 0, &room);
    if (err) {
        fd_reply_problem(req, err,
                         err == BX_ENOTFOUND ? "no such event"
                                             : "the waiting room cannot be read; try again");
        return;
    }
    if (!s_join_allowed(req, &room))
        return;
    int created = s_place(req, &room, &pl);
    if (created < 0) {
        fd_cat_fail(req, fd_pg(req), BX_EUNAVAILABLE, "the place could not be recorded; try again");
        return;
    }
    if (!strcmp(pl.state, "queued"))
        s_enqueue(req, &room, pl.id, pl.prequeue, pl.seq, created);
    char *token = s_queue_token(req, &room, &pl);
    if (!token) {
        fd_reply_problem(req, BX_EINTERNAL, "the queue token could not be signed");
        return;
    }
    snprintf(pos, sizeof pos, "/api/v1/events/%s/waiting-room/position", ev);
    json_t *attrs = json_pack(
        "{s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s}", "event_id", ev, "state", pl.state, "pre_queue",
        pl.prequeue, "joined_at", pl.joined_at, "sale_starts_at", room.sale_txt, "queue_token",
        token, "queue_token_header", S_QUEUE_HEADER, "seed_sha256", room.seed_sha256);
    free(token);
    json_t *res = fd_resource("waiting_room_entry", pl.id, attrs, pos);
    json_object_set_new(json_object_get(res, "links"), "position", json_string(pos));
    fd_add_header(req, "Location", pos);
    fd_reply_json(req, created ? 201 : 200, fd_document(res, NULL));
}

/* ---- position ---- */

/* What Redis knows of a place. */
typedef struct {
    char *admission; /* the admission token (heap) or NULL */
    long rank;       /* 0-based rank in the queue, -1 when not queued */
    long queue_len;  /* places queued */
} s_live_t;

/* KEYS: admission of the entry, queue. ARGV: entry id. */
static const char *s_pos_lua = "local t = redis.call('GET', KEYS[1])\n"
                               "local r = redis.call('ZRANK', KEYS[2], ARGV[1])\n"
                               "return {t or '', r or -1, redis.call('ZCARD', KEYS[2])}\n";

static bx_err_t s_live(fd_req_t *req, const bx_wroom_claims_t *c, s_live_t *lv)
{
    char adm[BX_WROOM_KEY_MAX], q[BX_WROOM_KEY_MAX], part[64];
    snprintf(part, sizeof part, "adm:%s", c->entry_id);
    const char *argv[] = {bx_wroom_key(adm, c->event_id, part), bx_wroom_key(q, c->event_id, "q"),
                          c->entry_id};
    memset(lv, 0, sizeof *lv);
    redisReply *r = bx_redis_script(fd_redis(req), s_pos_lua, 2, 1, argv);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
        freeReplyObject(r);
        return BX_EUNAVAILABLE;
    }
    if (r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len > 0)
        lv->admission = strdup(r->element[0]->str);
    lv->rank = (long)r->element[1]->integer;
    lv->queue_len = (long)r->element[2]->integer;
    freeReplyObject(r);
    return BX_OK;
}

/* Re-signs the admission of an admitted place from its row (same jti and expiry, so the
 * same token) and caches it in Redis. */
static char *s_readmit(fd_req_t *req, const fd_wr_room_t *room, const bx_wroom_claims_t *q,
                       const PGresult *res)
{
    char adm[BX_WROOM_KEY_MAX], part[64], ttl[24];
    bx_wroom_claims_t c = *q;
    bx_strlcpy(c.jti, bx_pg_val(res, 0, 1), sizeof c.jti);
    c.exp = strtoll(bx_pg_val(res, 0, 2), NULL, 10);
    c.iat = strtoll(bx_pg_val(res, 0, 3), NULL, 10);
    char *token = bx_wroom_sign(fd_auth_ring(), BX_WROOM_ADMIT, &c);
    snprintf(part, sizeof part, "adm:%s", c.entry_id);
    snprintf(ttl, sizeof ttl, "%lld", (long long)(c.exp - bx_now_ms() / 1000 + 60));
    redisReply *r = token ? bx_redis_cmd(fd_redis(req), "SET %s %s EX %s",
                                         bx_wroom_key(adm, room->event_id, part), token, ttl)
                          : NULL;
    freeReplyObject(r);
    return token;
}

/* Redis lost the place: PostgreSQL decides. Fills state (and lv->admission, or requeues
 * a queued place). Returns BX_OK or the database error. */
static bx_err_t s_heal(fd_req_t *req, const fd_wr_room_t *room, const bx_wroom_claims_t *c,
                       s_live_t *lv, char state[16])
{
    bx_err_t err;
    const char *p[] = {c->entry_id, c->event_id, c->user_id};
    PGresult *res = bx_pg_query(fd_pg(req), "wr_entry_get", 3, p, &err);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        return res ? BX_ENOTFOUND : err;
    }
    bx_strlcpy(state, bx_pg_val(res, 0, 0), 16);
    if (!strcmp(state, "queued")) {
        s_enqueue(req, room, c->entry_id, c->prequeue, c->seq, 0);
        s_live(req, c, lv);
    } else if (!strcmp(state, "admitted") && strcmp(bx_pg_val(res, 0, 4), "t")) {
        lv->admission = s_readmit(req, room, c, res);
    } else if (!strcmp(state, "admitted")) {
        bx_strlcpy(state, "expired", 16);
    }
    PQclear(res);
    return BX_OK;
}

/* Admissions per minute the estimate uses: the last minute's, else the configured rate. */
static double s_rate(fd_req_t *req, const fd_wr_room_t *room, int *sold_out)
{
    long last = 0;
    fd_wr_live(req, room->event_id, &last, sold_out);
    return last > 0 ? (double)last : (double)room->rate;
}

static json_t *s_pos_attrs(const fd_wr_room_t *room, const char *state)
{
    int started = bx_now_ms() / 1000 >= room->sale_at;
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:s?}}", "event_id", room->event_id, "state", state,
                     "sale_starts_at", room->sale_txt, "lottery", "seed_sha256", room->seed_sha256,
                     "seed", started ? room->seed : NULL);
}

/* Fills attrs for a queued place and sets Retry-After. */
static void s_queued(fd_req_t *req, const fd_wr_room_t *room, const s_live_t *lv, json_t *attrs,
                     double rate)
{
    long ahead = lv->rank;
    long wait_s = (long)((double)ahead * 60.0 / (rate > 0 ? rate : 1) + 0.999);
    json_object_set_new(attrs, "position", json_integer(ahead + 1));
    json_object_set_new(attrs, "people_ahead", json_integer(ahead));
    json_object_set_new(attrs, "queue_length", json_integer(lv->queue_len));
    json_object_set_new(attrs, "estimated_wait_s", json_integer(wait_s));
    json_object_set_new(attrs, "admissions_per_minute", json_integer((long)rate));
    /* a third of the wait, at most S_POLL_MAX_S, and at most a quarter of the admission
     * token's lifetime, so a client that follows Retry-After never misses its turn */
    long retry = wait_s / 3, cap = room->ttl_s / 4 < S_POLL_MAX_S ? room->ttl_s / 4 : S_POLL_MAX_S;
    fd_wr_retry_after(req, retry < 1 ? 1 : retry > cap ? cap : retry);
}

/* Verifies the Queue-Token against the caller and the event; answers 401 otherwise. */
static int s_queue_claims(fd_req_t *req, const char *ev, bx_wroom_claims_t *c)
{
    const char *why = NULL;
    const char *token = fd_header(req, S_QUEUE_HEADER);
    if (!token || !*token) {
        fd_reply_problem(req, BX_EUNAUTHORIZED,
                         "send the queue token from the join answer in the "
                         "Queue-Token header");
        return 0;
    }
    if (bx_wroom_verify(fd_auth_ring(), token, BX_WROOM_QUEUE, bx_now_ms() / 1000, c, &why) ||
        strcasecmp(c->event_id, ev) || strcasecmp(c->user_id, fd_who(req)->user_id)) {
        BX_INFO("queue token refused: %s", why ? why : "issued for another user or event");
        fd_reply_problem(
            req, BX_EUNAUTHORIZED,
            "the queue token is invalid, expired, or issued for another user or event");
        return 0;
    }
    return 1;
}

/* An admission Redis still holds: admitted, or already over (expired, or spent by a
 * booking). lv->admission is freed when it is over. */
static void s_admission_state(fd_req_t *req, s_live_t *lv, char state[16])
{
    bx_wroom_claims_t a;
    char key[BX_WROOM_KEY_MAX], part[64];
    bx_strlcpy(state, "admitted", 16);
    if (bx_wroom_verify(fd_auth_ring(), lv->admission, BX_WROOM_ADMIT, bx_now_ms() / 1000, &a,
                        NULL) != BX_OK) {
        bx_strlcpy(state, "expired", 16);
    } else {
        snprintf(part, sizeof part, "spent:%s", a.jti);
        redisReply *r = bx_redis_cmd(fd_redis(req), "EXISTS %s", bx_wroom_key(key, a.event_id, part));
        if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
            bx_strlcpy(state, "spent", 16);
        freeReplyObject(r);
    }
    if (strcmp(state, "admitted")) {
        free(lv->admission);
        lv->admission = NULL;
    }
}

/* Decides the state of a place after the sale started. Returns BX_OK or an error. */
static bx_err_t s_state(fd_req_t *req, const fd_wr_room_t *room, const bx_wroom_claims_t *c,
                        s_live_t *lv, char state[16])
{
    bx_err_t err = s_live(req, c, lv);
    if (err)
        return err;
    if (lv->admission) {
        s_admission_state(req, lv, state);
        return BX_OK;
    }
    if (lv->rank >= 0) {
        bx_strlcpy(state, "queued", 16);
        return BX_OK;
    }
    return s_heal(req, room, c, lv, state);
}

void fd_wr_position(fd_req_t *req)
{
    fd_wr_room_t room;
    bx_wroom_claims_t c;
    s_live_t lv = {.rank = -1};
    char ev[37], state[16] = "pre_queue", self[160];
    int sold_out = 0;
    if (!fd_wr_event_param(req, ev) || !s_queue_claims(req, ev, &c))
        return;
    bx_err_t err = fd_wr_room_get(req, ev, 0, &room);
    int64_t now = bx_now_ms() / 1000;
    if (!err && !room.enabled)
        bx_strlcpy(state, "closed", sizeof state);
    else if (!err && now >= room.sale_at)
        err = s_state(req, &room, &c, &lv, state);
    if (err) {
        free(lv.admission);
        fd_wr_retry_after(req, 2);
        fd_reply_problem(req, err == BX_ENOTFOUND ? BX_ENOTFOUND : BX_EUNAVAILABLE,
                         err == BX_ENOTFOUND ? "no such place"
                                             : "the position cannot be read; try again");
        return;
    }
    double rate = s_rate(req, &room, &sold_out);
    if (sold_out && !strcmp(state, "queued"))
        bx_strlcpy(state, "sold_out", sizeof state);
    json_t *attrs = s_pos_attrs(&room, state);
    snprintf(self, sizeof self, "/api/v1/events/%s/waiting-room/position", ev);
    if (!strcmp(state, "queued"))
        s_queued(req, &room, &lv, attrs, rate);
    else if (!strcmp(state, "pre_queue"))
        fd_wr_retry_after(req,
                          room.sale_at - now > S_POLL_MAX_S ? S_POLL_MAX_S : room.sale_at - now);
    if (lv.admission) {
        bx_wroom_claims_t a;
        bx_wroom_verify(fd_auth_ring(), lv.admission, BX_WROOM_ADMIT, now, &a, NULL);
        json_object_set_new(attrs, "admission_token", json_string(lv.admission));
        json_object_set_new(attrs, "admission_header", json_string(FD_WAITROOM_ADMISSION_HEADER));
        json_object_set_new(attrs, "admission_expires_in_s",
                            json_integer(a.exp > now ? a.exp - now : 0));
    }
    free(lv.admission);
    json_t *res = fd_resource("waiting_room_position", c.entry_id, attrs, self);
    if (!strcmp(state, "sold_out")) {
        char wl[128];
        snprintf(wl, sizeof wl, "/api/v1/events/%s/waitlist", ev);
        json_object_set_new(json_object_get(res, "links"), "waitlist", json_string(wl));
    }
    fd_reply_json(req, 200, fd_document(res, NULL));
}

/* ---- the public lottery list ---- */

static json_t *s_lottery_rows(const PGresult *res, int n)
{
    json_t *data = json_array();
    for (int i = 0; i < n; i++) {
        json_t *attrs =
            json_pack("{s:I, s:s}", "lottery", (json_int_t)strtoll(bx_pg_val(res, i, 1), NULL, 10),
                      "joined_at", bx_pg_val(res, i, 2));
        json_array_append_new(data,
                              fd_resource("lottery_entry", bx_pg_val(res, i, 0), attrs, NULL));
    }
    return data;
}

void fd_wr_lottery(fd_req_t *req)
{
    fd_wr_room_t room;
    char ev[37], a[64] = "", b[64] = "", lim[8], path[160], cursor[FD_CAT_CURSOR_MAX];
    long n;
    bx_err_t err;
    if (!fd_wr_event_param(req, ev) || !fd_cat_limit(req, &n, lim) ||
        !fd_cat_cursor_decode(req, a, b, sizeof a))
        return;
    err = fd_wr_room_get(req, ev, 0, &room);
    if (err || !room.has_room || !fd_wr_on_sale(&room)) {
        fd_reply_problem(req, err == BX_EUNAVAILABLE ? err : BX_ENOTFOUND,
                         "this event has no waiting room");
        return;
    }
    if (bx_now_ms() / 1000 < room.sale_at) {
        char detail[128];
        snprintf(detail, sizeof detail, "the lottery is drawn when the sale starts at %s",
                 room.sale_txt);
        fd_reply_problem(req, BX_ECONFLICT, detail);
        return;
    }
    long lot;
    if (a[0] && (!bx_uuid_valid(b) || bx_parse_long(a, 0, 281474976710655L, &lot) != BX_OK)) {
        fd_reply_problem(req, BX_EINVAL, "the cursor is not valid");
        return;
    }
    const char *p[] = {ev, a[0] ? a : NULL, a[0] ? b : NULL, lim};
    PGresult *res = bx_pg_query(fd_pg(req), "wr_lottery_page", 4, p, &err);
    if (!res) {
        fd_cat_fail(req, fd_pg(req), err, NULL);
        return;
    }
    int rows = PQntuples(res);
    if (rows == n && rows > 0)
        fd_cat_cursor_encode(bx_pg_val(res, rows - 1, 1), bx_pg_val(res, rows - 1, 0), cursor,
                             sizeof cursor);
    snprintf(path, sizeof path, "/api/v1/events/%s/waiting-room/lottery", ev);
    static const char *const keys[] = {"limit", NULL};
    json_t *links = fd_cat_links(req, path, keys, rows == n && rows > 0 ? cursor : NULL);
    json_t *doc = fd_document(s_lottery_rows(res, rows), links);
    PQclear(res);
    json_object_set_new(doc, "meta",
                        json_pack("{s:s, s:s, s:s}", "seed", room.seed, "seed_sha256",
                                  room.seed_sha256, "order", "ascending lottery, then entry id"));
    fd_reply_json(req, 200, doc);
}
