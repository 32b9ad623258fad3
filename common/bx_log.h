/* bx_log: one JSON object per line on stderr: ts, level, svc, msg, and the calling
 * thread's request context (req_id, trace_id, job_id). Messages are scrubbed of
 * card-like digit runs and bearer tokens before they are written. */
#ifndef BX_LOG_H
#define BX_LOG_H

#include <stdarg.h>
#include <stddef.h>

typedef enum { BX_LOG_DEBUG = 0, BX_LOG_INFO, BX_LOG_WARN, BX_LOG_ERROR } bx_log_level_t;

/* Level below which nothing is formatted. Set by bx_log_init. */
extern bx_log_level_t bx_log_threshold;

/* Sets the service name (copied) and the threshold. Call once at start-up. */
void bx_log_init(const char *svc, bx_log_level_t level);

/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int bx_log_level_parse(const char *name);

/* Sets the calling thread's context; any argument may be NULL to clear it. The strings
 * are copied (truncated to 64 bytes). */
void bx_log_context(const char *req_id, const char *trace_id, const char *job_id);

/* Writes one line. Extra fields come as NULL-terminated key/value string pairs after the
 * format's arguments are consumed: use bx_log_kv for that. */
void bx_log_emit(bx_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes one line with extra string fields: kv is a NULL-terminated array of key, value,
 * key, value... Values are scrubbed like the message. */
void bx_log_kv(bx_log_level_t level, const char *msg, const char *const *kv);

/* Copies src into dst (capacity cap) with card-like numbers (13-19 digits, spaces or
 * dashes allowed, passing Luhn) and "Bearer <token>" masked. Always NUL-terminates. */
void bx_log_scrub(char *dst, size_t cap, const char *src);

/* Returns 1 if s contains a 13-19 digit run (spaces/dashes allowed) passing Luhn. */
int bx_log_has_card_number(const char *s);

#define BX_DEBUG(...)                                                                              \
    do {                                                                                           \
        if (bx_log_threshold <= BX_LOG_DEBUG)                                                      \
            bx_log_emit(BX_LOG_DEBUG, __VA_ARGS__);                                                \
    } while (0)
#define BX_INFO(...)                                                                               \
    do {                                                                                           \
        if (bx_log_threshold <= BX_LOG_INFO)                                                       \
            bx_log_emit(BX_LOG_INFO, __VA_ARGS__);                                                 \
    } while (0)
#define BX_WARN(...)                                                                               \
    do {                                                                                           \
        if (bx_log_threshold <= BX_LOG_WARN)                                                       \
            bx_log_emit(BX_LOG_WARN, __VA_ARGS__);                                                 \
    } while (0)
#define BX_ERROR(...) bx_log_emit(BX_LOG_ERROR, __VA_ARGS__)

#endif
