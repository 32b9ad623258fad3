/* pay_gateway: the payment gateway adapter interface of the payment pool (docs/payments.md).
 * An adapter speaks one provider's wire format over HTTPS (libcurl, gateway_timeout_ms on
 * every call): create-and-confirm a charge, query it, refund it, query a refund, and parse
 * and verify an inbound webhook. Every call that moves money carries an idempotency key
 * (the payment id or the refund id), so repeating a call after a timeout or a crash finds
 * the same gateway object and never charges twice. Adapters keep no state: each call reads
 * its base URL and keys from the configuration, so they are safe on any thread.
 * Ownership: every string in a request is borrowed; results are filled in place. */
#ifndef PAY_GATEWAY_H
#define PAY_GATEWAY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "bx_err.h"

/* Where a charge stands at the gateway. */
typedef enum {
    PAY_GW_SUCCEEDED = 1,   /* money captured */
    PAY_GW_REQUIRES_ACTION, /* the customer must act (3-D Secure, UPI app, bank page) */
    PAY_GW_PROCESSING,      /* created, outcome pending at the gateway */
    PAY_GW_FAILED,          /* declined or abandoned for good */
    PAY_GW_NOT_FOUND,       /* the gateway has no charge for this payment id */
} pay_gw_status_t;

/* A charge to create: one payment attempt. */
typedef struct {
    const char *payment_id; /* our payment id: the idempotency key / receipt */
    const char *booking_id; /* sent as metadata */
    const char *method;     /* card, upi, netbanking, wallet */
    const char *token;      /* card token (pm_card_visa), never a card number; may be NULL */
    const char *vpa;        /* UPI address; may be NULL */
    const char *bank;       /* net banking bank code; may be NULL */
    const char *wallet;     /* wallet name; may be NULL */
    const char *return_url; /* where the customer comes back after a redirect; may be NULL */
    const char *email;      /* the customer's e-mail (Razorpay wants one); may be NULL */
    const char *currency;   /* ISO 4217, upper case */
    int64_t amount;         /* minor units */
} pay_gw_charge_t;

/* What the gateway says about a charge. */
typedef struct {
    pay_gw_status_t status;
    char ref[129];             /* gateway object id (PaymentIntent / order), "" if none */
    int64_t captured;          /* minor units captured */
    char action_url[512];      /* PAY_GW_REQUIRES_ACTION: where the customer goes */
    char failure_code[65];     /* PAY_GW_FAILED: card_declined, insufficient_funds, ... */
    char failure_message[301]; /* PAY_GW_FAILED: the gateway's words */
} pay_gw_result_t;

/* What the gateway says about a refund. */
typedef struct {
    int succeeded;         /* 1 when the refund went through (or is processing) */
    char ref[129];         /* gateway refund id */
    char failure_code[65]; /* when not succeeded */
} pay_gw_refund_t;

/* A verified inbound webhook. */
typedef struct {
    char event_id[129];  /* the provider's event id (dedupe key) */
    char type[65];       /* payment_intent.succeeded, payment.captured, ... */
    char payment_id[40]; /* our payment id from the object's metadata, "" if none */
    char booking_id[40]; /* our booking id from the metadata, "" if none */
    json_t *object;      /* the event document (new reference, caller decrefs) */
} pay_gw_event_t;

typedef struct {
    const char *name; /* "stripe", "razorpay" */
    /* 1 if the provider takes this method. */
    int (*supports)(const char *method);
    /* Creates and confirms the charge (idempotent by payment_id). BX_OK with *out filled;
     * BX_ETIMEOUT when the outcome is unknown (timeout, connection lost after sending);
     * BX_EUNAVAILABLE when nothing reached the gateway; BX_EINVAL when the gateway refused
     * the request itself (bad parameters, bad key: failure_* says why). */
    bx_err_t (*charge)(const pay_gw_charge_t *c, pay_gw_result_t *out);
    /* Asks where payment_id stands (ref: its gateway object id, "" or NULL if unknown);
     * never creates anything. Errors as for charge. */
    bx_err_t (*query)(const char *payment_id, const char *ref, pay_gw_result_t *out);
    /* Refunds amount of the charge ref (idempotent by refund_id: the pool sends
     * "rf" + the refund id's 32 hex digits, distinct from every charge's key). Errors as for
     * charge. */
    bx_err_t (*refund)(const char *ref, const char *refund_id, int64_t amount,
                       pay_gw_refund_t *out);
    /* Reads refund refund_ref back. Errors as for charge. */
    bx_err_t (*refund_query)(const char *refund_ref, pay_gw_refund_t *out);
    /* Verifies and parses a webhook: header(name) returns a request header or NULL; body
     * is the raw body (len bytes); now is epoch seconds. BX_OK with *out filled (caller
     * decrefs out->object), BX_EUNAUTHORIZED for a missing or wrong signature or a stale
     * timestamp, BX_EINVAL for a body that is not an event. */
    bx_err_t (*webhook)(const char *(*header)(void *arg, const char *name), void *arg,
                        const char *body, size_t len, int64_t now, pay_gw_event_t *out);
} pay_gateway_t;

extern const pay_gateway_t pay_stripe, pay_razorpay;

/* The adapter of provider ("stripe", "razorpay"), or NULL. */
const pay_gateway_t *pay_gateway(const char *provider);

/* Name of a status ("succeeded", ...). */
const char *pay_gw_status_str(pay_gw_status_t s);

/* ---- pay_http.c: the HTTP client the adapters share ---- */

typedef struct {
    long status; /* HTTP status */
    char *body;  /* NUL-terminated, heap (pay_http_free) */
    size_t len;  /* body bytes */
} pay_http_resp_t;

/* Sends method url with headers (NULL-terminated, may be NULL), basic auth userpwd
 * ("user:pass", may be NULL) and body (may be NULL), within gateway_timeout_ms. BX_OK
 * when an answer came (any status: *out is the caller's, pay_http_free it); BX_ETIMEOUT
 * when the call may have reached the gateway but no answer came; BX_EUNAVAILABLE when the
 * connection could not be made. */
bx_err_t pay_http(const char *method, const char *url, const char *const *headers,
                  const char *userpwd, const char *body, pay_http_resp_t *out);

/* Frees what pay_http put in resp. Safe twice. */
void pay_http_free(pay_http_resp_t *resp);

/* Appends name=value to a form body (value percent-encoded); returns 0 when it would not
 * fit in cap. */
int pay_form_add(char *buf, size_t cap, const char *name, const char *value);

/* Lower-case hex HMAC-SHA256 of data with key into out (65 bytes). */
void pay_hmac_hex(const char *key, const void *data, size_t len, char out[65]);

/* Constant-time comparison of two NUL-terminated strings: 1 if equal. */
int pay_str_eq_ct(const char *a, const char *b);

/* Fills out from a verified webhook: event_id and type (the caller checked they fit), the
 * payment and booking ids from meta's payment_id and booking_id (a UUID, else ""), and doc
 * as out->object (stolen). */
void pay_gw_event_fill(pay_gw_event_t *out, const char *event_id, const char *type, json_t *meta,
                       json_t *doc);

#endif
