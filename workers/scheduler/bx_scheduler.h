/* bx_scheduler: the periodic sweeps of the scheduler service, run as the tick of a
 * presence-only bx_worker: fail requests that exhausted their attempts, re-dispatch
 * requests whose lease expired, relay the outbox into durable requests, and delete
 * expired idempotency keys. It owns one PostgreSQL connection and one client DEALER to
 * the broker, both used from the thread that calls bx_scheduler_tick. */
#ifndef BX_SCHEDULER_H
#define BX_SCHEDULER_H

typedef struct bx_scheduler bx_scheduler_t;

typedef struct {
    const char *pg_dsn;   /* PostgreSQL DSN (copied) */
    const char *endpoint; /* broker endpoint (copied) */
    int lease_s;          /* lease given to a re-dispatched or relayed request */
    int batch;            /* rows per statement */
    int max_attempts;     /* a request started this often and still unfinished fails */
    int slow_every;       /* give-up, re-dispatch and key expiry run every this many ticks;
                             the outbox relay runs every tick (a follow-up job waits at most
                             one tick for its relay) */
} bx_scheduler_opts_t;

/* Fills opts from the configuration (pg_dsn, broker_endpoint, request_lease_s; slow_every
 * from scheduler_tick_ms / outbox_relay_ms, the scheduler's tick being outbox_relay_ms)
 * and the built-in batch (500) and attempt cap (10). Strings are borrowed from the config. */
void bx_scheduler_opts_from_config(bx_scheduler_opts_t *opts);

/* Creates a scheduler; PostgreSQL is connected lazily (and again after a failure).
 * Returns NULL when out of memory or the broker socket cannot be made. */
bx_scheduler_t *bx_scheduler_new(const bx_scheduler_opts_t *opts);

/* Frees the scheduler; *self_p becomes NULL. Safe on NULL. */
void bx_scheduler_destroy(bx_scheduler_t **self_p);

/* Runs one pass of every sweep (a bx_worker_tick_fn; arg is the bx_scheduler_t *). Errors
 * are logged and retried on the next tick. */
void bx_scheduler_tick(void *arg);

#endif
