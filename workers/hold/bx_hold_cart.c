/* bx_hold_cart: the hold is the cart. Adds seats or GA units to an active hold, or removes
 * some, each all or nothing, under the same rules as a new hold (per-user limit, orphan-seat
 * rule, the tiers' per-order limits) and answers the hold with its lines and total
 * recomputed (seats keep the price they were held at; added ones take the tier's price
 * now). Only the owner's active hold changes; a hold with a booking pending payment does
 * not (409). What a removal gives back is offered to the waitlist in the same transaction,
 * as a release does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bx_hold_int.h"
#include "bx_json.h"
#include "bx_log.h"
#include "bx_offer.h"

#define S_SEAT_LIST_CAP (BX_HOLD_SEATS_MAX * (BX_UUID_LEN + 1) + 3) /* "{id,id,...}" */

/* What hold_cart read of the hold (every json_t owned). */
typedef struct {
    char hold[BX_UUID_LEN + 1];    /* hold id */
    char kind[16];                 /* seats, best_available or ga */
    char ga_tier[BX_UUID_LEN + 1]; /* a GA hold's tier, else "" */
    long quantity;                 /* seats or units held */
    json_t *seats;                 /* [{seat_id, label, tier_id, price_minor, ...}] */
    json_t *lines;                 /* the price lines */
    json_t *tiers;                 /* {tier_id: {name, kind, price_minor, min, max}} */
} s_cart_t;

static void s_cart_free(s_cart_t *c)
{
    json_decref(c->seats);
    json_decref(c->lines);
    json_decref(c->tiers);
}

static bx_err_t s_conflict(bx_worker_job_t *job, const char *detail)
{
    return bx_worker_job_problem(job, BX_ECONFLICT, detail);
}

/* Reads and locks the caller's hold; refuses (404, 409) anything but an active hold of the
 * caller without a pending booking. */
static bx_err_t s_cart_load(bx_worker_job_t *job, bx_hold_event_t *ev, const char *hold,
                            s_cart_t *c)
{
    char why[96];
    bx_err_t err;
    const char *p[] = {hold, ev->id, bx_worker_job_user_id(job)};
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "hold_cart", 3, p, &err);
    if (!res)
        return err;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return bx_worker_job_problem(job, BX_ENOTFOUND, "no such hold");
    }
    bx_strlcpy(c->hold, hold, sizeof c->hold);
    bx_strlcpy(c->kind, bx_pg_val(res, 0, 1), sizeof c->kind);
    bx_strlcpy(c->ga_tier, bx_pg_val(res, 0, 2) ? bx_pg_val(res, 0, 2) : "", sizeof c->ga_tier);
    c->quantity = strtol(bx_pg_val(res, 0, 3), NULL, 10);
    c->seats = json_loads(bx_pg_val(res, 0, 4), 0, NULL);
    c->lines = json_loads(bx_pg_val(res, 0, 5), 0, NULL);
    c->tiers = json_loads(bx_pg_val(res, 0, 8) ? bx_pg_val(res, 0, 8) : "{}", 0, NULL);
    snprintf(why, sizeof why, "the hold is %s: make a new one", bx_pg_val(res, 0, 0));
    err = BX_OK;
    if (strcmp(bx_pg_val(res, 0, 0), "active"))
        err = s_conflict(job, why);
    else if (!strcmp(bx_pg_val(res, 0, 6), "t"))
        err = s_conflict(job, "a booking is pending payment on this hold: it cannot change");
    else if (!strcmp(bx_pg_val(res, 0, 7), "t"))
        err = s_conflict(job, "the hold has expired");
    else if (!c->seats || !c->lines || !c->tiers)
        err = bx_worker_job_problem(job, BX_EINTERNAL, "the hold could not be read");
    PQclear(res);
    return err;
}

/* Tier t's per-order limit min or max ("min", "max"); 0 when unknown. */
static long s_tier_limit(const s_cart_t *c, const char *t, const char *which)
{
    return (long)json_integer_value(json_object_get(json_object_get(c->tiers, t), which));
}

/* 409 with the tier's name and limits. */
static bx_err_t s_per_order(bx_worker_job_t *job, const s_cart_t *c, const char *t)
{
    char why[200];
    snprintf(why, sizeof why, "tier %.100s sells %ld to %ld per order",
             bx_json_str(json_object_get(c->tiers, t), "name"), s_tier_limit(c, t, "min"),
             s_tier_limit(c, t, "max"));
    bx_worker_job_fail_ext(job, BX_ECONFLICT, why, json_pack("{s:s}", "tier_id", t));
    return BX_ECONFLICT;
}

/* The hold's seats per tier after adding (sign 1) or removing (sign -1) seats idx of view:
 * every tier the change touches within its per-order limits (or dropping to none). Tiers it
 * does not touch are left alone, even if a partner changed their limits since. */
static bx_err_t s_seat_limits(bx_worker_job_t *job, const s_cart_t *c, bx_hold_view_t *view,
                              const int *idx, int n, int sign)
{
    json_t *count = json_object(), *touched = json_object(), *v;
    const char *t;
    size_t i;
    bx_err_t err = count && touched ? BX_OK : BX_ENOMEM;
    json_array_foreach(c->seats, i, v)
    {
        t = bx_json_str(v, "tier_id");
        if (t)
            json_object_set_new(count, t,
                                json_integer(json_integer_value(json_object_get(count, t)) + 1));
    }
    for (int k = 0; k < n && !err; k++) {
        t = bx_hold_view_tier(view, idx[k]);
        json_object_set_new(count, t,
                            json_integer(json_integer_value(json_object_get(count, t)) + sign));
        json_object_set_new(touched, t, json_true());
    }
    json_object_foreach(touched, t, v)
    {
        long have = (long)json_integer_value(json_object_get(count, t));
        if (!err && have > 0 &&
            (have < s_tier_limit(c, t, "min") || have > s_tier_limit(c, t, "max")))
            err = s_per_order(job, c, t);
    }
    json_decref(count);
    json_decref(touched);
    return err;
}

/* ---- seats ---- */

static bx_err_t s_add_seats(bx_worker_job_t *job, bx_hold_event_t *ev, s_cart_t *c,
                            bx_hold_view_t *view, const int *idx, int n)
{
    char ids[S_SEAT_LIST_CAP], max[16];
    bx_err_t err;
    bx_hold_seat_list(view, idx, n, ids, sizeof ids);
    snprintf(max, sizeof max, "%d", ev->max_per_user);
    const char *p[] = {c->hold, ev->id, bx_worker_job_user_id(job), ids, max};
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "hold_add_seats", 5, p, &err);
    if (!res)
        return err;
    long have = strtol(bx_pg_val(res, 0, 0), NULL, 10);
    const char *doc = bx_pg_val(res, 0, 3);
    if (doc) {
        err = bx_hold_succeed_text(job, 200, doc);
        for (int k = 0; !err && k < n; k++) {
            bx_hold_view_set(view, idx[k], BX_SEAT_HELD);
            bx_hold_feed_seat(job, ev->id, bx_hold_view_id(view, idx[k]),
                              bx_hold_view_label(view, idx[k]), bx_hold_view_tier(view, idx[k]),
                              "held");
        }
    } else if (have + n > ev->max_per_user) {
        err = bx_hold_limit(job, ev, have);
    } else { /* the database saw what the view did not: reload it next time */
        BX_INFO("seat view of event %s was stale: reloading", ev->id);
        bx_hold_forget(ev);
        err = bx_hold_unavailable(job, "some of these seats are no longer available",
                                  json_loads(bx_pg_val(res, 0, 2), 0, NULL));
    }
    PQclear(res);
    return err;
}

static bx_err_t s_seats_in(bx_worker_job_t *job, bx_hold_event_t *ev, s_cart_t *c, json_t *ids)
{
    int idx[BX_HOLD_SEATS_MAX], n = 0, orphan;
    bx_err_t err;
    if (strcmp(ev->status, "on_sale"))
        return s_conflict(job, "the event is not on sale");
    bx_hold_view_t *view = bx_hold_view(job, ev, &err);
    if (!view)
        return err ? err : BX_EINTERNAL;
    if ((err = bx_hold_seat_idx(job, view, ids, idx, &n)) != BX_OK)
        return err;
    if (c->quantity + n > BX_HOLD_SEATS_MAX)
        return s_conflict(job, "a hold keeps at most 100 seats");
    if ((err = s_seat_limits(job, c, view, idx, n, 1)) != BX_OK)
        return err;
    if (ev->orphan_rule && bx_hold_view_strands(view, idx, n, &orphan))
        return bx_hold_orphan(job, view, orphan);
    return s_add_seats(job, ev, c, view, idx, n);
}

/* The view indices of ids, each a seat of this hold; refuses the others (409). */
static bx_err_t s_held_idx(bx_worker_job_t *job, const s_cart_t *c, bx_hold_view_t *view,
                           json_t *ids, int *idx, int *n)
{
    json_t *v, *w, *stray = json_array();
    size_t i, k;
    *n = 0;
    json_array_foreach(ids, i, v)
    {
        int mine = 0, s = bx_hold_view_find(view, json_string_value(v));
        json_array_foreach(c->seats, k, w) mine =
            mine || (s >= 0 && !strcasecmp(bx_json_str(w, "seat_id"), bx_hold_view_id(view, s)));
        for (int j = 0; mine && j < *n; j++)
            mine = idx[j] != s;
        if (mine)
            idx[(*n)++] = s;
        else
            json_array_append_new(
                stray, json_string(s >= 0 ? bx_hold_view_label(view, s) : json_string_value(v)));
    }
    if (!json_array_size(stray)) {
        json_decref(stray);
        return BX_OK;
    }
    bx_worker_job_fail_ext(job, BX_ECONFLICT, "some of these seats are not in this hold",
                           json_pack("{s:o}", "not_held", stray));
    return BX_ECONFLICT;
}

static bx_err_t s_remove_seats(bx_worker_job_t *job, bx_hold_event_t *ev, s_cart_t *c,
                               bx_hold_view_t *view, const int *idx, int n)
{
    char ids[S_SEAT_LIST_CAP];
    bx_err_t err;
    bx_hold_seat_list(view, idx, n, ids, sizeof ids);
    const char *p[] = {c->hold, ev->id, ids};
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "hold_remove_seats", 3, p, &err);
    if (!res)
        return err;
    json_t *seats = json_loads(bx_pg_val(res, 0, 0), 0, NULL);
    const char *doc = bx_pg_val(res, 0, 1);
    if (!doc || !seats) { /* the hold's seats and their rows disagree: should not happen */
        BX_WARN("hold %s: seats to remove were not held by it", c->hold);
        bx_hold_forget(ev);
        err = s_conflict(job, "some of these seats are no longer in this hold");
    } else {
        err = bx_offer_released(job, ev->id, seats, NULL);
        if (!err)
            err = bx_hold_succeed_text(job, 200, doc);
        if (!err) { /* last: a failed job must not have touched the view */
            bx_hold_view_release(ev, seats);
            bx_hold_feed_json(job, ev->id, seats, NULL);
        }
    }
    json_decref(seats);
    PQclear(res);
    return err;
}

static bx_err_t s_seats_out(bx_worker_job_t *job, bx_hold_event_t *ev, s_cart_t *c, json_t *ids)
{
    int idx[BX_HOLD_SEATS_MAX], n = 0, orphan;
    bx_err_t err;
    bx_hold_view_t *view = bx_hold_view(job, ev, &err);
    if (!view)
        return err ? err : BX_EINTERNAL;
    if ((err = s_held_idx(job, c, view, ids, idx, &n)) != BX_OK)
        return err;
    if (n >= c->quantity)
        return s_conflict(job, "that would remove every seat: release the hold instead");
    if ((err = s_seat_limits(job, c, view, idx, n, -1)) != BX_OK)
        return err;
    if (ev->orphan_rule && bx_hold_view_strands_free(view, idx, n, &orphan))
        return bx_hold_orphan(job, view, orphan);
    return s_remove_seats(job, ev, c, view, idx, n);
}

/* ---- general admission ---- */

/* The GA hold's lines after adding n units at the tier's price now (to the line of that
 * price, or a new one) or removing n (newest lines first). New array, or NULL. */
static json_t *s_ga_lines(const s_cart_t *c, long n, int adding)
{
    json_t *lines = json_deep_copy(c->lines), *tier = json_object_get(c->tiers, c->ga_tier), *v;
    json_int_t price = json_integer_value(json_object_get(tier, "price_minor"));
    size_t i;
    for (i = json_array_size(lines); lines && n > 0 && i-- > 0;) {
        v = json_array_get(lines, i);
        json_int_t q = json_integer_value(json_object_get(v, "quantity"));
        json_int_t unit = json_integer_value(json_object_get(v, "unit_price_minor"));
        json_int_t d = adding ? (unit == price ? n : 0) : (q < n ? q : n);
        if (!adding && d == q) {
            json_array_remove(lines, i);
        } else if (d) {
            json_object_set_new(v, "quantity", json_integer(q + (adding ? d : -d)));
            json_object_set_new(v, "subtotal_minor", json_integer(unit * (q + (adding ? d : -d))));
        }
        n -= d;
    }
    if (lines && adding && n > 0)
        json_array_append_new(lines,
                              json_pack("{s:s, s:s, s:I, s:I, s:I}", "tier_id", c->ga_tier, "name",
                                        bx_json_str(tier, "name"), "unit_price_minor", price,
                                        "quantity", (json_int_t)n, "subtotal_minor", price * n));
    return lines;
}

/* Runs hold_add_ga or hold_remove_ga with the new lines; answers the hold. */
static bx_err_t s_ga_change(bx_worker_job_t *job, bx_hold_event_t *ev, s_cart_t *c, long n,
                            int adding)
{
    char qty[16], max[16], why[96];
    bx_err_t err;
    json_t *lines = s_ga_lines(c, n, adding);
    char *text = lines ? bx_json_dump(lines) : NULL;
    json_decref(lines);
    if (!text)
        return BX_ENOMEM;
    snprintf(qty, sizeof qty, "%ld", n);
    snprintf(max, sizeof max, "%d", ev->max_per_user);
    const char *pa[] = {c->hold, ev->id, bx_worker_job_user_id(job), c->ga_tier, qty, max, text};
    const char *pr[] = {c->hold, ev->id, c->ga_tier, qty, text};
    PGresult *res = adding ? bx_pg_query(bx_worker_job_pg(job), "hold_add_ga", 7, pa, &err)
                           : bx_pg_query(bx_worker_job_pg(job), "hold_remove_ga", 5, pr, &err);
    free(text);
    if (!res)
        return err;
    int col = adding ? 2 : 0;
    const char *doc = bx_pg_val(res, 0, col);
    long have = adding ? strtol(bx_pg_val(res, 0, 0), NULL, 10) : 0;
    if (doc) {
        json_t *ga = json_pack("[{s:s, s:I}]", "tier_id", c->ga_tier, "quantity", (json_int_t)n);
        err = adding ? BX_OK : bx_offer_released(job, ev->id, NULL, ga);
        json_decref(ga);
        if (!err)
            err = bx_hold_succeed_text(job, 200, doc);
        if (!err)
            bx_hold_feed_tier(job, ev->id, json_loads(bx_pg_val(res, 0, col + 1), 0, NULL));
    } else if (adding && have + n > ev->max_per_user) {
        err = bx_hold_limit(job, ev, have);
    } else if (!adding) { /* the tier's held count and the hold disagree: should not happen */
        err = s_conflict(job, "these units are no longer held");
    } else {
        snprintf(why, sizeof why, "only %s left in this tier",
                 bx_pg_val(res, 0, 1) ? bx_pg_val(res, 0, 1) : "0");
        bx_worker_job_fail_ext(
            job, BX_ECONFLICT, why,
            json_pack(
                "{s:s, s:I}", "tier_id", c->ga_tier, "available",
                (json_int_t)strtol(bx_pg_val(res, 0, 1) ? bx_pg_val(res, 0, 1) : "0", NULL, 10)));
        err = BX_ECONFLICT;
    }
    PQclear(res);
    return err;
}

static bx_err_t s_ga(bx_worker_job_t *job, bx_hold_event_t *ev, s_cart_t *c, json_t *payload,
                     int adding)
{
    const char *tier = bx_json_str(payload, "tier_id");
    json_t *q = json_object_get(payload, "quantity");
    long n = (long)json_integer_value(q);
    if (!json_is_integer(q) || n < 1 || n > BX_HOLD_SEATS_MAX)
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE, "quantity must be 1 to 100");
    if (tier && strcasecmp(tier, c->ga_tier))
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE,
                                     "a general-admission hold stays one tier");
    if (adding && strcmp(ev->status, "on_sale"))
        return s_conflict(job, "the event is not on sale");
    long after = adding ? c->quantity + n : c->quantity - n;
    if (after < 1)
        return s_conflict(job, "that would remove every unit: release the hold instead");
    if (after < s_tier_limit(c, c->ga_tier, "min") || after > s_tier_limit(c, c->ga_tier, "max"))
        return s_per_order(job, c, c->ga_tier);
    return s_ga_change(job, ev, c, n, adding);
}

bx_err_t bx_hold_cart(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload, int adding)
{
    const char *hold = bx_json_str(payload, "hold_id");
    json_t *ids = json_object_get(payload, "seat_ids");
    s_cart_t c = {0};
    if (!bx_uuid_valid(hold) || !bx_uuid_valid(bx_worker_job_user_id(job)))
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE,
                                     "a cart change needs hold_id and its owner");
    bx_err_t err = s_cart_load(job, ev, hold, &c);
    int ga = !strcmp(c.kind, "ga");
    if (!err && ga != !ids)
        err = bx_worker_job_problem(job, BX_EUNPROCESSABLE,
                                    ga ? "a general-admission hold changes by tier_id and quantity"
                                       : "a seated hold changes by seats");
    else if (!err && !ga &&
             (!json_is_array(ids) || json_array_size(ids) < 1 ||
              json_array_size(ids) > BX_HOLD_SEATS_MAX))
        err = bx_worker_job_problem(job, BX_EUNPROCESSABLE, "seat_ids must list 1 to 100 seats");
    else if (!err)
        err = ga       ? s_ga(job, ev, &c, payload, adding)
              : adding ? s_seats_in(job, ev, &c, ids)
                       : s_seats_out(job, ev, &c, ids);
    if (!err)
        BX_INFO("hold %s: %s", hold, adding ? "added to" : "removed from");
    s_cart_free(&c);
    return err;
}
