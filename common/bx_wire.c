/* bx_wire: table-driven encoder and strict decoder of BXP/1 messages (see bx_wire.h). */
#include "bx_wire.h"

#include <stdio.h>
#include <string.h>

#include "bx_util.h"

/* The kinds of field a command carries, in frame order. */
typedef enum {
    F_END = 0,
    F_SERVICE, /* service name */
    F_ID,      /* request id */
    F_ROUTE,   /* route key, may be empty */
    F_TRACE,   /* traceparent, may be empty */
    F_STATUS,  /* succeeded | failed */
    F_REASON,  /* NAK reason */
    F_CREDIT,  /* decimal credit */
    F_RETRY,   /* decimal retry_after_s */
    F_CLIENT,  /* client routing id (binary) */
    F_BODY,    /* payload or body (binary) */
} s_field_t;

#define S_FIELDS_MAX 5

typedef struct {
    bx_wire_cmd_t cmd;                  /* enum value */
    const char *proto;                  /* BXC1 or BXW1 */
    const char *name;                   /* command frame */
    s_field_t fields[S_FIELDS_MAX + 1]; /* frame layout after the command, F_END-terminated */
} s_layout_t;

static const s_layout_t s_layouts[] = {
    {BX_WIRE_CMD_SUBMIT,
     BX_WIRE_CLIENT,
     BX_WIRE_SUBMIT,
     {F_SERVICE, F_ID, F_ROUTE, F_TRACE, F_BODY}},
    {BX_WIRE_CMD_ACK, BX_WIRE_CLIENT, BX_WIRE_ACK, {F_ID}},
    {BX_WIRE_CMD_NAK, BX_WIRE_CLIENT, BX_WIRE_NAK, {F_ID, F_RETRY, F_REASON}},
    {BX_WIRE_CMD_CREPLY, BX_WIRE_CLIENT, BX_WIRE_REPLY, {F_ID, F_STATUS, F_BODY}},
    {BX_WIRE_CMD_READY, BX_WIRE_WORKER, BX_WIRE_READY, {F_SERVICE, F_CREDIT}},
    {BX_WIRE_CMD_REQUEST, BX_WIRE_WORKER, BX_WIRE_REQUEST, {F_CLIENT, F_ID, F_TRACE, F_BODY}},
    {BX_WIRE_CMD_WREPLY, BX_WIRE_WORKER, BX_WIRE_REPLY, {F_CLIENT, F_ID, F_STATUS, F_BODY}},
    {BX_WIRE_CMD_HEARTBEAT, BX_WIRE_WORKER, BX_WIRE_HEARTBEAT, {F_END}},
    {BX_WIRE_CMD_DISCONNECT, BX_WIRE_WORKER, BX_WIRE_DISCONNECT, {F_END}},
    {BX_WIRE_CMD_DRAIN, BX_WIRE_WORKER, BX_WIRE_DRAIN, {F_END}},
    {BX_WIRE_CMD_RELEASE, BX_WIRE_WORKER, BX_WIRE_RELEASE, {F_ID}},
};

#define S_NLAYOUTS (sizeof s_layouts / sizeof s_layouts[0])

static const s_layout_t *s_layout_of(bx_wire_cmd_t cmd)
{
    for (size_t i = 0; i < S_NLAYOUTS; i++)
        if (s_layouts[i].cmd == cmd)
            return &s_layouts[i];
    return NULL;
}

const char *bx_wire_cmd_name(bx_wire_cmd_t cmd)
{
    const s_layout_t *l = s_layout_of(cmd);
    return l ? l->name : "?";
}

/* ---- validators ---- */

static int s_all(const char *s, size_t min, size_t max, int (*ok)(int c))
{
    size_t n = strnlen(s, max + 1);
    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!ok((unsigned char)s[i]))
            return 0;
    return 1;
}

static int s_service_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static int s_id_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
}

static int s_print_char(int c)
{
    return c >= 0x20 && c < 0x7f;
}

static int s_hex_char(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int bx_wire_service_valid(const char *s)
{
    return s && s_all(s, 1, BX_WIRE_SERVICE_MAX, s_service_char);
}

int bx_wire_id_valid(const char *s)
{
    return s && s_all(s, 1, BX_WIRE_ID_MAX, s_id_char);
}

int bx_wire_route_valid(const char *s)
{
    return s && s_all(s, 0, BX_WIRE_ROUTE_MAX, s_print_char);
}

/* W3C traceparent version 00: "00-<32 hex>-<16 hex>-<2 hex>", ids not all zero. */
int bx_wire_trace_valid(const char *s)
{
    static const size_t dash[] = {2, 35, 52};
    if (!s)
        return 0;
    if (!*s)
        return 1;
    if (strnlen(s, BX_WIRE_TRACE_LEN + 1) != BX_WIRE_TRACE_LEN)
        return 0;
    for (size_t i = 0, d = 0; i < BX_WIRE_TRACE_LEN; i++) {
        if (d < 3 && i == dash[d]) {
            if (s[i] != '-')
                return 0;
            d++;
        } else if (!s_hex_char((unsigned char)s[i])) {
            return 0;
        }
    }
    return strncmp(s, "00", 2) == 0 && strncmp(s + 3, "00000000000000000000000000000000", 32) &&
           strncmp(s + 36, "0000000000000000", 16);
}

static int s_status_valid(const char *s)
{
    return !strcmp(s, BX_WIRE_SUCCEEDED) || !strcmp(s, BX_WIRE_FAILED);
}

/* ---- encoding ---- */

static int s_add_str(zmsg_t *msg, const char *s)
{
    return zmsg_addstr(msg, s) == 0;
}

static int s_add_frame(zmsg_t *msg, const zframe_t *f)
{
    if (!f)
        return zmsg_addmem(msg, "", 0) == 0;
    return zmsg_addmem(msg, zframe_data((zframe_t *)f), zframe_size((zframe_t *)f)) == 0;
}

static int s_add_long(zmsg_t *msg, long v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%ld", v);
    return s_add_str(msg, buf);
}

static int s_frame_ok(const zframe_t *f, size_t min, size_t max)
{
    size_t n = f ? zframe_size((zframe_t *)f) : 0;
    return n >= min && n <= max;
}

/* Checks one field of m and appends it. Returns 1 on success. */
static int s_encode_field(zmsg_t *msg, s_field_t f, const bx_wire_msg_t *m)
{
    switch (f) {
    case F_SERVICE:
        return bx_wire_service_valid(m->service) && s_add_str(msg, m->service);
    case F_ID:
        return bx_wire_id_valid(m->request_id) && s_add_str(msg, m->request_id);
    case F_ROUTE:
        return bx_wire_route_valid(m->route_key) && s_add_str(msg, m->route_key);
    case F_TRACE:
        return bx_wire_trace_valid(m->traceparent) && s_add_str(msg, m->traceparent);
    case F_STATUS:
        return s_status_valid(m->status) && s_add_str(msg, m->status);
    case F_REASON:
        return s_all(m->reason, 0, BX_WIRE_REASON_MAX, s_print_char) && s_add_str(msg, m->reason);
    case F_CREDIT:
        return m->credit >= 0 && m->credit <= BX_WIRE_CREDIT_MAX && s_add_long(msg, m->credit);
    case F_RETRY:
        return m->retry_after_s >= 0 && m->retry_after_s <= BX_WIRE_RETRY_MAX &&
               s_add_long(msg, m->retry_after_s);
    case F_CLIENT:
        return s_frame_ok(m->client, 1, BX_WIRE_PEER_MAX) && s_add_frame(msg, m->client);
    case F_BODY:
        return s_frame_ok(m->body, 0, BX_WIRE_BODY_MAX) && s_add_frame(msg, m->body);
    case F_END:
        break;
    }
    return 0;
}

zmsg_t *bx_wire_encode(const bx_wire_msg_t *m)
{
    const s_layout_t *l = m ? s_layout_of(m->cmd) : NULL;
    zmsg_t *msg = l ? zmsg_new() : NULL;
    int ok = msg != NULL;
    if (ok && m->peer)
        ok = s_frame_ok(m->peer, 1, BX_WIRE_PEER_MAX) && s_add_frame(msg, m->peer);
    ok = ok && zmsg_addmem(msg, "", 0) == 0 && s_add_str(msg, l->proto) && s_add_str(msg, l->name);
    for (int i = 0; ok && i < S_FIELDS_MAX && l->fields[i] != F_END; i++)
        ok = s_encode_field(msg, l->fields[i], m);
    if (!ok)
        zmsg_destroy(&msg);
    return msg;
}

bx_err_t bx_wire_send(void *sock, const bx_wire_msg_t *m)
{
    zmsg_t *msg = bx_wire_encode(m);
    if (!msg)
        return BX_EINVAL;
    if (zmsg_send(&msg, sock) != 0) {
        zmsg_destroy(&msg);
        return BX_EUNAVAILABLE;
    }
    return BX_OK;
}

/* ---- decoding ---- */

/* Copies a text frame into dst (cap bytes) if it fits and has no NUL byte. */
static int s_take_str(zframe_t *f, char *dst, size_t cap)
{
    size_t n = zframe_size(f);
    if (n >= cap || memchr(zframe_data(f), '\0', n))
        return 0;
    memcpy(dst, zframe_data(f), n);
    dst[n] = '\0';
    return 1;
}

static int s_digit_char(int c)
{
    return c >= '0' && c <= '9';
}

/* Plain decimal digits only: no sign, no spaces. */
static int s_take_long(zframe_t *f, long max, long *out)
{
    char buf[24];
    return s_take_str(f, buf, sizeof buf) && s_all(buf, 1, 10, s_digit_char) &&
           bx_parse_long(buf, 0, max, out) == BX_OK;
}

/* Parses frame f as field kind k into out. *f_p is taken when it becomes a member. */
static int s_decode_field(s_field_t k, zframe_t **f_p, bx_wire_msg_t *out)
{
    zframe_t *f = *f_p;
    switch (k) {
    case F_SERVICE:
        return s_take_str(f, out->service, sizeof out->service) &&
               bx_wire_service_valid(out->service);
    case F_ID:
        return s_take_str(f, out->request_id, sizeof out->request_id) &&
               bx_wire_id_valid(out->request_id);
    case F_ROUTE:
        return s_take_str(f, out->route_key, sizeof out->route_key) &&
               bx_wire_route_valid(out->route_key);
    case F_TRACE:
        return s_take_str(f, out->traceparent, sizeof out->traceparent) &&
               bx_wire_trace_valid(out->traceparent);
    case F_STATUS:
        return s_take_str(f, out->status, sizeof out->status) && s_status_valid(out->status);
    case F_REASON:
        return s_take_str(f, out->reason, sizeof out->reason) &&
               s_all(out->reason, 0, BX_WIRE_REASON_MAX, s_print_char);
    case F_CREDIT:
        return s_take_long(f, BX_WIRE_CREDIT_MAX, &out->credit);
    case F_RETRY:
        return s_take_long(f, BX_WIRE_RETRY_MAX, &out->retry_after_s);
    case F_CLIENT:
        if (!s_frame_ok(f, 1, BX_WIRE_PEER_MAX))
            return 0;
        out->client = f;
        *f_p = NULL;
        return 1;
    case F_BODY:
        if (!s_frame_ok(f, 0, BX_WIRE_BODY_MAX))
            return 0;
        out->body = f;
        *f_p = NULL;
        return 1;
    case F_END:
        break;
    }
    return 0;
}

static const char *const s_field_names[] = {"end",         "service",   "request id", "route key",
                                            "traceparent", "status",    "reason",     "credit",
                                            "retry after", "client id", "body"};

/* Finds the layout named by the header and command frames. */
static const s_layout_t *s_match(zmsg_t *msg)
{
    char proto[8], name[16];
    zframe_t *p = zmsg_pop(msg), *c = zmsg_pop(msg);
    int ok = p && c && s_take_str(p, proto, sizeof proto) && s_take_str(c, name, sizeof name);
    zframe_destroy(&p);
    zframe_destroy(&c);
    for (size_t i = 0; ok && i < S_NLAYOUTS; i++)
        if (!strcmp(s_layouts[i].proto, proto) && !strcmp(s_layouts[i].name, name))
            return &s_layouts[i];
    return NULL;
}

static bx_err_t s_refuse(char *why, size_t cap, const char *what, const char *detail)
{
    if (why && cap)
        snprintf(why, cap, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    return BX_EMALFORMED;
}

/* Parses the fields after the command frame. */
static bx_err_t s_decode_fields(zmsg_t *msg, const s_layout_t *l, bx_wire_msg_t *out, char *why,
                                size_t cap)
{
    for (int i = 0; i < S_FIELDS_MAX && l->fields[i] != F_END; i++) {
        zframe_t *f = zmsg_pop(msg);
        if (!f)
            return s_refuse(why, cap, "missing frame", s_field_names[l->fields[i]]);
        int ok = s_decode_field(l->fields[i], &f, out);
        zframe_destroy(&f);
        if (!ok)
            return s_refuse(why, cap, "bad frame", s_field_names[l->fields[i]]);
    }
    if (zmsg_size(msg) > 0)
        return s_refuse(why, cap, "extra frames after", l->name);
    return BX_OK;
}

bx_err_t bx_wire_decode(zmsg_t **msg_p, int from_router, bx_wire_msg_t *out, char *why, size_t cap)
{
    bx_err_t rc = BX_EMALFORMED;
    zmsg_t *msg = msg_p ? *msg_p : NULL;
    bx_wire_msg_reset(out);
    if (!msg) {
        rc = s_refuse(why, cap, "no message", NULL);
        goto out;
    }
    if (from_router && !(out->peer = zmsg_pop(msg))) {
        rc = s_refuse(why, cap, "missing routing id", NULL);
        goto out;
    }
    zframe_t *delim = zmsg_pop(msg);
    int empty = delim && zframe_size(delim) == 0;
    zframe_destroy(&delim);
    if (!empty) {
        rc = s_refuse(why, cap, "missing empty delimiter", NULL);
        goto out;
    }
    const s_layout_t *l = s_match(msg);
    if (!l) {
        rc = s_refuse(why, cap, "unknown protocol or command", NULL);
        goto out;
    }
    out->cmd = l->cmd;
    rc = s_decode_fields(msg, l, out, why, cap);
out:
    if (msg_p)
        zmsg_destroy(msg_p);
    return rc;
}

void bx_wire_msg_reset(bx_wire_msg_t *m)
{
    if (!m)
        return;
    zframe_destroy(&m->peer);
    zframe_destroy(&m->client);
    zframe_destroy(&m->body);
    memset(m, 0, sizeof *m);
}
