/* fd_users: the account routes: register, login, rotating refresh tokens, logout and the
 * profile, plus the route list that also carries the organization routes (fd_orgs). */
#ifndef FD_USERS_H
#define FD_USERS_H

#include <libpq-fe.h>

#include "fd.h"

/* Body schemas, referenced by the route table (and by the OpenAPI cross-check). */
extern const bx_jfield_t fd_users_register_schema[];
extern const bx_jfield_t fd_users_login_schema[];
extern const bx_jfield_t fd_users_refresh_schema[];
extern const bx_jfield_t fd_users_profile_schema[];

/* Every account and organization route, ending with {NULL}. */
extern const fd_route_t fd_users_routes[];

/* Columns of the user_* queries of sql/queries/users.sql, in order. */
enum {
    FD_U_ID = 0,
    FD_U_EMAIL,
    FD_U_FIRST,
    FD_U_LAST,
    FD_U_PHONE,
    FD_U_LOCALE,
    FD_U_ROLE,
    FD_U_CREATED,
    FD_U_UPDATED,
    FD_U_UPDATED_EPOCH,
    FD_U_HASH, /* user_get_for_update only */
};

/* Builds the "user" resource from row 0 of res (a user_* query; the password hash is
 * never copied) with the organizations relationship data orgs (stolen, may be NULL).
 * Returns a new reference or NULL on allocation failure. */
json_t *fd_users_resource(const PGresult *res, json_t *orgs);

/* Answers 400 with one validation error at JSON Pointer ptr, shaped like the frontdoor's
 * schema errors. detail is copied. */
void fd_users_field_error(fd_req_t *req, const char *ptr, const char *detail);

/* Returns the calling thread's PostgreSQL connection, or answers 503 and returns NULL. */
bx_pg_t *fd_users_db(fd_req_t *req);

#endif
