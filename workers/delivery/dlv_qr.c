/* dlv_qr: ticket QR codes as PNG images for e-mail: libqrencode makes the matrix, a
 * minimal PNG writer (one IDAT, zlib) makes the image. */
#include <qrencode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dlv.h"

#define S_QUIET    4 /* quiet zone, modules */
#define S_SIDE_MAX 2048

static void s_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* Appends a chunk (length, type, data, CRC) at out + *at. */
static void s_chunk(unsigned char *out, size_t *at, const char *type, const unsigned char *data,
                    size_t n)
{
    unsigned char *p = out + *at;
    s_be32(p, (uint32_t)n);
    memcpy(p + 4, type, 4);
    if (n)
        memcpy(p + 8, data, n);
    uLong crc = crc32(0L, p + 4, (uInt)(n + 4));
    s_be32(p + 8 + n, (uint32_t)crc);
    *at += 12 + n;
}

/* Raw scanlines (filter byte 0, then grey pixels) of qr at scale. */
static unsigned char *s_pixels(const QRcode *qr, int scale, uint32_t side, size_t *len)
{
    size_t row = (size_t)side + 1;
    unsigned char *raw = malloc(row * side);
    if (!raw)
        return NULL;
    for (uint32_t y = 0; y < side; y++) {
        unsigned char *line = raw + (size_t)y * row;
        line[0] = 0;
        int my = (int)y / scale - S_QUIET;
        for (uint32_t x = 0; x < side; x++) {
            int mx = (int)x / scale - S_QUIET;
            int dark = my >= 0 && mx >= 0 && my < qr->width && mx < qr->width &&
                       (qr->data[my * qr->width + mx] & 1);
            line[1 + x] = dark ? 0 : 255;
        }
    }
    *len = row * side;
    return raw;
}

unsigned char *dlv_qr_png(const char *text, int scale, size_t *len)
{
    QRcode *qr = text ? QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) : NULL;
    unsigned char *raw = NULL, *z = NULL, *png = NULL;
    size_t rawlen = 0;
    if (!qr || scale < 1)
        goto out;
    uint32_t side = (uint32_t)((qr->width + 2 * S_QUIET) * scale);
    if (side > S_SIDE_MAX || !(raw = s_pixels(qr, scale, side, &rawlen)))
        goto out;
    uLongf zlen = compressBound((uLong)rawlen);
    if (!(z = malloc(zlen)) || compress2(z, &zlen, raw, (uLong)rawlen, 9) != Z_OK)
        goto out;
    if (!(png = malloc(8 + 25 + 12 + zlen + 12)))
        goto out;
    unsigned char ihdr[13];
    s_be32(ihdr, side);
    s_be32(ihdr + 4, side);
    ihdr[8] = 8, ihdr[9] = 0, ihdr[10] = 0, ihdr[11] = 0, ihdr[12] = 0; /* 8-bit grey */
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    size_t at = 8;
    s_chunk(png, &at, "IHDR", ihdr, sizeof ihdr);
    s_chunk(png, &at, "IDAT", z, zlen);
    s_chunk(png, &at, "IEND", NULL, 0);
    *len = at;
out:
    free(raw);
    free(z);
    QRcode_free(qr);
    return png;
}
