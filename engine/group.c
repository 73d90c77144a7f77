/* SPDX-License-Identifier: MIT */
/*
 * Group commit of item rows. Threads that each finished one operation (a
 * sync worker that pushed or pulled a file) queue their op; whichever finds
 * no commit running becomes the leader and commits everything queued in one
 * transaction, while the others wait for it; what arrives meanwhile goes in
 * the next group. Each caller still returns only once its own row is
 * durable, as with engine_op_commit, but N threads pay one disk sync
 * instead of N (SQLite syncs its log at every commit, and commits take
 * turns on the one writer connection).
 */
#include <stdlib.h>

#include "engine_int.h"

struct group_entry {
    struct op_commit c;
    int done;
    struct group_entry *next;
};

void
engine_ops_commit(struct of_engine *eng, struct op_commit *const *v, size_t n)
{
    int whole = of_store_begin(eng->store, NULL) == 0;
    for (size_t i = 0; whole && i < n; i++) {
        v[i]->rc = engine_op_commit_in(v[i]->op, v[i]->online, v[i]->err);
        if (v[i]->rc < 0 && v[i]->rc != OF_E(CONFLICT)) {
            of_store_rollback(eng->store);
            whole = 0;
        }
    }
    if (whole && of_store_commit(eng->store, NULL) < 0)
        whole = 0;
    /* Something failed that is not one row's conflict: find out which, row by row. */
    for (size_t i = 0; !whole && i < n; i++)
        v[i]->rc = engine_op_commit(v[i]->op, v[i]->online, v[i]->err);
}

/* Commit the rows of a group (the leader's list). */
static void
commit_list(struct of_engine *eng, struct group_entry *list)
{
    size_t n = 0;
    for (struct group_entry *e = list; e; e = e->next)
        n++;
    struct op_commit **v = malloc(n * sizeof(*v));
    if (!v) {
        for (struct group_entry *e = list; e; e = e->next)
            e->c.rc = engine_op_commit(e->c.op, e->c.online, e->c.err);
        return;
    }
    n = 0;
    for (struct group_entry *e = list; e; e = e->next)
        v[n++] = &e->c;
    engine_ops_commit(eng, v, n);
    free(v);
}

int
engine_op_commit_grouped(struct op *op, int online, struct of_error *reterr)
{
    struct of_engine *eng = op->eng;
    struct commit_group *g = &eng->group;
    struct of_error scratch = {0};
    struct group_entry me = {{op, online, 0, reterr ? reterr : &scratch}, 0, NULL};
    pthread_mutex_lock(&g->lock);
    me.next = g->queue;
    g->queue = &me;
    while (!me.done) {
        if (g->leading) {
            pthread_cond_wait(&g->cv, &g->lock);
            continue;
        }
        g->leading = 1;
        struct group_entry *list = g->queue;
        g->queue = NULL;
        pthread_mutex_unlock(&g->lock);
        commit_list(eng, list);
        pthread_mutex_lock(&g->lock);
        for (struct group_entry *e = list; e;) {
            struct group_entry *next = e->next; /* e may be gone once done is seen */
            e->done = 1;
            e = next;
        }
        g->leading = 0;
        pthread_cond_broadcast(&g->cv);
    }
    pthread_mutex_unlock(&g->lock);
    return me.c.rc;
}
