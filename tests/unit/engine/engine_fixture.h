/* SPDX-License-Identifier: MIT */
/*
 * The engine tests' fixture, shared by every engine_*_test.c: an engine on a
 * temp data directory with the fs share //srv/docs (auto caching) on a temp
 * directory, fresh per test (setup/teardown, for cmocka); the share's
 * directory as the server sees it; and reads and writes through engine.h as
 * USER. The helpers assert as they go, so a failed step fails the test.
 */
#ifndef OF_TESTS_ENGINE_FIXTURE_H
#define OF_TESTS_ENGINE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_HELLO "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
#define USER "alice"

struct fixture {
    char base[64];
    char data[128];
    char root[128]; /* the share's directory */
    struct of_engine *eng;
};

/* Add //srv/SHARE on file://DIR in that mode; asserts that it comes up online. */
void add_share(struct fixture *f, const char *share, const char *dir, enum of_caching_mode mode);
/* A new fixture with //srv/docs on f->root, in *state; teardown frees it and its files. */
int setup(void **state);
int teardown(void **state);
/* Free the engine and open it again on the same data directory, as a restart would. */
void reopen(struct fixture *f);

/* ---- the share's directory, seen directly ---- */

/* The host path of rel (relative to the share's directory) into out. */
void host(const struct fixture *f, const char *rel, char *out, size_t cap);
/* Write data (a string) to the share's file rel, created or truncated. */
void put_host(const struct fixture *f, const char *rel, const char *data);
/* The file's content on the share, or "<missing>". Static storage: one at a time. */
const char *host_content(const struct fixture *f, const char *rel);
int host_exists(const struct fixture *f, const char *rel);
/* Files under DATA/cache/content/xx/: content, and any named temp file left behind. */
int content_files(const struct fixture *f);

/* ---- the engine, as USER, on //srv/docs ---- */

/* PUT data at path as USER: 0 or the engine's code (checked against its reterr); res may be NULL.
 */
int write_path(struct fixture *f, const char *path, const char *data, struct of_write_result *res);
/* Read path as USER into buf (NUL-terminated); the read's details in *ret unless NULL. */
int read_path(struct fixture *f, const char *path, char *buf, size_t cap, struct of_file_read *ret);
/* Reading path succeeds and gives exactly want. */
void assert_reads(struct fixture *f, const char *path, const char *want);
/* The item at path; fails the test when there is none. */
struct of_item item_of(struct fixture *f, const char *path);
/* of_engine_item_get's code for path. */
int item_rc(struct fixture *f, const char *path);
/* Force //srv/docs offline (0) or bring it back (1). */
void set_online(struct fixture *f, int online);
void set_mode(struct fixture *f, enum of_caching_mode mode);
/* Pin path for user in that scope, through a second store connection (no engine call yet). */
void pin(struct fixture *f, const char *path, enum of_pin_scope scope, const char *user);

#endif
