/* fd_wr: what the waiting-room modules of the frontdoor share (fd_waitroom, fd_wrqueue,
 * fd_waitlist, fd_sse): the per-thread cache of each event's room configuration, the
 * handlers behind fd_waitroom_routes, and small helpers. Not for other modules: they use
 * fd_waitroom.h. Strings in fd_wr_room_t are copies; nothing returned needs freeing. */
#ifndef FD_WR_H
#define FD_WR_H

#include <stdint.h>

#include "bx_wroom.h"
#include "fd.h"

#define FD_WR_CACHE_MS 1000  /* a room configuration is re-read after this long */
#define FD_WR_STALE_MS 30000 /* ... and used this long when PostgreSQL is unreachable */

/* An event and its room, as of loaded_ms. */
typedef struct {
    char event_id[37];     /* lower-case */
    char org_id[37];       /* owning organization */
    char status[16];       /* event status */
    int has_room;          /* a waitroom_config row exists */
    int enabled;           /* the room is on */
    int64_t prequeue_at;   /* epoch seconds the pre-queue opens */
    int64_t sale_at;       /* epoch seconds the sale starts (the lottery is drawn) */
    int rate;              /* admissions per minute */
    int max_active;        /* maximum concurrent shoppers */
    int ttl_s;             /* admission token lifetime */
    int margin_pct;        /* inventory margin of the gatekeeper */
    int offer_ttl_s;       /* waitlist offer lifetime */
    char seed[65];         /* lottery seed, hex (secret until sale_at) */
    char seed_sha256[65];  /* its published hash */
    char prequeue_txt[24]; /* RFC 3339 of prequeue_at */
    char sale_txt[24];     /* RFC 3339 of sale_at */
    char updated_txt[24];  /* RFC 3339 of the last configuration change */
    int64_t loaded_ms;     /* monotonic ms it was read */
} fd_wr_room_t;

/* Copies event_id's room into *out, from this thread's cache when younger than
 * FD_WR_CACHE_MS (fresh set: always from PostgreSQL). Returns BX_OK, BX_ENOTFOUND when
 * the event does not exist, BX_EUNAVAILABLE when PostgreSQL cannot answer and no copy
 * younger than FD_WR_STALE_MS is cached. */
bx_err_t fd_wr_room_get(fd_req_t *req, const char *event_id, int fresh, fd_wr_room_t *out);

/* Lower-cases the UUID path parameter eventId into out; answers 404 and returns 0 when
 * it is not a UUID. */
int fd_wr_event_param(fd_req_t *req, char out[37]);

/* 1 if the caller manages the event's organization (partner member or admin); answers
 * the database problem and returns -1 when that cannot be checked. */
int fd_wr_manages(fd_req_t *req, const fd_wr_room_t *room);

/* 1 if the event is open to customers (published or on sale). */
int fd_wr_on_sale(const fd_wr_room_t *room);

/* Sets Retry-After to secs clamped to [1, 86400]. */
void fd_wr_retry_after(fd_req_t *req, int64_t secs);

/* Admissions of the last full minute and the sold-out flag, read from Redis into the out
 * parameters; BX_EUNAVAILABLE when Redis cannot be read. */
bx_err_t fd_wr_live(fd_req_t *req, const char *event_id, long *admitted_last_min, int *sold_out);

/* Fills keys with the six 10-second admission buckets of the last full minute. */
void fd_wr_minute_keys(const char *event_id, char keys[6][BX_WROOM_KEY_MAX]);

/* ---- handlers (fd_wrqueue.c) ---- */
void fd_wr_join(fd_req_t *req);
void fd_wr_position(fd_req_t *req);
void fd_wr_lottery(fd_req_t *req);

/* ---- handlers (fd_waitlist.c) ---- */
extern const bx_jfield_t fd_wl_join_schema[];
void fd_wl_join(fd_req_t *req);
void fd_wl_get(fd_req_t *req);
void fd_wl_leave(fd_req_t *req);

/* ---- handler (fd_sse.c) ---- */
void fd_sse_stream(fd_req_t *req);

#endif
