/* hot_sale_load: the HTTP side of bx-hot-sale: b->conns keep-alive connections (libcurl
 * multi, one thread) send one hold per simulated user and time each answer. What a user
 * asks for: with probability hot_share one or two of the hot seats (row 1, centre: everyone
 * wants the same ones), else GA (40%), one or two side-by-side seats anywhere (40%) or best
 * available (20%). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_util.h"
#include "hot_sale.h"

/* One connection. */
typedef struct {
    CURL *easy;              /* the handle (keeps its connection alive) */
    struct curl_slist *hdrs; /* this request's headers */
    char url[256];           /* this request's URL */
    char body[192];          /* this request's body */
    int user;                /* user of this request */
} s_conn_t;

/* The run of one phase. */
typedef struct {
    hs_bench_t *b;            /* the bench */
    const hs_event_t *events; /* events of the phase */
    int nevents;              /* how many */
    int next;                 /* next user to send */
    double *lat_ms;           /* latency of each decided hold */
    long nlat;                /* entries in lat_ms */
    hs_result_t *r;           /* what is measured */
} s_run_t;

static size_t s_discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

/* The body of user u's hold on ev (deterministic per user). */
static void s_body(const hs_bench_t *b, const hs_event_t *ev, int u, char *out, size_t cap)
{
    unsigned seed = (unsigned)u * 2654435761u + 7u;
    int pick = (int)(rand_r(&seed) % 100), n = 1 + (int)(rand_r(&seed) % 2);
    if ((int)(rand_r(&seed) % 100) < b->hot_share) {
        int first =
            ev->per_row / 2 - b->hot_seats / 2 + 1 + (int)(rand_r(&seed) % (unsigned)b->hot_seats);
        if (first + n - 1 > ev->per_row)
            first = ev->per_row - n + 1;
        snprintf(out, cap, "{\"seats\":[\"R1-%d\"%s", first, n == 2 ? "," : "]}");
        if (n == 2)
            snprintf(out + strlen(out), cap - strlen(out), "\"R1-%d\"]}", first + 1);
    } else if (pick < 40) {
        snprintf(out, cap, "{\"tier_id\":\"%s\",\"quantity\":%d}", ev->standing, n);
    } else if (pick < 80) {
        int row = 1 + (int)(rand_r(&seed) % (unsigned)ev->rows);
        int seat = 1 + (int)(rand_r(&seed) % (unsigned)(ev->per_row - 1));
        if (n == 2)
            snprintf(out, cap, "{\"seats\":[\"R%d-%d\",\"R%d-%d\"]}", row, seat, row, seat + 1);
        else
            snprintf(out, cap, "{\"seats\":[\"R%d-%d\"]}", row, seat);
    } else {
        snprintf(out, cap, "{\"tier_id\":\"%s\",\"quantity\":%d,\"best_available\":true}",
                 ev->standard, n);
    }
}

/* Prepares the connection's next request; 0 when every user has been sent. */
static int s_next(s_run_t *run, s_conn_t *c)
{
    char h[HS_TOKEN_MAX + 64], wait[32];
    hs_bench_t *b = run->b;
    if (run->next >= b->users)
        return 0;
    c->user = run->next++;
    const hs_event_t *ev = &run->events[c->user % run->nevents];
    snprintf(c->url, sizeof c->url, "%s/api/v1/events/%s/inventory/hold", b->base, ev->id);
    s_body(b, ev, c->user, c->body, sizeof c->body);
    curl_slist_free_all(c->hdrs);
    snprintf(h, sizeof h, "Authorization: Bearer %s", b->tokens[c->user]);
    c->hdrs = curl_slist_append(NULL, h);
    c->hdrs = curl_slist_append(c->hdrs, "Content-Type: application/json");
    snprintf(wait, sizeof wait, "Prefer: wait=%d", b->wait_s);
    c->hdrs = curl_slist_append(c->hdrs, wait);
    if (b->admission && b->admission[c->user]) { /* the waiting room's admission token */
        snprintf(h, sizeof h, "Admission-Token: %s", b->admission[c->user]);
        c->hdrs = curl_slist_append(c->hdrs, h);
    }
    curl_easy_setopt(c->easy, CURLOPT_URL, c->url);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->hdrs);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
    return 1;
}

static void s_count(s_run_t *run, CURL *easy, CURLcode rc)
{
    long status = 0;
    curl_off_t us = 0;
    char key[16];
    hs_result_t *r = run->r;
    if (rc == CURLE_OK)
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &us);
    snprintf(key, sizeof key, "%ld", status);
    json_object_set_new(r->statuses, key,
                        json_integer(json_integer_value(json_object_get(r->statuses, key)) + 1));
    r->requests++;
    if (status == 201 || status == 409)
        run->lat_ms[run->nlat++] = (double)us / 1000.0;
    if (status == 201)
        r->created++;
    else if (status == 409)
        r->conflict++;
    else if (status == 202)
        r->accepted++;
    else
        r->other++;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double s_pct(const double *v, long n, double p)
{
    if (n <= 0)
        return 0;
    long i = (long)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* Drives every connection until every user was answered. */
static void s_drive(s_run_t *run, CURLM *multi, s_conn_t *conns, int n)
{
    int running = 0;
    for (int i = 0; i < n; i++)
        if (s_next(run, &conns[i]))
            curl_multi_add_handle(multi, conns[i].easy);
    do {
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            s_conn_t *c;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            s_count(run, c->easy, m->data.result);
            curl_multi_remove_handle(multi, c->easy);
            if (s_next(run, c)) {
                curl_multi_add_handle(multi, c->easy);
                running++;
            }
        }
        if (running)
            curl_multi_poll(multi, NULL, 0, 50, NULL);
    } while (running);
}

bx_err_t hs_load(hs_bench_t *b, const hs_event_t *events, int n, hs_result_t *r)
{
    s_run_t run = {.b = b, .events = events, .nevents = n, .r = r};
    s_conn_t *conns = calloc((size_t)b->conns, sizeof *conns);
    CURLM *multi = curl_multi_init();
    memset(r, 0, sizeof *r);
    r->statuses = json_object();
    run.lat_ms = calloc((size_t)b->users + 1, sizeof *run.lat_ms);
    if (!conns || !multi || !r->statuses || !run.lat_ms)
        return BX_ENOMEM;
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)b->conns);
    for (int i = 0; i < b->conns; i++) {
        conns[i].easy = curl_easy_init();
        curl_easy_setopt(conns[i].easy, CURLOPT_PRIVATE, &conns[i]);
        curl_easy_setopt(conns[i].easy, CURLOPT_WRITEFUNCTION, s_discard);
        curl_easy_setopt(conns[i].easy, CURLOPT_TIMEOUT, (long)b->wait_s + 30L);
        curl_easy_setopt(conns[i].easy, CURLOPT_NOSIGNAL, 1L);
    }
    int64_t t0 = bx_mono_ms();
    s_drive(&run, multi, conns, b->conns);
    r->secs = (double)(bx_mono_ms() - t0) / 1000.0;
    qsort(run.lat_ms, (size_t)run.nlat, sizeof *run.lat_ms, s_cmp);
    r->p50 = s_pct(run.lat_ms, run.nlat, 0.50);
    r->p95 = s_pct(run.lat_ms, run.nlat, 0.95);
    r->p99 = s_pct(run.lat_ms, run.nlat, 0.99);
    r->max_ms = run.nlat ? run.lat_ms[run.nlat - 1] : 0;
    for (int i = 0; i < b->conns; i++) {
        curl_slist_free_all(conns[i].hdrs);
        curl_easy_cleanup(conns[i].easy);
    }
    curl_multi_cleanup(multi);
    free(conns);
    free(run.lat_ms);
    return BX_OK;
}

json_t *hs_result_json(const char *name, const hs_result_t *r, int events)
{
    double secs = r->secs > 0 ? r->secs : 1;
    return json_pack(
        "{s:s, s:i, s:I, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:O, s:{s:f, s:f, s:f, s:f}}", "name",
        name, "events", events, "requests", (json_int_t)r->requests, "duration_s", r->secs,
        "decided_per_s", (double)(r->created + r->conflict) / secs, "holds_per_s",
        (double)r->created / secs, "created", (json_int_t)r->created, "conflict",
        (json_int_t)r->conflict, "accepted", (json_int_t)r->accepted, "other", (json_int_t)r->other,
        "statuses", r->statuses, "latency_ms", "p50", r->p50, "p95", r->p95, "p99", r->p99, "max",
        r->max_ms);
}
