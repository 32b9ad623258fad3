/* it_worker: the worker runtime in-process against a real PostgreSQL, with the test
 * playing the broker on a ROUTER socket: a serialization failure reruns the transaction;
 * a failing handler's effects and outbox rows roll back while the request fails with its
 * problem; bx_worker_job_fail keeps effects; outbox rows commit with the job; a lost
 * database connection hands the job back with RELEASE; unknown, finished and misrouted
 * requests are answered without running; SIGTERM-style stop drains; a silent broker is
 * left and rejoined with a doubling backoff. Ports 25650-25659. */
#include <czmq.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_harness.h"
#include "bx_suite.h"
#include "bx_util.h"
#include "bx_wire.h"
#include "bx_worker.h"

#define S_EP "tcp://127.0.0.1:25650"

static char s_dsn[256];
static PGconn *s_pg;
static zsock_t *s_router;
static zframe_t *s_peer;   /* the worker's routing id */
static atomic_int s_calls; /* handler runs */
static pthread_t s_thread;
static volatile sig_atomic_t s_stop;
static int s_run_rc = -2;

/* ---- the handler under test: behaviour chosen by the payload's "mode" ---- */

static bx_err_t s_insert_effect(bx_worker_job_t *job)
{
    const char *params[] = {bx_worker_job_id(job)};
    PGresult *res = PQexecParams(bx_pg_conn(bx_worker_job_pg(job)),
                                 "INSERT INTO wtest_effects (request_id) VALUES ($1)", 1, NULL,
                                 params, NULL, NULL, 0);
    bx_err_t rc = PQresultStatus(res) == PGRES_COMMAND_OK ? BX_OK : BX_EINTERNAL;
    PQclear(res);
    return rc;
}

static bx_err_t s_handler(bx_worker_job_t *job)
{
    const char *mode = json_string_value(json_object_get(bx_worker_job_payload(job), "mode"));
    int call = atomic_fetch_add(&s_calls, 1) + 1;
    mode = mode ? mode : "ok";
    if (!strcmp(mode, "retry") && call <= 2)
        return BX_ERETRY;
    if (!strcmp(mode, "lose-db") && bx_worker_job_attempt(job) == 1) {
        PQclear(PQexec(bx_pg_conn(bx_worker_job_pg(job)),
                       "SELECT pg_terminate_backend(pg_backend_pid())"));
        return BX_EUNAVAILABLE;
    }
    if (!strcmp(mode, "sleep"))
        zclock_sleep(600);
    bx_err_t rc = s_insert_effect(job);
    if (rc == BX_OK && !strcmp(mode, "rollback"))
        rc = bx_worker_outbox(job, "echo", "t.x", NULL, json_pack("{s:i}", "n", 1));
    if (rc == BX_OK && !strcmp(mode, "rollback"))
        return bx_worker_job_problem(job, BX_ECONFLICT, "seat already held");
    if (!strcmp(mode, "fail-keep")) {
        bx_worker_job_fail(job, 402, NULL, NULL, "payment declined");
        return BX_OK;
    }
    char follow[37] = "";
    if (rc == BX_OK && !strcmp(mode, "outbox"))
        rc = bx_worker_outbox_id(job, "echo", "t.next", "event-1", json_pack("{s:i}", "n", 2),
                                 follow);
    if (rc != BX_OK)
        return rc;
    bx_worker_job_succeed(job, 201, json_pack("{s:s, s:i}", "follow", follow, "call", call));
    return BX_OK;
}

/* ---- the worker on its own thread ---- */

static void *s_worker_main(void *arg)
{
    (void)arg;
    bx_worker_opts_t o = {.service = "wtest",
                          .handler = s_handler,
                          .endpoint = S_EP,
                          .pg_dsn = s_dsn,
                          .credit = 2,
                          .heartbeat_ms = 200,
                          .liveness = 3,
                          .lease_s = 2,
                          .metrics_port = -1};
    bx_worker_t *w = bx_worker_new(&o);
    ck_assert_ptr_nonnull(w);
    s_run_rc = bx_worker_run(w, &s_stop);
    bx_worker_destroy(&w);
    return NULL;
}

/* Next message from the worker that is not a HEARTBEAT; we heartbeat it meanwhile unless
 * silent. NONE on timeout. */
static bx_wire_cmd_t s_next(int timeout_ms, int silent, bx_wire_msg_t *out)
{
    int64_t end = bx_mono_ms() + timeout_ms;
    while (bx_mono_ms() < end) {
        if (!silent && s_peer) {
            bx_wire_msg_t hb = {.cmd = BX_WIRE_CMD_HEARTBEAT, .peer = s_peer};
            (void)bx_wire_send(s_router, &hb);
        }
        zsock_set_rcvtimeo(s_router, 100);
        zmsg_t *msg = zmsg_recv(s_router);
        if (!msg)
            continue;
        ck_assert_int_eq(bx_wire_decode(&msg, 1, out, NULL, 0), BX_OK);
        if (out->cmd != BX_WIRE_CMD_HEARTBEAT)
            return out->cmd;
        bx_wire_msg_reset(out);
    }
    return BX_WIRE_CMD_NONE;
}

/* Waits for READY and keeps the worker's routing id. */
static void s_expect_ready(long credit)
{
    bx_wire_msg_t m = {0};
    ck_assert_int_eq(s_next(3000, 0, &m), BX_WIRE_CMD_READY);
    ck_assert_str_eq(m.service, "wtest");
    ck_assert_int_eq(m.credit, credit);
    zframe_destroy(&s_peer);
    s_peer = zframe_dup(m.peer);
    bx_wire_msg_reset(&m);
}

static void s_setup(void)
{
    bx_strlcpy(s_dsn, bx_h_db("broker_worker"), sizeof s_dsn);
    s_pg = PQconnectdb(s_dsn);
    ck_assert_int_eq(PQstatus(s_pg), CONNECTION_OK);
    PQclear(PQexec(
        s_pg,
        "CREATE TABLE wtest_effects (request_id uuid, created_at timestamptz DEFAULT now())"));
    ck_assert_int_eq(bx_config_load(), BX_OK);
    s_router = zsock_new(ZMQ_ROUTER);
    zsock_set_router_mandatory(s_router, 1);
    ck_assert_int_ne(zsock_bind(s_router, S_EP), -1);
    atomic_store(&s_calls, 0);
    ck_assert_int_eq(pthread_create(&s_thread, NULL, s_worker_main, NULL), 0);
    s_expect_ready(2);
}

static void s_teardown(void)
{
    s_stop = 1;
    bx_wire_msg_t m = {0};
    if (s_next(3000, 0, &m) == BX_WIRE_CMD_DRAIN) {
        bx_wire_msg_t bye = {.cmd = BX_WIRE_CMD_DISCONNECT, .peer = s_peer};
        (void)bx_wire_send(s_router, &bye);
    }
    bx_wire_msg_reset(&m);
    pthread_join(s_thread, NULL);
    zframe_destroy(&s_peer);
    zsock_destroy(&s_router);
    PQfinish(s_pg);
}

static void s_insert(char id[37], const char *service, const char *payload)
{
    bx_uuid_v7(id);
    const char *params[] = {id, service, payload};
    PGresult *res =
        PQexecParams(s_pg, "INSERT INTO requests (id, service, payload) VALUES ($1, $2, $3::jsonb)",
                     3, NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
}

static void s_request(const char *id)
{
    bx_wire_msg_t m = {.cmd = BX_WIRE_CMD_REQUEST,
                       .peer = s_peer,
                       .client = zframe_new("client-1", 8),
                       .body = zframe_new("{}", 2)};
    bx_strlcpy(m.request_id, id, sizeof m.request_id);
    ck_assert_int_eq(bx_wire_send(s_router, &m), BX_OK);
    m.peer = NULL;
    bx_wire_msg_reset(&m);
}

/* Sends REQUEST id and returns the worker's answer (REPLY or RELEASE) in out. */
static bx_wire_cmd_t s_run(const char *id, bx_wire_msg_t *out)
{
    s_request(id);
    bx_wire_cmd_t cmd = s_next(5000, 0, out);
    ck_assert_msg(cmd == BX_WIRE_CMD_WREPLY || cmd == BX_WIRE_CMD_RELEASE, "got %s",
                  bx_wire_cmd_name(cmd));
    ck_assert_str_eq(out->request_id, id);
    return cmd;
}

static long s_num(const char *sql, const char *id)
{
    const char *params[] = {id};
    PGresult *res = PQexecParams(s_pg, sql, 1, NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    long v =
        PQntuples(res) && !PQgetisnull(res, 0, 0) ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    return v;
}

static int s_body_has(const bx_wire_msg_t *m, const char *text)
{
    char *body = m->body ? zframe_strdup(m->body) : NULL;
    int has = body && strstr(body, text);
    free(body);
    return has;
}

#define S_EFFECTS "SELECT count(*) FROM wtest_effects WHERE request_id = $1"
#define S_HTTP    "SELECT http_status FROM requests WHERE id = $1"

START_TEST(serialization_failure_reruns_the_transaction)
{
    s_setup();
    bx_wire_msg_t m = {0};
    char id[37];
    s_insert(id, "wtest", "{\"mode\":\"retry\"}");
    ck_assert_int_eq(s_run(id, &m), BX_WIRE_CMD_WREPLY);
    ck_assert_str_eq(m.status, BX_WIRE_SUCCEEDED);
    ck_assert(zframe_streq(m.client, "client-1"));
    ck_assert_int_eq(atomic_load(&s_calls), 3);
    ck_assert_int_eq(s_num(S_EFFECTS, id), 1);
    ck_assert_int_eq(s_num("SELECT attempts FROM requests WHERE id = $1", id), 1);
    bx_wire_msg_reset(&m);
    s_teardown();
}
END_TEST

START_TEST(failing_handler_rolls_back_effects_and_outbox)
{
    s_setup();
    bx_wire_msg_t m = {0};
    char id[37];
    s_insert(id, "wtest", "{\"mode\":\"rollback\"}");
    ck_assert_int_eq(s_run(id, &m), BX_WIRE_CMD_WREPLY);
    ck_assert_str_eq(m.status, BX_WIRE_FAILED);
    ck_assert(s_body_has(&m, "\"status\": 409"));
    ck_assert(s_body_has(&m, "seat already held"));
    ck_assert(s_body_has(&m, "\"type\": \"https://"));
    ck_assert_int_eq(s_num(S_HTTP, id), 409);
    ck_assert_int_eq(s_num(S_EFFECTS, id), 0);
    ck_assert_int_eq(s_num("SELECT count(*) FROM outbox WHERE parent_id = $1", id), 0);
    bx_wire_msg_reset(&m);
    s_teardown();
}
END_TEST

START_TEST(job_fail_keeps_effects)
{
    s_setup();
    bx_wire_msg_t m = {0};
    char id[37];
    s_insert(id, "wtest", "{\"mode\":\"fail-keep\"}");
    ck_assert_int_eq(s_run(id, &m), BX_WIRE_CMD_WREPLY);
    ck_assert_str_eq(m.status, BX_WIRE_FAILED);
    ck_assert(s_body_has(&m, "payment declined"));
    ck_assert_int_eq(s_num(S_HTTP, id), 402);
    ck_assert_int_eq(s_num(S_EFFECTS, id), 1);
    bx_wire_msg_reset(&m);
    s_teardown();
}
END_TEST

START_TEST(outbox_rows_commit_with_the_job)
{
    s_setup();
    bx_wire_msg_t m = {0};
    char id[37];
    s_insert(id, "wtest", "{\"mode\":\"outbox\"}");
    ck_assert_int_eq(s_run(id, &m), BX_WIRE_CMD_WREPLY);
    ck_assert_str_eq(m.status, BX_WIRE_SUCCEEDED);
    ck_assert_int_eq(s_num(S_HTTP, id), 201);
    ck_assert_int_eq(s_num("SELECT count(*) FROM outbox WHERE parent_id = $1 AND service = 'echo' "
                           "AND topic = 't.next' AND route_key = 'event-1' AND relayed_at IS NULL",
                           id),
                     1);
    /* the follow-up's id is chosen in the transaction and named in the result */
    ck_assert_int_eq(s_num("SELECT count(*) FROM outbox o JOIN requests r ON r.id = o.parent_id "
                           "WHERE o.parent_id = $1 AND r.result->>'follow' = o.request_id::text",
                           id),
                     1);
    bx_wire_msg_reset(&m);
    s_teardown();
}
END_TEST

START_TEST(lost_database_connection_hands_the_job_back)
{
    s_setup();
    bx_wire_msg_t m = {0};
    char id[37];
    s_insert(id, "wtest", "{\"mode\":\"lose-db\"}");
    ck_assert_int_eq(s_run(id, &m), BX_WIRE_CMD_RELEASE); /* no result: the lease covers it */
    ck_assert_int_eq(s_num(S_EFFECTS, id), 0);
    ck_assert_int_eq(
        s_num("SELECT count(*) FROM requests WHERE id = $1 AND status = 'running'", id), 1);
    /* delivered again: the executor reconnected and the job completes */
    ck_assert_int_eq(s_run(id, &m), BX_WIRE_CMD_WREPLY);
    ck_assert_str_eq(m.status, BX_WIRE_SUCCEEDED);
    ck_assert_int_eq(s_num(S_EFFECTS, id), 1);
    ck_assert_int_eq(s_num("SELECT attempts FROM requests WHERE id = $1", id), 2);
    bx_wire_msg_reset(&m);
    s_teardown();
}
END_TEST

START_TEST(unknown_finished_and_misrouted_requests_do_not_run)
{
    s_setup();
    bx_wire_msg_t m = {0}, first = {0};
    char id[37], other[37], unknown[37];
    bx_uuid_v7(unknown);
    ck_assert_int_eq(s_run(unknown, &m), BX_WIRE_CMD_WREPLY);
    ck_assert_str_eq(m.status, BX_WIRE_FAILED);
    ck_assert(s_body_has(&m, "404"));
    ck_assert_int_eq(s_run("not-a-uuid", &m), BX_WIRE_CMD_WREPLY);
    ck_assert_str_eq(m.status, BX_WIRE_FAILED);
    s_insert(id, "wtest", "{}");
    ck_assert_int_eq(s_run(id, &first), BX_WIRE_CMD_WREPLY);
    ck_assert_int_eq(s_run(id, &m), BX_WIRE_CMD_WREPLY); /* replayed: stored result */
    ck_assert(zframe_eq(m.body, first.body));
    ck_assert_int_eq(atomic_load(&s_calls), 1);
    ck_assert_int_eq(s_num(S_EFFECTS, id), 1);
    s_insert(other, "someone-else", "{}");
    ck_assert_int_eq(s_run(other, &m), BX_WIRE_CMD_RELEASE);
    ck_assert_int_eq(s_num("SELECT attempts FROM requests WHERE id = $1", other), 0);
    bx_wire_msg_reset(&m), bx_wire_msg_reset(&first);
    s_teardown();
}
END_TEST

START_TEST(stop_drains_in_flight_jobs)
{
    s_setup();
    bx_wire_msg_t m = {0};
    char id[37];
    s_insert(id, "wtest", "{\"mode\":\"sleep\"}");
    s_request(id);
    zclock_sleep(200); /* the handler is sleeping inside its transaction */
    s_stop = 1;
    ck_assert_int_eq(s_next(2000, 0, &m), BX_WIRE_CMD_DRAIN);
    ck_assert_int_eq(s_next(3000, 0, &m), BX_WIRE_CMD_WREPLY); /* finished, not abandoned */
    ck_assert_str_eq(m.status, BX_WIRE_SUCCEEDED);
    bx_wire_msg_t bye = {.cmd = BX_WIRE_CMD_DISCONNECT, .peer = s_peer};
    ck_assert_int_eq(bx_wire_send(s_router, &bye), BX_OK);
    pthread_join(s_thread, NULL);
    ck_assert_int_eq(s_run_rc, 0);
    ck_assert_int_eq(s_num(S_EFFECTS, id), 1);
    zframe_destroy(&s_peer);
    zsock_destroy(&s_router);
    PQfinish(s_pg);
    bx_wire_msg_reset(&m);
}
END_TEST

START_TEST(silent_broker_is_rejoined_with_backoff)
{
    s_setup();
    bx_wire_msg_t m = {0};
    zframe_t *first = zframe_dup(s_peer);
    int64_t t0 = bx_mono_ms();
    /* silent: the worker gives up after 3 x 200 ms, waits 1 s, registers anew */
    ck_assert_int_eq(s_next(4000, 1, &m), BX_WIRE_CMD_READY);
    int64_t gap1 = bx_mono_ms() - t0;
    ck_assert(!zframe_eq(m.peer, first)); /* a new socket */
    t0 = bx_mono_ms();
    ck_assert_int_eq(s_next(6000, 1, &m), BX_WIRE_CMD_READY); /* still silent: 2 s this time */
    int64_t gap2 = bx_mono_ms() - t0;
    ck_assert_int_ge(gap1, 1500); /* 600 ms of silence + 1 s */
    ck_assert_int_ge(gap2, 2500); /* 600 ms of silence + 2 s: the backoff doubled */
    zframe_destroy(&s_peer);
    s_peer = zframe_dup(m.peer);
    zframe_destroy(&first);
    bx_wire_msg_reset(&m);
    s_teardown();
}
END_TEST

START_TEST(a_broker_that_forgot_us_gets_a_new_ready)
{
    s_setup();
    bx_wire_msg_t m = {0};
    zclock_sleep(500); /* registered a while ago: re-registers at once */
    bx_wire_msg_t bye = {.cmd = BX_WIRE_CMD_DISCONNECT, .peer = s_peer};
    ck_assert_int_eq(bx_wire_send(s_router, &bye), BX_OK);
    int64_t t0 = bx_mono_ms();
    ck_assert_int_eq(s_next(1000, 0, &m), BX_WIRE_CMD_READY);
    ck_assert_int_lt(bx_mono_ms() - t0, 900); /* not after a 1 s backoff */
    zframe_destroy(&s_peer);
    s_peer = zframe_dup(m.peer);
    bx_wire_msg_reset(&m);
    s_teardown();
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("worker");
    TCase *tc = tcase_create("worker");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, serialization_failure_reruns_the_transaction);
    tcase_add_test(tc, failing_handler_rolls_back_effects_and_outbox);
    tcase_add_test(tc, job_fail_keeps_effects);
    tcase_add_test(tc, outbox_rows_commit_with_the_job);
    tcase_add_test(tc, lost_database_connection_hands_the_job_back);
    tcase_add_test(tc, unknown_finished_and_misrouted_requests_do_not_run);
    tcase_add_test(tc, stop_drains_in_flight_jobs);
    tcase_add_test(tc, silent_broker_is_rejoined_with_backoff);
    tcase_add_test(tc, a_broker_that_forgot_us_gets_a_new_ready);
    suite_add_tcase(s, tc);
    return s;
}
