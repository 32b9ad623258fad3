/* test_ticket: the signed ticket payload (bx_ticket): round trip, size, and every way a
 * payload can be wrong (tampered body or signature, another key, truncation, garbage);
 * and the money display used in ticket messages (bx_money). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bx_money.h"
#include "bx_suite.h"
#include "bx_ticket.h"

static bx_ticket_claims_t s_claims(const char *seat)
{
    bx_ticket_claims_t c = {.serial = 3, .issued = 1795000000};
    strcpy(c.ticket_id, "019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b");
    strcpy(c.event_id, "019ab3c4-0000-7000-8000-00000000e0e0");
    strcpy(c.seat, seat);
    return c;
}

START_TEST(sign_then_verify_round_trips)
{
    bx_ticket_key_t *key = bx_ticket_key_generate();
    bx_ticket_claims_t c = s_claims("MAIN-A10"), got;
    char *p = bx_ticket_sign(key, &c);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_lt(strlen(p), 200);
    ck_assert(!strncmp(p, "BX1.", 4));
    ck_assert_int_eq(bx_ticket_verify(key, p, &got), BX_OK);
    ck_assert_str_eq(got.ticket_id, c.ticket_id);
    ck_assert_str_eq(got.event_id, c.event_id);
    ck_assert_str_eq(got.seat, "MAIN-A10");
    ck_assert_int_eq(got.serial, 3);
    ck_assert_int_eq(got.issued, 1795000000);
    ck_assert_str_eq(got.kid, bx_ticket_key_kid(key));
    free(p);
    bx_ticket_key_destroy(&key);
    ck_assert_ptr_null(key);
}
END_TEST

START_TEST(pem_and_public_forms_verify_the_same)
{
    bx_ticket_key_t *key = bx_ticket_key_generate();
    char *pem = bx_ticket_key_pem(key);
    bx_ticket_key_t *again = bx_ticket_key_from_pem(pem);
    bx_ticket_key_t *pub = bx_ticket_key_from_public(bx_ticket_key_public(key), bx_ticket_key_kid(key));
    bx_ticket_claims_t c = s_claims("GA");
    char *p = bx_ticket_sign(again, &c);
    ck_assert_str_eq(bx_ticket_key_kid(again), bx_ticket_key_kid(key));
    ck_assert_int_eq(bx_ticket_verify(pub, p, NULL), BX_OK);
    ck_assert_ptr_null(bx_ticket_sign(pub, &c)); /* a public key cannot sign */
    ck_assert_ptr_null(bx_ticket_key_pem(pub));
    ck_assert_ptr_null(bx_ticket_key_from_public(bx_ticket_key_public(key), "00000000"));
    /* the JWK set form */
    json_t *jwks = json_pack("{s:[o]}", "keys", bx_ticket_key_jwk(key));
    ck_assert_int_eq(bx_ticket_verify_jwks(jwks, p, NULL), BX_OK);
    json_decref(jwks);
    free(p);
    free(pem);
    bx_ticket_key_destroy(&key);
    bx_ticket_key_destroy(&again);
    bx_ticket_key_destroy(&pub);
}
END_TEST

START_TEST(tampered_payloads_are_refused)
{
    bx_ticket_key_t *key = bx_ticket_key_generate();
    bx_ticket_claims_t c = s_claims("B7");
    char *p = bx_ticket_sign(key, &c);
    size_t n = strlen(p);
    const char *body = strchr(p + 4, '.') + 1, *sig = strrchr(p, '.') + 1;
    /* one changed character in the body (still valid base64url), in the signature */
    char *t = strdup(p);
    t[body - p + 3] = t[body - p + 3] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(bx_ticket_verify(key, t, NULL), BX_EUNAUTHORIZED);
    strcpy(t, p);
    t[sig - p + 5] = t[sig - p + 5] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(bx_ticket_verify(key, t, NULL), BX_EUNAUTHORIZED);
    /* another key, and a payload claiming the right kid under another key's signature */
    bx_ticket_key_t *other = bx_ticket_key_generate();
    ck_assert_int_eq(bx_ticket_verify(other, p, NULL), BX_ENOTFOUND);
    char *forged = bx_ticket_sign(other, &c);
    memcpy(forged + 4, bx_ticket_key_kid(key), BX_TICKET_KID_LEN);
    ck_assert_int_eq(bx_ticket_verify(key, forged, NULL), BX_EUNAUTHORIZED);
    /* truncated anywhere */
    for (size_t cut = 0; cut < n; cut++) {
        strcpy(t, p);
        t[cut] = '\0';
        ck_assert_int_ne(bx_ticket_verify(key, t, NULL), BX_OK);
    }
    free(t);
    free(forged);
    free(p);
    bx_ticket_key_destroy(&key);
    bx_ticket_key_destroy(&other);
}
END_TEST

static const char *s_garbage[] = {
    "", "BX1", "BX1.", "BX2.abcdef01.AAAA.AAAA", "BX1.ABCDEF01.AAAA.AAAA",
    "BX1.abcdef0.AAAA.AAAA", "BX1.abcdef01.AAAA", "BX1.abcdef01.A*AA.AAAA",
    "BX1.abcdef01.AAAA.AAAA.AAAA", "https://example.com/ticket",
};

START_TEST(garbage_never_parses)
{
    bx_ticket_claims_t c;
    ck_assert_int_eq(bx_ticket_parse(s_garbage[_i], &c), BX_EINVAL);
    ck_assert_int_eq(bx_ticket_parse(NULL, &c), BX_EINVAL);
}
END_TEST

START_TEST(invalid_claims_are_not_signed)
{
    bx_ticket_key_t *key = bx_ticket_key_generate();
    bx_ticket_claims_t c = s_claims("A1");
    c.serial = 0;
    ck_assert_ptr_null(bx_ticket_sign(key, &c));
    c = s_claims("");
    ck_assert_ptr_null(bx_ticket_sign(key, &c));
    c = s_claims("tab\there");
    ck_assert_ptr_null(bx_ticket_sign(key, &c));
    c = s_claims("A1");
    strcpy(c.event_id, "not-a-uuid");
    ck_assert_ptr_null(bx_ticket_sign(key, &c));
    c = s_claims("A1");
    c.issued = -1;
    ck_assert_ptr_null(bx_ticket_sign(key, &c));
    bx_ticket_key_destroy(&key);
}
END_TEST

static const struct {
    int64_t minor;
    const char *cur, *want;
} s_money[] = {
    {118000, "INR", "INR 1,180.00"}, {1200, "JPY", "\xc2\xa5" "1,200"},
    {1250, "BHD", "BHD 1.250"},      {5, "USD", "$0.05"},
    {-250, "GBP", "-\xc2\xa3" "2.50"}, {123456789, "EUR", "EUR 1,234,567.89"},
    {0, "CLF", "CLF 0.0000"},        {100, "CHF", "CHF 1.00"},
};

START_TEST(money_display_uses_the_exponent)
{
    char out[64];
    ck_assert_uint_gt(bx_money_display(s_money[_i].minor, s_money[_i].cur, out, sizeof out), 0);
    ck_assert_str_eq(out, s_money[_i].want);
    ck_assert_uint_eq(bx_money_display(s_money[_i].minor, s_money[_i].cur, out, 4), 0);
    ck_assert_str_eq(out, "");
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("ticket");
    TCase *tc = tcase_create("payload");
    tcase_add_test(tc, sign_then_verify_round_trips);
    tcase_add_test(tc, pem_and_public_forms_verify_the_same);
    tcase_add_test(tc, tampered_payloads_are_refused);
    tcase_add_loop_test(tc, garbage_never_parses, 0, (int)(sizeof s_garbage / sizeof s_garbage[0]));
    tcase_add_test(tc, invalid_claims_are_not_signed);
    suite_add_tcase(s, tc);
    TCase *m = tcase_create("money");
    tcase_add_loop_test(m, money_display_uses_the_exponent, 0,
                        (int)(sizeof s_money / sizeof s_money[0]));
    suite_add_tcase(s, m);
    return s;
}
