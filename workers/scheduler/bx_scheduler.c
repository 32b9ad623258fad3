/* bx_scheduler: give-up, lease re-dispatch, outbox relay and idempotency expiry sweeps. */
#include "bx_scheduler.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_metrics.h"
#include "bx_pg.h"
#include "bx_util.h"
#include "bx_wire.h"

#define S_BATCHES_PER_TICK 10 /* statements per sweep and tick, so a tick stays short */
#define S_IDEM_EVERY       20 /* idempotency keys are purged every this many ticks */

struct bx_scheduler {
    bx_scheduler_opts_t opts; /* strings point at the copies below */
    char *pg_dsn;             /* owned */
    char *endpoint;           /* owned */
    bx_pg_t *pg;              /* NULL until connected */
    zsock_t *client;          /* DEALER to the broker, for SUBMIT */
    uint64_t ticks;           /* ticks run */
};

void bx_scheduler_opts_from_config(bx_scheduler_opts_t *opts)
{
    opts->pg_dsn = bx_config_str("pg_dsn");
    opts->endpoint = bx_config_str("broker_endpoint");
    opts->lease_s = (int)bx_config_int("request_lease_s");
    opts->batch = 500;
    opts->max_attempts = 10;
    long relay_ms = bx_config_int("outbox_relay_ms"), slow_ms = bx_config_int("scheduler_tick_ms");
    opts->slow_every = relay_ms > 0 && slow_ms > relay_ms ? (int)(slow_ms / relay_ms) : 1;
}

bx_scheduler_t *bx_scheduler_new(const bx_scheduler_opts_t *opts)
{
    bx_scheduler_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->opts = *opts;
    self->pg_dsn = strdup(opts->pg_dsn);
    self->endpoint = strdup(opts->endpoint);
    self->client = zsock_new(ZMQ_DEALER);
    if (!self->pg_dsn || !self->endpoint || !self->client ||
        zsock_connect(self->client, "%s", self->endpoint) != 0) {
        BX_ERROR("could not create scheduler client for %s", opts->endpoint);
        bx_scheduler_destroy(&self);
        return NULL;
    }
    zsock_set_sndtimeo(self->client, 0); /* never wait: the lease covers a lost SUBMIT */
    zsock_set_linger(self->client, 0);
    self->opts.pg_dsn = self->pg_dsn;
    self->opts.endpoint = self->endpoint;
    return self;
}

void bx_scheduler_destroy(bx_scheduler_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bx_scheduler_t *self = *self_p;
    bx_pg_destroy(&self->pg);
    zsock_destroy(&self->client);
    free(self->pg_dsn);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

/* A traceparent continuing trace_id with a new span, or "" without a valid trace. */
static void s_traceparent(const char *trace_id, char out[BX_WIRE_TRACE_LEN + 1])
{
    unsigned char span[8];
    char span_hex[17];
    out[0] = '\0';
    if (!trace_id || strlen(trace_id) != 32 || bx_random(span, sizeof span) != BX_OK)
        return;
    bx_hex(span, sizeof span, span_hex);
    snprintf(out, BX_WIRE_TRACE_LEN + 1, "00-%s-%s-01", trace_id, span_hex);
    if (!bx_wire_trace_valid(out))
        out[0] = '\0';
}

/* SUBMITs every row of res: id, service, route_key, payload, trace_id. A SUBMIT that
 * cannot be sent now is left to the lease. */
static void s_submit_rows(bx_scheduler_t *self, const PGresult *res)
{
    for (int r = 0; r < PQntuples(res); r++) {
        bx_wire_msg_t m = {.cmd = BX_WIRE_CMD_SUBMIT};
        const char *payload = bx_pg_val(res, r, 3);
        bx_strlcpy(m.request_id, bx_pg_val(res, r, 0), sizeof m.request_id);
        bx_strlcpy(m.service, bx_pg_val(res, r, 1), sizeof m.service);
        bx_strlcpy(m.route_key, bx_pg_val(res, r, 2), sizeof m.route_key);
        s_traceparent(bx_pg_val(res, r, 4), m.traceparent);
        m.body = zframe_new(payload, payload ? strlen(payload) : 0);
        if (bx_wire_send(self->client, &m) != BX_OK)
            BX_DEBUG("submit of %s deferred to its lease", m.request_id);
        bx_wire_msg_reset(&m);
    }
}

/* Runs a sweep statement until it returns fewer rows than a batch (or the per-tick cap);
 * submit says whether the returned rows are SUBMITted. Returns rows handled, -1 on error. */
static long s_sweep(bx_scheduler_t *self, const char *query, int nparams, const char *const *params,
                    int submit)
{
    long total = 0;
    for (int i = 0; i < S_BATCHES_PER_TICK; i++) {
        bx_err_t err;
        PGresult *res = bx_pg_query(self->pg, query, nparams, params, &err);
        if (!res) {
            BX_WARN("scheduler %s failed: %s", query, bx_pg_error(self->pg));
            return -1;
        }
        long n = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res)
                                                        : strtol(PQcmdTuples(res), NULL, 10);
        if (submit)
            s_submit_rows(self, res);
        PQclear(res);
        total += n;
        if (n < self->opts.batch)
            break;
    }
    return total;
}

static long s_give_up(bx_scheduler_t *self, const char *batch, const char *lease)
{
    (void)lease;
    char attempts[16];
    snprintf(attempts, sizeof attempts, "%d", self->opts.max_attempts);
    const char *params[] = {attempts, batch, bx_err_problem_type(BX_EINTERNAL),
                            bx_err_title(BX_EINTERNAL)};
    return s_sweep(self, "sched_give_up", 4, params, 0);
}

static long s_redispatch(bx_scheduler_t *self, const char *batch, const char *lease)
{
    const char *params[] = {batch, lease};
    return s_sweep(self, "sched_expired", 2, params, 1);
}

static long s_relay(bx_scheduler_t *self, const char *batch, const char *lease)
{
    const char *params[] = {batch, lease};
    return s_sweep(self, "sched_relay", 2, params, 1);
}

static long s_purge_idem(bx_scheduler_t *self, const char *batch, const char *lease)
{
    (void)lease;
    if ((self->ticks / (uint64_t)self->opts.slow_every) % S_IDEM_EVERY)
        return 0;
    const char *params[] = {batch};
    return s_sweep(self, "sched_idem_purge", 1, params, 0);
}

typedef struct {
    const char *name; /* for logs and the "task" label */
    long (*fn)(bx_scheduler_t *self, const char *batch, const char *lease);
    int every_tick; /* 1: every tick; 0: every opts.slow_every ticks */
} s_task_t;

/* In this order: a request that exhausted its attempts fails before it could be sent again. */
static const s_task_t s_tasks[] = {
    {"give_up", s_give_up, 0},
    {"redispatch", s_redispatch, 0},
    {"outbox_relay", s_relay, 1},
    {"idempotency_expiry", s_purge_idem, 0},
};

/* Reads and drops the broker's answers (ACK/NAK/REPLY): the scheduler needs none of them. */
static void s_drain_answers(bx_scheduler_t *self)
{
    while (zsock_events(self->client) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv(self->client);
        bx_wire_msg_t m = {0};
        char why[128];
        if (bx_wire_decode(&msg, 0, &m, why, sizeof why) == BX_OK && m.cmd == BX_WIRE_CMD_NAK)
            BX_DEBUG("broker refused %s (%s): its lease brings it back", m.request_id, m.reason);
        bx_wire_msg_reset(&m);
    }
}

void bx_scheduler_tick(void *arg)
{
    bx_scheduler_t *self = arg;
    char batch[16], lease[16];
    s_drain_answers(self);
    if (!self->pg && !(self->pg = bx_pg_new(self->opts.pg_dsn, 1)))
        return; /* logged by bx_pg; tried again next tick */
    snprintf(batch, sizeof batch, "%d", self->opts.batch);
    snprintf(lease, sizeof lease, "%d", self->opts.lease_s);
    bx_metric_t *rows = bx_metrics_counter("bx_scheduler_rows_total",
                                           "Rows handled by each scheduler sweep.", "task");
    double started = bx_metrics_now();
    int slow = self->ticks % (uint64_t)self->opts.slow_every == 0;
    for (size_t i = 0; i < sizeof s_tasks / sizeof s_tasks[0]; i++) {
        if (!s_tasks[i].every_tick && !slow)
            continue;
        long n = s_tasks[i].fn(self, batch, lease);
        if (n > 0) {
            BX_INFO("scheduler %s: %ld rows", s_tasks[i].name, n);
            bx_counter_add(bx_metric_series(rows, s_tasks[i].name), (uint64_t)n);
        }
    }
    bx_histogram_observe(
        bx_metric_series(bx_metrics_histogram("bx_scheduler_tick_duration_seconds",
                                              "Time one pass of every sweep took.", NULL, NULL, 0)),
        bx_metrics_now() - started);
    self->ticks++;
}
