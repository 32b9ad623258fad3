/* fd_core: the frontdoor's own routes: liveness, readiness, metrics, the OpenAPI
 * document, the landing page, durable requests, and the admin pipeline self-test. */
#include "fd_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_embed.h"
#include "bx_metrics.h"
#include "bx_util.h"

static int64_t s_started_at;

static void s_healthz(fd_req_t *req)
{
    fd_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* Ready when PostgreSQL and the broker answer; Redis down only degrades (rate limits
 * fall back to local buckets), so it is reported but does not fail readiness. */
static void s_readyz(fd_req_t *req)
{
    int pg = req->t->pg && bx_pg_ping(req->t->pg);
    redisReply *r = bx_redis_cmd(req->t->redis, "PING");
    int redis = r != NULL;
    freeReplyObject(r);
    int broker = fd_pipeline_broker_up();
    const char *status = pg && broker ? (redis ? "ready" : "degraded") : "unavailable";
    json_t *doc = json_pack("{s:s, s:{s:s, s:s, s:s}}", "status", status, "checks", "postgresql",
                            pg ? "up" : "down", "redis", redis ? "up" : "down", "broker",
                            broker ? "up" : "down");
    if (!(pg && broker))
        fd_add_header(req, "Retry-After", "5");
    fd_reply_json(req, pg && broker ? 200 : 503, doc);
}

static void s_metrics(fd_req_t *req)
{
    char *text = bx_metrics_render();
    if (!text) {
        fd_reply_problem(req, BX_ENOMEM, NULL);
        return;
    }
    fd_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
}

static void s_openapi(fd_req_t *req)
{
    const bx_embed_t *doc = bx_embed_find(bx_contracts, "openapi.json");
    if (!doc) {
        fd_reply_problem(req, BX_ENOTFOUND, "no OpenAPI document was built in");
        return;
    }
    if (!s_started_at)
        s_started_at = bx_now_ms() / 1000;
    fd_cacheable(req, 300, 1, s_started_at);
    fd_reply_raw(req, 200, "application/json", doc->data, doc->len);
}

static void s_jwks(fd_req_t *req)
{
    const char *jwks = fd_auth_jwks();
    fd_cacheable(req, 300, 1, 0);
    fd_reply_raw(req, 200, "application/jwk-set+json", jwks, strlen(jwks));
}

static void s_index(fd_req_t *req)
{
    const bx_embed_t *page = bx_embed_find(bx_web, "index.html");
    if (!page) {
        fd_reply_problem(req, BX_ENOTFOUND, "no landing page was built in");
        return;
    }
    fd_cacheable(req, 60, 1, 0);
    fd_reply_raw(req, 200, "text/html; charset=utf-8", page->data, page->len);
}

/* The admin pipeline self-test: a no-op job through broker and echo worker. */
static const bx_jfield_t s_echo_schema[] = {
    {.name = "message", .type = BX_JT_STRING, .max = 1000, .format = BX_FMT_NONE},
    {.name = "sleep_ms", .type = BX_JT_INT, .min = 0, .max = 10000},
    {.name = "fail", .type = BX_JT_BOOL},
    {0},
};

static void s_echo(fd_req_t *req)
{
    fd_submit(req, "echo", NULL, json_incref(fd_body(req) ? fd_body(req) : json_object()));
}

const fd_route_t fd_core_routes[] = {
    {"GET", "/", s_index, FD_NO_DB | FD_ANY_ACCEPT, FD_RL_READ, NULL},
    {"GET", "/healthz", s_healthz, FD_NO_DB, FD_RL_NONE, NULL},
    {"GET", "/readyz", s_readyz, FD_NO_DB, FD_RL_NONE, NULL},
    {"GET", "/metrics", s_metrics, FD_NO_DB | FD_ANY_ACCEPT, FD_RL_NONE, NULL},
    {"GET", "/.well-known/jwks.json", s_jwks, FD_NO_DB, FD_RL_READ, NULL},
    {"GET", "/api/v1/openapi.json", s_openapi, FD_NO_DB, FD_RL_READ, NULL},
    {"GET", "/api/v1/requests/{requestId}", fd_requests_get, FD_AUTH, FD_RL_READ, NULL},
    {"POST", "/api/v1/admin/pipeline/echo", s_echo, FD_ADMIN, FD_RL_WRITE, s_echo_schema},
    {0},
};
