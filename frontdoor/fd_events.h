/* fd_events: the event routes (GET/POST /api/v1/events, GET/PUT/DELETE
 * /api/v1/events/{eventId}) and what the series, tier and publish modules reuse: the
 * event document, visibility, and the same-hall overlap check. */
#ifndef FD_EVENTS_H
#define FD_EVENTS_H

#include <stdint.h>

#include "bx_util.h"
#include "fd.h"

/* Every event route, ending with {NULL}. */
extern const fd_route_t fd_events_routes[];

/* Event types and statuses, NULL-terminated. */
extern const char *const fd_events_types[];

/* Body schema of a performer {"name", "role"?}. */
extern const bx_jfield_t fd_events_performer_schema[];

/* What cat_event_lock read about an event being changed. */
typedef struct {
    char org[BX_UUID_LEN + 1];    /* owning organization */
    char status[16];              /* draft, published, on_sale, completed, cancelled */
    char hall[BX_UUID_LEN + 1];   /* hall it occupies */
    char layout[BX_UUID_LEN + 1]; /* layout version it uses */
    char starts[32];              /* starts_at, RFC 3339 UTC */
    char duration[32];            /* ends_at - starts_at as PostgreSQL interval text */
    char venue[BX_UUID_LEN + 1];  /* its venue */
    char currency[4];             /* ISO 4217 code of its prices */
} fd_event_row_t;

/* Where an event takes place, resolved from venue_id, hall_id and layout_version. */
typedef struct {
    char org[BX_UUID_LEN + 1];    /* the venue's organization, which owns the event */
    char layout[BX_UUID_LEN + 1]; /* the layout version used */
} fd_event_place_t;

/* Resolves venue, hall and layout version (NULL: the hall's latest) inside the caller's
 * transaction, share-locking the venue so it cannot be deleted meanwhile. Rolls back and
 * answers 404 for a venue that is absent or not the caller's to manage, 404 for a hall
 * of another venue, 422 when the layout version does not exist; returns 0 then. */
int fd_events_place(fd_req_t *req, bx_pg_t *pg, const char *venue, const char *hall,
                    json_t *version, fd_event_place_t *out);

/* Locks event id (FOR UPDATE, inside the caller's transaction) for a change by the caller
 * and fills row. When it does not exist or the caller does not manage its organization,
 * rolls back, answers 404 and returns 0. */
int fd_events_lock(fd_req_t *req, bx_pg_t *pg, const char *id, fd_event_row_t *row);

/* Answers the event document with status and meta (stolen, may be NULL) when the caller
 * may see it (published and on-sale events: anyone; others: managers), else 404; rolls
 * back and answers the problem when it cannot be read. Cache headers are set (public
 * only for published and on-sale events). */
void fd_events_reply(fd_req_t *req, bx_pg_t *pg, const char *id, int status, json_t *meta);

/* Whether the caller may see event id (published and on-sale: anyone; others: managers
 * of its organization and admins). Answers 404 (or the database problem) and returns 0
 * otherwise; *modified gets its last change in epoch seconds. */
int fd_events_visible(fd_req_t *req, bx_pg_t *pg, const char *id, int64_t *modified);

/* Looks for an event other than exclude (may be NULL) that is not cancelled and
 * overlaps [starts, ends) in hall. *found is 1 when there is one; its id and series id
 * (may be "") are copied into id and series (37 bytes each, may be NULL). */
bx_err_t fd_events_conflict(bx_pg_t *pg, const char *hall, const char *starts, const char *ends,
                            const char *exclude, int *found, char *id, char *series);

/* Answers 409 naming the event that occupies the hall and returns 0 when there is one;
 * returns 1 when the slot is free. Rolls back on refusal. */
int fd_events_slot_free(fd_req_t *req, bx_pg_t *pg, const char *hall, const char *starts,
                        const char *ends, const char *exclude);

#endif
