/* SPDX-License-Identifier: MIT */
/*
 * Reading and writing through the cache. Online, reads are served from a
 * cached copy that still matches the server, or fetched; writes go to the
 * share first and then the cache. Offline (forced, or after the share failed
 * mid-request) reads are served from cached content only and writes land in
 * the cache as dirty changes, so nothing a client sends is lost. Content is
 * always installed (temp, fsync, rename) before the row that names it
 * commits, and the previous content is unlinked only after that commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_int.h"
#include "util.h"

/* Last-access times are kept to this granularity (eviction needs no finer). */
#define ACCESS_GRANULARITY_NS (1000000000LL)

int
engine_op_begin(struct of_engine *eng, const char *path, struct op **ret_op,
                struct of_error *reterr)
{
    int depth = of_path_validate(path, reterr);
    if (depth < 0)
        return depth;
    if (depth < 3)
        return of_error_set(reterr, OF_E(NOT_A_FILE), "'%s' is a server or share root", path);
    struct op *op = calloc(1, sizeof(*op));
    if (!op)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    op->eng = eng;
    int rc = engine_share_for_path(eng, path, &op->share, &op->rel, reterr);
    if (rc == 0) {
        rc = of_store_item_get(eng->store, path, &op->item, reterr);
        op->have_item = rc == 0;
        if (op->have_item) {
            op->base_dirty = of_item_dirty(&op->item);
            memcpy(op->base_content, op->item.content, sizeof(op->base_content));
        }
        if (rc == OF_E(NOT_FOUND)) {
            rc = 0;
            engine_item_init(&op->item, path, OF_ITEM_FILE, 0, op->share->rec.id);
        }
    }
    if (rc < 0) {
        engine_share_release(eng, op->share);
        free(op);
        return rc;
    }
    *ret_op = op;
    return 0;
}

void
engine_op_end(struct op *op)
{
    if (!op)
        return;
    if (op->old_content[0])
        of_content_remove(op->eng->content, op->old_content);
    engine_share_release(op->eng, op->share);
    free(op);
}

enum keep { KEEP_NONE = 0, KEEP_CACHED, KEEP_PINNED, KEEP_TRANSPARENT };

/*
 * Does the share let this file be cached after an online read or write, and
 * how? Pinned content counts against the total limit only. On a slow link a
 * file the caching mode would not keep is kept transparently: served only
 * after it is revalidated online, never offline.
 */
static enum keep
keep_content(struct op *op, const char *user)
{
    enum of_caching_mode mode = op->share->rec.caching_mode;
    struct of_pin_info pi = {0};
    if (mode == OF_CACHING_NONE)
        return KEEP_NONE;
    if (op->have_item)
        of_store_pin_info(op->eng->store, &op->item, user, &pi, NULL);
    if (pi.pinned)
        return KEEP_PINNED;
    if (mode != OF_CACHING_MANUAL ||
        (op->have_item && op->item.content[0] && !op->item.transparent))
        return KEEP_CACHED;
    pthread_mutex_lock(&op->eng->shares_lock);
    int slow = engine_share_slow(op->share);
    pthread_mutex_unlock(&op->eng->shares_lock);
    return slow ? KEEP_TRANSPARENT : KEEP_NONE;
}

/* keep_content, then room for size bytes in the cache (else nothing is kept). */
static enum keep
keep_with_room(struct op *op, const char *user, int64_t size)
{
    enum keep keep = keep_content(op, user);
    if (keep != KEEP_NONE && engine_cache_make_room(op->eng, size, keep == KEEP_PINNED, NULL) < 0)
        keep = KEEP_NONE;
    return keep;
}

/* Reads and writes in a suspended tree never reach the server. */
static int
op_online(struct op *op)
{
    if (op->have_item)
        return !op->item.suspended && engine_share_online(op->eng, op->share);
    /* A new item takes its suspension from the nearest cached directory above it. */
    char dir[OF_PATH_MAX + 1];
    snprintf(dir, sizeof(dir), "%s", op->item.path);
    while (of_path_parent(dir, dir, sizeof(dir)) == 0 && dir[2] && strchr(dir + 2, '/')) {
        if (of_store_item_get(op->eng->store, dir, &op->scratch, NULL) == 0)
            return !op->scratch.suspended && engine_share_online(op->eng, op->share);
    }
    return engine_share_online(op->eng, op->share);
}

/*
 * Make sure every directory above path is an item; returns the parent's id.
 * Online, missing ones are stat'ed on the share; offline they must be cached.
 */
int
engine_ensure_parents(struct of_engine *eng, struct share_rt *share, const char *path, int online,
                      struct of_item *it, int64_t *ret_parent, struct of_error *reterr)
{
    char prefix[OF_PATH_MAX + 1];
    const char *share_end = strchr(path + 2, '/');
    share_end = strchr(share_end + 1, '/'); /* the '/' after the share name */
    size_t root_len = (size_t)(share_end - path);
    memcpy(prefix, path, root_len);
    prefix[root_len] = '\0';
    int rc = of_store_item_get(eng->store, prefix, it, reterr);
    if (rc < 0)
        return rc;
    int64_t parent = it->id;
    const char *p = share_end + 1;
    const char *slash;
    while ((slash = strchr(p, '/')) != NULL) {
        size_t n = (size_t)(slash - path);
        memcpy(prefix, path, n);
        prefix[n] = '\0';
        p = slash + 1;
        rc = of_store_item_get(eng->store, prefix, it, NULL);
        if (rc == 0) {
            if (it->type != OF_ITEM_DIRECTORY)
                return of_error_set(reterr, OF_E(NOT_A_DIR), "'%s' is not a directory", prefix);
            if (it->deleted_offline)
                return of_error_set(reterr, OF_E(PARENT_MISSING), "'%s' was deleted", prefix);
            parent = it->id;
            continue;
        }
        struct of_stat st;
        if (!online)
            return of_error_set(reterr, OF_E(PARENT_MISSING),
                                "'%s' is not in the cache and the share is offline", prefix);
        rc = share->be->ops->stat(share->be, prefix + root_len + 1, &st, reterr);
        if (rc == OF_E(NOT_FOUND))
            return of_error_set(reterr, OF_E(PARENT_MISSING), "'%s' does not exist", prefix);
        if (rc < 0)
            return rc;
        if (st.type != OF_STAT_DIR)
            return of_error_set(reterr, OF_E(NOT_A_DIR), "'%s' is not a directory", prefix);
        engine_item_init(it, prefix, OF_ITEM_DIRECTORY, parent, share->rec.id);
        engine_copy_from_stat(&it->remote, &st);
        it->original = it->remote;
        it->local = it->remote;
        it->local.etag[0] = '\0';
        it->last_access_ns = of_now_ns();
        rc = of_store_item_put(eng->store, it, reterr);
        if (rc < 0)
            return rc;
        parent = it->id;
    }
    *ret_parent = parent;
    return 0;
}

/* Point the row at new content (or none), remembering the old name to unlink after commit. */
void
engine_op_set_content(struct op *op, const char *name, int64_t size)
{
    snprintf(op->item.content, sizeof(op->item.content), "%s", name);
    op->item.cached_bytes = name[0] ? size : 0;
    op->item.ghosted = !name[0];
    op->item.sparse = 0;
}

void
engine_op_announce(struct op *op, enum of_event_type type)
{
    struct of_event *ev = malloc(sizeof(*ev));
    if (!ev)
        return;
    of_event_init(ev, type, op->item.path);
    ev->item_type = (int)op->item.type;
    ev->flag_a = type == OF_EV_ItemModified;
    engine_publish(op->eng, ev);
    free(ev);
}

void
engine_op_set_synced(struct op *op, const struct of_stat *st, const char *hash)
{
    engine_copy_from_stat(&op->item.remote, st);
    snprintf(op->item.remote.hash, sizeof(op->item.remote.hash), "%s", hash);
    op->item.original = op->item.remote;
    op->item.local = op->item.remote;
    op->item.local.etag[0] = '\0';
    op->item.created_offline = op->item.deleted_offline = 0;
    op->item.mod_data = op->item.mod_attrs = op->item.mod_time = 0;
}

/* Write the row (inserting parents first when online) in the caller's transaction. */
int
engine_op_commit_in(struct op *op, int online, struct of_error *reterr)
{
    int rc = 0;
    /*
     * Judge against the row as it is now, not as this operation first read it:
     * a concurrent request may have inserted it or installed other content.
     */
    op->old_content[0] = '\0';
    op->inserted = 0;
    if (of_store_item_get(op->eng->store, op->item.path, &op->scratch, NULL) == 0) {
        if (online && of_item_dirty(&op->scratch) &&
            (!op->base_dirty || strcmp(op->scratch.content, op->base_content) != 0))
            return of_error_set(reterr, OF_E(CONFLICT),
                                "'%s' was changed offline meanwhile; try again", op->item.path);
        op->item.id = op->scratch.id;
        op->item.parent_id = op->scratch.parent_id;
        if (op->scratch.content[0] && strcmp(op->scratch.content, op->item.content) != 0)
            memcpy(op->old_content, op->scratch.content, sizeof(op->old_content));
    } else {
        op->item.id = 0;
        op->inserted = 1;
        rc = engine_ensure_parents(op->eng, op->share, op->item.path, online, &op->scratch,
                                   &op->item.parent_id, reterr);
    }
    if (rc == 0)
        rc = of_store_item_put(op->eng->store, &op->item, reterr);
    if (rc == 0)
        op->have_item = 1;
    else
        op->old_content[0] = '\0'; /* the old row still names it */
    return rc;
}

/* Commit the row in its own transaction; unlinks replaced content after (engine_op_end). */
int
engine_op_commit(struct op *op, int online, struct of_error *reterr)
{
    int rc = of_store_begin(op->eng->store, reterr);
    if (rc < 0)
        return rc;
    rc = engine_op_commit_in(op, online, reterr);
    if (rc == 0)
        rc = of_store_commit(op->eng->store, reterr);
    else
        of_store_rollback(op->eng->store);
    if (rc < 0)
        op->old_content[0] = '\0';
    return rc;
}

struct tmp_sink {
    struct of_content_tmp *tmp;
    struct of_error *err;
};

static int
sink_write(void *ctx, const void *buf, size_t len)
{
    struct tmp_sink *ts = ctx;
    return of_content_tmp_write(ts->tmp, buf, len, ts->err);
}

static int
serve_content(struct op *op, struct of_file_read *ret, int offline, struct of_error *reterr)
{
    int fd;
    int rc = of_content_open_read(op->eng->content, op->item.content, &fd, reterr);
    /*
     * A concurrent write may have replaced (and unlinked) the version this
     * read looked up: read the row again and serve the newer one.
     */
    for (int tries = 0; rc < 0 && tries < 3; tries++) {
        if (of_store_item_get(op->eng->store, op->item.path, &op->item, NULL) < 0 ||
            !op->item.content[0])
            break;
        rc = of_content_open_read(op->eng->content, op->item.content, &fd, reterr);
    }
    if (rc < 0)
        return rc;
    struct stat sb;
    fstat(fd, &sb);
    ret->fd = fd;
    ret->size = sb.st_size;
    ret->mtime_ns = op->item.local.mtime_ns;
    snprintf(ret->etag, sizeof(ret->etag), "%s", op->item.local.hash);
    ret->from_cache = 1;
    ret->offline = offline;
    /*
     * Touch only the access time, never the whole (possibly stale) row, and at
     * most once a minute per item: reads should not each cost a durable commit.
     */
    int64_t now = of_now_ns();
    if (now - op->item.last_access_ns > ACCESS_GRANULARITY_NS) {
        op->item.last_access_ns = now;
        of_store_item_touch(op->eng->store, op->item.id, now, NULL);
    }
    return 0;
}

static int
download(struct op *op, int batched, struct of_content_tmp **ret_tmp, struct of_stat *ret_st,
         char *ret_hash, struct of_error *reterr)
{
    struct of_content_tmp *tmp;
    int rc = batched ? of_content_tmp_new_batched(op->eng->content, &tmp, reterr)
                     : of_content_tmp_new(op->eng->content, &tmp, reterr);
    if (rc < 0)
        return rc;
    struct tmp_sink ts = {tmp, reterr};
    struct of_sink sink = {sink_write, &ts};
    rc = op->share->be->ops->read(op->share->be, op->rel, 0, -1, &sink, ret_st, reterr);
    if (rc == 0)
        rc = of_content_tmp_finish(tmp, ret_hash, reterr);
    if (rc < 0) {
        of_content_tmp_free(tmp);
        return rc;
    }
    *ret_tmp = tmp;
    return 0;
}

int
engine_op_download(struct op *op, struct of_content_tmp **ret_tmp, struct of_stat *ret_st,
                   char *ret_hash, struct of_error *reterr)
{
    return download(op, 0, ret_tmp, ret_st, ret_hash, reterr);
}

int
engine_op_download_batched(struct op *op, struct of_content_tmp **ret_tmp, struct of_stat *ret_st,
                           char *ret_hash, struct of_error *reterr)
{
    return download(op, 1, ret_tmp, ret_st, ret_hash, reterr);
}

/* Fetch the whole file from the share; cache it when allowed, else serve the temp file. */
static int
fetch(struct op *op, const char *user, struct of_file_read *ret, struct of_error *reterr)
{
    struct of_content_tmp *tmp;
    struct of_stat st;
    char hash[OF_HASH_HEX], name[OF_CONTENT_NAME_MAX] = "";
    int rc = engine_op_download(op, &tmp, &st, hash, reterr);
    if (rc < 0)
        return rc;
    enum keep keep = keep_with_room(op, user, st.size);
    if (keep)
        rc = of_content_tmp_install(tmp, name, reterr);
    if (rc < 0)
        goto out_free;
    /* The file is known from now on; without cached content it is a ghost. */
    op->item.type = OF_ITEM_FILE;
    engine_op_set_synced(op, &st, hash);
    engine_op_set_content(op, name, st.size);
    op->item.transparent = keep == KEEP_TRANSPARENT;
    op->item.last_access_ns = of_now_ns();
    if (op->share->rec.caching_mode != OF_CACHING_NONE)
        rc = engine_op_commit(op, 1, reterr);
    if (rc < 0)
        goto out_free;
    if (op->inserted)
        engine_op_announce(op, OF_EV_ItemAddedToCache);
    if (keep == KEEP_TRANSPARENT)
        engine_op_announce(op, OF_EV_TransparentCacheItemNotify);
    ret->fd = dup(of_content_tmp_fd(tmp));
    if (ret->fd < 0) {
        rc = of_error_set(reterr, OF_E(IO), "out of file descriptors");
        goto out_free;
    }
    lseek(ret->fd, 0, SEEK_SET);
    ret->size = of_content_tmp_size(tmp);
    ret->mtime_ns = st.mtime_ns;
    memcpy(ret->etag, hash, sizeof(hash));
    ret->from_cache = 0;
    ret->offline = 0;
out_free:
    of_content_tmp_free(tmp);
    return rc;
}

int
of_engine_file_open(struct of_engine *eng, const char *path, const char *user,
                    struct of_file_read *ret_read, struct of_error *reterr)
{
    struct op *op;
    int rc = engine_op_begin(eng, path, &op, reterr);
    if (rc < 0)
        return rc;
    struct of_item *it = &op->item;
    int cached = op->have_item && it->content[0] && !it->ghosted && it->local.exists;
    int online = op_online(op);
    struct of_stat st;
    /* A transparently cached copy is only ever served after it was revalidated online. */
    if (!online && cached && it->transparent)
        cached = 0;
    if (op->have_item && it->type != OF_ITEM_FILE) {
        rc = of_error_set(reterr, OF_E(NOT_A_FILE), "'%s' is a directory", path);
    } else if (op->have_item && it->deleted_offline) {
        rc = of_error_set(reterr, OF_E(NOT_FOUND), "'%s' was deleted offline", path);
    } else if (!online) {
        rc = cached ? serve_content(op, ret_read, 1, reterr)
                    : of_error_set(reterr, OF_E(NOT_OFFLINE),
                                   "'%s' has no cached content and its share is offline", path);
    } else if (cached && of_item_dirty(it)) {
        /* Unsynced local changes are what clients see until a sync settles them. */
        rc = serve_content(op, ret_read, 0, reterr);
    } else {
        rc = cached ? op->share->be->ops->stat(op->share->be, op->rel, &st, reterr) : 0;
        if (rc == 0 && cached && strcmp(st.etag, it->remote.etag) == 0)
            rc = serve_content(op, ret_read, 0, reterr);
        else if (rc == 0)
            rc = fetch(op, user, ret_read, reterr);
        if (rc == OF_E(UNAVAILABLE)) {
            engine_share_failed(eng, op->share, reterr);
            rc = cached ? serve_content(op, ret_read, 1, reterr)
                        : of_error_set(reterr, OF_E(NOT_OFFLINE),
                                       "'%s' is not cached and its share just went offline", path);
        }
    }
    if (rc == OF_E(PARENT_MISSING)) /* for a read, a missing directory is a missing file */
        rc = of_error_set(reterr, OF_E(NOT_FOUND), "'%s' does not exist", path);
    engine_op_end(op);
    return rc;
}

int
of_engine_upload_new(struct of_engine *eng, struct of_content_tmp **ret_tmp,
                     struct of_error *reterr)
{
    return of_content_tmp_new(eng->content, ret_tmp, reterr);
}

/* Client preconditions, judged against what the client can have seen: the local copy. */
static int
check_client_preconditions(struct op *op, const char *if_match, const char *if_none_match,
                           struct of_error *reterr)
{
    const struct of_item *it = &op->item;
    int exists = op->have_item && it->local.exists && !it->deleted_offline;
    const char *seen = it->local.hash[0] ? it->local.hash : it->remote.hash;
    if (if_none_match && strcmp(if_none_match, "*") == 0 && exists)
        return of_error_set(reterr, OF_E(PRECONDITION), "'%s' already exists", it->path);
    if (if_match && strcmp(if_match, "*") == 0 && op->have_item && !exists)
        return of_error_set(reterr, OF_E(PRECONDITION), "'%s' does not exist", it->path);
    if (if_match && strcmp(if_match, "*") != 0 && (!exists || strcmp(if_match, seen) != 0))
        return of_error_set(reterr, OF_E(PRECONDITION), "'%s' has changed (etag mismatch)",
                            it->path);
    return 0;
}

/* The etag the share must still have for our write not to clobber a change we never saw. */
static const char *
server_precondition(const struct op *op, const char *if_none_match)
{
    const struct of_item *it = &op->item;
    if (if_none_match && strcmp(if_none_match, "*") == 0)
        return "";
    if (!op->have_item)
        return NULL;
    if (of_item_dirty(it))
        return it->original.exists ? it->original.etag : "";
    return it->remote.exists && it->remote.etag[0] ? it->remote.etag : NULL;
}

static int
write_offline(struct op *op, struct of_content_tmp *upload, const char *hash,
              struct of_write_result *res, struct of_error *reterr)
{
    struct of_item *it = &op->item;
    char name[OF_CONTENT_NAME_MAX];
    if (op->share->rec.caching_mode == OF_CACHING_NONE)
        return of_error_set(reterr, OF_E(NOT_OFFLINE),
                            "the share does not allow caching, so it cannot be written offline");
    /* Offline bytes must fit: dirty data is never evicted, so it counts like pinned data. */
    int rc = engine_cache_make_room(op->eng, of_content_tmp_size(upload), 1, reterr);
    if (rc == 0)
        rc = of_content_tmp_install(upload, name, reterr);
    if (rc < 0)
        return rc;
    int existed = op->have_item && it->local.exists && !it->deleted_offline;
    if (!op->have_item || (!it->original.exists && !it->created_offline)) {
        it->created_offline = 1;
    }
    it->deleted_offline = 0;
    it->local.exists = 1;
    it->local.size = of_content_tmp_size(upload);
    it->local.mtime_ns = of_now_ns();
    snprintf(it->local.hash, sizeof(it->local.hash), "%s", hash);
    /* Writing back the ORIGINAL bytes is no change at all. */
    int same = it->original.exists && strcmp(hash, it->original.hash) == 0;
    it->mod_data = !it->created_offline && !same;
    it->mod_time = it->mod_data;
    if (same)
        it->local.mtime_ns = it->original.mtime_ns;
    engine_op_set_content(op, name, it->local.size);
    it->last_access_ns = of_now_ns();
    rc = engine_op_commit(op, 0, reterr);
    if (rc < 0) {
        of_content_remove(op->eng->content, name);
        return rc;
    }
    if (op->inserted)
        engine_op_announce(op, OF_EV_ItemAddedToCache);
    engine_op_announce(op, OF_EV_ItemModified);
    res->created = !existed;
    res->stored_offline = 1;
    return 0;
}

int
of_engine_file_write(struct of_engine *eng, const char *path, const char *user,
                     struct of_content_tmp *upload, const char *if_match, const char *if_none_match,
                     struct of_write_result *ret_result, struct of_error *reterr)
{
    struct op *op;
    char hash[OF_HASH_HEX], name[OF_CONTENT_NAME_MAX] = "";
    struct of_write_result *res = calloc(1, sizeof(*res));
    if (!res)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    int rc = engine_op_begin(eng, path, &op, reterr);
    if (rc < 0)
        goto out_res;
    struct of_item *it = &op->item;
    if (op->have_item && it->type != OF_ITEM_FILE)
        rc = of_error_set(reterr, OF_E(NOT_A_FILE), "'%s' is a directory", path);
    if (rc == 0)
        rc = check_client_preconditions(op, if_match, if_none_match, reterr);
    if (rc == 0)
        rc = of_content_tmp_finish(upload, hash, reterr);
    if (rc < 0)
        goto out_op;
    int must_exist = if_match && strcmp(if_match, "*") == 0;
    if (!op_online(op)) {
        /* Offline, what is not in the cache does not exist as far as we can tell. */
        if (must_exist && !op->have_item)
            rc = of_error_set(reterr, OF_E(PRECONDITION), "'%s' does not exist", path);
        else
            rc = write_offline(op, upload, hash, res, reterr);
        goto out_view;
    }
    struct of_stat st, before;
    int existed = op->have_item
                      ? it->remote.exists && !it->deleted_offline
                      : op->share->be->ops->stat(op->share->be, op->rel, &before, NULL) == 0;
    if (must_exist && !op->have_item && !existed) {
        rc = of_error_set(reterr, OF_E(PRECONDITION), "'%s' does not exist", path);
        goto out_op;
    }
    rc = op->share->be->ops->write(op->share->be, op->rel, of_content_tmp_fd(upload),
                                   server_precondition(op, if_none_match), &st, reterr);
    if (rc == OF_E(UNAVAILABLE)) {
        /* The share failed mid-write: keep the bytes in the cache, dirty, to sync later. */
        engine_share_failed(eng, op->share, reterr);
        rc = write_offline(op, upload, hash, res, reterr);
        goto out_view;
    }
    if (rc == OF_E(PRECONDITION))
        of_error_set(reterr, rc, "'%s' changed on the server since it was cached; read it again",
                     path);
    if (rc < 0)
        goto out_op;
    if (keep_with_room(op, user, of_content_tmp_size(upload)))
        rc = of_content_tmp_install(upload, name, reterr);
    if (rc < 0)
        goto out_op;
    it->type = OF_ITEM_FILE;
    engine_op_set_synced(op, &st, hash);
    engine_op_set_content(op, name, st.size);
    it->last_access_ns = of_now_ns();
    if (op->share->rec.caching_mode != OF_CACHING_NONE)
        rc = engine_op_commit(op, 1, reterr);
    res->created = !existed;
    if (rc == 0 && op->inserted)
        engine_op_announce(op, OF_EV_ItemAddedToCache);
    if (rc == 0)
        engine_op_announce(op, OF_EV_ItemModified);
out_view:
    if (rc == 0 && op->share->rec.caching_mode != OF_CACHING_NONE)
        rc = engine_item_view(eng, it, user, &res->view, reterr);
    else if (rc == 0)
        res->view.item = *it;
    if (rc == 0)
        memcpy(ret_result, res, sizeof(*res));
out_op:
    engine_op_end(op);
out_res:
    free(res);
    return rc;
}
