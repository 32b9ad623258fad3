/* dlv_sender: the sender threads of a delivery pool. Each owns a PostgreSQL connection
 * that LISTENs for wake-ups, and a curl multi handle. A round claims a batch of due
 * deliveries (a lease, so a sender that dies mid-send loses nothing), prepares each on
 * its channel, routes it around open circuit breakers (an SMS falls back to the next
 * provider), runs every transfer concurrently, and hands the outcome to dlv_engine. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bx_dlv.h"
#include "bx_json.h"
#include "bx_log.h"
#include "bx_metrics.h"
#include "bx_util.h"
#include "dlv.h"

#define S_LISTEN_EVERY_MS 30000 /* LISTEN is renewed (a reconnect drops it) */

struct dlv_sender {
    const dlv_cfg_t *cfg;    /* shared, read-only */
    int index;               /* thread number, for logs */
    pthread_t thread;        /* the thread */
    int started;             /* thread was created */
    bx_pg_t *pg;             /* this thread's connection */
    int64_t listen_at;       /* next LISTEN renewal */
    CURLM *multi;            /* this thread's transfers */
    EVP_PKEY *vapid;         /* VAPID key, loaded on first use */
    EVP_PKEY *callback;      /* callback signing key, loaded on first use */
    bx_dlv_key_t unsub;      /* unsubscribe key, loaded on first use */
    PGresult *endpoints;     /* webhook endpoints of the current batch */
    PGresult *subscriptions; /* push subscriptions of the current batch */
    json_t *open;            /* open breakers of the batch: key -> [cool_over, until_ms] */
    int active;              /* transfers running */
};

static const dlv_channel_t *const s_channels[] = {&dlv_email_channel, &dlv_sms_channel,
                                                  &dlv_push_channel, &dlv_webhook_channel,
                                                  &dlv_callback_channel};

static const dlv_channel_t *s_channel(const char *name)
{
    for (size_t i = 0; i < sizeof s_channels / sizeof s_channels[0]; i++)
        if (!strcmp(s_channels[i]->channel, name))
            return s_channels[i];
    return NULL;
}

static const char *const s_outcomes[] = {"succeeded", "failed", "failed",
                                         "timeout",   "gone",   "rejected"};

/* ---- what channel code reads ---- */

const dlv_cfg_t *dlv_sender_cfg(dlv_sender_t *s)
{
    return s->cfg;
}

bx_pg_t *dlv_sender_pg(dlv_sender_t *s)
{
    return s->pg;
}

EVP_PKEY *dlv_sender_key(dlv_sender_t *s, const char *purpose)
{
    EVP_PKEY **slot = !strcmp(purpose, "vapid") ? &s->vapid : &s->callback;
    if (!*slot) {
        bx_dlv_key_t k;
        if (bx_dlv_key(s->pg, purpose, &k) == BX_OK)
            *slot = dlv_pem_key(k.private_key);
        bx_dlv_key_free(&k);
    }
    return *slot;
}

const void *dlv_sender_unsub_key(dlv_sender_t *s)
{
    if (!s->unsub.private_key && bx_dlv_key(s->pg, "unsubscribe", &s->unsub) != BX_OK)
        return NULL;
    return &s->unsub;
}

static int s_find_row(PGresult *res, const char *id)
{
    for (int r = 0; res && r < PQntuples(res); r++)
        if (!strcmp(bx_pg_val(res, r, 0), id))
            return r;
    return -1;
}

int dlv_sender_endpoint(dlv_sender_t *s, const char *id, const char **url, const char **secret,
                        const char **old_secret)
{
    int r = s_find_row(s->endpoints, id);
    if (r < 0 || strcmp(bx_pg_val(s->endpoints, r, 2), "enabled") ||
        !strcmp(bx_pg_val(s->endpoints, r, 6), "t"))
        return 0;
    *url = bx_pg_val(s->endpoints, r, 1);
    *secret = bx_pg_val(s->endpoints, r, 3);
    *old_secret = !strcmp(bx_pg_val(s->endpoints, r, 5), "t") ? bx_pg_val(s->endpoints, r, 4) : "";
    return 1;
}

int dlv_sender_subscription(dlv_sender_t *s, const char *id, const char **endpoint,
                            const char **p256dh, const char **auth)
{
    int r = s_find_row(s->subscriptions, id);
    if (r < 0 || !strcmp(bx_pg_val(s->subscriptions, r, 4), "t"))
        return 0;
    *endpoint = bx_pg_val(s->subscriptions, r, 1);
    *p256dh = bx_pg_val(s->subscriptions, r, 2);
    *auth = bx_pg_val(s->subscriptions, r, 3);
    return 1;
}

/* ---- a batch ---- */

static void s_job_free(dlv_job_t *job)
{
    if (!job)
        return;
    free(job->recipient);
    json_decref(job->payload);
    free(job->body);
    free(job->aux);
    curl_mime_free(job->mime);
    curl_slist_free_all(job->hdrs);
    curl_slist_free_all(job->rcpt);
    if (job->easy)
        curl_easy_cleanup(job->easy);
    free(job);
}

/* A job from row r of the claim. */
static dlv_job_t *s_job_from_row(dlv_sender_t *s, const PGresult *res, int r)
{
    dlv_job_t *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->cfg = s->cfg;
    bx_strlcpy(job->id, bx_pg_val(res, r, 0), sizeof job->id);
    bx_strlcpy(job->message_id, bx_pg_val(res, r, 1), sizeof job->message_id);
    bx_strlcpy(job->channel, bx_pg_val(res, r, 2), sizeof job->channel);
    bx_strlcpy(job->type, bx_pg_val(res, r, 3), sizeof job->type);
    bx_strlcpy(job->category, bx_pg_val(res, r, 4), sizeof job->category);
    job->recipient = strdup(bx_pg_val(res, r, 5));
    bx_strlcpy(job->locale, bx_pg_val(res, r, 6), sizeof job->locale);
    job->payload = json_loads(bx_pg_val(res, r, 7), 0, NULL);
    job->attempt = (int)strtol(bx_pg_val(res, r, 8), NULL, 10);
    bx_strlcpy(job->endpoint_id, bx_pg_val(res, r, 9), sizeof job->endpoint_id);
    bx_strlcpy(job->subscription_id, bx_pg_val(res, r, 10), sizeof job->subscription_id);
    bx_strlcpy(job->user_id, bx_pg_val(res, r, 11), sizeof job->user_id);
    job->urgent = !strcmp(bx_pg_val(res, r, 12), "t");
    bx_strlcpy(job->org_id, bx_pg_val(res, r, 13), sizeof job->org_id);
    if (!job->recipient || !job->payload) {
        s_job_free(job);
        return NULL;
    }
    return job;
}

/* Reads the endpoints, subscriptions and open breakers the batch needs. */
static void s_batch_data(dlv_sender_t *s, dlv_job_t **jobs, int n)
{
    json_t *eps = json_array(), *subs = json_array();
    bx_err_t err;
    for (int i = 0; i < n; i++) {
        if (jobs[i]->endpoint_id[0])
            json_array_append_new(eps, json_string(jobs[i]->endpoint_id));
        if (jobs[i]->subscription_id[0])
            json_array_append_new(subs, json_string(jobs[i]->subscription_id));
    }
    char *e = json_array_size(eps) ? bx_json_dump(eps) : NULL;
    char *u = json_array_size(subs) ? bx_json_dump(subs) : NULL;
    const char *pe[] = {e}, *pu[] = {u};
    s->endpoints = e ? bx_pg_query(s->pg, "dlv_endpoints_for_send", 1, pe, &err) : NULL;
    s->subscriptions = u ? bx_pg_query(s->pg, "dlv_subscriptions_for_send", 1, pu, &err) : NULL;
    free(e);
    free(u);
    json_decref(eps);
    json_decref(subs);
}

/* Loads which of the breakers of keys (JSON array) are open. */
static void s_load_open(dlv_sender_t *s, json_t *keys)
{
    bx_err_t err;
    json_decref(s->open);
    s->open = json_object();
    char *text = json_array_size(keys) ? bx_json_dump(keys) : NULL;
    const char *p[] = {text};
    PGresult *res = text ? bx_pg_query(s->pg, "dlv_breakers_open", 1, p, &err) : NULL;
    for (int r = 0; res && r < PQntuples(res); r++)
        json_object_set_new(s->open, bx_pg_val(res, r, 0),
                            json_pack("[b, I]", !strcmp(bx_pg_val(res, r, 1), "t"),
                                      (json_int_t)strtoll(bx_pg_val(res, r, 2), NULL, 10)));
    PQclear(res);
    free(text);
}

/* 1 when the breaker key lets a request through now (closed, or this sender holds the
 * half-open trial); else 0 with *until_ms the earliest moment to come back. */
static int s_breaker_allows(dlv_sender_t *s, const char *key, int64_t *until_ms)
{
    json_t *b = json_object_get(s->open, key);
    if (!b)
        return 1;
    char lease[16];
    snprintf(lease, sizeof lease, "%d", s->cfg->lease_s);
    const char *p[] = {key, lease};
    bx_err_t err;
    PGresult *res = json_is_true(json_array_get(b, 0))
                        ? bx_pg_query(s->pg, "dlv_breaker_trial", 2, p, &err)
                        : NULL;
    int trial = res && PQntuples(res) == 1;
    PQclear(res);
    if (trial) {
        json_object_del(s->open, key); /* this sender sends the trial; the rest wait */
        return 1;
    }
    int64_t until = (int64_t)json_integer_value(json_array_get(b, 1));
    int64_t soon = bx_now_ms() + 1000; /* another sender holds the trial: ask again soon */
    *until_ms = until > bx_now_ms() ? until : soon;
    return 0;
}

static void s_attempt_log(json_t *attempts, dlv_job_t *job, const char *outcome, long status,
                          long latency_ms, const char *error)
{
    json_t *a =
        json_pack("{s:s, s:i, s:I, s:s, s:s, s:i, s:s?, s:s?}", "id", job->id, "attempt",
                  job->attempt, "started_ms", (json_int_t)job->started_ms, "provider",
                  job->provider, "outcome", outcome, "latency_ms", (int)latency_ms, "response",
                  job->resp_len ? job->resp : NULL, "error", error && *error ? error : NULL);
    if (a && status > 0)
        json_object_set_new(a, "http_status", json_integer(status));
    /* for dlv_engine's breaker accounting (ignored by the attempt log) */
    if (a && job->breaker[0] && strcmp(outcome, "deferred"))
        json_object_set_new(
            a, "breaker",
            json_pack("{s:s, s:b}", "key", job->breaker, "ok", !strcmp(outcome, "succeeded")));
    if (a && (job->outcome == DLV_FAIL || job->outcome == DLV_TIMEOUT) &&
        strcmp(outcome, "deferred") && strcmp(outcome, "succeeded"))
        json_object_set_new(json_object_get(a, "breaker"), "trip", json_true());
    json_array_append_new(attempts, a);
}

/* Starts the first step from `from` whose breaker is closed; logs skipped steps as
 * deferred. Returns 1 when a transfer runs. */
static int s_start_step(dlv_sender_t *s, dlv_job_t *job, int from, json_t *attempts)
{
    const dlv_channel_t *ch = s_channel(job->channel);
    int64_t until = 0, earliest = 0;
    for (int step = from; ch->route(s, job, step); step++) {
        job->step = step;
        if (!s_breaker_allows(s, job->breaker, &until)) {
            earliest = !earliest || until < earliest ? until : earliest;
            job->started_ms = bx_now_ms();
            job->resp_len = 0;
            s_attempt_log(attempts, job, "deferred", 0, 0, "circuit breaker open");
            continue;
        }
        job->easy = curl_easy_init();
        job->resp_len = 0;
        job->resp[0] = job->errbuf[0] = '\0';
        job->started_ms = bx_now_ms();
        if (!job->easy || ch->start(s, job) != BX_OK ||
            curl_multi_add_handle(s->multi, job->easy)) {
            bx_strlcpy(job->error, "could not start the transfer", sizeof job->error);
            job->outcome = DLV_FAIL;
            break;
        }
        s->active++;
        return 1;
    }
    job->done = 1;
    if (earliest && from == 0) {
        /* nothing was tried: no attempt is counted, the delivery waits for the breaker */
        job->deferred = 1;
        job->defer_ms = earliest - bx_now_ms();
        bx_strlcpy(job->error, "circuit breaker open", sizeof job->error);
    }
    return 0;
}

static void s_begin(dlv_sender_t *s, dlv_job_t *job, json_t *attempts)
{
    const dlv_channel_t *ch = s_channel(job->channel);
    job->started_ms = bx_now_ms();
    if (!ch || ch->prepare(s, job) != BX_OK) {
        if (!job->error[0])
            bx_strlcpy(job->error, "the message could not be built", sizeof job->error);
        job->outcome = DLV_REJECTED;
        job->done = 1;
        s_attempt_log(attempts, job, "rejected", 0, 0, job->error);
        return;
    }
    s_start_step(s, job, 0, attempts);
}

/* Keeps what may go into the log: valid UTF-8 without control characters. */
static void s_clean_excerpt(dlv_job_t *job)
{
    for (size_t i = 0; i < job->resp_len; i++) {
        unsigned char c = (unsigned char)job->resp[i];
        if (c < 0x20 && c != '\n' && c != '\t')
            job->resp[i] = ' ';
    }
    if (!bx_utf8_valid(job->resp, job->resp_len))
        for (size_t i = 0; i < job->resp_len; i++)
            if ((unsigned char)job->resp[i] >= 0x80)
                job->resp[i] = '?';
}

static void s_finish_step(dlv_sender_t *s, dlv_job_t *job, CURLcode rc, json_t *attempts)
{
    const dlv_channel_t *ch = s_channel(job->channel);
    long status = 0;
    curl_off_t total_us = 0;
    curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(job->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    curl_multi_remove_handle(s->multi, job->easy);
    s->active--;
    job->outcome = job->blocked ? DLV_REJECTED : ch->judge(job, rc, status);
    if (job->blocked)
        bx_strlcpy(job->error, "the address connected to is forbidden by the SSRF policy",
                   sizeof job->error);
    else if (job->outcome != DLV_OK && job->errbuf[0])
        bx_strlcpy(job->error, job->errbuf, sizeof job->error);
    else if (job->outcome != DLV_OK)
        snprintf(job->error, sizeof job->error, "answered %ld", status);
    s_clean_excerpt(job);
    s_attempt_log(attempts, job, s_outcomes[job->outcome], status, (long)(total_us / 1000),
                  job->outcome == DLV_OK ? NULL : job->error);
    curl_easy_cleanup(job->easy);
    job->easy = NULL;
    if ((job->outcome == DLV_FAIL || job->outcome == DLV_TIMEOUT) &&
        job->step + 1 < DLV_STEPS_MAX && s_start_step(s, job, job->step + 1, attempts))
        return;
    job->done = 1;
}

/* Runs every transfer of the batch to its end. */
static void s_run(dlv_sender_t *s, json_t *attempts)
{
    while (s->active > 0) {
        int running = 0, left = 0;
        curl_multi_perform(s->multi, &running);
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(s->multi, &left))) {
            dlv_job_t *job = NULL;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&job);
            s_finish_step(s, job, msg->data.result, attempts);
        }
        if (s->active > 0)
            curl_multi_poll(s->multi, NULL, 0, 200, NULL);
    }
}

static int s_round(dlv_sender_t *s)
{
    char claim[BX_UUID_LEN + 1], batch[16], lease[16];
    bx_err_t err;
    bx_uuid_v7(claim);
    snprintf(batch, sizeof batch, "%d", s->cfg->batch);
    snprintf(lease, sizeof lease, "%d", s->cfg->lease_s);
    const char *p[] = {s->cfg->pool, batch, claim, lease};
    PGresult *res = bx_pg_query(s->pg, "dlv_claim", 4, p, &err);
    int n = res ? PQntuples(res) : 0;
    dlv_job_t **jobs = n ? calloc((size_t)n, sizeof *jobs) : NULL;
    int m = 0;
    for (int r = 0; jobs && r < n; r++)
        if ((jobs[m] = s_job_from_row(s, res, r)))
            m++;
    PQclear(res);
    if (!m) {
        free(jobs);
        return n;
    }
    s_batch_data(s, jobs, m);
    json_t *attempts = json_array(), *keys = json_array();
    for (int i = 0; i < m; i++) {
        const dlv_channel_t *ch = s_channel(jobs[i]->channel);
        for (int step = 0; ch && step < DLV_STEPS_MAX && ch->route(s, jobs[i], step); step++)
            json_array_append_new(keys, json_string(jobs[i]->breaker));
    }
    s_load_open(s, keys);
    json_decref(keys);
    for (int i = 0; i < m; i++)
        s_begin(s, jobs[i], attempts);
    s_run(s, attempts);
    if (dlv_engine_record(s, jobs, m, attempts, claim) != BX_OK)
        BX_WARN("could not record a batch of %d deliveries: %s; their lease brings them back", m,
                bx_pg_error(s->pg));
    json_decref(attempts);
    PQclear(s->endpoints);
    PQclear(s->subscriptions);
    s->endpoints = s->subscriptions = NULL;
    for (int i = 0; i < m; i++)
        s_job_free(jobs[i]);
    free(jobs);
    return n;
}

/* Waits for a NOTIFY on the pool's channel, at most ms. */
static void s_wait(dlv_sender_t *s, long ms)
{
    PGconn *c = bx_pg_conn(s->pg);
    if (bx_mono_ms() >= s->listen_at) {
        const char *sql = !strcmp(s->cfg->pool, "notify") ? "LISTEN bx_delivery_notify"
                                                          : "LISTEN bx_delivery_webhook";
        if (bx_pg_exec(s->pg, sql) == BX_OK)
            s->listen_at = bx_mono_ms() + S_LISTEN_EVERY_MS;
    }
    struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
    if (pfd.fd >= 0 && poll(&pfd, 1, (int)ms) > 0 && PQconsumeInput(c)) {
        PGnotify *nt;
        while ((nt = PQnotifies(c)))
            PQfreemem(nt);
    }
}

static void *s_thread(void *arg)
{
    dlv_sender_t *s = arg;
    char ctx[32];
    snprintf(ctx, sizeof ctx, "sender-%d", s->index);
    bx_log_context(NULL, NULL, ctx);
    while (!*s->cfg->stop) {
        if (!s->pg && !(s->pg = bx_pg_new(s->cfg->pg_dsn, 1))) {
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
            continue;
        }
        int n = s_round(s);
        if (n < s->cfg->batch && !*s->cfg->stop)
            s_wait(s, n ? 0 : s->cfg->poll_ms);
    }
    return NULL;
}

static void s_free(dlv_sender_t *s)
{
    if (!s)
        return;
    bx_pg_destroy(&s->pg);
    curl_multi_cleanup(s->multi);
    EVP_PKEY_free(s->vapid);
    EVP_PKEY_free(s->callback);
    bx_dlv_key_free(&s->unsub);
    json_decref(s->open);
    free(s);
}

dlv_sender_t **dlv_senders_start(const dlv_cfg_t *cfg)
{
    dlv_sender_t **all = calloc((size_t)cfg->senders, sizeof *all);
    sigset_t set, old;
    int started = 0;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old); /* signals stay with the main thread */
    for (int i = 0; all && i < cfg->senders; i++) {
        dlv_sender_t *s = calloc(1, sizeof *s);
        if (!s || !(s->multi = curl_multi_init())) {
            s_free(s);
            break;
        }
        s->cfg = cfg;
        s->index = i;
        curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 32L);
        all[i] = s;
        s->started = pthread_create(&s->thread, NULL, s_thread, s) == 0;
        started += s->started;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!started) {
        dlv_senders_join(&all, cfg->senders);
        return NULL;
    }
    return all;
}

void dlv_senders_join(dlv_sender_t ***senders_p, int n)
{
    if (!senders_p || !*senders_p)
        return;
    dlv_sender_t **all = *senders_p;
    for (int i = 0; i < n; i++) {
        if (all[i] && all[i]->started)
            pthread_join(all[i]->thread, NULL);
        s_free(all[i]);
    }
    free(all);
    *senders_p = NULL;
}
