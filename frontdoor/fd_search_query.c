/* fd_search_query: the query parameters of the event search and the event list, parsed
 * and checked from one table: every parameter a route does not take, any repeated or
 * empty one, and every malformed value or impossible combination is reported together in
 * one 400 problem ({"parameter", "detail"} per finding), so that a client sees all of its
 * mistakes at once and nothing reaches a backend unchecked. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fd_catalog.h"
#include "fd_events.h"
#include "fd_search.h"

#define S_VALUE_MAX  256 /* bytes of any parameter value */
#define S_CITY_MAX   100 /* bytes of ?city (venues.city) */
#define S_CURSOR_RAW 128 /* bytes of a decoded cursor */

typedef struct s_ctx s_ctx_t;

/* One query parameter: who takes it and how it is read. */
typedef struct {
    const char *name;                        /* as in the URL */
    unsigned routes;                         /* fd_search_route_t bits that accept it */
    void (*parse)(s_ctx_t *c, const char *); /* reads a present, non-empty, printable value */
} s_param_t;

/* State of one parse. */
struct s_ctx {
    fd_search_query_t *q;         /* what is being filled */
    json_t *errors;               /* findings so far: [{"parameter", "detail"}] */
    int nbad;                     /* findings so far (counted apart: an append may fail) */
    unsigned seen;                /* bit i: s_params[i] was given */
    const char *sort;             /* raw ?sort, checked once q is known */
    const char *cursor;           /* raw ?cursor, checked once the sort is known */
    int near;                     /* ?near was given (valid or not) */
    int radius;                   /* ?radius_km was given */
    int64_t from_epoch, to_epoch; /* ?from / ?to when they are instants */
};

static const char *const s_statuses[] = {"draft",     "published", "on_sale",
                                         "completed", "cancelled", NULL};
static const char *const s_sorts[] = {"date", "relevance", "distance", "popularity", NULL};
static const char s_sort_tags[] = {'d', 'r', 'g', 'p'}; /* cursor prefix of each sort */

static void s_bad(s_ctx_t *c, const char *name, const char *detail)
{
    c->nbad++;
    json_array_append_new(c->errors, json_pack("{s:s, s:s}", "parameter", name, "detail", detail));
}

/* Index of s in the NULL-terminated list, or -1. */
static int s_index(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], s))
            return i;
    return -1;
}

/* A plain decimal: optional '-', 1..int_max digits, optionally '.' and 1..frac_max digits
 * (no exponent, no spaces, no "inf"); its value in *out. */
static int s_decimal(const char *s, int int_max, int frac_max, double *out)
{
    const char *p = s + (*s == '-');
    int n = 0, f = 0;
    while (isdigit((unsigned char)p[n]))
        n++;
    if (n < 1 || n > int_max)
        return 0;
    if (p[n] == '.') {
        while (isdigit((unsigned char)p[n + 1 + f]))
            f++;
        if (f < 1 || f > frac_max)
            return 0;
        n += 1 + f;
    }
    if (p[n] != '\0')
        return 0;
    *out = strtod(s, NULL);
    return 1;
}

/* RFC 3339 date-time ("2031-04-01T20:00:00Z", "...+02:00") as epoch seconds in *out.
 * Returns 0 when it is not one or names a day that does not exist. */
static int s_instant(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19 ||
        !isdigit((unsigned char)s[0]) || s[4] != '-' || s[7] != '-')
        return 0;
    const char *p = s + 19;
    if (*p == '.') {
        size_t k = strspn(p + 1, "0123456789");
        if (k < 1 || k > 9)
            return 0;
        p += 1 + k;
    }
    int zulu = !strcmp(p, "Z");
    if (!zulu && !((p[0] == '+' || p[0] == '-') && strlen(p) == 6 && isdigit((unsigned char)p[1]) &&
                   sscanf(p + 1, "%2d:%2d", &oh, &om) == 2 && oh <= 14 && om <= 59))
        return 0;
    if (y < 1900 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
        return 0;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    struct tm back;
    if (!gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
        return 0;
    *out = (int64_t)t - (zulu ? 0 : (p[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60));
    return 1;
}

/* ---- one parser per parameter ---- */

static void s_q(s_ctx_t *c, const char *v)
{
    int word = 0;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        word |= isalnum(*p) || *p >= 0x80;
    if (strlen(v) > FD_SEARCH_Q_MAX)
        s_bad(c, "q", "must be at most 200 bytes");
    else if (!word)
        s_bad(c, "q", "must contain a letter or a digit");
    else
        c->q->q = v;
}

static void s_city(s_ctx_t *c, const char *v)
{
    if (strlen(v) > S_CITY_MAX)
        s_bad(c, "city", "must be at most 100 bytes");
    else
        c->q->city = v;
}

/* Which of fd_events_types the n bytes at p name, or -1. */
static int s_type_of(const char *p, size_t n)
{
    for (int i = 0; fd_events_types[i]; i++)
        if (strlen(fd_events_types[i]) == n && !strncmp(fd_events_types[i], p, n))
            return i;
    return -1;
}

/* "concert" or "concert,theater": known types, each once. */
static void s_type(s_ctx_t *c, const char *v)
{
    fd_search_query_t *q = c->q;
    size_t len = 1, n = 0;
    q->types[0] = '{';
    for (const char *p = v;; p++) {
        size_t k = strcspn(p, ",");
        int t = s_type_of(p, k);
        for (size_t j = 0; t >= 0 && j < n; j++)
            if (!strcmp(q->types_list[j], fd_events_types[t]))
                t = -2;
        if (t < 0 || n == FD_SEARCH_TYPES_MAX) {
            s_bad(c, "type",
                  t == -2 ? "names an event type twice"
                          : "must be movie, concert, sports, theater or conference "
                            "(several separated by commas)");
            q->types[0] = '\0';
            q->types_list[0] = NULL;
            return;
        }
        q->types_list[n++] = fd_events_types[t];
        len += (size_t)snprintf(q->types + len, sizeof q->types - len, "%s%s", n > 1 ? "," : "",
                                fd_events_types[t]);
        p += k;
        if (!*p)
            break;
    }
    q->types_list[n] = NULL;
    snprintf(q->types + len, sizeof q->types - len, "}");
}

/* ?from and ?to: a local date or an instant. */
static void s_bound(s_ctx_t *c, const char *name, const char *v, const char **date, const char **ts,
                    int64_t *epoch)
{
    if (strlen(v) == 10 && fd_cat_date_ok(v)) {
        *date = v;
    } else if (s_instant(v, epoch)) {
        *ts = v;
    } else {
        s_bad(c, name, "must be a date (YYYY-MM-DD, local to the venue) or an RFC 3339 date-time");
    }
}

static void s_from(s_ctx_t *c, const char *v)
{
    s_bound(c, "from", v, &c->q->from_date, &c->q->from_ts, &c->from_epoch);
}

static void s_to(s_ctx_t *c, const char *v)
{
    s_bound(c, "to", v, &c->q->to_date, &c->q->to_ts, &c->to_epoch);
}

/* "52.52,13.405": latitude -90..90, longitude -180..180, plain decimals. */
static void s_near(s_ctx_t *c, const char *v)
{
    fd_search_query_t *q = c->q;
    const char *comma = strchr(v, ',');
    char lat[32];
    size_t n = comma ? (size_t)(comma - v) : 0;
    c->near = 1;
    if (!comma || n >= sizeof lat || strlen(comma + 1) >= sizeof q->lon_s) {
        s_bad(c, "near", "must be latitude,longitude in decimal degrees (52.52,13.405)");
        return;
    }
    memcpy(lat, v, n);
    lat[n] = '\0';
    if (!s_decimal(lat, 2, 10, &q->lat) || !s_decimal(comma + 1, 3, 10, &q->lon) ||
        fabs(q->lat) > 90 || fabs(q->lon) > 180) {
        s_bad(c, "near",
              "latitude must be from -90 to 90 and longitude from -180 to 180, in decimal "
              "degrees");
        return;
    }
    bx_strlcpy(q->lat_s, lat, sizeof q->lat_s);
    bx_strlcpy(q->lon_s, comma + 1, sizeof q->lon_s);
    q->near = 1;
}

static void s_radius(s_ctx_t *c, const char *v)
{
    c->radius = 1;
    if (!s_decimal(v, 5, 3, &c->q->radius_km) || c->q->radius_km <= 0 ||
        c->q->radius_km > FD_SEARCH_RADIUS_MAX)
        s_bad(c, "radius_km", "must be a number of kilometres above 0 and at most 20038");
}

static void s_price(s_ctx_t *c, const char *name, const char *v, long long *out, char *text)
{
    long n;
    if (bx_parse_long(v, 0, FD_SEARCH_PRICE_MAX, &n) != BX_OK) {
        s_bad(c, name, "must be a whole number of minor units from 0 to 100000000000");
        return;
    }
    *out = n;
    snprintf(text, 24, "%ld", n);
    c->q->price = 1;
}

static void s_price_min(s_ctx_t *c, const char *v)
{
    s_price(c, "price_min", v, &c->q->price_min, c->q->price_min_s);
}

static void s_price_max(s_ctx_t *c, const char *v)
{
    s_price(c, "price_max", v, &c->q->price_max, c->q->price_max_s);
}

static void s_currency(s_ctx_t *c, const char *v)
{
    int ok = strlen(v) == 3;
    for (const char *p = v; ok && *p; p++)
        ok = *p >= 'A' && *p <= 'Z';
    if (ok)
        c->q->currency = v;
    else
        s_bad(c, "currency", "must be an ISO 4217 code such as EUR");
}

static void s_available(s_ctx_t *c, const char *v)
{
    if (!strcmp(v, "true") || !strcmp(v, "false"))
        c->q->available = !strcmp(v, "true");
    else
        s_bad(c, "available", "must be true or false");
}

static void s_sort(s_ctx_t *c, const char *v)
{
    if (s_index(s_sorts, v) < 0)
        s_bad(c, "sort", "must be relevance, date, distance or popularity");
    else
        c->sort = v;
}

static void s_cursor(s_ctx_t *c, const char *v)
{
    c->cursor = v;
}

static void s_limit(s_ctx_t *c, const char *v)
{
    if (bx_parse_long(v, 1, FD_CAT_LIMIT_MAX, &c->q->limit) != BX_OK)
        s_bad(c, "limit", "must be a whole number from 1 to 100");
}

static void s_organization(s_ctx_t *c, const char *v)
{
    if (bx_uuid_valid(v))
        c->q->organization_id = v;
    else
        s_bad(c, "organization_id", "must be a UUID");
}

static void s_venue(s_ctx_t *c, const char *v)
{
    if (bx_uuid_valid(v))
        c->q->venue_id = v;
    else
        s_bad(c, "venue_id", "must be a UUID");
}

static void s_status(s_ctx_t *c, const char *v)
{
    if (s_index(s_statuses, v) >= 0)
        c->q->status = v;
    else
        s_bad(c, "status", "must be draft, published, on_sale, completed or cancelled");
}

#define S_BOTH (FD_SEARCH_ROUTE_SEARCH | FD_SEARCH_ROUTE_LIST)
static const s_param_t s_params[] = {
    {"q", FD_SEARCH_ROUTE_SEARCH, s_q},
    {"city", S_BOTH, s_city},
    {"type", S_BOTH, s_type},
    {"from", S_BOTH, s_from},
    {"to", S_BOTH, s_to},
    {"near", S_BOTH, s_near},
    {"radius_km", S_BOTH, s_radius},
    {"price_min", S_BOTH, s_price_min},
    {"price_max", S_BOTH, s_price_max},
    {"currency", S_BOTH, s_currency},
    {"available", S_BOTH, s_available},
    {"sort", FD_SEARCH_ROUTE_SEARCH, s_sort},
    {"cursor", S_BOTH, s_cursor},
    {"limit", S_BOTH, s_limit},
    {"organization_id", FD_SEARCH_ROUTE_LIST, s_organization},
    {"venue_id", FD_SEARCH_ROUTE_LIST, s_venue},
    {"status", FD_SEARCH_ROUTE_LIST, s_status},
};
#define S_NPARAMS (sizeof s_params / sizeof s_params[0])

/* A value every parameter needs: present, short, UTF-8, no control characters. */
static const char *s_value_problem(const char *v)
{
    if (!v || !*v)
        return "must not be empty";
    size_t n = strlen(v);
    if (n > S_VALUE_MAX)
        return "is too long";
    if (!bx_utf8_valid(v, n))
        return "must be UTF-8 text";
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return "must not contain control characters";
    return NULL;
}

/* A parameter name that can be echoed: 1-64 bytes of [A-Za-z0-9_.-]. */
static int s_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n >= 1 && n <= 64 &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* fd_query_each callback: one argument. */
static int s_arg(const char *name, const char *value, void *arg)
{
    s_ctx_t *c = arg;
    size_t i = 0;
    while (i < S_NPARAMS && strcmp(s_params[i].name, name))
        i++;
    if (i == S_NPARAMS || !(s_params[i].routes & c->q->route)) {
        s_bad(c, s_name_ok(name) ? name : "(unreadable name)",
              c->q->route == FD_SEARCH_ROUTE_LIST && i < S_NPARAMS
                  ? "is not a parameter of this list: use /api/v1/events/search"
                  : "is not a parameter of this route");
    } else if (c->seen & (1u << i)) {
        s_bad(c, name, "is given more than once");
    } else {
        const char *why = s_value_problem(value);
        c->seen |= 1u << i;
        if (why)
            s_bad(c, name, why);
        else
            s_params[i].parse(c, value);
    }
    return c->nbad >= 20; /* enough to explain; stop reading */
}

const char *fd_search_sort_name(fd_search_sort_t sort)
{
    return s_sorts[sort];
}

char fd_search_sort_tag(fd_search_sort_t sort)
{
    return s_sort_tags[sort];
}

/* ---- what depends on several parameters ---- */

/* Decodes ?cursor against the sort: "<tag>:<key>|<event id>" in base64url (a list's older
 * "<microseconds>|<event id>" is read as a date cursor). */
static void s_check_cursor(s_ctx_t *c)
{
    fd_search_query_t *q = c->q;
    unsigned char raw[S_CURSOR_RAW];
    size_t len = strlen(c->cursor);
    long n = len <= FD_CAT_CURSOR_MAX ? bx_b64url_decode(c->cursor, len, raw, sizeof raw - 1) : -1;
    raw[n > 0 ? n : 0] = '\0';
    char *bar = n > 0 ? strchr((char *)raw, '|') : NULL;
    char *key = (char *)raw;
    int tag = 'd';
    if (bar && key[0] && key[1] == ':') {
        tag = key[0];
        key += 2;
    }
    double num;
    int ok = bar && bx_uuid_valid(bar + 1) && (size_t)(bar - key) < sizeof q->after_key;
    if (ok) {
        *bar = '\0';
        ok = s_decimal(key, 18, 6, &num) && tag == s_sort_tags[q->sort];
    }
    if (!ok) {
        s_bad(c, "cursor",
              "is not one this route handed out for this sort: pass links.next unchanged");
        return;
    }
    bx_strlcpy(q->after_key, key, sizeof q->after_key);
    bx_strlcpy(q->after_id, bar + 1, sizeof q->after_id);
}

static void s_check_sort(s_ctx_t *c)
{
    fd_search_query_t *q = c->q;
    q->sort = c->sort ? (fd_search_sort_t)s_index(s_sorts, c->sort)
              : q->q  ? FD_SORT_RELEVANCE
                      : FD_SORT_DATE;
    if (q->sort == FD_SORT_RELEVANCE && !q->q)
        s_bad(c, "sort", "relevance needs q");
    if (q->sort == FD_SORT_DISTANCE && !q->near)
        s_bad(c, "sort", "distance needs near");
}

static void s_check_combinations(s_ctx_t *c)
{
    fd_search_query_t *q = c->q;
    if (c->radius && !c->near)
        s_bad(c, "radius_km", "needs near");
    if (q->near)
        snprintf(q->radius_m_s, sizeof q->radius_m_s, "%.1f",
                 (c->radius ? q->radius_km : FD_SEARCH_RADIUS_DEF) * 1000.0);
    if (q->near && !c->radius)
        q->radius_km = FD_SEARCH_RADIUS_DEF;
    if (q->price && !q->currency)
        s_bad(c, "currency",
              "is required with price_min or price_max: prices are minor units "
              "of one currency");
    if (q->price_min >= 0 && q->price_max >= 0 && q->price_min > q->price_max)
        s_bad(c, "price_max", "must not be below price_min");
    if (q->from_date && q->to_date && strcmp(q->from_date, q->to_date) > 0)
        s_bad(c, "to", "must not be before from");
    if (q->from_ts && q->to_ts && c->from_epoch >= c->to_epoch)
        s_bad(c, "to", "must be after from");
}

int fd_search_parse(fd_req_t *req, fd_search_route_t route, fd_search_query_t *q)
{
    s_ctx_t c = {.q = q, .errors = json_array()};
    memset(q, 0, sizeof *q);
    q->route = route;
    q->available = -1;
    q->price_min = q->price_max = -1;
    q->limit = FD_CAT_LIMIT_DEFAULT;
    if (!c.errors) {
        fd_reply_problem(req, BX_ENOMEM, NULL);
        return 0;
    }
    fd_query_each(req, s_arg, &c);
    s_check_sort(&c);
    s_check_combinations(&c);
    if (c.cursor && c.nbad == 0)
        s_check_cursor(&c);
    q->upcoming = route == FD_SEARCH_ROUTE_SEARCH && !q->from_date && !q->from_ts;
    q->facets = route == FD_SEARCH_ROUTE_SEARCH && !q->after_id[0];
    if (c.nbad == 0) {
        json_decref(c.errors);
        return 1;
    }
    fd_reply_problem_ext(req, BX_EINVAL, "one or more query parameters are invalid",
                         json_pack("{s:o}", "errors", c.errors));
    return 0;
}
