/* SPDX-License-Identifier: MIT */
/* /api/v1/pins (Pin, Unpin), /api/v1/suspend (SuspendRoot), /api/v1/cache/cacheable. */
#include <stdlib.h>
#include <string.h>

#include "api_int.h"

static int
parse_scope(const char *name, enum of_pin_scope *ret, struct of_error *err)
{
    static const char *const names[] = {"user", "computer", "policy", "redirection"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) == 0) {
            *ret = (enum of_pin_scope)i;
            return 0;
        }
    }
    return of_error_set(err, OF_E(BAD_FIELD), "scope is user, computer, policy or redirection");
}

/* Policy pins are an administrator's; user pins are the caller's own. */
static int
check_scope(struct api_request *req, enum of_pin_scope scope, struct of_error *err)
{
    if (scope == OF_PIN_POLICY && !req->who.admin)
        return of_error_set(err, OF_E(FORBIDDEN), "policy pins need an admin token");
    return 0;
}

enum MHD_Result
api_pins_create(struct api_request *req)
{
    static const char *const fields[] = {"paths", "deep", "scope", "fill", "wait", NULL};
    struct of_error err = {0};
    const char *paths[1024], *scope_name = "user";
    enum of_pin_scope scope = OF_PIN_USER;
    int deep = 0, fill = 1, wait = 0;
    size_t n = 0, i;
    int64_t job;
    json_t *body = NULL, *arr, *v;
    int rc = api_json_body(req, fields, &body, &err);
    if (rc == 0 && (api_json_bool(body, "deep", 0, &deep, &err) < 0 ||
                    api_json_bool(body, "fill", 0, &fill, &err) < 0 ||
                    api_json_bool(body, "wait", 0, &wait, &err) < 0 ||
                    api_json_string(body, "scope", 0, &scope_name, &err) < 0 ||
                    parse_scope(scope_name, &scope, &err) < 0 || check_scope(req, scope, &err) < 0))
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
    if (rc == 0)
        rc = of_engine_pin(req->eng, paths, n, deep, scope, fill, 0, req->who.user, &job, &err);
    json_decref(body);
    if (rc < 0)
        return api_reply_error(req, &err);
    return api_reply_job_started(req, job, wait);
}

enum MHD_Result
api_pins_delete(struct api_request *req)
{
    struct of_error err = {0};
    const char *path = api_query(req, "path"), *scope_name = api_query(req, "scope");
    enum of_pin_scope scope = OF_PIN_USER;
    int deep = 0, wait = 1;
    int64_t job;
    if (!path)
        return api_reply_problem(req, OF_E(BAD_QUERY), "path is required");
    if (api_query_bool(req, "deep", 0, &deep, &err) < 0 ||
        api_query_bool(req, "wait", 1, &wait, &err) < 0 ||
        (scope_name && parse_scope(scope_name, &scope, &err) < 0) ||
        check_scope(req, scope, &err) < 0 ||
        of_engine_pin(req->eng, &path, 1, deep, scope, 0, 1, req->who.user, &job, &err) < 0) {
        if (err.code == OF_E(BAD_FIELD))
            err.code = OF_E(BAD_QUERY);
        return api_reply_error(req, &err);
    }
    return api_reply_job_started(req, job, wait);
}

enum MHD_Result
api_suspend_set(struct api_request *req)
{
    static const char *const fields[] = {"path", "suspend", NULL};
    struct of_error err = {0};
    const char *path = NULL;
    int suspend = 1;
    json_t *body = NULL;
    struct of_item_view *view = NULL;
    int rc = api_json_body(req, fields, &body, &err);
    if (rc == 0 && (api_json_string(body, "path", 1, &path, &err) < 0 ||
                    api_json_bool(body, "suspend", 1, &suspend, &err) < 0))
        rc = -1;
    if (rc == 0)
        rc = of_engine_suspend(req->eng, path, suspend, &err);
    if (rc == 0 && !(view = malloc(sizeof(*view))))
        rc = of_error_set(&err, OF_E(NOMEM), "out of memory");
    if (rc == 0)
        rc = of_engine_item_get(req->eng, path, req->who.user, view, &err);
    enum MHD_Result r = rc < 0 ? api_reply_error(req, &err)
                               : api_reply_json(req, MHD_HTTP_OK, api_render_item(view));
    free(view);
    json_decref(body);
    return r;
}

enum MHD_Result
api_cache_cacheable(struct api_request *req)
{
    struct of_error err = {0};
    const char *path = api_query(req, "path");
    int cacheable = 0;
    enum of_caching_mode mode;
    if (!path)
        return api_reply_problem(req, OF_E(BAD_QUERY), "path is required");
    if (of_engine_cacheable(req->eng, path, &cacheable, &mode, &err) < 0)
        return api_reply_error(req, &err);
    return api_reply_json(req, MHD_HTTP_OK,
                          json_pack("{s:s, s:b, s:s}", "path", path, "cacheable", cacheable,
                                    "cachingMode", of_caching_mode_name(mode)));
}
