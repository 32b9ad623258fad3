/* bx_dlv_keys: the platform keys of the delivery engine (signing_keys): generated once
 * by whichever process needs one first, then read by every process; and the one-click
 * unsubscribe tokens signed with the unsubscribe key. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_dlv.h"
#include "bx_util.h"

#define S_PEM_MAX 2048

/* PEM text of pkey's private key, heap; NULL on failure. */
static char *s_pem(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL, *out = NULL;
    if (bio && PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1) {
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && n < S_PEM_MAX && (out = malloc((size_t)n + 1))) {
            memcpy(out, data, (size_t)n);
            out[n] = '\0';
        }
    }
    BIO_free(bio);
    return out;
}

/* Generates a key pair of purpose: PEM private key and public text into out. */
static bx_err_t s_generate(const char *purpose, bx_dlv_key_t *out)
{
    unsigned char pub[72];
    size_t len = sizeof pub;
    char text[128];
    EVP_PKEY *pkey = NULL;
    bx_err_t err = BX_EINTERNAL;
    if (!strcmp(purpose, "unsubscribe")) {
        unsigned char k[32];
        if (bx_random(k, sizeof k) != BX_OK)
            return BX_EINTERNAL;
        bx_b64url_encode(k, sizeof k, text, sizeof text);
        out->private_key = strdup(text);
        out->public_key = strdup("");
        return out->private_key && out->public_key ? BX_OK : BX_ENOMEM;
    }
    if (!strcmp(purpose, "callback"))
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!pkey)
        goto out;
    if (!strcmp(purpose, "callback")) {
        if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1)
            goto out;
        memcpy(text, "whpk_", 5);
        bx_b64_encode(pub, len, text + 5, sizeof text - 5);
    } else {
        if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
                                            sizeof pub, &len) != 1 ||
            len != 65)
            goto out;
        bx_b64url_encode(pub, len, text, sizeof text);
    }
    out->private_key = s_pem(pkey);
    out->public_key = strdup(text);
    err = out->private_key && out->public_key ? BX_OK : BX_ENOMEM;
out:
    EVP_PKEY_free(pkey);
    return err;
}

static bx_err_t s_load(bx_pg_t *pg, const char *purpose, bx_dlv_key_t *out, int *found)
{
    bx_err_t err;
    const char *p[] = {purpose};
    PGresult *res = bx_pg_query(pg, "dlv_key_get", 1, p, &err);
    *found = 0;
    if (!res)
        return err;
    if (PQntuples(res) == 1) {
        bx_strlcpy(out->kid, bx_pg_val(res, 0, 0), sizeof out->kid);
        out->private_key = strdup(bx_pg_val(res, 0, 1));
        out->public_key = strdup(bx_pg_val(res, 0, 2));
        *found = 1;
        err = out->private_key && out->public_key ? BX_OK : BX_ENOMEM;
    }
    PQclear(res);
    return err;
}

bx_err_t bx_dlv_key(bx_pg_t *pg, const char *purpose, bx_dlv_key_t *out)
{
    int found;
    memset(out, 0, sizeof *out);
    bx_err_t err = s_load(pg, purpose, out, &found);
    if (err || found)
        return err;
    bx_dlv_key_t fresh;
    memset(&fresh, 0, sizeof fresh);
    char id[BX_UUID_LEN + 1];
    bx_uuid_v7(id);
    snprintf(fresh.kid, sizeof fresh.kid, "%.8s%.4s", id, id + 9);
    err = s_generate(purpose, &fresh);
    if (!err) {
        const char *p[] = {purpose, fresh.kid, fresh.private_key, fresh.public_key};
        err = bx_pg_run(pg, "dlv_key_insert", 4, p); /* a concurrent creator may win */
    }
    bx_dlv_key_free(&fresh);
    if (!err)
        err = s_load(pg, purpose, out, &found);
    return err ? err : found ? BX_OK : BX_EINTERNAL;
}

void bx_dlv_key_free(bx_dlv_key_t *key)
{
    if (!key)
        return;
    if (key->private_key)
        OPENSSL_cleanse(key->private_key, strlen(key->private_key));
    free(key->private_key);
    free(key->public_key);
    key->private_key = key->public_key = NULL;
}

/* base64url HMAC-SHA256 of msg under the unsubscribe key into out (>= 44). */
static bx_err_t s_mac(const bx_dlv_key_t *key, const char *msg, size_t n, char out[48])
{
    unsigned char k[48], mac[32];
    unsigned int mlen = 0;
    long klen = bx_b64url_decode(key->private_key, strlen(key->private_key), k, sizeof k);
    if (klen < 16 || !HMAC(EVP_sha256(), k, (int)klen, (const unsigned char *)msg, n, mac, &mlen))
        return BX_EINVAL;
    bx_b64url_encode(mac, mlen, out, 48);
    OPENSSL_cleanse(k, sizeof k);
    return BX_OK;
}

bx_err_t bx_dlv_unsub_token(const bx_dlv_key_t *key, const char *user_id, const char *channel,
                            const char *category, char *out, size_t cap)
{
    char msg[96], mac[48];
    if (!bx_uuid_valid(user_id) || !bx_dlv_channel_known(channel) ||
        !bx_dlv_category_known(category))
        return BX_EINVAL;
    int n = snprintf(msg, sizeof msg, "%s.%s.%s", user_id, channel, category);
    if (n < 0 || (size_t)n >= sizeof msg || s_mac(key, msg, (size_t)n, mac) != BX_OK)
        return BX_EINVAL;
    size_t used = bx_b64url_encode((const unsigned char *)msg, (size_t)n, out, cap);
    if (used + strlen(mac) + 2 > cap)
        return BX_EINVAL;
    out[used] = '.';
    bx_strlcpy(out + used + 1, mac, cap - used - 1);
    return BX_OK;
}

bx_err_t bx_dlv_unsub_verify(const bx_dlv_key_t *key, const char *token, char *user_id,
                             char *channel, char *category)
{
    char msg[97], mac[48];
    const char *dot = token ? strchr(token, '.') : NULL;
    if (!dot || dot - token > 128 || strlen(dot + 1) != 43)
        return BX_EINVAL;
    long n = bx_b64url_decode(token, (size_t)(dot - token), (unsigned char *)msg, sizeof msg - 1);
    if (n <= 0 || s_mac(key, msg, (size_t)n, mac) != BX_OK || CRYPTO_memcmp(mac, dot + 1, 43))
        return BX_EINVAL;
    msg[n] = '\0';
    char *a = strchr(msg, '.'), *b = a ? strchr(a + 1, '.') : NULL;
    if (!a || !b || a - msg != BX_UUID_LEN || b - a - 1 >= 8 || strlen(b + 1) >= 16)
        return BX_EINVAL;
    *a = *b = '\0';
    bx_strlcpy(user_id, msg, BX_UUID_LEN + 1);
    bx_strlcpy(channel, a + 1, 8);
    bx_strlcpy(category, b + 1, 16);
    return bx_uuid_valid(user_id) && bx_dlv_channel_known(channel) &&
                   bx_dlv_category_known(category)
               ? BX_OK
               : BX_EINVAL;
}
