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
    enum of_conn_state state;
    enum of_offline_reason reason;
    int64_t last_change_ns;
    int64_t last_failure_ns;
    char last_error[512];
};

#define TOKEN_CACHE_SIZE 64

/* A token already checked: its hash and who holds it. Tokens are never revoked yet. */
struct token_entry {
    char hash[OF_HASH_HEX];
    struct of_principal who;
};

struct of_engine {
    char data_dir[2048];
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
/* A backend call failed with UNAVAILABLE: take the share offline (connection error). */
void engine_share_failed(struct of_engine *eng, struct share_rt *s, const struct of_error *err);
/* Snapshot of a share's connection state. */
void engine_share_conn(struct of_engine *eng, struct share_rt *s, struct of_conn_info *ret);

/* Load shares from the store and open their backends (engine open). */
int engine_shares_load(struct of_engine *eng, struct of_error *reterr);
void engine_shares_free(struct of_engine *eng);

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
/* Point op->item at new content ("" = none, a ghost). */
void engine_op_set_content(struct op *op, const char *name, int64_t size);
/*
 * Commit op->item in a transaction: update the current row for its path (or
 * insert it, creating parent items first); content the row named before is
 * unlinked by engine_op_end.
 */
int engine_op_commit(struct op *op, int online, struct of_error *reterr);

#endif
