/* fd_media: media of events and venues. An upload is the raw file as the request body
 * (spooled to disk by the frontdoor, never held in memory), its type found from its bytes
 * (bx_imgsniff) and required to match the declared Content-Type, then stored once per
 * content under its SHA-256 and recorded in one transaction with the owner locked, its
 * organization checked in organization_members (another organization's event or venue
 * is 404 and nothing is written: no row, no file) and an outbox row for the index.
 * Content is served from the store with a strong ETag and immutable caching; bytes no
 * media uses any more are swept after each change (see 0005_media_content.sql). */
#include "fd_media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bx_config.h"
#include "bx_imgsniff.h"
#include "bx_log.h"
#include "bx_util.h"
#include "fd_catalog.h"
#include "fd_doc_cache.h"
#include "fd_media_store.h"

#define S_PER_OWNER_MAX 100       /* media of one event or venue */
#define S_SIDE_MAX      30000     /* pixels on either side of an image */
#define S_PIXELS_MAX    100000000 /* 100 megapixels: later decoding stays bounded */
#define S_SWEEP_BATCH   8         /* orphaned contents removed after a change */

/* Created before the HTTP threads start, read-only afterwards. */
static fd_media_store_t *s_store;

static const char *const s_roles[] = {"poster", "trailer", "gallery", NULL};

/* An upload on its way through checks and storage. */
typedef struct {
    const char *kind;               /* "event" or "venue" */
    const char *owner;              /* its id (path parameter) */
    const char *role;               /* poster, trailer or gallery */
    int fd;                         /* the spooled body (borrowed) */
    size_t len;                     /* its bytes */
    bx_sniff_t sniff;               /* what the bytes are */
    char sha[65];                   /* content address */
    char org[BX_UUID_LEN + 1];      /* the owner's organization */
    char id[BX_UUID_LEN + 1];       /* the media answered */
    char replaced[BX_UUID_LEN + 1]; /* the poster this one replaced, or "" */
    int reused;                     /* the content was already stored */
    int existing;                   /* the same upload was there already: id is it */
} s_upload_t;

bx_err_t fd_media_init(void)
{
    s_store = fd_media_store_new();
    if (!s_store)
        return BX_EINVAL;
    BX_INFO("media store %s at %s", s_store->ops->name, bx_config_str("media_dir"));
    return BX_OK;
}

void fd_media_shutdown(void)
{
    fd_media_store_destroy(&s_store);
}

bx_err_t fd_media_embed(bx_pg_t *pg, const char *owner_id, json_t *attributes)
{
    bx_err_t err;
    const char *p[] = {owner_id};
    PGresult *res = bx_pg_query(pg, "media_of_owner", 1, p, &err);
    if (!res)
        return err;
    json_t *list = fd_cat_json(bx_pg_val(res, 0, 0));
    PQclear(res);
    if (!list)
        return BX_ENOMEM;
    json_object_set_new(attributes, "media", list);
    return BX_OK;
}

/* ---- reading ---- */

/* The media row of id when the caller may see it: an event's media as the event, a
 * venue's as the venue. Answers 404 (or the database problem) and returns NULL
 * otherwise; *is_public tells whether anyone may see it. The caller clears the result. */
static PGresult *s_visible(fd_req_t *req, bx_pg_t *pg, const char *id, int *is_public)
{
    bx_err_t err;
    int ok = 0;
    const char *p[] = {id};
    PGresult *res = bx_pg_query(pg, "media_get", 1, p, &err);
    if (res && PQntuples(res) == 1 && strcmp(bx_pg_val(res, 0, 6), "t")) {
        *is_public = !strcmp(bx_pg_val(res, 0, 5), "t");
        ok = *is_public;
        if (!ok)
            err = fd_cat_manages(req, pg, bx_pg_val(res, 0, 1), &ok);
    }
    if (ok)
        return res;
    PQclear(res);
    fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such media");
    return NULL;
}

/* Answers the media document of id with status and meta (stolen, may be NULL). */
static void s_reply_media(fd_req_t *req, bx_pg_t *pg, const char *id, int status, json_t *meta)
{
    char self[96], content[112];
    int is_public = 0;
    PGresult *res = s_visible(req, pg, id, &is_public);
    if (!res) {
        json_decref(meta);
        return;
    }
    json_t *attrs = fd_cat_json(bx_pg_val(res, 0, 8));
    json_t *owner = json_object_get(attrs, "owner");
    snprintf(self, sizeof self, "/api/v1/media/%s", id);
    snprintf(content, sizeof content, "%s/content", self);
    const char *otype = json_string_value(json_object_get(owner, "type"));
    const char *oid = json_string_value(json_object_get(owner, "id"));
    json_t *r = fd_resource("media", id, json_incref(attrs), self);
    if (r && otype && oid)
        json_object_set_new(
            r, "relationships",
            json_pack("{s:{s:{s:s+}}}", otype, "links", "related",
                      strcmp(otype, "event") ? "/api/v1/venues/" : "/api/v1/events/", oid));
    json_object_set_new(json_object_get(r, "links"), "content", json_string(content));
    json_decref(attrs);
    fd_cacheable(req, FD_CAT_CACHE_AGE, is_public, strtoll(bx_pg_val(res, 0, 7), NULL, 10));
    PQclear(res);
    json_t *doc = fd_document(r, NULL);
    if (doc && meta)
        json_object_set(doc, "meta", meta);
    json_decref(meta);
    fd_reply_json(req, status, doc);
}

static void s_get(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "mediaId", "media");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (pg)
        s_reply_media(req, pg, id, 200, NULL);
}

static void s_content(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "mediaId", "media");
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    fd_media_blob_t blob;
    int is_public = 0;
    PGresult *res = pg ? s_visible(req, pg, id, &is_public) : NULL;
    if (!res)
        return;
    bx_err_t err = s_store->ops->get(s_store, bx_pg_val(res, 0, 2), &blob);
    if (err == BX_ENOTFOUND) {
        BX_ERROR("media %s: content %s is missing from the store", id, bx_pg_val(res, 0, 2));
        fd_reply_problem(req, BX_EINTERNAL, "the stored content is missing");
    } else if (err) {
        fd_add_header(req, "Retry-After", "2");
        fd_reply_problem(req, BX_EUNAVAILABLE, "the media store cannot be read now");
    } else {
        fd_reply_immutable_file(req, bx_pg_val(res, 0, 3), blob.fd, blob.size, bx_pg_val(res, 0, 2),
                                is_public);
    }
    PQclear(res);
}

/* ---- checking an upload ---- */

/* ?role is poster, trailer or gallery. Answers 400 and returns 0 otherwise. */
static int s_role_ok(fd_req_t *req, s_upload_t *u)
{
    u->role = fd_query(req, "role");
    for (const char *const *r = s_roles; u->role && *r; r++)
        if (!strcmp(*r, u->role))
            return 1;
    fd_reply_problem_ext(req, BX_EINVAL, "role must be poster, trailer or gallery",
                         json_pack("{s:[{s:s, s:s}]}", "errors", "parameter", "role", "detail",
                                   "must be poster, trailer or gallery"));
    return 0;
}

/* The body is the file. Answers 400 and returns 0 when there is none. */
static int s_body_ok(fd_req_t *req, s_upload_t *u)
{
    u->fd = fd_body_file(req, &u->len);
    if (u->fd >= 0 && u->len > 0)
        return 1;
    fd_reply_problem(req, BX_EINVAL, "send the file as the request body");
    return 0;
}

/* What was detected suits the role and the size limits. Answers and returns 0 if not. */
static int s_fits(fd_req_t *req, const s_upload_t *u)
{
    const bx_sniff_t *s = &u->sniff;
    int wants_video = !strcmp(u->role, "trailer");
    if (wants_video != s->is_video) {
        fd_reply_problem(req, BX_EMEDIATYPE,
                         wants_video
                             ? "a trailer is an mp4 or webm video"
                             : "posters and gallery items are jpeg, png, webp or gif images");
        return 0;
    }
    if (!s->is_video && u->len > (size_t)bx_config_int("media_image_max_bytes")) {
        fd_reply_problem(req, BX_ETOOLARGE, "the image is larger than the image size limit");
        return 0;
    }
    if (s->width > S_SIDE_MAX || s->height > S_SIDE_MAX ||
        (uint64_t)s->width * s->height > S_PIXELS_MAX) {
        fd_reply_problem(req, BX_EUNPROCESSABLE,
                         "the image is too large: at most 30000 pixels a side and 100 megapixels");
        return 0;
    }
    return 1;
}

/* Detects the type from the bytes, compares it with the declared one, checks role and
 * limits, and hashes the content. Answers and returns 0 on any refusal. */
static int s_inspect(fd_req_t *req, s_upload_t *u)
{
    char detail[160];
    const char *why = NULL, *ct = fd_header(req, "Content-Type");
    bx_sniff_kind_t declared = bx_imgsniff_kind(ct);
    if (declared == BX_SNIFF_UNKNOWN) {
        fd_reply_problem(req, BX_EMEDIATYPE,
                         "declare the file as image/jpeg, image/png, image/webp, image/gif, "
                         "video/mp4 or video/webm");
        return 0;
    }
    void *map = mmap(NULL, u->len, PROT_READ, MAP_PRIVATE, u->fd, 0);
    if (map == MAP_FAILED) {
        BX_WARN("could not map an upload of %zu bytes", u->len);
        fd_reply_problem(req, BX_EUNAVAILABLE, "the upload could not be read; try again");
        return 0;
    }
    bx_err_t err = bx_imgsniff(map, u->len, &u->sniff, &why);
    int ok = !err && u->sniff.kind == declared && s_fits(req, u);
    if (ok)
        bx_sha256_hex(map, u->len, u->sha);
    munmap(map, u->len);
    if (err) {
        fd_reply_problem(req, err, why);
    } else if (u->sniff.kind != declared) {
        snprintf(detail, sizeof detail, "the content is %s, not the declared %s",
                 bx_imgsniff_mime(u->sniff.kind), bx_imgsniff_mime(declared));
        fd_reply_problem(req, BX_EMEDIATYPE, detail);
    }
    return ok;
}

/* ---- storing an upload ---- */

/* Locks the owner for the change and checks that the caller manages it. Answers 404
 * (nothing written) and returns 0 otherwise. */
static int s_owner_lock(fd_req_t *req, bx_pg_t *pg, s_upload_t *u)
{
    bx_err_t err;
    int ok = 0, is_event = !strcmp(u->kind, "event");
    const char *p[] = {u->owner};
    PGresult *res =
        bx_pg_query(pg, is_event ? "media_event_owner" : "media_venue_owner", 1, p, &err);
    if (res && PQntuples(res) == 1) {
        bx_strlcpy(u->org, bx_pg_val(res, 0, 0), sizeof u->org);
        err = fd_cat_manages(req, pg, u->org, &ok);
    }
    PQclear(res);
    if (!ok)
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND,
                    err        ? NULL
                    : is_event ? "no such event"
                               : "no such venue");
    return ok;
}

/* The same bytes in the same role of the same owner are that media again (existing);
 * an owner with S_PER_OWNER_MAX media takes no more. Answers and returns 0 on refusal. */
static int s_owner_room(fd_req_t *req, bx_pg_t *pg, s_upload_t *u)
{
    bx_err_t err;
    long n = 0;
    const char *p[] = {u->owner, u->role, u->sha};
    PGresult *res = bx_pg_query(pg, "media_same_upload", 3, p, &err);
    u->existing = res && PQntuples(res) == 1;
    if (u->existing)
        bx_strlcpy(u->id, bx_pg_val(res, 0, 0), sizeof u->id);
    if (res && !u->existing) {
        PQclear(res);
        res = bx_pg_query(pg, "media_owner_count", 1, p, &err);
        n = res ? strtol(bx_pg_val(res, 0, 0), NULL, 10) : 0;
    }
    int read = res != NULL, full = n >= S_PER_OWNER_MAX && strcmp(u->role, "poster");
    PQclear(res);
    if (!read)
        fd_cat_fail(req, pg, err, NULL);
    else if (full)
        fd_cat_fail(req, pg, BX_ECONFLICT,
                    "an event or venue holds at most 100 media: delete some first");
    return read && !full;
}

/* Records the content (locking its row) and writes its bytes unless already stored.
 * *inserted tells whether the content row is new. */
static bx_err_t s_put_blob(bx_pg_t *pg, s_upload_t *u, int *inserted)
{
    char bytes[24], w[16], h[16], dur[24];
    bx_err_t err;
    snprintf(bytes, sizeof bytes, "%zu", u->len);
    snprintf(w, sizeof w, "%u", u->sniff.width);
    snprintf(h, sizeof h, "%u", u->sniff.height);
    snprintf(dur, sizeof dur, "%lld", (long long)u->sniff.duration_ms);
    const char *p[] = {u->sha,
                       bx_imgsniff_mime(u->sniff.kind),
                       bytes,
                       u->sniff.width ? w : NULL,
                       u->sniff.height ? h : NULL,
                       u->sniff.duration_ms >= 0 ? dur : NULL};
    PGresult *res = bx_pg_query(pg, "media_blob_upsert", 6, p, &err);
    if (!res)
        return err;
    *inserted = !strcmp(bx_pg_val(res, 0, 0), "t");
    u->reused = !*inserted;
    PQclear(res);
    return s_store->ops->put(s_store, u->sha, u->fd, u->len);
}

/* Bumps the owner's updated_at (its document changed) and tells the index. */
static bx_err_t s_owner_changed(fd_req_t *req, bx_pg_t *pg, const char *kind, const char *owner,
                                const char *action)
{
    int is_event = !strcmp(kind, "event");
    const char *p[] = {owner};
    bx_err_t err = bx_pg_run(pg, is_event ? "cat_event_touch" : "cat_venue_touch", 1, p);
    if (!err)
        err = fd_cat_outbox(req, pg, is_event ? "event.updated" : "venue.updated", owner, action);
    return err;
}

/* Inserts the media row (a new poster replaces the old one). */
static bx_err_t s_record(fd_req_t *req, bx_pg_t *pg, s_upload_t *u)
{
    bx_err_t err = BX_OK;
    int is_event = !strcmp(u->kind, "event");
    if (!strcmp(u->role, "poster")) {
        const char *q[] = {u->owner};
        PGresult *res = bx_pg_query(pg, "media_poster_replace", 1, q, &err);
        if (res && PQntuples(res) == 1)
            bx_strlcpy(u->replaced, bx_pg_val(res, 0, 0), sizeof u->replaced);
        PQclear(res);
        if (err)
            return err;
    }
    bx_uuid_v7(u->id);
    const char *p[] = {u->id,   u->org, is_event ? u->owner : NULL, is_event ? NULL : u->owner,
                       u->role, u->sha, fd_who(req)->user_id};
    if (!(err = bx_pg_run(pg, "media_insert", 7, p)))
        err = s_owner_changed(req, pg, u->kind, u->owner, "media_created");
    return err;
}

/* Removes up to S_SWEEP_BATCH contents that no media uses any more: the row is locked,
 * deleted only if still unused (a new snapshot), the bytes removed, then the commit.
 * Best effort: whatever fails stays orphaned for the next sweep. */
static void s_sweep(bx_pg_t *pg)
{
    for (int i = 0; i < S_SWEEP_BATCH; i++) {
        char sha[65] = "";
        bx_err_t err = bx_pg_begin(pg);
        PGresult *res = err ? NULL : bx_pg_query(pg, "media_orphan_next", 0, NULL, &err);
        if (res && PQntuples(res) == 1)
            bx_strlcpy(sha, bx_pg_val(res, 0, 0), sizeof sha);
        PQclear(res);
        const char *p[] = {sha};
        res = sha[0] ? bx_pg_query(pg, "media_orphan_delete", 1, p, &err) : NULL;
        int unused = res && PQntuples(res) == 1;
        PQclear(res);
        if (!sha[0] || (unused && s_store->ops->del(s_store, sha)) || bx_pg_commit(pg)) {
            bx_pg_rollback(pg);
            return;
        }
    }
}

/* The answer to a stored upload: 201 with the new media, or 200 with the same one. */
static void s_reply_upload(fd_req_t *req, bx_pg_t *pg, const s_upload_t *u)
{
    char loc[96];
    snprintf(loc, sizeof loc, "/api/v1/media/%s", u->id);
    fd_add_header(req, "Location", loc);
    if (u->existing) {
        s_reply_media(req, pg, u->id, 200, json_pack("{s:b}", "already_uploaded", 1));
        return;
    }
    fd_audit(req, "media.create", "media", u->id,
             json_pack("{s:s, s:s, s:s, s:s}", "owner_type", u->kind, "owner_id", u->owner, "role",
                       u->role, "sha256", u->sha));
    s_reply_media(req, pg, u->id, 201,
                  json_pack("{s:b, s:s?}", "content_reused", u->reused, "replaced_media_id",
                            u->replaced[0] ? u->replaced : NULL));
}

/* One transaction: owner locked and checked, content row locked, bytes stored, media
 * recorded. On a failure before the commit, bytes this upload added are removed while
 * the content row is still locked, so nothing is left behind. */
static void s_store_upload(fd_req_t *req, bx_pg_t *pg, s_upload_t *u)
{
    int inserted = 0;
    bx_err_t err = bx_pg_begin(pg);
    if (err)
        goto out;
    if (!s_owner_lock(req, pg, u) || !s_owner_room(req, pg, u))
        return;
    if (!u->existing) {
        err = s_put_blob(pg, u, &inserted);
        if (!err)
            err = s_record(req, pg, u);
        if (err && inserted)
            (void)s_store->ops->del(s_store, u->sha);
    }
    if (!err)
        err = bx_pg_commit(pg);
out:
    if (err) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    fd_doc_cache_touch(req, strcmp(u->kind, "event") ? FD_DOC_VENUE : FD_DOC_EVENT, u->owner);
    s_reply_upload(req, pg, u);
    if (u->replaced[0])
        s_sweep(pg);
}

static void s_upload(fd_req_t *req, const char *kind)
{
    s_upload_t u = {.kind = kind};
    bx_pg_t *pg = NULL;
    u.owner = fd_cat_id(req, strcmp(kind, "event") ? "venueId" : "eventId", kind);
    if (!u.owner || !s_role_ok(req, &u) || !s_body_ok(req, &u) || !s_inspect(req, &u) ||
        !(pg = fd_cat_db(req)))
        return;
    s_store_upload(req, pg, &u);
}

static void s_upload_event(fd_req_t *req)
{
    s_upload(req, "event");
}

static void s_upload_venue(fd_req_t *req)
{
    s_upload(req, "venue");
}

/* ---- deleting ---- */

static void s_delete(fd_req_t *req)
{
    const char *id = fd_cat_id(req, "mediaId", "media");
    char org[BX_UUID_LEN + 1], owner[BX_UUID_LEN + 1];
    int ok = 0, is_event = 0;
    bx_pg_t *pg = id ? fd_cat_db(req) : NULL;
    if (!pg)
        return;
    const char *p[] = {id};
    bx_err_t err = bx_pg_begin(pg);
    PGresult *res = err ? NULL : bx_pg_query(pg, "media_lock", 1, p, &err);
    if (res && PQntuples(res) == 1) {
        bx_strlcpy(org, bx_pg_val(res, 0, 0), sizeof org);
        bx_strlcpy(owner, bx_pg_val(res, 0, 1), sizeof owner);
        is_event = !strcmp(bx_pg_val(res, 0, 2), "t");
        err = fd_cat_manages(req, pg, org, &ok);
    }
    PQclear(res);
    if (!err && ok && !(err = bx_pg_run(pg, "media_delete", 1, p)) &&
        !(err = s_owner_changed(req, pg, is_event ? "event" : "venue", owner, "media_deleted")))
        err = bx_pg_commit(pg);
    if (err || !ok) {
        fd_cat_fail(req, pg, err ? err : BX_ENOTFOUND, err ? NULL : "no such media");
        return;
    }
    fd_doc_cache_touch(req, is_event ? FD_DOC_EVENT : FD_DOC_VENUE, owner);
    fd_audit(req, "media.delete", "media", id, NULL);
    fd_reply_empty(req, 204);
    s_sweep(pg);
}

const fd_route_t fd_media_routes[] = {
    {"POST", "/api/v1/events/{eventId}/media", s_upload_event, FD_PARTNER | FD_UPLOAD | FD_NO_IDEM,
     FD_RL_WRITE, NULL},
    {"POST", "/api/v1/venues/{venueId}/media", s_upload_venue, FD_PARTNER | FD_UPLOAD | FD_NO_IDEM,
     FD_RL_WRITE, NULL},
    {"GET", "/api/v1/media/{mediaId}", s_get, 0, FD_RL_READ, NULL},
    {"GET", "/api/v1/media/{mediaId}/content", s_content, 0, FD_RL_READ, NULL},
    {"DELETE", "/api/v1/media/{mediaId}", s_delete, FD_PARTNER, FD_RL_WRITE, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};
