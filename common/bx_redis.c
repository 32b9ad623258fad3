/* bx_redis: hiredis with timeouts, lazy connect and doubling reconnect backoff. */
#include "bx_redis.h"

#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_log.h"
#include "bx_util.h"

#define S_BACKOFF_MIN_MS 100
#define S_BACKOFF_MAX_MS 5000

struct bx_redis {
    redisContext *ctx;  /* NULL while disconnected */
    char host[256];     /* server host */
    int port;           /* server port */
    int timeout_ms;     /* connect and command timeout */
    int64_t retry_at;   /* monotonic ms of the next connect attempt */
    int backoff_ms;     /* current reconnect backoff */
};

bx_redis_t *bx_redis_new(const char *host, int port, int timeout_ms)
{
    bx_redis_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    bx_strlcpy(self->host, host, sizeof self->host);
    self->port = port;
    self->timeout_ms = timeout_ms;
    self->backoff_ms = S_BACKOFF_MIN_MS;
    return self;
}

void bx_redis_destroy(bx_redis_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->ctx)
        redisFree((*self_p)->ctx);
    free(*self_p);
    *self_p = NULL;
}

static void s_drop(bx_redis_t *self)
{
    if (self->ctx) {
        BX_WARN("redis connection lost: %s", self->ctx->errstr);
        redisFree(self->ctx);
        self->ctx = NULL;
    }
    self->retry_at = bx_mono_ms() + self->backoff_ms;
    self->backoff_ms = self->backoff_ms * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : self->backoff_ms * 2;
}

static int s_ensure(bx_redis_t *self)
{
    if (self->ctx)
        return 1;
    if (bx_mono_ms() < self->retry_at)
        return 0;
    struct timeval tv = {self->timeout_ms / 1000, (self->timeout_ms % 1000) * 1000};
    self->ctx = redisConnectWithTimeout(self->host, self->port, tv);
    if (!self->ctx || self->ctx->err) {
        if (self->ctx) {
            redisFree(self->ctx);
            self->ctx = NULL;
        }
        s_drop(self);
        return 0;
    }
    redisSetTimeout(self->ctx, tv);
    self->backoff_ms = S_BACKOFF_MIN_MS;
    return 1;
}

/* Turns a raw reply into the contract: errors and I/O failures become NULL. */
static redisReply *s_check(bx_redis_t *self, redisReply *r)
{
    if (!r) {
        s_drop(self);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        BX_DEBUG("redis error: %s", r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

redisReply *bx_redis_cmd(bx_redis_t *self, const char *fmt, ...)
{
    va_list ap;
    if (!s_ensure(self))
        return NULL;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(self->ctx, fmt, ap);
    va_end(ap);
    return s_check(self, r);
}

redisReply *bx_redis_cmdv(bx_redis_t *self, int argc, const char **argv, const size_t *lens)
{
    if (!s_ensure(self))
        return NULL;
    return s_check(self, redisCommandArgv(self->ctx, argc, argv, lens));
}

redisReply *bx_redis_script(bx_redis_t *self, const char *script, int nkeys, int nargs,
                            const char **argv)
{
    char sha[41];
    unsigned char md[20];
    const char *args[64];
    char nk[16];
    if (nkeys + nargs > 60 || !s_ensure(self))
        return NULL;
    /* Redis names a script by the SHA-1 of its text. */
    SHA1((const unsigned char *)script, strlen(script), md);
    bx_hex(md, 20, sha);
    snprintf(nk, sizeof nk, "%d", nkeys);
    args[0] = "EVALSHA";
    args[1] = sha;
    args[2] = nk;
    for (int i = 0; i < nkeys + nargs; i++)
        args[3 + i] = argv[i];
    redisReply *r = redisCommandArgv(self->ctx, 3 + nkeys + nargs, args, NULL);
    if (r && r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOSCRIPT", 8)) {
        freeReplyObject(r);
        args[0] = "EVAL";
        args[1] = script;
        r = redisCommandArgv(self->ctx, 3 + nkeys + nargs, args, NULL);
    }
    return s_check(self, r);
}

int bx_redis_up(bx_redis_t *self)
{
    return self->ctx != NULL;
}
