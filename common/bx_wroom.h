/* bx_wroom: the waiting room's shared vocabulary, used by the frontdoor (join, position,
 * the hold gate) and by the gatekeeper in bx-worker-waitlist: Redis key names, queue
 * scores (the pre-sale lottery and FIFO), the signed queue and admission tokens (EdDSA
 * JWTs from the bx_jwt ring, so anyone holding the JWKS can verify an admission token
 * offline), and the spent marker a completed booking sets. Nothing here keeps state. */
#ifndef BX_WROOM_H
#define BX_WROOM_H

#include <stddef.h>
#include <stdint.h>

#include "bx_err.h"
#include "bx_jwt.h"
#include "bx_pg.h"
#include "bx_redis.h"

#define BX_WROOM_QUEUE "wr-queue" /* "tok" claim of a queue token */
#define BX_WROOM_ADMIT "wr-admit" /* "tok" claim of an admission token */
#define BX_WROOM_FIFO_BASE                                                                         \
    281474976710656.0                    /* 2^48: every FIFO score is above every lottery score */
#define BX_WROOM_QUEUE_TTL_S (7 * 86400) /* lifetime of a queue token */
#define BX_WROOM_KEY_MAX     128         /* longest Redis key built here, with NUL */

/* The claims of either token. Strings are NUL-terminated; unused ones are "". */
typedef struct {
    char user_id[37];  /* sub: the user the place or admission belongs to */
    char event_id[37]; /* evt: the event */
    char entry_id[37]; /* ent: the waitroom_entries row */
    char jti[37];      /* jti: admission token id (admission tokens only) */
    int prequeue;      /* pre: joined before the sale started (queue tokens only) */
    long long seq;     /* seq: arrival number (queue tokens only) */
    int64_t iat;       /* issued at, epoch seconds */
    int64_t exp;       /* expires at, epoch seconds */
} bx_wroom_claims_t;

/* Writes the Redis key "bx:wr:{<event_id>}:<part>" into out (BX_WROOM_KEY_MAX bytes). The
 * braces keep every key of one event in one Redis Cluster slot, so scripts may touch
 * several. Returns out. */
char *bx_wroom_key(char out[BX_WROOM_KEY_MAX], const char *event_id, const char *part);

/* The lottery score of a pre-sale entry: the first 48 bits, big-endian, of
 * HMAC-SHA256(key = the 32 bytes whose lower-case hex is seed_hex, message = the entry id
 * as 36 lower-case characters). Lower scores go first; equal scores by entry id. Returns
 * BX_OK, or BX_EINVAL when seed_hex is not 64 hex characters. */
bx_err_t bx_wroom_lottery(const char *seed_hex, const char *entry_id, double *score);

/* The queue score of an entry: its lottery score when prequeue, else
 * BX_WROOM_FIFO_BASE + seq. Returns BX_EINVAL as bx_wroom_lottery does. */
bx_err_t bx_wroom_score(const char *seed_hex, const char *entry_id, int prequeue, long long seq,
                        double *score);

/* Signs a queue token (tok "wr-queue": sub, evt, ent, pre, seq, iat, exp) or an admission
 * token (tok "wr-admit": sub, evt, ent, jti, iat, exp) with the ring's signing key. Returns
 * the compact token (caller frees) or NULL. */
char *bx_wroom_sign(const bx_jwt_ring_t *ring, const char *kind, const bx_wroom_claims_t *c);

/* Verifies token as a kind token at time now: signature, issuer, expiry (bx_jwt_verify),
 * then tok == kind and well-formed claims. Fills *out on BX_OK. Returns BX_EUNAUTHORIZED
 * for anything else; *why (may be NULL) receives a static lower-case reason for logs. */
bx_err_t bx_wroom_verify(const bx_jwt_ring_t *ring, const char *token, const char *kind,
                         int64_t now, bx_wroom_claims_t *out, const char **why);

/* Marks the admission token jti of event_id as spent by a completed booking: the gate
 * refuses it from now on and its shopper stops counting as active. exp is the token's
 * expiry (the marker lives until then plus a minute; 0 when unknown: the longest token
 * lifetime, two hours, plus a minute). With pg (may be NULL; a connection
 * of the caller's thread, inside or outside a transaction) the entry is recorded as spent
 * in PostgreSQL too. Idempotent. Returns BX_OK, BX_EUNAVAILABLE when Redis cannot be
 * written, or the database error. */
bx_err_t bx_wroom_spend(bx_redis_t *redis, bx_pg_t *pg, const char *event_id, const char *jti,
                        int64_t exp);

#endif
