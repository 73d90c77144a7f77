/* SPDX-License-Identifier: MIT */
/*
 * Connection state over time: a prober thread brings offline shares back
 * (exponential backoff from the first probe within seconds up to a cap),
 * measures the latency of online shares now and then, and takes a share
 * offline with reason "slow" when it is set to go offline on a slow link
 * and its latency passes the threshold. Reconnecting raises
 * ItemReconnectBegin, ItemReconnected per share, ItemReconnectEnd, and a
 * share that comes back gets its dirty items synced (announce in shares.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_int.h"
#include "log.h"
#include "util.h"

void
engine_conn_schedule(struct of_engine *eng, struct share_rt *s, int grow)
{
    struct conn_prober *p = &eng->prober;
    pthread_mutex_lock(&eng->shares_lock);
    if (!grow || s->backoff_ns == 0)
        s->backoff_ns = p->first_ns;
    else
        s->backoff_ns = s->backoff_ns * 2 > p->max_ns ? p->max_ns : s->backoff_ns * 2;
    s->next_probe_ns = of_now_ns() + s->backoff_ns;
    pthread_mutex_unlock(&eng->shares_lock);
    if (p->started) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
}

/* Probe one share and move it where the answer says; returns 1 if it came back. */
static int
probe_one(struct of_engine *eng, struct share_rt *s, int was_online)
{
    struct of_error err = {0};
    int64_t t0 = of_now_ns();
    int rc = s->be ? s->be->ops->probe(s->be, &err)
                   : of_error_set(&err, OF_E(UNAVAILABLE), "%s", s->last_error);
    int64_t ms = (of_now_ns() - t0) / 1000000;
    pthread_mutex_lock(&eng->shares_lock);
    s->last_probe_ns = of_now_ns();
    if (rc == 0)
        s->latency_ms = ms > 0 ? ms : 1;
    int slow = rc == 0 && s->rec.offline_on_slow && s->rec.slow_ms > 0 && ms > s->rec.slow_ms;
    int forced = s->reason == OF_REASON_FORCED;
    pthread_mutex_unlock(&eng->shares_lock);
    if (forced)
        return 0;
    if (rc == 0 && !slow) {
        if (!was_online)
            engine_share_set(eng, s, OF_CONN_ONLINE, OF_REASON_NONE, NULL);
        return !was_online;
    }
    if (slow) {
        char why[128];
        snprintf(why, sizeof(why), "latency %lld ms is over the slow-link threshold of %d ms",
                 (long long)ms, s->rec.slow_ms);
        engine_share_set(eng, s, OF_CONN_OFFLINE, OF_REASON_SLOW, why);
    } else {
        engine_share_set(eng, s, OF_CONN_OFFLINE, OF_REASON_CONNECTION_ERROR, err.detail);
    }
    engine_conn_schedule(eng, s, !was_online);
    return 0;
}

/* One pass over the shares: who is due for a probe, and what it says. */
static void
pass(struct of_engine *eng)
{
    struct conn_prober *p = &eng->prober;
    pthread_mutex_lock(&eng->shares_lock);
    size_t n = eng->n_shares;
    struct share_rt **due = calloc(n + 1, sizeof(*due));
    int *was_online = calloc(n + 1, sizeof(*was_online));
    size_t k = 0;
    int64_t now = of_now_ns();
    for (size_t i = 0; due && was_online && i < n; i++) {
        struct share_rt *s = eng->shares[i];
        int online = s->state == OF_CONN_ONLINE;
        if (s->reason == OF_REASON_FORCED && !online)
            continue;
        if ((!online && now >= s->next_probe_ns) ||
            (online && now - s->last_probe_ns >= p->online_every_ns)) {
            s->refs++;
            was_online[k] = online;
            due[k++] = s;
        }
    }
    pthread_mutex_unlock(&eng->shares_lock);
    int reconnecting = 0;
    for (size_t i = 0; i < k; i++)
        reconnecting |= !was_online[i];
    struct of_event ev;
    if (reconnecting) {
        of_event_init(&ev, OF_EV_ItemReconnectBegin, NULL);
        engine_publish(eng, &ev);
    }
    for (size_t i = 0; i < k; i++) {
        probe_one(eng, due[i], was_online[i]);
        engine_share_release(eng, due[i]);
    }
    if (reconnecting) {
        of_event_init(&ev, OF_EV_ItemReconnectEnd, NULL);
        engine_publish(eng, &ev);
    }
    free(due);
    free(was_online);
}

static void *
prober(void *arg)
{
    of_thread_name("of-probe");
    struct of_engine *eng = arg;
    struct conn_prober *p = &eng->prober;
    pthread_mutex_lock(&p->lock);
    while (p->running) {
        struct timespec until;
        of_deadline_ms(&until, 250);
        pthread_cond_timedwait(&p->wake, &p->lock, &until);
        if (!p->running)
            break;
        pthread_mutex_unlock(&p->lock);
        pass(eng);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int
engine_conn_start(struct of_engine *eng, struct of_error *reterr)
{
    struct conn_prober *p = &eng->prober;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->running = 1;
    /* Shares that were offline at start get their first probe soon. */
    pthread_mutex_lock(&eng->shares_lock);
    for (size_t i = 0; i < eng->n_shares; i++) {
        struct share_rt *s = eng->shares[i];
        s->backoff_ns = p->first_ns;
        s->next_probe_ns = of_now_ns() + p->first_ns;
        s->last_probe_ns = of_now_ns();
    }
    pthread_mutex_unlock(&eng->shares_lock);
    if (pthread_create(&p->thread, NULL, prober, eng) != 0) {
        p->running = 0;
        return of_error_set(reterr, OF_E(INTERNAL), "cannot start the connection prober");
    }
    p->started = 1;
    return 0;
}

void
engine_conn_stop(struct of_engine *eng)
{
    struct conn_prober *p = &eng->prober;
    if (!p->started)
        return;
    pthread_mutex_lock(&p->lock);
    p->running = 0;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    p->started = 0;
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
}
