/* SPDX-License-Identifier: MIT */
/*
 * Tests of the fs backend's confinement to its root, through the backend
 * vtable only (engine/backends/fs.c): symlinks that lead out of the root,
 * the probe of a root that is there or is a file, a root that disappears
 * (every operation is then unavailable, never a deletion), and paths the
 * engine should never pass, refused by every operation. Each test gets a
 * fresh share under /tmp and a sibling "outside" directory the backend must
 * never reach (fs_fixture.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs_fixture.h"
#include "test_util.h"

static void
test_symlinks_leading_out_of_the_root_are_refused(void **state)
{
    struct fixture *f = *state;
    struct of_stat st;
    struct buf b = {0};
    struct of_dirent *v = NULL;
    size_t n = 0;
    char p[PATH_MAX];
    put_link(f, "abs", f->outside);
    put_link(f, "rel", "../outside");
    put_link(f, "file", "../outside/secret.txt");
    assert_int_equal(stat_of(f, "abs", &st), OF_E(NOT_FOUND));
    assert_int_equal(stat_of(f, "rel/secret.txt", &st), OF_E(NOT_FOUND));
    assert_int_equal(read_all(f, "file", 0, -1, &b, NULL), OF_E(NOT_FOUND));
    assert_int_equal(read_all(f, "abs/secret.txt", 0, -1, &b, NULL), OF_E(NOT_FOUND));
    assert_int_equal(b.len, 0);
    assert_int_equal(f->be->ops->list(f->be, "rel", &v, &n, NULL), OF_E(NOT_FOUND));
    assert_int_equal(write_str(f, "abs/new.txt", "x", NULL, NULL), OF_E(PARENT_MISSING));
    assert_int_equal(write_str(f, "rel/secret.txt", "x", NULL, NULL), OF_E(PARENT_MISSING));
    assert_int_equal(f->be->ops->mkdir(f->be, "abs/d", NULL, NULL), OF_E(PARENT_MISSING));
    assert_int_equal(f->be->ops->remove(f->be, "abs/secret.txt", NULL, NULL), OF_E(NOT_FOUND));
    assert_int_equal(f->be->ops->rename(f->be, "abs/secret.txt", "stolen", 0, NULL),
                     OF_E(NOT_FOUND));
    /* Replacing the link itself stays inside the root and leaves its target alone. */
    assert_int_equal(write_str(f, "file", "mine", NULL, NULL), 0);
    assert_string_equal(content(f, "file"), "mine");
    snprintf(p, sizeof(p), "%s/secret.txt", f->outside);
    FILE *fp = fopen(p, "r");
    char data[16] = {0};
    assert_non_null(fp);
    assert_int_equal(fread(data, 1, sizeof(data) - 1, fp), 6);
    fclose(fp);
    assert_string_equal(data, "secret");
    snprintf(p, sizeof(p), "%s/new.txt", f->outside);
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(temp_files(f->outside), 0);
}

static void
test_probe_succeeds_on_a_readable_root(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->be->ops->probe(f->be, NULL), 0);
}

static void
test_probe_of_a_root_that_is_a_file_is_unavailable(void **state)
{
    struct fixture *f = *state;
    struct of_error err = {0};
    ut_rm_rf(f->root);
    FILE *fp = fopen(f->root, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(f->be->ops->probe(f->be, &err), OF_E(UNAVAILABLE));
    assert_int_equal(err.code, OF_E(UNAVAILABLE));
    assert_null(strstr(err.detail, f->base));
}

/* "Never read a failure as a deletion": a vanished root fails every op as UNAVAILABLE. */
static void
test_every_op_on_a_removed_root_is_unavailable(void **state)
{
    struct fixture *f = *state;
    struct of_stat st;
    struct of_dirent *v = NULL;
    size_t n = 0;
    struct buf b = {0};
    struct of_error err = {0};
    put_file(f, "f", "x");
    ut_rm_rf(f->root);
    const struct of_backend_ops *o = f->be->ops;
    assert_int_equal(stat_of(f, "f", &st), OF_E(UNAVAILABLE));
    assert_int_equal(stat_of(f, "", &st), OF_E(UNAVAILABLE));
    assert_int_equal(o->list(f->be, "", &v, &n, &err), OF_E(UNAVAILABLE));
    assert_int_equal(err.code, OF_E(UNAVAILABLE));
    assert_int_equal(read_all(f, "f", 0, -1, &b, NULL), OF_E(UNAVAILABLE));
    assert_int_equal(write_str(f, "f", "x", NULL, NULL), OF_E(UNAVAILABLE));
    assert_int_equal(o->remove(f->be, "f", NULL, NULL), OF_E(UNAVAILABLE));
    assert_int_equal(o->mkdir(f->be, "d", NULL, NULL), OF_E(UNAVAILABLE));
    assert_int_equal(o->rename(f->be, "f", "g", 0, NULL), OF_E(UNAVAILABLE));
    assert_int_equal(o->probe(f->be, NULL), OF_E(UNAVAILABLE));
}

/* Defense in depth: paths the engine should never pass are refused by every op. */
static void
test_invalid_paths_are_refused_by_every_op(void **state)
{
    struct fixture *f = *state;
    static const char *bad[] = {
        "..",          "../outside", "a/..",      "a/../..",
        ".",           "./a",        "a//b",      "a/",
        "/a",          "/",          "a\\b",      "a\x01",
        "bad\xff\xfe", "\xc0\xaf",   ".of-tmp-x", "d/.of-tmp-0123456789abcdef",
    };
    const struct of_backend_ops *o = f->be->ops;
    put_dir(f, "a");
    put_file(f, "ok", "x");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *p = bad[i];
        struct of_stat st;
        struct of_dirent *v = NULL;
        size_t n = 0;
        struct buf b = {0};
        struct of_error err = {0};
        assert_int_equal(stat_of(f, p, &st), OF_E(BAD_PATH));
        assert_int_equal(o->list(f->be, p, &v, &n, &err), OF_E(BAD_PATH));
        assert_int_equal(err.code, OF_E(BAD_PATH));
        assert_int_equal(read_all(f, p, 0, -1, &b, NULL), OF_E(BAD_PATH));
        assert_int_equal(write_str(f, p, "x", NULL, NULL), OF_E(BAD_PATH));
        assert_int_equal(o->remove(f->be, p, NULL, NULL), OF_E(BAD_PATH));
        assert_int_equal(o->mkdir(f->be, p, NULL, NULL), OF_E(BAD_PATH));
        assert_int_equal(o->rename(f->be, p, "x", 0, NULL), OF_E(BAD_PATH));
        assert_int_equal(o->rename(f->be, "ok", p, 1, NULL), OF_E(BAD_PATH));
    }
    assert_int_equal(stat_of(f, NULL, NULL), OF_E(BAD_PATH));
    assert_string_equal(content(f, "ok"), "x");
    assert_int_equal(temp_files(f->base), 0);
    assert_int_equal(temp_files(f->root), 0);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_symlinks_leading_out_of_the_root_are_refused),
        T(test_probe_succeeds_on_a_readable_root),
        T(test_probe_of_a_root_that_is_a_file_is_unavailable),
        T(test_every_op_on_a_removed_root_is_unavailable),
        T(test_invalid_paths_are_refused_by_every_op),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
