/* sbx: bx-sandbox, the local stand-in for the outside providers boxoffice talks to over
 * HTTP (docs/sandbox.md). One small libmicrohttpd server; each provider is a module
 * (sbx_<name>.c) listed in sbx_server.c that claims the requests it serves and speaks
 * that provider's wire format. Every module records what it received (sbx_store) for
 * tests and demos to read back, and obeys knobs (fail, time out, answer 410, be slow)
 * set per key through the control module. Threads: one per connection (a "slow" or
 * "timeout" knob sleeps in it); the store is the only shared state, behind a mutex. */
#ifndef SBX_H
#define SBX_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#define SBX_BODY_MAX (1024 * 1024) /* request bodies above this are refused */

/* One request as a module sees it; every pointer is borrowed for the call. */
typedef struct {
    struct MHD_Connection *conn; /* for headers and query arguments */
    const char *method;          /* "POST", ... */
    const char *url;             /* path */
    const char *body;            /* NUL-terminated */
    size_t len;                  /* body bytes */
} sbx_req_t;

/* The answer a module fills. */
typedef struct {
    int status;         /* HTTP status */
    char *body;         /* heap, may be NULL */
    const char *ctype;  /* content type, static */
    char location[256]; /* Location header or "" */
} sbx_resp_t;

typedef struct {
    const char *name;                                   /* "twilio", ... */
    int (*claims)(const char *method, const char *url); /* 1 if the module serves it */
    void (*handle)(const sbx_req_t *req, sbx_resp_t *resp);
} sbx_module_t;

/* The sandbox's credentials (set from the command line at start, then read-only). */
typedef struct {
    const char *twilio_sid, *twilio_token, *vonage_key, *vonage_secret;
    const char *stripe_key, *stripe_whsec;                          /* sbx_stripe */
    const char *razorpay_key_id, *razorpay_key_secret, *razorpay_whsec; /* sbx_razorpay */
    const char *webhook_base;  /* where gateway webhooks go (the frontdoor), "" for none */
    const char *self_base;     /* this sandbox's base URL (redirect pages) */
    int gateway_delay_ms;      /* how long the timeout test tokens make a caller wait */
} sbx_creds_t;
extern sbx_creds_t sbx_creds;

extern const sbx_module_t sbx_control_module, sbx_receiver_module, sbx_twilio_module,
    sbx_vonage_module, sbx_webpush_module, sbx_stripe_module, sbx_razorpay_module;

/* ---- sbx_server.c ---- */
/* Serves on 127.0.0.1:port until *stop; returns 0, or -1 when the port cannot be bound. */
int sbx_serve(int port, volatile int *stop);
/* Request header (case-insensitive) or NULL. */
const char *sbx_header(const sbx_req_t *req, const char *name);
/* Query argument or NULL. */
const char *sbx_query(const sbx_req_t *req, const char *name);
/* Sets a JSON answer (doc stolen). */
void sbx_json(sbx_resp_t *resp, int status, json_t *doc);
/* Decodes "Authorization: Basic" into user and password (cap bytes each); 1 if present. */
int sbx_basic_auth(const sbx_req_t *req, char *user, char *pass, size_t cap);
/* Value of name in a form-encoded body, percent-decoded, into out; 1 if present. */
int sbx_form_get(const char *body, const char *name, char *out, size_t cap);

/* ---- sbx_store.c ---- */
/* Appends record (stolen) under key with "seq" and "received_at" added. */
void sbx_record(const char *key, json_t *record);
/* Records of key with seq > since, as a new array. */
json_t *sbx_records(const char *key, long since);
/* Number of records of key, and of distinct values of member field among them. */
void sbx_count(const char *key, const char *field, long *count, long *distinct);
/* Forgets every record and knob. */
void sbx_clear(void);
/* Sets the knob of key: mode "ok", "fail", "gone", "timeout", "slow" or "status";
 * times (0: until changed), delay_ms, status. */
void sbx_knob_set(const char *key, const char *mode, int times, int delay_ms, int status);
/* Applies the knob of key, if any, to resp: returns 1 when the answer is decided (after
 * sleeping for timeout/slow as told), 0 to answer normally. */
int sbx_knob_apply(const char *key, sbx_resp_t *resp);

/* ---- sbx_pay.c: shared by the payment gateway modules ---- */
/* The gateway tables (name -> {id -> object}); call between sbx_pay_lock/unlock only. */
void sbx_pay_lock(void);
void sbx_pay_unlock(void);
json_t *sbx_pay_table(const char *name);
/* A new provider-style id: prefix + 14 random alphanumerics. */
void sbx_pay_id(const char *prefix, char *out, size_t cap);
/* Records one real charge under "charges" and "charges:<booking>". */
void sbx_pay_charge(const char *provider, const char *key, const char *booking, json_int_t amount,
                    const char *object_id);
/* Lower-case hex HMAC-SHA256. */
void sbx_pay_hmac_hex(const char *key, const void *data, size_t len, char out[65]);
/* Runs fn(arg) on its own thread after delay_ms. */
void sbx_pay_later(int delay_ms, void (*fn)(void *arg), void *arg);
/* POSTs event (stolen), signed the provider's way, to the webhook base after delay_ms;
 * the outcome is recorded under "webhooks:<provider>". */
void sbx_pay_webhook(const char *provider, const char *event_id, json_t *event, int delay_ms);
void sbx_pay_sleep_ms(int ms);

#endif
