/* SPDX-License-Identifier: MIT */
/*
 * Private helpers of the harness's own files (harness.c, harness_http.c,
 * harness_env.c), not for tests: allocation that aborts the run when memory
 * runs out, and sleeping and timing on the monotonic clock. Static inline,
 * so that of_it_harness exports no new names (events_util.c has a now_s of
 * its own).
 */
#ifndef OF_IT_HARNESS_INT_H
#define OF_IT_HARNESS_INT_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Zeroed memory; out of memory aborts the test run. */
static inline void *
xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "harness: out of memory\n");
        abort();
    }
    return p;
}

static inline void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static inline double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
