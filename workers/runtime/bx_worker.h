/* bx_worker: the runtime every worker pool uses. It registers with the broker (READY with
 * credit), heartbeats, reconnects with backoff (1 s doubling to 32 s) when the broker goes
 * silent, runs each REQUEST on one of `credit` executor threads (each with its own
 * PostgreSQL connection), and commits the handler's effects, its outbox rows and the
 * request's completion in one transaction before it replies. Replaying a request is
 * harmless: a request already succeeded or failed is answered with its stored result.
 * SIGTERM drains: DRAIN to the broker, in-flight jobs finish, then the process exits 0.
 *
 * Threads: bx_worker_run runs in the calling thread and owns the broker socket; handlers
 * run on executor threads and may touch only their job (and their thread's state). */
#ifndef BX_WORKER_H
#define BX_WORKER_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>

#include "bx_err.h"
#include "bx_pg.h"

typedef struct bx_worker bx_worker_t;
typedef struct bx_worker_job bx_worker_job_t;

/* A handler runs inside the job's transaction (after SAVEPOINT job). It returns BX_OK to
 * commit what it wrote, with the outcome set by bx_worker_job_succeed (or
 * bx_worker_job_fail, for a failure whose writes must stay, such as a compensation); a
 * handler that sets nothing succeeds with 200 and {}. Any other return rolls its writes
 * back to the savepoint and fails the request with the problem set by
 * bx_worker_job_fail/bx_worker_job_problem, else with one built from the error. BX_ERETRY
 * (serialization failure, deadlock) reruns the whole transaction, a few times. */
typedef bx_err_t (*bx_worker_handler_fn)(bx_worker_job_t *job);

/* Periodic work run on the main thread between broker messages (keep it short: heartbeats
 * wait for it). */
typedef void (*bx_worker_tick_fn)(void *arg);

/* ---- batch mode ----
 * With batch_max >= 1 the runtime runs up to batch_max jobs in ONE transaction, so one
 * commit (one fsync) covers them all: mark them running (one statement), BEGIN, lock every
 * request row FOR UPDATE in id order, answer the rows that are already terminal with their
 * stored result (exactly once, as for single jobs), then batch_begin, then for each job
 * SAVEPOINT + handler (+ ROLLBACK TO SAVEPOINT when it fails: its writes go, the others
 * stay), then batch_end, then every completion in one statement and COMMIT. BX_ERETRY
 * (serialization failure, deadlock) from a hook, a handler or the COMMIT reruns the whole
 * batch (a few times); any other failure outside a handler fails every job of the batch
 * (500, in its own transaction, nothing else written); a lost connection hands every job
 * back (RELEASE: the lease brings them again). The broker grants credit for executors x
 * batch_max jobs; the main thread queues them per executor by key (batch_key: jobs of one
 * key always go to the same executor, one batch at a time, in arrival order) and hands an
 * idle executor everything queued for it, up to batch_max. */
typedef struct bx_worker_batch bx_worker_batch_t;

/* Writes the grouping key of a job, read from its REQUEST payload (len bytes, not
 * NUL-terminated, not trusted: it only places the job), into out (cap bytes); "" is a key
 * too. */
typedef void (*bx_worker_batch_key_fn)(const char *payload, size_t len, char *out, size_t cap);

/* A batch hook, run inside the batch's transaction. BX_OK goes on; BX_ERETRY reruns the
 * batch; any other error fails every job of the batch (500; nothing written). */
typedef bx_err_t (*bx_worker_batch_fn)(bx_worker_batch_t *batch);

/* Called after the batch's transaction ended: committed is 1 after COMMIT, 0 after a
 * rollback (state the pool derived from the batch's writes is then stale). */
typedef void (*bx_worker_batch_done_fn)(bx_worker_batch_t *batch, int committed);

typedef struct {
    const char *service;          /* service served, e.g. "echo" (copied) */
    bx_worker_handler_fn handler; /* called once per job attempt; NULL: presence only
                                     (registers with credit 0, takes no jobs) */
    const char *endpoint;         /* broker endpoint; NULL: config broker_endpoint */
    const char *pg_dsn;           /* NULL: config pg_dsn */
    int credit;                   /* executor threads = jobs at once; 0: worker_credit */
    int heartbeat_ms;             /* 0: config heartbeat_ms */
    int liveness;                 /* 0: config heartbeat_liveness */
    int lease_s;                  /* 0: config request_lease_s */
    int drain_timeout_ms;         /* 0: 30000; in-flight jobs after SIGTERM are awaited so long */
    void *(*thread_init)(void *arg);    /* optional: per-executor state, made on its thread */
    void (*thread_fini)(void *state);   /* optional: frees that state on its thread */
    void *arg;                          /* passed to thread_init and tick */
    bx_worker_tick_fn tick;             /* optional periodic work on the main thread */
    int tick_ms;                        /* its period; 0: config scheduler_tick_ms */
    int metrics_port;                   /* /metrics while running; 0: config metrics_port
                                           (0 there: none); -1: none */
    int batch_max;                      /* >= 1: batch mode (above) with batches of at most
                                           this many jobs (<= BX_WORKER_BATCH_MAX); 0: one job
                                           per transaction, no batch hooks */
    bx_worker_batch_key_fn batch_key;   /* batch mode: the job's key; NULL: one key for all */
    bx_worker_batch_fn batch_begin;     /* batch mode: after the rows are locked; may be NULL */
    bx_worker_batch_fn batch_end;       /* batch mode: after the last handler; may be NULL */
    bx_worker_batch_done_fn batch_done; /* batch mode: after commit or rollback; may be NULL */
} bx_worker_opts_t;

#define BX_WORKER_BATCH_MAX 256 /* largest batch_max */

/* Creates a worker and starts its executors (each connects to PostgreSQL now and again
 * when its connection breaks, so a database that is down at start only delays jobs).
 * Nothing is sent to the broker yet. Returns NULL when the options are invalid (no
 * handler and no tick, bad service name) or threads cannot start (reason logged). */
bx_worker_t *bx_worker_new(const bx_worker_opts_t *opts);

/* Stops the executors (each finishes its current job first) and frees the worker; *self_p
 * becomes NULL. Safe on NULL. */
void bx_worker_destroy(bx_worker_t **self_p);

/* Serves the broker until *stop becomes non-zero (stop may be NULL), then drains. While
 * it runs, the process's metrics registry is served on the metrics port, if any. Returns
 * 0 after a clean drain, -1 when the drain timed out with jobs still running or the metrics
 * port could not be bound. */
int bx_worker_run(bx_worker_t *self, volatile sig_atomic_t *stop);

/* The whole main() of a pool: loads configuration (exit 2 when invalid), sets up logging
 * as svc, installs SIGTERM/SIGINT handlers that only set a flag, creates and runs the
 * worker, and returns the process exit code (0 after a clean drain). */
int bx_worker_main(const char *svc, const bx_worker_opts_t *opts);

/* Loads and validates the configuration and sets up logging as svc (the first half of
 * bx_worker_main). Returns BX_OK, or BX_EINVAL after printing why. */
bx_err_t bx_worker_boot(const char *svc);

/* Installs SIGTERM/SIGINT handlers that set *flag, ignores SIGPIPE, and initializes
 * ZeroMQ with those signals blocked so they reach the polling thread. For processes that
 * run their own loop (the scheduler). */
void bx_worker_signals(volatile sig_atomic_t *flag);

/* ---- what a handler sees; every pointer is borrowed for the duration of the call ---- */

const char *bx_worker_job_id(const bx_worker_job_t *job);        /* request id (UUID) */
const char *bx_worker_job_service(const bx_worker_job_t *job);   /* service */
const char *bx_worker_job_topic(const bx_worker_job_t *job);     /* outbox topic or "" */
const char *bx_worker_job_route_key(const bx_worker_job_t *job); /* "" when none */
const char *bx_worker_job_user_id(const bx_worker_job_t *job);   /* "" when none */
const char *bx_worker_job_trace_id(const bx_worker_job_t *job);  /* 32 hex or "" */
const char *bx_worker_job_parent_id(const bx_worker_job_t *job); /* request that wrote it, or "" */
int bx_worker_job_attempt(const bx_worker_job_t *job);           /* 1 on the first run */
json_t *bx_worker_job_payload(const bx_worker_job_t *job);       /* the stored payload */
bx_pg_t *bx_worker_job_pg(bx_worker_job_t *job);                 /* inside the transaction */
void *bx_worker_job_state(bx_worker_job_t *job);                 /* thread_init's result */

/* Sets the outcome: succeeded with http_status and doc (stolen; NULL means {}). */
void bx_worker_job_succeed(bx_worker_job_t *job, int http_status, json_t *doc);

/* Sets the outcome: failed with an RFC 9457 problem {type, title, status, detail}. type and
 * title may be NULL (then derived from the status' error class); strings are copied. */
void bx_worker_job_fail(bx_worker_job_t *job, int http_status, const char *type, const char *title,
                        const char *detail);

/* Like bx_worker_job_problem, with the members of ext (stolen, may be NULL) added to the
 * problem document (e.g. "unavailable": [...]). */
void bx_worker_job_fail_ext(bx_worker_job_t *job, bx_err_t err, const char *detail, json_t *ext);

/* ---- what batch hooks see; every pointer is borrowed for the duration of the call ---- */

int bx_worker_batch_size(const bx_worker_batch_t *batch);              /* jobs that run */
bx_worker_job_t *bx_worker_batch_job(bx_worker_batch_t *batch, int i); /* 0 <= i < size */
bx_pg_t *bx_worker_batch_pg(bx_worker_batch_t *batch);                 /* in the transaction */
void *bx_worker_batch_state(bx_worker_batch_t *batch);                 /* thread_init's result */

/* Sets a failed outcome from err (status, type and title of bx_err) with detail, and
 * returns err, so a handler can write: return bx_worker_job_problem(job, BX_EINVAL, "..."). */
bx_err_t bx_worker_job_problem(bx_worker_job_t *job, bx_err_t err, const char *detail);

/* Writes a follow-up job to the outbox in the job's transaction: the scheduler turns it
 * into a durable request for service (with this job's user and trace, topic kept) once
 * the transaction commits, exactly once. payload is stolen. route_key may be NULL. When
 * id_out is not NULL it receives the follow-up request's id (37 bytes), which the handler
 * may put in its result. Returns BX_OK, BX_EINVAL for a bad service/topic/route key, or
 * the database error (BX_ERETRY among them: return it). */
bx_err_t bx_worker_outbox_id(bx_worker_job_t *job, const char *service, const char *topic,
                             const char *route_key, json_t *payload, char *id_out);

/* bx_worker_outbox_id without the id. */
bx_err_t bx_worker_outbox(bx_worker_job_t *job, const char *service, const char *topic,
                          const char *route_key, json_t *payload);

#endif
