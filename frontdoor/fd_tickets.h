/* fd_tickets: tickets, QR images, the public ticket keys, the revocation list for offline
 * scanners and check-ins (docs/tickets.md). Check-ins are synchronous here (one INSERT):
 * a gate cannot wait for a pipeline. */
#ifndef FD_TICKETS_H
#define FD_TICKETS_H

#include "fd.h"

/* Every ticket route, ending with {NULL}. */
extern const fd_route_t fd_tickets_routes[];

#endif
