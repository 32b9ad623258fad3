/* dlv_webhook: partner webhooks and result callbacks, signed per Standard Webhooks:
 * webhook-id (the message id, the same on every retry and replay), webhook-timestamp
 * (of this attempt) and webhook-signature over "id.timestamp.body". Partner endpoints
 * are signed with their "whsec_" secret (v1, HMAC-SHA256; during a rotation with both
 * secrets, space-separated); result callbacks with the platform's Ed25519 key (v1a),
 * whose public half is served at GET /api/v1/webhooks/callback-keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_json.h"
#include "bx_util.h"
#include "dlv.h"

static bx_err_t s_prepare_body(dlv_job_t *job)
{
    job->body = bx_json_dump(job->payload);
    if (!job->body)
        return BX_ENOMEM;
    job->body_len = strlen(job->body);
    return BX_OK;
}

static bx_err_t s_webhook_prepare(dlv_sender_t *s, dlv_job_t *job)
{
    const char *url, *secret, *old;
    if (!dlv_sender_endpoint(s, job->endpoint_id, &url, &secret, &old)) {
        bx_strlcpy(job->error, "the endpoint is disabled or deleted", sizeof job->error);
        return BX_EGONE;
    }
    return s_prepare_body(job);
}

static int s_webhook_route(dlv_sender_t *s, dlv_job_t *job, int step)
{
    (void)s;
    if (step > 0)
        return 0;
    snprintf(job->breaker, sizeof job->breaker, "endpoint:%s", job->endpoint_id);
    bx_strlcpy(job->provider, "webhook", sizeof job->provider);
    return 1;
}

/* Sets the signed POST of body to url with signature header value sig. */
static bx_err_t s_post(dlv_sender_t *s, dlv_job_t *job, const char *url, const char *sig,
                       int64_t ts)
{
    char h[400];
    curl_slist_free_all(job->hdrs);
    job->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(h, sizeof h, "webhook-id: %s", job->message_id);
    job->hdrs = curl_slist_append(job->hdrs, h);
    snprintf(h, sizeof h, "webhook-timestamp: %lld", (long long)ts);
    job->hdrs = curl_slist_append(job->hdrs, h);
    snprintf(h, sizeof h, "webhook-signature: %s", sig);
    job->hdrs = curl_slist_append(job->hdrs, h);
    job->hdrs = curl_slist_append(job->hdrs, "Expect:");
    if (!job->hdrs)
        return BX_ENOMEM;
    dlv_http_defaults(s, job, 1);
    curl_easy_setopt(job->easy, CURLOPT_URL, url);
    curl_easy_setopt(job->easy, CURLOPT_HTTPHEADER, job->hdrs);
    curl_easy_setopt(job->easy, CURLOPT_POSTFIELDS, job->body);
    curl_easy_setopt(job->easy, CURLOPT_POSTFIELDSIZE, (long)job->body_len);
    return BX_OK;
}

static bx_err_t s_webhook_start(dlv_sender_t *s, dlv_job_t *job)
{
    const char *url, *secret, *old;
    char sig[256], sig_old[128];
    int64_t ts = bx_now_ms() / 1000;
    if (!dlv_sender_endpoint(s, job->endpoint_id, &url, &secret, &old) ||
        dlv_sign_v1(secret, job->message_id, ts, job->body, job->body_len, sig, sizeof sig) !=
            BX_OK)
        return BX_EINVAL;
    if (*old && dlv_sign_v1(old, job->message_id, ts, job->body, job->body_len, sig_old,
                            sizeof sig_old) == BX_OK) {
        size_t n = strlen(sig);
        snprintf(sig + n, sizeof sig - n, " %s", sig_old);
    }
    return s_post(s, job, url, sig, ts);
}

static dlv_outcome_t s_judge(dlv_job_t *job, CURLcode rc, long status)
{
    (void)job;
    return dlv_judge_http(rc, status);
}

const dlv_channel_t dlv_webhook_channel = {"webhook", s_webhook_prepare, s_webhook_route,
                                           s_webhook_start, s_judge};

/* ---- result callbacks ---- */

static bx_err_t s_callback_prepare(dlv_sender_t *s, dlv_job_t *job)
{
    if (!dlv_sender_key(s, "callback")) {
        bx_strlcpy(job->error, "the callback signing key is unavailable", sizeof job->error);
        return BX_EUNAVAILABLE;
    }
    return s_prepare_body(job);
}

static int s_callback_route(dlv_sender_t *s, dlv_job_t *job, int step)
{
    (void)s;
    CURLU *u = step == 0 ? curl_url() : NULL;
    char *host = NULL, *port = NULL;
    if (!u)
        return 0;
    if (curl_url_set(u, CURLUPART_URL, job->recipient, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    }
    snprintf(job->breaker, sizeof job->breaker, "callback:%s:%s", host ? host : "?",
             port ? port : "?");
    bx_strlcpy(job->provider, "callback", sizeof job->provider);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return 1;
}

static bx_err_t s_callback_start(dlv_sender_t *s, dlv_job_t *job)
{
    char sig[160];
    int64_t ts = bx_now_ms() / 1000;
    EVP_PKEY *key = dlv_sender_key(s, "callback");
    if (dlv_sign_v1a(key, job->message_id, ts, job->body, job->body_len, sig, sizeof sig) != BX_OK)
        return BX_EINVAL;
    return s_post(s, job, job->recipient, sig, ts);
}

const dlv_channel_t dlv_callback_channel = {"callback", s_callback_prepare, s_callback_route,
                                            s_callback_start, s_judge};
