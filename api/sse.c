/* SPDX-License-Identifier: MIT */
/*
 * GET /api/v1/events: server-sent events. One hub subscribes to the engine
 * once, renders each event once into a frame, and keeps the newest frames
 * in a ring. Each client has only a cursor (the last id it was sent) and
 * its filter; its content reader copies frames past the cursor, and when
 * there is nothing to send it suspends its connection (no thread is held)
 * until the hub resumes it. A client whose cursor falls behind the ring is
 * told (DataLost) and fed from the event log until it catches up, so a slow
 * consumer never blocks the engine or anyone else. A ticker resumes idle
 * clients for a Ping: that is how dead clients are found.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_int.h"
#include "log.h"
#include "util.h"

#define RING 8192     /* frames kept for live clients */
#define LOG_BATCH 256 /* events read from the log per reader call */
#define PING_DEFAULT_S 15

enum match { M_SELF, M_CHILDREN, M_DESCENDANTS, M_SELF_CHILDREN, M_SELF_DESCENDANTS };

struct frame {
    int64_t id;
    enum of_event_type type;
    char *path; /* "" when the event has none */
    size_t len;
    char *text; /* "id: ..\nevent: ..\ndata: ..\n\n" */
};

struct sse_client {
    struct sse_hub *hub;
    struct MHD_Connection *conn;
    struct sse_client *prev, *next;
    int64_t cursor; /* last id sent (or skipped by the filter) */
    int suspended, closing, lost_told, ping_due;
    int64_t last_write_ns, ping_ns;
    /* filter */
    char *path;
    enum match match;
    uint64_t include, exclude; /* bit per of_event_type */
    /* bytes of a frame that did not fit the last buffer */
    char *carry;
    size_t carry_len, carry_off;
};

struct sse_hub {
    pthread_mutex_t lock;
    struct of_engine *eng;
    void *sub;
    struct frame ring[RING];
    int64_t base; /* id of the oldest frame in the ring; next id when empty */
    int64_t last; /* newest id seen */
    struct sse_client *clients;
    size_t n_clients;
    struct MHD_Connection **wake; /* on_event's list of connections to resume (its thread only) */
    size_t cap_wake;
    pthread_t ticker;
    pthread_cond_t stop;
    int running;
};

static char *
render_frame(const struct of_event *ev, size_t *ret_len)
{
    json_t *j = api_render_event(ev);
    char *data = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!data)
        return NULL;
    size_t cap = strlen(data) + 128;
    char *text = malloc(cap);
    if (text)
        *ret_len = (size_t)snprintf(text, cap, "id: %" PRId64 "\nevent: %s\ndata: %s\n\n", ev->id,
                                    of_event_type_name(ev->type), data);
    free(data);
    return text;
}

static int
path_matches(const struct sse_client *c, const char *path)
{
    if (!c->path || !path[0])
        return 1; /* only path-bearing events are subject to the path filter */
    size_t n = strlen(c->path);
    int self = strcmp(path, c->path) == 0;
    int below = strncmp(path, c->path, n) == 0 && path[n] == '/';
    int child = below && !strchr(path + n + 1, '/');
    switch (c->match) {
    case M_SELF:
        return self;
    case M_CHILDREN:
        return child;
    case M_DESCENDANTS:
        return below;
    case M_SELF_CHILDREN:
        return self || child;
    case M_SELF_DESCENDANTS:
        return self || below;
    }
    return 0;
}

static int
wanted(const struct sse_client *c, enum of_event_type type, const char *path)
{
    if (type == OF_EV_Ping || type == OF_EV_DataLost)
        return 1; /* never filtered */
    uint64_t bit = 1ull << type;
    return (c->include & bit) && !(c->exclude & bit) && path_matches(c, path);
}

/* Resume a suspended client; hub lock held. */
static void
wake(struct sse_client *c)
{
    if (c->suspended) {
        c->suspended = 0;
        MHD_resume_connection(c->conn);
    }
}

/* The engine's subscriber: runs on the publishing thread, so only render and enqueue. */
static void
on_event(void *ctx, const struct of_event *ev)
{
    struct sse_hub *hub = ctx;
    struct frame f = {.id = ev->id, .type = ev->type};
    f.text = render_frame(ev, &f.len);
    f.path = strdup(ev->path);
    pthread_mutex_lock(&hub->lock);
    struct frame *slot = &hub->ring[ev->id % RING];
    struct frame old = *slot;
    if (slot->text && hub->base <= slot->id)
        hub->base = slot->id + 1; /* the oldest frame is evicted */
    *slot = f;
    if (hub->last < hub->base)
        hub->base = ev->id;
    hub->last = ev->id;
    /*
     * Collect whom to wake and resume them after unlocking: resuming is a
     * syscall per client, and readers wait on this lock meanwhile. A client
     * marked not suspended here cannot complete until it is resumed, so it
     * stays valid until then.
     */
    size_t n = 0;
    if (hub->cap_wake < hub->n_clients) {
        void *grown = realloc(hub->wake, hub->n_clients * sizeof(*hub->wake));
        if (grown) {
            hub->wake = grown;
            hub->cap_wake = hub->n_clients;
        }
    }
    for (struct sse_client *c = hub->clients; c; c = c->next) {
        if (!c->suspended || !wanted(c, f.type, f.path ? f.path : ""))
            continue;
        if (n < hub->cap_wake) {
            c->suspended = 0;
            hub->wake[n++] = c->conn;
        } else {
            wake(c);
        }
    }
    pthread_mutex_unlock(&hub->lock);
    for (size_t i = 0; i < n; i++)
        MHD_resume_connection(hub->wake[i]);
    free(old.text);
    free(old.path);
}

static void *
ticker(void *arg)
{
    struct sse_hub *hub = arg;
    pthread_mutex_lock(&hub->lock);
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        while (hub->running && pthread_cond_timedwait(&hub->stop, &hub->lock, &until) == 0)
            ;
        if (!hub->running) {
            pthread_mutex_unlock(&hub->lock);
            return NULL;
        }
        int64_t now = of_now_ns();
        for (struct sse_client *c = hub->clients; c; c = c->next) {
            if (now - c->last_write_ns >= c->ping_ns) {
                c->ping_due = 1;
                wake(c);
            }
        }
    }
}

struct sse_hub *
api_sse_start(struct of_engine *eng)
{
    struct sse_hub *hub = calloc(1, sizeof(*hub));
    if (!hub)
        return NULL;
    pthread_mutex_init(&hub->lock, NULL);
    pthread_cond_init(&hub->stop, NULL);
    hub->eng = eng;
    int64_t last = 0;
    if (of_engine_subscribe(eng, on_event, hub, &last, &hub->sub, NULL) < 0) {
        free(hub);
        return NULL;
    }
    pthread_mutex_lock(&hub->lock);
    hub->base = last + 1;
    hub->last = last;
    hub->running = 1;
    pthread_mutex_unlock(&hub->lock);
    if (pthread_create(&hub->ticker, NULL, ticker, hub) != 0) {
        of_engine_unsubscribe(eng, hub->sub);
        free(hub);
        return NULL;
    }
    return hub;
}

void
api_sse_close_all(struct sse_hub *hub)
{
    if (!hub)
        return;
    pthread_mutex_lock(&hub->lock);
    for (struct sse_client *c = hub->clients; c; c = c->next) {
        c->closing = 1;
        wake(c);
    }
    pthread_mutex_unlock(&hub->lock);
}

void
api_sse_detach(struct sse_hub *hub)
{
    if (hub && hub->sub) {
        of_engine_unsubscribe(hub->eng, hub->sub);
        hub->sub = NULL;
    }
}

void
api_sse_stop(struct sse_hub *hub)
{
    if (!hub)
        return;
    api_sse_detach(hub);
    pthread_mutex_lock(&hub->lock);
    hub->running = 0;
    pthread_cond_signal(&hub->stop);
    pthread_mutex_unlock(&hub->lock);
    pthread_join(hub->ticker, NULL);
    pthread_cond_destroy(&hub->stop);
    free(hub->wake);
    for (size_t i = 0; i < RING; i++) {
        free(hub->ring[i].text);
        free(hub->ring[i].path);
    }
    pthread_mutex_destroy(&hub->lock);
    free(hub);
}

/* Copy as much of text as fits; the rest waits in the client's carry. */
static size_t
put(struct sse_client *c, char *buf, size_t max, const char *text, size_t len)
{
    size_t n = len < max ? len : max;
    memcpy(buf, text, n);
    if (n < len) {
        c->carry = malloc(len - n);
        if (c->carry) {
            memcpy(c->carry, text + n, len - n);
            c->carry_len = len - n;
            c->carry_off = 0;
        }
    }
    return n;
}

struct log_fill {
    struct sse_client *c;
    char *buf;
    size_t max, out;
};

static int
from_log(void *ctx, const struct of_event *ev)
{
    struct log_fill *lf = ctx;
    if (lf->out >= lf->max || lf->c->carry)
        return 1;
    lf->c->cursor = ev->id;
    if (!wanted(lf->c, ev->type, ev->path))
        return 0;
    size_t len;
    char *text = render_frame(ev, &len);
    if (text)
        lf->out += put(lf->c, lf->buf + lf->out, lf->max - lf->out, text, len);
    free(text);
    return 0;
}

/* An unlogged frame (no id line, so it never moves a client's Last-Event-ID). */
static size_t
control_frame(struct sse_client *c, char *buf, size_t max, const char *type, const char *data)
{
    char text[400], now[40];
    of_time_format(of_now_ns(), now, sizeof(now));
    int n = snprintf(text, sizeof(text), "event: %s\ndata: {\"type\":\"%s\",\"time\":\"%s\"%s}\n\n",
                     type, type, now, data);
    return put(c, buf, max, text, (size_t)n);
}

static ssize_t
reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sse_client *c = cls;
    struct sse_hub *hub = c->hub;
    size_t out = 0;
    (void)pos;
    pthread_mutex_lock(&hub->lock);
    if (c->closing) {
        pthread_mutex_unlock(&hub->lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (c->carry) {
        size_t n = c->carry_len - c->carry_off < max ? c->carry_len - c->carry_off : max;
        memcpy(buf, c->carry + c->carry_off, n);
        c->carry_off += n;
        out = n;
        if (c->carry_off == c->carry_len) {
            free(c->carry);
            c->carry = NULL;
        }
    }
    if (!c->carry && c->cursor + 1 < hub->base) {
        /* Behind the ring: tell a live client once, then feed it from the log. */
        int64_t base = hub->base;
        if (!c->lost_told && out < max) {
            char data[160];
            snprintf(data, sizeof(data),
                     ",\"reason\":\"slow consumer: replaying from the log\",\"resumeFrom\":%" PRId64
                     ",\"liveFrom\":%" PRId64,
                     c->cursor, base);
            out += control_frame(c, buf + out, max - out, "DataLost", data);
            c->lost_told = 1;
        }
        pthread_mutex_unlock(&hub->lock);
        struct log_fill lf = {c, buf, max, out};
        /* Batches the filter drops entirely must not park a client that is still behind. */
        for (int batch = 0; batch < 64 && lf.out == 0 && !c->carry && c->cursor + 1 < base;
             batch++) {
            int64_t before = c->cursor;
            of_engine_events_scan(hub->eng, c->cursor, LOG_BATCH, from_log, &lf, NULL);
            if (c->cursor == before) {
                /* The log no longer holds them either: skip to what it has. */
                c->cursor = base - 1;
                break;
            }
        }
        out = lf.out;
        pthread_mutex_lock(&hub->lock);
    }
    if (c->cursor + 1 >= hub->base)
        c->lost_told = 0; /* caught up: falling behind again is news worth telling */
    for (int64_t id = c->cursor + 1; !c->carry && out < max && id <= hub->last && id >= hub->base;
         id++) {
        struct frame *f = &hub->ring[id % RING];
        c->cursor = id;
        if (f->id == id && f->text && wanted(c, f->type, f->path ? f->path : ""))
            out += put(c, buf + out, max - out, f->text, f->len);
    }
    if (c->ping_due && !c->carry && out < max) {
        char data[64];
        snprintf(data, sizeof(data), ",\"lastId\":%" PRId64, c->cursor);
        out += control_frame(c, buf + out, max - out, "Ping", data);
        c->ping_due = 0;
    }
    if (out == 0) {
        /* Nothing to send: park the connection until the hub has something. */
        c->suspended = 1;
        MHD_suspend_connection(c->conn);
    } else {
        c->last_write_ns = of_now_ns();
    }
    pthread_mutex_unlock(&hub->lock);
    return (ssize_t)out;
}

static void
client_free(void *cls)
{
    struct sse_client *c = cls;
    struct sse_hub *hub = c->hub;
    pthread_mutex_lock(&hub->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        hub->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    hub->n_clients--;
    pthread_mutex_unlock(&hub->lock);
    free(c->carry);
    free(c->path);
    free(c);
}

static int
parse_types(const char *list, uint64_t *ret, struct of_error *err)
{
    char buf[2048];
    if (!list)
        return 0;
    if (strlen(list) >= sizeof(buf))
        return of_error_set(err, OF_E(BAD_QUERY), "the event list is too long");
    memcpy(buf, list, strlen(list) + 1);
    *ret = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        enum of_event_type type;
        if (of_event_type_parse(t, &type) < 0)
            return of_error_set(err, OF_E(BAD_QUERY), "unknown event type '%.40s'", t);
        *ret |= 1ull << type;
    }
    return 0;
}

static int
parse_filter(struct api_request *req, struct sse_client *c, struct of_error *err)
{
    static const char *const matches[] = {"self", "children", "descendants", "selfAndChildren",
                                          "selfAndDescendants"};
    const char *path = api_query(req, "path"), *match = api_query(req, "match"), *v;
    c->include = ~0ull;
    c->match = M_SELF_DESCENDANTS;
    if (path) {
        int rc = of_path_validate(path, err);
        if (rc < 0)
            return rc;
        if (!(c->path = strdup(path)))
            return of_error_set(err, OF_E(NOMEM), "out of memory");
    }
    if (match) {
        int found = 0;
        for (int i = 0; i < 5 && !found; i++)
            if (strcmp(match, matches[i]) == 0) {
                c->match = (enum match)i;
                found = 1;
            }
        if (!found)
            return of_error_set(err, OF_E(BAD_QUERY),
                                "match is self, children, descendants, selfAndChildren or "
                                "selfAndDescendants");
    }
    if (parse_types(api_query(req, "include"), &c->include, err) < 0 ||
        parse_types(api_query(req, "exclude"), &c->exclude, err) < 0)
        return err->code;
    int64_t ping = PING_DEFAULT_S;
    if ((v = api_query(req, "ping")) && (of_parse_i64(v, &ping) < 0 || ping < 1 || ping > 3600))
        return of_error_set(err, OF_E(BAD_QUERY), "ping is 1 to 3600 seconds");
    c->ping_ns = ping * 1000000000LL;
    return 0;
}

/* Where the stream starts: Last-Event-ID or ?since=, else only new events. */
static int
start_cursor(struct api_request *req, struct sse_hub *hub, int64_t *ret, struct of_error *err)
{
    const char *v = api_header(req, "Last-Event-ID");
    v = v ? v : api_query(req, "since");
    if (!v) {
        pthread_mutex_lock(&hub->lock);
        *ret = hub->last;
        pthread_mutex_unlock(&hub->lock);
        return 0;
    }
    if (of_parse_i64(v, ret) < 0 || *ret < 0)
        return of_error_set(err, OF_E(BAD_QUERY), "Last-Event-ID and since take an event id");
    return 0;
}

/* Wait up to ms for every stream to end (after close_all), so each gets its last chunk. */
void
api_sse_drain(struct sse_hub *hub, int ms)
{
    struct timespec tick = {0, 10 * 1000000};
    for (int waited = 0; hub && waited < ms; waited += 10) {
        pthread_mutex_lock(&hub->lock);
        size_t n = hub->n_clients;
        pthread_mutex_unlock(&hub->lock);
        if (n == 0)
            return;
        nanosleep(&tick, NULL);
    }
}

enum MHD_Result
api_events_stream(struct api_request *req)
{
    struct of_error err = {0};
    if (req->method == API_HEAD) {
        /* The head of a stream: a chunked body would follow even for HEAD otherwise. */
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (resp)
            MHD_add_response_header(resp, "Content-Type", "text/event-stream");
        return api_reply_response(req, MHD_HTTP_OK, resp);
    }
    struct sse_hub *hub = req->sse;
    struct sse_client *c = calloc(1, sizeof(*c));
    if (!c || !hub) {
        free(c);
        return api_reply_problem(req, OF_E(UNAVAILABLE), "events are not available");
    }
    c->hub = hub;
    c->conn = req->conn;
    int64_t cursor = 0, oldest = 0, newest = 0;
    if (parse_filter(req, c, &err) < 0 || start_cursor(req, hub, &cursor, &err) < 0 ||
        of_engine_events_bounds(req->eng, &oldest, &newest, &err) < 0) {
        free(c->path);
        free(c);
        return api_reply_error(req, &err);
    }
    c->cursor = cursor;
    c->last_write_ns = of_now_ns();
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader, c, client_free);
    if (!resp) {
        free(c->path);
        free(c);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    pthread_mutex_lock(&hub->lock);
    /* Asked from before what the log still holds: say so first, never skip silently. */
    if (cursor > 0 && oldest > cursor + 1) {
        c->cursor = oldest - 1;
        char text[256];
        char now[40];
        of_time_format(of_now_ns(), now, sizeof(now));
        int n = snprintf(text, sizeof(text),
                         "event: DataLost\ndata: {\"type\":\"DataLost\",\"time\":\"%s\","
                         "\"reason\":\"the log no longer holds events %" PRId64 " to %" PRId64
                         "\"}\n\n",
                         now, cursor + 1, oldest - 1);
        c->carry = malloc((size_t)n);
        if (c->carry) {
            memcpy(c->carry, text, (size_t)n);
            c->carry_len = (size_t)n;
        }
    }
    /* A replay from the log is not a slow consumer: no DataLost for it. */
    c->lost_told = 1;
    c->next = hub->clients;
    if (hub->clients)
        hub->clients->prev = c;
    hub->clients = c;
    hub->n_clients++;
    pthread_mutex_unlock(&hub->lock);
    req->streaming = 1;
    return api_reply_response(req, MHD_HTTP_OK, resp);
}
