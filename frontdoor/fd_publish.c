/* fd_publish: publishing a draft event materializes its inventory in one transaction:
 * one event_seats row per seat of its layout version (with the seat's tier: the seat's
 * own mapping, else its section's) and one event_ga row per general-admission tier,
 * then an event.published outbox row for the index worker. Cancelling blocks the seats
 * still available so nothing more is sold; refunds of what was sold belong to the
 * booking pipeline. */
#include "fd_publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_catalog.h"
#include "fd_doc_cache.h"
#include "fd_events.h"

/* The publication rules: tiers exist, every seat is priced, GA areas are not oversold. */
static bx_err_t s_check(bx_pg_t *pg, const char *event_id, char *why, size_t cap)
{
    bx_err_t err;
    const char *p[] = {event_id};
    PGresult *res = bx_pg_query(pg, "cat_pub_check", 1, p, &err);
    if (!res)
        return err;
    if (!strcmp(bx_pg_val(res, 0, 0), "0")) {
        snprintf(why, cap, "an event needs at least one ticket tier before it is published");
        err = BX_EUNPROCESSABLE;
    } else if (strcmp(bx_pg_val(res, 0, 1), "0")) {
        snprintf(why, cap, "%s seats have no price tier (sections %.200s): map them to a tier",
                 bx_pg_val(res, 0, 1), bx_pg_val(res, 0, 2));
        err = BX_EUNPROCESSABLE;
    } else if (bx_pg_val(res, 0, 3)) {
        snprintf(why, cap, "the tiers of general-admission area %.200s sell more than its capacity",
                 bx_pg_val(res, 0, 3));
        err = BX_EUNPROCESSABLE;
    }
    PQclear(res);
    return err;
}

/* Runs a counting statement and reads its single number into *n. */
static bx_err_t s_count(bx_pg_t *pg, const char *name, const char *event_id, long *n)
{
    bx_err_t err;
    const char *p[] = {event_id};
    PGresult *res = bx_pg_query(pg, name, 1, p, &err);
    if (res)
        *n = strtol(bx_pg_val(res, 0, 0), NULL, 10);
    PQclear(res);
    return err;
}

bx_err_t fd_publish_materialize(bx_pg_t *pg, const char *event_id, long *seats, long *ga, char *why,
                                size_t cap)
{
    const char *p[] = {event_id};
    bx_err_t err = s_check(pg, event_id, why, cap);
    if (!err)
        err = s_count(pg, "cat_pub_seats", event_id, seats);
    if (!err)
        err = s_count(pg, "cat_pub_ga", event_id, ga);
    if (!err)
        err = bx_pg_run(pg, "cat_pub_mark", 1, p);
    return err;
}

/* The event has not started yet. Answers 422 otherwise. */
static int s_future(fd_req_t *req, bx_pg_t *pg, const char *id)
{
    bx_err_t err;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, "cat_event_started", 1, p, &err);
    int started = res && !strcmp(bx_pg_val(res, 0, 0), "t");
    PQclear(res);
    if (!res || started)
        fd_cat_fail(req, pg, res ? BX_EUNPROCESSABLE : err,
                    res ? "the event has already started" : NULL);
    return res && !started;
}

static void s_publish(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "eventId", "event");
    char why[320] = "";
    long seats = 0, ga = 0;
    fd_event_row_t row;
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (!pg)
        return;
    bx_err_t err = bx_pg_begin(pg);
    if (err || !fd_events_lock(req, pg, id, &row))
        goto out;
    if (strcmp(row.status, "draft")) {
        snprintf(why, sizeof why, "the event is already %s", row.status);
        err = BX_ECONFLICT;
        goto out;
    }
    if (!s_future(req, pg, id))
        goto out;
    if (!(err = fd_publish_materialize(pg, id, &seats, &ga, why, sizeof why)) &&
        !(err = fd_cat_outbox(req, pg, "event.published", id, "published")))
        err = bx_pg_commit(pg);
    if (!err) {
        fd_doc_cache_touch(req, FD_DOC_EVENT, id);
        fd_audit(
            req, "event.publish", "event", id,
            json_pack("{s:I, s:I}", "seats", (json_int_t)seats, "ga_capacity", (json_int_t)ga));
        fd_events_reply(req, pg, id, 200,
                        json_pack("{s:{s:I, s:I}}", "inventory", "seats", (json_int_t)seats,
                                  "ga_capacity", (json_int_t)ga));
    }
out:
    if (err)
        fd_cat_fail(req, pg, err, why[0] ? why : NULL);
}

static void s_cancel(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "eventId", "event");
    char why[96] = "";
    fd_event_row_t row;
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (!pg)
        return;
    bx_err_t err = bx_pg_begin(pg);
    if (err || !fd_events_lock(req, pg, id, &row))
        goto out;
    if (!strcmp(row.status, "completed") || !strcmp(row.status, "cancelled")) {
        snprintf(why, sizeof why, "the event is already %s", row.status);
        err = BX_ECONFLICT;
        goto out;
    }
    const char *p[] = {id};
    const char *job[] = {id, fd_req_id(req)}; /* checkout cancel_event: every booking refunded */
    if (!(err = bx_pg_run(pg, "cat_event_cancel", 1, p)) &&
        !(err = bx_pg_run(pg, "cat_event_block_seats", 1, p)) &&
        !(err = bx_pg_run(pg, "co_event_cancel_outbox", 2, job)) &&
        !(err = fd_cat_outbox(req, pg, "event.updated", id, "cancelled")))
        err = bx_pg_commit(pg);
    if (!err) {
        fd_doc_cache_touch(req, FD_DOC_EVENT, id);
        fd_audit(req, "event.cancel", "event", id, NULL);
        fd_events_reply(req, pg, id, 200, NULL);
    }
out:
    if (err)
        fd_cat_fail(req, pg, err, why[0] ? why : NULL);
}

const fd_route_t fd_publish_routes[] = {
    {"POST", "/api/v1/events/{eventId}/publish", s_publish, FD_PARTNER, FD_RL_WRITE, NULL},
    {"POST", "/api/v1/events/{eventId}/cancel", s_cancel, FD_PARTNER, FD_RL_WRITE, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};
