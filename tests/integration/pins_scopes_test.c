/* SPDX-License-Identifier: MIT */
/*
 * Who holds a pin, over HTTP on a manual directory share (pins_util.h):
 * per-user pins of two users, computer, redirection and policy scopes,
 * unpin (deep and shallow, waiting or not), partly pinned folders, and
 * ghosts. (Pin jobs and inheritance are in pins_jobs_test.c, suspended
 * trees in pins_suspend_test.c.)
 */
#include "pins_util.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

/* DELETE /api/v1/pins?path=//srv/s/REL&QUERY as token's user (waits by default). */
static struct it_response *
unpin_req(const struct it_env *env, const char *token, const char *rel, const char *query)
{
    char *p = it_fmt("//srv/s/%s", rel);
    char *enc = it_urlencode(p);
    char *path = it_fmt("/api/v1/pins?path=%s%s%s", enc, query ? "&" : "", query ? query : "");
    struct it_response *r = pt_as(env, token, "DELETE", path, NULL);
    free(path);
    free(enc);
    free(p);
    return r;
}

static void
unpin_as(const struct it_env *env, const char *token, const char *rel, const char *query)
{
    struct it_response *r = unpin_req(env, token, rel, query);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "kind", "unpin");
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
}

/* A new non-admin token for user into buf (128 bytes). */
static void
user_token(const struct it_env *env, const char *user, char *buf)
{
    char err[512];
    if (it_token_create(env->d.data_dir, user, 0, buf, 128, err, sizeof(err)) != 0) {
        print_error("token create --user %s: %s\n", user, err);
        fail();
    }
    assert_true(strlen(buf) > 0);
}

/* ---- users and scopes ---- */

static void
test_user_pins_of_two_users_are_kept_apart(void **state)
{
    struct it_env *env = *state;
    char alice[128], bob[128];
    user_token(env, "alice", alice);
    user_token(env, "bob", bob);
    pt_seed(env, "a.txt", "alice's");
    pt_seed(env, "b.txt", "bob's");
    pt_seed(env, "both.txt", "shared");
    pt_pin_as(env, alice, "a.txt", 0, "\"scope\":\"user\"");
    pt_pin_as(env, bob, "b.txt", 0, NULL);
    pt_pin_as(env, alice, "both.txt", 0, NULL);
    pt_pin_as(env, bob, "both.txt", 0, NULL);
    /* Another user's pin shows as pinned, not for this user. */
    pt_assert_pin(env, alice, "a.txt", 1, 1);
    pt_assert_pin(env, bob, "a.txt", 1, 0);
    pt_assert_pin(env, bob, "b.txt", 1, 1);
    pt_assert_pin(env, alice, "b.txt", 1, 0);
    pt_assert_pin(env, alice, "both.txt", 1, 1);
    pt_assert_pin(env, bob, "both.txt", 1, 1);
    /* The admin token is a user of its own. */
    pt_assert_pin(env, NULL, "a.txt", 1, 0);
    /* Queries by flag follow the asking user. */
    struct it_response *r = pt_as(
        env, alice, "GET", "/api/v1/items?under=%2F%2Fsrv%2Fs&depth=all&flags=pinnedForUser", NULL);
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(it_jget(r->json, "items")), 2);
    assert_non_null(it_jfind_path(r->json, "items", "//srv/s/a.txt"));
    assert_non_null(it_jfind_path(r->json, "items", "//srv/s/both.txt"));
    it_response_free(r);
    r = pt_as(env, alice, "GET",
              "/api/v1/items?under=%2F%2Fsrv%2Fs&depth=all&flags=pinnedForOthers", NULL);
    IT_ASSERT_STATUS(r, 200);
    assert_non_null(it_jfind_path(r->json, "items", "//srv/s/b.txt"));
    assert_null(it_jfind_path(r->json, "items", "//srv/s/a.txt"));
    it_response_free(r);
    /* bob unpinning a.txt removes no pin of alice's. */
    unpin_as(env, bob, "a.txt", NULL);
    pt_assert_pin(env, alice, "a.txt", 1, 1);
    /* alice unpins both.txt: bob's pin keeps it pinned, and cached. */
    unpin_as(env, alice, "both.txt", NULL);
    pt_assert_pin(env, alice, "both.txt", 1, 0);
    pt_assert_pin(env, bob, "both.txt", 1, 1);
    unpin_as(env, bob, "both.txt", NULL);
    pt_assert_pin(env, alice, "both.txt", 0, 0);
    pt_assert_pin(env, bob, "both.txt", 0, 0);
    pt_go_offline(env);
    pt_assert_reads(env, "a.txt", "alice's", "cache");
    pt_assert_reads(env, "b.txt", "bob's", "cache");
}

static void
test_policy_pins_need_an_admin_token(void **state)
{
    struct it_env *env = *state;
    char bob[128];
    user_token(env, "bob", bob);
    pt_seed(env, "a.txt", "policy");
    pt_list_dir(env, "");
    struct it_response *r =
        pt_pin_req(env, bob, "{\"paths\":[\"//srv/s/a.txt\"],\"scope\":\"policy\",\"wait\":true}");
    IT_ASSERT_PROBLEM(r, 403, "forbidden");
    it_response_free(r);
    pt_assert_pin(env, bob, "a.txt", 0, 0);
    pt_pin_as(env, NULL, "a.txt", 0, "\"scope\":\"policy\"");
    r = pt_item_as(env, bob, "a.txt");
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 1);
    IT_ASSERT_JBOOL(r->json, "pin.byPolicy", 1);
    IT_ASSERT_JBOOL(r->json, "pin.forUser", 0);
    it_response_free(r);
    r = unpin_req(env, bob, "a.txt", "scope=policy");
    IT_ASSERT_PROBLEM(r, 403, "forbidden");
    it_response_free(r);
    pt_assert_pin(env, bob, "a.txt", 1, 0);
    /* A user's unpin in its own scope does not touch a policy pin. */
    unpin_as(env, bob, "a.txt", NULL);
    pt_assert_pin(env, bob, "a.txt", 1, 0);
    unpin_as(env, NULL, "a.txt", "scope=policy");
    pt_assert_pin(env, bob, "a.txt", 0, 0);
}

static void
test_computer_and_redirection_pins_are_pinned_for_every_user(void **state)
{
    struct it_env *env = *state;
    char bob[128];
    user_token(env, "bob", bob);
    pt_seed(env, "c.txt", "computer");
    pt_seed(env, "r.txt", "redirection");
    pt_pin_as(env, bob, "c.txt", 0, "\"scope\":\"computer\"");
    pt_pin_as(env, bob, "r.txt", 0, "\"scope\":\"redirection\"");
    struct it_response *r = pt_item(env, "c.txt");
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 1);
    IT_ASSERT_JBOOL(r->json, "pin.forComputer", 1);
    IT_ASSERT_JBOOL(r->json, "pin.forUser", 0);
    it_response_free(r);
    r = pt_item(env, "r.txt");
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 1);
    IT_ASSERT_JBOOL(r->json, "pin.forRedirection", 1);
    it_response_free(r);
    /* Machine-wide pins are removed by anyone in that scope. */
    unpin_as(env, NULL, "c.txt", "scope=computer");
    r = pt_item(env, "c.txt");
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 0);
    it_response_free(r);
}

/* ---- unpin ---- */

static void
test_deep_unpin_waits_by_default_and_unpins_the_tree(void **state)
{
    struct it_env *env = *state;
    pt_seed_tree(env);
    pt_pin(env, "d", 1);
    struct it_response *r = it_get(&env->d, "/api/v1/cache");
    long long used = (long long)json_integer_value(it_jget(r->json, "space.used"));
    assert_int_equal(used, 5 + 5 + 7);
    IT_ASSERT_JINT(r->json, "space.unpinnedUsed", 0);
    it_response_free(r);
    /* No wait parameter: DELETE answers the finished job. */
    r = unpin_req(env, NULL, "d", "deep=true");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "kind", "unpin");
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    IT_ASSERT_JSTR(pt_result_of(r, "d/sub/deeper/c.txt"), "result", "ok");
    it_response_free(r);
    static const char *const all[] = {"d",           "d/a.txt",      "d/sub",
                                      "d/sub/b.txt", "d/sub/deeper", "d/sub/deeper/c.txt"};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        pt_assert_pin(env, NULL, all[i], 0, 0);
    r = pt_item(env, "d");
    IT_ASSERT_JBOOL(r->json, "pin.partly", 0);
    it_response_free(r);
    /* The content stays, now unpinned (evictable). */
    r = it_get(&env->d, "/api/v1/cache");
    IT_ASSERT_JINT(r->json, "space.used", used);
    IT_ASSERT_JINT(r->json, "space.unpinnedUsed", used);
    it_response_free(r);
    /* A new file under the unpinned tree is no longer pinned by inheritance. */
    pt_seed(env, "d/after.txt", "after");
    pt_sync_ok(env, "//srv/s", NULL);
    pt_assert_pin(env, NULL, "d/after.txt", 0, 0);
    pt_assert_ghosted(env, "d/after.txt", 1);
}

static void
test_unpin_with_wait_false_answers_202(void **state)
{
    struct it_env *env = *state;
    pt_seed(env, "a.txt", "a");
    pt_pin(env, "a.txt", 0);
    struct it_response *r = unpin_req(env, NULL, "a.txt", "wait=false");
    IT_ASSERT_STATUS(r, 202);
    long long id = (long long)json_integer_value(it_jget(r->json, "id"));
    assert_non_null(it_resp_header(r, "Location"));
    it_response_free(r);
    r = it_job_wait(&env->d, id, 30);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    pt_assert_pin(env, NULL, "a.txt", 0, 0);
}

static void
test_shallow_unpin_touches_only_the_immediate_files(void **state)
{
    struct it_env *env = *state;
    pt_seed_tree(env);
    pt_pin(env, "d", 1);
    unpin_as(env, NULL, "d", NULL);
    pt_assert_pin(env, NULL, "d", 0, 0);
    pt_assert_pin(env, NULL, "d/a.txt", 0, 0);
    pt_assert_pin(env, NULL, "d/sub", 1, 1);
    pt_assert_pin(env, NULL, "d/sub/b.txt", 1, 1);
    pt_assert_pin(env, NULL, "d/sub/deeper/c.txt", 1, 1);
    struct it_response *r = pt_item(env, "d");
    IT_ASSERT_JBOOL(r->json, "pin.partly", 1);
    it_response_free(r);
}

/* ---- partly pinned folders and ghosts ---- */

static void
test_a_folder_with_some_content_pinned_reports_partly(void **state)
{
    struct it_env *env = *state;
    pt_seed_tree(env);
    pt_seed(env, "e/x.txt", "x");
    pt_list_dir(env, "");
    pt_list_dir(env, "d");
    pt_list_dir(env, "d/sub");
    pt_list_dir(env, "e");
    pt_pin(env, "d/sub/b.txt", 0);
    static const char *const partly[] = {"", "d", "d/sub"};
    for (size_t i = 0; i < sizeof(partly) / sizeof(partly[0]); i++) {
        struct it_response *r = pt_item(env, partly[i]);
        IT_ASSERT_JBOOL(r->json, "pin.pinned", 0);
        IT_ASSERT_JBOOL(r->json, "pin.partly", 1);
        it_response_free(r);
    }
    static const char *const not_partly[] = {"e", "d/sub/deeper", "d/a.txt"};
    for (size_t i = 0; i < sizeof(not_partly) / sizeof(not_partly[0]); i++) {
        struct it_response *r = pt_item(env, not_partly[i]);
        IT_ASSERT_JBOOL(r->json, "pin.partly", 0);
        it_response_free(r);
    }
    /* A folder pinned as a whole is pinned, not partly. */
    pt_pin(env, "e", 1);
    struct it_response *r = pt_item(env, "e");
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 1);
    IT_ASSERT_JBOOL(r->json, "pin.partly", 0);
    it_response_free(r);
    unpin_as(env, NULL, "d/sub/b.txt", NULL);
    r = pt_item(env, "d");
    IT_ASSERT_JBOOL(r->json, "pin.partly", 0);
    it_response_free(r);
}

static void
test_items_known_from_a_listing_are_ghosts_until_their_content_is_cached(void **state)
{
    struct it_env *env = *state;
    pt_seed(env, "g.txt", "ghost");
    pt_list_dir(env, "");
    struct it_response *r = pt_item(env, "g.txt");
    IT_ASSERT_JBOOL(r->json, "ghosted", 1);
    IT_ASSERT_JINT(r->json, "remote.size", 5);
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 0);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items?under=%%2F%%2Fsrv%%2Fs&flags=ghosted");
    IT_ASSERT_STATUS(r, 200);
    assert_non_null(it_jfind_path(r->json, "items", "//srv/s/g.txt"));
    it_response_free(r);
    pt_pin(env, "g.txt", 0);
    pt_assert_ghosted(env, "g.txt", 0);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define M(f) cmocka_unit_test_setup_teardown(f, it_setup_manual, it_teardown)
    const struct CMUnitTest tests[] = {
        M(test_user_pins_of_two_users_are_kept_apart),
        M(test_policy_pins_need_an_admin_token),
        M(test_computer_and_redirection_pins_are_pinned_for_every_user),
        M(test_deep_unpin_waits_by_default_and_unpins_the_tree),
        M(test_unpin_with_wait_false_answers_202),
        M(test_shallow_unpin_touches_only_the_immediate_files),
        M(test_a_folder_with_some_content_pinned_reports_partly),
        M(test_items_known_from_a_listing_are_ghosts_until_their_content_is_cached),
    };
#undef M
    return cmocka_run_group_tests(tests, NULL, NULL);
}
