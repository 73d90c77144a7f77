/* SPDX-License-Identifier: MIT */
/*
 * /api/v1/files/{path}: file contents through the cache. GET and HEAD stream
 * from a file (Range, ETag, If-None-Match); PUT streams the body to a temp
 * file first (If-Match, If-None-Match); DELETE; POST {"type":"directory"}
 * creates a directory. GET on a directory lists it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_int.h"
#include "util.h"

/* "\"abc\"" or W/"abc" -> abc in buf; NULL when absent, "*" kept as is. */
static const char *
unquote(const char *v, char *buf, size_t cap)
{
    if (!v)
        return NULL;
    if (strncmp(v, "W/", 2) == 0)
        v += 2;
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

/* Does an If-None-Match list name etag? */
static int
none_match_hits(const char *list, const char *etag)
{
    char one[OF_HASH_HEX + 8];
    while (list && *list) {
        list += strspn(list, " ,");
        size_t n = strcspn(list, ",");
        if (n == 0)
            break;
        char tok[OF_HASH_HEX + 8];
        size_t m = n < sizeof(tok) - 1 ? n : sizeof(tok) - 1;
        memcpy(tok, list, m);
        tok[m] = '\0';
        while (m > 0 && tok[m - 1] == ' ')
            tok[--m] = '\0';
        if (strcmp(tok, "*") == 0 || strcmp(unquote(tok, one, sizeof(one)), etag) == 0)
            return 1;
        list += n;
    }
    return 0;
}

/*
 * One "bytes=a-b" range against size: 1 and the range when satisfiable, 0
 * to serve everything (absent, malformed or multi-range), -1 for 416.
 */
static int
parse_range(const char *h, int64_t size, int64_t *ret_off, int64_t *ret_len)
{
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    const char *p = h + 6;
    char *end;
    int64_t a = -1, b = -1;
    if (*p != '-') {
        a = strtoll(p, &end, 10);
        if (end == p || *end != '-' || a < 0)
            return 0;
        p = end + 1;
        if (*p) {
            b = strtoll(p, &end, 10);
            if (*end || b < a)
                return 0;
        }
    } else {
        int64_t suffix = strtoll(p + 1, &end, 10);
        if (*end || end == p + 1 || suffix <= 0)
            return suffix == 0 && !*end && end != p + 1 ? -1 : 0;
        a = suffix >= size ? 0 : size - suffix;
        b = size - 1;
    }
    if (a >= size)
        return -1;
    if (b < 0 || b >= size)
        b = size - 1;
    *ret_off = a;
    *ret_len = b - a + 1;
    return 1;
}

static enum MHD_Result
reply_listing(struct api_request *req, const char *path)
{
    struct of_error err = {0};
    struct of_dir_entry *ents;
    size_t n;
    int offline;
    if (of_engine_dir_list(req->eng, path, req->who.user, &ents, &n, &offline, &err) < 0)
        return api_reply_error(req, &err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:o}", "name", ents[i].name, "type",
                                             of_item_type_name(ents[i].type), "size",
                                             (json_int_t)ents[i].size, "mtime",
                                             api_render_time(ents[i].mtime_ns)));
    free(ents);
    return api_reply_json(
        req, MHD_HTTP_OK,
        json_pack("{s:s, s:b, s:o}", "path", path, "offline", offline, "entries", arr));
}

enum MHD_Result
api_files_get(struct api_request *req)
{
    struct of_error err = {0};
    char path[OF_PATH_MAX + 3];
    struct of_file_read rd;
    if (api_rest_path(req, path, sizeof(path), &err) < 0)
        return api_reply_error(req, &err);
    int rc = of_engine_file_open(req->eng, path, req->who.user, &rd, &err);
    if (rc == OF_E(NOT_A_FILE))
        return reply_listing(req, path);
    if (rc < 0)
        return api_reply_error(req, &err);
    if (none_match_hits(api_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH), rd.etag)) {
        close(rd.fd);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        char quoted[OF_HASH_HEX + 4];
        snprintf(quoted, sizeof(quoted), "\"%s\"", rd.etag);
        if (resp)
            MHD_add_response_header(resp, "ETag", quoted);
        return api_reply_response(req, MHD_HTTP_NOT_MODIFIED, resp);
    }
    int64_t off = 0, len = rd.size;
    int range = parse_range(api_header(req, MHD_HTTP_HEADER_RANGE), rd.size, &off, &len);
    if (range < 0) {
        close(rd.fd);
        req->err_header = "Content-Range";
        snprintf(req->err_value, sizeof(req->err_value), "bytes */%" PRId64, rd.size);
        of_error_set(&err, OF_E(BAD_RANGE), "the file has %" PRId64 " bytes", rd.size);
        return api_reply_error(req, &err);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_fd_at_offset64((uint64_t)len, rd.fd, (uint64_t)off);
    if (!resp) {
        close(rd.fd);
        return MHD_NO;
    }
    char quoted[OF_HASH_HEX + 4], mtime[40], cr[96];
    snprintf(quoted, sizeof(quoted), "\"%s\"", rd.etag);
    of_time_format(rd.mtime_ns, mtime, sizeof(mtime));
    MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    MHD_add_response_header(resp, "ETag", quoted);
    MHD_add_response_header(resp, "X-Offline-Mtime", mtime);
    MHD_add_response_header(resp, "X-Offline-Source", rd.from_cache ? "cache" : "server");
    if (rd.offline)
        MHD_add_response_header(resp, "X-Offline", "true");
    if (range > 0) {
        snprintf(cr, sizeof(cr), "bytes %" PRId64 "-%" PRId64 "/%" PRId64, off, off + len - 1,
                 rd.size);
        MHD_add_response_header(resp, "Content-Range", cr);
    }
    return api_reply_response(req, range > 0 ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK, resp);
}

static enum MHD_Result
reply_written(struct api_request *req, const struct of_write_result *res, unsigned status)
{
    json_t *body = json_pack("{s:b, s:b, s:o}", "created", res->created, "storedOffline",
                             res->stored_offline, "item", api_render_item(&res->view));
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp) {
        free(text);
        return api_reply_problem(req, OF_E(NOMEM), "cannot render the response");
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    /* The new version's ETag, so the next conditional write needs no HEAD first. */
    const char *hash = res->view.item.local.hash;
    if (res->view.item.type == OF_ITEM_FILE && hash[0]) {
        char quoted[OF_HASH_HEX + 4];
        snprintf(quoted, sizeof(quoted), "\"%s\"", hash);
        MHD_add_response_header(resp, "ETag", quoted);
    }
    return api_reply_response(req, status, resp);
}

enum MHD_Result
api_files_put(struct api_request *req)
{
    struct of_error err = {0};
    char path[OF_PATH_MAX + 3], im[OF_HASH_HEX + 8], inm[8];
    struct of_write_result *res = malloc(sizeof(*res));
    if (!res)
        return api_reply_problem(req, OF_E(NOMEM), "out of memory");
    const char *if_match = unquote(api_header(req, MHD_HTTP_HEADER_IF_MATCH), im, sizeof(im));
    const char *if_none = unquote(api_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH), inm, sizeof(inm));
    enum MHD_Result r;
    if (if_none && strcmp(if_none, "*") != 0)
        r = api_reply_problem(req, OF_E(INVALID), "If-None-Match on PUT takes only *");
    else if (api_rest_path(req, path, sizeof(path), &err) < 0 ||
             of_engine_file_write(req->eng, path, req->who.user, req->upload, if_match, if_none,
                                  res, &err) < 0)
        r = api_reply_error(req, &err);
    else
        r = reply_written(req, res, res->created ? MHD_HTTP_CREATED : MHD_HTTP_OK);
    free(res);
    return r;
}

enum MHD_Result
api_files_delete(struct api_request *req)
{
    struct of_error err = {0};
    char path[OF_PATH_MAX + 3], im[OF_HASH_HEX + 8];
    struct of_write_result *res = malloc(sizeof(*res));
    if (!res)
        return api_reply_problem(req, OF_E(NOMEM), "out of memory");
    const char *if_match = unquote(api_header(req, MHD_HTTP_HEADER_IF_MATCH), im, sizeof(im));
    enum MHD_Result r;
    if (api_rest_path(req, path, sizeof(path), &err) < 0 ||
        of_engine_file_delete(req->eng, path, req->who.user, if_match, res, &err) < 0)
        r = api_reply_error(req, &err);
    else
        r = api_reply_json(
            req, MHD_HTTP_OK,
            json_pack("{s:s, s:b}", "path", path, "storedOffline", res->stored_offline));
    free(res);
    return r;
}

enum MHD_Result
api_files_create(struct api_request *req)
{
    static const char *const fields[] = {"type", NULL};
    struct of_error err = {0};
    char path[OF_PATH_MAX + 3];
    const char *type = NULL;
    json_t *body = NULL;
    struct of_write_result *res = malloc(sizeof(*res));
    enum MHD_Result r;
    if (!res)
        return api_reply_problem(req, OF_E(NOMEM), "out of memory");
    if (api_json_body(req, fields, &body, &err) < 0 ||
        api_json_string(body, "type", 1, &type, &err) < 0)
        r = api_reply_error(req, &err);
    else if (strcmp(type, "directory") != 0)
        r = api_reply_problem(req, OF_E(BAD_FIELD),
                              "type must be \"directory\"; create files with PUT");
    else if (api_rest_path(req, path, sizeof(path), &err) < 0 ||
             of_engine_dir_create(req->eng, path, req->who.user, res, &err) < 0)
        r = api_reply_error(req, &err);
    else
        r = reply_written(req, res, MHD_HTTP_CREATED);
    json_decref(body);
    free(res);
    return r;
}
