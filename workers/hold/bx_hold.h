/* bx_hold: the hold pool's jobs and its batch hooks for the worker runtime's batch mode.
 * Jobs (payload "op"): "hold" (kind seats, best_available or ga), "release" (the owner's
 * DELETE), "expire" (queued by the expiry sweep), and the cart's "add" and "remove" (seats
 * or GA units of an active hold). After a batch commits, its seat and GA changes go to the
 * live inventory feed (bx_invfeed). Each executor thread keeps, per event
 * it served recently, the event's hold settings, the inventory version it last saw and a
 * view of its seats (bx_hold_view) for picking seats and the orphan rule; every change is
 * still a conditional UPDATE that the database decides. docs/holds.md tells the design. */
#ifndef BX_HOLD_H
#define BX_HOLD_H

#include <stddef.h>

#include "bx_worker.h"

/* Executor state: thread_init / thread_fini of the runtime. NULL when out of memory. */
void *bx_hold_thread_init(void *arg);
void bx_hold_thread_fini(void *state);

/* The job handler (runs under the job's savepoint inside the batch transaction). */
bx_err_t bx_hold_handle(bx_worker_job_t *job);

/* Batch hooks: lock the batch's events and check their inventory versions (begin), read
 * the versions this transaction leaves (end), keep or drop the views (done). */
bx_err_t bx_hold_batch_begin(bx_worker_batch_t *batch);
bx_err_t bx_hold_batch_end(bx_worker_batch_t *batch);
void bx_hold_batch_done(bx_worker_batch_t *batch, int committed);

/* Batch key of a job: its payload's event_id (so one executor serves one event). */
void bx_hold_batch_key(const char *payload, size_t len, char *out, size_t cap);

#endif
