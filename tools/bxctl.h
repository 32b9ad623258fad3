/* bxctl: the operator command. Each subcommand is one module (tools/bxctl_<name>.c) with
 * the signature below, listed in the dispatch table in tools/bxctl.c. */
#ifndef BXCTL_H
#define BXCTL_H

#include "bx_pg.h"

/* Exit codes of every subcommand. */
#define BXCTL_OK    0 /* done */
#define BXCTL_FAIL  1 /* the work failed; the reason is on stderr */
#define BXCTL_USAGE 2 /* bad arguments; usage is on stderr */

/* A subcommand: argv[0] is the subcommand's name, argv[1..argc-1] its arguments. The
 * configuration is loaded before it is called. Returns one of the BXCTL_ codes. */
typedef int (*bxctl_fn_t)(int argc, char **argv);

int bxctl_create_admin(int argc, char **argv);
int bxctl_migrate(int argc, char **argv);
int bxctl_keygen(int argc, char **argv);
int bxctl_seed(int argc, char **argv);
int bxctl_ticket_verify(int argc, char **argv);
int bxctl_ticket_rotate(int argc, char **argv);

/* Loads the demo catalog (bxctl_demo.c) owned by organization org unless it is loaded
 * already, then, when bench_events > 0, tops the benchmark organization (owned by org's
 * owners) up to bench_events published events. Prints what it did. Returns 0, or -1
 * after printing why (a failed step leaves nothing of its transaction). */
int bxctl_demo_seed(const char *org, long bench_events);

/* Connects to the configured pg_dsn without preparing the named queries (the schema may
 * not exist yet). Returns the connection (caller destroys it), or NULL after printing
 * the reason to stderr. */
bx_pg_t *bxctl_pg_connect(void);

/* Prints "bxctl <cmd>: <message>" to stderr. */
void bxctl_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
