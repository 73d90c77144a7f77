/* SPDX-License-Identifier: MIT */
/* /api/v1/connection/{server}[/{share}]: IOfflineFilesConnectionInfo. */
#include <string.h>

#include "api_int.h"

enum MHD_Result
api_connection_get(struct api_request *req)
{
    struct of_error err = {0};
    struct of_conn_info ci;
    const char *share = req->params[1][0] ? req->params[1] : NULL;
    if (of_engine_connection_get(req->eng, req->params[0], share, &ci, &err) < 0)
        return api_reply_error(req, &err);
    return api_reply_json(req, MHD_HTTP_OK, api_render_conn(&ci));
}

enum MHD_Result
api_connection_put(struct api_request *req)
{
    static const char *const fields[] = {"state", NULL};
    struct of_error err = {0};
    const char *state = NULL;
    json_t *body = NULL;
    const char *share = req->params[1][0] ? req->params[1] : NULL;
    int rc = api_json_body(req, fields, &body, &err);
    if (rc == 0)
        rc = api_json_string(body, "state", 1, &state, &err);
    if (rc == 0 && strcmp(state, "online") != 0 && strcmp(state, "offline") != 0)
        rc = of_error_set(&err, OF_E(BAD_FIELD), "state is \"online\" or \"offline\"");
    if (rc == 0)
        rc = of_engine_connection_set(req->eng, req->params[0], share, strcmp(state, "online") == 0,
                                      &err);
    json_decref(body);
    if (rc < 0)
        return api_reply_error(req, &err);
    struct of_conn_info ci;
    if (of_engine_connection_get(req->eng, req->params[0], share, &ci, &err) < 0)
        return api_reply_error(req, &err);
    return api_reply_json(req, MHD_HTTP_OK, api_render_conn(&ci));
}
