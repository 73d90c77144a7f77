/* SPDX-License-Identifier: MIT */
/* Picks the backend implementation for a share's remote URL. */
#include "backend.h"

#include <string.h>

int
of_backend_open(const char *remote, struct of_backend **ret_be, struct of_error *reterr)
{
    return of_backend_open_with(remote, NULL, ret_be, reterr);
}

int
of_backend_open_with(const char *remote, const struct of_backend_options *opts,
                     struct of_backend **ret_be, struct of_error *reterr)
{
    static const struct of_backend_options defaults = {
        .transfers = 4, .timeout_ms = 30000, .connect_timeout_ms = 5000};
    if (remote && (strncmp(remote, "http://", 7) == 0 || strncmp(remote, "https://", 8) == 0))
        return of_backend_webdav_open(remote, opts ? opts : &defaults, ret_be, reterr);
    if (remote && strncmp(remote, "file://", 7) == 0) {
        const char *root = remote + 7;
        if (root[0] != '/')
            return of_error_set(reterr, OF_E(BAD_FIELD),
                                "a file remote needs an absolute path: file:///dir");
        return of_backend_fs_open(root, ret_be, reterr);
    }
    return of_error_set(reterr, OF_E(BAD_FIELD),
                        "unsupported remote '%.200s': use file:///dir, http:// or https://",
                        remote ? remote : "");
}

void
of_backend_free(struct of_backend *be)
{
    if (be)
        be->ops->free(be);
}
