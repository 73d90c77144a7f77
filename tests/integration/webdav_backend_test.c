/* SPDX-License-Identifier: MIT */
/*
 * The webdav backend's contract (engine/backend.h) against real servers,
 * without the daemon: each operation's answers and error codes on Apache
 * mod_dav and nginx dav-ext, Apache ignoring Range, many operations at once
 * from many threads on one backend, two shares on one server sharing its
 * connections, a server that never answers and one that is not there,
 * basic and digest auth, TLS verification (nginx over https), and the URLs
 * the backend refuses. (The daemon over WebDAV is webdav_files_test.c and
 * webdav_sync_test.c.)
 */
#include "dav.h"
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "util.h"

static enum it_dav_kind kinds[IT_DAV__COUNT] = {IT_DAV_APACHE, IT_DAV_NGINX};

struct benv {
    int skip;
    struct it_dav dav;
    struct of_backend *be;
    char *tmp; /* the test's own files (upload sources) */
};

static const struct of_backend_options defaults = {
    .transfers = 4, .timeout_ms = 5000, .connect_timeout_ms = 2000};

static int
open_backend(const char *url, const struct of_backend_options *o, struct of_backend **ret)
{
    struct of_error err = {0};
    int rc = of_backend_open_with(url, o, ret, &err);
    if (rc < 0)
        fprintf(stderr, "opening %s: %s\n", url, err.detail);
    return rc;
}

static int
setup_with(void **state, const char *user, const char *password)
{
    const enum it_dav_kind *kind = *state;
    struct benv *b = calloc(1, sizeof(*b));
    *state = b;
    if (!b)
        return -1;
    if (!it_dav_available(*kind)) {
        b->skip = 1;
        return 0;
    }
    b->dav.user = user;
    b->dav.password = password;
    b->tmp = it_tmpdir("wdbe");
    if (!b->tmp || it_dav_start(&b->dav, *kind, it_dav_name(*kind)) < 0)
        return -1;
    return user ? 0 : open_backend(b->dav.url, &defaults, &b->be);
}

static int
setup(void **state)
{
    return setup_with(state, NULL, NULL);
}

static int
setup_auth(void **state)
{
    return setup_with(state, "u", "pw-Basic-1");
}

static int
teardown(void **state)
{
    struct benv *b = *state;
    if (b) {
        of_backend_free(b->be);
        it_dav_free(&b->dav);
        if (b->tmp)
            it_rmrf(b->tmp);
        free(b->tmp);
        free(b);
    }
    return 0;
}

static struct benv *
env_of(void **state)
{
    struct benv *b = *state;
    if (b->skip)
        skip();
    return b;
}

/* An fd holding text, for write(). */
static int
source(const struct benv *b, const char *text)
{
    char *path = it_fmt("%s/src-XXXXXX", b->tmp);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    free(path);
    assert_int_equal(of_write_all(fd, text, strlen(text)), 0);
    return fd;
}

struct membuf {
    char data[4096];
    size_t len;
};

static int
mem_write(void *ctx, const void *buf, size_t len)
{
    struct membuf *m = ctx;
    if (len > sizeof(m->data) - 1 - m->len)
        return OF_E(TOO_LARGE);
    memcpy(m->data + m->len, buf, len);
    m->len += len;
    m->data[m->len] = '\0';
    return 0;
}

static int
do_read(struct of_backend *be, const char *rel, int64_t off, int64_t len, struct membuf *m,
        struct of_stat *st)
{
    struct of_error err = {0};
    struct of_sink sink = {mem_write, m};
    m->len = 0;
    m->data[0] = '\0';
    return be->ops->read(be, rel, off, len, &sink, st, &err);
}

static int
do_write(const struct benv *b, const char *rel, const char *text, const char *if_match,
         struct of_stat *st)
{
    struct of_error err = {0};
    int fd = source(b, text);
    int rc = b->be->ops->write(b->be, rel, fd, if_match, st, &err);
    close(fd);
    return rc;
}

/* ---- the contract, operation by operation ---- */

static void
test_files_are_created_read_replaced_and_removed_with_preconditions(void **state)
{
    struct benv *b = env_of(state);
    struct of_backend *be = b->be;
    struct of_error err = {0};
    struct of_stat st, st2;
    struct membuf m;
    assert_int_equal(be->ops->probe(be, &err), 0);
    assert_int_equal(do_write(b, "a b%\xc3\xa9.txt", "hello world", "", &st), 0);
    assert_int_equal(st.type, OF_STAT_FILE);
    assert_int_equal(st.size, 11);
    assert_true(st.etag[0] != '\0');
    char *on = it_dav_read_file(&b->dav, "a b%\xc3\xa9.txt", NULL);
    assert_string_equal(on, "hello world");
    free(on);
    /* stat and a listing see the version the write reported. */
    assert_int_equal(be->ops->stat(be, "a b%\xc3\xa9.txt", &st2, &err), 0);
    assert_string_equal(st2.etag, st.etag);
    assert_int_equal(st2.size, 11);
    /* Create-only over an existing file, and a stale tag: PRECONDITION, nothing changes. */
    assert_int_equal(do_write(b, "a b%\xc3\xa9.txt", "x", "", NULL), OF_E(PRECONDITION));
    assert_int_equal(do_write(b, "a b%\xc3\xa9.txt", "x", "\"stale\"", NULL), OF_E(PRECONDITION));
    assert_int_equal(do_write(b, "missing.txt", "x", st.etag, NULL), OF_E(PRECONDITION));
    /* Reads: whole, a range, past the end. */
    assert_int_equal(do_read(be, "a b%\xc3\xa9.txt", 0, -1, &m, &st2), 0);
    assert_string_equal(m.data, "hello world");
    assert_string_equal(st2.etag, st.etag);
    assert_int_equal(do_read(be, "a b%\xc3\xa9.txt", 6, 3, &m, NULL), 0);
    assert_string_equal(m.data, "wor");
    assert_int_equal(do_read(be, "a b%\xc3\xa9.txt", 6, -1, &m, NULL), 0);
    assert_string_equal(m.data, "world");
    assert_int_equal(do_read(be, "a b%\xc3\xa9.txt", 50, 3, &m, NULL), 0);
    assert_int_equal(m.len, 0);
    assert_int_equal(do_read(be, "missing.txt", 0, -1, &m, NULL), OF_E(NOT_FOUND));
    /* Replace at the current tag, at once (Apache's tag is still weak then). */
    assert_int_equal(do_write(b, "a b%\xc3\xa9.txt", "second version", st.etag, &st2), 0);
    assert_string_not_equal(st2.etag, st.etag);
    assert_int_equal(do_write(b, "a b%\xc3\xa9.txt", "x", st.etag, NULL), OF_E(PRECONDITION));
    /* The server changes the file: the old tag no longer removes it. */
    /* (A different size: nginx gives no etags, and the mtime has whole seconds only.) */
    assert_int_equal(it_dav_put_file(&b->dav, "a b%\xc3\xa9.txt", "changed there, longer", 21), 0);
    assert_int_equal(be->ops->remove(be, "a b%\xc3\xa9.txt", st2.etag, &err), OF_E(PRECONDITION));
    assert_int_equal(be->ops->remove(be, "a b%\xc3\xa9.txt", "", &err), OF_E(PRECONDITION));
    assert_int_equal(be->ops->stat(be, "a b%\xc3\xa9.txt", &st, &err), 0);
    assert_int_equal(be->ops->remove(be, "a b%\xc3\xa9.txt", st.etag, &err), 0);
    assert_int_equal(be->ops->stat(be, "a b%\xc3\xa9.txt", &st, &err), OF_E(NOT_FOUND));
    assert_int_equal(be->ops->remove(be, "a b%\xc3\xa9.txt", NULL, &err), OF_E(NOT_FOUND));
    assert_int_equal(be->ops->write(be, "", 0, NULL, NULL, &err), OF_E(NOT_A_FILE));
    assert_int_equal(be->ops->remove(be, "", NULL, &err), OF_E(BAD_PATH));
    assert_int_equal(be->ops->stat(be, "../x", &st, &err), OF_E(BAD_PATH));
}

/*
 * Another client's lock (Apache; nginx without a lock zone has none):
 * writes and removals answer LOCKED, never UNAVAILABLE (the share is
 * reachable) and never success (Apache answers a PUT below a locked
 * collection with 207); nothing changes, and all works once it is gone.
 */
static void
test_another_clients_lock_answers_locked_and_changes_nothing(void **state)
{
    struct benv *b = env_of(state);
    struct of_backend *be = b->be;
    struct of_error err = {0};
    char tok[256], dtok[256];
    assert_int_equal(do_write(b, "locked.txt", "before the lock", "", NULL), 0);
    assert_int_equal(it_dav_mkdir(&b->dav, "held"), 0);
    assert_int_equal(it_dav_lock(&b->dav, "locked.txt", tok, sizeof(tok)), 0);
    assert_int_equal(it_dav_lock(&b->dav, "held/", dtok, sizeof(dtok)), 0);
    assert_int_equal(do_write(b, "locked.txt", "over the lock", NULL, NULL), OF_E(LOCKED));
    assert_int_equal(be->ops->remove(be, "locked.txt", NULL, &err), OF_E(LOCKED));
    assert_int_equal(do_write(b, "held/new.txt", "below a locked directory", NULL, NULL),
                     OF_E(LOCKED));
    char *on = it_dav_read_file(&b->dav, "locked.txt", NULL);
    assert_string_equal(on, "before the lock");
    free(on);
    assert_null(it_dav_read_file(&b->dav, "held/new.txt", NULL));
    assert_int_equal(be->ops->probe(be, &err), 0);
    assert_int_equal(it_dav_unlock(&b->dav, "locked.txt", tok), 0);
    assert_int_equal(it_dav_unlock(&b->dav, "held/", dtok), 0);
    assert_int_equal(do_write(b, "locked.txt", "after the lock", NULL, NULL), 0);
    assert_int_equal(do_write(b, "held/new.txt", "after the lock", NULL, NULL), 0);
}

static void
test_directories_are_made_listed_and_removed_only_when_empty(void **state)
{
    struct benv *b = env_of(state);
    struct of_backend *be = b->be;
    struct of_error err = {0};
    struct of_stat st;
    struct of_dirent *v = NULL;
    size_t n = 0;
    assert_int_equal(be->ops->mkdir(be, "d", &st, &err), 0);
    assert_int_equal(st.type, OF_STAT_DIR);
    assert_true(st.attrs & OF_ATTR_DIRECTORY);
    assert_int_equal(be->ops->mkdir(be, "d", &st, &err), OF_E(EXISTS));
    assert_int_equal(be->ops->mkdir(be, "", &st, &err), OF_E(EXISTS));
    assert_int_equal(be->ops->mkdir(be, "nope/x", &st, &err), OF_E(PARENT_MISSING));
    assert_int_equal(do_write(b, "nope/x", "x", NULL, NULL), OF_E(PARENT_MISSING));
    assert_int_equal(do_write(b, "d", "x", NULL, NULL), OF_E(NOT_A_FILE));
    assert_int_equal(do_write(b, "d/f2.txt", "22", NULL, NULL), 0);
    assert_int_equal(do_write(b, "d/f1.txt", "1", NULL, NULL), 0);
    assert_int_equal(be->ops->list(be, "d", &v, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "f1.txt");
    assert_string_equal(v[1].name, "f2.txt");
    assert_int_equal(v[1].st.size, 2);
    free(v);
    assert_int_equal(be->ops->list(be, "", &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "d");
    assert_int_equal(v[0].st.type, OF_STAT_DIR);
    free(v);
    assert_int_equal(be->ops->list(be, "d/f1.txt", &v, &n, &err), OF_E(NOT_A_DIR));
    assert_int_equal(be->ops->list(be, "nope", &v, &n, &err), OF_E(NOT_FOUND));
    assert_int_equal(do_read(be, "d", 0, -1, &(struct membuf){0}, NULL), OF_E(NOT_A_FILE));
    assert_int_equal(be->ops->remove(be, "d", NULL, &err), OF_E(NOT_EMPTY));
    assert_int_equal(be->ops->remove(be, "d/f1.txt", NULL, &err), 0);
    assert_int_equal(be->ops->remove(be, "d/f2.txt", NULL, &err), 0);
    assert_int_equal(be->ops->remove(be, "d", NULL, &err), 0);
    assert_int_equal(be->ops->stat(be, "d", &st, &err), OF_E(NOT_FOUND));
}

static void
test_renames_keep_to_the_contract(void **state)
{
    struct benv *b = env_of(state);
    struct of_backend *be = b->be;
    struct of_error err = {0};
    struct of_stat st;
    struct membuf m;
    assert_int_equal(do_write(b, "a.txt", "A", NULL, NULL), 0);
    assert_int_equal(do_write(b, "b.txt", "BB", NULL, NULL), 0);
    assert_int_equal(be->ops->mkdir(be, "d", NULL, &err), 0);
    assert_int_equal(be->ops->rename(be, "a.txt", "b.txt", 0, &err), OF_E(EXISTS));
    assert_int_equal(be->ops->rename(be, "a.txt", "b.txt", 1, &err), 0);
    assert_int_equal(do_read(be, "b.txt", 0, -1, &m, NULL), 0);
    assert_string_equal(m.data, "A");
    assert_int_equal(be->ops->stat(be, "a.txt", &st, &err), OF_E(NOT_FOUND));
    assert_int_equal(be->ops->rename(be, "a.txt", "c.txt", 0, &err), OF_E(NOT_FOUND));
    assert_int_equal(be->ops->rename(be, "b.txt", "d", 1, &err), OF_E(NOT_A_FILE));
    assert_int_equal(be->ops->rename(be, "b.txt", "nope/b.txt", 0, &err), OF_E(PARENT_MISSING));
    assert_int_equal(be->ops->rename(be, "b.txt", "d/b c.txt", 0, &err), 0);
    assert_int_equal(be->ops->rename(be, "d", "d/sub", 0, &err), OF_E(INVALID));
    assert_int_equal(be->ops->rename(be, "d", "e", 0, &err), 0);
    assert_int_equal(do_read(be, "e/b c.txt", 0, -1, &m, NULL), 0);
    assert_string_equal(m.data, "A");
    assert_int_equal(be->ops->rename(be, "", "x", 0, &err), OF_E(BAD_PATH));
}

/* ---- many at once ---- */

struct worker {
    struct benv *b;
    int id, failures;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    char rel[64], text[64];
    for (int i = 0; i < 10; i++) {
        struct of_stat st;
        struct membuf m;
        snprintf(rel, sizeof(rel), "w%d-%d.txt", w->id, i);
        snprintf(text, sizeof(text), "worker %d file %d", w->id, i);
        if (do_write(w->b, rel, text, "", &st) != 0 ||
            do_read(w->b->be, rel, 0, -1, &m, NULL) != 0 || strcmp(m.data, text) != 0)
            w->failures++;
    }
    return NULL;
}

/* Our open connections to port: established IPv4 sockets whose remote end it is. */
static int
connections_to(uint16_t port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    assert_non_null(f);
    char line[512];
    unsigned rport, st;
    int n = 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, " %*u: %*x:%*x %*x:%x %x", &rport, &st) == 2 && rport == port && st == 1)
            n++;
    fclose(f);
    return n;
}

/*
 * Sixteen threads at once on a backend with four transfers: all succeed,
 * and what stays open is the pool's connections, at most four, kept for
 * the next request.
 */
static void
test_many_threads_share_one_backend(void **state)
{
    struct benv *b = env_of(state);
    struct worker w[16];
    pthread_t t[16];
    for (int i = 0; i < 16; i++) {
        w[i] = (struct worker){b, i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    int failures = 0;
    for (int i = 0; i < 16; i++) {
        pthread_join(t[i], NULL);
        failures += w[i].failures;
    }
    assert_int_equal(failures, 0);
    struct of_dirent *v;
    size_t n;
    struct of_error err = {0};
    assert_int_equal(b->be->ops->list(b->be, "", &v, &n, &err), 0);
    assert_int_equal(n, 160);
    free(v);
    int open = connections_to(b->dav.port);
    assert_in_range(open, 1, defaults.transfers);
}

/*
 * Two shares on one server: their requests, taking turns, go over one
 * connection, which the server's pool keeps for either; the share that
 * leaves first leaves it to the other.
 */
static void
test_two_shares_on_one_server_share_its_connections(void **state)
{
    struct benv *b = env_of(state);
    struct of_backend_options one = defaults;
    one.transfers = 1;
    struct of_backend *other = NULL;
    assert_int_equal(open_backend(b->dav.url, &one, &other), 0);
    struct of_backend *turn[2] = {b->be, other};
    for (int i = 0; i < 6; i++) {
        struct of_dirent *v = NULL;
        size_t n = 0;
        struct of_error err = {0};
        assert_int_equal(turn[i % 2]->ops->list(turn[i % 2], "", &v, &n, &err), 0);
        free(v);
    }
    assert_int_equal(connections_to(b->dav.port), 1);
    of_backend_free(other);
    struct of_stat st;
    struct of_error err = {0};
    assert_int_equal(b->be->ops->stat(b->be, "", &st, &err), 0);
    assert_int_equal(connections_to(b->dav.port), 1);
}

/* Entries of the served directory whose names start with prefix. */
static int
served_with_prefix(const struct benv *b, const char *prefix)
{
    DIR *d = opendir(b->dav.dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/*
 * Updates: where the server honours If-Match (Apache) they go straight out
 * with it; elsewhere (nginx) the tag is checked first. Either way a stale
 * tag is a conflict and the server's bytes stay, and the probe that tells
 * the two apart leaves nothing behind.
 */
static void
test_an_update_at_a_stale_tag_never_overwrites(void **state)
{
    struct benv *b = env_of(state);
    struct timespec strong = {1, 200 * 1000 * 1000};
    struct of_stat st1, st2;
    assert_int_equal(do_write(b, "u.txt", "one", "", &st1), 0);
    nanosleep(&strong, NULL);
    assert_int_equal(do_write(b, "u.txt", "two!", st1.etag, &st2), 0);
    /* The version a write reports is the one a listing names. */
    struct of_stat listed;
    struct of_error err = {0};
    assert_int_equal(b->be->ops->stat(b->be, "u.txt", &listed, &err), 0);
    assert_string_equal(listed.etag, st2.etag);
    assert_int_equal(listed.size, 4);
    size_t len = 0;
    char *got = it_dav_read_file(&b->dav, "u.txt", &len);
    assert_non_null(got);
    assert_int_equal(len, 4);
    assert_memory_equal(got, "two!", 4);
    free(got);
    /* The server changes it (another size: nginx names versions by time and size). */
    nanosleep(&strong, NULL);
    assert_int_equal(it_dav_put_file(&b->dav, "u.txt", "theirs, longer", 14), 0);
    nanosleep(&strong, NULL);
    assert_int_equal(do_write(b, "u.txt", "mine", st2.etag, NULL), OF_E(PRECONDITION));
    got = it_dav_read_file(&b->dav, "u.txt", &len);
    assert_non_null(got);
    assert_int_equal(len, 14);
    assert_memory_equal(got, "theirs, longer", 14);
    free(got);
    assert_int_equal(served_with_prefix(b, ".of-"), 0);
}

/* Every file of the share's root, listed and then read whole: both name one version alike. */
static void
check_reads_match_listing(struct of_backend *be)
{
    struct of_dirent *v;
    size_t n;
    struct of_error err = {0};
    struct membuf m;
    assert_int_equal(be->ops->list(be, "", &v, &n, &err), 0);
    int files = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].st.type != OF_STAT_FILE)
            continue;
        struct of_stat st;
        assert_int_equal(do_read(be, v[i].name, 0, -1, &m, &st), 0);
        assert_int_equal(st.type, OF_STAT_FILE);
        assert_int_equal(st.size, v[i].st.size);
        assert_int_equal((long long)m.len, (long long)st.size);
        assert_string_equal(st.etag, v[i].st.etag);
        assert_int_equal(st.mtime_ns / 1000000000, v[i].st.mtime_ns / 1000000000);
        assert_int_equal(st.attrs, v[i].st.attrs);
        files++;
    }
    free(v);
    assert_int_equal(files, 2);
}

/*
 * After a listing, a whole read is one GET whose version comes from the
 * reply's headers: it must name the version exactly as a listing does, or a
 * sync would see every pinned file as changed (nginx lists no etags; Apache
 * marks tags weak for a second).
 */
static void
test_a_whole_read_names_the_version_as_a_listing_does(void **state)
{
    struct benv *b = env_of(state);
    struct of_backend *be = b->be;
    assert_int_equal(it_dav_put_file(&b->dav, "v1.txt", "abc", 3), 0);
    assert_int_equal(it_dav_put_file(&b->dav, "v2 x.txt", "second file", 11), 0);
    assert_int_equal(it_dav_mkdir(&b->dav, "dir"), 0);
    check_reads_match_listing(be); /* fresh: Apache's tags are weak */
    struct timespec ts = {1, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    check_reads_match_listing(be); /* and strong */
    struct membuf m;
    assert_int_equal(do_read(be, "dir", 0, -1, &m, NULL), OF_E(NOT_A_FILE));
    assert_int_equal(do_read(be, "gone.txt", 0, -1, &m, NULL), OF_E(NOT_FOUND));
    assert_int_equal(m.len, 0);
}

/* ---- servers that fail ---- */

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_a_silent_or_absent_server_is_unavailable_in_time(void **state)
{
    struct benv *b = env_of(state);
    /* A socket that listens but never answers: connects succeed, replies never come. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    char *url = it_fmt("http://127.0.0.1:%u/dav/", (unsigned)ntohs(sa.sin_port));
    struct of_backend_options o = {.transfers = 2, .timeout_ms = 1000, .connect_timeout_ms = 1000};
    struct of_backend *be;
    struct of_error err = {0};
    assert_int_equal(open_backend(url, &o, &be), 0);
    double t0 = now_s();
    assert_int_equal(be->ops->probe(be, &err), OF_E(UNAVAILABLE));
    assert_true(now_s() - t0 < 5);
    of_backend_free(be);
    close(fd);
    /* Nothing listens there now. */
    assert_int_equal(open_backend(url, &o, &be), 0);
    struct of_stat st;
    assert_int_equal(be->ops->stat(be, "a", &st, &err), OF_E(UNAVAILABLE));
    assert_int_equal(be->ops->probe(be, &err), OF_E(UNAVAILABLE));
    of_backend_free(be);
    free(url);
    /* The real server, killed: unavailable, and back when it is. */
    it_dav_kill(&b->dav);
    assert_int_equal(b->be->ops->probe(b->be, &err), OF_E(UNAVAILABLE));
    assert_int_equal(it_dav_restart(&b->dav), 0);
    assert_int_equal(b->be->ops->probe(b->be, &err), 0);
}

static void
test_basic_auth_is_sent_and_refusals_name_no_secret(void **state)
{
    struct benv *b = env_of(state);
    struct of_error err = {0};
    struct of_backend *be;
    struct of_backend_options o = defaults;
    o.auth = OF_AUTH_BASIC;
    o.username = "u";
    o.secret = "pw-Basic-1";
    assert_int_equal(open_backend(b->dav.url, &o, &be), 0);
    assert_int_equal(be->ops->probe(be, &err), 0);
    b->be = be;
    assert_int_equal(do_write(b, "f.txt", "with auth", "", NULL), 0);
    b->be = NULL;
    of_backend_free(be);
    o.secret = "pw-Wrong-2";
    assert_int_equal(open_backend(b->dav.url, &o, &be), 0);
    assert_int_equal(be->ops->probe(be, &err), OF_E(UNAVAILABLE));
    assert_non_null(strstr(err.detail, "refused the credentials"));
    assert_null(strstr(err.detail, "pw-"));
    of_backend_free(be);
    o.auth = OF_AUTH_BEARER;
    o.secret = "tok-Bearer-3";
    assert_int_equal(open_backend(b->dav.url, &o, &be), 0);
    struct of_stat st;
    assert_int_equal(be->ops->stat(be, "f.txt", &st, &err), OF_E(UNAVAILABLE));
    assert_null(strstr(err.detail, "tok-"));
    of_backend_free(be);
    assert_int_equal(open_backend(b->dav.url, &defaults, &be), 0);
    assert_int_equal(be->ops->probe(be, &err), OF_E(UNAVAILABLE));
    assert_non_null(strstr(err.detail, "credentials"));
    of_backend_free(be);
}

static void
test_a_server_that_ignores_ranges_still_gives_the_right_bytes(void **state)
{
    struct benv *b = env_of(state);
    struct membuf m;
    struct of_stat st;
    assert_int_equal(open_backend(b->dav.url, &defaults, &b->be), 0);
    assert_int_equal(do_write(b, "f.txt", "0123456789", "", NULL), 0);
    /* The server answers 200 with the whole file: the backend skips to the range itself. */
    assert_int_equal(do_read(b->be, "f.txt", 3, 4, &m, &st), 0);
    assert_string_equal(m.data, "3456");
    assert_int_equal(st.size, 10);
    assert_int_equal(do_read(b->be, "f.txt", 7, -1, &m, NULL), 0);
    assert_string_equal(m.data, "789");
    assert_int_equal(do_read(b->be, "f.txt", 0, 2, &m, NULL), 0);
    assert_string_equal(m.data, "01");
}

static int
setup_no_ranges(void **state)
{
    struct benv *b = calloc(1, sizeof(*b));
    *state = b;
    if (!b)
        return -1;
    if (!it_dav_available(IT_DAV_APACHE)) {
        b->skip = 1;
        return 0;
    }
    b->dav.no_ranges = 1;
    b->tmp = it_tmpdir("wdbe");
    return b->tmp && it_dav_start(&b->dav, IT_DAV_APACHE, "apache-noranges") == 0 ? 0 : -1;
}

static void
test_digest_auth_answers_the_challenge_and_resends_bodies(void **state)
{
    struct benv *b = env_of(state);
    struct of_error err = {0};
    struct of_backend_options o = defaults;
    o.auth = OF_AUTH_DIGEST;
    o.username = "u";
    o.secret = "pw-Digest-4";
    assert_int_equal(open_backend(b->dav.url, &o, &b->be), 0);
    assert_int_equal(b->be->ops->probe(b->be, &err), 0);
    /* The first PUT is challenged: curl rewinds the body (on_seek) and sends it again. */
    char *big = it_repeat('d', 300000);
    assert_int_equal(do_write(b, "f.txt", big, "", NULL), 0);
    char *on = it_dav_read_file(&b->dav, "f.txt", NULL);
    assert_non_null(on);
    assert_string_equal(on, big);
    free(on);
    free(big);
    struct membuf m;
    assert_int_equal(do_read(b->be, "f.txt", 5, 3, &m, NULL), 0);
    assert_string_equal(m.data, "ddd");
    of_backend_free(b->be);
    o.secret = "pw-Wrong-5";
    assert_int_equal(open_backend(b->dav.url, &o, &b->be), 0);
    assert_int_equal(b->be->ops->probe(b->be, &err), OF_E(UNAVAILABLE));
    assert_null(strstr(err.detail, "pw-"));
}

static int
setup_digest(void **state)
{
    struct benv *b = calloc(1, sizeof(*b));
    *state = b;
    if (!b)
        return -1;
    if (!it_dav_available(IT_DAV_APACHE)) {
        b->skip = 1;
        return 0;
    }
    b->dav.user = "u";
    b->dav.password = "pw-Digest-4";
    b->dav.digest = 1;
    b->tmp = it_tmpdir("wdbe");
    return b->tmp && it_dav_start(&b->dav, IT_DAV_APACHE, "apache-digest") == 0 ? 0 : -1;
}

static void
test_tls_is_verified_by_default_and_against_the_ca_file(void **state)
{
    struct benv *b = env_of(state);
    struct of_error err = {0};
    struct of_backend *be;
    struct of_backend_options o = defaults;
    /* The server's certificate is self-signed: the system's CAs do not vouch for it. */
    assert_int_equal(open_backend(b->dav.url, &o, &be), 0);
    assert_int_equal(be->ops->probe(be, &err), OF_E(UNAVAILABLE));
    of_backend_free(be);
    o.ca_file = b->dav.cert;
    assert_int_equal(open_backend(b->dav.url, &o, &be), 0);
    assert_int_equal(be->ops->probe(be, &err), 0);
    b->be = be;
    struct membuf m;
    assert_int_equal(do_write(b, "t.txt", "over tls", "", NULL), 0);
    assert_int_equal(do_read(be, "t.txt", 0, -1, &m, NULL), 0);
    assert_string_equal(m.data, "over tls");
    b->be = NULL;
    of_backend_free(be);
    o.ca_file = NULL;
    o.insecure = 1;
    assert_int_equal(open_backend(b->dav.url, &o, &be), 0);
    assert_int_equal(be->ops->probe(be, &err), 0);
    of_backend_free(be);
}

static int
setup_tls(void **state)
{
    struct benv *b = calloc(1, sizeof(*b));
    *state = b;
    if (!b)
        return -1;
    if (!it_dav_available(IT_DAV_NGINX)) {
        b->skip = 1;
        return 0;
    }
    b->dav.tls = 1;
    b->tmp = it_tmpdir("wdbe");
    return b->tmp && it_dav_start(&b->dav, IT_DAV_NGINX, "nginx-tls") == 0 ? 0 : -1;
}

static void
test_urls_with_credentials_queries_or_other_schemes_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "http://u:p@127.0.0.1/dav/", "http://u@127.0.0.1/dav/",
        "http://127.0.0.1/dav/?q=1", "http://127.0.0.1/dav/#f",
        "ftp://127.0.0.1/dav/",      "http://[::1/dav/",
        "http://127.0.0.1/d%zz/",    "https://",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct of_backend *be = NULL;
        struct of_error err = {0};
        int rc = of_backend_webdav_open(bad[i], &defaults, &be, &err);
        if (rc != OF_E(BAD_FIELD))
            fail_msg("'%s' was not refused (rc %d)", bad[i], rc);
        assert_null(strstr(err.detail, ":p@"));
    }
    struct of_backend *be = NULL;
    struct of_backend_options o = defaults;
    o.auth = OF_AUTH_BASIC;
    o.username = "u";
    assert_int_equal(of_backend_webdav_open("http://127.0.0.1/dav", &o, &be, NULL),
                     OF_E(BAD_FIELD));
    assert_int_equal(of_backend_webdav_open("https://127.0.0.1:1/dav", &defaults, &be, NULL), 0);
    assert_string_equal(be->ops->name, "webdav");
    of_backend_free(be);
}

#define BOTH(f, set)                                                                               \
    {#f " (apache)", f, set, teardown, &kinds[IT_DAV_APACHE]},                                     \
    {                                                                                              \
#f " (nginx)", f, set, teardown, &kinds[IT_DAV_NGINX]                                      \
    }

int
main(int argc, char **argv)
{
    it_init(argc, argv);
    /* OF_IT_DEBUG=1 shows the backend's request log. */
    if (getenv("OF_IT_DEBUG"))
        of_log_set_level(OF_LOG_DEBUG);
    const struct CMUnitTest tests[] = {
        BOTH(test_files_are_created_read_replaced_and_removed_with_preconditions, setup),
        BOTH(test_directories_are_made_listed_and_removed_only_when_empty, setup),
        BOTH(test_renames_keep_to_the_contract, setup),
        {"test_another_clients_lock_answers_locked_and_changes_nothing (apache)",
         test_another_clients_lock_answers_locked_and_changes_nothing, setup, teardown,
         &kinds[IT_DAV_APACHE]},
        BOTH(test_many_threads_share_one_backend, setup),
        BOTH(test_two_shares_on_one_server_share_its_connections, setup),
        BOTH(test_a_whole_read_names_the_version_as_a_listing_does, setup),
        BOTH(test_an_update_at_a_stale_tag_never_overwrites, setup),
        BOTH(test_a_silent_or_absent_server_is_unavailable_in_time, setup),
        BOTH(test_basic_auth_is_sent_and_refusals_name_no_secret, setup_auth),
        cmocka_unit_test_setup_teardown(
            test_a_server_that_ignores_ranges_still_gives_the_right_bytes, setup_no_ranges,
            teardown),
        cmocka_unit_test_setup_teardown(test_digest_auth_answers_the_challenge_and_resends_bodies,
                                        setup_digest, teardown),
        cmocka_unit_test_setup_teardown(test_tls_is_verified_by_default_and_against_the_ca_file,
                                        setup_tls, teardown),
        cmocka_unit_test(test_urls_with_credentials_queries_or_other_schemes_are_refused),
    };
    return cmocka_run_group_tests_name("webdav_backend", tests, NULL, NULL);
}
