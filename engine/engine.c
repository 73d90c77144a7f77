/* SPDX-License-Identifier: MIT */
/* Opening and closing the engine: data dir, store, content store, shares. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"
#include "util.h"

struct live_names {
    char **names;
    size_t n, cap;
};

static void
collect_name(void *ctx, const char *name)
{
    struct live_names *ln = ctx;
    if (ln->n == ln->cap) {
        size_t cap = ln->cap ? ln->cap * 2 : 256;
        char **grown = realloc(ln->names, cap * sizeof(*grown));
        if (!grown)
            return;
        ln->names = grown;
        ln->cap = cap;
    }
    char *copy = strdup(name);
    if (copy)
        ln->names[ln->n++] = copy;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
is_live(void *ctx, const char *name)
{
    struct live_names *ln = ctx;
    return ln->n && bsearch(&name, ln->names, ln->n, sizeof(char *), cmp_str) != NULL;
}

/* Content files that no row names are leftovers of a crash between rename and commit. */
static void
collect_orphans(struct of_engine *eng)
{
    struct live_names ln = {0};
    if (of_store_content_names(eng->store, collect_name, &ln, NULL) == 0) {
        if (ln.n)
            qsort(ln.names, ln.n, sizeof(char *), cmp_str);
        int removed = of_content_collect(eng->content, is_live, &ln);
        if (removed > 0)
            of_log_info("content: removed %d orphaned file(s)", removed);
    }
    for (size_t i = 0; i < ln.n; i++)
        free(ln.names[i]);
    free(ln.names);
}

int
of_engine_open(const struct of_engine_config *cfg, struct of_engine **ret_eng,
               struct of_error *reterr)
{
    struct of_engine *eng = calloc(1, sizeof(*eng));
    if (!eng)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    pthread_mutex_init(&eng->shares_lock, NULL);
    pthread_rwlock_init(&eng->tokens_lock, NULL);
    pthread_mutex_init(&eng->room_lock, NULL);
    pthread_mutex_init(&eng->group.lock, NULL);
    pthread_cond_init(&eng->group.cv, NULL);
    pthread_mutex_init(&eng->usage.lock, NULL);
    eng->background_sync_ns =
        (cfg->background_sync_s > 0 ? cfg->background_sync_s : 300) * 1000000000LL;
    eng->mass_delete_count = cfg->mass_delete_count > 0 ? cfg->mass_delete_count : 1000;
    eng->mass_delete_percent = cfg->mass_delete_percent > 0 ? cfg->mass_delete_percent : 50;
    eng->events_keep_count = cfg->events_keep_count > 0 ? cfg->events_keep_count : 100000;
    eng->prober.first_ns = (cfg->probe_first_ms > 0 ? cfg->probe_first_ms : 1000) * 1000000LL;
    eng->prober.max_ns = (cfg->probe_max_s > 0 ? cfg->probe_max_s : 60) * 1000000000LL;
    eng->prober.online_every_ns =
        (cfg->probe_online_s > 0 ? cfg->probe_online_s : 30) * 1000000000LL;
    eng->events_keep_ns =
        (cfg->events_keep_s > 0 ? cfg->events_keep_s : 7LL * 24 * 3600) * 1000000000LL;
    int rc;
    if ((size_t)snprintf(eng->data_dir, sizeof(eng->data_dir), "%s", cfg->data_dir) >=
        sizeof(eng->data_dir) - 64) {
        rc = of_error_set(reterr, OF_E(TOO_LONG), "the data directory path is too long");
        goto out_free;
    }
    rc = of_mkdir_p(eng->data_dir, 0700);
    if (rc < 0) {
        rc = of_error_set(reterr, OF_E(IO), "cannot create the data directory: %s", strerror(-rc));
        goto out_free;
    }
    char path[2200];
    snprintf(path, sizeof(path), "%s/offlinefiles.db", eng->data_dir);
    rc = of_store_open(path, &eng->store, reterr);
    if (rc < 0)
        goto out_free;
    snprintf(path, sizeof(path), "%s/cache", eng->data_dir);
    rc = of_content_open(path, &eng->content, reterr);
    if (rc < 0)
        goto out_free;
    if (cfg->tool_only) {
        *ret_eng = eng;
        return 0;
    }
    collect_orphans(eng);
    rc = engine_events_start(eng, reterr);
    if (rc == 0)
        rc = engine_shares_load(eng, reterr);
    if (rc == 0)
        rc = engine_jobs_start(eng, reterr);
    if (rc == 0 && !cfg->no_background_sync)
        rc = engine_sync_start_background(eng, reterr);
    if (rc == 0)
        rc = engine_conn_start(eng, reterr);
    if (rc < 0)
        goto out_free;
    *ret_eng = eng;
    return 0;
out_free:
    of_engine_free(eng);
    return rc;
}

void
of_engine_free(struct of_engine *eng)
{
    if (!eng)
        return;
    engine_conn_stop(eng);
    engine_sync_stop_background(eng);
    engine_jobs_stop(eng);
    engine_shares_free(eng);
    engine_events_stop(eng);
    of_content_free(eng->content);
    of_store_free(eng->store);
    pthread_mutex_destroy(&eng->shares_lock);
    pthread_rwlock_destroy(&eng->tokens_lock);
    pthread_mutex_destroy(&eng->room_lock);
    pthread_mutex_destroy(&eng->group.lock);
    pthread_cond_destroy(&eng->group.cv);
    pthread_mutex_destroy(&eng->usage.lock);
    free(eng);
}

const char *
of_engine_data_dir(const struct of_engine *eng)
{
    return eng->data_dir;
}

void
engine_item_init(struct of_item *it, const char *path, enum of_item_type type, int64_t parent_id,
                 int64_t share_id)
{
    memset(it, 0, sizeof(*it));
    snprintf(it->path, sizeof(it->path), "%s", path);
    it->type = type;
    it->parent_id = parent_id;
    it->share_id = share_id;
}

void
engine_copy_from_stat(struct of_copy *c, const struct of_stat *st)
{
    c->exists = 1;
    c->size = st->size;
    c->mtime_ns = st->mtime_ns;
    c->attrs = st->attrs;
    snprintf(c->etag, sizeof(c->etag), "%s", st->etag);
}

const char *
of_item_type_name(enum of_item_type type)
{
    static const char *const names[] = {"file", "directory", "share", "server"};
    return (unsigned)type < 4 ? names[type] : "file";
}

int
of_item_type_parse(const char *name, enum of_item_type *ret_type)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, of_item_type_name((enum of_item_type)i)) == 0) {
            *ret_type = (enum of_item_type)i;
            return 0;
        }
    }
    return -1;
}
