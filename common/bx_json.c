/* bx_json: strict JSON parsing with caps, and a declarative schema validator. */
#include "bx_json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_util.h"

/* Nesting depth of body, counting brackets outside strings; stops early past max. */
static int s_depth_ok(const char *s, size_t n, int max)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                return 0;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 1;
}

bx_err_t bx_json_parse(const char *body, size_t len, int max_depth, json_t **out, char *why,
                       size_t cap)
{
    json_error_t jerr;
    *out = NULL;
    if (!body || len == 0) {
        snprintf(why, cap, "the body is empty");
        return BX_EMALFORMED;
    }
    if (memchr(body, '\0', len)) {
        snprintf(why, cap, "the body contains a NUL byte");
        return BX_EMALFORMED;
    }
    if (!bx_utf8_valid(body, len)) {
        snprintf(why, cap, "the body is not valid UTF-8");
        return BX_EMALFORMED;
    }
    if (!s_depth_ok(body, len, max_depth)) {
        snprintf(why, cap, "the body nests deeper than %d levels", max_depth);
        return BX_EMALFORMED;
    }
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        snprintf(why, cap, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        return BX_EMALFORMED;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        snprintf(why, cap, "the body must be a JSON object");
        return BX_EMALFORMED;
    }
    *out = j;
    return BX_OK;
}

static size_t s_codepoints(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

static int s_email_ok(const char *s)
{
    const char *at = strrchr(s, '@');
    if (!at || at == s || at - s > 64 || strlen(s) > 254)
        return 0;
    for (const char *p = s; p < at; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".!#$%&'*+/=?^_`{|}~-", *p))
            return 0;
    if (s[0] == '.' || at[-1] == '.' || strstr(s, ".."))
        return 0;
    const char *d = at + 1, *dot = strrchr(d, '.');
    if (!*d || !dot || dot == d || strlen(dot + 1) < 2)
        return 0;
    for (const char *p = d; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
            return 0;
        if (*p == '.' && (p == d || p[1] == '.' || p[1] == '\0'))
            return 0;
    }
    for (const char *p = dot + 1; *p; p++)
        if (!isalpha((unsigned char)*p))
            return 0;
    return 1;
}

static int s_all(const char *s, int (*pred)(int), size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return 0;
    for (; *s; s++)
        if (!pred((unsigned char)*s))
            return 0;
    return 1;
}

static int s_is_slug(int c)
{
    return (c >= 'a' && c <= 'z') || isdigit(c) || c == '-' || c == '_';
}

static int s_datetime_ok(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return 0;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (!strcmp(p, "Z"))
        return 1;
    return (p[0] == '+' || p[0] == '-') && isdigit((unsigned char)p[1]) &&
           isdigit((unsigned char)p[2]) && p[3] == ':' && isdigit((unsigned char)p[4]) &&
           isdigit((unsigned char)p[5]) && p[6] == '\0';
}

static int s_url_ok(const char *s)
{
    const char *rest;
    if (!strncmp(s, "https://", 8))
        rest = s + 8;
    else if (!strncmp(s, "http://", 7))
        rest = s + 7;
    else
        return 0;
    if (!*rest || *rest == '/' || strlen(s) > 2048)
        return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return 0;
    return 1;
}

static int s_name_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '<' || c == '>')
            return 0;
    }
    return 1;
}

static int s_format_ok(bx_jfmt_t f, const char *s)
{
    switch (f) {
    case BX_FMT_NONE:
        return 1;
    case BX_FMT_EMAIL:
        return s_email_ok(s);
    case BX_FMT_UUID:
        return bx_uuid_valid(s);
    case BX_FMT_PHONE:
        return s[0] == '+' && s_all(s + 1, isdigit, 8, 15);
    case BX_FMT_URL:
        return s_url_ok(s);
    case BX_FMT_DATETIME:
        return s_datetime_ok(s);
    case BX_FMT_LOCALE:
        return (strlen(s) == 2 && islower((unsigned char)s[0]) && islower((unsigned char)s[1])) ||
               (strlen(s) == 5 && islower((unsigned char)s[0]) && islower((unsigned char)s[1]) &&
                s[2] == '-' && isupper((unsigned char)s[3]) && isupper((unsigned char)s[4]));
    case BX_FMT_CURRENCY:
        return s_all(s, isupper, 3, 3);
    case BX_FMT_SLUG:
        return s_all(s, s_is_slug, 1, 200);
    case BX_FMT_NAME:
        return s_name_ok(s);
    }
    return 0;
}

static const char *s_format_name(bx_jfmt_t f)
{
    static const char *const names[] = {"",           "an email address", "a UUID",
                                        "an E.164 phone number", "an http(s) URL",
                                        "an RFC 3339 date-time", "a locale such as en or en-GB",
                                        "an ISO 4217 currency code", "a slug ([a-z0-9_-])",
                                        "text without control characters or angle brackets"};
    return names[f];
}

static void s_err(json_t *errors, const char *base, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_err(json_t *errors, const char *base, const char *name, const char *fmt, ...)
{
    char ptr[512], detail[512];
    va_list ap;
    /* JSON Pointer escaping: ~ -> ~0, / -> ~1 */
    size_t o = (size_t)snprintf(ptr, sizeof ptr, "%s/", base);
    for (const char *p = name; *p && o + 3 < sizeof ptr; p++) {
        if (*p == '~' || *p == '/') {
            ptr[o++] = '~';
            ptr[o++] = *p == '~' ? '0' : '1';
        } else {
            ptr[o++] = *p;
        }
    }
    ptr[o] = '\0';
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    json_array_append_new(errors, json_pack("{s:s, s:s}", "pointer", ptr, "detail", detail));
}

static void s_validate(json_t *obj, const bx_jfield_t *fields, const char *base, json_t *errors);

static void s_check_string(const bx_jfield_t *f, json_t *v, const char *base, json_t *errors)
{
    const char *s = json_string_value(v);
    size_t n = s_codepoints(s);
    if ((long)n < f->min || (f->max && (long)n > f->max)) {
        s_err(errors, base, f->name, "must be %ld to %ld characters long", f->min, f->max);
        return;
    }
    if (!s_format_ok(f->format, s)) {
        s_err(errors, base, f->name, "must be %s", s_format_name(f->format));
        return;
    }
    if (f->one_of) {
        for (const char *const *o = f->one_of; *o; o++)
            if (!strcmp(*o, s))
                return;
        char list[256] = "";
        size_t used = 0;
        for (const char *const *o = f->one_of; *o && used < sizeof list; o++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", o == f->one_of ? "" : ", ", *o);
        s_err(errors, base, f->name, "must be one of: %s", list);
    }
}

static void s_check_field(const bx_jfield_t *f, json_t *v, const char *base, json_t *errors)
{
    char sub[512];
    switch (f->type) {
    case BX_JT_STRING:
        if (!json_is_string(v))
            s_err(errors, base, f->name, "must be a string");
        else
            s_check_string(f, v, base, errors);
        break;
    case BX_JT_INT:
        if (!json_is_integer(v))
            s_err(errors, base, f->name, "must be an integer");
        else if (json_integer_value(v) < f->min || json_integer_value(v) > f->max)
            s_err(errors, base, f->name, "must be between %ld and %ld", f->min, f->max);
        break;
    case BX_JT_NUMBER:
        if (!json_is_number(v))
            s_err(errors, base, f->name, "must be a number");
        break;
    case BX_JT_BOOL:
        if (!json_is_boolean(v))
            s_err(errors, base, f->name, "must be true or false");
        break;
    case BX_JT_OBJECT:
        if (!json_is_object(v)) {
            s_err(errors, base, f->name, "must be an object");
        } else if (f->sub) {
            snprintf(sub, sizeof sub, "%s/%s", base, f->name);
            s_validate(v, f->sub, sub, errors);
        }
        break;
    case BX_JT_ARRAY:
        if (!json_is_array(v)) {
            s_err(errors, base, f->name, "must be an array");
        } else if ((long)json_array_size(v) < f->min || (f->max && (long)json_array_size(v) > f->max)) {
            s_err(errors, base, f->name, "must have %ld to %ld items", f->min, f->max);
        } else if (f->sub) {
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item) {
                snprintf(sub, sizeof sub, "%s/%s/%zu", base, f->name, i);
                if (!json_is_object(item))
                    s_err(errors, sub, "", "must be an object");
                else
                    s_validate(item, f->sub, sub, errors);
            }
        }
        break;
    }
}

static void s_validate(json_t *obj, const bx_jfield_t *fields, const char *base, json_t *errors)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        const bx_jfield_t *f = fields;
        while (f->name && strcmp(f->name, key))
            f++;
        if (!f->name)
            s_err(errors, base, key, "is not a known field");
    }
    for (const bx_jfield_t *f = fields; f->name; f++) {
        v = json_object_get(obj, f->name);
        if (!v) {
            if (f->required)
                s_err(errors, base, f->name, "is required");
        } else if (json_is_null(v)) {
            if (!f->nullable)
                s_err(errors, base, f->name, "must not be null");
        } else {
            s_check_field(f, v, base, errors);
        }
    }
}

bx_err_t bx_json_validate(json_t *obj, const bx_jfield_t *fields, json_t **errors)
{
    json_t *errs = json_array();
    *errors = NULL;
    if (!errs)
        return BX_ENOMEM;
    s_validate(obj, fields, "", errs);
    if (json_array_size(errs) == 0) {
        json_decref(errs);
        return BX_OK;
    }
    *errors = errs;
    return BX_EINVAL;
}

const char *bx_json_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

char *bx_json_dump(const json_t *json)
{
    return json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS);
}
