/* SPDX-License-Identifier: MIT */
/*
 * The daemon's life: first start and the admin token file, clean SIGTERM
 * (also with an upload in flight), kill -9 and restart without losing a
 * committed offline change, forced-offline state across restarts, the
 * `token create` command and who may do what with its tokens, no token in
 * the log, bad start-up options, and a large upload that streams without
 * the daemon's memory growing.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void
seed(const struct it_env *env, const char *rel, const char *text)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    assert_int_equal(it_write_file(path, text, strlen(text)), 0);
}

static char *
on_share(const struct it_env *env, const char *rel)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    return it_read_file(path, NULL);
}

static void
expect_body(const struct it_env *env, const char *path, const char *want)
{
    struct it_response *r = it_get(&env->d, "%s", path);
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, want);
    it_response_free(r);
}

static void
expect_status(struct it_response *r, long status)
{
    IT_ASSERT_STATUS(r, status);
    it_response_free(r);
}

static int
is_token(const char *t)
{
    if (strncmp(t, "of_", 3) != 0 || strlen(t) != 67)
        return 0;
    for (int i = 3; i < 67; i++)
        if (!isxdigit((unsigned char)t[i]) || isupper((unsigned char)t[i]))
            return 0;
    return 1;
}

/* The names of //srv/s's dirty items below the share, space separated. */
static char *
dirty_items(const struct it_env *env)
{
    struct it_response *r = it_get(&env->d, "/api/v1/items?under=//srv/s&depth=all&flags=dirty");
    IT_ASSERT_STATUS(r, 200);
    json_t *items = it_jget(r->json, "items");
    char buf[4096] = "";
    size_t len = 0;
    for (size_t i = 0; i < json_array_size(items); i++) {
        const char *p = json_string_value(it_jget(json_array_get(items, i), "path"));
        assert_non_null(p);
        int n = snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? " " : "", p + 8);
        assert_true(n > 0 && (size_t)n < sizeof(buf) - len);
        len += (size_t)n;
    }
    it_response_free(r);
    return strdup(buf);
}

/* ---- first start and tokens ---- */

static void
test_first_start_writes_an_admin_token_file_of_mode_0600(void **state)
{
    struct it_env *env = *state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/admin.token", env->d.data_dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(stat(env->d.data_dir, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0);
    char *text = it_read_file(path, NULL);
    assert_non_null(text);
    assert_true(is_token(env->d.token));
    char *want = it_fmt("%s\n", env->d.token);
    assert_string_equal(text, want);
    free(want);
    free(text);
    struct it_response *r = it_get(&env->d, "/api/v1/version");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "user.admin", 1);
    it_response_free(r);
}

static void
test_admin_token_is_kept_across_restart(void **state)
{
    struct it_env *env = *state;
    char before[128];
    snprintf(before, sizeof(before), "%s", env->d.token);
    it_restart(env);
    assert_string_equal(env->d.token, before);
    expect_status(it_get(&env->d, "/api/v1/shares"), 200);
}

static void
test_token_create_prints_a_token_that_authenticates_its_user(void **state)
{
    struct it_env *env = *state;
    char token[256], err[1024];
    assert_int_equal(
        it_token_create(env->d.data_dir, "bob", 0, token, sizeof(token), err, sizeof(err)), 0);
    assert_true(is_token(token));
    assert_string_not_equal(token, env->d.token);
    struct it_request rq = {.path = "/api/v1/version", .auth = IT_AUTH_TOKEN, .token = token};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "user.name", "bob");
    IT_ASSERT_JBOOL(r->json, "user.admin", 0);
    it_response_free(r);
    /* A second token for the same user is different, and both work. */
    char token2[256];
    assert_int_equal(
        it_token_create(env->d.data_dir, "bob", 0, token2, sizeof(token2), err, sizeof(err)), 0);
    assert_true(is_token(token2));
    assert_string_not_equal(token, token2);
    rq.token = token2;
    r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    /* A token with one character changed is refused. */
    token2[10] = token2[10] == 'a' ? 'b' : 'a';
    r = it_http(&env->d, &rq);
    IT_ASSERT_PROBLEM(r, 401, "unauthorized");
    it_response_free(r);
}

static void
test_non_admin_token_gets_403_on_share_create(void **state)
{
    struct it_env *env = *state;
    char token[256], err[1024];
    assert_int_equal(
        it_token_create(env->d.data_dir, "carol", 0, token, sizeof(token), err, sizeof(err)), 0);
    char *dir = it_fmt("%s/two", env->root);
    assert_int_equal(mkdir(dir, 0700), 0);
    char *body = it_fmt("{\"server\":\"srv\",\"share\":\"t\",\"remote\":\"file://%s\"}", dir);
    struct it_request rq = {.method = "POST",
                            .path = "/api/v1/shares",
                            .auth = IT_AUTH_TOKEN,
                            .token = token,
                            .content_type = "application/json",
                            .body = body,
                            .body_len = strlen(body)};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_PROBLEM(r, 403, "forbidden");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/shares/srv/t");
    IT_ASSERT_PROBLEM(r, 404, "no-such-share");
    it_response_free(r);
    /* The same user may read and write files. */
    rq = (struct it_request){.method = "PUT",
                             .path = "/api/v1/files/srv/s/carol.txt",
                             .auth = IT_AUTH_TOKEN,
                             .token = token,
                             .content_type = "application/octet-stream",
                             .body = "hi",
                             .body_len = 2};
    r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    free(body);
    free(dir);
}

static void
test_admin_token_from_the_command_may_create_shares(void **state)
{
    struct it_env *env = *state;
    char token[256], err[1024];
    assert_int_equal(
        it_token_create(env->d.data_dir, "root2", 1, token, sizeof(token), err, sizeof(err)), 0);
    char *dir = it_fmt("%s/two", env->root);
    assert_int_equal(mkdir(dir, 0700), 0);
    char *body = it_fmt("{\"server\":\"srv\",\"share\":\"t\",\"remote\":\"file://%s\"}", dir);
    struct it_request rq = {.method = "POST",
                            .path = "/api/v1/shares",
                            .auth = IT_AUTH_TOKEN,
                            .token = token,
                            .content_type = "application/json",
                            .body = body,
                            .body_len = strlen(body)};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    free(body);
    free(dir);
}

static void
test_token_create_refuses_bad_user_names_and_missing_options(void **state)
{
    struct it_env *env = *state;
    char out[256], err[1024];
    assert_int_not_equal(
        it_token_create(env->d.data_dir, "has space", 0, out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "");
    assert_int_not_equal(
        it_token_create(env->d.data_dir, "", 0, out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "");
    char *long_user = it_repeat('u', 200);
    assert_int_not_equal(
        it_token_create(env->d.data_dir, long_user, 0, out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "");
    free(long_user);
    const char *no_user[] = {"token", "create", "--data-dir", env->d.data_dir, NULL};
    assert_int_equal(it_run_daemon_cmd(no_user, 30, out, sizeof(out), err, sizeof(err)), 2);
    assert_string_equal(out, "");
}

static void
test_no_token_appears_in_the_daemon_log(void **state)
{
    struct it_env *env = *state;
    char user_tok[256], err[1024];
    assert_int_equal(
        it_token_create(env->d.data_dir, "dave", 0, user_tok, sizeof(user_tok), err, sizeof(err)),
        0);
    const char *wrong = "of_feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface";
    const char *toks[] = {env->d.token, user_tok, wrong};
    for (size_t i = 0; i < 3; i++) {
        struct it_request rq = {.path = "/api/v1/shares", .auth = IT_AUTH_TOKEN, .token = toks[i]};
        it_response_free(it_http(&env->d, &rq));
        rq.path = "/api/v1/files/srv/s/missing.txt";
        it_response_free(it_http(&env->d, &rq));
        rq.method = "POST";
        rq.path = "/api/v1/shares";
        rq.content_type = "application/json";
        rq.body = "{bad json";
        rq.body_len = 9;
        it_response_free(it_http(&env->d, &rq));
        /* In the query string, and in a malformed header. */
        char *q = it_fmt("/api/v1/shares?access_token=%s", toks[i]);
        struct it_request rq2 = {.path = q, .auth = IT_AUTH_NONE};
        it_response_free(it_http(&env->d, &rq2));
        char *raw = it_fmt("Token %s", toks[i]);
        struct it_request rq3 = {.path = "/api/v1/version", .auth = IT_AUTH_RAW, .token = raw};
        it_response_free(it_http(&env->d, &rq3));
        free(raw);
        free(q);
    }
    assert_int_equal(it_daemon_stop(&env->d), 0);
    char *log = it_read_file(env->d.log_path, NULL);
    assert_non_null(log);
    assert_true(strlen(log) > 0);
    for (size_t i = 0; i < 3; i++) {
        char part[20];
        /* Not the token, not even a 16-digit piece of its secret. */
        snprintf(part, sizeof(part), "%.16s", toks[i] + 3);
        if (strstr(log, part))
            print_error("token %zu appears in the log:\n%s\n", i, log);
        assert_null(strstr(log, toks[i]));
        assert_null(strstr(log, part));
    }
    free(log);
    assert_int_equal(it_daemon_start(&env->d), 0);
}

/* ---- stopping and restarting ---- */

static void
test_sigterm_stops_cleanly_with_exit_0(void **state)
{
    struct it_env *env = *state;
    expect_status(it_put(&env->d, "/api/v1/files/srv/s/x.txt", "x", 1), 201);
    assert_int_equal(it_daemon_stop(&env->d), 0);
    char *log = it_read_file(env->d.log_path, NULL);
    assert_non_null(strstr(log, "stopping"));
    assert_non_null(strstr(log, "stopped"));
    free(log);
    /* SIGINT is a clean stop too. */
    assert_int_equal(it_daemon_start(&env->d), 0);
    kill(env->d.pid, SIGINT);
    int status = 0;
    assert_int_equal(waitpid(env->d.pid, &status, 0), env->d.pid);
    env->d.pid = 0;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(it_daemon_start(&env->d), 0);
    expect_body(env, "/api/v1/files/srv/s/x.txt", "x");
}

static void
test_sigterm_under_load_always_exits_0(void **state)
{
    struct it_env *env = *state;
    int failures = 0;
    for (int cycle = 0; cycle < 15; cycle++) {
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
            /* Traffic until the daemon stops answering. */
            for (int i = 0; i < 2000; i++) {
                struct it_request rq = {.path = i % 2 ? "/api/v1/shares" : "/api/v1/health",
                                        .timeout_s = 5};
                struct it_response *r = it_http(&env->d, &rq);
                long st = r->status;
                it_response_free(r);
                if (st == 0)
                    break;
            }
            _exit(0);
        }
        struct timespec ts = {0, (50 + 13 * cycle) * 1000L * 1000};
        nanosleep(&ts, NULL);
        int rc = it_daemon_stop(&env->d);
        if (rc != 0) {
            print_error("cycle %d: SIGTERM under load exited with %d\n", cycle, rc);
            failures++;
        }
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        assert_int_equal(it_daemon_start(&env->d), 0);
    }
    assert_int_equal(failures, 0);
}

static int
connect_to(const struct it_env *env)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(env->d.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    struct timeval tv = {20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void
test_sigterm_lets_an_upload_in_flight_finish(void **state)
{
    struct it_env *env = *state;
    const size_t len = (size_t)512 * 1024;
    char *data = it_repeat('u', len);
    int fd = connect_to(env);
    char *head = it_fmt("PUT /api/v1/files/srv/s/inflight.bin HTTP/1.1\r\nHost: x\r\n"
                        "Authorization: Bearer %s\r\nContent-Length: %zu\r\n"
                        "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                        env->d.token, len);
    assert_int_equal(send(fd, head, strlen(head), MSG_NOSIGNAL), (ssize_t)strlen(head));
    assert_int_equal(send(fd, data, len / 2, MSG_NOSIGNAL), (ssize_t)(len / 2));
    struct timespec ts = {0, 300 * 1000L * 1000};
    nanosleep(&ts, NULL);
    kill(env->d.pid, SIGTERM);
    nanosleep(&ts, NULL);
    size_t sent = len / 2;
    while (sent < len) {
        ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
        assert_true(n > 0);
        sent += (size_t)n;
    }
    char buf[2048];
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
    assert_true(n > 0);
    buf[n] = '\0';
    int status = 0;
    assert_int_equal(sscanf(buf, "HTTP/1.%*d %d", &status), 1);
    assert_int_equal(status, 201);
    close(fd);
    for (int i = 0; i < 300 && it_daemon_alive(&env->d); i++)
        nanosleep(&(struct timespec){0, 50 * 1000L * 1000}, NULL);
    assert_false(it_daemon_alive(&env->d));
    size_t got_len = 0;
    char path[PATH_MAX];
    it_share_file(env, "inflight.bin", path);
    char *got = it_read_file(path, &got_len);
    assert_non_null(got);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, data, len);
    free(got);
    free(head);
    free(data);
    /* The teardown expects a running daemon. */
    assert_int_equal(it_daemon_start(&env->d), 0);
}

#define ALL_DIRTY "a.txt b.txt new.txt newdir newdir/inner.txt"

/* Offline changes of every kind on an auto share with a.txt and b.txt cached. */
static void
make_offline_changes(struct it_env *env)
{
    seed(env, "a.txt", "original a");
    seed(env, "b.txt", "original b");
    seed(env, "keep.txt", "untouched");
    expect_status(it_get(&env->d, "/api/v1/files/srv/s"), 200);
    expect_body(env, "/api/v1/files/srv/s/a.txt", "original a");
    expect_body(env, "/api/v1/files/srv/s/b.txt", "original b");
    expect_body(env, "/api/v1/files/srv/s/keep.txt", "untouched");
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 0), 200);
    expect_status(it_put(&env->d, "/api/v1/files/srv/s/a.txt", "edited a", 8), 200);
    expect_status(it_put(&env->d, "/api/v1/files/srv/s/new.txt", "new file", 8), 201);
    expect_status(
        it_json_req(&env->d, "POST", "/api/v1/files/srv/s/newdir", "{\"type\":\"directory\"}"),
        201);
    expect_status(it_put(&env->d, "/api/v1/files/srv/s/newdir/inner.txt", "inner", 5), 201);
    expect_status(it_delete(&env->d, "/api/v1/files/srv/s/b.txt"), 200);
}

/* want_dirty: the dirty items below //srv/s, in path order. */
static void
check_offline_changes(struct it_env *env, const char *want_dirty)
{
    struct it_response *r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "state", "offline");
    IT_ASSERT_JSTR(r->json, "reason", "forced");
    it_response_free(r);
    expect_body(env, "/api/v1/files/srv/s/a.txt", "edited a");
    expect_body(env, "/api/v1/files/srv/s/new.txt", "new file");
    expect_body(env, "/api/v1/files/srv/s/newdir/inner.txt", "inner");
    expect_body(env, "/api/v1/files/srv/s/keep.txt", "untouched");
    r = it_get(&env->d, "/api/v1/files/srv/s/b.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items/srv/s/a.txt");
    IT_ASSERT_JBOOL(r->json, "change.modifiedData", 1);
    IT_ASSERT_JINT(r->json, "dirtyBytes.local", 8);
    IT_ASSERT_JINT(r->json, "original.size", 10);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items/srv/s/new.txt");
    IT_ASSERT_JBOOL(r->json, "change.createdOffline", 1);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items/srv/s/newdir");
    IT_ASSERT_JBOOL(r->json, "change.createdOffline", 1);
    IT_ASSERT_JSTR(r->json, "type", "directory");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items/srv/s/b.txt");
    IT_ASSERT_JBOOL(r->json, "change.deletedOffline", 1);
    it_response_free(r);
    char *dirty = dirty_items(env);
    assert_string_equal(dirty, want_dirty);
    free(dirty);
    /* The server saw none of it. */
    char *a = on_share(env, "a.txt"), *b = on_share(env, "b.txt"), *n = on_share(env, "new.txt");
    assert_string_equal(a, "original a");
    assert_string_equal(b, "original b");
    assert_null(n);
    free(a);
    free(b);
}

static void
test_restart_keeps_every_offline_change(void **state)
{
    struct it_env *env = *state;
    make_offline_changes(env);
    check_offline_changes(env, ALL_DIRTY);
    it_restart(env);
    check_offline_changes(env, ALL_DIRTY);
}

static void
test_sigkill_and_restart_loses_no_committed_offline_change(void **state)
{
    struct it_env *env = *state;
    make_offline_changes(env);
    /* A burst of acknowledged writes, then kill -9 right after the last answer. */
    for (int i = 0; i < 25; i++) {
        char path[64], body[32];
        snprintf(path, sizeof(path), "/api/v1/files/srv/s/burst-%02d.txt", i);
        snprintf(body, sizeof(body), "burst %d", i);
        expect_status(it_put(&env->d, path, body, strlen(body)), 201);
    }
    it_daemon_kill(&env->d);
    assert_int_equal(it_daemon_start(&env->d), 0);
    char want[2048] = "a.txt b.txt";
    for (int i = 0; i < 25; i++) {
        size_t len = strlen(want);
        snprintf(want + len, sizeof(want) - len, " burst-%02d.txt", i);
    }
    size_t len = strlen(want);
    snprintf(want + len, sizeof(want) - len, " new.txt newdir newdir/inner.txt");
    check_offline_changes(env, want);
    for (int i = 0; i < 25; i++) {
        char path[64], body[32];
        snprintf(path, sizeof(path), "/api/v1/files/srv/s/burst-%02d.txt", i);
        snprintf(body, sizeof(body), "burst %d", i);
        expect_body(env, path, body);
        struct it_response *r = it_get(&env->d, "/api/v1/items/srv/s/burst-%02d.txt", i);
        IT_ASSERT_JBOOL(r->json, "change.createdOffline", 1);
        it_response_free(r);
    }
    /* And once more, killed in the middle of nothing in particular. */
    it_daemon_kill(&env->d);
    assert_int_equal(it_daemon_start(&env->d), 0);
    check_offline_changes(env, want);
}

static void
test_forced_offline_share_stays_offline_across_restart(void **state)
{
    struct it_env *env = *state;
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 0), 200);
    it_restart(env);
    struct it_response *r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "state", "offline");
    IT_ASSERT_JSTR(r->json, "reason", "forced");
    it_response_free(r);
    it_daemon_kill(&env->d);
    assert_int_equal(it_daemon_start(&env->d), 0);
    r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "reason", "forced");
    it_response_free(r);
    /* Put back online, it stays online. */
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 1), 200);
    it_restart(env);
    r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "state", "online");
    it_response_free(r);
}

static void
test_restart_with_a_vanished_share_root_comes_up_with_the_share_offline(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", "cached");
    expect_body(env, "/api/v1/files/srv/s/a.txt", "cached");
    assert_int_equal(it_daemon_stop(&env->d), 0);
    char *away = it_fmt("%s/away", env->root);
    assert_int_equal(rename(env->share_dir, away), 0);
    assert_int_equal(it_daemon_start(&env->d), 0);
    struct it_response *r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "state", "offline");
    IT_ASSERT_JSTR(r->json, "reason", "connectionError");
    it_response_free(r);
    expect_body(env, "/api/v1/files/srv/s/a.txt", "cached");
    assert_false(it_exists(env->share_dir));
    assert_int_equal(rename(away, env->share_dir), 0);
    free(away);
}

static void
test_bad_start_options_exit_with_an_error(void **state)
{
    struct it_env *env = *state;
    char out[1024], err[2048];
    /* A data dir of their own: these must not touch the running daemon's. */
    char *other = it_fmt("%s/other-data", env->root);
    const char *level[] = {"--log-level", "loud", "--data-dir", other, NULL};
    assert_int_equal(it_run_daemon_cmd(level, 30, out, sizeof(out), err, sizeof(err)), 2);
    const char *extra[] = {"--data-dir", other, "surplus", NULL};
    assert_int_equal(it_run_daemon_cmd(extra, 30, out, sizeof(out), err, sizeof(err)), 2);
    const char *listen[] = {"--listen", "nowhere", "--data-dir", other, NULL};
    assert_int_equal(it_run_daemon_cmd(listen, 30, out, sizeof(out), err, sizeof(err)), 1);
    char *file = it_fmt("%s/plainfile", env->root);
    assert_int_equal(it_write_file(file, "x", 1), 0);
    char *under_file = it_fmt("%s/data", file);
    const char *data[] = {"--listen", "127.0.0.1:0", "--data-dir", under_file, NULL};
    assert_int_equal(it_run_daemon_cmd(data, 30, out, sizeof(out), err, sizeof(err)), 1);
    char *cfg = it_fmt("%s/bad.json", env->root);
    assert_int_equal(it_write_file(cfg, "{\"listen\": 5}", 13), 0);
    const char *badcfg[] = {"--config", cfg, "--data-dir", other, NULL};
    assert_int_equal(it_run_daemon_cmd(badcfg, 30, out, sizeof(out), err, sizeof(err)), 2);
    /* A value out of its range, of the wrong type, or an unknown key: refused, by name. */
    static const struct {
        const char *json, *named;
    } bad[] = {
        {"{\"threads\": 0}", "'threads' must be an integer from 1 to 1024"},
        {"{\"probeMaxSeconds\": \"60\"}", "'probeMaxSeconds' must be an integer"},
        {"{\"probeFirstMs\": -5}", "'probeFirstMs' must be an integer"},
        {"{\"massDeletePercent\": 101}", "'massDeletePercent' must be an integer from 1 to 100"},
        {"{\"backgroundSync\": 1}", "'backgroundSync' must be true or false"},
        {"{\"probeEvery\": 5}", "unknown key 'probeEvery'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(it_write_file(cfg, bad[i].json, strlen(bad[i].json)), 0);
        assert_int_equal(it_run_daemon_cmd(badcfg, 30, out, sizeof(out), err, sizeof(err)), 2);
        if (!strstr(err, bad[i].named)) {
            print_error("config %s: stderr does not say \"%s\": %s\n", bad[i].json, bad[i].named,
                        err);
            fail();
        }
    }
    const char *version[] = {"--version", NULL};
    assert_int_equal(it_run_daemon_cmd(version, 30, out, sizeof(out), err, sizeof(err)), 0);
    assert_non_null(strstr(out, "offlinefilesd"));
    free(cfg);
    free(other);
    free(under_file);
    free(file);
    /* The running daemon did not mind. */
    expect_status(it_get(&env->d, "/api/v1/health"), 200);
}

/* ---- memory ---- */

static int
files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    char ba[65536], bb[65536];
    while (same) {
        size_t na = fread(ba, 1, sizeof(ba), fa), nb = fread(bb, 1, sizeof(bb), fb);
        same = na == nb && memcmp(ba, bb, na) == 0;
        if (na == 0 || !same)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static void
test_big_upload_and_download_stream_in_bounded_memory(void **state)
{
    struct it_env *env = *state;
    const int64_t size = 200LL * 1024 * 1024;
    char *src = it_fmt("%s/big.src", env->root);
    FILE *f = fopen(src, "wb");
    assert_non_null(f);
    static unsigned char chunk[1 << 20];
    for (int64_t off = 0; off < size; off += (int64_t)sizeof(chunk)) {
        for (size_t i = 0; i < sizeof(chunk); i++)
            chunk[i] = it_gen_byte(off + (int64_t)i);
        assert_int_equal(fwrite(chunk, 1, sizeof(chunk), f), sizeof(chunk));
    }
    assert_int_equal(fclose(f), 0);
    /* Warm up: threads, the store and the first request's allocations. */
    expect_status(it_put(&env->d, "/api/v1/files/srv/s/warm.bin", "warm", 4), 201);
    expect_body(env, "/api/v1/files/srv/s/warm.bin", "warm");
    long before = it_proc_status_kb(env->d.pid, "VmHWM");
    assert_true(before > 0);
    struct it_request rq = {.method = "PUT",
                            .path = "/api/v1/files/srv/s/big.bin",
                            .content_type = "application/octet-stream",
                            .body_file = src,
                            .timeout_s = 280};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JINT(r->json, "item.local.size", size);
    it_response_free(r);
    long after_up = it_proc_status_kb(env->d.pid, "VmHWM");
    char dst[PATH_MAX];
    it_share_file(env, "big.bin", dst);
    assert_true(files_equal(src, dst));
    /* Read it back to a file: streamed from disk, not buffered. */
    char *copy = it_fmt("%s/big.copy", env->root);
    struct it_request get = {
        .path = "/api/v1/files/srv/s/big.bin", .save_to = copy, .timeout_s = 280};
    r = it_http(&env->d, &get);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    long after_down = it_proc_status_kb(env->d.pid, "VmHWM");
    assert_true(files_equal(src, copy));
    unlink(copy);
    unlink(src);
    unlink(dst);
    fprintf(stderr, "VmHWM: %ld kB before, %ld kB after upload, %ld kB after download\n", before,
            after_up, after_down);
    assert_true(after_up - before < 8L * 1024);
    assert_true(after_down - before < 8L * 1024);
    free(copy);
    free(src);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define M(f) cmocka_unit_test_setup_teardown(f, it_setup_manual, it_teardown)
#define A(f) cmocka_unit_test_setup_teardown(f, it_setup_auto, it_teardown)
    const struct CMUnitTest tests[] = {
        M(test_first_start_writes_an_admin_token_file_of_mode_0600),
        M(test_admin_token_is_kept_across_restart),
        M(test_token_create_prints_a_token_that_authenticates_its_user),
        M(test_non_admin_token_gets_403_on_share_create),
        M(test_admin_token_from_the_command_may_create_shares),
        M(test_token_create_refuses_bad_user_names_and_missing_options),
        M(test_no_token_appears_in_the_daemon_log),
        M(test_sigterm_stops_cleanly_with_exit_0),
        M(test_sigterm_lets_an_upload_in_flight_finish),
        M(test_sigterm_under_load_always_exits_0),
        A(test_restart_keeps_every_offline_change),
        A(test_sigkill_and_restart_loses_no_committed_offline_change),
        M(test_forced_offline_share_stays_offline_across_restart),
        A(test_restart_with_a_vanished_share_root_comes_up_with_the_share_offline),
        M(test_bad_start_options_exit_with_an_error),
        M(test_big_upload_and_download_stream_in_bounded_memory),
    };
#undef M
#undef A
    return cmocka_run_group_tests(tests, NULL, NULL);
}
