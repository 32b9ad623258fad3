/* fd_search: finding events. GET /api/v1/events/search (full text with typo tolerance,
 * filters, four sorts, facets) and GET /api/v1/events (the same filters over the catalog
 * tables, for managers too) share one path: their query parameters are parsed and checked
 * into an fd_search_query_t, a backend answers it, and the page is rendered with an opaque
 * cursor. A backend is a vtable, so that an OpenSearch/Elasticsearch adapter can replace
 * the PostgreSQL index (docs/search.md says how).
 *
 * Ownership: a query borrows its strings from the request (they live until it ends); a
 * result owns its JSON (fd_search_result_clear frees it). Backends run on the calling MHD
 * thread and use only that thread's connections. */
#ifndef FD_SEARCH_H
#define FD_SEARCH_H

#include <jansson.h>
#include <stddef.h>

#include "bx_util.h"
#include "fd.h"

#define FD_SEARCH_Q_MAX        200            /* bytes of ?q */
#define FD_SEARCH_WORDS_MAX    10             /* words of ?q that are searched */
#define FD_SEARCH_VARIANTS_MAX 8              /* typo variants tried per word */
#define FD_SEARCH_TYPES_MAX    5              /* event types in one ?type */
#define FD_SEARCH_RADIUS_DEF   50.0           /* km when ?near comes without ?radius_km */
#define FD_SEARCH_RADIUS_MAX   20038.0        /* km: half the Earth's circumference */
#define FD_SEARCH_PRICE_MAX    100000000000LL /* minor units, the tier price cap */
#define FD_SEARCH_FACET_CITIES 20             /* city buckets in meta.facets */
#define FD_SEARCH_FACET_DAYS   62             /* day buckets in meta.facets (the earliest days) */
#define FD_SEARCH_TIMEOUT_MS   2000           /* a search statement gives up after this */

/* The order of a result. */
typedef enum {
    FD_SORT_DATE = 0,   /* start time, earliest first */
    FD_SORT_RELEVANCE,  /* text score, best first (needs q) */
    FD_SORT_DISTANCE,   /* distance from near, nearest first (needs near) */
    FD_SORT_POPULARITY, /* tickets sold, most first */
} fd_search_sort_t;

/* Which route a query is for: the parameters each accepts differ. */
typedef enum {
    FD_SEARCH_ROUTE_SEARCH = 1 << 0, /* GET /api/v1/events/search */
    FD_SEARCH_ROUTE_LIST = 1 << 1,   /* GET /api/v1/events */
} fd_search_route_t;

/* A checked query. Text members are NULL when not asked; numbers come in text (for SQL
 * parameters) and parsed (for backends that want them). */
typedef struct {
    fd_search_route_t route; /* the route it was parsed for */
    const char *q;           /* free text, 1..FD_SEARCH_Q_MAX bytes */
    const char *city;        /* city name, compared without case and accents */
    char types[96];          /* PostgreSQL array text "{concert,theater}", or "" */
    const char *types_list[FD_SEARCH_TYPES_MAX + 1]; /* the same, NULL-terminated */
    const char *from_ts, *to_ts;     /* instants (RFC 3339): from inclusive, to exclusive */
    const char *from_date, *to_date; /* local dates (YYYY-MM-DD), both inclusive */
    int near;                        /* 1 when lat/lon are set */
    double lat, lon, radius_km;      /* centre and radius of ?near */
    char lat_s[32], lon_s[32], radius_m_s[32]; /* the same as text, radius in metres */
    int price;                                 /* 1 when a price bound is set */
    long long price_min, price_max;            /* minor units; -1 when that bound is absent */
    char price_min_s[24], price_max_s[24];     /* the same as text ("" when absent) */
    const char *currency;                      /* ISO 4217 code the price bounds are in */
    int available;                             /* -1 any, 0 sold out, 1 tickets left */
    fd_search_sort_t sort;                     /* order */
    int upcoming;                   /* 1: only events that have not ended (search without from) */
    char after_key[40];             /* cursor: sort key of the previous page's last row, or "" */
    char after_id[BX_UUID_LEN + 1]; /* cursor: that row's event id, or "" */
    long limit;                     /* page size, 1..100 */
    int facets;                     /* 1: count facets (first page of a search) */
    const char *organization_id;    /* list only: the organization's events */
    const char *venue_id;           /* list only: the venue's events */
    const char *status;             /* list only: one status (managers) */
    char statuses[96];              /* list only: JSON array of the statuses the caller sees */
} fd_search_query_t;

/* What a backend answers. */
typedef struct {
    json_t *hits;      /* array of {"id", "attributes": {...}, "score": n|null,
                          "distance_m": n|null}, in order */
    json_t *facets;    /* {"total": n, "event_type": [...], "city": [...], "date": [...]}
                          (each bucket {"value", "count"}) when asked, else NULL */
    json_t *variants;  /* {"word": ["variant", ...]} the typo tolerance tried, or NULL */
    char last_key[40]; /* sort key of the last hit ("" when there are none) */
    char last_id[BX_UUID_LEN + 1]; /* its event id */
} fd_search_result_t;

/* A search backend. search runs q and fills out (zeroed by the caller); on failure it
 * returns the error and may write a client-facing reason into why (cap bytes), and out
 * holds nothing to free. It must honour every member of q it does not refuse: a backend
 * that cannot do something (a sort, facets) returns BX_EINVAL with a reason. */
typedef struct {
    const char *name; /* "postgresql", "catalog" */
    bx_err_t (*search)(fd_req_t *req, const fd_search_query_t *q, fd_search_result_t *out,
                       char *why, size_t cap);
} fd_search_backend_t;

/* The PostgreSQL index (event_search, kept by bx-worker-index): serves the search route. */
extern const fd_search_backend_t fd_search_pg;
/* The catalog tables themselves (always current, every status for managers): serves the
 * event list. Filters and date order only: no text, no facets. */
extern const fd_search_backend_t fd_search_catalog;

/* Parses and checks every query parameter of req for route into q. Unknown, repeated,
 * empty or malformed parameters and impossible combinations are answered with one 400
 * problem listing each ({"parameter", "detail"}) and 0 is returned; 1 when q is ready. */
int fd_search_parse(fd_req_t *req, fd_search_route_t route, fd_search_query_t *q);

/* The name of a sort as the API spells it ("date", "relevance", ...), and the letter that
 * marks its cursors. */
const char *fd_search_sort_name(fd_search_sort_t sort);
char fd_search_sort_tag(fd_search_sort_t sort);

/* Frees what a result holds and zeroes it. Safe on a zeroed result. */
void fd_search_result_clear(fd_search_result_t *r);

/* GET /api/v1/events: the event list (route handler, used by fd_events_routes). */
void fd_search_list(fd_req_t *req);

/* The search routes, ending with {NULL}. */
extern const fd_route_t fd_search_routes[];

#endif
