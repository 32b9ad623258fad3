/* fd_auth: bearer-token authentication for every route: EdDSA JWT verification against
 * the key ring, a per-thread cache of verified tokens, and session revocation that takes
 * effect at once on this frontdoor and within a second on the others. */
#ifndef FD_AUTH_H
#define FD_AUTH_H

#include "bx_jwt.h"
#include "fd.h"

/* The process's key ring (borrowed; immutable after start-up, shared by threads). */
const bx_jwt_ring_t *fd_auth_ring(void);

/* Call after recording the revocation of session sid in PostgreSQL (sessions.revoked_at):
 * drops this process's cached verdicts so the revocation holds here at once; other
 * frontdoors re-check PostgreSQL within a second. Returns BX_OK. */
bx_err_t fd_auth_revoke_session(fd_req_t *req, const char *sid);

#endif
