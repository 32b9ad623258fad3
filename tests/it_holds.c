/* it_holds: holds over real HTTP through the real pipeline (frontdoor, broker, two hold
 * workers in batch mode, scheduler) on a fresh database: each kind of hold (explicit seats,
 * GA quantity, best available together) with its price summary, all or nothing, release by
 * the owner and 404 for everyone else, expiry returning seats within seconds, the per-user
 * limit across holds, the orphan-seat rule on and off, availability with ETag/304, partner
 * inventory control (block/unblock, GA capacity never below held + sold, prices, settings),
 * an Idempotency-Key replay making one hold, and the bad inputs of the issue, each a problem
 * that changes nothing. Ports 26200-26201. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_harness.h"
#include "bx_suite.h"
#include "bx_util.h"
#include "holds_fixture.h"

#define PT "https://boxoffice.dev/problems/"

static hf_sys_t s_sys;
static char s_x[4096], s_y[4096], s_z[4096]; /* customers */
static char s_xid[37];

static void s_setup(void)
{
    const char *env[] = {"BOXOFFICE_WORKER_CREDIT=2", "BOXOFFICE_HOLD_BATCH_MAX=32", NULL};
    hf_start(&s_sys, "holds", 26200, 2, env);
    hf_customer(&s_sys, s_x, sizeof s_x, s_xid);
    hf_customer(&s_sys, s_y, sizeof s_y, NULL);
    hf_customer(&s_sys, s_z, sizeof s_z, NULL);
}

static void s_teardown(void)
{
    hf_stop(&s_sys);
}

/* ---- helpers ---- */

static const char *s_hold_path(const hf_event_t *ev)
{
    static char path[160];
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory/hold", ev->id);
    return path;
}

/* POSTs a hold (waiting for the result) as tok. */
static bx_httpc_resp_t s_hold(const hf_event_t *ev, const char *tok, const char *body)
{
    const char *h[] = {"Prefer: wait=10", NULL};
    return hf_call(&s_sys, "POST", s_hold_path(ev), tok, body, h);
}

static bx_httpc_resp_t s_put_inventory(const hf_event_t *ev, const char *tok, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory", ev->id);
    return hf_call(&s_sys, "PUT", path, tok, body, NULL);
}

/* Every row that a hold attempt could write, as one number: equal means nothing written. */
static long s_footprint(const hf_event_t *ev)
{
    return hf_num(&s_sys,
                  "SELECT (SELECT count(*) FROM holds WHERE event_id = '%s') * 1000000 + "
                  "(SELECT count(*) FROM event_seats WHERE event_id = '%s' AND state <> "
                  "'available') * 1000 + (SELECT coalesce(sum(held + sold), 0) FROM event_ga "
                  "WHERE event_id = '%s')",
                  ev->id, ev->id, ev->id);
}

/* ---- the hold kinds ---- */

START_TEST(explicit_seats_with_price_summary_then_release_by_owner_only)
{
    hf_event_t ev;
    char hold[37];
    hf_event(&s_sys, 3, 10, 20, &ev);
    bx_httpc_resp_t r = s_hold(&ev, s_x, hf_j("{'seats':['A4','A5']}"));
    HF_EXPECT(r, 201);
    bx_strlcpy(hold, hf_str(r.json, "data.id"), sizeof hold);
    ck_assert_str_eq(hf_str(r.json, "data.type"), "hold");
    ck_assert_str_eq(hf_str(r.json, "data.attributes.state"), "active");
    ck_assert_str_eq(hf_str(r.json, "data.attributes.kind"), "seats");
    ck_assert_int_eq(hf_int(r.json, "data.attributes.quantity"), 2);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.seats.0.label"), "A4");
    ck_assert_str_eq(hf_str(r.json, "data.attributes.seats.1.label"), "A5");
    /* A4 is Standard (5000), A5 Premium (9000): two lines, total 14000 EUR */
    ck_assert_str_eq(hf_str(r.json, "data.attributes.price.currency"), "EUR");
    ck_assert_int_eq(hf_int(r.json, "data.attributes.price.total_minor"), 14000);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "data.attributes.price.lines")), 2);
    ck_assert_ptr_nonnull(hf_str(r.json, "data.attributes.expires_at"));
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT round(extract(epoch FROM expires_at - created_at)) FROM holds "
                            "WHERE id = '%s'",
                            hold),
                     600); /* the default lifetime: 10 minutes */
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A4"), "held");
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM event_seats WHERE hold_id = '%s'", hold),
                     2);
    /* the owner reads it; anyone else gets 404 and cannot release it */
    r = hf_on_hold(&s_sys, "GET", &ev, hold, s_x);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    r = hf_on_hold(&s_sys, "GET", &ev, hold, s_y);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = hf_on_hold(&s_sys, "DELETE", &ev, hold, s_y);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = hf_on_hold(&s_sys, "DELETE", &ev, hold, s_sys.partner);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A4"), "held");
    /* the owner releases it: seats back, the waitlist is offered them */
    r = hf_on_hold(&s_sys, "DELETE", &ev, hold, s_x);
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.state"), "released");
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A4"), "available");
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A5"), "available");
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE service = 'waitlist' AND topic = "
                            "'inventory.released' AND route_key = '%s' AND payload ? 'seat_ids'",
                            ev.id),
                     2); /* one offer per tier */
    /* releasing again is harmless: the hold is simply not active any more */
    r = hf_on_hold(&s_sys, "DELETE", &ev, hold, s_x);
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.state"), "released");
    bx_httpc_free(&r);
}
END_TEST

START_TEST(all_or_nothing)
{
    hf_event_t ev;
    char hold[37];
    hf_event(&s_sys, 3, 10, 20, &ev);
    hf_hold(&s_sys, &ev, s_x, hf_j("{'seats':['B3']}"), hold);
    long before = s_footprint(&ev);
    bx_httpc_resp_t r = s_hold(&ev, s_y, hf_j("{'seats':['B2','B3','B4']}"));
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_int_eq(json_array_size(hf_get(r.json, "unavailable")), 1);
    ck_assert_str_eq(hf_str(r.json, "unavailable.0"), "B3");
    bx_httpc_free(&r);
    ck_assert_int_eq(s_footprint(&ev), before);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "B2"), "available");
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "B4"), "available");
    /* GA: more than is left fails whole, and says how many are left */
    hf_settings(&s_sys, &ev, hf_j("{'max_per_user':100}"));
    hf_hold(&s_sys, &ev, s_x, hf_j("{'tier_id':'%s','quantity':15}", ev.standing), hold);
    r = s_hold(&ev, s_y, hf_j("{'tier_id':'%s','quantity':6}", ev.standing));
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_int_eq(hf_int(r.json, "available"), 5);
    bx_httpc_free(&r);
    hf_hold(&s_sys, &ev, s_y, hf_j("{'tier_id':'%s','quantity':5}", ev.standing), hold);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT held FROM event_ga WHERE event_id = '%s'", ev.id), 20);
}
END_TEST

START_TEST(ga_hold_price_and_release)
{
    hf_event_t ev;
    char hold[37];
    hf_event(&s_sys, 2, 10, 50, &ev);
    bx_httpc_resp_t r = s_hold(&ev, s_x, hf_j("{'tier_id':'%s','quantity':3}", ev.standing));
    HF_EXPECT(r, 201);
    bx_strlcpy(hold, hf_str(r.json, "data.id"), sizeof hold);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.kind"), "ga");
    ck_assert_str_eq(hf_str(r.json, "data.attributes.tier_id"), ev.standing);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.price.total_minor"), 7500);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.price.lines.0.unit_price_minor"), 2500);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.price.lines.0.quantity"), 3);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT held FROM event_ga WHERE event_id = '%s'", ev.id), 3);
    r = hf_on_hold(&s_sys, "DELETE", &ev, hold, s_x);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT held FROM event_ga WHERE event_id = '%s'", ev.id), 0);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE service = 'waitlist' AND route_key "
                            "= '%s' AND (payload->>'quantity')::int = 3",
                            ev.id),
                     1);
}
END_TEST

START_TEST(best_available_together_near_the_centre)
{
    hf_event_t ev;
    hf_event(&s_sys, 3, 10, 0, &ev);
    hf_settings(&s_sys, &ev, hf_j("{'max_per_user':100}"));
    bx_httpc_resp_t r = s_hold(
        &ev, s_z,
        hf_j("{'tier_id':'%s','quantity':4,'best_available':true,'together':true}", ev.standard));
    HF_EXPECT(r, 201);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.kind"), "best_available");
    /* row A is broken by the Premium seats A5, A6: 4 Standard seats side by side fit at
     * A1-A4 or A7-A10 (nearest the centre: A7-A10 ties A1-A4 at distance 4; first wins) */
    const char *l0 = hf_str(r.json, "data.attributes.seats.0.label");
    ck_assert_msg(l0 && l0[0] == 'A', "first seat %s", l0 ? l0 : "-");
    int nums[4];
    for (int i = 0; i < 4; i++) {
        char path[64];
        snprintf(path, sizeof path, "data.attributes.seats.%d.label", i);
        nums[i] = (int)strtol(hf_str(r.json, path) + 1, NULL, 10);
    }
    bx_httpc_free(&r);
    /* sorted by label as text: A1..A4 or A10, A7, A8, A9 */
    int sum = nums[0] + nums[1] + nums[2] + nums[3];
    ck_assert_msg(sum == 10 || sum == 34, "seats not side by side: %d %d %d %d", nums[0], nums[1],
                  nums[2], nums[3]);
    /* the next block of 4 is the other half of row A, then row B's centre */
    r = s_hold(&ev, s_z, hf_j("{'tier_id':'%s','quantity':4,'best_available':true}", ev.standard));
    HF_EXPECT(r, 201);
    bx_httpc_free(&r);
    r = s_hold(&ev, s_y, hf_j("{'tier_id':'%s','quantity':2,'best_available':true}", ev.standard));
    HF_EXPECT(r, 201);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.seats.0.label"), "B5");
    ck_assert_str_eq(hf_str(r.json, "data.attributes.seats.1.label"), "B6");
    bx_httpc_free(&r);
    /* more side by side than any row has left (row C broken by a kill): 409, nothing held */
    r = s_put_inventory(&ev, s_sys.partner, hf_j("{'block':['C3']}"));
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    long before = s_footprint(&ev);
    r = s_hold(&ev, s_y, hf_j("{'tier_id':'%s','quantity':9,'best_available':true}", ev.standard));
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    ck_assert_int_eq(s_footprint(&ev), before);
    /* without together, the best single seats will do */
    r = s_hold(&ev, s_y,
               hf_j("{'tier_id':'%s','quantity':9,'best_available':true,"
                    "'together':false}",
                    ev.standard));
    HF_EXPECT(r, 201);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "data.attributes.seats")), 9);
    bx_httpc_free(&r);
}
END_TEST

/* ---- rules ---- */

START_TEST(per_user_limit_across_holds)
{
    hf_event_t ev;
    char hold[37];
    hf_event(&s_sys, 3, 10, 20, &ev);
    hf_settings(&s_sys, &ev, hf_j("{'max_per_user':4}"));
    hf_hold(&s_sys, &ev, s_x, hf_j("{'seats':['C1','C2']}"), hold);
    hf_hold(&s_sys, &ev, s_x, hf_j("{'tier_id':'%s','quantity':1}", ev.standing), hold);
    long before = s_footprint(&ev);
    bx_httpc_resp_t r = s_hold(&ev, s_x, hf_j("{'seats':['C4','C5']}"));
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_int_eq(hf_int(r.json, "limit"), 4);
    ck_assert_int_eq(hf_int(r.json, "have"), 3);
    bx_httpc_free(&r);
    r = s_hold(&ev, s_x, hf_j("{'tier_id':'%s','quantity':2}", ev.standing));
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    ck_assert_int_eq(s_footprint(&ev), before);
    /* one more fits; someone else is not limited by x's holds */
    hf_hold(&s_sys, &ev, s_x, hf_j("{'seats':['C4']}"), hold);
    hf_hold(&s_sys, &ev, s_y, hf_j("{'seats':['C6','C7','C8','C9']}"), hold);
    /* a released hold no longer counts */
    r = hf_on_hold(&s_sys, "DELETE", &ev, hold, s_y);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    hf_hold(&s_sys, &ev, s_y, hf_j("{'seats':['C6','C7','C8','C9']}"), hold);
}
END_TEST

START_TEST(orphan_rule_on_and_off)
{
    hf_event_t ev;
    char hold[37];
    hf_event(&s_sys, 3, 10, 0, &ev);
    hf_settings(&s_sys, &ev, hf_j("{'orphan_rule':true}"));
    long before = s_footprint(&ev);
    /* C2 alone would strand C1 at the row's end */
    bx_httpc_resp_t r = s_hold(&ev, s_x, hf_j("{'seats':['C2']}"));
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_str_eq(hf_str(r.json, "orphaned.0"), "C1");
    bx_httpc_free(&r);
    ck_assert_int_eq(s_footprint(&ev), before);
    hf_hold(&s_sys, &ev, s_x, hf_j("{'seats':['C1','C2']}"), hold);
    /* C4 would strand C3 between C2 and C4 */
    r = s_hold(&ev, s_y, hf_j("{'seats':['C4','C5']}"));
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_str_eq(hf_str(r.json, "orphaned.0"), "C3");
    bx_httpc_free(&r);
    hf_hold(&s_sys, &ev, s_y, hf_j("{'seats':['C3','C4','C5']}"), hold);
    /* best available never strands a seat either: 4 of row C's remaining 5 would */
    r = s_hold(&ev, s_z, hf_j("{'tier_id':'%s','quantity':4,'best_available':true}", ev.standard));
    HF_EXPECT(r, 201);
    ck_assert_msg(hf_str(r.json, "data.attributes.seats.0.label")[0] != 'C', "%s", r.body);
    bx_httpc_free(&r);
    /* switched off: stranding is allowed */
    hf_settings(&s_sys, &ev, hf_j("{'orphan_rule':false}"));
    hf_hold(&s_sys, &ev, s_z, hf_j("{'seats':['C7']}"), hold);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "C6"), "available");
}
END_TEST

START_TEST(expired_holds_return_within_seconds)
{
    hf_event_t ev;
    char hold[37], ga[37];
    hf_event(&s_sys, 2, 10, 20, &ev);
    hf_settings(&s_sys, &ev, hf_j("{'hold_ttl_s':5}"));
    hf_hold(&s_sys, &ev, s_x, hf_j("{'seats':['B7','B8']}"), hold);
    hf_hold(&s_sys, &ev, s_y, hf_j("{'tier_id':'%s','quantity':4}", ev.standing), ga);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "B7"), "held");
    int64_t due = bx_mono_ms() + 5000;
    /* back within a few seconds after the lifetime */
    long waited = -1;
    for (int i = 0; i < 100; i++) {
        if (!strcmp(hf_seat_state(&s_sys, &ev, "B7"), "available") &&
            hf_num(&s_sys, "SELECT held FROM event_ga WHERE event_id = '%s'", ev.id) == 0) {
            waited = (long)(bx_mono_ms() - due);
            break;
        }
        usleep(200000);
    }
    ck_assert_msg(waited >= 0 && waited <= 4000, "seats came back %ld ms after expiry", waited);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "B8"), "available");
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM holds WHERE id IN ('%s', '%s') AND "
                            "state = 'expired'",
                            hold, ga),
                     2);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE service = 'waitlist' AND route_key "
                            "= '%s'",
                            ev.id),
                     2);
    bx_httpc_resp_t r = hf_on_hold(&s_sys, "GET", &ev, hold, s_x);
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.state"), "expired");
    bx_httpc_free(&r);
    /* the seats can be held again */
    hf_hold(&s_sys, &ev, s_z, hf_j("{'seats':['B7','B8']}"), hold);
}
END_TEST

/* ---- availability ---- */

/* A mass expiry (250 holds of one event due at once, as after a hot sale) goes to the hold
 * pool as a few expire_many jobs of up to 100 holds, not one job per hold that would crowd
 * new holds out of the pool's queue; every hold expires and the GA units come back. */
START_TEST(mass_expiry_is_a_few_jobs)
{
    hf_event_t ev;
    hf_event(&s_sys, 1, 2, 500, &ev);
    free(hf_text(&s_sys,
                 "WITH g AS (UPDATE event_ga SET held = held + 250 WHERE event_id = '%s' AND "
                 "tier_id = '%s' RETURNING 1) "
                 "INSERT INTO holds (id, event_id, user_id, kind, ga_tier_id, quantity, currency, "
                 "total_minor, lines, expires_at) "
                 "SELECT gen_random_uuid(), '%s', '%s', 'ga', '%s', 1, 'EUR', 2500, '[]', "
                 "now() - interval '1 second' FROM g, generate_series(1, 250)",
                 ev.id, ev.standing, ev.id, s_xid, ev.standing));
    long left = -1;
    for (int i = 0; i < 150 && left != 0; i++) {
        left = hf_num(&s_sys,
                      "SELECT count(*) FROM holds WHERE event_id = '%s' AND state = "
                      "'active'",
                      ev.id);
        usleep(100000);
    }
    ck_assert_int_eq(left, 0);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT held FROM event_ga WHERE event_id = '%s'", ev.id), 0);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM holds WHERE event_id = '%s' AND state = "
                            "'expired'",
                            ev.id),
                     250);
    long jobs = hf_num(&s_sys,
                       "SELECT count(*) FROM requests WHERE service = 'hold' AND "
                       "payload->>'op' = 'expire_many' AND payload->>'event_id' = '%s'",
                       ev.id);
    ck_assert_msg(jobs >= 3 && jobs <= 6, "250 due holds took %ld expire_many jobs", jobs);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM requests WHERE service = 'hold' AND "
                            "payload->>'op' = 'expire' AND payload->>'event_id' = '%s'",
                            ev.id),
                     0);
}
END_TEST

START_TEST(availability_with_etag)
{
    hf_event_t ev;
    char hold[37], etag[128], etag2[128], path[160], hdr[192];
    hf_event(&s_sys, 3, 10, 20, &ev);
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory", ev.id);
    bx_httpc_resp_t r = hf_call(&s_sys, "GET", path, NULL, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "data.type"), "inventory");
    json_t *tiers = hf_get(r.json, "data.attributes.tiers");
    ck_assert_int_eq(json_array_size(tiers), 3);
    ck_assert_int_eq(hf_int(tiers, "0.available"), 28); /* Standard: 30 seats minus A5, A6 */
    ck_assert_int_eq(hf_int(tiers, "2.available"), 20); /* Standing */
    ck_assert_str_eq(hf_str(r.json, "data.attributes.sections.0.rows.0.seats.0.label"), "A1");
    ck_assert_str_eq(hf_str(r.json, "data.attributes.sections.0.rows.0.seats.0.state"),
                     "available");
    ck_assert(bx_httpc_header(&r, "ETag", etag, sizeof etag));
    bx_httpc_free(&r);
    snprintf(hdr, sizeof hdr, "If-None-Match: %s", etag);
    const char *h[] = {hdr, NULL};
    r = hf_call(&s_sys, "GET", path, NULL, NULL, h);
    HF_EXPECT(r, 304);
    bx_httpc_free(&r);
    /* a hold changes it: 200 with the new state at once */
    hf_hold(&s_sys, &ev, s_x, hf_j("{'seats':['A1']}"), hold);
    hf_hold(&s_sys, &ev, s_x, hf_j("{'tier_id':'%s','quantity':2}", ev.standing), hold);
    r = hf_call(&s_sys, "GET", path, NULL, NULL, h);
    HF_EXPECT(r, 200);
    ck_assert(bx_httpc_header(&r, "ETag", etag2, sizeof etag2));
    ck_assert_str_ne(etag, etag2);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.sections.0.rows.0.seats.0.state"), "held");
    tiers = hf_get(r.json, "data.attributes.tiers");
    ck_assert_int_eq(hf_int(tiers, "0.available"), 27);
    ck_assert_int_eq(hf_int(tiers, "0.held"), 1);
    ck_assert_int_eq(hf_int(tiers, "2.available"), 18);
    ck_assert_int_eq(hf_int(tiers, "2.held"), 2);
    bx_httpc_free(&r);
    /* counts only */
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory?seats=false", ev.id);
    r = hf_call(&s_sys, "GET", path, NULL, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert(json_is_null(hf_get(r.json, "data.attributes.sections")));
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory?seats=maybe", ev.id);
    r = hf_call(&s_sys, "GET", path, NULL, NULL, NULL);
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
}
END_TEST

/* ---- partner control ---- */

START_TEST(partner_blocks_releases_and_resizes)
{
    hf_event_t ev;
    char hold[37], path[160];
    hf_event(&s_sys, 3, 10, 30, &ev);
    hf_settings(&s_sys, &ev, hf_j("{'max_per_user':50}"));
    bx_httpc_resp_t r = s_put_inventory(&ev, s_sys.partner, hf_j("{'block':['A9','A10','A8']}"));
    HF_EXPECT(r, 200);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.tiers.0.blocked"), 3);
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A9"), "blocked");
    r = s_hold(&ev, s_x, hf_j("{'seats':['A9']}"));
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    /* unblocking offers the seat to the waitlist */
    r = s_put_inventory(&ev, s_sys.partner, hf_j("{'unblock':['A10']}"));
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A10"), "available");
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE service = 'waitlist' AND route_key "
                            "= '%s'",
                            ev.id),
                     1);
    /* a held seat cannot be blocked, and nothing of the request is applied */
    hf_hold(&s_sys, &ev, s_x, hf_j("{'seats':['B1','B2']}"), hold);
    r = s_put_inventory(&ev, s_sys.partner, hf_j("{'block':['B3','B2']}"));
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_str_eq(hf_str(r.json, "unavailable.0"), "B2");
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "B3"), "available");
    /* GA capacity never below held + sold; within the area's room it may move */
    hf_hold(&s_sys, &ev, s_x, hf_j("{'tier_id':'%s','quantity':12}", ev.standing), hold);
    r = s_put_inventory(&ev, s_sys.partner,
                        hf_j("{'tiers':[{'tier_id':'%s','capacity':11}]}", ev.standing));
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    r = s_put_inventory(&ev, s_sys.partner,
                        hf_j("{'tiers':[{'tier_id':'%s','capacity':31}]}", ev.standing));
    HF_PROBLEM(r, 409, "conflict"); /* the area holds 30 */
    bx_httpc_free(&r);
    r = s_put_inventory(
        &ev, s_sys.partner,
        hf_j("{'tiers':[{'tier_id':'%s','capacity':12,'price_minor':3000}]}", ev.standing));
    HF_EXPECT(r, 200);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.tiers.2.capacity"), 12);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.tiers.2.available"), 0);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.tiers.2.price_minor"), 3000);
    bx_httpc_free(&r);
    r = s_hold(&ev, s_y, hf_j("{'tier_id':'%s','quantity':1}", ev.standing));
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    /* a seated tier's capacity is its seats */
    r = s_put_inventory(&ev, s_sys.partner,
                        hf_j("{'tiers':[{'tier_id':'%s','capacity':5}]}", ev.standard));
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    /* other organizations do not see it; customers may not */
    r = s_put_inventory(&ev, s_sys.other_partner, hf_j("{'block':['C1']}"));
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = s_put_inventory(&ev, s_x, hf_j("{'block':['C1']}"));
    HF_PROBLEM(r, 403, "forbidden");
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "C1"), "available");
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory", ev.id);
    r = hf_call(&s_sys, "GET", path, NULL, NULL, NULL);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.tiers.0.blocked"), 2);
    bx_httpc_free(&r);
}
END_TEST

START_TEST(idempotency_key_makes_one_hold)
{
    hf_event_t ev;
    char key[64];
    hf_event(&s_sys, 2, 10, 0, &ev);
    snprintf(key, sizeof key, "Idempotency-Key: hold-%lld", (long long)bx_now_ms());
    const char *h[] = {"Prefer: wait=10", key, NULL};
    bx_httpc_resp_t a = hf_call(&s_sys, "POST", s_hold_path(&ev), s_x, hf_j("{'seats':['A1']}"), h);
    bx_httpc_resp_t b = hf_call(&s_sys, "POST", s_hold_path(&ev), s_x, hf_j("{'seats':['A1']}"), h);
    HF_EXPECT(a, 201);
    HF_EXPECT(b, 201);
    ck_assert_str_eq(hf_str(a.json, "data.id"), hf_str(b.json, "data.id"));
    bx_httpc_free(&a);
    bx_httpc_free(&b);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM holds WHERE event_id = '%s'", ev.id), 1);
    /* same key, another body: 422 */
    a = hf_call(&s_sys, "POST", s_hold_path(&ev), s_x, hf_j("{'seats':['A2']}"), h);
    HF_PROBLEM(a, 422, "unprocessable");
    bx_httpc_free(&a);
}
END_TEST

/* ---- bad input ---- */

START_TEST(bad_input_is_refused_and_changes_nothing)
{
    hf_event_t ev, other, draft;
    char path[160];
    hf_event(&s_sys, 2, 10, 20, &ev);
    hf_event(&s_sys, 2, 10, 0, &other);
    char *foreign =
        hf_text(&s_sys, "SELECT seat_id FROM event_seats WHERE event_id = '%s' LIMIT 1", other.id);
    long before = s_footprint(&ev);
    struct {
        const char *body;
        long status;
        const char *slug;
    } cases[] = {
        {hf_j("{'seats':['%s']}", foreign), 400, "validation-failed"}, /* another event's seat */
        {hf_j("{'seats':['Z99']}"), 400, "validation-failed"},         /* no such seat */
        {hf_j("{'seats':['A1','A1']}"), 400, "validation-failed"},     /* twice */
        {hf_j("{'seats':[]}"), 400, "validation-failed"},
        {hf_j("{'seats':'A1'}"), 400, "validation-failed"}, /* wrong type */
        {hf_j("{'seats':[1,2]}"), 400, "validation-failed"},
        {hf_j("{'tier_id':'%s','quantity':0}", ev.standing), 400, "validation-failed"},
        {hf_j("{'tier_id':'%s','quantity':10000}", ev.standing), 400, "validation-failed"},
        {hf_j("{'tier_id':'%s','quantity':'2'}", ev.standing), 400, "validation-failed"},
        {hf_j("{'tier_id':'%s','quantity':2.5}", ev.standing), 400, "validation-failed"},
        {hf_j("{'tier_id':'%s'}", ev.standing), 400, "validation-failed"},
        {hf_j("{'tier_id':'not-a-uuid','quantity':1}"), 400, "validation-failed"},
        {hf_j("{'tier_id':'%s','quantity':1}", other.standard), 400, "validation-failed"},
        {hf_j("{'tier_id':'%s','quantity':11}", ev.standard), 400, "validation-failed"},
        {hf_j("{'tier_id':'%s','quantity':2}", ev.standard), 400, "validation-failed"}, /* seated */
        {hf_j("{'tier_id':'%s','quantity':2,'best_available':true}", ev.standing), 400,
         "validation-failed"},
        {hf_j("{'seats':['A1'],'tier_id':'%s','quantity':1}", ev.standard), 400,
         "validation-failed"},
        {hf_j("{'seats':['A1'],'together':true}"), 400, "validation-failed"},
        {hf_j("{'seats':['A1'],'hold_for':'ever'}"), 400, "validation-failed"},
        {"{\"seats\":[\"A1\"", 400, "malformed-body"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bx_httpc_resp_t r = s_hold(&ev, s_x, cases[i].body);
        ck_assert_msg(r.status == cases[i].status, "case %zu (%s): %ld %s", i, cases[i].body,
                      r.status, r.body);
        hf_problem(&r, cases[i].status, cases[i].slug, (int)i);
        bx_httpc_free(&r);
    }
    free(foreign);
    /* no token, another event's route, a draft, an event not on sale */
    bx_httpc_resp_t r = s_hold(&ev, NULL, hf_j("{'seats':['A1']}"));
    HF_PROBLEM(r, 401, "unauthorized");
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory/hold",
             "00000000-0000-7000-8000-000000000000");
    r = hf_call(&s_sys, "POST", path, s_x, hf_j("{'seats':['A1']}"), NULL);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "POST", "/api/v1/events/nope/inventory/hold", s_x, hf_j("{'seats':['A1']}"),
                NULL);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/events/%s", other.id);
    r = hf_call(&s_sys, "PUT", path, s_sys.partner, hf_j("{'status':'published'}"), NULL);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    r = s_hold(&other, s_x, hf_j("{'seats':['A1']}"));
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    hf_draft(&s_sys, &draft);
    r = s_hold(&draft, s_x, hf_j("{'seats':['A1']}"));
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory", draft.id);
    r = hf_call(&s_sys, "GET", path, NULL, NULL, NULL);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    /* a hold id that is not a UUID, or of another event */
    r = hf_on_hold(&s_sys, "DELETE", &ev, "x", s_x);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    ck_assert_int_eq(s_footprint(&ev), before);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM holds WHERE event_id IN ('%s', '%s')",
                            ev.id, other.id),
                     0);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("it_holds");
    TCase *tc = tcase_create("holds");
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, explicit_seats_with_price_summary_then_release_by_owner_only);
    tcase_add_test(tc, all_or_nothing);
    tcase_add_test(tc, ga_hold_price_and_release);
    tcase_add_test(tc, best_available_together_near_the_centre);
    tcase_add_test(tc, per_user_limit_across_holds);
    tcase_add_test(tc, orphan_rule_on_and_off);
    tcase_add_test(tc, expired_holds_return_within_seconds);
    tcase_add_test(tc, mass_expiry_is_a_few_jobs);
    tcase_add_test(tc, availability_with_etag);
    tcase_add_test(tc, partner_blocks_releases_and_resizes);
    tcase_add_test(tc, idempotency_key_makes_one_hold);
    tcase_add_test(tc, bad_input_is_refused_and_changes_nothing);
    suite_add_tcase(s, tc);
    return s;
}
