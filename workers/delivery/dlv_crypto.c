/* dlv_crypto: the cryptography of delivery: RFC 8291 Web Push message encryption
 * (ECDH P-256, HKDF-SHA-256, AES-128-GCM, aes128gcm content coding of RFC 8188), RFC 8292
 * VAPID tokens (ES256), and Standard Webhooks signatures (v1 HMAC-SHA256, v1a Ed25519).
 * Everything is OpenSSL; nothing here touches the network or logs key material. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_util.h"
#include "dlv.h"

#define S_RS 4096 /* record size announced in the aes128gcm header */

/* HKDF-SHA-256 (RFC 5869) of ikm with salt and info into out (len bytes). */
static bx_err_t s_hkdf(const unsigned char *salt, size_t slen, const unsigned char *ikm,
                       size_t ilen, const unsigned char *info, size_t nlen, unsigned char *out,
                       size_t len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, slen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ilen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, nlen),
        OSSL_PARAM_construct_end(),
    };
    int ok = ctx && EVP_KDF_derive(ctx, out, len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? BX_OK : BX_EINTERNAL;
}

/* An EVP_PKEY holding the P-256 public point pub (65 bytes). */
static EVP_PKEY *s_p256_peer(const unsigned char pub[65])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, 65),
        OSSL_PARAM_construct_end(),
    };
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* ECDH shared secret (32 bytes) of mine and the peer point. */
static bx_err_t s_ecdh(EVP_PKEY *mine, const unsigned char peer_pub[65], unsigned char out[32])
{
    EVP_PKEY *peer = s_p256_peer(peer_pub);
    EVP_PKEY_CTX *ctx = peer ? EVP_PKEY_CTX_new(mine, NULL) : NULL;
    size_t len = 32;
    int ok = ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
             EVP_PKEY_derive(ctx, out, &len) == 1 && len == 32;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    return ok ? BX_OK : BX_EINVAL;
}

static bx_err_t s_point(EVP_PKEY *key, unsigned char out[65])
{
    size_t len = 0;
    return EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, 65,
                                           &len) == 1 &&
                   len == 65
               ? BX_OK
               : BX_EINVAL;
}

bx_err_t dlv_p256_public(EVP_PKEY *key, char *out, size_t cap)
{
    unsigned char pt[65];
    if (!key || cap < 90 || s_point(key, pt) != BX_OK)
        return BX_EINVAL;
    bx_b64url_encode(pt, sizeof pt, out, cap);
    return BX_OK;
}

/* RFC 8291 section 3.4: the input keying material from the ECDH secret and auth. */
static bx_err_t s_ikm(EVP_PKEY *as, const unsigned char ua_pub[65], const unsigned char as_pub[65],
                      const unsigned char auth[16], unsigned char ikm[32])
{
    unsigned char secret[32], info[14 + 65 + 65];
    memcpy(info, "WebPush: info", 14); /* includes the terminating zero octet */
    memcpy(info + 14, ua_pub, 65);
    memcpy(info + 79, as_pub, 65);
    bx_err_t err = s_ecdh(as, ua_pub, secret);
    if (!err)
        err = s_hkdf(auth, 16, secret, 32, info, sizeof info, ikm, 32);
    OPENSSL_cleanse(secret, sizeof secret);
    return err;
}

/* AES-128-GCM of plain || 0x02 (the last-record delimiter) into ct (n + 1 + 16 bytes). */
static bx_err_t s_seal(const unsigned char cek[16], const unsigned char nonce[12],
                       const unsigned char *plain, size_t n, unsigned char *ct)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    unsigned char delim = 2;
    int len = 0, ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, cek, nonce) == 1 &&
                      EVP_EncryptUpdate(c, ct, &len, plain, (int)n) == 1;
    int len2 = 0, len3 = 0;
    ok = ok && EVP_EncryptUpdate(c, ct + len, &len2, &delim, 1) == 1 &&
         EVP_EncryptFinal_ex(c, ct + len + len2, &len3) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, ct + n + 1) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? BX_OK : BX_EINTERNAL;
}

bx_err_t dlv_webpush_encrypt(const unsigned char ua_pub[65], const unsigned char auth[16],
                             const unsigned char *plain, size_t n, EVP_PKEY *as_key,
                             const unsigned char salt_in[16], unsigned char **out, size_t *out_len)
{
    unsigned char salt[16], as_pub[65], ikm[32], cek[16], nonce[12];
    EVP_PKEY *as = as_key ? as_key : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    bx_err_t err = as ? BX_OK : BX_EINTERNAL;
    *out = NULL;
    if (n > S_RS - 17 - 86)
        err = BX_EINVAL; /* one record only: push services take 4 KiB */
    if (!err)
        err = salt_in ? (memcpy(salt, salt_in, 16), BX_OK) : bx_random(salt, 16);
    if (!err)
        err = s_point(as, as_pub);
    if (!err)
        err = s_ikm(as, ua_pub, as_pub, auth, ikm);
    if (!err)
        err = s_hkdf(salt, 16, ikm, 32, (const unsigned char *)"Content-Encoding: aes128gcm", 28,
                     cek, 16);
    if (!err)
        err = s_hkdf(salt, 16, ikm, 32, (const unsigned char *)"Content-Encoding: nonce", 24, nonce,
                     12);
    size_t total = 16 + 4 + 1 + 65 + n + 1 + 16;
    unsigned char *buf = err ? NULL : malloc(total);
    if (!err && !buf)
        err = BX_ENOMEM;
    if (!err) {
        memcpy(buf, salt, 16);
        buf[16] = 0, buf[17] = 0, buf[18] = S_RS >> 8, buf[19] = S_RS & 0xFF;
        buf[20] = 65;
        memcpy(buf + 21, as_pub, 65);
        err = s_seal(cek, nonce, plain, n, buf + 86);
    }
    if (!err) {
        *out = buf;
        *out_len = total;
    } else {
        free(buf);
    }
    OPENSSL_cleanse(ikm, sizeof ikm);
    OPENSSL_cleanse(cek, sizeof cek);
    if (!as_key)
        EVP_PKEY_free(as);
    return err;
}

/* ES256 signature of data as the JOSE raw r || s (64 bytes). */
static bx_err_t s_es256(EVP_PKEY *key, const char *data, size_t n, unsigned char out[64])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t dlen = sizeof der;
    const unsigned char *p = der;
    ECDSA_SIG *sig = NULL;
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestSign(md, der, &dlen, (const unsigned char *)data, n) == 1 &&
             (sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) != NULL;
    ok = ok && BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32) == 32 &&
         BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    return ok ? BX_OK : BX_EINTERNAL;
}

char *dlv_vapid_jwt(EVP_PKEY *key, const char *aud, const char *sub, int64_t exp)
{
    static const char header[] = "{\"typ\":\"JWT\",\"alg\":\"ES256\"}";
    json_t *claims = json_pack("{s:s, s:I, s:s}", "aud", aud, "exp", (json_int_t)exp, "sub", sub);
    char *text = claims ? json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(claims);
    if (!text)
        return NULL;
    size_t cap = 64 + strlen(text) * 4 / 3 + 120;
    char *out = malloc(cap);
    unsigned char sig[64];
    size_t n = 0;
    if (out) {
        n = bx_b64url_encode((const unsigned char *)header, sizeof header - 1, out, cap);
        out[n++] = '.';
        n += bx_b64url_encode((const unsigned char *)text, strlen(text), out + n, cap - n);
    }
    if (out && s_es256(key, out, n, sig) == BX_OK) {
        out[n++] = '.';
        bx_b64url_encode(sig, sizeof sig, out + n, cap - n);
    } else {
        free(out);
        out = NULL;
    }
    free(text);
    return out;
}

/* "id.ts.body" into a new buffer; *len set. */
static char *s_signed_content(const char *id, int64_t ts, const char *body, size_t n, size_t *len)
{
    char prefix[128];
    int k = snprintf(prefix, sizeof prefix, "%s.%lld.", id, (long long)ts);
    char *buf = k > 0 && (size_t)k < sizeof prefix ? malloc((size_t)k + n) : NULL;
    if (!buf)
        return NULL;
    memcpy(buf, prefix, (size_t)k);
    memcpy(buf + k, body, n);
    *len = (size_t)k + n;
    return buf;
}

bx_err_t dlv_sign_v1(const char *secret, const char *id, int64_t ts, const char *body, size_t n,
                     char *out, size_t cap)
{
    unsigned char key[128], mac[32];
    unsigned int mlen = 0;
    size_t clen = 0;
    if (!secret || strncmp(secret, "whsec_", 6) || strlen(secret + 6) > 160 || cap < 64)
        return BX_EINVAL;
    int klen = EVP_DecodeBlock(key, (const unsigned char *)secret + 6, (int)strlen(secret + 6));
    size_t sl = strlen(secret);
    klen -= (sl > 6 && secret[sl - 1] == '=') + (sl > 7 && secret[sl - 2] == '=');
    char *content = klen > 0 ? s_signed_content(id, ts, body, n, &clen) : NULL;
    int ok = content && HMAC(EVP_sha256(), key, klen, (unsigned char *)content, clen, mac, &mlen);
    free(content);
    OPENSSL_cleanse(key, sizeof key);
    if (!ok)
        return BX_EINVAL;
    memcpy(out, "v1,", 3);
    bx_b64_encode(mac, mlen, out + 3, cap - 3);
    return BX_OK;
}

bx_err_t dlv_sign_v1a(EVP_PKEY *key, const char *id, int64_t ts, const char *body, size_t n,
                      char *out, size_t cap)
{
    unsigned char sig[64];
    size_t slen = sizeof sig, clen = 0;
    char *content = key && cap >= 96 ? s_signed_content(id, ts, body, n, &clen) : NULL;
    EVP_MD_CTX *md = content ? EVP_MD_CTX_new() : NULL;
    int ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestSign(md, sig, &slen, (unsigned char *)content, clen) == 1;
    EVP_MD_CTX_free(md);
    free(content);
    if (!ok)
        return BX_EINVAL;
    memcpy(out, "v1a,", 4);
    bx_b64_encode(sig, slen, out + 4, cap - 4);
    return BX_OK;
}

EVP_PKEY *dlv_pem_key(const char *pem)
{
    BIO *bio = pem ? BIO_new_mem_buf(pem, -1) : NULL;
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return key;
}
