/* SPDX-License-Identifier: MIT */
/*
 * Tests of the fs backend's lookups, through the backend vtable only
 * (engine/backends/fs.c): opening, stat with its attributes and ETags,
 * missing items told from missing parents, and listings, which leave out
 * temp files and specials, follow symlinks inside the root and skip those
 * that lead out. Each test gets a fresh share under /tmp and a sibling
 * "outside" directory the backend must never reach (fs_fixture.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs_fixture.h"

/* Without openat2 (old kernels, valgrind) the backend refuses every symlink. */
static int
have_openat2(void)
{
    struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_BENEATH};
    long fd = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof(how));
    if (fd >= 0)
        close((int)fd);
    return fd >= 0 || errno != ENOSYS;
}

static void
test_open_refuses_relative_and_foreign_urls(void **state)
{
    (void)state;
    struct of_backend *be = NULL;
    struct of_error err = {0};
    assert_int_equal(of_backend_open("file://tmp/x", &be, &err), OF_E(BAD_FIELD));
    assert_int_equal(of_backend_open("ftp://host/x", &be, NULL), OF_E(BAD_FIELD));
    assert_int_equal(of_backend_fs_open("relative", &be, NULL), OF_E(BAD_FIELD));
    assert_null(be);
}

static void
test_backend_is_named_fs(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(f->be->ops->name, "fs");
}

static void
test_stat_of_root_is_a_directory(void **state)
{
    struct fixture *f = *state;
    struct of_stat st;
    assert_int_equal(stat_of(f, "", &st), 0);
    assert_int_equal(st.type, OF_STAT_DIR);
    assert_int_equal(st.size, 0);
    assert_int_equal(st.attrs, OF_ATTR_DIRECTORY);
}

static void
test_stat_of_file_reports_size_mtime_and_etag(void **state)
{
    struct fixture *f = *state;
    struct of_stat st;
    struct stat hs;
    char p[PATH_MAX], etag[OF_ETAG_MAX];
    put_file(f, "a.txt", "hello");
    host(f, "a.txt", p);
    assert_int_equal(stat(p, &hs), 0);
    int64_t ns = (int64_t)hs.st_mtim.tv_sec * 1000000000 + hs.st_mtim.tv_nsec;
    snprintf(etag, sizeof(etag), "%" PRIx64 "-%" PRIx64 "-5-%" PRIx64, (uint64_t)hs.st_dev,
             (uint64_t)hs.st_ino, (uint64_t)ns);
    assert_int_equal(stat_of(f, "a.txt", &st), 0);
    assert_int_equal(st.type, OF_STAT_FILE);
    assert_int_equal(st.size, 5);
    assert_int_equal(st.mtime_ns, ns);
    assert_int_equal(st.attrs, 0);
    assert_string_equal(st.etag, etag);
}

static void
test_stat_attrs_mark_hidden_readonly_and_directory(void **state)
{
    struct fixture *f = *state;
    struct of_stat st;
    char p[PATH_MAX];
    put_file(f, ".hidden", "x");
    put_file(f, "ro.txt", "x");
    put_dir(f, ".dir");
    host(f, "ro.txt", p);
    assert_int_equal(chmod(p, 0444), 0);
    assert_int_equal(stat_of(f, ".hidden", &st), 0);
    assert_int_equal(st.attrs, OF_ATTR_HIDDEN);
    assert_int_equal(stat_of(f, "ro.txt", &st), 0);
    assert_int_equal(st.attrs, OF_ATTR_READONLY);
    assert_int_equal(stat_of(f, ".dir", &st), 0);
    assert_int_equal(st.attrs, OF_ATTR_DIRECTORY | OF_ATTR_HIDDEN);
}

static void
test_stat_distinguishes_missing_item_from_missing_parent(void **state)
{
    struct fixture *f = *state;
    struct of_stat st;
    put_file(f, "file", "x");
    put_dir(f, "dir");
    assert_int_equal(stat_of(f, "nope", &st), OF_E(NOT_FOUND));
    assert_int_equal(stat_of(f, "dir/nope", &st), OF_E(NOT_FOUND));
    assert_int_equal(stat_of(f, "nope/x", &st), OF_E(PARENT_MISSING));
    assert_int_equal(stat_of(f, "dir/nope/x/y", &st), OF_E(PARENT_MISSING));
    assert_int_equal(stat_of(f, "file/x", &st), OF_E(NOT_FOUND));
}

static void
test_etag_changes_when_content_may_have(void **state)
{
    struct fixture *f = *state;
    struct of_stat a, b, c;
    char p[PATH_MAX];
    put_file(f, "f", "one");
    assert_int_equal(stat_of(f, "f", &a), 0);
    /* Same size, different mtime: an in-place edit. */
    host(f, "f", p);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1000000, 5}};
    assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
    assert_int_equal(stat_of(f, "f", &b), 0);
    assert_string_not_equal(a.etag, b.etag);
    assert_int_equal(write_str(f, "f", "two", NULL, NULL), 0);
    assert_int_equal(stat_of(f, "f", &c), 0);
    assert_string_not_equal(b.etag, c.etag);
    assert_int_equal(stat_of(f, "f", &a), 0);
    assert_string_equal(a.etag, c.etag);
}

static void
test_list_returns_sorted_entries_without_dots_temp_files_or_specials(void **state)
{
    struct fixture *f = *state;
    struct of_dirent *v = NULL;
    size_t n = 99;
    char p[PATH_MAX];
    put_file(f, "b.txt", "bb");
    put_dir(f, "a");
    put_file(f, ".of-tmp-0123456789abcdef", "leftover");
    put_file(f, "back\\slash", "unaddressable");
    host(f, "fifo", p);
    assert_int_equal(mkfifo(p, 0644), 0);
    assert_int_equal(f->be->ops->list(f->be, "", &v, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "a");
    assert_int_equal(v[0].st.type, OF_STAT_DIR);
    assert_string_equal(v[1].name, "b.txt");
    assert_int_equal(v[1].st.type, OF_STAT_FILE);
    assert_int_equal(v[1].st.size, 2);
    struct of_stat st;
    assert_int_equal(stat_of(f, "b.txt", &st), 0);
    assert_string_equal(v[1].st.etag, st.etag);
    free(v);
}

static void
test_list_of_empty_directory_is_empty(void **state)
{
    struct fixture *f = *state;
    struct of_dirent *v = NULL;
    size_t n = 99;
    put_dir(f, "empty");
    assert_int_equal(f->be->ops->list(f->be, "empty", &v, &n, NULL), 0);
    assert_int_equal(n, 0);
    free(v);
}

static void
test_list_of_file_or_missing_directory_fails(void **state)
{
    struct fixture *f = *state;
    struct of_dirent *v = NULL;
    size_t n = 0;
    put_file(f, "file", "x");
    put_dir(f, "dir");
    put_file(f, "dir/file", "x");
    assert_int_equal(f->be->ops->list(f->be, "file", &v, &n, NULL), OF_E(NOT_A_DIR));
    assert_int_equal(f->be->ops->list(f->be, "dir/file", &v, &n, NULL), OF_E(NOT_A_DIR));
    assert_int_equal(f->be->ops->list(f->be, "nope", &v, &n, NULL), OF_E(NOT_FOUND));
    assert_int_equal(f->be->ops->list(f->be, "nope/x", &v, &n, NULL), OF_E(PARENT_MISSING));
    assert_int_equal(f->be->ops->list(f->be, "file/x", &v, &n, NULL), OF_E(NOT_FOUND));
    assert_null(v);
}

static void
test_list_follows_symlinks_inside_root_and_skips_escaping_ones(void **state)
{
    struct fixture *f = *state;
    struct of_dirent *v = NULL;
    size_t n = 0;
    char target[PATH_MAX];
    put_dir(f, "sub");
    put_file(f, "sub/real.txt", "real");
    put_link(f, "sub/inner", "real.txt");
    put_link(f, "sub/up", "../sub");
    put_link(f, "sub/abs", f->outside);
    put_link(f, "sub/rel", "../../outside/secret.txt");
    put_link(f, "sub/dangling", "nothing");
    put_link(f, "sub/loop", "loop");
    snprintf(target, sizeof(target), "%s/sub/real.txt", f->root);
    put_link(f, "sub/abs_inside", target); /* absolute, so judged as leading out */
    assert_int_equal(f->be->ops->list(f->be, "sub", &v, &n, NULL), 0);
    if (!have_openat2()) {
        assert_int_equal(n, 1);
        assert_string_equal(v[0].name, "real.txt");
        free(v);
        return;
    }
    assert_int_equal(n, 3);
    assert_string_equal(v[0].name, "inner");
    assert_int_equal(v[0].st.type, OF_STAT_FILE);
    assert_int_equal(v[0].st.size, 4);
    assert_string_equal(v[1].name, "real.txt");
    assert_string_equal(v[0].st.etag, v[1].st.etag);
    assert_string_equal(v[2].name, "up");
    assert_int_equal(v[2].st.type, OF_STAT_DIR);
    free(v);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_refuses_relative_and_foreign_urls),
        T(test_backend_is_named_fs),
        T(test_stat_of_root_is_a_directory),
        T(test_stat_of_file_reports_size_mtime_and_etag),
        T(test_stat_attrs_mark_hidden_readonly_and_directory),
        T(test_stat_distinguishes_missing_item_from_missing_parent),
        T(test_etag_changes_when_content_may_have),
        T(test_list_returns_sorted_entries_without_dots_temp_files_or_specials),
        T(test_list_of_empty_directory_is_empty),
        T(test_list_of_file_or_missing_directory_fails),
        T(test_list_follows_symlinks_inside_root_and_skips_escaping_ones),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
