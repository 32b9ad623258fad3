/* bx_password: argon2id (libargon2) hashing, verification and the password policy. */
#include "bx_password.h"

#include <argon2.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_util.h"

#define S_SALT_LEN        16
#define S_TAG_LEN         32
#define S_PARALLELISM     1
#define S_MAX_MEMORY_KIB  (1024u * 1024u) /* refuse PHC strings asking for more than 1 GiB */
#define S_MAX_ITERATIONS  100u
#define S_MAX_PARALLELISM 16u

/* Cost parameters read from a PHC string. */
typedef struct {
    uint32_t m; /* memory in KiB */
    uint32_t t; /* iterations */
    uint32_t p; /* lanes */
} s_cost_t;

/* Most common passwords that pass the length rule (from public breach corpora). Compared
 * case-insensitively. */
static const char *const s_common[] = {
    "password",   "password1", "password12", "password123",   "passw0rd",   "p@ssw0rd",
    "12345678",   "123456789", "1234567890", "0123456789",    "87654321",   "12341234",
    "11111111",   "00000000",  "123123123",  "1q2w3e4r",      "1q2w3e4r5t", "qwertyui",
    "qwertyuiop", "qwerty123", "qwerty12",   "asdfghjk",      "asdfghjkl",  "zxcvbnm1",
    "iloveyou",   "iloveyou1", "letmein1",   "letmein123",    "welcome1",   "welcome123",
    "sunshine",   "football",  "baseball",   "princess",      "superman",   "starwars",
    "whatever",   "trustno1",  "admin123",   "administrator", "changeme",   "abc12345",
    "abcd1234",   "abcdefgh",  "monkey123",  "dragon123",     "master123",  "michael1",
    "computer",   "internet",  "boxoffice",  "boxoffice1",    "tickets1",   "secret123",
    NULL,
};

/* Parses a decimal uint32 at *p that ends at stop; advances *p past stop. */
static int s_parse_u32(const char **p, char stop, uint32_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (!isdigit((unsigned char)*s))
        return 0;
    for (; isdigit((unsigned char)*s); s++) {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > UINT32_MAX)
            return 0;
    }
    if (*s != stop)
        return 0;
    *out = (uint32_t)v;
    *p = s + 1;
    return 1;
}

/* Reads the cost of an argon2id v=19 PHC string. Returns 1 on success. */
static int s_parse_cost(const char *phc, s_cost_t *c)
{
    static const char prefix[] = "$argon2id$v=19$m=";
    const char *p = phc;
    if (!phc || strncmp(phc, prefix, sizeof prefix - 1))
        return 0;
    p += sizeof prefix - 1;
    if (!s_parse_u32(&p, ',', &c->m) || strncmp(p, "t=", 2))
        return 0;
    p += 2;
    if (!s_parse_u32(&p, ',', &c->t) || strncmp(p, "p=", 2))
        return 0;
    p += 2;
    return s_parse_u32(&p, '$', &c->p);
}

char *bx_password_hash(const char *pw)
{
    unsigned char salt[S_SALT_LEN];
    char *out = NULL;
    size_t pwlen = pw ? strlen(pw) : 0;
    uint32_t m = (uint32_t)bx_config_int("argon2_memory_kib");
    uint32_t t = (uint32_t)bx_config_int("argon2_iterations");
    if (!pw || pwlen > BX_PASSWORD_MAX_BYTES || bx_random(salt, sizeof salt) != BX_OK)
        goto out;
    size_t cap = argon2_encodedlen(t, m, S_PARALLELISM, S_SALT_LEN, S_TAG_LEN, Argon2_id);
    out = malloc(cap);
    if (!out)
        goto out;
    int rc = argon2id_hash_encoded(t, m, S_PARALLELISM, pw, pwlen, salt, sizeof salt, S_TAG_LEN,
                                   out, cap);
    if (rc != ARGON2_OK) {
        BX_ERROR("could not hash a password: %s", argon2_error_message(rc));
        free(out);
        out = NULL;
    }
out:
    return out;
}

int bx_password_verify(const char *phc, const char *pw)
{
    s_cost_t c;
    if (!phc || !pw || strlen(pw) > BX_PASSWORD_MAX_BYTES || strlen(phc) > 255)
        return 0;
    if (!s_parse_cost(phc, &c) || c.m > S_MAX_MEMORY_KIB || c.t > S_MAX_ITERATIONS ||
        c.p > S_MAX_PARALLELISM || c.p == 0)
        return 0;
    /* argon2_verify recomputes the tag and compares it in constant time. */
    return argon2id_verify(phc, pw, strlen(pw)) == ARGON2_OK;
}

int bx_password_needs_rehash(const char *phc)
{
    s_cost_t c;
    if (!s_parse_cost(phc, &c))
        return 1;
    return c.m != (uint32_t)bx_config_int("argon2_memory_kib") ||
           c.t != (uint32_t)bx_config_int("argon2_iterations") || c.p != S_PARALLELISM;
}

/* Number of code points in valid UTF-8 s. */
static size_t s_codepoints(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

static int s_is_common(const char *pw)
{
    for (const char *const *c = s_common; *c; c++)
        if (!strcasecmp(*c, pw))
            return 1;
    /* one character repeated ("aaaaaaaa") is as weak as any entry of the list */
    return strspn(pw, (char[]){pw[0], '\0'}) == strlen(pw);
}

/* 1 when pw equals email or its local part, ignoring case. */
static int s_is_email(const char *pw, const char *email)
{
    const char *at = email ? strrchr(email, '@') : NULL;
    if (!email)
        return 0;
    if (!strcasecmp(pw, email))
        return 1;
    return at && (size_t)(at - email) == strlen(pw) && !strncasecmp(pw, email, strlen(pw));
}

bx_err_t bx_password_policy(const char *pw, const char *email, const char **why)
{
    const char *reason = NULL;
    size_t n = pw ? strlen(pw) : 0;
    if (!pw || !bx_utf8_valid(pw, n))
        reason = "the password must be valid UTF-8 text";
    else if (s_codepoints(pw) < BX_PASSWORD_MIN_CHARS)
        reason = "the password must be at least 8 characters long";
    else if (s_codepoints(pw) > BX_PASSWORD_MAX_CHARS || n > BX_PASSWORD_MAX_BYTES)
        reason = "the password must be at most 128 characters long";
    else if (s_is_common(pw))
        reason = "the password is too common: choose another";
    else if (s_is_email(pw, email))
        reason = "the password must not be the email address";
    if (why)
        *why = reason;
    return reason ? BX_EINVAL : BX_OK;
}
