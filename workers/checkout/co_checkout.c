/* co_checkout: the checkout job. Under the event's inventory lock (the lock order of
 * docs/booking.md) it checks the hold (active, the caller's, of this event, not expired,
 * not booked yet: a second checkout of one hold answers the booking it already made),
 * prices it (bx_price: tiers, promo code, service fee, the venue's tax rules), redeems
 * the promo code within its limits, and writes the booking pending payment with the hold
 * kept alive until the payment is due. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_json.h"
#include "bx_log.h"
#include "bx_money.h"
#include "bx_price.h"
#include "bx_util.h"
#include "co.h"

/* What co_hold read. */
typedef struct {
    char user[37], event[37], org[37], state[16], status[16], currency[4];
    int expired;   /* the hold's time is over (the sweep may not have run yet) */
    json_t *lines; /* the hold's price lines (owned) */
    int window_s;  /* payment window, seconds */
} s_hold_t;

/* What the promo code gives, after every check. */
typedef struct {
    char id[37];
    char code[33];
} s_promo_t;

static int64_t s_i64(const char *v)
{
    return v ? strtoll(v, NULL, 10) : 0;
}

/* Runs a named query; on failure returns NULL with *err set. */
static PGresult *s_q(bx_worker_job_t *job, const char *name, int n, const char *const *p,
                     bx_err_t *err)
{
    return bx_pg_query(bx_worker_job_pg(job), name, n, p, err);
}

/* Loads the hold into h and the fee settings into price. Returns BX_OK, BX_ENOTFOUND
 * (no such hold, not the caller's, or another event's) or the database error. */
static bx_err_t s_hold_load(bx_worker_job_t *job, const char *hold, const char *event, s_hold_t *h,
                            bx_price_t *price)
{
    bx_err_t err = BX_OK;
    const char *p[] = {hold};
    PGresult *res = s_q(job, "co_hold", 1, p, &err);
    if (!res)
        return err;
    if (PQntuples(res) != 1 || strcmp(bx_pg_val(res, 0, 0), bx_worker_job_user_id(job)) ||
        strcmp(bx_pg_val(res, 0, 1), event)) {
        PQclear(res);
        return BX_ENOTFOUND;
    }
    bx_strlcpy(h->user, bx_pg_val(res, 0, 0), sizeof h->user);
    bx_strlcpy(h->event, bx_pg_val(res, 0, 1), sizeof h->event);
    bx_strlcpy(h->state, bx_pg_val(res, 0, 2), sizeof h->state);
    h->expired = !strcmp(bx_pg_val(res, 0, 3), "t");
    h->lines = json_loads(bx_pg_val(res, 0, 4), 0, NULL);
    bx_strlcpy(h->status, bx_pg_val(res, 0, 6), sizeof h->status);
    bx_strlcpy(h->org, bx_pg_val(res, 0, 7), sizeof h->org);
    bx_strlcpy(h->currency, bx_pg_val(res, 0, 8), sizeof h->currency);
    price->service_fee_bp = s_i64(bx_pg_val(res, 0, 11));
    price->service_fee_minor = s_i64(bx_pg_val(res, 0, 12));
    h->window_s = (int)s_i64(bx_pg_val(res, 0, 13));
    PQclear(res);
    return h->lines ? BX_OK : BX_EINTERNAL;
}

/* The hold's lines into price. */
static bx_err_t s_lines(const s_hold_t *h, bx_price_t *price)
{
    json_t *v;
    size_t i;
    if (!json_is_array(h->lines) || json_array_size(h->lines) < 1 ||
        json_array_size(h->lines) > BX_PRICE_LINES_MAX)
        return BX_EINTERNAL;
    json_array_foreach(h->lines, i, v)
    {
        bx_price_line_t *l = &price->lines[price->nlines++];
        const char *tier = bx_json_str(v, "tier_id"), *name = bx_json_str(v, "name");
        bx_strlcpy(l->tier_id, tier ? tier : "", sizeof l->tier_id);
        bx_strlcpy(l->name, name ? name : "", sizeof l->name);
        l->unit_price_minor = json_integer_value(json_object_get(v, "unit_price_minor"));
        l->quantity = (int)json_integer_value(json_object_get(v, "quantity"));
    }
    price->exponent = bx_money_exponent(h->currency);
    return BX_OK;
}

/* The venue's tax rules for this event into price. */
static bx_err_t s_rules(bx_worker_job_t *job, const char *event, bx_price_t *price)
{
    bx_err_t err = BX_OK;
    const char *p[] = {event};
    PGresult *res = s_q(job, "co_tax_rules", 1, p, &err);
    if (!res)
        return err;
    if (PQntuples(res) > BX_PRICE_RULES_MAX) {
        PQclear(res);
        BX_ERROR("event %s: more than %d tax rules apply", event, BX_PRICE_RULES_MAX);
        return BX_EINTERNAL;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        bx_price_rule_t *x = &price->rules[price->nrules++];
        bx_strlcpy(x->name, bx_pg_val(res, r, 0), sizeof x->name);
        x->rate_ppm = s_i64(bx_pg_val(res, r, 1));
        x->inclusive = !strcmp(bx_pg_val(res, r, 2), "t");
        x->on_fee = !strcmp(bx_pg_val(res, r, 3), "t");
        x->band_min_minor = s_i64(bx_pg_val(res, r, 4));
        x->band_max_minor = s_i64(bx_pg_val(res, r, 5));
    }
    PQclear(res);
    return BX_OK;
}

/* Checks the code against this event and quantity, sets the promo inputs of price. The
 * uses are taken later (s_promo_take); *per_user receives the code's per-customer limit
 * (0: none). Returns BX_OK or sets the problem. */
static bx_err_t s_promo_check(bx_worker_job_t *job, const s_hold_t *h, const char *code,
                              int quantity, bx_price_t *price, s_promo_t *out, long *per_user)
{
    bx_err_t err = BX_OK;
    char why[160];
    const char *p[] = {h->org, code, h->event};
    PGresult *res = s_q(job, "co_promo", 3, p, &err);
    if (!res)
        return err;
    if (PQntuples(res) != 1 || strcmp(bx_pg_val(res, 0, 4), "t")) {
        PQclear(res);
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE,
                                     "the promo code is not valid for this event");
    }
    int fixed = !strcmp(bx_pg_val(res, 0, 1), "fixed");
    int min = (int)s_i64(bx_pg_val(res, 0, 6));
    const char *cur = bx_pg_val(res, 0, 3);
    if (strcmp(bx_pg_val(res, 0, 5), "t"))
        snprintf(why, sizeof why, "the promo code is not valid at this time");
    else if (quantity < min)
        snprintf(why, sizeof why, "the promo code needs at least %d tickets in the order", min);
    else if (fixed && (!cur || strcmp(cur, h->currency)))
        snprintf(why, sizeof why, "the promo code is in %s, this event sells in %s",
                 cur ? cur : "another currency", h->currency);
    else
        why[0] = '\0';
    if (!why[0]) {
        bx_strlcpy(out->id, bx_pg_val(res, 0, 0), sizeof out->id);
        bx_strlcpy(out->code, bx_pg_val(res, 0, 8), sizeof out->code);
        price->promo_kind = fixed ? BX_PROMO_FIXED : BX_PROMO_PERCENT;
        price->promo_value = s_i64(bx_pg_val(res, 0, 2));
        price->promo_min_quantity = min;
    }
    *per_user = bx_pg_val(res, 0, 7) ? (long)s_i64(bx_pg_val(res, 0, 7)) : 0;
    PQclear(res);
    return why[0] ? bx_worker_job_problem(job, BX_ECONFLICT, why) : BX_OK;
}

/* Takes one use of the code (409 when none is left), then checks this user's uses
 * against per_user (0: no limit). The job's rollback gives the use back on failure. */
static bx_err_t s_promo_take(bx_worker_job_t *job, const s_promo_t *promo, long per_user)
{
    bx_err_t err = BX_OK;
    char why[128];
    const char *p[] = {promo->id};
    PGresult *res = s_q(job, "co_promo_take", 1, p, &err);
    if (!res)
        return err;
    int took = PQntuples(res) == 1;
    PQclear(res);
    if (!took)
        return bx_worker_job_problem(job, BX_ECONFLICT, "the promo code has been used up");
    if (per_user <= 0)
        return BX_OK;
    const char *q[] = {promo->id, bx_worker_job_user_id(job)};
    res = s_q(job, "co_promo_user_uses", 2, q, &err);
    if (!res)
        return err;
    long used = (long)s_i64(bx_pg_val(res, 0, 0));
    PQclear(res);
    if (used < per_user)
        return BX_OK;
    snprintf(why, sizeof why, "the promo code can be used %ld time%s per customer", per_user,
             per_user == 1 ? "" : "s");
    return bx_worker_job_problem(job, BX_ECONFLICT, why);
}

/* The hold's existing booking, if any: answers it to its owner (200; 201 when this very
 * job made it) and sets *done. Another user's booking is 404. */
static bx_err_t s_existing(bx_worker_job_t *job, const char *hold, int *done)
{
    bx_err_t err = BX_OK;
    const char *p[] = {hold};
    PGresult *res = s_q(job, "co_booking_of_hold", 1, p, &err);
    *done = 0;
    if (!res)
        return err;
    if (PQntuples(res) == 1) {
        *done = 1;
        if (strcmp(bx_pg_val(res, 0, 1), bx_worker_job_user_id(job)))
            err = bx_worker_job_problem(job, BX_ENOTFOUND, "no such hold");
        else
            bx_worker_job_succeed(job,
                                  strcmp(bx_pg_val(res, 0, 0), bx_worker_job_id(job)) ? 200 : 201,
                                  json_loads(bx_pg_val(res, 0, 2), 0, NULL));
    }
    PQclear(res);
    return err;
}

/* Writes the booking and answers it. */
static bx_err_t s_insert(bx_worker_job_t *job, const char *hold, const s_hold_t *h,
                         const bx_price_t *pr, const s_promo_t *promo, const char *locale)
{
    bx_err_t err = BX_OK;
    char n[8][24];
    json_t *lines = bx_price_lines_json(pr), *taxes = bx_price_taxes_json(pr);
    char *lt = lines ? bx_json_dump(lines) : NULL, *tt = taxes ? bx_json_dump(taxes) : NULL;
    json_decref(lines);
    json_decref(taxes);
    snprintf(n[0], sizeof n[0], "%d", pr->quantity);
    snprintf(n[1], sizeof n[1], "%lld", (long long)pr->subtotal_minor);
    snprintf(n[2], sizeof n[2], "%lld", (long long)pr->discount_minor);
    snprintf(n[3], sizeof n[3], "%lld", (long long)pr->fee_minor);
    snprintf(n[4], sizeof n[4], "%lld", (long long)pr->tax_minor);
    snprintf(n[5], sizeof n[5], "%lld", (long long)pr->total_minor);
    snprintf(n[6], sizeof n[6], "%d", h->window_s);
    const char *p[] = {bx_worker_job_id(job),
                       h->user,
                       h->event,
                       h->org,
                       hold,
                       n[0],
                       h->currency,
                       n[1],
                       n[2],
                       n[3],
                       n[4],
                       n[5],
                       lt,
                       tt,
                       promo->id[0] ? promo->id : NULL,
                       promo->id[0] ? promo->code : NULL,
                       locale,
                       n[6]};
    PGresult *res = lt && tt ? s_q(job, "co_booking_insert", 18, p, &err) : NULL;
    if (!lt || !tt)
        err = BX_ENOMEM;
    free(lt);
    free(tt);
    if (!res || (err = co_succeed_doc(job, 201, res)))
        return err;
    BX_INFO("booking %s of hold %s: total %lld %s", bx_worker_job_id(job), hold,
            (long long)pr->total_minor, h->currency);
    return BX_OK;
}

bx_err_t co_succeed_doc(bx_worker_job_t *job, int status, PGresult *res)
{
    json_t *doc = PQntuples(res) == 1 ? json_loads(bx_pg_val(res, 0, 0), 0, NULL) : NULL;
    PQclear(res);
    if (!doc)
        return BX_EINTERNAL;
    bx_worker_job_succeed(job, status, doc);
    return BX_OK;
}

/* The hold may become a booking now. Returns BX_OK or sets the problem. */
static bx_err_t s_hold_ok(bx_worker_job_t *job, const s_hold_t *h)
{
    char why[96];
    if (strcmp(h->state, "active")) {
        snprintf(why, sizeof why, "the hold is %s: hold the seats again", h->state);
        return bx_worker_job_problem(job, BX_ECONFLICT, why);
    }
    if (h->expired)
        return bx_worker_job_problem(job, BX_ECONFLICT,
                                     "the hold has expired: hold the seats again");
    if (strcmp(h->status, "on_sale")) {
        snprintf(why, sizeof why, "the event is not on sale (it is %s)", h->status);
        return bx_worker_job_problem(job, BX_ECONFLICT, why);
    }
    return BX_OK;
}

static bx_err_t s_checkout(bx_worker_job_t *job, json_t *payload, bx_price_t *price)
{
    const char *hold = bx_json_str(payload, "hold_id"), *event = bx_json_str(payload, "event_id");
    const char *code = bx_json_str(payload, "promo_code"), *locale = bx_json_str(payload, "locale");
    s_hold_t h = {0};
    s_promo_t promo = {{0}, {0}};
    int done = 0;
    if (!hold || !event || !bx_uuid_valid(hold) || !bx_uuid_valid(event))
        return bx_worker_job_problem(job, BX_EINVAL, "hold_id and event_id must be UUIDs");
    const char *p[] = {event};
    bx_err_t err = bx_pg_run(bx_worker_job_pg(job), "co_lock_event", 1, p);
    if (!err)
        err = s_existing(job, hold, &done);
    if (err || done)
        return err;
    err = s_hold_load(job, hold, event, &h, price);
    if (err == BX_ENOTFOUND)
        err = bx_worker_job_problem(job, BX_ENOTFOUND, "no such hold");
    if (!err)
        err = s_hold_ok(job, &h);
    if (!err)
        err = s_lines(&h, price);
    if (!err)
        err = s_rules(job, event, price);
    long per_user = 0;
    int quantity = 0;
    for (int i = 0; i < price->nlines; i++)
        quantity += price->lines[i].quantity;
    if (!err && code)
        err = s_promo_check(job, &h, code, quantity, price, &promo, &per_user);
    if (!err && bx_price_compute(price) != BX_OK)
        err = bx_worker_job_problem(job, BX_EINTERNAL, "the hold's prices are out of bounds");
    if (!err && promo.id[0])
        err = s_promo_take(job, &promo, per_user);
    if (!err)
        err = s_insert(job, hold, &h, price, &promo, locale ? locale : "en");
    json_decref(h.lines);
    return err;
}

bx_err_t co_checkout(bx_worker_job_t *job, json_t *payload)
{
    bx_price_t *price = calloc(1, sizeof *price);
    if (!price)
        return BX_ENOMEM;
    bx_err_t err = s_checkout(job, payload, price);
    free(price);
    return err;
}
