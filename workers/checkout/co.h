/* co: the checkout pool's jobs (docs/booking.md): checkout turns a hold into a booking
 * pending payment; cancel and cancel_event undo bookings with the refund the policy
 * gives. Each handler runs inside the job's transaction (bx_worker) and either commits
 * every effect (booking, promo use, hold extension, outbox jobs, messages) or none. */
#ifndef CO_H
#define CO_H

#include <jansson.h>
#include <libpq-fe.h>

#include "bx_worker.h"

/* op checkout {hold_id, event_id, promo_code?, locale?}: 201 with the booking document
 * (200 with the same booking when the hold already has one of the caller's). payload is
 * borrowed. */
bx_err_t co_checkout(bx_worker_job_t *job, json_t *payload);

/* op cancel {booking_id, reason?, by}: 200 with the booking document. */
bx_err_t co_cancel(bx_worker_job_t *job, json_t *payload);

/* op cancel_event {event_id}: the next cancel_event_page (config, 500) pending or
 * confirmed bookings of the event cancelled with a full refund; after a full page the job
 * queues the next cancel_event in its own transaction, so the chain reaches every booking
 * without one giant transaction. 200 {cancelled, refunds, more}. */
bx_err_t co_cancel_event(bx_worker_job_t *job, json_t *payload);

/* Succeeds with status and the one-row, one-column document res holds (cleared here);
 * BX_EINTERNAL when res has no such row. */
bx_err_t co_succeed_doc(bx_worker_job_t *job, int status, PGresult *res);

/* The job handler: dispatches on payload op. */
bx_err_t co_handle(bx_worker_job_t *job);

#endif
