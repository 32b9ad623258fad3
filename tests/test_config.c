/* test_config: defaults, then the file, then BOXOFFICE_* variables; every bad value is
 * refused at load with the key named; secrets never printed. Each test runs in its own
 * process (Check's fork mode), so environment changes do not leak between tests. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_suite.h"

static char s_file[64];

static void setup(void)
{
    unsetenv("BOXOFFICE_CONFIG");
    unsetenv("BOXOFFICE_HTTP_PORT");
    unsetenv("BOXOFFICE_REDIS_HOST");
    unsetenv("BOXOFFICE_PG_DSN");
    unsetenv("BOXOFFICE_LOG_LEVEL");
    s_file[0] = '\0';
}

static void teardown(void)
{
    if (s_file[0])
        unlink(s_file);
    setup();
}

/* Writes text to a new temporary config file and points BOXOFFICE_CONFIG at it. */
static void s_config_file(const char *text)
{
    snprintf(s_file, sizeof s_file, "/tmp/bx-test-config-XXXXXX");
    int fd = mkstemp(s_file);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    setenv("BOXOFFICE_CONFIG", s_file, 1);
}

START_TEST(defaults_load)
{
    ck_assert_int_eq(bx_config_load(), BX_OK);
    ck_assert_int_eq(bx_config_int("http_port"), 8080);
    ck_assert_str_eq(bx_config_str("http_bind"), "127.0.0.1");
    ck_assert_int_eq(bx_config_int("redis_port"), 16379);
    ck_assert_str_eq(bx_config_str("log_level"), "info");
    ck_assert_ptr_nonnull(strstr(bx_config_str("pg_dsn"), "port=15432"));
    ck_assert_int_eq(bx_config_int("argon2_memory_kib"), 19456);
}
END_TEST

START_TEST(environment_overrides_defaults)
{
    setenv("BOXOFFICE_HTTP_PORT", "9090", 1);
    setenv("BOXOFFICE_REDIS_HOST", "redis.internal", 1);
    setenv("BOXOFFICE_LOG_LEVEL", "debug", 1);
    ck_assert_int_eq(bx_config_load(), BX_OK);
    ck_assert_int_eq(bx_config_int("http_port"), 9090);
    ck_assert_str_eq(bx_config_str("redis_host"), "redis.internal");
    ck_assert_int_eq(bx_log_threshold, BX_LOG_DEBUG);
}
END_TEST

START_TEST(file_then_environment)
{
    s_config_file("# comment\n\nhttp_port=7000\nredis_host=10.1.2.3\r\nheartbeat_ms=250\n");
    setenv("BOXOFFICE_HTTP_PORT", "7100", 1);
    ck_assert_int_eq(bx_config_load(), BX_OK);
    ck_assert_int_eq(bx_config_int("http_port"), 7100); /* environment wins */
    ck_assert_str_eq(bx_config_str("redis_host"), "10.1.2.3");
    ck_assert_int_eq(bx_config_int("heartbeat_ms"), 250);
}
END_TEST

/* Bad integer values: not numbers, trailing junk, out of bounds, empty. */
static const char *const s_bad_ports[] = {
    "abc", "8080x", "0", "-1", "65536", "", "99999999999999999999", "80 80", "0x50"};

START_TEST(bad_environment_value_refused)
{
    setenv("BOXOFFICE_HTTP_PORT", s_bad_ports[_i], 1);
    ck_assert_int_eq(bx_config_load(), BX_EINVAL);
}
END_TEST

START_TEST(bad_log_level_refused)
{
    setenv("BOXOFFICE_LOG_LEVEL", "loud", 1);
    ck_assert_int_eq(bx_config_load(), BX_EINVAL);
}
END_TEST

START_TEST(bad_files_refused)
{
    s_config_file("no_such_key=1\n");
    ck_assert_int_eq(bx_config_load(), BX_EINVAL);
    unlink(s_file);
    s_config_file("http_port 8080\n");
    ck_assert_int_eq(bx_config_load(), BX_EINVAL);
    unlink(s_file);
    s_config_file("http_port=seventy\n");
    ck_assert_int_eq(bx_config_load(), BX_EINVAL);
    unlink(s_file);
    s_file[0] = '\0';
    setenv("BOXOFFICE_CONFIG", "/nonexistent/boxoffice.conf", 1);
    ck_assert_int_eq(bx_config_load(), BX_EINVAL);
}
END_TEST

START_TEST(set_checks_bounds)
{
    ck_assert_int_eq(bx_config_load(), BX_OK);
    ck_assert_int_eq(bx_config_set("http_port", "8181"), BX_OK);
    ck_assert_int_eq(bx_config_int("http_port"), 8181);
    ck_assert_int_eq(bx_config_set("http_port", "70000"), BX_EINVAL);
    ck_assert_int_eq(bx_config_int("http_port"), 8181); /* unchanged */
    ck_assert_int_eq(bx_config_set("no_such_key", "1"), BX_EINVAL);
    ck_assert_int_eq(bx_config_set("http_port", NULL), BX_EINVAL);
}
END_TEST

START_TEST(secrets_are_never_printed)
{
    setenv("BOXOFFICE_PG_DSN", "host=db password=hunter2-very-secret", 1);
    ck_assert_int_eq(bx_config_load(), BX_OK);
    ck_assert_str_eq(bx_config_str("pg_dsn"), "host=db password=hunter2-very-secret");
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    bx_config_log();
    dup2(saved, STDERR_FILENO);
    close(saved);
    char buf[16384] = {0};
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof buf - 1, tmp);
    fclose(tmp);
    ck_assert_uint_gt(n, 0);
    ck_assert_msg(!strstr(buf, "hunter2"), "secret printed: %s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "pg_dsn=[redacted]"));
    ck_assert_ptr_nonnull(strstr(buf, "http_port=8080"));
}
END_TEST

START_TEST(unknown_key_is_a_programmer_error)
{
    ck_assert_int_eq(bx_config_load(), BX_OK);
    (void)bx_config_str("no_such_key");
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults_load);
    tcase_add_test(tc, environment_overrides_defaults);
    tcase_add_test(tc, file_then_environment);
    tcase_add_loop_test(tc, bad_environment_value_refused, 0,
                        (int)(sizeof s_bad_ports / sizeof s_bad_ports[0]));
    tcase_add_test(tc, bad_log_level_refused);
    tcase_add_test(tc, bad_files_refused);
    tcase_add_test(tc, set_checks_bounds);
    tcase_add_test(tc, secrets_are_never_printed);
    tcase_add_test_raise_signal(tc, unknown_key_is_a_programmer_error, SIGABRT);
    suite_add_tcase(s, tc);
    return s;
}
