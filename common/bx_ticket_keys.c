/* bx_ticket_keys: ticket keys stored in PostgreSQL (ticket_keys): signing, lookup by kid,
 * the JWK set, rotation. */
#include "bx_ticket_keys.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "bx_util.h"

/* Reads the signing key; *out stays NULL when there is none. */
static bx_err_t s_load_signer(bx_pg_t *pg, bx_ticket_key_t **out)
{
    bx_err_t err;
    PGresult *res = bx_pg_query(pg, "ticket_key_signing", 0, NULL, &err);
    if (!res)
        return err;
    if (PQntuples(res) == 1) {
        *out = bx_ticket_key_from_pem(bx_pg_val(res, 0, 1));
        err = *out ? BX_OK : BX_EINTERNAL;
    }
    PQclear(res);
    return err;
}

bx_err_t bx_ticket_keys_signer(bx_pg_t *pg, bx_ticket_key_t **out)
{
    *out = NULL;
    bx_err_t err = s_load_signer(pg, out);
    if (err || *out)
        return err;
    bx_ticket_key_t *fresh = bx_ticket_key_generate();
    char *pem = fresh ? bx_ticket_key_pem(fresh) : NULL;
    if (!pem) {
        bx_ticket_key_destroy(&fresh);
        return BX_EINTERNAL;
    }
    const char *p[] = {bx_ticket_key_kid(fresh), pem, bx_ticket_key_public(fresh)};
    err = bx_pg_run(pg, "ticket_key_insert", 3, p);
    OPENSSL_cleanse(pem, strlen(pem));
    free(pem);
    bx_ticket_key_destroy(&fresh);
    if (!err)
        err = s_load_signer(pg, out);
    return err ? err : *out ? BX_OK : BX_EINTERNAL;
}

bx_err_t bx_ticket_keys_get(bx_pg_t *pg, const char *kid, bx_ticket_key_t **out)
{
    bx_err_t err;
    const char *p[] = {kid};
    *out = NULL;
    PGresult *res = bx_pg_query(pg, "ticket_key_public", 1, p, &err);
    if (!res)
        return err;
    if (PQntuples(res) == 1)
        *out = bx_ticket_key_from_public(bx_pg_val(res, 0, 0), kid);
    else
        err = BX_ENOTFOUND;
    PQclear(res);
    return *out ? BX_OK : err ? err : BX_EINTERNAL;
}

bx_err_t bx_ticket_keys_jwks(bx_pg_t *pg, json_t **out)
{
    bx_err_t err;
    *out = NULL;
    PGresult *res = bx_pg_query(pg, "ticket_keys_public", 0, NULL, &err);
    if (!res)
        return err;
    json_t *keys = json_array();
    for (int i = 0; keys && i < PQntuples(res); i++) {
        bx_ticket_key_t *key = bx_ticket_key_from_public(bx_pg_val(res, i, 1), bx_pg_val(res, i, 0));
        if (key)
            json_array_append_new(keys, bx_ticket_key_jwk(key));
        bx_ticket_key_destroy(&key);
    }
    PQclear(res);
    *out = keys ? json_pack("{s:o}", "keys", keys) : NULL;
    return *out ? BX_OK : BX_ENOMEM;
}

bx_err_t bx_ticket_keys_rotate(bx_pg_t *pg, char *retired)
{
    bx_err_t err;
    PGresult *res = bx_pg_query(pg, "ticket_key_rotate", 0, NULL, &err);
    if (!res)
        return err;
    if (retired)
        bx_strlcpy(retired, PQntuples(res) ? bx_pg_val(res, 0, 0) : "", 17);
    PQclear(res);
    return BX_OK;
}
