/* SPDX-License-Identifier: MIT */
/*
 * Sync internals shared by sync.c (the job: walk, plan, safety checks),
 * sync_exec.c (carrying out one planned operation) and sync_bg.c (starting
 * syncs, background passes, conflict records). Not part of any contract.
 */
#ifndef OF_SYNC_INT_H
#define OF_SYNC_INT_H

#include "engine_int.h"
#include "reconcile.h"

struct sync_batch;

/* One planned operation on one item. */
struct plan_entry {
    char *path; /* owned */
    enum of_sync_op op;
    struct of_reconcile_input in;
    struct of_reconcile_result res;
    int64_t item_id; /* the cached item, 0 when the client has none */
    /* Entries of the parent's listing in the walk; 0: not listed (new there); -1: unknown. */
    int64_t listed;
    struct sync_batch *batch; /* a push whose new version a listing names, or NULL */
};

/*
 * Pushes into one directory whose new versions are read together, from one
 * listing of the directory once the last of them has run, instead of one
 * request per file after its PUT (see versions_by_listing in backend.h).
 */
struct sync_batch {
    char *dir;                    /* share-relative; owned */
    size_t left;                  /* entries not run yet; guarded by ctx->lock */
    struct sync_deferred *pushed; /* written, waiting for the listing; guarded by ctx->lock */
};

/* A sync job's arguments: the request with owned copies of its paths. */
struct sync_args {
    struct of_sync_request req;
    char *paths[OF_SYNC_PATHS_MAX];
    char user[OF_USER_MAX];
    char new_name[OF_SEGMENT_MAX + 1]; /* keepAll from a conflict resolution: the kept copy */
};

struct sync_ctx {
    struct of_engine *eng;
    struct job *job;
    const struct sync_args *args;
    struct share_rt *share;
    char root[2 * OF_SEGMENT_MAX + 4]; /* "//server/share" */
    struct plan_entry *plan;
    size_t n_plan, cap_plan;
    int64_t deletions;   /* items the plan would delete, on either side */
    int64_t bytes;       /* bytes the plan would transfer */
    int unavailable;     /* the share failed during the walk: delete nothing */
    int stop;            /* abort policy or job abort */
    struct of_error err; /* why the walk stopped */
    char **conflicts;    /* paths with a conflict record under the synced share, sorted */
    size_t n_conflicts;
    struct of_item scratch;           /* working space for lookups (the walk's thread only) */
    pthread_mutex_t lock;             /* while the plan runs: job records, err, unavailable */
    struct sync_committer *committer; /* in the file phase (sync_commit.c): where pushes' rows go */
    struct sync_batch *batches;       /* owned, n_batches of them; plan entries point in */
    size_t n_batches;
};

/*
 * A pushed file whose row waits for the file phase's committer: the server
 * has the new version; its row (clean, the new tags) commits with those of
 * other pushes in one transaction and one log sync, while the worker that
 * pushed it goes on with the next file. Owns op until finished.
 */
struct sync_deferred {
    struct op *op;
    struct plan_entry *e;
    struct op_commit c; /* c.op == op; c.rc and c.err are the commit's result */
    struct of_error err;
    struct sync_deferred *next;
};

/* sync_exec's result for an entry whose row the committer (or its batch) will finish. */
#define SYNC_DEFERRED 1

/*
 * sync_commit.c: queue d (malloc'ed, filled but for next) for
 * ctx->committer, waiting while many are queued; it is finished
 * (sync_push_finish), recorded and freed on the committer's thread.
 * Returns SYNC_DEFERRED.
 */
int sync_defer(struct sync_ctx *ctx, struct sync_deferred *d);
/* Start ctx->committer for the file phase: 0, or -1 (then rows commit on the workers). */
int sync_committer_start(struct sync_ctx *ctx);
/* Once no worker pushes any more: the committer finishes its queue and stops. */
void sync_committer_stop(struct sync_ctx *ctx);

/*
 * sync_commit.c: group the plan's pushes into ctx->batches where the
 * backend names versions by listing and the listings are small enough to
 * be cheaper than a request per file. Before the file phase, with the
 * committer running.
 */
void sync_batches_plan(struct sync_ctx *ctx);
/* Park pushed d (the op is written, its row not yet settled) in batch b. Returns SYNC_DEFERRED. */
int sync_batch_add(struct sync_ctx *ctx, struct sync_batch *b, struct sync_deferred *d);
/* An entry of b has run (whatever its result); the last one settles b's pushes. */
void sync_batch_ran(struct sync_ctx *ctx, struct sync_batch *b);
/* After the workers: settle what batches still hold (a stopped sync), then free them. */
void sync_batches_finish(struct sync_ctx *ctx);
/* sync.c: a directory listing's entries in name order (qsort/bsearch). */
int sync_cmp_dirent(const void *a, const void *b);
/* sync.c: the job's record of e's result (the lock is taken inside). */
void sync_account(struct sync_ctx *ctx, struct plan_entry *e, int rc, const struct of_error *err);
/*
 * sync_exec.c: the pushes of list (all in share-relative dir) learn their
 * new versions from one listing of dir and go to the committer; a file the
 * listing shows changed again (another writer came between) is a conflict
 * and its row stays dirty. Owns list.
 */
void sync_push_settle(struct sync_ctx *ctx, const char *dir, struct sync_deferred *list);
/*
 * sync_exec.c: after d's row was committed or refused (d->c.rc): announce
 * the modified item, end the op, drop a settled conflict record. Returns
 * d->c.rc.
 */
int sync_push_finish(struct sync_ctx *ctx, struct sync_deferred *d);

/* sync.c: the job function queued by of_engine_sync_start. */
int sync_job_run(struct of_engine *eng, struct job *job, void *arg);
void sync_args_free(void *arg);

/* Reconcile input of a cached item (may be NULL) and a remote entry (may be NULL). */
void sync_input(struct of_reconcile_input *in, const struct of_item *local,
                const struct of_stat *remote, int remote_known);

/*
 * sync_exec.c: carry out entry e; 0 or a negative OF_E code (recorded by the
 * caller), or SYNC_DEFERRED for a push whose row the committer finishes.
 */
int sync_exec(struct sync_ctx *ctx, struct plan_entry *e, struct of_error *reterr);
/*
 * Bring the server's version of e into the cache (file content when it was
 * cached, or fetch is set; else a ghost), or its directory item.
 */
int sync_pull(struct sync_ctx *ctx, struct op *op, struct plan_entry *e, int fetch,
              struct of_error *reterr);
/* Record (or refresh) a conflict for e and publish SyncConflictRecAdded/Updated. */
int sync_record_conflict(struct sync_ctx *ctx, const struct plan_entry *e, struct of_error *reterr);
/* Drop the conflict record at path, if any, publishing SyncConflictRecRemoved. */
void sync_clear_conflict(struct of_engine *eng, const char *path);
/* keepAll: the local file moves to a conflict name on both sides, the server's wins the name. */
int sync_keep_all(struct sync_ctx *ctx, struct op *op, struct plan_entry *e,
                  struct of_error *reterr);
/* Load ctx->conflicts for the share root ctx->root; free with sync_conflicts_free. */
void sync_conflicts_load(struct sync_ctx *ctx);
void sync_conflicts_free(struct sync_ctx *ctx);
int sync_has_conflict(const struct sync_ctx *ctx, const char *path);

#endif
