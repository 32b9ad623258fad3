/* test_delivery: the delivery engine's pure parts: RFC 8291 encryption against the RFC's
 * appendix A vector, VAPID tokens that OpenSSL verifies, Standard Webhooks signatures
 * against the specification's published example, the retry schedule, SSRF address rules
 * and URL checks, the template renderer, QR PNGs, unsubscribe tokens and default
 * notification preferences. */
#include <arpa/inet.h>
#include <check.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bx_dlv.h"
#include "bx_qr.h"
#include "bx_ssrf.h"
#include "bx_suite.h"
#include "bx_util.h"
#include "dlv.h"

static EVP_PKEY *s_p256(const char *priv_b64, const char *pub_b64)
{
    unsigned char priv[32], pub[65];
    ck_assert_int_eq(bx_b64url_decode(priv_b64, strlen(priv_b64), priv, sizeof priv), 32);
    ck_assert_int_eq(bx_b64url_decode(pub_b64, strlen(pub_b64), pub, sizeof pub), 65);
    BIGNUM *d = BN_bin2bn(priv, 32, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    ck_assert(EVP_PKEY_fromdata_init(ctx) == 1 &&
              EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) == 1);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(d);
    return key;
}

START_TEST(webpush_encryption_matches_rfc8291_appendix_a)
{
    static const char expected[] =
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_"
        "c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqK"
        "K6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";
    static const char plain[] = "When I grow up, I want to be a watermelon";
    EVP_PKEY *as = s_p256(
        "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8");
    unsigned char ua[65], auth[16], salt[16], *out = NULL;
    size_t len = 0;
    const char *ua_b64 =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    ck_assert_int_eq(bx_b64url_decode(ua_b64, strlen(ua_b64), ua, sizeof ua), 65);
    ck_assert_int_eq(bx_b64url_decode("BTBZMqHH6r4Tts7J_aSIgg", 22, auth, sizeof auth), 16);
    ck_assert_int_eq(bx_b64url_decode("DGv6ra1nlYgDCS1FRnbzlw", 22, salt, sizeof salt), 16);
    ck_assert_int_eq(dlv_webpush_encrypt(ua, auth, (const unsigned char *)plain, strlen(plain), as,
                                         salt, &out, &len),
                     BX_OK);
    char b64[512];
    bx_b64url_encode(out, len, b64, sizeof b64);
    ck_assert_str_eq(b64, expected);
    free(out);
    EVP_PKEY_free(as);
}
END_TEST

START_TEST(vapid_token_is_es256_verifiable)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char *jwt =
        dlv_vapid_jwt(key, "https://push.example.net", "mailto:ops@boxoffice.test", 1900000000);
    ck_assert_ptr_nonnull(jwt);
    char *d1 = strchr(jwt, '.'), *d2 = strrchr(jwt, '.');
    unsigned char raw[64], der[80], claims[256], *p = der;
    ck_assert_int_eq(bx_b64url_decode(d2 + 1, strlen(d2 + 1), raw, sizeof raw), 64);
    long n = bx_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), claims, sizeof claims - 1);
    ck_assert_int_gt(n, 0);
    claims[n] = '\0';
    ck_assert_ptr_nonnull(strstr((char *)claims, "\"aud\":\"https://push.example.net\""));
    ck_assert_ptr_nonnull(strstr((char *)claims, "\"exp\":1900000000"));
    ECDSA_SIG *sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
    int dlen = i2d_ECDSA_SIG(sig, &p);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ck_assert(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1);
    ck_assert_int_eq(
        EVP_DigestVerify(md, der, (size_t)dlen, (unsigned char *)jwt, (size_t)(d2 - jwt)), 1);
    EVP_MD_CTX_free(md);
    ECDSA_SIG_free(sig);
    free(jwt);
    EVP_PKEY_free(key);
}
END_TEST

START_TEST(webhook_signature_matches_the_standard_webhooks_example)
{
    char sig[128];
    const char *body = "{\"test\": 2432232314}";
    ck_assert_int_eq(dlv_sign_v1("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                 "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
                                 sig, sizeof sig),
                     BX_OK);
    ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    ck_assert_int_eq(dlv_sign_v1("not-a-secret", "m", 1, body, strlen(body), sig, sizeof sig),
                     BX_EINVAL);
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    char sig2[128];
    ck_assert_int_eq(dlv_sign_v1a(ed, "msg_x", 1614265330, body, strlen(body), sig2, sizeof sig2),
                     BX_OK);
    ck_assert(!strncmp(sig2, "v1a,", 4) && strlen(sig2) == 4 + 88);
    EVP_PKEY_free(ed);
}
END_TEST

START_TEST(retry_schedule_is_exponential_with_jitter_and_ends)
{
    static const int64_t base[] = {5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000};
    for (int n = 1; n <= 7; n++) {
        for (int k = 0; k < 20; k++) {
            int64_t d = dlv_backoff_ms(n, 1);
            ck_assert_msg(d >= base[n - 1] * 9 / 10 && d <= base[n - 1] * 11 / 10,
                          "attempt %d: %lld", n, (long long)d);
        }
    }
    ck_assert_int_eq(dlv_backoff_ms(8, 1), -1);
    ck_assert_int_le(dlv_backoff_ms(7, 20000), 1980);
}
END_TEST

static int s_ok(const bx_ssrf_t *p, const char *addr)
{
    struct sockaddr_storage ss = {0};
    if (strchr(addr, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        ck_assert_int_eq(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        ck_assert_int_eq(inet_pton(AF_INET, addr, &a->sin_addr), 1);
    }
    return bx_ssrf_addr_ok(p, (struct sockaddr *)&ss);
}

START_TEST(ssrf_refuses_internal_addresses_unless_allowed)
{
    char why[160];
    bx_ssrf_t *p = bx_ssrf_new("127.0.0.1/32, 10.9.0.0/16", why, sizeof why);
    ck_assert_ptr_nonnull(p);
    static const char *const blocked[] = {"127.0.0.2",
                                          "10.1.2.3",
                                          "172.16.5.4",
                                          "192.168.1.1",
                                          "100.64.0.1",
                                          "169.254.169.254",
                                          "0.0.0.0",
                                          "224.0.0.1",
                                          "255.255.255.255",
                                          "::1",
                                          "::",
                                          "fc00::1",
                                          "fd00:ec2::254",
                                          "fe80::1",
                                          "ff02::1",
                                          "::ffff:192.168.0.1",
                                          "64:ff9b::a00:1",
                                          "2002:c0a8:101::1",
                                          NULL};
    static const char *const allowed[] = {"8.8.8.8",   "1.1.1.1",  "2001:4860:4860::8888",
                                          "127.0.0.1", "10.9.3.4", "::ffff:8.8.8.8",
                                          NULL};
    for (int i = 0; blocked[i]; i++)
        ck_assert_msg(!s_ok(p, blocked[i]), "%s should be refused", blocked[i]);
    for (int i = 0; allowed[i]; i++)
        ck_assert_msg(s_ok(p, allowed[i]), "%s should be allowed", allowed[i]);
    ck_assert_int_eq(bx_ssrf_check_url(p, "http://127.0.0.2:80/x", why, sizeof why), BX_EINVAL);
    ck_assert_int_eq(bx_ssrf_check_url(p, "http://0x7f000002/", why, sizeof why), BX_EINVAL);
    ck_assert_int_eq(bx_ssrf_check_url(p, "http://[::1]:8080/", why, sizeof why), BX_EINVAL);
    ck_assert_int_eq(bx_ssrf_check_url(p, "ftp://127.0.0.1/", why, sizeof why), BX_EINVAL);
    ck_assert_int_eq(bx_ssrf_check_url(p, "http://u:p@127.0.0.1/", why, sizeof why), BX_EINVAL);
    ck_assert_int_eq(bx_ssrf_check_url(p, "http://127.0.0.1:9/hook", why, sizeof why), BX_OK);
    ck_assert_ptr_null(bx_ssrf_new("10.0.0.0/40", why, sizeof why));
    bx_ssrf_destroy(&p);
    ck_assert_ptr_null(p);
}
END_TEST

START_TEST(templates_render_sections_and_escape_html)
{
    json_t *ctx = json_pack("{s:s, s:[{s:s}, {s:s}], s:s}", "name", "<Ann & Bob>", "items", "x",
                            "1", "x", "2", "empty", "");
    char *t = dlv_mustache("Hi {{name}}{{#items}}[{{x}}]{{/items}}{{^empty}}!{{/empty}}{{{name}}}",
                           ctx, 1);
    ck_assert_str_eq(t, "Hi &lt;Ann &amp; Bob&gt;[1][2]!<Ann & Bob>");
    free(t);
    json_decref(ctx);
    json_t *c2 = json_pack("{s:{s:s}, s:{s:[{s:s, s:s}]}, s:s, s:s}", "user", "first_name", "Asha",
                           "data", "tickets", "label", "A-1", "qr_cid", "cid1", "locale", "hi",
                           "app_url", "http://x");
    char *subject = dlv_render("account.welcome", "hi-IN", "subject", c2);
    ck_assert_ptr_nonnull(strstr(subject, "स्वागत"));
    char *html = dlv_render("account.welcome", "de", "html", c2);
    ck_assert_ptr_nonnull(strstr(html, "Hallo Asha"));
    ck_assert_ptr_nonnull(strstr(html, "<html lang=\"hi\">"));
    char *fallback = dlv_render("account.welcome", "xx", "subject", c2);
    ck_assert_str_eq(fallback, "Welcome to boxoffice, Asha");
    for (const bx_dlv_type_t *ty = bx_dlv_types; ty->type; ty++) {
        const char *locales[] = {"en", "de", "hi"};
        for (int l = 0; l < 3; l++) {
            char *s = dlv_render(ty->type, locales[l], "subject", c2),
                 *h = dlv_render(ty->type, locales[l], "html", c2);
            ck_assert_msg(s && h, "%s has no %s e-mail template", ty->type, locales[l]);
            free(s);
            free(h);
            if (ty->channels & BX_DLV_SMS) {
                char *m = dlv_render(ty->type, locales[l], "sms", c2);
                ck_assert_msg(m != NULL, "%s has no %s SMS template", ty->type, locales[l]);
                free(m);
            }
        }
    }
    free(subject);
    free(html);
    free(fallback);
    json_decref(c2);
}
END_TEST

START_TEST(qr_png_is_a_valid_image)
{
    size_t len = 0;
    unsigned char *png = bx_qr_png("BXT1.sample", 4, &len);
    ck_assert_ptr_nonnull(png);
    ck_assert(!memcmp(png, "\x89PNG\r\n\x1a\n", 8) && !memcmp(png + 12, "IHDR", 4));
    uint32_t w = (uint32_t)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19];
    uint32_t idat = (uint32_t)png[33] << 24 | png[34] << 16 | png[35] << 8 | png[36];
    ck_assert(!memcmp(png + 37, "IDAT", 4));
    uLongf raw_len = (uLongf)(w + 1) * w;
    unsigned char *raw = malloc(raw_len);
    ck_assert_int_eq(uncompress(raw, &raw_len, png + 41, idat), Z_OK);
    ck_assert_int_eq(raw_len, (w + 1) * w);
    ck_assert_int_eq(raw[0 * (w + 1) + 1], 255);     /* quiet zone */
    ck_assert_int_eq(raw[16 * (w + 1) + 1 + 16], 0); /* the finder pattern's dark corner */
    free(raw);
    free(png);
}
END_TEST

START_TEST(unsubscribe_tokens_verify_and_resist_tampering)
{
    bx_dlv_key_t key = {"k", "c2VjcmV0LWtleS1mb3ItdW5zdWJzY3JpYmUtdG9rZW5z", ""};
    char tok[200], uid[37], ch[8], cat[16], id[37];
    bx_uuid_v7(id);
    ck_assert_int_eq(bx_dlv_unsub_token(&key, id, "email", "marketing", tok, sizeof tok), BX_OK);
    ck_assert_int_eq(bx_dlv_unsub_verify(&key, tok, uid, ch, cat), BX_OK);
    ck_assert_str_eq(uid, id);
    ck_assert_str_eq(ch, "email");
    ck_assert_str_eq(cat, "marketing");
    tok[3] = tok[3] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(bx_dlv_unsub_verify(&key, tok, uid, ch, cat), BX_EINVAL);
    ck_assert_int_eq(bx_dlv_unsub_verify(&key, "x.y", uid, ch, cat), BX_EINVAL);
}
END_TEST

START_TEST(preferences_default_to_transactional_always_and_marketing_opt_in)
{
    json_t *prefs = json_pack("{s:{s:b, s:b}}", "email", "marketing", 1, "reminders", 0);
    ck_assert(bx_dlv_wants(NULL, "sms", "transactional"));
    ck_assert(!bx_dlv_wants(NULL, "email", "marketing"));
    ck_assert(!bx_dlv_wants(NULL, "sms", "reminders"));
    ck_assert(bx_dlv_wants(NULL, "push", "reminders"));
    ck_assert(bx_dlv_wants(prefs, "email", "marketing"));
    ck_assert(!bx_dlv_wants(prefs, "email", "reminders"));
    json_decref(prefs);
    ck_assert_ptr_nonnull(bx_dlv_type("booking.confirmed"));
    ck_assert(bx_dlv_event_type_known("inventory.low") &&
              !bx_dlv_event_type_known("booking.exploded"));
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("test_delivery");
    TCase *tc = tcase_create("delivery");
    tcase_add_test(tc, webpush_encryption_matches_rfc8291_appendix_a);
    tcase_add_test(tc, vapid_token_is_es256_verifiable);
    tcase_add_test(tc, webhook_signature_matches_the_standard_webhooks_example);
    tcase_add_test(tc, retry_schedule_is_exponential_with_jitter_and_ends);
    tcase_add_test(tc, ssrf_refuses_internal_addresses_unless_allowed);
    tcase_add_test(tc, templates_render_sections_and_escape_html);
    tcase_add_test(tc, qr_png_is_a_valid_image);
    tcase_add_test(tc, unsubscribe_tokens_verify_and_resist_tampering);
    tcase_add_test(tc, preferences_default_to_transactional_always_and_marketing_opt_in);
    suite_add_tcase(s, tc);
    return s;
}
