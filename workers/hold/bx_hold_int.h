/* bx_hold_int: what the hold pool's modules share: the per-event state an executor keeps
 * and the helpers the operations use. Not for other pools. */
#ifndef BX_HOLD_INT_H
#define BX_HOLD_INT_H

#include <stdint.h>

#include "bx_hold.h"
#include "bx_hold_view.h"
#include "bx_util.h"

#define BX_HOLD_EVENTS_MAX 64  /* events one executor keeps state for (least recently used go) */
#define BX_HOLD_SEATS_MAX  100 /* seats in one hold (tiers allow at most 100 per order) */

/* One event as this executor knows it. */
typedef struct {
    char id[BX_UUID_LEN + 1]; /* event id; "" for a free slot */
    int64_t version;          /* inventory version the view reflects; 0: unknown */
    int64_t pending;          /* version the running batch leaves (read at its end) */
    bx_hold_view_t *view;     /* its seats; NULL until a seated hold needs them */
    int locked;               /* the running batch locked it: the fields below are current */
    char status[16];          /* event status */
    int ttl_s;                /* hold lifetime */
    int max_per_user;         /* tickets per user and event */
    int orphan_rule;          /* refuse holds that strand a single seat */
    uint64_t used;            /* last use, for eviction */
} bx_hold_event_t;

/* An executor's state. */
typedef struct {
    bx_hold_event_t events[BX_HOLD_EVENTS_MAX]; /* slots */
    uint64_t clock;                             /* use counter */
} bx_hold_state_t;

/* The event of a job's payload when the running batch locked it; NULL otherwise. */
bx_hold_event_t *bx_hold_event(bx_worker_job_t *job, const char *event_id);

/* The event's seat view, loaded now when missing (inside the job's transaction, so it
 * includes this batch's earlier changes). NULL with *err set when it cannot be loaded. */
bx_hold_view_t *bx_hold_view(bx_worker_job_t *job, bx_hold_event_t *ev, bx_err_t *err);

/* Drops the event's view: the database disagreed with it, or a transaction that changed it
 * did not commit. The next seated hold reloads it. */
void bx_hold_forget(bx_hold_event_t *ev);

/* The operations (bx_hold_ops.c). Each sets the job's outcome; a refusal returns its error
 * so that the runtime rolls the job's writes back. */
bx_err_t bx_hold_take(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload);
bx_err_t bx_hold_release(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload, int expiry);

#endif
