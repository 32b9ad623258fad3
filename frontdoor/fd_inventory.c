/* fd_inventory: an event's availability and the partner's control of it.
 *
 * GET .../inventory answers tier counts (available, held, sold, blocked), the hold settings
 * and (unless ?seats=false) the seat map with every seat's state. Each frontdoor thread keeps
 * the last few documents keyed by (event, inventory version): every committed change of the
 * event's seats, GA rows, tiers or settings bumps the version (a trigger, migration 0006), so
 * a cached document is exactly the current one and a read costs one primary-key lookup. A
 * new version costs one statement (tier counts, and one letter per seat for the states):
 * the seat map itself (sections, rows, seat ids, labels, tiers) never changes once the event
 * is published, so each thread keeps it and fills in the states. The ETag is the body hash
 * (fd_cacheable), identical on every frontdoor for one version.
 *
 * PUT .../inventory (a partner of the event's organization): block and unblock seats (house
 * seats, kills), change tier prices and GA capacities (never below what is held or sold),
 * change the hold settings. Done here, in one transaction, not through the hold pool: it
 * locks the event row and then the inventory row, the order the hold pool's batches use, so
 * it simply waits for a running batch and the next batch sees its committed result (the
 * version changed, the worker reloads its view). Every seat and capacity change is
 * conditional; anything refused rolls the whole change back (409 naming what). */
#include "fd_inventory.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_util.h"
#include "fd_catalog.h"
#include "fd_doc_cache.h"
#include "fd_events.h"

#define S_CACHE_SLOTS 8    /* documents kept per frontdoor thread */
#define S_MAP_SLOTS   4    /* seat maps kept per frontdoor thread */
#define S_SEATS_MAX   1000 /* seats per block/unblock list */
#define S_TIERS_MAX   50   /* tier changes per request */

/* ---- the per-thread caches: documents by version, seat maps by event ---- */

typedef struct {
    char event[BX_UUID_LEN + 1]; /* event id; "" when free */
    long long version;           /* inventory version of the document */
    int seats;                   /* the document has the seat map */
    char *body;                  /* owned: the document */
    size_t len;                  /* its length */
    unsigned long used;          /* last use, for eviction */
} s_doc_t;

/* One seat of a seat map (everything but its state). */
typedef struct {
    char id[BX_UUID_LEN + 1];   /* seat id */
    char label[65];             /* seat label */
    char tier[BX_UUID_LEN + 1]; /* tier id */
    int row;                    /* index of its row */
} s_seat_t;

/* One row: its section and label. */
typedef struct {
    char section[33]; /* section code */
    char label[17];   /* row label */
} s_row_t;

/* An event's seat map in layout order: immutable once the event is published. */
typedef struct {
    char event[BX_UUID_LEN + 1]; /* event id; "" when free */
    s_seat_t *seats;             /* owned */
    int nseats;                  /* seats */
    s_row_t *rows;               /* owned */
    int nrows;                   /* rows */
    unsigned long used;          /* last use, for eviction */
} s_map_t;

typedef struct {
    s_doc_t slots[S_CACHE_SLOTS]; /* documents */
    s_map_t maps[S_MAP_SLOTS];    /* seat maps */
    unsigned long clock;          /* use counter */
} s_cache_t;

static pthread_key_t s_cache_key;
static pthread_once_t s_cache_once = PTHREAD_ONCE_INIT;

static void s_map_clear(s_map_t *m)
{
    free(m->seats);
    free(m->rows);
    memset(m, 0, sizeof *m);
}

static void s_cache_free(void *arg)
{
    s_cache_t *c = arg;
    for (int i = 0; c && i < S_CACHE_SLOTS; i++)
        free(c->slots[i].body);
    for (int i = 0; c && i < S_MAP_SLOTS; i++)
        s_map_clear(&c->maps[i]);
    free(c);
}

static void s_cache_key_make(void)
{
    pthread_key_create(&s_cache_key, s_cache_free);
}

static s_cache_t *s_cache(void)
{
    pthread_once(&s_cache_once, s_cache_key_make);
    s_cache_t *c = pthread_getspecific(s_cache_key);
    if (!c && (c = calloc(1, sizeof *c)) != NULL)
        pthread_setspecific(s_cache_key, c);
    return c;
}

/* The cached document of (event, version, seats), or NULL. Borrowed. */
static const s_doc_t *s_cache_get(const char *event, long long version, int seats)
{
    s_cache_t *c = s_cache();
    for (int i = 0; c && i < S_CACHE_SLOTS; i++) {
        s_doc_t *d = &c->slots[i];
        if (d->body && d->version == version && d->seats == seats && !strcmp(d->event, event)) {
            d->used = ++c->clock;
            return d;
        }
    }
    return NULL;
}

/* Keeps body (taken), evicting the least recently used document. */
static void s_cache_put(const char *event, long long version, int seats, char *body)
{
    s_cache_t *c = s_cache();
    if (!c || !body) {
        free(body);
        return;
    }
    s_doc_t *d = &c->slots[0];
    for (int i = 1; i < S_CACHE_SLOTS; i++)
        if (c->slots[i].used < d->used)
            d = &c->slots[i];
    free(d->body);
    bx_strlcpy(d->event, event, sizeof d->event);
    d->version = version;
    d->seats = seats;
    d->body = body;
    d->len = strlen(body);
    d->used = ++c->clock;
}

/* Fills m from inv_seatmap rows. */
static bx_err_t s_map_fill(s_map_t *m, const PGresult *res)
{
    int n = PQntuples(res);
    m->seats = calloc((size_t)(n ? n : 1), sizeof *m->seats);
    m->rows = calloc((size_t)(n ? n : 1), sizeof *m->rows);
    if (!m->seats || !m->rows)
        return BX_ENOMEM;
    for (int r = 0; r < n; r++) {
        const char *sec = bx_pg_val(res, r, 0), *row = bx_pg_val(res, r, 1);
        if (!m->nrows || strcmp(m->rows[m->nrows - 1].section, sec) ||
            strcmp(m->rows[m->nrows - 1].label, row)) {
            bx_strlcpy(m->rows[m->nrows].section, sec, sizeof m->rows[0].section);
            bx_strlcpy(m->rows[m->nrows++].label, row, sizeof m->rows[0].label);
        }
        s_seat_t *s = &m->seats[m->nseats++];
        bx_strlcpy(s->id, bx_pg_val(res, r, 2), sizeof s->id);
        bx_strlcpy(s->label, bx_pg_val(res, r, 3), sizeof s->label);
        bx_strlcpy(s->tier, bx_pg_val(res, r, 4), sizeof s->tier);
        s->row = m->nrows - 1;
    }
    return BX_OK;
}

/* A free seat-map slot, else the least recently used one. */
static s_map_t *s_map_victim(s_cache_t *c)
{
    s_map_t *m = &c->maps[0];
    for (int i = 1; i < S_MAP_SLOTS && m->event[0]; i++)
        if (!c->maps[i].event[0] || c->maps[i].used < m->used)
            m = &c->maps[i];
    return m;
}

/* The event's seat map, loaded on first use (or again when nseats no longer matches).
 * Borrowed; NULL with *err set when it cannot be read. */
static const s_map_t *s_map_get(bx_pg_t *pg, const char *event, int nseats, bx_err_t *err)
{
    s_cache_t *c = s_cache();
    s_map_t *m = NULL;
    *err = c ? BX_OK : BX_ENOMEM;
    for (int i = 0; c && i < S_MAP_SLOTS && !m; i++)
        if (!strcmp(c->maps[i].event, event))
            m = &c->maps[i];
    if (m && m->nseats == nseats) {
        m->used = ++c->clock;
        return m;
    }
    if (!m && c)
        m = s_map_victim(c);
    if (!m)
        return NULL;
    s_map_clear(m);
    const char *p[] = {event};
    PGresult *res = bx_pg_query(pg, "inv_seatmap", 1, p, err);
    if (res)
        *err = s_map_fill(m, res);
    PQclear(res);
    if (*err) {
        s_map_clear(m);
        return NULL;
    }
    bx_strlcpy(m->event, event, sizeof m->event);
    m->used = ++c->clock;
    return m;
}

/* ---- GET ---- */

/* ?seats: absent or "true" means with the seat map, "false" without. -1 otherwise. */
static int s_want_seats(fd_req_t *req)
{
    const char *q = fd_query(req, "seats");
    if (!q || !strcmp(q, "true"))
        return 1;
    return !strcmp(q, "false") ? 0 : -1;
}

/* Reads status and version; answers 404 for a draft, an event without inventory, or one
 * the caller may not see. Returns 1 with *version and *modified set. */
static int s_version(fd_req_t *req, bx_pg_t *pg, const char *event, long long *version,
                     int64_t *modified)
{
    bx_err_t err;
    int ok = 0;
    const char *p[] = {event};
    PGresult *res = bx_pg_query(pg, "inv_version", 1, p, &err);
    if (res && PQntuples(res) == 1 && bx_pg_val(res, 0, 2) &&
        strcmp(bx_pg_val(res, 0, 0), "draft")) {
        const char *status = bx_pg_val(res, 0, 0);
        ok = !strcmp(status, "published") || !strcmp(status, "on_sale");
        if (!ok)
            err = fd_cat_manages(req, pg, bx_pg_val(res, 0, 1), &ok);
        *version = strtoll(bx_pg_val(res, 0, 2), NULL, 10);
        *modified = strtoll(bx_pg_val(res, 0, 3), NULL, 10);
    }
    PQclear(res);
    if (!ok)
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such event");
    return ok;
}

static const char *s_state_name(char c)
{
    return c == 'a' ? "available" : c == 'h' ? "held" : c == 's' ? "sold" : "blocked";
}

/* sections -> rows -> seats of map with the states (one letter per seat). */
static json_t *s_sections(const s_map_t *m, const char *states)
{
    json_t *sections = json_array(), *sec = NULL, *rows = NULL, *seats = NULL;
    for (int i = 0, row = -1; sections && i < m->nseats; i++) {
        const s_seat_t *s = &m->seats[i];
        if (s->row != row) {
            if (!sec || strcmp(m->rows[row].section, m->rows[s->row].section)) {
                rows = json_array();
                sec = json_pack("{s:s, s:o}", "code", m->rows[s->row].section, "rows", rows);
                json_array_append_new(sections, sec);
            }
            row = s->row;
            seats = json_array();
            json_array_append_new(
                rows, json_pack("{s:s, s:o}", "label", m->rows[row].label, "seats", seats));
        }
        json_array_append_new(seats,
                              json_pack("{s:s, s:s, s:s, s:s}", "id", s->id, "label", s->label,
                                        "tier_id", s->tier, "state", s_state_name(states[i])));
    }
    return sections;
}

/* The document with the seat map: the counts document with sections filled in. A new
 * string, or NULL with *err set. */
static char *s_with_seats(bx_pg_t *pg, const char *event, const char *doc, const char *states,
                          bx_err_t *err)
{
    const s_map_t *m = s_map_get(pg, event, (int)strlen(states), err);
    json_t *d = m ? fd_cat_json(doc) : NULL;
    json_t *attrs = json_object_get(json_object_get(d, "data"), "attributes");
    if (m && (!attrs || m->nseats != (int)strlen(states)))
        *err = BX_EINTERNAL;
    if (!*err)
        json_object_set_new(attrs, "sections", s_sections(m, states));
    char *text = *err ? NULL : json_dumps(d, JSON_COMPACT);
    json_decref(d);
    if (!*err && !text)
        *err = BX_ENOMEM;
    return text;
}

/* Builds the document of (event, seats), caches it under the version it shows and returns
 * it. NULL on failure (answered). */
static const s_doc_t *s_build(fd_req_t *req, bx_pg_t *pg, const char *event, int seats)
{
    bx_err_t err;
    char *body = NULL;
    long long version = 0;
    const char *p[] = {event, seats ? "true" : "false"};
    PGresult *res = bx_pg_query(pg, "inv_document", 2, p, &err);
    if (res && PQntuples(res) == 1) {
        version = strtoll(bx_pg_val(res, 0, 1), NULL, 10);
        const char *states = bx_pg_val(res, 0, 2);
        body = seats ? s_with_seats(pg, event, bx_pg_val(res, 0, 0), states ? states : "", &err)
                     : strdup(bx_pg_val(res, 0, 0));
        if (!body && !err)
            err = BX_ENOMEM;
    } else if (res) {
        err = BX_ENOTFOUND;
    }
    PQclear(res);
    if (body)
        s_cache_put(event, version, seats, body);
    const s_doc_t *d = body ? s_cache_get(event, version, seats) : NULL;
    if (!d)
        fd_cat_fail(req, pg, err ? err : BX_ENOMEM, NULL);
    return d;
}

static void s_get(fd_req_t *req)
{
    const char *event = fd_cat_id(req, "eventId", "event");
    int seats = s_want_seats(req);
    long long version = 0;
    int64_t modified = 0;
    if (event && seats < 0) {
        fd_cat_invalid(req, "/seats", "must be true or false");
        return;
    }
    bx_pg_t *pg = event ? fd_cat_db(req) : NULL;
    if (!pg || !s_version(req, pg, event, &version, &modified))
        return;
    const s_doc_t *d = s_cache_get(event, version, seats);
    if (!d && !(d = s_build(req, pg, event, seats)))
        return;
    fd_cacheable(req, 0, 1, modified);
    fd_reply_raw(req, 200, "application/json", d->body, d->len);
}

/* ---- PUT ---- */

static const bx_jfield_t s_tier_change[] = {
    {.name = "tier_id", .type = BX_JT_STRING, .required = 1, .format = BX_FMT_UUID},
    {.name = "price_minor", .type = BX_JT_INT, .min = 0, .max = 100000000000L},
    {.name = "capacity", .type = BX_JT_INT, .min = 0, .max = 1000000},
    {0},
};

static const bx_jfield_t s_settings[] = {
    {.name = "hold_ttl_s", .type = BX_JT_INT, .min = 5, .max = 7200},
    {.name = "max_per_user", .type = BX_JT_INT, .min = 1, .max = 1000},
    {.name = "orphan_rule", .type = BX_JT_BOOL},
    {0},
};

static const bx_jfield_t s_put_schema[] = {
    {.name = "block", .type = BX_JT_ARRAY, .min = 1, .max = S_SEATS_MAX},
    {.name = "unblock", .type = BX_JT_ARRAY, .min = 1, .max = S_SEATS_MAX},
    {.name = "tiers", .type = BX_JT_ARRAY, .min = 1, .max = S_TIERS_MAX, .sub = s_tier_change},
    {.name = "settings", .type = BX_JT_OBJECT, .sub = s_settings},
    {0},
};

/* Why a change was refused: status, detail, and an extension member (owned). */
typedef struct {
    bx_err_t err;  /* BX_OK while nothing is refused */
    char why[200]; /* detail */
    json_t *ext;   /* extra problem members, or NULL */
} s_refusal_t;

static bx_err_t s_refuse(s_refusal_t *r, bx_err_t err, const char *why, json_t *ext)
{
    r->err = err;
    bx_strlcpy(r->why, why, sizeof r->why);
    json_decref(r->ext);
    r->ext = ext;
    return err;
}

/* Resolves the seat list key of body into seat ids ("{a,b}" into ids, cap bytes) and checks
 * each seat exists and, to block, is not held or sold. */
static bx_err_t s_resolve(bx_pg_t *pg, const char *event, json_t *body, const char *key, char *ids,
                          size_t cap, s_refusal_t *r)
{
    json_t *asks = json_object_get(body, key), *v, *busy = json_array();
    char *text = bx_json_dump(asks), ptr[48];
    bx_err_t err = text && busy ? BX_OK : BX_ENOMEM;
    const char *p[] = {event, text};
    PGresult *res = err ? NULL : bx_pg_query(pg, "inv_seats_resolve", 2, p, &err);
    json_t *seats = res ? fd_cat_json(bx_pg_val(res, 0, 0)) : NULL;
    size_t i, len = bx_strlcpy(ids, "{", cap);
    json_array_foreach(seats, i, v)
    {
        const char *state = bx_json_str(v, "state");
        if (!err && !bx_json_str(v, "seat_id")) {
            snprintf(ptr, sizeof ptr, "/%s/%zu", key, i);
            err = s_refuse(r, BX_EINVAL, "no such seat in this event",
                           json_pack("{s:[{s:s, s:s}]}", "errors", "pointer", ptr, "detail",
                                     "no such seat in this event"));
        } else if (!err && !strcmp(key, "block") &&
                   (!strcmp(state, "held") || !strcmp(state, "sold"))) {
            json_array_append_new(busy, json_string(bx_json_str(v, "label")));
        } else if (!err && len + 40 < cap) {
            len += (size_t)snprintf(ids + len, cap - len, "%s%s", len > 1 ? "," : "",
                                    bx_json_str(v, "seat_id"));
        }
    }
    bx_strlcpy(ids + len, "}", cap - len);
    if (!err && json_array_size(busy))
        err = s_refuse(r, BX_ECONFLICT, "held or sold seats cannot be blocked",
                       json_pack("{s:O}", "unavailable", busy));
    json_decref(seats);
    json_decref(busy);
    PQclear(res);
    free(text);
    return err;
}

/* Offers seats that became sellable to the waitlist, one outbox row per tier. */
static bx_err_t s_offer_seats(bx_pg_t *pg, const char *event, const PGresult *res)
{
    json_t *by_tier = json_object(), *ids;
    const char *tier;
    bx_err_t err = by_tier ? BX_OK : BX_ENOMEM;
    for (int r = 0; !err && r < PQntuples(res); r++) {
        tier = bx_pg_val(res, r, 1);
        if (!json_object_get(by_tier, tier))
            json_object_set_new(by_tier, tier, json_array());
        json_array_append_new(json_object_get(by_tier, tier), json_string(bx_pg_val(res, r, 0)));
    }
    json_object_foreach(by_tier, tier, ids)
    {
        json_t *offer =
            json_pack("{s:s, s:s, s:O}", "event_id", event, "tier_id", tier, "seat_ids", ids);
        char *text = offer ? bx_json_dump(offer) : NULL;
        const char *p[] = {event, text};
        if (!err)
            err = text ? bx_pg_run(pg, "inv_offer", 2, p) : BX_ENOMEM;
        free(text);
        json_decref(offer);
    }
    json_decref(by_tier);
    return err;
}

/* Blocks, then unblocks, the listed seats. */
static bx_err_t s_seats(bx_pg_t *pg, const char *event, json_t *body, s_refusal_t *r)
{
    char ids[S_SEATS_MAX * (BX_UUID_LEN + 1) + 3];
    bx_err_t err = BX_OK;
    if (json_object_get(body, "block") &&
        !(err = s_resolve(pg, event, body, "block", ids, sizeof ids, r))) {
        const char *p[] = {event, ids};
        err = bx_pg_run(pg, "inv_block_seats", 2, p);
    }
    if (!err && json_object_get(body, "unblock") &&
        !(err = s_resolve(pg, event, body, "unblock", ids, sizeof ids, r))) {
        const char *p[] = {event, ids};
        PGresult *res = bx_pg_query(pg, "inv_unblock_seats", 2, p, &err);
        if (res)
            err = s_offer_seats(pg, event, res);
        PQclear(res);
    }
    return err;
}

/* A GA capacity change: within the area's room, never below held + sold. */
static bx_err_t s_capacity(bx_pg_t *pg, const char *event, const char *tier, long cap, long busy,
                           s_refusal_t *r)
{
    char why[160], num[24];
    bx_err_t err;
    const char *pt[] = {tier};
    PGresult *res = bx_pg_query(pg, "inv_tier_area_room", 1, pt, &err);
    long room = res && PQntuples(res) == 1 ? strtol(bx_pg_val(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    if (err)
        return err;
    if (cap > room) {
        snprintf(why, sizeof why, "the area has room for %ld in this tier", room);
        return s_refuse(r, BX_ECONFLICT, why,
                        json_pack("{s:s, s:I}", "tier_id", tier, "room", (json_int_t)room));
    }
    snprintf(num, sizeof num, "%ld", cap);
    const char *p[] = {event, tier, num};
    res = bx_pg_query(pg, "inv_tier_capacity", 3, p, &err);
    int done = res && PQntuples(res) == 1;
    PQclear(res);
    if (!err && !done) {
        snprintf(why, sizeof why, "capacity %ld is below the %ld already held or sold", cap, busy);
        return s_refuse(r, BX_ECONFLICT, why,
                        json_pack("{s:s, s:I}", "tier_id", tier, "held_or_sold", (json_int_t)busy));
    }
    return err;
}

/* One tier change: price, and capacity of a GA tier. */
static bx_err_t s_tier(bx_pg_t *pg, const char *event, json_t *change, size_t i, s_refusal_t *r)
{
    const char *tier = bx_json_str(change, "tier_id");
    json_t *price = json_object_get(change, "price_minor"),
           *cap = json_object_get(change, "capacity");
    char num[24], ptr[48];
    bx_err_t err;
    const char *p[] = {tier, event};
    PGresult *res = bx_pg_query(pg, "inv_tier_get", 2, p, &err);
    int found = res && PQntuples(res) == 1, ga = found && !strcmp(bx_pg_val(res, 0, 0), "ga");
    long busy = found && bx_pg_val(res, 0, 2) ? strtol(bx_pg_val(res, 0, 2), NULL, 10) : 0;
    PQclear(res);
    snprintf(ptr, sizeof ptr, "/tiers/%zu/%s", i, found ? "capacity" : "tier_id");
    if (!err && (!found || (cap && !ga)))
        return s_refuse(
            r, BX_EINVAL, "invalid tier change",
            json_pack("{s:[{s:s, s:s}]}", "errors", "pointer", ptr, "detail",
                      found ? "a seated tier's capacity is its seats: block or unblock them"
                            : "no such tier in this event"));
    if (!err && price) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(price));
        const char *pp[] = {event, tier, num};
        err = bx_pg_run(pg, "inv_tier_price", 3, pp);
    }
    if (!err && cap)
        err = s_capacity(pg, event, tier, (long)json_integer_value(cap), busy, r);
    return err;
}

static bx_err_t s_apply_settings(bx_pg_t *pg, const char *event, json_t *set)
{
    char ttl[16], max[16];
    json_t *t = json_object_get(set, "hold_ttl_s"), *m = json_object_get(set, "max_per_user");
    json_t *o = json_object_get(set, "orphan_rule");
    snprintf(ttl, sizeof ttl, "%lld", (long long)json_integer_value(t));
    snprintf(max, sizeof max, "%lld", (long long)json_integer_value(m));
    const char *p[] = {event, t ? ttl : NULL, m ? max : NULL,
                       o ? (json_is_true(o) ? "true" : "false") : NULL};
    return bx_pg_run(pg, "inv_settings", 4, p);
}

/* Applies every change of body; the first refusal stops (the caller rolls back). */
static bx_err_t s_apply(bx_pg_t *pg, const char *event, json_t *body, s_refusal_t *r)
{
    json_t *change;
    size_t i;
    bx_err_t err = s_seats(pg, event, body, r);
    json_array_foreach(json_object_get(body, "tiers"), i, change)
    {
        if (!err)
            err = s_tier(pg, event, change, i, r);
    }
    if (!err && json_object_get(body, "settings"))
        err = s_apply_settings(pg, event, json_object_get(body, "settings"));
    return err;
}

/* The same seat in block and unblock is a contradiction (400). */
static int s_no_overlap(fd_req_t *req, json_t *body)
{
    json_t *b = json_object_get(body, "block"), *u = json_object_get(body, "unblock"), *v, *w;
    size_t i, k;
    json_array_foreach(u, i, v)
    {
        json_array_foreach(b, k, w)
        {
            if (json_equal(v, w)) {
                char ptr[32];
                snprintf(ptr, sizeof ptr, "/unblock/%zu", i);
                fd_cat_invalid(req, ptr, "is also listed in block");
                return 0;
            }
        }
    }
    return 1;
}

/* The answer to a PUT: the counts (no seat map) as they are now. */
static void s_put_reply(fd_req_t *req, bx_pg_t *pg, const char *event)
{
    bx_err_t err;
    const char *p[] = {event, "false"};
    PGresult *res = bx_pg_query(pg, "inv_document", 2, p, &err);
    json_t *doc = res && PQntuples(res) == 1 ? fd_cat_json(bx_pg_val(res, 0, 0)) : NULL;
    PQclear(res);
    if (doc)
        fd_reply_json(req, 200, doc);
    else
        fd_cat_fail(req, pg, err ? err : BX_ENOMEM, NULL);
}

static void s_put(fd_req_t *req)
{
    const char *event = fd_cat_id(req, "eventId", "event");
    json_t *body = fd_body(req);
    s_refusal_t r = {0};
    fd_event_row_t row;
    if (!event || !fd_cat_strings(req, body, "block", 64, S_SEATS_MAX) ||
        !fd_cat_strings(req, body, "unblock", 64, S_SEATS_MAX) || !s_no_overlap(req, body))
        return;
    bx_pg_t *pg = fd_cat_db(req);
    bx_err_t err = pg ? bx_pg_begin(pg) : BX_EUNAVAILABLE;
    if (!pg || err || !fd_events_lock(req, pg, event, &row))
        goto out;
    if (!strcmp(row.status, "draft") || !strcmp(row.status, "cancelled") ||
        !strcmp(row.status, "completed")) {
        snprintf(r.why, sizeof r.why, "the inventory of a %s event cannot change", row.status);
        err = r.err = BX_ECONFLICT;
        goto out;
    }
    const char *p[] = {event};
    if (!(err = bx_pg_run(pg, "inv_lock", 1, p)) && !(err = s_apply(pg, event, body, &r)) &&
        !(err = bx_pg_commit(pg))) {
        fd_doc_cache_touch(req, FD_DOC_EVENT, event); /* tier prices show in its price_range */
        fd_audit(req, "inventory.update", "event", event, json_deep_copy(body));
        s_put_reply(req, pg, event);
    }
out:
    if (pg && err && r.err) {
        bx_pg_rollback(pg);
        fd_reply_problem_ext(req, r.err, r.why, r.ext);
        r.ext = NULL;
    } else if (pg && err) {
        fd_cat_fail(req, pg, err, NULL);
    }
    json_decref(r.ext);
}

const fd_route_t fd_inventory_routes[] = {
    {"GET", "/api/v1/events/{eventId}/inventory", s_get, FD_OPT_AUTH, FD_RL_READ, NULL},
    {"PUT", "/api/v1/events/{eventId}/inventory", s_put, FD_PARTNER, FD_RL_WRITE, s_put_schema},
    {NULL, NULL, NULL, 0, 0, NULL},
};
