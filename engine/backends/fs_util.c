/* SPDX-License-Identifier: MIT */
/*
 * The fs backend's path resolution: a share-relative path is opened beneath
 * the root's fd with openat2(RESOLVE_BENEATH), so that no "..", absolute
 * path or symlink leads outside the root (on kernels without openat2, one
 * segment at a time, refusing every symlink). Also the mapping of errno
 * values onto the error registry, which tells a failed share from a missing
 * item. Stateless and thread-safe; details name share-relative paths only.
 */
#include "fs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "path.h"

const char *
fs_why(int e)
{
    const char *s = strerrordesc_np(e);
    return s ? s : "unknown error";
}

/* Details name the share-relative path, never the host path of the root. */
const char *
fs_shown(const char *rel)
{
    return rel[0] ? rel : "/";
}

/* Errors that say the share (server, mount, disk) failed, not the item. */
static const int unreachable[] = {EIO,          ENOTCONN,     ESTALE,      ETIMEDOUT, EHOSTDOWN,
                                  EHOSTUNREACH, ENETDOWN,     ENETUNREACH, ENETRESET, ECONNREFUSED,
                                  ECONNRESET,   ECONNABORTED, ESHUTDOWN,   ENODEV,    ENOMEDIUM,
                                  EREMOTEIO,    ENOLINK,      ECOMM};

int
fs_is_unreachable(int e)
{
    for (size_t i = 0; i < sizeof(unreachable) / sizeof(unreachable[0]); i++)
        if (unreachable[i] == e)
            return 1;
    return 0;
}

/* Map errno e from doing `what` ("reading", ...) to rel onto the registry. */
int
fs_fail(struct of_error *err, int e, const char *what, const char *rel)
{
    const char *p = fs_shown(rel);
    switch (e) {
    case ENOENT:
        return of_error_set(err, OF_E(NOT_FOUND), "'%s' does not exist", p);
    case ENOTDIR:
        return of_error_set(err, OF_E(NOT_A_DIR), "'%s' is not a directory", p);
    case EISDIR:
        return of_error_set(err, OF_E(NOT_A_FILE), "'%s' is a directory", p);
    case ENOTEMPTY:
        return of_error_set(err, OF_E(NOT_EMPTY), "the directory '%s' is not empty", p);
    case EEXIST:
        return of_error_set(err, OF_E(EXISTS), "'%s' already exists", p);
    case ENOSPC:
    case EDQUOT:
        return of_error_set(err, OF_E(IO), "the share is full while %s '%s': %s", what, p,
                            fs_why(e));
    case ENOMEM:
        return of_error_set(err, OF_E(NOMEM), "out of memory while %s '%s'", what, p);
    case ENAMETOOLONG:
        return of_error_set(err, OF_E(BAD_PATH), "'%s' is too long for the share", p);
    }
    if (fs_is_unreachable(e))
        return of_error_set(err, OF_E(UNAVAILABLE), "the share failed while %s '%s': %s", what, p,
                            fs_why(e));
    return of_error_set(err, OF_E(IO), "%s '%s' failed: %s", what, p, fs_why(e));
}
/* The root was removed while we held it open: an ENOENT below it is not the item's. */
static int
root_gone(int rootfd)
{
    struct stat st;
    return fstat(rootfd, &st) < 0 || st.st_nlink == 0;
}

/* One step of walk, never through a symlink: an fd, or -1 with errno set. */
static int
step(int dfd, const char *seg, int flags)
{
    struct stat st;
    if (fstatat(dfd, seg, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    if (S_ISLNK(st.st_mode) || ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode))) {
        errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
        return -1;
    }
    /* O_NOFOLLOW still guards against a swap for a symlink since the fstatat. */
    return openat(dfd, seg, flags | O_NOFOLLOW);
}

/* Without openat2 (Linux < 5.6): refuse every symlink rather than judge where it leads. */
static int
walk(int rootfd, const char *rel, int flags)
{
    char seg[OF_SEGMENT_MAX + 1];
    int dfd = rootfd, fd = rel[0] ? -1 : openat(rootfd, ".", flags);
    while (rel[0]) {
        const char *slash = strchr(rel, '/');
        size_t len = slash ? (size_t)(slash - rel) : strlen(rel);
        errno = ENAMETOOLONG;
        if (len <= OF_SEGMENT_MAX) {
            memcpy(seg, rel, len);
            seg[len] = '\0';
            fd = step(dfd, seg, slash ? O_PATH | O_DIRECTORY | O_CLOEXEC : flags);
        }
        int e = errno;
        if (dfd != rootfd)
            close(dfd);
        errno = e;
        if (fd < 0 || !slash)
            break;
        dfd = fd;
        rel = slash + 1;
    }
    return fd < 0 ? -errno : fd;
}

/* Open rel beneath the root with flags; the fd, or -errno (EXDEV: it leads outside). */
int
fs_beneath(int rootfd, const char *rel, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(unsigned int)(flags | O_CLOEXEC),
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    for (int tries = 0;; tries++) {
        long fd = syscall(SYS_openat2, rootfd, rel[0] ? rel : ".", &how, sizeof(how));
        if (fd >= 0)
            return (int)fd;
        if (errno == ENOSYS)
            return walk(rootfd, rel, flags | O_CLOEXEC);
        /* EAGAIN: a concurrent rename raced a ".." lookup; the kernel asks us to retry. */
        if ((errno != EAGAIN && errno != EINTR) || tries == 8)
            return -errno;
    }
}

/* Split rel into its parent (copied to parent, OF_PATH_MAX + 1 bytes) and its name. */
const char *
fs_split(const char *rel, char *parent)
{
    const char *slash = strrchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : 0;
    memcpy(parent, rel, n);
    parent[n] = '\0';
    return slash ? slash + 1 : rel;
}

/*
 * Resolving directory parent failed with e. creating: we are about to create
 * an item in it, so a file in the way is NOT_A_DIR; for a lookup the item
 * simply is not there.
 */
int
fs_parent_fail(int rootfd, const char *parent, int e, int creating, struct of_error *err)
{
    int outside = e == EXDEV || e == ELOOP;
    if (e == ENOENT && root_gone(rootfd))
        return of_error_set(err, OF_E(UNAVAILABLE), "the share root has disappeared");
    if (e == ENOENT || (outside && creating))
        return of_error_set(err, OF_E(PARENT_MISSING), "the directory '%s' is not in the share",
                            fs_shown(parent));
    if (e == ENOTDIR || outside)
        return of_error_set(err, creating ? OF_E(NOT_A_DIR) : OF_E(NOT_FOUND),
                            "'%s' is not a directory of the share", fs_shown(parent));
    return fs_fail(err, e, "opening", parent);
}

/* Resolving rel itself failed with e: tell a missing item from a missing parent. */
int
fs_item_fail(int rootfd, const char *rel, int e, struct of_error *err)
{
    char parent[OF_PATH_MAX + 1];
    if (e == EXDEV || e == ELOOP)
        return of_error_set(err, OF_E(NOT_FOUND), "'%s' leads outside the share", fs_shown(rel));
    if (e != ENOENT && e != ENOTDIR)
        return fs_fail(err, e, "opening", rel);
    if (root_gone(rootfd))
        return of_error_set(err, OF_E(UNAVAILABLE), "the share root has disappeared");
    fs_split(rel, parent);
    if (parent[0]) {
        int fd = fs_beneath(rootfd, parent, O_PATH | O_DIRECTORY);
        if (fd < 0)
            return fs_parent_fail(rootfd, parent, -fd, 0, err);
        close(fd);
    }
    /* The parent is a directory, so ENOTDIR is about the item itself. */
    return fs_fail(err, e, "opening", rel);
}
