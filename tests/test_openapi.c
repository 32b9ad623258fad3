/* test_openapi: contracts/openapi.json (as compiled into the frontdoor) against the
 * frontdoor's route tables: every route is documented and every documented operation is
 * served; each operation documents a problem response; security, role, rate-limit class,
 * Idempotency-Key and path parameters follow the route flags; request bodies are
 * documented exactly as the bx_jfield_t schemas validate them; the problem types are the
 * ones common/bx_err.c produces. Negative cases run the same checks on doctored inputs. */
#include <check.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bx_embed.h"
#include "bx_err.h"
#include "bx_json.h"
#include "bx_suite.h"
#include "fd_internal.h"

#define S_REPORT_CAP 32768 /* bytes of mismatch text kept */
#define S_PATH_MAX   512   /* longest path template compared */

/* Mismatches found so far, one line each. */
typedef struct {
    char text[S_REPORT_CAP]; /* "  - <what>\n" lines */
    size_t len;              /* bytes used in text */
    int n;                   /* number of mismatches */
} s_report_t;

static void s_miss(s_report_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_miss(s_report_t *r, const char *fmt, ...)
{
    va_list ap;
    r->n++;
    if (r->len + 8 >= sizeof r->text)
        return;
    r->len += (size_t)snprintf(r->text + r->len, sizeof r->text - r->len, "  - ");
    va_start(ap, fmt);
    int k = vsnprintf(r->text + r->len, sizeof r->text - r->len - 1, fmt, ap);
    va_end(ap);
    r->len = k < 0 ? r->len : r->len + (size_t)k;
    if (r->len > sizeof r->text - 2)
        r->len = sizeof r->text - 2;
    r->text[r->len++] = '\n';
    r->text[r->len] = '\0';
}

/* ---- the documents ---- */

static json_t *s_load_embedded(void)
{
    const bx_embed_t *e = bx_embed_find(bx_contracts, "openapi.json");
    json_error_t jerr;
    ck_assert_msg(e != NULL, "openapi.json is not compiled in (contracts/openapi.json)");
    json_t *doc = json_loadb(e->data, e->len, JSON_REJECT_DUPLICATES, &jerr);
    ck_assert_msg(doc != NULL, "contracts/openapi.json is not valid JSON: line %d: %s", jerr.line,
                  jerr.text);
    return doc;
}

/* Follows local "$ref"s ("#/a/b") to the node they name; NULL when one dangles. */
static json_t *s_deref(json_t *doc, json_t *node)
{
    char seg[256];
    for (int hops = 0; node && hops < 16; hops++) {
        const char *ref = json_string_value(json_object_get(node, "$ref"));
        if (!ref)
            return node;
        if (strncmp(ref, "#/", 2))
            return NULL;
        node = doc;
        for (const char *p = ref + 2; node && *p;) {
            size_t n = 0;
            for (; *p && *p != '/' && n + 1 < sizeof seg; p++) {
                if (*p == '~' && (p[1] == '0' || p[1] == '1'))
                    seg[n++] = *++p == '0' ? '~' : '/';
                else
                    seg[n++] = *p;
            }
            seg[n] = '\0';
            node = json_object_get(node, seg);
            if (*p == '/')
                p++;
        }
    }
    return node;
}

/* ---- matching routes and operations ---- */

/* Writes tmpl with every {name} turned into {}: the same conversion on both sides, so a
 * route and an operation match by shape and their parameter names are compared after. */
static void s_shape(const char *tmpl, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = tmpl; *p && n + 3 < cap; p++) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (end) {
                out[n++] = '{';
                out[n++] = '}';
                p = end;
                continue;
            }
        }
        out[n++] = *p;
    }
    out[n] = '\0';
}

static const char *const s_methods[] = {"get",  "put",     "post",  "delete", "patch",
                                        "head", "options", "trace", NULL};

static int s_is_method(const char *key)
{
    for (const char *const *m = s_methods; *m; m++)
        if (!strcmp(*m, key))
            return 1;
    return 0;
}

static void s_lower(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; in[n] && n + 1 < cap; n++)
        out[n] = (char)(in[n] >= 'A' && in[n] <= 'Z' ? in[n] + 32 : in[n]);
    out[n] = '\0';
}

/* The operation documented for route r (matched by method and path shape), or NULL.
 * *path_out receives the documented path template. */
static json_t *s_find_op(json_t *doc, const fd_route_t *r, const char **path_out)
{
    char want[S_PATH_MAX], have[S_PATH_MAX], method[16];
    const char *path;
    json_t *item;
    s_shape(r->pattern, want, sizeof want);
    s_lower(r->method, method, sizeof method);
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        s_shape(path, have, sizeof have);
        json_t *op = json_object_get(item, method);
        if (!strcmp(want, have) && op) {
            *path_out = path;
            return op;
        }
    }
    return NULL;
}

/* The route serving a documented operation, or NULL. */
static const fd_route_t *s_find_route(const fd_route_t *const *lists, const char *method,
                                      const char *path)
{
    char want[S_PATH_MAX], have[S_PATH_MAX], m[16];
    s_shape(path, want, sizeof want);
    for (const fd_route_t *const *l = lists; *l; l++) {
        for (const fd_route_t *r = *l; r->method; r++) {
            s_lower(r->method, m, sizeof m);
            s_shape(r->pattern, have, sizeof have);
            if (!strcmp(m, method) && !strcmp(want, have))
                return r;
        }
    }
    return NULL;
}

/* Routes missing from the document, operations missing from the code, duplicate routes
 * (the router serves only the first) and path templates whose parameter names differ. */
static void s_compare(const fd_route_t *const *lists, json_t *doc, s_report_t *rep)
{
    const char *path, *method, *doc_path;
    json_t *item, *op;
    for (const fd_route_t *const *l = lists; *l; l++) {
        for (const fd_route_t *r = *l; r->method; r++) {
            char m[16];
            s_lower(r->method, m, sizeof m);
            if (s_find_route(lists, m, r->pattern) != r)
                s_miss(rep, "%s %s: listed twice; only the first is served", r->method, r->pattern);
            else if (!s_find_op(doc, r, &doc_path))
                s_miss(rep, "%s %s: served but not in the document", r->method, r->pattern);
            else if (strcmp(doc_path, r->pattern))
                s_miss(rep, "%s %s: documented as %s (parameter names differ)", r->method,
                       r->pattern, doc_path);
        }
    }
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        json_object_foreach(item, method, op)
        {
            if (s_is_method(method) && !s_find_route(lists, method, path))
                s_miss(rep, "%s %s: documented but not served", method, path);
        }
    }
}

/* ---- per-operation checks ---- */

/* 1 when response (resolved) offers application/problem+json. */
static int s_is_problem(json_t *doc, json_t *response)
{
    json_t *resp = s_deref(doc, response);
    return resp && json_object_get(json_object_get(resp, "content"), "application/problem+json");
}

/* Every documented operation answers at least one 4xx as a problem document. */
static void s_check_problems(json_t *doc, s_report_t *rep)
{
    const char *path, *method, *code;
    json_t *item, *op, *resp;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        json_object_foreach(item, method, op)
        {
            if (!s_is_method(method))
                continue;
            int found = 0;
            json_object_foreach(json_object_get(op, "responses"), code, resp) found |=
                code[0] == '4' && s_is_problem(doc, resp);
            if (!found)
                s_miss(rep, "%s %s: no 4xx application/problem+json response", method, path);
        }
    }
}

static int s_has_response(json_t *op, const char *code)
{
    return json_object_get(json_object_get(op, "responses"), code) != NULL;
}

/* The operation's parameter (resolved, path-level ones included) named name in where. */
static json_t *s_param(json_t *doc, json_t *item, json_t *op, const char *where, const char *name)
{
    json_t *lists[2] = {json_object_get(op, "parameters"), json_object_get(item, "parameters")};
    size_t i;
    json_t *p;
    for (int k = 0; k < 2; k++) {
        json_array_foreach(lists[k], i, p)
        {
            json_t *d = s_deref(doc, p);
            const char *in = json_string_value(json_object_get(d, "in"));
            const char *n = json_string_value(json_object_get(d, "name"));
            if (in && n && !strcmp(in, where) && !strcasecmp(n, name))
                return d;
        }
    }
    return NULL;
}

/* Security: required for FD_AUTH/ADMIN/PARTNER (no anonymous alternative), optional for
 * FD_OPT_AUTH, and anonymous access allowed everywhere else. */
static void s_check_security(json_t *doc, json_t *op, const fd_route_t *r, s_report_t *rep)
{
    json_t *sec = json_object_get(op, "security");
    if (!sec)
        sec = json_object_get(doc, "security");
    int anon = !sec || json_array_size(sec) == 0, bearer = 0;
    size_t i;
    json_t *req;
    json_array_foreach(sec, i, req)
    {
        anon |= json_object_size(req) == 0;
        bearer |= json_object_get(req, "bearerAuth") != NULL;
    }
    unsigned need = r->flags & (FD_AUTH | FD_ADMIN | FD_PARTNER);
    if (need && (anon || !bearer))
        s_miss(rep, "%s %s: needs a bearer token but security says otherwise", r->method,
               r->pattern);
    else if (!need && (r->flags & FD_OPT_AUTH) && !(anon && bearer))
        s_miss(rep, "%s %s: optional bearer token not documented as optional", r->method,
               r->pattern);
    else if (!need && !anon)
        s_miss(rep, "%s %s: anonymous access is allowed but not documented", r->method, r->pattern);
    if (need && !s_has_response(op, "401"))
        s_miss(rep, "%s %s: needs a token but documents no 401", r->method, r->pattern);
}

static void s_check_role(json_t *op, const fd_route_t *r, s_report_t *rep)
{
    const char *want = (r->flags & FD_ADMIN) ? "admin" : (r->flags & FD_PARTNER) ? "partner" : NULL;
    const char *have = json_string_value(json_object_get(op, "x-boxoffice-role"));
    if ((want || have) && (!want || !have || strcmp(want, have)))
        s_miss(rep, "%s %s: x-boxoffice-role is %s, the route needs %s", r->method, r->pattern,
               have ? have : "absent", want ? want : "no role");
    if (want && !s_has_response(op, "403"))
        s_miss(rep, "%s %s: role-restricted but documents no 403", r->method, r->pattern);
}

static void s_check_rate_limit(json_t *op, const fd_route_t *r, s_report_t *rep)
{
    static const char *const names[FD_RL_COUNT] = {"read", "write", "auth", "none"};
    const char *have = json_string_value(json_object_get(op, "x-boxoffice-rate-limit"));
    const char *want = (unsigned)r->rl < FD_RL_COUNT ? names[r->rl] : "?";
    if (!have || strcmp(have, want))
        s_miss(rep, "%s %s: x-boxoffice-rate-limit is %s, the route's class is %s", r->method,
               r->pattern, have ? have : "absent", want);
    if (r->rl != FD_RL_NONE && !s_has_response(op, "429"))
        s_miss(rep, "%s %s: rate-limited but documents no 429", r->method, r->pattern);
}

/* Idempotency-Key is documented exactly where fd_server applies it. */
static void s_check_idempotency(json_t *doc, json_t *item, json_t *op, const fd_route_t *r,
                                s_report_t *rep)
{
    int applies = !strcmp(r->method, "POST") && !(r->flags & FD_NO_IDEM);
    int documented = s_param(doc, item, op, "header", "Idempotency-Key") != NULL;
    if (applies != documented)
        s_miss(rep, "%s %s: Idempotency-Key is %s but %s", r->method, r->pattern,
               applies ? "honoured" : "ignored", documented ? "documented" : "not documented");
    if (applies && !(s_has_response(op, "409") && s_has_response(op, "422")))
        s_miss(rep, "%s %s: idempotent POST must document 409 and 422", r->method, r->pattern);
}

/* Every {name} of the template is a required path parameter, and no other. */
static void s_check_path_params(json_t *doc, json_t *item, json_t *op, const fd_route_t *r,
                                s_report_t *rep)
{
    char name[128];
    int templated = 0;
    for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        size_t n = end ? (size_t)(end - p - 1) : 0;
        if (!end || n >= sizeof name)
            break;
        memcpy(name, p + 1, n);
        name[n] = '\0';
        templated++;
        json_t *prm = s_param(doc, item, op, "path", name);
        if (!prm || !json_is_true(json_object_get(prm, "required")))
            s_miss(rep, "%s %s: path parameter %s is not documented as required", r->method,
                   r->pattern, name);
    }
    int documented = 0;
    json_t *lists[2] = {json_object_get(op, "parameters"), json_object_get(item, "parameters")};
    size_t i;
    json_t *p;
    for (int k = 0; k < 2; k++)
        json_array_foreach(lists[k], i, p)
        {
            const char *in = json_string_value(json_object_get(s_deref(doc, p), "in"));
            documented += in && !strcmp(in, "path");
        }
    if (documented != templated)
        s_miss(rep, "%s %s: %d path parameters documented, the template has %d", r->method,
               r->pattern, documented, templated);
}

/* ---- request bodies against bx_jfield_t ---- */

/* How each bx_json format is written in the document. */
static const struct {
    const char *format;  /* JSON Schema format, or NULL */
    const char *pattern; /* ECMA-262 pattern, or NULL */
} s_formats[] = {
    [BX_FMT_NONE] = {NULL, NULL},
    [BX_FMT_EMAIL] = {"email", NULL},
    [BX_FMT_UUID] = {"uuid", NULL},
    [BX_FMT_PHONE] = {NULL, "^\\+[0-9]{8,15}$"},
    [BX_FMT_URL] = {"uri", "^https?://"},
    [BX_FMT_DATETIME] = {"date-time", NULL},
    [BX_FMT_LOCALE] = {NULL, "^[a-z]{2}(-[A-Z]{2})?$"},
    [BX_FMT_CURRENCY] = {NULL, "^[A-Z]{3}$"},
    [BX_FMT_SLUG] = {NULL, "^[a-z0-9_-]+$"},
    [BX_FMT_NAME] = {NULL, "^[^\\u0000-\\u001f\\u007f<>]*$"},
};

static const char *s_type_name(bx_jtype_t t)
{
    switch (t) {
    case BX_JT_STRING:
        return "string";
    case BX_JT_INT:
        return "integer";
    case BX_JT_BOOL:
        return "boolean";
    case BX_JT_OBJECT:
        return "object";
    case BX_JT_ARRAY:
        return "array";
    case BX_JT_NUMBER:
        return "number";
    }
    return "?";
}

/* The schema's "type" is want (or [want, "null"] in either order when nullable). */
static int s_type_ok(json_t *schema, const char *want, int nullable)
{
    json_t *t = json_object_get(schema, "type");
    if (!nullable)
        return json_is_string(t) && !strcmp(json_string_value(t), want);
    if (json_array_size(t) != 2)
        return 0;
    const char *a = json_string_value(json_array_get(t, 0)),
               *b = json_string_value(json_array_get(t, 1));
    return a && b &&
           ((!strcmp(a, want) && !strcmp(b, "null")) || (!strcmp(b, want) && !strcmp(a, "null")));
}

/* keyword equals v; when v is 0 and zero_means_absent, the keyword may also be absent. */
static int s_int_kw(json_t *schema, const char *kw, long v, int zero_means_absent)
{
    json_t *j = json_object_get(schema, kw);
    if (!j)
        return zero_means_absent && v == 0;
    return json_is_integer(j) && json_integer_value(j) == v;
}

static int s_str_kw(json_t *schema, const char *kw, const char *want)
{
    const char *have = json_string_value(json_object_get(schema, kw));
    json_t *j = json_object_get(schema, kw);
    return want ? have && !strcmp(have, want) : j == NULL;
}

static int s_enum_ok(json_t *schema, const char *const *one_of)
{
    json_t *e = json_object_get(schema, "enum");
    size_t n = 0, i;
    json_t *v;
    if (!one_of)
        return e == NULL;
    for (; one_of[n]; n++) {
        int found = 0;
        json_array_foreach(e, i, v) found |=
            json_is_string(v) && !strcmp(json_string_value(v), one_of[n]);
        if (!found)
            return 0;
    }
    return json_array_size(e) == n;
}

static void s_check_object(json_t *doc, json_t *schema, const bx_jfield_t *fields, const char *at,
                           s_report_t *rep);

static void s_check_bounds(json_t *s, const bx_jfield_t *f, const char *at, s_report_t *rep)
{
    int ok = 1;
    if (f->type == BX_JT_STRING)
        ok = s_int_kw(s, "minLength", f->min, 1) && s_int_kw(s, "maxLength", f->max, 1) &&
             s_str_kw(s, "format", s_formats[f->format].format) &&
             s_str_kw(s, "pattern", s_formats[f->format].pattern) && s_enum_ok(s, f->one_of);
    else if (f->type == BX_JT_INT)
        ok = s_int_kw(s, "minimum", f->min, 0) && s_int_kw(s, "maximum", f->max, 0);
    else if (f->type == BX_JT_ARRAY)
        ok = s_int_kw(s, "minItems", f->min, 1) && s_int_kw(s, "maxItems", f->max, 1);
    if (!ok)
        s_miss(rep,
               "%s/%s: bounds, format or enum differ from the code (min %ld, max %ld, format %s%s)",
               at, f->name, f->min, f->max,
               s_formats[f->format].format ? s_formats[f->format].format : "",
               s_formats[f->format].pattern ? s_formats[f->format].pattern : "");
}

static void s_check_field(json_t *doc, json_t *prop, const bx_jfield_t *f, const char *at,
                          s_report_t *rep)
{
    char sub[S_PATH_MAX];
    json_t *s = s_deref(doc, prop);
    if (!s_type_ok(s, s_type_name(f->type), f->nullable)) {
        s_miss(rep, "%s/%s: type should be %s%s", at, f->name, s_type_name(f->type),
               f->nullable ? " or null" : "");
        return;
    }
    s_check_bounds(s, f, at, rep);
    snprintf(sub, sizeof sub, "%s/%s", at, f->name);
    if (f->type == BX_JT_OBJECT && f->sub)
        s_check_object(doc, s, f->sub, sub, rep);
    if (f->type == BX_JT_ARRAY && f->sub)
        s_check_object(doc, s_deref(doc, json_object_get(s, "items")), f->sub, sub, rep);
}

/* schema documents exactly the object that fields validate. */
static void s_check_object(json_t *doc, json_t *schema, const bx_jfield_t *fields, const char *at,
                           s_report_t *rep)
{
    json_t *s = s_deref(doc, schema), *props = json_object_get(s, "properties");
    json_t *required = json_object_get(s, "required");
    size_t nfields = 0, nrequired = 0, i;
    json_t *v;
    if (!s_type_ok(s, "object", 0) || !json_is_false(json_object_get(s, "additionalProperties"))) {
        s_miss(rep, "%s: should be an object schema with additionalProperties false", at);
        return;
    }
    for (const bx_jfield_t *f = fields; f->name; f++, nfields++) {
        json_t *prop = json_object_get(props, f->name);
        int listed = 0;
        json_array_foreach(required, i, v) listed |=
            !strcmp(json_string_value(v) ? json_string_value(v) : "", f->name);
        nrequired += f->required ? 1 : 0;
        if (!prop)
            s_miss(rep, "%s/%s: validated by the code but not documented", at, f->name);
        else
            s_check_field(doc, prop, f, at, rep);
        if (listed != f->required)
            s_miss(rep, "%s/%s: %s in the code but %s in the document", at, f->name,
                   f->required ? "required" : "optional", listed ? "required" : "optional");
    }
    if (json_object_size(props) != nfields)
        s_miss(rep, "%s: documents %zu properties, the code knows %zu", at, json_object_size(props),
               nfields);
    if (json_array_size(required) != nrequired)
        s_miss(rep, "%s: documents %zu required properties, the code %zu", at,
               json_array_size(required), nrequired);
}

static void s_check_body(json_t *doc, json_t *op, const fd_route_t *r, s_report_t *rep)
{
    char at[S_PATH_MAX];
    json_t *rb = s_deref(doc, json_object_get(op, "requestBody"));
    json_t *schema = json_object_get(
        json_object_get(json_object_get(rb, "content"), "application/json"), "schema");
    if (!r->body_schema)
        return;
    snprintf(at, sizeof at, "%s %s body", r->method, r->pattern);
    if (!schema || !json_is_true(json_object_get(rb, "required"))) {
        s_miss(rep, "%s: no required application/json requestBody documented", at);
        return;
    }
    s_check_object(doc, schema, r->body_schema, at, rep);
    if (!s_has_response(op, "400") || !s_has_response(op, "413") || !s_has_response(op, "415"))
        s_miss(rep, "%s: a validated body must document 400, 413 and 415", at);
}

/* Runs every per-operation check on the routes that are documented. */
static void s_check_routes(const fd_route_t *const *lists, json_t *doc, s_report_t *rep)
{
    const char *path;
    char m[16];
    for (const fd_route_t *const *l = lists; *l; l++) {
        for (const fd_route_t *r = *l; r->method; r++) {
            json_t *op = s_find_op(doc, r, &path);
            if (!op)
                continue; /* reported by s_compare */
            s_lower(r->method, m, sizeof m);
            json_t *item = json_object_get(json_object_get(doc, "paths"), path);
            s_check_security(doc, op, r, rep);
            s_check_role(op, r, rep);
            s_check_rate_limit(op, r, rep);
            s_check_idempotency(doc, item, op, r, rep);
            s_check_path_params(doc, item, op, r, rep);
            s_check_body(doc, op, r, rep);
        }
    }
}

/* operationIds are present and unique. */
static void s_check_operation_ids(json_t *doc, s_report_t *rep)
{
    const char *path, *method;
    json_t *item, *op, *seen = json_object();
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        json_object_foreach(item, method, op)
        {
            const char *id = json_string_value(json_object_get(op, "operationId"));
            if (!s_is_method(method))
                continue;
            if (!id)
                s_miss(rep, "%s %s: no operationId", method, path);
            else if (json_object_get(seen, id))
                s_miss(rep, "%s %s: operationId %s used twice", method, path, id);
            else
                json_object_set_new(seen, id, json_true());
        }
    }
    json_decref(seen);
}

/* components/schemas/ProblemType lists exactly the type URIs bx_err.c produces. */
static void s_check_problem_types(json_t *doc, s_report_t *rep)
{
    json_t *e = json_object_get(
        json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"),
                        "ProblemType"),
        "enum");
    size_t i;
    json_t *v;
    for (int err = BX_OK + 1; err < BX_ERR_COUNT; err++) {
        const char *t = bx_err_problem_type((bx_err_t)err);
        int found = 0;
        json_array_foreach(e, i, v) found |=
            !strcmp(json_string_value(v) ? json_string_value(v) : "", t);
        if (!found)
            s_miss(rep, "problem type %s (%s) missing from ProblemType", t,
                   bx_err_str((bx_err_t)err));
    }
    json_array_foreach(e, i, v)
    {
        int found = 0;
        for (int err = BX_OK + 1; err < BX_ERR_COUNT; err++)
            found |= json_is_string(v) &&
                     !strcmp(json_string_value(v), bx_err_problem_type((bx_err_t)err));
        if (!found)
            s_miss(rep, "ProblemType lists %s, which the code never produces",
                   json_string_value(v) ? json_string_value(v) : "a non-string");
    }
}

/* ---- tests ---- */

static json_t *s_doc;

static void s_setup(void)
{
    s_doc = s_load_embedded();
}

static void s_teardown(void)
{
    json_decref(s_doc);
    s_doc = NULL;
}

START_TEST(document_is_openapi_3_1_with_bearer_auth)
{
    json_t *bearer = json_object_get(
        json_object_get(json_object_get(s_doc, "components"), "securitySchemes"), "bearerAuth");
    ck_assert_str_eq(json_string_value(json_object_get(s_doc, "openapi")), "3.1.0");
    ck_assert_ptr_nonnull(
        json_string_value(json_object_get(json_object_get(s_doc, "info"), "title")));
    ck_assert_int_gt((int)json_object_size(json_object_get(s_doc, "paths")), 0);
    ck_assert_str_eq(json_string_value(json_object_get(bearer, "scheme")), "bearer");
    ck_assert_str_eq(json_string_value(json_object_get(bearer, "bearerFormat")), "JWT");
}
END_TEST

START_TEST(every_route_is_documented_and_every_operation_served)
{
    s_report_t rep = {0};
    s_compare(fd_route_lists(), s_doc, &rep);
    ck_assert_msg(rep.n == 0, "routes and contracts/openapi.json disagree (%d):\n%s", rep.n,
                  rep.text);
}
END_TEST

START_TEST(every_operation_documents_a_problem_response)
{
    s_report_t rep = {0};
    s_check_problems(s_doc, &rep);
    s_check_operation_ids(s_doc, &rep);
    ck_assert_msg(rep.n == 0, "operations without a 4xx problem or operationId (%d):\n%s", rep.n,
                  rep.text);
}
END_TEST

START_TEST(operations_follow_route_flags_and_body_schemas)
{
    s_report_t rep = {0};
    s_check_routes(fd_route_lists(), s_doc, &rep);
    ck_assert_msg(rep.n == 0, "operations that misdescribe their route (%d):\n%s", rep.n, rep.text);
}
END_TEST

START_TEST(problem_types_are_the_ones_bx_err_produces)
{
    s_report_t rep = {0};
    s_check_problem_types(s_doc, &rep);
    ck_assert_msg(rep.n == 0, "problem types disagree with common/bx_err.c (%d):\n%s", rep.n,
                  rep.text);
}
END_TEST

/* Negative self-checks: the same comparisons on doctored inputs must find the damage. */

static void s_expect(const s_report_t *rep, const char *needle)
{
    ck_assert_msg(strstr(rep->text, needle) != NULL,
                  "expected a mismatch mentioning \"%s\", got:\n%s", needle, rep->text);
}

START_TEST(a_doctored_document_is_caught)
{
    s_report_t base = {0}, rep = {0};
    json_t *doc = json_deep_copy(s_doc), *paths = json_object_get(doc, "paths");
    json_t *req = json_object_get(paths, "/api/v1/requests/{requestId}");
    ck_assert_ptr_nonnull(req);
    ck_assert_int_eq(json_object_del(paths, "/healthz"), 0);
    json_object_set_new(paths, "/api/v1/ghosts",
                        json_pack("{s:{s:s}}", "get", "operationId", "ghosts"));
    json_object_set(paths, "/api/v1/requests/{id}", req);
    json_object_del(paths, "/api/v1/requests/{requestId}");
    s_compare(fd_route_lists(), s_doc, &base); /* the real document's own mismatches, if any */
    s_compare(fd_route_lists(), doc, &rep);
    ck_assert_int_eq(rep.n, base.n + 3);
    s_expect(&rep, "GET /healthz: served but not in the document");
    s_expect(&rep, "get /api/v1/ghosts: documented but not served");
    s_expect(&rep, "GET /api/v1/requests/{requestId}: documented as /api/v1/requests/{id}");
    json_decref(doc);
}
END_TEST

static void s_noop(fd_req_t *req)
{
    (void)req;
}

START_TEST(doctored_routes_are_caught)
{
    static const fd_route_t extra[] = {
        {"GET", "/healthz", s_noop, FD_NO_DB, FD_RL_NONE, NULL},
        {"DELETE", "/api/v1/requests/{requestId}", s_noop, FD_AUTH, FD_RL_WRITE, NULL},
        {NULL, NULL, NULL, 0, 0, NULL},
    };
    const fd_route_t *lists[64]; /* every module's list, the extra one and NULL */
    int n = 0;
    for (const fd_route_t *const *l = fd_route_lists(); *l; l++) {
        ck_assert_msg(n < 62, "more route lists than this test holds: enlarge lists");
        lists[n++] = *l;
    }
    lists[n++] = extra;
    lists[n] = NULL;
    s_report_t base = {0}, rep = {0};
    s_compare(fd_route_lists(), s_doc, &base);
    s_compare(lists, s_doc, &rep);
    ck_assert_int_eq(rep.n, base.n + 2);
    s_expect(&rep, "GET /healthz: listed twice");
    s_expect(&rep, "DELETE /api/v1/requests/{requestId}: served but not in the document");
}
END_TEST

/* Sets doc's operation method path member key to value (stolen); NULL value deletes. */
static void s_doctor(json_t *doc, const char *path, const char *method, const char *key,
                     json_t *value)
{
    json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"), path), method);
    ck_assert_msg(op != NULL, "%s %s is not in the document", method, path);
    if (value)
        json_object_set_new(op, key, value);
    else
        json_object_del(op, key);
}

START_TEST(doctored_operations_are_caught)
{
    s_report_t rep = {0};
    json_t *doc = json_deep_copy(s_doc);
    const char *echo = "/api/v1/admin/pipeline/echo";
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    json_t *msg = json_object_get(
        json_object_get(json_object_get(schemas, "EchoInput"), "properties"), "message");
    ck_assert_ptr_nonnull(msg);
    s_doctor(doc, "/healthz", "get", "responses",
             json_pack("{s:{s:s}}", "200", "description", "ok"));
    s_doctor(doc, "/api/v1/requests/{requestId}", "get", "security", json_array());
    s_doctor(doc, echo, "post", "x-boxoffice-rate-limit", json_string("read"));
    s_doctor(doc, echo, "post", "x-boxoffice-role", NULL);
    s_doctor(doc, echo, "post", "parameters", json_array());
    json_object_set_new(msg, "maxLength", json_integer(999));
    json_array_append_new(json_object_get(json_object_get(schemas, "ProblemType"), "enum"),
                          json_string("https://boxoffice.dev/problems/made-up"));
    s_check_problems(doc, &rep);
    s_check_routes(fd_route_lists(), doc, &rep);
    s_check_problem_types(doc, &rep);
    s_expect(&rep, "get /healthz: no 4xx application/problem+json response");
    s_expect(&rep, "GET /api/v1/requests/{requestId}: needs a bearer token");
    s_expect(&rep, "x-boxoffice-rate-limit is read, the route's class is write");
    s_expect(&rep, "x-boxoffice-role is absent, the route needs admin");
    s_expect(&rep, "Idempotency-Key is honoured but not documented");
    s_expect(&rep, "POST /api/v1/admin/pipeline/echo body/message: bounds");
    s_expect(&rep, "ProblemType lists https://boxoffice.dev/problems/made-up");
    json_decref(doc);
}
END_TEST

/* Data-driven cases for the body comparison: a schema text against a field list. */
static const char *const s_colours[] = {"red", "green", NULL};
static const bx_jfield_t s_item_fields[] = {
    {.name = "seat",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 8,
     .format = BX_FMT_SLUG},
    {0},
};
static const bx_jfield_t s_fields[] = {
    {.name = "email", .type = BX_JT_STRING, .required = 1, .max = 254, .format = BX_FMT_EMAIL},
    {.name = "nick",
     .type = BX_JT_STRING,
     .min = 1,
     .max = 100,
     .format = BX_FMT_NAME,
     .nullable = 1},
    {.name = "count", .type = BX_JT_INT, .min = 1, .max = 10},
    {.name = "colour", .type = BX_JT_STRING, .one_of = s_colours},
    {.name = "items", .type = BX_JT_ARRAY, .min = 1, .max = 4, .sub = s_item_fields},
    {0},
};

#define S_GOOD_ITEMS                                                                               \
    "\"items\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":4,\"items\":{\"type\":\"object\","  \
    "\"additionalProperties\":false,\"required\":[\"seat\"],\"properties\":{\"seat\":{\"type\":"   \
    "\"string\",\"minLength\":1,\"maxLength\":8,\"pattern\":\"^[a-z0-9_-]+$\"}}}}"
#define S_GOOD_HEAD "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"email\"],"
#define S_EMAIL     "\"email\":{\"type\":\"string\",\"maxLength\":254,\"format\":\"email\"}"
#define S_NICK                                                                                     \
    "\"nick\":{\"type\":[\"string\",\"null\"],\"minLength\":1,\"maxLength\":100,"                  \
    "\"pattern\":\"^[^\\\\u0000-\\\\u001f\\\\u007f<>]*$\"}"
#define S_COUNT  "\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10}"
#define S_COLOUR "\"colour\":{\"type\":\"string\",\"enum\":[\"green\",\"red\"]}"

static const struct {
    const char *schema; /* JSON text of the documented schema */
    const char *needle; /* expected in the report; NULL: no mismatch at all */
} s_body_cases[] = {
    {S_GOOD_HEAD "\"properties\":{" S_EMAIL "," S_NICK "," S_COUNT "," S_COLOUR "," S_GOOD_ITEMS
                 "}}",
     NULL},
    {"{\"type\":\"object\",\"required\":[\"email\"],\"properties\":{" S_EMAIL "," S_NICK "," S_COUNT
     "," S_COLOUR "," S_GOOD_ITEMS "}}",
     "additionalProperties false"},
    {S_GOOD_HEAD "\"properties\":{" S_EMAIL "," S_COUNT "," S_COLOUR "," S_GOOD_ITEMS "}}",
     "/nick: validated by the code but not documented"},
    {S_GOOD_HEAD "\"properties\":{" S_EMAIL "," S_NICK "," S_COUNT "," S_COLOUR "," S_GOOD_ITEMS
                 ",\"extra\":{\"type\":\"string\"}}}",
     "documents 6 properties, the code knows 5"},
    {"{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"email\",\"count\"],"
     "\"properties\":{" S_EMAIL "," S_NICK "," S_COUNT "," S_COLOUR "," S_GOOD_ITEMS "}}",
     "/count: optional in the code but required in the document"},
    {S_GOOD_HEAD "\"properties\":{" S_EMAIL ",\"nick\":{\"type\":\"string\",\"minLength\":1,"
                 "\"maxLength\":100}," S_COUNT "," S_COLOUR "," S_GOOD_ITEMS "}}",
     "/nick: type should be string or null"},
    {S_GOOD_HEAD "\"properties\":{\"email\":{\"type\":\"string\",\"maxLength\":254}," S_NICK
                 "," S_COUNT "," S_COLOUR "," S_GOOD_ITEMS "}}",
     "/email: bounds, format or enum"},
    {S_GOOD_HEAD "\"properties\":{" S_EMAIL "," S_NICK ",\"count\":{\"type\":\"integer\","
                 "\"minimum\":0,\"maximum\":10}," S_COLOUR "," S_GOOD_ITEMS "}}",
     "/count: bounds"},
    {S_GOOD_HEAD "\"properties\":{" S_EMAIL "," S_NICK "," S_COUNT ",\"colour\":{\"type\":"
                 "\"string\",\"enum\":[\"red\",\"green\",\"blue\"]}," S_GOOD_ITEMS "}}",
     "/colour: bounds, format or enum"},
    {S_GOOD_HEAD "\"properties\":{" S_EMAIL "," S_NICK "," S_COUNT "," S_COLOUR ",\"items\":{"
                 "\"type\":\"array\",\"minItems\":1,\"maxItems\":4,\"items\":{\"type\":\"object\","
                 "\"additionalProperties\":false,\"properties\":{\"seat\":{\"type\":\"string\","
                 "\"minLength\":1,\"maxLength\":8,\"pattern\":\"^[a-z0-9_-]+$\"}}}}}}",
     "/items/seat: required in the code but optional"},
};

START_TEST(body_comparison_cases)
{
    json_error_t jerr;
    s_report_t rep = {0};
    json_t *schema = json_loads(s_body_cases[_i].schema, 0, &jerr);
    ck_assert_msg(schema != NULL, "case %d: bad JSON: %s", _i, jerr.text);
    s_check_object(schema, schema, s_fields, "body", &rep);
    if (!s_body_cases[_i].needle)
        ck_assert_msg(rep.n == 0, "case %d: expected no mismatch, got:\n%s", _i, rep.text);
    else
        s_expect(&rep, s_body_cases[_i].needle);
    json_decref(schema);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("openapi");
    TCase *tc = tcase_create("contract");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, document_is_openapi_3_1_with_bearer_auth);
    tcase_add_test(tc, every_route_is_documented_and_every_operation_served);
    tcase_add_test(tc, every_operation_documents_a_problem_response);
    tcase_add_test(tc, operations_follow_route_flags_and_body_schemas);
    tcase_add_test(tc, problem_types_are_the_ones_bx_err_produces);
    tcase_add_test(tc, a_doctored_document_is_caught);
    tcase_add_test(tc, doctored_routes_are_caught);
    tcase_add_test(tc, doctored_operations_are_caught);
    tcase_add_loop_test(tc, body_comparison_cases, 0,
                        (int)(sizeof s_body_cases / sizeof s_body_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}
