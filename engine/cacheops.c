/* SPDX-License-Identifier: MIT */
/*
 * DeleteItems and RenameItemEx: changes to the cache alone, never to the
 * server. Deleting refuses dirty items unless asked (offline changes would
 * be lost); a delete runs as a job, item by item.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "util.h"

struct delete_args {
    char **paths;
    size_t n;
    int allow_dirty;
    char user[OF_USER_MAX];
};

static void
delete_args_free(void *arg)
{
    struct delete_args *a = arg;
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        free(a->paths[i]);
    free(a->paths);
    free(a);
}

/* The dirty scan visits dirty items only: the first one answers. */
static int
found(void *arg, const struct of_item *it)
{
    (void)it;
    *(int *)arg = 1;
    return 1;
}

int
engine_dirty_below(struct of_engine *eng, const char *path)
{
    int dirty = 0;
    of_store_dirty_scan(eng->store, path, "", 1, found, &dirty, NULL, NULL);
    return dirty;
}

/* Is the item, or anything under it, dirty? */
static int
subtree_dirty(struct of_engine *eng, const struct of_item *it)
{
    return of_item_dirty(it) || (it->type != OF_ITEM_FILE && engine_dirty_below(eng, it->path));
}

struct names {
    char (*v)[OF_CONTENT_NAME_MAX];
    size_t n, cap;
};

static int
collect(void *arg, const struct of_item *it)
{
    struct names *nm = arg;
    if (!it->content[0])
        return 0;
    if (nm->n == nm->cap) {
        size_t cap = nm->cap ? nm->cap * 2 : 16;
        void *grown = realloc(nm->v, cap * sizeof(*nm->v));
        if (!grown)
            return OF_E(NOMEM);
        nm->v = grown;
        nm->cap = cap;
    }
    memcpy(nm->v[nm->n++], it->content, OF_CONTENT_NAME_MAX);
    return 0;
}

int
engine_drop_item(struct of_engine *eng, const struct of_item *it, struct of_error *reterr)
{
    struct names nm = {0};
    collect(&nm, it);
    int rc = of_store_begin(eng->store, reterr);
    if (rc == 0) {
        rc = of_store_item_scan(eng->store, it->path, 0, "", SIZE_MAX, collect, &nm, NULL, reterr);
        if (rc == 0)
            rc = of_store_item_delete(eng->store, it->id, reterr);
        if (rc == 0)
            rc = of_store_commit(eng->store, reterr);
        else
            of_store_rollback(eng->store);
    }
    for (size_t i = 0; rc == 0 && i < nm.n; i++)
        of_content_remove(eng->content, nm.v[i]);
    free(nm.v);
    return rc;
}

static int
delete_job(struct of_engine *eng, struct job *job, void *arg)
{
    struct delete_args *a = arg;
    struct of_item *it = malloc(sizeof(*it));
    struct of_job_item *ji = malloc(sizeof(*ji));
    if (!it || !ji) {
        free(it);
        free(ji);
        return OF_E(NOMEM);
    }
    engine_job_progress(eng, job, (int64_t)a->n, 0, 0, 0);
    int failed = 0;
    for (size_t i = 0; i < a->n && !engine_job_aborted(job); i++) {
        struct of_error err = {0};
        memset(ji, 0, sizeof(*ji));
        snprintf(ji->path, sizeof(ji->path), "%s", a->paths[i]);
        ji->operation = OF_SYNC_OP_DELETE_CLIENT_COPY;
        ji->sync_state = -1;
        int rc = of_store_item_get(eng->store, a->paths[i], it, &err);
        /* Checked again here: the item may have changed since the request was accepted. */
        if (rc == 0 && !a->allow_dirty && subtree_dirty(eng, it))
            rc = of_error_set(&err, OF_E(CONFLICT), "'%s' has offline changes", a->paths[i]);
        if (rc == 0 && (it->type == OF_ITEM_FILE || it->type == OF_ITEM_DIRECTORY))
            rc = engine_drop_item(eng, it, &err);
        else if (rc == 0)
            rc = of_error_set(&err, OF_E(CONFLICT), "remove a share with DELETE /shares");
        if (rc == 0)
            engine_publish_item(eng, OF_EV_ItemDeletedFromCache, a->paths[i], (int)it->type);
        ji->result = rc;
        snprintf(ji->message, sizeof(ji->message), "%s", rc < 0 ? err.detail : "removed");
        engine_job_item(eng, job, ji);
        engine_job_progress(eng, job, 0, 1, 0, 0);
        failed |= rc < 0;
    }
    free(it);
    free(ji);
    return failed ? OF_E(CONFLICT) : 0;
}

int
of_engine_cache_delete(struct of_engine *eng, const char *const *paths, size_t n_paths,
                       int allow_dirty, const char *user, int64_t *ret_job_id,
                       struct of_error *reterr)
{
    if (n_paths == 0 || n_paths > 1024)
        return of_error_set(reterr, OF_E(BAD_FIELD), "paths holds 1 to 1024 paths");
    struct delete_args *a = calloc(1, sizeof(*a));
    struct of_item *it = malloc(sizeof(*it));
    int rc = a && it && (a->paths = calloc(n_paths, sizeof(char *)))
                 ? 0
                 : of_error_set(reterr, OF_E(NOMEM), "out of memory");
    for (size_t i = 0; rc == 0 && i < n_paths; i++) {
        int depth = of_path_validate(paths[i], reterr);
        rc = depth < 0 ? depth
             : depth < 3
                 ? of_error_set(reterr, OF_E(BAD_PATH),
                                "'%s' is a server or share: remove shares with DELETE /shares",
                                paths[i])
                 : of_store_item_get(eng->store, paths[i], it, reterr);
        if (rc == 0 && !allow_dirty && subtree_dirty(eng, it))
            rc = of_error_set(reterr, OF_E(CONFLICT),
                              "'%s' has offline changes not yet synced; sync it first or pass "
                              "allowDirty",
                              paths[i]);
        if (rc == 0 && !(a->paths[a->n++] = strdup(paths[i])))
            rc = of_error_set(reterr, OF_E(NOMEM), "out of memory");
    }
    free(it);
    if (rc < 0) {
        delete_args_free(a);
        return rc;
    }
    a->allow_dirty = allow_dirty;
    snprintf(a->user, sizeof(a->user), "%s", user ? user : "");
    return engine_job_submit(eng, "delete", user, delete_job, a, delete_args_free, ret_job_id,
                             reterr);
}

int
of_engine_cache_rename(struct of_engine *eng, const char *from, const char *to, int replace,
                       struct of_error *reterr)
{
    char sf[OF_SEGMENT_MAX + 1], hf[OF_SEGMENT_MAX + 1], st_[OF_SEGMENT_MAX + 1],
        ht[OF_SEGMENT_MAX + 1], parent[OF_PATH_MAX + 1];
    int df = of_path_validate(from, reterr), dt = of_path_validate(to, reterr);
    if (df < 0 || dt < 0)
        return df < 0 ? df : dt;
    of_path_split(from, sf, hf, NULL);
    of_path_split(to, st_, ht, NULL);
    if (df < 3 || dt < 3)
        return of_error_set(reterr, OF_E(BAD_PATH), "rename items inside a share");
    if (strcmp(sf, st_) != 0 || strcmp(hf, ht) != 0)
        return of_error_set(reterr, OF_E(BAD_FIELD), "from and to must be in the same share");
    if (of_path_is_under(to, from))
        return of_error_set(reterr, OF_E(BAD_FIELD), "an item cannot move below itself");
    struct of_item *it = malloc(sizeof(*it)), *dst = malloc(sizeof(*dst));
    int rc = it && dst ? 0 : of_error_set(reterr, OF_E(NOMEM), "out of memory");
    if (rc == 0)
        rc = of_store_begin(eng->store, reterr);
    if (rc < 0)
        goto out_free;
    rc = of_store_item_get(eng->store, from, it, reterr);
    of_path_parent(to, parent, sizeof(parent));
    if (rc == 0 && of_store_item_get(eng->store, parent, dst, NULL) < 0)
        rc = of_error_set(reterr, OF_E(PARENT_MISSING), "'%s' is not in the cache", parent);
    int64_t parent_id = dst->id;
    if (rc == 0 && of_store_item_get(eng->store, to, dst, NULL) == 0) {
        if (!replace)
            rc = of_error_set(reterr, OF_E(EXISTS), "'%s' is already in the cache", to);
        else if (subtree_dirty(eng, dst))
            rc = of_error_set(reterr, OF_E(CONFLICT), "'%s' has offline changes", to);
        else
            rc = of_store_item_delete(eng->store, dst->id, reterr);
    }
    if (rc == 0)
        rc = of_store_item_move(eng->store, it->id, from, to, parent_id, reterr);
    if (rc == 0)
        rc = of_store_commit(eng->store, reterr);
    else
        of_store_rollback(eng->store);
    if (rc == 0) {
        struct of_event *ev = malloc(sizeof(*ev));
        if (ev) {
            of_event_init(ev, OF_EV_ItemRenamed, to);
            snprintf(ev->old_path, sizeof(ev->old_path), "%s", from);
            ev->item_type = (int)it->type;
            engine_publish(eng, ev);
            free(ev);
        }
    }
out_free:
    free(it);
    free(dst);
    return rc;
}
