/* bxctl create-admin: creates the first admin account, or makes an existing account an
 * admin with the given password. The password comes from a file (--password-file F, "-"
 * for standard input) or from BOXOFFICE_ADMIN_PASSWORD, never from the command line,
 * where every user of the machine could read it in ps. */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_json.h"
#include "bx_password.h"
#include "bx_util.h"
#include "bxctl.h"

#define S_PW_CAP 1024 /* longest password file read, in bytes */

static const char *const S_CMD = "create-admin";

static const bx_jfield_t s_email_schema[] = {
    {.name = "email", .type = BX_JT_STRING, .required = 1, .max = 254, .format = BX_FMT_EMAIL},
    {0},
};

static int s_usage(void)
{
    fprintf(stderr,
            "usage: bxctl create-admin --email EMAIL [--password-file FILE|-]\n"
            "  without --password-file the password is read from BOXOFFICE_ADMIN_PASSWORD\n");
    return BXCTL_USAGE;
}

/* Reads the first line of path ("-": standard input) into pw (cap S_PW_CAP). */
static int s_read_file(const char *path, char *pw)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        bxctl_err(S_CMD, "could not open password file %s: %s", path, strerror(errno));
        return 0;
    }
    int ok = fgets(pw, S_PW_CAP, f) != NULL;
    if (f != stdin)
        fclose(f);
    if (!ok) {
        bxctl_err(S_CMD, "password file %s is empty", path);
        return 0;
    }
    pw[strcspn(pw, "\r\n")] = '\0';
    return 1;
}

/* Fills pw from the file or the environment. */
static int s_password(const char *file, char *pw)
{
    const char *env = getenv("BOXOFFICE_ADMIN_PASSWORD");
    if (file)
        return s_read_file(file, pw);
    if (!env || !*env) {
        bxctl_err(S_CMD, "no password: use --password-file or BOXOFFICE_ADMIN_PASSWORD");
        return 0;
    }
    if (strlen(env) >= S_PW_CAP) {
        bxctl_err(S_CMD, "BOXOFFICE_ADMIN_PASSWORD is too long");
        return 0;
    }
    bx_strlcpy(pw, env, S_PW_CAP);
    return 1;
}

/* 1 when email is an address the API would accept. */
static int s_email_ok(const char *email)
{
    json_t *errors = NULL, *obj = json_pack("{s:s}", "email", email);
    int ok = obj && bx_json_validate(obj, s_email_schema, &errors) == BX_OK;
    json_decref(errors);
    json_decref(obj);
    return ok;
}

/* Stores the admin and audits it. */
static int s_store(const char *email, const char *hash)
{
    char id[BX_UUID_LEN + 1];
    bx_err_t err;
    bx_pg_t *pg = bx_pg_new(bx_config_str("pg_dsn"), 1);
    if (!pg) {
        bxctl_err(S_CMD,
                  "could not connect to postgresql (is the schema migrated? run bxctl migrate)");
        return BXCTL_FAIL;
    }
    bx_uuid_v7(id);
    const char *p[] = {id, email, hash};
    PGresult *res = bx_pg_query(pg, "admin_upsert", 3, p, &err);
    int rc = BXCTL_FAIL;
    if (res && PQntuples(res) == 1) {
        int created = !strcmp(bx_pg_val(res, 0, 1), "t");
        const char *a[] = {"user.create_admin", bx_pg_val(res, 0, 0), created ? "true" : "false"};
        if (bx_pg_run(pg, "admin_audit", 3, a) != BX_OK)
            bxctl_err(S_CMD, "could not write the audit record: %s", bx_pg_error(pg));
        printf("admin %s %s (id %s)\n", email, created ? "created" : "updated",
               bx_pg_val(res, 0, 0));
        rc = BXCTL_OK;
    } else {
        bxctl_err(S_CMD, "could not store the admin: %s", bx_pg_error(pg));
    }
    PQclear(res);
    bx_pg_destroy(&pg);
    return rc;
}

/* Parses the options into *email and *file. Returns 1 when they are usable. */
static int s_args(int argc, char **argv, const char **email, const char **file)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--email") && i + 1 < argc) {
            *email = argv[++i];
        } else if (!strcmp(argv[i], "--password-file") && i + 1 < argc) {
            *file = argv[++i];
        } else if (!strcmp(argv[i], "--password")) {
            bxctl_err(S_CMD, "--password is not accepted: the command line is visible to every "
                             "user in ps; use --password-file or BOXOFFICE_ADMIN_PASSWORD");
            return 0;
        } else {
            bxctl_err(S_CMD, "unknown or incomplete option %s", argv[i]);
            return 0;
        }
    }
    if (!*email) {
        bxctl_err(S_CMD, "--email is required");
        return 0;
    }
    return 1;
}

int bxctl_create_admin(int argc, char **argv)
{
    const char *email = NULL, *file = NULL, *why = NULL;
    char pw[S_PW_CAP];
    int rc = BXCTL_FAIL;
    char *hash = NULL;
    if (!s_args(argc, argv, &email, &file))
        return s_usage();
    if (!s_email_ok(email)) {
        bxctl_err(S_CMD, "%s is not a valid email address", email);
        return BXCTL_USAGE;
    }
    if (!s_password(file, pw))
        return BXCTL_FAIL;
    if (bx_password_policy(pw, email, &why) != BX_OK) {
        bxctl_err(S_CMD, "%s", why);
        goto out;
    }
    if (!(hash = bx_password_hash(pw))) {
        bxctl_err(S_CMD, "could not hash the password");
        goto out;
    }
    rc = s_store(email, hash);
out:
    OPENSSL_cleanse(pw, sizeof pw);
    free(hash);
    return rc;
}
