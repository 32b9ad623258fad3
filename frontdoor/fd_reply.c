/* fd_reply: everything about answering: request accessors, JSON/problem/raw replies,
 * content negotiation (JSON or XML), gzip, ETag/304, caching and security headers, and
 * immutable file replies with byte ranges. */
#include "fd_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

#include "bx_log.h"
#include "bx_metrics.h"
#include "bx_util.h"
#include "fd_cors.h"
#include "fd_xml.h"

/* ---- inputs ---- */

const char *fd_method(fd_req_t *req)
{
    return req->method;
}

const char *fd_path(fd_req_t *req)
{
    return req->path;
}

const char *fd_param(fd_req_t *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (!strcmp(req->params[i][0], name))
            return req->params[i][1];
    return NULL;
}

const char *fd_query(fd_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Adapts MHD's iterator to fd_query_each's callback. */
typedef struct {
    int (*fn)(const char *name, const char *value, void *arg); /* caller's callback */
    void *arg;                                                  /* its argument */
} s_each_t;

static enum MHD_Result s_each(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    s_each_t *e = cls;
    (void)kind;
    return e->fn(key, value, e->arg) ? MHD_NO : MHD_YES;
}

int fd_query_each(fd_req_t *req, int (*fn)(const char *name, const char *value, void *arg),
                  void *arg)
{
    s_each_t e = {fn, arg};
    return MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, s_each, &e);
}

const char *fd_header(fd_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

json_t *fd_body(fd_req_t *req)
{
    return req->json;
}

const char *fd_body_raw(fd_req_t *req, size_t *len)
{
    *len = req->body_len;
    return req->body;
}

int fd_body_file(fd_req_t *req, size_t *len)
{
    *len = req->spool_fd >= 0 ? req->body_len : 0;
    return req->spool_fd;
}

const fd_principal_t *fd_who(fd_req_t *req)
{
    return &req->who;
}

const char *fd_req_id(fd_req_t *req)
{
    return req->req_id;
}

const char *fd_trace_id(fd_req_t *req)
{
    return req->trace_id;
}

const char *fd_client_ip(fd_req_t *req)
{
    return req->ip;
}

bx_pg_t *fd_pg(fd_req_t *req)
{
    return req->t->pg;
}

bx_redis_t *fd_redis(fd_req_t *req)
{
    return req->t->redis;
}

/* ---- outputs ---- */

static void s_set_body(fd_req_t *req, int status, const char *ctype, char *body, size_t len)
{
    if (req->file_fd >= 0)
        close(req->file_fd); /* a later reply replaces a file reply */
    req->file_fd = -1;
    free(req->resp);
    req->resp = body;
    req->resp_len = len;
    req->status = status;
    bx_strlcpy(req->ctype, ctype, sizeof req->ctype);
    req->state = FD_ST_REPLIED;
}

void fd_add_header(fd_req_t *req, const char *name, const char *value)
{
    if (req->nhdr == FD_MAX_HEADERS) {
        BX_WARN("too many response headers; dropped %s", name);
        return;
    }
    req->hdr[req->nhdr][0] = strdup(name);
    req->hdr[req->nhdr][1] = strdup(value);
    req->nhdr++;
}

void fd_reply_json(fd_req_t *req, int status, json_t *doc)
{
    char *text = NULL;
    if (doc && req->want_xml) {
        text = fd_xml_render(doc);
        if (text) {
            s_set_body(req, status, "application/xml; charset=utf-8", text, strlen(text));
            json_decref(doc);
            return;
        }
    }
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) {
        fd_reply_problem(req, BX_ENOMEM, NULL);
        return;
    }
    s_set_body(req, status, "application/json", text, strlen(text));
}

void fd_reply_problem_ext(fd_req_t *req, bx_err_t err, const char *detail, json_t *ext)
{
    json_t *p = json_pack("{s:s, s:s, s:i, s:s}", "type", bx_err_problem_type(err), "title",
                          bx_err_title(err), "status", bx_err_http_status(err), "instance",
                          req->path);
    if (p && detail)
        json_object_set_new(p, "detail", json_string(detail));
    if (p)
        json_object_set_new(p, "request_id", json_string(req->req_id));
    if (p && ext)
        json_object_update(p, ext);
    json_decref(ext);
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!text)
        text = strdup("{\"type\":\"https://boxoffice.dev/problems/internal\",\"status\":500}");
    if (bx_err_http_status(err) >= 500)
        BX_WARN("answering %d: %s", bx_err_http_status(err), detail ? detail : bx_err_str(err));
    req->want_xml = 0; /* problems are always problem+json */
    s_set_body(req, bx_err_http_status(err), "application/problem+json", text, text ? strlen(text) : 0);
}

void fd_reply_problem(fd_req_t *req, bx_err_t err, const char *detail)
{
    fd_reply_problem_ext(req, err, detail, NULL);
}

void fd_reply_raw(fd_req_t *req, int status, const char *ctype, const void *body, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) {
        fd_reply_problem(req, BX_ENOMEM, NULL);
        return;
    }
    memcpy(copy, body, len);
    copy[len] = '\0';
    s_set_body(req, status, ctype, copy, len);
}

void fd_reply_empty(fd_req_t *req, int status)
{
    s_set_body(req, status, "", NULL, 0);
}

/* Reads a decimal byte position; 0 when s does not start with one. */
static int s_range_num(const char **s, uint64_t *v)
{
    char *end;
    if (**s < '0' || **s > '9')
        return 0;
    errno = 0;
    unsigned long long n = strtoull(*s, &end, 10);
    if (errno)
        return 0;
    *v = n;
    *s = end;
    return 1;
}

/* One range of "bytes=a-b", "bytes=a-" or "bytes=-n" over len bytes. Returns 1 with the
 * span, -1 when it cannot be satisfied, 0 when the header is to be ignored (absent,
 * malformed, several ranges). */
static int s_range(const char *h, uint64_t len, uint64_t *off, uint64_t *n)
{
    uint64_t a = 0, b = len - 1;
    if (!h || strncmp(h, "bytes=", 6) || strchr(h, ','))
        return 0;
    h += 6;
    if (*h == '-') {
        h++;
        if (!s_range_num(&h, &a) || *h)
            return 0;
        if (a == 0)
            return -1;
        *off = a >= len ? 0 : len - a;
        *n = len - *off;
        return 1;
    }
    if (!s_range_num(&h, &a) || *h++ != '-' || (*h && (!s_range_num(&h, &b) || *h)))
        return 0;
    if (a >= len)
        return -1;
    if (b < a)
        return 0;
    *off = a;
    *n = (b >= len ? len - 1 : b) - a + 1;
    return 1;
}

/* Does the client's If-None-Match name quoted (or "*")? Weak comparison. */
static int s_inm_matches(fd_req_t *req, const char *quoted)
{
    const char *inm = fd_header(req, "If-None-Match");
    return inm && (strstr(inm, quoted) || !strcmp(inm, "*"));
}

void fd_reply_immutable_file(fd_req_t *req, const char *ctype, int fd, uint64_t len,
                             const char *etag, int is_public)
{
    char quoted[80], cr[96];
    uint64_t off = 0, n = len;
    const char *ir = fd_header(req, "If-Range");
    snprintf(quoted, sizeof quoted, "\"%s\"", etag);
    fd_add_header(req, "ETag", quoted);
    fd_add_header(req, "Accept-Ranges", "bytes");
    fd_cacheable(req, 31536000, is_public, 0);
    req->cache_immutable = 1;
    /* RFC 9110 13.2.2: If-None-Match before Range; If-Range only with our validator */
    int not_modified = s_inm_matches(req, quoted);
    int range = not_modified || (ir && strcmp(ir, quoted)) || len == 0
                    ? 0
                    : s_range(fd_header(req, "Range"), len, &off, &n);
    if (not_modified || range < 0) {
        close(fd);
        if (range < 0) {
            snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)len);
            fd_add_header(req, "Content-Range", cr);
        }
        fd_reply_empty(req, not_modified ? 304 : 416);
        return;
    }
    s_set_body(req, range > 0 ? 206 : 200, ctype, NULL, 0);
    if (range > 0) {
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)off,
                 (unsigned long long)(off + n - 1), (unsigned long long)len);
        fd_add_header(req, "Content-Range", cr);
    }
    req->file_fd = fd;
    req->file_off = off;
    req->file_len = n;
}

void fd_cacheable(fd_req_t *req, int max_age, int is_public, int64_t last_modified)
{
    req->cache_max_age = max_age;
    req->cache_public = is_public;
    req->last_modified = last_modified;
}

json_t *fd_resource(const char *type, const char *id, json_t *attrs, const char *self)
{
    json_t *r = json_pack("{s:s, s:s, s:o}", "id", id, "type", type, "attributes",
                          attrs ? attrs : json_object());
    if (r && self)
        json_object_set_new(r, "links", json_pack("{s:s}", "self", self));
    return r;
}

json_t *fd_document(json_t *data, json_t *links)
{
    json_t *d = json_pack("{s:o}", "data", data ? data : json_null());
    if (d && links)
        json_object_set_new(d, "links", links);
    else
        json_decref(links);
    return d;
}

/* ---- negotiation ---- */

/* Picks JSON (default) or XML from Accept. Answers 406 when neither is acceptable. */
int fd_negotiate(fd_req_t *req)
{
    const char *acc = fd_header(req, "Accept");
    if (!acc || !*acc)
        return 1;
    const char *j = strstr(acc, "application/json"), *x = strstr(acc, "application/xml");
    int any = strstr(acc, "*/*") || strstr(acc, "application/*") ||
              strstr(acc, "application/problem+json");
    if (x && (!j || x < j))
        req->want_xml = 1;
    if (!j && !x && !any && !(req->route->flags & FD_ANY_ACCEPT)) {
        fd_reply_problem(req, BX_ENOTACCEPTABLE,
                         "this resource is available as application/json or application/xml");
        return 0;
    }
    return 1;
}

/* ---- rendering ---- */

static int s_accepts_gzip(fd_req_t *req)
{
    const char *ae = fd_header(req, "Accept-Encoding");
    return ae && strstr(ae, "gzip") && !strstr(ae, "gzip;q=0");
}

/* Gzips req->resp in place when worthwhile. Returns 1 if the body is now gzip. */
static int s_gzip(fd_req_t *req)
{
    z_stream z = {0};
    if (req->resp_len < 1024 || deflateInit2(&z, 5, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    uLong cap = deflateBound(&z, (uLong)req->resp_len);
    unsigned char *out = malloc(cap);
    int ok = 0;
    if (out) {
        z.next_in = (unsigned char *)req->resp;
        z.avail_in = (uInt)req->resp_len;
        z.next_out = out;
        z.avail_out = (uInt)cap;
        ok = deflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out < req->resp_len;
    }
    deflateEnd(&z);
    if (!ok) {
        free(out);
        return 0;
    }
    free(req->resp);
    req->resp = (char *)out;
    req->resp_len = z.total_out;
    return 1;
}

/* Weak ETag over the identity body; 1 when If-None-Match matches it. */
static int s_etag(fd_req_t *req, char etag[72])
{
    char hex[65];
    bx_sha256_hex(req->resp ? req->resp : "", req->resp_len, hex);
    snprintf(etag, 72, "W/\"%.32s\"", hex);
    const char *inm = fd_header(req, "If-None-Match");
    if (inm)
        return strstr(inm, etag + 2) != NULL || !strcmp(inm, "*");
    /* RFC 9110 13.1.3: If-Modified-Since only counts without If-None-Match. */
    const char *ims = fd_header(req, "If-Modified-Since");
    struct tm tm = {0};
    if (!ims || req->last_modified <= 0 || !strptime(ims, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        return 0;
    return (int64_t)timegm(&tm) >= req->last_modified;
}

static void s_std_headers(fd_req_t *req, struct MHD_Response *r)
{
    char tp[64];
    MHD_add_response_header(r, "X-Request-Id", req->req_id);
    snprintf(tp, sizeof tp, "00-%s-%s-01", req->trace_id, req->span_id);
    MHD_add_response_header(r, "traceparent", tp);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Strict-Transport-Security", "max-age=63072000; includeSubDomains");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-site");
    /* API documents load nothing; our HTML pages load only their own inline styles. */
    MHD_add_response_header(r, "Content-Security-Policy",
                            strncmp(req->ctype, "text/html", 9)
                                ? "default-src 'none'; frame-ancestors 'none'"
                                : "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    for (int i = 0; i < req->nhdr; i++)
        MHD_add_response_header(r, req->hdr[i][0], req->hdr[i][1]);
}

static void s_cache_headers(fd_req_t *req, struct MHD_Response *r, const char *etag)
{
    char cc[64], lm[40];
    if (req->cache_max_age < 0) {
        MHD_add_response_header(r, "Cache-Control", "no-store");
    } else {
        snprintf(cc, sizeof cc, "%s, max-age=%d%s", req->cache_public ? "public" : "private",
                 req->cache_max_age, req->cache_immutable ? ", immutable" : "");
        MHD_add_response_header(r, "Cache-Control", cc);
    }
    if (etag)
        MHD_add_response_header(r, "ETag", etag);
    if (req->last_modified > 0) {
        bx_time_http(req->last_modified, lm);
        MHD_add_response_header(r, "Last-Modified", lm);
    }
}

/* Request counts by route pattern, method and status; latency by route pattern. The
 * route pattern (not the path) keeps label cardinality bounded. */
static bx_metric_t *s_total, *s_latency;
static pthread_once_t s_metrics_once = PTHREAD_ONCE_INIT;

static void s_metrics_init(void)
{
    s_total = bx_metrics_counter("bx_http_requests_total", "HTTP requests answered",
                                 "route,method,code");
    s_latency = bx_metrics_histogram("bx_http_request_duration_seconds",
                                     "time from request to response queued", "route", NULL, 0);
}

static void s_observe(fd_req_t *req, int status)
{
    char code[8];
    const char *route = req->route ? req->route->pattern : "unmatched";
    pthread_once(&s_metrics_once, s_metrics_init);
    snprintf(code, sizeof code, "%d", status);
    bx_counter_inc(bx_metric_series(s_total, route, req->method, code));
    bx_histogram_observe(bx_metric_series(s_latency, route),
                         (double)(bx_mono_ms() - req->started_ms) / 1000.0);
}

static void s_access_log(fd_req_t *req, int status, size_t bytes)
{
    char st[8], dur[24], len[24];
    snprintf(st, sizeof st, "%d", status);
    snprintf(dur, sizeof dur, "%lld", (long long)(bx_mono_ms() - req->started_ms));
    snprintf(len, sizeof len, "%zu", bytes);
    const char *kv[] = {"method", req->method, "path", req->path, "status", st, "dur_ms", dur,
                        "bytes", len, "ip", req->ip, "user_id", req->who.user_id, NULL};
    bx_log_kv(status >= 500 ? BX_LOG_WARN : BX_LOG_INFO, "http request", kv);
}

/* Queues a reply whose body is a span of a file (fd_reply_immutable_file): MHD sends it
 * from the file and closes the descriptor when done. */
static enum MHD_Result s_queue_file(fd_req_t *req)
{
    struct MHD_Response *r =
        MHD_create_response_from_fd_at_offset64(req->file_len, req->file_fd, req->file_off);
    if (!r)
        return MHD_NO; /* fd_req_free closes the descriptor */
    req->file_fd = -1; /* the response owns it now */
    s_std_headers(req, r);
    s_cache_headers(req, r, NULL);
    MHD_add_response_header(r, "Content-Type", req->ctype);
    MHD_add_response_header(r, "Vary", "Origin");
    enum MHD_Result rc = MHD_queue_response(req->conn, (unsigned int)req->status, r);
    MHD_destroy_response(r);
    s_access_log(req, req->status, (size_t)req->file_len);
    s_observe(req, req->status);
    return rc;
}

void fd_reply_stream(fd_req_t *req, struct MHD_Response *r)
{
    if (req->stream)
        MHD_destroy_response(req->stream);
    req->stream = r;
    req->status = 200;
    req->state = FD_ST_REPLIED;
}

/* Queues the streamed reply of req. */
static enum MHD_Result s_queue_stream(fd_req_t *req)
{
    struct MHD_Response *r = req->stream;
    req->stream = NULL;
    s_std_headers(req, r);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(req->conn, 200, r);
    MHD_destroy_response(r);
    s_access_log(req, 200, 0);
    s_observe(req, 200);
    return rc;
}

enum MHD_Result fd_reply_queue(fd_req_t *req)
{
    char etag[72];
    if (req->state == FD_ST_REPLIED && req->stream)
        return s_queue_stream(req);
    if (req->state == FD_ST_REPLIED && req->file_fd >= 0)
        return s_queue_file(req);
    int not_modified = 0, gz = 0, cacheable_get = !strcmp(req->method, "GET") && req->status == 200;
    if (req->state != FD_ST_REPLIED)
        fd_reply_problem(req, BX_EINTERNAL, NULL);
    if (cacheable_get)
        not_modified = s_etag(req, etag);
    if (!not_modified && s_accepts_gzip(req))
        gz = s_gzip(req);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        not_modified ? 0 : req->resp_len, not_modified ? NULL : req->resp, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    s_std_headers(req, r);
    s_cache_headers(req, r, cacheable_get ? etag : NULL);
    if (req->ctype[0] && !not_modified)
        MHD_add_response_header(r, "Content-Type", req->ctype);
    if (gz)
        MHD_add_response_header(r, "Content-Encoding", "gzip");
    if (cacheable_get || s_accepts_gzip(req))
        MHD_add_response_header(r, "Vary", "Accept, Accept-Encoding, Origin");
    int status = not_modified ? 304 : req->status;
    enum MHD_Result rc = MHD_queue_response(req->conn, (unsigned int)status, r);
    MHD_destroy_response(r);
    s_access_log(req, status, not_modified ? 0 : req->resp_len);
    s_observe(req, status);
    return rc;
}

void fd_req_free(fd_req_t *req)
{
    if (req->spool_fd >= 0)
        close(req->spool_fd);
    if (req->file_fd >= 0)
        close(req->file_fd);
    free(req->body);
    free(req->resp);
    json_decref(req->json);
    for (int i = 0; i < req->nhdr; i++) {
        free(req->hdr[i][0]);
        free(req->hdr[i][1]);
    }
    free(req);
}
