/* bx_wroom: waiting-room keys, lottery and FIFO scores, queue and admission tokens, and
 * the spent marker (see bx_wroom.h and docs/waitroom.md). */
#include "bx_wroom.h"

#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_log.h"
#include "bx_util.h"

#define S_SPENT_GRACE_S   60   /* the spent marker outlives the token by this much */
#define S_TOKEN_TTL_MAX_S 7200 /* longest admission token lifetime (waitroom_config) */

char *bx_wroom_key(char out[BX_WROOM_KEY_MAX], const char *event_id, const char *part)
{
    snprintf(out, BX_WROOM_KEY_MAX, "bx:wr:{%s}:%s", event_id, part);
    return out;
}

static int s_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes 64 lower-case hex characters into 32 bytes. Returns 1 on success. */
static int s_seed_bytes(const char *hex, unsigned char out[32])
{
    if (!hex || strlen(hex) != 64)
        return 0;
    for (int i = 0; i < 32; i++) {
        int hi = s_hexval(hex[2 * i]), lo = s_hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 1;
}

bx_err_t bx_wroom_lottery(const char *seed_hex, const char *entry_id, double *score)
{
    unsigned char key[32], mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!s_seed_bytes(seed_hex, key) || !entry_id)
        return BX_EINVAL;
    if (!HMAC(EVP_sha256(), key, sizeof key, (const unsigned char *)entry_id, strlen(entry_id), mac,
              &len) ||
        len < 6)
        return BX_EINTERNAL;
    uint64_t v = 0;
    for (int i = 0; i < 6; i++)
        v = v << 8 | mac[i];
    *score = (double)v;
    return BX_OK;
}

bx_err_t bx_wroom_score(const char *seed_hex, const char *entry_id, int prequeue, long long seq,
                        double *score)
{
    if (prequeue)
        return bx_wroom_lottery(seed_hex, entry_id, score);
    *score = BX_WROOM_FIFO_BASE + (double)seq;
    return BX_OK;
}

char *bx_wroom_sign(const bx_jwt_ring_t *ring, const char *kind, const bx_wroom_claims_t *c)
{
    int admit = !strcmp(kind, BX_WROOM_ADMIT);
    json_t *claims =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "iss", bx_jwt_ring_issuer(ring), "tok",
                  kind, "sub", c->user_id, "evt", c->event_id, "ent", c->entry_id, "iat",
                  (json_int_t)c->iat, "exp", (json_int_t)c->exp);
    if (!claims)
        return NULL;
    if (admit) {
        json_object_set_new(claims, "jti", json_string(c->jti));
    } else {
        json_object_set_new(claims, "pre", json_boolean(c->prequeue));
        json_object_set_new(claims, "seq", json_integer((json_int_t)c->seq));
    }
    char *token = bx_jwt_sign(ring, claims);
    json_decref(claims);
    return token;
}

/* Copies the UUID claim name into dst; 0 when it is missing or not a UUID. */
static int s_uuid_claim(json_t *claims, const char *name, char dst[37])
{
    const char *v = json_string_value(json_object_get(claims, name));
    if (!v || !bx_uuid_valid(v))
        return 0;
    bx_strlcpy(dst, v, 37);
    return 1;
}

/* The kind-specific claims. Returns a reason, or NULL when they are well-formed. */
static const char *s_kind_claims(json_t *claims, int admit, bx_wroom_claims_t *out)
{
    if (admit)
        return s_uuid_claim(claims, "jti", out->jti) ? NULL : "admission token without a jti";
    json_t *pre = json_object_get(claims, "pre"), *seq = json_object_get(claims, "seq");
    if (!json_is_boolean(pre) || !json_is_integer(seq) || json_integer_value(seq) < 1)
        return "queue token without its place";
    out->prequeue = json_is_true(pre);
    out->seq = (long long)json_integer_value(seq);
    return NULL;
}

bx_err_t bx_wroom_verify(const bx_jwt_ring_t *ring, const char *token, const char *kind,
                         int64_t now, bx_wroom_claims_t *out, const char **why)
{
    json_t *claims = NULL;
    const char *reason = NULL;
    memset(out, 0, sizeof *out);
    if (!token || bx_jwt_verify_why(ring, token, now, &claims, &reason) != BX_OK)
        goto out;
    const char *tok = json_string_value(json_object_get(claims, "tok"));
    if (!tok || strcmp(tok, kind)) {
        reason = "not a token of this kind";
        goto out;
    }
    if (!s_uuid_claim(claims, "sub", out->user_id) || !s_uuid_claim(claims, "evt", out->event_id) ||
        !s_uuid_claim(claims, "ent", out->entry_id)) {
        reason = "token without its user, event or entry";
        goto out;
    }
    reason = s_kind_claims(claims, !strcmp(kind, BX_WROOM_ADMIT), out);
    out->iat = (int64_t)json_integer_value(json_object_get(claims, "iat"));
    out->exp = (int64_t)json_integer_value(json_object_get(claims, "exp"));
out:;
    int ok = claims && !reason;
    json_decref(claims);
    if (why)
        *why = reason ? reason : "invalid token";
    if (!ok) {
        memset(out, 0, sizeof *out);
        return BX_EUNAUTHORIZED;
    }
    return BX_OK;
}

/* KEYS: spent marker, active set, stats hash. ARGV: jti, marker lifetime (s). The first
 * spend removes the shopper from the active set and counts it. */
static const char *s_spend_lua = "if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then\n"
                                 "  redis.call('ZREM', KEYS[2], ARGV[1])\n"
                                 "  redis.call('HINCRBY', KEYS[3], 'spent', 1)\n"
                                 "  return 1\n"
                                 "end\n"
                                 "return 0\n";

bx_err_t bx_wroom_spend(bx_redis_t *redis, bx_pg_t *pg, const char *event_id, const char *jti,
                        int64_t exp)
{
    char spent[BX_WROOM_KEY_MAX], active[BX_WROOM_KEY_MAX], stat[BX_WROOM_KEY_MAX], part[64];
    char ttl[24];
    if (!bx_uuid_valid(event_id) || !bx_uuid_valid(jti))
        return BX_EINVAL;
    int64_t left =
        exp > 0 ? exp - bx_now_ms() / 1000 + S_SPENT_GRACE_S : S_TOKEN_TTL_MAX_S + S_SPENT_GRACE_S;
    snprintf(ttl, sizeof ttl, "%lld", (long long)(left > S_SPENT_GRACE_S ? left : S_SPENT_GRACE_S));
    snprintf(part, sizeof part, "spent:%s", jti);
    const char *argv[] = {bx_wroom_key(spent, event_id, part),
                          bx_wroom_key(active, event_id, "active"),
                          bx_wroom_key(stat, event_id, "stat"), jti, ttl};
    redisReply *r = bx_redis_script(redis, s_spend_lua, 3, 2, argv);
    if (!r) {
        BX_WARN("could not mark admission %s as spent: redis unavailable", jti);
        return BX_EUNAVAILABLE;
    }
    freeReplyObject(r);
    if (!pg)
        return BX_OK;
    const char *p[] = {jti};
    return bx_pg_run(pg, "wr_entry_spend", 1, p);
}
