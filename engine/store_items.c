/* SPDX-License-Identifier: MIT */
/*
 * The store's items table behind store.h: the item row <-> struct of_item
 * map, lookups by path and id, writes, moves, and the scans (a subtree, a
 * directory's children, eviction candidates).
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

static void
row_copy(sqlite3_stmt *s, int col, struct of_copy *c)
{
    c->exists = sqlite3_column_int(s, col);
    c->size = sqlite3_column_int64(s, col + 1);
    c->mtime_ns = sqlite3_column_int64(s, col + 2);
    c->attrs = (uint32_t)sqlite3_column_int64(s, col + 3);
    store_copy_text(c->etag, sizeof(c->etag), sqlite3_column_text(s, col + 4));
    store_copy_text(c->hash, sizeof(c->hash), sqlite3_column_text(s, col + 5));
}

static void
row_item(sqlite3_stmt *s, struct of_item *it)
{
    it->id = sqlite3_column_int64(s, 0);
    it->parent_id = sqlite3_column_int64(s, 1);
    it->share_id = sqlite3_column_int64(s, 2);
    it->type = (enum of_item_type)sqlite3_column_int(s, 3);
    store_copy_text(it->path, sizeof(it->path), sqlite3_column_text(s, 4));
    row_copy(s, 5, &it->local);
    row_copy(s, 11, &it->remote);
    row_copy(s, 17, &it->original);
    store_copy_text(it->content, sizeof(it->content), sqlite3_column_text(s, 23));
    it->cached_bytes = sqlite3_column_int64(s, 24);
    int *flags[] = {&it->ghosted,         &it->sparse,        &it->created_offline,
                    &it->deleted_offline, &it->mod_data,      &it->mod_attrs,
                    &it->mod_time,        &it->suspended,     &it->suspended_root,
                    &it->transparent,     &it->marked_delete, &it->encrypted};
    for (int i = 0; i < 12; i++)
        *flags[i] = sqlite3_column_int(s, 25 + i);
    it->last_access_ns = sqlite3_column_int64(s, 37);
}

static void
bind_id_or_null(sqlite3_stmt *s, int col, int64_t id)
{
    if (id)
        sqlite3_bind_int64(s, col, id);
    else
        sqlite3_bind_null(s, col);
}

static void
bind_copy(sqlite3_stmt *s, int col, const struct of_copy *c)
{
    sqlite3_bind_int(s, col, c->exists);
    sqlite3_bind_int64(s, col + 1, c->size);
    sqlite3_bind_int64(s, col + 2, c->mtime_ns);
    sqlite3_bind_int64(s, col + 3, c->attrs);
    sqlite3_bind_text(s, col + 4, c->etag, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, col + 5, c->hash, -1, SQLITE_STATIC);
}

static void
bind_item(sqlite3_stmt *s, const struct of_item *it)
{
    bind_id_or_null(s, 2, it->parent_id);
    bind_id_or_null(s, 3, it->share_id);
    sqlite3_bind_int(s, 4, (int)it->type);
    sqlite3_bind_text(s, 5, it->path, -1, SQLITE_STATIC);
    bind_copy(s, 6, &it->local);
    bind_copy(s, 12, &it->remote);
    bind_copy(s, 18, &it->original);
    sqlite3_bind_text(s, 24, it->content, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 25, it->cached_bytes);
    const int flags[] = {it->ghosted,         it->sparse,        it->created_offline,
                         it->deleted_offline, it->mod_data,      it->mod_attrs,
                         it->mod_time,        it->suspended,     it->suspended_root,
                         it->transparent,     it->marked_delete, it->encrypted};
    for (int i = 0; i < 12; i++)
        sqlite3_bind_int(s, 26 + i, flags[i]);
    sqlite3_bind_int64(s, 38, it->last_access_ns);
}

static int
item_get(struct of_store *st, enum stmt_id id, const char *path, int64_t rowid,
         struct of_item *ret_item, struct of_error *reterr)
{
    store_rlock(st);
    int rc = 0;
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, id, rc, reterr);
    if (path)
        sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 1, rowid);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        row_item(s, ret_item);
    else if (step == SQLITE_DONE)
        rc =
            of_error_set(reterr, OF_E(NOT_FOUND), "'%s' is not in the cache", path ? path : "item");
    else
        rc = store_fail(st, reterr, "item lookup");
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_item_get(struct of_store *st, const char *path, struct of_item *ret_item,
                  struct of_error *reterr)
{
    return item_get(st, S_ITEM_BY_PATH, path, 0, ret_item, reterr);
}

int
of_store_item_get_id(struct of_store *st, int64_t id, struct of_item *ret_item,
                     struct of_error *reterr)
{
    return item_get(st, S_ITEM_BY_ID, NULL, id, ret_item, reterr);
}

int
of_store_item_put(struct of_store *st, struct of_item *item, struct of_error *reterr)
{
    store_lock(st);
    int rc = 0;
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, item->id ? S_ITEM_UPDATE : S_ITEM_INSERT, rc, reterr);
    bind_item(s, item);
    if (item->id)
        sqlite3_bind_int64(s, 1, item->id);
    int step = sqlite3_step(s);
    if (step == SQLITE_CONSTRAINT)
        rc = of_error_set(reterr, OF_E(EXISTS), "'%s' is already in the cache", item->path);
    else if (step != SQLITE_DONE)
        rc = store_fail(st, reterr, "item write");
    else if (!item->id)
        item->id = sqlite3_last_insert_rowid(st->w.db);
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_item_delete(struct of_store *st, int64_t id, struct of_error *reterr)
{
    return store_exec_id(st, S_ITEM_DELETE, id, reterr);
}

int
of_store_item_move(struct of_store *st, int64_t id, const char *from, const char *to,
                   int64_t parent_id, struct of_error *reterr)
{
    int rc = 0;
    store_lock(st);
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, S_ITEM_MOVE_BELOW, rc, reterr);
    /* Children first: their new paths are free because the new root path is. */
    sqlite3_bind_text(s, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, to, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = store_fail(st, reterr, "move");
    store_done(s);
    s = rc == 0 ? store_stmt(st, S_ITEM_MOVE_ROOT) : NULL;
    if (s) {
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, to, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, parent_id);
        if (sqlite3_step(s) != SQLITE_DONE)
            rc = store_fail(st, reterr, "move");
        store_done(s);
    }
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_item_touch(struct of_store *st, int64_t id, int64_t when_ns, struct of_error *reterr)
{
    return store_exec(st, S_ITEM_TOUCH, "touch",
                      (struct store_arg[]){STORE_INT(id), STORE_INT(when_ns)}, 2, reterr);
}

int
of_store_item_child_count(struct of_store *st, int64_t id, int64_t *ret_count,
                          struct of_error *reterr)
{
    return store_query_int(st, S_ITEM_CHILDREN, id, ret_count, reterr);
}

/* Visit the rows of s (bound with its LIMIT) with cb; a row past max, or a stop, sets *ret_more. */
static int
scan_rows(struct of_store *st, sqlite3_stmt *s, size_t max, struct of_item *it,
          int (*cb)(void *ctx, const struct of_item *item), void *ctx, int *ret_more,
          struct of_error *reterr)
{
    size_t n = 0;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        if (n++ == max) {
            *ret_more = 1;
            return 0;
        }
        row_item(s, it);
        int r = cb(ctx, it);
        if (r != 0) {
            *ret_more = r > 0;
            return r < 0 ? r : 0;
        }
    }
    return step == SQLITE_DONE ? 0 : store_fail(st, reterr, "scan");
}

int
of_store_evictable(struct of_store *st, size_t max,
                   int (*cb)(void *ctx, const struct of_item *item), void *ctx,
                   struct of_error *reterr)
{
    struct of_item *it = malloc(sizeof(*it));
    if (!it)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    int rc = 0;
    store_rlock(st);
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, S_EVICTABLE, rc, reterr);
    int more = 0;
    sqlite3_bind_int64(s, 1, store_limit(max));
    rc = scan_rows(st, s, max, it, cb, ctx, &more, reterr);
    store_done(s);
out_unlock:
    store_unlock(st);
    free(it);
    return rc;
}

int
of_store_suspend_below(struct of_store *st, const char *path, int suspended,
                       struct of_error *reterr)
{
    return store_exec(st, S_SUSPEND_BELOW, "suspend",
                      (struct store_arg[]){STORE_TEXT(path), STORE_INT(suspended)}, 2, reterr);
}

/* The scans below: dirty reads the descendants (depth 0) with offline changes only. */
static int
scan(struct of_store *st, int dirty, const char *under, int depth, const char *after, size_t max,
     int (*cb)(void *ctx, const struct of_item *item), void *ctx, int *ret_more,
     struct of_error *reterr)
{
    char lo[OF_PATH_MAX + 2], hi[OF_PATH_MAX + 2];
    struct of_item *it = malloc(sizeof(*it));
    if (!it)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    int rc = 0, more = 0;
    int64_t parent = 0;
    sqlite3_stmt *s = NULL;
    store_rlock(st);
    if (under[0] && depth == 1) {
        rc = of_store_item_get(st, under, it, reterr);
        if (rc < 0)
            goto out_unlock;
        parent = it->id;
    }
    enum stmt_id id = dirty       ? S_SCAN_DIRTY
                      : !under[0] ? (depth == 1 ? S_SCAN_ROOTS : S_SCAN_ALL)
                                  : (depth == 1 ? S_SCAN_CHILD : S_SCAN_DESC);
    STORE_PREPARE(st, s, id, rc, reterr);
    int col = 1;
    if (id == S_SCAN_CHILD)
        sqlite3_bind_int64(s, col++, parent);
    if (id == S_SCAN_DESC || id == S_SCAN_DIRTY) {
        /* Every path starts with "//": the bounds of "" (from "/" to "0") hold them all. */
        store_below_bounds(under, lo, hi, sizeof(lo));
        sqlite3_bind_text(s, col++, strcmp(after, lo) > 0 ? after : lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, col++, hi, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_text(s, col++, after, -1, SQLITE_STATIC);
    }
    /* One extra row tells the caller whether a next page exists. */
    sqlite3_bind_int64(s, col, store_limit(max < SIZE_MAX ? max + 1 : max));
    rc = scan_rows(st, s, max, it, cb, ctx, &more, reterr);
    store_done(s);
out_unlock:
    store_unlock(st);
    free(it);
    if (rc == 0 && ret_more)
        *ret_more = more;
    return rc;
}

int
of_store_item_scan(struct of_store *st, const char *under, int depth, const char *after, size_t max,
                   int (*cb)(void *ctx, const struct of_item *item), void *ctx, int *ret_more,
                   struct of_error *reterr)
{
    return scan(st, 0, under, depth, after, max, cb, ctx, ret_more, reterr);
}

int
of_store_dirty_scan(struct of_store *st, const char *under, const char *after, size_t max,
                    int (*cb)(void *ctx, const struct of_item *item), void *ctx, int *ret_more,
                    struct of_error *reterr)
{
    return scan(st, 1, under, 0, after, max, cb, ctx, ret_more, reterr);
}
