/* fd_promos: what partners and admins set for checkout: promo codes
 * (/api/v1/promo-codes, per organization or per event), an event's booking settings
 * (fees, payment window, cancellation policy) and, for admins, the tax rules. */
#ifndef FD_PROMOS_H
#define FD_PROMOS_H

#include "fd.h"

/* Every route of this module, ending with {NULL}. */
extern const fd_route_t fd_promos_routes[];

#endif
