/* SPDX-License-Identifier: MIT */
/* /api/v1/shares and /api/v1/servers: configured shares and their servers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"

static int
parse_mode(json_t *body, int *ret_has, enum of_caching_mode *ret_mode, struct of_error *err)
{
    const char *mode = NULL;
    int rc = api_json_string(body, "cachingMode", 0, &mode, err);
    if (rc < 0 || !mode)
        return rc;
    if (of_caching_mode_parse(mode, ret_mode) < 0)
        return of_error_set(err, OF_E(BAD_FIELD),
                            "cachingMode is one of manual, auto, autoPrograms, noCaching");
    *ret_has = 1;
    return 0;
}

static int copy_field(char *dst, size_t cap, const char *src, const char *name,
                      struct of_error *err);

/*
 * The connection fields of a share body: "auth" {type, username, password |
 * token}, "caFile", "insecure", "transfers", "offlineOnSlowLink",
 * "slowLinkMs". The has_* flags say which were given.
 */
static int
parse_connection(json_t *body, struct of_share_patch *p, struct of_error *err)
{
    static const char *const types[] = {"none", "basic", "digest", "bearer"};
    json_t *auth = json_object_get(body, "auth");
    const char *ca = NULL;
    int64_t transfers = 0, slow_ms = 0;
    if (auth) {
        const char *type = NULL, *user = NULL, *password = NULL, *token = NULL, *key;
        json_t *v;
        if (!json_is_object(auth))
            return of_error_set(err, OF_E(BAD_FIELD), "'auth' is an object");
        json_object_foreach(auth, key, v)
        {
            if (strcmp(key, "type") && strcmp(key, "username") && strcmp(key, "password") &&
                strcmp(key, "token"))
                return of_error_set(err, OF_E(UNKNOWN_FIELD), "unknown field 'auth.%.40s'", key);
        }
        if (api_json_string(auth, "type", 1, &type, err) < 0 ||
            api_json_string(auth, "username", 0, &user, err) < 0 ||
            api_json_string(auth, "password", 0, &password, err) < 0 ||
            api_json_string(auth, "token", 0, &token, err) < 0)
            return err->code;
        p->auth_type = -1;
        for (int i = 0; i < 4; i++)
            if (strcmp(type, types[i]) == 0)
                p->auth_type = i;
        if (p->auth_type < 0)
            return of_error_set(err, OF_E(BAD_FIELD), "auth.type is none, basic, digest or bearer");
        if ((p->auth_type == OF_AUTH_BEARER) != (token != NULL) ||
            (p->auth_type == OF_AUTH_BASIC || p->auth_type == OF_AUTH_DIGEST) != (password != NULL))
            return of_error_set(err, OF_E(BAD_FIELD),
                                "basic and digest take username and password; bearer takes token");
        if (copy_field(p->username, sizeof(p->username), user ? user : "", "auth.username", err) <
                0 ||
            copy_field(p->secret, sizeof(p->secret),
                       token      ? token
                       : password ? password
                                  : "",
                       "auth secret", err) < 0)
            return err->code;
        p->has_auth = 1;
    }
    if (api_json_string(body, "caFile", 0, &ca, err) < 0 ||
        api_json_bool(body, "insecure", 0, &p->insecure, err) < 0 ||
        api_json_int(body, "transfers", 0, &transfers, err) < 0 ||
        api_json_bool(body, "offlineOnSlowLink", 0, &p->offline_on_slow, err) < 0 ||
        api_json_int(body, "slowLinkMs", 0, &slow_ms, err) < 0)
        return err->code;
    if (ca && copy_field(p->ca_file, sizeof(p->ca_file), ca, "caFile", err) < 0)
        return err->code;
    p->has_ca_file = ca != NULL;
    p->has_insecure = json_object_get(body, "insecure") != NULL;
    p->has_transfers = json_object_get(body, "transfers") != NULL;
    p->has_offline_on_slow = json_object_get(body, "offlineOnSlowLink") != NULL;
    p->has_slow_ms = json_object_get(body, "slowLinkMs") != NULL;
    if (p->has_transfers && (transfers < 1 || transfers > 32))
        return of_error_set(err, OF_E(BAD_FIELD), "transfers is 1 to 32");
    if (p->has_slow_ms && (slow_ms < 0 || slow_ms > 600000))
        return of_error_set(err, OF_E(BAD_FIELD), "slowLinkMs is 0 to 600000");
    p->transfers = (int)transfers;
    p->slow_ms = (int)slow_ms;
    return 0;
}

/* Apply the connection fields of a patch to a new share record. */
static void
apply_connection(struct of_share_rec *r, const struct of_share_patch *p)
{
    if (p->has_auth) {
        r->auth_type = p->auth_type;
        memcpy(r->username, p->username, sizeof(r->username));
        memcpy(r->secret, p->secret, sizeof(r->secret));
    }
    if (p->has_ca_file)
        memcpy(r->ca_file, p->ca_file, sizeof(r->ca_file));
    r->insecure = p->insecure;
    r->transfers = p->has_transfers ? p->transfers : 4;
    r->offline_on_slow = p->offline_on_slow;
    r->slow_ms = p->slow_ms;
}

static int
copy_field(char *dst, size_t cap, const char *src, const char *name, struct of_error *err)
{
    if (strlen(src) >= cap)
        return of_error_set(err, OF_E(BAD_FIELD), "'%s' is too long", name);
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

static enum MHD_Result
reply_views(struct api_request *req, const char *server)
{
    struct of_error err = {0};
    struct of_share_view *v;
    size_t n;
    if (of_engine_share_list(req->eng, server, &v, &n, &err) < 0)
        return api_reply_error(req, &err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, api_render_share(&v[i]));
    free(v);
    return api_reply_json(req, MHD_HTTP_OK, json_pack("{s:o}", "shares", arr));
}

enum MHD_Result
api_shares_list(struct api_request *req)
{
    return reply_views(req, NULL);
}

enum MHD_Result
api_shares_create(struct api_request *req)
{
    static const char *const fields[] = {"server",      "share",     "remote",
                                         "cachingMode", "auth",      "caFile",
                                         "insecure",    "transfers", "offlineOnSlowLink",
                                         "slowLinkMs",  NULL};
    struct of_error err = {0};
    struct of_share_rec rec = {0};
    struct of_share_patch conn = {0};
    struct of_share_view view;
    const char *server, *share, *remote;
    int has_mode = 0;
    json_t *body = NULL;
    rec.caching_mode = OF_CACHING_MANUAL;
    if (api_json_body(req, fields, &body, &err) < 0 ||
        api_json_string(body, "server", 1, &server, &err) < 0 ||
        api_json_string(body, "share", 1, &share, &err) < 0 ||
        api_json_string(body, "remote", 1, &remote, &err) < 0 ||
        parse_mode(body, &has_mode, &rec.caching_mode, &err) < 0 ||
        copy_field(rec.server, sizeof(rec.server), server, "server", &err) < 0 ||
        copy_field(rec.share, sizeof(rec.share), share, "share", &err) < 0 ||
        copy_field(rec.remote, sizeof(rec.remote), remote, "remote", &err) < 0 ||
        parse_connection(body, &conn, &err) < 0 ||
        (apply_connection(&rec, &conn), of_engine_share_add(req->eng, &rec, &view, &err) < 0)) {
        json_decref(body);
        return api_reply_error(req, &err);
    }
    json_decref(body);
    char location[600];
    snprintf(location, sizeof(location), "/api/v1/shares/%s/%s", view.rec.server, view.rec.share);
    json_t *json = api_render_share(&view);
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Location", location);
    return api_reply_response(req, MHD_HTTP_CREATED, resp);
}

enum MHD_Result
api_shares_get(struct api_request *req)
{
    struct of_error err = {0};
    struct of_share_view view;
    if (of_engine_share_get(req->eng, req->params[0], req->params[1], &view, &err) < 0)
        return api_reply_error(req, &err);
    return api_reply_json(req, MHD_HTTP_OK, api_render_share(&view));
}

enum MHD_Result
api_shares_update(struct api_request *req)
{
    static const char *const fields[] = {
        "remote",    "cachingMode",       "auth",       "caFile", "insecure",
        "transfers", "offlineOnSlowLink", "slowLinkMs", NULL};
    struct of_error err = {0};
    struct of_share_patch patch = {0};
    struct of_share_view view;
    const char *remote = NULL;
    json_t *body = NULL;
    if (api_json_body(req, fields, &body, &err) < 0 ||
        api_json_string(body, "remote", 0, &remote, &err) < 0 ||
        parse_mode(body, &patch.has_caching_mode, &patch.caching_mode, &err) < 0 ||
        parse_connection(body, &patch, &err) < 0 ||
        (remote && copy_field(patch.remote, sizeof(patch.remote), remote, "remote", &err) < 0)) {
        json_decref(body);
        return api_reply_error(req, &err);
    }
    patch.has_remote = remote != NULL;
    json_decref(body);
    if (of_engine_share_update(req->eng, req->params[0], req->params[1], &patch, &view, &err) < 0)
        return api_reply_error(req, &err);
    return api_reply_json(req, MHD_HTTP_OK, api_render_share(&view));
}

enum MHD_Result
api_shares_delete(struct api_request *req)
{
    struct of_error err = {0};
    int force = 0;
    if (api_query_bool(req, "force", 0, &force, &err) < 0 ||
        of_engine_share_remove(req->eng, req->params[0], req->params[1], force, &err) < 0)
        return api_reply_error(req, &err);
    return api_reply_empty(req, MHD_HTTP_NO_CONTENT);
}

enum MHD_Result
api_servers_list(struct api_request *req)
{
    struct of_error err = {0};
    struct of_share_view *v;
    size_t n;
    if (of_engine_share_list(req->eng, NULL, &v, &n, &err) < 0)
        return api_reply_error(req, &err);
    json_t *servers = json_array();
    /* The list is sorted by server, so a server's shares are adjacent. */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        json_t *shares = json_array();
        int online = 0;
        for (; j < n && strcmp(v[j].rec.server, v[i].rec.server) == 0; j++) {
            json_array_append_new(shares, json_string(v[j].rec.share));
            online |= of_conn_up(v[j].conn.state);
        }
        char path[OF_SEGMENT_MAX + 3];
        snprintf(path, sizeof(path), "//%s", v[i].rec.server);
        json_array_append_new(servers, json_pack("{s:s, s:s, s:o, s:s}", "server", v[i].rec.server,
                                                 "path", path, "shares", shares, "state",
                                                 online ? "online" : "offline"));
        i = j;
    }
    free(v);
    return api_reply_json(req, MHD_HTTP_OK, json_pack("{s:o}", "servers", servers));
}
