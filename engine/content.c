/* SPDX-License-Identifier: MIT */
/* The content store of content.h: temp files, hashing, durable install. */
#include "content.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct of_content {
    char dir[3072];
    char tmp_dir[3072];
    char data_dir[3072];
};

struct of_content_tmp {
    struct of_content *cs;
    int fd;
    int finished;
    int installed;
    int64_t size;
    EVP_MD_CTX *md;
    char path[PATH_MAX];
    char hash[OF_HASH_HEX];
};

int
of_content_open(const char *dir, struct of_content **ret_cs, struct of_error *reterr)
{
    struct of_content *cs = calloc(1, sizeof(*cs));
    if (!cs)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    if ((size_t)snprintf(cs->dir, sizeof(cs->dir), "%s", dir) >= sizeof(cs->dir) - 16) {
        free(cs);
        return of_error_set(reterr, OF_E(TOO_LONG), "the cache directory path is too long");
    }
    snprintf(cs->tmp_dir, sizeof(cs->tmp_dir), "%s/tmp", dir);
    snprintf(cs->data_dir, sizeof(cs->data_dir), "%s/content", dir);
    int rc = of_mkdir_p(cs->tmp_dir, 0700);
    if (rc == 0)
        rc = of_mkdir_p(cs->data_dir, 0700);
    if (rc < 0) {
        free(cs);
        return of_error_set(reterr, OF_E(IO), "cannot create the cache directory: %s",
                            strerror(-rc));
    }
    *ret_cs = cs;
    return 0;
}

void
of_content_free(struct of_content *cs)
{
    free(cs);
}

const char *
of_content_dir(const struct of_content *cs)
{
    return cs->dir;
}

int
of_content_tmp_new(struct of_content *cs, struct of_content_tmp **ret_tmp, struct of_error *reterr)
{
    struct of_content_tmp *t = calloc(1, sizeof(*t));
    if (!t)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    t->cs = cs;
    t->fd = -1;
    unsigned char rnd[12];
    char hex[25];
    if (of_random(rnd, sizeof(rnd)) < 0) {
        free(t);
        return of_error_set(reterr, OF_E(IO), "no randomness for a temp name");
    }
    of_hex(rnd, sizeof(rnd), hex);
    snprintf(t->path, sizeof(t->path), "%s/%s", cs->tmp_dir, hex);
    t->fd = open(t->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    t->md = EVP_MD_CTX_new();
    if (t->fd < 0 || !t->md || EVP_DigestInit_ex(t->md, EVP_sha256(), NULL) != 1) {
        int e = errno;
        of_content_tmp_free(t);
        return of_error_set(reterr, OF_E(IO), "cannot create a temp file in the cache: %s",
                            strerror(e));
    }
    *ret_tmp = t;
    return 0;
}

int
of_content_tmp_write(struct of_content_tmp *tmp, const void *buf, size_t len,
                     struct of_error *reterr)
{
    if (tmp->finished)
        return of_error_set(reterr, OF_E(INTERNAL), "write after finish");
    int rc = of_write_all(tmp->fd, buf, len);
    if (rc < 0)
        return of_error_set(reterr, rc == -ENOSPC || rc == -EDQUOT ? OF_E(CACHE_FULL) : OF_E(IO),
                            "cannot write to the cache: %s", strerror(-rc));
    EVP_DigestUpdate(tmp->md, buf, len);
    tmp->size += (int64_t)len;
    return 0;
}

int64_t
of_content_tmp_size(const struct of_content_tmp *tmp)
{
    return tmp->size;
}

int
of_content_tmp_fd(const struct of_content_tmp *tmp)
{
    return tmp->fd;
}

int
of_content_tmp_finish(struct of_content_tmp *tmp, char *ret_hash, struct of_error *reterr)
{
    if (!tmp->finished) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        if (fsync(tmp->fd) < 0)
            return of_error_set(reterr, OF_E(IO), "cannot flush the cache: %s", strerror(errno));
        EVP_DigestFinal_ex(tmp->md, md, &n);
        of_hex(md, n, tmp->hash);
        tmp->finished = 1;
    }
    if (ret_hash)
        memcpy(ret_hash, tmp->hash, OF_HASH_HEX);
    return 0;
}

static void
content_path(const struct of_content *cs, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%.2s/%s", cs->data_dir, name, name);
}

int
of_content_tmp_install(struct of_content_tmp *tmp, char *ret_name, struct of_error *reterr)
{
    int rc = of_content_tmp_finish(tmp, NULL, reterr);
    if (rc < 0)
        return rc;
    unsigned char rnd[16];
    char name[OF_CONTENT_NAME_MAX], dst[PATH_MAX], sub[PATH_MAX];
    if (of_random(rnd, sizeof(rnd)) < 0)
        return of_error_set(reterr, OF_E(IO), "no randomness for a content name");
    of_hex(rnd, sizeof(rnd), name);
    snprintf(sub, sizeof(sub), "%s/%.2s", tmp->cs->data_dir, name);
    content_path(tmp->cs, name, dst, sizeof(dst));
    if (mkdir(sub, 0700) < 0 && errno != EEXIST)
        return of_error_set(reterr, OF_E(IO), "cannot create a cache directory: %s",
                            strerror(errno));
    if (rename(tmp->path, dst) < 0)
        return of_error_set(reterr, OF_E(IO), "cannot move content into the cache: %s",
                            strerror(errno));
    tmp->installed = 1;
    /*
     * The new name is durable once its directory is synced. The temp name
     * needs no sync: if a crash brings it back, start-up collects it.
     */
    if (of_fsync_dir(sub) < 0)
        of_log_warn("content: directory fsync failed: %s", strerror(errno));
    memcpy(ret_name, name, strlen(name) + 1);
    return 0;
}

void
of_content_tmp_free(struct of_content_tmp *tmp)
{
    if (!tmp)
        return;
    if (tmp->fd >= 0)
        close(tmp->fd);
    if (!tmp->installed && tmp->path[0])
        unlink(tmp->path);
    EVP_MD_CTX_free(tmp->md);
    free(tmp);
}

int
of_content_open_read(struct of_content *cs, const char *name, int *ret_fd, struct of_error *reterr)
{
    char path[PATH_MAX];
    if (!name[0] || strchr(name, '/'))
        return of_error_set(reterr, OF_E(INTERNAL), "bad content name");
    content_path(cs, name, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return of_error_set(reterr, OF_E(IO), "cached content is missing: %s", strerror(errno));
    *ret_fd = fd;
    return 0;
}

int
of_content_remove(struct of_content *cs, const char *name)
{
    char path[PATH_MAX];
    if (!name[0] || strchr(name, '/'))
        return 0;
    content_path(cs, name, path, sizeof(path));
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

static int
sweep(const char *dir, int (*keep)(void *ctx, const char *name), void *ctx)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int removed = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (keep && keep(ctx, de->d_name))
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

int
of_content_collect(struct of_content *cs, int (*is_live)(void *ctx, const char *name), void *ctx)
{
    int removed = sweep(cs->tmp_dir, NULL, NULL);
    DIR *d = opendir(cs->data_dir);
    if (!d)
        return removed;
    struct dirent *de;
    char sub[PATH_MAX];
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", cs->data_dir, de->d_name);
        removed += sweep(sub, is_live, ctx);
    }
    closedir(d);
    return removed;
}
