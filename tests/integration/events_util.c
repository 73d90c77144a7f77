/* SPDX-License-Identifier: MIT */
/* Helpers of the events integration tests; see events_util.h. */
#include "events_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ---- a server-sent events client on a raw socket ---- */

static void
grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 4096;
    while (c < need)
        c *= 2;
    char *p = realloc(*buf, c);
    if (!p)
        abort();
    *buf = p;
    *cap = c;
}

static void
append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    grow(buf, cap, *len + n + 1);
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
}

static void sse_error(struct sse *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sse_error(struct sse *s, const char *fmt, ...)
{
    if (s->err[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof(s->err), fmt, ap);
    va_end(ap);
}

/*
 * What every frame must be: `event:` and `data:` lines, data one JSON object
 * whose type is the event's; a logged event has an `id:` line equal to its
 * data's id and carries at least id, type, path and time; a frame without an
 * id line is a Ping or a DataLost with type and time.
 */
static void
check_shape(struct sse *s, const struct frame *f, json_t *j, const char *data)
{
    if (!json_is_object(j)) {
        sse_error(s, "frame data is not a JSON object: %.300s", data);
        return;
    }
    const char *type = json_string_value(json_object_get(j, "type"));
    if (!f->event[0])
        sse_error(s, "a frame without an event line: %.300s", data);
    else if (!type || strcmp(type, f->event) != 0)
        sse_error(s, "event '%s' but data.type '%s': %.300s", f->event, type ? type : "(none)",
                  data);
    if (!json_is_string(json_object_get(j, "time")))
        sse_error(s, "a %s frame without time: %.300s", f->event, data);
    if (f->id >= 0) {
        json_t *id = json_object_get(j, "id"), *path = json_object_get(j, "path");
        if (!json_is_integer(id) || json_integer_value(id) != f->id)
            sse_error(s, "id line %lld but data %.300s", f->id, data);
        if (!path || !(json_is_string(path) || json_is_null(path)))
            sse_error(s, "an event without path: %.300s", data);
    } else if (strcmp(f->event, "Ping") != 0 && strcmp(f->event, "DataLost") != 0) {
        sse_error(s, "a %s frame without an id line: %.300s", f->event, data);
    }
}

static void
parse_frame(struct sse *s, char *block)
{
    struct frame f = {.id = -1};
    char *data = NULL, *save = NULL;
    size_t data_len = 0, data_cap = 0;
    for (char *line = strtok_r(block, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == ':')
            continue; /* a comment */
        char *colon = strchr(line, ':');
        const char *val = "";
        if (colon) {
            *colon = '\0';
            val = colon + 1;
            if (*val == ' ')
                val++;
        }
        if (strcmp(line, "id") == 0) {
            char *end;
            f.id = strtoll(val, &end, 10);
            if (!*val || *end || f.id < 0)
                sse_error(s, "a bad id line 'id: %.40s'", val);
        } else if (strcmp(line, "event") == 0) {
            snprintf(f.event, sizeof(f.event), "%s", val);
        } else if (strcmp(line, "data") == 0) {
            if (data)
                append(&data, &data_len, &data_cap, "\n", 1);
            append(&data, &data_len, &data_cap, val, strlen(val));
        } else {
            sse_error(s, "an unknown field '%.40s'", line);
        }
    }
    json_error_t jerr;
    json_t *j = data ? json_loads(data, 0, &jerr) : NULL;
    check_shape(s, &f, j, data ? data : "(no data line)");
    int keep =
        !s->lite || f.id < 0 || (strcmp(f.event, "Ping") == 0 && json_object_get(j, "detail"));
    if (keep) {
        f.json = j;
        f.data = s->lite ? NULL : data;
    } else {
        json_decref(j);
    }
    if (!f.data)
        free(data);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->f = realloc(s->f, s->cap * sizeof(*s->f));
        if (!s->f)
            abort();
    }
    s->f[s->n++] = f;
}

static void
split_frames(struct sse *s)
{
    size_t off = 0;
    if (!s->text)
        return;
    for (;;) {
        char *end = memmem(s->text + off, s->text_len - off, "\n\n", 2);
        if (!end)
            break;
        *end = '\0';
        parse_frame(s, s->text + off);
        off = (size_t)(end - s->text) + 2;
    }
    if (off) {
        memmove(s->text, s->text + off, s->text_len - off);
        s->text_len -= off;
        s->text[s->text_len] = '\0';
    }
}

/* Decode what arrived: the head, then chunks, then frames. */
static void
sse_feed(struct sse *s, const char *data, size_t n)
{
    append(&s->raw, &s->raw_len, &s->raw_cap, data, n);
    size_t off = 0;
    if (!s->head_done) {
        char *end = memmem(s->raw, s->raw_len, "\r\n\r\n", 4);
        if (!end)
            return;
        size_t len = (size_t)(end - s->raw) + 4;
        s->head = malloc(len + 1);
        if (!s->head)
            abort();
        memcpy(s->head, s->raw, len);
        s->head[len] = '\0';
        s->head_done = 1;
        if (sscanf(s->head, "HTTP/1.%*d %ld", &s->status) != 1)
            sse_error(s, "not an HTTP response: %.100s", s->head);
        s->chunked = strcasestr(s->head, "\r\nTransfer-Encoding: chunked\r\n") != NULL;
        s->chunk_left = -1;
        off = len;
    }
    while (off < s->raw_len && !s->eof) {
        size_t avail = s->raw_len - off;
        if (!s->chunked) {
            append(&s->text, &s->text_len, &s->text_cap, s->raw + off, avail);
            off += avail;
        } else if (s->want_crlf) {
            if (avail < 2)
                break;
            if (memcmp(s->raw + off, "\r\n", 2) != 0)
                sse_error(s, "no CRLF after a chunk");
            off += 2;
            s->want_crlf = 0;
        } else if (s->chunk_left < 0) {
            char *eol = memmem(s->raw + off, avail, "\r\n", 2);
            if (!eol)
                break;
            char *end;
            long long size = strtoll(s->raw + off, &end, 16);
            if (end == s->raw + off || size < 0)
                sse_error(s, "a bad chunk size line");
            off = (size_t)(eol - s->raw) + 2;
            if (size == 0) {
                s->eof = s->clean_end = 1; /* the last chunk: the daemon ended the stream */
                break;
            }
            s->chunk_left = size;
        } else {
            size_t take = (size_t)s->chunk_left < avail ? (size_t)s->chunk_left : avail;
            append(&s->text, &s->text_len, &s->text_cap, s->raw + off, take);
            off += take;
            s->chunk_left -= (long long)take;
            if (s->chunk_left == 0) {
                s->chunk_left = -1;
                s->want_crlf = 1;
            }
        }
    }
    if (off) {
        memmove(s->raw, s->raw + off, s->raw_len - off);
        s->raw_len -= off;
    }
    split_frames(s);
}

int
connect_local(uint16_t port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int
send_all(int fd, const char *text)
{
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

struct sse *
sse_open_raw(const struct it_daemon *d, const char *query, const char *headers, int rcvbuf)
{
    struct sse *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    s->fd = connect_local(d->port, rcvbuf);
    if (s->fd < 0) {
        print_error("cannot connect to 127.0.0.1:%u: %s\n", (unsigned)d->port, strerror(errno));
        free(s);
        fail();
    }
    char *req = it_fmt("GET /api/v1/events%s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                       "Accept: text/event-stream\r\n%s\r\n",
                       query ? query : "", (unsigned)d->port, headers ? headers : "");
    int rc = send_all(s->fd, req);
    free(req);
    if (rc < 0) {
        print_error("cannot send the request: %s\n", strerror(errno));
        fail();
    }
    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
    return s;
}

struct sse *
sse_open(const struct it_daemon *d, const char *query)
{
    char *h = it_fmt("Authorization: Bearer %s\r\n", d->token);
    struct sse *s = sse_open_raw(d, query, h, 0);
    free(h);
    return s;
}

void
sse_close(struct sse *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    for (size_t i = 0; i < s->n; i++) {
        free(s->f[i].data);
        json_decref(s->f[i].json);
    }
    free(s->f);
    free(s->head);
    free(s->raw);
    free(s->text);
    free(s);
}

void
sse_pump(struct sse **v, size_t n, int timeout_ms)
{
    struct pollfd *pfd = calloc(n ? n : 1, sizeof(*pfd));
    size_t *which = calloc(n ? n : 1, sizeof(*which));
    if (!pfd || !which)
        abort();
    nfds_t np = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i]->eof || v[i]->paused)
            continue;
        pfd[np].fd = v[i]->fd;
        pfd[np].events = POLLIN;
        which[np++] = i;
    }
    if (np == 0) {
        pause_ms(timeout_ms);
    } else if (poll(pfd, np, timeout_ms) > 0) {
        static char buf[256 * 1024];
        for (nfds_t k = 0; k < np; k++) {
            if (!pfd[k].revents)
                continue;
            struct sse *s = v[which[k]];
            for (int round = 0; round < 16 && !s->eof; round++) {
                ssize_t got = read(s->fd, buf, sizeof(buf));
                if (got > 0) {
                    sse_feed(s, buf, (size_t)got);
                    continue;
                }
                if (got == 0 || (errno != EAGAIN && errno != EINTR))
                    s->eof = 1;
                break;
            }
        }
    }
    free(pfd);
    free(which);
}

int
sse_wait_all(struct sse **v, size_t n, sse_pred pred, const void *arg, double timeout_s)
{
    double until = now_s() + timeout_s;
    for (;;) {
        size_t ok = 0;
        for (size_t i = 0; i < n; i++)
            ok += pred(v[i], arg) != 0;
        if (ok == n)
            return 0;
        if (now_s() > until)
            return -1;
        sse_pump(v, n, 50);
    }
}

int
sse_wait(struct sse *s, sse_pred pred, const void *arg, double timeout_s)
{
    return sse_wait_all(&s, 1, pred, arg, timeout_s);
}

int
has_head(const struct sse *s, const void *arg)
{
    (void)arg;
    return s->head_done || s->eof;
}

int
ended(const struct sse *s, const void *arg)
{
    (void)arg;
    return s->eof;
}

long
find_marker(const struct sse *s, const char *marker)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct frame *f = &s->f[i];
        const char *detail = json_string_value(json_object_get(f->json, "detail"));
        if (f->id >= 0 && strcmp(f->event, "Ping") == 0 && detail && strcmp(detail, marker) == 0)
            return (long)i;
    }
    return -1;
}

int
has_marker(const struct sse *s, const void *arg)
{
    return find_marker(s, arg) >= 0;
}

int
has_event(const struct sse *s, const void *arg)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->f[i].event, arg) == 0)
            return 1;
    return 0;
}

const char *
sse_header(const struct sse *s, const char *name)
{
    static char value[256];
    char *pat = it_fmt("\r\n%s:", name);
    const char *p = s->head ? strcasestr(s->head, pat) : NULL;
    size_t skip = strlen(pat);
    free(pat);
    if (!p)
        return NULL;
    p += skip;
    while (*p == ' ')
        p++;
    size_t len = strcspn(p, "\r");
    snprintf(value, sizeof(value), "%.*s", (int)len, p);
    return value;
}

void
dump_frames(const struct sse *s, size_t from, size_t max)
{
    for (size_t i = from; i < s->n && i < from + max; i++) {
        const struct frame *f = &s->f[i];
        char *j = f->json ? json_dumps(f->json, JSON_COMPACT) : NULL;
        print_error("  #%zu id %lld %s %s\n", i, f->id, f->event, j ? j : "");
        free(j);
    }
}

/* The stream answered 200 text/event-stream and every frame so far is well formed. */
void
sse_assert_ok(const struct sse *s)
{
    if (s->status != 200) {
        print_error("the stream answered %ld, not 200:\n%s%.500s\n", s->status,
                    s->head ? s->head : "(no head)", s->text ? s->text : "");
        fail();
    }
    if (s->err[0]) {
        print_error("malformed stream: %s\n", s->err);
        fail();
    }
}

struct sse *
sse_ready(struct sse *s)
{
    if (sse_wait(s, has_head, NULL, 10) < 0) {
        print_error("no response head within 10 s\n");
        fail();
    }
    sse_assert_ok(s);
    const char *ct = sse_header(s, "Content-Type");
    if (!ct || strcmp(ct, "text/event-stream") != 0) {
        print_error("Content-Type is %s\n", ct ? ct : "(none)");
        fail();
    }
    return s;
}

void
sse_wait_all_marker(struct sse **v, size_t n, const char *marker, double timeout_s)
{
    if (sse_wait_all(v, n, has_marker, marker, timeout_s) < 0) {
        size_t got = 0;
        for (size_t i = 0; i < n; i++)
            got += find_marker(v[i], marker) >= 0;
        print_error("only %zu of %zu streams got the Ping '%s' within %.0f s\n", got, n, marker,
                    timeout_s);
        fail();
    }
}

void
sse_wait_marker(struct sse *s, const char *marker, double timeout_s)
{
    if (sse_wait(s, has_marker, marker, timeout_s) < 0) {
        print_error("the stream did not get the Ping '%s' within %.0f s (%zu frames, eof %d); "
                    "the last frames:\n",
                    marker, timeout_s, s->n, s->eof);
        dump_frames(s, s->n > 8 ? s->n - 8 : 0, 8);
        fail();
    }
    sse_assert_ok(s);
}

/* ---- the daemon side ---- */

void
publish(const struct it_daemon *d, int count, const char *detail)
{
    char *body = detail ? it_fmt("{\"count\":%d,\"detail\":\"%s\"}", count, detail)
                        : it_fmt("{\"count\":%d}", count);
    struct it_response *r = it_json_req(d, "POST", "/api/v1/events/ping", body);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JINT(r->json, "published", count);
    it_response_free(r);
    free(body);
}

void
put_file(const struct it_env *env, const char *rel, const char *text, int offline)
{
    char *path = it_fmt("/api/v1/files/srv/s/%s", rel);
    struct it_response *r = it_put(&env->d, path, text, strlen(text));
    if (r->status != 200 && r->status != 201)
        IT_ASSERT_STATUS(r, 201);
    IT_ASSERT_JBOOL(r->json, "storedOffline", offline);
    it_response_free(r);
    free(path);
}

void
mkdir_api(const struct it_env *env, const char *rel)
{
    char *path = it_fmt("/api/v1/files/srv/s/%s", rel);
    struct it_response *r = it_json_req(&env->d, "POST", path, "{\"type\":\"directory\"}");
    IT_ASSERT_STATUS(r, 201);
    it_response_free(r);
    free(path);
}

void
seed_cached(const struct it_env *env, const char *rel, const char *text)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    assert_int_equal(it_write_file(path, text, strlen(text)), 0);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/%s", rel);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
}

void
set_online(const struct it_env *env, int online)
{
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", online), 200);
}

/* ---- what a stream got ---- */

long long
jint(const struct frame *f, const char *key)
{
    return (long long)json_integer_value(json_object_get(f->json, key));
}

void
assert_contiguous(const struct sse *s, long long first, long long last, const char *what)
{
    long long want = first;
    for (size_t i = 0; i < s->n; i++) {
        const struct frame *f = &s->f[i];
        if (f->id < 0) {
            if (strcmp(f->event, "DataLost") == 0) {
                print_error("%s: DataLost at frame %zu\n", what, i);
                dump_frames(s, i > 2 ? i - 2 : 0, 5);
                fail();
            }
            continue;
        }
        if (f->id != want) {
            print_error("%s: frame %zu has id %lld, expected %lld (ids %lld..%lld)\n", what, i,
                        f->id, want, first, last);
            dump_frames(s, i > 2 ? i - 2 : 0, 5);
            fail();
        }
        if (want == last)
            return;
        want++;
    }
    print_error("%s: the stream ends at id %lld, expected %lld\n", what, want - 1, last);
    fail();
}

long long
marker_id(const struct sse *s, const char *marker)
{
    long at = find_marker(s, marker);
    assert_true(at >= 0);
    return s->f[at].id;
}
