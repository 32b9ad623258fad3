/* fd_bookings: the booking routes (POST/GET /api/v1/bookings, GET /api/v1/bookings/{id},
 * POST /api/v1/bookings/{id}/cancel): checks in the frontdoor, decisions in the checkout
 * pool (workers/checkout, docs/booking.md). */
#ifndef FD_BOOKINGS_H
#define FD_BOOKINGS_H

#include "fd.h"

/* Every booking route, ending with {NULL}. */
extern const fd_route_t fd_bookings_routes[];

#endif
