/* fd_requests: durable pipeline requests: fd_submit records a request before its id is
 * given out and hands it to the pipeline; GET /api/v1/requests/{id} reads it back; the
 * reply to a POST that went through the pipeline is rendered from the same row. */
#include "fd_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_util.h"
#include "fd_webhooks.h"

/* Columns of request_get. */
enum { C_ID, C_USER, C_SERVICE, C_STATUS, C_HTTP, C_RESULT, C_ATTEMPTS, C_TRACE, C_CREATED,
       C_UPDATED, C_COMPLETED, C_UPDATED_EPOCH };

/* Parses Prefer (RFC 7240): wait=N seconds, respond-async. Returns milliseconds. */
static int s_wait_ms(fd_req_t *req, int *applied)
{
    const char *prefer = fd_header(req, "Prefer");
    long def = bx_config_int("wait_default_ms"), cap = bx_config_int("wait_max_ms");
    *applied = 0;
    if (!prefer)
        return (int)def;
    if (strcasestr(prefer, "respond-async")) {
        *applied = 1;
        return 0;
    }
    const char *w = strcasestr(prefer, "wait=");
    if (!w)
        return (int)def;
    char *end;
    long s = strtol(w + 5, &end, 10);
    if (end == w + 5 || s < 0)
        return (int)def;
    *applied = 1;
    return s * 1000 > cap ? (int)cap : (int)(s * 1000);
}

void fd_submit(fd_req_t *req, const char *service, const char *route_key, json_t *payload)
{
    char lease[16];
    int applied;
    /* Callback-Url: the final result is POSTed there as a signed webhook (docs/delivery.md);
     * refused before anything is recorded when it points into our own network */
    const char *callback = fd_header(req, "Callback-Url");
    if (callback && !fd_ssrf_url_ok(req, callback, "/headers/Callback-Url")) {
        json_decref(payload);
        return;
    }
    char *text = bx_json_dump(payload);
    json_decref(payload);
    if (!text) {
        fd_reply_problem(req, BX_ENOMEM, NULL);
        return;
    }
    bx_uuid_v7(req->pipe_id);
    snprintf(lease, sizeof lease, "%ld", bx_config_int("request_lease_s"));
    const char *uid = req->who.authenticated ? req->who.user_id : NULL;
    const char *ins[] = {req->pipe_id, uid, service, route_key, text, req->trace_id, callback, lease};
    const char *link[] = {req->idem_scope, req->idem_key, req->pipe_id};
    bx_pg_t *pg = req->t->pg;
    /* One statement needs no transaction of its own: without an idempotency record to link,
     * the INSERT commits by itself (one round trip instead of three on the hot path). */
    int tx = req->idem_active;
    bx_err_t err = tx ? bx_pg_begin(pg) : BX_OK;
    if (!err)
        err = bx_pg_run(pg, "request_insert", 8, ins);
    if (!err && tx)
        err = bx_pg_run(pg, "idem_link_request", 3, link);
    if (!err && tx)
        err = bx_pg_commit(pg);
    if (err) {
        if (tx)
            bx_pg_rollback(pg);
        free(text);
        BX_WARN("could not record request: %s", bx_pg_error(pg));
        fd_reply_problem(req, err == BX_EINVAL ? BX_EINVAL : BX_EUNAVAILABLE,
                         "the request could not be recorded; try again");
        return;
    }
    req->wait_ms = s_wait_ms(req, &applied);
    if (applied) {
        char pa[32];
        snprintf(pa, sizeof pa, "wait=%d", req->wait_ms / 1000);
        fd_add_header(req, "Preference-Applied", req->wait_ms ? pa : "respond-async");
    }
    bx_log_context(req->req_id, req->trace_id, req->pipe_id);
    fd_pipeline_send(req, service, route_key, text);
    free(text);
}

static json_t *s_json_col(const PGresult *res, int col)
{
    const char *v = bx_pg_val(res, 0, col);
    return v ? json_loads(v, 0, NULL) : json_null();
}

/* The request resource (for GET and for 202 answers). */
static json_t *s_resource(const PGresult *res, const char *self)
{
    const char *status = bx_pg_val(res, 0, C_STATUS);
    json_t *attrs = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s?}", "service",
                              bx_pg_val(res, 0, C_SERVICE), "status", status, "attempts",
                              (int)strtol(bx_pg_val(res, 0, C_ATTEMPTS), NULL, 10), "created_at",
                              bx_pg_val(res, 0, C_CREATED), "updated_at", bx_pg_val(res, 0, C_UPDATED),
                              "completed_at", bx_pg_val(res, 0, C_COMPLETED));
    if (!strcmp(status, "succeeded") || !strcmp(status, "failed")) {
        json_object_set_new(attrs, "http_status",
                            json_integer(strtol(bx_pg_val(res, 0, C_HTTP), NULL, 10)));
        json_object_set_new(attrs, !strcmp(status, "succeeded") ? "result" : "problem",
                            s_json_col(res, C_RESULT));
    }
    return fd_resource("request", bx_pg_val(res, 0, C_ID), attrs, self);
}

void fd_requests_render(fd_req_t *req, const char *id, int as_result)
{
    bx_err_t err;
    char self[128];
    const char *p[] = {id};
    PGresult *res = bx_pg_query(req->t->pg, "request_get", 1, p, &err);
    const char *owner = bx_pg_val(res, 0, C_USER);
    int visible = res && PQntuples(res) == 1 &&
                  ((owner && req->who.authenticated && !strcmp(owner, req->who.user_id)) ||
                   !strcmp(req->who.role, "admin"));
    if (!visible) {
        PQclear(res);
        if (err)
            fd_reply_problem(req, BX_EUNAVAILABLE, "the request could not be read; try again");
        else
            fd_reply_problem(req, BX_ENOTFOUND, "no such request");
        return;
    }
    snprintf(self, sizeof self, "/api/v1/requests/%s", id);
    const char *status = bx_pg_val(res, 0, C_STATUS);
    int done = !strcmp(status, "succeeded") || !strcmp(status, "failed");
    char link[160];
    snprintf(link, sizeof link, "<%s>; rel=\"monitor\"", self);
    if (as_result && done) {
        int http = (int)strtol(bx_pg_val(res, 0, C_HTTP), NULL, 10);
        const char *body = bx_pg_val(res, 0, C_RESULT);
        fd_add_header(req, "Link", link);
        fd_reply_raw(req, http, !strcmp(status, "failed") ? "application/problem+json" : "application/json",
                     body ? body : "{}", body ? strlen(body) : 2);
    } else if (as_result) {
        fd_add_header(req, "Location", self);
        fd_add_header(req, "Retry-After", "1");
        fd_reply_json(req, 202, fd_document(s_resource(res, self), NULL));
    } else {
        fd_cacheable(req, 0, 0, strtoll(bx_pg_val(res, 0, C_UPDATED_EPOCH), NULL, 10));
        if (!done)
            fd_add_header(req, "Retry-After", "1");
        fd_reply_json(req, 200, fd_document(s_resource(res, self), NULL));
    }
    PQclear(res);
}

void fd_pipeline_finish(fd_req_t *req)
{
    char retry[16];
    if (req->pipe == FD_PIPE_NAK) {
        const char *p[] = {req->pipe_id};
        /* The broker refused it: forget the request so that a retry starts clean. */
        if (bx_pg_run(req->t->pg, "request_delete_queued", 1, p) != BX_OK)
            BX_WARN("could not forget refused request %s", req->pipe_id);
        snprintf(retry, sizeof retry, "%d", req->retry_after > 0 ? req->retry_after : 1);
        fd_add_header(req, "Retry-After", retry);
        fd_reply_problem(req, BX_EUNAVAILABLE, "the service is at capacity; try again shortly");
        return;
    }
    fd_requests_render(req, req->pipe_id, 1);
}

void fd_requests_get(fd_req_t *req)
{
    const char *id = fd_param(req, "requestId");
    if (!bx_uuid_valid(id)) {
        fd_reply_problem(req, BX_ENOTFOUND, "no such request");
        return;
    }
    fd_requests_render(req, id, 0);
}
