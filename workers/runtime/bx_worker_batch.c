/* bx_worker_batch: batch mode of the executors. Up to batch_max jobs run in one
 * transaction: every request row is locked FOR UPDATE (in id order) and checked terminal
 * before anything runs, each handler runs under its own savepoint, all completions are
 * written by one statement and one COMMIT makes them durable together. Exactly-once holds
 * per job as in bx_worker_job.c: a job whose row is already succeeded or failed is answered
 * with its stored result and its handler does not run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bx_log.h"
#include "bx_worker_int.h"

#define S_ID_LIST_CAP (BX_WORKER_BATCH_MAX * (BX_UUID_LEN + 1) + 3) /* "{id,id,...}" */

struct bx_worker_batch {
    bx_worker_exec_t *ex;  /* the executor running it */
    bx_worker_job_t **run; /* the jobs whose handlers run in this attempt */
    int n;                 /* entries in run */
};

/* One job of the batch message. */
typedef struct {
    zframe_t *client;            /* owned: routing id of the submitting client */
    char id[BX_WIRE_ID_MAX + 1]; /* request id */
    int run;                     /* marked running: it goes into the transaction */
    bx_worker_outcome_t out;     /* decided outcome (body NULL while undecided) */
    bx_worker_job_t job;         /* the job, filled from its locked row */
} s_item_t;

/* ---- hook view ---- */

int bx_worker_batch_size(const bx_worker_batch_t *batch)
{
    return batch->n;
}

bx_worker_job_t *bx_worker_batch_job(bx_worker_batch_t *batch, int i)
{
    return i >= 0 && i < batch->n ? batch->run[i] : NULL;
}

bx_pg_t *bx_worker_batch_pg(bx_worker_batch_t *batch)
{
    return batch->ex->pg;
}

void *bx_worker_batch_state(bx_worker_batch_t *batch)
{
    return batch->ex->state;
}

/* ---- parsing and marking ---- */

/* Pops (client, id, traceparent) triplets from msg into items. Returns how many. */
static int s_parse(zmsg_t *msg, s_item_t *items, int cap)
{
    int n = 0;
    while (n < cap && zmsg_size(msg) >= 3) {
        s_item_t *it = &items[n++];
        it->client = zmsg_pop(msg);
        char *id = zmsg_popstr(msg), *tp = zmsg_popstr(msg); /* the row has the trace */
        bx_strlcpy(it->id, id ? id : "", sizeof it->id);
        zstr_free(&id);
        zstr_free(&tp);
    }
    return n;
}

/* "{a,b,c}" of the ids of items that satisfy want (run, or all valid ones). Ids are
 * validated UUIDs, so the array literal needs no quoting. */
static void s_id_list(const s_item_t *items, int n, int only_run, char *out, size_t cap)
{
    size_t len = bx_strlcpy(out, "{", cap);
    for (int i = 0; i < n; i++) {
        if ((only_run && !items[i].run) || !bx_uuid_valid(items[i].id) || len + 40 >= cap)
            continue;
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len > 1 ? "," : "", items[i].id);
    }
    bx_strlcpy(out + len, "}", cap - len);
}

static s_item_t *s_find(s_item_t *items, int n, const char *id)
{
    for (int i = 0; id && i < n; i++)
        if (!strcasecmp(items[i].id, id))
            return &items[i];
    return NULL;
}

/* Marks every valid request running in one statement; those it did not mark are decided
 * one by one as single jobs are (stored result, 404 or release). */
static void s_mark(bx_worker_exec_t *ex, s_item_t *items, int n)
{
    char ids[S_ID_LIST_CAP], lease[16];
    bx_err_t err;
    s_id_list(items, n, 0, ids, sizeof ids);
    snprintf(lease, sizeof lease, "%d", ex->cfg->lease_s);
    const char *p[] = {ids, lease, ex->cfg->service};
    PGresult *res = bx_pg_query(ex->pg, "pipe_mark_running_batch", 3, p, &err);
    for (int r = 0; res && r < PQntuples(res); r++) {
        s_item_t *it = s_find(items, n, bx_pg_val(res, r, 0));
        if (it)
            it->run = 1;
    }
    PQclear(res);
    for (int i = 0; i < n && !bx_worker_conn_lost(ex); i++) {
        if (items[i].run || items[i].out.body || items[i].out.release)
            continue;
        if (!bx_uuid_valid(items[i].id))
            bx_worker_outcome_problem(&items[i].out, BX_ENOTFOUND, "no such request");
        else if (!res)
            items[i].out.release = 1; /* the batch statement failed: the lease brings it back */
        else
            items[i].run = bx_worker_mark_running(ex, items[i].id, &items[i].out);
    }
}

/* ---- the transaction ---- */

/* Locks the rows of the running items; answers the terminal ones with their stored result
 * and fills the jobs of the others into batch. */
static bx_err_t s_lock(bx_worker_exec_t *ex, s_item_t *items, int n, bx_worker_batch_t *batch)
{
    char ids[S_ID_LIST_CAP];
    bx_err_t rc;
    s_id_list(items, n, 1, ids, sizeof ids);
    const char *p[] = {ids};
    PGresult *res = bx_pg_query(ex->pg, "pipe_lock_batch", 1, p, &rc);
    for (int r = 0; res && rc == BX_OK && r < PQntuples(res); r++) {
        s_item_t *it = s_find(items, n, bx_pg_val(res, r, 11));
        if (!it || bx_worker_outcome_stored(&it->out, res, r, 0))
            continue; /* finished by an earlier delivery: exactly once */
        it->job.pg = ex->pg;
        it->job.state = ex->state;
        bx_strlcpy(it->job.id, it->id, sizeof it->job.id);
        rc = bx_worker_job_from_row(&it->job, res, r);
        if (rc == BX_OK)
            batch->run[batch->n++] = &it->job;
    }
    for (int i = 0; res && rc == BX_OK && i < n; i++)
        if (items[i].run && !items[i].out.body && !items[i].job.id[0])
            bx_worker_outcome_problem(&items[i].out, BX_ENOTFOUND, "no such request");
    PQclear(res);
    return rc;
}

/* Runs one handler under the savepoint "job" (re-established for each job: the previous
 * one is released in the same round trip). A failing handler's writes are rolled back to
 * it and its job fails with its problem; the batch goes on. */
static bx_err_t s_call(bx_worker_exec_t *ex, bx_worker_job_t *job, int *sp_open)
{
    bx_err_t rc =
        bx_pg_exec(ex->pg, *sp_open ? "RELEASE SAVEPOINT job; SAVEPOINT job" : "SAVEPOINT job");
    if (rc != BX_OK)
        return rc;
    *sp_open = 1;
    bx_log_context(job->id, job->trace_id, job->id);
    bx_err_t hrc = ex->cfg->handler(job);
    if (hrc == BX_ERETRY || bx_worker_conn_lost(ex))
        return hrc == BX_OK ? BX_EUNAVAILABLE : hrc;
    if (hrc == BX_OK) {
        if (!job->result)
            bx_worker_job_succeed(job, 200, NULL);
        return BX_OK;
    }
    if (!job->failed || !job->result)
        bx_worker_job_problem(job, hrc, bx_err_str(hrc));
    BX_INFO("job %s failed: %s", job->id, bx_err_str(hrc));
    return bx_pg_exec(ex->pg, "ROLLBACK TO SAVEPOINT job");
}

/* The completions of every job that ran, as the JSON array pipe_complete_batch reads. */
static char *s_completions(bx_worker_batch_t *batch)
{
    json_t *arr = json_array();
    for (int i = 0; arr && i < batch->n; i++) {
        bx_worker_job_t *job = batch->run[i];
        json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:O}", "id", job->id, "status",
                                             job->failed ? BX_WIRE_FAILED : BX_WIRE_SUCCEEDED,
                                             "http", job->http_status, "result", job->result));
    }
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return text;
}

/* Writes every completion and commits; on success each item gets its result as stored. */
static bx_err_t s_complete(bx_worker_exec_t *ex, s_item_t *items, int n, bx_worker_batch_t *batch)
{
    bx_err_t rc = BX_OK;
    PGresult *res = NULL;
    char *text = batch->n ? s_completions(batch) : NULL;
    if (batch->n && !text)
        return BX_ENOMEM;
    if (text) {
        const char *p[] = {text};
        res = bx_pg_query(ex->pg, "pipe_complete_batch", 1, p, &rc);
        if (rc == BX_OK && PQntuples(res) != batch->n)
            rc = BX_EINTERNAL; /* cannot happen under the row locks */
    }
    if (rc == BX_OK)
        rc = bx_pg_commit(ex->pg);
    for (int r = 0; rc == BX_OK && res && r < PQntuples(res); r++) {
        s_item_t *it = s_find(items, n, bx_pg_val(res, r, 0));
        if (it)
            bx_worker_outcome_set(&it->out, it->job.failed, bx_pg_val(res, r, 1));
    }
    PQclear(res);
    free(text);
    return rc;
}

/* Forgets what an aborted attempt decided inside its transaction. */
static void s_reset(s_item_t *items, int n)
{
    for (int i = 0; i < n; i++) {
        if (!items[i].run)
            continue;
        bx_worker_job_clear(&items[i].job);
        free(items[i].out.body);
        memset(&items[i].out, 0, sizeof items[i].out);
    }
}

/* One run of the batch transaction. BX_OK: every running item is decided. */
static bx_err_t s_transaction(bx_worker_exec_t *ex, s_item_t *items, int n)
{
    bx_worker_job_t *run[BX_WORKER_BATCH_MAX];
    bx_worker_batch_t batch = {.ex = ex, .run = run};
    const bx_worker_cfg_t *cfg = ex->cfg;
    int sp_open = 0;
    s_reset(items, n);
    bx_err_t rc = bx_pg_exec(ex->pg, "BEGIN; SET LOCAL synchronous_commit TO on");
    if (rc == BX_OK)
        rc = s_lock(ex, items, n, &batch);
    if (rc == BX_OK && batch.n && cfg->batch_begin)
        rc = cfg->batch_begin(&batch);
    for (int i = 0; rc == BX_OK && i < batch.n; i++)
        rc = s_call(ex, run[i], &sp_open);
    if (rc == BX_OK && batch.n && cfg->batch_end)
        rc = cfg->batch_end(&batch);
    if (rc == BX_OK)
        rc = s_complete(ex, items, n, &batch);
    if (rc != BX_OK)
        bx_worker_conn_lost(ex);
    if (!ex->lost)
        bx_pg_rollback(ex->pg); /* no-op after COMMIT */
    if (batch.n && cfg->batch_done)
        cfg->batch_done(&batch, rc == BX_OK);
    bx_log_context(NULL, NULL, NULL);
    return rc;
}

/* Marks, runs (retrying transient failures) and decides every item. */
static void s_run(bx_worker_exec_t *ex, s_item_t *items, int n)
{
    bx_err_t rc = BX_ERETRY;
    ex->lost = 0;
    if (bx_worker_pg_ready(ex))
        s_mark(ex, items, n);
    int any = 0;
    for (int i = 0; i < n; i++)
        any |= items[i].run;
    for (int t = 0; any && !ex->lost && ex->pg && t < BX_WORKER_TX_TRIES && rc == BX_ERETRY; t++) {
        if (t)
            bx_worker_backoff(t);
        rc = s_transaction(ex, items, n);
    }
    for (int i = 0; any && rc != BX_OK && i < n; i++) {
        if (!items[i].run || ex->lost)
            continue;
        s_reset(&items[i], 1);
        bx_worker_fail_final(ex, items[i].id, rc == BX_ERETRY ? BX_EUNAVAILABLE : BX_EINTERNAL,
                             &items[i].out);
    }
    for (int i = 0; i < n; i++)
        if (ex->lost || !ex->pg || !items[i].out.body)
            items[i].out.release = 1;
    if (ex->lost || !ex->pg)
        BX_WARN("batch of %d jobs handed back: postgresql connection lost", n);
}

/* ["BATCH", one frame per job: its encoded REPLY or RELEASE]. */
static void s_answer(bx_worker_exec_t *ex, zsock_t *pipe, s_item_t *items, int n, double started)
{
    zmsg_t *reply = zmsg_new();
    zmsg_addstr(reply, "BATCH");
    for (int i = 0; i < n; i++) {
        bx_worker_count(ex, &items[i].out, started);
        zmsg_t *m = items[i].client
                        ? bx_worker_encode_outcome(items[i].client, items[i].id, &items[i].out)
                        : NULL;
        zframe_t *f = m ? zmsg_encode(m) : zframe_new(NULL, 0);
        zmsg_append(reply, &f);
        zmsg_destroy(&m);
    }
    zmsg_send(&reply, pipe);
}

void bx_worker_batch_run(bx_worker_exec_t *ex, zsock_t *pipe, zmsg_t *msg)
{
    double started = bx_metrics_now();
    s_item_t items[BX_WORKER_BATCH_MAX];
    memset(items, 0, sizeof items);
    int n = s_parse(msg, items, ex->cfg->batch_max);
    if (n > 0)
        s_run(ex, items, n);
    if (ex->m_batch)
        bx_histogram_observe(ex->m_batch, (double)n);
    s_answer(ex, pipe, items, n, started);
    for (int i = 0; i < n; i++) {
        bx_worker_job_clear(&items[i].job);
        free(items[i].out.body);
        zframe_destroy(&items[i].client);
    }
}
