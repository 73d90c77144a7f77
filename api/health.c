/* SPDX-License-Identifier: MIT */
/* Health, version, the OpenAPI document and the dashboard's static files. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_int.h"

/* openapi/openapi.yaml, embedded at build time (generated openapi_blob.c). */
extern const unsigned char of_openapi_yaml[];
extern const size_t of_openapi_yaml_len;

enum MHD_Result
api_health_get(struct api_request *req)
{
    return api_reply_json(req, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
}

enum MHD_Result
api_version_get(struct api_request *req)
{
    return api_reply_json(req, MHD_HTTP_OK,
                          json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:b}}", "name", "offlinefiles",
                                    "version", OF_VERSION, "api", "v1", "libmicrohttpd",
                                    MHD_get_version(), "user", "name", req->who.user, "admin",
                                    req->who.admin));
}

enum MHD_Result
api_openapi_get(struct api_request *req)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        of_openapi_yaml_len, (void *)of_openapi_yaml, MHD_RESPMEM_PERSISTENT);
    if (resp)
        MHD_add_response_header(resp, "Content-Type", "application/yaml");
    return api_reply_response(req, MHD_HTTP_OK, resp);
}

static const char *
mime_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".svg", "image/svg+xml"},
                 {".png", "image/png"},
                 {".json", "application/json"}};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

enum MHD_Result
api_static_get(struct api_request *req)
{
    const char *name = req->rest[0] ? req->rest : "index.html";
    /* One plain segment: the dashboard has no subdirectories, so nothing can climb out. */
    if (strchr(name, '/') || name[0] == '.' || of_path_segment_check(name, strlen(name)) < 0 ||
        !req->cfg->web_dir)
        return api_reply_problem(req, OF_E(NO_ROUTE), "no such file");
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", req->cfg->web_dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        return api_reply_problem(req, OF_E(NO_ROUTE), "no such file");
    }
    return api_reply_fd(req, MHD_HTTP_OK, fd, 0, sb.st_size, NULL, mime_of(name));
}
