/* pay_settle: moves a payment to what its gateway says, and on success confirms the
 * booking in the same transaction (bx_booking_confirm), queues ticket issuance, sends the
 * receipt and spends the waiting-room admission; money that came in for a booking that can
 * no longer be confirmed goes straight back. Final states (succeeded, refunded) never
 * change here, so duplicate and out-of-order events are harmless. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_dlv.h"
#include "bx_log.h"
#include "bx_money.h"
#include "bx_pg.h"
#include "bx_util.h"
#include "bx_wire.h"
#include "bx_wroom.h"
#include "pay_worker.h"

bx_err_t pay_row_load(bx_pg_t *pg, const char *id, pay_row_t *p)
{
    bx_err_t err;
    const char *a[] = {id};
    memset(p, 0, sizeof *p);
    PGresult *res = bx_pg_query(pg, "pay_lock", 1, a, &err);
    PQclear(res);
    if (!res)
        return err;
    res = bx_pg_query(pg, "pay_get", 1, a, &err);
    if (!res)
        return err;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return BX_ENOTFOUND;
    }
    bx_strlcpy(p->id, bx_pg_val(res, 0, 0), sizeof p->id);
    bx_strlcpy(p->booking_id, bx_pg_val(res, 0, 1), sizeof p->booking_id);
    bx_strlcpy(p->user_id, bx_pg_val(res, 0, 2), sizeof p->user_id);
    bx_strlcpy(p->provider, bx_pg_val(res, 0, 3), sizeof p->provider);
    bx_strlcpy(p->method, bx_pg_val(res, 0, 4), sizeof p->method);
    bx_strlcpy(p->status, bx_pg_val(res, 0, 5), sizeof p->status);
    p->amount = strtoll(bx_pg_val(res, 0, 6), NULL, 10);
    bx_strlcpy(p->currency, bx_pg_val(res, 0, 7), sizeof p->currency);
    p->captured = strtoll(bx_pg_val(res, 0, 8), NULL, 10);
    p->refunded = strtoll(bx_pg_val(res, 0, 9), NULL, 10);
    bx_strlcpy(p->ref, bx_pg_val(res, 0, 10) ? bx_pg_val(res, 0, 10) : "", sizeof p->ref);
    bx_strlcpy(p->failure_code, bx_pg_val(res, 0, 12) ? bx_pg_val(res, 0, 12) : "",
               sizeof p->failure_code);
    PQclear(res);
    return BX_OK;
}

/* Writes p's state. next_action: a redirect URL or NULL. */
static bx_err_t s_set(bx_pg_t *pg, pay_row_t *p, const char *status, const char *ref,
                      int64_t captured, const char *action_url, const char *code, const char *msg)
{
    char cap[32], *na = NULL;
    snprintf(cap, sizeof cap, "%lld", (long long)captured);
    if (action_url && *action_url) {
        json_t *j = json_pack("{s:s, s:s}", "type", "redirect", "url", action_url);
        na = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
    }
    const char *a[] = {p->id,
                       status,
                       ref && *ref ? ref : NULL,
                       cap,
                       na,
                       code && *code ? code : NULL,
                       msg && *msg ? msg : NULL};
    bx_err_t err = bx_pg_run(pg, "pay_set", 7, a);
    free(na);
    if (!err) {
        bx_strlcpy(p->status, status, sizeof p->status);
        if (ref && *ref)
            bx_strlcpy(p->ref, ref, sizeof p->ref);
        p->captured = captured;
        bx_strlcpy(p->failure_code, code ? code : "", sizeof p->failure_code);
    }
    return err;
}

/* The confirmed booking's follow-ups: ticket issuance, receipt, admission spent. */
static bx_err_t s_confirmed(bx_worker_job_t *job, const pay_row_t *p)
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    pay_thread_t *st = bx_worker_job_state(job);
    bx_err_t err;
    char disp[64];
    const char *a[] = {p->booking_id};
    err = bx_worker_outbox(job, BX_SVC_TICKET, "issue", p->booking_id,
                           json_pack("{s:s, s:s}", "op", "issue", "booking_id", p->booking_id));
    PGresult *res = err ? NULL : bx_pg_query(pg, "pay_receipt", 1, a, &err);
    if (res && PQntuples(res) == 1) {
        char key[64];
        bx_money_display(p->captured, p->currency, disp, sizeof disp);
        snprintf(key, sizeof key, "booking:%s", p->booking_id);
        json_t *data = json_pack("{s:s, s:s, s:s, s:o?, s:o?}", "booking_id", p->booking_id,
                                 "payment_id", p->id, "amount_display", disp, "lines",
                                 json_loads(bx_pg_val(res, 0, 0), 0, NULL), "taxes",
                                 json_loads(bx_pg_val(res, 0, 1), 0, NULL));
        err = bx_dlv_notify_user(pg, "payment.receipt", p->user_id, data, key,
                                 bx_worker_job_id(job), NULL);
        json_decref(data);
    }
    PQclear(res);
    res = err ? NULL : bx_pg_query(pg, "pay_admission", 1, a, &err);
    if (res && PQntuples(res) == 1 && bx_pg_val(res, 0, 0)) {
        bx_err_t werr = st && st->redis ? bx_wroom_spend(st->redis, pg, bx_pg_val(res, 0, 2),
                                                         bx_pg_val(res, 0, 0),
                                                         strtoll(bx_pg_val(res, 0, 1), NULL, 10))
                                        : BX_EUNAVAILABLE;
        if (werr == BX_ERETRY)
            err = werr;
        else if (werr)
            BX_WARN("could not spend the admission of booking %s: %s", p->booking_id,
                    bx_err_str(werr));
    }
    PQclear(res);
    return err;
}

/* Money came in but the booking cannot be confirmed (why): refund all of it now, with the
 * payment id as the refund's idempotency key. */
static bx_err_t s_give_back(bx_worker_job_t *job, pay_row_t *p, const pay_gw_result_t *r,
                            const char *why)
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    char code[65], reason[120];
    int ok = 0;
    bx_err_t err = s_set(pg, p, "unknown", r->ref, r->captured, NULL, "auto_refund_pending", why);
    snprintf(reason, sizeof reason, "automatic: booking %s", why);
    if (!err)
        err = pay_refund_do(job, p, p->id, r->captured - p->refunded, reason, NULL, 0, &ok, code);
    if (err == BX_ETIMEOUT || err == BX_EUNAVAILABLE || (!err && !ok)) {
        BX_WARN("automatic refund of payment %s not done yet (%s): the sweep retries", p->id,
                err ? bx_err_str(err) : code);
        return BX_OK; /* stays unknown with auto_refund_pending: settled again later */
    }
    if (!err)
        err = s_set(pg, p, "refunded", r->ref, r->captured, NULL, "booking_not_payable", why);
    return err;
}

static bx_err_t s_succeeded(bx_worker_job_t *job, pay_row_t *p, const pay_gw_result_t *r)
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    char paid[32];
    bx_err_t err;
    snprintf(paid, sizeof paid, "%lld", (long long)r->captured);
    const char *a[] = {p->booking_id, paid};
    PGresult *res = bx_pg_query(pg, "pay_confirm", 2, a, &err);
    if (!res)
        return err;
    char outcome[32];
    bx_strlcpy(outcome, bx_pg_val(res, 0, 0) ? bx_pg_val(res, 0, 0) : "missing", sizeof outcome);
    PQclear(res);
    if (strcmp(outcome, "confirmed"))
        return s_give_back(job, p, r, !strcmp(outcome, "already") ? "already paid" : outcome);
    err = s_set(pg, p, "succeeded", r->ref, r->captured, NULL, NULL, NULL);
    if (!err)
        err = s_confirmed(job, p);
    if (!err)
        BX_INFO("payment %s succeeded: booking %s confirmed", p->id, p->booking_id);
    return err;
}

bx_err_t pay_settle_apply(bx_worker_job_t *job, pay_row_t *p, const pay_gw_result_t *r)
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    int final = !strcmp(p->status, "succeeded") || !strcmp(p->status, "refunded");
    if (final)
        return BX_OK; /* a late, duplicate or out-of-order answer changes nothing */
    if (!r)
        return s_set(pg, p, "unknown", NULL, p->captured, NULL, "gateway_timeout",
                     "the gateway did not answer in time: settled by asking it later");
    switch (r->status) {
    case PAY_GW_SUCCEEDED:
        return s_succeeded(job, p, r);
    case PAY_GW_FAILED:
        if (!strcmp(p->status, "failed"))
            return BX_OK;
        return s_set(pg, p, "failed", r->ref, 0, NULL, r->failure_code, r->failure_message);
    case PAY_GW_REQUIRES_ACTION:
        if (!strcmp(p->status, "failed"))
            return BX_OK;
        return s_set(pg, p, "requires_action", r->ref, 0, r->action_url, NULL, NULL);
    case PAY_GW_PROCESSING:
        if (!strcmp(p->status, "failed"))
            return BX_OK;
        return s_set(pg, p, "processing", r->ref, 0, NULL, NULL, NULL);
    case PAY_GW_NOT_FOUND:
        if (!strcmp(p->status, "failed"))
            return BX_OK;
        return s_set(pg, p, "failed", NULL, 0, NULL, "not_found_at_gateway",
                     "the gateway has no charge for this payment: nothing was charged");
    }
    return BX_EINTERNAL;
}

json_t *pay_doc(bx_pg_t *pg, const pay_row_t *p)
{
    bx_err_t err;
    const char *a[] = {p->id};
    PGresult *res = bx_pg_query(pg, "pay_view", 1, a, &err);
    json_t *attrs = NULL;
    if (res && PQntuples(res) == 1) {
        const char *na = bx_pg_val(res, 0, 10);
        attrs = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:o, s:s?, s:s?, s:s, "
                          "s:s, s:o?}",
                          "booking_id", bx_pg_val(res, 0, 1), "user_id", bx_pg_val(res, 0, 2),
                          "provider", bx_pg_val(res, 0, 3), "method", bx_pg_val(res, 0, 4),
                          "status", bx_pg_val(res, 0, 5), "amount_minor",
                          (json_int_t)strtoll(bx_pg_val(res, 0, 6), NULL, 10), "currency",
                          bx_pg_val(res, 0, 7), "captured_minor",
                          (json_int_t)strtoll(bx_pg_val(res, 0, 8), NULL, 10), "refunded_minor",
                          (json_int_t)strtoll(bx_pg_val(res, 0, 9), NULL, 10), "next_action",
                          na ? json_loads(na, 0, NULL) : json_null(), "failure_code",
                          bx_pg_val(res, 0, 11), "failure_message", bx_pg_val(res, 0, 12),
                          "created_at", bx_pg_val(res, 0, 13), "updated_at", bx_pg_val(res, 0, 14),
                          "refunds", json_loads(bx_pg_val(res, 0, 17), 0, NULL));
    }
    PQclear(res);
    char self[96];
    snprintf(self, sizeof self, "/api/v1/payments/%s", p->id);
    return json_pack("{s:{s:s, s:s, s:o, s:{s:s}}}", "data", "id", p->id, "type", "payment",
                     "attributes", attrs ? attrs : json_object(), "links", "self", self);
}

void pay_answer(bx_worker_job_t *job, bx_pg_t *pg, const pay_row_t *p)
{
    if (!strcmp(p->status, "failed")) {
        char detail[200];
        snprintf(detail, sizeof detail, "payment %s declined: %s", p->id, p->failure_code);
        bx_worker_job_fail(job, 402, "https://boxoffice.example/problems/payment-declined",
                           "Payment declined", detail);
        return;
    }
    int done = !strcmp(p->status, "succeeded") || !strcmp(p->status, "refunded");
    bx_worker_job_succeed(job, done ? 201 : 202, pay_doc(pg, p));
}
