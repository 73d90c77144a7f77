/* SPDX-License-Identifier: MIT */
/*
 * Tests of a share forced offline through engine.h: the offline changes it
 * records (modified data, files and directories created or deleted offline),
 * reads of what was and was not cached, a no-caching share that takes no
 * offline writes, and a reopen that keeps the changes and the forced offline
 * state. Over engine_fixture.c: a temp data directory and the fs share
 * //srv/docs on a temp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "engine_fixture.h"
#include "log.h"

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
        T(test_offline_write_of_a_cached_file_marks_modified_data),
        T(test_offline_write_of_a_new_file_is_created_offline),
        T(test_offline_read_of_uncached_file_is_not_offline),
        T(test_offline_write_restoring_the_original_bytes_clears_modified_data),
        T(test_offline_delete_leaves_a_deleted_offline_tombstone),
        T(test_offline_delete_of_a_file_created_offline_forgets_it),
        T(test_offline_mkdir_is_created_offline),
        T(test_offline_delete_of_a_directory_holding_only_tombstones_succeeds),
        T(test_offline_delete_of_a_directory_with_live_children_is_not_empty),
        T(test_offline_write_to_a_no_caching_share_is_not_offline),
        T(test_reopen_keeps_offline_changes_and_the_forced_offline_state),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
