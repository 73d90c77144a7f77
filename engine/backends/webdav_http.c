/* SPDX-License-Identifier: MIT */
/*
 * The webdav backend's transfers. A request borrows an easy handle of its
 * server's pool (webdav_xfer_open; webdav_pool.c), performs on its caller's
 * thread (webdav_run: curl_easy_perform) and gives it back
 * (webdav_xfer_done), reset but with its live connection, which the next
 * request to that server reuses. A share holds at most `transfers` handles
 * at once: its limit of requests and connections; the parallelism of a pin
 * or sync comes from the engine's workers, each blocking in its own
 * request. Body callbacks (the PROPFIND parser, a read's sink) run on that
 * thread too, so a sink's bytes are hashed and written where they arrive,
 * in parallel across requests.
 *
 * Why not one curl multi handle driven by a thread of its own (sessions 1
 * to 3 did that): every request then crossed two threads, and a profile of
 * a sync-out put a fifth of the daemon's CPU into the wake-ups and context
 * switches of that hand-off (bench/README.md has the numbers).
 *
 * A request that moves no byte for timeout_ms fails (a progress callback).
 * Also here: the mapping of transport failures and unexpected HTTP statuses
 * onto the error registry, and the URL of a share path. Neither a secret nor
 * a credential-bearing URL is ever logged or put in an error detail.
 */
#include "webdav_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "util.h"

/* A request this slow gets curl's timings in the debug log. */
#define SLOW_REQUEST_MS 250
/* A request reads this much per socket read (curl's default is 16 KiB): large files come faster. */
#define RECV_BUFFER (256L * 1024)
/* A sink is written in blocks of up to this much. */
#define SINK_CHUNK ((size_t)256 * 1024)

static int
stopping(const struct webdav *w)
{
    return __atomic_load_n(&w->stopping, __ATOMIC_ACQUIRE);
}

/* ---- curl callbacks (on the thread performing the request) ---- */

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
 * A stopping backend ends its requests here too.
 */
static int
on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    struct xfer *x = ud;
    (void)dltotal;
    (void)ultotal;
    if (stopping(x->w))
        return 1;
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

/* Write what x holds for its sink; 0, or -1 with x->sink_rc set. */
static int
sink_flush(struct xfer *x)
{
    if (x->sink_rc)
        return -1;
    if (x->sbuf_len == 0)
        return 0;
    int rc = x->sink->write(x->sink->ctx, x->sbuf, x->sbuf_len);
    x->sbuf_len = 0;
    if (rc != 0) {
        x->sink_rc = rc < 0 ? rc : OF_E(INTERNAL);
        return -1;
    }
    return 0;
}

/*
 * Bytes for the sink. curl hands over what each socket read got, often a
 * few KiB: they are gathered into writes of up to SINK_CHUNK (sized down
 * to the reply), so the sink's write and hash run on large blocks.
 */
static int
sink_put(struct xfer *x, const char *data, size_t n)
{
    if (!x->sbuf) {
        int64_t whole = x->want >= 0 ? x->want : x->content_length;
        size_t cap = whole > 0 && whole < (int64_t)SINK_CHUNK ? (size_t)whole : SINK_CHUNK;
        x->sbuf = malloc(cap);
        x->sbuf_cap = x->sbuf ? cap : 0;
    }
    if (x->sbuf_len + n > x->sbuf_cap && sink_flush(x) < 0)
        return -1;
    if (n > x->sbuf_cap) { /* no buffer, or a read larger than it: as it came */
        int rc = x->sink->write(x->sink->ctx, data, n);
        if (rc != 0) {
            x->sink_rc = rc < 0 ? rc : OF_E(INTERNAL);
            return -1;
        }
    } else {
        memcpy(x->sbuf + x->sbuf_len, data, n);
        x->sbuf_len += n;
    }
    x->got += (int64_t)n;
    return 0;
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
    if (n > 0 && sink_put(x, data, n) < 0)
        return 0;
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
    if (x->mode == BODY_SINK)
        return sink_body(x, code, data, len);
    return len;
}

size_t
webdav_on_upload(char *buf, size_t size, size_t n, void *ud)
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
int
webdav_on_seek(void *ud, curl_off_t off, int origin)
{
    struct xfer *x = ud;
    if (origin != SEEK_SET || off < 0 || off > x->up_len)
        return CURL_SEEKFUNC_CANTSEEK;
    x->up_off = off;
    return CURL_SEEKFUNC_OK;
}

/* ---- requests ---- */

/* Preparing x failed with code: the detail every operation gives for that. */
static int
prepare_fail(const struct xfer *x, int code, struct of_error *err)
{
    return FAIL(err, code, "cannot prepare a request for '%s'", webdav_shown(x->rel));
}

/* w's timeouts, TLS and auth settings, and the callbacks that fill x's response fields. */
static void
setup(struct xfer *x, const char *method)
{
    const struct webdav *w = x->w;
    CURL *c = x->easy;
    long low_speed_time = (w->timeout_ms + 999) / 1000;
    curl_easy_setopt(c, CURLOPT_URL, x->url);
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
    /* One size for every request: a pooled handle keeps its buffer, not reallocated per request. */
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, RECV_BUFFER);
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
}

int
webdav_xfer_open(struct webdav *w, struct xfer *x, const char *method, const char *rel,
                 int collection, struct of_error *err)
{
    memset(x, 0, sizeof(*x));
    x->w = w;
    x->rel = rel;
    x->fd = -1;
    x->content_length = -1;
    x->url = webdav_url_of(w, rel, collection);
    x->easy = x->url ? webdav_pool_take(w, &x->pooled) : NULL;
    if (!x->easy)
        return prepare_fail(x, OF_E(NOMEM), err);
    setup(x, method);
    return 0;
}

int
webdav_xfer_xml(struct xfer *x, struct of_error *err)
{
    int rc = of_webdav_xml_new(x->url + x->w->origin_len, &x->xml, NULL);
    if (rc < 0)
        return prepare_fail(x, rc, err);
    x->mode = BODY_XML;
    return 0;
}

int
webdav_xfer_header(struct xfer *x, const char *line, struct of_error *err)
{
    struct curl_slist *l = line ? curl_slist_append(x->hdrs, line) : NULL;
    if (!l)
        return prepare_fail(x, OF_E(NOMEM), err);
    x->hdrs = l;
    return 0;
}

void
webdav_xfer_done(struct xfer *x)
{
    if (x->easy)
        webdav_pool_give(x->w, x->easy, x->pooled);
    free(x->sbuf);
    curl_slist_free_all(x->hdrs);
    of_webdav_xml_free(x->xml);
    free(x->url);
}

void
webdav_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

const char *
webdav_shown(const char *rel)
{
    return rel[0] ? rel : "/";
}

/* Perform x (its headers attached here); what and rel only name it in the debug log. */
void
webdav_run(struct webdav *w, struct xfer *x, const char *what, const char *rel)
{
    int64_t t0 = mono_ms();
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
    x->result = x->pooled && !stopping(w) ? curl_easy_perform(x->easy) : CURLE_ABORTED_BY_CALLBACK;
    if (x->result != CURLE_ABORTED_BY_CALLBACK)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
    if (x->mode == BODY_SINK)
        sink_flush(x);
    int64_t ms = mono_ms() - t0;
    of_log_debug("webdav: %s '%s': %s, HTTP %ld, %" PRId64 " ms", what, webdav_shown(rel),
                 x->result == CURLE_OK ? "done" : curl_easy_strerror(x->result), x->status, ms);
    /* Where a slow request spent its time: connecting, sending, or waiting for the answer. */
    if (ms >= SLOW_REQUEST_MS) {
        curl_off_t conn = 0, pre = 0, first = 0, total = 0;
        long reused = 0;
        curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &conn);
        curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
        curl_easy_getinfo(x->easy, CURLINFO_STARTTRANSFER_TIME_T, &first);
        curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total);
        curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &reused);
        of_log_debug("webdav: %s '%s' took %" PRId64 " ms: connected at %" CURL_FORMAT_CURL_OFF_T
                     " us (%s connection), request sent at %" CURL_FORMAT_CURL_OFF_T
                     " us, first reply byte at %" CURL_FORMAT_CURL_OFF_T
                     " us, done at %" CURL_FORMAT_CURL_OFF_T " us",
                     what, webdav_shown(rel), ms, conn, reused ? "new" : "reused", pre, first,
                     total);
    }
}

/* A transfer that got no complete answer. */
int
webdav_transport_fail(const struct xfer *x, const char *what, const char *rel, struct of_error *err)
{
    const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result);
    if (x->read_failed)
        return FAIL(err, OF_E(IO), "cannot read the new content of '%s'", webdav_shown(rel));
    switch (x->result) {
    case CURLE_OUT_OF_MEMORY:
        return FAIL(err, OF_E(NOMEM), "out of memory while %s '%s'", what, webdav_shown(rel));
    case CURLE_READ_ERROR:
        return FAIL(err, OF_E(IO), "cannot read the new content of '%s'", webdav_shown(rel));
    case CURLE_ABORTED_BY_CALLBACK:
        if (x->stalled)
            return FAIL(err, OF_E(UNAVAILABLE),
                        "the server stopped answering while %s '%s' (%ld ms)", what,
                        webdav_shown(rel), x->w->timeout_ms);
        return FAIL(err, OF_E(UNAVAILABLE), "the share is being closed");
    default:
        /* Connect, TLS, timeout, reset, a body cut short: the share, not the item. */
        return FAIL(err, OF_E(UNAVAILABLE), "no complete answer from the server while %s '%s': %s",
                    what, webdav_shown(rel), why);
    }
}

/* An HTTP status no operation expected. */
int
webdav_status_fail(const struct webdav *w, long st, const char *what, const char *rel,
                   struct of_error *err)
{
    const char *p = webdav_shown(rel);
    if ((st == 401 || st == 407) && w->auth == OF_AUTH_NONE)
        return FAIL(err, OF_E(UNAVAILABLE),
                    "the server asks for credentials (HTTP %ld) and the share has none", st);
    if (st == 401 || st == 403 || st == 407)
        return FAIL(err, OF_E(UNAVAILABLE), "the server refused the credentials (HTTP %ld)", st);
    if (st == 404 || st == 410)
        return FAIL(err, OF_E(NOT_FOUND), "'%s' does not exist", p);
    if (st == 412)
        return FAIL(err, OF_E(PRECONDITION), "'%s' changed on the server", p);
    /* Another client's lock: this item waits, the share stays online. */
    if (st == 423)
        return FAIL(err, OF_E(LOCKED), "'%s' is locked on the server", p);
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
char *
webdav_url_of(const struct webdav *w, const char *rel, int collection)
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
