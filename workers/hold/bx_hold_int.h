/* bx_hold_int: what the hold pool's modules share: the per-event state an executor keeps
 * and the helpers the operations use. Not for other pools. */
#ifndef BX_HOLD_INT_H
#define BX_HOLD_INT_H

#include <stdint.h>

#include "bx_hold.h"
#include "bx_hold_view.h"
#include "bx_redis.h"
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
    bx_redis_t *redis;                          /* the live feed's connection (owned) */
    json_t *feed; /* this batch's seat and GA changes, published after the commit (owned) */
} bx_hold_state_t;

/* The event of a job's payload when the running batch locked it; NULL otherwise. */
bx_hold_event_t *bx_hold_event(bx_worker_job_t *job, const char *event_id);

/* The event's seat view, loaded now when missing (inside the job's transaction, so it
 * includes this batch's earlier changes). NULL with *err set when it cannot be loaded. */
bx_hold_view_t *bx_hold_view(bx_worker_job_t *job, bx_hold_event_t *ev, bx_err_t *err);

/* Drops the event's view: the database disagreed with it, or a transaction that changed it
 * did not commit. The next seated hold reloads it. */
void bx_hold_forget(bx_hold_event_t *ev);

/* The operations (bx_hold_ops.c, bx_hold_cart.c). Each sets the job's outcome; a refusal
 * returns its error so that the runtime rolls the job's writes back. bx_hold_cart adds
 * (adding = 1) or removes seats or GA units of an active hold. */
bx_err_t bx_hold_take(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload);
bx_err_t bx_hold_release(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload, int expiry);

/* op expire_many {event_id, hold_ids: [...]} (the expiry sweep's job: up to
 * BX_HOLD_EXPIRE_MAX due holds of one event): each still active expires as "expire" would;
 * 200 {event_id, expired}. */
#define BX_HOLD_EXPIRE_MAX 100
bx_err_t bx_hold_expire_many(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload);
bx_err_t bx_hold_cart(bx_worker_job_t *job, bx_hold_event_t *ev, json_t *payload, int adding);

/* ---- helpers the operations share (bx_hold_ops.c) ---- */

/* "{a,b}" of the ids of seats idx[0..n) of view into out (cap bytes). */
void bx_hold_seat_list(const bx_hold_view_t *view, const int *idx, int n, char *out, size_t cap);

/* Succeeds with status and the JSON document text built by the database (500 when NULL). */
bx_err_t bx_hold_succeed_text(bx_worker_job_t *job, int status, const char *text);

/* 409 refusals, each returning BX_ECONFLICT: the per-user limit (have: tickets before),
 * seats not available (labels stolen), a seat the choice would strand. */
bx_err_t bx_hold_limit(bx_worker_job_t *job, const bx_hold_event_t *ev, long have);
bx_err_t bx_hold_unavailable(bx_worker_job_t *job, const char *detail, json_t *labels);
bx_err_t bx_hold_orphan(bx_worker_job_t *job, bx_hold_view_t *view, int orphan);

/* The view indices of the seat ids ids (JSON array) into idx, *n of them; refuses (and
 * returns the error) unknown, repeated or taken seats. */
bx_err_t bx_hold_seat_idx(bx_worker_job_t *job, bx_hold_view_t *view, json_t *ids, int *idx,
                          int *n);

/* Sets the new states of seats ([{seat_id, state}]) in the event's view, if loaded. */
void bx_hold_view_release(bx_hold_event_t *ev, json_t *seats);

/* ---- the live feed (bx_hold_feed.c) ----
 * A job records its changes after it succeeded; the batch publishes them per event with
 * bx_invfeed_publish once it committed (bx_hold_batch_done), or forgets them. */

/* A seat's new state ({seat_id, label, tier_id, state}), or a GA tier's counts after the
 * change ({tier_id, capacity, held, sold, available}; stolen). */
void bx_hold_feed_seat(bx_worker_job_t *job, const char *event_id, const char *seat_id,
                       const char *label, const char *tier_id, const char *state);
void bx_hold_feed_tier(bx_worker_job_t *job, const char *event_id, json_t *counts);

/* Every seat of seats ([{seat_id, label, tier_id, state}]) and tier of tiers ([{tier_id,
 * capacity, held, sold, available}]); either may be NULL. */
void bx_hold_feed_json(bx_worker_job_t *job, const char *event_id, json_t *seats, json_t *tiers);

/* What the batch recorded so far, and dropping what a failed job recorded after mark. */
size_t bx_hold_feed_mark(bx_worker_job_t *job);
void bx_hold_feed_undo(bx_worker_job_t *job, size_t mark);

/* Publishes (committed) or forgets the batch's changes; empties the list. */
void bx_hold_feed_flush(bx_hold_state_t *st, int committed);

#endif
