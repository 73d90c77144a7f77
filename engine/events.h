/* SPDX-License-Identifier: MIT */
/*
 * Events: every change the engine makes is published here, once, by the
 * code that makes it (never by an API handler). An event gets a monotonic
 * id, goes to the subscribers at once, and to the store's event log shortly
 * after (a flusher thread writes them in batches, so publishing costs no
 * fsync). The names are those of IOfflineFilesEvents 1-4, plus JobProgress
 * and JobItemResult. Thread-safe.
 */
#ifndef OF_EVENTS_H
#define OF_EVENTS_H

#include <stdint.h>

#include "item.h"

/* X(Name): the event types, in IOfflineFilesEvents order. */
#define OF_EVENT_TYPES(X)                                                                          \
    X(CacheMoved)                                                                                  \
    X(CacheIsFull)                                                                                 \
    X(CacheIsCorrupted)                                                                            \
    X(Enabled)                                                                                     \
    X(EncryptionChanged)                                                                           \
    X(SyncBegin)                                                                                   \
    X(SyncFileResult)                                                                              \
    X(SyncConflictRecAdded)                                                                        \
    X(SyncConflictRecUpdated)                                                                      \
    X(SyncConflictRecRemoved)                                                                      \
    X(SyncEnd)                                                                                     \
    X(BackgroundSyncBegin)                                                                         \
    X(BackgroundSyncEnd)                                                                           \
    X(NetTransportArrived)                                                                         \
    X(NoNetTransports)                                                                             \
    X(ItemDisconnected)                                                                            \
    X(ItemReconnected)                                                                             \
    X(ItemAvailableOffline)                                                                        \
    X(ItemNotAvailableOffline)                                                                     \
    X(ItemPinned)                                                                                  \
    X(ItemNotPinned)                                                                               \
    X(ItemModified)                                                                                \
    X(ItemAddedToCache)                                                                            \
    X(ItemDeletedFromCache)                                                                        \
    X(ItemRenamed)                                                                                 \
    X(DataLost)                                                                                    \
    X(Ping)                                                                                        \
    X(ItemReconnectBegin)                                                                          \
    X(ItemReconnectEnd)                                                                            \
    X(CacheEvictBegin)                                                                             \
    X(CacheEvictEnd)                                                                               \
    X(PolicyChangeDetected)                                                                        \
    X(PreferenceChangeDetected)                                                                    \
    X(SettingsChangesApplied)                                                                      \
    X(TransparentCacheItemNotify)                                                                  \
    X(PrefetchFileBegin)                                                                           \
    X(PrefetchFileEnd)                                                                             \
    X(PrefetchCloseHandleBegin)                                                                    \
    X(PrefetchCloseHandleEnd)                                                                      \
    X(JobProgress)                                                                                 \
    X(JobItemResult)

enum of_event_type {
#define OF_EVENT_ENUM(name) OF_EV_##name,
    OF_EVENT_TYPES(OF_EVENT_ENUM)
#undef OF_EVENT_ENUM
        OF_EV__COUNT
};

const char *of_event_type_name(enum of_event_type type);
int of_event_type_parse(const char *name, enum of_event_type *ret_type);

/*
 * One event. Only the fields an event type uses are set; the others keep
 * their "unset" values (0, "" or -1 where noted).
 */
struct of_event {
    int64_t id;      /* assigned by publish */
    int64_t time_ns; /* assigned by publish */
    enum of_event_type type;
    char path[OF_PATH_MAX + 1];     /* "" for events about no item */
    char old_path[OF_PATH_MAX + 1]; /* ItemRenamed */
    int item_type;                  /* of_item_type, or -1 */
    int64_t job_id;                 /* the sync or job it belongs to, 0 when none */
    int result;                     /* 0, or a negative OF_E code */
    int sync_state;                 /* of_sync_state, or -1 */
    int operation;                  /* of_sync_op, or -1 */
    int flag_a, flag_b;             /* modifiedData/modifiedAttributes, enabled, ... */
    int64_t n_a, n_b, n_c, n_d;     /* progress: itemsDone, itemsTotal, bytesDone, bytesTotal */
    char text[512];                 /* a message, a reason, a state name */
};

/* An event with every field unset, of type and path (may be NULL). */
void of_event_init(struct of_event *ev, enum of_event_type type, const char *path);

#endif
