/* fd_pipeline: the frontdoor's one thread that talks to the broker. MHD threads hand it
 * suspended requests over inproc PUSH sockets (one per thread); it SUBMITs them, tracks
 * ACK/NAK/REPLY and each client's wait deadline, and resumes the connection with the
 * outcome. The pending table and the DEALER socket belong to this thread alone. */
#include "fd_internal.h"

#include <czmq.h>
#include <stdatomic.h>
#include <string.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_util.h"
#include "bx_wire.h"

#define S_INPROC "inproc://fd-pipeline"
#define S_ACK_WAIT_MS 1000 /* with Prefer: wait=0 we still wait this long for ACK/NAK */

typedef struct {
    fd_req_t *req;        /* suspended request; ours until resumed */
    int64_t deadline;     /* monotonic ms when we answer 202 */
    int acked;            /* broker ACKed */
    int wait_for_reply;   /* client agreed to wait for the result */
} s_pending_t;

static zactor_t *s_actor;
static atomic_int s_broker_connected;

static void s_resume(zhashx_t *pending, const char *id, s_pending_t *p, fd_pipe_t outcome, int retry)
{
    fd_req_t *req = p->req;
    req->pipe = outcome;
    req->retry_after = retry;
    req->state = FD_ST_RESUMED;
    zhashx_delete(pending, id); /* frees p */
    MHD_resume_connection(req->conn);
}

/* A request from an MHD thread: [id][service][key][traceparent][payload][req*][wait_ms]. */
static void s_on_submit(zsock_t *pull, zsock_t *dealer, zhashx_t *pending)
{
    char *id, *svc, *key, *tp, *payload, *wait;
    void *ptr;
    if (zsock_recv(pull, "sssssps", &id, &svc, &key, &tp, &payload, &ptr, &wait) != 0)
        return;
    s_pending_t *p = calloc(1, sizeof *p);
    long wait_ms = strtol(wait, NULL, 10);
    p->req = ptr;
    p->wait_for_reply = wait_ms > 0;
    p->deadline = bx_mono_ms() + (wait_ms > 0 ? wait_ms : S_ACK_WAIT_MS);
    zhashx_insert(pending, id, p);
    zsock_send(dealer, "ssssssss", "", BX_WIRE_CLIENT, BX_WIRE_SUBMIT, svc, id, key, tp, payload);
    zstr_free(&id), zstr_free(&svc), zstr_free(&key), zstr_free(&tp), zstr_free(&payload);
    zstr_free(&wait);
}

/* From the broker: ["", BXC1, ACK|NAK|REPLY, id, ...]. */
static void s_on_broker(zsock_t *dealer, zhashx_t *pending)
{
    zmsg_t *msg = zmsg_recv(dealer);
    if (!msg)
        return;
    char *empty = zmsg_popstr(msg), *proto = zmsg_popstr(msg), *cmd = zmsg_popstr(msg);
    char *id = zmsg_popstr(msg);
    s_pending_t *p = id ? zhashx_lookup(pending, id) : NULL;
    if (!proto || strcmp(proto, BX_WIRE_CLIENT) || !cmd || !p) {
        /* Unknown or late (already answered 202): the client reads PostgreSQL. */
    } else if (!strcmp(cmd, BX_WIRE_ACK)) {
        p->acked = 1;
        if (!p->wait_for_reply)
            s_resume(pending, id, p, FD_PIPE_TIMEOUT, 0);
    } else if (!strcmp(cmd, BX_WIRE_NAK)) {
        char *retry = zmsg_popstr(msg);
        s_resume(pending, id, p, FD_PIPE_NAK, retry ? (int)strtol(retry, NULL, 10) : 1);
        zstr_free(&retry);
    } else if (!strcmp(cmd, BX_WIRE_REPLY)) {
        s_resume(pending, id, p, FD_PIPE_REPLY, 0);
    }
    zstr_free(&empty), zstr_free(&proto), zstr_free(&cmd), zstr_free(&id);
    zmsg_destroy(&msg);
}

static void s_expire(zhashx_t *pending, int all)
{
    int64_t now = bx_mono_ms();
    zlistx_t *keys = zhashx_keys(pending);
    for (const char *id = zlistx_first(keys); id; id = zlistx_next(keys)) {
        s_pending_t *p = zhashx_lookup(pending, id);
        if (p && (all || now >= p->deadline))
            s_resume(pending, id, p, FD_PIPE_TIMEOUT, 0);
    }
    zlistx_destroy(&keys);
}

static void s_on_monitor(zactor_t *monitor)
{
    zmsg_t *msg = zmsg_recv(monitor);
    char *event = msg ? zmsg_popstr(msg) : NULL;
    if (event && !strcmp(event, "CONNECTED"))
        atomic_store(&s_broker_connected, 1);
    else if (event && (!strcmp(event, "DISCONNECTED") || !strcmp(event, "CLOSED")))
        atomic_store(&s_broker_connected, 0);
    zstr_free(&event);
    zmsg_destroy(&msg);
}

static void s_free_pending(void **item)
{
    free(*item);
    *item = NULL;
}

static void s_actor_fn(zsock_t *pipe, void *args)
{
    (void)args;
    zsock_t *pull = zsock_new_pull("@" S_INPROC);
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    zactor_t *monitor = zactor_new(zmonitor, dealer);
    zhashx_t *pending = zhashx_new();
    zhashx_set_destructor(pending, s_free_pending);
    zstr_sendx(monitor, "LISTEN", "CONNECTED", "DISCONNECTED", "CLOSED", NULL);
    zstr_send(monitor, "START");
    zsock_wait(monitor);
    char identity[48] = "fd-";
    bx_uuid_v7(identity + 3);
    zsock_set_identity(dealer, identity); /* replies find us again after a reconnect */
    zsock_set_sndhwm(dealer, (int)bx_config_int("broker_queue_max"));
    zsock_set_linger(dealer, 0);
    zsock_connect(dealer, "%s", bx_config_str("broker_endpoint"));
    zpoller_t *poller = zpoller_new(pipe, pull, dealer, monitor, NULL);
    zsock_signal(pipe, 0);
    int running = 1;
    while (running) {
        void *which = zpoller_wait(poller, 20);
        if (which == pipe)
            running = 0; /* $TERM */
        else if (which == pull)
            s_on_submit(pull, dealer, pending);
        else if (which == dealer)
            s_on_broker(dealer, pending);
        else if (which == monitor)
            s_on_monitor(monitor);
        s_expire(pending, !running);
        if (zpoller_terminated(poller))
            running = 0;
    }
    s_expire(pending, 1);
    zpoller_destroy(&poller);
    zactor_destroy(&monitor);
    zhashx_destroy(&pending);
    zsock_destroy(&dealer);
    zsock_destroy(&pull);
}

bx_err_t fd_pipeline_start(void)
{
    s_actor = zactor_new(s_actor_fn, NULL);
    return s_actor ? BX_OK : BX_EINTERNAL;
}

void fd_pipeline_stop(void)
{
    zactor_destroy(&s_actor);
}

int fd_pipeline_broker_up(void)
{
    return atomic_load(&s_broker_connected);
}

bx_err_t fd_pipeline_send(fd_req_t *req, const char *service, const char *route_key,
                          const char *payload)
{
    char tp[64], wait[16];
    if (!req->t->push) {
        req->t->push = zsock_new_push(">" S_INPROC);
        if (!req->t->push)
            return BX_EUNAVAILABLE;
    }
    snprintf(tp, sizeof tp, "00-%s-%s-01", req->trace_id, req->span_id);
    snprintf(wait, sizeof wait, "%d", req->wait_ms);
    MHD_suspend_connection(req->conn);
    req->state = FD_ST_SUSPENDED;
    req->t->suspended = 1;
    /* After this send the pipeline thread owns req until it resumes the connection; the
     * handler thread only looks at its own t->suspended from here on. */
    if (zsock_send(req->t->push, "sssssps", req->pipe_id, service, route_key ? route_key : "", tp,
                   payload, req, wait) != 0) {
        req->pipe = FD_PIPE_NAK;
        req->retry_after = 1;
        req->state = FD_ST_RESUMED;
        MHD_resume_connection(req->conn);
    }
    return BX_OK;
}
