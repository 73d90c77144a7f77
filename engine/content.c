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
    char tmp_dir[3072]; /* where older versions kept temp files: still swept at start */
    char data_dir[3072];
    int data_fd;    /* the content directory, for syncfs */
    int tmpfile_ok; /* O_TMPFILE and linkat through /proc work here */
};

/* Writeback of a batched file is started every this many bytes. */
#define KICK_BYTES ((int64_t)8 << 20)

struct of_content_tmp {
    struct of_content *cs;
    int fd;
    int finished;
    int installed;
    int batched;
    int64_t size;
    int64_t kicked; /* writeback started for [0, kicked) */
    EVP_MD_CTX *md;
    char name[OF_CONTENT_NAME_MAX]; /* the name it will be installed under */
    char bucket[PATH_MAX];          /* the directory it will live in */
    char tmp_path[PATH_MAX + 48];   /* its temp name; "" for an O_TMPFILE */
    char hash[OF_HASH_HEX];
};

/* Can this filesystem make unnamed files and link them in later? */
static int
probe_tmpfile(const char *dir)
{
    char link[PATH_MAX], proc[64];
    unsigned char rnd[8];
    char hex[17];
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 || of_random(rnd, sizeof(rnd)) < 0) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    of_hex(rnd, sizeof(rnd), hex);
    snprintf(link, sizeof(link), "%s/t-probe-%s", dir, hex);
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    int ok = linkat(AT_FDCWD, proc, AT_FDCWD, link, AT_SYMLINK_FOLLOW) == 0;
    if (ok)
        unlink(link);
    close(fd);
    return ok;
}

int
of_content_open(const char *dir, struct of_content **ret_cs, struct of_error *reterr)
{
    struct of_content *cs = calloc(1, sizeof(*cs));
    if (!cs)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    cs->data_fd = -1;
    if ((size_t)snprintf(cs->dir, sizeof(cs->dir), "%s", dir) >= sizeof(cs->dir) - 16) {
        free(cs);
        return of_error_set(reterr, OF_E(TOO_LONG), "the cache directory path is too long");
    }
    snprintf(cs->tmp_dir, sizeof(cs->tmp_dir), "%s/tmp", dir);
    snprintf(cs->data_dir, sizeof(cs->data_dir), "%s/content", dir);
    int rc = of_mkdir_p(cs->data_dir, 0700);
    if (rc == 0 && (cs->data_fd = open(cs->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        rc = -errno;
    if (rc < 0) {
        of_content_free(cs);
        return of_error_set(reterr, OF_E(IO), "cannot create the cache directory: %s",
                            strerror(-rc));
    }
    cs->tmpfile_ok = probe_tmpfile(cs->data_dir);
    if (!cs->tmpfile_ok)
        of_log_info("content: no O_TMPFILE here; temp files get names");
    *ret_cs = cs;
    return 0;
}

void
of_content_free(struct of_content *cs)
{
    if (!cs)
        return;
    if (cs->data_fd >= 0)
        close(cs->data_fd);
    free(cs);
}

void
of_content_use_named_temps(struct of_content *cs)
{
    cs->tmpfile_ok = 0;
}

const char *
of_content_dir(const struct of_content *cs)
{
    return cs->dir;
}

/* Open the file that will hold the content, in its bucket (made on first use). */
static int
tmp_open(struct of_content_tmp *t)
{
    struct of_content *cs = t->cs;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (cs->tmpfile_ok)
            t->fd = open(t->bucket, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        else
            t->fd = open(t->tmp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (t->fd >= 0 || errno != ENOENT)
            break;
        if (mkdir(t->bucket, 0700) < 0 && errno != EEXIST)
            break;
    }
    return t->fd >= 0 ? 0 : -errno;
}

static int
tmp_new(struct of_content *cs, int batched, struct of_content_tmp **ret_tmp,
        struct of_error *reterr)
{
    struct of_content_tmp *t = calloc(1, sizeof(*t));
    if (!t)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    t->cs = cs;
    t->fd = -1;
    t->batched = batched;
    unsigned char rnd[16];
    if (of_random(rnd, sizeof(rnd)) < 0) {
        free(t);
        return of_error_set(reterr, OF_E(IO), "no randomness for a content name");
    }
    of_hex(rnd, sizeof(rnd), t->name);
    snprintf(t->bucket, sizeof(t->bucket), "%s/%.2s", cs->data_dir, t->name);
    int rc = 0;
    if (!cs->tmpfile_ok && (size_t)snprintf(t->tmp_path, sizeof(t->tmp_path), "%s/t-%s", t->bucket,
                                            t->name) >= sizeof(t->tmp_path))
        rc = -ENAMETOOLONG;
    if (rc == 0)
        rc = tmp_open(t);
    t->md = EVP_MD_CTX_new();
    if (rc < 0 || !t->md || EVP_DigestInit_ex(t->md, EVP_sha256(), NULL) != 1) {
        of_content_tmp_free(t);
        return of_error_set(reterr, OF_E(IO), "cannot create a temp file in the cache: %s",
                            strerror(rc < 0 ? -rc : ENOMEM));
    }
    *ret_tmp = t;
    return 0;
}

int
of_content_tmp_new(struct of_content *cs, struct of_content_tmp **ret_tmp, struct of_error *reterr)
{
    return tmp_new(cs, 0, ret_tmp, reterr);
}

int
of_content_tmp_new_batched(struct of_content *cs, struct of_content_tmp **ret_tmp,
                           struct of_error *reterr)
{
    return tmp_new(cs, 1, ret_tmp, reterr);
}

/* Start writing back what arrived since the last kick; the batch's sync then waits less. */
static void
kick(struct of_content_tmp *tmp)
{
    if (tmp->size > tmp->kicked) {
        sync_file_range(tmp->fd, tmp->kicked, tmp->size - tmp->kicked, SYNC_FILE_RANGE_WRITE);
        tmp->kicked = tmp->size;
    }
}

int
of_content_sync(struct of_content *cs, struct of_error *reterr)
{
    if (syncfs(cs->data_fd) < 0)
        return of_error_set(reterr, OF_E(IO), "cannot flush the cache: %s", strerror(errno));
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
    if (tmp->batched && tmp->size - tmp->kicked >= KICK_BYTES)
        kick(tmp);
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
        if (tmp->batched)
            kick(tmp);
        else if (fsync(tmp->fd) < 0)
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
    if (tmp->installed)
        return of_error_set(reterr, OF_E(INTERNAL), "content installed twice");
    char dst[PATH_MAX], proc[64];
    content_path(tmp->cs, tmp->name, dst, sizeof(dst));
    if (tmp->tmp_path[0]) {
        rc = rename(tmp->tmp_path, dst);
    } else {
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tmp->fd);
        rc = linkat(AT_FDCWD, proc, AT_FDCWD, dst, AT_SYMLINK_FOLLOW);
    }
    if (rc < 0)
        return of_error_set(reterr, OF_E(IO), "cannot move content into the cache: %s",
                            strerror(errno));
    tmp->installed = 1;
    /* The new name is durable once its directory is synced (batched: by of_content_sync). */
    if (!tmp->batched && of_fsync_dir(tmp->bucket) < 0)
        of_log_warn("content: directory fsync failed: %s", strerror(errno));
    memcpy(ret_name, tmp->name, strlen(tmp->name) + 1);
    return 0;
}

void
of_content_tmp_free(struct of_content_tmp *tmp)
{
    if (!tmp)
        return;
    if (tmp->fd >= 0)
        close(tmp->fd);
    if (!tmp->installed && tmp->tmp_path[0])
        unlink(tmp->tmp_path);
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
        /* A named temp file ("t-...") is never live: no row names it yet. */
        if (keep && strncmp(de->d_name, "t-", 2) != 0 && keep(ctx, de->d_name))
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
