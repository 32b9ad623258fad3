/* hot_sale_setup: what bx-hot-sale makes before it loads the system: a partner, the
 * simulated customers (rows and sessions in bulk, tokens minted with the system's own
 * signing key: 50,000 logins would measure argon2, not holds), and on-sale events made
 * through the catalog API like a partner would. Also the end-of-run checks. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bx_json.h"
#include "bx_util.h"
#include "hot_sale.h"

#define S_LAYOUT_MAX (256 * 1024) /* layout body: rows are generated, so this is plenty */

/* ---- HTTP (setup only: blocking) ---- */

size_t hs_collect(char *data, size_t size, size_t n, void *arg)
{
    hs_buf_t *b = arg;
    char *grown = realloc(b->buf, b->len + size * n + 1);
    if (!grown)
        return 0;
    memcpy(grown + b->len, data, size * n);
    b->buf = grown;
    b->len += size * n;
    b->buf[b->len] = '\0';
    return size * n;
}

long hs_api(hs_bench_t *b, const char *method, const char *path, const char *body, json_t **doc)
{
    char url[512], auth[HS_TOKEN_MAX + 32];
    hs_buf_t out = {0};
    long status = 0;
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    snprintf(url, sizeof url, "%s%s", b->base, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", b->partner);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hs_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (doc)
        *doc = out.buf ? json_loads(out.buf, 0, NULL) : NULL;
    if (status >= 300)
        fprintf(stderr, "bx-hot-sale: %s %s: %ld %.300s\n", method, path, status,
                out.buf ? out.buf : "");
    free(out.buf);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

/* ---- tokens and users ---- */

static bx_err_t s_mint(hs_bench_t *b, const char *uid, const char *sid, const char *role,
                       char out[HS_TOKEN_MAX])
{
    char jti[37];
    long now = (long)(bx_now_ms() / 1000);
    bx_uuid_v7(jti);
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "iss", "boxoffice", "sub", uid,
                          "sid", sid, "role", role, "jti", jti, "iat", (json_int_t)now, "exp",
                          (json_int_t)(now + 3 * 3600));
    char *t = c ? bx_jwt_sign(b->ring, c) : NULL;
    json_decref(c);
    if (!t || strlen(t) >= HS_TOKEN_MAX) {
        free(t);
        return BX_EINTERNAL;
    }
    bx_strlcpy(out, t, HS_TOKEN_MAX);
    free(t);
    return BX_OK;
}

bx_err_t hs_setup(hs_bench_t *b)
{
    char org[37], uid[37], sid[37], email[96];
    snprintf(b->tag, sizeof b->tag, "%lld", (long long)(bx_now_ms() / 1000));
    if (!(b->pg = bx_pg_new(b->dsn, 1))) {
        fprintf(stderr, "bx-hot-sale: cannot connect to %s (or a named query does not prepare)\n",
                b->dsn);
        return BX_EUNAVAILABLE;
    }
    if (!(b->ring = bx_jwt_ring_load(b->keys, "boxoffice"))) {
        fprintf(stderr, "bx-hot-sale: no signing key in %s\n", b->keys);
        return BX_EINVAL;
    }
    bx_uuid_v7(org);
    bx_uuid_v7(uid);
    bx_uuid_v7(sid);
    snprintf(email, sizeof email, "hot-partner-%s@bench.test", b->tag);
    const char *p[] = {org, uid, email, sid};
    bx_err_t err = bx_pg_run(b->pg, "bench_partner_create", 4, p);
    if (!err)
        err = s_mint(b, uid, sid, "partner", b->partner);
    if (err)
        fprintf(stderr, "bx-hot-sale: partner not created: %s\n", bx_pg_error(b->pg));
    return err;
}

bx_err_t hs_users(hs_bench_t *b)
{
    char n[16];
    bx_err_t err;
    snprintf(n, sizeof n, "%d", b->users);
    const char *p[] = {b->tag, n};
    b->tokens = calloc((size_t)b->users, sizeof *b->tokens);
    b->admission = calloc((size_t)b->users, sizeof *b->admission);
    if (!b->tokens || !b->admission)
        return BX_ENOMEM;
    PGresult *res = bx_pg_query(b->pg, "bench_customers_create", 2, p, &err);
    for (int i = 0; !err && res && i < PQntuples(res) && i < b->users; i++)
        err = s_mint(b, bx_pg_val(res, i, 0), bx_pg_val(res, i, 1), "customer", b->tokens[i]);
    if (!err && (!res || PQntuples(res) != b->users))
        err = BX_EINTERNAL;
    if (err)
        fprintf(stderr, "bx-hot-sale: customers not created: %s\n", bx_pg_error(b->pg));
    PQclear(res);
    return err;
}

/* ---- events ---- */

static bx_err_t s_create(hs_bench_t *b, const char *path, const char *body, char id[37])
{
    json_t *doc = NULL;
    long st = hs_api(b, "POST", path, body, &doc);
    const char *v = json_string_value(json_object_get(json_object_get(doc, "data"), "id"));
    if (st == 201 && v)
        bx_strlcpy(id, v, 37);
    json_decref(doc);
    return st == 201 && v ? BX_OK : BX_EINTERNAL;
}

/* A hall of the bench venue with rows of per_row seats ("R<n>-<k>") and a GA area. */
static bx_err_t s_hall(hs_bench_t *b, int rows, int per_row, int ga, char hall[37])
{
    char path[160], *body = malloc(S_LAYOUT_MAX);
    size_t len = 0;
    bx_err_t err = body ? BX_OK : BX_ENOMEM;
    if (!err && !b->venue[0])
        err = s_create(
            b, "/api/v1/venues",
            "{\"name\":\"Hot sale arena\",\"address\":\"1 Bench Road\",\"city\":\"Berlin\","
            "\"country\":\"DE\",\"latitude\":52.5,\"longitude\":13.4,"
            "\"time_zone\":\"Europe/Berlin\",\"capacity\":1000000}",
            b->venue);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls", b->venue);
    char name[96];
    snprintf(name, sizeof name, "{\"name\":\"Hall %s-%d\",\"kind\":\"arena\"}", b->tag, ++b->halls);
    if (!err)
        err = s_create(b, path, name, hall);
    len = err ? 0
              : (size_t)snprintf(body, S_LAYOUT_MAX,
                                 "{\"sections\":[{\"code\":\"MAIN\","
                                 "\"name\":\"Main\",\"kind\":\"seated\",\"rows\":[");
    for (int r = 1; !err && r <= rows && len + 128 < S_LAYOUT_MAX; r++)
        len += (size_t)snprintf(body + len, S_LAYOUT_MAX - len,
                                "%s{\"label\":\"R%d-\",\"count\":%d,\"x\":0,\"y\":%d}",
                                r > 1 ? "," : "", r, per_row, r);
    if (!err)
        snprintf(body + len, S_LAYOUT_MAX - len,
                 "]},{\"code\":\"PIT\",\"name\":\"Pit\",\"kind\":\"ga\",\"capacity\":%d}]}",
                 ga > 0 ? ga : 1);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls/%s/layout", b->venue, hall);
    if (!err && hs_api(b, "PUT", path, body, NULL) != 201)
        err = BX_EINTERNAL;
    free(body);
    return err;
}

/* Tiers, publication, on sale, and limits high enough for the load. */
static bx_err_t s_sell(hs_bench_t *b, hs_event_t *ev)
{
    char path[160], body[256];
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", ev->id);
    bx_err_t err = s_create(b, path,
                            "{\"name\":\"Standard\",\"kind\":\"seated\",\"price_minor\":6500,"
                            "\"sections\":[\"MAIN\"]}",
                            ev->standard);
    snprintf(body, sizeof body,
             "{\"name\":\"Standing\",\"kind\":\"ga\",\"price_minor\":4500,\"section\":\"PIT\","
             "\"capacity\":%d}",
             ev->ga > 0 ? ev->ga : 1);
    if (!err)
        err = s_create(b, path, body, ev->standing);
    snprintf(path, sizeof path, "/api/v1/events/%s/publish", ev->id);
    if (!err && hs_api(b, "POST", path, NULL, NULL) != 200)
        err = BX_EINTERNAL;
    snprintf(path, sizeof path, "/api/v1/events/%s", ev->id);
    if (!err && hs_api(b, "PUT", path, "{\"status\":\"on_sale\"}", NULL) != 200)
        err = BX_EINTERNAL;
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory", ev->id);
    if (!err && hs_api(b, "PUT", path, "{\"settings\":{\"max_per_user\":20}}", NULL) != 200)
        err = BX_EINTERNAL;
    return err;
}

bx_err_t hs_event(hs_bench_t *b, int seats, int per_row, int ga, hs_event_t *ev)
{
    char hall[37], body[512];
    static int day;
    memset(ev, 0, sizeof *ev);
    ev->per_row = per_row;
    ev->rows = seats / per_row;
    ev->ga = ga;
    bx_err_t err = s_hall(b, ev->rows, per_row, ga, hall);
    day++;
    snprintf(body, sizeof body,
             "{\"name\":\"Hot sale %s/%d\",\"event_type\":\"concert\",\"venue_id\":\"%s\","
             "\"hall_id\":\"%s\",\"starts_at\":\"2032-01-%02dT20:00:00Z\","
             "\"ends_at\":\"2032-01-%02dT23:00:00Z\",\"currency\":\"EUR\"}",
             b->tag, day, b->venue, hall, 1 + day % 28, 1 + day % 28);
    if (!err)
        err = s_create(b, "/api/v1/events", body, ev->id);
    if (!err)
        err = s_sell(b, ev);
    return err;
}

/* ---- checks ---- */

static void s_id_list(const hs_event_t *events, int n, char *out, size_t cap)
{
    size_t len = bx_strlcpy(out, "{", cap);
    for (int i = 0; i < n && len + 40 < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", events[i].id);
    bx_strlcpy(out + len, "}", cap - len);
}

long hs_settle(hs_bench_t *b, const hs_event_t *events, int n, int timeout_s)
{
    char ids[8192];
    long left = -1;
    s_id_list(events, n, ids, sizeof ids);
    const char *p[] = {ids};
    for (int i = 0; i < timeout_s * 5; i++) {
        bx_err_t err;
        PGresult *res = bx_pg_query(b->pg, "bench_unfinished", 1, p, &err);
        left = res ? strtol(bx_pg_val(res, 0, 0), NULL, 10) : -1;
        PQclear(res);
        if (left == 0)
            break;
        usleep(200000);
    }
    return left;
}

long hs_oversell(hs_bench_t *b, const hs_event_t *events, int n, long *seats, long *ga)
{
    char ids[8192];
    bx_err_t err;
    long bad = -1;
    s_id_list(events, n, ids, sizeof ids);
    const char *p[] = {ids};
    PGresult *res = bx_pg_query(b->pg, "bench_oversell", 1, p, &err);
    if (res) {
        bad = 0;
        for (int c = 0; c < 4; c++)
            bad += strtol(bx_pg_val(res, 0, c), NULL, 10);
    }
    PQclear(res);
    res = bx_pg_query(b->pg, "bench_sold", 1, p, &err);
    *seats = res ? strtol(bx_pg_val(res, 0, 0), NULL, 10) : -1;
    *ga = res ? strtol(bx_pg_val(res, 0, 1), NULL, 10) : -1;
    PQclear(res);
    return bad;
}
