/* test_err: the error enum's names, HTTP statuses, problem types and SQLSTATE mapping
 * stay stable: clients and dashboards depend on them. */
#include <stdio.h>
#include <string.h>

#include "bx_err.h"
#include "bx_suite.h"

#define S_PREFIX "https://boxoffice.dev/problems/"

typedef struct {
    bx_err_t err;     /* the error */
    int status;       /* its HTTP status */
    const char *slug; /* last segment of its problem type */
} s_case_t;

static const s_case_t s_cases[] = {
    {BX_OK, 200, "ok"},
    {BX_EINVAL, 400, "validation-failed"},
    {BX_EMALFORMED, 400, "malformed-body"},
    {BX_EUNAUTHORIZED, 401, "unauthorized"},
    {BX_EFORBIDDEN, 403, "forbidden"},
    {BX_ENOTFOUND, 404, "not-found"},
    {BX_EMETHOD, 405, "method-not-allowed"},
    {BX_ENOTACCEPTABLE, 406, "not-acceptable"},
    {BX_ECONFLICT, 409, "conflict"},
    {BX_EGONE, 410, "gone"},
    {BX_EPRECONDITION, 412, "precondition-failed"},
    {BX_ETOOLARGE, 413, "payload-too-large"},
    {BX_EMEDIATYPE, 415, "unsupported-media-type"},
    {BX_EUNPROCESSABLE, 422, "unprocessable"},
    {BX_ERATELIMIT, 429, "rate-limited"},
    {BX_EINTERNAL, 500, "internal"},
    {BX_EUNAVAILABLE, 503, "unavailable"},
    {BX_ETIMEOUT, 504, "timeout"},
    {BX_ERETRY, 503, "unavailable"},
    {BX_ENOMEM, 500, "internal"},
};
#define S_NCASES (sizeof s_cases / sizeof s_cases[0])

START_TEST(every_error_has_status_and_problem_type)
{
    ck_assert_int_eq(S_NCASES, BX_ERR_COUNT);
    const s_case_t *c = &s_cases[_i];
    char want[128];
    snprintf(want, sizeof want, "%s%s", S_PREFIX, c->slug);
    ck_assert_int_eq(bx_err_http_status(c->err), c->status);
    ck_assert_str_eq(bx_err_problem_type(c->err), want);
    ck_assert_ptr_nonnull(bx_err_str(c->err));
    ck_assert_ptr_nonnull(bx_err_title(c->err));
    ck_assert_int_gt(strlen(bx_err_str(c->err)), 0);
    ck_assert_int_gt(strlen(bx_err_title(c->err)), 0);
}
END_TEST

START_TEST(names_are_lower_case_and_distinct)
{
    for (int i = 0; i < BX_ERR_COUNT; i++) {
        const char *s = bx_err_str((bx_err_t)i);
        for (const char *p = s; *p; p++)
            ck_assert_msg(!(*p >= 'A' && *p <= 'Z'), "upper case in %s", s);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(s, bx_err_str((bx_err_t)j));
    }
}
END_TEST

START_TEST(out_of_range_maps_to_internal)
{
    ck_assert_int_eq(bx_err_http_status((bx_err_t)-1), 500);
    ck_assert_int_eq(bx_err_http_status(BX_ERR_COUNT), 500);
    ck_assert_int_eq(bx_err_http_status((bx_err_t)9999), 500);
    ck_assert_str_eq(bx_err_problem_type((bx_err_t)9999), S_PREFIX "internal");
    ck_assert_str_eq(bx_err_str((bx_err_t)-7), bx_err_str(BX_EINTERNAL));
    ck_assert_str_eq(bx_err_title(BX_ERR_COUNT), bx_err_title(BX_EINTERNAL));
}
END_TEST

typedef struct {
    const char *sqlstate; /* input */
    bx_err_t want;        /* mapping */
} s_sql_case_t;

static const s_sql_case_t s_sql[] = {
    {"23505", BX_ECONFLICT},    /* unique_violation */
    {"23P01", BX_ECONFLICT},    /* exclusion_violation */
    {"40001", BX_ERETRY},       /* serialization_failure */
    {"40P01", BX_ERETRY},       /* deadlock_detected */
    {"55P03", BX_ERETRY},       /* lock_not_available */
    {"23502", BX_EINVAL},       /* not_null_violation */
    {"23503", BX_EINVAL},       /* foreign_key_violation */
    {"23514", BX_EINVAL},       /* check_violation */
    {"22P02", BX_EINVAL},       /* invalid_text_representation */
    {"22001", BX_EINVAL},       /* string_data_right_truncation */
    {"57014", BX_ETIMEOUT},     /* query_canceled (statement_timeout) */
    {"08006", BX_EUNAVAILABLE}, /* connection_failure */
    {"08001", BX_EUNAVAILABLE}, /* unable to connect */
    {"57P01", BX_EUNAVAILABLE}, /* admin_shutdown */
    {"57P03", BX_EUNAVAILABLE}, /* cannot_connect_now */
    {"42P01", BX_EINTERNAL},    /* undefined_table: a bug, not the client's fault */
    {"XX000", BX_EINTERNAL},    /* internal_error */
    {"", BX_EINTERNAL},         /* empty */
    {"2350", BX_EINTERNAL},     /* too short */
    {"235050", BX_EINTERNAL},   /* too long */
    {NULL, BX_EINTERNAL},       /* absent */
};

START_TEST(sqlstate_mapping)
{
    const s_sql_case_t *c = &s_sql[_i];
    ck_assert_msg(bx_err_from_sqlstate(c->sqlstate) == c->want, "sqlstate %s mapped to %s",
                  c->sqlstate ? c->sqlstate : "(null)",
                  bx_err_str(bx_err_from_sqlstate(c->sqlstate)));
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("err");
    TCase *tc = tcase_create("err");
    tcase_add_loop_test(tc, every_error_has_status_and_problem_type, 0, (int)S_NCASES);
    tcase_add_test(tc, names_are_lower_case_and_distinct);
    tcase_add_test(tc, out_of_range_maps_to_internal);
    tcase_add_loop_test(tc, sqlstate_mapping, 0, (int)(sizeof s_sql / sizeof s_sql[0]));
    suite_add_tcase(s, tc);
    return s;
}
