/* SPDX-License-Identifier: MIT */
/*
 * Tests of the fs backend's changes to the tree, through the backend vtable
 * only (engine/backends/fs.c): remove (files and empty directories, with an
 * ETag precondition), mkdir, and rename with and without replace, each with
 * its error mapping. Each test gets a fresh share under /tmp and a sibling
 * "outside" directory the backend must never reach (fs_fixture.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <sys/stat.h>

#include "fs_fixture.h"

static void
test_remove_deletes_files_and_empty_directories(void **state)
{
    struct fixture *f = *state;
    put_file(f, "f", "x");
    put_dir(f, "d");
    assert_int_equal(f->be->ops->remove(f->be, "f", NULL, NULL), 0);
    assert_int_equal(f->be->ops->remove(f->be, "d", NULL, NULL), 0);
    assert_false(exists(f, "f"));
    assert_false(exists(f, "d"));
}

static void
test_remove_maps_errors(void **state)
{
    struct fixture *f = *state;
    put_dir(f, "full");
    put_file(f, "full/x", "x");
    put_file(f, "file", "x");
    assert_int_equal(f->be->ops->remove(f->be, "full", NULL, NULL), OF_E(NOT_EMPTY));
    assert_int_equal(f->be->ops->remove(f->be, "nope", NULL, NULL), OF_E(NOT_FOUND));
    assert_int_equal(f->be->ops->remove(f->be, "nope/x", NULL, NULL), OF_E(PARENT_MISSING));
    assert_int_equal(f->be->ops->remove(f->be, "file/x", NULL, NULL), OF_E(NOT_FOUND));
    assert_int_equal(f->be->ops->remove(f->be, "", NULL, NULL), OF_E(BAD_PATH));
    assert_true(exists(f, "full/x"));
}

static void
test_remove_honours_the_etag_precondition(void **state)
{
    struct fixture *f = *state;
    struct of_stat old, cur;
    put_file(f, "f", "one");
    assert_int_equal(stat_of(f, "f", &old), 0);
    assert_int_equal(write_str(f, "f", "two", NULL, &cur), 0);
    assert_int_equal(f->be->ops->remove(f->be, "f", old.etag, NULL), OF_E(PRECONDITION));
    assert_int_equal(f->be->ops->remove(f->be, "f", "", NULL), OF_E(PRECONDITION));
    assert_string_equal(content(f, "f"), "two");
    assert_int_equal(f->be->ops->remove(f->be, "f", cur.etag, NULL), 0);
    assert_false(exists(f, "f"));
}

static void
test_mkdir_creates_a_directory_once(void **state)
{
    struct fixture *f = *state;
    struct of_stat st;
    char p[PATH_MAX];
    struct stat hs;
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(f->be->ops->mkdir(f->be, "d", &st, NULL), 0);
    assert_int_equal(st.type, OF_STAT_DIR);
    assert_int_equal(st.attrs, OF_ATTR_DIRECTORY);
    host(f, "d", p);
    assert_int_equal(stat(p, &hs), 0);
    assert_int_equal(hs.st_mode & 0777, 0755 & ~mask);
    assert_int_equal(f->be->ops->mkdir(f->be, "d/e", NULL, NULL), 0);
    assert_int_equal(f->be->ops->mkdir(f->be, "d", NULL, NULL), OF_E(EXISTS));
    assert_int_equal(f->be->ops->mkdir(f->be, "", NULL, NULL), OF_E(EXISTS));
    put_file(f, "file", "x");
    assert_int_equal(f->be->ops->mkdir(f->be, "file", NULL, NULL), OF_E(EXISTS));
    assert_int_equal(f->be->ops->mkdir(f->be, "nope/x", NULL, NULL), OF_E(PARENT_MISSING));
    assert_int_equal(f->be->ops->mkdir(f->be, "file/x", NULL, NULL), OF_E(NOT_A_DIR));
}

static void
test_rename_moves_files_and_directories(void **state)
{
    struct fixture *f = *state;
    put_file(f, "a", "A");
    put_dir(f, "d");
    put_dir(f, "e");
    assert_int_equal(f->be->ops->rename(f->be, "a", "d/b", 0, NULL), 0);
    assert_false(exists(f, "a"));
    assert_string_equal(content(f, "d/b"), "A");
    assert_int_equal(f->be->ops->rename(f->be, "d", "e/d", 0, NULL), 0);
    assert_string_equal(content(f, "e/d/b"), "A");
}

static void
test_rename_without_replace_refuses_an_existing_target(void **state)
{
    struct fixture *f = *state;
    put_file(f, "a", "A");
    put_file(f, "b", "B");
    assert_int_equal(f->be->ops->rename(f->be, "a", "b", 0, NULL), OF_E(EXISTS));
    assert_string_equal(content(f, "a"), "A");
    assert_string_equal(content(f, "b"), "B");
    assert_int_equal(f->be->ops->rename(f->be, "a", "b", 1, NULL), 0);
    assert_false(exists(f, "a"));
    assert_string_equal(content(f, "b"), "A");
}

static void
test_rename_maps_errors(void **state)
{
    struct fixture *f = *state;
    put_file(f, "a", "A");
    put_dir(f, "d");
    put_dir(f, "full");
    put_file(f, "full/x", "x");
    assert_int_equal(f->be->ops->rename(f->be, "nope", "x", 0, NULL), OF_E(NOT_FOUND));
    assert_int_equal(f->be->ops->rename(f->be, "nope/a", "x", 0, NULL), OF_E(PARENT_MISSING));
    assert_int_equal(f->be->ops->rename(f->be, "a", "nope/a", 0, NULL), OF_E(PARENT_MISSING));
    assert_int_equal(f->be->ops->rename(f->be, "a", "a/b", 0, NULL), OF_E(NOT_A_DIR));
    assert_int_equal(f->be->ops->rename(f->be, "a", "d", 1, NULL), OF_E(NOT_A_FILE));
    assert_int_equal(f->be->ops->rename(f->be, "d", "d/inside", 0, NULL), OF_E(INVALID));
    assert_int_equal(f->be->ops->rename(f->be, "", "x", 0, NULL), OF_E(BAD_PATH));
    assert_int_equal(f->be->ops->rename(f->be, "a", "", 0, NULL), OF_E(BAD_PATH));
    assert_string_equal(content(f, "a"), "A");
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_remove_deletes_files_and_empty_directories),
        T(test_remove_maps_errors),
        T(test_remove_honours_the_etag_precondition),
        T(test_mkdir_creates_a_directory_once),
        T(test_rename_moves_files_and_directories),
        T(test_rename_without_replace_refuses_an_existing_target),
        T(test_rename_maps_errors),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
