/* bx_jwt: Ed25519 key ring (OpenSSL EVP), compact JWS signing and strict verification,
 * and the JWKS document. */
#include "bx_jwt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bx_log.h"
#include "bx_util.h"

#define S_SIG_LEN    64
#define S_PUB_LEN    32
#define S_MAX_FILES  256 /* candidate files looked at in a key folder */
#define S_MAX_HEADER 512 /* decoded header bytes */
#define S_NAME_MAX   128 /* longest key file name */

typedef struct {
    EVP_PKEY *pkey;               /* owned; private key (signs and verifies) */
    unsigned char pub[S_PUB_LEN]; /* raw public key */
    char kid[BX_JWT_KID_LEN + 1]; /* key id */
} s_key_t;

struct bx_jwt_ring {
    s_key_t keys[BX_JWT_MAX_KEYS]; /* newest first: keys[0] signs */
    int n;                         /* keys in use */
    char *issuer;                  /* required iss claim, owned */
};

/* A key file found in the folder, before loading. */
typedef struct {
    char name[S_NAME_MAX]; /* file name */
    struct timespec mtime; /* modification time */
} s_file_t;

/* A segment of a compact token. */
typedef struct {
    const char *p; /* start, borrowed from the token */
    size_t n;      /* length */
} s_seg_t;

/* Never prompt for a pass phrase: an encrypted key file is simply unusable here. */
static int s_no_pass(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0;
}

/* Fills kid and pub from pkey. Returns 1 on success. */
static int s_key_ids(EVP_PKEY *pkey, unsigned char pub[S_PUB_LEN], char kid[BX_JWT_KID_LEN + 1])
{
    char hex[65];
    size_t len = S_PUB_LEN;
    if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 ||
        EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 || len != S_PUB_LEN)
        return 0;
    bx_sha256_hex(pub, S_PUB_LEN, hex);
    memcpy(kid, hex, BX_JWT_KID_LEN);
    kid[BX_JWT_KID_LEN] = '\0';
    return 1;
}

/* Reads one PEM private key file into key. Returns 1 on success, 0 (logged) otherwise. */
static int s_load_key(const char *dir, const char *name, s_key_t *key)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        BX_WARN("could not open key file %s: %s", path, strerror(errno));
        return 0;
    }
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
        BX_WARN("key file %s is readable by other users: chmod 600 it", path);
    key->pkey = PEM_read_PrivateKey(f, NULL, s_no_pass, NULL);
    fclose(f);
    if (!key->pkey || !s_key_ids(key->pkey, key->pub, key->kid)) {
        BX_WARN("could not load key file %s: not an unencrypted Ed25519 private key", path);
        EVP_PKEY_free(key->pkey);
        key->pkey = NULL;
        return 0;
    }
    if (strncmp(name + 4, key->kid, BX_JWT_KID_LEN) || strcmp(name + 4 + BX_JWT_KID_LEN, ".pem"))
        BX_WARN("key file %s holds key %s: loaded under that kid", path, key->kid);
    return 1;
}

static int s_is_key_name(const char *name)
{
    size_t n = strlen(name);
    return n > 8 && n < S_NAME_MAX && !strncmp(name, "jwt-", 4) && !strcmp(name + n - 4, ".pem");
}

/* Newest first; equal times by name, descending, so the choice is stable. */
static int s_file_cmp(const void *a, const void *b)
{
    const s_file_t *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
    return -strcmp(x->name, y->name);
}

/* Lists key files of dir into files (cap S_MAX_FILES). Returns the count or -1. */
static int s_list(const char *dir, s_file_t *files)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) {
        BX_ERROR("could not open key folder %s: %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) && n < S_MAX_FILES) {
        char path[4096];
        struct stat st;
        if (!s_is_key_name(e->d_name))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) || !S_ISREG(st.st_mode))
            continue;
        bx_strlcpy(files[n].name, e->d_name, sizeof files[n].name);
        files[n].mtime = st.st_mtim;
        n++;
    }
    closedir(d);
    qsort(files, (size_t)n, sizeof *files, s_file_cmp);
    return n;
}

static int s_has_kid(const bx_jwt_ring_t *ring, const char *kid)
{
    for (int i = 0; i < ring->n; i++)
        if (!strcmp(ring->keys[i].kid, kid))
            return 1;
    return 0;
}

bx_jwt_ring_t *bx_jwt_ring_load(const char *dir, const char *issuer)
{
    s_file_t *files = calloc(S_MAX_FILES, sizeof *files);
    bx_jwt_ring_t *ring = calloc(1, sizeof *ring);
    int nfiles = -1;
    if (!files || !ring || !dir || !issuer || !(ring->issuer = strdup(issuer)))
        goto out;
    nfiles = s_list(dir, files);
    for (int i = 0; i < nfiles && ring->n < BX_JWT_MAX_KEYS; i++) {
        s_key_t key = {0};
        if (!s_load_key(dir, files[i].name, &key))
            continue;
        if (s_has_kid(ring, key.kid)) {
            EVP_PKEY_free(key.pkey);
            continue;
        }
        ring->keys[ring->n++] = key;
    }
    if (nfiles >= 0 && ring->n == 0)
        BX_ERROR("no usable signing key (jwt-<kid>.pem) in %s: run bxctl keygen", dir);
out:
    free(files);
    if (ring && ring->n == 0)
        bx_jwt_ring_destroy(&ring);
    return ring;
}

void bx_jwt_ring_destroy(bx_jwt_ring_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bx_jwt_ring_t *self = *self_p;
    for (int i = 0; i < self->n; i++)
        EVP_PKEY_free(self->keys[i].pkey);
    free(self->issuer);
    free(self);
    *self_p = NULL;
}

/* Writes pkey as PEM to path, mode 0600, via a temporary file. */
static bx_err_t s_write_pem(const char *path, EVP_PKEY *pkey)
{
    char tmp[4200];
    bx_err_t rc = BX_EINTERNAL;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        BX_ERROR("could not create key file %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    int ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1 && fflush(f) == 0 &&
             fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(tmp, path) == 0)
        rc = BX_OK;
    else
        BX_ERROR("could not write key file %s: %s", path, strerror(errno));
    if (rc != BX_OK)
        unlink(tmp);
    return rc;
}

bx_err_t bx_jwt_keygen(const char *dir, char kid_out[BX_JWT_KID_LEN + 1])
{
    unsigned char pub[S_PUB_LEN];
    char kid[BX_JWT_KID_LEN + 1], path[4096];
    bx_err_t rc = BX_EINTERNAL;
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!pkey || !s_key_ids(pkey, pub, kid)) {
        BX_ERROR("could not generate an Ed25519 key");
        goto out;
    }
    snprintf(path, sizeof path, "%s/jwt-%s.pem", dir, kid);
    rc = s_write_pem(path, pkey);
    if (rc == BX_OK && kid_out)
        memcpy(kid_out, kid, sizeof kid);
out:
    EVP_PKEY_free(pkey);
    return rc;
}

bx_jwt_ring_t *bx_jwt_ring_generate(const char *dir, const char *issuer)
{
    if (bx_jwt_keygen(dir, NULL) != BX_OK)
        return NULL;
    return bx_jwt_ring_load(dir, issuer);
}

const char *bx_jwt_ring_kid(const bx_jwt_ring_t *ring)
{
    return ring->keys[0].kid;
}

int bx_jwt_ring_size(const bx_jwt_ring_t *ring)
{
    return ring->n;
}

const char *bx_jwt_ring_issuer(const bx_jwt_ring_t *ring)
{
    return ring->issuer;
}

/* Appends base64url of n bytes to out at *o (cap bytes). Returns 1 if it fit. */
static int s_append_b64(char *out, size_t *o, size_t cap, const void *in, size_t n)
{
    size_t need = (n + 2) / 3 * 4 + 1;
    if (*o + need > cap)
        return 0;
    *o += bx_b64url_encode(in, n, out + *o, cap - *o);
    return 1;
}

/* Ed25519 signature of msg with key into sig. Returns 1 on success. */
static int s_sign(EVP_PKEY *pkey, const char *msg, size_t n, unsigned char sig[S_SIG_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t siglen = S_SIG_LEN;
    int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
             EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)msg, n) == 1 &&
             siglen == S_SIG_LEN;
    EVP_MD_CTX_free(ctx);
    return ok;
}

char *bx_jwt_sign(const bx_jwt_ring_t *ring, json_t *claims)
{
    unsigned char sig[S_SIG_LEN];
    size_t o = 0;
    char *out = NULL, *body = NULL, *head = NULL;
    json_t *hdr =
        json_pack("{s:s, s:s, s:s}", "alg", "EdDSA", "typ", "JWT", "kid", ring->keys[0].kid);
    if (!hdr || !json_is_object(claims))
        goto out;
    head = json_dumps(hdr, JSON_COMPACT);
    body = json_dumps(claims, JSON_COMPACT);
    out = malloc(BX_JWT_MAX_TOKEN + 1);
    if (!head || !body || !out)
        goto fail;
    if (!s_append_b64(out, &o, BX_JWT_MAX_TOKEN + 1, head, strlen(head)) ||
        o + 1 > BX_JWT_MAX_TOKEN)
        goto fail;
    out[o++] = '.';
    if (!s_append_b64(out, &o, BX_JWT_MAX_TOKEN + 1, body, strlen(body)) ||
        o + 1 > BX_JWT_MAX_TOKEN)
        goto fail;
    if (!s_sign(ring->keys[0].pkey, out, o, sig))
        goto fail;
    out[o++] = '.';
    if (!s_append_b64(out, &o, BX_JWT_MAX_TOKEN + 1, sig, sizeof sig))
        goto fail;
    goto out;
fail:
    free(out);
    out = NULL;
out:
    free(head);
    free(body);
    json_decref(hdr);
    return out;
}

/* Splits token into three segments at the only two dots. Returns 1 on success. */
static int s_split(const char *token, size_t len, s_seg_t seg[3])
{
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return 0;
    seg[0] = (s_seg_t){token, (size_t)(d1 - token)};
    seg[1] = (s_seg_t){d1 + 1, (size_t)(d2 - d1 - 1)};
    seg[2] = (s_seg_t){d2 + 1, len - (size_t)(d2 + 1 - token)};
    return seg[0].n > 0 && seg[1].n > 0 && seg[2].n > 0;
}

/* Decodes a base64url segment holding a JSON object. Returns a new reference or NULL. */
static json_t *s_decode_object(s_seg_t seg, size_t cap)
{
    unsigned char *buf = malloc(cap);
    json_t *j = NULL;
    long n = buf ? bx_b64url_decode(seg.p, seg.n, buf, cap) : -1;
    if (n > 0)
        j = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
    free(buf);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* Checks the header and finds the key it names. Returns the key or NULL with *why. */
static const s_key_t *s_check_header(const bx_jwt_ring_t *ring, s_seg_t seg, const char **why)
{
    json_t *hdr = s_decode_object(seg, S_MAX_HEADER);
    const s_key_t *key = NULL;
    const char *alg = hdr ? json_string_value(json_object_get(hdr, "alg")) : NULL;
    json_t *typ = hdr ? json_object_get(hdr, "typ") : NULL;
    const char *kid = hdr ? json_string_value(json_object_get(hdr, "kid")) : NULL;
    if (!hdr)
        *why = "header is not a base64url JSON object";
    else if (!alg || strcmp(alg, "EdDSA"))
        *why = "algorithm not allowed";
    else if (typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT")))
        *why = "typ is not JWT";
    else if (json_object_get(hdr, "crit"))
        *why = "critical header extensions are not supported";
    else if (!kid)
        *why = "kid missing";
    for (int i = 0; !*why && i < ring->n && !key; i++)
        if (!strcmp(ring->keys[i].kid, kid))
            key = &ring->keys[i];
    if (!*why && !key)
        *why = "unknown kid";
    json_decref(hdr);
    return *why ? NULL : key;
}

/* Verifies the signature segment over header.payload. Returns 1 when valid. */
static int s_check_sig(const s_key_t *key, const char *token, s_seg_t sig_seg)
{
    unsigned char sig[S_SIG_LEN + 1];
    long n = bx_b64url_decode(sig_seg.p, sig_seg.n, sig, sizeof sig);
    if (n != S_SIG_LEN)
        return 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t signed_len = (size_t)(sig_seg.p - 1 - token);
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestVerify(ctx, sig, S_SIG_LEN, (const unsigned char *)token, signed_len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* Checks the registered claims. Returns NULL when acceptable, else the reason. */
static const char *s_check_claims(const bx_jwt_ring_t *ring, json_t *claims, int64_t now)
{
    json_t *exp = json_object_get(claims, "exp");
    json_t *iat = json_object_get(claims, "iat");
    json_t *nbf = json_object_get(claims, "nbf");
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    if (!json_is_integer(exp) || !json_is_integer(iat))
        return "exp and iat must be integers";
    if (nbf && !json_is_integer(nbf))
        return "nbf must be an integer";
    if (now >= (int64_t)json_integer_value(exp) + BX_JWT_LEEWAY_S)
        return "token expired";
    if (nbf && now + BX_JWT_LEEWAY_S < (int64_t)json_integer_value(nbf))
        return "token not valid yet";
    if ((int64_t)json_integer_value(iat) > now + BX_JWT_LEEWAY_S)
        return "token issued in the future";
    if (!iss || strcmp(iss, ring->issuer))
        return "wrong issuer";
    return NULL;
}

/* Runs every check in order; the signature is checked before the claims are parsed.
 * Returns NULL with *claims set when the token is good, else the reason. */
static const char *s_verify(const bx_jwt_ring_t *ring, const char *token, int64_t now,
                            json_t **claims)
{
    const char *reason = NULL;
    s_seg_t seg[3];
    size_t len = token ? strnlen(token, BX_JWT_MAX_TOKEN + 1) : 0;
    if (!ring || len == 0)
        return "no token";
    if (len > BX_JWT_MAX_TOKEN)
        return "token too long";
    if (!s_split(token, len, seg))
        return "not a compact JWS";
    const s_key_t *key = s_check_header(ring, seg[0], &reason);
    if (!key)
        return reason;
    if (!s_check_sig(key, token, seg[2]))
        return "bad signature";
    *claims = s_decode_object(seg[1], BX_JWT_MAX_TOKEN);
    if (!*claims)
        return "claims are not a base64url JSON object";
    return s_check_claims(ring, *claims, now);
}

bx_err_t bx_jwt_verify_why(const bx_jwt_ring_t *ring, const char *token, int64_t now,
                           json_t **claims_out, const char **why)
{
    json_t *claims = NULL;
    const char *reason = s_verify(ring, token, now, &claims);
    if (reason) {
        json_decref(claims);
        claims = NULL;
    }
    if (claims_out)
        *claims_out = claims;
    else
        json_decref(claims);
    if (why)
        *why = reason;
    return reason ? BX_EUNAUTHORIZED : BX_OK;
}

bx_err_t bx_jwt_verify(const bx_jwt_ring_t *ring, const char *token, int64_t now,
                       json_t **claims_out)
{
    return bx_jwt_verify_why(ring, token, now, claims_out, NULL);
}

char *bx_jwt_jwks(const bx_jwt_ring_t *ring)
{
    json_t *keys = json_array();
    char *out = NULL;
    for (int i = 0; keys && i < ring->n; i++) {
        char x[64];
        bx_b64url_encode(ring->keys[i].pub, S_PUB_LEN, x, sizeof x);
        if (json_array_append_new(keys, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP",
                                                  "crv", "Ed25519", "x", x, "kid",
                                                  ring->keys[i].kid, "use", "sig", "alg", "EdDSA")))
            goto out;
    }
    json_t *doc = keys ? json_pack("{s:O}", "keys", keys) : NULL;
    out = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
out:
    json_decref(keys);
    return out;
}
