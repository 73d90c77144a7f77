/* SPDX-License-Identifier: MIT */
/* The fixture of the bad-input integration tests; see badinput_util.h. */
#include "badinput_util.h"

#include <stdio.h>

static char user_token[128];

int
bi_setup(void **state)
{
    char cfg[128];
    snprintf(cfg, sizeof(cfg), "{\"maxUpload\": %zu}", BI_MAX_UPLOAD);
    struct it_env *env = it_env_new_cfg("badinput", "manual", cfg);
    *state = env;
    if (!env)
        return -1;
    char path[PATH_MAX];
    it_share_file(env, "a.txt", path);
    if (it_write_file(path, "keep me", 7) < 0)
        return -1;
    it_share_file(env, "d/inner.txt", path);
    if (it_write_file(path, "inner", 5) < 0)
        return -1;
    char err[256];
    if (it_token_create(env->d.data_dir, "mallory", 0, user_token, sizeof(user_token), err,
                        sizeof(err)) != 0) {
        fprintf(stderr, "token create: %s\n", err);
        return -1;
    }
    /* The cache knows the tree, so that paths resolve to real items. */
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s");
    long st = r->status;
    it_response_free(r);
    return st == 200 ? 0 : -1;
}

void
bi_assert_alive_and_well(struct it_env *env)
{
    assert_true(it_daemon_alive(&env->d));
    struct it_response *r = it_get(&env->d, "/api/v1/health");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "keep me");
    it_response_free(r);
}

const char *
bi_user_token(void)
{
    return user_token;
}
