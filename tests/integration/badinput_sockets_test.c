/* SPDX-License-Identifier: MIT */
/*
 * Abuse below the level of well-formed requests, against the fixture of
 * badinput_util.h: oversize headers and URLs, garbage and truncated
 * requests on raw sockets, and clients that vanish mid-upload. None gets a
 * success, a vanished upload leaves neither a file nor a temp file behind,
 * and the daemon lives on. (The table of bad requests is in
 * badinput_requests_test.c, host paths and symlinks in
 * badinput_escape_test.c.)
 */
#include "badinput_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- raw sockets ---- */

static int
connect_to(const struct it_env *env)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(env->d.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void
send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may close early: that is fine */
        buf += n;
        len -= (size_t)n;
    }
}

/* The status code of the first response line read from fd, or 0 when none came. */
static int
read_status(int fd)
{
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(buf) - 1 && (n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0) {
        len += (size_t)n;
        if (memchr(buf, '\n', len))
            break;
    }
    buf[len] = '\0';
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return 0;
    return status;
}

static void
test_oversize_request_headers_get_a_4xx_and_the_daemon_lives(void **state)
{
    struct it_env *env = *state;
    char *big = it_repeat('x', (size_t)100 * 1024);
    char *hdr = it_fmt("X-Junk: %s", big);
    struct it_request rq = {.path = "/api/v1/health", .auth = IT_AUTH_NONE, .headers = {hdr}};
    struct it_response *r = it_http(&env->d, &rq);
    assert_true(r->status >= 400 && r->status < 500);
    it_response_free(r);
    free(hdr);
    free(big);
    bi_assert_alive_and_well(env);
}

static void
test_oversize_url_gets_a_4xx_and_the_daemon_lives(void **state)
{
    struct it_env *env = *state;
    char *seg = it_repeat('c', (size_t)200 * 1024);
    char *path = it_fmt("/api/v1/files/srv/s/%s", seg);
    struct it_request rq = {.path = path};
    struct it_response *r = it_http(&env->d, &rq);
    assert_true(r->status >= 400 && r->status < 500);
    it_response_free(r);
    free(path);
    free(seg);
    bi_assert_alive_and_well(env);
}

static void
test_garbage_and_truncated_requests_do_not_hurt_the_daemon(void **state)
{
    struct it_env *env = *state;
    static const char *const junk[] = {
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET /api/v1/health HTTP/9.9\r\n\r\n",
        "\x00\x01\x02\x03\r\n\r\n",
        "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        "PUT /api/v1/files/srv/s/x HTTP/1.1\r\nHost: x\r\nContent-Length: "
        "99999999999999999999\r\n\r\n",
        "POST /api/v1/shares HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n",
        "GET /api/v1/files/srv/s/a.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        "\x01\x02\r\n\r\n",
        "GET /api/v1/health HTTP/1.1\r\nHo", /* then the client goes away */
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        int fd = connect_to(env);
        send_all(fd, junk[i], i == 3 ? 8 : strlen(junk[i]));
        if (i + 1 < sizeof(junk) / sizeof(junk[0])) {
            shutdown(fd, SHUT_WR);
            int st = read_status(fd);
            /* No answer, or a client error (505 for the unknown version): never a success. */
            int ok = st == 0 || (st >= 400 && st < 500) || st == 505;
            if (!ok)
                print_error("junk #%zu answered %d\n", i, st);
            assert_true(ok);
        }
        close(fd);
    }
    bi_assert_alive_and_well(env);
}

static void
test_client_vanishing_mid_upload_leaves_no_file_or_temp(void **state)
{
    struct it_env *env = *state;
    for (int i = 0; i < 5; i++) {
        int fd = connect_to(env);
        char *head = it_fmt("PUT /api/v1/files/srv/s/partial.bin HTTP/1.1\r\nHost: x\r\n"
                            "Authorization: Bearer %s\r\nContent-Length: 1000000\r\n"
                            "Content-Type: application/octet-stream\r\n\r\n",
                            env->d.token);
        send_all(fd, head, strlen(head));
        char *chunk = it_repeat('p', 300000);
        send_all(fd, chunk, strlen(chunk));
        close(fd);
        free(chunk);
        free(head);
    }
    /* Give the daemon a moment to notice the closed connections. */
    int leftovers = -1;
    for (int tries = 0; tries < 100 && leftovers != 0; tries++) {
        struct timespec ts = {0, 50 * 1000L * 1000};
        nanosleep(&ts, NULL);
        leftovers = it_cache_temp_files(&env->d);
    }
    assert_int_equal(leftovers, 0);
    char path[PATH_MAX];
    it_share_file(env, "partial.bin", path);
    assert_false(it_exists(path));
    struct it_response *r = it_get(&env->d, "/api/v1/items/srv/s/partial.bin");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    bi_assert_alive_and_well(env);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define T(f) cmocka_unit_test_setup_teardown(f, bi_setup, it_teardown)
    const struct CMUnitTest tests[] = {
        T(test_oversize_request_headers_get_a_4xx_and_the_daemon_lives),
        T(test_oversize_url_gets_a_4xx_and_the_daemon_lives),
        T(test_garbage_and_truncated_requests_do_not_hurt_the_daemon),
        T(test_client_vanishing_mid_upload_leaves_no_file_or_temp),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
