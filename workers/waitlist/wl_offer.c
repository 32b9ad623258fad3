/* wl_offer: offers released inventory to the waitlist in order, and settles offers that
 * are over (see wl_offer.h). Writers of an event's inventory lock its event_inventory row
 * first (hold_lock_events), as the hold worker does, so offers never deadlock with holds,
 * and the holds' own conditional statements (hold_take_seats, hold_take_ga, hold_release)
 * keep the database the arbiter of every seat. */
#include "wl_offer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_invfeed.h"
#include "bx_json.h"
#include "bx_log.h"
#include "bx_util.h"

#define S_MAX_SEATS 1000 /* released seats one job handles */
#define S_MAX_GA    32   /* released GA lines one job handles */
#define S_PAGE      50   /* waiting entries read at once */

typedef struct {
    char seat_id[37]; /* the seat */
    char tier_id[37]; /* its tier */
    int taken;        /* offered in this job */
} s_seat_t;

typedef struct {
    char tier_id[37]; /* GA tier */
    long qty;         /* units still to offer */
} s_ga_t;

/* What a job has to offer, and what it touched (for the live feed). */
typedef struct {
    char event_id[37];
    s_seat_t seats[S_MAX_SEATS];
    int nseats;
    s_ga_t ga[S_MAX_GA];
    int nga;
    json_t *touched_seats; /* seat ids whose state changed */
    json_t *touched_tiers; /* GA tier ids whose counts changed */
    json_t *offers;        /* [{entry_id, hold_id, quantity}] */
    json_t *settled;       /* [{entry_id, state}] */
    int max_per_user;      /* the event's per-user ticket limit */
    int ttl_s;             /* offer lifetime */
} s_job_t;

/* Per executor: a Redis handle for the feed and the changes waiting for the commit. */
typedef struct {
    bx_redis_t *redis; /* owned */
    json_t *pending;   /* [{"event_id", "change"}] */
} s_state_t;

void *wl_offer_thread_init(void *arg)
{
    (void)arg;
    s_state_t *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->redis = bx_redis_new(bx_config_str("redis_host"), (int)bx_config_int("redis_port"),
                             (int)bx_config_int("redis_timeout_ms"));
    st->pending = json_array();
    return st;
}

void wl_offer_thread_fini(void *state)
{
    s_state_t *st = state;
    if (!st)
        return;
    bx_redis_destroy(&st->redis);
    json_decref(st->pending);
    free(st);
}

/* ---- what the job offers ---- */

static void s_add_seat(s_job_t *j, const char *seat, const char *tier)
{
    if (j->nseats == S_MAX_SEATS || !seat || !bx_uuid_valid(seat))
        return;
    bx_strlcpy(j->seats[j->nseats].seat_id, seat, 37);
    bx_strlcpy(j->seats[j->nseats].tier_id, tier ? tier : "", 37);
    j->seats[j->nseats++].taken = 0;
}

static void s_add_ga(s_job_t *j, const char *tier, long qty)
{
    if (j->nga == S_MAX_GA || !tier || !bx_uuid_valid(tier) || qty <= 0)
        return;
    for (int i = 0; i < j->nga; i++)
        if (!strcmp(j->ga[i].tier_id, tier)) {
            j->ga[i].qty += qty;
            return;
        }
    bx_strlcpy(j->ga[j->nga].tier_id, tier, 37);
    j->ga[j->nga++].qty = qty;
}

/* Reads seats and GA lines of an inventory.released payload (or of hold_release). */
static void s_units_from(s_job_t *j, json_t *seats, json_t *ga)
{
    size_t i;
    json_t *v;
    json_array_foreach(seats, i, v)
    {
        const char *id = json_is_string(v) ? json_string_value(v) : bx_json_str(v, "seat_id");
        s_add_seat(j, id, json_is_object(v) ? bx_json_str(v, "tier_id") : NULL);
    }
    json_array_foreach(ga, i, v) s_add_ga(j, bx_json_str(v, "tier_id"),
                                          (long)json_integer_value(json_object_get(v, "quantity")));
}

/* Keeps the seats that are still available (with their tiers, in label order). */
static bx_err_t s_free_seats(bx_pg_t *pg, s_job_t *j)
{
    char list[S_MAX_SEATS * 37 + 3];
    size_t len = bx_strlcpy(list, "{", sizeof list);
    bx_err_t err;
    if (j->nseats == 0)
        return BX_OK;
    for (int i = 0; i < j->nseats; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? "," : "",
                                j->seats[i].seat_id);
    bx_strlcpy(list + len, "}", sizeof list - len);
    const char *p[] = {j->event_id, list};
    PGresult *res = bx_pg_query(pg, "wl_seats_free", 2, p, &err);
    if (!res)
        return err;
    j->nseats = 0;
    for (int r = 0; r < PQntuples(res); r++)
        s_add_seat(j, bx_pg_val(res, r, 0), bx_pg_val(res, r, 1));
    PQclear(res);
    return BX_OK;
}

/* Caps each GA line at what its tier really has left. */
static bx_err_t s_free_ga(bx_pg_t *pg, s_job_t *j)
{
    for (int i = 0; i < j->nga; i++) {
        bx_err_t err;
        const char *p[] = {j->event_id, j->ga[i].tier_id};
        PGresult *res = bx_pg_query(pg, "wl_ga_left", 2, p, &err);
        if (!res)
            return err;
        long left = PQntuples(res) == 1 ? strtol(bx_pg_val(res, 0, 0), NULL, 10) : 0;
        PQclear(res);
        if (j->ga[i].qty > left)
            j->ga[i].qty = left;
    }
    return BX_OK;
}

/* ---- making one offer ---- */

/* Tickets the user may still take within the event's per-user limit. */
static long s_room_for(bx_pg_t *pg, const s_job_t *j, const char *user, bx_err_t *err)
{
    const char *p[] = {j->event_id, user};
    PGresult *res = bx_pg_query(pg, "wl_user_tickets", 2, p, err);
    if (!res)
        return -1;
    long have = strtol(bx_pg_val(res, 0, 0), NULL, 10);
    PQclear(res);
    return j->max_per_user - have;
}

/* Holds k of the job's matching seats for user under hold id; 0 when none match. */
static bx_err_t s_take_seats(bx_pg_t *pg, s_job_t *j, const char *user, const char *tier, long k,
                             const char *hold, long *taken)
{
    char list[S_MAX_SEATS * 37 + 3], ttl[16], lim[16];
    size_t len = bx_strlcpy(list, "{", sizeof list);
    int pick[S_MAX_SEATS], n = 0;
    bx_err_t err;
    for (int i = 0; i < j->nseats && n < k; i++)
        if (!j->seats[i].taken && (!tier || !strcmp(tier, j->seats[i].tier_id))) {
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", n ? "," : "",
                                    j->seats[i].seat_id);
            pick[n++] = i;
        }
    *taken = 0;
    if (n == 0)
        return BX_OK;
    bx_strlcpy(list + len, "}", sizeof list - len);
    snprintf(ttl, sizeof ttl, "%d", j->ttl_s);
    snprintf(lim, sizeof lim, "%d", j->max_per_user);
    const char *p[] = {hold, j->event_id, user, list, "seats", ttl, lim};
    PGresult *res = bx_pg_query(pg, "hold_take_seats", 7, p, &err);
    if (!res)
        return err;
    long got = strtol(bx_pg_val(res, 0, 1), NULL, 10);
    PQclear(res);
    if (got != n)
        return BX_ERETRY; /* the event is locked: only a concurrent writer explains it */
    for (int i = 0; i < n; i++) {
        j->seats[pick[i]].taken = 1;
        json_array_append_new(j->touched_seats, json_string(j->seats[pick[i]].seat_id));
    }
    *taken = n;
    return BX_OK;
}

/* Holds up to k units of a matching GA line for user; 0 when none match. */
static bx_err_t s_take_ga(bx_pg_t *pg, s_job_t *j, const char *user, const char *tier, long k,
                          const char *hold, long *taken)
{
    char qty[24], ttl[16], lim[16];
    bx_err_t err;
    *taken = 0;
    for (int i = 0; i < j->nga; i++) {
        s_ga_t *g = &j->ga[i];
        if (g->qty <= 0 || (tier && strcmp(tier, g->tier_id)))
            continue;
        long n = k < g->qty ? k : g->qty;
        snprintf(qty, sizeof qty, "%ld", n);
        snprintf(ttl, sizeof ttl, "%d", j->ttl_s);
        snprintf(lim, sizeof lim, "%d", j->max_per_user);
        const char *p[] = {hold, j->event_id, user, g->tier_id, qty, ttl, lim};
        PGresult *res = bx_pg_query(pg, "hold_take_ga", 7, p, &err);
        if (!res)
            return err;
        int made = bx_pg_val(res, 0, 2) != NULL;
        PQclear(res);
        if (!made)
            return BX_ERETRY;
        g->qty -= n;
        json_array_append_new(j->touched_tiers, json_string(g->tier_id));
        *taken = n;
        return BX_OK;
    }
    return BX_OK;
}

/* Offers one waiting entry (row r of wl_next) what matches it. */
static bx_err_t s_offer_one(bx_pg_t *pg, s_job_t *j, const PGresult *res, int r)
{
    char hold[37], qty[24];
    const char *entry = bx_pg_val(res, r, 0), *user = bx_pg_val(res, r, 1);
    const char *tier = bx_pg_val(res, r, 2);
    long want = strtol(bx_pg_val(res, r, 3), NULL, 10), taken = 0;
    bx_err_t err = BX_OK;
    long room = s_room_for(pg, j, user, &err);
    if (room < 0 && err)
        return err;
    long k = want < room ? want : room;
    if (k <= 0)
        return BX_OK; /* at the ticket limit: stays waiting */
    bx_uuid_v7(hold);
    err = s_take_seats(pg, j, user, tier, k, hold, &taken);
    if (!err && taken == 0)
        err = s_take_ga(pg, j, user, tier, k, hold, &taken);
    if (err || taken == 0)
        return err;
    snprintf(qty, sizeof qty, "%ld", taken);
    const char *p[] = {entry, hold, qty};
    err = bx_pg_run(pg, "wl_offer", 3, p);
    if (!err)
        json_array_append_new(j->offers, json_pack("{s:s, s:s, s:i}", "entry_id", entry, "hold_id",
                                                   hold, "quantity", (int)taken));
    return err;
}

static int s_units_left(const s_job_t *j)
{
    for (int i = 0; i < j->nseats; i++)
        if (!j->seats[i].taken)
            return 1;
    for (int i = 0; i < j->nga; i++)
        if (j->ga[i].qty > 0)
            return 1;
    return 0;
}

/* Walks the waiting entries in order until the units are gone or nobody is left. */
static bx_err_t s_offer_all(bx_pg_t *pg, s_job_t *j)
{
    char after[24] = "0", page[8];
    snprintf(page, sizeof page, "%d", S_PAGE);
    while (s_units_left(j)) {
        bx_err_t err;
        const char *p[] = {j->event_id, page, after};
        PGresult *res = bx_pg_query(pg, "wl_next", 3, p, &err);
        if (!res)
            return err;
        int n = PQntuples(res);
        for (int r = 0; r < n && !err && s_units_left(j); r++)
            err = s_offer_one(pg, j, res, r);
        if (n > 0)
            bx_strlcpy(after, bx_pg_val(res, n - 1, 4), sizeof after);
        PQclear(res);
        if (err)
            return err;
        if (n < S_PAGE)
            break;
    }
    return BX_OK;
}

/* ---- settling offers that are over ---- */

/* Releases an expired offer's hold and adds what it held to the job's units. */
static bx_err_t s_release(bx_pg_t *pg, s_job_t *j, const char *hold)
{
    bx_err_t err;
    const char *p[] = {hold, j->event_id, "expired", "", "f"};
    PGresult *res = bx_pg_query(pg, "hold_release", 5, p, &err);
    if (!res)
        return err;
    json_t *seats = json_loads(bx_pg_val(res, 0, 1), 0, NULL);
    json_t *ga = json_loads(bx_pg_val(res, 0, 2), 0, NULL);
    PQclear(res);
    s_units_from(j, seats, ga);
    size_t i;
    json_t *v;
    json_array_foreach(seats, i, v)
        json_array_append(j->touched_seats, json_object_get(v, "seat_id"));
    json_array_foreach(ga, i, v) json_array_append(j->touched_tiers, json_object_get(v, "tier_id"));
    json_decref(seats);
    json_decref(ga);
    return BX_OK;
}

static bx_err_t s_lapse(bx_pg_t *pg, s_job_t *j)
{
    bx_err_t err;
    const char *p[] = {j->event_id};
    PGresult *res = bx_pg_query(pg, "wl_due_offers", 1, p, &err);
    if (!res)
        return err;
    for (int r = 0; r < PQntuples(res) && !err; r++) {
        const char *entry = bx_pg_val(res, r, 0), *hold = bx_pg_val(res, r, 1);
        const char *hstate = bx_pg_val(res, r, 2);
        const char *state = !strcmp(hstate, "converted") ? "accepted" : "lapsed";
        if (!strcmp(hstate, "active"))
            err = s_release(pg, j, hold);
        const char *u[] = {entry, state};
        if (!err)
            err = bx_pg_run(pg, "wl_settle", 2, u);
        if (!err)
            json_array_append_new(j->settled,
                                  json_pack("{s:s, s:s}", "entry_id", entry, "state", state));
    }
    PQclear(res);
    return err;
}

/* ---- the job ---- */

/* Locks the event's inventory row (as every inventory writer does first) and reads its
 * per-user limit and the offer lifetime. 0 rows: no inventory, nothing to offer. */
static bx_err_t s_lock(bx_pg_t *pg, s_job_t *j, int *found)
{
    char arr[48], def[16];
    bx_err_t err;
    snprintf(arr, sizeof arr, "{%s}", j->event_id);
    const char *p[] = {arr};
    PGresult *res = bx_pg_query(pg, "hold_lock_events", 1, p, &err);
    if (!res)
        return err;
    *found = PQntuples(res) == 1 && strcmp(bx_pg_val(res, 0, 5), "cancelled");
    j->max_per_user = *found ? (int)strtol(bx_pg_val(res, 0, 3), NULL, 10) : 0;
    PQclear(res);
    snprintf(def, sizeof def, "%ld", bx_config_int("waitlist_offer_ttl_s"));
    const char *q[] = {j->event_id, def};
    res = bx_pg_query(pg, "wl_offer_ttl", 2, q, &err);
    if (!res)
        return err;
    j->ttl_s = (int)strtol(bx_pg_val(res, 0, 0), NULL, 10);
    PQclear(res);
    return BX_OK;
}

/* Writes the string items of arr as a PostgreSQL uuid[] literal "{a,b}" into out. */
static void s_uuid_list(json_t *arr, char *out, size_t cap)
{
    size_t len = bx_strlcpy(out, "{", cap), i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *id = json_string_value(v);
        if (id && bx_uuid_valid(id) && len + 40 < cap)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", len > 1 ? "," : "", id);
    }
    bx_strlcpy(out + len, "}", cap - len);
}

/* The live-feed change of the job (read inside its transaction), queued for the commit. */
static bx_err_t s_feed(bx_worker_job_t *job, s_job_t *j)
{
    char sl[S_MAX_SEATS * 2 * 40 + 3];
    char tl[S_MAX_GA * 2 * 40 + 3];
    s_state_t *st = bx_worker_job_state(job);
    bx_err_t err = BX_OK;
    if (!st || (json_array_size(j->touched_seats) == 0 && json_array_size(j->touched_tiers) == 0))
        return BX_OK;
    s_uuid_list(j->touched_seats, sl, sizeof sl);
    s_uuid_list(j->touched_tiers, tl, sizeof tl);
    const char *p1[] = {j->event_id, sl}, *p2[] = {j->event_id, tl};
    PGresult *r1 = bx_pg_query(bx_worker_job_pg(job), "wl_seat_states", 2, p1, &err);
    PGresult *r2 = r1 ? bx_pg_query(bx_worker_job_pg(job), "wl_ga_counts", 2, p2, &err) : NULL;
    if (r1 && r2) {
        json_t *change = json_pack("{s:s, s:o, s:o}", "cause", "waitlist", "seats",
                                   json_loads(bx_pg_val(r1, 0, 0), 0, NULL), "tiers",
                                   json_loads(bx_pg_val(r2, 0, 0), 0, NULL));
        json_array_append_new(st->pending,
                              json_pack("{s:s, s:o}", "event_id", j->event_id, "change", change));
    }
    PQclear(r1);
    PQclear(r2);
    return err;
}

static bx_err_t s_run(bx_worker_job_t *job, s_job_t *j)
{
    json_t *payload = bx_worker_job_payload(job);
    bx_pg_t *pg = bx_worker_job_pg(job);
    int found = 0,
        lapse = !strcmp(bx_worker_job_topic(job), "waitlist.lapse") ||
                !strcmp(bx_json_str(payload, "op") ? bx_json_str(payload, "op") : "", "lapse");
    bx_err_t err = s_lock(pg, j, &found);
    if (err || !found)
        return err;
    if (lapse) {
        err = s_lapse(pg, j);
    } else {
        json_t *ga = json_object_get(payload, "ga"), *seats = json_object_get(payload, "seats");
        s_units_from(j, seats ? seats : json_object_get(payload, "seat_ids"),
                     json_is_array(ga) ? ga : NULL);
        if (bx_json_str(payload, "tier_id") &&
            json_is_integer(json_object_get(payload, "quantity")))
            s_add_ga(j, bx_json_str(payload, "tier_id"),
                     (long)json_integer_value(json_object_get(payload, "quantity")));
    }
    if (!err)
        err = s_free_seats(pg, j);
    if (!err)
        err = s_free_ga(pg, j);
    if (!err)
        err = s_offer_all(pg, j);
    if (!err)
        err = s_feed(job, j);
    return err;
}

bx_err_t wl_offer_handle(bx_worker_job_t *job)
{
    const char *ev = bx_json_str(bx_worker_job_payload(job), "event_id");
    if (!ev || !bx_uuid_valid(ev))
        return bx_worker_job_problem(job, BX_EINVAL, "the payload has no valid event_id");
    s_job_t *j = calloc(1, sizeof *j);
    if (!j)
        return BX_ENOMEM;
    bx_strlcpy(j->event_id, ev, sizeof j->event_id);
    j->touched_seats = json_array();
    j->touched_tiers = json_array();
    j->offers = json_array();
    j->settled = json_array();
    bx_err_t err = s_run(job, j);
    if (!err)
        bx_worker_job_succeed(job, 200,
                              json_pack("{s:{s:s, s:s, s:O, s:O}}", "data", "type", "waitlist_run",
                                        "event_id", j->event_id, "offers", j->offers, "settled",
                                        j->settled));
    json_decref(j->touched_seats);
    json_decref(j->touched_tiers);
    json_decref(j->offers);
    json_decref(j->settled);
    free(j);
    return err;
}

/* ---- batch hooks ---- */

void wl_offer_batch_key(const char *payload, size_t len, char *out, size_t cap)
{
    json_t *doc = json_loadb(payload, len, 0, NULL);
    const char *ev = bx_json_str(doc, "event_id");
    bx_strlcpy(out, ev && bx_uuid_valid(ev) ? ev : "", cap);
    json_decref(doc);
}

bx_err_t wl_offer_batch_begin(bx_worker_batch_t *batch)
{
    s_state_t *st = bx_worker_batch_state(batch);
    if (st)
        json_array_clear(st->pending);
    return BX_OK;
}

void wl_offer_batch_done(bx_worker_batch_t *batch, int committed)
{
    s_state_t *st = bx_worker_batch_state(batch);
    size_t i;
    json_t *v;
    if (!st)
        return;
    json_array_foreach(st->pending, i, v) if (committed) bx_invfeed_publish(
        st->redis, bx_json_str(v, "event_id"), json_object_get(v, "change"), NULL);
    json_array_clear(st->pending);
}
