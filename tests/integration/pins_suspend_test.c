/* SPDX-License-Identifier: MIT */
/*
 * POST /api/v1/suspend over HTTP on a manual directory share
 * (pins_util.h): a suspended tree is served from the cache without the
 * server, an uncached file in it answers 503 while the share is online, a
 * file first seen under it is not fetched, and a sync with skipSuspended
 * leaves it alone. (Pins are in pins_jobs_test.c and pins_scopes_test.c.)
 */
#include "pins_util.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static char *
on_share(const struct it_env *env, const char *rel)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    return it_read_file(path, NULL);
}

static void
go_online(const struct it_env *env)
{
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 1), 200);
}

/* ---- suspend ---- */

static void
suspend(const struct it_env *env, const char *rel, int on)
{
    char *body = it_fmt("{\"path\":\"//srv/s/%s\",\"suspend\":%s}", rel, on ? "true" : "false");
    struct it_response *r = it_json_req(&env->d, "POST", "/api/v1/suspend", body);
    IT_ASSERT_STATUS(r, 200);
    char *path = it_fmt("//srv/s/%s", rel);
    IT_ASSERT_JSTR(r->json, "path", path);
    IT_ASSERT_JBOOL(r->json, "suspend.suspended", on);
    IT_ASSERT_JBOOL(r->json, "suspend.root", on);
    it_response_free(r);
    free(path);
    free(body);
}

static void
test_a_suspended_tree_is_read_from_the_cache_without_the_server(void **state)
{
    struct it_env *env = *state;
    pt_seed_tree(env);
    pt_pin(env, "d", 1);
    suspend(env, "d", 1);
    struct it_response *r = pt_item(env, "d/sub/b.txt");
    IT_ASSERT_JBOOL(r->json, "suspend.suspended", 1);
    IT_ASSERT_JBOOL(r->json, "suspend.root", 0);
    it_response_free(r);
    r = pt_item(env, "top.txt");
    IT_ASSERT_JBOOL(r->json, "suspend.suspended", 0);
    it_response_free(r);
    /* The server copy changes; the suspended tree does not look. */
    pt_seed(env, "d/a.txt", "changed on the server");
    pt_assert_reads(env, "d/a.txt", "alpha", "cache");
    /* Even when the share cannot be reached at all, nothing changes for it. */
    assert_int_equal(it_env_unplug(env), 0);
    pt_assert_reads(env, "d/sub/b.txt", "bravo", "cache");
    assert_int_equal(it_env_replug(env), 0);
    /* Released: reads go to the server again. */
    suspend(env, "d", 0);
    r = pt_item(env, "d/sub/b.txt");
    IT_ASSERT_JBOOL(r->json, "suspend.suspended", 0);
    it_response_free(r);
    pt_assert_reads(env, "d/a.txt", "changed on the server", NULL);
}

static void
test_a_suspended_uncached_file_answers_503_while_the_share_is_online(void **state)
{
    struct it_env *env = *state;
    pt_seed(env, "s/ghost.txt", "never fetched");
    pt_seed(env, "s/cached.txt", "fetched");
    pt_list_dir(env, "s");
    pt_pin(env, "s/cached.txt", 0);
    suspend(env, "s", 1);
    struct it_response *r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "online");
    it_response_free(r);
    pt_assert_not_offline(env, "s/ghost.txt");
    pt_assert_reads(env, "s/cached.txt", "fetched", "cache");
    /* Outside the tree, the online share answers as usual. */
    pt_seed(env, "free.txt", "free");
    pt_assert_reads(env, "free.txt", "free", "server");
}

static void
test_a_file_first_seen_under_a_suspended_tree_is_not_fetched(void **state)
{
    struct it_env *env = *state;
    pt_seed(env, "s/known.txt", "known");
    pt_list_dir(env, "s");
    suspend(env, "s", 1);
    pt_seed(env, "s/unseen.txt", "unseen");
    /* The tree is suspended: the server is not asked about anything in it. */
    pt_assert_not_offline(env, "s/unseen.txt");
    struct it_response *r = it_get(&env->d, "/api/v1/items/srv/s/s/unseen.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

static void
test_sync_with_skip_suspended_leaves_a_suspended_tree_alone(void **state)
{
    struct it_env *env = *state;
    pt_seed_tree(env);
    pt_pin(env, "d", 1);
    pt_pin(env, "top.txt", 0);
    suspend(env, "d", 1);
    /* A write in the suspended tree stays in the cache, as an offline change. */
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/d/a.txt", "local edit", 10);
    assert_true(r->status == 200 || r->status == 201);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    char *got = on_share(env, "d/a.txt");
    assert_string_equal(got, "alpha");
    free(got);
    pt_seed(env, "d/sub/b.txt", "server edit");
    pt_seed(env, "top.txt", "server top");
    pt_sync_ok(env, "//srv/s", "{\"skipSuspended\":true}");
    /* Outside: synced. Inside: neither direction moved. */
    pt_assert_reads(env, "top.txt", "server top", NULL);
    got = on_share(env, "d/a.txt");
    assert_string_equal(got, "alpha");
    free(got);
    pt_assert_reads(env, "d/sub/b.txt", "bravo", "cache");
    r = pt_item(env, "d/a.txt");
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    it_response_free(r);
    /* Released and synced: both directions go through. */
    suspend(env, "d", 0);
    pt_sync_ok(env, "//srv/s", NULL);
    got = on_share(env, "d/a.txt");
    assert_string_equal(got, "local edit");
    free(got);
    pt_assert_reads(env, "d/sub/b.txt", "server edit", NULL);
    pt_go_offline(env);
    pt_assert_reads(env, "d/sub/b.txt", "server edit", "cache");
    go_online(env);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define M(f) cmocka_unit_test_setup_teardown(f, it_setup_manual, it_teardown)
    const struct CMUnitTest tests[] = {
        M(test_a_suspended_tree_is_read_from_the_cache_without_the_server),
        M(test_a_suspended_uncached_file_answers_503_while_the_share_is_online),
        M(test_a_file_first_seen_under_a_suspended_tree_is_not_fetched),
        M(test_sync_with_skip_suspended_leaves_a_suspended_tree_alone),
    };
#undef M
    return cmocka_run_group_tests(tests, NULL, NULL);
}
