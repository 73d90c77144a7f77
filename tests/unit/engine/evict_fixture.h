/* SPDX-License-Identifier: MIT */
/*
 * The eviction tests' fixture, shared by every evict_*_test.c: an engine on
 * a temp data directory with the fs share //srv/docs on a temp directory, in
 * auto or manual caching mode, fresh per test (setup_auto or setup_manual,
 * and teardown, for cmocka); files of any size on the share; and reads,
 * pins, syncs and the cache's usage through engine.h, with pins and syncs
 * run as jobs and waited for. The helpers assert as they go, so a failed
 * step fails the test.
 */
#ifndef OF_TESTS_EVICT_FIXTURE_H
#define OF_TESTS_EVICT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define USER "alice"
#define OTHER "bob"

struct fixture {
    char base[64];
    char data[128];
    char root[128]; /* the share's directory */
    struct of_engine *eng;
};

/* A new fixture in *state, its share in auto or manual caching mode; teardown frees it all. */
int setup_auto(void **state);
int setup_manual(void **state);
int teardown(void **state);

/* ---- the share's directory, seen directly ---- */

/* Create (parents too) the share's file rel with size bytes of c. */
void put_host(const struct fixture *f, const char *rel, size_t size, char c);

/* ---- the engine, on //srv/docs ---- */

/* The engine path of rel: //srv/docs/REL. */
void path_of(const char *rel, char *buf, size_t cap);
/* Read rel as user to its end; returns of_engine_file_open's code, and from_cache. */
int read_as(struct fixture *f, const char *rel, const char *user, int *ret_from_cache);
/* Read rel as USER; fails the test if that fails. */
void read_ok(struct fixture *f, const char *rel);
/* The view of rel (or of an engine path, starting with '/') as user, or as USER. */
struct of_item_view view_as(struct fixture *f, const char *rel, const char *user);
struct of_item_view view(struct fixture *f, const char *rel);
/* The item holds its content (cached), or is a ghost without any. */
void assert_cached(struct fixture *f, const char *rel, int64_t size);
void assert_ghost(struct fixture *f, const char *rel);
/* The cache's figures, and an assertion on its used and unpinnedUsed. */
struct of_cache_info cache(struct fixture *f);
void assert_usage(struct fixture *f, int64_t used, int64_t unpinned);
/* Force //srv/docs offline (0) or bring it back (1). */
void set_online(struct fixture *f, int online);
/* Pin (or unpin) rel and wait: the job's result; the job id in *ret_id when asked. */
int pin_full(struct fixture *f, const char *rel, int deep, enum of_pin_scope scope,
             const char *user, int fill, int unpin, int64_t *ret_id);
/* Pin (with fill) or unpin rel for USER; fails the test if the job fails. */
void pin_ok(struct fixture *f, const char *rel, int deep);
void unpin_ok(struct fixture *f, const char *rel, int deep);
/* Sync path in and out and wait; the job's id (per-item failures do not fail a sync job). */
int64_t sync_ok(struct fixture *f, const char *path);
/* List rel as USER, online. */
void list_ok(struct fixture *f, const char *rel);

#endif
