/* fd_cors: exact-match origin allow-list; preflights answered without touching handlers. */
#include "fd_cors.h"

#include <string.h>

#include "bx_config.h"

int fd_cors_allowed(const char *origin)
{
    const char *list = bx_config_str("cors_origins");
    size_t n = origin ? strlen(origin) : 0;
    if (!n)
        return 0;
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && *p == ' ')
            p++, len--;
        if (len == n && !strncmp(p, origin, n))
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

int fd_cors_apply(fd_req_t *req)
{
    const char *origin = fd_header(req, "Origin");
    int allowed = fd_cors_allowed(origin);
    if (allowed) {
        fd_add_header(req, "Access-Control-Allow-Origin", origin);
        fd_add_header(req, "Access-Control-Expose-Headers",
                      "Location, ETag, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id, traceparent");
    }
    if (strcmp(req->method, "OPTIONS"))
        return 0;
    if (!allowed) {
        fd_reply_problem(req, BX_EFORBIDDEN, "this origin is not allowed");
        return 1;
    }
    fd_add_header(req, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
    fd_add_header(req, "Access-Control-Allow-Headers",
                  "Authorization, Content-Type, Idempotency-Key, Prefer, If-None-Match, If-Match, X-Request-Id, traceparent");
    fd_add_header(req, "Access-Control-Max-Age", "600");
    fd_reply_empty(req, 204);
    return 1;
}
