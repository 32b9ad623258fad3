/* fd_auth: verifies bearer tokens (EdDSA JWT) and checks their session is not revoked.
 * Verified tokens are cached per thread by hash, so the Ed25519 check runs once per token
 * per thread; the session check (PostgreSQL) is repeated at most once a second per token,
 * and at once after this process revokes anything, so a logout is effective here at once
 * and on every other frontdoor within a second. */
#include "fd_auth.h"

#include <openssl/sha.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_util.h"
#include "fd_internal.h"

#define S_CACHE_SLOTS 1024     /* per thread, direct-mapped */
#define S_RECHECK_MS 1000      /* revocation re-check interval */

typedef struct {
    unsigned char hash[32];    /* SHA-256 of the token */
    fd_principal_t who;        /* verified claims */
    int64_t checked_ms;        /* monotonic time of the last revocation check */
    unsigned gen;              /* revocation generation at that check */
    int used;                  /* slot holds an entry */
} s_slot_t;

static bx_jwt_ring_t *s_ring;
static char *s_jwks;
static atomic_uint s_rev_gen;

bx_err_t fd_auth_init(void)
{
    s_ring = bx_jwt_ring_load(bx_config_str("jwt_key_dir"), bx_config_str("jwt_issuer"));
    if (!s_ring) {
        BX_ERROR("could not load signing keys from %s (run bxctl keygen)", bx_config_str("jwt_key_dir"));
        return BX_EINVAL;
    }
    s_jwks = bx_jwt_jwks(s_ring);
    return s_jwks ? BX_OK : BX_ENOMEM;
}

void fd_auth_shutdown(void)
{
    bx_jwt_ring_destroy(&s_ring);
    free(s_jwks);
    s_jwks = NULL;
}

const bx_jwt_ring_t *fd_auth_ring(void)
{
    return s_ring;
}

const char *fd_auth_jwks(void)
{
    return s_jwks;
}

static void s_copy_claim(json_t *claims, const char *name, char *dst, size_t cap)
{
    const char *v = json_string_value(json_object_get(claims, name));
    bx_strlcpy(dst, v ? v : "", cap);
}

/* Verifies the signature and claims; fills who. */
static bx_err_t s_verify(const char *token, fd_principal_t *who)
{
    json_t *claims = NULL;
    const char *why = NULL;
    bx_err_t err = bx_jwt_verify_why(s_ring, token, bx_now_ms() / 1000, &claims, &why);
    if (err) {
        BX_INFO("bearer token refused: %s", why ? why : "invalid");
        return BX_EUNAUTHORIZED;
    }
    memset(who, 0, sizeof *who);
    s_copy_claim(claims, "sub", who->user_id, sizeof who->user_id);
    s_copy_claim(claims, "sid", who->session_id, sizeof who->session_id);
    s_copy_claim(claims, "role", who->role, sizeof who->role);
    s_copy_claim(claims, "jti", who->jti, sizeof who->jti);
    who->exp = json_integer_value(json_object_get(claims, "exp"));
    json_t *orgs = json_object_get(claims, "orgs");
    size_t i;
    json_t *org;
    json_array_foreach(orgs, i, org) {
        const char *o = json_string_value(org);
        if (who->norgs < FD_MAX_ORGS && o && bx_uuid_valid(o))
            bx_strlcpy(who->orgs[who->norgs++], o, sizeof who->orgs[0]);
    }
    json_decref(claims);
    if (!bx_uuid_valid(who->user_id) || !bx_uuid_valid(who->session_id) || !who->role[0])
        return BX_EUNAUTHORIZED;
    who->authenticated = 1;
    return BX_OK;
}

/* BX_OK when the session is active in PostgreSQL (the source of truth for sessions),
 * BX_EUNAUTHORIZED when it is revoked or expired, BX_EUNAVAILABLE when PostgreSQL cannot
 * tell: the token may be fine, so the client is told to retry, not to log in again. */
static bx_err_t s_session_active(fd_req_t *req, const char *sid)
{
    bx_err_t err = BX_EUNAVAILABLE;
    const char *p[] = {sid};
    if (!req->t->pg)
        return BX_EUNAVAILABLE;
    PGresult *res = bx_pg_query(req->t->pg, "session_active", 1, p, &err);
    if (res)
        err = PQntuples(res) == 1 ? BX_OK : BX_EUNAUTHORIZED;
    PQclear(res);
    return err == BX_OK || err == BX_EUNAUTHORIZED ? err : BX_EUNAVAILABLE;
}

bx_err_t fd_auth_request(fd_req_t *req)
{
    const char *h = fd_header(req, "Authorization");
    memset(&req->who, 0, sizeof req->who);
    if (!h)
        return BX_OK;
    if (strncasecmp(h, "Bearer ", 7) || strlen(h + 7) > BX_JWT_MAX_TOKEN)
        return BX_EUNAUTHORIZED;
    const char *token = h + 7;
    if (!req->t->auth_cache && !(req->t->auth_cache = calloc(S_CACHE_SLOTS, sizeof(s_slot_t))))
        return BX_ENOMEM;
    s_slot_t *cache = req->t->auth_cache;
    unsigned char hash[32];
    SHA256((const unsigned char *)token, strlen(token), hash);
    s_slot_t *slot = &cache[(hash[0] | hash[1] << 8) % S_CACHE_SLOTS];
    int64_t now = bx_mono_ms();
    unsigned gen = atomic_load(&s_rev_gen);
    if (!slot->used || memcmp(slot->hash, hash, 32)) {
        fd_principal_t who;
        if (s_verify(token, &who))
            return BX_EUNAUTHORIZED;
        memcpy(slot->hash, hash, 32);
        slot->who = who;
        slot->checked_ms = 0;
        slot->used = 1;
    }
    if (slot->who.exp <= bx_now_ms() / 1000) {
        slot->used = 0;
        return BX_EUNAUTHORIZED;
    }
    if (now - slot->checked_ms >= S_RECHECK_MS || slot->gen != gen) {
        bx_err_t err = s_session_active(req, slot->who.session_id);
        if (err == BX_EUNAUTHORIZED)
            slot->used = 0;
        if (err)
            return err;
        slot->checked_ms = now;
        slot->gen = gen;
    }
    req->who = slot->who;
    return BX_OK;
}

bx_err_t fd_auth_revoke_session(fd_req_t *req, const char *sid)
{
    (void)req;
    (void)sid;
    /* Every thread of this process re-checks its cached tokens on its next request. */
    atomic_fetch_add(&s_rev_gen, 1);
    return BX_OK;
}
