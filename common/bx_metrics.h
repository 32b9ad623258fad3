/* bx_metrics: the process-wide Prometheus registry. Counters, gauges and histograms,
 * each a family with an optional fixed set of label names (at most BX_METRICS_MAX_LABELS)
 * and a bounded number of series (label value combinations). Values are C11 atomics, so
 * any thread updates any series without a lock; registering a family or creating a new
 * series takes a short mutex (cold path). bx_metrics_render writes the text exposition
 * format 0.0.4; bx_metrics_serve runs a tiny /metrics HTTP server for processes without
 * an HTTP API of their own. The standard process_* metrics are always present.
 *
 * Ownership: families and series live until exit (the registry never frees them), so
 * pointers to them may be cached in statics and shared by threads. Names, help texts and
 * label values are copied. Every update function accepts NULL and then does nothing, so a
 * failed registration degrades to "not measured", never to a crash. */
#ifndef BX_METRICS_H
#define BX_METRICS_H

#include <stdint.h>

#define BX_METRICS_MAX_LABELS   4    /* label names per family */
#define BX_METRICS_MAX_SERIES   1024 /* label value combinations per family */
#define BX_METRICS_MAX_FAMILIES 256  /* families per process */
#define BX_METRICS_MAX_BUCKETS  32   /* histogram buckets (without +Inf) */
#define BX_METRICS_LABEL_MAX    128  /* bytes of one label value; longer values are cut */

typedef struct bx_metric bx_metric_t; /* a family: name, help, type, label names */
typedef struct bx_series bx_series_t; /* one labelled time series of a family */

/* Called at scrape time, just before its family is rendered, to fill the family's values
 * with bx_series_set (e.g. queue depths owned by another component). Runs on the scraping
 * thread with the render lock held: it must be quick and must not render. */
typedef void (*bx_metrics_fill_fn)(bx_metric_t *family, void *ctx);

/* Default histogram buckets in seconds: .0005 .001 .0025 .005 .01 .025 .05 .1 .25 .5 1
 * 2.5 5 10. */
extern const double bx_metrics_default_buckets[];
extern const int bx_metrics_default_nbuckets;

/* Registers a family, or returns the existing one when a family of the same name, type
 * and label names exists (so modules may register lazily from any thread). name must
 * match [a-zA-Z_:][a-zA-Z0-9_:]*; labels is NULL or "" for none, else a comma-separated
 * list of label names ("service" or "service,result"), each [a-zA-Z_][a-zA-Z0-9_]* and
 * not starting with "__". Counters should be named ..._total. Returns NULL (and logs an
 * error) on an invalid name, a clash with an existing family, or a full registry. */
bx_metric_t *bx_metrics_counter(const char *name, const char *help, const char *labels);
bx_metric_t *bx_metrics_gauge(const char *name, const char *help, const char *labels);

/* Histogram with buckets (upper bounds in seconds, strictly increasing, finite; at most
 * BX_METRICS_MAX_BUCKETS; NULL or nbuckets 0 selects the defaults). "le" may not be a
 * label name. Same return contract as bx_metrics_counter. */
bx_metric_t *bx_metrics_histogram(const char *name, const char *help, const char *labels,
                                  const double *buckets, int nbuckets);

/* A gauge (is_counter 0) or counter (is_counter 1) family whose values fn fills at
 * scrape time with bx_series_set. ctx is borrowed and must outlive the process's
 * scrapes. Same return contract as bx_metrics_counter. */
bx_metric_t *bx_metrics_callback(const char *name, const char *help, const char *labels,
                                 int is_counter, bx_metrics_fill_fn fn, void *ctx);

/* Returns the series of family for the given label values: exactly as many const char *
 * arguments as the family has label names (none for an unlabelled family). Looking up an
 * existing series is lock-free (a hash lookup); hot paths may still cache the pointer. Values are
 * copied (cut at BX_METRICS_LABEL_MAX - 1 bytes). Returns NULL when family is NULL, a value is
 * NULL, or the family already has BX_METRICS_MAX_SERIES series (logged once). */
bx_series_t *bx_metric_series(bx_metric_t *family, ...);

/* Counter updates: add n (integers, the common case, one atomic add) or a non-negative
 * fraction (d < 0 is ignored: counters never go down). */
void bx_counter_inc(bx_series_t *s);
void bx_counter_add(bx_series_t *s, uint64_t n);
void bx_counter_addf(bx_series_t *s, double d);

/* Gauge updates. */
void bx_gauge_set(bx_series_t *s, double v);
void bx_gauge_add(bx_series_t *s, double d);

/* Sets a series' value outright, whatever its type; meant for callback families (for a
 * counter, the value of an external cumulative count). */
void bx_series_set(bx_series_t *s, double v);

/* Records one observation v (seconds) into a histogram series. */
void bx_histogram_observe(bx_series_t *s, double v);

/* Monotonic clock in seconds with sub-microsecond resolution, for durations:
 * t0 = bx_metrics_now(); ...; bx_histogram_observe(s, bx_metrics_now() - t0). */
double bx_metrics_now(void);

/* Current value of a counter or gauge series (tests, /readyz decisions); 0 for NULL. For a
 * histogram, its observation count. */
double bx_series_value(const bx_series_t *s);

/* Returns exposition text rendered elsewhere (a new string the registry frees, or NULL
 * for nothing), e.g. a component that keeps its own counters in the thread that owns
 * them and publishes a snapshot. Called on the scraping thread with the render lock held:
 * it may read only what that thread may read (a snapshot under its own lock, atomics). */
typedef char *(*bx_metrics_text_fn)(void *ctx);

#define BX_METRICS_MAX_TEXT_SOURCES 8

/* Appends fn's text to every rendering, after the families, in registration order; the
 * text must be valid exposition format and end with a newline, and its families must not
 * clash with registered ones. ctx is borrowed. Returns 0, or -1 when all
 * BX_METRICS_MAX_TEXT_SOURCES places are taken or fn is NULL. */
int bx_metrics_text_source(bx_metrics_text_fn fn, void *ctx);

/* Renders every family in the text exposition format 0.0.4, families in registration
 * order (process_* first), series in creation order, then the text sources. Returns a new
 * NUL-terminated string (caller frees), or NULL when out of memory. */
char *bx_metrics_render(void);

/* Content-Type of the rendered text. */
#define BX_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct bx_metrics_server bx_metrics_server_t;

/* Starts an HTTP server on bind:port (bind is an IPv4 or IPv6 literal; NULL means
 * 127.0.0.1; port 0 picks a free port, see bx_metrics_server_port) with one internal
 * thread that answers GET/HEAD /metrics with bx_metrics_render() and 404 otherwise (405
 * for another method on /metrics). Returns NULL (and logs why) when the address is
 * invalid or the port cannot be bound. */
bx_metrics_server_t *bx_metrics_serve(const char *bind, int port);

/* The port the server listens on. */
int bx_metrics_server_port(const bx_metrics_server_t *self);

/* Stops the server (waits for its thread) and frees it; *self_p becomes NULL. Safe on
 * NULL and on a NULL *self_p. */
void bx_metrics_server_destroy(bx_metrics_server_t **self_p);

#endif
