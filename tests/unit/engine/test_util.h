/* SPDX-License-Identifier: MIT */
/*
 * Helpers every unit test links (tests/CMakeLists.txt): what the fixtures
 * need around the module under test, never the module itself. They assert
 * (cmocka) as they go, so a failed step fails the test that called them.
 */
#ifndef OF_TESTS_TEST_UTIL_H
#define OF_TESTS_TEST_UTIL_H

#include <stddef.h>

#include "engine.h"

/* Remove path and everything below it, without following symlinks; errors are ignored. */
void ut_rm_rf(const char *path);

/*
 * The engine tests' setting: a new temp dir base (/tmp/of-TAG-XXXXXX)
 * holding the engine's data dir (base/data) and a share's directory
 * (base/share, made empty), and an engine opened on that data dir. Undo
 * with ut_engine_teardown. UT_ENGINE_SETUP fills a fixture with members
 * base, data, root and eng.
 */
void ut_engine_setup(const char *tag, char *base, size_t base_cap, char *data, size_t data_cap,
                     char *root, size_t root_cap, struct of_engine **ret_eng);
#define UT_ENGINE_SETUP(f, tag)                                                                    \
    ut_engine_setup((tag), (f)->base, sizeof((f)->base), (f)->data, sizeof((f)->data), (f)->root,  \
                    sizeof((f)->root), &(f)->eng)
/* Free the engine (may be NULL) and remove base with all it holds. */
void ut_engine_teardown(struct of_engine *eng, const char *base);
/* Add the share //srv/SHARE on file://DIR with that caching mode; the view may be NULL. */
void ut_share_add(struct of_engine *eng, const char *share, const char *dir,
                  enum of_caching_mode mode, struct of_share_view *ret_view);
/*
 * Files across the content store's buckets (content_dir/xx/): named temp
 * files ("t-..."; temp 1) or content (temp 0). content_dir must exist.
 */
int ut_bucket_files(const char *content_dir, int temp);
/* Write data (a string) to the file path, created or truncated. */
void ut_write_file(const char *path, const char *data);

#endif
