/* SPDX-License-Identifier: MIT */
/* POST /api/v1/sync: Synchronize as a job (IOfflineFilesCache::Synchronize). */
#include <string.h>

#include "api_int.h"

/* Fill paths[] from a JSON array of strings; the strings stay owned by the array. */
static int
json_paths(json_t *body, const char **paths, size_t max, size_t *ret_n, struct of_error *err)
{
    json_t *arr = json_object_get(body, "paths"), *v;
    size_t i;
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > max)
        return of_error_set(err, OF_E(BAD_FIELD), "'paths' is an array of 1 to %zu paths", max);
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v))
            return of_error_set(err, OF_E(BAD_FIELD), "'paths' holds strings");
        paths[i] = json_string_value(v);
        int rc = of_path_validate(paths[i], err);
        if (rc < 0)
            return rc;
    }
    *ret_n = json_array_size(arr);
    return 0;
}

enum MHD_Result
api_sync_start(struct api_request *req)
{
    static const char *const fields[] = {
        "paths",         "in",       "out",  "fillSparse", "pinNewFiles", "skipSuspended",
        "noNewFilesOut", "conflict", "wait", NULL};
    struct of_error err = {0};
    struct of_sync_request r = {.in = 1, .out = 1, .policy = OF_POLICY_ASK};
    const char *policy = NULL;
    int wait = 0;
    int64_t id;
    json_t *body = NULL;
    int rc = api_json_body(req, fields, &body, &err);
    if (rc == 0)
        rc = json_paths(body, r.paths, OF_SYNC_PATHS_MAX, &r.n_paths, &err);
    if (rc == 0 && (api_json_bool(body, "in", 0, &r.in, &err) < 0 ||
                    api_json_bool(body, "out", 0, &r.out, &err) < 0 ||
                    api_json_bool(body, "fillSparse", 0, &r.fill_sparse, &err) < 0 ||
                    api_json_bool(body, "pinNewFiles", 0, &r.pin_new_files, &err) < 0 ||
                    api_json_bool(body, "skipSuspended", 0, &r.skip_suspended, &err) < 0 ||
                    api_json_bool(body, "noNewFilesOut", 0, &r.no_new_files_out, &err) < 0 ||
                    api_json_bool(body, "wait", 0, &wait, &err) < 0 ||
                    api_json_string(body, "conflict", 0, &policy, &err) < 0))
        rc = -1;
    if (rc == 0 && policy && of_conflict_policy_parse(policy, &r.policy) < 0)
        rc = of_error_set(&err, OF_E(BAD_FIELD),
                          "conflict is ask, keepLocal, keepRemote, keepLatest, keepAll, log, "
                          "skip or abort");
    if (rc == 0 && !r.in && !r.out)
        rc = of_error_set(&err, OF_E(BAD_FIELD), "a sync needs in, out or both");
    if (rc == 0)
        rc = of_engine_sync_start(req->eng, &r, req->who.user, &id, &err);
    json_decref(body);
    if (rc < 0)
        return api_reply_error(req, &err);
    return api_reply_job_started(req, id, wait);
}
