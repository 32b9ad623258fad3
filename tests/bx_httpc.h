/* bx_httpc: a tiny blocking HTTP client (libcurl) for integration tests: one call per
 * request, the whole response captured. */
#ifndef BX_HTTPC_H
#define BX_HTTPC_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
    long status;   /* HTTP status, 0 if the request failed */
    char *headers; /* raw response headers, heap */
    char *body;    /* response body, heap, NUL-terminated */
    size_t len;    /* body length */
    json_t *json;  /* body parsed as JSON when it is, else NULL */
} bx_httpc_resp_t;

/* Performs method url with optional NULL-terminated "Name: value" headers and body
 * (len bytes; Content-Type must be among headers if wanted). Never fails the test
 * itself: status is 0 on transport errors. Free with bx_httpc_free. */
bx_httpc_resp_t bx_httpc(const char *method, const char *url, const char *const *headers,
                         const char *body, size_t len);

/* Same, with a JSON body (Content-Type: application/json added) and a bearer token
 * (may be NULL). */
bx_httpc_resp_t bx_httpc_json(const char *method, const char *url, const char *token,
                              const char *body, const char *const *extra_headers);

/* Value of response header name (case-insensitive), copied into out; 1 if found. */
int bx_httpc_header(const bx_httpc_resp_t *r, const char *name, char *out, size_t cap);

void bx_httpc_free(bx_httpc_resp_t *r);

#endif
