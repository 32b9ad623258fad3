/* dlv_template: the message templates (workers/delivery/templates/<locale>.json, compiled
 * in) and a small mustache renderer: {{a.b}} values (HTML-escaped in HTML parts),
 * {{{raw}}}, {{#x}}...{{/x}} sections over arrays or truthy values, {{^x}}...{{/x}}
 * inverted sections. Loaded once, then read-only for every thread. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_embed.h"
#include "bx_log.h"
#include "bx_util.h"
#include "dlv.h"

#define S_OUT_MAX   (256 * 1024) /* largest rendered part */
#define S_DEPTH_MAX 8            /* section nesting */
#define S_NAME_MAX  64           /* longest tag name */

extern const bx_embed_t dlv_templates[];

static json_t *s_all; /* {"en": {...}, "de": {...}} */
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void s_load(void)
{
    s_all = json_object();
    for (const bx_embed_t *e = dlv_templates; e->name && s_all; e++) {
        char locale[16];
        const char *dot = strchr(e->name, '.');
        size_t n = dot ? (size_t)(dot - e->name) : 0;
        json_error_t jerr;
        json_t *doc = json_loadb(e->data, e->len, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc || !n || n >= sizeof locale) {
            BX_ERROR("template file %s is not valid JSON: %s", e->name, jerr.text);
            json_decref(doc);
            continue;
        }
        memcpy(locale, e->name, n);
        locale[n] = '\0';
        json_object_set_new(s_all, locale, doc);
    }
}

typedef struct {
    char *buf;  /* output, heap */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    int failed; /* out of memory or over S_OUT_MAX */
} s_out_t;

static void s_put(s_out_t *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 1024;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *b = cap <= S_OUT_MAX ? realloc(o->buf, cap) : NULL;
        if (!b) {
            o->failed = 1;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void s_put_escaped(s_out_t *o, const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '<'    ? "&lt;"
                        : *s == '>'  ? "&gt;"
                        : *s == '&'  ? "&amp;"
                        : *s == '"'  ? "&quot;"
                        : *s == '\'' ? "&#39;"
                                     : NULL;
        if (e)
            s_put(o, e, strlen(e));
        else
            s_put(o, s, 1);
    }
}

/* Looks name ("a.b" or ".") up through the context stack, innermost first. */
static json_t *s_lookup(json_t **stack, int depth, const char *name)
{
    if (!strcmp(name, "."))
        return stack[depth - 1];
    char first[S_NAME_MAX];
    size_t n = strcspn(name, ".");
    if (n >= sizeof first)
        return NULL;
    memcpy(first, name, n);
    first[n] = '\0';
    json_t *v = NULL;
    for (int i = depth - 1; i >= 0 && !v; i--)
        v = json_object_get(stack[i], first);
    for (const char *p = name + n; v && *p == '.';) {
        p++;
        size_t k = strcspn(p, ".");
        if (k >= sizeof first)
            return NULL;
        memcpy(first, p, k);
        first[k] = '\0';
        v = json_object_get(v, first);
        p += k;
    }
    return v;
}

static int s_truthy(json_t *v)
{
    return v && !json_is_null(v) && !json_is_false(v) &&
           !(json_is_array(v) && json_array_size(v) == 0) &&
           !(json_is_string(v) && json_string_length(v) == 0);
}

static void s_put_value(s_out_t *o, json_t *v, int escape)
{
    char num[40];
    const char *s = NULL;
    if (json_is_string(v))
        s = json_string_value(v);
    else if (json_is_integer(v))
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)), s = num;
    else if (json_is_real(v))
        snprintf(num, sizeof num, "%g", json_real_value(v)), s = num;
    else if (json_is_boolean(v))
        s = json_is_true(v) ? "true" : "false";
    if (s && escape)
        s_put_escaped(o, s);
    else if (s)
        s_put(o, s, strlen(s));
}

/* Finds the {{/name}} that closes a section opened before p, honouring nesting. */
static const char *s_section_end(const char *p, const char *name, const char **after)
{
    char open1[S_NAME_MAX + 8], open2[S_NAME_MAX + 8], close[S_NAME_MAX + 8];
    snprintf(open1, sizeof open1, "{{#%s}}", name);
    snprintf(open2, sizeof open2, "{{^%s}}", name);
    snprintf(close, sizeof close, "{{/%s}}", name);
    int depth = 1;
    for (const char *q = p; *q; q++) {
        if (!strncmp(q, open1, strlen(open1)) || !strncmp(q, open2, strlen(open2)))
            depth++;
        else if (!strncmp(q, close, strlen(close)) && --depth == 0) {
            *after = q + strlen(close);
            return q;
        }
    }
    return NULL;
}

static void s_render(s_out_t *o, const char *t, size_t n, json_t **stack, int depth, int esc);

static void s_section(s_out_t *o, const char *body, size_t n, json_t *v, int inverted,
                      json_t **stack, int depth, int esc)
{
    if (inverted) {
        if (!s_truthy(v))
            s_render(o, body, n, stack, depth, esc);
        return;
    }
    if (!s_truthy(v) || depth >= S_DEPTH_MAX)
        return;
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            stack[depth] = item;
            s_render(o, body, n, stack, depth + 1, esc);
        }
        return;
    }
    stack[depth] = json_is_object(v) ? v : stack[depth - 1];
    s_render(o, body, n, stack, depth + 1, esc);
}

/* Renders one tag starting at t ("{{"); returns where the text continues. */
static const char *s_tag(s_out_t *o, const char *t, const char *end, json_t **stack, int depth,
                         int esc)
{
    int triple = !strncmp(t, "{{{", 3);
    const char *name_at = t + (triple ? 3 : 2);
    const char *close = strstr(name_at, triple ? "}}}" : "}}");
    char name[S_NAME_MAX];
    if (!close || close > end || (size_t)(close - name_at) >= sizeof name) {
        s_put(o, t, 2);
        return t + 2;
    }
    char kind = *name_at;
    int sect = kind == '#' || kind == '^';
    size_t nlen = (size_t)(close - name_at) - (sect || kind == '/');
    memcpy(name, name_at + (sect || kind == '/'), nlen);
    name[nlen] = '\0';
    const char *after = close + (triple ? 3 : 2);
    if (!sect) {
        if (kind != '/' && kind != '!')
            s_put_value(o, s_lookup(stack, depth, name), esc && !triple);
        return after;
    }
    const char *next = NULL, *body_end = s_section_end(after, name, &next);
    if (!body_end || body_end > end)
        return end;
    s_section(o, after, (size_t)(body_end - after), s_lookup(stack, depth, name), kind == '^',
              stack, depth, esc);
    return next;
}

static void s_render(s_out_t *o, const char *t, size_t n, json_t **stack, int depth, int esc)
{
    const char *end = t + n;
    while (t < end && !o->failed) {
        const char *tag = strstr(t, "{{");
        if (!tag || tag >= end) {
            s_put(o, t, (size_t)(end - t));
            return;
        }
        s_put(o, t, (size_t)(tag - t));
        t = s_tag(o, tag, end, stack, depth, esc);
    }
}

char *dlv_mustache(const char *tmpl, json_t *ctx, int escape_html)
{
    json_t *stack[S_DEPTH_MAX + 1] = {ctx};
    s_out_t o = {0};
    s_put(&o, "", 0);
    s_render(&o, tmpl, strlen(tmpl), stack, 1, escape_html);
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    return o.buf;
}

/* The template object of type in locale, falling back to its language and to "en". */
static json_t *s_find(const char *type, const char *locale)
{
    char lang[3] = {0};
    json_t *t = json_object_get(json_object_get(s_all, locale), type);
    if (!t && locale && strlen(locale) >= 2) {
        memcpy(lang, locale, 2);
        t = json_object_get(json_object_get(s_all, lang), type);
    }
    return t ? t : json_object_get(json_object_get(s_all, "en"), type);
}

char *dlv_render(const char *type, const char *locale, const char *part, json_t *ctx)
{
    pthread_once(&s_once, s_load);
    const char *tmpl = json_string_value(json_object_get(s_find(type, locale), part));
    if (!tmpl)
        return NULL;
    int html = !strcmp(part, "html");
    char *body = dlv_mustache(tmpl, ctx, html);
    const char *layout = json_string_value(json_object_get(s_find("_layout", locale), "html"));
    if (!html || !body || !layout)
        return body;
    json_t *wrap = json_deep_copy(ctx);
    json_object_set_new(wrap, "body", json_string(body));
    free(body);
    char *out = wrap ? dlv_mustache(layout, wrap, 1) : NULL;
    json_decref(wrap);
    return out;
}
