/* bx_samples: builders of media test files, byte by byte as the formats' specifications
 * lay them out (PNG RFC 2083, JFIF, GIF89a, RIFF WebP, ISO/IEC 14496-12, Matroska). */
#include "bx_samples.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A growing byte buffer; a failed allocation makes every later call a no-op. */
typedef struct {
    unsigned char *p; /* bytes, heap */
    size_t len;       /* used */
    size_t cap;       /* allocated */
    int failed;       /* an allocation failed */
} s_buf_t;

static void s_put(s_buf_t *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2 + 64;
        unsigned char *grown = realloc(b->p, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
    if (data)
        memcpy(b->p + b->len, data, n);
    else
        memset(b->p + b->len, 0, n);
    b->len += n;
}

static void s_u8(s_buf_t *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    s_put(b, &c, 1);
}

static void s_be16(s_buf_t *b, uint32_t v)
{
    s_u8(b, v >> 8);
    s_u8(b, v);
}

static void s_be32(s_buf_t *b, uint32_t v)
{
    s_be16(b, v >> 16);
    s_be16(b, v);
}

static void s_le16(s_buf_t *b, uint32_t v)
{
    s_u8(b, v);
    s_u8(b, v >> 8);
}

static void s_le24(s_buf_t *b, uint32_t v)
{
    s_le16(b, v);
    s_u8(b, v >> 16);
}

static void s_le32(s_buf_t *b, uint32_t v)
{
    s_le16(b, v);
    s_le16(b, v >> 16);
}

/* Patches a big-endian 32-bit value at off (box sizes written after their content). */
static void s_patch_be32(s_buf_t *b, size_t off, uint32_t v)
{
    if (b->failed || off + 4 > b->len)
        return;
    b->p[off] = (unsigned char)(v >> 24);
    b->p[off + 1] = (unsigned char)(v >> 16);
    b->p[off + 2] = (unsigned char)(v >> 8);
    b->p[off + 3] = (unsigned char)v;
}

static unsigned char *s_done(s_buf_t *b, size_t *len)
{
    if (b->failed) {
        free(b->p);
        return NULL;
    }
    *len = b->len;
    return b->p;
}

/* ---- PNG ---- */

static void s_png_chunk(s_buf_t *b, const char *type, const unsigned char *data, uint32_t n)
{
    uLong crc = crc32(0L, (const Bytef *)type, 4);
    crc = crc32(crc, data, n);
    s_be32(b, n);
    s_put(b, type, 4);
    s_put(b, data, n);
    s_be32(b, (uint32_t)crc);
}

unsigned char *bx_sample_png(uint32_t w, uint32_t h, unsigned seed, size_t *len)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    unsigned char ihdr[13] = {0};
    s_buf_t b = {0};
    size_t raw_len = (size_t)(w + 1) * h;
    uLongf z_len = compressBound((uLong)raw_len);
    unsigned char *raw = malloc(raw_len), *z = malloc(z_len);
    for (uint32_t y = 0; raw && y < h; y++) {
        raw[(size_t)y * (w + 1)] = 0; /* filter: none */
        for (uint32_t x = 0; x < w; x++)
            raw[(size_t)y * (w + 1) + 1 + x] = (unsigned char)(x * (seed + 1) + y + seed);
    }
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (unsigned char)(w >> (24 - 8 * i));
        ihdr[4 + i] = (unsigned char)(h >> (24 - 8 * i));
    }
    ihdr[8] = 8; /* bit depth; colour type 0 (grey), compression, filter, interlace 0 */
    if (!raw || !z || compress2(z, &z_len, raw, (uLong)raw_len, 6) != Z_OK)
        b.failed = 1;
    s_put(&b, sig, 8);
    s_png_chunk(&b, "IHDR", ihdr, 13);
    s_png_chunk(&b, "IDAT", z, (uint32_t)z_len);
    s_png_chunk(&b, "IEND", NULL, 0);
    free(raw);
    free(z);
    return s_done(&b, len);
}

/* ---- JPEG ---- */

unsigned char *bx_sample_jpeg(uint32_t w, uint32_t h, size_t pad, size_t *len)
{
    static const unsigned char app0[] = {0xFF, 0xE0, 0x00, 0x10, 'J',  'F',  'I',  'F',  0x00,
                                         0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00};
    static const unsigned char sos[] = {0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00,
                                        0x02, 0x11, 0x03, 0x11, 0x00, 0x3F, 0x00};
    s_buf_t b = {0};
    s_be16(&b, 0xFFD8);
    s_put(&b, app0, sizeof app0);
    while (pad > 0) { /* APP1 segments of up to 65533 payload bytes */
        size_t n = pad > 65533 ? 65533 : pad;
        s_be16(&b, 0xFFE1);
        s_be16(&b, (uint32_t)n + 2);
        s_put(&b, NULL, n);
        pad -= n;
    }
    s_be16(&b, 0xFFDB); /* one quantization table */
    s_be16(&b, 67);
    s_u8(&b, 0);
    for (int i = 0; i < 64; i++)
        s_u8(&b, 1);
    s_be16(&b, 0xFFC0); /* baseline frame: 8 bits, h, w, 3 components */
    s_be16(&b, 17);
    s_u8(&b, 8);
    s_be16(&b, h);
    s_be16(&b, w);
    s_u8(&b, 3);
    for (unsigned c = 1; c <= 3; c++) {
        s_u8(&b, c);
        s_u8(&b, c == 1 ? 0x22 : 0x11);
        s_u8(&b, 0);
    }
    s_put(&b, sos, sizeof sos);
    for (int i = 0; i < 32; i++)
        s_u8(&b, 0x55);
    s_be16(&b, 0xFFD9);
    return s_done(&b, len);
}

/* ---- GIF ---- */

unsigned char *bx_sample_gif(uint32_t w, uint32_t h, size_t *len)
{
    static const unsigned char image[] = {0x02, 0x02, 0x44, 0x01, 0x00, 0x3B};
    s_buf_t b = {0};
    s_put(&b, "GIF89a", 6);
    s_le16(&b, w);
    s_le16(&b, h);
    s_u8(&b, 0x80); /* a global colour table of 2 entries */
    s_u8(&b, 0);
    s_u8(&b, 0);
    s_put(&b, "\xff\xff\xff\x00\x00\x00", 6);
    s_u8(&b, ',');
    s_le16(&b, 0);
    s_le16(&b, 0);
    s_le16(&b, w);
    s_le16(&b, h);
    s_u8(&b, 0);
    s_put(&b, image, sizeof image);
    return s_done(&b, len);
}

/* ---- WebP ---- */

unsigned char *bx_sample_webp(char variant, uint32_t w, uint32_t h, size_t *len)
{
    s_buf_t b = {0};
    s_put(&b, "RIFF", 4);
    s_le32(&b, 0); /* patched below */
    s_put(&b, "WEBP", 4);
    if (variant == 'L') {
        s_put(&b, "VP8L", 4);
        s_le32(&b, 5);
        s_u8(&b, 0x2F);
        s_le32(&b, (w - 1) | (h - 1) << 14);
    } else if (variant == 'X') {
        s_put(&b, "VP8X", 4);
        s_le32(&b, 10);
        s_le32(&b, 0);
        s_le24(&b, w - 1);
        s_le24(&b, h - 1);
    } else {
        s_put(&b, "VP8 ", 4);
        s_le32(&b, 10);
        s_put(&b, "\x30\x01\x00\x9d\x01\x2a", 6);
        s_le16(&b, w);
        s_le16(&b, h);
    }
    s_put(&b, NULL, 16);
    for (int i = 0; i < 4 && !b.failed; i++) /* RIFF size: what follows it */
        b.p[4 + i] = (unsigned char)((b.len - 8) >> (8 * i));
    return s_done(&b, len);
}

/* ---- MP4 ---- */

/* Opens a box: writes a size placeholder and the type, returns the size's offset. */
static size_t s_box_open(s_buf_t *b, const char *type)
{
    size_t at = b->len;
    s_be32(b, 0);
    s_put(b, type, 4);
    return at;
}

static void s_box_close(s_buf_t *b, size_t at)
{
    s_patch_be32(b, at, (uint32_t)(b->len - at));
}

/* A 3x3 identity matrix in 16.16 / 2.30 fixed point, as every movie header carries. */
static void s_matrix(s_buf_t *b)
{
    static const uint32_t m[9] = {0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000};
    for (int i = 0; i < 9; i++)
        s_be32(b, m[i]);
}

static void s_trak(s_buf_t *b, uint32_t id, uint32_t w, uint32_t h, uint32_t duration)
{
    size_t trak = s_box_open(b, "trak"), tkhd = s_box_open(b, "tkhd");
    s_be32(b, 3); /* version 0, flags enabled | in movie */
    s_be32(b, 0);
    s_be32(b, 0);
    s_be32(b, id);
    s_be32(b, 0);
    s_be32(b, duration);
    s_put(b, NULL, 8);
    s_be16(b, 0);
    s_be16(b, 0);
    s_be16(b, w ? 0 : 0x0100); /* audio has volume */
    s_be16(b, 0);
    s_matrix(b);
    s_be32(b, w << 16);
    s_be32(b, h << 16);
    s_box_close(b, tkhd);
    s_box_close(b, trak);
}

static void s_moov(s_buf_t *b, uint32_t w, uint32_t h, uint32_t duration_ms)
{
    size_t moov = s_box_open(b, "moov"), mvhd = s_box_open(b, "mvhd");
    s_be32(b, 0); /* version 0 */
    s_be32(b, 0);
    s_be32(b, 0);
    s_be32(b, 1000); /* timescale: milliseconds */
    s_be32(b, duration_ms);
    s_be32(b, 0x10000);
    s_be16(b, 0x0100);
    s_put(b, NULL, 10);
    s_matrix(b);
    s_put(b, NULL, 24);
    s_be32(b, 3);
    s_box_close(b, mvhd);
    s_trak(b, 1, 0, 0, duration_ms);
    s_trak(b, 2, w, h, duration_ms);
    s_box_close(b, moov);
}

unsigned char *bx_sample_mp4(uint32_t w, uint32_t h, uint32_t duration_ms, size_t mdat_bytes,
                             int moov_last, size_t *len)
{
    s_buf_t b = {0};
    size_t ftyp = s_box_open(&b, "ftyp");
    s_put(&b, "isom", 4);
    s_be32(&b, 0x200);
    s_put(&b, "isomiso2avc1mp41", 16);
    s_box_close(&b, ftyp);
    if (!moov_last)
        s_moov(&b, w, h, duration_ms);
    size_t mdat = s_box_open(&b, "mdat");
    s_put(&b, NULL, mdat_bytes);
    s_box_close(&b, mdat);
    if (moov_last)
        s_moov(&b, w, h, duration_ms);
    return s_done(&b, len);
}

/* ---- WebM ---- */

/* An element id (its bytes as written) and an 8-byte size vint; returns the size's
 * offset for s_ebml_close. */
static size_t s_ebml_open(s_buf_t *b, uint32_t id)
{
    for (int shift = 24; shift >= 0; shift -= 8)
        if (id >> shift || shift == 0)
            s_u8(b, id >> shift);
    size_t at = b->len;
    s_put(b, "\x01\x00\x00\x00\x00\x00\x00\x00", 8);
    return at;
}

static void s_ebml_close(s_buf_t *b, size_t at)
{
    uint64_t n = b->len - at - 8;
    for (int i = 7; i >= 1 && !b->failed; i--, n >>= 8)
        b->p[at + i] = (unsigned char)n;
}

static void s_ebml_uint(s_buf_t *b, uint32_t id, uint32_t v, int bytes)
{
    size_t at = s_ebml_open(b, id);
    for (int i = bytes - 1; i >= 0; i--)
        s_u8(b, v >> (8 * i));
    s_ebml_close(b, at);
}

static void s_ebml_str(s_buf_t *b, uint32_t id, const char *s)
{
    size_t at = s_ebml_open(b, id);
    s_put(b, s, strlen(s));
    s_ebml_close(b, at);
}

unsigned char *bx_sample_webm(uint32_t w, uint32_t h, double duration_ms, int matroska, size_t *len)
{
    s_buf_t b = {0};
    uint64_t bits;
    size_t hdr = s_ebml_open(&b, 0x1A45DFA3);
    s_ebml_uint(&b, 0x4286, 1, 1);
    s_ebml_uint(&b, 0x42F7, 1, 1);
    s_ebml_str(&b, 0x4282, matroska ? "matroska" : "webm");
    s_ebml_uint(&b, 0x4287, 4, 1);
    s_ebml_close(&b, hdr);
    size_t seg = s_ebml_open(&b, 0x18538067), info = s_ebml_open(&b, 0x1549A966);
    s_ebml_uint(&b, 0x2AD7B1, 1000000, 3);
    size_t dur = s_ebml_open(&b, 0x4489);
    memcpy(&bits, &duration_ms, sizeof bits);
    for (int i = 7; i >= 0; i--)
        s_u8(&b, (unsigned)(bits >> (8 * i)));
    s_ebml_close(&b, dur);
    s_ebml_close(&b, info);
    size_t tracks = s_ebml_open(&b, 0x1654AE6B), entry = s_ebml_open(&b, 0xAE);
    s_ebml_uint(&b, 0xD7, 1, 1);
    s_ebml_uint(&b, 0x83, 1, 1);
    s_ebml_str(&b, 0x86, "V_VP9");
    size_t video = s_ebml_open(&b, 0xE0);
    s_ebml_uint(&b, 0xB0, w, 2);
    s_ebml_uint(&b, 0xBA, h, 2);
    s_ebml_close(&b, video);
    s_ebml_close(&b, entry);
    s_ebml_close(&b, tracks);
    size_t cluster = s_ebml_open(&b, 0x1F43B675);
    s_put(&b, NULL, 64);
    s_ebml_close(&b, cluster);
    s_ebml_close(&b, seg);
    return s_done(&b, len);
}

/* ---- ELF ---- */

unsigned char *bx_sample_elf(size_t total, size_t *len)
{
    static const unsigned char ident[16] = {0x7F, 'E', 'L', 'F', 2, 1, 1, 0};
    s_buf_t b = {0};
    s_put(&b, ident, 16);
    s_le16(&b, 2);    /* ET_EXEC */
    s_le16(&b, 0x3E); /* x86-64 */
    s_le32(&b, 1);
    if (total > b.len)
        s_put(&b, NULL, total - b.len);
    return s_done(&b, len);
}
