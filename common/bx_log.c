/* bx_log: JSON-lines logger with per-thread request context and secret scrubbing. */
#include "bx_log.h"

#include "bx_util.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

bx_log_level_t bx_log_threshold = BX_LOG_INFO;
static char s_svc[32] = "boxoffice";
static const char *const s_level_names[] = {"debug", "info", "warn", "error"};

typedef struct {
    char req_id[65];   /* request id of the work this thread is doing */
    char trace_id[65]; /* W3C trace id */
    char job_id[65];   /* pipeline job id */
} s_ctx_t;
static _Thread_local s_ctx_t s_ctx;

void bx_log_init(const char *svc, bx_log_level_t level)
{
    snprintf(s_svc, sizeof s_svc, "%s", svc ? svc : "boxoffice");
    bx_log_threshold = level;
}

int bx_log_level_parse(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, s_level_names[i]))
            return i;
    return -1;
}

static void s_set(char *dst, const char *src)
{
    snprintf(dst, 65, "%s", src ? src : "");
}

void bx_log_context(const char *req_id, const char *trace_id, const char *job_id)
{
    s_set(s_ctx.req_id, req_id);
    s_set(s_ctx.trace_id, trace_id);
    s_set(s_ctx.job_id, job_id);
}

/* Luhn check over digits d[0..n). */
static int s_luhn(const char *d, size_t n)
{
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int v = d[n - 1 - i] - '0';
        if (i % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

/* Scans a digit run starting at s (digits, single spaces or dashes between them). Stores
 * the digits in d (cap 32) and returns the number of source bytes consumed. */
static size_t s_digit_run(const char *s, char *d, size_t *nd)
{
    size_t i = 0;
    *nd = 0;
    while (s[i]) {
        if (isdigit((unsigned char)s[i])) {
            if (*nd < 32)
                d[(*nd)++] = s[i];
            else
                (*nd)++;
            i++;
        } else if ((s[i] == ' ' || s[i] == '-') && isdigit((unsigned char)s[i + 1]) && *nd > 0) {
            i++;
        } else {
            break;
        }
    }
    return i;
}

/* A card number at s + i (start of a digit run in s): 13-19 digits passing Luhn, and not
 * part of a longer identifier (the rule of bx_pan.h: letters touch it, or a dash joins it
 * to letters or digits, as in a UUID's groups). */
static int s_card_at_in(const char *s, size_t i, size_t *consumed)
{
    char d[32];
    size_t nd;
    *consumed = s_digit_run(s + i, d, &nd);
    if (nd < 13 || nd > 19 || !s_luhn(d, nd))
        return 0;
    const char *e = s + i + *consumed;
    int before = i > 0 && (isalpha((unsigned char)s[i - 1]) ||
                           (i > 1 && s[i - 1] == '-' && isalnum((unsigned char)s[i - 2])));
    int after = isalpha((unsigned char)e[0]) || (e[0] == '-' && isalpha((unsigned char)e[1]));
    return !before && !after;
}

int bx_log_has_card_number(const char *s)
{
    for (size_t i = 0; s && s[i];) {
        if (isdigit((unsigned char)s[i]) && (i == 0 || !isdigit((unsigned char)s[i - 1]))) {
            size_t used;
            if (s_card_at_in(s, i, &used))
                return 1;
            i += used ? used : 1;
        } else {
            i++;
        }
    }
    return 0;
}

void bx_log_scrub(char *dst, size_t cap, const char *src)
{
    size_t o = 0;
    if (!cap)
        return;
    for (size_t i = 0; src && src[i] && o + 1 < cap;) {
        size_t used;
        if (!strncasecmp(src + i, "bearer ", 7)) {
            const char *mask = "Bearer [redacted]";
            for (size_t k = 0; mask[k] && o + 1 < cap; k++)
                dst[o++] = mask[k];
            i += 7;
            while (src[i] && !isspace((unsigned char)src[i]) && src[i] != '"')
                i++;
        } else if (isdigit((unsigned char)src[i]) &&
                   (i == 0 || !isdigit((unsigned char)src[i - 1])) && s_card_at_in(src, i, &used)) {
            const char *mask = "[card-redacted]";
            for (size_t k = 0; mask[k] && o + 1 < cap; k++)
                dst[o++] = mask[k];
            i += used;
        } else {
            dst[o++] = src[i++];
        }
    }
    dst[o] = '\0';
}

/* Appends s to buf as a JSON string body (without quotes). */
static size_t s_escape(char *buf, size_t o, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; s && *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else if (c < 0x20) {
            buf[o++] = '\\';
            buf[o++] = 'u';
            buf[o++] = '0';
            buf[o++] = '0';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        } else if (c < 0x80) {
            buf[o++] = (char)c;
        } else {
            /* Multi-byte: copy a whole valid UTF-8 sequence, or write U+FFFD for bytes
             * that are not one (including a sequence cut short), so the line stays
             * valid JSON. */
            size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
            if (n > 1 && strnlen(s, n) == n && bx_utf8_valid(s, n)) {
                if (o + n + 7 >= cap)
                    break;
                memcpy(buf + o, s, n);
                o += n;
                s += n - 1;
            } else {
                memcpy(buf + o, "\\ufffd", 6);
                o += 6;
            }
        }
    }
    return o;
}

/* Appends ,"key":"value" with value scrubbed and escaped. A field that does not fit
 * whole is cut inside its value or left out, so the line stays valid JSON. */
static size_t s_field(char *buf, size_t o, size_t cap, const char *key, const char *val)
{
    char clean[2048];
    size_t klen = strlen(key);
    if (!val || !*val || o + klen + 8 >= cap)
        return o;
    bx_log_scrub(clean, sizeof clean, val);
    buf[o++] = ',';
    buf[o++] = '"';
    memcpy(buf + o, key, klen);
    o += klen;
    buf[o++] = '"';
    buf[o++] = ':';
    buf[o++] = '"';
    o = s_escape(buf, o, cap - 1, clean); /* one byte kept for the closing quote */
    buf[o++] = '"';
    return o;
}

static void s_write(bx_log_level_t level, const char *msg, const char *const *kv)
{
    char line[8192];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t o = strftime(line, sizeof line, "{\"ts\":\"%Y-%m-%dT%H:%M:%S", &tm);
    o += (size_t)snprintf(line + o, sizeof line - o, ".%03ldZ\",\"level\":\"%s\",\"svc\":\"%s\"",
                          (long)tv.tv_usec / 1000, s_level_names[level & 3], s_svc);
    o = s_field(line, o, sizeof line - 2, "msg", msg);
    o = s_field(line, o, sizeof line - 2, "req_id", s_ctx.req_id);
    o = s_field(line, o, sizeof line - 2, "trace_id", s_ctx.trace_id);
    o = s_field(line, o, sizeof line - 2, "job_id", s_ctx.job_id);
    for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
        o = s_field(line, o, sizeof line - 2, kv[i], kv[i + 1]);
    line[o++] = '}';
    line[o++] = '\n';
    /* One write() per line keeps lines whole when threads log at once. */
    ssize_t rc = write(STDERR_FILENO, line, o);
    (void)rc;
}

void bx_log_emit(bx_log_level_t level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    if (level < bx_log_threshold)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s_write(level, msg, NULL);
}

void bx_log_kv(bx_log_level_t level, const char *msg, const char *const *kv)
{
    if (level < bx_log_threshold)
        return;
    s_write(level, msg, kv);
}
