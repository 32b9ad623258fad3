/* test_jwt: EdDSA tokens (bx_jwt): round trip, every refusal of the verifier, fuzzed
 * input, key rotation, the JWKS document, and interoperability with PyJWT. Includes
 * bx_jwt.c to sign hand-made headers with the ring's private key. */
#include <check.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bx_json.h"
#include "bx_suite.h"
#include "bx_jwt.c"

#define S_ISS "boxoffice-test"

static char s_dir[64];
static bx_jwt_ring_t *s_ring;
static int64_t s_now;

static void s_rmdir(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/bx-jwt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    s_ring = bx_jwt_ring_generate(s_dir, S_ISS);
    ck_assert_ptr_nonnull(s_ring);
    s_now = (int64_t)time(NULL);
}

static void s_teardown(void)
{
    bx_jwt_ring_destroy(&s_ring);
    s_rmdir(s_dir);
}

static json_t *s_claims(int64_t iat, int64_t exp)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:[s], s:s, s:I, s:I}", "iss", S_ISS, "sub",
                     "0190a5b2-0000-7000-8000-000000000001", "sid",
                     "0190a5b2-0000-7000-8000-000000000002", "role", "partner", "orgs",
                     "0190a5b2-0000-7000-8000-000000000003", "jti", "j-1", "iat", (json_int_t)iat,
                     "exp", (json_int_t)exp);
}

/* Builds b64(header).b64(payload) from literal JSON texts; sig: 0 none, 1 Ed25519 with
 * the ring's key, 2 HMAC-SHA256 keyed with hkey. Caller frees. */
static char *s_forge(const char *header, const char *payload, int sig, const void *hkey,
                     size_t hkey_len)
{
    size_t cap = 8192, o = 0;
    char *t = malloc(cap);
    unsigned char mac[64];
    unsigned int maclen = 0;
    ck_assert(s_append_b64(t, &o, cap, header, strlen(header)));
    t[o++] = '.';
    ck_assert(s_append_b64(t, &o, cap, payload, strlen(payload)));
    if (sig == 1)
        ck_assert(s_sign(s_ring->keys[0].pkey, t, o, mac)), maclen = 64;
    if (sig == 2)
        ck_assert_ptr_nonnull(
            HMAC(EVP_sha256(), hkey, (int)hkey_len, (unsigned char *)t, o, mac, &maclen));
    t[o++] = '.';
    t[o] = '\0';
    if (maclen)
        ck_assert(s_append_b64(t, &o, cap, mac, maclen));
    return t;
}

/* Asserts that token is refused for reason (NULL: any reason). */
static void s_refused(const char *token, const char *reason)
{
    const char *why = NULL;
    json_t *claims = (json_t *)1;
    ck_assert_int_eq(bx_jwt_verify_why(s_ring, token, s_now, &claims, &why), BX_EUNAUTHORIZED);
    ck_assert_ptr_null(claims);
    ck_assert_ptr_nonnull(why);
    if (reason)
        ck_assert_str_eq(why, reason);
}

static char *s_payload(int64_t iat, int64_t exp)
{
    json_t *c = s_claims(iat, exp);
    char *p = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return p;
}

static char *s_header(const char *alg, const char *kid)
{
    char *h = malloc(256);
    snprintf(h, 256, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg, kid);
    return h;
}

START_TEST(sign_verify_round_trip)
{
    json_t *claims = s_claims(s_now, s_now + 900), *got = NULL;
    char *tok = bx_jwt_sign(s_ring, claims);
    ck_assert_ptr_nonnull(tok);
    ck_assert_int_eq(bx_jwt_verify(s_ring, tok, s_now, &got), BX_OK);
    ck_assert(json_equal(claims, got));
    ck_assert_int_eq(bx_jwt_verify(s_ring, tok, s_now, NULL), BX_OK);
    /* the header names the algorithm, the type and the signing key */
    unsigned char hdr[256];
    long n = bx_b64url_decode(tok, strcspn(tok, "."), hdr, sizeof hdr - 1);
    ck_assert_int_gt(n, 0);
    hdr[n] = '\0';
    char want[128];
    snprintf(want, sizeof want, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
             bx_jwt_ring_kid(s_ring));
    ck_assert_str_eq((char *)hdr, want);
    json_decref(got);
    json_decref(claims);
    free(tok);
}
END_TEST

START_TEST(alg_none_is_refused)
{
    char *p = s_payload(s_now, s_now + 900);
    const char *kid = bx_jwt_ring_kid(s_ring);
    const char *algs[] = {"none", "None", "NONE", "nOnE", ""};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        char *h = s_header(algs[i], kid);
        char *unsigned_tok = s_forge(h, p, 0, NULL, 0);
        s_refused(unsigned_tok, "not a compact JWS"); /* empty signature segment */
        char *signed_tok = s_forge(h, p, 1, NULL, 0);
        s_refused(signed_tok, "algorithm not allowed");
        free(unsigned_tok);
        free(signed_tok);
        free(h);
    }
    char *noalg = s_forge("{\"typ\":\"JWT\"}", p, 1, NULL, 0);
    s_refused(noalg, "algorithm not allowed");
    free(noalg);
    free(p);
}
END_TEST

START_TEST(hs256_keyed_with_the_public_key_is_refused)
{
    char *p = s_payload(s_now, s_now + 900);
    char *h = s_header("HS256", bx_jwt_ring_kid(s_ring));
    /* the classic confusion attack: the public key, raw and as JWKS text, as HMAC secret */
    char *t1 = s_forge(h, p, 2, s_ring->keys[0].pub, 32);
    char *jwks = bx_jwt_jwks(s_ring);
    char *t2 = s_forge(h, p, 2, jwks, strlen(jwks));
    s_refused(t1, "algorithm not allowed");
    s_refused(t2, "algorithm not allowed");
    const char *others[] = {"RS256", "ES256", "HS512", "Ed25519", "eddsa", "EdDSA "};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char *ho = s_header(others[i], bx_jwt_ring_kid(s_ring));
        char *t = s_forge(ho, p, 1, NULL, 0);
        s_refused(t, "algorithm not allowed");
        free(t);
        free(ho);
    }
    free(t1);
    free(t2);
    free(jwks);
    free(h);
    free(p);
}
END_TEST

START_TEST(unknown_or_missing_kid_is_refused)
{
    char *p = s_payload(s_now, s_now + 900);
    char *h = s_header("EdDSA", "0000000000000000");
    char *t = s_forge(h, p, 1, NULL, 0);
    s_refused(t, "unknown kid");
    char *t2 = s_forge("{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", p, 1, NULL, 0);
    s_refused(t2, "kid missing");
    char *t3 = s_forge("{\"alg\":\"EdDSA\",\"kid\":7}", p, 1, NULL, 0);
    s_refused(t3, "kid missing");
    free(t);
    free(t2);
    free(t3);
    free(h);
    free(p);
}
END_TEST

/* Signs claims (stolen) with the ring and checks the verifier's verdict. */
static void s_check_claims_case(json_t *claims, const char *reason)
{
    char *t = bx_jwt_sign(s_ring, claims);
    ck_assert_ptr_nonnull(t);
    if (reason)
        s_refused(t, reason);
    else
        ck_assert_int_eq(bx_jwt_verify(s_ring, t, s_now, NULL), BX_OK);
    free(t);
    json_decref(claims);
}

START_TEST(time_claims_are_enforced_with_small_leeway)
{
    s_check_claims_case(s_claims(s_now - 4000, s_now - 3600), "token expired");
    s_check_claims_case(s_claims(s_now - 100, s_now - BX_JWT_LEEWAY_S), "token expired");
    s_check_claims_case(s_claims(s_now - 100, s_now - BX_JWT_LEEWAY_S + 5), NULL);
    s_check_claims_case(s_claims(s_now + 3600, s_now + 7200), "token issued in the future");
    json_t *c = s_claims(s_now, s_now + 900);
    json_object_set_new(c, "nbf", json_integer(s_now + 3600));
    s_check_claims_case(c, "token not valid yet");
    c = s_claims(s_now, s_now + 900);
    json_object_set_new(c, "nbf", json_integer(s_now));
    s_check_claims_case(c, NULL);
    c = s_claims(s_now, s_now + 900);
    json_object_set_new(c, "nbf", json_string("now"));
    s_check_claims_case(c, "nbf must be an integer");
    c = s_claims(s_now, s_now + 900);
    json_object_del(c, "exp");
    s_check_claims_case(c, "exp and iat must be integers");
    c = s_claims(s_now, s_now + 900);
    json_object_set_new(c, "exp", json_real((double)s_now + 900.5));
    s_check_claims_case(c, "exp and iat must be integers");
    c = s_claims(s_now, s_now + 900);
    json_object_set_new(c, "exp", json_string("9999999999"));
    s_check_claims_case(c, "exp and iat must be integers");
    c = s_claims(s_now, s_now + 900);
    json_object_del(c, "iat");
    s_check_claims_case(c, "exp and iat must be integers");
}
END_TEST

START_TEST(wrong_or_missing_issuer_is_refused)
{
    json_t *c = s_claims(s_now, s_now + 900);
    json_object_set_new(c, "iss", json_string("evil"));
    s_check_claims_case(c, "wrong issuer");
    c = s_claims(s_now, s_now + 900);
    json_object_del(c, "iss");
    s_check_claims_case(c, "wrong issuer");
    c = s_claims(s_now, s_now + 900);
    json_object_set_new(c, "iss", json_integer(1));
    s_check_claims_case(c, "wrong issuer");
}
END_TEST

START_TEST(tampered_payload_or_signature_is_refused)
{
    json_t *claims = s_claims(s_now, s_now + 900);
    char *tok = bx_jwt_sign(s_ring, claims);
    char *p2 = s_payload(s_now, s_now + 86400); /* longer life, same everything else */
    char *h = s_header("EdDSA", bx_jwt_ring_kid(s_ring));
    char *forged = s_forge(h, p2, 0, NULL, 0);
    size_t n = strlen(forged);
    /* graft the genuine signature onto the altered payload */
    forged = realloc(forged, n + 128);
    bx_strlcpy(forged + n, strrchr(tok, '.') + 1, 128);
    s_refused(forged, "bad signature");
    /* flip one character of the signature, at several places */
    char *sig = strrchr(tok, '.') + 1;
    for (size_t i = 0; i + 1 < strlen(sig); i += 7) {
        char *t = strdup(tok);
        char *s = strrchr(t, '.') + 1;
        s[i] = s[i] == 'A' ? 'B' : 'A';
        s_refused(t, NULL);
        free(t);
    }
    /* signature of the wrong length */
    char *t = strdup(tok);
    strrchr(t, '.')[5] = '\0';
    s_refused(t, "bad signature");
    free(t);
    free(forged);
    free(h);
    free(p2);
    free(tok);
    json_decref(claims);
}
END_TEST

START_TEST(truncations_never_verify)
{
    json_t *claims = s_claims(s_now, s_now + 900);
    char *tok = bx_jwt_sign(s_ring, claims);
    size_t n = strlen(tok);
    for (size_t i = 0; i < n; i++) {
        char *t = strndup(tok, i);
        s_refused(t, NULL);
        free(t);
    }
    free(tok);
    json_decref(claims);
}
END_TEST

START_TEST(garbage_and_bad_encodings_are_refused)
{
    char big[5001];
    memset(big, 'a', 5000);
    big[5000] = '\0';
    s_refused(big, "token too long");
    big[1000] = '.';
    big[2000] = '.';
    s_refused(big, "token too long");
    big[4096] = '\0';
    s_refused(big, NULL);
    s_refused(NULL, "no token");
    s_refused("", "no token");
    s_refused("abc", "not a compact JWS");
    s_refused("a.b", "not a compact JWS");
    s_refused("a.b.c.d", "not a compact JWS");
    s_refused("..", "not a compact JWS");
    s_refused("eyJ!!!.e30.AAAA", "header is not a base64url JSON object");
    s_refused("eyJhbGciOiJFZERTQSJ9.e30.AAAA", "kid missing");
    /* padded base64url and standard-alphabet characters are not strict base64url */
    s_refused("eyJhbGciOiJFZERTQSJ9==.e30.AAAA", "header is not a base64url JSON object");
    s_refused("eyJ+bGciOiJFZERTQSJ9.e30.AAAA", "header is not a base64url JSON object");
    s_refused("W10.e30.AAAA", "header is not a base64url JSON object");    /* [] */
    s_refused("bnVsbA.e30.AAAA", "header is not a base64url JSON object"); /* null */
    /* duplicate members are ambiguous: refused */
    char *dup = s_forge("{\"alg\":\"none\",\"alg\":\"EdDSA\",\"kid\":\"x\"}", "{}", 1, NULL, 0);
    s_refused(dup, "header is not a base64url JSON object");
    free(dup);
    char *crit = s_forge("{\"alg\":\"EdDSA\",\"crit\":[\"exp\"],\"kid\":\"x\"}", "{}", 1, NULL, 0);
    s_refused(crit, "critical header extensions are not supported");
    free(crit);
    char *h = s_header("EdDSA", bx_jwt_ring_kid(s_ring));
    char *arr = s_forge(h, "[1,2]", 1, NULL, 0);
    s_refused(arr, "claims are not a base64url JSON object");
    char *nul = s_forge(h, "{\"iss\":\"a\\u0000b\"}", 1, NULL, 0);
    s_refused(nul, "claims are not a base64url JSON object");
    free(arr);
    free(nul);
    free(h);
}
END_TEST

START_TEST(random_mutations_never_crash_or_verify)
{
    json_t *claims = s_claims(s_now, s_now + 900);
    char *tok = bx_jwt_sign(s_ring, claims);
    size_t n = strlen(tok);
    unsigned seed = 12345;
    for (int round = 0; round < 3000; round++) {
        char *t = strdup(tok);
        int edits = 1 + (int)(rand_r(&seed) % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = rand_r(&seed) % n;
            char c = (char)(1 + rand_r(&seed) % 255);
            if (c == t[at])
                c = (char)(c == 'x' ? 'y' : 'x');
            t[at] = c;
        }
        s_refused(t, NULL);
        free(t);
    }
    free(tok);
    json_decref(claims);
}
END_TEST

START_TEST(jwks_has_the_rfc_8037_shape)
{
    char *text = bx_jwt_jwks(s_ring);
    json_t *doc = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    json_t *keys = json_object_get(doc, "keys");
    ck_assert_int_eq((int)json_array_size(keys), 1);
    json_t *k = json_array_get(keys, 0);
    ck_assert_int_eq((int)json_object_size(k), 6);
    ck_assert_str_eq(bx_json_str(k, "kty"), "OKP");
    ck_assert_str_eq(bx_json_str(k, "crv"), "Ed25519");
    ck_assert_str_eq(bx_json_str(k, "use"), "sig");
    ck_assert_str_eq(bx_json_str(k, "alg"), "EdDSA");
    ck_assert_str_eq(bx_json_str(k, "kid"), bx_jwt_ring_kid(s_ring));
    unsigned char pub[40];
    const char *x = bx_json_str(k, "x");
    ck_assert_int_eq(bx_b64url_decode(x, strlen(x), pub, sizeof pub), 32);
    char hex[65];
    bx_sha256_hex(pub, 32, hex);
    ck_assert_int_eq(strncmp(hex, bx_jwt_ring_kid(s_ring), 16), 0);
    /* no private material */
    ck_assert_ptr_null(json_object_get(k, "d"));
    json_decref(doc);
    free(text);
}
END_TEST

/* Sets the mtime of dir/jwt-<kid>.pem to t. */
static void s_touch(const char *dir, const char *kid, time_t t)
{
    char path[256];
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    snprintf(path, sizeof path, "%s/jwt-%s.pem", dir, kid);
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

START_TEST(newest_key_signs_and_old_keys_still_verify)
{
    char old_kid[17], new_kid[17];
    bx_strlcpy(old_kid, bx_jwt_ring_kid(s_ring), sizeof old_kid);
    json_t *claims = s_claims(s_now, s_now + 900);
    char *old_tok = bx_jwt_sign(s_ring, claims);
    ck_assert_int_eq(bx_jwt_keygen(s_dir, new_kid), BX_OK);
    s_touch(s_dir, old_kid, 1000000000);
    s_touch(s_dir, new_kid, 2000000000);
    bx_jwt_ring_t *ring2 = bx_jwt_ring_load(s_dir, S_ISS);
    ck_assert_ptr_nonnull(ring2);
    ck_assert_int_eq(bx_jwt_ring_size(ring2), 2);
    ck_assert_str_eq(bx_jwt_ring_kid(ring2), new_kid);
    ck_assert_int_eq(bx_jwt_verify(ring2, old_tok, s_now, NULL), BX_OK);
    char *new_tok = bx_jwt_sign(ring2, claims);
    ck_assert_int_eq(bx_jwt_verify(ring2, new_tok, s_now, NULL), BX_OK);
    /* the old ring does not know the new key */
    ck_assert_int_eq(bx_jwt_verify(s_ring, new_tok, s_now, NULL), BX_EUNAUTHORIZED);
    char *jwks = bx_jwt_jwks(ring2);
    json_t *doc = json_loads(jwks, 0, NULL);
    ck_assert_int_eq((int)json_array_size(json_object_get(doc, "keys")), 2);
    ck_assert_str_eq(bx_json_str(json_array_get(json_object_get(doc, "keys"), 0), "kid"), new_kid);
    json_decref(doc);
    free(jwks);
    free(new_tok);
    free(old_tok);
    json_decref(claims);
    bx_jwt_ring_destroy(&ring2);
    ck_assert_ptr_null(ring2);
    bx_jwt_ring_destroy(&ring2); /* idempotent */
}
END_TEST

/* Writes text to dir/name. */
static void s_write(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(bad_key_files_are_skipped_and_empty_folders_refused)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/bx-jwt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_ptr_null(bx_jwt_ring_load(dir, S_ISS));
    s_write(dir, "jwt-0123456789abcdef.pem", "-----BEGIN PRIVATE KEY-----\nnonsense\n");
    s_write(dir, "notakey.txt", "hello");
    ck_assert_ptr_null(bx_jwt_ring_load(dir, S_ISS));
    /* an RSA key is not an Ed25519 key */
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    char path[256];
    snprintf(path, sizeof path, "%s/jwt-rsa.pem", dir);
    ck_assert_int_eq(s_write_pem(path, rsa), BX_OK);
    EVP_PKEY_free(rsa);
    ck_assert_ptr_null(bx_jwt_ring_load(dir, S_ISS));
    ck_assert_ptr_null(bx_jwt_ring_load("/nonexistent/bx-keys", S_ISS));
    /* a good key beside them loads alone */
    ck_assert_int_eq(bx_jwt_keygen(dir, NULL), BX_OK);
    bx_jwt_ring_t *r = bx_jwt_ring_load(dir, S_ISS);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(bx_jwt_ring_size(r), 1);
    bx_jwt_ring_destroy(&r);
    s_rmdir(dir);
}
END_TEST

START_TEST(key_files_are_private)
{
    char kid[17], path[256];
    struct stat st;
    ck_assert_int_eq(bx_jwt_keygen(s_dir, kid), BX_OK);
    snprintf(path, sizeof path, "%s/jwt-%s.pem", s_dir, kid);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq((int)(st.st_mode & 0777), 0600);
}
END_TEST

/* Runs tests/verify_jwt.py (beside this file) on token; returns its exit status. */
static int s_pyjwt(const char *token, const char *jwks, const char *iss)
{
    char tpath[128], jpath[128], cmd[1024], dir[512];
    const char *py = getenv("BX_PYTHON3") ? getenv("BX_PYTHON3") : "/usr/bin/python3";
    if (getenv("BX_SOURCE_DIR")) {
        snprintf(dir, sizeof dir, "%s/tests", getenv("BX_SOURCE_DIR"));
    } else {
        bx_strlcpy(dir, __FILE__, sizeof dir);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
    }
    snprintf(tpath, sizeof tpath, "%s/token", s_dir);
    snprintf(jpath, sizeof jpath, "%s/jwks.json", s_dir);
    s_write(s_dir, "token", token);
    s_write(s_dir, "jwks.json", jwks);
    snprintf(cmd, sizeof cmd, "'%s' '%s/verify_jwt.py' '%s' '%s' '%s' >/dev/null", py, dir, tpath,
             jpath, iss);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

START_TEST(pyjwt_verifies_our_tokens)
{
    json_t *claims = s_claims(s_now, s_now + 900);
    char *tok = bx_jwt_sign(s_ring, claims);
    char *jwks = bx_jwt_jwks(s_ring);
    ck_assert_msg(s_pyjwt(tok, jwks, S_ISS) == 0,
                  "PyJWT refused our token (is python3-jwt with python3-cryptography installed?)");
    /* and the checker is real: it refuses a wrong issuer and a tampered signature */
    ck_assert_int_eq(s_pyjwt(tok, jwks, "someone-else"), 1);
    char *sig = strrchr(tok, '.') + 1;
    sig[3] = sig[3] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(s_pyjwt(tok, jwks, S_ISS), 1);
    free(jwks);
    free(tok);
    json_decref(claims);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sign_verify_round_trip);
    tcase_add_test(tc, alg_none_is_refused);
    tcase_add_test(tc, hs256_keyed_with_the_public_key_is_refused);
    tcase_add_test(tc, unknown_or_missing_kid_is_refused);
    tcase_add_test(tc, time_claims_are_enforced_with_small_leeway);
    tcase_add_test(tc, wrong_or_missing_issuer_is_refused);
    tcase_add_test(tc, tampered_payload_or_signature_is_refused);
    tcase_add_test(tc, truncations_never_verify);
    tcase_add_test(tc, garbage_and_bad_encodings_are_refused);
    tcase_add_test(tc, random_mutations_never_crash_or_verify);
    tcase_add_test(tc, jwks_has_the_rfc_8037_shape);
    tcase_add_test(tc, newest_key_signs_and_old_keys_still_verify);
    tcase_add_test(tc, bad_key_files_are_skipped_and_empty_folders_refused);
    tcase_add_test(tc, key_files_are_private);
    tcase_add_test(tc, pyjwt_verifies_our_tokens);
    suite_add_tcase(s, tc);
    return s;
}
