/* fd_holds: holds on an event's inventory. POST .../inventory/hold checks what it can
 * without contending for inventory (the event is on sale, the seats exist in this event,
 * the tier exists and sells now, quantities within the tier's order limits, the waiting
 * room lets the caller in) and queues the hold for the hold pool with the event as route
 * key, so that every hold of one event meets the same worker. GET and DELETE
 * .../inventory/hold/{holdId} read and release the caller's own hold (anyone else's is
 * 404); a release goes through the hold pool too, so it serializes with that event's
 * holds. POST and DELETE .../inventory/hold/{holdId}/items are the cart: seats or GA units
 * added to or removed from the caller's active hold (not while a booking is pending payment
 * on it), checked here as far as the frontdoor can and decided by the hold pool (ops add
 * and remove). The hold pool (workers/hold) decides; docs/holds.md. */
#include "fd_holds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bx_util.h"
#include "bx_wire.h"
#include "fd_catalog.h"
#include "fd_waitroom.h"

#define S_SEATS_MAX 100 /* seats per hold: the tiers' order limits stop at 100 */

static const bx_jfield_t s_hold_schema[] = {
    {.name = "seats", .type = BX_JT_ARRAY, .min = 1, .max = S_SEATS_MAX},
    {.name = "tier_id", .type = BX_JT_STRING, .format = BX_FMT_UUID},
    {.name = "quantity", .type = BX_JT_INT, .min = 1, .max = S_SEATS_MAX},
    {.name = "best_available", .type = BX_JT_BOOL},
    {.name = "together", .type = BX_JT_BOOL},
    {0},
};

/* What inv_hold_check read. */
typedef struct {
    char status[16]; /* event status */
    json_t *seats;   /* [{ask, seat_id, label, tier_id}] in request order (owned) */
    json_t *tiers;   /* {tier_id: {kind, name, min, max, open}} (owned) */
} s_check_t;

/* The kind of hold the body asks for: "seats", "ga" or "best_available"; answers 400 and
 * returns NULL for a body that mixes or lacks the members of one kind. */
static const char *s_kind(fd_req_t *req, json_t *body)
{
    int seats = json_object_get(body, "seats") != NULL;
    int tier = json_object_get(body, "tier_id") != NULL;
    int qty = json_object_get(body, "quantity") != NULL;
    int best = json_is_true(json_object_get(body, "best_available"));
    if (seats && (tier || qty || best)) {
        fd_cat_invalid(req, "/seats", "hold either seats, or a quantity of a tier, not both");
        return NULL;
    }
    if (!seats && (!tier || !qty)) {
        fd_cat_invalid(req, tier ? "/quantity" : "/tier_id",
                       "send seats, or tier_id with quantity (best_available for seated tiers)");
        return NULL;
    }
    if (json_object_get(body, "together") && !best) {
        fd_cat_invalid(req, "/together", "together applies to best_available holds only");
        return NULL;
    }
    return seats ? "seats" : best ? "best_available" : "ga";
}

/* Seats are strings, each listed once. Answers 400 and returns 0 otherwise. */
static int s_seats_unique(fd_req_t *req, json_t *body)
{
    json_t *seats = json_object_get(body, "seats"), *v;
    char ptr[32];
    size_t i;
    if (!fd_cat_strings(req, body, "seats", 64, S_SEATS_MAX))
        return 0;
    json_array_foreach(seats, i, v)
    {
        for (size_t k = 0; k < i; k++)
            if (!strcmp(json_string_value(v), json_string_value(json_array_get(seats, k)))) {
                snprintf(ptr, sizeof ptr, "/seats/%zu", i);
                fd_cat_invalid(req, ptr, "lists a seat twice");
                return 0;
            }
    }
    return 1;
}

static void s_check_free(s_check_t *c)
{
    json_decref(c->seats);
    json_decref(c->tiers);
}

/* Reads the event's status, the requested seats and the tiers. Answers 404 (no such event,
 * or a draft) or the database problem and returns 0 otherwise. */
static int s_check_load(fd_req_t *req, bx_pg_t *pg, const char *event, json_t *seats, s_check_t *c)
{
    bx_err_t err;
    char *text = seats ? bx_json_dump(seats) : NULL;
    const char *p[] = {event, text};
    PGresult *res = bx_pg_query(pg, "inv_hold_check", 2, p, &err);
    free(text);
    if (!res || PQntuples(res) != 1 || !strcmp(bx_pg_val(res, 0, 0), "draft")) {
        PQclear(res);
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such event" : NULL);
        return 0;
    }
    bx_strlcpy(c->status, bx_pg_val(res, 0, 0), sizeof c->status);
    c->seats = fd_cat_json(bx_pg_val(res, 0, 1));
    c->tiers = fd_cat_json(bx_pg_val(res, 0, 2));
    PQclear(res);
    if (!c->tiers)
        c->tiers = json_object();
    return 1;
}

/* The tier's sale is open. Answers 409 and returns 0 otherwise. */
static int s_tier_open(fd_req_t *req, json_t *tier)
{
    char why[160];
    if (json_is_true(json_object_get(tier, "open")))
        return 1;
    snprintf(why, sizeof why, "tier %.100s is not on sale now", bx_json_str(tier, "name"));
    fd_reply_problem(req, BX_ECONFLICT, why);
    return 0;
}

/* The tier's sale is open and n is within its order limits. Answers and returns 0 else. */
static int s_tier_limits(fd_req_t *req, json_t *tier, long n, const char *ptr)
{
    char why[160];
    long min = (long)json_integer_value(json_object_get(tier, "min"));
    long max = (long)json_integer_value(json_object_get(tier, "max"));
    if (!s_tier_open(req, tier))
        return 0;
    if (n < min || n > max) {
        snprintf(why, sizeof why, "tier %.100s sells %ld to %ld per order",
                 bx_json_str(tier, "name"), min, max);
        fd_cat_invalid(req, ptr, why);
        return 0;
    }
    return 1;
}

/* Every requested seat is a seat of this event; per tier, its sale is open and the count is
 * within its order limits. Fills ids with the seat ids. Answers and returns 0 otherwise. */
static int s_seats_ok(fd_req_t *req, s_check_t *c, json_t *ids)
{
    json_t *counts = json_object(), *v;
    const char *tier;
    char ptr[32];
    size_t i;
    int ok = counts != NULL;
    json_array_foreach(c->seats, i, v)
    {
        if (ok && !bx_json_str(v, "seat_id")) {
            snprintf(ptr, sizeof ptr, "/seats/%zu", i);
            fd_cat_invalid(req, ptr, "no such seat in this event");
            ok = 0;
        }
        if (!ok)
            break;
        json_array_append(ids, json_object_get(v, "seat_id"));
        tier = bx_json_str(v, "tier_id");
        json_object_set_new(counts, tier,
                            json_integer(json_integer_value(json_object_get(counts, tier)) + 1));
    }
    json_object_foreach(counts, tier, v)
    {
        if (ok)
            ok = s_tier_limits(req, json_object_get(c->tiers, tier), (long)json_integer_value(v),
                               "/seats");
    }
    json_decref(counts);
    return ok;
}

/* The tier of a GA or best-available hold exists, is of the right kind and sells the
 * quantity now. Answers and returns 0 otherwise. */
static int s_tier_ok(fd_req_t *req, s_check_t *c, const char *kind, const char *tier_id, long n)
{
    json_t *tier = json_object_get(c->tiers, tier_id);
    int ga = !strcmp(kind, "ga");
    if (!tier) {
        fd_cat_invalid(req, "/tier_id", "no such tier in this event");
        return 0;
    }
    if (strcmp(bx_json_str(tier, "kind"), ga ? "ga" : "seated")) {
        fd_cat_invalid(req, "/tier_id",
                       ga ? "a seated tier: hold its seats, or set best_available"
                          : "a general-admission tier has no seats: hold a quantity");
        return 0;
    }
    return s_tier_limits(req, tier, n, "/quantity");
}

/* The job's payload for the hold pool. */
static json_t *s_payload(const char *event, const char *kind, json_t *body, json_t *ids)
{
    json_t *p = json_pack("{s:s, s:s, s:s}", "op", "hold", "event_id", event, "kind", kind);
    if (!p)
        return NULL;
    if (!strcmp(kind, "seats")) {
        json_object_set(p, "seat_ids", ids);
        return p;
    }
    json_object_set(p, "tier_id", json_object_get(body, "tier_id"));
    json_object_set(p, "quantity", json_object_get(body, "quantity"));
    if (!strcmp(kind, "best_available"))
        json_object_set_new(p, "together",
                            json_boolean(!json_is_false(json_object_get(body, "together"))));
    return p;
}

/* Adds the admission token the waiting room's gate accepted ({jti, exp}) to payload, so
 * that the hold pool stores it with the hold. Returns payload. */
static json_t *s_with_admission(fd_req_t *req, json_t *payload)
{
    const char *jti = fd_waitroom_admission_jti(req);
    if (payload && jti[0])
        json_object_set_new(
            payload, "admission",
            json_pack("{s:s, s:I}", "jti", jti, "exp", (json_int_t)fd_waitroom_admission_exp(req)));
    return payload;
}

/* The waiting room lets the caller contend for this event now. Answers and returns 0
 * otherwise. */
static int s_admitted(fd_req_t *req, const char *event)
{
    bx_err_t err = fd_waitroom_gate(req, event);
    if (err == BX_OK)
        return 1;
    if (err == BX_EUNAVAILABLE) {
        fd_add_header(req, "Retry-After", "2");
        fd_reply_problem(req, BX_EUNAVAILABLE, "the waiting room cannot be checked right now");
    } else {
        fd_waitroom_problem(req, event, err);
    }
    return 0;
}

static void s_hold(fd_req_t *req)
{
    const char *event = fd_cat_id(req, "eventId", "event");
    json_t *body = fd_body(req), *ids = NULL;
    s_check_t c = {0};
    const char *kind = event ? s_kind(req, body) : NULL;
    bx_pg_t *pg = kind ? fd_cat_db(req) : NULL;
    if (!pg || (!strcmp(kind, "seats") && !s_seats_unique(req, body)) || !s_admitted(req, event) ||
        !s_check_load(req, pg, event, json_object_get(body, "seats"), &c))
        goto out;
    if (strcmp(c.status, "on_sale")) {
        char why[96];
        snprintf(why, sizeof why, "the event is not on sale (it is %s)", c.status);
        fd_reply_problem(req, BX_ECONFLICT, why);
        goto out;
    }
    ids = json_array();
    int ok = !strcmp(kind, "seats")
                 ? s_seats_ok(req, &c, ids)
                 : s_tier_ok(req, &c, kind, bx_json_str(body, "tier_id"),
                             (long)json_integer_value(json_object_get(body, "quantity")));
    if (ok)
        fd_submit(req, BX_SVC_HOLD, event,
                  s_with_admission(req, s_payload(event, kind, body, ids)));
out:
    json_decref(ids);
    s_check_free(&c);
}

/* Reads the caller's hold into *doc (new reference), state (16 bytes) and *booked (a
 * booking is pending payment on it; booked may be NULL). Answers 404 (not the caller's, or
 * absent) or the database problem and returns 0 otherwise. */
static int s_own_hold(fd_req_t *req, bx_pg_t *pg, const char *event, const char *hold, json_t **doc,
                      char state[16], int *booked)
{
    bx_err_t err;
    const char *p[] = {hold, event, fd_who(req)->user_id};
    PGresult *res = bx_pg_query(pg, "hold_owned", 3, p, &err);
    int found = res && PQntuples(res) == 1;
    if (found) {
        *doc = fd_cat_json(bx_pg_val(res, 0, 0));
        bx_strlcpy(state, bx_pg_val(res, 0, 1), 16);
        if (booked)
            *booked = !strcmp(bx_pg_val(res, 0, 2), "t");
    }
    PQclear(res);
    if (!found)
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such hold" : NULL);
    return found;
}

static void s_get(fd_req_t *req)
{
    const char *event = fd_cat_id(req, "eventId", "event");
    const char *hold = event ? fd_cat_id(req, "holdId", "hold") : NULL;
    bx_pg_t *pg = hold ? fd_cat_db(req) : NULL;
    json_t *doc = NULL;
    char state[16];
    if (pg && s_own_hold(req, pg, event, hold, &doc, state, NULL))
        fd_reply_json(req, 200, doc);
}

static void s_release(fd_req_t *req)
{
    const char *event = fd_cat_id(req, "eventId", "event");
    const char *hold = event ? fd_cat_id(req, "holdId", "hold") : NULL;
    bx_pg_t *pg = hold ? fd_cat_db(req) : NULL;
    json_t *doc = NULL;
    char state[16];
    int booked = 0;
    if (!pg || !s_own_hold(req, pg, event, hold, &doc, state, &booked))
        return;
    if (!strcmp(state, "active") && booked) {
        json_decref(doc);
        fd_reply_problem(req, BX_ECONFLICT,
                         "a booking is pending payment on this hold: cancel the booking instead");
    } else if (!strcmp(state, "active")) {
        json_decref(doc);
        fd_submit(
            req, BX_SVC_HOLD, event,
            json_pack("{s:s, s:s, s:s}", "op", "release", "event_id", event, "hold_id", hold));
    } else if (!strcmp(state, "converted")) {
        json_decref(doc);
        fd_reply_problem(req, BX_ECONFLICT,
                         "the hold became a booking: cancel the booking instead");
    } else {
        fd_reply_json(req, 200, doc); /* already released or expired: nothing left to do */
    }
}

/* ---- the cart: POST and DELETE .../inventory/hold/{holdId}/items ---- */

static const bx_jfield_t s_items_schema[] = {
    {.name = "seats", .type = BX_JT_ARRAY, .min = 1, .max = S_SEATS_MAX},
    {.name = "tier_id", .type = BX_JT_STRING, .format = BX_FMT_UUID},
    {.name = "quantity", .type = BX_JT_INT, .min = 1, .max = S_SEATS_MAX},
    {0},
};

/* ?seats=A1,A2 as a new array of strings into body; answers 400 and returns 0 otherwise. */
static int s_query_seats(fd_req_t *req, const char *list, json_t *body)
{
    json_t *seats = json_array();
    const char *p = list;
    while (seats && p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n < 1 || n > 64 || json_array_size(seats) >= S_SEATS_MAX) {
            json_decref(seats);
            fd_cat_invalid(req, "/seats", "list 1 to 100 seats (labels or ids), comma separated");
            return 0;
        }
        json_array_append_new(seats, json_stringn(p, n));
        p = comma ? comma + 1 : NULL;
    }
    json_object_set_new(body, "seats", seats);
    return seats != NULL;
}

/* The body of a cart change as a new object: POST's JSON body, or DELETE's query
 * (?seats=A1,A2 or ?quantity=n[&tier_id=...]). NULL after answering 400. */
static json_t *s_items_body(fd_req_t *req, int adding)
{
    const char *seats = fd_query(req, "seats"), *qty = fd_query(req, "quantity"),
               *tier = fd_query(req, "tier_id");
    long n;
    if (adding) {
        json_t *body = fd_body(req);
        if (!body)
            fd_cat_invalid(req, "", "send seats, or a quantity of the hold's tier");
        return json_incref(body);
    }
    if (!seats && !qty) {
        fd_cat_invalid(req, "/seats", "say what to remove: ?seats=A1,A2 or ?quantity=n");
        return NULL;
    }
    if (qty && bx_parse_long(qty, 1, S_SEATS_MAX, &n) != BX_OK) {
        fd_cat_invalid(req, "/quantity", "quantity must be 1 to 100");
        return NULL;
    }
    if (tier && !bx_uuid_valid(tier)) {
        fd_cat_invalid(req, "/tier_id", "not a tier id");
        return NULL;
    }
    json_t *body = json_object();
    if (seats && !s_query_seats(req, seats, body)) {
        json_decref(body);
        return NULL;
    }
    if (qty)
        json_object_set_new(body, "quantity", json_integer(n));
    if (tier)
        json_object_set_new(body, "tier_id", json_string(tier));
    return body;
}

/* Attribute name of a hold document, or NULL. Borrowed. */
static const char *s_attr(json_t *doc, const char *name)
{
    return bx_json_str(json_object_get(json_object_get(doc, "data"), "attributes"), name);
}

/* The body fits the hold: seats for a seated hold, a quantity (of its own tier) for a GA
 * hold. Answers 400 and returns 0 otherwise. */
static int s_items_shape(fd_req_t *req, json_t *body, json_t *doc)
{
    const char *kind = s_attr(doc, "kind"), *tier = bx_json_str(body, "tier_id");
    int ga = kind && !strcmp(kind, "ga"), seats = json_object_get(body, "seats") != NULL;
    if (ga && (seats || !json_object_get(body, "quantity"))) {
        fd_cat_invalid(req, seats ? "/seats" : "/quantity",
                       "a general-admission hold changes by a quantity of its tier");
        return 0;
    }
    if (ga && tier && strcasecmp(tier, s_attr(doc, "tier_id") ? s_attr(doc, "tier_id") : "")) {
        fd_cat_invalid(req, "/tier_id", "a general-admission hold stays one tier");
        return 0;
    }
    if (!ga && (!seats || tier || json_object_get(body, "quantity"))) {
        fd_cat_invalid(req, seats ? "/tier_id" : "/seats", "a seated hold changes by seats");
        return 0;
    }
    return ga || s_seats_unique(req, body);
}

/* Resolves the seats of body to ids of this event (and, when adding, checks their tiers
 * sell now). Answers and returns 0 otherwise. */
static int s_items_seats(fd_req_t *req, s_check_t *c, json_t *ids, int adding)
{
    json_t *v;
    char ptr[32];
    size_t i;
    json_array_foreach(c->seats, i, v)
    {
        if (!bx_json_str(v, "seat_id")) {
            snprintf(ptr, sizeof ptr, "/seats/%zu", i);
            fd_cat_invalid(req, ptr, "no such seat in this event");
            return 0;
        }
        if (adding && !s_tier_open(req, json_object_get(c->tiers, bx_json_str(v, "tier_id"))))
            return 0;
        json_array_append(ids, json_object_get(v, "seat_id"));
    }
    return 1;
}

/* What the frontdoor checks of a cart change, then the job for the hold pool. */
static void s_items_submit(fd_req_t *req, bx_pg_t *pg, const char *event, const char *hold,
                           json_t *body, int adding)
{
    s_check_t c = {0};
    json_t *ids = json_array(), *seats = json_object_get(body, "seats");
    if (!s_check_load(req, pg, event, seats, &c))
        goto out;
    if (adding && strcmp(c.status, "on_sale")) {
        char why[96];
        snprintf(why, sizeof why, "the event is not on sale (it is %s)", c.status);
        fd_reply_problem(req, BX_ECONFLICT, why);
        goto out;
    }
    if (seats ? !s_items_seats(req, &c, ids, adding)
              : adding && !s_tier_open(req, json_object_get(c.tiers, bx_json_str(body, "tier_id"))))
        goto out;
    json_t *p = json_pack("{s:s, s:s, s:s}", "op", adding ? "add" : "remove", "event_id", event,
                          "hold_id", hold);
    if (p && seats)
        json_object_set(p, "seat_ids", ids);
    else if (p)
        json_object_set(p, "quantity", json_object_get(body, "quantity"));
    fd_submit(req, BX_SVC_HOLD, event, p);
out:
    json_decref(ids);
    s_check_free(&c);
}

static void s_items(fd_req_t *req, int adding)
{
    const char *event = fd_cat_id(req, "eventId", "event");
    const char *hold = event ? fd_cat_id(req, "holdId", "hold") : NULL;
    bx_pg_t *pg = hold ? fd_cat_db(req) : NULL;
    json_t *body = pg ? s_items_body(req, adding) : NULL, *doc = NULL;
    char state[16], why[96];
    int booked = 0;
    if (!body || !s_own_hold(req, pg, event, hold, &doc, state, &booked))
        goto out;
    if (strcmp(state, "active")) {
        snprintf(why, sizeof why, "the hold is %s: make a new one", state);
        fd_reply_problem(req, BX_ECONFLICT, why);
    } else if (booked) {
        fd_reply_problem(req, BX_ECONFLICT,
                         "a booking is pending payment on this hold: it cannot change");
    } else if (s_items_shape(req, body, doc) && (!adding || s_admitted(req, event))) {
        if (!json_object_get(body, "seats") && s_attr(doc, "tier_id"))
            json_object_set_new(body, "tier_id", json_string(s_attr(doc, "tier_id")));
        s_items_submit(req, pg, event, hold, body, adding);
    }
out:
    json_decref(doc);
    json_decref(body);
}

static void s_items_add(fd_req_t *req)
{
    s_items(req, 1);
}

static void s_items_remove(fd_req_t *req)
{
    s_items(req, 0);
}

const fd_route_t fd_holds_routes[] = {
    {"POST", "/api/v1/events/{eventId}/inventory/hold", s_hold, FD_AUTH, FD_RL_WRITE,
     s_hold_schema},
    {"GET", "/api/v1/events/{eventId}/inventory/hold/{holdId}", s_get, FD_AUTH, FD_RL_READ, NULL},
    {"DELETE", "/api/v1/events/{eventId}/inventory/hold/{holdId}", s_release, FD_AUTH, FD_RL_WRITE,
     NULL},
    {"POST", "/api/v1/events/{eventId}/inventory/hold/{holdId}/items", s_items_add, FD_AUTH,
     FD_RL_WRITE, s_items_schema},
    {"DELETE", "/api/v1/events/{eventId}/inventory/hold/{holdId}/items", s_items_remove, FD_AUTH,
     FD_RL_WRITE, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};
