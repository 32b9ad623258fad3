/* fd_webhooks: partner webhook endpoints, their delivery log and replay, event types,
 * callback keys, and the admin partner-event trigger. A partner manages the endpoints of
 * organizations it is a member of (checked in organization_members); anyone else gets
 * 404. Secrets are shown once, when made (create, rotate), and never logged. */
#include "fd_webhooks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_dlv.h"
#include "bx_log.h"
#include "bx_util.h"
#include "fd_catalog.h"

#define S_EVENT_TYPES_MAX 32
#define S_OVERLAP_DEFAULT 86400 /* seconds the previous secret keeps signing */
#define S_OVERLAP_MAX     604800

static bx_ssrf_t *s_policy;
static pthread_once_t s_policy_once = PTHREAD_ONCE_INIT;

static void s_policy_make(void)
{
    char why[160];
    s_policy = bx_ssrf_new(bx_config_str("delivery_allow_cidrs"), why, sizeof why);
    if (!s_policy)
        BX_ERROR("delivery_allow_cidrs is invalid (%s): every outbound URL is refused", why);
}

const bx_ssrf_t *fd_ssrf(void)
{
    pthread_once(&s_policy_once, s_policy_make);
    return s_policy;
}

int fd_ssrf_url_ok(fd_req_t *req, const char *url, const char *pointer)
{
    char why[200] = "outbound URLs are refused: the allow-list is invalid";
    const bx_ssrf_t *p = fd_ssrf();
    if (p && bx_ssrf_check_url(p, url, why, sizeof why) == BX_OK)
        return 1;
    fd_reply_problem_ext(
        req, BX_EUNPROCESSABLE, why,
        json_pack("{s:[{s:s, s:s}]}", "errors", "pointer", pointer, "detail", why));
    return 0;
}

static const bx_jfield_t s_create_schema[] = {
    {.name = "organization_id", .type = BX_JT_STRING, .required = 1, .format = BX_FMT_UUID},
    {.name = "url", .type = BX_JT_STRING, .required = 1, .max = 2048, .format = BX_FMT_URL},
    {.name = "event_types", .type = BX_JT_ARRAY, .required = 1, .min = 1, .max = S_EVENT_TYPES_MAX},
    {.name = "description", .type = BX_JT_STRING, .max = 500, .format = BX_FMT_NAME, .nullable = 1},
    {0},
};

static const bx_jfield_t s_update_schema[] = {
    {.name = "url", .type = BX_JT_STRING, .max = 2048, .format = BX_FMT_URL},
    {.name = "event_types", .type = BX_JT_ARRAY, .min = 1, .max = S_EVENT_TYPES_MAX},
    {.name = "description", .type = BX_JT_STRING, .max = 500, .format = BX_FMT_NAME, .nullable = 1},
    {.name = "enabled", .type = BX_JT_BOOL},
    {0},
};

static const bx_jfield_t s_rotate_schema[] = {
    {.name = "overlap_s", .type = BX_JT_INT, .min = 0, .max = S_OVERLAP_MAX},
    {0},
};

static const bx_jfield_t s_replay_schema[] = {
    {.name = "since", .type = BX_JT_STRING, .required = 1, .format = BX_FMT_DATETIME},
    {.name = "only_failed", .type = BX_JT_BOOL},
    {0},
};

static const bx_jfield_t s_event_schema[] = {
    {.name = "type", .type = BX_JT_STRING, .required = 1, .max = 64},
    {.name = "organization_id", .type = BX_JT_STRING, .format = BX_FMT_UUID},
    {.name = "event_id", .type = BX_JT_STRING, .format = BX_FMT_UUID},
    {.name = "data", .type = BX_JT_OBJECT},
    {0},
};

/* ---- helpers ---- */

/* The event_types member as JSON text (heap) after checking every item; answers 400
 * and returns NULL when one is unknown. */
static char *s_event_types(fd_req_t *req, json_t *types)
{
    size_t i;
    json_t *t;
    char ptr[40];
    json_array_foreach(types, i, t)
    {
        if (!bx_dlv_event_type_known(json_string_value(t))) {
            snprintf(ptr, sizeof ptr, "/event_types/%zu", i);
            fd_cat_invalid(req, ptr,
                           "not a webhook event type (see GET /api/v1/webhooks/event-types)");
            return NULL;
        }
    }
    char *text = bx_json_dump(types);
    if (!text)
        fd_reply_problem(req, BX_ENOMEM, NULL);
    return text;
}

/* "whsec_" + base64 of 24 random bytes into out (>= 40). */
static bx_err_t s_secret(char out[48])
{
    unsigned char k[24];
    if (bx_random(k, sizeof k) != BX_OK)
        return BX_EINTERNAL;
    memcpy(out, "whsec_", 6);
    bx_b64_encode(k, sizeof k, out + 6, 42);
    return BX_OK;
}

/* Loads endpoint id and checks the caller manages its organization; answers 404/503
 * itself and returns NULL otherwise. The caller PQclear()s the row. */
static PGresult *s_endpoint(fd_req_t *req, bx_pg_t *pg, const char *id)
{
    bx_err_t err;
    int ok = 0;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, "wh_endpoint_get", 1, p, &err);
    if (res && PQntuples(res) == 1)
        err = fd_cat_manages(req, pg, bx_pg_val(res, 0, 0), &ok);
    if (!ok) {
        PQclear(res);
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such webhook endpoint");
        return NULL;
    }
    return res;
}

/* Answers the endpoint document; secret (may be NULL) is shown once. */
static void s_reply_endpoint(fd_req_t *req, bx_pg_t *pg, const char *id, int status,
                             const char *secret)
{
    char self[96];
    PGresult *res = s_endpoint(req, pg, id);
    if (!res)
        return;
    json_t *attrs = fd_cat_json(bx_pg_val(res, 0, 1));
    if (attrs && secret)
        json_object_set_new(attrs, "secret", json_string(secret));
    snprintf(self, sizeof self, "/api/v1/webhooks/endpoints/%s", id);
    json_t *r = fd_resource("webhook_endpoint", id, attrs, self);
    if (r)
        json_object_set_new(
            r, "relationships",
            json_pack("{s:{s:{s:s+}}}", "deliveries", "links", "related", self, "/deliveries"));
    if (!secret)
        fd_cacheable(req, 0, 0, strtoll(bx_pg_val(res, 0, 2), NULL, 10));
    PQclear(res);
    fd_reply_json(req, status, fd_document(r, NULL));
}

/* ---- endpoints ---- */

static void s_create(fd_req_t *req)
{
    json_t *b = fd_body(req);
    const char *org = bx_json_str(b, "organization_id"), *url = bx_json_str(b, "url");
    char id[BX_UUID_LEN + 1], secret[48], loc[96];
    int ok = 0;
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg)
        return;
    bx_err_t err = fd_cat_manages(req, pg, org, &ok);
    if (err || !ok) {
        fd_cat_fail(req, NULL, err ? err : BX_ENOTFOUND, err ? NULL : "no such organization");
        return;
    }
    char *types = s_event_types(req, json_object_get(b, "event_types"));
    if (!types || !fd_ssrf_url_ok(req, url, "/url") || s_secret(secret) != BX_OK) {
        free(types);
        return;
    }
    bx_uuid_v7(id);
    const char *p[] = {id, org, url, bx_json_str(b, "description"), types, secret};
    err = bx_pg_run(pg, "wh_endpoint_insert", 6, p);
    free(types);
    if (err) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    fd_audit(req, "webhook.endpoint.create", "webhook_endpoint", id,
             json_pack("{s:s}", "organization_id", org));
    snprintf(loc, sizeof loc, "/api/v1/webhooks/endpoints/%s", id);
    fd_add_header(req, "Location", loc);
    s_reply_endpoint(req, pg, id, 201, secret);
}

static void s_get(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "endpointId", "webhook endpoint");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (pg)
        s_reply_endpoint(req, pg, id, 200, NULL);
}

static void s_list(fd_req_t *req)
{
    char limit[8], a[64], b[64], next[FD_CAT_CURSOR_MAX + 1] = "";
    long max = 0;
    int ok = 0;
    bx_err_t err;
    const char *org = fd_query(req, "organization_id");
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg || !fd_cat_limit(req, &max, limit) || !fd_cat_cursor_decode(req, a, b, sizeof a))
        return;
    if (!org || !bx_uuid_valid(org) || (a[0] && !bx_uuid_valid(b))) {
        fd_reply_problem(req, BX_EINVAL, "organization_id (a UUID) is required");
        return;
    }
    if ((err = fd_cat_manages(req, pg, org, &ok)) || !ok) {
        fd_cat_fail(req, NULL, err ? err : BX_ENOTFOUND, err ? NULL : "no such organization");
        return;
    }
    const char *p[] = {org, a[0] ? a : NULL, a[0] ? b : NULL, limit};
    PGresult *res = bx_pg_query(pg, "wh_endpoint_list", 4, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    json_t *data = json_array();
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        char self[96];
        snprintf(self, sizeof self, "/api/v1/webhooks/endpoints/%s", bx_pg_val(res, i, 0));
        json_array_append_new(data, fd_resource("webhook_endpoint", bx_pg_val(res, i, 0),
                                                fd_cat_json(bx_pg_val(res, i, 2)), self));
    }
    if (n > 0 && n == max)
        fd_cat_cursor_encode(bx_pg_val(res, n - 1, 3), bx_pg_val(res, n - 1, 0), next, sizeof next);
    PQclear(res);
    static const char *const keys[] = {"organization_id", "limit", NULL};
    fd_reply_json(req, 200,
                  fd_document(data, fd_cat_links(req, "/api/v1/webhooks/endpoints", keys,
                                                 next[0] ? next : NULL)));
}

static void s_update(fd_req_t *req)
{
    json_t *b = fd_body(req);
    const char *id = fd_cat_id(req, "endpointId", "webhook endpoint"), *url = bx_json_str(b, "url");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    PGresult *row = pg ? s_endpoint(req, pg, id) : NULL;
    if (!row)
        return;
    PQclear(row);
    json_t *types = json_object_get(b, "event_types"), *enabled = json_object_get(b, "enabled");
    char *types_text = types ? s_event_types(req, types) : NULL;
    if ((types && !types_text) || (url && !fd_ssrf_url_ok(req, url, "/url"))) {
        free(types_text);
        return;
    }
    const char *p[] = {id,
                       url,
                       json_object_get(b, "description") ? "true" : "false",
                       bx_json_str(b, "description"),
                       types_text,
                       enabled ? (json_is_true(enabled) ? "enabled" : "disabled") : NULL};
    bx_err_t err = bx_pg_run(pg, "wh_endpoint_update", 6, p);
    free(types_text);
    if (err) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    fd_audit(req, "webhook.endpoint.update", "webhook_endpoint", id, NULL);
    s_reply_endpoint(req, pg, id, 200, NULL);
}

static void s_delete(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "endpointId", "webhook endpoint");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    PGresult *row = pg ? s_endpoint(req, pg, id) : NULL;
    if (!row)
        return;
    PQclear(row);
    const char *p[] = {id};
    bx_err_t err = bx_pg_run(pg, "wh_endpoint_delete", 1, p);
    if (err) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    fd_audit(req, "webhook.endpoint.delete", "webhook_endpoint", id, NULL);
    fd_reply_empty(req, 204);
}

static void s_rotate(fd_req_t *req)
{
    json_t *overlap = json_object_get(fd_body(req), "overlap_s");
    const char *id = fd_cat_id(req, "endpointId", "webhook endpoint");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    PGresult *row = pg ? s_endpoint(req, pg, id) : NULL;
    char secret[48], secs[16];
    if (!row)
        return;
    PQclear(row);
    snprintf(secs, sizeof secs, "%lld",
             overlap ? (long long)json_integer_value(overlap) : (long long)S_OVERLAP_DEFAULT);
    bx_err_t err = s_secret(secret);
    const char *p[] = {id, secret, secs};
    if (!err)
        err = bx_pg_run(pg, "wh_endpoint_rotate", 3, p);
    if (err) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    fd_audit(req, "webhook.endpoint.rotate_secret", "webhook_endpoint", id,
             json_pack("{s:s}", "overlap_s", secs));
    s_reply_endpoint(req, pg, id, 200, secret);
}

/* ---- delivery log and replay ---- */

static void s_deliveries(fd_req_t *req)
{
    char limit[8], a[64], b[64], next[FD_CAT_CURSOR_MAX + 1] = "", self[128];
    long max = 0;
    bx_err_t err;
    const char *id = fd_cat_id(req, "endpointId", "webhook endpoint"),
               *status = fd_query(req, "status");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (!pg || !fd_cat_limit(req, &max, limit) || !fd_cat_cursor_decode(req, a, b, sizeof a))
        return;
    if ((status && strcmp(status, "pending") && strcmp(status, "succeeded") &&
         strcmp(status, "dead")) ||
        (a[0] && !bx_uuid_valid(b))) {
        fd_reply_problem(req, BX_EINVAL, "status must be pending, succeeded or dead");
        return;
    }
    PGresult *row = s_endpoint(req, pg, id);
    if (!row)
        return;
    PQclear(row);
    const char *p[] = {id, status, a[0] ? a : NULL, a[0] ? b : NULL, limit};
    PGresult *res = bx_pg_query(pg, "wh_deliveries_list", 5, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    json_t *data = json_array();
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        snprintf(self, sizeof self, "/api/v1/webhooks/deliveries/%s", bx_pg_val(res, i, 0));
        json_array_append_new(data, fd_resource("webhook_delivery", bx_pg_val(res, i, 0),
                                                fd_cat_json(bx_pg_val(res, i, 1)), self));
    }
    if (n > 0 && n == max)
        fd_cat_cursor_encode(bx_pg_val(res, n - 1, 2), bx_pg_val(res, n - 1, 0), next, sizeof next);
    PQclear(res);
    snprintf(self, sizeof self, "/api/v1/webhooks/endpoints/%s/deliveries", id);
    static const char *const keys[] = {"status", "limit", NULL};
    fd_reply_json(req, 200,
                  fd_document(data, fd_cat_links(req, self, keys, next[0] ? next : NULL)));
}

/* Loads delivery id if the caller may see it (its organization's, its own callback, or
 * admin); answers 404 itself otherwise. */
static PGresult *s_delivery_row(fd_req_t *req, bx_pg_t *pg, const char *id)
{
    bx_err_t err;
    int ok = 0;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, "wh_delivery_get", 1, p, &err);
    if (res && PQntuples(res) == 1) {
        const char *org = bx_pg_val(res, 0, 0), *owner = bx_pg_val(res, 0, 2);
        if (org)
            err = fd_cat_manages(req, pg, org, &ok);
        else
            ok = fd_cat_admin(req) || (*owner && !strcmp(owner, fd_who(req)->user_id));
    }
    if (!ok) {
        PQclear(res);
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such delivery");
        return NULL;
    }
    return res;
}

static void s_delivery(fd_req_t *req)
{
    char self[128];
    const char *id = fd_cat_id(req, "deliveryId", "delivery");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    PGresult *res = pg ? s_delivery_row(req, pg, id) : NULL;
    if (!res)
        return;
    snprintf(self, sizeof self, "/api/v1/webhooks/deliveries/%s", id);
    json_t *r = fd_resource("webhook_delivery", id, fd_cat_json(bx_pg_val(res, 0, 1)), self);
    PQclear(res);
    fd_reply_json(req, 200, fd_document(r, NULL));
}

static void s_wake(bx_pg_t *pg, const char *pool)
{
    const char *p[] = {pool};
    if (bx_pg_run(pg, "dlv_wake", 1, p) != BX_OK)
        BX_DEBUG("could not wake the %s senders: they poll", pool);
}

static void s_replay_one(fd_req_t *req)
{
    char nid[BX_UUID_LEN + 1], self[128];
    bx_err_t err;
    const char *id = fd_cat_id(req, "deliveryId", "delivery");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    PGresult *row = pg ? s_delivery_row(req, pg, id) : NULL;
    if (!row)
        return;
    PQclear(row);
    bx_uuid_v7(nid);
    const char *p[] = {id, nid};
    PGresult *res = bx_pg_query(pg, "wh_replay_one", 2, p, &err);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        fd_cat_fail(req, pg, err ? err : BX_ECONFLICT,
                    err ? NULL : "the delivery is still pending: nothing to replay");
        return;
    }
    s_wake(pg, bx_pg_val(res, 0, 0));
    PQclear(res);
    fd_audit(req, "webhook.delivery.replay", "delivery", id, json_pack("{s:s}", "replay_id", nid));
    snprintf(self, sizeof self, "/api/v1/webhooks/deliveries/%s", nid);
    fd_add_header(req, "Location", self);
    fd_reply_json(
        req, 202,
        fd_document(fd_resource("webhook_delivery", nid,
                                json_pack("{s:s, s:s}", "status", "pending", "replay_of", id),
                                self),
                    NULL));
}

static void s_replay_since(fd_req_t *req)
{
    json_t *b = fd_body(req);
    bx_err_t err;
    const char *id = fd_cat_id(req, "endpointId", "webhook endpoint");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    PGresult *row = pg ? s_endpoint(req, pg, id) : NULL;
    if (!row)
        return;
    PQclear(row);
    const char *p[] = {id, bx_json_str(b, "since"),
                       json_is_true(json_object_get(b, "only_failed")) ? "true" : "false"};
    PGresult *res = bx_pg_query(pg, "wh_replay_since", 3, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    long n = strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    s_wake(pg, "webhook");
    fd_audit(req, "webhook.endpoint.replay", "webhook_endpoint", id,
             json_pack("{s:s, s:i}", "since", bx_json_str(b, "since"), "count", (int)n));
    fd_reply_json(req, 202,
                  fd_document(fd_resource("webhook_replay", id,
                                          json_pack("{s:s, s:I}", "since", bx_json_str(b, "since"),
                                                    "deliveries", (json_int_t)n),
                                          NULL),
                              NULL));
}

/* ---- catalogs, keys, admin trigger ---- */

static void s_types(fd_req_t *req)
{
    json_t *data = json_array();
    for (const bx_dlv_event_type_t *t = bx_dlv_event_types; t->type; t++)
        json_array_append_new(data, fd_resource("webhook_event_type", t->type,
                                                json_pack("{s:s, s:s}", "description",
                                                          t->description, "trigger", t->trigger),
                                                NULL));
    fd_cacheable(req, 300, 1, 0);
    fd_reply_json(req, 200, fd_document(data, NULL));
}

static void s_callback_keys(fd_req_t *req)
{
    bx_dlv_key_t key;
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg)
        return;
    if (bx_dlv_key(pg, "callback", &key) != BX_OK) {
        fd_reply_problem(req, BX_EUNAVAILABLE, "the callback key could not be read; try again");
        return;
    }
    json_t *data = json_pack("[{s:s, s:s, s:{s:s, s:s, s:s}}]", "type", "webhook_signing_key", "id",
                             key.kid, "attributes", "algorithm", "ed25519", "signature_version",
                             "v1a", "public_key", key.public_key);
    bx_dlv_key_free(&key);
    fd_cacheable(req, 300, 1, 0);
    fd_reply_json(req, 200, fd_document(data, NULL));
}

static void s_admin_event(fd_req_t *req)
{
    json_t *b = fd_body(req);
    char msg[BX_UUID_LEN + 1];
    const char *type = bx_json_str(b, "type"), *org = bx_json_str(b, "organization_id"),
               *event = bx_json_str(b, "event_id");
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg)
        return;
    if (!bx_dlv_event_type_known(type) || (!org && !event)) {
        fd_cat_invalid(req, !org && !event ? "/organization_id" : "/type",
                       !org && !event ? "organization_id or event_id is required"
                                      : "not a webhook event type");
        return;
    }
    bx_err_t err = bx_pg_begin(pg);
    if (!err)
        err =
            bx_dlv_partner_event(pg, type, org, event, json_object_get(b, "data"), NULL, NULL, msg);
    if (!err)
        err = bx_pg_commit(pg);
    if (err) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    fd_audit(req, "webhook.event.trigger", "message", msg, json_pack("{s:s}", "type", type));
    fd_reply_json(
        req, 202,
        fd_document(fd_resource("webhook_message", msg, json_pack("{s:s}", "type", type), NULL),
                    NULL));
}

const fd_route_t fd_webhooks_routes[] = {
    {"GET", "/api/v1/webhooks/event-types", s_types, FD_AUTH, FD_RL_READ, NULL},
    {"GET", "/api/v1/webhooks/callback-keys", s_callback_keys, 0, FD_RL_READ, NULL},
    {"POST", "/api/v1/webhooks/endpoints", s_create, FD_PARTNER, FD_RL_WRITE, s_create_schema},
    {"GET", "/api/v1/webhooks/endpoints", s_list, FD_PARTNER, FD_RL_READ, NULL},
    {"GET", "/api/v1/webhooks/endpoints/{endpointId}", s_get, FD_PARTNER, FD_RL_READ, NULL},
    {"PUT", "/api/v1/webhooks/endpoints/{endpointId}", s_update, FD_PARTNER, FD_RL_WRITE,
     s_update_schema},
    {"DELETE", "/api/v1/webhooks/endpoints/{endpointId}", s_delete, FD_PARTNER, FD_RL_WRITE, NULL},
    {"POST", "/api/v1/webhooks/endpoints/{endpointId}/rotate-secret", s_rotate, FD_PARTNER,
     FD_RL_WRITE, s_rotate_schema},
    {"GET", "/api/v1/webhooks/endpoints/{endpointId}/deliveries", s_deliveries, FD_PARTNER,
     FD_RL_READ, NULL},
    {"POST", "/api/v1/webhooks/endpoints/{endpointId}/replay", s_replay_since, FD_PARTNER,
     FD_RL_WRITE, s_replay_schema},
    {"GET", "/api/v1/webhooks/deliveries/{deliveryId}", s_delivery, FD_AUTH, FD_RL_READ, NULL},
    {"POST", "/api/v1/webhooks/deliveries/{deliveryId}/replay", s_replay_one, FD_AUTH, FD_RL_WRITE,
     NULL},
    {"POST", "/api/v1/admin/webhooks/events", s_admin_event, FD_ADMIN, FD_RL_WRITE, s_event_schema},
    {NULL, NULL, NULL, 0, 0, NULL},
};
