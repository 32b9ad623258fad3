/* fd_routes: the list of every module's routes. Add a module's list here and in
 * fd_routes.c; contracts/openapi.json must describe every route (a test checks). */
#ifndef FD_ROUTES_H
#define FD_ROUTES_H

#include "fd.h"

extern const fd_route_t fd_core_routes[];  /* fd_core.c: health, metrics, docs, requests */
extern const fd_route_t fd_users_routes[]; /* fd_users.c: accounts and organizations */
extern const fd_route_t fd_venues_routes[];  /* fd_venues.c: venues */
extern const fd_route_t fd_layouts_routes[]; /* fd_layouts.c: halls and seating layouts */
extern const fd_route_t fd_publish_routes[]; /* fd_publish.c: publish and cancel events */
extern const fd_route_t fd_tiers_routes[];   /* fd_tiers.c: ticket tiers of an event */
extern const fd_route_t fd_series_routes[];  /* fd_series.c: recurring series */
extern const fd_route_t fd_events_routes[];  /* fd_events.c: events */
extern const fd_route_t fd_notify_routes[];  /* fd_notify.c: notification settings, push */
extern const fd_route_t fd_webhooks_routes[]; /* fd_webhooks.c: partner webhooks, callbacks */
extern const fd_route_t fd_search_routes[];  /* fd_search.c: event search */
extern const fd_route_t fd_waitroom_routes[]; /* fd_waitroom.c: waiting room, waitlist, live feed */
extern const fd_route_t fd_media_routes[];   /* fd_media.c: posters, trailers, gallery */
extern const fd_route_t fd_content_routes[]; /* fd_content.c: featured, promotions, news */
extern const fd_route_t fd_inventory_routes[]; /* fd_inventory.c: availability, inventory control */
extern const fd_route_t fd_holds_routes[];     /* fd_holds.c: holds */
extern const fd_route_t fd_tickets_routes[];   /* fd_tickets.c: tickets, check-ins */
extern const fd_route_t fd_payments_routes[];  /* fd_payments.c: payments, refunds, gateway webhooks */
extern const fd_route_t fd_bookings_routes[];  /* fd_bookings.c: bookings */
extern const fd_route_t fd_promos_routes[];    /* fd_promos.c: promo codes, booking settings, tax rules */

/* NULL-terminated list of route lists. */
extern const fd_route_t *const fd_all_routes[];

#endif
