/* SPDX-License-Identifier: MIT */
/*
 * Syncs of real WebDAV shares (webdav_util.h): every scenario runs twice,
 * against Apache mod_dav (which honours If-Match and gives strong and weak
 * etags) and against nginx with dav-ext (which ignores preconditions and
 * gives no etags at all). Offline writes synced out (many at once, and one
 * replaced by another writer between the push and its listing), server
 * edits synced in, conflicts under ask and keepAll, and two daemons on one
 * share. Offline changes are made with the share forced offline; going
 * online starts a background pass, so tests wait for idle jobs before their
 * own sync and judge end states. (Reads, online writes, a killed server and
 * auth are in webdav_files_test.c.)
 */
#include "webdav_util.h"

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/inotify.h>
#include <unistd.h>

#define MANY 30 /* files edited offline in one directory: pushed as one batch */

/* ---- helpers ---- */

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
served_name(const struct wd_env *w, const char *prefix)
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

/* ---- scenarios ---- */

static void
test_offline_writes_sync_out(void **state)
{
    struct wd_env *w = wd_env_of(state);
    wd_seed(w, "a.txt", WD_BASE);
    WD_ASSERT_READ(&w->d, "a.txt", WD_BASE);
    wd_set_online(&w->d, 0);
    wd_put_ok(&w->d, "a.txt", "edited offline", 1);
    wd_put_ok(&w->d, "new.txt", "made offline", 1);
    WD_ASSERT_ON_SERVER(w, "a.txt", WD_BASE);
    WD_ASSERT_ON_SERVER(w, "new.txt", NULL);
    wd_set_online(&w->d, 1);
    it_response_free(sync_ok(&w->d, NULL));
    WD_ASSERT_ON_SERVER(w, "a.txt", "edited offline");
    WD_ASSERT_ON_SERVER(w, "new.txt", "made offline");
    struct it_response *r = it_get(&w->d, "/api/v1/items/srv/s/a.txt");
    IT_ASSERT_JBOOL(r->json, "change.dirty", 0);
    it_response_free(r);
    assert_int_equal(conflict_count(&w->d), 0);
}

/* The MANY files many/fNN.txt on the server and in the cache, then edited offline. */
static void
many_edited_offline(struct wd_env *w)
{
    char rel[32], text[96];
    for (int i = 0; i < MANY; i++) {
        snprintf(rel, sizeof(rel), "many/f%02d.txt", i);
        wd_seed(w, rel, WD_BASE);
        WD_ASSERT_READ(&w->d, rel, WD_BASE);
    }
    wd_set_online(&w->d, 0);
    for (int i = 0; i < MANY; i++) {
        snprintf(rel, sizeof(rel), "many/f%02d.txt", i);
        snprintf(text, sizeof(text), "edited offline %d %.*s", i, i,
                 "................................");
        wd_put_ok(&w->d, rel, text, 1);
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
    struct wd_env *w = wd_env_of(state);
    many_edited_offline(w);
    wd_set_online(&w->d, 1);
    struct it_response *r = sync_ok(&w->d, NULL);
    char rel[32], text[96];
    for (int i = 0; i < MANY; i++) {
        snprintf(rel, sizeof(rel), "many/f%02d.txt", i);
        snprintf(text, sizeof(text), "edited offline %d %.*s", i, i,
                 "................................");
        WD_ASSERT_ON_SERVER(w, rel, text);
        if (result_of(r, rel))
            fail_msg("the sync after the push still did something to '%s':\n%s", rel, r->body);
    }
    it_response_free(r);
    assert_int_equal(conflict_count(&w->d), 0);
}

struct rewriter {
    const char *dir; /* the served many/ */
    int fd;          /* inotify on it */
    volatile int stop, fired;
};

/*
 * The moment the server has written many/f00.txt, another writer replaces
 * it, in the served directory itself (a temp file renamed over it): within
 * microseconds, while the daemon still has 29 pushes of the batch to make
 * before its listing. (A PUT of the other version through the server took
 * milliseconds, and under load it could land after the listing.)
 */
static void *
rewrite_after_put(void *arg)
{
    struct rewriter *rw = arg;
    static const char theirs[] = "another writer's version, longer than ours";
    char tmp[PATH_MAX], dst[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s/.theirs.tmp", rw->dir);
    snprintf(dst, sizeof(dst), "%s/f00.txt", rw->dir);
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (!rw->stop && !rw->fired) {
        struct pollfd p = {.fd = rw->fd, .events = POLLIN};
        ssize_t n = poll(&p, 1, 50) == 1 ? read(rw->fd, buf, sizeof(buf)) : 0;
        for (char *at = buf; n > 0 && at < buf + n && !rw->fired;) {
            const struct inotify_event *ev = (const struct inotify_event *)at;
            if (ev->len && strcmp(ev->name, "f00.txt") == 0)
                rw->fired = it_write_file(tmp, theirs, sizeof(theirs) - 1) == 0 &&
                            chmod(tmp, 0644) == 0 && rename(tmp, dst) == 0;
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
    struct wd_env *w = wd_env_of(state);
    many_edited_offline(w);
    char dir[PATH_MAX];
    it_dav_path(&w->dav, "many", dir);
    struct rewriter rw = {.dir = dir, .fd = inotify_init1(IN_NONBLOCK)};
    assert_true(rw.fd >= 0);
    assert_true(inotify_add_watch(rw.fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE) >= 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, rewrite_after_put, &rw), 0);
    wd_set_online(&w->d, 1);
    rw.stop = 1;
    pthread_join(t, NULL);
    close(rw.fd);
    assert_true(rw.fired);
    WD_ASSERT_ON_SERVER(w, "many/f00.txt", "another writer's version, longer than ours");
    WD_ASSERT_ON_SERVER(w, "many/f01.txt", "edited offline 1 .");
    assert_int_equal(conflict_count(&w->d), 1);
    struct it_response *r = it_get(&w->d, "/api/v1/items/srv/s/many/f00.txt");
    IT_ASSERT_JBOOL(r->json, "change.dirty", 1);
    it_response_free(r);
    wd_set_online(&w->d, 0);
    WD_ASSERT_READ(&w->d, "many/f00.txt", "edited offline 0 ");
}

static void
test_server_edits_sync_in(void **state)
{
    struct wd_env *w = wd_env_of(state);
    wd_seed(w, "a.txt", WD_BASE);
    WD_ASSERT_READ(&w->d, "a.txt", WD_BASE);
    wd_seed(w, "a.txt", "the server's new version");
    struct it_response *r = sync_ok(&w->d, NULL);
    IT_ASSERT_JSTR(result_of(r, "a.txt"), "operation", "syncToClient");
    it_response_free(r);
    wd_set_online(&w->d, 0);
    r = wd_get_file(&w->d, "a.txt", NULL);
    IT_ASSERT_STATUS(r, 200);
    assert_string_equal(r->body, "the server's new version");
    assert_string_equal(it_resp_header(r, "X-Offline-Source"), "cache");
    it_response_free(r);
}

static void
test_both_changed_ask_records_and_keep_all_keeps_both(void **state)
{
    struct wd_env *w = wd_env_of(state);
    wd_seed(w, "a.txt", WD_BASE);
    WD_ASSERT_READ(&w->d, "a.txt", WD_BASE);
    wd_set_online(&w->d, 0);
    wd_put_ok(&w->d, "a.txt", "local edit", 1);
    wd_seed(w, "a.txt", "remote edit, longer");
    wd_set_online(&w->d, 1);
    struct it_response *r = sync_ok(&w->d, "ask");
    IT_ASSERT_JSTR(result_of(r, "a.txt"), "result", "conflict");
    IT_ASSERT_JSTR(result_of(r, "a.txt"), "syncState", "FileChangedOnClient_ChangedOnServer");
    it_response_free(r);
    assert_int_equal(conflict_count(&w->d), 1);
    WD_ASSERT_ON_SERVER(w, "a.txt", "remote edit, longer");
    r = sync_ok(&w->d, "keepAll");
    IT_ASSERT_JSTR(result_of(r, "a.txt"), "operation", "keepAll");
    it_response_free(r);
    WD_ASSERT_ON_SERVER(w, "a.txt", "remote edit, longer");
    char *kept = served_name(w, "a (conflict ");
    assert_non_null(kept);
    WD_ASSERT_ON_SERVER(w, kept, "local edit");
    assert_int_equal(conflict_count(&w->d), 0);
    free(kept);
}

static void
test_two_daemons_on_one_share_catch_the_conflict_and_keep_both(void **state)
{
    struct wd_env *w = wd_env_of(state);
    assert_int_equal(wd_daemon_up(&w->d2, w->root, "d2"), 0);
    assert_int_equal(wd_share_add(&w->d2, "s", w->dav.url, NULL, NULL), 201);
    wd_seed(w, "a.txt", WD_BASE);
    WD_ASSERT_READ(&w->d, "a.txt", WD_BASE);
    WD_ASSERT_READ(&w->d2, "a.txt", WD_BASE);
    /* Online: the second writer's cached version is stale, and the server says so. */
    wd_put_ok(&w->d, "a.txt", "one", 0);
    struct it_response *r = wd_put_file(&w->d2, "a.txt", "two!", NULL);
    IT_ASSERT_PROBLEM(r, 412, "precondition-failed");
    it_response_free(r);
    WD_ASSERT_ON_SERVER(w, "a.txt", "one");
    /* Offline on both, then each syncs: the second finds the first's version and keeps both. */
    WD_ASSERT_READ(&w->d2, "a.txt", "one");
    wd_set_online(&w->d, 0);
    wd_set_online(&w->d2, 0);
    wd_put_ok(&w->d, "a.txt", "version one", 1);
    wd_put_ok(&w->d2, "a.txt", "version two, longer", 1);
    wd_set_online(&w->d, 1);
    it_response_free(sync_ok(&w->d, NULL));
    WD_ASSERT_ON_SERVER(w, "a.txt", "version one");
    wd_set_online(&w->d2, 1);
    r = sync_ok(&w->d2, "keepAll");
    it_response_free(r);
    WD_ASSERT_ON_SERVER(w, "a.txt", "version one");
    char *kept = served_name(w, "a (conflict ");
    assert_non_null(kept);
    WD_ASSERT_ON_SERVER(w, kept, "version two, longer");
    free(kept);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        WD_BOTH(test_offline_writes_sync_out, wd_setup),
        WD_BOTH(test_many_offline_writes_sync_out_and_the_next_sync_moves_nothing, wd_setup),
        WD_BOTH(test_a_change_between_a_put_and_its_listing_is_a_conflict, wd_setup),
        WD_BOTH(test_server_edits_sync_in, wd_setup),
        WD_BOTH(test_both_changed_ask_records_and_keep_all_keeps_both, wd_setup),
        WD_BOTH(test_two_daemons_on_one_share_catch_the_conflict_and_keep_both, wd_setup),
    };
    return cmocka_run_group_tests_name("webdav_sync", tests, NULL, NULL);
}
