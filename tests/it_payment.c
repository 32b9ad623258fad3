/* it_payment: payments over real HTTP against real processes (frontdoor, broker, hold
 * workers, scheduler, bx-worker-payment, bx-sandbox as Stripe and Razorpay): a card that
 * pays confirms the booking (seats sold, ticket job queued, one charge); declines leave
 * the booking payable and another card pays it; 3-D Secure and Razorpay UPI confirm through
 * signed webhooks; a worker SIGKILLed between the gateway's answer and its commit, and a
 * gateway timeout, each end with exactly one charge and one confirmed booking; duplicate,
 * out-of-order and forged webhooks change nothing; refunds never exceed what was captured;
 * nobody sees anyone else's payment; card numbers are refused. Bookings are made in SQL
 * from holds made through the API (the checkout pool is not needed). Ports 26600-26602. */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bx_harness.h"
#include "bx_suite.h"
#include "bx_util.h"
#include "holds_fixture.h"

#define S_SBX       "http://127.0.0.1:26602"
#define S_WHSEC     "whsec_boxoffice_sandbox"
#define S_RZP_WHSEC "rzp_whsec_sandbox"

static hf_sys_t s_sys;
static hf_event_t s_ev;
static int s_worker; /* the payment worker's slot in s_sys.extra */

static void s_setup(void)
{
    const char *env[] = {"BOXOFFICE_STRIPE_API_BASE=" S_SBX,  "BOXOFFICE_RAZORPAY_API_BASE=" S_SBX,
                         "BOXOFFICE_GATEWAY_TIMEOUT_MS=1000", "BOXOFFICE_PAYMENT_SETTLE_AFTER_S=2",
                         "BOXOFFICE_WORKER_CREDIT=4",         NULL};
    const char *sbx[] = {
        "bx-sandbox",         "--port", "26602", "--webhook-base", "http://127.0.0.1:26600",
        "--gateway-delay-ms", "2500",   NULL};
    hf_start(&s_sys, "payment", 26600, 1, env);
    hf_spawn(&s_sys, "bx-sandbox", sbx);
    ck_assert_int_eq(bx_h_wait_port(26602, 5000), 0);
    s_worker = hf_spawn(&s_sys, "bx-worker-payment", NULL);
    hf_event(&s_sys, 3, 10, 100, &s_ev);
}

static void s_teardown(void)
{
    hf_stop(&s_sys);
}

/* A customer with a booking of 2 GA units (5000 minor) pending payment, made in SQL from
 * a hold made through the API and kept alive for ten minutes. */
typedef struct {
    char tok[4096];
    char uid[37];
    char booking[37];
    char hold[37];
} s_cust_t;

static void s_booked(s_cust_t *c)
{
    hf_customer(&s_sys, c->tok, sizeof c->tok, c->uid);
    const char *h[] = {"Prefer: wait=10", NULL};
    char path[160];
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory/hold", s_ev.id);
    bx_httpc_resp_t r = hf_call(&s_sys, "POST", path, c->tok,
                                hf_j("{'tier_id': '%s', 'quantity': 2}", s_ev.standing), h);
    HF_EXPECT(r, 201);
    bx_strlcpy(c->hold, hf_str(r.json, "data.id"), sizeof c->hold);
    bx_httpc_free(&r);
    char *id = hf_text(&s_sys,
                       "WITH h AS (UPDATE holds SET expires_at = now() + interval '10 minutes' "
                       "WHERE id = '%s' RETURNING *) "
                       "INSERT INTO bookings (id, user_id, event_id, org_id, hold_id, quantity, "
                       "currency, subtotal_minor, total_minor, lines, payment_due_at) "
                       "SELECT gen_random_uuid(), h.user_id, h.event_id, e.org_id, h.id, "
                       "h.quantity, e.currency, 5000, 5000, '[]', now() + interval '10 minutes' "
                       "FROM h JOIN events e ON e.id = h.event_id RETURNING id",
                       c->hold);
    ck_assert_ptr_nonnull(id);
    bx_strlcpy(c->booking, id, sizeof c->booking);
    free(id);
}

static bx_httpc_resp_t s_pay(const s_cust_t *c, const char *body, int wait)
{
    char pref[32];
    snprintf(pref, sizeof pref, "Prefer: wait=%d", wait);
    const char *h[] = {pref, NULL};
    return hf_call(&s_sys, "POST", "/api/v1/payments", c->tok, body, h);
}

static bx_httpc_resp_t s_card(const s_cust_t *c, const char *token)
{
    return s_pay(c,
                 hf_j("{'booking_id': '%s', 'provider': 'stripe', 'method': 'card', "
                      "'payment_method': '%s', 'return_url': 'https://shop.example/back'}",
                      c->booking, token),
                 10);
}

static char *s_status(const s_cust_t *c)
{
    return hf_text(&s_sys, "SELECT status FROM bookings WHERE id = '%s'", c->booking);
}

/* Waits up to secs for the booking to reach status. */
static int s_wait_booking(const s_cust_t *c, const char *status, int secs)
{
    for (int i = 0; i < secs * 10; i++) {
        char *st = s_status(c);
        int ok = st && !strcmp(st, status);
        free(st);
        if (ok)
            return 1;
        usleep(100000);
    }
    return 0;
}

/* Charges the sandbox made for the booking. */
static long s_charges(const s_cust_t *c)
{
    char url[160];
    snprintf(url, sizeof url, S_SBX "/_sandbox/count?key=charges:%s", c->booking);
    bx_httpc_resp_t r = bx_httpc("GET", url, NULL, NULL, 0);
    long n = r.json ? hf_int(r.json, "count") : -1;
    bx_httpc_free(&r);
    return n;
}

static char *s_link_id(const bx_httpc_resp_t *r)
{
    char link[256];
    ck_assert(bx_httpc_header(r, "Link", link, sizeof link));
    char *p = strstr(link, "/api/v1/requests/");
    ck_assert_ptr_nonnull(p);
    return strndup(p + 17, 36);
}

static void s_confirmed_once(const s_cust_t *c)
{
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM payments WHERE booking_id = '%s' "
                            "AND status = 'succeeded' AND captured_minor = 5000",
                            c->booking),
                     1);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM bookings WHERE id = '%s' AND status = "
                            "'confirmed' AND paid_minor = 5000",
                            c->booking),
                     1);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM holds WHERE id = '%s' AND state = "
                            "'converted'",
                            c->hold),
                     1);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE service = 'ticket' AND "
                            "topic = 'issue' AND route_key = '%s' AND "
                            "payload->>'booking_id' = '%s'",
                            c->booking, c->booking),
                     1);
    ck_assert_int_eq(s_charges(c), 1);
}

START_TEST(card_success_confirms_sells_and_queues_tickets)
{
    s_cust_t c;
    s_booked(&c);
    long sold = hf_num(&s_sys, "SELECT sold FROM event_ga WHERE event_id = '%s'", s_ev.id);
    bx_httpc_resp_t r = s_card(&c, "pm_card_visa");
    HF_EXPECT(r, 201);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.status"), "succeeded");
    ck_assert_int_eq(hf_int(r.json, "data.attributes.captured_minor"), 5000);
    char *id = strdup(hf_str(r.json, "data.id"));
    bx_httpc_free(&r);
    s_confirmed_once(&c);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT sold FROM event_ga WHERE event_id = '%s'", s_ev.id),
                     sold + 2);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE topic = 'payment.receipt' "
                            "AND payload::text LIKE '%%%s%%'",
                            c.booking),
                     1);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/payments/%s", id);
    r = hf_call(&s_sys, "GET", path, c.tok, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.status"), "succeeded");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", path, s_sys.partner, NULL, NULL);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    /* paying a confirmed booking again is refused before any gateway call */
    r = s_card(&c, "pm_card_visa");
    HF_EXPECT(r, 409);
    bx_httpc_free(&r);
    ck_assert_int_eq(s_charges(&c), 1);
    free(id);
}
END_TEST

START_TEST(declines_keep_the_booking_payable_and_another_card_pays)
{
    s_cust_t c;
    s_booked(&c);
    bx_httpc_resp_t r = s_card(&c, "pm_card_chargeDeclined");
    HF_EXPECT(r, 402);
    bx_httpc_free(&r);
    r = s_card(&c, "pm_card_chargeDeclinedInsufficientFunds");
    HF_EXPECT(r, 402);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM payments WHERE booking_id = '%s' AND "
                            "status = 'failed' AND failure_code IN ('card_declined', "
                            "'insufficient_funds')",
                            c.booking),
                     2);
    char *st = s_status(&c);
    ck_assert_str_eq(st, "pending_payment");
    free(st);
    ck_assert_int_eq(
        hf_num(&s_sys, "SELECT count(*) FROM holds WHERE id = '%s' AND state = 'active'", c.hold),
        1);
    ck_assert_int_eq(s_charges(&c), 0);
    r = s_card(&c, "pm_card_visa");
    HF_EXPECT(r, 201);
    bx_httpc_free(&r);
    s_confirmed_once(&c);
}
END_TEST

START_TEST(three_d_secure_completes_through_the_webhook)
{
    s_cust_t c;
    s_booked(&c);
    bx_httpc_resp_t r = s_card(&c, "pm_card_threeDSecure2Required");
    HF_EXPECT(r, 202);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.status"), "requires_action");
    ck_assert_str_eq(hf_str(r.json, "data.attributes.next_action.type"), "redirect");
    char url[512];
    snprintf(url, sizeof url, "%s?result=success",
             hf_str(r.json, "data.attributes.next_action.url"));
    bx_httpc_free(&r);
    char *st = s_status(&c);
    ck_assert_str_eq(st, "pending_payment");
    free(st);
    r = bx_httpc("GET", url, NULL, NULL, 0);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    ck_assert(s_wait_booking(&c, "confirmed", 15));
    s_confirmed_once(&c);
    ck_assert_int_ge(hf_num(&s_sys,
                            "SELECT count(*) FROM gateway_events WHERE provider = 'stripe' "
                            "AND type = 'payment_intent.succeeded' AND payload->'data'->"
                            "'object'->'metadata'->>'booking_id' = '%s'",
                            c.booking),
                     1);
}
END_TEST

START_TEST(razorpay_upi_confirms_asynchronously)
{
    s_cust_t c;
    s_booked(&c);
    bx_httpc_resp_t r = s_pay(&c,
                              hf_j("{'booking_id': '%s', 'provider': 'razorpay', 'method': 'upi', "
                                   "'vpa': 'success@razorpay'}",
                                   c.booking),
                              10);
    HF_EXPECT(r, 202);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.status"), "processing");
    bx_httpc_free(&r);
    ck_assert(s_wait_booking(&c, "confirmed", 15));
    s_confirmed_once(&c);
    /* a failing UPI collect fails the payment and leaves the booking payable */
    s_cust_t d;
    s_booked(&d);
    r = s_pay(&d,
              hf_j("{'booking_id': '%s', 'provider': 'razorpay', 'method': 'upi', "
                   "'vpa': 'failure@razorpay'}",
                   d.booking),
              10);
    HF_EXPECT(r, 202);
    bx_httpc_free(&r);
    int failed = 0;
    for (int i = 0; i < 150 && !failed; i++, usleep(100000))
        failed = hf_num(&s_sys,
                        "SELECT count(*) FROM payments WHERE booking_id = '%s' AND "
                        "status = 'failed'",
                        d.booking) == 1;
    ck_assert(failed);
    char *st = s_status(&d);
    ck_assert_str_eq(st, "pending_payment");
    free(st);
    /* a wallet pays at once */
    r = s_pay(&d,
              hf_j("{'booking_id': '%s', 'provider': 'razorpay', 'method': 'wallet', "
                   "'wallet': 'paytm'}",
                   d.booking),
              10);
    HF_EXPECT(r, 201);
    bx_httpc_free(&r);
    s_confirmed_once(&d);
}
END_TEST

/* Pays c with body on a worker that dies right after the gateway answered, then restarts
 * it as a normal worker: one charge, one confirmed booking. */
static void s_crash_once(s_cust_t *c, const char *body)
{
    bx_h_stop(s_sys.extra[s_worker], SIGTERM, 10000);
    s_sys.extra[s_worker] = 0;
    const char *argv[] = {"bx-worker-payment", "--crash-after-gateway", NULL};
    int crash = hf_spawn(&s_sys, "bx-worker-payment", argv);
    bx_httpc_resp_t r = s_pay(c, body, 5);
    ck_assert_int_eq(r.status, 202); /* no answer: the worker died mid-job */
    bx_httpc_free(&r);
    int wst = 0;
    for (int i = 0; i < 100 && waitpid(s_sys.extra[crash], &wst, WNOHANG) == 0; i++)
        usleep(100000);
    ck_assert_msg(WIFEXITED(wst) && WEXITSTATUS(wst) == 137, "the worker did not crash");
    ck_assert_int_eq(s_charges(c), 1); /* the gateway charged ... */
    ck_assert_int_eq(
        hf_num(&s_sys, "SELECT count(*) FROM payments WHERE booking_id = '%s'", c->booking),
        0);                    /* ... and nothing was committed */
    hf_respawn(&s_sys, crash); /* no arguments: a normal worker */
    s_worker = crash;
    ck_assert(s_wait_booking(c, "confirmed", 30));
    s_confirmed_once(c);
    ck_assert_int_eq(
        hf_num(&s_sys, "SELECT count(*) FROM payments WHERE booking_id = '%s'", c->booking), 1);
}

START_TEST(worker_killed_between_gateway_and_commit_charges_once)
{
    s_cust_t c, d;
    s_booked(&c);
    s_booked(&d);
    /* Stripe: the re-run repeats the call with the same Idempotency-Key */
    s_crash_once(&c, hf_j("{'booking_id': '%s', 'provider': 'stripe', 'method': 'card', "
                          "'payment_method': 'pm_card_visa'}",
                          c.booking));
    /* Razorpay: the re-run finds the order by its receipt and the order's payment */
    s_crash_once(&d, hf_j("{'booking_id': '%s', 'provider': 'razorpay', 'method': 'card', "
                          "'payment_method': 'pm_card_visa'}",
                          d.booking));
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM payments WHERE booking_id = '%s' AND "
                            "provider = 'razorpay' AND provider_ref LIKE 'order_%%'",
                            d.booking),
                     1);
}
END_TEST

START_TEST(money_for_a_booking_gone_meanwhile_goes_back)
{
    s_cust_t c;
    s_booked(&c);
    bx_httpc_resp_t r = s_card(&c, "pm_card_threeDSecure2Required");
    HF_EXPECT(r, 202);
    char url[512];
    snprintf(url, sizeof url, "%s?result=success",
             hf_str(r.json, "data.attributes.next_action.url"));
    char *pid = strdup(hf_str(r.json, "data.id"));
    bx_httpc_free(&r);
    /* the payment window closes while the customer is on the 3-D Secure page */
    char *st = hf_text(&s_sys, "SELECT bx_booking_abandon('%s', 'expired', 'payment window over')",
                       c.booking);
    ck_assert_str_eq(st, "expired");
    free(st);
    r = bx_httpc("GET", url, NULL, NULL, 0);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    int refunded = 0;
    for (int i = 0; i < 150 && !refunded; i++, usleep(100000))
        refunded = hf_num(&s_sys,
                          "SELECT count(*) FROM payments WHERE id = '%s' AND status = "
                          "'refunded' AND captured_minor = 5000 AND refunded_minor = 5000",
                          pid) == 1;
    ck_assert(refunded);
    char u[160];
    snprintf(u, sizeof u, S_SBX "/_sandbox/count?key=refunds:%s", c.booking);
    r = bx_httpc("GET", u, NULL, NULL, 0);
    ck_assert_int_eq(hf_int(r.json, "count"), 1);
    bx_httpc_free(&r);
    st = s_status(&c);
    ck_assert_str_eq(st, "expired");
    free(st);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE service = 'ticket' AND "
                            "route_key = '%s'",
                            c.booking),
                     0);
    free(pid);
}
END_TEST

START_TEST(razorpay_net_banking_redirect_confirms)
{
    s_cust_t c;
    s_booked(&c);
    bx_httpc_resp_t r = s_pay(&c,
                              hf_j("{'booking_id': '%s', 'provider': 'razorpay', 'method': "
                                   "'netbanking', 'bank': 'HDFC'}",
                                   c.booking),
                              10);
    HF_EXPECT(r, 202);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.status"), "requires_action");
    char url[512];
    snprintf(url, sizeof url, "%s?result=success",
             hf_str(r.json, "data.attributes.next_action.url"));
    bx_httpc_free(&r);
    r = bx_httpc("GET", url, NULL, NULL, 0);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    ck_assert(s_wait_booking(&c, "confirmed", 15));
    s_confirmed_once(&c);
}
END_TEST

START_TEST(timeout_leaves_unknown_then_the_sweep_settles_by_asking)
{
    s_cust_t c;
    s_booked(&c);
    bx_httpc_resp_t r = s_card(&c, "pm_card_timeout");
    HF_EXPECT(r, 202);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.status"), "unknown");
    bx_httpc_free(&r);
    char *st = s_status(&c);
    ck_assert_str_eq(st, "pending_payment");
    free(st);
    ck_assert(s_wait_booking(&c, "confirmed", 30));
    s_confirmed_once(&c);
}
END_TEST

/* POSTs a Stripe event signed with secret at time t. */
static long s_stripe_hook(const char *body, const char *secret, long t)
{
    char head[32], mac_hex[65], sig[200];
    unsigned char mac[32];
    unsigned int n;
    int hl = snprintf(head, sizeof head, "%ld.", t);
    size_t len = (size_t)hl + strlen(body);
    char *payload = malloc(len + 1);
    memcpy(payload, head, (size_t)hl);
    memcpy(payload + hl, body, strlen(body) + 1);
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)payload, len, mac, &n);
    free(payload);
    bx_hex(mac, 32, mac_hex);
    snprintf(sig, sizeof sig, "Stripe-Signature: t=%ld,v1=%s", t, mac_hex);
    const char *h[] = {"Content-Type: application/json", sig, NULL};
    char url[128];
    snprintf(url, sizeof url, "%s/api/v1/payments/webhooks/stripe", s_sys.base);
    bx_httpc_resp_t r = bx_httpc("POST", url, h, body, strlen(body));
    long st = r.status;
    bx_httpc_free(&r);
    return st;
}

static long s_gw_events(void)
{
    return hf_num(&s_sys, "SELECT (SELECT count(*) FROM gateway_events) + (SELECT count(*) FROM "
                          "outbox WHERE topic = 'gateway_event')");
}

START_TEST(duplicate_out_of_order_and_forged_webhooks_change_nothing)
{
    s_cust_t c;
    s_booked(&c);
    bx_httpc_resp_t r = s_card(&c, "pm_card_visa");
    HF_EXPECT(r, 201);
    char *pid = strdup(hf_str(r.json, "data.id"));
    bx_httpc_free(&r);
    char *pi = hf_text(&s_sys, "SELECT provider_ref FROM payments WHERE id = '%s'", pid);
    char evt[64];
    snprintf(evt, sizeof evt, "evt_test_%ld", (long)time(NULL));
    /* a payment_failed arriving after the success, twice */
    const char *failed = hf_j("{'id': '%s', 'object': 'event', 'type': "
                              "'payment_intent.payment_failed', 'data': {'object': {'id': '%s', "
                              "'object': 'payment_intent', 'status': 'requires_payment_method', "
                              "'metadata': {'booking_id': '%s', 'payment_id': '%s'}}}}",
                              evt, pi, c.booking, pid);
    char *body = strdup(failed);
    ck_assert_int_eq(s_stripe_hook(body, S_WHSEC, time(NULL)), 200);
    ck_assert_int_eq(s_stripe_hook(body, S_WHSEC, time(NULL)), 200);
    int seen = 0;
    for (int i = 0; i < 100 && !seen; i++, usleep(100000))
        seen = hf_num(&s_sys,
                      "SELECT count(*) FROM requests WHERE service = 'payment' AND "
                      "payload->>'event_id' = '%s' AND status IN ('succeeded', 'failed')",
                      evt) == 2;
    ck_assert(seen);
    ck_assert_int_eq(
        hf_num(&s_sys, "SELECT count(*) FROM gateway_events WHERE event_id = '%s'", evt), 1);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM requests WHERE payload->>'event_id' = "
                            "'%s' AND result->>'outcome' = 'duplicate'",
                            evt),
                     1);
    s_confirmed_once(&c);
    /* forged: wrong secret, stale timestamp, no signature: 400 and nothing written */
    long before = s_gw_events();
    snprintf(evt, sizeof evt, "evt_forged_%ld", (long)time(NULL));
    char *forged =
        strdup(hf_j("{'id': '%s', 'object': 'event', 'type': 'payment_intent.succeeded', "
                    "'data': {'object': {'id': '%s', 'metadata': {'payment_id': '%s'}}}}",
                    evt, pi, pid));
    ck_assert_int_eq(s_stripe_hook(forged, "whsec_wrong", time(NULL)), 400);
    ck_assert_int_eq(s_stripe_hook(forged, S_WHSEC, time(NULL) - 3600), 400);
    char url[128];
    snprintf(url, sizeof url, "%s/api/v1/payments/webhooks/razorpay", s_sys.base);
    const char *h[] = {"Content-Type: application/json", "X-Razorpay-Signature: 00ff",
                       "X-Razorpay-Event-Id: evt_x", NULL};
    r = bx_httpc("POST", url, h, forged, strlen(forged));
    HF_EXPECT(r, 400);
    bx_httpc_free(&r);
    ck_assert_int_eq(s_gw_events(), before);
    free(forged);
    free(body);
    free(pi);
    free(pid);
}
END_TEST

static bx_httpc_resp_t s_refund(const char *tok, const char *pid, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/payments/%s/refund", pid);
    const char *h[] = {"Prefer: wait=10", NULL};
    return hf_call(&s_sys, "POST", path, tok, body, h);
}

START_TEST(refunds_never_exceed_what_was_captured)
{
    s_cust_t c;
    s_booked(&c);
    bx_httpc_resp_t r = s_card(&c, "pm_card_visa");
    HF_EXPECT(r, 201);
    char *pid = strdup(hf_str(r.json, "data.id"));
    bx_httpc_free(&r);
    r = s_refund(s_sys.partner, pid, "{\"amount_minor\": 5001, \"reason\": \"too much\"}");
    HF_EXPECT(r, 409);
    bx_httpc_free(&r);
    r = s_refund(c.tok, pid, "{\"amount_minor\": 100, \"reason\": \"mine\"}");
    HF_EXPECT(r, 403);
    bx_httpc_free(&r);
    r = s_refund(s_sys.other_partner, pid, "{\"amount_minor\": 100, \"reason\": \"not mine\"}");
    HF_EXPECT(r, 404);
    bx_httpc_free(&r);
    r = s_refund(s_sys.partner, pid, "{\"amount_minor\": 1500, \"reason\": \"goodwill\"}");
    HF_EXPECT(r, 201);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.amount_minor"), 1500);
    bx_httpc_free(&r);
    r = s_refund(s_sys.partner, pid, "{\"reason\": \"the rest\"}");
    HF_EXPECT(r, 201);
    ck_assert_int_eq(hf_int(r.json, "data.attributes.amount_minor"), 3500);
    bx_httpc_free(&r);
    r = s_refund(s_sys.partner, pid, "{\"amount_minor\": 1, \"reason\": \"again\"}");
    HF_EXPECT(r, 409);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT refunded_minor FROM payments WHERE id = '%s'", pid),
                     5000);
    ck_assert_int_eq(
        hf_num(&s_sys, "SELECT refunded_minor FROM bookings WHERE id = '%s'", c.booking), 5000);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM refunds WHERE payment_id = '%s' AND "
                            "status = 'succeeded'",
                            pid),
                     2);
    /* per refund: a message to the customer and an event for the organization's webhooks */
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE topic = 'payment.refunded' "
                            "AND service = 'notify' AND payload::text LIKE '%%%s%%'",
                            c.booking),
                     2);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE topic = 'payment.refunded' "
                            "AND service = 'webhook' AND payload::text LIKE '%%%s%%'",
                            c.booking),
                     2);
    char url[160];
    snprintf(url, sizeof url, S_SBX "/_sandbox/count?key=refunds:%s", c.booking);
    r = bx_httpc("GET", url, NULL, NULL, 0);
    ck_assert_int_eq(hf_int(r.json, "count"), 2);
    bx_httpc_free(&r);
    free(pid);
}
END_TEST

START_TEST(other_users_payment_is_404_and_card_numbers_are_refused)
{
    s_cust_t c, d;
    s_booked(&c);
    s_booked(&d);
    bx_httpc_resp_t r = s_card(&c, "pm_card_chargeDeclined");
    HF_EXPECT(r, 402);
    char *id = s_link_id(&r);
    bx_httpc_free(&r);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/payments/%s", id);
    r = hf_call(&s_sys, "GET", path, d.tok, NULL, NULL);
    HF_EXPECT(r, 404);
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", path, s_sys.other_partner, NULL, NULL);
    HF_EXPECT(r, 404);
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", path, c.tok, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "data.attributes.failure_code"), "card_declined");
    bx_httpc_free(&r);
    /* paying someone else's booking */
    r = s_pay(&d,
              hf_j("{'booking_id': '%s', 'provider': 'stripe', 'method': 'card', "
                   "'payment_method': 'pm_card_visa'}",
                   c.booking),
              10);
    HF_EXPECT(r, 404);
    bx_httpc_free(&r);
    long before = hf_num(&s_sys, "SELECT count(*) FROM payments");
    r = s_pay(&c,
              hf_j("{'booking_id': '%s', 'provider': 'stripe', 'method': 'card', "
                   "'payment_method': '4242 4242 4242 4242'}",
                   c.booking),
              10);
    HF_EXPECT(r, 422);
    ck_assert_ptr_null(strstr(r.body, "4242"));
    bx_httpc_free(&r);
    r = s_pay(&c,
              hf_j("{'booking_id': '%s', 'provider': 'stripe', 'method': 'upi', "
                   "'vpa': 'a@b'}",
                   c.booking),
              10);
    HF_EXPECT(r, 400);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM payments"), before);
    free(id);
}
END_TEST

/* The sandbox keeps Stripe's idempotency contract, which exactly-one-charge rests on. */
START_TEST(sandbox_idempotency_key_replays_and_refuses_other_parameters)
{
    const char *h[] = {"Authorization: Bearer sk_test_boxoffice_sandbox",
                       "Idempotency-Key: it-payment-idem-1", NULL};
    const char *form = "amount=700&currency=eur&payment_method=pm_card_visa&confirm=true&"
                       "metadata[booking_id]=idem-test";
    bx_httpc_resp_t a = bx_httpc("POST", S_SBX "/v1/payment_intents", h, form, strlen(form));
    bx_httpc_resp_t b = bx_httpc("POST", S_SBX "/v1/payment_intents", h, form, strlen(form));
    HF_EXPECT(a, 200);
    HF_EXPECT(b, 200);
    ck_assert_str_eq(hf_str(a.json, "id"), hf_str(b.json, "id"));
    bx_httpc_free(&a);
    bx_httpc_free(&b);
    const char *other = "amount=701&currency=eur&payment_method=pm_card_visa&confirm=true&"
                        "metadata[booking_id]=idem-test";
    a = bx_httpc("POST", S_SBX "/v1/payment_intents", h, other, strlen(other));
    HF_EXPECT(a, 400);
    ck_assert_str_eq(hf_str(a.json, "error.type"), "idempotency_error");
    bx_httpc_free(&a);
    a = bx_httpc("GET", S_SBX "/_sandbox/count?key=charges:idem-test", NULL, NULL, 0);
    ck_assert_int_eq(hf_int(a.json, "count"), 1);
    bx_httpc_free(&a);
}
END_TEST

static int s_cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* POST /payments to 201 (gateway call, confirmation, commit) for 20 bookings in a row:
 * each confirms its booking; prints p50/p95/max for information only (timings are
 * bench/booking.sh's business, never a test's). */
START_TEST(card_payments_in_a_row_each_confirm)
{
    enum { N = 20 };
    long ms[N];
    for (int i = 0; i < N; i++) {
        s_cust_t c;
        s_booked(&c);
        int64_t t0 = bx_mono_ms();
        bx_httpc_resp_t r = s_card(&c, "pm_card_visa");
        ms[i] = (long)(bx_mono_ms() - t0);
        HF_EXPECT(r, 201);
        bx_httpc_free(&r);
        ck_assert(s_wait_booking(&c, "confirmed", 10));
    }
    qsort(ms, N, sizeof ms[0], s_cmp_long);
    fprintf(stderr,
            "it_payment: card payment POST->201 over %d: p50 %ld ms, p95 %ld ms, max %ld ms\n", N,
            ms[N / 2], ms[(N * 95) / 100 - 1], ms[N - 1]);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("it_payment");
    TCase *tc = tcase_create("payment");
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, sandbox_idempotency_key_replays_and_refuses_other_parameters);
    tcase_add_test(tc, card_success_confirms_sells_and_queues_tickets);
    tcase_add_test(tc, declines_keep_the_booking_payable_and_another_card_pays);
    tcase_add_test(tc, three_d_secure_completes_through_the_webhook);
    tcase_add_test(tc, razorpay_upi_confirms_asynchronously);
    tcase_add_test(tc, razorpay_net_banking_redirect_confirms);
    tcase_add_test(tc, money_for_a_booking_gone_meanwhile_goes_back);
    tcase_add_test(tc, timeout_leaves_unknown_then_the_sweep_settles_by_asking);
    tcase_add_test(tc, duplicate_out_of_order_and_forged_webhooks_change_nothing);
    tcase_add_test(tc, refunds_never_exceed_what_was_captured);
    tcase_add_test(tc, other_users_payment_is_404_and_card_numbers_are_refused);
    tcase_add_test(tc, worker_killed_between_gateway_and_commit_charges_once);
    tcase_add_test(tc, card_payments_in_a_row_each_confirm);
    suite_add_tcase(s, tc);
    return s;
}
