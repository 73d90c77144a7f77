/* SPDX-License-Identifier: MIT */
/* /api/v1/cache: location, enabled and disk space limits (IOfflineFilesCache). */
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
