/* bx_wire: the boxoffice pipeline protocol (BXP/1) between clients (frontdoor, scheduler),
 * the broker and workers. Frame layouts are documented in contracts/wire.md; these are
 * the names both ends share. Every message starts with an empty delimiter frame, then the
 * protocol header, then the command. bx_wire_encode/bx_wire_decode turn a bx_wire_msg_t
 * into frames and back, refusing anything that does not match the layout exactly. */
#ifndef BX_WIRE_H
#define BX_WIRE_H

#include <czmq.h>

#include "bx_err.h"

/* Protocol headers. */
#define BX_WIRE_CLIENT "BXC1" /* client <-> broker */
#define BX_WIRE_WORKER "BXW1" /* worker <-> broker */

/* client -> broker:  SUBMIT service request_id route_key traceparent payload
 * broker -> client:  ACK request_id
 *                    NAK request_id retry_after_s reason
 *                    REPLY request_id status body                            */
#define BX_WIRE_SUBMIT "SUBMIT"
#define BX_WIRE_ACK    "ACK"
#define BX_WIRE_NAK    "NAK"

/* worker -> broker:  READY service credit
 *                    REPLY client_id request_id status body
 *                    HEARTBEAT
 *                    DISCONNECT
 *                    DRAIN                   (send me nothing more; I finish what I hold)
 *                    RELEASE request_id      (dropped without a result; +1 credit)
 * broker -> worker:  REQUEST client_id request_id traceparent payload
 *                    HEARTBEAT
 *                    DISCONNECT                                              */
#define BX_WIRE_READY      "READY"
#define BX_WIRE_REQUEST    "REQUEST"
#define BX_WIRE_REPLY      "REPLY"
#define BX_WIRE_HEARTBEAT  "HEARTBEAT"
#define BX_WIRE_DISCONNECT "DISCONNECT"
#define BX_WIRE_DRAIN      "DRAIN"
#define BX_WIRE_RELEASE    "RELEASE"

/* Terminal statuses carried by REPLY. */
#define BX_WIRE_SUCCEEDED "succeeded"
#define BX_WIRE_FAILED    "failed"

/* Service names (one worker pool each). */
#define BX_SVC_ECHO      "echo"
#define BX_SVC_SCHEDULER "scheduler"
#define BX_SVC_HOLD      "hold"
#define BX_SVC_CHECKOUT  "checkout"
#define BX_SVC_PAYMENT   "payment"
#define BX_SVC_TICKET    "ticket"
#define BX_SVC_NOTIFY    "notify"
#define BX_SVC_WEBHOOK   "webhook"
#define BX_SVC_INDEX     "index"
#define BX_SVC_WAITLIST  "waitlist"

/* Broker-internal service answered by the broker itself (never queued): the payload is a
 * service name; the REPLY body is {"service","workers","queued","inflight"}, status
 * "succeeded" when at least one worker is registered, else "failed". No ACK is sent. */
#define BX_SVC_MMI "mmi.service"

/* Limits enforced by bx_wire_decode. */
#define BX_WIRE_SERVICE_MAX 31         /* longest service name: [a-z0-9._-] */
#define BX_WIRE_ID_MAX      64         /* longest request id: [A-Za-z0-9._:-] */
#define BX_WIRE_ROUTE_MAX   64         /* longest route key: printable ASCII */
#define BX_WIRE_TRACE_LEN   55         /* W3C traceparent, or empty */
#define BX_WIRE_REASON_MAX  127        /* longest NAK reason: printable ASCII */
#define BX_WIRE_CREDIT_MAX  1024       /* most credit one READY may grant */
#define BX_WIRE_RETRY_MAX   86400      /* largest retry_after_s */
#define BX_WIRE_PEER_MAX    255        /* longest ZeroMQ routing id */
#define BX_WIRE_BODY_MAX    (16 << 20) /* largest payload or body frame */

typedef enum {
    BX_WIRE_CMD_NONE = 0,
    BX_WIRE_CMD_SUBMIT,     /* client -> broker */
    BX_WIRE_CMD_ACK,        /* broker -> client */
    BX_WIRE_CMD_NAK,        /* broker -> client */
    BX_WIRE_CMD_CREPLY,     /* broker -> client: REPLY request_id status body */
    BX_WIRE_CMD_READY,      /* worker -> broker */
    BX_WIRE_CMD_REQUEST,    /* broker -> worker */
    BX_WIRE_CMD_WREPLY,     /* worker -> broker: REPLY client_id request_id status body */
    BX_WIRE_CMD_HEARTBEAT,  /* both ways, worker protocol */
    BX_WIRE_CMD_DISCONNECT, /* both ways, worker protocol */
    BX_WIRE_CMD_DRAIN,      /* worker -> broker */
    BX_WIRE_CMD_RELEASE,    /* worker -> broker */
    BX_WIRE_CMD_COUNT
} bx_wire_cmd_t;

/* One decoded message. Only the fields of its command are meaningful; strings are
 * NUL-terminated and empty when absent. The frames are owned by the message: release them
 * with bx_wire_msg_reset. */
typedef struct {
    bx_wire_cmd_t cmd;                       /* which command */
    zframe_t *peer;                          /* ROUTER routing id of the sender, or NULL */
    char service[BX_WIRE_SERVICE_MAX + 1];   /* SUBMIT, READY */
    char request_id[BX_WIRE_ID_MAX + 1];     /* every command that names a request */
    char route_key[BX_WIRE_ROUTE_MAX + 1];   /* SUBMIT: affinity key, "" for none */
    char traceparent[BX_WIRE_TRACE_LEN + 1]; /* SUBMIT, REQUEST: W3C traceparent or "" */
    char status[16];                         /* REPLY: succeeded or failed */
    char reason[BX_WIRE_REASON_MAX + 1];     /* NAK */
    long credit;                             /* READY: jobs the worker grants */
    long retry_after_s;                      /* NAK: seconds; 0 means do not retry */
    zframe_t *client;                        /* REQUEST, worker REPLY: client routing id */
    zframe_t *body;                          /* SUBMIT/REQUEST payload, REPLY body */
} bx_wire_msg_t;

/* Name of cmd as on the wire ("SUBMIT", "REPLY", ...) or "?". Never NULL. */
const char *bx_wire_cmd_name(bx_wire_cmd_t cmd);

/* Builds the frames of m (delimiter, header, command, fields). m->peer, when set, is
 * prepended as the routing id for a ROUTER send. m is not changed: frames are copied.
 * Returns a new message (the caller sends or destroys it), or NULL when a field breaks
 * the layout's limits (a programmer error worth a log line) or memory runs out. */
zmsg_t *bx_wire_encode(const bx_wire_msg_t *m);

/* Parses *msg_p (taken: destroyed and set to NULL whatever the outcome) into out, which
 * is reset first (so out must be zero-initialized or hold an earlier decoded message). With
 * from_router set the first frame is the sender's routing id and is kept in out->peer. Returns
 * BX_OK, or BX_EMALFORMED with a lower-case reason in why (cap bytes) when a frame is missing,
 * extra, too long or out of its alphabet. On failure out keeps whatever was parsed (out->peer,
 * out->cmd, out->request_id may help to answer); release it with bx_wire_msg_reset either way. */
bx_err_t bx_wire_decode(zmsg_t **msg_p, int from_router, bx_wire_msg_t *out, char *why, size_t cap);

/* Destroys the frames of m and zeroes it. Safe on a zeroed message. */
void bx_wire_msg_reset(bx_wire_msg_t *m);

/* Encodes m and sends it on sock. Returns BX_OK, BX_EINVAL when m does not encode, or
 * BX_EUNAVAILABLE when the socket refused it (peer gone, HWM reached with a send timeout). */
bx_err_t bx_wire_send(void *sock, const bx_wire_msg_t *m);

/* Validators shared with callers that build messages from input. Return 1 when valid. */
int bx_wire_service_valid(const char *s);
int bx_wire_id_valid(const char *s);
int bx_wire_route_valid(const char *s);
int bx_wire_trace_valid(const char *s);

#endif
