/* it_migrate: `bxctl migrate` against the real test PostgreSQL: every compiled-in
 * migration is recorded once, a second run changes nothing, concurrent migrators take
 * turns, and --status reports without writing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bx_embed.h"
#include "bx_harness.h"
#include "bx_suite.h"

/* Runs "bxctl a1 [a2]" (a2 may be NULL) against dsn, output appended to log.
 * Returns the exit status. */
static int s_bxctl(const char *dsn, const char *log, const char *a1, const char *a2)
{
    char env[512];
    snprintf(env, sizeof env, "BOXOFFICE_PG_DSN=%s", dsn);
    const char *envv[] = {env, NULL};
    const char *argv[] = {NULL, a1, a2, NULL};
    pid_t pid = bx_h_spawn(bx_h_bin("bxctl"), argv, envv, log);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int s_count_migrations(void)
{
    int n = 0;
    for (const bx_embed_t *m = bx_sql_migrations; m->name; m++)
        n++;
    return n;
}

/* Comma-separated versions the binary carries, in order: "0001_foundation,...". */
static void s_expected_versions(char *out, size_t cap)
{
    out[0] = '\0';
    for (const bx_embed_t *m = bx_sql_migrations; m->name; m++) {
        size_t o = strlen(out);
        snprintf(out + o, cap - o, "%s%.*s", o ? "," : "", (int)(strlen(m->name) - 4), m->name);
    }
}

/* A database that exists but has never been migrated. Returns its DSN (static). */
static const char *s_empty_db(const char *name)
{
    static char dsn[256];
    char admin[128], sql[256];
    const char *port = getenv("BX_TEST_PG_PORT") ? getenv("BX_TEST_PG_PORT") : "25432";
    snprintf(admin, sizeof admin, "host=127.0.0.1 port=%s dbname=postgres user=boxoffice", port);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    free(bx_h_sql(admin, sql));
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    free(bx_h_sql(admin, sql));
    snprintf(dsn, sizeof dsn, "host=127.0.0.1 port=%s dbname=%s user=boxoffice", port, name);
    char *one = bx_h_sql(dsn, "SELECT 1");
    ck_assert_msg(one != NULL, "could not create database %s", name);
    free(one);
    return dsn;
}

static void s_assert_str(const char *dsn, const char *sql, const char *want)
{
    char *got = bx_h_sql(dsn, sql);
    ck_assert_msg(got && !strcmp(got, want), "%s: got %s, want %s", sql, got ? got : "NULL", want);
    free(got);
}

START_TEST(every_migration_recorded_once)
{
    const char *dsn = bx_h_db("it_migrate");
    char want[4096], count[16];
    s_expected_versions(want, sizeof want);
    snprintf(count, sizeof count, "%d", s_count_migrations());
    ck_assert_int_gt(s_count_migrations(), 0);
    s_assert_str(dsn, "SELECT count(*) FROM schema_migrations", count);
    s_assert_str(dsn, "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations",
                 want);
    s_assert_str(dsn, "SELECT bool_and(length(checksum) = 64) FROM schema_migrations", "t");
    /* The foundation's tables exist. */
    s_assert_str(dsn,
                 "SELECT to_regclass('requests') IS NOT NULL AND to_regclass('users') "
                 "IS NOT NULL AND to_regclass('outbox') IS NOT NULL",
                 "t");
}
END_TEST

START_TEST(second_run_changes_nothing)
{
    const char *dsn = bx_h_db("it_migrate_again");
    const char *snap = "SELECT string_agg(version || '@' || applied_at::text, ',' ORDER BY "
                       "version) FROM schema_migrations";
    char *before = bx_h_sql(dsn, snap);
    ck_assert_ptr_nonnull(before);
    ck_assert_int_eq(s_bxctl(dsn, "it_migrate.again.log", "migrate", NULL), 0);
    ck_assert_int_eq(s_bxctl(dsn, "it_migrate.again.log", "migrate", NULL), 0);
    s_assert_str(dsn, snap, before);
    free(before);
}
END_TEST

START_TEST(concurrent_migrators_take_turns)
{
    enum { N = 4 };
    const char *dsn = s_empty_db("bx_it_migrate_race");
    char env[512];
    snprintf(env, sizeof env, "BOXOFFICE_PG_DSN=%s", dsn);
    const char *envv[] = {env, NULL};
    const char *argv[] = {NULL, "migrate", NULL};
    pid_t pids[N];
    for (int i = 0; i < N; i++)
        pids[i] = bx_h_spawn(bx_h_bin("bxctl"), argv, envv, "it_migrate.race.log");
    for (int i = 0; i < N; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "migrator %d failed: see it_migrate.race.log", i);
    }
    char want[4096], count[16];
    s_expected_versions(want, sizeof want);
    snprintf(count, sizeof count, "%d", s_count_migrations());
    s_assert_str(dsn, "SELECT count(*) FROM schema_migrations", count);
    s_assert_str(dsn, "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations",
                 want);
}
END_TEST

START_TEST(status_reports_without_writing)
{
    const char *dsn = s_empty_db("bx_it_migrate_status");
    const char *log = "it_migrate.status.log";
    remove(log);
    ck_assert_int_eq(s_bxctl(dsn, log, "migrate", "--status"), 0);
    s_assert_str(dsn, "SELECT to_regclass('schema_migrations') IS NULL", "t");
    char line[64];
    snprintf(line, sizeof line, "%d pending", s_count_migrations());
    char cmd[256];
    snprintf(cmd, sizeof cmd, "grep -qx '%s' %s", line, log);
    ck_assert_msg(bx_h_sh(cmd) == 0, "expected '%s' in %s", line, log);

    ck_assert_int_eq(s_bxctl(dsn, log, "migrate", NULL), 0);
    remove(log);
    ck_assert_int_eq(s_bxctl(dsn, log, "migrate", "--status"), 0);
    ck_assert_msg(bx_h_sh("grep -qx '0 pending' it_migrate.status.log") == 0,
                  "expected '0 pending' after migrating");
}
END_TEST

START_TEST(unreachable_database_fails_cleanly)
{
    const char *dsn = "host=127.0.0.1 port=1 dbname=nothing user=boxoffice connect_timeout=2";
    ck_assert_int_eq(s_bxctl(dsn, "it_migrate.unreachable.log", "migrate", NULL), 1);
    ck_assert_int_eq(s_bxctl(dsn, "it_migrate.unreachable.log", "migrate", "--bogus"), 2);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("migrate");
    TCase *tc = tcase_create("migrate");
    tcase_add_test(tc, every_migration_recorded_once);
    tcase_add_test(tc, second_run_changes_nothing);
    tcase_add_test(tc, concurrent_migrators_take_turns);
    tcase_add_test(tc, status_reports_without_writing);
    tcase_add_test(tc, unreachable_database_fails_cleanly);
    suite_add_tcase(s, tc);
    return s;
}
