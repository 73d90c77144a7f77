/* SPDX-License-Identifier: MIT */
/*
 * Batched fills: the content of many pinned files fetched from their share
 * by several threads at once, made durable together. Each file is written
 * to a batched temp file and installed under its new name without a sync;
 * every FILL_BATCH_FILES files or FILL_BATCH_BYTES bytes (or FILL_BATCH_NS
 * after the first one waits) the thread that fills the batch syncs the cache
 * once and commits all their rows in one transaction. The order of the data
 * safety rule holds for every file (content durable, then its row), at the
 * cost of one disk flush and one commit per batch rather than three syncs
 * per file. Until its row commits, a file's bytes count as in flight for the
 * cache limits (engine_cache_inflight).
 *
 * A batch owns the ops of its pending files; results go out through the
 * done callback, once per file, after the commit that decides them.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "util.h"

#define FILL_BATCH_FILES 256
#define FILL_BATCH_BYTES ((int64_t)64 << 20)
#define FILL_BATCH_NS ((int64_t)500 * 1000 * 1000)

struct pending {
    struct op_commit c; /* c.err points at err once the batch settles */
    int64_t size;
    char name[OF_CONTENT_NAME_MAX];
    struct of_error err;
};

struct fill_batch {
    struct of_engine *eng;
    fill_done_fn done;
    void *ctx;
    pthread_mutex_t lock; /* v, n, bytes, first_ns */
    struct pending *v;
    size_t n;
    int64_t bytes;
    int64_t first_ns; /* when the oldest pending file arrived */
};

struct fill_batch *
engine_fill_batch_new(struct of_engine *eng, fill_done_fn done, void *ctx)
{
    struct fill_batch *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->v = calloc(FILL_BATCH_FILES, sizeof(*b->v));
    if (!b->v) {
        free(b);
        return NULL;
    }
    b->eng = eng;
    b->done = done;
    b->ctx = ctx;
    pthread_mutex_init(&b->lock, NULL);
    return b;
}

/* Make v's content durable, commit the rows, report each file; frees the ops. */
static void
settle(struct fill_batch *b, struct pending *v, size_t n)
{
    struct of_engine *eng = b->eng;
    struct of_error serr = {0};
    struct op_commit *rows[FILL_BATCH_FILES];
    for (size_t i = 0; i < n; i++) {
        v[i].c.err = &v[i].err;
        rows[i] = &v[i].c;
    }
    if (of_content_sync(eng->content, &serr) == 0) {
        engine_ops_commit(eng, rows, n);
    } else {
        for (size_t i = 0; i < n; i++) {
            v[i].c.rc = serr.code;
            v[i].err = serr;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct op *op = v[i].c.op;
        engine_cache_inflight(eng, -v[i].size, 1);
        if (v[i].c.rc < 0)
            of_content_remove(eng->content, v[i].name);
        struct of_event ev;
        of_event_init(&ev, OF_EV_PrefetchFileEnd, op->item.path);
        ev.result = v[i].c.rc;
        engine_publish(eng, &ev);
        if (v[i].c.rc == 0)
            engine_publish_item(eng, OF_EV_ItemAvailableOffline, op->item.path, OF_ITEM_FILE);
        b->done(b->ctx, op->item.path, v[i].c.rc, &v[i].err);
        engine_op_end(op);
    }
}

/* Take what is pending (under b->lock) into a fresh array the caller settles and frees. */
static struct pending *
take(struct fill_batch *b, size_t *ret_n)
{
    struct pending *v = malloc(FILL_BATCH_FILES * sizeof(*v));
    if (!v)
        return NULL;
    memcpy(v, b->v, b->n * sizeof(*v));
    *ret_n = b->n;
    b->n = 0;
    b->bytes = 0;
    return v;
}

void
engine_fill_flush(struct fill_batch *b)
{
    pthread_mutex_lock(&b->lock);
    size_t n = 0;
    struct pending *v = b->n ? take(b, &n) : NULL;
    pthread_mutex_unlock(&b->lock);
    if (v)
        settle(b, v, n);
    free(v);
}

/* Queue a file whose content is installed; settle the batch when it is full or old. */
static void
add(struct fill_batch *b, struct op *op, const char *name, int64_t size)
{
    pthread_mutex_lock(&b->lock);
    struct pending *p = &b->v[b->n++];
    memset(p, 0, sizeof(*p));
    p->c.op = op;
    p->c.online = 1;
    p->size = size;
    memcpy(p->name, name, sizeof(p->name));
    b->bytes += size;
    int64_t now = of_now_ns();
    if (b->n == 1)
        b->first_ns = now;
    size_t n = 0;
    struct pending *v = NULL;
    if (b->n == FILL_BATCH_FILES || b->bytes >= FILL_BATCH_BYTES ||
        now - b->first_ns >= FILL_BATCH_NS) {
        v = take(b, &n);
        if (!v) {
            /* No memory for a copy: settle in place, holding the lock. */
            settle(b, b->v, b->n);
            b->n = 0;
            b->bytes = 0;
        }
    }
    pthread_mutex_unlock(&b->lock);
    if (v)
        settle(b, v, n);
    free(v);
}

/* The failure of one file before it reached the batch. */
static void
failed(struct fill_batch *b, struct op *op, const char *path, int rc, const struct of_error *err)
{
    b->done(b->ctx, path, rc, err);
    engine_op_end(op);
}

void
engine_fill(struct fill_batch *b, const char *path)
{
    struct of_engine *eng = b->eng;
    struct of_error err = {0};
    struct op *op;
    int rc = engine_op_begin(eng, path, &op, &err);
    if (rc < 0) {
        b->done(b->ctx, path, rc, &err);
        return;
    }
    struct of_item *it = &op->item;
    if (op->have_item && it->content[0] && !it->ghosted) {
        failed(b, op, path, 0, &err); /* already cached: nothing to do */
        return;
    }
    if (!engine_share_online(eng, op->share)) {
        rc = of_error_set(&err, OF_E(NOT_OFFLINE), "'%s' cannot be filled while offline", path);
        failed(b, op, path, rc, &err);
        return;
    }
    struct of_content_tmp *tmp;
    struct of_stat st;
    char hash[OF_HASH_HEX], name[OF_CONTENT_NAME_MAX];
    struct of_event ev;
    of_event_init(&ev, OF_EV_PrefetchFileBegin, path);
    engine_publish(eng, &ev);
    rc = engine_op_download_batched(op, &tmp, &st, hash, &err);
    if (rc == OF_E(UNAVAILABLE))
        engine_share_failed(eng, op->share, &err);
    if (rc == 0) {
        /* Held from making room to counting the bytes in flight, so fills cannot overbook. */
        pthread_mutex_lock(&eng->room_lock);
        rc = engine_cache_make_room(eng, st.size, 1, &err);
        if (rc == 0)
            rc = of_content_tmp_install(tmp, name, &err);
        if (rc == 0)
            engine_cache_inflight(eng, st.size, 1);
        pthread_mutex_unlock(&eng->room_lock);
        of_content_tmp_free(tmp);
    }
    if (rc < 0) {
        of_event_init(&ev, OF_EV_PrefetchFileEnd, path);
        ev.result = rc;
        engine_publish(eng, &ev);
        failed(b, op, path, rc, &err);
        return;
    }
    it->type = OF_ITEM_FILE;
    engine_op_set_synced(op, &st, hash);
    engine_op_set_content(op, name, st.size);
    add(b, op, name, st.size);
}

void
engine_fill_batch_free(struct fill_batch *b)
{
    if (!b)
        return;
    engine_fill_flush(b);
    pthread_mutex_destroy(&b->lock);
    free(b->v);
    free(b);
}
