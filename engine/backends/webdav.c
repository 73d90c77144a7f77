/* SPDX-License-Identifier: MIT */
/*
 * The webdav backend: a share is a WebDAV collection on an http:// or
 * https:// server, reached with libcurl. Each backend owns one curl multi
 * handle and one thread that drives it (curl_multi_poll), so that every
 * transfer to the share shares one connection cache and the per-share limit
 * of transfers at once (CURLMOPT_MAX_HOST_CONNECTIONS). An operation builds
 * an easy handle, queues it for that thread and waits on a condition
 * variable: operations stay blocking and may be called from many threads.
 * Body callbacks (the PROPFIND parser, a read's sink) run on the backend
 * thread while their caller waits.
 *
 * Preconditions: many servers (nginx, rclone) ignore If-Match and
 * If-None-Match on PUT and DELETE, so a conditional write first checks the
 * current etag with a PROPFIND and then also sends the header, which makes
 * the check atomic on servers that honour it (Apache). A 412 is always a
 * conflict, never a reason to overwrite. Apache marks a tag weak for the
 * first second after a change, and a weak tag never passes If-Match: such a
 * write waits for the tag to turn strong (see webdav_xml.h for how weak and
 * missing tags are recorded).
 *
 * Other things the protocol leaves to the client: a read PROPFINDs first and
 * checks the GET's reply against that version before any byte reaches the
 * sink (a changed file is fetched again, never delivered torn); a remove
 * PROPFINDs at depth 1, since DELETE takes a collection's members along; a
 * rename checks the destination's parent, since nginx would make it. A
 * request that moves no byte for timeout_ms fails (a progress callback).
 *
 * The object owns its copies of the URL and of the credentials (wiped on
 * free); neither a secret nor a credential-bearing URL is ever logged or put
 * in an error detail: details name share-relative paths.
 */
#include "backend.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "path.h"
#include "util.h"
#include "webdav_xml.h"

/* of_error_set that visibly returns code (to readers and to the static analyzer alike). */
#define FAIL(err, code, ...) (of_error_set((err), (code), __VA_ARGS__), (code))

#define HDR_VALUE_MAX 256
#define READ_ATTEMPTS 3
#define WEAK_WAITS 4
#define WEAK_WAIT_MS 500

static const char propfind_body[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:resourcetype/><D:getcontentlength/>"
    "<D:getlastmodified/><D:getetag/></D:prop></D:propfind>\n";

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

    CURLM *multi;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock;
    struct xfer *queue, *queue_tail; /* waiting to be added to the multi; under lock */
    struct xfer *active;             /* in the multi; backend thread only */
    struct xfer *unpause;            /* paused transfers whose callers made room; under lock */
    int stopping;                    /* under lock */
};

enum body_mode { BODY_DISCARD, BODY_XML, BODY_SINK };

/* One request: built by an operation, performed by the backend thread. */
struct xfer {
    struct webdav *w;
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

    /* Stall detection: when the byte counts last moved (ms, monotonic). */
    curl_off_t moved;
    int64_t moved_ms;
    int stalled;

    /*
     * Hand-off of a sink's bytes (under w->lock): the backend thread copies
     * them into hbuf, the waiting caller's thread writes them to the sink,
     * so hashing and writing the cache run on the callers' threads, in
     * parallel, not on the one thread that drives every transfer. A full
     * buffer pauses the transfer until the caller has taken it.
     */
    int handoff;
    char *hbuf, *hspare;
    size_t hlen, hcap;
    int paused;  /* paused for room; the caller queues it on w->unpause */
    int stop;    /* the caller's sink failed with this code: abort */
    int queued;  /* on w->unpause */
    struct xfer *next_unpause;

    CURLcode result;
    long status;
    int done; /* under w->lock */
    pthread_cond_t cv; /* done, or bytes to hand off */
    struct xfer *next;
};

#define HANDOFF_BYTES ((size_t)96 * 1024)

/* ---- the backend thread ---- */

static void
finish(struct webdav *w, struct xfer *x, CURLcode result)
{
    long status = 0;
    if (result != CURLE_ABORTED_BY_CALLBACK)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    pthread_mutex_lock(&w->lock);
    x->result = result;
    x->status = status;
    x->done = 1;
    /* The caller frees x once done: it must not stay queued for a resume. */
    struct xfer **pp = &w->unpause;
    while (x->queued && *pp) {
        if (*pp == x) {
            *pp = x->next_unpause;
            x->queued = 0;
        } else {
            pp = &(*pp)->next_unpause;
        }
    }
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&w->lock);
}

static void
unlink_active(struct webdav *w, struct xfer *x)
{
    for (struct xfer **pp = &w->active; *pp; pp = &(*pp)->next) {
        if (*pp == x) {
            *pp = x->next;
            return;
        }
    }
}

/* Take the queued transfers into the multi; 1 when the backend is stopping. */
static int
admit(struct webdav *w)
{
    pthread_mutex_lock(&w->lock);
    int stopping = w->stopping;
    struct xfer *q = w->queue;
    w->queue = w->queue_tail = NULL;
    pthread_mutex_unlock(&w->lock);
    while (q) {
        struct xfer *x = q;
        q = q->next;
        if (stopping) {
            finish(w, x, CURLE_ABORTED_BY_CALLBACK);
        } else if (curl_multi_add_handle(w->multi, x->easy) != CURLM_OK) {
            finish(w, x, CURLE_OUT_OF_MEMORY);
        } else {
            x->next = w->active;
            w->active = x;
        }
    }
    return stopping;
}

/* Hand finished transfers back to their callers; returns how many. */
static int
reap(struct webdav *w)
{
    CURLMsg *m;
    int left, finished = 0;
    while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode result = m->data.result;
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        struct xfer *x = (struct xfer *)priv;
        curl_multi_remove_handle(w->multi, easy);
        unlink_active(w, x);
        finish(w, x, result);
        finished++;
    }
    return finished;
}

/* Resume the transfers whose callers took their bytes (curl_easy_pause is this thread's). */
static void
resume_paused(struct webdav *w)
{
    pthread_mutex_lock(&w->lock);
    struct xfer *q = w->unpause;
    w->unpause = NULL;
    for (struct xfer *x = q; x; x = x->next_unpause)
        x->queued = 0;
    pthread_mutex_unlock(&w->lock);
    while (q) {
        struct xfer *x = q;
        q = q->next_unpause;
        curl_easy_pause(x->easy, CURLPAUSE_CONT);
    }
}

static void *
loop(void *arg)
{
    struct webdav *w = arg;
    while (!admit(w)) {
        resume_paused(w);
        int running;
        curl_multi_perform(w->multi, &running);
        /*
         * A finished transfer frees a connection that a transfer waiting
         * for one (CURLMOPT_MAX_HOST_CONNECTIONS) may take now: perform
         * again before polling, or that one waits out the poll's timeout.
         */
        if (reap(w) > 0)
            continue;
        curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
    }
    while (w->active) {
        struct xfer *x = w->active;
        w->active = x->next;
        curl_multi_remove_handle(w->multi, x->easy);
        finish(w, x, CURLE_ABORTED_BY_CALLBACK);
    }
    return NULL;
}

/* Queue x to be resumed by the backend thread (under w->lock); 1 if it must be woken. */
static int
queue_unpause(struct webdav *w, struct xfer *x)
{
    if (!x->paused || x->queued || x->done)
        return 0;
    x->paused = 0;
    x->queued = 1;
    x->next_unpause = w->unpause;
    w->unpause = x;
    return 1;
}

/*
 * Wait until x is done, writing what the backend thread hands off to the
 * sink meanwhile (w->lock held on entry and exit).
 */
static void
drain(struct webdav *w, struct xfer *x)
{
    for (;;) {
        while (!x->done && x->hlen == 0)
            pthread_cond_wait(&x->cv, &w->lock);
        if (x->hlen == 0)
            return;
        char *buf = x->hbuf;
        size_t len = x->hlen;
        x->hbuf = x->hspare;
        x->hspare = buf;
        x->hlen = 0;
        int wake = queue_unpause(w, x);
        int stopped = x->stop;
        pthread_mutex_unlock(&w->lock);
        if (wake)
            curl_multi_wakeup(w->multi);
        int rc = stopped ? 0 : x->sink->write(x->sink->ctx, buf, len);
        pthread_mutex_lock(&w->lock);
        if (rc != 0 && !x->stop) {
            /* Abort at the next callback; a paused transfer must run to reach it. */
            x->stop = rc < 0 ? rc : OF_E(INTERNAL);
            x->paused = 1;
            if (queue_unpause(w, x))
                curl_multi_wakeup(w->multi);
        }
    }
}

/* Hand x to the backend thread and wait until it is done. */
static void
perform(struct webdav *w, struct xfer *x)
{
    pthread_mutex_lock(&w->lock);
    if (w->stopping) {
        pthread_mutex_unlock(&w->lock);
        x->result = CURLE_ABORTED_BY_CALLBACK;
        return;
    }
    x->next = NULL;
    if (w->queue_tail)
        w->queue_tail->next = x;
    else
        w->queue = x;
    w->queue_tail = x;
    pthread_mutex_unlock(&w->lock);
    curl_multi_wakeup(w->multi);
    pthread_mutex_lock(&w->lock);
    drain(w, x);
    if (x->stop && !x->sink_rc)
        x->sink_rc = x->stop;
    pthread_mutex_unlock(&w->lock);
}

/* ---- curl callbacks (on the backend thread) ---- */

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A request that moves no byte either way for timeout_ms fails. (curl's own
 * low-speed check averages over seconds, so bytes sent in a request body
 * hide a silent server for a while; it stays on to wake this up each second.)
 */
static int
on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    struct xfer *x = ud;
    (void)dltotal;
    (void)ultotal;
    int64_t now = mono_ms();
    if (dlnow + ulnow != x->moved || x->moved_ms == 0) {
        x->moved = dlnow + ulnow;
        x->moved_ms = now;
        return 0;
    }
    if (now - x->moved_ms < x->w->timeout_ms)
        return 0;
    x->stalled = 1;
    return 1;
}

static void
header_value(const char *v, size_t len, char *out, size_t cap)
{
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    if (len >= cap)
        len = 0; /* too long to be what we look for: as if absent */
    memcpy(out, v, len);
    out[len] = '\0';
}

static size_t
on_header(char *line, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue or an auth challenge): forget the last. */
        x->etag[0] = x->last_modified[0] = x->content_range[0] = '\0';
        x->content_length = -1;
        return len;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return len;
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vlen = len - nlen - 1;
    char num[32];
    if (nlen == 4 && strncasecmp(line, "ETag", 4) == 0) {
        header_value(v, vlen, x->etag, sizeof(x->etag));
    } else if (nlen == 13 && strncasecmp(line, "Last-Modified", 13) == 0) {
        header_value(v, vlen, x->last_modified, sizeof(x->last_modified));
    } else if (nlen == 13 && strncasecmp(line, "Content-Range", 13) == 0) {
        header_value(v, vlen, x->content_range, sizeof(x->content_range));
    } else if (nlen == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
        header_value(v, vlen, num, sizeof(num));
        int64_t cl;
        if (of_parse_i64(num, &cl) == 0 && cl >= 0)
            x->content_length = cl;
    }
    return len;
}

/* "bytes FIRST-LAST/TOTAL" (TOTAL may be "*": -1); 0 or -1. */
static int
parse_content_range(const char *s, int64_t *ret_first, int64_t *ret_total)
{
    long long first, last;
    char total[32];
    int used = 0;
    if (sscanf(s, "bytes %lld-%lld/%31s%n", &first, &last, total, &used) != 3 || s[used] != '\0' ||
        first < 0 || last < first)
        return -1;
    int64_t t = -1;
    if (strcmp(total, "*") != 0 && (of_parse_i64(total, &t) < 0 || t <= last))
        return -1;
    *ret_first = first;
    *ret_total = t;
    return 0;
}

/*
 * Is this 200/206 response of the version we expect, and where do our bytes
 * start? Checked once, before any byte reaches the sink, so that a file that
 * changed since its PROPFIND is fetched again rather than delivered torn.
 */
static int
check_response(struct xfer *x, long code)
{
    const struct of_stat *want = &x->expect->st;
    int64_t total = x->content_length;
    if (code == 206) {
        int64_t first;
        if (parse_content_range(x->content_range, &first, &total) < 0 || first != x->offset)
            return -1;
        x->skip = 0;
    } else {
        x->skip = x->offset; /* the server ignored the Range: skip to the offset ourselves */
    }
    struct of_stat got = *want;
    if (x->etag[0] && (x->expect->flags & OF_WEBDAV_ETAG_SERVER)) {
        of_webdav_etag_set(x->etag, &got);
        return strcmp(got.etag, want->etag) == 0 ? 0 : -1;
    }
    int64_t lm;
    if (x->last_modified[0] && of_webdav_http_date(x->last_modified, &lm) == 0 &&
        lm / 1000000000 != want->mtime_ns / 1000000000)
        return -1;
    return total >= 0 && total != want->size ? -1 : 0;
}

static size_t
sink_body(struct xfer *x, long code, const char *data, size_t len)
{
    if (code != 200 && code != 206)
        return len; /* an error page: not content */
    if (!x->checked) {
        x->checked = 1;
        if (x->expect && check_response(x, code) < 0) {
            x->mismatch = 1;
            return 0;
        }
    }
    size_t n = len;
    if (x->skip > 0) {
        size_t s = (int64_t)n < x->skip ? n : (size_t)x->skip;
        data += s;
        n -= s;
        x->skip -= (int64_t)s;
    }
    if (x->want >= 0 && (int64_t)n > x->want - x->got)
        n = (size_t)(x->want - x->got);
    if (n > 0 && x->handoff) {
        /* on_body made sure the whole chunk fits. */
        pthread_mutex_lock(&x->w->lock);
        memcpy(x->hbuf + x->hlen, data, n);
        if ((x->hlen += n) == n)
            pthread_cond_signal(&x->cv);
        pthread_mutex_unlock(&x->w->lock);
        x->got += (int64_t)n;
    } else if (n > 0) {
        int rc = x->sink->write(x->sink->ctx, data, n);
        if (rc != 0) {
            x->sink_rc = rc < 0 ? rc : OF_E(INTERNAL);
            return 0;
        }
        x->got += (int64_t)n;
    }
    if (x->want >= 0 && x->got == x->want) {
        x->complete = 1;
        return n == len ? len : 0; /* the rest of a whole-file reply is not ours */
    }
    return len;
}

static size_t
on_body(char *data, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    long code = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    if (x->mode == BODY_XML && code == 207)
        return of_webdav_xml_feed(x->xml, data, len) == 0 ? len : 0;
    if (x->mode == BODY_SINK && x->handoff) {
        /* Before sink_body moves any state: a paused chunk comes again, whole. */
        pthread_mutex_lock(&x->w->lock);
        int stop = x->stop, full = x->hlen + len > x->hcap;
        if (full && !stop)
            x->paused = 1;
        pthread_mutex_unlock(&x->w->lock);
        if (stop)
            return 0;
        if (full)
            return CURL_WRITEFUNC_PAUSE;
    }
    if (x->mode == BODY_SINK)
        return sink_body(x, code, data, len);
    return len;
}

static size_t
on_upload(char *buf, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t cap = size * n;
    if (x->up_off >= x->up_len)
        return 0;
    if ((int64_t)cap > x->up_len - x->up_off)
        cap = (size_t)(x->up_len - x->up_off);
    ssize_t got = of_pread_full(x->fd, buf, cap, (off_t)x->up_off);
    if (got <= 0) {
        x->read_failed = 1;
        return CURL_READFUNC_ABORT;
    }
    x->up_off += got;
    return (size_t)got;
}

/* curl rewinds the body to send it again (an auth challenge, a redirect). */
static int
on_seek(void *ud, curl_off_t off, int origin)
{
    struct xfer *x = ud;
    if (origin != SEEK_SET || off < 0 || off > x->up_len)
        return CURL_SEEKFUNC_CANTSEEK;
    x->up_off = off;
    return CURL_SEEKFUNC_OK;
}

/* ---- requests ---- */

static int
xfer_init(struct webdav *w, struct xfer *x, const char *method, const char *url)
{
    memset(x, 0, sizeof(*x));
    x->w = w;
    x->fd = -1;
    x->content_length = -1;
    pthread_cond_init(&x->cv, NULL);
    x->easy = curl_easy_init();
    if (!x->easy)
        return OF_E(NOMEM);
    CURL *c = x->easy;
    long low_speed_time = (w->timeout_ms + 999) / 1000;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)x);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, w->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, low_speed_time > 0 ? low_speed_time : 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "offlinefiles/" OF_VERSION);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, w->insecure ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, w->insecure ? 0L : 2L);
    if (w->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, w->ca_file);
    if (w->auth == OF_AUTH_BASIC || w->auth == OF_AUTH_DIGEST) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH,
                         w->auth == OF_AUTH_BASIC ? CURLAUTH_BASIC : CURLAUTH_DIGEST);
        curl_easy_setopt(c, CURLOPT_USERNAME, w->username ? w->username : "");
        curl_easy_setopt(c, CURLOPT_PASSWORD, w->secret ? w->secret : "");
    } else if (w->auth == OF_AUTH_BEARER) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, w->secret ? w->secret : "");
    }
    if (strcmp(method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    return 0;
}

static int
xfer_header(struct xfer *x, const char *line)
{
    struct curl_slist *l = curl_slist_append(x->hdrs, line);
    if (!l)
        return OF_E(NOMEM);
    x->hdrs = l;
    return 0;
}

static void
xfer_done(struct xfer *x)
{
    pthread_cond_destroy(&x->cv);
    free(x->hbuf);
    free(x->hspare);
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->hdrs);
    of_webdav_xml_free(x->xml);
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static const char *
shown(const char *rel)
{
    return rel[0] ? rel : "/";
}

/* Perform x (its headers attached here); what and rel only name it in the debug log. */
static void
run(struct webdav *w, struct xfer *x, const char *what, const char *rel)
{
    int64_t t0 = mono_ms();
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
    if (x->mode == BODY_SINK && !x->hbuf) {
        /* curl hands over at most CURL_MAX_WRITE_SIZE at a time: a buffer holds several. */
        x->hbuf = malloc(HANDOFF_BYTES);
        x->hspare = malloc(HANDOFF_BYTES);
        x->hcap = HANDOFF_BYTES;
        x->handoff = x->hbuf && x->hspare;
    }
    perform(w, x);
    of_log_debug("webdav: %s '%s': %s, HTTP %ld, %" PRId64 " ms", what, shown(rel),
                 x->result == CURLE_OK ? "done" : curl_easy_strerror(x->result), x->status,
                 mono_ms() - t0);
}

/* A transfer that got no complete answer. */
static int
transport_fail(const struct xfer *x, const char *what, const char *rel, struct of_error *err)
{
    const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result);
    if (x->read_failed)
        return FAIL(err, OF_E(IO), "cannot read the new content of '%s'", shown(rel));
    switch (x->result) {
    case CURLE_OUT_OF_MEMORY:
        return FAIL(err, OF_E(NOMEM), "out of memory while %s '%s'", what, shown(rel));
    case CURLE_READ_ERROR:
        return FAIL(err, OF_E(IO), "cannot read the new content of '%s'", shown(rel));
    case CURLE_ABORTED_BY_CALLBACK:
        if (x->stalled)
            return FAIL(err, OF_E(UNAVAILABLE),
                        "the server stopped answering while %s '%s' (%ld ms)", what, shown(rel),
                        x->w->timeout_ms);
        return FAIL(err, OF_E(UNAVAILABLE), "the share is being closed");
    default:
        /* Connect, TLS, timeout, reset, a body cut short: the share, not the item. */
        return FAIL(err, OF_E(UNAVAILABLE), "no complete answer from the server while %s '%s': %s",
                    what, shown(rel), why);
    }
}

/* An HTTP status no operation expected. */
static int
status_fail(const struct webdav *w, long st, const char *what, const char *rel,
            struct of_error *err)
{
    const char *p = shown(rel);
    if ((st == 401 || st == 407) && w->auth == OF_AUTH_NONE)
        return FAIL(err, OF_E(UNAVAILABLE),
                    "the server asks for credentials (HTTP %ld) and the share has none", st);
    if (st == 401 || st == 403 || st == 407)
        return FAIL(err, OF_E(UNAVAILABLE), "the server refused the credentials (HTTP %ld)", st);
    if (st == 404 || st == 410)
        return FAIL(err, OF_E(NOT_FOUND), "'%s' does not exist", p);
    if (st == 412)
        return FAIL(err, OF_E(PRECONDITION), "'%s' changed on the server", p);
    if (st == 423)
        return FAIL(err, OF_E(UNAVAILABLE), "'%s' is locked on the server", p);
    if (st == 507)
        return FAIL(err, OF_E(IO), "the server is out of space while %s '%s'", what, p);
    if (st >= 500)
        return FAIL(err, OF_E(UNAVAILABLE), "the server failed (HTTP %ld) while %s '%s'", st, what,
                    p);
    return FAIL(err, OF_E(IO), "the server answered HTTP %ld while %s '%s'", st, what, p);
}

/* ---- URLs ---- */

static int
unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/*
 * The URL of rel: the share's URL, then each segment percent-encoded as
 * curl_easy_escape would (only unreserved bytes stay); collection: end with
 * a slash. Malloc'ed; NULL when out of memory.
 */
static char *
url_of(const struct webdav *w, const char *rel, int collection)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t blen = strlen(w->url), rlen = strlen(rel);
    char *u = malloc(blen + 3 * rlen + 2);
    if (!u)
        return NULL;
    memcpy(u, w->url, blen);
    char *o = u + blen;
    for (const unsigned char *p = (const unsigned char *)rel; *p; p++) {
        if (*p == '/' || unreserved(*p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    if (collection && rlen)
        *o++ = '/';
    *o = '\0';
    return u;
}

static int
check_rel(const char *rel, struct of_error *err)
{
    if (!rel || of_path_validate_rel(rel, err) < 0)
        return FAIL(err, OF_E(BAD_PATH), "'%s' is not a valid share path", rel ? rel : "");
    return 0;
}

/* ---- PROPFIND ---- */

static int
propfind_once(struct webdav *w, const char *rel, int depth, int slash,
              struct of_webdav_entry **ret_v, size_t *ret_n, long *ret_status, struct of_error *err)
{
    struct xfer x;
    char *url = url_of(w, rel, slash);
    int rc = url ? xfer_init(w, &x, "PROPFIND", url) : OF_E(NOMEM);
    if (rc == 0)
        rc = of_webdav_xml_new(url + w->origin_len, &x.xml, err);
    if (rc == 0)
        rc = xfer_header(&x, depth ? "Depth: 1" : "Depth: 0");
    if (rc == 0)
        rc = xfer_header(&x, "Content-Type: application/xml; charset=utf-8");
    if (rc < 0) {
        rc = FAIL(err, rc, "cannot prepare a request for '%s'", shown(rel));
        goto out;
    }
    x.mode = BODY_XML;
    curl_easy_setopt(x.easy, CURLOPT_POSTFIELDS, propfind_body);
    curl_easy_setopt(x.easy, CURLOPT_POSTFIELDSIZE, (long)(sizeof(propfind_body) - 1));
    run(w, &x, depth ? "PROPFIND 1" : "PROPFIND 0", rel);
    *ret_status = x.status;
    if (x.status == 207 && (x.result == CURLE_OK || x.result == CURLE_WRITE_ERROR))
        rc = of_webdav_xml_finish(x.xml, ret_v, ret_n, err);
    else if (x.result != CURLE_OK)
        rc = transport_fail(&x, "reading", rel, err);
    else if (x.status >= 300 && x.status < 400)
        rc = FAIL(err, OF_E(IO), "the server redirected the request for '%s'", shown(rel));
    else if (x.status >= 200 && x.status < 300)
        rc = FAIL(err, OF_E(UNAVAILABLE), "the server's reply about '%s' is not a DAV multistatus",
                  shown(rel));
    else
        rc = status_fail(w, x.status, "reading", rel, err);
out:
    if (url)
        xfer_done(&x);
    free(url);
    return rc;
}

/* Note whether the server tags files in its PROPFIND replies (the first file seen decides). */
static void
learn_etags(struct webdav *w, const struct of_webdav_entry *v, size_t n)
{
    if (__atomic_load_n(&w->propfind_etags, __ATOMIC_RELAXED) >= 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (v[i].st.type == OF_STAT_FILE) {
            int tags = (v[i].flags & OF_WEBDAV_ETAG_SERVER) != 0;
            __atomic_store_n(&w->propfind_etags, tags, __ATOMIC_RELAXED);
            return;
        }
    }
}

/*
 * PROPFIND rel at depth 0 or 1: its entries (malloc'ed) and a pointer to the
 * one for rel itself. A server that redirects a collection's URL to its
 * slash form is asked again at that form.
 */
static int
propfind(struct webdav *w, const char *rel, int depth, struct of_webdav_entry **ret_v,
         size_t *ret_n, struct of_webdav_entry **ret_self, struct of_error *err)
{
    struct of_webdav_entry *v = NULL;
    size_t n = 0;
    long status = 0;
    int rc = propfind_once(w, rel, depth, 0, &v, &n, &status, err);
    if (rc < 0 && status >= 300 && status < 400 && rel[0])
        rc = propfind_once(w, rel, depth, 1, &v, &n, &status, err);
    if (rc < 0)
        return rc;
    struct of_webdav_entry *self = NULL;
    for (size_t i = 0; i < n && !self; i++)
        if (v[i].name[0] == '\0')
            self = &v[i];
    if (!self) {
        free(v);
        return FAIL(err, OF_E(UNAVAILABLE), "the server's reply does not describe '%s' itself",
                    shown(rel));
    }
    learn_etags(w, v, n);
    /* Hidden follows the item's own name, as in a listing of its parent. */
    const char *name = rel[0] ? of_path_name(rel) : "";
    if (name[0] == '.')
        self->st.attrs |= OF_ATTR_HIDDEN;
    *ret_v = v;
    *ret_n = n;
    *ret_self = self;
    return 0;
}

static int
stat_entry(struct webdav *w, const char *rel, struct of_webdav_entry *ret, struct of_error *err)
{
    struct of_webdav_entry *v, *self;
    size_t n;
    int rc = propfind(w, rel, 0, &v, &n, &self, err);
    if (rc < 0)
        return rc;
    *ret = *self;
    free(v);
    return 0;
}

/* The parent of rel into buf (OF_PATH_MAX + 1 bytes). */
static void
parent_of(const char *rel, char *buf)
{
    const char *slash = strrchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : 0;
    memcpy(buf, rel, n);
    buf[n] = '\0';
}

/*
 * Creating rel failed with HTTP st: say why from its parent's state (servers
 * answer 404, 409 or even 500 for a missing parent).
 */
static int
create_fail(struct webdav *w, const char *rel, long st, const char *what, struct of_error *err)
{
    char parent[OF_PATH_MAX + 1];
    struct of_webdav_entry pe;
    struct of_error perr = {0};
    parent_of(rel, parent);
    int rc = stat_entry(w, parent, &pe, &perr);
    if (rc == OF_E(NOT_FOUND))
        return FAIL(err, OF_E(PARENT_MISSING), "the directory '%s' does not exist", shown(parent));
    if (rc == 0 && pe.st.type != OF_STAT_DIR)
        return FAIL(err, OF_E(NOT_A_DIR), "'%s' is not a directory", shown(parent));
    if (rc == OF_E(UNAVAILABLE) && st < 500) {
        if (err)
            *err = perr;
        return rc;
    }
    if (st == 404 || st == 409)
        return FAIL(err, OF_E(IO), "the server refused %s '%s' (HTTP %ld)", what, shown(rel), st);
    return status_fail(w, st, what, rel, err);
}

/*
 * Check the precondition if_match ("" or an etag) of a change to rel against
 * the server's current state, read at depth, and write the header that makes
 * the server check it again (hdr, cap bytes, "" for none). The entries read
 * (NULL when rel does not exist) are handed to the caller.
 */
static int
precheck(struct webdav *w, const char *rel, const char *if_match, int depth, char *hdr, size_t cap,
         struct of_webdav_entry **ret_v, size_t *ret_n, struct of_webdav_entry **ret_self,
         struct of_error *err)
{
    for (int waits = 0;; waits++) {
        struct of_webdav_entry *v = NULL, *self = NULL;
        size_t n = 0;
        int rc = propfind(w, rel, depth, &v, &n, &self, err);
        hdr[0] = '\0';
        if (rc == OF_E(NOT_FOUND) && !if_match[0]) {
            snprintf(hdr, cap, "If-None-Match: *");
            *ret_v = *ret_self = NULL;
            *ret_n = 0;
            return 0;
        }
        if (rc < 0)
            return rc;
        if (!if_match[0] || strcmp(self->st.etag, if_match) != 0) {
            free(v);
            return FAIL(err, OF_E(PRECONDITION),
                        if_match[0] ? "'%s' changed on the server"
                                    : "'%s' already exists on the server",
                        rel);
        }
        unsigned int f = self->flags;
        if ((f & OF_WEBDAV_ETAG_SERVER) && !(f & OF_WEBDAV_ETAG_WEAK))
            snprintf(hdr, cap, "If-Match: %s", self->st.etag);
        /* A weak tag fails If-Match: wait for the server to call it strong, for a while. */
        if ((f & OF_WEBDAV_ETAG_SERVER) && (f & OF_WEBDAV_ETAG_WEAK) && waits < WEAK_WAITS) {
            free(v);
            sleep_ms(WEAK_WAIT_MS);
            continue;
        }
        *ret_v = v;
        *ret_n = n;
        *ret_self = self;
        return 0;
    }
}

/* ---- operations ---- */

static int
wd_stat(struct of_backend *be, const char *rel, struct of_stat *ret_st, struct of_error *err)
{
    struct of_webdav_entry e;
    int rc = check_rel(rel, err);
    if (rc == 0)
        rc = stat_entry((struct webdav *)be, rel, &e, err);
    if (rc == 0)
        *ret_st = e.st;
    return rc;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct of_dirent *)a)->name, ((const struct of_dirent *)b)->name);
}

static int
wd_list(struct of_backend *be, const char *rel, struct of_dirent **ret_entries, size_t *ret_count,
        struct of_error *err)
{
    struct of_webdav_entry *v, *self;
    size_t n, k = 0;
    int rc = check_rel(rel, err);
    if (rc == 0)
        rc = propfind((struct webdav *)be, rel, 1, &v, &n, &self, err);
    if (rc < 0)
        return rc;
    struct of_dirent *out = NULL;
    if (self->st.type != OF_STAT_DIR)
        rc = FAIL(err, OF_E(NOT_A_DIR), "'%s' is not a directory", shown(rel));
    else if (!(out = calloc(n, sizeof(*out)))) /* n counts rel itself too */
        rc = FAIL(err, OF_E(NOMEM), "out of memory listing '%s'", shown(rel));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (v[i].name[0] == '\0')
            continue;
        memcpy(out[k].name, v[i].name, sizeof(out[k].name));
        out[k].st = v[i].st;
        k++;
    }
    free(v);
    if (rc < 0) {
        free(out);
        return rc;
    }
    /* Sorted, so that callers and tests see a stable order (as from the fs backend). */
    if (k > 1)
        qsort(out, k, sizeof(*out), by_name);
    *ret_entries = out;
    *ret_count = k;
    return 0;
}

/*
 * One GET of bytes [offset, offset + want) of the version cur describes.
 * Returns 0, 1 when the server holds another version by now (nothing was
 * delivered), or a negative code.
 */
static int
get_once(struct webdav *w, const char *rel, const struct of_webdav_entry *cur, int64_t offset,
         int64_t want, const struct of_sink *sink, struct of_error *err)
{
    struct xfer x;
    char range[64], hdr[OF_ETAG_MAX + 16];
    char *url = url_of(w, rel, 0);
    int rc = url ? xfer_init(w, &x, "GET", url) : OF_E(NOMEM);
    unsigned int f = cur->flags;
    if (rc == 0 && (f & OF_WEBDAV_ETAG_SERVER) && !(f & OF_WEBDAV_ETAG_WEAK)) {
        snprintf(hdr, sizeof(hdr), "If-Match: %s", cur->st.etag);
        rc = xfer_header(&x, hdr);
    }
    if (rc < 0) {
        rc = FAIL(err, rc, "cannot prepare a request for '%s'", rel);
        goto out;
    }
    if (offset > 0 || want < cur->st.size - offset) {
        snprintf(range, sizeof(range), "%" PRId64 "-%" PRId64, offset, offset + want - 1);
        curl_easy_setopt(x.easy, CURLOPT_RANGE, range);
    }
    x.mode = BODY_SINK;
    x.sink = sink;
    x.expect = cur;
    x.offset = offset;
    x.want = want;
    run(w, &x, "GET", rel);
    if (x.sink_rc)
        rc = FAIL(err, x.sink_rc, "the transfer of '%s' was stopped by its receiver", rel);
    else if (x.mismatch || x.status == 412 || x.status == 416)
        rc = 1;
    else if (x.result != CURLE_OK && !(x.complete && x.result == CURLE_WRITE_ERROR))
        rc = transport_fail(&x, "reading", rel, err);
    else if (x.status != 200 && x.status != 206)
        rc = status_fail(w, x.status, "reading", rel, err);
    else if (x.got != want)
        rc = FAIL(err, OF_E(UNAVAILABLE), "the download of '%s' was cut short", rel);
out:
    if (url)
        xfer_done(&x);
    free(url);
    return rc;
}

/*
 * A whole file in one GET (or only its version, with a HEAD when sink is
 * NULL), its version read from the reply's own headers:
 * the reply is one version as the server sent it, so no PROPFIND is needed
 * first. Named as a listing would name it: by the ETag when the server's
 * PROPFIND gives tags, else by Last-Modified and size. Returns 1 when the
 * server answered anything but 200 (a directory, a missing file, a refusal):
 * nothing reached the sink, and the caller asks again the careful way.
 */
static int
get_whole(struct webdav *w, const char *rel, int tags, const struct of_sink *sink,
          struct of_stat *ret_st, struct of_error *err)
{
    struct xfer x;
    char *url = url_of(w, rel, 0);
    int rc = url ? xfer_init(w, &x, "GET", url) : OF_E(NOMEM);
    if (rc < 0) {
        rc = FAIL(err, rc, "cannot prepare a request for '%s'", rel);
        goto out;
    }
    if (sink) {
        x.mode = BODY_SINK;
        x.sink = sink;
        x.want = -1;
    } else {
        curl_easy_setopt(x.easy, CURLOPT_NOBODY, 1L); /* HEAD: the version, no bytes */
    }
    run(w, &x, sink ? "GET" : "HEAD", rel);
    if (!sink)
        x.got = x.content_length;
    int64_t mtime = 0;
    if (x.sink_rc)
        rc = FAIL(err, x.sink_rc, "the transfer of '%s' was stopped by its receiver", rel);
    else if (x.result != CURLE_OK)
        rc = transport_fail(&x, "reading", rel, err);
    else if (x.status != 200 || x.got < 0)
        rc = 1; /* nothing was delivered: let the careful path tell what is wrong */
    else if (x.content_length >= 0 && x.got != x.content_length)
        rc = FAIL(err, OF_E(UNAVAILABLE), "the download of '%s' was cut short", rel);
    else if (!x.last_modified[0] || of_webdav_http_date(x.last_modified, &mtime) < 0)
        rc = FAIL(err, OF_E(UNAVAILABLE), "the server did not say which version of '%s' it sent",
                  rel);
    if (rc == 0 && ret_st) {
        memset(ret_st, 0, sizeof(*ret_st));
        ret_st->type = OF_STAT_FILE;
        ret_st->size = x.got;
        ret_st->mtime_ns = mtime;
        if (of_path_name(rel)[0] == '.')
            ret_st->attrs |= OF_ATTR_HIDDEN;
        of_webdav_etag_set(tags ? x.etag : NULL, ret_st);
    }
out:
    if (url)
        xfer_done(&x);
    free(url);
    return rc;
}

static int
wd_read(struct of_backend *be, const char *rel, int64_t offset, int64_t length,
        const struct of_sink *sink, struct of_stat *ret_st, struct of_error *err)
{
    struct webdav *w = (struct webdav *)be;
    if (offset < 0)
        return FAIL(err, OF_E(BAD_RANGE), "a read cannot start before the file");
    int rc = check_rel(rel, err);
    int tags = __atomic_load_n(&w->propfind_etags, __ATOMIC_RELAXED);
    /* Until a listing has shown how the server names versions, ask it first (below). */
    if (rc == 0 && offset == 0 && length < 0 && tags >= 0 && rel[0]) {
        rc = get_whole(w, rel, tags, sink, ret_st, err);
        if (rc <= 0)
            return rc;
        rc = 0;
    }
    for (int attempt = 0; rc == 0 && attempt < READ_ATTEMPTS; attempt++) {
        struct of_webdav_entry cur;
        rc = stat_entry(w, rel, &cur, err);
        if (rc == 0 && cur.st.type != OF_STAT_FILE)
            rc = FAIL(err, OF_E(NOT_A_FILE), "'%s' is a directory", shown(rel));
        if (rc < 0)
            return rc;
        /* Past the end there is nothing to read, and offset + want must not overflow. */
        int64_t left = offset < cur.st.size ? cur.st.size - offset : 0;
        int64_t want = length >= 0 && length < left ? length : left;
        rc = want > 0 ? get_once(w, rel, &cur, offset, want, sink, err) : 0;
        if (rc == 0 && ret_st)
            *ret_st = cur.st;
        if (rc != 1)
            return rc;
        rc = 0; /* changed between the PROPFIND and the GET: look again */
    }
    return FAIL(err, OF_E(IO), "'%s' kept changing on the server while it was read", rel);
}

/* PUT the whole of fd_in (len bytes) to rel with the precondition header hdr. */
static int
put_once(struct webdav *w, const char *rel, int fd_in, int64_t len, const char *hdr, char *ret_etag,
         long *ret_status, struct of_error *err)
{
    struct xfer x;
    char *url = url_of(w, rel, 0);
    int rc = url ? xfer_init(w, &x, "PUT", url) : OF_E(NOMEM);
    if (rc == 0 && hdr[0])
        rc = xfer_header(&x, hdr);
    /*
     * A small body goes with the headers: waiting for a 100 Continue first
     * costs a round trip, and a second whenever a server answers late.
     */
    if (rc == 0 && len < ((int64_t)1 << 20))
        rc = xfer_header(&x, "Expect:");
    if (rc < 0) {
        rc = FAIL(err, rc, "cannot prepare a request for '%s'", rel);
        goto out;
    }
    x.fd = fd_in;
    x.up_len = len;
    curl_easy_setopt(x.easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(x.easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(x.easy, CURLOPT_READFUNCTION, on_upload);
    curl_easy_setopt(x.easy, CURLOPT_READDATA, &x);
    curl_easy_setopt(x.easy, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(x.easy, CURLOPT_SEEKDATA, &x);
    run(w, &x, "PUT", rel);
    *ret_status = x.status;
    snprintf(ret_etag, HDR_VALUE_MAX, "%s", x.etag);
    if (x.result != CURLE_OK)
        rc = transport_fail(&x, "writing", rel, err);
out:
    if (url)
        xfer_done(&x);
    free(url);
    return rc;
}

/* What we know of a version we just wrote when the server will not tell. */
static void
stat_guess(struct of_stat *st, enum of_stat_type type, int64_t size, const char *etag)
{
    memset(st, 0, sizeof(*st));
    st->type = type;
    st->size = size;
    st->mtime_ns = of_now_ns();
    st->attrs = type == OF_STAT_DIR ? OF_ATTR_DIRECTORY : 0;
    of_webdav_etag_set(etag, st);
}

static int wd_remove(struct of_backend *be, const char *rel, const char *if_match,
                     struct of_error *err);

/*
 * PUT nothing to a name that does not exist with an If-Match no version can
 * match: a server that honours preconditions answers 412 and creates
 * nothing; one that ignores them creates the file, which goes again at once.
 * Returns 1, 0, or -1 when the server could not be asked (ask again later).
 */
static int
probe_preconditions(struct webdav *w)
{
    unsigned char rnd[8];
    char rel[64], hex[17], etag[HDR_VALUE_MAX];
    long st = 0;
    struct of_error err = {0};
    if (of_random(rnd, sizeof(rnd)) < 0)
        return -1;
    of_hex(rnd, sizeof(rnd), hex);
    snprintf(rel, sizeof(rel), ".of-precondition-probe-%s", hex);
    if (put_once(w, rel, -1, 0, "If-Match: \"of-never-a-version\"", etag, &st, &err) < 0)
        return -1;
    if (st >= 200 && st < 300)
        wd_remove(&w->base, rel, NULL, &err);
    of_log_info("webdav: the server %s If-Match on PUT (HTTP %ld to the probe)",
                st == 412 ? "honours" : "does not honour", st);
    return st == 412;
}

static int
honours_preconditions(struct webdav *w)
{
    int v = __atomic_load_n(&w->preconds, __ATOMIC_ACQUIRE);
    if (v != -1)
        return v == 1;
    /* One thread probes; the others take the careful path meanwhile. */
    if (!__atomic_compare_exchange_n(&w->preconds, &v, -2, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return 0;
    v = probe_preconditions(w);
    __atomic_store_n(&w->preconds, v, __ATOMIC_RELEASE);
    return v == 1;
}

static int
wd_write(struct of_backend *be, const char *rel, int fd_in, const char *if_match,
         struct of_stat *ret_st, struct of_error *err)
{
    struct webdav *w = (struct webdav *)be;
    struct of_webdav_entry *v = NULL, *self = NULL, after;
    char hdr[OF_ETAG_MAX + 32] = "", etag[HDR_VALUE_MAX];
    size_t n = 0;
    struct stat sb;
    long st = 0;
    int rc = check_rel(rel, err);
    if (rc == 0 && !rel[0])
        rc = FAIL(err, OF_E(NOT_A_FILE), "the share root is a directory");
    if (rc == 0 && fstat(fd_in, &sb) < 0)
        rc = FAIL(err, OF_E(IO), "cannot read the new content of '%s'", rel);
    /*
     * An update of a server-tagged version goes straight out with If-Match
     * where the server honours it. A 412 may still be a tag the server calls
     * weak for now, so it is looked into the careful way below.
     */
    int direct = rc == 0 && if_match && if_match[0] == '"' && honours_preconditions(w);
    if (direct) {
        snprintf(hdr, sizeof(hdr), "If-Match: %s", if_match);
        rc = put_once(w, rel, fd_in, (int64_t)sb.st_size, hdr, etag, &st, err);
        direct = rc < 0 || st != 412;
        hdr[0] = '\0';
    }
    if (!direct && rc == 0 && if_match)
        rc = precheck(w, rel, if_match, 0, hdr, sizeof(hdr), &v, &n, &self, err);
    if (rc == OF_E(NOT_FOUND))
        rc = FAIL(err, OF_E(PRECONDITION), "'%s' no longer exists on the server", rel);
    if (rc == 0 && self && self->st.type == OF_STAT_DIR)
        rc = FAIL(err, OF_E(NOT_A_FILE), "'%s' is a directory", rel);
    free(v);
    if (!direct && rc == 0)
        rc = put_once(w, rel, fd_in, (int64_t)sb.st_size, hdr, etag, &st, err);
    if (rc < 0)
        return rc;
    if (st == 412)
        return FAIL(err, OF_E(PRECONDITION),
                    if_match && !if_match[0] ? "'%s' already exists on the server"
                                             : "'%s' changed on the server",
                    rel);
    if (st == 405 || ((st == 404 || st == 409) && stat_entry(w, rel, &after, NULL) == 0 &&
                      after.st.type == OF_STAT_DIR))
        return FAIL(err, OF_E(NOT_A_FILE), "'%s' is a directory", rel);
    if (st == 404 || st == 409 || st >= 500)
        return create_fail(w, rel, st, "writing", err);
    if (st < 200 || st >= 300)
        return status_fail(w, st, "writing", rel, err);
    /*
     * The new version's name: the server's own word when the PUT reply gave
     * one; else asked at once, with a HEAD where the server's listings are
     * known to name versions as its headers do (far cheaper than a PROPFIND).
     */
    struct of_stat out;
    int tags = __atomic_load_n(&w->propfind_etags, __ATOMIC_RELAXED);
    if (tags >= 0 && get_whole(w, rel, tags, NULL, &out, NULL) == 0)
        ;
    else if (stat_entry(w, rel, &after, NULL) == 0)
        out = after.st;
    else
        stat_guess(&out, OF_STAT_FILE, (int64_t)sb.st_size, etag);
    if (etag[0]) {
        out.mtime_ns = out.mtime_ns ? out.mtime_ns : of_now_ns();
        of_webdav_etag_set(etag, &out);
    }
    if (ret_st)
        *ret_st = out;
    return 0;
}

static int
wd_remove(struct of_backend *be, const char *rel, const char *if_match, struct of_error *err)
{
    struct webdav *w = (struct webdav *)be;
    struct of_webdav_entry *v = NULL, *self = NULL;
    char hdr[OF_ETAG_MAX + 32] = "";
    size_t n = 0;
    int rc = check_rel(rel, err);
    if (rc == 0 && !rel[0])
        rc = FAIL(err, OF_E(BAD_PATH), "the share root cannot be removed");
    if (rc == 0 && if_match)
        rc = precheck(w, rel, if_match, 1, hdr, sizeof(hdr), &v, &n, &self, err);
    else if (rc == 0)
        rc = propfind(w, rel, 1, &v, &n, &self, err);
    if (rc == 0 && !self)
        rc = FAIL(err, OF_E(NOT_FOUND), "'%s' does not exist", rel);
    /* DELETE of a collection takes its members with it; the contract wants only empty ones. */
    if (rc == 0 && self->st.type == OF_STAT_DIR && n > 1)
        rc = FAIL(err, OF_E(NOT_EMPTY), "the directory '%s' is not empty", rel);
    int dir = rc == 0 && self->st.type == OF_STAT_DIR;
    free(v);
    if (rc < 0)
        return rc;
    struct xfer x;
    char *url = url_of(w, rel, dir);
    rc = url ? xfer_init(w, &x, "DELETE", url) : OF_E(NOMEM);
    if (rc == 0 && hdr[0])
        rc = xfer_header(&x, hdr);
    if (rc < 0) {
        rc = FAIL(err, rc, "cannot prepare a request for '%s'", rel);
        goto out;
    }
    run(w, &x, "DELETE", rel);
    if (x.result != CURLE_OK)
        rc = transport_fail(&x, "removing", rel, err);
    else if (x.status == 207)
        rc = FAIL(err, OF_E(IO), "the server could not remove all of '%s'", rel);
    else if (x.status < 200 || x.status >= 300)
        rc = status_fail(w, x.status, "removing", rel, err);
out:
    if (url)
        xfer_done(&x);
    free(url);
    return rc;
}

static int
wd_mkdir(struct of_backend *be, const char *rel, struct of_stat *ret_st, struct of_error *err)
{
    struct webdav *w = (struct webdav *)be;
    struct of_webdav_entry after;
    struct xfer x;
    int rc = check_rel(rel, err);
    if (rc == 0 && !rel[0])
        rc = FAIL(err, OF_E(EXISTS), "the share root exists");
    if (rc < 0)
        return rc;
    char *url = url_of(w, rel, 1);
    rc = url ? xfer_init(w, &x, "MKCOL", url) : OF_E(NOMEM);
    if (rc < 0) {
        free(url);
        return FAIL(err, rc, "cannot prepare a request for '%s'", rel);
    }
    run(w, &x, "MKCOL", rel);
    long st = x.status;
    if (x.result != CURLE_OK)
        rc = transport_fail(&x, "creating", rel, err);
    xfer_done(&x);
    free(url);
    if (rc < 0)
        return rc;
    if (st == 405)
        return FAIL(err, OF_E(EXISTS), "'%s' already exists", rel);
    if (st == 404 || st == 409 || st >= 500)
        return create_fail(w, rel, st, "creating", err);
    if (st < 200 || st >= 300)
        return status_fail(w, st, "creating", rel, err);
    if (ret_st && stat_entry(w, rel, &after, NULL) == 0)
        *ret_st = after.st;
    else if (ret_st)
        stat_guess(ret_st, OF_STAT_DIR, 0, NULL);
    return 0;
}

static int
move(struct webdav *w, const char *from, const char *to, int dir, int replace, struct of_error *err)
{
    struct xfer x;
    char *dest = url_of(w, to, dir), *line = NULL;
    char *url = dest ? url_of(w, from, dir) : NULL;
    int rc = url ? xfer_init(w, &x, "MOVE", url) : OF_E(NOMEM);
    if (rc == 0) {
        size_t cap = strlen(dest) + 16;
        line = malloc(cap);
        rc = line ? 0 : OF_E(NOMEM);
        if (line)
            snprintf(line, cap, "Destination: %s", dest);
    }
    if (rc == 0)
        rc = xfer_header(&x, line);
    if (rc == 0)
        rc = xfer_header(&x, replace ? "Overwrite: T" : "Overwrite: F");
    if (rc < 0) {
        rc = FAIL(err, rc, "cannot prepare a request for '%s'", from);
        goto out;
    }
    run(w, &x, "MOVE", from);
    long st = x.status;
    if (x.result != CURLE_OK)
        rc = transport_fail(&x, "moving", from, err);
    else if (st == 412 && !replace)
        rc = FAIL(err, OF_E(EXISTS), "'%s' already exists", to);
    else if (st == 409 || (st >= 500 && st != 502))
        rc = create_fail(w, to, st, "moving to", err);
    else if (st < 200 || st >= 300)
        rc = status_fail(w, st, "moving", from, err);
out:
    if (url)
        xfer_done(&x);
    free(line);
    free(url);
    free(dest);
    return rc;
}

static int
wd_rename(struct of_backend *be, const char *from, const char *to, int replace,
          struct of_error *err)
{
    struct webdav *w = (struct webdav *)be;
    struct of_webdav_entry src, dst;
    int rc = check_rel(from, err);
    if (rc == 0)
        rc = check_rel(to, err);
    if (rc == 0 && (!from[0] || !to[0]))
        rc = FAIL(err, OF_E(BAD_PATH), "the share root cannot be moved");
    size_t flen = rc == 0 ? strlen(from) : 0;
    if (rc == 0 && strncmp(to, from, flen) == 0 && to[flen] == '/')
        rc = FAIL(err, OF_E(INVALID), "'%s' cannot move into itself", from);
    if (rc == 0)
        rc = stat_entry(w, from, &src, err);
    if (rc < 0 || strcmp(from, to) == 0)
        return rc;
    int dir = src.st.type == OF_STAT_DIR;
    struct of_error derr = {0};
    int found = replace ? stat_entry(w, to, &dst, &derr) : OF_E(NOT_FOUND);
    if (found == OF_E(UNAVAILABLE)) {
        if (err)
            *err = derr;
        return found;
    }
    /* replace overwrites files only: swallowing a directory is never what a client meant. */
    if (found == 0 && dst.st.type == OF_STAT_DIR)
        return FAIL(err, OF_E(NOT_A_FILE), "'%s' is a directory", to);
    if (found == 0 && dir)
        return FAIL(err, OF_E(NOT_A_DIR), "'%s' is not a directory", to);
    /* Some servers (nginx) make the missing parents of a destination: the contract does not. */
    char parent[OF_PATH_MAX + 1];
    struct of_webdav_entry pe;
    parent_of(to, parent);
    rc = parent[0] ? stat_entry(w, parent, &pe, err) : 0;
    if (rc == OF_E(NOT_FOUND))
        return FAIL(err, OF_E(PARENT_MISSING), "the directory '%s' does not exist", parent);
    if (rc == 0 && parent[0] && pe.st.type != OF_STAT_DIR)
        return FAIL(err, OF_E(NOT_A_DIR), "'%s' is not a directory", parent);
    return rc < 0 ? rc : move(w, from, to, dir, replace, err);
}

static int
wd_probe(struct of_backend *be, struct of_error *err)
{
    struct of_webdav_entry root;
    int rc = stat_entry((struct webdav *)be, "", &root, err);
    if (rc == OF_E(NOT_FOUND))
        return FAIL(err, OF_E(UNAVAILABLE), "the share's collection does not exist on the server");
    if (rc == 0 && root.st.type != OF_STAT_DIR)
        return FAIL(err, OF_E(UNAVAILABLE), "the share's URL names a file, not a collection");
    if (rc < 0 && rc != OF_E(UNAVAILABLE)) {
        char why[sizeof(err->detail)];
        snprintf(why, sizeof(why), "%s", err ? err->detail : "");
        return FAIL(err, OF_E(UNAVAILABLE), "the share cannot be checked now: %s", why);
    }
    return rc;
}

static void
wipe(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void
wd_free(struct of_backend *be)
{
    struct webdav *w = (struct webdav *)be;
    if (!w)
        return;
    if (w->thread_started) {
        pthread_mutex_lock(&w->lock);
        w->stopping = 1;
        pthread_mutex_unlock(&w->lock);
        curl_multi_wakeup(w->multi);
        pthread_join(w->thread, NULL);
    }
    if (w->multi)
        curl_multi_cleanup(w->multi);
    pthread_mutex_destroy(&w->lock);
    free(w->url);
    wipe(w->username);
    wipe(w->secret);
    free(w->ca_file);
    free(w);
}

static const struct of_backend_ops webdav_ops = {
    .name = "webdav",
    .stat = wd_stat,
    .list = wd_list,
    .read = wd_read,
    .write = wd_write,
    .remove = wd_remove,
    .mkdir = wd_mkdir,
    .rename = wd_rename,
    .probe = wd_probe,
    .free = wd_free,
};

/* ---- opening ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Is part set in u? (A scheme-less or absent part reads as unset.) */
static int
has_part(CURLU *u, CURLUPart part)
{
    char *v = NULL;
    int has = curl_url_get(u, part, &v, 0) == CURLUE_OK && v && v[0];
    curl_free(v);
    return has;
}

/*
 * Check url and store it, normalized with a trailing slash, in w->url.
 * Credentials in the URL are refused: they would end up in the share's
 * configuration, its listing and logs.
 */
static int
parse_url(struct webdav *w, const char *url, struct of_error *err)
{
    char *scheme = NULL, *path = NULL, *full = NULL;
    int rc = OF_E(BAD_FIELD);
    /* curl reads "http:///x" as host "x"; RFC 9110 says an empty authority is invalid. */
    const char *auth = strstr(url, "://");
    if (!auth || auth[3] == '\0' || auth[3] == '/')
        return of_error_set(err, rc, "the remote URL needs a host: http://HOST/path");
    CURLU *u = curl_url();
    if (!u)
        return FAIL(err, OF_E(NOMEM), "out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
        !has_part(u, CURLUPART_HOST)) {
        of_error_set(err, rc, "the remote is not a valid http:// or https:// URL");
        goto out;
    }
    if (has_part(u, CURLUPART_USER) || has_part(u, CURLUPART_PASSWORD)) {
        of_error_set(err, rc,
                     "the remote URL must not hold credentials: give them as the "
                     "share's auth settings");
        goto out;
    }
    if (has_part(u, CURLUPART_QUERY) || has_part(u, CURLUPART_FRAGMENT)) {
        of_error_set(err, rc, "the remote URL must not have a query or a fragment");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        of_error_set(err, rc, "the remote URL has no path");
        goto out;
    }
    size_t plen = strlen(path);
    if (plen == 0 || path[plen - 1] != '/') {
        char *slashed = malloc(plen + 2);
        if (!slashed) {
            rc = FAIL(err, OF_E(NOMEM), "out of memory");
            goto out;
        }
        snprintf(slashed, plen + 2, "%s/", path);
        CURLUcode uc = curl_url_set(u, CURLUPART_PATH, slashed, 0);
        free(slashed);
        if (uc != CURLUE_OK) {
            of_error_set(err, rc, "the remote URL's path is not valid");
            goto out;
        }
        curl_free(path);
        path = NULL;
        curl_url_get(u, CURLUPART_PATH, &path, 0);
    }
    struct of_webdav_xml *probe = NULL;
    if (!path || curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK ||
        strlen(full) < strlen(path) || strcmp(full + strlen(full) - strlen(path), path) != 0 ||
        of_webdav_xml_new(path, &probe, NULL) < 0) {
        of_error_set(err, rc, "the remote URL's path is not valid");
        goto out;
    }
    of_webdav_xml_free(probe);
    w->url = strdup(full);
    if (!w->url) {
        rc = FAIL(err, OF_E(NOMEM), "out of memory");
        goto out;
    }
    w->origin_len = strlen(full) - strlen(path);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(path);
    curl_free(full);
    curl_url_cleanup(u);
    return rc;
}

static int
copy_options(struct webdav *w, const struct of_backend_options *o, struct of_error *err)
{
    w->auth = o->auth;
    w->insecure = o->insecure;
    w->transfers = o->transfers > 0 ? o->transfers : 4;
    w->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    w->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
    if (o->auth != OF_AUTH_NONE && o->auth != OF_AUTH_BASIC && o->auth != OF_AUTH_DIGEST &&
        o->auth != OF_AUTH_BEARER)
        return FAIL(err, OF_E(BAD_FIELD), "unknown authentication scheme");
    if ((o->auth == OF_AUTH_BASIC || o->auth == OF_AUTH_DIGEST) && (!o->username || !o->secret))
        return FAIL(err, OF_E(BAD_FIELD), "basic and digest auth need a user name and a password");
    if (o->auth == OF_AUTH_BEARER && (!o->secret || !o->secret[0]))
        return FAIL(err, OF_E(BAD_FIELD), "bearer auth needs a token");
    if ((o->username && !(w->username = strdup(o->username))) ||
        (o->secret && !(w->secret = strdup(o->secret))) ||
        (o->ca_file && o->ca_file[0] && !(w->ca_file = strdup(o->ca_file))))
        return FAIL(err, OF_E(NOMEM), "out of memory");
    return 0;
}

static int
start(struct webdav *w, struct of_error *err)
{
    w->multi = curl_multi_init();
    if (!w->multi)
        return FAIL(err, OF_E(NOMEM), "out of memory");
    long transfers = w->transfers;
    curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, transfers);
    curl_multi_setopt(w->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, transfers);
    curl_multi_setopt(w->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, transfers);
    curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, transfers < 8 ? 8L : transfers);
    int e = pthread_create(&w->thread, NULL, loop, w);
    if (e != 0)
        return FAIL(err, OF_E(INTERNAL), "cannot start the share's transfer thread: %s",
                    strerrordesc_np(e));
    w->thread_started = 1;
    return 0;
}

int
of_backend_webdav_open(const char *url, const struct of_backend_options *opts,
                       struct of_backend **ret_be, struct of_error *reterr)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return FAIL(reterr, OF_E(INTERNAL), "libcurl cannot be initialized");
    struct webdav *w = calloc(1, sizeof(*w));
    if (w)
        w->propfind_etags = w->preconds = -1;
    if (!w)
        return FAIL(reterr, OF_E(NOMEM), "out of memory");
    w->base.ops = &webdav_ops;
    pthread_mutex_init(&w->lock, NULL);
    int rc = parse_url(w, url, reterr);
    if (rc == 0)
        rc = copy_options(w, opts, reterr);
    if (rc == 0)
        rc = start(w, reterr);
    if (rc < 0) {
        wd_free(&w->base);
        return rc;
    }
    if (w->insecure)
        of_log_warn("webdav: TLS verification is off for %s, as configured", w->url);
    *ret_be = &w->base;
    return 0;
}
