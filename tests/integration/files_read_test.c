/* SPDX-License-Identifier: MIT */
/*
 * /api/v1/files reads over HTTP: the share's bytes with a strong ETag;
 * HEAD, If-None-Match and Range; reads of what is missing; byte-exact round
 * trips of large binary, empty and oddly named files.
 */
#include "files_util.h"

#include <stdlib.h>
#include <string.h>

/* ---- reads ---- */

static void
test_online_read_returns_the_share_bytes_with_a_strong_etag(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(r->body_len, HELLO_LEN);
    assert_string_equal(r->body, HELLO);
    assert_true(is_strong_etag(it_resp_header(r, "ETag")));
    assert_string_equal(it_resp_header(r, "Content-Type"), "application/octet-stream");
    assert_string_equal(it_resp_header(r, "Content-Length"), "11");
    assert_string_equal(it_resp_header(r, "Accept-Ranges"), "bytes");
    assert_string_equal(it_resp_header(r, "X-Offline-Source"), "server");
    assert_null(it_resp_header(r, "X-Offline"));
    it_response_free(r);
}

static void
test_same_content_gives_the_same_etag_and_new_content_a_new_one(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *e1 = etag_of(env, "/api/v1/files/srv/s/a.txt");
    char *e2 = etag_of(env, "/api/v1/files/srv/s/a.txt");
    assert_string_equal(e1, e2);
    seed(env, "a.txt", "something else entirely");
    char *e3 = etag_of(env, "/api/v1/files/srv/s/a.txt");
    assert_string_not_equal(e1, e3);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    assert_string_equal(r->body, "something else entirely");
    it_response_free(r);
    free(e1);
    free(e2);
    free(e3);
}

static void
test_head_answers_the_headers_of_get_without_a_body(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    struct it_request rq = {.method = "HEAD", .path = "/api/v1/files/srv/s/a.txt"};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(r->body_len, 0);
    assert_string_equal(it_resp_header(r, "Content-Length"), "11");
    assert_string_equal(it_resp_header(r, "ETag"), etag);
    it_response_free(r);
    free(etag);
}

static void
test_if_none_match_with_the_current_etag_answers_304(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    char *inm[] = {it_fmt("If-None-Match: %s", etag), it_fmt("If-None-Match: \"0123\", %s", etag),
                   it_fmt("If-None-Match: W/%s", etag), it_fmt("If-None-Match: *")};
    for (size_t i = 0; i < sizeof(inm) / sizeof(inm[0]); i++) {
        struct it_response *r = get_with(env, "/api/v1/files/srv/s/a.txt", inm[i]);
        IT_ASSERT_STATUS(r, 304);
        assert_int_equal(r->body_len, 0);
        assert_non_null(it_resp_header(r, "ETag"));
        assert_string_equal(it_resp_header(r, "ETag"), etag);
        it_response_free(r);
        free(inm[i]);
    }
    free(etag);
}

static void
test_if_none_match_with_another_etag_answers_200_with_the_body(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = get_with(
        env, "/api/v1/files/srv/s/a.txt",
        "If-None-Match: \"0000000000000000000000000000000000000000000000000000000000000000\"");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, HELLO);
    it_response_free(r);
}

static void
test_range_answers_206_with_the_bytes_and_content_range(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    static const struct {
        const char *range, *body, *content_range;
    } cases[] = {
        {"bytes=0-4", "hello", "bytes 0-4/11"}, {"bytes=6-", "world", "bytes 6-10/11"},
        {"bytes=-3", "rld", "bytes 8-10/11"},   {"bytes=3-100", "lo world", "bytes 3-10/11"},
        {"bytes=10-10", "d", "bytes 10-10/11"}, {"bytes=-50", HELLO, "bytes 0-10/11"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *h = it_fmt("Range: %s", cases[i].range);
        struct it_response *r = get_with(env, "/api/v1/files/srv/s/a.txt", h);
        IT_ASSERT_STATUS(r, 206);
        assert_string_equal(r->body, cases[i].body);
        assert_non_null(it_resp_header(r, "Content-Range"));
        assert_string_equal(it_resp_header(r, "Content-Range"), cases[i].content_range);
        assert_true(is_strong_etag(it_resp_header(r, "ETag")));
        it_response_free(r);
        free(h);
    }
}

static void
test_range_beyond_the_end_answers_416(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    const char *ranges[] = {"Range: bytes=11-", "Range: bytes=50-60", "Range: bytes=-0"};
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        struct it_response *r = get_with(env, "/api/v1/files/srv/s/a.txt", ranges[i]);
        IT_ASSERT_PROBLEM(r, 416, "range-not-satisfiable");
        /* RFC 9110 14.4: an unsatisfied range names the current length. */
        assert_non_null(it_resp_header(r, "Content-Range"));
        assert_string_equal(it_resp_header(r, "Content-Range"), "bytes */11");
        it_response_free(r);
    }
}

static void
test_malformed_or_multiple_ranges_are_ignored_with_200(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    const char *ranges[] = {"Range: bytes=abc", "Range: items=0-1", "Range: bytes=5-2",
                            "Range: bytes=0-1,3-4"};
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        struct it_response *r = get_with(env, "/api/v1/files/srv/s/a.txt", ranges[i]);
        IT_ASSERT_STATUS(r, 200);
        assert_string_equal(r->body, HELLO);
        assert_null(it_resp_header(r, "Content-Range"));
        it_response_free(r);
    }
}

static void
test_read_of_a_missing_file_answers_404_not_found(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/missing.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/nope/a.txt");
    IT_ASSERT_PROBLEM(r, 404, "no-such-share");
    it_response_free(r);
}

static void
test_read_below_a_missing_directory_answers_404_not_found(void **state)
{
    struct it_env *env = *state;
    /* Whether or not the parent exists, a read of something absent is a 404. */
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/no/such/file.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    struct it_request rq = {.method = "HEAD", .path = "/api/v1/files/srv/s/no/such/file.txt"};
    r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 404);
    it_response_free(r);
}

static void
test_binary_upload_and_read_are_byte_exact(void **state)
{
    struct it_env *env = *state;
    const int64_t len = 3 * 1024 * 1024 + 17;
    struct it_request rq = {.method = "PUT",
                            .path = "/api/v1/files/srv/s/blob.bin",
                            .content_type = "application/octet-stream",
                            .gen_len = len};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JINT(r->json, "item.local.size", len);
    it_response_free(r);
    char path[PATH_MAX];
    it_share_file(env, "blob.bin", path);
    size_t got_len = 0;
    char *got = it_read_file(path, &got_len);
    assert_non_null(got);
    assert_int_equal(got_len, len);
    int64_t bad = -1;
    for (int64_t i = 0; i < len && bad < 0; i++)
        if ((unsigned char)got[i] != it_gen_byte(i))
            bad = i;
    assert_int_equal(bad, -1);
    free(got);
    r = it_get(&env->d, "/api/v1/files/srv/s/blob.bin");
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(r->body_len, len);
    for (int64_t i = 0; i < len && bad < 0; i++)
        if ((unsigned char)r->body[i] != it_gen_byte(i))
            bad = i;
    assert_int_equal(bad, -1);
    it_response_free(r);
}

/* ---- names and sizes ---- */

static void
test_unicode_and_special_names_round_trip(void **state)
{
    struct it_env *env = *state;
    const char *name = "caf\xc3\xa9 #?%+&=.txt";
    struct it_response *r =
        it_put(&env->d, "/api/v1/files/srv/s/caf%C3%A9%20%23%3F%25%2B%26%3D.txt", "unicode", 7);
    IT_ASSERT_STATUS(r, 201);
    char *want_path = it_fmt("//srv/s/%s", name);
    IT_ASSERT_JSTR(r->json, "item.path", want_path);
    it_response_free(r);
    char *got = on_share(env, name);
    assert_non_null(got);
    assert_string_equal(got, "unicode");
    free(got);
    r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "entries.0.name", name);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/caf%%C3%%A9%%20%%23%%3F%%25%%2B%%26%%3D.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "unicode");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items/srv/s/caf%%C3%%A9%%20%%23%%3F%%25%%2B%%26%%3D.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "path", want_path);
    it_response_free(r);
    free(want_path);
}

static void
test_empty_file_round_trips(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/empty", "", 0);
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JINT(r->json, "item.local.size", 0);
    it_response_free(r);
    size_t len = 99;
    char path[PATH_MAX];
    it_share_file(env, "empty", path);
    char *got = it_read_file(path, &len);
    assert_non_null(got);
    assert_int_equal(len, 0);
    free(got);
    r = it_get(&env->d, "/api/v1/files/srv/s/empty");
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(r->body_len, 0);
    assert_string_equal(it_resp_header(r, "Content-Length"), "0");
    assert_true(is_strong_etag(it_resp_header(r, "ETag")));
    it_response_free(r);
    r = get_with(env, "/api/v1/files/srv/s/empty", "Range: bytes=0-");
    IT_ASSERT_PROBLEM(r, 416, "range-not-satisfiable");
    it_response_free(r);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define M(f) cmocka_unit_test_setup_teardown(f, it_setup_manual, it_teardown)
    const struct CMUnitTest tests[] = {
        M(test_online_read_returns_the_share_bytes_with_a_strong_etag),
        M(test_same_content_gives_the_same_etag_and_new_content_a_new_one),
        M(test_head_answers_the_headers_of_get_without_a_body),
        M(test_if_none_match_with_the_current_etag_answers_304),
        M(test_if_none_match_with_another_etag_answers_200_with_the_body),
        M(test_range_answers_206_with_the_bytes_and_content_range),
        M(test_range_beyond_the_end_answers_416),
        M(test_malformed_or_multiple_ranges_are_ignored_with_200),
        M(test_read_of_a_missing_file_answers_404_not_found),
        M(test_read_below_a_missing_directory_answers_404_not_found),
        M(test_binary_upload_and_read_are_byte_exact),
        M(test_unicode_and_special_names_round_trip),
        M(test_empty_file_round_trips),
    };
#undef M
    return cmocka_run_group_tests_name("files_read", tests, NULL, NULL);
}
