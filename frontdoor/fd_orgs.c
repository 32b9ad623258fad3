/* fd_orgs: partner organizations and their members. Visibility is object-level: an
 * organization exists, as far as a caller can tell, only if the caller is an admin or one
 * of its members; everyone else gets 404. */
#include "fd_orgs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_log.h"
#include "bx_util.h"
#include "fd_users.h"

static const char *const s_member_roles[] = {"owner", "member", NULL};

const bx_jfield_t fd_orgs_create_schema[] = {
    {.name = "name",
     .type = BX_JT_STRING,
     .required = 1,
     .min = 1,
     .max = 200,
     .format = BX_FMT_NAME},
    {.name = "owner_email", .type = BX_JT_STRING, .max = 254, .format = BX_FMT_EMAIL},
    {0},
};

const bx_jfield_t fd_orgs_member_schema[] = {
    {.name = "email", .type = BX_JT_STRING, .required = 1, .max = 254, .format = BX_FMT_EMAIL},
    {.name = "role", .type = BX_JT_STRING, .one_of = s_member_roles},
    {0},
};

/* The outcome of adding a member. */
typedef struct {
    char user_id[BX_UUID_LEN + 1]; /* the member */
    char email[256];               /* as stored */
    char joined_at[32];            /* RFC 3339 */
    int inserted;                  /* 1 new member, 0 role changed */
    const char *why;               /* reason of a refusal, static text */
} s_added_t;

static int s_is_admin(fd_req_t *req)
{
    return !strcmp(fd_who(req)->role, "admin");
}

/* The caller's role in org ("owner", "member") into role (cap 16), "" when none. */
static bx_err_t s_my_role(bx_pg_t *pg, const char *org, const char *user, char role[16])
{
    bx_err_t err;
    const char *p[] = {org, user};
    PGresult *res = bx_pg_query(pg, "org_member_role", 2, p, &err);
    role[0] = '\0';
    if (res && PQntuples(res) == 1)
        bx_strlcpy(role, bx_pg_val(res, 0, 0), 16);
    PQclear(res);
    return err;
}

/* Object-level check. Admins pass; members pass unless need_owner and they are not an
 * owner (403); everyone else, and any malformed id, gets 404. Returns 1 to go on. */
static int s_access(fd_req_t *req, bx_pg_t *pg, const char *org, int need_owner)
{
    char role[16];
    if (!bx_uuid_valid(org)) {
        fd_reply_problem(req, BX_ENOTFOUND, "no such organization");
        return 0;
    }
    if (s_is_admin(req))
        return 1;
    bx_err_t err = s_my_role(pg, org, fd_who(req)->user_id, role);
    if (err || !role[0]) {
        fd_reply_problem(req, err ? err : BX_ENOTFOUND, err ? NULL : "no such organization");
        return 0;
    }
    if (need_owner && strcmp(role, "owner")) {
        fd_reply_problem(req, BX_EFORBIDDEN, "only an owner of the organization may add members");
        return 0;
    }
    return 1;
}

/* Members of org as an array of objects, or NULL with *err. */
static json_t *s_members(bx_pg_t *pg, const char *org, bx_err_t *err)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", FD_ORGS_MAX_MEMBERS);
    const char *p[] = {org, lim};
    PGresult *res = bx_pg_query(pg, "org_members", 2, p, err);
    json_t *arr = res ? json_array() : NULL;
    for (int i = 0; arr && i < PQntuples(res); i++)
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s}", "user_id", bx_pg_val(res, i, 0),
                           "email", bx_pg_val(res, i, 1), "role", bx_pg_val(res, i, 2),
                           "first_name", bx_pg_val(res, i, 3), "last_name", bx_pg_val(res, i, 4),
                           "joined_at", bx_pg_val(res, i, 5)));
    PQclear(res);
    return arr;
}

/* The organization document, or NULL with *err (BX_ENOTFOUND when there is none). */
static json_t *s_org_doc(bx_pg_t *pg, const char *org, bx_err_t *err)
{
    char self[128];
    const char *p[] = {org};
    json_t *doc = NULL;
    PGresult *res = bx_pg_query(pg, "org_get", 1, p, err);
    if (res && PQntuples(res) != 1)
        *err = BX_ENOTFOUND;
    json_t *members = res && !*err ? s_members(pg, org, err) : NULL;
    if (members) {
        snprintf(self, sizeof self, "/api/v1/organizations/%s", bx_pg_val(res, 0, 0));
        json_t *attrs =
            json_pack("{s:s, s:s, s:s, s:o}", "name", bx_pg_val(res, 0, 1), "created_at",
                      bx_pg_val(res, 0, 2), "updated_at", bx_pg_val(res, 0, 3), "members", members);
        doc = attrs ? fd_document(fd_resource("organization", bx_pg_val(res, 0, 0), attrs, self),
                                  NULL)
                    : NULL;
        if (!doc)
            *err = BX_ENOMEM;
    }
    PQclear(res);
    return doc;
}

/* Refuses to demote the last owner: an organization keeps at least one. */
static bx_err_t s_keeps_an_owner(bx_pg_t *pg, const char *org, const char *user, const char *role,
                                 s_added_t *out)
{
    char current[16];
    bx_err_t err = strcmp(role, "member") ? BX_OK : s_my_role(pg, org, user, current);
    if (err || strcmp(role, "member") || strcmp(current, "owner"))
        return err;
    const char *p[] = {org, user};
    PGresult *res = bx_pg_query(pg, "org_other_owners", 2, p, &err);
    if (res && !strcmp(bx_pg_val(res, 0, 0), "0")) {
        out->why = "an organization keeps at least one owner: add another owner first";
        err = BX_ECONFLICT;
    }
    PQclear(res);
    return err;
}

/* Adds the user with email to org with role inside the caller's transaction, and makes a
 * customer a partner. Returns BX_OK, BX_EUNPROCESSABLE when no account has that email,
 * or another error; out->why explains refusals. */
static bx_err_t s_add(bx_pg_t *pg, const char *org, const char *email, const char *role,
                      s_added_t *out)
{
    bx_err_t err;
    PGresult *m = NULL;
    const char *pe[] = {email};
    PGresult *u = bx_pg_query(pg, "user_by_email", 1, pe, &err);
    if (u && PQntuples(u) != 1) {
        out->why = "no account has this email address: the user must register first";
        err = BX_EUNPROCESSABLE;
    }
    if (!err) {
        bx_strlcpy(out->user_id, bx_pg_val(u, 0, 0), sizeof out->user_id);
        bx_strlcpy(out->email, bx_pg_val(u, 0, 1), sizeof out->email);
        err = s_keeps_an_owner(pg, org, out->user_id, role, out);
    }
    const char *pm[] = {org, out->user_id, role};
    if (!err && (m = bx_pg_query(pg, "org_member_upsert", 3, pm, &err))) {
        out->inserted = !strcmp(bx_pg_val(m, 0, 0), "t");
        bx_strlcpy(out->joined_at, bx_pg_val(m, 0, 1), sizeof out->joined_at);
    }
    const char *pu[] = {out->user_id};
    if (!err)
        err = bx_pg_run(pg, "user_promote_partner", 1, pu);
    if (!err)
        err = bx_pg_run(pg, "org_touch", 1, pm);
    PQclear(u);
    PQclear(m);
    return err;
}

static void s_audit_member(fd_req_t *req, const char *org, const s_added_t *a, const char *role)
{
    fd_audit(req, a->inserted ? "organization.member_add" : "organization.member_role",
             "organization", org, json_pack("{s:s, s:s}", "user_id", a->user_id, "role", role));
}

void fd_orgs_create(fd_req_t *req)
{
    json_t *b = fd_body(req);
    const char *owner = bx_json_str(b, "owner_email");
    char id[BX_UUID_LEN + 1], loc[128];
    s_added_t added = {0};
    bx_pg_t *pg = fd_users_db(req);
    if (!pg)
        return;
    bx_uuid_v7(id);
    const char *p[] = {id, bx_json_str(b, "name")};
    bx_err_t err = bx_pg_begin(pg);
    if (!err)
        err = bx_pg_run(pg, "org_insert", 2, p);
    if (!err && owner)
        err = s_add(pg, id, owner, "owner", &added);
    if (!err)
        err = bx_pg_commit(pg);
    if (err) {
        bx_pg_rollback(pg);
        fd_reply_problem(req, err, added.why);
        return;
    }
    json_t *doc = s_org_doc(pg, id, &err);
    fd_audit(req, "organization.create", "organization", id, NULL);
    if (owner)
        s_audit_member(req, id, &added, "owner");
    snprintf(loc, sizeof loc, "/api/v1/organizations/%s", id);
    fd_add_header(req, "Location", loc);
    if (doc)
        fd_reply_json(req, 201, doc);
    else
        fd_reply_problem(req, err, NULL);
}

/* The member resource answered by fd_orgs_member_add. */
static json_t *s_member_doc(const char *org, const s_added_t *a, const char *role)
{
    char related[128];
    snprintf(related, sizeof related, "/api/v1/organizations/%s", org);
    json_t *r = fd_resource("organization_member", a->user_id,
                            json_pack("{s:s, s:s, s:s, s:s, s:s}", "organization_id", org,
                                      "user_id", a->user_id, "email", a->email, "role", role,
                                      "joined_at", a->joined_at),
                            NULL);
    if (r)
        json_object_set_new(r, "links", json_pack("{s:s}", "related", related));
    return fd_document(r, NULL);
}

void fd_orgs_member_add(fd_req_t *req)
{
    json_t *b = fd_body(req);
    const char *org = fd_param(req, "orgId"), *role = bx_json_str(b, "role");
    s_added_t added = {0};
    bx_err_t err;
    bx_pg_t *pg = fd_users_db(req);
    if (!pg || !s_access(req, pg, org, 1))
        return;
    if (!role)
        role = "member";
    /* admins pass s_access for any id: the organization must also exist */
    const char *p[] = {org};
    PGresult *res = bx_pg_query(pg, "org_get", 1, p, &err);
    int exists = res && PQntuples(res) == 1;
    PQclear(res);
    if (!exists) {
        fd_reply_problem(req, err ? err : BX_ENOTFOUND, err ? NULL : "no such organization");
        return;
    }
    if (!(err = bx_pg_begin(pg)) && !(err = s_add(pg, org, bx_json_str(b, "email"), role, &added)))
        err = bx_pg_commit(pg);
    if (err) {
        bx_pg_rollback(pg);
        fd_reply_problem(req, err, added.why);
        return;
    }
    s_audit_member(req, org, &added, role);
    fd_reply_json(req, added.inserted ? 201 : 200, s_member_doc(org, &added, role));
}

void fd_orgs_get(fd_req_t *req)
{
    const char *org = fd_param(req, "orgId");
    bx_err_t err;
    bx_pg_t *pg = fd_users_db(req);
    if (!pg || !s_access(req, pg, org, 0))
        return;
    json_t *doc = s_org_doc(pg, org, &err);
    if (!doc) {
        fd_reply_problem(req, err, err == BX_ENOTFOUND ? "no such organization" : NULL);
        return;
    }
    fd_cacheable(req, 0, 0, 0);
    fd_reply_json(req, 200, doc);
}
