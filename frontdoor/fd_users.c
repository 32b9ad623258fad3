/* fd_users: accounts. Registration with argon2id hashes, login answering one 401 for a
 * wrong email or password (a dummy hash keeps the timing equal), sessions whose refresh
 * tokens rotate on every use (a spent token presented again revokes the whole session),
 * logout, and the profile. Passwords, hashes and tokens are never logged. */
#include "fd_users.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_dlv.h"
#include "bx_jwt.h"
#include "bx_log.h"
#include "bx_password.h"
#include "bx_util.h"
#include "fd_auth.h"
#include "fd_orgs.h"

#define S_REFRESH_BYTES 32 /* entropy of a refresh token */
#define S_REFRESH_LEN   43 /* its base64url length */
#define S_ORGS_IN_TOKEN 50 /* org ids carried in the orgs claim (keeps tokens < 4 KiB) */

/* The session a token pair is issued for. */
typedef struct {
    char sid[BX_UUID_LEN + 1];     /* session id (sid claim) */
    char user_id[BX_UUID_LEN + 1]; /* sub claim */
    char role[16];                 /* role claim, read from users at issue time */
    int64_t expires;               /* session end, epoch seconds (refresh tokens die then) */
} s_sess_t;

static const char *const s_bad_login = "the email address or password is wrong";
static const char *const s_bad_refresh = "the refresh token is invalid, expired or revoked";

const bx_jfield_t fd_users_register_schema[] = {
    {.name = "email", .type = BX_JT_STRING, .required = 1, .max = 254, .format = BX_FMT_EMAIL},
    {.name = "password", .type = BX_JT_STRING, .required = 1, .min = 1, .max = 1024},
    {.name = "first_name",
     .type = BX_JT_STRING,
     .min = 1,
     .max = 100,
     .format = BX_FMT_NAME,
     .nullable = 1},
    {.name = "last_name",
     .type = BX_JT_STRING,
     .min = 1,
     .max = 100,
     .format = BX_FMT_NAME,
     .nullable = 1},
    {.name = "phone_number",
     .type = BX_JT_STRING,
     .max = 16,
     .format = BX_FMT_PHONE,
     .nullable = 1},
    {.name = "locale", .type = BX_JT_STRING, .max = 5, .format = BX_FMT_LOCALE},
    {0},
};

const bx_jfield_t fd_users_login_schema[] = {
    {.name = "email", .type = BX_JT_STRING, .required = 1, .max = 254, .format = BX_FMT_EMAIL},
    {.name = "password", .type = BX_JT_STRING, .required = 1, .min = 1, .max = 1024},
    {0},
};

const bx_jfield_t fd_users_refresh_schema[] = {
    {.name = "refresh_token", .type = BX_JT_STRING, .required = 1, .min = 1, .max = 256},
    {0},
};

/* PUT merges: absent fields keep their value, null clears an optional one. Changing the
 * email or the password needs current_password. */
const bx_jfield_t fd_users_profile_schema[] = {
    {.name = "first_name",
     .type = BX_JT_STRING,
     .min = 1,
     .max = 100,
     .format = BX_FMT_NAME,
     .nullable = 1},
    {.name = "last_name",
     .type = BX_JT_STRING,
     .min = 1,
     .max = 100,
     .format = BX_FMT_NAME,
     .nullable = 1},
    {.name = "phone_number",
     .type = BX_JT_STRING,
     .max = 16,
     .format = BX_FMT_PHONE,
     .nullable = 1},
    {.name = "locale", .type = BX_JT_STRING, .max = 5, .format = BX_FMT_LOCALE},
    {.name = "email", .type = BX_JT_STRING, .max = 254, .format = BX_FMT_EMAIL},
    {.name = "new_password", .type = BX_JT_STRING, .min = 1, .max = 1024},
    {.name = "current_password", .type = BX_JT_STRING, .min = 1, .max = 1024},
    {0},
};

/* ---- helpers shared with fd_orgs ---- */

bx_pg_t *fd_users_db(fd_req_t *req)
{
    bx_pg_t *pg = fd_pg(req);
    if (!pg)
        fd_reply_problem(req, BX_EUNAVAILABLE, "the database is unreachable: retry shortly");
    return pg;
}

void fd_users_field_error(fd_req_t *req, const char *ptr, const char *detail)
{
    fd_reply_problem_ext(req, BX_EINVAL, "one or more fields are invalid",
                         json_pack("{s:[{s:s, s:s}]}", "errors", "pointer", ptr, "detail", detail));
}

json_t *fd_users_resource(const PGresult *res, json_t *orgs)
{
    json_t *attrs = json_pack(
        "{s:s, s:s?, s:s?, s:s?, s:s, s:s, s:s, s:s}", "email", bx_pg_val(res, 0, FD_U_EMAIL),
        "first_name", bx_pg_val(res, 0, FD_U_FIRST), "last_name", bx_pg_val(res, 0, FD_U_LAST),
        "phone_number", bx_pg_val(res, 0, FD_U_PHONE), "locale", bx_pg_val(res, 0, FD_U_LOCALE),
        "role", bx_pg_val(res, 0, FD_U_ROLE), "created_at", bx_pg_val(res, 0, FD_U_CREATED),
        "updated_at", bx_pg_val(res, 0, FD_U_UPDATED));
    json_t *r =
        attrs ? fd_resource("user", bx_pg_val(res, 0, FD_U_ID), attrs, "/api/v1/users/profile")
              : NULL;
    if (r && orgs)
        json_object_set_new(r, "relationships",
                            json_pack("{s:{s:o}}", "organizations", "data", orgs));
    else
        json_decref(orgs);
    return r;
}

/* The user's organizations as relationship data [{"type","id","meta":{"role"}}] and,
 * when ids is not NULL, as a plain id array for the orgs claim. NULL on failure. */
static json_t *s_orgs(bx_pg_t *pg, const char *user_id, int limit, json_t **ids, bx_err_t *err)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {user_id, lim};
    PGresult *res = bx_pg_query(pg, "user_orgs", 2, p, err);
    json_t *rel = res ? json_array() : NULL;
    if (ids)
        *ids = rel ? json_array() : NULL;
    for (int i = 0; rel && i < PQntuples(res); i++) {
        json_array_append_new(rel, json_pack("{s:s, s:s, s:{s:s}}", "type", "organization", "id",
                                             bx_pg_val(res, i, 0), "meta", "role",
                                             bx_pg_val(res, i, 1)));
        if (ids)
            json_array_append_new(*ids, json_string(bx_pg_val(res, i, 0)));
    }
    PQclear(res);
    if (res && !rel)
        *err = BX_ENOMEM;
    return rel;
}

/* ---- tokens ---- */

static char *s_dummy_phc;
static pthread_once_t s_dummy_once = PTHREAD_ONCE_INIT;

/* A hash of a random password made with the configured cost: unknown emails are verified
 * against it so that they cost the same time as known ones. */
static void s_make_dummy(void)
{
    unsigned char raw[24];
    char pw[40];
    if (bx_random(raw, sizeof raw) != BX_OK)
        return;
    bx_b64url_encode(raw, sizeof raw, pw, sizeof pw);
    s_dummy_phc = bx_password_hash(pw);
}

static const char *s_dummy(void)
{
    pthread_once(&s_dummy_once, s_make_dummy);
    return s_dummy_phc;
}

/* Signs an access token for s. Returns it (caller frees) or NULL with *err. */
static char *s_access_token(bx_pg_t *pg, const s_sess_t *s, int64_t now, bx_err_t *err)
{
    char jti[BX_UUID_LEN + 1];
    json_t *ids = NULL;
    json_t *rel = s_orgs(pg, s->user_id, S_ORGS_IN_TOKEN, &ids, err);
    json_decref(rel);
    if (!ids)
        return NULL;
    bx_uuid_v7(jti);
    json_t *claims = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:I}", "iss",
                               bx_jwt_ring_issuer(fd_auth_ring()), "sub", s->user_id, "sid", s->sid,
                               "role", s->role, "orgs", ids, "jti", jti, "iat", (json_int_t)now,
                               "exp", (json_int_t)(now + bx_config_int("jwt_access_ttl_s")));
    char *tok = claims ? bx_jwt_sign(fd_auth_ring(), claims) : NULL;
    json_decref(claims);
    if (!tok)
        *err = BX_EINTERNAL;
    return tok;
}

/* Creates a refresh token of session sid and stores its SHA-256. */
static bx_err_t s_refresh_new(bx_pg_t *pg, const char *sid, char out[S_REFRESH_LEN + 1])
{
    unsigned char raw[S_REFRESH_BYTES];
    char hash[65];
    bx_err_t err = bx_random(raw, sizeof raw);
    if (err)
        return err;
    bx_b64url_encode(raw, sizeof raw, out, S_REFRESH_LEN + 1);
    OPENSSL_cleanse(raw, sizeof raw);
    bx_sha256_hex(out, S_REFRESH_LEN, hash);
    const char *p[] = {hash, sid};
    return bx_pg_run(pg, "refresh_insert", 2, p);
}

/* Issues a new token pair for s inside the caller's transaction. Returns the token
 * document or NULL with *err. */
static json_t *s_token_doc(bx_pg_t *pg, const s_sess_t *s, bx_err_t *err)
{
    char refresh[S_REFRESH_LEN + 1];
    int64_t now = bx_now_ms() / 1000;
    *err = s_refresh_new(pg, s->sid, refresh);
    char *access = *err ? NULL : s_access_token(pg, s, now, err);
    if (!access)
        return NULL;
    json_t *attrs = json_pack("{s:s, s:s, s:I, s:s, s:I}", "access_token", access, "token_type",
                              "Bearer", "expires_in", (json_int_t)bx_config_int("jwt_access_ttl_s"),
                              "refresh_token", refresh, "refresh_expires_in",
                              (json_int_t)(s->expires > now ? s->expires - now : 0));
    OPENSSL_cleanse(access, strlen(access));
    OPENSSL_cleanse(refresh, sizeof refresh);
    free(access);
    json_t *doc = attrs ? fd_document(fd_resource("token", s->sid, attrs, NULL), NULL) : NULL;
    if (!doc)
        *err = BX_ENOMEM;
    return doc;
}

/* Ends a token-issuing transaction: commits and answers doc (stolen), or rolls back and
 * answers the error. Returns the outcome. */
static bx_err_t s_finish(fd_req_t *req, bx_pg_t *pg, bx_err_t err, json_t *doc)
{
    if (!err)
        err = bx_pg_commit(pg);
    if (err) {
        bx_pg_rollback(pg);
        json_decref(doc);
        fd_reply_problem(req, err, "could not issue tokens");
        return err;
    }
    fd_add_header(req, "Pragma", "no-cache");
    fd_reply_json(req, 200, doc);
    return BX_OK;
}

/* ---- register, login, refresh, logout ---- */

static void s_register(fd_req_t *req)
{
    json_t *b = fd_body(req);
    const char *email = bx_json_str(b, "email"), *pw = bx_json_str(b, "password"), *why = NULL;
    char id[BX_UUID_LEN + 1], *hash = NULL;
    bx_err_t err;
    bx_pg_t *pg = fd_users_db(req);
    if (!pg)
        return;
    if (bx_password_policy(pw, email, &why) != BX_OK) {
        fd_users_field_error(req, "/password", why);
        return;
    }
    if (!(hash = bx_password_hash(pw))) {
        fd_reply_problem(req, BX_EINTERNAL, "could not hash the password");
        return;
    }
    bx_uuid_v7(id);
    const char *p[] = {id,
                       email,
                       hash,
                       bx_json_str(b, "first_name"),
                       bx_json_str(b, "last_name"),
                       bx_json_str(b, "phone_number"),
                       bx_json_str(b, "locale")};
    /* the welcome mail is written to the outbox in the registration's transaction */
    err = bx_pg_begin(pg);
    PGresult *res = err ? NULL : bx_pg_query(pg, "user_insert", 7, p, &err);
    free(hash);
    if (res && ((err = bx_dlv_notify_user(pg, "account.welcome", id, NULL, NULL, NULL, NULL)) ||
                (err = bx_pg_commit(pg)))) {
        PQclear(res);
        res = NULL;
    }
    if (!res) {
        bx_pg_rollback(pg);
        fd_reply_problem(req, err,
                         err == BX_ECONFLICT ? "an account with this email address already exists"
                                             : "could not create the account");
        return;
    }
    fd_add_header(req, "Location", "/api/v1/users/profile");
    fd_audit(req, "user.register", "user", id, json_pack("{s:s}", "user_id", id));
    fd_reply_json(req, 201, fd_document(fd_users_resource(res, json_array()), NULL));
    PQclear(res);
}

/* Opens a session for s (user_id and role set) and answers its first token pair. rehash,
 * when not NULL, replaces the stored password hash in the same transaction. */
static void s_open_session(fd_req_t *req, bx_pg_t *pg, s_sess_t *s, const char *rehash)
{
    char ttl[16];
    json_t *doc = NULL;
    PGresult *res = NULL;
    snprintf(ttl, sizeof ttl, "%ld", bx_config_int("jwt_refresh_ttl_s"));
    bx_uuid_v7(s->sid);
    const char *sp[] = {s->sid, s->user_id, ttl};
    const char *hp[] = {s->user_id, rehash};
    bx_err_t err = bx_pg_begin(pg);
    if (!err && rehash)
        err = bx_pg_run(pg, "user_set_password_hash", 2, hp);
    if (!err)
        res = bx_pg_query(pg, "session_insert", 3, sp, &err);
    if (!err) {
        s->expires = strtoll(bx_pg_val(res, 0, 0), NULL, 10);
        doc = s_token_doc(pg, s, &err);
    }
    PQclear(res);
    if (s_finish(req, pg, err, doc) == BX_OK)
        fd_audit(req, "user.login", "session", s->sid, json_pack("{s:s}", "user_id", s->user_id));
}

static void s_login(fd_req_t *req)
{
    json_t *b = fd_body(req);
    const char *email = bx_json_str(b, "email"), *pw = bx_json_str(b, "password");
    s_sess_t s = {0};
    bx_err_t err;
    bx_pg_t *pg = fd_users_db(req);
    if (!pg)
        return;
    const char *p[] = {email};
    PGresult *res = bx_pg_query(pg, "user_login_lookup", 1, p, &err);
    if (!res) {
        fd_reply_problem(req, err, NULL);
        return;
    }
    int found = PQntuples(res) == 1;
    const char *phc = found ? bx_pg_val(res, 0, 1) : s_dummy();
    /* verify first, whatever the lookup found, so both paths cost one argon2id run */
    int ok = bx_password_verify(phc, pw) && found;
    if (!ok) {
        fd_audit(req, "user.login_failed", "user", found ? bx_pg_val(res, 0, 0) : NULL, NULL);
        PQclear(res);
        fd_reply_problem(req, BX_EUNAUTHORIZED, s_bad_login);
        return;
    }
    bx_strlcpy(s.user_id, bx_pg_val(res, 0, 0), sizeof s.user_id);
    bx_strlcpy(s.role, bx_pg_val(res, 0, 2), sizeof s.role);
    char *rehash = bx_password_needs_rehash(phc) ? bx_password_hash(pw) : NULL;
    PQclear(res);
    s_open_session(req, pg, &s, rehash);
    free(rehash);
}

/* A refresh token is 32 random bytes in base64url: anything else is refused unread. */
static int s_refresh_shape_ok(const char *tok)
{
    unsigned char raw[S_REFRESH_BYTES + 1];
    return tok && strlen(tok) == S_REFRESH_LEN &&
           bx_b64url_decode(tok, S_REFRESH_LEN, raw, sizeof raw) == S_REFRESH_BYTES;
}

/* A spent refresh token came back: someone holds a copy. Revokes the whole session; the
 * audit record commits with the revocation. */
static void s_reuse(fd_req_t *req, bx_pg_t *pg, const s_sess_t *s)
{
    char detail[64];
    snprintf(detail, sizeof detail, "{\"user_id\":\"%s\"}", s->user_id);
    const char *p[] = {s->sid, s->user_id, "reuse"};
    const char *a[] = {NULL, "session.revoke_reuse", "session", s->sid, fd_client_ip(req), detail};
    bx_err_t err = bx_pg_run(pg, "session_revoke", 3, p);
    if (!err)
        err = bx_pg_run(pg, "audit_insert", 6, a);
    if (!err)
        err = bx_pg_commit(pg);
    if (err) {
        bx_pg_rollback(pg);
        fd_reply_problem(req, err, "could not revoke the session");
        return;
    }
    fd_auth_revoke_session(req, s->sid);
    BX_WARN("refresh token reuse: session %s revoked", s->sid);
    fd_reply_problem(req, BX_EUNAUTHORIZED,
                     "this refresh token was already used: the session is revoked, log in again");
}

/* Looks up hash FOR UPDATE. Returns 1 live, 0 dead or unknown, -1 reused, -2 error. */
static int s_refresh_lookup(bx_pg_t *pg, const char *hash, s_sess_t *s, bx_err_t *err)
{
    const char *p[] = {hash};
    PGresult *res = bx_pg_query(pg, "refresh_lookup", 1, p, err);
    int rc = 0;
    if (!res)
        return -2;
    if (PQntuples(res) == 1) {
        bx_strlcpy(s->sid, bx_pg_val(res, 0, 0), sizeof s->sid);
        bx_strlcpy(s->user_id, bx_pg_val(res, 0, 1), sizeof s->user_id);
        bx_strlcpy(s->role, bx_pg_val(res, 0, 2), sizeof s->role);
        s->expires = strtoll(bx_pg_val(res, 0, 5), NULL, 10);
        int used = !strcmp(bx_pg_val(res, 0, 3), "t"), dead = !strcmp(bx_pg_val(res, 0, 4), "t");
        rc = used ? -1 : dead ? 0 : 1;
    }
    PQclear(res);
    return rc;
}

static void s_refresh(fd_req_t *req)
{
    const char *tok = bx_json_str(fd_body(req), "refresh_token");
    char hash[65];
    s_sess_t s = {0};
    bx_err_t err;
    bx_pg_t *pg = fd_users_db(req);
    if (!pg)
        return;
    if (!s_refresh_shape_ok(tok)) {
        fd_reply_problem(req, BX_EUNAUTHORIZED, s_bad_refresh);
        return;
    }
    bx_sha256_hex(tok, S_REFRESH_LEN, hash);
    if ((err = bx_pg_begin(pg))) {
        fd_reply_problem(req, err, NULL);
        return;
    }
    int state = s_refresh_lookup(pg, hash, &s, &err);
    if (state == -1) {
        s_reuse(req, pg, &s);
        return;
    }
    if (state != 1) {
        bx_pg_rollback(pg);
        fd_reply_problem(req, state == 0 ? BX_EUNAUTHORIZED : err,
                         state == 0 ? s_bad_refresh : NULL);
        return;
    }
    const char *p[] = {hash};
    err = bx_pg_run(pg, "refresh_mark_used", 1, p);
    json_t *doc = err ? NULL : s_token_doc(pg, &s, &err);
    s_finish(req, pg, err, doc);
}

static void s_logout(fd_req_t *req)
{
    const fd_principal_t *me = fd_who(req);
    bx_pg_t *pg = fd_users_db(req);
    if (!pg)
        return;
    const char *p[] = {me->session_id, me->user_id, "logout"};
    bx_err_t err = bx_pg_run(pg, "session_revoke", 3, p);
    if (err) {
        fd_reply_problem(req, err, "could not end the session");
        return;
    }
    fd_auth_revoke_session(req, me->session_id);
    fd_audit(req, "user.logout", "session", me->session_id, NULL);
    fd_reply_empty(req, 204);
}

/* ---- profile ---- */

/* Answers the user row of res as a document with the user's organizations. */
static void s_reply_user(fd_req_t *req, bx_pg_t *pg, const PGresult *res, int cacheable)
{
    bx_err_t err = BX_OK;
    json_t *orgs = s_orgs(pg, bx_pg_val(res, 0, FD_U_ID), FD_ORGS_MAX_MEMBERS, NULL, &err);
    json_t *doc = orgs ? fd_document(fd_users_resource(res, orgs), NULL) : NULL;
    if (!doc) {
        fd_reply_problem(req, err ? err : BX_ENOMEM, NULL);
        return;
    }
    /* ETag only: membership changes do not move users.updated_at, so a Last-Modified
     * taken from it could answer If-Modified-Since with a stale 304 */
    if (cacheable)
        fd_cacheable(req, 0, 0, 0);
    fd_reply_json(req, 200, doc);
}

static void s_profile_get(fd_req_t *req)
{
    bx_err_t err;
    bx_pg_t *pg = fd_users_db(req);
    if (!pg)
        return;
    const char *p[] = {fd_who(req)->user_id};
    PGresult *res = bx_pg_query(pg, "user_get", 1, p, &err);
    if (!res || PQntuples(res) != 1)
        fd_reply_problem(req, res ? BX_ENOTFOUND : err,
                         res ? "the account no longer exists" : NULL);
    else
        s_reply_user(req, pg, res, 1);
    PQclear(res);
}

/* Email and password changes need the current password. Returns 1 to go on, 0 when an
 * answer was given, -1 when the current password is wrong (not answered: the caller ends
 * the transaction first so that the audit record survives). *hash_out receives the new
 * hash when the password changes. */
static int s_sensitive_ok(fd_req_t *req, json_t *b, const PGresult *row, char **hash_out)
{
    const char *email = bx_json_str(b, "email"), *np = bx_json_str(b, "new_password");
    const char *cur = bx_json_str(b, "current_password"), *why = NULL;
    const char *old_email = bx_pg_val(row, 0, FD_U_EMAIL);
    if ((!email || !strcmp(email, old_email)) && !np)
        return 1;
    if (!cur) {
        fd_users_field_error(req, "/current_password",
                             "is required to change the email address or the password");
        return 0;
    }
    if (!bx_password_verify(bx_pg_val(row, 0, FD_U_HASH), cur))
        return -1;
    if (np && bx_password_policy(np, email ? email : old_email, &why) != BX_OK) {
        fd_users_field_error(req, "/new_password", why);
        return 0;
    }
    if (np && !(*hash_out = bx_password_hash(np))) {
        fd_reply_problem(req, BX_EINTERNAL, "could not hash the password");
        return 0;
    }
    return 1;
}

/* The merged value of an optional field: absent keeps the row's, null clears. */
static const char *s_pick(json_t *b, const char *key, const PGresult *row, int col)
{
    json_t *v = json_object_get(b, key);
    return v ? json_string_value(v) : bx_pg_val(row, 0, col);
}

/* After a password change every other session of the user ends. */
static bx_err_t s_revoke_others(fd_req_t *req, bx_pg_t *pg, PGresult **revoked)
{
    const fd_principal_t *me = fd_who(req);
    const char *p[] = {me->user_id, me->session_id};
    bx_err_t err;
    *revoked = bx_pg_query(pg, "sessions_revoke_others", 2, p, &err);
    return err;
}

/* Writes the merged profile; returns the updated row or NULL with *err. */
static PGresult *s_profile_write(fd_req_t *req, bx_pg_t *pg, const PGresult *row, const char *hash,
                                 bx_err_t *err)
{
    json_t *b = fd_body(req);
    const char *p[] = {bx_pg_val(row, 0, FD_U_ID),
                       s_pick(b, "email", row, FD_U_EMAIL),
                       s_pick(b, "first_name", row, FD_U_FIRST),
                       s_pick(b, "last_name", row, FD_U_LAST),
                       s_pick(b, "phone_number", row, FD_U_PHONE),
                       s_pick(b, "locale", row, FD_U_LOCALE),
                       hash ? hash : bx_pg_val(row, 0, FD_U_HASH)};
    return bx_pg_query(pg, "user_update", 7, p, err);
}

/* Audits the update and tells this process's token cache about revoked sessions. */
static void s_profile_after(fd_req_t *req, const PGresult *revoked, int email_changed)
{
    const char *uid = fd_who(req)->user_id;
    for (int i = 0; revoked && i < PQntuples(revoked); i++)
        fd_auth_revoke_session(req, bx_pg_val(revoked, i, 0));
    if (revoked)
        fd_audit(req, "user.password_change", "user", uid,
                 json_pack("{s:i}", "sessions_revoked", PQntuples(revoked)));
    if (email_changed)
        fd_audit(req, "user.email_change", "user", uid, NULL);
    fd_audit(req, "user.profile_update", "user", uid, NULL);
}

/* Answers a wrong current password, after the transaction ended. */
static void s_reauth_failed(fd_req_t *req, bx_pg_t *pg)
{
    bx_pg_rollback(pg);
    fd_audit(req, "user.reauth_failed", "user", fd_who(req)->user_id, NULL);
    fd_reply_problem(req, BX_EFORBIDDEN, "the current password is wrong");
}

static void s_profile_put(fd_req_t *req)
{
    json_t *b = fd_body(req);
    char *hash = NULL;
    bx_err_t err;
    int ok, email_changed;
    PGresult *row = NULL, *upd = NULL, *revoked = NULL;
    bx_pg_t *pg = fd_users_db(req);
    if (!pg)
        return;
    const char *p[] = {fd_who(req)->user_id};
    if ((err = bx_pg_begin(pg)) || !(row = bx_pg_query(pg, "user_get_for_update", 1, p, &err)))
        goto fail;
    if (PQntuples(row) != 1) {
        err = BX_ENOTFOUND;
        goto fail;
    }
    if ((ok = s_sensitive_ok(req, b, row, &hash)) < 1) {
        if (ok < 0)
            s_reauth_failed(req, pg);
        goto out; /* answered */
    }
    email_changed =
        bx_json_str(b, "email") && strcmp(bx_json_str(b, "email"), bx_pg_val(row, 0, FD_U_EMAIL));
    if (!(upd = s_profile_write(req, pg, row, hash, &err)) ||
        (hash && s_revoke_others(req, pg, &revoked)))
        goto fail;
    if ((err = bx_pg_commit(pg)))
        goto fail;
    s_profile_after(req, revoked, email_changed);
    s_reply_user(req, pg, upd, 0);
    goto out;
fail:
    fd_reply_problem(req, err,
                     err == BX_ECONFLICT   ? "an account with this email address already exists"
                     : err == BX_ENOTFOUND ? "the account no longer exists"
                                           : NULL);
out:
    bx_pg_rollback(pg);
    free(hash);
    PQclear(row);
    PQclear(upd);
    PQclear(revoked);
}

const fd_route_t fd_users_routes[] = {
    {"POST", "/api/v1/users/register", s_register, 0, FD_RL_AUTH, fd_users_register_schema},
    {"POST", "/api/v1/users/login", s_login, FD_NO_IDEM, FD_RL_AUTH, fd_users_login_schema},
    {"POST", "/api/v1/users/token/refresh", s_refresh, FD_NO_IDEM, FD_RL_AUTH,
     fd_users_refresh_schema},
    {"POST", "/api/v1/users/logout", s_logout, FD_AUTH | FD_NO_IDEM, FD_RL_WRITE, NULL},
    {"GET", "/api/v1/users/profile", s_profile_get, FD_AUTH, FD_RL_READ, NULL},
    {"PUT", "/api/v1/users/profile", s_profile_put, FD_AUTH, FD_RL_AUTH, fd_users_profile_schema},
    {"POST", "/api/v1/organizations", fd_orgs_create, FD_ADMIN, FD_RL_WRITE, fd_orgs_create_schema},
    {"POST", "/api/v1/organizations/{orgId}/members", fd_orgs_member_add, FD_AUTH, FD_RL_WRITE,
     fd_orgs_member_schema},
    {"GET", "/api/v1/organizations/{orgId}", fd_orgs_get, FD_AUTH, FD_RL_READ, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};
