/* bx-hot-sale: the hot-sale load generator (bench/hot-sale.sh runs it, then pgbench, and
 * writes the result files). It makes an event of --seats reserved seats plus --ga GA units
 * and --spread-events smaller events with the same inventory between them, creates --users
 * simulated customers, and runs phases, each sending one hold per user over --connections
 * keep-alive connections: "hot" puts every user on the one event (one hot spot), "spread"
 * shares them out over the small events. Then it waits until every hold request finished
 * and counts oversold seats and GA units in SQL (must be 0). Prints one JSON document.
 *
 * Phases are a table: the waiting-room phase goes there (it admits users through the
 * event's room and sets hs_bench_t.admission before it calls hs_load). */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_json.h"
#include "bx_util.h"
#include "hot_sale.h"

/* One phase: it runs holds and appends what it measured to phases (a JSON array). */
typedef struct {
    const char *name;                                          /* --phases name */
    bx_err_t (*run)(hs_bench_t *b, hs_event_t *hot, hs_event_t *spread, json_t *phases);
} s_phase_t;

static bx_err_t s_phase(hs_bench_t *b, const char *name, hs_event_t *events, int n,
                        json_t *phases)
{
    hs_result_t r;
    fprintf(stderr, "bx-hot-sale: phase %s: %d users, %d connection(s), %d event(s)\n", name,
            b->users, b->conns, n);
    bx_err_t err = hs_load(b, events, n, &r);
    if (err)
        return err;
    json_array_append_new(phases, hs_result_json(name, &r, n));
    fprintf(stderr,
            "bx-hot-sale: %s: %.1f s, %.0f decided/s, %.0f holds/s, p50 %.1f ms, p95 %.1f ms, "
            "p99 %.1f ms (201 %ld, 409 %ld, 202 %ld, other %ld)\n",
            name, r.secs, (double)(r.created + r.conflict) / (r.secs > 0 ? r.secs : 1),
            (double)r.created / (r.secs > 0 ? r.secs : 1), r.p50, r.p95, r.p99, r.created,
            r.conflict, r.accepted, r.other);
    json_decref(r.statuses);
    return BX_OK;
}

static bx_err_t s_hot(hs_bench_t *b, hs_event_t *hot, hs_event_t *spread, json_t *phases)
{
    (void)spread;
    return s_phase(b, "hot", hot, 1, phases);
}

static bx_err_t s_spread(hs_bench_t *b, hs_event_t *hot, hs_event_t *spread, json_t *phases)
{
    (void)hot;
    return s_phase(b, "spread", spread, b->spread_events, phases);
}

static const s_phase_t s_phases[] = {
    {"hot", s_hot},
    {"spread", s_spread},
    {"waitroom", hs_waitroom}, /* hot_sale_waitroom.c: joins, lottery, admissions, holds */
    {NULL, NULL},
};

/* ---- options ---- */

static void s_usage(void)
{
    fprintf(stderr,
            "usage: bx-hot-sale [--base URL] [--pg DSN] [--keys DIR] [--users N] "
            "[--connections N]\n"
            "                   [--seats N] [--ga N] [--hot-share PCT] [--hot-seats N]\n"
            "                   [--spread-events N] [--wait S] [--phases hot,spread]\n");
}

static int s_int(const char *v, long min, long max, int *out)
{
    long n;
    if (bx_parse_long(v, min, max, &n) != BX_OK)
        return 0;
    *out = (int)n;
    return 1;
}

/* Parses argv into b and phases; returns 0 on a bad option (usage printed). */
static int s_options(int argc, char **argv, hs_bench_t *b, const char **phases)
{
    static const struct option opts[] = {
        {"base", 1, 0, 'b'},      {"pg", 1, 0, 'p'},        {"keys", 1, 0, 'k'},
        {"users", 1, 0, 'u'},     {"connections", 1, 0, 'c'}, {"seats", 1, 0, 's'},
        {"ga", 1, 0, 'g'},        {"hot-share", 1, 0, 'h'}, {"hot-seats", 1, 0, 'H'},
        {"spread-events", 1, 0, 'e'}, {"wait", 1, 0, 'w'}, {"phases", 1, 0, 'P'},
        {0, 0, 0, 0}};
    int c, ok = 1;
    while (ok && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': b->base = optarg; break;
        case 'p': b->dsn = optarg; break;
        case 'k': b->keys = optarg; break;
        case 'u': ok = s_int(optarg, 1, 1000000, &b->users); break;
        case 'c': ok = s_int(optarg, 1, 4096, &b->conns); break;
        case 's': ok = s_int(optarg, 100, 100000, &b->seats); break;
        case 'g': ok = s_int(optarg, 0, 1000000, &b->ga); break;
        case 'h': ok = s_int(optarg, 0, 100, &b->hot_share); break;
        case 'H': ok = s_int(optarg, 2, 100, &b->hot_seats); break;
        case 'e': ok = s_int(optarg, 1, 128, &b->spread_events); break;
        case 'w': ok = s_int(optarg, 0, 300, &b->wait_s); break;
        case 'P': *phases = optarg; break;
        default: ok = 0;
        }
    }
    if (!ok)
        s_usage();
    return ok;
}

/* ---- the run ---- */

/* The hot event and the spread events, sharing the same inventory. */
static bx_err_t s_events(hs_bench_t *b, hs_event_t *hot, hs_event_t *spread)
{
    int per_row = b->seats >= 10000 ? 100 : 50;
    int each = b->seats / b->spread_events, each_row = each >= 2500 ? 50 : 25;
    bx_err_t err = hs_event(b, b->seats - b->seats % per_row, per_row, b->ga, hot);
    for (int i = 0; !err && i < b->spread_events; i++)
        err = hs_event(b, each - each % each_row, each_row, b->ga / b->spread_events, &spread[i]);
    return err;
}

static json_t *s_config(const hs_bench_t *b, const char *phases)
{
    return json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:s}", "base", b->base,
                     "users", b->users, "connections", b->conns, "seats", b->seats, "ga", b->ga,
                     "hot_share_pct", b->hot_share, "hot_seats", b->hot_seats, "spread_events",
                     b->spread_events, "wait_s", b->wait_s, "phases", phases);
}

/* Runs the phases named in the comma-separated list. */
static bx_err_t s_run_phases(hs_bench_t *b, const char *list, hs_event_t *hot, hs_event_t *spread,
                             json_t *out)
{
    bx_err_t err = BX_OK;
    for (const s_phase_t *p = s_phases; !err && p->name; p++) {
        size_t n = strlen(p->name);
        const char *at = strstr(list, p->name);
        if (at && (at == list || at[-1] == ',') && (at[n] == '\0' || at[n] == ','))
            err = p->run(b, hot, spread, out);
    }
    return err;
}

/* Settles every request, then the oversell count over every bench event. */
static void s_check(hs_bench_t *b, hs_event_t *hot, hs_event_t *spread, json_t *doc)
{
    hs_event_t all[129];
    long seats = 0, ga = 0;
    all[0] = *hot;
    memcpy(all + 1, spread, (size_t)b->spread_events * sizeof *spread);
    long unfinished = hs_settle(b, all, b->spread_events + 1, 60);
    long bad = hs_oversell(b, all, b->spread_events + 1, &seats, &ga);
    json_object_set_new(doc, "unfinished_requests", json_integer(unfinished));
    json_object_set_new(doc, "oversell", json_integer(bad));
    json_object_set_new(doc, "held", json_pack("{s:I, s:I}", "seats", (json_int_t)seats, "ga",
                                               (json_int_t)ga));
    fprintf(stderr, "bx-hot-sale: oversell %ld (unfinished requests %ld; held: %ld seats, %ld GA)\n",
            bad, unfinished, seats, ga);
}

int main(int argc, char **argv)
{
    hs_bench_t b = {.base = "http://127.0.0.1:8080", .users = 5000, .conns = 128, .seats = 10000,
                    .ga = 10000, .hot_share = 20, .hot_seats = 20, .spread_events = 16,
                    .wait_s = 30};
    const char *phases = "hot,spread";
    hs_event_t hot, spread[128];
    if (bx_config_load() != BX_OK)
        return 2;
    b.dsn = bx_config_str("pg_dsn");
    b.keys = bx_config_str("jwt_key_dir");
    if (!s_options(argc, argv, &b, &phases))
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    json_t *doc = json_pack("{s:o, s:[]}", "config", s_config(&b, phases), "phases");
    bx_err_t err = hs_setup(&b);
    if (!err)
        err = hs_users(&b);
    if (!err)
        err = s_events(&b, &hot, spread);
    if (!err)
        err = s_run_phases(&b, phases, &hot, spread, json_object_get(doc, "phases"));
    if (!err)
        s_check(&b, &hot, spread, doc);
    char *text = err ? NULL : json_dumps(doc, JSON_INDENT(2));
    if (text)
        printf("%s\n", text);
    else
        fprintf(stderr, "bx-hot-sale: failed: %s\n", bx_err_str(err));
    free(text);
    json_decref(doc);
    free(b.tokens);
    for (int i = 0; b.admission && i < b.users; i++)
        free(b.admission[i]);
    free(b.admission);
    bx_jwt_ring_destroy(&b.ring);
    bx_pg_destroy(&b.pg);
    curl_global_cleanup();
    return err ? 1 : 0;
}
