/* SPDX-License-Identifier: MIT */
/*
 * The exact events, in order, that GET /api/v1/events streams for a pin
 * and an unpin (also a deep pin, whose files are filled several at once),
 * an offline write, going offline and online (with the background sync
 * that follows), and a sync with a conflict and its resolution (with
 * JobProgress bracketing each job).
 *
 * Each sequence is checked up to a Ping marker (see events_util.h): once a
 * stream has the marker it has every event published before it.
 */
#include "events_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- exact sequences ---- */

struct want {
    const char *type;
    const char *path; /* NULL: the event is about no item (path null) */
};

/*
 * The logged events of s after frame index from up to the Ping marker,
 * leaving out Pings, must be exactly w (n of them); got[i] is the frame
 * that matched w[i]. Returns the marker's index.
 */
static size_t
assert_sequence(const struct sse *s, size_t from, const char *marker, const struct want *w,
                size_t n, const struct frame **got)
{
    long end = find_marker(s, marker);
    assert_true(end >= 0);
    size_t k = 0;
    int ok = 1;
    for (size_t i = from; i < (size_t)end; i++) {
        const struct frame *f = &s->f[i];
        if (f->id < 0 || strcmp(f->event, "Ping") == 0)
            continue;
        const char *path = json_string_value(json_object_get(f->json, "path"));
        if (k >= n || strcmp(f->event, w[k].type) != 0 || (!path) != (!w[k].path) ||
            (path && strcmp(path, w[k].path) != 0))
            ok = 0;
        else
            got[k] = f;
        k++;
    }
    if (!ok || k != n) {
        print_error("expected these events before the Ping '%s':\n", marker);
        for (size_t i = 0; i < n; i++)
            print_error("  %s %s\n", w[i].type, w[i].path ? w[i].path : "(no path)");
        print_error("got:\n");
        dump_frames(s, from, (size_t)end - from + 1);
        fail();
    }
    return (size_t)end;
}

/*
 * Like assert_sequence, for work that runs on several threads at once: the
 * events of each path must come in w's order, and nothing else may come,
 * but events of different paths may interleave.
 */
static size_t
assert_sequence_per_path(const struct sse *s, size_t from, const char *marker, const struct want *w,
                         size_t n, const struct frame **got)
{
    long end = find_marker(s, marker);
    assert_true(end >= 0);
    size_t seen = 0;
    int ok = 1;
    for (size_t k = 0; k < n; k++)
        got[k] = NULL;
    for (size_t i = from; i < (size_t)end; i++) {
        const struct frame *f = &s->f[i];
        if (f->id < 0 || strcmp(f->event, "Ping") == 0)
            continue;
        seen++;
        const char *path = json_string_value(json_object_get(f->json, "path"));
        /* The first unmatched want of this path must be this event. */
        size_t k = 0;
        for (; k < n; k++) {
            int same = (!path) == (!w[k].path) && (!path || strcmp(path, w[k].path) == 0);
            if (same && !got[k])
                break;
        }
        if (k == n || strcmp(f->event, w[k].type) != 0)
            ok = 0;
        else
            got[k] = f;
    }
    if (!ok || seen != n) {
        print_error("expected these events (per path, in order) before the Ping '%s':\n", marker);
        for (size_t i = 0; i < n; i++)
            print_error("  %s %s\n", w[i].type, w[i].path ? w[i].path : "(no path)");
        print_error("got:\n");
        dump_frames(s, from, (size_t)end - from + 1);
        fail();
    }
    return (size_t)end;
}

#define SEQ_PER_PATH(s, from, marker, w, got)                                                      \
    assert_sequence_per_path((s), (from), (marker), (w), sizeof(w) / sizeof((w)[0]), (got))

#define SEQ(s, from, marker, w, got)                                                               \
    assert_sequence((s), (from), (marker), (w), sizeof(w) / sizeof((w)[0]), (got))

/* ---- pins, offline writes, going offline and online, conflicts ---- */

static long long
pin_request(const struct it_env *env, const char *method, const char *path, const char *body)
{
    struct it_response *r =
        body ? it_json_req(&env->d, method, path, body) : it_delete(&env->d, path);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    long long job = (long long)json_integer_value(it_jget(r->json, "id"));
    it_response_free(r);
    return job;
}

static void
test_pinning_and_unpinning_publish_their_events_in_order(void **state)
{
    struct it_env *env = *state; /* manual caching: only pinned files are kept */
    char path[PATH_MAX];
    static const char *const files[][2] = {
        {"p.txt", "pinned"}, {"d/one.txt", "one"}, {"d/e/two.txt", "two"}};
    for (size_t i = 0; i < 3; i++) {
        it_share_file(env, files[i][0], path);
        assert_int_equal(it_write_file(path, files[i][1], strlen(files[i][1])), 0);
    }
    struct sse *s = sse_ready(sse_open(&env->d, "?path=//srv/s&exclude=JobProgress"));
    long long job =
        pin_request(env, "POST", "/api/v1/pins", "{\"paths\":[\"//srv/s/p.txt\"],\"wait\":true}");
    publish(&env->d, 1, "pinned");
    long long unpin = pin_request(env, "DELETE", "/api/v1/pins?path=//srv/s/p.txt", NULL);
    publish(&env->d, 1, "unpinned");
    long long deep = pin_request(env, "POST", "/api/v1/pins",
                                 "{\"paths\":[\"//srv/s/d\"],\"deep\":true,\"wait\":true}");
    publish(&env->d, 1, "deep");
    sse_wait_marker(s, "deep", 10);
    static const struct want w[] = {
        {"ItemPinned", "//srv/s/p.txt"},      {"PrefetchFileBegin", "//srv/s/p.txt"},
        {"PrefetchFileEnd", "//srv/s/p.txt"}, {"ItemAvailableOffline", "//srv/s/p.txt"},
        {"JobItemResult", "//srv/s/p.txt"},
    };
    const struct frame *got[16];
    size_t at = SEQ(s, 0, "pinned", w, got);
    IT_ASSERT_JSTR(got[0]->json, "itemType", "file");
    IT_ASSERT_JSTR(got[2]->json, "result", "ok");
    assert_int_equal(jint(got[4], "jobId"), job);
    IT_ASSERT_JSTR(got[4]->json, "operation", "fill");
    IT_ASSERT_JSTR(got[4]->json, "result", "ok");
    static const struct want w2[] = {
        {"ItemNotPinned", "//srv/s/p.txt"},
        {"JobItemResult", "//srv/s/p.txt"},
    };
    at = SEQ(s, at + 1, "unpinned", w2, got);
    assert_int_equal(jint(got[1], "jobId"), unpin);
    /* A deep pin: the directory, then its subtree; files are filled, several at once. */
    static const struct want w3[] = {
        {"ItemPinned", "//srv/s/d"},
        {"JobItemResult", "//srv/s/d"},
        {"ItemPinned", "//srv/s/d/e"},
        {"JobItemResult", "//srv/s/d/e"},
        {"ItemPinned", "//srv/s/d/e/two.txt"},
        {"PrefetchFileBegin", "//srv/s/d/e/two.txt"},
        {"PrefetchFileEnd", "//srv/s/d/e/two.txt"},
        {"ItemAvailableOffline", "//srv/s/d/e/two.txt"},
        {"JobItemResult", "//srv/s/d/e/two.txt"},
        {"ItemPinned", "//srv/s/d/one.txt"},
        {"PrefetchFileBegin", "//srv/s/d/one.txt"},
        {"PrefetchFileEnd", "//srv/s/d/one.txt"},
        {"ItemAvailableOffline", "//srv/s/d/one.txt"},
        {"JobItemResult", "//srv/s/d/one.txt"},
    };
    SEQ_PER_PATH(s, at + 1, "deep", w3, got);
    IT_ASSERT_JSTR(got[0]->json, "itemType", "directory");
    for (size_t i = 0; i < 14; i++)
        if (strcmp(got[i]->event, "JobItemResult") == 0)
            assert_int_equal(jint(got[i], "jobId"), deep);
    sse_close(s);
}

static void
test_an_offline_write_publishes_its_events_in_order(void **state)
{
    struct it_env *env = *state;
    seed_cached(env, "a.txt", "base");
    seed_cached(env, "gone.txt", "to be deleted");
    struct sse *s = sse_ready(sse_open(&env->d, "?path=//srv/s&exclude=JobProgress"));
    set_online(env, 0);
    put_file(env, "a.txt", "edited offline", 1);
    put_file(env, "new.txt", "created offline", 1);
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/gone.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    mkdir_api(env, "od");
    put_file(env, "od/n.txt", "in a new directory", 1);
    publish(&env->d, 1, "offline");
    sse_wait_marker(s, "offline", 10);
    static const struct want w[] = {
        {"ItemDisconnected", "//srv/s"},          {"ItemModified", "//srv/s/a.txt"},
        {"ItemAddedToCache", "//srv/s/new.txt"},  {"ItemModified", "//srv/s/new.txt"},
        {"ItemModified", "//srv/s/gone.txt"},     {"ItemAddedToCache", "//srv/s/od"},
        {"ItemAddedToCache", "//srv/s/od/n.txt"}, {"ItemModified", "//srv/s/od/n.txt"},
    };
    const struct frame *got[8];
    SEQ(s, 0, "offline", w, got);
    IT_ASSERT_JSTR(got[0]->json, "itemType", "share");
    IT_ASSERT_JSTR(got[0]->json, "detail", "forced");
    IT_ASSERT_JSTR(got[1]->json, "itemType", "file");
    IT_ASSERT_JBOOL(got[1]->json, "modifiedData", 1);
    IT_ASSERT_JBOOL(got[1]->json, "modifiedAttributes", 0);
    IT_ASSERT_JSTR(got[5]->json, "itemType", "directory");
    sse_close(s);
}

static void
test_going_offline_and_online_publishes_disconnect_reconnect_and_a_background_sync(void **state)
{
    struct it_env *env = *state;
    seed_cached(env, "a.txt", "base");
    struct sse *s = sse_ready(sse_open(&env->d, "?path=//srv/s&exclude=JobProgress"));
    set_online(env, 0);
    put_file(env, "a.txt", "edited offline", 1);
    set_online(env, 1);
    /* Going online starts a background sync of the dirty item. */
    if (sse_wait(s, has_event, "BackgroundSyncEnd", 20) < 0) {
        print_error("no BackgroundSyncEnd within 20 s of going online\n");
        dump_frames(s, 0, s->n);
        fail();
    }
    publish(&env->d, 1, "cycle1");
    sse_wait_marker(s, "cycle1", 10);
    static const struct want w[] = {
        {"ItemDisconnected", "//srv/s"},     {"ItemModified", "//srv/s/a.txt"},
        {"ItemReconnected", "//srv/s"},      {"BackgroundSyncBegin", NULL},
        {"ItemModified", "//srv/s/a.txt"},   {"JobItemResult", "//srv/s/a.txt"},
        {"SyncFileResult", "//srv/s/a.txt"}, {"BackgroundSyncEnd", NULL},
    };
    const struct frame *got[8];
    size_t at = SEQ(s, 0, "cycle1", w, got);
    IT_ASSERT_JSTR(got[2]->json, "detail", "online");
    long long job = jint(got[3], "jobId");
    assert_true(job > 0);
    for (size_t i = 4; i < 8; i++)
        assert_int_equal(jint(got[i], "jobId"), job);
    IT_ASSERT_JSTR(got[6]->json, "operation", "syncToServer");
    IT_ASSERT_JSTR(got[6]->json, "syncState", "FileChangedOnClient");
    IT_ASSERT_JSTR(got[6]->json, "result", "ok");
    IT_ASSERT_JSTR(got[7]->json, "result", "ok");
    /* Nothing dirty this time: offline and online again, and no sync follows. */
    set_online(env, 0);
    set_online(env, 1);
    pause_ms(300);
    assert_int_equal(it_jobs_idle(&env->d, 20), 0);
    publish(&env->d, 1, "cycle2");
    sse_wait_marker(s, "cycle2", 10);
    static const struct want w2[] = {{"ItemDisconnected", "//srv/s"},
                                     {"ItemReconnected", "//srv/s"}};
    SEQ(s, at + 1, "cycle2", w2, got);
    sse_close(s);
}

static void
test_a_sync_with_a_conflict_and_its_resolution_publish_their_events_in_order(void **state)
{
    struct it_env *env = *state;
    char path[PATH_MAX];
    seed_cached(env, "a.txt", "base version");
    /* Both sides change while the share is unreachable; a restart brings it back with no sync. */
    assert_int_equal(it_env_unplug(env), 0);
    put_file(env, "a.txt", "local edit", 1);
    char *away = it_fmt("%s/unplugged/a.txt", env->root);
    assert_int_equal(it_write_file(away, "remote edit, longer", 19), 0);
    free(away);
    assert_int_equal(it_env_replug(env), 0);
    it_restart(env);
    struct sse *s =
        sse_ready(sse_open(&env->d, "?path=//srv/s/a.txt&match=self&exclude=JobProgress"));
    struct sse *p = sse_ready(sse_open(&env->d, "?include=JobProgress,SyncBegin,SyncEnd"));
    struct it_response *r = it_sync(&env->d, "//srv/s", "ask", NULL);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    long long job = (long long)json_integer_value(it_jget(r->json, "id"));
    it_response_free(r);
    publish(&env->d, 1, "synced");
    sse_wait_marker(s, "synced", 10);
    static const struct want w[] = {
        {"SyncBegin", NULL},
        {"SyncConflictRecAdded", "//srv/s/a.txt"},
        {"JobItemResult", "//srv/s/a.txt"},
        {"SyncFileResult", "//srv/s/a.txt"},
        {"SyncEnd", NULL},
    };
    const struct frame *got[6];
    size_t at = SEQ(s, 0, "synced", w, got);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(jint(got[i], "jobId"), job);
    IT_ASSERT_JSTR(got[1]->json, "syncState", "FileChangedOnClient_ChangedOnServer");
    IT_ASSERT_JSTR(got[1]->json, "detail", "item");
    IT_ASSERT_JSTR(got[3]->json, "operation", "conflict");
    IT_ASSERT_JSTR(got[3]->json, "syncState", "FileChangedOnClient_ChangedOnServer");
    IT_ASSERT_JSTR(got[4]->json, "result", "ok");

    r = it_get(&env->d, "/api/v1/conflicts?under=//srv/s");
    IT_ASSERT_STATUS(r, 200);
    long long id = (long long)json_integer_value(it_jget(r->json, "conflicts.0.id"));
    it_response_free(r);
    snprintf(path, sizeof(path), "/api/v1/conflicts/%lld/resolve", id);
    r = it_json_req(&env->d, "POST", path, "{\"resolution\":\"keepLocal\"}");
    IT_ASSERT_STATUS(r, 200);
    long long job2 = (long long)json_integer_value(it_jget(r->json, "job.id"));
    it_response_free(r);
    assert_true(job2 > job);
    publish(&env->d, 1, "resolved");
    sse_wait_marker(s, "resolved", 10);
    static const struct want w2[] = {
        {"SyncBegin", NULL},
        {"ItemModified", "//srv/s/a.txt"},
        {"SyncConflictRecRemoved", "//srv/s/a.txt"},
        {"JobItemResult", "//srv/s/a.txt"},
        {"SyncFileResult", "//srv/s/a.txt"},
        {"SyncEnd", NULL},
    };
    SEQ(s, at + 1, "resolved", w2, got);
    assert_int_equal(jint(got[0], "jobId"), job2);
    assert_int_equal(jint(got[1], "jobId"), job2);
    IT_ASSERT_JSTR(got[2]->json, "syncState", "FileChangedOnClient_ChangedOnServer");
    IT_ASSERT_JSTR(got[4]->json, "operation", "syncToServer");
    IT_ASSERT_JSTR(got[4]->json, "result", "ok");
    assert_int_equal(jint(got[5], "jobId"), job2);
    IT_ASSERT_JSTR(got[5]->json, "result", "ok");

    /* JobProgress brackets each job: "running" before its SyncBegin, "succeeded" after its SyncEnd.
     */
    sse_wait_marker(p, "resolved", 10);
    const long long jobs[2] = {job, job2};
    for (int k = 0; k < 2; k++) {
        long first = -1, begin = -1, end = -1, last = -1;
        for (size_t i = 0; i < p->n; i++) {
            const struct frame *f = &p->f[i];
            if (f->id < 0 || jint(f, "jobId") != jobs[k])
                continue;
            if (strcmp(f->event, "JobProgress") == 0) {
                if (first < 0)
                    first = (long)i;
                last = (long)i;
            } else if (strcmp(f->event, "SyncBegin") == 0) {
                begin = (long)i;
            } else if (strcmp(f->event, "SyncEnd") == 0) {
                end = (long)i;
            }
        }
        if (!(first >= 0 && first < begin && begin < end && end < last)) {
            print_error("job %lld: JobProgress at %ld..%ld, SyncBegin at %ld, SyncEnd at %ld\n",
                        jobs[k], first, last, begin, end);
            dump_frames(p, 0, p->n);
            fail();
        }
        IT_ASSERT_JSTR(p->f[first].json, "detail", "running");
        IT_ASSERT_JSTR(p->f[last].json, "detail", "succeeded");
        IT_ASSERT_JINT(p->f[last].json, "progress.itemsDone", 1);
    }
    sse_close(s);
    sse_close(p);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define A(f) cmocka_unit_test_setup_teardown(f, it_setup_auto, it_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pinning_and_unpinning_publish_their_events_in_order,
                                        it_setup_manual, it_teardown),
        A(test_an_offline_write_publishes_its_events_in_order),
        A(test_going_offline_and_online_publishes_disconnect_reconnect_and_a_background_sync),
        A(test_a_sync_with_a_conflict_and_its_resolution_publish_their_events_in_order),
    };
    return cmocka_run_group_tests_name("events_sequence", tests, NULL, NULL);
}
