/* test_password: argon2id hashing, verification, tamper resistance, rehash detection and
 * the password policy (bx_password). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_password.h"
#include "bx_suite.h"
#include "bx_util.h"

static const char *const s_pw = "correct horse battery staple";

START_TEST(hash_is_owasp_argon2id_phc)
{
    char *phc = bx_password_hash(s_pw);
    ck_assert_ptr_nonnull(phc);
    ck_assert_int_eq(strncmp(phc, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
    /* 16-byte salt and 32-byte tag in unpadded base64 */
    const char *salt = phc + 31, *tag = strchr(salt, '$');
    ck_assert_ptr_nonnull(tag);
    ck_assert_int_eq((int)(tag - salt), 22);
    ck_assert_int_eq((int)strlen(tag + 1), 43);
    ck_assert_ptr_null(strstr(phc, s_pw));
    free(phc);
}
END_TEST

START_TEST(same_password_gets_a_fresh_salt)
{
    char *a = bx_password_hash(s_pw), *b = bx_password_hash(s_pw);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(bx_password_verify(a, s_pw), 1);
    ck_assert_int_eq(bx_password_verify(b, s_pw), 1);
    free(a);
    free(b);
}
END_TEST

START_TEST(wrong_password_is_refused)
{
    char *phc = bx_password_hash(s_pw);
    ck_assert_int_eq(bx_password_verify(phc, "correct horse battery stapl"), 0);
    ck_assert_int_eq(bx_password_verify(phc, "Correct horse battery staple"), 0);
    ck_assert_int_eq(bx_password_verify(phc, ""), 0);
    ck_assert_int_eq(bx_password_verify(phc, NULL), 0);
    ck_assert_int_eq(bx_password_verify(NULL, s_pw), 0);
    free(phc);
}
END_TEST

/* Replaces the character at i with another of the same base64 alphabet. */
static void s_flip(char *s, size_t i)
{
    s[i] = s[i] == 'A' ? 'B' : 'A';
}

START_TEST(tampered_phc_is_refused)
{
    char *phc = bx_password_hash(s_pw);
    size_t n = strlen(phc);
    char *t = strdup(phc);
    s_flip(t, n - 5); /* tag */
    ck_assert_int_eq(bx_password_verify(t, s_pw), 0);
    memcpy(t, phc, n + 1);
    s_flip(t, 35); /* salt */
    ck_assert_int_eq(bx_password_verify(t, s_pw), 0);
    memcpy(t, phc, n + 1);
    t[20] = '8'; /* m=19456 -> m=19486: another cost gives another tag */
    ck_assert_int_eq(bx_password_verify(t, s_pw), 0);
    memcpy(t, phc, n + 1);
    t[n - 10] = '\0'; /* truncated */
    ck_assert_int_eq(bx_password_verify(t, s_pw), 0);
    memcpy(t, phc, n + 1);
    memcpy(t, "$argon2i$", 9); /* another variant */
    ck_assert_int_eq(bx_password_verify(t, s_pw), 0);
    free(t);
    free(phc);
}
END_TEST

START_TEST(hostile_cost_and_garbage_are_refused_without_hashing)
{
    /* 4 GiB of memory would take the process down if it were honoured */
    ck_assert_int_eq(bx_password_verify("$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
                                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                        s_pw),
                     0);
    ck_assert_int_eq(
        bx_password_verify("$argon2id$v=19$m=19456,t=100000,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
                           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                           s_pw),
        0);
    ck_assert_int_eq(bx_password_verify("$argon2id$v=19$m=19456,t=2,p=0$c2FsdHNhbHRzYWx0c2FsdA$"
                                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                        s_pw),
                     0);
    ck_assert_int_eq(bx_password_verify("$argon2id$v=16$m=19456,t=2,p=1$c2FsdA$AAAA", s_pw), 0);
    ck_assert_int_eq(bx_password_verify("$argon2id$v=19$m=-1,t=2,p=1$c2FsdA$AAAA", s_pw), 0);
    ck_assert_int_eq(bx_password_verify("$argon2id$v=19$m=99999999999,t=2,p=1$c2FsdA$AAAA", s_pw),
                     0);
    ck_assert_int_eq(bx_password_verify("", s_pw), 0);
    ck_assert_int_eq(bx_password_verify("plaintext", "plaintext"), 0);
    ck_assert_int_eq(bx_password_verify("$2b$12$abcdefghijklmnopqrstuu", s_pw), 0);
}
END_TEST

START_TEST(old_parameters_still_verify_and_ask_for_rehash)
{
    ck_assert_int_eq(bx_config_set("argon2_memory_kib", "8192"), BX_OK);
    ck_assert_int_eq(bx_config_set("argon2_iterations", "1"), BX_OK);
    char *old = bx_password_hash(s_pw);
    ck_assert_int_eq(strncmp(old, "$argon2id$v=19$m=8192,t=1,p=1$", 30), 0);
    ck_assert_int_eq(bx_password_needs_rehash(old), 0);
    ck_assert_int_eq(bx_config_set("argon2_memory_kib", "19456"), BX_OK);
    ck_assert_int_eq(bx_config_set("argon2_iterations", "2"), BX_OK);
    ck_assert_int_eq(bx_password_verify(old, s_pw), 1);
    ck_assert_int_eq(bx_password_needs_rehash(old), 1);
    char *fresh = bx_password_hash(s_pw);
    ck_assert_int_eq(bx_password_needs_rehash(fresh), 0);
    ck_assert_int_eq(bx_password_needs_rehash("garbage"), 1);
    ck_assert_int_eq(bx_password_needs_rehash(NULL), 1);
    free(old);
    free(fresh);
}
END_TEST

START_TEST(oversized_input_is_not_hashed)
{
    char big[BX_PASSWORD_MAX_BYTES + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_ptr_null(bx_password_hash(big));
    ck_assert_ptr_null(bx_password_hash(NULL));
}
END_TEST

/* One policy case: password, email, expected result. */
typedef struct {
    const char *pw;
    const char *email;
    bx_err_t want;
} s_policy_case_t;

static const s_policy_case_t s_policy_cases[] = {
    {"correct horse", NULL, BX_OK},
    {"8chars!!", NULL, BX_OK},
    {"7chars!", NULL, BX_EINVAL},
    {"", NULL, BX_EINVAL},
    {"password", NULL, BX_EINVAL},
    {"PassWord1", NULL, BX_EINVAL},
    {"12345678", NULL, BX_EINVAL},
    {"qwertyuiop", NULL, BX_EINVAL},
    {"zzzzzzzzzzzz", NULL, BX_EINVAL},
    {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x", NULL, BX_OK}, /* 8 code points */
    {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL, BX_EINVAL}, /* 7 */
    {"abc\xff\xfe"
     "defgh",
     NULL, BX_EINVAL}, /* not UTF-8 */
    {"ana.lovelace@example.org", "Ana.Lovelace@example.org", BX_EINVAL},
    {"ana.lovelace", "ana.lovelace@example.org", BX_EINVAL},
    {"ana.lovelace!", "ana.lovelace@example.org", BX_OK},
};

START_TEST(policy_cases)
{
    const s_policy_case_t *c = &s_policy_cases[_i];
    const char *why = NULL;
    bx_err_t got = bx_password_policy(c->pw, c->email, &why);
    ck_assert_msg(got == c->want, "case %d: got %d want %d", _i, got, c->want);
    ck_assert(got == BX_OK ? why == NULL : why != NULL);
}
END_TEST

START_TEST(policy_length_bounds_count_code_points)
{
    char buf[4 * 130 + 1];
    size_t o = 0;
    /* 128 four-byte code points (512 bytes) pass, 129 do not */
    for (int i = 0; i < 128; i++, o += 4)
        memcpy(buf + o, "\xf0\x9f\x8e\xab", 4);
    buf[o] = '\0';
    ck_assert_int_eq(bx_password_policy(buf, NULL, NULL), BX_OK);
    char *phc = bx_password_hash(buf);
    ck_assert_ptr_nonnull(phc);
    ck_assert_int_eq(bx_password_verify(phc, buf), 1);
    free(phc);
    memcpy(buf + o, "\xf0\x9f\x8e\xab", 4);
    buf[o + 4] = '\0';
    ck_assert_int_eq(bx_password_policy(buf, NULL, NULL), BX_EINVAL);
    ck_assert_int_eq(bx_password_policy(NULL, NULL, NULL), BX_EINVAL);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("password");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, hash_is_owasp_argon2id_phc);
    tcase_add_test(tc, same_password_gets_a_fresh_salt);
    tcase_add_test(tc, wrong_password_is_refused);
    tcase_add_test(tc, tampered_phc_is_refused);
    tcase_add_test(tc, hostile_cost_and_garbage_are_refused_without_hashing);
    tcase_add_test(tc, old_parameters_still_verify_and_ask_for_rehash);
    tcase_add_test(tc, oversized_input_is_not_hashed);
    tcase_add_loop_test(tc, policy_cases, 0,
                        (int)(sizeof s_policy_cases / sizeof s_policy_cases[0]));
    tcase_add_test(tc, policy_length_bounds_count_code_points);
    suite_add_tcase(s, tc);
    return s;
}
