/* bx_hold: the hold pool's executor state (per event: settings, inventory version, seat
 * view; the live feed's Redis handle and pending changes), its batch hooks and the job
 * dispatch. */
#include "bx_hold_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bx_config.h"
#include "bx_json.h"
#include "bx_log.h"

#define S_ID_LIST_CAP (BX_WORKER_BATCH_MAX * (BX_UUID_LEN + 1) + 3) /* "{id,id,...}" */

/* ---- executor state ---- */

void *bx_hold_thread_init(void *arg)
{
    (void)arg;
    bx_hold_state_t *st = calloc(1, sizeof(bx_hold_state_t));
    if (!st)
        return NULL;
    /* connects lazily: a Redis that is down only delays the feed, never a hold */
    st->redis = bx_redis_new(bx_config_str("redis_host"), (int)bx_config_int("redis_port"),
                             (int)bx_config_int("redis_timeout_ms"));
    st->feed = json_array();
    if (!st->redis || !st->feed) {
        bx_hold_thread_fini(st);
        return NULL;
    }
    return st;
}

void bx_hold_thread_fini(void *state)
{
    bx_hold_state_t *st = state;
    for (int i = 0; st && i < BX_HOLD_EVENTS_MAX; i++)
        bx_hold_view_destroy(&st->events[i].view);
    if (st) {
        bx_redis_destroy(&st->redis);
        json_decref(st->feed);
    }
    free(st);
}

void bx_hold_forget(bx_hold_event_t *ev)
{
    bx_hold_view_destroy(&ev->view);
    ev->version = 0;
}

static bx_hold_event_t *s_find(bx_hold_state_t *st, const char *id)
{
    for (int i = 0; i < BX_HOLD_EVENTS_MAX; i++)
        if (st->events[i].id[0] && !strcasecmp(st->events[i].id, id))
            return &st->events[i];
    return NULL;
}

/* The slot of event id, taking the least recently used one when it is new. */
static bx_hold_event_t *s_slot(bx_hold_state_t *st, const char *id)
{
    bx_hold_event_t *ev = s_find(st, id), *lru = &st->events[0];
    if (!ev) {
        for (int i = 1; i < BX_HOLD_EVENTS_MAX; i++)
            if (st->events[i].used < lru->used)
                lru = &st->events[i];
        bx_hold_view_destroy(&lru->view);
        memset(lru, 0, sizeof *lru);
        bx_strlcpy(lru->id, id, sizeof lru->id);
        ev = lru;
    }
    ev->used = ++st->clock;
    return ev;
}

bx_hold_event_t *bx_hold_event(bx_worker_job_t *job, const char *event_id)
{
    bx_hold_state_t *st = bx_worker_job_state(job);
    bx_hold_event_t *ev = st && event_id ? s_find(st, event_id) : NULL;
    return ev && ev->locked ? ev : NULL;
}

bx_hold_view_t *bx_hold_view(bx_worker_job_t *job, bx_hold_event_t *ev, bx_err_t *err)
{
    *err = BX_OK;
    if (ev->view)
        return ev->view;
    const char *p[] = {ev->id};
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "hold_view_load", 1, p, err);
    bx_hold_view_t *view = res ? bx_hold_view_new() : NULL;
    char key[160];
    for (int r = 0; view && *err == BX_OK && r < PQntuples(res); r++) {
        snprintf(key, sizeof key, "%s\x1f%s", bx_pg_val(res, r, 2), bx_pg_val(res, r, 3));
        *err = bx_hold_view_add(view, bx_pg_val(res, r, 0), bx_pg_val(res, r, 1), key,
                                bx_pg_val(res, r, 4), bx_pg_val(res, r, 5));
    }
    if (view && *err == BX_OK)
        *err = bx_hold_view_seal(view);
    if (res && !view)
        *err = BX_ENOMEM;
    if (*err != BX_OK)
        bx_hold_view_destroy(&view);
    PQclear(res);
    ev->view = view;
    return view;
}

/* ---- batch hooks ---- */

/* "{a,b}" of the distinct valid event ids of the batch's payloads. */
static void s_event_list(bx_worker_batch_t *batch, char *out, size_t cap)
{
    size_t len = bx_strlcpy(out, "{", cap);
    for (int i = 0; i < bx_worker_batch_size(batch); i++) {
        const char *id =
            bx_json_str(bx_worker_job_payload(bx_worker_batch_job(batch, i)), "event_id");
        int dup = 0;
        for (int k = 0; id && k < i && !dup; k++) {
            const char *seen =
                bx_json_str(bx_worker_job_payload(bx_worker_batch_job(batch, k)), "event_id");
            dup = seen && !strcasecmp(id, seen);
        }
        if (!bx_uuid_valid(id) || dup || len + 40 >= cap)
            continue;
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len > 1 ? "," : "", id);
    }
    bx_strlcpy(out + len, "}", cap - len);
}

/* Sets an event's settings from a hold_lock_events row. */
static void s_event_row(bx_hold_state_t *st, const PGresult *res, int r)
{
    bx_hold_event_t *ev = s_slot(st, bx_pg_val(res, r, 0));
    int64_t version = strtoll(bx_pg_val(res, r, 1), NULL, 10);
    if (version != ev->version) /* someone else changed it: the view is stale */
        bx_hold_view_destroy(&ev->view);
    ev->version = ev->pending = version;
    ev->ttl_s = (int)strtol(bx_pg_val(res, r, 2), NULL, 10);
    ev->max_per_user = (int)strtol(bx_pg_val(res, r, 3), NULL, 10);
    ev->orphan_rule = !strcmp(bx_pg_val(res, r, 4), "t");
    bx_strlcpy(ev->status, bx_pg_val(res, r, 5), sizeof ev->status);
    ev->locked = 1;
}

bx_err_t bx_hold_batch_begin(bx_worker_batch_t *batch)
{
    char ids[S_ID_LIST_CAP];
    bx_err_t err;
    bx_hold_state_t *st = bx_worker_batch_state(batch);
    if (!st)
        return BX_ENOMEM;
    bx_hold_feed_flush(st, 0); /* a rerun batch starts over */
    s_event_list(batch, ids, sizeof ids);
    const char *p[] = {ids};
    PGresult *res = bx_pg_query(bx_worker_batch_pg(batch), "hold_lock_events", 1, p, &err);
    for (int r = 0; res && r < PQntuples(res); r++)
        s_event_row(st, res, r);
    PQclear(res);
    return err;
}

bx_err_t bx_hold_batch_end(bx_worker_batch_t *batch)
{
    char ids[S_ID_LIST_CAP];
    bx_err_t err;
    bx_hold_state_t *st = bx_worker_batch_state(batch);
    s_event_list(batch, ids, sizeof ids);
    const char *p[] = {ids};
    PGresult *res = bx_pg_query(bx_worker_batch_pg(batch), "hold_versions", 1, p, &err);
    for (int r = 0; res && r < PQntuples(res); r++) {
        bx_hold_event_t *ev = s_find(st, bx_pg_val(res, r, 0));
        if (ev && ev->locked)
            ev->pending = strtoll(bx_pg_val(res, r, 1), NULL, 10);
    }
    PQclear(res);
    return err;
}

void bx_hold_batch_done(bx_worker_batch_t *batch, int committed)
{
    bx_hold_state_t *st = bx_worker_batch_state(batch);
    bx_hold_feed_flush(st, committed);
    for (int i = 0; st && i < BX_HOLD_EVENTS_MAX; i++) {
        bx_hold_event_t *ev = &st->events[i];
        if (!ev->locked)
            continue;
        if (committed)
            ev->version = ev->pending;
        else
            bx_hold_forget(ev); /* its view may show changes that were rolled back */
        ev->locked = 0;
    }
}

void bx_hold_batch_key(const char *payload, size_t len, char *out, size_t cap)
{
    json_t *doc = json_loadb(payload, len, 0, NULL);
    const char *id = bx_json_str(doc, "event_id");
    bx_strlcpy(out, id && bx_uuid_valid(id) ? id : "", cap);
    json_decref(doc);
}

/* ---- dispatch ---- */

bx_err_t bx_hold_handle(bx_worker_job_t *job)
{
    json_t *payload = bx_worker_job_payload(job);
    const char *op = bx_json_str(payload, "op"), *event_id = bx_json_str(payload, "event_id");
    if (!op || !bx_uuid_valid(event_id))
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE, "a hold job needs op and event_id");
    bx_hold_event_t *ev = bx_hold_event(job, event_id);
    if (!ev)
        return bx_worker_job_problem(job, BX_ENOTFOUND, "no such event");
    size_t mark = bx_hold_feed_mark(job);
    bx_err_t err;
    if (!strcmp(op, "hold"))
        err = bx_hold_take(job, ev, payload);
    else if (!strcmp(op, "release") || !strcmp(op, "expire"))
        err = bx_hold_release(job, ev, payload, !strcmp(op, "expire"));
    else if (!strcmp(op, "expire_many"))
        err = bx_hold_expire_many(job, ev, payload);
    else if (!strcmp(op, "add") || !strcmp(op, "remove"))
        err = bx_hold_cart(job, ev, payload, !strcmp(op, "add"));
    else
        err = bx_worker_job_problem(job, BX_EUNPROCESSABLE, "unknown hold operation");
    if (err != BX_OK) /* its writes roll back: so does what it told the feed */
        bx_hold_feed_undo(job, mark);
    return err;
}
