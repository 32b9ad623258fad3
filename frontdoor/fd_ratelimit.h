/* fd_ratelimit: the frontdoor's request rate limits. Every request is checked against two
 * policies at once, in one Redis round trip (one atomic Lua script, GCRA):
 *   - its route class: "read" and "write" per user when authenticated, else per client
 *     IP; "auth" (login, register, refresh) always per IP and stricter;
 *   - "ip": a ceiling on all requests of one client IP (IPv6 clients are grouped by /64).
 * FD_RL_NONE routes get only the "ip" ceiling. Windows are 60 s, quotas come from the
 * configuration (rl_read_per_min, rl_write_per_min, rl_auth_per_min, rl_ip_per_min).
 * When Redis is unreachable the same limits are enforced by an in-process fallback (a
 * bounded table shared by the calling threads), so the frontdoor never blocks on, and
 * never fails open for, a Redis outage; one warning is logged per outage.
 *
 * Threads: any thread may call fd_ratelimit_check with its own bx_redis_t. Keys never hold
 * credentials: user ids that are not plain UUID-like text and IPs that do not parse are
 * hashed. Nothing here allocates per request. */
#ifndef FD_RATELIMIT_H
#define FD_RATELIMIT_H

#include <stddef.h>

#include "bx_err.h"
#include "bx_redis.h"
#include "fd.h"

#define FD_RL_WINDOW_S     60        /* the window of every policy */
#define FD_RL_MAX_POLICIES 2         /* policies checked per request: class, then "ip" */
#define FD_RL_QUOTA_MAX    100000000 /* largest quota per window */

/* Limits, normally read from the configuration. */
typedef struct {
    long per_min[FD_RL_COUNT]; /* quota per window of READ, WRITE, AUTH (NONE unused) */
    long ip_per_min;           /* quota per window of the per-IP ceiling */
    long fallback_divisor;     /* in-process quotas are quota / divisor (>= 1): the number
                                  of frontdoors assumed to share the load while Redis is
                                  down; 1 by default */
    char prefix[32];           /* Redis key prefix, "rl:" by default */
} fd_rl_config_t;

/* The state of one policy after a check. */
typedef struct {
    const char *policy; /* "read", "write", "auth" or "ip" (static) */
    int limit;          /* quota per window (the q parameter) */
    int window_s;       /* window in seconds (the w parameter) */
    int remaining;      /* requests still allowed now (r) */
    int reset_s;        /* seconds until more quota is available (t); 0 when the quota is
                           whole */
    int allowed;        /* this policy alone would have allowed the request */
} fd_rl_policy_t;

/* The decision for one request. The summary fields describe the binding policy: the one
 * that refused (the longest wait when both did), else the one closest to its limit. */
typedef struct {
    int allowed;        /* 1: serve it; 0: answer 429 */
    const char *policy; /* binding policy name (static) */
    int limit;          /* binding policy quota */
    int remaining;      /* binding policy remaining */
    int reset_s;        /* binding policy seconds until more quota */
    int retry_after_s;  /* when refused: seconds to wait (>= 1); else 0 */
    int local;          /* 1 when decided by the in-process fallback (Redis down) */
    int npolicies;      /* entries in policies */
    fd_rl_policy_t policies[FD_RL_MAX_POLICIES]; /* class policy first, then "ip" */
} fd_rl_result_t;

/* Sets the limits (cfg copied; NULL reads them from bx_config) and empties the in-process
 * fallback table. Optional: the first fd_ratelimit_check reads the configuration itself.
 * Call before request threads start. Returns BX_EINVAL when a quota is outside [1, FD_RL_QUOTA_MAX]
 * or the prefix is empty; then nothing changes. */
bx_err_t fd_ratelimit_init(const fd_rl_config_t *cfg);

/* Decides whether a request of class cls from ip (text form, required) and
 * user_id_or_null (the authenticated subject, NULL when anonymous) may proceed, consumes
 * one unit of each applicable policy when it may, and fills *out. One Redis round trip
 * on redis (the calling thread's handle; NULL forces the in-process fallback). A NULL or
 * empty ip counts as the one client "unknown". Returns BX_OK when allowed, BX_ERATELIMIT
 * when refused (out says for how long), BX_EINVAL when out is NULL or cls is out of range
 * (then *out, if any, says allowed with no policies). Never blocks beyond the Redis
 * command timeout and never fails because Redis is down. */
bx_err_t fd_ratelimit_check(bx_redis_t *redis, fd_rl_class_t cls, const char *user_id_or_null,
                            const char *ip, fd_rl_result_t *out);

/* Formats the draft-ietf-httpapi-ratelimit-headers field values (structured-field lists,
 * class policy first) into policy (RateLimit-Policy, e.g. "read";q=6000;w=60,
 * "ip";q=30000;w=60) and state (RateLimit, e.g. "read";r=5999;t=1, "ip";r=29999;t=1).
 * Both are always NUL-terminated; 128 bytes is enough for any result. Retry-After is
 * res->retry_after_s when !res->allowed. */
void fd_ratelimit_headers(const fd_rl_result_t *res, char *policy, size_t policy_cap, char *state,
                          size_t state_cap);

/* Policy name of a class: "read", "write", "auth", or NULL for FD_RL_NONE. */
const char *fd_ratelimit_policy_name(fd_rl_class_t cls);

#endif
