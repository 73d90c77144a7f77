/* SPDX-License-Identifier: MIT */
/*
 * Cache limits and eviction. Two quotas: the total (everything cached) and
 * the unpinned (what was cached only because it was read). When new content
 * would pass one, clean unpinned items are evicted least recently used
 * first and become ghosts. Pinned items are never evicted and dirty items
 * never: when they alone fill the cache, the new content is refused
 * (OF_E(CACHE_FULL)) and CacheIsFull is raised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"
#include "util.h"

#define EVICT_BATCH 64

struct evict_ctx {
    struct of_engine *eng;
    int64_t need_total, need_unpinned; /* bytes still to free */
    int64_t freed;
    int started;
    int visited;
};

/* Turn one clean unpinned item into a ghost, if it still is one when we look again. */
static int64_t
evict_one(struct of_engine *eng, const struct of_item *cand)
{
    struct of_item *it = malloc(sizeof(*it));
    struct of_pin_info pi;
    int64_t freed = 0;
    char name[OF_CONTENT_NAME_MAX] = "";
    if (!it || of_store_begin(eng->store, NULL) < 0) {
        free(it);
        return 0;
    }
    if (of_store_item_get_id(eng->store, cand->id, it, NULL) == 0 && !of_item_dirty(it) &&
        it->content[0] && strcmp(it->content, cand->content) == 0 &&
        of_store_pin_info(eng->store, it, NULL, &pi, NULL) == 0 && !pi.pinned) {
        memcpy(name, it->content, sizeof(name));
        freed = it->cached_bytes;
        it->content[0] = '\0';
        it->cached_bytes = 0;
        it->ghosted = 1;
        it->transparent = 0;
        if (of_store_item_put(eng->store, it, NULL) < 0)
            freed = 0;
    }
    if (freed > 0 && of_store_commit(eng->store, NULL) == 0) {
        of_content_remove(eng->content, name);
        engine_publish_item(eng, OF_EV_ItemNotAvailableOffline, it->path, (int)it->type);
    } else if (freed > 0) {
        freed = 0;
    } else {
        of_store_rollback(eng->store);
    }
    free(it);
    return freed;
}

static int
visit(void *arg, const struct of_item *it)
{
    struct evict_ctx *ec = arg;
    ec->visited++;
    if (!ec->started) {
        struct of_event ev;
        of_event_init(&ev, OF_EV_CacheEvictBegin, NULL);
        engine_publish(ec->eng, &ev);
        ec->started = 1;
    }
    /* The scan holds a reader; evict_one takes the writer: different connections. */
    int64_t freed = evict_one(ec->eng, it);
    ec->freed += freed;
    ec->need_total -= freed;
    ec->need_unpinned -= freed;
    return ec->need_total <= 0 && ec->need_unpinned <= 0 ? 1 : 0;
}

/*
 * Summing the cache's usage walks every item, too slow to do for each file
 * of a large pin. So a bound is kept: the usage measured last plus every
 * byte admitted since (deletions and evictions only lower the truth). While
 * that bound stays well under both limits nothing needs to be measured.
 */
static int
surely_fits(struct of_engine *eng, int64_t incoming)
{
    struct usage_bound *b = &eng->usage;
    pthread_mutex_lock(&b->lock);
    int fits = b->valid && b->used + b->admitted + incoming <= b->headroom;
    if (fits)
        b->admitted += incoming;
    pthread_mutex_unlock(&b->lock);
    return fits;
}

static void
measured(struct of_engine *eng, const struct of_cache_info *ci, int64_t incoming)
{
    struct usage_bound *b = &eng->usage;
    int64_t lim = ci->limit < ci->unpinned_limit ? ci->limit : ci->unpinned_limit;
    pthread_mutex_lock(&b->lock);
    b->valid = 1;
    b->used = ci->used > ci->unpinned_used ? ci->used : ci->unpinned_used;
    b->admitted = incoming;
    b->headroom = lim - lim / 10; /* re-measure in the last tenth of the smaller limit */
    pthread_mutex_unlock(&b->lock);
}

void
engine_cache_inflight(struct of_engine *eng, int64_t delta, int pinned)
{
    pthread_mutex_lock(&eng->usage.lock);
    eng->usage.inflight += delta;
    if (!pinned)
        eng->usage.inflight_unpinned += delta;
    pthread_mutex_unlock(&eng->usage.lock);
}

void
engine_cache_limits_changed(struct of_engine *eng)
{
    pthread_mutex_lock(&eng->usage.lock);
    eng->usage.valid = 0;
    pthread_mutex_unlock(&eng->usage.lock);
}

int
engine_cache_make_room(struct of_engine *eng, int64_t incoming, int incoming_pinned,
                       struct of_error *reterr)
{
    if (incoming > 0 && surely_fits(eng, incoming))
        return 0;
    struct of_cache_info ci;
    int rc = of_engine_cache_get(eng, &ci, reterr);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&eng->usage.lock);
    ci.used += eng->usage.inflight;
    ci.unpinned_used += eng->usage.inflight_unpinned;
    pthread_mutex_unlock(&eng->usage.lock);
    measured(eng, &ci, incoming);
    struct evict_ctx ec = {.eng = eng};
    ec.need_total = ci.used + incoming - ci.limit;
    ec.need_unpinned = incoming_pinned ? 0 : ci.unpinned_used + incoming - ci.unpinned_limit;
    if (ec.need_total <= 0 && ec.need_unpinned <= 0)
        return 0;
    /* Candidates come in batches: each pass sees what the last one left. */
    for (int pass = 0; pass < 1000 && (ec.need_total > 0 || ec.need_unpinned > 0); pass++) {
        ec.visited = 0;
        int64_t before = ec.freed;
        of_store_evictable(eng->store, EVICT_BATCH, visit, &ec, NULL);
        if (ec.visited == 0 || ec.freed == before)
            break;
    }
    if (ec.started) {
        struct of_event ev;
        of_event_init(&ev, OF_EV_CacheEvictEnd, NULL);
        ev.n_a = ec.freed;
        engine_publish(eng, &ev);
        of_log_info("cache: evicted %lld bytes", (long long)ec.freed);
    }
    if (ec.need_total > 0 || ec.need_unpinned > 0) {
        struct of_event ev;
        of_event_init(&ev, OF_EV_CacheIsFull, NULL);
        ev.n_a = incoming;
        engine_publish(eng, &ev);
        return of_error_set(reterr, OF_E(CACHE_FULL),
                            "the cache is full: %lld more bytes do not fit in its limits once "
                            "every evictable item is gone (pinned and unsynced data stay)",
                            (long long)incoming);
    }
    return 0;
}
