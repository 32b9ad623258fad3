/* co_cancel: cancelling bookings (docs/booking.md "Cancellation policy"). A booking
 * pending payment is abandoned (its hold ends, seats back, promo use given back); a
 * confirmed one is cancelled under the event's policy (cancellable, before the deadline;
 * partners and admins bypass the deadline) with a refund job for the payment pool:
 * customer cancel: what was paid for the tickets less cancel_fee_bp of it (the service
 * fee and its tax are kept); partner, admin or a cancelled event: everything paid. Seats
 * that come back are offered to the waitlist, and the customer and the partner hear of
 * it. Also the job dispatcher (co_handle). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_dlv.h"
#include "bx_json.h"
#include "bx_log.h"
#include "bx_offer.h"
#include "bx_price.h"
#include "bx_util.h"
#include "bx_wire.h"
#include "co.h"

/* What co_booking read. */
typedef struct {
    char id[37], status[16], user[37], event[37], org[37], hold[37];
    int64_t paid, fee, fee_tax; /* paid; service fee and its exclusive taxes */
    int cancellable;            /* the event allows customer cancels */
    int before_deadline;        /* now < starts_at - cancel_deadline_h */
    int64_t cancel_fee_bp;      /* kept of the ticket part on a customer cancel */
    char event_status[16];
    char event_name[256];
    char starts_at[40];
    int deadline_h;
} s_booking_t;

static int64_t s_i64(const char *v)
{
    return v ? strtoll(v, NULL, 10) : 0;
}

/* Locks the booking's event and reads the booking. BX_ENOTFOUND when there is none. */
static bx_err_t s_load(bx_pg_t *pg, const char *id, s_booking_t *b)
{
    bx_err_t err = BX_OK;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, "co_booking_lock", 1, p, &err);
    int found = res && PQntuples(res) == 1 && bx_pg_val(res, 0, 0);
    PQclear(res);
    if (!found)
        return res ? BX_ENOTFOUND : err;
    if (!(res = bx_pg_query(pg, "co_booking", 1, p, &err)))
        return err;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return BX_ENOTFOUND;
    }
    bx_strlcpy(b->id, id, sizeof b->id);
    bx_strlcpy(b->status, bx_pg_val(res, 0, 0), sizeof b->status);
    bx_strlcpy(b->user, bx_pg_val(res, 0, 1), sizeof b->user);
    bx_strlcpy(b->event, bx_pg_val(res, 0, 2), sizeof b->event);
    bx_strlcpy(b->org, bx_pg_val(res, 0, 3), sizeof b->org);
    bx_strlcpy(b->hold, bx_pg_val(res, 0, 4), sizeof b->hold);
    b->paid = s_i64(bx_pg_val(res, 0, 5));
    b->fee = s_i64(bx_pg_val(res, 0, 6));
    b->fee_tax = s_i64(bx_pg_val(res, 0, 7));
    b->cancellable = !strcmp(bx_pg_val(res, 0, 8), "t");
    b->before_deadline = !strcmp(bx_pg_val(res, 0, 9), "t");
    b->cancel_fee_bp = s_i64(bx_pg_val(res, 0, 10));
    bx_strlcpy(b->event_status, bx_pg_val(res, 0, 11), sizeof b->event_status);
    bx_strlcpy(b->event_name, bx_pg_val(res, 0, 12), sizeof b->event_name);
    bx_strlcpy(b->starts_at, bx_pg_val(res, 0, 13), sizeof b->starts_at);
    b->deadline_h = (int)s_i64(bx_pg_val(res, 0, 14));
    PQclear(res);
    return BX_OK;
}

/* 1 when the job's user may cancel b as `by` says. */
static bx_err_t s_allowed(bx_worker_job_t *job, const s_booking_t *b, const char *by, int *ok)
{
    bx_err_t err = BX_OK;
    const char *user = bx_worker_job_user_id(job);
    PGresult *res = NULL;
    *ok = 0;
    if (!strcmp(by, "customer")) {
        *ok = !strcmp(b->user, user);
        return BX_OK;
    }
    if (!strcmp(by, "partner")) {
        const char *p[] = {b->org, user};
        res = bx_pg_query(bx_worker_job_pg(job), "co_org_member", 2, p, &err);
        *ok = res && PQntuples(res) == 1;
    } else if (!strcmp(by, "admin")) {
        const char *p[] = {user};
        res = bx_pg_query(bx_worker_job_pg(job), "co_user_role", 1, p, &err);
        *ok = res && PQntuples(res) == 1 && !strcmp(bx_pg_val(res, 0, 0), "admin");
    }
    PQclear(res);
    return err;
}

/* The customer's refund: the ticket part of what was paid less the cancellation fee. */
static int64_t s_customer_refund(const s_booking_t *b)
{
    int64_t ticket = b->paid - b->fee - b->fee_tax;
    if (ticket <= 0)
        return 0;
    return ticket - bx_price_div_half_up(ticket * b->cancel_fee_bp, 10000);
}

/* Offers what the hold gave back to the waitlist (bx_offer_released: one
 * inventory.released job per tier of seats now available, one per GA tier). */
static bx_err_t s_offer(bx_worker_job_t *job, const s_booking_t *b)
{
    bx_err_t err = BX_OK;
    const char *p[] = {b->hold};
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "co_released", 1, p, &err);
    if (!res)
        return err;
    json_t *seats = json_loads(bx_pg_val(res, 0, 0), 0, NULL);
    json_t *ga = json_loads(bx_pg_val(res, 0, 1), 0, NULL);
    PQclear(res);
    err = seats && ga ? bx_offer_released(job, b->event, seats, ga) : BX_ENOMEM;
    json_decref(seats);
    json_decref(ga);
    return err;
}

/* Tells the customer and the partner. */
static bx_err_t s_tell(bx_worker_job_t *job, const s_booking_t *b)
{
    char key[64];
    bx_pg_t *pg = bx_worker_job_pg(job);
    json_t *data = json_pack("{s:s, s:{s:s, s:s, s:s}}", "booking_id", b->id, "event", "id",
                             b->event, "name", b->event_name, "starts_at", b->starts_at);
    if (!data)
        return BX_ENOMEM;
    snprintf(key, sizeof key, "booking:%s", b->id);
    bx_err_t err = bx_dlv_notify_user(pg, "booking.cancelled", b->user, data, key,
                                      bx_worker_job_id(job), NULL);
    if (!err)
        err = bx_dlv_partner_event(pg, "booking.cancelled", b->org, b->event, data, key,
                                   bx_worker_job_id(job), NULL);
    json_decref(data);
    return err;
}

/* Asks the payment pool to refund amount of b. */
static bx_err_t s_refund(bx_worker_job_t *job, const s_booking_t *b, int64_t amount,
                         const char *reason)
{
    if (amount <= 0)
        return BX_OK;
    return bx_worker_outbox(job, BX_SVC_PAYMENT, "booking.refund", b->id,
                            json_pack("{s:s, s:s, s:I, s:s}", "op", "refund", "booking_id", b->id,
                                      "amount_minor", (json_int_t)amount, "reason", reason));
}

/* Runs the state-machine function name on b; *acted is 1 when it changed the booking. */
static bx_err_t s_end(bx_worker_job_t *job, const char *name, const s_booking_t *b,
                      const char *reason, int *acted)
{
    bx_err_t err = BX_OK;
    const char *p[] = {b->id, reason};
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), name, 2, p, &err);
    if (!res)
        return err;
    *acted = !strcmp(bx_pg_val(res, 0, 0), "cancelled");
    PQclear(res);
    return BX_OK;
}

/* A confirmed booking may be cancelled by `by` now. Sets the problem otherwise. */
static bx_err_t s_policy(bx_worker_job_t *job, const s_booking_t *b, const char *by)
{
    char why[160];
    if (strcmp(by, "customer"))
        return BX_OK;
    if (!b->cancellable)
        return bx_worker_job_problem(job, BX_ECONFLICT,
                                     "this event's bookings cannot be cancelled");
    if (!b->before_deadline) {
        snprintf(why, sizeof why, "cancellations close %d hours before the event starts (%s)",
                 b->deadline_h, b->starts_at);
        return bx_worker_job_problem(job, BX_ECONFLICT, why);
    }
    return BX_OK;
}

/* Cancels b (any state) as `by`; *refund receives the amount sent to the payment pool. */
static bx_err_t s_cancel_one(bx_worker_job_t *job, const s_booking_t *b, const char *by,
                             const char *reason, int full, int64_t *refund)
{
    int acted = 0;
    bx_err_t err = BX_OK;
    *refund = 0;
    if (!strcmp(b->status, "pending_payment")) {
        err = s_end(job, "co_abandon", b, reason, &acted);
    } else if (!strcmp(b->status, "confirmed")) {
        if (!(err = s_policy(job, b, by)) && !(err = s_end(job, "co_cancel", b, reason, &acted)) &&
            acted) {
            *refund = full || strcmp(by, "customer") ? b->paid : s_customer_refund(b);
            err = s_refund(job, b, *refund, reason);
        }
    }
    if (!err && acted && strcmp(b->event_status, "cancelled"))
        err = s_offer(job, b);
    if (!err && acted)
        err = s_tell(job, b);
    return err;
}

/* Answers the booking document. */
static bx_err_t s_answer(bx_worker_job_t *job, const char *id)
{
    bx_err_t err = BX_OK;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "co_doc", 1, p, &err);
    return res ? co_succeed_doc(job, 200, res) : err;
}

bx_err_t co_cancel(bx_worker_job_t *job, json_t *payload)
{
    const char *id = bx_json_str(payload, "booking_id"), *by = bx_json_str(payload, "by");
    const char *reason = bx_json_str(payload, "reason");
    s_booking_t b;
    int ok = 0;
    int64_t refund = 0;
    char why[96];
    if (!id || !bx_uuid_valid(id))
        return bx_worker_job_problem(job, BX_EINVAL, "booking_id must be a UUID");
    by = by ? by : "customer";
    bx_err_t err = s_load(bx_worker_job_pg(job), id, &b);
    if (!err)
        err = s_allowed(job, &b, by, &ok);
    if (err == BX_ENOTFOUND || (!err && !ok))
        return bx_worker_job_problem(job, BX_ENOTFOUND, "no such booking");
    if (err)
        return err;
    if (!strcmp(b.status, "failed") || !strcmp(b.status, "expired")) {
        snprintf(why, sizeof why, "the booking is %s: there is nothing to cancel", b.status);
        return bx_worker_job_problem(job, BX_ECONFLICT, why);
    }
    if (!reason)
        reason =
            !strcmp(by, "customer") ? "cancelled by the customer" : "cancelled by the organizer";
    if ((err = s_cancel_one(job, &b, by, reason, 0, &refund)))
        return err;
    if (refund > 0)
        BX_INFO("booking %s cancelled by %s, refund %lld", id, by, (long long)refund);
    return s_answer(job, id);
}

bx_err_t co_cancel_event(bx_worker_job_t *job, json_t *payload)
{
    const char *event = bx_json_str(payload, "event_id");
    bx_err_t err = BX_OK;
    long cancelled = 0, refunds = 0;
    char page[24];
    long size = bx_config_int("cancel_event_page");
    if (!event || !bx_uuid_valid(event))
        return bx_worker_job_problem(job, BX_EINVAL, "event_id must be a UUID");
    snprintf(page, sizeof page, "%ld", size);
    const char *p[] = {event, page};
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "co_event_bookings", 2, p, &err);
    if (!res)
        return err;
    int n = PQntuples(res);
    for (int r = 0; !err && r < n; r++) {
        s_booking_t b;
        int64_t refund = 0;
        if ((err = s_load(bx_worker_job_pg(job), bx_pg_val(res, r, 0), &b)))
            break;
        err = s_cancel_one(job, &b, "partner", "the event was cancelled", 1, &refund);
        cancelled++;
        refunds += refund > 0;
    }
    PQclear(res);
    /* a full page: the rest goes on in the next job of the chain, written in this
     * transaction, so a stadium's 60,000 bookings never make one giant transaction */
    if (!err && n == size)
        err = bx_worker_outbox(job, "checkout", "event.cancelled", event,
                               json_pack("{s:s, s:s}", "op", "cancel_event", "event_id", event));
    if (err)
        return err;
    BX_INFO("event %s cancelled: %ld bookings cancelled, %ld refunds%s", event, cancelled, refunds,
            n == size ? ", more in the next job" : "");
    bx_worker_job_succeed(job, 200,
                          json_pack("{s:s, s:i, s:i, s:b}", "event_id", event, "cancelled",
                                    (int)cancelled, "refunds", (int)refunds, "more", n == size));
    return BX_OK;
}

/* op -> handler */
static const struct {
    const char *op;
    bx_err_t (*fn)(bx_worker_job_t *job, json_t *payload);
} s_ops[] = {
    {"checkout", co_checkout},
    {"cancel", co_cancel},
    {"cancel_event", co_cancel_event},
};

bx_err_t co_handle(bx_worker_job_t *job)
{
    json_t *payload = bx_worker_job_payload(job);
    const char *op = bx_json_str(payload, "op");
    for (size_t i = 0; op && i < sizeof s_ops / sizeof s_ops[0]; i++)
        if (!strcmp(op, s_ops[i].op))
            return s_ops[i].fn(job, payload);
    return bx_worker_job_problem(job, BX_EINVAL, "unknown checkout op");
}
