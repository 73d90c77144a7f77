/* SPDX-License-Identifier: MIT */
/*
 * The fs backend: a share is a directory on this host, local or a mounted
 * network share. Every operation opens the root by path, so a share that was
 * unmounted or removed is noticed at once, then resolves the share-relative
 * path beneath it (fs_util.c), so that no "..", absolute path or symlink
 * leads outside the root. Writes land in a temp file (".of-tmp-<hex>", never
 * listed) in the target's directory and appear by rename. The object owns
 * only its copy of the root path, which never changes: every operation is
 * thread-safe.
 */
#include "fs_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "path.h"
#include "util.h"

#define CHUNK ((size_t)128 * 1024)
#define TMP_PREFIX ".of-tmp-"
#define TMP_PREFIX_LEN (sizeof(TMP_PREFIX) - 1)
#define TMP_NAME_MAX (TMP_PREFIX_LEN + 16 + 1)

struct fs_backend {
    struct of_backend base;
    char root[]; /* absolute path of the share's directory */
};

/* Defense in depth: the engine validated rel, but this is the last line before the disk. */
static int
check_rel(const char *rel, struct of_error *err)
{
    if (of_path_validate_rel(rel, err) < 0)
        return of_error_set(err, OF_E(BAD_PATH), "'%s' is not a valid share path", rel);
    /* Our temp files are invisible to list; they must be unreachable by name too. */
    for (const char *p = rel;; p++) {
        if (strncmp(p, TMP_PREFIX, TMP_PREFIX_LEN) == 0)
            return of_error_set(err, OF_E(BAD_PATH),
                                "'%s': names starting with '" TMP_PREFIX "' are reserved", rel);
        p = strchr(p, '/');
        if (!p)
            return 0;
    }
}

/*
 * Opened anew by path each time, never cached: a share that went away must
 * fail now rather than be served from a stale descriptor. Any failure here is
 * the share's, not the item's.
 */
static int
root_open(const struct fs_backend *fs, struct of_error *err)
{
    int fd = open(fs->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    if (errno == ENOMEM || errno == EMFILE || errno == ENFILE)
        return fs_fail(err, errno, "opening", "");
    return of_error_set(err, OF_E(UNAVAILABLE), "the share root cannot be opened: %s",
                        fs_why(errno));
}

/* Only files and directories exist for the engine; 0, or -1 for anything else. */
static int
to_stat(const struct stat *st, const char *name, struct of_stat *out)
{
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
        return -1;
    int64_t ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    out->type = S_ISDIR(st->st_mode) ? OF_STAT_DIR : OF_STAT_FILE;
    out->size = S_ISDIR(st->st_mode) ? 0 : (int64_t)st->st_size;
    out->mtime_ns = ns;
    out->attrs = 0;
    if (S_ISDIR(st->st_mode))
        out->attrs |= OF_ATTR_DIRECTORY;
    if (!(st->st_mode & S_IWUSR))
        out->attrs |= OF_ATTR_READONLY;
    if (name[0] == '.')
        out->attrs |= OF_ATTR_HIDDEN;
    /* A rename gives a new inode, an in-place edit a new size or mtime. */
    snprintf(out->etag, sizeof(out->etag), "%" PRIx64 "-%" PRIx64 "-%" PRIx64 "-%" PRIx64,
             (uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size, (uint64_t)ns);
    return 0;
}

static int
stat_rel(int rootfd, const char *rel, struct of_stat *ret_st, struct of_error *err)
{
    struct stat st;
    struct of_stat out;
    int fd = fs_beneath(rootfd, rel, O_PATH);
    if (fd < 0)
        return fs_item_fail(rootfd, rel, -fd, err);
    int rc = fstat(fd, &st) < 0 ? fs_fail(err, errno, "reading", rel) : 0;
    close(fd);
    if (rc == 0 && to_stat(&st, of_path_name(rel), &out) < 0)
        rc = of_error_set(err, OF_E(NOT_FOUND), "'%s' is neither a file nor a directory", rel);
    if (rc == 0)
        *ret_st = out;
    return rc;
}

/* if_match is a non-empty etag: the item at rel must still carry it. */
static int
check_etag(int rootfd, const char *rel, const char *if_match, struct of_error *err)
{
    struct of_stat cur;
    int rc = stat_rel(rootfd, rel, &cur, err);
    if (rc == OF_E(NOT_FOUND) || rc == OF_E(PARENT_MISSING))
        return of_error_set(err, OF_E(PRECONDITION), "'%s' no longer exists", rel);
    if (rc != 0)
        return rc;
    if (strcmp(cur.etag, if_match) != 0)
        return of_error_set(err, OF_E(PRECONDITION), "'%s' has changed since etag %s", rel,
                            if_match);
    return 0;
}

/* The rename is already visible; a failed flush only weakens durability. */
static void
sync_dir(int dfd, const char *rel)
{
    if (fsync(dfd) < 0 && errno != EINVAL)
        of_log_warn("fs: flushing the directory of '%s' failed: %s", rel, fs_why(errno));
}

/* What one operation holds: the root, and for WHOLE-less modes the item's directory. */
struct op {
    int rootfd;
    int dfd;
    const char *name;
    char parent[OF_PATH_MAX + 1];
};

/* WHOLE: rel is resolved by the caller; LOOKUP, CREATE: open the directory holding rel. */
enum op_mode { WHOLE, LOOKUP, CREATE };

static int
op_begin(struct of_backend *be, const char *rel, enum op_mode mode, struct op *op,
         struct of_error *err)
{
    op->rootfd = op->dfd = -1;
    if (!rel) {
        of_error_set(err, OF_E(BAD_PATH), "no path given");
        return OF_E(BAD_PATH);
    }
    int rc = check_rel(rel, err);
    if (rc != 0)
        return rc;
    op->rootfd = root_open((struct fs_backend *)be, err);
    if (op->rootfd < 0 || mode == WHOLE)
        return op->rootfd < 0 ? op->rootfd : 0;
    op->name = fs_split(rel, op->parent);
    op->dfd = fs_beneath(op->rootfd, op->parent, O_RDONLY | O_DIRECTORY);
    return op->dfd < 0 ? fs_parent_fail(op->rootfd, op->parent, -op->dfd, mode == CREATE, err) : 0;
}

static void
op_end(struct op *op)
{
    if (op->dfd >= 0)
        close(op->dfd);
    if (op->rootfd >= 0)
        close(op->rootfd);
}

static int
fs_stat(struct of_backend *be, const char *rel, struct of_stat *ret_st, struct of_error *err)
{
    struct op op;
    int rc = op_begin(be, rel, WHOLE, &op, err);
    if (rc == 0)
        rc = stat_rel(op.rootfd, rel, ret_st, err);
    op_end(&op);
    return rc;
}

/* Names the engine never sees: our temp files, and names no share path can carry. */
static int
skip_name(const char *name)
{
    size_t len = strlen(name);
    return strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
           strncmp(name, TMP_PREFIX, TMP_PREFIX_LEN) == 0 || of_path_segment_check(name, len) < 0;
}

/* Stat one entry: 0, 1 to skip it (vanished, special, symlink leading out), or -errno. */
static int
entry_stat(int rootfd, int dfd, const char *rel, const char *name, struct stat *st)
{
    char path[OF_PATH_MAX + 1];
    if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 1 : -errno;
    if (S_ISLNK(st->st_mode)) {
        int n = snprintf(path, sizeof(path), "%s%s%s", rel, rel[0] ? "/" : "", name);
        if (n < 0 || (size_t)n >= sizeof(path))
            return 1;
        int fd = fs_beneath(rootfd, path, O_PATH);
        if (fd < 0)
            return fs_is_unreachable(-fd) ? fd : 1;
        int rc = fstat(fd, st) < 0 ? -errno : 0;
        close(fd);
        if (rc < 0)
            return rc;
    }
    return S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) ? 0 : 1;
}

static int
collect(int rootfd, DIR *d, const char *rel, struct of_dirent **ret_v, size_t *ret_n,
        struct of_error *err)
{
    struct of_dirent *v = NULL;
    size_t n = 0, cap = 0, rellen = strlen(rel);
    int rc = 0;
    for (;;) {
        struct stat st;
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                rc = fs_fail(err, errno, "listing", rel);
            break;
        }
        /* An entry whose path would be too long cannot be named by the engine either. */
        if (skip_name(de->d_name) || rellen + 1 + strlen(de->d_name) > OF_PATH_MAX)
            continue;
        int r = entry_stat(rootfd, dirfd(d), rel, de->d_name, &st);
        if (r < 0) {
            rc = fs_fail(err, -r, "listing", rel);
            break;
        }
        if (r > 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct of_dirent *nv = reallocarray(v, ncap, sizeof(*v));
            if (!nv) {
                rc = of_error_set(err, OF_E(NOMEM), "out of memory listing '%s'", fs_shown(rel));
                break;
            }
            v = nv;
            cap = ncap;
        }
        snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
        to_stat(&st, de->d_name, &v[n].st);
        n++;
    }
    if (rc != 0) {
        free(v);
        return rc;
    }
    *ret_v = v;
    *ret_n = n;
    return 0;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct of_dirent *)a)->name, ((const struct of_dirent *)b)->name);
}

static int
fs_list(struct of_backend *be, const char *rel, struct of_dirent **ret_entries, size_t *ret_count,
        struct of_error *err)
{
    struct of_dirent *v = NULL;
    size_t n = 0;
    struct op op;
    int rc = op_begin(be, rel, WHOLE, &op, err);
    if (rc != 0)
        goto out;
    int fd = fs_beneath(op.rootfd, rel, O_RDONLY | O_DIRECTORY);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        rc = fd < 0 ? fs_item_fail(op.rootfd, rel, -fd, err) : fs_fail(err, errno, "listing", rel);
        if (fd >= 0)
            close(fd);
        goto out;
    }
    rc = collect(op.rootfd, d, rel, &v, &n, err);
    closedir(d);
    if (rc == 0) {
        /* Sorted, so that callers and tests see a stable order. */
        if (n > 1)
            qsort(v, n, sizeof(*v), by_name);
        *ret_entries = v;
        *ret_count = n;
    }
out:
    op_end(&op);
    return rc;
}

/*
 * Open the regular file rel for reading. The type is checked on an O_PATH
 * handle first, so that a FIFO or a device node is never opened.
 */
static int
open_file(int rootfd, const char *rel, struct stat *ret, struct of_error *err)
{
    struct stat st;
    int fd = fs_beneath(rootfd, rel, O_PATH);
    if (fd < 0)
        return fs_item_fail(rootfd, rel, -fd, err);
    int rc = fstat(fd, &st) < 0 ? fs_fail(err, errno, "reading", rel) : 0;
    close(fd);
    if (rc != 0)
        return rc;
    if (S_ISREG(st.st_mode)) {
        fd = fs_beneath(rootfd, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
            return fs_item_fail(rootfd, rel, -fd, err);
        /* Swapped for something else between the two opens: judge what we hold. */
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            *ret = st;
            return fd;
        }
        close(fd);
    }
    return of_error_set(err, OF_E(NOT_A_FILE), "'%s' is not a file", fs_shown(rel));
}

static int
fs_read(struct of_backend *be, const char *rel, int64_t offset, int64_t length,
        const struct of_sink *sink, struct of_stat *ret_st, struct of_error *err)
{
    struct stat st = {0};
    struct of_stat out;
    struct op op;
    char *buf = NULL;
    if (offset < 0)
        return of_error_set(err, OF_E(BAD_RANGE), "a read cannot start before the file");
    int fd = -1, rc = op_begin(be, rel, WHOLE, &op, err);
    if (rc != 0)
        goto out;
    fd = open_file(op.rootfd, rel, &st, err);
    buf = fd < 0 ? NULL : malloc(CHUNK);
    if (!buf) {
        rc = fd < 0 ? fd : of_error_set(err, OF_E(NOMEM), "out of memory reading '%s'", rel);
        goto out;
    }
    /* Past the end there is nothing to read, and offset + done must not overflow. */
    if (offset >= (int64_t)st.st_size)
        length = 0;
    for (int64_t done = 0; length < 0 || done < length;) {
        size_t want =
            length < 0 || length - done > (int64_t)CHUNK ? CHUNK : (size_t)(length - done);
        ssize_t got = of_pread_full(fd, buf, want, (off_t)(offset + done));
        if (got <= 0) {
            rc = got < 0 ? fs_fail(err, (int)-got, "reading", rel) : 0;
            break;
        }
        rc = sink->write(sink->ctx, buf, (size_t)got);
        if (rc != 0) {
            rc = of_error_set(err, rc < 0 ? rc : OF_E(INTERNAL),
                              "the transfer of '%s' was stopped by its receiver", rel);
            break;
        }
        done += got;
    }
    if (rc == 0 && ret_st) {
        to_stat(&st, of_path_name(rel), &out);
        *ret_st = out;
    }
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    op_end(&op);
    return rc;
}

/* Create a fresh temp file in dfd, its name into tmp (TMP_NAME_MAX bytes); fd or -errno. */
static int
tmp_create(int dfd, char *tmp)
{
    for (int tries = 0; tries < 4; tries++) {
        unsigned char rnd[8];
        char hex[2 * sizeof(rnd) + 1];
        int rc = of_random(rnd, sizeof(rnd));
        if (rc < 0)
            return rc;
        of_hex(rnd, sizeof(rnd), hex);
        snprintf(tmp, TMP_NAME_MAX, TMP_PREFIX "%s", hex);
        int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST)
            return fd >= 0 ? fd : -errno;
    }
    return -EEXIST;
}

/* Copy all of fd_in, from offset 0 whatever its position, into out. */
static int
copy_all(int fd_in, int out, const char *rel, struct of_error *err)
{
    off_t off = 0;
    ssize_t n;
    /* Our own offset leaves the caller's position alone; the kernel may copy without us. */
    while ((n = copy_file_range(fd_in, &off, out, NULL, CHUNK, 0)) > 0)
        ;
    if (n == 0)
        return 0;
    if (errno == ENOSPC || errno == EDQUOT)
        return fs_fail(err, errno, "writing", rel);
    /* Anything else (cross-filesystem, a pipe, an old kernel): go on by hand from there. */
    char *buf = malloc(CHUNK);
    if (!buf)
        return of_error_set(err, OF_E(NOMEM), "out of memory writing '%s'", rel);
    int rc = 0;
    for (;;) {
        ssize_t got = of_pread_full(fd_in, buf, CHUNK, off);
        if (got < 0)
            rc = of_error_set(err, OF_E(IO), "cannot read the new content of '%s': %s", rel,
                              fs_why((int)-got));
        if (got <= 0)
            break;
        int w = of_write_all(out, buf, (size_t)got);
        if (w < 0) {
            rc = fs_fail(err, -w, "writing", rel);
            break;
        }
        off += got;
    }
    free(buf);
    return rc;
}

/* Move the finished temp file to name: atomically, and for create-only never over an item. */
static int
put(int dfd, const char *tmp, const char *name, int create_only, const char *rel,
    struct of_error *err)
{
    if (!create_only)
        return renameat(dfd, tmp, dfd, name) < 0 ? fs_fail(err, errno, "replacing", rel) : 0;
    if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) == 0)
        return 0;
    int e = errno;
    /* Some network filesystems lack RENAME_NOREPLACE; link(2) also refuses an existing name. */
    if (e == EINVAL) {
        if (linkat(dfd, tmp, dfd, name, 0) == 0) {
            unlinkat(dfd, tmp, 0);
            return 0;
        }
        e = errno;
    }
    if (e == EEXIST)
        return of_error_set(err, OF_E(PRECONDITION), "'%s' already exists", rel);
    return fs_fail(err, e, "creating", rel);
}

static int
fs_write(struct of_backend *be, const char *rel, int fd_in, const char *if_match,
         struct of_stat *ret_st, struct of_error *err)
{
    char tmp[TMP_NAME_MAX];
    struct stat st;
    struct of_stat out;
    struct op op;
    if (rel && !rel[0])
        return of_error_set(err, OF_E(NOT_A_FILE), "the share root is a directory");
    int rc = op_begin(be, rel, CREATE, &op, err);
    if (rc != 0)
        goto out;
    int tfd = tmp_create(op.dfd, tmp);
    if (tfd < 0) {
        rc = tfd == -ENOENT ? fs_parent_fail(op.rootfd, op.parent, ENOENT, 1, err)
                            : fs_fail(err, -tfd, "creating", rel);
        goto out;
    }
    rc = copy_all(fd_in, tfd, rel, err);
    /* Durable before it becomes visible: a crash must not leave a torn file under name. */
    if (rc == 0 && (fsync(tfd) < 0 || fstat(tfd, &st) < 0))
        rc = fs_fail(err, errno, "writing", rel);
    if (rc == 0 && if_match && if_match[0])
        rc = check_etag(op.rootfd, rel, if_match, err);
    if (rc == 0)
        rc = put(op.dfd, tmp, op.name, if_match && !if_match[0], rel, err);
    if (rc != 0)
        unlinkat(op.dfd, tmp, 0);
    close(tfd);
    if (rc == 0) {
        sync_dir(op.dfd, rel);
        to_stat(&st, op.name, &out);
        if (ret_st)
            *ret_st = out;
    }
out:
    op_end(&op);
    return rc;
}

static int
fs_remove(struct of_backend *be, const char *rel, const char *if_match, struct of_error *err)
{
    struct stat st;
    struct op op;
    if (rel && !rel[0])
        return of_error_set(err, OF_E(BAD_PATH), "the share root cannot be removed");
    int rc = op_begin(be, rel, LOOKUP, &op, err);
    if (rc != 0)
        goto out;
    if (fstatat(op.dfd, op.name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        rc = fs_item_fail(op.rootfd, rel, errno, err);
    else if (if_match && !if_match[0])
        rc = of_error_set(err, OF_E(PRECONDITION), "'%s' exists", rel);
    else if (if_match)
        rc = check_etag(op.rootfd, rel, if_match, err);
    /* rmdir says EEXIST or ENOTEMPTY for a directory with entries, depending on the fs. */
    if (rc == 0 && unlinkat(op.dfd, op.name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
        rc = fs_fail(err, errno == EEXIST ? ENOTEMPTY : errno, "removing", rel);
    if (rc == 0)
        sync_dir(op.dfd, rel);
out:
    op_end(&op);
    return rc;
}

static int
fs_mkdir(struct of_backend *be, const char *rel, struct of_stat *ret_st, struct of_error *err)
{
    struct stat st;
    struct of_stat out;
    struct op op;
    if (rel && !rel[0])
        return of_error_set(err, OF_E(EXISTS), "the share root exists");
    int rc = op_begin(be, rel, CREATE, &op, err);
    if (rc != 0)
        goto out;
    if (mkdirat(op.dfd, op.name, 0755) < 0) {
        rc = errno == ENOENT ? fs_parent_fail(op.rootfd, op.parent, ENOENT, 1, err)
                             : fs_fail(err, errno, "creating", rel);
    } else if (fstatat(op.dfd, op.name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        rc = fs_fail(err, errno, "creating", rel);
    } else {
        sync_dir(op.dfd, rel);
        to_stat(&st, op.name, &out);
        if (ret_st)
            *ret_st = out;
    }
out:
    op_end(&op);
    return rc;
}

/* Without RENAME_NOREPLACE support, check then move: racy, but refuses the common case. */
static int
move_noreplace(int fdfd, const char *fname, int tdfd, const char *tname)
{
    struct stat st;
    if (renameat2(fdfd, fname, tdfd, tname, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL)
        return -errno;
    if (fstatat(tdfd, tname, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return -EEXIST;
    return renameat(fdfd, fname, tdfd, tname) < 0 ? -errno : 0;
}

static int
fs_rename(struct of_backend *be, const char *from, const char *to, int replace,
          struct of_error *err)
{
    struct stat st;
    struct op f, t;
    if ((from && !from[0]) || (to && !to[0]))
        return of_error_set(err, OF_E(BAD_PATH), "the share root cannot be moved");
    t.rootfd = t.dfd = -1;
    int rc = op_begin(be, from, LOOKUP, &f, err);
    if (rc == 0)
        rc = op_begin(be, to, CREATE, &t, err);
    if (rc == 0 && fstatat(f.dfd, f.name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        rc = fs_item_fail(f.rootfd, from, errno, err);
    /* replace overwrites files only: swallowing a directory is never what a client meant. */
    if (rc == 0 && replace && fstatat(t.dfd, t.name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode))
        rc = of_error_set(err, OF_E(NOT_A_FILE), "'%s' is a directory", to);
    if (rc != 0)
        goto out;
    int e = replace ? (renameat(f.dfd, f.name, t.dfd, t.name) < 0 ? errno : 0)
                    : -move_noreplace(f.dfd, f.name, t.dfd, t.name);
    if (e == EINVAL)
        rc = of_error_set(err, OF_E(INVALID), "'%s' cannot move into itself", from);
    else if (e == EXDEV)
        rc = of_error_set(err, OF_E(IO), "moving '%s' to '%s' would cross a mount", from, to);
    else if (e == ENOENT)
        rc = fs_item_fail(f.rootfd, from, e, err);
    else if (e)
        rc = fs_fail(err, e, "moving to", to);
    if (rc == 0) {
        sync_dir(t.dfd, to);
        sync_dir(f.dfd, from);
    }
out:
    op_end(&t);
    op_end(&f);
    return rc;
}

static int
fs_probe(struct of_backend *be, struct of_error *err)
{
    int fd = root_open((struct fs_backend *)be, err);
    if (fd < 0)
        return fd == OF_E(UNAVAILABLE)
                   ? fd
                   : of_error_set(err, OF_E(UNAVAILABLE), "the share root cannot be checked now");
    close(fd);
    return 0;
}

static void
fs_free(struct of_backend *be)
{
    free(be);
}

static const struct of_backend_ops fs_ops = {
    .name = "fs",
    .stat = fs_stat,
    .list = fs_list,
    .read = fs_read,
    .write = fs_write,
    .remove = fs_remove,
    .mkdir = fs_mkdir,
    .rename = fs_rename,
    .probe = fs_probe,
    .free = fs_free,
};

int
of_backend_fs_open(const char *root, struct of_backend **ret_be, struct of_error *reterr)
{
    if (!root || root[0] != '/' || strnlen(root, OF_PATH_MAX + 1) > OF_PATH_MAX)
        return of_error_set(reterr, OF_E(BAD_FIELD), "the fs backend needs an absolute root path");
    size_t len = strlen(root);
    struct fs_backend *fs = malloc(sizeof(*fs) + len + 1);
    if (!fs)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    memcpy(fs->root, root, len + 1);
    fs->base.ops = &fs_ops;
    *ret_be = &fs->base;
    return 0;
}
