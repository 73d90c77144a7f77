/* SPDX-License-Identifier: MIT */
/* The fs backend tests' fixture: see fs_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_fixture.h"
#include "test_util.h"

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

void
host(const struct fixture *f, const char *rel, char *out)
{
    snprintf(out, PATH_MAX, "%s/%s", f->root, rel);
}

void
put_file(const struct fixture *f, const char *rel, const char *content)
{
    char p[PATH_MAX];
    host(f, rel, p);
    ut_write_file(p, content);
}

void
put_dir(const struct fixture *f, const char *rel)
{
    char p[PATH_MAX];
    host(f, rel, p);
    assert_int_equal(mkdir(p, 0755), 0);
}

void
put_link(const struct fixture *f, const char *rel, const char *target)
{
    char p[PATH_MAX];
    host(f, rel, p);
    assert_int_equal(symlink(target, p), 0);
}

/* The host file's content, or "<missing>". Static storage: one at a time. */
const char *
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

int
exists(const struct fixture *f, const char *rel)
{
    char p[PATH_MAX];
    struct stat st;
    host(f, rel, p);
    return lstat(p, &st) == 0;
}

/* Entries named like the backend's temp files in host directory dir. */
int
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

int
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

int
read_all(const struct fixture *f, const char *rel, int64_t off, int64_t len, struct buf *b,
         struct of_stat *ret_st)
{
    struct of_sink sink = {buf_write, b};
    return f->be->ops->read(f->be, rel, off, len, &sink, ret_st, NULL);
}

int
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

int
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

int
teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(open_fds(), f->fds);
    of_backend_free(f->be);
    ut_rm_rf(f->base);
    free(f);
    return 0;
}
