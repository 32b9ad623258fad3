/* fd_series: recurring series (POST /api/v1/series, GET/PUT /api/v1/series/{seriesId}):
 * a rule that materializes showtimes, each its own event with its own tiers and
 * inventory. */
#ifndef FD_SERIES_H
#define FD_SERIES_H

#include "fd.h"

/* Every series route, ending with {NULL}. */
extern const fd_route_t fd_series_routes[];

#endif
