/* bx_invfeed: versioned, logged and published inventory changes (see bx_invfeed.h). */
#include "bx_invfeed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_json.h"
#include "bx_log.h"
#include "bx_util.h"

#define S_KEY_MAX 96

/* KEYS: version, log. ARGV: channel, change text (a non-empty object), log cap, ttl.
 * The version is spliced in front of the object's first member. */
static const char *s_publish_lua =
    "local v = redis.call('INCR', KEYS[1])\n"
    "local doc = '{\"version\":' .. v .. ',' .. string.sub(ARGV[2], 2)\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], v .. '-1', 'd', doc)\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
    "redis.call('EXPIRE', KEYS[2], ARGV[4])\n"
    "redis.call('PUBLISH', ARGV[1], v .. ' ' .. doc)\n"
    "return v\n";

/* KEYS: version, log. ARGV: after, max. Returns {gap, current, doc...}. */
static const char *s_since_lua =
    "local cur = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "local after = tonumber(ARGV[1])\n"
    "if after < 0 or after >= cur then return {0, cur} end\n"
    "local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)\n"
    "local gap = 0\n"
    "if #first == 0 or tonumber(string.match(first[1][1], '^(%d+)')) > after + 1 then gap = 1 end\n"
    "local out = {gap, cur}\n"
    "for _, e in ipairs(redis.call('XRANGE', KEYS[2], (after + 1) .. '-0', '+', 'COUNT', ARGV[2])) "
    "do\n"
    "  out[#out + 1] = e[2][2]\n"
    "end\n"
    "return out\n";

static int s_keys(const char *event_id, char ver[S_KEY_MAX], char log[S_KEY_MAX])
{
    if (!event_id || !bx_uuid_valid(event_id))
        return 0;
    snprintf(ver, S_KEY_MAX, "bx:inv:{%s}:ver", event_id);
    snprintf(log, S_KEY_MAX, "bx:inv:{%s}:log", event_id);
    return 1;
}

bx_err_t bx_invfeed_publish(bx_redis_t *redis, const char *event_id, json_t *change,
                            long long *version_out)
{
    char ver[S_KEY_MAX], log[S_KEY_MAX], chan[S_KEY_MAX], cap[16], ttl[16];
    if (!s_keys(event_id, ver, log) || !json_is_object(change))
        return BX_EINVAL;
    json_t *doc = json_deep_copy(change);
    if (!doc)
        return BX_ENOMEM;
    json_object_del(doc, "version");
    json_object_set_new(doc, "event_id", json_string(event_id));
    json_object_set_new(doc, "ts", json_integer((json_int_t)bx_now_ms()));
    char *text = bx_json_dump(doc);
    json_decref(doc);
    if (!text)
        return BX_ENOMEM;
    snprintf(chan, sizeof chan, "%s%s", BX_INVFEED_CHANNEL, event_id);
    snprintf(cap, sizeof cap, "%d", BX_INVFEED_LOG_MAX);
    snprintf(ttl, sizeof ttl, "%d", BX_INVFEED_TTL_S);
    const char *argv[] = {ver, log, chan, text, cap, ttl};
    redisReply *r = bx_redis_script(redis, s_publish_lua, 2, 4, argv);
    free(text);
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        freeReplyObject(r);
        BX_WARN("inventory change of %s not published: redis unavailable", event_id);
        return BX_EUNAVAILABLE;
    }
    if (version_out)
        *version_out = r->integer;
    freeReplyObject(r);
    return BX_OK;
}

bx_err_t bx_invfeed_version(bx_redis_t *redis, const char *event_id, long long *version)
{
    char ver[S_KEY_MAX], log[S_KEY_MAX];
    if (!s_keys(event_id, ver, log))
        return BX_EINVAL;
    redisReply *r = bx_redis_cmd(redis, "GET %s", ver);
    if (!r)
        return BX_EUNAVAILABLE;
    *version = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    return BX_OK;
}

bx_err_t bx_invfeed_since(bx_redis_t *redis, const char *event_id, long long after, int max,
                          json_t **out, long long *current, int *gap)
{
    char ver[S_KEY_MAX], log[S_KEY_MAX], a[24], m[16];
    *out = NULL;
    if (!s_keys(event_id, ver, log))
        return BX_EINVAL;
    snprintf(a, sizeof a, "%lld", after);
    snprintf(m, sizeof m, "%d", max > 0 ? max : 1);
    const char *argv[] = {ver, log, a, m};
    redisReply *r = bx_redis_script(redis, s_since_lua, 2, 2, argv);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        freeReplyObject(r);
        return BX_EUNAVAILABLE;
    }
    *gap = (int)r->element[0]->integer;
    *current = r->element[1]->integer;
    *out = json_array();
    for (size_t i = 2; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING)
            json_array_append_new(*out, json_stringn(r->element[i]->str, r->element[i]->len));
    freeReplyObject(r);
    return BX_OK;
}
