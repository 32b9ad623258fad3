/* pay_jobs: the payment pool's jobs (docs/booking.md): pay (one gateway charge per
 * payment id, settled in the job's transaction), gateway_event (a verified webhook,
 * deduplicated), settle (ask the gateway about an open payment, never charge) and refund. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_util.h"
#include "pay_worker.h"

int pay_crash_after_gateway;

void *pay_thread_init(void *arg)
{
    (void)arg;
    pay_thread_t *st = calloc(1, sizeof *st);
    if (st)
        st->redis = bx_redis_new(bx_config_str("redis_host"), (int)bx_config_int("redis_port"),
                                 (int)bx_config_int("redis_timeout_ms"));
    return st;
}

void pay_thread_fini(void *state)
{
    pay_thread_t *st = state;
    if (st)
        bx_redis_destroy(&st->redis);
    free(st);
}

/* What pay needs of the booking, checked. Answers the problem and returns it otherwise. */
static bx_err_t s_booking(bx_worker_job_t *job, const char *booking, int64_t *total, char cur[4],
                          char email[256])
{
    bx_err_t err;
    const char *a[] = {booking};
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "pay_booking", 1, a, &err);
    if (!res)
        return err;
    int found = PQntuples(res) == 1 && !strcmp(bx_pg_val(res, 0, 1), bx_worker_job_user_id(job));
    char status[20] = "", detail[120];
    if (found) {
        bx_strlcpy(status, bx_pg_val(res, 0, 0), sizeof status);
        *total = strtoll(bx_pg_val(res, 0, 3), NULL, 10);
        bx_strlcpy(cur, bx_pg_val(res, 0, 4), 4);
        bx_strlcpy(email, bx_pg_val(res, 0, 7) ? bx_pg_val(res, 0, 7) : "", 256);
    }
    int late = found && !strcmp(bx_pg_val(res, 0, 2), "t");
    int paid = found && !strcmp(bx_pg_val(res, 0, 8), "t");
    PQclear(res);
    if (!found)
        return bx_worker_job_problem(job, BX_ENOTFOUND, "no such booking");
    if (strcmp(status, "pending_payment") || paid) {
        snprintf(detail, sizeof detail, "could not pay booking %s: it is %s", booking,
                 paid ? "paid already" : status);
        return bx_worker_job_problem(job, BX_ECONFLICT, detail);
    }
    if (late)
        return bx_worker_job_problem(job, BX_ECONFLICT,
                                     "could not pay booking: its payment window is over");
    return BX_OK;
}

static bx_err_t s_pay(bx_worker_job_t *job, json_t *pl)
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    const char *id = bx_worker_job_id(job), *booking = bx_json_str(pl, "booking_id");
    const char *provider = bx_json_str(pl, "provider"), *method = bx_json_str(pl, "method");
    const pay_gateway_t *gw = pay_gateway(provider);
    char cur[4], email[256];
    int64_t total = 0;
    pay_row_t p;
    if (!booking || !bx_uuid_valid(booking) || !gw || !method || !gw->supports(method))
        return bx_worker_job_problem(job, BX_EINVAL, "unsupported provider and method");
    bx_err_t err = pay_row_load(pg, id, &p); /* takes the payment's lock first */
    if (err == BX_OK) {
        pay_answer(job, pg, &p); /* settled before: say where it stands */
        return BX_OK;
    }
    if (err != BX_ENOTFOUND || (err = s_booking(job, booking, &total, cur, email)))
        return err;
    char amount[32];
    snprintf(amount, sizeof amount, "%lld", (long long)total);
    const char *ins[] = {id, booking, bx_worker_job_user_id(job), provider, method, amount, cur};
    if ((err = bx_pg_run(pg, "pay_insert", 7, ins)) || (err = pay_row_load(pg, id, &p)))
        return err;
    pay_gw_charge_t c = {id,
                         booking,
                         method,
                         bx_json_str(pl, "token"),
                         bx_json_str(pl, "vpa"),
                         bx_json_str(pl, "bank"),
                         bx_json_str(pl, "wallet"),
                         bx_json_str(pl, "return_url"),
                         email[0] ? email : NULL,
                         cur,
                         total};
    pay_gw_result_t r;
    err = gw->charge(&c, &r);
    if (pay_crash_after_gateway) {
        BX_WARN("fault injection: crashing after the gateway answered payment %s", id);
        _exit(137);
    }
    if (err == BX_EINVAL) {
        r.status = PAY_GW_FAILED; /* the gateway refused the request itself */
        err = BX_OK;
    }
    if (err && err != BX_ETIMEOUT && err != BX_EUNAVAILABLE)
        return err;
    err = pay_settle_apply(job, &p, err ? NULL : &r);
    if (!err)
        pay_answer(job, pg, &p);
    return err;
}

/* Asks the gateway about payment id and settles it with the answer. */
static bx_err_t s_settle_one(bx_worker_job_t *job, const char *id)
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    pay_row_t p;
    pay_gw_result_t r;
    bx_err_t err = pay_row_load(pg, id, &p);
    if (err == BX_ENOTFOUND)
        return bx_worker_job_problem(job, BX_ENOTFOUND, "no such payment");
    if (err)
        return err;
    const pay_gateway_t *gw = pay_gateway(p.provider);
    if (!strcmp(p.status, "succeeded") || !strcmp(p.status, "refunded") || !gw) {
        pay_answer(job, pg, &p);
        return BX_OK;
    }
    err = gw->query(p.id, p.ref, &r);
    if (err == BX_ETIMEOUT || err == BX_EUNAVAILABLE) {
        bx_worker_job_succeed(job, 202, pay_doc(pg, &p)); /* the sweep asks again */
        return BX_OK;
    }
    if (err)
        return bx_worker_job_problem(job, BX_EUNAVAILABLE, "the gateway refused the query");
    if (r.status == PAY_GW_REQUIRES_ACTION && !strcmp(p.status, "requires_action")) {
        const char *a[] = {p.booking_id};
        PGresult *res = bx_pg_query(pg, "pay_booking", 1, a, &err);
        int late = res && PQntuples(res) == 1 && !strcmp(bx_pg_val(res, 0, 2), "t");
        PQclear(res);
        if (late) { /* the customer never finished: the window is over */
            r.status = PAY_GW_FAILED;
            bx_strlcpy(r.failure_code, "payment_window_over", sizeof r.failure_code);
            bx_strlcpy(r.failure_message, "the customer did not complete the payment in time",
                       sizeof r.failure_message);
        }
    }
    err = pay_settle_apply(job, &p, &r);
    if (!err)
        bx_worker_job_succeed(job, 200, pay_doc(pg, &p));
    return err;
}

static bx_err_t s_gateway_event(bx_worker_job_t *job, json_t *pl)
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    const char *provider = bx_json_str(pl, "provider"), *eid = bx_json_str(pl, "event_id");
    const char *type = bx_json_str(pl, "type"), *pid = bx_json_str(pl, "payment_id");
    bx_err_t err;
    if (!provider || !pay_gateway(provider) || !eid || !type)
        return bx_worker_job_problem(job, BX_EINVAL, "not a gateway event");
    char *obj = bx_json_dump(json_object_get(pl, "object"));
    const char *a[] = {provider, eid, type, obj ? obj : "{}"};
    PGresult *res = bx_pg_query(pg, "pay_event_insert", 4, a, &err);
    free(obj);
    if (!res)
        return err;
    int fresh = PQntuples(res) == 1;
    PQclear(res);
    if (!fresh || !pid || !bx_uuid_valid(pid)) {
        bx_worker_job_succeed(
            job, 200,
            json_pack("{s:s, s:s}", "event_id", eid, "outcome", fresh ? "ignored" : "duplicate"));
        return BX_OK;
    }
    /* The event says something changed: read the payment's state from the gateway (the
     * truth, whatever order events arrive in) and settle with it. */
    pay_row_t p;
    err = pay_row_load(pg, pid, &p);
    if (err == BX_ENOTFOUND) {
        bx_worker_job_succeed(
            job, 200, json_pack("{s:s, s:s}", "event_id", eid, "outcome", "unknown payment"));
        return BX_OK;
    }
    return err ? err : s_settle_one(job, pid);
}

bx_err_t pay_handle(bx_worker_job_t *job)
{
    json_t *pl = bx_worker_job_payload(job);
    const char *op = bx_json_str(pl, "op");
    if (!op)
        return bx_worker_job_problem(job, BX_EINVAL, "payment job without op");
    if (!strcmp(op, "pay"))
        return s_pay(job, pl);
    if (!strcmp(op, "gateway_event"))
        return s_gateway_event(job, pl);
    if (!strcmp(op, "settle")) {
        const char *id = bx_json_str(pl, "payment_id");
        return id && bx_uuid_valid(id) ? s_settle_one(job, id)
                                       : bx_worker_job_problem(job, BX_EINVAL, "bad payment_id");
    }
    if (!strcmp(op, "refund"))
        return pay_refund_job(job, pl);
    return bx_worker_job_problem(job, BX_EINVAL, "unknown payment op");
}
