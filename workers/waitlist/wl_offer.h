/* wl_offer: the job side of bx-worker-waitlist. A job of topic inventory.released
 * (payload {event_id, seats: [seat_id or {seat_id}...] | ga: [{tier_id, quantity}] |
 * tier_id + quantity}, written by whatever gave inventory back) offers what is still
 * available to the people waiting, in order, each as an offer hold (a row of holds,
 * 0006) with the event's offer lifetime. A job of topic waitlist.lapse ({event_id},
 * queued by the gatekeeper tick) settles offers that are over: a converted hold is
 * accepted, an expired one lapses and its hold is released, and what it held is offered
 * to the next people in the same transaction. Jobs run in batch mode keyed by event, so
 * the live-feed changes they make are published only after their commit. */
#ifndef WL_OFFER_H
#define WL_OFFER_H

#include <stddef.h>

#include "bx_worker.h"

/* Per-executor state (thread_init / thread_fini of the worker options). */
void *wl_offer_thread_init(void *arg);
void wl_offer_thread_fini(void *state);

/* The job handler. */
bx_err_t wl_offer_handle(bx_worker_job_t *job);

/* Batch hooks: key by event id; forget pending feed changes at the start; publish them
 * after a commit. */
void wl_offer_batch_key(const char *payload, size_t len, char *out, size_t cap);
bx_err_t wl_offer_batch_begin(bx_worker_batch_t *batch);
void wl_offer_batch_done(bx_worker_batch_t *batch, int committed);

#endif
