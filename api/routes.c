/* SPDX-License-Identifier: MIT */
/*
 * The route table: every URL the daemon answers, its methods, handler,
 * authentication and body kind. A newcomer finds a URL's code here, then in
 * api/<resource>.c. Matching walks segments: "{}" captures one segment,
 * a final "**" captures the rest of the URL (at least one segment).
 */
#include <string.h>

#include "api_int.h"

#define GET_ API_GET | API_HEAD

static const struct api_route routes[] = {
    {.methods = GET_,
     .pattern = "/api/v1/health",
     .handler = api_health_get,
     .auth = API_AUTH_NONE},
    {.methods = GET_,
     .pattern = "/api/v1/version",
     .handler = api_version_get,
     .auth = API_AUTH_USER},
    {.methods = GET_,
     .pattern = "/api/v1/openapi.yaml",
     .handler = api_openapi_get,
     .auth = API_AUTH_USER},
    {.methods = GET_,
     .pattern = "/api/v1/shares",
     .handler = api_shares_list,
     .auth = API_AUTH_USER},
    {.methods = API_POST,
     .pattern = "/api/v1/shares",
     .handler = api_shares_create,
     .auth = API_AUTH_ADMIN,
     .body = API_BODY_JSON},
    {.methods = GET_,
     .pattern = "/api/v1/shares/{}/{}",
     .handler = api_shares_get,
     .auth = API_AUTH_USER},
    {.methods = API_PATCH,
     .pattern = "/api/v1/shares/{}/{}",
     .handler = api_shares_update,
     .auth = API_AUTH_ADMIN,
     .body = API_BODY_JSON},
    {.methods = API_DELETE,
     .pattern = "/api/v1/shares/{}/{}",
     .handler = api_shares_delete,
     .auth = API_AUTH_ADMIN},
    {.methods = GET_,
     .pattern = "/api/v1/servers",
     .handler = api_servers_list,
     .auth = API_AUTH_USER},
    {.methods = GET_, .pattern = "/api/v1/items", .handler = api_items_list, .auth = API_AUTH_USER},
    {.methods = GET_,
     .pattern = "/api/v1/items/**",
     .handler = api_items_get,
     .auth = API_AUTH_USER},
    {.methods = GET_,
     .pattern = "/api/v1/files/**",
     .handler = api_files_get,
     .auth = API_AUTH_USER},
    {.methods = API_PUT,
     .pattern = "/api/v1/files/**",
     .handler = api_files_put,
     .auth = API_AUTH_USER,
     .body = API_BODY_UPLOAD},
    {.methods = API_POST,
     .pattern = "/api/v1/files/**",
     .handler = api_files_create,
     .auth = API_AUTH_USER,
     .body = API_BODY_JSON},
    {.methods = API_DELETE,
     .pattern = "/api/v1/files/**",
     .handler = api_files_delete,
     .auth = API_AUTH_USER},
    {.methods = GET_, .pattern = "/api/v1/cache", .handler = api_cache_get, .auth = API_AUTH_USER},
    {.methods = API_PATCH,
     .pattern = "/api/v1/cache",
     .handler = api_cache_update,
     .auth = API_AUTH_ADMIN,
     .body = API_BODY_JSON},
    {.methods = GET_,
     .pattern = "/api/v1/connection/{}",
     .handler = api_connection_get,
     .auth = API_AUTH_USER},
    {.methods = GET_,
     .pattern = "/api/v1/connection/{}/{}",
     .handler = api_connection_get,
     .auth = API_AUTH_USER},
    {.methods = API_PUT,
     .pattern = "/api/v1/connection/{}",
     .handler = api_connection_put,
     .auth = API_AUTH_USER,
     .body = API_BODY_JSON},
    {.methods = API_PUT,
     .pattern = "/api/v1/connection/{}/{}",
     .handler = api_connection_put,
     .auth = API_AUTH_USER,
     .body = API_BODY_JSON},
    {.methods = API_POST,
     .pattern = "/api/v1/cache/delete",
     .handler = api_cache_delete,
     .auth = API_AUTH_USER,
     .body = API_BODY_JSON},
    {.methods = API_POST,
     .pattern = "/api/v1/cache/rename",
     .handler = api_cache_rename,
     .auth = API_AUTH_USER,
     .body = API_BODY_JSON},
    {.methods = API_POST,
     .pattern = "/api/v1/sync",
     .handler = api_sync_start,
     .auth = API_AUTH_USER,
     .body = API_BODY_JSON},
    {.methods = GET_, .pattern = "/api/v1/jobs", .handler = api_jobs_list, .auth = API_AUTH_USER},
    {.methods = GET_, .pattern = "/api/v1/jobs/{}", .handler = api_jobs_get, .auth = API_AUTH_USER},
    {.methods = API_DELETE,
     .pattern = "/api/v1/jobs/{}",
     .handler = api_jobs_abort,
     .auth = API_AUTH_USER},
    {.methods = GET_,
     .pattern = "/api/v1/conflicts",
     .handler = api_conflicts_list,
     .auth = API_AUTH_USER},
    {.methods = API_POST,
     .pattern = "/api/v1/conflicts/{}/resolve",
     .handler = api_conflicts_resolve,
     .auth = API_AUTH_USER,
     .body = API_BODY_JSON},
    {.methods = API_POST,
     .pattern = "/api/v1/pins",
     .handler = api_pins_create,
     .auth = API_AUTH_USER,
     .body = API_BODY_JSON},
    {.methods = API_DELETE,
     .pattern = "/api/v1/pins",
     .handler = api_pins_delete,
     .auth = API_AUTH_USER},
    {.methods = API_POST,
     .pattern = "/api/v1/suspend",
     .handler = api_suspend_set,
     .auth = API_AUTH_USER,
     .body = API_BODY_JSON},
    {.methods = GET_,
     .pattern = "/api/v1/cache/cacheable",
     .handler = api_cache_cacheable,
     .auth = API_AUTH_USER},
    {.methods = GET_,
     .pattern = "/api/v1/events",
     .handler = api_events_stream,
     .auth = API_AUTH_STREAM},
    {.methods = API_POST,
     .pattern = "/api/v1/events/ping",
     .handler = api_events_ping,
     .auth = API_AUTH_ADMIN,
     .body = API_BODY_JSON},
    {.methods = GET_,
     .pattern = "/api/v1/events/log",
     .handler = api_events_log,
     .auth = API_AUTH_USER},
    /* The dashboard: static files, no data, so no token (the page asks for one). */
    {.methods = GET_, .pattern = "/", .handler = api_static_get, .auth = API_AUTH_NONE},
    {.methods = GET_, .pattern = "/web/**", .handler = api_static_get, .auth = API_AUTH_NONE},
};

/* Does url fit pattern? Captures go into req only when it does. */
static int
match(const char *pattern, const char *url, struct api_request *req)
{
    const char *p = pattern, *u = url;
    char caps[API_MAX_PARAMS][OF_SEGMENT_MAX + 1];
    int ncap = 0;
    const char *rest = "";
    while (*p) {
        if (p[0] == '*' && p[1] == '*') {
            if (!*u)
                return 0;
            rest = u;
            u += strlen(u);
            p += 2;
            break;
        }
        if (p[0] == '{' && p[1] == '}') {
            size_t n = strcspn(u, "/");
            if (n == 0 || n > OF_SEGMENT_MAX || ncap == API_MAX_PARAMS)
                return 0;
            memcpy(caps[ncap], u, n);
            caps[ncap++][n] = '\0';
            u += n;
            p += 2;
            continue;
        }
        if (*p != *u)
            return 0;
        p++;
        u++;
    }
    if (*u)
        return 0;
    memcpy(req->params, caps, sizeof(caps[0]) * (size_t)ncap);
    req->rest = (char *)rest;
    return 1;
}

int
api_route_match(const char *url, enum api_method method, struct api_request *req,
                unsigned *ret_allowed)
{
    unsigned allowed = 0;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!match(routes[i].pattern, url, req))
            continue;
        allowed |= routes[i].methods;
        if (routes[i].methods & (unsigned)method) {
            req->route = &routes[i];
            return 0;
        }
    }
    *ret_allowed = allowed;
    return allowed ? OF_E(METHOD) : OF_E(NO_ROUTE);
}
