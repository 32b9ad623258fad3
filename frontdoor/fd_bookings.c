/* fd_bookings: bookings. POST /bookings checks that the hold exists and is the caller's
 * (anything else is 404) and queues the checkout for the checkout pool keyed by the
 * hold's event, so that one event's checkouts and the hold pool's releases meet in the
 * same order. GET /bookings/{id} shows a booking to its owner, the event organization's
 * members and admins (404 to anyone else); GET /bookings lists the caller's own, newest
 * first; POST /bookings/{id}/cancel queues a cancel as customer, partner or admin. The
 * document is built in SQL (bx_booking_doc) so every pool answers the same shape. */
#include "fd_bookings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_util.h"
#include "bx_wire.h"
#include "fd_cat_page.h"
#include "fd_catalog.h"

static const bx_jfield_t s_book_schema[] = {
    {.name = "hold_id", .type = BX_JT_STRING, .required = 1, .format = BX_FMT_UUID},
    {.name = "promo_code", .type = BX_JT_STRING, .min = 3, .max = 32},
    {.name = "locale", .type = BX_JT_STRING, .format = BX_FMT_LOCALE, .max = 16},
    {0},
};

static const bx_jfield_t s_cancel_schema[] = {
    {.name = "reason", .type = BX_JT_STRING, .min = 1, .max = 200, .format = BX_FMT_NAME},
    {0},
};

static const char *const s_statuses[] = {"pending_payment", "confirmed", "failed",
                                         "expired",         "cancelled", NULL};

static void s_book(fd_req_t *req)
{
    json_t *body = fd_body(req);
    const char *hold = bx_json_str(body, "hold_id"), *code = bx_json_str(body, "promo_code");
    bx_pg_t *pg = fd_cat_db(req);
    bx_err_t err = BX_OK;
    char event[37];
    if (!pg)
        return;
    const char *p[] = {hold, fd_who(req)->user_id};
    PGresult *res = bx_pg_query(pg, "co_fd_hold", 2, p, &err);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such hold" : NULL);
        return;
    }
    bx_strlcpy(event, bx_pg_val(res, 0, 0), sizeof event);
    PQclear(res);
    json_t *job =
        json_pack("{s:s, s:s, s:s}", "op", "checkout", "hold_id", hold, "event_id", event);
    if (job && code)
        json_object_set_new(job, "promo_code", json_string(code));
    if (job && bx_json_str(body, "locale"))
        json_object_set(job, "locale", json_object_get(body, "locale"));
    fd_submit(req, BX_SVC_CHECKOUT, event, job);
}

/* Reads booking id; sets *doc (new reference), owner, org, event. Answers 404 (or the
 * database problem) when the caller may not see it and returns 0. */
static int s_visible(fd_req_t *req, bx_pg_t *pg, const char *id, json_t **doc, const char **by,
                     char event[37])
{
    bx_err_t err = BX_OK;
    const fd_principal_t *who = fd_who(req);
    const char *p[] = {id};
    int ok = 0;
    PGresult *res = bx_pg_query(pg, "co_fd_booking", 1, p, &err);
    if (res && PQntuples(res) == 1) {
        if (!strcmp(bx_pg_val(res, 0, 1), who->user_id))
            ok = 1, *by = "customer";
        else if (fd_cat_admin(req))
            ok = 1, *by = "admin";
        else if (!(err = fd_cat_manages(req, pg, bx_pg_val(res, 0, 2), &ok)) && ok)
            *by = "partner";
        if (ok) {
            *doc = fd_cat_json(bx_pg_val(res, 0, 0));
            bx_strlcpy(event, bx_pg_val(res, 0, 3), 37);
        }
    }
    if (!ok)
        fd_cat_fail(req, pg, res && !err ? BX_ENOTFOUND : err,
                    res && !err ? "no such booking" : NULL);
    PQclear(res);
    return ok;
}

static void s_get(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "bookingId", "booking");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    json_t *doc = NULL;
    const char *by = NULL;
    char event[37];
    if (pg && s_visible(req, pg, id, &doc, &by, event))
        fd_reply_json(req, 200, doc);
}

static void s_cancel(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "bookingId", "booking");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    json_t *doc = NULL, *body = fd_body(req);
    const char *by = NULL;
    char event[37];
    if (!pg || !s_visible(req, pg, id, &doc, &by, event))
        return;
    json_decref(doc);
    json_t *job = json_pack("{s:s, s:s, s:s}", "op", "cancel", "booking_id", id, "by", by);
    if (job && bx_json_str(body, "reason"))
        json_object_set(job, "reason", json_object_get(body, "reason"));
    fd_submit(req, BX_SVC_CHECKOUT, event, job);
}

static const char *const s_list_keys[] = {"status", "limit", NULL};

static void s_list(fd_req_t *req)
{
    char limit[8], a[64], after[64];
    long max = 0;
    bx_pg_t *pg = fd_cat_db(req);
    const char *status = fd_query(req, "status");
    int known = !status;
    for (int i = 0; status && s_statuses[i]; i++)
        known |= !strcmp(status, s_statuses[i]);
    if (!pg || !fd_cat_limit(req, &max, limit) ||
        !fd_cat_cursor_decode(req, a, after, sizeof after))
        return;
    if (!known) {
        fd_cat_invalid(req, "/status",
                       "status is one of pending_payment, confirmed, failed, "
                       "expired, cancelled");
        return;
    }
    if (after[0] && !bx_uuid_valid(after)) {
        fd_reply_problem(req, BX_EINVAL, "the cursor is not valid");
        return;
    }
    const char *p[] = {fd_who(req)->user_id, status, after[0] ? a : NULL, after[0] ? after : NULL,
                       limit};
    fd_cat_page(req, pg, "co_fd_list", 5, p, max, "/api/v1/bookings", s_list_keys);
}

const fd_route_t fd_bookings_routes[] = {
    {"POST", "/api/v1/bookings", s_book, FD_AUTH, FD_RL_WRITE, s_book_schema},
    {"GET", "/api/v1/bookings", s_list, FD_AUTH, FD_RL_READ, NULL},
    {"GET", "/api/v1/bookings/{bookingId}", s_get, FD_AUTH, FD_RL_READ, NULL},
    {"POST", "/api/v1/bookings/{bookingId}/cancel", s_cancel, FD_AUTH, FD_RL_WRITE,
     s_cancel_schema},
    {NULL, NULL, NULL, 0, 0, NULL},
};
