/* SPDX-License-Identifier: MIT */
/*
 * POST /api/v1/pins over HTTP on a manual directory share (pins_util.h):
 * pin jobs (202 with a Location, or the finished job with wait), deep pins
 * read back offline, fill:false, inheritance of later children through
 * sync and through listings, and bad input to /api/v1/pins and
 * /api/v1/suspend. (Users, scopes and unpin are in pins_scopes_test.c,
 * suspended trees in pins_suspend_test.c.)
 */
#include "pins_util.h"

#include <stdlib.h>
#include <string.h>

/* ---- pin jobs ---- */

static void
test_deep_pin_with_wait_fetches_the_tree_for_offline_reads(void **state)
{
    struct it_env *env = *state;
    pt_seed_tree(env);
    struct it_response *r =
        it_json_req(&env->d, "POST", "/api/v1/pins",
                    "{\"paths\":[\"//srv/s/d\"],\"deep\":true,\"scope\":\"user\",\"wait\":true}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "kind", "pin");
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    IT_ASSERT_JSTR(r->json, "createdBy", "admin");
    static const char *const pinned[] = {"d",           "d/a.txt",      "d/sub",
                                         "d/sub/b.txt", "d/sub/deeper", "d/sub/deeper/c.txt"};
    for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
        json_t *res = pt_result_of(r, pinned[i]);
        IT_ASSERT_JSTR(res, "result", "ok");
        IT_ASSERT_JSTR(res, "code", "ok");
    }
    assert_int_equal(json_array_size(it_jget(r->json, "results")), 6);
    IT_ASSERT_JINT(r->json, "progress.itemsDone", 6);
    it_response_free(r);
    for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++)
        pt_assert_pin(env, NULL, pinned[i], 1, 1);
    pt_assert_ghosted(env, "d/a.txt", 0);
    r = pt_item(env, "d");
    IT_ASSERT_JBOOL(r->json, "pin.forUserInherit", 1);
    it_response_free(r);
    pt_go_offline(env);
    pt_assert_reads(env, "d/a.txt", "alpha", "cache");
    pt_assert_reads(env, "d/sub/b.txt", "bravo", "cache");
    pt_assert_reads(env, "d/sub/deeper/c.txt", "charlie", "cache");
    /* Outside the pinned tree nothing was fetched. */
    pt_assert_not_offline(env, "top.txt");
}

static void
test_pin_without_wait_answers_202_with_the_job_location(void **state)
{
    struct it_env *env = *state;
    pt_seed(env, "a.txt", "hello");
    struct it_response *r =
        it_json_req(&env->d, "POST", "/api/v1/pins", "{\"paths\":[\"//srv/s/a.txt\"]}");
    IT_ASSERT_STATUS(r, 202);
    IT_ASSERT_JSTR(r->json, "kind", "pin");
    long long id = (long long)json_integer_value(it_jget(r->json, "id"));
    assert_true(id > 0);
    const char *loc = it_resp_header(r, "Location");
    assert_non_null(loc);
    char *want = it_fmt("/api/v1/jobs/%lld", id);
    assert_string_equal(loc, want);
    free(want);
    it_response_free(r);
    r = it_job_wait(&env->d, id, 30);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    pt_assert_pin(env, NULL, "a.txt", 1, 1);
    pt_assert_ghosted(env, "a.txt", 0);
    pt_go_offline(env);
    pt_assert_reads(env, "a.txt", "hello", "cache");
}

static void
test_pin_of_several_paths_reports_each_one(void **state)
{
    struct it_env *env = *state;
    pt_seed(env, "a.txt", "a");
    pt_seed(env, "b.txt", "b");
    struct it_response *r = it_json_req(
        &env->d, "POST", "/api/v1/pins",
        "{\"paths\":[\"//srv/s/a.txt\",\"//srv/s/b.txt\"],\"scope\":\"computer\",\"wait\":true}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    IT_ASSERT_JSTR(pt_result_of(r, "a.txt"), "result", "ok");
    IT_ASSERT_JSTR(pt_result_of(r, "b.txt"), "result", "ok");
    it_response_free(r);
    pt_go_offline(env);
    pt_assert_reads(env, "a.txt", "a", "cache");
    pt_assert_reads(env, "b.txt", "b", "cache");
}

static void
test_pin_without_fill_pins_a_ghost_that_the_next_sync_fills(void **state)
{
    struct it_env *env = *state;
    pt_seed(env, "a.txt", "later");
    pt_pin_as(env, NULL, "a.txt", 0, "\"fill\":false");
    pt_assert_pin(env, NULL, "a.txt", 1, 1);
    pt_assert_ghosted(env, "a.txt", 1);
    struct it_response *r = it_get(&env->d, "/api/v1/cache");
    IT_ASSERT_JINT(r->json, "space.used", 0);
    it_response_free(r);
    /* Pinned means available offline: the sync fetches it. */
    pt_sync_ok(env, "//srv/s", NULL);
    pt_assert_ghosted(env, "a.txt", 0);
    pt_go_offline(env);
    pt_assert_reads(env, "a.txt", "later", "cache");
}

/* ---- inheritance ---- */

static void
test_new_files_under_a_deep_pin_are_pinned_and_fetched_at_the_next_sync(void **state)
{
    struct it_env *env = *state;
    pt_seed_tree(env);
    pt_pin(env, "d", 1);
    pt_seed(env, "d/new.txt", "november");
    pt_seed(env, "d/sub/new2.txt", "oscar");
    pt_seed(env, "d/newdir/x.txt", "xray");
    pt_seed(env, "outside.txt", "outside");
    pt_sync_ok(env, "//srv/s", NULL);
    pt_assert_pin(env, NULL, "d/new.txt", 1, 1);
    pt_assert_pin(env, NULL, "d/sub/new2.txt", 1, 1);
    pt_assert_pin(env, NULL, "d/newdir", 1, 1);
    pt_assert_pin(env, NULL, "d/newdir/x.txt", 1, 1);
    pt_assert_ghosted(env, "d/new.txt", 0);
    pt_assert_ghosted(env, "d/newdir/x.txt", 0);
    /* A new folder inherits the pin and passes it on. */
    struct it_response *r = pt_item(env, "d/newdir");
    IT_ASSERT_JBOOL(r->json, "pin.forUserInherit", 1);
    it_response_free(r);
    r = pt_item(env, "outside.txt");
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 0);
    IT_ASSERT_JBOOL(r->json, "ghosted", 1);
    it_response_free(r);
    pt_go_offline(env);
    pt_assert_reads(env, "d/new.txt", "november", "cache");
    pt_assert_reads(env, "d/sub/new2.txt", "oscar", "cache");
    pt_assert_reads(env, "d/newdir/x.txt", "xray", "cache");
    pt_assert_not_offline(env, "outside.txt");
}

static void
test_new_files_recorded_by_a_listing_are_pinned_and_the_next_sync_fills_them(void **state)
{
    struct it_env *env = *state;
    pt_seed_tree(env);
    pt_pin(env, "d", 1);
    pt_seed(env, "d/listed.txt", "lima");
    pt_list_dir(env, "d");
    pt_assert_pin(env, NULL, "d/listed.txt", 1, 1);
    pt_sync_ok(env, "//srv/s/d", NULL);
    pt_assert_ghosted(env, "d/listed.txt", 0);
    pt_go_offline(env);
    pt_assert_reads(env, "d/listed.txt", "lima", "cache");
}

static void
test_a_shallow_pin_of_a_folder_pins_its_later_children(void **state)
{
    struct it_env *env = *state;
    pt_seed_tree(env);
    pt_pin(env, "d", 0);
    pt_assert_pin(env, NULL, "d", 1, 1);
    pt_seed(env, "d/later.txt", "later");
    pt_sync_ok(env, "//srv/s/d", NULL);
    pt_assert_pin(env, NULL, "d/later.txt", 1, 1);
    pt_go_offline(env);
    pt_assert_reads(env, "d/later.txt", "later", "cache");
}

/* ---- bad input ---- */

static void
test_bad_pin_requests_are_refused(void **state)
{
    struct it_env *env = *state;
    pt_seed(env, "a.txt", "a");
    pt_list_dir(env, "");
    static const struct {
        const char *method, *path, *body;
        long status;
        const char *code;
    } cases[] = {
        {"POST", "/api/v1/pins", "{\"paths\":[\"//srv/s/a.txt\"],\"scope\":\"nobody\"}", 400,
         "invalid-field"},
        {"POST", "/api/v1/pins", "{\"paths\":[]}", 400, "invalid-field"},
        {"POST", "/api/v1/pins", "{\"paths\":\"//srv/s/a.txt\"}", 400, "invalid-field"},
        {"POST", "/api/v1/pins", "{\"paths\":[\"//srv/s/a.txt\"],\"deep\":\"yes\"}", 400,
         "invalid-field"},
        {"POST", "/api/v1/pins", "{\"paths\":[\"//srv/s/a.txt\"],\"color\":\"red\"}", 400,
         "unknown-field"},
        {"POST", "/api/v1/pins", "{\"paths\":[\"//srv\"]}", 400, "invalid-path"},
        {"POST", "/api/v1/pins", "{\"paths\":[\"//srv/s/missing.txt\"]}", 404, "not-found"},
        {"POST", "/api/v1/pins", "{\"paths\":[\"//srv/nope/a.txt\"]}", 404, "no-such-share"},
        {"DELETE", "/api/v1/pins", NULL, 400, "invalid-query"},
        {"DELETE", "/api/v1/pins?path=%2F%2Fsrv%2Fs%2Fa.txt&scope=nobody", NULL, 400,
         "invalid-query"},
        {"DELETE", "/api/v1/pins?path=%2F%2Fsrv%2Fs%2Fa.txt&deep=maybe", NULL, 400,
         "invalid-query"},
        {"POST", "/api/v1/suspend", "{\"path\":\"//srv\",\"suspend\":true}", 400, "invalid-path"},
        {"POST", "/api/v1/suspend", "{\"suspend\":true}", 400, "invalid-field"},
        {"POST", "/api/v1/suspend", "{\"path\":\"//srv/s/none\",\"suspend\":true}", 404,
         "not-found"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct it_response *r = pt_as(env, NULL, cases[i].method, cases[i].path, cases[i].body);
        const char *why = it_problem_mismatch(r, cases[i].status, cases[i].code);
        if (why) {
            print_error("case %zu (%s %s %s): %s; want %ld %s\n", i, cases[i].method, cases[i].path,
                        cases[i].body ? cases[i].body : "", why, cases[i].status, cases[i].code);
            it_show_response(r);
            fail();
        }
        it_response_free(r);
    }
    /* Nothing was pinned by any of them. */
    pt_assert_pin(env, NULL, "a.txt", 0, 0);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define M(f) cmocka_unit_test_setup_teardown(f, it_setup_manual, it_teardown)
    const struct CMUnitTest tests[] = {
        M(test_deep_pin_with_wait_fetches_the_tree_for_offline_reads),
        M(test_pin_without_wait_answers_202_with_the_job_location),
        M(test_pin_of_several_paths_reports_each_one),
        M(test_pin_without_fill_pins_a_ghost_that_the_next_sync_fills),
        M(test_new_files_under_a_deep_pin_are_pinned_and_fetched_at_the_next_sync),
        M(test_new_files_recorded_by_a_listing_are_pinned_and_the_next_sync_fills_them),
        M(test_a_shallow_pin_of_a_folder_pins_its_later_children),
        M(test_bad_pin_requests_are_refused),
    };
#undef M
    return cmocka_run_group_tests(tests, NULL, NULL);
}
