/* SPDX-License-Identifier: MIT */
/*
 * Internals of the webdav backend, shared by its four files only: webdav.c
 * (the object, PROPFIND, operations on names), webdav_rw.c (read and write),
 * webdav_http.c (the requests) and webdav_pool.c (the easy handles, one pool
 * per server). Not a contract for anyone else: the engine sees backend.h.
 */
#ifndef OF_WEBDAV_INT_H
#define OF_WEBDAV_INT_H

#include <curl/curl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "webdav_xml.h"

/* of_error_set that visibly returns code (to readers and to the static analyzer alike). */
#define FAIL(err, code, ...) (of_error_set((err), (code), __VA_ARGS__), (code))

#define HDR_VALUE_MAX 256

struct webdav_server; /* webdav_pool.c: the easy handles of one server */

struct webdav {
    struct of_backend base;
    char *url;         /* the share's collection, with a trailing slash */
    size_t origin_len; /* url + origin_len is its path */
    enum of_auth auth;
    char *username, *secret, *ca_file;
    int insecure, transfers;
    long timeout_ms, connect_timeout_ms;
    /*
     * Does this server's PROPFIND give files a getetag? -1 until a listing
     * tells; 0: no (nginx), so versions are named by time and size, and a
     * GET's own ETag header must not be taken (a listing would not match it).
     */
    int propfind_etags;
    /*
     * Does the server honour If-Match on PUT? -1 until probed (-2 while a
     * thread probes), 0 no or cannot tell (nginx, rclone), 1 yes (Apache):
     * then an update is sent with If-Match at once, without a PROPFIND.
     */
    int preconds;

    /*
     * w->lock guards the fields above that change (propfind_etags,
     * preconds). The easy handles are the server's (webdav_pool.c): one
     * pool for every share on a server, so a connection serves them all.
     * This share holds n_lent of them (under the server's lock), at most
     * `transfers`: its limit of requests and connections at once.
     */
    pthread_mutex_t lock;
    struct webdav_server *server;
    int n_lent;
    int stopping; /* set once (atomic reads outside lock) */
};

enum body_mode { BODY_DISCARD, BODY_XML, BODY_SINK };

/* One request: built by an operation, performed on its caller's thread. */
struct xfer {
    struct webdav *w;
    const char *rel; /* borrowed from webdav_xfer_open's caller, for details */
    char *url;       /* new (webdav_xfer_open), freed by webdav_xfer_done */
    CURL *easy;
    struct curl_slist *hdrs;
    char errbuf[CURL_ERROR_SIZE];

    /* The request body: the file of a PUT. */
    int fd;
    int64_t up_off, up_len;
    int read_failed; /* the file shrank or could not be read */

    /* Headers of the last response (interim 1xx and auth challenges are reset). */
    char etag[HDR_VALUE_MAX];
    char last_modified[HDR_VALUE_MAX];
    char content_range[HDR_VALUE_MAX];
    int64_t content_length; /* -1: not sent */

    enum body_mode mode;
    struct of_webdav_xml *xml;

    /* A GET into a sink: bytes [offset, offset + want) of the version in expect. */
    const struct of_sink *sink;
    const struct of_webdav_entry *expect;
    int64_t offset, want, skip, got;
    int checked;  /* the response was checked against expect */
    int mismatch; /* it is of another version: nothing was delivered */
    int complete; /* all wanted bytes delivered; the rest was cut off */
    int sink_rc;  /* the sink stopped the transfer with this code */
    char *sbuf;   /* bytes for the sink, written in chunks of up to sbuf_cap */
    size_t sbuf_len, sbuf_cap;

    /* Stall detection: when the byte counts last moved (ms, monotonic). */
    curl_off_t moved;
    int64_t moved_ms;
    int stalled;

    int pooled; /* easy is the pool's (else a spare made after the stop: never performed) */
    CURLcode result;
    long status;
};

/* ---- webdav_pool.c: the easy handles, one pool per server ---- */

/*
 * Join the pool of w's server (made on first use). 0, or OF_E(NOMEM) with a
 * detail in err. Whatever it returns, webdav_stop undoes it.
 */
int webdav_start(struct webdav *w, struct of_error *err);
/*
 * Stop w: requests running end with CURLE_ABORTED_BY_CALLBACK within about
 * a second (curl calls the progress callback at least that often), later
 * ones are refused likewise. Waits until every handle w borrowed is back,
 * then leaves the server's pool (the last share to leave frees its handles
 * and their connections). Accepts a w that webdav_start never ran on or
 * failed for. Call it once, when no operation can start any more.
 */
void webdav_stop(struct webdav *w);
/*
 * Borrow a handle for one of w's requests: an idle one of its server (with
 * its live connection) or a new one, waiting while w holds `transfers`.
 * After the stop, a spare that is never performed (*ret_pooled 0), so that
 * the request fails as a closed share, not as out of memory. NULL only when
 * out of memory. The caller owns it until webdav_pool_give.
 */
CURL *webdav_pool_take(struct webdav *w, int *ret_pooled);
/* Give c back (reset: it keeps no pointer into the request, only its connection). */
void webdav_pool_give(struct webdav *w, CURL *c, int pooled);

/* ---- webdav_http.c: requests ---- */

/*
 * Prepare x (caller-owned, no need to clear it) as request method to rel
 * (collection: its URL ends with a slash) on an easy handle borrowed from
 * w's pool, waiting while all are lent: w's timeouts, TLS and auth settings,
 * and the callbacks that fill x's response fields. The body is discarded
 * unless the caller sets x->mode (BODY_XML: webdav_xfer_xml; BODY_SINK with
 * x->sink, x->want and the rest). 0, or OF_E(NOMEM) with the detail "cannot
 * prepare a request for '<rel>'" in err. Whatever it returns, release x with
 * webdav_xfer_done.
 */
int webdav_xfer_open(struct webdav *w, struct xfer *x, const char *method, const char *rel,
                     int collection, struct of_error *err);
/* Parse x's 207 body into x->xml. 0, or a code with err set as by webdav_xfer_open. */
int webdav_xfer_xml(struct xfer *x, struct of_error *err);
/*
 * Add a request header line ("Name: value"; "Name:" drops one curl would
 * send) to x; sent by webdav_run. A NULL line (an allocation that failed) is
 * out of memory. 0, or OF_E(NOMEM) with err set as by webdav_xfer_open.
 */
int webdav_xfer_header(struct xfer *x, const char *line, struct of_error *err);
/* Give x's easy handle back to the pool (reset, its connection kept) and free what x owns. */
void webdav_xfer_done(struct xfer *x);
/*
 * Perform x on the calling thread; a BODY_SINK transfer's bytes are
 * written to x->sink as they arrive.
 * Then x->result, x->status and the response fields tell what happened.
 * what and rel only name the request in the debug log. Thread-safe; blocks
 * for as long as the request takes (a silent server: w->timeout_ms).
 */
void webdav_run(struct webdav *w, struct xfer *x, const char *what, const char *rel);
/*
 * A transfer that got no complete answer (x->result is not CURLE_OK):
 * sets err, naming what ("reading", ...) and rel, and returns its code,
 * mostly OF_E(UNAVAILABLE) (the share failed, not the item).
 */
int webdav_transport_fail(const struct xfer *x, const char *what, const char *rel,
                          struct of_error *err);
/*
 * An HTTP status st that no operation expected: sets err and returns its
 * code (a refused credential or a 5xx: UNAVAILABLE; 404: NOT_FOUND; 412:
 * PRECONDITION; else IO).
 */
int webdav_status_fail(const struct webdav *w, long st, const char *what, const char *rel,
                       struct of_error *err);
/*
 * curl's read and seek callbacks for a PUT body (ud: the struct xfer): bytes
 * [0, x->up_len) of x->fd, read at their offsets, so the fd's position is
 * left alone. A file that turns out shorter fails the transfer with
 * x->read_failed set.
 */
size_t webdav_on_upload(char *buf, size_t size, size_t n, void *ud);
int webdav_on_seek(void *ud, curl_off_t off, int origin);

/* ---- webdav_http.c: names ---- */

/*
 * The URL of rel (a valid share path): w->url, then each segment
 * percent-encoded; collection: end with a slash. New, free it; NULL when out
 * of memory. It carries no credentials, but is not for error details.
 */
char *webdav_url_of(const struct webdav *w, const char *rel, int collection);
/* rel as details and logs name it: "/" for the share root. Borrowed. */
const char *webdav_shown(const char *rel);
/* Sleep for ms milliseconds, signals notwithstanding. */
void webdav_sleep_ms(long ms);

/* ---- webdav.c: what the operations share ---- */

/* 0 when rel is a valid share path; else OF_E(BAD_PATH) (NULL too). */
int webdav_check_rel(const char *rel, struct of_error *err);
/*
 * PROPFIND rel at depth 0: its entry into *ret (written only on success).
 * 0, or OF_E(NOT_FOUND), OF_E(UNAVAILABLE), ... with a detail in err (may be
 * NULL). Blocks.
 */
int webdav_stat_entry(struct webdav *w, const char *rel, struct of_webdav_entry *ret,
                      struct of_error *err);
/*
 * Check the precondition if_match ("" for "must not exist", or an etag) of a
 * change to rel against the server's state, read at depth (0 or 1), and
 * write to hdr (cap bytes) the header that makes the server check it again
 * ("" for none). On success the entries read are handed over: *ret_v is new
 * (free it) and *ret_self points into it; both NULL when rel does not
 * exist. Fails with OF_E(PRECONDITION) when the state does not match. While
 * the server calls the tag weak it waits, up to about two seconds.
 */
int webdav_precheck(struct webdav *w, const char *rel, const char *if_match, int depth, char *hdr,
                    size_t cap, struct of_webdav_entry **ret_v, size_t *ret_n,
                    struct of_webdav_entry **ret_self, struct of_error *err);
/*
 * Creating rel (what: "writing", ...) failed with HTTP st: sets err from the
 * parent's state (servers answer 404, 409 or even 500 for a missing parent),
 * OF_E(PARENT_MISSING) or OF_E(NOT_A_DIR), else as webdav_status_fail, and
 * returns its code.
 */
int webdav_create_fail(struct webdav *w, const char *rel, long st, const char *what,
                       struct of_error *err);
/*
 * What we know of a version we just wrote when the server will not tell:
 * type, size, now, and etag (the server's, or NULL) as of_webdav_etag_set
 * takes it. Overwrites all of *st.
 */
void webdav_stat_guess(struct of_stat *st, enum of_stat_type type, int64_t size, const char *etag);

/* ---- the operations of struct of_backend_ops (backend.h has their contracts) ---- */

/* webdav.c */
int webdav_remove(struct of_backend *be, const char *rel, const char *if_match,
                  struct of_error *err);
/* webdav_rw.c */
int webdav_read(struct of_backend *be, const char *rel, int64_t offset, int64_t length,
                const struct of_sink *sink, struct of_stat *ret_st, struct of_error *err);
int webdav_write(struct of_backend *be, const char *rel, int fd_in, const char *if_match,
                 struct of_stat *ret_st, struct of_error *err);

#endif
