/* bxctl seed: loads the demo data: one partner organization, and an admin, a partner
 * (owner of that organization) and a customer account with the demo passwords printed
 * at the end. Fixed ids and ON CONFLICT make it idempotent; an account whose email is
 * already taken is left as it is. All of it is one transaction. Demo data only: the
 * passwords are public, so never seed a database reachable by anyone else. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_password.h"
#include "bx_util.h"
#include "bxctl.h"

static const char *const S_CMD = "seed";

typedef struct {
    const char *id;       /* fixed UUID */
    const char *email;    /* login */
    const char *password; /* demo password, printed */
    const char *first;    /* first name */
    const char *last;     /* last name */
    const char *role;     /* users.role */
} s_user_t;

static const char *const S_ORG_ID = "01900000-0000-7000-8000-000000000001";
static const char *const S_ORG_NAME = "Demo Events Ltd";

static const s_user_t s_users[] = {
    {"01900000-0000-7000-8000-000000000101", "admin@boxoffice.test", "demo-admin-password", "Ada",
     "Admin", "admin"},
    {"01900000-0000-7000-8000-000000000102", "partner@boxoffice.test", "demo-partner-password",
     "Pat", "Partner", "partner"},
    {"01900000-0000-7000-8000-000000000103", "customer@boxoffice.test", "demo-customer-password",
     "Casey", "Customer", "customer"},
};
#define S_NUSERS  (sizeof s_users / sizeof s_users[0])
#define S_PARTNER 1 /* index of the organization's owner in s_users */

/* Runs a parameterized statement; returns the result (caller clears) or NULL after
 * printing the reason. */
static PGresult *s_exec(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    bxctl_err(S_CMD, "could not load demo data: %s", PQresultErrorMessage(res));
    PQclear(res);
    return NULL;
}

/* What s_user found or did. */
typedef enum {
    S_CREATED = 0, /* account created now */
    S_KEPT_DEMO,   /* account existed with the demo password (an earlier seed) */
    S_KEPT_OTHER,  /* the email belonged to an account with another password: untouched */
} s_outcome_t;

/* Creates u unless its email is taken. Writes the id of the account with that email into
 * id_out (37 bytes) and the outcome into *out. Returns 0 or -1. */
static int s_user(PGconn *c, const s_user_t *u, char *id_out, s_outcome_t *out)
{
    const char *q[1] = {u->email};
    PGresult *res =
        s_exec(c, "SELECT id, password_hash FROM users WHERE lower(email) = lower($1)", 1, q);
    if (!res)
        return -1;
    int exists = PQntuples(res) > 0;
    snprintf(id_out, 37, "%s", exists ? PQgetvalue(res, 0, 0) : u->id);
    if (exists)
        *out = bx_password_verify(PQgetvalue(res, 0, 1), u->password) ? S_KEPT_DEMO : S_KEPT_OTHER;
    PQclear(res);
    if (exists)
        return 0;
    *out = S_CREATED;
    char *hash = bx_password_hash(u->password);
    if (!hash) {
        bxctl_err(S_CMD, "could not hash the demo password of %s", u->email);
        return -1;
    }
    const char *p[6] = {u->id, u->email, hash, u->first, u->last, u->role};
    res = s_exec(c,
                 "INSERT INTO users (id, email, password_hash, first_name, last_name, role) "
                 "VALUES ($1, $2, $3, $4, $5, $6)",
                 6, p);
    free(hash);
    int ok = res != NULL;
    PQclear(res);
    return ok ? 0 : -1;
}

static int s_org(PGconn *c, const char *owner_id)
{
    const char *p[2] = {S_ORG_ID, S_ORG_NAME};
    PGresult *res = s_exec(
        c, "INSERT INTO organizations (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", 2,
        p);
    if (!res)
        return -1;
    PQclear(res);
    const char *m[2] = {S_ORG_ID, owner_id};
    res =
        s_exec(c,
               "INSERT INTO organization_members (org_id, user_id, role) VALUES ($1, $2, 'owner') "
               "ON CONFLICT DO NOTHING",
               2, m);
    int ok = res != NULL;
    PQclear(res);
    return ok ? 0 : -1;
}

static int s_seed(bx_pg_t *pg, s_outcome_t outcome[S_NUSERS])
{
    PGconn *c = bx_pg_conn(pg);
    char ids[S_NUSERS][37];
    for (size_t i = 0; i < S_NUSERS; i++)
        if (s_user(c, &s_users[i], ids[i], &outcome[i]))
            return -1;
    return s_org(c, ids[S_PARTNER]);
}

/* Reads [--events N]: how many benchmark events to have (0: none). Returns 0 or -1. */
static int s_args(int argc, char **argv, long *events)
{
    *events = 0;
    if (argc == 1)
        return 0;
    if (argc == 3 && !strcmp(argv[1], "--events") &&
        bx_parse_long(argv[2], 1, 10000000, events) == BX_OK)
        return 0;
    bxctl_err(S_CMD, "usage: bxctl seed [--events N] (N from 1 to 10000000)");
    return -1;
}

int bxctl_seed(int argc, char **argv)
{
    long events;
    if (s_args(argc, argv, &events))
        return BXCTL_USAGE;
    bx_pg_t *pg = bxctl_pg_connect();
    if (!pg)
        return BXCTL_FAIL;
    s_outcome_t outcome[S_NUSERS] = {S_CREATED};
    int ok = bx_pg_begin(pg) == BX_OK && s_seed(pg, outcome) == 0 && bx_pg_commit(pg) == BX_OK;
    if (!ok) {
        if (*bx_pg_error(pg))
            bxctl_err(S_CMD, "could not load demo data: %s", bx_pg_error(pg));
        bx_pg_rollback(pg);
        bx_pg_destroy(&pg);
        return BXCTL_FAIL;
    }
    bx_pg_destroy(&pg);
    if (bxctl_demo_seed(S_ORG_ID, events))
        return BXCTL_FAIL;
    printf("demo organization: %s (id %s), owned by %s\n", S_ORG_NAME, S_ORG_ID,
           s_users[S_PARTNER].email);
    printf("demo accounts (public demo passwords: local use only):\n");
    for (size_t i = 0; i < S_NUSERS; i++)
        printf("  %-9s %-26s password: %s%s\n", s_users[i].role, s_users[i].email,
               s_users[i].password,
               outcome[i] == S_KEPT_OTHER ? "  (not this: the email belongs to an existing account)"
                                          : "");
    return BXCTL_OK;
}
