/* SPDX-License-Identifier: MIT */
/*
 * The content store: the cached bytes of files, one file per version under
 * DIR/content/xx/NAME, where NAME is random and never reused. New content is
 * written to an unnamed file (O_TMPFILE) in the directory it will live in,
 * hashed (SHA-256) as it arrives, fsynced, and linked under its name; only
 * then does the caller commit the item row that points at it, and only after
 * that commit is the previous version unlinked. A crash at any point leaves
 * the old or the new content whole; files no row names are collected at
 * start-up. (Where O_TMPFILE is not supported the temp file gets a name in
 * that same directory and is renamed: a rename within one directory, so
 * parallel writers never queue on the filesystem-wide cross-directory
 * rename lock.)
 *
 * Batched content (of_content_tmp_new_batched) skips the two syncs per file;
 * the caller installs many files, calls of_content_sync once, and only then
 * commits their rows: the same order (content durable before the row), one
 * disk flush instead of two per file.
 *
 * Thread safety: all functions are safe to call concurrently; a tmp object
 * belongs to one thread at a time.
 */
#ifndef OF_CONTENT_H
#define OF_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "item.h"

struct of_content;
struct of_content_tmp;

#define OF_CONTENT_NAME_MAX 48

/* Open (creating dirs as needed) the store under dir. Free with of_content_free. */
int of_content_open(const char *dir, struct of_content **ret_cs, struct of_error *reterr);
void of_content_free(struct of_content *cs);
const char *of_content_dir(const struct of_content *cs);
/*
 * Give temp files names ("t-NAME" next to where they will live) even where
 * O_TMPFILE works: the fallback path, for tests. Call before any tmp_new.
 */
void of_content_use_named_temps(struct of_content *cs);

/* A new temp file for incoming bytes; free with of_content_tmp_free (which unlinks it). */
int of_content_tmp_new(struct of_content *cs, struct of_content_tmp **ret_tmp,
                       struct of_error *reterr);
/*
 * As of_content_tmp_new, but finish and install do not make the content
 * durable: the caller must call of_content_sync after installing it and
 * before committing any row that names it. Writeback starts as bytes arrive,
 * so that sync has little left to wait for.
 */
int of_content_tmp_new_batched(struct of_content *cs, struct of_content_tmp **ret_tmp,
                               struct of_error *reterr);
/*
 * Make everything installed so far durable (syncfs of the cache's
 * filesystem). 0, or OF_E(IO) with detail: then no batched content installed
 * before the call may be committed.
 */
int of_content_sync(struct of_content *cs, struct of_error *reterr);
/* Append bytes; 0, or OF_E(IO) (ENOSPC included) with detail. */
int of_content_tmp_write(struct of_content_tmp *tmp, const void *buf, size_t len,
                         struct of_error *reterr);
/* Bytes written so far. */
int64_t of_content_tmp_size(const struct of_content_tmp *tmp);
/* The fd of the temp file (borrowed; valid until free). */
int of_content_tmp_fd(const struct of_content_tmp *tmp);
/*
 * Finish writing: fsync, and give the SHA-256 in hex (OF_HASH_HEX bytes).
 * Further writes are refused. Idempotent.
 */
int of_content_tmp_finish(struct of_content_tmp *tmp, char *ret_hash, struct of_error *reterr);
/*
 * Put a finished temp file into the store under its new name (written to
 * ret_name, OF_CONTENT_NAME_MAX bytes) and fsync the directory. The tmp
 * object stays valid (its fd still reads the content) but no longer owns the
 * file: freeing it does not unlink the stored file.
 */
int of_content_tmp_install(struct of_content_tmp *tmp, char *ret_name, struct of_error *reterr);
/* NULL-safe; unlinks the temp file unless it was installed. */
void of_content_tmp_free(struct of_content_tmp *tmp);

/* Open stored content for reading; *ret_fd is the caller's to close. */
int of_content_open_read(struct of_content *cs, const char *name, int *ret_fd,
                         struct of_error *reterr);
/* Unlink stored content; a missing file is not an error. */
int of_content_remove(struct of_content *cs, const char *name);

/*
 * Remove temp files and content files that is_live(ctx, name) says no row
 * references. Returns the number removed.
 */
int of_content_collect(struct of_content *cs, int (*is_live)(void *ctx, const char *name),
                       void *ctx);

#endif
