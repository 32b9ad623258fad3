/* fd_catalog: what the catalog routes (venues, halls, layouts, events, series, tiers)
 * share: the database handle, object-level authorization checked against
 * organization_members, outbox rows for the index worker, field errors, problems for
 * database refusals, cursors and list links. Strings returned are borrowed from the
 * request; json_t results are new references unless stated. */
#ifndef FD_CATALOG_H
#define FD_CATALOG_H

#include <stddef.h>

#include "fd.h"

#define FD_CAT_LIMIT_DEFAULT 20  /* list page size without ?limit */
#define FD_CAT_LIMIT_MAX     100 /* largest ?limit */
#define FD_CAT_CURSOR_MAX    160 /* longest cursor text accepted */
#define FD_CAT_CACHE_AGE     0   /* max-age of catalog reads: always revalidated by ETag */

/* Returns the calling thread's PostgreSQL connection, or answers 503 and returns NULL. */
bx_pg_t *fd_cat_db(fd_req_t *req);

/* 1 if the caller is authenticated with the admin role. */
int fd_cat_admin(fd_req_t *req);

/* Sets *ok to 1 if the caller may manage objects owned by organization org: admins
 * always, other callers only when organization_members lists them (the token's orgs
 * claim is a hint, never trusted). Anonymous callers never. Returns a database error. */
bx_err_t fd_cat_manages(fd_req_t *req, bx_pg_t *pg, const char *org, int *ok);

/* Writes an outbox row for the index service, topic ("event.updated", ...), keyed by id,
 * payload {"id", "action", "request_id"}, inside the caller's transaction. */
bx_err_t fd_cat_outbox(fd_req_t *req, bx_pg_t *pg, const char *topic, const char *id,
                       const char *action);

/* Answers 400 with one validation error at JSON Pointer ptr (copied). */
void fd_cat_invalid(fd_req_t *req, const char *ptr, const char *detail);

/* Rolls back any open transaction and answers err. When detail is NULL and the database
 * refused a statement, a known constraint in its message picks the status and a detail
 * that names the rule ("the hall already has an event at that time"). */
void fd_cat_fail(fd_req_t *req, bx_pg_t *pg, bx_err_t err, const char *detail);

/* The path parameter name when it is a UUID; otherwise answers 404 "no such <what>" and
 * returns NULL. */
const char *fd_cat_id(fd_req_t *req, const char *name, const char *what);

/* Reads ?limit (default FD_CAT_LIMIT_DEFAULT, 1..FD_CAT_LIMIT_MAX) into *n and into buf
 * (text, for a query parameter). Answers 400 and returns 0 when it is not such a number. */
int fd_cat_limit(fd_req_t *req, long *n, char buf[8]);

/* Encodes the pair (a, b) as an opaque base64url cursor into out (cap bytes). */
void fd_cat_cursor_encode(const char *a, const char *b, char *out, size_t cap);

/* Decodes ?cursor into a and b (cap bytes each). Returns 1 when there is none (a and b
 * empty) or it is valid; otherwise answers 400 and returns 0. */
int fd_cat_cursor_decode(fd_req_t *req, char *a, char *b, size_t cap);

/* {"self": <path?query>, "next": <path?filters&cursor=...>} for a list page: keys names
 * the query arguments to carry over (NULL-terminated); next is left out when cursor is
 * NULL. Returns a new object or NULL when out of memory. */
json_t *fd_cat_links(fd_req_t *req, const char *path, const char *const *keys, const char *cursor);

/* Parses JSON text built by SQL; a new reference or NULL. */
json_t *fd_cat_json(const char *text);

/* Checks that every item of the array member key of body is a string of 1..max bytes
 * without control characters, and that there are at most n items. Answers 400 and
 * returns 0 otherwise; 1 when fine or absent. */
int fd_cat_strings(fd_req_t *req, json_t *body, const char *key, size_t max_len, size_t n);

/* The currency (absent passes) is an ISO 4217 code. Answers 400 (or the database
 * problem) and returns 0 otherwise. */
int fd_cat_currency_ok(fd_req_t *req, bx_pg_t *pg, const char *currency);

/* 1 if s is a calendar date "YYYY-MM-DD" that exists. */
int fd_cat_date_ok(const char *s);

#endif
