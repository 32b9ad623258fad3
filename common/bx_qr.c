/* bx_qr: QR code images (PNG and SVG) of short text, from libqrencode's matrix. */
#include "bx_qr.h"

#include <qrencode.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define S_QUIET 4 /* quiet zone, modules */

/* The matrix of text, or NULL for unusable text. */
static QRcode *s_encode(const char *text)
{
    size_t n = text ? strlen(text) : 0;
    if (n == 0 || n > BX_QR_TEXT_MAX)
        return NULL;
    return QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
}

static int s_dark(const QRcode *qr, int mx, int my)
{
    return my >= 0 && mx >= 0 && my < qr->width && mx < qr->width &&
           (qr->data[my * qr->width + mx] & 1);
}

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
        for (uint32_t x = 0; x < side; x++)
            line[1 + x] = s_dark(qr, (int)x / scale - S_QUIET, my) ? 0 : 255;
    }
    *len = row * side;
    return raw;
}

unsigned char *bx_qr_png(const char *text, int scale, size_t *len)
{
    QRcode *qr = scale >= 1 && scale <= BX_QR_SIDE_MAX ? s_encode(text) : NULL;
    unsigned char *raw = NULL, *z = NULL, *png = NULL;
    size_t rawlen = 0;
    if (!qr)
        goto out;
    uint32_t side = (uint32_t)((qr->width + 2 * S_QUIET) * scale);
    if (side > BX_QR_SIDE_MAX || !(raw = s_pixels(qr, scale, side, &rawlen)))
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

/* Appends "M x yh1v1h-1z" for every dark module of qr to out (cap bytes at *at). */
static int s_svg_path(const QRcode *qr, char *out, size_t cap, size_t *at)
{
    for (int y = 0; y < qr->width; y++)
        for (int x = 0; x < qr->width; x++) {
            if (!s_dark(qr, x, y))
                continue;
            int n = snprintf(out + *at, cap - *at, "M%d %dh1v1h-1z", x + S_QUIET, y + S_QUIET);
            if (n < 0 || (size_t)n >= cap - *at)
                return 0;
            *at += (size_t)n;
        }
    return 1;
}

char *bx_qr_svg(const char *text, int scale, size_t *len)
{
    QRcode *qr = scale >= 1 && scale <= BX_QR_SIDE_MAX ? s_encode(text) : NULL;
    char *svg = NULL;
    if (!qr)
        return NULL;
    int view = qr->width + 2 * S_QUIET;
    if ((long)view * scale > BX_QR_SIDE_MAX)
        goto out;
    size_t cap = 512 + (size_t)qr->width * (size_t)qr->width * 20, at = 0;
    if (!(svg = malloc(cap)))
        goto out;
    int n = snprintf(svg, cap,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                     "viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">"
                     "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                     view * scale, view * scale, view, view, view, view);
    at = (size_t)n;
    if (!s_svg_path(qr, svg, cap, &at) || cap - at < 16) {
        free(svg);
        svg = NULL;
        goto out;
    }
    memcpy(svg + at, "\"/></svg>\n", 11);
    at += 10;
    if (len)
        *len = at;
out:
    QRcode_free(qr);
    return svg;
}
