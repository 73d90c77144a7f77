/* SPDX-License-Identifier: MIT */
/*
 * Tests of pins and cache eviction through engine.h, over a temp data
 * directory and an fs share on a temp directory (//srv/docs): eviction order
 * by last access under the unpinned and the total limit, the accounting of
 * used and unpinnedUsed, pinned and dirty content that is never evicted and
 * the cache-full refusals once it alone fills the cache, pin inheritance
 * (recorded in the store, applied by sync and by listings), partly pinned
 * folders and per-user pins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "store.h"
#include "test_util.h"

#define USER "alice"
#define OTHER "bob"
#define BIG ((int64_t)1 << 40)

struct fixture {
    char base[64];
    char data[128];
    char root[128]; /* the share's directory */
    struct of_engine *eng;
};

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

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

static int
setup_auto(void **state)
{
    return setup_mode(state, OF_CACHING_AUTO);
}

static int
setup_manual(void **state)
{
    return setup_mode(state, OF_CACHING_MANUAL);
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    ut_engine_teardown(f->eng, f->base);
    free(f);
    return 0;
}

/* ---- the share's directory, seen directly ---- */

/* Create (parents too) the share's file rel with size bytes of c. */
static void
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

static void
path_of(const char *rel, char *buf, size_t cap)
{
    snprintf(buf, cap, "//srv/docs/%s", rel);
}

/* Read rel as user to its end; returns of_engine_file_open's code, and from_cache. */
static int
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

static void
read_ok(struct fixture *f, const char *rel)
{
    int rc = read_as(f, rel, USER, NULL);
    if (rc != 0)
        fail_msg("read %s: %s", rel, of_error_code_str(rc));
}

static struct of_item_view
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

static struct of_item_view
view(struct fixture *f, const char *rel)
{
    return view_as(f, rel, USER);
}

/* The item holds its content (cached), or is a ghost without any. */
static void
assert_cached(struct fixture *f, const char *rel, int64_t size)
{
    struct of_item it = view(f, rel).item;
    if (!it.content[0] || it.ghosted || it.cached_bytes != size)
        fail_msg("%s: expected %lld bytes cached; content '%s', ghosted %d, cached_bytes %lld", rel,
                 (long long)size, it.content, it.ghosted, (long long)it.cached_bytes);
}

static void
assert_ghost(struct fixture *f, const char *rel)
{
    struct of_item it = view(f, rel).item;
    if (it.content[0] || !it.ghosted || it.cached_bytes != 0)
        fail_msg("%s: expected a ghost; content '%s', ghosted %d, cached_bytes %lld", rel,
                 it.content, it.ghosted, (long long)it.cached_bytes);
}

static struct of_cache_info
cache(struct fixture *f)
{
    struct of_cache_info ci;
    assert_int_equal(of_engine_cache_get(f->eng, &ci, NULL), 0);
    return ci;
}

static void
assert_usage(struct fixture *f, int64_t used, int64_t unpinned)
{
    struct of_cache_info ci = cache(f);
    if (ci.used != used || ci.unpinned_used != unpinned)
        fail_msg("usage: used %lld (want %lld), unpinnedUsed %lld (want %lld)", (long long)ci.used,
                 (long long)used, (long long)ci.unpinned_used, (long long)unpinned);
}

static void
limits(struct fixture *f, int64_t limit, int64_t unpinned)
{
    struct of_cache_patch p = {
        .has_limit = 1, .limit = limit, .has_unpinned_limit = 1, .unpinned_limit = unpinned};
    struct of_cache_info ci;
    assert_int_equal(of_engine_cache_set(f->eng, &p, &ci, NULL), 0);
    assert_int_equal(ci.limit, limit);
}

static void
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

struct item_results {
    char paths[16][OF_PATH_MAX + 1];
    int codes[16];
    int n;
};

static int
add_result(void *ctx, const struct of_job_item *it)
{
    struct item_results *r = ctx;
    if (r->n < 16) {
        snprintf(r->paths[r->n], sizeof(r->paths[r->n]), "%s", it->path);
        r->codes[r->n++] = it->result;
    }
    return 0;
}

/* The result code a job recorded for path; fails when it recorded none. */
static int
job_item_code(struct fixture *f, int64_t id, const char *path)
{
    struct item_results r = {0};
    assert_int_equal(of_engine_job_items(f->eng, id, 0, 16, add_result, &r, NULL), 0);
    for (int i = 0; i < r.n; i++)
        if (strcmp(r.paths[i], path) == 0)
            return r.codes[i];
    fail_msg("job %lld has no result for %s", (long long)id, path);
    return 1;
}

static void
assert_job_item_ok(struct fixture *f, int64_t id, const char *path)
{
    int rc = job_item_code(f, id, path);
    if (rc != 0)
        fail_msg("job %lld: %s failed with %s", (long long)id, path, of_error_code_str(rc));
}

/* Pin (or unpin) rel and wait: the job's result; the job id in *ret_id when asked. */
static int
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

static void
pin_ok(struct fixture *f, const char *rel, int deep)
{
    int rc = pin_full(f, rel, deep, OF_PIN_USER, USER, 1, 0, NULL);
    if (rc != 0)
        fail_msg("pin %s: %s", rel, of_error_code_str(rc));
}

static void
unpin_ok(struct fixture *f, const char *rel, int deep)
{
    int rc = pin_full(f, rel, deep, OF_PIN_USER, USER, 0, 1, NULL);
    if (rc != 0)
        fail_msg("unpin %s: %s", rel, of_error_code_str(rc));
}

/* Write size bytes of c to rel through the engine (offline: a dirty change). */
static int
write_bytes(struct fixture *f, const char *rel, size_t size, char c)
{
    char path[256], buf[4096];
    path_of(rel, path, sizeof(path));
    memset(buf, c, sizeof(buf));
    struct of_content_tmp *up = NULL;
    assert_int_equal(of_engine_upload_new(f->eng, &up, NULL), 0);
    for (size_t done = 0; done < size;) {
        size_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);
        assert_int_equal(of_content_tmp_write(up, buf, n, NULL), 0);
        done += n;
    }
    struct of_write_result res;
    struct of_error err = {0};
    int rc = of_engine_file_write(f->eng, path, USER, up, NULL, NULL, &res, &err);
    of_content_tmp_free(up);
    return rc;
}

/* Sync path in and out and wait; the job's id (per-item failures do not fail a sync job). */
static int64_t
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

static void
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

/* ---- eviction order ---- */

static void
test_unpinned_limit_evicts_the_least_recently_read_file_first(void **state)
{
    struct fixture *f = *state;
    limits(f, BIG, 300);
    const char *names[] = {"a.txt", "b.txt", "c.txt", "d.txt", "e.txt"};
    for (int i = 0; i < 5; i++)
        put_host(f, names[i], 100, (char)('a' + i));
    read_ok(f, "a.txt");
    read_ok(f, "b.txt");
    read_ok(f, "c.txt");
    assert_usage(f, 300, 300);
    /* Access times are kept to the second: a read more than 1 s later counts. */
    sleep_ms(1100);
    int from_cache = 0;
    assert_int_equal(read_as(f, "a.txt", USER, &from_cache), 0);
    assert_int_equal(from_cache, 1);
    /* d does not fit: b is now the least recently read. */
    read_ok(f, "d.txt");
    assert_ghost(f, "b.txt");
    assert_cached(f, "a.txt", 100);
    assert_cached(f, "c.txt", 100);
    assert_cached(f, "d.txt", 100);
    assert_usage(f, 300, 300);
    read_ok(f, "e.txt");
    assert_ghost(f, "c.txt");
    assert_cached(f, "a.txt", 100);
    assert_cached(f, "d.txt", 100);
    assert_cached(f, "e.txt", 100);
    assert_usage(f, 300, 300);
    /* An evicted file is read again from the server and is cached again. */
    assert_int_equal(read_as(f, "b.txt", USER, &from_cache), 0);
    assert_int_equal(from_cache, 0);
    assert_cached(f, "b.txt", 100);
    assert_ghost(f, "a.txt");
    assert_usage(f, 300, 300);
}

static void
test_total_limit_evicts_unpinned_content_and_keeps_pinned_content(void **state)
{
    struct fixture *f = *state;
    put_host(f, "p.bin", 200, 'p');
    put_host(f, "a.txt", 100, 'a');
    put_host(f, "b.txt", 100, 'b');
    put_host(f, "c.txt", 100, 'c');
    pin_ok(f, "p.bin", 0);
    assert_usage(f, 200, 0);
    limits(f, 400, 400);
    read_ok(f, "a.txt");
    read_ok(f, "b.txt");
    assert_usage(f, 400, 200);
    /* c passes the total limit (not the unpinned one): the oldest unpinned file goes. */
    read_ok(f, "c.txt");
    assert_ghost(f, "a.txt");
    assert_cached(f, "b.txt", 100);
    assert_cached(f, "c.txt", 100);
    assert_cached(f, "p.bin", 200);
    assert_true(view(f, "p.bin").pin.pinned);
    assert_usage(f, 400, 200);
}

static void
test_lowering_the_limits_evicts_at_once_oldest_first(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%d.txt", i);
        put_host(f, name, 100, (char)('0' + i));
        read_ok(f, name);
    }
    assert_usage(f, 400, 400);
    limits(f, BIG, 250);
    assert_ghost(f, "f0.txt");
    assert_ghost(f, "f1.txt");
    assert_cached(f, "f2.txt", 100);
    assert_cached(f, "f3.txt", 100);
    assert_usage(f, 200, 200);
    limits(f, 100, 100);
    assert_ghost(f, "f2.txt");
    assert_cached(f, "f3.txt", 100);
    assert_usage(f, 100, 100);
}

/* ---- pinned and dirty content ---- */

static void
test_pinned_and_dirty_content_is_never_evicted(void **state)
{
    struct fixture *f = *state;
    put_host(f, "p.bin", 200, 'p');
    put_host(f, "a.txt", 100, 'a');
    put_host(f, "w.txt", 100, 'w');
    pin_ok(f, "p.bin", 0);
    read_ok(f, "w.txt");
    read_ok(f, "a.txt");
    /* Offline from here on: going online would sync the dirty files and make them clean. */
    set_online(f, 0);
    assert_int_equal(write_bytes(f, "w.txt", 150, 'W'), 0);
    assert_int_equal(write_bytes(f, "new.txt", 50, 'n'), 0);
    struct of_item_view v = view(f, "w.txt");
    assert_true(of_item_dirty(&v.item));
    v = view(f, "new.txt");
    assert_true(of_item_dirty(&v.item));
    assert_int_equal(cache(f).used, 500);
    /* Room for the pinned and dirty bytes only: the clean unpinned file goes, nothing else. */
    limits(f, 400, 400);
    assert_ghost(f, "a.txt");
    assert_cached(f, "p.bin", 200);
    assert_cached(f, "w.txt", 150);
    assert_cached(f, "new.txt", 50);
    assert_int_equal(cache(f).used, 400);
    /* Limits below what they hold evict nothing more, and lose nothing. */
    limits(f, 10, 0);
    assert_cached(f, "p.bin", 200);
    assert_cached(f, "w.txt", 150);
    assert_cached(f, "new.txt", 50);
    assert_int_equal(cache(f).used, 400);
    int from_cache = 0;
    assert_int_equal(read_as(f, "p.bin", USER, &from_cache), 0);
    assert_int_equal(read_as(f, "w.txt", USER, &from_cache), 0);
    assert_int_equal(read_as(f, "new.txt", USER, &from_cache), 0);
    assert_int_equal(from_cache, 1);
}

static void
test_a_full_cache_refuses_new_content_but_online_reads_still_work(void **state)
{
    struct fixture *f = *state;
    put_host(f, "p.bin", 300, 'p');
    put_host(f, "q.bin", 100, 'q');
    put_host(f, "a.txt", 100, 'a');
    pin_ok(f, "p.bin", 0);
    limits(f, 300, 300);
    /* An online read is served, but nothing is kept. */
    read_ok(f, "a.txt");
    assert_ghost(f, "a.txt");
    assert_usage(f, 300, 0);
    /* An offline write that would pass the limit is refused, and nothing is stored. */
    set_online(f, 0);
    assert_int_equal(write_bytes(f, "x.txt", 50, 'x'), OF_E(CACHE_FULL));
    struct of_item_view v;
    assert_int_equal(of_engine_item_get(f->eng, "//srv/docs/x.txt", USER, &v, NULL),
                     OF_E(NOT_FOUND));
    assert_usage(f, 300, 0);
    set_online(f, 1);
    /* A pin whose content does not fit: the job and the item say cache-full. */
    int64_t id = 0;
    assert_int_equal(pin_full(f, "q.bin", 0, OF_PIN_USER, USER, 1, 0, &id), OF_E(CACHE_FULL));
    assert_int_equal(job_item_code(f, id, "//srv/docs/q.bin"), OF_E(CACHE_FULL));
    assert_ghost(f, "q.bin");
    assert_usage(f, 300, 0);
    /* Raising the limit lets the pin fill. */
    limits(f, 400, 400);
    pin_ok(f, "q.bin", 0);
    assert_cached(f, "q.bin", 100);
    assert_usage(f, 400, 0);
}

static void
test_a_pinned_ghost_filled_by_sync_counts_against_the_total_limit_only(void **state)
{
    struct fixture *f = *state;
    /* No room for unpinned content at all; plenty for pinned content. */
    limits(f, BIG, 0);
    put_host(f, "p.bin", 100, 'p');
    put_host(f, "d/a.txt", 10, 'a');
    /* Pinned without fill: known, pinned, no content yet. */
    assert_int_equal(pin_full(f, "p.bin", 0, OF_PIN_USER, USER, 0, 0, NULL), 0);
    assert_ghost(f, "p.bin");
    /* A deep pin, then a child a listing records (pinned by inheritance, a ghost). */
    pin_ok(f, "d", 1);
    put_host(f, "d/listed.txt", 20, 'l');
    list_ok(f, "d");
    assert_ghost(f, "d/listed.txt");
    /* The sync fills pinned ghosts; pinned bytes are not held to the unpinned limit. */
    int64_t id = sync_ok(f, "//srv/docs");
    assert_job_item_ok(f, id, "//srv/docs/p.bin");
    assert_job_item_ok(f, id, "//srv/docs/d/listed.txt");
    assert_cached(f, "p.bin", 100);
    assert_cached(f, "d/listed.txt", 20);
    assert_usage(f, 130, 0);
}

static void
test_a_pinned_file_changed_on_the_server_is_refreshed_by_sync_within_the_total_limit(void **state)
{
    struct fixture *f = *state;
    put_host(f, "p.bin", 100, 'p');
    pin_ok(f, "p.bin", 0);
    limits(f, BIG, 0);
    put_host(f, "p.bin", 120, 'P');
    int64_t id = sync_ok(f, "//srv/docs");
    assert_job_item_ok(f, id, "//srv/docs/p.bin");
    assert_cached(f, "p.bin", 120);
    assert_usage(f, 120, 0);
}

/* ---- accounting ---- */

static void
test_usage_counts_pinned_content_apart_from_unpinned_content(void **state)
{
    struct fixture *f = *state;
    put_host(f, "a.txt", 100, 'a');
    put_host(f, "p.bin", 300, 'p');
    put_host(f, "d/x.txt", 40, 'x');
    put_host(f, "d/y.txt", 60, 'y');
    assert_usage(f, 0, 0);
    read_ok(f, "a.txt");
    assert_usage(f, 100, 100);
    pin_ok(f, "p.bin", 0);
    assert_usage(f, 400, 100);
    pin_ok(f, "d", 1);
    assert_usage(f, 500, 100);
    /* Pinning content already cached moves it out of the unpinned share. */
    pin_ok(f, "a.txt", 0);
    assert_usage(f, 500, 0);
    unpin_ok(f, "p.bin", 0);
    assert_usage(f, 500, 300);
    unpin_ok(f, "d", 1);
    assert_usage(f, 500, 400);
    /* Another user's pin keeps content pinned for the accounting too. */
    assert_int_equal(pin_full(f, "p.bin", 0, OF_PIN_USER, OTHER, 1, 0, NULL), 0);
    assert_usage(f, 500, 100);
}

static void
test_unpinned_content_over_the_unpinned_limit_is_evicted_on_unpin(void **state)
{
    struct fixture *f = *state;
    put_host(f, "p.bin", 200, 'p');
    put_host(f, "a.txt", 100, 'a');
    limits(f, BIG, 150);
    pin_ok(f, "p.bin", 0);
    read_ok(f, "a.txt");
    assert_usage(f, 300, 100);
    unpin_ok(f, "p.bin", 0);
    /* 300 unpinned bytes over a 150-byte unpinned limit: evicted down to it. */
    struct of_cache_info ci = cache(f);
    assert_true(ci.unpinned_used <= 150);
    assert_int_equal(ci.used, ci.unpinned_used);
}

/* ---- inheritance and partly pinned folders ---- */

struct rows {
    struct of_pin_row v[8];
    int n;
};

static void
add_row(void *ctx, const struct of_pin_row *row)
{
    struct rows *r = ctx;
    if (r->n < 8)
        r->v[r->n++] = *row;
}

/* The pin rows of rel, read through a second store connection. */
static struct rows
pin_rows(struct fixture *f, const char *rel)
{
    char db[256], path[256];
    snprintf(db, sizeof(db), "%s/offlinefiles.db", f->data);
    path_of(rel, path, sizeof(path));
    struct of_store *st = NULL;
    assert_int_equal(of_store_open(db, &st, NULL), 0);
    struct of_item it;
    assert_int_equal(of_store_item_get(st, path, &it, NULL), 0);
    struct rows r = {0};
    assert_int_equal(of_store_pin_rows(st, it.id, add_row, &r, NULL), 0);
    of_store_free(st);
    return r;
}

static void
assert_one_row(struct fixture *f, const char *rel, enum of_pin_scope scope, const char *user,
               int inherit)
{
    struct rows r = pin_rows(f, rel);
    if (r.n != 1)
        fail_msg("%s: %d pin rows, want 1", rel, r.n);
    if (r.v[0].scope != scope || strcmp(r.v[0].user, user) != 0 || r.v[0].inherit != inherit)
        fail_msg("%s: pin row scope %d user '%s' inherit %d; want %d '%s' %d", rel,
                 (int)r.v[0].scope, r.v[0].user, r.v[0].inherit, (int)scope, user, inherit);
}

static void
test_deep_pin_records_inheritance_on_folders_only(void **state)
{
    struct fixture *f = *state;
    put_host(f, "d/a.txt", 10, 'a');
    put_host(f, "d/sub/b.txt", 20, 'b');
    put_host(f, "d/sub/deeper/c.txt", 30, 'c');
    pin_ok(f, "d", 1);
    assert_one_row(f, "d", OF_PIN_USER, USER, 1);
    assert_one_row(f, "d/sub", OF_PIN_USER, USER, 1);
    assert_one_row(f, "d/sub/deeper", OF_PIN_USER, USER, 1);
    assert_one_row(f, "d/a.txt", OF_PIN_USER, USER, 0);
    assert_one_row(f, "d/sub/deeper/c.txt", OF_PIN_USER, USER, 0);
    struct of_item_view v = view(f, "d");
    assert_int_equal(v.pin.pinned, 1);
    assert_int_equal(v.pin.for_user, 1);
    assert_int_equal(v.pin.for_user_inherit, 1);
    assert_cached(f, "d/a.txt", 10);
    assert_cached(f, "d/sub/b.txt", 20);
    assert_cached(f, "d/sub/deeper/c.txt", 30);
    /* Machine-wide scopes record no user. */
    put_host(f, "e/x.txt", 5, 'x');
    assert_int_equal(pin_full(f, "e", 1, OF_PIN_COMPUTER, USER, 1, 0, NULL), 0);
    assert_one_row(f, "e", OF_PIN_COMPUTER, "", 1);
    assert_one_row(f, "e/x.txt", OF_PIN_COMPUTER, "", 0);
}

static void
test_new_files_under_a_deep_pin_are_pinned_and_fetched_by_sync(void **state)
{
    struct fixture *f = *state;
    put_host(f, "d/a.txt", 10, 'a');
    pin_ok(f, "d", 1);
    put_host(f, "d/new.txt", 11, 'n');
    put_host(f, "d/newdir/x.txt", 12, 'x');
    put_host(f, "elsewhere.txt", 13, 'e');
    sync_ok(f, "//srv/docs");
    assert_one_row(f, "d/new.txt", OF_PIN_USER, USER, 0);
    assert_one_row(f, "d/newdir", OF_PIN_USER, USER, 1);
    assert_one_row(f, "d/newdir/x.txt", OF_PIN_USER, USER, 0);
    assert_cached(f, "d/new.txt", 11);
    assert_cached(f, "d/newdir/x.txt", 12);
    assert_int_equal(view(f, "d/new.txt").pin.for_user, 1);
    /* Outside the pinned tree, a manual share keeps nothing. */
    assert_int_equal(pin_rows(f, "elsewhere.txt").n, 0);
    assert_ghost(f, "elsewhere.txt");
    set_online(f, 0);
    read_ok(f, "d/new.txt");
    read_ok(f, "d/newdir/x.txt");
}

static void
test_new_files_recorded_by_a_listing_are_pinned_and_filled_by_the_next_sync(void **state)
{
    struct fixture *f = *state;
    put_host(f, "d/a.txt", 10, 'a');
    pin_ok(f, "d", 1);
    put_host(f, "d/listed.txt", 14, 'l');
    list_ok(f, "d");
    assert_one_row(f, "d/listed.txt", OF_PIN_USER, USER, 0);
    struct of_item_view v = view(f, "d/listed.txt");
    assert_int_equal(v.pin.pinned, 1);
    assert_int_equal(v.pin.for_user, 1);
    sync_ok(f, "//srv/docs/d");
    assert_cached(f, "d/listed.txt", 14);
    set_online(f, 0);
    read_ok(f, "d/listed.txt");
}

static void
test_a_shallow_pin_pins_the_folder_and_its_later_children(void **state)
{
    struct fixture *f = *state;
    put_host(f, "d/a.txt", 10, 'a');
    pin_ok(f, "d", 0);
    assert_one_row(f, "d", OF_PIN_USER, USER, 1);
    put_host(f, "d/later.txt", 15, 'l');
    sync_ok(f, "//srv/docs/d");
    assert_one_row(f, "d/later.txt", OF_PIN_USER, USER, 0);
    assert_cached(f, "d/later.txt", 15);
}

static void
test_a_folder_with_some_content_pinned_is_partly_pinned(void **state)
{
    struct fixture *f = *state;
    put_host(f, "d/a.txt", 10, 'a');
    put_host(f, "d/b.txt", 10, 'b');
    put_host(f, "d/sub/c.txt", 10, 'c');
    put_host(f, "other/o.txt", 10, 'o');
    list_ok(f, "d");
    list_ok(f, "d/sub");
    list_ok(f, "other");
    pin_ok(f, "d/sub/c.txt", 0);
    struct of_item_view v = view(f, "d");
    assert_int_equal(v.pin.pinned, 0);
    assert_int_equal(v.pin.partly, 1);
    v = view(f, "d/sub");
    assert_int_equal(v.pin.pinned, 0);
    assert_int_equal(v.pin.partly, 1);
    assert_int_equal(view(f, "//srv/docs").pin.partly, 1);
    assert_int_equal(view(f, "other").pin.partly, 0);
    assert_int_equal(view(f, "d/a.txt").pin.partly, 0);
    /* Another user's pin counts too: the content is there for them. */
    assert_int_equal(view_as(f, "d", OTHER).pin.partly, 1);
    unpin_ok(f, "d/sub/c.txt", 0);
    assert_int_equal(view(f, "d").pin.partly, 0);
    assert_int_equal(view(f, "d/sub").pin.partly, 0);
    /* A shallow unpin of a deep-pinned folder leaves its subfolders pinned: partly. */
    pin_ok(f, "d", 1);
    unpin_ok(f, "d", 0);
    v = view(f, "d");
    assert_int_equal(v.pin.pinned, 0);
    assert_int_equal(v.pin.partly, 1);
    assert_int_equal(view(f, "d/a.txt").pin.pinned, 0);
    assert_int_equal(view(f, "d/sub").pin.pinned, 1);
    assert_int_equal(view(f, "d/sub/c.txt").pin.pinned, 1);
}

/* ---- users and scopes ---- */

static void
test_user_pins_belong_to_their_user(void **state)
{
    struct fixture *f = *state;
    put_host(f, "a.txt", 10, 'a');
    put_host(f, "b.txt", 10, 'b');
    assert_int_equal(pin_full(f, "a.txt", 0, OF_PIN_USER, USER, 1, 0, NULL), 0);
    assert_int_equal(pin_full(f, "b.txt", 0, OF_PIN_USER, OTHER, 1, 0, NULL), 0);
    struct of_item_view v = view_as(f, "a.txt", USER);
    assert_int_equal(v.pin.pinned, 1);
    assert_int_equal(v.pin.for_user, 1);
    assert_int_equal(v.pin.for_others, 0);
    v = view_as(f, "a.txt", OTHER);
    assert_int_equal(v.pin.pinned, 1);
    assert_int_equal(v.pin.for_user, 0);
    assert_int_equal(v.pin.for_others, 1);
    v = view_as(f, "b.txt", USER);
    assert_int_equal(v.pin.for_user, 0);
    assert_int_equal(v.pin.for_others, 1);
    /* bob's unpin of a.txt removes only bob's pin: alice's stays. */
    assert_int_equal(pin_full(f, "a.txt", 0, OF_PIN_USER, OTHER, 0, 1, NULL), 0);
    assert_int_equal(view_as(f, "a.txt", USER).pin.for_user, 1);
    /* Both pin b; alice unpins; bob's pin keeps it pinned and cached. */
    assert_int_equal(pin_full(f, "b.txt", 0, OF_PIN_USER, USER, 1, 0, NULL), 0);
    unpin_ok(f, "b.txt", 0);
    v = view_as(f, "b.txt", USER);
    assert_int_equal(v.pin.pinned, 1);
    assert_int_equal(v.pin.for_user, 0);
    assert_int_equal(view_as(f, "b.txt", OTHER).pin.for_user, 1);
    assert_usage(f, 20, 0);
}

static void
test_no_caching_share_refuses_pins(void **state)
{
    struct fixture *f = *state;
    struct of_share_patch p = {.has_caching_mode = 1, .caching_mode = OF_CACHING_NONE};
    assert_int_equal(of_engine_share_update(f->eng, "srv", "docs", &p, NULL, NULL), 0);
    put_host(f, "a.txt", 10, 'a');
    struct of_error err = {0};
    const char *paths[] = {"//srv/docs/a.txt"};
    int64_t id = 0;
    assert_int_equal(of_engine_pin(f->eng, paths, 1, 0, OF_PIN_USER, 1, 0, USER, &id, &err),
                     OF_E(CONFLICT));
    assert_int_equal(err.code, OF_E(CONFLICT));
    int cacheable = 1;
    enum of_caching_mode mode = OF_CACHING_AUTO;
    assert_int_equal(of_engine_cacheable(f->eng, "//srv/docs/a.txt", &cacheable, &mode, NULL), 0);
    assert_int_equal(cacheable, 0);
    assert_int_equal(mode, OF_CACHING_NONE);
}

int
main(void)
{
    of_log_set_level(OF_LOG_ERROR);
#define A(name) cmocka_unit_test_setup_teardown(name, setup_auto, teardown)
#define M(name) cmocka_unit_test_setup_teardown(name, setup_manual, teardown)
    const struct CMUnitTest tests[] = {
        A(test_unpinned_limit_evicts_the_least_recently_read_file_first),
        A(test_total_limit_evicts_unpinned_content_and_keeps_pinned_content),
        A(test_lowering_the_limits_evicts_at_once_oldest_first),
        A(test_pinned_and_dirty_content_is_never_evicted),
        A(test_a_full_cache_refuses_new_content_but_online_reads_still_work),
        M(test_a_pinned_ghost_filled_by_sync_counts_against_the_total_limit_only),
        M(test_a_pinned_file_changed_on_the_server_is_refreshed_by_sync_within_the_total_limit),
        A(test_usage_counts_pinned_content_apart_from_unpinned_content),
        A(test_unpinned_content_over_the_unpinned_limit_is_evicted_on_unpin),
        M(test_deep_pin_records_inheritance_on_folders_only),
        M(test_new_files_under_a_deep_pin_are_pinned_and_fetched_by_sync),
        M(test_new_files_recorded_by_a_listing_are_pinned_and_filled_by_the_next_sync),
        M(test_a_shallow_pin_pins_the_folder_and_its_later_children),
        M(test_a_folder_with_some_content_pinned_is_partly_pinned),
        M(test_user_pins_belong_to_their_user),
        M(test_no_caching_share_refuses_pins),
    };
#undef A
#undef M
    return cmocka_run_group_tests(tests, NULL, NULL);
}
