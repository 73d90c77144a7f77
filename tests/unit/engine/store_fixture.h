/* SPDX-License-Identifier: MIT */
/*
 * The store tests' fixture, shared by every store_*_test.c: a fresh
 * database in its own temp directory per test (setup/teardown, for cmocka),
 * and helpers that add shares and items, asserting as they go.
 */
#ifndef OF_TESTS_STORE_FIXTURE_H
#define OF_TESTS_STORE_FIXTURE_H

#include <stdint.h>

#include "store.h"

struct fixture {
    char dir[64];
    char db[128];
    struct of_store *st;
    int64_t share_id; /* share "//s/sh", for items that need one */
};

int setup(void **state);
int teardown(void **state);
/* Close and open the database again, as a restart would. */
void reopen(struct fixture *f);
int file_exists(const char *path);
/* A share row for items to belong to (items reference shares). */
int64_t add_share(struct fixture *f, const char *server, const char *share);
/* Insert a bare item at path; its parent (if any) must be in the store already. */
int64_t add_item(struct fixture *f, const char *path, enum of_item_type type);
int64_t id_of(struct fixture *f, const char *path);

/* A tree whose byte order puts "a-b" before "a/b" before "ab" (the scan bounds must cope). */
#define SCAN_TREE_N 11
extern const char *const scan_tree[SCAN_TREE_N];
/* Add every item of scan_tree: servers, shares, then directories. */
void add_scan_tree(struct fixture *f);

#endif
