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
    struct op *op;
    int online;
    int rc;
    int done;
    struct of_error *err;
    struct group_entry *next;
};

/* Commit the rows of list in one transaction; if that fails as a whole, one by one. */
static void
commit_list(struct of_engine *eng, struct group_entry *list)
{
    int whole = of_store_begin(eng->store, NULL) == 0;
    for (struct group_entry *e = list; whole && e; e = e->next) {
        e->rc = engine_op_commit_in(e->op, e->online, e->err);
        if (e->rc < 0 && e->rc != OF_E(CONFLICT)) {
            of_store_rollback(eng->store);
            whole = 0;
        }
    }
    if (whole && of_store_commit(eng->store, NULL) < 0)
        whole = 0;
    for (struct group_entry *e = list; !whole && e; e = e->next)
        e->rc = engine_op_commit(e->op, e->online, e->err);
}

int
engine_op_commit_grouped(struct op *op, int online, struct of_error *reterr)
{
    struct of_engine *eng = op->eng;
    struct commit_group *g = &eng->group;
    struct of_error scratch = {0};
    struct group_entry me = {op, online, 0, 0, reterr ? reterr : &scratch, NULL};
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
    return me.rc;
}
