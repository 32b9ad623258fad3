/* pay_worker: the payment pool's internals (bx-worker-payment, docs/payments.md): the jobs
 * (pay_jobs.c), settling a payment with what its gateway says (pay_settle.c), refunds
 * (pay_refund.c) and the sweep that asks gateways about payments left open (pay_sweep.c).
 * Every handler runs inside its job's transaction; everything that settles one payment
 * takes that payment's advisory lock first, so a webhook, a sweep and a re-run job never
 * settle one payment at once. */
#ifndef PAY_WORKER_H
#define PAY_WORKER_H

#include <jansson.h>
#include <stdint.h>

#include "bx_json.h"
#include "bx_redis.h"
#include "bx_worker.h"
#include "pay_gateway.h"

/* Per executor thread. */
typedef struct {
    bx_redis_t *redis; /* spends waiting-room admissions; may be NULL (Redis down) */
} pay_thread_t;

/* A payments row as read (locked). */
typedef struct {
    char id[37], booking_id[37], user_id[37];
    char provider[16], method[16], status[16], currency[4];
    int64_t amount, captured, refunded;
    char ref[129]; /* provider_ref, "" when none */
    char failure_code[65];
} pay_row_t;

/* The crash-after-gateway fault injection point (docs/payments.md): set once at start. */
extern int pay_crash_after_gateway;

/* Executor state. */
void *pay_thread_init(void *arg);
void pay_thread_fini(void *state);

/* The pool's handler: dispatches on payload op. */
bx_err_t pay_handle(bx_worker_job_t *job);

/* Takes the payment's advisory lock and reads its row into p. BX_OK, BX_ENOTFOUND, or
 * the database error. */
bx_err_t pay_row_load(bx_pg_t *pg, const char *id, pay_row_t *p);

/* Settles p with r (the gateway's answer; NULL: the outcome is unknown), inside the job's
 * transaction: status, captured amount, next action, failure; on success the booking is
 * confirmed (ticket job, receipt, waiting-room admission spent) or, when it no longer can
 * be, the money goes back at once. p is updated to the new state. Returns BX_OK or the
 * database error. */
bx_err_t pay_settle_apply(bx_worker_job_t *job, pay_row_t *p, const pay_gw_result_t *r);

/* The payment resource {data: {id, type, attributes}} of p (new reference). */
json_t *pay_doc(bx_pg_t *pg, const pay_row_t *p);

/* Sends the job's answer for p: 201 succeeded, 202 open (requires_action, processing,
 * unknown), 402 failed (a problem naming the failure code). */
void pay_answer(bx_worker_job_t *job, bx_pg_t *pg, const pay_row_t *p);

/* The refund job. */
bx_err_t pay_refund_job(bx_worker_job_t *job, json_t *payload);

/* Refunds amount of p with refund_id as the gateway's idempotency key, counts it on the
 * payment and the booking, notifies. BX_OK with *ok 1 when the gateway refunded;
 * *ok 0 with code filled when it refused; network errors as pay_http. */
bx_err_t pay_refund_do(bx_worker_job_t *job, pay_row_t *p, const char *refund_id, int64_t amount,
                       const char *reason, const char *requested_by, int notify, int *ok,
                       char code[65]);

/* The sweep (tick on the main thread): writes settle jobs for payments left open. */
void pay_sweep_tick(void *arg);

#endif
