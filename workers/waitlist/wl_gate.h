/* wl_gate: the waiting room's gatekeeper, run as the tick of bx-worker-waitlist (every
 * waitroom_tick_ms). For each enabled room whose sale started it admits the head of the
 * queue at the configured rate (a token bucket holding one second of admissions), never
 * beyond max_active_shoppers and never beyond what the unsold, unheld inventory can serve
 * (plus inventory_margin_pct); signs each admission token; expires unused admissions
 * (counted as abandoned, or expired_used when the hold path saw them); flags the event
 * sold out when nothing is left to hold; rebuilds a room's Redis state from PostgreSQL
 * when Redis lost it; and queues waitlist.lapse jobs for offers that are over. One
 * gatekeeper works on a room at a time (a Redis lock per room), so any number of
 * bx-worker-waitlist processes may run. */
#ifndef WL_GATE_H
#define WL_GATE_H

typedef struct wl_gate wl_gate_t;

/* Loads the signing keys (jwt_key_dir) and prepares the Redis handle; PostgreSQL is
 * connected on the first tick. Returns NULL, with the reason logged, when the keys
 * cannot be loaded. */
wl_gate_t *wl_gate_new(void);

/* Frees the gatekeeper; *self_p becomes NULL. Safe on NULL. */
void wl_gate_destroy(wl_gate_t **self_p);

/* One pass over every room (arg is the wl_gate_t). Never blocks longer than a few
 * database and Redis round trips per room. */
void wl_gate_tick(void *arg);

#endif
