/* SPDX-License-Identifier: MIT */
/*
 * Tests of the fs backend's reads and writes, through the backend vtable
 * only (engine/backends/fs.c): reads streamed in chunks, ranges, and a sink
 * that stops them; writes through a temp file, with ETag and create-only
 * preconditions (also under a race of writers), their error mapping, and
 * never a temp file left behind. Each test gets a fresh share under /tmp and
 * a sibling "outside" directory the backend must never reach (fs_fixture.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_fixture.h"

static void
test_read_streams_a_large_file_in_chunks(void **state)
{
    struct fixture *f = *state;
    size_t size = (size_t)300 * 1024 + 7;
    char *data = malloc(size + 1);
    assert_non_null(data);
    for (size_t i = 0; i < size; i++)
        data[i] = (char)('a' + i % 26);
    data[size] = '\0';
    put_file(f, "big", data);
    struct buf b = {0};
    struct of_stat st, st2;
    assert_int_equal(read_all(f, "big", 0, -1, &b, &st), 0);
    assert_int_equal(b.len, size);
    assert_memory_equal(b.data, data, size);
    assert_int_equal(b.calls, 3);
    assert_int_equal(st.size, (int64_t)size);
    assert_int_equal(stat_of(f, "big", &st2), 0);
    assert_string_equal(st.etag, st2.etag);
    free(b.data);
    free(data);
}

static void
test_read_of_a_range_returns_those_bytes(void **state)
{
    struct fixture *f = *state;
    static const struct {
        int64_t off, len;
        const char *want;
    } cases[] = {
        {0, -1, "0123456789"},
        {3, 4, "3456"},
        {8, 100, "89"},
        {8, -1, "89"},
        {9, 1, "9"},
        {2, INT64_MAX, "23456789"},
        {0, 0, ""},
        {10, 5, ""},
        {50, -1, ""},
        {INT64_MAX, -1, ""},
        {INT64_MAX - 1, INT64_MAX, ""},
    };
    put_file(f, "digits", "0123456789");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b = {0};
        assert_int_equal(read_all(f, "digits", cases[i].off, cases[i].len, &b, NULL), 0);
        assert_int_equal(b.len, strlen(cases[i].want));
        if (b.len)
            assert_memory_equal(b.data, cases[i].want, b.len);
        free(b.data);
    }
}

static void
test_read_with_negative_offset_is_bad_range(void **state)
{
    struct fixture *f = *state;
    struct buf b = {0};
    put_file(f, "f", "x");
    assert_int_equal(read_all(f, "f", -1, -1, &b, NULL), OF_E(BAD_RANGE));
}

static void
test_read_of_directory_fifo_or_missing_file_fails(void **state)
{
    struct fixture *f = *state;
    struct buf b = {0};
    char p[PATH_MAX];
    put_dir(f, "dir");
    host(f, "fifo", p);
    assert_int_equal(mkfifo(p, 0644), 0);
    assert_int_equal(read_all(f, "dir", 0, -1, &b, NULL), OF_E(NOT_A_FILE));
    assert_int_equal(read_all(f, "", 0, -1, &b, NULL), OF_E(NOT_A_FILE));
    assert_int_equal(read_all(f, "fifo", 0, -1, &b, NULL), OF_E(NOT_A_FILE));
    assert_int_equal(read_all(f, "nope", 0, -1, &b, NULL), OF_E(NOT_FOUND));
    assert_int_equal(read_all(f, "nope/x", 0, -1, &b, NULL), OF_E(PARENT_MISSING));
    assert_int_equal(b.calls, 0);
}

static void
test_read_stops_when_the_sink_fails(void **state)
{
    struct fixture *f = *state;
    struct buf b = {.fail_with = OF_E(CACHE_FULL)};
    char *data = calloc(1, (size_t)200 * 1024 + 1);
    assert_non_null(data);
    memset(data, 'x', (size_t)200 * 1024);
    put_file(f, "f", data);
    assert_int_equal(read_all(f, "f", 0, -1, &b, NULL), OF_E(CACHE_FULL));
    assert_int_equal(b.calls, 1);
    free(data);
}

static void
test_write_creates_a_file_and_reports_its_stat(void **state)
{
    struct fixture *f = *state;
    struct of_stat st, st2;
    struct stat hs;
    char p[PATH_MAX];
    mode_t mask = umask(0);
    umask(mask);
    put_dir(f, "dir");
    assert_int_equal(write_str(f, "dir/new.txt", "hello", NULL, &st), 0);
    assert_string_equal(content(f, "dir/new.txt"), "hello");
    assert_int_equal(st.type, OF_STAT_FILE);
    assert_int_equal(st.size, 5);
    assert_int_equal(stat_of(f, "dir/new.txt", &st2), 0);
    assert_string_equal(st.etag, st2.etag);
    assert_int_equal(st.mtime_ns, st2.mtime_ns);
    host(f, "dir/new.txt", p);
    assert_int_equal(stat(p, &hs), 0);
    assert_int_equal(hs.st_mode & 0777, 0644 & ~mask);
    host(f, "dir", p);
    assert_int_equal(temp_files(p), 0);
}

static void
test_write_reads_the_input_from_offset_zero_and_leaves_its_position(void **state)
{
    struct fixture *f = *state;
    char p[PATH_MAX];
    /* A regular file next to the target: copy_file_range's fast path. */
    host(f, "input", p);
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "payload", 7), 7);
    assert_int_equal(lseek(fd, 3, SEEK_SET), 3);
    assert_int_equal(f->be->ops->write(f->be, "out", fd, NULL, NULL, NULL), 0);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 3);
    close(fd);
    assert_string_equal(content(f, "out"), "payload");
    /* A memfd: another filesystem, so the read/write fallback may run. */
    assert_int_equal(write_str(f, "out", "from memfd", NULL, NULL), 0);
    assert_string_equal(content(f, "out"), "from memfd");
    assert_int_equal(write_str(f, "empty", "", NULL, NULL), 0);
    assert_string_equal(content(f, "empty"), "");
}

static void
test_write_with_current_etag_replaces_the_content(void **state)
{
    struct fixture *f = *state;
    struct of_stat old, st;
    put_file(f, "f", "old");
    assert_int_equal(stat_of(f, "f", &old), 0);
    assert_int_equal(write_str(f, "f", "newer", old.etag, &st), 0);
    assert_string_equal(content(f, "f"), "newer");
    assert_string_not_equal(st.etag, old.etag);
    assert_int_equal(temp_files(f->root), 0);
}

static void
test_write_with_stale_etag_is_precondition_failed(void **state)
{
    struct fixture *f = *state;
    struct of_stat old;
    put_file(f, "f", "first");
    assert_int_equal(stat_of(f, "f", &old), 0);
    assert_int_equal(write_str(f, "f", "second", NULL, NULL), 0);
    assert_int_equal(write_str(f, "f", "third", old.etag, NULL), OF_E(PRECONDITION));
    assert_string_equal(content(f, "f"), "second");
    assert_int_equal(write_str(f, "f", "third", "not-an-etag", NULL), OF_E(PRECONDITION));
    assert_string_equal(content(f, "f"), "second");
    assert_int_equal(temp_files(f->root), 0);
}

static void
test_create_only_write_of_existing_file_is_precondition_failed(void **state)
{
    struct fixture *f = *state;
    put_file(f, "f", "keep");
    put_dir(f, "dir");
    assert_int_equal(write_str(f, "f", "clobber", "", NULL), OF_E(PRECONDITION));
    assert_string_equal(content(f, "f"), "keep");
    assert_int_equal(write_str(f, "dir", "clobber", "", NULL), OF_E(PRECONDITION));
    assert_int_equal(write_str(f, "fresh", "made", "", NULL), 0);
    assert_string_equal(content(f, "fresh"), "made");
    assert_int_equal(temp_files(f->root), 0);
}

static void
test_write_with_etag_to_missing_file_is_precondition_failed(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write_str(f, "ghost", "x", "1-2-3-4", NULL), OF_E(PRECONDITION));
    assert_false(exists(f, "ghost"));
    assert_int_equal(temp_files(f->root), 0);
}

static void
test_write_maps_bad_parents_and_targets(void **state)
{
    struct fixture *f = *state;
    put_file(f, "file", "x");
    put_dir(f, "dir");
    put_file(f, "dir/inner", "x");
    assert_int_equal(write_str(f, "nope/x", "x", NULL, NULL), OF_E(PARENT_MISSING));
    assert_int_equal(write_str(f, "nope/deeper/x", "x", NULL, NULL), OF_E(PARENT_MISSING));
    assert_int_equal(write_str(f, "file/x", "x", NULL, NULL), OF_E(NOT_A_DIR));
    assert_int_equal(write_str(f, "dir", "x", NULL, NULL), OF_E(NOT_A_FILE));
    assert_int_equal(write_str(f, "", "x", NULL, NULL), OF_E(NOT_A_FILE));
    assert_string_equal(content(f, "dir/inner"), "x");
    assert_int_equal(temp_files(f->root), 0);
}

static void
test_write_from_unreadable_input_is_io_and_leaves_no_temp_file(void **state)
{
    struct fixture *f = *state;
    struct of_error err = {0};
    put_file(f, "f", "keep");
    int fd = open(f->outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(f->be->ops->write(f->be, "f", fd, NULL, NULL, &err), OF_E(IO));
    assert_int_equal(err.code, OF_E(IO));
    close(fd);
    assert_string_equal(content(f, "f"), "keep");
    assert_int_equal(temp_files(f->root), 0);
}

struct racer {
    struct fixture *f;
    char data[16];
    int rc;
};

static void *
race_create(void *arg)
{
    struct racer *r = arg;
    /* No cmocka asserts off the main thread: they longjmp. */
    int fd = memfd_create("race", MFD_CLOEXEC);
    size_t len = strlen(r->data);
    r->rc = -1;
    if (fd >= 0 && write(fd, r->data, len) == (ssize_t)len)
        r->rc = r->f->be->ops->write(r->f->be, "contested", fd, "", NULL, NULL);
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void
test_concurrent_create_only_writes_let_exactly_one_win(void **state)
{
    struct fixture *f = *state;
    struct racer r[8];
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        r[i].f = f;
        snprintf(r[i].data, sizeof(r[i].data), "writer %d", i);
        assert_int_equal(pthread_create(&t[i], NULL, race_create, &r[i]), 0);
    }
    int winner = -1;
    for (int i = 0; i < 8; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        if (r[i].rc == 0) {
            assert_int_equal(winner, -1);
            winner = i;
        } else {
            assert_int_equal(r[i].rc, OF_E(PRECONDITION));
        }
    }
    assert_true(winner >= 0);
    assert_string_equal(content(f, "contested"), r[winner].data);
    assert_int_equal(temp_files(f->root), 0);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_read_streams_a_large_file_in_chunks),
        T(test_read_of_a_range_returns_those_bytes),
        T(test_read_with_negative_offset_is_bad_range),
        T(test_read_of_directory_fifo_or_missing_file_fails),
        T(test_read_stops_when_the_sink_fails),
        T(test_write_creates_a_file_and_reports_its_stat),
        T(test_write_reads_the_input_from_offset_zero_and_leaves_its_position),
        T(test_write_with_current_etag_replaces_the_content),
        T(test_write_with_stale_etag_is_precondition_failed),
        T(test_create_only_write_of_existing_file_is_precondition_failed),
        T(test_write_with_etag_to_missing_file_is_precondition_failed),
        T(test_write_maps_bad_parents_and_targets),
        T(test_write_from_unreadable_input_is_io_and_leaves_no_temp_file),
        T(test_concurrent_create_only_writes_let_exactly_one_win),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
