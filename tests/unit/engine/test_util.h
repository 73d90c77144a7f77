/* SPDX-License-Identifier: MIT */
/*
 * Helpers every unit test links (tests/CMakeLists.txt): what the fixtures
 * need around the module under test, never the module itself.
 */
#ifndef OF_TESTS_TEST_UTIL_H
#define OF_TESTS_TEST_UTIL_H

/* Remove path and everything below it, without following symlinks; errors are ignored. */
void ut_rm_rf(const char *path);

#endif
