/* fd_content: the storefront's editorial content: public reads of featured events,
 * promotions and news (what is inside its window now, for the reader's locale, cached by
 * HTTP for at most a minute and never past the next window change) and their management
 * by admins. */
#ifndef FD_CONTENT_H
#define FD_CONTENT_H

#include "fd.h"

/* Every content route, ending with {NULL}. */
extern const fd_route_t fd_content_routes[];

/* Normalizes the best language of an Accept-Language value to "ll" or "ll-CC" into out
 * (8 bytes). Returns 1, or 0 when it names none (out is then ""). */
int fd_content_accept_language(const char *header, char out[8]);

#endif
