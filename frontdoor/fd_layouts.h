/* fd_layouts: the hall and seating-layout routes under a venue:
 * GET/POST /api/v1/venues/{venueId}/halls, GET .../halls/{hallId}, and
 * GET/PUT .../halls/{hallId}/layout (PUT saves the next immutable version). */
#ifndef FD_LAYOUTS_H
#define FD_LAYOUTS_H

#include "fd.h"
#include "fd_venues.h"

/* Every hall and layout route, ending with {NULL}. */
extern const fd_route_t fd_layouts_routes[];

#endif
