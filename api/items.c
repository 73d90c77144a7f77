/* SPDX-License-Identifier: MIT */
/* /api/v1/items: FindItem and EnumItemsEx with IOfflineFilesItemFilter criteria. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "util.h"

enum MHD_Result
api_items_get(struct api_request *req)
{
    struct of_error err = {0};
    char path[OF_PATH_MAX + 3];
    struct of_item_view *view = malloc(sizeof(*view));
    if (!view)
        return api_reply_problem(req, OF_E(NOMEM), "out of memory");
    enum MHD_Result r;
    if (api_rest_path(req, path, sizeof(path), &err) < 0 ||
        of_engine_item_get(req->eng, path, req->who.user, view, &err) < 0)
        r = api_reply_error(req, &err);
    else
        r = api_reply_json(req, MHD_HTTP_OK, api_render_item(view));
    free(view);
    return r;
}

/* Split a comma list in place (buf is a copy) into at most max entries. */
static int
split_list(char *buf, const char **out, size_t max, size_t *ret_n, const char *name,
           struct of_error *err)
{
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (n == max)
            return of_error_set(err, OF_E(BAD_QUERY), "'%s' takes at most %zu entries", name, max);
        out[n++] = tok;
    }
    *ret_n = n;
    return 0;
}

static int
parse_flags(char *buf, uint64_t *ret, const char *name, struct of_error *err)
{
    const char *names[OF_FLAG__COUNT];
    size_t n = 0;
    int rc = split_list(buf, names, OF_FLAG__COUNT, &n, name, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        enum of_item_flag f;
        if (of_item_flag_parse(names[i], &f) < 0)
            return of_error_set(err, OF_E(BAD_QUERY), "unknown flag '%.40s' in '%s'", names[i],
                                name);
        *ret |= 1ull << f;
    }
    return rc;
}

/* Query-string copies live here so the query's pointers stay valid. */
struct query_bufs {
    char types[128], flags[512], mask[512];
    char inc_files[1024], exc_files[1024], inc_dirs[1024], exc_dirs[1024];
};

static int
copy_param(struct api_request *req, const char *name, char *buf, size_t cap, struct of_error *err)
{
    const char *v = api_query(req, name);
    buf[0] = '\0';
    if (v && strlen(v) >= cap)
        return of_error_set(err, OF_E(BAD_QUERY), "'%s' is too long", name);
    if (v)
        memcpy(buf, v, strlen(v) + 1);
    return 0;
}

static int
parse_time(struct api_request *req, const char *name, int64_t *ret, struct of_error *err)
{
    const char *v = api_query(req, name);
    if (v && of_time_parse(v, ret) < 0)
        return of_error_set(err, OF_E(BAD_QUERY), "'%s' takes an RFC 3339 time", name);
    return 0;
}

static int
parse_query(struct api_request *req, struct of_item_query *q, struct query_bufs *b,
            struct of_error *err)
{
    const char *v;
    int rc = 0;
    q->under = api_query(req, "under");
    q->under = q->under ? q->under : "";
    if (q->under[0] && (rc = of_path_validate(q->under, err)) < 0)
        return rc;
    q->depth = 1;
    if ((v = api_query(req, "depth")) && strcmp(v, "all") == 0)
        q->depth = 0;
    else if (v && strcmp(v, "1") != 0)
        return of_error_set(err, OF_E(BAD_QUERY), "depth is 1 or all");
    q->limit = 100;
    int64_t limit;
    if ((v = api_query(req, "limit")) &&
        (of_parse_i64(v, &limit) < 0 || limit < 1 || limit > OF_QUERY_LIMIT_MAX))
        return of_error_set(err, OF_E(BAD_QUERY), "limit is 1 to %d", OF_QUERY_LIMIT_MAX);
    if (v)
        q->limit = (size_t)limit;
    q->cursor = api_query(req, "cursor");
    q->cursor = q->cursor ? q->cursor : api_query(req, "next");
    q->cursor = q->cursor ? q->cursor : "";
    if (q->cursor[0] && (rc = of_path_validate(q->cursor, err)) < 0)
        return of_error_set(err, OF_E(BAD_QUERY), "cursor is not a valid cursor");
    size_t n = 0;
    const char *types[4];
    if ((rc = copy_param(req, "type", b->types, sizeof(b->types), err)) < 0 ||
        (rc = split_list(b->types, types, 4, &n, "type", err)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        enum of_item_type t;
        if (of_item_type_parse(types[i], &t) < 0)
            return of_error_set(err, OF_E(BAD_QUERY), "type is file, directory, share, server");
        q->types |= 1u << t;
    }
    if ((rc = copy_param(req, "flags", b->flags, sizeof(b->flags), err)) < 0 ||
        (rc = copy_param(req, "mask", b->mask, sizeof(b->mask), err)) < 0 ||
        (rc = parse_flags(b->flags, &q->flags, "flags", err)) < 0 ||
        (rc = parse_flags(b->mask, &q->mask, "mask", err)) < 0)
        return rc;
    if (!api_query(req, "mask"))
        q->mask = q->flags; /* flags alone: every named flag must be set */
    if ((rc = copy_param(req, "includeFiles", b->inc_files, sizeof(b->inc_files), err)) < 0 ||
        (rc = copy_param(req, "excludeFiles", b->exc_files, sizeof(b->exc_files), err)) < 0 ||
        (rc = copy_param(req, "includeDirs", b->inc_dirs, sizeof(b->inc_dirs), err)) < 0 ||
        (rc = copy_param(req, "excludeDirs", b->exc_dirs, sizeof(b->exc_dirs), err)) < 0 ||
        (rc = split_list(b->inc_files, q->include_files, OF_QUERY_PATTERNS_MAX, &q->n_include_files,
                         "includeFiles", err)) < 0 ||
        (rc = split_list(b->exc_files, q->exclude_files, OF_QUERY_PATTERNS_MAX, &q->n_exclude_files,
                         "excludeFiles", err)) < 0 ||
        (rc = split_list(b->inc_dirs, q->include_dirs, OF_QUERY_PATTERNS_MAX, &q->n_include_dirs,
                         "includeDirs", err)) < 0 ||
        (rc = split_list(b->exc_dirs, q->exclude_dirs, OF_QUERY_PATTERNS_MAX, &q->n_exclude_dirs,
                         "excludeDirs", err)) < 0)
        return rc;
    if ((rc = parse_time(req, "modifiedAfter", &q->modified_after_ns, err)) < 0 ||
        (rc = parse_time(req, "modifiedBefore", &q->modified_before_ns, err)) < 0)
        return rc;
    q->user = req->who.user;
    return 0;
}

static int
add_item(void *ctx, const struct of_item_view *view)
{
    return json_array_append_new(ctx, api_render_item(view)) == 0 ? 0 : OF_E(NOMEM);
}

enum MHD_Result
api_items_list(struct api_request *req)
{
    struct of_error err = {0};
    struct of_item_query q = {0};
    struct query_bufs *b = calloc(1, sizeof(*b));
    char *next = malloc(OF_PATH_MAX + 1);
    json_t *items = json_array();
    enum MHD_Result r;
    if (!b || !next || !items)
        r = api_reply_problem(req, OF_E(NOMEM), "out of memory");
    else if (parse_query(req, &q, b, &err) < 0 ||
             of_engine_items_query(req->eng, &q, add_item, items, next, &err) < 0)
        r = api_reply_error(req, &err);
    else
        r = api_reply_json(req, MHD_HTTP_OK,
                           json_pack("{s:O, s:o}", "items", items, "next",
                                     next[0] ? json_string(next) : json_null()));
    json_decref(items);
    free(next);
    free(b);
    return r;
}
