/* bx_samples: small media files built in memory for tests: decodable PNG and GIF images,
 * JPEG and WebP files with the headers encoders write, MP4 and WebM containers stating a
 * frame size and a duration, and an ELF executable. Each returns a heap buffer that the
 * caller frees, with its length in *len; NULL only when memory runs out. */
#ifndef BX_SAMPLES_H
#define BX_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

/* A grayscale PNG of w x h whose pixels depend on seed (distinct seeds, distinct files). */
unsigned char *bx_sample_png(uint32_t w, uint32_t h, unsigned seed, size_t *len);

/* A baseline JPEG stream of w x h; pad bytes of APP segments come before the frame
 * header, as EXIF blocks and ICC profiles do. */
unsigned char *bx_sample_jpeg(uint32_t w, uint32_t h, size_t pad, size_t *len);

/* A GIF89a of w x h. */
unsigned char *bx_sample_gif(uint32_t w, uint32_t h, size_t *len);

/* A WebP of w x h whose first chunk is VP8 (variant ' '), VP8L ('L') or VP8X ('X'). */
unsigned char *bx_sample_webp(char variant, uint32_t w, uint32_t h, size_t *len);

/* An MP4 (brand isom) with an audio track (no size) and a w x h video track lasting
 * duration_ms, mdat_bytes of media data, and the movie header first or last. */
unsigned char *bx_sample_mp4(uint32_t w, uint32_t h, uint32_t duration_ms, size_t mdat_bytes,
                             int moov_last, size_t *len);

/* A WebM (DocType webm, or "matroska" when matroska is set) with one w x h video track
 * lasting duration_ms. */
unsigned char *bx_sample_webm(uint32_t w, uint32_t h, double duration_ms, int matroska,
                              size_t *len);

/* An x86-64 ELF executable header followed by zero bytes, total bytes in all. */
unsigned char *bx_sample_elf(size_t total, size_t *len);

#endif
