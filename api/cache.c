/* SPDX-License-Identifier: MIT */
/*
 * /api/v1/cache: location, enabled and disk space limits (IOfflineFilesCache),
 * and changes to the cache alone: delete items, rename items.
 */
#include <stdlib.h>
#include <string.h>

#include "api_int.h"

enum MHD_Result
api_cache_get(struct api_request *req)
{
    struct of_error err = {0};
    struct of_cache_info ci;
    if (of_engine_cache_get(req->eng, &ci, &err) < 0)
        return api_reply_error(req, &err);
    return api_reply_json(req, MHD_HTTP_OK, api_render_cache(&ci));
}

enum MHD_Result
api_cache_update(struct api_request *req)
{
    static const char *const fields[] = {"enabled", "limit", "unpinnedLimit", NULL};
    struct of_error err = {0};
    struct of_cache_patch patch = {0};
    struct of_cache_info ci;
    json_t *body = NULL;
    patch.limit = patch.unpinned_limit = -1;
    if (api_json_body(req, fields, &body, &err) < 0 ||
        api_json_bool(body, "enabled", 0, &patch.enabled, &err) < 0 ||
        api_json_int(body, "limit", 0, &patch.limit, &err) < 0 ||
        api_json_int(body, "unpinnedLimit", 0, &patch.unpinned_limit, &err) < 0) {
        json_decref(body);
        return api_reply_error(req, &err);
    }
    patch.has_enabled = json_object_get(body, "enabled") != NULL;
    patch.has_limit = json_object_get(body, "limit") != NULL;
    patch.has_unpinned_limit = json_object_get(body, "unpinnedLimit") != NULL;
    json_decref(body);
    if (of_engine_cache_set(req->eng, &patch, &ci, &err) < 0)
        return api_reply_error(req, &err);
    return api_reply_json(req, MHD_HTTP_OK, api_render_cache(&ci));
}

enum MHD_Result
api_cache_delete(struct api_request *req)
{
    static const char *const fields[] = {"paths", "user", "allowDirty", "wait", NULL};
    struct of_error err = {0};
    const char *paths[1024], *user = NULL;
    int allow_dirty = 0, wait = 0;
    size_t n = 0, i;
    int64_t job;
    json_t *body = NULL, *arr, *v;
    int rc = api_json_body(req, fields, &body, &err);
    if (rc == 0 && (api_json_bool(body, "allowDirty", 0, &allow_dirty, &err) < 0 ||
                    api_json_bool(body, "wait", 0, &wait, &err) < 0 ||
                    api_json_string(body, "user", 0, &user, &err) < 0))
        rc = -1;
    arr = rc == 0 ? json_object_get(body, "paths") : NULL;
    if (rc == 0 &&
        (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 1024))
        rc = of_error_set(&err, OF_E(BAD_FIELD), "'paths' is an array of 1 to 1024 paths");
    if (rc == 0) {
        json_array_foreach(arr, i, v)
        {
            if (!json_is_string(v)) {
                rc = of_error_set(&err, OF_E(BAD_FIELD), "'paths' holds strings");
                break;
            }
            paths[n++] = json_string_value(v);
        }
    }
    /* Removing items for another user is an administrator's call (DeleteItemsForUser). */
    if (rc == 0 && user && strcmp(user, req->who.user) != 0 && !req->who.admin)
        rc = of_error_set(&err, OF_E(FORBIDDEN), "only an admin may delete for another user");
    if (rc == 0)
        rc = of_engine_cache_delete(req->eng, paths, n, allow_dirty, req->who.user, &job, &err);
    json_decref(body);
    if (rc < 0)
        return api_reply_error(req, &err);
    return api_reply_job_started(req, job, wait);
}

enum MHD_Result
api_cache_rename(struct api_request *req)
{
    static const char *const fields[] = {"from", "to", "replace", NULL};
    struct of_error err = {0};
    const char *from, *to;
    int replace = 0;
    json_t *body = NULL;
    int rc = api_json_body(req, fields, &body, &err);
    if (rc == 0 && (api_json_string(body, "from", 1, &from, &err) < 0 ||
                    api_json_string(body, "to", 1, &to, &err) < 0 ||
                    api_json_bool(body, "replace", 0, &replace, &err) < 0))
        rc = -1;
    if (rc == 0)
        rc = of_engine_cache_rename(req->eng, from, to, replace, &err);
    struct of_item_view *view = rc == 0 ? malloc(sizeof(*view)) : NULL;
    if (rc == 0 && !view)
        rc = of_error_set(&err, OF_E(NOMEM), "out of memory");
    if (rc == 0)
        rc = of_engine_item_get(req->eng, to, req->who.user, view, &err);
    json_decref(body);
    enum MHD_Result r = rc < 0 ? api_reply_error(req, &err)
                               : api_reply_json(req, MHD_HTTP_OK, api_render_item(view));
    free(view);
    return r;
}
