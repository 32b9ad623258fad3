/* test_qr: QR images (bx_qr) are produced in both forms and the PNG decodes, with a
 * standard decoder (zbarimg from zbar-tools), to exactly the text encoded. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_qr.h"
#include "bx_suite.h"

static const char *s_texts[] = {
    "BX1.0a1b2c3d.AZq8xD9nQe6L1z0OKm3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7.sig-_",
    "hello",
    "https://boxoffice.test/t/019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b",
};

/* zbarimg's reading of the PNG bytes (caller frees), or NULL. */
static char *s_zbar(const unsigned char *png, size_t len)
{
    char path[] = "/tmp/bx-test-qr-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, png, len), (ssize_t)len);
    close(fd);
    char cmd[128], *out = calloc(1, 2048);
    snprintf(cmd, sizeof cmd, "zbarimg --raw -q %s", path);
    FILE *f = popen(cmd, "r");
    size_t n = f ? fread(out, 1, 2047, f) : 0;
    if (f)
        pclose(f);
    unlink(path);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    return out;
}

START_TEST(png_decodes_to_the_text)
{
    size_t len = 0;
    unsigned char *png = bx_qr_png(s_texts[_i], 4, &len);
    ck_assert_ptr_nonnull(png);
    ck_assert(!memcmp(png, "\x89PNG\r\n\x1a\n", 8));
    char *got = s_zbar(png, len);
    ck_assert_str_eq(got, s_texts[_i]);
    free(got);
    free(png);
}
END_TEST

START_TEST(svg_is_a_document_of_modules)
{
    size_t len = 0;
    char *svg = bx_qr_svg(s_texts[0], 6, &len);
    ck_assert_ptr_nonnull(svg);
    ck_assert_uint_eq(strlen(svg), len);
    ck_assert_ptr_nonnull(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    ck_assert_ptr_nonnull(strstr(svg, "h1v1h-1z"));
    ck_assert(!strcmp(svg + len - 7, "</svg>\n"));
    /* the same matrix as the PNG: width = (modules + 8) * scale */
    int side = 0, view = 0;
    ck_assert_int_eq(sscanf(strstr(svg, "width=\""), "width=\"%d\"", &side), 1);
    ck_assert_int_eq(sscanf(strstr(svg, "viewBox=\"0 0 "), "viewBox=\"0 0 %d", &view), 1);
    ck_assert_int_eq(side, view * 6);
    free(svg);
}
END_TEST

START_TEST(bad_input_gives_nothing)
{
    size_t len = 0;
    char big[BX_QR_TEXT_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_ptr_null(bx_qr_png(NULL, 4, &len));
    ck_assert_ptr_null(bx_qr_png("", 4, &len));
    ck_assert_ptr_null(bx_qr_png("x", 0, &len));
    ck_assert_ptr_null(bx_qr_png(big, 1, &len));
    ck_assert_ptr_null(bx_qr_png("x", 500, &len)); /* over BX_QR_SIDE_MAX */
    ck_assert_ptr_null(bx_qr_svg(NULL, 4, &len));
    ck_assert_ptr_null(bx_qr_svg("x", 0, &len));
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("qr");
    TCase *tc = tcase_create("images");
    tcase_add_loop_test(tc, png_decodes_to_the_text, 0, (int)(sizeof s_texts / sizeof s_texts[0]));
    tcase_add_test(tc, svg_is_a_document_of_modules);
    tcase_add_test(tc, bad_input_gives_nothing);
    suite_add_tcase(s, tc);
    return s;
}
