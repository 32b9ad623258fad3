/* test_metrics: the metric registry (bx_metrics): exact text exposition of counters,
 * gauges and histograms with labels and escaping, registration rules, the series cap,
 * lock-free updates from many threads, callbacks, the process_* metrics, and the /metrics
 * HTTP server spoken to over real HTTP. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bx_httpc.h"
#include "bx_metrics.h"
#include "bx_suite.h"

#define S_PORT 25711 /* this suite's metrics server port */

/* The rendered block of one family: from its "# HELP name " line to the next family.
 * Caller frees. */
static char *s_block(const char *name)
{
    char *all = bx_metrics_render(), head[160];
    ck_assert_ptr_nonnull(all);
    snprintf(head, sizeof head, "# HELP %s ", name);
    char *start = strstr(all, head);
    ck_assert_msg(start != NULL, "family %s not rendered", name);
    char *end = strstr(start + 1, "# HELP ");
    size_t n = end ? (size_t)(end - start) : strlen(start);
    char *out = strndup(start, n);
    free(all);
    return out;
}

START_TEST(counter_with_labels_renders_exactly)
{
    bx_metric_t *f =
        bx_metrics_counter("t_requests_total", "Requests by method and code.", "method,code");
    ck_assert_ptr_nonnull(f);
    bx_counter_inc(bx_metric_series(f, "GET", "200"));
    bx_counter_add(bx_metric_series(f, "GET", "200"), 2);
    bx_counter_inc(bx_metric_series(f, "POST", "500"));
    char *b = s_block("t_requests_total");
    ck_assert_str_eq(b, "# HELP t_requests_total Requests by method and code.\n"
                        "# TYPE t_requests_total counter\n"
                        "t_requests_total{method=\"GET\",code=\"200\"} 3\n"
                        "t_requests_total{method=\"POST\",code=\"500\"} 1\n");
    free(b);
}
END_TEST

START_TEST(unlabelled_families_start_at_zero)
{
    bx_metrics_counter("t_plain_total", "Plain.", NULL);
    bx_metrics_gauge("t_plain_gauge", "Plain gauge.", "");
    char *b = s_block("t_plain_total");
    ck_assert_str_eq(b, "# HELP t_plain_total Plain.\n# TYPE t_plain_total counter\n"
                        "t_plain_total 0\n");
    free(b);
    b = s_block("t_plain_gauge");
    ck_assert_str_eq(b, "# HELP t_plain_gauge Plain gauge.\n# TYPE t_plain_gauge gauge\n"
                        "t_plain_gauge 0\n");
    free(b);
}
END_TEST

START_TEST(gauge_values_and_special_floats)
{
    bx_metric_t *f = bx_metrics_gauge("t_temp", "Temperatures.", "room");
    bx_gauge_set(bx_metric_series(f, "a"), 2.5);
    bx_gauge_set(bx_metric_series(f, "b"), 7);
    bx_gauge_add(bx_metric_series(f, "b"), -10);
    bx_gauge_set(bx_metric_series(f, "c"), NAN);
    bx_gauge_set(bx_metric_series(f, "d"), INFINITY);
    bx_gauge_set(bx_metric_series(f, "e"), -INFINITY);
    bx_gauge_set(bx_metric_series(f, "f"), 0.1);
    bx_gauge_set(bx_metric_series(f, "g"), 1e-7);
    bx_gauge_set(bx_metric_series(f, "h"), 123456789012.0);
    char *b = s_block("t_temp");
    ck_assert_str_eq(b, "# HELP t_temp Temperatures.\n# TYPE t_temp gauge\n"
                        "t_temp{room=\"a\"} 2.5\n"
                        "t_temp{room=\"b\"} -3\n"
                        "t_temp{room=\"c\"} NaN\n"
                        "t_temp{room=\"d\"} +Inf\n"
                        "t_temp{room=\"e\"} -Inf\n"
                        "t_temp{room=\"f\"} 0.1\n"
                        "t_temp{room=\"g\"} 1e-07\n"
                        "t_temp{room=\"h\"} 123456789012\n");
    free(b);
    ck_assert(bx_series_value(bx_metric_series(f, "b")) == -3);
}
END_TEST

START_TEST(histogram_with_labels_renders_exactly)
{
    static const double bounds[] = {0.125, 1};
    bx_metric_t *f = bx_metrics_histogram("t_latency_seconds", "Latency.", "service", bounds, 2);
    ck_assert_ptr_nonnull(f);
    bx_series_t *s = bx_metric_series(f, "hold");
    bx_histogram_observe(s, 0.0625);
    bx_histogram_observe(s, 0.125); /* le is inclusive */
    bx_histogram_observe(s, 0.5);
    bx_histogram_observe(s, 3);
    bx_histogram_observe(s, NAN); /* ignored */
    bx_metric_series(f, "pay");
    char *b = s_block("t_latency_seconds");
    ck_assert_str_eq(b, "# HELP t_latency_seconds Latency.\n"
                        "# TYPE t_latency_seconds histogram\n"
                        "t_latency_seconds_bucket{service=\"hold\",le=\"0.125\"} 2\n"
                        "t_latency_seconds_bucket{service=\"hold\",le=\"1\"} 3\n"
                        "t_latency_seconds_bucket{service=\"hold\",le=\"+Inf\"} 4\n"
                        "t_latency_seconds_sum{service=\"hold\"} 3.6875\n"
                        "t_latency_seconds_count{service=\"hold\"} 4\n"
                        "t_latency_seconds_bucket{service=\"pay\",le=\"0.125\"} 0\n"
                        "t_latency_seconds_bucket{service=\"pay\",le=\"1\"} 0\n"
                        "t_latency_seconds_bucket{service=\"pay\",le=\"+Inf\"} 0\n"
                        "t_latency_seconds_sum{service=\"pay\"} 0\n"
                        "t_latency_seconds_count{service=\"pay\"} 0\n");
    free(b);
    ck_assert(bx_series_value(s) == 4);
}
END_TEST

START_TEST(histogram_default_buckets)
{
    bx_metric_t *f = bx_metrics_histogram("t_default_seconds", "Defaults.", NULL, NULL, 0);
    bx_histogram_observe(bx_metric_series(f), 0.0004);
    char *b = s_block("t_default_seconds");
    ck_assert_str_eq(b, "# HELP t_default_seconds Defaults.\n"
                        "# TYPE t_default_seconds histogram\n"
                        "t_default_seconds_bucket{le=\"0.0005\"} 1\n"
                        "t_default_seconds_bucket{le=\"0.001\"} 1\n"
                        "t_default_seconds_bucket{le=\"0.0025\"} 1\n"
                        "t_default_seconds_bucket{le=\"0.005\"} 1\n"
                        "t_default_seconds_bucket{le=\"0.01\"} 1\n"
                        "t_default_seconds_bucket{le=\"0.025\"} 1\n"
                        "t_default_seconds_bucket{le=\"0.05\"} 1\n"
                        "t_default_seconds_bucket{le=\"0.1\"} 1\n"
                        "t_default_seconds_bucket{le=\"0.25\"} 1\n"
                        "t_default_seconds_bucket{le=\"0.5\"} 1\n"
                        "t_default_seconds_bucket{le=\"1\"} 1\n"
                        "t_default_seconds_bucket{le=\"2.5\"} 1\n"
                        "t_default_seconds_bucket{le=\"5\"} 1\n"
                        "t_default_seconds_bucket{le=\"10\"} 1\n"
                        "t_default_seconds_bucket{le=\"+Inf\"} 1\n"
                        "t_default_seconds_sum 0.0004\n"
                        "t_default_seconds_count 1\n");
    free(b);
}
END_TEST

START_TEST(label_values_and_help_are_escaped)
{
    bx_metric_t *f =
        bx_metrics_counter("t_escape_total", "Back\\slash and\nnewline \"kept\".", "path");
    bx_counter_inc(bx_metric_series(f, "a\"b\\c\nd"));
    char *b = s_block("t_escape_total");
    ck_assert_str_eq(b, "# HELP t_escape_total Back\\\\slash and\\nnewline \"kept\".\n"
                        "# TYPE t_escape_total counter\n"
                        "t_escape_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
    free(b);
}
END_TEST

START_TEST(fractional_counter_adds)
{
    bx_metric_t *f = bx_metrics_counter("t_seconds_total", "Seconds.", NULL);
    bx_series_t *s = bx_metric_series(f);
    bx_counter_add(s, 2);
    bx_counter_addf(s, 0.25);
    bx_counter_addf(s, -5); /* counters never go down */
    char *b = s_block("t_seconds_total");
    ck_assert_str_eq(b, "# HELP t_seconds_total Seconds.\n# TYPE t_seconds_total counter\n"
                        "t_seconds_total 2.25\n");
    free(b);
}
END_TEST

START_TEST(registration_rules)
{
    bx_metric_t *a = bx_metrics_counter("t_same_total", "x", "svc");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(bx_metrics_counter("t_same_total", "other help", "svc"), a);
    ck_assert_ptr_null(bx_metrics_gauge("t_same_total", "x", "svc"));       /* other type */
    ck_assert_ptr_null(bx_metrics_counter("t_same_total", "x", "service")); /* other labels */
    ck_assert_ptr_null(bx_metrics_counter("9starts_with_digit", "x", NULL));
    ck_assert_ptr_null(bx_metrics_counter("has-dash", "x", NULL));
    ck_assert_ptr_null(bx_metrics_counter("", "x", NULL));
    ck_assert_ptr_null(bx_metrics_counter(NULL, "x", NULL));
    ck_assert_ptr_nonnull(bx_metrics_counter("ns:with_colon_total", "x", NULL));
    ck_assert_ptr_null(bx_metrics_counter("t_bad_label", "x", "__reserved"));
    ck_assert_ptr_null(bx_metrics_counter("t_bad_label", "x", "a,,b"));
    ck_assert_ptr_null(bx_metrics_counter("t_bad_label", "x", "a:b"));
    ck_assert_ptr_null(bx_metrics_counter("t_bad_label", "x", "a,b,c,d,e"));
    ck_assert_ptr_null(bx_metrics_histogram("t_bad_hist", "x", "le", NULL, 0));
    static const double unordered[] = {1, 0.5};
    ck_assert_ptr_null(bx_metrics_histogram("t_bad_hist", "x", NULL, unordered, 2));
    static const double inf[] = {1, INFINITY};
    ck_assert_ptr_null(bx_metrics_histogram("t_bad_hist", "x", NULL, inf, 2));
    /* A failed registration leaves nothing behind; NULL degrades to "not measured". */
    ck_assert_ptr_null(bx_metric_series(NULL, "x"));
    bx_counter_inc(NULL);
    bx_gauge_set(NULL, 1);
    bx_histogram_observe(NULL, 1);
    char *all = bx_metrics_render();
    ck_assert_ptr_null(strstr(all, "t_bad_"));
    free(all);
}
END_TEST

START_TEST(series_cap_is_enforced)
{
    char v[16];
    bx_metric_t *f = bx_metrics_counter("t_many_total", "Many.", "id");
    for (int i = 0; i < BX_METRICS_MAX_SERIES; i++) {
        snprintf(v, sizeof v, "%d", i);
        ck_assert_ptr_nonnull(bx_metric_series(f, v));
    }
    ck_assert_ptr_null(bx_metric_series(f, "one-too-many"));
    ck_assert_ptr_nonnull(bx_metric_series(f, "0")); /* existing ones still resolve */
    ck_assert_ptr_null(bx_metric_series(f, NULL));
}
END_TEST

#define S_THREADS 8
#define S_ITER    100000

static bx_metric_t *s_cf, *s_gf, *s_hf;

static void *s_hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < S_ITER; i++) {
        /* Every thread resolves the labelled series itself: creation races too. */
        bx_counter_inc(bx_metric_series(s_cf, i % 2 ? "odd" : "even"));
        bx_gauge_add(bx_metric_series(s_gf), 1);
        bx_histogram_observe(bx_metric_series(s_hf, "x"), (i % 4) * 0.25);
    }
    return NULL;
}

START_TEST(concurrent_updates_sum_exactly)
{
    pthread_t t[S_THREADS];
    s_cf = bx_metrics_counter("t_race_total", "Race.", "parity");
    s_gf = bx_metrics_gauge("t_race_gauge", "Race.", NULL);
    s_hf = bx_metrics_histogram("t_race_seconds", "Race.", "k", NULL, 0);
    for (int i = 0; i < S_THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, s_hammer, NULL), 0);
    for (int i = 0; i < S_THREADS; i++)
        pthread_join(t[i], NULL);
    double half = S_THREADS * S_ITER / 2.0;
    ck_assert(bx_series_value(bx_metric_series(s_cf, "odd")) == half);
    ck_assert(bx_series_value(bx_metric_series(s_cf, "even")) == half);
    ck_assert(bx_series_value(bx_metric_series(s_gf)) == S_THREADS * S_ITER);
    ck_assert(bx_series_value(bx_metric_series(s_hf, "x")) == S_THREADS * S_ITER);
    char *b = s_block("t_race_seconds");
    /* 0, .25, .5, .75 each a quarter of the time: sum = n * 0.375 exactly. */
    char want[128];
    snprintf(want, sizeof want, "t_race_seconds_sum{k=\"x\"} %d\n", S_THREADS * S_ITER * 3 / 8);
    ck_assert_msg(strstr(b, want) != NULL, "%s", b);
    snprintf(want, sizeof want, "t_race_seconds_bucket{k=\"x\",le=\"0.25\"} %d\n",
             S_THREADS * S_ITER / 2);
    ck_assert_msg(strstr(b, want) != NULL, "%s", b);
    free(b);
}
END_TEST

static int s_calls;
static int s_depth; /* static: the callback outlives the test that registers it */

static void s_fill_depths(bx_metric_t *f, void *ctx)
{
    s_calls++;
    bx_series_set(bx_metric_series(f, "hold"), *(int *)ctx);
    bx_series_set(bx_metric_series(f, "pay"), *(int *)ctx * 2);
}

START_TEST(callbacks_fill_at_scrape_time)
{
    s_depth = 3;
    s_calls = 0;
    ck_assert_ptr_nonnull(bx_metrics_callback("t_queue_depth", "Queue depth.", "service", 0,
                                              s_fill_depths, &s_depth));
    char *b = s_block("t_queue_depth");
    ck_assert_str_eq(b, "# HELP t_queue_depth Queue depth.\n# TYPE t_queue_depth gauge\n"
                        "t_queue_depth{service=\"hold\"} 3\n"
                        "t_queue_depth{service=\"pay\"} 6\n");
    free(b);
    s_depth = 5;
    b = s_block("t_queue_depth");
    ck_assert_ptr_nonnull(strstr(b, "t_queue_depth{service=\"pay\"} 10\n"));
    free(b);
    ck_assert_int_eq(s_calls, 2);
    ck_assert_ptr_null(bx_metrics_callback("t_no_fn", "x", NULL, 0, NULL, NULL));
}
END_TEST

static char *s_text_a(void *ctx)
{
    (void)ctx;
    return strdup("# HELP t_ext_total From elsewhere.\n# TYPE t_ext_total counter\n"
                  "t_ext_total{service=\"hold\"} 7\n");
}

static char *s_text_none(void *ctx)
{
    (void)ctx;
    return NULL;
}

START_TEST(text_sources_are_appended_verbatim)
{
    ck_assert_int_eq(bx_metrics_text_source(NULL, NULL), -1);
    ck_assert_int_eq(bx_metrics_text_source(s_text_none, NULL), 0);
    ck_assert_int_eq(bx_metrics_text_source(s_text_a, NULL), 0);
    for (int i = 2; i < BX_METRICS_MAX_TEXT_SOURCES; i++)
        ck_assert_int_eq(bx_metrics_text_source(s_text_none, NULL), 0);
    ck_assert_int_eq(bx_metrics_text_source(s_text_none, NULL), -1);
    bx_metrics_counter("t_last_total", "Registered after the sources.", NULL);
    char *all = bx_metrics_render();
    const char *tail = "\n# HELP t_ext_total From elsewhere.\n# TYPE t_ext_total counter\n"
                       "t_ext_total{service=\"hold\"} 7\n";
    size_t n = strlen(all), m = strlen(tail);
    ck_assert(n > m);
    ck_assert_str_eq(all + n - m, tail); /* after every family, however late registered */
    free(all);
}
END_TEST

/* Value of the unlabelled sample "name " in text, or NAN. */
static double s_sample(const char *text, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

START_TEST(process_metrics_are_present_and_sane)
{
    /* Burn a little CPU so the counter is visibly positive. */
    volatile double x = 0;
    for (double t0 = bx_metrics_now(); bx_metrics_now() - t0 < 0.05;)
        x += 1;
    char *all = bx_metrics_render();
    double now = (double)time(NULL);
    double start = s_sample(all, "process_start_time_seconds");
    ck_assert_msg(start > now - 3600 && start <= now + 1, "start %f now %f", start, now);
    ck_assert(s_sample(all, "process_resident_memory_bytes") > 1 << 20);
    ck_assert(s_sample(all, "process_virtual_memory_bytes") > 1 << 20);
    ck_assert(s_sample(all, "process_cpu_seconds_total") > 0);
    ck_assert(s_sample(all, "process_open_fds") >= 3);
    ck_assert(s_sample(all, "process_max_fds") >= 64);
    ck_assert_ptr_nonnull(strstr(all, "# TYPE process_cpu_seconds_total counter\n"));
    ck_assert_ptr_nonnull(strstr(all, "# TYPE process_resident_memory_bytes gauge\n"));
    ck_assert_int_eq(strncmp(all, "# HELP process_start_time_seconds ", 34), 0);
    free(all);
}
END_TEST

START_TEST(server_answers_metrics_over_http)
{
    char url[96], ctype[96];
    bx_counter_add(bx_metric_series(bx_metrics_counter("t_http_total", "Over HTTP.", NULL)), 42);
    bx_metrics_server_t *srv = bx_metrics_serve("127.0.0.1", S_PORT);
    ck_assert_ptr_nonnull(srv);
    ck_assert_int_eq(bx_metrics_server_port(srv), S_PORT);

    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", S_PORT);
    bx_httpc_resp_t r = bx_httpc("GET", url, NULL, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(bx_httpc_header(&r, "Content-Type", ctype, sizeof ctype));
    ck_assert_str_eq(ctype, BX_METRICS_CONTENT_TYPE);
    ck_assert_ptr_nonnull(strstr(r.body, "\nt_http_total 42\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "# TYPE process_cpu_seconds_total counter\n"));
    bx_httpc_free(&r);

    r = bx_httpc("HEAD", url, NULL, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    bx_httpc_free(&r);
    r = bx_httpc("POST", url, NULL, "x", 1);
    ck_assert_int_eq(r.status, 405);
    bx_httpc_free(&r);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metricsx", S_PORT);
    r = bx_httpc("GET", url, NULL, NULL, 0);
    ck_assert_int_eq(r.status, 404);
    bx_httpc_free(&r);

    /* The port is taken: a second server fails cleanly. */
    ck_assert_ptr_null(bx_metrics_serve("127.0.0.1", S_PORT));

    bx_metrics_server_destroy(&srv);
    ck_assert_ptr_null(srv);
    bx_metrics_server_destroy(&srv); /* idempotent */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", S_PORT);
    r = bx_httpc("GET", url, NULL, NULL, 0);
    ck_assert_int_eq(r.status, 0); /* nothing listens any more */
    bx_httpc_free(&r);
}
END_TEST

START_TEST(server_ephemeral_port_ipv6_and_bad_address)
{
    char url[96];
    ck_assert_ptr_null(bx_metrics_serve("not-an-address", S_PORT + 1));
    ck_assert_ptr_null(bx_metrics_serve("127.0.0.1", 70000));
    bx_metrics_server_t *srv = bx_metrics_serve(NULL, 0);
    ck_assert_ptr_nonnull(srv);
    int port = bx_metrics_server_port(srv);
    ck_assert_int_gt(port, 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    bx_httpc_resp_t r = bx_httpc("GET", url, NULL, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    bx_httpc_free(&r);
    bx_metrics_server_destroy(&srv);

    srv = bx_metrics_serve("::1", S_PORT + 2);
    if (srv) { /* hosts without IPv6 loopback cannot run this half */
        snprintf(url, sizeof url, "http://[::1]:%d/metrics", S_PORT + 2);
        r = bx_httpc("GET", url, NULL, NULL, 0);
        ck_assert_int_eq(r.status, 200);
        bx_httpc_free(&r);
        bx_metrics_server_destroy(&srv);
    }
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, counter_with_labels_renders_exactly);
    tcase_add_test(tc, unlabelled_families_start_at_zero);
    tcase_add_test(tc, gauge_values_and_special_floats);
    tcase_add_test(tc, histogram_with_labels_renders_exactly);
    tcase_add_test(tc, histogram_default_buckets);
    tcase_add_test(tc, label_values_and_help_are_escaped);
    tcase_add_test(tc, fractional_counter_adds);
    tcase_add_test(tc, registration_rules);
    tcase_add_test(tc, series_cap_is_enforced);
    tcase_add_test(tc, concurrent_updates_sum_exactly);
    tcase_add_test(tc, callbacks_fill_at_scrape_time);
    tcase_add_test(tc, process_metrics_are_present_and_sane);
    tcase_add_test(tc, text_sources_are_appended_verbatim);
    suite_add_tcase(s, tc);
    TCase *http = tcase_create("http");
    tcase_set_timeout(http, 60);
    tcase_add_test(http, server_answers_metrics_over_http);
    tcase_add_test(http, server_ephemeral_port_ipv6_and_bad_address);
    suite_add_tcase(s, http);
    return s;
}
