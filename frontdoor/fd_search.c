/* fd_search: the routes that find events. GET /api/v1/events/search asks the search
 * backend (the PostgreSQL index kept by bx-worker-index); GET /api/v1/events asks the
 * catalog backend (the catalog tables, so a manager sees a write at once and drafts are
 * listed for their organization). Both parse their parameters with fd_search_parse and
 * answer the same page shape: event resources, links.self/next with an opaque cursor, and
 * for a search meta.total, meta.facets (first page) and meta.query. */
#include "fd_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_catalog.h"

/* Parameters a page carries into links.next (the cursor is added by fd_cat_links). */
static const char *const s_search_keys[] = {
    "q",         "city",      "type",     "from",      "to",   "near",  "radius_km",
    "price_min", "price_max", "currency", "available", "sort", "limit", NULL};
static const char *const s_list_keys[] = {"city",     "type",      "from",      "to",
                                          "near",     "radius_km", "price_min", "price_max",
                                          "currency", "available", "limit",     "organization_id",
                                          "venue_id", "status",    NULL};

/* The backend of the search route. Another backend (an OpenSearch adapter) is selected
 * here; see docs/search.md. */
static const fd_search_backend_t *const s_backend = &fd_search_pg;

void fd_search_result_clear(fd_search_result_t *r)
{
    json_decref(r->hits);
    json_decref(r->facets);
    json_decref(r->variants);
    memset(r, 0, sizeof *r);
}

/* The hits as event resources, each with its score and distance in meta when known. */
static json_t *s_data(json_t *hits)
{
    char self[96];
    size_t i;
    json_t *hit, *data = json_array();
    json_array_foreach(hits, i, hit)
    {
        const char *id = json_string_value(json_object_get(hit, "id"));
        snprintf(self, sizeof self, "/api/v1/events/%s", id ? id : "");
        json_t *r = fd_resource("event", id ? id : "",
                                json_incref(json_object_get(hit, "attributes")), self);
        json_t *score = json_object_get(hit, "score"), *dist = json_object_get(hit, "distance_m");
        if (r && (json_is_number(score) || json_is_number(dist)))
            json_object_set_new(r, "meta",
                                json_pack("{s:O?, s:O?}", "score", score, "distance_m", dist));
        json_array_append_new(data, r);
    }
    return data;
}

/* meta of a search page: total and facets (first page), and what was searched. */
static json_t *s_meta(const fd_search_query_t *q, fd_search_result_t *res)
{
    json_t *meta = json_object();
    if (res->facets) {
        json_object_set(meta, "total", json_object_get(res->facets, "total"));
        json_object_del(res->facets, "total");
        json_object_set(meta, "facets", res->facets);
    }
    json_object_set_new(meta, "query",
                        json_pack("{s:s?, s:s, s:O?}", "q", q->q, "sort",
                                  fd_search_sort_name(q->sort), "variants", res->variants));
    return meta;
}

/* Answers one page: data, links (next when the page is full), meta for a search. */
static void s_answer(fd_req_t *req, const char *path, const char *const *keys,
                     const fd_search_query_t *q, fd_search_result_t *res, int is_public)
{
    char next[FD_CAT_CURSOR_MAX + 1] = "", key[48];
    if ((long)json_array_size(res->hits) == q->limit && res->last_id[0]) {
        snprintf(key, sizeof key, "%c:%s", fd_search_sort_tag(q->sort), res->last_key);
        fd_cat_cursor_encode(key, res->last_id, next, sizeof next);
    }
    json_t *doc =
        fd_document(s_data(res->hits), fd_cat_links(req, path, keys, next[0] ? next : NULL));
    if (doc && q->route == FD_SEARCH_ROUTE_SEARCH)
        json_object_set_new(doc, "meta", s_meta(q, res));
    fd_cacheable(req, FD_CAT_CACHE_AGE, is_public, 0);
    fd_reply_json(req, 200, doc);
}

/* Answers a backend failure. */
static void s_fail(fd_req_t *req, bx_err_t err, const char *why)
{
    if (err == BX_ETIMEOUT || err == BX_EUNAVAILABLE || err == BX_ERETRY) {
        fd_add_header(req, "Retry-After", err == BX_EUNAVAILABLE ? "2" : "1");
        fd_reply_problem(req, BX_EUNAVAILABLE,
                         err == BX_ETIMEOUT ? "the search took too long: narrow it or retry"
                                            : "search is unavailable: retry shortly");
        return;
    }
    fd_reply_problem(req, err, why && *why ? why : NULL);
}

static void s_search(fd_req_t *req)
{
    fd_search_query_t q;
    fd_search_result_t res = {0};
    char why[160] = "";
    if (!fd_search_parse(req, FD_SEARCH_ROUTE_SEARCH, &q))
        return;
    bx_err_t err = s_backend->search(req, &q, &res, why, sizeof why);
    if (err)
        s_fail(req, err, why);
    else
        s_answer(req, "/api/v1/events/search", s_search_keys, &q, &res, 1);
    fd_search_result_clear(&res);
}

/* The statuses the caller may list, as a JSON array into q->statuses: a manager of
 * organization_id (or an admin) any, as asked by ?status (default: all of the managed
 * organization's; published and on sale for an admin's browse); everyone else published
 * and on sale only (nothing when asking for another status). Answers and returns 0 when
 * membership cannot be read. */
static int s_list_statuses(fd_req_t *req, bx_pg_t *pg, fd_search_query_t *q)
{
    static const char *const all =
        "[\"draft\",\"published\",\"on_sale\",\"completed\",\"cancelled\"]";
    int manages = fd_cat_admin(req), pub;
    bx_err_t err = !manages && q->organization_id
                       ? fd_cat_manages(req, pg, q->organization_id, &manages)
                       : BX_OK;
    if (err) {
        fd_cat_fail(req, pg, err, NULL);
        return 0;
    }
    pub = q->status && (!strcmp(q->status, "published") || !strcmp(q->status, "on_sale"));
    if (q->status && (manages || pub))
        snprintf(q->statuses, sizeof q->statuses, "[\"%s\"]", q->status);
    else if (q->status)
        bx_strlcpy(q->statuses, "[]", sizeof q->statuses);
    else if (manages && q->organization_id)
        bx_strlcpy(q->statuses, all, sizeof q->statuses);
    else
        bx_strlcpy(q->statuses, "[\"published\",\"on_sale\"]", sizeof q->statuses);
    return 1;
}

void fd_search_list(fd_req_t *req)
{
    fd_search_query_t q;
    fd_search_result_t res = {0};
    char why[160] = "";
    if (!fd_search_parse(req, FD_SEARCH_ROUTE_LIST, &q))
        return;
    bx_pg_t *pg = fd_cat_db(req);
    if (!pg || !s_list_statuses(req, pg, &q))
        return;
    bx_err_t err = fd_search_catalog.search(req, &q, &res, why, sizeof why);
    if (err)
        fd_cat_fail(req, pg, err, why[0] ? why : NULL);
    else
        s_answer(req, "/api/v1/events", s_list_keys, &q, &res, !fd_who(req)->authenticated);
    fd_search_result_clear(&res);
}

const fd_route_t fd_search_routes[] = {
    {"GET", "/api/v1/events/search", s_search, FD_OPT_AUTH, FD_RL_READ, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};
