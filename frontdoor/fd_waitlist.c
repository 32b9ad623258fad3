/* fd_waitlist: the customer's waitlist entry for a sold-out event or tier: join (one
 * live entry per user and event, in arrival order), read it (people ahead, the offer
 * when there is one) and leave. Offers are made by bx-worker-waitlist from released
 * inventory (docs/waitroom.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_invfeed.h"
#include "bx_json.h"
#include "bx_log.h"
#include "bx_util.h"
#include "fd_catalog.h"
#include "fd_wr.h"

const bx_jfield_t fd_wl_join_schema[] = {
    {.name = "tier_id", .type = BX_JT_STRING, .format = BX_FMT_UUID, .nullable = 1},
    {.name = "quantity", .type = BX_JT_INT, .min = 1, .max = 10},
    {0},
};

/* The event must exist and be on sale; answers otherwise. */
static int s_event(fd_req_t *req, char ev[37])
{
    fd_wr_room_t room;
    if (!fd_wr_event_param(req, ev))
        return 0;
    bx_err_t err = fd_wr_room_get(req, ev, 0, &room);
    if (err == BX_EUNAVAILABLE) {
        fd_reply_problem(req, err, "the event cannot be read; try again");
        return 0;
    }
    if (err || !fd_wr_on_sale(&room)) {
        fd_reply_problem(req, BX_ENOTFOUND, "no such event");
        return 0;
    }
    return 1;
}

/* Joining needs the event (or the tier) to have nothing left to hold. Answers otherwise. */
static int s_sold_out(fd_req_t *req, const char *ev, const char *tier)
{
    bx_err_t err;
    const char *p[] = {ev, tier};
    PGresult *res = bx_pg_query(fd_pg(req), "wl_available", 2, p, &err);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        fd_cat_fail(req, fd_pg(req), err ? err : BX_EINTERNAL, NULL);
        return 0;
    }
    long left = strtol(bx_pg_val(res, 0, 0), NULL, 10);
    int tier_ok = strcmp(bx_pg_val(res, 0, 1), "0") != 0;
    PQclear(res);
    if (!tier_ok) {
        fd_cat_invalid(req, "/tier_id", "is not a tier of this event");
        return 0;
    }
    if (left > 0) {
        fd_reply_problem(req, BX_ECONFLICT,
                         tier ? "this tier still has tickets: hold them instead of waiting"
                              : "this event still has tickets: hold them instead of waiting");
        return 0;
    }
    return 1;
}

/* The entry document from a wl_mine row. */
static json_t *s_entry_doc(const char *ev, const PGresult *res)
{
    char self[128];
    const char *state = bx_pg_val(res, 0, 3);
    int live = !strcmp(state, "waiting") || !strcmp(state, "offered");
    snprintf(self, sizeof self, "/api/v1/events/%s/waitlist", ev);
    json_t *attrs =
        json_pack("{s:s, s:s?, s:i, s:s, s:s}", "event_id", ev, "tier_id", bx_pg_val(res, 0, 1),
                  "quantity", (int)strtol(bx_pg_val(res, 0, 2), NULL, 10), "state", state,
                  "created_at", bx_pg_val(res, 0, 7));
    long ahead = strtol(bx_pg_val(res, 0, 8), NULL, 10);
    json_object_set_new(attrs, "people_ahead", live ? json_integer(ahead) : json_null());
    if (bx_pg_val(res, 0, 4) && !strcmp(state, "offered"))
        json_object_set_new(attrs, "offer",
                            json_pack("{s:s, s:i, s:s}", "hold_id", bx_pg_val(res, 0, 4),
                                      "quantity", (int)strtol(bx_pg_val(res, 0, 5), NULL, 10),
                                      "expires_at", bx_pg_val(res, 0, 6)));
    else
        json_object_set_new(attrs, "offer", json_null());
    return fd_document(fd_resource("waitlist_entry", bx_pg_val(res, 0, 0), attrs, self), NULL);
}

/* Answers the caller's entry with status, or 404 when there is none. */
static void s_reply_mine(fd_req_t *req, const char *ev, int status)
{
    bx_err_t err;
    const char *p[] = {ev, fd_who(req)->user_id};
    PGresult *res = bx_pg_query(fd_pg(req), "wl_mine", 2, p, &err);
    if (!res) {
        fd_cat_fail(req, fd_pg(req), err, NULL);
        return;
    }
    if (PQntuples(res) != 1)
        fd_reply_problem(req, BX_ENOTFOUND, "you are not on this event's waitlist");
    else
        fd_reply_json(req, status, s_entry_doc(ev, res));
    PQclear(res);
}

void fd_wl_join(fd_req_t *req)
{
    char ev[37], id[37], qty[8];
    bx_err_t err;
    json_t *body = fd_body(req);
    const char *tier = bx_json_str(body, "tier_id");
    if (!s_event(req, ev) || !s_sold_out(req, ev, tier))
        return;
    json_t *q = json_object_get(body, "quantity");
    snprintf(qty, sizeof qty, "%d", q ? (int)json_integer_value(q) : 1);
    bx_uuid_v7(id);
    const char *p[] = {id, ev, tier, fd_who(req)->user_id, qty};
    PGresult *res = bx_pg_query(fd_pg(req), "wl_join", 5, p, &err);
    if (!res) {
        fd_cat_fail(req, fd_pg(req), err, NULL);
        return;
    }
    int created = PQntuples(res) == 1;
    PQclear(res);
    if (created)
        fd_audit(req, "waitlist.join", "event", ev, json_pack("{s:s}", "entry_id", id));
    s_reply_mine(req, ev, created ? 201 : 200);
}

void fd_wl_get(fd_req_t *req)
{
    char ev[37];
    if (s_event(req, ev))
        s_reply_mine(req, ev, 200);
}

/* Ends the offer hold of an entry that is left (its owner is the caller) and queues what
 * it held for the next people (outbox, in the caller's transaction). *released receives
 * the released seats and GA lines ({"seats": [...], "ga": [...]}, new) or stays NULL. */
static bx_err_t s_release_offer(fd_req_t *req, const char *ev, const char *hold, json_t **released)
{
    bx_err_t err;
    const char *p[] = {hold, ev, "released", fd_who(req)->user_id, "f"};
    PGresult *res = bx_pg_query(fd_pg(req), "hold_release", 5, p, &err);
    if (!res)
        return err;
    json_t *seats = json_loads(bx_pg_val(res, 0, 1), 0, NULL);
    json_t *ga = json_loads(bx_pg_val(res, 0, 2), 0, NULL);
    PQclear(res);
    if (json_array_size(seats) + json_array_size(ga) == 0) {
        json_decref(seats);
        json_decref(ga);
        return BX_OK;
    }
    *released = json_pack("{s:s, s:o, s:o}", "event_id", ev, "seats", seats, "ga", ga);
    char *text = *released ? bx_json_dump(*released) : NULL;
    const char *o[] = {ev, text};
    err = text ? bx_pg_run(fd_pg(req), "wl_outbox_released", 2, o) : BX_ENOMEM;
    free(text);
    return err;
}

/* Cancels the caller's entry (and its offer) in one transaction. Returns the number of
 * entries cancelled, or -1 after answering. */
static int s_cancel(fd_req_t *req, const char *ev, json_t **released)
{
    char arr[48];
    bx_err_t err;
    bx_pg_t *pg = fd_pg(req);
    snprintf(arr, sizeof arr, "{%s}", ev);
    const char *pl[] = {arr}, *pc[] = {ev, fd_who(req)->user_id};
    PGresult *res = NULL;
    /* inventory writers lock the event's inventory row first (docs/holds.md) */
    if (!(err = bx_pg_begin(pg)) && !(err = bx_pg_run(pg, "hold_lock_events", 1, pl)))
        res = bx_pg_query(pg, "wl_cancel", 2, pc, &err);
    int n = res ? PQntuples(res) : 0;
    const char *hold = n ? bx_pg_val(res, 0, 1) : NULL;
    if (res && hold)
        err = s_release_offer(req, ev, hold, released);
    PQclear(res);
    if (res && !err)
        err = bx_pg_commit(pg);
    if (!res || err) {
        json_decref(*released);
        *released = NULL;
        fd_cat_fail(req, pg, err ? err : BX_EINTERNAL, NULL);
        return -1;
    }
    return n;
}

/* Tells the live feed what the released offer gave back: the seats' new states and the GA
 * tiers' counts as committed. */
static void s_feed(fd_req_t *req, const char *ev, json_t *released)
{
    char tiers[400];
    size_t len = bx_strlcpy(tiers, "{", sizeof tiers), i;
    json_t *v, *counts = NULL;
    bx_err_t err;
    json_array_foreach(json_object_get(released, "ga"), i, v)
    {
        const char *t = bx_json_str(v, "tier_id");
        if (t && bx_uuid_valid(t) && len + 40 < sizeof tiers)
            len += (size_t)snprintf(tiers + len, sizeof tiers - len, "%s%s", len > 1 ? "," : "", t);
    }
    bx_strlcpy(tiers + len, "}", sizeof tiers - len);
    const char *p[] = {ev, tiers};
    PGresult *res = bx_pg_query(fd_pg(req), "wl_ga_counts", 2, p, &err);
    if (res && PQntuples(res) == 1)
        counts = json_loads(bx_pg_val(res, 0, 0), 0, NULL);
    PQclear(res);
    json_t *change =
        json_pack("{s:s, s:O, s:o}", "cause", "waitlist", "seats",
                  json_object_get(released, "seats"), "tiers", counts ? counts : json_array());
    bx_invfeed_publish(fd_redis(req), ev, change, NULL);
    json_decref(change);
}

void fd_wl_leave(fd_req_t *req)
{
    char ev[37];
    json_t *released = NULL;
    if (!s_event(req, ev))
        return;
    int n = s_cancel(req, ev, &released);
    if (n < 0)
        return;
    if (n == 0) {
        fd_reply_problem(req, BX_ENOTFOUND, "you are not on this event's waitlist");
        return;
    }
    if (released)
        s_feed(req, ev, released);
    json_decref(released);
    fd_audit(req, "waitlist.leave", "event", ev, NULL);
    fd_reply_empty(req, 204);
}
