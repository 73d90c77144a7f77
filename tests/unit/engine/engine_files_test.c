/* SPDX-License-Identifier: MIT */
/*
 * Tests of reads and writes through engine.h while the share is online
 * (engine/files.c, engine/dirs.c): writes that land on the share and in the
 * cache, reads with the SHA-256 as ETag that see changes made on the share,
 * what each caching mode keeps of a plain read, write preconditions, a share
 * that vanishes under a write, and deletes and mkdirs on the share. Offline
 * changes are in engine_offline_test.c. Over engine_fixture.c: a temp data
 * directory and the fs share //srv/docs on a temp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine_fixture.h"
#include "log.h"

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

int
main(void)
{
    of_log_set_level(OF_LOG_ERROR);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_write_online_lands_on_the_share_and_in_the_cache),
        T(test_read_online_returns_the_bytes_with_the_sha256_as_etag),
        T(test_read_online_sees_a_change_made_on_the_share),
        T(test_read_of_missing_file_directory_or_share_root_fails),
        T(test_plain_read_caches_the_file_only_in_automatic_modes),
        T(test_write_preconditions_compare_against_the_etag_clients_saw),
        T(test_write_when_the_share_vanished_lands_in_the_cache_as_a_dirty_change),
        T(test_delete_and_mkdir_online_act_on_the_share),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
