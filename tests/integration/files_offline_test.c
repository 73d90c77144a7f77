/* SPDX-License-Identifier: MIT */
/*
 * /api/v1/files with the share offline: what the manual, auto and noCaching
 * modes keep for offline reads; writes, deletes (tombstones) and directories
 * made offline as offline changes, and their preconditions; listings from
 * the cache; a share root that disappears and comes back.
 */
#include "files_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- caching modes ---- */

static void
test_manual_mode_plain_read_does_not_cache_content(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = item(env, "a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "ghosted", 1);
    it_response_free(r);
    go_offline(env);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
}

static void
test_auto_mode_read_caches_content_for_offline_use(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    struct it_response *r = item(env, "a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "ghosted", 0);
    IT_ASSERT_JINT(r->json, "local.size", HELLO_LEN);
    it_response_free(r);
    /* Online again: served from the cache while the server copy is unchanged. */
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(it_resp_header(r, "X-Offline-Source"), "cache");
    it_response_free(r);
    go_offline(env);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, HELLO);
    assert_string_equal(it_resp_header(r, "ETag"), etag);
    assert_string_equal(it_resp_header(r, "X-Offline"), "true");
    assert_string_equal(it_resp_header(r, "X-Offline-Source"), "cache");
    it_response_free(r);
    /* Conditional and partial reads work offline too. */
    char *h = it_fmt("If-None-Match: %s", etag);
    r = get_with(env, "/api/v1/files/srv/s/a.txt", h);
    IT_ASSERT_STATUS(r, 304);
    it_response_free(r);
    r = get_with(env, "/api/v1/files/srv/s/a.txt", "Range: bytes=6-");
    IT_ASSERT_STATUS(r, 206);
    assert_string_equal(r->body, "world");
    it_response_free(r);
    free(h);
    free(etag);
}

static void
test_auto_mode_read_sees_a_change_on_the_server(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *e1 = etag_of(env, "/api/v1/files/srv/s/a.txt");
    sleep(1);
    seed(env, "a.txt", "fresh from the server");
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "fresh from the server");
    assert_string_not_equal(it_resp_header(r, "ETag"), e1);
    it_response_free(r);
    go_offline(env);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "fresh from the server");
    it_response_free(r);
    free(e1);
}

static void
test_offline_read_of_uncached_content_answers_503_not_available_offline(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    /* Listing records a.txt as a ghost: known, without content. */
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    go_offline(env);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/never-seen.txt");
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
}

static void
test_no_caching_share_keeps_nothing_and_refuses_offline_writes(void **state)
{
    struct it_env *env = *state;
    char *dir = it_fmt("%s/nc", env->root);
    assert_int_equal(mkdir(dir, 0700), 0);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/a.txt", dir);
    assert_int_equal(it_write_file(path, HELLO, HELLO_LEN), 0);
    assert_int_equal(it_share_add(&env->d, "srv", "nc", dir, "noCaching"), 201);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/nc/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, HELLO);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items/srv/nc/a.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    assert_int_equal(it_share_set_online(&env->d, "srv", "nc", 0), 200);
    r = it_get(&env->d, "/api/v1/files/srv/nc/a.txt");
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
    r = it_put(&env->d, "/api/v1/files/srv/nc/b.txt", "b", 1);
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
    snprintf(path, sizeof(path), "%s/b.txt", dir);
    assert_false(it_exists(path));
    free(dir);
}

/* ---- offline changes ---- */

static void
test_offline_write_marks_item_dirty(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    go_offline(env);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/a.txt", "offline edit!", 13);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "created", 0);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    r = item(env, "a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    IT_ASSERT_JBOOL(r->json, "change.modifiedData", 1);
    IT_ASSERT_JBOOL(r->json, "change.createdOffline", 0);
    IT_ASSERT_JBOOL(r->json, "change.deletedOffline", 0);
    IT_ASSERT_JINT(r->json, "dirtyBytes.local", 13);
    IT_ASSERT_JINT(r->json, "local.size", 13);
    IT_ASSERT_JINT(r->json, "remote.size", HELLO_LEN);
    IT_ASSERT_JINT(r->json, "original.size", HELLO_LEN);
    IT_ASSERT_JBOOL(r->json, "ghosted", 0);
    it_response_free(r);
    /* The server copy is untouched; reads see the offline change. */
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, HELLO);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "offline edit!");
    assert_string_not_equal(it_resp_header(r, "ETag"), etag);
    it_response_free(r);
    free(got);
    free(etag);
}

static void
test_offline_write_with_a_stale_if_match_answers_412(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    go_offline(env);
    char *h = it_fmt("If-Match: %s", etag);
    struct it_response *r = put_with(env, "/api/v1/files/srv/s/a.txt", "first", h);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    /* The same tag again: the file changed since, so the precondition fails. */
    r = put_with(env, "/api/v1/files/srv/s/a.txt", "second", h);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    assert_string_equal(r->body, "first");
    it_response_free(r);
    free(h);
    free(etag);
}

static void
test_offline_write_of_a_new_file_is_created_offline(void **state)
{
    struct it_env *env = *state;
    go_offline(env);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/new.txt", "brand new", 9);
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JBOOL(r->json, "created", 1);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    IT_ASSERT_JBOOL(r->json, "item.change.createdOffline", 1);
    it_response_free(r);
    r = item(env, "new.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    IT_ASSERT_JBOOL(r->json, "change.createdOffline", 1);
    IT_ASSERT_JBOOL(r->json, "remote.exists", 0);
    IT_ASSERT_JBOOL(r->json, "local.exists", 1);
    IT_ASSERT_JINT(r->json, "dirtyBytes.local", 9);
    it_response_free(r);
    char path[PATH_MAX];
    it_share_file(env, "new.txt", path);
    assert_false(it_exists(path));
    r = it_get(&env->d, "/api/v1/files/srv/s/new.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "brand new");
    assert_string_equal(it_resp_header(r, "X-Offline"), "true");
    it_response_free(r);
}

static void
test_online_read_of_a_dirty_file_serves_the_offline_change(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    go_offline(env);
    r = it_put(&env->d, "/api/v1/files/srv/s/a.txt", "local", 5);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    go_online(env);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "local");
    it_response_free(r);
    r = item(env, "a.txt");
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    it_response_free(r);
}

static void
test_offline_delete_leaves_a_deleted_offline_tombstone(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    seed(env, "b.txt", "b");
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    free(etag);
    go_offline(env);
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    r = item(env, "a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "change.deletedOffline", 1);
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    IT_ASSERT_JBOOL(r->json, "local.exists", 0);
    IT_ASSERT_JBOOL(r->json, "remote.exists", 1);
    IT_ASSERT_JINT(r->json, "dirtyBytes.local", 0);
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_non_null(got);
    assert_string_equal(got, HELLO);
    free(got);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = it_delete(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "offline", 1);
    for (size_t i = 0; i < json_array_size(it_jget(r->json, "entries")); i++)
        assert_string_not_equal(
            json_string_value(it_jget(json_array_get(it_jget(r->json, "entries"), i), "name")),
            "a.txt");
    it_response_free(r);
    /* Writing it again offline revives it. */
    r = it_put(&env->d, "/api/v1/files/srv/s/a.txt", "back", 4);
    assert_true(r->status == 200 || r->status == 201);
    it_response_free(r);
    r = item(env, "a.txt");
    IT_ASSERT_JBOOL(r->json, "change.deletedOffline", 0);
    IT_ASSERT_JBOOL(r->json, "local.exists", 1);
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    it_response_free(r);
}

static void
test_offline_delete_of_a_file_created_offline_leaves_nothing(void **state)
{
    struct it_env *env = *state;
    go_offline(env);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/tmp.txt", "t", 1);
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    r = it_delete(&env->d, "/api/v1/files/srv/s/tmp.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = item(env, "tmp.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

static void
test_offline_mkdir_is_created_offline_and_takes_files(void **state)
{
    struct it_env *env = *state;
    go_offline(env);
    struct it_response *r = mkdir_req(env, "/api/v1/files/srv/s/od");
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    IT_ASSERT_JSTR(r->json, "item.type", "directory");
    IT_ASSERT_JBOOL(r->json, "item.change.createdOffline", 1);
    it_response_free(r);
    r = it_put(&env->d, "/api/v1/files/srv/s/od/inner.txt", "inner", 5);
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/od");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "offline", 1);
    IT_ASSERT_JSTR(r->json, "entries.0.name", "inner.txt");
    it_response_free(r);
    char path[PATH_MAX];
    it_share_file(env, "od", path);
    assert_false(it_exists(path));
    /* A non-empty directory cannot be deleted offline either. */
    r = it_delete(&env->d, "/api/v1/files/srv/s/od");
    IT_ASSERT_PROBLEM(r, 409, "directory-not-empty");
    it_response_free(r);
}

static void
test_offline_listing_shows_cached_children_and_offline_changes(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    seed_dir(env, "b");
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    go_offline(env);
    r = it_put(&env->d, "/api/v1/files/srv/s/c.txt", "c", 1);
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "offline", 1);
    json_t *ents = it_jget(r->json, "entries");
    assert_int_equal(json_array_size(ents), 3);
    IT_ASSERT_JSTR(ents, "0.name", "a.txt");
    IT_ASSERT_JSTR(ents, "1.name", "b");
    IT_ASSERT_JSTR(ents, "1.type", "directory");
    IT_ASSERT_JSTR(ents, "2.name", "c.txt");
    it_response_free(r);
    /* Back online, the file made offline is listed next to the server's entries. */
    go_online(env);
    r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(it_jget(r->json, "entries")), 3);
    it_response_free(r);
}

static void
test_offline_listing_of_an_uncached_directory_answers_503(void **state)
{
    struct it_env *env = *state;
    seed_dir(env, "never");
    go_offline(env);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/never");
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
}

static void
test_share_root_that_disappears_takes_the_share_offline_and_back(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    seed(env, "ghost.txt", "g");
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s");
    it_response_free(r);
    char *moved = it_fmt("%s/away", env->root);
    assert_int_equal(rename(env->share_dir, moved), 0);
    /* The cached file is still served, from the cache, and the share is offline. */
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, HELLO);
    assert_string_equal(it_resp_header(r, "X-Offline-Source"), "cache");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "state", "offline");
    IT_ASSERT_JSTR(r->json, "reason", "connectionError");
    assert_null(strstr(r->body, env->root));
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/ghost.txt");
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
    /* A write meanwhile is kept in the cache, and nothing is recreated on disk. */
    r = it_put(&env->d, "/api/v1/files/srv/s/a.txt", "while away", 10);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    assert_false(it_exists(env->share_dir));
    assert_int_equal(rename(moved, env->share_dir), 0);
    /* The share is probed again after a while and comes back. */
    const char *state_now = "";
    for (int i = 0; i < 50; i++) {
        r = it_get(&env->d, "/api/v1/connection/srv/s");
        state_now = json_is_string(it_jget(r->json, "state")) &&
                            strcmp(json_string_value(it_jget(r->json, "state")), "online") == 0
                        ? "online"
                        : "offline";
        it_response_free(r);
        if (strcmp(state_now, "online") == 0)
            break;
        struct timespec ts = {0, 200 * 1000L * 1000};
        nanosleep(&ts, NULL);
    }
    assert_string_equal(state_now, "online");
    /* Coming back starts a background sync, which pushes the write made while away. */
    char *got = NULL;
    for (int i = 0; i < 100; i++) {
        free(got);
        got = on_share(env, "a.txt");
        if (got && strcmp(got, "while away") == 0)
            break;
        struct timespec ts = {0, 100 * 1000L * 1000};
        nanosleep(&ts, NULL);
    }
    assert_non_null(got);
    assert_string_equal(got, "while away");
    free(got);
    free(moved);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define M(f) cmocka_unit_test_setup_teardown(f, it_setup_manual, it_teardown)
#define A(f) cmocka_unit_test_setup_teardown(f, it_setup_auto, it_teardown)
    const struct CMUnitTest tests[] = {
        M(test_manual_mode_plain_read_does_not_cache_content),
        A(test_auto_mode_read_caches_content_for_offline_use),
        A(test_auto_mode_read_sees_a_change_on_the_server),
        M(test_offline_read_of_uncached_content_answers_503_not_available_offline),
        M(test_no_caching_share_keeps_nothing_and_refuses_offline_writes),
        A(test_offline_write_marks_item_dirty),
        A(test_offline_write_with_a_stale_if_match_answers_412),
        M(test_offline_write_of_a_new_file_is_created_offline),
        M(test_online_read_of_a_dirty_file_serves_the_offline_change),
        A(test_offline_delete_leaves_a_deleted_offline_tombstone),
        M(test_offline_delete_of_a_file_created_offline_leaves_nothing),
        M(test_offline_mkdir_is_created_offline_and_takes_files),
        M(test_offline_listing_shows_cached_children_and_offline_changes),
        M(test_offline_listing_of_an_uncached_directory_answers_503),
        A(test_share_root_that_disappears_takes_the_share_offline_and_back),
    };
#undef M
#undef A
    return cmocka_run_group_tests_name("files_offline", tests, NULL, NULL);
}
