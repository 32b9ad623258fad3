/* bx_jwt: EdDSA (Ed25519) JSON Web Tokens: a key ring loaded from jwt_key_dir, signing
 * with the newest key, strict verification against every key of the ring, and the
 * public JSON Web Key Set. After it is loaded a ring is immutable, so one ring may be
 * shared read-only by every thread of a process. */
#ifndef BX_JWT_H
#define BX_JWT_H

#include <jansson.h>
#include <stdint.h>

#include "bx_err.h"

#define BX_JWT_MAX_TOKEN 4096 /* longest token accepted or produced, in bytes */
#define BX_JWT_MAX_KEYS  16   /* keys kept in a ring; older files beyond this are skipped */
#define BX_JWT_LEEWAY_S  30   /* clock skew tolerated on exp, nbf and iat */
#define BX_JWT_KID_LEN   16   /* hex characters of a key id */

typedef struct bx_jwt_ring bx_jwt_ring_t;

/* Loads every file named jwt-<kid>.pem in dir (Ed25519 private keys in PEM). The kid of
 * a key is the first 16 hex characters of SHA-256 over its raw 32-byte public key; a file
 * whose name disagrees is loaded under the computed kid, with a warning. The newest file
 * by mtime signs; all verify. issuer (copied) is the iss claim verification requires.
 * Returns NULL, with the reason logged, when dir cannot be read or holds no usable key. */
bx_jwt_ring_t *bx_jwt_ring_load(const char *dir, const char *issuer);

/* Frees the ring; *self_p becomes NULL. Safe on NULL. */
void bx_jwt_ring_destroy(bx_jwt_ring_t **self_p);

/* Generates a new Ed25519 key and writes it to dir/jwt-<kid>.pem (mode 0600, written to a
 * temporary file and renamed, so a reader never sees half a key). kid_out (may be NULL)
 * receives the kid. Returns BX_OK, or an error with the reason logged. */
bx_err_t bx_jwt_keygen(const char *dir, char kid_out[BX_JWT_KID_LEN + 1]);

/* For tests and first runs: bx_jwt_keygen into dir, then bx_jwt_ring_load(dir, issuer).
 * Returns the ring or NULL. */
bx_jwt_ring_t *bx_jwt_ring_generate(const char *dir, const char *issuer);

/* Kid of the signing key (borrowed from the ring). */
const char *bx_jwt_ring_kid(const bx_jwt_ring_t *ring);

/* Number of keys in the ring. */
int bx_jwt_ring_size(const bx_jwt_ring_t *ring);

/* Issuer the ring verifies (borrowed). */
const char *bx_jwt_ring_issuer(const bx_jwt_ring_t *ring);

/* Signs claims (borrowed, must be an object) with the ring's newest key under the header
 * {"alg":"EdDSA","typ":"JWT","kid":...}. The claims are signed as given: the caller sets
 * iss, iat, exp and the rest. Returns the compact token (caller frees) or NULL on failure
 * or when the token would exceed BX_JWT_MAX_TOKEN. */
char *bx_jwt_sign(const bx_jwt_ring_t *ring, json_t *claims);

/* Verifies token at time now (epoch seconds). Refused, with BX_EUNAUTHORIZED: tokens
 * longer than BX_JWT_MAX_TOKEN, not three strict base64url segments, a header that is
 * not a JSON object, alg other than "EdDSA" ("none", HS256 and the rest), typ other than
 * "JWT" when present, a crit header, an unknown kid, a bad signature, claims that are not
 * a JSON object, a missing or non-integer exp or iat, exp in the past, nbf or iat in the
 * future (each with BX_JWT_LEEWAY_S of leeway), iss other than the ring's issuer. On
 * BX_OK *claims_out (may be NULL) receives a new reference to the claims; otherwise it is
 * set to NULL. Never crashes on any input. */
bx_err_t bx_jwt_verify(const bx_jwt_ring_t *ring, const char *token, int64_t now,
                       json_t **claims_out);

/* bx_jwt_verify that also reports, in *why (may be NULL; static lower-case text), the
 * reason a token was refused: for logs and tests, never for clients. */
bx_err_t bx_jwt_verify_why(const bx_jwt_ring_t *ring, const char *token, int64_t now,
                           json_t **claims_out, const char **why);

/* The JSON Web Key Set of the ring: {"keys":[{"kty":"OKP","crv":"Ed25519","x":...,
 * "kid":...,"use":"sig","alg":"EdDSA"}, ...]}, signing key first. Caller frees; NULL on
 * allocation failure. */
char *bx_jwt_jwks(const bx_jwt_ring_t *ring);

#endif
