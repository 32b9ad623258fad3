/* bx_ticket_keys: the ticket key ring in PostgreSQL (ticket_keys, migration 0012): the
 * one signing key (created by whichever process needs it first), every public key by kid
 * for verification, and the published JSON Web Key Set. Keys returned are the caller's
 * (bx_ticket_key_destroy); the connection is the caller's thread's. */
#ifndef BX_TICKET_KEYS_H
#define BX_TICKET_KEYS_H

#include <jansson.h>

#include "bx_pg.h"
#include "bx_ticket.h"

/* The signing key into *out, generating and inserting one when there is none (in the
 * caller's transaction when one is open: a racing creator's key wins and is returned).
 * Returns BX_OK, or the database error (BX_ERETRY included) / BX_EINTERNAL with *out
 * NULL. */
bx_err_t bx_ticket_keys_signer(bx_pg_t *pg, bx_ticket_key_t **out);

/* The verify-only key of kid into *out. Returns BX_OK, BX_ENOTFOUND when no such key, or
 * the database error, with *out NULL on failure. */
bx_err_t bx_ticket_keys_get(bx_pg_t *pg, const char *kid, bx_ticket_key_t **out);

/* Every public key as {"keys":[JWK...]}, signing key first, into *out (new reference).
 * Returns BX_OK or the database error. */
bx_err_t bx_ticket_keys_jwks(bx_pg_t *pg, json_t **out);

/* Retires the signing key, so that the next bx_ticket_keys_signer makes a new one; the
 * old key keeps verifying. retired (may be NULL, 17 bytes) receives the retired kid or
 * "". Returns BX_OK or the database error. */
bx_err_t bx_ticket_keys_rotate(bx_pg_t *pg, char *retired);

#endif
