/* bx_err: names, HTTP statuses and problem types for the project's error enum. */
#include "bx_err.h"

#include <string.h>

typedef struct {
    const char *str;   /* short name */
    int status;        /* HTTP status */
    const char *slug;  /* last path segment of the problem type */
    const char *title; /* problem title */
} s_err_info_t;

static const s_err_info_t s_errs[BX_ERR_COUNT] = {
    [BX_OK] = {"ok", 200, "ok", "OK"},
    [BX_EINVAL] = {"invalid input", 400, "validation-failed", "Your request is not valid"},
    [BX_EMALFORMED] = {"malformed body", 400, "malformed-body", "The body could not be parsed"},
    [BX_EUNAUTHORIZED] = {"unauthorized", 401, "unauthorized", "Authentication is required"},
    [BX_EFORBIDDEN] = {"forbidden", 403, "forbidden", "You may not do this"},
    [BX_ENOTFOUND] = {"not found", 404, "not-found", "Resource not found"},
    [BX_EMETHOD] = {"method not allowed", 405, "method-not-allowed", "Method not allowed"},
    [BX_ENOTACCEPTABLE] = {"not acceptable", 406, "not-acceptable", "No acceptable representation"},
    [BX_ECONFLICT] = {"conflict", 409, "conflict", "The request conflicts with current state"},
    [BX_EGONE] = {"gone", 410, "gone", "Resource is gone"},
    [BX_EPRECONDITION] = {"precondition failed", 412, "precondition-failed", "Precondition failed"},
    [BX_ETOOLARGE] = {"too large", 413, "payload-too-large", "The body is too large"},
    [BX_EMEDIATYPE] = {"unsupported media type", 415, "unsupported-media-type",
                       "Unsupported media type"},
    [BX_EUNPROCESSABLE] = {"unprocessable", 422, "unprocessable", "The request cannot be processed"},
    [BX_ERATELIMIT] = {"rate limited", 429, "rate-limited", "Too many requests"},
    [BX_EINTERNAL] = {"internal error", 500, "internal", "Internal error"},
    [BX_EUNAVAILABLE] = {"unavailable", 503, "unavailable", "Service temporarily unavailable"},
    [BX_ETIMEOUT] = {"timeout", 504, "timeout", "An upstream dependency timed out"},
    [BX_ERETRY] = {"transient conflict", 503, "unavailable", "Service temporarily unavailable"},
    [BX_ENOMEM] = {"out of memory", 500, "internal", "Internal error"},
};

static const s_err_info_t *s_info(bx_err_t err)
{
    if ((int)err < 0 || err >= BX_ERR_COUNT)
        return &s_errs[BX_EINTERNAL];
    return &s_errs[err];
}

const char *bx_err_str(bx_err_t err)
{
    return s_info(err)->str;
}

int bx_err_http_status(bx_err_t err)
{
    return s_info(err)->status;
}

const char *bx_err_title(bx_err_t err)
{
    return s_info(err)->title;
}

/* Static strings: one per slug, built at compile time. */
#define BX_PT(s) "https://boxoffice.dev/problems/" s
const char *bx_err_problem_type(bx_err_t err)
{
    static const char *const types[BX_ERR_COUNT] = {
        [BX_OK] = BX_PT("ok"),
        [BX_EINVAL] = BX_PT("validation-failed"),
        [BX_EMALFORMED] = BX_PT("malformed-body"),
        [BX_EUNAUTHORIZED] = BX_PT("unauthorized"),
        [BX_EFORBIDDEN] = BX_PT("forbidden"),
        [BX_ENOTFOUND] = BX_PT("not-found"),
        [BX_EMETHOD] = BX_PT("method-not-allowed"),
        [BX_ENOTACCEPTABLE] = BX_PT("not-acceptable"),
        [BX_ECONFLICT] = BX_PT("conflict"),
        [BX_EGONE] = BX_PT("gone"),
        [BX_EPRECONDITION] = BX_PT("precondition-failed"),
        [BX_ETOOLARGE] = BX_PT("payload-too-large"),
        [BX_EMEDIATYPE] = BX_PT("unsupported-media-type"),
        [BX_EUNPROCESSABLE] = BX_PT("unprocessable"),
        [BX_ERATELIMIT] = BX_PT("rate-limited"),
        [BX_EINTERNAL] = BX_PT("internal"),
        [BX_EUNAVAILABLE] = BX_PT("unavailable"),
        [BX_ETIMEOUT] = BX_PT("timeout"),
        [BX_ERETRY] = BX_PT("unavailable"),
        [BX_ENOMEM] = BX_PT("internal"),
    };
    if ((int)err < 0 || err >= BX_ERR_COUNT)
        return types[BX_EINTERNAL];
    return types[err];
}

bx_err_t bx_err_from_sqlstate(const char *sqlstate)
{
    if (!sqlstate || strlen(sqlstate) != 5)
        return BX_EINTERNAL;
    if (!strcmp(sqlstate, "23505") || !strcmp(sqlstate, "23P01"))
        return BX_ECONFLICT;
    if (!strcmp(sqlstate, "40001") || !strcmp(sqlstate, "40P01") || !strcmp(sqlstate, "55P03"))
        return BX_ERETRY;
    if (!strcmp(sqlstate, "23502") || !strcmp(sqlstate, "23503") || !strcmp(sqlstate, "23514"))
        return BX_EINVAL;
    if (!strncmp(sqlstate, "22", 2))
        return BX_EINVAL;
    if (!strcmp(sqlstate, "57014"))
        return BX_ETIMEOUT;
    if (!strncmp(sqlstate, "08", 2) || !strcmp(sqlstate, "57P01") || !strcmp(sqlstate, "57P03"))
        return BX_EUNAVAILABLE;
    return BX_EINTERNAL;
}
