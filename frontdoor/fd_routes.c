/* fd_routes: every route list the frontdoor serves, in match order. */
#include "fd_routes.h"

#include <stddef.h>

const fd_route_t *const fd_all_routes[] = {
    fd_core_routes,
    fd_users_routes,
    fd_notify_routes,
    fd_webhooks_routes,
    fd_search_routes, /* /api/v1/events/search: before the catalog's {eventId} */
    fd_waitroom_routes,
    fd_media_routes,   /* before the catalog: /api/v1/events/{eventId}/media */
    fd_content_routes,
    fd_inventory_routes, /* fd_inventory.c: availability and partner inventory control */
    fd_holds_routes,     /* fd_holds.c: holds */
    fd_tickets_routes,   /* fd_tickets.c: tickets, QR, keys, revocations, check-ins */
    fd_payments_routes,  /* fd_payments.c: payments, refunds, gateway webhooks */
    fd_bookings_routes,  /* fd_bookings.c: bookings */
    fd_promos_routes,    /* fd_promos.c: promo codes, booking settings, tax rules */
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
