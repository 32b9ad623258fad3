/* fd_content: featured events, promotions and news. Public lists show what is inside its
 * window now for the reader's locale (?locale, else Accept-Language, else "en"), page by
 * cursor, and are cacheable by anyone for at most a minute and never past the next
 * window change (max-age from content_next_change) with an ETag. Admins manage every
 * item, scheduled or not. One handler per operation serves the three kinds: the kind is
 * the path segment after /content/, looked up in s_kinds. */
#include "fd_content.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_log.h"
#include "bx_util.h"
#include "fd_catalog.h"

#define S_MAX_AGE        60   /* longest public caching of a content list, seconds */
#define S_DEFAULT_LOCALE "en" /* when the reader names none */

/* ---- body schemas ---- */

static const bx_jfield_t s_featured_create[] = {
    {.name = "event_id", .type = BX_JT_STRING, .required = 1, .format = BX_FMT_UUID},
    {.name = "rank", .type = BX_JT_INT, .min = 0, .max = 1000000},
    {.name = "starts_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME, .nullable = 1},
    {.name = "ends_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME, .nullable = 1},
    {.name = "locale", .type = BX_JT_STRING, .format = BX_FMT_LOCALE, .nullable = 1},
    {0},
};

static const bx_jfield_t s_featured_update[] = {
    {.name = "event_id", .type = BX_JT_STRING, .format = BX_FMT_UUID},
    {.name = "rank", .type = BX_JT_INT, .min = 0, .max = 1000000},
    {.name = "starts_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME, .nullable = 1},
    {.name = "ends_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME, .nullable = 1},
    {.name = "locale", .type = BX_JT_STRING, .format = BX_FMT_LOCALE, .nullable = 1},
    {0},
};

static const bx_jfield_t s_promotion_create[] = {
    {.name = "title",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 200,
     .format = BX_FMT_NAME},
    {.name = "body", .type = BX_JT_STRING, .max = 5000, .nullable = 1},
    {.name = "image_media_id", .type = BX_JT_STRING, .format = BX_FMT_UUID, .nullable = 1},
    {.name = "link_url", .type = BX_JT_STRING, .max = 2000, .format = BX_FMT_URL, .nullable = 1},
    {.name = "rank", .type = BX_JT_INT, .min = 0, .max = 1000000},
    {.name = "starts_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME, .nullable = 1},
    {.name = "ends_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME, .nullable = 1},
    {.name = "locale", .type = BX_JT_STRING, .format = BX_FMT_LOCALE, .nullable = 1},
    {0},
};

static const bx_jfield_t s_promotion_update[] = {
    {.name = "title", .type = BX_JT_STRING, .min = 1, .max = 200, .format = BX_FMT_NAME},
    {.name = "body", .type = BX_JT_STRING, .max = 5000, .nullable = 1},
    {.name = "image_media_id", .type = BX_JT_STRING, .format = BX_FMT_UUID, .nullable = 1},
    {.name = "link_url", .type = BX_JT_STRING, .max = 2000, .format = BX_FMT_URL, .nullable = 1},
    {.name = "rank", .type = BX_JT_INT, .min = 0, .max = 1000000},
    {.name = "starts_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME, .nullable = 1},
    {.name = "ends_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME, .nullable = 1},
    {.name = "locale", .type = BX_JT_STRING, .format = BX_FMT_LOCALE, .nullable = 1},
    {0},
};

static const bx_jfield_t s_news_create[] = {
    {.name = "title",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 200,
     .format = BX_FMT_NAME},
    {.name = "body", .type = BX_JT_STRING, .required = 1, .min = 1, .max = 50000},
    {.name = "published_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME},
    {.name = "locale", .type = BX_JT_STRING, .format = BX_FMT_LOCALE, .nullable = 1},
    {0},
};

static const bx_jfield_t s_news_update[] = {
    {.name = "title", .type = BX_JT_STRING, .min = 1, .max = 200, .format = BX_FMT_NAME},
    {.name = "body", .type = BX_JT_STRING, .min = 1, .max = 50000},
    {.name = "published_at", .type = BX_JT_STRING, .format = BX_FMT_DATETIME},
    {.name = "locale", .type = BX_JT_STRING, .format = BX_FMT_LOCALE, .nullable = 1},
    {0},
};

/* ---- the three kinds ---- */

/* Answers 422 naming member ptr and returns 0. */
static int s_unprocessable(fd_req_t *req, const char *ptr, const char *detail)
{
    fd_reply_problem_ext(req, BX_EUNPROCESSABLE, detail,
                         json_pack("{s:[{s:s, s:s}]}", "errors", "pointer", ptr, "detail", detail));
    return 0;
}

/* A featured entry names an event that exists (its status decides when it shows). */
static int s_featured_refs(fd_req_t *req, bx_pg_t *pg, json_t *body)
{
    bx_err_t err;
    const char *p[] = {bx_json_str(body, "event_id")};
    if (!p[0])
        return 1;
    PGresult *res = bx_pg_query(pg, "content_event_exists", 1, p, &err);
    int found = res && PQntuples(res) == 1;
    PQclear(res);
    if (err)
        fd_cat_fail(req, pg, err, NULL);
    return err ? 0 : found ? 1 : s_unprocessable(req, "/event_id", "no such event");
}

/* A promotion's image is an image of an event or venue. */
static int s_promotion_refs(fd_req_t *req, bx_pg_t *pg, json_t *body)
{
    bx_err_t err;
    const char *p[] = {bx_json_str(body, "image_media_id")};
    if (!p[0])
        return 1;
    PGresult *res = bx_pg_query(pg, "content_image_kind", 1, p, &err);
    int found = res && PQntuples(res) == 1;
    int image = found && !strncmp(bx_pg_val(res, 0, 0), "image/", 6);
    PQclear(res);
    if (err)
        fd_cat_fail(req, pg, err, NULL);
    return err     ? 0
           : image ? 1
                   : s_unprocessable(req, "/image_media_id",
                                     found ? "must be an image, not a video" : "no such media");
}

static int s_news_refs(fd_req_t *req, bx_pg_t *pg, json_t *body)
{
    (void)req;
    (void)pg;
    (void)body;
    return 1;
}

typedef struct {
    const char *name;     /* path segment after /content/ */
    const char *type;     /* resource type */
    const char *param;    /* path parameter naming one item */
    const char *q_public; /* public list: (locale, cursor a, cursor id, limit) */
    const char *q_admin;  /* admin list: (after id, limit, one id) */
    const char *q_insert; /* (id, body, author) */
    const char *q_update; /* (id, body) RETURNING 1 */
    const char *q_delete; /* (id) RETURNING 1 */
    int (*refs)(fd_req_t *req, bx_pg_t *pg, json_t *body); /* referenced objects exist */
} s_kind_t;

static const s_kind_t s_kinds[] = {
    {"featured", "featured", "featuredId", "content_featured_public", "content_featured_admin",
     "content_featured_insert", "content_featured_update", "content_featured_delete",
     s_featured_refs},
    {"promotions", "promotion", "promotionId", "content_promotions_public",
     "content_promotions_admin", "content_promotions_insert", "content_promotions_update",
     "content_promotions_delete", s_promotion_refs},
    {"news", "news", "newsId", "content_news_public", "content_news_admin", "content_news_insert",
     "content_news_update", "content_news_delete", s_news_refs},
};

/* The kind named by the path segment after "/content/"; answers 500 when none (a
 * route table mistake) and returns NULL. */
static const s_kind_t *s_kind(fd_req_t *req)
{
    const char *seg = strstr(fd_path(req), "/content/");
    size_t n = seg ? strcspn(seg + 9, "/") : 0;
    for (size_t i = 0; seg && i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (strlen(s_kinds[i].name) == n && !strncmp(seg + 9, s_kinds[i].name, n))
            return &s_kinds[i];
    fd_reply_problem(req, BX_EINTERNAL, NULL);
    return NULL;
}

/* Database refusals that name a content rule; anything else as the catalog answers it. */
static void s_fail(fd_req_t *req, bx_pg_t *pg, bx_err_t err)
{
    const char *msg = bx_pg_error(pg);
    if (strstr(msg, "featured_window") || strstr(msg, "promotion_window")) {
        bx_pg_rollback(pg);
        fd_cat_invalid(req, "/ends_at", "must be after starts_at");
    } else if (strstr(msg, "featured_once")) {
        bx_pg_rollback(pg);
        fd_reply_problem(req, BX_ECONFLICT, "the event is already featured for this locale");
    } else {
        fd_cat_fail(req, pg, err, NULL);
    }
}

/* ---- locale ---- */

/* A q-value ("q=0.8") after a ';'; anything unreadable counts as 0. */
static double s_qvalue(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (s[0] != 'q' || s[1] != '=')
        return 0;
    char *end;
    double q = strtod(s + 2, &end);
    return end == s + 2 || q < 0 || q > 1 ? 0 : q;
}

/* "de", "de-at", "de-AT-1996" -> "de" / "de-AT" into tag (8 bytes); 0 for "*" and others. */
static int s_lang_tag(const char *s, char tag[8])
{
    const unsigned char *u = (const unsigned char *)s;
    if (!isalpha(u[0]) || !isalpha(u[1]) || (u[2] && u[2] != '-' && u[2] != ' '))
        return 0;
    tag[0] = (char)tolower(u[0]);
    tag[1] = (char)tolower(u[1]);
    tag[2] = '\0';
    if (u[2] == '-' && isalpha(u[3]) && isalpha(u[4]) && (!u[5] || u[5] == '-' || u[5] == ' ')) {
        tag[2] = '-';
        tag[3] = (char)toupper(u[3]);
        tag[4] = (char)toupper(u[4]);
        tag[5] = '\0';
    }
    return 1;
}

int fd_content_accept_language(const char *header, char out[8])
{
    double best = 0;
    char item[64], tag[8];
    out[0] = '\0';
    for (const char *p = header; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && (*p == ' ' || *p == '\t'))
            p++, n--;
        if (n < sizeof item) {
            memcpy(item, p, n);
            item[n] = '\0';
            char *semi = strchr(item, ';');
            double q = semi ? s_qvalue(semi + 1) : 1.0;
            if (semi)
                *semi = '\0';
            if (q > best && s_lang_tag(item, tag)) {
                best = q;
                memcpy(out, tag, sizeof tag);
            }
        }
        p = end ? end + 1 : NULL;
    }
    return out[0] != '\0';
}

/* The reader's locale. Answers 400 for a malformed ?locale and returns 0. */
static int s_locale(fd_req_t *req, char out[8], int *from_header)
{
    const char *q = fd_query(req, "locale");
    char tag[8];
    *from_header = !q;
    if (q && (strlen(q) == 2 || strlen(q) == 5) && s_lang_tag(q, tag) && !strcmp(tag, q)) {
        memcpy(out, tag, sizeof tag);
        return 1;
    }
    if (q) {
        fd_reply_problem_ext(req, BX_EINVAL, "locale must look like en or en-GB",
                             json_pack("{s:[{s:s, s:s}]}", "errors", "parameter", "locale",
                                       "detail", "must look like en or en-GB"));
        return 0;
    }
    if (!fd_content_accept_language(fd_header(req, "Accept-Language"), out))
        memcpy(out, S_DEFAULT_LOCALE, sizeof S_DEFAULT_LOCALE);
    return 1;
}

/* ---- public lists ---- */

/* Seconds the list may be cached: S_MAX_AGE, less when a window changes sooner. */
static int s_max_age(bx_pg_t *pg, const s_kind_t *k)
{
    bx_err_t err;
    const char *p[] = {k->name};
    PGresult *res = bx_pg_query(pg, "content_next_change", 1, p, &err);
    const char *v = res ? bx_pg_val(res, 0, 0) : NULL;
    long secs = v ? strtol(v, NULL, 10) : S_MAX_AGE;
    PQclear(res);
    if (!res)
        return 0; /* unknown: revalidate */
    return secs < 1 ? 1 : secs > S_MAX_AGE ? S_MAX_AGE : (int)secs;
}

/* One public item: the featured entry links its event. */
static json_t *s_public_item(const s_kind_t *k, const char *id, const char *attrs_text)
{
    char related[96];
    json_t *attrs = fd_cat_json(attrs_text), *r;
    const char *event = json_string_value(json_object_get(json_object_get(attrs, "event"), "id"));
    r = fd_resource(k->type, id, attrs, NULL);
    if (r && event) {
        snprintf(related, sizeof related, "/api/v1/events/%s", event);
        json_object_set_new(r, "relationships",
                            json_pack("{s:{s:{s:s}}}", "event", "links", "related", related));
    }
    return r;
}

/* Reads ?limit and ?cursor of a public list; a is the cursor's number (rank or time). */
static int s_page_args(fd_req_t *req, long *max, char limit[8], char a[64], char b[64])
{
    long num;
    if (!fd_cat_limit(req, max, limit) || !fd_cat_cursor_decode(req, a, b, 64))
        return 0;
    if (a[0] && bx_parse_long(a, 0, 999999999999999999L, &num) != BX_OK) {
        fd_reply_problem(req, BX_EINVAL, "the cursor is not one this API handed out");
        return 0;
    }
    return 1;
}

static void s_public_list(fd_req_t *req)
{
    static const char *const keys[] = {"locale", "limit", NULL};
    char locale[8], limit[8], a[64], b[64], next[FD_CAT_CURSOR_MAX + 1] = "", path[64];
    long max;
    int from_header;
    bx_err_t err;
    const s_kind_t *k = s_kind(req);
    bx_pg_t *pg = k ? fd_cat_db(req) : NULL;
    if (!pg || !s_locale(req, locale, &from_header) || !s_page_args(req, &max, limit, a, b))
        return;
    const char *p[] = {locale, a[0] ? a : NULL, b[0] ? b : NULL, limit};
    PGresult *res = bx_pg_query(pg, k->q_public, 4, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    json_t *data = json_array();
    int n = PQntuples(res);
    for (int i = 0; data && i < n; i++)
        json_array_append_new(data, s_public_item(k, bx_pg_val(res, i, 0), bx_pg_val(res, i, 2)));
    if (n > 0 && n == max)
        fd_cat_cursor_encode(bx_pg_val(res, n - 1, 1), bx_pg_val(res, n - 1, 0), next, sizeof next);
    PQclear(res);
    snprintf(path, sizeof path, "/api/v1/content/%s", k->name);
    fd_add_header(req, "Content-Language", locale);
    if (from_header)
        fd_add_header(req, "Vary", "Accept-Language");
    fd_cacheable(req, s_max_age(pg, k), 1, 0);
    fd_reply_json(req, 200,
                  fd_document(data, fd_cat_links(req, path, keys, next[0] ? next : NULL)));
}

/* ---- admin ---- */

/* Answers the admin view of item id with status (404 when there is none). */
static void s_reply_item(fd_req_t *req, bx_pg_t *pg, const s_kind_t *k, const char *id, int status)
{
    char self[128];
    bx_err_t err;
    const char *p[] = {NULL, "1", id};
    PGresult *res = bx_pg_query(pg, k->q_admin, 3, p, &err);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        fd_cat_fail(req, pg, res ? BX_ENOTFOUND : err, res ? "no such item" : NULL);
        return;
    }
    snprintf(self, sizeof self, "/api/v1/admin/content/%s/%s", k->name, id);
    json_t *r = fd_resource(k->type, id, fd_cat_json(bx_pg_val(res, 0, 1)), self);
    PQclear(res);
    fd_reply_json(req, status, fd_document(r, NULL));
}

static void s_admin_list(fd_req_t *req)
{
    static const char *const keys[] = {"limit", NULL};
    char limit[8], a[64], after[64], next[FD_CAT_CURSOR_MAX + 1] = "", path[64], self[128];
    long max;
    bx_err_t err;
    const s_kind_t *k = s_kind(req);
    bx_pg_t *pg = k ? fd_cat_db(req) : NULL;
    if (!pg || !fd_cat_limit(req, &max, limit) ||
        !fd_cat_cursor_decode(req, a, after, sizeof after))
        return;
    const char *p[] = {after[0] ? after : NULL, limit, NULL};
    PGresult *res = bx_pg_query(pg, k->q_admin, 3, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    json_t *data = json_array();
    int n = PQntuples(res);
    for (int i = 0; data && i < n; i++) {
        snprintf(self, sizeof self, "/api/v1/admin/content/%s/%s", k->name, bx_pg_val(res, i, 0));
        json_array_append_new(data, fd_resource(k->type, bx_pg_val(res, i, 0),
                                                fd_cat_json(bx_pg_val(res, i, 1)), self));
    }
    if (n > 0 && n == max)
        fd_cat_cursor_encode("c", bx_pg_val(res, n - 1, 0), next, sizeof next);
    PQclear(res);
    snprintf(path, sizeof path, "/api/v1/admin/content/%s", k->name);
    fd_reply_json(req, 200,
                  fd_document(data, fd_cat_links(req, path, keys, next[0] ? next : NULL)));
}

static void s_admin_get(fd_req_t *req)
{
    const s_kind_t *k = s_kind(req);
    const char *id = k ? fd_cat_id(req, k->param, "item") : NULL;
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (pg)
        s_reply_item(req, pg, k, id, 200);
}

static void s_create(fd_req_t *req)
{
    char id[BX_UUID_LEN + 1], loc[128], action[48];
    const s_kind_t *k = s_kind(req);
    bx_pg_t *pg = k ? fd_cat_db(req) : NULL;
    if (!pg || !k->refs(req, pg, fd_body(req)))
        return;
    char *text = bx_json_dump(fd_body(req));
    bx_uuid_v7(id);
    const char *p[] = {id, text, fd_who(req)->user_id};
    bx_err_t err = text ? bx_pg_run(pg, k->q_insert, 3, p) : BX_ENOMEM;
    free(text);
    if (err) {
        s_fail(req, pg, err);
        return;
    }
    snprintf(action, sizeof action, "content.%s.create", k->name);
    fd_audit(req, action, k->type, id, NULL);
    snprintf(loc, sizeof loc, "/api/v1/admin/content/%s/%s", k->name, id);
    fd_add_header(req, "Location", loc);
    s_reply_item(req, pg, k, id, 201);
}

/* Runs the kind's update or delete of item id; answers 404 when it is not there. */
static int s_change(fd_req_t *req, bx_pg_t *pg, const char *query, const char *id, const char *text)
{
    bx_err_t err;
    const char *p[] = {id, text};
    PGresult *res = bx_pg_query(pg, query, text ? 2 : 1, p, &err);
    int found = res && PQntuples(res) == 1;
    PQclear(res);
    if (err)
        s_fail(req, pg, err);
    else if (!found)
        fd_reply_problem(req, BX_ENOTFOUND, "no such item");
    return !err && found;
}

static void s_update(fd_req_t *req)
{
    char action[48];
    const s_kind_t *k = s_kind(req);
    const char *id = k ? fd_cat_id(req, k->param, "item") : NULL;
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (!pg || !k->refs(req, pg, fd_body(req)))
        return;
    char *text = bx_json_dump(fd_body(req));
    int ok = text ? s_change(req, pg, k->q_update, id, text) : 0;
    if (!text)
        fd_reply_problem(req, BX_ENOMEM, NULL);
    free(text);
    if (!ok)
        return;
    snprintf(action, sizeof action, "content.%s.update", k->name);
    fd_audit(req, action, k->type, id, NULL);
    s_reply_item(req, pg, k, id, 200);
}

static void s_delete(fd_req_t *req)
{
    char action[48];
    const s_kind_t *k = s_kind(req);
    const char *id = k ? fd_cat_id(req, k->param, "item") : NULL;
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (!pg || !s_change(req, pg, k->q_delete, id, NULL))
        return;
    snprintf(action, sizeof action, "content.%s.delete", k->name);
    fd_audit(req, action, k->type, id, NULL);
    fd_reply_empty(req, 204);
}

#define S_ADMIN(kind, param, create, update)                                                       \
    {"GET", "/api/v1/admin/content/" kind, s_admin_list, FD_ADMIN, FD_RL_READ, NULL},              \
        {"POST", "/api/v1/admin/content/" kind, s_create, FD_ADMIN, FD_RL_WRITE, create},          \
        {"GET", "/api/v1/admin/content/" kind "/{" param "}", s_admin_get, FD_ADMIN, FD_RL_READ,   \
         NULL},                                                                                    \
        {"PUT", "/api/v1/admin/content/" kind "/{" param "}", s_update, FD_ADMIN, FD_RL_WRITE,     \
         update},                                                                                  \
    {                                                                                              \
        "DELETE", "/api/v1/admin/content/" kind "/{" param "}", s_delete, FD_ADMIN, FD_RL_WRITE,   \
            NULL                                                                                   \
    }

const fd_route_t fd_content_routes[] = {
    {"GET", "/api/v1/content/featured", s_public_list, 0, FD_RL_READ, NULL},
    {"GET", "/api/v1/content/promotions", s_public_list, 0, FD_RL_READ, NULL},
    {"GET", "/api/v1/content/news", s_public_list, 0, FD_RL_READ, NULL},
    S_ADMIN("featured", "featuredId", s_featured_create, s_featured_update),
    S_ADMIN("promotions", "promotionId", s_promotion_create, s_promotion_update),
    S_ADMIN("news", "newsId", s_news_create, s_news_update),
    {NULL, NULL, NULL, 0, 0, NULL},
};
