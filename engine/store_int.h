/* SPDX-License-Identifier: MIT */
/*
 * Store internals shared by store.c (connections, schema, statements,
 * transactions), store_items.c (items), store_meta.c (pins, shares, tokens,
 * meta) and store_log.c (events, jobs, conflicts); not part of the store's
 * contract.
 */
#ifndef OF_STORE_INT_H
#define OF_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "store.h"

enum stmt_id {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_ITEM_BY_PATH,
    S_ITEM_BY_ID,
    S_ITEM_INSERT,
    S_ITEM_UPDATE,
    S_ITEM_DELETE,
    S_ITEM_TOUCH,
    S_ITEM_MOVE_ROOT,
    S_ITEM_MOVE_BELOW,
    S_ITEM_CHILDREN,
    S_SCAN_ALL,
    S_SCAN_DESC,
    S_SCAN_DIRTY,
    S_SCAN_CHILD,
    S_SCAN_ROOTS,
    S_PINS_OF,
    S_PIN_BELOW,
    S_PIN_SET,
    S_PIN_ROWS,
    S_PIN_CLEAR,
    S_EVICTABLE,
    S_SUSPEND_BELOW,
    S_SHARE_GET,
    S_SHARE_LIST,
    S_SHARE_INSERT,
    S_SHARE_UPDATE,
    S_SHARE_DELETE,
    S_TOKEN_ADD,
    S_TOKEN_FIND,
    S_TOKEN_COUNT,
    S_META_GET,
    S_META_SET,
    S_CONTENT_NAMES,
    S_USAGE,
    S_EVENT_APPEND,
    S_EVENT_SCAN,
    S_EVENT_BOUNDS,
    S_EVENT_PRUNE,
    S_JOB_INSERT,
    S_JOB_UPDATE,
    S_JOB_GET,
    S_JOB_SCAN,
    S_JOB_INTERRUPT,
    S_JOB_ITEM_ADD,
    S_JOB_ITEM_SCAN,
    S_CONFLICT_UPSERT,
    S_CONFLICT_GET,
    S_CONFLICT_FIND,
    S_CONFLICT_DELETE,
    S_CONFLICT_SCAN,
    S__COUNT
};

#define STORE_READERS 4

/* s = the statement id, or rc = a store error and goto out_unlock (a label every caller has). */
#define STORE_PREPARE(st, s, id, rc, reterr)                                                       \
    do {                                                                                           \
        (s) = store_stmt((st), (id));                                                              \
        if (!(s)) {                                                                                \
            (rc) = store_fail((st), (reterr), "prepare");                                          \
            goto out_unlock;                                                                       \
        }                                                                                          \
    } while (0)

/* A LIMIT for at most max rows: SQLite's -1, "no limit", for callers that pass SIZE_MAX. */
static inline sqlite3_int64
store_limit(size_t max)
{
    return max >= (size_t)INT64_MAX ? -1 : (sqlite3_int64)max;
}

/* An item with offline changes (of_item_dirty), as SQL over the items table. */
#define STORE_DIRTY_SQL "(created_offline OR deleted_offline OR mod_data OR mod_attrs OR mod_time)"

/* One SQLite connection with its prepared statements; the mutex is recursive. */
struct store_conn {
    pthread_mutex_t lock;
    sqlite3 *db;
    sqlite3_stmt *stmts[S__COUNT];
    struct of_store *st;
};

/*
 * One writer connection, held from begin to commit, and a few reader
 * connections: in WAL mode readers never wait for the writer, so lookups on
 * the request path run in parallel with each other and with a write.
 */
struct of_store {
    struct store_conn w;
    struct store_conn r[STORE_READERS];
    unsigned next_reader;
    int version;
    int txn_depth;  /* nesting of begin on the writer (guarded by its lock) */
    int txn_failed; /* an inner level rolled back: the outer commit must not */
};

/* "//a/b" -> "//a/b/" and "//a/b0": the bounds of every path below it. */
void store_below_bounds(const char *under, char *lo, char *hi, size_t cap);
/* Log the SQLite error and return OF_E(STORE) with a generic detail. */
int store_fail(struct of_store *st, struct of_error *reterr, const char *what);
/* The prepared statement for id (prepared on first use); caller holds the lock. */
sqlite3_stmt *store_stmt(struct of_store *st, enum stmt_id id);
/* Reset a statement and clear its bindings for the next use. */
void store_done(sqlite3_stmt *s);
/*
 * store_lock: the writer connection, for statements that change rows.
 * store_rlock: a connection to read from: the one this thread already holds
 * for st (so a read inside a transaction sees its own writes), else a reader.
 * Every lock is paired with store_unlock; store_stmt and store_fail act on
 * the connection most recently locked by this thread.
 */
void store_lock(struct of_store *st);
void store_rlock(struct of_store *st);
void store_unlock(struct of_store *st);
/* Copy a column's text into dst (cap bytes, truncating). */
void store_copy_text(char *dst, size_t cap, const unsigned char *src);
/* One bound parameter of store_exec: an integer, or text (borrowed for the call). */
struct store_arg {
    const char *text; /* NULL: the integer */
    int64_t i;
};
#define STORE_INT(v) ((struct store_arg){.text = NULL, .i = (int64_t)(v)})
#define STORE_TEXT(v) ((struct store_arg){.text = (v), .i = 0})
/*
 * Run a write statement that returns no rows, with args bound as ?1..?n, on
 * the writer; what names it in the error ("meta write").
 */
int store_exec(struct of_store *st, enum stmt_id id, const char *what, const struct store_arg *args,
               int n, struct of_error *reterr);
/* Run a statement that takes one integer and returns no rows (deletes by id). */
int store_exec_id(struct of_store *st, enum stmt_id id, int64_t value, struct of_error *reterr);
/* Run a statement returning one integer; binds value as ?1 when it has a parameter. */
int store_query_int(struct of_store *st, enum stmt_id id, int64_t value, int64_t *ret,
                    struct of_error *reterr);

#endif
