/* SPDX-License-Identifier: MIT */
/*
 * Tests of engine/store.c and engine/store_items.c through store.h: opening
 * in WAL mode and migrating (once), every item field round-tripping,
 * cascading deletes, pins, shares, tokens, meta values, cache usage, and
 * transactions. The scans are in store_scan_test.c. Each test gets a fresh
 * database in its own temp directory (store_fixture.c).
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

#include "log.h"
#include "store_fixture.h"

/* ---- open, WAL, migrations ---- */

static void
test_open_uses_wal_so_a_write_leaves_a_wal_file(void **state)
{
    struct fixture *f = *state;
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", f->db);
    assert_int_equal(of_store_meta_set(f->st, "k", "v", NULL), 0);
    assert_true(file_exists(f->db));
    assert_true(file_exists(wal));
}

static void
test_open_migrates_to_a_positive_schema_version(void **state)
{
    struct fixture *f = *state;
    assert_true(of_store_schema_version(f->st) >= 1);
}

static void
test_reopen_keeps_schema_version_and_data(void **state)
{
    struct fixture *f = *state;
    int version = of_store_schema_version(f->st);
    add_item(f, "//s", OF_ITEM_SERVER);
    assert_int_equal(of_store_meta_set(f->st, "cache.limit", "1234", NULL), 0);
    /* Migrations are idempotent: reopening twice neither fails nor re-runs them. */
    for (int i = 0; i < 2; i++) {
        reopen(f);
        assert_int_equal(of_store_schema_version(f->st), version);
    }
    char v[16];
    assert_int_equal(of_store_meta_get(f->st, "cache.limit", v, sizeof(v), NULL), 0);
    assert_string_equal(v, "1234");
    struct of_item it;
    assert_int_equal(of_store_item_get(f->st, "//s", &it, NULL), 0);
    assert_int_equal(it.type, OF_ITEM_SERVER);
    assert_int_equal(of_store_integrity_check(f->st, NULL), 0);
}

static void
test_open_refuses_a_schema_newer_than_ours(void **state)
{
    struct fixture *f = *state;
    int version = of_store_schema_version(f->st);
    /* Closing the last connection checkpoints the WAL into the main file. */
    of_store_free(f->st);
    f->st = NULL;
    /* The header's user_version: 4 bytes, big-endian, at offset 60. */
    int fd = open(f->db, O_RDWR);
    assert_true(fd >= 0);
    unsigned char be[4];
    assert_int_equal(pread(fd, be, 4, 60), 4);
    assert_int_equal((be[0] << 24) | (be[1] << 16) | (be[2] << 8) | be[3], version);
    unsigned v = (unsigned)version + 1;
    unsigned char next[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                             (unsigned char)(v >> 8), (unsigned char)v};
    assert_int_equal(pwrite(fd, next, 4, 60), 4);
    close(fd);
    struct of_error err = {0};
    struct of_store *st = NULL;
    assert_int_equal(of_store_open(f->db, &st, &err), OF_E(STORE));
    assert_null(st);
    assert_int_equal(err.code, OF_E(STORE));
    assert_non_null(strstr(err.detail, "newer"));
}

static void
test_open_of_an_unreachable_path_is_a_store_error(void **state)
{
    (void)state;
    struct of_store *st = NULL;
    struct of_error err = {0};
    assert_int_equal(of_store_open("/nonexistent-of-dir/sub/db", &st, &err), OF_E(STORE));
    assert_null(st);
    assert_int_equal(err.code, OF_E(STORE));
}

static void
test_integrity_check_passes_after_writes(void **state)
{
    struct fixture *f = *state;
    add_item(f, "//s", OF_ITEM_SERVER);
    add_item(f, "//s/sh", OF_ITEM_SHARE);
    add_item(f, "//s/sh/f", OF_ITEM_FILE);
    assert_int_equal(of_store_item_delete(f->st, id_of(f, "//s/sh"), NULL), 0);
    assert_int_equal(of_store_integrity_check(f->st, NULL), 0);
}

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

/* ---- transactions ---- */

static void
test_rollback_undoes_every_write_since_begin(void **state)
{
    struct fixture *f = *state;
    add_item(f, "//s", OF_ITEM_SERVER);
    assert_int_equal(of_store_begin(f->st, NULL), 0);
    add_item(f, "//s/sh", OF_ITEM_SHARE); /* also inserts the share row */
    assert_int_equal(of_store_meta_set(f->st, "k", "v", NULL), 0);
    assert_int_equal(of_store_token_add(f->st, "u", "hash", 0, NULL), 0);
    assert_int_equal(of_store_item_delete(f->st, id_of(f, "//s"), NULL), 0);
    of_store_rollback(f->st);

    struct of_item it;
    char v[8];
    int64_t n = -1;
    struct of_share_rec rec;
    assert_int_equal(of_store_item_get(f->st, "//s/sh", &it, NULL), OF_E(NOT_FOUND));
    assert_int_equal(of_store_item_get(f->st, "//s", &it, NULL), 0);
    assert_int_equal(of_store_meta_get(f->st, "k", v, sizeof(v), NULL), OF_E(NOT_FOUND));
    assert_int_equal(of_store_token_count(f->st, &n, NULL), 0);
    assert_int_equal(n, 0);
    assert_int_equal(of_store_share_get(f->st, "s", "sh", &rec, NULL), OF_E(NO_SHARE));
}

static void
test_commit_keeps_writes_across_reopen(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(of_store_begin(f->st, NULL), 0);
    add_item(f, "//s", OF_ITEM_SERVER);
    assert_int_equal(of_store_meta_set(f->st, "k", "v", NULL), 0);
    assert_int_equal(of_store_commit(f->st, NULL), 0);
    /* The lock was released: another transaction can begin and roll back. */
    assert_int_equal(of_store_begin(f->st, NULL), 0);
    assert_int_equal(of_store_meta_set(f->st, "k", "w", NULL), 0);
    of_store_rollback(f->st);
    reopen(f);
    char v[8];
    struct of_item it;
    assert_int_equal(of_store_meta_get(f->st, "k", v, sizeof(v), NULL), 0);
    assert_string_equal(v, "v");
    assert_int_equal(of_store_item_get(f->st, "//s", &it, NULL), 0);
}

int
main(void)
{
    of_log_set_level(OF_LOG_WARN);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_uses_wal_so_a_write_leaves_a_wal_file),
        T(test_open_migrates_to_a_positive_schema_version),
        T(test_reopen_keeps_schema_version_and_data),
        T(test_open_refuses_a_schema_newer_than_ours),
        T(test_open_of_an_unreachable_path_is_a_store_error),
        T(test_integrity_check_passes_after_writes),
        T(test_item_put_then_get_round_trips_every_field),
        T(test_item_flags_round_trip_one_at_a_time),
        T(test_item_put_of_a_duplicate_path_is_exists),
        T(test_item_get_of_unknown_path_or_id_is_not_found),
        T(test_item_delete_cascades_to_descendants_and_their_pins),
        T(test_item_child_count_counts_only_direct_children),
        T(test_content_names_lists_every_referenced_name),
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
        T(test_rollback_undoes_every_write_since_begin),
        T(test_commit_keeps_writes_across_reopen),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
