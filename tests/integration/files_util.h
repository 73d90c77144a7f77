/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the /api/v1/files integration tests (files_*_test.c), over the
 * harness fixture with its share //srv/s: files and directories made on the
 * share's disk and read back from it, the share forced offline and online,
 * strong ETags, and requests with one extra header.
 *
 * Responses and strings returned are new: the caller frees them
 * (it_response_free, free). Helpers that assert fail the running cmocka
 * test.
 *
 * The names are those the helpers had in files_test.c, from which the tests
 * moved with their bodies unchanged.
 */
#ifndef OF_IT_FILES_UTIL_H
#define OF_IT_FILES_UTIL_H

#include "harness.h"

#define HELLO "hello world"
#define HELLO_LEN 11

/* ---- the share's disk (ROOT/share) ---- */

/* Write REL with text; asserts. */
void seed(const struct it_env *env, const char *rel, const char *text);
/* Make the directory REL (its parent must exist); asserts. */
void seed_dir(const struct it_env *env, const char *rel);
/* The share's copy of rel, or NULL. */
char *on_share(const struct it_env *env, const char *rel);

/* ---- the daemon ---- */

/* Force //srv/s offline or online; asserts 200. */
void go_offline(const struct it_env *env);
void go_online(const struct it_env *env);
/* "\"<64 hex>\"": a strong ETag of a SHA-256. */
int is_strong_etag(const char *v);
/* GET path, asserted 200 with a strong ETag: a copy of the ETag. */
char *etag_of(const struct it_env *env, const char *path);
/* GET /api/v1/items/srv/s/REL. */
struct it_response *item(const struct it_env *env, const char *rel);
/* GET path with one more header line ("Name: value"). */
struct it_response *get_with(const struct it_env *env, const char *path, const char *header);
/* PUT text to path (application/octet-stream) with one more header line. */
struct it_response *put_with(const struct it_env *env, const char *path, const char *text,
                             const char *header);
/* POST path {"type":"directory"}. */
struct it_response *mkdir_req(const struct it_env *env, const char *path);

#endif
