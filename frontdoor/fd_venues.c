/* fd_venues: venues of partner organizations: create, read, list with cursor pagination,
 * update and soft delete. Anyone may read a venue; only members of the owning
 * organization (checked in organization_members) and admins may change it, and to
 * everyone else another organization's venue does not exist (404, nothing written).
 * Every change writes a venue.updated outbox row for the index worker in its transaction. */
#include "fd_venues.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_util.h"
#include "fd_catalog.h"
#include "fd_doc_cache.h"
#include "fd_media.h"

static const bx_jfield_t s_create_schema[] = {
    {.name = "organization_id", .type = BX_JT_STRING, .format = BX_FMT_UUID},
    {.name = "name",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 200,
     .format = BX_FMT_NAME},
    {.name = "description", .type = BX_JT_STRING, .max = 5000, .nullable = 1},
    {.name = "address",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 500,
     .format = BX_FMT_NAME},
    {.name = "city",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 100,
     .format = BX_FMT_NAME},
    {.name = "postal_code",
     .type = BX_JT_STRING,
     .min = 1,
     .max = 20,
     .format = BX_FMT_NAME,
     .nullable = 1},
    {.name = "country", .type = BX_JT_STRING, .required = 1, .min = 2, .max = 2},
    {.name = "region", .type = BX_JT_STRING, .min = 1, .max = 8}, /* tax place: NY, MH */
    {.name = "latitude", .type = BX_JT_NUMBER, .required = 1},
    {.name = "longitude", .type = BX_JT_NUMBER, .required = 1},
    {.name = "time_zone", .type = BX_JT_STRING, .required = 1, .min = 1, .max = 64},
    {.name = "capacity", .type = BX_JT_INT, .required = 1, .min = 1, .max = 1000000},
    {0},
};

/* PUT merges: absent members keep their value; null clears description or postal_code. */
static const bx_jfield_t s_update_schema[] = {
    {.name = "name", .type = BX_JT_STRING, .min = 1, .max = 200, .format = BX_FMT_NAME},
    {.name = "description", .type = BX_JT_STRING, .max = 5000, .nullable = 1},
    {.name = "address", .type = BX_JT_STRING, .min = 1, .max = 500, .format = BX_FMT_NAME},
    {.name = "city", .type = BX_JT_STRING, .min = 1, .max = 100, .format = BX_FMT_NAME},
    {.name = "postal_code",
     .type = BX_JT_STRING,
     .min = 1,
     .max = 20,
     .format = BX_FMT_NAME,
     .nullable = 1},
    {.name = "country", .type = BX_JT_STRING, .min = 2, .max = 2},
    {.name = "region", .type = BX_JT_STRING, .min = 1, .max = 8, .nullable = 1},
    {.name = "latitude", .type = BX_JT_NUMBER},
    {.name = "longitude", .type = BX_JT_NUMBER},
    {.name = "time_zone", .type = BX_JT_STRING, .min = 1, .max = 64},
    {.name = "capacity", .type = BX_JT_INT, .min = 1, .max = 1000000},
    {0},
};

/* Query arguments a venue list page carries into links.next. */
static const char *const s_list_keys[] = {"city", "country", "organization_id", "limit", NULL};

/* ---- validation ---- */

/* Coordinates inside the globe. Answers 400 and returns 0 otherwise. */
static int s_coords_ok(fd_req_t *req, json_t *b)
{
    json_t *lat = json_object_get(b, "latitude"), *lon = json_object_get(b, "longitude");
    if (lat && (json_number_value(lat) < -90.0 || json_number_value(lat) > 90.0)) {
        fd_cat_invalid(req, "/latitude", "must be between -90 and 90 degrees");
        return 0;
    }
    if (lon && (json_number_value(lon) < -180.0 || json_number_value(lon) > 180.0)) {
        fd_cat_invalid(req, "/longitude", "must be between -180 and 180 degrees");
        return 0;
    }
    for (const char *r = bx_json_str(b, "region"); r && *r; r++)
        if (!((*r >= 'A' && *r <= 'Z') || (*r >= '0' && *r <= '9'))) {
            fd_cat_invalid(req, "/region", "an ISO 3166-2 subdivision code such as NY or MH");
            return 0;
        }
    return 1;
}

/* Country is an ISO 3166-1 alpha-2 code and the time zone an IANA name PostgreSQL
 * knows. Absent members pass. Answers the problem and returns 0 otherwise. */
static int s_place_ok(fd_req_t *req, bx_pg_t *pg, json_t *b)
{
    bx_err_t err;
    const char *country = bx_json_str(b, "country"), *tz = bx_json_str(b, "time_zone");
    const char *p[] = {country, tz};
    PGresult *res = bx_pg_query(pg, "cat_place_known", 2, p, &err);
    int c_ok = res && !strcmp(bx_pg_val(res, 0, 0), "t");
    int tz_ok = res && !strcmp(bx_pg_val(res, 0, 1), "t");
    PQclear(res);
    if (!res)
        fd_cat_fail(req, pg, err, NULL);
    else if (!c_ok)
        fd_cat_invalid(req, "/country", "must be an ISO 3166-1 alpha-2 code such as DE or US");
    else if (!tz_ok)
        fd_cat_invalid(req, "/time_zone", "must be an IANA time zone name such as Europe/Berlin");
    return res && c_ok && tz_ok;
}

/* The organization a new venue belongs to: the body's organization_id (the caller must
 * be a member, or an admin) or else the caller's only organization. Answers and returns
 * 0 when there is none. */
static int s_owner(fd_req_t *req, bx_pg_t *pg, json_t *b, char org[BX_UUID_LEN + 1])
{
    const char *want = bx_json_str(b, "organization_id");
    bx_err_t err;
    int ok = 0;
    if (want) {
        const char *p[] = {want};
        PGresult *res = bx_pg_query(pg, "cat_org_exists", 1, p, &err);
        int exists = res && PQntuples(res) == 1;
        PQclear(res);
        if (!res || (exists && (err = fd_cat_manages(req, pg, want, &ok))))
            fd_cat_fail(req, pg, err, NULL);
        else if (!exists || !ok)
            fd_reply_problem(req, BX_ENOTFOUND, "no such organization");
        bx_strlcpy(org, want, BX_UUID_LEN + 1);
        return res && exists && ok;
    }
    const char *p[] = {fd_who(req)->user_id};
    PGresult *res = bx_pg_query(pg, "cat_user_single_org", 1, p, &err);
    ok = res && !strcmp(bx_pg_val(res, 0, 1), "1");
    if (ok)
        bx_strlcpy(org, bx_pg_val(res, 0, 0), BX_UUID_LEN + 1);
    PQclear(res);
    if (!res)
        fd_cat_fail(req, pg, err, NULL);
    else if (!ok)
        fd_cat_invalid(req, "/organization_id",
                       "is required: name the organization that owns the venue");
    return ok;
}

/* ---- documents ---- */

json_t *fd_venues_doc(bx_pg_t *pg, const char *id, int64_t *modified, char org[BX_UUID_LEN + 1],
                      bx_err_t *err)
{
    char self[96];
    const char *p[] = {id};
    json_t *doc = NULL;
    PGresult *res = bx_pg_query(pg, "cat_venue_get", 1, p, err);
    if (res && PQntuples(res) != 1)
        *err = BX_ENOTFOUND;
    if (res && !*err) {
        snprintf(self, sizeof self, "/api/v1/venues/%s", id);
        json_t *r = fd_resource("venue", id, fd_cat_json(bx_pg_val(res, 0, 3)), self);
        if (r)
            json_object_set_new(r, "relationships",
                                json_pack("{s:{s:{s:s+}}, s:{s:{s:s+}}}", "halls", "links",
                                          "related", self, "/halls", "events", "links", "related",
                                          "/api/v1/events?venue_id=", id));
        doc = fd_document(r, NULL);
        *err = doc ? BX_OK : BX_ENOMEM;
        if (modified)
            *modified = strtoll(bx_pg_val(res, 0, 2), NULL, 10);
        if (org)
            bx_strlcpy(org, bx_pg_val(res, 0, 1), BX_UUID_LEN + 1);
    }
    PQclear(res);
    return doc;
}

/* Answers the venue document with status (after a write: never from a stale copy); with
 * c (a GET that missed the document cache) the document is stored for the next readers. */
static void s_reply_venue(fd_req_t *req, bx_pg_t *pg, const char *id, int status,
                          const fd_doc_cache_t *c)
{
    bx_err_t err = BX_OK;
    int64_t modified = 0;
    json_t *doc = fd_venues_doc(pg, id, &modified, NULL, &err);
    if (doc)
        err = fd_media_embed(pg, id, json_object_get(json_object_get(doc, "data"), "attributes"));
    if (err) {
        json_decref(doc);
        doc = NULL;
    }
    if (!doc) {
        fd_cat_fail(req, pg, err, err == BX_ENOTFOUND ? "no such venue" : NULL);
        return;
    }
    fd_cacheable(req, FD_CAT_CACHE_AGE, 1, modified);
    fd_reply_json(req, status, doc);
    if (c)
        fd_doc_cache_put(req, c, NULL, modified);
}

/* ---- handlers ---- */

static void s_create(fd_req_t *req)
{
    json_t *b = fd_body(req);
    char id[BX_UUID_LEN + 1], org[BX_UUID_LEN + 1], loc[96];
    char *text = NULL;
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg || !s_coords_ok(req, b) || !s_place_ok(req, pg, b) || !s_owner(req, pg, b, org))
        return;
    bx_uuid_v7(id);
    text = bx_json_dump(b);
    const char *p[] = {id, org, text};
    bx_err_t err = text ? bx_pg_begin(pg) : BX_ENOMEM;
    if (!err)
        err = bx_pg_run(pg, "cat_venue_insert", 3, p);
    if (!err)
        err = fd_cat_outbox(req, pg, "venue.updated", id, "created");
    if (!err)
        err = bx_pg_commit(pg);
    free(text);
    if (err) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    fd_audit(req, "venue.create", "venue", id, json_pack("{s:s}", "organization_id", org));
    snprintf(loc, sizeof loc, "/api/v1/venues/%s", id);
    fd_add_header(req, "Location", loc);
    s_reply_venue(req, pg, id, 201, NULL);
}

static void s_get(fd_req_t *req)
{
    fd_doc_cache_t c;
    const char *id = fd_cat_id(req, "venueId", "venue");
    if (!id || fd_doc_cache_get(req, FD_DOC_VENUE, id, &c))
        return;
    bx_pg_t *pg = fd_cat_db(req);
    if (pg)
        s_reply_venue(req, pg, id, 200, &c);
}

static void s_list(fd_req_t *req)
{
    char limit[8], a[64], after[64], next[FD_CAT_CURSOR_MAX + 1];
    long max = 0;
    bx_err_t err;
    bx_pg_t *pg = fd_cat_db(req);
    const char *org = fd_query(req, "organization_id");
    if (!pg || !fd_cat_limit(req, &max, limit) ||
        !fd_cat_cursor_decode(req, a, after, sizeof after))
        return;
    if (org && !bx_uuid_valid(org)) {
        fd_reply_problem(req, BX_EINVAL, "organization_id must be a UUID");
        return;
    }
    const char *p[] = {fd_query(req, "city"), fd_query(req, "country"), org,
                       after[0] ? after : NULL, limit};
    PGresult *res = bx_pg_query(pg, "cat_venue_list", 5, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    json_t *data = json_array();
    int n = PQntuples(res);
    for (int i = 0; data && i < n; i++) {
        char self[96];
        snprintf(self, sizeof self, "/api/v1/venues/%s", bx_pg_val(res, i, 0));
        json_array_append_new(data, fd_resource("venue", bx_pg_val(res, i, 0),
                                                fd_cat_json(bx_pg_val(res, i, 1)), self));
    }
    if (n > 0 && n == max)
        fd_cat_cursor_encode("v", bx_pg_val(res, n - 1, 0), next, sizeof next);
    PQclear(res);
    fd_cacheable(req, FD_CAT_CACHE_AGE, 1, 0);
    fd_reply_json(req, 200,
                  fd_document(data, fd_cat_links(req, "/api/v1/venues", s_list_keys,
                                                 n > 0 && n == max ? next : NULL)));
}

/* Locks the venue for a write by the caller. Answers 404 (absent, or another
 * organization's) and returns 0; on success fills org, tz and has_events. */
static int s_lock(fd_req_t *req, bx_pg_t *pg, const char *id, char org[BX_UUID_LEN + 1],
                  char tz[65], int *has_events)
{
    bx_err_t err;
    int ok = 0;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, "cat_venue_lock", 1, p, &err);
    if (res && PQntuples(res) == 1) {
        bx_strlcpy(org, bx_pg_val(res, 0, 0), BX_UUID_LEN + 1);
        bx_strlcpy(tz, bx_pg_val(res, 0, 1), 65);
        *has_events = !strcmp(bx_pg_val(res, 0, 2), "t");
        err = fd_cat_manages(req, pg, org, &ok);
    }
    PQclear(res);
    if (!ok)
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such venue");
    return ok;
}

static void s_update(fd_req_t *req)
{
    json_t *b = fd_body(req);
    const char *id = fd_cat_id(req, "venueId", "venue"), *new_tz = bx_json_str(b, "time_zone");
    char org[BX_UUID_LEN + 1], tz[65];
    int has_events = 0;
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (!pg || !s_coords_ok(req, b) || !s_place_ok(req, pg, b))
        return;
    char *text = bx_json_dump(b);
    bx_err_t err = text ? bx_pg_begin(pg) : BX_ENOMEM;
    if (err || !s_lock(req, pg, id, org, tz, &has_events))
        goto out;
    if (new_tz && strcmp(new_tz, tz) && has_events) {
        fd_cat_fail(req, pg, BX_ECONFLICT,
                    "the time zone of a venue with events cannot change: "
                    "their local times would move");
        goto out;
    }
    const char *p[] = {id, text};
    if (!(err = bx_pg_run(pg, "cat_venue_update", 2, p)) &&
        !(err = fd_cat_outbox(req, pg, "venue.updated", id, "updated")))
        err = bx_pg_commit(pg);
    if (!err) {
        fd_doc_cache_touch(req, FD_DOC_VENUE, id); /* and the venue part of its events */
        fd_audit(req, "venue.update", "venue", id, NULL);
        s_reply_venue(req, pg, id, 200, NULL);
    }
out:
    if (err)
        fd_cat_fail(req, pg, err, NULL);
    free(text);
}

static void s_delete(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "venueId", "venue");
    char org[BX_UUID_LEN + 1], tz[65];
    int has_events = 0;
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (!pg)
        return;
    bx_err_t err = bx_pg_begin(pg);
    if (err || !s_lock(req, pg, id, org, tz, &has_events))
        goto out;
    if (has_events) {
        fd_cat_fail(req, pg, BX_ECONFLICT,
                    "the venue has events that are not cancelled: cancel "
                    "or delete them first");
        return;
    }
    const char *p[] = {id};
    if (!(err = bx_pg_run(pg, "cat_venue_delete", 1, p)) &&
        !(err = fd_cat_outbox(req, pg, "venue.updated", id, "deleted")))
        err = bx_pg_commit(pg);
    if (!err) {
        fd_doc_cache_touch(req, FD_DOC_VENUE, id);
        fd_audit(req, "venue.delete", "venue", id, NULL);
        fd_reply_empty(req, 204);
    }
out:
    if (err)
        fd_cat_fail(req, pg, err, NULL);
}

const fd_route_t fd_venues_routes[] = {
    {"GET", "/api/v1/venues", s_list, 0, FD_RL_READ, NULL},
    {"POST", "/api/v1/venues", s_create, FD_PARTNER, FD_RL_WRITE, s_create_schema},
    {"GET", "/api/v1/venues/{venueId}", s_get, 0, FD_RL_READ, NULL},
    {"PUT", "/api/v1/venues/{venueId}", s_update, FD_PARTNER, FD_RL_WRITE, s_update_schema},
    {"DELETE", "/api/v1/venues/{venueId}", s_delete, FD_PARTNER, FD_RL_WRITE, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};
