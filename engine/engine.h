/* SPDX-License-Identifier: MIT */
/*
 * The engine: the one root object behind the API. It owns the store, the
 * content store and the open share backends, and offers typed operations on
 * shares, items, files, the cache and connection state. It knows nothing of
 * HTTP or JSON. All functions are thread-safe and may block on disk or
 * backend I/O; callers run them off any event loop.
 *
 * Conventions: functions return 0 or a negative OF_E code with detail in the
 * optional trailing reterr; out-parameters are written only on success;
 * `const` pointer arguments are borrowed.
 */
#ifndef OF_ENGINE_H
#define OF_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "content.h"
#include "error.h"
#include "events.h"
#include "item.h"
#include "reconcile.h"
#include "store.h"

struct of_engine;

struct of_engine_config {
    const char *data_dir;      /* holds offlinefiles.db, cache/, admin.token */
    int64_t background_sync_s; /* period of background sync; 0: the default (300) */
    int64_t mass_delete_count; /* a sync deleting more stops for confirmation (1000) */
    int mass_delete_percent;   /* ... or more than this share of a share's items (50) */
    int64_t events_keep_count; /* the event log keeps at most this many events (100000) */
    int64_t events_keep_s;     /* ... and none older than this (7 days) */
    int64_t probe_first_ms;    /* first probe of a share that went offline (1000) */
    int64_t probe_max_s;       /* the backoff between probes grows to this cap (60) */
    int64_t probe_online_s;    /* online shares are probed for latency this often (30) */
    int no_background_sync;    /* no periodic sync, and none when a share comes back */
    /*
     * Open for a one-off tool (token create) beside a running daemon: no
     * orphan collection, no job recovery, no workers, no background sync.
     */
    int tool_only;
};

/* Open the engine over data_dir (created 0700 if missing). Free with of_engine_free. */
int of_engine_open(const struct of_engine_config *cfg, struct of_engine **ret_eng,
                   struct of_error *reterr);
/* Close backends, the store and the content store; NULL-safe. */
void of_engine_free(struct of_engine *eng);
const char *of_engine_data_dir(const struct of_engine *eng);

/* ---- events (events.c) ---- */

/*
 * A subscriber's callback: called for every event published after it
 * subscribed, in id order, on the publishing thread with the bus locked. It
 * must not block and must not call back into the engine: copy and return.
 */
typedef void (*of_event_cb)(void *ctx, const struct of_event *ev);

/*
 * Subscribe cb. *ret_last_id gets the id of the last event published before
 * the subscription, so log (<= it) and live (> it) meet with no gap and no
 * duplicate. *ret_handle is for of_engine_unsubscribe.
 */
int of_engine_subscribe(struct of_engine *eng, of_event_cb cb, void *ctx, int64_t *ret_last_id,
                        void **ret_handle, struct of_error *reterr);
/* After this returns, cb is not running and will not be called again. */
void of_engine_unsubscribe(struct of_engine *eng, void *handle);
/* Logged events with id > after_id, at most max, in id order (pending ones are flushed first). */
int of_engine_events_scan(struct of_engine *eng, int64_t after_id, size_t max,
                          int (*cb)(void *ctx, const struct of_event *ev), void *ctx,
                          struct of_error *reterr);
/*
 * Publish n Ping events (1..100000) with text as their detail: for admins
 * checking an event pipeline end to end, and for the events benchmark.
 */
int of_engine_events_ping(struct of_engine *eng, int64_t n, const char *text,
                          struct of_error *reterr);
/* Oldest and newest id in the log (0 when empty). */
int of_engine_events_bounds(struct of_engine *eng, int64_t *ret_oldest, int64_t *ret_newest,
                            struct of_error *reterr);

/* ---- jobs (jobs.c) ---- */

/* A job as it is now (live for queued and running jobs, else from the store). */
int of_engine_job_get(struct of_engine *eng, int64_t id, struct of_job_rec *ret_rec,
                      struct of_error *reterr);
/* Jobs newest first with id < before_id (0: from the newest), at most max. */
int of_engine_job_list(struct of_engine *eng, int64_t before_id, size_t max,
                       int (*cb)(void *ctx, const struct of_job_rec *rec), void *ctx,
                       struct of_error *reterr);
/* A job's item results with seq > after, at most max (pending ones are written first). */
int of_engine_job_items(struct of_engine *eng, int64_t id, int64_t after, size_t max,
                        int (*cb)(void *ctx, const struct of_job_item *item), void *ctx,
                        struct of_error *reterr);
/*
 * Ask a queued or running job to stop at the next item boundary (nothing is
 * left half-written). OF_E(NOT_FOUND) for an unknown job, OF_E(CONFLICT)
 * for one that already ended.
 */
int of_engine_job_abort(struct of_engine *eng, int64_t id, struct of_error *reterr);
/*
 * Call done(ctx) once when the job ends, from the thread that ends it, or
 * at once (on this thread) if it has already ended. done must not block.
 */
int of_engine_job_on_done(struct of_engine *eng, int64_t id, void (*done)(void *ctx), void *ctx,
                          struct of_error *reterr);

/* ---- sync and conflicts (sync*.c) ---- */

#define OF_SYNC_PATHS_MAX 256

struct of_sync_request {
    const char *paths[OF_SYNC_PATHS_MAX]; /* items in the cache: shares, directories, files */
    size_t n_paths;
    int in, out;           /* directions: server to client, client to server */
    int fill_sparse;       /* fetch content of sparse and ghosted files under the paths */
    int pin_new_files;     /* pin new server files for the user (in only) */
    int skip_suspended;    /* leave suspended trees alone */
    int no_new_files_out;  /* do not create files on the server that were created offline */
    int background;        /* a background pass: conflicts are only recorded */
    int allow_mass_delete; /* the user confirmed deletions beyond the threshold */
    enum of_conflict_policy policy;
};

/*
 * Synchronize: queue a sync job over the paths and return its id. The paths
 * are validated now (OF_E(BAD_PATH), OF_E(NOT_FOUND) for one not cached).
 */
int of_engine_sync_start(struct of_engine *eng, const struct of_sync_request *req, const char *user,
                         int64_t *ret_job_id, struct of_error *reterr);

/* Conflict records at or under path ("" for all), in path order. */
int of_engine_conflicts_list(struct of_engine *eng, const char *under,
                             int (*cb)(void *ctx, const struct of_conflict_rec *rec), void *ctx,
                             struct of_error *reterr);

/* One conflict record; OF_E(NOT_FOUND) when there is none with that id. */
int of_engine_conflict_get(struct of_engine *eng, int64_t id, struct of_conflict_rec *ret_rec,
                           struct of_error *reterr);

enum of_resolution {
    OF_RESOLVE_KEEP_LOCAL,
    OF_RESOLVE_KEEP_REMOTE,
    OF_RESOLVE_KEEP_LATEST,
    OF_RESOLVE_KEEP_ALL,
    OF_RESOLVE_CONFIRM_DELETE, /* massDelete records: go ahead and delete */
    OF_RESOLVE_DISCARD,        /* massDelete records: drop the record, delete nothing */
};

/*
 * Apply a resolution to conflict id and remove its record: a sync of that
 * path with the matching policy, run now. new_name (may be NULL) names the
 * kept copy for keepAll. OF_E(NOT_FOUND) for an unknown id; OF_E(CONFLICT)
 * when the resolution does not apply (the record stays). *ret_job_id gets
 * the job that did it (0 when none was needed).
 */
int of_engine_conflict_resolve(struct of_engine *eng, int64_t id, enum of_resolution resolution,
                               const char *new_name, const char *user, int64_t *ret_job_id,
                               struct of_error *reterr);

/* ---- cache item operations (cacheops.c) ---- */

/*
 * DeleteItems: remove items (and what is under them) from the cache only,
 * never from the server. A dirty item is refused with OF_E(CONFLICT) unless
 * allow_dirty. Runs as a job; *ret_job_id gets it.
 */
int of_engine_cache_delete(struct of_engine *eng, const char *const *paths, size_t n_paths,
                           int allow_dirty, const char *user, int64_t *ret_job_id,
                           struct of_error *reterr);
/*
 * RenameItemEx: move a cached item (and its subtree) to a new path in the
 * same share, in the cache only. OF_E(EXISTS) when to is cached and not
 * replace; OF_E(NOT_FOUND) when from is not cached.
 */
int of_engine_cache_rename(struct of_engine *eng, const char *from, const char *to, int replace,
                           struct of_error *reterr);

/* ---- pins, suspend, cacheable (pins.c) ---- */

/*
 * Pin (unpin = 0) or Unpin (unpin = 1) the paths for user in scope, as a
 * job. deep: the whole subtree now (a shallow pin records inheritance so new
 * children are pinned at the next sync; a shallow unpin touches only the
 * immediate files). fill: fetch the content now. OF_E(CONFLICT) for a share
 * that allows no caching; items not in the cache are looked up online.
 */
int of_engine_pin(struct of_engine *eng, const char *const *paths, size_t n_paths, int deep,
                  enum of_pin_scope scope, int fill, int unpin, const char *user,
                  int64_t *ret_job_id, struct of_error *reterr);
/* SuspendRoot: suspend (or release) a directory tree; reads there never reach the server. */
int of_engine_suspend(struct of_engine *eng, const char *path, int suspend,
                      struct of_error *reterr);
/* IsPathCacheable: may anything under path be cached, and the share's caching mode. */
int of_engine_cacheable(struct of_engine *eng, const char *path, int *ret_cacheable,
                        enum of_caching_mode *ret_mode, struct of_error *reterr);

/* ---- tokens (tokens.c) ---- */

#define OF_USER_MAX 64
#define OF_TOKEN_MAX 80

struct of_principal {
    char user[OF_USER_MAX];
    int admin;
};

/* Create a token for user; the plain token (only ever here) goes to ret_token. */
int of_engine_token_create(struct of_engine *eng, const char *user, int admin, char *ret_token,
                           struct of_error *reterr);
/* Who holds this token? OF_E(UNAUTHORIZED) when nobody. Constant work per call. */
int of_engine_token_check(struct of_engine *eng, const char *token, struct of_principal *ret_who,
                          struct of_error *reterr);
/*
 * With no token in the store: create an admin token, write it to
 * DATA_DIR/admin.token (mode 0600) and copy its path to ret_path. Returns 1
 * when it created one, 0 when tokens already existed.
 */
int of_engine_token_bootstrap(struct of_engine *eng, char *ret_path, size_t cap,
                              struct of_error *reterr);

/* ---- shares and connection state (shares.c) ---- */

/*
 * OFFLINEFILES_CONNECT_STATE. Transparently cached is online on a slow link:
 * requests reach the server and what is read is cached transparently
 * (partly: some of a server's shares are).
 */
enum of_conn_state {
    OF_CONN_UNKNOWN = 0,
    OF_CONN_OFFLINE = 1,
    OF_CONN_ONLINE = 2,
    OF_CONN_TRANSPARENT = 3,
    OF_CONN_PARTLY_TRANSPARENT = 4,
};

/* Does a reported state let requests reach the server? */
static inline int
of_conn_up(enum of_conn_state state)
{
    return state >= OF_CONN_ONLINE;
}

enum of_offline_reason {
    OF_REASON_NONE = 0,
    OF_REASON_FORCED,
    OF_REASON_CONNECTION_ERROR,
    OF_REASON_SLOW,
    OF_REASON_SUSPENDED,
    OF_REASON_VERSION_CONFLICT,
};

struct of_conn_info {
    enum of_conn_state state;
    enum of_offline_reason reason;
    int slow;
    int64_t latency_ms; /* -1 when not measured */
    int64_t last_change_ns;
    int64_t next_probe_ns; /* 0 when no probe is planned */
    char last_error[512];
};

/* A share as callers see it: rec.secret is always "" here; has_secret says if one is set. */
struct of_share_view {
    struct of_share_rec rec;
    int has_secret;
    struct of_conn_info conn;
};

const char *of_caching_mode_name(enum of_caching_mode mode);
int of_caching_mode_parse(const char *name, enum of_caching_mode *ret_mode);
const char *of_conn_state_name(enum of_conn_state state);
const char *of_offline_reason_name(enum of_offline_reason reason);

/* Add a share (server, share, remote, caching_mode of rec); OF_E(EXISTS) if present. */
int of_engine_share_add(struct of_engine *eng, const struct of_share_rec *rec,
                        struct of_share_view *ret_view, struct of_error *reterr);
int of_engine_share_get(struct of_engine *eng, const char *server, const char *share,
                        struct of_share_view *ret_view, struct of_error *reterr);
/* All shares (malloc'ed array, caller frees); server != NULL limits to one server. */
int of_engine_share_list(struct of_engine *eng, const char *server,
                         struct of_share_view **ret_views, size_t *ret_count,
                         struct of_error *reterr);

/* A PATCH: fields with their has_ flag set are changed. */
struct of_share_patch {
    int has_remote;
    char remote[1024];
    int has_caching_mode;
    enum of_caching_mode caching_mode;
    int has_auth; /* auth_type, username, secret together */
    int auth_type;
    char username[256];
    char secret[1024];
    int has_ca_file;
    char ca_file[1024];
    int has_insecure, insecure;
    int has_transfers, transfers;
    int has_offline_on_slow, offline_on_slow;
    int has_slow_ms, slow_ms;
};
int of_engine_share_update(struct of_engine *eng, const char *server, const char *share,
                           const struct of_share_patch *patch, struct of_share_view *ret_view,
                           struct of_error *reterr);
/*
 * Remove a share and its cached items. With dirty items it refuses with
 * OF_E(CONFLICT) unless force, so offline changes are never dropped silently.
 */
int of_engine_share_remove(struct of_engine *eng, const char *server, const char *share, int force,
                           struct of_error *reterr);

/* Connection state of a share, or of a server (share NULL: the best of its shares). */
int of_engine_connection_get(struct of_engine *eng, const char *server, const char *share,
                             struct of_conn_info *ret_info, struct of_error *reterr);
/* Force a share (or every share of a server) offline or back online. */
int of_engine_connection_set(struct of_engine *eng, const char *server, const char *share,
                             int online, struct of_error *reterr);

/* ---- items (items.c) ---- */

/* An item as the API shows it: the row plus what is derived per caller. */
struct of_item_view {
    struct of_item item;
    struct of_pin_info pin;
    int64_t dirty_bytes_local;
    int online; /* the item's share is online */
    /*
     * GetConnectState of the item: its share's state, except that an item
     * the server is not asked about is offline with a reason of its own:
     * suspended (in a suspended tree), versionConflict (an offline change
     * held by a conflict record: served from the cache until resolved).
     */
    enum of_conn_state conn_state;
    enum of_offline_reason conn_reason;
};

/* FindItem: the item at path as seen by user. OF_E(NOT_FOUND) when not cached. */
int of_engine_item_get(struct of_engine *eng, const char *path, const char *user,
                       struct of_item_view *ret_view, struct of_error *reterr);

/* Item filter flags (IOfflineFilesItemFilter); bit i is flag i of of_item_flag_names. */
enum of_item_flag {
    OF_FLAG_MODIFIED_DATA = 0,
    OF_FLAG_MODIFIED_ATTRIBUTES,
    OF_FLAG_MODIFIED,
    OF_FLAG_CREATED,
    OF_FLAG_DELETED,
    OF_FLAG_DIRTY,
    OF_FLAG_SPARSE,
    OF_FLAG_FILE,
    OF_FLAG_DIRECTORY,
    OF_FLAG_PINNED_USER,
    OF_FLAG_PINNED_OTHERS,
    OF_FLAG_PINNED_COMPUTER,
    OF_FLAG_PINNED,
    OF_FLAG_GHOST,
    OF_FLAG_SUSPENDED,
    OF_FLAG_OFFLINE,
    OF_FLAG_ONLINE,
    OF_FLAG_MODIFIED_TIME,
    OF_FLAG_TRANSPARENT,
    OF_FLAG__COUNT
};
/* "modifiedData", "dirty", ... -> flag; 0 or -1. */
int of_item_flag_parse(const char *name, enum of_item_flag *ret_flag);
const char *of_item_flag_name(enum of_item_flag flag);

#define OF_QUERY_PATTERNS_MAX 16
#define OF_QUERY_LIMIT_MAX 1000

struct of_item_query {
    const char *under;    /* "" for the whole cache */
    int depth;            /* 1: children; 0: all descendants */
    const char *user;     /* whose pins count as "for user" */
    unsigned types;       /* bit per of_item_type; 0 = all */
    uint64_t flags, mask; /* every flag set in mask must equal its bit in flags */
    /* FindFirstFile-style patterns on the item name (* and ?); n_* = 0: none. */
    const char *include_files[OF_QUERY_PATTERNS_MAX];
    size_t n_include_files;
    const char *exclude_files[OF_QUERY_PATTERNS_MAX];
    size_t n_exclude_files;
    const char *include_dirs[OF_QUERY_PATTERNS_MAX];
    size_t n_include_dirs;
    const char *exclude_dirs[OF_QUERY_PATTERNS_MAX];
    size_t n_exclude_dirs;
    int64_t modified_after_ns, modified_before_ns; /* 0 = unset; LOCAL mtime */
    const char *cursor;                            /* "" or the `next` of a previous page */
    size_t limit;                                  /* 1..OF_QUERY_LIMIT_MAX */
};

/*
 * EnumItemsEx: call cb for each matching item in path order, at most
 * q->limit of them. When more may follow, ret_next (OF_PATH_MAX + 1 bytes)
 * gets the cursor for the next page, else "". OF_E(NOT_FOUND) when under is
 * not in the cache.
 */
int of_engine_items_query(struct of_engine *eng, const struct of_item_query *q,
                          int (*cb)(void *ctx, const struct of_item_view *view), void *ctx,
                          char *ret_next, struct of_error *reterr);

/* ---- files (files.c) ---- */

/* An open file to serve: from the cache, or fetched for this one read. */
struct of_file_read {
    int fd; /* the caller's to close */
    int64_t size;
    int64_t mtime_ns;
    char etag[OF_HASH_HEX]; /* content hash */
    int from_cache;         /* served from cached content */
    int offline;            /* the share was offline */
};

/*
 * Open a file for reading through the cache. Online, a cached copy that still
 * matches the server is used, else the file is fetched (and cached when the
 * share's caching mode allows). Offline, only cached content is served:
 * OF_E(NOT_OFFLINE) otherwise. OF_E(NOT_A_FILE) for a directory.
 */
int of_engine_file_open(struct of_engine *eng, const char *path, const char *user,
                        struct of_file_read *ret_read, struct of_error *reterr);

/* An upload in progress: bytes go to a temp file in the cache as they arrive. */
int of_engine_upload_new(struct of_engine *eng, struct of_content_tmp **ret_tmp,
                         struct of_error *reterr);

struct of_write_result {
    int created;        /* the file did not exist before */
    int stored_offline; /* kept in the cache only, dirty, to be synced */
    struct of_item_view view;
};

/*
 * PUT: replace or create the file at path with the upload (borrowed; it may
 * be installed into the content store). if_match: NULL, or the etag the
 * client last saw ("*" = must exist); if_none_match "*": must not exist.
 * Online the write goes to the share first, then the cache; offline, or when
 * the share fails mid-write, it lands in the cache as a dirty change.
 */
int of_engine_file_write(struct of_engine *eng, const char *path, const char *user,
                         struct of_content_tmp *upload, const char *if_match,
                         const char *if_none_match, struct of_write_result *ret_result,
                         struct of_error *reterr);

/* DELETE a file or empty directory; offline it becomes a deleted-offline tombstone. */
int of_engine_file_delete(struct of_engine *eng, const char *path, const char *user,
                          const char *if_match, struct of_write_result *ret_result,
                          struct of_error *reterr);

/* Create a directory (its parent must exist); offline it is created offline. */
int of_engine_dir_create(struct of_engine *eng, const char *path, const char *user,
                         struct of_write_result *ret_result, struct of_error *reterr);

struct of_dir_entry {
    char name[OF_NAME_MAX];
    enum of_item_type type;
    int64_t size;
    int64_t mtime_ns;
};

/*
 * List a directory (or share root): from the server when online, recording
 * new children as ghosts; from the cache when offline. Malloc'ed array,
 * caller frees.
 */
int of_engine_dir_list(struct of_engine *eng, const char *path, const char *user,
                       struct of_dir_entry **ret_entries, size_t *ret_count, int *ret_offline,
                       struct of_error *reterr);

/* ---- cache (cache.c) ---- */

struct of_cache_info {
    char location[1024];
    int enabled;
    int64_t volume_total;
    int64_t limit;
    int64_t used;
    int64_t unpinned_limit;
    int64_t unpinned_used;
};

int of_engine_cache_get(struct of_engine *eng, struct of_cache_info *ret_info,
                        struct of_error *reterr);

struct of_cache_patch {
    int has_enabled, enabled;
    int has_limit;
    int64_t limit;
    int has_unpinned_limit;
    int64_t unpinned_limit;
};
/* SetDiskSpaceLimits / Enable: limits must be >= 0 and unpinned <= total. */
int of_engine_cache_set(struct of_engine *eng, const struct of_cache_patch *patch,
                        struct of_cache_info *ret_info, struct of_error *reterr);

#endif
