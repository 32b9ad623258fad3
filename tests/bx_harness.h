/* bx_harness: what integration suites need to run real processes: a fresh migrated
 * database on the test PostgreSQL, child processes with their own configuration, waits
 * on ports, and kills by PID. The test PostgreSQL and Redis are started by the ctest
 * fixture (deploy/testenv.sh); their ports arrive in BX_TEST_PG_PORT and
 * BX_TEST_REDIS_PORT, the binaries' folder in BX_BIN_DIR. */
#ifndef BX_HARNESS_H
#define BX_HARNESS_H

#include <sys/types.h>

/* Drops and recreates database bx_<name>, migrates it with `bxctl migrate`, and returns
 * its DSN (static storage, overwritten by the next call). Aborts the test on failure. */
const char *bx_h_db(const char *name);

/* Path of a built binary, e.g. bx_h_bin("bx-broker"). Static storage. */
const char *bx_h_bin(const char *name);

/* Starts exe with argv (NULL-terminated, argv[0] may be NULL) and the environment of the
 * test plus env (NULL-terminated "KEY=VALUE" list, may be NULL); stdout and stderr go to
 * log_path (appended). Returns the child's PID; aborts the test on failure. */
pid_t bx_h_spawn(const char *exe, const char *const *argv, const char *const *env,
                 const char *log_path);

/* Waits until 127.0.0.1:port accepts TCP connections. Returns 0, or -1 on timeout. */
int bx_h_wait_port(int port, int timeout_ms);

/* Sends sig to pid and, for SIGTERM/SIGKILL, reaps it (waits up to timeout_ms, then
 * SIGKILL). Returns the exit status as from waitpid, or -1. */
int bx_h_stop(pid_t pid, int sig, int timeout_ms);

/* Runs a shell command, returns its exit status. */
int bx_h_sh(const char *cmd);

/* Runs a SQL statement on dsn via libpq and returns the first column of the first row as
 * a new string (caller frees), or NULL. For assertions about what was written. */
char *bx_h_sql(const char *dsn, const char *sql);

#endif
