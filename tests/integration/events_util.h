/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the events integration tests (events_*_test.c): a client of
 * GET /api/v1/events (server-sent events) on raw sockets, and the daemon
 * side of a test (Pings published as markers, files written through the
 * API, the share forced offline and online).
 *
 * Streams are read on raw sockets (HTTP/1.1, chunked), many at once with
 * poll(2), so that a test can also stop reading one (a slow consumer).
 * Each test publishes a Ping with a detail of its own as a marker: Pings
 * pass every filter and the stream is in id order, so once a stream has
 * the marker it has everything published before it.
 *
 * A struct sse owns its socket, its response head and its frames (with
 * their data and JSON); sse_close frees it all. Frames, heads and header
 * values handed out are borrowed from the stream. Assertion helpers fail
 * the running cmocka test.
 *
 * The names are those the helpers had in events_test.c, from which the
 * tests moved with their bodies unchanged.
 */
#ifndef OF_IT_EVENTS_UTIL_H
#define OF_IT_EVENTS_UTIL_H

#include "harness.h"

/* Seconds on the monotonic clock. */
double now_s(void);
void pause_ms(long ms);

/* ---- a server-sent events client on a raw socket ---- */

struct frame {
    long long id; /* -1: the frame has no id line */
    char event[48];
    char *data;   /* the data line (NULL in lite mode) */
    json_t *json; /* parsed data (in lite mode only for control frames and Pings with a detail) */
};

struct sse {
    int fd;
    int head_done, chunked, eof, clean_end, paused, lite;
    long status;
    char *head; /* the response head, NUL-terminated */
    char *raw;  /* received bytes not decoded yet */
    size_t raw_len, raw_cap;
    char *text; /* decoded body not split into frames yet */
    size_t text_len, text_cap;
    long long chunk_left; /* -1: a chunk-size line comes next */
    int want_crlf;        /* the CRLF after a chunk's data comes next */
    struct frame *f;
    size_t n, cap;
    char err[600]; /* the first malformed frame or protocol error */
};

/* A TCP connection to 127.0.0.1:port; rcvbuf > 0 sets SO_RCVBUF first. The fd, or -1. */
int connect_local(uint16_t port, int rcvbuf);
/* Send all of text on fd: 0, or -1 (errno set). */
int send_all(int fd, const char *text);

/*
 * GET /api/v1/events + query with the header lines in headers (each ending
 * in CRLF; may be NULL). rcvbuf > 0 sets SO_RCVBUF before connecting. The
 * socket is non-blocking; nothing is read yet. New; fails the test when it
 * cannot connect or send.
 */
struct sse *sse_open_raw(const struct it_daemon *d, const char *query, const char *headers,
                         int rcvbuf);
/* The same with the admin token as a bearer. */
struct sse *sse_open(const struct it_daemon *d, const char *query);
/* Close the socket (if still open) and free s and its frames; s may be NULL. */
void sse_close(struct sse *s);

/* One round: wait up to timeout_ms for any of v (not paused, not ended) to be readable, read it. */
void sse_pump(struct sse **v, size_t n, int timeout_ms);

typedef int (*sse_pred)(const struct sse *s, const void *arg);

/* Pump until pred holds for every stream of v (0), or timeout_s passed (-1). */
int sse_wait_all(struct sse **v, size_t n, sse_pred pred, const void *arg, double timeout_s);
int sse_wait(struct sse *s, sse_pred pred, const void *arg, double timeout_s);

/* Predicates (arg as noted): the head came or the stream ended (none); the stream ended (none). */
int has_head(const struct sse *s, const void *arg);
int ended(const struct sse *s, const void *arg);
/* The index of the published Ping whose detail is marker, or -1. */
long find_marker(const struct sse *s, const char *marker);
/* Predicates: the Ping marker (a string) came; a frame of this event type (a string) came. */
int has_marker(const struct sse *s, const void *arg);
int has_event(const struct sse *s, const void *arg);

/* The value of a response header of the stream (a static buffer), or NULL. */
const char *sse_header(const struct sse *s, const char *name);
/* print_error frames from..from+max-1 of s (those there are). */
void dump_frames(const struct sse *s, size_t from, size_t max);
/* The stream answered 200 text/event-stream and every frame so far is well formed. */
void sse_assert_ok(const struct sse *s);
/* Wait for the head of s (just opened): 200, text/event-stream. Returns s. */
struct sse *sse_ready(struct sse *s);
/* Pump until every stream of v has the Ping marker, or fail saying how many have it. */
void sse_wait_all_marker(struct sse **v, size_t n, const char *marker, double timeout_s);
/* Pump until s has the Ping marker and assert it well formed, or fail with its last frames. */
void sse_wait_marker(struct sse *s, const char *marker, double timeout_s);

/* ---- the daemon side (the share //srv/s of the harness fixture) ---- */

/* POST /api/v1/events/ping: count Pings with this detail (NULL: none). */
void publish(const struct it_daemon *d, int count, const char *detail);
/* PUT REL through the daemon (200 or 201), stored offline or not as offline says. */
void put_file(const struct it_env *env, const char *rel, const char *text, int offline);
/* POST a directory REL through the daemon (201). */
void mkdir_api(const struct it_env *env, const char *rel);
/* A file on the share's disk, then read through the daemon so that it is cached (auto mode). */
void seed_cached(const struct it_env *env, const char *rel, const char *text);
/* Force //srv/s offline (0) or online (1). */
void set_online(const struct it_env *env, int online);

/* ---- what a stream got ---- */

/* The integer member key of the frame's data (0 when there is none). */
long long jint(const struct frame *f, const char *key);
/* The id of the Ping marker, which s must have. */
long long marker_id(const struct sse *s, const char *marker);
/* s has exactly the ids first..last, each once, in order, and no DataLost; what names s. */
void assert_contiguous(const struct sse *s, long long first, long long last, const char *what);

#endif
