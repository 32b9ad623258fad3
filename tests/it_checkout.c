/* it_checkout: the checkout pool, promo codes and bookings over real HTTP through the real
 * pipeline (frontdoor, broker, hold worker, scheduler, bx-worker-checkout) on a fresh
 * database: a checkout priced end to end (tiers, promo, service fee, New York's taxes)
 * with the hold kept alive until the payment is due; a second checkout of one hold
 * answering the same booking; someone else's hold 404; released and expired holds 409;
 * the promo code's window, minimum quantity and per-customer limit; 50 concurrent
 * checkouts on a code with one use left succeeding exactly once; promo management only
 * by the organization; cancels of unpaid and confirmed bookings (seats back, promo use
 * back, tickets revoked, a refund job with the policy's amount), the deadline, a partner
 * cancelling the event; the customer's history; bad input, card numbers included (422,
 * nothing written). Ports 26500-26501, database checkout. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_harness.h"
#include "bx_jwt.h"
#include "bx_suite.h"
#include "bx_util.h"
#include "holds_fixture.h"

#define PT "https://boxoffice.dev/problems/"

static hf_sys_t s_sys;
static char s_x[4096], s_y[4096];
static char s_xid[37], s_yid[37];
static char s_admin[4096];

static void s_setup(void)
{
    const char *env[] = {"BOXOFFICE_WORKER_CREDIT=4", NULL};
    hf_start(&s_sys, "checkout", 26500, 1, env);
    hf_spawn(&s_sys, "bx-worker-checkout", NULL);
    hf_customer(&s_sys, s_x, sizeof s_x, s_xid);
    hf_customer(&s_sys, s_y, sizeof s_y, s_yid);
    hf_token(&s_sys, "admin", s_admin, sizeof s_admin, NULL);
}

static void s_teardown(void)
{
    hf_stop(&s_sys);
}

/* ---- helpers ---- */

static const char *const s_wait[] = {"Prefer: wait=15", NULL};

static bx_httpc_resp_t s_book(const char *tok, const char *hold, const char *code)
{
    char body[512];
    if (code)
        snprintf(body, sizeof body, "{\"hold_id\":\"%s\",\"promo_code\":\"%s\"}", hold, code);
    else
        snprintf(body, sizeof body, "{\"hold_id\":\"%s\"}", hold);
    return hf_call(&s_sys, "POST", "/api/v1/bookings", tok, body, s_wait);
}

/* Books hold as tok (expects 201), copies the booking id. */
static void s_book_ok(const char *tok, const char *hold, const char *code, char id[37])
{
    bx_httpc_resp_t r = s_book(tok, hold, code);
    HF_EXPECT(r, 201);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.status"), "pending_payment");
    bx_strlcpy(id, hf_str(r.json, "data.id"), 37);
    bx_httpc_free(&r);
}

static bx_httpc_resp_t s_cancel(const char *tok, const char *booking)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/bookings/%s/cancel", booking);
    return hf_call(&s_sys, "POST", path, tok, "{\"reason\":\"plans changed\"}", s_wait);
}

/* Creates a promo code as the partner; body is hf_j text; copies its id. */
static void s_promo(const char *body, char id[37])
{
    bx_httpc_resp_t r = hf_call(&s_sys, "POST", "/api/v1/promo-codes", s_sys.partner, body, NULL);
    HF_EXPECT(r, 201);
    if (id)
        bx_strlcpy(id, hf_str(r.json, "data.id"), 37);
    bx_httpc_free(&r);
}

static void s_settings(const hf_event_t *ev, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/events/%s/booking-settings", ev->id);
    bx_httpc_resp_t r = hf_call(&s_sys, "PUT", path, s_sys.partner, body, NULL);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
}

static long s_writes(void)
{
    return hf_num(&s_sys, "SELECT (SELECT count(*) FROM bookings) * 1000 + (SELECT count(*) FROM "
                          "promo_codes) * 10 + (SELECT coalesce(sum(uses), 0) FROM promo_codes)");
}

/* ---- checkout ---- */

START_TEST(checkout_prices_tiers_promo_fee_and_new_york_tax_and_keeps_the_hold)
{
    hf_event_t ev;
    char hold[37], booking[37];
    hf_event(&s_sys, 3, 10, 20, &ev);
    /* the event moves to a New York venue: three sales taxes on top (0009's rules) */
    ck_assert_int_eq(
        hf_num(&s_sys,
               "WITH v AS (INSERT INTO venues (id, org_id, name, address, city, country, region, "
               "latitude, longitude, time_zone, capacity) SELECT gen_random_uuid(), org_id, 'NY', "
               "address, 'New York', 'US', 'NY', 40.7, -74.0, 'America/New_York', capacity FROM "
               "venues WHERE id = (SELECT venue_id FROM events WHERE id = '%s') RETURNING id) "
               "UPDATE events SET venue_id = (SELECT id FROM v) WHERE id = '%s' RETURNING 1",
               ev.id, ev.id),
        1);
    s_settings(&ev, "{\"service_fee_bp\":1000,\"service_fee_minor\":100}");
    s_promo(hf_j("{'code':'save10','kind':'percent','value':1000,'event_id':'%s'}", ev.id), NULL);
    hf_hold(&s_sys, &ev, s_x, "{\"seats\":[\"A4\",\"A5\"]}", hold); /* Standard 5000 + Premium 9000 */
    bx_httpc_resp_t r = s_book(s_x, hold, "Save10");
    HF_EXPECT(r, 201);
    bx_strlcpy(booking, hf_str(r.json, "data.id"), sizeof booking);
    /* discount 500 + 900; fee 10% of 12600 + 2 x 100 = 1460; taxes on 4500 and 8100:
     * state 4% 180 + 324, city 4.5% 203 + 365 (202.5 and 364.5 half up), MCTD 0.375% 17 + 30 */
    ck_assert_int_eq(hf_int(r.json, "data.attributes.subtotal_minor"), 14000);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.discount_minor"), 1400);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.fee_minor"), 1460);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.tax_minor"), 504 + 568 + 47);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.total_minor"), 12600 + 1460 + 1119);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "data.attributes.taxes")), 3);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "data.attributes.lines")), 2);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.promo_code"), "SAVE10");
    ck_assert_str_eq(hf_str(r.json, "data.attributes.currency"), "EUR");
    ck_assert_ptr_nonnull(hf_str(r.json, "data.attributes.payment_due_at"));
    ck_assert_ptr_nonnull(hf_str(r.json, "data.links.tickets"));
    bx_httpc_free(&r);
    /* the hold lives until the payment is due; the code has one use */
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM holds h JOIN bookings b ON b.hold_id = h.id "
                            "WHERE h.id = '%s' AND h.expires_at = b.payment_due_at AND "
                            "b.payment_due_at > now() + interval '14 minutes'",
                            hold),
                     1);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT uses FROM promo_codes WHERE code = 'SAVE10'"), 1);
    /* a second checkout of the hold answers the same booking, nothing new */
    r = s_book(s_x, hold, NULL);
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "data.id"), booking);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM bookings WHERE hold_id = '%s'", hold), 1);
    /* someone else's hold does not exist for them */
    r = s_book(s_y, hold, NULL);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    /* the booking: owner and the organization see it, nobody else */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/bookings/%s", booking);
    r = hf_call(&s_sys, "GET", path, s_x, NULL, NULL);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", path, s_sys.partner, NULL, NULL);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", path, s_admin, NULL, NULL);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", path, s_y, NULL, NULL);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", path, s_sys.other_partner, NULL, NULL);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
}
END_TEST

START_TEST(released_and_expired_holds_cannot_be_booked)
{
    hf_event_t ev;
    char hold[37], path[200];
    hf_event(&s_sys, 3, 10, 20, &ev);
    hf_hold(&s_sys, &ev, s_x, "{\"seats\":[\"B1\"]}", hold);
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory/hold/%s", ev.id, hold);
    bx_httpc_resp_t r = hf_call(&s_sys, "DELETE", path, s_x, NULL, s_wait);
    ck_assert_msg(r.status == 200, "release: %ld %s", r.status, r.body);
    bx_httpc_free(&r);
    r = s_book(s_x, hold, NULL);
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    hf_hold(&s_sys, &ev, s_x, "{\"seats\":[\"B2\"]}", hold);
    ck_assert_int_eq(hf_num(&s_sys,
                            "UPDATE holds SET expires_at = now() - interval '1 second', "
                            "expiry_queued_at = now() WHERE id = '%s' RETURNING 1",
                            hold),
                     1);
    r = s_book(s_x, hold, NULL);
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_ptr_nonnull(strstr(r.body, "expired"));
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM bookings WHERE event_id = '%s'", ev.id),
                     0);
}
END_TEST

START_TEST(promo_window_min_quantity_and_per_customer_limit)
{
    hf_event_t ev;
    char h1[37], h2[37], h3[37], b[37];
    hf_event(&s_sys, 3, 10, 20, &ev);
    s_promo(hf_j("{'code':'LATER','kind':'percent','value':500,'event_id':'%s',"
                 "'starts_at':'2030-01-01T00:00:00Z'}",
                 ev.id),
            NULL);
    s_promo(hf_j("{'code':'THREEUP','kind':'fixed','value':700,'currency':'EUR','event_id':'%s',"
                 "'min_quantity':3}",
                 ev.id),
            NULL);
    s_promo(hf_j("{'code':'ONCE','kind':'percent','value':2000,'event_id':'%s',"
                 "'per_user_limit':1}",
                 ev.id),
            NULL);
    hf_hold(&s_sys, &ev, s_x, "{\"seats\":[\"C1\"]}", h1);
    bx_httpc_resp_t r = s_book(s_x, h1, "later");
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_ptr_nonnull(strstr(r.body, "not valid at this time"));
    bx_httpc_free(&r);
    r = s_book(s_x, h1, "THREEUP");
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_ptr_nonnull(strstr(r.body, "at least 3 tickets"));
    bx_httpc_free(&r);
    r = s_book(s_x, h1, "NOSUCHCODE");
    HF_PROBLEM(r, 422, "unprocessable");
    bx_httpc_free(&r);
    s_book_ok(s_x, h1, "once", b);
    hf_hold(&s_sys, &ev, s_x, "{\"seats\":[\"C2\"]}", h2);
    r = s_book(s_x, h2, "ONCE");
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_ptr_nonnull(strstr(r.body, "per customer"));
    bx_httpc_free(&r);
    hf_hold(&s_sys, &ev, s_y, "{\"seats\":[\"C3\",\"C4\",\"C7\"]}", h3);
    s_book_ok(s_y, h3, "threeup", b);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT discount_minor FROM bookings WHERE id = '%s'", b), 700);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT uses FROM promo_codes WHERE code = 'ONCE'"), 1);
}
END_TEST

/* ---- 50 concurrent checkouts, one use left ---- */

typedef struct {
    const char *tok;
    char body[256];
    long status;
    int64_t ms; /* the POST's latency */
} s_racer_t;

static void *s_race(void *arg)
{
    s_racer_t *r = arg;
    int64_t t0 = bx_now_ms();
    bx_httpc_resp_t resp = hf_call(&s_sys, "POST", "/api/v1/bookings", r->tok, r->body, s_wait);
    r->ms = bx_now_ms() - t0;
    r->status = resp.status;
    bx_httpc_free(&resp);
    return NULL;
}

static int s_cmp_ms(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

START_TEST(fifty_concurrent_checkouts_on_a_code_with_one_use_left_succeed_once)
{
    enum { N = 50 };
    static char *toks[N];
    static s_racer_t racers[N];
    pthread_t th[N];
    hf_event_t ev;
    char hold[37], seat[64];
    hf_event(&s_sys, 6, 10, 20, &ev);
    s_promo(hf_j("{'code':'LASTONE','kind':'percent','value':5000,'event_id':'%s','max_uses':1}",
                 ev.id),
            NULL);
    hf_customers(&s_sys, N, toks);
    for (int i = 0; i < N; i++) {
        snprintf(seat, sizeof seat, "{\"seats\":[\"%c%d\"]}", 'A' + i / 10, i % 10 + 1);
        hf_hold(&s_sys, &ev, toks[i], seat, hold);
        racers[i].tok = toks[i];
        snprintf(racers[i].body, sizeof racers[i].body,
                 "{\"hold_id\":\"%s\",\"promo_code\":\"lastone\"}", hold);
    }
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, s_race, &racers[i]), 0);
    int won = 0, lost = 0;
    int64_t ms[N];
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        won += racers[i].status == 201;
        lost += racers[i].status == 409;
        ms[i] = racers[i].ms;
    }
    qsort(ms, N, sizeof ms[0], s_cmp_ms);
    fprintf(stderr, "it_checkout: 50 concurrent checkouts: p50 %lld ms, p95 %lld ms, max %lld ms\n",
            (long long)ms[N / 2], (long long)ms[N * 95 / 100], (long long)ms[N - 1]);
    ck_assert_int_eq(won, 1);
    ck_assert_int_eq(lost, N - 1);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT uses FROM promo_codes WHERE code = 'LASTONE'"), 1);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM bookings b JOIN promo_codes p ON p.id = "
                                    "b.promo_id WHERE p.code = 'LASTONE'"),
                     1);
    for (int i = 0; i < N; i++)
        free(toks[i]);
}
END_TEST

/* ---- promo management ---- */

START_TEST(promo_codes_are_managed_only_by_their_organization)
{
    hf_event_t ev;
    char id[37], path[128];
    hf_event(&s_sys, 3, 10, 20, &ev);
    s_promo(hf_j("{'code':'ORGWIDE','kind':'fixed','value':300,'currency':'EUR','max_uses':5}"),
            id);
    long before = s_writes();
    snprintf(path, sizeof path, "/api/v1/promo-codes/%s", id);
    bx_httpc_resp_t r = hf_call(&s_sys, "GET", path, s_sys.other_partner, NULL, NULL);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "PUT", path, s_sys.other_partner, "{\"active\":false}", NULL);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "DELETE", path, s_sys.other_partner, NULL, NULL);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "POST", "/api/v1/promo-codes", s_sys.other_partner,
                hf_j("{'code':'STEAL','kind':'percent','value':100,'event_id':'%s'}", ev.id), NULL);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "POST", "/api/v1/promo-codes", s_x,
                hf_j("{'code':'MINE','kind':'percent','value':100}"), NULL);
    ck_assert_int_eq(r.status, 403);
    bx_httpc_free(&r);
    /* negative and out-of-range values */
    r = hf_call(&s_sys, "POST", "/api/v1/promo-codes", s_sys.partner,
                hf_j("{'code':'NEG','kind':'fixed','value':-5,'currency':'EUR'}"), NULL);
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "POST", "/api/v1/promo-codes", s_sys.partner,
                hf_j("{'code':'NEG2','kind':'percent','value':10,'max_uses':-1}"), NULL);
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "POST", "/api/v1/promo-codes", s_sys.partner,
                hf_j("{'code':'BIG','kind':'percent','value':10001}"), NULL);
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "POST", "/api/v1/promo-codes", s_sys.partner,
                hf_j("{'code':'orgwide','kind':'percent','value':10}"), NULL);
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    ck_assert_int_eq(s_writes(), before);
    /* the organization's partner lists, reads and changes it */
    r = hf_call(&s_sys, "PUT", path, s_sys.partner, "{\"max_uses\":9,\"active\":false}", NULL);
    HF_EXPECT(r, 200);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.max_uses"), 9);
    ck_assert(json_is_false(hf_get(r.json, "data.attributes.active")));
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", "/api/v1/promo-codes", s_sys.other_partner, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_ptr_null(strstr(r.body, "ORGWIDE"));
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", "/api/v1/promo-codes", s_sys.partner, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "ORGWIDE"));
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "DELETE", path, s_sys.partner, NULL, NULL);
    HF_EXPECT(r, 204);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM promo_codes WHERE id = '%s'", id), 0);
}
END_TEST

/* ---- cancellation ---- */

START_TEST(cancelling_an_unpaid_booking_returns_seats_and_the_promo_use)
{
    hf_event_t ev;
    char hold[37], b[37];
    hf_event(&s_sys, 3, 10, 20, &ev);
    s_promo(hf_j("{'code':'BACKAGAIN','kind':'percent','value':1000,'event_id':'%s',"
                 "'max_uses':5}",
                 ev.id),
            NULL);
    hf_hold(&s_sys, &ev, s_x, "{\"seats\":[\"A1\"]}", hold);
    s_book_ok(s_x, hold, "BACKAGAIN", b);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT uses FROM promo_codes WHERE code = 'BACKAGAIN'"), 1);
    bx_httpc_resp_t r = s_cancel(s_y, b);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = s_cancel(s_x, b);
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.status"), "cancelled");
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A1"), "available");
    ck_assert_int_eq(hf_num(&s_sys, "SELECT uses FROM promo_codes WHERE code = 'BACKAGAIN'"), 0);
    ck_assert_int_eq(
        hf_num(&s_sys, "SELECT count(*) FROM promo_redemptions WHERE booking_id = '%s'", b), 0);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE service = 'payment' AND "
                            "payload->>'booking_id' = '%s'",
                            b),
                     0);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE service = 'waitlist' AND "
                            "payload->>'event_id' = '%s' AND payload->'seat_ids' IS NOT NULL",
                            ev.id),
                     1);
}
END_TEST

/* Confirms booking b as the payment pool would and gives it one ticket. */
static void s_confirm(const hf_event_t *ev, const char *b, const char *label)
{
    char *st = hf_text(&s_sys,
                       "SELECT bx_booking_confirm('%s', (SELECT total_minor FROM bookings "
                       "WHERE id = '%s'))",
                       b, b);
    ck_assert_str_eq(st, "confirmed");
    free(st);
    ck_assert_int_eq(
        hf_num(&s_sys,
               "INSERT INTO tickets (id, booking_id, event_id, user_id, tier_id, label, "
               "price_minor, serial, kid, payload) SELECT gen_random_uuid(), b.id, "
               "b.event_id, b.user_id, '%s', '%s', 5000, 1, 'k1', 'p' FROM bookings b "
               "WHERE b.id = '%s' RETURNING 1",
               ev->standard, label, b),
        1);
}

START_TEST(cancelling_a_confirmed_booking_refunds_by_policy_and_revokes_tickets)
{
    hf_event_t ev;
    char hold[37], b[37];
    hf_event(&s_sys, 3, 10, 20, &ev);
    s_settings(&ev, "{\"service_fee_minor\":100,\"cancel_fee_bp\":1000}");
    hf_hold(&s_sys, &ev, s_x, "{\"seats\":[\"A2\"]}", hold);
    s_book_ok(s_x, hold, NULL, b);
    s_confirm(&ev, b, "A2");
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A2"), "sold");
    bx_httpc_resp_t r = s_cancel(s_x, b);
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.status"), "cancelled");
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A2"), "available");
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM tickets WHERE booking_id = '%s' AND "
                            "status = 'revoked'",
                            b),
                     1);
    /* paid 5100: the 100 fee is kept, 10% of the 5000 ticket part too */
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT (payload->>'amount_minor')::int FROM outbox WHERE "
                            "service = 'payment' AND payload->>'op' = 'refund' AND "
                            "payload->>'booking_id' = '%s'",
                            b),
                     4500);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE topic = 'booking.cancelled'"
                            " AND payload::text LIKE '%%%s%%'",
                            b) >= 1,
                     1);
    /* a second cancel changes nothing and refunds nothing more */
    r = s_cancel(s_x, b);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE service = 'payment' AND "
                            "payload->>'booking_id' = '%s'",
                            b),
                     1);
}
END_TEST

START_TEST(cancel_after_the_deadline_is_409_but_the_partner_may)
{
    hf_event_t ev;
    char hold[37], b[37];
    hf_event(&s_sys, 3, 10, 20, &ev);
    s_settings(&ev, "{\"cancel_deadline_h\":8760}"); /* the event is less than a year away */
    ck_assert_int_eq(hf_num(&s_sys,
                            "UPDATE events SET starts_at = now() + interval '30 days', "
                            "ends_at = now() + interval '30 days 3 hours' WHERE id = '%s' "
                            "RETURNING 1",
                            ev.id),
                     1);
    hf_hold(&s_sys, &ev, s_x, "{\"seats\":[\"A3\"]}", hold);
    s_book_ok(s_x, hold, NULL, b);
    s_confirm(&ev, b, "A3");
    bx_httpc_resp_t r = s_cancel(s_x, b);
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_ptr_nonnull(strstr(r.body, "cancellations close 8760 hours"));
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A3"), "sold");
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE service = 'payment' AND "
                            "payload->>'booking_id' = '%s'",
                            b),
                     0);
    r = s_cancel(s_sys.partner, b);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT (payload->>'amount_minor')::int FROM outbox WHERE "
                            "service = 'payment' AND payload->>'booking_id' = '%s'",
                            b),
                     5000);
}
END_TEST

START_TEST(a_cancelled_event_cancels_and_refunds_every_booking)
{
    hf_event_t ev;
    char h1[37], h2[37], b1[37], b2[37], path[128];
    hf_event(&s_sys, 3, 10, 20, &ev);
    s_settings(&ev, "{\"service_fee_minor\":150,\"cancel_fee_bp\":5000}");
    hf_hold(&s_sys, &ev, s_x, "{\"seats\":[\"B5\"]}", h1);
    s_book_ok(s_x, h1, NULL, b1);
    s_confirm(&ev, b1, "B5");
    hf_hold(&s_sys, &ev, s_y, "{\"seats\":[\"B6\"]}", h2);
    s_book_ok(s_y, h2, NULL, b2);
    snprintf(path, sizeof path, "/api/v1/events/%s/cancel", ev.id);
    bx_httpc_resp_t r = hf_call(&s_sys, "POST", path, s_sys.partner, NULL, NULL);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    long n = 0;
    for (int i = 0; i < 100 && n != 2; i++) {
        usleep(100 * 1000);
        n = hf_num(&s_sys,
                   "SELECT count(*) FROM bookings WHERE event_id = '%s' AND status = "
                   "'cancelled'",
                   ev.id);
    }
    ck_assert_int_eq(n, 2);
    /* full refund, fee included, of what was paid; the unpaid one has nothing to refund */
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT (payload->>'amount_minor')::int FROM outbox WHERE "
                            "service = 'payment' AND payload->>'booking_id' = '%s'",
                            b1),
                     5150);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE service = 'payment' AND "
                            "payload->>'booking_id' = '%s'",
                            b2),
                     0);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "B5"), "blocked");
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "B6"), "blocked");
}
END_TEST

/* ---- history ---- */

START_TEST(history_lists_only_the_callers_bookings_newest_first_with_a_cursor)
{
    hf_event_t ev;
    char tok[4096], hold[37], b1[37], b2[37], b3[37];
    hf_event(&s_sys, 3, 10, 20, &ev);
    hf_customer(&s_sys, tok, sizeof tok, NULL);
    hf_hold(&s_sys, &ev, tok, "{\"seats\":[\"C8\"]}", hold);
    s_book_ok(tok, hold, NULL, b1);
    hf_hold(&s_sys, &ev, tok, "{\"seats\":[\"C9\"]}", hold);
    s_book_ok(tok, hold, NULL, b2);
    hf_hold(&s_sys, &ev, s_y, "{\"seats\":[\"C10\"]}", hold);
    s_book_ok(s_y, hold, NULL, b3);
    bx_httpc_resp_t r = s_cancel(tok, b1);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", "/api/v1/bookings?limit=1", tok, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "data")), 1);
    ck_assert_str_eq(hf_str(r.json, "data.0.id"), b2);
    const char *next = hf_str(r.json, "links.next");
    ck_assert_ptr_nonnull(next);
    char path[512];
    bx_strlcpy(path, next, sizeof path);
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", path, tok, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "data")), 1);
    ck_assert_str_eq(hf_str(r.json, "data.0.id"), b1);
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", "/api/v1/bookings?status=cancelled", tok, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "data")), 1);
    ck_assert_ptr_null(strstr(r.body, b3));
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", "/api/v1/bookings?status=paid", tok, NULL, NULL);
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
}
END_TEST

/* ---- bad input ---- */

START_TEST(bad_input_and_card_numbers_are_refused_and_nothing_is_written)
{
    hf_event_t ev;
    char hold[37], body[512], code[201];
    hf_event(&s_sys, 3, 10, 20, &ev);
    hf_hold(&s_sys, &ev, s_x, "{\"seats\":[\"B9\"]}", hold);
    long before = s_writes();
    snprintf(body, sizeof body, "{\"hold_id\":\"%s\",\"seats\":1}", hold);
    bx_httpc_resp_t r = hf_call(&s_sys, "POST", "/api/v1/bookings", s_x, body, s_wait);
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    memset(code, 'A', 200);
    code[200] = '\0';
    r = s_book(s_x, hold, code);
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    r = s_book(s_x, "not-a-uuid", NULL);
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    r = s_book(s_x, hold, "4111 1111 1111 1111");
    HF_PROBLEM(r, 422, "card-number-refused");
    ck_assert_str_eq(hf_str(r.json, "errors.0.pointer"), "/promo_code");
    ck_assert_ptr_null(strstr(r.body, "4111"));
    bx_httpc_free(&r);
    snprintf(body, sizeof body, "{\"hold_id\":\"%s\",\"note\":4111111111111111}", hold);
    r = hf_call(&s_sys, "POST", "/api/v1/bookings", s_x, body, s_wait);
    HF_PROBLEM(r, 422, "card-number-refused");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "PUT", "/api/v1/users/profile", s_x,
                "{\"first_name\":\"5555-5555-5555-4444\"}", NULL);
    HF_PROBLEM(r, 422, "card-number-refused");
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM users WHERE first_name LIKE '%%5555%%'"),
                     0);
    ck_assert_int_eq(s_writes(), before);
    /* the log never saw it either */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "grep -c -e '4111 1111' -e '5555-5555' '%s' >/dev/null", s_sys.log);
    ck_assert_int_ne(system(cmd), 0);
}
END_TEST

/* ---- tax rules, settings and the venue's region as data ---- */

START_TEST(admin_tax_rules_and_partner_settings_price_the_next_checkout)
{
    hf_event_t ev;
    char hold[37], b[37], path[200], rule[37];
    hf_event(&s_sys, 3, 10, 20, &ev);
    char *venue = hf_text(&s_sys, "SELECT venue_id FROM events WHERE id = '%s'", ev.id);
    snprintf(path, sizeof path, "/api/v1/venues/%s", venue);
    bx_httpc_resp_t r = hf_call(&s_sys, "PUT", path, s_sys.partner, "{\"region\":\"by!\"}", NULL);
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "PUT", path, s_sys.partner, "{\"region\":\"BY\"}", NULL);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    free(venue);
    /* a German rule for Bavaria only, 7% included, and a partner-set fee */
    const char *rule_body = "{\"country\":\"DE\",\"region\":\"BY\",\"name\":\"USt\","
                            "\"rate_ppm\":70000,\"inclusive\":true}";
    r = hf_call(&s_sys, "POST", "/api/v1/admin/tax-rules", s_sys.partner, rule_body, NULL);
    ck_assert_int_eq(r.status, 403);
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "POST", "/api/v1/admin/tax-rules", s_admin, rule_body, NULL);
    HF_EXPECT(r, 201);
    bx_strlcpy(rule, hf_str(r.json, "data.id"), sizeof rule);
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", "/api/v1/admin/tax-rules?country=DE", s_admin, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "data")), 1);
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/events/%s/booking-settings", ev.id);
    r = hf_call(&s_sys, "PUT", path, s_sys.other_partner, "{\"service_fee_bp\":100}", NULL);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "PUT", path, s_sys.partner, "{\"service_fee_bp\":-1}", NULL);
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    s_settings(&ev, "{\"service_fee_bp\":250}");
    r = hf_call(&s_sys, "GET", path, s_sys.partner, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.service_fee_bp"), 250);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.payment_window_s"), 900);
    bx_httpc_free(&r);
    hf_hold(&s_sys, &ev, s_x, "{\"seats\":[\"A7\"]}", hold);
    s_book_ok(s_x, hold, NULL, b);
    /* 5000 holds 5000 x 0.07 / 1.07 = 327.1 -> 327 VAT; fee 2.5% = 125; nothing on top */
    ck_assert_int_eq(hf_num(&s_sys, "SELECT total_minor FROM bookings WHERE id = '%s'", b), 5125);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT (taxes->0->>'amount_minor')::int FROM bookings WHERE "
                            "id = '%s'",
                            b),
                     327);
    snprintf(path, sizeof path, "/api/v1/admin/tax-rules/%s", rule);
    r = hf_call(&s_sys, "DELETE", path, s_admin, NULL, NULL);
    HF_EXPECT(r, 204);
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "DELETE", path, s_admin, NULL, NULL);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    /* the booking keeps the taxes it was priced with */
    ck_assert_int_eq(
        hf_num(&s_sys, "SELECT jsonb_array_length(taxes) FROM bookings WHERE id = '%s'", b), 1);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("it_checkout");
    TCase *tc = tcase_create("checkout");
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, checkout_prices_tiers_promo_fee_and_new_york_tax_and_keeps_the_hold);
    tcase_add_test(tc, released_and_expired_holds_cannot_be_booked);
    tcase_add_test(tc, promo_window_min_quantity_and_per_customer_limit);
    tcase_add_test(tc, fifty_concurrent_checkouts_on_a_code_with_one_use_left_succeed_once);
    tcase_add_test(tc, promo_codes_are_managed_only_by_their_organization);
    tcase_add_test(tc, cancelling_an_unpaid_booking_returns_seats_and_the_promo_use);
    tcase_add_test(tc, cancelling_a_confirmed_booking_refunds_by_policy_and_revokes_tickets);
    tcase_add_test(tc, cancel_after_the_deadline_is_409_but_the_partner_may);
    tcase_add_test(tc, a_cancelled_event_cancels_and_refunds_every_booking);
    tcase_add_test(tc, history_lists_only_the_callers_bookings_newest_first_with_a_cursor);
    tcase_add_test(tc, bad_input_and_card_numbers_are_refused_and_nothing_is_written);
    tcase_add_test(tc, admin_tax_rules_and_partner_settings_price_the_next_checkout);
    suite_add_tcase(s, tc);
    return s;
}
