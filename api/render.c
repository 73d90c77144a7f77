/* SPDX-License-Identifier: MIT */
/* Engine structs to JSON (new references), in the shapes openapi.yaml gives. */
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "util.h"

json_t *
api_render_time(int64_t ns)
{
    if (ns == 0)
        return json_null();
    char buf[40];
    of_time_format(ns, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *
render_attrs(uint32_t attrs)
{
    json_t *a = json_array();
    if (attrs & OF_ATTR_READONLY)
        json_array_append_new(a, json_string("readonly"));
    if (attrs & OF_ATTR_HIDDEN)
        json_array_append_new(a, json_string("hidden"));
    if (attrs & OF_ATTR_DIRECTORY)
        json_array_append_new(a, json_string("directory"));
    return a;
}

static json_t *
render_copy(const struct of_copy *c)
{
    return json_pack("{s:b, s:I, s:o, s:o}", "exists", c->exists, "size",
                     (json_int_t)(c->exists ? c->size : 0), "mtime",
                     api_render_time(c->exists ? c->mtime_ns : 0), "attributes",
                     render_attrs(c->exists ? c->attrs : 0));
}

json_t *
api_render_item(const struct of_item_view *v)
{
    const struct of_item *it = &v->item;
    char parent[OF_PATH_MAX + 1];
    json_t *jparent =
        of_path_parent(it->path, parent, sizeof(parent)) == 0 ? json_string(parent) : json_null();
    const struct of_pin_info *p = &v->pin;
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:o,"
        " s:{s:b, s:b, s:b, s:b, s:b, s:b},"
        " s:{s:I, s:I},"
        " s:{s:b, s:b, s:b, s:b, s:b, s:b, s:b},"
        " s:b, s:b, s:b, s:{s:b, s:b}, s:b, s:b, s:o, s:{s:s, s:o}}",
        "path", it->path, "type", of_item_type_name(it->type), "parent", jparent, "local",
        render_copy(&it->local), "remote", render_copy(&it->remote), "original",
        render_copy(&it->original), "change", "dirty", of_item_dirty(it), "createdOffline",
        it->created_offline, "deletedOffline", it->deleted_offline, "modifiedData", it->mod_data,
        "modifiedAttributes", it->mod_attrs, "modifiedTime", it->mod_time, "dirtyBytes", "local",
        (json_int_t)v->dirty_bytes_local, "remote", (json_int_t)0, "pin", "pinned", p->pinned,
        "forUser", p->for_user, "forUserInherit", p->for_user_inherit, "byPolicy", p->by_policy,
        "forComputer", p->for_computer, "forRedirection", p->for_redirection, "partly", p->partly,
        "ghosted", it->ghosted, "sparse", it->sparse, "encrypted", it->encrypted, "suspend",
        "suspended", it->suspended, "root", it->suspended_root, "transparentlyCached",
        it->transparent, "markedForDeletion", it->marked_delete, "lastAccess",
        api_render_time(it->last_access_ns), "connection", "state",
        of_conn_state_name(v->conn_state), "reason",
        v->conn_state == OF_CONN_OFFLINE ? json_string(of_offline_reason_name(v->conn_reason))
                                         : json_null());
}

json_t *
api_render_conn(const struct of_conn_info *ci)
{
    return json_pack(
        "{s:s, s:o, s:b, s:o, s:o, s:o, s:o}", "state", of_conn_state_name(ci->state), "reason",
        ci->state == OF_CONN_OFFLINE ? json_string(of_offline_reason_name(ci->reason))
                                     : json_null(),
        "slow", ci->slow, "latencyMs",
        ci->latency_ms >= 0 ? json_integer(ci->latency_ms) : json_null(), "lastError",
        ci->last_error[0] ? json_string(ci->last_error) : json_null(), "lastChange",
        api_render_time(ci->last_change_ns), "nextProbeAt", api_render_time(ci->next_probe_ns));
}

json_t *
api_render_share(const struct of_share_view *v)
{
    static const char *const auth_names[] = {"none", "basic", "digest", "bearer"};
    char path[2 * OF_SEGMENT_MAX + 4];
    snprintf(path, sizeof(path), "//%s/%s", v->rec.server, v->rec.share);
    /* The secret is never shown: only whether one is set. */
    json_t *auth =
        json_pack("{s:s, s:o, s:b}", "type",
                  auth_names[(unsigned)v->rec.auth_type < 4 ? v->rec.auth_type : 0], "username",
                  v->rec.username[0] ? json_string(v->rec.username) : json_null(), "secretSet",
                  v->has_secret);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:i, s:b, s:i, s:o}", "server",
                     v->rec.server, "share", v->rec.share, "path", path, "remote", v->rec.remote,
                     "cachingMode", of_caching_mode_name(v->rec.caching_mode), "createdAt",
                     api_render_time(v->rec.created_ns), "auth", auth, "caFile",
                     v->rec.ca_file[0] ? json_string(v->rec.ca_file) : json_null(), "insecure",
                     v->rec.insecure, "transfers", v->rec.transfers, "offlineOnSlowLink",
                     v->rec.offline_on_slow, "slowLinkMs", v->rec.slow_ms, "connection",
                     api_render_conn(&v->conn));
}

json_t *
api_render_cache(const struct of_cache_info *ci)
{
    return json_pack("{s:s, s:b, s:{s:I, s:I, s:I, s:I, s:I}}", "location", ci->location, "enabled",
                     ci->enabled, "space", "volumeTotal", (json_int_t)ci->volume_total, "limit",
                     (json_int_t)ci->limit, "used", (json_int_t)ci->used, "unpinnedLimit",
                     (json_int_t)ci->unpinned_limit, "unpinnedUsed", (json_int_t)ci->unpinned_used);
}

json_t *
api_render_job(const struct of_job_rec *r)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I}}", "id",
                          (json_int_t)r->id, "kind", r->kind, "state", r->state, "createdBy",
                          r->created_by, "createdAt", api_render_time(r->created_ns), "startedAt",
                          api_render_time(r->started_ns), "endedAt", api_render_time(r->ended_ns),
                          "progress", "itemsTotal", (json_int_t)r->items_total, "itemsDone",
                          (json_int_t)r->items_done, "bytesTotal", (json_int_t)r->bytes_total,
                          "bytesDone", (json_int_t)r->bytes_done);
    if (j && r->result < 0)
        json_object_set_new(
            j, "error",
            json_pack("{s:s, s:s}", "code", of_error_code_str(r->result), "message", r->message));
    return j;
}

static json_t *
render_copy4(const struct of_copy *c)
{
    return json_pack("{s:b, s:I, s:o, s:o}", "exists", c->exists, "size",
                     (json_int_t)(c->exists ? c->size : 0), "mtime",
                     api_render_time(c->exists ? c->mtime_ns : 0), "attributes",
                     render_attrs(c->exists ? c->attrs : 0));
}

static json_t *
render_item_change(unsigned f)
{
    json_t *a = json_array();
    if (f & OF_ITEM_CHANGE_CHANGETIME)
        json_array_append_new(a, json_string("changeTime"));
    if (f & OF_ITEM_CHANGE_WRITETIME)
        json_array_append_new(a, json_string("writeTime"));
    if (f & OF_ITEM_CHANGE_FILESIZE)
        json_array_append_new(a, json_string("fileSize"));
    if (f & OF_ITEM_CHANGE_ATTRIBUTES)
        json_array_append_new(a, json_string("attributes"));
    return a;
}

json_t *
api_render_job_item(const struct of_job_item *it)
{
    const char *result = it->result < 0 ? "failed" : it->conflict ? "conflict" : "ok";
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "path", it->path, "operation",
                          of_sync_op_name((enum of_sync_op)it->operation), "result", result, "code",
                          it->result < 0 ? of_error_code_str(it->result)
                          : it->conflict ? "conflict"
                                         : "ok",
                          "message", it->message, "syncState",
                          it->sync_state >= 0
                              ? json_string(of_sync_state_name((enum of_sync_state)it->sync_state))
                              : json_null());
    if (j && it->have_copies) {
        json_object_set_new(j, "local", render_copy4(&it->local));
        json_object_set_new(j, "remote", render_copy4(&it->remote));
        json_object_set_new(j, "original", render_copy4(&it->original));
        json_object_set_new(j, "itemChange", render_item_change(it->change_flags));
    }
    return j;
}

static json_t *
render_change_details(unsigned f)
{
    static const struct {
        unsigned bit;
        const char *name;
    } bits[] = {{OF_CHANGES_LOCAL_SIZE, "localSize"},
                {OF_CHANGES_LOCAL_ATTRIBUTES, "localAttributes"},
                {OF_CHANGES_LOCAL_TIME, "localTime"},
                {OF_CHANGES_REMOTE_SIZE, "remoteSize"},
                {OF_CHANGES_REMOTE_ATTRIBUTES, "remoteAttributes"},
                {OF_CHANGES_REMOTE_TIME, "remoteTime"}};
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
        if (f & bits[i].bit)
            json_array_append_new(a, json_string(bits[i].name));
    return a;
}

json_t *
api_render_conflict(const struct of_conflict_rec *r)
{
    int mass = strcmp(r->kind, "massDelete") == 0;
    json_t *j = json_pack(
        "{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)r->id, "path",
        r->path, "kind", r->kind, "syncState",
        mass ? "massDelete" : of_sync_state_name((enum of_sync_state)r->sync_state), "local",
        render_copy4(&r->local), "remote", render_copy4(&r->remote), "original",
        render_copy4(&r->original), "changeDetails", render_change_details(r->change_details),
        "detectedAt", api_render_time(r->detected_ns), "updatedAt", api_render_time(r->updated_ns));
    if (j && mass)
        json_object_set_new(j, "deletions", json_integer(r->count));
    return j;
}
