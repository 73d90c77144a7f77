/* SPDX-License-Identifier: MIT */
/*
 * Shares at run time: the table of configured shares with their backends,
 * their server and share items, and their connection state (online, or
 * offline with a reason). Full connection management (probes with backoff,
 * slow links) builds on engine_share_online / engine_share_failed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"
#include "util.h"

static const char *const mode_names[] = {"manual", "auto", "autoPrograms", "noCaching"};
static const char *const state_names[] = {"unknown", "offline", "online", "transparentlyCached",
                                          "partlyTransparentlyCached"};
static const char *const reason_names[] = {"none", "forced",    "connectionError",
                                           "slow", "suspended", "versionConflict"};

const char *
of_caching_mode_name(enum of_caching_mode mode)
{
    return (unsigned)mode < 4 ? mode_names[mode] : "manual";
}

int
of_caching_mode_parse(const char *name, enum of_caching_mode *ret_mode)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, mode_names[i]) == 0) {
            *ret_mode = (enum of_caching_mode)i;
            return 0;
        }
    }
    return -1;
}

const char *
of_conn_state_name(enum of_conn_state state)
{
    return (unsigned)state < 5 ? state_names[state] : "unknown";
}

const char *
of_offline_reason_name(enum of_offline_reason reason)
{
    return (unsigned)reason < 6 ? reason_names[reason] : "none";
}

static void
set_state(struct share_rt *s, enum of_conn_state state, enum of_offline_reason reason)
{
    if (s->state != state || s->reason != reason)
        s->last_change_ns = of_now_ns();
    s->state = state;
    s->reason = reason;
}

/*
 * Tell subscribers when a share's online-ness changed (ItemDisconnected,
 * ItemReconnected); a share that came back gets its dirty items synced.
 * Called without shares_lock held.
 */
static void
announce(struct of_engine *eng, struct share_rt *s, int was_online)
{
    pthread_mutex_lock(&eng->shares_lock);
    int online = s->state == OF_CONN_ONLINE;
    enum of_offline_reason reason = s->reason;
    pthread_mutex_unlock(&eng->shares_lock);
    if (online == was_online)
        return;
    struct of_event *ev = malloc(sizeof(*ev));
    if (!ev)
        return;
    char path[2 * OF_SEGMENT_MAX + 4];
    snprintf(path, sizeof(path), "//%s/%s", s->rec.server, s->rec.share);
    of_event_init(ev, online ? OF_EV_ItemReconnected : OF_EV_ItemDisconnected, path);
    ev->item_type = OF_ITEM_SHARE;
    snprintf(ev->text, sizeof(ev->text), "%s", online ? "online" : of_offline_reason_name(reason));
    engine_publish(eng, ev);
    free(ev);
    if (online)
        engine_sync_share_online(eng, s->rec.server, s->rec.share);
}

void
engine_share_options(const struct of_share_rec *rec, struct of_backend_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->auth = (enum of_auth)rec->auth_type;
    opts->username = rec->username;
    opts->secret = rec->secret;
    opts->ca_file = rec->ca_file[0] ? rec->ca_file : NULL;
    opts->insecure = rec->insecure;
    opts->transfers = rec->transfers > 0 ? rec->transfers : 4;
    opts->timeout_ms = 30000;
    opts->connect_timeout_ms = 5000;
}

/* Validate the connection fields of a share record; 0 or OF_E(BAD_FIELD). */
static int
check_options(struct of_share_rec *r, struct of_error *reterr)
{
    if (r->transfers == 0)
        r->transfers = 4;
    if (r->transfers < 1 || r->transfers > 32)
        return of_error_set(reterr, OF_E(BAD_FIELD), "transfers is 1 to 32");
    if (r->auth_type < OF_AUTH_NONE || r->auth_type > OF_AUTH_BEARER)
        return of_error_set(reterr, OF_E(BAD_FIELD), "unknown auth type");
    if ((r->auth_type == OF_AUTH_BASIC || r->auth_type == OF_AUTH_DIGEST) && !r->username[0])
        return of_error_set(reterr, OF_E(BAD_FIELD), "basic and digest auth need a username");
    if (r->auth_type != OF_AUTH_NONE && !r->secret[0])
        return of_error_set(reterr, OF_E(BAD_FIELD), "auth needs a password or token");
    if (r->slow_ms < 0 || r->slow_ms > 600000)
        return of_error_set(reterr, OF_E(BAD_FIELD), "slowLinkMs is 0 to 600000");
    if (r->ca_file[0] && r->ca_file[0] != '/')
        return of_error_set(reterr, OF_E(BAD_FIELD), "caFile is an absolute path");
    struct of_backend *probe_be = NULL;
    struct of_backend_options opts;
    engine_share_options(r, &opts);
    int rc = of_backend_open_with(r->remote, &opts, &probe_be, reterr);
    of_backend_free(probe_be);
    return rc;
}

/* A runtime entry for rec, with its backend opened (or offline with the reason why not). */
static struct share_rt *
share_new(const struct of_share_rec *rec)
{
    struct share_rt *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->rec = *rec;
    s->refs = 1;
    pthread_mutex_init(&s->sync_lock, NULL);
    struct of_error err = {0};
    struct of_backend_options opts;
    engine_share_options(rec, &opts);
    if (of_backend_open_with(rec->remote, &opts, &s->be, &err) < 0) {
        snprintf(s->last_error, sizeof(s->last_error), "%s", err.detail);
        set_state(s, OF_CONN_OFFLINE, OF_REASON_CONNECTION_ERROR);
    } else if (rec->forced_offline) {
        set_state(s, OF_CONN_OFFLINE, OF_REASON_FORCED);
    } else if (s->be->ops->probe(s->be, &err) < 0) {
        snprintf(s->last_error, sizeof(s->last_error), "%s", err.detail);
        s->last_failure_ns = of_now_ns();
        set_state(s, OF_CONN_OFFLINE, OF_REASON_CONNECTION_ERROR);
    } else {
        set_state(s, OF_CONN_ONLINE, OF_REASON_NONE);
    }
    return s;
}

static void
share_unref(struct share_rt *s)
{
    if (--s->refs == 0) {
        of_backend_free(s->be);
        pthread_mutex_destroy(&s->sync_lock);
        free(s);
    }
}

/* Caller holds shares_lock. */
static struct share_rt *
find(struct of_engine *eng, const char *server, const char *share)
{
    for (size_t i = 0; i < eng->n_shares; i++) {
        struct share_rt *s = eng->shares[i];
        if (strcmp(s->rec.server, server) == 0 && strcmp(s->rec.share, share) == 0)
            return s;
    }
    return NULL;
}

static int
table_add(struct of_engine *eng, struct share_rt *s)
{
    if (eng->n_shares == eng->cap_shares) {
        size_t cap = eng->cap_shares ? eng->cap_shares * 2 : 8;
        struct share_rt **grown = realloc(eng->shares, cap * sizeof(*grown));
        if (!grown)
            return OF_E(NOMEM);
        eng->shares = grown;
        eng->cap_shares = cap;
    }
    eng->shares[eng->n_shares++] = s;
    return 0;
}

int
engine_shares_load(struct of_engine *eng, struct of_error *reterr)
{
    struct of_share_rec *recs = NULL;
    size_t n = 0;
    int rc = of_store_share_list(eng->store, &recs, &n, reterr);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct share_rt *s = share_new(&recs[i]);
        if (!s || table_add(eng, s) < 0) {
            free(s);
            rc = of_error_set(reterr, OF_E(NOMEM), "out of memory");
        } else if (s->state != OF_CONN_ONLINE) {
            of_log_warn("share //%s/%s is offline (%s)", s->rec.server, s->rec.share,
                        of_offline_reason_name(s->reason));
        }
    }
    free(recs);
    return rc;
}

void
engine_shares_free(struct of_engine *eng)
{
    for (size_t i = 0; i < eng->n_shares; i++)
        share_unref(eng->shares[i]);
    free(eng->shares);
    eng->shares = NULL;
    eng->n_shares = 0;
}

int
engine_share_acquire(struct of_engine *eng, const char *server, const char *share,
                     struct share_rt **ret_share, struct of_error *reterr)
{
    pthread_mutex_lock(&eng->shares_lock);
    struct share_rt *s = find(eng, server, share);
    if (s)
        s->refs++;
    pthread_mutex_unlock(&eng->shares_lock);
    if (!s)
        return of_error_set(reterr, OF_E(NO_SHARE), "no share //%s/%s is configured", server,
                            share);
    *ret_share = s;
    return 0;
}

int
engine_share_for_path(struct of_engine *eng, const char *path, struct share_rt **ret_share,
                      const char **ret_rel, struct of_error *reterr)
{
    char server[OF_SEGMENT_MAX + 1], share[OF_SEGMENT_MAX + 1];
    const char *rel;
    if (of_path_split(path, server, share, &rel) < 0 || !share[0])
        return of_error_set(reterr, OF_E(BAD_PATH), "'%s' is not a path inside a share", path);
    int rc = engine_share_acquire(eng, server, share, ret_share, reterr);
    if (rc == 0)
        *ret_rel = rel;
    return rc;
}

void
engine_share_release(struct of_engine *eng, struct share_rt *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&eng->shares_lock);
    share_unref(s);
    pthread_mutex_unlock(&eng->shares_lock);
}

int
engine_share_online(struct of_engine *eng, struct share_rt *s)
{
    /* Coming back is the prober's job (connection.c): a request never waits on a probe. */
    pthread_mutex_lock(&eng->shares_lock);
    int online = s->state == OF_CONN_ONLINE;
    pthread_mutex_unlock(&eng->shares_lock);
    return online;
}

void
engine_share_set(struct of_engine *eng, struct share_rt *s, enum of_conn_state state,
                 enum of_offline_reason reason, const char *error)
{
    pthread_mutex_lock(&eng->shares_lock);
    int was_online = s->state == OF_CONN_ONLINE;
    if (s->reason != OF_REASON_FORCED || state == OF_CONN_ONLINE) {
        set_state(s, state, reason);
        if (error)
            snprintf(s->last_error, sizeof(s->last_error), "%s", error);
    }
    pthread_mutex_unlock(&eng->shares_lock);
    if (was_online && state != OF_CONN_ONLINE)
        of_log_warn("share //%s/%s went offline (%s)", s->rec.server, s->rec.share,
                    of_offline_reason_name(reason));
    else if (!was_online && state == OF_CONN_ONLINE)
        of_log_info("share //%s/%s is back online", s->rec.server, s->rec.share);
    announce(eng, s, was_online);
}

void
engine_share_failed(struct of_engine *eng, struct share_rt *s, const struct of_error *err)
{
    pthread_mutex_lock(&eng->shares_lock);
    s->last_failure_ns = of_now_ns();
    pthread_mutex_unlock(&eng->shares_lock);
    engine_conn_schedule(eng, s, 0);
    engine_share_set(eng, s, OF_CONN_OFFLINE, OF_REASON_CONNECTION_ERROR, err ? err->detail : "");
}

void
engine_share_state(const struct share_rt *s, enum of_conn_state *ret_state,
                   enum of_offline_reason *ret_reason)
{
    *ret_state = s->state;
    *ret_reason = s->state == OF_CONN_OFFLINE ? s->reason : OF_REASON_NONE;
    if (s->state == OF_CONN_ONLINE && engine_share_slow(s))
        *ret_state = OF_CONN_TRANSPARENT; /* online; what is read is cached transparently */
}

void
engine_share_conn(struct of_engine *eng, struct share_rt *s, struct of_conn_info *ret)
{
    pthread_mutex_lock(&eng->shares_lock);
    memset(ret, 0, sizeof(*ret));
    engine_share_state(s, &ret->state, &ret->reason);
    ret->slow = s->state == OF_CONN_OFFLINE ? s->reason == OF_REASON_SLOW : engine_share_slow(s);
    ret->latency_ms = s->latency_ms > 0 ? s->latency_ms : -1;
    ret->last_change_ns = s->last_change_ns;
    ret->next_probe_ns =
        s->state == OF_CONN_ONLINE || s->reason == OF_REASON_FORCED ? 0 : s->next_probe_ns;
    snprintf(ret->last_error, sizeof(ret->last_error), "%s", s->last_error);
    pthread_mutex_unlock(&eng->shares_lock);
}

static void
hide_secret(struct of_share_view *v)
{
    v->has_secret = v->rec.secret[0] != '\0';
    memset(v->rec.secret, 0, sizeof(v->rec.secret));
}

static void
view_of(struct of_engine *eng, struct share_rt *s, struct of_share_view *v)
{
    pthread_mutex_lock(&eng->shares_lock);
    v->rec = s->rec;
    pthread_mutex_unlock(&eng->shares_lock);
    hide_secret(v);
    engine_share_conn(eng, s, &v->conn);
}

/* The server and share items of a new share, in the caller's transaction. */
static int
add_items(struct of_engine *eng, struct share_rt *s, struct of_error *reterr)
{
    char path[OF_PATH_MAX + 1];
    struct of_item *it = calloc(1, sizeof(*it));
    if (!it)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    snprintf(path, sizeof(path), "//%s", s->rec.server);
    int rc = of_store_item_get(eng->store, path, it, NULL);
    if (rc == OF_E(NOT_FOUND)) {
        engine_item_init(it, path, OF_ITEM_SERVER, 0, 0);
        it->local.exists = it->remote.exists = it->original.exists = 1;
        it->local.attrs = it->remote.attrs = it->original.attrs = OF_ATTR_DIRECTORY;
        rc = of_store_item_put(eng->store, it, reterr);
    }
    if (rc < 0)
        goto out_free;
    int64_t server_id = it->id;
    snprintf(path, sizeof(path), "//%s/%s", s->rec.server, s->rec.share);
    engine_item_init(it, path, OF_ITEM_SHARE, server_id, s->rec.id);
    it->local.exists = it->original.exists = 1;
    it->local.attrs = it->original.attrs = OF_ATTR_DIRECTORY;
    struct of_stat st;
    if (s->be && s->state == OF_CONN_ONLINE && s->be->ops->stat(s->be, "", &st, NULL) == 0) {
        engine_copy_from_stat(&it->remote, &st);
        it->original = it->remote;
        it->local.mtime_ns = st.mtime_ns;
    }
    it->last_access_ns = of_now_ns();
    rc = of_store_item_put(eng->store, it, reterr);
out_free:
    free(it);
    return rc;
}

int
of_engine_share_add(struct of_engine *eng, const struct of_share_rec *rec,
                    struct of_share_view *ret_view, struct of_error *reterr)
{
    struct of_share_rec r = *rec;
    r.id = 0;
    r.forced_offline = 0;
    r.created_ns = of_now_ns();
    if (of_path_segment_check(r.server, strlen(r.server)) < 0 ||
        of_path_segment_check(r.share, strlen(r.share)) < 0)
        return of_error_set(reterr, OF_E(BAD_FIELD), "server and share must be valid names");
    int rc = check_options(&r, reterr);
    if (rc < 0)
        return rc;
    rc = of_store_begin(eng->store, reterr);
    if (rc < 0)
        return rc;
    struct share_rt *s = NULL;
    rc = of_store_share_put(eng->store, &r, reterr);
    if (rc == 0) {
        s = share_new(&r);
        if (!s)
            rc = of_error_set(reterr, OF_E(NOMEM), "out of memory");
    }
    if (rc == 0)
        rc = add_items(eng, s, reterr);
    if (rc == 0)
        rc = of_store_commit(eng->store, reterr);
    else
        of_store_rollback(eng->store);
    if (rc < 0) {
        if (s)
            share_unref(s);
        return rc;
    }
    pthread_mutex_lock(&eng->shares_lock);
    rc = table_add(eng, s);
    pthread_mutex_unlock(&eng->shares_lock);
    if (rc < 0) {
        share_unref(s);
        return of_error_set(reterr, rc, "out of memory");
    }
    of_log_info("share //%s/%s added (%s)", r.server, r.share,
                of_caching_mode_name(r.caching_mode));
    if (s->state != OF_CONN_ONLINE && !r.forced_offline)
        engine_conn_schedule(eng, s, 0);
    if (ret_view)
        view_of(eng, s, ret_view);
    return 0;
}

int
of_engine_share_get(struct of_engine *eng, const char *server, const char *share,
                    struct of_share_view *ret_view, struct of_error *reterr)
{
    struct share_rt *s;
    int rc = engine_share_acquire(eng, server, share, &s, reterr);
    if (rc < 0)
        return rc;
    view_of(eng, s, ret_view);
    engine_share_release(eng, s);
    return 0;
}

static int
cmp_view(const void *a, const void *b)
{
    const struct of_share_view *x = a, *y = b;
    int c = strcmp(x->rec.server, y->rec.server);
    return c ? c : strcmp(x->rec.share, y->rec.share);
}

int
of_engine_share_list(struct of_engine *eng, const char *server, struct of_share_view **ret_views,
                     size_t *ret_count, struct of_error *reterr)
{
    pthread_mutex_lock(&eng->shares_lock);
    struct of_share_view *v = calloc(eng->n_shares + 1, sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; v && i < eng->n_shares; i++) {
        struct share_rt *s = eng->shares[i];
        if (server && strcmp(server, s->rec.server) != 0)
            continue;
        v[n].rec = s->rec;
        hide_secret(&v[n]);
        n++;
    }
    pthread_mutex_unlock(&eng->shares_lock);
    if (!v)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    if (n)
        qsort(v, n, sizeof(*v), cmp_view);
    for (size_t i = 0; i < n; i++) {
        struct share_rt *s;
        if (engine_share_acquire(eng, v[i].rec.server, v[i].rec.share, &s, NULL) == 0) {
            engine_share_conn(eng, s, &v[i].conn);
            engine_share_release(eng, s);
        }
    }
    *ret_views = v;
    *ret_count = n;
    return 0;
}

int
of_engine_share_update(struct of_engine *eng, const char *server, const char *share,
                       const struct of_share_patch *patch, struct of_share_view *ret_view,
                       struct of_error *reterr)
{
    struct share_rt *s;
    int rc = engine_share_acquire(eng, server, share, &s, reterr);
    if (rc < 0)
        return rc;
    struct of_share_rec r = s->rec;
    if (patch->has_caching_mode)
        r.caching_mode = patch->caching_mode;
    if (patch->has_remote)
        snprintf(r.remote, sizeof(r.remote), "%s", patch->remote);
    if (patch->has_auth) {
        r.auth_type = patch->auth_type;
        snprintf(r.username, sizeof(r.username), "%s", patch->username);
        snprintf(r.secret, sizeof(r.secret), "%s", patch->secret);
    }
    if (patch->has_ca_file)
        snprintf(r.ca_file, sizeof(r.ca_file), "%s", patch->ca_file);
    if (patch->has_insecure)
        r.insecure = patch->insecure;
    if (patch->has_transfers)
        r.transfers = patch->transfers;
    if (patch->has_offline_on_slow)
        r.offline_on_slow = patch->offline_on_slow;
    if (patch->has_slow_ms)
        r.slow_ms = patch->slow_ms;
    /* A new way to reach the remote needs a new backend; the rest applies in place. */
    int reopen = patch->has_remote || patch->has_auth || patch->has_ca_file ||
                 patch->has_insecure || patch->has_transfers;
    struct share_rt *fresh = NULL;
    rc = check_options(&r, reterr);
    if (rc == 0)
        rc = of_store_share_put(eng->store, &r, reterr);
    if (rc == 0 && reopen && !(fresh = share_new(&r)))
        rc = of_error_set(reterr, OF_E(NOMEM), "out of memory");
    if (rc == 0) {
        pthread_mutex_lock(&eng->shares_lock);
        if (fresh) {
            /* Swap in a new runtime entry; requests in flight finish on the old one. */
            for (size_t i = 0; i < eng->n_shares; i++)
                if (eng->shares[i] == s)
                    eng->shares[i] = fresh;
            s->removed = 1;
            share_unref(s);
        } else {
            s->rec = r;
        }
        pthread_mutex_unlock(&eng->shares_lock);
        if (fresh && fresh->state != OF_CONN_ONLINE)
            engine_conn_schedule(eng, fresh, 0);
    }
    engine_share_release(eng, s);
    if (rc == 0 && ret_view)
        rc = of_engine_share_get(eng, server, share, ret_view, reterr);
    return rc;
}

/* What a share removal must know of its items: any dirty, and the content to unlink. */
struct removal {
    int dirty;
    char (*content)[OF_CONTENT_NAME_MAX];
    size_t n, cap;
};

static int
survey(void *ctx, const struct of_item *it)
{
    struct removal *r = ctx;
    r->dirty |= of_item_dirty(it);
    if (!it->content[0])
        return 0;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        void *grown = realloc(r->content, cap * sizeof(*r->content));
        if (!grown)
            return OF_E(NOMEM);
        r->content = grown;
        r->cap = cap;
    }
    memcpy(r->content[r->n++], it->content, OF_CONTENT_NAME_MAX);
    return 0;
}

int
of_engine_share_remove(struct of_engine *eng, const char *server, const char *share, int force,
                       struct of_error *reterr)
{
    struct share_rt *s;
    int rc = engine_share_acquire(eng, server, share, &s, reterr);
    if (rc < 0)
        return rc;
    char path[OF_PATH_MAX + 1];
    snprintf(path, sizeof(path), "//%s/%s", server, share);
    struct removal rm = {0};
    rc = of_store_item_scan(eng->store, path, 0, "", SIZE_MAX, survey, &rm, NULL, reterr);
    /* A removal must not drop an offline change unless forced. */
    if (rc == 0 && rm.dirty && !force)
        rc = of_error_set(reterr, OF_E(CONFLICT),
                          "//%s/%s has offline changes not yet synced; sync first or remove "
                          "with force=true",
                          server, share);
    if (rc == 0)
        rc = of_store_begin(eng->store, reterr);
    if (rc == 0) {
        struct of_item it;
        /* Items cascade from the share row; the server item goes with its last share. */
        rc = of_store_share_delete(eng->store, s->rec.id, reterr);
        snprintf(path, sizeof(path), "//%s", server);
        if (rc == 0 && of_store_item_get(eng->store, path, &it, NULL) == 0) {
            int64_t children = 0;
            rc = of_store_item_child_count(eng->store, it.id, &children, reterr);
            if (rc == 0 && children == 0)
                rc = of_store_item_delete(eng->store, it.id, reterr);
        }
        if (rc == 0)
            rc = of_store_commit(eng->store, reterr);
        else
            of_store_rollback(eng->store);
    }
    if (rc == 0) {
        pthread_mutex_lock(&eng->shares_lock);
        for (size_t i = 0; i < eng->n_shares; i++) {
            if (eng->shares[i] == s) {
                eng->shares[i] = eng->shares[--eng->n_shares];
                s->removed = 1;
                share_unref(s);
                break;
            }
        }
        pthread_mutex_unlock(&eng->shares_lock);
        /* The rows are gone; only now may their content go. */
        for (size_t i = 0; i < rm.n; i++)
            of_content_remove(eng->content, rm.content[i]);
        of_log_info("share //%s/%s removed", server, share);
    }
    free(rm.content);
    engine_share_release(eng, s);
    return rc;
}

int
of_engine_connection_get(struct of_engine *eng, const char *server, const char *share,
                         struct of_conn_info *ret_info, struct of_error *reterr)
{
    if (share) {
        struct share_rt *s;
        int rc = engine_share_acquire(eng, server, share, &s, reterr);
        if (rc < 0)
            return rc;
        engine_share_online(eng, s);
        engine_share_conn(eng, s, ret_info);
        engine_share_release(eng, s);
        return 0;
    }
    struct of_share_view *v;
    size_t n;
    int rc = of_engine_share_list(eng, server, &v, &n, reterr);
    if (rc < 0)
        return rc;
    if (n == 0) {
        free(v);
        return of_error_set(reterr, OF_E(NO_SHARE), "no share of server //%s is configured",
                            server);
    }
    /*
     * A server is online while any of its shares is; transparently cached
     * when all of those are, partly when some are. Offline, it shows its
     * first share's reason.
     */
    size_t up = 0, transparent = 0;
    *ret_info = v[0].conn;
    for (size_t i = 0; i < n; i++) {
        if (v[i].conn.state == OF_CONN_OFFLINE)
            continue;
        if (up++ == 0)
            *ret_info = v[i].conn;
        transparent += v[i].conn.state == OF_CONN_TRANSPARENT;
    }
    if (up)
        ret_info->state = transparent == up ? OF_CONN_TRANSPARENT
                          : transparent     ? OF_CONN_PARTLY_TRANSPARENT
                                            : OF_CONN_ONLINE;
    free(v);
    return 0;
}

static int
set_one(struct of_engine *eng, struct share_rt *s, int online, struct of_error *reterr)
{
    int rc = 0;
    struct of_error err = {0};
    if (online && (!s->be || s->be->ops->probe(s->be, &err) < 0)) {
        rc = of_error_set(reterr, OF_E(UNAVAILABLE), "//%s/%s cannot be reached: %s", s->rec.server,
                          s->rec.share, s->be ? err.detail : s->last_error);
        online = -1; /* still clear the forced flag below: the user asked for online */
    }
    struct of_share_rec r;
    pthread_mutex_lock(&eng->shares_lock);
    int was_online = s->state == OF_CONN_ONLINE;
    s->rec.forced_offline = online == 0;
    if (online == 1)
        set_state(s, OF_CONN_ONLINE, OF_REASON_NONE);
    else if (online == 0)
        set_state(s, OF_CONN_OFFLINE, OF_REASON_FORCED);
    else
        set_state(s, OF_CONN_OFFLINE, OF_REASON_CONNECTION_ERROR);
    if (online == -1 && s->be)
        snprintf(s->last_error, sizeof(s->last_error), "%s", err.detail);
    r = s->rec;
    pthread_mutex_unlock(&eng->shares_lock);
    int prc = of_store_share_put(eng->store, &r, rc < 0 ? NULL : reterr);
    /* Not reachable now: the prober tries again, starting soon. */
    if (online == -1)
        engine_conn_schedule(eng, s, 0);
    announce(eng, s, was_online);
    return rc < 0 ? rc : prc;
}

int
of_engine_connection_set(struct of_engine *eng, const char *server, const char *share, int online,
                         struct of_error *reterr)
{
    struct of_share_view *v;
    size_t n;
    int rc = of_engine_share_list(eng, server, &v, &n, reterr);
    if (rc < 0)
        return rc;
    int matched = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (share && strcmp(share, v[i].rec.share) != 0)
            continue;
        struct share_rt *s;
        matched++;
        rc = engine_share_acquire(eng, server, v[i].rec.share, &s, reterr);
        if (rc == 0) {
            rc = set_one(eng, s, online, reterr);
            engine_share_release(eng, s);
        }
    }
    free(v);
    if (rc == 0 && !matched && share)
        rc = of_error_set(reterr, OF_E(NO_SHARE), "no share //%s/%s is configured", server, share);
    else if (rc == 0 && !matched)
        rc = of_error_set(reterr, OF_E(NO_SHARE), "no share of server //%s is configured", server);
    return rc;
}
