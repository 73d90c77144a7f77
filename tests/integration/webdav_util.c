/* SPDX-License-Identifier: MIT */
/* The fixture and helpers of the WebDAV integration tests; see webdav_util.h. */
#include "webdav_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum it_dav_kind wd_kinds[IT_DAV__COUNT] = {IT_DAV_APACHE, IT_DAV_NGINX};

/* ---- fixture ---- */

int
wd_daemon_up(struct it_daemon *d, const char *root, const char *name)
{
    snprintf(d->data_dir, sizeof(d->data_dir), "%s/%s-data", root, name);
    snprintf(d->log_path, sizeof(d->log_path), "%s/%s.log", root, name);
    return it_daemon_start(d);
}

long
wd_share_add(const struct it_daemon *d, const char *share, const char *url, const char *user,
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
        fprintf(stderr, "webdav: adding //srv/%s answered %ld: %s\n", share, st, r->body);
    it_response_free(r);
    free(text);
    json_decref(body);
    return st;
}

/* Stop the daemons (each must exit 0: under ASan that means no leak) and the server; 0 or -1. */
static int
env_free(struct wd_env *w)
{
    int rc = 0;
    if (!w)
        return 0;
    if (w->d.pid > 0 && it_daemon_stop(&w->d) != 0) {
        fprintf(stderr, "webdav: the daemon did not exit 0 on SIGTERM\n");
        rc = -1;
    }
    if (w->d2.pid > 0 && it_daemon_stop(&w->d2) != 0) {
        fprintf(stderr, "webdav: the second daemon did not exit 0 on SIGTERM\n");
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
static struct wd_env *
env_new(enum it_dav_kind kind, const char *user, const char *password)
{
    struct wd_env *w = calloc(1, sizeof(*w));
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
        wd_daemon_up(&w->d, w->root, "d1") < 0 ||
        (!user && wd_share_add(&w->d, "s", w->dav.url, NULL, NULL) != 201)) {
        env_free(w);
        return NULL;
    }
    return w;
}

int
wd_setup(void **state)
{
    const enum it_dav_kind *kind = *state;
    *state = env_new(*kind, NULL, NULL);
    return *state ? 0 : -1;
}

int
wd_setup_auth(void **state)
{
    const enum it_dav_kind *kind = *state;
    *state = env_new(*kind, "u", WD_RIGHT_PW);
    return *state ? 0 : -1;
}

int
wd_teardown(void **state)
{
    struct wd_env *w = *state;
    int ok = !w || w->skip || (it_daemon_alive(&w->d) && (!w->d2.pid || it_daemon_alive(&w->d2)));
    if (!ok)
        fprintf(stderr, "webdav: a daemon died during the test\n");
    if (env_free(w) < 0)
        ok = 0;
    *state = NULL;
    return ok ? 0 : -1;
}

struct wd_env *
wd_env_of(void **state)
{
    struct wd_env *w = *state;
    if (w->skip)
        skip();
    return w;
}

/* ---- the server's copies, and the share through the daemon ---- */

char *
wd_fpath(const char *share, const char *rel)
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

void
wd_seed(const struct wd_env *w, const char *rel, const char *text)
{
    assert_int_equal(it_dav_put_file(&w->dav, rel, text, strlen(text)), 0);
}

void
wd_assert_on_server(const struct wd_env *w, const char *rel, const char *want, const char *file,
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

struct it_response *
wd_get_file(const struct it_daemon *d, const char *rel, const char *header)
{
    char *path = wd_fpath("s", rel);
    struct it_request rq = {.path = path, .headers = {header}};
    struct it_response *r = it_http(d, &rq);
    free(path);
    return r;
}

struct it_response *
wd_put_file(const struct it_daemon *d, const char *rel, const char *text, const char *header)
{
    char *path = wd_fpath("s", rel);
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

void
wd_assert_read(const struct it_daemon *d, const char *rel, const char *want, const char *file,
               int line)
{
    struct it_response *r = wd_get_file(d, rel, NULL);
    it_assert_status(r, 200, file, line);
    if (r->body_len != strlen(want) || memcmp(r->body, want, r->body_len) != 0) {
        print_error("GET '%s' gave \"%.200s\", expected \"%s\"\n", rel, r->body, want);
        it_response_free(r);
        _fail(file, line);
    }
    it_response_free(r);
}

void
wd_put_ok(const struct it_daemon *d, const char *rel, const char *text, int offline)
{
    struct it_response *r = wd_put_file(d, rel, text, NULL);
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

void
wd_set_online(const struct it_daemon *d, int online)
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
