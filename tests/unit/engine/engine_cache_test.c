/* SPDX-License-Identifier: MIT */
/*
 * Tests of the cache settings through engine.h (engine/cache.c): location,
 * defaults and usage; the limits (the unpinned one clamped to the total,
 * negative ones refused) and the enabled switch, kept across a reopen.
 * Eviction under the limits is in evict_limits_test.c. Over
 * engine_fixture.c: a temp data directory and the fs share //srv/docs on a
 * temp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>

#include "engine_fixture.h"
#include "log.h"

/* ---- cache ---- */

static void
test_cache_get_reports_location_defaults_and_usage(void **state)
{
    struct fixture *f = *state;
    struct of_cache_info ci;
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    char loc[256];
    snprintf(loc, sizeof(loc), "%s/cache", f->data);
    assert_string_equal(ci.location, loc);
    assert_int_equal(ci.enabled, 1);
    assert_true(ci.volume_total > 0);
    assert_int_equal(ci.limit, ci.volume_total / 4);
    assert_int_equal(ci.unpinned_limit, ci.limit);
    assert_int_equal(ci.used, 0);
    assert_int_equal(ci.unpinned_used, 0);

    assert_int_equal(write_path(f, "//srv/docs/a.txt", "abc", NULL), 0);
    assert_int_equal(write_path(f, "//srv/docs/b.txt", "hello world", NULL), 0);
    pin(f, "//srv/docs/b.txt", OF_PIN_USER, USER);
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    assert_int_equal(ci.used, 14);
    assert_int_equal(ci.unpinned_used, 3);
}

static void
test_cache_set_clamps_the_unpinned_limit_to_the_limit(void **state)
{
    struct fixture *f = *state;
    struct of_cache_info ci;
    struct of_cache_patch p = {
        .has_limit = 1, .limit = 1000, .has_unpinned_limit = 1, .unpinned_limit = 5000};
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    assert_int_equal(ci.limit, 1000);
    assert_int_equal(ci.unpinned_limit, 1000);

    p = (struct of_cache_patch){.has_unpinned_limit = 1, .unpinned_limit = 400};
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    assert_int_equal(ci.limit, 1000);
    assert_int_equal(ci.unpinned_limit, 400);

    p = (struct of_cache_patch){.has_limit = 1, .limit = 200};
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    assert_int_equal(ci.limit, 200);
    assert_int_equal(ci.unpinned_limit, 200);

    p = (struct of_cache_patch){.has_limit = 1, .limit = 0};
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    assert_int_equal(ci.limit, 0);
    assert_int_equal(ci.unpinned_limit, 0);
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    assert_int_equal(ci.limit, 0);
}

static void
test_cache_set_of_a_negative_limit_is_bad_field_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct of_cache_info ci;
    struct of_cache_patch p = {
        .has_limit = 1, .limit = 1000, .has_unpinned_limit = 1, .unpinned_limit = 500};
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    const struct of_cache_patch bad[] = {
        {.has_limit = 1, .limit = -1},
        {.has_unpinned_limit = 1, .unpinned_limit = -1},
        {.has_limit = 1, .limit = INT64_MIN, .has_unpinned_limit = 1, .unpinned_limit = 10},
        {.has_enabled = 1, .enabled = 0, .has_limit = 1, .limit = -5},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct of_error err = {0};
        assert_int_equal(of_engine_cache_set(f->eng, &bad[i], &ci, &err), OF_E(BAD_FIELD));
        assert_int_equal(err.code, OF_E(BAD_FIELD));
    }
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    assert_int_equal(ci.limit, 1000);
    assert_int_equal(ci.unpinned_limit, 500);
    assert_int_equal(ci.enabled, 1);
}

static void
test_cache_set_enabled_persists_across_reopen(void **state)
{
    struct fixture *f = *state;
    struct of_cache_info ci;
    struct of_cache_patch p = {.has_enabled = 1, .enabled = 0};
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    assert_int_equal(ci.enabled, 0);
    reopen(f);
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    assert_int_equal(ci.enabled, 0);
    assert_int_equal(ci.limit, ci.volume_total / 4);
}

int
main(void)
{
    of_log_set_level(OF_LOG_ERROR);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_cache_get_reports_location_defaults_and_usage),
        T(test_cache_set_clamps_the_unpinned_limit_to_the_limit),
        T(test_cache_set_of_a_negative_limit_is_bad_field_and_changes_nothing),
        T(test_cache_set_enabled_persists_across_reopen),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
