/* SPDX-License-Identifier: MIT */
/*
 * Carrying out one planned sync operation. Each re-reads the item, does the
 * server side first with a precondition on the version the plan saw (so a
 * change made meanwhile is caught as a conflict, never overwritten), then
 * commits the row. A directory is deleted on either side only when nothing
 * under it changed on the other; otherwise the directory is one conflict
 * and nothing under it is deleted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sync_int.h"
#include "util.h"

/* Publish an item event for the op's path. */
static void
announce(struct sync_ctx *ctx, enum of_event_type type, const char *path, int item_type, int data,
         int attrs)
{
    struct of_event *ev = malloc(sizeof(*ev));
    if (!ev)
        return;
    of_event_init(ev, type, path);
    ev->item_type = item_type;
    ev->job_id = engine_job_id(ctx->job);
    ev->flag_a = data;
    ev->flag_b = attrs;
    engine_publish(ctx->eng, ev);
    free(ev);
}

static int
as_conflict(struct sync_ctx *ctx, struct plan_entry *e, enum of_sync_state state,
            struct of_error *reterr)
{
    e->op = OF_SYNC_OP_CONFLICT;
    e->res.state = state;
    e->res.conflict = 1;
    return sync_record_conflict(ctx, e, reterr);
}

/* ---- client to server ---- */

/*
 * The row of a pushed file, with the server's new version st. The local
 * mtime stays: it is the file's, which the server's copy need not share.
 */
static void
set_pushed(struct op *op, const struct of_stat *st)
{
    char hash[OF_HASH_HEX];
    memcpy(hash, op->item.local.hash, sizeof(hash));
    int64_t mtime = op->item.local.mtime_ns;
    engine_op_set_synced(op, st, hash);
    op->item.local.mtime_ns = mtime;
}

/* Pushed d's row, with the server's new version st, goes to the committer. */
static int
pushed_row(struct sync_ctx *ctx, struct sync_deferred *d, const struct of_stat *st)
{
    set_pushed(d->op, st);
    d->c = (struct op_commit){d->op, 1, 0, NULL};
    d->c.err = &d->err;
    return sync_defer(ctx, d);
}

static int
push(struct sync_ctx *ctx, struct op *op, struct plan_entry *e, struct of_error *reterr)
{
    struct of_item *it = &op->item;
    struct of_stat st;
    int create = e->op == OF_SYNC_OP_CREATE_SERVER_COPY;
    if (!op->have_item || (!of_item_dirty(it) && !create))
        return 0; /* synced meanwhile by someone else: nothing left to push */
    int rc;
    if (it->type != OF_ITEM_FILE) {
        rc = create ? op->share->be->ops->mkdir(op->share->be, op->rel, &st, reterr)
                    : op->share->be->ops->stat(op->share->be, op->rel, &st, reterr);
        if (rc == OF_E(EXISTS))
            rc = op->share->be->ops->stat(op->share->be, op->rel, &st, reterr);
        if (rc < 0)
            return rc;
        engine_copy_from_stat(&it->remote, &st);
        it->original = it->remote;
        it->created_offline = it->mod_data = it->mod_attrs = it->mod_time = 0;
        return engine_op_commit(op, 1, reterr);
    }
    int fd;
    rc = of_content_open_read(op->eng->content, it->content, &fd, reterr);
    if (rc < 0)
        return rc;
    /*
     * A conflict settled for the client overwrites the server version the
     * plan saw, never a newer one; otherwise the server must still be at
     * the version of the last sync.
     */
    const char *if_match = e->res.conflict && e->in.remote.exists ? e->in.remote.etag
                           : create                               ? ""
                                                                  : it->original.etag;
    /* A backend without version tags gives none to check: never read "" as "must not exist". */
    if (!create && if_match && !if_match[0])
        if_match = NULL;
    /* With a committer, the row is finished by it; in a batch, the new version comes later. */
    struct sync_deferred *d = ctx->committer ? calloc(1, sizeof(*d)) : NULL;
    int batched = d && e->batch;
    rc = op->share->be->ops->write(op->share->be, op->rel, fd, if_match, batched ? NULL : &st,
                                   reterr);
    close(fd);
    if (rc < 0)
        free(d);
    if (rc == OF_E(PRECONDITION))
        return as_conflict(ctx, e,
                           create ? OF_SYNC_FileCreatedOnClient_FileChangedOnServer
                                  : OF_SYNC_FileChangedOnClient_ChangedOnServer,
                           reterr);
    if (rc < 0)
        return rc;
    if (d) {
        *d = (struct sync_deferred){.op = op, .e = e};
        return batched ? sync_batch_add(ctx, e->batch, d) : pushed_row(ctx, d, &st);
    }
    set_pushed(op, &st);
    rc = engine_op_commit_grouped(op, 1, reterr);
    if (rc == 0)
        announce(ctx, OF_EV_ItemModified, it->path, OF_ITEM_FILE, 1, 0);
    return rc;
}

/*
 * The listing is read after the last PUT of the batch, so a file in it is
 * ours unless another writer came in between. Where the listing shows
 * another size, another type or no file, one surely did: that is a
 * conflict, never a version taken for ours. A listing that cannot be read
 * leaves the versions unknown (no tag): the next sync then reads the
 * server's copy again instead of trusting it.
 */
void
sync_push_settle(struct sync_ctx *ctx, const char *dir, struct sync_deferred *list)
{
    struct of_dirent *ents = NULL;
    size_t n = 0;
    struct of_error lerr = {0};
    int listed = ctx->share->be->ops->list(ctx->share->be, dir, &ents, &n, &lerr) == 0;
    if (listed && n > 1)
        qsort(ents, n, sizeof(*ents), sync_cmp_dirent);
    while (list) {
        struct sync_deferred *d = list;
        list = d->next;
        struct of_item *it = &d->op->item;
        struct of_dirent key;
        snprintf(key.name, sizeof(key.name), "%s", of_path_name(it->path));
        const struct of_dirent *found =
            listed && n ? bsearch(&key, ents, n, sizeof(*ents), sync_cmp_dirent) : NULL;
        if (!listed) {
            struct of_stat unknown = {
                .type = OF_STAT_FILE, .size = it->local.size, .mtime_ns = of_now_ns()};
            pushed_row(ctx, d, &unknown);
        } else if (found && found->st.type == OF_STAT_FILE && found->st.size == it->local.size &&
                   found->st.etag[0]) {
            pushed_row(ctx, d, &found->st);
        } else {
            struct of_error err = {0};
            int create = d->e->op == OF_SYNC_OP_CREATE_SERVER_COPY;
            of_log_info("sync: '%s' changed on the server right after it was written", it->path);
            int rc = as_conflict(ctx, d->e,
                                 !found   ? (create ? OF_SYNC_FileCreatedOnClient_DeletedOnServer
                                                    : OF_SYNC_FileChangedOnClient_DeletedOnServer)
                                 : create ? OF_SYNC_FileCreatedOnClient_FileChangedOnServer
                                          : OF_SYNC_FileChangedOnClient_ChangedOnServer,
                                 &err);
            engine_op_end(d->op);
            sync_account(ctx, d->e, rc, &err);
            free(d);
        }
    }
    free(ents);
}

int
sync_push_finish(struct sync_ctx *ctx, struct sync_deferred *d)
{
    if (d->c.rc == 0)
        announce(ctx, OF_EV_ItemModified, d->op->item.path, OF_ITEM_FILE, 1, 0);
    engine_op_end(d->op);
    if (d->c.rc == 0)
        sync_clear_conflict(ctx->eng, d->e->path);
    return d->c.rc;
}

/* Every server entry under rel is one the cache knows, unchanged since the last sync. */
static int
server_subtree_unchanged(struct sync_ctx *ctx, const char *path, const char *rel, int *ret_same,
                         struct of_error *reterr)
{
    struct of_dirent *ents = NULL;
    size_t n = 0;
    int rc = ctx->share->be->ops->list(ctx->share->be, rel, &ents, &n, reterr);
    for (size_t i = 0; rc == 0 && *ret_same && i < n; i++) {
        char child[OF_PATH_MAX + 1], crel[OF_PATH_MAX + 1];
        snprintf(child, sizeof(child), "%s/%s", path, ents[i].name);
        snprintf(crel, sizeof(crel), "%s%s%s", rel, rel[0] ? "/" : "", ents[i].name);
        struct of_item *it = malloc(sizeof(*it));
        if (!it) {
            rc = OF_E(NOMEM);
            break;
        }
        int known = of_store_item_get(ctx->eng->store, child, it, NULL) == 0 &&
                    it->original.exists &&
                    (it->type != OF_ITEM_FILE) == (ents[i].st.type == OF_STAT_DIR);
        if (!known || (it->type == OF_ITEM_FILE && strcmp(it->original.etag, ents[i].st.etag)))
            *ret_same = 0;
        free(it);
        if (*ret_same && ents[i].st.type == OF_STAT_DIR)
            rc = server_subtree_unchanged(ctx, child, crel, ret_same, reterr);
    }
    free(ents);
    return rc;
}

/* Delete the server's copy of rel, children first, each file only at its synced version. */
static int
server_remove_tree(struct sync_ctx *ctx, const char *path, const char *rel, struct of_error *reterr)
{
    struct of_dirent *ents = NULL;
    size_t n = 0;
    int rc = ctx->share->be->ops->list(ctx->share->be, rel, &ents, &n, reterr);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char child[OF_PATH_MAX + 1], crel[OF_PATH_MAX + 1];
        snprintf(child, sizeof(child), "%s/%s", path, ents[i].name);
        snprintf(crel, sizeof(crel), "%s/%s", rel, ents[i].name);
        if (ents[i].st.type == OF_STAT_DIR)
            rc = server_remove_tree(ctx, child, crel, reterr);
        else
            rc = ctx->share->be->ops->remove(ctx->share->be, crel, ents[i].st.etag, reterr);
    }
    free(ents);
    if (rc == 0)
        rc = ctx->share->be->ops->remove(ctx->share->be, rel, NULL, reterr);
    return rc == OF_E(NOT_FOUND) ? 0 : rc;
}

static int
delete_server(struct sync_ctx *ctx, struct op *op, struct plan_entry *e, struct of_error *reterr)
{
    struct of_item *it = &op->item;
    if (!op->have_item || !it->deleted_offline)
        return 0;
    int rc;
    if (it->type == OF_ITEM_FILE) {
        const char *tag = e->res.conflict ? e->in.remote.etag : it->original.etag;
        rc = op->share->be->ops->remove(op->share->be, op->rel, tag[0] ? tag : NULL, reterr);
        if (rc == OF_E(PRECONDITION))
            return as_conflict(ctx, e, OF_SYNC_DeletedOnClient_FileChangedOnServer, reterr);
    } else {
        int same = 1;
        rc = server_subtree_unchanged(ctx, it->path, op->rel, &same, reterr);
        if (rc == 0 && !same)
            return as_conflict(ctx, e, OF_SYNC_DeletedOnClient_DirChangedOnServer, reterr);
        if (rc == 0)
            rc = server_remove_tree(ctx, it->path, op->rel, reterr);
        if (rc == OF_E(PRECONDITION) || rc == OF_E(NOT_EMPTY))
            return as_conflict(ctx, e, OF_SYNC_DeletedOnClient_DirChangedOnServer, reterr);
    }
    if (rc < 0 && rc != OF_E(NOT_FOUND))
        return rc;
    rc = engine_drop_item(ctx->eng, it, reterr);
    op->have_item = 0;
    return rc;
}

/* ---- server to client ---- */

#define MAX_INHERITED 16

struct inherited {
    struct of_pin_row rows[MAX_INHERITED];
    int n;
};

static void
add_inherited(void *arg, const struct of_pin_row *row)
{
    struct inherited *in = arg;
    if (row->inherit && in->n < MAX_INHERITED)
        in->rows[in->n++] = *row;
}

/* The pins a new item inherits from its parent directory (deep pins, pinNewFiles). */
static void
parent_pins(struct sync_ctx *ctx, const char *path, struct inherited *ret)
{
    char parent[OF_PATH_MAX + 1];
    struct of_item *p = malloc(sizeof(*p));
    ret->n = 0;
    if (p && of_path_parent(path, parent, sizeof(parent)) == 0 &&
        of_store_item_get(ctx->eng->store, parent, p, NULL) == 0)
        of_store_pin_rows(ctx->eng->store, p->id, add_inherited, ret, NULL);
    free(p);
}

/* Is the item pinned (for anyone)? Pinned content counts against the total limit only. */
static int
pinned(struct sync_ctx *ctx, struct op *op)
{
    struct of_pin_info pi;
    return op->have_item && of_store_pin_info(ctx->eng->store, &op->item, NULL, &pi, NULL) == 0 &&
           pi.pinned;
}

int
sync_pull(struct sync_ctx *ctx, struct op *op, struct plan_entry *e, int fetch,
          struct of_error *reterr)
{
    struct of_item *it = &op->item;
    struct of_stat st;
    struct inherited inh = {0};
    int rc;
    /* Changed offline meanwhile: the next sync reconciles it, unless a conflict was settled. */
    if (op->have_item && of_item_dirty(it) && !e->res.conflict)
        return 0;
    int want_dir = e->in.remote.is_dir;
    if (op->have_item && (it->type != OF_ITEM_FILE) != want_dir) {
        /* A ghost of the other kind holds no user data: replace it. */
        rc = engine_drop_item(ctx->eng, it, reterr);
        if (rc < 0)
            return rc;
        op->have_item = 0;
        engine_item_init(it, e->path, OF_ITEM_FILE, 0, ctx->share->rec.id);
    }
    int new_item = !op->have_item;
    /* A new item under a directory pinned with inheritance is pinned and fetched at once. */
    if (new_item)
        parent_pins(ctx, e->path, &inh);
    if (inh.n)
        fetch = 1;
    if (want_dir) {
        rc = op->share->be->ops->stat(op->share->be, op->rel, &st, reterr);
        if (rc < 0)
            return rc;
        it->type = op->have_item ? it->type : OF_ITEM_DIRECTORY;
        engine_copy_from_stat(&it->remote, &st);
        it->original = it->remote;
        it->local = it->remote;
        it->local.etag[0] = '\0';
        rc = engine_op_commit(op, 1, reterr);
    } else if ((it->content[0] && !it->ghosted) || fetch || e->op == OF_SYNC_OP_FILL ||
               ctx->args->req.fill_sparse) {
        struct of_content_tmp *tmp;
        char hash[OF_HASH_HEX], name[OF_CONTENT_NAME_MAX];
        rc = engine_op_download(op, &tmp, &st, hash, reterr);
        if (rc == 0)
            rc = engine_cache_make_room(ctx->eng, st.size, inh.n > 0 || fetch || pinned(ctx, op),
                                        reterr);
        if (rc == 0)
            rc = of_content_tmp_install(tmp, name, reterr);
        if (rc == 0) {
            it->type = OF_ITEM_FILE;
            engine_op_set_synced(op, &st, hash);
            engine_op_set_content(op, name, st.size);
            rc = engine_op_commit_grouped(op, 1, reterr);
            if (rc < 0)
                of_content_remove(ctx->eng->content, name);
        }
        of_content_tmp_free(tmp);
    } else {
        /* Not cached here: know the new version, keep no bytes (a ghost). */
        it->type = OF_ITEM_FILE;
        engine_copy_from_stat(&it->remote, &(struct of_stat){.type = OF_STAT_FILE,
                                                             .size = e->in.remote.size,
                                                             .mtime_ns = e->in.remote.mtime_ns,
                                                             .attrs = e->in.remote.attrs});
        snprintf(it->remote.etag, sizeof(it->remote.etag), "%s", e->in.remote.etag);
        it->remote.hash[0] = '\0';
        it->original = it->remote;
        it->local = it->remote;
        it->local.etag[0] = '\0';
        engine_op_set_content(op, "", 0);
        rc = engine_op_commit_grouped(op, 1, reterr);
    }
    if (rc == 0)
        announce(ctx, new_item ? OF_EV_ItemAddedToCache : OF_EV_ItemModified, e->path, it->type, 1,
                 0);
    for (int i = 0; rc == 0 && i < inh.n; i++) {
        rc = of_store_pin_set(ctx->eng->store, it->id, inh.rows[i].scope, inh.rows[i].user,
                              it->type != OF_ITEM_FILE, reterr);
        if (rc == 0 && i == 0)
            announce(ctx, OF_EV_ItemPinned, e->path, it->type, 0, 0);
    }
    return rc;
}

static int
delete_client(struct sync_ctx *ctx, struct op *op, struct plan_entry *e, struct of_error *reterr)
{
    struct of_item *it = &op->item;
    if (!op->have_item)
        return 0;
    /* A conflict settled for the server discards the offline change on purpose. */
    int dirty = e->res.conflict ? 0 : of_item_dirty(it);
    if (!dirty && it->type != OF_ITEM_FILE)
        dirty = engine_dirty_below(ctx->eng, it->path);
    if (dirty)
        return as_conflict(ctx, e,
                           it->type == OF_ITEM_FILE ? OF_SYNC_FileChangedOnClient_DeletedOnServer
                                                    : OF_SYNC_DirChangedOnClient_DeletedOnServer,
                           reterr);
    int type = it->type;
    int rc = engine_drop_item(ctx->eng, it, reterr);
    op->have_item = 0;
    if (rc == 0)
        announce(ctx, OF_EV_ItemDeletedFromCache, e->path, type, 0, 0);
    return rc;
}

/* ---- both sides already agree ---- */

static int
update_original(struct sync_ctx *ctx, struct op *op, struct plan_entry *e, struct of_error *reterr)
{
    struct of_item *it = &op->item;
    if (!op->have_item)
        return 0;
    if (!e->in.remote.exists) /* deleted on both sides: forget the tombstone */
        return engine_drop_item(ctx->eng, it, reterr);
    struct of_stat st;
    int rc = op->share->be->ops->stat(op->share->be, op->rel, &st, reterr);
    if (rc < 0)
        return rc;
    char hash[OF_HASH_HEX];
    memcpy(hash, e->in.remote.hash[0] ? e->in.remote.hash : it->local.hash, sizeof(hash));
    engine_copy_from_stat(&it->remote, &st);
    if (it->type == OF_ITEM_FILE)
        memcpy(it->remote.hash, hash, sizeof(hash));
    it->original = it->remote;
    it->created_offline = it->deleted_offline = 0;
    it->mod_data = it->mod_attrs = it->mod_time = 0;
    return engine_op_commit(op, 1, reterr);
}

/*
 * Edit/edit and create/create with the same size may still be the same
 * bytes (a crash after an upload, or the same change made twice): read the
 * server's copy and compare hashes before calling it a conflict.
 */
static int
same_bytes(struct sync_ctx *ctx, struct op *op, struct plan_entry *e)
{
    struct of_item *it = &op->item;
    if (!op->have_item || it->type != OF_ITEM_FILE || e->in.remote.is_dir || !it->local.hash[0] ||
        e->in.remote.size != it->local.size || !it->content[0])
        return 0;
    struct of_content_tmp *tmp;
    struct of_stat st;
    char hash[OF_HASH_HEX];
    struct of_error err = {0};
    if (engine_op_download(op, &tmp, &st, hash, &err) < 0)
        return 0;
    of_content_tmp_free(tmp);
    if (strcmp(hash, it->local.hash) != 0)
        return 0;
    memcpy(e->in.remote.hash, hash, sizeof(hash));
    (void)ctx;
    return 1;
}

int
sync_exec(struct sync_ctx *ctx, struct plan_entry *e, struct of_error *reterr)
{
    if (e->op == OF_SYNC_OP_NONE) {
        sync_clear_conflict(ctx->eng, e->path); /* settled on its own: both sides agree */
        return 0;
    }
    struct op *op;
    int rc = engine_op_begin(ctx->eng, e->path, &op, reterr);
    if (rc < 0)
        return rc;
    switch (e->op) {
    case OF_SYNC_OP_CONFLICT:
        if (same_bytes(ctx, op, e)) {
            e->op = OF_SYNC_OP_UPDATE_ORIGINAL;
            rc = update_original(ctx, op, e, reterr);
        } else {
            rc = sync_record_conflict(ctx, e, reterr);
        }
        break;
    case OF_SYNC_OP_UPDATE_ORIGINAL:
        rc = update_original(ctx, op, e, reterr);
        break;
    case OF_SYNC_OP_CREATE_SERVER_COPY:
    case OF_SYNC_OP_SYNC_TO_SERVER:
        rc = push(ctx, op, e, reterr);
        if (rc == SYNC_DEFERRED)
            return rc; /* the op is the committer's now */
        break;
    case OF_SYNC_OP_CREATE_CLIENT_COPY:
    case OF_SYNC_OP_SYNC_TO_CLIENT:
    case OF_SYNC_OP_FILL:
        rc = sync_pull(ctx, op, e, 0, reterr);
        break;
    case OF_SYNC_OP_DELETE_SERVER_COPY:
        rc = delete_server(ctx, op, e, reterr);
        break;
    case OF_SYNC_OP_DELETE_CLIENT_COPY:
        rc = delete_client(ctx, op, e, reterr);
        break;
    case OF_SYNC_OP_KEEP_ALL:
        rc = sync_keep_all(ctx, op, e, reterr);
        break;
    default:
        rc = 0;
        break;
    }
    engine_op_end(op);
    if (rc == 0 && e->op != OF_SYNC_OP_CONFLICT)
        sync_clear_conflict(ctx->eng, e->path);
    return rc;
}
