/* bx_pg: one PostgreSQL connection with the project's named queries (sql/queries/, compiled in)
 * prepared at connect time. A bx_pg_t belongs to one thread. */
#ifndef BX_PG_H
#define BX_PG_H

#include <libpq-fe.h>

#include "bx_err.h"

typedef struct bx_pg bx_pg_t;

/* Connects to dsn. With prepare set, every named query is prepared now (fails if the
 * schema is not migrated). Returns NULL on failure, with the reason logged. */
bx_pg_t *bx_pg_new(const char *dsn, int prepare);

/* Closes the connection and frees self; *self_p becomes NULL. Safe on NULL. */
void bx_pg_destroy(bx_pg_t **self_p);

/* The underlying connection (borrowed). */
PGconn *bx_pg_conn(bx_pg_t *self);

/* Runs the named query with text parameters (NULL entries are SQL NULL). Returns the
 * result on success: the caller PQclear()s it. On failure returns NULL, sets *err from
 * the SQLSTATE, and keeps the message and SQLSTATE for bx_pg_error()/bx_pg_sqlstate().
 * When the connection is broken and no transaction is open, reconnects once and retries. */
PGresult *bx_pg_query(bx_pg_t *self, const char *name, int nparams, const char *const *params,
                      bx_err_t *err);

/* Like bx_pg_query but for statements whose result is not needed. */
bx_err_t bx_pg_run(bx_pg_t *self, const char *name, int nparams, const char *const *params);

/* Runs literal SQL without parameters (BEGIN, COMMIT, migrations). Never pass input. */
bx_err_t bx_pg_exec(bx_pg_t *self, const char *sql);

bx_err_t bx_pg_begin(bx_pg_t *self);
bx_err_t bx_pg_commit(bx_pg_t *self);
/* Rolls back if a transaction is open; harmless otherwise. */
void bx_pg_rollback(bx_pg_t *self);

/* Last error message (borrowed, "" if none) and SQLSTATE ("" if none). */
const char *bx_pg_error(bx_pg_t *self);
const char *bx_pg_sqlstate(bx_pg_t *self);

/* Returns 1 if the connection answers SELECT 1 now. */
int bx_pg_ping(bx_pg_t *self);

/* Text of the named query (borrowed) or NULL: for tools and tests. */
const char *bx_pg_query_text(const char *name);

/* Convenience: value of row r, column c of res, or NULL when SQL NULL. Borrowed. */
const char *bx_pg_val(const PGresult *res, int r, int c);

#endif
