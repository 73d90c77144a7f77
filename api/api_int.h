/* SPDX-License-Identifier: MIT */
/*
 * What the API's modules share: the per-request context, the route table
 * entry, the reply functions (the only writers of response bodies), strict
 * JSON input helpers, and the renderers from engine structs to JSON.
 */
#ifndef OF_API_INT_H
#define OF_API_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#include "api.h"
#include "engine.h"

enum api_method {
    API_GET = 1,
    API_HEAD = 2,
    API_POST = 4,
    API_PUT = 8,
    API_PATCH = 16,
    API_DELETE = 32
};

/* API_AUTH_STREAM: a user token, also from ?access_token= or the of_token cookie (EventSource). */
enum api_auth { API_AUTH_NONE, API_AUTH_USER, API_AUTH_ADMIN, API_AUTH_STREAM };

/* What the route does with a request body. */
enum api_body { API_BODY_NONE, API_BODY_JSON, API_BODY_UPLOAD };

struct api_request;
typedef enum MHD_Result (*api_handler)(struct api_request *req);

struct api_route {
    unsigned methods;    /* API_* bits */
    const char *pattern; /* "/api/v1/shares/{}/{}"; a trailing "**" takes the rest */
    api_handler handler;
    enum api_auth auth;
    enum api_body body;
};

#define API_MAX_PARAMS 2

/* Per-request state: made on the first access-handler call, freed on completion. */
struct api_request {
    struct MHD_Connection *conn;
    struct of_engine *eng;
    const struct of_api_config *cfg;
    const struct api_route *route;
    enum api_method method;
    const char *url;
    char params[API_MAX_PARAMS][OF_SEGMENT_MAX + 1]; /* {} captures */
    char *rest;                                      /* ** capture, "" when none */
    struct of_principal who;
    int replied;
    /* One extra header for an error reply (Allow on 405, Content-Range on 416). */
    const char *err_header;
    char err_value[96];
    /* JSON body */
    char *body;
    size_t body_len, body_cap;
    int body_too_large;
    /* a request waiting for a job (wait: true): resumed when it ends */
    int64_t wait_job;
    struct api_wait *wait;
    enum MHD_Result (*on_resume)(struct api_request *req);
    int wait_cancelled;  /* the daemon is stopping */
    struct sse_hub *sse; /* the event hub, for the events stream */
    int streaming;       /* became an event stream: no longer counted as in flight */
    /* file upload */
    struct of_content_tmp *upload;
    int64_t upload_len;
    struct of_error upload_err;
};

struct api_wait;
struct sse_hub;

/* sse.c: the event hub. start subscribes to the engine; close_all ends every stream. */
struct sse_hub *api_sse_start(struct of_engine *eng);
void api_sse_close_all(struct sse_hub *hub);
/* Stop taking events from the engine (before the daemon's connections go away). */
void api_sse_detach(struct sse_hub *hub);
void api_sse_drain(struct sse_hub *hub, int ms);
void api_sse_stop(struct sse_hub *hub);

/*
 * waits.c: suspend req until job id ends, then MHD calls the access handler
 * again and on_resume(req) replies (req->wait_cancelled set when the daemon
 * is stopping instead). Returns MHD_YES, or replies a problem.
 */
enum MHD_Result api_wait_job(struct api_request *req, int64_t job_id,
                             enum MHD_Result (*on_resume)(struct api_request *req));
/* Resume every waiting request as cancelled (before the daemon stops). */
void api_wait_cancel_all(void);

/* routes.c: find the route for url and method. 0; or OF_E(NO_ROUTE), OF_E(METHOD). */
int api_route_match(const char *url, enum api_method method, struct api_request *req,
                    unsigned *ret_allowed);

/* reply.c: each queues a response and returns MHD's verdict. json is stolen. */
enum MHD_Result api_reply_json(struct api_request *req, unsigned status, json_t *json);
enum MHD_Result api_reply_problem(struct api_request *req, int code, const char *detail);
enum MHD_Result api_reply_error(struct api_request *req, const struct of_error *err);
enum MHD_Result api_reply_empty(struct api_request *req, unsigned status);
/* Serve bytes [offset, offset+len) of fd (taken: closed when sent). */
enum MHD_Result api_reply_fd(struct api_request *req, unsigned status, int fd, int64_t offset,
                             int64_t len, const char *etag, const char *content_type);
/* Queue a prepared response with status, adding the common headers; destroys it. */
enum MHD_Result api_reply_response(struct api_request *req, unsigned status,
                                   struct MHD_Response *resp);

/* json_in.c: the parsed body object (new reference) or a problem already replied. */
int api_json_body(struct api_request *req, const char *const *allowed, json_t **ret_obj,
                  struct of_error *reterr);
/* Typed getters: absent optional -> 0 and *ret untouched; wrong type -> OF_E(BAD_FIELD). */
int api_json_string(json_t *obj, const char *key, int required, const char **ret,
                    struct of_error *reterr);
int api_json_bool(json_t *obj, const char *key, int required, int *ret, struct of_error *reterr);
int api_json_int(json_t *obj, const char *key, int required, int64_t *ret, struct of_error *reterr);

/* Query string: NULL when absent. */
const char *api_query(struct api_request *req, const char *name);
/* A boolean query parameter ("true"/"false"/"1"/"0"); dflt when absent. */
int api_query_bool(struct api_request *req, const char *name, int dflt, int *ret,
                   struct of_error *reterr);
const char *api_header(struct api_request *req, const char *name);

/* The UNC path from the ** capture ("demo/files/a" -> "//demo/files/a"), validated. */
int api_rest_path(struct api_request *req, char *buf, size_t cap, struct of_error *reterr);

/* render.c: new JSON objects from engine structs. */
json_t *api_render_item(const struct of_item_view *view);
json_t *api_render_share(const struct of_share_view *view);
json_t *api_render_conn(const struct of_conn_info *ci);
json_t *api_render_cache(const struct of_cache_info *ci);
json_t *api_render_time(int64_t ns); /* RFC 3339 string, or null for 0 */
json_t *api_render_job(const struct of_job_rec *rec);
json_t *api_render_event(const struct of_event *ev);
json_t *api_render_job_item(const struct of_job_item *item);
json_t *api_render_conflict(const struct of_conflict_rec *rec);
/* A job with its item results (at most 1000), as GET /jobs/{id} shows it. */
json_t *api_render_job_full(struct of_engine *eng, int64_t id, struct of_error *reterr);
/* Reply 202 + Location with the job, or 200 with the finished job when wait was asked. */
enum MHD_Result api_reply_job_started(struct api_request *req, int64_t job_id, int wait);

/* Handlers, named api_<resource>_<verb> after their OpenAPI operationId. */
enum MHD_Result api_health_get(struct api_request *req);
enum MHD_Result api_version_get(struct api_request *req);
enum MHD_Result api_openapi_get(struct api_request *req);
enum MHD_Result api_static_get(struct api_request *req);
enum MHD_Result api_shares_list(struct api_request *req);
enum MHD_Result api_shares_create(struct api_request *req);
enum MHD_Result api_shares_get(struct api_request *req);
enum MHD_Result api_shares_update(struct api_request *req);
enum MHD_Result api_shares_delete(struct api_request *req);
enum MHD_Result api_servers_list(struct api_request *req);
enum MHD_Result api_items_get(struct api_request *req);
enum MHD_Result api_items_list(struct api_request *req);
enum MHD_Result api_files_get(struct api_request *req);
enum MHD_Result api_files_put(struct api_request *req);
enum MHD_Result api_files_delete(struct api_request *req);
enum MHD_Result api_files_create(struct api_request *req);
enum MHD_Result api_cache_get(struct api_request *req);
enum MHD_Result api_cache_update(struct api_request *req);
enum MHD_Result api_connection_get(struct api_request *req);
enum MHD_Result api_connection_put(struct api_request *req);
enum MHD_Result api_sync_start(struct api_request *req);
enum MHD_Result api_jobs_list(struct api_request *req);
enum MHD_Result api_jobs_get(struct api_request *req);
enum MHD_Result api_jobs_abort(struct api_request *req);
enum MHD_Result api_conflicts_list(struct api_request *req);
enum MHD_Result api_conflicts_resolve(struct api_request *req);
enum MHD_Result api_cache_delete(struct api_request *req);
enum MHD_Result api_cache_rename(struct api_request *req);
enum MHD_Result api_events_log(struct api_request *req);
enum MHD_Result api_events_stream(struct api_request *req);
enum MHD_Result api_events_ping(struct api_request *req);
enum MHD_Result api_pins_create(struct api_request *req);
enum MHD_Result api_pins_delete(struct api_request *req);
enum MHD_Result api_suspend_set(struct api_request *req);
enum MHD_Result api_cache_cacheable(struct api_request *req);

#endif
