/* pay_razorpay: the Razorpay adapter: an order per payment (POST /v1/orders, receipt = our
 * payment id, Basic key_id:secret), a payment on it (POST /v1/payments/create/json, the
 * server-to-server JSON flow: card token, UPI collect, net banking, wallet; subset in
 * docs/payments.md), reads through GET /v1/orders/{id}/payments, refunds through POST
 * /v1/payments/{id}/refund (X-Refund-Idempotency = refund id), webhooks signed with
 * X-Razorpay-Signature (hex HMAC-SHA256 of the body). Razorpay has no idempotency key on
 * orders or payments, so before creating anything the adapter looks the order up by its
 * receipt and the order's payments up: a retry finds what the first try made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_util.h"
#include "pay_gateway.h"

static int s_supports(const char *method)
{
    return method && (!strcmp(method, "card") || !strcmp(method, "upi") ||
                      !strcmp(method, "netbanking") || !strcmp(method, "wallet"));
}

/* One call; *doc_out is the parsed answer (may be NULL). Maps statuses to errors. */
static bx_err_t s_call(const char *method, const char *path, json_t *body, const char *idem,
                       json_t **doc_out)
{
    char url[512], userpwd[300], key[128];
    snprintf(url, sizeof url, "%s%s", bx_config_str("razorpay_api_base"), path);
    snprintf(userpwd, sizeof userpwd, "%s:%s", bx_config_str("razorpay_key_id"),
             bx_config_str("razorpay_key_secret"));
    snprintf(key, sizeof key, "X-Refund-Idempotency: %s", idem ? idem : "");
    const char *hdr[] = {"Content-Type: application/json", idem ? key : NULL, NULL};
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    pay_http_resp_t r;
    *doc_out = NULL;
    bx_err_t err = pay_http(method, url, hdr, userpwd, text, &r);
    free(text);
    if (err)
        return err;
    *doc_out = json_loadb(r.body, r.len, 0, NULL);
    long status = r.status;
    pay_http_free(&r);
    if (status >= 500 || status == 429 || !*doc_out)
        return BX_ETIMEOUT;
    if (status == 404)
        return BX_ENOTFOUND;
    return status == 200 ? BX_OK : BX_EINVAL;
}

static void s_error(json_t *doc, char *code, size_t cc, char *msg, size_t mc)
{
    json_t *e = json_object_get(doc, "error");
    const char *r = json_string_value(json_object_get(e, "reason"));
    const char *c = json_string_value(json_object_get(e, "code"));
    const char *d = json_string_value(json_object_get(e, "description"));
    bx_strlcpy(code, r ? r : c ? c : "gateway_refused", cc);
    if (msg)
        bx_strlcpy(msg, d ? d : "", mc);
}

/* The order whose receipt is payment_id into ref ("" when there is none). */
static bx_err_t s_order_find(const char *payment_id, char *ref, size_t cap)
{
    char path[256];
    json_t *doc;
    snprintf(path, sizeof path, "/v1/orders?receipt=%s", payment_id);
    bx_err_t err = s_call("GET", path, NULL, NULL, &doc);
    const char *id =
        json_string_value(json_object_get(json_array_get(json_object_get(doc, "items"), 0), "id"));
    bx_strlcpy(ref, err == BX_OK && id ? id : "", cap);
    json_decref(doc);
    return err;
}

/* Reads the order's payments into out: a captured one wins, else the latest. */
static bx_err_t s_order_payments(const char *order, pay_gw_result_t *out, char *pay_id, size_t cap)
{
    char path[256];
    json_t *doc, *p, *pick = NULL;
    size_t i;
    snprintf(path, sizeof path, "/v1/orders/%s/payments", order);
    bx_err_t err = s_call("GET", path, NULL, NULL, &doc);
    bx_strlcpy(out->ref, order, sizeof out->ref);
    out->status = PAY_GW_NOT_FOUND;
    json_array_foreach(json_object_get(doc, "items"), i, p)
    {
        const char *st = json_string_value(json_object_get(p, "status"));
        if (!pick || (st && (!strcmp(st, "captured") || !strcmp(st, "refunded"))))
            pick = p;
    }
    if (err == BX_OK && pick) {
        const char *st = json_string_value(json_object_get(pick, "status"));
        const char *id = json_string_value(json_object_get(pick, "id"));
        const char *code = json_string_value(json_object_get(pick, "error_reason"));
        const char *msg = json_string_value(json_object_get(pick, "error_description"));
        st = st ? st : "";
        if (pay_id)
            bx_strlcpy(pay_id, id ? id : "", cap);
        if (!strcmp(st, "captured") || !strcmp(st, "refunded")) {
            out->status = PAY_GW_SUCCEEDED;
            out->captured = json_integer_value(json_object_get(pick, "amount"));
        } else if (!strcmp(st, "failed")) {
            out->status = PAY_GW_FAILED;
            bx_strlcpy(out->failure_code, code ? code : "payment_failed", sizeof out->failure_code);
            bx_strlcpy(out->failure_message, msg ? msg : "", sizeof out->failure_message);
        } else {
            out->status = PAY_GW_PROCESSING;
        }
    }
    json_decref(doc);
    return err;
}

static bx_err_t s_order_create(const pay_gw_charge_t *c, char *ref, size_t cap)
{
    json_t *doc = NULL,
           *body = json_pack("{s:I, s:s, s:s, s:{s:s, s:s}}", "amount", (json_int_t)c->amount,
                             "currency", c->currency, "receipt", c->payment_id, "notes",
                             "booking_id", c->booking_id, "payment_id", c->payment_id);
    bx_err_t err = body ? s_call("POST", "/v1/orders", body, NULL, &doc) : BX_ENOMEM;
    json_decref(body);
    const char *id = json_string_value(json_object_get(doc, "id"));
    if (err == BX_OK && !id)
        err = BX_ETIMEOUT;
    bx_strlcpy(ref, id ? id : "", cap);
    json_decref(doc);
    return err;
}

static json_t *s_payment_body(const pay_gw_charge_t *c, const char *order)
{
    json_t *b = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "amount",
                          (json_int_t)c->amount, "currency", c->currency, "order_id", order,
                          "email", c->email ? c->email : "customer@boxoffice.test", "contact",
                          "+919000090000", "method", c->method, "notes", "booking_id",
                          c->booking_id, "payment_id", c->payment_id);
    if (!b)
        return NULL;
    if (c->token)
        json_object_set_new(b, "token", json_string(c->token));
    if (c->vpa)
        json_object_set_new(b, "vpa", json_string(c->vpa));
    if (c->bank)
        json_object_set_new(b, "bank", json_string(c->bank));
    if (c->wallet)
        json_object_set_new(b, "wallet", json_string(c->wallet));
    if (c->return_url)
        json_object_set_new(b, "callback_url", json_string(c->return_url));
    return b;
}

/* Creates the payment on order; a redirect in the answer's "next" goes into action. */
static bx_err_t s_payment_create(const pay_gw_charge_t *c, const char *order, char *action,
                                 size_t cap, pay_gw_result_t *out)
{
    json_t *doc, *n, *body = s_payment_body(c, order);
    size_t i;
    bx_err_t err = body ? s_call("POST", "/v1/payments/create/json", body, NULL, &doc) : BX_ENOMEM;
    json_decref(body);
    action[0] = '\0';
    json_array_foreach(json_object_get(doc, "next"), i, n)
    {
        const char *a = json_string_value(json_object_get(n, "action"));
        const char *url = json_string_value(json_object_get(n, "url"));
        if (a && url && !strcmp(a, "redirect"))
            bx_strlcpy(action, url, cap);
    }
    if (err == BX_EINVAL)
        s_error(doc, out->failure_code, sizeof out->failure_code, out->failure_message,
                sizeof out->failure_message);
    /* a decline made a failed payment on the order: the read below reports it */
    if (err == BX_EINVAL &&
        json_object_get(json_object_get(json_object_get(doc, "error"), "metadata"), "payment_id"))
        err = BX_OK;
    json_decref(doc);
    return err;
}

static bx_err_t s_charge(const pay_gw_charge_t *c, pay_gw_result_t *out)
{
    char order[129], action[512];
    memset(out, 0, sizeof *out);
    bx_err_t err = s_order_find(c->payment_id, order, sizeof order);
    if (!err && !order[0])
        err = s_order_create(c, order, sizeof order);
    if (!err)
        err = s_order_payments(order, out, NULL, 0);
    if (!err && out->status == PAY_GW_NOT_FOUND) {
        err = s_payment_create(c, order, action, sizeof action, out);
        if (!err)
            err = s_order_payments(order, out, NULL, 0);
        if (!err && out->status == PAY_GW_PROCESSING && action[0]) {
            out->status = PAY_GW_REQUIRES_ACTION;
            bx_strlcpy(out->action_url, action, sizeof out->action_url);
        }
        if (!err && out->status == PAY_GW_NOT_FOUND)
            err = BX_ETIMEOUT; /* created but not listed: ask again later */
    }
    bx_strlcpy(out->ref, order, sizeof out->ref);
    return err;
}

static bx_err_t s_query(const char *payment_id, const char *ref, pay_gw_result_t *out)
{
    char order[129];
    memset(out, 0, sizeof *out);
    bx_strlcpy(order, ref ? ref : "", sizeof order);
    bx_err_t err = order[0] ? BX_OK : s_order_find(payment_id, order, sizeof order);
    if (err)
        return err;
    if (!order[0]) {
        out->status = PAY_GW_NOT_FOUND;
        return BX_OK;
    }
    err = s_order_payments(order, out, NULL, 0);
    return err == BX_ENOTFOUND ? (out->status = PAY_GW_NOT_FOUND, BX_OK) : err;
}

static bx_err_t s_refund_read(bx_err_t err, json_t *doc, pay_gw_refund_t *out)
{
    const char *id = json_string_value(json_object_get(doc, "id"));
    const char *st = json_string_value(json_object_get(doc, "status"));
    if (err == BX_OK) {
        bx_strlcpy(out->ref, id ? id : "", sizeof out->ref);
        out->succeeded = st && (!strcmp(st, "processed") || !strcmp(st, "pending"));
        if (!out->succeeded)
            bx_strlcpy(out->failure_code, st ? st : "refund_failed", sizeof out->failure_code);
    } else if (err == BX_EINVAL || err == BX_ENOTFOUND) {
        s_error(doc, out->failure_code, sizeof out->failure_code, NULL, 0);
        err = BX_EINVAL;
    }
    json_decref(doc);
    return err;
}

static bx_err_t s_refund(const char *ref, const char *refund_id, int64_t amount,
                         pay_gw_refund_t *out)
{
    char pay[129], path[256];
    pay_gw_result_t r;
    json_t *doc = NULL;
    memset(out, 0, sizeof *out);
    memset(&r, 0, sizeof r);
    bx_err_t err = s_order_payments(ref, &r, pay, sizeof pay);
    if (err)
        return err;
    if (r.status != PAY_GW_SUCCEEDED) {
        bx_strlcpy(out->failure_code, "not_captured", sizeof out->failure_code);
        return BX_EINVAL;
    }
    snprintf(path, sizeof path, "/v1/payments/%s/refund", pay);
    json_t *body = json_pack("{s:I, s:s, s:{s:s}}", "amount", (json_int_t)amount, "receipt",
                             refund_id, "notes", "refund_id", refund_id);
    err = body ? s_call("POST", path, body, refund_id, &doc) : BX_ENOMEM;
    json_decref(body);
    return s_refund_read(err, doc, out);
}

static bx_err_t s_refund_query(const char *refund_ref, pay_gw_refund_t *out)
{
    char path[256];
    json_t *doc = NULL;
    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "/v1/refunds/%s", refund_ref);
    bx_err_t err = s_call("GET", path, NULL, NULL, &doc);
    return s_refund_read(err, doc, out);
}

static bx_err_t s_webhook(const char *(*header)(void *arg, const char *name), void *arg,
                          const char *body, size_t len, int64_t now, pay_gw_event_t *out)
{
    char mac[65];
    (void)now; /* Razorpay signs no timestamp: the event id dedupes replays */
    memset(out, 0, sizeof *out);
    const char *sig = header(arg, "X-Razorpay-Signature");
    const char *eid = header(arg, "X-Razorpay-Event-Id");
    pay_hmac_hex(bx_config_str("razorpay_webhook_secret"), body, len, mac);
    if (!sig || !pay_str_eq_ct(sig, mac))
        return BX_EUNAUTHORIZED;
    json_t *doc = json_loadb(body, len, 0, NULL);
    const char *type = json_string_value(json_object_get(doc, "event"));
    json_t *ent =
        json_object_get(json_object_get(json_object_get(doc, "payload"), "payment"), "entity");
    if (!eid || !*eid || strlen(eid) >= sizeof out->event_id || !type || !json_is_object(ent)) {
        json_decref(doc);
        return BX_EINVAL;
    }
    pay_gw_event_fill(out, eid, type, json_object_get(ent, "notes"), doc);
    return BX_OK;
}

const pay_gateway_t pay_razorpay = {"razorpay", s_supports,     s_charge, s_query,
                                    s_refund,   s_refund_query, s_webhook};
