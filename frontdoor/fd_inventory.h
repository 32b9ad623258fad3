/* fd_inventory: an event's availability (GET .../inventory: tier counts and the seat map,
 * cached per frontdoor thread by inventory version) and the partner's inventory control
 * (PUT .../inventory: block and unblock seats, tier prices and GA capacities, hold
 * settings). */
#ifndef FD_INVENTORY_H
#define FD_INVENTORY_H

#include "fd.h"

/* Every inventory route, ending with {NULL}. */
extern const fd_route_t fd_inventory_routes[];

#endif
