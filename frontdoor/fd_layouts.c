/* fd_layouts: halls of a venue and their versioned seating layouts. A layout is sections
 * (seated blocks of rows of seats with x/y positions and flags, or general-admission
 * areas with a capacity); saving one always creates the next version, and versions never
 * change (the database refuses UPDATE and DELETE), so an event keeps the seating it was
 * created with. Halls and layouts are public; changes need membership of the venue's
 * organization, and another organization's venue answers 404 with nothing written. */
#include "fd_layouts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_util.h"
#include "fd_catalog.h"
#include "fd_doc_cache.h"

#define S_MAX_SEATS 100000 /* seats in one layout version */

static const char *const s_hall_kinds[] = {"screen", "hall", "arena", NULL};
static const char *const s_section_kinds[] = {"seated", "ga", NULL};

static const bx_jfield_t s_hall_schema[] = {
    {.name = "name",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 100,
     .format = BX_FMT_NAME},
    {.name = "kind", .type = BX_JT_STRING, .required = 1, .one_of = s_hall_kinds},
    {0},
};

static const bx_jfield_t s_seat_schema[] = {
    {.name = "label",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 64,
     .format = BX_FMT_NAME},
    {.name = "number", .type = BX_JT_STRING, .min = 1, .max = 16, .format = BX_FMT_NAME},
    {.name = "x", .type = BX_JT_NUMBER, .required = 1},
    {.name = "y", .type = BX_JT_NUMBER, .required = 1},
    {.name = "wheelchair", .type = BX_JT_BOOL},
    {.name = "companion", .type = BX_JT_BOOL},
    {.name = "restricted_view", .type = BX_JT_BOOL},
    {0},
};

/* A row lists its seats, or generates count seats numbered from first (default 1),
 * labelled <section label_prefix><row label><number>, at x + i*dx, y. */
static const bx_jfield_t s_row_schema[] = {
    {.name = "label",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 16,
     .format = BX_FMT_NAME},
    {.name = "seats", .type = BX_JT_ARRAY, .min = 1, .max = 1000, .sub = s_seat_schema},
    {.name = "count", .type = BX_JT_INT, .min = 1, .max = 1000},
    {.name = "first", .type = BX_JT_INT, .min = 0, .max = 100000},
    {.name = "x", .type = BX_JT_NUMBER},
    {.name = "y", .type = BX_JT_NUMBER},
    {.name = "dx", .type = BX_JT_NUMBER},
    {0},
};

static const bx_jfield_t s_section_schema[] = {
    {.name = "code",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 32,
     .format = BX_FMT_NAME},
    {.name = "name",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 100,
     .format = BX_FMT_NAME},
    {.name = "kind", .type = BX_JT_STRING, .required = 1, .one_of = s_section_kinds},
    {.name = "capacity", .type = BX_JT_INT, .min = 1, .max = 1000000},
    {.name = "label_prefix", .type = BX_JT_STRING, .max = 16, .format = BX_FMT_NAME},
    {.name = "rows", .type = BX_JT_ARRAY, .min = 1, .max = 1000, .sub = s_row_schema},
    {0},
};

static const bx_jfield_t s_layout_schema[] = {
    {.name = "sections",
     .type = BX_JT_ARRAY,
     .required = 1,
     .min = 1,
     .max = 500,
     .sub = s_section_schema},
    {0},
};

/* ---- building a layout version from the request ---- */

/* What s_build collects before anything is written. */
typedef struct {
    json_t *sections; /* records for cat_sections_insert */
    json_t *seats;    /* records for cat_seats_insert */
    json_t *labels;   /* seat label -> true: duplicates are refused */
    json_t *codes;    /* section code -> true */
    long seat_count;  /* seats so far */
    long ga_capacity; /* sum of GA capacities */
    char ptr[128];    /* JSON Pointer of the first problem, "" when none */
    char why[160];    /* its detail */
} s_build_t;

static int s_bad(s_build_t *b, const char *why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first problem (detail why at the pointer fmt...) and returns 0. */
static int s_bad(s_build_t *b, const char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->ptr, sizeof b->ptr, fmt, ap);
    va_end(ap);
    bx_strlcpy(b->why, why, sizeof b->why);
    return 0;
}

/* Adds one seat record; refuses a label seen before and a layout over S_MAX_SEATS. */
static int s_add_seat(s_build_t *b, const char *section_id, const char *row, const char *number,
                      const char *label, double x, double y, json_t *flags, size_t at[3])
{
    char id[BX_UUID_LEN + 1];
    if (json_object_get(b->labels, label)) {
        snprintf(b->why, sizeof b->why, "duplicates seat label %.64s", label);
        snprintf(b->ptr, sizeof b->ptr, "/sections/%zu/rows/%zu/seats/%zu/label", at[0], at[1],
                 at[2]);
        return 0;
    }
    if (++b->seat_count > S_MAX_SEATS)
        return s_bad(b, "a layout has at most 100000 seats", "/sections/%zu/rows/%zu", at[0],
                     at[1]);
    bx_uuid_v7(id);
    json_object_set_new(b->labels, label, json_true());
    /* an array per seat, not an object: 100,000 of them are built and dumped quickly */
    return json_array_append_new(
               b->seats, json_pack("[s, s, s, s, s, f, f, b, b, b, I]", id, section_id, row, number,
                                   label, x, y, json_is_true(json_object_get(flags, "wheelchair")),
                                   json_is_true(json_object_get(flags, "companion")),
                                   json_is_true(json_object_get(flags, "restricted_view")),
                                   (json_int_t)b->seat_count)) == 0;
}

/* The seats of a row given one by one. */
static int s_listed_seats(s_build_t *b, const char *sid, json_t *row, size_t at[3])
{
    const char *rl = bx_json_str(row, "label");
    json_t *seat;
    json_array_foreach(json_object_get(row, "seats"), at[2], seat)
    {
        const char *label = bx_json_str(seat, "label"), *num = bx_json_str(seat, "number");
        if (!s_add_seat(b, sid, rl, num ? num : label, label,
                        json_number_value(json_object_get(seat, "x")),
                        json_number_value(json_object_get(seat, "y")), seat, at))
            return 0;
    }
    return 1;
}

/* The seats of a row generated from count, first, x, y and dx. */
static int s_generated_seats(s_build_t *b, const char *sid, const char *prefix, json_t *row,
                             size_t at[3])
{
    const char *rl = bx_json_str(row, "label");
    json_t *first = json_object_get(row, "first"), *dx = json_object_get(row, "dx");
    json_t *x = json_object_get(row, "x"), *y = json_object_get(row, "y");
    long n = (long)json_integer_value(json_object_get(row, "count"));
    long f = first ? (long)json_integer_value(first) : 1;
    char num[16], label[96];
    for (long i = 0; i < n; i++) {
        snprintf(num, sizeof num, "%ld", f + i);
        snprintf(label, sizeof label, "%s%s%s", prefix, rl, num);
        at[2] = (size_t)i;
        if (!s_add_seat(b, sid, rl, num, label,
                        (x ? json_number_value(x) : 0.0) +
                            (double)i * (dx ? json_number_value(dx) : 1.0),
                        y ? json_number_value(y) : (double)at[1], NULL, at))
            return 0;
    }
    return 1;
}

/* A seated section: its rows, each with listed or generated seats (not both). */
static int s_seated(s_build_t *b, const char *sid, json_t *sec, size_t i)
{
    const char *prefix = bx_json_str(sec, "label_prefix");
    json_t *rows = json_object_get(sec, "rows"), *row;
    size_t at[3] = {i, 0, 0};
    if (!rows || json_object_get(sec, "capacity"))
        return s_bad(b, "a seated section has rows and no capacity", "/sections/%zu", i);
    json_array_foreach(rows, at[1], row)
    {
        int listed = json_object_get(row, "seats") != NULL,
            gen = json_object_get(row, "count") != NULL;
        if (listed == gen)
            return s_bad(b, "a row has either seats or count", "/sections/%zu/rows/%zu", i, at[1]);
        if (listed ? !s_listed_seats(b, sid, row, at)
                   : !s_generated_seats(b, sid, prefix ? prefix : "", row, at))
            return 0;
    }
    return 1;
}

/* Checks every section and collects the records to insert. Returns 1 when all is well. */
static int s_build(s_build_t *b, json_t *body)
{
    json_t *sec;
    size_t i;
    json_array_foreach(json_object_get(body, "sections"), i, sec)
    {
        const char *code = bx_json_str(sec, "code"), *kind = bx_json_str(sec, "kind");
        json_t *cap = json_object_get(sec, "capacity");
        char sid[BX_UUID_LEN + 1];
        bx_uuid_v7(sid);
        if (json_object_get(b->codes, code))
            return s_bad(b, "duplicates a section code of this layout", "/sections/%zu/code", i);
        json_object_set_new(b->codes, code, json_true());
        if (!strcmp(kind, "ga") &&
            (!cap || json_object_get(sec, "rows") || json_object_get(sec, "label_prefix")))
            return s_bad(b, "a general-admission area has a capacity and no rows", "/sections/%zu",
                         i);
        if (!strcmp(kind, "seated") && !s_seated(b, sid, sec, i))
            return 0;
        b->ga_capacity += cap ? (long)json_integer_value(cap) : 0;
        json_array_append_new(b->sections,
                              json_pack("{s:s, s:s, s:s, s:s, s:O?, s:I}", "id", sid, "code", code,
                                        "name", bx_json_str(sec, "name"), "kind", kind, "capacity",
                                        cap, "position", (json_int_t)i));
    }
    if (b->ga_capacity > 10000000)
        return s_bad(b, "general-admission capacity is too large", "/sections");
    return 1;
}

static void s_build_free(s_build_t *b)
{
    json_decref(b->sections);
    json_decref(b->seats);
    json_decref(b->labels);
    json_decref(b->codes);
}

/* ---- access ---- */

/* Locks the hall of the venue for a write by the caller and reads its latest layout
 * version. Answers 404 (absent, or another organization's) and returns 0. */
static int s_hall_lock(fd_req_t *req, bx_pg_t *pg, const char *venue, const char *hall,
                       long *latest)
{
    bx_err_t err;
    int ok = 0;
    const char *p[] = {hall, venue};
    PGresult *res = bx_pg_query(pg, "cat_hall_lock", 2, p, &err);
    if (res && PQntuples(res) == 1) {
        *latest = strtol(bx_pg_val(res, 0, 2), NULL, 10);
        err = fd_cat_manages(req, pg, bx_pg_val(res, 0, 1), &ok);
    }
    PQclear(res);
    if (!ok)
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such hall");
    return ok;
}

/* The venue exists and the caller manages it (under a transaction's row lock). */
static int s_venue_managed(fd_req_t *req, bx_pg_t *pg, const char *venue)
{
    bx_err_t err;
    int ok = 0;
    const char *p[] = {venue};
    PGresult *res = bx_pg_query(pg, "cat_venue_lock", 1, p, &err);
    if (res && PQntuples(res) == 1)
        err = fd_cat_manages(req, pg, bx_pg_val(res, 0, 0), &ok);
    PQclear(res);
    if (!ok)
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such venue");
    return ok;
}

/* ---- documents ---- */

static void s_reply_hall(fd_req_t *req, bx_pg_t *pg, const char *venue, const char *hall,
                         int status)
{
    char self[160];
    bx_err_t err;
    const char *p[] = {hall, venue};
    PGresult *res = bx_pg_query(pg, "cat_hall_get", 2, p, &err);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such hall" : NULL);
        return;
    }
    snprintf(self, sizeof self, "/api/v1/venues/%s/halls/%s", venue, hall);
    json_t *r = fd_resource("hall", hall, fd_cat_json(bx_pg_val(res, 0, 3)), self);
    if (r)
        json_object_set_new(r, "relationships",
                            json_pack("{s:{s:{s:s+}}, s:{s:{s:s+}}}", "layout", "links", "related",
                                      self, "/layout", "venue", "links", "related",
                                      "/api/v1/venues/", venue));
    fd_cacheable(req, FD_CAT_CACHE_AGE, 1, strtoll(bx_pg_val(res, 0, 2), NULL, 10));
    PQclear(res);
    fd_reply_json(req, status, fd_document(r, NULL));
}

/* Answers layout version (NULL: the latest) of the hall, with every seat when full is
 * set, else section summaries (rows null). A 60,000-seat map is megabytes: the document is
 * built by PostgreSQL and sent as it is (JSON only). A numbered version never changes, so
 * a GET of one may be cached for a day. */
static void s_reply_layout(fd_req_t *req, bx_pg_t *pg, const char *venue, const char *hall,
                           const char *version, int full, int status)
{
    char loc[200];
    bx_err_t err;
    const char *p[] = {hall, venue, version, full ? "true" : "false"};
    PGresult *res = bx_pg_query(pg, "cat_layout_get", 4, p, &err);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err,
                    res ? "no such hall or layout version" : NULL);
        return;
    }
    if (status == 200)
        fd_cacheable(req, version ? 86400 : FD_CAT_CACHE_AGE, 1,
                     strtoll(bx_pg_val(res, 0, 1), NULL, 10));
    if (status == 201) {
        snprintf(loc, sizeof loc, "/api/v1/venues/%s/halls/%s/layout?version=%s", venue, hall,
                 bx_pg_val(res, 0, 2));
        fd_add_header(req, "Location", loc);
    }
    fd_reply_raw(req, status, "application/json", bx_pg_val(res, 0, 3),
                 (size_t)PQgetlength(res, 0, 3));
    PQclear(res);
}

/* ---- handlers ---- */

static void s_hall_create(fd_req_t *req)
{
    json_t *b = fd_body(req);
    const char *venue = fd_cat_id(req, "venueId", "venue");
    char id[BX_UUID_LEN + 1], loc[160];
    bx_pg_t *pg = venue ? fd_cat_db(req) : NULL;
    if (!pg)
        return;
    bx_uuid_v7(id);
    const char *p[] = {id, venue, bx_json_str(b, "name"), bx_json_str(b, "kind")};
    bx_err_t err = bx_pg_begin(pg);
    if (err || !s_venue_managed(req, pg, venue))
        goto out;
    if (!(err = bx_pg_run(pg, "cat_hall_insert", 4, p)) &&
        !(err = bx_pg_run(pg, "cat_venue_touch", 1, &p[1])) &&
        !(err = fd_cat_outbox(req, pg, "venue.updated", venue, "hall_created")))
        err = bx_pg_commit(pg);
    if (!err) {
        fd_doc_cache_touch(req, FD_DOC_VENUE, venue); /* the venue document lists its halls */
        fd_audit(req, "hall.create", "hall", id, json_pack("{s:s}", "venue_id", venue));
        snprintf(loc, sizeof loc, "/api/v1/venues/%s/halls/%s", venue, id);
        fd_add_header(req, "Location", loc);
        s_reply_hall(req, pg, venue, id, 201);
    }
out:
    if (err)
        fd_cat_fail(req, pg, err, NULL);
}

static void s_hall_list(fd_req_t *req)
{
    const char *venue = fd_cat_id(req, "venueId", "venue");
    bx_pg_t *pg = venue ? fd_cat_db(req) : NULL;
    bx_err_t err = BX_OK;
    int64_t modified = 0;
    char self[160];
    if (!pg)
        return;
    json_t *vdoc = fd_venues_doc(pg, venue, &modified, NULL, &err);
    json_decref(vdoc);
    const char *p[] = {venue};
    PGresult *res = vdoc ? bx_pg_query(pg, "cat_hall_list", 1, p, &err) : NULL;
    if (!res) {
        fd_cat_fail(req, pg, err, err == BX_ENOTFOUND ? "no such venue" : NULL);
        return;
    }
    json_t *data = json_array();
    for (int i = 0; data && i < PQntuples(res); i++) {
        snprintf(self, sizeof self, "/api/v1/venues/%s/halls/%s", venue, bx_pg_val(res, i, 0));
        json_array_append_new(data, fd_resource("hall", bx_pg_val(res, i, 0),
                                                fd_cat_json(bx_pg_val(res, i, 1)), self));
    }
    PQclear(res);
    snprintf(self, sizeof self, "/api/v1/venues/%s/halls", venue);
    fd_cacheable(req, FD_CAT_CACHE_AGE, 1, modified);
    fd_reply_json(req, 200, fd_document(data, json_pack("{s:s}", "self", self)));
}

static void s_hall_get(fd_req_t *req)
{
    const char *venue = fd_cat_id(req, "venueId", "venue");
    const char *hall = venue ? fd_cat_id(req, "hallId", "hall") : NULL;
    bx_pg_t *pg = hall ? fd_cat_db(req) : NULL;
    if (pg)
        s_reply_hall(req, pg, venue, hall, 200);
}

static void s_layout_get(fd_req_t *req)
{
    const char *venue = fd_cat_id(req, "venueId", "venue");
    const char *hall = venue ? fd_cat_id(req, "hallId", "hall") : NULL;
    const char *version = fd_query(req, "version");
    long v;
    if (!hall)
        return;
    if (version && bx_parse_long(version, 1, 1000000, &v) != BX_OK) {
        fd_reply_problem(req, BX_EINVAL, "version must be a layout version number");
        return;
    }
    bx_pg_t *pg = fd_cat_db(req);
    if (pg)
        s_reply_layout(req, pg, venue, hall, version, 1, 200);
}

/* Writes the layout version built in b for hall inside the caller's transaction. */
static bx_err_t s_write_layout(fd_req_t *req, bx_pg_t *pg, const char *venue, const char *hall,
                               long version, s_build_t *b)
{
    char id[BX_UUID_LEN + 1], ver[24], seats[24], ga[24];
    char *sections = bx_json_dump(b->sections), *seat_rows = bx_json_dump(b->seats);
    bx_err_t err = sections && seat_rows ? BX_OK : BX_ENOMEM;
    bx_uuid_v7(id);
    snprintf(ver, sizeof ver, "%ld", version);
    snprintf(seats, sizeof seats, "%ld", b->seat_count);
    snprintf(ga, sizeof ga, "%ld", b->ga_capacity);
    const char *pl[] = {id, hall, ver, seats, ga, fd_who(req)->user_id};
    const char *ps[] = {id, sections}, *pst[] = {id, seat_rows}, *pv[] = {venue};
    if (!err)
        err = bx_pg_run(pg, "cat_layout_insert", 6, pl);
    if (!err)
        err = bx_pg_run(pg, "cat_sections_insert", 2, ps);
    if (!err && b->seat_count > 0)
        err = bx_pg_run(pg, "cat_seats_insert", 2, pst);
    if (!err)
        err = bx_pg_run(pg, "cat_venue_touch", 1, pv);
    if (!err)
        err = fd_cat_outbox(req, pg, "venue.updated", venue, "layout_created");
    free(sections);
    free(seat_rows);
    return err;
}

static void s_layout_put(fd_req_t *req)
{
    const char *venue = fd_cat_id(req, "venueId", "venue");
    const char *hall = venue ? fd_cat_id(req, "hallId", "hall") : NULL;
    s_build_t b = {json_array(), json_array(), json_object(), json_object(), 0, 0, "", ""};
    char ver[24];
    long latest = 0;
    bx_pg_t *pg = hall ? fd_cat_db(req) : NULL;
    bx_err_t err = BX_OK;
    if (!pg)
        goto out;
    if (!b.sections || !b.seats || !b.labels || !b.codes) {
        fd_reply_problem(req, BX_ENOMEM, NULL);
        goto out;
    }
    if (!s_build(&b, fd_body(req))) {
        fd_cat_invalid(req, b.ptr, b.why);
        goto out;
    }
    if ((err = bx_pg_begin(pg)) || !s_hall_lock(req, pg, venue, hall, &latest))
        goto out;
    if (!(err = s_write_layout(req, pg, venue, hall, latest + 1, &b)))
        err = bx_pg_commit(pg);
    if (!err) {
        fd_doc_cache_touch(req, FD_DOC_VENUE, venue); /* its halls show the latest version */
        snprintf(ver, sizeof ver, "%ld", latest + 1);
        fd_audit(req, "layout.create", "hall", hall,
                 json_pack("{s:I, s:I}", "version", (json_int_t)(latest + 1), "seats",
                           (json_int_t)b.seat_count));
        s_reply_layout(req, pg, venue, hall, ver, 0, 201);
    }
out:
    if (err)
        fd_cat_fail(req, pg, err, NULL);
    s_build_free(&b);
}

const fd_route_t fd_layouts_routes[] = {
    {"GET", "/api/v1/venues/{venueId}/halls", s_hall_list, 0, FD_RL_READ, NULL},
    {"POST", "/api/v1/venues/{venueId}/halls", s_hall_create, FD_PARTNER, FD_RL_WRITE,
     s_hall_schema},
    {"GET", "/api/v1/venues/{venueId}/halls/{hallId}", s_hall_get, 0, FD_RL_READ, NULL},
    {"GET", "/api/v1/venues/{venueId}/halls/{hallId}/layout", s_layout_get, 0, FD_RL_READ, NULL},
    {"PUT", "/api/v1/venues/{venueId}/halls/{hallId}/layout", s_layout_put, FD_PARTNER, FD_RL_WRITE,
     s_layout_schema},
    {NULL, NULL, NULL, 0, 0, NULL},
};
