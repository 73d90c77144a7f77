/* SPDX-License-Identifier: MIT */
/* /api/v1/conflicts: recorded sync conflicts and their resolution. */
#include <string.h>

#include "api_int.h"
#include "util.h"

static int
add_conflict(void *ctx, const struct of_conflict_rec *rec)
{
    return json_array_append_new(ctx, api_render_conflict(rec)) == 0 ? 0 : OF_E(NOMEM);
}

enum MHD_Result
api_conflicts_list(struct api_request *req)
{
    struct of_error err = {0};
    const char *under = api_query(req, "under");
    if (under && of_path_validate(under, &err) < 0)
        return api_reply_error(req, &err);
    json_t *arr = json_array();
    if (of_engine_conflicts_list(req->eng, under ? under : "", add_conflict, arr, &err) < 0) {
        json_decref(arr);
        return api_reply_error(req, &err);
    }
    return api_reply_json(req, MHD_HTTP_OK, json_pack("{s:o}", "conflicts", arr));
}

/* After the resolving job: the record is gone, or the resolution did not apply. */
static enum MHD_Result
reply_resolved(struct api_request *req)
{
    struct of_error err = {0};
    struct of_conflict_rec rec;
    int64_t id = 0;
    of_parse_i64(req->params[0], &id);
    if (req->wait_cancelled)
        return api_reply_problem(req, OF_E(UNAVAILABLE), "the daemon is stopping");
    json_t *job = api_render_job_full(req->eng, req->wait_job, &err);
    if (!job)
        return api_reply_error(req, &err);
    if (of_engine_conflict_get(req->eng, id, &rec, NULL) == 0) {
        json_decref(job);
        return api_reply_problem(req, OF_E(CONFLICT),
                                 "the resolution could not be applied; the conflict stays "
                                 "(see the job's results)");
    }
    return api_reply_json(req, MHD_HTTP_OK, json_pack("{s:b, s:o}", "resolved", 1, "job", job));
}

enum MHD_Result
api_conflicts_resolve(struct api_request *req)
{
    static const char *const fields[] = {"resolution", "newName", NULL};
    static const struct {
        const char *name;
        enum of_resolution r;
    } names[] = {
        {"keepLocal", OF_RESOLVE_KEEP_LOCAL},         {"keepRemote", OF_RESOLVE_KEEP_REMOTE},
        {"keepLatest", OF_RESOLVE_KEEP_LATEST},       {"keepAll", OF_RESOLVE_KEEP_ALL},
        {"confirmDelete", OF_RESOLVE_CONFIRM_DELETE}, {"discard", OF_RESOLVE_DISCARD}};
    struct of_error err = {0};
    const char *resolution = NULL, *new_name = NULL;
    json_t *body = NULL;
    int64_t id = 0, job = 0;
    int found = -1;
    int rc = api_json_body(req, fields, &body, &err);
    if (rc == 0 && (api_json_string(body, "resolution", 1, &resolution, &err) < 0 ||
                    api_json_string(body, "newName", 0, &new_name, &err) < 0))
        rc = -1;
    for (size_t i = 0; rc == 0 && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(resolution, names[i].name) == 0)
            found = (int)i;
    if (rc == 0 && found < 0)
        rc = of_error_set(&err, OF_E(BAD_FIELD),
                          "resolution is keepLocal, keepRemote, keepLatest, keepAll, "
                          "confirmDelete or discard");
    if (rc == 0 && (of_parse_i64(req->params[0], &id) < 0 || id <= 0))
        rc = of_error_set(&err, OF_E(NOT_FOUND), "no conflict '%.40s'", req->params[0]);
    if (rc == 0)
        rc = of_engine_conflict_resolve(req->eng, id, names[found].r, new_name, req->who.user, &job,
                                        &err);
    json_decref(body);
    if (rc < 0)
        return api_reply_error(req, &err);
    if (job == 0)
        return api_reply_json(req, MHD_HTTP_OK, json_pack("{s:b, s:n}", "resolved", 1, "job"));
    return api_wait_job(req, job, reply_resolved);
}
