/* dlv_push: Web Push to browser subscriptions: the notification JSON is encrypted for the
 * subscription (RFC 8291, aes128gcm) and POSTed to its push service (RFC 8030) with TTL,
 * Urgency, Topic (so a duplicate replaces rather than stacks) and a VAPID token (RFC 8292,
 * aud = the push service's origin). 404/410 expire the subscription; push endpoints are
 * user-supplied URLs, so the SSRF guard applies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_json.h"
#include "bx_util.h"
#include "dlv.h"

#define S_TTL_URGENT 3600 /* seconds a push service keeps an undelivered urgent message */
#define S_TTL_NORMAL 86400
#define S_VAPID_S    43200 /* token lifetime (RFC 8292: at most 24 h) */

static int s_origin(const char *url, char *out, size_t cap)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK;
    if (ok) {
        curl_url_get(u, CURLUPART_PORT, &port, 0);
        int n = snprintf(out, cap, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
        ok = n > 0 && (size_t)n < cap;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

/* The notification the service worker shows, as JSON text (heap). */
static char *s_notification(dlv_sender_t *s, dlv_job_t *job)
{
    json_t *ctx = dlv_message_context(s, job, "push");
    char *title = ctx ? dlv_render(job->type, job->locale, "push_title", ctx) : NULL;
    char *body = ctx ? dlv_render(job->type, job->locale, "push_body", ctx) : NULL;
    json_t *doc = title && body ? json_pack("{s:s, s:s, s:s, s:s, s:s}", "title", title, "body",
                                            body, "type", job->type, "message_id", job->message_id,
                                            "url", bx_config_str("public_base_url"))
                                : NULL;
    char *text = doc ? bx_json_dump(doc) : NULL;
    json_decref(doc);
    json_decref(ctx);
    free(title);
    free(body);
    return text;
}

static bx_err_t s_encrypt(dlv_job_t *job, const char *text, const char *p256dh, const char *auth)
{
    unsigned char ua[72], secret[24], *out = NULL;
    size_t len = 0;
    if (bx_b64url_decode(p256dh, strcspn(p256dh, "="), ua, sizeof ua) != 65 ||
        bx_b64url_decode(auth, strcspn(auth, "="), secret, sizeof secret) != 16) {
        bx_strlcpy(job->error, "the subscription keys are malformed", sizeof job->error);
        return BX_EINVAL;
    }
    bx_err_t err = dlv_webpush_encrypt(ua, secret, (const unsigned char *)text, strlen(text), NULL,
                                       NULL, &out, &len);
    if (err) {
        bx_strlcpy(job->error, "the notification could not be encrypted", sizeof job->error);
        return err;
    }
    job->body = (char *)out;
    job->body_len = len;
    return BX_OK;
}

static bx_err_t s_prepare(dlv_sender_t *s, dlv_job_t *job)
{
    const char *endpoint, *p256dh, *auth;
    if (!dlv_sender_subscription(s, job->subscription_id, &endpoint, &p256dh, &auth)) {
        bx_strlcpy(job->error, "the push subscription expired or was removed", sizeof job->error);
        return BX_EGONE;
    }
    char *text = s_notification(s, job);
    if (!text) {
        snprintf(job->error, sizeof job->error, "no push template for %s", job->type);
        return BX_EINVAL;
    }
    bx_err_t err = s_encrypt(job, text, p256dh, auth);
    free(text);
    free(job->aux);
    job->aux = err ? NULL : strdup(endpoint);
    return err ? err : job->aux ? BX_OK : BX_ENOMEM;
}

static int s_route(dlv_sender_t *s, dlv_job_t *job, int step)
{
    const char *endpoint, *p256dh, *auth;
    char origin[180];
    if (step > 0)
        return 0;
    if (!dlv_sender_subscription(s, job->subscription_id, &endpoint, &p256dh, &auth) ||
        !s_origin(endpoint, origin, sizeof origin))
        bx_strlcpy(origin, "unknown", sizeof origin);
    snprintf(job->breaker, sizeof job->breaker, "push:%s", origin);
    bx_strlcpy(job->provider, "webpush", sizeof job->provider);
    return 1;
}

/* Authorization: vapid t=<jwt>, k=<public key>. */
static int s_vapid_header(dlv_sender_t *s, dlv_job_t *job, char *out, size_t cap)
{
    char origin[300], pub[96];
    EVP_PKEY *key = dlv_sender_key(s, "vapid");
    if (!key || !s_origin(job->aux, origin, sizeof origin) ||
        dlv_p256_public(key, pub, sizeof pub) != BX_OK)
        return 0;
    char *jwt =
        dlv_vapid_jwt(key, origin, bx_config_str("vapid_subject"), bx_now_ms() / 1000 + S_VAPID_S);
    int n = jwt ? snprintf(out, cap, "Authorization: vapid t=%s, k=%s", jwt, pub) : -1;
    free(jwt);
    return n > 0 && (size_t)n < cap;
}

static bx_err_t s_start(dlv_sender_t *s, dlv_job_t *job)
{
    char h[1024], topic[40];
    unsigned char digest[32];
    if (!s_vapid_header(s, job, h, sizeof h))
        return BX_EINTERNAL;
    curl_slist_free_all(job->hdrs);
    job->hdrs = curl_slist_append(NULL, h);
    snprintf(h, sizeof h, "TTL: %d", job->urgent ? S_TTL_URGENT : S_TTL_NORMAL);
    job->hdrs = curl_slist_append(job->hdrs, h);
    job->hdrs = curl_slist_append(job->hdrs, job->urgent ? "Urgency: high" : "Urgency: normal");
    EVP_Digest(job->message_id, strlen(job->message_id), digest, NULL, EVP_sha256(), NULL);
    bx_b64url_encode(digest, 24, topic, sizeof topic); /* 32 URL-safe characters */
    snprintf(h, sizeof h, "Topic: %s", topic);
    job->hdrs = curl_slist_append(job->hdrs, h);
    job->hdrs = curl_slist_append(job->hdrs, "Content-Encoding: aes128gcm");
    job->hdrs = curl_slist_append(job->hdrs, "Content-Type: application/octet-stream");
    job->hdrs = curl_slist_append(job->hdrs, "Expect:");
    if (!job->hdrs)
        return BX_ENOMEM;
    dlv_http_defaults(s, job, 1);
    curl_easy_setopt(job->easy, CURLOPT_URL, job->aux);
    curl_easy_setopt(job->easy, CURLOPT_HTTPHEADER, job->hdrs);
    curl_easy_setopt(job->easy, CURLOPT_POSTFIELDS, job->body);
    curl_easy_setopt(job->easy, CURLOPT_POSTFIELDSIZE, (long)job->body_len);
    return BX_OK;
}

static dlv_outcome_t s_judge(dlv_job_t *job, CURLcode rc, long status)
{
    (void)job;
    if (rc == CURLE_OK && (status == 404 || status == 410))
        return DLV_GONE;
    if (rc == CURLE_OK && (status == 400 || status == 403 || status == 413))
        return DLV_REJECTED;
    return dlv_judge_http(rc, status);
}

const dlv_channel_t dlv_push_channel = {"push", s_prepare, s_route, s_start, s_judge};
