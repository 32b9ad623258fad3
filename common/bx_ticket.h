/* bx_ticket: the signed ticket payload a QR code carries (docs/tickets.md):
 *
 *     BX1.<kid>.<base64url(body)>.<base64url(Ed25519 signature)>
 *
 * body (binary, big-endian): ticket id (16 bytes), event id (16), issued epoch seconds
 * (u32), serial (u16), then the seat label (0..BX_TICKET_SEAT_MAX bytes of UTF-8, "GA" for
 * general admission). The signature covers the ASCII text "BX1.<kid>.<body>" exactly as
 * it appears, so neither the kid nor any encoding variant can be swapped. kid: the first
 * 8 hex characters of SHA-256 over the raw 32-byte public key. About 160 characters for a
 * short seat label: a version 7-8 QR code, easy for a phone.
 *
 * Keys are opaque values made from PEM (private) or a raw public key; after it is made a
 * key is immutable, so it may be shared read-only between threads. Nothing here touches
 * the database (bx_ticket_keys does). */
#ifndef BX_TICKET_H
#define BX_TICKET_H

#include <jansson.h>
#include <stdint.h>

#include "bx_err.h"

#define BX_TICKET_KID_LEN  8   /* hex characters of a kid */
#define BX_TICKET_SEAT_MAX 64  /* longest seat label, bytes */
#define BX_TICKET_MAX      256 /* longest payload text accepted or produced */
#define BX_TICKET_PUB_B64  43  /* base64url characters of a raw Ed25519 public key */

/* What a ticket payload says. */
typedef struct {
    char ticket_id[37];                 /* ticket UUID */
    char event_id[37];                  /* event UUID */
    char seat[BX_TICKET_SEAT_MAX + 1];  /* seat label, or "GA" */
    int serial;                         /* 1.. within the booking (<= 65535) */
    int64_t issued;                     /* epoch seconds (< 2^32) */
    char kid[BX_TICKET_KID_LEN + 1];    /* key that signed it */
} bx_ticket_claims_t;

typedef struct bx_ticket_key bx_ticket_key_t;

/* A new Ed25519 key pair, or NULL on failure. */
bx_ticket_key_t *bx_ticket_key_generate(void);

/* A signing key from its PEM private key, or NULL when pem is not an Ed25519 private key. */
bx_ticket_key_t *bx_ticket_key_from_pem(const char *pem);

/* A verify-only key from the base64url raw public key (43 characters). Returns NULL when
 * pub is not one; when kid is not NULL it must equal the key's computed kid, else NULL. */
bx_ticket_key_t *bx_ticket_key_from_public(const char *pub, const char *kid);

/* Frees the key (private bytes included); *self_p becomes NULL. Safe on NULL. */
void bx_ticket_key_destroy(bx_ticket_key_t **self_p);

/* The kid and the base64url raw public key (borrowed from the key). */
const char *bx_ticket_key_kid(const bx_ticket_key_t *key);
const char *bx_ticket_key_public(const bx_ticket_key_t *key);

/* The PEM private key (caller frees and should cleanse), or NULL for a verify-only key. */
char *bx_ticket_key_pem(const bx_ticket_key_t *key);

/* The public key as a JWK {"kty":"OKP","crv":"Ed25519","x","kid","use":"sig",
 * "alg":"EdDSA"}: a new reference, or NULL. */
json_t *bx_ticket_key_jwk(const bx_ticket_key_t *key);

/* Signs c (its kid is ignored: the key's is used). Returns the payload text (caller
 * frees), or NULL when c is invalid (ids not UUIDs, serial outside 1..65535, issued
 * outside 0..2^32-1, seat empty, too long or with control characters) or signing fails. */
char *bx_ticket_sign(const bx_ticket_key_t *key, const bx_ticket_claims_t *c);

/* Reads payload's structure into *c without checking the signature (to find the kid, or
 * for display). Returns BX_OK or BX_EINVAL for anything that is not a well-formed
 * version 1 payload. Never crashes on any input. */
bx_err_t bx_ticket_parse(const char *payload, bx_ticket_claims_t *c);

/* Parses payload and verifies its signature with key (whose kid must match the
 * payload's). Returns BX_OK with *c filled, BX_EINVAL for a malformed payload,
 * BX_ENOTFOUND when the kid is not key's, BX_EUNAUTHORIZED for a bad signature. c may
 * be NULL. */
bx_err_t bx_ticket_verify(const bx_ticket_key_t *key, const char *payload, bx_ticket_claims_t *c);

/* Verifies payload against a JWK set ({"keys":[...]} as bx_ticket_key_jwk writes):
 * BX_ENOTFOUND when no key has the payload's kid, else as bx_ticket_verify. */
bx_err_t bx_ticket_verify_jwks(json_t *jwks, const char *payload, bx_ticket_claims_t *c);

#endif
