/* fd_tiers: ticket types and price tiers of an event (GET/POST
 * /api/v1/events/{eventId}/tiers, PUT/DELETE .../tiers/{tierId}) and the tier creation
 * that a series reuses for each showtime it materializes. */
#ifndef FD_TIERS_H
#define FD_TIERS_H

#include "fd.h"
#include "fd_events.h"

#define FD_TIERS_PTR 64  /* bytes of a JSON Pointer reported by the tier checks */
#define FD_TIERS_WHY 192 /* bytes of a reason reported by the tier checks */

/* Every tier route, ending with {NULL}. */
extern const fd_route_t fd_tiers_routes[];

/* Body schema of a new tier (also the items of a series' tiers). */
extern const bx_jfield_t fd_tiers_create_schema[];

/* Checks what the schema cannot: section/seat lists are strings, and a seated tier has
 * sections or seats but no section or capacity while a GA tier has a section and a
 * capacity but no sections or seats. kind is the tier's kind (from the body on create).
 * Returns BX_OK or BX_EINVAL with the member's JSON Pointer in ptr and a reason in why. */
bx_err_t fd_tiers_check(json_t *tier, const char *kind, char ptr[FD_TIERS_PTR],
                        char why[FD_TIERS_WHY]);

/* Creates the tier described by tier (validated by fd_tiers_create_schema and
 * fd_tiers_check) for the locked event ev with id event_id inside the caller's
 * transaction: maps its sections and seats (or its GA area, checking room left), and
 * opens its GA inventory when the event is already published. Writes the new id into id.
 * On a refusal returns BX_EINVAL, BX_EUNPROCESSABLE or BX_ECONFLICT with ptr and why set;
 * on a database error that error. */
bx_err_t fd_tiers_insert(bx_pg_t *pg, const fd_event_row_t *ev, const char *event_id, json_t *tier,
                         char id[BX_UUID_LEN + 1], char ptr[FD_TIERS_PTR], char why[FD_TIERS_WHY]);

#endif
