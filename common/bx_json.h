/* bx_json: strict JSON input (size, depth and UTF-8 checked before jansson parses) and a
 * small declarative schema validator that rejects unknown fields and reports every
 * violation with a JSON Pointer. */
#ifndef BX_JSON_H
#define BX_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "bx_err.h"

/* Parses body (len bytes). Refuses invalid UTF-8, nesting deeper than max_depth, NUL
 * bytes, duplicate keys, and any top level but an object. On success *out is a new
 * reference. On failure returns BX_EMALFORMED and writes a lower-case reason (no input
 * echoed) into why (cap bytes). */
bx_err_t bx_json_parse(const char *body, size_t len, int max_depth, json_t **out, char *why,
                       size_t cap);

typedef enum {
    BX_JT_STRING = 1,
    BX_JT_INT,    /* integer only: 1.0 is refused */
    BX_JT_BOOL,
    BX_JT_OBJECT, /* validated only as an object; nested schema via .sub */
    BX_JT_ARRAY,  /* array; items validated by .sub when set (items must be objects) */
    BX_JT_NUMBER, /* integer or real */
} bx_jtype_t;

typedef enum {
    BX_FMT_NONE = 0,
    BX_FMT_EMAIL,    /* pragmatic RFC 5322 addr-spec subset */
    BX_FMT_UUID,     /* canonical UUID */
    BX_FMT_PHONE,    /* E.164: + and 8-15 digits */
    BX_FMT_URL,      /* absolute http(s) URL */
    BX_FMT_DATETIME, /* RFC 3339 with offset */
    BX_FMT_LOCALE,   /* BCP 47 subset: ll or ll-CC */
    BX_FMT_CURRENCY, /* ISO 4217 three upper-case letters */
    BX_FMT_SLUG,     /* [a-z0-9_-]+ */
    BX_FMT_NAME,     /* printable text: no control characters, no < or > */
} bx_jfmt_t;

typedef struct bx_jfield {
    const char *name;            /* member name; NULL ends the list */
    bx_jtype_t type;             /* required JSON type */
    int required;                /* 1 if it must be present */
    long min, max;               /* string: length in code points; int: value; array: items */
    bx_jfmt_t format;            /* string format */
    const char *const *one_of;   /* string must equal one of these (NULL-terminated) */
    const struct bx_jfield *sub; /* schema of an object, or of array items */
    int nullable;                /* JSON null accepted */
} bx_jfield_t;

/* Checks obj against fields. Unknown members are errors. Returns BX_OK, or BX_EINVAL with
 * *errors set to a new array of {"pointer": "/email", "detail": "..."} objects. */
bx_err_t bx_json_validate(json_t *obj, const bx_jfield_t *fields, json_t **errors);

/* Returns the string member key of obj, or NULL if absent or not a string. Borrowed. */
const char *bx_json_str(json_t *obj, const char *key);

/* Serializes json compactly with sorted keys; caller frees. NULL on failure. */
char *bx_json_dump(const json_t *json);

#endif
