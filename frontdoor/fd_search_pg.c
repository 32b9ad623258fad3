/* fd_search_pg: the PostgreSQL search backend. One read-only transaction per search on the
 * thread's connection: search_tune (custom plans for every call, no JIT or parallel
 * workers, a statement timeout), search_expand (the words of q and their typo variants
 * from the vocabulary, as tsqueries), then one page plus facets over event_search, the
 * index that bx-worker-index keeps current: search_ordered for date and popularity (read
 * in index order), search_ranked for relevance and distance and for the first page of a
 * text search (every match read and ranked once).
 * SQL: sql/queries/search.sql. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_util.h"
#include "fd_search.h"

#define S_NFILTERS 21   /* parameters search_ordered and search_ranked share */
#define S_NPARAMS  22   /* search_ranked adds the exact tsquery */
#define S_SLOTS    64   /* facet counts kept per thread */
#define S_KEY_MAX  1200 /* bytes of a canonical facet key */

/* One remembered facet count. */
typedef struct {
    char key[S_KEY_MAX]; /* the filters that made it (fd_search_query_t, canonical) */
    int64_t at_ms;       /* when it was counted (monotonic) */
    json_t *facets;      /* {"total", "event_type", "city", "date"}, owned */
} s_slot_t;

/* A thread's facet cache: the same filters asked again within search_facet_cache_ms get
 * the counts of the first time (their hits are always read anew), so that the
 * storefront's busiest first pages (a category, a city, everything upcoming) cost one
 * page read instead of counting tens of thousands of events. Per MHD thread, like its
 * PostgreSQL connection: no lock; freed when the thread ends. */
typedef struct {
    s_slot_t slot[S_SLOTS]; /* entries; key "" is free */
    int next;               /* slot replaced next (oldest first) */
    long ttl_ms;            /* search_facet_cache_ms, read once */
} s_cache_t;

static pthread_key_t s_cache_key;
static pthread_once_t s_cache_once = PTHREAD_ONCE_INIT;

/* What search_expand made of q. */
typedef struct {
    const char *tsq;      /* tolerant tsquery text (borrowed from res) */
    const char *exact;    /* exact tsquery text */
    const char *folded;   /* q without case and accents */
    const char *variants; /* {"word": [variants]} JSON text */
    long words;           /* words searched; 0: nothing to search for */
} s_text_t;

static bx_err_t s_begin(bx_pg_t *pg)
{
    char ms[16];
    snprintf(ms, sizeof ms, "%d", FD_SEARCH_TIMEOUT_MS);
    const char *p[] = {ms};
    bx_err_t err = bx_pg_exec(pg, "BEGIN READ ONLY");
    if (!err)
        err = bx_pg_run(pg, "search_tune", 1, p);
    return err;
}

/* Runs search_expand for q->q into *res (the caller clears it) and t. */
static bx_err_t s_expand(bx_pg_t *pg, const fd_search_query_t *q, PGresult **res, s_text_t *t)
{
    char words[8], variants[8];
    bx_err_t err;
    snprintf(words, sizeof words, "%d", FD_SEARCH_WORDS_MAX);
    snprintf(variants, sizeof variants, "%d", FD_SEARCH_VARIANTS_MAX);
    const char *p[] = {q->q, words, variants};
    *res = bx_pg_query(pg, "search_expand", 3, p, &err);
    if (!*res)
        return err;
    if (PQntuples(*res) != 1 || bx_parse_long(bx_pg_val(*res, 0, 4), 0, 1000, &t->words) != BX_OK)
        return BX_EINTERNAL;
    t->tsq = bx_pg_val(*res, 0, 0);
    t->exact = bx_pg_val(*res, 0, 1);
    t->folded = bx_pg_val(*res, 0, 2);
    t->variants = bx_pg_val(*res, 0, 3);
    return BX_OK;
}

static void s_cache_free(void *p)
{
    s_cache_t *c = p;
    for (int i = 0; c && i < S_SLOTS; i++)
        json_decref(c->slot[i].facets);
    free(c);
}

static void s_cache_init(void)
{
    if (pthread_key_create(&s_cache_key, s_cache_free) != 0)
        BX_WARN("search facet cache disabled: no thread key");
}

/* The calling thread's cache, or NULL when caching is off (or out of memory). */
static s_cache_t *s_cache(void)
{
    pthread_once(&s_cache_once, s_cache_init);
    s_cache_t *c = pthread_getspecific(s_cache_key);
    if (!c && (c = calloc(1, sizeof *c)) != NULL) {
        c->ttl_ms = bx_config_int("search_facet_cache_ms");
        if (pthread_setspecific(s_cache_key, c) != 0) {
            free(c);
            return NULL;
        }
    }
    return c && c->ttl_ms > 0 ? c : NULL;
}

/* The canonical key of the filters facets depend on (not the sort, page or cursor), or 0
 * when it does not fit. */
static int s_facet_key(const fd_search_query_t *q, char out[S_KEY_MAX])
{
#define S_V(x) ((x) ? (x) : "")
    int n = snprintf(out, S_KEY_MAX,
                     "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s,%s,%s\x1f%s\x1f%s\x1f%s"
                     "\x1f%d\x1f%d",
                     S_V(q->q), S_V(q->city), q->types, S_V(q->from_ts), S_V(q->to_ts),
                     S_V(q->from_date), S_V(q->to_date), q->near ? q->lat_s : "",
                     q->near ? q->lon_s : "", q->near ? q->radius_m_s : "", q->price_min_s,
                     q->price_max_s, S_V(q->currency), q->available, q->upcoming);
#undef S_V
    return n > 0 && n < S_KEY_MAX;
}

/* A copy of the facets remembered for key when still fresh, else NULL. */
static json_t *s_cache_get(s_cache_t *c, const char *key)
{
    int64_t now = bx_mono_ms();
    for (int i = 0; i < S_SLOTS; i++)
        if (c->slot[i].facets && now - c->slot[i].at_ms < c->ttl_ms && !strcmp(c->slot[i].key, key))
            return json_deep_copy(c->slot[i].facets);
    return NULL;
}

/* Remembers a copy of facets for key, in place of the oldest entry. */
static void s_cache_put(s_cache_t *c, const char *key, json_t *facets)
{
    s_slot_t *s = &c->slot[c->next];
    json_t *copy = json_deep_copy(facets);
    if (!copy)
        return;
    json_decref(s->facets);
    bx_strlcpy(s->key, key, sizeof s->key);
    s->facets = copy;
    s->at_ms = bx_mono_ms();
    c->next = (c->next + 1) % S_SLOTS;
}

/* A numeric column as a JSON number, or null. */
static json_t *s_number(const char *v)
{
    return v ? json_real(strtod(v, NULL)) : json_null();
}

/* Appends one hit row to out. */
static bx_err_t s_hit(PGresult *res, int i, fd_search_result_t *out)
{
    const char *id = bx_pg_val(res, i, 1), *key = bx_pg_val(res, i, 2);
    const char *doc = bx_pg_val(res, i, 5);
    json_t *attrs = doc ? json_loads(doc, 0, NULL) : NULL;
    if (!attrs || !id || !key || strlen(key) >= sizeof out->last_key) {
        json_decref(attrs);
        return BX_EINTERNAL;
    }
    json_array_append_new(out->hits, json_pack("{s:s, s:o, s:o, s:o}", "id", id, "attributes",
                                               attrs, "score", s_number(bx_pg_val(res, i, 3)),
                                               "distance_m", s_number(bx_pg_val(res, i, 4))));
    bx_strlcpy(out->last_key, key, sizeof out->last_key);
    bx_strlcpy(out->last_id, id, sizeof out->last_id);
    return BX_OK;
}

/* Adds one facet row (kind t, c, d or n) to facets, keeping the bucket caps. */
static void s_facet(PGresult *res, int i, json_t *facets)
{
    static const struct {
        char kind;        /* row kind */
        const char *name; /* member of meta.facets */
        size_t cap;       /* buckets kept (rows arrive in order) */
    } k[] = {{'t', "event_type", 16},
             {'c', "city", FD_SEARCH_FACET_CITIES},
             {'d', "date", FD_SEARCH_FACET_DAYS}};
    const char *kind = bx_pg_val(res, i, 0), *value = bx_pg_val(res, i, 5);
    json_int_t n = strtoll(bx_pg_val(res, i, 2) ? bx_pg_val(res, i, 2) : "0", NULL, 10);
    if (kind[0] == 'n') {
        json_object_set_new(facets, "total", json_integer(n));
        return;
    }
    for (size_t j = 0; j < sizeof k / sizeof k[0]; j++) {
        json_t *arr = json_object_get(facets, k[j].name);
        if (k[j].kind == kind[0] && value && json_array_size(arr) < k[j].cap)
            json_array_append_new(arr, json_pack("{s:s, s:I}", "value", value, "count", n));
    }
}

/* Reads the rows of search_ordered / search_ranked into out. */
static bx_err_t s_collect(PGresult *res, int facets, fd_search_result_t *out)
{
    bx_err_t err = BX_OK;
    out->hits = json_array();
    if (facets)
        out->facets =
            json_pack("{s:i, s:[], s:[], s:[]}", "total", 0, "event_type", "city", "date");
    if (!out->hits || (facets && !out->facets))
        return BX_ENOMEM;
    for (int i = 0; !err && i < PQntuples(res); i++) {
        if (bx_pg_val(res, i, 0)[0] == 'h')
            err = s_hit(res, i, out);
        else if (out->facets)
            s_facet(res, i, out->facets);
    }
    return err;
}

/* Runs the query of q's sort with the query and the expanded text (t may be NULL: no
 * text). */
static bx_err_t s_events(bx_pg_t *pg, const fd_search_query_t *q, const s_text_t *t,
                         fd_search_result_t *out)
{
    char limit[8];
    bx_err_t err;
    /* relevance and distance need every match ranked; so does a first page of text
     * (its facets count every match: reading them once serves both) */
    int ranked = q->sort == FD_SORT_RELEVANCE || q->sort == FD_SORT_DISTANCE || (t && q->facets);
    snprintf(limit, sizeof limit, "%ld", q->limit);
    const char *p[S_NPARAMS] = {t ? t->tsq : NULL,
                                t ? t->folded : NULL,
                                q->city,
                                q->types[0] ? q->types : NULL,
                                q->from_ts,
                                q->to_ts,
                                q->from_date,
                                q->to_date,
                                q->near ? q->lat_s : NULL,
                                q->near ? q->lon_s : NULL,
                                q->near ? q->radius_m_s : NULL,
                                q->price_min >= 0 ? q->price_min_s : NULL,
                                q->price_max >= 0 ? q->price_max_s : NULL,
                                q->currency,
                                q->available < 0 ? NULL
                                : q->available   ? "true"
                                                 : "false",
                                q->upcoming ? "true" : "false",
                                fd_search_sort_name(q->sort),
                                q->after_id[0] ? q->after_key : NULL,
                                q->after_id[0] ? q->after_id : NULL,
                                limit,
                                q->facets ? "true" : "false",
                                t ? t->exact : NULL};
    PGresult *res = bx_pg_query(pg, ranked ? "search_ranked" : "search_ordered",
                                ranked ? S_NPARAMS : S_NFILTERS, p, &err);
    if (res)
        err = s_collect(res, q->facets, out);
    PQclear(res);
    return err;
}

/* The answer to a text without a searchable word: nothing matched. */
static bx_err_t s_nothing(const fd_search_query_t *q, fd_search_result_t *out)
{
    out->hits = json_array();
    if (q->facets)
        out->facets =
            json_pack("{s:i, s:[], s:[], s:[]}", "total", 0, "event_type", "city", "date");
    return out->hits && (out->facets || !q->facets) ? BX_OK : BX_ENOMEM;
}

/* Runs q on pg, taking its facets from the thread's cache when they are fresh there and
 * remembering them when they are counted. */
static bx_err_t s_run(bx_pg_t *pg, const fd_search_query_t *q, const s_text_t *t,
                      fd_search_result_t *out)
{
    char key[S_KEY_MAX];
    fd_search_query_t page = *q;
    s_cache_t *c = q->facets ? s_cache() : NULL;
    int keyed = c && s_facet_key(q, key);
    json_t *cached = keyed ? s_cache_get(c, key) : NULL;
    if (cached)
        page.facets = 0;
    bx_err_t err = s_events(pg, &page, t, out);
    if (!err && cached) {
        out->facets = cached;
        cached = NULL;
    } else if (!err && keyed && out->facets) {
        s_cache_put(c, key, out->facets);
    }
    json_decref(cached);
    return err;
}

static bx_err_t s_search(fd_req_t *req, const fd_search_query_t *q, fd_search_result_t *out,
                         char *why, size_t cap)
{
    PGresult *ex = NULL;
    s_text_t t = {0};
    bx_pg_t *pg = fd_pg(req);
    (void)why;
    (void)cap;
    if (!pg)
        return BX_EUNAVAILABLE;
    bx_err_t err = s_begin(pg);
    if (!err && q->q)
        err = s_expand(pg, q, &ex, &t);
    if (!err && q->q && t.variants)
        out->variants = json_loads(t.variants, 0, NULL);
    if (!err && q->q && t.words == 0)
        err = s_nothing(q, out);
    else if (!err)
        err = s_run(pg, q, q->q ? &t : NULL, out);
    if (err) {
        BX_WARN("search failed: %s", bx_pg_error(pg));
        fd_search_result_clear(out);
    }
    PQclear(ex);
    bx_pg_rollback(pg);
    return err;
}

const fd_search_backend_t fd_search_pg = {"postgresql", s_search};
