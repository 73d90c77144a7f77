/* SPDX-License-Identifier: MIT */
/* The store's logs: events, jobs with their item results, and conflict records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* Prepare statement id on the connection this thread locked, or fail. */
/* ---- events ---- */

static void
bind_event(sqlite3_stmt *s, const struct of_event *ev)
{
    sqlite3_bind_int64(s, 1, ev->id);
    sqlite3_bind_int64(s, 2, ev->time_ns);
    sqlite3_bind_int(s, 3, (int)ev->type);
    sqlite3_bind_text(s, 4, ev->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, ev->old_path, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, ev->item_type);
    sqlite3_bind_int64(s, 7, ev->job_id);
    sqlite3_bind_int(s, 8, ev->result);
    sqlite3_bind_int(s, 9, ev->sync_state);
    sqlite3_bind_int(s, 10, ev->operation);
    sqlite3_bind_int(s, 11, ev->flag_a);
    sqlite3_bind_int(s, 12, ev->flag_b);
    sqlite3_bind_int64(s, 13, ev->n_a);
    sqlite3_bind_int64(s, 14, ev->n_b);
    sqlite3_bind_int64(s, 15, ev->n_c);
    sqlite3_bind_int64(s, 16, ev->n_d);
    sqlite3_bind_text(s, 17, ev->text, -1, SQLITE_STATIC);
}

static void
row_event(sqlite3_stmt *s, struct of_event *ev)
{
    ev->id = sqlite3_column_int64(s, 0);
    ev->time_ns = sqlite3_column_int64(s, 1);
    ev->type = (enum of_event_type)sqlite3_column_int(s, 2);
    store_copy_text(ev->path, sizeof(ev->path), sqlite3_column_text(s, 3));
    store_copy_text(ev->old_path, sizeof(ev->old_path), sqlite3_column_text(s, 4));
    ev->item_type = sqlite3_column_int(s, 5);
    ev->job_id = sqlite3_column_int64(s, 6);
    ev->result = sqlite3_column_int(s, 7);
    ev->sync_state = sqlite3_column_int(s, 8);
    ev->operation = sqlite3_column_int(s, 9);
    ev->flag_a = sqlite3_column_int(s, 10);
    ev->flag_b = sqlite3_column_int(s, 11);
    ev->n_a = sqlite3_column_int64(s, 12);
    ev->n_b = sqlite3_column_int64(s, 13);
    ev->n_c = sqlite3_column_int64(s, 14);
    ev->n_d = sqlite3_column_int64(s, 15);
    store_copy_text(ev->text, sizeof(ev->text), sqlite3_column_text(s, 16));
}

int
of_store_event_append(struct of_store *st, const struct of_event *evs, size_t n,
                      struct of_error *reterr)
{
    int rc = of_store_begin(st, reterr);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = store_stmt(st, S_EVENT_APPEND);
    if (!s)
        rc = store_fail(st, reterr, "prepare");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bind_event(s, &evs[i]);
        if (sqlite3_step(s) != SQLITE_DONE)
            rc = store_fail(st, reterr, "event append");
        store_done(s);
    }
    if (rc == 0)
        return of_store_commit(st, reterr);
    of_store_rollback(st);
    return rc;
}

int
of_store_event_scan(struct of_store *st, int64_t after_id, size_t max,
                    int (*cb)(void *ctx, const struct of_event *ev), void *ctx,
                    struct of_error *reterr)
{
    struct of_event *ev = malloc(sizeof(*ev));
    if (!ev)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    int rc = 0;
    sqlite3_stmt *s;
    store_rlock(st);
    STORE_PREPARE(st, s, S_EVENT_SCAN, rc, reterr);
    sqlite3_bind_int64(s, 1, after_id);
    sqlite3_bind_int64(s, 2, store_limit(max));
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
        row_event(s, ev);
        int r = cb(ctx, ev);
        if (r != 0)
            rc = r < 0 ? r : 0;
        if (r != 0)
            break;
    }
    store_done(s);
out_unlock:
    store_unlock(st);
    free(ev);
    return rc;
}

int
of_store_event_bounds(struct of_store *st, int64_t *ret_min, int64_t *ret_max,
                      struct of_error *reterr)
{
    int rc = 0;
    sqlite3_stmt *s;
    store_rlock(st);
    STORE_PREPARE(st, s, S_EVENT_BOUNDS, rc, reterr);
    if (sqlite3_step(s) == SQLITE_ROW) {
        *ret_min = sqlite3_column_int64(s, 0);
        *ret_max = sqlite3_column_int64(s, 1);
    } else {
        rc = store_fail(st, reterr, "event bounds");
    }
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_event_prune(struct of_store *st, int64_t keep_count, int64_t min_time_ns,
                     struct of_error *reterr)
{
    return store_exec(st, S_EVENT_PRUNE, "event prune",
                      (struct store_arg[]){STORE_INT(keep_count), STORE_INT(min_time_ns)}, 2,
                      reterr);
}

/* ---- jobs ---- */

static void
row_job(sqlite3_stmt *s, struct of_job_rec *j)
{
    j->id = sqlite3_column_int64(s, 0);
    store_copy_text(j->kind, sizeof(j->kind), sqlite3_column_text(s, 1));
    store_copy_text(j->state, sizeof(j->state), sqlite3_column_text(s, 2));
    store_copy_text(j->created_by, sizeof(j->created_by), sqlite3_column_text(s, 3));
    j->created_ns = sqlite3_column_int64(s, 4);
    j->started_ns = sqlite3_column_int64(s, 5);
    j->ended_ns = sqlite3_column_int64(s, 6);
    j->items_total = sqlite3_column_int64(s, 7);
    j->items_done = sqlite3_column_int64(s, 8);
    j->bytes_total = sqlite3_column_int64(s, 9);
    j->bytes_done = sqlite3_column_int64(s, 10);
    j->result = sqlite3_column_int(s, 11);
    store_copy_text(j->message, sizeof(j->message), sqlite3_column_text(s, 12));
}

int
of_store_job_put(struct of_store *st, struct of_job_rec *rec, struct of_error *reterr)
{
    int rc = 0;
    sqlite3_stmt *s;
    store_lock(st);
    STORE_PREPARE(st, s, rec->id ? S_JOB_UPDATE : S_JOB_INSERT, rc, reterr);
    if (rec->id)
        sqlite3_bind_int64(s, 1, rec->id);
    sqlite3_bind_text(s, 2, rec->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, rec->state, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, rec->created_by, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, rec->created_ns);
    sqlite3_bind_int64(s, 6, rec->started_ns);
    sqlite3_bind_int64(s, 7, rec->ended_ns);
    sqlite3_bind_int64(s, 8, rec->items_total);
    sqlite3_bind_int64(s, 9, rec->items_done);
    sqlite3_bind_int64(s, 10, rec->bytes_total);
    sqlite3_bind_int64(s, 11, rec->bytes_done);
    sqlite3_bind_int(s, 12, rec->result);
    sqlite3_bind_text(s, 13, rec->message, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = store_fail(st, reterr, "job write");
    else if (!rec->id)
        rec->id = sqlite3_last_insert_rowid(st->w.db);
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_job_get(struct of_store *st, int64_t id, struct of_job_rec *ret_rec,
                 struct of_error *reterr)
{
    int rc = 0;
    sqlite3_stmt *s;
    store_rlock(st);
    STORE_PREPARE(st, s, S_JOB_GET, rc, reterr);
    sqlite3_bind_int64(s, 1, id);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        row_job(s, ret_rec);
    else if (step == SQLITE_DONE)
        rc = of_error_set(reterr, OF_E(NOT_FOUND), "no job %lld", (long long)id);
    else
        rc = store_fail(st, reterr, "job lookup");
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_job_scan(struct of_store *st, int64_t before_id, size_t max,
                  int (*cb)(void *ctx, const struct of_job_rec *rec), void *ctx,
                  struct of_error *reterr)
{
    int rc = 0;
    sqlite3_stmt *s;
    struct of_job_rec rec;
    store_rlock(st);
    STORE_PREPARE(st, s, S_JOB_SCAN, rc, reterr);
    sqlite3_bind_int64(s, 1, before_id > 0 ? before_id : INT64_MAX);
    sqlite3_bind_int64(s, 2, store_limit(max));
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
        row_job(s, &rec);
        int r = cb(ctx, &rec);
        if (r != 0) {
            rc = r < 0 ? r : 0;
            break;
        }
    }
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_job_interrupt_all(struct of_store *st, int64_t now_ns, struct of_error *reterr)
{
    return store_exec(st, S_JOB_INTERRUPT, "job interrupt", &STORE_INT(now_ns), 1, reterr);
}

static void
bind_copy4(sqlite3_stmt *s, int col, const struct of_copy *c)
{
    sqlite3_bind_int(s, col, c->exists);
    sqlite3_bind_int64(s, col + 1, c->size);
    sqlite3_bind_int64(s, col + 2, c->mtime_ns);
    sqlite3_bind_int64(s, col + 3, c->attrs);
}

static void
row_copy4(sqlite3_stmt *s, int col, struct of_copy *c)
{
    memset(c, 0, sizeof(*c));
    c->exists = sqlite3_column_int(s, col);
    c->size = sqlite3_column_int64(s, col + 1);
    c->mtime_ns = sqlite3_column_int64(s, col + 2);
    c->attrs = (uint32_t)sqlite3_column_int64(s, col + 3);
}

int
of_store_job_item_add(struct of_store *st, const struct of_job_item *item, struct of_error *reterr)
{
    int rc = 0;
    sqlite3_stmt *s;
    store_lock(st);
    STORE_PREPARE(st, s, S_JOB_ITEM_ADD, rc, reterr);
    sqlite3_bind_int64(s, 1, item->job_id);
    sqlite3_bind_int64(s, 2, item->seq);
    sqlite3_bind_text(s, 3, item->path, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, item->operation);
    sqlite3_bind_int(s, 5, item->sync_state);
    sqlite3_bind_int(s, 6, item->result);
    sqlite3_bind_int(s, 7, item->conflict);
    sqlite3_bind_int64(s, 8, item->change_flags);
    sqlite3_bind_text(s, 9, item->message, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 10, item->have_copies);
    bind_copy4(s, 11, &item->local);
    bind_copy4(s, 15, &item->remote);
    bind_copy4(s, 19, &item->original);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = store_fail(st, reterr, "job item write");
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_job_item_scan(struct of_store *st, int64_t job_id, int64_t after, size_t max,
                       int (*cb)(void *ctx, const struct of_job_item *item), void *ctx,
                       struct of_error *reterr)
{
    struct of_job_item *it = malloc(sizeof(*it));
    if (!it)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    int rc = 0;
    sqlite3_stmt *s;
    store_rlock(st);
    STORE_PREPARE(st, s, S_JOB_ITEM_SCAN, rc, reterr);
    sqlite3_bind_int64(s, 1, job_id);
    sqlite3_bind_int64(s, 2, after);
    sqlite3_bind_int64(s, 3, store_limit(max));
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
        it->job_id = sqlite3_column_int64(s, 0);
        it->seq = sqlite3_column_int64(s, 1);
        store_copy_text(it->path, sizeof(it->path), sqlite3_column_text(s, 2));
        it->operation = sqlite3_column_int(s, 3);
        it->sync_state = sqlite3_column_int(s, 4);
        it->result = sqlite3_column_int(s, 5);
        it->conflict = sqlite3_column_int(s, 6);
        it->change_flags = (unsigned)sqlite3_column_int64(s, 7);
        store_copy_text(it->message, sizeof(it->message), sqlite3_column_text(s, 8));
        it->have_copies = sqlite3_column_int(s, 9);
        row_copy4(s, 10, &it->local);
        row_copy4(s, 14, &it->remote);
        row_copy4(s, 18, &it->original);
        int r = cb(ctx, it);
        if (r != 0) {
            rc = r < 0 ? r : 0;
            break;
        }
    }
    store_done(s);
out_unlock:
    store_unlock(st);
    free(it);
    return rc;
}

/* ---- conflicts ---- */

static void
row_conflict(sqlite3_stmt *s, struct of_conflict_rec *c)
{
    c->id = sqlite3_column_int64(s, 0);
    store_copy_text(c->path, sizeof(c->path), sqlite3_column_text(s, 1));
    store_copy_text(c->kind, sizeof(c->kind), sqlite3_column_text(s, 2));
    c->sync_state = sqlite3_column_int(s, 3);
    c->change_details = (unsigned)sqlite3_column_int64(s, 4);
    row_copy4(s, 5, &c->local);
    row_copy4(s, 9, &c->remote);
    row_copy4(s, 13, &c->original);
    c->detected_ns = sqlite3_column_int64(s, 17);
    c->updated_ns = sqlite3_column_int64(s, 18);
    c->count = sqlite3_column_int64(s, 19);
}

static int
conflict_one(struct of_store *st, enum stmt_id id, const char *path, int64_t rowid,
             struct of_conflict_rec *ret, struct of_error *reterr)
{
    int rc = 0;
    sqlite3_stmt *s;
    store_rlock(st);
    STORE_PREPARE(st, s, id, rc, reterr);
    if (path)
        sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 1, rowid);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        row_conflict(s, ret);
    else if (step == SQLITE_DONE)
        rc = of_error_set(reterr, OF_E(NOT_FOUND), "no such conflict");
    else
        rc = store_fail(st, reterr, "conflict lookup");
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_conflict_get(struct of_store *st, int64_t id, struct of_conflict_rec *ret_rec,
                      struct of_error *reterr)
{
    return conflict_one(st, S_CONFLICT_GET, NULL, id, ret_rec, reterr);
}

int
of_store_conflict_find(struct of_store *st, const char *path, struct of_conflict_rec *ret_rec,
                       struct of_error *reterr)
{
    return conflict_one(st, S_CONFLICT_FIND, path, 0, ret_rec, reterr);
}

int
of_store_conflict_put(struct of_store *st, struct of_conflict_rec *rec, int *ret_added,
                      struct of_error *reterr)
{
    struct of_conflict_rec *old = malloc(sizeof(*old));
    if (!old)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    int rc = of_store_begin(st, reterr);
    if (rc < 0) {
        free(old);
        return rc;
    }
    int existed = of_store_conflict_find(st, rec->path, old, NULL) == 0;
    sqlite3_stmt *s = store_stmt(st, S_CONFLICT_UPSERT);
    if (!s) {
        rc = store_fail(st, reterr, "prepare");
    } else {
        sqlite3_bind_text(s, 2, rec->path, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, rec->kind, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 4, rec->sync_state);
        sqlite3_bind_int64(s, 5, rec->change_details);
        bind_copy4(s, 6, &rec->local);
        bind_copy4(s, 10, &rec->remote);
        bind_copy4(s, 14, &rec->original);
        sqlite3_bind_int64(s, 18, existed ? old->detected_ns : rec->detected_ns);
        sqlite3_bind_int64(s, 19, rec->updated_ns);
        sqlite3_bind_int64(s, 20, rec->count);
        if (sqlite3_step(s) != SQLITE_DONE)
            rc = store_fail(st, reterr, "conflict write");
        store_done(s);
    }
    if (rc == 0 && of_store_conflict_find(st, rec->path, old, reterr) == 0) {
        rec->id = old->id;
        rec->detected_ns = old->detected_ns;
    }
    free(old);
    if (rc < 0) {
        of_store_rollback(st);
        return rc;
    }
    rc = of_store_commit(st, reterr);
    if (rc == 0 && ret_added)
        *ret_added = !existed;
    return rc;
}

int
of_store_conflict_delete(struct of_store *st, int64_t id, struct of_error *reterr)
{
    return store_exec_id(st, S_CONFLICT_DELETE, id, reterr);
}

int
of_store_conflict_scan(struct of_store *st, const char *under,
                       int (*cb)(void *ctx, const struct of_conflict_rec *rec), void *ctx,
                       struct of_error *reterr)
{
    struct of_conflict_rec *c = malloc(sizeof(*c));
    if (!c)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    int rc = 0;
    sqlite3_stmt *s;
    store_rlock(st);
    STORE_PREPARE(st, s, S_CONFLICT_SCAN, rc, reterr);
    sqlite3_bind_text(s, 1, under, -1, SQLITE_STATIC);
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
        row_conflict(s, c);
        int r = cb(ctx, c);
        if (r != 0) {
            rc = r < 0 ? r : 0;
            break;
        }
    }
    store_done(s);
out_unlock:
    store_unlock(st);
    free(c);
    return rc;
}
