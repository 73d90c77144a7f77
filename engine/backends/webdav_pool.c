/* SPDX-License-Identifier: MIT */
/*
 * The easy handles of the webdav backends: one pool per server (scheme,
 * host and port of a share's URL), shared by every share on it. A request
 * borrows a handle, performs on its caller's thread and gives it back reset
 * but with its live connection, which the next request to that server
 * reuses, whichever share it is for. Each share may hold at most
 * `transfers` handles at once: that is its limit of requests and
 * connections; the server's connections are at most the sum over its
 * shares.
 *
 * Why a pool of our own and not curl's share interface
 * (CURL_LOCK_DATA_CONNECT) for the connections of a server: libcurl does not
 * support using a shared connection cache from concurrent threads, and each
 * request runs on its caller's thread. A connection is reused only where
 * curl's own checks allow it: a share with other TLS settings (a CA file,
 * verification off) gets a new connection, not another share's.
 */
#include "webdav_int.h"

#include <stdlib.h>
#include <string.h>

/* Idle handles a server keeps; past that, a handle given back is freed with its connection. */
#define IDLE_MAX 64

struct webdav_server {
    char *origin; /* "http://host:port", the registry's key */
    int refs;     /* backends using it (under registry_lock) */
    struct webdav_server *next;
    pthread_mutex_t lock;
    pthread_cond_t back; /* a handle came back (to any share of the server) */
    CURL *idle[IDLE_MAX];
    int n_idle;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct webdav_server *registry;

/* The server of origin (length len), made on first use; NULL when out of memory. */
static struct webdav_server *
server_ref(const char *origin, size_t len)
{
    pthread_mutex_lock(&registry_lock);
    struct webdav_server *s = registry;
    while (s && (strlen(s->origin) != len || strncmp(s->origin, origin, len) != 0))
        s = s->next;
    if (!s && (s = calloc(1, sizeof(*s))) != NULL) {
        s->origin = strndup(origin, len);
        if (!s->origin) {
            free(s);
            s = NULL;
        } else {
            pthread_mutex_init(&s->lock, NULL);
            pthread_cond_init(&s->back, NULL);
            s->next = registry;
            registry = s;
        }
    }
    if (s)
        s->refs++;
    pthread_mutex_unlock(&registry_lock);
    return s;
}

/* Drop a reference; the last one frees the server, its idle handles and their connections. */
static void
server_unref(struct webdav_server *s)
{
    pthread_mutex_lock(&registry_lock);
    int last = --s->refs == 0;
    if (last) {
        struct webdav_server **p = &registry;
        while (*p != s)
            p = &(*p)->next;
        *p = s->next;
    }
    pthread_mutex_unlock(&registry_lock);
    if (!last)
        return;
    for (int i = 0; i < s->n_idle; i++)
        curl_easy_cleanup(s->idle[i]);
    pthread_cond_destroy(&s->back);
    pthread_mutex_destroy(&s->lock);
    free(s->origin);
    free(s);
}

int
webdav_start(struct webdav *w, struct of_error *err)
{
    w->server = server_ref(w->url, w->origin_len);
    return w->server ? 0 : FAIL(err, OF_E(NOMEM), "out of memory");
}

void
webdav_stop(struct webdav *w)
{
    struct webdav_server *s = w->server;
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    __atomic_store_n(&w->stopping, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&s->back); /* those waiting for a handle take a spare */
    while (w->n_lent > 0)
        pthread_cond_wait(&s->back, &s->lock);
    pthread_mutex_unlock(&s->lock);
    w->server = NULL;
    server_unref(s);
}

CURL *
webdav_pool_take(struct webdav *w, int *ret_pooled)
{
    struct webdav_server *s = w->server;
    CURL *c = NULL;
    pthread_mutex_lock(&s->lock);
    while (!w->stopping && w->n_lent >= w->transfers)
        pthread_cond_wait(&s->back, &s->lock);
    int pooled = !w->stopping;
    if (pooled) {
        w->n_lent++;
        if (s->n_idle > 0)
            c = s->idle[--s->n_idle];
    }
    pthread_mutex_unlock(&s->lock);
    *ret_pooled = pooled;
    if (c)
        return c;
    c = curl_easy_init();
    if (!c && pooled)
        webdav_pool_give(w, NULL, 1); /* the share's slot back */
    return c;
}

void
webdav_pool_give(struct webdav *w, CURL *c, int pooled)
{
    if (c && pooled)
        curl_easy_reset(c);
    if (!pooled) {
        curl_easy_cleanup(c);
        return;
    }
    struct webdav_server *s = w->server;
    pthread_mutex_lock(&s->lock);
    if (c && s->n_idle < IDLE_MAX) {
        s->idle[s->n_idle++] = c;
        c = NULL;
    }
    w->n_lent--;
    /* Waiters may be of other shares, each with a limit of its own: wake them all. */
    pthread_cond_broadcast(&s->back);
    pthread_mutex_unlock(&s->lock);
    curl_easy_cleanup(c);
}
