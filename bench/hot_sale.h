/* hot_sale: what the parts of bx-hot-sale share (bench/README.md, "hot-sale"): the run's
 * options and state, the events it made, the simulated users and their tokens, and the HTTP
 * load runner every phase uses. A phase is one entry of the phase table in hot_sale.c:
 * "hot" (every user on one event), "spread" (the same users over many events); the
 * waiting-room phase plugs in there too, filling hs_bench_t.admission before it runs holds.
 * Ownership: hs_bench_t owns every string it points to; hs_* functions borrow their
 * arguments. */
#ifndef HOT_SALE_H
#define HOT_SALE_H

#include <jansson.h>
#include <stdint.h>

#include "bx_jwt.h"
#include "bx_pg.h"

#define HS_TOKEN_MAX 2048 /* a minted access token fits */

/* One event the bench made. */
typedef struct {
    char id[37];       /* event id */
    char standard[37]; /* seated tier (every seat) */
    char standing[37]; /* GA tier */
    int rows;          /* rows "R1-" .. */
    int per_row;       /* seats per row: labels "R<row>-<n>" */
    int ga;            /* GA capacity */
} hs_event_t;

/* The run. */
typedef struct {
    /* options */
    const char *base;   /* frontdoor base URL */
    const char *dsn;    /* PostgreSQL of the system (users, sessions, checks) */
    const char *keys;   /* JWT key folder of the system (tokens are minted, not logged in) */
    int users;          /* simulated users per phase */
    int conns;          /* concurrent HTTP connections (keep-alive) */
    int seats;          /* reserved seats of the hot event (spread: shared out) */
    int ga;             /* GA capacity of the hot event (spread: shared out) */
    int hot_share;      /* percent of users who hammer the same hot seats */
    int hot_seats;      /* how many hot seats (row 1, centre) */
    int spread_events;  /* events of the spread phase */
    int wait_s;         /* Prefer: wait for each hold */
    /* state */
    bx_pg_t *pg;                 /* the bench's connection */
    bx_jwt_ring_t *ring;         /* the system's signing keys */
    char partner[HS_TOKEN_MAX];  /* partner token (owns the bench events) */
    char venue[37];              /* the bench venue */
    int halls;                   /* halls made so far */
    char (*tokens)[HS_TOKEN_MAX];/* users' access tokens */
    char **admission;            /* users' admission tokens, or NULL entries (waiting room) */
    char tag[32];                /* run stamp in names and e-mails */
} hs_bench_t;

/* What one phase of holds measured. */
typedef struct {
    double secs;         /* wall time of the phase */
    long requests;       /* hold requests sent */
    long created;        /* 201: hold made */
    long conflict;       /* 409: refused (taken, sold out, limit) */
    long accepted;       /* 202: still running after the wait (finishes later) */
    long other;          /* anything else (counted in statuses) */
    json_t *statuses;    /* {"201": n, ...} (owned) */
    double p50, p95, p99, max_ms; /* latency of decided holds (201/409), ms */
} hs_result_t;

/* ---- hot_sale_setup.c ---- */

/* Connects, loads the keys and creates the partner. BX_OK or an error (printed). */
bx_err_t hs_setup(hs_bench_t *b);

/* Creates b->users customers with sessions and mints their tokens. */
bx_err_t hs_users(hs_bench_t *b);

/* An on-sale event of seats reserved seats (rows of per_row) and ga GA capacity, with
 * per-user and per-order limits high enough for the load. */
bx_err_t hs_event(hs_bench_t *b, int seats, int per_row, int ga, hs_event_t *ev);

/* A response body growing as curl hands it over (NUL-terminated; the caller frees buf). */
typedef struct {
    char *buf;  /* body */
    size_t len; /* bytes */
} hs_buf_t;

/* CURLOPT_WRITEFUNCTION appending to the hs_buf_t arg (CURLOPT_WRITEDATA). */
size_t hs_collect(char *data, size_t size, size_t n, void *arg);

/* Blocking API call as the partner: method path body; status returned, *doc (may be NULL)
 * receives the parsed answer (caller decrefs). */
long hs_api(hs_bench_t *b, const char *method, const char *path, const char *body, json_t **doc);

/* Waits until no hold request of the events is unfinished (at most timeout_s). Returns the
 * number still unfinished. */
long hs_settle(hs_bench_t *b, const hs_event_t *events, int n, int timeout_s);

/* Oversell count over the events (must be 0) and, into *seats and *ga, what is held. */
long hs_oversell(hs_bench_t *b, const hs_event_t *events, int n, long *seats, long *ga);

/* ---- hot_sale_load.c ---- */

/* Sends one hold per user (user u on events[u % n]) over b->conns keep-alive connections
 * and fills r (r->statuses is new). */
bx_err_t hs_load(hs_bench_t *b, const hs_event_t *events, int n, hs_result_t *r);

/* The result as a JSON object (new reference). */
json_t *hs_result_json(const char *name, const hs_result_t *r, int events);

/* ---- hot_sale_waitroom.c ---- */

/* The "waitroom" phase: every user joins a fresh event's waiting room before its sale,
 * polls its position with Retry-After, holds once admitted; appends admissions per minute
 * (observed and configured), holds and latency to phases. */
bx_err_t hs_waitroom(hs_bench_t *b, hs_event_t *hot, hs_event_t *spread, json_t *phases);

#endif
