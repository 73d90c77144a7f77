/* SPDX-License-Identifier: MIT */
/*
 * The sync job: for each requested path, walk the cached tree and the
 * server's tree side by side (one listing and one store scan per
 * directory, merged by name), classify every item with reconcile, and
 * build a plan. Before anything is deleted the plan is checked: a failed
 * or suspiciously empty listing stops the sync with nothing deleted, and a
 * plan that deletes more than the threshold waits for a person to confirm.
 * Then the plan runs: directories in order (parents first), then files
 * with as many transfers at once as the share allows (their rows committed
 * in groups, their new versions read in batches: sync_commit.c), then
 * directory deletions; an abort stops between items.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h> /* struct timespec */

#include "log.h"
#include "sync_int.h"
#include "util.h"

void
sync_args_free(void *arg)
{
    struct sync_args *a = arg;
    if (!a)
        return;
    for (size_t i = 0; i < a->req.n_paths; i++)
        free(a->paths[i]);
    free(a);
}

void
sync_input(struct of_reconcile_input *in, const struct of_item *local, const struct of_stat *remote,
           int remote_known)
{
    memset(in, 0, sizeof(*in));
    in->remote_known = remote_known;
    if (local) {
        in->local.exists = local->local.exists && !local->deleted_offline;
        in->local.is_dir = local->type != OF_ITEM_FILE;
        in->local.size = local->local.size;
        in->local.mtime_ns = local->local.mtime_ns;
        in->local.attrs = local->local.attrs;
        memcpy(in->local.hash, local->local.hash, sizeof(in->local.hash));
        in->original.exists = local->original.exists;
        in->original.is_dir = local->type != OF_ITEM_FILE;
        in->original.size = local->original.size;
        in->original.mtime_ns = local->original.mtime_ns;
        in->original.attrs = local->original.attrs;
        memcpy(in->original.etag, local->original.etag, sizeof(in->original.etag));
        memcpy(in->original.hash, local->original.hash, sizeof(in->original.hash));
        in->local_created = local->created_offline;
        in->local_deleted = local->deleted_offline;
        in->local_modified = local->mod_data || local->mod_attrs || local->mod_time;
        in->local_sparse = local->type == OF_ITEM_FILE && (local->ghosted || local->sparse);
    }
    if (remote) {
        in->remote.exists = 1;
        in->remote.is_dir = remote->type == OF_STAT_DIR;
        in->remote.size = remote->size;
        in->remote.mtime_ns = remote->mtime_ns;
        in->remote.attrs = remote->attrs;
        memcpy(in->remote.etag, remote->etag, sizeof(in->remote.etag));
        /* The server's bytes are known when it still has the version we last read. */
        if (local && strcmp(remote->etag, local->remote.etag) == 0)
            memcpy(in->remote.hash, local->remote.hash, sizeof(in->remote.hash));
    }
}

static int
is_push(enum of_sync_op op)
{
    return op == OF_SYNC_OP_CREATE_SERVER_COPY || op == OF_SYNC_OP_SYNC_TO_SERVER ||
           op == OF_SYNC_OP_DELETE_SERVER_COPY;
}

static int
is_pull(enum of_sync_op op)
{
    return op == OF_SYNC_OP_CREATE_CLIENT_COPY || op == OF_SYNC_OP_SYNC_TO_CLIENT ||
           op == OF_SYNC_OP_DELETE_CLIENT_COPY || op == OF_SYNC_OP_FILL;
}

/* Classify one item and add what must happen to the plan. */
static void
plan_item(struct sync_ctx *ctx, const char *path, const struct of_item *local,
          const struct of_stat *remote, int64_t listed)
{
    const struct of_sync_request *req = &ctx->args->req;
    struct plan_entry e = {0};
    sync_input(&e.in, local, remote, 1);
    of_reconcile_classify(&e.in, &e.res);
    e.op = e.res.op;
    if (e.res.conflict) {
        int abort = 0;
        e.op = of_reconcile_resolve(&e.in, &e.res, req->background ? OF_POLICY_ASK : req->policy,
                                    &abort);
        if (abort) {
            ctx->stop = 1;
            of_error_set(&ctx->err, OF_E(ABORTED), "conflict at '%s' (%s): policy abort", path,
                         of_sync_state_name(e.res.state));
            return;
        }
    }
    /* The request's directions and options narrow what runs. */
    if ((is_push(e.op) && !req->out) || (is_pull(e.op) && !req->in))
        e.op = OF_SYNC_OP_NONE;
    if (e.op == OF_SYNC_OP_CREATE_SERVER_COPY && req->no_new_files_out && !e.in.local.is_dir)
        e.op = OF_SYNC_OP_NONE;
    /* A pinned ghost is filled by every sync: pinned means available offline. */
    if (e.op == OF_SYNC_OP_FILL && !req->fill_sparse) {
        struct of_pin_info pi;
        if (!local || of_store_pin_info(ctx->eng->store, local, NULL, &pi, NULL) < 0 || !pi.pinned)
            e.op = OF_SYNC_OP_NONE;
    }
    /* A stable item keeps a plan entry only to retire its stale conflict record. */
    if (e.op == OF_SYNC_OP_NONE && (e.res.conflict || !sync_has_conflict(ctx, path)))
        return;
    if (e.op == OF_SYNC_OP_DELETE_CLIENT_COPY || e.op == OF_SYNC_OP_DELETE_SERVER_COPY)
        ctx->deletions++;
    if (e.op == OF_SYNC_OP_SYNC_TO_SERVER || e.op == OF_SYNC_OP_CREATE_SERVER_COPY)
        ctx->bytes += e.in.local.size;
    if (e.op == OF_SYNC_OP_SYNC_TO_CLIENT || e.op == OF_SYNC_OP_FILL)
        ctx->bytes += e.in.remote.size;
    e.item_id = local ? local->id : 0;
    e.listed = listed;
    e.path = strdup(path);
    if (!e.path)
        return;
    if (ctx->n_plan == ctx->cap_plan) {
        size_t cap = ctx->cap_plan ? ctx->cap_plan * 2 : 64;
        void *grown = realloc(ctx->plan, cap * sizeof(*ctx->plan));
        if (!grown) {
            free(e.path);
            return;
        }
        ctx->plan = grown;
        ctx->cap_plan = cap;
    }
    ctx->plan[ctx->n_plan++] = e;
}

/* Does the walk go into this directory? Only where both sides keep a directory. */
static int
descend(const struct of_item *local, const struct of_stat *remote)
{
    int ldir = local && local->type != OF_ITEM_FILE && !local->deleted_offline;
    int rdir = remote && remote->type == OF_STAT_DIR;
    if (ldir && rdir)
        return 1;
    /* New on one side: everything below is new too, and gets planned as such. */
    if (ldir && !remote && local->created_offline)
        return 1;
    if (rdir && !local)
        return 1;
    return 0;
}

struct subdir {
    char *path;
    int have_remote;
};

struct walk {
    struct sync_ctx *ctx;
    const char *dir;
    struct of_dirent *ents;
    size_t n, i;
    struct subdir *subs;
    size_t n_subs, cap_subs;
    int64_t cached_children; /* children the cache knows to exist on the server */
    int64_t listed;          /* as plan_entry.listed */
};

static void
queue_subdir(struct walk *w, const char *path, int have_remote)
{
    if (w->n_subs == w->cap_subs) {
        size_t cap = w->cap_subs ? w->cap_subs * 2 : 16;
        void *grown = realloc(w->subs, cap * sizeof(*w->subs));
        if (!grown)
            return;
        w->subs = grown;
        w->cap_subs = cap;
    }
    w->subs[w->n_subs].path = strdup(path);
    w->subs[w->n_subs].have_remote = have_remote;
    if (w->subs[w->n_subs].path)
        w->n_subs++;
}

static void
visit_pair(struct walk *w, const char *name, const struct of_item *local,
           const struct of_stat *remote)
{
    char path[OF_PATH_MAX + 1];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", w->dir, name) >= sizeof(path))
        return; /* a server name too long for a share path: not ours to sync */
    if (local && w->ctx->args->req.skip_suspended && local->suspended)
        return;
    plan_item(w->ctx, path, local, remote, w->listed);
    if (!w->ctx->stop && descend(local, remote))
        queue_subdir(w, path, remote != NULL);
}

int
sync_cmp_dirent(const void *a, const void *b)
{
    return strcmp(((const struct of_dirent *)a)->name, ((const struct of_dirent *)b)->name);
}

/* Local children arrive in name order; the sorted remote entries are merged in. */
static int
merge_child(void *arg, const struct of_item *it)
{
    struct walk *w = arg;
    const char *name = of_path_name(it->path);
    if (it->original.exists)
        w->cached_children++;
    while (w->i < w->n && strcmp(w->ents[w->i].name, name) < 0) {
        visit_pair(w, w->ents[w->i].name, NULL, &w->ents[w->i].st);
        w->i++;
    }
    if (w->i < w->n && strcmp(w->ents[w->i].name, name) == 0) {
        visit_pair(w, name, it, &w->ents[w->i].st);
        w->i++;
    } else {
        visit_pair(w, name, it, NULL);
    }
    return w->ctx->stop ? 1 : 0;
}

static void walk_dir(struct sync_ctx *ctx, const char *dir, int have_remote);

static void
walk_dir(struct sync_ctx *ctx, const char *dir, int have_remote)
{
    struct walk w = {.ctx = ctx, .dir = dir};
    const char *rel = dir + strlen(ctx->root);
    rel += *rel == '/';
    if (engine_job_aborted(ctx->job) || ctx->stop || ctx->unavailable)
        return;
    if (have_remote) {
        int rc = ctx->share->be->ops->list(ctx->share->be, rel, &w.ents, &w.n, &ctx->err);
        /*
         * Never read a failure as a deletion: an error, or a directory that
         * vanished between its parent's listing and its own, makes the share
         * unavailable for this sync and nothing is deleted.
         */
        if (rc < 0) {
            ctx->unavailable = 1;
            if (rc == OF_E(NOT_FOUND))
                of_error_set(&ctx->err, OF_E(UNAVAILABLE),
                             "'%s' disappeared while it was being listed", dir);
            return;
        }
        w.listed = (int64_t)w.n;
        if (w.n)
            qsort(w.ents, w.n, sizeof(*w.ents), sync_cmp_dirent);
    }
    of_store_item_scan(ctx->eng->store, dir, 1, "", SIZE_MAX, merge_child, &w, NULL, NULL);
    while (!ctx->stop && w.i < w.n) {
        visit_pair(&w, w.ents[w.i].name, NULL, &w.ents[w.i].st);
        w.i++;
    }
    /* An empty share root that had content is an unmounted or failing server, not a wipe. */
    if (have_remote && w.n == 0 && w.cached_children > 0 && strcmp(dir, ctx->root) == 0) {
        ctx->unavailable = 1;
        of_error_set(&ctx->err, OF_E(UNAVAILABLE),
                     "the share root lists empty but held %lld item(s): treated as unavailable",
                     (long long)w.cached_children);
    }
    free(w.ents);
    for (size_t i = 0; i < w.n_subs; i++) {
        walk_dir(ctx, w.subs[i].path, w.subs[i].have_remote);
        free(w.subs[i].path);
    }
    free(w.subs);
}

/* Plan one requested path: a file on its own, or a directory tree. */
static void
plan_path(struct sync_ctx *ctx, const char *path)
{
    struct of_item *it = &ctx->scratch;
    struct of_stat st;
    const char *rel = path + strlen(ctx->root);
    rel += *rel == '/';
    if (of_store_item_get(ctx->eng->store, path, it, &ctx->err) < 0) {
        ctx->stop = 1;
        return;
    }
    int rc = ctx->share->be->ops->stat(ctx->share->be, rel, &st, &ctx->err);
    if (rc < 0 && rc != OF_E(NOT_FOUND)) {
        ctx->unavailable = 1;
        return;
    }
    if (it->type == OF_ITEM_SHARE) {
        if (rc < 0) {
            ctx->unavailable = 1; /* a share root never "disappears": it is unreachable */
            return;
        }
        walk_dir(ctx, path, 1);
        return;
    }
    struct of_item copy = *it;
    struct walk w = {.ctx = ctx, .listed = -1};
    char parent[OF_PATH_MAX + 1];
    of_path_parent(path, parent, sizeof(parent));
    w.dir = parent;
    visit_pair(&w, of_path_name(path), &copy, rc == 0 ? &st : NULL);
    for (size_t i = 0; i < w.n_subs; i++) {
        walk_dir(ctx, w.subs[i].path, w.subs[i].have_remote);
        free(w.subs[i].path);
    }
    free(w.subs);
}

static int
count_item(void *ctx, const struct of_item *it)
{
    (void)it;
    (*(int64_t *)ctx)++;
    return 0;
}

/* Would the plan delete more than the thresholds allow without a person's word? */
static int
too_many_deletions(struct sync_ctx *ctx)
{
    if (ctx->args->req.allow_mass_delete || ctx->deletions == 0)
        return 0;
    int64_t items = 0;
    of_store_item_scan(ctx->eng->store, ctx->root, 0, "", SIZE_MAX, count_item, &items, NULL, NULL);
    const struct of_engine *eng = ctx->eng;
    if (ctx->deletions > eng->mass_delete_count)
        return 1;
    return ctx->deletions > MASS_DELETE_MIN &&
           ctx->deletions * 100 > items * (int64_t)eng->mass_delete_percent;
}

static void
record_item(struct sync_ctx *ctx, const struct plan_entry *e, int rc, const struct of_error *err,
            int conflict)
{
    struct of_job_item *ji = calloc(1, sizeof(*ji));
    if (!ji)
        return;
    snprintf(ji->path, sizeof(ji->path), "%s", e->path);
    ji->operation = (int)e->op;
    ji->sync_state = (int)e->res.state;
    ji->result = rc;
    ji->conflict = conflict;
    ji->change_flags = e->res.item_change;
    snprintf(ji->message, sizeof(ji->message), "%s",
             rc < 0     ? err->detail
             : conflict ? "conflict recorded"
                        : "ok");
    if (rc < 0 || conflict) {
        ji->have_copies = 1;
        const struct of_side *sides[3] = {&e->in.local, &e->in.remote, &e->in.original};
        struct of_copy *copies[3] = {&ji->local, &ji->remote, &ji->original};
        for (int i = 0; i < 3; i++) {
            copies[i]->exists = sides[i]->exists;
            copies[i]->size = sides[i]->size;
            copies[i]->mtime_ns = sides[i]->mtime_ns;
            copies[i]->attrs = sides[i]->attrs;
        }
    }
    engine_job_item(ctx->eng, ctx->job, ji);
    free(ji);
    struct of_event *ev = malloc(sizeof(*ev));
    if (ev) {
        of_event_init(ev, OF_EV_SyncFileResult, e->path);
        ev->job_id = engine_job_id(ctx->job);
        ev->result = rc;
        ev->sync_state = (int)e->res.state;
        ev->operation = (int)e->op;
        ev->flag_a = conflict;
        engine_publish(ctx->eng, ev);
        free(ev);
    }
}

/* Account for entry e's result; the lock guards the job's records and ctx->err. */
void
sync_account(struct sync_ctx *ctx, struct plan_entry *e, int rc, const struct of_error *errp)
{
    struct of_error err = *errp;
    int conflict = rc == 0 && e->op == OF_SYNC_OP_CONFLICT;
    int64_t moved = e->op == OF_SYNC_OP_SYNC_TO_SERVER || e->op == OF_SYNC_OP_CREATE_SERVER_COPY
                        ? e->in.local.size
                    : e->op == OF_SYNC_OP_SYNC_TO_CLIENT || e->op == OF_SYNC_OP_FILL
                        ? e->in.remote.size
                        : 0;
    pthread_mutex_lock(&ctx->lock);
    record_item(ctx, e, rc, &err, conflict);
    engine_job_progress(ctx->eng, ctx->job, 0, 1, 0, moved);
    if (rc == OF_E(UNAVAILABLE) && !ctx->unavailable) {
        /* The share went away mid-sync: stop; what is done is done, the rest waits. */
        ctx->err = err;
        ctx->unavailable = 1;
    }
    pthread_mutex_unlock(&ctx->lock);
}

/* Run one entry and account for it (a deferred push: once the committer has its row). */
static void
run_entry(struct sync_ctx *ctx, struct plan_entry *e)
{
    struct of_error err = {0};
    int rc = sync_exec(ctx, e, &err);
    if (rc != SYNC_DEFERRED)
        sync_account(ctx, e, rc, &err);
    if (e->batch)
        sync_batch_ran(ctx, e->batch);
}

static int
stopped(struct sync_ctx *ctx)
{
    pthread_mutex_lock(&ctx->lock);
    int stop = ctx->unavailable || engine_job_aborted(ctx->job);
    pthread_mutex_unlock(&ctx->lock);
    return stop;
}

/* Directories are created (and adopted) in plan order, parents first, and deleted last. */
static int
is_dir_entry(const struct plan_entry *e)
{
    return e->in.local.is_dir || e->in.remote.is_dir;
}

static int
is_delete(const struct plan_entry *e)
{
    return e->op == OF_SYNC_OP_DELETE_CLIENT_COPY || e->op == OF_SYNC_OP_DELETE_SERVER_COPY;
}

struct file_phase {
    struct sync_ctx *ctx;
    size_t next;
};

/* A transfer worker: takes the next file entry until none is left. */
static void *
file_worker(void *arg)
{
    of_thread_name("of-sync");
    struct file_phase *fp = arg;
    struct sync_ctx *ctx = fp->ctx;
    for (;;) {
        pthread_mutex_lock(&ctx->lock);
        size_t i = fp->next;
        while (i < ctx->n_plan && is_dir_entry(&ctx->plan[i]))
            i++;
        fp->next = i + 1;
        pthread_mutex_unlock(&ctx->lock);
        if (i >= ctx->n_plan || stopped(ctx))
            return NULL;
        run_entry(ctx, &ctx->plan[i]);
    }
}

/*
 * Directories first (in order), then files with as many transfers at once
 * as the share allows (each file's parent exists by then), then directory
 * deletions. Each entry is whole or not done; an abort stops between them.
 */
static void
run_plan(struct sync_ctx *ctx)
{
    engine_job_progress(ctx->eng, ctx->job, (int64_t)ctx->n_plan, 0, ctx->bytes, 0);
    for (size_t i = 0; i < ctx->n_plan && !stopped(ctx); i++)
        if (is_dir_entry(&ctx->plan[i]) && !is_delete(&ctx->plan[i]))
            run_entry(ctx, &ctx->plan[i]);
    struct file_phase fp = {ctx, 0};
    int n = ctx->share->rec.transfers > 0 ? ctx->share->rec.transfers : 4;
    pthread_t workers[32];
    int started = 0;
    if (sync_committer_start(ctx) == 0)
        sync_batches_plan(ctx);
    for (int i = 1; i < n && i < 32; i++)
        if (pthread_create(&workers[started], NULL, file_worker, &fp) == 0)
            started++;
    file_worker(&fp);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i], NULL);
    sync_batches_finish(ctx);
    sync_committer_stop(ctx);
    for (size_t i = ctx->n_plan; i-- > 0 && !stopped(ctx);)
        if (is_dir_entry(&ctx->plan[i]) && is_delete(&ctx->plan[i]))
            run_entry(ctx, &ctx->plan[i]);
    if (ctx->unavailable)
        engine_share_failed(ctx->eng, ctx->share, &ctx->err);
}

static void
plan_free(struct sync_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_plan; i++)
        free(ctx->plan[i].path);
    free(ctx->plan);
    ctx->plan = NULL;
    ctx->n_plan = ctx->cap_plan = 0;
    ctx->deletions = ctx->bytes = 0;
}

/* Record the deletions that wait for confirmation as one massDelete record. */
static void
hold_deletions(struct sync_ctx *ctx)
{
    struct of_conflict_rec *rec = calloc(1, sizeof(*rec));
    if (!rec)
        return;
    snprintf(rec->path, sizeof(rec->path), "%s", ctx->root);
    snprintf(rec->kind, sizeof(rec->kind), "massDelete");
    rec->sync_state = -1;
    rec->count = ctx->deletions;
    rec->detected_ns = rec->updated_ns = of_now_ns();
    int added = 0;
    if (of_store_conflict_put(ctx->eng->store, rec, &added, NULL) == 0) {
        struct of_event ev;
        of_event_init(&ev, added ? OF_EV_SyncConflictRecAdded : OF_EV_SyncConflictRecUpdated,
                      ctx->root);
        ev.job_id = engine_job_id(ctx->job);
        ev.n_a = ctx->deletions;
        snprintf(ev.text, sizeof(ev.text), "massDelete");
        engine_publish(ctx->eng, &ev);
    }
    free(rec);
}

static int
has_synced_child(void *arg, const struct of_item *it)
{
    if (it->original.exists) {
        *(int *)arg = 1;
        return 1;
    }
    return 0;
}

/*
 * Before anything below a share is judged, the share root must answer: a
 * root that cannot be listed, or lists empty while the cache knows synced
 * children of it, is an unmounted or failing server, so nothing is deleted.
 */
static void
root_check(struct sync_ctx *ctx)
{
    struct of_dirent *ents = NULL;
    size_t n = 0;
    int rc = ctx->share->be->ops->list(ctx->share->be, "", &ents, &n, &ctx->err);
    free(ents);
    if (rc < 0) {
        ctx->unavailable = 1;
        if (rc == OF_E(NOT_FOUND))
            of_error_set(&ctx->err, OF_E(UNAVAILABLE), "the share root cannot be found");
        return;
    }
    int known = 0;
    if (n == 0)
        of_store_item_scan(ctx->eng->store, ctx->root, 1, "", SIZE_MAX, has_synced_child, &known,
                           NULL, NULL);
    if (known) {
        ctx->unavailable = 1;
        of_error_set(&ctx->err, OF_E(UNAVAILABLE),
                     "the share root lists empty but the cache knows its content: treated as "
                     "unavailable");
    }
}

/* Sync the requested paths that lie in one share. */
static int
sync_share(struct sync_ctx *ctx, const char *server, const char *share)
{
    int rc = engine_share_acquire(ctx->eng, server, share, &ctx->share, &ctx->err);
    if (rc < 0)
        return rc;
    snprintf(ctx->root, sizeof(ctx->root), "//%s/%s", server, share);
    if (!engine_share_online(ctx->eng, ctx->share)) {
        engine_share_release(ctx->eng, ctx->share);
        return of_error_set(&ctx->err, OF_E(UNAVAILABLE), "%s is offline", ctx->root);
    }
    const struct sync_args *a = ctx->args;
    /* Two syncs of one share would do the same work twice and race into false conflicts. */
    pthread_mutex_lock(&ctx->share->sync_lock);
    sync_conflicts_load(ctx);
    root_check(ctx);
    for (size_t i = 0; i < a->req.n_paths && !ctx->stop && !ctx->unavailable; i++)
        if (of_path_is_under(a->paths[i], ctx->root))
            plan_path(ctx, a->paths[i]);
    rc = 0;
    if (ctx->unavailable) {
        /* Nothing from a partial walk runs: a missing listing must not look like deletions. */
        engine_share_failed(ctx->eng, ctx->share, &ctx->err);
        rc = ctx->err.code ? ctx->err.code : OF_E(UNAVAILABLE);
    } else if (!ctx->stop && too_many_deletions(ctx)) {
        hold_deletions(ctx);
        rc = of_error_set(&ctx->err, OF_E(CONFLICT),
                          "the sync would delete %lld item(s) in %s; confirm through the "
                          "massDelete conflict record",
                          (long long)ctx->deletions, ctx->root);
    } else if (!ctx->stop) {
        run_plan(ctx);
        if (ctx->unavailable)
            rc = ctx->err.code ? ctx->err.code : OF_E(UNAVAILABLE);
    }
    plan_free(ctx);
    sync_conflicts_free(ctx);
    pthread_mutex_unlock(&ctx->share->sync_lock);
    engine_share_release(ctx->eng, ctx->share);
    ctx->share = NULL;
    return ctx->stop ? ctx->err.code : rc;
}

int
sync_job_run(struct of_engine *eng, struct job *job, void *arg)
{
    struct sync_args *a = arg;
    struct sync_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return OF_E(NOMEM);
    ctx->eng = eng;
    ctx->job = job;
    ctx->args = a;
    pthread_mutex_init(&ctx->lock, NULL);
    struct of_event ev;
    of_event_init(&ev, a->req.background ? OF_EV_BackgroundSyncBegin : OF_EV_SyncBegin, NULL);
    ev.job_id = engine_job_id(job);
    engine_publish(eng, &ev);
    int rc = 0;
    /* Group the paths by share; each share is walked and run on its own. */
    for (size_t i = 0; i < a->req.n_paths && rc != OF_E(ABORTED); i++) {
        char server[OF_SEGMENT_MAX + 1], share[OF_SEGMENT_MAX + 1], root[OF_PATH_MAX + 1];
        of_path_split(a->paths[i], server, share, NULL);
        snprintf(root, sizeof(root), "//%s/%s", server, share);
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = of_path_is_under(a->paths[j], root);
        if (seen)
            continue;
        int r = sync_share(ctx, server, share);
        if (r < 0 && rc == 0) {
            rc = r;
            engine_job_message(eng, job, ctx->err.detail);
        }
        if (r < 0)
            of_log_info("sync %lld: %s: %s", (long long)engine_job_id(job), root, ctx->err.detail);
    }
    of_event_init(&ev, a->req.background ? OF_EV_BackgroundSyncEnd : OF_EV_SyncEnd, NULL);
    ev.job_id = engine_job_id(job);
    ev.result = engine_job_aborted(job) ? OF_E(ABORTED) : rc;
    snprintf(ev.text, sizeof(ev.text), "%s", rc < 0 ? ctx->err.detail : "");
    engine_publish(eng, &ev);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx);
    return rc;
}
