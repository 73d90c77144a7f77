/* SPDX-License-Identifier: MIT */
/*
 * sse_load's subscribers: opt_subs non-blocking GET /api/v1/events streams
 * on one epoll (pump serves them), each decoding the chunked coding and the
 * event-stream frames in place, a line at a time, and keeping what it saw:
 * a bitmap of the measured ids (so losses, duplicates and reordering show),
 * its latencies into the histograms, by POST and by second. It owns that
 * tally; main reads it for the report. Main thread only.
 */
#include "sse_load.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* ------------------------------------------------------------ subscribers */

/* Declared and explained in sse_load.h. */
struct sub *subs;
int epfd;
int64_t range_max;
struct hist lat_send, lat_pub, lat_wire;
int64_t *post_first_us, *post_last_us;
uint64_t stream_reads, stream_bytes;
int n_open, n_ready, n_warm;
int64_t run_t0_real;
int64_t sec_max_us[SECS_MAX];
uint64_t sec_slow[SECS_MAX];
int64_t run_t0_mono;

static int64_t warm_id = -1; /* id of the warm-up ping; measured ids follow it */
/*
 * The kernel's receive timestamp (SO_TIMESTAMPNS) of the bytes being parsed:
 * on loopback it is taken when the daemon's write(2) hands the segment to
 * the loopback device, so it splits a latency into the daemon's part (sent
 * -> written) and the load generator's (written -> read). For a read that
 * covers several segments it is the newest one's time, so the daemon's part
 * is, if anything, overstated.
 */
static int64_t cur_kts;

static void
sub_close(struct sub *s, const char *fmt, ...)
{
    if (s->state == S_CLOSED)
        return;
    if (s->state == S_STREAM)
        n_ready--;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof(s->why), fmt, ap);
    va_end(ap);
    epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->fd = -1;
    s->state = S_CLOSED;
    s->closed_ns = MONO_NS();
    n_open--;
}

void
sub_open(struct sub *s)
{
    s->fd = tcp_connect(1);
    if (s->fd < 0)
        die("subscriber %d: cannot connect to 127.0.0.1:%d: %s", s->idx, opt_port,
            strerror(errno));
    s->state = S_CONNECTING;
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
    n_open++;
}

/* Cached parse of the "time" field's seconds part (YYYY-MM-DDTHH:MM:SS). */
static int64_t
parse_time_ns(const char *p, size_t n)
{
    static char cached[20];
    static int64_t cached_s = -1;
    if (n < 24 || p[19] != '.')
        return -1;
    if (memcmp(p, cached, 19) != 0 || cached_s < 0) {
        struct tm tm = {0};
        char tmp[20];
        memcpy(tmp, p, 19);
        tmp[19] = 0;
        if (!strptime(tmp, "%Y-%m-%dT%H:%M:%S", &tm))
            return -1;
        memcpy(cached, p, 19);
        cached_s = (int64_t)timegm(&tm);
    }
    int ms = (p[20] - '0') * 100 + (p[21] - '0') * 10 + (p[22] - '0');
    return cached_s * 1000000000 + (int64_t)ms * 1000000;
}

/*
 * The byte after key in data, or NULL. It looks from the end, where the
 * daemon puts "time" and "detail", comparing the key's first two bytes
 * before calling memcmp: glibc's memmem sets up a shift table on every call,
 * which at a million frames a second was a fifth of this program's CPU time.
 */
static const char *
find_field(const char *data, size_t n, const char *key, size_t klen)
{
    if (n < klen)
        return NULL;
    for (const char *p = data + n - klen;; p--) {
        if (p[0] == key[0] && p[1] == key[1] && memcmp(p, key, klen) == 0)
            return p + klen;
        if (p == data)
            return NULL;
    }
}

/* A decimal number at p (strtoll's job for the digits-only numbers of a frame, without locale). */
static int64_t
parse_digits(const char *p, const char *end)
{
    int64_t v = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (*p - '0');
    return v;
}

/* The fields of a frame, as its lines come. */
struct fields {
    int64_t id; /* -1: no id line */
    const char *event, *data;
    size_t event_len, data_len;
};

static void
take_line(struct fields *ff, const char *line, const char *le)
{
    size_t ll = (size_t)(le - line);
    if (ll > 4 && memcmp(line, "id: ", 4) == 0)
        ff->id = parse_digits(line + 4, le);
    else if (ll > 7 && memcmp(line, "event: ", 7) == 0) {
        ff->event = line + 7;
        ff->event_len = ll - 7;
    } else if (ll > 6 && memcmp(line, "data: ", 6) == 0) {
        ff->data = line + 6;
        ff->data_len = ll - 6;
    }
}

/* One complete frame. */
static void
on_frame(struct sub *s, const struct fields *ff, int64_t recv_ns)
{
    int64_t id = ff->id;
    const char *event = ff->event, *data = ff->data;
    size_t event_len = ff->event_len, data_len = ff->data_len;
    s->frames++;
    if (event_len == 8 && memcmp(event, "DataLost", 8) == 0) {
        static int told;
        s->datalost++;
        if (told++ < 5)
            fprintf(stderr, "# subscriber %d: DataLost: %.*s\n", s->idx, (int)data_len, data);
        return;
    }
    if (!(event_len == 4 && memcmp(event, "Ping", 4) == 0)) {
        s->other++;
        return;
    }
    if (id < 0) {
        s->keepalives++; /* the stream's own keep-alive Ping */
        return;
    }
    const char *det = data ? find_field(data, data_len, "\"detail\":\"", 10) : NULL;
    if (!det) {
        s->foreign++;
        return;
    }
    if (strncmp(det, "warmup", 6) == 0) {
        if (!s->warm) {
            s->warm = 1;
            n_warm++;
            if (warm_id < 0)
                warm_id = id;
            else if (warm_id != id)
                fprintf(stderr, "# subscriber %d: warm-up id %" PRId64 ", others %" PRId64 "\n",
                        s->idx, id, warm_id);
        }
        return;
    }
    if (det[0] != 't' || det[1] != '=' || warm_id < 0) {
        s->foreign++;
        return;
    }
    int64_t k = id - warm_id - 1;
    if (k < 0 || k >= range_max) {
        s->foreign++;
        return;
    }
    s->measured++;
    if (s->seen[k >> 3] & (1u << (k & 7))) {
        s->dups++;
        return;
    }
    s->seen[k >> 3] |= (uint8_t)(1u << (k & 7));
    s->distinct++;
    if (id < s->last_id)
        s->reordered++;
    else
        s->last_id = id;
    int64_t sent = parse_digits(det + 2, data + data_len);
    int64_t us = (recv_ns - sent) / 1000;
    hist_add(&lat_send, us);
    if (us > s->max_us)
        s->max_us = us;
    s->slow += us > 50000;
    int64_t b = k / opt_batch;
    if (post_first_us[b] < 0 || us < post_first_us[b])
        post_first_us[b] = us;
    if (us > post_last_us[b])
        post_last_us[b] = us;
    if (cur_kts > 0)
        hist_add(&lat_wire, (cur_kts - sent) / 1000);
    int64_t sec = (sent - run_t0_real) / 1000000000;
    if (sec >= 0 && sec < SECS_MAX) {
        if (us > sec_max_us[sec])
            sec_max_us[sec] = us;
        sec_slow[sec] += us > 50000;
    }
    const char *tm = find_field(data, data_len, "\"time\":\"", 8);
    int64_t pub = tm ? parse_time_ns(tm, (size_t)(data + data_len - tm)) : -1;
    if (pub > 0) {
        hist_add(&lat_pub, (recv_ns - pub) / 1000);
    }
}

/*
 * Handle the complete frames in [p, p + n), line by line (one memchr per
 * line); returns the bytes they took: an incomplete frame is left over.
 */
static size_t
frames(struct sub *s, const char *p, size_t n, int64_t recv_ns)
{
    const char *end = p + n, *frame = p, *line = p, *nl;
    struct fields ff = {.id = -1};
    while (line < end && (nl = memchr(line, '\n', (size_t)(end - line)))) {
        if (nl == line) { /* the blank line that ends a frame */
            on_frame(s, &ff, recv_ns);
            ff = (struct fields){.id = -1};
            frame = nl + 1;
        } else {
            take_line(&ff, line, nl);
        }
        line = nl + 1;
    }
    return (size_t)(frame - p);
}

/* Decoded event-stream bytes: frames straight from p when nothing is pending, else appended. */
static void
on_stream(struct sub *s, const char *p, size_t n, int64_t recv_ns)
{
    if (s->slen == 0) {
        size_t used = frames(s, p, n, recv_ns);
        p += used;
        n -= used;
        if (n == 0)
            return;
    }
    if (s->slen + n > s->scap) {
        size_t cap = s->scap ? s->scap : 4096;
        while (cap < s->slen + n)
            cap *= 2;
        char *grown = realloc(s->sbuf, cap);
        if (!grown)
            die("out of memory");
        s->sbuf = grown;
        s->scap = cap;
    }
    memcpy(s->sbuf + s->slen, p, n);
    s->slen += n;
    size_t used = frames(s, s->sbuf, s->slen, recv_ns);
    if (used) {
        memmove(s->sbuf, s->sbuf + used, s->slen - used);
        s->slen -= used;
    }
}

/* Body bytes: undo the chunked transfer coding if there is one. */
static void
on_body(struct sub *s, const char *p, size_t n, int64_t recv_ns)
{
    if (!s->chunked) {
        on_stream(s, p, n, recv_ns);
        return;
    }
    const char *end = p + n;
    while (p < end && s->state == S_STREAM) {
        switch (s->cst) {
        case C_SIZE:
            if (isxdigit((unsigned char)*p)) {
                int c = tolower((unsigned char)*p);
                s->crem = s->crem * 16 + (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
            } else if (*p == '\r') {
                s->cst = C_SIZE_LF;
            } else if (*p == ';' || *p == ' ') {
                s->cst = C_SIZE_EXT;
            } else {
                sub_close(s, "bad chunk size byte 0x%02x", (unsigned char)*p);
                return;
            }
            p++;
            break;
        case C_SIZE_EXT:
            if (*p == '\r')
                s->cst = C_SIZE_LF;
            p++;
            break;
        case C_SIZE_LF:
            if (*p != '\n') {
                sub_close(s, "bad chunk line");
                return;
            }
            p++;
            if (s->crem == 0) {
                s->cst = C_END;
                sub_close(s, "the server ended the stream (last chunk)");
                return;
            }
            s->cst = C_DATA;
            break;
        case C_DATA: {
            size_t take = (size_t)(end - p) < s->crem ? (size_t)(end - p) : (size_t)s->crem;
            on_stream(s, p, take, recv_ns);
            p += take;
            s->crem -= take;
            if (s->crem == 0)
                s->cst = C_DATA_CR;
            break;
        }
        case C_DATA_CR:
            if (*p != '\r') {
                sub_close(s, "chunk without CRLF");
                return;
            }
            s->cst = C_DATA_LF;
            p++;
            break;
        case C_DATA_LF:
            if (*p != '\n') {
                sub_close(s, "chunk without CRLF");
                return;
            }
            s->cst = C_SIZE;
            s->crem = 0;
            p++;
            break;
        case C_END:
            return;
        }
    }
}

static void
on_headers(struct sub *s, int64_t recv_ns)
{
    char *end = memmem(s->hdr, s->hdr_len, "\r\n\r\n", 4);
    if (!end) {
        if (s->hdr_len == sizeof(s->hdr))
            sub_close(s, "response headers too long");
        return;
    }
    size_t hl = (size_t)(end - s->hdr) + 4;
    char status[64];
    size_t sl = strcspn(s->hdr, "\r");
    snprintf(status, sizeof(status), "%.*s", (int)(sl < 63 ? sl : 63), s->hdr);
    if (strncmp(s->hdr, "HTTP/1.1 200", 12) != 0) {
        sub_close(s, "answered '%s' instead of 200", status);
        return;
    }
    *end = 0;
    char *ct = strcasestr(s->hdr, "\r\ncontent-type: text/event-stream");
    s->chunked = strcasestr(s->hdr, "\r\ntransfer-encoding: chunked") != NULL;
    if (!ct) {
        sub_close(s, "no Content-Type: text/event-stream");
        return;
    }
    s->state = S_STREAM;
    n_ready++;
    if (s->hdr_len > hl)
        on_body(s, s->hdr + hl, s->hdr_len - hl, recv_ns);
}

static char readbuf[1 << 16];

static void
on_event(struct sub *s, uint32_t events)
{
    if (s->state == S_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof(err);
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            sub_close(s, "connect: %s", strerror(err));
            return;
        }
        char req[1024];
        int n = snprintf(req, sizeof(req),
                         "GET /api/v1/events?include=Ping&ping=%d HTTP/1.1\r\n"
                         "Host: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                         "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n",
                         opt_keepalive, opt_port, token);
        if (write_all(s->fd, req, (size_t)n) < 0) { /* a fresh socket: it all fits */
            sub_close(s, "write: %s", strerror(errno));
            return;
        }
        s->state = S_HEADERS;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = s};
        epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
        return;
    }
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
        return;
    ssize_t r;
    if (s->state == S_HEADERS) {
        r = read(s->fd, s->hdr + s->hdr_len, sizeof(s->hdr) - s->hdr_len);
        if (r > 0) {
            s->hdr_len += (size_t)r;
            on_headers(s, REAL_NS());
            return;
        }
    } else {
        struct iovec iov = {.iov_base = readbuf, .iov_len = sizeof(readbuf)};
        char cbuf[CMSG_SPACE(sizeof(struct timespec))];
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                            .msg_controllen = sizeof(cbuf)};
        r = recvmsg(s->fd, &mh, 0);
        cur_kts = 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); r > 0 && cm; cm = CMSG_NXTHDR(&mh, cm))
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
                cur_kts = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
            }
        if (r > 0) {
            stream_reads++;
            stream_bytes += (uint64_t)r;
            on_body(s, readbuf, (size_t)r, REAL_NS());
            return;
        }
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    sub_close(s, r == 0 ? "the daemon closed the connection (EOF)" : "read: %s",
              r == 0 ? "" : strerror(errno));
}

/* Serve the subscribers for up to ms milliseconds. */
void
pump(int ms)
{
    struct epoll_event evs[256];
    int64_t until = MONO_NS() + (int64_t)ms * 1000000;
    for (;;) {
        int64_t left = (until - MONO_NS()) / 1000000;
        if (left < 0)
            left = 0;
        int n = epoll_wait(epfd, evs, 256, (int)left);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++)
            on_event(evs[i].data.ptr, evs[i].events);
        if (left == 0)
            return;
    }
}
