/* SPDX-License-Identifier: MIT */
/*
 * The share backend interface: how the engine reaches a share's server. One
 * vtable (struct of_backend_ops), one implementation per file under
 * engine/backends/ (fs now, webdav later). The engine speaks only in
 * share-relative paths ("" is the share root, "a/b.txt" below it) that have
 * already passed of_path_validate_rel; an implementation must still never
 * touch anything outside its root.
 *
 * Errors every implementation maps to:
 *   OF_E(NOT_FOUND)      the item does not exist (the share itself answered)
 *   OF_E(PARENT_MISSING) the parent directory does not exist
 *   OF_E(NOT_A_DIR)      a directory was expected
 *   OF_E(NOT_A_FILE)     a file was expected
 *   OF_E(EXISTS)         the target exists (mkdir, create-only write, rename)
 *   OF_E(NOT_EMPTY)      removing a directory that still has entries
 *   OF_E(PRECONDITION)   the etag precondition did not hold
 *   OF_E(LOCKED)         another client holds a lock on the item (WebDAV)
 *   OF_E(UNAVAILABLE)    the share cannot be reached: root missing, network
 *                        or I/O error, timeout. Never read as a deletion.
 *   OF_E(IO)             another failure local to this request
 * Implementations are thread-safe: the engine calls them from many threads.
 */
#ifndef OF_BACKEND_H
#define OF_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define OF_ETAG_MAX 128
#define OF_NAME_MAX 256

enum of_stat_type { OF_STAT_FILE = 0, OF_STAT_DIR = 1 };

/* Attribute bits, numbered like the Windows FILE_ATTRIBUTE_* values they model. */
#define OF_ATTR_READONLY 0x1u
#define OF_ATTR_HIDDEN 0x2u
#define OF_ATTR_DIRECTORY 0x10u

/* What a backend knows of one remote item. */
struct of_stat {
    enum of_stat_type type;
    int64_t size;           /* bytes; 0 for directories */
    int64_t mtime_ns;       /* modification time, ns since the epoch */
    uint32_t attrs;         /* OF_ATTR_* */
    char etag[OF_ETAG_MAX]; /* opaque version tag; changes whenever content may have */
};

struct of_dirent {
    char name[OF_NAME_MAX];
    struct of_stat st;
};

/*
 * Where read() delivers bytes. write returns 0, or a negative OF_E code to
 * stop the transfer (the backend then returns that code).
 */
struct of_sink {
    int (*write)(void *ctx, const void *buf, size_t len);
    void *ctx;
};

struct of_backend;

struct of_backend_ops {
    const char *name; /* "fs", "webdav" */
    /*
     * 1: a write's reply does not name the new version, which costs the
     * backend a request of its own per file; after many writes into one
     * directory, one list() of it names them all for less. 0: write's
     * *ret_st is as good as it gets.
     */
    int versions_by_listing;

    /* Metadata of rel into *ret_st. */
    int (*stat)(struct of_backend *be, const char *rel, struct of_stat *ret_st,
                struct of_error *reterr);

    /*
     * The entries of directory rel, as a malloc'ed array the caller frees with
     * free(); "." and ".." and the backend's own temp files are left out.
     */
    int (*list)(struct of_backend *be, const char *rel, struct of_dirent **ret_entries,
                size_t *ret_count, struct of_error *reterr);

    /*
     * Stream bytes [offset, offset+length) of file rel into sink (length < 0:
     * to the end). *ret_st (may be NULL) gets the metadata of the version read.
     */
    int (*read)(struct of_backend *be, const char *rel, int64_t offset, int64_t length,
                const struct of_sink *sink, struct of_stat *ret_st, struct of_error *reterr);

    /*
     * Replace or create file rel with the whole content of the open file fd_in
     * (read from offset 0; the fd is borrowed). if_match: NULL means no
     * precondition, "" means the file must not exist yet, anything else must
     * equal the current etag. The new content appears atomically. *ret_st
     * gets the metadata of the version written; NULL when the caller learns
     * it otherwise (see versions_by_listing), so nothing more is asked.
     */
    int (*write)(struct of_backend *be, const char *rel, int fd_in, const char *if_match,
                 struct of_stat *ret_st, struct of_error *reterr);

    /* Delete file or empty directory rel; if_match as for write (NULL: none). */
    int (*remove)(struct of_backend *be, const char *rel, const char *if_match,
                  struct of_error *reterr);

    /* Create directory rel; *ret_st (may be NULL) gets its metadata. */
    int (*mkdir)(struct of_backend *be, const char *rel, struct of_stat *ret_st,
                 struct of_error *reterr);

    /* Move from to to; replace: overwrite an existing file at to. */
    int (*rename)(struct of_backend *be, const char *from, const char *to, int replace,
                  struct of_error *reterr);

    /* Is the share reachable? 0 or OF_E(UNAVAILABLE). Cheap: used by health probes. */
    int (*probe)(struct of_backend *be, struct of_error *reterr);

    /* Release everything; be is invalid afterwards. */
    void (*free)(struct of_backend *be);
};

/* Every backend object starts with this header; implementations extend it. */
struct of_backend {
    const struct of_backend_ops *ops;
};

enum of_auth { OF_AUTH_NONE = 0, OF_AUTH_BASIC, OF_AUTH_DIGEST, OF_AUTH_BEARER };

/* How to reach a remote; all strings are borrowed for the duration of the open call. */
struct of_backend_options {
    enum of_auth auth;
    const char *username;   /* basic, digest */
    const char *secret;     /* the password, or the bearer token; never logged */
    const char *ca_file;    /* PEM bundle to verify TLS with; NULL: the system's */
    int insecure;           /* skip TLS verification: an explicit, logged opt-in */
    int transfers;          /* transfers at once to this share (default 4) */
    int timeout_ms;         /* a request that stalls this long fails (default 30000) */
    int connect_timeout_ms; /* default 5000 */
};

/*
 * of_backend_open_with - a backend for a remote URL with options (opts may be
 * NULL for the defaults): "file:///abs/dir" gives the fs backend, "http://"
 * and "https://" the webdav backend.
 */
int of_backend_open_with(const char *remote, const struct of_backend_options *opts,
                         struct of_backend **ret_be, struct of_error *reterr);

/*
 * of_backend_open - a backend for a remote URL: "file:///abs/dir" gives the fs
 * backend. Returns 0 and a new object in *ret_be (free with of_backend_free),
 * or OF_E(BAD_FIELD) for an unsupported or malformed URL.
 */
int of_backend_open(const char *remote, struct of_backend **ret_be, struct of_error *reterr);

/* NULL-safe destructor. */
void of_backend_free(struct of_backend *be);

/*
 * Constructor of the webdav backend: url is the collection of the share
 * ("https://host/dav/team"); opts as for of_backend_open_with (not NULL).
 */
int of_backend_webdav_open(const char *url, const struct of_backend_options *opts,
                           struct of_backend **ret_be, struct of_error *reterr);

/* Constructor of the fs backend: root is an absolute directory path. */
int of_backend_fs_open(const char *root, struct of_backend **ret_be, struct of_error *reterr);

#endif
