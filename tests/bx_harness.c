/* bx_harness: test databases, child processes, port waits and SQL probes for the
 * integration suites (API in bx_harness.h). Failures abort the running Check test. */
#include "bx_harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_NAME_MAX 48 /* longest database name suffix */

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

static int s_pg_port(void)
{
    const char *p = getenv("BX_TEST_PG_PORT");
    char *end;
    long port = p && *p ? strtol(p, &end, 10) : 0;
    return p && *p && !*end && port > 0 && port < 65536 ? (int)port : 25432;
}

/* "NOTICE: database does not exist, skipping" is not worth a line in the test log. */
static void s_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs literal SQL on c; aborts the test with the server's reason on failure. Retries
 * "object in use" (55006: another suite is copying template1) a few times. */
static void s_exec_or_abort(PGconn *c, const char *sql)
{
    for (int attempt = 0;; attempt++) {
        PGresult *res = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(res);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        int retry = state && !strcmp(state, "55006") && attempt < 20;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            PQclear(res);
            return;
        }
        if (!retry) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
            PQclear(res);
            PQfinish(c);
            ck_abort_msg("bx_h_db: %s failed: %s", sql, msg);
        }
        PQclear(res);
        s_sleep_ms(250);
    }
}

/* Runs argv with one extra environment variable, waits, returns the exit status. */
static int s_run_env(const char *const *argv, const char *env)
{
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with a test that timed out */
        if (env)
            putenv((char *)env);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "bx_harness: could not run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status = -1;
    if (pid < 0)
        return -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const char *bx_h_db(const char *name)
{
    static char dsn[256];
    static char env[300];
    char admin[128], db[S_NAME_MAX + 4], stmt[256];
    ck_assert_msg(name && *name && strlen(name) <= S_NAME_MAX, "bx_h_db: bad name");
    for (const char *p = name; *p; p++)
        ck_assert_msg((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_',
                      "bx_h_db: name must be [a-z0-9_]: %s", name);
    snprintf(db, sizeof db, "bx_%s", name);
    snprintf(admin, sizeof admin,
             "host=127.0.0.1 port=%d dbname=postgres user=boxoffice connect_timeout=10",
             s_pg_port());
    PGconn *c = PQconnectdb(admin);
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
        PQfinish(c);
        ck_abort_msg("bx_h_db: could not connect to the test postgresql: %s", msg);
    }
    PQsetNoticeProcessor(c, s_quiet, NULL);
    /* The name is checked above; PQescapeIdentifier quotes it as an identifier anyway. */
    char *ident = PQescapeIdentifier(c, db, strlen(db));
    ck_assert_ptr_nonnull(ident);
    snprintf(stmt, sizeof stmt, "DROP DATABASE IF EXISTS %s WITH (FORCE)", ident);
    s_exec_or_abort(c, stmt);
    snprintf(stmt, sizeof stmt, "CREATE DATABASE %s", ident);
    s_exec_or_abort(c, stmt);
    PQfreemem(ident);
    PQfinish(c);

    snprintf(dsn, sizeof dsn, "host=127.0.0.1 port=%d dbname=%s user=boxoffice", s_pg_port(), db);
    snprintf(env, sizeof env, "BOXOFFICE_PG_DSN=%s", dsn);
    const char *argv[] = {bx_h_bin("bxctl"), "migrate", NULL};
    int rc = s_run_env(argv, env);
    ck_assert_msg(rc == 0, "bx_h_db: bxctl migrate on %s exited %d", db, rc);
    return dsn;
}

const char *bx_h_bin(const char *name)
{
    static char path[4096];
    const char *dir = getenv("BX_BIN_DIR");
    ck_assert_msg(dir && *dir, "bx_h_bin: BX_BIN_DIR is not set (run the suite through ctest)");
    ck_assert_msg(snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path,
                  "bx_h_bin: path too long");
    return path;
}

/* In the child: redirect, set the environment and exec; on failure report errno
 * through the close-on-exec pipe fd. Never returns. */
static void s_child(const char *exe, const char *const *argv, const char *const *env,
                    const char *log_path, int errfd)
{
    int fd =
        open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int err = 0;
    /* A server a test forgot to stop dies with the test process. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (fd < 0 || in < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || dup2(in, 0) < 0)
        err = errno;
    for (size_t i = 0; !err && env && env[i]; i++)
        if (putenv((char *)env[i]))
            err = errno;
    if (!err) {
        /* argv[0] may be NULL (exe stands in for it); the arguments are argv[1..] up to
         * the NULL terminator, so {NULL, NULL} is the shortest such list. */
        size_t n = 0;
        while (argv && argv[n + 1])
            n++;
        const char **av = calloc(n + 2, sizeof *av);
        if (!av)
            _exit(127);
        av[0] = argv && argv[0] ? argv[0] : exe;
        for (size_t i = 0; i < n; i++)
            av[i + 1] = argv[i + 1];
        execv(exe, (char *const *)av);
        err = errno;
    }
    ssize_t w = write(errfd, &err, sizeof err);
    (void)w;
    _exit(127);
}

pid_t bx_h_spawn(const char *exe, const char *const *argv, const char *const *env,
                 const char *log_path)
{
    int pfd[2];
    ck_assert_msg(pipe2(pfd, O_CLOEXEC) == 0, "bx_h_spawn: pipe: %s", strerror(errno));
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "bx_h_spawn: fork: %s", strerror(errno));
    if (pid == 0) {
        close(pfd[0]);
        s_child(exe, argv, env, log_path, pfd[1]);
    }
    close(pfd[1]);
    int err = 0;
    ssize_t n;
    while ((n = read(pfd[0], &err, sizeof err)) < 0 && errno == EINTR)
        ;
    close(pfd[0]);
    if (n > 0) {
        waitpid(pid, NULL, 0);
        ck_abort_msg("bx_h_spawn: could not start %s: %s", exe, strerror(err));
    }
    return pid;
}

int bx_h_wait_port(int port, int timeout_ms)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int waited = 0;; waited += 50) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
            close(fd);
            if (ok)
                return 0;
        }
        if (waited >= timeout_ms)
            return -1;
        s_sleep_ms(50);
    }
}

int bx_h_stop(pid_t pid, int sig, int timeout_ms)
{
    int status;
    if (pid <= 0 || kill(pid, sig) < 0)
        return -1;
    if (sig != SIGTERM && sig != SIGKILL)
        return 0;
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        s_sleep_ms(20);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return status;
}

int bx_h_sh(const char *cmd)
{
    int status = system(cmd);
    if (status < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char *bx_h_sql(const char *dsn, const char *sql)
{
    PGconn *c = PQconnectdb(dsn);
    char *out = NULL;
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bx_h_sql: could not connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, s_quiet, NULL);
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK && PQntuples(res) > 0 && PQnfields(res) > 0 &&
        !PQgetisnull(res, 0, 0))
        out = strdup(PQgetvalue(res, 0, 0));
    else if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        fprintf(stderr, "bx_h_sql: %s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(c);
    return out;
}
