/* SPDX-License-Identifier: MIT */
/* Helpers of the /api/v1/files integration tests; see files_util.h. */
#include "files_util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void
seed(const struct it_env *env, const char *rel, const char *text)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    assert_int_equal(it_write_file(path, text, strlen(text)), 0);
}

void
seed_dir(const struct it_env *env, const char *rel)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    assert_int_equal(mkdir(path, 0700), 0);
}

char *
on_share(const struct it_env *env, const char *rel)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    return it_read_file(path, NULL);
}

void
go_offline(const struct it_env *env)
{
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 0), 200);
}

void
go_online(const struct it_env *env)
{
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 1), 200);
}

int
is_strong_etag(const char *v)
{
    if (!v || strlen(v) != 66 || v[0] != '"' || v[65] != '"')
        return 0;
    for (int i = 1; i < 65; i++)
        if (!isxdigit((unsigned char)v[i]))
            return 0;
    return 1;
}

char *
etag_of(const struct it_env *env, const char *path)
{
    struct it_response *r = it_get(&env->d, "%s", path);
    IT_ASSERT_STATUS(r, 200);
    const char *e = it_resp_header(r, "ETag");
    assert_true(is_strong_etag(e));
    char *copy = strdup(e);
    it_response_free(r);
    return copy;
}

struct it_response *
item(const struct it_env *env, const char *rel)
{
    return it_get(&env->d, "/api/v1/items/srv/s/%s", rel);
}

struct it_response *
get_with(const struct it_env *env, const char *path, const char *header)
{
    struct it_request rq = {.path = path, .headers = {header}};
    return it_http(&env->d, &rq);
}

struct it_response *
put_with(const struct it_env *env, const char *path, const char *text, const char *header)
{
    struct it_request rq = {.method = "PUT",
                            .path = path,
                            .content_type = "application/octet-stream",
                            .body = text,
                            .body_len = strlen(text),
                            .headers = {header}};
    return it_http(&env->d, &rq);
}

struct it_response *
mkdir_req(const struct it_env *env, const char *path)
{
    return it_json_req(&env->d, "POST", path, "{\"type\":\"directory\"}");
}
