/* SPDX-License-Identifier: MIT */
/*
 * Jobs across stops and kills, and the operations that only touch the
 * cache: a daemon killed with SIGKILL in the middle of a large sync-out
 * (no dirty change lost, nothing torn, a sound database, the job
 * "interrupted" after restart), a daemon stopped cleanly mid-job, the jobs
 * list and abort, cache delete (refuses dirty items, runs as a job) and
 * cache rename, neither of which ever touches the server.
 */
#include "sync_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a daemon killed mid-sync ---- */

#define KILL_FILES 300

static char *
version_of(int i, int new_version)
{
    char *pad = it_repeat(new_version ? 'n' : 'o', new_version ? 4100 : 4000);
    char *text = it_fmt("%s %03d %s", new_version ? "new" : "old", i, pad);
    free(pad);
    return text;
}

static void
assert_integrity_ok(const char *data_dir)
{
    char *cmd = it_fmt("sqlite3 '%s/offlinefiles.db' 'PRAGMA integrity_check' 2>&1", data_dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096] = "";
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    free(cmd);
    if (rc != 0 || strcmp(out, "ok\n") != 0) {
        print_error("integrity_check (exit %d): %s\n", rc, out);
        fail();
    }
}

static void
test_a_daemon_killed_in_a_large_sync_out_loses_no_change(void **state)
{
    struct it_env *env = *state;
    char rel[32];
    for (int i = 0; i < KILL_FILES; i++) {
        char *old = version_of(i, 0);
        snprintf(rel, sizeof(rel), "k%03d.txt", i);
        st_seed(env, rel, old);
        free(old);
    }
    struct it_response *r = st_sync_long(env, "\"fillSparse\":true");
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    /* Every file changed while the share is unreachable. */
    st_unplug(env);
    for (int i = 0; i < KILL_FILES; i++) {
        char *text = version_of(i, 1);
        char *path = it_fmt("/api/v1/files/srv/s/k%03d.txt", i);
        r = it_put(&env->d, path, text, strlen(text));
        IT_ASSERT_STATUS(r, 200);
        IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
        it_response_free(r);
        free(path);
        free(text);
    }
    st_replug_and_restart(env);
    r = it_json_req(&env->d, "POST", "/api/v1/sync", "{\"paths\":[\"//srv/s\"],\"in\":false}");
    IT_ASSERT_STATUS(r, 202);
    long long id = (long long)json_integer_value(it_jget(r->json, "id"));
    it_response_free(r);
    long long done = 0, total = 0;
    for (int i = 0; i < 3000 && done < 20; i++) {
        r = it_get(&env->d, "/api/v1/jobs/%lld", id);
        done = (long long)json_integer_value(it_jget(r->json, "progress.itemsDone"));
        total = (long long)json_integer_value(it_jget(r->json, "progress.itemsTotal"));
        it_response_free(r);
        if (done < 20)
            st_pause_ms(2);
    }
    it_daemon_kill(&env->d);
    if (done < 20 || done >= total) {
        print_error("the kill came at item %lld of %lld: not in the middle\n", done, total);
        fail();
    }
    assert_integrity_ok(env->d.data_dir);
    assert_int_equal(it_daemon_start(&env->d), 0);
    /* The job was running: now it says so. */
    r = it_get(&env->d, "/api/v1/jobs/%lld", id);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "interrupted");
    assert_true(json_is_string(it_jget(r->json, "endedAt")));
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/jobs");
    json_t *listed = NULL, *job;
    size_t k;
    json_array_foreach(it_jget(r->json, "jobs"), k, job)
    {
        if (json_integer_value(json_object_get(job, "id")) == id)
            listed = job;
    }
    assert_non_null(listed);
    IT_ASSERT_JSTR(listed, "state", "interrupted");
    it_response_free(r);
    /* Each change is on the server, or still dirty in the cache: never lost, never torn. */
    int pushed = 0;
    for (int i = 0; i < KILL_FILES; i++) {
        char *old = version_of(i, 0), *new_text = version_of(i, 1);
        snprintf(rel, sizeof(rel), "k%03d.txt", i);
        char *got = st_on_server(env, rel);
        assert_non_null(got);
        if (strcmp(got, new_text) == 0) {
            pushed++;
        } else {
            assert_string_equal(got, old);
            r = st_item(env, rel);
            IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
            it_response_free(r);
            r = it_get(&env->d, "/api/v1/files/srv/s/%s", rel);
            IT_ASSERT_STATUS(r, 200);
            assert_string_equal(r->body, new_text);
            it_response_free(r);
        }
        free(got);
        free(old);
        free(new_text);
    }
    assert_true(pushed >= 20 && pushed < KILL_FILES);
    /* A rerun finishes: everything out, nothing dirty, no conflict. */
    r = st_sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    for (int i = 0; i < KILL_FILES; i++) {
        char *new_text = version_of(i, 1);
        snprintf(rel, sizeof(rel), "k%03d.txt", i);
        ST_ASSERT_ON_SERVER(env, rel, new_text);
        free(new_text);
    }
    assert_int_equal(st_each_item(env, "&flags=dirty", NULL, NULL), 0);
    r = st_conflicts(env);
    assert_int_equal(json_array_size(it_jget(r->json, "conflicts")), 0);
    it_response_free(r);
    assert_integrity_ok(env->d.data_dir);
}

static void
test_a_job_running_when_the_daemon_stops_is_interrupted_after_restart(void **state)
{
    struct it_env *env = *state;
    st_seed_numbered(env, "", 1, 2000);
    struct it_response *r = it_json_req(&env->d, "POST", "/api/v1/sync",
                                        "{\"paths\":[\"//srv/s\"],\"fillSparse\":true}");
    IT_ASSERT_STATUS(r, 202);
    long long id = (long long)json_integer_value(it_jget(r->json, "id"));
    it_response_free(r);
    long long done = 0;
    for (int i = 0; i < 1000 && done == 0; i++) {
        r = it_get(&env->d, "/api/v1/jobs/%lld", id);
        done = (long long)json_integer_value(it_jget(r->json, "progress.itemsDone"));
        it_response_free(r);
        if (done == 0)
            st_pause_ms(5);
    }
    assert_true(done > 0);
    /* A clean stop in the middle of the job: nobody asked for an abort. */
    assert_int_equal(it_daemon_stop(&env->d), 0);
    assert_int_equal(it_daemon_start(&env->d), 0);
    r = it_get(&env->d, "/api/v1/jobs/%lld", id);
    IT_ASSERT_STATUS(r, 200);
    assert_true(json_integer_value(it_jget(r->json, "progress.itemsDone")) < 2000);
    IT_ASSERT_JSTR(r->json, "state", "interrupted");
    it_response_free(r);
}

/* ---- jobs ---- */

static void
test_jobs_are_listed_newest_first_and_an_ended_job_cannot_be_aborted(void **state)
{
    struct it_env *env = *state;
    st_seed(env, "a.txt", "alpha");
    struct it_response *r = it_sync(&env->d, "//srv/s", NULL, NULL);
    long long first = (long long)json_integer_value(it_jget(r->json, "id"));
    it_response_free(r);
    r = it_sync(&env->d, "//srv/s", "keepAll", "{\"in\":true,\"out\":false}");
    IT_ASSERT_STATUS(r, 200);
    long long second = (long long)json_integer_value(it_jget(r->json, "id"));
    IT_ASSERT_JSTR(r->json, "kind", "sync");
    IT_ASSERT_JSTR(r->json, "createdBy", "admin");
    assert_true(json_is_array(it_jget(r->json, "results")));
    it_response_free(r);
    assert_true(second > first);
    r = it_get(&env->d, "/api/v1/jobs");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JINT(r->json, "jobs.0.id", second);
    IT_ASSERT_JINT(r->json, "jobs.1.id", first);
    IT_ASSERT_JSTR(r->json, "jobs.0.state", "succeeded");
    assert_true(json_is_integer(it_jget(r->json, "jobs.0.progress.itemsTotal")));
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/jobs?limit=1");
    assert_int_equal(json_array_size(it_jget(r->json, "jobs")), 1);
    it_response_free(r);
    char *path = it_fmt("/api/v1/jobs/%lld", second);
    r = it_delete(&env->d, path);
    IT_ASSERT_PROBLEM(r, 409, "conflict");
    it_response_free(r);
    free(path);
    r = it_get(&env->d, "/api/v1/jobs/999999");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = it_delete(&env->d, "/api/v1/jobs/999999");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    /* A sync of something not in the cache is refused up front. */
    r = it_sync(&env->d, "//srv/s/never-seen.txt", NULL, NULL);
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

/* ---- cache-only operations ---- */

static struct it_response *
cache_delete(const struct it_env *env, const char *paths_json, int allow_dirty)
{
    char *body = it_fmt("{\"paths\":%s,\"allowDirty\":%s,\"wait\":true}", paths_json,
                        allow_dirty ? "true" : "false");
    struct it_response *r = it_json_req(&env->d, "POST", "/api/v1/cache/delete", body);
    free(body);
    return r;
}

static void
test_cache_delete_refuses_dirty_items_without_allow_dirty_and_leaves_the_server_alone(void **state)
{
    struct it_env *env = *state;
    st_seed(env, "a.txt", "alpha");
    st_seed(env, "b.txt", "bravo");
    st_seed(env, "d/c.txt", "charlie");
    const char *rels[] = {"a.txt", "b.txt", "d/c.txt"};
    for (size_t i = 0; i < 3; i++) {
        struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/%s", rels[i]);
        IT_ASSERT_STATUS(r, 200);
        it_response_free(r);
    }
    st_go_offline(env);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/b.txt", "bravo, offline", 14);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = it_put(&env->d, "/api/v1/files/srv/s/d/c.txt", "charlie, offline", 16);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    long long since = it_events_newest(&env->d);
    r = cache_delete(env, "[\"//srv/s/b.txt\"]", 0);
    IT_ASSERT_PROBLEM(r, 409, "conflict");
    it_response_free(r);
    r = cache_delete(env, "[\"//srv/s/d\"]", 0);
    IT_ASSERT_PROBLEM(r, 409, "conflict");
    it_response_free(r);
    r = cache_delete(env, "[\"//srv/s\"]", 1);
    IT_ASSERT_PROBLEM(r, 400, "invalid-path");
    it_response_free(r);
    r = st_item(env, "b.txt");
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    it_response_free(r);
    r = cache_delete(env, "[\"//srv/s/a.txt\"]", 0);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "kind", "delete");
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    IT_ASSERT_JSTR(r->json, "results.0.result", "ok");
    it_response_free(r);
    r = cache_delete(env, "[\"//srv/s/b.txt\", \"//srv/s/d\"]", 1);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    assert_int_equal(json_array_size(it_jget(r->json, "results")), 2);
    it_response_free(r);
    const char *gone[] = {"a.txt", "b.txt", "d", "d/c.txt"};
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
        r = st_item(env, gone[i]);
        IT_ASSERT_PROBLEM(r, 404, "not-found");
        it_response_free(r);
    }
    ST_ASSERT_ON_SERVER(env, "a.txt", "alpha");
    ST_ASSERT_ON_SERVER(env, "b.txt", "bravo");
    ST_ASSERT_ON_SERVER(env, "d/c.txt", "charlie");
    json_t *events = it_events_since(&env->d, since), *ev;
    size_t i;
    int deleted = 0;
    json_array_foreach(events, i, ev)
    {
        deleted +=
            strcmp(json_string_value(json_object_get(ev, "type")), "ItemDeletedFromCache") == 0;
    }
    json_decref(events);
    assert_int_equal(deleted, 3);
}

static void
test_cache_rename_moves_the_item_in_the_cache_only(void **state)
{
    struct it_env *env = *state;
    st_seed(env, "a.txt", "alpha");
    st_seed(env, "b.txt", "bravo, longer");
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/b.txt");
    it_response_free(r);
    long long since = it_events_newest(&env->d);
    r = it_json_req(&env->d, "POST", "/api/v1/cache/rename",
                    "{\"from\":\"//srv/s/a.txt\",\"to\":\"//srv/s/renamed.txt\"}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "path", "//srv/s/renamed.txt");
    IT_ASSERT_JINT(r->json, "local.size", 5);
    it_response_free(r);
    r = st_item(env, "a.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "a.txt", "alpha");
    char path[PATH_MAX];
    it_share_file(env, "renamed.txt", path);
    assert_false(it_exists(path));
    json_t *events = it_events_since(&env->d, since);
    long found = -1;
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *ev = json_array_get(events, i);
        if (strcmp(json_string_value(json_object_get(ev, "type")), "ItemRenamed") == 0)
            found = (long)i;
    }
    assert_true(found >= 0);
    IT_ASSERT_JSTR(json_array_get(events, (size_t)found), "path", "//srv/s/renamed.txt");
    IT_ASSERT_JSTR(json_array_get(events, (size_t)found), "oldPath", "//srv/s/a.txt");
    json_decref(events);
    /* Onto a cached item: only with replace. */
    r = it_json_req(&env->d, "POST", "/api/v1/cache/rename",
                    "{\"from\":\"//srv/s/renamed.txt\",\"to\":\"//srv/s/b.txt\"}");
    IT_ASSERT_PROBLEM(r, 409, "already-exists");
    it_response_free(r);
    r = it_json_req(&env->d, "POST", "/api/v1/cache/rename",
                    "{\"from\":\"//srv/s/renamed.txt\",\"to\":\"//srv/s/b.txt\",\"replace\":true}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JINT(r->json, "local.size", 5);
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "b.txt", "bravo, longer");
    r = it_json_req(&env->d, "POST", "/api/v1/cache/rename",
                    "{\"from\":\"//srv/s/none.txt\",\"to\":\"//srv/s/other.txt\"}");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = it_json_req(&env->d, "POST", "/api/v1/cache/rename",
                    "{\"from\":\"//srv/s/b.txt\",\"to\":\"//srv/t/b.txt\"}");
    IT_ASSERT_PROBLEM(r, 400, "invalid-field");
    it_response_free(r);
}

/* ---- a daemon killed mid-pin ---- */

#define PIN_KILL_FILES 3000

struct cached_list {
    char **paths;
    size_t n;
    int ghosts;
};

static void
collect_cached(json_t *it, void *ctx)
{
    struct cached_list *c = ctx;
    if (strcmp(json_string_value(json_object_get(it, "type")), "file") != 0)
        return;
    if (json_is_true(json_object_get(it, "ghosted"))) {
        c->ghosts++;
        return;
    }
    c->paths = realloc(c->paths, (c->n + 1) * sizeof(*c->paths));
    assert_non_null(c->paths);
    c->paths[c->n++] = strdup(json_string_value(json_object_get(it, "path")));
}

/*
 * Pin fills are made durable in batches (one cache sync, one commit): a kill
 * in the middle must leave every file either cached whole, with its row, or
 * a ghost; no row names content that is missing or torn, no temp file stays.
 */
static void
test_a_daemon_killed_in_a_large_pin_leaves_whole_files_or_ghosts(void **state)
{
    struct it_env *env = *state;
    st_seed_numbered(env, "", 1, PIN_KILL_FILES);
    struct it_response *r =
        it_json_req(&env->d, "POST", "/api/v1/pins", "{\"paths\":[\"//srv/s\"],\"deep\":true}");
    IT_ASSERT_STATUS(r, 202);
    long long id = (long long)json_integer_value(it_jget(r->json, "id"));
    it_response_free(r);
    long long done = 0, total = 0;
    for (int i = 0; i < 5000 && done < 600; i++) {
        r = it_get(&env->d, "/api/v1/jobs/%lld", id);
        done = (long long)json_integer_value(it_jget(r->json, "progress.itemsDone"));
        total = (long long)json_integer_value(it_jget(r->json, "progress.itemsTotal"));
        it_response_free(r);
        if (done < 600)
            st_pause_ms(2);
    }
    it_daemon_kill(&env->d);
    if (done < 600 || done >= total) {
        print_error("the kill came at item %lld of %lld: not in the middle\n", done, total);
        fail();
    }
    assert_integrity_ok(env->d.data_dir);
    assert_int_equal(it_daemon_start(&env->d), 0);
    r = it_get(&env->d, "/api/v1/jobs/%lld", id);
    IT_ASSERT_JSTR(r->json, "state", "interrupted");
    it_response_free(r);
    assert_int_equal(it_cache_temp_files(&env->d), 0);
    struct cached_list c = {0};
    st_each_item(env, "", collect_cached, &c);
    /* Some batches were committed before the kill; the rest of the tree is ghosts. */
    assert_true(c.n > 0);
    assert_true(c.n + (size_t)c.ghosts == PIN_KILL_FILES);
    st_go_offline(env);
    char want[32];
    for (size_t i = 0; i < c.n; i++) {
        int k = 0;
        assert_int_equal(sscanf(c.paths[i], "//srv/s/f%d.txt", &k), 1);
        st_numbered(want, sizeof(want), k);
        r = it_get(&env->d, "/api/v1/files/srv/s/f%04d.txt", k);
        IT_ASSERT_STATUS(r, 200);
        assert_string_equal(r->body, want);
        it_response_free(r);
        free(c.paths[i]);
    }
    free(c.paths);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define A(f) cmocka_unit_test_setup_teardown(f, it_setup_auto, it_teardown)
    const struct CMUnitTest tests[] = {
        A(test_a_daemon_killed_in_a_large_sync_out_loses_no_change),
        A(test_a_daemon_killed_in_a_large_pin_leaves_whole_files_or_ghosts),
        A(test_a_job_running_when_the_daemon_stops_is_interrupted_after_restart),
        A(test_jobs_are_listed_newest_first_and_an_ended_job_cannot_be_aborted),
        A(test_cache_delete_refuses_dirty_items_without_allow_dirty_and_leaves_the_server_alone),
        A(test_cache_rename_moves_the_item_in_the_cache_only),
    };
#undef A
    return cmocka_run_group_tests(tests, NULL, NULL);
}
