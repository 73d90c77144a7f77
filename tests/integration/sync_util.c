/* SPDX-License-Identifier: MIT */
/* Helpers of the sync integration tests; see sync_util.h. */
#include "sync_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
st_pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the server's copies ---- */

static void
server_path(const struct it_env *env, const char *rel, char *buf)
{
    it_share_file(env, rel, buf);
    if (!it_exists(env->share_dir))
        snprintf(buf, PATH_MAX, "%s/unplugged/%s", env->root, rel);
}

void
st_seed(const struct it_env *env, const char *rel, const char *text)
{
    char path[PATH_MAX];
    server_path(env, rel, path);
    if (it_write_file(path, text, strlen(text)) < 0) {
        print_error("cannot write %s on the server\n", rel);
        fail();
    }
}

char *
st_on_server(const struct it_env *env, const char *rel)
{
    char path[PATH_MAX];
    server_path(env, rel, path);
    return it_read_file(path, NULL);
}

void
st_assert_on_server(const struct it_env *env, const char *rel, const char *want, const char *file,
                    int line)
{
    char *got = st_on_server(env, rel);
    int same = want ? got && strcmp(got, want) == 0 : !got;
    if (!same)
        print_error("the server's copy of %s: expected %s%.200s%s, found %s%.200s%s\n", rel,
                    want ? "\"" : "", want ? want : "none", want ? "\"" : "", got ? "\"" : "",
                    got ? got : "none", got ? "\"" : "");
    free(got);
    if (!same)
        _fail(file, line);
}

/* ---- the cache ---- */

void
st_cache_file(const struct it_env *env, const char *rel)
{
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/%s", rel);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
}

void
st_put_offline(const struct it_env *env, const char *rel, const char *text)
{
    char *path = it_fmt("/api/v1/files/srv/s/%s", rel);
    struct it_response *r = it_put(&env->d, path, text, strlen(text));
    free(path);
    if (r->status != 201)
        IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
}

struct it_response *
st_item(const struct it_env *env, const char *rel)
{
    return it_get(&env->d, "/api/v1/items/srv/s/%s", rel);
}

void
st_assert_dirty(const struct it_env *env, const char *rel, int dirty, const char *file, int line)
{
    struct it_response *r = st_item(env, rel);
    it_assert_status(r, 200, file, line);
    it_assert_jbool(r->json, "change.dirty", dirty, file, line);
    it_response_free(r);
}

void
st_assert_cached(const struct it_env *env, const char *rel, const char *want, const char *file,
                 int line)
{
    st_go_offline(env);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/%s", rel);
    it_assert_status(r, 200, file, line);
    const char *source = it_resp_header(r, "X-Offline-Source");
    int ok = source && strcmp(source, "cache") == 0 && strcmp(r->body, want) == 0;
    if (!ok)
        print_error("the cached copy of %s: expected \"%.200s\" from the cache, got \"%.200s\" "
                    "from %s\n",
                    rel, want, r->body, source ? source : "(no X-Offline-Source)");
    it_response_free(r);
    if (!ok)
        _fail(file, line);
}

/* ---- connection ---- */

void
st_go_offline(const struct it_env *env)
{
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 0), 200);
}

void
st_go_online(const struct it_env *env)
{
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 1), 200);
}

void
st_unplug(struct it_env *env)
{
    assert_int_equal(it_env_unplug(env), 0);
}

void
st_replug_and_restart(struct it_env *env)
{
    /* Stopped first: a prober must not see the share come back before the restart. */
    int st = it_daemon_stop(&env->d);
    if (st != 0) {
        print_error("the daemon exited with %d on SIGTERM, not 0\n", st);
        fail();
    }
    if (!it_exists(env->share_dir))
        assert_int_equal(it_env_replug(env), 0);
    if (it_daemon_start(&env->d) < 0) {
        print_error("the daemon did not start again\n");
        fail();
    }
    struct it_response *r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "state", "online");
    it_response_free(r);
}

/* ---- syncs and their results ---- */

struct it_response *
st_sync_share(const struct it_env *env, const char *policy, const char *state, const char *file,
              int line)
{
    struct it_response *r = it_sync(&env->d, "//srv/s", policy, NULL);
    it_assert_status(r, 200, file, line);
    it_assert_jstr(r->json, "state", state, file, line);
    return r;
}

static json_t *
find_result(const struct it_response *job, const char *rel)
{
    char *path = it_fmt("//srv/s/%s", rel);
    json_t *res = it_jfind_path(job->json, "results", path);
    free(path);
    return res;
}

json_t *
st_result_of(const struct it_response *job, const char *rel, const char *file, int line)
{
    json_t *res = find_result(job, rel);
    if (!res) {
        print_error("no result for //srv/s/%s in %.3000s\n", rel, job->body);
        _fail(file, line);
    }
    return res;
}

void
st_assert_no_result(const struct it_response *job, const char *rel, const char *file, int line)
{
    if (find_result(job, rel)) {
        print_error("expected no result for //srv/s/%s in %.3000s\n", rel, job->body);
        _fail(file, line);
    }
}

/* ---- conflict records ---- */

struct it_response *
st_conflicts(const struct it_env *env)
{
    struct it_response *r = it_get(&env->d, "/api/v1/conflicts?under=//srv/s");
    IT_ASSERT_STATUS(r, 200);
    assert_true(json_is_array(it_jget(r->json, "conflicts")));
    return r;
}

void
st_assert_conflicts(const struct it_env *env, size_t n, const char *path, const char *sync_state,
                    const char *file, int line)
{
    struct it_response *r = st_conflicts(env);
    json_t *list = it_jget(r->json, "conflicts");
    if (json_array_size(list) != n) {
        print_error("expected %zu conflict record(s), found %.3000s\n", n, r->body);
        _fail(file, line);
    }
    if (n == 1 && path)
        it_assert_jstr(list, "0.path", path, file, line);
    if (n == 1 && sync_state)
        it_assert_jstr(list, "0.syncState", sync_state, file, line);
    it_response_free(r);
}

long long
st_only_conflict_id(const struct it_env *env)
{
    struct it_response *r = st_conflicts(env);
    assert_int_equal(json_array_size(it_jget(r->json, "conflicts")), 1);
    long long id = (long long)json_integer_value(it_jget(r->json, "conflicts.0.id"));
    it_response_free(r);
    return id;
}

/* ---- both sides changed ---- */

void
st_edit_both(struct it_env *env, const char *local, const char *remote, int local_last)
{
    st_seed(env, "a.txt", ST_BASE);
    st_cache_file(env, "a.txt");
    st_unplug(env);
    if (local_last) {
        st_seed(env, "a.txt", remote);
        st_pause_ms(50);
        st_put_offline(env, "a.txt", local);
    } else {
        st_put_offline(env, "a.txt", local);
        st_pause_ms(50);
        st_seed(env, "a.txt", remote);
    }
    st_replug_and_restart(env);
}

char *
st_find_name(const struct it_env *env, const char *prefix, int *ret_count)
{
    DIR *d = opendir(env->share_dir);
    assert_non_null(d);
    char *found = NULL;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
            continue;
        n++;
        free(found);
        found = strdup(de->d_name);
    }
    closedir(d);
    *ret_count = n;
    return found;
}

int
st_is_conflict_name(const char *name, const char *stem, const char *ext, long max_skew_s)
{
    size_t sl = strlen(stem), el = strlen(ext), n = strlen(name);
    static const char tag[] = " (conflict YYYY-MM-DD HHMMSS)";
    size_t tl = sizeof(tag) - 1;
    if (n != sl + tl + el || strncmp(name, stem, sl) != 0 || strcmp(name + n - el, ext) != 0)
        return 0;
    for (size_t i = 0; i < tl; i++) {
        char c = name[sl + i], t = tag[i];
        if (strchr("YMDHS", t) ? c < '0' || c > '9' : c != t)
            return 0;
    }
    struct tm tm = {0};
    if (sscanf(name + sl, " (conflict %4d-%2d-%2d %2d%2d%2d)", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    long skew = (long)(timegm(&tm) - time(NULL));
    return skew <= max_skew_s && skew >= -max_skew_s;
}

/* ---- many files ---- */

void
st_numbered(char *buf, size_t cap, int i)
{
    snprintf(buf, cap, "file %04d\n", i);
}

void
st_seed_numbered(const struct it_env *env, const char *dir, int from, int to)
{
    char rel[64], text[32];
    for (int i = from; i <= to; i++) {
        snprintf(rel, sizeof(rel), "%s%sf%04d.txt", dir, dir[0] ? "/" : "", i);
        st_numbered(text, sizeof(text), i);
        st_seed(env, rel, text);
    }
}

struct it_response *
st_sync_long(const struct it_env *env, const char *more)
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

size_t
st_each_item(const struct it_env *env, const char *query, void (*fn)(json_t *it, void *ctx),
             void *ctx)
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

int
st_count_entries(const char *dir, const char *prefix)
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
