/* SPDX-License-Identifier: MIT */
/*
 * Strict JSON input: the body must be application/json, well-formed, an
 * object, and hold only the fields an endpoint knows; request parameters
 * from the query string and headers come through here too.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api_int.h"
#include "path.h"

int
api_json_body(struct api_request *req, const char *const *allowed, json_t **ret_obj,
              struct of_error *reterr)
{
    const char *ctype = api_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (req->body_len > 0 && (!ctype || strncasecmp(ctype, "application/json", 16) != 0 ||
                              (ctype[16] != '\0' && ctype[16] != ';' && ctype[16] != ' ')))
        return of_error_set(reterr, OF_E(MEDIA_TYPE), "send the body as application/json");
    json_error_t jerr;
    json_t *obj = json_loadb(req->body ? req->body : "{}", req->body ? req->body_len : 2,
                             JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!obj)
        return of_error_set(reterr, OF_E(BAD_JSON), "malformed JSON at line %d, column %d: %s",
                            jerr.line, jerr.column, jerr.text);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return of_error_set(reterr, OF_E(BAD_JSON), "the body must be a JSON object");
    }
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        int known = 0;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known) {
            int rc = of_error_set(reterr, OF_E(UNKNOWN_FIELD), "unknown field '%.64s'", key);
            json_decref(obj);
            return rc;
        }
    }
    *ret_obj = obj;
    return 0;
}

int
api_json_string(json_t *obj, const char *key, int required, const char **ret,
                struct of_error *reterr)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? of_error_set(reterr, OF_E(BAD_FIELD), "'%s' is required", key) : 0;
    if (!json_is_string(v))
        return of_error_set(reterr, OF_E(BAD_FIELD), "'%s' must be a string", key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return of_error_set(reterr, OF_E(BAD_FIELD), "'%s' must not contain NUL", key);
    *ret = json_string_value(v);
    return 0;
}

int
api_json_bool(json_t *obj, const char *key, int required, int *ret, struct of_error *reterr)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? of_error_set(reterr, OF_E(BAD_FIELD), "'%s' is required", key) : 0;
    if (!json_is_boolean(v))
        return of_error_set(reterr, OF_E(BAD_FIELD), "'%s' must be true or false", key);
    *ret = json_is_true(v);
    return 0;
}

int
api_json_int(json_t *obj, const char *key, int required, int64_t *ret, struct of_error *reterr)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? of_error_set(reterr, OF_E(BAD_FIELD), "'%s' is required", key) : 0;
    if (!json_is_integer(v))
        return of_error_set(reterr, OF_E(BAD_FIELD), "'%s' must be an integer", key);
    *ret = json_integer_value(v);
    return 0;
}

const char *
api_query(struct api_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

int
api_query_bool(struct api_request *req, const char *name, int dflt, int *ret,
               struct of_error *reterr)
{
    const char *v = api_query(req, name);
    if (!v) {
        *ret = dflt;
        return 0;
    }
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *ret = 1;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *ret = 0;
    else
        return of_error_set(reterr, OF_E(BAD_QUERY), "'%s' must be true or false", name);
    return 0;
}

const char *
api_header(struct api_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int
api_rest_path(struct api_request *req, char *buf, size_t cap, struct of_error *reterr)
{
    if ((size_t)snprintf(buf, cap, "//%s", req->rest) >= cap)
        return of_error_set(reterr, OF_E(TOO_LONG), "the path is longer than %d bytes",
                            OF_PATH_MAX);
    int rc = of_path_validate(buf, reterr);
    return rc < 0 ? rc : 0;
}
