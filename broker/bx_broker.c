/* bx_broker: service registry, credit dispatch, heartbeats, requeue of dead workers' jobs,
 * bounded queues, route-key affinity and metrics of the BXP/1 broker. */
#include "bx_broker.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_metrics.h"
#include "bx_util.h"
#include "bx_wire.h"

#define S_SERVICES_MAX  256       /* distinct services tracked; more are refused */
#define S_WORKERS_MAX   4096      /* registered workers; more are told DISCONNECT */
#define S_VNODES        64        /* points per worker on a service's affinity ring */
#define S_RECV_BATCH    512       /* messages handled per wake-up before timers run */
#define S_SOCK_HWM      100000    /* ZeroMQ high-water mark of the ROUTER, both ways */
#define S_RETRY_NO_RATE 5         /* retry_after_s when no reply was seen recently */
#define S_RETRY_MAX     60        /* cap of the retry_after_s estimate */
#define S_NBUCKETS      14        /* latency histogram buckets (+Inf is implicit) */
#define S_METRICS_MAX   (4 << 20) /* cap of the metrics text */

static const double s_bucket_s[S_NBUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};

typedef struct s_job s_job_t;
typedef struct s_worker s_worker_t;
typedef struct s_service s_service_t;

/* An intrusive FIFO of jobs: a job is on at most one list at a time. */
typedef struct {
    s_job_t *head; /* oldest job */
    s_job_t *tail; /* newest job */
    size_t n;      /* length */
} s_list_t;

struct s_job {
    s_job_t *prev, *next;                    /* links on the list the job is on */
    s_list_t *on;                            /* that list, or NULL */
    char id[BX_WIRE_ID_MAX + 1];             /* request id: the dedupe key */
    char route_key[BX_WIRE_ROUTE_MAX + 1];   /* affinity key, "" for none */
    char traceparent[BX_WIRE_TRACE_LEN + 1]; /* passed through to the worker */
    zframe_t *client;                        /* routing id of the submitting client */
    zframe_t *payload;                       /* opaque payload */
    s_service_t *service;                    /* owning service */
    s_worker_t *worker;                      /* worker holding it; NULL while queued */
    int64_t queued_ms;                       /* monotonic time it was last queued */
    int64_t dispatched_ms;                   /* monotonic time of the last REQUEST */
};

typedef struct {
    uint64_t buckets[S_NBUCKETS]; /* non-cumulative counts per upper bound */
    uint64_t count;               /* observations, including those above the last bound */
    double sum;                   /* seconds */
} s_hist_t;

struct s_worker {
    char key[2 * BX_WIRE_PEER_MAX + 1]; /* hex of the routing id: the registry key */
    zframe_t *identity;                 /* routing id */
    s_service_t *service;               /* what it serves */
    long credit;                        /* jobs it will still take */
    int draining;                       /* sent DRAIN: gets nothing new */
    int64_t expiry_ms;                  /* dead when the monotonic clock passes this */
    s_list_t inflight;                  /* jobs sent to it, in dispatch order */
    s_list_t backlog;                   /* keyed jobs it owns, waiting for its credit */
};

typedef struct {
    uint64_t point;    /* position on the ring */
    s_worker_t *owner; /* worker owning the arc that ends here */
} s_vnode_t;

struct s_service {
    char name[BX_WIRE_SERVICE_MAX + 1]; /* service name */
    s_list_t queue;                     /* unkeyed jobs, and keyed ones while no live worker */
    s_worker_t **workers;               /* registered workers, draining ones included */
    size_t nworkers, capworkers;        /* used and allocated slots */
    s_vnode_t *ring;                    /* consistent-hash ring over live workers, sorted */
    size_t nring;                       /* points on the ring */
    size_t rr;                          /* round-robin start of the next dispatch pass */
    uint64_t submitted, duplicates, dispatched, replied, requeued, nak, released, expired;
    s_hist_t wait;                /* queued -> dispatched */
    s_hist_t busy;                /* dispatched -> replied */
    uint64_t rate_now;            /* replies in the current second */
    uint64_t rate_last;           /* replies in the last full second */
    bx_series_t *m_wait, *m_busy; /* the histograms in the process registry */
};

struct bx_broker {
    bx_broker_opts_t opts;                 /* options; endpoint points at our copy */
    char *endpoint;                        /* owned copy of the endpoint */
    zsock_t *router;                       /* the one socket */
    s_service_t *services[S_SERVICES_MAX]; /* registry, in creation order */
    size_t nservices;                      /* used slots */
    zhashx_t *workers;                     /* hex routing id -> s_worker_t */
    zhashx_t *jobs;                        /* request id -> s_job_t, queued or in flight */
    int64_t heartbeat_at;                  /* next heartbeat, monotonic ms */
    int64_t rate_at;                       /* next reply-rate rollover */
    int stopping;                          /* refusing new work, awaiting replies */
    int terminated;                        /* leave the loop now */
    int64_t stop_deadline;                 /* when the drain gives up */
    uint64_t malformed;                    /* messages refused by the decoder */
    uint64_t unroutable;                   /* answers for clients that are gone */
};

/* ---- job lists ---- */

static void s_list_push(s_list_t *l, s_job_t *j, int front)
{
    j->on = l;
    j->prev = front ? NULL : l->tail;
    j->next = front ? l->head : NULL;
    if (front) {
        if (l->head)
            l->head->prev = j;
        l->head = j;
        if (!l->tail)
            l->tail = j;
    } else {
        if (l->tail)
            l->tail->next = j;
        l->tail = j;
        if (!l->head)
            l->head = j;
    }
    l->n++;
}

static void s_list_remove(s_job_t *j)
{
    s_list_t *l = j->on;
    if (!l)
        return;
    if (j->prev)
        j->prev->next = j->next;
    else
        l->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        l->tail = j->prev;
    l->n--;
    j->prev = j->next = NULL;
    j->on = NULL;
}

static s_job_t *s_list_pop(s_list_t *l, int from_tail)
{
    s_job_t *j = from_tail ? l->tail : l->head;
    if (j)
        s_list_remove(j);
    return j;
}

/* Moves every job of src to the end of dst, keeping their order. */
static void s_list_move_all(s_list_t *dst, s_list_t *src)
{
    s_job_t *j;
    while ((j = s_list_pop(src, 0)))
        s_list_push(dst, j, 0);
}

/* ---- jobs ---- */

static void s_job_destroy(bx_broker_t *self, s_job_t **job_p)
{
    s_job_t *job = *job_p;
    if (!job)
        return;
    s_list_remove(job);
    if (zhashx_lookup(self->jobs, job->id) == job)
        zhashx_delete(self->jobs, job->id);
    zframe_destroy(&job->client);
    zframe_destroy(&job->payload);
    free(job);
    *job_p = NULL;
}

/* ---- histograms ---- */

static void s_hist_observe(s_hist_t *h, bx_series_t *series, int64_t ms)
{
    double s = (double)(ms < 0 ? 0 : ms) / 1000.0;
    bx_histogram_observe(series, s);
    for (int i = 0; i < S_NBUCKETS; i++)
        if (s <= s_bucket_s[i]) {
            h->buckets[i]++;
            break;
        }
    h->count++;
    h->sum += s;
}

/* ---- the affinity ring ---- */

/* FNV-1a over data, then the splitmix64 finalizer so that close keys spread. */
static uint64_t s_hash(const void *data, size_t n, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static int s_vnode_cmp(const void *a, const void *b)
{
    uint64_t x = ((const s_vnode_t *)a)->point, y = ((const s_vnode_t *)b)->point;
    return x < y ? -1 : x > y;
}

/* Rebuilds the ring over the service's live (not draining) workers. On allocation failure
 * the ring is left empty: keyed jobs then simply go to any worker. */
static void s_ring_build(s_service_t *svc)
{
    size_t live = 0;
    for (size_t i = 0; i < svc->nworkers; i++)
        live += !svc->workers[i]->draining;
    free(svc->ring);
    svc->ring = live ? calloc(live * S_VNODES, sizeof *svc->ring) : NULL;
    svc->nring = 0;
    for (size_t i = 0; svc->ring && i < svc->nworkers; i++) {
        s_worker_t *w = svc->workers[i];
        if (w->draining)
            continue;
        for (uint64_t v = 0; v < S_VNODES; v++) {
            zframe_t *id = w->identity;
            svc->ring[svc->nring].point = s_hash(zframe_data(id), zframe_size(id), v + 1);
            svc->ring[svc->nring++].owner = w;
        }
    }
    if (svc->nring)
        qsort(svc->ring, svc->nring, sizeof *svc->ring, s_vnode_cmp);
}

/* The live worker owning key: the first ring point at or after the key's hash. */
static s_worker_t *s_ring_owner(const s_service_t *svc, const char *key)
{
    if (!svc->nring || !key[0])
        return NULL;
    uint64_t h = s_hash(key, strlen(key), 0);
    size_t lo = 0, hi = svc->nring;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (svc->ring[mid].point < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return svc->ring[lo == svc->nring ? 0 : lo].owner;
}

/* ---- queues ---- */

static size_t s_queued(const s_service_t *svc)
{
    size_t n = svc->queue.n;
    for (size_t i = 0; i < svc->nworkers; i++)
        n += svc->workers[i]->backlog.n;
    return n;
}

static size_t s_inflight(const s_service_t *svc)
{
    size_t n = 0;
    for (size_t i = 0; i < svc->nworkers; i++)
        n += svc->workers[i]->inflight.n;
    return n;
}

static size_t s_live_workers(const s_service_t *svc)
{
    size_t n = 0;
    for (size_t i = 0; i < svc->nworkers; i++)
        n += !svc->workers[i]->draining;
    return n;
}

/* Queues job: a keyed job goes to the backlog of the worker owning its key, anything else
 * to the service queue; front for requeued jobs, so they go out first. */
static void s_enqueue(s_service_t *svc, s_job_t *job, int front)
{
    s_worker_t *owner = s_ring_owner(svc, job->route_key);
    job->worker = NULL;
    job->queued_ms = bx_mono_ms();
    s_list_push(owner ? &owner->backlog : &svc->queue, job, front);
}

/* After the ring changed: every keyed job moves to its key's current owner. All jobs of one
 * key sit on one list, so their order is kept. */
static void s_rebalance(s_service_t *svc)
{
    s_list_t keyed = {0};
    for (s_job_t *j = svc->queue.head, *next; j; j = next) {
        next = j->next;
        if (j->route_key[0]) {
            s_list_remove(j);
            s_list_push(&keyed, j, 0);
        }
    }
    for (size_t i = 0; i < svc->nworkers; i++)
        s_list_move_all(&keyed, &svc->workers[i]->backlog);
    s_job_t *j;
    while ((j = s_list_pop(&keyed, 0))) {
        int64_t since = j->queued_ms;
        s_enqueue(svc, j, 0);
        j->queued_ms = since;
    }
}

/* ---- services ---- */

static s_service_t *s_service_find(bx_broker_t *self, const char *name)
{
    for (size_t i = 0; i < self->nservices; i++)
        if (!strcmp(self->services[i]->name, name))
            return self->services[i];
    return NULL;
}

/* Finds or creates the service; NULL when the registry is full or memory ran out. */
static s_service_t *s_service_get(bx_broker_t *self, const char *name)
{
    s_service_t *svc = s_service_find(self, name);
    if (svc || self->nservices == S_SERVICES_MAX)
        return svc;
    svc = calloc(1, sizeof *svc);
    if (!svc)
        return NULL;
    bx_strlcpy(svc->name, name, sizeof svc->name);
    svc->m_wait = bx_metric_series(
        bx_metrics_histogram("bx_broker_dispatch_latency_seconds",
                             "Time a job waited in the queue before it was sent to a worker.",
                             "service", NULL, 0),
        name);
    svc->m_busy =
        bx_metric_series(bx_metrics_histogram("bx_broker_service_latency_seconds",
                                              "Time from sending a job to a worker to its reply.",
                                              "service", NULL, 0),
                         name);
    self->services[self->nservices++] = svc;
    BX_INFO("service %s created", name);
    return svc;
}

static void s_service_destroy(bx_broker_t *self, s_service_t *svc)
{
    s_job_t *j;
    while ((j = s_list_pop(&svc->queue, 0)))
        s_job_destroy(self, &j);
    free(svc->workers);
    free(svc->ring);
    free(svc);
}

static int s_service_add_worker(s_service_t *svc, s_worker_t *w)
{
    if (svc->nworkers == svc->capworkers) {
        size_t cap = svc->capworkers ? svc->capworkers * 2 : 8;
        s_worker_t **grown = realloc(svc->workers, cap * sizeof *grown);
        if (!grown)
            return -1;
        svc->workers = grown;
        svc->capworkers = cap;
    }
    svc->workers[svc->nworkers++] = w;
    return 0;
}

static void s_service_remove_worker(s_service_t *svc, s_worker_t *w)
{
    for (size_t i = 0; i < svc->nworkers; i++)
        if (svc->workers[i] == w) {
            memmove(&svc->workers[i], &svc->workers[i + 1],
                    (svc->nworkers - i - 1) * sizeof *svc->workers);
            svc->nworkers--;
            return;
        }
}

/* ---- sending ---- */

static bx_err_t s_send(bx_broker_t *self, bx_wire_msg_t *m, const zframe_t *to)
{
    m->peer = (zframe_t *)to; /* borrowed for the encode only */
    bx_err_t rc = bx_wire_send(self->router, m);
    m->peer = NULL;
    return rc;
}

static void s_send_cmd(bx_broker_t *self, const zframe_t *to, bx_wire_cmd_t cmd)
{
    bx_wire_msg_t m = {.cmd = cmd};
    (void)s_send(self, &m, to);
}

static void s_ack(bx_broker_t *self, const zframe_t *to, const char *id)
{
    bx_wire_msg_t m = {.cmd = BX_WIRE_CMD_ACK};
    bx_strlcpy(m.request_id, id, sizeof m.request_id);
    if (s_send(self, &m, to) != BX_OK)
        self->unroutable++;
}

static void s_nak(bx_broker_t *self, const zframe_t *to, const char *id, long retry_s,
                  const char *reason)
{
    bx_wire_msg_t m = {.cmd = BX_WIRE_CMD_NAK, .retry_after_s = retry_s};
    bx_strlcpy(m.request_id, id, sizeof m.request_id);
    bx_strlcpy(m.reason, reason, sizeof m.reason);
    if (s_send(self, &m, to) != BX_OK)
        self->unroutable++;
}

/* Sends REPLY to a client; the body frame is borrowed. A client that is gone is counted:
 * it reads the result from PostgreSQL. */
static void s_reply(bx_broker_t *self, const zframe_t *to, const char *id, const char *status,
                    zframe_t *body)
{
    bx_wire_msg_t m = {.cmd = BX_WIRE_CMD_CREPLY, .body = body};
    bx_strlcpy(m.request_id, id, sizeof m.request_id);
    bx_strlcpy(m.status, status, sizeof m.status);
    if (!to || s_send(self, &m, to) != BX_OK) {
        self->unroutable++;
        BX_DEBUG("reply for %s dropped: client is gone", id);
    }
}

static bx_err_t s_send_request(bx_broker_t *self, s_worker_t *w, s_job_t *job)
{
    bx_wire_msg_t m = {.cmd = BX_WIRE_CMD_REQUEST, .client = job->client, .body = job->payload};
    bx_strlcpy(m.request_id, job->id, sizeof m.request_id);
    bx_strlcpy(m.traceparent, job->traceparent, sizeof m.traceparent);
    bx_err_t rc = s_send(self, &m, w->identity);
    m.client = m.body = NULL; /* borrowed */
    if (rc != BX_OK)
        return rc;
    int64_t now = bx_mono_ms();
    s_hist_observe(&w->service->wait, w->service->m_wait, now - job->queued_ms);
    job->dispatched_ms = now;
    job->worker = w;
    s_list_push(&w->inflight, job, 0);
    w->credit--;
    w->service->dispatched++;
    return BX_OK;
}

/* ---- workers ---- */

static s_worker_t *s_worker_find(bx_broker_t *self, const zframe_t *identity)
{
    char key[2 * BX_WIRE_PEER_MAX + 1];
    zframe_t *id = (zframe_t *)identity;
    if (!id || zframe_size(id) == 0 || zframe_size(id) > BX_WIRE_PEER_MAX)
        return NULL;
    bx_hex(zframe_data(id), zframe_size(id), key);
    return zhashx_lookup(self->workers, key);
}

/* Forgets w. Its in-flight jobs, then its backlog, go back to the FRONT of the queues
 * (in their order) for the remaining workers; the caller dispatches afterwards. */
static void s_purge(bx_broker_t *self, s_worker_t *w, const char *why)
{
    s_service_t *svc = w->service;
    s_list_t back = {0};
    size_t requeued = w->inflight.n;
    s_list_move_all(&back, &w->inflight);
    s_list_move_all(&back, &w->backlog);
    s_service_remove_worker(svc, w);
    s_ring_build(svc);
    s_rebalance(svc);
    s_job_t *j;
    while ((j = s_list_pop(&back, 1)))
        s_enqueue(svc, j, 1);
    svc->requeued += requeued;
    BX_INFO("worker %s of %s removed (%s): %zu in-flight jobs requeued", w->key, svc->name, why,
            requeued);
    zhashx_delete(self->workers, w->key);
    zframe_destroy(&w->identity);
    free(w);
}

/* Sends as much queued work as the service's workers have credit for, round robin; a
 * worker's own backlog (its keys) goes before the shared queue. */
static void s_dispatch(bx_broker_t *self, s_service_t *svc)
{
    int progress = 1;
    while (progress && !self->stopping) {
        progress = 0;
        size_t n = svc->nworkers;
        for (size_t i = 0; i < n; i++) {
            s_worker_t *w = svc->workers[(svc->rr + i) % n];
            if (w->draining || w->credit <= 0)
                continue;
            s_job_t *job = s_list_pop(w->backlog.head ? &w->backlog : &svc->queue, 0);
            if (!job)
                continue;
            progress = 1;
            if (s_send_request(self, w, job) != BX_OK) {
                s_enqueue(svc, job, 1);
                s_purge(self, w, "unreachable");
                break; /* the worker array changed */
            }
        }
        svc->rr++;
    }
}

/* A draining worker that holds nothing is told to go and forgotten. */
static void s_maybe_release_drained(bx_broker_t *self, s_worker_t *w)
{
    if (!w->draining || w->inflight.n)
        return;
    s_send_cmd(self, w->identity, BX_WIRE_CMD_DISCONNECT);
    s_purge(self, w, "drained");
}

/* ---- commands ---- */

static long s_retry_after(const s_service_t *svc)
{
    if (!svc->rate_last)
        return S_RETRY_NO_RATE;
    long s = (long)ceil((double)s_queued(svc) / (double)svc->rate_last);
    return s < 1 ? 1 : s > S_RETRY_MAX ? S_RETRY_MAX : s;
}

/* mmi.service: answers at once whether a service has live workers. */
static void s_on_mmi(bx_broker_t *self, bx_wire_msg_t *m)
{
    char name[BX_WIRE_SERVICE_MAX + 1] = "";
    char json[256];
    size_t n = m->body ? zframe_size(m->body) : 0;
    if (n < sizeof name) {
        memcpy(name, zframe_data(m->body), n);
        name[n] = '\0';
    }
    const s_service_t *svc = bx_wire_service_valid(name) ? s_service_find(self, name) : NULL;
    size_t live = svc ? s_live_workers(svc) : 0;
    snprintf(json, sizeof json,
             "{\"service\":\"%s\",\"workers\":%zu,\"queued\":%zu,\"inflight\":%zu}",
             bx_wire_service_valid(name) ? name : "", live, svc ? s_queued(svc) : 0,
             svc ? s_inflight(svc) : 0);
    zframe_t *body = zframe_new(json, strlen(json));
    s_reply(self, m->peer, m->request_id, live ? BX_WIRE_SUCCEEDED : BX_WIRE_FAILED, body);
    zframe_destroy(&body);
}

static void s_on_submit(bx_broker_t *self, bx_wire_msg_t *m, s_worker_t *w)
{
    (void)w;
    if (!strcmp(m->service, BX_SVC_MMI)) {
        s_on_mmi(self, m);
        return;
    }
    if (self->stopping) {
        s_nak(self, m->peer, m->request_id, 1, "broker is stopping");
        return;
    }
    s_job_t *dup = zhashx_lookup(self->jobs, m->request_id);
    if (dup) {
        dup->service->duplicates++;
        s_ack(self, m->peer, m->request_id);
        return;
    }
    s_service_t *svc = s_service_get(self, m->service);
    if (!svc) {
        s_nak(self, m->peer, m->request_id, S_RETRY_NO_RATE, "too many services");
        return;
    }
    if (s_queued(svc) >= (size_t)self->opts.queue_max) {
        svc->nak++;
        s_nak(self, m->peer, m->request_id, s_retry_after(svc), "queue full");
        return;
    }
    s_job_t *job = calloc(1, sizeof *job);
    if (!job) {
        s_nak(self, m->peer, m->request_id, 1, "out of memory");
        return;
    }
    bx_strlcpy(job->id, m->request_id, sizeof job->id);
    bx_strlcpy(job->route_key, m->route_key, sizeof job->route_key);
    bx_strlcpy(job->traceparent, m->traceparent, sizeof job->traceparent);
    job->client = zframe_dup(m->peer);
    job->payload = m->body;
    m->body = NULL;
    job->service = svc;
    zhashx_insert(self->jobs, job->id, job);
    svc->submitted++;
    s_enqueue(svc, job, 0);
    s_ack(self, m->peer, m->request_id);
    s_dispatch(self, svc);
}

static void s_on_ready(bx_broker_t *self, bx_wire_msg_t *m, s_worker_t *w)
{
    if (w) { /* READY twice is a protocol error: start over */
        s_service_t *svc = w->service;
        s_send_cmd(self, m->peer, BX_WIRE_CMD_DISCONNECT);
        s_purge(self, w, "ready twice");
        s_dispatch(self, svc);
        return;
    }
    s_service_t *svc = self->stopping || zhashx_size(self->workers) >= S_WORKERS_MAX
                           ? NULL
                           : s_service_get(self, m->service);
    w = svc ? calloc(1, sizeof *w) : NULL;
    if (!w || s_service_add_worker(svc, w) != 0) {
        free(w);
        s_send_cmd(self, m->peer, BX_WIRE_CMD_DISCONNECT);
        return;
    }
    bx_hex(zframe_data(m->peer), zframe_size(m->peer), w->key);
    w->identity = zframe_dup(m->peer);
    w->service = svc;
    w->credit = m->credit;
    w->expiry_ms = bx_mono_ms() + (int64_t)self->opts.heartbeat_ms * self->opts.liveness;
    zhashx_insert(self->workers, w->key, w);
    s_ring_build(svc);
    s_rebalance(svc);
    BX_INFO("worker %s ready for %s with credit %ld", w->key, svc->name, w->credit);
    s_dispatch(self, svc);
}

/* The client to answer for a worker's REPLY: the broker's record wins over the frame. */
static void s_on_wreply(bx_broker_t *self, bx_wire_msg_t *m, s_worker_t *w)
{
    s_job_t *job = zhashx_lookup(self->jobs, m->request_id);
    if (job && (job->worker == w || !job->worker)) {
        /* ours, or a queued copy that is now answered: either way it is done */
        if (w && job->worker == w) {
            s_hist_observe(&w->service->busy, w->service->m_busy,
                           bx_mono_ms() - job->dispatched_ms);
            w->service->replied++;
            w->service->rate_now++;
        }
        s_reply(self, job->client, m->request_id, m->status, m->body);
        s_job_destroy(self, &job);
    } else {
        s_reply(self, m->client, m->request_id, m->status, m->body);
    }
    if (!w) /* a worker from before a restart: it must register again */ {
        s_send_cmd(self, m->peer, BX_WIRE_CMD_DISCONNECT);
        return;
    }
    s_service_t *svc = w->service;
    w->credit++;
    s_maybe_release_drained(self, w);
    s_dispatch(self, svc);
}

static void s_on_release(bx_broker_t *self, bx_wire_msg_t *m, s_worker_t *w)
{
    if (!w) {
        s_send_cmd(self, m->peer, BX_WIRE_CMD_DISCONNECT);
        return;
    }
    s_job_t *job = zhashx_lookup(self->jobs, m->request_id);
    s_service_t *svc = w->service;
    if (job && job->worker == w) {
        svc->released++;
        s_job_destroy(self, &job); /* its lease in PostgreSQL brings it back */
    }
    w->credit++;
    s_maybe_release_drained(self, w);
    s_dispatch(self, svc);
}

static void s_on_heartbeat(bx_broker_t *self, bx_wire_msg_t *m, s_worker_t *w)
{
    if (!w)
        s_send_cmd(self, m->peer, BX_WIRE_CMD_DISCONNECT);
}

static void s_on_disconnect(bx_broker_t *self, bx_wire_msg_t *m, s_worker_t *w)
{
    (void)m;
    if (!w)
        return;
    s_service_t *svc = w->service;
    s_purge(self, w, "disconnected");
    s_dispatch(self, svc);
}

static void s_on_drain(bx_broker_t *self, bx_wire_msg_t *m, s_worker_t *w)
{
    if (!w) {
        s_send_cmd(self, m->peer, BX_WIRE_CMD_DISCONNECT);
        return;
    }
    s_service_t *svc = w->service;
    w->draining = 1;
    s_ring_build(svc);
    s_rebalance(svc);
    BX_INFO("worker %s of %s draining with %zu in flight", w->key, svc->name, w->inflight.n);
    s_maybe_release_drained(self, w);
    s_dispatch(self, svc);
}

typedef void (*s_handler_fn)(bx_broker_t *self, bx_wire_msg_t *m, s_worker_t *w);

static const s_handler_fn s_handlers[BX_WIRE_CMD_COUNT] = {
    [BX_WIRE_CMD_SUBMIT] = s_on_submit,         [BX_WIRE_CMD_READY] = s_on_ready,
    [BX_WIRE_CMD_WREPLY] = s_on_wreply,         [BX_WIRE_CMD_HEARTBEAT] = s_on_heartbeat,
    [BX_WIRE_CMD_DISCONNECT] = s_on_disconnect, [BX_WIRE_CMD_DRAIN] = s_on_drain,
    [BX_WIRE_CMD_RELEASE] = s_on_release,
};

/* A message that did not decode: a SUBMIT with a usable id is answered NAK (do not
 * retry); a registered worker that breaks the protocol is disconnected. */
static void s_on_malformed(bx_broker_t *self, bx_wire_msg_t *m, const char *why)
{
    self->malformed++;
    s_worker_t *w = m->peer ? s_worker_find(self, m->peer) : NULL;
    BX_WARN("refused %s message: %s", bx_wire_cmd_name(m->cmd), why);
    if (m->peer && m->cmd == BX_WIRE_CMD_SUBMIT && bx_wire_id_valid(m->request_id)) {
        s_nak(self, m->peer, m->request_id, 0, "malformed submit");
        return;
    }
    if (w) {
        s_service_t *svc = w->service;
        s_send_cmd(self, w->identity, BX_WIRE_CMD_DISCONNECT);
        s_purge(self, w, "protocol error");
        s_dispatch(self, svc);
    }
}

static void s_on_message(bx_broker_t *self, zmsg_t **msg_p)
{
    bx_wire_msg_t m = {0};
    char why[128];
    if (bx_wire_decode(msg_p, 1, &m, why, sizeof why) != BX_OK) {
        s_on_malformed(self, &m, why);
        goto out;
    }
    s_worker_t *w = s_worker_find(self, m.peer);
    if (w)
        w->expiry_ms = bx_mono_ms() + (int64_t)self->opts.heartbeat_ms * self->opts.liveness;
    if (s_handlers[m.cmd])
        s_handlers[m.cmd](self, &m, w);
    else
        s_on_malformed(self, &m, "command not accepted by the broker");
out:
    bx_wire_msg_reset(&m);
}

/* ---- timers ---- */

static void s_publish(bx_broker_t *self);

/* Sends HEARTBEAT to every worker, purges the silent ones, rolls the reply rate. */
static void s_heartbeat(bx_broker_t *self)
{
    int64_t now = bx_mono_ms();
    size_t n = zhashx_size(self->workers), ndead = 0;
    s_worker_t **dead = n ? calloc(n, sizeof *dead) : NULL;
    for (s_worker_t *w = zhashx_first(self->workers); w; w = zhashx_next(self->workers)) {
        if (w->expiry_ms < now && dead)
            dead[ndead++] = w;
        else
            s_send_cmd(self, w->identity, BX_WIRE_CMD_HEARTBEAT);
    }
    for (size_t i = 0; i < ndead; i++) {
        dead[i]->service->expired++;
        s_purge(self, dead[i], "expired");
    }
    free(dead);
    if (now >= self->rate_at) {
        for (size_t i = 0; i < self->nservices; i++) {
            self->services[i]->rate_last = self->services[i]->rate_now;
            self->services[i]->rate_now = 0;
        }
        self->rate_at = now + 1000;
    }
    for (size_t i = 0; i < self->nservices; i++)
        s_dispatch(self, self->services[i]);
    s_publish(self);
    self->heartbeat_at = now + self->opts.heartbeat_ms;
}

static size_t s_total_inflight(bx_broker_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->nservices; i++)
        n += s_inflight(self->services[i]);
    return n;
}

static void s_begin_stop(bx_broker_t *self)
{
    self->stopping = 1;
    self->stop_deadline = bx_mono_ms() + self->opts.drain_ms;
    BX_INFO("broker stopping: %zu in flight, waiting up to %d ms", s_total_inflight(self),
            self->opts.drain_ms);
}

static int s_done(bx_broker_t *self)
{
    if (self->terminated)
        return 1;
    return self->stopping && (s_total_inflight(self) == 0 || bx_mono_ms() >= self->stop_deadline);
}

/* ---- metrics ---- */

typedef struct {
    char *data; /* NUL-terminated text */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    int failed; /* out of memory or over the cap */
} s_buf_t;

static void s_buf_add(s_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_buf_add(s_buf_t *b, const char *fmt, ...)
{
    while (!b->failed) {
        va_list ap;
        va_start(ap, fmt);
        int n = b->data ? vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap) : -2;
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 8192;
        char *grown = cap <= S_METRICS_MAX && n != -1 ? realloc(b->data, cap) : NULL;
        if (!grown)
            b->failed = 1;
        else
            b->data = grown, b->cap = cap;
    }
}

static uint64_t s_get_queued(const s_service_t *svc)
{
    return s_queued(svc);
}

static uint64_t s_get_inflight(const s_service_t *svc)
{
    return s_inflight(svc);
}

static uint64_t s_get_workers(const s_service_t *svc)
{
    return s_live_workers(svc);
}

static uint64_t s_get_credit(const s_service_t *svc)
{
    long credit = 0;
    for (size_t k = 0; k < svc->nworkers; k++)
        credit += svc->workers[k]->draining ? 0 : svc->workers[k]->credit;
    return credit > 0 ? (uint64_t)credit : 0;
}

typedef struct {
    const char *name;                     /* metric name */
    const char *type;                     /* gauge or counter */
    const char *help;                     /* one line */
    uint64_t (*get)(const s_service_t *); /* a gauge's value, or NULL: */
    size_t off;                           /* a counter's uint64_t field in s_service_t */
} s_metric_t;

#define S_GAUGE(n, h, fn)                                                                          \
    {                                                                                              \
        n, "gauge", h, fn, 0                                                                       \
    }
#define S_COUNTER(n, h, field)                                                                     \
    {                                                                                              \
        n, "counter", h, NULL, offsetof(s_service_t, field)                                        \
    }

static const s_metric_t s_metrics[] = {
    S_GAUGE("bx_broker_queue_depth", "Jobs waiting for a worker, per service.", s_get_queued),
    S_GAUGE("bx_broker_inflight", "Jobs sent to workers and not answered, per service.",
            s_get_inflight),
    S_GAUGE("bx_broker_workers", "Live (not draining) workers, per service.", s_get_workers),
    S_GAUGE("bx_broker_credit", "Credit the service's live workers still grant.", s_get_credit),
    S_COUNTER("bx_broker_submitted_total", "SUBMITs accepted.", submitted),
    S_COUNTER("bx_broker_duplicates_total", "SUBMITs of an id already queued or in flight.",
              duplicates),
    S_COUNTER("bx_broker_dispatched_total", "REQUESTs sent to workers.", dispatched),
    S_COUNTER("bx_broker_replied_total", "REPLYs received for in-flight jobs.", replied),
    S_COUNTER("bx_broker_requeued_total", "In-flight jobs requeued from a removed worker.",
              requeued),
    S_COUNTER("bx_broker_nak_total", "SUBMITs refused because the queue was full.", nak),
    S_COUNTER("bx_broker_released_total", "Jobs handed back by workers without a result.",
              released),
    S_COUNTER("bx_broker_expired_workers_total", "Workers removed for missed heartbeats.", expired),
};

static uint64_t s_metric_value(const s_service_t *svc, size_t i)
{
    const s_metric_t *m = &s_metrics[i];
    return m->get ? m->get(svc) : *(const uint64_t *)((const char *)svc + m->off);
}

/* Copies the counters and gauges into the process registry (bx_metrics), whose values
 * other threads may read: that is what bx_metrics_serve exposes. Runs on each heartbeat. */
static void s_publish(bx_broker_t *self)
{
    for (size_t m = 0; m < sizeof s_metrics / sizeof s_metrics[0]; m++) {
        const s_metric_t *d = &s_metrics[m]; /* registering again returns the family */
        bx_metric_t *fam = !strcmp(d->type, "gauge")
                               ? bx_metrics_gauge(d->name, d->help, "service")
                               : bx_metrics_counter(d->name, d->help, "service");
        for (size_t i = 0; i < self->nservices; i++)
            bx_series_set(bx_metric_series(fam, self->services[i]->name),
                          (double)s_metric_value(self->services[i], m));
    }
    bx_series_set(bx_metric_series(bx_metrics_counter("bx_broker_malformed_total",
                                                      "Messages refused by the decoder.", NULL)),
                  (double)self->malformed);
    bx_series_set(bx_metric_series(bx_metrics_counter("bx_broker_unroutable_total",
                                                      "Answers for clients that were gone.", NULL)),
                  (double)self->unroutable);
}

static void s_metrics_hist(bx_broker_t *self, s_buf_t *b, const char *name, const char *help,
                           size_t off)
{
    s_buf_add(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (size_t i = 0; i < self->nservices; i++) {
        const s_service_t *svc = self->services[i];
        const s_hist_t *h = (const s_hist_t *)((const char *)svc + off);
        uint64_t cum = 0;
        for (int k = 0; k < S_NBUCKETS; k++) {
            cum += h->buckets[k];
            s_buf_add(b, "%s_bucket{service=\"%s\",le=\"%g\"} %llu\n", name, svc->name,
                      s_bucket_s[k], (unsigned long long)cum);
        }
        s_buf_add(b, "%s_bucket{service=\"%s\",le=\"+Inf\"} %llu\n", name, svc->name,
                  (unsigned long long)h->count);
        s_buf_add(b, "%s_sum{service=\"%s\"} %.6f\n%s_count{service=\"%s\"} %llu\n", name,
                  svc->name, h->sum, name, svc->name, (unsigned long long)h->count);
    }
}

char *bx_broker_metrics_text(bx_broker_t *self)
{
    s_buf_t b = {0};
    for (size_t m = 0; m < sizeof s_metrics / sizeof s_metrics[0]; m++) {
        s_buf_add(&b, "# HELP %s %s\n# TYPE %s %s\n", s_metrics[m].name, s_metrics[m].help,
                  s_metrics[m].name, s_metrics[m].type);
        for (size_t i = 0; i < self->nservices; i++)
            s_buf_add(&b, "%s{service=\"%s\"} %llu\n", s_metrics[m].name, self->services[i]->name,
                      (unsigned long long)s_metric_value(self->services[i], m));
    }
    s_metrics_hist(self, &b, "bx_broker_dispatch_latency_seconds",
                   "Time a job waited in the queue before it was sent to a worker.",
                   offsetof(s_service_t, wait));
    s_metrics_hist(self, &b, "bx_broker_service_latency_seconds",
                   "Time from sending a job to a worker to its reply.",
                   offsetof(s_service_t, busy));
    s_buf_add(&b,
              "# HELP bx_broker_malformed_total Messages refused by the decoder.\n"
              "# TYPE bx_broker_malformed_total counter\nbx_broker_malformed_total %llu\n",
              (unsigned long long)self->malformed);
    s_buf_add(&b,
              "# HELP bx_broker_unroutable_total Answers for clients that were gone.\n"
              "# TYPE bx_broker_unroutable_total counter\nbx_broker_unroutable_total %llu\n",
              (unsigned long long)self->unroutable);
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

/* ---- life cycle ---- */

void bx_broker_opts_from_config(bx_broker_opts_t *opts)
{
    opts->endpoint = bx_config_str("broker_endpoint");
    opts->heartbeat_ms = (int)bx_config_int("heartbeat_ms");
    opts->liveness = (int)bx_config_int("heartbeat_liveness");
    opts->queue_max = bx_config_int("broker_queue_max");
    opts->drain_ms = opts->heartbeat_ms * opts->liveness;
}

static int s_opts_valid(const bx_broker_opts_t *o)
{
    return o && o->endpoint && *o->endpoint && o->heartbeat_ms >= 10 && o->heartbeat_ms <= 600000 &&
           o->liveness >= 1 && o->liveness <= 100 && o->queue_max >= 1 && o->drain_ms >= 0;
}

static zsock_t *s_router_new(const char *endpoint)
{
    zsock_t *sock = zsock_new(ZMQ_ROUTER);
    if (!sock)
        return NULL;
    zsock_set_router_mandatory(sock, 1); /* a send to a gone peer fails instead of vanishing */
    zsock_set_sndtimeo(sock, 0);         /* never block the broker on a slow peer */
    zsock_set_sndhwm(sock, S_SOCK_HWM);
    zsock_set_rcvhwm(sock, S_SOCK_HWM);
    zsock_set_linger(sock, 1000); /* lets the final DISCONNECTs out */
    if (zsock_bind(sock, "%s", endpoint) == -1) {
        BX_ERROR("could not bind broker to %s: %s", endpoint, zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
    }
    return sock;
}

bx_broker_t *bx_broker_new(const bx_broker_opts_t *opts)
{
    if (!s_opts_valid(opts)) {
        BX_ERROR("could not create broker: options out of range");
        return NULL;
    }
    bx_broker_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->opts = *opts;
    self->endpoint = strdup(opts->endpoint);
    self->opts.endpoint = self->endpoint;
    self->workers = zhashx_new();
    self->jobs = zhashx_new();
    if (!self->endpoint || !self->workers || !self->jobs ||
        !(self->router = s_router_new(self->endpoint))) {
        bx_broker_destroy(&self);
        return NULL;
    }
    self->heartbeat_at = bx_mono_ms() + opts->heartbeat_ms;
    self->rate_at = bx_mono_ms() + 1000;
    BX_INFO("broker listening on %s", self->endpoint);
    return self;
}

void bx_broker_destroy(bx_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bx_broker_t *self = *self_p;
    while (self->workers && zhashx_size(self->workers)) {
        s_worker_t *w = zhashx_first(self->workers);
        s_job_t *j;
        while ((j = s_list_pop(&w->inflight, 0)) || (j = s_list_pop(&w->backlog, 0)))
            s_job_destroy(self, &j);
        zhashx_delete(self->workers, w->key);
        zframe_destroy(&w->identity);
        free(w);
    }
    for (size_t i = 0; i < self->nservices; i++)
        s_service_destroy(self, self->services[i]);
    zhashx_destroy(&self->workers);
    zhashx_destroy(&self->jobs);
    zsock_destroy(&self->router);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

/* Handles what is waiting on the ROUTER, at most a batch, without blocking. */
static int s_drain_router(bx_broker_t *self)
{
    for (int i = 0; i < S_RECV_BATCH && (zsock_events(self->router) & ZMQ_POLLIN); i++) {
        zmsg_t *msg = zmsg_recv(self->router);
        if (!msg)
            return -1;
        s_on_message(self, &msg);
    }
    return 0;
}

static void s_on_pipe(bx_broker_t *self, zsock_t *pipe)
{
    char *cmd = zstr_recv(pipe);
    if (!cmd || !strcmp(cmd, "$TERM")) {
        self->terminated = 1;
    } else if (!strcmp(cmd, "STOP")) {
        if (!self->stopping)
            s_begin_stop(self);
    } else if (!strcmp(cmd, "METRICS")) {
        char *text = bx_broker_metrics_text(self);
        zstr_send(pipe, text ? text : "");
        free(text);
    } else {
        BX_WARN("broker actor: unknown command %s", cmd);
    }
    zstr_free(&cmd);
}

static int s_timeout(bx_broker_t *self)
{
    int64_t t = self->heartbeat_at - bx_mono_ms();
    return t < 0 ? 0 : t > 1000 ? 1000 : (int)t;
}

/* The loop shared by bx_broker_run and the actor (pipe may be NULL). */
static int s_loop(bx_broker_t *self, zsock_t *pipe, volatile sig_atomic_t *stop)
{
    zpoller_t *poller = zpoller_new(self->router, pipe, NULL);
    int rc = poller ? 0 : -1;
    if (poller)
        zpoller_set_nonstop(poller, true);
    while (rc == 0 && !s_done(self)) {
        if (stop && *stop && !self->stopping)
            s_begin_stop(self);
        void *which = zpoller_wait(poller, s_timeout(self));
        if (which == self->router)
            rc = s_drain_router(self);
        else if (pipe && which == pipe)
            s_on_pipe(self, pipe);
        if (bx_mono_ms() >= self->heartbeat_at)
            s_heartbeat(self);
    }
    zpoller_destroy(&poller);
    if (self->terminated)
        return rc;
    for (s_worker_t *w = zhashx_first(self->workers); w; w = zhashx_next(self->workers))
        s_send_cmd(self, w->identity, BX_WIRE_CMD_DISCONNECT);
    BX_INFO("broker stopped: %zu jobs still in flight, %zu queued", s_total_inflight(self),
            zhashx_size(self->jobs) - s_total_inflight(self));
    return rc;
}

int bx_broker_run(bx_broker_t *self, volatile sig_atomic_t *stop)
{
    return s_loop(self, NULL, stop);
}

void bx_broker_actor(zsock_t *pipe, void *args)
{
    bx_broker_t *self = bx_broker_new(args);
    zsock_signal(pipe, self ? 0 : 1);
    if (!self)
        return;
    (void)s_loop(self, pipe, NULL);
    bx_broker_destroy(&self);
}
