/* SPDX-License-Identifier: MIT */
/*
 * sse_load's publisher: a thread of its own that paces POST
 * /api/v1/events/ping on one keep-alive connection, each POST carrying its
 * send time ("t=<CLOCK_REALTIME ns>") for the subscribers to measure
 * against, so the pace does not depend on how busy the subscribers are.
 * post_ping also sends main's warm-up ping before the thread starts.
 */
#include "sse_load.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ the publisher */

/* Declared and explained in sse_load.h. */
atomic_int_fast64_t published;
struct hist lat_post;

/* One POST on a keep-alive connection; returns the HTTP status, -1 on I/O errors. */
int
post_ping(int fd, int count, const char *detail, char *body_out, size_t body_cap)
{
    char body[256], req[1024];
    int bl = snprintf(body, sizeof(body), "{\"count\":%d,\"detail\":\"%s\"}", count, detail);
    int rl = snprintf(req, sizeof(req),
                      "POST /api/v1/events/ping HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                      "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\n\r\n%s",
                      opt_port, token, bl, body);
    if (write_all(fd, req, (size_t)rl) < 0)
        return -1;
    char buf[4096];
    size_t len = 0;
    char *he = NULL;
    while (!(he = memmem(buf, len, "\r\n\r\n", 4))) {
        if (len == sizeof(buf))
            return -1;
        ssize_t r = read(fd, buf + len, sizeof(buf) - len);
        if (r <= 0)
            return -1;
        len += (size_t)r;
    }
    size_t hl = (size_t)(he - buf) + 4;
    *he = 0;
    const char *cl = strcasestr(buf, "\r\ncontent-length:");
    if (!cl)
        return -1;
    size_t want = (size_t)strtoul(cl + 17, NULL, 10);
    if (hl + want > sizeof(buf))
        return -1;
    while (len < hl + want) {
        ssize_t r = read(fd, buf + len, hl + want - len);
        if (r <= 0)
            return -1;
        len += (size_t)r;
    }
    int status = atoi(buf + 9);
    if (body_out)
        snprintf(body_out, body_cap, "%.*s", (int)want, buf + hl);
    return status;
}

void *
publisher(void *arg)
{
    struct pub_stats *ps = arg;
    int64_t interval = (int64_t)opt_batch * 1000000000 / opt_rate;
    int64_t total = (int64_t)opt_rate * opt_duration / opt_batch;
    ps->t0_mono = MONO_NS();
    for (int64_t k = 0; k < total; k++) {
        int64_t due = ps->t0_mono + k * interval;
        int64_t now = MONO_NS();
        if (now < due) {
            struct timespec ts = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
        } else if (now - due > 1000000) {
            ps->late++; /* more than 1 ms behind the schedule: sent at once to catch up */
            if ((now - due) / 1000 > ps->max_behind_us)
                ps->max_behind_us = (now - due) / 1000;
        }
        char detail[64], answer[256];
        int64_t sent = REAL_NS();
        snprintf(detail, sizeof(detail), "t=%" PRId64, sent);
        int64_t m0 = MONO_NS();
        int status = post_ping(ps->fd, opt_batch, detail, answer, sizeof(answer));
        if (status != 200) {
            snprintf(ps->error, sizeof(ps->error), "POST /api/v1/events/ping: %s %d: %s",
                     status < 0 ? "I/O error" : "status", status, status < 0 ? strerror(errno) : answer);
            ps->failed = 1;
            break;
        }
        hist_add(&lat_post, (MONO_NS() - m0) / 1000);
        atomic_fetch_add(&published, opt_batch);
        ps->batches++;
    }
    ps->t1_mono = MONO_NS();
    return NULL;
}
