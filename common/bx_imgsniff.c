/* bx_imgsniff: magic-byte detection and header parsing of JPEG, PNG, WebP, GIF, MP4 and
 * WebM, with every read checked against the buffer's end. */
#include "bx_imgsniff.h"

#include <math.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

typedef const unsigned char *s_p;

static const struct {
    bx_sniff_kind_t kind; /* format */
    const char *mime;     /* its MIME type */
} s_mimes[] = {
    {BX_SNIFF_JPEG, "image/jpeg"}, {BX_SNIFF_PNG, "image/png"}, {BX_SNIFF_WEBP, "image/webp"},
    {BX_SNIFF_GIF, "image/gif"},   {BX_SNIFF_MP4, "video/mp4"}, {BX_SNIFF_WEBM, "video/webm"},
    {BX_SNIFF_JPEG, "image/jpg"}, /* a common misspelling of image/jpeg */
};
#define S_NMIMES (sizeof s_mimes / sizeof s_mimes[0])

/* ISO BMFF brands that make a file an MP4 (not QuickTime, HEIF, AVIF or 3GPP-only). */
static const char *const s_mp4_brands[] = {"isom", "iso2", "iso3", "iso4", "iso5", "iso6", "mp41",
                                           "mp42", "avc1", "M4V ", "dash", "mmp4", NULL};

/* ---- byte readers (callers check bounds first) ---- */

static uint32_t s_be16(s_p p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t s_be32(s_p p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t s_be64(s_p p)
{
    return (uint64_t)s_be32(p) << 32 | s_be32(p + 4);
}

static uint32_t s_le16(s_p p)
{
    return (uint32_t)p[1] << 8 | p[0];
}

static uint32_t s_le24(s_p p)
{
    return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t s_le32(s_p p)
{
    return s_le24(p) | (uint32_t)p[3] << 24;
}

/* Records a refusal reason and returns err. */
static bx_err_t s_bad(const char **why, const char *reason, bx_err_t err)
{
    if (why)
        *why = reason;
    return err;
}

/* Sets the size of an image; a zero side is a broken header. */
static bx_err_t s_dims(bx_sniff_t *out, uint32_t w, uint32_t h, const char **why)
{
    out->width = w;
    out->height = h;
    if (!w || !h)
        return s_bad(why, "the image header states a width or height of zero", BX_EUNPROCESSABLE);
    return BX_OK;
}

/* ---- images ---- */

static bx_err_t s_png(s_p p, size_t len, bx_sniff_t *out, const char **why)
{
    /* signature, then the IHDR chunk: length 13, type, width, height, 5 bytes, CRC */
    if (len < 33 || s_be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4))
        return s_bad(why, "the png has no complete IHDR header", BX_EUNPROCESSABLE);
    if (crc32(0L, p + 12, 17) != s_be32(p + 29))
        return s_bad(why, "the png header checksum is wrong", BX_EUNPROCESSABLE);
    if (s_be32(p + 16) > 0x7fffffffu || s_be32(p + 20) > 0x7fffffffu)
        return s_bad(why, "the png states an impossible size", BX_EUNPROCESSABLE);
    return s_dims(out, s_be32(p + 16), s_be32(p + 20), why);
}

static bx_err_t s_gif(s_p p, size_t len, bx_sniff_t *out, const char **why)
{
    if (len < 13) /* header and logical screen descriptor */
        return s_bad(why, "the gif has no complete screen descriptor", BX_EUNPROCESSABLE);
    return s_dims(out, s_le16(p + 6), s_le16(p + 8), why);
}

/* Start-of-frame markers carry the size: C0-C3, C5-C7, C9-CB, CD-CF. */
static int s_jpeg_sof(unsigned m)
{
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

/* Walks the marker segments up to the first frame header. */
static bx_err_t s_jpeg(s_p p, size_t len, bx_sniff_t *out, const char **why)
{
    size_t i = 2;
    while (i < len) {
        if (p[i] != 0xFF)
            return s_bad(why, "the jpeg marker stream is broken", BX_EUNPROCESSABLE);
        while (i < len && p[i] == 0xFF) /* fill bytes */
            i++;
        if (i >= len)
            break;
        unsigned m = p[i++];
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) /* markers without a segment */
            continue;
        if (m == 0xD8 || m == 0xD9 || m == 0xDA || m == 0x00)
            return s_bad(why, "the jpeg has no frame header before its image data",
                         BX_EUNPROCESSABLE);
        if (len - i < 2 || s_be16(p + i) < 2)
            break;
        size_t seg = s_be16(p + i);
        if (s_jpeg_sof(m)) {
            if (seg < 8 || len - i < 7)
                break;
            return s_dims(out, s_be16(p + i + 5), s_be16(p + i + 3), why);
        }
        i += seg;
    }
    return s_bad(why, "the jpeg ends before its frame header", BX_EUNPROCESSABLE);
}

/* RIFF "WEBP" with a VP8 (lossy), VP8L (lossless) or VP8X (extended) first chunk. */
static bx_err_t s_webp(s_p p, size_t len, bx_sniff_t *out, const char **why)
{
    if (len >= 30 && !memcmp(p + 12, "VP8 ", 4)) {
        if ((p[20] & 1) || p[23] != 0x9D || p[24] != 0x01 || p[25] != 0x2A)
            return s_bad(why, "the webp vp8 frame header is broken", BX_EUNPROCESSABLE);
        return s_dims(out, s_le16(p + 26) & 0x3FFF, s_le16(p + 28) & 0x3FFF, why);
    }
    if (len >= 25 && !memcmp(p + 12, "VP8L", 4)) {
        uint32_t bits = s_le32(p + 21);
        if (p[20] != 0x2F || bits >> 29)
            return s_bad(why, "the webp vp8l header is broken", BX_EUNPROCESSABLE);
        return s_dims(out, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, why);
    }
    if (len >= 30 && !memcmp(p + 12, "VP8X", 4))
        return s_dims(out, s_le24(p + 24) + 1, s_le24(p + 27) + 1, why);
    return s_bad(why, "the webp has no complete vp8, vp8l or vp8x header", BX_EUNPROCESSABLE);
}

/* ---- ISO base media (MP4) ---- */

/* One box: [start, end) of its payload and its type. */
typedef struct {
    size_t start; /* first payload byte */
    size_t end;   /* one past the last */
    char type[5]; /* four-character code */
} s_box_t;

/* Reads the box header at i within [i, end). Returns 0 when it does not fit. */
static int s_box(s_p p, size_t i, size_t end, s_box_t *b)
{
    if (end < i || end - i < 8)
        return 0;
    uint64_t size = s_be32(p + i), hdr = 8;
    if (size == 1) {
        if (end - i < 16)
            return 0;
        size = s_be64(p + i + 8);
        hdr = 16;
    } else if (size == 0) {
        size = end - i; /* to the end of the enclosing space */
    }
    if (size < hdr || size > end - i)
        return 0;
    memcpy(b->type, p + i + 4, 4);
    b->type[4] = '\0';
    b->start = i + (size_t)hdr;
    b->end = i + (size_t)size;
    return 1;
}

/* Finds the first child box of type within [start, end). */
static int s_box_find(s_p p, size_t start, size_t end, const char *type, s_box_t *out)
{
    s_box_t b;
    for (size_t i = start; s_box(p, i, end, &b); i = b.end) {
        if (!memcmp(b.type, type, 4)) {
            *out = b;
            return 1;
        }
    }
    return 0;
}

/* The ftyp box names an MP4 brand as major or compatible brand. */
static int s_mp4_branded(s_p p, const s_box_t *ftyp)
{
    for (size_t i = ftyp->start; i + 4 <= ftyp->end; i += 4) {
        if (i == ftyp->start + 4)
            continue; /* minor version, not a brand */
        for (const char *const *b = s_mp4_brands; *b; b++)
            if (!memcmp(p + i, *b, 4))
                return 1;
    }
    return 0;
}

/* Duration from moov/mvhd (version 0: 32-bit times, version 1: 64-bit). */
static void s_mp4_duration(s_p p, const s_box_t *moov, bx_sniff_t *out)
{
    s_box_t h;
    if (!s_box_find(p, moov->start, moov->end, "mvhd", &h))
        return;
    size_t n = h.end - h.start;
    int v1 = n > 0 && p[h.start] == 1;
    if (n < (v1 ? 32u : 20u))
        return;
    uint32_t scale = s_be32(p + h.start + (v1 ? 20 : 12));
    uint64_t dur = v1 ? s_be64(p + h.start + 24) : s_be32(p + h.start + 16);
    int unknown = v1 ? dur == UINT64_MAX : dur == 0xFFFFFFFFu;
    if (scale && !unknown && dur / scale < 100000000u)
        out->duration_ms = (int64_t)(dur / scale * 1000 + dur % scale * 1000 / scale);
}

/* Frame size from the first track header that has one (16.16 fixed point). */
static void s_mp4_size(s_p p, const s_box_t *moov, bx_sniff_t *out)
{
    s_box_t t, h;
    for (size_t i = moov->start; s_box(p, i, moov->end, &t); i = t.end) {
        if (memcmp(t.type, "trak", 4) || !s_box_find(p, t.start, t.end, "tkhd", &h))
            continue;
        size_t n = h.end - h.start, off = n > 0 && p[h.start] == 1 ? 88 : 76;
        if (n < off + 8)
            continue;
        uint32_t w = s_be32(p + h.start + off) >> 16, hh = s_be32(p + h.start + off + 4) >> 16;
        if (w && hh) {
            out->width = w;
            out->height = hh;
            return;
        }
    }
}

static bx_err_t s_mp4(s_p p, size_t len, bx_sniff_t *out, const char **why)
{
    s_box_t ftyp, moov;
    if (!s_box(p, 0, len, &ftyp) || ftyp.end - ftyp.start < 8 || !s_mp4_branded(p, &ftyp)) {
        out->kind = BX_SNIFF_UNKNOWN;
        return s_bad(why, "the file is an iso media file without an mp4 brand", BX_EMEDIATYPE);
    }
    if (!s_box_find(p, 0, len, "moov", &moov))
        return s_bad(why, "the mp4 has no complete movie header (moov)", BX_EUNPROCESSABLE);
    s_mp4_duration(p, &moov, out);
    s_mp4_size(p, &moov, out);
    return BX_OK;
}

/* ---- EBML (WebM) ---- */

/* Reads an EBML variable-length integer at *i (< end). With keep_marker (element ids) the
 * length marker stays in the value. *unknown is set for an all-ones size. */
static int s_vint(s_p p, size_t *i, size_t end, int keep_marker, uint64_t *v, int *unknown)
{
    if (*i >= end || !p[*i])
        return 0;
    unsigned n = 1;
    while (!(p[*i] & (0x80 >> (n - 1))))
        n++;
    if (n > 8 || end - *i < n)
        return 0;
    uint64_t val = keep_marker ? p[*i] : p[*i] & (0xFFu >> n);
    uint64_t ones = 0xFFu >> n;
    for (unsigned k = 1; k < n; k++) {
        val = val << 8 | p[*i + k];
        ones = ones << 8 | 0xFF;
    }
    if (unknown)
        *unknown = !keep_marker && val == ones;
    *i += n;
    *v = val;
    return 1;
}

/* Finds the first child element id within [start, end): its payload in *cs, *ce. An
 * element of unknown size extends to end; a truncated one is found only when partial is
 * set (a container whose beginning is useful), never for a value that would be cut. */
static int s_ebml_find(s_p p, size_t start, size_t end, uint64_t id, int partial, size_t *cs,
                       size_t *ce)
{
    size_t i = start;
    while (i < end) {
        uint64_t eid, size;
        int unknown = 0;
        if (!s_vint(p, &i, end, 1, &eid, NULL) || !s_vint(p, &i, end, 0, &size, &unknown))
            return 0;
        int cut = !unknown && size > end - i;
        if (eid == id && (!cut || partial)) {
            *cs = i;
            *ce = unknown || cut ? end : i + (size_t)size;
            return 1;
        }
        if (unknown || cut)
            return 0; /* nothing after it can be located */
        i += (size_t)size;
    }
    return 0;
}

/* An unsigned integer element (1..8 bytes) inside [start, end). */
static int s_ebml_uint(s_p p, size_t start, size_t end, uint64_t id, uint64_t *v)
{
    size_t cs, ce;
    if (!s_ebml_find(p, start, end, id, 0, &cs, &ce) || ce - cs < 1 || ce - cs > 8)
        return 0;
    *v = 0;
    for (size_t k = cs; k < ce; k++)
        *v = *v << 8 | p[k];
    return 1;
}

/* Segment/Info: Duration (float) in units of TimecodeScale nanoseconds. */
static void s_webm_duration(s_p p, size_t ss, size_t se, bx_sniff_t *out)
{
    size_t is, ie, ds, de;
    uint64_t scale = 1000000, raw;
    if (!s_ebml_find(p, ss, se, 0x1549A966, 1, &is, &ie))
        return;
    (void)s_ebml_uint(p, is, ie, 0x2AD7B1, &scale);
    if (!s_ebml_find(p, is, ie, 0x4489, 0, &ds, &de) || (de - ds != 4 && de - ds != 8))
        return;
    double d;
    if (de - ds == 4) {
        uint32_t u = s_be32(p + ds);
        float f;
        memcpy(&f, &u, sizeof f);
        d = f;
    } else {
        raw = s_be64(p + ds);
        memcpy(&d, &raw, sizeof d);
    }
    double ms = d * (double)scale / 1e6;
    if (isfinite(ms) && ms >= 0 && ms < 1e14)
        out->duration_ms = (int64_t)ms;
}

/* Segment/Tracks/TrackEntry/Video: PixelWidth and PixelHeight of the first video track. */
static void s_webm_size(s_p p, size_t ss, size_t se, bx_sniff_t *out)
{
    size_t ts, te, es, ee, vs, ve;
    uint64_t w = 0, h = 0;
    if (!s_ebml_find(p, ss, se, 0x1654AE6B, 1, &ts, &te))
        return;
    for (size_t i = ts; s_ebml_find(p, i, te, 0xAE, 1, &es, &ee); i = ee) {
        if (ee <= i)
            return;
        if (s_ebml_find(p, es, ee, 0xE0, 1, &vs, &ve) && s_ebml_uint(p, vs, ve, 0xB0, &w) &&
            s_ebml_uint(p, vs, ve, 0xBA, &h) && w && h && w <= UINT32_MAX && h <= UINT32_MAX) {
            out->width = (uint32_t)w;
            out->height = (uint32_t)h;
            return;
        }
    }
}

static bx_err_t s_webm(s_p p, size_t len, bx_sniff_t *out, const char **why)
{
    size_t hs, he, ds, de, ss, se;
    if (!s_ebml_find(p, 0, len, 0x1A45DFA3, 1, &hs, &he) ||
        !s_ebml_find(p, hs, he, 0x4282, 0, &ds, &de))
        return s_bad(why, "the ebml header is truncated", BX_EUNPROCESSABLE);
    if (de - ds != 4 || memcmp(p + ds, "webm", 4)) {
        out->kind = BX_SNIFF_UNKNOWN;
        return s_bad(why, "the file is matroska but not webm", BX_EMEDIATYPE);
    }
    if (!s_ebml_find(p, he, len, 0x18538067, 1, &ss, &se))
        return s_bad(why, "the webm has no segment", BX_EUNPROCESSABLE);
    s_webm_duration(p, ss, se, out);
    s_webm_size(p, ss, se, out);
    return BX_OK;
}

/* ---- dispatch ---- */

static bx_sniff_kind_t s_magic(s_p p, size_t len)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return BX_SNIFF_JPEG;
    if (len >= 8 && !memcmp(p, png, 8))
        return BX_SNIFF_PNG;
    if (len >= 16 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
        return BX_SNIFF_WEBP;
    if (len >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6)))
        return BX_SNIFF_GIF;
    if (len >= 12 && !memcmp(p + 4, "ftyp", 4))
        return BX_SNIFF_MP4;
    if (len >= 4 && p[0] == 0x1A && p[1] == 0x45 && p[2] == 0xDF && p[3] == 0xA3)
        return BX_SNIFF_WEBM;
    return BX_SNIFF_UNKNOWN;
}

bx_err_t bx_imgsniff(const void *data, size_t len, bx_sniff_t *out, const char **why)
{
    s_p p = data;
    memset(out, 0, sizeof *out);
    out->duration_ms = -1;
    out->kind = p ? s_magic(p, len) : BX_SNIFF_UNKNOWN;
    out->is_video = out->kind == BX_SNIFF_MP4 || out->kind == BX_SNIFF_WEBM;
    switch (out->kind) {
    case BX_SNIFF_JPEG:
        return s_jpeg(p, len, out, why);
    case BX_SNIFF_PNG:
        return s_png(p, len, out, why);
    case BX_SNIFF_WEBP:
        return s_webp(p, len, out, why);
    case BX_SNIFF_GIF:
        return s_gif(p, len, out, why);
    case BX_SNIFF_MP4:
        return s_mp4(p, len, out, why);
    case BX_SNIFF_WEBM:
        return s_webm(p, len, out, why);
    case BX_SNIFF_UNKNOWN:
        break;
    }
    return s_bad(why, "the content is not a jpeg, png, webp or gif image nor an mp4 or webm video",
                 BX_EMEDIATYPE);
}

const char *bx_imgsniff_mime(bx_sniff_kind_t kind)
{
    for (size_t i = 0; i < S_NMIMES; i++)
        if (s_mimes[i].kind == kind)
            return s_mimes[i].mime;
    return NULL;
}

bx_sniff_kind_t bx_imgsniff_kind(const char *mime)
{
    size_t n = mime ? strcspn(mime, "; \t") : 0;
    for (size_t i = 0; n && i < S_NMIMES; i++)
        if (strlen(s_mimes[i].mime) == n && !strncasecmp(mime, s_mimes[i].mime, n))
            return s_mimes[i].kind;
    return BX_SNIFF_UNKNOWN;
}
