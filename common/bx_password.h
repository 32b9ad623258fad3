/* bx_password: argon2id password hashing to PHC strings, constant-time verification,
 * rehash detection when the configured cost changes, and the password policy. */
#ifndef BX_PASSWORD_H
#define BX_PASSWORD_H

#include "bx_err.h"

#define BX_PASSWORD_MIN_CHARS 8   /* policy: fewest code points */
#define BX_PASSWORD_MAX_CHARS 128 /* policy: most code points */
#define BX_PASSWORD_MAX_BYTES 512 /* longest input ever hashed (128 four-byte code points) */

/* Hashes pw with argon2id, the configured memory (argon2_memory_kib) and time cost
 * (argon2_iterations), parallelism 1, a fresh 16-byte random salt and a 32-byte tag.
 * Returns a PHC string "$argon2id$v=19$m=...,t=...,p=1$salt$hash" that the caller
 * frees, or NULL when pw is NULL, longer than BX_PASSWORD_MAX_BYTES, or hashing fails. */
char *bx_password_hash(const char *pw);

/* Returns 1 when pw matches the PHC string phc, else 0. The parameters are read from phc,
 * so hashes made under older settings keep working; phc strings that are not argon2id
 * v=19 or whose cost lies outside sane bounds (memory above 1 GiB, more than 100
 * iterations, parallelism above 16) are refused without hashing. The tag comparison is
 * constant-time. NULL arguments return 0. */
int bx_password_verify(const char *phc, const char *pw);

/* Returns 1 when phc was made with other parameters than the configured ones (or cannot
 * be parsed), so the caller should store a fresh bx_password_hash after a successful
 * verify; else 0. */
int bx_password_needs_rehash(const char *phc);

/* Checks pw against the policy: valid UTF-8, BX_PASSWORD_MIN_CHARS..MAX_CHARS code
 * points, not one of the most common passwords, and not the account's email address or
 * its local part (email may be NULL). Returns BX_OK, or BX_EINVAL with *why set to a
 * static lower-case reason (why may be NULL). The password itself is never echoed. */
bx_err_t bx_password_policy(const char *pw, const char *email, const char **why);

#endif
