/* SPDX-License-Identifier: MIT */
/* The store tests' fixture: see store_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_fixture.h"
#include "test_util.h"

int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/of-store-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/store.db", f->dir);
    struct of_error err = {0};
    assert_int_equal(of_store_open(f->db, &f->st, &err), 0);
    *state = f;
    return 0;
}

int
teardown(void **state)
{
    struct fixture *f = *state;
    of_store_free(f->st);
    ut_rm_rf(f->dir);
    free(f);
    return 0;
}

void
reopen(struct fixture *f)
{
    of_store_free(f->st);
    f->st = NULL;
    assert_int_equal(of_store_open(f->db, &f->st, NULL), 0);
}

int
file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* A share row for items to belong to (items reference shares). */
int64_t
add_share(struct fixture *f, const char *server, const char *share)
{
    struct of_share_rec rec = {0};
    snprintf(rec.server, sizeof(rec.server), "%s", server);
    snprintf(rec.share, sizeof(rec.share), "%s", share);
    snprintf(rec.remote, sizeof(rec.remote), "file:///tmp/%s-%s", server, share);
    rec.created_ns = 1;
    assert_int_equal(of_store_share_put(f->st, &rec, NULL), 0);
    assert_true(rec.id > 0);
    return rec.id;
}

/* Insert a bare item at path; its parent (if any) must be in the store already. */
int64_t
add_item(struct fixture *f, const char *path, enum of_item_type type)
{
    struct of_item it, parent;
    memset(&it, 0, sizeof(it));
    snprintf(it.path, sizeof(it.path), "%s", path);
    it.type = type;
    if (type != OF_ITEM_SERVER) {
        char up[OF_PATH_MAX + 1];
        snprintf(up, sizeof(up), "%s", path);
        *strrchr(up, '/') = '\0';
        assert_int_equal(of_store_item_get(f->st, up, &parent, NULL), 0);
        it.parent_id = parent.id;
        if (!f->share_id)
            f->share_id = add_share(f, "s", "sh");
        it.share_id = f->share_id;
    }
    assert_int_equal(of_store_item_put(f->st, &it, NULL), 0);
    assert_true(it.id > 0);
    return it.id;
}

int64_t
id_of(struct fixture *f, const char *path)
{
    struct of_item it;
    assert_int_equal(of_store_item_get(f->st, path, &it, NULL), 0);
    return it.id;
}

/* Byte order puts "a-b" before "a/b" before "ab": the scan bounds must cope. */
const char *const scan_tree[SCAN_TREE_N] = {
    "//s",        "//s/sh",    "//s/sh/a", "//s/sh/a-b", "//s/sh/a/b", "//s/sh/a/b/c",
    "//s/sh/a/z", "//s/sh/ab", "//s/sh/b", "//t",        "//t/x",
};

void
add_scan_tree(struct fixture *f)
{
    for (size_t i = 0; i < sizeof(scan_tree) / sizeof(scan_tree[0]); i++) {
        const char *p = scan_tree[i];
        int slashes = 0;
        for (const char *c = p + 2; *c; c++)
            slashes += *c == '/';
        enum of_item_type type = slashes == 0   ? OF_ITEM_SERVER
                                 : slashes == 1 ? OF_ITEM_SHARE
                                                : OF_ITEM_DIRECTORY;
        add_item(f, p, type);
    }
}
