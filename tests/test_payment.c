/* test_payment: the payment adapters' pure parts: form encoding, the Stripe-Signature and
 * X-Razorpay-Signature checks (good, forged, stale, malformed), and amounts as display
 * text per currency exponent. The wire calls themselves are covered by it_payment. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bx_config.h"
#include "bx_suite.h"
#include "pay_gateway.h"
#include "pay_worker.h"

static const char *s_hdr_name[4], *s_hdr_val[4];

static const char *s_header(void *arg, const char *name)
{
    (void)arg;
    for (int i = 0; i < 4 && s_hdr_name[i]; i++)
        if (!strcmp(s_hdr_name[i], name))
            return s_hdr_val[i];
    return NULL;
}

static void s_setup(void)
{
    ck_assert_int_eq(bx_config_load(), BX_OK);
    memset(s_hdr_name, 0, sizeof s_hdr_name);
}

START_TEST(form_values_are_percent_encoded_and_bounded)
{
    char buf[64] = "";
    ck_assert(pay_form_add(buf, sizeof buf, "metadata[booking_id]", "a b&c=d"));
    ck_assert(pay_form_add(buf, sizeof buf, "x", "~ok-_."));
    ck_assert_str_eq(buf, "metadata[booking_id]=a%20b%26c%3Dd&x=~ok-_.");
    char small[16] = "";
    ck_assert(!pay_form_add(small, sizeof small, "amount", "&&&&&&&&"));
}
END_TEST

static pay_gw_event_t s_stripe(const char *body, const char *secret, long t, const char *extra,
                               bx_err_t *err)
{
    char sp[1024], mac[65], sig[300];
    snprintf(sp, sizeof sp, "%ld.%s", t, body);
    pay_hmac_hex(secret, sp, strlen(sp), mac);
    snprintf(sig, sizeof sig, "t=%ld,%sv1=%s", t, extra ? extra : "", mac);
    s_hdr_name[0] = "Stripe-Signature";
    s_hdr_val[0] = sig;
    pay_gw_event_t ev;
    *err = pay_stripe.webhook(s_header, NULL, body, strlen(body), time(NULL), &ev);
    s_hdr_name[0] = NULL;
    return ev;
}

START_TEST(stripe_signature_good_forged_stale_and_malformed)
{
    const char *body =
        "{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":"
        "{\"id\":\"pi_1\",\"metadata\":{\"payment_id\":\"01a20b0a-7f57-704d-8fee-"
        "e163f9980bb2\",\"booking_id\":\"not-a-uuid\"}}}}";
    bx_err_t err;
    pay_gw_event_t ev = s_stripe(body, "whsec_boxoffice_sandbox", time(NULL), NULL, &err);
    ck_assert_int_eq(err, BX_OK);
    ck_assert_str_eq(ev.event_id, "evt_1");
    ck_assert_str_eq(ev.type, "payment_intent.succeeded");
    ck_assert_str_eq(ev.payment_id, "01a20b0a-7f57-704d-8fee-e163f9980bb2");
    ck_assert_str_eq(ev.booking_id, ""); /* not a UUID: ignored */
    json_decref(ev.object);
    /* a rotated secret: one of several v1 signatures matches */
    ev = s_stripe(body, "whsec_boxoffice_sandbox", time(NULL), "v1=00ff,", &err);
    ck_assert_int_eq(err, BX_OK);
    json_decref(ev.object);
    s_stripe(body, "whsec_other", time(NULL), NULL, &err);
    ck_assert_int_eq(err, BX_EUNAUTHORIZED);
    s_stripe(body, "whsec_boxoffice_sandbox", time(NULL) - 301, NULL, &err);
    ck_assert_int_eq(err, BX_EUNAUTHORIZED);
    s_stripe(body, "whsec_boxoffice_sandbox", time(NULL) + 301, NULL, &err);
    ck_assert_int_eq(err, BX_EUNAUTHORIZED);
    s_stripe("{\"id\":\"evt_2\"}", "whsec_boxoffice_sandbox", time(NULL), NULL, &err);
    ck_assert_int_eq(err, BX_EINVAL);
    pay_gw_event_t none;
    ck_assert_int_eq(pay_stripe.webhook(s_header, NULL, body, strlen(body), time(NULL), &none),
                     BX_EUNAUTHORIZED);
}
END_TEST

START_TEST(razorpay_signature_good_forged_and_without_event_id)
{
    const char *body = "{\"entity\":\"event\",\"event\":\"payment.captured\",\"payload\":{"
                       "\"payment\":{\"entity\":{\"id\":\"pay_1\",\"notes\":{\"payment_id\":"
                       "\"01a20b0a-7f57-704d-8fee-e163f9980bb2\"}}}}}";
    char mac[65];
    pay_gw_event_t ev;
    pay_hmac_hex("rzp_whsec_sandbox", body, strlen(body), mac);
    s_hdr_name[0] = "X-Razorpay-Signature";
    s_hdr_val[0] = mac;
    s_hdr_name[1] = "X-Razorpay-Event-Id";
    s_hdr_val[1] = "evt_r1";
    ck_assert_int_eq(pay_razorpay.webhook(s_header, NULL, body, strlen(body), 0, &ev), BX_OK);
    ck_assert_str_eq(ev.event_id, "evt_r1");
    ck_assert_str_eq(ev.type, "payment.captured");
    ck_assert_str_eq(ev.payment_id, "01a20b0a-7f57-704d-8fee-e163f9980bb2");
    json_decref(ev.object);
    /* one byte of the body changed */
    char forged[512];
    snprintf(forged, sizeof forged, "%s", body);
    forged[10] = 'X';
    ck_assert_int_eq(pay_razorpay.webhook(s_header, NULL, forged, strlen(forged), 0, &ev),
                     BX_EUNAUTHORIZED);
    s_hdr_name[1] = NULL;
    ck_assert_int_eq(pay_razorpay.webhook(s_header, NULL, body, strlen(body), 0, &ev), BX_EINVAL);
}
END_TEST

START_TEST(adapters_by_name_and_methods)
{
    ck_assert_ptr_eq(pay_gateway("stripe"), &pay_stripe);
    ck_assert_ptr_eq(pay_gateway("razorpay"), &pay_razorpay);
    ck_assert_ptr_null(pay_gateway("paypal"));
    ck_assert(pay_stripe.supports("card"));
    ck_assert(!pay_stripe.supports("upi"));
    ck_assert(pay_razorpay.supports("netbanking") && pay_razorpay.supports("wallet"));
    ck_assert(!pay_razorpay.supports("cash"));
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("test_payment");
    TCase *tc = tcase_create("adapters");
    tcase_add_checked_fixture(tc, s_setup, NULL);
    tcase_add_test(tc, form_values_are_percent_encoded_and_bounded);
    tcase_add_test(tc, stripe_signature_good_forged_stale_and_malformed);
    tcase_add_test(tc, razorpay_signature_good_forged_and_without_event_id);
    tcase_add_test(tc, adapters_by_name_and_methods);
    suite_add_tcase(s, tc);
    return s;
}
