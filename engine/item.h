/* SPDX-License-Identifier: MIT */
/*
 * The item model: one row per server, share, directory or file the cache
 * knows, with the three copies of its state (LOCAL what clients see,
 * REMOTE what the server had when last observed, ORIGINAL the merge base of
 * the last sync) and the flags of the Offline Files *Info interfaces. Plain
 * data, embedded by value; nothing here owns heap memory.
 */
#ifndef OF_ITEM_H
#define OF_ITEM_H

#include <stdint.h>

#include "backend.h"
#include "path.h"

enum of_item_type {
    OF_ITEM_FILE = 0,
    OF_ITEM_DIRECTORY = 1,
    OF_ITEM_SHARE = 2,
    OF_ITEM_SERVER = 3,
};

#define OF_HASH_HEX 65 /* SHA-256 in hex plus NUL */

/* One copy's file-system info (IOfflineFilesFileSysInfo). */
struct of_copy {
    int exists;
    int64_t size;
    int64_t mtime_ns;
    uint32_t attrs;
    char etag[OF_ETAG_MAX]; /* server version tag (REMOTE, ORIGINAL) */
    char hash[OF_HASH_HEX]; /* content hash, "" when unknown */
};

enum of_pin_scope {
    OF_PIN_USER = 0,
    OF_PIN_COMPUTER = 1,
    OF_PIN_POLICY = 2,
    OF_PIN_REDIRECTION = 3,
};

/* IOfflineFilesPinInfo/2 as seen by one user. */
struct of_pin_info {
    int pinned;
    int for_user, for_user_inherit;
    int for_others; /* pinned for a user other than the one asking */
    int by_policy, by_policy_inherit;
    int for_computer, for_computer_inherit;
    int for_redirection, for_redirection_inherit;
    int partly;
};

struct of_item {
    int64_t id;        /* store row id; 0 before the first put */
    int64_t parent_id; /* 0 for servers */
    int64_t share_id;  /* 0 for servers */
    enum of_item_type type;
    char path[OF_PATH_MAX + 1];
    struct of_copy local, remote, original;
    char content[48];     /* content-store name of the local bytes, "" when none */
    int64_t cached_bytes; /* bytes of content held in the cache */
    int ghosted, sparse;
    int created_offline, deleted_offline;
    int mod_data, mod_attrs, mod_time;
    int suspended, suspended_root;
    int transparent, marked_delete, encrypted;
    int64_t last_access_ns;
};

/* Any unsynchronized local change (IOfflineFilesChangeInfo::IsDirty). */
static inline int
of_item_dirty(const struct of_item *it)
{
    return it->created_offline || it->deleted_offline || it->mod_data || it->mod_attrs ||
           it->mod_time;
}

static inline int
of_item_is_container(const struct of_item *it)
{
    return it->type != OF_ITEM_FILE;
}

const char *of_item_type_name(enum of_item_type type);
/* "file", "directory", "share", "server" -> type; 0 or -1. */
int of_item_type_parse(const char *name, enum of_item_type *ret_type);

#endif
