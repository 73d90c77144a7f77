/* SPDX-License-Identifier: MIT */
/*
 * /api/v1/files writes, directories and deletes over HTTP with the share
 * online: PUT creating and replacing files, with If-Match and If-None-Match
 * and over a change made on the server; what a PUT may not write; directories
 * made and listed; deletes and their preconditions.
 */
#include "files_util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- writes online ---- */

static void
test_put_creates_a_file_on_the_share_with_201(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/new.txt", "data", 4);
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JBOOL(r->json, "created", 1);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 0);
    IT_ASSERT_JSTR(r->json, "item.path", "//srv/s/new.txt");
    IT_ASSERT_JSTR(r->json, "item.type", "file");
    IT_ASSERT_JBOOL(r->json, "item.change.dirty", 0);
    it_response_free(r);
    char *got = on_share(env, "new.txt");
    assert_non_null(got);
    assert_string_equal(got, "data");
    free(got);
}

static void
test_put_answers_the_etag_that_a_read_then_sees(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/e.txt", "version 1", 9);
    IT_ASSERT_STATUS(r, 201);
    assert_true(is_strong_etag(it_resp_header(r, "ETag")));
    char *put_etag = strdup(it_resp_header(r, "ETag"));
    it_response_free(r);
    char *get_etag = etag_of(env, "/api/v1/files/srv/s/e.txt");
    assert_string_equal(put_etag, get_etag);
    /* The answered tag is good for the next conditional write, offline too. */
    go_offline(env);
    char *h = it_fmt("If-Match: %s", put_etag);
    r = put_with(env, "/api/v1/files/srv/s/e.txt", "version 2", h);
    IT_ASSERT_STATUS(r, 200);
    assert_true(is_strong_etag(it_resp_header(r, "ETag")));
    assert_string_not_equal(it_resp_header(r, "ETag"), put_etag);
    char *h2 = it_fmt("If-Match: %s", it_resp_header(r, "ETag"));
    it_response_free(r);
    r = put_with(env, "/api/v1/files/srv/s/e.txt", "version 3", h2);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    free(h2);
    free(h);
    free(get_etag);
    free(put_etag);
}

static void
test_put_if_match_star_needs_an_existing_file(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = put_with(env, "/api/v1/files/srv/s/none.txt", "x", "If-Match: *");
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    char path[PATH_MAX];
    it_share_file(env, "none.txt", path);
    assert_false(it_exists(path));
    seed(env, "a.txt", HELLO);
    r = put_with(env, "/api/v1/files/srv/s/a.txt", "star", "If-Match: *");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    go_offline(env);
    r = put_with(env, "/api/v1/files/srv/s/none-offline.txt", "x", "If-Match: *");
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    r = item(env, "none-offline.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

static void
test_put_replaces_an_existing_file_with_200(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/a.txt", "replaced", 8);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "created", 0);
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, "replaced");
    free(got);
    /* A second write through a cached item is a replacement too. */
    r = it_put(&env->d, "/api/v1/files/srv/s/a.txt", "again", 5);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "created", 0);
    it_response_free(r);
}

static void
test_put_with_a_stale_if_match_answers_412_and_changes_nothing(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    struct it_response *r =
        put_with(env, "/api/v1/files/srv/s/a.txt", "clobber",
                 "If-Match: \"1111111111111111111111111111111111111111111111111111111111111111\"");
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, HELLO);
    free(got);
    free(etag);
}

static void
test_put_with_the_current_if_match_replaces_the_file(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    char *h = it_fmt("If-Match: %s", etag);
    struct it_response *r = put_with(env, "/api/v1/files/srv/s/a.txt", "next version", h);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, "next version");
    char *etag2 = etag_of(env, "/api/v1/files/srv/s/a.txt");
    assert_string_not_equal(etag, etag2);
    /* The old tag is stale now. */
    r = put_with(env, "/api/v1/files/srv/s/a.txt", "third", h);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    free(got);
    free(h);
    free(etag);
    free(etag2);
}

static void
test_put_over_a_change_made_on_the_server_answers_412(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    /* Someone changes the file on the server behind the cache's back. */
    sleep(1);
    seed(env, "a.txt", "changed on the server");
    char *h = it_fmt("If-Match: %s", etag);
    struct it_response *r = put_with(env, "/api/v1/files/srv/s/a.txt", "mine", h);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, "changed on the server");
    free(got);
    free(h);
    free(etag);
}

static void
test_put_if_none_match_star_only_creates(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = put_with(env, "/api/v1/files/srv/s/a.txt", "no", "If-None-Match: *");
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, HELLO);
    free(got);
    r = put_with(env, "/api/v1/files/srv/s/fresh.txt", "yes", "If-None-Match: *");
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    got = on_share(env, "fresh.txt");
    assert_string_equal(got, "yes");
    free(got);
}

static void
test_put_into_a_missing_directory_answers_409_parent_missing(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/no/such/dir.txt", "x", 1);
    IT_ASSERT_PROBLEM(r, 409, "parent-missing");
    it_response_free(r);
    char path[PATH_MAX];
    it_share_file(env, "no", path);
    assert_false(it_exists(path));
}

static void
test_put_onto_a_directory_answers_409_not_a_file(void **state)
{
    struct it_env *env = *state;
    seed_dir(env, "d");
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/d", "x", 1);
    IT_ASSERT_PROBLEM(r, 409, "not-a-file");
    it_response_free(r);
    struct stat sb;
    char path[PATH_MAX];
    it_share_file(env, "d", path);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
}

static void
test_put_onto_the_share_root_is_refused(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s", "x", 1);
    IT_ASSERT_PROBLEM(r, 409, "not-a-file");
    it_response_free(r);
    struct stat sb;
    assert_int_equal(stat(env->share_dir, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
}

static void
test_put_below_a_file_answers_409_not_a_directory(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/a.txt/child", "x", 1);
    IT_ASSERT_PROBLEM(r, 409, "not-a-directory");
    it_response_free(r);
    r = mkdir_req(env, "/api/v1/files/srv/s/a.txt/sub");
    IT_ASSERT_PROBLEM(r, 409, "not-a-directory");
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, HELLO);
    free(got);
}

/* ---- directories ---- */

static void
test_get_a_directory_lists_its_entries(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    seed_dir(env, "b");
    seed(env, "b/c.txt", "c");
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "path", "//srv/s");
    IT_ASSERT_JBOOL(r->json, "offline", 0);
    json_t *ents = it_jget(r->json, "entries");
    assert_int_equal(json_array_size(ents), 2);
    static const char *const keys[] = {"name", "type", "size", "mtime", NULL};
    IT_ASSERT_KEYS(json_array_get(ents, 0), keys);
    IT_ASSERT_JSTR(ents, "0.name", "a.txt");
    IT_ASSERT_JSTR(ents, "0.type", "file");
    IT_ASSERT_JINT(ents, "0.size", HELLO_LEN);
    IT_ASSERT_JSTR(ents, "1.name", "b");
    IT_ASSERT_JSTR(ents, "1.type", "directory");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/b");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "path", "//srv/s/b");
    assert_int_equal(json_array_size(it_jget(r->json, "entries")), 1);
    IT_ASSERT_JSTR(r->json, "entries.0.name", "c.txt");
    it_response_free(r);
}

static void
test_post_directory_creates_it_on_the_share_with_201(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = mkdir_req(env, "/api/v1/files/srv/s/newdir");
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JBOOL(r->json, "created", 1);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 0);
    IT_ASSERT_JSTR(r->json, "item.type", "directory");
    IT_ASSERT_JSTR(r->json, "item.path", "//srv/s/newdir");
    it_response_free(r);
    char path[PATH_MAX];
    struct stat sb;
    it_share_file(env, "newdir", path);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    /* And a file can go into it. */
    r = it_put(&env->d, "/api/v1/files/srv/s/newdir/f.txt", "f", 1);
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
}

static void
test_post_directory_that_exists_answers_409_already_exists(void **state)
{
    struct it_env *env = *state;
    seed_dir(env, "there");
    struct it_response *r = mkdir_req(env, "/api/v1/files/srv/s/there");
    IT_ASSERT_PROBLEM(r, 409, "already-exists");
    it_response_free(r);
    r = mkdir_req(env, "/api/v1/files/srv/s/made");
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    r = mkdir_req(env, "/api/v1/files/srv/s/made");
    IT_ASSERT_PROBLEM(r, 409, "already-exists");
    it_response_free(r);
}

static void
test_post_directory_without_its_parent_answers_409_parent_missing(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = mkdir_req(env, "/api/v1/files/srv/s/x/y");
    IT_ASSERT_PROBLEM(r, 409, "parent-missing");
    it_response_free(r);
}

/* ---- deletes online ---- */

static void
test_delete_removes_the_file_from_share_and_cache(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = it_delete(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "path", "//srv/s/a.txt");
    IT_ASSERT_JBOOL(r->json, "storedOffline", 0);
    it_response_free(r);
    char path[PATH_MAX];
    it_share_file(env, "a.txt", path);
    assert_false(it_exists(path));
    r = item(env, "a.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

static void
test_delete_of_a_missing_file_answers_404(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/never.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

static void
test_delete_of_a_non_empty_directory_answers_409(void **state)
{
    struct it_env *env = *state;
    seed_dir(env, "full");
    seed(env, "full/x.txt", "x");
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/full");
    IT_ASSERT_PROBLEM(r, 409, "directory-not-empty");
    it_response_free(r);
    char *got = on_share(env, "full/x.txt");
    assert_non_null(got);
    free(got);
}

static void
test_delete_with_a_stale_if_match_answers_412(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    struct it_request rq = {
        .method = "DELETE",
        .path = "/api/v1/files/srv/s/a.txt",
        .headers = {
            "If-Match: \"2222222222222222222222222222222222222222222222222222222222222222\""}};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_non_null(got);
    free(got);
    free(etag);
}

static void
test_delete_of_an_empty_directory_removes_it(void **state)
{
    struct it_env *env = *state;
    seed_dir(env, "empty");
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/empty");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    char path[PATH_MAX];
    it_share_file(env, "empty", path);
    assert_false(it_exists(path));
    /* Offline: an empty cached directory becomes a tombstone. */
    seed_dir(env, "e2");
    r = it_get(&env->d, "/api/v1/files/srv/s/e2");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    go_offline(env);
    r = it_delete(&env->d, "/api/v1/files/srv/s/e2");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = item(env, "e2");
    IT_ASSERT_JBOOL(r->json, "change.deletedOffline", 1);
    it_response_free(r);
    it_share_file(env, "e2", path);
    assert_true(it_exists(path));
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define M(f) cmocka_unit_test_setup_teardown(f, it_setup_manual, it_teardown)
    const struct CMUnitTest tests[] = {
        M(test_put_creates_a_file_on_the_share_with_201),
        M(test_put_answers_the_etag_that_a_read_then_sees),
        M(test_put_if_match_star_needs_an_existing_file),
        M(test_put_replaces_an_existing_file_with_200),
        M(test_put_with_a_stale_if_match_answers_412_and_changes_nothing),
        M(test_put_with_the_current_if_match_replaces_the_file),
        M(test_put_over_a_change_made_on_the_server_answers_412),
        M(test_put_if_none_match_star_only_creates),
        M(test_put_into_a_missing_directory_answers_409_parent_missing),
        M(test_put_onto_a_directory_answers_409_not_a_file),
        M(test_put_onto_the_share_root_is_refused),
        M(test_put_below_a_file_answers_409_not_a_directory),
        M(test_get_a_directory_lists_its_entries),
        M(test_post_directory_creates_it_on_the_share_with_201),
        M(test_post_directory_that_exists_answers_409_already_exists),
        M(test_post_directory_without_its_parent_answers_409_parent_missing),
        M(test_delete_removes_the_file_from_share_and_cache),
        M(test_delete_of_a_missing_file_answers_404),
        M(test_delete_of_a_non_empty_directory_answers_409),
        M(test_delete_with_a_stale_if_match_answers_412),
        M(test_delete_of_an_empty_directory_removes_it),
    };
#undef M
    return cmocka_run_group_tests_name("files_write", tests, NULL, NULL);
}
