/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache eviction through engine.h (engine/evict.c): eviction order
 * by last access under the unpinned and the total limit, and when the limits
 * are lowered; pinned and dirty content that is never evicted, and the
 * cache-full refusals once it alone fills the cache; syncs that fill pinned
 * ghosts within the total limit; and the accounting of used and unpinnedUsed
 * as content is pinned and unpinned. Pin inheritance is in
 * evict_pins_test.c. Over evict_fixture.c: a temp data directory and an fs
 * share //srv/docs on a temp directory, in auto or manual caching mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "evict_fixture.h"
#include "log.h"

#define BIG ((int64_t)1 << 40)

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void
limits(struct fixture *f, int64_t limit, int64_t unpinned)
{
    struct of_cache_patch p = {
        .has_limit = 1, .limit = limit, .has_unpinned_limit = 1, .unpinned_limit = unpinned};
    struct of_cache_info ci;
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    assert_int_equal(ci.limit, limit);
}

struct item_results {
    char paths[16][OF_PATH_MAX + 1];
    int codes[16];
    int n;
};

static int
add_result(void *ctx, const struct of_job_item *it)
{
    struct item_results *r = ctx;
    if (r->n < 16) {
        snprintf(r->paths[r->n], sizeof(r->paths[r->n]), "%s", it->path);
        r->codes[r->n++] = it->result;
    }
    return 0;
}

/* The result code a job recorded for path; fails when it recorded none. */
static int
job_item_code(struct fixture *f, int64_t id, const char *path)
{
    struct item_results r = {0};
    assert_int_equal(of_engine_job_items(f->eng, id, 0, 16, add_result, &r, NULL), 0);
    for (int i = 0; i < r.n; i++)
        if (strcmp(r.paths[i], path) == 0)
            return r.codes[i];
    fail_msg("job %lld has no result for %s", (long long)id, path);
    return 1;
}

static void
assert_job_item_ok(struct fixture *f, int64_t id, const char *path)
{
    int rc = job_item_code(f, id, path);
    if (rc != 0)
        fail_msg("job %lld: %s failed with %s", (long long)id, path, of_error_code_str(rc));
}

/* Write size bytes of c to rel through the engine (offline: a dirty change). */
static int
write_bytes(struct fixture *f, const char *rel, size_t size, char c)
{
    char path[256], buf[4096];
    path_of(rel, path, sizeof(path));
    memset(buf, c, sizeof(buf));
    struct of_content_tmp *up = NULL;
    assert_int_equal(of_engine_upload_new(f->eng, &up, NULL), 0);
    for (size_t done = 0; done < size;) {
        size_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);
        assert_int_equal(of_content_tmp_write(up, buf, n, NULL), 0);
        done += n;
    }
    struct of_write_result res;
    struct of_error err = {0};
    int rc = of_engine_file_write(f->eng, path, USER, up, NULL, NULL, &res, &err);
    of_content_tmp_free(up);
    return rc;
}

/* ---- eviction order ---- */

static void
test_unpinned_limit_evicts_the_least_recently_read_file_first(void **state)
{
    struct fixture *f = *state;
    limits(f, BIG, 300);
    const char *names[] = {"a.txt", "b.txt", "c.txt", "d.txt", "e.txt"};
    for (int i = 0; i < 5; i++)
        put_host(f, names[i], 100, (char)('a' + i));
    read_ok(f, "a.txt");
    read_ok(f, "b.txt");
    read_ok(f, "c.txt");
    assert_usage(f, 300, 300);
    /* Access times are kept to the second: a read more than 1 s later counts. */
    sleep_ms(1100);
    int from_cache = 0;
    assert_int_equal(read_as(f, "a.txt", USER, &from_cache), 0);
    assert_int_equal(from_cache, 1);
    /* d does not fit: b is now the least recently read. */
    read_ok(f, "d.txt");
    assert_ghost(f, "b.txt");
    assert_cached(f, "a.txt", 100);
    assert_cached(f, "c.txt", 100);
    assert_cached(f, "d.txt", 100);
    assert_usage(f, 300, 300);
    read_ok(f, "e.txt");
    assert_ghost(f, "c.txt");
    assert_cached(f, "a.txt", 100);
    assert_cached(f, "d.txt", 100);
    assert_cached(f, "e.txt", 100);
    assert_usage(f, 300, 300);
    /* An evicted file is read again from the server and is cached again. */
    assert_int_equal(read_as(f, "b.txt", USER, &from_cache), 0);
    assert_int_equal(from_cache, 0);
    assert_cached(f, "b.txt", 100);
    assert_ghost(f, "a.txt");
    assert_usage(f, 300, 300);
}

static void
test_total_limit_evicts_unpinned_content_and_keeps_pinned_content(void **state)
{
    struct fixture *f = *state;
    put_host(f, "p.bin", 200, 'p');
    put_host(f, "a.txt", 100, 'a');
    put_host(f, "b.txt", 100, 'b');
    put_host(f, "c.txt", 100, 'c');
    pin_ok(f, "p.bin", 0);
    assert_usage(f, 200, 0);
    limits(f, 400, 400);
    read_ok(f, "a.txt");
    read_ok(f, "b.txt");
    assert_usage(f, 400, 200);
    /* c passes the total limit (not the unpinned one): the oldest unpinned file goes. */
    read_ok(f, "c.txt");
    assert_ghost(f, "a.txt");
    assert_cached(f, "b.txt", 100);
    assert_cached(f, "c.txt", 100);
    assert_cached(f, "p.bin", 200);
    assert_true(view(f, "p.bin").pin.pinned);
    assert_usage(f, 400, 200);
}

static void
test_lowering_the_limits_evicts_at_once_oldest_first(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%d.txt", i);
        put_host(f, name, 100, (char)('0' + i));
        read_ok(f, name);
    }
    assert_usage(f, 400, 400);
    limits(f, BIG, 250);
    assert_ghost(f, "f0.txt");
    assert_ghost(f, "f1.txt");
    assert_cached(f, "f2.txt", 100);
    assert_cached(f, "f3.txt", 100);
    assert_usage(f, 200, 200);
    limits(f, 100, 100);
    assert_ghost(f, "f2.txt");
    assert_cached(f, "f3.txt", 100);
    assert_usage(f, 100, 100);
}

/* ---- pinned and dirty content ---- */

static void
test_pinned_and_dirty_content_is_never_evicted(void **state)
{
    struct fixture *f = *state;
    put_host(f, "p.bin", 200, 'p');
    put_host(f, "a.txt", 100, 'a');
    put_host(f, "w.txt", 100, 'w');
    pin_ok(f, "p.bin", 0);
    read_ok(f, "w.txt");
    read_ok(f, "a.txt");
    /* Offline from here on: going online would sync the dirty files and make them clean. */
    set_online(f, 0);
    assert_int_equal(write_bytes(f, "w.txt", 150, 'W'), 0);
    assert_int_equal(write_bytes(f, "new.txt", 50, 'n'), 0);
    struct of_item_view v = view(f, "w.txt");
    assert_true(of_item_dirty(&v.item));
    v = view(f, "new.txt");
    assert_true(of_item_dirty(&v.item));
    assert_int_equal(cache(f).used, 500);
    /* Room for the pinned and dirty bytes only: the clean unpinned file goes, nothing else. */
    limits(f, 400, 400);
    assert_ghost(f, "a.txt");
    assert_cached(f, "p.bin", 200);
    assert_cached(f, "w.txt", 150);
    assert_cached(f, "new.txt", 50);
    assert_int_equal(cache(f).used, 400);
    /* Limits below what they hold evict nothing more, and lose nothing. */
    limits(f, 10, 0);
    assert_cached(f, "p.bin", 200);
    assert_cached(f, "w.txt", 150);
    assert_cached(f, "new.txt", 50);
    assert_int_equal(cache(f).used, 400);
    int from_cache = 0;
    assert_int_equal(read_as(f, "p.bin", USER, &from_cache), 0);
    assert_int_equal(read_as(f, "w.txt", USER, &from_cache), 0);
    assert_int_equal(read_as(f, "new.txt", USER, &from_cache), 0);
    assert_int_equal(from_cache, 1);
}

static void
test_a_full_cache_refuses_new_content_but_online_reads_still_work(void **state)
{
    struct fixture *f = *state;
    put_host(f, "p.bin", 300, 'p');
    put_host(f, "q.bin", 100, 'q');
    put_host(f, "a.txt", 100, 'a');
    pin_ok(f, "p.bin", 0);
    limits(f, 300, 300);
    /* An online read is served, but nothing is kept. */
    read_ok(f, "a.txt");
    assert_ghost(f, "a.txt");
    assert_usage(f, 300, 0);
    /* An offline write that would pass the limit is refused, and nothing is stored. */
    set_online(f, 0);
    assert_int_equal(write_bytes(f, "x.txt", 50, 'x'), OF_E(CACHE_FULL));
    struct of_item_view v;
    assert_int_equal(of_engine_item_get(f->eng, "//srv/docs/x.txt", USER, &v, NULL),
                     OF_E(NOT_FOUND));
    assert_usage(f, 300, 0);
    set_online(f, 1);
    /* A pin whose content does not fit: the job and the item say cache-full. */
    int64_t id = 0;
    assert_int_equal(pin_full(f, "q.bin", 0, OF_PIN_USER, USER, 1, 0, &id), OF_E(CACHE_FULL));
    assert_int_equal(job_item_code(f, id, "//srv/docs/q.bin"), OF_E(CACHE_FULL));
    assert_ghost(f, "q.bin");
    assert_usage(f, 300, 0);
    /* Raising the limit lets the pin fill. */
    limits(f, 400, 400);
    pin_ok(f, "q.bin", 0);
    assert_cached(f, "q.bin", 100);
    assert_usage(f, 400, 0);
}

static void
test_a_pinned_ghost_filled_by_sync_counts_against_the_total_limit_only(void **state)
{
    struct fixture *f = *state;
    /* No room for unpinned content at all; plenty for pinned content. */
    limits(f, BIG, 0);
    put_host(f, "p.bin", 100, 'p');
    put_host(f, "d/a.txt", 10, 'a');
    /* Pinned without fill: known, pinned, no content yet. */
    assert_int_equal(pin_full(f, "p.bin", 0, OF_PIN_USER, USER, 0, 0, NULL), 0);
    assert_ghost(f, "p.bin");
    /* A deep pin, then a child a listing records (pinned by inheritance, a ghost). */
    pin_ok(f, "d", 1);
    put_host(f, "d/listed.txt", 20, 'l');
    list_ok(f, "d");
    assert_ghost(f, "d/listed.txt");
    /* The sync fills pinned ghosts; pinned bytes are not held to the unpinned limit. */
    int64_t id = sync_ok(f, "//srv/docs");
    assert_job_item_ok(f, id, "//srv/docs/p.bin");
    assert_job_item_ok(f, id, "//srv/docs/d/listed.txt");
    assert_cached(f, "p.bin", 100);
    assert_cached(f, "d/listed.txt", 20);
    assert_usage(f, 130, 0);
}

static void
test_a_pinned_file_changed_on_the_server_is_refreshed_by_sync_within_the_total_limit(void **state)
{
    struct fixture *f = *state;
    put_host(f, "p.bin", 100, 'p');
    pin_ok(f, "p.bin", 0);
    limits(f, BIG, 0);
    put_host(f, "p.bin", 120, 'P');
    int64_t id = sync_ok(f, "//srv/docs");
    assert_job_item_ok(f, id, "//srv/docs/p.bin");
    assert_cached(f, "p.bin", 120);
    assert_usage(f, 120, 0);
}

/* ---- accounting ---- */

static void
test_usage_counts_pinned_content_apart_from_unpinned_content(void **state)
{
    struct fixture *f = *state;
    put_host(f, "a.txt", 100, 'a');
    put_host(f, "p.bin", 300, 'p');
    put_host(f, "d/x.txt", 40, 'x');
    put_host(f, "d/y.txt", 60, 'y');
    assert_usage(f, 0, 0);
    read_ok(f, "a.txt");
    assert_usage(f, 100, 100);
    pin_ok(f, "p.bin", 0);
    assert_usage(f, 400, 100);
    pin_ok(f, "d", 1);
    assert_usage(f, 500, 100);
    /* Pinning content already cached moves it out of the unpinned share. */
    pin_ok(f, "a.txt", 0);
    assert_usage(f, 500, 0);
    unpin_ok(f, "p.bin", 0);
    assert_usage(f, 500, 300);
    unpin_ok(f, "d", 1);
    assert_usage(f, 500, 400);
    /* Another user's pin keeps content pinned for the accounting too. */
    assert_int_equal(pin_full(f, "p.bin", 0, OF_PIN_USER, OTHER, 1, 0, NULL), 0);
    assert_usage(f, 500, 100);
}

static void
test_unpinned_content_over_the_unpinned_limit_is_evicted_on_unpin(void **state)
{
    struct fixture *f = *state;
    put_host(f, "p.bin", 200, 'p');
    put_host(f, "a.txt", 100, 'a');
    limits(f, BIG, 150);
    pin_ok(f, "p.bin", 0);
    read_ok(f, "a.txt");
    assert_usage(f, 300, 100);
    unpin_ok(f, "p.bin", 0);
    /* 300 unpinned bytes over a 150-byte unpinned limit: evicted down to it. */
    struct of_cache_info ci = cache(f);
    assert_true(ci.unpinned_used <= 150);
    assert_int_equal(ci.used, ci.unpinned_used);
}

int
main(void)
{
    of_log_set_level(OF_LOG_ERROR);
#define A(name) cmocka_unit_test_setup_teardown(name, setup_auto, teardown)
#define M(name) cmocka_unit_test_setup_teardown(name, setup_manual, teardown)
    const struct CMUnitTest tests[] = {
        A(test_unpinned_limit_evicts_the_least_recently_read_file_first),
        A(test_total_limit_evicts_unpinned_content_and_keeps_pinned_content),
        A(test_lowering_the_limits_evicts_at_once_oldest_first),
        A(test_pinned_and_dirty_content_is_never_evicted),
        A(test_a_full_cache_refuses_new_content_but_online_reads_still_work),
        M(test_a_pinned_ghost_filled_by_sync_counts_against_the_total_limit_only),
        M(test_a_pinned_file_changed_on_the_server_is_refreshed_by_sync_within_the_total_limit),
        A(test_usage_counts_pinned_content_apart_from_unpinned_content),
        A(test_unpinned_content_over_the_unpinned_limit_is_evicted_on_unpin),
    };
#undef A
#undef M
    return cmocka_run_group_tests(tests, NULL, NULL);
}
