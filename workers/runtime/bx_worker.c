/* bx_worker: the worker runtime's main thread: the DEALER link to the broker (READY,
 * heartbeats, Paranoid-Pirate reconnects with backoff), hand-off of REQUESTs to idle
 * executors (one at a time, or in batch mode queued per executor by key and handed over
 * in batches), forwarding of their REPLY/RELEASE, and the drain on SIGTERM. */
#include "bx_worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_metrics.h"
#include "bx_util.h"
#include "bx_worker_int.h"

#define S_BACKOFF_MIN_MS   1000  /* first reconnect delay after the broker went silent */
#define S_BACKOFF_MAX_MS   32000 /* the delay doubles up to this */
#define S_BACKLOG_MAX      1024  /* REQUESTs held while every executor is busy */
#define S_DRAIN_DEFAULT_MS 30000

typedef struct {
    zactor_t *actor; /* the executor thread */
    int busy;        /* running a job (or a batch) */
    zlist_t *queue;  /* batch mode: zmsg_t [client, id, traceparent] waiting for it (owned) */
    int njobs;       /* batch mode: jobs in the batch it runs */
} s_slot_t;

struct bx_worker {
    bx_worker_cfg_t cfg;    /* resolved options; executors read it */
    s_slot_t *slots;        /* cfg.credit executors */
    zlist_t *backlog;       /* zmsg_t ["JOB", ...] waiting for an executor (owned) */
    zsock_t *dealer;        /* link to the broker; NULL between reconnects */
    int64_t heard_ms;       /* last message from the broker */
    int64_t connected_ms;   /* when the current dealer registered */
    int64_t heartbeat_at;   /* next HEARTBEAT */
    int64_t reconnect_at;   /* when dealer is NULL: next connect */
    int backoff_ms;         /* next reconnect delay */
    int draining;           /* SIGTERM seen */
    int dismissed;          /* the broker answered our DRAIN with DISCONNECT */
    int64_t drain_deadline; /* when a drain gives up on running jobs */
    int64_t tick_at;        /* next cfg.tick */
    bx_series_t *m_busy;    /* bx_worker_busy_executors{service} */
    bx_series_t *m_lost;    /* bx_worker_broker_lost_total{service} */
    zpoller_t *poller;      /* executors and dealer; destroyed whenever dealer changes */
};

/* ---- configuration ---- */

static int s_pick(int v, const char *key)
{
    return v > 0 ? v : (int)bx_config_int(key);
}

static bx_err_t s_cfg_init(bx_worker_cfg_t *cfg, const bx_worker_opts_t *o)
{
    if (!o || (!o->handler && !o->tick) || !bx_wire_service_valid(o->service))
        return BX_EINVAL;
    bx_strlcpy(cfg->service, o->service, sizeof cfg->service);
    cfg->handler = o->handler;
    cfg->endpoint = strdup(o->endpoint ? o->endpoint : bx_config_str("broker_endpoint"));
    cfg->pg_dsn = strdup(o->pg_dsn ? o->pg_dsn : bx_config_str("pg_dsn"));
    cfg->credit = o->handler ? s_pick(o->credit, "worker_credit") : 0;
    cfg->heartbeat_ms = s_pick(o->heartbeat_ms, "heartbeat_ms");
    cfg->liveness = s_pick(o->liveness, "heartbeat_liveness");
    cfg->lease_s = s_pick(o->lease_s, "request_lease_s");
    cfg->drain_timeout_ms = o->drain_timeout_ms > 0 ? o->drain_timeout_ms : S_DRAIN_DEFAULT_MS;
    cfg->thread_init = o->thread_init;
    cfg->thread_fini = o->thread_fini;
    cfg->arg = o->arg;
    cfg->tick = o->tick;
    cfg->tick_ms = s_pick(o->tick_ms, "scheduler_tick_ms");
    cfg->metrics_port = o->metrics_port < 0 ? 0 : s_pick(o->metrics_port, "metrics_port");
    cfg->batch_max = o->handler && o->batch_max > 0 ? o->batch_max : 0;
    cfg->batch_key = o->batch_key;
    cfg->batch_begin = o->batch_begin;
    cfg->batch_end = o->batch_end;
    cfg->batch_done = o->batch_done;
    if (!cfg->endpoint || !cfg->pg_dsn)
        return BX_ENOMEM;
    if (cfg->batch_max > BX_WORKER_BATCH_MAX)
        return BX_EINVAL;
    return cfg->credit <= BX_WIRE_CREDIT_MAX ? BX_OK : BX_EINVAL;
}

/* ---- life cycle ---- */

bx_worker_t *bx_worker_new(const bx_worker_opts_t *opts)
{
    bx_worker_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    bx_err_t rc = s_cfg_init(&self->cfg, opts);
    if (rc == BX_OK &&
        (!(self->slots = calloc((size_t)self->cfg.credit + 1, sizeof *self->slots)) ||
         !(self->backlog = zlist_new())))
        rc = BX_ENOMEM;
    /* executors must not take SIGTERM/SIGINT: the flag is for the polling thread */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    for (int i = 0; rc == BX_OK && i < self->cfg.credit; i++) {
        if (self->cfg.batch_max && !(self->slots[i].queue = zlist_new()))
            rc = BX_ENOMEM;
        if (rc == BX_OK && !(self->slots[i].actor = zactor_new(bx_worker_executor, &self->cfg)))
            rc = BX_EINTERNAL;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != BX_OK) {
        BX_ERROR("could not create worker: %s", bx_err_str(rc));
        bx_worker_destroy(&self);
        return NULL;
    }
    self->backoff_ms = S_BACKOFF_MIN_MS;
    self->m_busy = bx_metric_series(
        bx_metrics_gauge("bx_worker_busy_executors", "Executor threads running a job.", "service"),
        self->cfg.service);
    self->m_lost = bx_metric_series(
        bx_metrics_counter("bx_worker_broker_lost_total",
                           "Times the broker went silent and the socket was reopened.", "service"),
        self->cfg.service);
    return self;
}

void bx_worker_destroy(bx_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bx_worker_t *self = *self_p;
    for (int i = 0; self->slots && i < self->cfg.credit; i++) {
        if (!self->slots[i].busy) /* a busy one (drain timed out) is left to process exit */
            zactor_destroy(&self->slots[i].actor);
        while (self->slots[i].queue && zlist_size(self->slots[i].queue)) {
            zmsg_t *msg = zlist_pop(self->slots[i].queue);
            zmsg_destroy(&msg);
        }
        zlist_destroy(&self->slots[i].queue);
    }
    while (self->backlog && zlist_size(self->backlog)) {
        zmsg_t *msg = zlist_pop(self->backlog);
        zmsg_destroy(&msg);
    }
    zlist_destroy(&self->backlog);
    zpoller_destroy(&self->poller);
    zsock_destroy(&self->dealer);
    free(self->slots);
    free(self->cfg.endpoint);
    free(self->cfg.pg_dsn);
    free(self);
    *self_p = NULL;
}

/* ---- the broker link ---- */

static void s_send(bx_worker_t *self, bx_wire_cmd_t cmd)
{
    bx_wire_msg_t m = {.cmd = cmd};
    if (self->dealer)
        (void)bx_wire_send(zsock_resolve(self->dealer), &m);
}

static int s_idle(const bx_worker_t *self)
{
    int n = 0;
    for (int i = 0; i < self->cfg.credit; i++)
        n += !self->slots[i].busy;
    return n;
}

/* Batch mode: the jobs we can hold at once (the credit granted at READY). */
static long s_capacity(const bx_worker_t *self)
{
    long cap = (long)self->cfg.credit * self->cfg.batch_max;
    cap = cap > BX_WIRE_CREDIT_MAX ? BX_WIRE_CREDIT_MAX : cap;
    return cap > S_BACKLOG_MAX ? S_BACKLOG_MAX : cap;
}

/* Batch mode: jobs received and not answered yet (queued or running). */
static long s_held(const bx_worker_t *self)
{
    long n = 0;
    for (int i = 0; i < self->cfg.credit; i++)
        n += (long)zlist_size(self->slots[i].queue) + self->slots[i].njobs;
    return n;
}

/* Jobs waiting for an executor. */
static size_t s_waiting(const bx_worker_t *self)
{
    size_t n = zlist_size(self->backlog);
    for (int i = 0; self->cfg.batch_max && i < self->cfg.credit; i++)
        n += zlist_size(self->slots[i].queue);
    return n;
}

/* Opens a fresh DEALER and registers: the credit is what we can take right now, so jobs
 * still running from the last connection reply later and return their own credit. */
static void s_drop_dealer(bx_worker_t *self)
{
    zpoller_destroy(&self->poller);
    zsock_destroy(&self->dealer);
}

static void s_connect(bx_worker_t *self)
{
    s_drop_dealer(self);
    self->dealer = zsock_new(ZMQ_DEALER);
    if (!self->dealer || zsock_connect(self->dealer, "%s", self->cfg.endpoint) != 0) {
        BX_ERROR("could not connect to broker %s", self->cfg.endpoint);
        s_drop_dealer(self);
        self->reconnect_at = bx_mono_ms() + self->backoff_ms;
        return;
    }
    zsock_set_linger(self->dealer, 1000);
    zsock_set_sndtimeo(self->dealer, 0);
    long credit = self->cfg.batch_max ? s_capacity(self) - s_held(self)
                                      : s_idle(self) - (long)zlist_size(self->backlog);
    bx_wire_msg_t m = {.cmd = BX_WIRE_CMD_READY, .credit = credit < 0 ? 0 : credit};
    bx_strlcpy(m.service, self->cfg.service, sizeof m.service);
    (void)bx_wire_send(zsock_resolve(self->dealer), &m);
    self->heard_ms = self->connected_ms = bx_mono_ms();
    self->heartbeat_at = self->heard_ms + self->cfg.heartbeat_ms;
    BX_INFO("registered with broker %s for %s, credit %ld", self->cfg.endpoint, self->cfg.service,
            m.credit);
}

/* The broker has been silent for liveness heartbeats: drop the socket and come back after
 * the backoff, which doubles up to 32 s until the broker is heard again. */
static void s_reconnect_later(bx_worker_t *self)
{
    s_drop_dealer(self);
    self->reconnect_at = bx_mono_ms() + self->backoff_ms;
    self->backoff_ms =
        self->backoff_ms * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : self->backoff_ms * 2;
}

static void s_broker_lost(bx_worker_t *self, const char *why)
{
    BX_WARN("broker %s: %s; reconnecting in %d ms", self->cfg.endpoint, why, self->backoff_ms);
    bx_counter_inc(self->m_lost);
    s_reconnect_later(self);
}

/* ---- jobs ---- */

/* Batch mode: hands every idle executor what is queued for it, up to batch_max jobs. */
static void s_feed_batches(bx_worker_t *self)
{
    for (int i = 0; i < self->cfg.credit; i++) {
        s_slot_t *slot = &self->slots[i];
        if (slot->busy || !zlist_size(slot->queue))
            continue;
        zmsg_t *batch = zmsg_new();
        int n = 0;
        zmsg_addstr(batch, "BATCH");
        for (zmsg_t *job; n < self->cfg.batch_max && (job = zlist_pop(slot->queue)); n++) {
            zframe_t *f;
            while ((f = zmsg_pop(job)))
                zmsg_append(batch, &f);
            zmsg_destroy(&job);
        }
        if (zmsg_send(&batch, slot->actor) == 0) {
            slot->busy = 1;
            slot->njobs = n;
        } else {
            zmsg_destroy(&batch); /* cannot happen on inproc; the jobs' leases bring them back */
        }
    }
}

/* Gives queued jobs to idle executors. */
static void s_feed(bx_worker_t *self)
{
    if (self->cfg.batch_max) {
        s_feed_batches(self);
        return;
    }
    for (int i = 0; i < self->cfg.credit && zlist_size(self->backlog); i++) {
        if (self->slots[i].busy)
            continue;
        zmsg_t *job = zlist_pop(self->backlog);
        if (zmsg_send(&job, self->slots[i].actor) == 0)
            self->slots[i].busy = 1;
        else
            zmsg_destroy(&job);
    }
}

/* FNV-1a of a batch key: which executor owns it. */
static unsigned s_key_slot(const bx_worker_t *self, const char *key)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % (unsigned)self->cfg.credit;
}

/* The executor queue a batch-mode job goes to, or NULL when we hold all we granted. */
static zlist_t *s_batch_queue(bx_worker_t *self, bx_wire_msg_t *m)
{
    char key[BX_WIRE_ROUTE_MAX + 1] = "";
    if (s_held(self) >= s_capacity(self))
        return NULL;
    if (self->cfg.batch_key && m->body)
        self->cfg.batch_key((const char *)zframe_data(m->body), zframe_size(m->body), key,
                            sizeof key);
    return self->slots[s_key_slot(self, key)].queue;
}

static void s_on_request(bx_worker_t *self, bx_wire_msg_t *m)
{
    zlist_t *queue = self->cfg.batch_max ? s_batch_queue(self, m) : self->backlog;
    zmsg_t *job = zmsg_new();
    if (!self->cfg.batch_max)
        zmsg_addstr(job, "JOB");
    zmsg_append(job, &m->client);
    zmsg_addstr(job, m->request_id);
    zmsg_addstr(job, m->traceparent);
    if (!queue || zlist_size(self->backlog) >= S_BACKLOG_MAX) {
        /* more than the credit we granted: hand it back, its lease brings it again */
        bx_wire_msg_t rel = {.cmd = BX_WIRE_CMD_RELEASE};
        bx_strlcpy(rel.request_id, m->request_id, sizeof rel.request_id);
        (void)bx_wire_send(zsock_resolve(self->dealer), &rel);
        zmsg_destroy(&job);
        return;
    }
    zlist_append(queue, job);
    s_feed(self);
}

/* DISCONNECT ends a drain. Otherwise the broker does not know us (it restarted): register
 * again at once, or after the backoff when it turned us away right after we registered (a
 * stopping or full broker), so that we never spin. */
static void s_on_disconnect(bx_worker_t *self)
{
    if (self->draining) {
        self->dismissed = 1;
        return;
    }
    int64_t now = bx_mono_ms();
    int turned_away = now - self->connected_ms < (int64_t)self->cfg.heartbeat_ms;
    BX_INFO("broker asked us to register again%s", turned_away ? " (after a backoff)" : "");
    if (!turned_away) {
        s_connect(self);
        return;
    }
    s_reconnect_later(self);
}

static void s_on_broker(bx_worker_t *self)
{
    zmsg_t *msg = zmsg_recv(self->dealer);
    bx_wire_msg_t m = {0};
    char why[128];
    if (bx_wire_decode(&msg, 0, &m, why, sizeof why) != BX_OK) {
        BX_WARN("refused message from broker: %s", why);
        goto out;
    }
    self->heard_ms = bx_mono_ms();
    if (m.cmd == BX_WIRE_CMD_REQUEST || m.cmd == BX_WIRE_CMD_HEARTBEAT)
        self->backoff_ms = S_BACKOFF_MIN_MS;
    if (m.cmd == BX_WIRE_CMD_REQUEST)
        s_on_request(self, &m);
    else if (m.cmd == BX_WIRE_CMD_DISCONNECT)
        s_on_disconnect(self);
    else if (m.cmd != BX_WIRE_CMD_HEARTBEAT) {
        BX_WARN("unexpected %s from broker", bx_wire_cmd_name(m.cmd));
    }
out:
    bx_wire_msg_reset(&m);
}

/* Batch mode: ["BATCH", one encoded REPLY or RELEASE per job]. */
static void s_forward_batch(bx_worker_t *self, zmsg_t *msg)
{
    char *cmd = zmsg_popstr(msg);
    zframe_t *f;
    while ((f = zmsg_pop(msg))) {
        zmsg_t *out = zframe_size(f) ? zmsg_decode(f) : NULL;
        if (out && self->dealer)
            zmsg_send(&out, self->dealer);
        zmsg_destroy(&out);
        zframe_destroy(&f);
    }
    zstr_free(&cmd);
}

/* An executor finished: its message is a ready-made REPLY or RELEASE for the broker (or, in
 * batch mode, one per job of its batch). */
static void s_on_executor(bx_worker_t *self, int i)
{
    zmsg_t *msg = zmsg_recv(self->slots[i].actor);
    self->slots[i].busy = 0;
    self->slots[i].njobs = 0;
    if (msg && self->cfg.batch_max)
        s_forward_batch(self, msg);
    else if (msg && zmsg_size(msg) > 0 && self->dealer)
        zmsg_send(&msg, self->dealer);
    zmsg_destroy(&msg);
    s_feed(self);
}

/* ---- the loop ---- */

static void s_gauges(bx_worker_t *self)
{
    bx_gauge_set(self->m_busy, (double)(self->cfg.credit - s_idle(self)));
}

static void s_timers(bx_worker_t *self)
{
    int64_t now = bx_mono_ms();
    if (self->cfg.tick && !self->draining && now >= self->tick_at) {
        self->cfg.tick(self->cfg.arg);
        now = bx_mono_ms();
        self->tick_at = now + self->cfg.tick_ms;
    }
    if (self->dealer && now - self->heard_ms > (int64_t)self->cfg.heartbeat_ms * self->cfg.liveness)
        s_broker_lost(self, "silent");
    if (self->dealer && now >= self->heartbeat_at) {
        s_send(self, BX_WIRE_CMD_HEARTBEAT);
        self->heartbeat_at = now + self->cfg.heartbeat_ms;
    }
    if (!self->dealer && !self->draining && now >= self->reconnect_at)
        s_connect(self);
}

static void s_begin_drain(bx_worker_t *self)
{
    self->draining = 1;
    self->drain_deadline = bx_mono_ms() + self->cfg.drain_timeout_ms;
    s_send(self, BX_WIRE_CMD_DRAIN);
    BX_INFO("draining: %d executors busy, %zu jobs waiting", self->cfg.credit - s_idle(self),
            s_waiting(self));
}

/* Drained when nothing runs or waits and the broker let us go (or is gone). */
static int s_drained(bx_worker_t *self)
{
    if (!self->draining || s_idle(self) < self->cfg.credit || s_waiting(self))
        return 0;
    return self->dismissed || !self->dealer;
}

/* The poller over the executors and the current dealer (rebuilt after s_drop_dealer). */
static zpoller_t *s_poller(bx_worker_t *self)
{
    if (self->poller)
        return self->poller;
    self->poller = zpoller_new(NULL);
    if (!self->poller)
        return NULL;
    zpoller_set_nonstop(self->poller, true);
    for (int i = 0; i < self->cfg.credit; i++)
        zpoller_add(self->poller, self->slots[i].actor);
    if (self->dealer)
        zpoller_add(self->poller, self->dealer);
    return self->poller;
}

static void s_dispatch_ready(bx_worker_t *self, void *which)
{
    if (self->dealer && which == self->dealer) {
        while (self->dealer && (zsock_events(self->dealer) & ZMQ_POLLIN))
            s_on_broker(self);
        return;
    }
    for (int i = 0; i < self->cfg.credit; i++)
        if (which == self->slots[i].actor)
            s_on_executor(self, i);
}

/* Poll no longer than a quarter heartbeat, or until the next tick. */
static int s_timeout(bx_worker_t *self)
{
    int64_t t = self->cfg.heartbeat_ms / 4 + 1;
    if (self->cfg.tick && !self->draining) {
        int64_t to_tick = self->tick_at - bx_mono_ms();
        t = to_tick < t ? to_tick : t;
    }
    return t < 0 ? 0 : (int)t;
}

int bx_worker_run(bx_worker_t *self, volatile sig_atomic_t *stop)
{
    bx_metrics_server_t *metrics = NULL;
    if (self->cfg.metrics_port > 0 &&
        !(metrics = bx_metrics_serve(bx_config_str("metrics_bind"), self->cfg.metrics_port)))
        return -1;
    s_connect(self);
    while (!s_drained(self)) {
        if (stop && *stop && !self->draining)
            s_begin_drain(self);
        if (self->draining && bx_mono_ms() >= self->drain_deadline) {
            BX_ERROR("drain timed out with %d jobs running", self->cfg.credit - s_idle(self));
            bx_metrics_server_destroy(&metrics);
            return -1;
        }
        zpoller_t *poller = s_poller(self);
        void *which = poller ? zpoller_wait(poller, s_timeout(self)) : NULL;
        if (which)
            s_dispatch_ready(self, which);
        s_timers(self);
        s_gauges(self);
    }
    s_send(self, BX_WIRE_CMD_DISCONNECT);
    bx_metrics_server_destroy(&metrics);
    BX_INFO("drained: exiting");
    return 0;
}

/* ---- process helpers ---- */

static volatile sig_atomic_t *s_flag;

static void s_on_signal(int sig)
{
    (void)sig;
    if (s_flag)
        *s_flag = 1;
}

void bx_worker_signals(volatile sig_atomic_t *flag)
{
    struct sigaction sa;
    sigset_t set, old;
    s_flag = flag;
    zsys_handler_set(NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    zsys_init();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

bx_err_t bx_worker_boot(const char *svc)
{
    zsys_handler_set(NULL); /* czmq must not install its own SIGINT/SIGTERM handler */
    if (bx_config_load() != BX_OK)
        return BX_EINVAL;
    bx_log_init(svc, bx_log_threshold);
    bx_config_log();
    return BX_OK;
}

int bx_worker_main(const char *svc, const bx_worker_opts_t *opts)
{
    static volatile sig_atomic_t stop;
    if (bx_worker_boot(svc) != BX_OK)
        return 2;
    bx_worker_signals(&stop);
    bx_worker_t *worker = bx_worker_new(opts);
    if (!worker)
        return 1;
    int rc = bx_worker_run(worker, &stop);
    if (rc == 0)
        bx_worker_destroy(&worker);
    zsys_shutdown();
    return rc == 0 ? 0 : 1;
}
