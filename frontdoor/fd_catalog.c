/* fd_catalog: helpers shared by the catalog routes: database handle, authorization by
 * organization membership, outbox rows for the index worker, problems, cursors, links. */
#include "fd_catalog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_dlv.h"
#include "bx_log.h"
#include "bx_util.h"

/* Database refusals that a rule of the catalog explains better than the raw message. */
static const struct {
    const char *constraint; /* name as it appears in the PostgreSQL message */
    bx_err_t err;           /* what to answer */
    const char *detail;     /* why, for the client */
} s_rules[] = {
    {"events_no_overlap", BX_ECONFLICT, "the hall already has an event at that time"},
    {"layout_seats_layout_id_label_key", BX_EINVAL, "seat labels must be unique within a layout"},
    {"layout_sections_layout_id_code_key", BX_EINVAL,
     "section codes must be unique within a layout"},
    {"layouts_hall_id_version_key", BX_ECONFLICT,
     "another layout version of this hall was saved at the same moment: retry"},
    {"halls_venue_id_name_key", BX_ECONFLICT, "the venue already has a hall with this name"},
    {"ticket_tiers_event_id_name_key", BX_ECONFLICT, "the event already has a tier with this name"},
    {"ticket_tiers_event_id_currency_fkey", BX_ECONFLICT,
     "the event has ticket tiers priced in its currency: delete them before changing it"},
    {"tier_sections_pkey", BX_ECONFLICT,
     "a section is already priced by another tier of this event"},
    {"tier_seats_pkey", BX_ECONFLICT, "a seat is already priced by another tier of this event"},
    {"event_ga_check", BX_ECONFLICT, "the capacity is below what is already held or sold"},
    {"layout versions are immutable", BX_ECONFLICT, "layout versions are immutable"},
    {"tier_order_limits", BX_EINVAL, "max_per_order must be at least min_per_order"},
    {"tier_sale_window", BX_EINVAL, "sale_ends_at must be after sale_starts_at"},
    {"series_span", BX_EINVAL,
     "until_date must be on or after start_date and at most 400 days later"},
    {"series_weekdays", BX_EINVAL, "a weekly series names its weekdays"},
    {"events_span_max", BX_EINVAL, "an event lasts at most 31 days"},
    {"events_span", BX_EINVAL, "the event must end after it starts"},
};

bx_pg_t *fd_cat_db(fd_req_t *req)
{
    bx_pg_t *pg = fd_pg(req);
    if (!pg) {
        fd_add_header(req, "Retry-After", "2");
        fd_reply_problem(req, BX_EUNAVAILABLE, "the database is unreachable: retry shortly");
    }
    return pg;
}

int fd_cat_admin(fd_req_t *req)
{
    const fd_principal_t *who = fd_who(req);
    return who->authenticated && !strcmp(who->role, "admin");
}

bx_err_t fd_cat_manages(fd_req_t *req, bx_pg_t *pg, const char *org, int *ok)
{
    const fd_principal_t *who = fd_who(req);
    bx_err_t err = BX_OK;
    *ok = 0;
    if (fd_cat_admin(req)) {
        *ok = 1;
        return BX_OK;
    }
    if (!who->authenticated || strcmp(who->role, "partner") || !org || !bx_uuid_valid(org))
        return BX_OK;
    const char *p[] = {org, who->user_id};
    PGresult *res = bx_pg_query(pg, "org_member_role", 2, p, &err);
    *ok = res && PQntuples(res) == 1;
    PQclear(res);
    return err;
}

bx_err_t fd_cat_outbox(fd_req_t *req, bx_pg_t *pg, const char *topic, const char *id,
                       const char *action)
{
    json_t *payload =
        json_pack("{s:s, s:s, s:s}", "id", id, "action", action, "request_id", fd_req_id(req));
    char *text = payload ? bx_json_dump(payload) : NULL;
    json_decref(payload);
    if (!text)
        return BX_ENOMEM;
    const char *p[] = {topic, id, text};
    bx_err_t err = bx_pg_run(pg, "cat_outbox_insert", 3, p);
    free(text);
    if (!err && !strncmp(topic, "event.", 6)) {
        /* partners hear about every change of their events, in commit order per event */
        char key[64];
        json_t *data = json_pack("{s:s}", "action", action);
        snprintf(key, sizeof key, "event:%s", id);
        err = data ? bx_dlv_partner_event(pg, "event.updated", NULL, id, data, key, NULL, NULL) : BX_ENOMEM;
        json_decref(data);
    }
    return err;
}

void fd_cat_invalid(fd_req_t *req, const char *ptr, const char *detail)
{
    fd_reply_problem_ext(req, BX_EINVAL, "one or more fields are invalid",
                         json_pack("{s:[{s:s, s:s}]}", "errors", "pointer", ptr, "detail", detail));
}

void fd_cat_fail(fd_req_t *req, bx_pg_t *pg, bx_err_t err, const char *detail)
{
    const char *msg = pg ? bx_pg_error(pg) : "";
    if (pg)
        bx_pg_rollback(pg);
    for (size_t i = 0; !detail && *msg && i < sizeof s_rules / sizeof s_rules[0]; i++) {
        if (strstr(msg, s_rules[i].constraint)) {
            err = s_rules[i].err;
            detail = s_rules[i].detail;
        }
    }
    if (!detail && (err == BX_EINVAL || err == BX_ECONFLICT))
        BX_INFO("catalog write refused by the database: %s", msg);
    fd_reply_problem(req, err ? err : BX_EINTERNAL, detail);
}

const char *fd_cat_id(fd_req_t *req, const char *name, const char *what)
{
    const char *id = fd_param(req, name);
    char detail[64];
    if (id && bx_uuid_valid(id))
        return id;
    snprintf(detail, sizeof detail, "no such %s", what);
    fd_reply_problem(req, BX_ENOTFOUND, detail);
    return NULL;
}

int fd_cat_limit(fd_req_t *req, long *n, char buf[8])
{
    const char *q = fd_query(req, "limit");
    long v = FD_CAT_LIMIT_DEFAULT;
    if (q && bx_parse_long(q, 1, FD_CAT_LIMIT_MAX, &v) != BX_OK) {
        fd_reply_problem_ext(req, BX_EINVAL, "limit must be a whole number from 1 to 100",
                             json_pack("{s:[{s:s, s:s}]}", "errors", "parameter", "limit", "detail",
                                       "must be from 1 to 100"));
        return 0;
    }
    snprintf(buf, 8, "%ld", v);
    *n = v;
    return 1;
}

void fd_cat_cursor_encode(const char *a, const char *b, char *out, size_t cap)
{
    char raw[128];
    int n = snprintf(raw, sizeof raw, "%s|%s", a, b);
    if (n < 0 || (size_t)n >= sizeof raw || cap < 4 * ((size_t)n + 2) / 3 + 1) {
        out[0] = '\0';
        return;
    }
    bx_b64url_encode((const unsigned char *)raw, (size_t)n, out, cap);
}

static int s_cursor_bad(fd_req_t *req)
{
    fd_reply_problem_ext(req, BX_EINVAL, "the cursor is not one this API handed out",
                         json_pack("{s:[{s:s, s:s}]}", "errors", "parameter", "cursor", "detail",
                                   "pass links.next of the previous page unchanged"));
    return 0;
}

int fd_cat_cursor_decode(fd_req_t *req, char *a, char *b, size_t cap)
{
    const char *c = fd_query(req, "cursor");
    unsigned char raw[128];
    a[0] = b[0] = '\0';
    if (!c)
        return 1;
    size_t len = strlen(c);
    long n = len <= FD_CAT_CURSOR_MAX ? bx_b64url_decode(c, len, raw, sizeof raw - 1) : -1;
    if (n <= 0)
        return s_cursor_bad(req);
    raw[n] = '\0';
    char *bar = strchr((char *)raw, '|');
    if (!bar || (size_t)(bar - (char *)raw) >= cap || strlen(bar + 1) >= cap)
        return s_cursor_bad(req);
    *bar = '\0';
    bx_strlcpy(a, (char *)raw, cap);
    bx_strlcpy(b, bar + 1, cap);
    if (!bx_uuid_valid(b))
        return s_cursor_bad(req);
    return 1;
}

/* Appends "&k=v" (percent-encoded v) to out. Returns the new length, or cap on overflow. */
static size_t s_arg(char *out, size_t len, size_t cap, const char *k, const char *v)
{
    static const char hex[] = "0123456789ABCDEF";
    int n = snprintf(out + len, cap - len, "%c%s=", strchr(out, '?') ? '&' : '?', k);
    if (n < 0 || len + (size_t)n >= cap)
        return cap;
    len += (size_t)n;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (len + 4 >= cap)
            return cap;
        if (isalnum(*p) || strchr("-._~", *p)) {
            out[len++] = (char)*p;
        } else {
            out[len++] = '%';
            out[len++] = hex[*p >> 4];
            out[len++] = hex[*p & 15];
        }
    }
    out[len] = '\0';
    return len;
}

/* path plus the carried-over query arguments, and the cursor when given. */
static void s_url(fd_req_t *req, const char *path, const char *const *keys, const char *cursor,
                  char *out, size_t cap)
{
    size_t len = bx_strlcpy(out, path, cap);
    for (const char *const *k = keys; *k && len < cap; k++) {
        const char *v = fd_query(req, *k);
        if (v)
            len = s_arg(out, len, cap, *k, v);
    }
    if (cursor && len < cap)
        len = s_arg(out, len, cap, "cursor", cursor);
    if (len >= cap)
        bx_strlcpy(out, path, cap);
}

json_t *fd_cat_links(fd_req_t *req, const char *path, const char *const *keys, const char *cursor)
{
    char self[2048], next[2048];
    const char *own = fd_query(req, "cursor");
    s_url(req, path, keys, own, self, sizeof self);
    json_t *links = json_pack("{s:s}", "self", self);
    if (links && cursor) {
        s_url(req, path, keys, cursor, next, sizeof next);
        json_object_set_new(links, "next", json_string(next));
    }
    return links;
}

json_t *fd_cat_json(const char *text)
{
    return text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
}

int fd_cat_strings(fd_req_t *req, json_t *body, const char *key, size_t max_len, size_t n)
{
    char ptr[96];
    json_t *arr = json_object_get(body, key), *v;
    size_t i;
    if (!arr)
        return 1;
    if (json_array_size(arr) > n) {
        snprintf(ptr, sizeof ptr, "/%s", key);
        fd_cat_invalid(req, ptr, "has too many items");
        return 0;
    }
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        int ok = s && *s && strlen(s) <= max_len;
        for (const char *p = s; ok && *p; p++)
            ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
        if (!ok) {
            snprintf(ptr, sizeof ptr, "/%s/%zu", key, i);
            fd_cat_invalid(req, ptr, "must be a non-empty string without control characters");
            return 0;
        }
    }
    return 1;
}

int fd_cat_date_ok(const char *s)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return 0;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return 0;
    return m != 2 || d <= 28 + leap;
}

int fd_cat_currency_ok(fd_req_t *req, bx_pg_t *pg, const char *currency)
{
    bx_err_t err;
    const char *p[] = {currency};
    if (!currency)
        return 1;
    PGresult *res = bx_pg_query(pg, "cat_currency_known", 1, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
        return 0;
    }
    int ok = !strcmp(bx_pg_val(res, 0, 0), "t");
    PQclear(res);
    if (!ok)
        fd_cat_invalid(req, "/currency", "must be an ISO 4217 currency code such as EUR");
    return ok;
}
