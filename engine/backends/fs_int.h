/* SPDX-License-Identifier: MIT */
/*
 * Internals of the fs backend, shared by fs.c (the object and its
 * operations) and fs_util.c (resolving paths beneath the root, mapping
 * errno onto the registry). Not a contract for anyone else: the engine sees
 * backend.h. Every function here is stateless and thread-safe.
 */
#ifndef OF_FS_INT_H
#define OF_FS_INT_H

#include "backend.h"

/* The description of errno e, for details and logs; never NULL. Borrowed. */
const char *fs_why(int e);
/* rel as details name it: "/" for the share root. Borrowed. */
const char *fs_shown(const char *rel);
/* Does errno e say that the share (server, mount, disk) failed, not the item? */
int fs_is_unreachable(int e);
/*
 * Map errno e from doing what ("reading", ...) to rel onto the registry:
 * sets err and returns the code (a failed share: OF_E(UNAVAILABLE)).
 */
int fs_fail(struct of_error *err, int e, const char *what, const char *rel);
/*
 * Open rel (a valid share path, "" for the root) beneath rootfd with flags
 * (O_CLOEXEC is added). Returns a new fd, or -errno: -EXDEV or -ELOOP where
 * rel would lead outside the root.
 */
int fs_beneath(int rootfd, const char *rel, int flags);
/*
 * Split rel into its parent (copied to parent, OF_PATH_MAX + 1 bytes) and
 * its name, which is returned (it points into rel).
 */
const char *fs_split(const char *rel, char *parent);
/*
 * Resolving the directory parent failed with errno e: sets err and returns
 * the code. creating: an item is about to be made in it, so a file in the
 * way is OF_E(NOT_A_DIR) and a missing one OF_E(PARENT_MISSING); for a
 * lookup the item simply is not there. OF_E(UNAVAILABLE) if the root is gone.
 */
int fs_parent_fail(int rootfd, const char *parent, int e, int creating, struct of_error *err);
/*
 * Resolving rel itself failed with errno e: sets err and returns the code,
 * telling a missing item (OF_E(NOT_FOUND)) from a missing parent and from a
 * root that is gone.
 */
int fs_item_fail(int rootfd, const char *rel, int e, struct of_error *err);

#endif
