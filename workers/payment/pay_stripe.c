/* pay_stripe: the Stripe adapter: PaymentIntents created and confirmed in one call
 * (POST /v1/payment_intents, form-encoded, Bearer secret key, Idempotency-Key = payment
 * id), read back by id or by metadata search, refunds (POST /v1/refunds, Idempotency-Key =
 * refund id), and webhooks signed with Stripe-Signature (t=..., v1=HMAC-SHA256 of "t.body",
 * five minutes of tolerance). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_util.h"
#include "pay_gateway.h"

#define S_TOLERANCE_S 300 /* webhook timestamps older or newer than this are refused */

static int s_supports(const char *method)
{
    return method && !strcmp(method, "card");
}

static void s_failure(pay_gw_result_t *out, json_t *err)
{
    /* the decline reason when it says more than "declined" (insufficient_funds, ...) */
    const char *code = json_string_value(json_object_get(err, "decline_code"));
    if (!code || !strcmp(code, "generic_decline"))
        code = json_string_value(json_object_get(err, "code"));
    const char *msg = json_string_value(json_object_get(err, "message"));
    bx_strlcpy(out->failure_code, code ? code : "payment_failed", sizeof out->failure_code);
    bx_strlcpy(out->failure_message, msg ? msg : "", sizeof out->failure_message);
}

/* Reads a PaymentIntent into out. */
static void s_intent(json_t *pi, pay_gw_result_t *out)
{
    const char *st = json_string_value(json_object_get(pi, "status"));
    const char *id = json_string_value(json_object_get(pi, "id"));
    bx_strlcpy(out->ref, id ? id : "", sizeof out->ref);
    st = st ? st : "";
    if (!strcmp(st, "succeeded")) {
        out->status = PAY_GW_SUCCEEDED;
        out->captured = json_integer_value(json_object_get(pi, "amount_received"));
    } else if (!strcmp(st, "requires_action")) {
        json_t *na = json_object_get(pi, "next_action");
        const char *url =
            json_string_value(json_object_get(json_object_get(na, "redirect_to_url"), "url"));
        out->status = PAY_GW_REQUIRES_ACTION;
        bx_strlcpy(out->action_url, url ? url : "", sizeof out->action_url);
    } else if (!strcmp(st, "requires_payment_method") || !strcmp(st, "canceled")) {
        json_t *e = json_object_get(pi, "last_payment_error");
        out->status = PAY_GW_FAILED;
        if (e)
            s_failure(out, e);
        else
            bx_strlcpy(out->failure_code, st, sizeof out->failure_code);
    } else {
        out->status = PAY_GW_PROCESSING;
    }
}

/* Runs a call and reads the PaymentIntent it answers (a 402 carries it in the error). */
static bx_err_t s_call(const char *method, const char *path, const char *idem, const char *form,
                       json_t **doc_out)
{
    char url[512], auth[300], key[128];
    snprintf(url, sizeof url, "%s%s", bx_config_str("stripe_api_base"), path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", bx_config_str("stripe_secret_key"));
    snprintf(key, sizeof key, "Idempotency-Key: %s", idem ? idem : "");
    const char *hdr[] = {auth, "Content-Type: application/x-www-form-urlencoded",
                         "Stripe-Version: 2024-06-20", idem ? key : NULL, NULL};
    pay_http_resp_t r;
    bx_err_t err = pay_http(method, url, hdr, NULL, form, &r);
    if (err)
        return err;
    *doc_out = json_loadb(r.body, r.len, 0, NULL);
    long status = r.status;
    pay_http_free(&r);
    if (status >= 500 || status == 429 || !*doc_out) {
        json_decref(*doc_out);
        *doc_out = NULL;
        return BX_ETIMEOUT; /* the gateway failed: the outcome is not known */
    }
    if (status == 404)
        return BX_ENOTFOUND;
    return status == 200 || status == 402 ? BX_OK : BX_EINVAL;
}

static bx_err_t s_answer(bx_err_t err, json_t *doc, pay_gw_result_t *out)
{
    json_t *e = json_object_get(doc, "error");
    if (err == BX_OK && e) {
        json_t *pi = json_object_get(e, "payment_intent");
        if (pi)
            s_intent(pi, out);
        out->status = PAY_GW_FAILED;
        s_failure(out, e);
    } else if (err == BX_OK) {
        s_intent(doc, out);
    } else if (err == BX_EINVAL) {
        s_failure(out, e);
    }
    json_decref(doc);
    return err;
}

static bx_err_t s_charge(const pay_gw_charge_t *c, pay_gw_result_t *out)
{
    char form[2048] = "", amount[32], cur[4];
    memset(out, 0, sizeof *out);
    snprintf(amount, sizeof amount, "%lld", (long long)c->amount);
    for (int i = 0; i < 3 && c->currency[i]; i++)
        cur[i] = (char)(c->currency[i] | 0x20);
    cur[3] = '\0';
    int ok = pay_form_add(form, sizeof form, "amount", amount) &&
             pay_form_add(form, sizeof form, "currency", cur) &&
             pay_form_add(form, sizeof form, "payment_method", c->token ? c->token : "") &&
             pay_form_add(form, sizeof form, "payment_method_types[]", "card") &&
             pay_form_add(form, sizeof form, "confirm", "true") &&
             pay_form_add(form, sizeof form, "metadata[booking_id]", c->booking_id) &&
             pay_form_add(form, sizeof form, "metadata[payment_id]", c->payment_id) &&
             (!c->return_url || pay_form_add(form, sizeof form, "return_url", c->return_url));
    if (!ok)
        return BX_EINVAL;
    json_t *doc = NULL;
    bx_err_t err = s_call("POST", "/v1/payment_intents", c->payment_id, form, &doc);
    return s_answer(err, doc, out); /* two statements: doc is set by s_call */
}

static bx_err_t s_query(const char *payment_id, const char *ref, pay_gw_result_t *out)
{
    char path[512], q[256] = "";
    json_t *doc = NULL;
    memset(out, 0, sizeof *out);
    if (ref && *ref) {
        snprintf(path, sizeof path, "/v1/payment_intents/%s", ref);
        bx_err_t err = s_call("GET", path, NULL, NULL, &doc);
        if (err == BX_ENOTFOUND) {
            json_decref(doc);
            out->status = PAY_GW_NOT_FOUND;
            return BX_OK;
        }
        return s_answer(err, doc, out);
    }
    char query[160];
    snprintf(query, sizeof query, "metadata['payment_id']:'%s'", payment_id);
    pay_form_add(q, sizeof q, "query", query);
    snprintf(path, sizeof path, "/v1/payment_intents/search?%s", q);
    bx_err_t err = s_call("GET", path, NULL, NULL, &doc);
    if (err) {
        json_decref(doc);
        return err;
    }
    json_t *first = json_array_get(json_object_get(doc, "data"), 0);
    if (first)
        s_intent(first, out);
    else
        out->status = PAY_GW_NOT_FOUND;
    json_decref(doc);
    return BX_OK;
}

static void s_refund_read(json_t *doc, pay_gw_refund_t *out)
{
    const char *st = json_string_value(json_object_get(doc, "status"));
    const char *id = json_string_value(json_object_get(doc, "id"));
    bx_strlcpy(out->ref, id ? id : "", sizeof out->ref);
    out->succeeded = st && (!strcmp(st, "succeeded") || !strcmp(st, "pending"));
    if (!out->succeeded)
        bx_strlcpy(out->failure_code, st ? st : "refund_failed", sizeof out->failure_code);
}

static bx_err_t s_refund_end(bx_err_t err, json_t *doc, pay_gw_refund_t *out)
{
    if (err == BX_OK) {
        s_refund_read(doc, out);
    } else if (err == BX_EINVAL || err == BX_ENOTFOUND) {
        const char *code =
            json_string_value(json_object_get(json_object_get(doc, "error"), "code"));
        bx_strlcpy(out->failure_code, code ? code : "refund_refused", sizeof out->failure_code);
        err = BX_EINVAL;
    }
    json_decref(doc);
    return err;
}

static bx_err_t s_refund(const char *ref, const char *refund_id, int64_t amount,
                         pay_gw_refund_t *out)
{
    char form[512] = "", a[32];
    json_t *doc = NULL;
    memset(out, 0, sizeof *out);
    snprintf(a, sizeof a, "%lld", (long long)amount);
    pay_form_add(form, sizeof form, "payment_intent", ref);
    pay_form_add(form, sizeof form, "amount", a);
    pay_form_add(form, sizeof form, "metadata[refund_id]", refund_id);
    bx_err_t err = s_call("POST", "/v1/refunds", refund_id, form, &doc);
    return s_refund_end(err, doc, out);
}

static bx_err_t s_refund_query(const char *refund_ref, pay_gw_refund_t *out)
{
    char path[256];
    json_t *doc = NULL;
    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "/v1/refunds/%s", refund_ref);
    bx_err_t err = s_call("GET", path, NULL, NULL, &doc);
    return s_refund_end(err, doc, out);
}

/* Checks "t=...,v1=...[,v1=...]" against body. */
static int s_signed(const char *sig, const char *body, size_t len, int64_t now)
{
    char payload_head[32], mac[65], v1[80];
    long long t = -1;
    int ok = 0;
    if (!sig || strlen(sig) > 1024)
        return 0;
    for (const char *p = sig; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, "t=", 2))
            t = strtoll(p + 2, NULL, 10);
    if (t <= 0 || t < now - S_TOLERANCE_S || t > now + S_TOLERANCE_S)
        return 0;
    int hl = snprintf(payload_head, sizeof payload_head, "%lld.", t);
    char *signed_payload = malloc((size_t)hl + len + 1);
    if (!signed_payload)
        return 0;
    memcpy(signed_payload, payload_head, (size_t)hl);
    memcpy(signed_payload + hl, body, len);
    pay_hmac_hex(bx_config_str("stripe_webhook_secret"), signed_payload, (size_t)hl + len, mac);
    free(signed_payload);
    for (const char *p = sig; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        if (strncmp(p, "v1=", 3))
            continue;
        size_t n = strcspn(p + 3, ",");
        snprintf(v1, sizeof v1, "%.*s", (int)(n < 79 ? n : 79), p + 3);
        ok |= pay_str_eq_ct(v1, mac);
    }
    return ok;
}

static bx_err_t s_webhook(const char *(*header)(void *arg, const char *name), void *arg,
                          const char *body, size_t len, int64_t now, pay_gw_event_t *out)
{
    memset(out, 0, sizeof *out);
    if (!s_signed(header(arg, "Stripe-Signature"), body, len, now))
        return BX_EUNAUTHORIZED;
    json_t *doc = json_loadb(body, len, 0, NULL);
    const char *id = json_string_value(json_object_get(doc, "id"));
    const char *type = json_string_value(json_object_get(doc, "type"));
    json_t *obj = json_object_get(json_object_get(doc, "data"), "object");
    if (!id || !type || !json_is_object(obj) || strlen(id) >= sizeof out->event_id) {
        json_decref(doc);
        return BX_EINVAL;
    }
    pay_gw_event_fill(out, id, type, json_object_get(obj, "metadata"), doc);
    return BX_OK;
}

const pay_gateway_t pay_stripe = {"stripe", s_supports,     s_charge, s_query,
                                  s_refund, s_refund_query, s_webhook};
