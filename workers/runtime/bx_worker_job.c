/* bx_worker_job: the executor threads of the worker runtime: one job at a time, its
 * transaction (mark running, lock, handler, outbox, completion, commit), the handler's
 * view of the job, and the outcome sent back as a BXP/1 REPLY or RELEASE. Batches of jobs
 * (batch mode) reuse these pieces in bx_worker_batch.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bx_log.h"
#include "bx_metrics.h"
#include "bx_util.h"
#include "bx_worker_int.h"

/* ---- handler API ---- */

const char *bx_worker_job_id(const bx_worker_job_t *job)
{
    return job->id;
}

const char *bx_worker_job_service(const bx_worker_job_t *job)
{
    return job->service;
}

const char *bx_worker_job_topic(const bx_worker_job_t *job)
{
    return job->topic;
}

const char *bx_worker_job_route_key(const bx_worker_job_t *job)
{
    return job->route_key;
}

const char *bx_worker_job_user_id(const bx_worker_job_t *job)
{
    return job->user_id;
}

const char *bx_worker_job_trace_id(const bx_worker_job_t *job)
{
    return job->trace_id;
}

const char *bx_worker_job_parent_id(const bx_worker_job_t *job)
{
    return job->parent_id;
}

int bx_worker_job_attempt(const bx_worker_job_t *job)
{
    return job->attempt;
}

json_t *bx_worker_job_payload(const bx_worker_job_t *job)
{
    return job->payload;
}

bx_pg_t *bx_worker_job_pg(bx_worker_job_t *job)
{
    return job->pg;
}

void *bx_worker_job_state(bx_worker_job_t *job)
{
    return job->state;
}

void bx_worker_job_succeed(bx_worker_job_t *job, int http_status, json_t *doc)
{
    json_decref(job->result);
    job->result = doc ? doc : json_object();
    job->http_status = http_status;
    job->failed = 0;
}

/* The bx_err class of an HTTP status, for default problem types and titles. */
static bx_err_t s_err_of_status(int status)
{
    for (int e = BX_EINVAL; e < BX_ERR_COUNT; e++)
        if (bx_err_http_status((bx_err_t)e) == status)
            return (bx_err_t)e;
    return status >= 500 ? BX_EINTERNAL : BX_EINVAL;
}

static json_t *s_problem(int status, const char *type, const char *title, const char *detail)
{
    bx_err_t e = s_err_of_status(status);
    return json_pack("{s:s, s:s, s:i, s:s}", "type", type ? type : bx_err_problem_type(e), "title",
                     title ? title : bx_err_title(e), "status", status, "detail",
                     detail ? detail : bx_err_str(e));
}

void bx_worker_job_fail(bx_worker_job_t *job, int http_status, const char *type, const char *title,
                        const char *detail)
{
    json_decref(job->result);
    job->result = s_problem(http_status, type, title, detail);
    job->http_status = http_status;
    job->failed = 1;
}

void bx_worker_job_fail_ext(bx_worker_job_t *job, bx_err_t err, const char *detail, json_t *ext)
{
    bx_worker_job_problem(job, err, detail);
    if (ext && job->result)
        json_object_update_missing(job->result, ext);
    json_decref(ext);
}

bx_err_t bx_worker_job_problem(bx_worker_job_t *job, bx_err_t err, const char *detail)
{
    bx_worker_job_fail(job, bx_err_http_status(err), bx_err_problem_type(err), bx_err_title(err),
                       detail);
    return err;
}

bx_err_t bx_worker_outbox_id(bx_worker_job_t *job, const char *service, const char *topic,
                             const char *route_key, json_t *payload, char *id_out)
{
    bx_err_t rc = BX_EINVAL;
    char id[BX_UUID_LEN + 1];
    char *text = NULL;
    if (!bx_wire_service_valid(service) || !topic || !*topic || strlen(topic) > 64 ||
        (route_key && !bx_wire_route_valid(route_key)) || !payload)
        goto out;
    rc = BX_ENOMEM;
    if (!(text = json_dumps(payload, JSON_COMPACT)))
        goto out;
    bx_uuid_v7(id);
    const char *params[] = {service, topic, route_key ? route_key : "", text, id, job->id};
    rc = bx_pg_run(job->pg, "pipe_outbox_insert", 6, params);
    if (rc == BX_OK && id_out)
        memcpy(id_out, id, sizeof id);
out:
    free(text);
    json_decref(payload);
    return rc;
}

bx_err_t bx_worker_outbox(bx_worker_job_t *job, const char *service, const char *topic,
                          const char *route_key, json_t *payload)
{
    return bx_worker_outbox_id(job, service, topic, route_key, payload, NULL);
}

/* ---- outcomes ---- */

void bx_worker_outcome_set(bx_worker_outcome_t *out, int failed, const char *body)
{
    free(out->body);
    out->release = 0;
    out->replayed = 0;
    out->failed = failed;
    out->body = strdup(body && *body ? body : "{}");
}

void bx_worker_outcome_problem(bx_worker_outcome_t *out, bx_err_t err, const char *detail)
{
    json_t *p = s_problem(bx_err_http_status(err), NULL, NULL, detail);
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    bx_worker_outcome_set(out, 1, text);
    free(text);
    json_decref(p);
}

int bx_worker_outcome_stored(bx_worker_outcome_t *out, const PGresult *res, int r, int c)
{
    const char *status = bx_pg_val(res, r, c);
    if (!status || (strcmp(status, BX_WIRE_SUCCEEDED) && strcmp(status, BX_WIRE_FAILED)))
        return 0;
    bx_worker_outcome_set(out, !strcmp(status, BX_WIRE_FAILED), bx_pg_val(res, r, c + 2));
    out->replayed = 1;
    return 1;
}

/* ---- the job transaction ---- */

int bx_worker_conn_lost(bx_worker_exec_t *ex)
{
    if (ex->pg && PQstatus(bx_pg_conn(ex->pg)) == CONNECTION_BAD)
        ex->lost = 1;
    return ex->lost;
}

/* Connects on first use; the async-commit default is for the cheap "running" mark only,
 * every job transaction sets synchronous_commit back on. */
int bx_worker_pg_ready(bx_worker_exec_t *ex)
{
    if (!ex->pg && (ex->pg = bx_pg_new(ex->cfg->pg_dsn, 1)) != NULL)
        (void)bx_pg_exec(ex->pg, "SET synchronous_commit TO off");
    return ex->pg != NULL;
}

/* Marks the request running and extends its lease. Returns 1 when the job should run,
 * 0 when out is already decided: the stored result of a finished request, 404 for an
 * unknown one, or release (database trouble, or a row of another service: a SUBMIT that
 * named the wrong service is left to the scheduler, which routes by the row). */
int bx_worker_mark_running(bx_worker_exec_t *ex, const char *id, bx_worker_outcome_t *out)
{
    char lease[16];
    bx_err_t err;
    snprintf(lease, sizeof lease, "%d", ex->cfg->lease_s);
    const char *params[] = {id, lease, ex->cfg->service};
    PGresult *res = bx_pg_query(ex->pg, "pipe_mark_running", 3, params, &err);
    int run = res && PQntuples(res) == 1;
    PQclear(res);
    if (run)
        return 1;
    if (err != BX_OK) {
        bx_worker_conn_lost(ex);
        BX_WARN("could not mark request %s running: %s", id, bx_pg_error(ex->pg));
        out->release = 1;
        return 0;
    }
    res = bx_pg_query(ex->pg, "pipe_stored", 1, params, &err);
    if (res && PQntuples(res) == 1 && bx_worker_outcome_stored(out, res, 0, 0))
        BX_DEBUG("request %s already finished: stored result replayed", id);
    else if (res && PQntuples(res) == 0)
        bx_worker_outcome_problem(out, BX_ENOTFOUND, "no such request");
    else if (res)
        BX_WARN("request %s belongs to service %s, not %s: handed back", id, bx_pg_val(res, 0, 3),
                ex->cfg->service);
    if (!out->body)
        out->release = 1;
    bx_worker_conn_lost(ex);
    PQclear(res);
    return 0;
}

static void s_copy_col(char *dst, size_t cap, const PGresult *res, int r, int c)
{
    const char *v = bx_pg_val(res, r, c);
    bx_strlcpy(dst, v ? v : "", cap);
}

bx_err_t bx_worker_job_from_row(bx_worker_job_t *job, const PGresult *res, int r)
{
    json_error_t jerr;
    const char *payload = bx_pg_val(res, r, 3);
    job->payload = payload ? json_loads(payload, JSON_DECODE_ANY, &jerr) : NULL;
    if (!job->payload)
        return BX_EINTERNAL;
    s_copy_col(job->service, sizeof job->service, res, r, 4);
    s_copy_col(job->topic, sizeof job->topic, res, r, 5);
    s_copy_col(job->route_key, sizeof job->route_key, res, r, 6);
    s_copy_col(job->user_id, sizeof job->user_id, res, r, 7);
    s_copy_col(job->trace_id, sizeof job->trace_id, res, r, 8);
    s_copy_col(job->parent_id, sizeof job->parent_id, res, r, 9);
    const char *attempts = bx_pg_val(res, r, 10);
    job->attempt = attempts ? (int)strtol(attempts, NULL, 10) : 1;
    return BX_OK;
}

/* Runs the handler between SAVEPOINT and its completion; a failing handler's writes are
 * rolled back to the savepoint and the request fails with its problem. */
static bx_err_t s_call_handler(bx_worker_exec_t *ex, bx_worker_job_t *job)
{
    bx_err_t rc = bx_pg_exec(ex->pg, "SAVEPOINT job");
    if (rc != BX_OK)
        return rc;
    bx_err_t hrc = ex->cfg->handler(job);
    if (hrc == BX_ERETRY || bx_worker_conn_lost(ex))
        return hrc == BX_OK ? BX_EUNAVAILABLE : hrc;
    if (hrc == BX_OK) {
        if (!job->result)
            bx_worker_job_succeed(job, 200, NULL);
        return BX_OK;
    }
    rc = bx_pg_exec(ex->pg, "ROLLBACK TO SAVEPOINT job");
    if (!job->failed || !job->result)
        bx_worker_job_problem(job, hrc, bx_err_str(hrc));
    BX_INFO("job %s failed: %s", job->id, bx_err_str(hrc));
    return rc;
}

/* Writes the outcome into the row and commits; fills out on success with the result as
 * PostgreSQL stores it, so a first reply and a replayed one carry the same bytes. */
bx_err_t bx_worker_complete(bx_worker_exec_t *ex, bx_worker_job_t *job, bx_worker_outcome_t *out)
{
    char status[8];
    bx_err_t rc;
    char *body = json_dumps(job->result, JSON_COMPACT);
    if (!body)
        return BX_ENOMEM;
    snprintf(status, sizeof status, "%d", job->http_status);
    const char *params[] = {job->id, job->failed ? BX_WIRE_FAILED : BX_WIRE_SUCCEEDED, status,
                            body};
    PGresult *res = bx_pg_query(ex->pg, "pipe_complete", 4, params, &rc);
    if (rc == BX_OK && PQntuples(res) != 1)
        rc = BX_EINTERNAL; /* cannot happen under the row lock */
    if (rc == BX_OK)
        rc = bx_pg_commit(ex->pg);
    if (rc == BX_OK)
        bx_worker_outcome_set(out, job->failed, bx_pg_val(res, 0, 0));
    PQclear(res);
    free(body);
    return rc;
}

void bx_worker_job_clear(bx_worker_job_t *job)
{
    json_decref(job->payload);
    json_decref(job->result);
    memset(job, 0, sizeof *job);
}

/* One run of the job transaction. BX_OK: out is decided. BX_ERETRY: run it again.
 * Anything else: ex->lost tells a broken connection from a failure to record. */
static bx_err_t s_transaction(bx_worker_exec_t *ex, const char *id, bx_worker_outcome_t *out)
{
    bx_worker_job_t job = {.pg = ex->pg, .state = ex->state};
    bx_err_t rc = bx_pg_exec(ex->pg, "BEGIN; SET LOCAL synchronous_commit TO on");
    PGresult *res = NULL;
    const char *params[] = {id};
    if (rc == BX_OK)
        res = bx_pg_query(ex->pg, "pipe_lock", 1, params, &rc);
    if (rc != BX_OK)
        goto out;
    if (PQntuples(res) == 0) {
        bx_worker_outcome_problem(out, BX_ENOTFOUND, "no such request");
        goto out;
    }
    if (bx_worker_outcome_stored(out, res, 0,
                                 0)) /* finished by an earlier delivery: exactly once */
        goto out;
    bx_strlcpy(job.id, id, sizeof job.id);
    rc = bx_worker_job_from_row(&job, res, 0);
    if (rc == BX_OK)
        rc = s_call_handler(ex, &job);
    if (rc == BX_OK)
        rc = bx_worker_complete(ex, &job, out);
out:
    if (rc != BX_OK)
        bx_worker_conn_lost(ex);
    PQclear(res);
    bx_worker_job_clear(&job);
    if (!ex->lost)              /* a dead connection rolled back on the server already */
        bx_pg_rollback(ex->pg); /* no-op after COMMIT */
    return rc;
}

/* Last resort when a job cannot be recorded normally: fail it with a problem in its own
 * transaction, unless it finished meanwhile. */
void bx_worker_fail_final(bx_worker_exec_t *ex, const char *id, bx_err_t err,
                          bx_worker_outcome_t *out)
{
    bx_worker_job_t job = {.pg = ex->pg};
    const char *params[] = {id};
    bx_err_t rc = bx_pg_exec(ex->pg, "BEGIN; SET LOCAL synchronous_commit TO on");
    PGresult *res = rc == BX_OK ? bx_pg_query(ex->pg, "pipe_lock", 1, params, &rc) : NULL;
    if (res && PQntuples(res) == 1 && !bx_worker_outcome_stored(out, res, 0, 0)) {
        bx_strlcpy(job.id, id, sizeof job.id);
        bx_worker_job_problem(&job, err, "the job could not be completed");
        rc = bx_worker_complete(ex, &job, out);
    }
    if (rc != BX_OK || !res || PQntuples(res) != 1) {
        bx_worker_conn_lost(ex);
        out->release = 1;
    }
    PQclear(res);
    bx_worker_job_clear(&job);
    if (!ex->lost)
        bx_pg_rollback(ex->pg);
}

void bx_worker_backoff(int attempt)
{
    unsigned char r = 0;
    (void)bx_random(&r, 1);
    long ms = (5L << attempt) + r % 10;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void s_run(bx_worker_exec_t *ex, const char *id, bx_worker_outcome_t *out)
{
    bx_err_t rc = BX_ERETRY;
    ex->lost = 0;
    if (!bx_uuid_valid(id)) {
        bx_worker_outcome_problem(out, BX_ENOTFOUND, "no such request");
        return;
    }
    if (!bx_worker_pg_ready(ex) || !bx_worker_mark_running(ex, id, out))
        goto out;
    for (int i = 0; i < BX_WORKER_TX_TRIES && rc == BX_ERETRY && !ex->lost; i++) {
        if (i)
            bx_worker_backoff(i);
        rc = s_transaction(ex, id, out);
    }
    if (rc != BX_OK && !ex->lost)
        bx_worker_fail_final(ex, id, rc == BX_ERETRY ? BX_EUNAVAILABLE : BX_EINTERNAL, out);
out:
    if (!out->body)
        out->release = 1;
    if (ex->lost || !ex->pg) {
        out->release = 1;
        BX_WARN("job %s handed back: postgresql connection lost", id);
    }
}

/* ---- the executor actor ---- */

zmsg_t *bx_worker_encode_outcome(zframe_t *client, const char *id, const bx_worker_outcome_t *out)
{
    bx_wire_msg_t m = {.cmd = out->release ? BX_WIRE_CMD_RELEASE : BX_WIRE_CMD_WREPLY};
    bx_strlcpy(m.request_id, id, sizeof m.request_id);
    if (!out->release) {
        m.client = client;
        bx_strlcpy(m.status, out->failed ? BX_WIRE_FAILED : BX_WIRE_SUCCEEDED, sizeof m.status);
        m.body = zframe_new(out->body, strlen(out->body));
    }
    zmsg_t *msg = bx_wire_encode(&m);
    m.client = NULL; /* borrowed */
    bx_wire_msg_reset(&m);
    return msg;
}

void bx_worker_count(bx_worker_exec_t *ex, const bx_worker_outcome_t *out, double started)
{
    const char *outcome = out->release    ? "released"
                          : out->replayed ? "replayed"
                          : out->failed   ? BX_WIRE_FAILED
                                          : BX_WIRE_SUCCEEDED;
    bx_counter_inc(bx_metric_series(ex->m_jobs, ex->cfg->service, outcome));
    bx_histogram_observe(ex->m_duration, bx_metrics_now() - started);
}

/* Runs one ["JOB", client, id, traceparent] and answers on the pipe. */
static void s_on_job(bx_worker_exec_t *ex, zsock_t *pipe, zmsg_t *msg)
{
    double started = bx_metrics_now();
    zframe_t *client = zmsg_pop(msg);
    char *id = zmsg_popstr(msg), *tp = zmsg_popstr(msg);
    bx_worker_outcome_t out = {0};
    char trace[33] = "";
    if (tp && strlen(tp) == BX_WIRE_TRACE_LEN)
        bx_strlcpy(trace, tp + 3, sizeof trace);
    bx_log_context(id, trace, id);
    s_run(ex, id ? id : "", &out);
    bx_worker_count(ex, &out, started);
    zmsg_t *reply = client && id ? bx_worker_encode_outcome(client, id, &out) : NULL;
    if (!reply) /* cannot happen for well-formed jobs; main still needs an answer */
        reply = zmsg_new();
    zmsg_send(&reply, pipe);
    bx_log_context(NULL, NULL, NULL);
    free(out.body);
    zstr_free(&id);
    zstr_free(&tp);
    zframe_destroy(&client);
}

void bx_worker_executor(zsock_t *pipe, void *args)
{
    bx_worker_exec_t ex = {.cfg = args};
    ex.m_jobs = bx_metrics_counter("bx_worker_jobs_total",
                                   "Jobs run, by outcome: succeeded, failed, replayed (already "
                                   "finished) or released (handed back without a result).",
                                   "service,outcome");
    ex.m_duration =
        bx_metric_series(bx_metrics_histogram("bx_worker_job_duration_seconds",
                                              "Time from REQUEST to REPLY.", "service", NULL, 0),
                         ex.cfg->service);
    static const double sizes[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
    if (ex.cfg->batch_max)
        ex.m_batch = bx_metric_series(
            bx_metrics_histogram("bx_worker_batch_jobs", "Jobs per batch transaction (batch mode).",
                                 "service", sizes, (int)(sizeof sizes / sizeof sizes[0])),
            ex.cfg->service);
    if (ex.cfg->thread_init)
        ex.state = ex.cfg->thread_init(ex.cfg->arg);
    (void)bx_worker_pg_ready(&ex);
    zsock_signal(pipe, 0);
    for (;;) {
        zmsg_t *msg = zmsg_recv(pipe);
        char *cmd = msg ? zmsg_popstr(msg) : NULL;
        int job = cmd && (!strcmp(cmd, "JOB") || !strcmp(cmd, "BATCH"));
        if (job && !strcmp(cmd, "JOB"))
            s_on_job(&ex, pipe, msg);
        else if (job)
            bx_worker_batch_run(&ex, pipe, msg);
        zstr_free(&cmd);
        zmsg_destroy(&msg);
        if (!job)
            break; /* $TERM or the pipe closed */
    }
    if (ex.cfg->thread_fini)
        ex.cfg->thread_fini(ex.state);
    bx_pg_destroy(&ex.pg);
}
