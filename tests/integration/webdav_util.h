/* SPDX-License-Identifier: MIT */
/*
 * The fixture and helpers of the WebDAV integration tests (webdav_*_test.c,
 * but not webdav_backend_test.c, which drives the backend without the
 * daemon): a real WebDAV server (dav.h) of one kind, a daemon in a temp tree
 * of its own with the share //srv/s over the server's collection, and the
 * reads, writes and connection changes the scenarios make through the
 * daemon. Every scenario runs twice, against Apache mod_dav and against
 * nginx with dav-ext (WD_BOTH); a scenario is skipped when its server is not
 * installed.
 *
 * The fixture owns its struct wd_env: the server, the temp tree and the
 * daemons, all stopped and removed in wd_teardown. Assertion helpers report
 * the caller's file and line, like the harness.
 */
#ifndef OF_IT_WEBDAV_UTIL_H
#define OF_IT_WEBDAV_UTIL_H

#include "dav.h"
#include "harness.h"

#define WD_BASE "base version"
#define WD_RIGHT_PW "s3cret-Right-pw"

struct wd_env {
    int skip;
    struct it_dav dav;
    char *root; /* the daemons' temp tree */
    struct it_daemon d, d2;
};

/* The initial states of WD_BOTH: one per server kind (never written). */
extern enum it_dav_kind wd_kinds[IT_DAV__COUNT];

/* ---- fixture ---- */

/* Start daemon d with its data dir ROOT/NAME-data and its log ROOT/NAME.log; 0 or -1. */
int wd_daemon_up(struct it_daemon *d, const char *root, const char *name);
/* POST /api/v1/shares for //srv/SHARE over url; user set: basic auth. Returns the status. */
long wd_share_add(const struct it_daemon *d, const char *share, const char *url, const char *user,
                  const char *password);
/*
 * cmocka fixtures; *state is &wd_kinds[kind] on the way in and the struct
 * wd_env on the way out. wd_setup: the server and a daemon with //srv/s
 * added; wd_setup_auth: the server requires basic auth ("u",
 * WD_RIGHT_PW) and no share is added. wd_teardown fails when a daemon died
 * or did not exit 0 on SIGTERM (under ASan: leaked).
 */
int wd_setup(void **state);
int wd_setup_auth(void **state);
int wd_teardown(void **state);
/* The test's struct wd_env (borrowed); skips the test when its server is not installed. */
struct wd_env *wd_env_of(void **state);

/* Each scenario once per server, named after it. */
#define WD_BOTH(f, set)                                                                            \
    {#f " (apache)", f, set, wd_teardown, &wd_kinds[IT_DAV_APACHE]},                               \
    {                                                                                              \
#f " (nginx)", f, set, wd_teardown, &wd_kinds[IT_DAV_NGINX]                                \
    }

/* ---- the server's copies ---- */

/* Write REL on the server (through its directory); asserts. */
void wd_seed(const struct wd_env *w, const char *rel, const char *text);
/* The server's REL holds exactly want; want NULL: REL does not exist. */
void wd_assert_on_server(const struct wd_env *w, const char *rel, const char *want,
                         const char *file, int line);
#define WD_ASSERT_ON_SERVER(w, rel, want)                                                          \
    wd_assert_on_server((w), (rel), (want), __FILE__, __LINE__)

/* ---- through the daemon ---- */

/* "/api/v1/files/srv/SHARE/" + rel with each segment %-encoded (malloc'ed). */
char *wd_fpath(const char *share, const char *rel);
/* GET /api/v1/files/srv/s/REL with one extra header (or NULL); the caller frees. */
struct it_response *wd_get_file(const struct it_daemon *d, const char *rel, const char *header);
/* PUT text to /api/v1/files/srv/s/REL with one extra header (or NULL); the caller frees. */
struct it_response *wd_put_file(const struct it_daemon *d, const char *rel, const char *text,
                                const char *header);
/* GET rel answers 200 with exactly want (and, auto caching, caches it). */
void wd_assert_read(const struct it_daemon *d, const char *rel, const char *want, const char *file,
                    int line);
#define WD_ASSERT_READ(d, rel, want) wd_assert_read((d), (rel), (want), __FILE__, __LINE__)
/* PUT REL answers 200 or 201, with storedOffline as offline says. */
void wd_put_ok(const struct it_daemon *d, const char *rel, const char *text, int offline);
/*
 * Force the share offline, or bring it online and let the background pass
 * that this starts (asynchronously) run to its end, so that it never runs
 * beside a test's own sync.
 */
void wd_set_online(const struct it_daemon *d, int online);

#endif
