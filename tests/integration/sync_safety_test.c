/* SPDX-License-Identifier: MIT */
/*
 * What keeps a sync from losing data: aborting a large sync between items,
 * a share root that lists empty or is missing (unavailable, never
 * "deleted"), the mass-delete threshold and its confirmation, a daemon
 * killed in the middle of a large sync-out (no dirty change lost, a sound
 * database, the job interrupted after restart), the jobs list, and the
 * cache-only operations (delete refuses dirty items, rename) that never
 * touch the server.
 */
#include "sync_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---- */

/* "file NNNN\n": the content of numbered file i. */
static void
numbered(char *buf, size_t cap, int i)
{
    snprintf(buf, cap, "file %04d\n", i);
}

static void
seed_numbered(const struct it_env *env, const char *dir, int from, int to)
{
    char rel[64], text[32];
    for (int i = from; i <= to; i++) {
        snprintf(rel, sizeof(rel), "%s%sf%04d.txt", dir, dir[0] ? "/" : "", i);
        numbered(text, sizeof(text), i);
        st_seed(env, rel, text);
    }
}

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

/* POST /api/v1/sync of //srv/s with wait and a long timeout; body is the rest of the object. */
static struct it_response *
sync_long(const struct it_env *env, const char *more)
{
    char *body =
        it_fmt("{\"paths\":[\"//srv/s\"],\"wait\":true%s%s}", more ? "," : "", more ? more : "");
    struct it_request rq = {.method = "POST",
                            .path = "/api/v1/sync",
                            .content_type = "application/json",
                            .body = body,
                            .body_len = strlen(body),
                            .timeout_s = 120};
    struct it_response *r = it_http(&env->d, &rq);
    free(body);
    IT_ASSERT_STATUS(r, 200);
    return r;
}

/*
 * Call fn for every cached item under //srv/s (all depths) matching the
 * extra query (e.g. "&flags=dirty", or ""), following pages; the count.
 */
static size_t
each_item(const struct it_env *env, const char *query, void (*fn)(json_t *it, void *ctx), void *ctx)
{
    size_t n = 0;
    char *cursor = NULL;
    for (;;) {
        char *enc = cursor ? it_urlencode(cursor) : NULL;
        struct it_response *r =
            it_get(&env->d, "/api/v1/items?under=//srv/s&depth=all&limit=1000%s%s%s", query,
                   enc ? "&cursor=" : "", enc ? enc : "");
        free(enc);
        IT_ASSERT_STATUS(r, 200);
        json_t *items = it_jget(r->json, "items"), *it;
        size_t i;
        json_array_foreach(items, i, it)
        {
            if (fn)
                fn(it, ctx);
            n++;
        }
        free(cursor);
        cursor = json_is_string(it_jget(r->json, "next"))
                     ? strdup(json_string_value(it_jget(r->json, "next")))
                     : NULL;
        it_response_free(r);
        if (!cursor)
            return n;
    }
}

/* The entries of a directory (not "." or ".."); with prefix, only names starting with it. */
static int
count_entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (!prefix || strncmp(de->d_name, prefix, strlen(prefix)) == 0)
            n++;
    }
    closedir(d);
    return n;
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
    seed_numbered(env, "", 1, 5000);
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
    assert_int_equal(count_entries(env->share_dir, NULL), 5000);
    char *tmpdir = it_fmt("%s/cache/tmp", env->d.data_dir);
    assert_int_equal(count_entries(tmpdir, NULL), 0);
    struct content_check cc = {.env = env};
    size_t before = each_item(env, "", check_whole, &cc);
    assert_int_equal(cc.bad, 0);
    assert_true(before < 5000 || cc.ghosts > 0);
    /* A rerun finishes the rest. */
    r = sync_long(env, "\"fillSparse\":true");
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    cc = (struct content_check){.env = env};
    assert_int_equal(each_item(env, "", check_whole, &cc), 5000);
    assert_int_equal(cc.bad, 0);
    assert_int_equal(cc.ghosts, 0);
    assert_int_equal(count_entries(tmpdir, NULL), 0);
    free(tmpdir);
    st_go_offline(env);
    const int probes[] = {1, 2500, 5000};
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        char want[32];
        numbered(want, sizeof(want), probes[i]);
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
    assert_int_equal(count_entries(env->share_dir, NULL), 0);
    char *c = it_fmt("%s/d/c.txt", away);
    char *got = it_read_file(c, NULL);
    assert_non_null(got);
    assert_string_equal(got, "charlie");
    free(got);
    free(c);
    assert_int_equal(count_entries(away, NULL), 3);
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
    assert_int_equal(count_entries(away, NULL), 3);
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
    assert_int_equal(count_entries(away, NULL), 3);
    free(away);
}

/* ---- mass delete ---- */

static void
test_a_sync_deleting_most_of_a_share_waits_for_confirm_delete(void **state)
{
    struct it_env *env = *state;
    seed_numbered(env, "", 1, 30);
    struct it_response *r = sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    assert_int_equal(each_item(env, "", NULL, NULL), 30);
    unlink_numbered(env, 1, 20);
    r = sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    IT_ASSERT_JSTR(r->json, "error.code", "conflict");
    it_response_free(r);
    assert_int_equal(each_item(env, "", NULL, NULL), 30);
    long long id = mass_delete_record(env, 20);
    /* A second sync stops the same way and keeps one record. */
    r = sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    it_response_free(r);
    assert_int_equal(mass_delete_record(env, 20), id);
    r = resolve(env, id, "keepLocal");
    IT_ASSERT_PROBLEM(r, 409, "conflict");
    it_response_free(r);
    assert_int_equal(each_item(env, "", NULL, NULL), 30);
    r = resolve(env, id, "confirmDelete");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "resolved", 1);
    IT_ASSERT_JSTR(r->json, "job.state", "succeeded");
    it_response_free(r);
    assert_int_equal(each_item(env, "", NULL, NULL), 10);
    r = st_item(env, "f0001.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = st_item(env, "f0030.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = st_conflicts(env);
    assert_int_equal(json_array_size(it_jget(r->json, "conflicts")), 0);
    it_response_free(r);
    assert_int_equal(count_entries(env->share_dir, NULL), 10);
}

static void
test_discarding_a_mass_delete_record_deletes_nothing(void **state)
{
    struct it_env *env = *state;
    seed_numbered(env, "", 1, 30);
    struct it_response *r = sync_long(env, NULL);
    it_response_free(r);
    unlink_numbered(env, 1, 20);
    r = sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    it_response_free(r);
    long long id = mass_delete_record(env, 20);
    r = resolve(env, id, "discard");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "resolved", 1);
    IT_ASSERT_JNULL(r->json, "job");
    it_response_free(r);
    assert_int_equal(each_item(env, "", NULL, NULL), 30);
    r = st_conflicts(env);
    assert_int_equal(json_array_size(it_jget(r->json, "conflicts")), 0);
    it_response_free(r);
}

static void
test_deletions_within_the_threshold_need_no_confirmation(void **state)
{
    struct it_env *env = *state;
    /* Ten of twelve: most of the share, but not more than ten items. */
    seed_numbered(env, "", 1, 12);
    struct it_response *r = sync_long(env, NULL);
    it_response_free(r);
    unlink_numbered(env, 1, 10);
    r = sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    assert_int_equal(each_item(env, "", NULL, NULL), 2);
    /* Eleven of forty-two: more than ten items, but not more than half. */
    seed_numbered(env, "", 13, 52);
    r = sync_long(env, NULL);
    it_response_free(r);
    assert_int_equal(each_item(env, "", NULL, NULL), 42);
    unlink_numbered(env, 13, 23);
    r = sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    assert_int_equal(each_item(env, "", NULL, NULL), 31);
    r = st_conflicts(env);
    assert_int_equal(json_array_size(it_jget(r->json, "conflicts")), 0);
    it_response_free(r);
}

static void
test_more_than_1000_deletions_wait_for_confirmation_even_in_a_big_share(void **state)
{
    struct it_env *env = *state;
    /* 1001 of 2100 is under half: only the absolute limit applies. */
    seed_numbered(env, "", 1, 2100);
    struct it_response *r = sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    unlink_numbered(env, 1, 1001);
    r = sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    IT_ASSERT_JSTR(r->json, "error.code", "conflict");
    it_response_free(r);
    assert_int_equal(each_item(env, "", NULL, NULL), 2100);
    long long id = mass_delete_record(env, 1001);
    r = resolve(env, id, "confirmDelete");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    assert_int_equal(each_item(env, "", NULL, NULL), 1099);
}

static void
test_offline_deletions_beyond_the_threshold_wait_and_the_server_keeps_its_files(void **state)
{
    struct it_env *env = *state;
    seed_numbered(env, "", 1, 30);
    struct it_response *r = sync_long(env, NULL);
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
    r = sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    IT_ASSERT_JSTR(r->json, "error.code", "conflict");
    it_response_free(r);
    assert_int_equal(count_entries(env->share_dir, NULL), 30);
    long long id = mass_delete_record(env, 20);
    assert_int_equal(each_item(env, "&flags=deletedOffline", NULL, NULL), 20);
    r = resolve(env, id, "confirmDelete");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "job.state", "succeeded");
    it_response_free(r);
    assert_int_equal(count_entries(env->share_dir, NULL), 10);
    assert_int_equal(each_item(env, "", NULL, NULL), 10);
    assert_int_equal(each_item(env, "&flags=dirty", NULL, NULL), 0);
}

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
    struct it_response *r = sync_long(env, "\"fillSparse\":true");
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
    r = sync_long(env, NULL);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    for (int i = 0; i < KILL_FILES; i++) {
        char *new_text = version_of(i, 1);
        snprintf(rel, sizeof(rel), "k%03d.txt", i);
        ST_ASSERT_ON_SERVER(env, rel, new_text);
        free(new_text);
    }
    assert_int_equal(each_item(env, "&flags=dirty", NULL, NULL), 0);
    r = st_conflicts(env);
    assert_int_equal(json_array_size(it_jget(r->json, "conflicts")), 0);
    it_response_free(r);
    assert_integrity_ok(env->d.data_dir);
}

static void
test_a_job_running_when_the_daemon_stops_is_interrupted_after_restart(void **state)
{
    struct it_env *env = *state;
    seed_numbered(env, "", 1, 2000);
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
        A(test_a_daemon_killed_in_a_large_sync_out_loses_no_change),
        A(test_a_job_running_when_the_daemon_stops_is_interrupted_after_restart),
        A(test_jobs_are_listed_newest_first_and_an_ended_job_cannot_be_aborted),
        A(test_cache_delete_refuses_dirty_items_without_allow_dirty_and_leaves_the_server_alone),
        A(test_cache_rename_moves_the_item_in_the_cache_only),
    };
#undef A
    return cmocka_run_group_tests(tests, NULL, NULL);
}
