/* fd_notify: notification settings, push subscriptions, the VAPID key, one-click
 * unsubscribe and the admin test trigger. Settings are stored as overrides of the
 * defaults in common/bx_dlv.c; transactional messages cannot be switched off. */
#include "fd_notify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_dlv.h"
#include "bx_log.h"
#include "bx_util.h"
#include "fd_catalog.h"
#include "fd_webhooks.h"

static const char *const s_channels[] = {"email", "sms", "push", NULL};
static const char *const s_categories[] = {BX_DLV_CATEGORIES, NULL};

static const bx_jfield_t s_category_schema[] = {
    {.name = "transactional", .type = BX_JT_BOOL},
    {.name = "reminders", .type = BX_JT_BOOL},
    {.name = "marketing", .type = BX_JT_BOOL},
    {.name = "partner_updates", .type = BX_JT_BOOL},
    {0},
};

static const bx_jfield_t s_channels_schema[] = {
    {.name = "email", .type = BX_JT_OBJECT, .sub = s_category_schema},
    {.name = "sms", .type = BX_JT_OBJECT, .sub = s_category_schema},
    {.name = "push", .type = BX_JT_OBJECT, .sub = s_category_schema},
    {0},
};

static const bx_jfield_t s_quiet_schema[] = {
    {.name = "start", .type = BX_JT_STRING, .required = 1, .min = 5, .max = 5},
    {.name = "end", .type = BX_JT_STRING, .required = 1, .min = 5, .max = 5},
    {0},
};

static const bx_jfield_t s_settings_schema[] = {
    {.name = "time_zone", .type = BX_JT_STRING, .min = 1, .max = 64},
    /* equal start and end ("00:00"/"00:00") remove the quiet hours */
    {.name = "quiet_hours", .type = BX_JT_OBJECT, .sub = s_quiet_schema},
    {.name = "channels", .type = BX_JT_OBJECT, .sub = s_channels_schema},
    {0},
};

static const bx_jfield_t s_keys_schema[] = {
    {.name = "p256dh", .type = BX_JT_STRING, .required = 1, .min = 86, .max = 90},
    {.name = "auth", .type = BX_JT_STRING, .required = 1, .min = 16, .max = 24},
    {0},
};

static const bx_jfield_t s_subscription_schema[] = {
    {.name = "endpoint", .type = BX_JT_STRING, .required = 1, .max = 2048, .format = BX_FMT_URL},
    {.name = "keys", .type = BX_JT_OBJECT, .required = 1, .sub = s_keys_schema},
    {.name = "expirationTime",
     .type = BX_JT_INT,
     .min = 0,
     .max = 9007199254740991L,
     .nullable = 1},
    {.name = "user_agent", .type = BX_JT_STRING, .max = 300, .format = BX_FMT_NAME},
    {0},
};

static const bx_jfield_t s_test_schema[] = {
    {.name = "user_id", .type = BX_JT_STRING, .required = 1, .format = BX_FMT_UUID},
    {.name = "type", .type = BX_JT_STRING, .required = 1, .max = 64},
    {.name = "data", .type = BX_JT_OBJECT},
    {.name = "order_key", .type = BX_JT_STRING, .min = 1, .max = 100, .format = BX_FMT_NAME},
    {0},
};

/* ---- settings ---- */

/* The effective settings document of the user from a dlv_settings_get row. */
static json_t *s_settings_doc(const PGresult *res, const char *user_id)
{
    json_t *prefs = json_loads(bx_pg_val(res, 0, 3), 0, NULL), *channels = json_object();
    for (int c = 0; s_channels[c]; c++) {
        json_t *cat = json_object();
        for (int k = 0; s_categories[k]; k++)
            json_object_set_new(cat, s_categories[k],
                                json_boolean(bx_dlv_wants(prefs, s_channels[c], s_categories[k])));
        json_object_set_new(channels, s_channels[c], cat);
    }
    json_decref(prefs);
    const char *qs = bx_pg_val(res, 0, 1), *qe = bx_pg_val(res, 0, 2);
    json_t *attrs = json_pack(
        "{s:s, s:o, s:o, s:{s:b, s:b}, s:s}", "time_zone", bx_pg_val(res, 0, 0), "quiet_hours",
        qs && qe ? json_pack("{s:s, s:s}", "start", qs, "end", qe) : json_null(), "channels",
        channels, "reachable", "email", 1, "sms", !strcmp(bx_pg_val(res, 0, 6), "t"), "updated_at",
        bx_pg_val(res, 0, 4));
    return fd_resource("notification_settings", user_id, attrs, "/api/v1/notifications/settings");
}

static void s_reply_settings(fd_req_t *req, bx_pg_t *pg, int fresh)
{
    bx_err_t err;
    const char *uid = fd_who(req)->user_id;
    const char *p[] = {uid};
    PGresult *res = bx_pg_query(pg, "dlv_settings_get", 1, p, &err);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such user");
        return;
    }
    if (!fresh)
        fd_cacheable(req, 0, 0, strtoll(bx_pg_val(res, 0, 5), NULL, 10));
    json_t *doc = fd_document(s_settings_doc(res, uid), NULL);
    PQclear(res);
    fd_reply_json(req, 200, doc);
}

static void s_settings_get(fd_req_t *req)
{
    bx_pg_t *pg = fd_cat_db(req);
    if (pg)
        s_reply_settings(req, pg, 0);
}

static int s_hhmm_ok(const char *s)
{
    return s && strlen(s) == 5 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
           s[2] == ':' && isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4]) &&
           (s[0] - '0') * 10 + (s[1] - '0') < 24 && (s[3] - '0') * 10 + (s[4] - '0') < 60;
}

/* Checks what the schema cannot: HH:MM times, transactional never off. */
static int s_settings_valid(fd_req_t *req, json_t *b)
{
    json_t *q = json_object_get(b, "quiet_hours"), *ch = json_object_get(b, "channels");
    if (json_is_object(q) &&
        (!s_hhmm_ok(bx_json_str(q, "start")) || !s_hhmm_ok(bx_json_str(q, "end")))) {
        fd_cat_invalid(req, "/quiet_hours", "start and end are local times HH:MM (00:00 to 23:59)");
        return 0;
    }
    for (int c = 0; s_channels[c]; c++) {
        if (json_is_false(json_object_get(json_object_get(ch, s_channels[c]), "transactional"))) {
            char ptr[48];
            snprintf(ptr, sizeof ptr, "/channels/%s/transactional", s_channels[c]);
            fd_reply_problem_ext(req, BX_EUNPROCESSABLE,
                                 "transactional messages (tickets, refunds) always go out",
                                 json_pack("{s:[{s:s, s:s}]}", "errors", "pointer", ptr, "detail",
                                           "cannot be switched off"));
            return 0;
        }
    }
    return 1;
}

/* Merges the body into the stored overrides (locked row). Returns the new prefs. */
static json_t *s_merge(json_t *stored, json_t *channels)
{
    const char *name;
    json_t *cats;
    json_object_foreach(channels, name, cats)
    {
        json_t *mine = json_object_get(stored, name);
        if (!json_is_object(mine)) {
            mine = json_object();
            json_object_set_new(stored, name, mine);
        }
        json_object_update(mine, cats);
        json_object_del(mine, "transactional");
    }
    return stored;
}

static void s_settings_post(fd_req_t *req)
{
    json_t *b = fd_body(req);
    bx_pg_t *pg = fd_cat_db(req);
    const char *uid = fd_who(req)->user_id, *tz = bx_json_str(b, "time_zone");
    bx_err_t err;
    if (!pg || !s_settings_valid(req, b))
        return;
    const char *pk[] = {uid}, *pt[] = {tz};
    PGresult *known = tz ? bx_pg_query(pg, "dlv_tz_known", 1, pt, &err) : NULL;
    int tz_ok = !tz || (known && !strcmp(bx_pg_val(known, 0, 0), "t"));
    PQclear(known);
    if (!tz_ok) {
        fd_cat_invalid(req, "/time_zone", "not an IANA time zone name");
        return;
    }
    err = bx_pg_begin(pg);
    if (!err)
        err = bx_pg_run(pg, "dlv_settings_lock", 1, pk);
    PGresult *cur = err ? NULL : bx_pg_query(pg, "dlv_settings_get", 1, pk, &err);
    if (!cur || PQntuples(cur) != 1) {
        PQclear(cur);
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, NULL);
        return;
    }
    json_t *q = json_object_get(b, "quiet_hours");
    json_t *prefs =
        s_merge(json_loads(bx_pg_val(cur, 0, 3), 0, NULL), json_object_get(b, "channels"));
    char *ptext = prefs ? bx_json_dump(prefs) : NULL;
    int none = q && !strcmp(bx_json_str(q, "start"), bx_json_str(q, "end"));
    const char *qs = none ? "" : q ? bx_json_str(q, "start") : bx_pg_val(cur, 0, 1);
    const char *qe = none ? "" : q ? bx_json_str(q, "end") : bx_pg_val(cur, 0, 2);
    const char *p[] = {uid, tz ? tz : bx_pg_val(cur, 0, 0), qs ? qs : "", qe ? qe : "", ptext};
    err = ptext ? bx_pg_run(pg, "dlv_settings_save", 5, p) : BX_ENOMEM;
    if (!err)
        err = bx_pg_commit(pg);
    PQclear(cur);
    json_decref(prefs);
    free(ptext);
    if (err) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    fd_audit(req, "notifications.settings", "user", uid, NULL);
    s_reply_settings(req, pg, 1);
}

/* ---- push subscriptions ---- */

static int s_keys_ok(fd_req_t *req, json_t *keys)
{
    unsigned char buf[96];
    const char *p = bx_json_str(keys, "p256dh"), *a = bx_json_str(keys, "auth");
    if (bx_b64url_decode(p, strcspn(p, "="), buf, sizeof buf) != 65 || buf[0] != 4) {
        fd_cat_invalid(req, "/keys/p256dh", "must be a base64url uncompressed P-256 public key");
        return 0;
    }
    if (bx_b64url_decode(a, strcspn(a, "="), buf, sizeof buf) != 16) {
        fd_cat_invalid(req, "/keys/auth", "must be a base64url 16-byte authentication secret");
        return 0;
    }
    return 1;
}

static void s_sub_create(fd_req_t *req)
{
    json_t *b = fd_body(req), *keys = json_object_get(b, "keys");
    char id[BX_UUID_LEN + 1], self[128];
    bx_err_t err;
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg || !s_keys_ok(req, keys) ||
        !fd_ssrf_url_ok(req, bx_json_str(b, "endpoint"), "/endpoint"))
        return;
    bx_uuid_v7(id);
    const char *p[] = {id,
                       fd_who(req)->user_id,
                       bx_json_str(b, "endpoint"),
                       bx_json_str(keys, "p256dh"),
                       bx_json_str(keys, "auth"),
                       bx_json_str(b, "user_agent")};
    PGresult *res = bx_pg_query(pg, "dlv_push_upsert", 6, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    snprintf(self, sizeof self, "/api/v1/notifications/push-subscriptions/%s",
             bx_pg_val(res, 0, 0));
    json_t *r = fd_resource("push_subscription", bx_pg_val(res, 0, 0),
                            fd_cat_json(bx_pg_val(res, 0, 1)), self);
    PQclear(res);
    fd_add_header(req, "Location", self);
    fd_reply_json(req, 201, fd_document(r, NULL));
}

static void s_sub_list(fd_req_t *req)
{
    bx_err_t err;
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg)
        return;
    const char *p[] = {fd_who(req)->user_id};
    PGresult *res = bx_pg_query(pg, "dlv_push_list", 1, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        char self[128];
        snprintf(self, sizeof self, "/api/v1/notifications/push-subscriptions/%s",
                 bx_pg_val(res, i, 0));
        json_array_append_new(data, fd_resource("push_subscription", bx_pg_val(res, i, 0),
                                                fd_cat_json(bx_pg_val(res, i, 1)), self));
    }
    PQclear(res);
    fd_reply_json(req, 200, fd_document(data, NULL));
}

static void s_sub_delete(fd_req_t *req)
{
    bx_err_t err;
    const char *id = fd_cat_id(req, "subscriptionId", "push subscription");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (!pg)
        return;
    const char *p[] = {id, fd_who(req)->user_id};
    PGresult *res = bx_pg_query(pg, "dlv_push_delete", 2, p, &err);
    long n = res ? strtol(PQcmdTuples(res), NULL, 10) : 0;
    PQclear(res);
    if (err || n != 1) {
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such push subscription");
        return;
    }
    fd_reply_empty(req, 204);
}

static void s_vapid_key(fd_req_t *req)
{
    bx_dlv_key_t key;
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg)
        return;
    if (bx_dlv_key(pg, "vapid", &key) != BX_OK) {
        fd_reply_problem(req, BX_EUNAVAILABLE, "the VAPID key could not be read; try again");
        return;
    }
    json_t *r =
        fd_resource("vapid_key", key.kid, json_pack("{s:s}", "public_key", key.public_key), NULL);
    bx_dlv_key_free(&key);
    fd_cacheable(req, 300, 1, 0);
    fd_reply_json(req, 200, fd_document(r, NULL));
}

/* ---- one-click unsubscribe (RFC 8058) ---- */

static void s_unsub_page(fd_req_t *req)
{
    static const char page[] =
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Unsubscribe</title></head><body>"
        "<h1>Unsubscribe</h1><p>Stop these messages?</p><form method=\"post\">"
        "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
        "<button type=\"submit\">Unsubscribe</button></form></body></html>";
    fd_reply_raw(req, 200, "text/html; charset=utf-8", page, sizeof page - 1);
}

static void s_unsubscribe(fd_req_t *req)
{
    char uid[BX_UUID_LEN + 1], channel[8], category[16];
    bx_dlv_key_t key;
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg)
        return;
    if (bx_dlv_key(pg, "unsubscribe", &key) != BX_OK) {
        fd_reply_problem(req, BX_EUNAVAILABLE, "try again shortly");
        return;
    }
    bx_err_t err = bx_dlv_unsub_verify(&key, fd_query(req, "token"), uid, channel, category);
    bx_dlv_key_free(&key);
    if (err) {
        fd_reply_problem(req, BX_ENOTFOUND, "the unsubscribe link is not valid");
        return;
    }
    const char *p[] = {uid, channel, category};
    if ((err = bx_pg_run(pg, "dlv_unsubscribe", 3, p))) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    fd_reply_json(req, 200,
                  fd_document(fd_resource("unsubscribe", uid,
                                          json_pack("{s:s, s:s, s:b}", "channel", channel,
                                                    "category", category, "unsubscribed", 1),
                                          NULL),
                              NULL));
}

/* ---- admin test trigger ---- */

/* What the templates show when the trigger brings no data: a sample booking with one
 * ticket, until the booking pipeline provides real ones. */
static json_t *s_sample(void)
{
    return json_pack("{s:s, s:{s:s, s:s}, s:[{s:s, s:s}], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                     "booking_id", "BX-SAMPLE-0001", "event", "name", "Sample Concert", "starts_at",
                     "2026-12-31T20:00:00Z", "tickets", "label", "Section A, row 1, seat 7", "code",
                     "BXT1.eyJ0IjoiMDE5M2U0ZjAtc2FtcGxlIiwicyI6IkEtMS03In0.sample-signature",
                     "total_display", "EUR 42.00", "amount_display", "EUR 42.00", "payment_id",
                     "pay_sample", "expires_at", "2026-12-31T19:45:00Z", "venue_name",
                     "Sample Hall", "change", "the start moved to 20:30", "headline",
                     "New season on sale", "text", "Early tickets for members.");
}

static void s_test(fd_req_t *req)
{
    json_t *b = fd_body(req), *data = json_object_get(b, "data");
    const char *type = bx_json_str(b, "type");
    char msg[BX_UUID_LEN + 1], loc[96];
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg)
        return;
    if (!bx_dlv_type(type)) {
        fd_cat_invalid(req, "/type", "not a notification message type");
        return;
    }
    json_t *use = data ? json_incref(data) : s_sample();
    bx_err_t err = bx_pg_begin(pg);
    if (!err)
        err = bx_dlv_notify_user(pg, type, bx_json_str(b, "user_id"), use,
                                 bx_json_str(b, "order_key"), NULL, msg);
    if (!err)
        err = bx_pg_commit(pg);
    json_decref(use);
    if (err) {
        fd_cat_fail(req, pg, err == BX_EINVAL ? BX_ENOTFOUND : err,
                    err == BX_EINVAL ? "no such user" : NULL);
        return;
    }
    fd_audit(req, "notifications.test", "message", msg, json_pack("{s:s}", "type", type));
    snprintf(loc, sizeof loc, "/api/v1/requests/%s", msg);
    fd_add_header(req, "Location", loc);
    fd_reply_json(req, 202,
                  fd_document(fd_resource("notification_message", msg,
                                          json_pack("{s:s}", "type", type), NULL),
                              NULL));
}

const fd_route_t fd_notify_routes[] = {
    {"GET", "/api/v1/notifications/settings", s_settings_get, FD_AUTH, FD_RL_READ, NULL},
    {"POST", "/api/v1/notifications/settings", s_settings_post, FD_AUTH, FD_RL_WRITE,
     s_settings_schema},
    {"POST", "/api/v1/notifications/push-subscriptions", s_sub_create, FD_AUTH, FD_RL_WRITE,
     s_subscription_schema},
    {"GET", "/api/v1/notifications/push-subscriptions", s_sub_list, FD_AUTH, FD_RL_READ, NULL},
    {"DELETE", "/api/v1/notifications/push-subscriptions/{subscriptionId}", s_sub_delete, FD_AUTH,
     FD_RL_WRITE, NULL},
    {"GET", "/api/v1/notifications/push/vapid-public-key", s_vapid_key, 0, FD_RL_READ, NULL},
    {"GET", "/api/v1/notifications/unsubscribe", s_unsub_page, FD_NO_DB | FD_ANY_ACCEPT, FD_RL_READ,
     NULL},
    {"POST", "/api/v1/notifications/unsubscribe", s_unsubscribe, FD_RAW_BODY | FD_NO_IDEM,
     FD_RL_WRITE, NULL},
    {"POST", "/api/v1/admin/notifications/test", s_test, FD_ADMIN, FD_RL_WRITE, s_test_schema},
    {NULL, NULL, NULL, 0, 0, NULL},
};
