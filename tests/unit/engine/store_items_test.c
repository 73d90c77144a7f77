/* SPDX-License-Identifier: MIT */
/*
 * Tests of the store's items table through store.h (engine/store_items.c):
 * every item field round-tripping, by path and by id, one flag at a time;
 * duplicate and unknown paths; deletes that cascade to descendants and
 * their pins; child counts; and the content names the cache's collection
 * keeps. The scans are in store_scan_test.c. Each test gets a fresh
 * database in its own temp directory (store_fixture.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store_fixture.h"

/* ---- items ---- */

static void
fill_copy(struct of_copy *c, int seed)
{
    c->exists = 1;
    c->size = 1000000000000LL + seed;
    c->mtime_ns = 1700000000123456789LL + seed;
    c->attrs = 0x80000000u | (uint32_t)seed; /* the top bit must survive */
    snprintf(c->etag, sizeof(c->etag), "\"etag-%d\"", seed);
    snprintf(c->hash, sizeof(c->hash), "%064d", seed);
}

static void
assert_copy_equal(const struct of_copy *a, const struct of_copy *b)
{
    assert_int_equal(a->exists, b->exists);
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->mtime_ns, b->mtime_ns);
    assert_int_equal(a->attrs, b->attrs);
    assert_string_equal(a->etag, b->etag);
    assert_string_equal(a->hash, b->hash);
}

static void
assert_item_equal(const struct of_item *a, const struct of_item *b)
{
    assert_int_equal(a->id, b->id);
    assert_int_equal(a->parent_id, b->parent_id);
    assert_int_equal(a->share_id, b->share_id);
    assert_int_equal(a->type, b->type);
    assert_string_equal(a->path, b->path);
    assert_copy_equal(&a->local, &b->local);
    assert_copy_equal(&a->remote, &b->remote);
    assert_copy_equal(&a->original, &b->original);
    assert_string_equal(a->content, b->content);
    assert_int_equal(a->cached_bytes, b->cached_bytes);
    assert_int_equal(a->ghosted, b->ghosted);
    assert_int_equal(a->sparse, b->sparse);
    assert_int_equal(a->created_offline, b->created_offline);
    assert_int_equal(a->deleted_offline, b->deleted_offline);
    assert_int_equal(a->mod_data, b->mod_data);
    assert_int_equal(a->mod_attrs, b->mod_attrs);
    assert_int_equal(a->mod_time, b->mod_time);
    assert_int_equal(a->suspended, b->suspended);
    assert_int_equal(a->suspended_root, b->suspended_root);
    assert_int_equal(a->transparent, b->transparent);
    assert_int_equal(a->marked_delete, b->marked_delete);
    assert_int_equal(a->encrypted, b->encrypted);
    assert_int_equal(a->last_access_ns, b->last_access_ns);
}

/* Read back by path and by id; both must equal want. */
static void
assert_stored(struct fixture *f, const struct of_item *want)
{
    struct of_item got;
    memset(&got, 0xa5, sizeof(got));
    assert_int_equal(of_store_item_get(f->st, want->path, &got, NULL), 0);
    assert_item_equal(&got, want);
    memset(&got, 0x5a, sizeof(got));
    assert_int_equal(of_store_item_get_id(f->st, want->id, &got, NULL), 0);
    assert_item_equal(&got, want);
}

static void
test_item_put_then_get_round_trips_every_field(void **state)
{
    struct fixture *f = *state;
    add_item(f, "//s", OF_ITEM_SERVER);
    int64_t share = add_item(f, "//s/sh", OF_ITEM_SHARE);
    struct of_item it;
    memset(&it, 0, sizeof(it));
    it.parent_id = share;
    it.share_id = f->share_id;
    it.type = OF_ITEM_FILE;
    snprintf(it.path, sizeof(it.path), "//s/sh/caf\xc3\xa9 file.txt");
    fill_copy(&it.local, 1);
    fill_copy(&it.remote, 2);
    fill_copy(&it.original, 3);
    snprintf(it.content, sizeof(it.content), "0123456789abcdef0123456789abcdef");
    it.cached_bytes = 5000000000LL; /* beyond 32 bits */
    it.ghosted = it.sparse = it.created_offline = it.deleted_offline = 1;
    it.mod_data = it.mod_attrs = it.mod_time = it.suspended = it.suspended_root = 1;
    it.transparent = it.marked_delete = it.encrypted = 1;
    it.last_access_ns = 1712345678987654321LL;
    assert_int_equal(of_store_item_put(f->st, &it, NULL), 0);
    assert_true(it.id > share);
    assert_stored(f, &it);

    /* An update by id rewrites every column. */
    fill_copy(&it.local, 11);
    fill_copy(&it.remote, 12);
    memset(&it.original, 0, sizeof(it.original));
    snprintf(it.path, sizeof(it.path), "//s/sh/renamed");
    it.type = OF_ITEM_DIRECTORY;
    it.content[0] = '\0';
    it.cached_bytes = 0;
    it.ghosted = it.sparse = it.created_offline = it.deleted_offline = 0;
    it.mod_data = it.mod_attrs = it.mod_time = it.suspended = it.suspended_root = 0;
    it.transparent = it.marked_delete = it.encrypted = 0;
    it.last_access_ns = -1;
    int64_t id = it.id;
    assert_int_equal(of_store_item_put(f->st, &it, NULL), 0);
    assert_int_equal(it.id, id);
    assert_stored(f, &it);
    assert_int_equal(of_store_item_get(f->st, "//s/sh/caf\xc3\xa9 file.txt", &it, NULL),
                     OF_E(NOT_FOUND));
}

/* One flag at a time, so two swapped columns cannot hide each other. */
struct flag_case {
    const char *name;
    size_t offset;
};

#define FLAG(field)                                                                                \
    {                                                                                              \
#field, offsetof(struct of_item, field)                                                    \
    }
static const struct flag_case flag_cases[] = {
    FLAG(ghosted),        FLAG(sparse),      FLAG(created_offline), FLAG(deleted_offline),
    FLAG(mod_data),       FLAG(mod_attrs),   FLAG(mod_time),        FLAG(suspended),
    FLAG(suspended_root), FLAG(transparent), FLAG(marked_delete),   FLAG(encrypted),
};
#undef FLAG

static void
test_item_flags_round_trip_one_at_a_time(void **state)
{
    struct fixture *f = *state;
    add_item(f, "//s", OF_ITEM_SERVER);
    add_item(f, "//s/sh", OF_ITEM_SHARE);
    struct of_item it;
    assert_int_equal(of_store_item_get_id(f->st, add_item(f, "//s/sh/f", OF_ITEM_FILE), &it, NULL),
                     0);
    for (size_t i = 0; i < sizeof(flag_cases) / sizeof(flag_cases[0]); i++) {
        for (size_t j = 0; j < sizeof(flag_cases) / sizeof(flag_cases[0]); j++)
            *(int *)((char *)&it + flag_cases[j].offset) = i == j;
        assert_int_equal(of_store_item_put(f->st, &it, NULL), 0);
        struct of_item got;
        assert_int_equal(of_store_item_get(f->st, "//s/sh/f", &got, NULL), 0);
        for (size_t j = 0; j < sizeof(flag_cases) / sizeof(flag_cases[0]); j++) {
            int v = *(int *)((char *)&got + flag_cases[j].offset);
            if (v != (i == j))
                fail_msg("setting only %s read back %s = %d", flag_cases[i].name,
                         flag_cases[j].name, v);
        }
    }
}

static void
test_item_put_of_a_duplicate_path_is_exists(void **state)
{
    struct fixture *f = *state;
    add_item(f, "//s", OF_ITEM_SERVER);
    struct of_item it;
    memset(&it, 0, sizeof(it));
    snprintf(it.path, sizeof(it.path), "//s");
    it.type = OF_ITEM_SERVER;
    struct of_error err = {0};
    assert_int_equal(of_store_item_put(f->st, &it, &err), OF_E(EXISTS));
    assert_int_equal(err.code, OF_E(EXISTS));
    assert_int_equal(it.id, 0);
}

static void
test_item_get_of_unknown_path_or_id_is_not_found(void **state)
{
    struct fixture *f = *state;
    struct of_item it;
    struct of_error err = {0};
    assert_int_equal(of_store_item_get(f->st, "//nope", &it, &err), OF_E(NOT_FOUND));
    assert_int_equal(err.code, OF_E(NOT_FOUND));
    assert_int_equal(of_store_item_get_id(f->st, 4242, &it, NULL), OF_E(NOT_FOUND));
}

static void
test_item_delete_cascades_to_descendants_and_their_pins(void **state)
{
    struct fixture *f = *state;
    add_item(f, "//s", OF_ITEM_SERVER);
    add_item(f, "//s/sh", OF_ITEM_SHARE);
    int64_t d = add_item(f, "//s/sh/d", OF_ITEM_DIRECTORY);
    add_item(f, "//s/sh/d/e", OF_ITEM_DIRECTORY);
    int64_t g = add_item(f, "//s/sh/d/e/g", OF_ITEM_FILE);
    int64_t file = add_item(f, "//s/sh/d/f", OF_ITEM_FILE);
    add_item(f, "//s/sh/d-sibling", OF_ITEM_FILE);
    assert_int_equal(of_store_pin_set(f->st, g, OF_PIN_USER, "alice", 0, NULL), 0);
    assert_int_equal(of_store_pin_set(f->st, d, OF_PIN_COMPUTER, NULL, 1, NULL), 0);

    assert_int_equal(of_store_item_delete(f->st, d, NULL), 0);

    static const char *const gone[] = {"//s/sh/d", "//s/sh/d/e", "//s/sh/d/e/g", "//s/sh/d/f"};
    struct of_item it;
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
        if (of_store_item_get(f->st, gone[i], &it, NULL) != OF_E(NOT_FOUND))
            fail_msg("%s survived the delete of its ancestor", gone[i]);
    assert_int_equal(of_store_item_get_id(f->st, file, &it, NULL), OF_E(NOT_FOUND));
    assert_int_equal(of_store_item_get(f->st, "//s/sh/d-sibling", &it, NULL), 0);
    assert_int_equal(of_store_item_get(f->st, "//s/sh", &it, NULL), 0);

    /* No pin row outlives its item: the old ids read as unpinned. */
    struct of_item ghost;
    memset(&ghost, 0, sizeof(ghost));
    snprintf(ghost.path, sizeof(ghost.path), "//s/sh/d/e/g");
    struct of_pin_info pi;
    int64_t ids[] = {g, d};
    for (size_t i = 0; i < 2; i++) {
        ghost.id = ids[i];
        memset(&pi, 0xff, sizeof(pi));
        assert_int_equal(of_store_pin_info(f->st, &ghost, NULL, &pi, NULL), 0);
        assert_int_equal(pi.pinned, 0);
        assert_int_equal(pi.for_user, 0);
        assert_int_equal(pi.for_computer, 0);
    }
    assert_int_equal(of_store_integrity_check(f->st, NULL), 0);
}

static void
test_item_child_count_counts_only_direct_children(void **state)
{
    struct fixture *f = *state;
    add_item(f, "//s", OF_ITEM_SERVER);
    int64_t sh = add_item(f, "//s/sh", OF_ITEM_SHARE);
    int64_t d = add_item(f, "//s/sh/d", OF_ITEM_DIRECTORY);
    add_item(f, "//s/sh/d/x", OF_ITEM_FILE);
    add_item(f, "//s/sh/d/y", OF_ITEM_FILE);
    add_item(f, "//s/sh/e", OF_ITEM_FILE);
    int64_t n = -1;
    assert_int_equal(of_store_item_child_count(f->st, sh, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(of_store_item_child_count(f->st, d, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(of_store_item_child_count(f->st, id_of(f, "//s/sh/e"), &n, NULL), 0);
    assert_int_equal(n, 0);
}

static void
collect(void *ctx, const char *name)
{
    char *seen = ctx;
    size_t n = strlen(seen);
    snprintf(seen + n, 64 - n, "%s,", name);
}

static void
test_content_names_lists_every_referenced_name(void **state)
{
    struct fixture *f = *state;
    add_item(f, "//s", OF_ITEM_SERVER);
    add_item(f, "//s/sh", OF_ITEM_SHARE);
    const char *const names[] = {"aaaa", "bbbb"};
    const char *const paths[] = {"//s/sh/x", "//s/sh/y"};
    for (size_t i = 0; i < 2; i++) {
        struct of_item it;
        assert_int_equal(
            of_store_item_get_id(f->st, add_item(f, paths[i], OF_ITEM_FILE), &it, NULL), 0);
        snprintf(it.content, sizeof(it.content), "%s", names[i]);
        assert_int_equal(of_store_item_put(f->st, &it, NULL), 0);
    }
    add_item(f, "//s/sh/ghost", OF_ITEM_FILE);
    char seen[64] = "";
    assert_int_equal(of_store_content_names(f->st, collect, seen, NULL), 0);
    /* Any order; exactly the two names, no empty one for the ghost. */
    assert_true(strcmp(seen, "aaaa,bbbb,") == 0 || strcmp(seen, "bbbb,aaaa,") == 0);
}

int
main(void)
{
    of_log_set_level(OF_LOG_WARN);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_item_put_then_get_round_trips_every_field),
        T(test_item_flags_round_trip_one_at_a_time),
        T(test_item_put_of_a_duplicate_path_is_exists),
        T(test_item_get_of_unknown_path_or_id_is_not_found),
        T(test_item_delete_cascades_to_descendants_and_their_pins),
        T(test_item_child_count_counts_only_direct_children),
        T(test_content_names_lists_every_referenced_name),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
