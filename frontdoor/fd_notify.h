/* fd_notify: the customer side of notifications: settings per channel and category with
 * quiet hours (GET/POST /api/v1/notifications/settings), browser push subscriptions, the
 * VAPID public key browsers subscribe with, RFC 8058 one-click unsubscribe, and the admin
 * test trigger that sends any message type to any user through the delivery engine. */
#ifndef FD_NOTIFY_H
#define FD_NOTIFY_H

#include "fd.h"

extern const fd_route_t fd_notify_routes[];

#endif
