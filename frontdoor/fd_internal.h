/* fd_internal: what the frontdoor's own modules share: the per-request state behind the
 * opaque fd_req_t, the per-thread resources, and the entry points between modules. Not
 * for handlers: they use fd.h only. */
#ifndef FD_INTERNAL_H
#define FD_INTERNAL_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "fd.h"

#define FD_MAX_PARAMS 4
#define FD_MAX_HEADERS 16

/* Where a request stands in its life. */
typedef enum {
    FD_ST_NEW = 0,    /* headers seen, body arriving */
    FD_ST_SUSPENDED,  /* waiting for the pipeline */
    FD_ST_RESUMED,    /* pipeline answered (or gave up); build the reply */
    FD_ST_REPLIED,    /* response is ready to queue */
} fd_state_t;

/* Pipeline outcome written by the pipeline thread before it resumes the connection. */
typedef enum { FD_PIPE_NONE = 0, FD_PIPE_REPLY, FD_PIPE_NAK, FD_PIPE_TIMEOUT } fd_pipe_t;

/* The calling MHD thread's connections, created lazily. */
typedef struct {
    bx_pg_t *pg;       /* NULL while PostgreSQL is unreachable */
    int64_t pg_retry;  /* monotonic ms of the next connect attempt */
    bx_redis_t *redis; /* never NULL after first use */
    void *push;        /* zsock_t PUSH to the pipeline thread */
    int suspended;     /* the request being handled was handed to the pipeline */
    void *auth_cache;  /* fd_auth's verified-token cache, heap */
} fd_thread_t;

struct fd_req {
    struct MHD_Connection *conn;     /* borrowed from MHD */
    fd_state_t state;                /* life-cycle state */
    const fd_route_t *route;         /* matched route or NULL */
    char method[8];                  /* request method */
    char path[512];                  /* URL path, without query */
    char params[FD_MAX_PARAMS][2][128]; /* path parameter names and values */
    int nparams;                     /* number of path parameters */
    char *body;                      /* raw body, heap, NUL-terminated */
    size_t body_len;                 /* bytes in body (or in spool_fd) */
    size_t body_cap;                 /* the route's body cap, known before the body */
    int body_too_large;              /* body passed the cap: answer 413 */
    int spool;                       /* FD_UPLOAD route: the body goes to spool_fd */
    int spool_fd;                    /* unlinked temporary file of the body, or -1 */
    int spool_failed;                /* writing the spool failed: answer 503 */
    int prechecked;                  /* an upload's headers passed CORS, negotiation, auth
                                        and rate limits before its body was read */
    json_t *json;                    /* parsed body */
    fd_principal_t who;              /* authenticated caller */
    char req_id[65];                 /* X-Request-Id */
    char trace_id[33];               /* W3C trace id */
    char span_id[17];                /* our span id */
    char ip[64];                     /* client address */
    int64_t started_ms;              /* monotonic start */
    fd_thread_t *t;                  /* calling thread's resources */
    /* reply */
    int status;                      /* HTTP status */
    char *resp;                      /* response body, heap */
    size_t resp_len;                 /* bytes in resp */
    char ctype[64];                  /* response content type */
    char *hdr[FD_MAX_HEADERS][2];    /* extra response headers, heap */
    int nhdr;                        /* number of extra headers */
    int cache_max_age;               /* -1: no-store; else max-age */
    int cache_public;                /* Cache-Control public */
    int cache_immutable;             /* Cache-Control immutable */
    int file_fd;                     /* reply body from this file (owned), or -1 */
    uint64_t file_off;               /* first byte of the file to send */
    uint64_t file_len;               /* bytes of the file to send */
    int64_t last_modified;           /* epoch seconds or 0 */
    int want_xml;                    /* Accept negotiated XML */
    struct MHD_Response *stream;     /* a streamed reply (fd_reply_stream), owned until queued */
    /* idempotency */
    int idem_active;                 /* this request owns an idempotency record */
    char idem_scope[72];             /* user id or ip:<addr> */
    char idem_key[256];              /* Idempotency-Key */
    /* pipeline */
    char pipe_id[37];                /* durable request id */
    fd_pipe_t pipe;                  /* outcome from the pipeline thread */
    int retry_after;                 /* NAK retry-after seconds */
    int wait_ms;                     /* how long the client agreed to wait */
};

/* ---- fd_server.c ---- */
typedef struct fd_server fd_server_t;
fd_server_t *fd_server_new(void);
void fd_server_destroy(fd_server_t **self_p);
/* The per-thread resources of the calling thread (created on first use). */
fd_thread_t *fd_thread(void);

/* ---- fd_router.c ---- */
/* Finds the route for method and path; fills params. Returns NULL with *err set to
 * BX_ENOTFOUND (no such path) or BX_EMETHOD (path exists; allow lists its methods). */
const fd_route_t *fd_route_find(fd_req_t *req, bx_err_t *err, char *allow, size_t cap);
/* Every route, in order, ending with {NULL}: for the OpenAPI cross-check. */
const fd_route_t *const *fd_route_lists(void);

/* ---- fd_reply.c ---- */
/* Renders and queues the prepared reply on the connection. */
enum MHD_Result fd_reply_queue(fd_req_t *req);
/* Chooses JSON or XML from Accept; prepares a 406 and returns 0 when neither fits. */
int fd_negotiate(fd_req_t *req);
/* Frees everything the request holds. */
void fd_req_free(fd_req_t *req);
/* Answers 200 with a streamed response r (taken: queued with the standard and extra
 * headers, never gzipped or cached, then released). For fd_sse's event streams. */
void fd_reply_stream(fd_req_t *req, struct MHD_Response *r);

/* ---- fd_auth.c ---- */
/* Loads the key ring. BX_OK or an error (logged). */
bx_err_t fd_auth_init(void);
void fd_auth_shutdown(void);
/* Verifies the Authorization header if any; fills req->who. BX_EUNAUTHORIZED on a bad,
 * expired or revoked token; BX_EUNAVAILABLE when its session cannot be checked now;
 * BX_OK with who.authenticated=0 when there is none. */
bx_err_t fd_auth_request(fd_req_t *req);
/* JWKS document (borrowed, static after init). */
const char *fd_auth_jwks(void);

/* ---- fd_idem.c ---- */
/* Applies Idempotency-Key to a POST. Returns 1 when the request may proceed, 0 when a
 * reply (replay, 409, 422, 400) has already been prepared. */
int fd_idem_begin(fd_req_t *req);
/* Records the prepared reply for the key (or forgets the key on 5xx/409/429). */
void fd_idem_finish(fd_req_t *req);

/* ---- fd_pipeline.c ---- */
bx_err_t fd_pipeline_start(void);
void fd_pipeline_stop(void);
/* Hands a suspended request to the pipeline thread. */
bx_err_t fd_pipeline_send(fd_req_t *req, const char *service, const char *route_key,
                          const char *payload);
/* Builds the reply of a resumed pipeline request. */
void fd_pipeline_finish(fd_req_t *req);
/* 1 when the broker answered recently. */
int fd_pipeline_broker_up(void);

/* ---- fd_requests.c ---- */
/* Renders the request resource id into a reply (status 201/200 when finished with its
 * result, 202 while queued or running). Used by GET and by idempotent replays. */
void fd_requests_render(fd_req_t *req, const char *id, int replay);
/* GET /api/v1/requests/{requestId}: the owner (or an admin) reads a request. */
void fd_requests_get(fd_req_t *req);

#endif
