/* bx_ticket: compact Ed25519-signed ticket payloads (format in bx_ticket.h and
 * docs/tickets.md) and the keys that sign and verify them. */
#include "bx_ticket.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_util.h"

#define S_PREFIX   "BX1."
#define S_FIXED    38 /* body bytes before the seat label */
#define S_BODY_MAX (S_FIXED + BX_TICKET_SEAT_MAX)
#define S_SIG      64

struct bx_ticket_key {
    EVP_PKEY *pkey;                      /* Ed25519; private part only when it signs */
    int can_sign;                        /* 1 when made from a private key */
    char kid[BX_TICKET_KID_LEN + 1];     /* first 8 hex of SHA-256(raw public key) */
    char pub[BX_TICKET_PUB_B64 + 1];     /* base64url raw public key */
};

/* Fills kid and pub from key->pkey. */
static int s_key_ids(bx_ticket_key_t *key)
{
    unsigned char raw[32];
    size_t len = sizeof raw;
    char hex[65];
    if (EVP_PKEY_get_raw_public_key(key->pkey, raw, &len) != 1 || len != 32)
        return 0;
    bx_sha256_hex(raw, len, hex);
    memcpy(key->kid, hex, BX_TICKET_KID_LEN);
    key->kid[BX_TICKET_KID_LEN] = '\0';
    bx_b64url_encode(raw, len, key->pub, sizeof key->pub);
    return 1;
}

static bx_ticket_key_t *s_key_wrap(EVP_PKEY *pkey, int can_sign)
{
    bx_ticket_key_t *key = pkey ? calloc(1, sizeof *key) : NULL;
    if (key) {
        key->pkey = pkey;
        key->can_sign = can_sign;
        if (EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519 && s_key_ids(key))
            return key;
        free(key);
    }
    EVP_PKEY_free(pkey);
    return NULL;
}

bx_ticket_key_t *bx_ticket_key_generate(void)
{
    return s_key_wrap(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), 1);
}

bx_ticket_key_t *bx_ticket_key_from_pem(const char *pem)
{
    if (!pem)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return s_key_wrap(pkey, 1);
}

bx_ticket_key_t *bx_ticket_key_from_public(const char *pub, const char *kid)
{
    unsigned char raw[40];
    if (!pub || strlen(pub) != BX_TICKET_PUB_B64 ||
        bx_b64url_decode(pub, BX_TICKET_PUB_B64, raw, sizeof raw) != 32)
        return NULL;
    bx_ticket_key_t *key =
        s_key_wrap(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32), 0);
    if (key && kid && strcmp(kid, key->kid))
        bx_ticket_key_destroy(&key);
    return key;
}

void bx_ticket_key_destroy(bx_ticket_key_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    EVP_PKEY_free((*self_p)->pkey);
    free(*self_p);
    *self_p = NULL;
}

const char *bx_ticket_key_kid(const bx_ticket_key_t *key)
{
    return key->kid;
}

const char *bx_ticket_key_public(const bx_ticket_key_t *key)
{
    return key->pub;
}

char *bx_ticket_key_pem(const bx_ticket_key_t *key)
{
    BIO *bio = key && key->can_sign ? BIO_new(BIO_s_mem()) : NULL;
    char *data = NULL, *out = NULL;
    if (bio && PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL) == 1) {
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && (out = malloc((size_t)n + 1))) {
            memcpy(out, data, (size_t)n);
            out[n] = '\0';
        }
    }
    BIO_free(bio);
    return out;
}

json_t *bx_ticket_key_jwk(const bx_ticket_key_t *key)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x",
                     key->pub, "kid", key->kid, "use", "sig", "alg", "EdDSA");
}

/* ---- body encoding ---- */

static int s_hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* 16 bytes of a canonical UUID text; 0 when it is not one. */
static int s_uuid_bytes(const char *s, unsigned char out[16])
{
    if (!bx_uuid_valid(s))
        return 0;
    for (int i = 0, at = 0; i < 16; i++) {
        if (s[at] == '-')
            at++;
        out[i] = (unsigned char)(s_hexval(s[at]) << 4 | s_hexval(s[at + 1]));
        at += 2;
    }
    return 1;
}

static void s_uuid_text(const unsigned char in[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0, at = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[at++] = '-';
        out[at++] = hex[in[i] >> 4];
        out[at++] = hex[in[i] & 15];
    }
    out[36] = '\0';
}

static int s_seat_ok(const char *seat, size_t n)
{
    if (n == 0 || n > BX_TICKET_SEAT_MAX || !bx_utf8_valid(seat, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)seat[i] < 0x20 || seat[i] == 0x7f)
            return 0;
    return 1;
}

/* The binary body of c into out (S_BODY_MAX bytes); its length, or 0 when c is invalid. */
static size_t s_body(const bx_ticket_claims_t *c, unsigned char *out)
{
    size_t seat = strlen(c->seat);
    if (!s_uuid_bytes(c->ticket_id, out) || !s_uuid_bytes(c->event_id, out + 16) ||
        c->serial < 1 || c->serial > 65535 || c->issued < 0 || c->issued > 0xffffffffLL ||
        !s_seat_ok(c->seat, seat))
        return 0;
    uint32_t at = (uint32_t)c->issued;
    out[32] = (unsigned char)(at >> 24), out[33] = (unsigned char)(at >> 16);
    out[34] = (unsigned char)(at >> 8), out[35] = (unsigned char)at;
    out[36] = (unsigned char)(c->serial >> 8), out[37] = (unsigned char)c->serial;
    memcpy(out + S_FIXED, c->seat, seat);
    return S_FIXED + seat;
}

char *bx_ticket_sign(const bx_ticket_key_t *key, const bx_ticket_claims_t *c)
{
    unsigned char body[S_BODY_MAX], sig[S_SIG];
    size_t n = key && key->can_sign && c ? s_body(c, body) : 0, siglen = sizeof sig;
    char *out = n ? malloc(BX_TICKET_MAX) : NULL;
    EVP_MD_CTX *md = out ? EVP_MD_CTX_new() : NULL;
    if (!md)
        goto fail;
    int len = snprintf(out, BX_TICKET_MAX, S_PREFIX "%s.", key->kid);
    len += (int)bx_b64url_encode(body, n, out + len, BX_TICKET_MAX - (size_t)len);
    if (EVP_DigestSignInit(md, NULL, NULL, NULL, key->pkey) != 1 ||
        EVP_DigestSign(md, sig, &siglen, (const unsigned char *)out, (size_t)len) != 1 ||
        (size_t)len + 2 + 86 > BX_TICKET_MAX)
        goto fail;
    out[len++] = '.';
    bx_b64url_encode(sig, siglen, out + len, BX_TICKET_MAX - (size_t)len);
    EVP_MD_CTX_free(md);
    return out;
fail:
    EVP_MD_CTX_free(md);
    free(out);
    return NULL;
}

/* Splits payload into its parts: the signed text's length, the body and the signature.
 * Returns 0 when the structure is wrong. */
static int s_split(const char *payload, bx_ticket_claims_t *c, unsigned char *body, size_t *blen,
                   unsigned char sig[S_SIG], size_t *signed_len)
{
    if (!payload || strnlen(payload, BX_TICKET_MAX + 1) > BX_TICKET_MAX ||
        strncmp(payload, S_PREFIX, 4))
        return 0;
    const char *kid = payload + 4, *dot1 = strchr(kid, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2 || dot1 - kid != BX_TICKET_KID_LEN || strchr(dot2 + 1, '.'))
        return 0;
    for (int i = 0; i < BX_TICKET_KID_LEN; i++)
        if (s_hexval(kid[i]) < 0 || (kid[i] >= 'A' && kid[i] <= 'F'))
            return 0;
    long b = bx_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), body, S_BODY_MAX);
    long s = bx_b64url_decode(dot2 + 1, strlen(dot2 + 1), sig, S_SIG);
    if (b < S_FIXED + 1 || s != S_SIG)
        return 0;
    memcpy(c->kid, kid, BX_TICKET_KID_LEN);
    c->kid[BX_TICKET_KID_LEN] = '\0';
    *blen = (size_t)b;
    *signed_len = (size_t)(dot2 - payload);
    return 1;
}

/* Fills c from the body; 0 when its fields are invalid. */
static int s_unbody(const unsigned char *body, size_t n, bx_ticket_claims_t *c)
{
    s_uuid_text(body, c->ticket_id);
    s_uuid_text(body + 16, c->event_id);
    c->issued = (int64_t)((uint32_t)body[32] << 24 | (uint32_t)body[33] << 16 |
                          (uint32_t)body[34] << 8 | body[35]);
    c->serial = body[36] << 8 | body[37];
    memcpy(c->seat, body + S_FIXED, n - S_FIXED);
    c->seat[n - S_FIXED] = '\0';
    return c->serial >= 1 && s_seat_ok(c->seat, n - S_FIXED) && strlen(c->seat) == n - S_FIXED;
}

static bx_err_t s_parse(const char *payload, bx_ticket_claims_t *c, unsigned char sig[S_SIG],
                        size_t *signed_len)
{
    unsigned char body[S_BODY_MAX];
    size_t blen = 0;
    memset(c, 0, sizeof *c);
    if (!s_split(payload, c, body, &blen, sig, signed_len) || !s_unbody(body, blen, c)) {
        memset(c, 0, sizeof *c);
        return BX_EINVAL;
    }
    return BX_OK;
}

bx_err_t bx_ticket_parse(const char *payload, bx_ticket_claims_t *c)
{
    unsigned char sig[S_SIG];
    size_t signed_len;
    return s_parse(payload, c, sig, &signed_len);
}

bx_err_t bx_ticket_verify(const bx_ticket_key_t *key, const char *payload, bx_ticket_claims_t *c)
{
    bx_ticket_claims_t tmp;
    unsigned char sig[S_SIG];
    size_t signed_len = 0;
    bx_ticket_claims_t *out = c ? c : &tmp;
    bx_err_t err = s_parse(payload, out, sig, &signed_len);
    if (err)
        return err;
    if (!key || strcmp(out->kid, key->kid))
        return BX_ENOTFOUND;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestVerify(md, sig, S_SIG, (const unsigned char *)payload, signed_len) == 1;
    EVP_MD_CTX_free(md);
    return ok ? BX_OK : BX_EUNAUTHORIZED;
}

bx_err_t bx_ticket_verify_jwks(json_t *jwks, const char *payload, bx_ticket_claims_t *c)
{
    bx_ticket_claims_t tmp;
    bx_ticket_claims_t *out = c ? c : &tmp;
    json_t *jwk;
    size_t i;
    bx_err_t err = bx_ticket_parse(payload, out);
    if (err)
        return err;
    json_array_foreach(json_object_get(jwks, "keys"), i, jwk)
    {
        const char *kid = json_string_value(json_object_get(jwk, "kid"));
        const char *crv = json_string_value(json_object_get(jwk, "crv"));
        if (!kid || strcmp(kid, out->kid) || !crv || strcmp(crv, "Ed25519"))
            continue;
        bx_ticket_key_t *key =
            bx_ticket_key_from_public(json_string_value(json_object_get(jwk, "x")), kid);
        err = key ? bx_ticket_verify(key, payload, out) : BX_EINVAL;
        bx_ticket_key_destroy(&key);
        return err;
    }
    return BX_ENOTFOUND;
}
