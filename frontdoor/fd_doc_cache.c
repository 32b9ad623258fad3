/* fd_doc_cache: Redis copies of the public event and venue documents, their lookups,
 * fills and invalidations (see fd_doc_cache.h for the freshness rules). */
#include "fd_doc_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_metrics.h"
#include "bx_util.h"
#include "fd_catalog.h"
#include "fd_internal.h"

#define S_TOUCH_BATCH 50 /* keys per invalidation script call (bx_redis_script takes 60 args) */

static const char *const s_kinds[] = {"event", "venue"};

/* Lookup: KEYS[1] the document. Returns {now_us} on a miss, {now_us, body, lm} on a hit.
 * An event document names its venue's key (pk) and the time it was built from (at); a
 * venue touched at or after that time makes the copy a miss. */
static const char s_get_script[] =
    "local r = redis.call('HMGET', KEYS[1], 'body', 'lm', 'at', 'pk')\n"
    "local t = redis.call('TIME')\n"
    "local now = t[1] .. string.format('%06d', tonumber(t[2]))\n"
    "if r[1] and r[4] and r[4] ~= '' then\n"
    "  local u = redis.call('HGET', r[4], 'u')\n"
    "  if u and tonumber(u) >= tonumber(r[3]) then r[1] = false end\n"
    "end\n"
    "if not r[1] then return {now} end\n"
    "return {now, r[1], r[2] or '0'}\n";

/* Fill: KEYS[1] the document; ARGV at, body, lm, etag, venue key or '', ttl. Refused (0)
 * when the document or the venue was touched at or after the lookup time at. */
static const char s_put_script[] =
    "local at = tonumber(ARGV[1])\n"
    "local u = redis.call('HGET', KEYS[1], 'u')\n"
    "if u and tonumber(u) >= at then return 0 end\n"
    "if ARGV[5] ~= '' then\n"
    "  local pu = redis.call('HGET', ARGV[5], 'u')\n"
    "  if pu and tonumber(pu) >= at then return 0 end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'body', ARGV[2], 'lm', ARGV[3], 'etag', ARGV[4], 'at', ARGV[1],\n"
    "           'pk', ARGV[5])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[6])\n"
    "return 1\n";

/* Touch: KEYS the documents; ARGV[1] how long the stamp is kept (longer than any copy
 * built before it can live). */
static const char s_touch_script[] =
    "local t = redis.call('TIME')\n"
    "local now = t[1] .. string.format('%06d', tonumber(t[2]))\n"
    "for i = 1, #KEYS do\n"
    "  redis.call('DEL', KEYS[i])\n"
    "  redis.call('HSET', KEYS[i], 'u', now)\n"
    "  redis.call('EXPIRE', KEYS[i], ARGV[1])\n"
    "end\n"
    "return #KEYS\n";

static _Atomic int64_t s_bypass_until; /* monotonic ms: read past the cache until then */
static bx_metric_t *s_total;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void s_metrics_init(void)
{
    s_total = bx_metrics_counter("bx_doc_cache_total",
                                 "event and venue document reads by cache outcome", "kind,result");
}

static void s_count(fd_doc_kind_t kind, const char *result)
{
    pthread_once(&s_once, s_metrics_init);
    bx_counter_inc(bx_metric_series(s_total, s_kinds[kind], result));
}

static long s_ttl(void)
{
    return bx_config_int("doc_cache_ttl_s");
}

static void s_key(char *out, size_t cap, fd_doc_kind_t kind, const char *id)
{
    snprintf(out, cap, "bx:doc:%s:%s", s_kinds[kind], id);
}

/* Answers from a hit reply {now, body, lm}. */
static void s_serve(fd_req_t *req, const redisReply *r)
{
    fd_cacheable(req, FD_CAT_CACHE_AGE, 1, strtoll(r->element[2]->str, NULL, 10));
    fd_add_header(req, "X-Cache", "hit");
    fd_reply_raw(req, 200, "application/json", r->element[1]->str, r->element[1]->len);
}

int fd_doc_cache_get(fd_req_t *req, fd_doc_kind_t kind, const char *id, fd_doc_cache_t *c)
{
    s_key(c->key, sizeof c->key, kind, id);
    c->at[0] = '\0';
    if (s_ttl() <= 0 || req->want_xml || bx_mono_ms() < atomic_load(&s_bypass_until)) {
        s_count(kind, "bypass");
        return 0;
    }
    const char *argv[] = {c->key};
    redisReply *r = bx_redis_script(fd_redis(req), s_get_script, 1, 0, argv);
    int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
             r->element[0]->type == REDIS_REPLY_STRING;
    for (size_t i = 1; ok && i < r->elements; i++)
        ok = r->element[i]->type == REDIS_REPLY_STRING;
    if (!ok) {
        s_count(kind, "error");
        freeReplyObject(r);
        return 0;
    }
    bx_strlcpy(c->at, r->element[0]->str, sizeof c->at);
    int hit = r->elements == 3;
    if (hit)
        s_serve(req, r);
    else
        fd_add_header(req, "X-Cache", "miss");
    s_count(kind, hit ? "hit" : "miss");
    freeReplyObject(r);
    return hit;
}

void fd_doc_cache_put(fd_req_t *req, const fd_doc_cache_t *c, const char *venue_id,
                      int64_t last_modified)
{
    char lm[24], ttl[16], sha[65], etag[48], pk[64] = "";
    if (!c->at[0] || req->status != 200 || !req->resp || strcmp(req->ctype, "application/json"))
        return;
    char *body = strndup(req->resp, req->resp_len);
    if (!body)
        return;
    snprintf(lm, sizeof lm, "%lld", (long long)last_modified);
    snprintf(ttl, sizeof ttl, "%ld", s_ttl());
    bx_sha256_hex(req->resp, req->resp_len, sha);
    snprintf(etag, sizeof etag, "W/\"%.32s\"", sha); /* what fd_reply sends for this body */
    if (venue_id)
        s_key(pk, sizeof pk, FD_DOC_VENUE, venue_id);
    const char *argv[] = {c->key, c->at, body, lm, etag, pk, ttl};
    redisReply *r = bx_redis_script(fd_redis(req), s_put_script, 1, 6, argv);
    if (!r)
        BX_DEBUG("could not store document %s: redis unreachable or failing", c->key);
    freeReplyObject(r);
    free(body);
}

/* Invalidates keys[0..n) in one script call. Returns 0 on success. */
static int s_touch_batch(fd_req_t *req, const char **keys, int n)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%ld", 2 * s_ttl() + 60);
    keys[n] = ttl;
    redisReply *r = bx_redis_script(fd_redis(req), s_touch_script, n, 1, keys);
    int ok = r && r->type == REDIS_REPLY_INTEGER;
    freeReplyObject(r);
    return ok ? 0 : -1;
}

void fd_doc_cache_touch_ids(fd_req_t *req, fd_doc_kind_t kind, const char *const *ids, int n)
{
    char buf[S_TOUCH_BATCH][64];
    const char *keys[S_TOUCH_BATCH + 1];
    int failed = 0;
    if (s_ttl() <= 0)
        return;
    for (int i = 0; i < n;) {
        int k = 0;
        for (; k < S_TOUCH_BATCH && i < n; k++, i++) {
            s_key(buf[k], sizeof buf[k], kind, ids[i]);
            keys[k] = buf[k];
        }
        failed |= s_touch_batch(req, keys, k) != 0;
    }
    if (!failed)
        return;
    /* Copies elsewhere may now outlive the change by up to one TTL; at least this
     * process's readers (the writer's next read, usually) go to PostgreSQL meanwhile. */
    atomic_store(&s_bypass_until, bx_mono_ms() + 1000 * s_ttl());
    BX_WARN("could not invalidate %d cached %s document(s): redis unreachable or failing; "
            "this frontdoor reads past the cache for %lds",
            n, s_kinds[kind], s_ttl());
}

void fd_doc_cache_touch(fd_req_t *req, fd_doc_kind_t kind, const char *id)
{
    const char *ids[] = {id};
    fd_doc_cache_touch_ids(req, kind, ids, 1);
}
