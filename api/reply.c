/* SPDX-License-Identifier: MIT */
/*
 * The one place that writes response bodies: JSON documents, problem+json
 * errors from the error registry, empty answers and file streams. Common
 * headers are added here too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_int.h"
#include "log.h"

enum MHD_Result
api_reply_response(struct api_request *req, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result r = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    req->replied = 1;
    return r;
}

static enum MHD_Result
reply_text(struct api_request *req, unsigned status, char *text, const char *type)
{
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    return api_reply_response(req, status, resp);
}

enum MHD_Result
api_reply_json(struct api_request *req, unsigned status, json_t *json)
{
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    if (!text)
        return api_reply_problem(req, OF_E(NOMEM), "cannot render the response");
    return reply_text(req, status, text, "application/json");
}

enum MHD_Result
api_reply_problem(struct api_request *req, int code, const char *detail)
{
    int status = of_error_status(code);
    /* Offline answers (503) are the daemon working as meant, not failures. */
    if (status >= 500 && status != 503)
        of_log_error("%s %s: %s", req->route ? "request" : "url", req->url,
                     detail && *detail ? detail : of_error_title(code));
    else
        of_log_debug("%s: %d %s", req->url, status, of_error_code_str(code));
    char type[128];
    snprintf(type, sizeof(type), "urn:offlinefiles:problem:%s", of_error_code_str(code));
    json_t *p =
        json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", type, "title", of_error_title(code),
                  "status", status, "detail", detail && *detail ? detail : of_error_title(code),
                  "code", of_error_code_str(code));
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/problem+json");
    if (status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"offlinefiles\"");
    if (req->err_header)
        MHD_add_response_header(resp, req->err_header, req->err_value);
    return api_reply_response(req, (unsigned)status, resp);
}

enum MHD_Result
api_reply_error(struct api_request *req, const struct of_error *err)
{
    return api_reply_problem(req, err->code ? err->code : OF_E(INTERNAL), err->detail);
}

enum MHD_Result
api_reply_empty(struct api_request *req, unsigned status)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    return api_reply_response(req, status, resp);
}

enum MHD_Result
api_reply_fd(struct api_request *req, unsigned status, int fd, int64_t offset, int64_t len,
             const char *etag, const char *content_type)
{
    /* MHD streams from the fd (sendfile where it can) and closes it when done. */
    struct MHD_Response *resp =
        MHD_create_response_from_fd_at_offset64((uint64_t)len, fd, (uint64_t)offset);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", content_type);
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    if (etag && *etag) {
        char quoted[OF_HASH_HEX + 4];
        snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
        MHD_add_response_header(resp, "ETag", quoted);
    }
    return api_reply_response(req, status, resp);
}
