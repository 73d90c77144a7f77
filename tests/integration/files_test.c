/* SPDX-License-Identifier: MIT */
/*
 * /api/v1/files over HTTP, online and offline: reads with ETag,
 * If-None-Match and Range; writes with If-Match and If-None-Match; deletes
 * and tombstones; directories made and listed; what the manual, auto and
 * noCaching modes keep; a share root that disappears.
 */
#include "harness.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELLO "hello world"
#define HELLO_LEN 11

static void
seed(const struct it_env *env, const char *rel, const char *text)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    assert_int_equal(it_write_file(path, text, strlen(text)), 0);
}

static void
seed_dir(const struct it_env *env, const char *rel)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    assert_int_equal(mkdir(path, 0700), 0);
}

/* The share's copy of rel, or NULL. */
static char *
on_share(const struct it_env *env, const char *rel)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    return it_read_file(path, NULL);
}

static void
go_offline(const struct it_env *env)
{
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 0), 200);
}

static void
go_online(const struct it_env *env)
{
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 1), 200);
}

/* "\"<64 hex>\"": a strong ETag of a SHA-256. */
static int
is_strong_etag(const char *v)
{
    if (!v || strlen(v) != 66 || v[0] != '"' || v[65] != '"')
        return 0;
    for (int i = 1; i < 65; i++)
        if (!isxdigit((unsigned char)v[i]))
            return 0;
    return 1;
}

static char *
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

static struct it_response *
item(const struct it_env *env, const char *rel)
{
    return it_get(&env->d, "/api/v1/items/srv/s/%s", rel);
}

static struct it_response *
get_with(const struct it_env *env, const char *path, const char *header)
{
    struct it_request rq = {.path = path, .headers = {header}};
    return it_http(&env->d, &rq);
}

static struct it_response *
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

static struct it_response *
mkdir_req(const struct it_env *env, const char *path)
{
    return it_json_req(&env->d, "POST", path, "{\"type\":\"directory\"}");
}

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

/* ---- writes online ---- */

static void
test_put_creates_a_file_on_the_share_with_201(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/new.txt", "data", 4);
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JBOOL(r->json, "created", 1);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 0);
    IT_ASSERT_JSTR(r->json, "item.path", "//srv/s/new.txt");
    IT_ASSERT_JSTR(r->json, "item.type", "file");
    IT_ASSERT_JBOOL(r->json, "item.change.dirty", 0);
    it_response_free(r);
    char *got = on_share(env, "new.txt");
    assert_non_null(got);
    assert_string_equal(got, "data");
    free(got);
}

static void
test_put_answers_the_etag_that_a_read_then_sees(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/e.txt", "version 1", 9);
    IT_ASSERT_STATUS(r, 201);
    assert_true(is_strong_etag(it_resp_header(r, "ETag")));
    char *put_etag = strdup(it_resp_header(r, "ETag"));
    it_response_free(r);
    char *get_etag = etag_of(env, "/api/v1/files/srv/s/e.txt");
    assert_string_equal(put_etag, get_etag);
    /* The answered tag is good for the next conditional write, offline too. */
    go_offline(env);
    char *h = it_fmt("If-Match: %s", put_etag);
    r = put_with(env, "/api/v1/files/srv/s/e.txt", "version 2", h);
    IT_ASSERT_STATUS(r, 200);
    assert_true(is_strong_etag(it_resp_header(r, "ETag")));
    assert_string_not_equal(it_resp_header(r, "ETag"), put_etag);
    char *h2 = it_fmt("If-Match: %s", it_resp_header(r, "ETag"));
    it_response_free(r);
    r = put_with(env, "/api/v1/files/srv/s/e.txt", "version 3", h2);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    free(h2);
    free(h);
    free(get_etag);
    free(put_etag);
}

static void
test_put_if_match_star_needs_an_existing_file(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = put_with(env, "/api/v1/files/srv/s/none.txt", "x", "If-Match: *");
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    char path[PATH_MAX];
    it_share_file(env, "none.txt", path);
    assert_false(it_exists(path));
    seed(env, "a.txt", HELLO);
    r = put_with(env, "/api/v1/files/srv/s/a.txt", "star", "If-Match: *");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    go_offline(env);
    r = put_with(env, "/api/v1/files/srv/s/none-offline.txt", "x", "If-Match: *");
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    r = item(env, "none-offline.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

static void
test_put_replaces_an_existing_file_with_200(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/a.txt", "replaced", 8);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "created", 0);
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, "replaced");
    free(got);
    /* A second write through a cached item is a replacement too. */
    r = it_put(&env->d, "/api/v1/files/srv/s/a.txt", "again", 5);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "created", 0);
    it_response_free(r);
}

static void
test_put_with_a_stale_if_match_answers_412_and_changes_nothing(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    struct it_response *r =
        put_with(env, "/api/v1/files/srv/s/a.txt", "clobber",
                 "If-Match: \"1111111111111111111111111111111111111111111111111111111111111111\"");
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, HELLO);
    free(got);
    free(etag);
}

static void
test_put_with_the_current_if_match_replaces_the_file(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    char *h = it_fmt("If-Match: %s", etag);
    struct it_response *r = put_with(env, "/api/v1/files/srv/s/a.txt", "next version", h);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, "next version");
    char *etag2 = etag_of(env, "/api/v1/files/srv/s/a.txt");
    assert_string_not_equal(etag, etag2);
    /* The old tag is stale now. */
    r = put_with(env, "/api/v1/files/srv/s/a.txt", "third", h);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    free(got);
    free(h);
    free(etag);
    free(etag2);
}

static void
test_put_over_a_change_made_on_the_server_answers_412(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    /* Someone changes the file on the server behind the cache's back. */
    sleep(1);
    seed(env, "a.txt", "changed on the server");
    char *h = it_fmt("If-Match: %s", etag);
    struct it_response *r = put_with(env, "/api/v1/files/srv/s/a.txt", "mine", h);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, "changed on the server");
    free(got);
    free(h);
    free(etag);
}

static void
test_put_if_none_match_star_only_creates(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = put_with(env, "/api/v1/files/srv/s/a.txt", "no", "If-None-Match: *");
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, HELLO);
    free(got);
    r = put_with(env, "/api/v1/files/srv/s/fresh.txt", "yes", "If-None-Match: *");
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    got = on_share(env, "fresh.txt");
    assert_string_equal(got, "yes");
    free(got);
}

static void
test_put_into_a_missing_directory_answers_409_parent_missing(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/no/such/dir.txt", "x", 1);
    IT_ASSERT_PROBLEM(r, 409, "parent-missing");
    it_response_free(r);
    char path[PATH_MAX];
    it_share_file(env, "no", path);
    assert_false(it_exists(path));
}

static void
test_put_onto_a_directory_answers_409_not_a_file(void **state)
{
    struct it_env *env = *state;
    seed_dir(env, "d");
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/d", "x", 1);
    IT_ASSERT_PROBLEM(r, 409, "not-a-file");
    it_response_free(r);
    struct stat sb;
    char path[PATH_MAX];
    it_share_file(env, "d", path);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
}

static void
test_put_onto_the_share_root_is_refused(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s", "x", 1);
    IT_ASSERT_PROBLEM(r, 409, "not-a-file");
    it_response_free(r);
    struct stat sb;
    assert_int_equal(stat(env->share_dir, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
}

/* ---- directories ---- */

static void
test_get_a_directory_lists_its_entries(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    seed_dir(env, "b");
    seed(env, "b/c.txt", "c");
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "path", "//srv/s");
    IT_ASSERT_JBOOL(r->json, "offline", 0);
    json_t *ents = it_jget(r->json, "entries");
    assert_int_equal(json_array_size(ents), 2);
    static const char *const keys[] = {"name", "type", "size", "mtime", NULL};
    IT_ASSERT_KEYS(json_array_get(ents, 0), keys);
    IT_ASSERT_JSTR(ents, "0.name", "a.txt");
    IT_ASSERT_JSTR(ents, "0.type", "file");
    IT_ASSERT_JINT(ents, "0.size", HELLO_LEN);
    IT_ASSERT_JSTR(ents, "1.name", "b");
    IT_ASSERT_JSTR(ents, "1.type", "directory");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/b");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "path", "//srv/s/b");
    assert_int_equal(json_array_size(it_jget(r->json, "entries")), 1);
    IT_ASSERT_JSTR(r->json, "entries.0.name", "c.txt");
    it_response_free(r);
}

static void
test_post_directory_creates_it_on_the_share_with_201(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = mkdir_req(env, "/api/v1/files/srv/s/newdir");
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JBOOL(r->json, "created", 1);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 0);
    IT_ASSERT_JSTR(r->json, "item.type", "directory");
    IT_ASSERT_JSTR(r->json, "item.path", "//srv/s/newdir");
    it_response_free(r);
    char path[PATH_MAX];
    struct stat sb;
    it_share_file(env, "newdir", path);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    /* And a file can go into it. */
    r = it_put(&env->d, "/api/v1/files/srv/s/newdir/f.txt", "f", 1);
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
}

static void
test_post_directory_that_exists_answers_409_already_exists(void **state)
{
    struct it_env *env = *state;
    seed_dir(env, "there");
    struct it_response *r = mkdir_req(env, "/api/v1/files/srv/s/there");
    IT_ASSERT_PROBLEM(r, 409, "already-exists");
    it_response_free(r);
    r = mkdir_req(env, "/api/v1/files/srv/s/made");
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    r = mkdir_req(env, "/api/v1/files/srv/s/made");
    IT_ASSERT_PROBLEM(r, 409, "already-exists");
    it_response_free(r);
}

static void
test_post_directory_without_its_parent_answers_409_parent_missing(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = mkdir_req(env, "/api/v1/files/srv/s/x/y");
    IT_ASSERT_PROBLEM(r, 409, "parent-missing");
    it_response_free(r);
}

/* ---- deletes online ---- */

static void
test_delete_removes_the_file_from_share_and_cache(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = it_delete(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "path", "//srv/s/a.txt");
    IT_ASSERT_JBOOL(r->json, "storedOffline", 0);
    it_response_free(r);
    char path[PATH_MAX];
    it_share_file(env, "a.txt", path);
    assert_false(it_exists(path));
    r = item(env, "a.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

static void
test_delete_of_a_missing_file_answers_404(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/never.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

static void
test_delete_of_a_non_empty_directory_answers_409(void **state)
{
    struct it_env *env = *state;
    seed_dir(env, "full");
    seed(env, "full/x.txt", "x");
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/full");
    IT_ASSERT_PROBLEM(r, 409, "directory-not-empty");
    it_response_free(r);
    char *got = on_share(env, "full/x.txt");
    assert_non_null(got);
    free(got);
}

static void
test_delete_with_a_stale_if_match_answers_412(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    struct it_request rq = {
        .method = "DELETE",
        .path = "/api/v1/files/srv/s/a.txt",
        .headers = {
            "If-Match: \"2222222222222222222222222222222222222222222222222222222222222222\""}};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_non_null(got);
    free(got);
    free(etag);
}

/* ---- caching modes ---- */

static void
test_manual_mode_plain_read_does_not_cache_content(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = item(env, "a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "ghosted", 1);
    it_response_free(r);
    go_offline(env);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
}

static void
test_auto_mode_read_caches_content_for_offline_use(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    struct it_response *r = item(env, "a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "ghosted", 0);
    IT_ASSERT_JINT(r->json, "local.size", HELLO_LEN);
    it_response_free(r);
    /* Online again: served from the cache while the server copy is unchanged. */
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(it_resp_header(r, "X-Offline-Source"), "cache");
    it_response_free(r);
    go_offline(env);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, HELLO);
    assert_string_equal(it_resp_header(r, "ETag"), etag);
    assert_string_equal(it_resp_header(r, "X-Offline"), "true");
    assert_string_equal(it_resp_header(r, "X-Offline-Source"), "cache");
    it_response_free(r);
    /* Conditional and partial reads work offline too. */
    char *h = it_fmt("If-None-Match: %s", etag);
    r = get_with(env, "/api/v1/files/srv/s/a.txt", h);
    IT_ASSERT_STATUS(r, 304);
    it_response_free(r);
    r = get_with(env, "/api/v1/files/srv/s/a.txt", "Range: bytes=6-");
    IT_ASSERT_STATUS(r, 206);
    assert_string_equal(r->body, "world");
    it_response_free(r);
    free(h);
    free(etag);
}

static void
test_auto_mode_read_sees_a_change_on_the_server(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *e1 = etag_of(env, "/api/v1/files/srv/s/a.txt");
    sleep(1);
    seed(env, "a.txt", "fresh from the server");
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "fresh from the server");
    assert_string_not_equal(it_resp_header(r, "ETag"), e1);
    it_response_free(r);
    go_offline(env);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "fresh from the server");
    it_response_free(r);
    free(e1);
}

static void
test_offline_read_of_uncached_content_answers_503_not_available_offline(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    /* Listing records a.txt as a ghost: known, without content. */
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    go_offline(env);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/never-seen.txt");
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
}

static void
test_no_caching_share_keeps_nothing_and_refuses_offline_writes(void **state)
{
    struct it_env *env = *state;
    char *dir = it_fmt("%s/nc", env->root);
    assert_int_equal(mkdir(dir, 0700), 0);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/a.txt", dir);
    assert_int_equal(it_write_file(path, HELLO, HELLO_LEN), 0);
    assert_int_equal(it_share_add(&env->d, "srv", "nc", dir, "noCaching"), 201);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/nc/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, HELLO);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items/srv/nc/a.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    assert_int_equal(it_share_set_online(&env->d, "srv", "nc", 0), 200);
    r = it_get(&env->d, "/api/v1/files/srv/nc/a.txt");
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
    r = it_put(&env->d, "/api/v1/files/srv/nc/b.txt", "b", 1);
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
    snprintf(path, sizeof(path), "%s/b.txt", dir);
    assert_false(it_exists(path));
    free(dir);
}

/* ---- offline changes ---- */

static void
test_offline_write_marks_item_dirty(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    go_offline(env);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/a.txt", "offline edit!", 13);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "created", 0);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    r = item(env, "a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    IT_ASSERT_JBOOL(r->json, "change.modifiedData", 1);
    IT_ASSERT_JBOOL(r->json, "change.createdOffline", 0);
    IT_ASSERT_JBOOL(r->json, "change.deletedOffline", 0);
    IT_ASSERT_JINT(r->json, "dirtyBytes.local", 13);
    IT_ASSERT_JINT(r->json, "local.size", 13);
    IT_ASSERT_JINT(r->json, "remote.size", HELLO_LEN);
    IT_ASSERT_JINT(r->json, "original.size", HELLO_LEN);
    IT_ASSERT_JBOOL(r->json, "ghosted", 0);
    it_response_free(r);
    /* The server copy is untouched; reads see the offline change. */
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, HELLO);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "offline edit!");
    assert_string_not_equal(it_resp_header(r, "ETag"), etag);
    it_response_free(r);
    free(got);
    free(etag);
}

static void
test_offline_write_with_a_stale_if_match_answers_412(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    go_offline(env);
    char *h = it_fmt("If-Match: %s", etag);
    struct it_response *r = put_with(env, "/api/v1/files/srv/s/a.txt", "first", h);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    /* The same tag again: the file changed since, so the precondition fails. */
    r = put_with(env, "/api/v1/files/srv/s/a.txt", "second", h);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    assert_string_equal(r->body, "first");
    it_response_free(r);
    free(h);
    free(etag);
}

static void
test_offline_write_of_a_new_file_is_created_offline(void **state)
{
    struct it_env *env = *state;
    go_offline(env);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/new.txt", "brand new", 9);
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JBOOL(r->json, "created", 1);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    IT_ASSERT_JBOOL(r->json, "item.change.createdOffline", 1);
    it_response_free(r);
    r = item(env, "new.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    IT_ASSERT_JBOOL(r->json, "change.createdOffline", 1);
    IT_ASSERT_JBOOL(r->json, "remote.exists", 0);
    IT_ASSERT_JBOOL(r->json, "local.exists", 1);
    IT_ASSERT_JINT(r->json, "dirtyBytes.local", 9);
    it_response_free(r);
    char path[PATH_MAX];
    it_share_file(env, "new.txt", path);
    assert_false(it_exists(path));
    r = it_get(&env->d, "/api/v1/files/srv/s/new.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "brand new");
    assert_string_equal(it_resp_header(r, "X-Offline"), "true");
    it_response_free(r);
}

static void
test_online_read_of_a_dirty_file_serves_the_offline_change(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    go_offline(env);
    r = it_put(&env->d, "/api/v1/files/srv/s/a.txt", "local", 5);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    go_online(env);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "local");
    it_response_free(r);
    r = item(env, "a.txt");
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    it_response_free(r);
}

static void
test_offline_delete_leaves_a_deleted_offline_tombstone(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    seed(env, "b.txt", "b");
    char *etag = etag_of(env, "/api/v1/files/srv/s/a.txt");
    free(etag);
    go_offline(env);
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    r = item(env, "a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "change.deletedOffline", 1);
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    IT_ASSERT_JBOOL(r->json, "local.exists", 0);
    IT_ASSERT_JBOOL(r->json, "remote.exists", 1);
    IT_ASSERT_JINT(r->json, "dirtyBytes.local", 0);
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_non_null(got);
    assert_string_equal(got, HELLO);
    free(got);
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = it_delete(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "offline", 1);
    for (size_t i = 0; i < json_array_size(it_jget(r->json, "entries")); i++)
        assert_string_not_equal(
            json_string_value(it_jget(json_array_get(it_jget(r->json, "entries"), i), "name")),
            "a.txt");
    it_response_free(r);
    /* Writing it again offline revives it. */
    r = it_put(&env->d, "/api/v1/files/srv/s/a.txt", "back", 4);
    assert_true(r->status == 200 || r->status == 201);
    it_response_free(r);
    r = item(env, "a.txt");
    IT_ASSERT_JBOOL(r->json, "change.deletedOffline", 0);
    IT_ASSERT_JBOOL(r->json, "local.exists", 1);
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    it_response_free(r);
}

static void
test_offline_delete_of_a_file_created_offline_leaves_nothing(void **state)
{
    struct it_env *env = *state;
    go_offline(env);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/tmp.txt", "t", 1);
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    r = it_delete(&env->d, "/api/v1/files/srv/s/tmp.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = item(env, "tmp.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

static void
test_offline_mkdir_is_created_offline_and_takes_files(void **state)
{
    struct it_env *env = *state;
    go_offline(env);
    struct it_response *r = mkdir_req(env, "/api/v1/files/srv/s/od");
    IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    IT_ASSERT_JSTR(r->json, "item.type", "directory");
    IT_ASSERT_JBOOL(r->json, "item.change.createdOffline", 1);
    it_response_free(r);
    r = it_put(&env->d, "/api/v1/files/srv/s/od/inner.txt", "inner", 5);
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/od");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "offline", 1);
    IT_ASSERT_JSTR(r->json, "entries.0.name", "inner.txt");
    it_response_free(r);
    char path[PATH_MAX];
    it_share_file(env, "od", path);
    assert_false(it_exists(path));
    /* A non-empty directory cannot be deleted offline either. */
    r = it_delete(&env->d, "/api/v1/files/srv/s/od");
    IT_ASSERT_PROBLEM(r, 409, "directory-not-empty");
    it_response_free(r);
}

static void
test_offline_listing_shows_cached_children_and_offline_changes(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    seed_dir(env, "b");
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    go_offline(env);
    r = it_put(&env->d, "/api/v1/files/srv/s/c.txt", "c", 1);
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "offline", 1);
    json_t *ents = it_jget(r->json, "entries");
    assert_int_equal(json_array_size(ents), 3);
    IT_ASSERT_JSTR(ents, "0.name", "a.txt");
    IT_ASSERT_JSTR(ents, "1.name", "b");
    IT_ASSERT_JSTR(ents, "1.type", "directory");
    IT_ASSERT_JSTR(ents, "2.name", "c.txt");
    it_response_free(r);
    /* Back online, the file made offline is listed next to the server's entries. */
    go_online(env);
    r = it_get(&env->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(it_jget(r->json, "entries")), 3);
    it_response_free(r);
}

static void
test_offline_listing_of_an_uncached_directory_answers_503(void **state)
{
    struct it_env *env = *state;
    seed_dir(env, "never");
    go_offline(env);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/never");
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
}

static void
test_share_root_that_disappears_takes_the_share_offline_and_back(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    seed(env, "ghost.txt", "g");
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s");
    it_response_free(r);
    char *moved = it_fmt("%s/away", env->root);
    assert_int_equal(rename(env->share_dir, moved), 0);
    /* The cached file is still served, from the cache, and the share is offline. */
    r = it_get(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, HELLO);
    assert_string_equal(it_resp_header(r, "X-Offline-Source"), "cache");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "state", "offline");
    IT_ASSERT_JSTR(r->json, "reason", "connectionError");
    assert_null(strstr(r->body, env->root));
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/ghost.txt");
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
    /* A write meanwhile is kept in the cache, and nothing is recreated on disk. */
    r = it_put(&env->d, "/api/v1/files/srv/s/a.txt", "while away", 10);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    assert_false(it_exists(env->share_dir));
    assert_int_equal(rename(moved, env->share_dir), 0);
    /* The share is probed again after a while and comes back. */
    const char *state_now = "";
    for (int i = 0; i < 50; i++) {
        r = it_get(&env->d, "/api/v1/connection/srv/s");
        state_now = json_is_string(it_jget(r->json, "state")) &&
                            strcmp(json_string_value(it_jget(r->json, "state")), "online") == 0
                        ? "online"
                        : "offline";
        it_response_free(r);
        if (strcmp(state_now, "online") == 0)
            break;
        struct timespec ts = {0, 200 * 1000L * 1000};
        nanosleep(&ts, NULL);
    }
    assert_string_equal(state_now, "online");
    /* Coming back starts a background sync, which pushes the write made while away. */
    char *got = NULL;
    for (int i = 0; i < 100; i++) {
        free(got);
        got = on_share(env, "a.txt");
        if (got && strcmp(got, "while away") == 0)
            break;
        struct timespec ts = {0, 100 * 1000L * 1000};
        nanosleep(&ts, NULL);
    }
    assert_non_null(got);
    assert_string_equal(got, "while away");
    free(got);
    free(moved);
}

/* ---- names, sizes, concurrency ---- */

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

static void
test_put_below_a_file_answers_409_not_a_directory(void **state)
{
    struct it_env *env = *state;
    seed(env, "a.txt", HELLO);
    struct it_response *r = it_put(&env->d, "/api/v1/files/srv/s/a.txt/child", "x", 1);
    IT_ASSERT_PROBLEM(r, 409, "not-a-directory");
    it_response_free(r);
    r = mkdir_req(env, "/api/v1/files/srv/s/a.txt/sub");
    IT_ASSERT_PROBLEM(r, 409, "not-a-directory");
    it_response_free(r);
    char *got = on_share(env, "a.txt");
    assert_string_equal(got, HELLO);
    free(got);
}

static void
test_delete_of_an_empty_directory_removes_it(void **state)
{
    struct it_env *env = *state;
    seed_dir(env, "empty");
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/empty");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    char path[PATH_MAX];
    it_share_file(env, "empty", path);
    assert_false(it_exists(path));
    /* Offline: an empty cached directory becomes a tombstone. */
    seed_dir(env, "e2");
    r = it_get(&env->d, "/api/v1/files/srv/s/e2");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    go_offline(env);
    r = it_delete(&env->d, "/api/v1/files/srv/s/e2");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    r = item(env, "e2");
    IT_ASSERT_JBOOL(r->json, "change.deletedOffline", 1);
    it_response_free(r);
    it_share_file(env, "e2", path);
    assert_true(it_exists(path));
}

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
        M(test_put_creates_a_file_on_the_share_with_201),
        M(test_put_answers_the_etag_that_a_read_then_sees),
        M(test_put_if_match_star_needs_an_existing_file),
        M(test_put_replaces_an_existing_file_with_200),
        M(test_put_with_a_stale_if_match_answers_412_and_changes_nothing),
        M(test_put_with_the_current_if_match_replaces_the_file),
        M(test_put_over_a_change_made_on_the_server_answers_412),
        M(test_put_if_none_match_star_only_creates),
        M(test_put_into_a_missing_directory_answers_409_parent_missing),
        M(test_put_onto_a_directory_answers_409_not_a_file),
        M(test_put_onto_the_share_root_is_refused),
        M(test_get_a_directory_lists_its_entries),
        M(test_post_directory_creates_it_on_the_share_with_201),
        M(test_post_directory_that_exists_answers_409_already_exists),
        M(test_post_directory_without_its_parent_answers_409_parent_missing),
        M(test_delete_removes_the_file_from_share_and_cache),
        M(test_delete_of_a_missing_file_answers_404),
        M(test_delete_of_a_non_empty_directory_answers_409),
        M(test_delete_with_a_stale_if_match_answers_412),
        M(test_manual_mode_plain_read_does_not_cache_content),
        A(test_auto_mode_read_caches_content_for_offline_use),
        A(test_auto_mode_read_sees_a_change_on_the_server),
        M(test_offline_read_of_uncached_content_answers_503_not_available_offline),
        M(test_no_caching_share_keeps_nothing_and_refuses_offline_writes),
        A(test_offline_write_marks_item_dirty),
        A(test_offline_write_with_a_stale_if_match_answers_412),
        M(test_offline_write_of_a_new_file_is_created_offline),
        M(test_online_read_of_a_dirty_file_serves_the_offline_change),
        A(test_offline_delete_leaves_a_deleted_offline_tombstone),
        M(test_offline_delete_of_a_file_created_offline_leaves_nothing),
        M(test_offline_mkdir_is_created_offline_and_takes_files),
        M(test_offline_listing_shows_cached_children_and_offline_changes),
        M(test_offline_listing_of_an_uncached_directory_answers_503),
        A(test_share_root_that_disappears_takes_the_share_offline_and_back),
        M(test_unicode_and_special_names_round_trip),
        M(test_empty_file_round_trips),
        M(test_put_below_a_file_answers_409_not_a_directory),
        M(test_delete_of_an_empty_directory_removes_it),
        A(test_parallel_online_writes_and_reads_stay_consistent),
        M(test_parallel_offline_writes_all_survive_a_restart),
    };
#undef M
#undef A
    return cmocka_run_group_tests(tests, NULL, NULL);
}
