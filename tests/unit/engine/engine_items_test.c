/* SPDX-License-Identifier: MIT */
/*
 * Tests of item queries through engine.h (engine/items.c): every filter, the
 * offline flag, cursor pages (also across more rows than one store batch),
 * unknown roots and files, and the pinned flags for the user, the computer
 * and other users, over one tree of cached, ghost and offline-changed items.
 * Over engine_fixture.c: a temp data directory and the fs share //srv/docs
 * on a temp directory.
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

#include "engine_fixture.h"
#include "log.h"

#define SEC(s) ((int64_t)(s)*1000000000LL)
#define BIT(flag) (1ull << (flag))

/* ---- the share's directory, seen directly ---- */

static void
mkdir_host(const struct fixture *f, const char *rel)
{
    char p[PATH_MAX];
    host(f, rel, p, sizeof(p));
    assert_int_equal(mkdir(p, 0755), 0);
}

static void
mtime_host(const struct fixture *f, const char *rel, int64_t sec)
{
    char p[PATH_MAX];
    host(f, rel, p, sizeof(p));
    struct timespec ts[2] = {{.tv_sec = sec}, {.tv_sec = sec}};
    assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

/* ---- item queries ---- */

struct collected {
    char paths[2048]; /* names below //srv/docs/ relative to it, others in full */
    size_t n;
};

static int
collect(void *ctx, const struct of_item_view *v)
{
    struct collected *c = ctx;
    const char *p = v->item.path;
    if (strncmp(p, "//srv/docs/", 11) == 0)
        p += 11;
    size_t len = strlen(c->paths);
    snprintf(c->paths + len, sizeof(c->paths) - len, "%s%s", len ? " " : "", p);
    c->n++;
    return 0;
}

/*
 * The tree every query test works on:
 *   a.txt      cached, then modified offline (mtime: now)
 *   b.log      ghost, mtime 2000 s
 *   sub/       directory, mtime 6000 s
 *   sub/c.txt  ghost, 3000 s
 *   sub/d.md   ghost, 4000 s
 *   sub/new.txt created offline (now)
 *   tmp/       directory, 7000 s
 *   tmp/e.txt  ghost, 5000 s
 * and the share is back online.
 */
static void
build_query_tree(struct fixture *f)
{
    put_host(f, "a.txt", "abc");
    put_host(f, "b.log", "abc");
    mkdir_host(f, "sub");
    put_host(f, "sub/c.txt", "abc");
    put_host(f, "sub/d.md", "abc");
    mkdir_host(f, "tmp");
    put_host(f, "tmp/e.txt", "abc");
    static const struct {
        const char *rel;
        int64_t sec;
    } times[] = {{"a.txt", 1000},     {"b.log", 2000}, {"sub/c.txt", 3000}, {"sub/d.md", 4000},
                 {"tmp/e.txt", 5000}, {"sub", 6000},   {"tmp", 7000}};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        mtime_host(f, times[i].rel, times[i].sec);
    const char *const dirs[] = {"//srv/docs", "//srv/docs/sub", "//srv/docs/tmp"};
    for (size_t i = 0; i < 3; i++) {
        struct of_dir_entry *ents = NULL;
        size_t n = 0;
        int offline = 1;
        assert_int_equal(of_engine_dir_list(f->eng, dirs[i], USER, &ents, &n, &offline, NULL), 0);
        assert_int_equal(offline, 0);
        free(ents);
    }
    assert_reads(f, "//srv/docs/a.txt", "abc");
    set_online(f, 0);
    assert_int_equal(write_path(f, "//srv/docs/a.txt", "hello world", NULL), 0);
    assert_int_equal(write_path(f, "//srv/docs/sub/new.txt", "abc", NULL), 0);
    set_online(f, 1);
}

struct query_case {
    const char *what;
    struct of_item_query q;
    const char *want;
};

#define ALL "a.txt b.log sub sub/c.txt sub/d.md sub/new.txt tmp tmp/e.txt"
#define Q(...)                                                                                     \
    {                                                                                              \
        .under = "//srv/docs", .user = USER, .limit = 1000, __VA_ARGS__                            \
    }

static const struct query_case query_cases[] = {
    {"no filter", Q(.depth = 0), ALL},
    {"children only", Q(.depth = 1), "a.txt b.log sub tmp"},
    {"roots", {.under = "", .depth = 1, .user = USER, .limit = 1000}, "//srv"},
    {"servers and shares",
     {.under = "",
      .user = USER,
      .limit = 1000,
      .types = (1u << OF_ITEM_SERVER) | (1u << OF_ITEM_SHARE)},
     "//srv //srv/docs"},
    {"files", Q(.types = 1u << OF_ITEM_FILE),
     "a.txt b.log sub/c.txt sub/d.md sub/new.txt tmp/e.txt"},
    {"directories", Q(.types = 1u << OF_ITEM_DIRECTORY), "sub tmp"},
    {"modified data", Q(.flags = BIT(OF_FLAG_MODIFIED_DATA), .mask = BIT(OF_FLAG_MODIFIED_DATA)),
     "a.txt"},
    {"modified", Q(.flags = BIT(OF_FLAG_MODIFIED), .mask = BIT(OF_FLAG_MODIFIED)), "a.txt"},
    {"created offline", Q(.flags = BIT(OF_FLAG_CREATED), .mask = BIT(OF_FLAG_CREATED)),
     "sub/new.txt"},
    {"dirty", Q(.flags = BIT(OF_FLAG_DIRTY), .mask = BIT(OF_FLAG_DIRTY)), "a.txt sub/new.txt"},
    {"clean files", Q(.flags = 0, .mask = BIT(OF_FLAG_DIRTY) | BIT(OF_FLAG_DIRECTORY)),
     "b.log sub/c.txt sub/d.md tmp/e.txt"},
    {"ghosts", Q(.flags = BIT(OF_FLAG_GHOST), .mask = BIT(OF_FLAG_GHOST)),
     "b.log sub/c.txt sub/d.md tmp/e.txt"},
    {"files with content",
     Q(.flags = BIT(OF_FLAG_FILE), .mask = BIT(OF_FLAG_FILE) | BIT(OF_FLAG_GHOST)),
     "a.txt sub/new.txt"},
    {"directory flag", Q(.flags = BIT(OF_FLAG_DIRECTORY), .mask = BIT(OF_FLAG_DIRECTORY)),
     "sub tmp"},
    {"online", Q(.flags = BIT(OF_FLAG_ONLINE), .mask = BIT(OF_FLAG_ONLINE) | BIT(OF_FLAG_OFFLINE)),
     ALL},
    {"offline while online", Q(.flags = BIT(OF_FLAG_OFFLINE), .mask = BIT(OF_FLAG_OFFLINE)), ""},
    {"deleted none", Q(.flags = BIT(OF_FLAG_DELETED), .mask = BIT(OF_FLAG_DELETED)), ""},
    {"include *.txt", Q(.include_files = {"*.txt"}, .n_include_files = 1),
     "a.txt sub sub/c.txt sub/new.txt tmp tmp/e.txt"},
    {"include ?.txt", Q(.include_files = {"?.txt"}, .n_include_files = 1),
     "a.txt sub sub/c.txt tmp tmp/e.txt"},
    {"include two patterns", Q(.include_files = {"*.md", "*.log"}, .n_include_files = 2),
     "b.log sub sub/d.md tmp"},
    {"exclude *.txt", Q(.exclude_files = {"*.txt"}, .n_exclude_files = 1),
     "b.log sub sub/d.md tmp"},
    {"include and exclude",
     Q(.include_files = {"*.txt"}, .n_include_files = 1, .exclude_files = {"n*"},
       .n_exclude_files = 1),
     "a.txt sub sub/c.txt tmp tmp/e.txt"},
    {"include dirs", Q(.depth = 1, .include_dirs = {"s*"}, .n_include_dirs = 1), "a.txt b.log sub"},
    {"exclude dirs", Q(.depth = 1, .exclude_dirs = {"tmp"}, .n_exclude_dirs = 1),
     "a.txt b.log sub"},
    {"modified window", Q(.modified_after_ns = SEC(1500), .modified_before_ns = SEC(4500)),
     "b.log sub/c.txt sub/d.md"},
    {"modified before", Q(.modified_before_ns = SEC(2500)), "b.log"},
    {"modified after", Q(.types = 1u << OF_ITEM_FILE, .modified_after_ns = SEC(4500)),
     "a.txt sub/new.txt tmp/e.txt"},
    {"modified after, directories",
     Q(.types = 1u << OF_ITEM_DIRECTORY, .modified_after_ns = SEC(6500)), "tmp"},
    {"everything at once",
     Q(.types = 1u << OF_ITEM_FILE, .include_files = {"*.txt"}, .n_include_files = 1, .flags = 0,
       .mask = BIT(OF_FLAG_GHOST), .modified_after_ns = SEC(1)),
     "a.txt sub/new.txt"},
};

static void
test_query_applies_every_filter(void **state)
{
    struct fixture *f = *state;
    build_query_tree(f);
    int failures = 0;
    for (size_t i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
        const struct query_case *c = &query_cases[i];
        struct collected got = {0};
        char next[OF_PATH_MAX + 1] = "untouched";
        struct of_item_query q = c->q;
        q.cursor = "";
        struct of_error err = {0};
        int rc = of_engine_items_query(f->eng, &q, collect, &got, next, &err);
        if (rc != 0 || strcmp(got.paths, c->want) != 0 || next[0]) {
            print_error("%s: rc %d (%s) next '%s'\n got: %s\nwant: %s\n", c->what, rc, err.detail,
                        next, got.paths, c->want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void
test_query_offline_flag_follows_the_share_state(void **state)
{
    struct fixture *f = *state;
    build_query_tree(f);
    set_online(f, 0);
    struct of_item_query q = Q(.depth = 1, .flags = BIT(OF_FLAG_OFFLINE),
                               .mask = BIT(OF_FLAG_OFFLINE) | BIT(OF_FLAG_ONLINE), .cursor = "");
    struct collected got = {0};
    char next[OF_PATH_MAX + 1];
    assert_int_equal(of_engine_items_query(f->eng, &q, collect, &got, next, NULL), 0);
    assert_string_equal(got.paths, "a.txt b.log sub tmp");
    q.flags = BIT(OF_FLAG_ONLINE);
    memset(&got, 0, sizeof(got));
    assert_int_equal(of_engine_items_query(f->eng, &q, collect, &got, next, NULL), 0);
    assert_string_equal(got.paths, "");
}

/* Page through q; every page at most q->limit items. Returns the pages' items joined. */
static size_t
query_all_pages(struct fixture *f, struct of_item_query q, struct collected *out)
{
    char cursor[OF_PATH_MAX + 1] = "", next[OF_PATH_MAX + 1];
    size_t pages = 0;
    memset(out, 0, sizeof(*out));
    do {
        struct collected page = {0};
        q.cursor = cursor;
        assert_int_equal(of_engine_items_query(f->eng, &q, collect, &page, next, NULL), 0);
        assert_true(page.n <= q.limit);
        assert_true(++pages < 10000);
        out->n += page.n;
        size_t len = strlen(out->paths);
        if (page.n && len + strlen(page.paths) + 2 < sizeof(out->paths))
            snprintf(out->paths + len, sizeof(out->paths) - len, "%s%s", len ? " " : "",
                     page.paths);
        memcpy(cursor, next, sizeof(cursor));
    } while (cursor[0]);
    return pages;
}

static const struct of_item_query page_queries[] = {
    {.under = "", .depth = 0, .user = USER},
    Q(.depth = 0),
    Q(.depth = 1),
    Q(.types = 1u << OF_ITEM_FILE),
    Q(.flags = BIT(OF_FLAG_GHOST), .mask = BIT(OF_FLAG_GHOST)),
    Q(.include_files = {"*.txt"}, .n_include_files = 1),
};

static void
test_query_pages_by_cursor_give_every_item_exactly_once(void **state)
{
    struct fixture *f = *state;
    build_query_tree(f);
    for (size_t i = 0; i < sizeof(page_queries) / sizeof(page_queries[0]); i++) {
        struct of_item_query q = page_queries[i];
        struct collected whole = {0};
        char next[OF_PATH_MAX + 1];
        q.cursor = "";
        q.limit = OF_QUERY_LIMIT_MAX;
        assert_int_equal(of_engine_items_query(f->eng, &q, collect, &whole, next, NULL), 0);
        assert_string_equal(next, "");
        assert_true(whole.n > 0);
        for (size_t limit = 1; limit <= whole.n + 1; limit++) {
            struct collected paged;
            q.limit = limit;
            size_t pages = query_all_pages(f, q, &paged);
            assert_true(pages <= whole.n + 2);
            if (strcmp(paged.paths, whole.paths) != 0)
                fail_msg("query %zu limit %zu:\npaged: %s\nwhole: %s", i, limit, paged.paths,
                         whole.paths);
        }
    }
}

static int
count_big(void *ctx, const struct of_item_view *v)
{
    int *seen = ctx;
    const char *name = strrchr(v->item.path, '/') + 1;
    int64_t i = strtoll(name + 1, NULL, 10);
    assert_true(i >= 0 && i < 1200);
    seen[i]++;
    return 0;
}

static void
test_query_pages_span_more_rows_than_one_store_batch(void **state)
{
    struct fixture *f = *state;
    mkdir_host(f, "big");
    for (int i = 0; i < 1200; i++) {
        char rel[32];
        snprintf(rel, sizeof(rel), "big/f%04d", i);
        put_host(f, rel, "x");
    }
    struct of_dir_entry *ents = NULL;
    size_t n = 0;
    int offline = 1;
    assert_int_equal(of_engine_dir_list(f->eng, "//srv/docs/big", USER, &ents, &n, &offline, NULL),
                     0);
    assert_int_equal(n, 1200);
    free(ents);

    /* Every item exactly once, page after page, with and without a sparse filter. */
    int seen[1200] = {0};
    struct of_item_query q = {.under = "//srv/docs/big", .depth = 1, .user = USER, .limit = 1000};
    char cursor[OF_PATH_MAX + 1] = "", next[OF_PATH_MAX + 1];
    size_t pages = 0;
    do {
        q.cursor = cursor;
        assert_int_equal(of_engine_items_query(f->eng, &q, count_big, seen, next, NULL), 0);
        assert_true(++pages <= 3);
        memcpy(cursor, next, sizeof(cursor));
    } while (cursor[0]);
    for (int i = 0; i < 1200; i++)
        if (seen[i] != 1)
            fail_msg("f%04d seen %d times", i, seen[i]);

    struct collected got;
    q = (struct of_item_query){.under = "//srv/docs/big",
                               .depth = 1,
                               .user = USER,
                               .limit = 7,
                               .include_files = {"*7"},
                               .n_include_files = 1};
    pages = query_all_pages(f, q, &got);
    assert_int_equal(got.n, 120);
    assert_true(pages >= 18);
    assert_int_equal(strncmp(got.paths, "big/f0007 big/f0017 big/f0027", 29), 0);
}

static void
test_query_under_unknown_path_or_a_file_fails(void **state)
{
    struct fixture *f = *state;
    build_query_tree(f);
    struct collected got = {0};
    char next[OF_PATH_MAX + 1];
    struct of_item_query q = {.under = "//srv/docs/nope", .user = USER, .limit = 10, .cursor = ""};
    assert_int_equal(of_engine_items_query(f->eng, &q, collect, &got, next, NULL), OF_E(NOT_FOUND));
    q.under = "//srv/docs/b.log";
    q.depth = 1;
    assert_int_equal(of_engine_items_query(f->eng, &q, collect, &got, next, NULL), OF_E(NOT_A_DIR));
    assert_int_equal(got.n, 0);
}

static void
pin_query_tree(struct fixture *f)
{
    build_query_tree(f);
    pin(f, "//srv/docs/b.log", OF_PIN_USER, "bob");
    pin(f, "//srv/docs/sub/c.txt", OF_PIN_USER, USER);
    pin(f, "//srv/docs/sub/d.md", OF_PIN_COMPUTER, NULL);
}

static const char *
query_flag(struct fixture *f, enum of_item_flag flag)
{
    static struct collected got;
    memset(&got, 0, sizeof(got));
    char next[OF_PATH_MAX + 1];
    struct of_item_query q = Q(.flags = BIT(flag), .mask = BIT(flag), .cursor = "");
    assert_int_equal(of_engine_items_query(f->eng, &q, collect, &got, next, NULL), 0);
    return got.paths;
}

static void
test_query_pinned_flags_follow_the_pins_of_user_and_computer(void **state)
{
    struct fixture *f = *state;
    pin_query_tree(f);
    assert_string_equal(query_flag(f, OF_FLAG_PINNED_USER), "sub/c.txt");
    assert_string_equal(query_flag(f, OF_FLAG_PINNED_COMPUTER), "sub/d.md");
    assert_string_equal(query_flag(f, OF_FLAG_PINNED), "b.log sub/c.txt sub/d.md");
    struct of_item_view v;
    assert_int_equal(of_engine_item_get(f->eng, "//srv/docs/sub", USER, &v, NULL), 0);
    assert_int_equal(v.pin.partly, 1);
    assert_int_equal(v.pin.pinned, 0);
}

static void
test_query_pinned_for_others_matches_items_pinned_by_another_user(void **state)
{
    struct fixture *f = *state;
    pin_query_tree(f);
    assert_string_equal(query_flag(f, OF_FLAG_PINNED_OTHERS), "b.log");
}

int
main(void)
{
    of_log_set_level(OF_LOG_ERROR);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_query_applies_every_filter),
        T(test_query_offline_flag_follows_the_share_state),
        T(test_query_pages_by_cursor_give_every_item_exactly_once),
        T(test_query_pages_span_more_rows_than_one_store_batch),
        T(test_query_under_unknown_path_or_a_file_fails),
        T(test_query_pinned_flags_follow_the_pins_of_user_and_computer),
        T(test_query_pinned_for_others_matches_items_pinned_by_another_user),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
