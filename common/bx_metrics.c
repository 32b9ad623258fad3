/* bx_metrics: the process-wide metric registry (atomics on the hot path, a mutex only to
 * register), its Prometheus text rendering, the process_* metrics read from /proc/self,
 * and the small libmicrohttpd /metrics server of processes without an HTTP API. */
#include "bx_metrics.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bx_log.h"
#include "bx_util.h"

#define S_NAME_MAX    128                         /* bytes of a metric or label name */
#define S_RENDER_MAX  (16u << 20)                 /* cap on one rendered exposition */
#define S_INDEX_SLOTS (2 * BX_METRICS_MAX_SERIES) /* hash index of a labelled family */

typedef enum { S_COUNTER, S_GAUGE, S_HISTOGRAM } s_type_t;

struct bx_series {
    bx_metric_t *family;                 /* owner */
    char *values[BX_METRICS_MAX_LABELS]; /* label values, immutable once published */
    _Atomic uint64_t n;                  /* counter: integer part */
    _Atomic uint64_t fbits;              /* double bits: gauge value, counter fraction,
                                            histogram sum */
    _Atomic uint64_t *buckets;           /* histogram: nbounds + 1 non-cumulative
                                            counts, the last one is +Inf */
};

struct bx_metric {
    char name[S_NAME_MAX];                          /* metric name */
    char *help;                                     /* HELP text, unescaped */
    s_type_t type;                                  /* counter, gauge or histogram */
    int nlabels;                                    /* number of label names */
    char labels[BX_METRICS_MAX_LABELS][S_NAME_MAX]; /* label names */
    double bounds[BX_METRICS_MAX_BUCKETS];          /* histogram upper bounds */
    int nbounds;                                    /* number of bounds */
    bx_metrics_fill_fn fill;                        /* scrape-time callback, or NULL */
    void *ctx;                                      /* callback argument, borrowed */
    bx_series_t *series[BX_METRICS_MAX_SERIES];     /* published series, creation order */
    _Atomic int nseries;                            /* published count (release/acquire) */
    _Atomic(bx_series_t *) *index;                  /* labelled families: open-addressing
                                                       table of S_INDEX_SLOTS, never shrinks,
                                                       so lookups need no lock */
    _Atomic int overflow_logged;                    /* the series cap was reported */
};

const double bx_metrics_default_buckets[] = {.0005, .001, .0025, .005, .01, .025, .05,
                                             .1,    .25,  .5,    1,    2.5, 5,    10};
const int bx_metrics_default_nbuckets =
    (int)(sizeof bx_metrics_default_buckets / sizeof bx_metrics_default_buckets[0]);

static bx_metric_t *s_fams[BX_METRICS_MAX_FAMILIES];
static _Atomic int s_nfams;
static pthread_mutex_t s_reg_lock = PTHREAD_MUTEX_INITIALIZER;    /* registration */
static pthread_mutex_t s_render_lock = PTHREAD_MUTEX_INITIALIZER; /* callbacks */
static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static struct {
    bx_metrics_text_fn fn; /* producer of extra exposition text */
    void *ctx;             /* its argument, borrowed */
} s_texts[BX_METRICS_MAX_TEXT_SOURCES];
static int s_ntexts; /* entries in s_texts, guarded by s_render_lock */

static void s_process_init(void);

/* ---- doubles in atomics ---- */

static uint64_t s_d2u(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double s_u2d(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static void s_atomic_addf(_Atomic uint64_t *bits, double d)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(bits, &old, s_d2u(s_u2d(old) + d),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

/* ---- registration ---- */

static int s_valid_name(const char *s, int allow_colon)
{
    if (!s || !*s || strlen(s) >= S_NAME_MAX)
        return 0;
    for (const char *p = s; *p; p++) {
        int c = (unsigned char)*p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (allow_colon && c == ':') || (p > s && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

/* Splits "a,b" into f->labels. Returns 0 on an invalid or reserved name. */
static int s_parse_labels(bx_metric_t *f, const char *labels)
{
    const char *p = labels;
    f->nlabels = 0;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (f->nlabels == BX_METRICS_MAX_LABELS || n == 0 || n >= S_NAME_MAX)
            return 0;
        memcpy(f->labels[f->nlabels], p, n);
        f->labels[f->nlabels][n] = '\0';
        const char *l = f->labels[f->nlabels++];
        if (!s_valid_name(l, 0) || !strncmp(l, "__", 2) ||
            (f->type == S_HISTOGRAM && !strcmp(l, "le")))
            return 0;
        p = comma ? comma + 1 : NULL;
    }
    return 1;
}

static int s_same_shape(const bx_metric_t *a, const bx_metric_t *b)
{
    if (a->type != b->type || a->nlabels != b->nlabels || a->nbounds != b->nbounds ||
        (a->fill != NULL) != (b->fill != NULL))
        return 0;
    for (int i = 0; i < a->nlabels; i++)
        if (strcmp(a->labels[i], b->labels[i]))
            return 0;
    for (int i = 0; i < a->nbounds; i++)
        if (a->bounds[i] != b->bounds[i])
            return 0;
    return 1;
}

static bx_series_t *s_series_new(bx_metric_t *f, const char *const *values);
static void s_index_add(bx_metric_t *f, bx_series_t *s);

/* Publishes f (heap, fully built) or returns the equal existing family. Takes f. */
static bx_metric_t *s_publish(bx_metric_t *f)
{
    bx_metric_t *out = NULL;
    if (f->nlabels > 0 && !(f->index = calloc(S_INDEX_SLOTS, sizeof *f->index))) {
        BX_ERROR("metric %s not registered: out of memory", f->name);
        free(f->help);
        free(f);
        return NULL;
    }
    pthread_mutex_lock(&s_reg_lock);
    int n = atomic_load_explicit(&s_nfams, memory_order_relaxed);
    for (int i = 0; i < n; i++) {
        if (strcmp(s_fams[i]->name, f->name))
            continue;
        if (s_same_shape(s_fams[i], f))
            out = s_fams[i];
        else
            BX_ERROR("metric %s already registered with another type or labels", f->name);
        goto done;
    }
    if (n == BX_METRICS_MAX_FAMILIES) {
        BX_ERROR("metric %s not registered: registry full", f->name);
        goto done;
    }
    /* An unlabelled family always has its one series, so it renders as 0 from the start. */
    if (f->nlabels == 0 && !s_series_new(f, NULL)) {
        BX_ERROR("metric %s not registered: out of memory", f->name);
        goto done;
    }
    s_fams[n] = f;
    atomic_store_explicit(&s_nfams, n + 1, memory_order_release);
    out = f;
    f = NULL;
done:
    pthread_mutex_unlock(&s_reg_lock);
    if (f) {
        for (int i = 0; i < atomic_load(&f->nseries); i++) {
            free(f->series[i]->buckets);
            free(f->series[i]);
        }
        free((void *)f->index);
        free(f->help);
        free(f);
    }
    return out;
}

static bx_metric_t *s_register(const char *name, const char *help, const char *labels,
                               s_type_t type, const double *bounds, int nbounds)
{
    bx_metric_t *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->type = type;
    f->help = strdup(help ? help : "");
    int ok = f->help && s_valid_name(name, 1) && s_parse_labels(f, labels) && nbounds >= 0 &&
             nbounds <= BX_METRICS_MAX_BUCKETS;
    for (int i = 0; ok && i < nbounds; i++) {
        ok = isfinite(bounds[i]) && (i == 0 || bounds[i] > bounds[i - 1]);
        f->bounds[i] = bounds[i];
    }
    if (!ok) {
        BX_ERROR("metric %s not registered: invalid name, labels or buckets",
                 name ? name : "(null)");
        free(f->help);
        free(f);
        return NULL;
    }
    f->nbounds = nbounds;
    bx_strlcpy(f->name, name, sizeof f->name);
    return s_publish(f);
}

bx_metric_t *bx_metrics_counter(const char *name, const char *help, const char *labels)
{
    pthread_once(&s_once, s_process_init);
    return s_register(name, help, labels, S_COUNTER, NULL, 0);
}

bx_metric_t *bx_metrics_gauge(const char *name, const char *help, const char *labels)
{
    pthread_once(&s_once, s_process_init);
    return s_register(name, help, labels, S_GAUGE, NULL, 0);
}

bx_metric_t *bx_metrics_histogram(const char *name, const char *help, const char *labels,
                                  const double *buckets, int nbuckets)
{
    pthread_once(&s_once, s_process_init);
    if (!buckets || nbuckets == 0) {
        buckets = bx_metrics_default_buckets;
        nbuckets = bx_metrics_default_nbuckets;
    }
    return s_register(name, help, labels, S_HISTOGRAM, buckets, nbuckets);
}

static bx_metric_t *s_callback(const char *name, const char *help, const char *labels,
                               int is_counter, bx_metrics_fill_fn fn, void *ctx)
{
    bx_metric_t *f = calloc(1, sizeof *f);
    if (!f || !fn) {
        free(f);
        return NULL;
    }
    f->type = is_counter ? S_COUNTER : S_GAUGE;
    f->fill = fn;
    f->ctx = ctx;
    f->help = strdup(help ? help : "");
    if (!f->help || !s_valid_name(name, 1) || !s_parse_labels(f, labels)) {
        BX_ERROR("metric %s not registered: invalid name or labels", name ? name : "(null)");
        free(f->help);
        free(f);
        return NULL;
    }
    bx_strlcpy(f->name, name, sizeof f->name);
    return s_publish(f);
}

bx_metric_t *bx_metrics_callback(const char *name, const char *help, const char *labels,
                                 int is_counter, bx_metrics_fill_fn fn, void *ctx)
{
    pthread_once(&s_once, s_process_init);
    return s_callback(name, help, labels, is_counter, fn, ctx);
}

/* ---- series ---- */

/* Creates and publishes a series; caller holds s_reg_lock (or owns f exclusively). */
static bx_series_t *s_series_new(bx_metric_t *f, const char *const *values)
{
    int n = atomic_load_explicit(&f->nseries, memory_order_relaxed);
    if (n == BX_METRICS_MAX_SERIES)
        return NULL;
    bx_series_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->family = f;
    int ok = 1;
    if (f->type == S_HISTOGRAM)
        ok = (s->buckets = calloc((size_t)f->nbounds + 1, sizeof *s->buckets)) != NULL;
    for (int i = 0; ok && i < f->nlabels; i++) {
        s->values[i] = strndup(values[i], BX_METRICS_LABEL_MAX - 1);
        ok = s->values[i] != NULL;
    }
    if (!ok) {
        for (int i = 0; i < f->nlabels; i++)
            free(s->values[i]);
        free(s->buckets);
        free(s);
        return NULL;
    }
    f->series[n] = s;
    if (f->index)
        s_index_add(f, s);
    atomic_store_explicit(&f->nseries, n + 1, memory_order_release);
    return s;
}

static int s_matches(const bx_series_t *s, int nlabels, const char *const *values)
{
    for (int i = 0; i < nlabels; i++)
        if (strncmp(s->values[i], values[i], BX_METRICS_LABEL_MAX - 1))
            return 0;
    return 1;
}

/* FNV-1a over the label values as stored (cut), each followed by a 0xff separator. */
static size_t s_hash_values(int nlabels, const char *const *values)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < nlabels; i++) {
        const char *v = values[i];
        for (size_t k = 0; v[k] && k < BX_METRICS_LABEL_MAX - 1; k++)
            h = (h ^ (unsigned char)v[k]) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    return (size_t)h;
}

/* Lock-free lookup: the index only ever gains entries, each published complete. */
static bx_series_t *s_find(bx_metric_t *f, const char *const *values)
{
    if (!f->index)
        return atomic_load_explicit(&f->nseries, memory_order_acquire) ? f->series[0] : NULL;
    size_t mask = S_INDEX_SLOTS - 1;
    for (size_t i = s_hash_values(f->nlabels, values) & mask;; i = (i + 1) & mask) {
        bx_series_t *s = atomic_load_explicit(&f->index[i], memory_order_acquire);
        if (!s || s_matches(s, f->nlabels, values))
            return s;
    }
}

/* Adds s to the index; caller holds s_reg_lock and the index has a free slot (it has
 * twice as many slots as a family may have series). */
static void s_index_add(bx_metric_t *f, bx_series_t *s)
{
    size_t mask = S_INDEX_SLOTS - 1;
    size_t i = s_hash_values(f->nlabels, (const char *const *)s->values) & mask;
    while (atomic_load_explicit(&f->index[i], memory_order_relaxed))
        i = (i + 1) & mask;
    atomic_store_explicit(&f->index[i], s, memory_order_release);
}

bx_series_t *bx_metric_series(bx_metric_t *family, ...)
{
    const char *values[BX_METRICS_MAX_LABELS];
    va_list ap;
    if (!family)
        return NULL;
    va_start(ap, family);
    for (int i = 0; i < family->nlabels; i++)
        values[i] = va_arg(ap, const char *);
    va_end(ap);
    for (int i = 0; i < family->nlabels; i++)
        if (!values[i])
            return NULL;
    bx_series_t *s = s_find(family, values);
    if (s)
        return s;
    pthread_mutex_lock(&s_reg_lock);
    s = s_find(family, values);
    if (!s)
        s = s_series_new(family, values);
    pthread_mutex_unlock(&s_reg_lock);
    if (!s && !atomic_exchange(&family->overflow_logged, 1))
        BX_ERROR("metric %s: series limit %d reached, new label values are not measured",
                 family->name, BX_METRICS_MAX_SERIES);
    return s;
}

/* ---- updates ---- */

void bx_counter_inc(bx_series_t *s)
{
    if (s)
        atomic_fetch_add_explicit(&s->n, 1, memory_order_relaxed);
}

void bx_counter_add(bx_series_t *s, uint64_t n)
{
    if (s)
        atomic_fetch_add_explicit(&s->n, n, memory_order_relaxed);
}

void bx_counter_addf(bx_series_t *s, double d)
{
    if (s && d > 0 && isfinite(d))
        s_atomic_addf(&s->fbits, d);
}

void bx_gauge_set(bx_series_t *s, double v)
{
    if (s)
        atomic_store_explicit(&s->fbits, s_d2u(v), memory_order_relaxed);
}

void bx_gauge_add(bx_series_t *s, double d)
{
    if (s)
        s_atomic_addf(&s->fbits, d);
}

void bx_series_set(bx_series_t *s, double v)
{
    if (!s)
        return;
    atomic_store_explicit(&s->n, 0, memory_order_relaxed);
    atomic_store_explicit(&s->fbits, s_d2u(v), memory_order_relaxed);
}

void bx_histogram_observe(bx_series_t *s, double v)
{
    if (!s || !s->buckets || isnan(v))
        return;
    const bx_metric_t *f = s->family;
    int i = 0;
    while (i < f->nbounds && v > f->bounds[i])
        i++;
    atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
    s_atomic_addf(&s->fbits, v);
}

double bx_metrics_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bx_series_value(const bx_series_t *s)
{
    if (!s)
        return 0;
    if (s->buckets) {
        uint64_t n = 0;
        for (int i = 0; i <= s->family->nbounds; i++)
            n += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        return (double)n;
    }
    return (double)atomic_load_explicit(&s->n, memory_order_relaxed) +
           s_u2d(atomic_load_explicit(&s->fbits, memory_order_relaxed));
}

/* ---- rendering ---- */

typedef struct {
    char *p;    /* text */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    int failed; /* out of memory or over S_RENDER_MAX */
} s_buf_t;

static void s_put(s_buf_t *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = cap <= S_RENDER_MAX ? realloc(b->p, cap) : NULL;
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void s_puts(s_buf_t *b, const char *s)
{
    s_put(b, s, strlen(s));
}

/* Writes s escaped: backslash and newline always, the double quote too in label values. */
static void s_put_escaped(s_buf_t *b, const char *s, int quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = *s == '\\'             ? "\\\\"
                          : *s == '\n'           ? "\\n"
                          : (quote && *s == '"') ? "\\\""
                                                 : NULL;
        if (!rep)
            continue;
        s_put(b, run, (size_t)(s - run));
        s_puts(b, rep);
        run = s + 1;
    }
    s_put(b, run, (size_t)(s - run));
}

/* Shortest text that reads back as v, in Prometheus' spelling of the special values. */
static void s_fmt_double(char out[40], double v)
{
    if (isnan(v)) {
        bx_strlcpy(out, "NaN", 40);
        return;
    }
    if (isinf(v)) {
        bx_strlcpy(out, v > 0 ? "+Inf" : "-Inf", 40);
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, 40, "%.0f", v);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 40, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* name{l1="v1",...[,le="x"]} */
static void s_put_series_name(s_buf_t *b, const bx_metric_t *f, const bx_series_t *s,
                              const char *suffix, const char *le)
{
    s_puts(b, f->name);
    s_puts(b, suffix);
    if (f->nlabels == 0 && !le)
        return;
    s_puts(b, "{");
    for (int i = 0; i < f->nlabels; i++) {
        if (i)
            s_puts(b, ",");
        s_puts(b, f->labels[i]);
        s_puts(b, "=\"");
        s_put_escaped(b, s->values[i], 1);
        s_puts(b, "\"");
    }
    if (le) {
        s_puts(b, f->nlabels ? ",le=\"" : "le=\"");
        s_puts(b, le);
        s_puts(b, "\"");
    }
    s_puts(b, "}");
}

static void s_put_sample(s_buf_t *b, const bx_metric_t *f, const bx_series_t *s, const char *suffix,
                         const char *le, const char *value)
{
    s_put_series_name(b, f, s, suffix, le);
    s_puts(b, " ");
    s_puts(b, value);
    s_puts(b, "\n");
}

static void s_render_histogram(s_buf_t *b, const bx_metric_t *f, const bx_series_t *s)
{
    char le[40], val[40];
    uint64_t cum = 0;
    for (int i = 0; i <= f->nbounds; i++) {
        cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        if (i < f->nbounds)
            s_fmt_double(le, f->bounds[i]);
        else
            bx_strlcpy(le, "+Inf", sizeof le);
        snprintf(val, sizeof val, "%llu", (unsigned long long)cum);
        s_put_sample(b, f, s, "_bucket", le, val);
    }
    /* _count is the +Inf bucket, so the two agree even while observations race. */
    s_fmt_double(le, s_u2d(atomic_load_explicit(&s->fbits, memory_order_relaxed)));
    s_put_sample(b, f, s, "_sum", NULL, le);
    s_put_sample(b, f, s, "_count", NULL, val);
}

static void s_render_value(s_buf_t *b, const bx_metric_t *f, const bx_series_t *s)
{
    char val[40];
    uint64_t n = atomic_load_explicit(&s->n, memory_order_relaxed);
    uint64_t bits = atomic_load_explicit(&s->fbits, memory_order_relaxed);
    if (bits == 0) /* +0.0: a pure integer counter, or a zero gauge */
        snprintf(val, sizeof val, "%llu", (unsigned long long)n);
    else
        s_fmt_double(val, (double)n + s_u2d(bits));
    s_put_sample(b, f, s, "", NULL, val);
}

static void s_render_family(s_buf_t *b, bx_metric_t *f)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    if (f->fill)
        f->fill(f, f->ctx);
    s_puts(b, "# HELP ");
    s_puts(b, f->name);
    s_puts(b, " ");
    s_put_escaped(b, f->help, 0);
    s_puts(b, "\n# TYPE ");
    s_puts(b, f->name);
    s_puts(b, " ");
    s_puts(b, types[f->type]);
    s_puts(b, "\n");
    int n = atomic_load_explicit(&f->nseries, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        if (f->type == S_HISTOGRAM)
            s_render_histogram(b, f, f->series[i]);
        else
            s_render_value(b, f, f->series[i]);
    }
}

int bx_metrics_text_source(bx_metrics_text_fn fn, void *ctx)
{
    int rc = -1;
    if (!fn)
        return -1;
    /* Renders read the table under the same lock. */
    pthread_mutex_lock(&s_render_lock);
    if (s_ntexts < BX_METRICS_MAX_TEXT_SOURCES) {
        s_texts[s_ntexts].fn = fn;
        s_texts[s_ntexts++].ctx = ctx;
        rc = 0;
    }
    pthread_mutex_unlock(&s_render_lock);
    return rc;
}

char *bx_metrics_render(void)
{
    s_buf_t b = {0};
    pthread_once(&s_once, s_process_init);
    s_puts(&b, "");
    pthread_mutex_lock(&s_render_lock);
    int n = atomic_load_explicit(&s_nfams, memory_order_acquire);
    for (int i = 0; i < n; i++)
        s_render_family(&b, s_fams[i]);
    for (int i = 0; i < s_ntexts; i++) {
        char *text = s_texts[i].fn(s_texts[i].ctx);
        if (text)
            s_puts(&b, text);
        free(text);
    }
    pthread_mutex_unlock(&s_render_lock);
    if (b.failed) {
        BX_ERROR("could not render metrics: %s",
                 b.cap >= S_RENDER_MAX / 2 ? "output over the size cap" : "out of memory");
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- process metrics, from /proc/self ---- */

/* Reads fields 14 (utime), 15 (stime), 22 (starttime), 23 (vsize), 24 (rss) of
 * /proc/self/stat into out[0..4]. Returns 0, or -1 when it cannot be read. */
static int s_proc_stat(double out[5])
{
    char buf[1024];
    FILE *fp = fopen("/proc/self/stat", "r");
    if (!fp)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    /* The command name (field 2) may hold spaces and parentheses: skip to the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    static const int want[5] = {14, 15, 22, 23, 24};
    int field = 3, k = 0; /* the first token after the name is field 3, the state */
    for (char *tok = p + 1; *tok && k < 5; field++) {
        while (*tok == ' ')
            tok++;
        if (field == want[k])
            out[k++] = strtod(tok, NULL);
        while (*tok && *tok != ' ')
            tok++;
    }
    return k == 5 ? 0 : -1;
}

static void s_fill_cpu(bx_metric_t *f, void *ctx)
{
    double st[5];
    (void)ctx;
    if (!s_proc_stat(st))
        bx_series_set(bx_metric_series(f), (st[0] + st[1]) / (double)sysconf(_SC_CLK_TCK));
}

static void s_fill_rss(bx_metric_t *f, void *ctx)
{
    double st[5];
    (void)ctx;
    if (!s_proc_stat(st))
        bx_series_set(bx_metric_series(f), st[4] * (double)sysconf(_SC_PAGESIZE));
}

static void s_fill_vsize(bx_metric_t *f, void *ctx)
{
    double st[5];
    (void)ctx;
    if (!s_proc_stat(st))
        bx_series_set(bx_metric_series(f), st[3]);
}

static void s_fill_fds(bx_metric_t *f, void *ctx)
{
    (void)ctx;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    double n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    bx_series_set(bx_metric_series(f), n - 1); /* minus the one opendir holds */
}

static void s_fill_max_fds(bx_metric_t *f, void *ctx)
{
    struct rlimit rl;
    (void)ctx;
    if (!getrlimit(RLIMIT_NOFILE, &rl))
        bx_series_set(bx_metric_series(f),
                      rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur);
}

/* Boot time (btime of /proc/stat) plus the start tick of field 22: a wall-clock epoch. */
static double s_start_time(void)
{
    char line[256];
    double btime = 0, st[5];
    FILE *fp = fopen("/proc/stat", "r");
    if (fp) {
        while (fgets(line, sizeof line, fp))
            if (!strncmp(line, "btime ", 6))
                btime = strtod(line + 6, NULL);
        fclose(fp);
    }
    if (btime > 0 && !s_proc_stat(st))
        return btime + st[2] / (double)sysconf(_SC_CLK_TCK);
    return (double)bx_now_ms() / 1000.0;
}

static void s_process_init(void)
{
    bx_metric_t *start = s_register("process_start_time_seconds",
                                    "Start time of the process since unix epoch in seconds.", NULL,
                                    S_GAUGE, NULL, 0);
    bx_gauge_set(bx_metric_series(start), s_start_time());
    s_callback("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
               NULL, 1, s_fill_cpu, NULL);
    s_callback("process_resident_memory_bytes", "Resident memory size in bytes.", NULL, 0,
               s_fill_rss, NULL);
    s_callback("process_virtual_memory_bytes", "Virtual memory size in bytes.", NULL, 0,
               s_fill_vsize, NULL);
    s_callback("process_open_fds", "Number of open file descriptors.", NULL, 0, s_fill_fds, NULL);
    s_callback("process_max_fds", "Maximum number of open file descriptors.", NULL, 0,
               s_fill_max_fds, NULL);
}

/* ---- the /metrics server ---- */

struct bx_metrics_server {
    struct MHD_Daemon *daemon; /* libmicrohttpd daemon with its own thread */
    int port;                  /* bound port */
};

static enum MHD_Result s_answer(struct MHD_Connection *c, unsigned status, char *body,
                                const char *ctype)
{
    /* body is malloc'ed (MHD frees it) or a static string (copied). */
    struct MHD_Response *r =
        body ? MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)cls, (void)version, (void)upload, (void)con_cls;
    *upload_size = 0; /* bodies are ignored */
    if (strcmp(url, "/metrics"))
        return s_answer(c, MHD_HTTP_NOT_FOUND, strdup("not found\n"), "text/plain");
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return s_answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("method not allowed\n"),
                        "text/plain");
    char *text = bx_metrics_render();
    if (!text)
        return s_answer(c, MHD_HTTP_INTERNAL_SERVER_ERROR, strdup("could not render\n"),
                        "text/plain");
    return s_answer(c, MHD_HTTP_OK, text, BX_METRICS_CONTENT_TYPE);
}

/* Fills ss from an address literal. Returns its length, or 0 when it is not one. */
static socklen_t s_sockaddr(const char *bind, int port, struct sockaddr_storage *ss)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return sizeof *v4;
    }
    if (inet_pton(AF_INET6, bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return sizeof *v6;
    }
    return 0;
}

bx_metrics_server_t *bx_metrics_serve(const char *bind, int port)
{
    struct sockaddr_storage ss;
    if (!bind)
        bind = "127.0.0.1";
    if (port < 0 || port > 65535 || !s_sockaddr(bind, port, &ss)) {
        BX_ERROR("could not serve metrics on %s:%d: invalid address", bind, port);
        return NULL;
    }
    bx_metrics_server_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    self->daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, s_handler, NULL, MHD_OPTION_SOCK_ADDR, &ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)32, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_END);
    if (!self->daemon) {
        BX_ERROR("could not serve metrics on %s:%d: cannot listen", bind, port);
        free(self);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : port;
    if (ss.ss_family == AF_INET6)
        BX_INFO("metrics served on http://[%s]:%d/metrics", bind, self->port);
    else
        BX_INFO("metrics served on http://%s:%d/metrics", bind, self->port);
    return self;
}

int bx_metrics_server_port(const bx_metrics_server_t *self)
{
    return self ? self->port : 0;
}

void bx_metrics_server_destroy(bx_metrics_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    MHD_stop_daemon((*self_p)->daemon);
    free(*self_p);
    *self_p = NULL;
}
