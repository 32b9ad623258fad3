/* fd_media_fs: the filesystem media store: <dir>/ab/cd/<sha256>, each file written
 * through a temporary file in its final folder, fsync'd, renamed into place and the
 * folder fsync'd, so a key is either absent or complete, also across a crash. Stateless
 * after creation, so every HTTP thread may use it at once. */
#include "fd_media_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bx_config.h"
#include "bx_log.h"

/* Longest root folder: leaves room for "/ab/cd/<64 hex>" and temporary names. */
#define S_ROOT_MAX (PATH_MAX - 160)

typedef struct {
    fd_media_store_t base; /* first: the vtable */
    char root[S_ROOT_MAX]; /* the store's folder, without a trailing slash */
} s_fs_t;

/* Copy buffer size when the kernel cannot copy file to file itself. */
#define S_COPY_BUF 65536

int fd_media_key_valid(const char *key)
{
    size_t n = 0;
    for (; key && key[n]; n++)
        if (!((key[n] >= '0' && key[n] <= '9') || (key[n] >= 'a' && key[n] <= 'f')))
            return 0;
    return n == 64;
}

/* <root>/ab/cd into dir, and <root>/ab/cd/<key> into file when file is not NULL. */
static int s_paths(const s_fs_t *fs, const char *key, char dir[PATH_MAX], char file[PATH_MAX])
{
    int n = snprintf(dir, PATH_MAX, "%s/%.2s/%.2s", fs->root, key, key + 2);
    if (n < 0 || n >= PATH_MAX)
        return 0;
    n = file ? snprintf(file, PATH_MAX, "%s/%s", dir, key) : 0;
    return n >= 0 && n < PATH_MAX;
}

/* mkdir -p for the two fan-out levels below the root. */
static int s_mkdirs(const s_fs_t *fs, const char *key)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%.2s", fs->root, key);
    if (mkdir(path, 0750) && errno != EEXIST)
        return 0;
    snprintf(path, sizeof path, "%s/%.2s/%.2s", fs->root, key, key + 2);
    return !mkdir(path, 0750) || errno == EEXIST;
}

/* Copies len bytes of src (from offset 0) to dst, in the kernel when it can. */
static int s_copy(int src, int dst, uint64_t len)
{
    loff_t in = 0;
    while ((uint64_t)in < len) {
        ssize_t n = copy_file_range(src, &in, dst, NULL, (size_t)(len - (uint64_t)in), 0);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL))
            return 0;
        char buf[S_COPY_BUF];
        ssize_t r = pread(src, buf, sizeof buf, in);
        if (r <= 0 || write(dst, buf, (size_t)r) != r)
            return 0;
        in += r;
    }
    return 1;
}

/* fsync of a folder, so that a rename in it survives a crash. */
static int s_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ok = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static bx_err_t s_put(fd_media_store_t *self, const char *key, int fd, uint64_t len)
{
    s_fs_t *fs = (s_fs_t *)self;
    char dir[PATH_MAX], file[PATH_MAX], tmp[PATH_MAX];
    struct stat st;
    int out = -1, ok = 0;
    if (!fd_media_key_valid(key) || !s_paths(fs, key, dir, file))
        return BX_EINTERNAL;
    if (!stat(file, &st) && (uint64_t)st.st_size == len)
        return BX_OK; /* content-addressed: same key, same bytes */
    if (!s_mkdirs(fs, key) || snprintf(tmp, sizeof tmp, "%s/.tmp-XXXXXX", dir) >= PATH_MAX)
        goto out;
    out = mkostemp(tmp, O_CLOEXEC);
    if (out < 0)
        goto out;
    ok = s_copy(fd, out, len) && fchmod(out, 0640) == 0 && fsync(out) == 0 &&
         rename(tmp, file) == 0 && s_sync_dir(dir);
out:
    if (!ok)
        BX_WARN("could not store media %s in %s: %s", key, dir, strerror(errno));
    if (out >= 0)
        close(out);
    if (out >= 0 && !ok)
        unlink(tmp);
    return ok ? BX_OK : BX_EUNAVAILABLE;
}

static bx_err_t s_get(fd_media_store_t *self, const char *key, fd_media_blob_t *blob)
{
    s_fs_t *fs = (s_fs_t *)self;
    char dir[PATH_MAX], file[PATH_MAX];
    struct stat st;
    if (!fd_media_key_valid(key) || !s_paths(fs, key, dir, file))
        return BX_ENOTFOUND;
    blob->fd = open(file, O_RDONLY | O_CLOEXEC);
    if (blob->fd < 0) {
        if (errno == ENOENT)
            return BX_ENOTFOUND;
        BX_WARN("could not open media %s: %s", key, strerror(errno));
        return BX_EUNAVAILABLE;
    }
    if (fstat(blob->fd, &st)) {
        close(blob->fd);
        blob->fd = -1;
        return BX_EUNAVAILABLE;
    }
    blob->size = (uint64_t)st.st_size;
    return BX_OK;
}

static bx_err_t s_del(fd_media_store_t *self, const char *key)
{
    s_fs_t *fs = (s_fs_t *)self;
    char dir[PATH_MAX], file[PATH_MAX];
    if (!fd_media_key_valid(key) || !s_paths(fs, key, dir, file))
        return BX_OK;
    if (unlink(file) && errno != ENOENT) {
        BX_WARN("could not delete media %s: %s", key, strerror(errno));
        return BX_EUNAVAILABLE;
    }
    return BX_OK;
}

static void s_destroy(fd_media_store_t *self)
{
    free(self);
}

static const fd_media_store_ops_t s_ops = {"fs", s_put, s_get, s_del, s_destroy};

/* mkdir -p of path (modifies it temporarily). */
static int s_mkdir_p(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int ok = !mkdir(path, 0750) || errno == EEXIST;
        *p = '/';
        if (!ok)
            return 0;
    }
    return !mkdir(path, 0750) || errno == EEXIST;
}

fd_media_store_t *fd_media_fs_new(const char *dir)
{
    s_fs_t *fs = calloc(1, sizeof *fs);
    size_t n = dir ? strlen(dir) : 0;
    if (!fs || n == 0 || n >= sizeof fs->root) {
        BX_ERROR("media_dir must be a folder path of 1 to %zu characters", sizeof fs->root - 1);
        free(fs);
        return NULL;
    }
    memcpy(fs->root, dir, n + 1);
    while (n > 1 && fs->root[n - 1] == '/')
        fs->root[--n] = '\0';
    if (!s_mkdir_p(fs->root) || access(fs->root, W_OK | X_OK)) {
        BX_ERROR("media_dir %s is not a writable folder: %s", fs->root, strerror(errno));
        free(fs);
        return NULL;
    }
    fs->base.ops = &s_ops;
    return &fs->base;
}

fd_media_store_t *fd_media_store_new(void)
{
    return fd_media_fs_new(bx_config_str("media_dir"));
}

void fd_media_store_destroy(fd_media_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    (*self_p)->ops->destroy(*self_p);
    *self_p = NULL;
}
