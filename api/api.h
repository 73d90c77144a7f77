/* SPDX-License-Identifier: MIT */
/*
 * The HTTP API: libmicrohttpd with an internal epoll thread pool, serving
 * /api/v1 over one engine. The daemon starts it and stops it; nothing else.
 */
#ifndef OF_API_H
#define OF_API_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct of_api_config {
    const char *listen;   /* "127.0.0.1:7780", "[::1]:7780" */
    unsigned threads;     /* MHD thread pool size; 0 = number of CPUs */
    size_t max_json_body; /* bytes; larger JSON bodies answer 413 */
    int64_t max_upload;   /* bytes; larger file uploads answer 413 */
    const char *web_dir;  /* the dashboard's static files */
};

struct of_api;

/*
 * Bind and start serving. The engine is borrowed and must outlive the api.
 * Returns 0, or -1 with a reason in errbuf.
 */
int of_api_start(struct of_engine *eng, const struct of_api_config *cfg, struct of_api **ret_api,
                 char *errbuf, size_t errcap);
/* The port actually bound (useful with port 0). */
uint16_t of_api_port(const struct of_api *api);
/*
 * Stop: no new connections, wait for requests in flight (uploads finish and
 * commit), then release everything. NULL-safe.
 */
void of_api_stop(struct of_api *api);

#endif
