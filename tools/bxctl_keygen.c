/* bxctl keygen: creates an Ed25519 JWT signing key as <jwt_key_dir>/jwt-<kid>.pem
 * (PKCS#8 PEM, mode 0600), where kid is the first 16 hex characters of the SHA-256 of the
 * raw 32-byte public key. Existing keys are kept, so running it again adds a key for
 * rotation; --if-missing makes it do nothing when a key is already there. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bx_config.h"
#include "bx_util.h"
#include "bxctl.h"

#define S_KID_LEN 16

static const char *const S_CMD = "keygen";

/* mkdir -p with mode for every folder it creates. Returns 0 or -1 with errno set. */
static int s_mkdirs(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (bx_strlcpy(buf, path, sizeof buf) >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) && errno != EEXIST)
        return -1;
    return 0;
}

/* Returns 1 when dir holds a jwt-*.pem file and copies its name into found (cap bytes). */
static int s_has_key(const char *dir, char *found, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int has = 0;
    if (!d)
        return 0;
    while (!has && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 8 && !strncmp(e->d_name, "jwt-", 4) && !strcmp(e->d_name + n - 4, ".pem")) {
            bx_strlcpy(found, e->d_name, cap);
            has = 1;
        }
    }
    closedir(d);
    return has;
}

/* Computes the key id of pkey into kid. Returns 0 or -1. */
static int s_kid(EVP_PKEY *pkey, char kid[S_KID_LEN + 1])
{
    unsigned char pub[32];
    size_t len = sizeof pub;
    char hex[65];
    if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 || len != sizeof pub)
        return -1;
    bx_sha256_hex(pub, len, hex);
    memcpy(kid, hex, S_KID_LEN);
    kid[S_KID_LEN] = '\0';
    return 0;
}

/* Writes pkey as PEM to a temporary file beside path (0600, fsynced), then renames it
 * into place so that a reader never sees half a key. Returns 0 or -1. */
static int s_write_pem(EVP_PKEY *pkey, const char *path)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        bxctl_err(S_CMD, "could not create %s: %s", tmp, strerror(errno));
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    int ok = fchmod(fd, 0600) == 0 &&
             PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1 && fflush(f) == 0 &&
             fsync(fd) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path)) {
        bxctl_err(S_CMD, "could not write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int bxctl_keygen(int argc, char **argv)
{
    int if_missing = 0;
    const char *dir = bx_config_str("jwt_key_dir");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--if-missing")) {
            if_missing = 1;
        } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            dir = argv[++i];
        } else {
            bxctl_err(S_CMD, "unknown argument %s (usage: bxctl keygen [--if-missing] [--dir DIR])",
                      argv[i]);
            return BXCTL_USAGE;
        }
    }
    char existing[256];
    if (if_missing && s_has_key(dir, existing, sizeof existing)) {
        printf("signing key present: %s/%s\n", dir, existing);
        return BXCTL_OK;
    }
    if (s_mkdirs(dir, 0700)) {
        bxctl_err(S_CMD, "could not create %s: %s", dir, strerror(errno));
        return BXCTL_FAIL;
    }
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    char kid[S_KID_LEN + 1], path[PATH_MAX];
    int rc = BXCTL_FAIL;
    if (!pkey || s_kid(pkey, kid)) {
        bxctl_err(S_CMD, "could not generate an Ed25519 key");
    } else if (snprintf(path, sizeof path, "%s/jwt-%s.pem", dir, kid) >= (int)sizeof path) {
        bxctl_err(S_CMD, "could not name the key: folder path too long");
    } else if (s_write_pem(pkey, path) == 0) {
        printf("created Ed25519 signing key kid=%s in %s\n", kid, path);
        rc = BXCTL_OK;
    }
    EVP_PKEY_free(pkey);
    return rc;
}
