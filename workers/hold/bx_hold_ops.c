/* bx_hold_ops: what a hold job does: take explicit seats, the best available seats or a GA
 * quantity (all or nothing, within the per-user limit and, when the event asks for it, the
 * orphan-seat rule), and release a hold (the owner's DELETE or its expiry), offering what
 * came back to the waitlist through the outbox in the same transaction. A hold under a
 * booking pending payment is not released by its owner (409); its expiry expires the
 * booking too (bx_booking_hold_ended, in hold_release). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_hold_int.h"
#include "bx_offer.h"
#include "bx_json.h"
#include "bx_log.h"

#define S_SEAT_LIST_CAP (BX_HOLD_SEATS_MAX * (BX_UUID_LEN + 1) + 3) /* "{id,id,...}" */

/* ---- helpers ---- */

/* "{a,b}" of the ids of seats idx[0..n) of view (validated UUIDs: no quoting needed). */
void bx_hold_seat_list(const bx_hold_view_t *view, const int *idx, int n, char *out, size_t cap)
{
    size_t len = bx_strlcpy(out, "{", cap);
    for (int k = 0; k < n && len + 40 < cap; k++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", k ? "," : "",
                                bx_hold_view_id(view, idx[k]));
    bx_strlcpy(out + len, "}", cap - len);
}

/* Succeeds with status and the JSON document text built by the database. */
bx_err_t bx_hold_succeed_text(bx_worker_job_t *job, int status, const char *text)
{
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    if (!doc)
        return bx_worker_job_problem(job, BX_EINTERNAL, "the hold document could not be built");
    bx_worker_job_succeed(job, status, doc);
    return BX_OK;
}

bx_err_t bx_hold_limit(bx_worker_job_t *job, const bx_hold_event_t *ev, long have)
{
    char why[160];
    snprintf(why, sizeof why,
             "at most %d tickets per customer for this event: you already hold or bought %ld",
             ev->max_per_user, have);
    bx_worker_job_fail_ext(
        job, BX_ECONFLICT, why,
        json_pack("{s:i, s:I}", "limit", ev->max_per_user, "have", (json_int_t)have));
    return BX_ECONFLICT;
}

bx_err_t bx_hold_unavailable(bx_worker_job_t *job, const char *detail, json_t *labels)
{
    bx_worker_job_fail_ext(job, BX_ECONFLICT, detail, json_pack("{s:o}", "unavailable", labels));
    return BX_ECONFLICT;
}

/* ---- seats ---- */

/* Takes seats idx (available in the view) in one conditional statement; all or nothing. */
static bx_err_t s_take_seats(bx_worker_job_t *job, bx_hold_event_t *ev, bx_hold_view_t *view,
                             const char *kind, const int *idx, int n)
{
    char ids[S_SEAT_LIST_CAP], ttl[16], max[16];
    bx_err_t err;
    bx_hold_seat_list(view, idx, n, ids, sizeof ids);
    snprintf(ttl, sizeof ttl, "%d", ev->ttl_s);
    snprintf(max, sizeof max, "%d", ev->max_per_user);
    const char *p[] = {
        bx_worker_job_id(job), ev->id, bx_worker_job_user_id(job), ids, kind, ttl, max};
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "hold_take_seats", 7, p, &err);
    if (!res)
        return err;
    long have = strtol(bx_pg_val(res, 0, 0), NULL, 10);
    const char *doc = bx_pg_val(res, 0, 3);
    if (doc) {
        for (int k = 0; k < n; k++) {
            bx_hold_view_set(view, idx[k], BX_SEAT_HELD);
            bx_hold_feed_seat(job, ev->id, bx_hold_view_id(view, idx[k]),
                              bx_hold_view_label(view, idx[k]), bx_hold_view_tier(view, idx[k]),
                              "held");
        }
        err = bx_hold_succeed_text(job, 201, doc);
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

/* Seat indices of the payload's seat_ids; refuses unknown, repeated or taken seats. */
bx_err_t bx_hold_seat_idx(bx_worker_job_t *job, bx_hold_view_t *view, json_t *ids, int *idx, int *n)
{
    json_t *v, *taken = json_array();
    size_t i;
    *n = 0;
    json_array_foreach(ids, i, v)
    {
        int s = bx_hold_view_find(view, json_string_value(v));
        for (int k = 0; s >= 0 && k < *n; k++)
            if (idx[k] == s)
                s = -2;
        if (s == -2) {
            json_decref(taken);
            return bx_worker_job_problem(job, BX_EUNPROCESSABLE, "a seat is listed twice");
        }
        if (s < 0)
            json_array_append(taken, v);
        else if (bx_hold_view_state(view, s) != BX_SEAT_AVAILABLE)
            json_array_append_new(taken, json_string(bx_hold_view_label(view, s)));
        else
            idx[(*n)++] = s;
    }
    if (json_array_size(taken))
        return bx_hold_unavailable(job, "some of these seats are not available", taken);
    json_decref(taken);
    return BX_OK;
}

bx_err_t bx_hold_orphan(bx_worker_job_t *job, bx_hold_view_t *view, int orphan)
{
    char why[160];
    snprintf(why, sizeof why,
             "this choice would leave seat %.64s alone between taken seats or at the row's end",
             bx_hold_view_label(view, orphan));
    bx_worker_job_fail_ext(job, BX_ECONFLICT, why,
                           json_pack("{s:[s]}", "orphaned", bx_hold_view_label(view, orphan)));
    return BX_ECONFLICT;
}

static bx_err_t s_explicit(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload)
{
    json_t *ids = json_object_get(payload, "seat_ids");
    int idx[BX_HOLD_SEATS_MAX], n = 0, orphan;
    bx_err_t err;
    if (!json_is_array(ids) || json_array_size(ids) < 1 || json_array_size(ids) > BX_HOLD_SEATS_MAX)
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE, "seat_ids must list 1 to 100 seats");
    bx_hold_view_t *view = bx_hold_view(job, ev, &err);
    if (!view)
        return err ? err : BX_EINTERNAL;
    if ((err = bx_hold_seat_idx(job, view, ids, idx, &n)) != BX_OK)
        return err;
    if (ev->orphan_rule && bx_hold_view_strands(view, idx, n, &orphan))
        return bx_hold_orphan(job, view, orphan);
    return s_take_seats(job, ev, view, "seats", idx, n);
}

static bx_err_t s_best(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload)
{
    const char *tier = bx_json_str(payload, "tier_id");
    json_t *q = json_object_get(payload, "quantity"),
           *together = json_object_get(payload, "together");
    int idx[BX_HOLD_SEATS_MAX];
    bx_err_t err;
    json_int_t n = json_integer_value(q);
    if (!bx_uuid_valid(tier) || !json_is_integer(q) || n < 1 || n > BX_HOLD_SEATS_MAX)
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE,
                                     "best available needs tier_id and a quantity of 1 to 100");
    bx_hold_view_t *view = bx_hold_view(job, ev, &err);
    if (!view)
        return err ? err : BX_EINTERNAL;
    int side_by_side = !together || json_is_true(together);
    if (!bx_hold_view_best(view, tier, (int)n, side_by_side, ev->orphan_rule, idx)) {
        bx_worker_job_fail_ext(job, BX_ECONFLICT,
                               side_by_side ? "not enough seats side by side in this tier"
                                            : "not enough seats available in this tier",
                               json_pack("{s:s}", "tier_id", tier));
        return BX_ECONFLICT;
    }
    return s_take_seats(job, ev, view, "best_available", idx, (int)n);
}

/* ---- general admission ---- */

static bx_err_t s_ga(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload)
{
    const char *tier = bx_json_str(payload, "tier_id");
    json_t *q = json_object_get(payload, "quantity");
    char qty[16], ttl[16], max[16], why[128];
    bx_err_t err;
    if (!bx_uuid_valid(tier) || !json_is_integer(q) || json_integer_value(q) < 1 ||
        json_integer_value(q) > BX_HOLD_SEATS_MAX)
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE,
                                     "a GA hold needs tier_id and a quantity of 1 to 100");
    long n = (long)json_integer_value(q);
    snprintf(qty, sizeof qty, "%ld", n);
    snprintf(ttl, sizeof ttl, "%d", ev->ttl_s);
    snprintf(max, sizeof max, "%d", ev->max_per_user);
    const char *p[] = {
        bx_worker_job_id(job), ev->id, bx_worker_job_user_id(job), tier, qty, ttl, max};
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "hold_take_ga", 7, p, &err);
    if (!res)
        return err;
    long have = strtol(bx_pg_val(res, 0, 0), NULL, 10);
    const char *left = bx_pg_val(res, 0, 1), *doc = bx_pg_val(res, 0, 2);
    if (doc) {
        err = bx_hold_succeed_text(job, 201, doc);
        bx_hold_feed_tier(job, ev->id, json_loads(bx_pg_val(res, 0, 3), 0, NULL));
    } else if (have + n > ev->max_per_user) {
        err = bx_hold_limit(job, ev, have);
    } else if (!left) {
        err = bx_worker_job_problem(job, BX_EUNPROCESSABLE, "no such general-admission tier");
    } else {
        snprintf(why, sizeof why, "only %s left in this tier", left);
        bx_worker_job_fail_ext(job, BX_ECONFLICT, why,
                               json_pack("{s:s, s:I}", "tier_id", tier, "available",
                                         (json_int_t)strtol(left, NULL, 10)));
        err = BX_ECONFLICT;
    }
    PQclear(res);
    return err;
}

/* Stores the waiting-room admission the frontdoor accepted (payload "admission": {jti,
 * exp}) with the new hold, for the booking that completes it to spend. */
static bx_err_t s_admission(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload)
{
    json_t *adm = json_object_get(payload, "admission");
    const char *jti = bx_json_str(adm, "jti");
    json_t *exp = json_object_get(adm, "exp");
    char e[24];
    if (!jti || !*jti || strlen(jti) > 64 || !json_is_integer(exp))
        return BX_OK;
    snprintf(e, sizeof e, "%lld", (long long)json_integer_value(exp));
    const char *p[] = {bx_worker_job_id(job), jti, e};
    bx_err_t err = bx_pg_run(bx_worker_job_pg(job), "hold_admission", 3, p);
    if (err != BX_OK) /* the hold rolls back: the view saw it taken */
        bx_hold_forget(ev);
    return err;
}

static bx_err_t s_take_kind(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload,
                            const char *kind)
{
    if (kind && !strcmp(kind, "seats"))
        return s_explicit(job, ev, payload);
    if (kind && !strcmp(kind, "best_available"))
        return s_best(job, ev, payload);
    if (kind && !strcmp(kind, "ga"))
        return s_ga(job, ev, payload);
    return bx_worker_job_problem(job, BX_EUNPROCESSABLE, "unknown hold kind");
}

bx_err_t bx_hold_take(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload)
{
    const char *kind = bx_json_str(payload, "kind");
    char why[96];
    if (!bx_uuid_valid(bx_worker_job_user_id(job)))
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE, "a hold belongs to a customer");
    if (strcmp(ev->status, "on_sale")) {
        snprintf(why, sizeof why, "the event is not on sale (it is %s)", ev->status);
        return bx_worker_job_problem(job, BX_ECONFLICT, why);
    }
    bx_err_t err = s_take_kind(job, ev, payload, kind);
    return err == BX_OK ? s_admission(job, ev, payload) : err;
}

/* ---- release ---- */

/* The released seats' new states into the view, if it is loaded. */
void bx_hold_view_release(bx_hold_event_t *ev, json_t *seats)
{
    json_t *v;
    size_t i;
    json_array_foreach(seats, i, v)
    {
        int s = ev->view ? bx_hold_view_find(ev->view, bx_json_str(v, "seat_id")) : -1;
        int st = bx_hold_view_state_of(bx_json_str(v, "state"));
        if (s >= 0 && st >= 0)
            bx_hold_view_set(ev->view, s, (bx_seat_state_t)st);
    }
}

/* The hold document after the release (200), or 404 when the caller cannot see it. */
static bx_err_t s_release_answer(bx_worker_job_t *job, const bx_hold_event_t *ev,
                                 const char *hold_id, const char *owner)
{
    bx_err_t err;
    const char *p[] = {hold_id, ev->id, owner};
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "hold_doc", 3, p, &err);
    if (res && PQntuples(res) == 1)
        err = bx_hold_succeed_text(job, 200, bx_pg_val(res, 0, 0));
    else if (res)
        err = bx_worker_job_problem(job, BX_ENOTFOUND, "no such hold");
    PQclear(res);
    return err;
}

/* Ends one hold (released by owner, or expired when owner is "") in the job's transaction:
 * seats and GA back, offered to the waitlist. *ended says whether it was still active;
 * *seats and *ga (new references, for the view and the feed once the whole job succeeded)
 * what came back. A refusal sets the job's problem. */
static bx_err_t s_end_one(bx_worker_job_t *job, bx_hold_event_t *ev, const char *hold,
                          const char *owner, int expiry, int *ended, json_t **seats, json_t **ga)
{
    bx_err_t err;
    const char *p[] = {hold, ev->id, expiry ? "expired" : "released", owner,
                       expiry ? "true" : "false"};
    *seats = *ga = NULL;
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "hold_release", 5, p, &err);
    if (!res)
        return err;
    *ended = !strcmp(bx_pg_val(res, 0, 0), "1");
    int booked = !strcmp(bx_pg_val(res, 0, 4) ? bx_pg_val(res, 0, 4) : "", "t");
    const char *booking = bx_pg_val(res, 0, 3) ? bx_pg_val(res, 0, 3) : "";
    *seats = json_loads(bx_pg_val(res, 0, 1), 0, NULL);
    *ga = json_loads(bx_pg_val(res, 0, 2), 0, NULL);
    err = *seats && *ga ? BX_OK : BX_EINTERNAL;
    if (!err && !*ended && !expiry && booked)
        err = bx_worker_job_problem(job, BX_ECONFLICT,
                                    "a booking is pending payment on this hold: cancel the "
                                    "booking instead");
    if (!err && *ended)
        err = bx_offer_released(job, ev->id, *seats, *ga);
    if (!err && *ended)
        BX_INFO("hold %s %s%s%s", hold, expiry ? "expired" : "released",
                booking[0] ? ", and with it booking " : "", booking);
    PQclear(res);
    return err;
}

/* What came back, into the view and the feed: last, once the job can no longer fail (a
 * failed job must not have touched the view). */
static void s_ended(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *seats, json_t *ga)
{
    bx_hold_view_release(ev, seats);
    bx_hold_feed_json(job, ev->id, seats, ga);
}

bx_err_t bx_hold_release(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload, int expiry)
{
    const char *hold = bx_json_str(payload, "hold_id");
    const char *owner = expiry ? "" : bx_worker_job_user_id(job);
    json_t *seats = NULL, *ga = NULL;
    int ended = 0;
    if (!bx_uuid_valid(hold) || (!expiry && !bx_uuid_valid(owner)))
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE,
                                     "a release needs hold_id and its owner");
    bx_err_t err = s_end_one(job, ev, hold, owner, expiry, &ended, &seats, &ga);
    if (!err)
        err = s_release_answer(job, ev, hold, owner);
    if (!err && ended)
        s_ended(job, ev, seats, ga);
    json_decref(seats);
    json_decref(ga);
    return err;
}

bx_err_t bx_hold_expire_many(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload)
{
    json_t *ids = json_object_get(payload, "hold_ids"), *id;
    json_t *all_seats = json_array(), *all_ga = json_array();
    size_t i;
    long expired = 0;
    bx_err_t err = all_seats && all_ga ? BX_OK : BX_ENOMEM;
    if (!err && (!json_is_array(ids) || json_array_size(ids) > BX_HOLD_EXPIRE_MAX))
        err = bx_worker_job_problem(job, BX_EUNPROCESSABLE, "hold_ids must be a short array");
    json_array_foreach(ids, i, id)
    {
        json_t *seats = NULL, *ga = NULL;
        int ended = 0;
        if (!err && !bx_uuid_valid(json_string_value(id)))
            err = bx_worker_job_problem(job, BX_EUNPROCESSABLE, "hold_ids holds a bad id");
        if (!err)
            err = s_end_one(job, ev, json_string_value(id), "", 1, &ended, &seats, &ga);
        if (!err && ended) {
            json_array_extend(all_seats, seats);
            json_array_extend(all_ga, ga);
            expired++;
        }
        json_decref(seats);
        json_decref(ga);
    }
    if (!err) {
        bx_worker_job_succeed(
            job, 200, json_pack("{s:s, s:I}", "event_id", ev->id, "expired", (json_int_t)expired));
        s_ended(job, ev, all_seats, all_ga);
    }
    json_decref(all_seats);
    json_decref(all_ga);
    return err;
}
