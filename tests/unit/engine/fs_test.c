/* SPDX-License-Identifier: MIT */
/*
 * Tests of the fs backend, through the backend vtable only: every operation,
 * every error mapping, symlinks that lead out of the root, temp files, and a
 * root that disappears. Each test gets a fresh share under /tmp and a sibling
 * "outside" directory the backend must never reach.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend.h"
#include "test_util.h"

struct fixture {
    char base[64];    /* mkdtemp'ed; holds the two below */
    char root[96];    /* the share */
    char outside[96]; /* next to the share, never to be touched */
    struct of_backend *be;
    int fds; /* open descriptors at setup: none may leak */
};

/* Collects what a read streams; fail_with makes the sink stop the transfer. */
struct buf {
    char *data;
    size_t len;
    int calls;
    int fail_with;
};

static int
buf_write(void *ctx, const void *p, size_t n)
{
    struct buf *b = ctx;
    b->calls++;
    if (b->fail_with)
        return b->fail_with;
    char *d = realloc(b->data, b->len + n + 1);
    assert_non_null(d);
    memcpy(d + b->len, p, n);
    b->data = d;
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static void
host(const struct fixture *f, const char *rel, char *out)
{
    snprintf(out, PATH_MAX, "%s/%s", f->root, rel);
}

static void
put_file(const struct fixture *f, const char *rel, const char *content)
{
    char p[PATH_MAX];
    host(f, rel, p);
    ut_write_file(p, content);
}

static void
put_dir(const struct fixture *f, const char *rel)
{
    char p[PATH_MAX];
    host(f, rel, p);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void
put_link(const struct fixture *f, const char *rel, const char *target)
{
    char p[PATH_MAX];
    host(f, rel, p);
    assert_int_equal(symlink(target, p), 0);
}

/* The host file's content, or "<missing>". Static storage: one at a time. */
static const char *
content(const struct fixture *f, const char *rel)
{
    static char data[4096];
    char p[PATH_MAX];
    host(f, rel, p);
    FILE *fp = fopen(p, "r");
    if (!fp)
        return "<missing>";
    size_t n = fread(data, 1, sizeof(data) - 1, fp);
    data[n] = '\0';
    fclose(fp);
    return data;
}

static int
exists(const struct fixture *f, const char *rel)
{
    char p[PATH_MAX];
    struct stat st;
    host(f, rel, p);
    return lstat(p, &st) == 0;
}

/* Entries named like the backend's temp files in host directory dir. */
static int
temp_files(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d));)
        n += strncmp(de->d_name, ".of-tmp-", 8) == 0;
    closedir(d);
    return n;
}

/* An input file with content and its offset left at the end, as a careless caller would. */
static int
input(const char *data, size_t len)
{
    int fd = memfd_create("fs_test", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    return fd;
}

static int
write_str(const struct fixture *f, const char *rel, const char *data, const char *if_match,
          struct of_stat *ret_st)
{
    int fd = input(data, strlen(data));
    struct of_error err = {0};
    int rc = f->be->ops->write(f->be, rel, fd, if_match, ret_st, &err);
    assert_int_equal(err.code, rc);
    close(fd);
    return rc;
}

static int
read_all(const struct fixture *f, const char *rel, int64_t off, int64_t len, struct buf *b,
         struct of_stat *ret_st)
{
    struct of_sink sink = {buf_write, b};
    return f->be->ops->read(f->be, rel, off, len, &sink, ret_st, NULL);
}

static int
stat_of(const struct fixture *f, const char *rel, struct of_stat *st)
{
    struct of_error err = {0};
    int rc = f->be->ops->stat(f->be, rel, st, &err);
    /* Every failure carries its code in reterr, and its detail never shows the host path. */
    if (rc < 0) {
        assert_int_equal(err.code, rc);
        assert_null(strstr(err.detail, f->base));
    }
    return rc;
}

static int
open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d));)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

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

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->base, sizeof(f->base), "/tmp/of-fs-test-XXXXXX");
    assert_non_null(mkdtemp(f->base));
    snprintf(f->root, sizeof(f->root), "%s/share", f->base);
    snprintf(f->outside, sizeof(f->outside), "%s/outside", f->base);
    assert_int_equal(mkdir(f->root, 0755), 0);
    assert_int_equal(mkdir(f->outside, 0755), 0);
    char url[128], p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/secret.txt", f->outside);
    ut_write_file(p, "secret");
    snprintf(url, sizeof(url), "file://%s", f->root);
    assert_int_equal(of_backend_open(url, &f->be, NULL), 0);
    f->fds = open_fds();
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(open_fds(), f->fds);
    of_backend_free(f->be);
    ut_rm_rf(f->base);
    free(f);
    return 0;
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
        T(test_symlinks_leading_out_of_the_root_are_refused),
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
        T(test_remove_deletes_files_and_empty_directories),
        T(test_remove_maps_errors),
        T(test_remove_honours_the_etag_precondition),
        T(test_mkdir_creates_a_directory_once),
        T(test_rename_moves_files_and_directories),
        T(test_rename_without_replace_refuses_an_existing_target),
        T(test_rename_maps_errors),
        T(test_probe_succeeds_on_a_readable_root),
        T(test_probe_of_a_root_that_is_a_file_is_unavailable),
        T(test_every_op_on_a_removed_root_is_unavailable),
        T(test_invalid_paths_are_refused_by_every_op),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
