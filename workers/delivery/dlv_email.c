/* dlv_email: e-mail over SMTP with libcurl. The message is MIME built with curl_mime:
 * multipart/mixed > multipart/related > (multipart/alternative > text/plain, text/html)
 * plus one inline PNG per ticket QR code referenced by Content-ID. Headers: From, To,
 * Subject (RFC 2047 for non-ASCII), Date, Message-ID (from the message id, so a retry or
 * replay is recognisably the same mail), Auto-Submitted, and on anything that is not
 * transactional List-Unsubscribe with List-Unsubscribe-Post (RFC 8058 one-click). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bx_config.h"
#include "bx_dlv.h"
#include "bx_qr.h"
#include "bx_util.h"
#include "dlv.h"

#define S_QR_MAX   20 /* inline QR images per mail */
#define S_QR_SCALE 6  /* pixels per module */

/* Names each ticket's inline QR image (tickets[i].qr_cid) for the HTML template. */
static void s_ticket_cids(json_t *data, const char *delivery_id)
{
    size_t i;
    json_t *t;
    char cid[128];
    json_array_foreach(json_object_get(data, "tickets"), i, t)
    {
        snprintf(cid, sizeof cid, "ticket-%zu.%s@boxoffice", i + 1, delivery_id);
        if (json_is_object(t))
            json_object_set_new(t, "qr_cid", json_string(cid));
    }
}

json_t *dlv_message_context(dlv_sender_t *s, dlv_job_t *job, const char *channel)
{
    json_t *data = json_deep_copy(json_object_get(job->payload, "data"));
    s_ticket_cids(data, job->id);
    json_t *ctx = json_pack("{s:o?, s:O?, s:s, s:s, s:s, s:s}", "data", data, "user",
                            json_object_get(job->payload, "user"), "app_url",
                            bx_config_str("public_base_url"), "locale", job->locale, "type",
                            job->type, "delivery_id", job->id);
    if (!ctx || !strcmp(job->category, "transactional") || !job->user_id[0])
        return ctx;
    char token[200], url[512];
    const void *key = dlv_sender_unsub_key(s);
    if (key && bx_dlv_unsub_token(key, job->user_id, channel, job->category, token, sizeof token) ==
                   BX_OK) {
        snprintf(url, sizeof url, "%s/api/v1/notifications/unsubscribe?token=%s",
                 bx_config_str("public_base_url"), token);
        json_object_set_new(ctx, "unsubscribe_url", json_string(url));
    }
    return ctx;
}

/* RFC 2047 encoded words for a non-ASCII header value (ASCII is copied). */
static void s_encode_header(const char *in, char *out, size_t cap)
{
    int ascii = 1;
    for (const char *p = in; *p; p++)
        ascii &= (unsigned char)*p < 0x80;
    if (ascii) {
        bx_strlcpy(out, in, cap);
        return;
    }
    size_t o = 0, n = strlen(in);
    out[0] = '\0';
    for (size_t i = 0; i < n && o + 20 < cap;) {
        size_t take = n - i < 45 ? n - i : 45;
        while (take > 1 && i + take < n && ((unsigned char)in[i + take] & 0xC0) == 0x80)
            take--; /* never split a UTF-8 sequence between words */
        char b64[80];
        bx_b64_encode((const unsigned char *)in + i, take, b64, sizeof b64);
        int k = snprintf(out + o, cap - o, "%s=?UTF-8?B?%s?=", o ? " " : "", b64);
        if (k < 0 || (size_t)k >= cap - o)
            break;
        o += (size_t)k;
        i += take;
    }
}

/* Renders subject, text and HTML; fills the headers. */
static bx_err_t s_prepare(dlv_sender_t *s, dlv_job_t *job)
{
    json_t *ctx = dlv_message_context(s, job, "email");
    char *subject = ctx ? dlv_render(job->type, job->locale, "subject", ctx) : NULL;
    job->body = ctx ? dlv_render(job->type, job->locale, "text", ctx) : NULL;
    job->aux = ctx ? dlv_render(job->type, job->locale, "html", ctx) : NULL;
    const char *unsub = json_string_value(json_object_get(ctx, "unsubscribe_url"));
    char h[1200], enc[900], date[64], domain[128];
    bx_err_t err = subject && job->body && job->aux ? BX_OK : BX_EINVAL;
    if (err)
        snprintf(job->error, sizeof job->error, "no e-mail template for %s", job->type);
    const char *at = strchr(bx_config_str("mail_from"), '@');
    bx_strlcpy(domain, at ? at + 1 : "boxoffice.invalid", sizeof domain);
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&now, &tm));
    s_encode_header(bx_config_str("mail_from_name"), enc, sizeof enc);
    snprintf(h, sizeof h, "From: %s <%s>", enc, bx_config_str("mail_from"));
    job->hdrs = err ? NULL : curl_slist_append(NULL, h);
    snprintf(h, sizeof h, "To: <%s>", job->recipient);
    job->hdrs = curl_slist_append(job->hdrs, h);
    s_encode_header(subject ? subject : "", enc, sizeof enc);
    snprintf(h, sizeof h, "Subject: %s", enc);
    job->hdrs = curl_slist_append(job->hdrs, h);
    snprintf(h, sizeof h, "Date: %s", date);
    job->hdrs = curl_slist_append(job->hdrs, h);
    snprintf(h, sizeof h, "Message-ID: <%s@%s>", job->message_id, domain);
    job->hdrs = curl_slist_append(job->hdrs, h);
    job->hdrs = curl_slist_append(job->hdrs, "Auto-Submitted: auto-generated");
    snprintf(h, sizeof h, "X-Boxoffice-Delivery: %s", job->id);
    job->hdrs = curl_slist_append(job->hdrs, h);
    if (unsub) {
        snprintf(h, sizeof h, "List-Unsubscribe: <%s>", unsub);
        job->hdrs = curl_slist_append(job->hdrs, h);
        job->hdrs =
            curl_slist_append(job->hdrs, "List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    }
    snprintf(h, sizeof h, "<%s>", job->recipient);
    job->rcpt = curl_slist_append(NULL, h);
    free(subject);
    json_decref(ctx);
    return !err && job->hdrs && job->rcpt ? BX_OK : err ? err : BX_ENOMEM;
}

static int s_route(dlv_sender_t *s, dlv_job_t *job, int step)
{
    (void)s;
    if (step > 0)
        return 0;
    bx_strlcpy(job->breaker, "smtp", sizeof job->breaker);
    bx_strlcpy(job->provider, "smtp", sizeof job->provider);
    return 1;
}

/* Adds the inline QR images of data.tickets[].code to related. */
static void s_add_qr(dlv_job_t *job, curl_mime *related)
{
    json_t *tickets = json_object_get(json_object_get(job->payload, "data"), "tickets");
    size_t i;
    json_t *t;
    json_array_foreach(tickets, i, t)
    {
        const char *code = json_string_value(json_object_get(t, "code"));
        size_t len = 0;
        unsigned char *png = i < S_QR_MAX && code ? bx_qr_png(code, S_QR_SCALE, &len) : NULL;
        if (!png)
            continue;
        char h[200], name[64];
        curl_mimepart *part = curl_mime_addpart(related);
        curl_mime_data(part, (const char *)png, len);
        curl_mime_type(part, "image/png");
        curl_mime_encoder(part, "base64");
        snprintf(name, sizeof name, "ticket-%zu.png", i + 1);
        struct curl_slist *ph = NULL;
        snprintf(h, sizeof h, "Content-ID: <ticket-%zu.%s@boxoffice>", i + 1, job->id);
        ph = curl_slist_append(ph, h);
        snprintf(h, sizeof h, "Content-Disposition: inline; filename=\"%s\"", name);
        ph = curl_slist_append(ph, h);
        curl_mime_headers(part, ph, 1);
        free(png);
    }
}

static bx_err_t s_mime(dlv_job_t *job)
{
    curl_mime *top = curl_mime_init(job->easy), *related = curl_mime_init(job->easy),
              *alt = curl_mime_init(job->easy);
    if (!top || !related || !alt) {
        curl_mime_free(top);
        curl_mime_free(related);
        curl_mime_free(alt);
        return BX_ENOMEM;
    }
    curl_mimepart *p = curl_mime_addpart(alt);
    curl_mime_data(p, job->body, CURL_ZERO_TERMINATED);
    curl_mime_type(p, "text/plain; charset=utf-8");
    curl_mime_encoder(p, "quoted-printable");
    p = curl_mime_addpart(alt);
    curl_mime_data(p, job->aux, CURL_ZERO_TERMINATED);
    curl_mime_type(p, "text/html; charset=utf-8");
    curl_mime_encoder(p, "quoted-printable");
    p = curl_mime_addpart(related);
    curl_mime_subparts(p, alt);
    curl_mime_type(p, "multipart/alternative");
    s_add_qr(job, related);
    p = curl_mime_addpart(top);
    curl_mime_subparts(p, related);
    curl_mime_type(p, "multipart/related");
    job->mime = top;
    return BX_OK;
}

static bx_err_t s_start(dlv_sender_t *s, dlv_job_t *job)
{
    char from[300];
    curl_mime_free(job->mime);
    job->mime = NULL;
    if (s_mime(job) != BX_OK)
        return BX_ENOMEM;
    dlv_http_defaults(s, job, 0);
    snprintf(from, sizeof from, "<%s>", bx_config_str("mail_from"));
    curl_easy_setopt(job->easy, CURLOPT_URL, bx_config_str("smtp_url"));
    curl_easy_setopt(job->easy, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(job->easy, CURLOPT_MAIL_RCPT, job->rcpt);
    curl_easy_setopt(job->easy, CURLOPT_HTTPHEADER, job->hdrs);
    curl_easy_setopt(job->easy, CURLOPT_MIMEPOST, (curl_mime *)job->mime);
    curl_easy_setopt(job->easy, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    curl_easy_setopt(job->easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (*bx_config_str("smtp_user")) {
        curl_easy_setopt(job->easy, CURLOPT_USERNAME, bx_config_str("smtp_user"));
        curl_easy_setopt(job->easy, CURLOPT_PASSWORD, bx_config_str("smtp_password"));
    }
    return BX_OK;
}

/* SMTP: 5xx refuses the message for good, 421 and transport failures are the server's
 * trouble (breaker), other 4xx are temporary refusals. */
static dlv_outcome_t s_judge(dlv_job_t *job, CURLcode rc, long code)
{
    (void)job;
    if (rc == CURLE_OK)
        return DLV_OK;
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return DLV_TIMEOUT;
    if (code >= 500 && code < 600)
        return DLV_REJECTED;
    if (code >= 400 && code < 500 && code != 421)
        return DLV_FAIL_SOFT;
    return DLV_FAIL;
}

const dlv_channel_t dlv_email_channel = {"email", s_prepare, s_route, s_start, s_judge};
