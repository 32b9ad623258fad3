/* fd_tickets: GET /bookings/{id}/ticket (owner, the event's organization, admins; anyone
 * else 404), the QR image of one ticket (PNG or SVG), GET /tickets/keys (the public JWK
 * set), GET /events/{id}/tickets/revoked (scanners, the organization's partners, admins)
 * and POST /checkins, which verifies the signed payload with the key its kid names and
 * admits a ticket exactly once (INSERT ... ON CONFLICT DO NOTHING decides between two
 * concurrent scans). Tickets are issued by the ticket pool (workers/ticket). */
#include "fd_tickets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_qr.h"
#include "bx_ticket.h"
#include "bx_ticket_keys.h"
#include "bx_util.h"
#include "fd_catalog.h"

#define S_PROBLEM(x)  "https://boxoffice.dev/problems/" x
#define S_QR_SCALE    8  /* PNG pixels per module without ?scale */
#define S_QR_SCALE_MAX 16
#define S_RETRY_AFTER "2"

static const bx_jfield_t s_checkin_schema[] = {
    {.name = "payload", .type = BX_JT_STRING, .required = 1, .min = 1, .max = BX_TICKET_MAX},
    {.name = "gate", .type = BX_JT_STRING, .min = 1, .max = 64, .format = BX_FMT_NAME},
    {.name = "device", .type = BX_JT_STRING, .min = 1, .max = 64, .format = BX_FMT_NAME},
    {0},
};

/* 1 when the caller may see what belongs to owner in organization org: the owner, admins,
 * members of org. Otherwise (or on a database error) answers 404 / the error, returns 0. */
static int s_may_see(fd_req_t *req, bx_pg_t *pg, const char *owner, const char *org,
                     const char *what)
{
    const fd_principal_t *who = fd_who(req);
    int ok = !strcmp(who->user_id, owner) || fd_cat_admin(req);
    bx_err_t err = ok || strcmp(who->role, "partner") ? BX_OK : fd_cat_manages(req, pg, org, &ok);
    if (err)
        fd_cat_fail(req, pg, err, NULL);
    else if (!ok)
        fd_reply_problem(req, BX_ENOTFOUND, what);
    return !err && ok;
}

/* 1 when the caller may scan for organization org: scanners, admins, members of org.
 * Otherwise answers 403 (or the database error) and returns 0. */
static int s_may_scan(fd_req_t *req, bx_pg_t *pg, const char *org)
{
    const fd_principal_t *who = fd_who(req);
    int ok = !strcmp(who->role, "scanner") || fd_cat_admin(req);
    bx_err_t err = ok || strcmp(who->role, "partner") ? BX_OK : fd_cat_manages(req, pg, org, &ok);
    if (err)
        fd_cat_fail(req, pg, err, NULL);
    else if (!ok)
        fd_reply_problem(req, BX_EFORBIDDEN,
                         "scanning takes the scanner role or a partner of the event's organization");
    return !err && ok;
}

/* ---- GET /api/v1/bookings/{bookingId}/ticket ---- */

/* The tickets document: each ticket with links to its images. */
static json_t *s_tickets_doc(const char *booking, const char *status, json_t *tickets)
{
    json_t *t;
    size_t i;
    char png[96], svg[96], self[96];
    json_array_foreach(tickets, i, t)
    {
        const char *id = bx_json_str(t, "id");
        snprintf(png, sizeof png, "/api/v1/tickets/%s/qr.png", id);
        snprintf(svg, sizeof svg, "/api/v1/tickets/%s/qr.svg", id);
        json_object_set_new(t, "links", json_pack("{s:s, s:s}", "qr_png", png, "qr_svg", svg));
    }
    snprintf(self, sizeof self, "/api/v1/bookings/%s/ticket", booking);
    return fd_document(json_pack("{s:s, s:s, s:o}", "booking_id", booking, "booking_status",
                                 status, "tickets", tickets),
                       json_pack("{s:s, s:s}", "self", self, "keys", "/api/v1/tickets/keys"));
}

/* Answers a booking whose tickets cannot be shown (yet). */
static void s_not_ready(fd_req_t *req, const char *booking, const char *status)
{
    char why[96];
    if (!strcmp(status, "confirmed")) { /* paid: the ticket pool is issuing them */
        fd_add_header(req, "Retry-After", S_RETRY_AFTER);
        fd_reply_json(req, 202,
                      fd_document(json_pack("{s:s, s:s, s:s}", "booking_id", booking,
                                            "booking_status", status, "tickets_status", "issuing"),
                                  NULL));
        return;
    }
    snprintf(why, sizeof why, "the booking is %s: it has no tickets%s", status,
             strcmp(status, "pending_payment") ? "" : " until it is paid");
    fd_reply_problem(req, BX_ECONFLICT, why);
}

static void s_booking_tickets(fd_req_t *req)
{
    const char *booking = fd_cat_id(req, "bookingId", "booking");
    bx_pg_t *pg = booking ? fd_cat_db(req) : NULL;
    bx_err_t err;
    if (!pg)
        return;
    PGresult *res = bx_pg_query(pg, "ticket_booking_get", 1, (const char *[]){booking}, &err);
    if (!res || PQntuples(res) != 1) {
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such booking" : NULL);
        PQclear(res);
        return;
    }
    char status[16];
    bx_strlcpy(status, bx_pg_val(res, 0, 0), sizeof status);
    json_t *tickets = fd_cat_json(bx_pg_val(res, 0, 5));
    int issued = !strcmp(bx_pg_val(res, 0, 3), "t");
    if (s_may_see(req, pg, bx_pg_val(res, 0, 1), bx_pg_val(res, 0, 2), "no such booking")) {
        if (issued && tickets) {
            fd_cacheable(req, 0, 0, 0);
            fd_reply_json(req, 200, s_tickets_doc(booking, status, tickets));
            tickets = NULL;
        } else {
            s_not_ready(req, booking, status);
        }
    }
    json_decref(tickets);
    PQclear(res);
}

/* ---- GET /api/v1/tickets/{ticketId}/qr.png|qr.svg ---- */

/* Reads the ticket's payload (into *payload, caller frees) after checking the caller may
 * see it and it is valid. Answers and returns 0 otherwise. */
static int s_ticket_payload(fd_req_t *req, char **payload)
{
    const char *id = fd_cat_id(req, "ticketId", "ticket");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    bx_err_t err;
    *payload = NULL;
    if (!pg)
        return 0;
    PGresult *res = bx_pg_query(pg, "ticket_get", 1, (const char *[]){id}, &err);
    if (!res || PQntuples(res) != 1) {
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such ticket" : NULL);
    } else if (s_may_see(req, pg, bx_pg_val(res, 0, 2), bx_pg_val(res, 0, 3), "no such ticket")) {
        if (!strcmp(bx_pg_val(res, 0, 1), "revoked"))
            fd_reply_problem(req, BX_EGONE, "the ticket was revoked (its booking was cancelled)");
        else if (!(*payload = strdup(bx_pg_val(res, 0, 0))))
            fd_reply_problem(req, BX_ENOMEM, NULL);
    }
    PQclear(res);
    return *payload != NULL;
}

/* ?scale (1..S_QR_SCALE_MAX, default S_QR_SCALE). Answers 400 and returns 0 when bad. */
static int s_scale(fd_req_t *req, int *scale)
{
    const char *q = fd_query(req, "scale");
    long v = S_QR_SCALE;
    if (q && bx_parse_long(q, 1, S_QR_SCALE_MAX, &v) != BX_OK) {
        fd_cat_invalid(req, "/scale", "scale is a whole number of pixels per module, 1 to 16");
        return 0;
    }
    *scale = (int)v;
    return 1;
}

static void s_qr(fd_req_t *req, int svg)
{
    char *payload = NULL;
    int scale = 0;
    if (!s_scale(req, &scale) || !s_ticket_payload(req, &payload))
        return;
    size_t len = 0;
    void *img = svg ? (void *)bx_qr_svg(payload, scale, &len) : (void *)bx_qr_png(payload, scale, &len);
    if (!img) {
        fd_reply_problem(req, BX_EINTERNAL, "could not draw the QR code");
    } else {
        fd_cacheable(req, 0, 0, 0); /* private, revalidated by ETag */
        fd_reply_raw(req, 200, svg ? "image/svg+xml" : "image/png", img, len);
    }
    free(img);
    free(payload);
}

static void s_qr_png(fd_req_t *req)
{
    s_qr(req, 0);
}

static void s_qr_svg(fd_req_t *req)
{
    s_qr(req, 1);
}

/* ---- GET /api/v1/tickets/keys ---- */

static void s_keys(fd_req_t *req)
{
    bx_pg_t *pg = fd_cat_db(req);
    json_t *jwks = NULL;
    bx_err_t err = pg ? bx_ticket_keys_jwks(pg, &jwks) : BX_OK;
    if (!pg)
        return;
    if (err) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    fd_cacheable(req, 300, 1, 0);
    fd_reply_json(req, 200, jwks);
}

/* ---- GET /api/v1/events/{eventId}/tickets/revoked ---- */

/* ?since, an RFC 3339 time or absent. Answers 400 and returns 0 when bad. */
static int s_since(fd_req_t *req, const char **since)
{
    static const bx_jfield_t schema[] = {
        {.name = "since", .type = BX_JT_STRING, .max = 40, .format = BX_FMT_DATETIME}, {0}};
    json_t *errors = NULL;
    *since = fd_query(req, "since");
    if (!*since)
        return 1;
    json_t *o = json_pack("{s:s}", "since", *since);
    bx_err_t err = o ? bx_json_validate(o, schema, &errors) : BX_ENOMEM;
    json_decref(o);
    json_decref(errors);
    if (err)
        fd_cat_invalid(req, "/since", "since is an RFC 3339 time, e.g. 2026-11-24T18:00:00Z");
    return err == BX_OK;
}

/* The event's organization into org (37 bytes). Answers 404 and returns 0 otherwise. */
static int s_event_org(fd_req_t *req, bx_pg_t *pg, const char *event, char *org, char *status)
{
    bx_err_t err;
    PGresult *res = bx_pg_query(pg, "ticket_event_org", 1, (const char *[]){event}, &err);
    int found = res && PQntuples(res) == 1;
    if (found) {
        bx_strlcpy(org, bx_pg_val(res, 0, 0), 37);
        bx_strlcpy(status, bx_pg_val(res, 0, 1), 16);
    } else {
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such event" : NULL);
    }
    PQclear(res);
    return found;
}

static void s_revoked(fd_req_t *req)
{
    const char *event = fd_cat_id(req, "eventId", "event"), *since = NULL;
    bx_pg_t *pg = event && s_since(req, &since) ? fd_cat_db(req) : NULL;
    char org[37], status[16];
    bx_err_t err;
    if (!pg || !s_event_org(req, pg, event, org, status) || !s_may_scan(req, pg, org))
        return;
    PGresult *res = bx_pg_query(pg, "ticket_revoked", 2, (const char *[]){event, since}, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    json_t *doc = json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:o}", "event_id", event, "generated_at",
                            bx_pg_val(res, 0, 1), "since", since, "latest_revoked_at",
                            bx_pg_val(res, 0, 2), "event_status", status, "revoked",
                            fd_cat_json(bx_pg_val(res, 0, 0)));
    PQclear(res);
    fd_cacheable(req, 0, 0, 0);
    fd_reply_json(req, 200, doc);
}

/* ---- POST /api/v1/checkins ---- */

/* Answers a problem of our own type (ticket-invalid, ticket-revoked, ...). ext stolen. */
static void s_ticket_problem(fd_req_t *req, bx_err_t err, const char *type, const char *title,
                             const char *detail, json_t *ext)
{
    json_t *p = ext ? ext : json_object();
    json_object_set_new(p, "type", json_string(type));
    json_object_set_new(p, "title", json_string(title));
    fd_reply_problem_ext(req, err, detail, p);
}

/* Verifies the payload's signature with its kid's key. Answers 422 ticket-invalid (or the
 * database error) and returns 0 when it does not verify. */
static int s_verified(fd_req_t *req, bx_pg_t *pg, const char *payload, bx_ticket_claims_t *c)
{
    bx_ticket_key_t *key = NULL;
    bx_err_t err = bx_ticket_parse(payload, c);
    const char *why = "not a boxoffice ticket";
    if (!err) {
        err = bx_ticket_keys_get(pg, c->kid, &key);
        why = "the ticket names a key that never signed tickets";
        if (err && err != BX_ENOTFOUND) {
            fd_cat_fail(req, pg, err, NULL);
            return 0;
        }
    }
    if (!err) {
        err = bx_ticket_verify(key, payload, c);
        why = "the ticket's signature does not verify";
    }
    bx_ticket_key_destroy(&key);
    if (err)
        s_ticket_problem(req, BX_EUNPROCESSABLE, S_PROBLEM("ticket-invalid"), "Ticket invalid",
                         why, NULL);
    return err == BX_OK;
}

/* What ticket_get says about the scanned ticket. */
typedef struct {
    char status[16];       /* valid | revoked */
    char org[37];          /* the event's organization */
    char event_status[16]; /* the event's status */
} s_ticket_t;

/* Loads the ticket the verified claims name; answers 422 when there is none (a signed
 * payload of a ticket that was never stored, or of another event). */
static int s_ticket(fd_req_t *req, bx_pg_t *pg, const bx_ticket_claims_t *c, const char *payload,
                    s_ticket_t *t)
{
    bx_err_t err;
    PGresult *res = bx_pg_query(pg, "ticket_get", 1, (const char *[]){c->ticket_id}, &err);
    int ok = res && PQntuples(res) == 1 && !strcmp(bx_pg_val(res, 0, 0), payload) &&
             !strcmp(bx_pg_val(res, 0, 4), c->event_id);
    if (ok) {
        bx_strlcpy(t->status, bx_pg_val(res, 0, 1), sizeof t->status);
        bx_strlcpy(t->org, bx_pg_val(res, 0, 3), sizeof t->org);
        bx_strlcpy(t->event_status, bx_pg_val(res, 0, 5), sizeof t->event_status);
    } else if (!res) {
        fd_cat_fail(req, pg, err, NULL);
    } else {
        s_ticket_problem(req, BX_EUNPROCESSABLE, S_PROBLEM("ticket-invalid"), "Ticket invalid",
                         "no such ticket was issued", NULL);
    }
    PQclear(res);
    return ok;
}

/* Answers the second scan: 409 ticket-already-used with the first scan's when and where. */
static void s_already_used(fd_req_t *req, bx_pg_t *pg, const char *ticket)
{
    bx_err_t err;
    PGresult *res = bx_pg_query(pg, "ticket_checkin_first", 1, (const char *[]){ticket}, &err);
    if (!res || PQntuples(res) != 1) {
        fd_cat_fail(req, pg, res ? BX_EINTERNAL : err, res ? "the first scan vanished" : NULL);
        PQclear(res);
        return;
    }
    json_t *ext = json_pack("{s:s, s:s, s:s?, s:s?}", "ticket_id", ticket, "scanned_at",
                            bx_pg_val(res, 0, 0), "gate", bx_pg_val(res, 0, 1), "device",
                            bx_pg_val(res, 0, 2));
    char why[96];
    snprintf(why, sizeof why, "the ticket was already used at %s", bx_pg_val(res, 0, 0));
    PQclear(res);
    s_ticket_problem(req, BX_ECONFLICT, S_PROBLEM("ticket-already-used"), "Ticket already used",
                     why, ext);
}

/* The ticket may be admitted now: not revoked, its event not cancelled. Answers 409. */
static int s_admissible(fd_req_t *req, const s_ticket_t *t, const char *ticket)
{
    if (!strcmp(t->status, "revoked")) {
        s_ticket_problem(req, BX_ECONFLICT, S_PROBLEM("ticket-revoked"), "Ticket revoked",
                         "the ticket was revoked (its booking was cancelled)",
                         json_pack("{s:s}", "ticket_id", ticket));
        return 0;
    }
    if (!strcmp(t->event_status, "cancelled") || !strcmp(t->event_status, "completed")) {
        char why[64];
        snprintf(why, sizeof why, "the event is %s", t->event_status);
        s_ticket_problem(req, BX_ECONFLICT, S_PROBLEM("event-not-admitting"), "Event not admitting",
                         why, json_pack("{s:s}", "ticket_id", ticket));
        return 0;
    }
    return 1;
}

static void s_checkin(fd_req_t *req)
{
    const fd_principal_t *who = fd_who(req);
    json_t *body = fd_body(req);
    const char *payload = bx_json_str(body, "payload");
    bx_ticket_claims_t c;
    s_ticket_t t;
    bx_err_t err;
    if (strcmp(who->role, "scanner") && strcmp(who->role, "admin") && strcmp(who->role, "partner")) {
        fd_reply_problem(req, BX_EFORBIDDEN, "scanning takes the scanner role");
        return;
    }
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg || !s_verified(req, pg, payload, &c) || !s_ticket(req, pg, &c, payload, &t) ||
        !s_may_scan(req, pg, t.org) || !s_admissible(req, &t, c.ticket_id))
        return;
    const char *p[] = {c.ticket_id, c.event_id, who->user_id, bx_json_str(body, "gate"),
                       bx_json_str(body, "device")};
    PGresult *res = bx_pg_query(pg, "ticket_checkin", 5, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
    } else if (PQntuples(res) == 0) {
        s_already_used(req, pg, c.ticket_id);
    } else {
        fd_reply_json(req, 200,
                      json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s?, s:s?}", "result", "admitted",
                                "ticket_id", c.ticket_id, "event_id", c.event_id, "seat", c.seat,
                                "serial", c.serial, "scanned_at", bx_pg_val(res, 0, 1), "gate",
                                bx_pg_val(res, 0, 2), "device", bx_pg_val(res, 0, 3)));
    }
    PQclear(res);
}

const fd_route_t fd_tickets_routes[] = {
    {"GET", "/api/v1/tickets/keys", s_keys, 0, FD_RL_READ, NULL},
    {"GET", "/api/v1/bookings/{bookingId}/ticket", s_booking_tickets, FD_AUTH, FD_RL_READ, NULL},
    {"GET", "/api/v1/tickets/{ticketId}/qr.png", s_qr_png, FD_AUTH | FD_ANY_ACCEPT, FD_RL_READ,
     NULL},
    {"GET", "/api/v1/tickets/{ticketId}/qr.svg", s_qr_svg, FD_AUTH | FD_ANY_ACCEPT, FD_RL_READ,
     NULL},
    {"GET", "/api/v1/events/{eventId}/tickets/revoked", s_revoked, FD_AUTH, FD_RL_READ, NULL},
    {"POST", "/api/v1/checkins", s_checkin, FD_AUTH | FD_NO_IDEM, FD_RL_WRITE, s_checkin_schema},
    {NULL, NULL, NULL, 0, 0, NULL},
};
