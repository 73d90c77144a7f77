/* SPDX-License-Identifier: MIT */
/*
 * The daemon reading and writing real WebDAV shares (webdav_util.h): every
 * scenario runs twice, against Apache mod_dav (which honours If-Match and
 * gives strong and weak etags) and against nginx with dav-ext (which
 * ignores preconditions and gives no etags at all). Listing, ranged reads,
 * online writes, a write over a server change (412, nothing overwritten), a
 * server killed in the middle of a download, and basic auth. (Offline
 * changes, syncs, conflicts and two daemons on one share are in
 * webdav_sync_test.c.)
 */
#include "webdav_util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define BIG_SIZE ((int64_t)20 * 1024 * 1024)
#define WRONG_PW "wr0ng-Pw-xyz"

/* ---- helpers ---- */

static json_t *
entry_named(json_t *listing, const char *name)
{
    json_t *arr = it_jget(listing, "entries"), *el;
    size_t i;
    json_array_foreach(arr, i, el)
    {
        const char *n = json_string_value(json_object_get(el, "name"));
        if (n && strcmp(n, name) == 0)
            return el;
    }
    return NULL;
}

/* ---- scenarios ---- */

static void
test_lists_and_reads_files_with_ranges(void **state)
{
    struct wd_env *w = wd_env_of(state);
    wd_seed(w, "a.txt", "hello webdav world");
    wd_seed(w, "sub dir/b \xc3\xa9%.txt", "inner");
    wd_seed(w, ".hidden", "h");
    struct it_response *r = it_get(&w->d, "/api/v1/files/srv/s");
    IT_ASSERT_STATUS(r, 200);
    /* nginx's dav-ext leaves dot files out of its listings. */
    int dotfiles = w->dav.kind != IT_DAV_NGINX;
    assert_int_equal(json_array_size(it_jget(r->json, "entries")), 2 + dotfiles);
    IT_ASSERT_JSTR(entry_named(r->json, "a.txt"), "type", "file");
    IT_ASSERT_JINT(entry_named(r->json, "a.txt"), "size", 18);
    IT_ASSERT_JSTR(entry_named(r->json, "sub dir"), "type", "directory");
    if (dotfiles)
        IT_ASSERT_JSTR(entry_named(r->json, ".hidden"), "type", "file");
    it_response_free(r);
    char *sub = wd_fpath("s", "sub dir");
    r = it_get(&w->d, "%s", sub);
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(it_jget(r->json, "entries")), 1);
    IT_ASSERT_JINT(entry_named(r->json, "b \xc3\xa9%.txt"), "size", 5);
    it_response_free(r);
    free(sub);
    WD_ASSERT_READ(&w->d, "a.txt", "hello webdav world");
    WD_ASSERT_READ(&w->d, "sub dir/b \xc3\xa9%.txt", "inner");
    r = wd_get_file(&w->d, "a.txt", "Range: bytes=6-11");
    IT_ASSERT_STATUS(r, 206);
    assert_string_equal(r->body, "webdav");
    assert_string_equal(it_resp_header(r, "Content-Range"), "bytes 6-11/18");
    it_response_free(r);
    r = wd_get_file(&w->d, "missing.txt", NULL);
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    /* A dot file is hidden, a collection a directory; both as the server lists them. */
    WD_ASSERT_READ(&w->d, ".hidden", "h");
    r = it_get(&w->d, "/api/v1/items/srv/s/.hidden");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "remote.attributes.0", "hidden");
    it_response_free(r);
    r = it_get(&w->d, "/api/v1/items/srv/s/sub%%20dir");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "type", "directory");
    it_response_free(r);
}

static void
test_online_writes_reach_the_server(void **state)
{
    struct wd_env *w = wd_env_of(state);
    wd_put_ok(&w->d, "new.txt", "fresh", 0);
    WD_ASSERT_ON_SERVER(w, "new.txt", "fresh");
    struct it_response *r =
        it_json_req(&w->d, "POST", "/api/v1/files/srv/s/newdir", "{\"type\":\"directory\"}");
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    char path[PATH_MAX];
    struct stat sb;
    it_dav_path(&w->dav, "newdir", path);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    wd_put_ok(&w->d, "newdir/in side.txt", "inside", 0);
    WD_ASSERT_ON_SERVER(w, "newdir/in side.txt", "inside");
    wd_seed(w, "a.txt", WD_BASE);
    WD_ASSERT_READ(&w->d, "a.txt", WD_BASE);
    wd_put_ok(&w->d, "a.txt", "replaced online", 0);
    WD_ASSERT_ON_SERVER(w, "a.txt", "replaced online");
    /* And again right away: Apache's tag is weak for a second, which must not look like a change.
     */
    wd_put_ok(&w->d, "a.txt", "replaced again", 0);
    WD_ASSERT_ON_SERVER(w, "a.txt", "replaced again");
    r = it_delete(&w->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    WD_ASSERT_ON_SERVER(w, "a.txt", NULL);
}

static void
test_a_write_over_a_server_change_answers_412_and_overwrites_nothing(void **state)
{
    struct wd_env *w = wd_env_of(state);
    wd_seed(w, "a.txt", WD_BASE);
    struct it_response *r = wd_get_file(&w->d, "a.txt", NULL);
    IT_ASSERT_STATUS(r, 200);
    char *etag = it_fmt("If-Match: %s", it_resp_header(r, "ETag"));
    it_response_free(r);
    wd_seed(w, "a.txt", "changed on the server");
    r = wd_put_file(&w->d, "a.txt", "mine", NULL);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    r = wd_put_file(&w->d, "a.txt", "mine", etag);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    WD_ASSERT_ON_SERVER(w, "a.txt", "changed on the server");
    /* A create-only write over a file that appeared on the server is refused as well. */
    wd_seed(w, "b.txt", "made on the server");
    r = wd_put_file(&w->d, "b.txt", "mine", "If-None-Match: *");
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    WD_ASSERT_ON_SERVER(w, "b.txt", "made on the server");
    free(etag);
}

struct killer {
    struct it_dav *dav;
    long after_ms;
};

static void *
kill_later(void *arg)
{
    struct killer *k = arg;
    struct timespec ts = {k->after_ms / 1000, (k->after_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    it_dav_kill(k->dav);
    return NULL;
}

/* The file at path holds the generated pattern of it_gen_byte, size bytes of it. */
static int
is_pattern(const char *path, int64_t size)
{
    size_t len = 0;
    char *data = it_read_file(path, &len);
    int ok = data && (int64_t)len == size;
    for (int64_t i = 0; ok && i < size; i++)
        ok = (unsigned char)data[i] == it_gen_byte(i);
    free(data);
    return ok;
}

static void
test_a_server_killed_mid_download_leaves_no_torn_file(void **state)
{
    struct wd_env *w = wd_env_of(state);
    unsigned char *big = malloc((size_t)BIG_SIZE);
    assert_non_null(big);
    for (int64_t i = 0; i < BIG_SIZE; i++)
        big[i] = it_gen_byte(i);
    assert_int_equal(it_dav_put_file(&w->dav, "big.bin", big, (size_t)BIG_SIZE), 0);
    free(big);
    /* 20 MiB at 4 MiB/s: the server dies about a fifth of the way in. */
    w->dav.rate_kib = 4096;
    assert_int_equal(it_dav_restart(&w->dav), 0);
    struct killer k = {&w->dav, 1000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, kill_later, &k), 0);
    char *saved = it_fmt("%s/big.out", w->root);
    char *path = wd_fpath("s", "big.bin");
    struct it_request first = {.path = path, .timeout_s = 60};
    struct it_response *r = it_http(&w->d, &first);
    pthread_join(t, NULL);
    /* The daemon fetches before it answers: the client learns the share just went away. */
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
    r = it_get(&w->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "state", "offline");
    IT_ASSERT_JSTR(r->json, "reason", "connectionError");
    it_response_free(r);
    /* Nothing of it is served from the cache. */
    r = wd_get_file(&w->d, "big.bin", NULL);
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
    /* The server is back: the whole file, right, and cached from then on. */
    w->dav.rate_kib = 0;
    assert_int_equal(it_dav_restart(&w->dav), 0);
    wd_set_online(&w->d, 1);
    struct it_request rq = {.path = path, .timeout_s = 60, .save_to = saved};
    r = it_http(&w->d, &rq);
    IT_ASSERT_STATUS(r, 200);
    assert_true(is_pattern(saved, BIG_SIZE));
    it_response_free(r);
    wd_set_online(&w->d, 0);
    r = it_http(&w->d, &rq);
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(it_resp_header(r, "X-Offline-Source"), "cache");
    assert_true(is_pattern(saved, BIG_SIZE));
    it_response_free(r);
    free(path);
    free(saved);
}

static void
test_basic_auth_works_and_a_wrong_password_is_never_logged(void **state)
{
    struct wd_env *w = wd_env_of(state);
    assert_int_equal(wd_share_add(&w->d, "s", w->dav.url, "u", WD_RIGHT_PW), 201);
    struct it_response *r = it_get(&w->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "state", "online");
    it_response_free(r);
    wd_seed(w, "a.txt", WD_BASE);
    WD_ASSERT_READ(&w->d, "a.txt", WD_BASE);
    wd_put_ok(&w->d, "b.txt", "written with auth", 0);
    WD_ASSERT_ON_SERVER(w, "b.txt", "written with auth");
    /* The wrong password: the share is added, offline, and says why. */
    long st = wd_share_add(&w->d, "bad", w->dav.url, "u", WRONG_PW);
    if (st == 201) {
        r = it_get(&w->d, "/api/v1/connection/srv/bad");
        IT_ASSERT_JSTR(r->json, "state", "offline");
        IT_ASSERT_JSTR(r->json, "reason", "connectionError");
        const char *why = json_string_value(it_jget(r->json, "lastError"));
        assert_non_null(why);
        assert_non_null(strstr(why, "refused the credentials"));
        it_response_free(r);
        r = it_get(&w->d, "/api/v1/files/srv/bad/a.txt");
        IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
        it_response_free(r);
    } else {
        assert_int_equal(st, 503);
    }
    /* No credentials at all: offline too, with its own reason. */
    assert_int_equal(wd_share_add(&w->d, "none", w->dav.url, NULL, NULL), 201);
    r = it_get(&w->d, "/api/v1/connection/srv/none");
    IT_ASSERT_JSTR(r->json, "state", "offline");
    assert_non_null(strstr(json_string_value(it_jget(r->json, "lastError")), "credentials"));
    it_response_free(r);
    /* No secret in the share listing or the daemon's log. */
    r = it_get(&w->d, "/api/v1/shares");
    IT_ASSERT_STATUS(r, 200);
    assert_null(strstr(r->body, WD_RIGHT_PW));
    assert_null(strstr(r->body, WRONG_PW));
    it_response_free(r);
    char *log = it_read_file(w->d.log_path, NULL);
    assert_non_null(log);
    assert_null(strstr(log, WD_RIGHT_PW));
    assert_null(strstr(log, WRONG_PW));
    free(log);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        WD_BOTH(test_lists_and_reads_files_with_ranges, wd_setup),
        WD_BOTH(test_online_writes_reach_the_server, wd_setup),
        WD_BOTH(test_a_write_over_a_server_change_answers_412_and_overwrites_nothing, wd_setup),
        WD_BOTH(test_a_server_killed_mid_download_leaves_no_torn_file, wd_setup),
        WD_BOTH(test_basic_auth_works_and_a_wrong_password_is_never_logged, wd_setup_auth),
    };
    return cmocka_run_group_tests_name("webdav_files", tests, NULL, NULL);
}
