/* bx_worker_int: what the runtime's two halves share: the resolved configuration the
 * executors read (immutable once they start) and the executor actor. Not for pools. */
#ifndef BX_WORKER_INT_H
#define BX_WORKER_INT_H

#include <czmq.h>

#include "bx_metrics.h"
#include "bx_util.h"
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
    int batch_max;                         /* >= 1: batch mode, jobs per transaction; 0: off */
    bx_worker_batch_key_fn batch_key;      /* batch mode: a job's key, or NULL */
    bx_worker_batch_fn batch_begin;        /* batch mode hooks, each may be NULL */
    bx_worker_batch_fn batch_end;
    bx_worker_batch_done_fn batch_done;
} bx_worker_cfg_t;

/* The handler's job: one request being run. */
struct bx_worker_job {
    char id[BX_UUID_LEN + 1];              /* request id */
    char service[BX_WIRE_SERVICE_MAX + 1]; /* the request's service */
    char topic[65];                        /* outbox topic it came from, or "" */
    char route_key[BX_WIRE_ROUTE_MAX + 1]; /* affinity key or "" */
    char user_id[BX_UUID_LEN + 1];         /* owner or "" */
    char trace_id[33];                     /* W3C trace id or "" */
    char parent_id[BX_UUID_LEN + 1];       /* request whose outbox row made this one, or "" */
    int attempt;                           /* 1 on the first run */
    json_t *payload;                       /* owned: the stored payload */
    bx_pg_t *pg;                           /* borrowed: the executor's connection */
    void *state;                           /* borrowed: thread_init's result */
    int http_status;                       /* outcome status */
    json_t *result;                        /* owned: response document or problem, or NULL */
    int failed;                            /* result is a problem */
};

/* What an executor sends back for one job. */
typedef struct {
    int release;  /* no result: hand the job back (the lease brings it again) */
    int failed;   /* terminal status failed rather than succeeded */
    int replayed; /* finished before: the stored result, nothing ran */
    char *body;   /* owned: result document as stored */
} bx_worker_outcome_t;

/* One executor thread's state. */
typedef struct {
    const bx_worker_cfg_t *cfg; /* shared, read-only */
    bx_pg_t *pg;                /* this thread's connection, NULL until first needed */
    void *state;                /* thread_init's result */
    int lost;                   /* the connection broke during the current job */
    bx_metric_t *m_jobs;        /* bx_worker_jobs_total{service,outcome} */
    bx_series_t *m_duration;    /* bx_worker_job_duration_seconds{service} */
    bx_series_t *m_batch;       /* bx_worker_batch_jobs{service} (batch mode) */
} bx_worker_exec_t;

/* zactor body of one executor; args is the const bx_worker_cfg_t *. Pipe protocol:
 * in  ["JOB", client_id, request_id, traceparent] (one at a time),
 * out one encoded BXP/1 worker message, REPLY or RELEASE, ready for the broker socket;
 * in  ["BATCH", (client_id, request_id, traceparent) x n] (batch mode),
 * out ["BATCH", one frame per job holding its encoded REPLY or RELEASE (zmsg_encode)]. */
void bx_worker_executor(zsock_t *pipe, void *args);

/* ---- shared by the single-job and the batch transaction (bx_worker_job.c) ---- */

/* Replaces out's result: failed or not, body copied ("{}" when empty). */
void bx_worker_outcome_set(bx_worker_outcome_t *out, int failed, const char *body);
/* Sets out to a problem built from err with detail. */
void bx_worker_outcome_problem(bx_worker_outcome_t *out, bx_err_t err, const char *detail);
/* When row r of res has a terminal status in column c (http status in c+1, result in
 * c+2), sets out to that stored result and returns 1; else returns 0. */
int bx_worker_outcome_stored(bx_worker_outcome_t *out, const PGresult *res, int r, int c);
/* 1 when the executor's connection is broken (and remembers it in ex->lost). */
int bx_worker_conn_lost(bx_worker_exec_t *ex);
/* Connects on first use. 1 when a connection is there. */
int bx_worker_pg_ready(bx_worker_exec_t *ex);
/* Marks one request running (see bx_worker_job.c). 1: run it; 0: out is decided. */
int bx_worker_mark_running(bx_worker_exec_t *ex, const char *id, bx_worker_outcome_t *out);
/* Fills job from row r of a pipe_lock / pipe_lock_batch result. BX_EINTERNAL when the
 * stored payload does not parse. */
bx_err_t bx_worker_job_from_row(bx_worker_job_t *job, const PGresult *res, int r);
/* Frees what job owns and zeroes it. */
void bx_worker_job_clear(bx_worker_job_t *job);
/* Last resort: fails request id with err in its own transaction unless it finished. */
void bx_worker_fail_final(bx_worker_exec_t *ex, const char *id, bx_err_t err,
                          bx_worker_outcome_t *out);
/* Sleeps a little more with each attempt (5 ms << attempt, plus jitter). */
void bx_worker_backoff(int attempt);
/* The REPLY (or RELEASE) message for out; client is borrowed. NULL on failure. */
zmsg_t *bx_worker_encode_outcome(zframe_t *client, const char *id, const bx_worker_outcome_t *out);
/* Counts out in the job metrics. */
void bx_worker_count(bx_worker_exec_t *ex, const bx_worker_outcome_t *out, double started);

/* ---- bx_worker_batch.c ---- */

/* Runs one ["BATCH", ...] message (command frame already popped) and answers on pipe. */
void bx_worker_batch_run(bx_worker_exec_t *ex, zsock_t *pipe, zmsg_t *msg);

#endif
