/* dlv_holders: event.changed / event.cancelled to every ticket holder of an event. The
 * trigger events_dlv_changed (migration 0014) writes the first job in the transaction
 * that changed or cancelled the event; each job tells one page of holder_batch users
 * (each user once, however many bookings they have) by writing their deliveries directly,
 * then writes the next page's job to the outbox with the last user id as cursor. So a
 * fan-out to 60,000 holders is 60 short transactions, each exactly once, never one giant
 * one, and a crash between pages loses nothing: the next page's job commits with the
 * deliveries of this one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_log.h"
#include "bx_util.h"
#include "dlv.h"

/* The message data every holder of this job gets: {event, venue_name, change}. */
static bx_err_t s_data(bx_pg_t *pg, const char *event_id, const char *change, json_t **data)
{
    bx_err_t err = BX_OK;
    const char *p[] = {event_id};
    PGresult *res = bx_pg_query(pg, "dlvb_event_brief", 1, p, &err);
    *data = NULL;
    if (res && PQntuples(res) == 1) {
        *data = json_pack("{s:o, s:s, s:s}", "event", json_loads(bx_pg_val(res, 0, 0), 0, NULL),
                          "venue_name", bx_pg_val(res, 0, 1), "change", change ? change : "");
        if (!*data)
            err = BX_ENOMEM;
    }
    PQclear(res);
    return err;
}

/* Writes one message of type t with data to every user of page. */
static bx_err_t s_page(bx_pg_t *pg, const bx_dlv_type_t *t, json_t *data, PGresult *page,
                       json_t *ids)
{
    bx_err_t err = BX_OK;
    char now[32];
    bx_time_rfc3339(bx_now_ms() / 1000, now);
    for (int r = 0; !err && r < PQntuples(page); r++) {
        char msg_id[BX_UUID_LEN + 1];
        bx_uuid_v7(msg_id);
        json_t *msg =
            json_pack("{s:s, s:s, s:O, s:s, s:s}", "type", t->type, "user_id",
                      bx_pg_val(page, r, 0), "data", data, "message_id", msg_id, "created_at", now);
        err = msg ? dlv_fanout_user(pg, t, msg, ids) : BX_ENOMEM;
        json_decref(msg);
    }
    return err;
}

/* The job of the next page, after user last. */
static bx_err_t s_next(bx_worker_job_t *job, json_t *payload, const char *last)
{
    json_t *next = json_deep_copy(payload);
    if (!next || json_object_set_new(next, "after", json_string(last)) ||
        json_object_set_new(
            next, "batch",
            json_integer(json_integer_value(json_object_get(payload, "batch")) + 1))) {
        json_decref(next);
        return BX_ENOMEM;
    }
    return bx_worker_outbox(job, "notify", "event.holders",
                            json_string_value(json_object_get(payload, "event_id")), next);
}

bx_err_t dlv_holders_job(bx_worker_job_t *job)
{
    json_t *payload = bx_worker_job_payload(job), *data = NULL, *ids = json_array();
    bx_pg_t *pg = bx_worker_job_pg(job);
    const char *type = json_string_value(json_object_get(payload, "type"));
    const char *event_id = json_string_value(json_object_get(payload, "event_id"));
    const char *after = json_string_value(json_object_get(payload, "after"));
    const char *as_of = json_string_value(json_object_get(payload, "as_of_us"));
    const bx_dlv_type_t *t = bx_dlv_type(type);
    const dlv_cfg_t *cfg = bx_worker_job_state(job);
    char limit[16];
    bx_err_t err = BX_OK;
    if (!t || (strcmp(type, "event.changed") && strcmp(type, "event.cancelled")) ||
        !bx_uuid_valid(event_id) || !after || (*after && !bx_uuid_valid(after)) || !as_of || !ids) {
        json_decref(ids);
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE, "not an event.holders job");
    }
    snprintf(limit, sizeof limit, "%d", cfg->holder_batch);
    const char *p[] = {event_id, type, as_of, after, limit};
    PGresult *page = bx_pg_query(pg, "dlvb_holders_page", 5, p, &err);
    int n = page ? PQntuples(page) : 0;
    if (page && n)
        err = s_data(pg, event_id, json_string_value(json_object_get(payload, "change")), &data);
    if (!err && data)
        err = s_page(pg, t, data, page, ids);
    if (!err && data && n == cfg->holder_batch)
        err = s_next(job, payload, bx_pg_val(page, n - 1, 0));
    const char *w[] = {"notify"};
    if (!err && json_array_size(ids))
        err = bx_pg_run(pg, "dlv_wake", 1, w);
    if (!err)
        bx_worker_job_succeed(job, 200,
                              json_pack("{s:{s:s, s:{s:s, s:s, s:I, s:i, s:I, s:b}}}", "data",
                                        "type", "holder_fanout", "attributes", "type", type,
                                        "event_id", event_id, "batch",
                                        json_integer_value(json_object_get(payload, "batch")),
                                        "users", n, "deliveries", (json_int_t)json_array_size(ids),
                                        "more", data && n == cfg->holder_batch));
    PQclear(page);
    json_decref(data);
    json_decref(ids);
    return err;
}
