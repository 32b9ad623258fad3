/* it_cart: the hold is the cart, over real HTTP through the real pipeline (frontdoor,
 * broker, two hold workers in batch mode, scheduler) on a fresh database: seats and GA units
 * added and removed with lines and totals recomputed (stored prices kept, tier price for
 * what is added), all or nothing, the per-user limit, the per-order limit and the orphan
 * rule on add and remove, someone else's hold 404, a hold with a booking pending payment
 * frozen (cart 409, DELETE 409) and its expiry (at the extended expires_at) expiring the
 * booking, the live feed showing another user's hold within a second, and the waiting
 * room's admission stored with the hold. Ports 26800-26801, database cart. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bx_harness.h"
#include "bx_jwt.h"
#include "bx_suite.h"
#include "bx_util.h"
#include "bx_wroom.h"
#include "holds_fixture.h"

#define PT        "https://boxoffice.dev/problems/"
#define HTTP_PORT 26800

static hf_sys_t s_sys;
static char s_x[4096], s_y[4096]; /* customers */
static char s_xid[37], s_yid[37];

static void s_setup(void)
{
    const char *env[] = {"BOXOFFICE_WORKER_CREDIT=2", "BOXOFFICE_HOLD_BATCH_MAX=32", NULL};
    hf_start(&s_sys, "cart", HTTP_PORT, 2, env);
    hf_customer(&s_sys, s_x, sizeof s_x, s_xid);
    hf_customer(&s_sys, s_y, sizeof s_y, s_yid);
}

static void s_teardown(void)
{
    hf_stop(&s_sys);
}

/* ---- helpers ---- */

/* POSTs a hold as tok (waiting for the result), with extra headers (may be NULL). */
static bx_httpc_resp_t s_hold_h(const hf_event_t *ev, const char *tok, const char *body,
                                const char *extra)
{
    char path[160];
    const char *h[] = {"Prefer: wait=10", extra, NULL};
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory/hold", ev->id);
    return hf_call(&s_sys, "POST", path, tok, body, h);
}

/* POST (add) or DELETE (remove) .../hold/{hold}/items; query is DELETE's "?..." or "". */
static bx_httpc_resp_t s_items(const char *method, const hf_event_t *ev, const char *hold,
                               const char *tok, const char *body, const char *query,
                               const char *extra)
{
    char path[400];
    const char *h[] = {"Prefer: wait=10", extra, NULL};
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory/hold/%s/items%s", ev->id, hold,
             query ? query : "");
    return hf_call(&s_sys, method, path, tok, body, h);
}
#define S_ADD(ev, hold, tok, body) s_items("POST", (ev), (hold), (tok), (body), NULL, NULL)
#define S_REMOVE(ev, hold, tok, q) s_items("DELETE", (ev), (hold), (tok), NULL, (q), NULL)

/* Every row a cart change could write, as one text: equal means nothing written. */
static char *s_footprint(const hf_event_t *ev)
{
    return hf_text(
        &s_sys,
        "SELECT (SELECT string_agg(id || state || quantity || total_minor || seats::text "
        "|| lines::text, ',' ORDER BY id) FROM holds WHERE event_id = '%s') || '/' || "
        "(SELECT string_agg(label || state || coalesce(hold_id::text, '-'), ',' ORDER "
        "BY label) FROM event_seats WHERE event_id = '%s') || '/' || (SELECT "
        "coalesce(sum(held), 0) FROM event_ga WHERE event_id = '%s') || '/' || "
        "(SELECT count(*) FROM outbox WHERE route_key = '%s')",
        ev->id, ev->id, ev->id, ev->id);
}

static void s_same(char *before, const hf_event_t *ev, int line)
{
    char *after = s_footprint(ev);
    ck_assert_msg(!strcmp(before, after), "line %d: a refused change wrote something", line);
    free(after);
}
#define S_SAME(before, ev) s_same((before), (ev), __LINE__)

/* A booking pending payment on hold (as the checkout pool leaves it). */
static void s_pending_booking(const hf_event_t *ev, const char *hold, const char *user)
{
    char *id = hf_text(&s_sys,
                       "INSERT INTO bookings (id, user_id, event_id, org_id, hold_id, quantity, "
                       "currency, subtotal_minor, total_minor, lines, payment_due_at) "
                       "SELECT gen_random_uuid(), '%s', e.id, e.org_id, h.id, h.quantity, "
                       "h.currency, h.total_minor, h.total_minor, h.lines, h.expires_at "
                       "FROM holds h JOIN events e ON e.id = h.event_id "
                       "WHERE h.id = '%s' AND e.id = '%s' RETURNING id",
                       user, hold, ev->id);
    ck_assert_ptr_nonnull(id);
    free(id);
}

/* ---- seats ---- */

START_TEST(seats_added_and_removed_with_lines_recomputed)
{
    hf_event_t ev;
    char hold[37];
    hf_event(&s_sys, 3, 10, 20, &ev);
    hf_hold(&s_sys, &ev, s_x, hf_j("{'seats':['A1']}"), hold);
    /* a Premium seat joins: a mixed hold, two lines */
    bx_httpc_resp_t r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['A5']}"));
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "data.id"), hold);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.quantity"), 2);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.seats.1.label"), "A5");
    ck_assert_int_eq(hf_int(r.json, "data.attributes.price.total_minor"), 14000);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "data.attributes.price.lines")), 2);
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A5"), "held");
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM event_seats WHERE hold_id = '%s'", hold),
                     2);
    /* the price of Standard goes up: A1 keeps its price, the added A2 takes the new one */
    char *tier = hf_text(&s_sys,
                         "UPDATE ticket_tiers SET price_minor = 6000 WHERE id = '%s' "
                         "RETURNING id",
                         ev.standard);
    free(tier);
    r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['A2']}"));
    HF_EXPECT(r, 200);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.quantity"), 3);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.price.total_minor"), 5000 + 6000 + 9000);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "data.attributes.price.lines")), 3);
    bx_httpc_free(&r);
    /* A5 leaves: its line goes, it is back on sale and offered to the waitlist */
    r = S_REMOVE(&ev, hold, s_x, "?seats=A5");
    HF_EXPECT(r, 200);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.quantity"), 2);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.price.total_minor"), 11000);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "data.attributes.price.lines")), 2);
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A5"), "available");
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE service = 'waitlist' AND route_key "
                            "= '%s' AND payload->'seat_ids' ? (SELECT seat_id::text FROM "
                            "event_seats WHERE event_id = '%s' AND label = 'A5')",
                            ev.id, ev.id),
                     1);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT total_minor FROM holds WHERE id = '%s'", hold), 11000);
    /* refused, each changing nothing: every seat, a seat not in it, someone else's hold */
    char *before = s_footprint(&ev);
    r = S_REMOVE(&ev, hold, s_x, "?seats=A1,A2");
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    r = S_REMOVE(&ev, hold, s_x, "?seats=A1,B9");
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_str_eq(hf_str(r.json, "not_held.0"), "B9");
    bx_httpc_free(&r);
    r = S_ADD(&ev, hold, s_y, hf_j("{'seats':['B1']}"));
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = S_REMOVE(&ev, hold, s_y, "?seats=A1");
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['Z99']}")); /* no such seat */
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    r = S_ADD(&ev, hold, s_x, hf_j("{'tier_id':'%s','quantity':1}", ev.standing));
    HF_PROBLEM(r, 400, "validation-failed"); /* a seated hold changes by seats */
    bx_httpc_free(&r);
    r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['B1'],'colour':'red'}"));
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    r = S_REMOVE(&ev, hold, s_x, "");
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    S_SAME(before, &ev);
    free(before);
    /* a released hold is no cart any more */
    r = hf_on_hold(&s_sys, "DELETE", &ev, hold, s_x);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['B1']}"));
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "B1"), "available");
}
END_TEST

START_TEST(all_or_nothing_when_one_seat_is_taken)
{
    hf_event_t ev;
    char hold[37], other[37];
    hf_event(&s_sys, 3, 10, 20, &ev);
    hf_hold(&s_sys, &ev, s_x, hf_j("{'seats':['B1']}"), hold);
    hf_hold(&s_sys, &ev, s_y, hf_j("{'seats':['B5']}"), other);
    char *before = s_footprint(&ev);
    bx_httpc_resp_t r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['B2','B5','B6']}"));
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_int_eq(json_array_size(hf_get(r.json, "unavailable")), 1);
    ck_assert_str_eq(hf_str(r.json, "unavailable.0"), "B5");
    bx_httpc_free(&r);
    S_SAME(before, &ev);
    free(before);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "B2"), "available");
    ck_assert_int_eq(hf_num(&s_sys, "SELECT quantity FROM holds WHERE id = '%s'", hold), 1);
    /* the free ones alone go in */
    r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['B2','B3']}"));
    HF_EXPECT(r, 200);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.quantity"), 3);
    bx_httpc_free(&r);
}
END_TEST

START_TEST(per_user_and_per_order_limits_hold_across_adds)
{
    hf_event_t ev;
    char hold[37], second[37];
    hf_event(&s_sys, 3, 10, 20, &ev);
    hf_settings(&s_sys, &ev, hf_j("{'max_per_user':3}"));
    hf_hold(&s_sys, &ev, s_x, hf_j("{'seats':['C1']}"), hold);
    hf_hold(&s_sys, &ev, s_x, hf_j("{'seats':['C9']}"), second);
    char *before = s_footprint(&ev);
    bx_httpc_resp_t r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['C2','C3']}"));
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_int_eq(hf_int(r.json, "limit"), 3);
    ck_assert_int_eq(hf_int(r.json, "have"), 2);
    bx_httpc_free(&r);
    S_SAME(before, &ev);
    free(before);
    r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['C2']}"));
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    /* per order: Standard sells at most 2 per order now */
    hf_settings(&s_sys, &ev, hf_j("{'max_per_user':10}"));
    free(hf_text(&s_sys, "UPDATE ticket_tiers SET max_per_order = 2 WHERE id = '%s' RETURNING id",
                 ev.standard));
    r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['C3']}"));
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_str_eq(hf_str(r.json, "tier_id"), ev.standard);
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "C3"), "available");
    /* GA: a GA hold grows within the limit and the tier's capacity */
    hf_hold(&s_sys, &ev, s_y, hf_j("{'tier_id':'%s','quantity':3}", ev.standing), second);
    r = S_ADD(&ev, second, s_y, hf_j("{'tier_id':'%s','quantity':2}", ev.standing));
    HF_EXPECT(r, 200);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.quantity"), 5);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.price.total_minor"), 12500);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.price.lines.0.quantity"), 5);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT held FROM event_ga WHERE event_id = '%s'", ev.id), 5);
    r = S_ADD(&ev, second, s_y, hf_j("{'tier_id':'%s','quantity':6}", ev.standing));
    HF_PROBLEM(r, 409, "conflict"); /* 11 > 10 per customer */
    ck_assert_int_eq(hf_int(r.json, "limit"), 10);
    bx_httpc_free(&r);
    r = S_ADD(&ev, second, s_y, hf_j("{'seats':['C5']}"));
    HF_PROBLEM(r, 400, "validation-failed"); /* a GA hold stays GA */
    bx_httpc_free(&r);
    r = S_ADD(&ev, second, s_y, hf_j("{'tier_id':'%s','quantity':1}", ev.standard));
    HF_PROBLEM(r, 400, "validation-failed"); /* and one tier */
    bx_httpc_free(&r);
    /* the Standing price changes: the next units are a line of their own */
    free(hf_text(&s_sys, "UPDATE ticket_tiers SET price_minor = 3000 WHERE id = '%s' RETURNING id",
                 ev.standing));
    r = S_ADD(&ev, second, s_y, hf_j("{'tier_id':'%s','quantity':1}", ev.standing));
    HF_EXPECT(r, 200);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.price.total_minor"), 12500 + 3000);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "data.attributes.price.lines")), 2);
    bx_httpc_free(&r);
    /* removing takes the newest units first; all of them is a release */
    r = S_REMOVE(&ev, second, s_y, "?quantity=4");
    HF_EXPECT(r, 200);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.quantity"), 2);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.price.total_minor"), 5000);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT held FROM event_ga WHERE event_id = '%s'", ev.id), 2);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE service = 'waitlist' AND route_key "
                            "= '%s' AND (payload->>'quantity')::int = 4",
                            ev.id),
                     1);
    r = S_REMOVE(&ev, second, s_y, "?quantity=2");
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    r = S_REMOVE(&ev, second, s_y, "?quantity=0");
    HF_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT held FROM event_ga WHERE event_id = '%s'", ev.id), 2);
}
END_TEST

START_TEST(orphan_rule_on_add_and_remove)
{
    hf_event_t ev;
    char hold[37];
    hf_event(&s_sys, 2, 10, 20, &ev);
    hf_settings(&s_sys, &ev, hf_j("{'orphan_rule':true}"));
    hf_hold(&s_sys, &ev, s_x, hf_j("{'seats':['B3','B4']}"), hold);
    char *before = s_footprint(&ev);
    bx_httpc_resp_t r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['B2']}"));
    HF_PROBLEM(r, 409, "conflict"); /* B1 alone at the row's end */
    ck_assert_str_eq(hf_str(r.json, "orphaned.0"), "B1");
    bx_httpc_free(&r);
    S_SAME(before, &ev);
    free(before);
    r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['B5']}"));
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    before = s_footprint(&ev);
    r = S_REMOVE(&ev, hold, s_x, "?seats=B4");
    HF_PROBLEM(r, 409, "conflict"); /* B4 alone between B3 and B5 */
    ck_assert_str_eq(hf_str(r.json, "orphaned.0"), "B4");
    bx_httpc_free(&r);
    S_SAME(before, &ev);
    free(before);
    r = S_REMOVE(&ev, hold, s_x, "?seats=B5");
    HF_EXPECT(r, 200); /* B5 next to the free B6 */
    bx_httpc_free(&r);
    hf_settings(&s_sys, &ev, hf_j("{'orphan_rule':false}"));
    r = S_REMOVE(&ev, hold, s_x, "?seats=B3");
    HF_EXPECT(r, 200); /* rule off: B3 may stay alone */
    bx_httpc_free(&r);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "B3"), "available");
}
END_TEST

/* ---- a booking pending payment ---- */

START_TEST(pending_booking_freezes_the_hold_and_expires_with_it)
{
    hf_event_t ev;
    char hold[37];
    hf_event(&s_sys, 2, 10, 20, &ev);
    hf_settings(&s_sys, &ev, hf_j("{'hold_ttl_s':5}"));
    hf_hold(&s_sys, &ev, s_x, hf_j("{'seats':['A7','A8']}"), hold);
    s_pending_booking(&ev, hold, s_xid);
    /* checkout keeps the hold alive until the payment deadline: 9 s from now */
    free(hf_text(&s_sys,
                 "UPDATE holds SET expires_at = now() + interval '9 seconds' WHERE id = '%s' "
                 "RETURNING id",
                 hold));
    int64_t due = bx_mono_ms() + 9000;
    char *before = s_footprint(&ev);
    bx_httpc_resp_t r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['A9']}"));
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    r = S_REMOVE(&ev, hold, s_x, "?seats=A8");
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    r = hf_on_hold(&s_sys, "DELETE", &ev, hold, s_x);
    HF_PROBLEM(r, 409, "conflict");
    ck_assert_ptr_nonnull(strstr(hf_str(r.json, "detail"), "cancel the booking"));
    bx_httpc_free(&r);
    S_SAME(before, &ev);
    free(before);
    /* its original lifetime (5 s) passes: still held */
    usleep(6500 * 1000);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM holds WHERE id = '%s' AND state = "
                            "'active'",
                            hold),
                     1);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A7"), "held");
    /* the extended one passes: hold expired, seats back, booking expired */
    long waited = -1;
    for (int i = 0; i < 60 && waited < 0; i++) {
        long done = hf_num(&s_sys,
                           "SELECT count(*) FROM bookings b JOIN holds h ON h.id = b.hold_id "
                           "WHERE h.id = '%s' AND h.state = 'expired' AND b.status = 'expired'",
                           hold);
        if (done == 1)
            waited = (long)(bx_mono_ms() - due);
        else
            usleep(200000);
    }
    ck_assert_msg(waited >= 0 && waited <= 4000, "booking expired %ld ms after the deadline",
                  waited);
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A7"), "available");
    ck_assert_str_eq(hf_seat_state(&s_sys, &ev, "A8"), "available");
}
END_TEST

/* ---- the live feed ---- */

/* Opens the event's stream on a raw socket; returns the fd. */
static int s_stream_open(const hf_event_t *ev)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(HTTP_PORT)};
    char req[512];
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    int n = snprintf(req, sizeof req,
                     "GET /api/v1/events/%s/inventory/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Accept: text/event-stream\r\n\r\n",
                     ev->id);
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    return fd;
}

/* Reads the stream into buf (cap) until needle appears or ms pass; 1 when it appeared. */
static int s_stream_until(int fd, char *buf, size_t cap, size_t *len, const char *needle, int ms)
{
    int64_t end = bx_mono_ms() + ms;
    while (!strstr(buf, needle)) {
        int64_t left = end - bx_mono_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0 || *len + 1 >= cap)
            return 0;
        ssize_t n = read(fd, buf + *len, cap - *len - 1);
        if (n <= 0)
            return 0;
        *len += (size_t)n;
        buf[*len] = '\0';
    }
    return 1;
}

START_TEST(stream_shows_holds_cart_changes_and_releases_within_a_second)
{
    hf_event_t ev;
    char hold[37], mine[37];
    static char buf[1 << 17];
    size_t len = 0;
    buf[0] = '\0';
    hf_event(&s_sys, 3, 10, 20, &ev);
    int fd = s_stream_open(&ev);
    ck_assert_msg(s_stream_until(fd, buf, sizeof buf, &len, "event: ready", 3000),
                  "no ready event: %s", buf);
    /* another user holds C5: the watcher sees it held within a second */
    int64_t t0 = bx_mono_ms();
    hf_hold(&s_sys, &ev, s_y, hf_j("{'seats':['C5']}"), hold);
    ck_assert_msg(s_stream_until(fd, buf, sizeof buf, &len, "\"label\":\"C5\"", 1000),
                  "C5 not seen within 1 s: %s", buf);
    long ms = (long)(bx_mono_ms() - t0);
    ck_assert_msg(ms <= 1000, "seen after %ld ms", ms);
    fprintf(stderr, "it_cart: hold seen on the stream %ld ms after the request was sent\n", ms);
    ck_assert_ptr_nonnull(strstr(buf, "\"state\":\"held\""));
    /* a cart change and a GA hold too */
    bx_httpc_resp_t r = S_ADD(&ev, hold, s_y, hf_j("{'seats':['C6']}"));
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    ck_assert(s_stream_until(fd, buf, sizeof buf, &len, "\"label\":\"C6\"", 1000));
    hf_hold(&s_sys, &ev, s_x, hf_j("{'tier_id':'%s','quantity':4}", ev.standing), mine);
    ck_assert(s_stream_until(fd, buf, sizeof buf, &len, "\"held\":4", 1000));
    /* the release: C5 and C6 available again */
    len = 0;
    buf[0] = '\0';
    r = hf_on_hold(&s_sys, "DELETE", &ev, hold, s_y);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    ck_assert(s_stream_until(fd, buf, sizeof buf, &len, "\"state\":\"available\"", 1000));
    ck_assert_ptr_nonnull(strstr(buf, "\"label\":\"C5\""));
    close(fd);
}
END_TEST

/* ---- the waiting room's admission ---- */

START_TEST(admission_token_is_stored_with_the_hold)
{
    hf_event_t ev;
    char path[400], hdr[4200], hold[37];
    hf_event(&s_sys, 2, 10, 20, &ev);
    free(hf_text(&s_sys,
                 "INSERT INTO waitroom_config (event_id, prequeue_opens_at, sale_starts_at, "
                 "admit_per_minute, max_active_shoppers, token_ttl_s, seed, seed_sha256) VALUES "
                 "('%s', now() - interval '1 hour', now() - interval '1 hour', 100, 100, 600, "
                 "repeat('a', 64), repeat('b', 64)) RETURNING event_id",
                 ev.id));
    usleep(1100 * 1000); /* the frontdoor caches room settings for a second */
    bx_httpc_resp_t r = s_hold_h(&ev, s_x, hf_j("{'seats':['A1']}"), NULL);
    HF_PROBLEM(r, 403, "forbidden");
    bx_httpc_free(&r);
    /* an admission token as the gatekeeper signs it */
    snprintf(path, sizeof path, "%s/keys", s_sys.dir);
    bx_jwt_ring_t *ring = bx_jwt_ring_load(path, "boxoffice");
    ck_assert_ptr_nonnull(ring);
    bx_wroom_claims_t c = {0};
    bx_strlcpy(c.user_id, s_xid, sizeof c.user_id);
    bx_strlcpy(c.event_id, ev.id, sizeof c.event_id);
    bx_uuid_v7(c.entry_id);
    bx_uuid_v7(c.jti);
    c.iat = bx_now_ms() / 1000;
    c.exp = c.iat + 600;
    char *tok = bx_wroom_sign(ring, BX_WROOM_ADMIT, &c);
    ck_assert_ptr_nonnull(tok);
    snprintf(hdr, sizeof hdr, "Admission-Token: %s", tok);
    r = s_hold_h(&ev, s_x, hf_j("{'seats':['A1']}"), hdr);
    HF_EXPECT(r, 201);
    bx_strlcpy(hold, hf_str(r.json, "data.id"), sizeof hold);
    bx_httpc_free(&r);
    char *jti = hf_text(&s_sys, "SELECT admission_jti FROM holds WHERE id = '%s'", hold);
    ck_assert_str_eq(jti, c.jti);
    free(jti);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT admission_exp FROM holds WHERE id = '%s'", hold),
                     (long)c.exp);
    /* adding to the cart goes through the gate too */
    r = S_ADD(&ev, hold, s_x, hf_j("{'seats':['A2']}"));
    HF_PROBLEM(r, 403, "forbidden");
    bx_httpc_free(&r);
    r = s_items("POST", &ev, hold, s_x, hf_j("{'seats':['A2']}"), NULL, hdr);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    /* someone else's hold made without a room stores nothing */
    free(hf_text(&s_sys,
                 "UPDATE waitroom_config SET enabled = false WHERE event_id = '%s' "
                 "RETURNING event_id",
                 ev.id));
    usleep(1100 * 1000);
    hf_hold(&s_sys, &ev, s_y, hf_j("{'seats':['B1']}"), hold);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM holds WHERE id = '%s' AND "
                            "admission_jti IS NULL AND admission_exp IS NULL",
                            hold),
                     1);
    free(tok);
    bx_jwt_ring_destroy(&ring);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("it_cart");
    TCase *tc = tcase_create("cart");
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, seats_added_and_removed_with_lines_recomputed);
    tcase_add_test(tc, all_or_nothing_when_one_seat_is_taken);
    tcase_add_test(tc, per_user_and_per_order_limits_hold_across_adds);
    tcase_add_test(tc, orphan_rule_on_add_and_remove);
    tcase_add_test(tc, pending_booking_freezes_the_hold_and_expires_with_it);
    tcase_add_test(tc, stream_shows_holds_cart_changes_and_releases_within_a_second);
    tcase_add_test(tc, admission_token_is_stored_with_the_hold);
    suite_add_tcase(s, tc);
    return s;
}
