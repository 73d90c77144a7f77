/* SPDX-License-Identifier: MIT */
/* Picks the backend implementation for a share's remote URL. */
#include "backend.h"

#include <string.h>

int
of_backend_open(const char *remote, struct of_backend **ret_be, struct of_error *reterr)
{
    if (remote && strncmp(remote, "file://", 7) == 0) {
        const char *root = remote + 7;
        if (root[0] != '/')
            return of_error_set(reterr, OF_E(BAD_FIELD),
                                "a file remote needs an absolute path: file:///dir");
        return of_backend_fs_open(root, ret_be, reterr);
    }
    return of_error_set(reterr, OF_E(BAD_FIELD), "unsupported remote '%s': use file:///dir",
                        remote ? remote : "");
}

void
of_backend_free(struct of_backend *be)
{
    if (be)
        be->ops->free(be);
}
