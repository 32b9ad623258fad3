/* bx_broker: the BXP/1 broker (Majordomo family) as a class: a ROUTER socket, a registry of
 * services and their workers, credit-based dispatch, heartbeats, requeue of dead workers'
 * jobs, bounded per-service queues, route-key affinity and Prometheus counters. One
 * bx_broker_t belongs to one thread; drive it with bx_broker_run or as a zactor. */
#ifndef BX_BROKER_H
#define BX_BROKER_H

#include <czmq.h>
#include <signal.h>

typedef struct bx_broker bx_broker_t;

typedef struct {
    const char *endpoint; /* ZeroMQ endpoint to bind, e.g. "tcp://127.0.0.1:15555" (copied) */
    int heartbeat_ms;     /* interval of heartbeats both ways */
    int liveness;         /* missed heartbeats before a worker is dead */
    long queue_max;       /* waiting jobs per service before SUBMIT is answered NAK */
    int drain_ms;         /* on stop, how long in-flight replies are awaited */
} bx_broker_opts_t;

/* Fills opts from the loaded configuration (broker_endpoint, heartbeat_ms,
 * heartbeat_liveness, broker_queue_max; drain_ms is heartbeat_ms * liveness). The endpoint
 * string is borrowed from the configuration. */
void bx_broker_opts_from_config(bx_broker_opts_t *opts);

/* Creates a broker bound to opts->endpoint. Returns NULL (reason logged) when the endpoint
 * cannot be bound or the options are out of range. The caller destroys it. */
bx_broker_t *bx_broker_new(const bx_broker_opts_t *opts);

/* Destroys the broker and every queued job; *self_p becomes NULL. Safe on NULL. Workers are
 * not told anything: bx_broker_run does that on a clean stop. */
void bx_broker_destroy(bx_broker_t **self_p);

/* Serves until *stop becomes non-zero (stop may be NULL: serve forever), then stops
 * cleanly: new SUBMITs are refused with NAK, nothing more is dispatched, in-flight replies
 * are awaited up to drain_ms, every worker is sent DISCONNECT. Returns 0 after a clean
 * stop, -1 when the socket failed. */
int bx_broker_run(bx_broker_t *self, volatile sig_atomic_t *stop);

/* Returns the broker's metrics in Prometheus text format (version 0.0.4) as a new string
 * the caller frees, or NULL when memory runs out. Call from the broker's thread only; from
 * another thread, run the broker as an actor and send it "METRICS". */
char *bx_broker_metrics_text(bx_broker_t *self);

/* zactor body: args is a const bx_broker_opts_t * (read before the actor signals). The
 * actor signals 0 once bound, or 1 and ends when the broker could not be created.
 * Commands on the pipe: "METRICS" -> one string frame with the metrics text;
 * "STOP" -> clean stop as on SIGTERM, then the actor ends; "$TERM" -> ends at once. */
void bx_broker_actor(zsock_t *pipe, void *args);

#endif
