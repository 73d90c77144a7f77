/* SPDX-License-Identifier: MIT */
/*
 * Tests of the store's database through store.h (engine/store.c): opening
 * in WAL mode and migrating (once), refusing a schema newer than ours, the
 * integrity check, and transactions. The tables have their own tests:
 * store_items_test.c, store_meta_test.c and store_scan_test.c. Each test
 * gets a fresh database in its own temp directory (store_fixture.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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
        T(test_rollback_undoes_every_write_since_begin),
        T(test_commit_keeps_writes_across_reopen),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
