/* fd_venues: the venue routes (GET/POST /api/v1/venues, GET/PUT/DELETE
 * /api/v1/venues/{venueId}) and the venue document other catalog modules reuse. */
#ifndef FD_VENUES_H
#define FD_VENUES_H

#include <stdint.h>

#include "bx_util.h"
#include "fd.h"

/* Every venue route, ending with {NULL}. */
extern const fd_route_t fd_venues_routes[];

/* The venue document {"data": venue} of a venue that is not deleted, or NULL with *err
 * (BX_ENOTFOUND when there is none). *modified (may be NULL) gets its last change in
 * epoch seconds, org (may be NULL) its organization. The caller owns the result. */
json_t *fd_venues_doc(bx_pg_t *pg, const char *id, int64_t *modified, char org[BX_UUID_LEN + 1],
                      bx_err_t *err);

#endif
