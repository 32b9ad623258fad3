/* dlv_fanout: the broker jobs of the delivery pools. A message written to the outbox by
 * bx_dlv_notify_user / bx_dlv_partner_event (or by the request-callback trigger) becomes
 * deliveries inside the job's transaction: for a user, one per channel the message type
 * uses, the user's settings allow and the user can be reached on (one per live push
 * subscription), held until the end of quiet hours when not urgent; for a partner event,
 * one per enabled endpoint of the organization subscribed to the type; for a finished
 * request, its result callback. The job then marks its ordering key fanned out and wakes
 * the pool's senders (NOTIFY, delivered at commit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_dlv.h"
#include "bx_json.h"
#include "bx_log.h"
#include "bx_util.h"
#include "dlv.h"

/* One delivery row to insert. */
typedef struct {
    const char *message_id, *pool, *channel, *type, *category, *user_id, *org_id;
    const char *endpoint_id, *subscription_id, *request_id, *recipient, *locale;
    json_t *payload;        /* borrowed */
    const char *order_key;  /* or "" */
    json_int_t seq;         /* 0 when unordered */
    const char *not_before; /* timestamptz text or "" */
    int urgent;
} s_row_t;

static bx_err_t s_insert(bx_pg_t *pg, const s_row_t *r, json_t *ids)
{
    char id[BX_UUID_LEN + 1], seq[24] = "", lane[300] = "";
    bx_uuid_v7(id);
    if (r->seq) {
        snprintf(seq, sizeof seq, "%lld", (long long)r->seq);
        /* one lane per endpoint, per push subscription (a device), else per user: an
         * address changed between two messages does not reorder them */
        const char *who = r->endpoint_id[0]       ? r->endpoint_id
                          : r->subscription_id[0] ? r->subscription_id
                          : r->user_id[0]         ? r->user_id
                                                  : r->recipient;
        snprintf(lane, sizeof lane, "%s|%s|%s", r->order_key, r->channel, who);
    }
    char *payload = bx_json_dump(r->payload);
    if (!payload)
        return BX_ENOMEM;
    const char *p[] = {id,
                       r->message_id,
                       r->pool,
                       r->channel,
                       r->type,
                       r->category,
                       r->urgent ? "true" : "false",
                       r->user_id,
                       r->org_id,
                       r->endpoint_id,
                       r->subscription_id,
                       r->request_id,
                       r->recipient,
                       r->locale,
                       payload,
                       r->seq ? r->order_key : "",
                       lane,
                       seq,
                       r->not_before};
    bx_err_t err = bx_pg_run(pg, "dlv_insert", 19, p);
    free(payload);
    if (!err)
        json_array_append_new(ids, json_string(id));
    return err;
}

/* Marks the message fanned out for its ordering key, wakes the senders, and succeeds. */
static bx_err_t s_finish(bx_worker_job_t *job, const char *pool, json_t *payload, json_t *ids)
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    const char *key = json_string_value(json_object_get(payload, "order_key"));
    json_int_t seq = json_integer_value(json_object_get(payload, "seq"));
    char sq[24];
    bx_err_t err = BX_OK;
    if (key && seq > 0) {
        snprintf(sq, sizeof sq, "%lld", (long long)seq);
        const char *p[] = {key, sq};
        err = bx_pg_run(pg, "dlv_order_fanned", 2, p);
    }
    const char *w[] = {pool};
    if (!err && json_array_size(ids))
        err = bx_pg_run(pg, "dlv_wake", 1, w);
    if (err) {
        json_decref(ids);
        return err;
    }
    json_t *doc =
        json_pack("{s:{s:s, s:s?, s:{s:s?, s:o}}}", "data", "type", "delivery_fanout", "id",
                  json_string_value(json_object_get(payload, "message_id")), "attributes", "type",
                  json_string_value(json_object_get(payload, "type")), "deliveries", ids);
    bx_worker_job_succeed(job, 200, doc);
    return BX_OK;
}

/* ---- user notifications ---- */

typedef struct {
    PGresult *profile; /* dlv_user_profile row */
    json_t *prefs;     /* the user's overrides */
    json_t *payload;   /* what the delivery rows carry */
} s_user_t;

static bx_err_t s_user_channel(bx_pg_t *pg, s_row_t *row, s_user_t *u, const char *channel,
                               json_t *ids)
{
    bx_err_t err = BX_OK, qerr;
    row->channel = channel;
    row->subscription_id = "";
    if (!strcmp(channel, "email")) {
        row->recipient = bx_pg_val(u->profile, 0, 0);
        return s_insert(pg, row, ids);
    }
    if (!strcmp(channel, "sms")) {
        row->recipient = bx_pg_val(u->profile, 0, 1);
        return *row->recipient ? s_insert(pg, row, ids) : BX_OK;
    }
    const char *p[] = {row->user_id};
    PGresult *subs = bx_pg_query(pg, "dlv_user_subscriptions", 1, p, &qerr);
    if (!subs)
        return qerr;
    for (int r = 0; !err && r < PQntuples(subs); r++) {
        row->subscription_id = bx_pg_val(subs, r, 0);
        row->recipient = bx_pg_val(subs, r, 1);
        err = s_insert(pg, row, ids);
    }
    PQclear(subs);
    return err;
}

static bx_err_t s_user_rows(bx_pg_t *pg, const bx_dlv_type_t *t, json_t *payload, s_user_t *u,
                            json_t *ids)
{
    static const struct {
        const char *name;
        unsigned bit;
    } channels[] = {{"email", BX_DLV_EMAIL}, {"sms", BX_DLV_SMS}, {"push", BX_DLV_PUSH}};
    s_row_t row = {.message_id = json_string_value(json_object_get(payload, "message_id")),
                   .pool = "notify",
                   .type = t->type,
                   .category = t->category,
                   .user_id = json_string_value(json_object_get(payload, "user_id")),
                   .org_id = "",
                   .endpoint_id = "",
                   .request_id = "",
                   .locale = bx_pg_val(u->profile, 0, 2),
                   .payload = u->payload,
                   .order_key = json_string_value(json_object_get(payload, "order_key")),
                   .seq = json_integer_value(json_object_get(payload, "seq")),
                   .not_before = t->urgent ? "" : bx_pg_val(u->profile, 0, 5),
                   .urgent = t->urgent};
    if (!row.order_key)
        row.order_key = "";
    bx_err_t err = BX_OK;
    for (size_t i = 0; !err && i < sizeof channels / sizeof channels[0]; i++)
        if ((t->channels & channels[i].bit) &&
            bx_dlv_wants(u->prefs, channels[i].name, t->category))
            err = s_user_channel(pg, &row, u, channels[i].name, ids);
    return err;
}

bx_err_t dlv_fanout_user(bx_pg_t *pg, const bx_dlv_type_t *t, json_t *payload, json_t *ids)
{
    const char *user_id = json_string_value(json_object_get(payload, "user_id"));
    bx_err_t err = BX_OK;
    const char *p[] = {user_id};
    s_user_t u = {.profile = bx_pg_query(pg, "dlv_user_profile", 1, p, &err)};
    if (!u.profile)
        return err;
    if (PQntuples(u.profile) == 1) {
        u.prefs = json_loads(bx_pg_val(u.profile, 0, 4), 0, NULL);
        u.payload = json_pack("{s:O?, s:{s:s, s:s}}", "data", json_object_get(payload, "data"),
                              "user", "first_name", bx_pg_val(u.profile, 0, 3), "last_name",
                              bx_pg_val(u.profile, 0, 6));
        err = u.payload ? s_user_rows(pg, t, payload, &u, ids) : BX_ENOMEM;
    } /* a user deleted since: nothing to send */
    PQclear(u.profile);
    json_decref(u.prefs);
    json_decref(u.payload);
    return err;
}

bx_err_t dlv_fanout_notify(bx_worker_job_t *job)
{
    json_t *payload = bx_worker_job_payload(job), *ids;
    if (!strcmp(bx_worker_job_topic(job), "event.holders"))
        return dlv_holders_job(job);
    const bx_dlv_type_t *t = bx_dlv_type(json_string_value(json_object_get(payload, "type")));
    if (!t || !bx_uuid_valid(json_string_value(json_object_get(payload, "user_id"))) ||
        !json_string_value(json_object_get(payload, "message_id")))
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE, "not a notification message");
    ids = json_array();
    bx_err_t err = ids ? dlv_fanout_user(bx_worker_job_pg(job), t, payload, ids) : BX_ENOMEM;
    if (err) {
        json_decref(ids);
        return err;
    }
    return s_finish(job, "notify", payload, ids);
}

/* ---- partner events and result callbacks ---- */

static bx_err_t s_partner_event(bx_worker_job_t *job, json_t *payload)
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    const char *type = json_string_value(json_object_get(payload, "type"));
    const char *org = json_string_value(json_object_get(payload, "org_id"));
    char msg_id[64];
    json_t *data = json_object_get(payload, "data"), *ids = json_array();
    bx_err_t err = BX_OK;
    snprintf(msg_id, sizeof msg_id, "msg_%s",
             json_string_value(json_object_get(payload, "message_id")));
    json_t *body =
        json_pack("{s:s, s:s?, s:O}", "type", type, "timestamp",
                  json_string_value(json_object_get(payload, "created_at")), "data", data);
    const char *p[] = {org, type};
    PGresult *eps = bx_uuid_valid(org) ? bx_pg_query(pg, "dlv_org_endpoints", 2, p, &err) : NULL;
    s_row_t row = {.message_id = msg_id,
                   .pool = "webhook",
                   .channel = "webhook",
                   .type = type,
                   .category = "partner_updates",
                   .user_id = "",
                   .org_id = org,
                   .subscription_id = "",
                   .request_id = "",
                   .locale = "en",
                   .payload = body,
                   .order_key = json_string_value(json_object_get(payload, "order_key")),
                   .seq = json_integer_value(json_object_get(payload, "seq")),
                   .not_before = ""};
    if (!row.order_key)
        row.order_key = "";
    for (int r = 0; eps && body && !err && r < PQntuples(eps); r++) {
        row.endpoint_id = bx_pg_val(eps, r, 0);
        row.recipient = bx_pg_val(eps, r, 1);
        err = s_insert(pg, &row, ids);
    }
    PQclear(eps);
    json_decref(body);
    if (err) {
        json_decref(ids);
        return err;
    }
    return s_finish(job, "webhook", payload, ids);
}

/* The callback document: the request resource as GET /api/v1/requests/{id} shows it. */
static json_t *s_callback_body(const char *rid, const PGresult *res)
{
    const char *status = bx_pg_val(res, 0, 1);
    json_t *attrs = json_pack(
        "{s:s, s:s, s:i, s:o, s:s?}", "service", bx_pg_val(res, 0, 4), "status", status,
        "http_status", (int)strtol(bx_pg_val(res, 0, 2) ? bx_pg_val(res, 0, 2) : "0", NULL, 10),
        !strcmp(status, "succeeded") ? "result" : "problem",
        json_loads(bx_pg_val(res, 0, 3), 0, NULL), "completed_at", bx_pg_val(res, 0, 5));
    char self[128];
    snprintf(self, sizeof self, "/api/v1/requests/%s", rid);
    return json_pack("{s:s, s:s?, s:{s:s, s:s, s:o, s:{s:s}}}", "type", "request.completed",
                     "timestamp", bx_pg_val(res, 0, 5), "data", "id", rid, "type", "request",
                     "attributes", attrs, "links", "self", self);
}

static bx_err_t s_callback(bx_worker_job_t *job, json_t *payload)
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    const char *rid = json_string_value(json_object_get(payload, "request_id"));
    json_t *ids = json_array();
    bx_err_t err = BX_OK;
    const char *p[] = {rid};
    PGresult *res = bx_uuid_valid(rid) ? bx_pg_query(pg, "dlv_request_result", 1, p, &err) : NULL;
    if (res && PQntuples(res) == 1 && bx_pg_val(res, 0, 0) && bx_pg_val(res, 0, 5)) {
        char msg_id[64];
        snprintf(msg_id, sizeof msg_id, "msg_%s", rid);
        json_t *body = s_callback_body(rid, res);
        s_row_t row = {.message_id = msg_id,
                       .pool = "webhook",
                       .channel = "callback",
                       .type = "request.completed",
                       .category = "transactional",
                       .user_id = bx_pg_val(res, 0, 6),
                       .org_id = "",
                       .endpoint_id = "",
                       .subscription_id = "",
                       .request_id = rid,
                       .recipient = bx_pg_val(res, 0, 0),
                       .locale = "en",
                       .payload = body,
                       .order_key = "",
                       .not_before = "",
                       .urgent = 1};
        err = body ? s_insert(pg, &row, ids) : BX_ENOMEM;
        json_decref(body);
    }
    PQclear(res);
    if (err) {
        json_decref(ids);
        return err;
    }
    json_object_set_new(payload, "type", json_string("request.completed"));
    json_object_set_new(payload, "message_id", json_string(rid ? rid : ""));
    return s_finish(job, "webhook", payload, ids);
}

bx_err_t dlv_fanout_webhook(bx_worker_job_t *job)
{
    json_t *payload = bx_worker_job_payload(job);
    if (!strcmp(bx_worker_job_topic(job), "request.completed"))
        return s_callback(job, payload);
    if (!bx_dlv_event_type_known(json_string_value(json_object_get(payload, "type"))) ||
        !json_string_value(json_object_get(payload, "message_id")))
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE, "not a partner event message");
    return s_partner_event(job, payload);
}
