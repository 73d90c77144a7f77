/* SPDX-License-Identifier: MIT */
/*
 * Reconcile: the pure decision at the heart of sync. Given what is known of
 * an item's three copies (LOCAL in the cache, REMOTE on the server as just
 * enumerated, ORIGINAL as of the last sync) it names the Offline Files sync
 * state and the operation that follows; given a conflict policy it decides
 * how a conflict is settled. No I/O, no allocation, no locks: every function
 * here is a pure function of its arguments and thread-safe.
 *
 * Content decides, not timestamps alone: a side "changed" when its bytes (or
 * kind, or attributes) differ from ORIGINAL. When both sides changed to the
 * same bytes (equal hashes) there is no conflict, only a new ORIGINAL.
 */
#ifndef OF_RECONCILE_H
#define OF_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "item.h"

/* X(NAME, value): OFFLINEFILES_SYNC_STATE, names as in the Offline Files API. */
#define OF_SYNC_STATES(X)                                                                          \
    X(Stable, 0)                                                                                   \
    X(FileOnClient_DirOnServer, 1)                                                                 \
    X(FileOnClient_NoServerCopy, 2)                                                                \
    X(DirOnClient_FileOnServer, 3)                                                                 \
    X(DirOnClient_FileChangedOnServer, 4)                                                          \
    X(DirOnClient_NoServerCopy, 5)                                                                 \
    X(FileCreatedOnClient_NoServerCopy, 6)                                                         \
    X(FileCreatedOnClient_FileChangedOnServer, 7)                                                  \
    X(FileCreatedOnClient_DirChangedOnServer, 8)                                                   \
    X(FileCreatedOnClient_FileOnServer, 9)                                                         \
    X(FileCreatedOnClient_DirOnServer, 10)                                                         \
    X(FileCreatedOnClient_DeletedOnServer, 11)                                                     \
    X(FileChangedOnClient_ChangedOnServer, 12)                                                     \
    X(FileChangedOnClient_DirOnServer, 13)                                                         \
    X(FileChangedOnClient_DirChangedOnServer, 14)                                                  \
    X(FileChangedOnClient_DeletedOnServer, 15)                                                     \
    X(FileSparseOnClient_ChangedOnServer, 16)                                                      \
    X(FileSparseOnClient_DeletedOnServer, 17)                                                      \
    X(FileSparseOnClient_DirOnServer, 18)                                                          \
    X(FileSparseOnClient_DirChangedOnServer, 19)                                                   \
    X(DirCreatedOnClient_NoServerCopy, 20)                                                         \
    X(DirCreatedOnClient_DirOnServer, 21)                                                          \
    X(DirCreatedOnClient_FileOnServer, 22)                                                         \
    X(DirCreatedOnClient_FileChangedOnServer, 23)                                                  \
    X(DirCreatedOnClient_DirChangedOnServer, 24)                                                   \
    X(DirCreatedOnClient_DeletedOnServer, 25)                                                      \
    X(DirChangedOnClient_FileOnServer, 26)                                                         \
    X(DirChangedOnClient_FileChangedOnServer, 27)                                                  \
    X(DirChangedOnClient_ChangedOnServer, 28)                                                      \
    X(DirChangedOnClient_DeletedOnServer, 29)                                                      \
    X(NoClientCopy_FileOnServer, 30)                                                               \
    X(NoClientCopy_DirOnServer, 31)                                                                \
    X(NoClientCopy_FileChangedOnServer, 32)                                                        \
    X(NoClientCopy_DirChangedOnServer, 33)                                                         \
    X(DeletedOnClient_FileOnServer, 34)                                                            \
    X(DeletedOnClient_DirOnServer, 35)                                                             \
    X(DeletedOnClient_FileChangedOnServer, 36)                                                     \
    X(DeletedOnClient_DirChangedOnServer, 37)                                                      \
    X(FileSparseOnClient, 38)                                                                      \
    X(FileChangedOnClient, 39)                                                                     \
    X(FileRenamedOnClient, 40)                                                                     \
    X(DirSparseOnClient, 41)                                                                       \
    X(DirChangedOnClient, 42)                                                                      \
    X(DirRenamedOnClient, 43)                                                                      \
    X(FileChangedOnServer, 44)                                                                     \
    X(FileRenamedOnServer, 45)                                                                     \
    X(FileDeletedOnServer, 46)                                                                     \
    X(DirChangedOnServer, 47)                                                                      \
    X(DirRenamedOnServer, 48)                                                                      \
    X(DirDeletedOnServer, 49)                                                                      \
    X(FileReplacedAndDeletedOnClient_FileOnServer, 50)                                             \
    X(FileReplacedAndDeletedOnClient_FileChangedOnServer, 51)                                      \
    X(FileReplacedAndDeletedOnClient_DirOnServer, 52)                                              \
    X(FileReplacedAndDeletedOnClient_DirChangedOnServer, 53)

enum of_sync_state {
#define OF_SYNC_STATE_ENUM(name, value) OF_SYNC_##name = value,
    OF_SYNC_STATES(OF_SYNC_STATE_ENUM)
#undef OF_SYNC_STATE_ENUM
        OF_SYNC__COUNT
};

/* "FileChangedOnClient_ChangedOnServer", ...; "" for an unknown value. */
const char *of_sync_state_name(enum of_sync_state state);

/* What a sync does with one item (OFFLINEFILES_SYNC_OPERATION plus our own no-ops). */
enum of_sync_op {
    OF_SYNC_OP_NONE = 0,           /* nothing to do */
    OF_SYNC_OP_CREATE_SERVER_COPY, /* push an item created on the client */
    OF_SYNC_OP_CREATE_CLIENT_COPY, /* bring an item new on the server into the cache */
    OF_SYNC_OP_SYNC_TO_SERVER,     /* upload the client's change */
    OF_SYNC_OP_SYNC_TO_CLIENT,     /* download the server's change */
    OF_SYNC_OP_DELETE_SERVER_COPY, /* propagate a client deletion */
    OF_SYNC_OP_DELETE_CLIENT_COPY, /* propagate a server deletion (drop the cached item) */
    OF_SYNC_OP_FILL,               /* fetch the missing content of a sparse file */
    OF_SYNC_OP_UPDATE_ORIGINAL,    /* both sides already agree: record them as the new base */
    OF_SYNC_OP_KEEP_ALL,           /* conflict kept both ways: see of_reconcile_resolve */
    OF_SYNC_OP_CONFLICT,           /* unresolved: leave both copies, record a conflict */
    OF_SYNC_OP__COUNT
};

/* "none", "createServerCopy", "createClientCopy", "syncToServer", "syncToClient", ... */
const char *of_sync_op_name(enum of_sync_op op);

/* OFFLINEFILES_CHANGES_* (ResolveConflict fChangeDetails): what differs from ORIGINAL. */
#define OF_CHANGES_LOCAL_SIZE 0x1u
#define OF_CHANGES_LOCAL_ATTRIBUTES 0x2u
#define OF_CHANGES_LOCAL_TIME 0x4u
#define OF_CHANGES_REMOTE_SIZE 0x8u
#define OF_CHANGES_REMOTE_ATTRIBUTES 0x10u
#define OF_CHANGES_REMOTE_TIME 0x20u

/* OFFLINEFILES_SYNC_ITEM_CHANGE_* (IOfflineFilesSyncErrorInfo): client vs server. */
#define OF_ITEM_CHANGE_CHANGETIME 0x1u
#define OF_ITEM_CHANGE_WRITETIME 0x2u
#define OF_ITEM_CHANGE_FILESIZE 0x4u
#define OF_ITEM_CHANGE_ATTRIBUTES 0x8u

/* One copy as reconcile sees it. */
struct of_side {
    int exists;
    int is_dir;
    int64_t size;
    int64_t mtime_ns;
    uint32_t attrs;
    char etag[OF_ETAG_MAX]; /* REMOTE and ORIGINAL: the server's version tag */
    char hash[OF_HASH_HEX]; /* content hash when known, "" when not */
};

struct of_reconcile_input {
    struct of_side local;    /* exists = 0 for a deleted-offline tombstone */
    struct of_side remote;   /* as enumerated now */
    struct of_side original; /* exists = 0: never synced (created on one side) */
    int local_created;       /* created offline (no ORIGINAL) */
    int local_deleted;       /* deleted offline (a tombstone with ORIGINAL) */
    int local_replaced;      /* the file was changed, then deleted offline (states 50-53) */
    int local_sparse;        /* the cached content is incomplete (or a ghost of a known file) */
    int local_modified;      /* modified data, attributes or time offline (dirty) */
    /*
     * The server answered for this item. 0 means it could not be enumerated
     * (error, timeout): never read as a deletion, the result is Stable/NONE.
     */
    int remote_known;
};

struct of_reconcile_result {
    enum of_sync_state state;
    enum of_sync_op op;      /* OF_SYNC_OP_CONFLICT for conflicts before a policy */
    unsigned change_details; /* OF_CHANGES_* */
    unsigned item_change;    /* OF_ITEM_CHANGE_*: how client and server copies differ */
    int conflict;            /* the state is a conflict */
};

/* Classify one item; always succeeds for any input (defensive on nonsense). */
void of_reconcile_classify(const struct of_reconcile_input *in,
                           struct of_reconcile_result *ret_result);

/* Conflict policies (OFFLINEFILES_SYNC_CONFLICT_RESOLVE, plus ask). */
enum of_conflict_policy {
    OF_POLICY_ASK = 0,    /* record it for a person; neither side changes (the default) */
    OF_POLICY_KEEP_LOCAL, /* the client's state wins, deletions included */
    OF_POLICY_KEEP_REMOTE,
    OF_POLICY_KEEP_LATEST, /* by modification time; a local edit of a server-deleted file wins */
    OF_POLICY_KEEP_ALL,    /* keep both: the local copy moves to a conflict name on both sides */
    OF_POLICY_LOG,         /* record it, like ask */
    OF_POLICY_SKIP,        /* leave it, record nothing */
    OF_POLICY_ABORT,       /* stop the whole sync */
    OF_POLICY__COUNT
};

/* "ask", "keepLocal", "keepRemote", "keepLatest", "keepAll", "log", "skip", "abort". */
const char *of_conflict_policy_name(enum of_conflict_policy policy);
int of_conflict_policy_parse(const char *name, enum of_conflict_policy *ret_policy);

/*
 * of_reconcile_resolve - the operation that settles a conflict under policy.
 * Returns CONFLICT when the policy records it (ask, log) or cannot apply
 * (keepAll where a side is missing or both are directories; keepLocal or
 * keepRemote that would have to delete a directory holding other data),
 * NONE for skip, and for abort NONE with *ret_abort = 1. Otherwise one of
 * SYNC_TO_SERVER, CREATE_SERVER_COPY, DELETE_SERVER_COPY, SYNC_TO_CLIENT,
 * CREATE_CLIENT_COPY, DELETE_CLIENT_COPY, KEEP_ALL. keepLatest compares the
 * local and remote modification times (a tie goes to the server), except
 * FileChangedOnClient_DeletedOnServer, which restores the local file.
 */
enum of_sync_op of_reconcile_resolve(const struct of_reconcile_input *in,
                                     const struct of_reconcile_result *res,
                                     enum of_conflict_policy policy, int *ret_abort);

/*
 * of_reconcile_conflict_name - "report (conflict 2026-11-23 101530).txt" for
 * name "report.txt" at time when_ns (UTC), with " 2", " 3", ... appended to
 * the stamp for attempt > 1. The extension is the part after the last dot
 * unless the name starts with its only dot. The result is at most
 * OF_SEGMENT_MAX bytes (the stem is shortened on a UTF-8 boundary if
 * needed). Returns 0, or -1 if cap is too small.
 */
int of_reconcile_conflict_name(const char *name, int64_t when_ns, int attempt, char *buf,
                               size_t cap);

#endif
