/* fd_promos: promo codes, booking settings and tax rules (docs/booking.md). Promo codes
 * belong to an organization: a partner manages the codes of the organization they are a
 * member of (org_id in the body when they belong to several), an admin names org_id or
 * an event_id; an event-scoped code's event must be of that organization. Anything of
 * another organization is 404, and nothing is written. Codes are stored upper-case and
 * matched case-insensitively at checkout. */
#include "fd_promos.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_util.h"
#include "fd_cat_page.h"
#include "fd_catalog.h"

static const char *const s_kinds[] = {"percent", "fixed", NULL};
static const char *const s_applies[] = {"ticket", "fee", NULL};

static const bx_jfield_t s_promo_schema[] = {
    {.name = "code", .type = BX_JT_STRING, .required = 1, .min = 3, .max = 32},
    {.name = "kind", .type = BX_JT_STRING, .required = 1, .one_of = s_kinds},
    {.name = "value", .type = BX_JT_INT, .required = 1, .min = 1, .max = 1000000000000L},
    {.name = "currency", .type = BX_JT_STRING, .format = BX_FMT_CURRENCY},
    {.name = "org_id", .type = BX_JT_STRING, .format = BX_FMT_UUID},
    {.name = "event_id", .type = BX_JT_STRING, .format = BX_FMT_UUID},
    {.name = "starts_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME},
    {.name = "ends_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME},
    {.name = "max_uses", .type = BX_JT_INT, .min = 1, .max = 100000000},
    {.name = "per_user_limit", .type = BX_JT_INT, .min = 1, .max = 1000},
    {.name = "min_quantity", .type = BX_JT_INT, .min = 1, .max = 100},
    {.name = "active", .type = BX_JT_BOOL},
    {0},
};

static const bx_jfield_t s_promo_put_schema[] = {
    {.name = "value", .type = BX_JT_INT, .min = 1, .max = 1000000000000L},
    {.name = "starts_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME},
    {.name = "ends_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME},
    {.name = "max_uses", .type = BX_JT_INT, .min = 1, .max = 100000000},
    {.name = "per_user_limit", .type = BX_JT_INT, .min = 1, .max = 1000},
    {.name = "min_quantity", .type = BX_JT_INT, .min = 1, .max = 100},
    {.name = "active", .type = BX_JT_BOOL},
    {0},
};

static const bx_jfield_t s_settings_schema[] = {
    {.name = "service_fee_bp", .type = BX_JT_INT, .min = 0, .max = 5000},
    {.name = "service_fee_minor", .type = BX_JT_INT, .min = 0, .max = 100000000},
    {.name = "payment_window_s", .type = BX_JT_INT, .min = 60, .max = 7200},
    {.name = "cancellable", .type = BX_JT_BOOL},
    {.name = "cancel_deadline_h", .type = BX_JT_INT, .min = 0, .max = 8760},
    {.name = "cancel_fee_bp", .type = BX_JT_INT, .min = 0, .max = 10000},
    {0},
};

static const bx_jfield_t s_tax_schema[] = {
    {.name = "country", .type = BX_JT_STRING, .required = 1, .min = 2, .max = 2},
    {.name = "region", .type = BX_JT_STRING, .min = 1, .max = 8},
    {.name = "name",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 64,
     .format = BX_FMT_NAME},
    {.name = "rate_ppm", .type = BX_JT_INT, .required = 1, .min = 0, .max = 1000000},
    {.name = "inclusive", .type = BX_JT_BOOL, .required = 1},
    {.name = "applies_to", .type = BX_JT_STRING, .one_of = s_applies},
    {.name = "currency", .type = BX_JT_STRING, .format = BX_FMT_CURRENCY},
    {.name = "band_min_minor", .type = BX_JT_INT, .min = 0, .max = 1000000000000L},
    {.name = "band_max_minor", .type = BX_JT_INT, .min = 0, .max = 1000000000000L},
    {.name = "valid_from", .type = BX_JT_STRING, .format = BX_FMT_DATETIME},
    {.name = "valid_to", .type = BX_JT_STRING, .format = BX_FMT_DATETIME},
    {0},
};

/* Member key of body as SQL text (integers, booleans, strings) into buf, or NULL. */
static const char *s_arg(json_t *body, const char *key, char buf[32])
{
    json_t *v = json_object_get(body, key);
    if (json_is_integer(v))
        snprintf(buf, 32, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        bx_strlcpy(buf, json_is_true(v) ? "true" : "false", 32);
    else
        return json_string_value(v);
    return buf;
}

/* 1 when s is [A-Za-z0-9_-] only (stored upper-case). */
static int s_code_ok(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
            return 0;
    return 1;
}

/* The organization a new code belongs to, into org: the body's org_id (managed by the
 * caller), else the event's organization, else the caller's only organization. Answers
 * and returns 0 otherwise. */
static int s_org(fd_req_t *req, bx_pg_t *pg, json_t *body, char org[37])
{
    bx_err_t err = BX_OK;
    const char *want = bx_json_str(body, "org_id"), *event = bx_json_str(body, "event_id");
    PGresult *res = NULL;
    int ok = 0;
    org[0] = '\0';
    if (event) {
        const char *p[] = {event};
        if (!(res = bx_pg_query(pg, "co_event_org", 1, p, &err)))
            return fd_cat_fail(req, pg, err, NULL), 0;
        if (PQntuples(res) == 1 && (!want || !strcmp(want, bx_pg_val(res, 0, 0))))
            bx_strlcpy(org, bx_pg_val(res, 0, 0), 37);
        PQclear(res);
        if (!org[0])
            return fd_reply_problem(req, BX_ENOTFOUND, "no such event"), 0;
    } else if (want) {
        bx_strlcpy(org, want, 37);
    } else if (!fd_cat_admin(req)) {
        const char *p[] = {fd_who(req)->user_id};
        if (!(res = bx_pg_query(pg, "co_promo_orgs", 1, p, &err)))
            return fd_cat_fail(req, pg, err, NULL), 0;
        if (PQntuples(res) == 1)
            bx_strlcpy(org, bx_pg_val(res, 0, 0), 37);
        PQclear(res);
    }
    if (!org[0])
        return fd_cat_invalid(req, "/org_id", "name the organization (org_id) the code is for"), 0;
    if ((err = fd_cat_manages(req, pg, org, &ok)) || !ok)
        return fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND,
                           err     ? NULL
                           : event ? "no such event"
                                   : "no such organization"),
               0;
    return 1;
}

/* Cross-member rules of a new code. Answers 400 and returns 0 when broken. */
static int s_promo_rules(fd_req_t *req, json_t *body)
{
    const char *kind = bx_json_str(body, "kind");
    if (!s_code_ok(bx_json_str(body, "code")))
        return fd_cat_invalid(req, "/code", "letters, digits, _ and - only"), 0;
    if (!strcmp(kind, "percent") && json_integer_value(json_object_get(body, "value")) > 10000)
        return fd_cat_invalid(req, "/value",
                              "a percent code's value is basis points, at most 10000"),
               0;
    if (!strcmp(kind, "fixed") && !bx_json_str(body, "currency"))
        return fd_cat_invalid(req, "/currency", "a fixed-amount code needs its currency"), 0;
    if (!strcmp(kind, "percent") && bx_json_str(body, "currency"))
        return fd_cat_invalid(req, "/currency", "a percent code has no currency"), 0;
    return 1;
}

static void s_create(fd_req_t *req)
{
    json_t *body = fd_body(req);
    bx_pg_t *pg = fd_cat_db(req);
    char org[37], id[37], b[6][32];
    bx_err_t err = BX_OK;
    if (!pg || !s_promo_rules(req, body) || !s_org(req, pg, body, org))
        return;
    bx_uuid_v7(id);
    const char *p[] = {id,
                       org,
                       bx_json_str(body, "event_id"),
                       bx_json_str(body, "code"),
                       bx_json_str(body, "kind"),
                       s_arg(body, "value", b[0]),
                       bx_json_str(body, "currency"),
                       bx_json_str(body, "starts_at"),
                       bx_json_str(body, "ends_at"),
                       s_arg(body, "max_uses", b[1]),
                       s_arg(body, "per_user_limit", b[2]),
                       s_arg(body, "min_quantity", b[3]),
                       s_arg(body, "active", b[4])};
    PGresult *res = bx_pg_query(pg, "co_promo_insert", 13, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err,
                    err == BX_ECONFLICT ? "the organization already has a code with that name"
                                        : NULL);
        return;
    }
    json_t *doc = fd_cat_json(bx_pg_val(res, 0, 0));
    PQclear(res);
    fd_audit(req, "promo.create", "promo_code", id, NULL);
    fd_add_header(req, "Location", bx_json_str(json_object_get(doc, "links"), "self"));
    fd_reply_json(req, 201, fd_document(doc, NULL));
}

/* The code path parameter promoId when the caller manages its organization: its document
 * into *doc (new reference). Answers 404 and returns 0 otherwise. */
static int s_own(fd_req_t *req, bx_pg_t *pg, const char *id, json_t **doc)
{
    bx_err_t err = BX_OK;
    int ok = 0;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, "co_promo_get", 1, p, &err);
    if (res && PQntuples(res) == 1 && !(err = fd_cat_manages(req, pg, bx_pg_val(res, 0, 1), &ok)) &&
        ok)
        *doc = fd_cat_json(bx_pg_val(res, 0, 0));
    if (!ok)
        fd_cat_fail(req, pg, res && !err ? BX_ENOTFOUND : err,
                    res && !err ? "no such promo code" : NULL);
    PQclear(res);
    return ok;
}

static void s_get(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "promoId", "promo code");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    json_t *doc = NULL;
    if (pg && s_own(req, pg, id, &doc))
        fd_reply_json(req, 200, fd_document(doc, NULL));
}

static void s_put(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "promoId", "promo code");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    json_t *doc = NULL, *body = fd_body(req);
    char b[6][32];
    bx_err_t err = BX_OK;
    if (!pg || !s_own(req, pg, id, &doc))
        return;
    int percent = !strcmp(bx_json_str(json_object_get(doc, "attributes"), "kind"), "percent");
    json_decref(doc);
    if (percent && json_integer_value(json_object_get(body, "value")) > 10000) {
        fd_cat_invalid(req, "/value", "a percent code's value is basis points, at most 10000");
        return;
    }
    const char *p[] = {id,
                       s_arg(body, "value", b[0]),
                       bx_json_str(body, "starts_at"),
                       bx_json_str(body, "ends_at"),
                       s_arg(body, "max_uses", b[1]),
                       s_arg(body, "per_user_limit", b[2]),
                       s_arg(body, "min_quantity", b[3]),
                       s_arg(body, "active", b[4])};
    PGresult *res = bx_pg_query(pg, "co_promo_update", 8, p, &err);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such promo code" : NULL);
        return;
    }
    doc = fd_cat_json(bx_pg_val(res, 0, 0));
    PQclear(res);
    fd_audit(req, "promo.update", "promo_code", id, NULL);
    fd_reply_json(req, 200, fd_document(doc, NULL));
}

static void s_delete(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "promoId", "promo code");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    json_t *doc = NULL;
    if (!pg || !s_own(req, pg, id, &doc))
        return;
    json_decref(doc);
    const char *p[] = {id};
    bx_err_t err = bx_pg_run(pg, "co_promo_delete", 1, p);
    if (err) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    fd_audit(req, "promo.delete", "promo_code", id, NULL);
    fd_reply_empty(req, 204);
}

static const char *const s_list_keys[] = {"org_id", "limit", NULL};

static void s_list(fd_req_t *req)
{
    char limit[8], a[64], after[64];
    long max = 0;
    bx_pg_t *pg = fd_cat_db(req);
    const char *org = fd_query(req, "org_id");
    if (!pg || !fd_cat_limit(req, &max, limit) ||
        !fd_cat_cursor_decode(req, a, after, sizeof after))
        return;
    if (org && !bx_uuid_valid(org)) {
        fd_cat_invalid(req, "/org_id", "org_id must be a UUID");
        return;
    }
    const char *p[] = {fd_who(req)->user_id, fd_cat_admin(req) ? "1" : "0", org,
                       after[0] ? a : NULL,  after[0] ? after : NULL,       limit};
    fd_cat_page(req, pg, "co_promo_list", 6, p, max, "/api/v1/promo-codes", s_list_keys);
}

/* The event path parameter when the caller manages its organization. Answers 404 and
 * returns NULL otherwise. */
static const char *s_event(fd_req_t *req, bx_pg_t **pg)
{
    const char *id = fd_cat_id(req, "eventId", "event");
    bx_err_t err = BX_OK;
    int ok = 0;
    *pg = id ? fd_cat_db(req) : NULL;
    if (!*pg)
        return NULL;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(*pg, "co_event_org", 1, p, &err);
    if (res && PQntuples(res) == 1)
        err = fd_cat_manages(req, *pg, bx_pg_val(res, 0, 0), &ok);
    if (!ok)
        fd_cat_fail(req, *pg, res && !err ? BX_ENOTFOUND : err,
                    res && !err ? "no such event" : NULL);
    PQclear(res);
    return ok ? id : NULL;
}

static void s_settings_reply(fd_req_t *req, bx_pg_t *pg, const char *event)
{
    bx_err_t err = BX_OK;
    const char *p[] = {event};
    PGresult *res = bx_pg_query(pg, "co_settings_get", 1, p, &err);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such event" : NULL);
        return;
    }
    char self[128];
    snprintf(self, sizeof self, "/api/v1/events/%s/booking-settings", event);
    json_t *doc = fd_resource("booking_settings", event, fd_cat_json(bx_pg_val(res, 0, 0)), self);
    PQclear(res);
    fd_reply_json(req, 200, fd_document(doc, NULL));
}

static void s_settings_get(fd_req_t *req)
{
    bx_pg_t *pg;
    const char *event = s_event(req, &pg);
    if (event)
        s_settings_reply(req, pg, event);
}

static void s_settings_put(fd_req_t *req)
{
    bx_pg_t *pg;
    const char *event = s_event(req, &pg);
    json_t *body = fd_body(req);
    char b[6][32];
    if (!event)
        return;
    const char *p[] = {event,
                       s_arg(body, "service_fee_bp", b[0]),
                       s_arg(body, "service_fee_minor", b[1]),
                       s_arg(body, "payment_window_s", b[2]),
                       s_arg(body, "cancellable", b[3]),
                       s_arg(body, "cancel_deadline_h", b[4]),
                       s_arg(body, "cancel_fee_bp", b[5])};
    bx_err_t err = bx_pg_run(pg, "co_settings_put", 7, p);
    if (err) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    fd_audit(req, "event.booking_settings", "event", event, json_deep_copy(body));
    s_settings_reply(req, pg, event);
}

static void s_tax_list(fd_req_t *req)
{
    bx_pg_t *pg = fd_cat_db(req);
    bx_err_t err = BX_OK;
    if (!pg)
        return;
    const char *p[] = {fd_query(req, "country")};
    PGresult *res = bx_pg_query(pg, "co_tax_doc_list", 1, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    json_t *data = fd_cat_json(bx_pg_val(res, 0, 0));
    PQclear(res);
    fd_reply_json(req, 200, fd_document(data, NULL));
}

static void s_tax_create(fd_req_t *req)
{
    bx_pg_t *pg = fd_cat_db(req);
    json_t *body = fd_body(req);
    char id[37], b[6][32];
    if (!pg)
        return;
    const char *region = bx_json_str(body, "region"), *country = bx_json_str(body, "country");
    if (!isupper((unsigned char)country[0]) || !isupper((unsigned char)country[1])) {
        fd_cat_invalid(req, "/country", "an ISO 3166-1 alpha-2 code (upper case)");
        return;
    }
    for (const char *c = region; c && *c; c++)
        if (!isupper((unsigned char)*c) && !isdigit((unsigned char)*c)) {
            fd_cat_invalid(req, "/region", "upper-case letters and digits (e.g. NY)");
            return;
        }
    bx_uuid_v7(id);
    const char *p[] = {id,
                       country,
                       region,
                       bx_json_str(body, "name"),
                       s_arg(body, "rate_ppm", b[0]),
                       s_arg(body, "inclusive", b[1]),
                       bx_json_str(body, "applies_to"),
                       bx_json_str(body, "currency"),
                       s_arg(body, "band_min_minor", b[2]),
                       s_arg(body, "band_max_minor", b[3]),
                       bx_json_str(body, "valid_from"),
                       bx_json_str(body, "valid_to")};
    bx_err_t err = bx_pg_run(pg, "co_tax_insert", 12, p);
    if (err) {
        fd_cat_fail(req, pg, err, err == BX_EINVAL ? "unknown country or currency" : NULL);
        return;
    }
    fd_audit(req, "tax_rule.create", "tax_rule", id, NULL);
    json_t *attrs = json_deep_copy(body);
    char self[96];
    snprintf(self, sizeof self, "/api/v1/admin/tax-rules/%s", id);
    fd_reply_json(req, 201, fd_document(fd_resource("tax_rule", id, attrs, self), NULL));
}

static void s_tax_delete(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "ruleId", "tax rule");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    bx_err_t err = BX_OK;
    if (!pg)
        return;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, "co_tax_delete", 1, p, &err);
    int n = res ? (int)strtol(PQcmdTuples(res), NULL, 10) : 0;
    PQclear(res);
    if (!res || n != 1) {
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such tax rule" : NULL);
        return;
    }
    fd_audit(req, "tax_rule.delete", "tax_rule", id, NULL);
    fd_reply_empty(req, 204);
}

const fd_route_t fd_promos_routes[] = {
    {"GET", "/api/v1/promo-codes", s_list, FD_PARTNER, FD_RL_READ, NULL},
    {"POST", "/api/v1/promo-codes", s_create, FD_PARTNER, FD_RL_WRITE, s_promo_schema},
    {"GET", "/api/v1/promo-codes/{promoId}", s_get, FD_PARTNER, FD_RL_READ, NULL},
    {"PUT", "/api/v1/promo-codes/{promoId}", s_put, FD_PARTNER, FD_RL_WRITE, s_promo_put_schema},
    {"DELETE", "/api/v1/promo-codes/{promoId}", s_delete, FD_PARTNER, FD_RL_WRITE, NULL},
    {"GET", "/api/v1/events/{eventId}/booking-settings", s_settings_get, FD_PARTNER, FD_RL_READ,
     NULL},
    {"PUT", "/api/v1/events/{eventId}/booking-settings", s_settings_put, FD_PARTNER, FD_RL_WRITE,
     s_settings_schema},
    {"GET", "/api/v1/admin/tax-rules", s_tax_list, FD_ADMIN, FD_RL_READ, NULL},
    {"POST", "/api/v1/admin/tax-rules", s_tax_create, FD_ADMIN, FD_RL_WRITE, s_tax_schema},
    {"DELETE", "/api/v1/admin/tax-rules/{ruleId}", s_tax_delete, FD_ADMIN, FD_RL_WRITE, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};
