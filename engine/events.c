/* SPDX-License-Identifier: MIT */
/*
 * The event bus: monotonic ids, live delivery to subscribers in id order,
 * and a flusher thread that writes published events to the store's log in
 * batches (one transaction per batch, so publishing never waits for a disk
 * sync) and applies the retention bounds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_int.h"
#include "log.h"
#include "util.h"

#define FLUSH_INTERVAL_MS 50
#define PRUNE_EVERY 200 /* flushes */

static const char *const type_names[OF_EV__COUNT] = {
#define OF_EVENT_NAME(name) #name,
    OF_EVENT_TYPES(OF_EVENT_NAME)
#undef OF_EVENT_NAME
};

const char *
of_event_type_name(enum of_event_type type)
{
    return (unsigned)type < OF_EV__COUNT ? type_names[type] : "";
}

int
of_event_type_parse(const char *name, enum of_event_type *ret_type)
{
    for (int i = 0; i < OF_EV__COUNT; i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *ret_type = (enum of_event_type)i;
            return 0;
        }
    }
    return -1;
}

void
of_event_init(struct of_event *ev, enum of_event_type type, const char *path)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->item_type = -1;
    ev->sync_state = -1;
    ev->operation = -1;
    if (path)
        snprintf(ev->path, sizeof(ev->path), "%s", path);
}

/*
 * Write what is pending; the bus lock is held on entry and on return. Once it
 * returns, every event published before the call is in the log.
 */
static void
flush_locked(struct of_engine *eng)
{
    struct event_bus *bus = &eng->bus;
    pthread_mutex_unlock(&bus->lock);
    pthread_mutex_lock(&bus->flush_lock);
    pthread_mutex_lock(&bus->lock);
    if (bus->n_pending == 0) {
        pthread_mutex_unlock(&bus->flush_lock);
        return;
    }
    struct of_event *batch = bus->pending;
    size_t n = bus->n_pending;
    bus->pending = NULL;
    bus->n_pending = bus->cap_pending = 0;
    pthread_mutex_unlock(&bus->lock);
    struct of_error err = {0};
    if (of_store_event_append(eng->store, batch, n, &err) < 0)
        of_log_warn("events: %zu event(s) not logged: %s", n, err.detail);
    if (++bus->flushes % PRUNE_EVERY == 1)
        of_store_event_prune(eng->store, bus->keep_count, of_now_ns() - bus->keep_ns, NULL);
    free(batch);
    pthread_mutex_lock(&bus->lock);
    pthread_mutex_unlock(&bus->flush_lock);
}

static void *
flusher(void *arg)
{
    of_thread_name("of-events");
    struct of_engine *eng = arg;
    struct event_bus *bus = &eng->bus;
    pthread_mutex_lock(&bus->lock);
    while (bus->running) {
        struct timespec until;
        of_deadline_ms(&until, FLUSH_INTERVAL_MS);
        pthread_cond_timedwait(&bus->wake, &bus->lock, &until);
        flush_locked(eng);
    }
    flush_locked(eng);
    pthread_mutex_unlock(&bus->lock);
    return NULL;
}

int
engine_events_start(struct of_engine *eng, struct of_error *reterr)
{
    struct event_bus *bus = &eng->bus;
    int64_t oldest = 0, newest = 0;
    int rc = of_store_event_bounds(eng->store, &oldest, &newest, reterr);
    if (rc < 0)
        return rc;
    pthread_mutex_init(&bus->lock, NULL);
    pthread_mutex_init(&bus->flush_lock, NULL);
    pthread_cond_init(&bus->wake, NULL);
    bus->last_id = newest;
    bus->keep_count = eng->events_keep_count;
    bus->keep_ns = eng->events_keep_ns;
    bus->running = 1;
    if (pthread_create(&bus->flusher, NULL, flusher, eng) != 0) {
        bus->running = 0;
        return of_error_set(reterr, OF_E(INTERNAL), "cannot start the event writer");
    }
    return 0;
}

void
engine_events_stop(struct of_engine *eng)
{
    struct event_bus *bus = &eng->bus;
    if (!bus->running)
        return;
    pthread_mutex_lock(&bus->lock);
    bus->running = 0;
    pthread_cond_signal(&bus->wake);
    pthread_mutex_unlock(&bus->lock);
    pthread_join(bus->flusher, NULL);
    free(bus->pending);
    free(bus->subs);
    pthread_cond_destroy(&bus->wake);
    pthread_mutex_destroy(&bus->lock);
    pthread_mutex_destroy(&bus->flush_lock);
}

int64_t
engine_publish(struct of_engine *eng, struct of_event *ev)
{
    struct event_bus *bus = &eng->bus;
    pthread_mutex_lock(&bus->lock);
    ev->id = ++bus->last_id;
    ev->time_ns = of_now_ns();
    if (bus->n_pending == bus->cap_pending) {
        size_t cap = bus->cap_pending ? bus->cap_pending * 2 : 64;
        struct of_event *grown = realloc(bus->pending, cap * sizeof(*grown));
        if (grown) {
            bus->pending = grown;
            bus->cap_pending = cap;
        }
    }
    if (bus->n_pending < bus->cap_pending)
        bus->pending[bus->n_pending++] = *ev;
    for (size_t i = 0; i < bus->n_subs; i++)
        bus->subs[i].cb(bus->subs[i].ctx, ev);
    int64_t id = ev->id;
    pthread_mutex_unlock(&bus->lock);
    return id;
}

void
engine_publish_item(struct of_engine *eng, enum of_event_type type, const char *path, int item_type)
{
    struct of_event *ev = malloc(sizeof(*ev));
    if (!ev)
        return;
    of_event_init(ev, type, path);
    ev->item_type = item_type;
    engine_publish(eng, ev);
    free(ev);
}

int
of_engine_subscribe(struct of_engine *eng, of_event_cb cb, void *ctx, int64_t *ret_last_id,
                    void **ret_handle, struct of_error *reterr)
{
    struct event_bus *bus = &eng->bus;
    struct event_sub *sub = malloc(sizeof(*sub));
    if (!sub)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    pthread_mutex_lock(&bus->lock);
    int rc = 0;
    if (bus->n_subs == bus->cap_subs) {
        size_t cap = bus->cap_subs ? bus->cap_subs * 2 : 16;
        struct event_sub *grown = realloc(bus->subs, cap * sizeof(*grown));
        if (!grown)
            rc = of_error_set(reterr, OF_E(NOMEM), "out of memory");
        else {
            bus->subs = grown;
            bus->cap_subs = cap;
        }
    }
    if (rc == 0) {
        bus->subs[bus->n_subs].cb = cb;
        bus->subs[bus->n_subs].ctx = ctx;
        bus->n_subs++;
        *ret_last_id = bus->last_id;
        /* The handle names the (cb, ctx) pair; the heap copy only gives it an address. */
        sub->cb = cb;
        sub->ctx = ctx;
        *ret_handle = sub;
    }
    pthread_mutex_unlock(&bus->lock);
    if (rc < 0)
        free(sub);
    return rc;
}

void
of_engine_unsubscribe(struct of_engine *eng, void *handle)
{
    struct event_bus *bus = &eng->bus;
    struct event_sub *sub = handle;
    if (!sub)
        return;
    pthread_mutex_lock(&bus->lock);
    for (size_t i = 0; i < bus->n_subs; i++) {
        if (bus->subs[i].cb == sub->cb && bus->subs[i].ctx == sub->ctx) {
            bus->subs[i] = bus->subs[--bus->n_subs];
            break;
        }
    }
    pthread_mutex_unlock(&bus->lock);
    free(sub);
}

int
of_engine_events_scan(struct of_engine *eng, int64_t after_id, size_t max,
                      int (*cb)(void *ctx, const struct of_event *ev), void *ctx,
                      struct of_error *reterr)
{
    pthread_mutex_lock(&eng->bus.lock);
    flush_locked(eng);
    pthread_mutex_unlock(&eng->bus.lock);
    return of_store_event_scan(eng->store, after_id, max, cb, ctx, reterr);
}

int
of_engine_events_bounds(struct of_engine *eng, int64_t *ret_oldest, int64_t *ret_newest,
                        struct of_error *reterr)
{
    pthread_mutex_lock(&eng->bus.lock);
    flush_locked(eng);
    pthread_mutex_unlock(&eng->bus.lock);
    return of_store_event_bounds(eng->store, ret_oldest, ret_newest, reterr);
}

int
of_engine_events_ping(struct of_engine *eng, int64_t n, const char *text, struct of_error *reterr)
{
    if (n < 1 || n > 100000)
        return of_error_set(reterr, OF_E(BAD_FIELD), "count is 1 to 100000");

    struct of_event *ev = malloc(sizeof(*ev));
    if (!ev)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    for (int64_t i = 0; i < n; i++) {
        of_event_init(ev, OF_EV_Ping, NULL);
        /* A long detail is cut, on a UTF-8 character boundary so it stays valid text. */
        size_t len = text ? strlen(text) : 0;
        if (len >= sizeof(ev->text)) {
            len = sizeof(ev->text) - 1;
            while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
                len--;
        }
        if (len)
            memcpy(ev->text, text, len);
        ev->text[len] = '\0';
        engine_publish(eng, ev);
    }
    free(ev);
    return 0;
}
