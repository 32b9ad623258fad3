/* pay_http: the adapters' HTTP client (libcurl, bounded answers, gateway_timeout_ms), form
 * encoding and webhook HMACs, and the adapter registry. */
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_util.h"
#include "pay_gateway.h"

#define S_ANSWER_MAX (1024 * 1024) /* gateway answers above this are refused */

const pay_gateway_t *pay_gateway(const char *provider)
{
    if (provider && !strcmp(provider, "stripe"))
        return &pay_stripe;
    if (provider && !strcmp(provider, "razorpay"))
        return &pay_razorpay;
    return NULL;
}

const char *pay_gw_status_str(pay_gw_status_t s)
{
    switch (s) {
    case PAY_GW_SUCCEEDED:
        return "succeeded";
    case PAY_GW_REQUIRES_ACTION:
        return "requires_action";
    case PAY_GW_PROCESSING:
        return "processing";
    case PAY_GW_FAILED:
        return "failed";
    case PAY_GW_NOT_FOUND:
        return "not_found";
    }
    return "unknown";
}

static size_t s_write(char *data, size_t size, size_t n, void *arg)
{
    pay_http_resp_t *r = arg;
    size_t add = size * n;
    if (r->len + add > S_ANSWER_MAX)
        return 0; /* aborts the transfer */
    char *b = realloc(r->body, r->len + add + 1);
    if (!b)
        return 0;
    memcpy(b + r->len, data, add);
    r->body = b;
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

bx_err_t pay_http(const char *method, const char *url, const char *const *headers,
                  const char *userpwd, const char *body, pay_http_resp_t *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    if (!c)
        return BX_ENOMEM;
    for (int i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, bx_config_int("gateway_timeout_ms"));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, bx_config_int("gateway_timeout_ms"));
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (userpwd)
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(c);
    bx_err_t err = BX_OK;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        if (!out->body)
            out->body = strdup("");
        if (!out->body)
            err = BX_ENOMEM;
    } else {
        err = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ? BX_EUNAVAILABLE
                                                                              : BX_ETIMEOUT;
        BX_WARN("gateway call %s %s failed: %s", method, url, curl_easy_strerror(rc));
        pay_http_free(out);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return err;
}

void pay_http_free(pay_http_resp_t *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
}

int pay_form_add(char *buf, size_t cap, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(buf);
    if (n && n + 1 < cap)
        buf[n++] = '&';
    for (const char *p = name; *p && n + 1 < cap; p++)
        buf[n++] = *p;
    if (n + 1 < cap)
        buf[n++] = '=';
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-_.~", *p);
        if (n + (plain ? 1 : 3) >= cap)
            return 0;
        if (plain) {
            buf[n++] = (char)*p;
        } else {
            buf[n++] = '%';
            buf[n++] = hex[*p >> 4];
            buf[n++] = hex[*p & 15];
        }
    }
    if (n >= cap)
        return 0;
    buf[n] = '\0';
    return 1;
}

void pay_hmac_hex(const char *key, const void *data, size_t len, char out[65])
{
    unsigned char mac[32];
    unsigned int mlen = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), data, len, mac, &mlen);
    bx_hex(mac, 32, out);
}

int pay_str_eq_ct(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

void pay_gw_event_fill(pay_gw_event_t *out, const char *event_id, const char *type, json_t *meta,
                       json_t *doc)
{
    const char *pid = json_string_value(json_object_get(meta, "payment_id"));
    const char *bid = json_string_value(json_object_get(meta, "booking_id"));
    bx_strlcpy(out->event_id, event_id, sizeof out->event_id);
    bx_strlcpy(out->type, type, sizeof out->type);
    bx_strlcpy(out->payment_id, pid && bx_uuid_valid(pid) ? pid : "", sizeof out->payment_id);
    bx_strlcpy(out->booking_id, bid && bx_uuid_valid(bid) ? bid : "", sizeof out->booking_id);
    out->object = doc;
}
