/* sbx_stripe: the Stripe PaymentIntents wire format (docs/sandbox.md): POST
 * /v1/payment_intents (form: amount, currency, payment_method, confirm=true, return_url,
 * metadata[...]; Bearer secret key; Idempotency-Key replays: same key and parameters ->
 * the same object, other parameters -> 400 idempotency_error), GET
 * /v1/payment_intents/{id}, GET /v1/payment_intents/search?query=metadata['k']:'v',
 * POST /v1/refunds, GET /v1/refunds/{id}, and GET /stripe/3ds/{pi}?result=success|fail
 * (the 3-D Secure page). Test tokens: pm_card_visa, pm_card_chargeDeclined,
 * pm_card_chargeDeclinedInsufficientFunds, pm_card_threeDSecure2Required, pm_card_timeout.
 * Webhooks (payment_intent.succeeded / payment_intent.payment_failed, charge.refunded)
 * are signed with Stripe-Signature. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sbx.h"

static int s_claims(const char *method, const char *url)
{
    (void)method;
    return !strncmp(url, "/v1/payment_intents", 19) || !strcmp(url, "/v1/refunds") ||
           !strncmp(url, "/v1/refunds/re_", 15) || !strncmp(url, "/stripe/3ds/", 12);
}

static void s_error(sbx_resp_t *resp, int status, const char *type, const char *code,
                    const char *message)
{
    sbx_json(
        resp, status,
        json_pack("{s:{s:s, s:s?, s:s}}", "error", "type", type, "code", code, "message", message));
}

static json_t *s_event(const char *type, json_t *object, char *id, size_t cap)
{
    sbx_pay_id("evt_", id, cap);
    return json_pack("{s:s, s:s, s:s, s:I, s:b, s:{s:O}}", "id", id, "object", "event", "type",
                     type, "created", (json_int_t)time(NULL), "livemode", 0, "data", "object",
                     object);
}

/* Sends the webhook of pi's current state (call under the lock). */
static void s_notify(json_t *pi)
{
    const char *st = json_string_value(json_object_get(pi, "status"));
    const char *type = !strcmp(st, "succeeded")         ? "payment_intent.succeeded"
                       : !strcmp(st, "requires_action") ? "payment_intent.requires_action"
                                                        : "payment_intent.payment_failed";
    char id[40];
    json_t *ev = s_event(type, pi, id, sizeof id);
    sbx_pay_webhook("stripe", id, ev, 0);
}

static void s_succeed(json_t *pi, const char *key)
{
    char ch[40];
    sbx_pay_id("ch_", ch, sizeof ch);
    json_int_t amount = json_integer_value(json_object_get(pi, "amount"));
    json_object_set_new(pi, "status", json_string("succeeded"));
    json_object_set_new(pi, "amount_received", json_integer(amount));
    json_object_set_new(pi, "latest_charge", json_string(ch));
    json_object_set_new(pi, "next_action", json_null());
    json_object_set_new(pi, "last_payment_error", json_null());
    sbx_pay_charge(
        "stripe", key,
        json_string_value(json_object_get(json_object_get(pi, "metadata"), "booking_id")), amount,
        json_string_value(json_object_get(pi, "id")));
}

static void s_decline(json_t *pi, const char *code, const char *decline, const char *message)
{
    json_object_set_new(pi, "status", json_string("requires_payment_method"));
    json_object_set_new(pi, "last_payment_error",
                        json_pack("{s:s, s:s, s:s?, s:s}", "type", "card_error", "code", code,
                                  "decline_code", decline, "message", message));
}

/* The answer to a create (or its replay): a decline is a 402 card_error carrying the PI. */
static void s_reply_create(sbx_resp_t *resp, json_t *pi)
{
    json_t *e = json_object_get(pi, "last_payment_error");
    if (json_is_object(e) &&
        !strcmp(json_string_value(json_object_get(pi, "status")), "requires_payment_method")) {
        json_t *err = json_deep_copy(e);
        json_object_set_new(err, "payment_intent", json_deep_copy(pi));
        sbx_json(resp, 402, json_pack("{s:o}", "error", err));
    } else {
        sbx_json(resp, 200, json_deep_copy(pi));
    }
}

/* Builds the PaymentIntent from the form; NULL after answering 400. */
static json_t *s_new_intent(const sbx_req_t *req, sbx_resp_t *resp)
{
    char amount[32], cur[8], pm[64], ret[400], bid[64], pid[64], id[40], secret[64];
    if (!sbx_form_get(req->body, "amount", amount, sizeof amount) || atol(amount) < 1) {
        s_error(resp, 400, "invalid_request_error", "parameter_missing",
                "Missing required param: amount.");
        return NULL;
    }
    if (!sbx_form_get(req->body, "currency", cur, sizeof cur) || strlen(cur) != 3 || cur[0] < 'a' ||
        cur[0] > 'z') {
        s_error(resp, 400, "invalid_request_error", "parameter_invalid_string",
                "Invalid currency: must be a lower-case ISO 4217 code.");
        return NULL;
    }
    if (!sbx_form_get(req->body, "payment_method", pm, sizeof pm))
        pm[0] = '\0';
    if (!sbx_form_get(req->body, "return_url", ret, sizeof ret))
        ret[0] = '\0';
    if (!sbx_form_get(req->body, "metadata[booking_id]", bid, sizeof bid))
        bid[0] = '\0';
    if (!sbx_form_get(req->body, "metadata[payment_id]", pid, sizeof pid))
        pid[0] = '\0';
    sbx_pay_id("pi_", id, sizeof id);
    snprintf(secret, sizeof secret, "%s_secret_sandbox", id);
    return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:n, s:n, s:n, s:I, "
                     "s:b, s:s}",
                     "id", id, "object", "payment_intent", "amount", (json_int_t)atol(amount),
                     "amount_received", (json_int_t)0, "currency", cur, "payment_method", pm,
                     "status", "requires_confirmation", "client_secret", secret, "metadata",
                     "booking_id", bid, "payment_id", pid, "next_action", "last_payment_error",
                     "latest_charge", "created", (json_int_t)time(NULL), "livemode", 0,
                     "return_url", ret);
}

/* Confirms pi with its payment method (under the lock). Returns the delay to apply. */
static int s_confirm(json_t *pi, const char *key, sbx_resp_t *resp)
{
    const char *pm = json_string_value(json_object_get(pi, "payment_method"));
    char url[400];
    if (!strcmp(pm, "pm_card_visa") || !strcmp(pm, "pm_card_timeout")) {
        s_succeed(pi, key);
        if (!strcmp(pm, "pm_card_timeout"))
            return sbx_creds.gateway_delay_ms; /* charged, answered too late, no webhook */
        s_notify(pi);
    } else if (!strcmp(pm, "pm_card_chargeDeclined")) {
        s_decline(pi, "card_declined", "generic_decline", "Your card was declined.");
        s_notify(pi);
    } else if (!strcmp(pm, "pm_card_chargeDeclinedInsufficientFunds")) {
        s_decline(pi, "card_declined", "insufficient_funds", "Your card has insufficient funds.");
        s_notify(pi);
    } else if (!strcmp(pm, "pm_card_threeDSecure2Required")) {
        snprintf(url, sizeof url, "%s/stripe/3ds/%s", sbx_creds.self_base,
                 json_string_value(json_object_get(pi, "id")));
        json_object_set_new(pi, "status", json_string("requires_action"));
        json_object_set_new(pi, "next_action",
                            json_pack("{s:s, s:{s:s, s:O}}", "type", "redirect_to_url",
                                      "redirect_to_url", "url", url, "return_url",
                                      json_object_get(pi, "return_url")));
    } else {
        s_error(resp, 400, "invalid_request_error", "resource_missing", "No such PaymentMethod.");
        return -1;
    }
    return 0;
}

static void s_create(const sbx_req_t *req, sbx_resp_t *resp)
{
    const char *key = sbx_header(req, "Idempotency-Key");
    if (sbx_knob_apply("stripe", resp))
        return;
    sbx_pay_lock();
    json_t *idem = sbx_pay_table("stripe_idem"), *pis = sbx_pay_table("stripe_pi");
    json_t *seen = key ? json_object_get(idem, key) : NULL;
    if (seen) {
        if (strcmp(json_string_value(json_object_get(seen, "body")), req->body))
            s_error(resp, 400, "idempotency_error", NULL,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.");
        else
            s_reply_create(resp,
                           json_object_get(pis, json_string_value(json_object_get(seen, "id"))));
        sbx_pay_unlock();
        return;
    }
    json_t *pi = s_new_intent(req, resp);
    int delay = pi ? s_confirm(pi, key, resp) : -1;
    if (delay >= 0) {
        const char *id = json_string_value(json_object_get(pi, "id"));
        json_object_set(pis, id, pi);
        if (key)
            json_object_set_new(idem, key, json_pack("{s:s, s:s}", "body", req->body, "id", id));
        s_reply_create(resp, pi);
        sbx_record("stripe", json_pack("{s:s, s:s?}", "payment_intent", id, "key", key));
    }
    json_decref(pi);
    sbx_pay_unlock();
    if (delay > 0)
        sbx_pay_sleep_ms(delay);
}

/* search?query=metadata['k']:'v' */
static void s_search(const sbx_req_t *req, sbx_resp_t *resp)
{
    const char *q = sbx_query(req, "query");
    char k[64], v[128];
    if (!q || sscanf(q, "metadata['%63[^']']:'%127[^']'", k, v) != 2) {
        s_error(resp, 400, "invalid_request_error", "parameter_invalid",
                "Unsupported search query.");
        return;
    }
    json_t *data = json_array(), *pi;
    const char *id;
    sbx_pay_lock();
    json_object_foreach(sbx_pay_table("stripe_pi"), id, pi)
    {
        const char *m = json_string_value(json_object_get(json_object_get(pi, "metadata"), k));
        if (m && !strcmp(m, v))
            json_array_append_new(data, json_deep_copy(pi));
    }
    sbx_pay_unlock();
    sbx_json(resp, 200,
             json_pack("{s:s, s:o, s:b}", "object", "search_result", "data", data, "has_more", 0));
}

static void s_refund(const sbx_req_t *req, sbx_resp_t *resp)
{
    char pi_id[64], amount[32], id[40];
    const char *key = sbx_header(req, "Idempotency-Key");
    if (!sbx_form_get(req->body, "payment_intent", pi_id, sizeof pi_id)) {
        s_error(resp, 400, "invalid_request_error", "parameter_missing", "Missing payment_intent.");
        return;
    }
    sbx_pay_lock();
    json_t *idem = sbx_pay_table("stripe_idem"), *refunds = sbx_pay_table("stripe_refund");
    json_t *seen = key ? json_object_get(idem, key) : NULL;
    json_t *pi = json_object_get(sbx_pay_table("stripe_pi"), pi_id);
    json_int_t received = json_integer_value(json_object_get(pi, "amount_received"));
    json_int_t done = json_integer_value(json_object_get(pi, "amount_refunded"));
    json_int_t want =
        sbx_form_get(req->body, "amount", amount, sizeof amount) ? atol(amount) : received - done;
    if (seen && strcmp(json_string_value(json_object_get(seen, "body")), req->body)) {
        s_error(resp, 400, "idempotency_error", NULL,
                "Keys for idempotent requests can only be used with the same parameters.");
    } else if (seen) {
        sbx_json(resp, 200,
                 json_deep_copy(
                     json_object_get(refunds, json_string_value(json_object_get(seen, "id")))));
    } else if (!pi) {
        s_error(resp, 404, "invalid_request_error", "resource_missing", "No such payment_intent.");
    } else if (received == 0) {
        s_error(resp, 400, "invalid_request_error", "charge_not_captured",
                "This PaymentIntent has no successful charge.");
    } else if (want < 1 || want > received - done) {
        s_error(resp, 400, "invalid_request_error",
                done >= received ? "charge_already_refunded" : "amount_too_large",
                "Refund amount is greater than the unrefunded amount.");
    } else {
        sbx_pay_id("re_", id, sizeof id);
        json_t *re = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:I}", "id", id, "object", "refund",
                               "amount", want, "currency",
                               json_string_value(json_object_get(pi, "currency")), "payment_intent",
                               pi_id, "status", "succeeded", "created", (json_int_t)time(NULL));
        json_object_set_new(pi, "amount_refunded", json_integer(done + want));
        json_object_set(refunds, id, re);
        if (key)
            json_object_set_new(idem, key, json_pack("{s:s, s:s}", "body", req->body, "id", id));
        const char *bid =
            json_string_value(json_object_get(json_object_get(pi, "metadata"), "booking_id"));
        char rk[96];
        snprintf(rk, sizeof rk, "refunds:%s", bid ? bid : "");
        sbx_record(rk, json_pack("{s:s, s:I, s:s?}", "refund", id, "amount", want, "key", key));
        sbx_json(resp, 200, re);
    }
    sbx_pay_unlock();
}

static void s_3ds(const sbx_req_t *req, sbx_resp_t *resp)
{
    const char *id = req->url + 12, *result = sbx_query(req, "result");
    sbx_pay_lock();
    json_t *pi = json_object_get(sbx_pay_table("stripe_pi"), id);
    const char *st = json_string_value(json_object_get(pi, "status"));
    if (!pi || !result || strcmp(st, "requires_action")) {
        sbx_json(resp, pi ? 409 : 404,
                 json_pack("{s:s}", "error", pi ? "not awaiting 3-D Secure" : "no such payment"));
    } else {
        if (!strcmp(result, "success"))
            s_succeed(pi, NULL);
        else
            s_decline(pi, "payment_intent_authentication_failure", NULL,
                      "The provided PaymentMethod has failed authentication.");
        json_object_set_new(pi, "next_action", json_null());
        s_notify(pi);
        sbx_json(resp, 200,
                 json_pack("{s:s, s:s, s:O}", "payment_intent", id, "status",
                           json_string_value(json_object_get(pi, "status")), "return_url",
                           json_object_get(pi, "return_url")));
    }
    sbx_pay_unlock();
}

static void s_handle(const sbx_req_t *req, sbx_resp_t *resp)
{
    const char *auth = sbx_header(req, "Authorization");
    if (!strncmp(req->url, "/stripe/3ds/", 12)) {
        s_3ds(req, resp);
        return;
    }
    if (!auth || strncasecmp(auth, "Bearer ", 7) || strcmp(auth + 7, sbx_creds.stripe_key)) {
        s_error(resp, 401, "invalid_request_error", NULL, "Invalid API Key provided.");
        return;
    }
    if (!strcmp(req->method, "POST") && !strcmp(req->url, "/v1/payment_intents")) {
        s_create(req, resp);
    } else if (!strcmp(req->method, "GET") && !strcmp(req->url, "/v1/payment_intents/search")) {
        s_search(req, resp);
    } else if (!strcmp(req->method, "GET") && !strncmp(req->url, "/v1/payment_intents/", 20)) {
        sbx_pay_lock();
        json_t *pi = json_object_get(sbx_pay_table("stripe_pi"), req->url + 20);
        if (pi)
            sbx_json(resp, 200, json_deep_copy(pi));
        else
            s_error(resp, 404, "invalid_request_error", "resource_missing",
                    "No such payment_intent.");
        sbx_pay_unlock();
    } else if (!strcmp(req->method, "POST") && !strcmp(req->url, "/v1/refunds")) {
        s_refund(req, resp);
    } else if (!strcmp(req->method, "GET") && !strncmp(req->url, "/v1/refunds/", 12)) {
        sbx_pay_lock();
        json_t *re = json_object_get(sbx_pay_table("stripe_refund"), req->url + 12);
        if (re)
            sbx_json(resp, 200, json_deep_copy(re));
        else
            s_error(resp, 404, "invalid_request_error", "resource_missing", "No such refund.");
        sbx_pay_unlock();
    } else {
        s_error(resp, 404, "invalid_request_error", NULL, "Unrecognized request URL.");
    }
}

const sbx_module_t sbx_stripe_module = {"stripe", s_claims, s_handle};
