/* fd: the frontdoor's handler contract. A handler receives an fd_req_t for one HTTP
 * request, reads its inputs, and answers with exactly one fd_reply_* or fd_submit call.
 * Everything a handler touches (PostgreSQL, Redis) belongs to the calling MHD thread.
 * Ownership: functions that take json_t * take the reference ("stolen"); strings passed
 * in are copied; strings returned are borrowed from the request and live until it ends. */
#ifndef FD_H
#define FD_H

#include <jansson.h>
#include <stdint.h>

#include "bx_err.h"
#include "bx_json.h"
#include "bx_pg.h"
#include "bx_redis.h"

typedef struct fd_req fd_req_t;
typedef void (*fd_handler_fn)(fd_req_t *req);

/* Route flags. */
enum {
    FD_AUTH = 1 << 0,       /* requires a valid bearer access token */
    FD_ADMIN = 1 << 1,      /* role admin */
    FD_PARTNER = 1 << 2,    /* role partner or admin */
    FD_RAW_BODY = 1 << 3,   /* body is not JSON (uploads): handler reads fd_body_raw */
    FD_NO_IDEM = 1 << 4,    /* POST that ignores Idempotency-Key (login, refresh, logout) */
    FD_OPT_AUTH = 1 << 5,   /* a bearer token is used when present, not required */
    FD_NO_DB = 1 << 6,      /* served without PostgreSQL (health, metrics, keys) */
    FD_ANY_ACCEPT = 1 << 7, /* one fixed representation (metrics text, HTML): no 406 */
    FD_UPLOAD = 1 << 8,     /* raw body up to media_max_bytes (not body_max_bytes), spooled
                               to an unlinked temporary file, never held in memory: the
                               handler reads fd_body_file. A declared Content-Length over
                               the cap is answered 413 before any of the body is read. */
};

/* Rate-limit classes (see fd_ratelimit). */
typedef enum { FD_RL_READ = 0, FD_RL_WRITE, FD_RL_AUTH, FD_RL_NONE, FD_RL_COUNT } fd_rl_class_t;

typedef struct {
    const char *method;             /* "GET", "POST", "PUT", "DELETE" */
    const char *pattern;            /* "/api/v1/events/{eventId}"; {x} matches one segment */
    fd_handler_fn handler;          /* called with the request */
    unsigned flags;                 /* FD_* */
    fd_rl_class_t rl;               /* rate-limit class */
    const bx_jfield_t *body_schema; /* validated before the handler runs; NULL: none */
} fd_route_t;

#define FD_MAX_ORGS 8

/* The authenticated caller. */
typedef struct {
    int authenticated;  /* 1 when a valid access token was presented */
    char user_id[37];   /* sub claim */
    char session_id[37];/* sid claim */
    char role[16];      /* customer, partner, admin, scanner */
    char jti[64];       /* token id */
    int64_t exp;        /* expiry, epoch seconds */
    char orgs[FD_MAX_ORGS][37]; /* partner organizations from the token (a hint: handlers
                                   check membership in PostgreSQL for writes) */
    int norgs;          /* entries in orgs */
} fd_principal_t;

/* ---- inputs ---- */
const char *fd_method(fd_req_t *req);
const char *fd_path(fd_req_t *req);
/* Path parameter by name ("eventId"), or NULL. */
const char *fd_param(fd_req_t *req, const char *name);
/* Query argument (percent-decoded), or NULL. */
const char *fd_query(fd_req_t *req, const char *name);
/* Calls fn(name, value, arg) for every query argument in the order given, duplicates
 * included (value is NULL for a bare "?name"); stops early when fn returns non-zero.
 * Returns the number of arguments visited. Strings are borrowed for the call only. */
int fd_query_each(fd_req_t *req, int (*fn)(const char *name, const char *value, void *arg),
                  void *arg);
/* Request header, or NULL. */
const char *fd_header(fd_req_t *req, const char *name);
/* Parsed, schema-checked JSON body (object), or NULL when there was none. Borrowed. */
json_t *fd_body(fd_req_t *req);
/* Raw body bytes (FD_RAW_BODY routes). */
const char *fd_body_raw(fd_req_t *req, size_t *len);
/* The spooled body of an FD_UPLOAD route: a readable file descriptor positioned
 * anywhere (borrowed: closed when the request ends; use pread or mmap) with *len bytes,
 * or -1 with *len 0 when no body was sent. */
int fd_body_file(fd_req_t *req, size_t *len);
const fd_principal_t *fd_who(fd_req_t *req);
/* Request id (UUIDv7 or the client's valid X-Request-Id) and W3C trace id. */
const char *fd_req_id(fd_req_t *req);
const char *fd_trace_id(fd_req_t *req);
/* Client IP as text. */
const char *fd_client_ip(fd_req_t *req);
/* The calling thread's connections. */
bx_pg_t *fd_pg(fd_req_t *req);
bx_redis_t *fd_redis(fd_req_t *req);

/* ---- outputs: exactly one of reply/problem/submit per request ---- */
/* Answers status with doc (stolen) as application/json, or XML if negotiated. */
void fd_reply_json(fd_req_t *req, int status, json_t *doc);
/* Answers an RFC 9457 problem: status and type from err, detail (copied, may be NULL). */
void fd_reply_problem(fd_req_t *req, bx_err_t err, const char *detail);
/* Same, with extra members (stolen object merged into the problem, e.g. "errors"). */
void fd_reply_problem_ext(fd_req_t *req, bx_err_t err, const char *detail, json_t *ext);
/* Answers raw bytes (copied) with a content type. */
void fd_reply_raw(fd_req_t *req, int status, const char *ctype, const void *body, size_t len);
/* Answers 200 with len bytes of immutable content from the open file fd (stolen: closed
 * by the frontdoor), sent by the kernel from the file, never copied into memory nor
 * gzipped. etag (copied) is the content's strong validator, sent quoted; the reply
 * carries Cache-Control "<public|private>, max-age=31536000, immutable" and
 * Accept-Ranges. A matching If-None-Match answers 304 without the body; one byte range
 * (Range: bytes=a-b, a-, -n; honoured unless If-Range names another validator) answers
 * 206 with Content-Range, an unsatisfiable one 416; several ranges get the whole 200. */
void fd_reply_immutable_file(fd_req_t *req, const char *ctype, int fd, uint64_t len,
                             const char *etag, int is_public);
/* Answers 204 No Content. */
void fd_reply_empty(fd_req_t *req, int status);
/* Adds a response header (copied). Call before replying. */
void fd_add_header(fd_req_t *req, const char *name, const char *value);
/* Marks the reply cacheable: Cache-Control (max_age seconds, private unless public set),
 * Last-Modified when last_modified > 0; the ETag is the hash of the body and a matching
 * If-None-Match turns the reply into 304. */
void fd_cacheable(fd_req_t *req, int max_age, int is_public, int64_t last_modified);

/* Records a durable pipeline request for service (payload stolen), hands it to the
 * broker, and answers later: 201/200 with the result when it arrives within the client's
 * Prefer: wait, else 202 + Location. route_key (may be NULL) keeps related jobs on one
 * worker. On an immediate failure (database down, queue full) answers the problem itself. */
void fd_submit(fd_req_t *req, const char *service, const char *route_key, json_t *payload);

/* ---- JSON:API-style documents (spec's example shape) ---- */
/* {"id", "type", "attributes": attrs (stolen), "links": {"self": self}} */
json_t *fd_resource(const char *type, const char *id, json_t *attrs, const char *self);
/* {"data": data (stolen)} plus optional links (stolen, may be NULL). */
json_t *fd_document(json_t *data, json_t *links);

/* Writes an audit record (best effort, logged on failure). detail stolen, may be NULL. */
void fd_audit(fd_req_t *req, const char *action, const char *object_type, const char *object_id,
              json_t *detail);

#endif
