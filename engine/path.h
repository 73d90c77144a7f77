/* SPDX-License-Identifier: MIT */
/*
 * Share paths: UNC with forward slashes, "//server/share/dir/file". Every
 * path that comes from outside passes of_path_validate before it reaches the
 * store or a backend. The rules: valid UTF-8, at most OF_PATH_MAX bytes, each
 * segment 1..OF_SEGMENT_MAX bytes, no "." or ".." segment, no control byte
 * (NUL included), no backslash. Functions here allocate nothing.
 */
#ifndef OF_PATH_H
#define OF_PATH_H

#include <stddef.h>

#include "error.h"

#define OF_PATH_MAX 4096
#define OF_SEGMENT_MAX 255

/*
 * of_path_validate - check a full UNC path.
 * Returns the number of segments (1 for "//server", 2 for a share root, more
 * below it) or OF_E(BAD_PATH) / OF_E(TOO_LONG) with detail in reterr.
 */
int of_path_validate(const char *path, struct of_error *reterr);

/*
 * of_path_validate_rel - check a share-relative path "a/b/c" ("" is the root).
 * Same segment rules; returns the number of segments or a negative code.
 */
int of_path_validate_rel(const char *rel, struct of_error *reterr);

/* One segment of len bytes (not NUL-terminated): 0 when valid, else OF_E(BAD_PATH). */
int of_path_segment_check(const char *seg, size_t len);

/*
 * of_path_split - for a validated path, copy the server and share names into
 * the buffers (each at least OF_SEGMENT_MAX + 1 bytes) and point *ret_rel at
 * the share-relative rest inside path ("" at the share root). share gets ""
 * for a server path. Returns 0, or OF_E(BAD_PATH) if path is not valid.
 */
int of_path_split(const char *path, char *server, char *share, const char **ret_rel);

/*
 * of_path_parent - write the parent of a validated path into buf (cap bytes).
 * Returns 0, or OF_E(NOT_FOUND) for a server path (servers have no parent item).
 */
int of_path_parent(const char *path, char *buf, size_t cap);

/* The last segment of path (a pointer into it). */
const char *of_path_name(const char *path);

/* 1 when path equals root or lies below it ("//a/b/c" is under "//a/b"). */
int of_path_is_under(const char *path, const char *root);

#endif
