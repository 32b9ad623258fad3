/* fd_events: events: create (draft), read, update and delete; the list (GET
 * /api/v1/events) is fd_search_list, which shares the search's parameters. Customers and anonymous callers see published and on-sale events
 * only; members of the owning organization (checked in organization_members) and admins
 * see and change everything of theirs, and to anyone else an event they may not see does
 * not exist (404). Times are stored in UTC and answered in UTC and in the venue's zone.
 * Two events that are not cancelled never overlap in one hall: checked here for a clear
 * answer and enforced by the events_no_overlap exclusion constraint. */
#include "fd_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_catalog.h"
#include "fd_doc_cache.h"
#include "fd_search.h"
#include "fd_media.h"

const char *const fd_events_types[] = {"movie", "concert", "sports", "theater", "conference", NULL};
static const char *const s_put_statuses[] = {"published", "on_sale", "completed", NULL};

const bx_jfield_t fd_events_performer_schema[] = {
    {.name = "name",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 200,
     .format = BX_FMT_NAME},
    {.name = "role", .type = BX_JT_STRING, .min = 1, .max = 100, .format = BX_FMT_NAME},
    {0},
};

static const bx_jfield_t s_create_schema[] = {
    {.name = "name",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 255,
     .format = BX_FMT_NAME},
    {.name = "description", .type = BX_JT_STRING, .max = 10000, .nullable = 1},
    {.name = "event_type", .type = BX_JT_STRING, .required = 1, .one_of = fd_events_types},
    {.name = "performers", .type = BX_JT_ARRAY, .max = 100, .sub = fd_events_performer_schema},
    {.name = "venue_id", .type = BX_JT_STRING, .required = 1, .format = BX_FMT_UUID},
    {.name = "hall_id", .type = BX_JT_STRING, .required = 1, .format = BX_FMT_UUID},
    {.name = "layout_version", .type = BX_JT_INT, .min = 1, .max = 1000000},
    {.name = "starts_at", .type = BX_JT_STRING, .required = 1, .format = BX_FMT_DATETIME},
    {.name = "ends_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME},
    {.name = "duration_minutes", .type = BX_JT_INT, .min = 1, .max = 44640},
    {.name = "currency", .type = BX_JT_STRING, .required = 1, .format = BX_FMT_CURRENCY},
    {0},
};

/* PUT merges. The hall and layout version change only while the event is a draft;
 * status moves published <-> on_sale and on to completed (publishing and cancelling have
 * their own routes). */
static const bx_jfield_t s_update_schema[] = {
    {.name = "name", .type = BX_JT_STRING, .min = 1, .max = 255, .format = BX_FMT_NAME},
    {.name = "description", .type = BX_JT_STRING, .max = 10000, .nullable = 1},
    {.name = "event_type", .type = BX_JT_STRING, .one_of = fd_events_types},
    {.name = "performers", .type = BX_JT_ARRAY, .max = 100, .sub = fd_events_performer_schema},
    {.name = "hall_id", .type = BX_JT_STRING, .format = BX_FMT_UUID},
    {.name = "layout_version", .type = BX_JT_INT, .min = 1, .max = 1000000},
    {.name = "starts_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME},
    {.name = "ends_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME},
    {.name = "duration_minutes", .type = BX_JT_INT, .min = 1, .max = 44640},
    {.name = "currency", .type = BX_JT_STRING, .format = BX_FMT_CURRENCY},
    {.name = "status", .type = BX_JT_STRING, .one_of = s_put_statuses},
    {0},
};

/* Status changes PUT may make. */
static const struct {
    const char *from; /* current status */
    const char *to;   /* requested status */
} s_moves[] = {
    {"published", "on_sale"},
    {"on_sale", "published"},
    {"published", "completed"},
    {"on_sale", "completed"},
};

/* An event's computed time span. */
typedef struct {
    char starts[32]; /* RFC 3339 UTC */
    char ends[32];   /* RFC 3339 UTC */
} s_span_t;

static int s_public(const char *status)
{
    return !strcmp(status, "published") || !strcmp(status, "on_sale");
}

/* ---- reading ---- */

/* Answers the event document; with c (a GET that missed the document cache) a public
 * document is stored for the next readers. */
static void s_reply(fd_req_t *req, bx_pg_t *pg, const char *id, int status, json_t *meta,
                    const fd_doc_cache_t *c)
{
    char self[96], venue[BX_UUID_LEN + 1] = "";
    bx_err_t err;
    int ok = 0;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, "cat_event_get", 1, p, &err);
    if (res && PQntuples(res) == 1) {
        ok = s_public(bx_pg_val(res, 0, 2));
        if (!ok)
            err = fd_cat_manages(req, pg, bx_pg_val(res, 0, 1), &ok);
    }
    if (!ok) {
        PQclear(res);
        json_decref(meta);
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such event");
        return;
    }
    snprintf(self, sizeof self, "/api/v1/events/%s", id);
    json_t *r = fd_resource("event", id, fd_cat_json(bx_pg_val(res, 0, 4)), self);
    err = r ? fd_media_embed(pg, id, json_object_get(r, "attributes")) : BX_ENOMEM;
    if (err) {
        PQclear(res);
        json_decref(r);
        json_decref(meta);
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    if (r)
        json_object_set_new(
            r, "relationships",
            json_pack("{s:{s:{s:s+}}, s:{s:{s:s+}}}", "tiers", "links", "related", self, "/tiers",
                      "venue", "links", "related", "/api/v1/venues/",
                      json_string_value(json_object_get(
                          json_object_get(json_object_get(r, "attributes"), "venue"), "id"))));
    int is_public = s_public(bx_pg_val(res, 0, 2));
    int64_t modified = strtoll(bx_pg_val(res, 0, 3), NULL, 10);
    fd_cacheable(req, FD_CAT_CACHE_AGE, is_public, modified);
    PQclear(res);
    const char *vid = json_string_value(
        json_object_get(json_object_get(json_object_get(r, "attributes"), "venue"), "id"));
    bx_strlcpy(venue, vid ? vid : "", sizeof venue);
    json_t *doc = fd_document(r, NULL);
    if (doc && meta)
        json_object_set(doc, "meta", meta);
    json_decref(meta);
    fd_reply_json(req, status, doc);
    if (c && is_public && venue[0])
        fd_doc_cache_put(req, c, venue, modified);
}

void fd_events_reply(fd_req_t *req, bx_pg_t *pg, const char *id, int status, json_t *meta)
{
    s_reply(req, pg, id, status, meta, NULL);
}

int fd_events_visible(fd_req_t *req, bx_pg_t *pg, const char *id, int64_t *modified)
{
    bx_err_t err;
    int ok = 0;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, "cat_event_brief", 1, p, &err);
    if (res && PQntuples(res) == 1) {
        ok = s_public(bx_pg_val(res, 0, 1));
        if (!ok)
            err = fd_cat_manages(req, pg, bx_pg_val(res, 0, 0), &ok);
        *modified = strtoll(bx_pg_val(res, 0, 2), NULL, 10);
    }
    PQclear(res);
    if (!ok)
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such event");
    return ok;
}

static void s_get(fd_req_t *req)
{
    fd_doc_cache_t c;
    const char *id = fd_cat_id(req, "eventId", "event");
    if (!id || fd_doc_cache_get(req, FD_DOC_EVENT, id, &c))
        return;
    bx_pg_t *pg = fd_cat_db(req);
    if (pg)
        s_reply(req, pg, id, 200, NULL, &c);
}

/* ---- checks shared by the writes ---- */

bx_err_t fd_events_conflict(bx_pg_t *pg, const char *hall, const char *starts, const char *ends,
                            const char *exclude, int *found, char *id, char *series)
{
    bx_err_t err;
    const char *p[] = {hall, starts, ends, exclude};
    PGresult *res = bx_pg_query(pg, "cat_event_overlap", 4, p, &err);
    *found = res && PQntuples(res) == 1;
    if (*found && id)
        bx_strlcpy(id, bx_pg_val(res, 0, 0), BX_UUID_LEN + 1);
    if (*found && series)
        bx_strlcpy(series, bx_pg_val(res, 0, 4) ? bx_pg_val(res, 0, 4) : "", BX_UUID_LEN + 1);
    PQclear(res);
    return err;
}

int fd_events_slot_free(fd_req_t *req, bx_pg_t *pg, const char *hall, const char *starts,
                        const char *ends, const char *exclude)
{
    char other[BX_UUID_LEN + 1], detail[160];
    int found = 0;
    bx_err_t err = fd_events_conflict(pg, hall, starts, ends, exclude, &found, other, NULL);
    if (err) {
        fd_cat_fail(req, pg, err, NULL);
        return 0;
    }
    if (found) {
        bx_pg_rollback(pg);
        snprintf(detail, sizeof detail, "the hall already has event %s during %s .. %s", other,
                 starts, ends);
        fd_reply_problem_ext(req, BX_ECONFLICT, detail,
                             json_pack("{s:s}", "conflicting_event_id", other));
    }
    return !found;
}

int fd_events_place(fd_req_t *req, bx_pg_t *pg, const char *venue, const char *hall,
                    json_t *version, fd_event_place_t *out)
{
    char ver[16];
    const char *why = NULL;
    bx_err_t err;
    int ok = 0;
    snprintf(ver, sizeof ver, "%lld", (long long)json_integer_value(version));
    const char *p[] = {venue, hall, version ? ver : NULL};
    PGresult *res = bx_pg_query(pg, "cat_event_place", 3, p, &err);
    if (res && PQntuples(res) == 1 && !(err = fd_cat_manages(req, pg, bx_pg_val(res, 0, 0), &ok)) &&
        ok) {
        bx_strlcpy(out->org, bx_pg_val(res, 0, 0), sizeof out->org);
        bx_strlcpy(out->layout, bx_pg_val(res, 0, 2) ? bx_pg_val(res, 0, 2) : "",
                   sizeof out->layout);
        if (!bx_pg_val(res, 0, 1)) {
            err = BX_ENOTFOUND;
            why = "no such hall in this venue";
        } else if (!bx_pg_val(res, 0, 2)) {
            err = BX_EUNPROCESSABLE;
            why = "the hall has no seating layout of that version: save one first";
        }
    }
    if (!err && !ok) {
        err = BX_ENOTFOUND;
        why = "no such venue";
    }
    PQclear(res);
    if (err)
        fd_cat_fail(req, pg, err, why);
    return !err;
}

/* Computes the span from starts (required), ends and/or duration minutes, or else the
 * old duration (PostgreSQL interval text). Answers 400 and returns 0 when it is empty,
 * reversed or inconsistent. */
static int s_span(fd_req_t *req, bx_pg_t *pg, const char *starts, const char *ends, json_t *minutes,
                  const char *old_duration, s_span_t *out)
{
    char mins[16];
    bx_err_t err;
    snprintf(mins, sizeof mins, "%lld", (long long)json_integer_value(minutes));
    const char *p[] = {starts, ends, minutes ? mins : NULL, old_duration};
    PGresult *res = bx_pg_query(pg, "cat_event_times", 4, p, &err);
    int ok = res && bx_pg_val(res, 0, 1) && !strcmp(bx_pg_val(res, 0, 2), "t") &&
             !strcmp(bx_pg_val(res, 0, 3), "t");
    if (ok) {
        bx_strlcpy(out->starts, bx_pg_val(res, 0, 0), sizeof out->starts);
        bx_strlcpy(out->ends, bx_pg_val(res, 0, 1), sizeof out->ends);
    } else if (!res) {
        fd_cat_fail(req, pg, err, NULL);
    } else if (!bx_pg_val(res, 0, 1)) {
        fd_cat_fail(req, pg, BX_EINVAL, "give ends_at or duration_minutes");
    } else if (strcmp(bx_pg_val(res, 0, 2), "t")) {
        bx_pg_rollback(pg);
        fd_cat_invalid(req, ends ? "/ends_at" : "/duration_minutes",
                       "the event must end after it starts");
    } else {
        bx_pg_rollback(pg);
        fd_cat_invalid(req, "/duration_minutes", "does not match ends_at - starts_at");
    }
    PQclear(res);
    return ok;
}

/* ---- writes ---- */

static void s_create(fd_req_t *req)
{
    json_t *b = fd_body(req);
    char id[BX_UUID_LEN + 1], loc[96];
    fd_event_place_t pl;
    s_span_t sp;
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg || !fd_cat_currency_ok(req, pg, bx_json_str(b, "currency")))
        return;
    char *text = bx_json_dump(b);
    bx_err_t err = text ? bx_pg_begin(pg) : BX_ENOMEM;
    if (err ||
        !fd_events_place(req, pg, bx_json_str(b, "venue_id"), bx_json_str(b, "hall_id"),
                         json_object_get(b, "layout_version"), &pl) ||
        !s_span(req, pg, bx_json_str(b, "starts_at"), bx_json_str(b, "ends_at"),
                json_object_get(b, "duration_minutes"), NULL, &sp) ||
        !fd_events_slot_free(req, pg, bx_json_str(b, "hall_id"), sp.starts, sp.ends, NULL))
        goto out;
    bx_uuid_v7(id);
    const char *p[] = {id,
                       pl.org,
                       bx_json_str(b, "venue_id"),
                       bx_json_str(b, "hall_id"),
                       pl.layout,
                       NULL,
                       sp.starts,
                       sp.ends,
                       text};
    if (!(err = bx_pg_run(pg, "cat_event_insert", 9, p)) &&
        !(err = fd_cat_outbox(req, pg, "event.updated", id, "created")))
        err = bx_pg_commit(pg);
    if (!err) {
        fd_audit(req, "event.create", "event", id, json_pack("{s:s}", "organization_id", pl.org));
        snprintf(loc, sizeof loc, "/api/v1/events/%s", id);
        fd_add_header(req, "Location", loc);
        fd_events_reply(req, pg, id, 201, NULL);
    }
out:
    if (err)
        fd_cat_fail(req, pg, err, NULL);
    free(text);
}

int fd_events_lock(fd_req_t *req, bx_pg_t *pg, const char *id, fd_event_row_t *row)
{
    bx_err_t err;
    int ok = 0;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, "cat_event_lock", 1, p, &err);
    if (res && PQntuples(res) == 1) {
        bx_strlcpy(row->org, bx_pg_val(res, 0, 0), sizeof row->org);
        bx_strlcpy(row->status, bx_pg_val(res, 0, 1), sizeof row->status);
        bx_strlcpy(row->hall, bx_pg_val(res, 0, 2), sizeof row->hall);
        bx_strlcpy(row->layout, bx_pg_val(res, 0, 3), sizeof row->layout);
        bx_strlcpy(row->starts, bx_pg_val(res, 0, 4), sizeof row->starts);
        bx_strlcpy(row->duration, bx_pg_val(res, 0, 5), sizeof row->duration);
        bx_strlcpy(row->venue, bx_pg_val(res, 0, 6), sizeof row->venue);
        bx_strlcpy(row->currency, bx_pg_val(res, 0, 7), sizeof row->currency);
        err = fd_cat_manages(req, pg, row->org, &ok);
    }
    PQclear(res);
    if (!ok)
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such event");
    return ok;
}

/* The status a PUT asks for is the current one or an allowed move. Answers 409. */
static int s_move_ok(fd_req_t *req, bx_pg_t *pg, const fd_event_row_t *row, const char *to)
{
    char detail[160];
    if (!to || !strcmp(to, row->status))
        return 1;
    for (size_t i = 0; i < sizeof s_moves / sizeof s_moves[0]; i++)
        if (!strcmp(s_moves[i].from, row->status) && !strcmp(s_moves[i].to, to))
            return 1;
    snprintf(detail, sizeof detail, "an event cannot go from %s to %s%s", row->status, to,
             !strcmp(row->status, "draft")
                 ? ": publish it with POST /api/v1/events/{eventId}/publish"
                 : "");
    fd_cat_fail(req, pg, BX_ECONFLICT, detail);
    return 0;
}

/* What PUT may change in the event's current status. Answers 409 otherwise. */
static int s_changeable(fd_req_t *req, bx_pg_t *pg, const fd_event_row_t *row, json_t *b)
{
    int moves = json_object_get(b, "hall_id") || json_object_get(b, "layout_version");
    if (!strcmp(row->status, "cancelled") || !strcmp(row->status, "completed")) {
        fd_cat_fail(req, pg, BX_ECONFLICT, "a cancelled or completed event cannot change");
        return 0;
    }
    if (moves && strcmp(row->status, "draft")) {
        fd_cat_fail(req, pg, BX_ECONFLICT,
                    "the hall and layout of a published event cannot change: "
                    "its inventory was made from them");
        return 0;
    }
    return s_move_ok(req, pg, row, bx_json_str(b, "status"));
}

/* Resolves the new hall/layout of a draft (venue stays) into pl. */
static int s_new_place(fd_req_t *req, bx_pg_t *pg, const fd_event_row_t *row, json_t *b,
                       fd_event_place_t *pl)
{
    const char *hall = bx_json_str(b, "hall_id");
    if (!hall && !json_object_get(b, "layout_version")) {
        bx_strlcpy(pl->layout, row->layout, sizeof pl->layout);
        return 1;
    }
    return fd_events_place(req, pg, row->venue, hall ? hall : row->hall,
                           json_object_get(b, "layout_version"), pl);
}

static void s_update(fd_req_t *req)
{
    json_t *b = fd_body(req);
    const char *id = fd_cat_id(req, "eventId", "event"), *starts = bx_json_str(b, "starts_at");
    const char *ends = bx_json_str(b, "ends_at"), *status = bx_json_str(b, "status");
    json_t *mins = json_object_get(b, "duration_minutes");
    fd_event_row_t row;
    fd_event_place_t pl;
    s_span_t sp;
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (!pg || !fd_cat_currency_ok(req, pg, bx_json_str(b, "currency")))
        return;
    char *text = bx_json_dump(b);
    bx_err_t err = text ? bx_pg_begin(pg) : BX_ENOMEM;
    if (err || !fd_events_lock(req, pg, id, &row) || !s_changeable(req, pg, &row, b) ||
        !s_new_place(req, pg, &row, b, &pl) ||
        !s_span(req, pg, starts ? starts : row.starts, ends, mins,
                ends || mins ? NULL : row.duration, &sp))
        goto out;
    const char *hall = bx_json_str(b, "hall_id") ? bx_json_str(b, "hall_id") : row.hall;
    if (!fd_events_slot_free(req, pg, hall, sp.starts, sp.ends, id))
        goto out;
    const char *p[] = {id, sp.starts, sp.ends, hall, pl.layout, status ? status : row.status, text};
    if (!(err = bx_pg_run(pg, "cat_event_update", 7, p)) &&
        !(err = fd_cat_outbox(req, pg, "event.updated", id, "updated")))
        err = bx_pg_commit(pg);
    if (!err) {
        fd_doc_cache_touch(req, FD_DOC_EVENT, id);
        fd_audit(req, "event.update", "event", id, NULL);
        fd_events_reply(req, pg, id, 200, NULL);
    }
out:
    if (err)
        fd_cat_fail(req, pg, err, NULL);
    free(text);
}

static void s_delete(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "eventId", "event");
    fd_event_row_t row;
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (!pg)
        return;
    bx_err_t err = bx_pg_begin(pg);
    if (err || !fd_events_lock(req, pg, id, &row))
        goto out;
    if (strcmp(row.status, "draft")) {
        fd_cat_fail(req, pg, BX_ECONFLICT,
                    "only a draft event can be deleted: cancel a published one "
                    "with POST /api/v1/events/{eventId}/cancel");
        return;
    }
    const char *p[] = {id};
    if (!(err = bx_pg_run(pg, "cat_event_delete", 1, p)) &&
        !(err = fd_cat_outbox(req, pg, "event.updated", id, "deleted")))
        err = bx_pg_commit(pg);
    if (!err) {
        fd_doc_cache_touch(req, FD_DOC_EVENT, id);
        fd_audit(req, "event.delete", "event", id, NULL);
        fd_reply_empty(req, 204);
    }
out:
    if (err)
        fd_cat_fail(req, pg, err, NULL);
}

const fd_route_t fd_events_routes[] = {
    {"GET", "/api/v1/events", fd_search_list, FD_OPT_AUTH, FD_RL_READ, NULL},
    {"POST", "/api/v1/events", s_create, FD_PARTNER, FD_RL_WRITE, s_create_schema},
    {"GET", "/api/v1/events/{eventId}", s_get, FD_OPT_AUTH, FD_RL_READ, NULL},
    {"PUT", "/api/v1/events/{eventId}", s_update, FD_PARTNER, FD_RL_WRITE, s_update_schema},
    {"DELETE", "/api/v1/events/{eventId}", s_delete, FD_PARTNER, FD_RL_WRITE, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};
