/* it_booking: the whole booking pipeline end to end over real HTTP against real processes
 * (frontdoor, broker, hold, checkout, payment and ticket pools, scheduler, bx-sandbox as
 * the payment gateway): a partner sets fees and a promo code; a customer holds two seats,
 * checks out with the code, pays with the sandbox's test card, gets two signed tickets
 * whose QR images decode (zbarimg) to payloads a scanner admits exactly once; the
 * customer cancels under the event's policy and is refunded what the policy gives back,
 * the seats are available again and the other ticket is revoked. A partner cancelling the
 * event refunds every booking in full. Ports 27000-27002. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_harness.h"
#include "bx_jwt.h"
#include "bx_suite.h"
#include "bx_util.h"
#include "holds_fixture.h"

#define S_PORT 27000
#define S_SBX  "http://127.0.0.1:27002"

static hf_sys_t s_sys;
static char s_scanner[4096];

static const char *const s_wait[] = {"Prefer: wait=15", NULL};

static void s_setup(void)
{
    const char *env[] = {"BOXOFFICE_STRIPE_API_BASE=" S_SBX, "BOXOFFICE_RAZORPAY_API_BASE=" S_SBX,
                         "BOXOFFICE_GATEWAY_TIMEOUT_MS=5000",
                         /* one booking per cancel_event job: the chain must reach them all */
                         "BOXOFFICE_CANCEL_EVENT_PAGE=1", NULL};
    const char *sbx[] = {
        "bx-sandbox", "--port", "27002", "--webhook-base", "http://127.0.0.1:27000", NULL};
    hf_start(&s_sys, "booking_e2e", S_PORT, 1, env);
    hf_spawn(&s_sys, "bx-sandbox", sbx);
    ck_assert_int_eq(bx_h_wait_port(27002, 5000), 0);
    hf_spawn(&s_sys, "bx-worker-checkout", NULL);
    hf_spawn(&s_sys, "bx-worker-payment", NULL);
    hf_spawn(&s_sys, "bx-worker-ticket", NULL);
    hf_token(&s_sys, "scanner", s_scanner, sizeof s_scanner, NULL);
}

static void s_teardown(void)
{
    hf_stop(&s_sys);
}

/* ---- steps ---- */

/* Checks out hold (with promo, may be NULL); returns the booking document (caller frees). */
static bx_httpc_resp_t s_checkout(const char *tok, const char *hold, const char *promo)
{
    const char *body = promo ? hf_j("{'hold_id': '%s', 'promo_code': '%s'}", hold, promo)
                             : hf_j("{'hold_id': '%s'}", hold);
    bx_httpc_resp_t r = hf_call(&s_sys, "POST", "/api/v1/bookings", tok, body, s_wait);
    HF_EXPECT(r, 201);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.status"), "pending_payment");
    return r;
}

/* Pays booking with the sandbox's Stripe test card that succeeds. */
static void s_pay(const char *tok, const char *booking)
{
    bx_httpc_resp_t r = hf_call(&s_sys, "POST", "/api/v1/payments", tok,
                                hf_j("{'booking_id': '%s', 'provider': 'stripe', 'method': 'card', "
                                     "'payment_method': 'pm_card_visa'}",
                                     booking),
                                s_wait);
    ck_assert_msg(r.status == 200 || r.status == 201, "pay: %ld %s", r.status, r.body);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.status"), "succeeded");
    bx_httpc_free(&r);
}

/* Reads the booking's tickets, waiting until they are issued (at most 15 s). */
static bx_httpc_resp_t s_tickets(const char *tok, const char *booking)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/bookings/%s/ticket", booking);
    for (int i = 0; i < 150; i++) {
        bx_httpc_resp_t r = hf_call(&s_sys, "GET", path, tok, NULL, NULL);
        if (r.status == 200)
            return r;
        ck_assert_msg(r.status == 202 || r.status == 409, "tickets: %ld %s", r.status, r.body);
        bx_httpc_free(&r);
        usleep(100000);
    }
    ck_abort_msg("tickets of %s not issued within 15 s", booking);
    return (bx_httpc_resp_t){0};
}

/* Waits until the SQL condition (a boolean expression over booking b) holds, 20 s at most. */
static int s_until(const char *booking, const char *cond)
{
    for (int i = 0; i < 200; i++) {
        if (hf_num(&s_sys, "SELECT (%s)::int FROM bookings b WHERE b.id = '%s'", cond, booking) ==
            1)
            return 1;
        usleep(100000);
    }
    return 0;
}

/* The QR image of a ticket through the API, decoded with zbarimg: the payload (caller frees). */
static char *s_qr_decode(const char *tok, const char *ticket)
{
    char path[160], file[400], cmd[600], out[1024] = "";
    snprintf(path, sizeof path, "/api/v1/tickets/%s/qr.png", ticket);
    bx_httpc_resp_t r = hf_call(&s_sys, "GET", path, tok, NULL, NULL);
    HF_EXPECT(r, 200);
    snprintf(file, sizeof file, "%s/ticket-%s.png", s_sys.dir, ticket);
    FILE *f = fopen(file, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(r.body, 1, r.len, f);
    fclose(f);
    bx_httpc_free(&r);
    snprintf(cmd, sizeof cmd, "zbarimg --raw -q '%s'", file);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    if (!fgets(out, sizeof out, p))
        out[0] = '\0';
    pclose(p);
    out[strcspn(out, "\r\n")] = '\0';
    return strdup(out);
}

static bx_httpc_resp_t s_checkin(const char *payload, const char *gate)
{
    return hf_call(&s_sys, "POST", "/api/v1/checkins", s_scanner,
                   hf_j("{'payload': '%s', 'gate': '%s'}", payload, gate), NULL);
}

/* ---- tests ---- */

START_TEST(booking_end_to_end)
{
    hf_event_t ev;
    char tok[4096], uid[37], hold[37], booking[37], path[200];
    hf_event(&s_sys, 3, 10, 100, &ev);
    hf_customer(&s_sys, tok, sizeof tok, uid);

    /* the partner: a service fee of 1.00 per ticket, 10% kept on a customer cancel, and a
     * 10% code for this event */
    snprintf(path, sizeof path, "/api/v1/events/%s/booking-settings", ev.id);
    bx_httpc_resp_t r = hf_call(&s_sys, "PUT", path, s_sys.partner,
                                hf_j("{'service_fee_minor': 100, 'cancel_fee_bp': 1000, "
                                     "'cancel_deadline_h': 24}"),
                                NULL);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    r = hf_call(
        &s_sys, "POST", "/api/v1/promo-codes", s_sys.partner,
        hf_j("{'code': 'E2E10', 'kind': 'percent', 'value': 1000, 'event_id': '%s'}", ev.id), NULL);
    HF_EXPECT(r, 201);
    bx_httpc_free(&r);

    /* hold A1 and A2 (Standard, 5000 each), check out with the code in lower case */
    hf_hold(&s_sys, &ev, tok, hf_j("{'seats': ['A1', 'A2']}"), hold);
    r = s_checkout(tok, hold, "e2e10");
    bx_strlcpy(booking, hf_str(r.json, "data.id"), sizeof booking);
    long subtotal = hf_int(r.json, "data.attributes.subtotal_minor");
    long discount = hf_int(r.json, "data.attributes.discount_minor");
    long fee = hf_int(r.json, "data.attributes.fee_minor");
    long tax = hf_int(r.json, "data.attributes.tax_minor");
    long total = hf_int(r.json, "data.attributes.total_minor");
    ck_assert_int_eq(subtotal, 10000);
    ck_assert_int_eq(discount, 1000);
    ck_assert_int_eq(fee, 200);
    ck_assert_int_eq(total, subtotal - discount + fee + tax);
    bx_httpc_free(&r);
    /* the hold lives as long as the payment window */
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT (h.expires_at = b.payment_due_at)::int FROM holds h "
                            "JOIN bookings b ON b.hold_id = h.id WHERE b.id = '%s'",
                            booking),
                     1);

    /* pay; the tickets follow */
    s_pay(tok, booking);
    r = s_tickets(tok, booking);
    json_t *tickets = hf_get(r.json, "data.tickets");
    ck_assert_int_eq((int)json_array_size(tickets), 2);
    char t1[37], t2[37], p2[1024];
    bx_strlcpy(t1, json_string_value(json_object_get(json_array_get(tickets, 0), "id")), 37);
    bx_strlcpy(t2, json_string_value(json_object_get(json_array_get(tickets, 1), "id")), 37);
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/bookings/%s", booking);
    r = hf_call(&s_sys, "GET", path, tok, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.status"), "confirmed");
    ck_assert_int_eq(hf_int(r.json, "data.attributes.paid_minor"), total);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM event_seats WHERE event_id = '%s' AND label IN "
                            "('A1', 'A2') AND state = 'sold'",
                            ev.id),
                     2);
    /* exactly one charge at the gateway for this booking */
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM payments WHERE booking_id = '%s' AND "
                            "status = 'succeeded' AND captured_minor = %ld",
                            booking, total),
                     1);

    /* the QR code decodes to a payload the scanner admits once */
    char *p1 = s_qr_decode(tok, t1);
    ck_assert_msg(strlen(p1) > 20, "QR decoded to '%s'", p1);
    r = s_checkin(p1, "north");
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    r = s_checkin(p1, "south");
    HF_EXPECT(r, 409);
    bx_httpc_free(&r);
    free(p1);
    char *q2 = s_qr_decode(tok, t2);
    bx_strlcpy(p2, q2, sizeof p2);
    free(q2);

    /* the customer cancels (the event is days away): the policy keeps 10% of the tickets
     * and the service fee; the rest is refunded through the gateway */
    snprintf(path, sizeof path, "/api/v1/bookings/%s/cancel", booking);
    r = hf_call(&s_sys, "POST", path, tok, hf_j("{'reason': 'cannot come'}"), s_wait);
    ck_assert_msg(r.status == 200 || r.status == 202, "cancel: %ld %s", r.status, r.body);
    bx_httpc_free(&r);
    ck_assert(s_until(booking, "b.status = 'cancelled'"));
    ck_assert_msg(s_until(booking, "b.refunded_minor > 0"), "no refund arrived");
    long refunded = hf_num(&s_sys, "SELECT refunded_minor FROM bookings WHERE id = '%s'", booking);
    ck_assert_int_lt(refunded, total);
    ck_assert_int_le(refunded, total - fee);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM refunds WHERE booking_id = '%s' AND "
                            "status = 'succeeded'",
                            booking),
                     1);
    /* the seats are for sale again and the other ticket no longer admits */
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM event_seats WHERE event_id = '%s' AND label IN "
                            "('A1', 'A2') AND state = 'available'",
                            ev.id),
                     2);
    r = s_checkin(p2, "north");
    HF_EXPECT(r, 409);
    bx_httpc_free(&r);
}
END_TEST

START_TEST(event_cancel_refunds_everyone)
{
    enum { N = 3 };
    hf_event_t ev;
    char tok[N][4096], hold[37], booking[N][37], path[160];
    hf_event(&s_sys, 3, 10, 100, &ev);
    for (int i = 0; i < N; i++) {
        hf_customer(&s_sys, tok[i], sizeof tok[i], NULL);
        hf_hold(&s_sys, &ev, tok[i], hf_j("{'tier_id': '%s', 'quantity': 2}", ev.standing), hold);
        bx_httpc_resp_t r = s_checkout(tok[i], hold, NULL);
        bx_strlcpy(booking[i], hf_str(r.json, "data.id"), 37);
        bx_httpc_free(&r);
        s_pay(tok[i], booking[i]);
    }
    snprintf(path, sizeof path, "/api/v1/events/%s/cancel", ev.id);
    bx_httpc_resp_t r = hf_call(&s_sys, "POST", path, s_sys.partner, NULL, NULL);
    ck_assert_msg(r.status == 200 || r.status == 202, "cancel event: %ld %s", r.status, r.body);
    bx_httpc_free(&r);
    for (int i = 0; i < N; i++) {
        ck_assert(s_until(booking[i], "b.status = 'cancelled'"));
        ck_assert_msg(s_until(booking[i], "b.refunded_minor = b.paid_minor AND b.paid_minor > 0"),
                      "booking %d not refunded in full", i);
    }
    /* nothing of the cancelled event is sold any more; with one booking per job the
     * cancellation took a chain of N + 1 jobs (the last finds nothing left) */
    ck_assert_int_eq(hf_num(&s_sys, "SELECT sold FROM event_ga WHERE event_id = '%s'", ev.id), 0);
    ck_assert_int_ge(hf_num(&s_sys,
                            "SELECT count(*) FROM requests WHERE service = 'checkout' AND "
                            "payload->>'op' = 'cancel_event' AND payload->>'event_id' = '%s'",
                            ev.id),
                     N);
}
END_TEST

/* A hold made under a waiting-room admission: the payment that completes the booking spends
 * the admission (the token cannot hold again, the shopper's place is freed). */
START_TEST(payment_spends_the_waiting_room_admission)
{
    hf_event_t ev;
    char tok[4096], uid[37], hold[37], booking[37], jti[37];
    hf_event(&s_sys, 3, 10, 100, &ev);
    hf_customer(&s_sys, tok, sizeof tok, uid);
    hf_hold(&s_sys, &ev, tok, hf_j("{'tier_id': '%s', 'quantity': 1}", ev.standing), hold);
    bx_uuid_v7(jti);
    free(hf_text(&s_sys,
                 "INSERT INTO waitroom_entries (id, event_id, user_id, prequeue, lottery, state, "
                 "admitted_at, admission_jti, admission_expires_at) VALUES (gen_random_uuid(), "
                 "'%s', '%s', false, 1, 'admitted', now(), '%s', now() + interval '10 minutes'); "
                 "UPDATE holds SET admission_jti = '%s', "
                 "admission_exp = extract(epoch FROM now() + interval '10 minutes')::bigint "
                 "WHERE id = '%s'",
                 ev.id, uid, jti, jti, hold));
    bx_httpc_resp_t r = s_checkout(tok, hold, NULL);
    bx_strlcpy(booking, hf_str(r.json, "data.id"), sizeof booking);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM waitroom_entries WHERE "
                            "admission_jti = '%s' AND state = 'admitted'",
                            jti),
                     1);
    s_pay(tok, booking);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM waitroom_entries WHERE "
                            "admission_jti = '%s' AND state = 'spent'",
                            jti),
                     1);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("booking");
    TCase *tc = tcase_create("pipeline");
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, booking_end_to_end);
    tcase_add_test(tc, event_cancel_refunds_everyone);
    tcase_add_test(tc, payment_spends_the_waiting_room_admission);
    suite_add_tcase(s, tc);
    return s;
}
