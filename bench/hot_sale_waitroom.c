/* hot_sale_waitroom: the "waitroom" phase of bx-hot-sale. A fresh event of the hot event's
 * size gets a waiting room whose sale starts after every simulated user joined (so they
 * all enter the pre-sale lottery); then each user polls its position, honouring
 * Retry-After, and the moment it is admitted sends one hold with its Admission-Token, as a
 * real shopper would. The run ends when every user held, or when nobody was admitted for
 * BENCH_WR_IDLE_S seconds (the inventory is gone: the gatekeeper admits no more shoppers
 * than the unsold, unheld units can serve). It prints admissions per minute as the
 * clients saw them and as the partner's statistics say, against the configured rate,
 * plus joins, polls and holds (latency percentiles) and the event's oversell count.
 * Knobs (environment): BENCH_WR_RATE admissions per minute (60000), BENCH_WR_MAX_ACTIVE
 * (10000), BENCH_WR_TTL admission token lifetime in s (60), BENCH_WR_IDLE_S (10). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_json.h"
#include "bx_util.h"
#include "hot_sale.h"

#define S_BODY_MAX 65536 /* largest answer kept (a position with its token is ~1 KiB) */

/* Where a user is. */
typedef enum { S_JOIN = 0, S_WAIT, S_POLL, S_HOLD, S_DONE } s_step_t;

typedef struct {
    s_step_t step;       /* next request */
    int64_t due_ms;      /* not before (Retry-After) */
    char *queue_token;   /* from the join answer, heap */
    int64_t admitted_ms; /* when the client saw its admission, 0 before */
} s_user_t;

/* One connection. */
typedef struct {
    CURL *easy;
    struct curl_slist *hdrs;
    char url[256];
    char body[160];
    char *resp; /* answer, heap */
    size_t len;
    int user;
    int64_t sent_ms;
} s_conn_t;

/* The phase. */
typedef struct {
    hs_bench_t *b;
    hs_event_t ev;
    s_user_t *users;
    int *heap; /* users waiting for their due time, min-heap by due_ms */
    int nheap;
    int next_join; /* joins are sent in user order */
    int joining;   /* 1 while joins are sent; 0 once the sale started */
    long joins, polls, holds_201, holds_409, holds_202, holds_other, admitted, errors, sold_out;
    long holding;    /* holds in flight */
    int64_t sale_ms; /* when the sale phase began */
    double *hold_ms;
    long nhold;
    int64_t first_adm, last_adm;
} s_run_t;

static int s_env(const char *name, int def)
{
    const char *v = getenv(name);
    long n;
    return v && bx_parse_long(v, 1, 100000000, &n) == BX_OK ? (int)n : def;
}

/* ---- the due-time heap ---- */

static void s_push(s_run_t *run, int u)
{
    int i = run->nheap++;
    run->heap[i] = u;
    while (i > 0) {
        int p = (i - 1) / 2;
        if (run->users[run->heap[p]].due_ms <= run->users[u].due_ms)
            break;
        run->heap[i] = run->heap[p];
        run->heap[p] = u;
        i = p;
    }
}

static int s_pop_due(s_run_t *run, int64_t now)
{
    if (run->nheap == 0 || run->users[run->heap[0]].due_ms > now)
        return -1;
    int top = run->heap[0], i = 0;
    run->heap[0] = run->heap[--run->nheap];
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < run->nheap && run->users[run->heap[l]].due_ms < run->users[run->heap[m]].due_ms)
            m = l;
        if (r < run->nheap && run->users[run->heap[r]].due_ms < run->users[run->heap[m]].due_ms)
            m = r;
        if (m == i)
            break;
        int t = run->heap[i];
        run->heap[i] = run->heap[m];
        run->heap[m] = t;
        i = m;
    }
    return top;
}

/* ---- requests ---- */

static size_t s_collect(char *data, size_t size, size_t n, void *arg)
{
    s_conn_t *c = arg;
    size_t k = size * n;
    if (c->len + k > S_BODY_MAX)
        return k; /* kept short: nothing we read is that long */
    char *grown = realloc(c->resp, c->len + k + 1);
    if (!grown)
        return 0;
    memcpy(grown + c->len, data, k);
    c->resp = grown;
    c->len += k;
    c->resp[c->len] = '\0';
    return k;
}

static void s_header(s_conn_t *c, const char *name, const char *value)
{
    char h[HS_TOKEN_MAX + 64];
    snprintf(h, sizeof h, "%s: %s", name, value);
    c->hdrs = curl_slist_append(c->hdrs, h);
}

/* Prepares user u's next request on c. */
static void s_prepare(s_run_t *run, s_conn_t *c, int u)
{
    hs_bench_t *b = run->b;
    s_user_t *us = &run->users[u];
    char wait[32];
    curl_slist_free_all(c->hdrs);
    c->hdrs = NULL;
    c->user = u;
    c->len = 0;
    snprintf(c->url, sizeof c->url, "%s/api/v1/events/%s/waiting-room/%s", b->base, run->ev.id,
             us->step == S_JOIN ? "join" : "position");
    char auth[HS_TOKEN_MAX + 16];
    snprintf(auth, sizeof auth, "Bearer %s", b->tokens[u]);
    s_header(c, "Authorization", auth);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
    if (us->step == S_JOIN) {
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, "");
    } else if (us->step == S_POLL) {
        s_header(c, "Queue-Token", us->queue_token);
    } else { /* S_HOLD: half GA, half best available, one or two tickets */
        unsigned seed = (unsigned)u * 2654435761u + 11u;
        int n = 1 + (int)(rand_r(&seed) % 2), ga = (int)(rand_r(&seed) % 2);
        snprintf(c->url, sizeof c->url, "%s/api/v1/events/%s/inventory/hold", b->base, run->ev.id);
        snprintf(c->body, sizeof c->body, "{\"tier_id\":\"%s\",\"quantity\":%d%s}",
                 ga ? run->ev.standing : run->ev.standard, n, ga ? "" : ",\"best_available\":true");
        s_header(c, "Content-Type", "application/json");
        snprintf(wait, sizeof wait, "wait=%d", b->wait_s);
        s_header(c, "Prefer", wait);
        s_header(c, "Admission-Token", b->admission[u]);
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
    }
    curl_easy_setopt(c->easy, CURLOPT_URL, c->url);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->hdrs);
    c->sent_ms = bx_mono_ms();
}

/* The next user with something to send now, or -1. */
static int s_next_user(s_run_t *run)
{
    if (run->joining && run->next_join < run->b->users)
        return run->next_join++;
    return run->joining ? -1 : s_pop_due(run, bx_mono_ms());
}

/* ---- answers ---- */

static void s_after_join(s_run_t *run, s_conn_t *c, long status, json_t *doc)
{
    s_user_t *us = &run->users[c->user];
    const char *qt = json_string_value(json_object_get(
        json_object_get(json_object_get(doc, "data"), "attributes"), "queue_token"));
    if ((status == 201 || status == 200) && qt) {
        us->queue_token = strdup(qt);
        us->step = S_WAIT;
        run->joins++;
        if (!run->joining) { /* a retried join: straight to polling */
            us->due_ms = bx_mono_ms() + 1000;
            s_push(run, c->user);
        }
    } else { /* try again a little later */
        run->errors++;
        us->due_ms = bx_mono_ms() + 500;
        s_push(run, c->user);
        run->users[c->user].step = S_JOIN;
    }
}

static void s_after_poll(s_run_t *run, s_conn_t *c, long status, json_t *doc, long retry_s)
{
    s_user_t *us = &run->users[c->user];
    json_t *attrs = json_object_get(json_object_get(doc, "data"), "attributes");
    const char *state = json_string_value(json_object_get(attrs, "state"));
    const char *adm = json_string_value(json_object_get(attrs, "admission_token"));
    run->polls++;
    if (status == 200 && state && !strcmp(state, "admitted") && adm) {
        run->b->admission[c->user] = strdup(adm);
        us->admitted_ms = bx_mono_ms();
        run->first_adm = run->first_adm ? run->first_adm : us->admitted_ms;
        run->last_adm = us->admitted_ms;
        run->admitted++;
        us->step = S_HOLD;
        us->due_ms = 0;
    } else if (status == 200 && state && !strcmp(state, "sold_out")) {
        us->step = S_DONE;
        run->sold_out++;
        return;
    } else {
        us->due_ms = bx_mono_ms() + (retry_s > 0 ? retry_s : 1) * 1000;
        if (status != 200)
            run->errors++;
    }
    s_push(run, c->user);
}

static void s_after_hold(s_run_t *run, s_conn_t *c, long status)
{
    run->holding--;
    if (status == 201 || status == 409)
        run->hold_ms[run->nhold++] = (double)(bx_mono_ms() - c->sent_ms);
    if (status == 201)
        run->holds_201++;
    else if (status == 409)
        run->holds_409++;
    else if (status == 202)
        run->holds_202++;
    else
        run->holds_other++;
    run->users[c->user].step = S_DONE;
}

static void s_done(s_run_t *run, s_conn_t *c, CURLcode rc)
{
    long status = 0;
    curl_off_t retry = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c->easy, CURLINFO_RETRY_AFTER, &retry);
    json_t *doc = c->resp ? json_loadb(c->resp, c->len, 0, NULL) : NULL;
    s_step_t step = run->users[c->user].step;
    if (step == S_JOIN)
        s_after_join(run, c, status, doc);
    else if (step == S_POLL)
        s_after_poll(run, c, status, doc, (long)retry);
    else
        s_after_hold(run, c, status);
    json_decref(doc);
}

/* ---- the run ---- */

/* Sends the next request of someone due on c; 0 when nobody is due. */
static int s_send(s_run_t *run, CURLM *multi, s_conn_t *c)
{
    int u = s_next_user(run);
    if (u < 0)
        return 0;
    if (run->users[u].step == S_WAIT)
        run->users[u].step = S_POLL;
    if (run->users[u].step == S_HOLD)
        run->holding++;
    s_prepare(run, c, u);
    curl_multi_add_handle(multi, c->easy);
    return 1;
}

/* Drives the connections until stop() says so. */
static void s_drive(s_run_t *run, CURLM *multi, s_conn_t *conns, int n,
                    int (*stop)(s_run_t *run, int busy))
{
    int busy = 0, running = 0;
    char *idle = calloc((size_t)n, 1);
    for (int i = 0; i < n; i++)
        idle[i] = 1;
    while (!stop(run, busy)) {
        for (int i = 0; i < n; i++)
            if (idle[i] && s_send(run, multi, &conns[i])) {
                idle[i] = 0;
                busy++;
            }
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            s_conn_t *c;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            s_done(run, c, m->data.result);
            curl_multi_remove_handle(multi, c->easy);
            idle[c - conns] = 1;
            busy--;
        }
        curl_multi_poll(multi, NULL, 0, busy ? 20 : 5, NULL);
    }
    for (int i = 0; i < n; i++) /* polls still out are abandoned with the run */
        if (!idle[i])
            curl_multi_remove_handle(multi, conns[i].easy);
    free(idle);
}

static int s_joined_all(s_run_t *run, int busy)
{
    return run->next_join >= run->b->users && busy == 0;
}

static int s_idle_s;

/* Everyone held or was told sold out; or nobody was admitted for s_idle_s (the inventory
 * is held) and no hold is still out. */
static int s_finished(s_run_t *run, int busy)
{
    int64_t now = bx_mono_ms(), last = run->last_adm ? run->last_adm : run->sale_ms;
    if (busy == 0 && run->nheap == 0)
        return 1;
    return run->holding == 0 && now - last > (int64_t)s_idle_s * 1000;
}

/* Opens the room with its sale far away (everyone joins the pre-queue). */
static bx_err_t s_room(hs_bench_t *b, const char *ev, int64_t sale_at)
{
    char path[128], body[512], sale[32], pre[32];
    bx_time_rfc3339(sale_at, sale);
    bx_time_rfc3339(bx_now_ms() / 1000 - 60, pre);
    snprintf(path, sizeof path, "/api/v1/events/%s/waiting-room", ev);
    snprintf(body, sizeof body,
             "{\"enabled\":true,\"prequeue_opens_at\":\"%s\",\"sale_starts_at\":\"%s\","
             "\"admit_per_minute\":%d,\"max_active_shoppers\":%d,\"token_ttl_s\":%d,"
             "\"inventory_margin_pct\":10}",
             pre, sale, s_env("BENCH_WR_RATE", 60000), s_env("BENCH_WR_MAX_ACTIVE", 10000),
             s_env("BENCH_WR_TTL", 60));
    long st = hs_api(b, "PUT", path, body, NULL);
    return st == 200 || st == 201 ? BX_OK : BX_EUNAVAILABLE;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double s_pct(const double *v, long n, double p)
{
    long i = (long)(p * (double)(n - 1) + 0.5);
    return n > 0 ? v[i < n ? i : n - 1] : 0;
}

/* The partner's view of the room: {"stats": {...}} (new reference) or null. */
static json_t *s_server_stats(hs_bench_t *b, const char *ev)
{
    char path[128];
    json_t *doc = NULL;
    snprintf(path, sizeof path, "/api/v1/events/%s/waiting-room", ev);
    hs_api(b, "GET", path, NULL, &doc);
    json_t *stats =
        json_object_get(json_object_get(json_object_get(doc, "data"), "attributes"), "stats");
    json_t *out = stats ? json_incref(stats) : json_null();
    json_decref(doc);
    return out;
}

/* The gatekeeper's admissions as PostgreSQL recorded them: {admitted, span_s,
 * per_minute, max_per_second} (new reference). */
static json_t *s_server_rate(hs_bench_t *b, const char *ev)
{
    bx_err_t err;
    const char *p[] = {ev};
    PGresult *res = bx_pg_query(b->pg, "bench_wr_admissions", 1, p, &err);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        return json_null();
    }
    long n = strtol(bx_pg_val(res, 0, 0), NULL, 10);
    double span = strtod(bx_pg_val(res, 0, 1), NULL);
    json_t *out = json_pack("{s:I, s:f, s:f, s:I}", "admitted", (json_int_t)n, "span_s", span,
                            "per_minute", span > 0 ? (double)(n - 1) * 60.0 / span : 0.0,
                            "max_per_second", (json_int_t)strtol(bx_pg_val(res, 0, 2), NULL, 10));
    PQclear(res);
    return out;
}

static json_t *s_report(s_run_t *run, double join_s, double sale_s, json_t *stats, long oversell)
{
    double adm_min = run->last_adm > run->first_adm ? (double)(run->admitted - 1) * 60000.0 /
                                                          (double)(run->last_adm - run->first_adm)
                                                    : 0;
    qsort(run->hold_ms, (size_t)run->nhold, sizeof *run->hold_ms, s_cmp);
    json_t *r =
        json_pack("{s:s, s:i, s:I, s:f, s:f, s:I, s:I, s:i, s:f, s:I}", "name", "waitroom", "users",
                  run->b->users, "joined", (json_int_t)run->joins, "join_s", join_s, "sale_s",
                  sale_s, "polls", (json_int_t)run->polls, "admitted", (json_int_t)run->admitted,
                  "admit_per_minute_configured", s_env("BENCH_WR_RATE", 60000),
                  "admissions_per_minute_observed", adm_min, "errors", (json_int_t)run->errors);
    /* the fields every phase of bx-hot-sale reports (bench/hot-sale.sh renders them) */
    double secs = sale_s > 0 ? sale_s : 1;
    json_object_set_new(r, "events", json_integer(1));
    json_object_set_new(r, "secs", json_real(sale_s));
    json_object_set_new(r, "decided_per_s",
                        json_real((double)(run->holds_201 + run->holds_409) / secs));
    json_object_set_new(r, "holds_per_s", json_real((double)run->holds_201 / secs));
    json_object_set_new(r, "created", json_integer(run->holds_201));
    json_object_set_new(r, "conflict", json_integer(run->holds_409));
    json_object_set_new(r, "accepted", json_integer(run->holds_202));
    json_object_set_new(r, "other", json_integer(run->holds_other));
    json_object_set_new(r, "latency_ms",
                        json_pack("{s:f, s:f, s:f}", "p50", s_pct(run->hold_ms, run->nhold, 0.5),
                                  "p95", s_pct(run->hold_ms, run->nhold, 0.95), "p99",
                                  s_pct(run->hold_ms, run->nhold, 0.99)));
    json_object_set_new(r, "told_sold_out", json_integer(run->sold_out));
    json_object_set_new(r, "still_waiting",
                        json_integer(run->b->users - run->admitted - run->sold_out));
    json_object_set_new(r, "server_stats", stats);
    json_object_set_new(r, "server_admissions", s_server_rate(run->b, run->ev.id));
    json_object_set_new(r, "oversell", json_integer(oversell));
    return r;
}

static bx_err_t s_setup_run(hs_bench_t *b, const hs_event_t *hot, s_run_t *run, s_conn_t **conns,
                            CURLM **multi)
{
    memset(run, 0, sizeof *run);
    run->b = b;
    run->joining = 1;
    run->users = calloc((size_t)b->users, sizeof *run->users);
    run->heap = calloc((size_t)b->users, sizeof *run->heap);
    run->hold_ms = calloc((size_t)b->users + 1, sizeof *run->hold_ms);
    if (!b->admission)
        b->admission = calloc((size_t)b->users, sizeof *b->admission);
    *conns = calloc((size_t)b->conns, sizeof **conns);
    *multi = curl_multi_init();
    if (!run->users || !run->heap || !run->hold_ms || !b->admission || !*conns || !*multi)
        return BX_ENOMEM;
    for (int i = 0; i < b->conns; i++) {
        s_conn_t *c = &(*conns)[i];
        c->easy = curl_easy_init();
        curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
        curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, s_collect);
        curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->easy, CURLOPT_TIMEOUT, (long)b->wait_s + 30L);
        curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    }
    curl_multi_setopt(*multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)b->conns);
    s_idle_s = s_env("BENCH_WR_IDLE_S", 10);
    return hs_event(b, hot->rows * hot->per_row, hot->per_row, hot->ga, &run->ev);
}

static void s_free_run(s_run_t *run, s_conn_t *conns, CURLM *multi)
{
    for (int i = 0; conns && i < run->b->conns; i++) {
        curl_slist_free_all(conns[i].hdrs);
        free(conns[i].resp);
        curl_easy_cleanup(conns[i].easy);
    }
    if (multi)
        curl_multi_cleanup(multi);
    for (int u = 0; run->users && u < run->b->users; u++)
        free(run->users[u].queue_token);
    free(conns);
    free(run->users);
    free(run->heap);
    free(run->hold_ms);
}

bx_err_t hs_waitroom(hs_bench_t *b, hs_event_t *hot, hs_event_t *spread, json_t *phases)
{
    s_run_t run;
    s_conn_t *conns = NULL;
    CURLM *multi = NULL;
    long seats = 0, ga = 0;
    (void)spread;
    bx_err_t err = s_setup_run(b, hot, &run, &conns, &multi);
    if (!err)
        err = s_room(b, run.ev.id, bx_now_ms() / 1000 + 86400);
    if (err) {
        s_free_run(&run, conns, multi);
        return err;
    }
    fprintf(stderr, "bx-hot-sale: phase waitroom: %d users join the pre-queue of %s\n", b->users,
            run.ev.id);
    int64_t t0 = bx_mono_ms();
    s_drive(&run, multi, conns, b->conns, s_joined_all);
    double join_s = (double)(bx_mono_ms() - t0) / 1000.0;
    for (int u = 0; u < b->users; u++)
        if (run.users[u].step == S_WAIT) {
            run.users[u].due_ms = bx_mono_ms() + 2000;
            s_push(&run, u);
        }
    run.joining = 0;
    err = s_room(b, run.ev.id, bx_now_ms() / 1000 + 2); /* the sale starts: the lottery is drawn */
    int64_t t1 = bx_mono_ms();
    run.sale_ms = t1 + 2000;
    if (!err)
        s_drive(&run, multi, conns, b->conns, s_finished);
    double sale_s = (double)(bx_mono_ms() - t1) / 1000.0;
    hs_settle(b, &run.ev, 1, 60);
    long bad = hs_oversell(b, &run.ev, 1, &seats, &ga);
    json_t *r = s_report(&run, join_s, sale_s, s_server_stats(b, run.ev.id), bad);
    fprintf(
        stderr,
        "bx-hot-sale: waitroom: %ld joined in %.1f s; %ld admitted in %.1f s: %.0f admissions/min "
        "by the gatekeeper's clock, %.0f as clients saw them (configured %d); holds 201 %ld, "
        "409 %ld, 202 %ld, other %ld; %ld still waiting; oversell %ld\n",
        run.joins, join_s, run.admitted, sale_s,
        json_real_value(json_object_get(json_object_get(r, "server_admissions"), "per_minute")),
        json_real_value(json_object_get(r, "admissions_per_minute_observed")),
        s_env("BENCH_WR_RATE", 60000), run.holds_201, run.holds_409, run.holds_202, run.holds_other,
        b->users - run.admitted - run.sold_out, bad);
    json_array_append_new(phases, r);
    s_free_run(&run, conns, multi);
    return err;
}
