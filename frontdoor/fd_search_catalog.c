/* fd_search_catalog: the catalog search backend behind GET /api/v1/events: the filters of
 * the search, answered from the catalog tables themselves (cat_event_list), in start
 * order. It reads the truth rather than the index, so a partner lists a draft the moment
 * it is written and a customer never sees a list older than the event it links to; it has
 * no text, relevance or facets (those are the search route's). */
#include <stdio.h>
#include <string.h>

#include "fd_search.h"

#define S_NPARAMS 19 /* parameters of cat_event_list */

static bx_err_t s_collect(PGresult *res, fd_search_result_t *out)
{
    out->hits = json_array();
    for (int i = 0; out->hits && i < PQntuples(res); i++) {
        const char *id = bx_pg_val(res, i, 0), *key = bx_pg_val(res, i, 1);
        const char *doc = bx_pg_val(res, i, 2);
        json_t *j = doc ? json_loads(doc, 0, NULL) : NULL;
        if (!j || !id || !key || strlen(key) >= sizeof out->last_key) {
            json_decref(j);
            return BX_EINTERNAL;
        }
        json_array_append_new(out->hits, json_pack("{s:s, s:o, s:n, s:n}", "id", id, "attributes",
                                                   j, "score", "distance_m"));
        bx_strlcpy(out->last_key, key, sizeof out->last_key);
        bx_strlcpy(out->last_id, id, sizeof out->last_id);
    }
    return out->hits ? BX_OK : BX_ENOMEM;
}

static bx_err_t s_search(fd_req_t *req, const fd_search_query_t *q, fd_search_result_t *out,
                         char *why, size_t cap)
{
    char limit[8];
    bx_err_t err;
    bx_pg_t *pg = fd_pg(req);
    if (!pg)
        return BX_EUNAVAILABLE;
    if (q->q || q->sort != FD_SORT_DATE) {
        snprintf(why, cap, "the event list has no text search or sorts: use /api/v1/events/search");
        return BX_EINVAL;
    }
    snprintf(limit, sizeof limit, "%ld", q->limit);
    const char *p[S_NPARAMS] = {q->statuses,
                                q->city,
                                q->types[0] ? q->types : NULL,
                                q->from_ts,
                                q->to_ts,
                                q->from_date,
                                q->to_date,
                                q->organization_id,
                                q->venue_id,
                                q->after_id[0] ? q->after_key : NULL,
                                q->after_id[0] ? q->after_id : NULL,
                                limit,
                                q->near ? q->lat_s : NULL,
                                q->near ? q->lon_s : NULL,
                                q->near ? q->radius_m_s : NULL,
                                q->price_min >= 0 ? q->price_min_s : NULL,
                                q->price_max >= 0 ? q->price_max_s : NULL,
                                q->currency,
                                q->available < 0 ? NULL
                                : q->available   ? "true"
                                                 : "false"};
    PGresult *res = bx_pg_query(pg, "cat_event_list", S_NPARAMS, p, &err);
    if (res)
        err = s_collect(res, out);
    PQclear(res);
    if (err)
        fd_search_result_clear(out);
    return err;
}

const fd_search_backend_t fd_search_catalog = {"catalog", s_search};
