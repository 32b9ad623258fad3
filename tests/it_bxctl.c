/* it_bxctl: the operator command's other subcommands: keygen writes a private Ed25519 key
 * only its owner can read, named by the key id the JWT code derives; seed loads the demo
 * accounts once, with argon2id hashes that verify; bad usage exits 2. */
#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bx_config.h"
#include "bx_harness.h"
#include "bx_password.h"
#include "bx_suite.h"
#include "bx_util.h"

/* Runs "bxctl a1 [a2]" with one extra environment entry (may be NULL); output appended to
 * log. Returns the exit status. */
static int s_bxctl(const char *env, const char *log, const char *a1, const char *a2)
{
    const char *envv[] = {env, NULL};
    const char *argv[] = {NULL, a1, a2, NULL};
    pid_t pid = bx_h_spawn(bx_h_bin("bxctl"), argv, env ? envv : NULL, log);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Lists jwt-*.pem in dir: returns how many and copies the last name into name. */
static int s_keys(const char *dir, char *name, size_t cap)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        if (!strncmp(e->d_name, "jwt-", 4) && strstr(e->d_name, ".pem")) {
            snprintf(name, cap, "%s", e->d_name);
            n++;
        }
    }
    closedir(d);
    return n;
}

/* A fresh folder below the test's working directory for the keys. */
static void s_key_dir(char *dir, size_t cap)
{
    char base[] = "it_bxctl.keys.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(base));
    snprintf(dir, cap, "%s/keys", base); /* keygen must create the last level itself */
}

START_TEST(keygen_writes_private_ed25519_key)
{
    char dir[128], env[256], name[256], path[512];
    s_key_dir(dir, sizeof dir);
    snprintf(env, sizeof env, "BOXOFFICE_JWT_KEY_DIR=%s", dir);
    ck_assert_int_eq(s_bxctl(env, "it_bxctl.keygen.log", "keygen", NULL), 0);
    ck_assert_int_eq(s_keys(dir, name, sizeof name), 1);
    snprintf(path, sizeof path, "%s/%s", dir, name);

    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0077, 0);

    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(pk);
    ck_assert_int_eq(EVP_PKEY_get_id(pk), EVP_PKEY_ED25519);
    unsigned char pub[32];
    size_t len = sizeof pub;
    ck_assert_int_eq(EVP_PKEY_get_raw_public_key(pk, pub, &len), 1);
    EVP_PKEY_free(pk);
    char hex[65], want[64];
    bx_sha256_hex(pub, len, hex);
    snprintf(want, sizeof want, "jwt-%.16s.pem", hex);
    ck_assert_str_eq(name, want);
}
END_TEST

START_TEST(keygen_if_missing_keeps_the_key_and_plain_keygen_adds_one)
{
    char dir[128], env[256], first[256], name[256];
    s_key_dir(dir, sizeof dir);
    snprintf(env, sizeof env, "BOXOFFICE_JWT_KEY_DIR=%s", dir);
    ck_assert_int_eq(s_bxctl(env, "it_bxctl.keygen.log", "keygen", "--if-missing"), 0);
    ck_assert_int_eq(s_keys(dir, first, sizeof first), 1);
    ck_assert_int_eq(s_bxctl(env, "it_bxctl.keygen.log", "keygen", "--if-missing"), 0);
    ck_assert_int_eq(s_keys(dir, name, sizeof name), 1);
    ck_assert_str_eq(name, first);
    ck_assert_int_eq(s_bxctl(env, "it_bxctl.keygen.log", "keygen", NULL), 0);
    ck_assert_int_eq(s_keys(dir, name, sizeof name), 2); /* rotation: old key kept */
}
END_TEST

static void s_assert_sql(const char *dsn, const char *sql, const char *want)
{
    char *got = bx_h_sql(dsn, sql);
    ck_assert_msg(got && !strcmp(got, want), "%s: got %s, want %s", sql, got ? got : "NULL", want);
    free(got);
}

static void s_assert_password(const char *dsn, const char *email, const char *pw)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT password_hash FROM users WHERE email = '%s'", email);
    char *hash = bx_h_sql(dsn, sql);
    ck_assert_ptr_nonnull(hash);
    ck_assert_msg(!strncmp(hash, "$argon2id$", 10), "not argon2id: %.12s", hash);
    ck_assert_msg(bx_password_verify(hash, pw), "demo password of %s does not verify", email);
    ck_assert(!bx_password_verify(hash, "wrong-password"));
    free(hash);
}

START_TEST(seed_twice_loads_demo_data_once)
{
    const char *dsn = bx_h_db("it_bxctl_seed");
    char env[512];
    snprintf(env, sizeof env, "BOXOFFICE_PG_DSN=%s", dsn);
    ck_assert_int_eq(s_bxctl(env, "it_bxctl.seed.log", "seed", NULL), 0);
    char *first = bx_h_sql(dsn, "SELECT string_agg(id::text || password_hash, ',' ORDER BY id) "
                                "FROM users");
    ck_assert_ptr_nonnull(first);
    ck_assert_int_eq(s_bxctl(env, "it_bxctl.seed.log", "seed", NULL), 0);

    s_assert_sql(dsn, "SELECT count(*) FROM organizations", "1");
    s_assert_sql(dsn, "SELECT count(*) FROM users", "3");
    s_assert_sql(dsn, "SELECT string_agg(role || ':' || email, ',' ORDER BY email) FROM users",
                 "admin:admin@boxoffice.test,customer:customer@boxoffice.test,"
                 "partner:partner@boxoffice.test");
    s_assert_sql(dsn,
                 "SELECT u.email || ':' || m.role FROM organization_members m JOIN users u ON "
                 "u.id = m.user_id",
                 "partner@boxoffice.test:owner");
    /* The second run rewrote nothing. */
    s_assert_sql(dsn, "SELECT string_agg(id::text || password_hash, ',' ORDER BY id) FROM users",
                 first);
    free(first);

    ck_assert_int_eq(bx_config_load(), BX_OK);
    s_assert_password(dsn, "admin@boxoffice.test", "demo-admin-password");
    s_assert_password(dsn, "partner@boxoffice.test", "demo-partner-password");
    s_assert_password(dsn, "customer@boxoffice.test", "demo-customer-password");
}
END_TEST

START_TEST(seed_keeps_an_existing_account)
{
    const char *dsn = bx_h_db("it_bxctl_seed_existing");
    char *taken = bx_h_sql(dsn, "INSERT INTO users (id, email, password_hash, role) VALUES "
                                "('01900000-0000-7000-8000-0000000000ff', "
                                "'Admin@BoxOffice.test', 'x', 'customer') RETURNING id");
    ck_assert_ptr_nonnull(taken);
    free(taken);
    char env[512];
    snprintf(env, sizeof env, "BOXOFFICE_PG_DSN=%s", dsn);
    ck_assert_int_eq(s_bxctl(env, "it_bxctl.seed.log", "seed", NULL), 0);
    s_assert_sql(dsn,
                 "SELECT role || ':' || password_hash FROM users WHERE lower(email) = "
                 "'admin@boxoffice.test'",
                 "customer:x");
    s_assert_sql(dsn, "SELECT count(*) FROM users", "3");
}
END_TEST

START_TEST(usage_errors_exit_2)
{
    ck_assert_int_eq(s_bxctl(NULL, "it_bxctl.usage.log", "no-such-command", NULL), 2);
    ck_assert_int_eq(s_bxctl(NULL, "it_bxctl.usage.log", "keygen", "--bogus"), 2);
    ck_assert_int_eq(s_bxctl(NULL, "it_bxctl.usage.log", "seed", "extra"), 2);
    ck_assert_int_eq(s_bxctl(NULL, "it_bxctl.usage.log", "help", NULL), 0);
    ck_assert_int_eq(s_bxctl("BOXOFFICE_HTTP_PORT=nope", "it_bxctl.usage.log", "keygen", NULL), 1);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("bxctl");
    TCase *tc = tcase_create("bxctl");
    tcase_add_test(tc, keygen_writes_private_ed25519_key);
    tcase_add_test(tc, keygen_if_missing_keeps_the_key_and_plain_keygen_adds_one);
    tcase_add_test(tc, seed_twice_loads_demo_data_once);
    tcase_add_test(tc, seed_keeps_an_existing_account);
    tcase_add_test(tc, usage_errors_exit_2);
    suite_add_tcase(s, tc);
    return s;
}
