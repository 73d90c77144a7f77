/* SPDX-License-Identifier: MIT */
/*
 * Reconcile: three-way classification of one item (LOCAL, REMOTE, ORIGINAL)
 * into an Offline Files sync state and the operation that follows, conflict
 * settlement by policy, and conflict names for keep-all. Pure functions, no
 * state; see reconcile.h for the contract.
 *
 * How a state is found: first the client side is put in one situation
 * (absent, tombstone, created, orphan, changed, sparse, clean), then the
 * server side (no copy, deleted, new, same, changed) and one small decision
 * function per client situation names the state from the two plus the kinds.
 * The guiding rule is "never lose data": when in doubt the answer keeps both
 * copies (a conflict) or creates, never deletes.
 *
 * Choices the reference leaves open, made here:
 *  - A directory never counts as changed on the server by etag, mtime or
 *    attributes: its etag and mtime move with its children (which reconcile
 *    on their own) and backends do not report directory attributes the same
 *    way they were recorded. Only a kind change (file <-> dir) changes it. On
 *    the client a directory is changed only when local_modified says so.
 *    Hence DirChangedOnServer (47) and DirChangedOnClient_ChangedOnServer (28)
 *    never arise.
 *  - A kind change on the server is always "changed": where both an "XOnServer"
 *    and an "XChangedOnServer" state exist, the latter is named. Hence
 *    FileReplacedAndDeletedOnClient_DirOnServer (52) never arises;
 *    FileChangedOnClient_DirOnServer (13) and DirChangedOnClient_FileOnServer
 *    (26) name a modified orphan (no ORIGINAL) against the other kind.
 *  - A local item of another kind than ORIGINAL was replaced offline: it is
 *    "created", not "changed".
 *  - Both sides deleted, or no local copy and the server's gone: Stable with
 *    UPDATE_ORIGINAL, meaning "forget the item": the executor drops the
 *    tombstone or the record.
 *  - Created on the client where the server deleted the old item (11, 25):
 *    both sides dropped the old item and only the client's new one holds
 *    data, so CREATE_SERVER_COPY loses nothing and is not a conflict.
 *  - A directory created on both sides (21, 24) merges: UPDATE_ORIGINAL, the
 *    children reconcile on their own.
 *  - A sparse file (or ghost) holds no user data. Against a directory on the
 *    server (18, 19) the op is CREATE_CLIENT_COPY and the executor replaces
 *    the client item; with no server copy at all it is dropped (17).
 *  - FileOnClient_NoServerCopy (2), DirOnClient_NoServerCopy (5): the local
 *    copy exists with no ORIGINAL, so its data is not known to be on the
 *    server: CREATE_SERVER_COPY, even if that may bring back a server-side
 *    deletion.
 *  - Resolving a kind clash for the side whose kind differs is
 *    CREATE_*_COPY: the executor replaces the losing item.
 */
#include "reconcile.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Where the client copy stands relative to ORIGINAL. */
enum client_side {
    C_ABSENT,  /* no local copy and no tombstone (never cached, or evicted) */
    C_DELETED, /* tombstone of an item that existed at the last sync */
    C_CREATED, /* created offline, or replaced by the other kind */
    C_ORPHAN,  /* exists with no ORIGINAL, not marked created */
    C_CHANGED, /* differs from ORIGINAL */
    C_SPARSE,  /* incomplete content, no local change */
    C_CLEAN,   /* as ORIGINAL */
};

/* Where the server copy stands relative to ORIGINAL. */
enum server_side {
    S_NONE,    /* no copy, and none at the last sync */
    S_DELETED, /* existed at the last sync, gone now */
    S_NEW,     /* exists, nothing recorded at the last sync */
    S_SAME,    /* as ORIGINAL */
    S_CHANGED, /* differs from ORIGINAL, kind change included */
};

static int
known(const char *hash)
{
    return hash[0] != '\0';
}

/* Both hashes known and equal: the same bytes. */
static int
same_bytes(const struct of_side *a, const struct of_side *b)
{
    return known(a->hash) && known(b->hash) && strncmp(a->hash, b->hash, OF_HASH_HEX) == 0;
}

/* Both hashes known and different: other bytes. */
static int
other_bytes(const struct of_side *a, const struct of_side *b)
{
    return known(a->hash) && known(b->hash) && strncmp(a->hash, b->hash, OF_HASH_HEX) != 0;
}

static int
file_changed_locally(const struct of_reconcile_input *in)
{
    return in->local_modified || other_bytes(&in->local, &in->original);
}

static int
file_changed_on_server(const struct of_side *r, const struct of_side *o)
{
    if (r->size != o->size || r->attrs != o->attrs)
        return 1;
    /* Content decides: a touched file (new etag, same bytes) is unchanged. */
    if (known(r->hash) && known(o->hash))
        return other_bytes(r, o);
    if (r->etag[0] != '\0' && o->etag[0] != '\0')
        return strncmp(r->etag, o->etag, OF_ETAG_MAX) != 0;
    /* No version tag to compare: the mtime is better than missing a change. */
    return r->mtime_ns != o->mtime_ns;
}

static enum client_side
client_side(const struct of_reconcile_input *in)
{
    const struct of_side *l = &in->local, *o = &in->original;
    int deleted = in->local_deleted || (in->local_replaced && !l->exists);
    if (deleted)
        return o->exists ? C_DELETED : C_ABSENT; /* created then deleted offline: nothing */
    if (!l->exists)
        return C_ABSENT;
    if (in->local_created || (o->exists && l->is_dir != o->is_dir))
        return C_CREATED;
    if (o->exists && (l->is_dir ? in->local_modified : file_changed_locally(in)))
        return C_CHANGED;
    /* A sparse file without ORIGINAL is still only a ghost: never an orphan to push. */
    if (in->local_sparse && !in->local_modified && (!l->is_dir || o->exists))
        return C_SPARSE;
    return o->exists ? C_CLEAN : C_ORPHAN;
}

static enum server_side
server_side(const struct of_reconcile_input *in)
{
    const struct of_side *r = &in->remote, *o = &in->original;
    if (!r->exists)
        return o->exists ? S_DELETED : S_NONE;
    if (!o->exists)
        return S_NEW;
    if (r->is_dir != o->is_dir)
        return S_CHANGED;
    if (r->is_dir)
        return S_SAME; /* etag and mtime follow the children: see the file comment */
    return file_changed_on_server(r, o) ? S_CHANGED : S_SAME;
}

/* A state and the operation that follows it. */
struct verdict {
    enum of_sync_state state;
    enum of_sync_op op;
};

static struct verdict
verdict(enum of_sync_state state, enum of_sync_op op)
{
    struct verdict v = {state, op};
    return v;
}

/* Both sides hold a file: no conflict only when their bytes are known to agree. */
static struct verdict
same_or_conflict(const struct of_reconcile_input *in, enum of_sync_state state)
{
    if (same_bytes(&in->local, &in->remote))
        return verdict(OF_SYNC_Stable, OF_SYNC_OP_UPDATE_ORIGINAL);
    return verdict(state, OF_SYNC_OP_CONFLICT);
}

/* No local item and no tombstone: whatever the server has comes down. */
static struct verdict
decide_absent(const struct of_reconcile_input *in, enum server_side s)
{
    int rdir = in->remote.is_dir;
    switch (s) {
    case S_NONE:
        return verdict(OF_SYNC_Stable, OF_SYNC_OP_NONE);
    case S_DELETED: /* gone everywhere: forget the record */
        return verdict(OF_SYNC_Stable, OF_SYNC_OP_UPDATE_ORIGINAL);
    case S_NEW:
    case S_SAME:
        return verdict(rdir ? OF_SYNC_NoClientCopy_DirOnServer : OF_SYNC_NoClientCopy_FileOnServer,
                       OF_SYNC_OP_CREATE_CLIENT_COPY);
    case S_CHANGED:
        return verdict(rdir ? OF_SYNC_NoClientCopy_DirChangedOnServer
                            : OF_SYNC_NoClientCopy_FileChangedOnServer,
                       OF_SYNC_OP_CREATE_CLIENT_COPY);
    }
    return verdict(OF_SYNC_Stable, OF_SYNC_OP_NONE);
}

/* A tombstone: the deletion goes out unless the server changed what was deleted. */
static struct verdict
decide_deleted(const struct of_reconcile_input *in, enum server_side s)
{
    int replaced = in->local_replaced && !in->original.is_dir;
    int rdir = in->remote.is_dir;
    switch (s) {
    case S_NONE:
    case S_DELETED: /* both gone: the executor drops the tombstone */
        return verdict(OF_SYNC_Stable, OF_SYNC_OP_UPDATE_ORIGINAL);
    case S_NEW: /* not with an ORIGINAL */
    case S_SAME:
        if (replaced)
            return verdict(OF_SYNC_FileReplacedAndDeletedOnClient_FileOnServer,
                           OF_SYNC_OP_DELETE_SERVER_COPY);
        return verdict(rdir ? OF_SYNC_DeletedOnClient_DirOnServer
                            : OF_SYNC_DeletedOnClient_FileOnServer,
                       OF_SYNC_OP_DELETE_SERVER_COPY);
    case S_CHANGED:
        if (replaced)
            return verdict(rdir ? OF_SYNC_FileReplacedAndDeletedOnClient_DirChangedOnServer
                                : OF_SYNC_FileReplacedAndDeletedOnClient_FileChangedOnServer,
                           OF_SYNC_OP_CONFLICT);
        return verdict(rdir ? OF_SYNC_DeletedOnClient_DirChangedOnServer
                            : OF_SYNC_DeletedOnClient_FileChangedOnServer,
                       OF_SYNC_OP_CONFLICT);
    }
    return verdict(OF_SYNC_Stable, OF_SYNC_OP_NONE);
}

/*
 * A file created offline (or replacing a directory). Where the server
 * dropped the old item (11) only the new one holds data: push it.
 */
static struct verdict
decide_created_file(const struct of_reconcile_input *in, enum server_side s)
{
    int rdir = in->remote.is_dir;
    switch (s) {
    case S_NONE:
        return verdict(OF_SYNC_FileCreatedOnClient_NoServerCopy, OF_SYNC_OP_CREATE_SERVER_COPY);
    case S_DELETED:
        return verdict(OF_SYNC_FileCreatedOnClient_DeletedOnServer, OF_SYNC_OP_CREATE_SERVER_COPY);
    case S_NEW:
    case S_SAME:
        if (rdir)
            return verdict(OF_SYNC_FileCreatedOnClient_DirOnServer, OF_SYNC_OP_CONFLICT);
        return same_or_conflict(in, OF_SYNC_FileCreatedOnClient_FileOnServer);
    case S_CHANGED:
        if (rdir)
            return verdict(OF_SYNC_FileCreatedOnClient_DirChangedOnServer, OF_SYNC_OP_CONFLICT);
        return same_or_conflict(in, OF_SYNC_FileCreatedOnClient_FileChangedOnServer);
    }
    return verdict(OF_SYNC_Stable, OF_SYNC_OP_NONE);
}

/* A directory created offline: two directories merge, their children reconcile alone. */
static struct verdict
decide_created_dir(const struct of_reconcile_input *in, enum server_side s)
{
    int rdir = in->remote.is_dir;
    switch (s) {
    case S_NONE:
        return verdict(OF_SYNC_DirCreatedOnClient_NoServerCopy, OF_SYNC_OP_CREATE_SERVER_COPY);
    case S_DELETED:
        return verdict(OF_SYNC_DirCreatedOnClient_DeletedOnServer, OF_SYNC_OP_CREATE_SERVER_COPY);
    case S_NEW:
    case S_SAME:
        return rdir ? verdict(OF_SYNC_DirCreatedOnClient_DirOnServer, OF_SYNC_OP_UPDATE_ORIGINAL)
                    : verdict(OF_SYNC_DirCreatedOnClient_FileOnServer, OF_SYNC_OP_CONFLICT);
    case S_CHANGED:
        return rdir ? verdict(OF_SYNC_DirCreatedOnClient_DirChangedOnServer,
                              OF_SYNC_OP_UPDATE_ORIGINAL)
                    : verdict(OF_SYNC_DirCreatedOnClient_FileChangedOnServer, OF_SYNC_OP_CONFLICT);
    }
    return verdict(OF_SYNC_Stable, OF_SYNC_OP_NONE);
}

static struct verdict
decide_created(const struct of_reconcile_input *in, enum server_side s)
{
    return in->local.is_dir ? decide_created_dir(in, s) : decide_created_file(in, s);
}

/*
 * A local item with no ORIGINAL that was not created offline: the server can
 * only have nothing (2, 5: its data is not known to be there, so push it) or
 * an item with no common base (compared as if both were created).
 */
static struct verdict
decide_orphan(const struct of_reconcile_input *in, enum server_side s)
{
    int ldir = in->local.is_dir, rdir = in->remote.is_dir, mod = in->local_modified;
    if (s != S_NEW)
        return verdict(ldir ? OF_SYNC_DirOnClient_NoServerCopy : OF_SYNC_FileOnClient_NoServerCopy,
                       OF_SYNC_OP_CREATE_SERVER_COPY);
    if (ldir == rdir)
        return decide_created(in, s);
    if (ldir)
        return verdict(mod ? OF_SYNC_DirChangedOnClient_FileOnServer
                           : OF_SYNC_DirOnClient_FileOnServer,
                       OF_SYNC_OP_CONFLICT);
    return verdict(mod ? OF_SYNC_FileChangedOnClient_DirOnServer : OF_SYNC_FileOnClient_DirOnServer,
                   OF_SYNC_OP_CONFLICT);
}

/* Changed on the client; ORIGINAL has the local kind. */
static struct verdict
decide_changed(const struct of_reconcile_input *in, enum server_side s)
{
    int ldir = in->local.is_dir, rdir = in->remote.is_dir;
    switch (s) {
    case S_NONE: /* not with an ORIGINAL */
    case S_DELETED:
        return verdict(ldir ? OF_SYNC_DirChangedOnClient_DeletedOnServer
                            : OF_SYNC_FileChangedOnClient_DeletedOnServer,
                       OF_SYNC_OP_CONFLICT);
    case S_NEW:
    case S_SAME:
        return verdict(ldir ? OF_SYNC_DirChangedOnClient : OF_SYNC_FileChangedOnClient,
                       OF_SYNC_OP_SYNC_TO_SERVER);
    case S_CHANGED: /* for a directory ORIGINAL this is a kind change, so never 28 */
        if (ldir)
            return verdict(OF_SYNC_DirChangedOnClient_FileChangedOnServer, OF_SYNC_OP_CONFLICT);
        if (rdir)
            return verdict(OF_SYNC_FileChangedOnClient_DirChangedOnServer, OF_SYNC_OP_CONFLICT);
        return same_or_conflict(in, OF_SYNC_FileChangedOnClient_ChangedOnServer);
    }
    return verdict(OF_SYNC_Stable, OF_SYNC_OP_NONE);
}

/* As at the last sync on the client: whatever the server did comes down, but a kind clash. */
static struct verdict
decide_clean(const struct of_reconcile_input *in, enum server_side s)
{
    int ldir = in->local.is_dir, rdir = in->remote.is_dir;
    switch (s) {
    case S_NONE: /* not with an ORIGINAL */
    case S_DELETED:
        return verdict(ldir ? OF_SYNC_DirDeletedOnServer : OF_SYNC_FileDeletedOnServer,
                       OF_SYNC_OP_DELETE_CLIENT_COPY);
    case S_NEW:
    case S_SAME:
        return verdict(OF_SYNC_Stable, OF_SYNC_OP_NONE);
    case S_CHANGED: /* for a directory this is a kind change, so never 47 */
        if (ldir)
            return verdict(OF_SYNC_DirOnClient_FileChangedOnServer, OF_SYNC_OP_CONFLICT);
        if (rdir)
            return verdict(OF_SYNC_FileOnClient_DirOnServer, OF_SYNC_OP_CONFLICT);
        return verdict(OF_SYNC_FileChangedOnServer, OF_SYNC_OP_SYNC_TO_CLIENT);
    }
    return verdict(OF_SYNC_Stable, OF_SYNC_OP_NONE);
}

/*
 * Incomplete content and no local change. A sparse file holds no user data,
 * so the server always wins, a directory there included (18, 19: the
 * executor replaces the ghost). A sparse directory is a clean one to fill.
 */
static struct verdict
decide_sparse(const struct of_reconcile_input *in, enum server_side s)
{
    int rdir = in->remote.is_dir;
    if (in->local.is_dir)
        return s == S_SAME ? verdict(OF_SYNC_DirSparseOnClient, OF_SYNC_OP_FILL)
                           : decide_clean(in, s);
    switch (s) {
    case S_NONE:
    case S_DELETED:
        return verdict(OF_SYNC_FileSparseOnClient_DeletedOnServer, OF_SYNC_OP_DELETE_CLIENT_COPY);
    case S_NEW: /* no base, so whether the server changed is unknown: fetch it whole */
    case S_CHANGED:
        if (rdir)
            return verdict(s == S_NEW ? OF_SYNC_FileSparseOnClient_DirOnServer
                                      : OF_SYNC_FileSparseOnClient_DirChangedOnServer,
                           OF_SYNC_OP_CREATE_CLIENT_COPY);
        return verdict(OF_SYNC_FileSparseOnClient_ChangedOnServer, OF_SYNC_OP_SYNC_TO_CLIENT);
    case S_SAME:
        return verdict(OF_SYNC_FileSparseOnClient, OF_SYNC_OP_FILL);
    }
    return verdict(OF_SYNC_Stable, OF_SYNC_OP_NONE);
}

static struct verdict
decide(const struct of_reconcile_input *in)
{
    enum server_side s = server_side(in);
    switch (client_side(in)) {
    case C_ABSENT:
        return decide_absent(in, s);
    case C_DELETED:
        return decide_deleted(in, s);
    case C_CREATED:
        return decide_created(in, s);
    case C_ORPHAN:
        return decide_orphan(in, s);
    case C_CHANGED:
        return decide_changed(in, s);
    case C_SPARSE:
        return decide_sparse(in, s);
    case C_CLEAN:
        return decide_clean(in, s);
    }
    return verdict(OF_SYNC_Stable, OF_SYNC_OP_NONE);
}

/* OF_CHANGES_* style bits for how a differs from b; 0 unless both exist. */
static unsigned
differences(const struct of_side *a, const struct of_side *b, unsigned size_bit, unsigned attrs_bit,
            unsigned time_bit)
{
    unsigned bits = 0;
    if (!a->exists || !b->exists)
        return 0;
    if (a->size != b->size)
        bits |= size_bit;
    if (a->attrs != b->attrs)
        bits |= attrs_bit;
    if (a->mtime_ns != b->mtime_ns)
        bits |= time_bit;
    return bits;
}

void
of_reconcile_classify(const struct of_reconcile_input *in, struct of_reconcile_result *ret_result)
{
    struct of_reconcile_result out;
    struct verdict v = verdict(OF_SYNC_Stable, OF_SYNC_OP_NONE);
    memset(&out, 0, sizeof(out));
    out.change_details = differences(&in->local, &in->original, OF_CHANGES_LOCAL_SIZE,
                                     OF_CHANGES_LOCAL_ATTRIBUTES, OF_CHANGES_LOCAL_TIME);
    /* A failed enumeration says nothing about the server, least of all a deletion. */
    if (in->remote_known) {
        out.change_details |= differences(&in->remote, &in->original, OF_CHANGES_REMOTE_SIZE,
                                          OF_CHANGES_REMOTE_ATTRIBUTES, OF_CHANGES_REMOTE_TIME);
        /* We track no change time, so OF_ITEM_CHANGE_CHANGETIME is never set. */
        out.item_change = differences(&in->local, &in->remote, OF_ITEM_CHANGE_FILESIZE,
                                      OF_ITEM_CHANGE_ATTRIBUTES, OF_ITEM_CHANGE_WRITETIME);
        v = decide(in);
    }
    out.state = v.state;
    out.op = v.op;
    out.conflict = v.op == OF_SYNC_OP_CONFLICT;
    *ret_result = out;
}

/* The client holds a live item (not a tombstone). */
static int
local_present(const struct of_reconcile_input *in)
{
    return in->local.exists && !in->local_deleted;
}

/*
 * The client's state wins. Replacing a server item of the other kind is
 * CREATE_SERVER_COPY; deleting a server directory could take others' data
 * under it, so that stays a conflict.
 */
static enum of_sync_op
keep_local(const struct of_reconcile_input *in)
{
    int lexists = local_present(in);
    const struct of_side *l = &in->local, *r = &in->remote;
    if (lexists) {
        if (!r->exists)
            return OF_SYNC_OP_CREATE_SERVER_COPY;
        if (l->is_dir == r->is_dir)
            return OF_SYNC_OP_SYNC_TO_SERVER;
        return r->is_dir ? OF_SYNC_OP_CONFLICT : OF_SYNC_OP_CREATE_SERVER_COPY;
    }
    if (!r->exists)
        return OF_SYNC_OP_NONE;
    return r->is_dir ? OF_SYNC_OP_CONFLICT : OF_SYNC_OP_DELETE_SERVER_COPY;
}

/* The server's state wins; the mirror image of keep_local. */
static enum of_sync_op
keep_remote(const struct of_reconcile_input *in)
{
    int lexists = local_present(in);
    const struct of_side *l = &in->local, *r = &in->remote;
    if (r->exists) {
        if (!lexists)
            return OF_SYNC_OP_CREATE_CLIENT_COPY;
        if (l->is_dir == r->is_dir)
            return OF_SYNC_OP_SYNC_TO_CLIENT;
        return l->is_dir ? OF_SYNC_OP_CONFLICT : OF_SYNC_OP_CREATE_CLIENT_COPY;
    }
    if (!lexists)
        return OF_SYNC_OP_NONE;
    return l->is_dir ? OF_SYNC_OP_CONFLICT : OF_SYNC_OP_DELETE_CLIENT_COPY;
}

enum of_sync_op
of_reconcile_resolve(const struct of_reconcile_input *in, const struct of_reconcile_result *res,
                     enum of_conflict_policy policy, int *ret_abort)
{
    if (!res->conflict)
        return res->op;
    switch (policy) {
    case OF_POLICY_KEEP_LOCAL:
        return keep_local(in);
    case OF_POLICY_KEEP_REMOTE:
        return keep_remote(in);
    case OF_POLICY_KEEP_LATEST:
        /*
         * With no server copy its deletion time is unknown; Offline Files
         * then restores the local item (the documented quirk of
         * FileChangedOnClient_DeletedOnServer). A tombstone's mtime_ns is its
         * deletion time.
         */
        if (!in->remote.exists)
            return keep_local(in);
        return in->local.mtime_ns > in->remote.mtime_ns ? keep_local(in) : keep_remote(in);
    case OF_POLICY_KEEP_ALL:
        if (local_present(in) && in->remote.exists && (!in->local.is_dir || !in->remote.is_dir))
            return OF_SYNC_OP_KEEP_ALL;
        return OF_SYNC_OP_CONFLICT;
    case OF_POLICY_SKIP:
        return OF_SYNC_OP_NONE;
    case OF_POLICY_ABORT:
        if (ret_abort)
            *ret_abort = 1;
        return OF_SYNC_OP_NONE;
    case OF_POLICY_ASK:
    case OF_POLICY_LOG:
    default:
        return OF_SYNC_OP_CONFLICT;
    }
}

const char *
of_sync_state_name(enum of_sync_state state)
{
    static const char *const names[OF_SYNC__COUNT] = {
#define OF_SYNC_STATE_NAME(name, value) [value] = #name,
        OF_SYNC_STATES(OF_SYNC_STATE_NAME)
#undef OF_SYNC_STATE_NAME
    };
    return (unsigned)state < OF_SYNC__COUNT ? names[state] : "";
}

const char *
of_sync_op_name(enum of_sync_op op)
{
    static const char *const names[OF_SYNC_OP__COUNT] = {
        [OF_SYNC_OP_NONE] = "none",
        [OF_SYNC_OP_CREATE_SERVER_COPY] = "createServerCopy",
        [OF_SYNC_OP_CREATE_CLIENT_COPY] = "createClientCopy",
        [OF_SYNC_OP_SYNC_TO_SERVER] = "syncToServer",
        [OF_SYNC_OP_SYNC_TO_CLIENT] = "syncToClient",
        [OF_SYNC_OP_DELETE_SERVER_COPY] = "deleteServerCopy",
        [OF_SYNC_OP_DELETE_CLIENT_COPY] = "deleteClientCopy",
        [OF_SYNC_OP_FILL] = "fill",
        [OF_SYNC_OP_UPDATE_ORIGINAL] = "updateOriginal",
        [OF_SYNC_OP_KEEP_ALL] = "keepAll",
        [OF_SYNC_OP_CONFLICT] = "conflict",
    };
    return (unsigned)op < OF_SYNC_OP__COUNT ? names[op] : "";
}

static const char *const policy_names[OF_POLICY__COUNT] = {
    [OF_POLICY_ASK] = "ask",
    [OF_POLICY_KEEP_LOCAL] = "keepLocal",
    [OF_POLICY_KEEP_REMOTE] = "keepRemote",
    [OF_POLICY_KEEP_LATEST] = "keepLatest",
    [OF_POLICY_KEEP_ALL] = "keepAll",
    [OF_POLICY_LOG] = "log",
    [OF_POLICY_SKIP] = "skip",
    [OF_POLICY_ABORT] = "abort",
};

const char *
of_conflict_policy_name(enum of_conflict_policy policy)
{
    return (unsigned)policy < OF_POLICY__COUNT ? policy_names[policy] : "";
}

int
of_conflict_policy_parse(const char *name, enum of_conflict_policy *ret_policy)
{
    if (!name)
        return -1;
    for (unsigned i = 0; i < OF_POLICY__COUNT; i++) {
        if (strcmp(name, policy_names[i]) == 0) {
            *ret_policy = (enum of_conflict_policy)i;
            return 0;
        }
    }
    return -1;
}

int
of_reconcile_conflict_name(const char *name, int64_t when_ns, int attempt, char *buf, size_t cap)
{
    char tag[80], num[16] = "";
    struct tm tm;
    if (!name || !buf)
        return -1;
    /* Floor division, so an instant before 1970 still names its own second. */
    int64_t secs = when_ns / 1000000000 - (when_ns % 1000000000 < 0);
    time_t t = (time_t)secs;
    if (!gmtime_r(&t, &tm))
        return -1;
    if (attempt > 1)
        snprintf(num, sizeof(num), " %d", attempt);
    int n =
        snprintf(tag, sizeof(tag), " (conflict %04d-%02d-%02d %02d%02d%02d%s)", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, num);
    if (n < 0 || (size_t)n >= sizeof(tag))
        return -1;
    size_t tag_len = (size_t)n, len = strlen(name);

    /* ".bashrc" has no extension: a leading dot that is the only one starts the name. */
    const char *dot = strrchr(name, '.');
    size_t stem_len = dot && dot != name ? (size_t)(dot - name) : len;
    size_t ext_len = len - stem_len;
    if (tag_len + ext_len > OF_SEGMENT_MAX) { /* an absurd extension: shorten it as stem */
        stem_len = len;
        ext_len = 0;
    }
    if (stem_len > OF_SEGMENT_MAX - tag_len - ext_len) {
        stem_len = OF_SEGMENT_MAX - tag_len - ext_len;
        /* Back off over continuation bytes: never cut inside a character. */
        while (stem_len > 0 && ((unsigned char)name[stem_len] & 0xc0) == 0x80)
            stem_len--;
    }
    size_t total = stem_len + tag_len + ext_len;
    if (total >= cap)
        return -1;
    memcpy(buf, name, stem_len);
    memcpy(buf + stem_len, tag, tag_len);
    memcpy(buf + stem_len + tag_len, name + len - ext_len, ext_len);
    buf[total] = '\0';
    return 0;
}
