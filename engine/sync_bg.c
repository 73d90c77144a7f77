/* SPDX-License-Identifier: MIT */
/*
 * Starting syncs, the background sync pass (on a period, and right after a
 * share comes back online), conflict records, resolutions and keepAll.
 * Background passes only record conflicts: a person or an explicit sync
 * settles them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sync_int.h"
#include "util.h"

/* ---- starting a sync ---- */

static int
submit(struct of_engine *eng, struct sync_args *a, const char *user, int64_t *ret_id,
       struct of_error *reterr)
{
    snprintf(a->user, sizeof(a->user), "%s", user ? user : "");
    return engine_job_submit(eng, "sync", user, sync_job_run, a, sync_args_free, ret_id, reterr);
}

int
of_engine_sync_start(struct of_engine *eng, const struct of_sync_request *req, const char *user,
                     int64_t *ret_job_id, struct of_error *reterr)
{
    if (req->n_paths == 0 || req->n_paths > OF_SYNC_PATHS_MAX)
        return of_error_set(reterr, OF_E(BAD_FIELD), "paths holds 1 to %d paths",
                            OF_SYNC_PATHS_MAX);
    struct sync_args *a = calloc(1, sizeof(*a));
    struct of_item *it = malloc(sizeof(*it));
    int rc = a && it ? 0 : of_error_set(reterr, OF_E(NOMEM), "out of memory");
    for (size_t i = 0; rc == 0 && i < req->n_paths; i++) {
        int depth = of_path_validate(req->paths[i], reterr);
        if (depth < 0)
            rc = depth;
        else if (depth < 2)
            rc = of_error_set(reterr, OF_E(BAD_PATH), "'%s' is a server: sync its shares",
                              req->paths[i]);
        else if ((rc = of_store_item_get(eng->store, req->paths[i], it, reterr)) == 0 &&
                 !(a->paths[i] = strdup(req->paths[i])))
            rc = of_error_set(reterr, OF_E(NOMEM), "out of memory");
        if (rc == 0)
            a->req.n_paths = i + 1;
    }
    free(it);
    if (rc < 0) {
        sync_args_free(a);
        return rc;
    }
    size_t n = a->req.n_paths;
    a->req = *req;
    a->req.n_paths = n;
    for (size_t i = 0; i < n; i++)
        a->req.paths[i] = a->paths[i];
    return submit(eng, a, user, ret_job_id, reterr);
}

/* ---- background sync ---- */

/* One pass: a background sync job for every online share with offline changes. */
static void
background_pass(struct of_engine *eng, const char *only_root)
{
    struct of_share_view *v;
    size_t n;
    if (of_engine_share_list(eng, NULL, &v, &n, NULL) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        char root[2 * OF_SEGMENT_MAX + 4];
        snprintf(root, sizeof(root), "//%s/%s", v[i].rec.server, v[i].rec.share);
        if ((only_root && strcmp(only_root, root) != 0) || !of_conn_up(v[i].conn.state))
            continue;
        if (!engine_dirty_below(eng, root))
            continue;
        struct sync_args *a = calloc(1, sizeof(*a));
        if (!a || !(a->paths[0] = strdup(root))) {
            free(a);
            continue;
        }
        a->req.paths[0] = a->paths[0];
        a->req.n_paths = 1;
        a->req.in = a->req.out = 1;
        a->req.background = 1;
        a->req.policy = OF_POLICY_ASK;
        int64_t id;
        struct of_error err = {0};
        if (submit(eng, a, "background", &id, &err) == 0)
            of_log_info("background sync of %s: job %lld", root, (long long)id);
    }
    free(v);
}

static void *
background_loop(void *arg)
{
    of_thread_name("of-bgsync");
    struct of_engine *eng = arg;
    struct sync_bg *bg = &eng->bg;
    pthread_mutex_lock(&bg->lock);
    while (bg->running) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(eng->background_sync_ns / 1000000000);
        int timed_out = 0;
        while (bg->running && !bg->kicked[0] && !timed_out)
            timed_out = pthread_cond_timedwait(&bg->wake, &bg->lock, &until) != 0;
        if (!bg->running)
            break;
        char root[sizeof(bg->kicked)];
        memcpy(root, bg->kicked, sizeof(root));
        bg->kicked[0] = '\0';
        pthread_mutex_unlock(&bg->lock);
        background_pass(eng, root[0] ? root : NULL);
        pthread_mutex_lock(&bg->lock);
    }
    pthread_mutex_unlock(&bg->lock);
    return NULL;
}

int
engine_sync_start_background(struct of_engine *eng, struct of_error *reterr)
{
    struct sync_bg *bg = &eng->bg;
    pthread_mutex_init(&bg->lock, NULL);
    pthread_cond_init(&bg->wake, NULL);
    bg->running = 1;
    if (pthread_create(&bg->thread, NULL, background_loop, eng) != 0) {
        bg->running = 0;
        return of_error_set(reterr, OF_E(INTERNAL), "cannot start background sync");
    }
    bg->started = 1;
    return 0;
}

void
engine_sync_stop_background(struct of_engine *eng)
{
    struct sync_bg *bg = &eng->bg;
    if (!bg->started)
        return;
    pthread_mutex_lock(&bg->lock);
    bg->running = 0;
    pthread_cond_signal(&bg->wake);
    pthread_mutex_unlock(&bg->lock);
    pthread_join(bg->thread, NULL);
    bg->started = 0;
    pthread_cond_destroy(&bg->wake);
    pthread_mutex_destroy(&bg->lock);
}

void
engine_sync_share_online(struct of_engine *eng, const char *server, const char *share)
{
    struct sync_bg *bg = &eng->bg;
    if (!bg->started)
        return;
    pthread_mutex_lock(&bg->lock);
    /* One pending kick is enough: a second share's kick widens it to every share. */
    if (bg->kicked[0])
        snprintf(bg->kicked, sizeof(bg->kicked), "*");
    else
        snprintf(bg->kicked, sizeof(bg->kicked), "//%s/%s", server, share);
    pthread_cond_signal(&bg->wake);
    pthread_mutex_unlock(&bg->lock);
}

/* ---- conflict records ---- */

static void
copy_side(struct of_copy *c, const struct of_side *s)
{
    memset(c, 0, sizeof(*c));
    c->exists = s->exists;
    c->size = s->size;
    c->mtime_ns = s->mtime_ns;
    c->attrs = s->attrs | (s->is_dir ? OF_ATTR_DIRECTORY : 0);
}

static void
publish_conflict(struct of_engine *eng, enum of_event_type type, const struct of_conflict_rec *r,
                 int64_t job_id)
{
    struct of_event *ev = malloc(sizeof(*ev));
    if (!ev)
        return;
    of_event_init(ev, type, r->path);
    ev->job_id = job_id;
    ev->sync_state = r->sync_state;
    ev->n_a = r->detected_ns;
    snprintf(ev->text, sizeof(ev->text), "%s", r->kind);
    engine_publish(eng, ev);
    free(ev);
}

int
sync_record_conflict(struct sync_ctx *ctx, const struct plan_entry *e, struct of_error *reterr)
{
    struct of_conflict_rec *rec = calloc(1, sizeof(*rec));
    if (!rec)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    snprintf(rec->path, sizeof(rec->path), "%s", e->path);
    snprintf(rec->kind, sizeof(rec->kind), "item");
    rec->sync_state = (int)e->res.state;
    rec->change_details = e->res.change_details;
    copy_side(&rec->local, &e->in.local);
    copy_side(&rec->remote, &e->in.remote);
    copy_side(&rec->original, &e->in.original);
    rec->detected_ns = rec->updated_ns = of_now_ns();
    int added = 0;
    int rc = of_store_conflict_put(ctx->eng->store, rec, &added, reterr);
    if (rc == 0)
        publish_conflict(ctx->eng,
                         added ? OF_EV_SyncConflictRecAdded : OF_EV_SyncConflictRecUpdated, rec,
                         engine_job_id(ctx->job));
    free(rec);
    return rc;
}

void
sync_clear_conflict(struct of_engine *eng, const char *path)
{
    struct of_conflict_rec *rec = malloc(sizeof(*rec));
    if (!rec)
        return;
    if (of_store_conflict_find(eng->store, path, rec, NULL) == 0 &&
        strcmp(rec->kind, "item") == 0 && of_store_conflict_delete(eng->store, rec->id, NULL) == 0)
        publish_conflict(eng, OF_EV_SyncConflictRecRemoved, rec, 0);
    free(rec);
}

struct conflict_paths {
    char **v;
    size_t n, cap;
};

static int
add_conflict_path(void *arg, const struct of_conflict_rec *rec)
{
    struct conflict_paths *cp = arg;
    if (strcmp(rec->kind, "item") != 0)
        return 0;
    if (cp->n == cp->cap) {
        size_t cap = cp->cap ? cp->cap * 2 : 16;
        void *grown = realloc(cp->v, cap * sizeof(*cp->v));
        if (!grown)
            return OF_E(NOMEM);
        cp->v = grown;
        cp->cap = cap;
    }
    if ((cp->v[cp->n] = strdup(rec->path)) != NULL)
        cp->n++;
    return 0;
}

void
sync_conflicts_load(struct sync_ctx *ctx)
{
    struct conflict_paths cp = {0};
    of_store_conflict_scan(ctx->eng->store, ctx->root, add_conflict_path, &cp, NULL);
    ctx->conflicts = cp.v; /* the scan is in path order, so the array is sorted */
    ctx->n_conflicts = cp.n;
}

void
sync_conflicts_free(struct sync_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_conflicts; i++)
        free(ctx->conflicts[i]);
    free(ctx->conflicts);
    ctx->conflicts = NULL;
    ctx->n_conflicts = 0;
}

static int
cmp_path(const void *key, const void *elem)
{
    return strcmp(key, *(char *const *)elem);
}

int
sync_has_conflict(const struct sync_ctx *ctx, const char *path)
{
    return ctx->n_conflicts &&
           bsearch(path, ctx->conflicts, ctx->n_conflicts, sizeof(char *), cmp_path) != NULL;
}

int
of_engine_conflicts_list(struct of_engine *eng, const char *under,
                         int (*cb)(void *ctx, const struct of_conflict_rec *rec), void *ctx,
                         struct of_error *reterr)
{
    return of_store_conflict_scan(eng->store, under ? under : "", cb, ctx, reterr);
}

int
of_engine_conflict_get(struct of_engine *eng, int64_t id, struct of_conflict_rec *ret_rec,
                       struct of_error *reterr)
{
    return of_store_conflict_get(eng->store, id, ret_rec, reterr);
}

int
of_engine_conflict_resolve(struct of_engine *eng, int64_t id, enum of_resolution resolution,
                           const char *new_name, const char *user, int64_t *ret_job_id,
                           struct of_error *reterr)
{
    struct of_conflict_rec *rec = malloc(sizeof(*rec));
    struct sync_args *a = calloc(1, sizeof(*a));
    int rc = rec && a ? of_store_conflict_get(eng->store, id, rec, reterr)
                      : of_error_set(reterr, OF_E(NOMEM), "out of memory");
    int mass = rc == 0 && strcmp(rec->kind, "massDelete") == 0;
    static const enum of_conflict_policy policy_of[] = {
        [OF_RESOLVE_KEEP_LOCAL] = OF_POLICY_KEEP_LOCAL,
        [OF_RESOLVE_KEEP_REMOTE] = OF_POLICY_KEEP_REMOTE,
        [OF_RESOLVE_KEEP_LATEST] = OF_POLICY_KEEP_LATEST,
        [OF_RESOLVE_KEEP_ALL] = OF_POLICY_KEEP_ALL,
    };
    if (rc == 0 &&
        mass != (resolution == OF_RESOLVE_CONFIRM_DELETE || resolution == OF_RESOLVE_DISCARD))
        rc = of_error_set(reterr, OF_E(CONFLICT),
                          mass ? "a massDelete record takes confirmDelete or discard"
                               : "confirmDelete and discard apply to massDelete records only");
    if (rc == 0 && new_name &&
        (of_path_segment_check(new_name, strlen(new_name)) < 0 ||
         resolution != OF_RESOLVE_KEEP_ALL))
        rc = of_error_set(reterr, OF_E(BAD_FIELD),
                          "newName is a plain file name, and only for keepAll");
    *ret_job_id = 0;
    if (rc == 0 && (resolution == OF_RESOLVE_DISCARD || resolution == OF_RESOLVE_CONFIRM_DELETE)) {
        rc = of_store_conflict_delete(eng->store, id, reterr);
        if (rc == 0)
            publish_conflict(eng, OF_EV_SyncConflictRecRemoved, rec, 0);
    }
    if (rc == 0 && resolution != OF_RESOLVE_DISCARD) {
        a->paths[0] = strdup(rec->path);
        a->req.paths[0] = a->paths[0];
        a->req.n_paths = a->paths[0] ? 1 : 0;
        a->req.in = a->req.out = 1;
        a->req.allow_mass_delete = mass;
        a->req.policy = mass ? OF_POLICY_ASK : policy_of[resolution];
        if (new_name)
            snprintf(a->new_name, sizeof(a->new_name), "%s", new_name);
        rc = submit(eng, a, user, ret_job_id, reterr);
        a = NULL; /* the job owns it now, even on failure */
    }
    sync_args_free(a);
    free(rec);
    return rc;
}

/* ---- keepAll ---- */

/* A conflict name for the item's local copy free in the cache and on the server. */
static int
free_name(struct sync_ctx *ctx, const char *path, char *ret_path, size_t cap,
          struct of_error *reterr)
{
    char parent[OF_PATH_MAX + 1], name[OF_SEGMENT_MAX + 1];
    struct of_stat st;
    of_path_parent(path, parent, sizeof(parent));
    for (int attempt = 1; attempt <= 50; attempt++) {
        if (ctx->args->new_name[0] && attempt == 1)
            snprintf(name, sizeof(name), "%s", ctx->args->new_name);
        else if (of_reconcile_conflict_name(of_path_name(path), of_now_ns(), attempt, name,
                                            sizeof(name)) < 0)
            break;
        if ((size_t)snprintf(ret_path, cap, "%s/%s", parent, name) >= cap)
            break;
        const char *rel = ret_path + strlen(ctx->root) + 1;
        struct of_item *it = malloc(sizeof(*it));
        int taken = !it || of_store_item_get(ctx->eng->store, ret_path, it, NULL) == 0 ||
                    ctx->share->be->ops->stat(ctx->share->be, rel, &st, NULL) != OF_E(NOT_FOUND);
        free(it);
        if (taken)
            continue;
        return 0;
    }
    return of_error_set(reterr, OF_E(CONFLICT), "no free conflict name next to '%s'", path);
}

int
sync_keep_all(struct sync_ctx *ctx, struct op *op, struct plan_entry *e, struct of_error *reterr)
{
    struct of_item *it = &op->item;
    if (!op->have_item || it->type != OF_ITEM_FILE || !it->content[0] || !e->in.remote.exists)
        return sync_record_conflict(ctx, e, reterr);
    char *kept = malloc(OF_PATH_MAX + 1);
    struct of_item *copy = malloc(sizeof(*copy));
    struct of_stat st;
    int fd = -1;
    int rc = kept && copy ? free_name(ctx, it->path, kept, OF_PATH_MAX + 1, reterr)
                          : of_error_set(reterr, OF_E(NOMEM), "out of memory");
    if (rc == 0)
        rc = of_content_open_read(ctx->eng->content, it->content, &fd, reterr);
    /* The local bytes go to the server under the new name first: then they are safe twice. */
    if (rc == 0)
        rc = ctx->share->be->ops->write(ctx->share->be, kept + strlen(ctx->root) + 1, fd, "", &st,
                                        reterr);
    if (fd >= 0)
        close(fd);
    if (rc == 0) {
        *copy = *it;
        copy->id = 0;
        snprintf(copy->path, sizeof(copy->path), "%s", kept);
        engine_copy_from_stat(&copy->remote, &st);
        memcpy(copy->remote.hash, it->local.hash, sizeof(copy->remote.hash));
        copy->original = copy->remote;
        copy->created_offline = copy->deleted_offline = 0;
        copy->mod_data = copy->mod_attrs = copy->mod_time = 0;
        /* The content file moves to the new row; the old row becomes a ghost of the server's. */
        it->content[0] = '\0';
        it->cached_bytes = 0;
        it->ghosted = 1;
        it->mod_data = it->mod_attrs = it->mod_time = it->created_offline = 0;
        it->original = it->remote;
        rc = of_store_begin(ctx->eng->store, reterr);
        if (rc == 0) {
            rc = of_store_item_put(ctx->eng->store, copy, reterr);
            if (rc == 0)
                rc = of_store_item_put(ctx->eng->store, it, reterr);
            if (rc == 0)
                rc = of_store_commit(ctx->eng->store, reterr);
            else
                of_store_rollback(ctx->eng->store);
        }
    }
    if (rc == 0) {
        engine_publish_item(ctx->eng, OF_EV_ItemAddedToCache, kept, OF_ITEM_FILE);
        /* Now take the server's version under the original name. */
        e->op = OF_SYNC_OP_SYNC_TO_CLIENT;
        struct op *again;
        rc = engine_op_begin(ctx->eng, e->path, &again, reterr);
        if (rc == 0) {
            rc = sync_pull(ctx, again, e, 1, reterr);
            engine_op_end(again);
        }
        e->op = OF_SYNC_OP_KEEP_ALL;
    }
    free(kept);
    free(copy);
    return rc;
}
