/* sbx_webpush: a Web Push service (RFC 8030) for subscriptions whose endpoint is
 * http://<sandbox>/push/<id>. It checks what a real push service checks: a TTL header,
 * Content-Encoding aes128gcm with a plausible header, and a VAPID Authorization (RFC
 * 8292: "vapid t=<ES256 JWT>, k=<P-256 key>", aud = this origin, exp in the next 24 h,
 * sub set), verifying the JWT with OpenSSL. The encrypted body is stored untouched
 * (base64url) under "push:<id>" for the subscriber (the test) to decrypt; 201 with
 * Location. Knob keys "push:<id>" (per subscription, e.g. gone) and "push". */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sbx.h"

static int s_claims(const char *method, const char *url)
{
    return !strcmp(method, "POST") && !strncmp(url, "/push/", 6) && strlen(url) > 6 &&
           strlen(url) < 120 && !strchr(url + 6, '/');
}

/* base64url decode (no padding) of n chars; returns bytes or -1. */
static long s_b64url(const char *in, size_t n, unsigned char *out, size_t cap)
{
    char buf[1400];
    if (n + 4 >= sizeof buf)
        return -1;
    for (size_t i = 0; i < n; i++)
        buf[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    size_t m = n;
    while (m % 4)
        buf[m++] = '=';
    buf[m] = '\0';
    if (m / 4 * 3 > cap)
        return -1;
    int k = EVP_DecodeBlock(out, (unsigned char *)buf, (int)m);
    return k < 0 ? -1 : k - (long)(m - n);
}

static EVP_PKEY *s_key(const unsigned char pt[65])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pt, 65),
        OSSL_PARAM_construct_end(),
    };
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* Verifies the ES256 JWT t with the key k; fills claims. Returns NULL or the reason. */
static const char *s_verify(const char *t, const char *k, json_t **claims)
{
    unsigned char pt[80], sig[80], der[80], payload[1024];
    const char *d1 = strchr(t, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || s_b64url(k, strlen(k), pt, sizeof pt) != 65 ||
        s_b64url(d2 + 1, strlen(d2 + 1), sig, sizeof sig) != 64)
        return "malformed vapid token or key";
    long plen = s_b64url(d1 + 1, (size_t)(d2 - d1 - 1), payload, sizeof payload - 1);
    if (plen <= 0)
        return "malformed vapid claims";
    payload[plen] = '\0';
    ECDSA_SIG *es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
    unsigned char *p = der;
    int dlen = i2d_ECDSA_SIG(es, &p);
    ECDSA_SIG_free(es);
    EVP_PKEY *key = s_key(pt);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok =
        key && md && dlen > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestVerify(md, der, (size_t)dlen, (const unsigned char *)t, (size_t)(d2 - t)) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    if (!ok)
        return "vapid signature does not verify";
    *claims = json_loads((char *)payload, 0, NULL);
    return *claims ? NULL : "vapid claims are not JSON";
}

/* Checks the VAPID header; NULL when fine, else the reason. */
static const char *s_vapid(const sbx_req_t *req, json_t **claims)
{
    const char *h = sbx_header(req, "Authorization"), *host = sbx_header(req, "Host");
    char t[1200], k[120], aud[300];
    const char *tp = h ? strstr(h, "t=") : NULL, *kp = h ? strstr(h, "k=") : NULL;
    if (!h || strncasecmp(h, "vapid ", 6) || !tp || !kp || !host)
        return "missing vapid authorization";
    snprintf(t, sizeof t, "%.*s", (int)strcspn(tp + 2, ", "), tp + 2);
    snprintf(k, sizeof k, "%.*s", (int)strcspn(kp + 2, ", "), kp + 2);
    const char *why = s_verify(t, k, claims);
    if (why)
        return why;
    snprintf(aud, sizeof aud, "http://%s", host);
    json_int_t exp = json_integer_value(json_object_get(*claims, "exp"));
    const char *a = json_string_value(json_object_get(*claims, "aud"));
    const char *sub = json_string_value(json_object_get(*claims, "sub"));
    if (!a || strcmp(a, aud))
        return "vapid aud is not this push service's origin";
    if (exp <= time(NULL) || exp > time(NULL) + 86400)
        return "vapid exp is not within the next 24 hours";
    if (!sub || (strncmp(sub, "mailto:", 7) && strncmp(sub, "https:", 6)))
        return "vapid sub must be a mailto: or https: contact";
    json_object_set_new(*claims, "k", json_string(k));
    return NULL;
}

static char *s_b64url_encode(const char *in, size_t n)
{
    char *out = malloc(n / 3 * 4 + 8);
    if (!out)
        return NULL;
    int k = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)n);
    while (k > 0 && out[k - 1] == '=')
        k--;
    out[k] = '\0';
    for (int i = 0; i < k; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    return out;
}

static void s_handle(const sbx_req_t *req, sbx_resp_t *resp)
{
    char key[140];
    json_t *claims = NULL;
    const char *id = req->url + 6, *ttl = sbx_header(req, "TTL"),
               *enc = sbx_header(req, "Content-Encoding");
    snprintf(key, sizeof key, "push:%s", id);
    if (sbx_knob_apply(key, resp) || sbx_knob_apply("push", resp))
        return;
    const char *why = !ttl                                   ? "the TTL header is required"
                      : !enc || strcasecmp(enc, "aes128gcm") ? "Content-Encoding must be aes128gcm"
                      : req->len < 86 + 17 || (unsigned char)req->body[20] != 65
                          ? "the body is not an aes128gcm message"
                          : s_vapid(req, &claims);
    if (why) {
        json_decref(claims);
        sbx_json(resp, strstr(why, "vapid") ? 401 : 400, json_pack("{s:s}", "error", why));
        return;
    }
    char *body = s_b64url_encode(req->body, req->len);
    sbx_record(key,
               json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:s?, s:o}", "subscription", id, "ttl", ttl,
                         "urgency", sbx_header(req, "Urgency"), "topic", sbx_header(req, "Topic"),
                         "encoding", enc, "body", body, "vapid", claims));
    free(body);
    unsigned char r[8];
    RAND_bytes(r, sizeof r);
    snprintf(resp->location, sizeof resp->location, "/push/%s/m/%02x%02x%02x%02x%02x%02x%02x%02x",
             id, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
    sbx_json(resp, 201, NULL);
}

const sbx_module_t sbx_webpush_module = {"webpush", s_claims, s_handle};
