/* test_broker: the broker driven as an in-process actor, with DEALER workers and clients
 * over tcp: credit-based dispatch, the bounded queue answered NAK, a silent worker's jobs
 * requeued at the front, route-key affinity (and waiting for the owner's credit),
 * duplicate SUBMIT dedupe, DRAIN, a clean STOP, re-registration after a broker restart,
 * mmi.service and the metrics text. Ports 25600-25629. */
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "bx_broker.h"
#include "bx_suite.h"
#include "bx_util.h"
#include "bx_wire.h"

#define S_SLOW_HB  1000 /* heartbeat of tests that do not test expiry: workers live 3 s */
#define S_QUIET_MS 250  /* how long "nothing arrives" is watched */

static char s_ep[64];

static zactor_t *s_broker(int port, int heartbeat_ms, long queue_max)
{
    snprintf(s_ep, sizeof s_ep, "tcp://127.0.0.1:%d", port);
    bx_broker_opts_t o = {.endpoint = s_ep,
                          .heartbeat_ms = heartbeat_ms,
                          .liveness = 3,
                          .queue_max = queue_max,
                          .drain_ms = 3000};
    zactor_t *b = zactor_new(bx_broker_actor, &o);
    ck_assert_ptr_nonnull(b);
    return b;
}

static zsock_t *s_dealer(const char *identity)
{
    zsock_t *s = zsock_new(ZMQ_DEALER);
    ck_assert_ptr_nonnull(s);
    if (identity)
        zsock_set_identity(s, identity);
    zsock_set_linger(s, 0);
    ck_assert_int_eq(zsock_connect(s, "%s", s_ep), 0);
    return s;
}

static void s_send(zsock_t *s, bx_wire_msg_t *m)
{
    ck_assert_int_eq(bx_wire_send(s, m), BX_OK);
    bx_wire_msg_reset(m);
}

static zsock_t *s_worker(const char *service, long credit)
{
    zsock_t *w = s_dealer(NULL);
    bx_wire_msg_t m = {.cmd = BX_WIRE_CMD_READY, .credit = credit};
    bx_strlcpy(m.service, service, sizeof m.service);
    s_send(w, &m);
    return w;
}

static void s_cmd(zsock_t *w, bx_wire_cmd_t cmd)
{
    bx_wire_msg_t m = {.cmd = cmd};
    s_send(w, &m);
}

static void s_submit(zsock_t *c, const char *service, const char *id, const char *key)
{
    bx_wire_msg_t m = {.cmd = BX_WIRE_CMD_SUBMIT, .body = zframe_new("{\"n\":1}", 7)};
    bx_strlcpy(m.service, service, sizeof m.service);
    bx_strlcpy(m.request_id, id, sizeof m.request_id);
    bx_strlcpy(m.route_key, key ? key : "", sizeof m.route_key);
    bx_strlcpy(m.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
               sizeof m.traceparent);
    s_send(c, &m);
}

/* Next message that is not a HEARTBEAT within timeout_ms; BX_WIRE_CMD_NONE on timeout. */
static bx_wire_cmd_t s_next(zsock_t *s, int timeout_ms, bx_wire_msg_t *out)
{
    int64_t end = bx_mono_ms() + timeout_ms;
    bx_wire_msg_reset(out);
    for (int64_t left; (left = end - bx_mono_ms()) > 0;) {
        zsock_set_rcvtimeo(s, (int)left);
        zmsg_t *msg = zmsg_recv(s);
        if (!msg)
            break;
        ck_assert_int_eq(bx_wire_decode(&msg, 0, out, NULL, 0), BX_OK);
        if (out->cmd != BX_WIRE_CMD_HEARTBEAT)
            return out->cmd;
        bx_wire_msg_reset(out);
    }
    return BX_WIRE_CMD_NONE;
}

/* Expects cmd (for request_id when not NULL) within 3 s. */
static void s_expect(zsock_t *s, bx_wire_cmd_t cmd, const char *id, bx_wire_msg_t *out)
{
    bx_wire_cmd_t got = s_next(s, 3000, out); /* generous: a loaded machine is slow */
    ck_assert_msg(got == cmd, "expected %s, got %s", bx_wire_cmd_name(cmd), bx_wire_cmd_name(got));
    if (id)
        ck_assert_str_eq(out->request_id, id);
}

static void s_expect_quiet(zsock_t *s)
{
    bx_wire_msg_t m = {0};
    bx_wire_cmd_t got = s_next(s, S_QUIET_MS, &m);
    ck_assert_msg(got == BX_WIRE_CMD_NONE, "unexpected %s %s", bx_wire_cmd_name(got), m.request_id);
    bx_wire_msg_reset(&m);
}

static void s_reply(zsock_t *w, const bx_wire_msg_t *req, const char *body)
{
    bx_wire_msg_t m = {.cmd = BX_WIRE_CMD_WREPLY,
                       .client = zframe_dup(req->client),
                       .body = zframe_new(body, strlen(body))};
    bx_strlcpy(m.request_id, req->request_id, sizeof m.request_id);
    bx_strlcpy(m.status, BX_WIRE_SUCCEEDED, sizeof m.status);
    s_send(w, &m);
}

/* Value of the metric line "<name>{service="<svc>"}", or -1 when absent. */
static long s_metric(zactor_t *b, const char *name, const char *svc)
{
    char key[160];
    long v = -1;
    zstr_send(b, "METRICS");
    char *text = zstr_recv(b);
    ck_assert_ptr_nonnull(text);
    snprintf(key, sizeof key, "\n%s{service=\"%s\"} ", name, svc);
    const char *at = strstr(text, key);
    if (at)
        v = strtol(at + strlen(key), NULL, 10);
    zstr_free(&text);
    return v;
}

/* Waits up to 3 s for a metric to reach want. */
static void s_wait_metric(zactor_t *b, const char *name, const char *svc, long want)
{
    long v = -1;
    for (int i = 0; i < 300 && (v = s_metric(b, name, svc)) != want; i++)
        zclock_sleep(10);
    ck_assert_msg(v == want, "%s{%s} is %ld, want %ld", name, svc, v, want);
}

START_TEST(dispatch_follows_credit)
{
    zactor_t *b = s_broker(25600, S_SLOW_HB, 100);
    zsock_t *w = s_worker("svc", 2), *c = s_dealer(NULL);
    bx_wire_msg_t m = {0}, j1 = {0}, j2 = {0};
    s_wait_metric(b, "bx_broker_workers", "svc", 1);
    s_submit(c, "svc", "j1", NULL);
    s_submit(c, "svc", "j2", NULL);
    s_submit(c, "svc", "j3", NULL);
    for (int i = 1; i <= 3; i++)
        s_expect(c, BX_WIRE_CMD_ACK, NULL, &m);
    s_expect(w, BX_WIRE_CMD_REQUEST, "j1", &j1);
    ck_assert_str_eq(j1.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    ck_assert(zframe_streq(j1.body, "{\"n\":1}"));
    s_expect(w, BX_WIRE_CMD_REQUEST, "j2", &j2);
    s_expect_quiet(w); /* credit 2 is spent: j3 waits */
    ck_assert_int_eq(s_metric(b, "bx_broker_queue_depth", "svc"), 1);
    ck_assert_int_eq(s_metric(b, "bx_broker_inflight", "svc"), 2);
    s_reply(w, &j1, "{\"ok\":true}");
    s_expect(c, BX_WIRE_CMD_CREPLY, "j1", &m);
    ck_assert_str_eq(m.status, BX_WIRE_SUCCEEDED);
    ck_assert(zframe_streq(m.body, "{\"ok\":true}"));
    s_expect(w, BX_WIRE_CMD_REQUEST, "j3", &m); /* the reply returned one credit */
    ck_assert_int_eq(s_metric(b, "bx_broker_replied_total", "svc"), 1);
    ck_assert_int_eq(s_metric(b, "bx_broker_dispatched_total", "svc"), 3);
    bx_wire_msg_reset(&m), bx_wire_msg_reset(&j1), bx_wire_msg_reset(&j2);
    zsock_destroy(&w), zsock_destroy(&c), zactor_destroy(&b);
}
END_TEST

START_TEST(full_queue_is_answered_nak)
{
    zactor_t *b = s_broker(25601, S_SLOW_HB, 3);
    zsock_t *c = s_dealer(NULL);
    bx_wire_msg_t m = {0};
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "q%d", i);
        s_submit(c, "busy", id, NULL);
        s_expect(c, BX_WIRE_CMD_ACK, id, &m);
    }
    s_submit(c, "busy", "q3", NULL);
    s_expect(c, BX_WIRE_CMD_NAK, "q3", &m);
    ck_assert_str_eq(m.reason, "queue full");
    ck_assert_int_ge(m.retry_after_s, 1);
    ck_assert_int_eq(s_metric(b, "bx_broker_queue_depth", "busy"), 3);
    ck_assert_int_eq(s_metric(b, "bx_broker_nak_total", "busy"), 1);
    /* another service has its own bound */
    s_submit(c, "other", "o1", NULL);
    s_expect(c, BX_WIRE_CMD_ACK, "o1", &m);
    bx_wire_msg_reset(&m);
    zsock_destroy(&c), zactor_destroy(&b);
}
END_TEST

START_TEST(silent_worker_jobs_requeued_at_front)
{
    zactor_t *b = s_broker(25602, 200, 100); /* a worker is dead after 600 ms of silence */
    zsock_t *dead = s_worker("svc", 1), *c = s_dealer(NULL);
    bx_wire_msg_t m = {0};
    s_wait_metric(b, "bx_broker_workers", "svc", 1);
    s_submit(c, "svc", "first", NULL);
    s_expect(dead, BX_WIRE_CMD_REQUEST, "first", &m);
    s_submit(c, "svc", "second", NULL);
    s_submit(c, "svc", "third", NULL);
    /* the worker never heartbeats or replies: it is purged and "first" goes back */
    s_wait_metric(b, "bx_broker_workers", "svc", 0);
    ck_assert_int_eq(s_metric(b, "bx_broker_requeued_total", "svc"), 1);
    ck_assert_int_eq(s_metric(b, "bx_broker_expired_workers_total", "svc"), 1);
    ck_assert_int_eq(s_metric(b, "bx_broker_queue_depth", "svc"), 3);
    zsock_t *alive = s_worker("svc", 1);
    s_expect(alive, BX_WIRE_CMD_REQUEST, "first", &m); /* front of the queue */
    s_reply(alive, &m, "{}");
    s_expect(alive, BX_WIRE_CMD_REQUEST, "second", &m);
    bx_wire_msg_reset(&m);
    zsock_destroy(&dead), zsock_destroy(&alive), zsock_destroy(&c), zactor_destroy(&b);
}
END_TEST

/* Returns which of a and b (0 or 1) receives a REQUEST first. */
static int s_who(zsock_t *a, zsock_t *b, bx_wire_msg_t *out)
{
    for (int i = 0; i < 100; i++) {
        if (s_next(a, 10, out) == BX_WIRE_CMD_REQUEST)
            return 0;
        if (s_next(b, 10, out) == BX_WIRE_CMD_REQUEST)
            return 1;
    }
    ck_abort_msg("nobody received the request");
    return -1;
}

START_TEST(route_key_sticks_to_its_owner)
{
    zactor_t *b = s_broker(25603, S_SLOW_HB, 100);
    zsock_t *w[2] = {s_worker("hold", 1), s_worker("hold", 1)}, *c = s_dealer(NULL);
    bx_wire_msg_t m = {0}, j1 = {0}, j3 = {0};
    s_wait_metric(b, "bx_broker_workers", "hold", 2);
    s_submit(c, "hold", "k1", "event-7");
    int owner = s_who(w[0], w[1], &j1);
    ck_assert_str_eq(j1.request_id, "k1");
    s_submit(c, "hold", "k2", "event-7");
    s_expect_quiet(w[!owner]); /* the other worker has credit, but k2 waits for the owner */
    s_expect_quiet(w[owner]);
    s_submit(c, "hold", "free", NULL); /* unkeyed work is not blocked */
    s_expect(w[!owner], BX_WIRE_CMD_REQUEST, "free", &j3);
    s_reply(w[owner], &j1, "{}");
    s_expect(w[owner], BX_WIRE_CMD_REQUEST, "k2", &m);
    /* the owner leaves holding k2: k2 moves to the new owner, before anything newer */
    s_submit(c, "hold", "k3", "event-7");
    s_cmd(w[owner], BX_WIRE_CMD_DISCONNECT);
    s_wait_metric(b, "bx_broker_workers", "hold", 1);
    s_reply(w[!owner], &j3, "{}");
    s_expect(w[!owner], BX_WIRE_CMD_REQUEST, "k2", &m);
    s_reply(w[!owner], &m, "{}");
    s_expect(w[!owner], BX_WIRE_CMD_REQUEST, "k3", &m);
    bx_wire_msg_reset(&m), bx_wire_msg_reset(&j1), bx_wire_msg_reset(&j3);
    zsock_destroy(&w[0]), zsock_destroy(&w[1]), zsock_destroy(&c), zactor_destroy(&b);
}
END_TEST

START_TEST(route_keys_spread_over_workers)
{
    zactor_t *b = s_broker(25604, S_SLOW_HB, 1000);
    zsock_t *w[2] = {s_worker("hold", 100), s_worker("hold", 100)}, *c = s_dealer(NULL);
    bx_wire_msg_t m = {0};
    char owner_of[16] = "";
    int got[2] = {0, 0};
    s_wait_metric(b, "bx_broker_workers", "hold", 2);
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < 16; k++) {
            char id[16], key[16];
            snprintf(id, sizeof id, "r%d-%d", round, k);
            snprintf(key, sizeof key, "event-%d", k);
            s_submit(c, "hold", id, key);
            int who = s_who(w[0], w[1], &m);
            got[who]++;
            if (round == 0)
                owner_of[k] = (char)who;
            else /* the same key lands on the same worker again */
                ck_assert_int_eq(who, owner_of[k]);
        }
    ck_assert_int_gt(got[0], 0); /* 16 keys on one worker has odds of 2^-15 */
    ck_assert_int_gt(got[1], 0);
    bx_wire_msg_reset(&m);
    zsock_destroy(&w[0]), zsock_destroy(&w[1]), zsock_destroy(&c), zactor_destroy(&b);
}
END_TEST

START_TEST(duplicate_submit_is_not_queued_twice)
{
    zactor_t *b = s_broker(25605, S_SLOW_HB, 100);
    zsock_t *c = s_dealer(NULL);
    bx_wire_msg_t m = {0}, job = {0};
    s_submit(c, "svc", "dup", NULL);
    s_expect(c, BX_WIRE_CMD_ACK, "dup", &m);
    s_submit(c, "svc", "dup", NULL);
    s_expect(c, BX_WIRE_CMD_ACK, "dup", &m); /* acknowledged: it is already safe */
    ck_assert_int_eq(s_metric(b, "bx_broker_queue_depth", "svc"), 1);
    ck_assert_int_eq(s_metric(b, "bx_broker_duplicates_total", "svc"), 1);
    zsock_t *w = s_worker("svc", 5);
    s_expect(w, BX_WIRE_CMD_REQUEST, "dup", &job);
    s_expect_quiet(w);
    s_submit(c, "svc", "dup", NULL); /* again while in flight */
    s_expect(c, BX_WIRE_CMD_ACK, "dup", &m);
    s_expect_quiet(w);
    s_reply(w, &job, "{}");
    s_expect(c, BX_WIRE_CMD_CREPLY, "dup", &m);
    s_expect_quiet(c); /* one reply, not three */
    bx_wire_msg_reset(&m), bx_wire_msg_reset(&job);
    zsock_destroy(&w), zsock_destroy(&c), zactor_destroy(&b);
}
END_TEST

START_TEST(draining_worker_finishes_then_is_dismissed)
{
    zactor_t *b = s_broker(25606, S_SLOW_HB, 100);
    zsock_t *w = s_worker("svc", 2), *c = s_dealer(NULL);
    bx_wire_msg_t m = {0}, j1 = {0};
    s_wait_metric(b, "bx_broker_workers", "svc", 1);
    s_submit(c, "svc", "d1", NULL);
    s_expect(c, BX_WIRE_CMD_ACK, "d1", &m);
    s_expect(w, BX_WIRE_CMD_REQUEST, "d1", &j1);
    s_cmd(w, BX_WIRE_CMD_DRAIN);
    s_wait_metric(b, "bx_broker_workers", "svc", 0); /* live workers: draining ones don't count */
    s_submit(c, "svc", "d2", NULL);
    s_expect_quiet(w); /* it still has credit, but gets nothing new */
    s_reply(w, &j1, "{}");
    s_expect(c, BX_WIRE_CMD_ACK, "d2", &m);
    s_expect(c, BX_WIRE_CMD_CREPLY, "d1", &m);
    s_expect(w, BX_WIRE_CMD_DISCONNECT, NULL, &m);
    zsock_t *w2 = s_worker("svc", 1);
    s_expect(w2, BX_WIRE_CMD_REQUEST, "d2", &m);
    ck_assert_int_eq(s_metric(b, "bx_broker_requeued_total", "svc"), 0);
    bx_wire_msg_reset(&m), bx_wire_msg_reset(&j1);
    zsock_destroy(&w), zsock_destroy(&w2), zsock_destroy(&c), zactor_destroy(&b);
}
END_TEST

START_TEST(stop_refuses_new_work_and_waits_for_replies)
{
    zactor_t *b = s_broker(25607, S_SLOW_HB, 100);
    zsock_t *w = s_worker("svc", 1), *c = s_dealer(NULL);
    bx_wire_msg_t m = {0}, j1 = {0};
    s_wait_metric(b, "bx_broker_workers", "svc", 1);
    s_submit(c, "svc", "s1", NULL);
    s_expect(c, BX_WIRE_CMD_ACK, "s1", &m);
    s_expect(w, BX_WIRE_CMD_REQUEST, "s1", &j1);
    zstr_send(b, "STOP");
    zclock_sleep(50);
    s_submit(c, "svc", "s2", NULL);
    s_expect(c, BX_WIRE_CMD_NAK, "s2", &m);
    ck_assert_str_eq(m.reason, "broker is stopping");
    s_reply(w, &j1, "{}");
    s_expect(c, BX_WIRE_CMD_CREPLY, "s1", &m); /* in-flight replies still reach clients */
    s_expect(w, BX_WIRE_CMD_DISCONNECT, NULL, &m);
    bx_wire_msg_reset(&m), bx_wire_msg_reset(&j1);
    zsock_destroy(&w), zsock_destroy(&c), zactor_destroy(&b);
}
END_TEST

START_TEST(unknown_worker_is_told_to_register_and_its_reply_forwarded)
{
    zactor_t *b = s_broker(25608, S_SLOW_HB, 100);
    zsock_t *w = s_dealer(NULL), *c = s_dealer("client-1");
    bx_wire_msg_t m = {0};
    /* a worker from before a broker restart: heartbeat without READY */
    s_cmd(w, BX_WIRE_CMD_HEARTBEAT);
    s_expect(w, BX_WIRE_CMD_DISCONNECT, NULL, &m);
    /* ... and a reply for a job of the previous broker: forwarded by the client id frame */
    s_submit(c, "svc", "hello", NULL); /* makes the client known to the new broker */
    s_expect(c, BX_WIRE_CMD_ACK, "hello", &m);
    bx_wire_msg_t r = {.cmd = BX_WIRE_CMD_WREPLY,
                       .client = zframe_new("client-1", 8),
                       .body = zframe_new("{\"old\":1}", 9)};
    bx_strlcpy(r.request_id, "old-job", sizeof r.request_id);
    bx_strlcpy(r.status, BX_WIRE_FAILED, sizeof r.status);
    s_send(w, &r);
    s_expect(c, BX_WIRE_CMD_CREPLY, "old-job", &m);
    ck_assert_str_eq(m.status, BX_WIRE_FAILED);
    s_expect(w, BX_WIRE_CMD_DISCONNECT, NULL, &m);
    bx_wire_msg_reset(&m);
    zsock_destroy(&w), zsock_destroy(&c), zactor_destroy(&b);
}
END_TEST

START_TEST(malformed_submit_is_refused_for_good)
{
    zactor_t *b = s_broker(25609, S_SLOW_HB, 100);
    zsock_t *c = s_dealer(NULL);
    bx_wire_msg_t m = {0};
    zsock_send(c, "ssssssss", "", "BXC1", "SUBMIT", "svc", "bad-1", "", "not-a-trace", "{}");
    s_expect(c, BX_WIRE_CMD_NAK, "bad-1", &m);
    ck_assert_int_eq(m.retry_after_s, 0);
    zsock_send(c, "sss", "", "BXC1", "SUBMIT"); /* no id to answer: dropped */
    zsock_send(c, "s", "garbage");
    s_submit(c, "svc", "good", NULL); /* and the broker is still serving */
    s_expect(c, BX_WIRE_CMD_ACK, "good", &m);
    ck_assert_int_eq(s_metric(b, "bx_broker_queue_depth", "svc"), 1);
    bx_wire_msg_reset(&m);
    zsock_destroy(&c), zactor_destroy(&b);
}
END_TEST

START_TEST(mmi_service_reports_workers)
{
    zactor_t *b = s_broker(25610, S_SLOW_HB, 100);
    zsock_t *c = s_dealer(NULL);
    bx_wire_msg_t m = {0};
    bx_wire_msg_t q = {.cmd = BX_WIRE_CMD_SUBMIT, .body = zframe_new("echo", 4)};
    bx_strlcpy(q.service, BX_SVC_MMI, sizeof q.service);
    bx_strlcpy(q.request_id, "mmi-1", sizeof q.request_id);
    s_send(c, &q);
    s_expect(c, BX_WIRE_CMD_CREPLY, "mmi-1", &m); /* answered at once, no ACK */
    ck_assert_str_eq(m.status, BX_WIRE_FAILED);
    zsock_t *w = s_worker("echo", 3);
    s_wait_metric(b, "bx_broker_workers", "echo", 1);
    q = (bx_wire_msg_t){.cmd = BX_WIRE_CMD_SUBMIT, .body = zframe_new("echo", 4)};
    bx_strlcpy(q.service, BX_SVC_MMI, sizeof q.service);
    bx_strlcpy(q.request_id, "mmi-2", sizeof q.request_id);
    s_send(c, &q);
    s_expect(c, BX_WIRE_CMD_CREPLY, "mmi-2", &m);
    ck_assert_str_eq(m.status, BX_WIRE_SUCCEEDED);
    ck_assert(
        zframe_streq(m.body, "{\"service\":\"echo\",\"workers\":1,\"queued\":0,\"inflight\":0}"));
    bx_wire_msg_reset(&m);
    zsock_destroy(&w), zsock_destroy(&c), zactor_destroy(&b);
}
END_TEST

START_TEST(metrics_text_is_prometheus)
{
    zactor_t *b = s_broker(25611, S_SLOW_HB, 100);
    zsock_t *w = s_worker("svc", 1), *c = s_dealer(NULL);
    bx_wire_msg_t m = {0};
    s_wait_metric(b, "bx_broker_workers", "svc", 1);
    s_submit(c, "svc", "m1", NULL);
    s_expect(w, BX_WIRE_CMD_REQUEST, "m1", &m);
    s_reply(w, &m, "{}");
    s_expect(c, BX_WIRE_CMD_ACK, "m1", &m);
    s_expect(c, BX_WIRE_CMD_CREPLY, "m1", &m);
    zstr_send(b, "METRICS");
    char *text = zstr_recv(b);
    ck_assert_ptr_nonnull(strstr(text, "# TYPE bx_broker_queue_depth gauge\n"));
    ck_assert_ptr_nonnull(strstr(text, "# TYPE bx_broker_dispatched_total counter\n"));
    ck_assert_ptr_nonnull(strstr(text, "# TYPE bx_broker_dispatch_latency_seconds histogram\n"));
    ck_assert_ptr_nonnull(
        strstr(text, "bx_broker_dispatch_latency_seconds_bucket{service=\"svc\",le=\"+Inf\"} 1\n"));
    ck_assert_ptr_nonnull(
        strstr(text, "bx_broker_service_latency_seconds_count{service=\"svc\"} 1\n"));
    ck_assert_int_eq(text[strlen(text) - 1], '\n');
    zstr_free(&text);
    bx_wire_msg_reset(&m);
    zsock_destroy(&w), zsock_destroy(&c), zactor_destroy(&b);
}
END_TEST

START_TEST(new_refuses_bad_options)
{
    bx_broker_opts_t o = {.endpoint = "tcp://127.0.0.1:25612",
                          .heartbeat_ms = 1000,
                          .liveness = 3,
                          .queue_max = 0,
                          .drain_ms = 0};
    ck_assert_ptr_null(bx_broker_new(&o));
    o.queue_max = 10;
    o.endpoint = "nonsense://x";
    ck_assert_ptr_null(bx_broker_new(&o));
    o.endpoint = "tcp://127.0.0.1:25612";
    bx_broker_t *b1 = bx_broker_new(&o);
    ck_assert_ptr_nonnull(b1);
    ck_assert_ptr_null(bx_broker_new(&o)); /* the port is taken */
    char *text = bx_broker_metrics_text(b1);
    ck_assert_ptr_nonnull(text);
    free(text);
    bx_broker_destroy(&b1);
    ck_assert_ptr_null(b1);
    bx_broker_destroy(&b1);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("broker");
    TCase *tc = tcase_create("broker");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, dispatch_follows_credit);
    tcase_add_test(tc, full_queue_is_answered_nak);
    tcase_add_test(tc, silent_worker_jobs_requeued_at_front);
    tcase_add_test(tc, route_key_sticks_to_its_owner);
    tcase_add_test(tc, route_keys_spread_over_workers);
    tcase_add_test(tc, duplicate_submit_is_not_queued_twice);
    tcase_add_test(tc, draining_worker_finishes_then_is_dismissed);
    tcase_add_test(tc, stop_refuses_new_work_and_waits_for_replies);
    tcase_add_test(tc, unknown_worker_is_told_to_register_and_its_reply_forwarded);
    tcase_add_test(tc, malformed_submit_is_refused_for_good);
    tcase_add_test(tc, mmi_service_reports_workers);
    tcase_add_test(tc, metrics_text_is_prometheus);
    tcase_add_test(tc, new_refuses_bad_options);
    suite_add_tcase(s, tc);
    return s;
}
