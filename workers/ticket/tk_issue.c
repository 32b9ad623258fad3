/* tk_issue: issues a confirmed booking's tickets. The booking row is locked first, so two
 * issue jobs of one booking run one after the other and the second finds
 * tickets_issued_at set; UNIQUE (booking_id, serial) is the last word should that ever
 * not hold. Everything (tickets, tickets_issued_at, the message and the partner event)
 * commits with the job or not at all. */
#include "tk_issue.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bx_dlv.h"
#include "bx_json.h"
#include "bx_log.h"
#include "bx_money.h"
#include "bx_ticket.h"
#include "bx_ticket_keys.h"
#include "bx_util.h"

/* What ticket_booking_lock read. */
typedef struct {
    char id[37];        /* booking id */
    char status[16];    /* booking status */
    char user[37];      /* owner */
    char event[37];     /* event */
    char org[37];       /* organization of the event */
    char hold[37];      /* the hold it was made from */
    char currency[4];   /* ISO 4217 */
    int64_t total;      /* total_minor */
    int issued;         /* tickets_issued_at is set */
    char kind[16];      /* hold kind: seats, ga, best_available */
    char ga_tier[37];   /* GA tier or "" */
    int quantity;       /* tickets to issue */
    char name[256];     /* event name */
    char starts[32];    /* event start, RFC 3339 UTC */
} s_booking_t;

static bx_err_t s_lock(bx_worker_job_t *job, s_booking_t *b)
{
    bx_err_t err;
    const char *p[] = {b->id};
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "ticket_booking_lock", 1, p, &err);
    if (!res)
        return err;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return bx_worker_job_problem(job, BX_ENOTFOUND, "no such booking");
    }
    bx_strlcpy(b->status, bx_pg_val(res, 0, 0), sizeof b->status);
    bx_strlcpy(b->user, bx_pg_val(res, 0, 1), sizeof b->user);
    bx_strlcpy(b->event, bx_pg_val(res, 0, 2), sizeof b->event);
    bx_strlcpy(b->org, bx_pg_val(res, 0, 3), sizeof b->org);
    bx_strlcpy(b->hold, bx_pg_val(res, 0, 4), sizeof b->hold);
    bx_strlcpy(b->currency, bx_pg_val(res, 0, 5), sizeof b->currency);
    b->total = strtoll(bx_pg_val(res, 0, 6), NULL, 10);
    b->issued = !strcmp(bx_pg_val(res, 0, 7), "t");
    bx_strlcpy(b->kind, bx_pg_val(res, 0, 8), sizeof b->kind);
    bx_strlcpy(b->ga_tier, bx_pg_val(res, 0, 9) ? bx_pg_val(res, 0, 9) : "", sizeof b->ga_tier);
    b->quantity = (int)strtol(bx_pg_val(res, 0, 10), NULL, 10); /* CHECK 1..100 */
    bx_strlcpy(b->name, bx_pg_val(res, 0, 11), sizeof b->name);
    bx_strlcpy(b->starts, bx_pg_val(res, 0, 12), sizeof b->starts);
    PQclear(res);
    return BX_OK;
}

/* Signs and inserts ticket `serial` from row r of the units. */
static bx_err_t s_one(bx_worker_job_t *job, const s_booking_t *b, const bx_ticket_key_t *key,
                      const PGresult *units, int r, int64_t now)
{
    bx_ticket_claims_t c = {.serial = r + 1, .issued = now};
    const char *seat = bx_pg_val(units, r, 0);
    char serial[12], issued[24], *payload;
    bx_uuid_v7(c.ticket_id);
    bx_strlcpy(c.event_id, b->event, sizeof c.event_id);
    bx_strlcpy(c.seat, seat ? bx_pg_val(units, r, 1) : "GA", sizeof c.seat);
    if (!(payload = bx_ticket_sign(key, &c)))
        return bx_worker_job_problem(job, BX_EINTERNAL, "could not sign a ticket");
    snprintf(serial, sizeof serial, "%d", c.serial);
    snprintf(issued, sizeof issued, "%" PRId64, now);
    const char *p[] = {c.ticket_id, b->id, b->event, b->user, bx_pg_val(units, r, 2), seat,
                       bx_pg_val(units, r, 1), bx_pg_val(units, r, 3), serial,
                       bx_ticket_key_kid(key), payload, issued};
    bx_err_t err = bx_pg_run(bx_worker_job_pg(job), "ticket_insert", 12, p);
    free(payload);
    return err;
}

/* Inserts every ticket of the booking. */
static bx_err_t s_issue(bx_worker_job_t *job, const s_booking_t *b)
{
    bx_pg_t *pg = bx_worker_job_pg(job);
    bx_ticket_key_t *key = NULL;
    char qty[12];
    bx_err_t err = bx_ticket_keys_signer(pg, &key);
    if (err)
        return err;
    snprintf(qty, sizeof qty, "%d", b->quantity);
    const char *p[] = {b->event, b->hold, b->ga_tier[0] ? b->ga_tier : NULL, qty};
    PGresult *units = bx_pg_query(pg, "ticket_units", 4, p, &err);
    if (units && PQntuples(units) != b->quantity) {
        BX_ERROR("booking %s: %d units for %d tickets", b->id, PQntuples(units), b->quantity);
        err = bx_worker_job_problem(job, BX_EINTERNAL, "the booking's seats do not match it");
    }
    int64_t now = (int64_t)time(NULL);
    for (int r = 0; units && !err && r < PQntuples(units); r++)
        err = s_one(job, b, key, units, r, now);
    PQclear(units);
    bx_ticket_key_destroy(&key);
    if (!err)
        err = bx_pg_run(pg, "ticket_issued", 1, (const char *[]){b->id});
    return err;
}

/* The booking.confirmed data: {booking_id, event, total_display, tickets:[{id,label,code}]}. */
static bx_err_t s_message(bx_worker_job_t *job, const s_booking_t *b, json_t **out)
{
    bx_err_t err;
    char display[64];
    PGresult *res = bx_pg_query(bx_worker_job_pg(job), "ticket_list_brief", 1,
                                (const char *[]){b->id}, &err);
    if (!res)
        return err;
    json_t *tickets = json_array();
    for (int r = 0; r < PQntuples(res); r++)
        json_array_append_new(tickets, json_pack("{s:s, s:s, s:s}", "id", bx_pg_val(res, r, 0),
                                                 "label", bx_pg_val(res, r, 1), "code",
                                                 bx_pg_val(res, r, 2)));
    PQclear(res);
    bx_money_display(b->total, b->currency, display, sizeof display);
    *out = json_pack("{s:s, s:{s:s, s:s, s:s}, s:s, s:o}", "booking_id", b->id, "event", "id",
                     b->event, "name", b->name, "starts_at", b->starts, "total_display",
                     display, "tickets", tickets);
    return *out ? BX_OK : BX_ENOMEM;
}

/* The customer's message and the partner event, ordered with the booking's others. */
static bx_err_t s_notify(bx_worker_job_t *job, const s_booking_t *b)
{
    json_t *data = NULL;
    char order[64];
    bx_err_t err = s_message(job, b, &data);
    snprintf(order, sizeof order, "booking:%s", b->id);
    if (!err)
        err = bx_dlv_notify_user(bx_worker_job_pg(job), "booking.confirmed", b->user, data, order,
                                 bx_worker_job_id(job), NULL);
    if (!err)
        err = bx_dlv_partner_event(bx_worker_job_pg(job), "booking.confirmed", b->org, b->event,
                                   data, order, bx_worker_job_id(job), NULL);
    json_decref(data);
    return err;
}

bx_err_t tk_issue_handle(bx_worker_job_t *job)
{
    json_t *payload = bx_worker_job_payload(job);
    const char *op = bx_json_str(payload, "op"), *id = bx_json_str(payload, "booking_id");
    s_booking_t b = {0};
    if (!op || strcmp(op, "issue"))
        return bx_worker_job_problem(job, BX_EINVAL, "unknown op (the ticket pool does: issue)");
    if (!id || !bx_uuid_valid(id))
        return bx_worker_job_problem(job, BX_EINVAL, "booking_id must be a UUID");
    bx_strlcpy(b.id, id, sizeof b.id);
    bx_err_t err = s_lock(job, &b);
    if (err)
        return err;
    if (strcmp(b.status, "confirmed")) {
        char why[96];
        snprintf(why, sizeof why, "the booking is %s, not confirmed", b.status);
        return bx_worker_job_problem(job, BX_ECONFLICT, why);
    }
    int fresh = !b.issued;
    if (fresh && ((err = s_issue(job, &b)) || (err = s_notify(job, &b))))
        return err;
    bx_worker_job_succeed(job, 200,
                          json_pack("{s:s, s:i, s:b}", "booking_id", b.id, "tickets", b.quantity,
                                    "issued", fresh));
    return BX_OK;
}
