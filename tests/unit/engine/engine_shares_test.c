/* SPDX-License-Identifier: MIT */
/*
 * Tests of shares through engine.h (engine/shares.c, engine/connection.c):
 * adding one and what is refused, forcing it offline and back, and removing
 * it from the cache, which takes force while it holds offline changes and
 * never touches the server. Over engine_fixture.c: a temp data directory and
 * the fs share //srv/docs on a temp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "engine_fixture.h"
#include "log.h"

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

int
main(void)
{
    of_log_set_level(OF_LOG_ERROR);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_share_add_creates_server_and_share_items_and_is_online),
        T(test_share_add_refuses_duplicates_bad_names_and_bad_remotes),
        T(test_connection_set_forces_a_share_offline_and_back),
        T(test_share_remove_refuses_dirty_items_unless_forced),
        T(test_share_remove_of_a_clean_share_needs_no_force_and_keeps_the_server),
        T(test_share_remove_frees_the_cached_bytes_on_disk),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
