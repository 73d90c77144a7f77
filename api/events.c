/* SPDX-License-Identifier: MIT */
/* /api/v1/events/log: the event log as JSON pages, for clients that poll. */
#include <string.h>

#include "api_int.h"
#include "util.h"

json_t *
api_render_event(const struct of_event *ev)
{
    json_t *j = json_pack("{s:I, s:s, s:o, s:o}", "id", (json_int_t)ev->id, "type",
                          of_event_type_name(ev->type), "path",
                          ev->path[0] ? json_string(ev->path) : json_null(), "time",
                          api_render_time(ev->time_ns));
    if (!j)
        return NULL;
    if (ev->old_path[0])
        json_object_set_new(j, "oldPath", json_string(ev->old_path));
    if (ev->item_type >= 0)
        json_object_set_new(j, "itemType",
                            json_string(of_item_type_name((enum of_item_type)ev->item_type)));
    if (ev->job_id)
        json_object_set_new(j, "jobId", json_integer(ev->job_id));
    if (ev->sync_state >= 0)
        json_object_set_new(j, "syncState",
                            json_string(of_sync_state_name((enum of_sync_state)ev->sync_state)));
    if (ev->operation >= 0)
        json_object_set_new(j, "operation",
                            json_string(of_sync_op_name((enum of_sync_op)ev->operation)));
    switch (ev->type) {
    case OF_EV_SyncFileResult:
    case OF_EV_SyncEnd:
    case OF_EV_BackgroundSyncEnd:
    case OF_EV_JobItemResult:
    case OF_EV_PrefetchFileEnd:
        json_object_set_new(j, "result",
                            json_string(ev->result < 0 ? of_error_code_str(ev->result) : "ok"));
        break;
    case OF_EV_ItemModified:
        json_object_set_new(j, "modifiedData", json_boolean(ev->flag_a));
        json_object_set_new(j, "modifiedAttributes", json_boolean(ev->flag_b));
        break;
    case OF_EV_JobProgress:
        json_object_set_new(j, "progress",
                            json_pack("{s:I, s:I, s:I, s:I}", "itemsDone", (json_int_t)ev->n_a,
                                      "itemsTotal", (json_int_t)ev->n_b, "bytesDone",
                                      (json_int_t)ev->n_c, "bytesTotal", (json_int_t)ev->n_d));
        break;
    default:
        break;
    }
    if (ev->text[0])
        json_object_set_new(j, "detail", json_string(ev->text));
    return j;
}

static int
add_event(void *ctx, const struct of_event *ev)
{
    return json_array_append_new(ctx, api_render_event(ev)) == 0 ? 0 : OF_E(NOMEM);
}

enum MHD_Result
api_events_log(struct api_request *req)
{
    struct of_error err = {0};
    int64_t since = 0, limit = 100, oldest = 0, newest = 0;
    const char *v;
    if (((v = api_query(req, "since")) && (of_parse_i64(v, &since) < 0 || since < 0)) ||
        ((v = api_query(req, "limit")) &&
         (of_parse_i64(v, &limit) < 0 || limit < 1 || limit > 1000)))
        return api_reply_problem(req, OF_E(BAD_QUERY), "since is an event id; limit is 1 to 1000");
    json_t *events = json_array();
    if (of_engine_events_scan(req->eng, since, (size_t)limit, add_event, events, &err) < 0 ||
        of_engine_events_bounds(req->eng, &oldest, &newest, &err) < 0) {
        json_decref(events);
        return api_reply_error(req, &err);
    }
    size_t n = json_array_size(events);
    int64_t last =
        n ? json_integer_value(json_object_get(json_array_get(events, n - 1), "id")) : since;
    /* Asked from before the oldest kept event: say so, as DataLost does on the stream. */
    int lost = since > 0 && oldest > since + 1;
    return api_reply_json(req, MHD_HTTP_OK,
                          json_pack("{s:o, s:I, s:I, s:b}", "events", events, "next",
                                    (json_int_t)last, "newest", (json_int_t)newest, "dataLost",
                                    lost));
}

enum MHD_Result
api_events_ping(struct api_request *req)
{
    static const char *const fields[] = {"count", "detail", NULL};
    struct of_error err = {0};
    int64_t count = 1;
    const char *detail = NULL;
    json_t *body = NULL;
    int rc = api_json_body(req, fields, &body, &err);
    if (rc == 0 && (api_json_int(body, "count", 0, &count, &err) < 0 ||
                    api_json_string(body, "detail", 0, &detail, &err) < 0))
        rc = -1;
    if (rc == 0)
        rc = of_engine_events_ping(req->eng, count, detail, &err);
    json_decref(body);
    if (rc < 0)
        return api_reply_error(req, &err);
    return api_reply_json(req, MHD_HTTP_OK, json_pack("{s:I}", "published", (json_int_t)count));
}
