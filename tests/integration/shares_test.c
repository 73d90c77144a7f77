/* SPDX-License-Identifier: MIT */
/*
 * Shares, servers and connection state over HTTP: creating, listing,
 * reading, patching and removing shares; who may do it; forcing a share
 * offline and back; what survives a restart.
 */
#include "harness.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

static const char *const share_keys[] = {
    "server",     "share",  "path",     "remote",    "cachingMode",       "createdAt",
    "auth",       "caFile", "insecure", "transfers", "offlineOnSlowLink", "slowLinkMs",
    "connection", NULL};
static const char *const conn_keys[] = {"state",     "reason",     "slow",        "latencyMs",
                                        "lastError", "lastChange", "nextProbeAt", NULL};

/* A second directory below the test's root to serve as another share. */
static char *
new_share_dir(const struct it_env *env, const char *name)
{
    char *dir = it_fmt("%s/%s", env->root, name);
    assert_int_equal(mkdir(dir, 0700), 0);
    return dir;
}

static char *
share_body(const char *server, const char *share, const char *dir, const char *mode)
{
    return it_fmt("{\"server\":\"%s\",\"share\":\"%s\",\"remote\":\"file://%s\""
                  ",\"cachingMode\":\"%s\"}",
                  server, share, dir, mode);
}

static void
test_health_answers_without_a_token(void **state)
{
    struct it_env *env = *state;
    struct it_request rq = {.path = "/api/v1/health", .auth = IT_AUTH_NONE};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "status", "ok");
    it_response_free(r);
}

static void
test_version_needs_a_token_and_names_the_user(void **state)
{
    struct it_env *env = *state;
    struct it_request rq = {.path = "/api/v1/version", .auth = IT_AUTH_NONE};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_PROBLEM(r, 401, "unauthorized");
    assert_non_null(it_resp_header(r, "WWW-Authenticate"));
    assert_non_null(strstr(it_resp_header(r, "WWW-Authenticate"), "Bearer"));
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/version");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "name", "offlinefiles");
    IT_ASSERT_JSTR(r->json, "api", "v1");
    IT_ASSERT_JSTR(r->json, "user.name", "admin");
    IT_ASSERT_JBOOL(r->json, "user.admin", 1);
    it_response_free(r);
}

static void
test_created_share_answers_201_with_location_and_settings(void **state)
{
    struct it_env *env = *state;
    char *dir = new_share_dir(env, "two");
    char *body = share_body("srv2", "t", dir, "auto");
    struct it_response *r = it_json_req(&env->d, "POST", "/api/v1/shares", body);
    IT_ASSERT_STATUS(r, 201);
    assert_non_null(it_resp_header(r, "Location"));
    assert_string_equal(it_resp_header(r, "Location"), "/api/v1/shares/srv2/t");
    IT_ASSERT_KEYS(r->json, share_keys);
    IT_ASSERT_KEYS(it_jget(r->json, "connection"), conn_keys);
    IT_ASSERT_JSTR(r->json, "server", "srv2");
    IT_ASSERT_JSTR(r->json, "share", "t");
    IT_ASSERT_JSTR(r->json, "path", "//srv2/t");
    IT_ASSERT_JSTR(r->json, "cachingMode", "auto");
    IT_ASSERT_JSTR(r->json, "connection.state", "online");
    IT_ASSERT_JNULL(r->json, "connection.reason");
    char *remote = it_fmt("file://%s", dir);
    IT_ASSERT_JSTR(r->json, "remote", remote);
    assert_true(json_is_string(it_jget(r->json, "createdAt")));
    it_response_free(r);
    free(remote);
    free(body);
    free(dir);
}

static void
test_share_without_caching_mode_defaults_to_manual(void **state)
{
    struct it_env *env = *state;
    char *dir = new_share_dir(env, "two");
    char *body = it_fmt("{\"server\":\"srv\",\"share\":\"t\",\"remote\":\"file://%s\"}", dir);
    struct it_response *r = it_json_req(&env->d, "POST", "/api/v1/shares", body);
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JSTR(r->json, "cachingMode", "manual");
    it_response_free(r);
    free(body);
    free(dir);
}

static void
test_share_list_holds_every_share_in_order(void **state)
{
    struct it_env *env = *state;
    char *dir = new_share_dir(env, "two");
    assert_int_equal(it_share_add(&env->d, "alpha", "a", dir, "noCaching"), 201);
    struct it_response *r = it_get(&env->d, "/api/v1/shares");
    IT_ASSERT_STATUS(r, 200);
    json_t *shares = it_jget(r->json, "shares");
    assert_true(json_is_array(shares));
    assert_int_equal(json_array_size(shares), 2);
    for (size_t i = 0; i < json_array_size(shares); i++)
        IT_ASSERT_KEYS(json_array_get(shares, i), share_keys);
    /* Sorted by server, then share. */
    IT_ASSERT_JSTR(shares, "0.path", "//alpha/a");
    IT_ASSERT_JSTR(shares, "0.cachingMode", "noCaching");
    IT_ASSERT_JSTR(shares, "1.path", "//srv/s");
    it_response_free(r);
    free(dir);
}

static void
test_wrong_method_answers_405_with_allow(void **state)
{
    struct it_env *env = *state;
    struct it_request rq = {.method = "DELETE", .path = "/api/v1/health"};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_PROBLEM(r, 405, "method-not-allowed");
    assert_non_null(it_resp_header(r, "Allow"));
    assert_string_equal(it_resp_header(r, "Allow"), "GET, HEAD");
    it_response_free(r);
    rq = (struct it_request){.method = "POST",
                             .path = "/api/v1/shares/srv/s",
                             .content_type = "application/json",
                             .body = "{}",
                             .body_len = 2};
    r = it_http(&env->d, &rq);
    IT_ASSERT_PROBLEM(r, 405, "method-not-allowed");
    assert_non_null(it_resp_header(r, "Allow"));
    assert_string_equal(it_resp_header(r, "Allow"), "GET, HEAD, PATCH, DELETE");
    it_response_free(r);
}

static void
test_get_share_returns_its_settings(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_get(&env->d, "/api/v1/shares/srv/s");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_KEYS(r->json, share_keys);
    IT_ASSERT_JSTR(r->json, "path", "//srv/s");
    IT_ASSERT_JSTR(r->json, "cachingMode", "manual");
    IT_ASSERT_JSTR(r->json, "connection.state", "online");
    it_response_free(r);
}

static void
test_duplicate_share_answers_409_already_exists(void **state)
{
    struct it_env *env = *state;
    char *body = share_body("srv", "s", env->share_dir, "auto");
    struct it_response *r = it_json_req(&env->d, "POST", "/api/v1/shares", body);
    IT_ASSERT_PROBLEM(r, 409, "already-exists");
    it_response_free(r);
    /* The first share keeps its settings. */
    r = it_get(&env->d, "/api/v1/shares/srv/s");
    IT_ASSERT_JSTR(r->json, "cachingMode", "manual");
    it_response_free(r);
    free(body);
}

static void
test_unknown_share_answers_404_no_such_share(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_get(&env->d, "/api/v1/shares/srv/nope");
    IT_ASSERT_PROBLEM(r, 404, "no-such-share");
    it_response_free(r);
    r = it_json_req(&env->d, "PATCH", "/api/v1/shares/nope/s", "{\"cachingMode\":\"auto\"}");
    IT_ASSERT_PROBLEM(r, 404, "no-such-share");
    it_response_free(r);
    r = it_delete(&env->d, "/api/v1/shares/nope/s");
    IT_ASSERT_PROBLEM(r, 404, "no-such-share");
    it_response_free(r);
}

static void
test_patch_share_changes_caching_mode_and_keeps_it_after_restart(void **state)
{
    struct it_env *env = *state;
    struct it_response *r =
        it_json_req(&env->d, "PATCH", "/api/v1/shares/srv/s", "{\"cachingMode\":\"auto\"}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "cachingMode", "auto");
    it_response_free(r);
    it_restart(env);
    r = it_get(&env->d, "/api/v1/shares/srv/s");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "cachingMode", "auto");
    it_response_free(r);
}

static void
test_patch_share_remote_points_it_at_another_directory(void **state)
{
    struct it_env *env = *state;
    char *dir = new_share_dir(env, "moved");
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/only-here.txt", dir);
    assert_int_equal(it_write_file(path, "moved", 5), 0);
    char *body = it_fmt("{\"remote\":\"file://%s\"}", dir);
    struct it_response *r = it_json_req(&env->d, "PATCH", "/api/v1/shares/srv/s", body);
    IT_ASSERT_STATUS(r, 200);
    char *remote = it_fmt("file://%s", dir);
    IT_ASSERT_JSTR(r->json, "remote", remote);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/only-here.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "moved");
    it_response_free(r);
    free(remote);
    free(body);
    free(dir);
}

static void
test_delete_share_answers_204_and_forgets_it(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_delete(&env->d, "/api/v1/shares/srv/s");
    IT_ASSERT_STATUS(r, 204);
    assert_int_equal(r->body_len, 0);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/shares/srv/s");
    IT_ASSERT_PROBLEM(r, 404, "no-such-share");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/shares");
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(it_jget(r->json, "shares")), 0);
    it_response_free(r);
    /* Its items are gone with it, and the share's files were not touched. */
    r = it_get(&env->d, "/api/v1/items/srv/s");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    assert_true(it_exists(env->share_dir));
    it_restart(env);
    r = it_get(&env->d, "/api/v1/shares/srv/s");
    IT_ASSERT_PROBLEM(r, 404, "no-such-share");
    it_response_free(r);
}

static void
test_delete_share_with_offline_change_answers_409_conflict_until_forced(void **state)
{
    struct it_env *env = *state;
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 0), 200);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/new.txt", "offline", 7);
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    r = it_delete(&env->d, "/api/v1/shares/srv/s");
    IT_ASSERT_PROBLEM(r, 409, "conflict");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/shares/srv/s");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items/srv/s/new.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    it_response_free(r);
    r = it_delete(&env->d, "/api/v1/shares/srv/s?force=true");
    IT_ASSERT_STATUS(r, 204);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/shares/srv/s");
    IT_ASSERT_PROBLEM(r, 404, "no-such-share");
    it_response_free(r);
}

static int content_files;

static int
count_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    content_files += flag == FTW_F && S_ISREG(sb->st_mode);
    return 0;
}

/* Regular files in the content store of the data dir. */
static int
count_content(const struct it_env *env)
{
    char *dir = it_fmt("%s/cache/content", env->d.data_dir);
    content_files = 0;
    nftw(dir, count_file, 8, FTW_PHYS);
    free(dir);
    return content_files;
}

static void
test_forced_share_removal_frees_its_cached_content(void **state)
{
    struct it_env *env = *state;
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 0), 200);
    for (int i = 0; i < 3; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/api/v1/files/srv/s/f%d.txt", i);
        struct it_response *r = it_put(&env->d, path, "content", 7);
        IT_ASSERT_STATUS(r, 201);
        it_response_free(r);
    }
    assert_int_equal(count_content(env), 3);
    struct it_response *r = it_delete(&env->d, "/api/v1/shares/srv/s?force=true");
    IT_ASSERT_STATUS(r, 204);
    it_response_free(r);
    assert_int_equal(count_content(env), 0);
    /* A share of the same name starts empty. */
    assert_int_equal(it_share_add(&env->d, "srv", "s", env->share_dir, "auto"), 201);
    r = it_get(&env->d, "/api/v1/items/srv/s/f0.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    it_restart(env);
    assert_int_equal(count_content(env), 0);
}

static void
test_putting_an_unreachable_share_online_answers_503(void **state)
{
    struct it_env *env = *state;
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 0), 200);
    char *away = it_fmt("%s/away", env->root);
    assert_int_equal(rename(env->share_dir, away), 0);
    struct it_response *r =
        it_json_req(&env->d, "PUT", "/api/v1/connection/srv/s", "{\"state\":\"online\"}");
    IT_ASSERT_PROBLEM(r, 503, "share-unavailable");
    assert_null(strstr(r->body, env->root));
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "state", "offline");
    it_response_free(r);
    assert_int_equal(rename(away, env->share_dir), 0);
    r = it_json_req(&env->d, "PUT", "/api/v1/connection/srv/s", "{\"state\":\"online\"}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "online");
    it_response_free(r);
    free(away);
}

static void
test_json_content_type_with_parameters_is_accepted(void **state)
{
    struct it_env *env = *state;
    struct it_request rq = {.method = "PATCH",
                            .path = "/api/v1/shares/srv/s",
                            .content_type = "application/json; charset=utf-8",
                            .body = "{\"cachingMode\":\"auto\"}",
                            .body_len = 22};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "cachingMode", "auto");
    it_response_free(r);
    rq.content_type = "Application/JSON";
    rq.body = "{\"cachingMode\":\"manual\"}";
    rq.body_len = strlen(rq.body);
    r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "cachingMode", "manual");
    it_response_free(r);
}

static void
test_servers_list_groups_shares_by_server(void **state)
{
    struct it_env *env = *state;
    char *dir = new_share_dir(env, "two");
    assert_int_equal(it_share_add(&env->d, "srv", "t", dir, "manual"), 201);
    assert_int_equal(it_share_add(&env->d, "other", "x", dir, "manual"), 201);
    struct it_response *r = it_get(&env->d, "/api/v1/servers");
    IT_ASSERT_STATUS(r, 200);
    json_t *servers = it_jget(r->json, "servers");
    assert_int_equal(json_array_size(servers), 2);
    json_t *srv = NULL;
    for (size_t i = 0; i < json_array_size(servers); i++)
        if (strcmp(json_string_value(it_jget(json_array_get(servers, i), "server")), "srv") == 0)
            srv = json_array_get(servers, i);
    assert_non_null(srv);
    IT_ASSERT_JSTR(srv, "path", "//srv");
    IT_ASSERT_JSTR(srv, "state", "online");
    assert_int_equal(json_array_size(it_jget(srv, "shares")), 2);
    it_response_free(r);
    free(dir);
}

static void
test_forcing_a_share_offline_reports_the_forced_reason(void **state)
{
    struct it_env *env = *state;
    struct it_response *r =
        it_json_req(&env->d, "PUT", "/api/v1/connection/srv/s", "{\"state\":\"offline\"}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_KEYS(r->json, conn_keys);
    IT_ASSERT_JSTR(r->json, "state", "offline");
    IT_ASSERT_JSTR(r->json, "reason", "forced");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "offline");
    IT_ASSERT_JSTR(r->json, "reason", "forced");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/connection/srv");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "offline");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/shares/srv/s");
    IT_ASSERT_JSTR(r->json, "connection.state", "offline");
    it_response_free(r);
    r = it_json_req(&env->d, "PUT", "/api/v1/connection/srv/s", "{\"state\":\"online\"}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "online");
    IT_ASSERT_JNULL(r->json, "reason");
    it_response_free(r);
}

static void
test_forcing_a_server_offline_takes_all_its_shares_offline(void **state)
{
    struct it_env *env = *state;
    char *dir = new_share_dir(env, "two");
    assert_int_equal(it_share_add(&env->d, "srv", "t", dir, "manual"), 201);
    struct it_response *r =
        it_json_req(&env->d, "PUT", "/api/v1/connection/srv", "{\"state\":\"offline\"}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "offline");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "reason", "forced");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/connection/srv/t");
    IT_ASSERT_JSTR(r->json, "reason", "forced");
    it_response_free(r);
    free(dir);
}

static void
test_connection_of_an_unknown_share_answers_404(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_get(&env->d, "/api/v1/connection/srv/nope");
    IT_ASSERT_PROBLEM(r, 404, "no-such-share");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/connection/nobody");
    IT_ASSERT_STATUS(r, 404);
    it_response_free(r);
    r = it_json_req(&env->d, "PUT", "/api/v1/connection/srv/nope", "{\"state\":\"offline\"}");
    IT_ASSERT_PROBLEM(r, 404, "no-such-share");
    it_response_free(r);
}

static void
test_share_over_a_missing_directory_is_offline_with_connection_error(void **state)
{
    struct it_env *env = *state;
    char *dir = it_fmt("%s/not-there", env->root);
    long st = it_share_add(&env->d, "srv", "gone", dir, "manual");
    /* Either refused outright, or added and shown offline: never online. */
    if (st == 201) {
        struct it_response *r = it_get(&env->d, "/api/v1/connection/srv/gone");
        IT_ASSERT_STATUS(r, 200);
        IT_ASSERT_JSTR(r->json, "state", "offline");
        IT_ASSERT_JSTR(r->json, "reason", "connectionError");
        assert_true(json_is_string(it_jget(r->json, "lastError")));
        /* The detail names no host path. */
        assert_null(strstr(r->body, env->root));
        it_response_free(r);
    } else {
        assert_int_equal(st, 400);
    }
    assert_false(it_exists(dir));
    free(dir);
}

/* Milliseconds since the epoch of an API timestamp ("2026-11-24T14:22:31.669Z"). */
static long long
api_ms(json_t *t)
{
    struct tm tm = {0};
    int ms = 0;
    assert_true(json_is_string(t));
    assert_int_equal(sscanf(json_string_value(t), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
                            &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms),
                     7);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm) * 1000 + ms;
}

/* The fixture with a prober that tries again after 200 ms, doubling up to 1 s. */
static int
setup_fast_probe(void **state)
{
    *state = it_env_new_cfg("shares", "manual", "{\"probeFirstMs\":200,\"probeMaxSeconds\":1}");
    return *state ? 0 : -1;
}

/*
 * The prober's schedule comes from the config: a share that went offline is
 * first probed after probeFirstMs, then ever later up to probeMaxSeconds
 * apart. (The defaults, 1 s doubling up to 60 s, would plan two probes in
 * the 5 s watched here.)
 */
static void
test_probe_schedule_comes_from_the_config(void **state)
{
    struct it_env *env = *state;
    assert_int_equal(it_env_unplug(env), 0);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/any.txt");
    assert_int_equal(r->status, 503);
    it_response_free(r);
    long long planned[64];
    size_t n = 0;
    for (int i = 0; i < 100 && n < 64; i++) {
        r = it_get(&env->d, "/api/v1/connection/srv/s");
        IT_ASSERT_JSTR(r->json, "state", "offline");
        json_t *next = it_jget(r->json, "nextProbeAt");
        if (json_is_string(next) && (n == 0 || api_ms(next) != planned[n - 1])) {
            if (n == 0)
                assert_in_range(api_ms(next) - api_ms(it_jget(r->json, "lastChange")), 0, 600);
            planned[n++] = api_ms(next);
        }
        it_response_free(r);
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (n < 5) {
        print_error("%zu probes planned in 5 s with probeFirstMs 200, probeMaxSeconds 1\n", n);
        fail();
    }
    for (size_t i = 1; i < n; i++)
        assert_in_range(planned[i] - planned[i - 1], 150, 1700);
    assert_int_equal(it_env_replug(env), 0);
}

static void
test_shares_survive_a_restart(void **state)
{
    struct it_env *env = *state;
    char *dir = new_share_dir(env, "two");
    assert_int_equal(it_share_add(&env->d, "srv", "t", dir, "auto"), 201);
    it_restart(env);
    struct it_response *r = it_get(&env->d, "/api/v1/shares/srv/t");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "cachingMode", "auto");
    IT_ASSERT_JSTR(r->json, "connection.state", "online");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/shares/srv/s");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    free(dir);
}

static void
test_user_token_reads_shares_but_may_not_change_them(void **state)
{
    struct it_env *env = *state;
    char token[128], err[512];
    assert_int_equal(
        it_token_create(env->d.data_dir, "alice", 0, token, sizeof(token), err, sizeof(err)), 0);
    struct it_request rq = {.path = "/api/v1/shares", .auth = IT_AUTH_TOKEN, .token = token};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    char *dir = new_share_dir(env, "two");
    char *body = share_body("srv", "t", dir, "auto");
    struct it_request cases[] = {
        {.method = "POST", .path = "/api/v1/shares"},
        {.method = "PATCH", .path = "/api/v1/shares/srv/s"},
        {.method = "PATCH", .path = "/api/v1/cache"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cases[i].auth = IT_AUTH_TOKEN;
        cases[i].token = token;
        cases[i].content_type = "application/json";
        cases[i].body = i == 0 ? body : "{\"cachingMode\":\"auto\"}";
        cases[i].body_len = strlen(cases[i].body);
        r = it_http(&env->d, &cases[i]);
        IT_ASSERT_PROBLEM(r, 403, "forbidden");
        it_response_free(r);
    }
    struct it_request del = {
        .method = "DELETE", .path = "/api/v1/shares/srv/s", .auth = IT_AUTH_TOKEN, .token = token};
    r = it_http(&env->d, &del);
    IT_ASSERT_PROBLEM(r, 403, "forbidden");
    it_response_free(r);
    /* Nothing changed. */
    r = it_get(&env->d, "/api/v1/shares");
    assert_int_equal(json_array_size(it_jget(r->json, "shares")), 1);
    IT_ASSERT_JSTR(r->json, "shares.0.cachingMode", "manual");
    it_response_free(r);
    free(body);
    free(dir);
}

static void
test_cache_settings_can_be_read_and_changed(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_get(&env->d, "/api/v1/cache");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "enabled", 1);
    assert_true(json_is_integer(it_jget(r->json, "space.limit")));
    it_response_free(r);
    r = it_json_req(&env->d, "PATCH", "/api/v1/cache",
                    "{\"limit\":1048576,\"unpinnedLimit\":4194304}");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JINT(r->json, "space.limit", 1048576);
    /* The unpinned limit never exceeds the total. */
    IT_ASSERT_JINT(r->json, "space.unpinnedLimit", 1048576);
    it_response_free(r);
    r = it_json_req(&env->d, "PATCH", "/api/v1/cache", "{\"limit\":-1}");
    IT_ASSERT_PROBLEM(r, 400, "invalid-field");
    it_response_free(r);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define T(f) cmocka_unit_test_setup_teardown(f, it_setup_manual, it_teardown)
    const struct CMUnitTest tests[] = {
        T(test_health_answers_without_a_token),
        T(test_version_needs_a_token_and_names_the_user),
        T(test_created_share_answers_201_with_location_and_settings),
        T(test_share_without_caching_mode_defaults_to_manual),
        T(test_share_list_holds_every_share_in_order),
        T(test_wrong_method_answers_405_with_allow),
        T(test_get_share_returns_its_settings),
        T(test_duplicate_share_answers_409_already_exists),
        T(test_unknown_share_answers_404_no_such_share),
        T(test_patch_share_changes_caching_mode_and_keeps_it_after_restart),
        T(test_patch_share_remote_points_it_at_another_directory),
        T(test_delete_share_answers_204_and_forgets_it),
        T(test_delete_share_with_offline_change_answers_409_conflict_until_forced),
        T(test_forced_share_removal_frees_its_cached_content),
        T(test_putting_an_unreachable_share_online_answers_503),
        T(test_json_content_type_with_parameters_is_accepted),
        T(test_servers_list_groups_shares_by_server),
        T(test_forcing_a_share_offline_reports_the_forced_reason),
        T(test_forcing_a_server_offline_takes_all_its_shares_offline),
        T(test_connection_of_an_unknown_share_answers_404),
        T(test_share_over_a_missing_directory_is_offline_with_connection_error),
        T(test_shares_survive_a_restart),
        cmocka_unit_test_setup_teardown(test_probe_schedule_comes_from_the_config, setup_fast_probe,
                                        it_teardown),
        T(test_user_token_reads_shares_but_may_not_change_them),
        T(test_cache_settings_can_be_read_and_changed),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
