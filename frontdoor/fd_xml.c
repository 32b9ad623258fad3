/* fd_xml: a faithful, escaped XML rendering of JSON documents. */
#include "fd_xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *buf;  /* output, heap */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    int failed; /* allocation failed */
} s_out_t;

static void s_put(s_out_t *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = (o->cap ? o->cap * 2 : 1024) + n;
        char *b = realloc(o->buf, cap);
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

static void s_puts(s_out_t *o, const char *s)
{
    s_put(o, s, strlen(s));
}

static void s_text(s_out_t *o, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': s_puts(o, "&lt;"); break;
        case '>': s_puts(o, "&gt;"); break;
        case '&': s_puts(o, "&amp;"); break;
        case '"': s_puts(o, "&quot;"); break;
        case '\'': s_puts(o, "&apos;"); break;
        default:
            /* XML 1.0 forbids most control characters even escaped. */
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t' || *s == '\r')
                s_put(o, s, 1);
        }
    }
}

static void s_name(char *dst, size_t cap, const char *key)
{
    size_t n = 0;
    for (; *key && n + 1 < cap; key++) {
        char c = *key;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (n > 0 && ((c >= '0' && c <= '9') || c == '-' || c == '.'));
        dst[n++] = ok ? c : '_';
    }
    if (n == 0)
        dst[n++] = '_';
    dst[n] = '\0';
}

static void s_value(s_out_t *o, const char *name, const json_t *v);

static void s_children(s_out_t *o, const json_t *v)
{
    const char *key;
    json_t *child;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, child) {
            char n[128];
            s_name(n, sizeof n, key);
            s_value(o, n, child);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child)
            s_value(o, "item", child);
    }
}

static void s_value(s_out_t *o, const char *name, const json_t *v)
{
    char num[64];
    s_puts(o, "<");
    s_puts(o, name);
    if (json_is_null(v)) {
        s_puts(o, " nil=\"true\"/>");
        return;
    }
    s_puts(o, ">");
    if (json_is_object(v) || json_is_array(v)) {
        s_children(o, v);
    } else if (json_is_string(v)) {
        s_text(o, json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s_puts(o, num);
    } else if (json_is_real(v)) {
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        s_puts(o, num);
    } else {
        s_puts(o, json_is_true(v) ? "true" : "false");
    }
    s_puts(o, "</");
    s_puts(o, name);
    s_puts(o, ">");
}

char *fd_xml_render(const json_t *doc)
{
    s_out_t o = {0};
    s_puts(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s_value(&o, "document", doc);
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    return o.buf;
}
