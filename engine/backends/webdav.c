/* SPDX-License-Identifier: MIT */
/* Placeholder while the WebDAV backend is written: refuses http(s) remotes. */
#include "backend.h"

int
of_backend_webdav_open(const char *url, const struct of_backend_options *opts,
                       struct of_backend **ret_be, struct of_error *reterr)
{
    (void)url;
    (void)opts;
    (void)ret_be;
    return of_error_set(reterr, OF_E(BAD_FIELD), "WebDAV remotes are not supported yet");
}
