/* bx_redis: one Redis connection with command timeouts and reconnect backoff. A
 * bx_redis_t belongs to one thread. When Redis is down, commands fail fast (NULL) until
 * the next reconnect attempt is due; callers fall back, never block. */
#ifndef BX_REDIS_H
#define BX_REDIS_H

#include <hiredis/hiredis.h>

typedef struct bx_redis bx_redis_t;

/* Creates a handle; connecting happens lazily, so this succeeds while Redis is down.
 * Returns NULL only when out of memory. */
bx_redis_t *bx_redis_new(const char *host, int port, int timeout_ms);

/* Frees self and its connection; *self_p becomes NULL. Safe on NULL. */
void bx_redis_destroy(bx_redis_t **self_p);

/* Runs a command (hiredis format). Returns the reply (caller freeReplyObject()s it), or
 * NULL when Redis is unreachable or answered an error (the error is logged at debug). */
redisReply *bx_redis_cmd(bx_redis_t *self, const char *fmt, ...);

/* Runs a command from an argument vector. Same contract as bx_redis_cmd. */
redisReply *bx_redis_cmdv(bx_redis_t *self, int argc, const char **argv, const size_t *lens);

/* Runs a Lua script by SHA, loading it on NOSCRIPT. keys then args as strings. */
redisReply *bx_redis_script(bx_redis_t *self, const char *script, int nkeys, int nargs,
                            const char **argv);

/* 1 if the last command reached Redis, 0 if Redis is currently considered down. */
int bx_redis_up(bx_redis_t *self);

#endif
