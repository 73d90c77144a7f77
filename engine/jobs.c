/* SPDX-License-Identifier: MIT */
/*
 * Jobs: long operations (sync, pin, unpin, delete) run on engine worker
 * threads. A job is persisted when queued, when it starts and ends, and
 * every so often while it runs; its item results are written in batches.
 * Abort is cooperative: the work checks engine_job_aborted between items,
 * so nothing is left half-written. Jobs that were queued or running when
 * the daemon stopped are marked interrupted at the next start.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"
#include "util.h"

#define PERSIST_EVERY_NS (500LL * 1000000) /* progress and item results, at most this stale */
#define ITEMS_BATCH 256

struct waiter {
    void (*done)(void *ctx);
    void *ctx;
    struct waiter *next;
};

struct job {
    struct of_job_rec rec; /* guarded by the runner lock while the job is active */
    job_fn fn;
    void *arg;
    void (*free_arg)(void *arg);
    atomic_int abort;
    int ended;
    struct waiter *waiters;
    struct job *next_queued, *next_active;
    /* Item results not yet in the store; only the worker touches them. */
    struct of_job_item *items;
    size_t n_items;
    int64_t next_seq;
    int64_t persisted_ns;
};

static void
job_free(struct job *j)
{
    if (!j)
        return;
    if (j->free_arg)
        j->free_arg(j->arg);
    free(j->items);
    for (struct waiter *w = j->waiters, *next; w; w = next) {
        next = w->next;
        free(w);
    }
    free(j);
}

/* Write pending item results and the job row; called by the worker only. */
static void
persist(struct of_engine *eng, struct job *j)
{
    struct of_job_rec rec;
    if (j->n_items && of_store_begin(eng->store, NULL) == 0) {
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < j->n_items; i++)
            rc = of_store_job_item_add(eng->store, &j->items[i], NULL);
        if (rc == 0)
            of_store_commit(eng->store, NULL);
        else
            of_store_rollback(eng->store);
    }
    j->n_items = 0;
    pthread_mutex_lock(&eng->jobs.lock);
    rec = j->rec;
    pthread_mutex_unlock(&eng->jobs.lock);
    of_store_job_put(eng->store, &rec, NULL);
    j->persisted_ns = of_now_ns();
}

static void
publish_progress(struct of_engine *eng, struct job *j)
{
    struct of_event *ev = malloc(sizeof(*ev));
    if (!ev)
        return;
    of_event_init(ev, OF_EV_JobProgress, NULL);
    pthread_mutex_lock(&eng->jobs.lock);
    ev->job_id = j->rec.id;
    ev->n_a = j->rec.items_done;
    ev->n_b = j->rec.items_total;
    ev->n_c = j->rec.bytes_done;
    ev->n_d = j->rec.bytes_total;
    snprintf(ev->text, sizeof(ev->text), "%s", j->rec.state);
    pthread_mutex_unlock(&eng->jobs.lock);
    engine_publish(eng, ev);
    free(ev);
}

static void
set_state(struct of_engine *eng, struct job *j, const char *state, int result, const char *msg)
{
    pthread_mutex_lock(&eng->jobs.lock);
    snprintf(j->rec.state, sizeof(j->rec.state), "%s", state);
    if (strcmp(state, "running") == 0)
        j->rec.started_ns = of_now_ns();
    else
        j->rec.ended_ns = of_now_ns();
    j->rec.result = result;
    if (msg)
        snprintf(j->rec.message, sizeof(j->rec.message), "%s", msg);
    pthread_mutex_unlock(&eng->jobs.lock);
}

/* Take the job off the active list and call its waiters, then free it. */
static void
finish(struct of_engine *eng, struct job *j)
{
    struct job_runner *r = &eng->jobs;
    pthread_mutex_lock(&r->lock);
    for (struct job **p = &r->active; *p; p = &(*p)->next_active) {
        if (*p == j) {
            *p = j->next_active;
            break;
        }
    }
    j->ended = 1;
    struct waiter *w = j->waiters;
    j->waiters = NULL;
    pthread_mutex_unlock(&r->lock);
    for (struct waiter *next; w; w = next) {
        next = w->next;
        w->done(w->ctx);
        free(w);
    }
    job_free(j);
}

static void
run_one(struct of_engine *eng, struct job *j)
{
    set_state(eng, j, "running", 0, NULL);
    persist(eng, j);
    publish_progress(eng, j);
    int rc = atomic_load(&j->abort) ? 0 : j->fn(eng, j, j->arg);
    /* Results first: whoever sees the final state must find every result written. */
    persist(eng, j);
    pthread_mutex_lock(&eng->jobs.lock);
    int stopping = !eng->jobs.running;
    pthread_mutex_unlock(&eng->jobs.lock);
    if (atomic_load(&j->abort) && stopping)
        set_state(eng, j, "interrupted", OF_E(ABORTED),
                  "the daemon stopped while the job ran; a rerun completes the rest");
    else if (atomic_load(&j->abort))
        set_state(eng, j, "aborted", OF_E(ABORTED),
                  "aborted on request; a rerun completes the rest");
    else if (rc < 0)
        set_state(eng, j, "failed", rc, j->rec.message[0] ? NULL : of_error_title(rc));
    else
        set_state(eng, j, "succeeded", 0, NULL);
    persist(eng, j);
    publish_progress(eng, j);
    finish(eng, j);
}

static void *
worker(void *arg)
{
    of_thread_name("of-job");
    struct of_engine *eng = arg;
    struct job_runner *r = &eng->jobs;
    pthread_mutex_lock(&r->lock);
    while (r->running) {
        struct job *j = r->queue;
        if (!j) {
            pthread_cond_wait(&r->wake, &r->lock);
            continue;
        }
        r->queue = j->next_queued;
        if (!r->queue)
            r->queue_tail = NULL;
        pthread_mutex_unlock(&r->lock);
        run_one(eng, j);
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int
engine_jobs_start(struct of_engine *eng, struct of_error *reterr)
{
    struct job_runner *r = &eng->jobs;
    int rc = of_store_job_interrupt_all(eng->store, of_now_ns(), reterr);
    if (rc < 0)
        return rc;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    r->running = 1;
    for (int i = 0; i < 2; i++) {
        if (pthread_create(&r->threads[i], NULL, worker, eng) != 0)
            break;
        r->n_threads++;
    }
    if (r->n_threads == 0) {
        r->running = 0;
        return of_error_set(reterr, OF_E(INTERNAL), "cannot start job workers");
    }
    return 0;
}

void
engine_jobs_stop(struct of_engine *eng)
{
    struct job_runner *r = &eng->jobs;
    if (!r->n_threads)
        return;
    pthread_mutex_lock(&r->lock);
    r->running = 0;
    for (struct job *j = r->active; j; j = j->next_active)
        atomic_store(&j->abort, 1);
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
    for (int i = 0; i < r->n_threads; i++)
        pthread_join(r->threads[i], NULL);
    r->n_threads = 0;
    /* Jobs still queued never ran: they stay "queued" in the store, interrupted at next start. */
    for (struct job *j = r->queue, *next; j; j = next) {
        next = j->next_queued;
        finish(eng, j);
    }
    r->queue = r->queue_tail = NULL;
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
}

int
engine_job_submit(struct of_engine *eng, const char *kind, const char *user, job_fn fn, void *arg,
                  void (*free_arg)(void *arg), int64_t *ret_id, struct of_error *reterr)
{
    struct job_runner *r = &eng->jobs;
    struct job *j = calloc(1, sizeof(*j));
    if (!j) {
        if (free_arg)
            free_arg(arg);
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    }
    j->fn = fn;
    j->arg = arg;
    j->free_arg = free_arg;
    snprintf(j->rec.kind, sizeof(j->rec.kind), "%s", kind);
    snprintf(j->rec.state, sizeof(j->rec.state), "queued");
    snprintf(j->rec.created_by, sizeof(j->rec.created_by), "%s", user ? user : "");
    j->rec.created_ns = of_now_ns();
    int rc = of_store_job_put(eng->store, &j->rec, reterr);
    if (rc < 0) {
        job_free(j);
        return rc;
    }
    pthread_mutex_lock(&r->lock);
    if (!r->running) {
        pthread_mutex_unlock(&r->lock);
        job_free(j);
        return of_error_set(reterr, OF_E(UNAVAILABLE), "the daemon is stopping");
    }
    j->next_active = r->active;
    r->active = j;
    if (r->queue_tail)
        r->queue_tail->next_queued = j;
    else
        r->queue = j;
    r->queue_tail = j;
    *ret_id = j->rec.id;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    return 0;
}

void
engine_job_message(struct of_engine *eng, struct job *job, const char *message)
{
    pthread_mutex_lock(&eng->jobs.lock);
    snprintf(job->rec.message, sizeof(job->rec.message), "%s", message);
    pthread_mutex_unlock(&eng->jobs.lock);
}

int64_t
engine_job_id(const struct job *job)
{
    return job->rec.id;
}

int
engine_job_aborted(const struct job *job)
{
    return atomic_load(&job->abort);
}

void
engine_job_progress(struct of_engine *eng, struct job *job, int64_t items_total, int64_t items_done,
                    int64_t bytes_total, int64_t bytes_done)
{
    pthread_mutex_lock(&eng->jobs.lock);
    job->rec.items_total += items_total;
    job->rec.items_done += items_done;
    job->rec.bytes_total += bytes_total;
    job->rec.bytes_done += bytes_done;
    pthread_mutex_unlock(&eng->jobs.lock);
    if (of_now_ns() - job->persisted_ns > PERSIST_EVERY_NS) {
        persist(eng, job);
        publish_progress(eng, job);
    }
}

void
engine_job_item(struct of_engine *eng, struct job *job, struct of_job_item *item)
{
    item->job_id = job->rec.id;
    item->seq = ++job->next_seq;
    struct of_event *ev = malloc(sizeof(*ev));
    if (ev) {
        of_event_init(ev, OF_EV_JobItemResult, item->path);
        ev->job_id = item->job_id;
        ev->result = item->result;
        ev->sync_state = item->sync_state;
        ev->operation = item->operation;
        ev->flag_a = item->conflict;
        snprintf(ev->text, sizeof(ev->text), "%s", item->message);
        engine_publish(eng, ev);
        free(ev);
    }
    if (job->n_items % ITEMS_BATCH == 0) {
        void *grown = realloc(job->items, (job->n_items + ITEMS_BATCH) * sizeof(*job->items));
        if (!grown) {
            persist(eng, job);
            grown = realloc(job->items, ITEMS_BATCH * sizeof(*job->items));
            if (!grown)
                return;
        }
        job->items = grown;
    }
    job->items[job->n_items++] = *item;
    if (job->n_items >= ITEMS_BATCH || of_now_ns() - job->persisted_ns > PERSIST_EVERY_NS)
        persist(eng, job);
}

/* The active job with id, with the runner lock held; NULL if none. */
static struct job *
find_active(struct job_runner *r, int64_t id)
{
    for (struct job *j = r->active; j; j = j->next_active)
        if (j->rec.id == id)
            return j;
    return NULL;
}

int
of_engine_job_get(struct of_engine *eng, int64_t id, struct of_job_rec *ret_rec,
                  struct of_error *reterr)
{
    struct job_runner *r = &eng->jobs;
    pthread_mutex_lock(&r->lock);
    struct job *j = find_active(r, id);
    if (j)
        *ret_rec = j->rec;
    pthread_mutex_unlock(&r->lock);
    return j ? 0 : of_store_job_get(eng->store, id, ret_rec, reterr);
}

struct list_ctx {
    struct of_engine *eng;
    int (*cb)(void *ctx, const struct of_job_rec *rec);
    void *ctx;
};

/* Rows of active jobs are a little stale in the store: show the live record. */
static int
list_one(void *ctx, const struct of_job_rec *rec)
{
    struct list_ctx *lc = ctx;
    struct of_job_rec live = *rec;
    pthread_mutex_lock(&lc->eng->jobs.lock);
    struct job *j = find_active(&lc->eng->jobs, rec->id);
    if (j)
        live = j->rec;
    pthread_mutex_unlock(&lc->eng->jobs.lock);
    return lc->cb(lc->ctx, &live);
}

int
of_engine_job_list(struct of_engine *eng, int64_t before_id, size_t max,
                   int (*cb)(void *ctx, const struct of_job_rec *rec), void *ctx,
                   struct of_error *reterr)
{
    struct list_ctx lc = {eng, cb, ctx};
    return of_store_job_scan(eng->store, before_id, max, list_one, &lc, reterr);
}

int
of_engine_job_items(struct of_engine *eng, int64_t id, int64_t after, size_t max,
                    int (*cb)(void *ctx, const struct of_job_item *item), void *ctx,
                    struct of_error *reterr)
{
    struct of_job_rec rec;
    int rc = of_engine_job_get(eng, id, &rec, reterr);
    if (rc < 0)
        return rc;
    return of_store_job_item_scan(eng->store, id, after, max, cb, ctx, reterr);
}

int
of_engine_job_abort(struct of_engine *eng, int64_t id, struct of_error *reterr)
{
    struct job_runner *r = &eng->jobs;
    pthread_mutex_lock(&r->lock);
    struct job *j = find_active(r, id);
    /* A job that has just ended but is not yet off the list has nothing left to abort. */
    if (j && (strcmp(j->rec.state, "queued") == 0 || strcmp(j->rec.state, "running") == 0))
        atomic_store(&j->abort, 1);
    else
        j = NULL;
    pthread_mutex_unlock(&r->lock);
    if (j)
        return 0;
    struct of_job_rec rec;
    int rc = of_store_job_get(eng->store, id, &rec, reterr);
    return rc < 0 ? rc
                  : of_error_set(reterr, OF_E(CONFLICT), "job %lld already ended (%s)",
                                 (long long)id, rec.state);
}

int
of_engine_job_on_done(struct of_engine *eng, int64_t id, void (*done)(void *ctx), void *ctx,
                      struct of_error *reterr)
{
    struct job_runner *r = &eng->jobs;
    struct waiter *w = malloc(sizeof(*w));
    if (!w)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    w->done = done;
    w->ctx = ctx;
    pthread_mutex_lock(&r->lock);
    struct job *j = find_active(r, id);
    if (j) {
        w->next = j->waiters;
        j->waiters = w;
    }
    pthread_mutex_unlock(&r->lock);
    if (j)
        return 0;
    free(w);
    struct of_job_rec rec;
    int rc = of_store_job_get(eng->store, id, &rec, reterr);
    if (rc == 0)
        done(ctx);
    return rc;
}
