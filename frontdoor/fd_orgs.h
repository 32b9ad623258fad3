/* fd_orgs: partner organizations: an admin creates one, an admin or an owner adds member
 * users by email (a customer who joins becomes a partner), members and admins read it.
 * The routes are listed in fd_users_routes. */
#ifndef FD_ORGS_H
#define FD_ORGS_H

#include "fd.h"

#define FD_ORGS_MAX_MEMBERS 500 /* members listed in an organization document */

extern const bx_jfield_t fd_orgs_create_schema[];
extern const bx_jfield_t fd_orgs_member_schema[];

/* POST /api/v1/organizations (admin): {"name", "owner_email"?} -> 201 organization. */
void fd_orgs_create(fd_req_t *req);

/* POST /api/v1/organizations/{orgId}/members (admin or owner): {"email", "role"?} -> 201
 * when the user joined, 200 when an existing member's role changed. */
void fd_orgs_member_add(fd_req_t *req);

/* GET /api/v1/organizations/{orgId} (admin or member; 404 for everyone else). */
void fd_orgs_get(fd_req_t *req);

#endif
