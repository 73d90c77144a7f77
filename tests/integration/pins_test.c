/* SPDX-License-Identifier: MIT */
/*
 * /api/v1/pins and /api/v1/suspend over HTTP on a manual directory share:
 * pin jobs (202 with a Location, or the finished job with wait), deep pins
 * read back offline, fill:false, inheritance of later children through sync
 * and through listings, per-user pins of two users, computer and policy
 * scopes, unpin (deep and shallow), partly pinned folders, ghosts, bad
 * input, and suspended trees (served from the cache, 503 for uncached
 * files, left alone by sync with skipSuspended).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---- */

static void
seed(const struct it_env *env, const char *rel, const char *text)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    assert_int_equal(it_write_file(path, text, strlen(text)), 0);
}

static char *
on_share(const struct it_env *env, const char *rel)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    return it_read_file(path, NULL);
}

static void
go_offline(const struct it_env *env)
{
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 0), 200);
}

static void
go_online(const struct it_env *env)
{
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 1), 200);
}

/* A request with a user's token (NULL: the admin token). */
static struct it_response *
as(const struct it_env *env, const char *token, const char *method, const char *path,
   const char *json_text)
{
    struct it_request rq = {.method = method,
                            .path = path,
                            .auth = token ? IT_AUTH_TOKEN : IT_AUTH_ADMIN,
                            .token = token};
    if (json_text) {
        rq.content_type = "application/json";
        rq.body = json_text;
        rq.body_len = strlen(json_text);
    }
    return it_http(&env->d, &rq);
}

/* GET /api/v1/items/srv/s/REL ("" for the share root) as token's user. */
static struct it_response *
item_as(const struct it_env *env, const char *token, const char *rel)
{
    char *path = it_fmt("/api/v1/items/srv/s%s%s", rel[0] ? "/" : "", rel);
    struct it_response *r = as(env, token, "GET", path, NULL);
    free(path);
    IT_ASSERT_STATUS(r, 200);
    return r;
}

static struct it_response *
item(const struct it_env *env, const char *rel)
{
    return item_as(env, NULL, rel);
}

/* POST /api/v1/pins with body as token's user. */
static struct it_response *
pin_req(const struct it_env *env, const char *token, const char *body)
{
    return as(env, token, "POST", "/api/v1/pins", body);
}

/* Pin //srv/s/REL for token's user with wait: true; asserts the job succeeded. */
static void
pin_as(const struct it_env *env, const char *token, const char *rel, int deep, const char *extra)
{
    char *body = it_fmt("{\"paths\":[\"//srv/s/%s\"],\"deep\":%s,\"wait\":true%s%s}", rel,
                        deep ? "true" : "false", extra ? "," : "", extra ? extra : "");
    struct it_response *r = pin_req(env, token, body);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "kind", "pin");
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    free(body);
}

static void
pin(const struct it_env *env, const char *rel, int deep)
{
    pin_as(env, NULL, rel, deep, NULL);
}

/* DELETE /api/v1/pins?path=//srv/s/REL&QUERY as token's user (waits by default). */
static struct it_response *
unpin_req(const struct it_env *env, const char *token, const char *rel, const char *query)
{
    char *p = it_fmt("//srv/s/%s", rel);
    char *enc = it_urlencode(p);
    char *path = it_fmt("/api/v1/pins?path=%s%s%s", enc, query ? "&" : "", query ? query : "");
    struct it_response *r = as(env, token, "DELETE", path, NULL);
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

static void
assert_reads(const struct it_env *env, const char *rel, const char *want, const char *source)
{
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/%s", rel);
    IT_ASSERT_STATUS(r, 200);
    if (strcmp(r->body, want) != 0) {
        print_error("%s: read '%s', want '%s'\n", rel, r->body, want);
        fail();
    }
    if (source) {
        const char *got = it_resp_header(r, "X-Offline-Source");
        assert_non_null(got);
        assert_string_equal(got, source);
    }
    it_response_free(r);
}

static void
assert_not_offline(const struct it_env *env, const char *rel)
{
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/%s", rel);
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
}

static void
list_dir(const struct it_env *env, const char *rel)
{
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s%s%s", rel[0] ? "/" : "", rel);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
}

static void
sync_ok(const struct it_env *env, const char *path, const char *extra)
{
    struct it_response *r = it_sync(&env->d, path, NULL, extra);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
}

static json_t *
result_of(struct it_response *r, const char *rel)
{
    char *path = it_fmt("//srv/s/%s", rel);
    json_t *res = it_jfind_path(r->json, "results", path);
    if (!res) {
        print_error("no result for %s\n", path);
        it_show_response(r);
        fail();
    }
    free(path);
    return res;
}

/* Assert pin.pinned and pin.forUser of an item, as token's user. */
static void
assert_pin(const struct it_env *env, const char *token, const char *rel, int pinned, int for_user)
{
    struct it_response *r = item_as(env, token, rel);
    IT_ASSERT_JBOOL(r->json, "pin.pinned", pinned);
    IT_ASSERT_JBOOL(r->json, "pin.forUser", for_user);
    it_response_free(r);
}

static void
assert_ghosted(const struct it_env *env, const char *rel, int ghosted)
{
    struct it_response *r = item(env, rel);
    IT_ASSERT_JBOOL(r->json, "ghosted", ghosted);
    it_response_free(r);
}

/* d/a.txt, d/sub/b.txt, d/sub/deeper/c.txt and top.txt on the share. */
static void
seed_tree(const struct it_env *env)
{
    seed(env, "d/a.txt", "alpha");
    seed(env, "d/sub/b.txt", "bravo");
    seed(env, "d/sub/deeper/c.txt", "charlie");
    seed(env, "top.txt", "top");
}

/* ---- pin jobs ---- */

static void
test_deep_pin_with_wait_fetches_the_tree_for_offline_reads(void **state)
{
    struct it_env *env = *state;
    seed_tree(env);
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
        json_t *res = result_of(r, pinned[i]);
        IT_ASSERT_JSTR(res, "result", "ok");
        IT_ASSERT_JSTR(res, "code", "ok");
    }
    assert_int_equal(json_array_size(it_jget(r->json, "results")), 6);
    IT_ASSERT_JINT(r->json, "progress.itemsDone", 6);
    it_response_free(r);
    for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++)
        assert_pin(env, NULL, pinned[i], 1, 1);
    assert_ghosted(env, "d/a.txt", 0);
    r = item(env, "d");
    IT_ASSERT_JBOOL(r->json, "pin.forUserInherit", 1);
    it_response_free(r);
    go_offline(env);
    assert_reads(env, "d/a.txt", "alpha", "cache");
    assert_reads(env, "d/sub/b.txt", "bravo", "cache");
    assert_reads(env, "d/sub/deeper/c.txt", "charlie", "cache");
    /* Outside the pinned tree nothing was fetched. */
    assert_not_offline(env, "top.txt");
}

static void
test_pin_without_wait_answers_202_with_the_job_location(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", "hello");
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
    assert_pin(env, NULL, "a.txt", 1, 1);
    assert_ghosted(env, "a.txt", 0);
    go_offline(env);
    assert_reads(env, "a.txt", "hello", "cache");
}

static void
test_pin_of_several_paths_reports_each_one(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", "a");
    seed(env, "b.txt", "b");
    struct it_response *r = it_json_req(
        &env->d, "POST", "/api/v1/pins",
        "{\"paths\":[\"//srv/s/a.txt\",\"//srv/s/b.txt\"],\"scope\":\"computer\",\"wait\":true}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    IT_ASSERT_JSTR(result_of(r, "a.txt"), "result", "ok");
    IT_ASSERT_JSTR(result_of(r, "b.txt"), "result", "ok");
    it_response_free(r);
    go_offline(env);
    assert_reads(env, "a.txt", "a", "cache");
    assert_reads(env, "b.txt", "b", "cache");
}

static void
test_pin_without_fill_pins_a_ghost_that_the_next_sync_fills(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", "later");
    pin_as(env, NULL, "a.txt", 0, "\"fill\":false");
    assert_pin(env, NULL, "a.txt", 1, 1);
    assert_ghosted(env, "a.txt", 1);
    struct it_response *r = it_get(&env->d, "/api/v1/cache");
    IT_ASSERT_JINT(r->json, "space.used", 0);
    it_response_free(r);
    /* Pinned means available offline: the sync fetches it. */
    sync_ok(env, "//srv/s", NULL);
    assert_ghosted(env, "a.txt", 0);
    go_offline(env);
    assert_reads(env, "a.txt", "later", "cache");
}

/* ---- inheritance ---- */

static void
test_new_files_under_a_deep_pin_are_pinned_and_fetched_at_the_next_sync(void **state)
{
    struct it_env *env = *state;
    seed_tree(env);
    pin(env, "d", 1);
    seed(env, "d/new.txt", "november");
    seed(env, "d/sub/new2.txt", "oscar");
    seed(env, "d/newdir/x.txt", "xray");
    seed(env, "outside.txt", "outside");
    sync_ok(env, "//srv/s", NULL);
    assert_pin(env, NULL, "d/new.txt", 1, 1);
    assert_pin(env, NULL, "d/sub/new2.txt", 1, 1);
    assert_pin(env, NULL, "d/newdir", 1, 1);
    assert_pin(env, NULL, "d/newdir/x.txt", 1, 1);
    assert_ghosted(env, "d/new.txt", 0);
    assert_ghosted(env, "d/newdir/x.txt", 0);
    /* A new folder inherits the pin and passes it on. */
    struct it_response *r = item(env, "d/newdir");
    IT_ASSERT_JBOOL(r->json, "pin.forUserInherit", 1);
    it_response_free(r);
    r = item(env, "outside.txt");
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 0);
    IT_ASSERT_JBOOL(r->json, "ghosted", 1);
    it_response_free(r);
    go_offline(env);
    assert_reads(env, "d/new.txt", "november", "cache");
    assert_reads(env, "d/sub/new2.txt", "oscar", "cache");
    assert_reads(env, "d/newdir/x.txt", "xray", "cache");
    assert_not_offline(env, "outside.txt");
}

static void
test_new_files_recorded_by_a_listing_are_pinned_and_the_next_sync_fills_them(void **state)
{
    struct it_env *env = *state;
    seed_tree(env);
    pin(env, "d", 1);
    seed(env, "d/listed.txt", "lima");
    list_dir(env, "d");
    assert_pin(env, NULL, "d/listed.txt", 1, 1);
    sync_ok(env, "//srv/s/d", NULL);
    assert_ghosted(env, "d/listed.txt", 0);
    go_offline(env);
    assert_reads(env, "d/listed.txt", "lima", "cache");
}

static void
test_a_shallow_pin_of_a_folder_pins_its_later_children(void **state)
{
    struct it_env *env = *state;
    seed_tree(env);
    pin(env, "d", 0);
    assert_pin(env, NULL, "d", 1, 1);
    seed(env, "d/later.txt", "later");
    sync_ok(env, "//srv/s/d", NULL);
    assert_pin(env, NULL, "d/later.txt", 1, 1);
    go_offline(env);
    assert_reads(env, "d/later.txt", "later", "cache");
}

/* ---- users and scopes ---- */

static void
test_user_pins_of_two_users_are_kept_apart(void **state)
{
    struct it_env *env = *state;
    char alice[128], bob[128];
    user_token(env, "alice", alice);
    user_token(env, "bob", bob);
    seed(env, "a.txt", "alice's");
    seed(env, "b.txt", "bob's");
    seed(env, "both.txt", "shared");
    pin_as(env, alice, "a.txt", 0, "\"scope\":\"user\"");
    pin_as(env, bob, "b.txt", 0, NULL);
    pin_as(env, alice, "both.txt", 0, NULL);
    pin_as(env, bob, "both.txt", 0, NULL);
    /* Another user's pin shows as pinned, not for this user. */
    assert_pin(env, alice, "a.txt", 1, 1);
    assert_pin(env, bob, "a.txt", 1, 0);
    assert_pin(env, bob, "b.txt", 1, 1);
    assert_pin(env, alice, "b.txt", 1, 0);
    assert_pin(env, alice, "both.txt", 1, 1);
    assert_pin(env, bob, "both.txt", 1, 1);
    /* The admin token is a user of its own. */
    assert_pin(env, NULL, "a.txt", 1, 0);
    /* Queries by flag follow the asking user. */
    struct it_response *r = as(
        env, alice, "GET", "/api/v1/items?under=%2F%2Fsrv%2Fs&depth=all&flags=pinnedForUser", NULL);
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(it_jget(r->json, "items")), 2);
    assert_non_null(it_jfind_path(r->json, "items", "//srv/s/a.txt"));
    assert_non_null(it_jfind_path(r->json, "items", "//srv/s/both.txt"));
    it_response_free(r);
    r = as(env, alice, "GET", "/api/v1/items?under=%2F%2Fsrv%2Fs&depth=all&flags=pinnedForOthers",
           NULL);
    IT_ASSERT_STATUS(r, 200);
    assert_non_null(it_jfind_path(r->json, "items", "//srv/s/b.txt"));
    assert_null(it_jfind_path(r->json, "items", "//srv/s/a.txt"));
    it_response_free(r);
    /* bob unpinning a.txt removes no pin of alice's. */
    unpin_as(env, bob, "a.txt", NULL);
    assert_pin(env, alice, "a.txt", 1, 1);
    /* alice unpins both.txt: bob's pin keeps it pinned, and cached. */
    unpin_as(env, alice, "both.txt", NULL);
    assert_pin(env, alice, "both.txt", 1, 0);
    assert_pin(env, bob, "both.txt", 1, 1);
    unpin_as(env, bob, "both.txt", NULL);
    assert_pin(env, alice, "both.txt", 0, 0);
    assert_pin(env, bob, "both.txt", 0, 0);
    go_offline(env);
    assert_reads(env, "a.txt", "alice's", "cache");
    assert_reads(env, "b.txt", "bob's", "cache");
}

static void
test_policy_pins_need_an_admin_token(void **state)
{
    struct it_env *env = *state;
    char bob[128];
    user_token(env, "bob", bob);
    seed(env, "a.txt", "policy");
    list_dir(env, "");
    struct it_response *r =
        pin_req(env, bob, "{\"paths\":[\"//srv/s/a.txt\"],\"scope\":\"policy\",\"wait\":true}");
    IT_ASSERT_PROBLEM(r, 403, "forbidden");
    it_response_free(r);
    assert_pin(env, bob, "a.txt", 0, 0);
    pin_as(env, NULL, "a.txt", 0, "\"scope\":\"policy\"");
    r = item_as(env, bob, "a.txt");
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 1);
    IT_ASSERT_JBOOL(r->json, "pin.byPolicy", 1);
    IT_ASSERT_JBOOL(r->json, "pin.forUser", 0);
    it_response_free(r);
    r = unpin_req(env, bob, "a.txt", "scope=policy");
    IT_ASSERT_PROBLEM(r, 403, "forbidden");
    it_response_free(r);
    assert_pin(env, bob, "a.txt", 1, 0);
    /* A user's unpin in its own scope does not touch a policy pin. */
    unpin_as(env, bob, "a.txt", NULL);
    assert_pin(env, bob, "a.txt", 1, 0);
    unpin_as(env, NULL, "a.txt", "scope=policy");
    assert_pin(env, bob, "a.txt", 0, 0);
}

static void
test_computer_and_redirection_pins_are_pinned_for_every_user(void **state)
{
    struct it_env *env = *state;
    char bob[128];
    user_token(env, "bob", bob);
    seed(env, "c.txt", "computer");
    seed(env, "r.txt", "redirection");
    pin_as(env, bob, "c.txt", 0, "\"scope\":\"computer\"");
    pin_as(env, bob, "r.txt", 0, "\"scope\":\"redirection\"");
    struct it_response *r = item(env, "c.txt");
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 1);
    IT_ASSERT_JBOOL(r->json, "pin.forComputer", 1);
    IT_ASSERT_JBOOL(r->json, "pin.forUser", 0);
    it_response_free(r);
    r = item(env, "r.txt");
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 1);
    IT_ASSERT_JBOOL(r->json, "pin.forRedirection", 1);
    it_response_free(r);
    /* Machine-wide pins are removed by anyone in that scope. */
    unpin_as(env, NULL, "c.txt", "scope=computer");
    r = item(env, "c.txt");
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 0);
    it_response_free(r);
}

/* ---- unpin ---- */

static void
test_deep_unpin_waits_by_default_and_unpins_the_tree(void **state)
{
    struct it_env *env = *state;
    seed_tree(env);
    pin(env, "d", 1);
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
    IT_ASSERT_JSTR(result_of(r, "d/sub/deeper/c.txt"), "result", "ok");
    it_response_free(r);
    static const char *const all[] = {"d",           "d/a.txt",      "d/sub",
                                      "d/sub/b.txt", "d/sub/deeper", "d/sub/deeper/c.txt"};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        assert_pin(env, NULL, all[i], 0, 0);
    r = item(env, "d");
    IT_ASSERT_JBOOL(r->json, "pin.partly", 0);
    it_response_free(r);
    /* The content stays, now unpinned (evictable). */
    r = it_get(&env->d, "/api/v1/cache");
    IT_ASSERT_JINT(r->json, "space.used", used);
    IT_ASSERT_JINT(r->json, "space.unpinnedUsed", used);
    it_response_free(r);
    /* A new file under the unpinned tree is no longer pinned by inheritance. */
    seed(env, "d/after.txt", "after");
    sync_ok(env, "//srv/s", NULL);
    assert_pin(env, NULL, "d/after.txt", 0, 0);
    assert_ghosted(env, "d/after.txt", 1);
}

static void
test_unpin_with_wait_false_answers_202(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", "a");
    pin(env, "a.txt", 0);
    struct it_response *r = unpin_req(env, NULL, "a.txt", "wait=false");
    IT_ASSERT_STATUS(r, 202);
    long long id = (long long)json_integer_value(it_jget(r->json, "id"));
    assert_non_null(it_resp_header(r, "Location"));
    it_response_free(r);
    r = it_job_wait(&env->d, id, 30);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    assert_pin(env, NULL, "a.txt", 0, 0);
}

static void
test_shallow_unpin_touches_only_the_immediate_files(void **state)
{
    struct it_env *env = *state;
    seed_tree(env);
    pin(env, "d", 1);
    unpin_as(env, NULL, "d", NULL);
    assert_pin(env, NULL, "d", 0, 0);
    assert_pin(env, NULL, "d/a.txt", 0, 0);
    assert_pin(env, NULL, "d/sub", 1, 1);
    assert_pin(env, NULL, "d/sub/b.txt", 1, 1);
    assert_pin(env, NULL, "d/sub/deeper/c.txt", 1, 1);
    struct it_response *r = item(env, "d");
    IT_ASSERT_JBOOL(r->json, "pin.partly", 1);
    it_response_free(r);
}

/* ---- partly pinned folders and ghosts ---- */

static void
test_a_folder_with_some_content_pinned_reports_partly(void **state)
{
    struct it_env *env = *state;
    seed_tree(env);
    seed(env, "e/x.txt", "x");
    list_dir(env, "");
    list_dir(env, "d");
    list_dir(env, "d/sub");
    list_dir(env, "e");
    pin(env, "d/sub/b.txt", 0);
    static const char *const partly[] = {"", "d", "d/sub"};
    for (size_t i = 0; i < sizeof(partly) / sizeof(partly[0]); i++) {
        struct it_response *r = item(env, partly[i]);
        IT_ASSERT_JBOOL(r->json, "pin.pinned", 0);
        IT_ASSERT_JBOOL(r->json, "pin.partly", 1);
        it_response_free(r);
    }
    static const char *const not_partly[] = {"e", "d/sub/deeper", "d/a.txt"};
    for (size_t i = 0; i < sizeof(not_partly) / sizeof(not_partly[0]); i++) {
        struct it_response *r = item(env, not_partly[i]);
        IT_ASSERT_JBOOL(r->json, "pin.partly", 0);
        it_response_free(r);
    }
    /* A folder pinned as a whole is pinned, not partly. */
    pin(env, "e", 1);
    struct it_response *r = item(env, "e");
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 1);
    IT_ASSERT_JBOOL(r->json, "pin.partly", 0);
    it_response_free(r);
    unpin_as(env, NULL, "d/sub/b.txt", NULL);
    r = item(env, "d");
    IT_ASSERT_JBOOL(r->json, "pin.partly", 0);
    it_response_free(r);
}

static void
test_items_known_from_a_listing_are_ghosts_until_their_content_is_cached(void **state)
{
    struct it_env *env = *state;
    seed(env, "g.txt", "ghost");
    list_dir(env, "");
    struct it_response *r = item(env, "g.txt");
    IT_ASSERT_JBOOL(r->json, "ghosted", 1);
    IT_ASSERT_JINT(r->json, "remote.size", 5);
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 0);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items?under=%%2F%%2Fsrv%%2Fs&flags=ghosted");
    IT_ASSERT_STATUS(r, 200);
    assert_non_null(it_jfind_path(r->json, "items", "//srv/s/g.txt"));
    it_response_free(r);
    pin(env, "g.txt", 0);
    assert_ghosted(env, "g.txt", 0);
}

/* ---- bad input ---- */

static void
test_bad_pin_requests_are_refused(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", "a");
    list_dir(env, "");
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
        struct it_response *r = as(env, NULL, cases[i].method, cases[i].path, cases[i].body);
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
    assert_pin(env, NULL, "a.txt", 0, 0);
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
    seed_tree(env);
    pin(env, "d", 1);
    suspend(env, "d", 1);
    struct it_response *r = item(env, "d/sub/b.txt");
    IT_ASSERT_JBOOL(r->json, "suspend.suspended", 1);
    IT_ASSERT_JBOOL(r->json, "suspend.root", 0);
    it_response_free(r);
    r = item(env, "top.txt");
    IT_ASSERT_JBOOL(r->json, "suspend.suspended", 0);
    it_response_free(r);
    /* The server copy changes; the suspended tree does not look. */
    seed(env, "d/a.txt", "changed on the server");
    assert_reads(env, "d/a.txt", "alpha", "cache");
    /* Even when the share cannot be reached at all, nothing changes for it. */
    assert_int_equal(it_env_unplug(env), 0);
    assert_reads(env, "d/sub/b.txt", "bravo", "cache");
    assert_int_equal(it_env_replug(env), 0);
    /* Released: reads go to the server again. */
    suspend(env, "d", 0);
    r = item(env, "d/sub/b.txt");
    IT_ASSERT_JBOOL(r->json, "suspend.suspended", 0);
    it_response_free(r);
    assert_reads(env, "d/a.txt", "changed on the server", NULL);
}

static void
test_a_suspended_uncached_file_answers_503_while_the_share_is_online(void **state)
{
    struct it_env *env = *state;
    seed(env, "s/ghost.txt", "never fetched");
    seed(env, "s/cached.txt", "fetched");
    list_dir(env, "s");
    pin(env, "s/cached.txt", 0);
    suspend(env, "s", 1);
    struct it_response *r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "online");
    it_response_free(r);
    assert_not_offline(env, "s/ghost.txt");
    assert_reads(env, "s/cached.txt", "fetched", "cache");
    /* Outside the tree, the online share answers as usual. */
    seed(env, "free.txt", "free");
    assert_reads(env, "free.txt", "free", "server");
}

static void
test_a_file_first_seen_under_a_suspended_tree_is_not_fetched(void **state)
{
    struct it_env *env = *state;
    seed(env, "s/known.txt", "known");
    list_dir(env, "s");
    suspend(env, "s", 1);
    seed(env, "s/unseen.txt", "unseen");
    /* The tree is suspended: the server is not asked about anything in it. */
    assert_not_offline(env, "s/unseen.txt");
    struct it_response *r = it_get(&env->d, "/api/v1/items/srv/s/s/unseen.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

static void
test_sync_with_skip_suspended_leaves_a_suspended_tree_alone(void **state)
{
    struct it_env *env = *state;
    seed_tree(env);
    pin(env, "d", 1);
    pin(env, "top.txt", 0);
    suspend(env, "d", 1);
    /* A write in the suspended tree stays in the cache, as an offline change. */
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/d/a.txt", "local edit", 10);
    assert_true(r->status == 200 || r->status == 201);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    char *got = on_share(env, "d/a.txt");
    assert_string_equal(got, "alpha");
    free(got);
    seed(env, "d/sub/b.txt", "server edit");
    seed(env, "top.txt", "server top");
    sync_ok(env, "//srv/s", "{\"skipSuspended\":true}");
    /* Outside: synced. Inside: neither direction moved. */
    assert_reads(env, "top.txt", "server top", NULL);
    got = on_share(env, "d/a.txt");
    assert_string_equal(got, "alpha");
    free(got);
    assert_reads(env, "d/sub/b.txt", "bravo", "cache");
    r = item(env, "d/a.txt");
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    it_response_free(r);
    /* Released and synced: both directions go through. */
    suspend(env, "d", 0);
    sync_ok(env, "//srv/s", NULL);
    got = on_share(env, "d/a.txt");
    assert_string_equal(got, "local edit");
    free(got);
    assert_reads(env, "d/sub/b.txt", "server edit", NULL);
    go_offline(env);
    assert_reads(env, "d/sub/b.txt", "server edit", "cache");
    go_online(env);
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
        M(test_user_pins_of_two_users_are_kept_apart),
        M(test_policy_pins_need_an_admin_token),
        M(test_computer_and_redirection_pins_are_pinned_for_every_user),
        M(test_deep_unpin_waits_by_default_and_unpins_the_tree),
        M(test_unpin_with_wait_false_answers_202),
        M(test_shallow_unpin_touches_only_the_immediate_files),
        M(test_a_folder_with_some_content_pinned_reports_partly),
        M(test_items_known_from_a_listing_are_ghosts_until_their_content_is_cached),
        M(test_bad_pin_requests_are_refused),
        M(test_a_suspended_tree_is_read_from_the_cache_without_the_server),
        M(test_a_suspended_uncached_file_answers_503_while_the_share_is_online),
        M(test_a_file_first_seen_under_a_suspended_tree_is_not_fetched),
        M(test_sync_with_skip_suspended_leaves_a_suspended_tree_alone),
    };
#undef M
    return cmocka_run_group_tests(tests, NULL, NULL);
}
