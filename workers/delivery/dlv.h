/* dlv: the delivery engine shared by the notify and webhook worker pools. A pool's
 * broker jobs are fan-outs (dlv_fanout.c: an outbox message becomes deliveries, one per
 * channel, push subscription or webhook endpoint); its sender threads (dlv_sender.c)
 * claim due deliveries in batches, send them concurrently with libcurl (dlv_email,
 * dlv_sms, dlv_push, dlv_webhook), and record every attempt, the retry schedule, circuit
 * breakers and dead letters (dlv_engine.c) in one transaction per batch.
 *
 * Threads: each sender thread owns its PostgreSQL connection, its curl multi handle and
 * its keys; the configuration (dlv_cfg_t) and the SSRF policy are read-only once the
 * pool runs and are shared. */
#ifndef DLV_H
#define DLV_H

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdint.h>

#include "bx_dlv.h"
#include "bx_err.h"
#include "bx_pg.h"
#include "bx_ssrf.h"
#include "bx_worker.h"

#define DLV_RESP_MAX     1024 /* bytes of a response kept in the attempt log */
#define DLV_ATTEMPTS_MAX 8    /* immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h */
#define DLV_STEPS_MAX    4    /* providers tried within one attempt (SMS fallback chain) */

/* The pool's configuration, read once at start. */
typedef struct {
    const char *pool;            /* "notify" or "webhook" */
    const char *pg_dsn;          /* borrowed from bx_config */
    bx_ssrf_t *ssrf;             /* owned; read-only */
    int senders;                 /* sender threads */
    int batch;                   /* deliveries per claim */
    int lease_s;                 /* claim lease */
    long timeout_ms;             /* per attempt */
    long backoff_divisor;        /* divides the retry schedule */
    long poll_ms;                /* longest idle wait */
    int breaker_threshold;       /* failures that open a breaker */
    long breaker_cooldown_ms;    /* first open period */
    long breaker_max_ms;         /* longest open period */
    long disable_after_s;        /* webhook endpoint failing this long is disabled */
    long sweep_ms;               /* period of the pool's sweeps */
    int notice_s;                /* hold.expiring this long before a hold expires */
    int holder_batch;            /* ticket holders per event.holders job */
    int low_pct;                 /* inventory.low under this percent of capacity left */
    volatile sig_atomic_t *stop; /* set on SIGTERM */
} dlv_cfg_t;

/* How one transfer ended. */
typedef enum {
    DLV_OK = 0,    /* delivered */
    DLV_FAIL,      /* retry later; counts against the breaker (transport, 5xx, 429) */
    DLV_FAIL_SOFT, /* retry later; the receiver works but refused (4xx) */
    DLV_TIMEOUT,   /* retry later; counts against the breaker */
    DLV_GONE,      /* the recipient no longer exists (410): never again */
    DLV_REJECTED,  /* the message itself is refused: never again */
} dlv_outcome_t;

typedef struct dlv_sender dlv_sender_t;
typedef struct dlv_job dlv_job_t;

/* One claimed delivery while its batch is sent. */
struct dlv_job {
    char id[37];              /* delivery id */
    char message_id[65];      /* what receivers dedupe by */
    char channel[9];          /* email, sms, push, webhook, callback */
    char type[65];            /* message or event type */
    char category[16];        /* notification category */
    char *recipient;          /* owned: address, number, push endpoint or URL */
    char locale[17];          /* user's locale */
    json_t *payload;          /* owned: the stored payload */
    int attempt;              /* 1 on the first attempt */
    int urgent;               /* bypasses quiet hours; push Urgency high */
    char endpoint_id[37];     /* webhook endpoint or "" */
    char subscription_id[37]; /* push subscription or "" */
    char user_id[37];         /* recipient user or "" */
    char org_id[37];          /* partner organization or "" */
    /* prepared message (channel code fills and frees these through dlv_job_reset) */
    char *body;              /* owned: request body or rendered text */
    size_t body_len;         /* bytes in body */
    char *aux;               /* owned: channel data (email HTML, push secret URL...) */
    void *mime;              /* owned curl_mime * of an email */
    struct curl_slist *hdrs; /* owned request headers */
    struct curl_slist *rcpt; /* owned SMTP recipients */
    /* the transfer in flight */
    CURL *easy;                   /* owned while running */
    int step;                     /* provider index (SMS) */
    int nsteps;                   /* providers available */
    char breaker[200];            /* breaker key of the current step */
    char provider[33];            /* provider of the current step */
    int64_t started_ms;           /* wall clock at start */
    char resp[DLV_RESP_MAX + 1];  /* response excerpt */
    size_t resp_len;              /* bytes in resp */
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's reason */
    /* outcome */
    int done;              /* nothing more to send in this batch */
    dlv_outcome_t outcome; /* of the last step */
    int deferred;          /* not attempted: breakers open; no attempt counted */
    int64_t defer_ms;      /* how long to wait when deferred */
    char error[300];       /* last error, for the delivery row */
    int blocked;           /* the SSRF guard refused the address connected to */
    const dlv_cfg_t *cfg;  /* borrowed: the pool's configuration */
};

/* A channel: prepares a job once per attempt, starts a step (a provider), judges it. */
typedef struct {
    const char *channel;
    /* Builds the message; BX_OK, or an error that makes the delivery dead (job->error). */
    bx_err_t (*prepare)(dlv_sender_t *s, dlv_job_t *job);
    /* Fills job->breaker and job->provider for step; returns 0 when there is no step. */
    int (*route)(dlv_sender_t *s, dlv_job_t *job, int step);
    /* Sets the request options of job->easy for the current step. */
    bx_err_t (*start)(dlv_sender_t *s, dlv_job_t *job);
    /* Judges the finished transfer. */
    dlv_outcome_t (*judge)(dlv_job_t *job, CURLcode rc, long status);
} dlv_channel_t;

extern const dlv_channel_t dlv_email_channel;
extern const dlv_channel_t dlv_sms_channel;
extern const dlv_channel_t dlv_push_channel;
extern const dlv_channel_t dlv_webhook_channel;
extern const dlv_channel_t dlv_callback_channel;

/* ---- dlv_main.c ---- */
/* The main() of a delivery pool ("notify" or "webhook"). Returns the exit code. */
int dlv_main(const char *pool);

/* ---- dlv_sender.c ---- */
/* Starts cfg->senders threads. Returns NULL when none could start. */
dlv_sender_t **dlv_senders_start(const dlv_cfg_t *cfg);
/* Waits for the threads (they stop when *cfg->stop is set) and frees them. */
void dlv_senders_join(dlv_sender_t ***senders_p, int n);
/* What channel code may read from its sender: config, connection, keys. */
const dlv_cfg_t *dlv_sender_cfg(dlv_sender_t *s);
bx_pg_t *dlv_sender_pg(dlv_sender_t *s);
/* The sender's key of purpose (loaded on first use; borrowed). NULL when unavailable. */
EVP_PKEY *dlv_sender_key(dlv_sender_t *s, const char *purpose);
/* The sender's unsubscribe key (borrowed), or NULL. */
const void *dlv_sender_unsub_key(dlv_sender_t *s);
/* Webhook endpoint data of the batch: secret, previous secret (or ""), url, usable. */
int dlv_sender_endpoint(dlv_sender_t *s, const char *id, const char **url, const char **secret,
                        const char **old_secret);
/* Push subscription keys of the batch: endpoint, p256dh, auth; 0 when expired/unknown. */
int dlv_sender_subscription(dlv_sender_t *s, const char *id, const char **endpoint,
                            const char **p256dh, const char **auth);

/* ---- dlv_engine.c ---- */
/* Delay before attempt n+1 after n failed attempts (n >= 1), with +-10 % jitter and the
 * divisor applied; -1 when n attempts are the last. */
int64_t dlv_backoff_ms(int attempts_done, long divisor);
/* Writes the outcome of a batch (deliveries, attempts, breakers, endpoints, subscriptions,
 * notices) in one transaction. attempts is the array of attempt records. */
bx_err_t dlv_engine_record(dlv_sender_t *s, dlv_job_t **jobs, int n, json_t *attempts,
                           const char *claim);
/* Common libcurl options of an outbound HTTP request (timeouts, no redirects, no proxy,
 * SSRF check at connect when guard is set, response capture). */
void dlv_http_defaults(dlv_sender_t *s, dlv_job_t *job, int guard);
/* Outcome of an HTTP transfer by the usual rules (2xx ok, 410 gone, 408/429/5xx and
 * transport failures fail, other 4xx fail softly). */
dlv_outcome_t dlv_judge_http(CURLcode rc, long status);

/* ---- dlv_email.c ---- */
/* What templates see: {data, user, app_url, locale, type, delivery_id, unsubscribe_url
 * (not on transactional messages)}; tickets get qr_cid. A new reference or NULL. */
json_t *dlv_message_context(dlv_sender_t *s, dlv_job_t *job, const char *channel);

/* ---- dlv_fanout.c ---- */
bx_err_t dlv_fanout_notify(bx_worker_job_t *job);
bx_err_t dlv_fanout_webhook(bx_worker_job_t *job);
/* Writes the deliveries of one user message payload ({type, user_id, data, message_id,
 * [order_key, seq]}, borrowed) of type t in pg's open transaction, appending their ids
 * to ids: one per channel the type uses, the user's settings allow and the user can be
 * reached on. A user who no longer exists gets none. Returns BX_OK or the database error. */
bx_err_t dlv_fanout_user(bx_pg_t *pg, const bx_dlv_type_t *t, json_t *payload, json_t *ids);

/* ---- dlv_holders.c ---- */
/* The job of topic "event.holders" (written by the trigger events_dlv_changed): tells the
 * next holder_batch ticket holders of a changed or cancelled event, then writes the job of
 * the next page to the outbox (keyed cursor: the last user id) until none are left. */
bx_err_t dlv_holders_job(bx_worker_job_t *job);

/* ---- dlv_sweep.c ---- */
/* Starts the sweeper thread of the pool (notify: 24 h reminders and hold expiry warnings;
 * webhook: inventory.low, event.sold_out, queue.opened) on its own connection, every
 * delivery_sweep_ms until *cfg->stop. Returns NULL when it cannot start. */
typedef struct dlv_sweeper dlv_sweeper_t;
dlv_sweeper_t *dlv_sweeper_start(const dlv_cfg_t *cfg);
/* Waits for the thread (it stops when *cfg->stop is set) and frees it; NULL-safe. */
void dlv_sweeper_join(dlv_sweeper_t **self_p);

/* ---- dlv_template.c ---- */
/* Renders part ("subject", "text", "html", "sms", "push_title", "push_body") of message
 * type in locale (falls back to its language, then "en") with ctx (borrowed). html parts
 * are wrapped in the layout and escape values. Returns heap text or NULL (no template). */
char *dlv_render(const char *type, const char *locale, const char *part, json_t *ctx);
/* Renders template text (mustache subset: {{a.b}}, {{{raw}}}, {{#list}}..{{/list}},
 * {{^x}}..{{/x}}) with ctx; escape_html escapes {{values}}. Heap text or NULL. */
char *dlv_mustache(const char *tmpl, json_t *ctx, int escape_html);

/* ---- dlv_crypto.c ---- */
/* RFC 8291 aes128gcm encryption of plain (n bytes) for a subscription with public key
 * ua_pub (65 bytes, uncompressed P-256) and auth (16 bytes). as_key and salt may be NULL
 * (fresh ones are made; tests pass the RFC's). Returns BX_OK with *out (heap, header +
 * ciphertext) and *out_len, or an error. */
bx_err_t dlv_webpush_encrypt(const unsigned char ua_pub[65], const unsigned char auth[16],
                             const unsigned char *plain, size_t n, EVP_PKEY *as_key,
                             const unsigned char salt[16], unsigned char **out, size_t *out_len);
/* An RFC 8292 VAPID JWT (ES256) for aud, sub, exp; heap text or NULL. */
char *dlv_vapid_jwt(EVP_PKEY *key, const char *aud, const char *sub, int64_t exp);
/* base64url of key's uncompressed public point into out (cap >= 90). BX_OK or error. */
bx_err_t dlv_p256_public(EVP_PKEY *key, char *out, size_t cap);
/* Standard Webhooks v1 signature "v1,<base64>" of "id.ts.body" with a "whsec_" secret
 * into out (cap >= 64). BX_OK or BX_EINVAL (bad secret). */
bx_err_t dlv_sign_v1(const char *secret, const char *id, int64_t ts, const char *body, size_t n,
                     char *out, size_t cap);
/* Standard Webhooks v1a signature "v1a,<base64>" with an Ed25519 key (cap >= 96). */
bx_err_t dlv_sign_v1a(EVP_PKEY *key, const char *id, int64_t ts, const char *body, size_t n,
                      char *out, size_t cap);
/* Loads a PEM private key; NULL on failure. */
EVP_PKEY *dlv_pem_key(const char *pem);

#endif
