/* SPDX-License-Identifier: MIT */
/*
 * /api/v1/cache and the caching modes over HTTP on directory shares: the
 * space report and its limits (admin only), what manual, auto and noCaching
 * shares keep, IsPathCacheable, eviction of clean unpinned content (least
 * recently used first, into ghosts, with CacheEvictBegin/End) under the
 * unpinned and the total limit while pinned and dirty content stays, 507
 * cache-full for offline writes and cache-full item results for pins once
 * pinned and dirty content fills the cache, and the slow-link threshold with
 * transparent caching.
 *
 * Transparent caching needs a share whose measured latency is above its
 * slowLinkMs. A directory share answers in well under a millisecond, so
 * test_files_read_over_a_slow_link_are_cached_transparently makes the
 * daemon's open(2) calls slow with `strace --inject=openat:delay_enter` while
 * the prober measures the share coming back; without strace (or ptrace) it
 * is skipped.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KB 1000LL
#define BIG_LIMIT 1000000000000LL

/* ---- helpers ---- */

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* size bytes of c at ROOT/share/REL. */
static void
seed(const struct it_env *env, const char *rel, size_t size, char c)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    char *data = it_repeat(c, size);
    assert_int_equal(it_write_file(path, data, size), 0);
    free(data);
}

static void
set_online(const struct it_env *env, const char *share, int online)
{
    assert_int_equal(it_share_set_online(&env->d, "srv", share, online), 200);
}

/* PATCH /api/v1/cache {"limit": limit, "unpinnedLimit": unpinned}. */
static void
set_limits(const struct it_env *env, long long limit, long long unpinned)
{
    char *body = it_fmt("{\"limit\":%lld,\"unpinnedLimit\":%lld}", limit, unpinned);
    struct it_response *r = it_json_req(&env->d, "PATCH", "/api/v1/cache", body);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JINT(r->json, "space.limit", limit);
    IT_ASSERT_JINT(r->json, "space.unpinnedLimit", unpinned);
    it_response_free(r);
    free(body);
}

static void
assert_space(const struct it_env *env, long long used, long long unpinned)
{
    struct it_response *r = it_get(&env->d, "/api/v1/cache");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JINT(r->json, "space.used", used);
    if (unpinned >= 0)
        IT_ASSERT_JINT(r->json, "space.unpinnedUsed", unpinned);
    it_response_free(r);
}

/* GET /api/v1/files/srv/SHARE/REL: the response (status asserted by callers). */
static struct it_response *
read_file(const struct it_env *env, const char *share, const char *rel)
{
    return it_get(&env->d, "/api/v1/files/srv/%s/%s", share, rel);
}

static void
read_ok(const struct it_env *env, const char *rel, const char *source)
{
    struct it_response *r = read_file(env, "s", rel);
    IT_ASSERT_STATUS(r, 200);
    if (source) {
        const char *got = it_resp_header(r, "X-Offline-Source");
        assert_non_null(got);
        assert_string_equal(got, source);
    }
    it_response_free(r);
}

static void
read_not_offline(const struct it_env *env, const char *rel)
{
    struct it_response *r = read_file(env, "s", rel);
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
}

static struct it_response *
item(const struct it_env *env, const char *share, const char *rel)
{
    struct it_response *r = it_get(&env->d, "/api/v1/items/srv/%s/%s", share, rel);
    IT_ASSERT_STATUS(r, 200);
    return r;
}

static void
assert_ghosted(const struct it_env *env, const char *rel, int ghosted)
{
    struct it_response *r = item(env, "s", rel);
    IT_ASSERT_JBOOL(r->json, "ghosted", ghosted);
    it_response_free(r);
}

static struct it_response *
pin_req(const struct it_env *env, const char *path, int deep, const char *extra)
{
    char *body = it_fmt("{\"paths\":[\"%s\"],\"deep\":%s,\"wait\":true%s%s}", path,
                        deep ? "true" : "false", extra ? "," : "", extra ? extra : "");
    struct it_response *r = it_json_req(&env->d, "POST", "/api/v1/pins", body);
    free(body);
    return r;
}

static void
pin_ok(const struct it_env *env, const char *path, int deep)
{
    struct it_response *r = pin_req(env, path, deep, NULL);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
}

/* How many logged events of type (for path, when not NULL) have an id above since. */
static int
count_events(const struct it_env *env, long long since, const char *type, const char *path)
{
    json_t *events = it_events_since(&env->d, since), *ev;
    size_t i;
    int n = 0;
    json_array_foreach(events, i, ev)
    {
        const char *t = json_string_value(json_object_get(ev, "type"));
        const char *p = json_string_value(json_object_get(ev, "path"));
        if (t && strcmp(t, type) == 0 && (!path || (p && strcmp(p, path) == 0)))
            n++;
    }
    json_decref(events);
    return n;
}

static void
assert_event(const struct it_env *env, long long since, const char *type, const char *path)
{
    if (count_events(env, since, type, path) > 0)
        return;
    print_error("no %s event%s%s after event %lld\n", type, path ? " for " : "", path ? path : "",
                since);
    fail();
}

/* A second share //srv/NAME over ROOT/NAME with the given caching mode. */
static void
add_share(const struct it_env *env, const char *name, const char *mode)
{
    char *dir = it_fmt("%s/%s", env->root, name);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(it_share_add(&env->d, "srv", name, dir, mode), 201);
    free(dir);
}

/* ---- the space report and limits ---- */

static void
test_cache_reports_location_limits_and_usage_and_only_admins_change_limits(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_get(&env->d, "/api/v1/cache");
    IT_ASSERT_STATUS(r, 200);
    static const char *const keys[] = {"location", "enabled", "space", NULL};
    static const char *const space_keys[] = {"volumeTotal",   "limit",        "used",
                                             "unpinnedLimit", "unpinnedUsed", NULL};
    IT_ASSERT_KEYS(r->json, keys);
    IT_ASSERT_KEYS(it_jget(r->json, "space"), space_keys);
    IT_ASSERT_JINT(r->json, "space.used", 0);
    IT_ASSERT_JINT(r->json, "space.unpinnedUsed", 0);
    it_response_free(r);
    char user[128], err[256];
    assert_int_equal(
        it_token_create(env->d.data_dir, "bob", 0, user, sizeof(user), err, sizeof(err)), 0);
    struct it_request rq = {.path = "/api/v1/cache", .auth = IT_AUTH_TOKEN, .token = user};
    r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    struct it_request patch = {.method = "PATCH",
                               .path = "/api/v1/cache",
                               .auth = IT_AUTH_TOKEN,
                               .token = user,
                               .content_type = "application/json",
                               .body = "{\"limit\":1000}",
                               .body_len = 14};
    r = it_http(&env->d, &patch);
    IT_ASSERT_PROBLEM(r, 403, "forbidden");
    it_response_free(r);
    set_limits(env, 5000, 2000);
    /* The unpinned limit never exceeds the total. */
    r = it_json_req(&env->d, "PATCH", "/api/v1/cache", "{\"limit\":1500}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JINT(r->json, "space.limit", 1500);
    IT_ASSERT_JINT(r->json, "space.unpinnedLimit", 1500);
    it_response_free(r);
}

/* ---- caching modes ---- */

static void
test_manual_mode_does_not_cache_plain_reads(void **state)
{
    struct it_env *env = *state;
    seed(env, "plain.txt", KB, 'p');
    seed(env, "pinned.txt", KB, 'q');
    read_ok(env, "plain.txt", "server");
    read_ok(env, "plain.txt", "server");
    assert_ghosted(env, "plain.txt", 1);
    assert_space(env, 0, 0);
    pin_ok(env, "//srv/s/pinned.txt", 0);
    assert_space(env, KB, 0);
    set_online(env, "s", 0);
    read_not_offline(env, "plain.txt");
    read_ok(env, "pinned.txt", "cache");
}

static void
test_auto_mode_caches_reads_as_unpinned_content(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", KB, 'a');
    read_ok(env, "a.txt", "server");
    assert_ghosted(env, "a.txt", 0);
    assert_space(env, KB, KB);
    read_ok(env, "a.txt", "cache");
    set_online(env, "s", 0);
    read_ok(env, "a.txt", "cache");
}

static void
test_cacheable_reports_the_caching_mode_of_each_share(void **state)
{
    struct it_env *env = *state;
    add_share(env, "a", "auto");
    add_share(env, "nc", "noCaching");
    static const struct {
        const char *path;
        int cacheable;
        const char *mode;
    } cases[] = {
        {"//srv/s", 1, "manual"},
        {"//srv/s/no/such/file.txt", 1, "manual"},
        {"//srv/a/x", 1, "auto"},
        {"//srv/nc", 0, "noCaching"},
        {"//srv/nc/d/x.txt", 0, "noCaching"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *enc = it_urlencode(cases[i].path);
        struct it_response *r = it_get(&env->d, "/api/v1/cache/cacheable?path=%s", enc);
        IT_ASSERT_STATUS(r, 200);
        static const char *const keys[] = {"path", "cacheable", "cachingMode", NULL};
        IT_ASSERT_KEYS(r->json, keys);
        IT_ASSERT_JSTR(r->json, "path", cases[i].path);
        IT_ASSERT_JBOOL(r->json, "cacheable", cases[i].cacheable);
        IT_ASSERT_JSTR(r->json, "cachingMode", cases[i].mode);
        it_response_free(r);
        free(enc);
    }
    struct it_response *r = it_get(&env->d, "/api/v1/cache/cacheable");
    IT_ASSERT_PROBLEM(r, 400, "invalid-query");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/cache/cacheable?path=%%2F%%2Fsrv");
    IT_ASSERT_PROBLEM(r, 400, "invalid-path");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/cache/cacheable?path=%%2F%%2Fsrv%%2Fnope%%2Fx");
    IT_ASSERT_PROBLEM(r, 404, "no-such-share");
    it_response_free(r);
}

static void
test_no_caching_share_refuses_pins_with_409_and_keeps_nothing(void **state)
{
    struct it_env *env = *state;
    add_share(env, "nc", "noCaching");
    char *path = it_fmt("%s/nc/a.txt", env->root);
    assert_int_equal(it_write_file(path, "no cache", 8), 0);
    free(path);
    struct it_response *r = pin_req(env, "//srv/nc/a.txt", 0, NULL);
    IT_ASSERT_PROBLEM(r, 409, "conflict");
    it_response_free(r);
    r = pin_req(env, "//srv/nc", 1, NULL);
    IT_ASSERT_PROBLEM(r, 409, "conflict");
    it_response_free(r);
    /* Reads are served, and nothing is kept. */
    r = read_file(env, "nc", "a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "no cache");
    it_response_free(r);
    assert_space(env, 0, 0);
    set_online(env, "nc", 0);
    r = read_file(env, "nc", "a.txt");
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
}

/* ---- eviction ---- */

static void
test_unpinned_limit_evicts_the_least_recently_used_file_into_a_ghost(void **state)
{
    struct it_env *env = *state;
    set_limits(env, BIG_LIMIT, 3 * KB);
    seed(env, "a.txt", KB, 'a');
    seed(env, "b.txt", KB, 'b');
    seed(env, "c.txt", KB, 'c');
    seed(env, "d.txt", KB, 'd');
    read_ok(env, "a.txt", "server");
    read_ok(env, "b.txt", "server");
    read_ok(env, "c.txt", "server");
    assert_space(env, 3 * KB, 3 * KB);
    /* Last access is kept to the second: read a.txt again more than 1 s later. */
    sleep_ms(1100);
    read_ok(env, "a.txt", "cache");
    long long since = it_events_newest(&env->d);
    read_ok(env, "d.txt", "server");
    assert_ghosted(env, "b.txt", 1);
    assert_ghosted(env, "a.txt", 0);
    assert_ghosted(env, "c.txt", 0);
    assert_ghosted(env, "d.txt", 0);
    assert_space(env, 3 * KB, 3 * KB);
    assert_event(env, since, "CacheEvictBegin", NULL);
    assert_event(env, since, "CacheEvictEnd", NULL);
    assert_event(env, since, "ItemNotAvailableOffline", "//srv/s/b.txt");
    assert_int_equal(count_events(env, since, "CacheIsFull", NULL), 0);
    struct it_response *r = item(env, "s", "b.txt");
    IT_ASSERT_JINT(r->json, "remote.size", KB);
    it_response_free(r);
    set_online(env, "s", 0);
    read_not_offline(env, "b.txt");
    read_ok(env, "a.txt", "cache");
    read_ok(env, "c.txt", "cache");
    read_ok(env, "d.txt", "cache");
}

static void
test_total_limit_evicts_unpinned_content_and_keeps_pinned_and_dirty_content(void **state)
{
    struct it_env *env = *state;
    /* Pinned: p.bin on //srv/s (auto). Dirty: w.txt written to //srv/o while it is offline. */
    seed(env, "p.bin", 2 * KB, 'p');
    pin_ok(env, "//srv/s/p.bin", 0);
    add_share(env, "o", "manual");
    set_online(env, "o", 0);
    char *w = it_repeat('w', KB);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/o/w.txt", w, KB);
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    seed(env, "a.txt", KB, 'a');
    seed(env, "b.txt", KB, 'b');
    seed(env, "c.txt", KB, 'c');
    read_ok(env, "a.txt", "server");
    read_ok(env, "b.txt", "server");
    /* Unpinned counts every byte no pin holds, the dirty ones too. */
    assert_space(env, 5 * KB, 3 * KB);
    set_limits(env, 5 * KB, 5 * KB);
    long long since = it_events_newest(&env->d);
    read_ok(env, "c.txt", "server");
    assert_ghosted(env, "a.txt", 1);
    assert_ghosted(env, "b.txt", 0);
    assert_ghosted(env, "c.txt", 0);
    assert_ghosted(env, "p.bin", 0);
    assert_space(env, 5 * KB, 3 * KB);
    assert_event(env, since, "CacheEvictBegin", NULL);
    assert_event(env, since, "CacheEvictEnd", NULL);
    /* Down to the pinned and dirty bytes: every clean unpinned file goes, they stay. */
    since = it_events_newest(&env->d);
    set_limits(env, 3 * KB, 3 * KB);
    assert_ghosted(env, "b.txt", 1);
    assert_ghosted(env, "c.txt", 1);
    assert_ghosted(env, "p.bin", 0);
    r = item(env, "o", "w.txt");
    IT_ASSERT_JBOOL(r->json, "ghosted", 0);
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    it_response_free(r);
    assert_space(env, 3 * KB, KB);
    assert_event(env, since, "CacheEvictBegin", NULL);
    assert_event(env, since, "CacheEvictEnd", NULL);
    /* Below what they hold: nothing more goes, nothing is lost. */
    set_limits(env, KB, 0);
    assert_space(env, 3 * KB, KB);
    set_online(env, "s", 0);
    read_ok(env, "p.bin", "cache");
    r = read_file(env, "o", "w.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, w);
    it_response_free(r);
    free(w);
}

/* ---- a full cache ---- */

static void
test_an_offline_write_past_a_full_cache_answers_507_and_stores_nothing(void **state)
{
    struct it_env *env = *state;
    seed(env, "p.bin", 2 * KB, 'p');
    pin_ok(env, "//srv/s/p.bin", 0);
    set_limits(env, 2500, 2500);
    set_online(env, "s", 0);
    char *data = it_repeat('x', 400);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/small.txt", data, 400);
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    assert_space(env, 2400, -1);
    long long since = it_events_newest(&env->d);
    r = it_put(&env->d, "/api/v1/files/srv/s/big.txt", data, 200);
    IT_ASSERT_PROBLEM(r, 507, "cache-full");
    it_response_free(r);
    assert_event(env, since, "CacheIsFull", NULL);
    r = it_get(&env->d, "/api/v1/items/srv/s/big.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    assert_space(env, 2400, -1);
    read_ok(env, "p.bin", "cache");
    read_ok(env, "small.txt", "cache");
    /* Back online, the write that was kept syncs; the refused one never existed. */
    set_online(env, "s", 1);
    assert_int_equal(it_jobs_idle(&env->d, 30), 0);
    struct it_response *s = it_sync(&env->d, "//srv/s", NULL, NULL);
    IT_ASSERT_STATUS(s, 200);
    it_response_free(s);
    char path[PATH_MAX];
    it_share_file(env, "big.txt", path);
    assert_false(it_exists(path));
    it_share_file(env, "small.txt", path);
    assert_true(it_exists(path));
    free(data);
}

static void
test_a_pin_that_does_not_fit_reports_cache_full_on_the_items_left_out(void **state)
{
    struct it_env *env = *state;
    seed(env, "d/f1.bin", KB, '1');
    seed(env, "d/f2.bin", KB, '2');
    seed(env, "g.bin", KB, 'g');
    set_limits(env, 1500, 1500);
    long long since = it_events_newest(&env->d);
    struct it_response *r = pin_req(env, "//srv/s/d", 1, NULL);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    json_t *f1 = it_jfind_path(r->json, "results", "//srv/s/d/f1.bin");
    json_t *f2 = it_jfind_path(r->json, "results", "//srv/s/d/f2.bin");
    assert_non_null(f1);
    assert_non_null(f2);
    const char *c1 = json_string_value(json_object_get(f1, "code"));
    const char *c2 = json_string_value(json_object_get(f2, "code"));
    assert_non_null(c1);
    assert_non_null(c2);
    /* One fits, the other is left out with cache-full. */
    if (!((strcmp(c1, "ok") == 0 && strcmp(c2, "cache-full") == 0) ||
          (strcmp(c1, "cache-full") == 0 && strcmp(c2, "ok") == 0))) {
        print_error("want one ok and one cache-full, got %s and %s\n", c1, c2);
        it_show_response(r);
        fail();
    }
    json_t *full = strcmp(c1, "cache-full") == 0 ? f1 : f2;
    IT_ASSERT_JSTR(full, "result", "failed");
    IT_ASSERT_JSTR(it_jfind_path(r->json, "results", "//srv/s/d"), "code", "ok");
    it_response_free(r);
    assert_event(env, since, "CacheIsFull", NULL);
    assert_space(env, KB, 0);
    /* A single file that does not fit fails the job with cache-full. */
    r = pin_req(env, "//srv/s/g.bin", 0, NULL);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "failed");
    IT_ASSERT_JSTR(r->json, "error.code", "cache-full");
    IT_ASSERT_JSTR(it_jfind_path(r->json, "results", "//srv/s/g.bin"), "code", "cache-full");
    it_response_free(r);
    /* It stays pinned, as a ghost, until there is room. */
    r = item(env, "s", "g.bin");
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 1);
    IT_ASSERT_JBOOL(r->json, "ghosted", 1);
    it_response_free(r);
    assert_space(env, KB, 0);
}

static void
test_pinned_content_is_not_held_to_the_unpinned_limit(void **state)
{
    struct it_env *env = *state;
    set_limits(env, BIG_LIMIT, 0);
    seed(env, "a.bin", KB, 'a');
    seed(env, "b.bin", KB, 'b');
    /* Filled by the pin job. */
    pin_ok(env, "//srv/s/a.bin", 0);
    assert_ghosted(env, "a.bin", 0);
    /* Pinned without content, then filled by a sync. */
    struct it_response *r = pin_req(env, "//srv/s/b.bin", 0, "\"fill\":false");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    r = it_sync(&env->d, "//srv/s", NULL, NULL);
    IT_ASSERT_STATUS(r, 200);
    json_t *res = it_jfind_path(r->json, "results", "//srv/s/b.bin");
    assert_non_null(res);
    IT_ASSERT_JSTR(res, "code", "ok");
    it_response_free(r);
    assert_ghosted(env, "b.bin", 0);
    assert_space(env, 2 * KB, 0);
}

/* ---- slow links and transparent caching ---- */

static void
test_slow_link_threshold_and_measured_latency_are_shown(void **state)
{
    struct it_env *env = *state;
    seed(env, "t.txt", KB, 't');
    struct it_response *r =
        it_json_req(&env->d, "PATCH", "/api/v1/shares/srv/s", "{\"slowLinkMs\":250}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JINT(r->json, "slowLinkMs", 250);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/shares/srv/s");
    IT_ASSERT_JINT(r->json, "slowLinkMs", 250);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_STATUS(r, 200);
    static const char *const keys[] = {"state",     "reason",     "slow",        "latencyMs",
                                       "lastError", "lastChange", "nextProbeAt", NULL};
    IT_ASSERT_KEYS(r->json, keys);
    IT_ASSERT_JSTR(r->json, "state", "online");
    it_response_free(r);
    /* The share goes away and comes back: the prober measures it on the way back. */
    assert_int_equal(it_env_unplug(env), 0);
    r = read_file(env, "s", "t.txt");
    assert_int_equal(r->status, 503);
    it_response_free(r);
    assert_int_equal(it_env_replug(env), 0);
    long long latency = -1;
    for (int i = 0; i < 200; i++) {
        r = it_get(&env->d, "/api/v1/connection/srv/s");
        const char *st = json_string_value(it_jget(r->json, "state"));
        json_t *lat = it_jget(r->json, "latencyMs");
        if (st && strcmp(st, "online") == 0 && json_is_integer(lat))
            latency = (long long)json_integer_value(lat);
        it_response_free(r);
        if (latency >= 0)
            break;
        sleep_ms(50);
    }
    if (latency < 1) {
        print_error("the share did not come back online with a measured latency in 10 s\n");
        fail();
    }
    /* A local directory is fast: below the threshold, a plain read is not kept. */
    assert_true(latency < 250);
    r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JBOOL(r->json, "slow", 0);
    it_response_free(r);
    read_ok(env, "t.txt", "server");
    r = item(env, "s", "t.txt");
    IT_ASSERT_JBOOL(r->json, "transparentlyCached", 0);
    IT_ASSERT_JBOOL(r->json, "ghosted", 1);
    it_response_free(r);
    r = it_json_req(&env->d, "PATCH", "/api/v1/shares/srv/s", "{\"slowLinkMs\":-1}");
    IT_ASSERT_PROBLEM(r, 400, "invalid-field");
    it_response_free(r);
}

/*
 * Attach strace to the daemon so that every openat(2) of its threads takes
 * delay_ms longer. Returns strace's pid (0: strace is not there or cannot
 * attach). stop_strace detaches it.
 */
static pid_t
start_strace(const struct it_env *env, long delay_ms)
{
    if (access("/usr/bin/strace", X_OK) != 0)
        return 0;
    char *log = it_fmt("%s/strace.log", env->root);
    char pid[16], inject[64];
    snprintf(pid, sizeof(pid), "%d", (int)env->d.pid);
    snprintf(inject, sizeof(inject), "inject=openat:delay_enter=%ldms", delay_ms);
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        execl("/usr/bin/strace", "strace", "-f", "-p", pid, "-e", "trace=openat", "-e", inject,
              "-o", "/dev/null", (char *)NULL);
        _exit(127);
    }
    free(log);
    if (child < 0)
        return 0;
    /* strace reports each thread it attached to; give it a moment to get them all. */
    sleep_ms(1000);
    int status;
    if (waitpid(child, &status, WNOHANG) != 0)
        return 0;
    return child;
}

static void
stop_strace(pid_t child)
{
    if (child <= 0)
        return;
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
}

static void
test_files_read_over_a_slow_link_are_cached_transparently(void **state)
{
    struct it_env *env = *state;
    seed(env, "t.txt", KB, 't');
    seed(env, "u.txt", KB, 'u');
    struct it_response *r =
        it_json_req(&env->d, "PATCH", "/api/v1/shares/srv/s", "{\"slowLinkMs\":10}");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    pid_t tracer = start_strace(env, 60);
    if (!tracer) {
        print_message("strace cannot attach to the daemon: cannot make the share slow\n");
        skip();
    }
    /* Away and back: the prober's probe opens the share root, now 60 ms slower. */
    assert_int_equal(it_env_unplug(env), 0);
    r = read_file(env, "s", "t.txt");
    assert_int_equal(r->status, 503);
    it_response_free(r);
    assert_int_equal(it_env_replug(env), 0);
    /* Up on a slow link, and not set to go offline on one: transparently cached. */
    long long latency = -1;
    for (int i = 0; i < 200 && latency < 10; i++) {
        r = it_get(&env->d, "/api/v1/connection/srv/s");
        const char *st = json_string_value(it_jget(r->json, "state"));
        json_t *lat = it_jget(r->json, "latencyMs");
        if (st && strcmp(st, "offline") != 0 && json_is_integer(lat))
            latency = (long long)json_integer_value(lat);
        it_response_free(r);
        sleep_ms(50);
    }
    stop_strace(tracer);
    if (latency < 10) {
        print_error("the share did not come back measured as slow (latency %lld ms)\n", latency);
        fail();
    }
    r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "state", "transparentlyCached");
    IT_ASSERT_JBOOL(r->json, "slow", 1);
    assert_true(json_is_null(it_jget(r->json, "reason")));
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/connection/srv");
    IT_ASSERT_JSTR(r->json, "state", "transparentlyCached");
    it_response_free(r);
    /* A second share of the server on a fast link: the server is partly transparently cached. */
    add_share(env, "fast", "manual");
    r = it_get(&env->d, "/api/v1/connection/srv/fast");
    IT_ASSERT_JSTR(r->json, "state", "online");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/connection/srv");
    IT_ASSERT_JSTR(r->json, "state", "partlyTransparentlyCached");
    it_response_free(r);
    /* The next online probe is 30 s away: until then the share counts as slow. */
    long long since = it_events_newest(&env->d);
    read_ok(env, "t.txt", "server");
    r = item(env, "s", "t.txt");
    IT_ASSERT_JBOOL(r->json, "transparentlyCached", 1);
    IT_ASSERT_JBOOL(r->json, "ghosted", 0);
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 0);
    IT_ASSERT_JSTR(r->json, "connection.state", "transparentlyCached");
    it_response_free(r);
    assert_event(env, since, "TransparentCacheItemNotify", "//srv/s/t.txt");
    /* Online it is served from the cache once revalidated. */
    read_ok(env, "t.txt", "cache");
    r = it_get(&env->d, "/api/v1/items?under=%%2F%%2Fsrv%%2Fs&flags=transparentlyCached");
    IT_ASSERT_STATUS(r, 200);
    assert_non_null(it_jfind_path(r->json, "items", "//srv/s/t.txt"));
    it_response_free(r);
    /* A pinned file is cached as usual, not transparently. */
    pin_ok(env, "//srv/s/u.txt", 0);
    r = item(env, "s", "u.txt");
    IT_ASSERT_JBOOL(r->json, "transparentlyCached", 0);
    it_response_free(r);
    /* Offline, a transparently cached file is not served. */
    set_online(env, "s", 0);
    read_not_offline(env, "t.txt");
    read_ok(env, "u.txt", "cache");
    r = item(env, "s", "t.txt");
    IT_ASSERT_JSTR(r->json, "connection.state", "offline");
    IT_ASSERT_JSTR(r->json, "connection.reason", "forced");
    it_response_free(r);
    /* The server is up through its fast share alone. */
    r = it_get(&env->d, "/api/v1/connection/srv");
    IT_ASSERT_JSTR(r->json, "state", "online");
    it_response_free(r);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define M(f) cmocka_unit_test_setup_teardown(f, it_setup_manual, it_teardown)
#define A(f) cmocka_unit_test_setup_teardown(f, it_setup_auto, it_teardown)
    const struct CMUnitTest tests[] = {
        M(test_cache_reports_location_limits_and_usage_and_only_admins_change_limits),
        M(test_manual_mode_does_not_cache_plain_reads),
        A(test_auto_mode_caches_reads_as_unpinned_content),
        M(test_cacheable_reports_the_caching_mode_of_each_share),
        M(test_no_caching_share_refuses_pins_with_409_and_keeps_nothing),
        A(test_unpinned_limit_evicts_the_least_recently_used_file_into_a_ghost),
        A(test_total_limit_evicts_unpinned_content_and_keeps_pinned_and_dirty_content),
        M(test_an_offline_write_past_a_full_cache_answers_507_and_stores_nothing),
        M(test_a_pin_that_does_not_fit_reports_cache_full_on_the_items_left_out),
        M(test_pinned_content_is_not_held_to_the_unpinned_limit),
        M(test_slow_link_threshold_and_measured_latency_are_shown),
        M(test_files_read_over_a_slow_link_are_cached_transparently),
    };
#undef M
#undef A
    return cmocka_run_group_tests(tests, NULL, NULL);
}
