/* SPDX-License-Identifier: MIT */
/* The engine tests' fixture: see engine_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_fixture.h"
#include "store.h"
#include "test_util.h"

void
add_share(struct fixture *f, const char *share, const char *dir, enum of_caching_mode mode)
{
    struct of_share_view view;
    ut_share_add(f->eng, share, dir, mode, &view);
    assert_int_equal(view.conn.state, OF_CONN_ONLINE);
}

int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    UT_ENGINE_SETUP(f, "engine-test");
    add_share(f, "docs", f->root, OF_CACHING_AUTO);
    *state = f;
    return 0;
}

int
teardown(void **state)
{
    struct fixture *f = *state;
    ut_engine_teardown(f->eng, f->base);
    free(f);
    return 0;
}

void
reopen(struct fixture *f)
{
    of_engine_free(f->eng);
    f->eng = NULL;
    struct of_engine_config cfg = {.data_dir = f->data};
    assert_int_equal(of_engine_open(&cfg, &f->eng, NULL), 0);
}

/* ---- the share's directory, seen directly ---- */

void
host(const struct fixture *f, const char *rel, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", f->root, rel);
}

void
put_host(const struct fixture *f, const char *rel, const char *data)
{
    char p[PATH_MAX];
    host(f, rel, p, sizeof(p));
    ut_write_file(p, data);
}

/* The file's content on the share, or "<missing>". Static storage: one at a time. */
const char *
host_content(const struct fixture *f, const char *rel)
{
    static char buf[256];
    char p[PATH_MAX];
    host(f, rel, p, sizeof(p));
    FILE *fp = fopen(p, "r");
    if (!fp)
        return "<missing>";
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

int
host_exists(const struct fixture *f, const char *rel)
{
    char p[PATH_MAX];
    struct stat sb;
    host(f, rel, p, sizeof(p));
    return lstat(p, &sb) == 0;
}

/* Files under DATA/cache/content/xx/: content, and any named temp file left behind. */
int
content_files(const struct fixture *f)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/cache/content", f->data);
    return ut_bucket_files(p, 0) + ut_bucket_files(p, 1);
}

/* ---- the engine ---- */

/* PUT data at path as USER; on failure the code is also in reterr. */
int
write_path(struct fixture *f, const char *path, const char *data, struct of_write_result *res)
{
    struct of_content_tmp *up = NULL;
    assert_int_equal(of_engine_upload_new(f->eng, &up, NULL), 0);
    assert_int_equal(of_content_tmp_write(up, data, strlen(data), NULL), 0);
    struct of_write_result scratch;
    struct of_error err = {0};
    int rc = of_engine_file_write(f->eng, path, USER, up, NULL, NULL, res ? res : &scratch, &err);
    of_content_tmp_free(up);
    if (rc < 0)
        assert_int_equal(err.code, rc);
    return rc;
}

/* Read path as USER into buf (NUL-terminated). */
int
read_path(struct fixture *f, const char *path, char *buf, size_t cap, struct of_file_read *ret)
{
    struct of_file_read rd;
    struct of_error err = {0};
    int rc = of_engine_file_open(f->eng, path, USER, &rd, &err);
    if (rc < 0) {
        assert_int_equal(err.code, rc);
        return rc;
    }
    assert_true(rd.fd >= 0);
    ssize_t n = read(rd.fd, buf, cap - 1);
    assert_true(n >= 0);
    buf[n] = '\0';
    close(rd.fd);
    assert_int_equal(rd.size, n);
    if (ret)
        *ret = rd;
    return 0;
}

void
assert_reads(struct fixture *f, const char *path, const char *want)
{
    char buf[256];
    struct of_file_read rd;
    assert_int_equal(read_path(f, path, buf, sizeof(buf), &rd), 0);
    assert_string_equal(buf, want);
}

struct of_item
item_of(struct fixture *f, const char *path)
{
    struct of_item_view v;
    struct of_error err = {0};
    if (of_engine_item_get(f->eng, path, USER, &v, &err) != 0)
        fail_msg("item_get %s: %s", path, err.detail);
    return v.item;
}

int
item_rc(struct fixture *f, const char *path)
{
    struct of_item_view v;
    return of_engine_item_get(f->eng, path, USER, &v, NULL);
}

void
set_online(struct fixture *f, int online)
{
    assert_int_equal(of_engine_connection_set(f->eng, "srv", "docs", online, NULL), 0);
}

void
set_mode(struct fixture *f, enum of_caching_mode mode)
{
    struct of_share_patch p = {.has_caching_mode = 1, .caching_mode = mode};
    struct of_share_view v;
    assert_int_equal(of_engine_share_update(f->eng, "srv", "docs", &p, &v, NULL), 0);
    assert_int_equal(v.rec.caching_mode, mode);
}

/* Pins have no engine call yet: set them through a second store connection. */
void
pin(struct fixture *f, const char *path, enum of_pin_scope scope, const char *user)
{
    char db[256];
    snprintf(db, sizeof(db), "%s/offlinefiles.db", f->data);
    struct of_store *st = NULL;
    assert_int_equal(of_store_open(db, &st, NULL), 0);
    struct of_item it;
    assert_int_equal(of_store_item_get(st, path, &it, NULL), 0);
    assert_int_equal(of_store_pin_set(st, it.id, scope, user, 0, NULL), 0);
    of_store_free(st);
}
