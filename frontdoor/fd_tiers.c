/* fd_tiers: price tiers of an event. A seated tier prices sections and single seats of
 * the event's layout version (a seat's own mapping wins over its section's); a
 * general-admission tier sells a capacity of one GA area, and the tiers of an area never
 * sell more than it holds. Prices are integer minor units in the event's currency. Before
 * publishing everything may change; afterwards names, prices, sale windows, order limits
 * and GA capacities may (not below what is held or sold), GA tiers may be added, and the
 * seat mapping stays as the inventory was made. Reads follow the event's visibility;
 * changes need membership of its organization (404 otherwise, nothing written). */
#include "fd_tiers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_catalog.h"
#include "fd_doc_cache.h"

#define S_MAX_PRICE 100000000000L /* largest price in minor units */

static const char *const s_kinds[] = {"seated", "ga", NULL};

const bx_jfield_t fd_tiers_create_schema[] = {
    {.name = "name",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 100,
     .format = BX_FMT_NAME},
    {.name = "description", .type = BX_JT_STRING, .max = 1000, .nullable = 1},
    {.name = "kind", .type = BX_JT_STRING, .required = 1, .one_of = s_kinds},
    {.name = "price_minor", .type = BX_JT_INT, .required = 1, .min = 0, .max = S_MAX_PRICE},
    {.name = "currency", .type = BX_JT_STRING, .format = BX_FMT_CURRENCY},
    {.name = "sections", .type = BX_JT_ARRAY, .min = 1, .max = 500},
    {.name = "seats", .type = BX_JT_ARRAY, .min = 1, .max = 10000},
    {.name = "section", .type = BX_JT_STRING, .min = 1, .max = 32, .format = BX_FMT_NAME},
    {.name = "capacity", .type = BX_JT_INT, .min = 1, .max = 1000000},
    {.name = "sale_starts_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME, .nullable = 1},
    {.name = "sale_ends_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME, .nullable = 1},
    {.name = "min_per_order", .type = BX_JT_INT, .min = 1, .max = 100},
    {.name = "max_per_order", .type = BX_JT_INT, .min = 1, .max = 100},
    {0},
};

/* PUT merges; kind stays (delete and re-create to change it). */
static const bx_jfield_t s_update_schema[] = {
    {.name = "name", .type = BX_JT_STRING, .min = 1, .max = 100, .format = BX_FMT_NAME},
    {.name = "description", .type = BX_JT_STRING, .max = 1000, .nullable = 1},
    {.name = "price_minor", .type = BX_JT_INT, .min = 0, .max = S_MAX_PRICE},
    {.name = "currency", .type = BX_JT_STRING, .format = BX_FMT_CURRENCY},
    {.name = "sections", .type = BX_JT_ARRAY, .min = 1, .max = 500},
    {.name = "seats", .type = BX_JT_ARRAY, .min = 1, .max = 10000},
    {.name = "section", .type = BX_JT_STRING, .min = 1, .max = 32, .format = BX_FMT_NAME},
    {.name = "capacity", .type = BX_JT_INT, .min = 1, .max = 1000000},
    {.name = "sale_starts_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME, .nullable = 1},
    {.name = "sale_ends_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME, .nullable = 1},
    {.name = "min_per_order", .type = BX_JT_INT, .min = 1, .max = 100},
    {.name = "max_per_order", .type = BX_JT_INT, .min = 1, .max = 100},
    {0},
};

static bx_err_t s_refuse(bx_err_t err, char ptr[FD_TIERS_PTR], const char *p,
                         char why[FD_TIERS_WHY], const char *w)
{
    bx_strlcpy(ptr, p, FD_TIERS_PTR);
    bx_strlcpy(why, w, FD_TIERS_WHY);
    return err;
}

/* Items of the array member key are short strings without control characters. */
static bx_err_t s_strings(json_t *tier, const char *key, char ptr[FD_TIERS_PTR],
                          char why[FD_TIERS_WHY])
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(tier, key), i, v)
    {
        const char *s = json_string_value(v);
        int ok = s && *s && strlen(s) <= 64;
        for (const char *p = s; ok && *p; p++)
            ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
        if (!ok) {
            snprintf(ptr, FD_TIERS_PTR, "/%s/%zu", key, i);
            bx_strlcpy(why, "must be a section code or seat label (1 to 64 characters)",
                       FD_TIERS_WHY);
            return BX_EINVAL;
        }
    }
    return BX_OK;
}

bx_err_t fd_tiers_check(json_t *tier, const char *kind, char ptr[FD_TIERS_PTR],
                        char why[FD_TIERS_WHY])
{
    int seated = !strcmp(kind, "seated");
    bx_err_t err = s_strings(tier, "sections", ptr, why);
    if (!err)
        err = s_strings(tier, "seats", ptr, why);
    if (err)
        return err;
    if (seated && (json_object_get(tier, "section") || json_object_get(tier, "capacity")))
        return s_refuse(
            BX_EINVAL, ptr, json_object_get(tier, "section") ? "/section" : "/capacity", why,
            "a seated tier is priced by sections and seats, not by an area and capacity");
    if (!seated && (json_object_get(tier, "sections") || json_object_get(tier, "seats")))
        return s_refuse(BX_EINVAL, ptr, json_object_get(tier, "sections") ? "/sections" : "/seats",
                        why,
                        "a general-admission tier sells an area's capacity, not sections or seats");
    return BX_OK;
}

/* The GA area with code of layout, and the room its other tiers leave. */
static bx_err_t s_area(bx_pg_t *pg, const char *event_id, const char *layout, const char *code,
                       const char *exclude, char id[BX_UUID_LEN + 1], long *room)
{
    bx_err_t err;
    const char *p[] = {event_id, layout, code, exclude};
    PGresult *res = bx_pg_query(pg, "cat_tier_ga_area", 4, p, &err);
    if (res && PQntuples(res) == 1) {
        bx_strlcpy(id, bx_pg_val(res, 0, 0), BX_UUID_LEN + 1);
        *room = strtol(bx_pg_val(res, 0, 1), NULL, 10);
    } else if (res) {
        err = BX_ENOTFOUND;
    }
    PQclear(res);
    return err;
}

/* Checks the GA area and capacity of tier (id exclude when updating) into area. */
static bx_err_t s_ga_room(bx_pg_t *pg, const char *event_id, const char *layout, const char *code,
                          long capacity, const char *exclude, char area[BX_UUID_LEN + 1],
                          char ptr[FD_TIERS_PTR], char why[FD_TIERS_WHY])
{
    long room = 0;
    bx_err_t err = s_area(pg, event_id, layout, code, exclude, area, &room);
    if (err == BX_ENOTFOUND)
        return s_refuse(BX_EINVAL, ptr, "/section", why,
                        "is not a general-admission area of the event's layout version");
    if (!err && capacity > room) {
        snprintf(why, FD_TIERS_WHY,
                 "the area %.32s has room for %ld more: its tiers would sell more than it holds",
                 code, room < 0 ? 0 : room);
        return s_refuse(BX_EUNPROCESSABLE, ptr, "/capacity", why, why);
    }
    return err;
}

/* Maps the codes (or labels) of the array member key to tier. */
static bx_err_t s_map(bx_pg_t *pg, const char *query, const char *event_id, const char *tier_id,
                      const char *layout, json_t *body, const char *key, char ptr[FD_TIERS_PTR],
                      char why[FD_TIERS_WHY])
{
    json_t *arr = json_object_get(body, key);
    bx_err_t err = BX_OK;
    if (!arr)
        return BX_OK;
    char *text = bx_json_dump(arr);
    const char *p[] = {event_id, tier_id, text, layout};
    PGresult *res = text ? bx_pg_query(pg, query, 4, p, &err) : NULL;
    if (res && bx_pg_val(res, 0, 1)) {
        snprintf(why, FD_TIERS_WHY, "not in the event's layout version%s: %.120s",
                 strcmp(key, "sections") ? "" : " as seated sections", bx_pg_val(res, 0, 1));
        snprintf(ptr, FD_TIERS_PTR, "/%s", key);
        err = BX_EINVAL;
    }
    PQclear(res);
    free(text);
    return text ? err : BX_ENOMEM;
}

bx_err_t fd_tiers_insert(bx_pg_t *pg, const fd_event_row_t *ev, const char *event_id, json_t *tier,
                         char id[BX_UUID_LEN + 1], char ptr[FD_TIERS_PTR], char why[FD_TIERS_WHY])
{
    const char *cur = bx_json_str(tier, "currency"), *kind = bx_json_str(tier, "kind");
    char area[BX_UUID_LEN + 1] = "";
    int ga = !strcmp(kind, "ga"), draft = !strcmp(ev->status, "draft");
    bx_err_t err = BX_OK;
    if (cur && strcmp(cur, ev->currency))
        return s_refuse(BX_EINVAL, ptr, "/currency", why, "must be the event's currency");
    if (!draft && !ga)
        return s_refuse(BX_ECONFLICT, ptr, "", why,
                        "seated tiers are added before publishing: the "
                        "seat inventory is made from them");
    if (ga && (!bx_json_str(tier, "section") || !json_object_get(tier, "capacity")))
        return s_refuse(BX_EINVAL, ptr, bx_json_str(tier, "section") ? "/capacity" : "/section",
                        why, "a general-admission tier needs section (the area) and capacity");
    if (!ga && !json_object_get(tier, "sections") && !json_object_get(tier, "seats"))
        return s_refuse(BX_EINVAL, ptr, "/sections", why, "a seated tier needs sections or seats");
    if (ga)
        err = s_ga_room(pg, event_id, ev->layout, bx_json_str(tier, "section"),
                        (long)json_integer_value(json_object_get(tier, "capacity")), NULL, area,
                        ptr, why);
    char *text = err ? NULL : bx_json_dump(tier);
    bx_uuid_v7(id);
    const char *p[] = {id, text, ga ? area : NULL, event_id}, *pid[] = {id};
    if (!err)
        err = text ? bx_pg_run(pg, "cat_tier_insert", 4, p) : BX_ENOMEM;
    if (!err)
        err = s_map(pg, "cat_tier_map_sections", event_id, id, ev->layout, tier, "sections", ptr,
                    why);
    if (!err)
        err = s_map(pg, "cat_tier_map_seats", event_id, id, ev->layout, tier, "seats", ptr, why);
    if (!err && !draft)
        err = bx_pg_run(pg, "cat_tier_ga_open", 1, pid);
    free(text);
    return err;
}

/* ---- handlers ---- */

/* Answers the event's tiers (tier NULL) or one tier as a document. */
static void s_reply(fd_req_t *req, bx_pg_t *pg, const char *event_id, const char *tier, int status)
{
    char self[160];
    bx_err_t err;
    int64_t modified = 0;
    const char *p[] = {event_id, tier};
    PGresult *res = bx_pg_query(pg, "cat_tier_list", 2, p, &err);
    if (!res || (tier && PQntuples(res) != 1)) {
        PQclear(res);
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such tier" : NULL);
        return;
    }
    json_t *data = tier ? NULL : json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        snprintf(self, sizeof self, "/api/v1/events/%s/tiers/%s", event_id, bx_pg_val(res, i, 0));
        json_t *r =
            fd_resource("tier", bx_pg_val(res, i, 0), fd_cat_json(bx_pg_val(res, i, 2)), self);
        int64_t m = strtoll(bx_pg_val(res, i, 1), NULL, 10);
        modified = m > modified ? m : modified;
        if (tier)
            data = r;
        else
            json_array_append_new(data, r);
    }
    PQclear(res);
    snprintf(self, sizeof self, "/api/v1/events/%s/tiers", event_id);
    if (status == 201)
        fd_add_header(req, "Location",
                      json_string_value(json_object_get(json_object_get(data, "links"), "self")));
    fd_reply_json(req, status, fd_document(data, tier ? NULL : json_pack("{s:s}", "self", self)));
}

static void s_list(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "eventId", "event");
    int64_t modified = 0;
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (!pg || !fd_events_visible(req, pg, id, &modified))
        return;
    fd_cacheable(req, FD_CAT_CACHE_AGE, 0, modified);
    s_reply(req, pg, id, NULL, 200);
}

static void s_get(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "eventId", "event");
    const char *tier = id ? fd_cat_id(req, "tierId", "tier") : NULL;
    int64_t modified = 0;
    bx_pg_t *pg = tier ? fd_cat_db(req) : NULL;
    if (!pg || !fd_events_visible(req, pg, id, &modified))
        return;
    fd_cacheable(req, FD_CAT_CACHE_AGE, 0, modified);
    s_reply(req, pg, id, tier, 200);
}

/* Touches the event and writes its outbox row, then commits and drops the cached event
 * document (its price range shows the tiers). */
static bx_err_t s_finish(fd_req_t *req, bx_pg_t *pg, const char *event_id, const char *action)
{
    const char *p[] = {event_id};
    bx_err_t err = bx_pg_run(pg, "cat_event_touch", 1, p);
    if (!err)
        err = fd_cat_outbox(req, pg, "event.updated", event_id, action);
    if (!err && !(err = bx_pg_commit(pg)))
        fd_doc_cache_touch(req, FD_DOC_EVENT, event_id);
    return err;
}

/* The event is locked for the caller and its tiers may still change. */
static int s_event_open(fd_req_t *req, bx_pg_t *pg, const char *id, fd_event_row_t *ev)
{
    if (!fd_events_lock(req, pg, id, ev))
        return 0;
    if (!strcmp(ev->status, "completed") || !strcmp(ev->status, "cancelled")) {
        fd_cat_fail(req, pg, BX_ECONFLICT,
                    "the tiers of a cancelled or completed event cannot change");
        return 0;
    }
    return 1;
}

/* Answers a tier refusal: 400 with a pointer, else the error with its reason. */
static void s_refused(fd_req_t *req, bx_pg_t *pg, bx_err_t err, const char *ptr, const char *why)
{
    if (err == BX_EINVAL && why[0]) {
        bx_pg_rollback(pg);
        fd_cat_invalid(req, ptr, why);
    } else {
        fd_cat_fail(req, pg, err, why[0] ? why : NULL);
    }
}

static void s_create(fd_req_t *req)
{
    json_t *b = fd_body(req);
    const char *event_id = fd_cat_id(req, "eventId", "event");
    char id[BX_UUID_LEN + 1], ptr[FD_TIERS_PTR] = "", why[FD_TIERS_WHY] = "";
    fd_event_row_t ev;
    bx_pg_t *pg = event_id ? fd_cat_db(req) : NULL;
    if (!pg)
        return;
    bx_err_t err = fd_tiers_check(b, bx_json_str(b, "kind"), ptr, why);
    if (!err && (err = bx_pg_begin(pg)) == BX_OK && !s_event_open(req, pg, event_id, &ev))
        return;
    if (!err && !(err = fd_tiers_insert(pg, &ev, event_id, b, id, ptr, why)))
        err = s_finish(req, pg, event_id, "tier_created");
    if (err) {
        s_refused(req, pg, err, ptr, why);
        return;
    }
    fd_audit(req, "tier.create", "event", event_id, json_pack("{s:s}", "tier_id", id));
    s_reply(req, pg, event_id, id, 201);
}

/* The stored kind and GA area code of tier. Answers 404 and returns 0 when absent. */
static int s_tier_lock(fd_req_t *req, bx_pg_t *pg, const char *event_id, const char *tier,
                       char kind[8], char area[33])
{
    bx_err_t err;
    const char *p[] = {tier, event_id};
    PGresult *res = bx_pg_query(pg, "cat_tier_lock", 2, p, &err);
    int ok = res && PQntuples(res) == 1;
    if (ok) {
        bx_strlcpy(kind, bx_pg_val(res, 0, 0), 8);
        bx_strlcpy(area, bx_pg_val(res, 0, 2) ? bx_pg_val(res, 0, 2) : "", 33);
    }
    PQclear(res);
    if (!ok)
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such tier" : NULL);
    return ok;
}

/* Applies PUT b to the locked tier of kind: the GA room and mapping first, then the
 * columns, then the GA inventory of a published event. */
static bx_err_t s_apply(bx_pg_t *pg, const fd_event_row_t *ev, const char *event_id,
                        const char *tier, const char *kind, const char *area_code, json_t *b,
                        char *ptr, char *why)
{
    int ga = !strcmp(kind, "ga"), draft = !strcmp(ev->status, "draft");
    const char *code = bx_json_str(b, "section") ? bx_json_str(b, "section") : area_code;
    char area[BX_UUID_LEN + 1] = "";
    bx_err_t err = BX_OK;
    json_t *cap = json_object_get(b, "capacity");
    if (!draft && (json_object_get(b, "sections") || json_object_get(b, "seats") ||
                   json_object_get(b, "section")))
        return s_refuse(BX_ECONFLICT, ptr, "", why,
                        "the mapping of a published event's tier cannot change: "
                        "its inventory was made from it");
    if (ga && (cap || bx_json_str(b, "section")))
        err = s_ga_room(pg, event_id, ev->layout, code, cap ? (long)json_integer_value(cap) : 0,
                        tier, area, ptr, why);
    char *text = err ? NULL : bx_json_dump(b);
    const char *p[] = {tier, text, area[0] && bx_json_str(b, "section") ? area : NULL},
               *pt[] = {tier};
    if (!err)
        err = text ? bx_pg_run(pg, "cat_tier_update", 3, p) : BX_ENOMEM;
    if (!err && (json_object_get(b, "sections") || json_object_get(b, "seats"))) {
        PGresult *res = bx_pg_query(pg, "cat_tier_unmap", 1, pt, &err);
        PQclear(res);
    }
    if (!err)
        err =
            s_map(pg, "cat_tier_map_sections", event_id, tier, ev->layout, b, "sections", ptr, why);
    if (!err)
        err = s_map(pg, "cat_tier_map_seats", event_id, tier, ev->layout, b, "seats", ptr, why);
    if (!err && ga && !draft && cap)
        err = bx_pg_run(pg, "cat_tier_ga_resize", 1, pt);
    free(text);
    return err;
}

static void s_update(fd_req_t *req)
{
    json_t *b = fd_body(req);
    const char *event_id = fd_cat_id(req, "eventId", "event");
    const char *tier = event_id ? fd_cat_id(req, "tierId", "tier") : NULL,
               *cur = bx_json_str(b, "currency");
    char kind[8], area[33], ptr[FD_TIERS_PTR] = "", why[FD_TIERS_WHY] = "";
    fd_event_row_t ev;
    bx_pg_t *pg = tier ? fd_cat_db(req) : NULL;
    if (!pg)
        return;
    bx_err_t err = bx_pg_begin(pg);
    if (err || !s_event_open(req, pg, event_id, &ev) ||
        !s_tier_lock(req, pg, event_id, tier, kind, area))
        goto out;
    if (cur && strcmp(cur, ev.currency))
        err = s_refuse(BX_EINVAL, ptr, "/currency", why, "must be the event's currency");
    if (!err)
        err = fd_tiers_check(b, kind, ptr, why);
    if (!err && !(err = s_apply(pg, &ev, event_id, tier, kind, area, b, ptr, why)))
        err = s_finish(req, pg, event_id, "tier_updated");
    if (!err) {
        fd_audit(req, "tier.update", "event", event_id, json_pack("{s:s}", "tier_id", tier));
        s_reply(req, pg, event_id, tier, 200);
    }
out:
    if (err)
        s_refused(req, pg, err, ptr, why);
}

static void s_delete(fd_req_t *req)
{
    const char *event_id = fd_cat_id(req, "eventId", "event");
    const char *tier = event_id ? fd_cat_id(req, "tierId", "tier") : NULL;
    char kind[8], area[33];
    fd_event_row_t ev;
    bx_pg_t *pg = tier ? fd_cat_db(req) : NULL;
    if (!pg)
        return;
    bx_err_t err = bx_pg_begin(pg);
    if (err || !s_event_open(req, pg, event_id, &ev) ||
        !s_tier_lock(req, pg, event_id, tier, kind, area))
        goto out;
    if (strcmp(ev.status, "draft")) {
        fd_cat_fail(req, pg, BX_ECONFLICT,
                    "a published event's tiers cannot be deleted: its inventory "
                    "uses them (set a sale window that has ended instead)");
        return;
    }
    const char *p[] = {tier, event_id};
    if (!(err = bx_pg_run(pg, "cat_tier_delete", 2, p)))
        err = s_finish(req, pg, event_id, "tier_deleted");
    if (!err) {
        fd_audit(req, "tier.delete", "event", event_id, json_pack("{s:s}", "tier_id", tier));
        fd_reply_empty(req, 204);
    }
out:
    if (err)
        fd_cat_fail(req, pg, err, NULL);
}

const fd_route_t fd_tiers_routes[] = {
    {"GET", "/api/v1/events/{eventId}/tiers", s_list, FD_OPT_AUTH, FD_RL_READ, NULL},
    {"POST", "/api/v1/events/{eventId}/tiers", s_create, FD_PARTNER, FD_RL_WRITE,
     fd_tiers_create_schema},
    {"GET", "/api/v1/events/{eventId}/tiers/{tierId}", s_get, FD_OPT_AUTH, FD_RL_READ, NULL},
    {"PUT", "/api/v1/events/{eventId}/tiers/{tierId}", s_update, FD_PARTNER, FD_RL_WRITE,
     s_update_schema},
    {"DELETE", "/api/v1/events/{eventId}/tiers/{tierId}", s_delete, FD_PARTNER, FD_RL_WRITE, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};
