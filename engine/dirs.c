/* SPDX-License-Identifier: MIT */
/*
 * Deleting files and directories, creating directories, and listing them,
 * online through the share and offline from the cache. Listing a directory
 * online records its children as items (files without content are ghosts)
 * and refreshes what the cache knows of each child's REMOTE copy.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "util.h"

/* Drop the item and everything below it from the cache (rows first, content after). */
static int
drop_subtree(struct op *op, struct of_error *reterr)
{
    int rc = engine_drop_item(op->eng, &op->item, reterr);
    if (rc == 0) {
        op->have_item = 0;
        engine_op_announce(op, OF_EV_ItemDeletedFromCache);
    }
    return rc;
}

static int
find_live(void *ctx, const struct of_item *it)
{
    if (it->deleted_offline)
        return 0;
    *(int *)ctx = 1;
    return 1;
}

/* Tombstones of children deleted offline do not keep a directory "non-empty". */
static int
has_live_children(struct op *op, int *ret_live, struct of_error *reterr)
{
    *ret_live = 0;
    return of_store_item_scan(op->eng->store, op->item.path, 1, "", SIZE_MAX, find_live, ret_live,
                              NULL, reterr);
}

static int
delete_offline(struct op *op, struct of_write_result *res, struct of_error *reterr)
{
    struct of_item *it = &op->item;
    if (!op->have_item || it->deleted_offline)
        return of_error_set(reterr, OF_E(NOT_FOUND), "'%s' is not in the cache", it->path);
    int live = 0;
    int rc = it->type == OF_ITEM_FILE ? 0 : has_live_children(op, &live, reterr);
    if (rc == 0 && live)
        rc = of_error_set(reterr, OF_E(NOT_EMPTY), "'%s' is not empty", it->path);
    if (rc < 0)
        return rc;
    res->stored_offline = 1;
    if (it->created_offline)
        return drop_subtree(op, reterr); /* never on the server: nothing to sync */
    it->deleted_offline = 1;
    it->local.exists = 0;
    it->mod_data = it->mod_attrs = it->mod_time = 0;
    engine_op_set_content(op, "", 0);
    it->ghosted = 0;
    rc = engine_op_commit(op, 0, reterr);
    if (rc == 0)
        engine_op_announce(op, OF_EV_ItemModified);
    return rc;
}

int
of_engine_file_delete(struct of_engine *eng, const char *path, const char *user,
                      const char *if_match, struct of_write_result *ret_result,
                      struct of_error *reterr)
{
    struct op *op;
    struct of_write_result res = {0};
    int rc = engine_op_begin(eng, path, &op, reterr);
    if (rc < 0)
        return rc;
    struct of_item *it = &op->item;
    int exists = op->have_item && it->local.exists && !it->deleted_offline;
    if (if_match && op->have_item &&
        (!exists || (strcmp(if_match, "*") != 0 && strcmp(if_match, it->local.hash) != 0)))
        rc = of_error_set(reterr, OF_E(PRECONDITION), "'%s' has changed (etag mismatch)", path);
    if (rc < 0)
        goto out_op;
    if (!engine_share_online(eng, op->share)) {
        rc = delete_offline(op, &res, reterr);
        goto out_done;
    }
    const char *be_if = NULL;
    if (op->have_item && it->type == OF_ITEM_FILE && !of_item_dirty(it) && it->remote.etag[0])
        be_if = it->remote.etag;
    rc = op->share->be->ops->remove(op->share->be, op->rel, be_if, reterr);
    if (rc == OF_E(UNAVAILABLE)) {
        engine_share_failed(eng, op->share, reterr);
        rc = delete_offline(op, &res, reterr);
        goto out_done;
    }
    if (rc == OF_E(NOT_FOUND) && op->have_item)
        rc = 0; /* gone on the server already: forget the cached copy too */
    if (rc == OF_E(PRECONDITION))
        of_error_set(reterr, rc, "'%s' changed on the server since it was cached", path);
    if (rc == 0 && op->have_item)
        rc = drop_subtree(op, reterr);
out_done:
    if (rc == 0) {
        res.view.item = op->item;
        *ret_result = res;
    }
out_op:
    engine_op_end(op);
    (void)user;
    return rc;
}

int
of_engine_dir_create(struct of_engine *eng, const char *path, const char *user,
                     struct of_write_result *ret_result, struct of_error *reterr)
{
    struct op *op;
    struct of_write_result *res = calloc(1, sizeof(*res));
    if (!res)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    int rc = engine_op_begin(eng, path, &op, reterr);
    if (rc < 0)
        goto out_res;
    struct of_item *it = &op->item;
    if (op->have_item && !it->deleted_offline) {
        rc = of_error_set(reterr, OF_E(EXISTS), "'%s' already exists", path);
        goto out_op;
    }
    int online = engine_share_online(eng, op->share);
    struct of_stat st;
    if (online) {
        rc = op->share->be->ops->mkdir(op->share->be, op->rel, &st, reterr);
        if (rc == OF_E(UNAVAILABLE)) {
            engine_share_failed(eng, op->share, reterr);
            online = 0;
            rc = 0;
        }
    }
    if (rc < 0)
        goto out_op;
    it->type = OF_ITEM_DIRECTORY;
    if (online) {
        engine_copy_from_stat(&it->remote, &st);
        it->original = it->remote;
        it->local = it->remote;
        it->local.etag[0] = '\0';
        it->created_offline = it->deleted_offline = 0;
    } else {
        if (op->share->rec.caching_mode == OF_CACHING_NONE) {
            rc = of_error_set(reterr, OF_E(NOT_OFFLINE), "the share does not allow caching");
            goto out_op;
        }
        it->created_offline = !it->original.exists;
        it->deleted_offline = 0;
        it->local.exists = 1;
        it->local.attrs = OF_ATTR_DIRECTORY;
        it->local.mtime_ns = of_now_ns();
        res->stored_offline = 1;
    }
    it->last_access_ns = of_now_ns();
    rc = engine_op_commit(op, online, reterr);
    if (rc == 0)
        engine_op_announce(op, OF_EV_ItemAddedToCache);
    if (rc == 0)
        rc = engine_item_view(eng, it, user, &res->view, reterr);
    res->created = 1;
    if (rc == 0)
        memcpy(ret_result, res, sizeof(*res));
out_op:
    engine_op_end(op);
out_res:
    free(res);
    return rc;
}

/* ---- listing ---- */

struct listing {
    struct of_dir_entry *v;
    size_t n, cap;
};

static int
listing_add(struct listing *l, const char *name, enum of_item_type type, int64_t size,
            int64_t mtime_ns)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        void *grown = realloc(l->v, cap * sizeof(*l->v));
        if (!grown)
            return OF_E(NOMEM);
        l->v = grown;
        l->cap = cap;
    }
    struct of_dir_entry *e = &l->v[l->n++];
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->type = type;
    e->size = size;
    e->mtime_ns = mtime_ns;
    return 0;
}

struct list_ctx {
    struct listing *out;
    const struct of_dirent *remote; /* sorted by name, or NULL offline */
    size_t n_remote;
};

static int
cmp_dirent(const void *a, const void *b)
{
    return strcmp(((const struct of_dirent *)a)->name, ((const struct of_dirent *)b)->name);
}

/* Cached children: offline all live ones; online only those the server lacks (created offline). */
static int
add_cached_child(void *ctx, const struct of_item *it)
{
    struct list_ctx *lc = ctx;
    const char *name = of_path_name(it->path);
    if (it->deleted_offline || !it->local.exists)
        return 0;
    if (lc->remote) {
        struct of_dirent key;
        snprintf(key.name, sizeof(key.name), "%s", name);
        if (lc->n_remote && bsearch(&key, lc->remote, lc->n_remote, sizeof(key), cmp_dirent))
            return 0;
    }
    return listing_add(lc->out, name, it->type, it->local.size, it->local.mtime_ns);
}

struct dir_pins {
    struct of_pin_row rows[16];
    int n;
};

static void
add_pin(void *arg, const struct of_pin_row *row)
{
    struct dir_pins *p = arg;
    if (row->inherit && p->n < 16)
        p->rows[p->n++] = *row;
}

/* Record the server's entries as items: new files as ghosts, REMOTE refreshed for known ones. */
static int
record_children(struct of_engine *eng, struct share_rt *s, const char *path,
                const struct of_dirent *ents, size_t n, struct of_item *it, struct of_error *reterr)
{
    char child[OF_PATH_MAX + 1], probe[OF_PATH_MAX + 3];
    int64_t dir_id;
    int rc = of_store_begin(eng->store, reterr);
    if (rc < 0)
        return rc;
    /* The parents of "path/_" are path itself and its ancestors. */
    snprintf(probe, sizeof(probe), "%s/_", path);
    rc = engine_ensure_parents(eng, s, probe, 1, it, &dir_id, reterr);
    struct dir_pins pins = {0};
    if (rc == 0)
        of_store_pin_rows(eng->store, dir_id, add_pin, &pins, NULL);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, ents[i].name) >= sizeof(child))
            continue;
        enum of_item_type type = ents[i].st.type == OF_STAT_DIR ? OF_ITEM_DIRECTORY : OF_ITEM_FILE;
        int inherit = 0;
        int got = of_store_item_get(eng->store, child, it, NULL);
        if (got == 0) {
            if (strcmp(it->remote.etag, ents[i].st.etag) == 0 && it->remote.exists)
                continue;
            /* The server copy changed: its hash is unknown until it is read. */
            engine_copy_from_stat(&it->remote, &ents[i].st);
            it->remote.hash[0] = '\0';
        } else {
            inherit = 1;
            engine_item_init(it, child, type, dir_id, s->rec.id);
            engine_copy_from_stat(&it->remote, &ents[i].st);
            it->original = it->remote;
            it->local = it->remote;
            it->local.etag[0] = '\0';
            it->ghosted = type == OF_ITEM_FILE;
        }
        rc = of_store_item_put(eng->store, it, reterr);
        /* New children of a directory pinned with inheritance are pinned too. */
        for (int k = 0; rc == 0 && inherit && k < pins.n; k++)
            rc = of_store_pin_set(eng->store, it->id, pins.rows[k].scope, pins.rows[k].user,
                                  type != OF_ITEM_FILE, reterr);
    }
    if (rc == 0)
        rc = of_store_commit(eng->store, reterr);
    else
        of_store_rollback(eng->store);
    return rc;
}

int
of_engine_dir_list(struct of_engine *eng, const char *path, const char *user,
                   struct of_dir_entry **ret_entries, size_t *ret_count, int *ret_offline,
                   struct of_error *reterr)
{
    struct share_rt *s;
    const char *rel;
    struct listing out = {0};
    struct of_dirent *ents = NULL;
    size_t n = 0;
    int depth = of_path_validate(path, reterr);
    if (depth < 0)
        return depth;
    int rc = engine_share_for_path(eng, path, &s, &rel, reterr);
    if (rc < 0)
        return rc;
    struct of_item *it = malloc(sizeof(*it));
    if (!it) {
        engine_share_release(eng, s);
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    }
    int have = of_store_item_get(eng->store, path, it, NULL) == 0;
    /* A suspended tree is listed from the cache: it never reaches the server. */
    int online = engine_share_online(eng, s) && !(have && it->suspended);
    /* Online the server decides; a cached file that became a directory is sync's to settle. */
    int clash = have && it->type == OF_ITEM_FILE;
    if (clash && !online) {
        rc = of_error_set(reterr, OF_E(NOT_A_DIR), "'%s' is a file", path);
        goto out_free;
    }
    if (online) {
        rc = s->be->ops->list(s->be, rel, &ents, &n, reterr);
        if (rc == OF_E(UNAVAILABLE)) {
            engine_share_failed(eng, s, reterr);
            online = 0;
            rc = 0;
        }
    }
    if (rc == 0 && online && !clash && s->rec.caching_mode != OF_CACHING_NONE)
        rc = record_children(eng, s, path, ents, n, it, reterr);
    if (rc < 0)
        goto out_free;
    if (!online && (!have || it->deleted_offline)) {
        rc = of_error_set(reterr, OF_E(NOT_OFFLINE), "'%s' is not cached and the share is offline",
                          path);
        goto out_free;
    }
    if (n)
        qsort(ents, n, sizeof(*ents), cmp_dirent);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = listing_add(&out, ents[i].name,
                         ents[i].st.type == OF_STAT_DIR ? OF_ITEM_DIRECTORY : OF_ITEM_FILE,
                         ents[i].st.size, ents[i].st.mtime_ns);
    struct list_ctx lc = {&out, online ? ents : NULL, n};
    if (rc == 0 && !clash && (have || online))
        rc = of_store_item_scan(eng->store, path, 1, "", SIZE_MAX, add_cached_child, &lc, NULL,
                                reterr);
    if (rc == 0) {
        *ret_entries = out.v;
        *ret_count = out.n;
        *ret_offline = !online;
        out.v = NULL;
    }
out_free:
    free(out.v);
    free(ents);
    free(it);
    engine_share_release(eng, s);
    (void)user;
    return rc;
}
