/* test_wire: BXP/1 messages survive an encode/decode round trip field for field, and
 * every malformed message (missing, extra, oversized or out-of-alphabet frames, unknown
 * headers or commands) is refused with a reason instead of being half-parsed. */
#include <czmq.h>
#include <string.h>

#include "bx_suite.h"
#include "bx_util.h"
#include "bx_wire.h"

#define S_TRACE "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

/* One message of every command, filled with valid values. */
static bx_wire_msg_t s_sample(bx_wire_cmd_t cmd)
{
    bx_wire_msg_t m = {.cmd = cmd, .credit = 7, .retry_after_s = 30};
    bx_strlcpy(m.service, "echo", sizeof m.service);
    bx_strlcpy(m.request_id, "0190a0b0-0000-7000-8000-000000000001", sizeof m.request_id);
    bx_strlcpy(m.route_key, "event:42 / hall A", sizeof m.route_key);
    bx_strlcpy(m.traceparent, S_TRACE, sizeof m.traceparent);
    bx_strlcpy(m.status, BX_WIRE_FAILED, sizeof m.status);
    bx_strlcpy(m.reason, "queue full", sizeof m.reason);
    m.client = zframe_new("\0\x8b\x45\x67\x01", 5);
    m.body = zframe_new("{\"a\":1}", 7);
    return m;
}

static void s_round_trip(bx_wire_cmd_t cmd, int via_router)
{
    bx_wire_msg_t in = s_sample(cmd), out = {0};
    char why[128] = "";
    if (via_router)
        in.peer = zframe_new("peer-1", 6);
    zmsg_t *msg = bx_wire_encode(&in);
    ck_assert_msg(msg != NULL, "%s did not encode", bx_wire_cmd_name(cmd));
    ck_assert_int_eq(bx_wire_decode(&msg, via_router, &out, why, sizeof why), BX_OK);
    ck_assert_ptr_null(msg);
    ck_assert_int_eq(out.cmd, cmd);
    if (via_router)
        ck_assert(zframe_eq(out.peer, in.peer));
    switch (cmd) {
    case BX_WIRE_CMD_SUBMIT:
        ck_assert_str_eq(out.service, in.service);
        ck_assert_str_eq(out.route_key, in.route_key);
        ck_assert_str_eq(out.traceparent, in.traceparent);
        ck_assert(zframe_eq(out.body, in.body));
        break;
    case BX_WIRE_CMD_NAK:
        ck_assert_int_eq(out.retry_after_s, 30);
        ck_assert_str_eq(out.reason, "queue full");
        break;
    case BX_WIRE_CMD_CREPLY:
    case BX_WIRE_CMD_WREPLY:
        ck_assert_str_eq(out.status, BX_WIRE_FAILED);
        ck_assert(zframe_eq(out.body, in.body));
        if (cmd == BX_WIRE_CMD_WREPLY)
            ck_assert(zframe_eq(out.client, in.client));
        break;
    case BX_WIRE_CMD_READY:
        ck_assert_str_eq(out.service, "echo");
        ck_assert_int_eq(out.credit, 7);
        break;
    case BX_WIRE_CMD_REQUEST:
        ck_assert(zframe_eq(out.client, in.client));
        ck_assert_str_eq(out.traceparent, S_TRACE);
        ck_assert(zframe_eq(out.body, in.body));
        break;
    default:
        break;
    }
    if (cmd == BX_WIRE_CMD_SUBMIT || cmd == BX_WIRE_CMD_ACK || cmd == BX_WIRE_CMD_NAK ||
        cmd == BX_WIRE_CMD_CREPLY || cmd == BX_WIRE_CMD_WREPLY || cmd == BX_WIRE_CMD_REQUEST ||
        cmd == BX_WIRE_CMD_RELEASE)
        ck_assert_str_eq(out.request_id, in.request_id);
    bx_wire_msg_reset(&in);
    bx_wire_msg_reset(&out);
}

START_TEST(every_command_round_trips)
{
    for (int cmd = BX_WIRE_CMD_SUBMIT; cmd < BX_WIRE_CMD_COUNT; cmd++) {
        s_round_trip((bx_wire_cmd_t)cmd, 0);
        s_round_trip((bx_wire_cmd_t)cmd, 1);
    }
}
END_TEST

START_TEST(frames_follow_the_documented_layout)
{
    bx_wire_msg_t m = s_sample(BX_WIRE_CMD_SUBMIT);
    zmsg_t *msg = bx_wire_encode(&m);
    const char *want[] = {"",           "BXC1",      "SUBMIT", "echo",
                          m.request_id, m.route_key, S_TRACE,  "{\"a\":1}"};
    ck_assert_int_eq(zmsg_size(msg), 8);
    for (size_t i = 0; i < 8; i++) {
        char *s = zmsg_popstr(msg);
        ck_assert_str_eq(s, want[i]);
        zstr_free(&s);
    }
    zmsg_destroy(&msg);
    bx_wire_msg_reset(&m);
}
END_TEST

START_TEST(empty_optional_fields_round_trip)
{
    bx_wire_msg_t in = {.cmd = BX_WIRE_CMD_SUBMIT}, out = {0};
    bx_strlcpy(in.service, "scheduler", sizeof in.service);
    bx_strlcpy(in.request_id, "r1", sizeof in.request_id);
    zmsg_t *msg = bx_wire_encode(&in); /* no route key, no trace, no body */
    ck_assert_ptr_nonnull(msg);
    ck_assert_int_eq(bx_wire_decode(&msg, 0, &out, NULL, 0), BX_OK);
    ck_assert_str_eq(out.route_key, "");
    ck_assert_str_eq(out.traceparent, "");
    ck_assert_uint_eq(zframe_size(out.body), 0);
    bx_wire_msg_reset(&out);
}
END_TEST

/* Builds a message from string frames; "\x01" stands for an oversized frame. */
static zmsg_t *s_frames(const char *const *frames)
{
    zmsg_t *msg = zmsg_new();
    for (size_t i = 0; frames[i]; i++) {
        if (!strcmp(frames[i], "\x01")) {
            size_t n = (size_t)BX_WIRE_BODY_MAX + 1;
            char *big = calloc(1, n);
            zmsg_addmem(msg, big, n);
            free(big);
        } else {
            zmsg_addstr(msg, frames[i]);
        }
    }
    return msg;
}

typedef struct {
    const char *name;       /* what is wrong */
    const char *frames[10]; /* after the routing id, NULL-terminated */
} s_bad_t;

#define ID "0190a0b0-0000-7000-8000-000000000001"
static const s_bad_t s_bad[] = {
    {"no delimiter", {"BXC1", "ACK", ID}},
    {"delimiter not empty", {"x", "BXC1", "ACK", ID}},
    {"unknown header", {"", "BXC9", "ACK", ID}},
    {"unknown command", {"", "BXC1", "PING", ID}},
    {"worker command on the client header", {"", "BXC1", "READY", "echo", "1"}},
    {"missing frame", {"", "BXC1", "SUBMIT", "echo", ID, "", ""}},
    {"extra frame", {"", "BXC1", "ACK", ID, "more"}},
    {"upper-case service", {"", "BXC1", "SUBMIT", "Echo", ID, "", "", "{}"}},
    {"empty service", {"", "BXC1", "SUBMIT", "", ID, "", "", "{}"}},
    {"service too long",
     {"", "BXC1", "SUBMIT", "abcdefghijklmnopqrstuvwxyz0123456", ID, "", "", "{}"}},
    {"empty id", {"", "BXC1", "ACK", ""}},
    {"id with a space", {"", "BXC1", "ACK", "a b"}},
    {"id too long",
     {"", "BXC1", "ACK", "0123456789012345678901234567890123456789012345678901234567890123456789"}},
    {"route key with a newline", {"", "BXC1", "SUBMIT", "echo", ID, "a\nb", "", "{}"}},
    {"traceparent malformed", {"", "BXC1", "SUBMIT", "echo", ID, "", "00-xyz", "{}"}},
    {"traceparent all-zero trace id",
     {"", "BXC1", "SUBMIT", "echo", ID, "",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "{}"}},
    {"credit not a number", {"", "BXW1", "READY", "echo", "lots"}},
    {"credit negative", {"", "BXW1", "READY", "echo", "-1"}},
    {"credit too large", {"", "BXW1", "READY", "echo", "1025"}},
    {"credit with a sign", {"", "BXW1", "READY", "echo", "+4"}},
    {"retry after too large", {"", "BXC1", "NAK", ID, "86401", "x"}},
    {"unknown status", {"", "BXW1", "REPLY", "c", ID, "done", "{}"}},
    {"empty client id", {"", "BXW1", "REQUEST", "", ID, "", "{}"}},
    {"body over the cap", {"", "BXC1", "SUBMIT", "echo", ID, "", "", "\x01"}},
    {"heartbeat with a frame", {"", "BXW1", "HEARTBEAT", "x"}},
    {"nothing after the delimiter", {""}},
};

START_TEST(malformed_messages_are_refused)
{
    const s_bad_t *b = &s_bad[_i];
    for (int router = 0; router < 2; router++) {
        zmsg_t *msg = s_frames(b->frames);
        if (router)
            zmsg_pushstr(msg, "peer");
        bx_wire_msg_t out = {0};
        char why[128] = "";
        ck_assert_msg(bx_wire_decode(&msg, router, &out, why, sizeof why) == BX_EMALFORMED,
                      "accepted: %s", b->name);
        ck_assert_ptr_null(msg);
        ck_assert_msg(why[0] != '\0', "no reason for: %s", b->name);
        if (router)
            ck_assert_ptr_nonnull(out.peer); /* kept so the broker can answer */
        bx_wire_msg_reset(&out);
    }
}
END_TEST

START_TEST(refused_submit_keeps_its_id_for_the_nak)
{
    const char *frames[] = {"", "BXC1", "SUBMIT", "echo", ID, "", "garbage", "{}", NULL};
    zmsg_t *msg = s_frames(frames);
    bx_wire_msg_t out = {0};
    ck_assert_int_eq(bx_wire_decode(&msg, 0, &out, NULL, 0), BX_EMALFORMED);
    ck_assert_int_eq(out.cmd, BX_WIRE_CMD_SUBMIT);
    ck_assert_str_eq(out.request_id, ID);
    bx_wire_msg_reset(&out);
}
END_TEST

START_TEST(router_message_without_routing_id_is_refused)
{
    zmsg_t *msg = zmsg_new();
    bx_wire_msg_t out = {0};
    char why[64];
    ck_assert_int_eq(bx_wire_decode(&msg, 1, &out, why, sizeof why), BX_EMALFORMED);
    ck_assert_int_eq(bx_wire_decode(NULL, 0, &out, why, sizeof why), BX_EMALFORMED);
}
END_TEST

START_TEST(encode_refuses_fields_that_would_not_decode)
{
    bx_wire_msg_t m = s_sample(BX_WIRE_CMD_SUBMIT);
    bx_strlcpy(m.service, "no spaces allowed", sizeof m.service);
    ck_assert_ptr_null(bx_wire_encode(&m));
    bx_strlcpy(m.service, "echo", sizeof m.service);
    bx_strlcpy(m.traceparent, "01-bad", sizeof m.traceparent);
    ck_assert_ptr_null(bx_wire_encode(&m));
    bx_wire_msg_reset(&m);

    bx_wire_msg_t r = {.cmd = BX_WIRE_CMD_READY, .credit = BX_WIRE_CREDIT_MAX + 1};
    bx_strlcpy(r.service, "echo", sizeof r.service);
    ck_assert_ptr_null(bx_wire_encode(&r));
    bx_wire_msg_t q = {.cmd = BX_WIRE_CMD_REQUEST}; /* no client frame */
    bx_strlcpy(q.request_id, "x", sizeof q.request_id);
    ck_assert_ptr_null(bx_wire_encode(&q));
    bx_wire_msg_t w = {.cmd = BX_WIRE_CMD_WREPLY, .client = zframe_new("c", 1)};
    bx_strlcpy(w.request_id, "x", sizeof w.request_id);
    bx_strlcpy(w.status, "maybe", sizeof w.status);
    ck_assert_ptr_null(bx_wire_encode(&w));
    bx_wire_msg_reset(&w);
    ck_assert_ptr_null(bx_wire_encode(NULL));
    bx_wire_msg_t none = {.cmd = BX_WIRE_CMD_NONE};
    ck_assert_ptr_null(bx_wire_encode(&none));
}
END_TEST

START_TEST(validators)
{
    ck_assert(bx_wire_service_valid("mmi.service"));
    ck_assert(!bx_wire_service_valid(NULL));
    ck_assert(bx_wire_id_valid("a:b.c_d-e"));
    ck_assert(!bx_wire_id_valid("a/b"));
    ck_assert(bx_wire_route_valid(""));
    ck_assert(!bx_wire_route_valid("caf\xc3\xa9"));
    ck_assert(bx_wire_trace_valid(""));
    ck_assert(bx_wire_trace_valid(S_TRACE));
    ck_assert(!bx_wire_trace_valid("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
    ck_assert(!bx_wire_trace_valid("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
    ck_assert_str_eq(bx_wire_cmd_name(BX_WIRE_CMD_WREPLY), "REPLY");
    ck_assert_str_eq(bx_wire_cmd_name(BX_WIRE_CMD_NONE), "?");
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("wire");
    tcase_add_test(tc, every_command_round_trips);
    tcase_add_test(tc, frames_follow_the_documented_layout);
    tcase_add_test(tc, empty_optional_fields_round_trip);
    tcase_add_loop_test(tc, malformed_messages_are_refused, 0, sizeof s_bad / sizeof s_bad[0]);
    tcase_add_test(tc, refused_submit_keeps_its_id_for_the_nak);
    tcase_add_test(tc, router_message_without_routing_id_is_refused);
    tcase_add_test(tc, encode_refuses_fields_that_would_not_decode);
    tcase_add_test(tc, validators);
    suite_add_tcase(s, tc);
    return s;
}
