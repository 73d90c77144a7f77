/* SPDX-License-Identifier: MIT */
/*
 * /api/v1/files under concurrent clients: forked children each write a file
 * of their own and all one shared file, and read the shared one back, with
 * the share online (the cache and the share agree, nothing is left dirty)
 * and offline (every change survives a restart).
 */
#include "files_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* One child's share of the work: 0 when every answer was acceptable. */
static int
hammer(const struct it_env *env, int child, int offline)
{
    int bad = 0;
    for (int i = 0; i < 20; i++) {
        char own[64], body[64];
        snprintf(own, sizeof(own), "/api/v1/files/srv/s/own-%d.txt", child);
        snprintf(body, sizeof(body), "child %d iteration %d", child, i);
        struct it_response *r = it_put(&env->d, own, body, strlen(body));
        if (r->status != 200 && r->status != 201) {
            fprintf(stderr, "child %d: %s -> %ld %s\n", child, r->what, r->status, r->body);
            bad++;
        }
        it_response_free(r);
        r = it_put(&env->d, "/api/v1/files/srv/s/hot.txt", body, strlen(body));
        /* Without If-Match a write may still lose a race on the server copy (412), offline never.
         */
        if (r->status != 200 && r->status != 201 && (offline || r->status != 412)) {
            fprintf(stderr, "child %d: %s -> %ld %s\n", child, r->what, r->status, r->body);
            bad++;
        }
        it_response_free(r);
        r = it_get(&env->d, "/api/v1/files/srv/s/hot.txt");
        if (r->status != 200 || strncmp(r->body, "child ", 6) != 0) {
            fprintf(stderr, "child %d: %s -> %ld %s\n", child, r->what, r->status, r->body);
            bad++;
        }
        it_response_free(r);
    }
    return bad;
}

static void
run_children(const struct it_env *env, int offline)
{
    enum { CHILDREN = 4 };
    pid_t pids[CHILDREN];
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/hot.txt", "child -1", 8);
    assert_true(r->status == 200 || r->status == 201);
    it_response_free(r);
    for (int c = 0; c < CHILDREN; c++) {
        pids[c] = fork();
        assert_true(pids[c] >= 0);
        if (pids[c] == 0)
            _exit(hammer(env, c, offline) ? 1 : 0);
    }
    int failed = 0;
    for (int c = 0; c < CHILDREN; c++) {
        int status = 0;
        assert_int_equal(waitpid(pids[c], &status, 0), pids[c]);
        failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_int_equal(failed, 0);
    for (int c = 0; c < CHILDREN; c++) {
        char path[64], want[64];
        snprintf(path, sizeof(path), "/api/v1/files/srv/s/own-%d.txt", c);
        snprintf(want, sizeof(want), "child %d iteration 19", c);
        r = it_get(&env->d, "%s", path);
        IT_ASSERT_STATUS(r, 200);
        assert_string_equal(r->body, want);
        it_response_free(r);
    }
}

static void
test_parallel_online_writes_and_reads_stay_consistent(void **state)
{
    struct it_env *env = *state;
    run_children(env, 0);
    /* The cache and the share agree on the hot file, and nothing is left dirty. */
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/hot.txt");
    IT_ASSERT_STATUS(r, 200);
    char *got = on_share(env, "hot.txt");
    assert_string_equal(r->body, got);
    it_response_free(r);
    free(got);
    r = it_get(&env->d, "/api/v1/items?under=//srv/s&depth=all&flags=dirty");
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(it_jget(r->json, "items")), 0);
    it_response_free(r);
}

static void
test_parallel_offline_writes_all_survive_a_restart(void **state)
{
    struct it_env *env = *state;
    go_offline(env);
    run_children(env, 1);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/hot.txt");
    IT_ASSERT_STATUS(r, 200);
    char *hot = strdup(r->body);
    it_response_free(r);
    it_restart(env);
    r = it_get(&env->d, "/api/v1/files/srv/s/hot.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, hot);
    it_response_free(r);
    for (int c = 0; c < 4; c++) {
        char path[64], want[64];
        snprintf(path, sizeof(path), "/api/v1/files/srv/s/own-%d.txt", c);
        snprintf(want, sizeof(want), "child %d iteration 19", c);
        r = it_get(&env->d, "%s", path);
        IT_ASSERT_STATUS(r, 200);
        assert_string_equal(r->body, want);
        it_response_free(r);
    }
    free(hot);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define M(f) cmocka_unit_test_setup_teardown(f, it_setup_manual, it_teardown)
#define A(f) cmocka_unit_test_setup_teardown(f, it_setup_auto, it_teardown)
    const struct CMUnitTest tests[] = {
        A(test_parallel_online_writes_and_reads_stay_consistent),
        M(test_parallel_offline_writes_all_survive_a_restart),
    };
#undef M
#undef A
    return cmocka_run_group_tests_name("files_parallel", tests, NULL, NULL);
}
