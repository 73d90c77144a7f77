/* SPDX-License-Identifier: MIT */
/*
 * Sync conflicts beyond two edits of one file: deletions against
 * modifications both ways, the same new name on both sides, a directory on
 * one side and a file on the other, renames and directory deletions on the
 * server, two daemons on one share, the background sync that going online
 * starts (it only records conflicts), the events of a sync with a conflict
 * and its resolution, and what POST /conflicts/{id}/resolve accepts.
 */
#include "sync_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCAL "local edit"
#define REMOTE "remote edit, longer"

/* Seeded next to the files a test deletes, so the share root never lists empty. */
static void
seed_keeper(const struct it_env *env)
{
    st_seed(env, "keep.txt", "keeps the share root from listing empty");
    st_cache_file(env, "keep.txt");
}

static struct it_response *
resolve(const struct it_env *env, long long id, const char *body)
{
    char *path = it_fmt("/api/v1/conflicts/%lld/resolve", id);
    struct it_response *r = it_json_req(&env->d, "POST", path, body);
    free(path);
    return r;
}

/* ---- deletions against modifications ---- */

static void
test_offline_delete_against_a_server_edit_is_a_conflict_and_loses_nothing(void **state)
{
    struct it_env *env = *state;
    seed_keeper(env);
    st_seed(env, "a.txt", ST_BASE);
    st_cache_file(env, "a.txt");
    st_unplug(env);
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    st_seed(env, "a.txt", "edited on the server");
    st_replug_and_restart(env);
    r = ST_SYNC_SHARE(env, NULL, "succeeded");
    ST_ASSERT_RESULT(r, "a.txt", "conflict", "conflict", "DeletedOnClient_FileChangedOnServer");
    it_response_free(r);
    ST_ASSERT_ONE_CONFLICT(env, "//srv/s/a.txt", "DeletedOnClient_FileChangedOnServer");
    ST_ASSERT_ON_SERVER(env, "a.txt", "edited on the server");
    r = st_item(env, "a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "change.deletedOffline", 1);
    it_response_free(r);
}

static void
test_server_delete_against_an_offline_edit_is_a_conflict_and_loses_nothing(void **state)
{
    struct it_env *env = *state;
    seed_keeper(env);
    st_seed(env, "a.txt", ST_BASE);
    st_cache_file(env, "a.txt");
    st_unplug(env);
    st_put_offline(env, "a.txt", "edited offline");
    char *moved = it_fmt("%s/unplugged/a.txt", env->root);
    assert_int_equal(unlink(moved), 0);
    free(moved);
    st_replug_and_restart(env);
    struct it_response *r = ST_SYNC_SHARE(env, NULL, "succeeded");
    ST_ASSERT_RESULT(r, "a.txt", "conflict", "conflict", "FileChangedOnClient_DeletedOnServer");
    it_response_free(r);
    ST_ASSERT_ONE_CONFLICT(env, "//srv/s/a.txt", "FileChangedOnClient_DeletedOnServer");
    /* Held by the conflict, the offline edit is served from the cache: the item is offline. */
    r = st_item(env, "a.txt");
    IT_ASSERT_JSTR(r->json, "connection.state", "offline");
    IT_ASSERT_JSTR(r->json, "connection.reason", "versionConflict");
    it_response_free(r);
    r = st_item(env, "keep.txt");
    IT_ASSERT_JSTR(r->json, "connection.state", "online");
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "a.txt", NULL);
    ST_ASSERT_DIRTY(env, "a.txt", 1);
    ST_ASSERT_CACHED(env, "a.txt", "edited offline");
}

static void
test_a_server_deleted_directory_with_an_offline_edit_under_it_is_one_conflict(void **state)
{
    struct it_env *env = *state;
    seed_keeper(env);
    st_seed(env, "d/x.txt", "x before");
    st_seed(env, "d/y.txt", "y untouched");
    st_seed(env, "d/sub/z.txt", "z untouched");
    st_cache_file(env, "d/x.txt");
    st_cache_file(env, "d/y.txt");
    st_cache_file(env, "d/sub/z.txt");
    st_unplug(env);
    st_put_offline(env, "d/x.txt", "x edited offline");
    char *moved = it_fmt("%s/unplugged/d", env->root);
    it_rmrf(moved);
    assert_false(it_exists(moved));
    free(moved);
    st_replug_and_restart(env);
    struct it_response *r = ST_SYNC_SHARE(env, NULL, "succeeded");
    IT_ASSERT_JSTR(ST_RESULT_OF(r, "d"), "result", "conflict");
    ST_ASSERT_NO_RESULT(r, "d/y.txt");
    ST_ASSERT_NO_RESULT(r, "d/sub/z.txt");
    it_response_free(r);
    ST_ASSERT_ONE_CONFLICT(env, "//srv/s/d", "DirChangedOnClient_DeletedOnServer");
    const char *kept[] = {"d", "d/y.txt", "d/sub", "d/sub/z.txt", "d/x.txt"};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        r = st_item(env, kept[i]);
        IT_ASSERT_STATUS(r, 200);
        it_response_free(r);
    }
    ST_ASSERT_DIRTY(env, "d/x.txt", 1);
    ST_ASSERT_CACHED(env, "d/x.txt", "x edited offline");
    ST_ASSERT_CACHED(env, "d/y.txt", "y untouched");
    ST_ASSERT_CACHED(env, "d/sub/z.txt", "z untouched");
}

static void
test_an_offline_deleted_directory_that_gained_a_file_on_the_server_is_a_conflict(void **state)
{
    struct it_env *env = *state;
    seed_keeper(env);
    char dir[PATH_MAX];
    it_share_file(env, "e", dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    st_unplug(env);
    r = it_delete(&env->d, "/api/v1/files/srv/s/e");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    st_seed(env, "e/new.txt", "added on the server meanwhile");
    st_replug_and_restart(env);
    r = ST_SYNC_SHARE(env, NULL, "succeeded");
    IT_ASSERT_JSTR(ST_RESULT_OF(r, "e"), "result", "conflict");
    it_response_free(r);
    ST_ASSERT_ONE_CONFLICT(env, "//srv/s/e", "DeletedOnClient_DirChangedOnServer");
    ST_ASSERT_ON_SERVER(env, "e/new.txt", "added on the server meanwhile");
}

/* ---- created on both sides ---- */

static void
create_both(struct it_env *env, const char *local, const char *remote)
{
    st_unplug(env);
    st_put_offline(env, "new.txt", local);
    st_seed(env, "new.txt", remote);
    st_replug_and_restart(env);
}

static void
test_the_same_new_name_with_other_content_on_both_sides_is_a_conflict(void **state)
{
    struct it_env *env = *state;
    create_both(env, "made on the client", "made on the server");
    struct it_response *r = ST_SYNC_SHARE(env, NULL, "succeeded");
    ST_ASSERT_RESULT(r, "new.txt", "conflict", "conflict", "FileCreatedOnClient_FileOnServer");
    it_response_free(r);
    ST_ASSERT_ONE_CONFLICT(env, "//srv/s/new.txt", "FileCreatedOnClient_FileOnServer");
    ST_ASSERT_ON_SERVER(env, "new.txt", "made on the server");
    ST_ASSERT_DIRTY(env, "new.txt", 1);
    ST_ASSERT_CACHED(env, "new.txt", "made on the client");
}

static void
test_the_same_new_file_on_both_sides_is_no_conflict(void **state)
{
    struct it_env *env = *state;
    create_both(env, "made the same on both", "made the same on both");
    struct it_response *r = ST_SYNC_SHARE(env, NULL, "succeeded");
    IT_ASSERT_JSTR(ST_RESULT_OF(r, "new.txt"), "result", "ok");
    it_response_free(r);
    ST_ASSERT_NO_CONFLICTS(env);
    r = st_item(env, "new.txt");
    IT_ASSERT_JBOOL(r->json, "change.dirty", 0);
    IT_ASSERT_JBOOL(r->json, "change.createdOffline", 0);
    IT_ASSERT_JBOOL(r->json, "original.exists", 1);
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "new.txt", "made the same on both");
}

static void
test_a_directory_on_one_side_and_a_file_on_the_other_is_a_conflict(void **state)
{
    struct it_env *env = *state;
    st_unplug(env);
    st_put_offline(env, "thing", "a file made offline");
    struct it_response *r =
        it_json_req(&env->d, "POST", "/api/v1/files/srv/s/other", "{\"type\":\"directory\"}");
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    st_seed(env, "thing/inner.txt", "under the server's directory");
    st_seed(env, "other", "a file on the server");
    st_replug_and_restart(env);
    r = ST_SYNC_SHARE(env, NULL, "succeeded");
    ST_ASSERT_RESULT(r, "thing", "conflict", "conflict", "FileCreatedOnClient_DirOnServer");
    ST_ASSERT_RESULT(r, "other", "conflict", "conflict", "DirCreatedOnClient_FileOnServer");
    it_response_free(r);
    r = st_conflicts(env);
    assert_int_equal(json_array_size(it_jget(r->json, "conflicts")), 2);
    assert_non_null(it_jfind_path(r->json, "conflicts", "//srv/s/thing"));
    assert_non_null(it_jfind_path(r->json, "conflicts", "//srv/s/other"));
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "thing/inner.txt", "under the server's directory");
    ST_ASSERT_ON_SERVER(env, "other", "a file on the server");
    r = st_item(env, "thing");
    IT_ASSERT_JSTR(r->json, "type", "file");
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    it_response_free(r);
    r = st_item(env, "other");
    IT_ASSERT_JSTR(r->json, "type", "directory");
    IT_ASSERT_JBOOL(r->json, "change.createdOffline", 1);
    it_response_free(r);
    ST_ASSERT_CACHED(env, "thing", "a file made offline");
}

/* ---- server-side renames ---- */

static void
test_a_rename_on_the_server_drops_the_old_name_and_brings_the_new_one(void **state)
{
    struct it_env *env = *state;
    seed_keeper(env);
    st_seed(env, "old.txt", "renamed content");
    st_cache_file(env, "old.txt");
    char from[PATH_MAX], to[PATH_MAX];
    it_share_file(env, "old.txt", from);
    it_share_file(env, "new.txt", to);
    assert_int_equal(rename(from, to), 0);
    struct it_response *r = ST_SYNC_SHARE(env, NULL, "succeeded");
    ST_ASSERT_RESULT(r, "old.txt", "ok", "deleteClientCopy", "FileDeletedOnServer");
    ST_ASSERT_RESULT(r, "new.txt", "ok", "createClientCopy", "NoClientCopy_FileOnServer");
    it_response_free(r);
    r = st_item(env, "old.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = st_item(env, "new.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JINT(r->json, "remote.size", (long long)strlen("renamed content"));
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "new.txt", "renamed content");
    ST_ASSERT_ON_SERVER(env, "old.txt", NULL);
    st_go_offline(env);
    r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    json_t *ents = it_jget(r->json, "entries");
    int saw_new = 0, saw_old = 0;
    for (size_t i = 0; i < json_array_size(ents); i++) {
        const char *name = json_string_value(it_jget(json_array_get(ents, i), "name"));
        saw_new |= name && strcmp(name, "new.txt") == 0;
        saw_old |= name && strcmp(name, "old.txt") == 0;
    }
    assert_true(saw_new);
    assert_false(saw_old);
    it_response_free(r);
}

/* ---- two daemons, one share ---- */

/* Poll the server's copy of rel until it holds want (at most 5 s). */
static void
wait_on_server(const struct it_env *env, const char *rel, const char *want)
{
    for (int i = 0; i < 250; i++) {
        char *got = st_on_server(env, rel);
        int same = got && strcmp(got, want) == 0;
        free(got);
        if (same)
            return;
        st_pause_ms(20);
    }
    ST_ASSERT_ON_SERVER(env, rel, want);
}

/* Poll d's conflict records until one is at path (at most 5 s); a new reference. */
static json_t *
wait_for_conflict(const struct it_daemon *d, const char *path)
{
    json_t *rec = NULL;
    for (int i = 0; i < 250 && !rec; i++) {
        struct it_response *r = it_get(d, "/api/v1/conflicts");
        rec = json_incref(it_jfind_path(r->json, "conflicts", path));
        it_response_free(r);
        if (!rec)
            st_pause_ms(20);
    }
    if (!rec) {
        print_error("no conflict record for %s appeared\n", path);
        fail();
    }
    return rec;
}

static void
test_two_daemons_editing_one_file_keep_both_versions(void **state)
{
    struct it_env *env = *state;
    struct it_daemon d2 = {0};
    snprintf(d2.data_dir, sizeof(d2.data_dir), "%s/data2", env->root);
    snprintf(d2.log_path, sizeof(d2.log_path), "%s/daemon2.log", env->root);
    assert_int_equal(it_daemon_start(&d2), 0);
    assert_int_equal(it_share_add(&d2, "srv", "s", env->share_dir, "auto"), 201);
    st_seed(env, "report.txt", ST_BASE);
    st_cache_file(env, "report.txt");
    struct it_response *r = it_get(&d2, "/api/v1/files/srv/s/report.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    st_go_offline(env);
    assert_int_equal(it_share_set_online(&d2, "srv", "s", 0), 200);
    st_put_offline(env, "report.txt", "first daemon's edit");
    r = it_put(&d2, "/api/v1/files/srv/s/report.txt", "second daemon's edit!", 21);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    /* The first comes back: its background pass pushes its edit. */
    st_go_online(env);
    wait_on_server(env, "report.txt", "first daemon's edit");
    assert_int_equal(it_jobs_idle(&env->d, 30), 0);
    /* The second comes back: its background pass only records the clash. */
    assert_int_equal(it_share_set_online(&d2, "srv", "s", 1), 200);
    json_t *rec = wait_for_conflict(&d2, "//srv/s/report.txt");
    IT_ASSERT_JSTR(rec, "syncState", "FileChangedOnClient_ChangedOnServer");
    long long id = (long long)json_integer_value(json_object_get(rec, "id"));
    json_decref(rec);
    assert_int_equal(it_jobs_idle(&d2, 30), 0);
    ST_ASSERT_ON_SERVER(env, "report.txt", "first daemon's edit");
    char *path = it_fmt("/api/v1/conflicts/%lld/resolve", id);
    r = it_json_req(&d2, "POST", path, "{\"resolution\":\"keepAll\"}");
    free(path);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "resolved", 1);
    IT_ASSERT_JSTR(r->json, "job.state", "succeeded");
    it_response_free(r);
    int count = 0;
    char *kept = st_find_name(env, "report (conflict ", &count);
    assert_int_equal(count, 1);
    assert_true(st_is_conflict_name(kept, "report", ".txt", 120));
    ST_ASSERT_ON_SERVER(env, "report.txt", "first daemon's edit");
    ST_ASSERT_ON_SERVER(env, kept, "second daemon's edit!");
    r = it_get(&d2, "/api/v1/conflicts");
    assert_int_equal(json_array_size(it_jget(r->json, "conflicts")), 0);
    it_response_free(r);
    r = it_get(&d2, "/api/v1/files/srv/s/report.txt");
    assert_string_equal(r->body, "first daemon's edit");
    it_response_free(r);
    /* The first daemon sees the kept copy on its next sync. */
    r = ST_SYNC_SHARE(env, NULL, "succeeded");
    ST_ASSERT_RESULT(r, kept, "ok", "createClientCopy", "NoClientCopy_FileOnServer");
    it_response_free(r);
    free(kept);
    assert_int_equal(it_daemon_stop(&d2), 0);
}

/* ---- background sync ---- */

static void
test_going_online_syncs_dirty_items_in_the_background_and_only_records_conflicts(void **state)
{
    struct it_env *env = *state;
    st_seed(env, "a.txt", ST_BASE);
    st_seed(env, "b.txt", ST_BASE);
    st_cache_file(env, "a.txt");
    st_cache_file(env, "b.txt");
    long long since = it_events_newest(&env->d);
    st_go_offline(env);
    st_put_offline(env, "a.txt", "offline edit of a");
    st_put_offline(env, "b.txt", "offline edit of b");
    st_seed(env, "b.txt", "server edit of b, longer");
    st_go_online(env);
    wait_on_server(env, "a.txt", "offline edit of a");
    assert_int_equal(it_jobs_idle(&env->d, 30), 0);
    ST_ASSERT_DIRTY(env, "a.txt", 0);
    /* The clash is left for a person. */
    ST_ASSERT_ONE_CONFLICT(env, "//srv/s/b.txt", "FileChangedOnClient_ChangedOnServer");
    ST_ASSERT_ON_SERVER(env, "b.txt", "server edit of b, longer");
    ST_ASSERT_DIRTY(env, "b.txt", 1);
    struct it_response *r = it_get(&env->d, "/api/v1/jobs");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "jobs.0.kind", "sync");
    IT_ASSERT_JSTR(r->json, "jobs.0.createdBy", "background");
    IT_ASSERT_JSTR(r->json, "jobs.0.state", "succeeded");
    it_response_free(r);
    json_t *events = it_events_since(&env->d, since), *ev;
    size_t i;
    int begin = 0, end = 0, plain = 0;
    json_array_foreach(events, i, ev)
    {
        const char *type = json_string_value(json_object_get(ev, "type"));
        begin += strcmp(type, "BackgroundSyncBegin") == 0;
        end += strcmp(type, "BackgroundSyncEnd") == 0;
        plain += strcmp(type, "SyncBegin") == 0 || strcmp(type, "SyncEnd") == 0;
    }
    json_decref(events);
    assert_int_equal(begin, 1);
    assert_int_equal(end, 1);
    assert_int_equal(plain, 0);
    ST_ASSERT_CACHED(env, "b.txt", "offline edit of b");
}

/* ---- events ---- */

/* The index of the first event from index from on with this type (and path, and job), or -1. */
static long
find_event(json_t *events, size_t from, const char *type, const char *path, long long job)
{
    for (size_t i = from; i < json_array_size(events); i++) {
        json_t *ev = json_array_get(events, i);
        const char *t = json_string_value(json_object_get(ev, "type"));
        const char *p = json_string_value(json_object_get(ev, "path"));
        if (!t || strcmp(t, type) != 0 || (path && (!p || strcmp(p, path) != 0)))
            continue;
        if (job && json_integer_value(json_object_get(ev, "jobId")) != job)
            continue;
        return (long)i;
    }
    return -1;
}

/* Each {type, path, job} step occurs after the previous one; the index of the last. */
struct step {
    const char *type, *path;
    long long job;
};

static long
assert_in_order(json_t *events, const struct step *steps, size_t n)
{
    size_t from = 0;
    long at = -1;
    for (size_t i = 0; i < n; i++) {
        at = find_event(events, from, steps[i].type, steps[i].path, steps[i].job);
        if (at < 0) {
            char *text = json_dumps(events, JSON_COMPACT);
            print_error("no %s (path %s, job %lld) after event #%zu in %.4000s\n", steps[i].type,
                        steps[i].path ? steps[i].path : "any", steps[i].job, from, text);
            free(text);
            fail();
        }
        from = (size_t)at + 1;
    }
    return at;
}

static void
test_a_sync_with_a_conflict_and_its_resolution_log_their_events_in_order(void **state)
{
    struct it_env *env = *state;
    st_edit_both(env, LOCAL, REMOTE, 0);
    long long since = it_events_newest(&env->d);
    struct it_response *r = ST_SYNC_SHARE(env, "ask", "succeeded");
    long long job = (long long)json_integer_value(it_jget(r->json, "id"));
    it_response_free(r);
    json_t *events = it_events_since(&env->d, since);
    const struct step sync[] = {
        {"SyncBegin", NULL, job},
        {"SyncConflictRecAdded", "//srv/s/a.txt", job},
        {"SyncFileResult", "//srv/s/a.txt", job},
        {"SyncEnd", NULL, job},
    };
    long end = assert_in_order(events, sync, 4);
    IT_ASSERT_JSTR(json_array_get(events, (size_t)end), "result", "ok");
    long added = find_event(events, 0, "SyncConflictRecAdded", "//srv/s/a.txt", job);
    IT_ASSERT_JSTR(json_array_get(events, (size_t)added), "syncState",
                   "FileChangedOnClient_ChangedOnServer");
    long result = find_event(events, 0, "SyncFileResult", "//srv/s/a.txt", job);
    IT_ASSERT_JSTR(json_array_get(events, (size_t)result), "operation", "conflict");
    assert_true(find_event(events, 0, "JobItemResult", "//srv/s/a.txt", job) >= 0);
    /* The job's last progress event says it ended, with its one item done. */
    long progress = -1;
    for (long at = 0; (at = find_event(events, (size_t)at, "JobProgress", NULL, job)) >= 0; at++)
        progress = at;
    assert_true(progress > end);
    json_t *last = json_array_get(events, (size_t)progress);
    IT_ASSERT_JSTR(last, "detail", "succeeded");
    IT_ASSERT_JINT(last, "progress.itemsDone", 1);
    IT_ASSERT_JINT(last, "progress.itemsTotal", 1);
    assert_int_equal(find_event(events, 0, "SyncConflictRecRemoved", NULL, 0), -1);
    json_decref(events);

    long long id = st_only_conflict_id(env);
    since = it_events_newest(&env->d);
    r = resolve(env, id, "{\"resolution\":\"keepAll\"}");
    IT_ASSERT_STATUS(r, 200);
    long long job2 = (long long)json_integer_value(it_jget(r->json, "job.id"));
    assert_true(job2 > job);
    it_response_free(r);
    events = it_events_since(&env->d, since);
    const struct step resolution[] = {
        {"SyncBegin", NULL, job2},
        {"SyncConflictRecRemoved", "//srv/s/a.txt", 0},
        {"SyncEnd", NULL, job2},
    };
    assert_in_order(events, resolution, 3);
    json_decref(events);
    ST_ASSERT_NO_CONFLICTS(env);
    /* The record is gone: resolving it again is a 404. */
    r = resolve(env, id, "{\"resolution\":\"keepAll\"}");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

/* ---- resolving ---- */

static void
test_resolving_keep_all_with_a_new_name_keeps_the_local_copy_under_it(void **state)
{
    struct it_env *env = *state;
    st_edit_both(env, LOCAL, REMOTE, 0);
    struct it_response *r = ST_SYNC_SHARE(env, NULL, "succeeded");
    it_response_free(r);
    r = resolve(env, st_only_conflict_id(env),
                "{\"resolution\":\"keepAll\",\"newName\":\"mine.txt\"}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "resolved", 1);
    json_t *res = it_jfind_path(r->json, "job.results", "//srv/s/a.txt");
    assert_non_null(res);
    IT_ASSERT_JSTR(res, "result", "ok");
    IT_ASSERT_JSTR(res, "operation", "keepAll");
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "a.txt", REMOTE);
    ST_ASSERT_ON_SERVER(env, "mine.txt", LOCAL);
    int count = 0;
    free(st_find_name(env, "a (conflict ", &count));
    assert_int_equal(count, 0);
    ST_ASSERT_DIRTY(env, "a.txt", 0);
    ST_ASSERT_DIRTY(env, "mine.txt", 0);
    ST_ASSERT_NO_CONFLICTS(env);
    ST_ASSERT_CACHED(env, "mine.txt", LOCAL);
    ST_ASSERT_CACHED(env, "a.txt", REMOTE);
}

static void
test_resolve_refuses_a_resolution_that_does_not_fit_the_record(void **state)
{
    struct it_env *env = *state;
    st_edit_both(env, LOCAL, REMOTE, 0);
    struct it_response *r = ST_SYNC_SHARE(env, "ask", "succeeded");
    it_response_free(r);
    long long id = st_only_conflict_id(env);
    r = resolve(env, id, "{\"resolution\":\"confirmDelete\"}");
    IT_ASSERT_PROBLEM(r, 409, "conflict");
    it_response_free(r);
    r = resolve(env, id, "{\"resolution\":\"discard\"}");
    IT_ASSERT_PROBLEM(r, 409, "conflict");
    it_response_free(r);
    r = resolve(env, id, "{\"resolution\":\"keepSome\"}");
    IT_ASSERT_PROBLEM(r, 400, "invalid-field");
    it_response_free(r);
    r = resolve(env, id, "{\"resolution\":\"keepRemote\",\"newName\":\"x.txt\"}");
    IT_ASSERT_PROBLEM(r, 400, "invalid-field");
    it_response_free(r);
    r = resolve(env, id, "{\"resolution\":\"keepAll\",\"newName\":\"../x.txt\"}");
    IT_ASSERT_PROBLEM(r, 400, "invalid-field");
    it_response_free(r);
    r = resolve(env, 999999, "{\"resolution\":\"keepAll\"}");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    ST_ASSERT_ONE_CONFLICT(env, "//srv/s/a.txt", "FileChangedOnClient_ChangedOnServer");
    ST_ASSERT_ON_SERVER(env, "a.txt", REMOTE);
    ST_ASSERT_ON_SERVER(env, "x.txt", NULL);
    ST_ASSERT_DIRTY(env, "a.txt", 1);
    ST_ASSERT_CACHED(env, "a.txt", LOCAL);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define A(f) cmocka_unit_test_setup_teardown(f, it_setup_auto, it_teardown)
    const struct CMUnitTest tests[] = {
        A(test_offline_delete_against_a_server_edit_is_a_conflict_and_loses_nothing),
        A(test_server_delete_against_an_offline_edit_is_a_conflict_and_loses_nothing),
        A(test_a_server_deleted_directory_with_an_offline_edit_under_it_is_one_conflict),
        A(test_an_offline_deleted_directory_that_gained_a_file_on_the_server_is_a_conflict),
        A(test_the_same_new_name_with_other_content_on_both_sides_is_a_conflict),
        A(test_the_same_new_file_on_both_sides_is_no_conflict),
        A(test_a_directory_on_one_side_and_a_file_on_the_other_is_a_conflict),
        A(test_a_rename_on_the_server_drops_the_old_name_and_brings_the_new_one),
        A(test_two_daemons_editing_one_file_keep_both_versions),
        A(test_going_online_syncs_dirty_items_in_the_background_and_only_records_conflicts),
        A(test_a_sync_with_a_conflict_and_its_resolution_log_their_events_in_order),
        A(test_resolving_keep_all_with_a_new_name_keeps_the_local_copy_under_it),
        A(test_resolve_refuses_a_resolution_that_does_not_fit_the_record),
    };
#undef A
    return cmocka_run_group_tests(tests, NULL, NULL);
}
