/* fd_router: matches method and path against the route lists of every module. */
#include "fd_internal.h"

#include <stdio.h>
#include <string.h>

#include "bx_util.h"
#include "fd_routes.h"

const fd_route_t *const *fd_route_lists(void)
{
    return fd_all_routes;
}

/* Matches path against pattern segment by segment; {name} takes one non-empty segment. */
static int s_match(const char *pattern, const char *path, fd_req_t *req)
{
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *pe = strchr(p, '}'), *se = strchr(s, '/');
            size_t slen = se ? (size_t)(se - s) : strlen(s);
            if (!pe || slen == 0 || slen >= sizeof req->params[0][1] || np == FD_MAX_PARAMS)
                return 0;
            size_t plen = (size_t)(pe - p - 1);
            if (plen >= sizeof req->params[0][0])
                return 0;
            memcpy(req->params[np][0], p + 1, plen);
            req->params[np][0][plen] = '\0';
            memcpy(req->params[np][1], s, slen);
            req->params[np][1][slen] = '\0';
            np++;
            p = pe + 1;
            s += slen;
        } else if (*p++ != *s++) {
            return 0;
        }
    }
    if (*p || *s)
        return 0;
    req->nparams = np;
    return 1;
}

const fd_route_t *fd_route_find(fd_req_t *req, bx_err_t *err, char *allow, size_t cap)
{
    size_t used = 0;
    allow[0] = '\0';
    *err = BX_ENOTFOUND;
    for (const fd_route_t *const *list = fd_all_routes; *list; list++) {
        for (const fd_route_t *r = *list; r->method; r++) {
            if (!s_match(r->pattern, req->path, req))
                continue;
            if (!strcmp(r->method, req->method) ||
                (!strcmp(req->method, "HEAD") && !strcmp(r->method, "GET")))
                return r;
            *err = BX_EMETHOD;
            if (!strstr(allow, r->method) && used + strlen(r->method) + 3 < cap)
                used += (size_t)snprintf(allow + used, cap - used, "%s%s", used ? ", " : "", r->method);
        }
    }
    req->nparams = 0;
    return NULL;
}
