/* sbx_pay: what the payment gateway modules (sbx_stripe, sbx_razorpay) share: their object
 * tables (one lock), ids, the charge ledger tests count ("charges" and
 * "charges:<booking_id>": one record per real charge, never per replay), delayed work
 * (async confirmations) and signed webhooks POSTed to the configured frontdoor. */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sbx.h"

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *s_tables; /* name -> {id -> object} */

void sbx_pay_lock(void)
{
    pthread_mutex_lock(&s_lock);
}

void sbx_pay_unlock(void)
{
    pthread_mutex_unlock(&s_lock);
}

json_t *sbx_pay_table(const char *name)
{
    if (!s_tables)
        s_tables = json_object();
    json_t *t = json_object_get(s_tables, name);
    if (!t) {
        t = json_object();
        json_object_set_new(s_tables, name, t);
    }
    return t;
}

void sbx_pay_id(const char *prefix, char *out, size_t cap)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[14];
    RAND_bytes(r, sizeof r);
    size_t n = (size_t)snprintf(out, cap, "%s", prefix);
    for (size_t i = 0; i < sizeof r && n + 1 < cap; i++)
        out[n++] = al[r[i] % (sizeof al - 1)];
    out[n] = '\0';
}

void sbx_pay_charge(const char *provider, const char *key, const char *booking, json_int_t amount,
                    const char *object_id)
{
    char k[96];
    json_t *rec =
        json_pack("{s:s, s:s, s:s, s:I, s:s}", "provider", provider, "key", key ? key : "",
                  "booking_id", booking ? booking : "", "amount", amount, "object", object_id);
    snprintf(k, sizeof k, "charges:%s", booking ? booking : "");
    sbx_record(k, json_deep_copy(rec));
    sbx_record("charges", rec);
}

void sbx_pay_hmac_hex(const char *key, const void *data, size_t len, char out[65])
{
    unsigned char mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), data, len, mac, &n);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

typedef struct {
    int delay_ms;
    void (*fn)(void *arg);
    void *arg;
} s_later_t;

static void *s_later_main(void *p)
{
    s_later_t *l = p;
    struct timespec ts = {l->delay_ms / 1000, (long)(l->delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    l->fn(l->arg);
    free(l);
    return NULL;
}

void sbx_pay_later(int delay_ms, void (*fn)(void *arg), void *arg)
{
    pthread_t t;
    s_later_t *l = malloc(sizeof *l);
    if (!l)
        return;
    *l = (s_later_t){delay_ms, fn, arg};
    if (pthread_create(&t, NULL, s_later_main, l) != 0) {
        free(l);
        return;
    }
    pthread_detach(t);
}

/* A webhook to send: provider, event id, body. */
typedef struct {
    char provider[16];
    char event_id[64];
    char *body;
} s_hook_t;

static void s_hook_send(void *arg)
{
    s_hook_t *h = arg;
    char url[512], sig[400], mac[65], idh[128];
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (!strcmp(h->provider, "stripe")) {
        long t = (long)time(NULL);
        size_t n = strlen(h->body) + 32;
        char *signed_payload = malloc(n);
        snprintf(signed_payload, n, "%ld.%s", t, h->body);
        sbx_pay_hmac_hex(sbx_creds.stripe_whsec, signed_payload, strlen(signed_payload), mac);
        free(signed_payload);
        snprintf(sig, sizeof sig, "Stripe-Signature: t=%ld,v1=%s", t, mac);
    } else {
        sbx_pay_hmac_hex(sbx_creds.razorpay_whsec, h->body, strlen(h->body), mac);
        snprintf(sig, sizeof sig, "X-Razorpay-Signature: %s", mac);
        snprintf(idh, sizeof idh, "X-Razorpay-Event-Id: %s", h->event_id);
        hdr = curl_slist_append(hdr, idh);
    }
    hdr = curl_slist_append(hdr, sig);
    snprintf(url, sizeof url, "%s/api/v1/payments/webhooks/%s", sbx_creds.webhook_base,
             h->provider);
    long status = 0;
    CURL *c = curl_easy_init();
    if (c) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, h->body);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
    }
    curl_slist_free_all(hdr);
    char key[40];
    snprintf(key, sizeof key, "webhooks:%s", h->provider);
    sbx_record(key, json_pack("{s:s, s:I, s:s}", "event_id", h->event_id, "status",
                              (json_int_t)status, "url", url));
    free(h->body);
    free(h);
}

void sbx_pay_webhook(const char *provider, const char *event_id, json_t *event, int delay_ms)
{
    s_hook_t *h = calloc(1, sizeof *h);
    if (!h || !sbx_creds.webhook_base || !*sbx_creds.webhook_base) {
        free(h);
        json_decref(event);
        return;
    }
    snprintf(h->provider, sizeof h->provider, "%s", provider);
    snprintf(h->event_id, sizeof h->event_id, "%s", event_id);
    h->body = json_dumps(event, JSON_COMPACT);
    json_decref(event);
    if (!h->body) {
        free(h);
        return;
    }
    sbx_pay_later(delay_ms, s_hook_send, h);
}

void sbx_pay_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}
