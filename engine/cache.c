/* SPDX-License-Identifier: MIT */
/*
 * Cache-wide state (IOfflineFilesCache): location, enabled, and the disk
 * space limits with current usage. Limits live in the store's meta table;
 * defaults follow Offline Files: 25% of the volume, unpinned = total.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "engine_int.h"
#include "util.h"

static int64_t
meta_i64(struct of_engine *eng, const char *key, int64_t dflt)
{
    char buf[32];
    int64_t v;
    if (of_store_meta_get(eng->store, key, buf, sizeof(buf), NULL) == 0 &&
        of_parse_i64(buf, &v) == 0)
        return v;
    return dflt;
}

static int
meta_set_i64(struct of_engine *eng, const char *key, int64_t v, struct of_error *reterr)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return of_store_meta_set(eng->store, key, buf, reterr);
}

int
of_engine_cache_get(struct of_engine *eng, struct of_cache_info *ret_info, struct of_error *reterr)
{
    struct of_cache_info ci = {0};
    struct statvfs vfs;
    snprintf(ci.location, sizeof(ci.location), "%s", of_content_dir(eng->content));
    if (statvfs(ci.location, &vfs) == 0)
        ci.volume_total = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
    ci.enabled = (int)meta_i64(eng, "cache.enabled", 1);
    ci.limit = meta_i64(eng, "cache.limit", ci.volume_total / 4);
    ci.unpinned_limit = meta_i64(eng, "cache.unpinnedLimit", ci.limit);
    int rc = of_store_cache_usage(eng->store, &ci.used, &ci.unpinned_used, reterr);
    if (rc == 0)
        *ret_info = ci;
    return rc;
}

int
of_engine_cache_set(struct of_engine *eng, const struct of_cache_patch *patch,
                    struct of_cache_info *ret_info, struct of_error *reterr)
{
    struct of_cache_info ci;
    int rc = of_engine_cache_get(eng, &ci, reterr);
    if (rc < 0)
        return rc;
    int64_t limit = patch->has_limit ? patch->limit : ci.limit;
    int64_t unpinned = patch->has_unpinned_limit ? patch->unpinned_limit : ci.unpinned_limit;
    if (limit < 0 || unpinned < 0)
        return of_error_set(reterr, OF_E(BAD_FIELD), "limits are byte counts, at least 0");
    /* As SetDiskSpaceLimits does: the unpinned limit never exceeds the total. */
    if (unpinned > limit)
        unpinned = limit;
    rc = of_store_begin(eng->store, reterr);
    if (rc < 0)
        return rc;
    if (patch->has_enabled)
        rc = meta_set_i64(eng, "cache.enabled", patch->enabled ? 1 : 0, reterr);
    if (rc == 0 && (patch->has_limit || patch->has_unpinned_limit))
        rc = meta_set_i64(eng, "cache.limit", limit, reterr);
    if (rc == 0 && (patch->has_limit || patch->has_unpinned_limit))
        rc = meta_set_i64(eng, "cache.unpinnedLimit", unpinned, reterr);
    if (rc == 0)
        rc = of_store_commit(eng->store, reterr);
    else
        of_store_rollback(eng->store);
    engine_cache_limits_changed(eng);
    /* Lowered limits apply now: evict what no longer fits (pinned and dirty data stay). */
    if (rc == 0)
        engine_cache_make_room(eng, 0, 1, NULL);
    if (rc == 0)
        engine_cache_make_room(eng, 0, 0, NULL);
    return rc == 0 ? of_engine_cache_get(eng, ret_info, reterr) : rc;
}
