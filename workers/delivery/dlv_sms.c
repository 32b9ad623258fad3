/* dlv_sms: text messages through provider adapters, tried in the order of sms_providers
 * within one attempt: when a provider fails, times out or has its breaker open, the next
 * one gets the message. Adapters speak two wire formats: a Twilio-style form API
 * (POST /2010-04-01/Accounts/{sid}/Messages.json, basic auth) and a Vonage-style JSON
 * Messages API (POST /v1/messages, basic auth, client_ref = delivery id). A 400/422 is
 * the message's fault (bad number) and ends the delivery; anything else falls back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_json.h"
#include "bx_util.h"
#include "dlv.h"

/* The provider name at position step of sms_providers into out; 0 when none. */
static int s_provider(int step, char *out, size_t cap)
{
    const char *p = bx_config_str("sms_providers");
    for (int i = 0; *p; i++) {
        size_t n = strcspn(p, ",");
        if (i == step && n && n < cap) {
            memcpy(out, p, n);
            out[n] = '\0';
            return 1;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

static bx_err_t s_prepare(dlv_sender_t *s, dlv_job_t *job)
{
    json_t *ctx = dlv_message_context(s, job, "sms");
    job->body = ctx ? dlv_render(job->type, job->locale, "sms", ctx) : NULL;
    json_decref(ctx);
    if (!job->body) {
        snprintf(job->error, sizeof job->error, "no SMS template for %s", job->type);
        return BX_EINVAL;
    }
    job->body_len = strlen(job->body);
    return BX_OK;
}

static int s_route(dlv_sender_t *s, dlv_job_t *job, int step)
{
    (void)s;
    char name[32];
    if (!s_provider(step, name, sizeof name))
        return 0;
    bx_strlcpy(job->provider, name, sizeof job->provider);
    snprintf(job->breaker, sizeof job->breaker, "sms:%s", name);
    return 1;
}

static bx_err_t s_twilio(dlv_job_t *job)
{
    char url[512];
    CURL *e = job->easy;
    char *to = curl_easy_escape(e, job->recipient, 0),
         *from = curl_easy_escape(e, bx_config_str("sms_from"), 0),
         *text = curl_easy_escape(e, job->body, 0);
    size_t n = (to ? strlen(to) : 0) + (from ? strlen(from) : 0) + (text ? strlen(text) : 0) + 32;
    free(job->aux);
    job->aux = to && from && text ? malloc(n) : NULL;
    if (job->aux)
        snprintf(job->aux, n, "To=%s&From=%s&Body=%s", to, from, text);
    curl_free(to);
    curl_free(from);
    curl_free(text);
    if (!job->aux)
        return BX_ENOMEM;
    snprintf(url, sizeof url, "%s/2010-04-01/Accounts/%s/Messages.json",
             bx_config_str("twilio_base_url"), bx_config_str("twilio_account_sid"));
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, job->aux);
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(e, CURLOPT_USERNAME, bx_config_str("twilio_account_sid"));
    curl_easy_setopt(e, CURLOPT_PASSWORD, bx_config_str("twilio_auth_token"));
    return BX_OK;
}

static bx_err_t s_vonage(dlv_job_t *job)
{
    char url[512];
    const char *to = job->recipient[0] == '+' ? job->recipient + 1 : job->recipient;
    const char *from = bx_config_str("sms_from");
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "message_type", "text", "channel",
                            "sms", "to", to, "from", from[0] == '+' ? from + 1 : from, "text",
                            job->body, "client_ref", job->id);
    free(job->aux);
    job->aux = doc ? bx_json_dump(doc) : NULL;
    json_decref(doc);
    if (!job->aux)
        return BX_ENOMEM;
    job->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    job->hdrs = curl_slist_append(job->hdrs, "Accept: application/json");
    snprintf(url, sizeof url, "%s/v1/messages", bx_config_str("vonage_base_url"));
    curl_easy_setopt(job->easy, CURLOPT_URL, url);
    curl_easy_setopt(job->easy, CURLOPT_HTTPHEADER, job->hdrs);
    curl_easy_setopt(job->easy, CURLOPT_POSTFIELDS, job->aux);
    curl_easy_setopt(job->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(job->easy, CURLOPT_USERNAME, bx_config_str("vonage_api_key"));
    curl_easy_setopt(job->easy, CURLOPT_PASSWORD, bx_config_str("vonage_api_secret"));
    return job->hdrs ? BX_OK : BX_ENOMEM;
}

static bx_err_t s_start(dlv_sender_t *s, dlv_job_t *job)
{
    curl_slist_free_all(job->hdrs);
    job->hdrs = NULL;
    dlv_http_defaults(s, job, 0);
    if (!strcmp(job->provider, "twilio"))
        return s_twilio(job);
    if (!strcmp(job->provider, "vonage"))
        return s_vonage(job);
    snprintf(job->error, sizeof job->error, "unknown SMS provider %s", job->provider);
    return BX_EINVAL;
}

static dlv_outcome_t s_judge(dlv_job_t *job, CURLcode rc, long status)
{
    (void)job;
    if (rc == CURLE_OK && (status == 400 || status == 422))
        return DLV_REJECTED;
    dlv_outcome_t o = dlv_judge_http(rc, status);
    return o == DLV_FAIL_SOFT || o == DLV_GONE ? DLV_FAIL : o;
}

const dlv_channel_t dlv_sms_channel = {"sms", s_prepare, s_route, s_start, s_judge};
