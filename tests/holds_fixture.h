/* holds_fixture: what the hold suites (it_holds, it_oversell) share: a fresh database, a
 * signing key and minted tokens, the real processes (frontdoor, broker, hold workers,
 * scheduler) on the suite's own ports, and on-sale events made through the catalog API.
 * Strings returned are static or the caller's as stated; failures abort the test. */
#ifndef HOLDS_FIXTURE_H
#define HOLDS_FIXTURE_H

#include <jansson.h>
#include <sys/types.h>

#include "bx_httpc.h"

#define HF_WORKERS_MAX 4
#define HF_EXTRA_MAX   12

/* The running system of one suite. */
typedef struct {
    int http_port;   /* frontdoor */
    int broker_port; /* broker */
    char base[64];   /* http://127.0.0.1:<http_port> */
    const char *dsn; /* the suite's database (static copy) */
    char dir[256];   /* scratch folder: keys, logs */
    char log[320];   /* every process logs here */
    pid_t frontdoor, broker, scheduler;
    pid_t workers[HF_WORKERS_MAX]; /* hold workers */
    int nworkers;                  /* how many are configured */
    pid_t extra[HF_EXTRA_MAX];     /* other processes started by hf_spawn, in order */
    const char *extra_bin[HF_EXTRA_MAX];
    int nextra;
    char org[37];                  /* the partner organization */
    char partner[4096];            /* partner token (member of org) */
    char other_partner[4096];      /* partner of another organization */
} hf_sys_t;

/* An on-sale event of the standard layout: MAIN rows A, B, C of 10 seats each (tier
 * Standard 5000; seats A5 and A6 tier Premium 9000) and GA area PIT of 100 (tier Standing
 * 2500, capacity ga_capacity). */
typedef struct {
    char id[37];       /* event id */
    char standard[37]; /* seated tier MAIN */
    char premium[37];  /* seated tier A5, A6 */
    char standing[37]; /* GA tier */
} hf_event_t;

/* Creates the database db, keys, the partner tokens, and starts every process with
 * nworkers hold workers and the given extra environment (NULL-terminated, may be NULL). */
void hf_start(hf_sys_t *sys, const char *db, int http_port, int nworkers, const char *const *env);

/* Stops every process (SIGTERM). */
void hf_stop(hf_sys_t *sys);

/* Starts another process of the system (a worker pool, the sandbox) with the suite's
 * environment and argv (NULL-terminated, argv[0] included; NULL: just the program), and
 * returns its slot in sys->extra; hf_stop stops it (SIGTERM). Call after hf_start. */
int hf_spawn(hf_sys_t *sys, const char *bin, const char *const *argv);

/* Starts the process of slot i again, with the same program and no arguments (after a
 * kill). */
void hf_respawn(hf_sys_t *sys, int i);

/* Starts hold worker i again (after a kill). */
void hf_worker_start(hf_sys_t *sys, int i);

/* A customer: a user with a session, and its token into tok (cap bytes); its id into uid
 * (37 bytes) when uid is not NULL. */
void hf_customer(hf_sys_t *sys, char *tok, size_t cap, char *uid);

/* A user with role and a session, and its token into tok (cap bytes); its id into uid_out
 * (37 bytes) when uid_out is not NULL. */
void hf_token(hf_sys_t *sys, const char *role, char *tok, size_t cap, char *uid_out);

/* n customers at once (one SQL statement for the users, one for the sessions); toks[i]
 * receives a new token string (caller frees each). */
void hf_customers(hf_sys_t *sys, int n, char **toks);

/* A new on-sale event in its own hall (seats_per_row seats in rows A..rows, GA capacity). */
void hf_event(hf_sys_t *sys, int rows, int seats_per_row, int ga_capacity, hf_event_t *ev);

/* A draft event (not published) with the standard layout and tiers. */
void hf_draft(hf_sys_t *sys, hf_event_t *ev);

/* HTTP against the frontdoor: method path (relative) with a JSON body (may be NULL) and a
 * bearer token (may be NULL) and extra headers (NULL-terminated, may be NULL). */
bx_httpc_resp_t hf_call(hf_sys_t *sys, const char *method, const char *path, const char *tok,
                        const char *body, const char *const *headers);

/* Formats JSON written with ' for " (rotating static buffers). */
const char *hf_j(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The value at a dotted path ("data.attributes.seats.0.label") or NULL. Borrowed. */
json_t *hf_get(json_t *j, const char *path);
const char *hf_str(json_t *j, const char *path);
long hf_int(json_t *j, const char *path);

/* First column of the first row of a SQL statement on the suite's database (test values
 * only), as a number (-1 when NULL) or a new string (caller frees). */
long hf_num(hf_sys_t *sys, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *hf_text(hf_sys_t *sys, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Asserts r's status is st (the caller's file and line in the message). */
#define HF_EXPECT(r, st)                                                                           \
    ck_assert_msg((r).status == (st), "%s:%d: want %d, got %ld: %s", __FILE__, __LINE__, (st),     \
                  (r).status, (r).body ? (r).body : "")

/* Asserts r is an RFC 9457 problem: status, application/problem+json and type
 * https://boxoffice.dev/problems/<slug>; line is the caller's (HF_PROBLEM). */
void hf_problem(const bx_httpc_resp_t *r, long status, const char *slug, int line);
#define HF_PROBLEM(r, st, slug) hf_problem(&(r), (st), (slug), __LINE__)

/* Holds body on ev as tok (waiting for the result), expects 201, copies the hold id. */
void hf_hold(hf_sys_t *sys, const hf_event_t *ev, const char *tok, const char *body, char id[37]);

/* method (GET, DELETE) on hold of ev as tok, waiting for the result. */
bx_httpc_resp_t hf_on_hold(hf_sys_t *sys, const char *method, const hf_event_t *ev,
                           const char *hold, const char *tok);

/* Puts ev's inventory settings (JSON text) as the partner; expects 200. */
void hf_settings(hf_sys_t *sys, const hf_event_t *ev, const char *settings);

/* The state of ev's seat label ("" when none), in a static buffer. */
const char *hf_seat_state(hf_sys_t *sys, const hf_event_t *ev, const char *label);

#endif
