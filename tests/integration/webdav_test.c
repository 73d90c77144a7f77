/* SPDX-License-Identifier: MIT */
/*
 * The daemon over real WebDAV shares (dav.h): every scenario runs twice,
 * against Apache mod_dav (which honours If-Match and gives strong and weak
 * etags) and against nginx with dav-ext (which ignores preconditions and
 * gives no etags at all). Listing, ranged reads, online writes, offline
 * writes synced out, server edits synced in, a write over a server change
 * (412, nothing overwritten), conflicts under ask and keepAll, two daemons
 * on one share, a server killed in the middle of a download, and basic
 * auth. Offline changes are made with the share forced offline; going
 * online starts a background pass, so tests wait for idle jobs before their
 * own sync and judge end states.
 */
#include "dav.h"
#include "harness.h"

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BASE "base version"
#define BIG_SIZE ((int64_t)20 * 1024 * 1024)
#define RIGHT_PW "s3cret-Right-pw"
#define WRONG_PW "wr0ng-Pw-xyz"
#define MANY 30 /* files edited offline in one directory: pushed as one batch */

struct wenv {
    int skip;
    struct it_dav dav;
    char *root; /* the daemons' temp tree */
    struct it_daemon d, d2;
};

static enum it_dav_kind kinds[IT_DAV__COUNT] = {IT_DAV_APACHE, IT_DAV_NGINX};

/* ---- fixture ---- */

static int
daemon_up(struct it_daemon *d, const char *root, const char *name)
{
    snprintf(d->data_dir, sizeof(d->data_dir), "%s/%s-data", root, name);
    snprintf(d->log_path, sizeof(d->log_path), "%s/%s.log", root, name);
    return it_daemon_start(d);
}

/* POST /api/v1/shares for //srv/SHARE over url; user set: basic auth. Returns the status. */
static long
dav_share_add(const struct it_daemon *d, const char *share, const char *url, const char *user,
              const char *password)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "server", "srv", "share", share, "remote", url,
                             "cachingMode", "auto");
    if (user)
        json_object_set_new(
            body, "auth",
            json_pack("{s:s, s:s, s:s}", "type", "basic", "username", user, "password", password));
    char *text = json_dumps(body, JSON_COMPACT);
    struct it_response *r = it_json_req(d, "POST", "/api/v1/shares", text);
    long st = r->status;
    if (st != 201)
        fprintf(stderr, "webdav_test: adding //srv/%s answered %ld: %s\n", share, st, r->body);
    it_response_free(r);
    free(text);
    json_decref(body);
    return st;
}

/* Stop the daemons (each must exit 0: under ASan that means no leak) and the server; 0 or -1. */
static int
wenv_free(struct wenv *w)
{
    int rc = 0;
    if (!w)
        return 0;
    if (w->d.pid > 0 && it_daemon_stop(&w->d) != 0) {
        fprintf(stderr, "webdav_test: the daemon did not exit 0 on SIGTERM\n");
        rc = -1;
    }
    if (w->d2.pid > 0 && it_daemon_stop(&w->d2) != 0) {
        fprintf(stderr, "webdav_test: the second daemon did not exit 0 on SIGTERM\n");
        rc = -1;
    }
    it_dav_free(&w->dav);
    if (w->root && !getenv("OF_IT_KEEP"))
        it_rmrf(w->root);
    free(w->root);
    free(w);
    return rc;
}

/* A DAV server of kind (with auth when user is set) and a daemon; share //srv/s added unless auth.
 */
static struct wenv *
wenv_new(enum it_dav_kind kind, const char *user, const char *password)
{
    struct wenv *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    if (!it_dav_available(kind)) {
        w->skip = 1;
        return w;
    }
    w->dav.user = user;
    w->dav.password = password;
    w->root = it_tmpdir(it_dav_name(kind));
    if (!w->root || it_dav_start(&w->dav, kind, it_dav_name(kind)) < 0 ||
        daemon_up(&w->d, w->root, "d1") < 0 ||
        (!user && dav_share_add(&w->d, "s", w->dav.url, NULL, NULL) != 201)) {
        wenv_free(w);
        return NULL;
    }
    return w;
}

static int
setup(void **state)
{
    const enum it_dav_kind *kind = *state;
    *state = wenv_new(*kind, NULL, NULL);
    return *state ? 0 : -1;
}

static int
setup_auth(void **state)
{
    const enum it_dav_kind *kind = *state;
    *state = wenv_new(*kind, "u", RIGHT_PW);
    return *state ? 0 : -1;
}

static int
teardown(void **state)
{
    struct wenv *w = *state;
    int ok = !w || w->skip || (it_daemon_alive(&w->d) && (!w->d2.pid || it_daemon_alive(&w->d2)));
    if (!ok)
        fprintf(stderr, "webdav_test: a daemon died during the test\n");
    if (wenv_free(w) < 0)
        ok = 0;
    *state = NULL;
    return ok ? 0 : -1;
}

static struct wenv *
env_of(void **state)
{
    struct wenv *w = *state;
    if (w->skip)
        skip();
    return w;
}

/* ---- helpers ---- */

/* "/api/v1/files/srv/SHARE/" + rel with each segment %-encoded (malloc'ed). */
static char *
fpath(const char *share, const char *rel)
{
    char *out = it_fmt("/api/v1/files/srv/%s", share);
    char *copy = it_fmt("%s", rel);
    for (char *seg = copy, *next; seg && *seg; seg = next) {
        next = strchr(seg, '/');
        if (next)
            *next++ = '\0';
        char *enc = it_urlencode(seg);
        char *joined = it_fmt("%s/%s", out, enc);
        free(out);
        free(enc);
        out = joined;
    }
    free(copy);
    return out;
}

static void
seed(const struct wenv *w, const char *rel, const char *text)
{
    assert_int_equal(it_dav_put_file(&w->dav, rel, text, strlen(text)), 0);
}

static void
assert_on_server(const struct wenv *w, const char *rel, const char *want, const char *file,
                 int line)
{
    char *got = it_dav_read_file(&w->dav, rel, NULL);
    int bad = (want == NULL) != (got == NULL) || (want && strcmp(got, want) != 0);
    if (bad)
        print_error("the server's '%s' is %s%s%s, expected %s%s%s\n", rel, got ? "\"" : "",
                    got ? got : "absent", got ? "\"" : "", want ? "\"" : "", want ? want : "absent",
                    want ? "\"" : "");
    free(got);
    if (bad)
        _fail(file, line);
}
#define ASSERT_ON_SERVER(w, rel, want) assert_on_server((w), (rel), (want), __FILE__, __LINE__)

static struct it_response *
get_file(const struct it_daemon *d, const char *rel, const char *header)
{
    char *path = fpath("s", rel);
    struct it_request rq = {.path = path, .headers = {header}};
    struct it_response *r = it_http(d, &rq);
    free(path);
    return r;
}

static struct it_response *
put_file(const struct it_daemon *d, const char *rel, const char *text, const char *header)
{
    char *path = fpath("s", rel);
    struct it_request rq = {.method = "PUT",
                            .path = path,
                            .headers = {header},
                            .content_type = "application/octet-stream",
                            .body = text,
                            .body_len = strlen(text)};
    struct it_response *r = it_http(d, &rq);
    free(path);
    return r;
}

/* GET rel answers 200 with exactly want (and, auto caching, caches it). */
static void
assert_read(const struct it_daemon *d, const char *rel, const char *want, const char *file,
            int line)
{
    struct it_response *r = get_file(d, rel, NULL);
    it_assert_status(r, 200, file, line);
    if (r->body_len != strlen(want) || memcmp(r->body, want, r->body_len) != 0) {
        print_error("GET '%s' gave \"%.200s\", expected \"%s\"\n", rel, r->body, want);
        it_response_free(r);
        _fail(file, line);
    }
    it_response_free(r);
}
#define ASSERT_READ(d, rel, want) assert_read((d), (rel), (want), __FILE__, __LINE__)

static void
put_ok(const struct it_daemon *d, const char *rel, const char *text, int offline)
{
    struct it_response *r = put_file(d, rel, text, NULL);
    if (r->status != 200 && r->status != 201) {
        it_show_response(r);
        fail_msg("PUT '%s' answered %ld", rel, r->status);
    }
    IT_ASSERT_JBOOL(r->json, "storedOffline", offline);
    it_response_free(r);
}

static size_t
job_count(const struct it_daemon *d)
{
    struct it_response *r = it_get(d, "/api/v1/jobs?limit=1000");
    IT_ASSERT_STATUS(r, 200);
    size_t n = json_array_size(it_jget(r->json, "jobs"));
    it_response_free(r);
    return n;
}

/*
 * Force the share offline, or bring it online and let the background pass
 * that this starts (asynchronously) run to its end, so that it never runs
 * beside a test's own sync.
 */
static void
set_online(const struct it_daemon *d, int online)
{
    size_t before = online ? job_count(d) : 0;
    assert_int_equal(it_share_set_online(d, "srv", "s", online), 200);
    if (!online)
        return;
    for (int i = 0; i < 250 && job_count(d) == before; i++) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(it_jobs_idle(d, 60), 0);
}

static json_t *
result_of(struct it_response *job, const char *rel)
{
    char *path = it_fmt("//srv/s/%s", rel);
    json_t *res = it_jfind_path(job->json, "results", path);
    free(path);
    return res;
}

static struct it_response *
sync_ok(const struct it_daemon *d, const char *policy)
{
    struct it_response *r = it_sync(d, "//srv/s", policy, NULL);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    return r;
}

static size_t
conflict_count(const struct it_daemon *d)
{
    struct it_response *r = it_get(d, "/api/v1/conflicts?under=//srv/s");
    IT_ASSERT_STATUS(r, 200);
    size_t n = json_array_size(it_jget(r->json, "conflicts"));
    it_response_free(r);
    return n;
}

/* The one served name starting with prefix (malloc'ed), NULL if not exactly one. */
static char *
served_name(const struct wenv *w, const char *prefix)
{
    DIR *dir = opendir(w->dav.dir);
    assert_non_null(dir);
    char *found = NULL;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
            free(found);
            found = strdup(de->d_name);
            n++;
        }
    }
    closedir(dir);
    if (n != 1) {
        free(found);
        return NULL;
    }
    return found;
}

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
    struct wenv *w = env_of(state);
    seed(w, "a.txt", "hello webdav world");
    seed(w, "sub dir/b \xc3\xa9%.txt", "inner");
    seed(w, ".hidden", "h");
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
    char *sub = fpath("s", "sub dir");
    r = it_get(&w->d, "%s", sub);
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(it_jget(r->json, "entries")), 1);
    IT_ASSERT_JINT(entry_named(r->json, "b \xc3\xa9%.txt"), "size", 5);
    it_response_free(r);
    free(sub);
    ASSERT_READ(&w->d, "a.txt", "hello webdav world");
    ASSERT_READ(&w->d, "sub dir/b \xc3\xa9%.txt", "inner");
    r = get_file(&w->d, "a.txt", "Range: bytes=6-11");
    IT_ASSERT_STATUS(r, 206);
    assert_string_equal(r->body, "webdav");
    assert_string_equal(it_resp_header(r, "Content-Range"), "bytes 6-11/18");
    it_response_free(r);
    r = get_file(&w->d, "missing.txt", NULL);
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    /* A dot file is hidden, a collection a directory; both as the server lists them. */
    ASSERT_READ(&w->d, ".hidden", "h");
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
    struct wenv *w = env_of(state);
    put_ok(&w->d, "new.txt", "fresh", 0);
    ASSERT_ON_SERVER(w, "new.txt", "fresh");
    struct it_response *r =
        it_json_req(&w->d, "POST", "/api/v1/files/srv/s/newdir", "{\"type\":\"directory\"}");
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    char path[PATH_MAX];
    struct stat sb;
    it_dav_path(&w->dav, "newdir", path);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    put_ok(&w->d, "newdir/in side.txt", "inside", 0);
    ASSERT_ON_SERVER(w, "newdir/in side.txt", "inside");
    seed(w, "a.txt", BASE);
    ASSERT_READ(&w->d, "a.txt", BASE);
    put_ok(&w->d, "a.txt", "replaced online", 0);
    ASSERT_ON_SERVER(w, "a.txt", "replaced online");
    /* And again right away: Apache's tag is weak for a second, which must not look like a change.
     */
    put_ok(&w->d, "a.txt", "replaced again", 0);
    ASSERT_ON_SERVER(w, "a.txt", "replaced again");
    r = it_delete(&w->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    ASSERT_ON_SERVER(w, "a.txt", NULL);
}

static void
test_offline_writes_sync_out(void **state)
{
    struct wenv *w = env_of(state);
    seed(w, "a.txt", BASE);
    ASSERT_READ(&w->d, "a.txt", BASE);
    set_online(&w->d, 0);
    put_ok(&w->d, "a.txt", "edited offline", 1);
    put_ok(&w->d, "new.txt", "made offline", 1);
    ASSERT_ON_SERVER(w, "a.txt", BASE);
    ASSERT_ON_SERVER(w, "new.txt", NULL);
    set_online(&w->d, 1);
    it_response_free(sync_ok(&w->d, NULL));
    ASSERT_ON_SERVER(w, "a.txt", "edited offline");
    ASSERT_ON_SERVER(w, "new.txt", "made offline");
    struct it_response *r = it_get(&w->d, "/api/v1/items/srv/s/a.txt");
    IT_ASSERT_JBOOL(r->json, "change.dirty", 0);
    it_response_free(r);
    assert_int_equal(conflict_count(&w->d), 0);
}

/* The MANY files many/fNN.txt on the server and in the cache, then edited offline. */
static void
many_edited_offline(struct wenv *w)
{
    char rel[32], text[96];
    for (int i = 0; i < MANY; i++) {
        snprintf(rel, sizeof(rel), "many/f%02d.txt", i);
        seed(w, rel, BASE);
        ASSERT_READ(&w->d, rel, BASE);
    }
    set_online(&w->d, 0);
    for (int i = 0; i < MANY; i++) {
        snprintf(rel, sizeof(rel), "many/f%02d.txt", i);
        snprintf(text, sizeof(text), "edited offline %d %.*s", i, i,
                 "................................");
        put_ok(&w->d, rel, text, 1);
    }
}

/*
 * Pushes into one directory learn their new versions from one listing of
 * it: the versions must be the server's own, or the next sync would fetch
 * every file again (or call it a conflict).
 */
static void
test_many_offline_writes_sync_out_and_the_next_sync_moves_nothing(void **state)
{
    struct wenv *w = env_of(state);
    many_edited_offline(w);
    set_online(&w->d, 1);
    struct it_response *r = sync_ok(&w->d, NULL);
    char rel[32], text[96];
    for (int i = 0; i < MANY; i++) {
        snprintf(rel, sizeof(rel), "many/f%02d.txt", i);
        snprintf(text, sizeof(text), "edited offline %d %.*s", i, i,
                 "................................");
        ASSERT_ON_SERVER(w, rel, text);
        if (result_of(r, rel))
            fail_msg("the sync after the push still did something to '%s':\n%s", rel, r->body);
    }
    it_response_free(r);
    assert_int_equal(conflict_count(&w->d), 0);
}

struct rewriter {
    const struct wenv *w;
    int fd; /* inotify on the served many/ */
    volatile int stop, fired;
};

/* The moment the server has written many/f00.txt, another writer replaces it. */
static void *
rewrite_after_put(void *arg)
{
    struct rewriter *rw = arg;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (!rw->stop && !rw->fired) {
        struct pollfd p = {.fd = rw->fd, .events = POLLIN};
        ssize_t n = poll(&p, 1, 50) == 1 ? read(rw->fd, buf, sizeof(buf)) : 0;
        for (char *at = buf; n > 0 && at < buf + n && !rw->fired;) {
            const struct inotify_event *ev = (const struct inotify_event *)at;
            if (ev->len && strcmp(ev->name, "f00.txt") == 0) {
                static const char theirs[] = "another writer's version, longer than ours";
                rw->fired =
                    it_dav_put_file(&rw->w->dav, "many/f00.txt", theirs, sizeof(theirs) - 1) == 0;
            }
            at += sizeof(*ev) + ev->len;
        }
    }
    return NULL;
}

/*
 * Another writer replaces a file right after our PUT, before the listing
 * that names the batch's versions: its version must not be taken for ours
 * (a later push would overwrite it unseen); it is a conflict, both kept.
 */
static void
test_a_change_between_a_put_and_its_listing_is_a_conflict(void **state)
{
    struct wenv *w = env_of(state);
    many_edited_offline(w);
    char dir[PATH_MAX];
    it_dav_path(&w->dav, "many", dir);
    struct rewriter rw = {.w = w, .fd = inotify_init1(IN_NONBLOCK)};
    assert_true(rw.fd >= 0);
    assert_true(inotify_add_watch(rw.fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE) >= 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, rewrite_after_put, &rw), 0);
    set_online(&w->d, 1);
    rw.stop = 1;
    pthread_join(t, NULL);
    close(rw.fd);
    assert_true(rw.fired);
    ASSERT_ON_SERVER(w, "many/f00.txt", "another writer's version, longer than ours");
    ASSERT_ON_SERVER(w, "many/f01.txt", "edited offline 1 .");
    assert_int_equal(conflict_count(&w->d), 1);
    struct it_response *r = it_get(&w->d, "/api/v1/items/srv/s/many/f00.txt");
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    it_response_free(r);
    set_online(&w->d, 0);
    ASSERT_READ(&w->d, "many/f00.txt", "edited offline 0 ");
}

static void
test_server_edits_sync_in(void **state)
{
    struct wenv *w = env_of(state);
    seed(w, "a.txt", BASE);
    ASSERT_READ(&w->d, "a.txt", BASE);
    seed(w, "a.txt", "the server's new version");
    struct it_response *r = sync_ok(&w->d, NULL);
    IT_ASSERT_JSTR(result_of(r, "a.txt"), "operation", "syncToClient");
    it_response_free(r);
    set_online(&w->d, 0);
    r = get_file(&w->d, "a.txt", NULL);
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "the server's new version");
    assert_string_equal(it_resp_header(r, "X-Offline-Source"), "cache");
    it_response_free(r);
}

static void
test_a_write_over_a_server_change_answers_412_and_overwrites_nothing(void **state)
{
    struct wenv *w = env_of(state);
    seed(w, "a.txt", BASE);
    struct it_response *r = get_file(&w->d, "a.txt", NULL);
    IT_ASSERT_STATUS(r, 200);
    char *etag = it_fmt("If-Match: %s", it_resp_header(r, "ETag"));
    it_response_free(r);
    seed(w, "a.txt", "changed on the server");
    r = put_file(&w->d, "a.txt", "mine", NULL);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    r = put_file(&w->d, "a.txt", "mine", etag);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    ASSERT_ON_SERVER(w, "a.txt", "changed on the server");
    /* A create-only write over a file that appeared on the server is refused as well. */
    seed(w, "b.txt", "made on the server");
    r = put_file(&w->d, "b.txt", "mine", "If-None-Match: *");
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    ASSERT_ON_SERVER(w, "b.txt", "made on the server");
    free(etag);
}

static void
test_both_changed_ask_records_and_keep_all_keeps_both(void **state)
{
    struct wenv *w = env_of(state);
    seed(w, "a.txt", BASE);
    ASSERT_READ(&w->d, "a.txt", BASE);
    set_online(&w->d, 0);
    put_ok(&w->d, "a.txt", "local edit", 1);
    seed(w, "a.txt", "remote edit, longer");
    set_online(&w->d, 1);
    struct it_response *r = sync_ok(&w->d, "ask");
    IT_ASSERT_JSTR(result_of(r, "a.txt"), "result", "conflict");
    IT_ASSERT_JSTR(result_of(r, "a.txt"), "syncState", "FileChangedOnClient_ChangedOnServer");
    it_response_free(r);
    assert_int_equal(conflict_count(&w->d), 1);
    ASSERT_ON_SERVER(w, "a.txt", "remote edit, longer");
    r = sync_ok(&w->d, "keepAll");
    IT_ASSERT_JSTR(result_of(r, "a.txt"), "operation", "keepAll");
    it_response_free(r);
    ASSERT_ON_SERVER(w, "a.txt", "remote edit, longer");
    char *kept = served_name(w, "a (conflict ");
    assert_non_null(kept);
    ASSERT_ON_SERVER(w, kept, "local edit");
    assert_int_equal(conflict_count(&w->d), 0);
    free(kept);
}

static void
test_two_daemons_on_one_share_catch_the_conflict_and_keep_both(void **state)
{
    struct wenv *w = env_of(state);
    assert_int_equal(daemon_up(&w->d2, w->root, "d2"), 0);
    assert_int_equal(dav_share_add(&w->d2, "s", w->dav.url, NULL, NULL), 201);
    seed(w, "a.txt", BASE);
    ASSERT_READ(&w->d, "a.txt", BASE);
    ASSERT_READ(&w->d2, "a.txt", BASE);
    /* Online: the second writer's cached version is stale, and the server says so. */
    put_ok(&w->d, "a.txt", "one", 0);
    struct it_response *r = put_file(&w->d2, "a.txt", "two!", NULL);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    ASSERT_ON_SERVER(w, "a.txt", "one");
    /* Offline on both, then each syncs: the second finds the first's version and keeps both. */
    ASSERT_READ(&w->d2, "a.txt", "one");
    set_online(&w->d, 0);
    set_online(&w->d2, 0);
    put_ok(&w->d, "a.txt", "version one", 1);
    put_ok(&w->d2, "a.txt", "version two, longer", 1);
    set_online(&w->d, 1);
    it_response_free(sync_ok(&w->d, NULL));
    ASSERT_ON_SERVER(w, "a.txt", "version one");
    set_online(&w->d2, 1);
    r = sync_ok(&w->d2, "keepAll");
    it_response_free(r);
    ASSERT_ON_SERVER(w, "a.txt", "version one");
    char *kept = served_name(w, "a (conflict ");
    assert_non_null(kept);
    ASSERT_ON_SERVER(w, kept, "version two, longer");
    free(kept);
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
    struct wenv *w = env_of(state);
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
    char *path = fpath("s", "big.bin");
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
    r = get_file(&w->d, "big.bin", NULL);
    IT_ASSERT_PROBLEM(r, 503, "not-available-offline");
    it_response_free(r);
    /* The server is back: the whole file, right, and cached from then on. */
    w->dav.rate_kib = 0;
    assert_int_equal(it_dav_restart(&w->dav), 0);
    set_online(&w->d, 1);
    struct it_request rq = {.path = path, .timeout_s = 60, .save_to = saved};
    r = it_http(&w->d, &rq);
    IT_ASSERT_STATUS(r, 200);
    assert_true(is_pattern(saved, BIG_SIZE));
    it_response_free(r);
    set_online(&w->d, 0);
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
    struct wenv *w = env_of(state);
    assert_int_equal(dav_share_add(&w->d, "s", w->dav.url, "u", RIGHT_PW), 201);
    struct it_response *r = it_get(&w->d, "/api/v1/connection/srv/s");
    IT_ASSERT_JSTR(r->json, "state", "online");
    it_response_free(r);
    seed(w, "a.txt", BASE);
    ASSERT_READ(&w->d, "a.txt", BASE);
    put_ok(&w->d, "b.txt", "written with auth", 0);
    ASSERT_ON_SERVER(w, "b.txt", "written with auth");
    /* The wrong password: the share is added, offline, and says why. */
    long st = dav_share_add(&w->d, "bad", w->dav.url, "u", WRONG_PW);
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
    assert_int_equal(dav_share_add(&w->d, "none", w->dav.url, NULL, NULL), 201);
    r = it_get(&w->d, "/api/v1/connection/srv/none");
    IT_ASSERT_JSTR(r->json, "state", "offline");
    assert_non_null(strstr(json_string_value(it_jget(r->json, "lastError")), "credentials"));
    it_response_free(r);
    /* No secret in the share listing or the daemon's log. */
    r = it_get(&w->d, "/api/v1/shares");
    IT_ASSERT_STATUS(r, 200);
    assert_null(strstr(r->body, RIGHT_PW));
    assert_null(strstr(r->body, WRONG_PW));
    it_response_free(r);
    char *log = it_read_file(w->d.log_path, NULL);
    assert_non_null(log);
    assert_null(strstr(log, RIGHT_PW));
    assert_null(strstr(log, WRONG_PW));
    free(log);
}

/* Each scenario once per server, named after it. */
#define BOTH(f, set)                                                                               \
    {#f " (apache)", f, set, teardown, &kinds[IT_DAV_APACHE]},                                     \
    {                                                                                              \
#f " (nginx)", f, set, teardown, &kinds[IT_DAV_NGINX]                                      \
    }

int
main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        BOTH(test_lists_and_reads_files_with_ranges, setup),
        BOTH(test_online_writes_reach_the_server, setup),
        BOTH(test_offline_writes_sync_out, setup),
        BOTH(test_many_offline_writes_sync_out_and_the_next_sync_moves_nothing, setup),
        BOTH(test_a_change_between_a_put_and_its_listing_is_a_conflict, setup),
        BOTH(test_server_edits_sync_in, setup),
        BOTH(test_a_write_over_a_server_change_answers_412_and_overwrites_nothing, setup),
        BOTH(test_both_changed_ask_records_and_keep_all_keeps_both, setup),
        BOTH(test_two_daemons_on_one_share_catch_the_conflict_and_keep_both, setup),
        BOTH(test_a_server_killed_mid_download_leaves_no_torn_file, setup),
        BOTH(test_basic_auth_works_and_a_wrong_password_is_never_logged, setup_auth),
    };
    return cmocka_run_group_tests_name("webdav", tests, NULL, NULL);
}
