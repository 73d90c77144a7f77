/* SPDX-License-Identifier: MIT */
/*
 * Tests of the engine through engine.h, over a temp data directory and an fs
 * share on a temp directory (//srv/docs -> file:///tmp/.../share): reads and
 * writes online, the caching modes, forced offline and the offline changes
 * it records, item queries with every filter and cursor pages, the cache
 * limits, tokens, share removal, and a reopen that keeps all of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "store.h"
#include "test_util.h"

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_HELLO "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
#define SEC(s) ((int64_t)(s)*1000000000LL)
#define BIT(flag) (1ull << (flag))
#define USER "alice"

struct fixture {
    char base[64];
    char data[128];
    char root[128]; /* the share's directory */
    struct of_engine *eng;
};

static void
add_share(struct fixture *f, const char *share, const char *dir, enum of_caching_mode mode)
{
    struct of_share_view view;
    ut_share_add(f->eng, share, dir, mode, &view);
    assert_int_equal(view.conn.state, OF_CONN_ONLINE);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    UT_ENGINE_SETUP(f, "engine-test");
    add_share(f, "docs", f->root, OF_CACHING_AUTO);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    ut_engine_teardown(f->eng, f->base);
    free(f);
    return 0;
}

static void
reopen(struct fixture *f)
{
    of_engine_free(f->eng);
    f->eng = NULL;
    struct of_engine_config cfg = {.data_dir = f->data};
    assert_int_equal(of_engine_open(&cfg, &f->eng, NULL), 0);
}

/* ---- the share's directory, seen directly ---- */

static void
host(const struct fixture *f, const char *rel, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", f->root, rel);
}

static void
put_host(const struct fixture *f, const char *rel, const char *data)
{
    char p[PATH_MAX];
    host(f, rel, p, sizeof(p));
    ut_write_file(p, data);
}

static void
mkdir_host(const struct fixture *f, const char *rel)
{
    char p[PATH_MAX];
    host(f, rel, p, sizeof(p));
    assert_int_equal(mkdir(p, 0755), 0);
}

static void
mtime_host(const struct fixture *f, const char *rel, int64_t sec)
{
    char p[PATH_MAX];
    host(f, rel, p, sizeof(p));
    struct timespec ts[2] = {{.tv_sec = sec}, {.tv_sec = sec}};
    assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

/* The file's content on the share, or "<missing>". Static storage: one at a time. */
static const char *
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

static int
host_exists(const struct fixture *f, const char *rel)
{
    char p[PATH_MAX];
    struct stat sb;
    host(f, rel, p, sizeof(p));
    return lstat(p, &sb) == 0;
}

/* Files under DATA/cache/content/xx/: content, and any named temp file left behind. */
static int
content_files(const struct fixture *f)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/cache/content", f->data);
    return ut_bucket_files(p, 0) + ut_bucket_files(p, 1);
}

/* ---- the engine ---- */

/* PUT data at path as USER; on failure the code is also in reterr. */
static int
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
static int
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

static void
assert_reads(struct fixture *f, const char *path, const char *want)
{
    char buf[256];
    struct of_file_read rd;
    assert_int_equal(read_path(f, path, buf, sizeof(buf), &rd), 0);
    assert_string_equal(buf, want);
}

static struct of_item
item_of(struct fixture *f, const char *path)
{
    struct of_item_view v;
    struct of_error err = {0};
    if (of_engine_item_get(f->eng, path, USER, &v, &err) != 0)
        fail_msg("item_get %s: %s", path, err.detail);
    return v.item;
}

static int
item_rc(struct fixture *f, const char *path)
{
    struct of_item_view v;
    return of_engine_item_get(f->eng, path, USER, &v, NULL);
}

static void
set_online(struct fixture *f, int online)
{
    assert_int_equal(of_engine_connection_set(f->eng, "srv", "docs", online, NULL), 0);
}

static void
set_mode(struct fixture *f, enum of_caching_mode mode)
{
    struct of_share_patch p = {.has_caching_mode = 1, .caching_mode = mode};
    struct of_share_view v;
    assert_int_equal(of_engine_share_update(f->eng, "srv", "docs", &p, &v, NULL), 0);
    assert_int_equal(v.rec.caching_mode, mode);
}

/* ---- shares ---- */

static void
test_share_add_creates_server_and_share_items_and_is_online(void **state)
{
    struct fixture *f = *state;
    struct of_item it = item_of(f, "//srv");
    assert_int_equal(it.type, OF_ITEM_SERVER);
    it = item_of(f, "//srv/docs");
    assert_int_equal(it.type, OF_ITEM_SHARE);
    assert_true(it.share_id > 0);
    assert_int_equal(it.parent_id, item_of(f, "//srv").id);

    struct of_share_view v;
    assert_int_equal(of_engine_share_get(f->eng, "srv", "docs", &v, NULL), 0);
    assert_int_equal(v.conn.state, OF_CONN_ONLINE);
    assert_int_equal(v.rec.caching_mode, OF_CACHING_AUTO);
    assert_int_equal(v.rec.forced_offline, 0);
    char remote[160];
    snprintf(remote, sizeof(remote), "file://%s", f->root);
    assert_string_equal(v.rec.remote, remote);
}

static void
test_share_add_refuses_duplicates_bad_names_and_bad_remotes(void **state)
{
    struct fixture *f = *state;
    struct {
        const char *server, *share, *remote;
        int want;
    } cases[] = {
        {"srv", "docs", "file:///tmp", OF_E(EXISTS)},
        {"srv", "a/b", "file:///tmp", OF_E(BAD_FIELD)},
        {"", "x", "file:///tmp", OF_E(BAD_FIELD)},
        {"srv", "..", "file:///tmp", OF_E(BAD_FIELD)},
        {"srv", "x", "gopher://host/x", OF_E(BAD_FIELD)},
        {"srv", "x", "file://relative", OF_E(BAD_FIELD)},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct of_share_rec rec = {0};
        snprintf(rec.server, sizeof(rec.server), "%s", cases[i].server);
        snprintf(rec.share, sizeof(rec.share), "%s", cases[i].share);
        snprintf(rec.remote, sizeof(rec.remote), "%s", cases[i].remote);
        struct of_error err = {0};
        int rc = of_engine_share_add(f->eng, &rec, NULL, &err);
        if (rc != cases[i].want || err.code != rc)
            fail_msg("add //%s/%s (%s): rc %d, want %d", cases[i].server, cases[i].share,
                     cases[i].remote, rc, cases[i].want);
    }
    struct of_share_view *list = NULL;
    size_t n = 0;
    assert_int_equal(of_engine_share_list(f->eng, NULL, &list, &n, NULL), 0);
    assert_int_equal(n, 1);
    free(list);
}

static void
test_connection_set_forces_a_share_offline_and_back(void **state)
{
    struct fixture *f = *state;
    struct of_conn_info ci;
    set_online(f, 0);
    assert_int_equal(of_engine_connection_get(f->eng, "srv", "docs", &ci, NULL), 0);
    assert_int_equal(ci.state, OF_CONN_OFFLINE);
    assert_int_equal(ci.reason, OF_REASON_FORCED);
    assert_int_equal(of_engine_connection_get(f->eng, "srv", NULL, &ci, NULL), 0);
    assert_int_equal(ci.state, OF_CONN_OFFLINE);
    struct of_share_view v;
    assert_int_equal(of_engine_share_get(f->eng, "srv", "docs", &v, NULL), 0);
    assert_int_equal(v.rec.forced_offline, 1);

    set_online(f, 1);
    assert_int_equal(of_engine_connection_get(f->eng, "srv", "docs", &ci, NULL), 0);
    assert_int_equal(ci.state, OF_CONN_ONLINE);
    assert_int_equal(ci.reason, OF_REASON_NONE);
    assert_int_equal(of_engine_share_get(f->eng, "srv", "docs", &v, NULL), 0);
    assert_int_equal(v.rec.forced_offline, 0);

    assert_int_equal(of_engine_connection_set(f->eng, "srv", "nope", 0, NULL), OF_E(NO_SHARE));
    assert_int_equal(of_engine_connection_set(f->eng, "other", NULL, 0, NULL), OF_E(NO_SHARE));
}

/* ---- online reads and writes ---- */

static void
test_write_online_lands_on_the_share_and_in_the_cache(void **state)
{
    struct fixture *f = *state;
    struct of_write_result res;
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", &res), 0);
    assert_int_equal(res.created, 1);
    assert_int_equal(res.stored_offline, 0);
    assert_string_equal(host_content(f, "a.txt"), "abc");
    const struct of_item *it = &res.view.item;
    assert_int_equal(it->type, OF_ITEM_FILE);
    assert_string_equal(it->local.hash, SHA_ABC);
    assert_string_equal(it->original.hash, SHA_ABC);
    assert_int_equal(it->local.size, 3);
    assert_int_equal(it->cached_bytes, 3);
    assert_int_equal(it->ghosted, 0);
    assert_int_equal(of_item_dirty(it), 0);
    assert_int_equal(res.view.online, 1);
    struct of_item stored = item_of(f, "//srv/docs/a.txt");
    assert_int_equal(stored.id, it->id);
    assert_string_equal(stored.local.hash, SHA_ABC);

    /* A second write replaces: not created, new hash. */
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "hello world", &res), 0);
    assert_int_equal(res.created, 0);
    assert_string_equal(res.view.item.local.hash, SHA_HELLO);
    assert_string_equal(host_content(f, "a.txt"), "hello world");
    assert_int_equal(content_files(f), 1); /* the old version was unlinked */
}

static void
test_read_online_returns_the_bytes_with_the_sha256_as_etag(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", NULL), 0);
    char buf[64];
    struct of_file_read rd;
    assert_int_equal(read_path(f, "//srv/docs/a.txt", buf, sizeof(buf), &rd), 0);
    assert_string_equal(buf, "abc");
    assert_string_equal(rd.etag, SHA_ABC);
    assert_int_equal(rd.size, 3);
    assert_int_equal(rd.offline, 0);
    assert_int_equal(rd.from_cache, 1);

    /* A file the cache has never seen is fetched, then served from the cache. */
    put_host(f, "b.txt", "hello world");
    assert_int_equal(read_path(f, "//srv/docs/b.txt", buf, sizeof(buf), &rd), 0);
    assert_string_equal(buf, "hello world");
    assert_string_equal(rd.etag, SHA_HELLO);
    assert_int_equal(rd.from_cache, 0);
    assert_int_equal(read_path(f, "//srv/docs/b.txt", buf, sizeof(buf), &rd), 0);
    assert_string_equal(buf, "hello world");
    assert_string_equal(rd.etag, SHA_HELLO);
    assert_int_equal(rd.from_cache, 1);
}

static void
test_read_online_sees_a_change_made_on_the_share(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", NULL), 0);
    put_host(f, "a.txt", "hello world");
    char buf[64];
    struct of_file_read rd;
    assert_int_equal(read_path(f, "//srv/docs/a.txt", buf, sizeof(buf), &rd), 0);
    assert_string_equal(buf, "hello world");
    assert_string_equal(rd.etag, SHA_HELLO);
    assert_int_equal(rd.from_cache, 0);
    assert_string_equal(item_of(f, "//srv/docs/a.txt").local.hash, SHA_HELLO);
}

static void
test_read_of_missing_file_directory_or_share_root_fails(void **state)
{
    struct fixture *f = *state;
    char buf[8];
    assert_int_equal(read_path(f, "//srv/docs/nope", buf, sizeof(buf), NULL), OF_E(NOT_FOUND));
    assert_int_equal(
        of_engine_dir_create(f->eng, "//srv/docs/d", USER, &(struct of_write_result){0}, NULL), 0);
    assert_int_equal(read_path(f, "//srv/docs/d", buf, sizeof(buf), NULL), OF_E(NOT_A_FILE));
    assert_int_equal(read_path(f, "//srv/docs", buf, sizeof(buf), NULL), OF_E(NOT_A_FILE));
    assert_int_equal(read_path(f, "//srv/other/x", buf, sizeof(buf), NULL), OF_E(NO_SHARE));
    assert_int_equal(read_path(f, "//srv/docs/../x", buf, sizeof(buf), NULL), OF_E(BAD_PATH));
}

struct mode_case {
    enum of_caching_mode mode;
    int want_item;   /* the read leaves an item row */
    int want_cached; /* ... with the bytes cached */
};

static const struct mode_case mode_cases[] = {
    {OF_CACHING_MANUAL, 1, 0},
    {OF_CACHING_AUTO, 1, 1},
    {OF_CACHING_AUTO_PROGRAMS, 1, 1},
    {OF_CACHING_NONE, 0, 0},
};

static void
test_plain_read_caches_the_file_only_in_automatic_modes(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(mode_cases) / sizeof(mode_cases[0]); i++) {
        const struct mode_case *c = &mode_cases[i];
        char rel[32], path[64];
        snprintf(rel, sizeof(rel), "m%zu.txt", i);
        snprintf(path, sizeof(path), "//srv/docs/%s", rel);
        set_mode(f, c->mode);
        put_host(f, rel, "hello world");
        struct of_cache_info before, after;
        assert_int_equal(of_engine_cache_get(f->eng, &before, NULL), 0);
        assert_reads(f, path, "hello world");
        struct of_item_view v;
        int rc = of_engine_item_get(f->eng, path, USER, &v, NULL);
        if (c->want_item != (rc == 0))
            fail_msg("%s: item_get rc %d", of_caching_mode_name(c->mode), rc);
        if (rc == 0) {
            const struct of_item *it = &v.item;
            if (it->ghosted != !c->want_cached || it->cached_bytes != (c->want_cached ? 11 : 0) ||
                (it->content[0] != '\0') != c->want_cached)
                fail_msg("%s: ghosted %d cached_bytes %lld content '%s'",
                         of_caching_mode_name(c->mode), it->ghosted, (long long)it->cached_bytes,
                         it->content);
            assert_string_equal(it->remote.hash, SHA_HELLO);
            assert_int_equal(it->remote.size, 11);
        }
        assert_int_equal(of_engine_cache_get(f->eng, &after, NULL), 0);
        assert_int_equal(after.used - before.used, c->want_cached ? 11 : 0);
        /* Offline, only what was cached can be read. */
        set_online(f, 0);
        char buf[32];
        assert_int_equal(read_path(f, path, buf, sizeof(buf), NULL),
                         c->want_cached ? 0 : OF_E(NOT_OFFLINE));
        set_online(f, 1);
    }
}

/* ---- offline ---- */

static void
test_offline_write_of_a_cached_file_marks_modified_data(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", NULL), 0);
    set_online(f, 0);
    struct of_write_result res;
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "hello world", &res), 0);
    assert_int_equal(res.stored_offline, 1);
    assert_int_equal(res.created, 0);
    assert_int_equal(res.view.online, 0);
    struct of_item it = item_of(f, "//srv/docs/a.txt");
    assert_int_equal(it.mod_data, 1);
    assert_int_equal(it.created_offline, 0);
    assert_int_equal(it.deleted_offline, 0);
    assert_true(of_item_dirty(&it));
    assert_string_equal(it.local.hash, SHA_HELLO);
    assert_int_equal(it.local.size, 11);
    assert_string_equal(it.original.hash, SHA_ABC);
    assert_string_equal(host_content(f, "a.txt"), "abc"); /* the share is untouched */
    struct of_item_view v;
    assert_int_equal(of_engine_item_get(f->eng, "//srv/docs/a.txt", USER, &v, NULL), 0);
    assert_int_equal(v.dirty_bytes_local, 11);
    assert_int_equal(v.online, 0);

    char buf[64];
    struct of_file_read rd;
    assert_int_equal(read_path(f, "//srv/docs/a.txt", buf, sizeof(buf), &rd), 0);
    assert_string_equal(buf, "hello world");
    assert_string_equal(rd.etag, SHA_HELLO);
    assert_int_equal(rd.offline, 1);
    assert_int_equal(rd.from_cache, 1);
}

static void
test_offline_write_of_a_new_file_is_created_offline(void **state)
{
    struct fixture *f = *state;
    set_online(f, 0);
    struct of_write_result res;
    assert_int_equal(write_path(f, "//srv/docs/new.txt", "abc", &res), 0);
    assert_int_equal(res.created, 1);
    assert_int_equal(res.stored_offline, 1);
    struct of_item it = item_of(f, "//srv/docs/new.txt");
    assert_int_equal(it.created_offline, 1);
    assert_int_equal(it.mod_data, 0);
    assert_int_equal(it.local.exists, 1);
    assert_int_equal(it.original.exists, 0);
    assert_int_equal(it.parent_id, item_of(f, "//srv/docs").id);
    assert_false(host_exists(f, "new.txt"));
    assert_reads(f, "//srv/docs/new.txt", "abc");
    /* Writing it again stays a creation, not a modification. */
    assert_int_equal(write_path(f, "//srv/docs/new.txt", "hello world", &res), 0);
    assert_int_equal(res.created, 0);
    it = item_of(f, "//srv/docs/new.txt");
    assert_int_equal(it.created_offline, 1);
    assert_int_equal(it.mod_data, 0);
    assert_reads(f, "//srv/docs/new.txt", "hello world");
}

static void
test_offline_read_of_uncached_file_is_not_offline(void **state)
{
    struct fixture *f = *state;
    set_mode(f, OF_CACHING_MANUAL);
    put_host(f, "ghost.txt", "abc");
    put_host(f, "unseen.txt", "abc");
    assert_reads(f, "//srv/docs/ghost.txt", "abc");
    assert_int_equal(item_of(f, "//srv/docs/ghost.txt").ghosted, 1);
    set_online(f, 0);
    char buf[8];
    assert_int_equal(read_path(f, "//srv/docs/ghost.txt", buf, sizeof(buf), NULL),
                     OF_E(NOT_OFFLINE));
    assert_int_equal(read_path(f, "//srv/docs/unseen.txt", buf, sizeof(buf), NULL),
                     OF_E(NOT_OFFLINE));
}

static void
test_offline_write_restoring_the_original_bytes_clears_modified_data(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", NULL), 0);
    struct of_item synced = item_of(f, "//srv/docs/a.txt");
    set_online(f, 0);
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "hello world", NULL), 0);
    assert_int_equal(item_of(f, "//srv/docs/a.txt").mod_data, 1);
    struct of_write_result res;
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", &res), 0);
    struct of_item it = item_of(f, "//srv/docs/a.txt");
    assert_int_equal(it.mod_data, 0);
    assert_int_equal(it.mod_time, 0);
    assert_int_equal(it.created_offline, 0);
    assert_false(of_item_dirty(&it));
    assert_string_equal(it.local.hash, SHA_ABC);
    assert_int_equal(it.local.mtime_ns, synced.original.mtime_ns);
    assert_reads(f, "//srv/docs/a.txt", "abc");
}

static void
test_offline_delete_leaves_a_deleted_offline_tombstone(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", NULL), 0);
    assert_int_equal(write_path(f, "//srv/docs/keep.txt", "abc", NULL), 0);
    set_online(f, 0);
    struct of_write_result res;
    struct of_error err = {0};
    assert_int_equal(of_engine_file_delete(f->eng, "//srv/docs/a.txt", USER, NULL, &res, &err), 0);
    assert_int_equal(res.stored_offline, 1);
    struct of_item it = item_of(f, "//srv/docs/a.txt");
    assert_int_equal(it.deleted_offline, 1);
    assert_int_equal(it.local.exists, 0);
    assert_int_equal(it.original.exists, 1);
    assert_int_equal(it.cached_bytes, 0);
    assert_true(of_item_dirty(&it));
    assert_string_equal(host_content(f, "a.txt"), "abc");

    char buf[8];
    assert_int_equal(read_path(f, "//srv/docs/a.txt", buf, sizeof(buf), NULL), OF_E(NOT_FOUND));
    assert_int_equal(of_engine_file_delete(f->eng, "//srv/docs/a.txt", USER, NULL, &res, NULL),
                     OF_E(NOT_FOUND));
    /* The offline listing hides the tombstone. */
    struct of_dir_entry *ents = NULL;
    size_t n = 0;
    int offline = 0;
    assert_int_equal(of_engine_dir_list(f->eng, "//srv/docs", USER, &ents, &n, &offline, NULL), 0);
    assert_int_equal(offline, 1);
    assert_int_equal(n, 1);
    assert_string_equal(ents[0].name, "keep.txt");
    free(ents);
}

static void
test_offline_delete_of_a_file_created_offline_forgets_it(void **state)
{
    struct fixture *f = *state;
    set_online(f, 0);
    assert_int_equal(write_path(f, "//srv/docs/new.txt", "abc", NULL), 0);
    assert_int_equal(content_files(f), 1);
    struct of_write_result res;
    assert_int_equal(of_engine_file_delete(f->eng, "//srv/docs/new.txt", USER, NULL, &res, NULL),
                     0);
    assert_int_equal(res.stored_offline, 1);
    assert_int_equal(item_rc(f, "//srv/docs/new.txt"), OF_E(NOT_FOUND));
    assert_int_equal(content_files(f), 0);
}

static void
test_offline_mkdir_is_created_offline(void **state)
{
    struct fixture *f = *state;
    set_online(f, 0);
    struct of_write_result res;
    assert_int_equal(of_engine_dir_create(f->eng, "//srv/docs/d", USER, &res, NULL), 0);
    assert_int_equal(res.created, 1);
    assert_int_equal(res.stored_offline, 1);
    struct of_item it = item_of(f, "//srv/docs/d");
    assert_int_equal(it.type, OF_ITEM_DIRECTORY);
    assert_int_equal(it.created_offline, 1);
    assert_int_equal(it.local.exists, 1);
    assert_false(host_exists(f, "d"));
    /* It can hold files written offline, and it refuses a second mkdir. */
    assert_int_equal(write_path(f, "//srv/docs/d/f.txt", "abc", &res), 0);
    it = item_of(f, "//srv/docs/d/f.txt");
    assert_int_equal(it.created_offline, 1);
    assert_int_equal(it.parent_id, item_of(f, "//srv/docs/d").id);
    assert_int_equal(of_engine_dir_create(f->eng, "//srv/docs/d", USER, &res, NULL), OF_E(EXISTS));
    assert_int_equal(of_engine_dir_create(f->eng, "//srv/docs/nope/d", USER, &res, NULL),
                     OF_E(PARENT_MISSING));
    assert_int_equal(write_path(f, "//srv/docs/nope/f.txt", "abc", NULL), OF_E(PARENT_MISSING));
}

static void
test_offline_delete_of_a_directory_holding_only_tombstones_succeeds(void **state)
{
    struct fixture *f = *state;
    struct of_write_result res;
    assert_int_equal(of_engine_dir_create(f->eng, "//srv/docs/d", USER, &res, NULL), 0);
    assert_int_equal(write_path(f, "//srv/docs/d/f.txt", "abc", NULL), 0);
    set_online(f, 0);
    struct of_error err = {0};
    assert_int_equal(of_engine_file_delete(f->eng, "//srv/docs/d/f.txt", USER, NULL, &res, &err),
                     0);
    /* As clients see it the directory is empty now. */
    struct of_dir_entry *ents = NULL;
    size_t n = 9;
    int offline = 0;
    assert_int_equal(of_engine_dir_list(f->eng, "//srv/docs/d", USER, &ents, &n, &offline, NULL),
                     0);
    assert_int_equal(n, 0);
    free(ents);
    int rc = of_engine_file_delete(f->eng, "//srv/docs/d", USER, NULL, &res, &err);
    if (rc != 0)
        fail_msg("deleting a directory whose only child is a tombstone: rc %d (%s): %s", rc,
                 of_error_code_str(rc), err.detail);
    assert_int_equal(item_of(f, "//srv/docs/d").deleted_offline, 1);
}

static void
test_offline_delete_of_a_directory_with_live_children_is_not_empty(void **state)
{
    struct fixture *f = *state;
    struct of_write_result res;
    assert_int_equal(of_engine_dir_create(f->eng, "//srv/docs/d", USER, &res, NULL), 0);
    assert_int_equal(write_path(f, "//srv/docs/d/f.txt", "abc", NULL), 0);
    set_online(f, 0);
    assert_int_equal(of_engine_file_delete(f->eng, "//srv/docs/d", USER, NULL, &res, NULL),
                     OF_E(NOT_EMPTY));
    assert_int_equal(item_of(f, "//srv/docs/d").deleted_offline, 0);
}

static int
write_cond(struct fixture *f, const char *path, const char *data, const char *if_match,
           const char *if_none_match)
{
    struct of_content_tmp *up = NULL;
    assert_int_equal(of_engine_upload_new(f->eng, &up, NULL), 0);
    assert_int_equal(of_content_tmp_write(up, data, strlen(data), NULL), 0);
    struct of_write_result res;
    int rc = of_engine_file_write(f->eng, path, USER, up, if_match, if_none_match, &res, NULL);
    of_content_tmp_free(up);
    return rc;
}

static void
test_write_preconditions_compare_against_the_etag_clients_saw(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", NULL), 0);
    struct {
        const char *path, *if_match, *if_none_match;
        int want;
    } cases[] = {
        {"//srv/docs/a.txt", NULL, "*", OF_E(PRECONDITION)},
        {"//srv/docs/a.txt", SHA_HELLO, NULL, OF_E(PRECONDITION)},
        {"//srv/docs/none.txt", SHA_ABC, NULL, OF_E(PRECONDITION)},
        {"//srv/docs/none.txt", "*", NULL, OF_E(PRECONDITION)},
        {"//srv/docs/a.txt", SHA_ABC, NULL, 0},
        {"//srv/docs/a.txt", "*", NULL, 0},
        {"//srv/docs/b.txt", NULL, "*", 0},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc =
            write_cond(f, cases[i].path, "hello world", cases[i].if_match, cases[i].if_none_match);
        if (rc != cases[i].want) {
            print_error("write %s if-match %s if-none-match %s: rc %d, want %d\n", cases[i].path,
                        cases[i].if_match ? cases[i].if_match : "-",
                        cases[i].if_none_match ? cases[i].if_none_match : "-", rc, cases[i].want);
            failures++;
        }
        if (rc == 0 && strcmp(cases[i].path, "//srv/docs/a.txt") == 0) {
            /* Put the old bytes back so the next case starts from SHA_ABC. */
            assert_int_equal(write_path(f, cases[i].path, "abc", NULL), 0);
        }
    }
    assert_int_equal(failures, 0);
    assert_false(host_exists(f, "none.txt"));
    assert_string_equal(host_content(f, "b.txt"), "hello world");
}

static void
test_write_when_the_share_vanished_lands_in_the_cache_as_a_dirty_change(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", NULL), 0);
    char moved[160];
    snprintf(moved, sizeof(moved), "%s/moved", f->base);
    assert_int_equal(rename(f->root, moved), 0); /* as an unmount would */
    struct of_write_result res;
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "hello world", &res), 0);
    assert_int_equal(res.stored_offline, 1);
    struct of_item it = item_of(f, "//srv/docs/a.txt");
    assert_int_equal(it.mod_data, 1);
    assert_string_equal(it.local.hash, SHA_HELLO);
    struct of_conn_info ci;
    assert_int_equal(rename(moved, f->root), 0);
    assert_int_equal(of_engine_connection_get(f->eng, "srv", "docs", &ci, NULL), 0);
    assert_int_equal(ci.state, OF_CONN_OFFLINE);
    assert_int_equal(ci.reason, OF_REASON_CONNECTION_ERROR);
    assert_true(ci.last_error[0] != '\0');
    assert_string_equal(host_content(f, "a.txt"), "abc");
    assert_reads(f, "//srv/docs/a.txt", "hello world");
}

static void
test_delete_and_mkdir_online_act_on_the_share(void **state)
{
    struct fixture *f = *state;
    struct of_write_result res;
    assert_int_equal(of_engine_dir_create(f->eng, "//srv/docs/d", USER, &res, NULL), 0);
    assert_int_equal(res.created, 1);
    assert_int_equal(res.stored_offline, 0);
    assert_true(host_exists(f, "d"));
    struct of_item it = item_of(f, "//srv/docs/d");
    assert_int_equal(it.type, OF_ITEM_DIRECTORY);
    assert_false(of_item_dirty(&it));
    assert_int_equal(write_path(f, "//srv/docs/d/f.txt", "abc", NULL), 0);
    assert_string_equal(host_content(f, "d/f.txt"), "abc");
    assert_int_equal(content_files(f), 1);

    assert_int_equal(of_engine_file_delete(f->eng, "//srv/docs/d/f.txt", USER, NULL, &res, NULL),
                     0);
    assert_int_equal(res.stored_offline, 0);
    assert_false(host_exists(f, "d/f.txt"));
    assert_int_equal(item_rc(f, "//srv/docs/d/f.txt"), OF_E(NOT_FOUND));
    assert_int_equal(content_files(f), 0);
    assert_int_equal(of_engine_file_delete(f->eng, "//srv/docs/d", USER, NULL, &res, NULL), 0);
    assert_false(host_exists(f, "d"));
    assert_int_equal(item_rc(f, "//srv/docs/d"), OF_E(NOT_FOUND));
}

static void
test_offline_write_to_a_no_caching_share_is_not_offline(void **state)
{
    struct fixture *f = *state;
    set_mode(f, OF_CACHING_NONE);
    set_online(f, 0);
    assert_int_equal(write_path(f, "//srv/docs/x.txt", "abc", NULL), OF_E(NOT_OFFLINE));
    assert_int_equal(item_rc(f, "//srv/docs/x.txt"), OF_E(NOT_FOUND));
    assert_int_equal(content_files(f), 0);
}

/* ---- item queries ---- */

struct collected {
    char paths[2048]; /* names below //srv/docs/ relative to it, others in full */
    size_t n;
};

static int
collect(void *ctx, const struct of_item_view *v)
{
    struct collected *c = ctx;
    const char *p = v->item.path;
    if (strncmp(p, "//srv/docs/", 11) == 0)
        p += 11;
    size_t len = strlen(c->paths);
    snprintf(c->paths + len, sizeof(c->paths) - len, "%s%s", len ? " " : "", p);
    c->n++;
    return 0;
}

/*
 * The tree every query test works on:
 *   a.txt      cached, then modified offline (mtime: now)
 *   b.log      ghost, mtime 2000 s
 *   sub/       directory, mtime 6000 s
 *   sub/c.txt  ghost, 3000 s
 *   sub/d.md   ghost, 4000 s
 *   sub/new.txt created offline (now)
 *   tmp/       directory, 7000 s
 *   tmp/e.txt  ghost, 5000 s
 * and the share is back online.
 */
static void
build_query_tree(struct fixture *f)
{
    put_host(f, "a.txt", "abc");
    put_host(f, "b.log", "abc");
    mkdir_host(f, "sub");
    put_host(f, "sub/c.txt", "abc");
    put_host(f, "sub/d.md", "abc");
    mkdir_host(f, "tmp");
    put_host(f, "tmp/e.txt", "abc");
    static const struct {
        const char *rel;
        int64_t sec;
    } times[] = {{"a.txt", 1000},     {"b.log", 2000}, {"sub/c.txt", 3000}, {"sub/d.md", 4000},
                 {"tmp/e.txt", 5000}, {"sub", 6000},   {"tmp", 7000}};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        mtime_host(f, times[i].rel, times[i].sec);
    const char *const dirs[] = {"//srv/docs", "//srv/docs/sub", "//srv/docs/tmp"};
    for (size_t i = 0; i < 3; i++) {
        struct of_dir_entry *ents = NULL;
        size_t n = 0;
        int offline = 1;
        assert_int_equal(of_engine_dir_list(f->eng, dirs[i], USER, &ents, &n, &offline, NULL), 0);
        assert_int_equal(offline, 0);
        free(ents);
    }
    assert_reads(f, "//srv/docs/a.txt", "abc");
    set_online(f, 0);
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "hello world", NULL), 0);
    assert_int_equal(write_path(f, "//srv/docs/sub/new.txt", "abc", NULL), 0);
    set_online(f, 1);
}

struct query_case {
    const char *what;
    struct of_item_query q;
    const char *want;
};

#define ALL "a.txt b.log sub sub/c.txt sub/d.md sub/new.txt tmp tmp/e.txt"
#define Q(...)                                                                                     \
    {                                                                                              \
        .under = "//srv/docs", .user = USER, .limit = 1000, __VA_ARGS__                            \
    }

static const struct query_case query_cases[] = {
    {"no filter", Q(.depth = 0), ALL},
    {"children only", Q(.depth = 1), "a.txt b.log sub tmp"},
    {"roots", {.under = "", .depth = 1, .user = USER, .limit = 1000}, "//srv"},
    {"servers and shares",
     {.under = "",
      .user = USER,
      .limit = 1000,
      .types = (1u << OF_ITEM_SERVER) | (1u << OF_ITEM_SHARE)},
     "//srv //srv/docs"},
    {"files", Q(.types = 1u << OF_ITEM_FILE),
     "a.txt b.log sub/c.txt sub/d.md sub/new.txt tmp/e.txt"},
    {"directories", Q(.types = 1u << OF_ITEM_DIRECTORY), "sub tmp"},
    {"modified data", Q(.flags = BIT(OF_FLAG_MODIFIED_DATA), .mask = BIT(OF_FLAG_MODIFIED_DATA)),
     "a.txt"},
    {"modified", Q(.flags = BIT(OF_FLAG_MODIFIED), .mask = BIT(OF_FLAG_MODIFIED)), "a.txt"},
    {"created offline", Q(.flags = BIT(OF_FLAG_CREATED), .mask = BIT(OF_FLAG_CREATED)),
     "sub/new.txt"},
    {"dirty", Q(.flags = BIT(OF_FLAG_DIRTY), .mask = BIT(OF_FLAG_DIRTY)), "a.txt sub/new.txt"},
    {"clean files", Q(.flags = 0, .mask = BIT(OF_FLAG_DIRTY) | BIT(OF_FLAG_DIRECTORY)),
     "b.log sub/c.txt sub/d.md tmp/e.txt"},
    {"ghosts", Q(.flags = BIT(OF_FLAG_GHOST), .mask = BIT(OF_FLAG_GHOST)),
     "b.log sub/c.txt sub/d.md tmp/e.txt"},
    {"files with content",
     Q(.flags = BIT(OF_FLAG_FILE), .mask = BIT(OF_FLAG_FILE) | BIT(OF_FLAG_GHOST)),
     "a.txt sub/new.txt"},
    {"directory flag", Q(.flags = BIT(OF_FLAG_DIRECTORY), .mask = BIT(OF_FLAG_DIRECTORY)),
     "sub tmp"},
    {"online", Q(.flags = BIT(OF_FLAG_ONLINE), .mask = BIT(OF_FLAG_ONLINE) | BIT(OF_FLAG_OFFLINE)),
     ALL},
    {"offline while online", Q(.flags = BIT(OF_FLAG_OFFLINE), .mask = BIT(OF_FLAG_OFFLINE)), ""},
    {"deleted none", Q(.flags = BIT(OF_FLAG_DELETED), .mask = BIT(OF_FLAG_DELETED)), ""},
    {"include *.txt", Q(.include_files = {"*.txt"}, .n_include_files = 1),
     "a.txt sub sub/c.txt sub/new.txt tmp tmp/e.txt"},
    {"include ?.txt", Q(.include_files = {"?.txt"}, .n_include_files = 1),
     "a.txt sub sub/c.txt tmp tmp/e.txt"},
    {"include two patterns", Q(.include_files = {"*.md", "*.log"}, .n_include_files = 2),
     "b.log sub sub/d.md tmp"},
    {"exclude *.txt", Q(.exclude_files = {"*.txt"}, .n_exclude_files = 1),
     "b.log sub sub/d.md tmp"},
    {"include and exclude",
     Q(.include_files = {"*.txt"}, .n_include_files = 1, .exclude_files = {"n*"},
       .n_exclude_files = 1),
     "a.txt sub sub/c.txt tmp tmp/e.txt"},
    {"include dirs", Q(.depth = 1, .include_dirs = {"s*"}, .n_include_dirs = 1), "a.txt b.log sub"},
    {"exclude dirs", Q(.depth = 1, .exclude_dirs = {"tmp"}, .n_exclude_dirs = 1),
     "a.txt b.log sub"},
    {"modified window", Q(.modified_after_ns = SEC(1500), .modified_before_ns = SEC(4500)),
     "b.log sub/c.txt sub/d.md"},
    {"modified before", Q(.modified_before_ns = SEC(2500)), "b.log"},
    {"modified after", Q(.types = 1u << OF_ITEM_FILE, .modified_after_ns = SEC(4500)),
     "a.txt sub/new.txt tmp/e.txt"},
    {"modified after, directories",
     Q(.types = 1u << OF_ITEM_DIRECTORY, .modified_after_ns = SEC(6500)), "tmp"},
    {"everything at once",
     Q(.types = 1u << OF_ITEM_FILE, .include_files = {"*.txt"}, .n_include_files = 1, .flags = 0,
       .mask = BIT(OF_FLAG_GHOST), .modified_after_ns = SEC(1)),
     "a.txt sub/new.txt"},
};

static void
test_query_applies_every_filter(void **state)
{
    struct fixture *f = *state;
    build_query_tree(f);
    int failures = 0;
    for (size_t i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
        const struct query_case *c = &query_cases[i];
        struct collected got = {0};
        char next[OF_PATH_MAX + 1] = "untouched";
        struct of_item_query q = c->q;
        q.cursor = "";
        struct of_error err = {0};
        int rc = of_engine_items_query(f->eng, &q, collect, &got, next, &err);
        if (rc != 0 || strcmp(got.paths, c->want) != 0 || next[0]) {
            print_error("%s: rc %d (%s) next '%s'\n got: %s\nwant: %s\n", c->what, rc, err.detail,
                        next, got.paths, c->want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void
test_query_offline_flag_follows_the_share_state(void **state)
{
    struct fixture *f = *state;
    build_query_tree(f);
    set_online(f, 0);
    struct of_item_query q = Q(.depth = 1, .flags = BIT(OF_FLAG_OFFLINE),
                               .mask = BIT(OF_FLAG_OFFLINE) | BIT(OF_FLAG_ONLINE), .cursor = "");
    struct collected got = {0};
    char next[OF_PATH_MAX + 1];
    assert_int_equal(of_engine_items_query(f->eng, &q, collect, &got, next, NULL), 0);
    assert_string_equal(got.paths, "a.txt b.log sub tmp");
    q.flags = BIT(OF_FLAG_ONLINE);
    memset(&got, 0, sizeof(got));
    assert_int_equal(of_engine_items_query(f->eng, &q, collect, &got, next, NULL), 0);
    assert_string_equal(got.paths, "");
}

/* Page through q; every page at most q->limit items. Returns the pages' items joined. */
static size_t
query_all_pages(struct fixture *f, struct of_item_query q, struct collected *out)
{
    char cursor[OF_PATH_MAX + 1] = "", next[OF_PATH_MAX + 1];
    size_t pages = 0;
    memset(out, 0, sizeof(*out));
    do {
        struct collected page = {0};
        q.cursor = cursor;
        assert_int_equal(of_engine_items_query(f->eng, &q, collect, &page, next, NULL), 0);
        assert_true(page.n <= q.limit);
        assert_true(++pages < 10000);
        out->n += page.n;
        size_t len = strlen(out->paths);
        if (page.n && len + strlen(page.paths) + 2 < sizeof(out->paths))
            snprintf(out->paths + len, sizeof(out->paths) - len, "%s%s", len ? " " : "",
                     page.paths);
        memcpy(cursor, next, sizeof(cursor));
    } while (cursor[0]);
    return pages;
}

static const struct of_item_query page_queries[] = {
    {.under = "", .depth = 0, .user = USER},
    Q(.depth = 0),
    Q(.depth = 1),
    Q(.types = 1u << OF_ITEM_FILE),
    Q(.flags = BIT(OF_FLAG_GHOST), .mask = BIT(OF_FLAG_GHOST)),
    Q(.include_files = {"*.txt"}, .n_include_files = 1),
};

static void
test_query_pages_by_cursor_give_every_item_exactly_once(void **state)
{
    struct fixture *f = *state;
    build_query_tree(f);
    for (size_t i = 0; i < sizeof(page_queries) / sizeof(page_queries[0]); i++) {
        struct of_item_query q = page_queries[i];
        struct collected whole = {0};
        char next[OF_PATH_MAX + 1];
        q.cursor = "";
        q.limit = OF_QUERY_LIMIT_MAX;
        assert_int_equal(of_engine_items_query(f->eng, &q, collect, &whole, next, NULL), 0);
        assert_string_equal(next, "");
        assert_true(whole.n > 0);
        for (size_t limit = 1; limit <= whole.n + 1; limit++) {
            struct collected paged;
            q.limit = limit;
            size_t pages = query_all_pages(f, q, &paged);
            assert_true(pages <= whole.n + 2);
            if (strcmp(paged.paths, whole.paths) != 0)
                fail_msg("query %zu limit %zu:\npaged: %s\nwhole: %s", i, limit, paged.paths,
                         whole.paths);
        }
    }
}

static int
count_big(void *ctx, const struct of_item_view *v)
{
    int *seen = ctx;
    const char *name = strrchr(v->item.path, '/') + 1;
    int64_t i = strtoll(name + 1, NULL, 10);
    assert_true(i >= 0 && i < 1200);
    seen[i]++;
    return 0;
}

static void
test_query_pages_span_more_rows_than_one_store_batch(void **state)
{
    struct fixture *f = *state;
    mkdir_host(f, "big");
    for (int i = 0; i < 1200; i++) {
        char rel[32];
        snprintf(rel, sizeof(rel), "big/f%04d", i);
        put_host(f, rel, "x");
    }
    struct of_dir_entry *ents = NULL;
    size_t n = 0;
    int offline = 1;
    assert_int_equal(of_engine_dir_list(f->eng, "//srv/docs/big", USER, &ents, &n, &offline, NULL),
                     0);
    assert_int_equal(n, 1200);
    free(ents);

    /* Every item exactly once, page after page, with and without a sparse filter. */
    int seen[1200] = {0};
    struct of_item_query q = {.under = "//srv/docs/big", .depth = 1, .user = USER, .limit = 1000};
    char cursor[OF_PATH_MAX + 1] = "", next[OF_PATH_MAX + 1];
    size_t pages = 0;
    do {
        q.cursor = cursor;
        assert_int_equal(of_engine_items_query(f->eng, &q, count_big, seen, next, NULL), 0);
        assert_true(++pages <= 3);
        memcpy(cursor, next, sizeof(cursor));
    } while (cursor[0]);
    for (int i = 0; i < 1200; i++)
        if (seen[i] != 1)
            fail_msg("f%04d seen %d times", i, seen[i]);

    struct collected got;
    q = (struct of_item_query){.under = "//srv/docs/big",
                               .depth = 1,
                               .user = USER,
                               .limit = 7,
                               .include_files = {"*7"},
                               .n_include_files = 1};
    pages = query_all_pages(f, q, &got);
    assert_int_equal(got.n, 120);
    assert_true(pages >= 18);
    assert_int_equal(strncmp(got.paths, "big/f0007 big/f0017 big/f0027", 29), 0);
}

static void
test_query_under_unknown_path_or_a_file_fails(void **state)
{
    struct fixture *f = *state;
    build_query_tree(f);
    struct collected got = {0};
    char next[OF_PATH_MAX + 1];
    struct of_item_query q = {.under = "//srv/docs/nope", .user = USER, .limit = 10, .cursor = ""};
    assert_int_equal(of_engine_items_query(f->eng, &q, collect, &got, next, NULL), OF_E(NOT_FOUND));
    q.under = "//srv/docs/b.log";
    q.depth = 1;
    assert_int_equal(of_engine_items_query(f->eng, &q, collect, &got, next, NULL), OF_E(NOT_A_DIR));
    assert_int_equal(got.n, 0);
}

/* Pins have no engine call yet: set them through a second store connection. */
static void
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

static void
pin_query_tree(struct fixture *f)
{
    build_query_tree(f);
    pin(f, "//srv/docs/b.log", OF_PIN_USER, "bob");
    pin(f, "//srv/docs/sub/c.txt", OF_PIN_USER, USER);
    pin(f, "//srv/docs/sub/d.md", OF_PIN_COMPUTER, NULL);
}

static const char *
query_flag(struct fixture *f, enum of_item_flag flag)
{
    static struct collected got;
    memset(&got, 0, sizeof(got));
    char next[OF_PATH_MAX + 1];
    struct of_item_query q = Q(.flags = BIT(flag), .mask = BIT(flag), .cursor = "");
    assert_int_equal(of_engine_items_query(f->eng, &q, collect, &got, next, NULL), 0);
    return got.paths;
}

static void
test_query_pinned_flags_follow_the_pins_of_user_and_computer(void **state)
{
    struct fixture *f = *state;
    pin_query_tree(f);
    assert_string_equal(query_flag(f, OF_FLAG_PINNED_USER), "sub/c.txt");
    assert_string_equal(query_flag(f, OF_FLAG_PINNED_COMPUTER), "sub/d.md");
    assert_string_equal(query_flag(f, OF_FLAG_PINNED), "b.log sub/c.txt sub/d.md");
    struct of_item_view v;
    assert_int_equal(of_engine_item_get(f->eng, "//srv/docs/sub", USER, &v, NULL), 0);
    assert_int_equal(v.pin.partly, 1);
    assert_int_equal(v.pin.pinned, 0);
}

static void
test_query_pinned_for_others_matches_items_pinned_by_another_user(void **state)
{
    struct fixture *f = *state;
    pin_query_tree(f);
    assert_string_equal(query_flag(f, OF_FLAG_PINNED_OTHERS), "b.log");
}

/* ---- cache ---- */

static void
test_cache_get_reports_location_defaults_and_usage(void **state)
{
    struct fixture *f = *state;
    struct of_cache_info ci;
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    char loc[256];
    snprintf(loc, sizeof(loc), "%s/cache", f->data);
    assert_string_equal(ci.location, loc);
    assert_int_equal(ci.enabled, 1);
    assert_true(ci.volume_total > 0);
    assert_int_equal(ci.limit, ci.volume_total / 4);
    assert_int_equal(ci.unpinned_limit, ci.limit);
    assert_int_equal(ci.used, 0);
    assert_int_equal(ci.unpinned_used, 0);

    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", NULL), 0);
    assert_int_equal(write_path(f, "//srv/docs/b.txt", "hello world", NULL), 0);
    pin(f, "//srv/docs/b.txt", OF_PIN_USER, USER);
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    assert_int_equal(ci.used, 14);
    assert_int_equal(ci.unpinned_used, 3);
}

static void
test_cache_set_clamps_the_unpinned_limit_to_the_limit(void **state)
{
    struct fixture *f = *state;
    struct of_cache_info ci;
    struct of_cache_patch p = {
        .has_limit = 1, .limit = 1000, .has_unpinned_limit = 1, .unpinned_limit = 5000};
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    assert_int_equal(ci.limit, 1000);
    assert_int_equal(ci.unpinned_limit, 1000);

    p = (struct of_cache_patch){.has_unpinned_limit = 1, .unpinned_limit = 400};
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    assert_int_equal(ci.limit, 1000);
    assert_int_equal(ci.unpinned_limit, 400);

    p = (struct of_cache_patch){.has_limit = 1, .limit = 200};
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    assert_int_equal(ci.limit, 200);
    assert_int_equal(ci.unpinned_limit, 200);

    p = (struct of_cache_patch){.has_limit = 1, .limit = 0};
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    assert_int_equal(ci.limit, 0);
    assert_int_equal(ci.unpinned_limit, 0);
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    assert_int_equal(ci.limit, 0);
}

static void
test_cache_set_of_a_negative_limit_is_bad_field_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct of_cache_info ci;
    struct of_cache_patch p = {
        .has_limit = 1, .limit = 1000, .has_unpinned_limit = 1, .unpinned_limit = 500};
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    const struct of_cache_patch bad[] = {
        {.has_limit = 1, .limit = -1},
        {.has_unpinned_limit = 1, .unpinned_limit = -1},
        {.has_limit = 1, .limit = INT64_MIN, .has_unpinned_limit = 1, .unpinned_limit = 10},
        {.has_enabled = 1, .enabled = 0, .has_limit = 1, .limit = -5},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct of_error err = {0};
        assert_int_equal(of_engine_cache_set(f->eng, &bad[i], &ci, &err), OF_E(BAD_FIELD));
        assert_int_equal(err.code, OF_E(BAD_FIELD));
    }
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    assert_int_equal(ci.limit, 1000);
    assert_int_equal(ci.unpinned_limit, 500);
    assert_int_equal(ci.enabled, 1);
}

static void
test_cache_set_enabled_persists_across_reopen(void **state)
{
    struct fixture *f = *state;
    struct of_cache_info ci;
    struct of_cache_patch p = {.has_enabled = 1, .enabled = 0};
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    assert_int_equal(ci.enabled, 0);
    reopen(f);
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    assert_int_equal(ci.enabled, 0);
    assert_int_equal(ci.limit, ci.volume_total / 4);
}

/* ---- tokens ---- */

static void
test_token_create_then_check_finds_the_user(void **state)
{
    struct fixture *f = *state;
    char alice[OF_TOKEN_MAX], root[OF_TOKEN_MAX];
    assert_int_equal(of_engine_token_create(f->eng, "alice", 0, alice, NULL), 0);
    assert_int_equal(of_engine_token_create(f->eng, "root", 1, root, NULL), 0);
    assert_int_equal(strncmp(alice, "of_", 3), 0);
    assert_int_equal(strlen(alice), 3 + 64);
    assert_string_not_equal(alice, root);
    struct of_principal who;
    assert_int_equal(of_engine_token_check(f->eng, alice, &who, NULL), 0);
    assert_string_equal(who.user, "alice");
    assert_int_equal(who.admin, 0);
    assert_int_equal(of_engine_token_check(f->eng, root, &who, NULL), 0);
    assert_string_equal(who.user, "root");
    assert_int_equal(who.admin, 1);
}

static void
test_token_check_of_unknown_or_altered_token_is_unauthorized(void **state)
{
    struct fixture *f = *state;
    char tok[OF_TOKEN_MAX], altered[OF_TOKEN_MAX], longer[200];
    assert_int_equal(of_engine_token_create(f->eng, "alice", 1, tok, NULL), 0);
    memcpy(altered, tok, sizeof(tok));
    altered[10] = altered[10] == 'a' ? 'b' : 'a';
    snprintf(longer, sizeof(longer), "%s%s", tok, tok);
    const char *const bad[] = {NULL, "", "of_", altered, longer};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct of_principal who = {.user = "untouched", .admin = 7};
        struct of_error err = {0};
        assert_int_equal(of_engine_token_check(f->eng, bad[i], &who, &err), OF_E(UNAUTHORIZED));
        assert_int_equal(err.code, OF_E(UNAUTHORIZED));
        assert_string_equal(who.user, "untouched");
        assert_int_equal(who.admin, 7);
    }
}

static void
test_token_create_refuses_bad_user_names(void **state)
{
    struct fixture *f = *state;
    char u63[64], u64[65];
    memset(u63, 'u', 63);
    u63[63] = '\0';
    memset(u64, 'u', 64);
    u64[64] = '\0';
    const char *const bad[] = {"", "a b", "tab\there", "del\x7f", u64};
    char tok[OF_TOKEN_MAX] = "untouched";
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct of_error err = {0};
        assert_int_equal(of_engine_token_create(f->eng, bad[i], 0, tok, &err), OF_E(BAD_FIELD));
        assert_int_equal(err.code, OF_E(BAD_FIELD));
        assert_string_equal(tok, "untouched");
    }
    assert_int_equal(of_engine_token_create(f->eng, u63, 0, tok, NULL), 0);
    struct of_principal who;
    assert_int_equal(of_engine_token_check(f->eng, tok, &who, NULL), 0);
    assert_string_equal(who.user, u63);
}

static void
read_text(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

static void
test_token_bootstrap_writes_an_admin_token_file_once_with_mode_0600(void **state)
{
    struct fixture *f = *state;
    char path[512], want[256];
    snprintf(want, sizeof(want), "%s/admin.token", f->data);
    assert_int_equal(of_engine_token_bootstrap(f->eng, path, sizeof(path), NULL), 1);
    assert_string_equal(path, want);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0600);
    char text[256];
    read_text(path, text, sizeof(text));
    size_t len = strlen(text);
    assert_true(len > 4 && text[len - 1] == '\n');
    text[len - 1] = '\0';
    struct of_principal who;
    assert_int_equal(of_engine_token_check(f->eng, text, &who, NULL), 0);
    assert_string_equal(who.user, "admin");
    assert_int_equal(who.admin, 1);

    /* Only once: neither a second call nor a reopen makes another. */
    char again[512] = "untouched", text2[256];
    assert_int_equal(of_engine_token_bootstrap(f->eng, again, sizeof(again), NULL), 0);
    reopen(f);
    assert_int_equal(of_engine_token_bootstrap(f->eng, again, sizeof(again), NULL), 0);
    read_text(want, text2, sizeof(text2));
    text2[strcspn(text2, "\n")] = '\0';
    assert_string_equal(text2, text);
    assert_int_equal(of_engine_token_check(f->eng, text, &who, NULL), 0);
    /* No temp file left behind in the data directory. */
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s/.admin.token.tmp", f->data);
    assert_int_equal(access(tmp, F_OK), -1);
}

static void
test_token_bootstrap_does_nothing_when_tokens_exist(void **state)
{
    struct fixture *f = *state;
    char tok[OF_TOKEN_MAX], path[512];
    assert_int_equal(of_engine_token_create(f->eng, "alice", 0, tok, NULL), 0);
    assert_int_equal(of_engine_token_bootstrap(f->eng, path, sizeof(path), NULL), 0);
    char file[512];
    snprintf(file, sizeof(file), "%s/admin.token", f->data);
    assert_int_equal(access(file, F_OK), -1);
}

/* ---- share removal ---- */

static void
test_share_remove_refuses_dirty_items_unless_forced(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", NULL), 0);
    set_online(f, 0);
    assert_int_equal(write_path(f, "//srv/docs/new.txt", "hello world", NULL), 0);
    set_online(f, 1);

    struct of_error err = {0};
    assert_int_equal(of_engine_share_remove(f->eng, "srv", "docs", 0, &err), OF_E(CONFLICT));
    assert_int_equal(err.code, OF_E(CONFLICT));
    struct of_share_view v;
    assert_int_equal(of_engine_share_get(f->eng, "srv", "docs", &v, NULL), 0);
    assert_int_equal(item_of(f, "//srv/docs/new.txt").created_offline, 1);

    assert_int_equal(of_engine_share_remove(f->eng, "srv", "docs", 1, NULL), 0);
    assert_int_equal(of_engine_share_get(f->eng, "srv", "docs", &v, NULL), OF_E(NO_SHARE));
    assert_int_equal(item_rc(f, "//srv/docs/a.txt"), OF_E(NOT_FOUND));
    assert_int_equal(item_rc(f, "//srv/docs"), OF_E(NOT_FOUND));
    assert_int_equal(item_rc(f, "//srv"), OF_E(NOT_FOUND)); /* its last share went */
    struct of_cache_info ci;
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    assert_int_equal(ci.used, 0);
    /* Removing a share from the cache never touches the server. */
    assert_string_equal(host_content(f, "a.txt"), "abc");
    /* Content the rows named is gone at the latest on the next start. */
    reopen(f);
    assert_int_equal(content_files(f), 0);
}

static void
test_share_remove_frees_the_cached_bytes_on_disk(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", NULL), 0);
    assert_int_equal(write_path(f, "//srv/docs/b.txt", "hello world", NULL), 0);
    assert_int_equal(content_files(f), 2);
    assert_int_equal(of_engine_share_remove(f->eng, "srv", "docs", 0, NULL), 0);
    struct of_cache_info ci;
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    assert_int_equal(ci.used, 0);
    /* What the cache reports as used must match what it holds on disk. */
    assert_int_equal(content_files(f), 0);
}

static void
test_share_remove_of_a_clean_share_needs_no_force_and_keeps_the_server(void **state)
{
    struct fixture *f = *state;
    char other[160];
    snprintf(other, sizeof(other), "%s/other", f->base);
    assert_int_equal(mkdir(other, 0755), 0);
    add_share(f, "other", other, OF_CACHING_AUTO);
    assert_int_equal(write_path(f, "//srv/other/x.txt", "abc", NULL), 0);
    assert_int_equal(of_engine_share_remove(f->eng, "srv", "other", 0, NULL), 0);
    assert_int_equal(item_rc(f, "//srv/other/x.txt"), OF_E(NOT_FOUND));
    assert_int_equal(item_of(f, "//srv").type, OF_ITEM_SERVER);
    assert_int_equal(item_of(f, "//srv/docs").type, OF_ITEM_SHARE);
    assert_int_equal(of_engine_share_remove(f->eng, "srv", "other", 0, NULL), OF_E(NO_SHARE));
}

/* ---- reopen ---- */

static void
test_reopen_keeps_offline_changes_and_the_forced_offline_state(void **state)
{
    struct fixture *f = *state;
    struct of_write_result res;
    set_mode(f, OF_CACHING_AUTO_PROGRAMS);
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", NULL), 0);
    assert_int_equal(write_path(f, "//srv/docs/gone.txt", "abc", NULL), 0);
    set_online(f, 0);
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "hello world", NULL), 0);
    assert_int_equal(write_path(f, "//srv/docs/new.txt", "abc", NULL), 0);
    assert_int_equal(of_engine_file_delete(f->eng, "//srv/docs/gone.txt", USER, NULL, &res, NULL),
                     0);
    assert_int_equal(of_engine_dir_create(f->eng, "//srv/docs/d", USER, &res, NULL), 0);
    struct of_cache_patch p = {.has_limit = 1, .limit = 12345};
    struct of_cache_info ci;
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    char tok[OF_TOKEN_MAX];
    assert_int_equal(of_engine_token_create(f->eng, "alice", 0, tok, NULL), 0);

    reopen(f);

    struct of_conn_info conn;
    assert_int_equal(of_engine_connection_get(f->eng, "srv", "docs", &conn, NULL), 0);
    assert_int_equal(conn.state, OF_CONN_OFFLINE);
    assert_int_equal(conn.reason, OF_REASON_FORCED);
    struct of_share_view v;
    assert_int_equal(of_engine_share_get(f->eng, "srv", "docs", &v, NULL), 0);
    assert_int_equal(v.rec.caching_mode, OF_CACHING_AUTO_PROGRAMS);
    struct of_item it = item_of(f, "//srv/docs/a.txt");
    assert_int_equal(it.mod_data, 1);
    assert_string_equal(it.original.hash, SHA_ABC);
    assert_int_equal(item_of(f, "//srv/docs/new.txt").created_offline, 1);
    assert_int_equal(item_of(f, "//srv/docs/gone.txt").deleted_offline, 1);
    it = item_of(f, "//srv/docs/d");
    assert_int_equal(it.created_offline, 1);
    assert_int_equal(it.type, OF_ITEM_DIRECTORY);
    /* The cached bytes survived the start-up collection. */
    char buf[64];
    struct of_file_read rd;
    assert_int_equal(read_path(f, "//srv/docs/a.txt", buf, sizeof(buf), &rd), 0);
    assert_string_equal(buf, "hello world");
    assert_int_equal(rd.offline, 1);
    assert_reads(f, "//srv/docs/new.txt", "abc");
    assert_int_equal(content_files(f), 2);
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    assert_int_equal(ci.limit, 12345);
    assert_int_equal(ci.used, 14);
    struct of_principal who;
    assert_int_equal(of_engine_token_check(f->eng, tok, &who, NULL), 0);
    assert_string_equal(who.user, "alice");

    /* Back online, and that too is kept. */
    set_online(f, 1);
    reopen(f);
    assert_int_equal(of_engine_connection_get(f->eng, "srv", "docs", &conn, NULL), 0);
    assert_int_equal(conn.state, OF_CONN_ONLINE);
    assert_int_equal(item_of(f, "//srv/docs/a.txt").mod_data, 1);
    assert_reads(f, "//srv/docs/a.txt", "hello world");
}

int
main(void)
{
    of_log_set_level(OF_LOG_ERROR);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_share_add_creates_server_and_share_items_and_is_online),
        T(test_share_add_refuses_duplicates_bad_names_and_bad_remotes),
        T(test_connection_set_forces_a_share_offline_and_back),
        T(test_write_online_lands_on_the_share_and_in_the_cache),
        T(test_read_online_returns_the_bytes_with_the_sha256_as_etag),
        T(test_read_online_sees_a_change_made_on_the_share),
        T(test_read_of_missing_file_directory_or_share_root_fails),
        T(test_plain_read_caches_the_file_only_in_automatic_modes),
        T(test_offline_write_of_a_cached_file_marks_modified_data),
        T(test_offline_write_of_a_new_file_is_created_offline),
        T(test_offline_read_of_uncached_file_is_not_offline),
        T(test_offline_write_restoring_the_original_bytes_clears_modified_data),
        T(test_offline_delete_leaves_a_deleted_offline_tombstone),
        T(test_offline_delete_of_a_file_created_offline_forgets_it),
        T(test_offline_mkdir_is_created_offline),
        T(test_offline_delete_of_a_directory_holding_only_tombstones_succeeds),
        T(test_offline_delete_of_a_directory_with_live_children_is_not_empty),
        T(test_write_preconditions_compare_against_the_etag_clients_saw),
        T(test_write_when_the_share_vanished_lands_in_the_cache_as_a_dirty_change),
        T(test_delete_and_mkdir_online_act_on_the_share),
        T(test_offline_write_to_a_no_caching_share_is_not_offline),
        T(test_query_applies_every_filter),
        T(test_query_offline_flag_follows_the_share_state),
        T(test_query_pages_by_cursor_give_every_item_exactly_once),
        T(test_query_pages_span_more_rows_than_one_store_batch),
        T(test_query_under_unknown_path_or_a_file_fails),
        T(test_query_pinned_flags_follow_the_pins_of_user_and_computer),
        T(test_query_pinned_for_others_matches_items_pinned_by_another_user),
        T(test_cache_get_reports_location_defaults_and_usage),
        T(test_cache_set_clamps_the_unpinned_limit_to_the_limit),
        T(test_cache_set_of_a_negative_limit_is_bad_field_and_changes_nothing),
        T(test_cache_set_enabled_persists_across_reopen),
        T(test_token_create_then_check_finds_the_user),
        T(test_token_check_of_unknown_or_altered_token_is_unauthorized),
        T(test_token_create_refuses_bad_user_names),
        T(test_token_bootstrap_writes_an_admin_token_file_once_with_mode_0600),
        T(test_token_bootstrap_does_nothing_when_tokens_exist),
        T(test_share_remove_refuses_dirty_items_unless_forced),
        T(test_share_remove_of_a_clean_share_needs_no_force_and_keeps_the_server),
        T(test_share_remove_frees_the_cached_bytes_on_disk),
        T(test_reopen_keeps_offline_changes_and_the_forced_offline_state),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
