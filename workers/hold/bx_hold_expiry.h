/* bx_hold_expiry: the hold pool's expiry sweep, run on each hold worker's main thread
 * every tick: due active holds become "expire" jobs for the hold pool through the outbox
 * (keyed by event, so the worker owning the event releases them under its batch lock and
 * offers the seats to the waitlist). Several workers sweep safely: rows are taken with
 * SKIP LOCKED and marked queued. The sweep owns its own PostgreSQL connection (main
 * thread only). */
#ifndef BX_HOLD_EXPIRY_H
#define BX_HOLD_EXPIRY_H

#include "bx_pg.h"

typedef struct {
    bx_pg_t *pg;   /* the main thread's connection; NULL until connected */
    long retry_at; /* monotonic ms of the next connect attempt */
    long queued;   /* holds queued for expiry since start (for logs and tests) */
} bx_hold_expiry_t;

/* The tick (bx_worker_tick_fn): arg is a zeroed bx_hold_expiry_t owned by the caller. */
void bx_hold_expiry_tick(void *arg);

/* Closes the sweep's connection. */
void bx_hold_expiry_close(bx_hold_expiry_t *self);

#endif
