/* fd_routes: every route list the frontdoor serves, in match order. */
#include "fd_routes.h"

#include <stddef.h>

const fd_route_t *const fd_all_routes[] = {
    fd_core_routes,
    fd_users_routes,
    /* catalog: last, so that fixed paths of other lists (/api/v1/events/search) match
     * before the {eventId} patterns below */
    fd_venues_routes,
    fd_layouts_routes,
    fd_publish_routes,
    fd_tiers_routes,
    fd_series_routes,
    fd_events_routes,
    NULL,
};
