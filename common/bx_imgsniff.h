/* bx_imgsniff: what an uploaded file really is, read from its bytes and never from its
 * name or declared type: JPEG, PNG, WebP and GIF images with their pixel size, MP4 and
 * WebM videos with their frame size and duration when the container states them. Every
 * read is bounds-checked, so any input, however truncated or hostile, gets an answer.
 * Pure functions without allocation: safe from any thread. */
#ifndef BX_IMGSNIFF_H
#define BX_IMGSNIFF_H

#include <stddef.h>
#include <stdint.h>

#include "bx_err.h"

typedef enum {
    BX_SNIFF_UNKNOWN = 0, /* none of the formats below */
    BX_SNIFF_JPEG,
    BX_SNIFF_PNG,
    BX_SNIFF_WEBP,
    BX_SNIFF_GIF,
    BX_SNIFF_MP4,  /* ISO base media file with an MP4-family brand */
    BX_SNIFF_WEBM, /* Matroska with DocType "webm" */
} bx_sniff_kind_t;

/* What bx_imgsniff found. */
typedef struct {
    bx_sniff_kind_t kind; /* the format, or BX_SNIFF_UNKNOWN */
    int is_video;         /* 1 for MP4 and WebM */
    uint32_t width;       /* pixels; 0 when a video does not state it */
    uint32_t height;      /* pixels; 0 when a video does not state it */
    int64_t duration_ms;  /* videos: length when stated, else -1; images: -1 */
} bx_sniff_t;

/* Identifies data (len bytes) by its magic bytes and reads its dimensions. Returns BX_OK
 * with *out filled; BX_EMEDIATYPE when data is none of the supported formats (kind
 * UNKNOWN); BX_EUNPROCESSABLE when it starts like a supported format (kind says which)
 * but its header is truncated or inconsistent. *why (may be NULL) gets a static
 * lower-case reason on error. Never reads outside data. */
bx_err_t bx_imgsniff(const void *data, size_t len, bx_sniff_t *out, const char **why);

/* The MIME type of kind ("image/png", ...), or NULL for BX_SNIFF_UNKNOWN. Static. */
const char *bx_imgsniff_mime(bx_sniff_kind_t kind);

/* The kind a declared MIME type names (case-insensitive, parameters after ';' ignored,
 * image/jpg accepted for image/jpeg), or BX_SNIFF_UNKNOWN. NULL gives UNKNOWN. */
bx_sniff_kind_t bx_imgsniff_kind(const char *mime);

#endif
