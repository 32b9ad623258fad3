/* bx-worker-index: the index pool. Keeps the event search index (event_search and its
 * documents, sql/migrations/0004_search.sql) current from the catalog's outbox rows:
 * topics event.* recompute that event's document, venue.* every document of the venue's
 * events, from the catalog tables, inside the job's transaction, so that the refresh and
 * the job's completion commit together (exactly once by the runtime; a refresh is an
 * idempotent upsert anyway). Refreshes of one venue's documents are serialized by a
 * transaction-scoped advisory lock, so that a slow refresh can never overwrite a newer
 * one with what it read earlier. Answers 200 {"data": {"type": "index_refresh", ...}}. */
#include <stdio.h>
#include <string.h>

#include "bx_log.h"
#include "bx_util.h"
#include "bx_wire.h"
#include "bx_worker.h"

/* What a topic refreshes. */
typedef enum { S_EVENT, S_VENUE } s_kind_t;

/* Topic prefixes this pool serves. */
static const struct {
    const char *prefix; /* e.g. "event." */
    s_kind_t kind;      /* what its id names */
} s_topics[] = {
    {"event.", S_EVENT},
    {"venue.", S_VENUE},
};

/* Changes that alter no search document (a venue's halls and seating layouts are not
 * searched, and a new layout never changes an existing event): answered without a
 * refresh, which for a venue with thousands of showtimes would rewrite them all. */
static const struct {
    const char *topic;  /* outbox topic */
    const char *action; /* payload "action" */
} s_noops[] = {
    {"venue.updated", "hall_created"},
    {"venue.updated", "layout_created"},
};

static int s_noop(const char *topic, const char *action)
{
    for (size_t i = 0; action && i < sizeof s_noops / sizeof s_noops[0]; i++)
        if (!strcmp(s_noops[i].topic, topic) && !strcmp(s_noops[i].action, action))
            return 1;
    return 0;
}

/* Runs a named query with one parameter and copies its single value into out (cap bytes;
 * "" for SQL NULL). */
static bx_err_t s_value(bx_pg_t *pg, const char *name, const char *arg, char *out, size_t cap)
{
    bx_err_t err;
    const char *p[] = {arg};
    PGresult *res = bx_pg_query(pg, name, 1, p, &err);
    if (res && PQntuples(res) == 1)
        bx_strlcpy(out, bx_pg_val(res, 0, 0) ? bx_pg_val(res, 0, 0) : "", cap);
    else if (res)
        out[0] = '\0';
    PQclear(res);
    return err;
}

/* Refreshes the documents kind/id names; *n gets how many were written. */
static bx_err_t s_refresh(bx_pg_t *pg, s_kind_t kind, const char *id, long *n)
{
    char venue[BX_UUID_LEN + 1], count[24];
    bx_err_t err = BX_OK;
    *n = 0;
    if (kind == S_EVENT)
        err = s_value(pg, "idx_event_venue", id, venue, sizeof venue);
    else
        bx_strlcpy(venue, id, sizeof venue);
    if (err || !venue[0]) /* an event that never reached the index and is gone */
        return err;
    if ((err = s_value(pg, "idx_lock_venue", venue, count, sizeof count)) != BX_OK)
        return err;
    err = s_value(pg, kind == S_EVENT ? "idx_refresh_event" : "idx_refresh_venue", id, count,
                  sizeof count);
    if (!err && bx_parse_long(count, 0, 100000000, n) != BX_OK)
        err = BX_EINTERNAL;
    return err;
}

static bx_err_t s_index(bx_worker_job_t *job)
{
    const char *topic = bx_worker_job_topic(job);
    json_t *payload = bx_worker_job_payload(job);
    const char *id = json_string_value(json_object_get(payload, "id"));
    size_t i = 0;
    long n = 0;
    while (i < sizeof s_topics / sizeof s_topics[0] &&
           strncmp(topic, s_topics[i].prefix, strlen(s_topics[i].prefix)))
        i++;
    if (i == sizeof s_topics / sizeof s_topics[0])
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE,
                                     "the index serves event.* and venue.* topics only");
    if (!id || !bx_uuid_valid(id))
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE, "the payload's id is not a UUID");
    const char *action = json_string_value(json_object_get(payload, "action"));
    bx_err_t err =
        s_noop(topic, action) ? BX_OK : s_refresh(bx_worker_job_pg(job), s_topics[i].kind, id, &n);
    if (err)
        return err;
    json_t *doc = json_pack("{s:{s:s, s:s, s:{s:s, s:s, s:s, s:I}}}", "data", "type",
                            "index_refresh", "id", bx_worker_job_id(job), "attributes", "topic",
                            topic, "object", s_topics[i].kind == S_EVENT ? "event" : "venue",
                            "object_id", id, "documents", (json_int_t)n);
    if (!doc)
        return BX_ENOMEM;
    BX_DEBUG("indexed %s %s: %ld documents", s_topics[i].kind == S_EVENT ? "event" : "venue", id,
             n);
    bx_worker_job_succeed(job, 200, doc);
    return BX_OK;
}

int main(void)
{
    bx_worker_opts_t opts = {.service = BX_SVC_INDEX, .handler = s_index};
    return bx_worker_main("worker-index", &opts);
}
