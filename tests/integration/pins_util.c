/* SPDX-License-Identifier: MIT */
/* Helpers of the pin and suspend integration tests; see pins_util.h. */
#include "pins_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the share ---- */

void
pt_seed(const struct it_env *env, const char *rel, const char *text)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    assert_int_equal(it_write_file(path, text, strlen(text)), 0);
}

void
pt_seed_tree(const struct it_env *env)
{
    pt_seed(env, "d/a.txt", "alpha");
    pt_seed(env, "d/sub/b.txt", "bravo");
    pt_seed(env, "d/sub/deeper/c.txt", "charlie");
    pt_seed(env, "top.txt", "top");
}

void
pt_go_offline(const struct it_env *env)
{
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 0), 200);
}

/* ---- requests ---- */

struct it_response *
pt_as(const struct it_env *env, const char *token, const char *method, const char *path,
      const char *json_text)
{
    struct it_request rq = {.method = method,
                            .path = path,
                            .auth = token ? IT_AUTH_TOKEN : IT_AUTH_ADMIN,
                            .token = token};
    if (json_text) {
        rq.content_type = "application/json";
        rq.body = json_text;
        rq.body_len = strlen(json_text);
    }
    return it_http(&env->d, &rq);
}

struct it_response *
pt_item_as(const struct it_env *env, const char *token, const char *rel)
{
    char *path = it_fmt("/api/v1/items/srv/s%s%s", rel[0] ? "/" : "", rel);
    struct it_response *r = pt_as(env, token, "GET", path, NULL);
    free(path);
    IT_ASSERT_STATUS(r, 200);
    return r;
}

struct it_response *
pt_item(const struct it_env *env, const char *rel)
{
    return pt_item_as(env, NULL, rel);
}

void
pt_list_dir(const struct it_env *env, const char *rel)
{
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s%s%s", rel[0] ? "/" : "", rel);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
}

void
pt_sync_ok(const struct it_env *env, const char *path, const char *extra)
{
    struct it_response *r = it_sync(&env->d, path, NULL, extra);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
}

json_t *
pt_result_of(struct it_response *r, const char *rel)
{
    char *path = it_fmt("//srv/s/%s", rel);
    json_t *res = it_jfind_path(r->json, "results", path);
    if (!res) {
        print_error("no result for %s\n", path);
        it_show_response(r);
        fail();
    }
    free(path);
    return res;
}

/* ---- pins ---- */

struct it_response *
pt_pin_req(const struct it_env *env, const char *token, const char *body)
{
    return pt_as(env, token, "POST", "/api/v1/pins", body);
}

void
pt_pin_as(const struct it_env *env, const char *token, const char *rel, int deep, const char *extra)
{
    char *body = it_fmt("{\"paths\":[\"//srv/s/%s\"],\"deep\":%s,\"wait\":true%s%s}", rel,
                        deep ? "true" : "false", extra ? "," : "", extra ? extra : "");
    struct it_response *r = pt_pin_req(env, token, body);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "kind", "pin");
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    it_response_free(r);
    free(body);
}

void
pt_pin(const struct it_env *env, const char *rel, int deep)
{
    pt_pin_as(env, NULL, rel, deep, NULL);
}

/* ---- assertions ---- */

void
pt_assert_reads(const struct it_env *env, const char *rel, const char *want, const char *source)
{
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/%s", rel);
    IT_ASSERT_STATUS(r, 200);
    if (strcmp(r->body, want) != 0) {
        print_error("%s: read '%s', want '%s'\n", rel, r->body, want);
        fail();
    }
    if (source) {
        const char *got = it_resp_header(r, "X-Offline-Source");
        assert_non_null(got);
        assert_string_equal(got, source);
    }
    it_response_free(r);
}

void
pt_assert_not_offline(const struct it_env *env, const char *rel)
{
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/%s", rel);
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
}

void
pt_assert_pin(const struct it_env *env, const char *token, const char *rel, int pinned,
              int for_user)
{
    struct it_response *r = pt_item_as(env, token, rel);
    IT_ASSERT_JBOOL(r->json, "pin.pinned", pinned);
    IT_ASSERT_JBOOL(r->json, "pin.forUser", for_user);
    it_response_free(r);
}

void
pt_assert_ghosted(const struct it_env *env, const char *rel, int ghosted)
{
    struct it_response *r = pt_item(env, rel);
    IT_ASSERT_JBOOL(r->json, "ghosted", ghosted);
    it_response_free(r);
}
