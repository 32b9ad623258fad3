/* bx_pg: libpq connection with named prepared queries and SQLSTATE error mapping. */
#include "bx_pg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_embed.h"
#include "bx_log.h"
#include "bx_util.h"

#define S_MAX_QUERIES 512

typedef struct {
    char *name; /* query name from "-- name: x" */
    char *text; /* SQL text */
} s_query_t;

static s_query_t s_queries[S_MAX_QUERIES];
static size_t s_nqueries;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

struct bx_pg {
    PGconn *conn;       /* owned */
    char *dsn;          /* for reconnects */
    int prepare;        /* prepare named queries on (re)connect */
    char error[512];    /* last error message */
    char sqlstate[6];   /* last SQLSTATE */
};

/* Splits every embedded query file into named queries. Runs once per process. */
static void s_parse_queries(void)
{
    for (const bx_embed_t *e = bx_sql_queries; e->name; e++) {
        const char *p = e->data;
        while ((p = strstr(p, "-- name: "))) {
            const char *name = p + 9;
            const char *eol = strchr(name, '\n');
            if (!eol)
                break;
            const char *next = strstr(eol, "-- name: ");
            const char *end = next ? next : e->data + e->len;
            if (s_nqueries == S_MAX_QUERIES) {
                fprintf(stderr, "bx_pg: too many named queries\n");
                abort();
            }
            s_queries[s_nqueries].name = strndup(name, (size_t)(eol - name));
            s_queries[s_nqueries].text = strndup(eol + 1, (size_t)(end - eol - 1));
            s_nqueries++;
            p = end;
        }
    }
}

const char *bx_pg_query_text(const char *name)
{
    pthread_once(&s_once, s_parse_queries);
    for (size_t i = 0; i < s_nqueries; i++)
        if (!strcmp(s_queries[i].name, name))
            return s_queries[i].text;
    return NULL;
}

static void s_fail(bx_pg_t *self, const PGresult *res)
{
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(self->conn);
    bx_strlcpy(self->sqlstate, st ? st : "", sizeof self->sqlstate);
    bx_strlcpy(self->error, msg && *msg ? msg : PQerrorMessage(self->conn), sizeof self->error);
    self->error[strcspn(self->error, "\n")] = '\0';
}

static bx_err_t s_prepare_all(bx_pg_t *self)
{
    for (size_t i = 0; i < s_nqueries; i++) {
        PGresult *res = PQprepare(self->conn, s_queries[i].name, s_queries[i].text, 0, NULL);
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok) {
            s_fail(self, res);
            BX_ERROR("could not prepare query %s: %s", s_queries[i].name, self->error);
        }
        PQclear(res);
        if (!ok)
            return BX_EINTERNAL;
    }
    return BX_OK;
}

static bx_err_t s_connect(bx_pg_t *self)
{
    if (self->conn)
        PQfinish(self->conn);
    self->conn = PQconnectdb(self->dsn);
    if (PQstatus(self->conn) != CONNECTION_OK) {
        s_fail(self, NULL);
        BX_WARN("could not connect to postgresql: %s", self->error);
        return BX_EUNAVAILABLE;
    }
    if (self->prepare)
        return s_prepare_all(self);
    return BX_OK;
}

bx_pg_t *bx_pg_new(const char *dsn, int prepare)
{
    pthread_once(&s_once, s_parse_queries);
    bx_pg_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->dsn = strdup(dsn);
    self->prepare = prepare;
    if (!self->dsn || s_connect(self) != BX_OK)
        bx_pg_destroy(&self);
    return self;
}

void bx_pg_destroy(bx_pg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bx_pg_t *self = *self_p;
    if (self->conn)
        PQfinish(self->conn);
    free(self->dsn);
    free(self);
    *self_p = NULL;
}

PGconn *bx_pg_conn(bx_pg_t *self)
{
    return self->conn;
}

/* A broken connection outside a transaction may be re-established transparently. */
static int s_can_reconnect(bx_pg_t *self)
{
    return PQstatus(self->conn) == CONNECTION_BAD &&
           PQtransactionStatus(self->conn) != PQTRANS_INTRANS &&
           PQtransactionStatus(self->conn) != PQTRANS_INERROR;
}

PGresult *bx_pg_query(bx_pg_t *self, const char *name, int nparams, const char *const *params,
                      bx_err_t *err)
{
    bx_err_t dummy;
    if (!err)
        err = &dummy;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (attempt == 1 && (!s_can_reconnect(self) || s_connect(self) != BX_OK))
            break;
        PGresult *res = PQexecPrepared(self->conn, name, nparams, params, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            *err = BX_OK;
            return res;
        }
        s_fail(self, res);
        PQclear(res);
        if (PQstatus(self->conn) != CONNECTION_BAD)
            break;
    }
    *err = self->sqlstate[0] ? bx_err_from_sqlstate(self->sqlstate) : BX_EUNAVAILABLE;
    BX_DEBUG("query %s failed: %s", name, self->error);
    return NULL;
}

bx_err_t bx_pg_run(bx_pg_t *self, const char *name, int nparams, const char *const *params)
{
    bx_err_t err;
    PGresult *res = bx_pg_query(self, name, nparams, params, &err);
    PQclear(res);
    return err;
}

bx_err_t bx_pg_exec(bx_pg_t *self, const char *sql)
{
    if (s_can_reconnect(self) && s_connect(self) != BX_OK)
        return BX_EUNAVAILABLE;
    PGresult *res = PQexec(self->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    bx_err_t err = BX_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        s_fail(self, res);
        err = self->sqlstate[0] ? bx_err_from_sqlstate(self->sqlstate) : BX_EUNAVAILABLE;
    }
    PQclear(res);
    return err;
}

bx_err_t bx_pg_begin(bx_pg_t *self)
{
    return bx_pg_exec(self, "BEGIN");
}

bx_err_t bx_pg_commit(bx_pg_t *self)
{
    return bx_pg_exec(self, "COMMIT");
}

void bx_pg_rollback(bx_pg_t *self)
{
    if (PQtransactionStatus(self->conn) != PQTRANS_IDLE)
        (void)bx_pg_exec(self, "ROLLBACK");
}

const char *bx_pg_error(bx_pg_t *self)
{
    return self->error;
}

const char *bx_pg_sqlstate(bx_pg_t *self)
{
    return self->sqlstate;
}

int bx_pg_ping(bx_pg_t *self)
{
    return bx_pg_exec(self, "SELECT 1") == BX_OK;
}

const char *bx_pg_val(const PGresult *res, int r, int c)
{
    if (!res || r >= PQntuples(res) || c >= PQnfields(res) || PQgetisnull(res, r, c))
        return NULL;
    return PQgetvalue(res, r, c);
}
