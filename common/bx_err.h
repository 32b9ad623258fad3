/* bx_err: the one error enum of the project, with its names, HTTP statuses, RFC 9457
 * problem types and the mapping from PostgreSQL SQLSTATE codes. */
#ifndef BX_ERR_H
#define BX_ERR_H

typedef enum {
    BX_OK = 0,
    BX_EINVAL,         /* input failed validation (400) */
    BX_EMALFORMED,     /* body is not parseable JSON / not UTF-8 (400) */
    BX_EUNAUTHORIZED,  /* missing, expired or forged credentials (401) */
    BX_EFORBIDDEN,     /* authenticated but not allowed (403) */
    BX_ENOTFOUND,      /* no such resource, or not visible to the caller (404) */
    BX_EMETHOD,        /* route exists, method does not (405) */
    BX_ENOTACCEPTABLE, /* no representation matches Accept (406) */
    BX_ECONFLICT,      /* state conflict: duplicate, already held, in flight (409) */
    BX_EGONE,          /* existed, now removed (410) */
    BX_EPRECONDITION,  /* If-Match failed (412) */
    BX_ETOOLARGE,      /* body over the size cap (413) */
    BX_EMEDIATYPE,     /* unsupported Content-Type (415) */
    BX_EUNPROCESSABLE, /* well-formed but semantically refused, e.g. idempotency mismatch (422) */
    BX_ERATELIMIT,     /* too many requests (429) */
    BX_EINTERNAL,      /* bug or unexpected failure (500) */
    BX_EUNAVAILABLE,   /* dependency down or queue full; retry later (503) */
    BX_ETIMEOUT,       /* a dependency did not answer in time (504) */
    BX_ERETRY,         /* transient database conflict (serialization, deadlock): retry */
    BX_ENOMEM,         /* allocation failed (500) */
    BX_ERR_COUNT
} bx_err_t;

/* Short lower-case name, e.g. "not found". Never NULL. */
const char *bx_err_str(bx_err_t err);

/* HTTP status for err (BX_OK is 200). */
int bx_err_http_status(bx_err_t err);

/* Stable RFC 9457 problem type URI for err, e.g.
 * "https://boxoffice.dev/problems/not-found". Never NULL. */
const char *bx_err_problem_type(bx_err_t err);

/* Human title for the problem document, e.g. "Resource not found". */
const char *bx_err_title(bx_err_t err);

/* Maps a five-character SQLSTATE to an error: 23505/23P01 conflict, 40001/40P01 retry,
 * 23502/23503/23514/22xxx invalid, 57014 timeout, 08xxx unavailable, else internal.
 * NULL maps to internal. */
bx_err_t bx_err_from_sqlstate(const char *sqlstate);

#endif
