/* dlv_engine: the rules every channel shares: the retry schedule with jitter, what an
 * HTTP answer means, the request options every outbound call gets (timeouts, no
 * redirects, no proxy, the SSRF guard at connect), and the one transaction that records
 * a batch: delivery states (succeeded, retry at, dead letter), the attempt log, circuit
 * breakers, webhook endpoints disabled by 410 or five days of failure (with a notice to
 * the partner), expired push subscriptions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_dlv.h"
#include "bx_json.h"
#include "bx_log.h"
#include "bx_metrics.h"
#include "bx_util.h"
#include "dlv.h"

/* Seconds to wait after the n-th failed attempt (n = 1..7); the 8th failure is final. */
static const int64_t s_schedule_s[DLV_ATTEMPTS_MAX - 1] = {5, 300, 1800, 7200, 18000, 36000, 36000};

int64_t dlv_backoff_ms(int attempts_done, long divisor)
{
    if (attempts_done < 1 || attempts_done >= DLV_ATTEMPTS_MAX)
        return -1;
    int64_t base = s_schedule_s[attempts_done - 1] * 1000 / (divisor > 0 ? divisor : 1);
    unsigned char r[2];
    bx_random(r, sizeof r);
    int64_t jitter = base / 10; /* +-10 %: retries of one outage spread out */
    int64_t spread =
        jitter ? (int64_t)(((unsigned)r[0] << 8 | r[1]) % (unsigned)(2 * jitter + 1)) - jitter : 0;
    return base + spread;
}

dlv_outcome_t dlv_judge_http(CURLcode rc, long status)
{
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return DLV_TIMEOUT;
    if (rc != CURLE_OK)
        return DLV_FAIL;
    if (status >= 200 && status < 300)
        return DLV_OK;
    if (status == 410)
        return DLV_GONE;
    if (status == 408 || status == 429 || status >= 500)
        return DLV_FAIL;
    return DLV_FAIL_SOFT;
}

static size_t s_capture(char *data, size_t size, size_t nmemb, void *arg)
{
    dlv_job_t *job = arg;
    size_t n = size * nmemb, room = DLV_RESP_MAX - job->resp_len;
    size_t take = n < room ? n : room;
    memcpy(job->resp + job->resp_len, data, take);
    job->resp_len += take;
    job->resp[job->resp_len] = '\0';
    return n; /* the rest is read and dropped */
}

static curl_socket_t s_open_guarded(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    dlv_job_t *job = arg;
    (void)purpose;
    if (!bx_ssrf_addr_ok(job->cfg->ssrf, &a->addr)) {
        job->blocked = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

void dlv_http_defaults(dlv_sender_t *s, dlv_job_t *job, int guard)
{
    const dlv_cfg_t *cfg = dlv_sender_cfg(s);
    CURL *e = job->easy;
    long connect = cfg->timeout_ms < 5000 ? cfg->timeout_ms : 5000;
    curl_easy_setopt(e, CURLOPT_PRIVATE, job);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_capture);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, job);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, job->errbuf);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "boxoffice-delivery/1");
    if (guard) {
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, s_open_guarded);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, job);
    }
}

/* ---- recording a batch ---- */

/* What the batch did to breakers, endpoints and subscriptions. */
typedef struct {
    json_t *ok_keys;   /* breakers that saw a success */
    json_t *fail_keys; /* key -> failures */
    json_t *endpoints; /* endpoint id -> true when any delivery to it succeeded */
    json_t *gone_eps;  /* endpoints that answered 410 */
    json_t *gone_subs; /* push subscriptions the push service no longer knows */
} s_effects_t;

static const char *s_state(const dlv_job_t *job, const dlv_cfg_t *cfg, int64_t *delay)
{
    *delay = 0;
    if (job->deferred) {
        *delay = job->defer_ms > 0 ? job->defer_ms : 0;
        return "pending";
    }
    if (job->outcome == DLV_OK)
        return "succeeded";
    if (job->outcome == DLV_GONE || job->outcome == DLV_REJECTED)
        return "dead";
    *delay = dlv_backoff_ms(job->attempt, cfg->backoff_divisor);
    return *delay < 0 ? "dead" : "pending";
}

/* Notes what every step of the batch tells its breaker: a success closes it, a
 * transport failure, timeout, 5xx or 429 counts against it. */
static void s_effects_breakers(s_effects_t *fx, json_t *attempts)
{
    size_t i;
    json_t *a;
    json_array_foreach(attempts, i, a)
    {
        json_t *b = json_object_get(a, "breaker");
        const char *key = json_string_value(json_object_get(b, "key"));
        if (!key)
            continue;
        if (json_is_true(json_object_get(b, "ok")))
            json_array_append_new(fx->ok_keys, json_string(key));
        else if (json_is_true(json_object_get(b, "trip"))) {
            json_t *n = json_object_get(fx->fail_keys, key);
            json_object_set_new(fx->fail_keys, key,
                                json_integer(n ? json_integer_value(n) + 1 : 1));
        }
    }
}

/* Notes what job's outcome tells about its webhook endpoint and push subscription. */
static void s_effects_add(s_effects_t *fx, const dlv_job_t *job)
{
    if (job->deferred)
        return;
    if (!strcmp(job->channel, "webhook") && job->outcome != DLV_REJECTED) {
        int ok = job->outcome == DLV_OK ||
                 json_is_true(json_object_get(fx->endpoints, job->endpoint_id));
        json_object_set_new(fx->endpoints, job->endpoint_id, json_boolean(ok));
        if (job->outcome == DLV_GONE)
            json_array_append_new(fx->gone_eps, json_string(job->endpoint_id));
    }
    if (!strcmp(job->channel, "push") && job->outcome == DLV_GONE)
        json_array_append_new(fx->gone_subs, json_string(job->subscription_id));
}

static bx_err_t s_run_json(bx_pg_t *pg, const char *query, json_t *doc)
{
    char *text = bx_json_dump(doc);
    if (!text)
        return BX_ENOMEM;
    const char *p[] = {text};
    bx_err_t err = bx_pg_run(pg, query, 1, p);
    free(text);
    return err;
}

/* The notice to the owners of the endpoint's organization, and the end of its queue. */
static bx_err_t s_endpoint_disabled(bx_pg_t *pg, const char *endpoint_id)
{
    bx_err_t err;
    const char *p[] = {endpoint_id};
    PGresult *ep = bx_pg_query(pg, "dlv_endpoint_notice", 1, p, &err);
    if (!ep || PQntuples(ep) != 1) {
        PQclear(ep);
        return err;
    }
    const char *bury[] = {endpoint_id, bx_pg_val(ep, 0, 2)};
    err = bx_pg_run(pg, "dlv_endpoint_bury", 2, bury);
    const char *po[] = {bx_pg_val(ep, 0, 0)};
    PGresult *owners = err ? NULL : bx_pg_query(pg, "dlv_org_owners", 1, po, &err);
    json_t *data =
        json_pack("{s:s, s:s, s:s, s:s}", "endpoint_id", endpoint_id, "url", bx_pg_val(ep, 0, 1),
                  "reason", bx_pg_val(ep, 0, 2), "organization_id", bx_pg_val(ep, 0, 0));
    for (int r = 0; owners && !err && r < PQntuples(owners); r++)
        err = bx_dlv_notify_user(pg, "webhook.endpoint_disabled", bx_pg_val(owners, r, 0), data,
                                 NULL, NULL, NULL);
    BX_WARN("webhook endpoint %s disabled: %s", endpoint_id, bx_pg_val(ep, 0, 2));
    json_decref(data);
    PQclear(owners);
    PQclear(ep);
    return err;
}

static bx_err_t s_breakers(bx_pg_t *pg, const dlv_cfg_t *cfg, s_effects_t *fx)
{
    bx_err_t err =
        json_array_size(fx->ok_keys) ? s_run_json(pg, "dlv_breaker_ok", fx->ok_keys) : BX_OK;
    const char *key;
    json_t *n;
    char cnt[16], thr[16], cool[24], max[24];
    snprintf(thr, sizeof thr, "%d", cfg->breaker_threshold);
    snprintf(cool, sizeof cool, "%ld", cfg->breaker_cooldown_ms);
    snprintf(max, sizeof max, "%ld", cfg->breaker_max_ms);
    json_object_foreach(fx->fail_keys, key, n)
    {
        snprintf(cnt, sizeof cnt, "%lld", (long long)json_integer_value(n));
        const char *p[] = {key, cnt, thr, cool, max};
        PGresult *res = err ? NULL : bx_pg_query(pg, "dlv_breaker_fail", 5, p, &err);
        const char *until = res ? bx_pg_val(res, 0, 0) : NULL;
        if (until && !strncmp(key, "endpoint:", 9)) {
            const char *pp[] = {key + 9, until};
            err = bx_pg_run(pg, "dlv_postpone_endpoint", 2, pp);
        }
        if (until)
            BX_WARN("circuit breaker %s opened until %s", key, until);
        PQclear(res);
    }
    return err;
}

static bx_err_t s_endpoints(bx_pg_t *pg, const dlv_cfg_t *cfg, s_effects_t *fx)
{
    bx_err_t err = BX_OK;
    const char *id;
    json_t *ok;
    size_t i;
    json_t *gone;
    char after[16];
    snprintf(after, sizeof after, "%ld", cfg->disable_after_s);
    json_array_foreach(fx->gone_eps, i, gone)
    {
        const char *p[] = {json_string_value(gone)};
        PGresult *res = err ? NULL : bx_pg_query(pg, "dlv_endpoint_gone", 1, p, &err);
        if (res && PQntuples(res) == 1)
            err = s_endpoint_disabled(pg, json_string_value(gone));
        PQclear(res);
    }
    json_object_foreach(fx->endpoints, id, ok)
    {
        const char *p[] = {id, json_is_true(ok) ? "true" : "false", after};
        PGresult *res = err ? NULL : bx_pg_query(pg, "dlv_endpoint_outcome", 3, p, &err);
        if (res && !strcmp(bx_pg_val(res, 0, 0), "t"))
            err = s_endpoint_disabled(pg, id);
        PQclear(res);
    }
    json_array_foreach(fx->gone_subs, i, gone)
    {
        const char *p[] = {json_string_value(gone)};
        if (!err)
            err = bx_pg_run(pg, "dlv_subscription_expire", 1, p);
    }
    return err;
}

static void s_count(const dlv_job_t *job, const char *state)
{
    bx_metric_t *m = bx_metrics_counter("bx_delivery_outcomes_total",
                                        "Deliveries by channel and what their attempt ended in.",
                                        "channel,state");
    bx_counter_inc(bx_metric_series(m, job->channel, job->deferred ? "deferred" : state));
}

bx_err_t dlv_engine_record(dlv_sender_t *s, dlv_job_t **jobs, int n, json_t *attempts,
                           const char *claim)
{
    const dlv_cfg_t *cfg = dlv_sender_cfg(s);
    bx_pg_t *pg = dlv_sender_pg(s);
    s_effects_t fx = {json_array(), json_object(), json_object(), json_array(), json_array()};
    json_t *rows = json_array();
    for (int i = 0; i < n; i++) {
        int64_t delay;
        const char *state = s_state(jobs[i], cfg, &delay);
        json_array_append_new(
            rows,
            json_pack("{s:s, s:s, s:s, s:I, s:i, s:s, s:s?}", "id", jobs[i]->id, "claim", claim,
                      "status", state, "delay_ms", (json_int_t)delay, "uncount", jobs[i]->deferred,
                      "provider", jobs[i]->provider, "error",
                      jobs[i]->outcome == DLV_OK && !jobs[i]->deferred ? NULL : jobs[i]->error));
        s_effects_add(&fx, jobs[i]);
        s_count(jobs[i], state);
    }
    s_effects_breakers(&fx, attempts);
    bx_err_t err = bx_pg_begin(pg);
    if (!err)
        err = s_run_json(pg, "dlv_record", rows);
    if (!err && json_array_size(attempts))
        err = s_run_json(pg, "dlv_attempts_insert", attempts);
    if (!err)
        err = s_breakers(pg, cfg, &fx);
    if (!err)
        err = s_endpoints(pg, cfg, &fx);
    if (!err)
        err = bx_pg_commit(pg);
    if (err)
        bx_pg_rollback(pg);
    json_decref(rows);
    json_decref(fx.ok_keys);
    json_decref(fx.fail_keys);
    json_decref(fx.endpoints);
    json_decref(fx.gone_eps);
    json_decref(fx.gone_subs);
    return err;
}
