/* fd_holds: the hold routes (POST .../inventory/hold, GET and DELETE
 * .../inventory/hold/{holdId}, the cart's POST and DELETE .../inventory/hold/{holdId}/items):
 * checks in the frontdoor, decisions in the hold pool. */
#ifndef FD_HOLDS_H
#define FD_HOLDS_H

#include "fd.h"

/* Every hold route, ending with {NULL}. */
extern const fd_route_t fd_holds_routes[];

#endif
