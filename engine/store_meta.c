/* SPDX-License-Identifier: MIT */
/* The store's small tables: pins, shares, API tokens, meta settings, usage sums. */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* ---- pins ---- */

int
of_store_pin_info(struct of_store *st, const struct of_item *item, const char *user,
                  struct of_pin_info *ret_info, struct of_error *reterr)
{
    struct of_pin_info pi = {0};
    int rc = 0;
    store_rlock(st);
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, S_PINS_OF, rc, reterr);
    sqlite3_bind_int64(s, 1, item->id);
    while (sqlite3_step(s) == SQLITE_ROW) {
        int scope = sqlite3_column_int(s, 0), inherit = sqlite3_column_int(s, 2);
        const char *who = (const char *)sqlite3_column_text(s, 1);
        pi.pinned = 1;
        if (scope == OF_PIN_USER && (!user || strcmp(user, who) == 0)) {
            pi.for_user = 1;
            pi.for_user_inherit |= inherit;
        } else if (scope == OF_PIN_USER) {
            pi.for_others = 1;
        } else if (scope == OF_PIN_POLICY) {
            pi.by_policy = 1;
            pi.by_policy_inherit |= inherit;
        } else if (scope == OF_PIN_COMPUTER) {
            pi.for_computer = 1;
            pi.for_computer_inherit |= inherit;
        } else if (scope == OF_PIN_REDIRECTION) {
            pi.for_redirection = 1;
            pi.for_redirection_inherit |= inherit;
        }
    }
    store_done(s);
    if (!pi.pinned && of_item_is_container(item)) {
        char lo[OF_PATH_MAX + 2], hi[OF_PATH_MAX + 2];
        store_below_bounds(item->path, lo, hi, sizeof(lo));
        STORE_PREPARE(st, s, S_PIN_BELOW, rc, reterr);
        sqlite3_bind_text(s, 1, lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, hi, -1, SQLITE_STATIC);
        pi.partly = sqlite3_step(s) == SQLITE_ROW;
        store_done(s);
    }
    *ret_info = pi;
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_pin_set(struct of_store *st, int64_t item_id, enum of_pin_scope scope, const char *user,
                 int inherit, struct of_error *reterr)
{
    store_lock(st);
    int rc = 0;
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, S_PIN_SET, rc, reterr);
    sqlite3_bind_int64(s, 1, item_id);
    sqlite3_bind_int(s, 2, (int)scope);
    sqlite3_bind_text(s, 3, user ? user : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, inherit);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = store_fail(st, reterr, "pin");
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_pin_rows(struct of_store *st, int64_t item_id,
                  void (*cb)(void *ctx, const struct of_pin_row *row), void *ctx,
                  struct of_error *reterr)
{
    int rc = 0;
    struct of_pin_row row;
    store_rlock(st);
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, S_PIN_ROWS, rc, reterr);
    sqlite3_bind_int64(s, 1, item_id);
    while (sqlite3_step(s) == SQLITE_ROW) {
        row.scope = (enum of_pin_scope)sqlite3_column_int(s, 0);
        store_copy_text(row.user, sizeof(row.user), sqlite3_column_text(s, 1));
        row.inherit = sqlite3_column_int(s, 2);
        cb(ctx, &row);
    }
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_pin_clear(struct of_store *st, int64_t item_id, enum of_pin_scope scope, const char *user,
                   struct of_error *reterr)
{
    return store_exec(
        st, S_PIN_CLEAR, "unpin",
        (struct store_arg[]){STORE_INT(item_id), STORE_INT(scope), STORE_TEXT(user ? user : "")}, 3,
        reterr);
}

/* ---- shares ---- */

static void
row_share(sqlite3_stmt *s, struct of_share_rec *r)
{
    r->id = sqlite3_column_int64(s, 0);
    store_copy_text(r->server, sizeof(r->server), sqlite3_column_text(s, 1));
    store_copy_text(r->share, sizeof(r->share), sqlite3_column_text(s, 2));
    store_copy_text(r->remote, sizeof(r->remote), sqlite3_column_text(s, 3));
    r->caching_mode = (enum of_caching_mode)sqlite3_column_int(s, 4);
    r->forced_offline = sqlite3_column_int(s, 5);
    r->created_ns = sqlite3_column_int64(s, 6);
    r->auth_type = sqlite3_column_int(s, 7);
    store_copy_text(r->username, sizeof(r->username), sqlite3_column_text(s, 8));
    store_copy_text(r->secret, sizeof(r->secret), sqlite3_column_text(s, 9));
    store_copy_text(r->ca_file, sizeof(r->ca_file), sqlite3_column_text(s, 10));
    r->insecure = sqlite3_column_int(s, 11);
    r->transfers = sqlite3_column_int(s, 12);
    r->offline_on_slow = sqlite3_column_int(s, 13);
    r->slow_ms = sqlite3_column_int(s, 14);
}

int
of_store_share_get(struct of_store *st, const char *server, const char *share,
                   struct of_share_rec *ret_rec, struct of_error *reterr)
{
    store_rlock(st);
    int rc = 0;
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, S_SHARE_GET, rc, reterr);
    sqlite3_bind_text(s, 1, server, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, share, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        row_share(s, ret_rec);
    else if (step == SQLITE_DONE)
        rc = of_error_set(reterr, OF_E(NO_SHARE), "no share //%s/%s is configured", server, share);
    else
        rc = store_fail(st, reterr, "share lookup");
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_share_list(struct of_store *st, struct of_share_rec **ret_recs, size_t *ret_count,
                    struct of_error *reterr)
{
    store_rlock(st);
    int rc = 0;
    size_t n = 0, cap = 0;
    struct of_share_rec *recs = NULL;
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, S_SHARE_LIST, rc, reterr);
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            struct of_share_rec *grown = realloc(recs, cap * sizeof(*recs));
            if (!grown) {
                rc = of_error_set(reterr, OF_E(NOMEM), "out of memory");
                free(recs);
                recs = NULL;
                n = 0;
                break;
            }
            recs = grown;
        }
        row_share(s, &recs[n++]);
    }
    store_done(s);
    if (rc == 0) {
        *ret_recs = recs;
        *ret_count = n;
    }
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_share_put(struct of_store *st, struct of_share_rec *rec, struct of_error *reterr)
{
    store_lock(st);
    int rc = 0;
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, rec->id ? S_SHARE_UPDATE : S_SHARE_INSERT, rc, reterr);
    if (rec->id)
        sqlite3_bind_int64(s, 1, rec->id);
    sqlite3_bind_text(s, 2, rec->server, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, rec->share, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, rec->remote, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, (int)rec->caching_mode);
    sqlite3_bind_int(s, 6, rec->forced_offline);
    sqlite3_bind_int64(s, 7, rec->created_ns);
    sqlite3_bind_int(s, 8, rec->auth_type);
    sqlite3_bind_text(s, 9, rec->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, rec->secret, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 11, rec->ca_file, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 12, rec->insecure);
    sqlite3_bind_int(s, 13, rec->transfers);
    sqlite3_bind_int(s, 14, rec->offline_on_slow);
    sqlite3_bind_int(s, 15, rec->slow_ms);
    int step = sqlite3_step(s);
    if (step == SQLITE_CONSTRAINT)
        rc = of_error_set(reterr, OF_E(EXISTS), "share //%s/%s already exists", rec->server,
                          rec->share);
    else if (step != SQLITE_DONE)
        rc = store_fail(st, reterr, "share write");
    else if (!rec->id)
        rec->id = sqlite3_last_insert_rowid(st->w.db);
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_share_delete(struct of_store *st, int64_t id, struct of_error *reterr)
{
    return store_exec_id(st, S_SHARE_DELETE, id, reterr);
}

/* ---- tokens and meta ---- */

int
of_store_token_add(struct of_store *st, const char *user, const char *hash_hex, int admin,
                   struct of_error *reterr)
{
    return store_exec(
        st, S_TOKEN_ADD, "token write",
        (struct store_arg[]){STORE_TEXT(user), STORE_TEXT(hash_hex), STORE_INT(admin)}, 3, reterr);
}

int
of_store_token_find(struct of_store *st, const char *hash_hex, char *ret_user, size_t user_cap,
                    int *ret_admin, struct of_error *reterr)
{
    store_rlock(st);
    int rc = 0;
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, S_TOKEN_FIND, rc, reterr);
    sqlite3_bind_text(s, 1, hash_hex, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        store_copy_text(ret_user, user_cap, sqlite3_column_text(s, 0));
        *ret_admin = sqlite3_column_int(s, 1);
    } else if (step == SQLITE_DONE) {
        rc = of_error_set(reterr, OF_E(UNAUTHORIZED), "the token is not valid");
    } else {
        rc = store_fail(st, reterr, "token lookup");
    }
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_token_count(struct of_store *st, int64_t *ret_count, struct of_error *reterr)
{
    return store_query_int(st, S_TOKEN_COUNT, 0, ret_count, reterr);
}

int
of_store_meta_get(struct of_store *st, const char *key, char *ret_value, size_t cap,
                  struct of_error *reterr)
{
    store_rlock(st);
    int rc = 0;
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, S_META_GET, rc, reterr);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        store_copy_text(ret_value, cap, sqlite3_column_text(s, 0));
    else if (step == SQLITE_DONE)
        rc = of_error_set(reterr, OF_E(NOT_FOUND), "no value for %s", key);
    else
        rc = store_fail(st, reterr, "meta lookup");
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_meta_set(struct of_store *st, const char *key, const char *value, struct of_error *reterr)
{
    return store_exec(st, S_META_SET, "meta write",
                      (struct store_arg[]){STORE_TEXT(key), STORE_TEXT(value)}, 2, reterr);
}

int
of_store_content_names(struct of_store *st, void (*cb)(void *ctx, const char *name), void *ctx,
                       struct of_error *reterr)
{
    store_rlock(st);
    int rc = 0;
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, S_CONTENT_NAMES, rc, reterr);
    while (sqlite3_step(s) == SQLITE_ROW)
        cb(ctx, (const char *)sqlite3_column_text(s, 0));
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
of_store_cache_usage(struct of_store *st, int64_t *ret_used, int64_t *ret_unpinned,
                     struct of_error *reterr)
{
    store_rlock(st);
    int rc = 0;
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, S_USAGE, rc, reterr);
    if (sqlite3_step(s) == SQLITE_ROW) {
        *ret_used = sqlite3_column_int64(s, 0);
        *ret_unpinned = sqlite3_column_int64(s, 1);
    } else {
        rc = store_fail(st, reterr, "usage");
    }
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}
