/* SPDX-License-Identifier: MIT */
/*
 * GET /api/v1/events: server-sent events. One hub subscribes to the engine
 * once, renders each event once into a frame, and keeps the newest frames
 * in a ring. Each client has only a cursor (the last id it was sent) and
 * its filter; its content reader copies frames past the cursor, and when
 * there is nothing to send it suspends its connection (no thread is held)
 * until the hub resumes it. A client whose cursor falls behind the ring is
 * told (DataLost) and fed from the event log until it catches up, so a slow
 * consumer never blocks the engine or anyone else. One waker thread does
 * every resume, paced (see PACE_MAX_NS) so that a client under a steady
 * stream gets one wakeup and one write per frame, however many events the
 * frame holds; it also marks idle clients for a Ping, which is how dead
 * clients are found.
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
#define TICK_NS 1000000000LL /* how often idle clients are checked for a due Ping */
/*
 * Pacing. Each resume costs a syscall, an MHD wakeup and poll, and each
 * write a trip through TCP (on loopback, the receiver's side too): with
 * 1,000 clients that, not the events, is where the CPU goes. So a client is
 * resumed at most once per frame, and a frame lasts PACE_PER_CLIENT_NS per
 * client, at most PACE_MAX_NS: about 50,000 resumes a second in all, while
 * a handful of clients is paced at well under a millisecond. A client's
 * frames start at one of PHASES offsets, so the writes of many clients
 * spread over the frame instead of coming in one burst that the last of
 * them waits for; a few phases only, so each resume wakes an MHD thread
 * for many clients. An idle client is resumed SETTLE_NS after the first
 * event, so the rest of a burst goes in the same write.
 */
#define PACE_PER_CLIENT_NS 20000LL
#define PACE_MAX_NS 20000000LL
#define PHASES 8
#define SETTLE_NS 500000LL

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
    unsigned phase;  /* where its frames start, in PHASES-ths of a frame */
    int64_t next_ok; /* monotonic time it may be resumed again (the start of its next frame) */
    int64_t due;     /* while queued: when the waker resumes it */
    int64_t last_write_ns, ping_ns;
    /* filter */
    char *path;
    enum match match;
    uint64_t include, exclude; /* bit per of_event_type */
    /* bytes of a frame that did not fit the last buffer */
    char *carry;
    size_t carry_len, carry_off;
};

/* Clients to resume: filled under the hub lock, emptied by the waker when they are due. */
struct wake_list {
    struct sse_client **c;
    size_t n, cap;
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
    struct wake_list queued;   /* parked clients to resume, marked not suspended already */
    struct wake_list resuming; /* the waker's own: those it resumes outside the lock */
    unsigned next_phase;       /* the phase of the next client */
    pthread_t waker;
    pthread_cond_t kick; /* on CLOCK_MONOTONIC: something is due before waker_until, or stop */
    int64_t waker_until; /* when the waker wakes up by itself */
    int running, closing, waker_joined;
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

static int64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Queue a parked client to be resumed at the start of its next frame (or
 * SETTLE_NS from now if that is later); hub lock held. Resuming is a
 * syscall per client and wakes an MHD thread, so it happens in one place,
 * outside the lock. A queued client is marked not suspended at once, so
 * nothing queues it twice; it is still suspended in MHD, so it cannot
 * complete (and be freed) before the waker resumes it.
 */
static void
wake(struct sse_client *c, int64_t now)
{
    struct sse_hub *hub = c->hub;
    struct wake_list *q = &hub->queued;
    if (!c->suspended)
        return;
    c->suspended = 0;
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        void *grown = realloc(q->c, cap * sizeof(*q->c));
        if (!grown) {
            MHD_resume_connection(c->conn); /* no room to queue it: now, rather than never */
            return;
        }
        q->c = grown;
        q->cap = cap;
    }
    c->due = hub->closing ? now : c->next_ok > now + SETTLE_NS ? c->next_ok : now + SETTLE_NS;
    q->c[q->n++] = c;
    if (c->due < hub->waker_until) {
        hub->waker_until = c->due;
        pthread_cond_signal(&hub->kick);
    }
}

/* The engine's subscriber: runs on the publishing thread, so only render and queue. */
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
    int64_t now = mono_ns();
    for (struct sse_client *c = hub->clients; c; c = c->next)
        if (c->suspended && wanted(c, f.type, f.path ? f.path : ""))
            wake(c, now);
    pthread_mutex_unlock(&hub->lock);
    free(old.text);
    free(old.path);
}

/* Mark clients that have been quiet for their ping interval; hub lock held. */
static void
mark_pings(struct sse_hub *hub)
{
    int64_t now = of_now_ns(), mono = mono_ns();
    for (struct sse_client *c = hub->clients; c; c = c->next) {
        if (now - c->last_write_ns >= c->ping_ns) {
            c->ping_due = 1;
            wake(c, mono);
        }
    }
}

/* The start of the client's next frame after now: its phase plus a whole number of frames. */
static int64_t
next_frame(const struct sse_hub *hub, const struct sse_client *c, int64_t now)
{
    int64_t pace = (int64_t)hub->n_clients * PACE_PER_CLIENT_NS;
    if (pace > PACE_MAX_NS)
        pace = PACE_MAX_NS;
    if (pace <= 0)
        return now;
    int64_t phase = pace * c->phase / PHASES;
    return (now - phase) / pace * pace + phase + pace;
}

/*
 * Resume the queued clients that are due, outside the lock; hub lock held
 * on entry and on return. Returns when the first of the others is due.
 */
static int64_t
resume_due(struct sse_hub *hub, int64_t now)
{
    struct wake_list *q = &hub->queued, *mine = &hub->resuming;
    int64_t first = INT64_MAX;
    size_t kept = 0;
    if (mine->cap < q->n) {
        void *grown = realloc(mine->c, q->cap * sizeof(*mine->c));
        if (!grown)
            return now + 1000000; /* try again in a millisecond */
        mine->c = grown;
        mine->cap = q->cap;
    }
    mine->n = 0;
    for (size_t i = 0; i < q->n; i++) {
        struct sse_client *c = q->c[i];
        if (c->due <= now || hub->closing) {
            c->next_ok = next_frame(hub, c, now);
            mine->c[mine->n++] = c;
        } else {
            first = c->due < first ? c->due : first;
            q->c[kept++] = c;
        }
    }
    q->n = kept;
    hub->waker_until = first;
    if (mine->n == 0)
        return first;
    pthread_mutex_unlock(&hub->lock);
    /* Each client stays valid until its resume: it cannot complete while suspended. */
    for (size_t i = 0; i < mine->n; i++)
        MHD_resume_connection(mine->c[i]->conn);
    pthread_mutex_lock(&hub->lock);
    return hub->waker_until;
}

static void
deadline(struct timespec *ts, int64_t mono)
{
    ts->tv_sec = (time_t)(mono / 1000000000);
    ts->tv_nsec = (long)(mono % 1000000000);
}

/*
 * The waker: resumes queued clients when they are due, and once a second
 * marks idle clients for a Ping. After close_all it resumes what is queued
 * and ends, so no resume can race MHD_stop_daemon.
 */
static void *
waker(void *arg)
{
    of_thread_name("of-sse");
    struct sse_hub *hub = arg;
    int64_t next_tick = mono_ns() + TICK_NS;
    pthread_mutex_lock(&hub->lock);
    while (hub->running && !(hub->closing && hub->queued.n == 0)) {
        int64_t now = mono_ns();
        if (now >= next_tick) {
            mark_pings(hub);
            next_tick = now + TICK_NS;
        }
        int64_t until = hub->queued.n ? resume_due(hub, now) : INT64_MAX;
        if (until <= mono_ns())
            continue;
        hub->waker_until = until < next_tick ? until : next_tick;
        struct timespec ts;
        deadline(&ts, hub->waker_until);
        pthread_cond_timedwait(&hub->kick, &hub->lock, &ts);
    }
    pthread_mutex_unlock(&hub->lock);
    return NULL;
}

struct sse_hub *
api_sse_start(struct of_engine *eng)
{
    struct sse_hub *hub = calloc(1, sizeof(*hub));
    if (!hub)
        return NULL;
    pthread_mutex_init(&hub->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&hub->kick, &attr);
    pthread_condattr_destroy(&attr);
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
    if (pthread_create(&hub->waker, NULL, waker, hub) != 0) {
        of_engine_unsubscribe(eng, hub->sub);
        free(hub);
        return NULL;
    }
    return hub;
}

/* Wait for the waker to end; it ends once closing or stopped and nothing is queued. */
static void
join_waker(struct sse_hub *hub)
{
    if (!hub->waker_joined) {
        pthread_join(hub->waker, NULL);
        hub->waker_joined = 1;
    }
}

void
api_sse_close_all(struct sse_hub *hub)
{
    if (!hub)
        return;
    pthread_mutex_lock(&hub->lock);
    hub->closing = 1;
    int64_t now = mono_ns();
    for (struct sse_client *c = hub->clients; c; c = c->next) {
        c->closing = 1;
        wake(c, now);
    }
    pthread_cond_signal(&hub->kick);
    pthread_mutex_unlock(&hub->lock);
    /* Every stream is resumed when this returns: none is left parked for MHD_stop_daemon. */
    join_waker(hub);
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
    pthread_cond_signal(&hub->kick);
    pthread_mutex_unlock(&hub->lock);
    join_waker(hub);
    pthread_cond_destroy(&hub->kick);
    free(hub->queued.c);
    free(hub->resuming.c);
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
    c->closing = hub->closing; /* a stream that starts while the daemon stops ends at once */
    c->phase = hub->next_phase++ % PHASES;
    c->next = hub->clients;
    if (hub->clients)
        hub->clients->prev = c;
    hub->clients = c;
    hub->n_clients++;
    pthread_mutex_unlock(&hub->lock);
    req->streaming = 1;
    return api_reply_response(req, MHD_HTTP_OK, resp);
}
