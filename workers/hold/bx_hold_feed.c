/* bx_hold_feed: the hold pool's part of the live inventory feed. Jobs record the seats and
 * GA counts they changed in their executor's list; after the batch committed, the list is
 * published with bx_invfeed_publish, one change per event (a seat's last state, a tier's
 * last counts), so a batch of 48 holds costs one Redis round trip, not 48. A batch that
 * rolled back publishes nothing. Redis being down loses only the push: watchers resync
 * from GET .../inventory (docs/holds.md). */
#include <string.h>
#include <strings.h>

#include "bx_hold_int.h"
#include "bx_invfeed.h"
#include "bx_json.h"
#include "bx_log.h"

#define S_FEED_MAX 20000 /* entries one batch records at most (64 jobs x 100 seats, twice) */

static void s_add(bx_worker_job_t *job, const char *event_id, const char *what, json_t *v)
{
    bx_hold_state_t *st = bx_worker_job_state(job);
    if (!st || !st->feed || !v || json_array_size(st->feed) >= S_FEED_MAX) {
        json_decref(v);
        return;
    }
    json_array_append_new(st->feed, json_pack("{s:s, s:o}", "e", event_id, what, v));
}

void bx_hold_feed_seat(bx_worker_job_t *job, const char *event_id, const char *seat_id,
                       const char *label, const char *tier_id, const char *state)
{
    if (seat_id && label && tier_id && state)
        s_add(job, event_id, "seat",
              json_pack("{s:s, s:s, s:s, s:s}", "seat_id", seat_id, "label", label, "tier_id",
                        tier_id, "state", state));
}

void bx_hold_feed_tier(bx_worker_job_t *job, const char *event_id, json_t *counts)
{
    if (json_is_object(counts) && bx_json_str(counts, "tier_id"))
        s_add(job, event_id, "tier", counts);
    else
        json_decref(counts);
}

void bx_hold_feed_json(bx_worker_job_t *job, const char *event_id, json_t *seats, json_t *tiers)
{
    json_t *v;
    size_t i;
    json_array_foreach(seats, i, v)
        bx_hold_feed_seat(job, event_id, bx_json_str(v, "seat_id"), bx_json_str(v, "label"),
                          bx_json_str(v, "tier_id"), bx_json_str(v, "state"));
    json_array_foreach(tiers, i, v) bx_hold_feed_tier(
        job, event_id,
        json_pack("{s:O, s:O, s:O, s:O, s:O}", "tier_id", json_object_get(v, "tier_id"), "capacity",
                  json_object_get(v, "capacity"), "held", json_object_get(v, "held"), "sold",
                  json_object_get(v, "sold"), "available", json_object_get(v, "available")));
}

size_t bx_hold_feed_mark(bx_worker_job_t *job)
{
    bx_hold_state_t *st = bx_worker_job_state(job);
    return st && st->feed ? json_array_size(st->feed) : 0;
}

void bx_hold_feed_undo(bx_worker_job_t *job, size_t mark)
{
    bx_hold_state_t *st = bx_worker_job_state(job);
    while (st && st->feed && json_array_size(st->feed) > mark)
        json_array_remove(st->feed, json_array_size(st->feed) - 1);
}

/* {event_id: {"seats": {seat_id: seat}, "tiers": {tier_id: counts}}} of the list: the
 * last state of each seat and the last counts of each tier win. */
static json_t *s_group(json_t *feed)
{
    json_t *by = json_object(), *v;
    size_t i;
    json_array_foreach(feed, i, v)
    {
        const char *ev = bx_json_str(v, "e");
        json_t *seat = json_object_get(v, "seat"), *tier = json_object_get(v, "tier");
        if (!ev || !by)
            continue;
        json_t *g = json_object_get(by, ev);
        if (!g) {
            g = json_pack("{s:o, s:o}", "seats", json_object(), "tiers", json_object());
            json_object_set_new(by, ev, g);
        }
        if (seat)
            json_object_set(json_object_get(g, "seats"), bx_json_str(seat, "seat_id"), seat);
        if (tier)
            json_object_set(json_object_get(g, "tiers"), bx_json_str(tier, "tier_id"), tier);
    }
    return by;
}

/* The values of object o as a new array. */
static json_t *s_values(json_t *o)
{
    json_t *a = json_array(), *v;
    const char *k;
    json_object_foreach(o, k, v) json_array_append(a, v);
    return a;
}

void bx_hold_feed_flush(bx_hold_state_t *st, int committed)
{
    if (!st || !st->feed)
        return;
    if (committed && json_array_size(st->feed)) {
        json_t *by = s_group(st->feed), *g;
        const char *ev;
        json_object_foreach(by, ev, g)
        {
            json_t *change = json_pack("{s:s, s:o, s:o}", "cause", "hold", "seats",
                                       s_values(json_object_get(g, "seats")), "tiers",
                                       s_values(json_object_get(g, "tiers")));
            if (change && bx_invfeed_publish(st->redis, ev, change, NULL) != BX_OK)
                BX_DEBUG("inventory change of %s not published", ev);
            json_decref(change);
        }
        json_decref(by);
    }
    json_array_clear(st->feed);
}
