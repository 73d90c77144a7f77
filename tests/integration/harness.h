/* SPDX-License-Identifier: MIT */
/*
 * The integration test harness: starts the real offlinefilesd on a free
 * 127.0.0.1 port with a data dir of its own, stops, kills and restarts it,
 * talks HTTP to it with libcurl (bodies from memory, a file or a generator;
 * responses with status, headers, body and parsed JSON), asserts
 * problem+json answers, and makes and removes temp trees. Every test owns
 * its temp dirs and port, so test executables run in parallel.
 *
 * Test executables take the daemon's path as argv[1] and call it_init first.
 * Assertion macros report the caller's file and line through cmocka.
 */
#ifndef OF_IT_HARNESS_H
#define OF_IT_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <limits.h>
#include <sys/types.h>

/* ---- set-up ---- */

/*
 * Remember the daemon binary (argv[1]) and initialize libcurl; exits with 2
 * on misuse. OF_IT_FILTER in the environment selects tests by a cmocka glob;
 * OF_IT_KEEP keeps the temp tree of a test whose daemon misbehaved.
 */
void it_init(int argc, char **argv);
/* The daemon binary given to it_init (borrowed). */
const char *it_daemon_bin(void);

/* ---- temp trees and files ---- */

/* A new 0700 directory under $TMPDIR or /tmp named after tag; malloc'ed path, NULL on error. */
char *it_tmpdir(const char *tag);
/* Remove path and everything below it (symlinks are not followed); NULL-safe. */
void it_rmrf(const char *path);
/* Create or replace a file with len bytes; 0 or -1. Parent directories are made. */
int it_write_file(const char *path, const void *data, size_t len);
/* The whole file, NUL-terminated, malloc'ed; NULL when it cannot be read. */
char *it_read_file(const char *path, size_t *ret_len);
int it_exists(const char *path);
/* A malloc'ed string of n copies of c. */
char *it_repeat(char c, size_t n);
/* A malloc'ed copy of s with every byte but [A-Za-z0-9-._~] %-encoded (query values). */
char *it_urlencode(const char *s);
/* A malloc'ed printf result. */
char *it_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the daemon ---- */

struct it_daemon {
    char data_dir[PATH_MAX];
    char log_path[PATH_MAX];    /* the daemon's stderr, appended across restarts */
    char config_path[PATH_MAX]; /* "" or a --config file */
    const char *log_level;      /* NULL: "debug" */
    pid_t pid;                  /* 0 when not running */
    uint16_t port;
    char base_url[64]; /* "http://127.0.0.1:PORT" */
    char token[128];   /* the admin token of DATA_DIR/admin.token */
};

/*
 * Start the daemon (d->data_dir, d->log_path, optional config) on a free port
 * and wait until GET /api/v1/health answers 200, then read the admin token.
 * Retries with another port when the chosen one was taken meanwhile.
 * Returns 0, or -1 with the reason printed (and the log's tail).
 */
int it_daemon_start(struct it_daemon *d);
/*
 * SIGTERM and wait (up to 30 s). Returns the exit status (0..255), 128 + the
 * signal when it died of one, or -1 when it had to be killed after the wait.
 */
int it_daemon_stop(struct it_daemon *d);
/* SIGKILL and reap. */
void it_daemon_kill(struct it_daemon *d);
/* 1 while the process runs (reaps it when it has exited). */
int it_daemon_alive(struct it_daemon *d);
/* A kB value ("VmHWM", "VmRSS") of /proc/PID/status, or -1. */
long it_proc_status_kb(pid_t pid, const char *key);
/*
 * Temp files of the daemon's content store: named ones (any in DATA_DIR/cache/tmp
 * of older versions, "t-NAME" in DATA_DIR/cache/content/xx) plus unnamed ones
 * (O_TMPFILE) the running daemon still holds open. 0 when no write is in
 * flight: anything else is a leak.
 */
int it_cache_temp_files(const struct it_daemon *d);
/* Print the last bytes of the daemon's log to stderr (diagnostics). */
void it_daemon_dump_log(const struct it_daemon *d);

/*
 * Run the daemon binary with args (NULL-terminated, without argv[0]) to its
 * end (killed after timeout_s). stdout goes to out, stderr to err (each may
 * be NULL; cap bytes, NUL-terminated). Returns the exit status, 128 + a
 * signal, or -1.
 */
int it_run_daemon_cmd(const char *const *args, long timeout_s, char *out, size_t cap, char *err,
                      size_t errcap);
/*
 * Run `offlinefilesd token create --user USER [--admin] --data-dir DIR`.
 * The first stdout line (trimmed) goes to out (cap bytes), stderr to err
 * (may be NULL). Returns the exit status, or -1.
 */
int it_token_create(const char *data_dir, const char *user, int admin, char *out, size_t cap,
                    char *err, size_t errcap);

/* ---- HTTP ---- */

enum it_auth {
    IT_AUTH_ADMIN = 0, /* Bearer with the daemon's admin token */
    IT_AUTH_NONE,      /* no Authorization header */
    IT_AUTH_TOKEN,     /* Bearer with .token */
    IT_AUTH_RAW,       /* Authorization: .token as given */
};

struct it_request {
    const char *method; /* NULL: GET */
    const char *path;   /* "/api/v1/...", appended to the base URL as given */
    enum it_auth auth;
    const char *token;
    const char *headers[8];   /* extra "Name: value" lines; NULL ends the list */
    const char *content_type; /* NULL: no Content-Type header */
    const void *body;         /* non-NULL: send body_len bytes */
    size_t body_len;
    const char *body_file; /* or stream this file */
    int64_t gen_len;       /* or this many generated bytes (it_gen_byte) */
    int chunked;           /* send the body chunked, without Content-Length */
    int path_as_is;        /* send "..", "." segments unchanged */
    long timeout_s;        /* 0: 30 s */
    const char *save_to;   /* write the response body to this file instead of memory */
};

struct it_header {
    char *name, *value;
};

struct it_response {
    char what[160]; /* "METHOD path" for messages */
    int curl_code;  /* CURLE_OK when a response arrived */
    char curl_error[256];
    long status; /* 0 when no response */
    char *body;  /* NUL-terminated; "" when none */
    size_t body_len;
    struct it_header *headers;
    size_t n_headers;
    json_t *json; /* parsed JSON body (application/json, problem+json), else NULL */
};

/* The byte at offset i of a generated body: a pattern that is not all one value. */
unsigned char it_gen_byte(int64_t i);

/* Perform one request; never NULL (allocation failure aborts the test run). */
struct it_response *it_http(const struct it_daemon *d, const struct it_request *rq);
void it_response_free(struct it_response *r);
/* A response header's value (case-insensitive name), NULL when absent. Borrowed. */
const char *it_resp_header(const struct it_response *r, const char *name);

/* Shorthands with the admin token. Path printf-style. */
struct it_response *it_get(const struct it_daemon *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* method with a JSON text body (application/json). */
struct it_response *it_json_req(const struct it_daemon *d, const char *method, const char *path,
                                const char *json_text);
/* PUT len bytes (application/octet-stream). */
struct it_response *it_put(const struct it_daemon *d, const char *path, const void *data,
                           size_t len);
struct it_response *it_delete(const struct it_daemon *d, const char *path);

/* POST /api/v1/shares; returns the status (201 on success). */
long it_share_add(const struct it_daemon *d, const char *server, const char *share, const char *dir,
                  const char *mode);
/* PUT /api/v1/connection/SERVER/SHARE {"state": ...}; returns the status. */
long it_share_set_online(const struct it_daemon *d, const char *server, const char *share,
                         int online);

/* A member by dotted path ("change.dirty", "items.0.path"); borrowed, NULL if absent. */
json_t *it_jget(json_t *json, const char *dotted);

/* ---- assertions (report the caller's location) ---- */

/* Why r is not a problem+json of status and code (a sentence), or NULL when it is. */
const char *it_problem_mismatch(const struct it_response *r, long status, const char *code);
/* Print the request, status, Content-Type and body of r (diagnostics). */
void it_show_response(const struct it_response *r);

void it_assert_status(const struct it_response *r, long status, const char *file, int line);
void it_assert_problem(const struct it_response *r, long status, const char *code, const char *file,
                       int line);
void it_assert_jstr(json_t *json, const char *key, const char *want, const char *file, int line);
void it_assert_jbool(json_t *json, const char *key, int want, const char *file, int line);
void it_assert_jint(json_t *json, const char *key, long long want, const char *file, int line);
void it_assert_jnull(json_t *json, const char *key, const char *file, int line);
void it_assert_keys(json_t *obj, const char *const *keys, const char *file, int line);

#define IT_ASSERT_STATUS(r, st) it_assert_status((r), (st), __FILE__, __LINE__)
/* Status, Content-Type application/problem+json, and its `code` and `status` members. */
#define IT_ASSERT_PROBLEM(r, st, code) it_assert_problem((r), (st), (code), __FILE__, __LINE__)
#define IT_ASSERT_JSTR(j, key, want) it_assert_jstr((j), (key), (want), __FILE__, __LINE__)
#define IT_ASSERT_JBOOL(j, key, want) it_assert_jbool((j), (key), (want), __FILE__, __LINE__)
#define IT_ASSERT_JINT(j, key, want) it_assert_jint((j), (key), (want), __FILE__, __LINE__)
#define IT_ASSERT_JNULL(j, key) it_assert_jnull((j), (key), __FILE__, __LINE__)
/* The object's keys are exactly keys (NULL-terminated), in any order. */
#define IT_ASSERT_KEYS(j, keys) it_assert_keys((j), (keys), __FILE__, __LINE__)

/* ---- the usual fixture: a daemon and one share //srv/s over ROOT/share ---- */

struct it_env {
    char *root;               /* the test's temp tree; removed in teardown */
    char share_dir[PATH_MAX]; /* ROOT/share, the share's root on disk */
    char outside[PATH_MAX];   /* ROOT/outside: nothing may ever appear here */
    struct it_daemon d;
};

/*
 * Make ROOT/{data,share,outside}, start the daemon and add //srv/s over
 * ROOT/share with the given caching mode. it_env_new returns NULL on failure.
 */
struct it_env *it_env_new(const char *tag, const char *mode);
/* The same with ROOT/config.json holding config_json, passed as --config. */
struct it_env *it_env_new_cfg(const char *tag, const char *mode, const char *config_json);
/*
 * Stop the daemon (it must still be alive and exit 0 on SIGTERM) and remove
 * the tree. Returns 0, or -1 after printing what went wrong.
 */
int it_env_free(struct it_env *env);
/* cmocka fixtures over it_env_new / it_env_free: manual and auto caching. */
int it_setup_manual(void **state);
int it_setup_auto(void **state);
int it_teardown(void **state);

/* ROOT/share/REL into a static-free buffer the caller owns (PATH_MAX). */
void it_share_file(const struct it_env *env, const char *rel, char *buf);
/* Stop with SIGTERM (asserting exit 0) and start again on the same data dir. */
void it_restart(struct it_env *env);

/* ---- jobs, sync, conflicts and events ---- */

/*
 * Poll GET /api/v1/jobs/ID until the job has ended (no longer queued or
 * running), at most timeout_s; returns the last response (never NULL).
 */
struct it_response *it_job_wait(const struct it_daemon *d, long long id, double timeout_s);
/* Wait until no job is queued or running; 0, or -1 after timeout_s. */
int it_jobs_idle(const struct it_daemon *d, double timeout_s);
/*
 * POST /api/v1/sync with "paths": [path], "wait": true, "conflict": policy
 * (NULL: left out) and extra members (JSON object text such as
 * {"in":false}, or NULL).
 */
struct it_response *it_sync(const struct it_daemon *d, const char *path, const char *policy,
                            const char *extra_json);
/* The element of json's array at dotted key whose "path" is path; borrowed, NULL if none. */
json_t *it_jfind_path(json_t *json, const char *key, const char *path);
/* The id of the newest logged event (0 when none). */
long long it_events_newest(const struct it_daemon *d);
/* Every logged event with an id above since, following pages; a new array. */
json_t *it_events_since(const struct it_daemon *d, long long since);

/*
 * Make the share unreachable by moving ROOT/share to ROOT/unplugged (the
 * daemon then keeps writes as offline changes, without forcing the share
 * offline), and move it back. Return 0 or -1.
 */
int it_env_unplug(struct it_env *env);
int it_env_replug(struct it_env *env);

#endif
