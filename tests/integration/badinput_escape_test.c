/* SPDX-License-Identifier: MIT */
/*
 * Nothing outside the share root leaks or is reached, against the fixture
 * of badinput_util.h: problem details never reveal host paths, and
 * symlinks in the share (to a directory or file outside, relative or
 * absolute) are neither read, listed, written, created in nor deleted
 * through. (The table of bad requests is in badinput_requests_test.c,
 * raw-socket abuse in badinput_sockets_test.c.)
 */
#include "badinput_util.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
test_problem_details_never_reveal_host_paths(void **state)
{
    struct it_env *env = *state;
    const char *paths[] = {"/api/v1/files/srv/s/missing.txt", "/api/v1/files/srv/s/no/such/x",
                           "/api/v1/files/srv/s/a.txt/child"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct it_response *r = it_get(&env->d, "%s", paths[i]);
        assert_true(r->status >= 400);
        if (strstr(r->body, env->root))
            it_show_response(r);
        assert_null(strstr(r->body, env->root));
        it_response_free(r);
    }
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/no/such/x", "x", 1);
    assert_true(r->status >= 400);
    assert_null(strstr(r->body, env->root));
    it_response_free(r);
}

static void
test_symlinks_never_lead_outside_the_share_root(void **state)
{
    struct it_env *env = *state;
    char link[PATH_MAX];
    char *secret = it_fmt("%s/secret.txt", env->outside);
    assert_int_equal(it_write_file(secret, "TOPSECRET", 9), 0);
    it_share_file(env, "evil_dir", link);
    assert_int_equal(symlink(env->outside, link), 0);
    it_share_file(env, "evil_file", link);
    assert_int_equal(symlink(secret, link), 0);
    it_share_file(env, "rel_file", link);
    assert_int_equal(symlink("../outside/secret.txt", link), 0);
    it_share_file(env, "abs", link);
    assert_int_equal(symlink("/etc", link), 0);
    const char *reads[] = {"/api/v1/files/srv/s/evil_file",
                           "/api/v1/files/srv/s/rel_file",
                           "/api/v1/files/srv/s/evil_dir/secret.txt",
                           "/api/v1/files/srv/s/abs/passwd",
                           "/api/v1/files/srv/s/evil_dir",
                           "/api/v1/files/srv/s/abs",
                           "/api/v1/files/srv/s"};
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        struct it_response *r = it_get(&env->d, "%s", reads[i]);
        /* Neither the bytes behind the links nor the entries of the directories they name. */
        int leaked = strstr(r->body, "TOPSECRET") || strstr(r->body, "root:x:0") ||
                     strstr(r->body, "\"name\":\"secret.txt\"") ||
                     strstr(r->body, "\"name\":\"passwd\"");
        int ok = !leaked &&
                 (i + 1 == sizeof(reads) / sizeof(reads[0]) ? r->status == 200
                                                            : r->status >= 400 && r->status < 500);
        if (!ok)
            it_show_response(r);
        assert_true(ok);
        it_response_free(r);
    }
    /* Writes, creates and deletes through the links change nothing outside. */
    it_response_free(it_put(&env->d, "/api/v1/files/srv/s/evil_dir/planted.txt", "x", 1));
    it_response_free(it_put(&env->d, "/api/v1/files/srv/s/evil_dir/secret.txt", "x", 1));
    it_response_free(it_put(&env->d, "/api/v1/files/srv/s/evil_file", "overwrite", 9));
    it_response_free(it_put(&env->d, "/api/v1/files/srv/s/rel_file", "overwrite", 9));
    it_response_free(it_json_req(&env->d, "POST", "/api/v1/files/srv/s/evil_dir/sub",
                                 "{\"type\":\"directory\"}"));
    it_response_free(it_delete(&env->d, "/api/v1/files/srv/s/evil_dir/secret.txt"));
    it_response_free(it_delete(&env->d, "/api/v1/files/srv/s/evil_file"));
    it_response_free(it_put(&env->d, "/api/v1/files/srv/s/abs/of-planted", "x", 1));
    char *got = it_read_file(secret, NULL);
    assert_non_null(got);
    assert_string_equal(got, "TOPSECRET");
    free(got);
    DIR *dir = opendir(env->outside);
    assert_non_null(dir);
    struct dirent *de;
    int entries = 0;
    while ((de = readdir(dir)) != NULL)
        entries += de->d_name[0] != '.';
    closedir(dir);
    assert_int_equal(entries, 1);
    assert_false(it_exists("/etc/of-planted"));
    bi_assert_alive_and_well(env);
    free(secret);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define T(f) cmocka_unit_test_setup_teardown(f, bi_setup, it_teardown)
    const struct CMUnitTest tests[] = {
        T(test_problem_details_never_reveal_host_paths),
        T(test_symlinks_never_lead_outside_the_share_root),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
