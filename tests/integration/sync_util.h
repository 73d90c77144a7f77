/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the sync integration tests (sync_*_test.c), over the harness
 * fixture with its share //srv/s: the server's copies of files, offline
 * changes made while the share directory is moved away ("unplugged"),
 * syncs with their per-item results, conflict records and keep-all names.
 *
 * Offline changes are made while the share is unplugged: writes then land
 * in the cache as dirty changes without forcing the share offline, and a
 * restart (st_replug_and_restart) brings it back online without the
 * background pass that going online starts, so a test's explicit sync is
 * the only one that sees the changes.
 *
 * Assertion helpers report the caller's file and line, like the harness.
 */
#ifndef OF_IT_SYNC_UTIL_H
#define OF_IT_SYNC_UTIL_H

#include "harness.h"

void st_pause_ms(long ms);

/* ---- the server's copies (ROOT/share, or ROOT/unplugged while unplugged) ---- */

/* Write REL on the server; asserts. */
void st_seed(const struct it_env *env, const char *rel, const char *text);
/* The server's copy of REL (malloc'ed), NULL when there is none. */
char *st_on_server(const struct it_env *env, const char *rel);
/* The server's copy of REL holds exactly want; want NULL: REL does not exist. */
void st_assert_on_server(const struct it_env *env, const char *rel, const char *want,
                         const char *file, int line);
#define ST_ASSERT_ON_SERVER(env, rel, want)                                                        \
    st_assert_on_server((env), (rel), (want), __FILE__, __LINE__)

/* ---- the cache ---- */

/* GET /api/v1/files/srv/s/REL answers 200 (in auto mode this caches the content). */
void st_cache_file(const struct it_env *env, const char *rel);
/* PUT REL through the daemon while the share is unreachable: it must be stored offline. */
void st_put_offline(const struct it_env *env, const char *rel, const char *text);
/* GET /api/v1/items/srv/s/REL. */
struct it_response *st_item(const struct it_env *env, const char *rel);
void st_assert_dirty(const struct it_env *env, const char *rel, int dirty, const char *file,
                     int line);
#define ST_ASSERT_DIRTY(env, rel, dirty) st_assert_dirty((env), (rel), (dirty), __FILE__, __LINE__)
/* Force the share offline and read REL: the cache alone serves exactly want. */
void st_assert_cached(const struct it_env *env, const char *rel, const char *want, const char *file,
                      int line);
#define ST_ASSERT_CACHED(env, rel, want) st_assert_cached((env), (rel), (want), __FILE__, __LINE__)

/* ---- connection ---- */

void st_go_offline(const struct it_env *env);
void st_go_online(const struct it_env *env);
void st_unplug(struct it_env *env);
/* Stop the daemon, move the share back (if unplugged), start: online, with no background pass. */
void st_replug_and_restart(struct it_env *env);

/* ---- syncs and their results ---- */

/* A sync of //srv/s (wait: true) under policy (NULL: the default) that ended in state. */
struct it_response *st_sync_share(const struct it_env *env, const char *policy, const char *state,
                                  const char *file, int line);
#define ST_SYNC_SHARE(env, policy, state)                                                          \
    st_sync_share((env), (policy), (state), __FILE__, __LINE__)
/* The job's result for //srv/s/REL, which must be there (borrowed). */
json_t *st_result_of(const struct it_response *job, const char *rel, const char *file, int line);
#define ST_RESULT_OF(job, rel) st_result_of((job), (rel), __FILE__, __LINE__)
/* The job has a result for REL with this result, operation and syncState. */
#define ST_ASSERT_RESULT(job, rel, result, operation, sync_state)                                  \
    do {                                                                                           \
        json_t *st_res_ = ST_RESULT_OF((job), (rel));                                              \
        IT_ASSERT_JSTR(st_res_, "result", (result));                                               \
        IT_ASSERT_JSTR(st_res_, "operation", (operation));                                         \
        IT_ASSERT_JSTR(st_res_, "syncState", (sync_state));                                        \
    } while (0)
/* The job has no result for REL. */
void st_assert_no_result(const struct it_response *job, const char *rel, const char *file,
                         int line);
#define ST_ASSERT_NO_RESULT(job, rel) st_assert_no_result((job), (rel), __FILE__, __LINE__)

/* ---- conflict records ---- */

/* GET /api/v1/conflicts?under=//srv/s, asserted 200 (the caller frees). */
struct it_response *st_conflicts(const struct it_env *env);
/* There are exactly n records; with n == 1, the one is at path with sync_state (if not NULL). */
void st_assert_conflicts(const struct it_env *env, size_t n, const char *path,
                         const char *sync_state, const char *file, int line);
#define ST_ASSERT_NO_CONFLICTS(env) st_assert_conflicts((env), 0, NULL, NULL, __FILE__, __LINE__)
#define ST_ASSERT_ONE_CONFLICT(env, path, state)                                                   \
    st_assert_conflicts((env), 1, (path), (state), __FILE__, __LINE__)
/* The id of the only conflict record. */
long long st_only_conflict_id(const struct it_env *env);

/* ---- both sides changed ---- */

#define ST_BASE "base version"

/*
 * a.txt synced as ST_BASE, then changed to local in the cache and to remote
 * on the server, the share online again. With local_last the server's edit
 * is made first and the local one 50 ms later, else the other way round.
 */
void st_edit_both(struct it_env *env, const char *local, const char *remote, int local_last);

/*
 * The one name in the share directory starting with prefix (malloc'ed), or
 * NULL; *ret_count gets how many there are.
 */
char *st_find_name(const struct it_env *env, const char *prefix, int *ret_count);
/*
 * Is name "STEM (conflict YYYY-MM-DD HHMMSS)EXT", stamped within max_skew_s
 * seconds of now (UTC)?
 */
int st_is_conflict_name(const char *name, const char *stem, const char *ext, long max_skew_s);

/* ---- many files ---- */

/* "file NNNN\n": the content of numbered file i. */
void st_numbered(char *buf, size_t cap, int i);
/* Numbered files from..to as DIR/fNNNN.txt (dir "" for the share root) on the server. */
void st_seed_numbered(const struct it_env *env, const char *dir, int from, int to);
/* POST /api/v1/sync of //srv/s with wait and a long timeout; more: further members, or NULL. */
struct it_response *st_sync_long(const struct it_env *env, const char *more);
/*
 * Call fn (may be NULL) for every cached item under //srv/s at any depth
 * matching the extra query ("&flags=dirty", or ""), following pages; the count.
 */
size_t st_each_item(const struct it_env *env, const char *query, void (*fn)(json_t *it, void *ctx),
                    void *ctx);
/* The entries of a local directory (not "." or ".."), those starting with prefix if given; -1. */
int st_count_entries(const char *dir, const char *prefix);

#endif
