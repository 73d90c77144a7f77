/* SPDX-License-Identifier: MIT */
/*
 * The usual fixture of the harness (harness.h): a daemon with one share
 * //srv/s over a temp tree, its cmocka set-up and teardown, restarts, and
 * the share unplugged and plugged back; and the waits and shorthands for
 * jobs, syncs and the event log, polling the daemon over HTTP.
 */
#include "harness.h"
#include "harness_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the fixture ---- */

struct it_env *
it_env_new(const char *tag, const char *mode)
{
    return it_env_new_cfg(tag, mode, NULL);
}

struct it_env *
it_env_new_cfg(const char *tag, const char *mode, const char *config_json)
{
    struct it_env *env = xmalloc(sizeof(*env));
    env->root = it_tmpdir(tag);
    if (!env->root) {
        free(env);
        return NULL;
    }
    if (config_json) {
        snprintf(env->d.config_path, sizeof(env->d.config_path), "%s/config.json", env->root);
        if (it_write_file(env->d.config_path, config_json, strlen(config_json)) < 0) {
            it_rmrf(env->root);
            free(env->root);
            free(env);
            return NULL;
        }
    }
    snprintf(env->share_dir, sizeof(env->share_dir), "%s/share", env->root);
    snprintf(env->outside, sizeof(env->outside), "%s/outside", env->root);
    snprintf(env->d.data_dir, sizeof(env->d.data_dir), "%s/data", env->root);
    snprintf(env->d.log_path, sizeof(env->d.log_path), "%s/daemon.log", env->root);
    if (mkdir(env->share_dir, 0700) < 0 || mkdir(env->outside, 0700) < 0 ||
        it_daemon_start(&env->d) < 0 ||
        it_share_add(&env->d, "srv", "s", env->share_dir, mode) != 201) {
        it_daemon_kill(&env->d);
        it_rmrf(env->root);
        free(env->root);
        free(env);
        return NULL;
    }
    return env;
}

int
it_env_free(struct it_env *env)
{
    if (!env)
        return 0;
    int rc = 0;
    if (!it_daemon_alive(&env->d)) {
        fprintf(stderr, "harness: the daemon is not running at the end of the test\n");
        it_daemon_dump_log(&env->d);
        rc = -1;
    } else {
        int st = it_daemon_stop(&env->d);
        if (st != 0) {
            fprintf(stderr, "harness: SIGTERM: the daemon exited with %d, not 0\n", st);
            rc = -1;
        }
    }
    /* Keep the tree of a failed test for a post-mortem when asked to. */
    if (rc == 0 || !getenv("OF_IT_KEEP"))
        it_rmrf(env->root);
    free(env->root);
    free(env);
    return rc;
}

int
it_setup_manual(void **state)
{
    *state = it_env_new("manual", "manual");
    return *state ? 0 : -1;
}

int
it_setup_auto(void **state)
{
    *state = it_env_new("auto", "auto");
    return *state ? 0 : -1;
}

int
it_teardown(void **state)
{
    int rc = it_env_free(*state);
    *state = NULL;
    return rc;
}

void
it_share_file(const struct it_env *env, const char *rel, char *buf)
{
    if (snprintf(buf, PATH_MAX, "%s/%s", env->share_dir, rel) >= PATH_MAX)
        abort();
}

void
it_restart(struct it_env *env)
{
    int st = it_daemon_stop(&env->d);
    if (st != 0) {
        print_error("the daemon exited with %d on SIGTERM, not 0\n", st);
        fail();
    }
    if (it_daemon_start(&env->d) < 0) {
        print_error("the daemon did not start again\n");
        fail();
    }
}

/* ---- jobs, sync, conflicts and events ---- */

static int
job_active(json_t *job)
{
    const char *st = json_string_value(json_object_get(job, "state"));
    return !st || strcmp(st, "queued") == 0 || strcmp(st, "running") == 0;
}

struct it_response *
it_job_wait(const struct it_daemon *d, long long id, double timeout_s)
{
    double until = now_s() + timeout_s;
    for (;;) {
        struct it_response *r = it_get(d, "/api/v1/jobs/%lld", id);
        if (r->status != 200 || !job_active(r->json) || now_s() > until)
            return r;
        it_response_free(r);
        sleep_ms(20);
    }
}

int
it_jobs_idle(const struct it_daemon *d, double timeout_s)
{
    double until = now_s() + timeout_s;
    for (;;) {
        struct it_response *r = it_get(d, "/api/v1/jobs?limit=1000");
        json_t *jobs = it_jget(r->json, "jobs"), *job;
        size_t i;
        int busy = r->status != 200;
        json_array_foreach(jobs, i, job)
        {
            busy |= job_active(job);
        }
        it_response_free(r);
        if (!busy)
            return 0;
        if (now_s() > until)
            return -1;
        sleep_ms(20);
    }
}

struct it_response *
it_sync(const struct it_daemon *d, const char *path, const char *policy, const char *extra_json)
{
    json_t *body = extra_json ? json_loads(extra_json, 0, NULL) : json_object();
    if (!body)
        abort(); /* a test's own JSON text is wrong */
    json_object_set_new(body, "paths", json_pack("[s]", path));
    json_object_set_new(body, "wait", json_true());
    if (policy)
        json_object_set_new(body, "conflict", json_string(policy));
    char *text = json_dumps(body, JSON_COMPACT);
    struct it_response *r = it_json_req(d, "POST", "/api/v1/sync", text);
    free(text);
    json_decref(body);
    return r;
}

json_t *
it_jfind_path(json_t *json, const char *key, const char *path)
{
    json_t *arr = it_jget(json, key), *el;
    size_t i;
    json_array_foreach(arr, i, el)
    {
        const char *p = json_string_value(json_object_get(el, "path"));
        if (p && strcmp(p, path) == 0)
            return el;
    }
    return NULL;
}

long long
it_events_newest(const struct it_daemon *d)
{
    struct it_response *r = it_get(d, "/api/v1/events/log?limit=1");
    long long newest = (long long)json_integer_value(it_jget(r->json, "newest"));
    it_response_free(r);
    return newest;
}

json_t *
it_events_since(const struct it_daemon *d, long long since)
{
    json_t *all = json_array();
    for (;;) {
        struct it_response *r = it_get(d, "/api/v1/events/log?since=%lld&limit=1000", since);
        json_t *events = it_jget(r->json, "events");
        size_t n = json_array_size(events);
        if (r->status == 200)
            json_array_extend(all, events);
        long long next = (long long)json_integer_value(it_jget(r->json, "next"));
        it_response_free(r);
        if (n == 0 || next <= since)
            return all;
        since = next;
    }
}

int
it_env_unplug(struct it_env *env)
{
    char *away = it_fmt("%s/unplugged", env->root);
    int rc = rename(env->share_dir, away);
    free(away);
    return rc == 0 ? 0 : -1;
}

int
it_env_replug(struct it_env *env)
{
    char *away = it_fmt("%s/unplugged", env->root);
    int rc = rename(away, env->share_dir);
    free(away);
    return rc == 0 ? 0 : -1;
}
