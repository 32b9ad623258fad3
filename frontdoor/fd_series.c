/* fd_series: recurring events. A series is a rule (daily, or weekly on ISO weekdays; local
 * times of day in the venue's zone; a start and an until date; exception dates) plus the
 * attributes and tier templates every showtime copies. Creating it materializes every
 * future showtime as its own draft event (or published, with inventory, when publish is
 * set) in one transaction; a showtime that would overlap another event in the hall
 * refuses the whole series (409). Editing it changes the future showtimes that have no
 * sales or holds, cancels (or deletes, for drafts) those the new rule no longer makes,
 * creates the new ones, and answers which showtimes it could not change. Only members
 * of the owning organization and admins see or change a series (404 for others). */
#include "fd_series.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_catalog.h"
#include "fd_doc_cache.h"
#include "fd_events.h"
#include "fd_publish.h"
#include "fd_tiers.h"

#define S_MAX_SHOWTIMES 1000 /* showtimes one series may make */

static const char *const s_freqs[] = {"daily", "weekly", NULL};

static const bx_jfield_t s_recurrence_schema[] = {
    {.name = "freq", .type = BX_JT_STRING, .required = 1, .one_of = s_freqs},
    {.name = "weekdays", .type = BX_JT_ARRAY, .min = 1, .max = 7},
    {.name = "times", .type = BX_JT_ARRAY, .required = 1, .min = 1, .max = 48},
    {.name = "start_date", .type = BX_JT_STRING, .required = 1, .min = 10, .max = 10},
    {.name = "until_date", .type = BX_JT_STRING, .required = 1, .min = 10, .max = 10},
    {.name = "exceptions", .type = BX_JT_ARRAY, .max = 1000},
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
    {.name = "currency", .type = BX_JT_STRING, .required = 1, .format = BX_FMT_CURRENCY},
    {.name = "duration_minutes", .type = BX_JT_INT, .required = 1, .min = 1, .max = 4320},
    {.name = "recurrence", .type = BX_JT_OBJECT, .required = 1, .sub = s_recurrence_schema},
    {.name = "tiers", .type = BX_JT_ARRAY, .max = 50, .sub = fd_tiers_create_schema},
    {.name = "publish", .type = BX_JT_BOOL},
    {0},
};

/* PUT merges; recurrence, when given, replaces the whole rule. */
static const bx_jfield_t s_update_schema[] = {
    {.name = "name", .type = BX_JT_STRING, .min = 1, .max = 255, .format = BX_FMT_NAME},
    {.name = "description", .type = BX_JT_STRING, .max = 10000, .nullable = 1},
    {.name = "event_type", .type = BX_JT_STRING, .one_of = fd_events_types},
    {.name = "performers", .type = BX_JT_ARRAY, .max = 100, .sub = fd_events_performer_schema},
    {.name = "duration_minutes", .type = BX_JT_INT, .min = 1, .max = 4320},
    {.name = "recurrence", .type = BX_JT_OBJECT, .sub = s_recurrence_schema},
    {0},
};

/* The series being materialized: what each new showtime copies. */
typedef struct {
    char id[BX_UUID_LEN + 1];     /* series id */
    char org[BX_UUID_LEN + 1];    /* owning organization */
    char venue[BX_UUID_LEN + 1];  /* venue */
    char hall[BX_UUID_LEN + 1];   /* hall */
    char layout[BX_UUID_LEN + 1]; /* layout version new showtimes use (the hall's latest) */
    char currency[4];             /* prices' currency */
    char *attrs;                  /* series attributes as JSON text, read by cat_event_insert */
    json_t *tiers;                /* tier templates (owned) */
    int publish;                  /* publish each new showtime */
    json_t *kept;                 /* event id -> true: showtimes left unchanged (owned) */
    char ptr[FD_TIERS_PTR + 32];  /* JSON Pointer of a refused tier template */
    char why[FD_TIERS_WHY + 64];  /* reason of a refusal */
} s_series_t;

static void s_series_free(s_series_t *x)
{
    free(x->attrs);
    json_decref(x->tiers);
    json_decref(x->kept);
}

/* ---- the rule ---- */

/* "HH:MM" with HH 00..23 and MM 00..59. */
static int s_time_ok(const char *s)
{
    return s && strlen(s) == 5 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
           s[2] == ':' && isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4]) &&
           (s[0] - '0') * 10 + (s[1] - '0') < 24 && s[3] < '6';
}

static int s_rule_bad(fd_req_t *req, const char *member, size_t i, const char *why)
{
    char ptr[64];
    if (i == (size_t)-1)
        snprintf(ptr, sizeof ptr, "/recurrence/%s", member);
    else
        snprintf(ptr, sizeof ptr, "/recurrence/%s/%zu", member, i);
    fd_cat_invalid(req, ptr, why);
    return 0;
}

/* Checks the items the schema cannot: weekdays, times and dates. */
static int s_rule_ok(fd_req_t *req, json_t *r)
{
    json_t *v;
    size_t i;
    const char *start = bx_json_str(r, "start_date"), *until = bx_json_str(r, "until_date");
    json_array_foreach(
        json_object_get(r, "weekdays"), i,
        v) if (!json_is_integer(v) || json_integer_value(v) < 1 ||
               json_integer_value(v) >
                   7) return s_rule_bad(req, "weekdays", i,
                                        "must be an ISO weekday from 1 (Monday) to 7 (Sunday)");
    json_array_foreach(json_object_get(r, "times"), i, v) if (
        !s_time_ok(json_string_value(v))) return s_rule_bad(req, "times", i,
                                                            "must be a local time of day HH:MM");
    json_array_foreach(json_object_get(r, "exceptions"), i, v) if (
        !fd_cat_date_ok(json_string_value(v))) return s_rule_bad(req, "exceptions", i,
                                                                 "must be a date YYYY-MM-DD");
    if (!fd_cat_date_ok(start))
        return s_rule_bad(req, "start_date", (size_t)-1, "must be a date YYYY-MM-DD");
    if (!fd_cat_date_ok(until) || strcmp(until, start) < 0)
        return s_rule_bad(req, "until_date", (size_t)-1,
                          "must be a date YYYY-MM-DD on or after start_date");
    if (!strcmp(bx_json_str(r, "freq"), "weekly") && !json_object_get(r, "weekdays"))
        return s_rule_bad(req, "weekdays", (size_t)-1, "a weekly series names its weekdays");
    return 1;
}

/* Checks the tier templates as fd_tiers does for one tier. */
static int s_templates_ok(fd_req_t *req, json_t *tiers)
{
    char ptr[FD_TIERS_PTR], why[FD_TIERS_WHY], full[FD_TIERS_PTR + 32];
    json_t *t;
    size_t i;
    json_array_foreach(tiers, i, t)
    {
        if (fd_tiers_check(t, bx_json_str(t, "kind"), ptr, why) != BX_OK) {
            snprintf(full, sizeof full, "/tiers/%zu%s", i, ptr);
            fd_cat_invalid(req, full, why);
            return 0;
        }
    }
    return 1;
}

/* ---- reading ---- */

/* Loads what new showtimes of series x->id copy (after the series row was written). */
static bx_err_t s_load(bx_pg_t *pg, s_series_t *x)
{
    bx_err_t err;
    const char *p[] = {x->id};
    PGresult *a = bx_pg_query(pg, "cat_series_lock", 1, p, &err);
    PGresult *g = a ? bx_pg_query(pg, "cat_series_get", 1, p, &err) : NULL;
    if (g && PQntuples(a) == 1 && PQntuples(g) == 1) {
        bx_strlcpy(x->org, bx_pg_val(a, 0, 0), sizeof x->org);
        bx_strlcpy(x->venue, bx_pg_val(a, 0, 1), sizeof x->venue);
        bx_strlcpy(x->hall, bx_pg_val(a, 0, 2), sizeof x->hall);
        bx_strlcpy(x->currency, bx_pg_val(a, 0, 3), sizeof x->currency);
        x->tiers = fd_cat_json(bx_pg_val(a, 0, 4));
        x->publish = !strcmp(bx_pg_val(a, 0, 5), "t");
        bx_strlcpy(x->layout, bx_pg_val(a, 0, 6) ? bx_pg_val(a, 0, 6) : "", sizeof x->layout);
        x->attrs = strdup(bx_pg_val(g, 0, 3));
        x->kept = json_object();
        err = x->tiers && x->attrs && x->kept ? BX_OK : BX_ENOMEM;
    } else if (g) {
        err = BX_ENOTFOUND;
    }
    PQclear(a);
    PQclear(g);
    return err;
}

/* Answers the series document with status and meta (stolen, may be NULL). */
static void s_reply(fd_req_t *req, bx_pg_t *pg, const char *id, int status, json_t *meta)
{
    char self[96];
    bx_err_t err;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, "cat_series_get", 1, p, &err);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        json_decref(meta);
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such series" : NULL);
        return;
    }
    snprintf(self, sizeof self, "/api/v1/series/%s", id);
    json_t *doc =
        fd_document(fd_resource("series", id, fd_cat_json(bx_pg_val(res, 0, 3)), self), NULL);
    if (doc && meta)
        json_object_set(doc, "meta", meta);
    json_decref(meta);
    fd_cacheable(req, FD_CAT_CACHE_AGE, 0, strtoll(bx_pg_val(res, 0, 2), NULL, 10));
    PQclear(res);
    if (status == 201)
        fd_add_header(req, "Location", self);
    fd_reply_json(req, status, doc);
}

/* The caller manages the series (query: cat_series_owner to read, cat_series_lock to lock
 * it for a change). Answers 404 and returns 0 otherwise. */
static int s_managed(fd_req_t *req, bx_pg_t *pg, const char *id, const char *query)
{
    bx_err_t err;
    int ok = 0;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, query, 1, p, &err);
    if (res && PQntuples(res) == 1)
        err = fd_cat_manages(req, pg, bx_pg_val(res, 0, 0), &ok);
    PQclear(res);
    if (!ok)
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such series");
    return ok;
}

static void s_get(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "seriesId", "series");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (pg && s_managed(req, pg, id, "cat_series_owner"))
        s_reply(req, pg, id, 200, NULL);
}

/* ---- materializing ---- */

/* Answers a refusal met while making showtimes. */
static void s_refused(fd_req_t *req, bx_pg_t *pg, s_series_t *x, bx_err_t err)
{
    if (err == BX_EINVAL && x->why[0]) {
        bx_pg_rollback(pg);
        fd_cat_invalid(req, x->ptr, x->why);
    } else {
        fd_cat_fail(req, pg, err, x->why[0] ? x->why : NULL);
    }
}

/* Inserts one showtime with the series' tiers, publishing it when the series says so. */
static bx_err_t s_showtime(fd_req_t *req, bx_pg_t *pg, s_series_t *x, const char *starts,
                           const char *ends, char id[BX_UUID_LEN + 1])
{
    fd_event_row_t ev = {.status = "draft"};
    char tid[BX_UUID_LEN + 1], ptr[FD_TIERS_PTR] = "";
    long seats = 0, ga = 0;
    json_t *t;
    size_t i;
    bx_uuid_v7(id);
    bx_strlcpy(ev.layout, x->layout, sizeof ev.layout);
    bx_strlcpy(ev.currency, x->currency, sizeof ev.currency);
    const char *p[] = {id, x->org, x->venue, x->hall, x->layout, x->id, starts, ends, x->attrs};
    bx_err_t err = bx_pg_run(pg, "cat_event_insert", 9, p);
    json_array_foreach(x->tiers, i, t)
    {
        if (err || (err = fd_tiers_insert(pg, &ev, id, t, tid, ptr, x->why)) == BX_OK)
            continue;
        snprintf(x->ptr, sizeof x->ptr, "/tiers/%zu%s", i, ptr);
        break;
    }
    if (!err && x->publish)
        err = fd_publish_materialize(pg, id, &seats, &ga, x->why, sizeof x->why);
    if (!err)
        err = fd_cat_outbox(req, pg, x->publish ? "event.published" : "event.updated", id,
                            x->publish ? "published" : "created");
    return err;
}

/* Creates the showtime starts..ends unless its slot is taken. A slot taken by a showtime
 * this edit keeps is skipped and reported; any other overlap refuses the whole request
 * (409). Returns 0 after answering. */
static int s_add(fd_req_t *req, bx_pg_t *pg, s_series_t *x, const char *starts, const char *ends,
                 json_t *created, json_t *skipped)
{
    char other[BX_UUID_LEN + 1], detail[200], id[BX_UUID_LEN + 1];
    int found = 0;
    bx_err_t err = fd_events_conflict(pg, x->hall, starts, ends, NULL, &found, other, NULL);
    if (!err && found && json_object_get(x->kept, other)) {
        json_array_append_new(skipped, json_pack("{s:s, s:s, s:s}", "starts_at", starts, "reason",
                                                 "overlaps a showtime that has sales or holds",
                                                 "event_id", other));
        return 1;
    }
    if (!err && found) {
        bx_pg_rollback(pg);
        snprintf(detail, sizeof detail, "the showtime at %s overlaps event %s in the hall", starts,
                 other);
        fd_reply_problem_ext(
            req, BX_ECONFLICT, detail,
            json_pack("{s:s, s:s}", "conflicting_event_id", other, "starts_at", starts));
        return 0;
    }
    if (!err && !(err = s_showtime(req, pg, x, starts, ends, id)))
        json_array_append_new(created, json_string(id));
    if (err)
        s_refused(req, pg, x, err);
    return !err;
}

/* The future occurrences of the rule as starts -> ends (UTC text). NULL after answering. */
static json_t *s_occurrences(fd_req_t *req, bx_pg_t *pg, s_series_t *x)
{
    bx_err_t err;
    const char *p[] = {x->id};
    PGresult *res = bx_pg_query(pg, "cat_series_occurrences", 1, p, &err);
    int n = res ? PQntuples(res) : 0;
    json_t *occ = res && n <= S_MAX_SHOWTIMES ? json_object() : NULL;
    for (int i = 0; occ && i < n; i++)
        json_object_set_new(occ, bx_pg_val(res, i, 0), json_string(bx_pg_val(res, i, 1)));
    PQclear(res);
    if (!res)
        fd_cat_fail(req, pg, err, NULL);
    else if (n > S_MAX_SHOWTIMES)
        fd_cat_fail(req, pg, BX_EUNPROCESSABLE,
                    "a series makes at most 1000 showtimes: shorten it");
    else if (!occ)
        fd_cat_fail(req, pg, BX_ENOMEM, NULL);
    return occ;
}

/* Creates every occurrence of occ not in existing (starts -> event id; may be NULL). */
static int s_materialize(fd_req_t *req, bx_pg_t *pg, s_series_t *x, json_t *occ, json_t *existing,
                         json_t *created, json_t *skipped)
{
    const char *starts;
    json_t *ends;
    void *tmp;
    if (!x->layout[0]) {
        fd_cat_fail(req, pg, BX_EUNPROCESSABLE, "the hall has no seating layout: save one first");
        return 0;
    }
    json_object_foreach_safe(occ, tmp, starts, ends)
    {
        if (existing && json_object_get(existing, starts))
            continue;
        if (!s_add(req, pg, x, starts, json_string_value(ends), created, skipped))
            return 0;
    }
    return 1;
}

static void s_create(fd_req_t *req)
{
    json_t *b = fd_body(req), *occ = NULL, *created = json_array(), *skipped = json_array();
    const char *venue = bx_json_str(b, "venue_id"), *hall = bx_json_str(b, "hall_id");
    s_series_t x = {.ptr = ""};
    fd_event_place_t pl;
    char *text = NULL;
    bx_err_t err = BX_OK;
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg || !s_rule_ok(req, json_object_get(b, "recurrence")) ||
        !s_templates_ok(req, json_object_get(b, "tiers")) ||
        !fd_cat_currency_ok(req, pg, bx_json_str(b, "currency")))
        goto out;
    text = bx_json_dump(b);
    if ((err = text ? bx_pg_begin(pg) : BX_ENOMEM) ||
        !fd_events_place(req, pg, venue, hall, NULL, &pl))
        goto out;
    bx_uuid_v7(x.id);
    const char *p[] = {x.id, pl.org, venue, hall, text};
    if ((err = bx_pg_run(pg, "cat_series_insert", 5, p)) || (err = s_load(pg, &x)) ||
        !(occ = s_occurrences(req, pg, &x)))
        goto out;
    if (json_object_size(occ) == 0) {
        fd_cat_fail(req, pg, BX_EUNPROCESSABLE, "the rule makes no showtime in the future");
        goto out;
    }
    if (!s_materialize(req, pg, &x, occ, NULL, created, skipped) || (err = bx_pg_commit(pg)))
        goto out;
    fd_audit(req, "series.create", "series", x.id,
             json_pack("{s:I}", "showtimes", (json_int_t)json_array_size(created)));
    s_reply(req, pg, x.id, 201, json_pack("{s:O}", "created", created));
out:
    if (err)
        fd_cat_fail(req, pg, err, NULL);
    free(text);
    json_decref(occ);
    json_decref(created);
    json_decref(skipped);
    s_series_free(&x);
}

/* What an edit did, reported in meta. */
typedef struct {
    json_t *updated;   /* event ids changed in place */
    json_t *removed;   /* event ids cancelled or deleted: the rule no longer makes them */
    json_t *unchanged; /* [{event_id, starts_at, reason}]: showtimes it could not change */
    json_t *created;   /* event ids of new showtimes */
    json_t *skipped;   /* [{starts_at, reason, event_id}]: new showtimes it could not place */
    json_t *existing;  /* starts_at -> event id of every future showtime before the edit */
} s_edit_t;

/* Cancels (or deletes, for a draft) a showtime the rule no longer makes. */
static bx_err_t s_remove(fd_req_t *req, bx_pg_t *pg, const char *id, const char *status)
{
    const char *p[] = {id};
    int draft = !strcmp(status, "draft");
    bx_err_t err = bx_pg_run(pg, draft ? "cat_event_delete" : "cat_event_cancel", 1, p);
    if (!err && !draft)
        err = bx_pg_run(pg, "cat_event_block_seats", 1, p);
    return err ? err : fd_cat_outbox(req, pg, "event.updated", id, draft ? "deleted" : "cancelled");
}

/* Applies the series' attributes and duration to a showtime without sales, unless its new
 * end would overlap a showtime this edit keeps (then it is kept too and reported).
 * Returns 0 after answering (an overlap with anything else: 409). */
static int s_retime(fd_req_t *req, bx_pg_t *pg, s_series_t *x, const char *id, const char *starts,
                    s_edit_t *e)
{
    char other[BX_UUID_LEN + 1], ends[32] = "";
    int found = 0;
    bx_err_t err;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, "cat_series_event_ends", 1, p, &err);
    if (res)
        bx_strlcpy(ends, bx_pg_val(res, 0, 0), sizeof ends);
    PQclear(res);
    if (!err)
        err = fd_events_conflict(pg, x->hall, starts, ends, id, &found, other, NULL);
    if (!err && found && json_object_get(x->kept, other)) {
        json_object_set_new(x->kept, id, json_true());
        json_array_append_new(
            e->unchanged,
            json_pack("{s:s, s:s, s:s}", "event_id", id, "starts_at", starts, "reason",
                      "its new end would overlap a showtime that has sales or holds"));
        return 1;
    }
    if (!err && found)
        return fd_events_slot_free(req, pg, x->hall, starts, ends, id); /* answers 409 */
    if (!err) {
        res = bx_pg_query(pg, "cat_series_event_update", 1, p, &err);
        PQclear(res);
    }
    if (!err)
        err = fd_cat_outbox(req, pg, "event.updated", id, "updated");
    if (!err)
        json_array_append_new(e->updated, json_string(id));
    else
        fd_cat_fail(req, pg, err, NULL);
    return !err;
}

/* 1 if the edit changes what every showtime copies (not only the rule). */
static int s_attrs_change(json_t *b)
{
    static const char *const keys[] = {"name",       "description",      "event_type",
                                       "performers", "duration_minutes", NULL};
    for (const char *const *k = keys; *k; k++)
        if (json_object_get(b, *k))
            return 1;
    return 0;
}

/* Walks the future showtimes (latest first, so a longer duration meets the later
 * showtimes already settled): keeps those with sales that would change, removes those
 * the rule no longer makes, updates the others. Returns 0 after answering. */
static int s_revise(fd_req_t *req, bx_pg_t *pg, s_series_t *x, json_t *b, json_t *occ, s_edit_t *e)
{
    bx_err_t err;
    int attrs = s_attrs_change(b), ok = 1;
    const char *p[] = {x->id};
    PGresult *res = bx_pg_query(pg, "cat_series_future", 1, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
        return 0;
    }
    for (int i = 0; ok && i < PQntuples(res); i++) {
        const char *id = bx_pg_val(res, i, 0), *starts = bx_pg_val(res, i, 1),
                   *status = bx_pg_val(res, i, 2);
        int wanted = json_object_get(occ, starts) != NULL;
        json_object_set_new(e->existing, starts, json_string(id));
        if (!strcmp(status, "cancelled") || !strcmp(status, "completed") || (wanted && !attrs))
            continue;
        if (strcmp(bx_pg_val(res, i, 3), "0")) {
            json_object_set_new(x->kept, id, json_true());
            json_array_append_new(e->unchanged,
                                  json_pack("{s:s, s:s, s:s}", "event_id", id, "starts_at", starts,
                                            "reason", "has sales or holds"));
        } else if (!wanted) {
            if ((err = s_remove(req, pg, id, status)) != BX_OK)
                fd_cat_fail(req, pg, err, NULL);
            ok = !err && !json_array_append_new(e->removed, json_string(id));
        } else {
            ok = s_retime(req, pg, x, id, starts, e);
        }
    }
    PQclear(res);
    return ok;
}

static json_t *s_edit_meta(s_edit_t *e)
{
    return json_pack("{s:O, s:O, s:O, s:O, s:O}", "created", e->created, "updated", e->updated,
                     "removed", e->removed, "unchanged", e->unchanged, "skipped", e->skipped);
}

/* Drops the cached documents of the showtimes an edit updated or removed (after commit). */
static void s_touch(fd_req_t *req, const s_edit_t *e)
{
    size_t n = json_array_size(e->updated) + json_array_size(e->removed), k = 0, i;
    const char **ids = n ? calloc(n, sizeof *ids) : NULL;
    json_t *v;
    if (!ids)
        return;
    json_array_foreach(e->updated, i, v) ids[k++] = json_string_value(v);
    json_array_foreach(e->removed, i, v) ids[k++] = json_string_value(v);
    fd_doc_cache_touch_ids(req, FD_DOC_EVENT, ids, (int)k);
    free(ids);
}

static void s_update(fd_req_t *req)
{
    json_t *b = fd_body(req), *occ = NULL, *rule = json_object_get(b, "recurrence");
    const char *id = fd_cat_id(req, "seriesId", "series");
    s_series_t x = {.ptr = ""};
    s_edit_t e = {json_array(), json_array(), json_array(),
                  json_array(), json_array(), json_object()};
    char *text = NULL;
    bx_err_t err = BX_OK;
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (!pg || (rule && !s_rule_ok(req, rule)))
        goto out;
    bx_strlcpy(x.id, id, sizeof x.id);
    text = bx_json_dump(b);
    const char *p[] = {id, text};
    if ((err = text ? bx_pg_begin(pg) : BX_ENOMEM) || !s_managed(req, pg, id, "cat_series_lock"))
        goto out;
    if ((err = bx_pg_run(pg, "cat_series_update", 2, p)) || (err = s_load(pg, &x)) ||
        !(occ = s_occurrences(req, pg, &x)) || !s_revise(req, pg, &x, b, occ, &e) ||
        !s_materialize(req, pg, &x, occ, e.existing, e.created, e.skipped) ||
        (err = bx_pg_commit(pg)))
        goto out;
    s_touch(req, &e);
    fd_audit(req, "series.update", "series", id, s_edit_meta(&e));
    s_reply(req, pg, id, 200, s_edit_meta(&e));
out:
    if (err)
        fd_cat_fail(req, pg, err, NULL);
    free(text);
    json_decref(occ);
    json_decref(e.updated);
    json_decref(e.removed);
    json_decref(e.unchanged);
    json_decref(e.created);
    json_decref(e.skipped);
    json_decref(e.existing);
    s_series_free(&x);
}

const fd_route_t fd_series_routes[] = {
    {"POST", "/api/v1/series", s_create, FD_PARTNER, FD_RL_WRITE, s_create_schema},
    {"GET", "/api/v1/series/{seriesId}", s_get, FD_PARTNER, FD_RL_READ, NULL},
    {"PUT", "/api/v1/series/{seriesId}", s_update, FD_PARTNER, FD_RL_WRITE, s_update_schema},
    {NULL, NULL, NULL, 0, 0, NULL},
};
