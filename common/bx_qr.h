/* bx_qr: QR codes of short text (ticket payloads) as PNG or SVG images: libqrencode makes
 * the matrix (error correction M, 8-bit mode), a minimal PNG writer (one IDAT, zlib) or
 * an SVG path makes the image, each with a 4-module quiet zone. Pure functions, no state:
 * safe from any thread. */
#ifndef BX_QR_H
#define BX_QR_H

#include <stddef.h>

#define BX_QR_TEXT_MAX 1024 /* longest text encoded, bytes */
#define BX_QR_SIDE_MAX 2048 /* largest PNG side, pixels */

/* A PNG (8-bit greyscale) of text's QR code, scale pixels per module (>= 1). Returns the
 * image (caller frees) with its length in *len, or NULL when text is NULL, empty or too
 * long, scale is out of range or the image would exceed BX_QR_SIDE_MAX. */
unsigned char *bx_qr_png(const char *text, int scale, size_t *len);

/* An SVG document of text's QR code (one path of unit squares in a viewBox of modules,
 * scaled to scale pixels per module). Returns NUL-terminated text (caller frees), its
 * length in *len (may be NULL), or NULL under the same conditions as bx_qr_png. */
char *bx_qr_svg(const char *text, int scale, size_t *len);

#endif
