/* fd_sse: inventory changes to watching clients as Server-Sent Events. Changes arrive on
 * Redis pub/sub (published by bx_invfeed_publish); each stream has a bounded buffer, and
 * a client that lets it fill up is dropped, never buffered without bound. Each event
 * carries its inventory version as id, so a reconnecting client resumes with
 * Last-Event-ID from the per-event log; a gap it cannot fill is told with a "reset"
 * event. Idle streams get a comment line every sse_heartbeat_s. */
#include "fd_sse.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bx_config.h"
#include "bx_invfeed.h"
#include "bx_log.h"
#include "bx_metrics.h"
#include "bx_util.h"
#include "fd_internal.h"
#include "fd_wr.h"

#define S_BUCKETS     256   /* streams hashed by event id */
#define S_BACKLOG_MAX 1000  /* changes replayed on resume; more is a reset */
#define S_POLL_MS     250   /* longest sleep of the subscriber thread */
#define S_MSG_MAX     65536 /* largest change relayed */

/* One open stream. Every field is guarded by s_mu. */
typedef struct s_conn {
    struct s_conn *next;        /* next stream of the same bucket */
    uint64_t id;                /* unique for the process's life */
    char event_id[37];          /* the event watched */
    struct MHD_Connection *mhd; /* borrowed; valid until s_free */
    char *buf;                  /* bytes not yet taken by MHD, heap, cap bytes */
    size_t len;                 /* bytes in buf */
    long long last_ver;         /* highest version queued (or the client's Last-Event-ID) */
    int priming;                /* the subscriber has not replayed the backlog yet */
    int suspended;              /* s_read suspended the connection: resume to continue */
    int dropped;                /* too slow: end it with an error */
    int ended;                  /* server stopping: end it cleanly */
    int64_t last_ms;            /* monotonic time something was queued */
} s_conn_t;

static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static s_conn_t *s_buckets[S_BUCKETS];
static long s_open, s_dropped_total;
static uint64_t s_next_id = 1;
static size_t s_cap;
static int s_running, s_stopping, s_wake = -1;
static pthread_t s_thread;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static unsigned s_bucket(const char *event_id)
{
    uint32_t h = 2166136261u;
    for (const char *p = event_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % S_BUCKETS;
}

/* With s_mu held: wakes a suspended stream so MHD calls s_read again. */
static void s_kick(s_conn_t *c)
{
    if (c->suspended) {
        c->suspended = 0;
        MHD_resume_connection(c->mhd);
    }
}

/* With s_mu held: ends a stream whose client reads too slowly; its buffer is not grown. */
static void s_drop(s_conn_t *c)
{
    if (c->dropped)
        return;
    c->dropped = 1;
    c->len = 0;
    s_dropped_total++;
    bx_counter_inc(bx_metric_series(
        bx_metrics_counter("bx_sse_dropped_total",
                           "Inventory streams dropped because the client read too slowly.", NULL)));
    BX_INFO("inventory stream of %s dropped: the client reads too slowly", c->event_id);
    s_kick(c);
}

/* With s_mu held: queues n bytes, or drops the stream when they do not fit. */
static void s_push(s_conn_t *c, const char *data, size_t n)
{
    if (c->dropped || c->ended)
        return;
    if (c->len + n > s_cap) {
        s_drop(c);
        return;
    }
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    c->last_ms = bx_mono_ms();
    s_kick(c);
}

static ssize_t s_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    s_conn_t *c = cls;
    ssize_t n;
    (void)pos;
    pthread_mutex_lock(&s_mu);
    if (c->dropped) {
        n = MHD_CONTENT_READER_END_WITH_ERROR;
    } else if (c->len > 0) {
        size_t k = c->len < max ? c->len : max;
        memcpy(buf, c->buf, k);
        memmove(c->buf, c->buf + k, c->len - k);
        c->len -= k;
        n = (ssize_t)k;
    } else if (c->ended) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        c->suspended = 1; /* nothing to send: sleep until s_kick */
        MHD_suspend_connection(c->mhd);
        n = 0;
    }
    pthread_mutex_unlock(&s_mu);
    return n;
}

/* MHD is done with the response (the connection closed): forget the stream. */
static void s_free(void *cls)
{
    s_conn_t *c = cls;
    pthread_mutex_lock(&s_mu);
    for (s_conn_t **pp = &s_buckets[s_bucket(c->event_id)]; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            s_open--;
            break;
        }
    pthread_mutex_unlock(&s_mu);
    free(c->buf);
    free(c);
}

/* ---- the subscriber thread ---- */

/* Relays one published change "<version> <json>" of channel to its event's streams. */
static void s_dispatch(const char *channel, const char *payload, size_t plen)
{
    char head[64];
    const char *ev = channel + strlen(BX_INVFEED_CHANNEL);
    const char *sp = memchr(payload, ' ', plen);
    if (strncmp(channel, BX_INVFEED_CHANNEL, strlen(BX_INVFEED_CHANNEL)) || !sp || plen > S_MSG_MAX)
        return;
    long long ver = strtoll(payload, NULL, 10);
    int hn = snprintf(head, sizeof head, "id: %lld\nevent: inventory\ndata: ", ver);
    pthread_mutex_lock(&s_mu);
    for (s_conn_t *c = s_buckets[s_bucket(ev)]; c; c = c->next) {
        if (strcmp(c->event_id, ev) || c->priming || ver <= c->last_ver)
            continue;
        if (c->len + (size_t)hn + plen + 2 > s_cap) {
            s_drop(c);
            continue;
        }
        s_push(c, head, (size_t)hn);
        s_push(c, sp + 1, plen - (size_t)(sp + 1 - payload));
        s_push(c, "\n\n", 2);
        c->last_ver = ver;
    }
    pthread_mutex_unlock(&s_mu);
}

static void s_reply(redisReply *r)
{
    if (r->type == REDIS_REPLY_ARRAY) {
        if (r->elements == 4 && r->element[0]->type == REDIS_REPLY_STRING &&
            !strcmp(r->element[0]->str, "pmessage") && r->element[3]->type == REDIS_REPLY_STRING)
            s_dispatch(r->element[2]->str, r->element[3]->str, r->element[3]->len);
    }
}

/* A new pub/sub connection, or NULL. Every stream replays what it may have missed. */
static redisContext *s_subscribe(void)
{
    struct timeval tv = {1, 0};
    redisContext *ctx =
        redisConnectWithTimeout(bx_config_str("redis_host"), (int)bx_config_int("redis_port"), tv);
    redisReply *r =
        ctx && !ctx->err ? redisCommand(ctx, "PSUBSCRIBE %s*", BX_INVFEED_CHANNEL) : NULL;
    if (!r) {
        if (ctx)
            redisFree(ctx);
        return NULL;
    }
    freeReplyObject(r);
    pthread_mutex_lock(&s_mu);
    for (int b = 0; b < S_BUCKETS; b++)
        for (s_conn_t *c = s_buckets[b]; c; c = c->next)
            c->priming = 1;
    pthread_mutex_unlock(&s_mu);
    BX_INFO("inventory stream subscribed to %s*", BX_INVFEED_CHANNEL);
    return ctx;
}

/* A stream waiting for its backlog, as seen outside the lock. */
typedef struct {
    uint64_t id;
    char event_id[37];
    long long after;
} s_due_t;

/* With s_mu held: the stream with id, if still open. */
static s_conn_t *s_find(const char *event_id, uint64_t id)
{
    for (s_conn_t *c = s_buckets[s_bucket(event_id)]; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

/* Queues the backlog (or a ready/reset event) of one stream; 0 when Redis failed. */
static int s_prime_one(bx_redis_t *redis, const s_due_t *d)
{
    json_t *docs = NULL;
    long long cur = 0;
    int gap = 0;
    char line[160];
    if (bx_invfeed_since(redis, d->event_id, d->after, S_BACKLOG_MAX, &docs, &cur, &gap) != BX_OK)
        return 0;
    if (json_array_size(docs) == S_BACKLOG_MAX || d->after > cur)
        gap = 1; /* too much missed, or an id from the future (another Redis, a bad client) */
    pthread_mutex_lock(&s_mu);
    s_conn_t *c = s_find(d->event_id, d->id);
    if (c && (d->after < 0 || gap)) {
        int n = snprintf(line, sizeof line, "event: %s\ndata: {\"version\":%lld}\n\n",
                         d->after < 0 ? "ready" : "reset", cur);
        s_push(c, line, (size_t)n);
    }
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        if (!c || gap)
            break;
        const char *text = json_string_value(doc);
        long long ver = strtoll(text + 11, NULL, 10); /* {"version":N,... */
        int n = snprintf(line, sizeof line, "id: %lld\nevent: inventory\ndata: ", ver);
        s_push(c, line, (size_t)n);
        s_push(c, text, strlen(text));
        s_push(c, "\n\n", 2);
    }
    if (c) {
        c->last_ver = gap || cur > c->last_ver ? cur : c->last_ver;
        c->priming = 0;
    }
    pthread_mutex_unlock(&s_mu);
    json_decref(docs);
    return 1;
}

/* Replays the backlog of every stream that is priming (new, or after a reconnect). */
static void s_prime(bx_redis_t *redis)
{
    s_due_t due[64];
    int n = 0;
    pthread_mutex_lock(&s_mu);
    for (int b = 0; b < S_BUCKETS && n < 64; b++)
        for (s_conn_t *c = s_buckets[b]; c && n < 64; c = c->next)
            if (c->priming && !c->dropped && !c->ended) {
                due[n].id = c->id;
                bx_strlcpy(due[n].event_id, c->event_id, sizeof due[n].event_id);
                due[n++].after = c->last_ver;
            }
    pthread_mutex_unlock(&s_mu);
    for (int i = 0; i < n; i++)
        if (!s_prime_one(redis, &due[i]))
            break;
}

static void s_heartbeats(int64_t now, int64_t every_ms)
{
    static const char hb[] = ": keep-alive\n\n";
    pthread_mutex_lock(&s_mu);
    for (int b = 0; b < S_BUCKETS; b++)
        for (s_conn_t *c = s_buckets[b]; c; c = c->next)
            if (now - c->last_ms >= every_ms)
                s_push(c, hb, sizeof hb - 1);
    pthread_mutex_unlock(&s_mu);
}

/* Reads what the pub/sub connection has; returns 0 when it broke. */
static int s_drain(redisContext *sub)
{
    void *reply = NULL;
    if (redisBufferRead(sub) != REDIS_OK)
        return 0;
    while (redisGetReplyFromReader(sub, &reply) == REDIS_OK && reply) {
        s_reply(reply);
        freeReplyObject(reply);
        reply = NULL;
    }
    return sub->err == 0;
}

static void *s_run(void *arg)
{
    (void)arg;
    bx_redis_t *redis = bx_redis_new(bx_config_str("redis_host"), (int)bx_config_int("redis_port"),
                                     (int)bx_config_int("redis_timeout_ms"));
    redisContext *sub = NULL;
    int64_t retry_at = 0, hb_ms = bx_config_int("sse_heartbeat_s") * 1000, hb_at = 0;
    while (!s_stopping && redis) {
        int64_t now = bx_mono_ms();
        if (!sub && now >= retry_at && !(sub = s_subscribe()))
            retry_at = now + 1000;
        struct pollfd p[2] = {{.fd = s_wake, .events = POLLIN},
                              {.fd = sub ? sub->fd : -1, .events = POLLIN}};
        if (poll(p, 2, S_POLL_MS) < 0 && errno != EINTR)
            break;
        uint64_t v;
        if (p[0].revents & POLLIN && read(s_wake, &v, sizeof v) < 0)
            BX_DEBUG("inventory stream wake-up read failed");
        if (sub && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !s_drain(sub)) {
            BX_WARN("inventory stream lost its redis subscription; reconnecting");
            redisFree(sub);
            sub = NULL;
        }
        if (sub)
            s_prime(redis);
        if ((now = bx_mono_ms()) >= hb_at) {
            s_heartbeats(now, hb_ms);
            hb_at = now + 1000;
        }
    }
    if (sub)
        redisFree(sub);
    bx_redis_destroy(&redis);
    return NULL;
}

static void s_start(void)
{
    s_cap = (size_t)bx_config_int("sse_buffer_bytes");
    s_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s_wake < 0 || pthread_create(&s_thread, NULL, s_run, NULL) != 0) {
        BX_ERROR("could not start the inventory stream thread: %s", strerror(errno));
        return;
    }
    s_running = 1;
}

static void s_wake_up(void)
{
    uint64_t one = 1;
    if (write(s_wake, &one, sizeof one) < 0)
        BX_DEBUG("inventory stream wake-up write failed");
}

void fd_sse_stop(void)
{
    pthread_mutex_lock(&s_mu);
    int running = s_running;
    s_stopping = 1;
    s_running = 0;
    pthread_mutex_unlock(&s_mu);
    if (!running)
        return;
    s_wake_up();
    pthread_join(s_thread, NULL);
    pthread_mutex_lock(&s_mu);
    for (int b = 0; b < S_BUCKETS; b++)
        for (s_conn_t *c = s_buckets[b]; c; c = c->next) {
            c->ended = 1;
            s_kick(c);
        }
    pthread_mutex_unlock(&s_mu);
}

void fd_sse_counts(long *open, long *dropped)
{
    pthread_mutex_lock(&s_mu);
    *open = s_open;
    *dropped = s_dropped_total;
    pthread_mutex_unlock(&s_mu);
}

/* ---- the handler ---- */

/* The client's Last-Event-ID (header, or ?last_event_id for clients that cannot send
 * headers), or -1. */
static long long s_last_id(fd_req_t *req)
{
    const char *v = fd_header(req, "Last-Event-ID");
    long n;
    if (!v)
        v = fd_query(req, "last_event_id");
    if (!v || bx_parse_long(v, 0, 1000000000000L, &n) != BX_OK)
        return -1;
    return n;
}

/* A registered stream for req, or NULL when the cap is reached or memory is short. */
static s_conn_t *s_register(fd_req_t *req, const char *ev, long long last)
{
    static const char hello[] = "retry: 2000\n\n";
    s_conn_t *c = calloc(1, sizeof *c);
    char *buf = malloc(s_cap);
    if (!c || !buf) {
        free(c);
        free(buf);
        return NULL;
    }
    bx_strlcpy(c->event_id, ev, sizeof c->event_id);
    c->mhd = req->conn;
    c->buf = buf;
    c->last_ver = last;
    c->priming = 1;
    memcpy(c->buf, hello, sizeof hello - 1);
    c->len = sizeof hello - 1;
    c->last_ms = bx_mono_ms();
    pthread_mutex_lock(&s_mu);
    if (!s_running || s_open >= bx_config_int("sse_max_clients")) {
        pthread_mutex_unlock(&s_mu);
        free(buf);
        free(c);
        return NULL;
    }
    c->id = s_next_id++;
    c->next = s_buckets[s_bucket(ev)];
    s_buckets[s_bucket(ev)] = c;
    s_open++;
    pthread_mutex_unlock(&s_mu);
    return c;
}

void fd_sse_stream(fd_req_t *req)
{
    fd_wr_room_t room;
    char ev[37];
    if (!fd_wr_event_param(req, ev))
        return;
    bx_err_t err = fd_wr_room_get(req, ev, 0, &room);
    if (err || !fd_wr_on_sale(&room)) {
        fd_reply_problem(req, err == BX_EUNAVAILABLE ? err : BX_ENOTFOUND, "no such event");
        return;
    }
    pthread_once(&s_once, s_start);
    s_conn_t *c = s_register(req, ev, s_last_id(req));
    struct MHD_Response *r =
        c ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, s_read, c, s_free) : NULL;
    if (!r) {
        if (c)
            s_free(c);
        fd_wr_retry_after(req, 5);
        fd_reply_problem(req, BX_EUNAVAILABLE,
                         "too many inventory streams are open; try again shortly");
        return;
    }
    s_wake_up();
    fd_add_header(req, "Content-Type", "text/event-stream; charset=utf-8");
    fd_add_header(req, "X-Accel-Buffering", "no");
    fd_reply_stream(req, r);
}
