/* SPDX-License-Identifier: MIT */
/*
 * What keeps a sync from losing data: aborting a large sync between items
 * (nothing half-written), a share root that lists empty or is missing
 * (unavailable, never "deleted"), and the mass-delete threshold with its
 * confirmation. (Daemons stopped or killed mid-sync, the jobs list and the
 * cache-only operations are in sync_jobs_test.c.)
 */
#include "sync_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---- */

static void
unlink_numbered(const struct it_env *env, int from, int to)
{
    char rel[64], path[PATH_MAX];
    for (int i = from; i <= to; i++) {
        snprintf(rel, sizeof(rel), "f%04d.txt", i);
        it_share_file(env, rel, path);
        assert_int_equal(unlink(path), 0);
    }
}

static long long
mass_delete_record(const struct it_env *env, long long deletions)
{
    struct it_response *r = st_conflicts(env);
    json_t *list = it_jget(r->json, "conflicts");
    if (json_array_size(list) != 1) {
        print_error("expected one massDelete record, got %s\n", r->body);
        fail();
    }
    IT_ASSERT_JSTR(list, "0.kind", "massDelete");
    IT_ASSERT_JSTR(list, "0.syncState", "massDelete");
    IT_ASSERT_JSTR(list, "0.path", "//srv/s");
    IT_ASSERT_JINT(list, "0.deletions", deletions);
    long long id = (long long)json_integer_value(it_jget(list, "0.id"));
    it_response_free(r);
    return id;
}

static struct it_response *
resolve(const struct it_env *env, long long id, const char *resolution)
{
    char *path = it_fmt("/api/v1/conflicts/%lld/resolve", id);
    char *body = it_fmt("{\"resolution\":\"%s\"}", resolution);
    struct it_request rq = {.method = "POST",
                            .path = path,
                            .content_type = "application/json",
                            .body = body,
                            .body_len = strlen(body),
                            .timeout_s = 120};
    struct it_response *r = it_http(&env->d, &rq);
    free(body);
    free(path);
    return r;
}

/* ---- abort ---- */

struct content_check {
    const struct it_env *env;
    size_t ghosts, bad;
};

/* A cached file holds all of the server's bytes, or none (a ghost): never part of them. */
static void
check_whole(json_t *it, void *ctx)
{
    struct content_check *cc = ctx;
    const char *path = json_string_value(json_object_get(it, "path"));
    if (strcmp(json_string_value(json_object_get(it, "type")), "file") != 0)
        return;
    if (json_is_true(json_object_get(it, "ghosted"))) {
        cc->ghosts++;
        return;
    }
    int i = 0;
    if (sscanf(path, "//srv/s/f%d.txt", &i) != 1 ||
        json_integer_value(it_jget(it, "local.size")) != 10 ||
        json_integer_value(it_jget(it, "remote.size")) != 10) {
        if (cc->bad++ == 0)
            print_error("a partly cached item: %s\n", path);
    }
}

static void
test_aborting_a_sync_of_5000_new_files_stops_cleanly_and_a_rerun_completes(void **state)
{
    struct it_env *env = *state;
    st_seed_numbered(env, "", 1, 5000);
    struct it_response *r = it_json_req(&env->d, "POST", "/api/v1/sync",
                                        "{\"paths\":[\"//srv/s\"],\"fillSparse\":true}");
    IT_ASSERT_STATUS(r, 202);
    long long id = (long long)json_integer_value(it_jget(r->json, "id"));
    char *location = it_fmt("/api/v1/jobs/%lld", id);
    assert_non_null(it_resp_header(r, "Location"));
    assert_string_equal(it_resp_header(r, "Location"), location);
    it_response_free(r);
    r = it_delete(&env->d, location);
    IT_ASSERT_STATUS(r, 202);
    IT_ASSERT_JINT(r->json, "id", id);
    it_response_free(r);
    r = it_job_wait(&env->d, id, 60);
    IT_ASSERT_JSTR(r->json, "state", "aborted");
    IT_ASSERT_JSTR(r->json, "error.code", "aborted");
    assert_true(json_integer_value(it_jget(r->json, "progress.itemsDone")) < 5000);
    assert_true(json_is_string(it_jget(r->json, "endedAt")));
    it_response_free(r);
    /* Aborting it again: it has ended. */
    r = it_delete(&env->d, location);
    IT_ASSERT_PROBLEM(r, 409, "conflict");
    it_response_free(r);
    free(location);
    /* Nothing half-written: the share is as it was, the cache has whole files or ghosts. */
    assert_int_equal(st_count_entries(env->share_dir, NULL), 5000);
    assert_int_equal(it_cache_temp_files(&env->d), 0);
    struct content_check cc = {.env = env};
    size_t before = st_each_item(env, "", check_whole, &cc);
    assert_int_equal(cc.bad, 0);
    assert_true(before < 5000 || cc.ghosts > 0);
    /* A rerun finishes the rest. */
    r = st_sync_long(env, "\"fillSparse\":true");
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    cc = (struct content_check){.env = env};
    assert_int_equal(st_each_item(env, "", check_whole, &cc), 5000);
    assert_int_equal(cc.bad, 0);
    assert_int_equal(cc.ghosts, 0);
    assert_int_equal(it_cache_temp_files(&env->d), 0);
    st_go_offline(env);
    const int probes[] = {1, 2500, 5000};
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        char want[32];
        st_numbered(want, sizeof(want), probes[i]);
        r = it_get(&env->d, "/api/v1/files/srv/s/f%04d.txt", probes[i]);
        IT_ASSERT_STATUS(r, 200);
        assert_string_equal(r->body, want);
        it_response_free(r);
    }
}

/* ---- unavailable share roots ---- */

/* Three files synced into the cache with their content. */
static void
seed_and_sync_three(const struct it_env *env)
{
    st_seed(env, "a.txt", "alpha");
    st_seed(env, "b.txt", "bravo");
    st_seed(env, "d/c.txt", "charlie");
    struct it_response *r = it_sync(&env->d, "//srv/s", NULL, "{\"fillSparse\":true}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
}

static void
assert_three_still_cached(const struct it_env *env)
{
    const char *rels[] = {"a.txt", "b.txt", "d", "d/c.txt"};
    for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
        struct it_response *r = st_item(env, rels[i]);
        IT_ASSERT_STATUS(r, 200);
        IT_ASSERT_JBOOL(r->json, "local.exists", 1);
        it_response_free(r);
    }
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/d/c.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "charlie");
    it_response_free(r);
}

static void
assert_no_deletion_events(const struct it_env *env, long long since)
{
    json_t *events = it_events_since(&env->d, since), *ev;
    size_t i;
    json_array_foreach(events, i, ev)
    {
        const char *type = json_string_value(json_object_get(ev, "type"));
        if (strcmp(type, "ItemDeletedFromCache") == 0) {
            print_error("an item was deleted from the cache: %s\n",
                        json_string_value(json_object_get(ev, "path")));
            fail();
        }
    }
    json_decref(events);
}

static void
test_a_share_root_that_comes_back_empty_deletes_nothing_and_goes_offline(void **state)
{
    struct it_env *env = *state;
    seed_and_sync_three(env);
    long long since = it_events_newest(&env->d);
    char *away = it_fmt("%s/away", env->root);
    assert_int_equal(rename(env->share_dir, away), 0);
    assert_int_equal(mkdir(env->share_dir, 0700), 0);
    struct it_response *r = it_sync(&env->d, "//srv/s", NULL, NULL);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    IT_ASSERT_JSTR(r->json, "error.code", "share-unavailable");
    assert_int_equal(json_array_size(it_jget(r->json, "results")), 0);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "state", "offline");
    it_response_free(r);
    assert_three_still_cached(env);
    assert_no_deletion_events(env, since);
    assert_int_equal(st_count_entries(env->share_dir, NULL), 0);
    char *c = it_fmt("%s/d/c.txt", away);
    char *got = it_read_file(c, NULL);
    assert_non_null(got);
    assert_string_equal(got, "charlie");
    free(got);
    free(c);
    assert_int_equal(st_count_entries(away, NULL), 3);
    /* The real root returns: the share comes back and a sync still deletes nothing. */
    assert_int_equal(rmdir(env->share_dir), 0);
    assert_int_equal(rename(away, env->share_dir), 0);
    free(away);
    const char *now = "";
    for (int i = 0; i < 100 && strcmp(now, "online") != 0; i++) {
        st_pause_ms(100);
        r = it_get(&env->d, "/api/v1/connection/srv/s");
        now = json_is_string(it_jget(r->json, "state")) &&
                      strcmp(json_string_value(it_jget(r->json, "state")), "online") == 0
                  ? "online"
                  : "offline";
        it_response_free(r);
    }
    assert_string_equal(now, "online");
    assert_int_equal(it_jobs_idle(&env->d, 30), 0);
    r = it_sync(&env->d, "//srv/s", NULL, NULL);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    assert_three_still_cached(env);
    assert_no_deletion_events(env, since);
}

static void
test_a_missing_share_root_deletes_nothing(void **state)
{
    struct it_env *env = *state;
    seed_and_sync_three(env);
    long long since = it_events_newest(&env->d);
    char *away = it_fmt("%s/away", env->root);
    assert_int_equal(rename(env->share_dir, away), 0);
    struct it_response *r = it_sync(&env->d, "//srv/s", NULL, NULL);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    IT_ASSERT_JSTR(r->json, "error.code", "share-unavailable");
    it_response_free(r);
    /* A sync of one directory in it is no different. */
    r = it_sync(&env->d, "//srv/s/d", NULL, NULL);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    IT_ASSERT_JSTR(r->json, "error.code", "share-unavailable");
    it_response_free(r);
    assert_three_still_cached(env);
    assert_no_deletion_events(env, since);
    assert_false(it_exists(env->share_dir));
    assert_int_equal(st_count_entries(away, NULL), 3);
    free(away);
}

static void
test_a_sync_of_paths_inside_a_share_whose_root_came_back_empty_deletes_nothing(void **state)
{
    struct it_env *env = *state;
    seed_and_sync_three(env);
    long long since = it_events_newest(&env->d);
    char *away = it_fmt("%s/away", env->root);
    assert_int_equal(rename(env->share_dir, away), 0);
    assert_int_equal(mkdir(env->share_dir, 0700), 0);
    const char *paths[] = {"//srv/s/a.txt", "//srv/s/d"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct it_response *r = it_sync(&env->d, paths[i], NULL, NULL);
        IT_ASSERT_STATUS(r, 200);
        IT_ASSERT_JSTR(r->json, "state", "failed");
        IT_ASSERT_JSTR(r->json, "error.code", "share-unavailable");
        it_response_free(r);
    }
    assert_three_still_cached(env);
    assert_no_deletion_events(env, since);
    assert_int_equal(st_count_entries(away, NULL), 3);
    free(away);
}

/* ---- mass delete ---- */

static void
test_a_sync_deleting_most_of_a_share_waits_for_confirm_delete(void **state)
{
    struct it_env *env = *state;
    st_seed_numbered(env, "", 1, 30);
    struct it_response *r = st_sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    assert_int_equal(st_each_item(env, "", NULL, NULL), 30);
    unlink_numbered(env, 1, 20);
    r = st_sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    IT_ASSERT_JSTR(r->json, "error.code", "conflict");
    it_response_free(r);
    assert_int_equal(st_each_item(env, "", NULL, NULL), 30);
    long long id = mass_delete_record(env, 20);
    /* A second sync stops the same way and keeps one record. */
    r = st_sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    it_response_free(r);
    assert_int_equal(mass_delete_record(env, 20), id);
    r = resolve(env, id, "keepLocal");
    IT_ASSERT_PROBLEM(r, 409, "conflict");
    it_response_free(r);
    assert_int_equal(st_each_item(env, "", NULL, NULL), 30);
    r = resolve(env, id, "confirmDelete");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "resolved", 1);
    IT_ASSERT_JSTR(r->json, "job.state", "succeeded");
    it_response_free(r);
    assert_int_equal(st_each_item(env, "", NULL, NULL), 10);
    r = st_item(env, "f0001.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = st_item(env, "f0030.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = st_conflicts(env);
    assert_int_equal(json_array_size(it_jget(r->json, "conflicts")), 0);
    it_response_free(r);
    assert_int_equal(st_count_entries(env->share_dir, NULL), 10);
}

static void
test_discarding_a_mass_delete_record_deletes_nothing(void **state)
{
    struct it_env *env = *state;
    st_seed_numbered(env, "", 1, 30);
    struct it_response *r = st_sync_long(env, NULL);
    it_response_free(r);
    unlink_numbered(env, 1, 20);
    r = st_sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    it_response_free(r);
    long long id = mass_delete_record(env, 20);
    r = resolve(env, id, "discard");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "resolved", 1);
    IT_ASSERT_JNULL(r->json, "job");
    it_response_free(r);
    assert_int_equal(st_each_item(env, "", NULL, NULL), 30);
    r = st_conflicts(env);
    assert_int_equal(json_array_size(it_jget(r->json, "conflicts")), 0);
    it_response_free(r);
}

static void
test_deletions_within_the_threshold_need_no_confirmation(void **state)
{
    struct it_env *env = *state;
    /* Ten of twelve: most of the share, but not more than ten items. */
    st_seed_numbered(env, "", 1, 12);
    struct it_response *r = st_sync_long(env, NULL);
    it_response_free(r);
    unlink_numbered(env, 1, 10);
    r = st_sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    assert_int_equal(st_each_item(env, "", NULL, NULL), 2);
    /* Eleven of forty-two: more than ten items, but not more than half. */
    st_seed_numbered(env, "", 13, 52);
    r = st_sync_long(env, NULL);
    it_response_free(r);
    assert_int_equal(st_each_item(env, "", NULL, NULL), 42);
    unlink_numbered(env, 13, 23);
    r = st_sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    assert_int_equal(st_each_item(env, "", NULL, NULL), 31);
    r = st_conflicts(env);
    assert_int_equal(json_array_size(it_jget(r->json, "conflicts")), 0);
    it_response_free(r);
}

static void
test_more_than_1000_deletions_wait_for_confirmation_even_in_a_big_share(void **state)
{
    struct it_env *env = *state;
    /* 1001 of 2100 is under half: only the absolute limit applies. */
    st_seed_numbered(env, "", 1, 2100);
    struct it_response *r = st_sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    unlink_numbered(env, 1, 1001);
    r = st_sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    IT_ASSERT_JSTR(r->json, "error.code", "conflict");
    it_response_free(r);
    assert_int_equal(st_each_item(env, "", NULL, NULL), 2100);
    long long id = mass_delete_record(env, 1001);
    r = resolve(env, id, "confirmDelete");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    assert_int_equal(st_each_item(env, "", NULL, NULL), 1099);
}

static void
test_offline_deletions_beyond_the_threshold_wait_and_the_server_keeps_its_files(void **state)
{
    struct it_env *env = *state;
    st_seed_numbered(env, "", 1, 30);
    struct it_response *r = st_sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    st_unplug(env);
    for (int i = 1; i <= 20; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/api/v1/files/srv/s/f%04d.txt", i);
        r = it_delete(&env->d, path);
        IT_ASSERT_STATUS(r, 200);
        IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
        it_response_free(r);
    }
    st_replug_and_restart(env);
    r = st_sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    IT_ASSERT_JSTR(r->json, "error.code", "conflict");
    it_response_free(r);
    assert_int_equal(st_count_entries(env->share_dir, NULL), 30);
    long long id = mass_delete_record(env, 20);
    assert_int_equal(st_each_item(env, "&flags=deletedOffline", NULL, NULL), 20);
    r = resolve(env, id, "confirmDelete");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "job.state", "succeeded");
    it_response_free(r);
    assert_int_equal(st_count_entries(env->share_dir, NULL), 10);
    assert_int_equal(st_each_item(env, "", NULL, NULL), 10);
    assert_int_equal(st_each_item(env, "&flags=dirty", NULL, NULL), 0);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define A(f) cmocka_unit_test_setup_teardown(f, it_setup_auto, it_teardown)
    const struct CMUnitTest tests[] = {
        A(test_aborting_a_sync_of_5000_new_files_stops_cleanly_and_a_rerun_completes),
        A(test_a_share_root_that_comes_back_empty_deletes_nothing_and_goes_offline),
        A(test_a_missing_share_root_deletes_nothing),
        A(test_a_sync_of_paths_inside_a_share_whose_root_came_back_empty_deletes_nothing),
        A(test_a_sync_deleting_most_of_a_share_waits_for_confirm_delete),
        A(test_discarding_a_mass_delete_record_deletes_nothing),
        A(test_deletions_within_the_threshold_need_no_confirmation),
        A(test_more_than_1000_deletions_wait_for_confirmation_even_in_a_big_share),
        A(test_offline_deletions_beyond_the_threshold_wait_and_the_server_keeps_its_files),
    };
#undef A
    return cmocka_run_group_tests(tests, NULL, NULL);
}
