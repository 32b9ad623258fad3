/* bx_invfeed: the live inventory feed of each event. Whoever commits an inventory change
 * (the hold worker, hold expiry, partner inventory edits, waitlist offers) publishes it
 * here after the commit; the frontdoor's stream thread relays it to watching clients as
 * Server-Sent Events. Each change gets the event's next inventory version (1, 2, ...),
 * is kept in a bounded per-event log for Last-Event-ID resume, and is published on the
 * Redis channel BX_INVFEED_CHANNEL<event_id> as "<version> <json>". One Lua script does
 * all three, so versions are published in order. Redis keys: bx:inv:{<event>}:ver and
 * bx:inv:{<event>}:log (a stream whose entry ids are "<version>-1"). */
#ifndef BX_INVFEED_H
#define BX_INVFEED_H

#include <jansson.h>

#include "bx_err.h"
#include "bx_redis.h"

#define BX_INVFEED_CHANNEL "bx:invfeed:" /* channel prefix; the event id follows */
#define BX_INVFEED_LOG_MAX 5000          /* changes kept per event for resume (approximate) */
#define BX_INVFEED_TTL_S   (30 * 86400)  /* the log and version outlive the last change so long */

/* Publishes change (borrowed; a JSON object, e.g. {"seats": [{"seat_id", "label",
 * "state"}], "tiers": [{"tier_id", "available", "held", "sold"}], "hold_id"}) for
 * event_id. The published document is change plus "version", "event_id" and "ts" (epoch
 * ms). Call it after the transaction that made the change committed; a failed publish
 * loses no data (clients that miss a version resync from the inventory read). Returns
 * BX_OK with *version_out (may be NULL) set, BX_EINVAL for a bad event id or a change
 * that is not an object, BX_EUNAVAILABLE when Redis cannot be reached. */
bx_err_t bx_invfeed_publish(bx_redis_t *redis, const char *event_id, json_t *change,
                            long long *version_out);

/* The event's current inventory version (0 before any change) into *version. Returns
 * BX_OK or BX_EUNAVAILABLE. */
bx_err_t bx_invfeed_version(bx_redis_t *redis, const char *event_id, long long *version);

/* Reads the changes of event_id after version after (at most max of them) as a new JSON
 * array of the published texts (strings) into *out, the current version into *current,
 * and sets *gap to 1 when the log no longer holds every change after after (the reader
 * must resync from a snapshot). after < 0 reads nothing, only the current version.
 * Returns BX_OK or BX_EUNAVAILABLE (*out NULL). The caller decrefs *out. */
bx_err_t bx_invfeed_since(bx_redis_t *redis, const char *event_id, long long after, int max,
                          json_t **out, long long *current, int *gap);

#endif
