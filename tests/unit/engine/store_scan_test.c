/* SPDX-License-Identifier: MIT */
/*
 * Tests of the store's scans through store.h (engine/store_items.c): items
 * in path order under a path, at depth 1 or all, with their bounds (byte
 * order puts "a-b" between "a" and "a/b"), cursors and pages; the callback's
 * stop and error; and the scan of dirty items alone, checked against the
 * full scan filtered by of_item_dirty.
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

struct scan_out {
    char paths[1024]; /* "p1 p2 ..." */
    int calls;
    int stop_after; /* return 1 after this many calls; 0: never */
    int fail_after; /* return -99 after this many; 0: never */
};

static int
scan_cb(void *ctx, const struct of_item *it)
{
    struct scan_out *o = ctx;
    size_t n = strlen(o->paths);
    snprintf(o->paths + n, sizeof(o->paths) - n, "%s%s", n ? " " : "", it->path);
    o->calls++;
    if (o->fail_after && o->calls == o->fail_after)
        return -99;
    return o->stop_after && o->calls == o->stop_after;
}

struct scan_case {
    const char *under;
    int depth;
    const char *after;
    size_t max;
    const char *want;
    int want_more;
};

static const struct scan_case scan_cases[] = {
    /* Everything, in byte order of paths. */
    {"", 0, "", 100,
     "//s //s/sh //s/sh/a //s/sh/a-b //s/sh/a/b //s/sh/a/b/c //s/sh/a/z //s/sh/ab //s/sh/b //t "
     "//t/x",
     0},
    /* under "" at depth 1: the roots, i.e. the servers. */
    {"", 1, "", 100, "//s //t", 0},
    {"", 1, "//s", 100, "//t", 0},
    /* Children only. */
    {"//s/sh", 1, "", 100, "//s/sh/a //s/sh/a-b //s/sh/ab //s/sh/b", 0},
    {"//s/sh/a", 1, "", 100, "//s/sh/a/b //s/sh/a/z", 0},
    {"//s/sh/a/b/c", 1, "", 100, "", 0},
    /* All descendants, and nothing that merely shares the prefix "a". */
    {"//s/sh/a", 0, "", 100, "//s/sh/a/b //s/sh/a/b/c //s/sh/a/z", 0},
    {"//s/sh", 0, "", 100,
     "//s/sh/a //s/sh/a-b //s/sh/a/b //s/sh/a/b/c //s/sh/a/z //s/sh/ab //s/sh/b", 0},
    {"//s", 0, "", 100,
     "//s/sh //s/sh/a //s/sh/a-b //s/sh/a/b //s/sh/a/b/c //s/sh/a/z //s/sh/ab //s/sh/b", 0},
    {"//s/sh/ab", 0, "", 100, "", 0},
    {"//s/sh/a-b", 0, "", 100, "", 0},
    /* The after cursor: strictly greater paths only. */
    {"", 0, "//s/sh/a/z", 100, "//s/sh/ab //s/sh/b //t //t/x", 0},
    {"//s/sh", 0, "//s/sh/a-b", 100, "//s/sh/a/b //s/sh/a/b/c //s/sh/a/z //s/sh/ab //s/sh/b", 0},
    {"//s/sh", 1, "//s/sh/a-b", 100, "//s/sh/ab //s/sh/b", 0},
    {"//s/sh/a", 0, "//s/sh/a/b", 100, "//s/sh/a/b/c //s/sh/a/z", 0},
    {"//s/sh/a", 0, "//s/sh/a/z", 100, "", 0},
    {"//s/sh/a", 0, "//s/sh/0", 100, "//s/sh/a/b //s/sh/a/b/c //s/sh/a/z", 0},
    {"//s/sh", 0, "//zzz", 100, "", 0},
    /* Pages: max rows, and whether more remained. */
    {"", 0, "", 3, "//s //s/sh //s/sh/a", 1},
    {"//s/sh", 0, "", 7,
     "//s/sh/a //s/sh/a-b //s/sh/a/b //s/sh/a/b/c //s/sh/a/z //s/sh/ab //s/sh/b", 0},
    {"//s/sh", 0, "", 6, "//s/sh/a //s/sh/a-b //s/sh/a/b //s/sh/a/b/c //s/sh/a/z //s/sh/ab", 1},
    {"//s/sh", 1, "", 2, "//s/sh/a //s/sh/a-b", 1},
    {"//s/sh", 1, "//s/sh/a-b", 2, "//s/sh/ab //s/sh/b", 0},
    {"", 1, "", 1, "//s", 1},
    {"//s/sh", 0, "", 0, "", 1},
};

static void
test_scan_visits_the_right_items_in_path_order(void **state)
{
    struct fixture *f = *state;
    add_scan_tree(f);
    int failures = 0;
    for (size_t i = 0; i < sizeof(scan_cases) / sizeof(scan_cases[0]); i++) {
        const struct scan_case *c = &scan_cases[i];
        struct scan_out out = {0};
        int more = -1;
        int rc = of_store_item_scan(f->st, c->under, c->depth, c->after, c->max, scan_cb, &out,
                                    &more, NULL);
        if (rc != 0 || strcmp(out.paths, c->want) != 0 || more != c->want_more) {
            print_error("scan under '%s' depth %d after '%s' max %zu: rc %d more %d\n got: %s\n"
                        "want: %s (more %d)\n",
                        c->under, c->depth, c->after, c->max, rc, more, out.paths, c->want,
                        c->want_more);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void
test_scan_pages_with_after_cursor_visit_every_item_once(void **state)
{
    struct fixture *f = *state;
    add_scan_tree(f);
    const char *const unders[] = {"", "//s/sh", "//s/sh/a"};
    const int depths[] = {0, 1};
    for (size_t u = 0; u < 3; u++) {
        for (size_t d = 0; d < 2; d++) {
            struct scan_out whole = {0};
            assert_int_equal(of_store_item_scan(f->st, unders[u], depths[d], "", 1000, scan_cb,
                                                &whole, NULL, NULL),
                             0);
            for (size_t max = 1; max <= 4; max++) {
                struct scan_out paged = {0};
                char after[OF_PATH_MAX + 1] = "";
                int more = 1, pages = 0;
                while (more) {
                    struct scan_out page = {0};
                    assert_int_equal(of_store_item_scan(f->st, unders[u], depths[d], after, max,
                                                        scan_cb, &page, &more, NULL),
                                     0);
                    assert_true((size_t)page.calls <= max);
                    assert_true(++pages <= 20);
                    if (!page.calls)
                        break;
                    size_t n = strlen(paged.paths);
                    snprintf(paged.paths + n, sizeof(paged.paths) - n, "%s%s", n ? " " : "",
                             page.paths);
                    const char *last = strrchr(page.paths, ' ');
                    snprintf(after, sizeof(after), "%s", last ? last + 1 : page.paths);
                }
                if (strcmp(paged.paths, whole.paths) != 0)
                    fail_msg("under '%s' depth %d max %zu:\n paged: %s\n whole: %s", unders[u],
                             depths[d], max, paged.paths, whole.paths);
            }
        }
    }
}

/* Scan for dirty items as of_store_item_scan would, filtered by of_item_dirty. */
static int
dirty_only_cb(void *ctx, const struct of_item *it)
{
    return of_item_dirty(it) ? scan_cb(ctx, it) : 0;
}

static void
test_dirty_scan_visits_exactly_the_dirty_items(void **state)
{
    struct fixture *f = *state;
    add_scan_tree(f);
    /* One item per kind of offline change; the rest stay clean. */
    const char *const dirty[] = {"//s/sh/a-b", "//s/sh/a/b/c", "//s/sh/a/z", "//s/sh/b", "//t/x"};
    for (size_t i = 0; i < 5; i++) {
        struct of_item it;
        assert_int_equal(of_store_item_get(f->st, dirty[i], &it, NULL), 0);
        int *flag[] = {&it.created_offline, &it.deleted_offline, &it.mod_data, &it.mod_attrs,
                       &it.mod_time};
        *flag[i] = 1;
        assert_int_equal(of_store_item_put(f->st, &it, NULL), 0);
    }
    struct scan_out all = {0};
    assert_int_equal(of_store_dirty_scan(f->st, "", "", 100, scan_cb, &all, NULL, NULL), 0);
    assert_string_equal(all.paths, "//s/sh/a-b //s/sh/a/b/c //s/sh/a/z //s/sh/b //t/x");
    /* Under every path, after every cursor, in pages of every size: the filtered full scan. */
    for (size_t u = 0; u < sizeof(scan_tree) / sizeof(scan_tree[0]) + 1; u++) {
        const char *under = u ? scan_tree[u - 1] : "";
        for (size_t a = 0; a < sizeof(scan_tree) / sizeof(scan_tree[0]) + 1; a++) {
            const char *after = a ? scan_tree[a - 1] : "";
            struct scan_out want = {0}, got = {0};
            assert_int_equal(
                of_store_item_scan(f->st, under, 0, after, 1000, dirty_only_cb, &want, NULL, NULL),
                0);
            int more = -1;
            assert_int_equal(
                of_store_dirty_scan(f->st, under, after, 1000, scan_cb, &got, &more, NULL), 0);
            if (strcmp(got.paths, want.paths) != 0 || more != 0)
                fail_msg("under '%s' after '%s': got '%s' (more %d), want '%s'", under, after,
                         got.paths, more, want.paths);
            if (!want.calls)
                continue;
            struct scan_out first = {0};
            assert_int_equal(
                of_store_dirty_scan(f->st, under, after, 1, scan_cb, &first, &more, NULL), 0);
            assert_int_equal(first.calls, 1);
            assert_int_equal(more, want.calls > 1);
        }
    }
    /* Clean again, an item leaves the dirty scan. */
    struct of_item it;
    assert_int_equal(of_store_item_get(f->st, "//t/x", &it, NULL), 0);
    it.mod_time = 0;
    assert_int_equal(of_store_item_put(f->st, &it, NULL), 0);
    struct scan_out t = {0};
    assert_int_equal(of_store_dirty_scan(f->st, "//t", "", 100, scan_cb, &t, NULL, NULL), 0);
    assert_string_equal(t.paths, "");
}

static void
test_scan_with_an_unbounded_max_visits_everything(void **state)
{
    struct fixture *f = *state;
    add_scan_tree(f);
    /* Callers that want every row pass a huge max (dirs.c passes SIZE_MAX / 2). */
    const size_t maxes[] = {SIZE_MAX / 2, SIZE_MAX};
    for (size_t i = 0; i < 2; i++) {
        struct scan_out out = {0};
        int more = -1;
        assert_int_equal(
            of_store_item_scan(f->st, "//s/sh", 1, "", maxes[i], scan_cb, &out, &more, NULL), 0);
        if (strcmp(out.paths, "//s/sh/a //s/sh/a-b //s/sh/ab //s/sh/b") != 0 || more != 0)
            fail_msg("max %zu: got '%s' more %d", maxes[i], out.paths, more);
    }
}

static void
test_scan_stops_when_the_callback_says_so(void **state)
{
    struct fixture *f = *state;
    add_scan_tree(f);
    struct scan_out out = {.stop_after = 2};
    assert_int_equal(of_store_item_scan(f->st, "", 0, "", 100, scan_cb, &out, NULL, NULL), 0);
    assert_int_equal(out.calls, 2);
    assert_string_equal(out.paths, "//s //s/sh");
}

static void
test_scan_returns_the_callbacks_error(void **state)
{
    struct fixture *f = *state;
    add_scan_tree(f);
    struct scan_out out = {.fail_after = 3};
    int more = 7;
    assert_int_equal(of_store_item_scan(f->st, "//s/sh", 0, "", 100, scan_cb, &out, &more, NULL),
                     -99);
    assert_int_equal(out.calls, 3);
    assert_int_equal(more, 7); /* out-parameters are written only on success */
    /* The store is still usable: the statement was reset and the lock released. */
    struct scan_out again = {0};
    assert_int_equal(of_store_item_scan(f->st, "//s/sh/a", 1, "", 100, scan_cb, &again, NULL, NULL),
                     0);
    assert_string_equal(again.paths, "//s/sh/a/b //s/sh/a/z");
}

static void
test_scan_of_children_under_unknown_path_is_not_found(void **state)
{
    struct fixture *f = *state;
    add_scan_tree(f);
    struct scan_out out = {0};
    assert_int_equal(
        of_store_item_scan(f->st, "//s/sh/nope", 1, "", 100, scan_cb, &out, NULL, NULL),
        OF_E(NOT_FOUND));
    assert_int_equal(out.calls, 0);
}

int
main(void)
{
    of_log_set_level(OF_LOG_WARN);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_scan_visits_the_right_items_in_path_order),
        T(test_scan_pages_with_after_cursor_visit_every_item_once),
        T(test_dirty_scan_visits_exactly_the_dirty_items),
        T(test_scan_stops_when_the_callback_says_so),
        T(test_scan_returns_the_callbacks_error),
        T(test_scan_of_children_under_unknown_path_is_not_found),
        /* Last: under UBSan it stops the run (see the test). */
        T(test_scan_with_an_unbounded_max_visits_everything),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
