/* sbx_razorpay: the Razorpay Orders and Payments wire format (docs/sandbox.md): POST
 * /v1/orders {amount, currency, receipt, notes}, GET /v1/orders?receipt=, GET
 * /v1/orders/{id}/payments, POST /v1/payments/create/json (the server-to-server flow:
 * method card with a test token, upi with vpa, netbanking with bank, wallet with wallet),
 * GET /v1/payments/{id}, POST /v1/payments/{id}/refund (X-Refund-Idempotency replays),
 * GET /v1/refunds/{id}, and GET /razorpay/bank/{pay_id}?result=success|fail (the bank's
 * page). Basic auth key_id:secret. UPI success@razorpay is captured ~200 ms later,
 * failure@razorpay fails then; both arrive as signed webhooks (X-Razorpay-Signature,
 * X-Razorpay-Event-Id). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sbx.h"

#define S_ASYNC_MS 200 /* UPI collect: the customer "approves" this long after creation */

static int s_claims(const char *method, const char *url)
{
    (void)method;
    return !strncmp(url, "/v1/orders", 10) || !strncmp(url, "/v1/payments/", 13) ||
           !strncmp(url, "/v1/refunds/rfnd_", 17) || !strncmp(url, "/razorpay/bank/", 15);
}

static void s_error(sbx_resp_t *resp, int status, const char *reason, const char *desc,
                    json_t *metadata)
{
    sbx_json(resp, status,
             json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:o?}}", "error", "code",
                       status == 401 ? "BAD_REQUEST_ERROR" : "BAD_REQUEST_ERROR", "description",
                       desc, "source", metadata ? "customer" : "business", "step",
                       metadata ? "payment_authorization" : "payment_initiation", "reason", reason,
                       "metadata", metadata));
}

/* Sends payment.captured / payment.failed for pay (under the lock). */
static void s_notify(json_t *pay)
{
    const char *st = json_string_value(json_object_get(pay, "status"));
    char id[40];
    sbx_pay_id("evt_", id, sizeof id);
    json_t *ev = json_pack(
        "{s:s, s:s, s:s, s:[s], s:{s:{s:O}}, s:I}", "entity", "event", "account_id", "acc_sandbox",
        "event", !strcmp(st, "captured") ? "payment.captured" : "payment.failed", "contains",
        "payment", "payload", "payment", "entity", pay, "created_at", (json_int_t)time(NULL));
    sbx_pay_webhook("razorpay", id, ev, 0);
}

static void s_capture(json_t *pay)
{
    json_t *order = json_object_get(sbx_pay_table("rzp_order"),
                                    json_string_value(json_object_get(pay, "order_id")));
    json_object_set_new(pay, "status", json_string("captured"));
    json_object_set_new(pay, "captured", json_true());
    json_object_set(order, "amount_paid", json_object_get(pay, "amount"));
    json_object_set_new(order, "amount_due", json_integer(0));
    json_object_set_new(order, "status", json_string("paid"));
    sbx_pay_charge("razorpay", json_string_value(json_object_get(order, "receipt")),
                   json_string_value(json_object_get(json_object_get(pay, "notes"), "booking_id")),
                   json_integer_value(json_object_get(pay, "amount")),
                   json_string_value(json_object_get(pay, "id")));
}

static void s_fail(json_t *pay, const char *reason, const char *desc)
{
    json_object_set_new(pay, "status", json_string("failed"));
    json_object_set_new(pay, "error_code", json_string("BAD_REQUEST_ERROR"));
    json_object_set_new(pay, "error_reason", json_string(reason));
    json_object_set_new(pay, "error_description", json_string(desc));
}

/* The UPI app answered: capture or fail the payment named by arg (heap id). */
static void s_upi_done(void *arg)
{
    char *id = arg;
    sbx_pay_lock();
    json_t *pay = json_object_get(sbx_pay_table("rzp_payment"), id);
    if (pay && !strcmp(json_string_value(json_object_get(pay, "status")), "created")) {
        if (!strcmp(json_string_value(json_object_get(pay, "vpa")), "success@razorpay"))
            s_capture(pay);
        else
            s_fail(pay, "payment_failed", "The UPI collect request was declined by the customer.");
        s_notify(pay);
    }
    sbx_pay_unlock();
    free(id);
}

static void s_order_create(json_t *body, sbx_resp_t *resp)
{
    json_int_t amount = json_integer_value(json_object_get(body, "amount"));
    const char *cur = json_string_value(json_object_get(body, "currency"));
    const char *receipt = json_string_value(json_object_get(body, "receipt"));
    char id[40];
    if (amount < 100 || !cur || strlen(cur) != 3) {
        s_error(resp, 400, "input_validation_failed",
                "The amount must be atleast INR 1.00 and currency a 3-letter code.", NULL);
        return;
    }
    sbx_pay_id("order_", id, sizeof id);
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s?, s:s, s:i, s:O?, s:I}", "id", id, "entity",
                  "order", "amount", amount, "amount_paid", (json_int_t)0, "amount_due", amount,
                  "currency", cur, "receipt", receipt, "status", "created", "attempts", 0, "notes",
                  json_object_get(body, "notes"), "created_at", (json_int_t)time(NULL));
    sbx_pay_lock();
    json_object_set(sbx_pay_table("rzp_order"), id, o);
    sbx_pay_unlock();
    sbx_json(resp, 200, o);
}

static void s_list(sbx_resp_t *resp, const char *table, const char *field, const char *value)
{
    json_t *items = json_array(), *o;
    const char *id;
    sbx_pay_lock();
    json_object_foreach(sbx_pay_table(table), id, o)
    {
        const char *v = json_string_value(json_object_get(o, field));
        if (v && value && !strcmp(v, value))
            json_array_append_new(items, json_deep_copy(o));
    }
    sbx_pay_unlock();
    sbx_json(resp, 200,
             json_pack("{s:s, s:I, s:o}", "entity", "collection", "count",
                       (json_int_t)json_array_size(items), "items", items));
}

/* Starts the method on pay (under the lock): 0 ok, -1 answered an error. Fills next. */
static int s_method(json_t *pay, json_t *body, json_t *next, sbx_resp_t *resp)
{
    const char *m = json_string_value(json_object_get(body, "method"));
    const char *token = json_string_value(json_object_get(body, "token"));
    const char *vpa = json_string_value(json_object_get(body, "vpa"));
    const char *bank = json_string_value(json_object_get(body, "bank"));
    const char *wallet = json_string_value(json_object_get(body, "wallet"));
    const char *pid = json_string_value(json_object_get(pay, "id"));
    char url[400];
    if (m && !strcmp(m, "card") && token &&
        (!strcmp(token, "pm_card_visa") || !strcmp(token, "pm_card_timeout"))) {
        s_capture(pay);
        s_notify(pay);
        return !strcmp(token, "pm_card_timeout") ? sbx_creds.gateway_delay_ms : 0;
    }
    if (m && !strcmp(m, "card") && token && !strncmp(token, "pm_card_chargeDeclined", 22)) {
        int funds = !strcmp(token, "pm_card_chargeDeclinedInsufficientFunds");
        s_fail(pay, funds ? "insufficient_funds" : "card_declined",
               funds ? "Your payment could not be completed due to insufficient account balance."
                     : "Your payment has been declined by the bank.");
        s_notify(pay);
        return 0;
    }
    if (m && !strcmp(m, "upi") && vpa &&
        (!strcmp(vpa, "success@razorpay") || !strcmp(vpa, "failure@razorpay"))) {
        json_object_set_new(pay, "vpa", json_string(vpa));
        json_array_append_new(next,
                              json_pack("{s:s, s:s}", "action", "poll", "url", "/v1/payments"));
        sbx_pay_later(S_ASYNC_MS, s_upi_done, strdup(pid));
        return 0;
    }
    if (m && !strcmp(m, "netbanking") && bank && strlen(bank) == 4) {
        json_object_set_new(pay, "bank", json_string(bank));
        snprintf(url, sizeof url, "%s/razorpay/bank/%s", sbx_creds.self_base, pid);
        json_array_append_new(next, json_pack("{s:s, s:s}", "action", "redirect", "url", url));
        return 0;
    }
    static const char *const wallets[] = {"paytm",      "phonepe",     "amazonpay", "mobikwik",
                                          "freecharge", "airtelmoney", NULL};
    for (int i = 0; m && !strcmp(m, "wallet") && wallet && wallets[i]; i++)
        if (!strcmp(wallet, wallets[i])) {
            json_object_set_new(pay, "wallet", json_string(wallet));
            s_capture(pay);
            s_notify(pay);
            return 0;
        }
    s_error(resp, 400, "input_validation_failed", "Invalid or unsupported payment method details.",
            NULL);
    return -1;
}

static void s_payment_create(json_t *body, sbx_resp_t *resp)
{
    const char *oid = json_string_value(json_object_get(body, "order_id"));
    char id[40];
    sbx_pay_lock();
    json_t *order = oid ? json_object_get(sbx_pay_table("rzp_order"), oid) : NULL;
    if (!order || json_integer_value(json_object_get(body, "amount")) !=
                      json_integer_value(json_object_get(order, "amount"))) {
        sbx_pay_unlock();
        s_error(resp, 400, "input_validation_failed", "The order id or amount is invalid.", NULL);
        return;
    }
    sbx_pay_id("pay_", id, sizeof id);
    json_t *next = json_array();
    json_t *pay = json_pack("{s:s, s:s, s:O, s:O, s:s, s:s, s:O, s:b, s:O?, s:O?, s:I}", "id", id,
                            "entity", "payment", "amount", json_object_get(order, "amount"),
                            "currency", json_object_get(order, "currency"), "status", "created",
                            "order_id", oid, "method", json_object_get(body, "method"), "captured",
                            0, "notes", json_object_get(body, "notes"), "email",
                            json_object_get(body, "email"), "created_at", (json_int_t)time(NULL));
    json_object_set_new(order, "attempts",
                        json_integer(json_integer_value(json_object_get(order, "attempts")) + 1));
    json_object_set(sbx_pay_table("rzp_payment"), id, pay);
    int delay = s_method(pay, body, next, resp);
    if (delay >= 0 && !strcmp(json_string_value(json_object_get(pay, "status")), "failed"))
        s_error(resp, 400, json_string_value(json_object_get(pay, "error_reason")),
                json_string_value(json_object_get(pay, "error_description")),
                json_pack("{s:s, s:s}", "payment_id", id, "order_id", oid));
    else if (delay >= 0)
        sbx_json(resp, 200, json_pack("{s:s, s:O}", "razorpay_payment_id", id, "next", next));
    if (delay < 0)
        json_object_del(sbx_pay_table("rzp_payment"), id);
    json_decref(pay);
    json_decref(next);
    sbx_pay_unlock();
    if (delay > 0)
        sbx_pay_sleep_ms(delay);
}

static void s_refund(const sbx_req_t *req, json_t *body, sbx_resp_t *resp)
{
    char pid[64], id[40];
    const char *key = sbx_header(req, "X-Refund-Idempotency");
    snprintf(pid, sizeof pid, "%.*s", (int)(strlen(req->url + 13) - 7), req->url + 13);
    sbx_pay_lock();
    json_t *pay = json_object_get(sbx_pay_table("rzp_payment"), pid);
    json_t *idem = sbx_pay_table("rzp_refund_idem"),
           *seen = key ? json_object_get(idem, key) : NULL;
    json_int_t amount = json_integer_value(json_object_get(pay, "amount"));
    json_int_t done = json_integer_value(json_object_get(pay, "amount_refunded"));
    json_int_t want = json_is_integer(json_object_get(body, "amount"))
                          ? json_integer_value(json_object_get(body, "amount"))
                          : amount - done;
    if (seen) {
        sbx_json(
            resp, 200,
            json_deep_copy(json_object_get(sbx_pay_table("rzp_refund"), json_string_value(seen))));
    } else if (!pay) {
        s_error(resp, 404, "payment_not_found", "The id provided does not exist", NULL);
    } else if (strcmp(json_string_value(json_object_get(pay, "status")), "captured") &&
               strcmp(json_string_value(json_object_get(pay, "status")), "refunded")) {
        s_error(resp, 400, "payment_not_captured", "The payment has not been captured.", NULL);
    } else if (want < 1 || want > amount - done) {
        s_error(resp, 400, "refund_amount_exceeds", "The refund amount exceeds the amount left.",
                NULL);
    } else {
        sbx_pay_id("rfnd_", id, sizeof id);
        json_t *rf =
            json_pack("{s:s, s:s, s:I, s:O, s:s, s:O?, s:s, s:I}", "id", id, "entity", "refund",
                      "amount", want, "currency", json_object_get(pay, "currency"), "payment_id",
                      pid, "receipt", json_object_get(body, "receipt"), "status", "processed",
                      "created_at", (json_int_t)time(NULL));
        json_object_set_new(pay, "amount_refunded", json_integer(done + want));
        if (done + want == amount)
            json_object_set_new(pay, "status", json_string("refunded"));
        json_object_set(sbx_pay_table("rzp_refund"), id, rf);
        if (key)
            json_object_set_new(idem, key, json_string(id));
        char rk[96];
        const char *bid =
            json_string_value(json_object_get(json_object_get(pay, "notes"), "booking_id"));
        snprintf(rk, sizeof rk, "refunds:%s", bid ? bid : "");
        sbx_record(rk, json_pack("{s:s, s:I, s:s?}", "refund", id, "amount", want, "key", key));
        sbx_json(resp, 200, rf);
    }
    sbx_pay_unlock();
}

static void s_bank(const sbx_req_t *req, sbx_resp_t *resp)
{
    const char *result = sbx_query(req, "result");
    sbx_pay_lock();
    json_t *pay = json_object_get(sbx_pay_table("rzp_payment"), req->url + 15);
    if (!pay || !result || strcmp(json_string_value(json_object_get(pay, "status")), "created")) {
        sbx_json(resp, pay ? 409 : 404, json_pack("{s:s}", "error", "not awaiting the bank"));
    } else {
        if (!strcmp(result, "success"))
            s_capture(pay);
        else
            s_fail(pay, "payment_cancelled", "The customer cancelled the payment at the bank.");
        s_notify(pay);
        sbx_json(resp, 200,
                 json_pack("{s:s, s:O}", "razorpay_payment_id", req->url + 15, "status",
                           json_object_get(pay, "status")));
    }
    sbx_pay_unlock();
}

static void s_get(const char *table, const char *id, sbx_resp_t *resp)
{
    sbx_pay_lock();
    json_t *o = json_object_get(sbx_pay_table(table), id);
    if (o)
        sbx_json(resp, 200, json_deep_copy(o));
    else
        s_error(resp, 404, "not_found", "The id provided does not exist", NULL);
    sbx_pay_unlock();
}

static void s_handle(const sbx_req_t *req, sbx_resp_t *resp)
{
    char user[128], pass[128];
    size_t n = strlen(req->url);
    if (!strncmp(req->url, "/razorpay/bank/", 15)) {
        s_bank(req, resp);
        return;
    }
    if (!sbx_basic_auth(req, user, pass, sizeof user) || strcmp(user, sbx_creds.razorpay_key_id) ||
        strcmp(pass, sbx_creds.razorpay_key_secret)) {
        s_error(resp, 401, "authentication_failed", "Authentication failed", NULL);
        return;
    }
    if (sbx_knob_apply("razorpay", resp))
        return;
    json_t *body = json_loadb(req->body, req->len, 0, NULL);
    int post = !strcmp(req->method, "POST");
    if (post && !strcmp(req->url, "/v1/orders"))
        s_order_create(body, resp);
    else if (!post && !strcmp(req->url, "/v1/orders"))
        s_list(resp, "rzp_order", "receipt", sbx_query(req, "receipt"));
    else if (!post && n > 20 && !strncmp(req->url, "/v1/orders/", 11) &&
             !strcmp(req->url + n - 9, "/payments")) {
        char oid[64];
        snprintf(oid, sizeof oid, "%.*s", (int)(n - 20), req->url + 11);
        s_list(resp, "rzp_payment", "order_id", oid);
    } else if (post && !strcmp(req->url, "/v1/payments/create/json"))
        s_payment_create(body, resp);
    else if (post && n > 20 && !strcmp(req->url + n - 7, "/refund"))
        s_refund(req, body, resp);
    else if (!post && !strncmp(req->url, "/v1/payments/", 13))
        s_get("rzp_payment", req->url + 13, resp);
    else if (!post && !strncmp(req->url, "/v1/refunds/", 12))
        s_get("rzp_refund", req->url + 12, resp);
    else if (!post && !strncmp(req->url, "/v1/orders/", 11))
        s_get("rzp_order", req->url + 11, resp);
    else
        s_error(resp, 404, "not_found", "The requested URL was not found on the server.", NULL);
    json_decref(body);
}

const sbx_module_t sbx_razorpay_module = {"razorpay", s_claims, s_handle};
