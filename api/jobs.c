/* SPDX-License-Identifier: MIT */
/* /api/v1/jobs: long operations (IOfflineFilesProgress), their progress, results and abort. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "util.h"

#define ITEMS_SHOWN 1000

static int
add_item(void *ctx, const struct of_job_item *item)
{
    return json_array_append_new(ctx, api_render_job_item(item)) == 0 ? 0 : OF_E(NOMEM);
}

json_t *
api_render_job_full(struct of_engine *eng, int64_t id, struct of_error *reterr)
{
    struct of_job_rec rec;
    if (of_engine_job_get(eng, id, &rec, reterr) < 0)
        return NULL;
    json_t *job = api_render_job(&rec);
    json_t *items = json_array();
    if (of_engine_job_items(eng, id, 0, ITEMS_SHOWN, add_item, items, reterr) < 0) {
        json_decref(items);
        json_decref(job);
        return NULL;
    }
    json_object_set_new(job, "results", items);
    return job;
}

static int64_t
job_id_param(struct api_request *req, struct of_error *err)
{
    int64_t id;
    if (of_parse_i64(req->params[0], &id) < 0 || id <= 0) {
        of_error_set(err, OF_E(NOT_FOUND), "no job '%.40s'", req->params[0]);
        return -1;
    }
    return id;
}

static enum MHD_Result
reply_finished(struct api_request *req)
{
    struct of_error err = {0};
    if (req->wait_cancelled)
        return api_reply_problem(req, OF_E(UNAVAILABLE),
                                 "the daemon is stopping; the job goes on or is interrupted");
    json_t *job = api_render_job_full(req->eng, req->wait_job, &err);
    return job ? api_reply_json(req, MHD_HTTP_OK, job) : api_reply_error(req, &err);
}

enum MHD_Result
api_reply_job_started(struct api_request *req, int64_t job_id, int wait)
{
    if (wait)
        return api_wait_job(req, job_id, reply_finished);
    struct of_error err = {0};
    struct of_job_rec rec;
    if (of_engine_job_get(req->eng, job_id, &rec, &err) < 0)
        return api_reply_error(req, &err);
    json_t *json = api_render_job(&rec);
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp) {
        free(text);
        return api_reply_problem(req, OF_E(NOMEM), "cannot render the job");
    }
    char location[64];
    snprintf(location, sizeof(location), "/api/v1/jobs/%" PRId64, job_id);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Location", location);
    return api_reply_response(req, MHD_HTTP_ACCEPTED, resp);
}

static int
add_job(void *ctx, const struct of_job_rec *rec)
{
    return json_array_append_new(ctx, api_render_job(rec)) == 0 ? 0 : OF_E(NOMEM);
}

enum MHD_Result
api_jobs_list(struct api_request *req)
{
    struct of_error err = {0};
    int64_t before = 0, limit = 100;
    const char *v;
    if (((v = api_query(req, "before")) && (of_parse_i64(v, &before) < 0 || before < 0)) ||
        ((v = api_query(req, "limit")) &&
         (of_parse_i64(v, &limit) < 0 || limit < 1 || limit > 1000)))
        return api_reply_problem(req, OF_E(BAD_QUERY), "before is a job id; limit is 1 to 1000");
    json_t *jobs = json_array();
    if (of_engine_job_list(req->eng, before, (size_t)limit, add_job, jobs, &err) < 0) {
        json_decref(jobs);
        return api_reply_error(req, &err);
    }
    return api_reply_json(req, MHD_HTTP_OK, json_pack("{s:o}", "jobs", jobs));
}

enum MHD_Result
api_jobs_get(struct api_request *req)
{
    struct of_error err = {0};
    int64_t id = job_id_param(req, &err);
    json_t *job = id > 0 ? api_render_job_full(req->eng, id, &err) : NULL;
    return job ? api_reply_json(req, MHD_HTTP_OK, job) : api_reply_error(req, &err);
}

enum MHD_Result
api_jobs_abort(struct api_request *req)
{
    struct of_error err = {0};
    struct of_job_rec rec;
    int64_t id = job_id_param(req, &err);
    if (id < 0 || of_engine_job_abort(req->eng, id, &err) < 0 ||
        of_engine_job_get(req->eng, id, &rec, &err) < 0)
        return api_reply_error(req, &err);
    return api_reply_json(req, MHD_HTTP_ACCEPTED, api_render_job(&rec));
}
