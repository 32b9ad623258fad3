/* it_media: media, content and the demo data generator against a real frontdoor,
 * PostgreSQL and media folder. Media: type detection from the bytes (an executable
 * renamed .jpg, a PNG declared as JPEG), recorded sizes and durations, content served
 * with a strong ETag, immutable caching, 304 and byte ranges, deduplication by content,
 * poster replacement and the sweep of unused bytes, separate image and video caps, a
 * 200 MB upload refused with 413 before the body is read and without the frontdoor's
 * memory growing, and another organization's event or venue refused with 404 with
 * nothing written (no row, no file). Content: admin-only management, publication
 * windows (and caching that never outlives one), locales, pagination. Seed: the demo
 * catalog's shapes, idempotence, and the benchmark catalog topped up to N events. */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bx_harness.h"
#include "bx_httpc.h"
#include "bx_jwt.h"
#include "bx_samples.h"
#include "bx_suite.h"
#include "bx_util.h"

#define HTTP_PORT   26100
#define BROKER_PORT 26101 /* nothing listens: media and content never use the pipeline */
#define BASE        "http://127.0.0.1:26100"
#define PT          "https://boxoffice.dev/problems/"
#define IMAGE_CAP   (2u << 20) /* media_image_max_bytes of this frontdoor */

static const char *s_dsn;
static char s_dir[256], s_keydir[300], s_log[300], s_media[300];
static char s_env[16][512];
static const char *s_envp[17];
static pid_t s_fd;
static bx_jwt_ring_t *s_ring;

/* Callers: partners of organizations A and B, a customer, an admin. */
static char s_tok_a[4096], s_tok_b[4096], s_tok_cust[4096], s_tok_admin[4096];
static char s_org_a[37], s_org_b[37];

/* ---- fixture ---- */

static void s_env_init(void)
{
    const char *rp = getenv("BX_TEST_REDIS_PORT");
    int n = 0;
    snprintf(s_env[n++], 512, "BOXOFFICE_PG_DSN=%s", s_dsn);
    snprintf(s_env[n++], 512, "BOXOFFICE_REDIS_PORT=%s", rp ? rp : "26379");
    snprintf(s_env[n++], 512, "BOXOFFICE_BROKER_ENDPOINT=tcp://127.0.0.1:%d", BROKER_PORT);
    snprintf(s_env[n++], 512, "BOXOFFICE_HTTP_PORT=%d", HTTP_PORT);
    snprintf(s_env[n++], 512, "BOXOFFICE_JWT_KEY_DIR=%s", s_keydir);
    snprintf(s_env[n++], 512, "BOXOFFICE_MEDIA_DIR=%s", s_media);
    snprintf(s_env[n++], 512, "BOXOFFICE_MEDIA_IMAGE_MAX_BYTES=%u", IMAGE_CAP);
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_WRITE_PER_MIN=1000000");
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_READ_PER_MIN=1000000");
    snprintf(s_env[n++], 512, "BOXOFFICE_RL_IP_PER_MIN=10000000");
    snprintf(s_env[n++], 512, "BOXOFFICE_LOG_LEVEL=info");
    for (int i = 0; i < n; i++)
        s_envp[i] = s_env[i];
    s_envp[n] = NULL;
}

static long s_count(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The first value of a query built from fmt (test-controlled values) as a number. */
static long s_count(const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    char *v = bx_h_sql(s_dsn, sql);
    long n = v ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

static void s_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void s_sql(const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    free(bx_h_sql(s_dsn, sql));
}

/* Inserts a user with role (member of org when not NULL) and a session; mints a token. */
static void s_mint(const char *role, const char *org, char *tok, size_t cap)
{
    char uid[37], sid[37], jti[37];
    bx_uuid_v7(uid);
    bx_uuid_v7(sid);
    bx_uuid_v7(jti);
    s_sql("INSERT INTO users (id, email, password_hash, role) VALUES ('%s', '%s@t.test', 'x', "
          "'%s'); INSERT INTO sessions (id, user_id, expires_at) VALUES ('%s', '%s', now() + "
          "interval '1 day')",
          uid, uid, role, sid, uid);
    if (org)
        s_sql("INSERT INTO organization_members (org_id, user_id, role) VALUES ('%s', '%s', "
              "'owner')",
              org, uid);
    long now = (long)(bx_now_ms() / 1000);
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "iss", "boxoffice", "sub", uid,
                          "sid", sid, "role", role, "jti", jti, "iat", (json_int_t)now, "exp",
                          (json_int_t)(now + 3600));
    char *t = bx_jwt_sign(s_ring, c);
    json_decref(c);
    ck_assert_ptr_nonnull(t);
    bx_strlcpy(tok, t, cap);
    free(t);
}

static void s_setup(void)
{
    char cmd[2048];
    const char *tmp = getenv("BX_TMP_DIR") ? getenv("BX_TMP_DIR") : "/tmp";
    s_dsn = strdup(bx_h_db("media"));
    snprintf(s_dir, sizeof s_dir, "%s/it_media.tmp", tmp);
    snprintf(s_keydir, sizeof s_keydir, "%s/keys", s_dir);
    snprintf(s_media, sizeof s_media, "%s/media", s_dir);
    snprintf(s_log, sizeof s_log, "%s/frontdoor.log", s_dir);
    snprintf(cmd, sizeof cmd,
             "rm -rf '%s' && mkdir -p '%s' && BOXOFFICE_JWT_KEY_DIR='%s' %s keygen >/dev/null",
             s_dir, s_keydir, s_keydir, bx_h_bin("bxctl"));
    ck_assert_int_eq(bx_h_sh(cmd), 0);
    s_ring = bx_jwt_ring_load(s_keydir, "boxoffice");
    ck_assert_ptr_nonnull(s_ring);
    bx_uuid_v7(s_org_a);
    bx_uuid_v7(s_org_b);
    s_sql("INSERT INTO organizations (id, name) VALUES ('%s', 'Org A'), ('%s', 'Org B')", s_org_a,
          s_org_b);
    s_mint("partner", s_org_a, s_tok_a, sizeof s_tok_a);
    s_mint("partner", s_org_b, s_tok_b, sizeof s_tok_b);
    s_mint("customer", NULL, s_tok_cust, sizeof s_tok_cust);
    s_mint("admin", NULL, s_tok_admin, sizeof s_tok_admin);
    s_env_init();
    s_fd = bx_h_spawn(bx_h_bin("bx-frontdoor"), NULL, s_envp, s_log);
    ck_assert_int_eq(bx_h_wait_port(HTTP_PORT, 10000), 0);
}

static void s_teardown(void)
{
    if (s_fd > 0)
        bx_h_stop(s_fd, SIGTERM, 5000);
    bx_jwt_ring_destroy(&s_ring);
}

/* ---- HTTP helpers ---- */

/* Formats a JSON text written with ' for " (rotating static buffers). */
static const char *s_j(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *s_j(const char *fmt, ...)
{
    static char bufs[32][4096];
    static int next;
    char *b = bufs[next++ % 32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    for (char *p = b; *p; p++)
        if (*p == '\'')
            *p = '"';
    return b;
}

static json_t *s_jget(json_t *j, const char *path)
{
    char part[64];
    while (j && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        j = json_is_array(j) ? json_array_get(j, strtoul(part, NULL, 10))
                             : json_object_get(j, part);
        path += n + (dot ? 1 : 0);
    }
    return j;
}

static const char *s_jstr(json_t *j, const char *path)
{
    return json_string_value(s_jget(j, path));
}

static long s_jint(json_t *j, const char *path)
{
    return (long)json_integer_value(s_jget(j, path));
}

static bx_httpc_resp_t s_call(const char *method, const char *path, const char *tok,
                              const char *body)
{
    char url[1024];
    snprintf(url, sizeof url, BASE "%s", path);
    return bx_httpc_json(method, url, tok, body, NULL);
}

/* GET path with one extra header ("Name: value", may be NULL) and an optional token. */
static bx_httpc_resp_t s_get(const char *path, const char *tok, const char *header)
{
    char url[1024], auth[4200];
    const char *h[3] = {NULL, NULL, NULL};
    int n = 0;
    snprintf(url, sizeof url, BASE "%s", path);
    if (tok) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
        h[n++] = auth;
    }
    h[n] = header;
    return bx_httpc("GET", url, h, NULL, 0);
}

#define S_EXPECT(r, st)                                                                            \
    ck_assert_msg((r).status == (st), "%s:%d: want %d, got %ld: %s", __FILE__, __LINE__, (st),     \
                  (r).status, (r).body ? (r).body : "")

static void s_problem(bx_httpc_resp_t *r, long status, const char *slug, int line)
{
    char ct[128], want[128];
    ck_assert_msg(r->status == status, "line %d: want %ld, got %ld: %s", line, status, r->status,
                  r->body);
    ck_assert(bx_httpc_header(r, "Content-Type", ct, sizeof ct));
    ck_assert_msg(strstr(ct, "application/problem+json"), "line %d: content type %s", line, ct);
    snprintf(want, sizeof want, PT "%s", slug);
    ck_assert_msg(r->json && !strcmp(s_jstr(r->json, "type"), want), "line %d: type in %s", line,
                  r->body);
}
#define S_PROBLEM(r, st, slug) s_problem(&(r), (st), (slug), __LINE__)

static void s_create(const char *path, const char *tok, const char *body, char id[37])
{
    bx_httpc_resp_t r = s_call("POST", path, tok, body);
    S_EXPECT(r, 201);
    bx_strlcpy(id, s_jstr(r.json, "data.id"), 37);
    bx_httpc_free(&r);
}

/* A venue of tok's organization with one hall whose layout is a GA floor of 100. */
static void s_place(const char *tok, const char *city, char venue[37], char hall[37])
{
    char path[160];
    s_create("/api/v1/venues", tok,
             s_j("{'name':'Hall in %s','address':'1 Main Street','city':'%s','country':'DE',"
                 "'latitude':52.5,'longitude':13.4,'time_zone':'Europe/Berlin','capacity':100}",
                 city, city),
             venue);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls", venue);
    s_create(path, tok, s_j("{'name':'Main','kind':'hall'}"), hall);
    snprintf(path, sizeof path, "/api/v1/venues/%s/halls/%s/layout", venue, hall);
    bx_httpc_resp_t r =
        s_call("PUT", path, tok,
               s_j("{'sections':[{'code':'FLOOR','name':'Floor','kind':'ga','capacity':100}]}"));
    S_EXPECT(r, 201);
    bx_httpc_free(&r);
}

/* A draft event in the hall, day days from now; published with a GA tier when publish. */
static void s_event(const char *tok, const char *venue, const char *hall, int day, int publish,
                    char id[37])
{
    char starts[32], ends[32], path[160], tier[37];
    int64_t t = bx_now_ms() / 1000 + (int64_t)day * 86400;
    bx_time_rfc3339(t, starts);
    bx_time_rfc3339(t + 7200, ends);
    s_create("/api/v1/events", tok,
             s_j("{'name':'Night %d','event_type':'concert','venue_id':'%s','hall_id':'%s',"
                 "'starts_at':'%s','ends_at':'%s','currency':'EUR'}",
                 day, venue, hall, starts, ends),
             id);
    if (!publish)
        return;
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", id);
    s_create(
        path, tok,
        s_j("{'name':'Floor','kind':'ga','price_minor':2500,'section':'FLOOR','capacity':100}"),
        tier);
    snprintf(path, sizeof path, "/api/v1/events/%s/publish", id);
    bx_httpc_resp_t r = s_call("POST", path, tok, NULL);
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
}

/* POSTs a raw upload: path is "/api/v1/events/<id>/media?role=...". ctype may be NULL. */
static bx_httpc_resp_t s_upload(const char *path, const char *tok, const char *ctype,
                                const unsigned char *data, size_t len)
{
    char url[1024], auth[4200], ct[128];
    const char *h[4] = {NULL, NULL, NULL, NULL};
    int n = 0;
    snprintf(url, sizeof url, BASE "%s", path);
    if (tok) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
        h[n++] = auth;
    }
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "");
    h[n++] = ctype ? ct : "Content-Type:";
    h[n++] = "Content-Disposition: attachment; filename=\"poster.jpg\"";
    return bx_httpc("POST", url, h, (const char *)data, len);
}

/* Uploads and expects 201 (or 200 when again); copies data.id. */
static void s_upload_ok(const char *path, const char *tok, const char *ctype,
                        const unsigned char *data, size_t len, long want, char id[37])
{
    bx_httpc_resp_t r = s_upload(path, tok, ctype, data, len);
    ck_assert_msg(r.status == want, "upload %s: want %ld, got %ld: %s", path, want, r.status,
                  r.body);
    bx_strlcpy(id, s_jstr(r.json, "data.id"), 37);
    bx_httpc_free(&r);
}

/* ---- the media folder ---- */

static long s_nfiles;

static int s_file_seen(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)st;
    (void)ftw;
    s_nfiles += flag == FTW_F;
    return 0;
}

/* Regular files under the media folder. */
static long s_files(void)
{
    s_nfiles = 0;
    nftw(s_media, s_file_seen, 16, FTW_PHYS);
    return s_nfiles;
}

/* The stored file of sha exists. */
static int s_stored(const char *sha)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%.2s/%.2s/%s", s_media, sha, sha + 2, sha);
    return access(path, R_OK) == 0;
}

/* Rows and files that "nothing written" compares. */
static long s_media_state(void)
{
    return s_count("SELECT (SELECT count(*) FROM media) * 1000000 + (SELECT count(*) FROM "
                   "media_blobs) * 1000 + (SELECT count(*) FROM outbox)") *
               100 +
           s_files();
}

/* ---- media ---- */

START_TEST(upload_detects_type_records_size_and_serves_immutable_content)
{
    char venue[37], hall[37], ev[37], poster[37], trailer[37], webm[37], path[256], sha[65];
    char etag[128], hdr[160], cc[128];
    size_t len, tlen, wlen;
    s_place(s_tok_a, "Leipzig", venue, hall);
    s_event(s_tok_a, venue, hall, 30, 0, ev);
    unsigned char *png = bx_sample_png(640, 480, 1, &len);
    bx_sha256_hex(png, len, sha);
    long outbox = s_count("SELECT count(*) FROM outbox WHERE route_key = '%s'", ev);
    snprintf(path, sizeof path, "/api/v1/events/%s/media?role=poster", ev);
    bx_httpc_resp_t r = s_upload(path, s_tok_a, "image/png", png, len);
    S_EXPECT(r, 201);
    bx_strlcpy(poster, s_jstr(r.json, "data.id"), sizeof poster);
    ck_assert_str_eq(s_jstr(r.json, "data.type"), "media");
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.mime"), "image/png");
    ck_assert_int_eq(s_jint(r.json, "data.attributes.width"), 640);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.height"), 480);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.bytes"), (long)len);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.sha256"), sha);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.owner.type"), "event");
    ck_assert(bx_httpc_header(&r, "Location", hdr, sizeof hdr));
    ck_assert_ptr_nonnull(strstr(hdr, poster));
    bx_httpc_free(&r);
    ck_assert(s_stored(sha));
    ck_assert_int_eq(s_count("SELECT count(*) FROM outbox WHERE route_key = '%s' AND payload->>"
                             "'action' = 'media_created'",
                             ev),
                     1);
    ck_assert_int_eq(s_count("SELECT count(*) FROM outbox WHERE route_key = '%s'", ev), outbox + 1);
    /* the draft's media are its managers' only */
    snprintf(path, sizeof path, "/api/v1/media/%s/content", poster);
    r = s_get(path, NULL, NULL);
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = s_get(path, s_tok_a, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(r.len, len);
    ck_assert_int_eq(memcmp(r.body, png, len), 0);
    ck_assert(bx_httpc_header(&r, "ETag", etag, sizeof etag));
    snprintf(hdr, sizeof hdr, "\"%s\"", sha);
    ck_assert_str_eq(etag, hdr);
    ck_assert(bx_httpc_header(&r, "Cache-Control", cc, sizeof cc));
    ck_assert_str_eq(cc, "private, max-age=31536000, immutable");
    ck_assert(bx_httpc_header(&r, "Content-Type", cc, sizeof cc));
    ck_assert_str_eq(cc, "image/png");
    bx_httpc_free(&r);
    /* published: public, revalidated with 304, ranges for players */
    snprintf(path, sizeof path, "/api/v1/events/%s/tiers", ev);
    s_create(
        path, s_tok_a,
        s_j("{'name':'Floor','kind':'ga','price_minor':2500,'section':'FLOOR','capacity':100}"),
        hdr);
    snprintf(path, sizeof path, "/api/v1/events/%s/publish", ev);
    r = s_call("POST", path, s_tok_a, NULL);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.media.0.id"), poster);
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/media/%s/content", poster);
    r = s_get(path, NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert(bx_httpc_header(&r, "Cache-Control", cc, sizeof cc));
    ck_assert_str_eq(cc, "public, max-age=31536000, immutable");
    bx_httpc_free(&r);
    snprintf(hdr, sizeof hdr, "If-None-Match: %s", etag);
    r = s_get(path, NULL, hdr);
    S_EXPECT(r, 304);
    ck_assert_int_eq(r.len, 0);
    bx_httpc_free(&r);
    r = s_get(path, NULL, "Range: bytes=0-99");
    S_EXPECT(r, 206);
    ck_assert_int_eq(r.len, 100);
    ck_assert_int_eq(memcmp(r.body, png, 100), 0);
    ck_assert(bx_httpc_header(&r, "Content-Range", cc, sizeof cc));
    snprintf(hdr, sizeof hdr, "bytes 0-99/%zu", len);
    ck_assert_str_eq(cc, hdr);
    bx_httpc_free(&r);
    r = s_get(path, NULL, "Range: bytes=-10");
    S_EXPECT(r, 206);
    ck_assert_int_eq(memcmp(r.body, png + len - 10, 10), 0);
    bx_httpc_free(&r);
    snprintf(hdr, sizeof hdr, "Range: bytes=%zu-", len);
    r = s_get(path, NULL, hdr);
    S_EXPECT(r, 416);
    bx_httpc_free(&r);
    /* videos: frame size and duration from the container */
    unsigned char *mp4 = bx_sample_mp4(1920, 1080, 95500, 50000, 1, &tlen);
    snprintf(path, sizeof path, "/api/v1/events/%s/media?role=trailer", ev);
    s_upload_ok(path, s_tok_a, "video/mp4", mp4, tlen, 201, trailer);
    unsigned char *wm = bx_sample_webm(1280, 720, 30000.0, 0, &wlen);
    s_upload_ok(path, s_tok_a, "video/webm", wm, wlen, 201, webm);
    snprintf(path, sizeof path, "/api/v1/media/%s", trailer);
    r = s_get(path, NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.duration_ms"), 95500);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.width"), 1920);
    snprintf(hdr, sizeof hdr, "/api/v1/media/%s/content", trailer);
    ck_assert_str_eq(s_jstr(r.json, "data.links.content"), hdr);
    ck_assert_str_eq(s_jstr(r.json, "data.relationships.event.links.related") + 15, ev);
    bx_httpc_free(&r);
    free(mp4);
    free(wm);
    free(png);
}
END_TEST

START_TEST(venues_take_gallery_images_of_every_format)
{
    char venue[37], hall[37], path[256], id[37];
    size_t len;
    s_place(s_tok_a, "Halle", venue, hall);
    snprintf(path, sizeof path, "/api/v1/venues/%s/media?role=gallery", venue);
    struct {
        unsigned char *data;
        const char *ctype;
        long w, h;
        size_t len;
    } imgs[4];
    imgs[0].data = bx_sample_jpeg(4000, 3000, 150000, &len);
    imgs[0].len = len;
    imgs[0].ctype = "image/jpeg";
    imgs[1].data = bx_sample_gif(320, 200, &len);
    imgs[1].len = len;
    imgs[1].ctype = "image/gif";
    imgs[2].data = bx_sample_webp('X', 2048, 1024, &len);
    imgs[2].len = len;
    imgs[2].ctype = "image/webp";
    imgs[3].data = bx_sample_webp('L', 100, 50, &len);
    imgs[3].len = len;
    imgs[3].ctype = "image/webp";
    const long dims[4][2] = {{4000, 3000}, {320, 200}, {2048, 1024}, {100, 50}};
    for (int i = 0; i < 4; i++) {
        bx_httpc_resp_t r = s_upload(path, s_tok_a, imgs[i].ctype, imgs[i].data, imgs[i].len);
        S_EXPECT(r, 201);
        ck_assert_int_eq(s_jint(r.json, "data.attributes.width"), dims[i][0]);
        ck_assert_int_eq(s_jint(r.json, "data.attributes.height"), dims[i][1]);
        bx_strlcpy(id, s_jstr(r.json, "data.id"), sizeof id);
        bx_httpc_free(&r);
        free(imgs[i].data);
    }
    snprintf(path, sizeof path, "/api/v1/venues/%s", venue);
    bx_httpc_resp_t r = s_get(path, NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data.attributes.media")), 4);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.media.3.id"), id);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.media.0.role"), "gallery");
    bx_httpc_free(&r);
}
END_TEST

START_TEST(identical_content_is_stored_once_and_unused_bytes_are_swept)
{
    char venue[37], hall[37], ev1[37], ev2[37], path[256], first[37], other[37];
    char second[37], sha1[65], sha2[65];
    size_t l1, l2;
    unsigned char *p1 = bx_sample_png(300, 200, 11, &l1), *p2 = bx_sample_png(300, 200, 12, &l2);
    bx_sha256_hex(p1, l1, sha1);
    bx_sha256_hex(p2, l2, sha2);
    s_place(s_tok_a, "Jena", venue, hall);
    s_event(s_tok_a, venue, hall, 40, 0, ev1);
    s_event(s_tok_a, venue, hall, 41, 0, ev2);
    snprintf(path, sizeof path, "/api/v1/events/%s/media?role=poster", ev1);
    s_upload_ok(path, s_tok_a, "image/png", p1, l1, 201, first);
    /* the same bytes in the same role again: the same media, 200, nothing new */
    long rows = s_count("SELECT count(*) FROM media"), files = s_files();
    bx_httpc_resp_t r = s_upload(path, s_tok_a, "image/png", p1, l1);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_jstr(r.json, "data.id"), first);
    ck_assert(json_is_true(s_jget(r.json, "meta.already_uploaded")));
    bx_httpc_free(&r);
    ck_assert_int_eq(s_count("SELECT count(*) FROM media"), rows);
    /* the same bytes for another event: a new media, the stored content reused */
    snprintf(path, sizeof path, "/api/v1/events/%s/media?role=gallery", ev2);
    r = s_upload(path, s_tok_a, "image/png", p1, l1);
    S_EXPECT(r, 201);
    ck_assert(json_is_true(s_jget(r.json, "meta.content_reused")));
    bx_strlcpy(other, s_jstr(r.json, "data.id"), sizeof other);
    bx_httpc_free(&r);
    ck_assert_int_eq(s_files(), files);
    ck_assert_int_eq(s_count("SELECT count(*) FROM media_blobs WHERE sha256 = '%s'", sha1), 1);
    ck_assert_int_eq(s_count("SELECT count(*) FROM media WHERE sha256 = '%s'", sha1), 2);
    /* a new poster replaces the old one; the old bytes stay while ev2 uses them */
    snprintf(path, sizeof path, "/api/v1/events/%s/media?role=poster", ev1);
    r = s_upload(path, s_tok_a, "image/png", p2, l2);
    S_EXPECT(r, 201);
    ck_assert_str_eq(s_jstr(r.json, "meta.replaced_media_id"), first);
    bx_strlcpy(second, s_jstr(r.json, "data.id"), sizeof second);
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/media/%s", first);
    r = s_get(path, s_tok_a, NULL);
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    ck_assert(s_stored(sha1) && s_stored(sha2));
    /* deleting the last use removes the bytes and their row */
    snprintf(path, sizeof path, "/api/v1/media/%s", other);
    r = s_call("DELETE", path, s_tok_b, NULL);
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    ck_assert(s_stored(sha1));
    r = s_call("DELETE", path, s_tok_a, NULL);
    S_EXPECT(r, 204);
    bx_httpc_free(&r);
    ck_assert(!s_stored(sha1));
    ck_assert_int_eq(s_count("SELECT count(*) FROM media_blobs WHERE sha256 = '%s'", sha1), 0);
    ck_assert_int_eq(s_count("SELECT count(*) FROM outbox WHERE route_key = '%s' AND "
                             "payload->>'action' = 'media_deleted'",
                             ev2),
                     1);
    /* and uploading it again brings it back */
    snprintf(path, sizeof path, "/api/v1/events/%s/media?role=gallery", ev2);
    s_upload_ok(path, s_tok_a, "image/png", p1, l1, 201, other);
    ck_assert(s_stored(sha1));
    /* a draft event deleted with its media: the bytes go at the next sweep */
    snprintf(path, sizeof path, "/api/v1/events/%s", ev1);
    r = s_call("DELETE", path, s_tok_a, NULL);
    S_EXPECT(r, 204);
    bx_httpc_free(&r);
    ck_assert_int_eq(s_count("SELECT count(*) FROM media_blobs WHERE sha256 = '%s' AND "
                             "orphaned_at IS NOT NULL",
                             sha2),
                     1);
    snprintf(path, sizeof path, "/api/v1/media/%s", other);
    r = s_call("DELETE", path, s_tok_admin, NULL); /* an admin may; the sweep runs */
    S_EXPECT(r, 204);
    bx_httpc_free(&r);
    ck_assert(!s_stored(sha2) && !s_stored(sha1));
    free(p1);
    free(p2);
}
END_TEST

START_TEST(bad_uploads_are_refused_and_write_nothing)
{
    char venue[37], hall[37], ev[37], path[256];
    size_t elen, plen, jlen, mlen, zlen;
    s_place(s_tok_a, "Gera", venue, hall);
    s_event(s_tok_a, venue, hall, 50, 0, ev);
    unsigned char *elf = bx_sample_elf(64 * 1024, &elen);
    unsigned char *png = bx_sample_png(64, 64, 3, &plen);
    unsigned char *big = bx_sample_jpeg(1000, 1000, IMAGE_CAP + 1000, &jlen);
    unsigned char *mp4 = bx_sample_mp4(640, 360, 1000, IMAGE_CAP + 1000, 0, &mlen);
    unsigned char *zero = bx_sample_png(0, 64, 3, &zlen);
    long before = s_media_state();
    snprintf(path, sizeof path, "/api/v1/events/%s/media?role=poster", ev);
    /* an executable renamed poster.jpg and declared image/jpeg */
    bx_httpc_resp_t r = s_upload(path, s_tok_a, "image/jpeg", elf, elen);
    S_PROBLEM(r, 415, "unsupported-media-type");
    bx_httpc_free(&r);
    ck_assert_msg(s_media_state() == before, "the renamed executable wrote something");
    /* a PNG declared as JPEG */
    r = s_upload(path, s_tok_a, "image/jpeg", png, plen);
    S_PROBLEM(r, 415, "unsupported-media-type");
    ck_assert_ptr_nonnull(strstr(s_jstr(r.json, "detail"), "image/png"));
    bx_httpc_free(&r);
    const char *ctypes[] = {NULL, "text/plain", "application/octet-stream", "image/svg+xml"};
    for (size_t i = 0; i < 4; i++) {
        r = s_upload(path, s_tok_a, ctypes[i], png, plen);
        S_PROBLEM(r, 415, "unsupported-media-type");
        bx_httpc_free(&r);
    }
    r = s_upload(path, s_tok_a, "image/png", zero, zlen); /* broken header */
    S_PROBLEM(r, 422, "unprocessable");
    bx_httpc_free(&r);
    r = s_upload(path, s_tok_a, "image/png", png, 0);
    S_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    r = s_upload(path, s_tok_a, "video/mp4", mp4, mlen); /* a poster is an image */
    S_PROBLEM(r, 415, "unsupported-media-type");
    bx_httpc_free(&r);
    r = s_upload(path, s_tok_a, "image/jpeg", big, jlen); /* over the image cap */
    S_PROBLEM(r, 413, "payload-too-large");
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/events/%s/media?role=trailer", ev);
    r = s_upload(path, s_tok_a, "image/png", png, plen);
    S_PROBLEM(r, 415, "unsupported-media-type");
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/events/%s/media?role=banner", ev);
    r = s_upload(path, s_tok_a, "image/png", png, plen);
    S_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/events/%s/media", ev);
    r = s_upload(path, s_tok_a, "image/png", png, plen);
    S_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    /* roles and organizations: another organization's event and venue do not exist */
    snprintf(path, sizeof path, "/api/v1/events/%s/media?role=poster", ev);
    for (int i = 0; i < 50; i++) { /* refused from the headers: every client reads the 401 */
        r = s_upload(path, NULL, "image/jpeg", elf, elen);
        S_PROBLEM(r, 401, "unauthorized");
        bx_httpc_free(&r);
    }
    r = s_upload(path, s_tok_cust, "image/png", png, plen);
    S_PROBLEM(r, 403, "forbidden");
    bx_httpc_free(&r);
    r = s_upload(path, s_tok_b, "image/png", png, plen);
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/venues/%s/media?role=gallery", venue);
    r = s_upload(path, s_tok_b, "image/png", png, plen);
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = s_upload("/api/v1/events/01900000-0000-7000-8000-00000000beef/media?role=poster", s_tok_a,
                 "image/png", png, plen);
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    ck_assert_int_eq(s_media_state(), before);
    /* the video cap is not the image cap: the same size as a trailer is fine */
    snprintf(path, sizeof path, "/api/v1/events/%s/media?role=trailer", ev);
    r = s_upload(path, s_tok_a, "video/mp4", mp4, mlen);
    S_EXPECT(r, 201);
    bx_httpc_free(&r);
    free(elf);
    free(png);
    free(big);
    free(mp4);
    free(zero);
}
END_TEST

/* ---- 200 MB ---- */

/* VmHWM (peak resident set) of pid in KiB, or -1. */
static long s_peak_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

/* Sends head (request line and headers) and no body; returns the status the server
 * answers within timeout_ms (0 if none), and the milliseconds it took in *ms. */
static int s_raw_status(const char *head, int timeout_ms, long *ms)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(HTTP_PORT)};
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    char buf[512] = "";
    int fd = socket(AF_INET, SOCK_STREAM, 0), status = 0;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int64_t t0 = bx_mono_ms();
    if (fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof a)) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (write(fd, head, strlen(head)) == (ssize_t)strlen(head) &&
            read(fd, buf, sizeof buf - 1) > 12 && !strncmp(buf, "HTTP/1.1 ", 9))
            status = (int)strtol(buf + 9, NULL, 10);
    }
    *ms = (long)(bx_mono_ms() - t0);
    if (fd >= 0)
        close(fd);
    return status;
}

/* A streamed body of total bytes: an ELF header, then zeros; never held in memory. */
typedef struct {
    size_t total; /* bytes to send */
    size_t sent;  /* so far */
} s_stream_t;

static size_t s_stream_read(char *buf, size_t size, size_t n, void *ud)
{
    s_stream_t *s = ud;
    size_t want = size * n, left = s->total - s->sent;
    if (want > left)
        want = left;
    memset(buf, 0, want);
    if (s->sent == 0 && want >= 4)
        memcpy(buf,
               "\x7f"
               "ELF",
               4);
    s->sent += want;
    return want;
}

/* POSTs total streamed bytes (chunked when chunked is set, else with Content-Length).
 * Returns the status (0 on a transport error); *sent gets the bytes curl sent. */
/* Drops a response body. */
static size_t s_discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static long s_stream_post(const char *path, size_t total, int chunked, size_t *sent)
{
    char url[512], auth[4200];
    long status = 0;
    s_stream_t st = {total, 0};
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    snprintf(url, sizeof url, BASE "%s", path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", s_tok_a);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: image/jpeg");
    h = curl_slist_append(h, "Expect:");
    if (chunked)
        h = curl_slist_append(h, "Transfer-Encoding: chunked");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, s_stream_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &st);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, chunked ? (curl_off_t)-1 : (curl_off_t)total);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    *sent = st.sent;
    return status;
}

START_TEST(a_200_mb_upload_is_refused_early_without_buffering)
{
    char venue[37], hall[37], ev[37], path[256], head[6144];
    const size_t huge = 200u << 20;
    size_t sent;
    long ms;
    s_place(s_tok_a, "Suhl", venue, hall);
    s_event(s_tok_a, venue, hall, 60, 0, ev);
    long before = s_media_state(), peak0 = s_peak_kib(s_fd);
    ck_assert_int_gt(peak0, 0);
    /* only the headers are sent: the answer comes without any of the body */
    snprintf(head, sizeof head,
             "POST /api/v1/events/%s/media?role=poster HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Authorization: Bearer %s\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n\r\n",
             ev, s_tok_a, huge);
    ck_assert_int_eq(s_raw_status(head, 5000, &ms), 413);
    ck_assert_msg(ms < 2000, "413 took %ld ms", ms);
    ck_assert_msg(s_media_state() == before, "the refused 200 MB upload wrote something");
    /* a client that streams 200 MB regardless is answered 413 and stopped early */
    snprintf(path, sizeof path, "/api/v1/events/%s/media?role=poster", ev);
    int64_t t0 = bx_mono_ms();
    long st = s_stream_post(path, huge, 0, &sent);
    ck_assert_msg(st == 413, "streamed upload answered %ld after %zu bytes", st, sent);
    ck_assert_msg(sent < huge, "all %zu bytes were sent", sent);
    int64_t streamed_ms = bx_mono_ms() - t0;
    size_t streamed = sent;
    ck_assert_msg(streamed_ms < 10000, "took %lld ms", (long long)streamed_ms);
    /* without Content-Length the cap is found while reading: read and dropped, not kept */
    st = s_stream_post(path, huge, 1, &sent);
    ck_assert_msg(st == 413, "chunked upload answered %ld", st);
    long peak1 = s_peak_kib(s_fd);
    fprintf(stderr,
            "200 MB upload: headers-only 413 in %ld ms; streamed 413 after %zu bytes in %lld ms; "
            "frontdoor peak RSS %ld -> %ld KiB\n",
            ms, streamed, (long long)streamed_ms, peak0, peak1);
    ck_assert_msg(peak1 - peak0 < 32 * 1024, "peak RSS grew by %ld KiB", peak1 - peak0);
    ck_assert_int_eq(s_media_state(), before);
    /* the frontdoor still serves */
    bx_httpc_resp_t r = s_get("/healthz", NULL, NULL);
    S_EXPECT(r, 200);
    bx_httpc_free(&r);
}
END_TEST

/* ---- content ---- */

/* An RFC 3339 instant secs from now. */
static const char *s_at(long secs)
{
    static char bufs[8][32];
    static int next;
    char *b = bufs[next++ % 8];
    bx_time_rfc3339(bx_now_ms() / 1000 + secs, b);
    return b;
}

/* The ids of data[] of a list answer, joined by ','. */
static const char *s_ids(bx_httpc_resp_t *r, char out[1024])
{
    size_t i;
    json_t *v;
    out[0] = '\0';
    json_array_foreach(s_jget(r->json, "data"), i, v)
    {
        if (i)
            strncat(out, ",", 1023 - strlen(out));
        strncat(out, s_jstr(v, "id"), 1023 - strlen(out));
    }
    return out;
}

START_TEST(content_is_managed_by_admins_only)
{
    char venue[37], hall[37], ev[37], id[37], path[160];
    s_place(s_tok_a, "Weimar", venue, hall);
    s_event(s_tok_a, venue, hall, 70, 1, ev);
    const char *body = s_j("{'event_id':'%s','rank':5}", ev);
    long before = s_count("SELECT count(*) FROM featured_events");
    bx_httpc_resp_t r = s_call("POST", "/api/v1/admin/content/featured", NULL, body);
    S_PROBLEM(r, 401, "unauthorized");
    bx_httpc_free(&r);
    const char *toks[] = {s_tok_a, s_tok_cust};
    for (int i = 0; i < 2; i++) {
        r = s_call("POST", "/api/v1/admin/content/featured", toks[i], body);
        S_PROBLEM(r, 403, "forbidden");
        bx_httpc_free(&r);
        r = s_call("POST", "/api/v1/admin/content/news", toks[i], s_j("{'title':'x','body':'y'}"));
        S_PROBLEM(r, 403, "forbidden");
        bx_httpc_free(&r);
    }
    ck_assert_int_eq(s_count("SELECT count(*) FROM featured_events"), before);
    s_create("/api/v1/admin/content/featured", s_tok_admin, body, id);
    snprintf(path, sizeof path, "/api/v1/admin/content/featured/%s", id);
    r = s_call("PUT", path, s_tok_a, s_j("{'rank':1}"));
    S_PROBLEM(r, 403, "forbidden");
    bx_httpc_free(&r);
    r = s_call("DELETE", path, s_tok_a, NULL);
    S_PROBLEM(r, 403, "forbidden");
    bx_httpc_free(&r);
    r = s_call("PUT", path, s_tok_admin, s_j("{'rank':1,'locale':'en-GB'}"));
    S_EXPECT(r, 200);
    ck_assert_int_eq(s_jint(r.json, "data.attributes.rank"), 1);
    ck_assert_str_eq(s_jstr(r.json, "data.attributes.locale"), "en-GB");
    bx_httpc_free(&r);
    /* bad input: a problem, nothing written */
    before = s_count("SELECT count(*) FROM featured_events") +
             s_count("SELECT count(*) FROM promotions") + s_count("SELECT count(*) FROM news");
    r = s_call("POST", "/api/v1/admin/content/featured", s_tok_admin,
               s_j("{'event_id':'01900000-0000-7000-8000-00000000beef'}"));
    S_PROBLEM(r, 422, "unprocessable");
    bx_httpc_free(&r);
    r = s_call("POST", "/api/v1/admin/content/featured", s_tok_admin,
               s_j("{'event_id':'%s','locale':'en-GB'}", ev));
    S_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
    r = s_call("POST", "/api/v1/admin/content/promotions", s_tok_admin,
               s_j("{'title':'Late','starts_at':'%s','ends_at':'%s'}", s_at(100), s_at(50)));
    S_PROBLEM(r, 400, "validation-failed");
    ck_assert_str_eq(s_jstr(r.json, "errors.0.pointer"), "/ends_at");
    bx_httpc_free(&r);
    r = s_call("POST", "/api/v1/admin/content/promotions", s_tok_admin,
               s_j("{'title':'Bad','locale':'english','link_url':'javascript:alert(1)'}"));
    S_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    r = s_call("POST", "/api/v1/admin/content/news", s_tok_admin, s_j("{'title':'No body'}"));
    S_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
    ck_assert_int_eq(s_count("SELECT count(*) FROM featured_events") +
                         s_count("SELECT count(*) FROM promotions") +
                         s_count("SELECT count(*) FROM news"),
                     before);
    r = s_call("DELETE", path, s_tok_admin, NULL);
    S_EXPECT(r, 204);
    bx_httpc_free(&r);
    r = s_call("DELETE", path, s_tok_admin, NULL);
    S_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
}
END_TEST

START_TEST(public_content_follows_windows_locales_and_caching)
{
    char venue[37], hall[37], ev1[37], ev2[37], draft[37], f1[37], f2[37], f3[37], fd[37];
    char p_all[37], p_de[37], p_fr[37], p_soon[37], img[37], path[256], ids[1024], cc[128];
    char etag[128], hdr[160];
    size_t len;
    s_sql("DELETE FROM featured_events; DELETE FROM promotions; DELETE FROM news");
    s_place(s_tok_a, "Erfurt", venue, hall);
    s_event(s_tok_a, venue, hall, 80, 1, ev1);
    s_event(s_tok_a, venue, hall, 81, 1, ev2);
    s_event(s_tok_a, venue, hall, 82, 0, draft);
    unsigned char *png = bx_sample_png(1200, 1800, 21, &len);
    snprintf(path, sizeof path, "/api/v1/events/%s/media?role=poster", ev1);
    s_upload_ok(path, s_tok_a, "image/png", png, len, 201, img);
    free(png);
    s_create("/api/v1/admin/content/featured", s_tok_admin,
             s_j("{'event_id':'%s','rank':20,'starts_at':'%s','ends_at':'%s'}", ev1, s_at(-3600),
                 s_at(3600)),
             f1);
    s_create("/api/v1/admin/content/featured", s_tok_admin,
             s_j("{'event_id':'%s','rank':10,'ends_at':'%s'}", ev2, s_at(4)), f2);
    s_create("/api/v1/admin/content/featured", s_tok_admin,
             s_j("{'event_id':'%s','rank':5,'starts_at':'%s','locale':'en'}", ev2, s_at(3600)), f3);
    s_create("/api/v1/admin/content/featured", s_tok_admin,
             s_j("{'event_id':'%s','rank':1}", draft), fd);
    (void)f3;
    (void)fd;
    /* in the window and published only, by rank; cached no longer than the window */
    bx_httpc_resp_t r = s_get("/api/v1/content/featured", NULL, NULL);
    S_EXPECT(r, 200);
    s_ids(&r, ids);
    char want[128];
    snprintf(want, sizeof want, "%s,%s", f2, f1);
    ck_assert_str_eq(ids, want);
    ck_assert_str_eq(s_jstr(r.json, "data.1.attributes.event.poster.id"), img);
    ck_assert_str_eq(s_jstr(r.json, "data.1.relationships.event.links.related") + 15, ev1);
    ck_assert(bx_httpc_header(&r, "Cache-Control", cc, sizeof cc));
    ck_assert_msg(!strncmp(cc, "public, max-age=", 16) && strtol(cc + 16, NULL, 10) <= 4 &&
                      strtol(cc + 16, NULL, 10) >= 1,
                  "%s", cc);
    ck_assert(bx_httpc_header(&r, "ETag", etag, sizeof etag));
    bx_httpc_free(&r);
    snprintf(hdr, sizeof hdr, "If-None-Match: %s", etag);
    r = s_get("/api/v1/content/featured", NULL, hdr);
    S_EXPECT(r, 304);
    bx_httpc_free(&r);
    /* the window closes by the clock alone */
    usleep(4500 * 1000);
    r = s_get("/api/v1/content/featured", NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_ids(&r, ids), f1);
    bx_httpc_free(&r);
    /* the admin sees everything, active or not */
    r = s_get("/api/v1/admin/content/featured", s_tok_admin, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(s_jget(r.json, "data")), 4);
    ck_assert(bx_httpc_header(&r, "Cache-Control", cc, sizeof cc));
    ck_assert_str_eq(cc, "no-store");
    bx_httpc_free(&r);
    /* locales: none is everyone's, "de" every German reader's, "fr" the French */
    s_create("/api/v1/admin/content/promotions", s_tok_admin,
             s_j("{'title':'For all','rank':30,'image_media_id':'%s','link_url':'https://"
                 "example.com/all'}",
                 img),
             p_all);
    s_create("/api/v1/admin/content/promotions", s_tok_admin,
             s_j("{'title':'Für alle Deutschen','rank':10,'locale':'de'}"), p_de);
    s_create("/api/v1/admin/content/promotions", s_tok_admin,
             s_j("{'title':'Pour la France','rank':20,'locale':'fr'}"), p_fr);
    s_create("/api/v1/admin/content/promotions", s_tok_admin,
             s_j("{'title':'Soon','rank':1,'starts_at':'%s'}", s_at(600)), p_soon);
    (void)p_soon;
    r = s_get("/api/v1/content/promotions?locale=de-AT", NULL, NULL);
    S_EXPECT(r, 200);
    snprintf(want, sizeof want, "%s,%s", p_de, p_all);
    ck_assert_str_eq(s_ids(&r, ids), want);
    ck_assert_str_eq(s_jstr(r.json, "data.1.attributes.image.id"), img);
    bx_httpc_free(&r);
    r = s_get("/api/v1/content/promotions", NULL,
              "Accept-Language: it;q=0.3, fr-CA;q=0.9, de;q=0.5");
    S_EXPECT(r, 200);
    snprintf(want, sizeof want, "%s,%s", p_fr, p_all);
    ck_assert_str_eq(s_ids(&r, ids), want);
    ck_assert(bx_httpc_header(&r, "Content-Language", cc, sizeof cc));
    ck_assert_str_eq(cc, "fr-CA");
    ck_assert_ptr_nonnull(strstr(r.headers, "Accept-Language"));
    bx_httpc_free(&r);
    r = s_get("/api/v1/content/promotions", NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_str_eq(s_ids(&r, ids), p_all); /* default en: only the promotion for all */
    bx_httpc_free(&r);
    r = s_get("/api/v1/content/promotions?locale=english", NULL, NULL);
    S_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
}
END_TEST

START_TEST(news_pages_newest_first_and_hides_the_unpublished)
{
    char n1[37], n2[37], n3[37], later[37], ids[1024];
    s_sql("DELETE FROM news");
    s_create("/api/v1/admin/content/news", s_tok_admin,
             s_j("{'title':'First','body':'One','published_at':'%s'}", s_at(-300)), n1);
    s_create("/api/v1/admin/content/news", s_tok_admin,
             s_j("{'title':'Second','body':'Two','published_at':'%s'}", s_at(-200)), n2);
    s_create("/api/v1/admin/content/news", s_tok_admin,
             s_j("{'title':'Third','body':'Three','locale':'en'}"), n3);
    s_create("/api/v1/admin/content/news", s_tok_admin,
             s_j("{'title':'Embargoed','body':'Later','published_at':'%s'}", s_at(3600)), later);
    (void)later;
    bx_httpc_resp_t r = s_get("/api/v1/content/news?limit=2", NULL, NULL);
    S_EXPECT(r, 200);
    char want[128];
    snprintf(want, sizeof want, "%s,%s", n3, n2);
    ck_assert_str_eq(s_ids(&r, ids), want);
    const char *next = s_jstr(r.json, "links.next");
    ck_assert_ptr_nonnull(next);
    bx_httpc_resp_t r2 = s_get(next, NULL, NULL);
    S_EXPECT(r2, 200);
    ck_assert_str_eq(s_ids(&r2, ids), n1);
    ck_assert_ptr_null(s_jget(r2.json, "links.next"));
    bx_httpc_free(&r);
    bx_httpc_free(&r2);
    r = s_get("/api/v1/content/news?cursor=bm90LWEtY3Vyc29y", NULL, NULL);
    S_PROBLEM(r, 400, "validation-failed");
    bx_httpc_free(&r);
}
END_TEST

/* ---- the generator ---- */

/* Runs bxctl with args against the suite's database; returns its exit status. */
static int s_bxctl(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "BOXOFFICE_PG_DSN='%s' %s %s >>'%s/bxctl.log' 2>&1", s_dsn,
             bx_h_bin("bxctl"), args, s_dir);
    return bx_h_sh(cmd);
}

#define S_DEMO_ORG  "01900000-0000-7000-8000-000000000001"
#define S_BENCH_ORG "01900000-0000-7000-8000-000000000002"

START_TEST(seed_loads_the_demo_shapes_once_and_tops_up_bench_events)
{
    ck_assert_int_eq(s_bxctl("seed"), 0);
    ck_assert_int_ge(
        s_count("SELECT count(DISTINCT city) FROM venues WHERE org_id = '%s'", S_DEMO_ORG), 5);
    ck_assert_int_eq(s_count("SELECT count(*) FROM venues WHERE org_id = '%s' AND city IN "
                             "('London', 'Mumbai', 'New York', 'Berlin', 'São Paulo')",
                             S_DEMO_ORG),
                     5);
    /* the stadium: 60,000 seats in sections, each of its events with 60,000 seats on sale */
    ck_assert_int_eq(s_count("SELECT max(l.seat_count) FROM layouts l JOIN halls h ON h.id = "
                             "l.hall_id JOIN venues v ON v.id = h.venue_id WHERE v.org_id = '%s'",
                             S_DEMO_ORG),
                     60000);
    ck_assert_int_eq(s_count("SELECT count(*) FROM layout_sections s JOIN layouts l ON l.id = "
                             "s.layout_id WHERE l.seat_count = 60000"),
                     40);
    ck_assert_int_eq(s_count("SELECT count(*) FROM events e JOIN layouts l ON l.id = e.layout_id "
                             "WHERE l.seat_count = 60000 AND e.status = 'published' AND (SELECT "
                             "count(*) FROM event_seats s WHERE s.event_id = e.id) = 60000"),
                     2);
    /* the multiplex: 8 screens, daily showtimes made by one series per screen */
    ck_assert_int_eq(s_count("SELECT count(*) FROM halls h JOIN venues v ON v.id = h.venue_id "
                             "WHERE v.org_id = '%s' AND h.kind = 'screen'",
                             S_DEMO_ORG),
                     8);
    ck_assert_int_eq(s_count("SELECT count(DISTINCT hall_id) FROM event_series"), 8);
    ck_assert_int_ge(s_count("SELECT min(n) FROM (SELECT count(*) n FROM events WHERE series_id "
                             "IS NOT NULL GROUP BY series_id) x"),
                     24);
    ck_assert_int_eq(s_count("SELECT count(*) FROM (SELECT e.series_id, (e.starts_at AT TIME "
                             "ZONE v.time_zone)::date FROM events e JOIN venues v ON v.id = "
                             "e.venue_id WHERE e.series_id IS NOT NULL GROUP BY 1, 2 HAVING "
                             "count(*) <> 4) x"),
                     0);
    /* a theatre in sections, a GA club, every event type, all published with inventory */
    ck_assert_int_eq(s_count("SELECT count(*) FROM layouts l JOIN layout_sections s ON s.layout_id "
                             "= l.id WHERE s.code IN ('ORCH', 'MEZZ', 'BALC')"),
                     3);
    ck_assert_int_eq(s_count("SELECT sum(capacity) FROM layout_sections WHERE code = 'FLOOR' AND "
                             "kind = 'ga' AND layout_id IN (SELECT l.id FROM layouts l JOIN halls "
                             "h ON h.id = l.hall_id JOIN venues v ON v.id = h.venue_id WHERE "
                             "v.org_id = '%s')",
                             S_DEMO_ORG),
                     800);
    ck_assert_int_eq(
        s_count("SELECT count(DISTINCT event_type) FROM events WHERE org_id = '%s'", S_DEMO_ORG),
        5);
    ck_assert_int_eq(s_count("SELECT count(*) FROM events e WHERE org_id = '%s' AND (status <> "
                             "'published' OR NOT EXISTS (SELECT 1 FROM ticket_tiers t WHERE "
                             "t.event_id = e.id) OR (NOT EXISTS (SELECT 1 FROM event_seats s "
                             "WHERE s.event_id = e.id) AND NOT EXISTS (SELECT 1 FROM event_ga g "
                             "WHERE g.event_id = e.id)))",
                             S_DEMO_ORG),
                     0);
    ck_assert_int_ge(s_count("SELECT count(*) FROM featured_events"), 1);
    /* again: nothing changes */
    long events = s_count("SELECT count(*) FROM events"), seats = s_count("SELECT count(*) FROM "
                                                                          "event_seats");
    int64_t t0 = bx_mono_ms();
    ck_assert_int_eq(s_bxctl("seed"), 0);
    ck_assert_int_lt(bx_mono_ms() - t0, 10000);
    ck_assert_int_eq(s_count("SELECT count(*) FROM events"), events);
    ck_assert_int_eq(s_count("SELECT count(*) FROM event_seats"), seats);
    /* the benchmark catalog, topped up to N */
    ck_assert_int_eq(s_bxctl("seed --events 3000"), 0);
    ck_assert_int_eq(s_count("SELECT count(*) FROM events WHERE org_id = '%s' AND status = "
                             "'published'",
                             S_BENCH_ORG),
                     3000);
    ck_assert_int_eq(s_count("SELECT count(*) FROM event_ga g JOIN events e ON e.id = g.event_id "
                             "WHERE e.org_id = '%s'",
                             S_BENCH_ORG),
                     6000);
    ck_assert_int_eq(s_count("SELECT count(DISTINCT v.city) FROM events e JOIN venues v ON v.id = "
                             "e.venue_id WHERE e.org_id = '%s'",
                             S_BENCH_ORG),
                     12);
    ck_assert_int_eq(s_count("SELECT count(*) FROM outbox WHERE topic = 'event.published' AND "
                             "route_key IN (SELECT id::text FROM events WHERE org_id = '%s')",
                             S_BENCH_ORG),
                     3000);
    ck_assert_int_eq(s_bxctl("seed --events 3000"), 0);
    ck_assert_int_eq(s_count("SELECT count(*) FROM events WHERE org_id = '%s'", S_BENCH_ORG), 3000);
    ck_assert_int_eq(s_bxctl("seed --events 4500"), 0);
    ck_assert_int_eq(s_count("SELECT count(*) FROM events WHERE org_id = '%s'", S_BENCH_ORG), 4500);
    ck_assert_int_ne(s_bxctl("seed --events many"), 0);
    /* the demo partner manages both organizations */
    ck_assert_int_eq(s_count("SELECT count(*) FROM organization_members m JOIN users u ON u.id = "
                             "m.user_id WHERE u.email = 'partner@boxoffice.test' AND m.org_id IN "
                             "('%s', '%s')",
                             S_DEMO_ORG, S_BENCH_ORG),
                     2);
    /* and what it made reads back through the API */
    bx_httpc_resp_t r = s_get("/api/v1/content/featured?locale=de", NULL, NULL);
    S_EXPECT(r, 200);
    ck_assert_int_ge(json_array_size(s_jget(r.json, "data")), 3);
    bx_httpc_free(&r);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("media");
    TCase *tc = tcase_create("media");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, upload_detects_type_records_size_and_serves_immutable_content);
    tcase_add_test(tc, venues_take_gallery_images_of_every_format);
    tcase_add_test(tc, identical_content_is_stored_once_and_unused_bytes_are_swept);
    tcase_add_test(tc, bad_uploads_are_refused_and_write_nothing);
    tcase_add_test(tc, a_200_mb_upload_is_refused_early_without_buffering);
    tcase_add_test(tc, content_is_managed_by_admins_only);
    tcase_add_test(tc, public_content_follows_windows_locales_and_caching);
    tcase_add_test(tc, news_pages_newest_first_and_hides_the_unpublished);
    tcase_add_test(tc, seed_loads_the_demo_shapes_once_and_tops_up_bench_events);
    suite_add_tcase(s, tc);
    return s;
}
