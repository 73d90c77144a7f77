/* SPDX-License-Identifier: MIT */
/*
 * The metadata store: one SQLite database in WAL mode (foreign keys on, a
 * busy timeout) holding shares, items, pins and API tokens. The only module
 * that links SQLite. Numbered migrations run in of_store_open. Statements are
 * prepared once per store and reused.
 *
 * Thread safety: every function may be called from any thread; a recursive
 * mutex serializes access to the one connection. of_store_begin/commit hold
 * that mutex from begin to commit or rollback, so a multi-step change is
 * atomic to other threads as well as durable.
 */
#ifndef OF_STORE_H
#define OF_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "events.h"
#include "item.h"

struct of_store;

enum of_caching_mode {
    OF_CACHING_MANUAL = 0,
    OF_CACHING_AUTO = 1,
    OF_CACHING_AUTO_PROGRAMS = 2,
    OF_CACHING_NONE = 3,
};

struct of_share_rec {
    int64_t id;
    char server[OF_SEGMENT_MAX + 1];
    char share[OF_SEGMENT_MAX + 1];
    char remote[1024];
    enum of_caching_mode caching_mode;
    int forced_offline; /* put offline by a user; stays until put online */
    int64_t created_ns;
    /* How to reach the remote (backend options); the secret never leaves the engine. */
    int auth_type; /* enum of_auth */
    char username[256];
    char secret[1024];
    char ca_file[1024];
    int insecure;
    int transfers;       /* parallel transfers, 1..32 */
    int offline_on_slow; /* go offline (reason slow) when the link is slower than slow_ms */
    int slow_ms;         /* latency threshold of a slow link; 0: never slow */
};

/*
 * of_store_open - open or create the database at path and migrate it.
 * Returns 0 and a new store in *ret_store (free with of_store_free), or
 * OF_E(STORE) with detail.
 */
int of_store_open(const char *path, struct of_store **ret_store, struct of_error *reterr);
/* Finalize statements and close; NULL-safe. */
void of_store_free(struct of_store *st);
/* The schema version after migrations. */
int of_store_schema_version(struct of_store *st);
/* PRAGMA integrity_check; 0 when "ok". */
int of_store_integrity_check(struct of_store *st, struct of_error *reterr);

/* Transactions: begin takes the store lock, commit/rollback release it. */
int of_store_begin(struct of_store *st, struct of_error *reterr);
int of_store_commit(struct of_store *st, struct of_error *reterr);
void of_store_rollback(struct of_store *st);

/* Items. get: OF_E(NOT_FOUND) when the path is not in the cache. */
int of_store_item_get(struct of_store *st, const char *path, struct of_item *ret_item,
                      struct of_error *reterr);
int of_store_item_get_id(struct of_store *st, int64_t id, struct of_item *ret_item,
                         struct of_error *reterr);
/* Insert (item->id == 0; sets it) or update by id. */
int of_store_item_put(struct of_store *st, struct of_item *item, struct of_error *reterr);
/* Delete an item and (by cascade) everything below it. */
int of_store_item_delete(struct of_store *st, int64_t id, struct of_error *reterr);
/* Set only the last access time of an item (leaves every other column alone). */
int of_store_item_touch(struct of_store *st, int64_t id, int64_t when_ns, struct of_error *reterr);
/*
 * Move item id from path from to path to (and everything below it, by
 * prefix), under the parent item parent_id. The caller checked that to is
 * free; call inside a transaction.
 */
int of_store_item_move(struct of_store *st, int64_t id, const char *from, const char *to,
                       int64_t parent_id, struct of_error *reterr);
/* Number of direct children of an item. */
int of_store_item_child_count(struct of_store *st, int64_t id, int64_t *ret_count,
                              struct of_error *reterr);

/*
 * of_store_item_scan - visit items in path order. under: "" for every item,
 * else a path whose children (depth 1) or descendants (depth 0 = all) are
 * visited; after: only paths greater than it ("" = from the start). At most
 * max rows are read; cb returns 0 to go on, 1 to stop, negative to fail.
 * *ret_more (may be NULL) is set when rows remained after max.
 */
int of_store_item_scan(struct of_store *st, const char *under, int depth, const char *after,
                       size_t max, int (*cb)(void *ctx, const struct of_item *item), void *ctx,
                       int *ret_more, struct of_error *reterr);
/*
 * of_store_dirty_scan - as of_store_item_scan of all descendants (depth 0),
 * but only the items with offline changes (of_item_dirty), read through an
 * index of those alone: the cost follows the dirty items, not the cache.
 */
int of_store_dirty_scan(struct of_store *st, const char *under, const char *after, size_t max,
                        int (*cb)(void *ctx, const struct of_item *item), void *ctx, int *ret_more,
                        struct of_error *reterr);

/* One pin row. */
struct of_pin_row {
    enum of_pin_scope scope;
    char user[64];
    int inherit;
};
/* Visit the pin rows of an item. */
int of_store_pin_rows(struct of_store *st, int64_t item_id,
                      void (*cb)(void *ctx, const struct of_pin_row *row), void *ctx,
                      struct of_error *reterr);
/* Remove a pin (scope and user; user "" for scopes without one). */
int of_store_pin_clear(struct of_store *st, int64_t item_id, enum of_pin_scope scope,
                       const char *user, struct of_error *reterr);
/*
 * Visit cached content that may be evicted: clean, unpinned items holding
 * content, least recently used first, at most max.
 */
int of_store_evictable(struct of_store *st, size_t max,
                       int (*cb)(void *ctx, const struct of_item *item), void *ctx,
                       struct of_error *reterr);
/* Set the suspended flag of everything below path (not path itself). */
int of_store_suspend_below(struct of_store *st, const char *path, int suspended,
                           struct of_error *reterr);

/* Pins of an item as seen by user (NULL: any user); partly computed too. */
int of_store_pin_info(struct of_store *st, const struct of_item *item, const char *user,
                      struct of_pin_info *ret_info, struct of_error *reterr);
/* Is the item pinned in any scope for any user? (used by filters). */
int of_store_pin_set(struct of_store *st, int64_t item_id, enum of_pin_scope scope,
                     const char *user, int inherit, struct of_error *reterr);

/* Shares. get: OF_E(NO_SHARE) when absent. list: malloc'ed array, caller frees. */
int of_store_share_get(struct of_store *st, const char *server, const char *share,
                       struct of_share_rec *ret_rec, struct of_error *reterr);
int of_store_share_list(struct of_store *st, struct of_share_rec **ret_recs, size_t *ret_count,
                        struct of_error *reterr);
/* Insert (rec->id == 0; sets it; OF_E(EXISTS) on a duplicate) or update by id. */
int of_store_share_put(struct of_store *st, struct of_share_rec *rec, struct of_error *reterr);
int of_store_share_delete(struct of_store *st, int64_t id, struct of_error *reterr);

/* API tokens, stored as hashes only. find: OF_E(UNAUTHORIZED) when unknown. */
int of_store_token_add(struct of_store *st, const char *user, const char *hash_hex, int admin,
                       struct of_error *reterr);
int of_store_token_find(struct of_store *st, const char *hash_hex, char *ret_user, size_t user_cap,
                        int *ret_admin, struct of_error *reterr);
int of_store_token_count(struct of_store *st, int64_t *ret_count, struct of_error *reterr);

/* Small key/value settings of the cache (limit, enabled, ...). get: NOT_FOUND. */
int of_store_meta_get(struct of_store *st, const char *key, char *ret_value, size_t cap,
                      struct of_error *reterr);
int of_store_meta_set(struct of_store *st, const char *key, const char *value,
                      struct of_error *reterr);

/* Bytes of cached content in all, and in items without any pin. */
int of_store_cache_usage(struct of_store *st, int64_t *ret_used, int64_t *ret_unpinned,
                         struct of_error *reterr);

/*
 * of_store_content_names - call cb for every content name referenced by an
 * item (used to collect orphaned content files at start-up).
 */
int of_store_content_names(struct of_store *st, void (*cb)(void *ctx, const char *name), void *ctx,
                           struct of_error *reterr);

/* ---- the event log (store_log.c) ---- */

/* Append events (ids already assigned) in one transaction. */
int of_store_event_append(struct of_store *st, const struct of_event *evs, size_t n,
                          struct of_error *reterr);
/* Visit logged events with id > after_id in id order, at most max; cb as for item scans. */
int of_store_event_scan(struct of_store *st, int64_t after_id, size_t max,
                        int (*cb)(void *ctx, const struct of_event *ev), void *ctx,
                        struct of_error *reterr);
/* Smallest and largest logged id (0, 0 when empty). */
int of_store_event_bounds(struct of_store *st, int64_t *ret_min, int64_t *ret_max,
                          struct of_error *reterr);
/* Keep at most keep_count events and none older than min_time_ns; returns 0. */
int of_store_event_prune(struct of_store *st, int64_t keep_count, int64_t min_time_ns,
                         struct of_error *reterr);

/* ---- jobs (store_log.c) ---- */

struct of_job_rec {
    int64_t id;
    char kind[16];  /* "sync", "pin", "unpin", "delete" */
    char state[16]; /* "queued", "running", "succeeded", "failed", "aborted", "interrupted" */
    char created_by[64];
    int64_t created_ns, started_ns, ended_ns;
    int64_t items_total, items_done, bytes_total, bytes_done;
    int result;        /* 0 or a negative OF_E code */
    char message[512]; /* why it failed, or a summary */
};

/* One item a job did something with, or failed on (IOfflineFilesSyncErrorInfo). */
struct of_job_item {
    int64_t job_id;
    int64_t seq;
    char path[OF_PATH_MAX + 1];
    int operation;         /* of_sync_op */
    int sync_state;        /* of_sync_state, -1 when not classified */
    int result;            /* 0 or a negative OF_E code */
    int conflict;          /* left as a conflict */
    unsigned change_flags; /* OF_ITEM_CHANGE_* */
    char message[512];
    int have_copies; /* local/remote/original below are filled (failures) */
    struct of_copy local, remote, original;
};

/* Insert (rec->id == 0; sets it) or update a job. */
int of_store_job_put(struct of_store *st, struct of_job_rec *rec, struct of_error *reterr);
/* OF_E(NOT_FOUND) when absent. */
int of_store_job_get(struct of_store *st, int64_t id, struct of_job_rec *ret_rec,
                     struct of_error *reterr);
/* Newest first, ids below before_id (0: from the newest), at most max. */
int of_store_job_scan(struct of_store *st, int64_t before_id, size_t max,
                      int (*cb)(void *ctx, const struct of_job_rec *rec), void *ctx,
                      struct of_error *reterr);
/* Jobs queued or running when the daemon stopped become "interrupted". */
int of_store_job_interrupt_all(struct of_store *st, int64_t now_ns, struct of_error *reterr);
int of_store_job_item_add(struct of_store *st, const struct of_job_item *item,
                          struct of_error *reterr);
/* A job's items in seq order, at most max after seq after. */
int of_store_job_item_scan(struct of_store *st, int64_t job_id, int64_t after, size_t max,
                           int (*cb)(void *ctx, const struct of_job_item *item), void *ctx,
                           struct of_error *reterr);

/* ---- conflicts (store_log.c) ---- */

struct of_conflict_rec {
    int64_t id;
    char path[OF_PATH_MAX + 1];
    char kind[16]; /* "item", or "massDelete" for a sync stopped before deleting too much */
    int sync_state;
    unsigned change_details; /* OF_CHANGES_* */
    struct of_copy local, remote, original;
    int64_t detected_ns, updated_ns;
    int64_t count; /* massDelete: how many deletions wait for confirmation */
};

/*
 * Add or refresh the record for rec->path; sets rec->id, and *ret_added (may
 * be NULL) to 1 when it is new. A refresh keeps the first detection time.
 */
int of_store_conflict_put(struct of_store *st, struct of_conflict_rec *rec, int *ret_added,
                          struct of_error *reterr);
int of_store_conflict_get(struct of_store *st, int64_t id, struct of_conflict_rec *ret_rec,
                          struct of_error *reterr);
int of_store_conflict_find(struct of_store *st, const char *path, struct of_conflict_rec *ret_rec,
                           struct of_error *reterr);
int of_store_conflict_delete(struct of_store *st, int64_t id, struct of_error *reterr);
/* Records at or under path ("" = all), in path order. */
int of_store_conflict_scan(struct of_store *st, const char *under,
                           int (*cb)(void *ctx, const struct of_conflict_rec *rec), void *ctx,
                           struct of_error *reterr);

#endif
