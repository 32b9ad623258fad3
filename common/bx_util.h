/* bx_util: small pure helpers every process needs: ids, encodings, hashes, time. */
#ifndef BX_UTIL_H
#define BX_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "bx_err.h"

#define BX_UUID_LEN 36 /* text form without NUL */

/* Fills out (>= 37 bytes) with a new RFC 9562 UUIDv7 (time-ordered, random tail). */
void bx_uuid_v7(char out[BX_UUID_LEN + 1]);

/* Returns 1 if s is a canonical lower- or upper-case hyphenated UUID. */
int bx_uuid_valid(const char *s);

/* Fills buf with n cryptographically random bytes. BX_EINTERNAL if the CSPRNG fails. */
bx_err_t bx_random(void *buf, size_t n);

/* Base64url without padding. Encode writes NUL-terminated text into out (cap >=
 * 4*ceil(n/3)+1) and returns its length. Decode returns the decoded length, or -1 on bad
 * input or when out (cap bytes) is too small. */
size_t bx_b64url_encode(const unsigned char *in, size_t n, char *out, size_t cap);
long bx_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap);

/* Standard base64 with padding (for headers such as webhook signatures). */
size_t bx_b64_encode(const unsigned char *in, size_t n, char *out, size_t cap);

/* Lower-case hex of n bytes into out (cap >= 2n+1). */
void bx_hex(const unsigned char *in, size_t n, char *out);

/* SHA-256 of data as 64 lower-case hex chars + NUL. */
void bx_sha256_hex(const void *data, size_t n, char out[65]);

/* Wall clock in milliseconds / monotonic clock in milliseconds. */
int64_t bx_now_ms(void);
int64_t bx_mono_ms(void);

/* Formats epoch seconds as RFC 3339 UTC ("2026-11-23T21:19:59Z") into out (>= 21). */
void bx_time_rfc3339(int64_t epoch_s, char out[32]);

/* Formats epoch seconds as an HTTP-date (IMF-fixdate) into out. */
void bx_time_http(int64_t epoch_s, char out[40]);

/* Strict decimal parse of a whole string into *out within [min, max]. BX_EINVAL otherwise. */
bx_err_t bx_parse_long(const char *s, long min, long max, long *out);

/* Returns 1 if the n bytes at s are valid UTF-8 (no overlongs, no surrogates). */
int bx_utf8_valid(const char *s, size_t n);

/* Copies at most cap-1 bytes and NUL-terminates; returns strlen(src). */
size_t bx_strlcpy(char *dst, const char *src, size_t cap);

#endif
