/* SPDX-License-Identifier: MIT */
/*
 * Pin and Unpin (IOfflineFilesCache::Pin/Unpin), SuspendRoot and
 * IsPathCacheable. A pin is a row per (item, scope, user) with an inherit
 * bit; a deep pin pins the existing subtree now (listing the server to find
 * it), a shallow pin pins the item and records inheritance, so children that
 * appear later are pinned at the next sync. Pinning with fill fetches the
 * content, within the cache limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "util.h"

struct pin_args {
    char **paths;
    size_t n;
    int deep, fill, unpin;
    enum of_pin_scope scope;
    char user[OF_USER_MAX];
    /* Files to fill once the tree is pinned: fetched by several workers at once. */
    char **fills;
    size_t n_fills, cap_fills, next_fill;
    int full, failed;
    pthread_mutex_t lock; /* fills cursor, job records, full/failed */
};

struct pin_worker {
    struct of_engine *eng;
    struct job *job;
    struct pin_args *a;
    struct fill_batch *batch;
};

static void
pin_args_free(void *arg)
{
    struct pin_args *a = arg;
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        free(a->paths[i]);
    free(a->paths);
    for (size_t i = 0; i < a->n_fills; i++)
        free(a->fills[i]);
    free(a->fills);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

static const char *
scope_user(const struct pin_args *a)
{
    /* Only user pins belong to a user; the other scopes are machine-wide. */
    return a->scope == OF_PIN_USER ? a->user : "";
}

static void
result(struct of_engine *eng, struct job *job, const char *path, int op, int rc,
       const struct of_error *err)
{
    struct of_job_item *ji = calloc(1, sizeof(*ji));
    if (!ji)
        return;
    snprintf(ji->path, sizeof(ji->path), "%s", path);
    ji->operation = op;
    ji->sync_state = -1;
    ji->result = rc;
    snprintf(ji->message, sizeof(ji->message), "%s", rc < 0 ? err->detail : "ok");
    engine_job_item(eng, job, ji);
    free(ji);
}

static void
queue_fill(struct pin_args *a, const char *path)
{
    if (a->n_fills == a->cap_fills) {
        size_t cap = a->cap_fills ? a->cap_fills * 2 : 64;
        void *grown = realloc(a->fills, cap * sizeof(*a->fills));
        if (!grown)
            return;
        a->fills = grown;
        a->cap_fills = cap;
    }
    if ((a->fills[a->n_fills] = strdup(path)) != NULL)
        a->n_fills++;
}

static int
pin_one(struct of_engine *eng, struct job *job, struct pin_args *a, const struct of_item *it)
{
    struct of_error err = {0};
    int container = it->type != OF_ITEM_FILE;
    int rc = a->unpin
                 ? of_store_pin_clear(eng->store, it->id, a->scope, scope_user(a), &err)
                 : of_store_pin_set(eng->store, it->id, a->scope, scope_user(a), container, &err);
    if (rc == 0)
        engine_publish_item(eng, a->unpin ? OF_EV_ItemNotPinned : OF_EV_ItemPinned, it->path,
                            (int)it->type);
    /* Content comes after the whole tree is pinned, several files at a time. */
    if (rc == 0 && !a->unpin && a->fill && !container) {
        queue_fill(a, it->path);
        return 0;
    }
    result(eng, job, it->path, a->unpin ? OF_SYNC_OP_NONE : OF_SYNC_OP_FILL, rc, &err);
    engine_job_progress(eng, job, 0, 1, 0, 0);
    a->failed |= rc < 0;
    return rc;
}

/* A fill's result (fill.c calls this from whichever worker commits its batch). */
static void
fill_done(void *arg, const char *path, int rc, const struct of_error *err)
{
    struct pin_worker *w = arg;
    struct pin_args *a = w->a;
    pthread_mutex_lock(&a->lock);
    result(w->eng, w->job, path, OF_SYNC_OP_FILL, rc, err);
    engine_job_progress(w->eng, w->job, 0, 1, 0, 0);
    a->full |= rc == OF_E(CACHE_FULL);
    a->failed |= rc < 0;
    pthread_mutex_unlock(&a->lock);
}

static void *
fill_worker(void *arg)
{
    of_thread_name("of-fill");
    struct pin_worker *w = arg;
    struct pin_args *a = w->a;
    for (;;) {
        pthread_mutex_lock(&a->lock);
        size_t i = a->next_fill++;
        pthread_mutex_unlock(&a->lock);
        if (i >= a->n_fills || engine_job_aborted(w->job))
            return NULL;
        engine_fill(w->batch, a->fills[i]);
    }
}

/*
 * Fill the queued files with as many transfers at once as their shares allow
 * (4), their content made durable and their rows committed in batches.
 */
static void
run_fills(struct of_engine *eng, struct job *job, struct pin_args *a)
{
    struct pin_worker w = {eng, job, a, NULL};
    w.batch = engine_fill_batch_new(eng, fill_done, &w);
    if (!w.batch) {
        struct of_error err;
        of_error_set(&err, OF_E(NOMEM), "out of memory");
        for (size_t i = 0; i < a->n_fills; i++)
            fill_done(&w, a->fills[i], err.code, &err);
        return;
    }
    pthread_t workers[3];
    int started = 0;
    for (int i = 0; i < 3; i++)
        if (pthread_create(&workers[started], NULL, fill_worker, &w) == 0)
            started++;
    fill_worker(&w);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i], NULL);
    engine_fill_batch_free(w.batch);
}

struct children {
    struct of_item *v;
    size_t n, cap;
};

static int
collect(void *arg, const struct of_item *it)
{
    struct children *c = arg;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        void *grown = realloc(c->v, cap * sizeof(*c->v));
        if (!grown)
            return OF_E(NOMEM);
        c->v = grown;
        c->cap = cap;
    }
    c->v[c->n++] = *it;
    return 0;
}

/* Pin (or unpin) the children of a directory, recursing when deep. */
static int
pin_below(struct of_engine *eng, struct job *job, struct pin_args *a, const char *dir, int depth)
{
    struct children c = {0};
    if (!a->unpin) {
        /* Learn the server's children first, so a deep pin covers what is not cached yet. */
        struct of_dir_entry *ents = NULL;
        size_t n = 0;
        int offline = 0;
        if (of_engine_dir_list(eng, dir, a->user, &ents, &n, &offline, NULL) == 0)
            free(ents);
    }
    of_store_item_scan(eng->store, dir, 1, "", SIZE_MAX, collect, &c, NULL, NULL);
    engine_job_progress(eng, job, (int64_t)c.n, 0, 0, 0);
    /* The pin rows of one directory's files commit together: one disk sync, not one each. */
    int batch = of_store_begin(eng->store, NULL) == 0;
    for (size_t i = 0; batch && i < c.n && !engine_job_aborted(job); i++)
        if (c.v[i].type == OF_ITEM_FILE && !c.v[i].deleted_offline)
            pin_one(eng, job, a, &c.v[i]);
    if (batch && of_store_commit(eng->store, NULL) < 0)
        batch = 0; /* rolled back: pin them one by one below */
    for (size_t i = 0; i < c.n && !engine_job_aborted(job); i++) {
        if (batch && c.v[i].type == OF_ITEM_FILE)
            continue;
        const struct of_item *it = &c.v[i];
        if (it->deleted_offline)
            continue;
        /* Unpin(deep = false) touches only the immediate files. */
        if (a->unpin && !a->deep && it->type != OF_ITEM_FILE) {
            engine_job_progress(eng, job, 0, 1, 0, 0);
            continue;
        }
        pin_one(eng, job, a, it);
        if (a->deep && it->type != OF_ITEM_FILE && depth < 256)
            pin_below(eng, job, a, it->path, depth + 1);
    }
    free(c.v);
    return 0;
}

static int
pin_job(struct of_engine *eng, struct job *job, void *arg)
{
    struct pin_args *a = arg;
    struct of_item *it = malloc(sizeof(*it));
    if (!it)
        return OF_E(NOMEM);
    engine_job_progress(eng, job, (int64_t)a->n, 0, 0, 0);
    for (size_t i = 0; i < a->n && !engine_job_aborted(job); i++) {
        struct of_error err = {0};
        if (of_store_item_get(eng->store, a->paths[i], it, &err) < 0) {
            result(eng, job, a->paths[i], OF_SYNC_OP_NONE, err.code, &err);
            a->failed = 1;
            continue;
        }
        pin_one(eng, job, a, it);
        if (it->type != OF_ITEM_FILE && (a->deep || a->unpin))
            pin_below(eng, job, a, it->path, 0);
    }
    free(it);
    if (a->n_fills)
        run_fills(eng, job, a);
    /* Unpinned content may now be over the unpinned limit. */
    if (a->unpin)
        engine_cache_make_room(eng, 0, 0, NULL);
    if (a->full)
        engine_job_message(eng, job, "some items did not fit in the cache (cache-full)");
    return a->full ? OF_E(CACHE_FULL) : a->failed ? OF_E(CONFLICT) : 0;
}

/* Make sure a path is an item: online, a file or directory the cache has not seen is stat'ed. */
static int
ensure_item(struct of_engine *eng, const char *path, struct of_error *reterr)
{
    struct of_item *it = malloc(sizeof(*it));
    if (!it)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    int rc = of_store_item_get(eng->store, path, it, NULL);
    free(it);
    if (rc == 0)
        return 0;
    char parent[OF_PATH_MAX + 1];
    if (of_path_parent(path, parent, sizeof(parent)) < 0)
        return of_error_set(reterr, OF_E(NOT_FOUND), "'%s' is not in the cache", path);
    /* Listing the parent records the item (as a ghost when it is a file). */
    struct of_dir_entry *ents = NULL;
    size_t n = 0;
    int offline = 0;
    rc = of_engine_dir_list(eng, parent, "", &ents, &n, &offline, NULL);
    free(ents);
    it = malloc(sizeof(*it));
    rc = it ? of_store_item_get(eng->store, path, it, NULL) : OF_E(NOMEM);
    free(it);
    return rc == 0 ? 0 : of_error_set(reterr, OF_E(NOT_FOUND), "'%s' does not exist", path);
}

int
of_engine_pin(struct of_engine *eng, const char *const *paths, size_t n_paths, int deep,
              enum of_pin_scope scope, int fill, int unpin, const char *user, int64_t *ret_job_id,
              struct of_error *reterr)
{
    if (n_paths == 0 || n_paths > 1024)
        return of_error_set(reterr, OF_E(BAD_FIELD), "paths holds 1 to 1024 paths");
    struct pin_args *a = calloc(1, sizeof(*a));
    if (a)
        pthread_mutex_init(&a->lock, NULL);
    int rc = a && (a->paths = calloc(n_paths, sizeof(char *)))
                 ? 0
                 : of_error_set(reterr, OF_E(NOMEM), "out of memory");
    for (size_t i = 0; rc == 0 && i < n_paths; i++) {
        struct share_rt *s;
        const char *rel;
        int depth = of_path_validate(paths[i], reterr);
        rc = depth < 0   ? depth
             : depth < 2 ? of_error_set(reterr, OF_E(BAD_PATH),
                                        "pin shares or "
                                        "what is in them, not servers")
                         : engine_share_for_path(eng, paths[i], &s, &rel, reterr);
        if (rc < 0)
            break;
        /* A share that allows no caching takes no pins (IsPathCacheable says so too). */
        if (!unpin && s->rec.caching_mode == OF_CACHING_NONE)
            rc = of_error_set(reterr, OF_E(CONFLICT), "//%s/%s does not allow caching",
                              s->rec.server, s->rec.share);
        engine_share_release(eng, s);
        if (rc == 0)
            rc = ensure_item(eng, paths[i], reterr);
        if (rc == 0 && !(a->paths[a->n++] = strdup(paths[i])))
            rc = of_error_set(reterr, OF_E(NOMEM), "out of memory");
    }
    if (rc < 0) {
        pin_args_free(a);
        return rc;
    }
    a->deep = deep;
    a->fill = fill;
    a->unpin = unpin;
    a->scope = scope;
    snprintf(a->user, sizeof(a->user), "%s", user ? user : "");
    return engine_job_submit(eng, unpin ? "unpin" : "pin", user, pin_job, a, pin_args_free,
                             ret_job_id, reterr);
}

int
of_engine_suspend(struct of_engine *eng, const char *path, int suspend, struct of_error *reterr)
{
    struct of_item *it = malloc(sizeof(*it));
    if (!it)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    int depth = of_path_validate(path, reterr);
    int rc = depth < 0 ? depth : of_store_begin(eng->store, reterr);
    if (rc < 0) {
        free(it);
        return rc;
    }
    rc = of_store_item_get(eng->store, path, it, reterr);
    if (rc == 0 && it->type == OF_ITEM_SERVER)
        rc = of_error_set(reterr, OF_E(BAD_PATH), "suspend a share or a directory");
    if (rc == 0) {
        it->suspended_root = suspend && it->type != OF_ITEM_FILE;
        it->suspended = suspend;
        rc = of_store_item_put(eng->store, it, reterr);
    }
    if (rc == 0 && it->type != OF_ITEM_FILE)
        rc = of_store_suspend_below(eng->store, path, suspend, reterr);
    if (rc == 0)
        rc = of_store_commit(eng->store, reterr);
    else
        of_store_rollback(eng->store);
    free(it);
    return rc;
}

int
of_engine_cacheable(struct of_engine *eng, const char *path, int *ret_cacheable,
                    enum of_caching_mode *ret_mode, struct of_error *reterr)
{
    struct share_rt *s;
    const char *rel;
    int depth = of_path_validate(path, reterr);
    if (depth < 0)
        return depth;
    if (depth < 2)
        return of_error_set(reterr, OF_E(BAD_PATH), "'%s' is a server, not in a share", path);
    int rc = engine_share_for_path(eng, path, &s, &rel, reterr);
    if (rc < 0)
        return rc;
    *ret_mode = s->rec.caching_mode;
    *ret_cacheable = s->rec.caching_mode != OF_CACHING_NONE;
    engine_share_release(eng, s);
    return 0;
}
