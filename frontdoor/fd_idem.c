/* fd_idem: Idempotency-Key on POST. The first request with a key runs and its response
 * is kept for 24 hours; the same key and body replays it (marked Idempotent-Replayed);
 * the same key with another body is 422; while the first is still running, 409. A
 * pipeline request is replayed as its current state. Records live in PostgreSQL, so
 * replays survive restarts of any process. */
#include "fd_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bx_log.h"
#include "bx_util.h"

enum { C_METHOD, C_PATH, C_HASH, C_STATE, C_HTTP, C_CTYPE, C_LOCATION, C_BODY, C_REQUEST, C_EXPIRED };

static int s_key_ok(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    if (n < 1 || n > 255)
        return 0;
    for (; *k; k++)
        if (*k < 0x21 || *k > 0x7e)
            return 0;
    return 1;
}

/* Hash of what makes two requests "the same": method, path and body bytes. */
static void s_fingerprint(fd_req_t *req, char out[65])
{
    size_t n = strlen(req->method) + strlen(req->path) + req->body_len + 2;
    char *buf = malloc(n + 1);
    if (!buf) {
        memset(out, '0', 64);
        out[64] = '\0';
        return;
    }
    int k = snprintf(buf, n + 1, "%s %s\n", req->method, req->path);
    if (req->body_len)
        memcpy(buf + k, req->body, req->body_len);
    bx_sha256_hex(buf, (size_t)k + req->body_len, out);
    free(buf);
}

static void s_replay(fd_req_t *req, const PGresult *res)
{
    fd_add_header(req, "Idempotent-Replayed", "true");
    const char *rid = bx_pg_val(res, 0, C_REQUEST);
    if (rid) {
        fd_requests_render(req, rid, 1);
        return;
    }
    const char *loc = bx_pg_val(res, 0, C_LOCATION), *body = bx_pg_val(res, 0, C_BODY);
    if (loc)
        fd_add_header(req, "Location", loc);
    fd_reply_raw(req, (int)strtol(bx_pg_val(res, 0, C_HTTP), NULL, 10), bx_pg_val(res, 0, C_CTYPE),
                 body ? body : "", body ? strlen(body) : 0);
}

/* The key exists: replay, refuse, or take over an abandoned one. */
static int s_existing(fd_req_t *req, const char *hash)
{
    bx_err_t err;
    const char *k[] = {req->idem_scope, req->idem_key};
    PGresult *res = bx_pg_query(req->t->pg, "idem_get", 2, k, &err);
    int go_on = 0;
    if (!res || PQntuples(res) != 1) {
        fd_reply_problem(req, BX_EUNAVAILABLE, "the idempotency record could not be read; try again");
    } else if (strcmp(bx_pg_val(res, 0, C_HASH), hash)) {
        fd_reply_problem(req, BX_EUNPROCESSABLE,
                         "this Idempotency-Key was already used with a different request");
    } else if (!strcmp(bx_pg_val(res, 0, C_STATE), "done")) {
        s_replay(req, res);
    } else if (!strcmp(bx_pg_val(res, 0, C_EXPIRED), "t") && bx_pg_val(res, 0, C_REQUEST)) {
        s_replay(req, res); /* the first attempt recorded its request, then its frontdoor died */
    } else if (!strcmp(bx_pg_val(res, 0, C_EXPIRED), "t")) {
        PGresult *t = bx_pg_query(req->t->pg, "idem_takeover", 2, k, &err);
        go_on = t && PQntuples(t) == 1;
        PQclear(t);
    }
    if (!go_on && req->state == FD_ST_NEW) {
        fd_add_header(req, "Retry-After", "1");
        fd_reply_problem(req, BX_ECONFLICT, "a request with this Idempotency-Key is still in progress");
    }
    PQclear(res);
    return go_on;
}

int fd_idem_begin(fd_req_t *req)
{
    bx_err_t err;
    char hash[65];
    const char *key = fd_header(req, "Idempotency-Key");
    if (!key)
        return 1;
    if (!s_key_ok(key)) {
        fd_reply_problem(req, BX_EINVAL, "Idempotency-Key must be 1 to 255 visible ASCII characters");
        return 0;
    }
    bx_strlcpy(req->idem_key, key, sizeof req->idem_key);
    if (req->who.authenticated)
        bx_strlcpy(req->idem_scope, req->who.user_id, sizeof req->idem_scope);
    else
        snprintf(req->idem_scope, sizeof req->idem_scope, "ip:%s", req->ip);
    s_fingerprint(req, hash);
    const char *p[] = {req->idem_scope, req->idem_key, req->method, req->path, hash};
    PGresult *res = bx_pg_query(req->t->pg, "idem_insert", 5, p, &err);
    if (!res) {
        fd_reply_problem(req, BX_EUNAVAILABLE, "the idempotency record could not be written; try again");
        return 0;
    }
    int inserted = PQntuples(res) == 1;
    PQclear(res);
    if (inserted || s_existing(req, hash)) {
        req->idem_active = 1;
        return 1;
    }
    return 0;
}

void fd_idem_finish(fd_req_t *req)
{
    char status[16];
    const char *k[] = {req->idem_scope, req->idem_key};
    req->idem_active = 0;
    if (req->status >= 500 || req->status == 409 || req->status == 429) {
        if (bx_pg_run(req->t->pg, "idem_forget", 2, k) != BX_OK)
            BX_WARN("could not forget idempotency key after %d", req->status);
        return;
    }
    const char *loc = NULL;
    for (int i = 0; i < req->nhdr; i++)
        if (!strcasecmp(req->hdr[i][0], "Location"))
            loc = req->hdr[i][1];
    snprintf(status, sizeof status, "%d", req->status);
    const char *p[] = {req->idem_scope, req->idem_key, status, req->ctype, loc, req->resp ? req->resp : ""};
    if (bx_pg_run(req->t->pg, "idem_finish", 6, p) != BX_OK)
        BX_WARN("could not record the idempotent response");
}
