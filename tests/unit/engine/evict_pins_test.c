/* SPDX-License-Identifier: MIT */
/*
 * Tests of the pins that keep content from eviction, through engine.h
 * (engine/pins.c): pin inheritance, recorded in the store and applied by
 * sync and by listings; shallow pins; partly pinned folders; per-user pins;
 * and a no-caching share that takes none. Eviction itself is in
 * evict_limits_test.c. Over evict_fixture.c: a temp data directory and an fs
 * share //srv/docs on a temp directory, in auto or manual caching mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "evict_fixture.h"
#include "log.h"

#include "store.h"

/* ---- inheritance and partly pinned folders ---- */

struct rows {
    struct of_pin_row v[8];
    int n;
};

static void
add_row(void *ctx, const struct of_pin_row *row)
{
    struct rows *r = ctx;
    if (r->n < 8)
        r->v[r->n++] = *row;
}

/* The pin rows of rel, read through a second store connection. */
static struct rows
pin_rows(struct fixture *f, const char *rel)
{
    char db[256], path[256];
    snprintf(db, sizeof(db), "%s/offlinefiles.db", f->data);
    path_of(rel, path, sizeof(path));
    struct of_store *st = NULL;
    assert_int_equal(of_store_open(db, &st, NULL), 0);
    struct of_item it;
    assert_int_equal(of_store_item_get(st, path, &it, NULL), 0);
    struct rows r = {0};
    assert_int_equal(of_store_pin_rows(st, it.id, add_row, &r, NULL), 0);
    of_store_free(st);
    return r;
}

static void
assert_one_row(struct fixture *f, const char *rel, enum of_pin_scope scope, const char *user,
               int inherit)
{
    struct rows r = pin_rows(f, rel);
    if (r.n != 1)
        fail_msg("%s: %d pin rows, want 1", rel, r.n);
    if (r.v[0].scope != scope || strcmp(r.v[0].user, user) != 0 || r.v[0].inherit != inherit)
        fail_msg("%s: pin row scope %d user '%s' inherit %d; want %d '%s' %d", rel,
                 (int)r.v[0].scope, r.v[0].user, r.v[0].inherit, (int)scope, user, inherit);
}

static void
test_deep_pin_records_inheritance_on_folders_only(void **state)
{
    struct fixture *f = *state;
    put_host(f, "d/a.txt", 10, 'a');
    put_host(f, "d/sub/b.txt", 20, 'b');
    put_host(f, "d/sub/deeper/c.txt", 30, 'c');
    pin_ok(f, "d", 1);
    assert_one_row(f, "d", OF_PIN_USER, USER, 1);
    assert_one_row(f, "d/sub", OF_PIN_USER, USER, 1);
    assert_one_row(f, "d/sub/deeper", OF_PIN_USER, USER, 1);
    assert_one_row(f, "d/a.txt", OF_PIN_USER, USER, 0);
    assert_one_row(f, "d/sub/deeper/c.txt", OF_PIN_USER, USER, 0);
    struct of_item_view v = view(f, "d");
    assert_int_equal(v.pin.pinned, 1);
    assert_int_equal(v.pin.for_user, 1);
    assert_int_equal(v.pin.for_user_inherit, 1);
    assert_cached(f, "d/a.txt", 10);
    assert_cached(f, "d/sub/b.txt", 20);
    assert_cached(f, "d/sub/deeper/c.txt", 30);
    /* Machine-wide scopes record no user. */
    put_host(f, "e/x.txt", 5, 'x');
    assert_int_equal(pin_full(f, "e", 1, OF_PIN_COMPUTER, USER, 1, 0, NULL), 0);
    assert_one_row(f, "e", OF_PIN_COMPUTER, "", 1);
    assert_one_row(f, "e/x.txt", OF_PIN_COMPUTER, "", 0);
}

static void
test_new_files_under_a_deep_pin_are_pinned_and_fetched_by_sync(void **state)
{
    struct fixture *f = *state;
    put_host(f, "d/a.txt", 10, 'a');
    pin_ok(f, "d", 1);
    put_host(f, "d/new.txt", 11, 'n');
    put_host(f, "d/newdir/x.txt", 12, 'x');
    put_host(f, "elsewhere.txt", 13, 'e');
    sync_ok(f, "//srv/docs");
    assert_one_row(f, "d/new.txt", OF_PIN_USER, USER, 0);
    assert_one_row(f, "d/newdir", OF_PIN_USER, USER, 1);
    assert_one_row(f, "d/newdir/x.txt", OF_PIN_USER, USER, 0);
    assert_cached(f, "d/new.txt", 11);
    assert_cached(f, "d/newdir/x.txt", 12);
    assert_int_equal(view(f, "d/new.txt").pin.for_user, 1);
    /* Outside the pinned tree, a manual share keeps nothing. */
    assert_int_equal(pin_rows(f, "elsewhere.txt").n, 0);
    assert_ghost(f, "elsewhere.txt");
    set_online(f, 0);
    read_ok(f, "d/new.txt");
    read_ok(f, "d/newdir/x.txt");
}

static void
test_new_files_recorded_by_a_listing_are_pinned_and_filled_by_the_next_sync(void **state)
{
    struct fixture *f = *state;
    put_host(f, "d/a.txt", 10, 'a');
    pin_ok(f, "d", 1);
    put_host(f, "d/listed.txt", 14, 'l');
    list_ok(f, "d");
    assert_one_row(f, "d/listed.txt", OF_PIN_USER, USER, 0);
    struct of_item_view v = view(f, "d/listed.txt");
    assert_int_equal(v.pin.pinned, 1);
    assert_int_equal(v.pin.for_user, 1);
    sync_ok(f, "//srv/docs/d");
    assert_cached(f, "d/listed.txt", 14);
    set_online(f, 0);
    read_ok(f, "d/listed.txt");
}

static void
test_a_shallow_pin_pins_the_folder_and_its_later_children(void **state)
{
    struct fixture *f = *state;
    put_host(f, "d/a.txt", 10, 'a');
    pin_ok(f, "d", 0);
    assert_one_row(f, "d", OF_PIN_USER, USER, 1);
    put_host(f, "d/later.txt", 15, 'l');
    sync_ok(f, "//srv/docs/d");
    assert_one_row(f, "d/later.txt", OF_PIN_USER, USER, 0);
    assert_cached(f, "d/later.txt", 15);
}

static void
test_a_folder_with_some_content_pinned_is_partly_pinned(void **state)
{
    struct fixture *f = *state;
    put_host(f, "d/a.txt", 10, 'a');
    put_host(f, "d/b.txt", 10, 'b');
    put_host(f, "d/sub/c.txt", 10, 'c');
    put_host(f, "other/o.txt", 10, 'o');
    list_ok(f, "d");
    list_ok(f, "d/sub");
    list_ok(f, "other");
    pin_ok(f, "d/sub/c.txt", 0);
    struct of_item_view v = view(f, "d");
    assert_int_equal(v.pin.pinned, 0);
    assert_int_equal(v.pin.partly, 1);
    v = view(f, "d/sub");
    assert_int_equal(v.pin.pinned, 0);
    assert_int_equal(v.pin.partly, 1);
    assert_int_equal(view(f, "//srv/docs").pin.partly, 1);
    assert_int_equal(view(f, "other").pin.partly, 0);
    assert_int_equal(view(f, "d/a.txt").pin.partly, 0);
    /* Another user's pin counts too: the content is there for them. */
    assert_int_equal(view_as(f, "d", OTHER).pin.partly, 1);
    unpin_ok(f, "d/sub/c.txt", 0);
    assert_int_equal(view(f, "d").pin.partly, 0);
    assert_int_equal(view(f, "d/sub").pin.partly, 0);
    /* A shallow unpin of a deep-pinned folder leaves its subfolders pinned: partly. */
    pin_ok(f, "d", 1);
    unpin_ok(f, "d", 0);
    v = view(f, "d");
    assert_int_equal(v.pin.pinned, 0);
    assert_int_equal(v.pin.partly, 1);
    assert_int_equal(view(f, "d/a.txt").pin.pinned, 0);
    assert_int_equal(view(f, "d/sub").pin.pinned, 1);
    assert_int_equal(view(f, "d/sub/c.txt").pin.pinned, 1);
}

/* ---- users and scopes ---- */

static void
test_user_pins_belong_to_their_user(void **state)
{
    struct fixture *f = *state;
    put_host(f, "a.txt", 10, 'a');
    put_host(f, "b.txt", 10, 'b');
    assert_int_equal(pin_full(f, "a.txt", 0, OF_PIN_USER, USER, 1, 0, NULL), 0);
    assert_int_equal(pin_full(f, "b.txt", 0, OF_PIN_USER, OTHER, 1, 0, NULL), 0);
    struct of_item_view v = view_as(f, "a.txt", USER);
    assert_int_equal(v.pin.pinned, 1);
    assert_int_equal(v.pin.for_user, 1);
    assert_int_equal(v.pin.for_others, 0);
    v = view_as(f, "a.txt", OTHER);
    assert_int_equal(v.pin.pinned, 1);
    assert_int_equal(v.pin.for_user, 0);
    assert_int_equal(v.pin.for_others, 1);
    v = view_as(f, "b.txt", USER);
    assert_int_equal(v.pin.for_user, 0);
    assert_int_equal(v.pin.for_others, 1);
    /* bob's unpin of a.txt removes only bob's pin: alice's stays. */
    assert_int_equal(pin_full(f, "a.txt", 0, OF_PIN_USER, OTHER, 0, 1, NULL), 0);
    assert_int_equal(view_as(f, "a.txt", USER).pin.for_user, 1);
    /* Both pin b; alice unpins; bob's pin keeps it pinned and cached. */
    assert_int_equal(pin_full(f, "b.txt", 0, OF_PIN_USER, USER, 1, 0, NULL), 0);
    unpin_ok(f, "b.txt", 0);
    v = view_as(f, "b.txt", USER);
    assert_int_equal(v.pin.pinned, 1);
    assert_int_equal(v.pin.for_user, 0);
    assert_int_equal(view_as(f, "b.txt", OTHER).pin.for_user, 1);
    assert_usage(f, 20, 0);
}

static void
test_no_caching_share_refuses_pins(void **state)
{
    struct fixture *f = *state;
    struct of_share_patch p = {.has_caching_mode = 1, .caching_mode = OF_CACHING_NONE};
    assert_int_equal(of_engine_share_update(f->eng, "srv", "docs", &p, NULL, NULL), 0);
    put_host(f, "a.txt", 10, 'a');
    struct of_error err = {0};
    const char *paths[] = {"//srv/docs/a.txt"};
    int64_t id = 0;
    assert_int_equal(of_engine_pin(f->eng, paths, 1, 0, OF_PIN_USER, 1, 0, USER, &id, &err),
                     OF_E(CONFLICT));
    assert_int_equal(err.code, OF_E(CONFLICT));
    int cacheable = 1;
    enum of_caching_mode mode = OF_CACHING_AUTO;
    assert_int_equal(of_engine_cacheable(f->eng, "//srv/docs/a.txt", &cacheable, &mode, NULL), 0);
    assert_int_equal(cacheable, 0);
    assert_int_equal(mode, OF_CACHING_NONE);
}

int
main(void)
{
    of_log_set_level(OF_LOG_ERROR);
#define M(name) cmocka_unit_test_setup_teardown(name, setup_manual, teardown)
    const struct CMUnitTest tests[] = {
        M(test_deep_pin_records_inheritance_on_folders_only),
        M(test_new_files_under_a_deep_pin_are_pinned_and_fetched_by_sync),
        M(test_new_files_recorded_by_a_listing_are_pinned_and_filled_by_the_next_sync),
        M(test_a_shallow_pin_pins_the_folder_and_its_later_children),
        M(test_a_folder_with_some_content_pinned_is_partly_pinned),
        M(test_user_pins_belong_to_their_user),
        M(test_no_caching_share_refuses_pins),
    };
#undef M
    return cmocka_run_group_tests(tests, NULL, NULL);
}
