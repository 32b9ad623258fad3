/* fd_payments: payments (docs/payments.md). POST /api/v1/payments checks what it can
 * without a gateway (the booking is the caller's and pending payment, the provider takes
 * the method, the method's inputs are there, nothing looks like a card number: 422) and
 * queues a pay job for the payment pool with the booking as route key; the request id
 * becomes the payment id and the gateway's idempotency key. GET /api/v1/payments/{id}
 * for the payer, the event's organization and admins; POST .../refund for the event's
 * organization and admins (409 over what is left to refund). The gateway webhooks
 * (/api/v1/payments/webhooks/stripe|razorpay) are verified here with the adapters'
 * signature checks (400 and nothing written when they fail), then written to the outbox
 * as a gateway_event job in one transaction and answered 200. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_log.h"
#include "bx_util.h"
#include "bx_wire.h"
#include "fd_catalog.h"
#include "pay_gateway.h"

static const char *const s_providers[] = {"stripe", "razorpay", NULL};
static const char *const s_methods[] = {"card", "upi", "netbanking", "wallet", NULL};

static const bx_jfield_t s_pay_schema[] = {
    {.name = "booking_id", .type = BX_JT_STRING, .required = 1, .format = BX_FMT_UUID},
    {.name = "provider", .type = BX_JT_STRING, .required = 1, .one_of = s_providers},
    {.name = "method", .type = BX_JT_STRING, .required = 1, .one_of = s_methods},
    {.name = "payment_method", .type = BX_JT_STRING, .min = 1, .max = 64},
    {.name = "vpa", .type = BX_JT_STRING, .min = 3, .max = 100},
    {.name = "bank", .type = BX_JT_STRING, .min = 2, .max = 16},
    {.name = "wallet", .type = BX_JT_STRING, .min = 2, .max = 32},
    {.name = "return_url", .type = BX_JT_STRING, .max = 400, .format = BX_FMT_URL},
    {0},
};

static const bx_jfield_t s_refund_schema[] = {
    {.name = "amount_minor", .type = BX_JT_INT, .min = 1, .max = 1000000000000L},
    {.name = "reason",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 200,
     .format = BX_FMT_NAME},
    {0},
};

/* Every string member of body; answers 422 and returns 0 when one looks like a card
 * number (PCI: never accepted, stored or logged). */
static int s_no_card_numbers(fd_req_t *req, json_t *body)
{
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        if (json_is_string(v) && strcmp(k, "booking_id") && /* a UUID's digit runs are not a PAN */
            bx_log_has_card_number(json_string_value(v))) {
            char ptr[80];
            snprintf(ptr, sizeof ptr, "/%.60s", k);
            fd_reply_problem_ext(req, BX_EUNPROCESSABLE,
                                 "card numbers are never accepted: send a card token",
                                 json_pack("{s:[{s:s, s:s}]}", "errors", "pointer", ptr, "detail",
                                           "looks like a card number"));
            return 0;
        }
    }
    return 1;
}

/* The inputs the method needs are there (and only a token for cards). */
static int s_method_inputs(fd_req_t *req, json_t *body, const char *provider, const char *method)
{
    const pay_gateway_t *gw = pay_gateway(provider);
    const char *token = bx_json_str(body, "payment_method"), *vpa = bx_json_str(body, "vpa");
    if (!gw || !gw->supports(method)) {
        fd_cat_invalid(req, "/method", "this provider does not take this method");
        return 0;
    }
    if (!strcmp(method, "card") &&
        (!token || (strncmp(token, "pm_", 3) && strncmp(token, "tok_", 4)))) {
        fd_cat_invalid(req, "/payment_method",
                       "card payments need a card token (pm_... or tok_...)");
        return 0;
    }
    if (!strcmp(method, "upi") && (!vpa || !strchr(vpa, '@'))) {
        fd_cat_invalid(req, "/vpa", "UPI payments need a virtual payment address (name@bank)");
        return 0;
    }
    if (!strcmp(method, "netbanking") && !bx_json_str(body, "bank")) {
        fd_cat_invalid(req, "/bank", "net banking payments need a bank code");
        return 0;
    }
    if (!strcmp(method, "wallet") && !bx_json_str(body, "wallet")) {
        fd_cat_invalid(req, "/wallet", "wallet payments need a wallet name");
        return 0;
    }
    return 1;
}

static void s_pay(fd_req_t *req)
{
    json_t *body = fd_body(req);
    const char *booking = bx_json_str(body, "booking_id");
    const char *provider = bx_json_str(body, "provider"), *method = bx_json_str(body, "method");
    if (!s_no_card_numbers(req, body) || !s_method_inputs(req, body, provider, method))
        return;
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg)
        return;
    bx_err_t err;
    const char *a[] = {booking};
    PGresult *res = bx_pg_query(pg, "pay_booking_owner", 1, a, &err);
    int mine = res && PQntuples(res) == 1 && !strcmp(bx_pg_val(res, 0, 0), fd_who(req)->user_id);
    int pending = mine && !strcmp(bx_pg_val(res, 0, 1), "pending_payment");
    PQclear(res);
    if (!mine) {
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such booking" : NULL);
        return;
    }
    if (!pending) {
        fd_reply_problem(req, BX_ECONFLICT, "the booking is not waiting for a payment");
        return;
    }
    json_t *pl = json_pack("{s:s, s:s, s:s, s:s}", "op", "pay", "booking_id", booking, "provider",
                           provider, "method", method);
    static const char *const copy[][2] = {{"payment_method", "token"},
                                          {"vpa", "vpa"},
                                          {"bank", "bank"},
                                          {"wallet", "wallet"},
                                          {"return_url", "return_url"}};
    for (size_t i = 0; pl && i < sizeof copy / sizeof copy[0]; i++)
        if (bx_json_str(body, copy[i][0]))
            json_object_set_new(pl, copy[i][1], json_string(bx_json_str(body, copy[i][0])));
    fd_submit(req, BX_SVC_PAYMENT, booking, pl);
}

/* Reads payment id; *who: 1 payer, 2 organization or admin, 0 neither (answered 404). */
static PGresult *s_view(fd_req_t *req, bx_pg_t *pg, const char *id, int *who)
{
    bx_err_t err;
    const char *a[] = {id};
    int ok = 0;
    PGresult *res = bx_pg_query(pg, "pay_view", 1, a, &err);
    *who = 0;
    if (res && PQntuples(res) == 1) {
        if (!strcmp(bx_pg_val(res, 0, 2), fd_who(req)->user_id))
            *who = 1;
        if ((err = fd_cat_manages(req, pg, bx_pg_val(res, 0, 15), &ok)) == BX_OK && ok)
            *who = 2;
    }
    if (!*who) {
        fd_cat_fail(req, pg, res && !err ? BX_ENOTFOUND : err,
                    res && !err ? "no such payment" : NULL);
        PQclear(res);
        return NULL;
    }
    return res;
}

static void s_get(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "paymentId", "payment");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    int who;
    PGresult *res = pg ? s_view(req, pg, id, &who) : NULL;
    if (!res)
        return;
    const char *na = bx_pg_val(res, 0, 10);
    json_t *attrs = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:o, s:s?, s:s?, s:s, s:s, s:o?}",
        "booking_id", bx_pg_val(res, 0, 1), "user_id", bx_pg_val(res, 0, 2), "provider",
        bx_pg_val(res, 0, 3), "method", bx_pg_val(res, 0, 4), "status", bx_pg_val(res, 0, 5),
        "amount_minor", (json_int_t)strtoll(bx_pg_val(res, 0, 6), NULL, 10), "currency",
        bx_pg_val(res, 0, 7), "captured_minor", (json_int_t)strtoll(bx_pg_val(res, 0, 8), NULL, 10),
        "refunded_minor", (json_int_t)strtoll(bx_pg_val(res, 0, 9), NULL, 10), "next_action",
        na ? json_loads(na, 0, NULL) : json_null(), "failure_code", bx_pg_val(res, 0, 11),
        "failure_message", bx_pg_val(res, 0, 12), "created_at", bx_pg_val(res, 0, 13), "updated_at",
        bx_pg_val(res, 0, 14), "refunds", json_loads(bx_pg_val(res, 0, 17), 0, NULL));
    PQclear(res);
    char self[96];
    snprintf(self, sizeof self, "/api/v1/payments/%s", id);
    fd_reply_json(req, 200, fd_document(fd_resource("payment", id, attrs, self), NULL));
}

static void s_refund(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "paymentId", "payment");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    json_t *body = fd_body(req);
    int who;
    PGresult *res = pg ? s_view(req, pg, id, &who) : NULL;
    if (!res)
        return;
    char booking[37], detail[160];
    bx_strlcpy(booking, bx_pg_val(res, 0, 1), sizeof booking);
    int succeeded = !strcmp(bx_pg_val(res, 0, 5), "succeeded");
    long long left =
        strtoll(bx_pg_val(res, 0, 8), NULL, 10) - strtoll(bx_pg_val(res, 0, 9), NULL, 10);
    PQclear(res);
    json_t *am = json_object_get(body, "amount_minor");
    if (who != 2) {
        fd_reply_problem(req, BX_EFORBIDDEN,
                         "customers cancel their booking instead (POST /bookings/{id}/cancel)");
    } else if (!succeeded || left <= 0 || (am && json_integer_value(am) > left)) {
        snprintf(detail, sizeof detail, "could not refund: %lld left to refund on this payment",
                 succeeded ? left : 0LL);
        fd_reply_problem(req, BX_ECONFLICT, detail);
    } else {
        json_t *pl = json_pack("{s:s, s:s, s:s, s:s, s:s}", "op", "refund", "payment_id", id,
                               "booking_id", booking, "reason", bx_json_str(body, "reason"), "by",
                               !strcmp(fd_who(req)->role, "admin") ? "admin" : "partner");
        if (pl && am)
            json_object_set_new(pl, "amount_minor", json_integer(json_integer_value(am)));
        fd_submit(req, BX_SVC_PAYMENT, booking, pl);
    }
}

static const char *s_header(void *arg, const char *name)
{
    return fd_header(arg, name);
}

static void s_webhook(fd_req_t *req, const char *provider)
{
    size_t len = 0;
    const char *raw = fd_body_raw(req, &len);
    pay_gw_event_t ev;
    bx_err_t err = pay_gateway(provider)->webhook(s_header, req, raw ? raw : "", raw ? len : 0,
                                                  bx_now_ms() / 1000, &ev);
    if (err) {
        fd_reply_problem(req, BX_EINVAL,
                         err == BX_EUNAUTHORIZED ? "bad or missing webhook signature"
                                                 : "not an event");
        return;
    }
    bx_pg_t *pg = fd_cat_db(req);
    json_t *pl = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "op", "gateway_event", "provider",
                           provider, "event_id", ev.event_id, "type", ev.type, "payment_id",
                           ev.payment_id, "object", ev.object);
    json_decref(ev.object);
    char *text = pl ? bx_json_dump(pl) : NULL;
    json_decref(pl);
    const char *a[] = {ev.booking_id[0] ? ev.booking_id : NULL, text};
    err = !pg ? BX_EUNAVAILABLE : text ? bx_pg_run(pg, "pay_gw_outbox", 2, a) : BX_ENOMEM;
    free(text);
    if (!pg)
        return; /* fd_cat_db answered */
    if (err) {
        fd_reply_problem(req, BX_EUNAVAILABLE, "the event could not be recorded; send it again");
        return;
    }
    fd_reply_json(req, 200, json_pack("{s:b, s:s}", "received", 1, "event_id", ev.event_id));
}

static void s_webhook_stripe(fd_req_t *req)
{
    s_webhook(req, "stripe");
}

static void s_webhook_razorpay(fd_req_t *req)
{
    s_webhook(req, "razorpay");
}

const fd_route_t fd_payments_routes[] = {
    {"POST", "/api/v1/payments/webhooks/stripe", s_webhook_stripe, FD_RAW_BODY | FD_NO_IDEM,
     FD_RL_NONE, NULL},
    {"POST", "/api/v1/payments/webhooks/razorpay", s_webhook_razorpay, FD_RAW_BODY | FD_NO_IDEM,
     FD_RL_NONE, NULL},
    {"POST", "/api/v1/payments", s_pay, FD_AUTH, FD_RL_WRITE, s_pay_schema},
    {"GET", "/api/v1/payments/{paymentId}", s_get, FD_AUTH, FD_RL_READ, NULL},
    {"POST", "/api/v1/payments/{paymentId}/refund", s_refund, FD_AUTH, FD_RL_WRITE,
     s_refund_schema},
    {NULL, NULL, NULL, 0, 0, NULL},
};
