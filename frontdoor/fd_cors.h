/* fd_cors: CORS from the configured allow-list (cors_origins). */
#ifndef FD_CORS_H
#define FD_CORS_H

#include "fd_internal.h"

/* Adds CORS headers for an allowed Origin. Answers a preflight (OPTIONS) itself and then
 * returns 1; returns 0 when the request should go on. */
int fd_cors_apply(fd_req_t *req);

/* 1 if origin is on the allow-list (exact match). */
int fd_cors_allowed(const char *origin);

#endif
