/* fd_waitroom: the virtual waiting room of a hot sale: partner configuration, customer
 * join and position polling with signed queue tokens, signed admission tokens, and the
 * gate the hold path calls while an event's room is active.
 * Ownership: everything here borrows its arguments; nothing returned needs freeing. */
#ifndef FD_WAITROOM_H
#define FD_WAITROOM_H

#include <stdint.h>

#include "fd.h"

/* Header that carries the admission token on hold requests. */
#define FD_WAITROOM_ADMISSION_HEADER "Admission-Token"

/* Decides whether the caller of req may contend for event_id's inventory now.
 * Returns BX_OK when the event has no active waiting room, or when the request carries an
 * Admission-Token header holding a token signed by us, unexpired, bound to this caller
 * (sub) and this event, and not yet spent by a completed booking. Returns
 * BX_EUNAUTHORIZED for a forged, expired, spent, other user's or other event's token, and
 * BX_EFORBIDDEN when a room is active and no token was presented; in both refusal cases
 * the detail and a "waiting_room" extension (links to join and position) are available
 * through fd_waitroom_problem(). BX_EUNAVAILABLE when the room configuration cannot be
 * read (PostgreSQL unreachable and nothing cached). Cheap: the room configuration is
 * cached per thread and event for one second, the signature is checked in memory, and
 * one Redis round trip checks the spent marker (when Redis is down that check is skipped:
 * the token is short-lived and the per-user ticket limit still applies). Never replies. */
bx_err_t fd_waitroom_gate(fd_req_t *req, const char *event_id);

/* Answers the problem for an error err returned by fd_waitroom_gate: 403 or 401 with a
 * "waiting_room" member (reason, header name, join and position links) and a Link header
 * to the join route, or 503 with Retry-After for BX_EUNAVAILABLE. */
void fd_waitroom_problem(fd_req_t *req, const char *event_id, bx_err_t err);

/* Marks the admission token presented on req for event_id as spent (a completed booking
 * consumed it): later gate calls with the same token fail with BX_EUNAUTHORIZED and the
 * shopper stops counting as active. Idempotent; a request without a token is BX_OK.
 * Workers that complete a booking without the request at hand call bx_wroom_spend()
 * (common/bx_wroom.h) with the token's jti and expiry; see docs/waitroom.md. */
bx_err_t fd_waitroom_spend(fd_req_t *req, const char *event_id);

/* The jti of the admission token that the last successful fd_waitroom_gate call on req
 * accepted, or "" when the gate let the request through without one (no active room) or
 * req was not gated. Borrowed: valid until the next fd_waitroom_gate call on this thread,
 * so for the rest of the handler. The hold path stores it with the hold so that the
 * booking that completes the hold can spend it (bx_wroom_spend). */
const char *fd_waitroom_admission_jti(fd_req_t *req);

/* The expiry (epoch seconds) of that admission token, or 0 when there is none. Stored with
 * the hold beside the jti (holds.admission_exp). */
int64_t fd_waitroom_admission_exp(fd_req_t *req);

#endif
