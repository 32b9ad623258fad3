/* it_pipeline: the pipeline as real processes (bx-broker, two bx-worker-echo, the
 * scheduler) on a fresh database: a SUBMIT is ACKed then REPLYed and recorded; a worker
 * SIGKILLed mid-job still leaves the request completed exactly once; a broker SIGKILLed
 * and restarted with requests queued and in flight still gets every acknowledged request
 * to a terminal state; replayed SUBMITs never double an effect; outbox follow-ups are
 * relayed once; SIGTERM drains every process with exit 0. Ports 25630-25649. */
#include <czmq.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bx_harness.h"
#include "bx_suite.h"
#include "bx_util.h"
#include "bx_wire.h"

#define S_ENV_MAX 10

static char s_envbuf[S_ENV_MAX][320];
static const char *s_envp[S_ENV_MAX + 1];
static char s_log[512];
static char s_ep[64];
static char s_dsn[256];
static PGconn *s_pg;

/* A fresh database bx_broker_<name> and the environment of every process. */
static void s_setup(const char *name, int port)
{
    const char *tmp = getenv("BX_TMP_DIR") ? getenv("BX_TMP_DIR") : "/tmp";
    char db[64];
    snprintf(db, sizeof db, "broker_%s", name);
    bx_strlcpy(s_dsn, bx_h_db(db), sizeof s_dsn);
    snprintf(s_ep, sizeof s_ep, "tcp://127.0.0.1:%d", port);
    snprintf(s_log, sizeof s_log, "%s/it_pipeline_%s.log", tmp, name);
    unlink(s_log); /* this run's processes only */
    const char *vars[] = {"BOXOFFICE_PG_DSN=%s",
                          "BOXOFFICE_BROKER_ENDPOINT=%s",
                          "BOXOFFICE_REQUEST_LEASE_S=2",
                          "BOXOFFICE_HEARTBEAT_MS=400",
                          "BOXOFFICE_SCHEDULER_TICK_MS=200",
                          "BOXOFFICE_WORKER_CREDIT=2",
                          "BOXOFFICE_LOG_LEVEL=info",
                          NULL};
    int n = 0;
    for (; vars[n]; n++)
        snprintf(s_envbuf[n], sizeof s_envbuf[n], vars[n], n == 0 ? s_dsn : s_ep);
    for (int i = 0; i < n; i++)
        s_envp[i] = s_envbuf[i];
    s_envp[n] = NULL;
    s_pg = PQconnectdb(s_dsn);
    ck_assert_int_eq(PQstatus(s_pg), CONNECTION_OK);
}

static pid_t s_spawn(const char *bin)
{
    return bx_h_spawn(bx_h_bin(bin), NULL, s_envp, s_log);
}

/* s_spawn with BOXOFFICE_METRICS_PORT=port added. */
static pid_t s_spawn_metrics(const char *bin, int port)
{
    const char *env[S_ENV_MAX + 2];
    char var[64];
    int n = 0;
    for (; s_envp[n]; n++)
        env[n] = s_envp[n];
    snprintf(var, sizeof var, "BOXOFFICE_METRICS_PORT=%d", port);
    env[n++] = var;
    env[n] = NULL;
    return bx_h_spawn(bx_h_bin(bin), NULL, env, s_log);
}

/* Waits up to 3 s for GET /metrics on port to contain line (a fixed string). */
static void s_wait_metric(int port, const char *line)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "curl -sf --max-time 2 http://127.0.0.1:%d/metrics | grep -qF '%s'",
             port, line);
    for (int i = 0; i < 30; i++) {
        if (bx_h_sh(cmd) == 0)
            return;
        zclock_sleep(100);
    }
    ck_abort_msg("metrics on port %d never showed %s", port, line);
}

static pid_t s_start_broker(int port)
{
    pid_t pid = s_spawn("bx-broker");
    ck_assert_int_eq(bx_h_wait_port(port, 5000), 0);
    return pid;
}

/* Runs sql with one text parameter; returns the first value (caller frees) or NULL. */
static char *s_sql(const char *sql, const char *param)
{
    const char *params[] = {param};
    PGresult *res = PQexecParams(s_pg, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    ck_assert_msg(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK, "%s: %s", sql,
                  PQresultErrorMessage(res));
    char *v = st == PGRES_TUPLES_OK && PQntuples(res) && !PQgetisnull(res, 0, 0)
                  ? strdup(PQgetvalue(res, 0, 0))
                  : NULL;
    PQclear(res);
    return v;
}

static long s_num(const char *sql, const char *param)
{
    char *v = s_sql(sql, param);
    long n = v ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

/* Records a durable request as the frontdoor does, before anyone hears of it. */
static void s_insert(char id[BX_UUID_LEN + 1], const char *payload)
{
    bx_uuid_v7(id);
    const char *params[] = {id, payload};
    PGresult *res = PQexecParams(s_pg,
                                 "INSERT INTO requests (id, service, payload, lease_until) "
                                 "VALUES ($1, 'echo', $2::jsonb, now() + interval '2 seconds')",
                                 2, NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
}

static zsock_t *s_client(const char *identity)
{
    zsock_t *c = zsock_new(ZMQ_DEALER);
    zsock_set_identity(c, identity);
    zsock_set_linger(c, 0);
    ck_assert_int_eq(zsock_connect(c, "%s", s_ep), 0);
    return c;
}

static void s_submit(zsock_t *c, const char *service, const char *id, const char *payload)
{
    bx_wire_msg_t m = {.cmd = BX_WIRE_CMD_SUBMIT, .body = zframe_new(payload, strlen(payload))};
    bx_strlcpy(m.service, service, sizeof m.service);
    bx_strlcpy(m.request_id, id, sizeof m.request_id);
    ck_assert_int_eq(bx_wire_send(c, &m), BX_OK);
    bx_wire_msg_reset(&m);
}

/* Next message for id (others are skipped) within timeout_ms; NONE on timeout. */
static bx_wire_cmd_t s_next(zsock_t *c, const char *id, int timeout_ms, bx_wire_msg_t *out)
{
    int64_t end = bx_mono_ms() + timeout_ms;
    for (int64_t left; (left = end - bx_mono_ms()) > 0;) {
        zsock_set_rcvtimeo(c, (int)left);
        zmsg_t *msg = zmsg_recv(c);
        if (!msg)
            break;
        ck_assert_int_eq(bx_wire_decode(&msg, 0, out, NULL, 0), BX_OK);
        if (!strcmp(out->request_id, id))
            return out->cmd;
    }
    bx_wire_msg_reset(out);
    return BX_WIRE_CMD_NONE;
}

/* Whether the body of m contains text (frames are not NUL-terminated). */
static int s_body_has(const bx_wire_msg_t *m, const char *text)
{
    char *body = m->body ? zframe_strdup(m->body) : NULL;
    int has = body && strstr(body, text) != NULL;
    free(body);
    return has;
}

/* Waits until the broker reports n live workers of service (mmi.service). */
static void s_wait_workers(zsock_t *c, const char *service, int n)
{
    char want[64];
    snprintf(want, sizeof want, "\"workers\":%d,", n);
    for (int i = 0; i < 100; i++) {
        char id[32];
        bx_wire_msg_t m = {0};
        snprintf(id, sizeof id, "mmi-%d", i);
        s_submit(c, BX_SVC_MMI, id, service);
        int ok = s_next(c, id, 500, &m) == BX_WIRE_CMD_CREPLY && s_body_has(&m, want);
        bx_wire_msg_reset(&m);
        if (ok)
            return;
        zclock_sleep(100);
    }
    ck_abort_msg("%s never had %d workers", service, n);
}

static void s_wait_status(const char *id, const char *status, int timeout_ms)
{
    char *v = NULL;
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        free(v);
        v = s_sql("SELECT status FROM requests WHERE id = $1", id);
        if (v && !strcmp(v, status))
            break;
        zclock_sleep(100);
    }
    ck_assert_msg(v && !strcmp(v, status), "request %s is %s, want %s", id, v ? v : "missing",
                  status);
    free(v);
}

static long s_effects(const char *id)
{
    return s_num("SELECT count(*) FROM echo_effects WHERE request_id = $1", id);
}

static void s_stop_clean(pid_t pid, const char *what)
{
    int st = bx_h_stop(pid, SIGTERM, 15000);
    ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "%s did not drain cleanly (status %d)", what, st);
}

static void s_teardown(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            bx_h_stop(pids[i], SIGKILL, 2000);
    PQfinish(s_pg);
    s_pg = NULL;
}

START_TEST(submit_is_acked_replied_and_recorded_once)
{
    s_setup("flow", 25630);
    pid_t p[4] = {s_spawn_metrics("bx-broker", 25640), s_spawn_metrics("bx-worker-echo", 25641),
                  s_spawn("bx-worker-echo"), s_spawn_metrics("bx-worker-scheduler", 25642)};
    ck_assert_int_eq(bx_h_wait_port(25630, 5000), 0);
    zsock_t *c = s_client("it-flow");
    bx_wire_msg_t m = {0}, again = {0};
    char ok[37], bad[37];
    s_wait_workers(c, "echo", 2);
    s_insert(ok, "{\"hello\":\"world\"}");
    s_submit(c, "echo", ok, "{}");
    ck_assert_int_eq(s_next(c, ok, 2000, &m), BX_WIRE_CMD_ACK);
    ck_assert_int_eq(s_next(c, ok, 5000, &m), BX_WIRE_CMD_CREPLY);
    ck_assert_str_eq(m.status, BX_WIRE_SUCCEEDED);
    ck_assert(s_body_has(&m, "\"hello\": \"world\""));
    ck_assert_int_eq(s_num("SELECT http_status FROM requests WHERE id = $1", ok), 201);
    ck_assert_int_eq(s_num("SELECT attempts FROM requests WHERE id = $1", ok), 1);
    ck_assert_int_eq(s_effects(ok), 1);
    /* a replayed SUBMIT of a finished request: the stored result, no second effect */
    s_submit(c, "echo", ok, "{}");
    ck_assert_int_eq(s_next(c, ok, 2000, &again), BX_WIRE_CMD_ACK);
    ck_assert_int_eq(s_next(c, ok, 5000, &again), BX_WIRE_CMD_CREPLY);
    ck_assert(zframe_eq(again.body, m.body));
    ck_assert_int_eq(s_effects(ok), 1);
    ck_assert_int_eq(s_num("SELECT attempts FROM requests WHERE id = $1", ok), 1);
    /* a failing handler: problem document, status 422, nothing written */
    s_insert(bad, "{\"fail\":true}");
    s_submit(c, "echo", bad, "{}");
    ck_assert_int_eq(s_next(c, bad, 2000, &m), BX_WIRE_CMD_ACK);
    ck_assert_int_eq(s_next(c, bad, 5000, &m), BX_WIRE_CMD_CREPLY);
    ck_assert_str_eq(m.status, BX_WIRE_FAILED);
    ck_assert(s_body_has(&m, "\"status\": 422"));
    ck_assert_int_eq(s_num("SELECT http_status FROM requests WHERE id = $1", bad), 422);
    ck_assert_int_eq(s_effects(bad), 0);
    /* every process serves its metrics */
    s_wait_metric(25640, "bx_broker_workers{service=\"echo\"} 2");
    s_wait_metric(25640, "bx_broker_replied_total{service=\"echo\"} 3");
    s_wait_metric(25640, "bx_broker_dispatch_latency_seconds_count{service=\"echo\"} 3");
    s_wait_metric(25641, "bx_worker_busy_executors{service=\"echo\"} 0");
    s_wait_metric(25642, "bx_scheduler_tick_duration_seconds_count");
    bx_wire_msg_reset(&m), bx_wire_msg_reset(&again);
    zsock_destroy(&c);
    s_teardown(p, 4);
}
END_TEST

START_TEST(outbox_follow_up_and_lost_submit_are_relayed_once)
{
    s_setup("relay", 25631);
    pid_t p[4] = {s_start_broker(25631), s_spawn("bx-worker-echo"), s_spawn("bx-worker-echo"),
                  s_spawn("bx-worker-scheduler")};
    zsock_t *c = s_client("it-relay");
    bx_wire_msg_t m = {0};
    char parent[37], orphan[37];
    s_wait_workers(c, "echo", 2);
    s_insert(parent, "{\"then\":{\"step\":2}}");
    s_submit(c, "echo", parent, "{}");
    ck_assert_int_eq(s_next(c, parent, 5000, &m), BX_WIRE_CMD_ACK);
    ck_assert_int_eq(s_next(c, parent, 5000, &m), BX_WIRE_CMD_CREPLY);
    char *child = s_sql("SELECT request_id FROM outbox WHERE parent_id = $1", parent);
    ck_assert_ptr_nonnull(child);
    ck_assert(s_body_has(&m, child)); /* the result names the follow-up */
    s_wait_status(child, "succeeded", 8000);
    ck_assert_int_eq(s_effects(child), 1);
    ck_assert_int_eq(s_num("SELECT count(*) FROM requests WHERE parent_id = $1", parent), 1);
    ck_assert_int_eq(s_num("SELECT count(*) FROM outbox WHERE relayed_at IS NULL "
                           "AND parent_id = $1",
                           parent),
                     0);
    free(child);
    /* recorded but never submitted (a frontdoor that died): the lease brings it */
    s_insert(orphan, "{\"orphan\":true}");
    s_wait_status(orphan, "succeeded", 8000);
    ck_assert_int_eq(s_effects(orphan), 1);
    bx_wire_msg_reset(&m);
    zsock_destroy(&c);
    s_teardown(p, 4);
}
END_TEST

START_TEST(sigkill_mid_job_still_completes_exactly_once)
{
    s_setup("kill", 25632);
    pid_t p[4] = {s_start_broker(25632), s_spawn("bx-worker-echo"), 0,
                  s_spawn("bx-worker-scheduler")};
    zsock_t *c = s_client("it-kill");
    bx_wire_msg_t m = {0};
    char id[37];
    s_wait_workers(c, "echo", 1);
    s_insert(id, "{\"sleep_ms\":2500}");
    s_submit(c, "echo", id, "{}");
    ck_assert_int_eq(s_next(c, id, 2000, &m), BX_WIRE_CMD_ACK);
    s_wait_status(id, "running", 3000);
    zclock_sleep(300); /* inside the handler's transaction, effect row written */
    p[2] = s_spawn("bx-worker-echo");
    s_wait_workers(c, "echo", 2);
    bx_h_stop(p[1], SIGKILL, 2000);
    p[1] = 0;
    /* the broker notices the silence, requeues, the other worker redoes the job */
    ck_assert_int_eq(s_next(c, id, 15000, &m), BX_WIRE_CMD_CREPLY);
    ck_assert_str_eq(m.status, BX_WIRE_SUCCEEDED);
    s_wait_status(id, "succeeded", 1000);
    ck_assert_int_eq(s_effects(id), 1);
    ck_assert_int_ge(s_num("SELECT attempts FROM requests WHERE id = $1", id), 2);
    bx_wire_msg_reset(&m);
    zsock_destroy(&c);
    s_teardown(p, 4);
}
END_TEST

START_TEST(broker_restart_loses_no_acknowledged_request)
{
    enum { N = 12 };
    s_setup("restart", 25633);
    pid_t p[4] = {s_start_broker(25633), s_spawn("bx-worker-echo"), s_spawn("bx-worker-echo"),
                  s_spawn("bx-worker-scheduler")};
    zsock_t *c = s_client("it-restart");
    bx_wire_msg_t m = {0};
    char ids[N][37];
    s_wait_workers(c, "echo", 2);
    for (int i = 0; i < N; i++) {
        s_insert(ids[i], "{\"sleep_ms\":400}");
        s_submit(c, "echo", ids[i], "{}");
        ck_assert_int_eq(s_next(c, ids[i], 2000, &m), BX_WIRE_CMD_ACK);
    }
    /* 4 in flight (2 workers x credit 2), 8 queued in the broker's memory only */
    bx_h_stop(p[0], SIGKILL, 2000);
    zclock_sleep(200);
    p[0] = s_start_broker(25633);
    for (int i = 0; i < N; i++)
        s_wait_status(ids[i], "succeeded", 20000);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(s_effects(ids[i]), 1);
    s_wait_workers(c, "echo", 2); /* the workers registered again */
    bx_wire_msg_reset(&m);
    zsock_destroy(&c);
    s_teardown(p, 4);
}
END_TEST

START_TEST(duplicate_submits_in_flight_do_not_double_the_effect)
{
    s_setup("dup", 25634);
    pid_t p[4] = {s_start_broker(25634), s_spawn("bx-worker-echo"), s_spawn("bx-worker-echo"),
                  s_spawn("bx-worker-scheduler")};
    zsock_t *c = s_client("it-dup"), *c2 = s_client("it-dup-2");
    bx_wire_msg_t m = {0};
    char id[37];
    s_wait_workers(c, "echo", 2);
    s_insert(id, "{\"sleep_ms\":800}");
    for (int i = 0; i < 3; i++) {
        s_submit(i ? c2 : c, "echo", id, "{}");
        ck_assert_int_eq(s_next(i ? c2 : c, id, 2000, &m), BX_WIRE_CMD_ACK);
    }
    ck_assert_int_eq(s_next(c, id, 5000, &m), BX_WIRE_CMD_CREPLY);
    zclock_sleep(500);
    ck_assert_int_eq(s_effects(id), 1);
    ck_assert_int_eq(s_num("SELECT attempts FROM requests WHERE id = $1", id), 1);
    bx_wire_msg_reset(&m);
    zsock_destroy(&c), zsock_destroy(&c2);
    s_teardown(p, 4);
}
END_TEST

START_TEST(sigterm_drains_every_process)
{
    s_setup("drain", 25635);
    pid_t p[4] = {s_start_broker(25635), s_spawn("bx-worker-echo"), s_spawn("bx-worker-echo"),
                  s_spawn("bx-worker-scheduler")};
    zsock_t *c = s_client("it-drain");
    bx_wire_msg_t m = {0};
    char id[37];
    s_wait_workers(c, "echo", 2);
    s_insert(id, "{\"sleep_ms\":1500}");
    s_submit(c, "echo", id, "{}");
    ck_assert_int_eq(s_next(c, id, 2000, &m), BX_WIRE_CMD_ACK);
    s_wait_status(id, "running", 3000);
    kill(p[1], SIGTERM); /* both at once: the busy one finishes its job first */
    kill(p[2], SIGTERM);
    s_stop_clean(p[1], "echo worker 1");
    s_stop_clean(p[2], "echo worker 2");
    p[1] = p[2] = 0;
    ck_assert_int_eq(s_next(c, id, 2000, &m), BX_WIRE_CMD_CREPLY);
    s_wait_status(id, "succeeded", 1000);
    ck_assert_int_eq(s_effects(id), 1);
    ck_assert_int_eq(s_num("SELECT attempts FROM requests WHERE id = $1", id), 1);
    s_stop_clean(p[3], "scheduler");
    s_stop_clean(p[0], "broker");
    p[3] = p[0] = 0;
    bx_wire_msg_reset(&m);
    zsock_destroy(&c);
    s_teardown(p, 4);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = tcase_create("pipeline");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, submit_is_acked_replied_and_recorded_once);
    tcase_add_test(tc, outbox_follow_up_and_lost_submit_are_relayed_once);
    tcase_add_test(tc, sigkill_mid_job_still_completes_exactly_once);
    tcase_add_test(tc, broker_restart_loses_no_acknowledged_request);
    tcase_add_test(tc, duplicate_submits_in_flight_do_not_double_the_effect);
    tcase_add_test(tc, sigterm_drains_every_process);
    suite_add_tcase(s, tc);
    return s;
}
