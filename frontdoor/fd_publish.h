/* fd_publish: publishing and cancelling events (POST /api/v1/events/{eventId}/publish and
 * /cancel) and the inventory materialization that publishing (and a series that
 * publishes its showtimes) runs. */
#ifndef FD_PUBLISH_H
#define FD_PUBLISH_H

#include <stddef.h>

#include "fd.h"

/* Every publish/cancel route, ending with {NULL}. */
extern const fd_route_t fd_publish_routes[];

/* Inside the caller's transaction, with the draft event locked: checks that it has
 * tiers, that every seat of its layout version has a tier and that no general-admission
 * area sells more than its capacity; then writes one event_seats row per seat and one
 * event_ga row per GA tier and marks the event published. *seats and *ga get the seat
 * count and GA capacity. On a rule refusal returns BX_EUNPROCESSABLE with the reason in
 * why (cap bytes); on a database error that error. Nothing is committed or rolled back. */
bx_err_t fd_publish_materialize(bx_pg_t *pg, const char *event_id, long *seats, long *ga, char *why,
                                size_t cap);

#endif
