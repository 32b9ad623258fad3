/* fd_media: posters, trailers and gallery images of events and venues: upload (type
 * detected from the bytes, content-addressed, deduplicated), metadata, content with
 * immutable caching, deletion; and the media list that event and venue documents embed.
 * The bytes live in the store of fd_media_store.h, created once by fd_media_init. */
#ifndef FD_MEDIA_H
#define FD_MEDIA_H

#include "fd.h"

/* Every media route, ending with {NULL}. */
extern const fd_route_t fd_media_routes[];

/* Opens the media store the configuration selects, before the HTTP threads start.
 * BX_OK, or an error (logged) on which the frontdoor must not start. */
bx_err_t fd_media_init(void);

/* Closes the store; after the HTTP threads are gone. */
void fd_media_shutdown(void);

/* Adds "media": [...] (poster, trailers, gallery, each with links) of the event or venue
 * owner_id to attributes (a JSON object, borrowed). Returns BX_OK or the database error,
 * leaving attributes unchanged. */
bx_err_t fd_media_embed(bx_pg_t *pg, const char *owner_id, json_t *attributes);

#endif
