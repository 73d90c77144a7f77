/* SPDX-License-Identifier: MIT */
/*
 * Engine internals shared by the engine's modules (engine.c, shares.c,
 * items.c, files.c, cache.c, tokens.c); not part of the engine's contract.
 */
#ifndef OF_ENGINE_INT_H
#define OF_ENGINE_INT_H

#include <limits.h>
#include <pthread.h>

#include "backend.h"
#include "content.h"
#include "engine.h"
#include "events.h"

/*
 * A configured share at run time: its record, its backend and its connection
 * state. Reference counted so a request in flight keeps it alive while the
 * share is removed; state fields are guarded by the engine's shares_lock.
 */
struct share_rt {
    struct of_share_rec rec;
    struct of_backend *be; /* NULL when the remote could not be opened */
    int refs;
    int removed;
    pthread_mutex_t sync_lock; /* one sync of a share at a time */
    enum of_conn_state state;
    enum of_offline_reason reason;
    int64_t last_change_ns;
    int64_t last_failure_ns;
    /* the prober's bookkeeping (connection.c) */
    int64_t next_probe_ns, backoff_ns, last_probe_ns;
    int64_t latency_ms; /* of the last probe; 0 before the first */
    char last_error[512];
};

/*
 * Is s's link slow (its last measured latency over its slowLinkMs)? Read
 * under shares_lock. Such a share is offline with reason slow when it is set
 * to go offline on a slow link; otherwise it stays online and files read
 * from it are cached transparently: its state shows as transparentlyCached.
 */
static inline int
engine_share_slow(const struct share_rt *s)
{
    return s->rec.slow_ms > 0 && s->latency_ms > s->rec.slow_ms;
}

#define TOKEN_CACHE_SIZE 64

/* A token already checked: its hash and who holds it. Tokens are never revoked yet. */
struct token_entry {
    char hash[OF_HASH_HEX];
    struct of_principal who;
};

struct event_sub {
    of_event_cb cb;
    void *ctx;
};

/* The event machinery (events.c): ids, subscribers, and the batch writer to the log. */
struct event_bus {
    pthread_mutex_t lock;
    pthread_mutex_t flush_lock; /* one batch in flight, so the log never has a gap */
    pthread_cond_t wake;
    pthread_t flusher;
    int running;
    int64_t last_id;
    struct of_event *pending; /* published, not yet in the log */
    size_t n_pending, cap_pending;
    struct event_sub *subs;
    size_t n_subs, cap_subs;
    int64_t keep_count, keep_ns;
    unsigned flushes;
};

struct job;

/* The job runner (jobs.c): a queue and worker threads. */
struct job_runner {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t threads[2];
    int n_threads;
    int running;
    struct job *queue, *queue_tail; /* waiting to run */
    struct job *active;             /* queued or running, for lookups */
};

/* The background sync thread (sync_bg.c). */
struct sync_bg {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int running, started;
    char kicked[2 * OF_SEGMENT_MAX + 4]; /* a share root that came online, "*" for several */
};

/* Mass deletions of fewer items than this never need confirming. */
#define MASS_DELETE_MIN 10

/* An upper bound of the cache's usage, so most new content needs no measuring (evict.c). */
struct usage_bound {
    pthread_mutex_t lock;
    int valid;
    int64_t used, admitted, headroom;
    /* Installed content whose rows are not committed yet (batched fills): the store cannot see it.
     */
    int64_t inflight, inflight_unpinned;
};

struct group_entry;

/* Rows waiting to be committed together (group.c). */
struct commit_group {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    struct group_entry *queue; /* waiting for the next group */
    int leading;               /* a thread is committing a group */
};

struct of_engine {
    char data_dir[2048];
    struct commit_group group;
    struct usage_bound usage;
    /* Held from making room to installing content, so parallel fills cannot overbook. */
    pthread_mutex_t room_lock;
    int64_t background_sync_ns;
    int64_t mass_delete_count;
    int mass_delete_percent;
    int64_t events_keep_count, events_keep_ns;
    struct job_runner jobs;
    struct sync_bg bg;
    struct conn_prober {
        pthread_mutex_t lock;
        pthread_cond_t wake;
        pthread_t thread;
        int running, started;
        int64_t first_ns, max_ns, online_every_ns;
    } prober;
    struct event_bus bus;
    /* Recently checked tokens, so a request needs no store lookup to authenticate. */
    pthread_rwlock_t tokens_lock;
    struct token_entry tokens[TOKEN_CACHE_SIZE];
    unsigned n_tokens, next_token;
    struct of_store *store;
    struct of_content *content;
    pthread_mutex_t shares_lock;
    struct share_rt **shares;
    size_t n_shares, cap_shares;
};

/* Start and stop the event bus (engine open and free). */
int engine_events_start(struct of_engine *eng, struct of_error *reterr);
void engine_events_stop(struct of_engine *eng);
/*
 * Publish an event: assigns its id and time, hands it to every subscriber
 * and queues it for the log. Returns the id. Never fails: an event that
 * cannot be logged is still delivered live.
 */
int64_t engine_publish(struct of_engine *eng, struct of_event *ev);
/* Shorthand for an item event with a path and an item type. */
void engine_publish_item(struct of_engine *eng, enum of_event_type type, const char *path,
                         int item_type);

int engine_sync_start_background(struct of_engine *eng, struct of_error *reterr);
void engine_sync_stop_background(struct of_engine *eng);
/*
 * A share just came (back) online: queue a background sync of its dirty
 * items (sync.c). Never blocks.
 */
void engine_sync_share_online(struct of_engine *eng, const char *server, const char *share);

/* ---- jobs (jobs.c) ---- */

/* The work of a job: returns 0, or a negative OF_E code that fails the job. */
typedef int (*job_fn)(struct of_engine *eng, struct job *job, void *arg);

int engine_jobs_start(struct of_engine *eng, struct of_error *reterr);
/* Abort what runs, wait for the workers, free the queue (engine free). */
void engine_jobs_stop(struct of_engine *eng);
/*
 * Queue a job of kind for user; fn(eng, job, arg) runs on a worker, then
 * free_arg(arg) (may be NULL). *ret_id gets the new job's id.
 */
int engine_job_submit(struct of_engine *eng, const char *kind, const char *user, job_fn fn,
                      void *arg, void (*free_arg)(void *arg), int64_t *ret_id,
                      struct of_error *reterr);
int64_t engine_job_id(const struct job *job);
/* The sentence a failed job reports (else the error's title). */
void engine_job_message(struct of_engine *eng, struct job *job, const char *message);
/* Has an abort been asked for? Checked by the work at each item boundary. */
int engine_job_aborted(const struct job *job);
/* Add to the job's progress counters (deltas); published and persisted now and then. */
void engine_job_progress(struct of_engine *eng, struct job *job, int64_t items_total,
                         int64_t items_done, int64_t bytes_total, int64_t bytes_done);
/* Record one item result (seq is assigned); published as JobItemResult. */
void engine_job_item(struct of_engine *eng, struct job *job, struct of_job_item *item);

/* Take a reference to the share //server/share; OF_E(NO_SHARE) if absent. */
int engine_share_acquire(struct of_engine *eng, const char *server, const char *share,
                         struct share_rt **ret_share, struct of_error *reterr);
/*
 * The share a validated item path lies in, referenced, and the path relative
 * to the share root (pointing into path). OF_E(BAD_PATH) for a server path.
 */
int engine_share_for_path(struct of_engine *eng, const char *path, struct share_rt **ret_share,
                          const char **ret_rel, struct of_error *reterr);
void engine_share_release(struct of_engine *eng, struct share_rt *s);

/* Is the share online now? May probe a share that failed a while ago. */
int engine_share_online(struct of_engine *eng, struct share_rt *s);
/*
 * Move a share to state (with reason and last error, may be NULL) and tell
 * subscribers; a share forced offline by a user only leaves that for
 * online. Never called with shares_lock held.
 */
void engine_share_set(struct of_engine *eng, struct share_rt *s, enum of_conn_state state,
                      enum of_offline_reason reason, const char *error);
/* A backend call failed with UNAVAILABLE: take the share offline (connection error). */
void engine_share_failed(struct of_engine *eng, struct share_rt *s, const struct of_error *err);
/* Snapshot of a share's connection state. */
void engine_share_conn(struct of_engine *eng, struct share_rt *s, struct of_conn_info *ret);
/* The state and offline reason s shows (shares_lock held): transparentlyCached on a slow link. */
void engine_share_state(const struct share_rt *s, enum of_conn_state *ret_state,
                        enum of_offline_reason *ret_reason);

/* Backend options from a share record (strings borrowed from rec). */
void engine_share_options(const struct of_share_rec *rec, struct of_backend_options *opts);
/*
 * connection.c: the prober. schedule(grow = 0) plans the first probe of a
 * share that just failed; grow = 1 doubles the backoff up to the cap.
 */
void engine_conn_schedule(struct of_engine *eng, struct share_rt *s, int grow);
int engine_conn_start(struct of_engine *eng, struct of_error *reterr);
void engine_conn_stop(struct of_engine *eng);

/*
 * evict.c: make room for incoming bytes of new content (pinned or dirty
 * content counts against the total limit only). Evicts clean unpinned
 * items, LRU first; OF_E(CACHE_FULL) when it cannot.
 */
int engine_cache_make_room(struct of_engine *eng, int64_t incoming, int incoming_pinned,
                           struct of_error *reterr);
/* The limits changed: the next make_room measures the usage again. */
void engine_cache_limits_changed(struct of_engine *eng);
/*
 * Content of delta bytes was installed (delta > 0) whose row is not committed
 * yet, or such a row was committed or given up (delta < 0): make_room counts
 * it as used meanwhile. pinned: it counts against the total limit only.
 */
void engine_cache_inflight(struct of_engine *eng, int64_t delta, int pinned);

/* Load shares from the store and open their backends (engine open). */
int engine_shares_load(struct of_engine *eng, struct of_error *reterr);
void engine_shares_free(struct of_engine *eng);

/*
 * Drop an item and its subtree from the cache (in its own transaction; call
 * it outside one), then unlink their content: never before the rows are gone.
 */
int engine_drop_item(struct of_engine *eng, const struct of_item *it, struct of_error *reterr);

/* Is anything below path (not path itself) dirty? (cacheops.c) */
int engine_dirty_below(struct of_engine *eng, const char *path);

/* Fill a view (pins, dirty bytes, online) for an item row. */
int engine_item_view(struct of_engine *eng, const struct of_item *item, const char *user,
                     struct of_item_view *ret_view, struct of_error *reterr);

/* Fresh item row for path with type, parent and share set, everything else zero. */
void engine_item_init(struct of_item *it, const char *path, enum of_item_type type,
                      int64_t parent_id, int64_t share_id);
/* struct of_copy from a backend stat. */
void engine_copy_from_stat(struct of_copy *c, const struct of_stat *st);

/* Per-operation state, heap-allocated because items carry a 4 KiB path. */
struct op {
    struct of_engine *eng;
    struct share_rt *share;
    const char *rel;
    struct of_item item; /* the row, when have_item */
    int have_item;
    struct of_item scratch;
    char old_content[OF_CONTENT_NAME_MAX];
    /* The row as first read: commit refuses to let server data replace newer dirty data. */
    int base_dirty;
    int inserted; /* the last commit created the row */
    char base_content[OF_CONTENT_NAME_MAX];
};

/* Start an operation on a file path below a share root (depth >= 3). */
int engine_op_begin(struct of_engine *eng, const char *path, struct op **ret_op,
                    struct of_error *reterr);
/* Release the share, unlink content replaced by a committed row, free op. NULL-safe. */
void engine_op_end(struct op *op);
/*
 * Ensure every directory above path (below the share root) is an item:
 * online, missing ones are stat'ed on the share and added; offline they must
 * be cached (else OF_E(PARENT_MISSING)). scratch is caller-provided working
 * space; *ret_parent gets the parent's id. Call inside a store transaction.
 */
int engine_ensure_parents(struct of_engine *eng, struct share_rt *share, const char *path,
                          int online, struct of_item *scratch, int64_t *ret_parent,
                          struct of_error *reterr);
/* Publish an item event of type for op->item (ItemModified carries data=1). */
void engine_op_announce(struct op *op, enum of_event_type type);
/* The row as it is right after a successful sync of the file with the server. */
void engine_op_set_synced(struct op *op, const struct of_stat *st, const char *hash);
/*
 * Read the whole file from the share into a new finished temp file (hashed);
 * *ret_tmp is the caller's to install or free.
 */
int engine_op_download(struct op *op, struct of_content_tmp **ret_tmp, struct of_stat *ret_st,
                       char *ret_hash, struct of_error *reterr);
/* Point op->item at new content ("" = none, a ghost). */
void engine_op_set_content(struct op *op, const char *name, int64_t size);
/*
 * Commit op->item in a transaction: update the current row for its path (or
 * insert it, creating parent items first); content the row named before is
 * unlinked by engine_op_end.
 */
int engine_op_commit(struct op *op, int online, struct of_error *reterr);
/*
 * The same inside the caller's open transaction, which commits it. On
 * OF_E(CONFLICT) (changed offline meanwhile) nothing was written and the
 * transaction may go on; on any other error the caller must roll back.
 */
int engine_op_commit_in(struct op *op, int online, struct of_error *reterr);
/* One row to commit together with others (engine_ops_commit). */
struct op_commit {
    struct op *op;
    int online;
    int rc;               /* out: 0 or a negative OF_E code */
    struct of_error *err; /* out: the detail when rc < 0 */
};
/*
 * Commit the rows of v[0..n) in one transaction: a row changed offline
 * meanwhile gets OF_E(CONFLICT) and is left out, the rest commit. If the
 * transaction fails as a whole, each row is committed on its own, so every
 * rc says what became of that row. Call outside any transaction.
 */
void engine_ops_commit(struct of_engine *eng, struct op_commit *const *v, size_t n);
/*
 * engine_op_commit, committed together with the rows other threads commit
 * at the same time (one transaction, one disk sync). Returns once this row
 * is committed, with its own result. Call outside any transaction.
 */
int engine_op_commit_grouped(struct op *op, int online, struct of_error *reterr);
/* engine_op_download into a batched temp file (content.h): install, then of_content_sync. */
int engine_op_download_batched(struct op *op, struct of_content_tmp **ret_tmp,
                               struct of_stat *ret_st, char *ret_hash, struct of_error *reterr);

/* ---- batched fills (fill.c) ---- */

/*
 * The result of one file of a batch: rc 0, or a negative code with err.
 * Called once per engine_fill, from whichever thread commits its batch.
 */
typedef void (*fill_done_fn)(void *ctx, const char *path, int rc, const struct of_error *err);

struct fill_batch;

/*
 * A batch of fills (pinned content fetched from the share): several threads
 * call engine_fill at once; every so many files or bytes their content is
 * made durable with one sync and their rows committed in one transaction,
 * instead of two syncs and a commit per file. NULL when out of memory.
 * Free with engine_fill_batch_free, which commits what is pending first.
 */
struct fill_batch *engine_fill_batch_new(struct of_engine *eng, fill_done_fn done, void *ctx);
/* Fetch file path's content unless it is cached; done() reports it. Thread-safe. */
void engine_fill(struct fill_batch *b, const char *path);
/* Commit what is pending now. Thread-safe. */
void engine_fill_flush(struct fill_batch *b);
/* NULL-safe: flush, then free. */
void engine_fill_batch_free(struct fill_batch *b);

#endif
