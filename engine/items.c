/* SPDX-License-Identifier: MIT */
/*
 * Item lookups and enumeration (FindItem, EnumItemsEx with the
 * IOfflineFilesItemFilter criteria): flags with a mask, name patterns per
 * kind, a modification-time window, and cursor pages in path order.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

static const char *const flag_names[OF_FLAG__COUNT] = {
    [OF_FLAG_MODIFIED_DATA] = "modifiedData",
    [OF_FLAG_MODIFIED_ATTRIBUTES] = "modifiedAttributes",
    [OF_FLAG_MODIFIED] = "modified",
    [OF_FLAG_CREATED] = "createdOffline",
    [OF_FLAG_DELETED] = "deletedOffline",
    [OF_FLAG_DIRTY] = "dirty",
    [OF_FLAG_SPARSE] = "sparse",
    [OF_FLAG_FILE] = "file",
    [OF_FLAG_DIRECTORY] = "directory",
    [OF_FLAG_PINNED_USER] = "pinnedForUser",
    [OF_FLAG_PINNED_OTHERS] = "pinnedForOthers",
    [OF_FLAG_PINNED_COMPUTER] = "pinnedForComputer",
    [OF_FLAG_PINNED] = "pinned",
    [OF_FLAG_GHOST] = "ghosted",
    [OF_FLAG_SUSPENDED] = "suspended",
    [OF_FLAG_OFFLINE] = "offline",
    [OF_FLAG_ONLINE] = "online",
    [OF_FLAG_MODIFIED_TIME] = "modifiedTime",
    [OF_FLAG_TRANSPARENT] = "transparentlyCached",
};

int
of_item_flag_parse(const char *name, enum of_item_flag *ret_flag)
{
    for (int i = 0; i < OF_FLAG__COUNT; i++) {
        if (strcmp(name, flag_names[i]) == 0) {
            *ret_flag = (enum of_item_flag)i;
            return 0;
        }
    }
    return -1;
}

const char *
of_item_flag_name(enum of_item_flag flag)
{
    return (unsigned)flag < OF_FLAG__COUNT ? flag_names[flag] : "";
}

/* The state the share with this id shows. Unknown ids: unknown. */
static void
share_id_state(struct of_engine *eng, int64_t share_id, enum of_conn_state *ret_state,
               enum of_offline_reason *ret_reason)
{
    *ret_state = OF_CONN_UNKNOWN;
    *ret_reason = OF_REASON_NONE;
    pthread_mutex_lock(&eng->shares_lock);
    for (size_t i = 0; i < eng->n_shares; i++) {
        if (eng->shares[i]->rec.id == share_id) {
            engine_share_state(eng->shares[i], ret_state, ret_reason);
            break;
        }
    }
    pthread_mutex_unlock(&eng->shares_lock);
}

/* Does a conflict record hold path? (One lookup by path; only dirty items ask.) */
static int
in_conflict(struct of_engine *eng, const char *path)
{
    struct of_conflict_rec *rec =
        malloc(sizeof(*rec)); /* a record is a few KiB: not on the stack */
    int found = rec && of_store_conflict_find(eng->store, path, rec, NULL) == 0;
    free(rec);
    return found;
}

/*
 * An item of a share that is up is offline all the same where the server is
 * not asked about it: in a suspended tree, or while its offline change waits
 * on a conflict record.
 */
static void
item_state(struct of_engine *eng, const struct of_item *item, struct of_item_view *v)
{
    if (!of_conn_up(v->conn_state) || item->type == OF_ITEM_SERVER || item->type == OF_ITEM_SHARE)
        return;
    if (item->suspended || (of_item_dirty(item) && in_conflict(eng, item->path))) {
        v->conn_state = OF_CONN_OFFLINE;
        v->conn_reason = item->suspended ? OF_REASON_SUSPENDED : OF_REASON_VERSION_CONFLICT;
    } else if (item->transparent) {
        v->conn_state = OF_CONN_TRANSPARENT;
    }
}

int
engine_item_view(struct of_engine *eng, const struct of_item *item, const char *user,
                 struct of_item_view *ret_view, struct of_error *reterr)
{
    int rc = of_store_pin_info(eng->store, item, user, &ret_view->pin, reterr);
    if (rc < 0)
        return rc;
    if (&ret_view->item != item)
        ret_view->item = *item;
    ret_view->dirty_bytes_local = item->type == OF_ITEM_FILE &&
                                          (item->mod_data || item->created_offline) &&
                                          !item->deleted_offline
                                      ? item->local.size
                                      : 0;
    if (item->type == OF_ITEM_SERVER) {
        char server[OF_SEGMENT_MAX + 1], share[OF_SEGMENT_MAX + 1];
        struct of_conn_info ci;
        of_path_split(item->path, server, share, NULL);
        if (of_engine_connection_get(eng, server, NULL, &ci, NULL) == 0) {
            ret_view->conn_state = ci.state;
            ret_view->conn_reason = ci.reason;
        } else {
            ret_view->conn_state = OF_CONN_UNKNOWN;
            ret_view->conn_reason = OF_REASON_NONE;
        }
    } else {
        share_id_state(eng, item->share_id, &ret_view->conn_state, &ret_view->conn_reason);
    }
    ret_view->online = of_conn_up(ret_view->conn_state);
    item_state(eng, item, ret_view);
    return 0;
}

int
of_engine_item_get(struct of_engine *eng, const char *path, const char *user,
                   struct of_item_view *ret_view, struct of_error *reterr)
{
    struct of_item_view *v = malloc(sizeof(*v));
    if (!v)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    int rc = of_store_item_get(eng->store, path, &v->item, reterr);
    if (rc == 0)
        rc = engine_item_view(eng, &v->item, user, v, reterr);
    if (rc == 0)
        memcpy(ret_view, v, sizeof(*v));
    free(v);
    return rc;
}

static uint64_t
item_flags(const struct of_item_view *v)
{
    const struct of_item *it = &v->item;
    uint64_t f = 0;
#define SETF(flag, cond)                                                                           \
    if (cond)                                                                                      \
        f |= 1ull << (flag);
    SETF(OF_FLAG_MODIFIED_DATA, it->mod_data);
    SETF(OF_FLAG_MODIFIED_ATTRIBUTES, it->mod_attrs);
    SETF(OF_FLAG_MODIFIED, it->mod_data || it->mod_attrs);
    SETF(OF_FLAG_CREATED, it->created_offline);
    SETF(OF_FLAG_DELETED, it->deleted_offline);
    SETF(OF_FLAG_DIRTY, of_item_dirty(it));
    SETF(OF_FLAG_SPARSE, it->sparse);
    SETF(OF_FLAG_FILE, it->type == OF_ITEM_FILE);
    SETF(OF_FLAG_DIRECTORY, it->type != OF_ITEM_FILE);
    SETF(OF_FLAG_PINNED_USER, v->pin.for_user);
    SETF(OF_FLAG_PINNED_OTHERS, v->pin.for_others);
    SETF(OF_FLAG_PINNED_COMPUTER, v->pin.for_computer);
    SETF(OF_FLAG_PINNED, v->pin.pinned);
    SETF(OF_FLAG_GHOST, it->ghosted);
    SETF(OF_FLAG_SUSPENDED, it->suspended);
    SETF(OF_FLAG_OFFLINE, !v->online);
    SETF(OF_FLAG_ONLINE, v->online);
    SETF(OF_FLAG_MODIFIED_TIME, it->mod_time);
    SETF(OF_FLAG_TRANSPARENT, it->transparent);
#undef SETF
    return f;
}

static int
any_match(const char *const *patterns, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (fnmatch(patterns[i], name, FNM_PERIOD) == 0)
            return 1;
    return 0;
}

/* The EnumItemsEx rule: included unless an include list misses or an exclude list hits. */
static int
matches(const struct of_item_query *q, const struct of_item_view *v)
{
    const struct of_item *it = &v->item;
    if (q->types && !(q->types & (1u << it->type)))
        return 0;
    const char *name = of_path_name(it->path);
    if (it->type == OF_ITEM_FILE) {
        if (q->n_include_files && !any_match(q->include_files, q->n_include_files, name))
            return 0;
        if (any_match(q->exclude_files, q->n_exclude_files, name))
            return 0;
    } else {
        if (q->n_include_dirs && !any_match(q->include_dirs, q->n_include_dirs, name))
            return 0;
        if (any_match(q->exclude_dirs, q->n_exclude_dirs, name))
            return 0;
    }
    if (q->mask && ((item_flags(v) ^ q->flags) & q->mask))
        return 0;
    if (q->modified_after_ns && !(it->local.mtime_ns > q->modified_after_ns))
        return 0;
    if (q->modified_before_ns && !(it->local.mtime_ns < q->modified_before_ns))
        return 0;
    return 1;
}

struct query_ctx {
    struct of_engine *eng;
    const struct of_item_query *q;
    int (*cb)(void *ctx, const struct of_item_view *view);
    void *cb_ctx;
    struct of_item_view view;
    size_t emitted;
    int full;
    char last[OF_PATH_MAX + 1]; /* last path scanned, the resume point */
};

static int
visit(void *ctx, const struct of_item *it)
{
    struct query_ctx *qc = ctx;
    memcpy(qc->last, it->path, strlen(it->path) + 1);
    int rc = engine_item_view(qc->eng, it, qc->q->user, &qc->view, NULL);
    if (rc < 0)
        return rc;
    if (!matches(qc->q, &qc->view))
        return 0;
    rc = qc->cb(qc->cb_ctx, &qc->view);
    if (rc != 0)
        return rc;
    if (++qc->emitted == qc->q->limit) {
        qc->full = 1;
        return 1;
    }
    return 0;
}

int
of_engine_items_query(struct of_engine *eng, const struct of_item_query *q,
                      int (*cb)(void *ctx, const struct of_item_view *view), void *ctx,
                      char *ret_next, struct of_error *reterr)
{
    struct query_ctx *qc = calloc(1, sizeof(*qc));
    if (!qc)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    qc->eng = eng;
    qc->q = q;
    qc->cb = cb;
    qc->cb_ctx = ctx;
    int rc = 0, more = 1;
    if (q->under[0]) {
        rc = of_store_item_get(eng->store, q->under, &qc->view.item, reterr);
        if (rc == 0 && q->depth == 1 && !of_item_is_container(&qc->view.item))
            rc = of_error_set(reterr, OF_E(NOT_A_DIR), "'%s' is a file", q->under);
    }
    snprintf(qc->last, sizeof(qc->last), "%s", q->cursor ? q->cursor : "");
    /* Asking for dirty items in a whole tree reads those alone (the sync and its pollers do). */
    const uint64_t dirty = 1ull << OF_FLAG_DIRTY;
    int dirty_only = q->depth == 0 && (q->mask & dirty) && (q->flags & dirty);
    /* Filters run here, so read in batches until a page is full or rows run out. */
    while (rc == 0 && more && !qc->full)
        rc = dirty_only ? of_store_dirty_scan(eng->store, q->under, qc->last, 512, visit, qc, &more,
                                              reterr)
                        : of_store_item_scan(eng->store, q->under, q->depth, qc->last, 512, visit,
                                             qc, &more, reterr);
    if (rc == 0)
        snprintf(ret_next, OF_PATH_MAX + 1, "%s", qc->full && more ? qc->last : "");
    free(qc);
    return rc;
}
