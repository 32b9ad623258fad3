/* bx_worker_int: what the runtime's two halves share: the resolved configuration the
 * executors read (immutable once they start) and the executor actor. Not for pools. */
#ifndef BX_WORKER_INT_H
#define BX_WORKER_INT_H

#include <czmq.h>

#include "bx_wire.h"
#include "bx_worker.h"

#define BX_WORKER_TX_TRIES 5 /* runs of a job transaction that hit BX_ERETRY */

typedef struct {
    char service[BX_WIRE_SERVICE_MAX + 1]; /* service served */
    bx_worker_handler_fn handler;          /* the pool's handler */
    char *endpoint;                        /* broker endpoint (owned) */
    char *pg_dsn;                          /* PostgreSQL DSN (owned) */
    int credit;                            /* executors; 0 for a presence-only worker */
    int heartbeat_ms;                      /* heartbeat interval */
    int liveness;                          /* missed heartbeats before the broker is dead */
    int lease_s;                           /* lease written when a job starts */
    int drain_timeout_ms;                  /* wait for in-flight jobs after SIGTERM */
    void *(*thread_init)(void *arg);       /* per-executor state constructor */
    void (*thread_fini)(void *state);      /* and destructor */
    void *arg;                             /* for thread_init and tick */
    bx_worker_tick_fn tick;                /* periodic work on the main thread, or NULL */
    int tick_ms;                           /* its period */
    int metrics_port;                      /* /metrics port, 0 for none */
} bx_worker_cfg_t;

/* zactor body of one executor; args is the const bx_worker_cfg_t *. Pipe protocol:
 * in  ["JOB", client_id, request_id, traceparent] (one at a time),
 * out one encoded BXP/1 worker message, REPLY or RELEASE, ready for the broker socket. */
void bx_worker_executor(zsock_t *pipe, void *args);

#endif
