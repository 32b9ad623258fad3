/* pay_refund: refunds: never more than was captured and not yet refunded (409), each with
 * its own id as the gateway's idempotency key, counted on the payment and the booking in
 * the job's transaction, announced to the customer and the event's organization. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_dlv.h"
#include "bx_log.h"
#include "bx_money.h"
#include "bx_util.h"
#include "pay_worker.h"

static bx_err_t s_announce(bx_worker_job_t *job, const pay_row_t *p, const char *refund_id,
                           int64_t amount)
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    bx_err_t err;
    char disp[64], key[64];
    const char *a[] = {p->booking_id};
    PGresult *res = bx_pg_query(pg, "pay_receipt", 1, a, &err);
    if (!res)
        return err;
    bx_money_display(amount, p->currency, disp, sizeof disp);
    snprintf(key, sizeof key, "booking:%s", p->booking_id);
    json_t *data =
        json_pack("{s:s, s:s, s:s, s:s, s:I}", "booking_id", p->booking_id, "refund_id", refund_id,
                  "payment_id", p->id, "amount_display", disp, "amount_minor", (json_int_t)amount);
    err = bx_dlv_notify_user(pg, "payment.refunded", p->user_id, data, key, bx_worker_job_id(job),
                             NULL);
    if (!err && PQntuples(res) == 1)
        err = bx_dlv_partner_event(pg, "payment.refunded", bx_pg_val(res, 0, 3), NULL, data, key,
                                   bx_worker_job_id(job), NULL);
    json_decref(data);
    PQclear(res);
    return err;
}

bx_err_t pay_refund_do(bx_worker_job_t *job, pay_row_t *p, const char *refund_id, int64_t amount,
                       const char *reason, const char *requested_by, int notify, int *ok,
                       char code[65])
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    const pay_gateway_t *gw = pay_gateway(p->provider);
    pay_gw_refund_t r;
    char a_txt[32];
    *ok = 0;
    code[0] = '\0';
    snprintf(a_txt, sizeof a_txt, "%lld", (long long)amount);
    const char *ins[] = {refund_id, p->id, p->booking_id, a_txt, reason, requested_by};
    bx_err_t err = bx_pg_run(pg, "pay_refund_insert", 6, ins);
    if (err)
        return err;
    /* the key names the refund, never the payment: an automatic refund's id is the
     * payment id, which the charge already used as its idempotency key */
    char key[48] = "rf";
    for (size_t i = 0, n = 2; refund_id[i] && n + 1 < sizeof key; i++)
        if (refund_id[i] != '-') { /* "rf" + 32 hex: within Razorpay's 40-character receipt */
            key[n++] = refund_id[i];
            key[n] = '\0';
        }
    err = gw ? gw->refund(p->ref, key, amount, &r) : BX_EINTERNAL;
    if (err == BX_EINVAL) {
        bx_strlcpy(code, r.failure_code, 65);
        const char *f[] = {refund_id, "failed", NULL};
        return bx_pg_run(pg, "pay_refund_done", 3, f);
    }
    if (err)
        return err;
    *ok = r.succeeded;
    bx_strlcpy(code, r.failure_code, 65);
    const char *d[] = {refund_id, r.succeeded ? "succeeded" : "failed", r.ref[0] ? r.ref : NULL};
    err = bx_pg_run(pg, "pay_refund_done", 3, d);
    if (!err && r.succeeded) {
        const char *add[] = {p->id, a_txt};
        err = bx_pg_run(pg, "pay_refunded_add", 2, add);
        p->refunded += amount;
    }
    if (!err && r.succeeded && notify)
        err = s_announce(job, p, refund_id, amount);
    return err;
}

/* The payment to refund: payment_id, else the booking's successful payment. */
static bx_err_t s_target(bx_worker_job_t *job, json_t *payload, pay_row_t *p)
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    const char *pid = bx_json_str(payload, "payment_id");
    const char *bid = bx_json_str(payload, "booking_id");
    char found[37] = "";
    bx_err_t err;
    if (!pid && bid && bx_uuid_valid(bid)) {
        const char *a[] = {bid};
        PGresult *res = bx_pg_query(pg, "pay_refund_find", 1, a, &err);
        if (!res)
            return err;
        if (PQntuples(res) == 1)
            bx_strlcpy(found, bx_pg_val(res, 0, 0), sizeof found);
        PQclear(res);
        pid = found[0] ? found : NULL;
    }
    if (!pid || !bx_uuid_valid(pid))
        return bx_worker_job_problem(job, BX_ENOTFOUND, "no captured payment to refund");
    err = pay_row_load(pg, pid, p);
    if (err == BX_ENOTFOUND || (!err && bid && strcmp(bid, p->booking_id)))
        return bx_worker_job_problem(job, BX_ENOTFOUND, "no such payment");
    return err;
}

bx_err_t pay_refund_job(bx_worker_job_t *job, json_t *payload)
{
    pay_row_t p;
    char code[65], detail[200];
    int ok;
    bx_err_t err = s_target(job, payload, &p);
    if (err)
        return err;
    const char *rid = bx_json_str(payload, "refund_id");
    rid = rid && bx_uuid_valid(rid) ? rid : bx_worker_job_id(job);
    int64_t left = p.captured - p.refunded;
    json_t *am = json_object_get(payload, "amount_minor");
    int64_t amount = json_is_integer(am) ? (int64_t)json_integer_value(am) : left;
    if (strcmp(p.status, "succeeded"))
        return bx_worker_job_problem(job, BX_ECONFLICT, "the payment captured nothing to refund");
    if (amount <= 0 || amount > left) {
        snprintf(detail, sizeof detail,
                 "could not refund %lld: %lld captured, %lld already refunded", (long long)amount,
                 (long long)p.captured, (long long)p.refunded);
        return bx_worker_job_problem(job, left <= 0 || amount > left ? BX_ECONFLICT : BX_EINVAL,
                                     detail);
    }
    const char *reason = bx_json_str(payload, "reason");
    const char *by = bx_worker_job_user_id(job);
    err = pay_refund_do(job, &p, rid, amount, reason ? reason : "refund", *by ? by : NULL, 1, &ok,
                        code);
    if (err)
        return err == BX_ETIMEOUT || err == BX_EUNAVAILABLE
                   ? bx_worker_job_problem(job, err, "the gateway did not answer; try again")
                   : err;
    if (!ok) {
        snprintf(detail, sizeof detail, "the gateway refused the refund: %s", code);
        bx_worker_job_fail(job, 502, NULL, "Refund refused", detail);
        return BX_OK; /* the failed refund row stays */
    }
    BX_INFO("refund %s of payment %s: %lld", rid, p.id, (long long)amount);
    bx_worker_job_succeed(job, 201,
                          json_pack("{s:{s:s, s:s, s:{s:s, s:s, s:I, s:s, s:I, s:I}}}", "data",
                                    "id", rid, "type", "refund", "attributes", "payment_id", p.id,
                                    "booking_id", p.booking_id, "amount_minor", (json_int_t)amount,
                                    "status", "succeeded", "captured_minor", (json_int_t)p.captured,
                                    "refunded_minor", (json_int_t)p.refunded));
    return BX_OK;
}
