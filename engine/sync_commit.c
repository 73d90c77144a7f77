/* SPDX-License-Identifier: MIT */
/*
 * Where a sync's pushed files go after their PUT, in the file phase: the
 * committer, which commits their rows in groups (one transaction and one
 * log sync for dozens of rows) while the workers go on with the next files;
 * and the batches, which read the new versions of many pushes into one
 * directory from one listing of it, where the backend's write reply does not
 * name them (versions_by_listing).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h> /* struct timespec */

#include "sync_int.h"
#include "util.h"

/* ---- the committer ---- */

/* Pushes queued before a worker waits for the committer to take them. */
#define DEFER_MAX 256
/*
 * The committer gathers a group for up to GATHER_MS after its first row, or
 * until GROUP_FULL rows wait: no worker waits for it, so the delay costs only
 * the rows' visibility, and each log sync then covers dozens of rows.
 */
#define GATHER_MS 5
#define GROUP_FULL 64

struct sync_committer {
    struct sync_ctx *ctx;
    pthread_mutex_t lock;
    pthread_cond_t work, room; /* something queued, or closing; the queue was taken */
    struct sync_deferred *head, *tail;
    size_t queued;
    int closing; /* no more pushes: finish the queue and return */
    pthread_t thread;
};

int
sync_defer(struct sync_ctx *ctx, struct sync_deferred *d)
{
    struct sync_committer *cm = ctx->committer;
    d->next = NULL;
    pthread_mutex_lock(&cm->lock);
    while (cm->queued >= DEFER_MAX)
        pthread_cond_wait(&cm->room, &cm->lock);
    if (cm->tail)
        cm->tail->next = d;
    else
        cm->head = d;
    cm->tail = d;
    if (cm->queued++ == 0 || cm->queued == GROUP_FULL)
        pthread_cond_signal(&cm->work);
    pthread_mutex_unlock(&cm->lock);
    return SYNC_DEFERRED;
}

/*
 * Commit the rows of list (n of them, at most DEFER_MAX: sync_defer waits
 * beyond that) in one transaction, then finish and account for each.
 */
static void
commit_deferred(struct sync_ctx *ctx, struct sync_deferred *list, size_t n)
{
    struct op_commit *v[DEFER_MAX] = {0};
    size_t i = 0;
    for (struct sync_deferred *d = list; d && i < n; d = d->next)
        v[i++] = &d->c;
    engine_ops_commit(ctx->eng, v, i);
    while (list) {
        struct sync_deferred *d = list;
        list = d->next;
        int rc = sync_push_finish(ctx, d);
        sync_account(ctx, d->e, rc, &d->err);
        free(d);
    }
}

/*
 * Takes what the workers queued, all of it at once: while it commits one
 * group (and syncs SQLite's log), the next one gathers, so the rows of many
 * pushes share one log sync and no worker waits for it.
 */
static void *
committer(void *arg)
{
    of_thread_name("of-commit");
    struct sync_committer *cm = arg;
    pthread_mutex_lock(&cm->lock);
    for (;;) {
        while (!cm->head && !cm->closing)
            pthread_cond_wait(&cm->work, &cm->lock);
        if (!cm->head)
            break;
        struct timespec until;
        of_deadline_ms(&until, GATHER_MS);
        while (cm->queued < GROUP_FULL && !cm->closing &&
               pthread_cond_timedwait(&cm->work, &cm->lock, &until) == 0)
            ;
        struct sync_deferred *list = cm->head;
        size_t n = cm->queued;
        cm->head = cm->tail = NULL;
        cm->queued = 0;
        pthread_cond_broadcast(&cm->room);
        pthread_mutex_unlock(&cm->lock);
        commit_deferred(cm->ctx, list, n);
        pthread_mutex_lock(&cm->lock);
    }
    pthread_mutex_unlock(&cm->lock);
    return NULL;
}

int
sync_committer_start(struct sync_ctx *ctx)
{
    struct sync_committer *cm = calloc(1, sizeof(*cm));
    if (!cm)
        return -1;
    cm->ctx = ctx;
    pthread_mutex_init(&cm->lock, NULL);
    pthread_cond_init(&cm->work, NULL);
    pthread_cond_init(&cm->room, NULL);
    if (pthread_create(&cm->thread, NULL, committer, cm) != 0) {
        pthread_mutex_destroy(&cm->lock);
        pthread_cond_destroy(&cm->work);
        pthread_cond_destroy(&cm->room);
        free(cm);
        return -1;
    }
    ctx->committer = cm;
    return 0;
}

void
sync_committer_stop(struct sync_ctx *ctx)
{
    struct sync_committer *cm = ctx->committer;
    if (!cm)
        return;
    pthread_mutex_lock(&cm->lock);
    cm->closing = 1;
    pthread_cond_signal(&cm->work);
    pthread_mutex_unlock(&cm->lock);
    pthread_join(cm->thread, NULL);
    pthread_mutex_destroy(&cm->lock);
    pthread_cond_destroy(&cm->work);
    pthread_cond_destroy(&cm->room);
    ctx->committer = NULL;
    free(cm);
}

/* ---- batches ---- */

/*
 * A batch holds at most BATCH_MAX pushes: the listing that names their
 * versions follows the last of them, so the batch bounds how long a pushed
 * file waits for it (tens of milliseconds), and so the time in which another
 * writer's change could be taken for ours unnoticed by the size check.
 */
#define BATCH_MAX 128
/*
 * A listing of a directory's N entries costs the server about as much as N
 * / LISTING_PER_REQUEST requests for single files (Apache: about 1 ms for
 * 100 entries against 60 us a HEAD): a batch pays only where its listing is
 * no dearer than the requests it saves.
 */
#define LISTING_PER_REQUEST 4
#define LISTING_FREE 16

static int
batchable(const struct plan_entry *e)
{
    return (e->op == OF_SYNC_OP_SYNC_TO_SERVER || e->op == OF_SYNC_OP_CREATE_SERVER_COPY) &&
           !e->res.conflict && !e->in.local.is_dir && e->listed >= 0;
}

/* Length of the parent part of share path p ("//s/h/a/b" -> "//s/h/a"). */
static size_t
parent_len(const char *p)
{
    const char *slash = strrchr(p, '/');
    return slash ? (size_t)(slash - p) : 0;
}

static int
same_parent(const struct plan_entry *a, const struct plan_entry *b)
{
    size_t n = parent_len(a->path);
    return n == parent_len(b->path) && strncmp(a->path, b->path, n) == 0;
}

/*
 * The walk plans a directory's children together (subdirectories' entries
 * come after), so the pushes into one directory are a run of the plan. Each
 * run of at least two (counting only batchable entries) whose listing pays
 * off becomes batches of up to BATCH_MAX.
 */
static size_t
plan_runs(struct sync_ctx *ctx, int assign)
{
    size_t made = 0;
    for (size_t i = 0; i < ctx->n_plan;) {
        size_t j = i, n = 0;
        while (j < ctx->n_plan && same_parent(&ctx->plan[i], &ctx->plan[j]))
            n += batchable(&ctx->plan[j++]) ? 1 : 0;
        int64_t listed = ctx->plan[i].listed;
        if (n >= 2 && listed <= (int64_t)n * LISTING_PER_REQUEST + LISTING_FREE) {
            size_t in_batch = BATCH_MAX;
            for (size_t k = i; k < j; k++) {
                if (!batchable(&ctx->plan[k]))
                    continue;
                if (in_batch == BATCH_MAX) {
                    in_batch = 0;
                    made++;
                }
                in_batch++;
                if (!assign)
                    continue;
                struct sync_batch *b = &ctx->batches[made - 1];
                if (!b->dir) {
                    const char *rel = ctx->plan[k].path + strlen(ctx->root);
                    rel += *rel == '/';
                    b->dir = strndup(rel, parent_len(rel));
                }
                b->left++;
                ctx->plan[k].batch = b;
            }
        }
        i = j;
    }
    return made;
}

void
sync_batches_plan(struct sync_ctx *ctx)
{
    if (!ctx->committer || !ctx->share->be->ops->versions_by_listing)
        return;
    size_t n = plan_runs(ctx, 0);
    if (!n || !(ctx->batches = calloc(n, sizeof(*ctx->batches))))
        return;
    ctx->n_batches = n;
    plan_runs(ctx, 1);
    /* A batch without its directory's name cannot list it: its pushes go one by one. */
    for (size_t i = 0; i < ctx->n_plan; i++)
        if (ctx->plan[i].batch && !ctx->plan[i].batch->dir)
            ctx->plan[i].batch = NULL;
}

int
sync_batch_add(struct sync_ctx *ctx, struct sync_batch *b, struct sync_deferred *d)
{
    pthread_mutex_lock(&ctx->lock);
    d->next = b->pushed;
    b->pushed = d;
    pthread_mutex_unlock(&ctx->lock);
    return SYNC_DEFERRED;
}

void
sync_batch_ran(struct sync_ctx *ctx, struct sync_batch *b)
{
    pthread_mutex_lock(&ctx->lock);
    struct sync_deferred *list = --b->left == 0 ? b->pushed : NULL;
    if (list)
        b->pushed = NULL;
    pthread_mutex_unlock(&ctx->lock);
    if (list)
        sync_push_settle(ctx, b->dir, list);
}

void
sync_batches_finish(struct sync_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_batches; i++) {
        struct sync_batch *b = &ctx->batches[i];
        if (b->pushed)
            sync_push_settle(ctx, b->dir, b->pushed);
        free(b->dir);
    }
    free(ctx->batches);
    ctx->batches = NULL;
    ctx->n_batches = 0;
}
