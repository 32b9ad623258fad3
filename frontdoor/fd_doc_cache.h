/* fd_doc_cache: the Redis document cache of the public event and venue reads (GET
 * /api/v1/events/{id}, GET /api/v1/venues/{id}). A document is the rendered JSON body
 * plus its Last-Modified and ETag in the hash bx:doc:<kind>:<id> (TTL doc_cache_ttl_s);
 * every write that changes what a document shows calls fd_doc_cache_touch after its
 * transaction commits and before it answers, so a writer never reads its own write stale.
 *
 * Freshness without a query per read: a touch stamps the key with the Redis clock (field
 * u) and drops the body; a reader notes the Redis clock before it reads PostgreSQL and its
 * fill is refused when the key (or, for an event, its venue's key) was touched since, so
 * a slow reader cannot put back what a writer just replaced. An event document also shows
 * its venue: a hit is refused while the venue's key was touched after the event document
 * was built. Redis down: reads go to PostgreSQL, writes succeed, and a failed touch makes
 * this process read past the cache for one TTL.
 *
 * Threads: each call uses the calling frontdoor thread's Redis handle. Nothing returned
 * is owned by the caller. */
#ifndef FD_DOC_CACHE_H
#define FD_DOC_CACHE_H

#include <stdint.h>

#include "fd.h"

typedef enum {
    FD_DOC_EVENT = 0, /* bx:doc:event:<id> */
    FD_DOC_VENUE,     /* bx:doc:venue:<id> */
} fd_doc_kind_t;

/* A lookup that missed, carried to fd_doc_cache_put. */
typedef struct {
    char key[64]; /* bx:doc:<kind>:<id> */
    char at[24];  /* Redis time of the lookup in microseconds; "" when nothing may be stored */
} fd_doc_cache_t;

/* For a GET of the public document of (kind, id): answers 200 from the cache (with its
 * Last-Modified; ETag and 304 as for any reply) and returns 1, or returns 0 with c set
 * for fd_doc_cache_put when the cache is off, bypassed (XML, Redis unreachable, a recent
 * failed touch) or missed. Never answers a problem. */
int fd_doc_cache_get(fd_req_t *req, fd_doc_kind_t kind, const char *id, fd_doc_cache_t *c);

/* After the caller answered 200 with the public document it built from PostgreSQL (the
 * same for every reader: never a draft or a manager-only view), stores the reply's JSON
 * body with last_modified (epoch seconds) unless c forbids it or the key was touched
 * since the lookup. venue_id names the venue an event document shows (NULL for venues).
 * Failures are logged at debug and ignored. */
void fd_doc_cache_put(fd_req_t *req, const fd_doc_cache_t *c, const char *venue_id,
                      int64_t last_modified);

/* After a committed write that changes the document of (kind, id) — for a venue also
 * the venue part of its events' documents — drops the cached document and stamps the key
 * so that no read that started earlier stores it again. n ids at once (any n). On a
 * Redis failure, logs a warning and bypasses the cache in this process for one TTL. */
void fd_doc_cache_touch(fd_req_t *req, fd_doc_kind_t kind, const char *id);
void fd_doc_cache_touch_ids(fd_req_t *req, fd_doc_kind_t kind, const char *const *ids, int n);

#endif
