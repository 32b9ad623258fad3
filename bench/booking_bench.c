/* bx-booking-bench: booking confirmation latency under load (bench/booking.sh runs it).
 * Every simulated customer walks the real booking path over HTTP, each step answered
 * through the pipeline with Prefer: wait:
 *
 *   hold (2 seats side by side, or 2 GA units)  POST /events/{e}/inventory/hold
 *   checkout                                    POST /bookings {hold_id}
 *   pay with the sandbox gateway's test card    POST /payments {booking_id, ...}
 *   tickets issued                              GET /bookings/{id}/ticket until 200
 *
 * The measured latency runs from sending POST /bookings to the first 200 of the ticket
 * read: checkout, payment (gateway round trip included), confirmation and ticket issuance,
 * as a customer sees it. --connections customers run at once, each on its own keep-alive
 * connection; the events are made through the catalog API (hot_sale_setup.c). Prints one
 * JSON document: per-step p50/p95/p99, confirmed bookings per second, failures by step and
 * status. */
#include <curl/curl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bx_config.h"
#include "bx_json.h"
#include "bx_util.h"
#include "hot_sale.h"

#define S_STEPS      4 /* hold, checkout, pay, issue */
#define S_POLL_MS    10
#define S_ISSUE_MAX  30000 /* ms a booking may take to show its tickets */
#define S_STATUS_MAX 600

static const char *const s_step_names[S_STEPS] = {"hold", "checkout", "pay", "tickets"};

/* The run. */
typedef struct {
    hs_bench_t *b;
    hs_event_t ev;
    const char *provider;     /* stripe | razorpay */
    atomic_int next;          /* next customer */
    pthread_mutex_t lock;     /* guards what follows */
    double *lat[S_STEPS + 1]; /* per step, and total (checkout → tickets) */
    long nlat[S_STEPS + 1];
    long failed[S_STEPS][S_STATUS_MAX]; /* failures by step and status (0: transport) */
    long confirmed;
} s_run_t;

/* One request on the connection c as customer u; *doc gets the parsed body (may be NULL). */
static long s_call(s_run_t *r, CURL *c, int u, const char *method, const char *path,
                   const char *body, json_t **doc)
{
    char url[512], auth[HS_TOKEN_MAX + 32];
    hs_buf_t out = {0};
    long status = 0;
    struct curl_slist *h = NULL;
    snprintf(url, sizeof url, "%s%s", r->b->base, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->b->tokens[u]);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Prefer: wait=20");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hs_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_HTTPGET, body ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (doc)
        *doc = out.buf ? json_loads(out.buf, 0, NULL) : NULL;
    free(out.buf);
    curl_slist_free_all(h);
    return status;
}

static void s_fail(s_run_t *r, int step, long status)
{
    pthread_mutex_lock(&r->lock);
    r->failed[step][status > 0 && status < S_STATUS_MAX ? status : 0]++;
    pthread_mutex_unlock(&r->lock);
}

static void s_record(s_run_t *r, const double ms[S_STEPS + 1])
{
    pthread_mutex_lock(&r->lock);
    for (int s = 0; s <= S_STEPS; s++)
        r->lat[s][r->nlat[s]++] = ms[s];
    r->confirmed++;
    pthread_mutex_unlock(&r->lock);
}

/* What customer u holds: two side-by-side seats (even customers) or two GA units. */
static void s_hold_body(const s_run_t *r, int u, char *out, size_t cap)
{
    int pair = u / 2, per_pairs = r->ev.per_row / 2;
    if (u % 2 == 0 && pair / per_pairs < r->ev.rows) {
        int row = 1 + pair / per_pairs, seat = 1 + 2 * (pair % per_pairs);
        snprintf(out, cap, "{\"seats\":[\"R%d-%d\",\"R%d-%d\"]}", row, seat, row, seat + 1);
    } else {
        snprintf(out, cap, "{\"tier_id\":\"%s\",\"quantity\":2}", r->ev.standing);
    }
}

/* The id at data.id of doc, or NULL. */
static const char *s_id(json_t *doc)
{
    return json_string_value(json_object_get(json_object_get(doc, "data"), "id"));
}

static void s_customer(s_run_t *r, CURL *c, int u)
{
    char path[256], body[512], hold[37], booking[37];
    double ms[S_STEPS + 1], t0, t;
    json_t *doc = NULL;
    long st;

    snprintf(path, sizeof path, "/api/v1/events/%s/inventory/hold", r->ev.id);
    s_hold_body(r, u, body, sizeof body);
    t = (double)bx_now_ms();
    st = s_call(r, c, u, "POST", path, body, &doc);
    ms[0] = (double)bx_now_ms() - t;
    if (st != 201 || !s_id(doc)) {
        json_decref(doc);
        s_fail(r, 0, st);
        return;
    }
    bx_strlcpy(hold, s_id(doc), sizeof hold);
    json_decref(doc);

    t0 = t = (double)bx_now_ms();
    snprintf(body, sizeof body, "{\"hold_id\":\"%s\"}", hold);
    st = s_call(r, c, u, "POST", "/api/v1/bookings", body, &doc);
    ms[1] = (double)bx_now_ms() - t;
    if (st != 201 || !s_id(doc)) {
        json_decref(doc);
        s_fail(r, 1, st);
        return;
    }
    bx_strlcpy(booking, s_id(doc), sizeof booking);
    json_decref(doc);

    t = (double)bx_now_ms();
    if (!strcmp(r->provider, "razorpay"))
        snprintf(body, sizeof body,
                 "{\"booking_id\":\"%s\",\"provider\":\"razorpay\",\"method\":\"card\","
                 "\"payment_method\":\"tok_visa\"}",
                 booking);
    else
        snprintf(body, sizeof body,
                 "{\"booking_id\":\"%s\",\"provider\":\"stripe\",\"method\":\"card\","
                 "\"payment_method\":\"pm_card_visa\"}",
                 booking);
    st = s_call(r, c, u, "POST", "/api/v1/payments", body, &doc);
    ms[2] = (double)bx_now_ms() - t;
    json_decref(doc);
    if (st != 201 && st != 200) {
        s_fail(r, 2, st);
        return;
    }

    t = (double)bx_now_ms();
    snprintf(path, sizeof path, "/api/v1/bookings/%s/ticket", booking);
    for (;;) {
        st = s_call(r, c, u, "GET", path, NULL, NULL);
        if (st == 200 || (double)bx_now_ms() - t > S_ISSUE_MAX)
            break;
        if (st != 202 && st != 409 && st != 425)
            break;
        usleep(S_POLL_MS * 1000);
    }
    ms[3] = (double)bx_now_ms() - t;
    if (st != 200) {
        s_fail(r, 3, st);
        return;
    }
    ms[4] = (double)bx_now_ms() - t0;
    s_record(r, ms);
}

static void *s_thread(void *arg)
{
    s_run_t *r = arg;
    CURL *c = curl_easy_init();
    for (int u; c && (u = atomic_fetch_add(&r->next, 1)) < r->b->users;)
        s_customer(r, c, u);
    curl_easy_cleanup(c);
    return NULL;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double s_pct(double *v, long n, double p)
{
    if (n == 0)
        return 0;
    long i = (long)ceil(p / 100.0 * (double)n) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static json_t *s_latency(double *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, s_cmp);
    return json_pack("{s:I, s:f, s:f, s:f, s:f}", "n", (json_int_t)n, "p50_ms", s_pct(v, n, 50),
                     "p95_ms", s_pct(v, n, 95), "p99_ms", s_pct(v, n, 99), "max_ms",
                     n ? v[n - 1] : 0.0);
}

static void s_usage(void)
{
    fprintf(stderr, "usage: bx-booking-bench [--base URL] [--pg DSN] [--keys DIR] [--users N]\n"
                    "                        [--connections N] [--provider stripe|razorpay]\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"base", 1, 0, 'b'},  {"pg", 1, 0, 'p'},          {"keys", 1, 0, 'k'},
        {"users", 1, 0, 'u'}, {"connections", 1, 0, 'c'}, {"provider", 1, 0, 'P'},
        {0, 0, 0, 0}};
    hs_bench_t b = {.base = "http://127.0.0.1:8080", .users = 1000, .conns = 32};
    s_run_t r = {.b = &b, .provider = "stripe"};
    long n;
    int c, ok = 1;
    if (bx_config_load() != BX_OK)
        return 2;
    b.dsn = bx_config_str("pg_dsn");
    b.keys = bx_config_str("jwt_key_dir");
    while (ok && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            b.base = optarg;
            break;
        case 'p':
            b.dsn = optarg;
            break;
        case 'k':
            b.keys = optarg;
            break;
        case 'u':
            ok = bx_parse_long(optarg, 1, 200000, &n) == BX_OK, b.users = (int)n;
            break;
        case 'c':
            ok = bx_parse_long(optarg, 1, 1024, &n) == BX_OK, b.conns = (int)n;
            break;
        case 'P':
            r.provider = optarg;
            break;
        default:
            ok = 0;
        }
    }
    if (!ok || (strcmp(r.provider, "stripe") && strcmp(r.provider, "razorpay"))) {
        s_usage();
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_mutex_init(&r.lock, NULL);
    for (int s = 0; s <= S_STEPS; s++)
        r.lat[s] = calloc((size_t)b.users, sizeof(double));
    /* Every customer gets two seats or two GA units: seats for half of them, GA for the rest. */
    int per_row = 50, rows = (b.users + per_row - 1) / per_row + 1;
    bx_err_t err = hs_setup(&b);
    if (!err)
        err = hs_users(&b);
    if (!err)
        err = hs_event(&b, rows * per_row, per_row, 2 * b.users + 10, &r.ev);
    if (err) {
        fprintf(stderr, "bx-booking-bench: setup failed: %s\n", bx_err_str(err));
        return 1;
    }
    fprintf(stderr, "bx-booking-bench: %d customers, %d at once, event %s (%s)\n", b.users, b.conns,
            r.ev.id, r.provider);
    pthread_t th[1024];
    double t0 = (double)bx_now_ms();
    for (int i = 0; i < b.conns; i++)
        pthread_create(&th[i], NULL, s_thread, &r);
    for (int i = 0; i < b.conns; i++)
        pthread_join(th[i], NULL);
    double secs = ((double)bx_now_ms() - t0) / 1000.0;

    json_t *doc = json_pack("{s:{s:s, s:i, s:i, s:s}, s:f, s:I, s:f}", "config", "base", b.base,
                            "users", b.users, "connections", b.conns, "provider", r.provider,
                            "secs", secs, "confirmed", (json_int_t)r.confirmed, "confirmed_per_s",
                            (double)r.confirmed / (secs > 0 ? secs : 1));
    json_t *lat = json_object(), *failed = json_object();
    for (int s = 0; s < S_STEPS; s++) {
        json_object_set_new(lat, s_step_names[s], s_latency(r.lat[s], r.nlat[s]));
        json_t *f = json_object();
        for (int k = 0; k < S_STATUS_MAX; k++)
            if (r.failed[s][k]) {
                char key[16];
                snprintf(key, sizeof key, "%d", k);
                json_object_set_new(f, key, json_integer(r.failed[s][k]));
            }
        json_object_set_new(failed, s_step_names[s], f);
    }
    json_object_set_new(lat, "booking_to_tickets", s_latency(r.lat[S_STEPS], r.nlat[S_STEPS]));
    json_object_set_new(doc, "latency", lat);
    json_object_set_new(doc, "failed", failed);
    json_t *tot = json_object_get(lat, "booking_to_tickets");
    fprintf(stderr,
            "bx-booking-bench: %ld confirmed in %.1f s (%.1f/s); POST /bookings -> tickets: "
            "p50 %.0f ms, p95 %.0f ms, p99 %.0f ms\n",
            r.confirmed, secs, (double)r.confirmed / (secs > 0 ? secs : 1),
            json_real_value(json_object_get(tot, "p50_ms")),
            json_real_value(json_object_get(tot, "p95_ms")),
            json_real_value(json_object_get(tot, "p99_ms")));
    char *text = json_dumps(doc, JSON_INDENT(2));
    printf("%s\n", text);
    free(text);
    json_decref(doc);
    for (int s = 0; s <= S_STEPS; s++)
        free(r.lat[s]);
    free(b.tokens);
    bx_jwt_ring_destroy(&b.ring);
    bx_pg_destroy(&b.pg);
    curl_global_cleanup();
    return r.confirmed > 0 ? 0 : 1;
}
