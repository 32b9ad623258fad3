/* test_util: ids, base64/base64url, hashes, times, strict number parsing and UTF-8
 * validation, which every input path relies on. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bx_suite.h"
#include "bx_util.h"

/* --- UUIDv7 ------------------------------------------------------------------------ */

static int s_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

START_TEST(uuid_v7_shape)
{
    char u[BX_UUID_LEN + 1];
    bx_uuid_v7(u);
    ck_assert_uint_eq(strlen(u), BX_UUID_LEN);
    ck_assert(bx_uuid_valid(u));
    ck_assert_int_eq(u[14], '7');                 /* version */
    ck_assert_ptr_nonnull(strchr("89ab", u[19])); /* RFC 9562 variant */
    for (const char *p = u; *p; p++)
        ck_assert_msg(!(*p >= 'A' && *p <= 'Z'), "upper case in %s", u);
}
END_TEST

START_TEST(uuid_v7_time_ordered_and_unique)
{
    enum { N = 2000 };
    static char ids[N][BX_UUID_LEN + 1];
    int64_t before = bx_now_ms();
    for (int i = 0; i < N; i++)
        bx_uuid_v7(ids[i]);
    int64_t after = bx_now_ms();
    for (int i = 1; i < N; i++) {
        /* The first 48 bits are the millisecond clock: never going backwards. */
        ck_assert_int_le(strncmp(ids[i - 1], ids[i], 13), 0);
    }
    char hex[13] = {0};
    memcpy(hex, ids[0], 8);
    memcpy(hex + 8, ids[0] + 9, 4);
    long long ms = strtoll(hex, NULL, 16);
    ck_assert_int_ge(ms, before);
    ck_assert_int_le(ms, after);
    qsort(ids, N, sizeof ids[0], s_cmp);
    for (int i = 1; i < N; i++)
        ck_assert_str_ne(ids[i - 1], ids[i]);
}
END_TEST

START_TEST(uuid_valid_rejects)
{
    ck_assert(bx_uuid_valid("01900000-0000-7000-8000-000000000001"));
    ck_assert(bx_uuid_valid("0190ABCD-0000-7000-8000-00000000000F"));
    ck_assert(!bx_uuid_valid(NULL));
    ck_assert(!bx_uuid_valid(""));
    ck_assert(!bx_uuid_valid("01900000-0000-7000-8000-00000000000"));   /* short */
    ck_assert(!bx_uuid_valid("01900000-0000-7000-8000-0000000000011")); /* long */
    ck_assert(!bx_uuid_valid("01900000x0000-7000-8000-000000000001"));  /* hyphen */
    ck_assert(!bx_uuid_valid("0190000g-0000-7000-8000-000000000001"));  /* not hex */
    ck_assert(!bx_uuid_valid("01900000-0000-7000-8000-00000000000'"));  /* SQL quote */
    ck_assert(!bx_uuid_valid("{1900000-0000-7000-8000-00000000000}"));
}
END_TEST

/* --- base64 ------------------------------------------------------------------------ */

typedef struct {
    const char *plain; /* input */
    const char *url;   /* base64url, no padding */
    const char *std;   /* standard base64, padded */
} s_b64_case_t;

/* RFC 4648 section 10 vectors, plus bytes that differ between the two alphabets. */
static const s_b64_case_t s_b64[] = {
    {"", "", ""},
    {"f", "Zg", "Zg=="},
    {"fo", "Zm8", "Zm8="},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg", "Zm9vYg=="},
    {"fooba", "Zm9vYmE", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    {"\xfb\xff\xbf", "-_-_", "+/+/"},
    {"\xff\xfe", "__4", "//4="},
};

START_TEST(b64_vectors)
{
    const s_b64_case_t *c = &s_b64[_i];
    char out[64];
    unsigned char back[64];
    size_t n = strlen(c->plain);
    ck_assert_uint_eq(bx_b64url_encode((const unsigned char *)c->plain, n, out, sizeof out),
                      strlen(c->url));
    ck_assert_str_eq(out, c->url);
    ck_assert_uint_eq(bx_b64_encode((const unsigned char *)c->plain, n, out, sizeof out),
                      strlen(c->std));
    ck_assert_str_eq(out, c->std);
    long m = bx_b64url_decode(c->url, strlen(c->url), back, sizeof back);
    ck_assert_int_eq(m, (long)n);
    ck_assert_mem_eq(back, c->plain, n);
}
END_TEST

START_TEST(b64url_round_trips_every_length)
{
    unsigned char in[200], back[200];
    char enc[300];
    ck_assert_int_eq(bx_random(in, sizeof in), BX_OK);
    for (size_t n = 0; n <= sizeof in; n++) {
        size_t len = bx_b64url_encode(in, n, enc, sizeof enc);
        ck_assert_uint_eq(len, (n * 4 + 2) / 3);
        ck_assert_ptr_null(strpbrk(enc, "+/="));
        ck_assert_int_eq(bx_b64url_decode(enc, len, back, sizeof back), (long)n);
        ck_assert_mem_eq(back, in, n);
    }
}
END_TEST

START_TEST(b64url_rejects_bad_input)
{
    unsigned char out[64];
    const char *bad[] = {
        "Zg==",        /* padding is not base64url */
        "Zm9v+A",      /* standard alphabet */
        "Zm9v/A",      /* standard alphabet */
        "Z",           /* length 1 mod 4 is impossible */
        "Zm9vY",       /* length 1 mod 4 */
        "Zh",          /* non-zero trailing bits: not canonical */
        "Zm9",         /* non-zero trailing bits */
        "Zm 9v",       /* space */
        "Zm9v\n",      /* newline */
        "Zm\xc3\xa9v", /* non-ASCII */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(bx_b64url_decode(bad[i], strlen(bad[i]), out, sizeof out) == -1,
                      "accepted %s", bad[i]);
    /* A NUL inside the counted input is not a valid character either. */
    ck_assert_int_eq(bx_b64url_decode("Zm\0v", 4, out, sizeof out), -1);
    /* Output capacity is respected. */
    ck_assert_int_eq(bx_b64url_decode("Zm9vYmFy", 8, out, 5), -1);
    ck_assert_int_eq(bx_b64url_decode("Zm9vYmFy", 8, out, 6), 6);
}
END_TEST

START_TEST(b64_encode_respects_capacity)
{
    char out[5];
    memset(out, 'x', sizeof out);
    bx_b64url_encode((const unsigned char *)"foobar", 6, out, sizeof out);
    ck_assert_int_eq(out[4], '\0');
    ck_assert_str_eq(out, "Zm9v");
}
END_TEST

/* --- hashes and hex ---------------------------------------------------------------- */

START_TEST(sha256_and_hex)
{
    char h[65];
    bx_sha256_hex("abc", 3, h);
    ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    bx_sha256_hex("", 0, h);
    ck_assert_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    char x[9];
    bx_hex((const unsigned char *)"\x00\x9f\xff\x10", 4, x);
    ck_assert_str_eq(x, "009fff10");
}
END_TEST

START_TEST(random_fills)
{
    unsigned char a[32] = {0}, b[32] = {0};
    ck_assert_int_eq(bx_random(a, sizeof a), BX_OK);
    ck_assert_int_eq(bx_random(b, sizeof b), BX_OK);
    ck_assert_int_ne(memcmp(a, b, sizeof a), 0);
}
END_TEST

/* --- time -------------------------------------------------------------------------- */

START_TEST(time_formats)
{
    char r[32], h[40];
    bx_time_rfc3339(0, r);
    ck_assert_str_eq(r, "1970-01-01T00:00:00Z");
    bx_time_rfc3339(1795467599, r);
    ck_assert_str_eq(r, "2026-11-23T20:59:59Z");
    bx_time_http(784111777, h);
    ck_assert_str_eq(h, "Sun, 06 Nov 1994 08:49:37 GMT"); /* RFC 9110 example */
    int64_t m0 = bx_mono_ms(), m1 = bx_mono_ms();
    ck_assert_int_le(m0, m1);
    ck_assert_int_gt(bx_now_ms(), 1700000000000LL);
}
END_TEST

/* --- parse_long -------------------------------------------------------------------- */

typedef struct {
    const char *in; /* text */
    long min, max;  /* bounds */
    int ok;         /* accepted? */
    long want;      /* value when accepted */
} s_long_case_t;

static const s_long_case_t s_longs[] = {
    {"42", 0, 100, 1, 42},
    {"0", 0, 100, 1, 0},
    {"-1", -5, 5, 1, -1},
    {"100", 0, 100, 1, 100},
    {"101", 0, 100, 0, 0},
    {"-1", 0, 100, 0, 0},
    {"", 0, 100, 0, 0},
    {" 1", 0, 100, 0, 0},
    {"1 ", 0, 100, 0, 0},
    {"12a", 0, 100, 0, 0},
    {"0x10", 0, 100, 0, 0},
    {"1.0", 0, 100, 0, 0},
    {"1e3", 0, 10000, 0, 0},
    {"9223372036854775807", LONG_MIN, LONG_MAX, 1, LONG_MAX},
    {"9223372036854775808", LONG_MIN, LONG_MAX, 0, 0},
    {"-9223372036854775809", LONG_MIN, LONG_MAX, 0, 0},
    {"99999999999999999999999", LONG_MIN, LONG_MAX, 0, 0},
    {NULL, 0, 100, 0, 0},
};

START_TEST(parse_long_cases)
{
    const s_long_case_t *c = &s_longs[_i];
    long v = 12345;
    bx_err_t rc = bx_parse_long(c->in, c->min, c->max, &v);
    ck_assert_msg((rc == BX_OK) == c->ok, "parse_long(%s) returned %s", c->in ? c->in : "(null)",
                  bx_err_str(rc));
    if (c->ok)
        ck_assert_int_eq(v, c->want);
    else
        ck_assert_int_eq(v, 12345); /* untouched on failure */
}
END_TEST

/* --- UTF-8 ------------------------------------------------------------------------- */

typedef struct {
    const char *bytes; /* input */
    int valid;         /* expected */
    const char *what;  /* name of the case */
} s_utf8_case_t;

static const s_utf8_case_t s_utf8[] = {
    {"", 1, "empty"},
    {"plain ascii", 1, "ascii"},
    {"caf\xc3\xa9", 1, "two-byte"},
    {"\xe2\x82\xac", 1, "three-byte euro"},
    {"\xf0\x9f\x8e\x9f", 1, "four-byte ticket emoji"},
    {"\xef\xbf\xbf", 1, "U+FFFF"},
    {"\xf4\x8f\xbf\xbf", 1, "U+10FFFF, the last code point"},
    {"\xed\x9f\xbf", 1, "U+D7FF, just below the surrogates"},
    {"\xee\x80\x80", 1, "U+E000, just above the surrogates"},
    {"\xc0\x80", 0, "overlong NUL"},
    {"\xc1\xbf", 0, "overlong two-byte"},
    {"\xe0\x80\xaf", 0, "overlong slash in three bytes"},
    {"\xe0\x9f\xbf", 0, "overlong three-byte"},
    {"\xf0\x80\x80\xaf", 0, "overlong slash in four bytes"},
    {"\xf0\x8f\xbf\xbf", 0, "overlong four-byte"},
    {"\xed\xa0\x80", 0, "high surrogate U+D800"},
    {"\xed\xbf\xbf", 0, "low surrogate U+DFFF"},
    {"\xed\xa0\xbd\xed\xb2\xa9", 0, "CESU-8 surrogate pair"},
    {"\xf4\x90\x80\x80", 0, "above U+10FFFF"},
    {"\xf5\x80\x80\x80", 0, "lead byte F5"},
    {"\xf8\x88\x80\x80\x80", 0, "five-byte form"},
    {"\xfc\x84\x80\x80\x80\x80", 0, "six-byte form"},
    {"\xfe", 0, "byte FE"},
    {"\xff", 0, "byte FF"},
    {"\x80", 0, "lone continuation"},
    {"a\xbf"
     "b",
     0, "continuation inside ascii"},
    {"\xc3", 0, "truncated two-byte"},
    {"\xe2\x82", 0, "truncated three-byte"},
    {"\xf0\x9f\x8e", 0, "truncated four-byte"},
    {"\xc3\x28", 0, "bad continuation"},
    {"\xe2\x28\xa1", 0, "bad second byte"},
};

START_TEST(utf8_cases)
{
    const s_utf8_case_t *c = &s_utf8[_i];
    ck_assert_msg(bx_utf8_valid(c->bytes, strlen(c->bytes)) == c->valid, "%s: expected %s", c->what,
                  c->valid ? "valid" : "invalid");
}
END_TEST

START_TEST(utf8_counts_bytes_not_nul)
{
    /* An embedded NUL is a valid code point; the length, not the terminator, bounds. */
    ck_assert(bx_utf8_valid("a\0b", 3));
    /* A multi-byte sequence cut by the length is invalid even if the buffer goes on. */
    ck_assert(!bx_utf8_valid("\xe2\x82\xac", 2));
}
END_TEST

START_TEST(strlcpy_truncates_and_terminates)
{
    char b[4];
    ck_assert_uint_eq(bx_strlcpy(b, "abcdef", sizeof b), 6);
    ck_assert_str_eq(b, "abc");
    ck_assert_uint_eq(bx_strlcpy(b, "ab", sizeof b), 2);
    ck_assert_str_eq(b, "ab");
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("util");
    TCase *ids = tcase_create("ids");
    tcase_add_test(ids, uuid_v7_shape);
    tcase_add_test(ids, uuid_v7_time_ordered_and_unique);
    tcase_add_test(ids, uuid_valid_rejects);
    tcase_add_test(ids, random_fills);
    suite_add_tcase(s, ids);

    TCase *enc = tcase_create("encodings");
    tcase_add_loop_test(enc, b64_vectors, 0, (int)(sizeof s_b64 / sizeof s_b64[0]));
    tcase_add_test(enc, b64url_round_trips_every_length);
    tcase_add_test(enc, b64url_rejects_bad_input);
    tcase_add_test(enc, b64_encode_respects_capacity);
    tcase_add_test(enc, sha256_and_hex);
    tcase_add_test(enc, strlcpy_truncates_and_terminates);
    suite_add_tcase(s, enc);

    TCase *parse = tcase_create("parsing");
    tcase_add_test(parse, time_formats);
    tcase_add_loop_test(parse, parse_long_cases, 0, (int)(sizeof s_longs / sizeof s_longs[0]));
    tcase_add_loop_test(parse, utf8_cases, 0, (int)(sizeof s_utf8 / sizeof s_utf8[0]));
    tcase_add_test(parse, utf8_counts_bytes_not_nul);
    suite_add_tcase(s, parse);
    return s;
}
