/* fd_media_store: where media bytes live, behind a small vtable so that the backend is a
 * matter of configuration. Content is addressed by its SHA-256 (64 lower-case hex
 * characters): a key names one immutable content forever, so put is idempotent, get
 * never sees a partial write, and identical uploads are stored once. The database holds
 * what refers to a key (media, media_blobs); the store holds bytes only.
 *
 * The filesystem backend (fd_media_fs.c, the default) keeps <media_dir>/ab/cd/<sha256>,
 * written through a temporary file, fsync and rename. Another backend plugs in by
 * implementing these four operations and a constructor selected in fd_media_store_new;
 * docs/media.md describes an S3-compatible one.
 *
 * Threads: a store is created once at start-up and then shared by every HTTP thread, so
 * an implementation keeps no mutable shared state (the filesystem one has none; a
 * network one keeps a connection per thread in thread-local storage). */
#ifndef FD_MEDIA_STORE_H
#define FD_MEDIA_STORE_H

#include <stdint.h>

#include "bx_err.h"

typedef struct fd_media_store fd_media_store_t;

/* A readable view of stored content. */
typedef struct {
    int fd;        /* open descriptor positioned anywhere; the caller closes it */
    uint64_t size; /* bytes of content */
} fd_media_blob_t;

typedef struct {
    const char *name; /* "fs", ... for logs */
    /* Stores the len bytes readable from fd (read with pread from offset 0) under sha256,
     * durably before returning. When the key is already present nothing is written.
     * BX_OK, or BX_EUNAVAILABLE when the backend cannot store now (logged). */
    bx_err_t (*put)(fd_media_store_t *self, const char *sha256, int fd, uint64_t len);
    /* Opens the content of sha256 into *out (the caller closes out->fd). BX_ENOTFOUND
     * when the key is absent, BX_EUNAVAILABLE on a backend failure. */
    bx_err_t (*get)(fd_media_store_t *self, const char *sha256, fd_media_blob_t *out);
    /* Removes sha256; absent is fine. BX_OK or BX_EUNAVAILABLE. */
    bx_err_t (*del)(fd_media_store_t *self, const char *sha256);
    /* Frees the store. */
    void (*destroy)(fd_media_store_t *self);
} fd_media_store_ops_t;

/* Every store starts with its operations. */
struct fd_media_store {
    const fd_media_store_ops_t *ops; /* the backend's vtable */
};

/* Creates the store that the configuration selects (today: the filesystem store rooted
 * at media_dir, created when missing). Returns NULL after logging why (folder missing
 * and not creatable, not writable). The caller destroys it. */
fd_media_store_t *fd_media_store_new(void);

/* The filesystem backend rooted at dir (created when missing), or NULL (logged). */
fd_media_store_t *fd_media_fs_new(const char *dir);

/* Destroys *self_p (NULL-safe) and sets it to NULL. */
void fd_media_store_destroy(fd_media_store_t **self_p);

/* 1 if key is a SHA-256 in lower-case hex: the only keys a store accepts. */
int fd_media_key_valid(const char *key);

#endif
