/* bxctl migrate: applies the SQL migrations compiled into the binary (sql/migrations/,
 * in file name order), each in its own transaction together with its row in
 * schema_migrations. A session advisory lock makes concurrent migrators take turns, so
 * the second one finds everything applied. Forward only: there is no "down". */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "bx_embed.h"
#include "bx_util.h"
#include "bxctl.h"

/* Advisory lock key shared by every migrator of every boxoffice database ("bxmigr"). */
#define S_LOCK_SQL    "SELECT pg_advisory_lock(6443541102454642)"
#define S_UNLOCK_SQL  "SELECT pg_advisory_unlock(6443541102454642)"
#define S_VERSION_MAX 128

static const char *const S_CMD = "migrate";

static const char *const S_CREATE_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                          " version    VARCHAR(128) PRIMARY KEY,"
                                          " checksum   CHAR(64) NOT NULL,"
                                          " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";

/* Server NOTICEs ("relation already exists, skipping") are noise for an operator. */
static void s_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Derives the version from a file name "NNNN_words.sql" into out (cap bytes). Returns 0
 * when the name does not follow the convention. */
static int s_version(const char *file, char *out, size_t cap)
{
    size_t n = strlen(file);
    if (n < 10 || n - 4 >= cap || strcmp(file + n - 4, ".sql") || file[4] != '_')
        return 0;
    for (size_t i = 0; i < n - 4; i++) {
        char c = file[i];
        int digit = c >= '0' && c <= '9';
        int ok = i < 4 ? digit : i == 4 ? c == '_' : digit || (c >= 'a' && c <= 'z') || c == '_';
        if (!ok)
            return 0;
    }
    memcpy(out, file, n - 4);
    out[n - 4] = '\0';
    return 1;
}

/* Looks version up: returns 1 and fills checksum (65 bytes) and applied_at (40 bytes)
 * when it is recorded, 0 when not, -1 on a database error. */
static int s_lookup(PGconn *c, const char *version, char *checksum, char *applied_at)
{
    const char *params[1] = {version};
    PGresult *res = PQexecParams(c,
                                 "SELECT checksum, to_char(applied_at AT TIME ZONE 'UTC', "
                                 "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM schema_migrations "
                                 "WHERE version = $1",
                                 1, NULL, params, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        rc = PQntuples(res) > 0;
        if (rc) {
            bx_strlcpy(checksum, PQgetvalue(res, 0, 0), 65);
            bx_strlcpy(applied_at, PQgetvalue(res, 0, 1), 40);
        }
    } else {
        bxctl_err(S_CMD, "could not read schema_migrations: %s", PQerrorMessage(c));
    }
    PQclear(res);
    return rc;
}

/* Runs one migration and records it, all in one transaction. */
static int s_apply(bx_pg_t *pg, const bx_embed_t *m, const char *version, const char *sum)
{
    PGconn *c = bx_pg_conn(pg);
    int64_t t0 = bx_mono_ms();
    if (bx_pg_begin(pg) != BX_OK) {
        bxctl_err(S_CMD, "could not begin a transaction: %s", bx_pg_error(pg));
        return -1;
    }
    PGresult *res = PQexec(c, m->data);
    ExecStatusType st = PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        bxctl_err(S_CMD, "could not apply %s: %s", version, PQresultErrorMessage(res));
    PQclear(res);
    if (ok && PQtransactionStatus(c) != PQTRANS_INTRANS) {
        bxctl_err(S_CMD, "could not apply %s: it must not contain BEGIN, COMMIT or ROLLBACK",
                  version);
        ok = 0;
    }
    if (ok) {
        const char *params[2] = {version, sum};
        res = PQexecParams(c, "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
                           2, NULL, params, NULL, NULL, 0);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            bxctl_err(S_CMD, "could not record %s: %s", version, PQresultErrorMessage(res));
        PQclear(res);
    }
    if (ok && bx_pg_commit(pg) != BX_OK) {
        bxctl_err(S_CMD, "could not commit %s: %s", version, bx_pg_error(pg));
        ok = 0;
    }
    if (!ok) {
        bx_pg_rollback(pg);
        return -1;
    }
    printf("applied %s (%lld ms)\n", version, (long long)(bx_mono_ms() - t0));
    return 0;
}

/* Applies every pending migration in order. Returns the number applied, or -1. */
static int s_migrate_all(bx_pg_t *pg, int *already)
{
    int applied = 0;
    *already = 0;
    for (const bx_embed_t *m = bx_sql_migrations; m->name; m++) {
        char version[S_VERSION_MAX], sum[65], have[65], at[40];
        if (!s_version(m->name, version, sizeof version)) {
            bxctl_err(S_CMD, "migration file %s is not named NNNN_lower_case_words.sql", m->name);
            return -1;
        }
        bx_sha256_hex(m->data, m->len, sum);
        int found = s_lookup(bx_pg_conn(pg), version, have, at);
        if (found < 0)
            return -1;
        if (found) {
            if (strcmp(have, sum))
                fprintf(stderr,
                        "bxctl migrate: warning: %s changed after it was applied at %s; "
                        "the database keeps the old version (migrations are forward "
                        "only: add a new file instead)\n",
                        version, at);
            (*already)++;
            continue;
        }
        if (s_apply(pg, m, version, sum) < 0)
            return -1;
        applied++;
    }
    return applied;
}

/* Takes the migration lock and makes sure the bookkeeping table exists. */
static int s_prepare(bx_pg_t *pg)
{
    PQsetNoticeProcessor(bx_pg_conn(pg), s_quiet, NULL);
    /* Bounded waits: for the lock of another migrator and for table locks held by a
     * running application. */
    if (bx_pg_exec(pg, "SET lock_timeout = '60s'") != BX_OK ||
        bx_pg_exec(pg, S_LOCK_SQL) != BX_OK) {
        bxctl_err(S_CMD, "could not take the migration lock: %s", bx_pg_error(pg));
        return -1;
    }
    if (bx_pg_exec(pg, S_CREATE_TABLE) != BX_OK) {
        bxctl_err(S_CMD, "could not create schema_migrations: %s", bx_pg_error(pg));
        return -1;
    }
    return 0;
}

/* Prints one line per known migration, then versions the database has but this binary
 * does not know (written by a newer binary). */
static int s_status(bx_pg_t *pg)
{
    PGconn *c = bx_pg_conn(pg);
    int pending = 0;
    PGresult *res = PQexec(c, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    int has_table = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                    !strcmp(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    for (const bx_embed_t *m = bx_sql_migrations; m->name; m++) {
        char version[S_VERSION_MAX], sum[65], have[65], at[40];
        if (!s_version(m->name, version, sizeof version)) {
            printf("%-40s badly named file\n", m->name);
            continue;
        }
        bx_sha256_hex(m->data, m->len, sum);
        int found = has_table ? s_lookup(c, version, have, at) : 0;
        if (found < 0)
            return BXCTL_FAIL;
        pending += !found;
        printf("%-40s %s%s%s\n", version, found ? "applied " : "pending", found ? at : "",
               found && strcmp(have, sum) ? " (file changed since)" : "");
    }
    res = has_table ? PQexec(c, "SELECT version FROM schema_migrations ORDER BY version") : NULL;
    for (int r = 0; res && PQresultStatus(res) == PGRES_TUPLES_OK && r < PQntuples(res); r++) {
        const char *v = PQgetvalue(res, r, 0);
        char file[S_VERSION_MAX + 8];
        snprintf(file, sizeof file, "%s.sql", v);
        if (!bx_embed_find(bx_sql_migrations, file))
            printf("%-40s applied, unknown to this binary (newer version?)\n", v);
    }
    PQclear(res);
    printf("%d pending\n", pending);
    return BXCTL_OK;
}

int bxctl_migrate(int argc, char **argv)
{
    int status_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--status")) {
            status_only = 1;
        } else {
            bxctl_err(S_CMD, "unknown argument %s (usage: bxctl migrate [--status])", argv[i]);
            return BXCTL_USAGE;
        }
    }
    bx_pg_t *pg = bxctl_pg_connect();
    if (!pg)
        return BXCTL_FAIL;
    int rc = BXCTL_FAIL;
    if (status_only) {
        PQsetNoticeProcessor(bx_pg_conn(pg), s_quiet, NULL);
        rc = s_status(pg);
    } else if (s_prepare(pg) == 0) {
        int already = 0;
        int applied = s_migrate_all(pg, &already);
        if (applied >= 0) {
            printf("migrations: %d applied now, %d already applied\n", applied, already);
            rc = BXCTL_OK;
        }
        (void)bx_pg_exec(pg, S_UNLOCK_SQL);
    }
    bx_pg_destroy(&pg);
    return rc;
}
