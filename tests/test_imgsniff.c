/* test_imgsniff: media type detection by magic bytes and dimension parsing: every format
 * with its size (and a video's duration), files that are something else (an executable,
 * a PDF, SVG text, HEIF, QuickTime, Matroska) refused as unsupported, broken headers
 * refused as unprocessable, every truncation of every sample answered without reading
 * past the end, and a seeded random mutation run of the same samples (the libFuzzer
 * target tests/fuzz_imgsniff.c runs the same function without a bound). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bx_imgsniff.h"
#include "bx_samples.h"
#include "bx_suite.h"

/* A built sample and what the sniffer must find in it. */
typedef struct {
    const char *name;     /* for messages */
    unsigned char *data;  /* heap */
    size_t len;           /* bytes */
    bx_sniff_kind_t kind; /* expected format */
    uint32_t w, h;        /* expected size */
    int64_t duration_ms;  /* expected duration, -1 for images */
} s_case_t;

#define S_NCASES 11
static s_case_t s_cases[S_NCASES];

static void s_build(void)
{
    size_t i = 0, n = 0;
#define S_ADD(nm, expr, k, ww, hh, d)                                                              \
    do {                                                                                           \
        s_case_t *c = &s_cases[i++];                                                               \
        c->name = nm;                                                                              \
        c->data = expr;                                                                            \
        c->len = n;                                                                                \
        c->kind = k;                                                                               \
        c->w = ww;                                                                                 \
        c->h = hh;                                                                                 \
        c->duration_ms = d;                                                                        \
        ck_assert_ptr_nonnull(c->data);                                                            \
    } while (0)
    S_ADD("png", bx_sample_png(640, 480, 1, &n), BX_SNIFF_PNG, 640, 480, -1);
    S_ADD("jpeg", bx_sample_jpeg(1920, 1080, 0, &n), BX_SNIFF_JPEG, 1920, 1080, -1);
    S_ADD("jpeg after 200 KB of APP segments", bx_sample_jpeg(4000, 3000, 200000, &n),
          BX_SNIFF_JPEG, 4000, 3000, -1);
    S_ADD("gif", bx_sample_gif(320, 200, &n), BX_SNIFF_GIF, 320, 200, -1);
    S_ADD("webp vp8", bx_sample_webp(' ', 800, 600, &n), BX_SNIFF_WEBP, 800, 600, -1);
    S_ADD("webp vp8l", bx_sample_webp('L', 1, 16384, &n), BX_SNIFF_WEBP, 1, 16384, -1);
    S_ADD("webp vp8x", bx_sample_webp('X', 4000, 3000, &n), BX_SNIFF_WEBP, 4000, 3000, -1);
    S_ADD("mp4 moov first", bx_sample_mp4(1280, 720, 12345, 1000, 0, &n), BX_SNIFF_MP4, 1280, 720,
          12345);
    S_ADD("mp4 moov last", bx_sample_mp4(1920, 1080, 90000, 5000, 1, &n), BX_SNIFF_MP4, 1920, 1080,
          90000);
    S_ADD("webm", bx_sample_webm(3840, 2160, 61500.0, 0, &n), BX_SNIFF_WEBM, 3840, 2160, 61500);
    S_ADD("png 1x1", bx_sample_png(1, 1, 7, &n), BX_SNIFF_PNG, 1, 1, -1);
#undef S_ADD
    ck_assert_int_eq(i, S_NCASES);
}

static void s_free(void)
{
    for (size_t i = 0; i < S_NCASES; i++)
        free(s_cases[i].data);
}

/* Sniffs a private heap copy of exactly len bytes, so ASan sees any read past the end. */
static bx_err_t s_sniff(const unsigned char *data, size_t len, bx_sniff_t *out, const char **why)
{
    unsigned char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, data, len);
    bx_err_t err = bx_imgsniff(copy, len, out, why);
    free(copy);
    return err;
}

START_TEST(every_format_is_detected_with_its_size)
{
    for (size_t i = 0; i < S_NCASES; i++) {
        const s_case_t *c = &s_cases[i];
        bx_sniff_t s;
        const char *why = NULL;
        ck_assert_msg(s_sniff(c->data, c->len, &s, &why) == BX_OK, "%s: %s", c->name, why);
        ck_assert_msg(s.kind == c->kind, "%s: kind %d", c->name, s.kind);
        ck_assert_msg(s.width == c->w && s.height == c->h, "%s: %ux%u", c->name, s.width, s.height);
        ck_assert_msg(s.duration_ms == c->duration_ms, "%s: %lld ms", c->name,
                      (long long)s.duration_ms);
        ck_assert_int_eq(s.is_video, c->kind == BX_SNIFF_MP4 || c->kind == BX_SNIFF_WEBM);
    }
}
END_TEST

/* Bytes that are not a supported format: by magic, by brand, by DocType. */
START_TEST(other_files_are_unsupported_whatever_they_are_called)
{
    static const struct {
        const char *name;
        const char *bytes;
        size_t len;
    } others[] = {
        {"empty", "", 0},
        {"text", "hello, world", 12},
        {"svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>", 41},
        {"pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 15},
        {"bmp", "BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00", 14},
        {"tiff", "II*\x00\x08\x00\x00\x00", 8},
        {"heic",
         "\x00\x00\x00\x18"
         "ftypheic\x00\x00\x00\x00mif1heic",
         24},
        {"avif",
         "\x00\x00\x00\x1c"
         "ftypavif\x00\x00\x00\x00mif1miafavif",
         28},
        {"quicktime",
         "\x00\x00\x00\x14"
         "ftypqt  \x00\x00\x02\x00qt  ",
         20},
        {"zip", "PK\x03\x04\x14\x00\x00\x00", 8},
        {"riff wave", "RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00", 20},
    };
    bx_sniff_t s;
    const char *why;
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        bx_err_t err = s_sniff((const unsigned char *)others[i].bytes, others[i].len, &s, &why);
        ck_assert_msg(err == BX_EMEDIATYPE, "%s: %d", others[i].name, err);
        ck_assert_msg(s.kind == BX_SNIFF_UNKNOWN, "%s", others[i].name);
    }
    size_t len;
    unsigned char *elf = bx_sample_elf(4096, &len);
    ck_assert_int_eq(s_sniff(elf, len, &s, &why), BX_EMEDIATYPE);
    free(elf);
    unsigned char *mkv = bx_sample_webm(640, 360, 1000, 1, &len);
    ck_assert_int_eq(s_sniff(mkv, len, &s, &why), BX_EMEDIATYPE);
    ck_assert_ptr_nonnull(strstr(why, "matroska"));
    free(mkv);
    ck_assert_int_eq(bx_imgsniff(NULL, 0, &s, NULL), BX_EMEDIATYPE);
}
END_TEST

/* Changes byte at of a copy of c and expects BX_EUNPROCESSABLE. */
static void s_broken(const s_case_t *c, size_t at, unsigned char value, const char *what)
{
    unsigned char *copy = malloc(c->len);
    bx_sniff_t s;
    const char *why = NULL;
    memcpy(copy, c->data, c->len);
    copy[at] = value;
    bx_err_t err = s_sniff(copy, c->len, &s, &why);
    ck_assert_msg(err == BX_EUNPROCESSABLE, "%s: %d", what, err);
    ck_assert_msg(why && *why, "%s: no reason", what);
    free(copy);
}

START_TEST(broken_headers_are_unprocessable)
{
    s_broken(&s_cases[0], 29, s_cases[0].data[29] ^ 1, "png with a wrong IHDR checksum");
    s_broken(&s_cases[0], 12, 'i', "png whose first chunk is not IHDR");
    s_broken(&s_cases[3], 8, 0, "gif of height 0 (high byte stays 0)");
    s_broken(&s_cases[1], 20, 0x00, "jpeg whose marker stream breaks after APP0");
    s_broken(&s_cases[4], 23, 0x00, "webp vp8 without its start code");
    s_broken(&s_cases[5], 20, 0x00, "webp vp8l without its signature");
    s_broken(&s_cases[4], 15, 'Z', "webp with an unknown first chunk");
    /* a jpeg whose scan starts before any frame header */
    static const unsigned char sos_first[] = {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 1, 2, 3, 4, 5, 6};
    bx_sniff_t s;
    const char *why;
    ck_assert_int_eq(s_sniff(sos_first, sizeof sos_first, &s, &why), BX_EUNPROCESSABLE);
    /* a png stating a zero width, with a correct checksum */
    size_t len;
    unsigned char *zero = bx_sample_png(0, 5, 0, &len);
    ck_assert_int_eq(s_sniff(zero, len, &s, &why), BX_EUNPROCESSABLE);
    free(zero);
    /* an mp4 without a movie header */
    unsigned char *mp4 = bx_sample_mp4(640, 360, 1000, 100, 0, &len);
    memcpy(mp4 + 36, "free", 4); /* moov starts at 32, after the 32-byte ftyp */
    ck_assert_int_eq(s_sniff(mp4, len, &s, &why), BX_EUNPROCESSABLE);
    free(mp4);
}
END_TEST

/* Every prefix of every sample: never a crash or an over-read (ASan), never a made-up
 * size: a prefix that is accepted states the same size as the whole file. */
START_TEST(every_truncation_is_answered_and_never_invents_a_size)
{
    for (size_t i = 0; i < S_NCASES; i++) {
        const s_case_t *c = &s_cases[i];
        size_t step = c->len > 4096 ? c->len / 2048 : 1;
        for (size_t n = 0; n < c->len; n += (n < 4096 ? 1 : step)) {
            bx_sniff_t s;
            const char *why = NULL;
            bx_err_t err = s_sniff(c->data, n, &s, &why);
            ck_assert_msg(err == BX_OK || err == BX_EMEDIATYPE || err == BX_EUNPROCESSABLE,
                          "%s[%zu]: %d", c->name, n, err);
            ck_assert_msg(err == BX_OK || why, "%s[%zu]: no reason", c->name, n);
            if (err == BX_OK && !s.is_video)
                ck_assert_msg(s.width == c->w && s.height == c->h, "%s[%zu]: %ux%u", c->name, n,
                              s.width, s.height);
            if (err == BX_OK && s.is_video && s.width)
                ck_assert_msg(s.width == c->w && s.height == c->h, "%s[%zu]", c->name, n);
        }
    }
}
END_TEST

/* A small deterministic generator: the run is the same on every machine. */
static uint32_t s_rand(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*state >> 33);
}

START_TEST(random_mutations_never_crash_or_lie)
{
    uint64_t state = 0x5eed;
    for (int iter = 0; iter < 30000; iter++) {
        const s_case_t *c = &s_cases[s_rand(&state) % S_NCASES];
        size_t len = c->len > 65536 ? 65536 : c->len; /* the headers live up front */
        if (c->len > 65536 && c->kind == BX_SNIFF_JPEG)
            len = c->len;
        unsigned char *m = malloc(len);
        memcpy(m, c->data, len);
        for (int k = (int)(s_rand(&state) % 8); k >= 0; k--)
            m[s_rand(&state) % len] = (unsigned char)s_rand(&state);
        size_t cut = s_rand(&state) % 4 ? len : s_rand(&state) % (len + 1);
        bx_sniff_t s;
        const char *why = NULL;
        bx_err_t err = s_sniff(m, cut, &s, &why);
        ck_assert(err == BX_OK || err == BX_EMEDIATYPE || err == BX_EUNPROCESSABLE);
        ck_assert(err != BX_EMEDIATYPE || s.kind == BX_SNIFF_UNKNOWN);
        ck_assert(err != BX_OK || s.kind != BX_SNIFF_UNKNOWN);
        ck_assert(err != BX_OK || s.is_video || (s.width > 0 && s.height > 0));
        ck_assert(s.duration_ms >= -1);
        free(m);
    }
}
END_TEST

START_TEST(declared_types_map_to_kinds)
{
    ck_assert_int_eq(bx_imgsniff_kind("image/png"), BX_SNIFF_PNG);
    ck_assert_int_eq(bx_imgsniff_kind("IMAGE/PNG; charset=binary"), BX_SNIFF_PNG);
    ck_assert_int_eq(bx_imgsniff_kind("image/jpg"), BX_SNIFF_JPEG);
    ck_assert_int_eq(bx_imgsniff_kind("image/jpeg"), BX_SNIFF_JPEG);
    ck_assert_int_eq(bx_imgsniff_kind("video/webm"), BX_SNIFF_WEBM);
    ck_assert_int_eq(bx_imgsniff_kind("video/mp4"), BX_SNIFF_MP4);
    ck_assert_int_eq(bx_imgsniff_kind("image/svg+xml"), BX_SNIFF_UNKNOWN);
    ck_assert_int_eq(bx_imgsniff_kind("image/pngx"), BX_SNIFF_UNKNOWN);
    ck_assert_int_eq(bx_imgsniff_kind("image/pn"), BX_SNIFF_UNKNOWN);
    ck_assert_int_eq(bx_imgsniff_kind("application/octet-stream"), BX_SNIFF_UNKNOWN);
    ck_assert_int_eq(bx_imgsniff_kind(""), BX_SNIFF_UNKNOWN);
    ck_assert_int_eq(bx_imgsniff_kind(NULL), BX_SNIFF_UNKNOWN);
    ck_assert_str_eq(bx_imgsniff_mime(BX_SNIFF_JPEG), "image/jpeg");
    ck_assert_str_eq(bx_imgsniff_mime(BX_SNIFF_WEBP), "image/webp");
    ck_assert_ptr_null(bx_imgsniff_mime(BX_SNIFF_UNKNOWN));
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("imgsniff");
    TCase *tc = tcase_create("sniff");
    tcase_add_checked_fixture(tc, s_build, s_free);
    tcase_add_test(tc, every_format_is_detected_with_its_size);
    tcase_add_test(tc, other_files_are_unsupported_whatever_they_are_called);
    tcase_add_test(tc, broken_headers_are_unprocessable);
    tcase_add_test(tc, every_truncation_is_answered_and_never_invents_a_size);
    tcase_add_test(tc, random_mutations_never_crash_or_lie);
    tcase_add_test(tc, declared_types_map_to_kinds);
    suite_add_tcase(s, tc);
    return s;
}
