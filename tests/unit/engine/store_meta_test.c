/* SPDX-License-Identifier: MIT */
/*
 * Tests of the store's small tables through store.h (engine/store_meta.c):
 * pins in every scope, for the user who asks and for others, and partly
 * pinned containers; shares; API tokens; meta values; and the cache usage
 * sums that split pinned from unpinned bytes. Each test gets a fresh
 * database in its own temp directory (store_fixture.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_fixture.h"

/* ---- pins ---- */

static void
test_pin_info_of_unpinned_item_is_all_zero(void **state)
{
    struct fixture *f = *state;
    add_scan_tree(f);
    struct of_item it;
    assert_int_equal(of_store_item_get(f->st, "//s/sh/a", &it, NULL), 0);
    struct of_pin_info pi, zero = {0};
    memset(&pi, 0xff, sizeof(pi));
    assert_int_equal(of_store_pin_info(f->st, &it, "alice", &pi, NULL), 0);
    assert_memory_equal(&pi, &zero, sizeof(pi));
}

struct pin_case {
    enum of_pin_scope scope;
    const char *pin_user; /* who the pin is for */
    int inherit;
    const char *viewer; /* who asks; NULL: any user */
    struct of_pin_info want;
};

static const struct pin_case pin_cases[] = {
    {OF_PIN_USER, "alice", 0, "alice", {.pinned = 1, .for_user = 1}},
    {OF_PIN_USER, "alice", 1, "alice", {.pinned = 1, .for_user = 1, .for_user_inherit = 1}},
    {OF_PIN_USER, "alice", 1, NULL, {.pinned = 1, .for_user = 1, .for_user_inherit = 1}},
    {OF_PIN_USER, "alice", 1, "bob", {.pinned = 1, .for_others = 1}},
    {OF_PIN_COMPUTER, NULL, 0, "bob", {.pinned = 1, .for_computer = 1}},
    {OF_PIN_COMPUTER, NULL, 1, "bob", {.pinned = 1, .for_computer = 1, .for_computer_inherit = 1}},
    {OF_PIN_POLICY, NULL, 0, "alice", {.pinned = 1, .by_policy = 1}},
    {OF_PIN_POLICY, NULL, 1, NULL, {.pinned = 1, .by_policy = 1, .by_policy_inherit = 1}},
    {OF_PIN_REDIRECTION, "alice", 0, "alice", {.pinned = 1, .for_redirection = 1}},
    {OF_PIN_REDIRECTION,
     "alice",
     1,
     "alice",
     {.pinned = 1, .for_redirection = 1, .for_redirection_inherit = 1}},
};

static void
assert_pin_equal(const struct of_pin_info *got, const struct of_pin_info *want, size_t i)
{
    if (memcmp(got, want, sizeof(*got)) != 0)
        fail_msg("case %zu: pinned %d user %d/%d policy %d/%d computer %d/%d redir %d/%d "
                 "partly %d; want pinned %d user %d/%d policy %d/%d computer %d/%d redir "
                 "%d/%d partly %d",
                 i, got->pinned, got->for_user, got->for_user_inherit, got->by_policy,
                 got->by_policy_inherit, got->for_computer, got->for_computer_inherit,
                 got->for_redirection, got->for_redirection_inherit, got->partly, want->pinned,
                 want->for_user, want->for_user_inherit, want->by_policy, want->by_policy_inherit,
                 want->for_computer, want->for_computer_inherit, want->for_redirection,
                 want->for_redirection_inherit, want->partly);
}

static void
test_pin_info_reports_each_scope_for_the_matching_user(void **state)
{
    struct fixture *f = *state;
    add_item(f, "//s", OF_ITEM_SERVER);
    add_item(f, "//s/sh", OF_ITEM_SHARE);
    for (size_t i = 0; i < sizeof(pin_cases) / sizeof(pin_cases[0]); i++) {
        const struct pin_case *c = &pin_cases[i];
        char path[64];
        snprintf(path, sizeof(path), "//s/sh/f%zu", i);
        struct of_item it;
        assert_int_equal(of_store_item_get_id(f->st, add_item(f, path, OF_ITEM_FILE), &it, NULL),
                         0);
        assert_int_equal(of_store_pin_set(f->st, it.id, c->scope, c->pin_user, c->inherit, NULL),
                         0);
        struct of_pin_info pi;
        assert_int_equal(of_store_pin_info(f->st, &it, c->viewer, &pi, NULL), 0);
        assert_pin_equal(&pi, &c->want, i);
    }
}

static void
test_pin_set_again_replaces_the_inherit_flag(void **state)
{
    struct fixture *f = *state;
    add_scan_tree(f);
    struct of_item it;
    assert_int_equal(of_store_item_get(f->st, "//s/sh/a", &it, NULL), 0);
    struct of_pin_info pi;
    assert_int_equal(of_store_pin_set(f->st, it.id, OF_PIN_USER, "alice", 1, NULL), 0);
    assert_int_equal(of_store_pin_set(f->st, it.id, OF_PIN_USER, "alice", 0, NULL), 0);
    assert_int_equal(of_store_pin_info(f->st, &it, "alice", &pi, NULL), 0);
    assert_int_equal(pi.for_user, 1);
    assert_int_equal(pi.for_user_inherit, 0);
    /* Pins of two users and two scopes add up. */
    assert_int_equal(of_store_pin_set(f->st, it.id, OF_PIN_USER, "bob", 1, NULL), 0);
    assert_int_equal(of_store_pin_set(f->st, it.id, OF_PIN_COMPUTER, NULL, 0, NULL), 0);
    assert_int_equal(of_store_pin_info(f->st, &it, "alice", &pi, NULL), 0);
    struct of_pin_info want = {.pinned = 1, .for_user = 1, .for_others = 1, .for_computer = 1};
    assert_pin_equal(&pi, &want, 0);
}

static void
test_pin_info_of_container_with_pinned_descendant_is_partly(void **state)
{
    struct fixture *f = *state;
    add_scan_tree(f);
    assert_int_equal(
        of_store_pin_set(f->st, id_of(f, "//s/sh/a/b/c"), OF_PIN_USER, "alice", 0, NULL), 0);
    struct case_ {
        const char *path;
        int partly;
    } cases[] = {
        {"//s", 1},        {"//s/sh", 1},    {"//s/sh/a", 1},   {"//s/sh/a/b", 1},
        {"//s/sh/a-b", 0}, {"//s/sh/ab", 0}, {"//s/sh/a/z", 0}, {"//t", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct of_item it;
        struct of_pin_info pi;
        assert_int_equal(of_store_item_get(f->st, cases[i].path, &it, NULL), 0);
        assert_int_equal(of_store_pin_info(f->st, &it, "alice", &pi, NULL), 0);
        if (pi.partly != cases[i].partly || pi.pinned)
            fail_msg("%s: partly %d pinned %d, want partly %d", cases[i].path, pi.partly, pi.pinned,
                     cases[i].partly);
    }
    /* A sibling that shares the name prefix does not make "a" partly pinned. */
    add_item(f, "//s/sh/a-b/x", OF_ITEM_FILE);
    add_item(f, "//s/sh/ab/x", OF_ITEM_FILE);
    assert_int_equal(
        of_store_pin_set(f->st, id_of(f, "//s/sh/a-b/x"), OF_PIN_COMPUTER, NULL, 0, NULL), 0);
    assert_int_equal(
        of_store_pin_set(f->st, id_of(f, "//s/sh/ab/x"), OF_PIN_COMPUTER, NULL, 0, NULL), 0);
    struct of_item it;
    struct of_pin_info pi;
    assert_int_equal(of_store_item_get(f->st, "//s/sh/a/z", &it, NULL), 0);
    assert_int_equal(of_store_pin_info(f->st, &it, NULL, &pi, NULL), 0);
    assert_int_equal(pi.partly, 0);
    assert_int_equal(of_store_item_get(f->st, "//s/sh/a-b", &it, NULL), 0);
    assert_int_equal(of_store_pin_info(f->st, &it, NULL, &pi, NULL), 0);
    assert_int_equal(pi.partly, 1);
}

/* ---- shares ---- */

static void
test_share_put_get_list_update_and_delete(void **state)
{
    struct fixture *f = *state;
    struct of_share_rec b = {0}, a = {0}, got;
    snprintf(b.server, sizeof(b.server), "srv");
    snprintf(b.share, sizeof(b.share), "b");
    snprintf(b.remote, sizeof(b.remote), "file:///tmp/b");
    b.caching_mode = OF_CACHING_AUTO_PROGRAMS;
    b.created_ns = 1700000000000000001LL;
    assert_int_equal(of_store_share_put(f->st, &b, NULL), 0);
    assert_true(b.id > 0);
    a = b;
    a.id = 0;
    snprintf(a.share, sizeof(a.share), "a");
    a.caching_mode = OF_CACHING_NONE;
    a.forced_offline = 1;
    assert_int_equal(of_store_share_put(f->st, &a, NULL), 0);
    assert_true(a.id > b.id);

    assert_int_equal(of_store_share_get(f->st, "srv", "b", &got, NULL), 0);
    assert_int_equal(got.id, b.id);
    assert_string_equal(got.server, "srv");
    assert_string_equal(got.share, "b");
    assert_string_equal(got.remote, "file:///tmp/b");
    assert_int_equal(got.caching_mode, OF_CACHING_AUTO_PROGRAMS);
    assert_int_equal(got.forced_offline, 0);
    assert_int_equal(got.created_ns, 1700000000000000001LL);

    struct of_share_rec *list = NULL;
    size_t n = 0;
    assert_int_equal(of_store_share_list(f->st, &list, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].share, "a"); /* ordered by server, share */
    assert_int_equal(list[0].forced_offline, 1);
    assert_int_equal(list[0].caching_mode, OF_CACHING_NONE);
    assert_string_equal(list[1].share, "b");
    free(list);

    /* Update by id: remote, caching mode, forced offline; names and creation stay. */
    got.caching_mode = OF_CACHING_MANUAL;
    got.forced_offline = 1;
    snprintf(got.remote, sizeof(got.remote), "file:///tmp/b2");
    assert_int_equal(of_store_share_put(f->st, &got, NULL), 0);
    assert_int_equal(got.id, b.id);
    struct of_share_rec again;
    assert_int_equal(of_store_share_get(f->st, "srv", "b", &again, NULL), 0);
    assert_string_equal(again.remote, "file:///tmp/b2");
    assert_int_equal(again.caching_mode, OF_CACHING_MANUAL);
    assert_int_equal(again.forced_offline, 1);
    assert_int_equal(again.created_ns, 1700000000000000001LL);

    struct of_error err = {0};
    assert_int_equal(of_store_share_delete(f->st, b.id, NULL), 0);
    assert_int_equal(of_store_share_get(f->st, "srv", "b", &again, &err), OF_E(NO_SHARE));
    assert_int_equal(err.code, OF_E(NO_SHARE));
    assert_int_equal(of_store_share_list(f->st, &list, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].share, "a");
    free(list);
}

static void
test_share_put_of_a_duplicate_is_exists(void **state)
{
    struct fixture *f = *state;
    add_share(f, "srv", "docs");
    struct of_share_rec dup = {0};
    snprintf(dup.server, sizeof(dup.server), "srv");
    snprintf(dup.share, sizeof(dup.share), "docs");
    snprintf(dup.remote, sizeof(dup.remote), "file:///elsewhere");
    struct of_error err = {0};
    assert_int_equal(of_store_share_put(f->st, &dup, &err), OF_E(EXISTS));
    assert_int_equal(err.code, OF_E(EXISTS));
    assert_int_equal(dup.id, 0);
    /* The same share name on another server is a different share. */
    snprintf(dup.server, sizeof(dup.server), "srv2");
    assert_int_equal(of_store_share_put(f->st, &dup, NULL), 0);
}

static void
test_share_list_of_empty_store_is_empty(void **state)
{
    struct fixture *f = *state;
    struct of_share_rec *list = NULL;
    size_t n = 99;
    assert_int_equal(of_store_share_list(f->st, &list, &n, NULL), 0);
    assert_int_equal(n, 0);
    free(list);
}

static void
test_share_delete_cascades_to_its_items(void **state)
{
    struct fixture *f = *state;
    add_item(f, "//s", OF_ITEM_SERVER);
    add_item(f, "//s/sh", OF_ITEM_SHARE);
    add_item(f, "//s/sh/d", OF_ITEM_DIRECTORY);
    add_item(f, "//s/sh/d/f", OF_ITEM_FILE);
    assert_int_equal(of_store_share_delete(f->st, f->share_id, NULL), 0);
    struct of_item it;
    assert_int_equal(of_store_item_get(f->st, "//s/sh", &it, NULL), OF_E(NOT_FOUND));
    assert_int_equal(of_store_item_get(f->st, "//s/sh/d/f", &it, NULL), OF_E(NOT_FOUND));
    /* The server item belongs to no share. */
    assert_int_equal(of_store_item_get(f->st, "//s", &it, NULL), 0);
}

/* ---- tokens ---- */

static void
test_tokens_are_found_by_hash_and_counted(void **state)
{
    struct fixture *f = *state;
    int64_t n = -1;
    assert_int_equal(of_store_token_count(f->st, &n, NULL), 0);
    assert_int_equal(n, 0);
    assert_int_equal(of_store_token_add(f->st, "admin", "aaaa", 1, NULL), 0);
    assert_int_equal(of_store_token_add(f->st, "alice", "bbbb", 0, NULL), 0);
    assert_int_equal(of_store_token_count(f->st, &n, NULL), 0);
    assert_int_equal(n, 2);

    char user[64];
    int admin = -1;
    assert_int_equal(of_store_token_find(f->st, "aaaa", user, sizeof(user), &admin, NULL), 0);
    assert_string_equal(user, "admin");
    assert_int_equal(admin, 1);
    assert_int_equal(of_store_token_find(f->st, "bbbb", user, sizeof(user), &admin, NULL), 0);
    assert_string_equal(user, "alice");
    assert_int_equal(admin, 0);

    struct of_error err = {0};
    snprintf(user, sizeof(user), "untouched");
    admin = 7;
    assert_int_equal(of_store_token_find(f->st, "cccc", user, sizeof(user), &admin, &err),
                     OF_E(UNAUTHORIZED));
    assert_int_equal(err.code, OF_E(UNAUTHORIZED));
    assert_string_equal(user, "untouched");
    assert_int_equal(admin, 7);
    assert_int_equal(of_store_token_find(f->st, "", user, sizeof(user), &admin, NULL),
                     OF_E(UNAUTHORIZED));
}

/* ---- meta ---- */

static void
test_meta_set_then_get_and_overwrite(void **state)
{
    struct fixture *f = *state;
    char v[32] = "untouched";
    struct of_error err = {0};
    assert_int_equal(of_store_meta_get(f->st, "cache.enabled", v, sizeof(v), &err),
                     OF_E(NOT_FOUND));
    assert_int_equal(err.code, OF_E(NOT_FOUND));
    assert_string_equal(v, "untouched");
    assert_int_equal(of_store_meta_set(f->st, "cache.enabled", "1", NULL), 0);
    assert_int_equal(of_store_meta_set(f->st, "cache.limit", "1073741824", NULL), 0);
    assert_int_equal(of_store_meta_get(f->st, "cache.enabled", v, sizeof(v), NULL), 0);
    assert_string_equal(v, "1");
    assert_int_equal(of_store_meta_set(f->st, "cache.enabled", "0", NULL), 0);
    assert_int_equal(of_store_meta_get(f->st, "cache.enabled", v, sizeof(v), NULL), 0);
    assert_string_equal(v, "0");
    assert_int_equal(of_store_meta_get(f->st, "cache.limit", v, sizeof(v), NULL), 0);
    assert_string_equal(v, "1073741824");
}

/* ---- cache usage ---- */

static void
set_cached(struct fixture *f, const char *path, int64_t bytes)
{
    struct of_item it;
    assert_int_equal(of_store_item_get(f->st, path, &it, NULL), 0);
    it.cached_bytes = bytes;
    assert_int_equal(of_store_item_put(f->st, &it, NULL), 0);
}

static void
test_cache_usage_splits_pinned_and_unpinned_bytes(void **state)
{
    struct fixture *f = *state;
    int64_t used = -1, unpinned = -1;
    assert_int_equal(of_store_cache_usage(f->st, &used, &unpinned, NULL), 0);
    assert_int_equal(used, 0);
    assert_int_equal(unpinned, 0);

    add_item(f, "//s", OF_ITEM_SERVER);
    add_item(f, "//s/sh", OF_ITEM_SHARE);
    add_item(f, "//s/sh/pinned", OF_ITEM_FILE);
    add_item(f, "//s/sh/twice", OF_ITEM_FILE);
    add_item(f, "//s/sh/loose", OF_ITEM_FILE);
    add_item(f, "//s/sh/ghost", OF_ITEM_FILE);
    set_cached(f, "//s/sh/pinned", 1000);
    set_cached(f, "//s/sh/twice", 200);
    set_cached(f, "//s/sh/loose", 30);
    assert_int_equal(
        of_store_pin_set(f->st, id_of(f, "//s/sh/pinned"), OF_PIN_USER, "alice", 0, NULL), 0);
    /* Two pins on one item must not count its bytes twice. */
    assert_int_equal(
        of_store_pin_set(f->st, id_of(f, "//s/sh/twice"), OF_PIN_USER, "alice", 0, NULL), 0);
    assert_int_equal(
        of_store_pin_set(f->st, id_of(f, "//s/sh/twice"), OF_PIN_COMPUTER, NULL, 0, NULL), 0);
    assert_int_equal(of_store_cache_usage(f->st, &used, &unpinned, NULL), 0);
    assert_int_equal(used, 1230);
    assert_int_equal(unpinned, 30);
}

int
main(void)
{
    of_log_set_level(OF_LOG_WARN);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_pin_info_of_unpinned_item_is_all_zero),
        T(test_pin_info_reports_each_scope_for_the_matching_user),
        T(test_pin_set_again_replaces_the_inherit_flag),
        T(test_pin_info_of_container_with_pinned_descendant_is_partly),
        T(test_share_put_get_list_update_and_delete),
        T(test_share_put_of_a_duplicate_is_exists),
        T(test_share_list_of_empty_store_is_empty),
        T(test_share_delete_cascades_to_its_items),
        T(test_tokens_are_found_by_hash_and_counted),
        T(test_meta_set_then_get_and_overwrite),
        T(test_cache_usage_splits_pinned_and_unpinned_bytes),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
