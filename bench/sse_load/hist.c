/* SPDX-License-Identifier: MIT */
/*
 * sse_load's latency histograms and quantiles: fine enough (1 us) for the
 * daemon's part of a delivery, wide enough (1000 s) for a starved run.
 * hist_add is inline in sse_load.h, since it runs for every delivery.
 */
#include "sse_load.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ latency histograms */

void
hist_init(struct hist *h)
{
    memset(h, 0, sizeof(*h));
    h->fine = calloc(H_FINE, sizeof(uint64_t));
    h->coarse = calloc(H_COARSE, sizeof(uint64_t));
    if (!h->fine || !h->coarse)
        die("out of memory");
    h->min_us = INT64_MAX;
}

/* The q-quantile in ms (nearest rank). */
double
hist_q(const struct hist *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->n);
    if (rank >= h->n)
        rank = h->n - 1;
    uint64_t acc = 0;
    for (int64_t i = 0; i < H_FINE; i++) {
        acc += h->fine[i];
        if (acc > rank)
            return (double)i / 1000.0;
    }
    for (int64_t i = 0; i < H_COARSE; i++) {
        acc += h->coarse[i];
        if (acc > rank)
            return (double)i;
    }
    return (double)h->max_us / 1000.0;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v (n values) and returns its q-quantile (nearest rank). */
int64_t
quantile_i64(int64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_i64);
    size_t r = (size_t)(q * (double)n);
    return v[r < n ? r : n - 1];
}
