/* dlv_sweep: the sweeper thread of a delivery pool: messages nobody's request causes, only
 * the clock or the inventory. Notify pool: event.reminder 24 hours before an event to each
 * confirmed booking, hold.expiring before an active hold runs out, queue.admitted when the
 * waiting room's gatekeeper admitted a customer, waitlist.offer when the waitlist offered
 * one a hold (the gatekeeper and the waitlist pool stay free of delivery work). Webhook pool: the
 * partner events inventory.low and event.sold_out (checked here, after the hold pool's
 * batches committed, so the hold path pays nothing for them) and queue.opened. Each sweep
 * claims what it sends by inserting its "sent" row and writes the outbox message in the
 * same transaction (sql/queries/delivery_booking.sql), so every message goes out exactly
 * once even with several pool processes sweeping, and a sweep missed while the pool was
 * down is caught up by the next one (a reminder never after the event started). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_log.h"
#include "bx_util.h"
#include "dlv.h"

#define S_BATCH      500 /* messages claimed per transaction */
#define S_ROUNDS_MAX 20  /* transactions per sweep before the others get their turn */

struct dlv_sweeper {
    const dlv_cfg_t *cfg; /* borrowed */
    bx_pg_t *pg;          /* owned by the thread */
    pthread_t thread;
    int started;
};

/* A sweep: one transaction that claims and writes up to S_BATCH messages; sets *n. */
typedef bx_err_t (*s_sweep_fn)(dlv_sweeper_t *s, int *n);

/* Claims rows with query (params p) and writes user message type for each (id, user,
 * data) row, order key "<key_prefix>:<id>". */
static bx_err_t s_user_sweep(dlv_sweeper_t *s, const char *query, int np, const char *const *p,
                             const char *type, const char *key_prefix, int *n)
{
    bx_err_t err = BX_OK;
    PGresult *res = bx_pg_query(s->pg, query, np, p, &err);
    *n = res ? PQntuples(res) : 0;
    for (int r = 0; !err && r < *n; r++) {
        char key[64];
        json_t *data = json_loads(bx_pg_val(res, r, 2), 0, NULL);
        snprintf(key, sizeof key, "%s:%s", key_prefix, bx_pg_val(res, r, 0));
        err = data ? bx_dlv_notify_user(s->pg, type, bx_pg_val(res, r, 1), data, key, NULL, NULL)
                   : BX_ENOMEM;
        json_decref(data);
    }
    PQclear(res);
    return err;
}

static bx_err_t s_reminders(dlv_sweeper_t *s, int *n)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", S_BATCH);
    const char *p[] = {lim};
    return s_user_sweep(s, "dlvb_reminders_claim", 1, p, "event.reminder", "booking", n);
}

static bx_err_t s_hold_notices(dlv_sweeper_t *s, int *n)
{
    char lim[16], notice[16];
    snprintf(lim, sizeof lim, "%d", S_BATCH);
    snprintf(notice, sizeof notice, "%d", s->cfg->notice_s);
    const char *p[] = {notice, lim};
    return s_user_sweep(s, "dlvb_hold_notices_claim", 2, p, "hold.expiring", "hold", n);
}

static bx_err_t s_admissions(dlv_sweeper_t *s, int *n)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", S_BATCH);
    const char *p[] = {lim};
    return s_user_sweep(s, "dlvb_admissions_claim", 1, p, "queue.admitted", "queue", n);
}

static bx_err_t s_offers(dlv_sweeper_t *s, int *n)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", S_BATCH);
    const char *p[] = {lim};
    return s_user_sweep(s, "dlvb_offers_claim", 1, p, "waitlist.offer", "waitlist", n);
}

static bx_err_t s_inventory(dlv_sweeper_t *s, int *n)
{
    char lim[16], pct[16];
    bx_err_t err = BX_OK;
    snprintf(lim, sizeof lim, "%d", S_BATCH);
    snprintf(pct, sizeof pct, "%d", s->cfg->low_pct);
    const char *p[] = {pct, lim};
    PGresult *res = bx_pg_query(s->pg, "dlvb_inventory_marks_claim", 2, p, &err);
    *n = res ? PQntuples(res) : 0;
    for (int r = 0; !err && r < *n; r++) {
        char key[64];
        const char *ev = bx_pg_val(res, r, 0);
        json_t *data =
            json_pack("{s:I, s:I}", "capacity", (json_int_t)strtoll(bx_pg_val(res, r, 2), NULL, 10),
                      "remaining", (json_int_t)strtoll(bx_pg_val(res, r, 3), NULL, 10));
        snprintf(key, sizeof key, "event:%s", ev);
        err = data ? bx_dlv_partner_event(s->pg, bx_pg_val(res, r, 1), NULL, ev, data, key, NULL,
                                          NULL)
                   : BX_ENOMEM;
        json_decref(data);
    }
    PQclear(res);
    return err;
}

static bx_err_t s_queue_opened(dlv_sweeper_t *s, int *n)
{
    char lim[16];
    bx_err_t err = BX_OK;
    snprintf(lim, sizeof lim, "%d", S_BATCH);
    const char *p[] = {lim};
    PGresult *res = bx_pg_query(s->pg, "dlvb_queue_opened_claim", 1, p, &err);
    *n = res ? PQntuples(res) : 0;
    for (int r = 0; !err && r < *n; r++) {
        char key[64];
        const char *ev = bx_pg_val(res, r, 0);
        json_t *data = json_pack("{s:s, s:s}", "prequeue_opens_at", bx_pg_val(res, r, 1),
                                 "sale_starts_at", bx_pg_val(res, r, 2));
        snprintf(key, sizeof key, "event:%s", ev);
        err = data ? bx_dlv_partner_event(s->pg, "queue.opened", NULL, ev, data, key, NULL, NULL)
                   : BX_ENOMEM;
        json_decref(data);
    }
    PQclear(res);
    return err;
}

/* Runs sweep in transactions until it finds less than a batch (or S_ROUNDS_MAX). */
static void s_run(dlv_sweeper_t *s, const char *name, s_sweep_fn sweep)
{
    for (int round = 0; round < S_ROUNDS_MAX && !*s->cfg->stop; round++) {
        int n = 0;
        bx_err_t err = bx_pg_begin(s->pg);
        if (!err)
            err = sweep(s, &n);
        if (!err)
            err = bx_pg_commit(s->pg);
        if (err) {
            BX_WARN("sweep %s failed: %s: %s", name, bx_err_str(err), bx_pg_error(s->pg));
            bx_pg_rollback(s->pg);
            return;
        }
        if (n)
            BX_INFO("sweep %s wrote %d messages", name, n);
        if (n < S_BATCH)
            return;
    }
}

static void *s_thread(void *arg)
{
    dlv_sweeper_t *s = arg;
    int notify = !strcmp(s->cfg->pool, "notify");
    while (!*s->cfg->stop) {
        if (!s->pg)
            s->pg = bx_pg_new(s->cfg->pg_dsn, 1);
        if (s->pg && notify) {
            s_run(s, "event.reminder", s_reminders);
            s_run(s, "hold.expiring", s_hold_notices);
            s_run(s, "queue.admitted", s_admissions);
            s_run(s, "waitlist.offer", s_offers);
        } else if (s->pg) {
            s_run(s, "inventory", s_inventory);
            s_run(s, "queue.opened", s_queue_opened);
        }
        /* sleep in short steps so SIGTERM is honoured quickly */
        for (long slept = 0; slept < s->cfg->sweep_ms && !*s->cfg->stop; slept += 50)
            usleep(50 * 1000);
    }
    bx_pg_destroy(&s->pg);
    return NULL;
}

dlv_sweeper_t *dlv_sweeper_start(const dlv_cfg_t *cfg)
{
    dlv_sweeper_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = cfg;
    s->started = pthread_create(&s->thread, NULL, s_thread, s) == 0;
    if (!s->started) {
        BX_ERROR("could not start the sweeper thread");
        free(s);
        return NULL;
    }
    return s;
}

void dlv_sweeper_join(dlv_sweeper_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_join((*self_p)->thread, NULL);
    free(*self_p);
    *self_p = NULL;
}
