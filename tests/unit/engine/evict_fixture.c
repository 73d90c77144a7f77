/* SPDX-License-Identifier: MIT */
/* The eviction tests' fixture: see evict_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evict_fixture.h"
#include "test_util.h"

static int
setup_mode(void **state, enum of_caching_mode mode)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    UT_ENGINE_SETUP(f, "evict-test");
    ut_share_add(f->eng, "docs", f->root, mode, NULL);
    *state = f;
    return 0;
}

int
setup_auto(void **state)
{
    return setup_mode(state, OF_CACHING_AUTO);
}

int
setup_manual(void **state)
{
    return setup_mode(state, OF_CACHING_MANUAL);
}

int
teardown(void **state)
{
    struct fixture *f = *state;
    ut_engine_teardown(f->eng, f->base);
    free(f);
    return 0;
}

/* ---- the share's directory, seen directly ---- */

/* Create (parents too) the share's file rel with size bytes of c. */
void
put_host(const struct fixture *f, const char *rel, size_t size, char c)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", f->root, rel);
    for (char *s = p + strlen(f->root) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            fail_msg("mkdir %s: %s", p, strerror(errno));
        *s = '/';
    }
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    for (size_t i = 0; i < size; i++)
        fputc(c, fp);
    assert_int_equal(fclose(fp), 0);
}

/* ---- the engine ---- */

void
path_of(const char *rel, char *buf, size_t cap)
{
    snprintf(buf, cap, "//srv/docs/%s", rel);
}

/* Read rel as user to its end; returns of_engine_file_open's code, and from_cache. */
int
read_as(struct fixture *f, const char *rel, const char *user, int *ret_from_cache)
{
    char path[256];
    path_of(rel, path, sizeof(path));
    struct of_file_read rd;
    struct of_error err = {0};
    int rc = of_engine_file_open(f->eng, path, user, &rd, &err);
    if (rc < 0)
        return rc;
    char buf[4096];
    ssize_t n, total = 0;
    while ((n = read(rd.fd, buf, sizeof(buf))) > 0)
        total += n;
    close(rd.fd);
    assert_int_equal(total, rd.size);
    if (ret_from_cache)
        *ret_from_cache = rd.from_cache;
    return 0;
}

void
read_ok(struct fixture *f, const char *rel)
{
    int rc = read_as(f, rel, USER, NULL);
    if (rc != 0)
        fail_msg("read %s: %s", rel, of_error_code_str(rc));
}

struct of_item_view
view_as(struct fixture *f, const char *rel, const char *user)
{
    char path[256];
    if (rel[0] == '/')
        snprintf(path, sizeof(path), "%s", rel);
    else
        path_of(rel, path, sizeof(path));
    struct of_item_view v;
    struct of_error err = {0};
    if (of_engine_item_get(f->eng, path, user, &v, &err) != 0)
        fail_msg("item_get %s: %s", path, err.detail);
    return v;
}

struct of_item_view
view(struct fixture *f, const char *rel)
{
    return view_as(f, rel, USER);
}

/* The item holds its content (cached), or is a ghost without any. */
void
assert_cached(struct fixture *f, const char *rel, int64_t size)
{
    struct of_item it = view(f, rel).item;
    if (!it.content[0] || it.ghosted || it.cached_bytes != size)
        fail_msg("%s: expected %lld bytes cached; content '%s', ghosted %d, cached_bytes %lld", rel,
                 (long long)size, it.content, it.ghosted, (long long)it.cached_bytes);
}

void
assert_ghost(struct fixture *f, const char *rel)
{
    struct of_item it = view(f, rel).item;
    if (it.content[0] || !it.ghosted || it.cached_bytes != 0)
        fail_msg("%s: expected a ghost; content '%s', ghosted %d, cached_bytes %lld", rel,
                 it.content, it.ghosted, (long long)it.cached_bytes);
}

struct of_cache_info
cache(struct fixture *f)
{
    struct of_cache_info ci;
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    return ci;
}

void
assert_usage(struct fixture *f, int64_t used, int64_t unpinned)
{
    struct of_cache_info ci = cache(f);
    if (ci.used != used || ci.unpinned_used != unpinned)
        fail_msg("usage: used %lld (want %lld), unpinnedUsed %lld (want %lld)", (long long)ci.used,
                 (long long)used, (long long)ci.unpinned_used, (long long)unpinned);
}

void
set_online(struct fixture *f, int online)
{
    assert_int_equal(of_engine_connection_set(f->eng, "srv", "docs", online, NULL), 0);
}

struct done_flag {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
};

static void
job_done(void *ctx)
{
    struct done_flag *d = ctx;
    pthread_mutex_lock(&d->lock);
    d->done = 1;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

/*
 * Wait for a job to end (at most 30 s); its record. The done callback runs
 * once the job's item results are in the store, which a poll of the job's
 * state does not promise.
 */
static struct of_job_rec
job_wait(struct fixture *f, int64_t id)
{
    struct done_flag d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    assert_int_equal(of_engine_job_on_done(f->eng, id, job_done, &d, NULL), 0);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&d.lock);
    while (!d.done && pthread_cond_timedwait(&d.cond, &d.lock, &until) == 0)
        ;
    int done = d.done;
    pthread_mutex_unlock(&d.lock);
    if (!done)
        fail_msg("job %lld did not end in 30 s", (long long)id);
    struct of_job_rec rec;
    assert_int_equal(of_engine_job_get(f->eng, id, &rec, NULL), 0);
    return rec;
}

/* Pin (or unpin) rel and wait: the job's result; the job id in *ret_id when asked. */
int
pin_full(struct fixture *f, const char *rel, int deep, enum of_pin_scope scope, const char *user,
         int fill, int unpin, int64_t *ret_id)
{
    char path[256];
    path_of(rel, path, sizeof(path));
    const char *paths[] = {path};
    int64_t id;
    struct of_error err = {0};
    int rc = of_engine_pin(f->eng, paths, 1, deep, scope, fill, unpin, user, &id, &err);
    if (rc < 0)
        return rc;
    struct of_job_rec rec = job_wait(f, id);
    if (ret_id)
        *ret_id = id;
    return rec.result;
}

void
pin_ok(struct fixture *f, const char *rel, int deep)
{
    int rc = pin_full(f, rel, deep, OF_PIN_USER, USER, 1, 0, NULL);
    if (rc != 0)
        fail_msg("pin %s: %s", rel, of_error_code_str(rc));
}

void
unpin_ok(struct fixture *f, const char *rel, int deep)
{
    int rc = pin_full(f, rel, deep, OF_PIN_USER, USER, 0, 1, NULL);
    if (rc != 0)
        fail_msg("unpin %s: %s", rel, of_error_code_str(rc));
}

/* Sync path in and out and wait; the job's id (per-item failures do not fail a sync job). */
int64_t
sync_ok(struct fixture *f, const char *path)
{
    struct of_sync_request req = {.paths = {path}, .n_paths = 1, .in = 1, .out = 1};
    int64_t id;
    struct of_error err = {0};
    if (of_engine_sync_start(f->eng, &req, USER, &id, &err) != 0)
        fail_msg("sync %s: %s", path, err.detail);
    struct of_job_rec rec = job_wait(f, id);
    if (rec.result != 0)
        fail_msg("sync %s: %s (%s)", path, of_error_code_str(rec.result), rec.message);
    return id;
}

void
list_ok(struct fixture *f, const char *rel)
{
    char path[256];
    path_of(rel, path, sizeof(path));
    struct of_dir_entry *ents = NULL;
    size_t n = 0;
    int offline = 1;
    assert_int_equal(of_engine_dir_list(f->eng, path, USER, &ents, &n, &offline, NULL), 0);
    assert_int_equal(offline, 0);
    free(ents);
}
