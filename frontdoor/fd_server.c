/* fd_server: the libmicrohttpd daemon: per-connection request state, body caps (refused
 * early from Content-Length; uploads spooled to disk), the middleware chain (ids, CORS,
 * routing, rate limits, auth, body validation, idempotency) and suspension while the
 * pipeline works. */
#include "fd_internal.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_pan.h"
#include "bx_util.h"
#include "fd_cors.h"
#include "fd_ratelimit.h"

struct fd_server {
    struct MHD_Daemon *daemon; /* owned */
};

static pthread_key_t s_thread_key;
static pthread_once_t s_thread_once = PTHREAD_ONCE_INIT;

/* Runs when an MHD thread exits: its connections go with it. */
static void s_thread_free(void *arg)
{
    fd_thread_t *t = arg;
    bx_pg_destroy(&t->pg);
    bx_redis_destroy(&t->redis);
    zsock_t *push = t->push;
    zsock_destroy(&push);
    free(t->auth_cache);
    free(t);
}

static void s_thread_key_make(void)
{
    pthread_key_create(&s_thread_key, s_thread_free);
}

fd_thread_t *fd_thread(void)
{
    pthread_once(&s_thread_once, s_thread_key_make);
    fd_thread_t *t = pthread_getspecific(s_thread_key);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t)
            abort(); /* cannot serve anything without it */
        t->redis = bx_redis_new(bx_config_str("redis_host"), (int)bx_config_int("redis_port"),
                                (int)bx_config_int("redis_timeout_ms"));
        pthread_setspecific(s_thread_key, t);
    }
    if (!t->pg && bx_mono_ms() >= t->pg_retry) {
        t->pg = bx_pg_new(bx_config_str("pg_dsn"), 1);
        if (!t->pg)
            t->pg_retry = bx_mono_ms() + 1000;
    }
    return t;
}

static int s_hexn(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* X-Request-Id from the client when sane, else a new UUIDv7; traceparent continued when
 * valid (version 00), else a new trace. */
static void s_ids(fd_req_t *req)
{
    const char *rid = fd_header(req, "X-Request-Id");
    int ok = rid && strlen(rid) >= 8 && strlen(rid) <= 64;
    for (const char *p = rid; ok && *p; p++)
        ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
             *p == '-' || *p == '_' || *p == '.';
    if (ok)
        bx_strlcpy(req->req_id, rid, sizeof req->req_id);
    else
        bx_uuid_v7(req->req_id);
    const char *tp = fd_header(req, "traceparent");
    unsigned char rnd[16];
    if (tp && strlen(tp) == 55 && !strncmp(tp, "00-", 3) && tp[35] == '-' && tp[52] == '-' &&
        s_hexn(tp + 3, 32) && s_hexn(tp + 36, 16) && strncmp(tp + 3, "00000000000000000000000000000000", 32)) {
        memcpy(req->trace_id, tp + 3, 32);
        req->trace_id[32] = '\0';
    } else {
        bx_random(rnd, 16);
        bx_hex(rnd, 16, req->trace_id);
    }
    bx_random(rnd, 8);
    bx_hex(rnd, 8, req->span_id);
    bx_log_context(req->req_id, req->trace_id, NULL);
}

static void s_client_ip(fd_req_t *req)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    bx_strlcpy(req->ip, "unknown", sizeof req->ip);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->ip, sizeof req->ip);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->ip, sizeof req->ip);
}

static int s_wants_body(const char *method)
{
    return !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH");
}

/* Refuses a body holding a card number (PCI DSS: never accepted, stored or logged; the
 * body is dropped here and nothing logs it): 422 card-number-refused with the pointer. */
static int s_card_refused(fd_req_t *req, const char *ptr)
{
    fd_reply_problem_ext(req, BX_EUNPROCESSABLE,
                         "card numbers are never accepted: pay through POST /api/v1/payments "
                         "with a gateway token",
                         json_pack("{s:s, s:[{s:s, s:s}]}", "type",
                                   "https://boxoffice.dev/problems/card-number-refused", "errors",
                                   "pointer", ptr, "detail", "looks like a card number"));
    return 0;
}

/* Parses and validates the JSON body of POST/PUT. Returns 1 to go on. */
static int s_body(fd_req_t *req)
{
    char why[256];
    json_t *errors = NULL;
    if (req->body_too_large) {
        fd_reply_problem(req, BX_ETOOLARGE, "the request body is larger than the limit");
        return 0;
    }
    if (req->spool_failed) {
        fd_add_header(req, "Retry-After", "5");
        fd_reply_problem(req, BX_EUNAVAILABLE, "the upload could not be stored; try again shortly");
        return 0;
    }
    if (!s_wants_body(req->method) || (req->route->flags & (FD_RAW_BODY | FD_UPLOAD)))
        return 1;
    if (req->body_len == 0 && !req->route->body_schema)
        return 1;
    const char *ct = fd_header(req, "Content-Type");
    if (req->body_len > 0 && (!ct || strncasecmp(ct, "application/json", 16) ||
                              (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' '))) {
        fd_reply_problem(req, BX_EMEDIATYPE, "send the body as application/json");
        return 0;
    }
    if (bx_json_parse(req->body, req->body_len, (int)bx_config_int("json_depth_max"), &req->json,
                      why, sizeof why) != BX_OK) {
        /* the parser's message quotes the body: never echo a card number back */
        if (bx_pan_in_text(req->body, req->body_len))
            return s_card_refused(req, "");
        fd_reply_problem(req, BX_EMALFORMED, why);
        return 0;
    }
    if (bx_pan_find(req->json, why, sizeof why))
        return s_card_refused(req, why);
    if (req->route->body_schema &&
        bx_json_validate(req->json, req->route->body_schema, &errors) != BX_OK) {
        fd_reply_problem_ext(req, BX_EINVAL, "one or more fields are invalid",
                             json_pack("{s:o}", "errors", errors));
        return 0;
    }
    return 1;
}

static int s_rate_limit(fd_req_t *req)
{
    fd_rl_result_t rl;
    char policy[128], state[128], retry[16];
    const char *uid = req->who.authenticated ? req->who.user_id : NULL;
    if (req->route->rl == FD_RL_NONE)
        return 1;
    bx_err_t err = fd_ratelimit_check(req->t->redis, req->route->rl, uid, req->ip, &rl);
    fd_ratelimit_headers(&rl, policy, sizeof policy, state, sizeof state);
    fd_add_header(req, "RateLimit-Policy", policy);
    fd_add_header(req, "RateLimit", state);
    if (err == BX_ERATELIMIT) {
        snprintf(retry, sizeof retry, "%d", rl.retry_after_s > 0 ? rl.retry_after_s : 1);
        fd_add_header(req, "Retry-After", retry);
        fd_reply_problem(req, BX_ERATELIMIT, "slow down: the rate limit for this kind of request is used up");
        return 0;
    }
    return 1;
}

static int s_authorize(fd_req_t *req)
{
    unsigned f = req->route->flags;
    bx_err_t err = fd_auth_request(req);
    if (err == BX_EUNAVAILABLE) {
        fd_add_header(req, "Retry-After", "2");
        fd_reply_problem(req, BX_EUNAVAILABLE, "sessions cannot be checked right now; try again shortly");
        return 0;
    }
    if (err != BX_OK) {
        fd_add_header(req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        fd_reply_problem(req, BX_EUNAUTHORIZED, "the access token is invalid or expired");
        return 0;
    }
    if ((f & (FD_AUTH | FD_ADMIN | FD_PARTNER)) && !req->who.authenticated) {
        fd_add_header(req, "WWW-Authenticate", "Bearer");
        fd_reply_problem(req, BX_EUNAUTHORIZED, "this request needs a bearer access token");
        return 0;
    }
    if ((f & FD_ADMIN) && strcmp(req->who.role, "admin")) {
        fd_reply_problem(req, BX_EFORBIDDEN, "this request needs the admin role");
        return 0;
    }
    if ((f & FD_PARTNER) && strcmp(req->who.role, "admin") && strcmp(req->who.role, "partner")) {
        fd_reply_problem(req, BX_EFORBIDDEN, "this request needs the partner role");
        return 0;
    }
    return 1;
}

/* The middleware chain: runs until something answers. */
static void s_dispatch(fd_req_t *req)
{
    char allow[128];
    bx_err_t err;
    if (!req->prechecked && fd_cors_apply(req))
        return;
    req->route = fd_route_find(req, &err, allow, sizeof allow);
    if (!req->route) {
        if (err == BX_EMETHOD)
            fd_add_header(req, "Allow", allow);
        fd_reply_problem(req, err, err == BX_EMETHOD ? "this resource does not support that method"
                                                     : "no resource at this path");
        return;
    }
    if (!req->prechecked && (!fd_negotiate(req) || !s_authorize(req) || !s_rate_limit(req)))
        return;
    if (!s_body(req))
        return;
    if (!req->t->pg && !(req->route->flags & FD_NO_DB)) {
        fd_add_header(req, "Retry-After", "2");
        fd_reply_problem(req, BX_EUNAVAILABLE, "the database is unreachable; try again shortly");
        return;
    }
    if (!strcmp(req->method, "POST") && !(req->route->flags & FD_NO_IDEM) && !fd_idem_begin(req))
        return;
    req->route->handler(req);
    if (req->t->suspended)
        return; /* req now belongs to the pipeline thread */
    if (req->state == FD_ST_NEW) {
        BX_ERROR("handler for %s %s gave no reply", req->method, req->route->pattern);
        fd_reply_problem(req, BX_EINTERNAL, NULL);
    }
    if (req->state == FD_ST_REPLIED && req->idem_active)
        fd_idem_finish(req);
}

/* Before the body arrives: the cap of the route it is for (FD_UPLOAD routes take
 * media_max_bytes and spool to a file, every other route body_max_bytes). */
static void s_body_plan(fd_req_t *req)
{
    char allow[128];
    bx_err_t err;
    req->spool_fd = -1;
    req->body_cap = (size_t)bx_config_int("body_max_bytes");
    if (!s_wants_body(req->method))
        return;
    req->route = fd_route_find(req, &err, allow, sizeof allow);
    req->spool = req->route && (req->route->flags & FD_UPLOAD);
    if (req->spool)
        req->body_cap = (size_t)bx_config_int("media_max_bytes");
}

/* The request declares a Content-Length over its route's cap. */
static int s_declared_too_large(fd_req_t *req)
{
    const char *cl = fd_header(req, "Content-Length");
    char *end;
    if (!cl || !s_wants_body(req->method))
        return 0;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    return !errno && end != cl && !*end && n > req->body_cap;
}

/* What the headers alone decide, before a byte of the body is read (MHD then sends the
 * answer and closes the connection instead of reading the rest): a declared
 * Content-Length over the cap is 413, and an upload (FD_UPLOAD) goes through CORS,
 * negotiation, authentication and rate limits now, so that nobody gets the frontdoor to
 * spool a body it would refuse. Returns 1 when an answer is prepared. */
static int s_early(fd_req_t *req)
{
    int too_large = s_declared_too_large(req);
    if (!too_large && !req->spool)
        return 0;
    req->t = fd_thread();
    s_client_ip(req);
    s_ids(req);
    if (too_large) {
        (void)fd_cors_apply(req);
        fd_reply_problem(req, BX_ETOOLARGE, "the request body is larger than the limit");
        return 1;
    }
    req->prechecked = 1;
    return fd_cors_apply(req) || !fd_negotiate(req) || !s_authorize(req) || !s_rate_limit(req);
}

/* An unlinked temporary file for a spooled upload, in media_dir: nothing is left behind
 * whatever happens to the process. Returns the descriptor or -1 (logged). */
static int s_spool_open(void)
{
    char path[PATH_MAX];
    const char *dir = bx_config_str("media_dir");
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    snprintf(path, sizeof path, "%s/.upload-XXXXXX", dir); /* no O_TMPFILE on this fs */
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    else
        BX_WARN("could not spool an upload in %s: %s", dir, strerror(errno));
    return fd;
}

/* Appends an upload chunk to the spool file; a failure is answered 503 later. */
static void s_spool_write(fd_req_t *req, const char *data, size_t n)
{
    if (req->spool_fd < 0 && !req->spool_failed)
        req->spool_fd = s_spool_open();
    while (req->spool_fd >= 0 && !req->spool_failed && n > 0) {
        ssize_t w = write(req->spool_fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            BX_WARN("could not spool an upload: %s", strerror(errno));
            break;
        }
        data += w;
        n -= (size_t)w;
    }
    req->spool_failed |= req->spool_fd < 0 || n > 0;
}

/* Takes a chunk of the body: kept in memory, spooled, or counted and dropped once the
 * body is over its cap. Returns 0 when memory ran out. */
static int s_body_take(fd_req_t *req, const char *data, size_t n)
{
    if (req->body_too_large || req->body_len + n > req->body_cap) {
        req->body_too_large = 1;
        return 1;
    }
    if (req->spool) {
        s_spool_write(req, data, n);
        req->body_len += n;
        return 1;
    }
    char *grown = realloc(req->body, req->body_len + n + 1);
    if (!grown)
        return 0;
    req->body = grown;
    memcpy(req->body + req->body_len, data, n);
    req->body_len += n;
    req->body[req->body_len] = '\0';
    return 1;
}

static enum MHD_Result s_access(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    fd_req_t *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->conn = conn;
        req->started_ms = bx_mono_ms();
        req->cache_max_age = -1;
        req->file_fd = -1;
        bx_strlcpy(req->method, method, sizeof req->method);
        bx_strlcpy(req->path, url, sizeof req->path);
        *con_cls = req;
        s_body_plan(req);
        if (s_early(req))
            return fd_reply_queue(req);
        return MHD_YES; /* answering on the second call keeps the connection alive */
    }
    if (req->state == FD_ST_REPLIED) {
        *upload_size = 0; /* refused early: MHD discards the body */
        return MHD_YES;
    }
    if (*upload_size) {
        if (!s_body_take(req, upload, *upload_size))
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    req->t = fd_thread();
    req->t->suspended = 0;
    if (req->state == FD_ST_NEW) {
        if (!req->prechecked) {
            s_client_ip(req);
            s_ids(req);
        }
        bx_log_context(req->req_id, req->trace_id, NULL);
        s_dispatch(req);
    } else if (req->state == FD_ST_RESUMED) {
        bx_log_context(req->req_id, req->trace_id, req->pipe_id);
        fd_pipeline_finish(req);
        if (req->idem_active)
            fd_idem_finish(req);
    }
    if (req->t->suspended)
        return MHD_YES;
    return fd_reply_queue(req);
}

static void s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    fd_req_t *req = *con_cls;
    if (req)
        fd_req_free(req);
    *con_cls = NULL;
}

static void s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    BX_WARN("http: %s", msg);
}

fd_server_t *fd_server_new(void)
{
    fd_server_t *self = calloc(1, sizeof *self);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)bx_config_int("http_port"))};
    if (!self)
        return NULL;
    if (inet_pton(AF_INET, bx_config_str("http_bind"), &addr.sin_addr) != 1) {
        BX_ERROR("could not listen: http_bind %s is not an IPv4 address", bx_config_str("http_bind"));
        free(self);
        return NULL;
    }
    self->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
        0, NULL, NULL, s_access, NULL, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)bx_config_int("http_threads"),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)bx_config_int("http_max_connections"),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)bx_config_int("http_timeout_s"),
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1, MHD_OPTION_END);
    if (!self->daemon) {
        BX_ERROR("could not listen on %s:%ld", bx_config_str("http_bind"), bx_config_int("http_port"));
        free(self);
        return NULL;
    }
    return self;
}

void fd_server_destroy(fd_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    MHD_stop_daemon((*self_p)->daemon);
    free(*self_p);
    *self_p = NULL;
}
