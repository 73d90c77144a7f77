/* SPDX-License-Identifier: MIT */
/*
 * The contract between the parts of sse_load, the load generator of
 * bench/events.sh (main.c says what it does and how): the settings read
 * from the command line (common.c), the helpers, the latency histograms
 * (hist.c), the samples of the daemon's /proc (proc.c), the subscribers
 * (subscribers.c) and the publisher (publisher.c). It is one program split
 * by concern, so the state the report needs is shared as plain globals, each
 * owned (defined and written) by the file named next to it. Everything but
 * the publisher thread runs on the main thread; what the publisher touches
 * is said where it is declared.
 *
 * Each .c includes this header first: it sets _GNU_SOURCE for the whole
 * program (strcasestr, memmem, strptime, pthread_tryjoin_np).
 */
#ifndef SSE_LOAD_H
#define SSE_LOAD_H

#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* ------------------------------------------------------------ settings (common.c) */

/* Set by main from the command line before anything runs; read-only after. */
extern int opt_port, opt_subs, opt_rate, opt_batch, opt_duration, opt_drain, opt_connect_step,
    opt_keepalive;
extern const char *opt_token_file;
extern pid_t opt_pid;
extern char token[512]; /* the bearer token, read by main from opt_token_file */

/* ------------------------------------------------------------ helpers (common.c) */

/*
 * Inline here, not in common.c: it runs for every read of the subscribers,
 * and the load generator's own cost per event is kept low.
 */
static inline int64_t
now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
#define REAL_NS() now_ns(CLOCK_REALTIME)
#define MONO_NS() now_ns(CLOCK_MONOTONIC)

/* Prints "sse_load: <message>" to stderr and exits with status 2 (the run could not be run). */
void die(const char *fmt, ...);

/* A TCP socket connecting to 127.0.0.1:opt_port (TCP_NODELAY), or -1 with errno set. */
int tcp_connect(int nonblock);

/* Writes all n bytes of p to a blocking fd; 0, or -1 on an error or a short write. */
int write_all(int fd, const char *p, size_t n);

/* ------------------------------------------------------------ latency histograms (hist.c) */

/* 1 us buckets up to 2 s, then 1 ms buckets up to 1000 s. */
#define H_FINE 2000000
#define H_COARSE 1000000
struct hist {
    uint64_t *fine, *coarse;
    uint64_t n, over;
    int64_t min_us, max_us;
    double sum_us;
};

/* Allocates the buckets (for the life of the program); dies when out of memory. */
void hist_init(struct hist *h);

/*
 * Counts one latency in us. Inline here, not in hist.c: it runs for every
 * delivery. Not thread-safe: each histogram has one writer thread.
 */
static inline void
hist_add(struct hist *h, int64_t us)
{
    if (us < 0)
        us = 0; /* clock granularity (ms-precision times): counted as 0 */
    if (us < H_FINE)
        h->fine[us]++;
    else if (us / 1000 < H_COARSE)
        h->coarse[us / 1000]++;
    else
        h->over++;
    h->n++;
    h->sum_us += (double)us;
    if (us < h->min_us)
        h->min_us = us;
    if (us > h->max_us)
        h->max_us = us;
}

/* The q-quantile in ms (nearest rank). */
double hist_q(const struct hist *h, double q);

/* Sorts v (n values) and returns its q-quantile (nearest rank). */
int64_t quantile_i64(int64_t *v, size_t n, double q);

/* ------------------------------------------------------------ the daemon's /proc (proc.c) */

/* All of these read /proc/opt_pid (or the pid given); a gone daemon reads as zeros. */
struct proc_sample {
    int ok;
    long threads, rss_kb, hwm_kb, fds;
    double cpu_s; /* utime + stime */
};

struct proc_sample proc_sample(void);
void print_sample(const char *phase, struct proc_sample s);

/* The whole machine's CPU time (all CPUs), from /proc/stat. */
struct machine_cpu {
    double busy_s, total_s;
};

struct machine_cpu machine_cpu(void);

/*
 * How long the threads of process pid have been runnable but waiting for a
 * CPU, in s: the second field of /proc/PID/task/TID/schedstat, summed. On a
 * shared machine this tells a slow daemon from one that was not let run.
 */
double runq_wait_s(pid_t pid);

/* The machine's CPU pressure: seconds during which some task waited for a CPU (PSI), or -1. */
double psi_cpu_some_s(void);

/* Per-thread CPU time of the daemon, from /proc/PID/task/TID/stat. */
#define MAX_TASKS 256
struct task_cpu {
    int tid;
    double cpu_s;
};

/* Fills out (room for MAX_TASKS) with the daemon's threads; returns how many. */
int task_cpu(struct task_cpu *out);

/* qsort comparator: the busiest thread first. */
int cmp_task_desc(const void *a, const void *b);

/* ------------------------------------------------------------ subscribers (subscribers.c) */

enum sub_state { S_CONNECTING, S_HEADERS, S_STREAM, S_CLOSED };
enum chunk_state { C_SIZE, C_SIZE_EXT, C_SIZE_LF, C_DATA, C_DATA_CR, C_DATA_LF, C_END };

struct sub {
    int fd, idx;
    enum sub_state state;
    char hdr[4096];
    size_t hdr_len;
    int chunked;
    enum chunk_state cst;
    uint64_t crem;
    char *sbuf; /* decoded event-stream bytes not parsed yet */
    size_t slen, scap;
    /* what it saw */
    int warm;              /* saw the warm-up ping */
    uint64_t frames;       /* all frames */
    uint64_t measured;     /* frames of the measured range (duplicates included) */
    uint64_t distinct;     /* ids of the measured range, each once */
    uint64_t dups, reordered, foreign, keepalives, datalost, other;
    int64_t last_id;
    uint64_t slow;  /* deliveries over 50 ms */
    int64_t max_us; /* its worst latency */
    uint8_t *seen; /* bitmap over the measured range */
    char why[160]; /* why it closed */
    int64_t closed_ns;
};

/*
 * Owned by subscribers.c, main thread only. main allocates subs (opt_subs
 * of them, each with its seen bitmap), post_first_us/post_last_us and epfd,
 * and sets range_max and the run_t0_* times; the subscribers fill the rest.
 */
extern struct sub *subs;
extern int epfd;
extern int64_t range_max; /* bitmap size in ids */
extern struct hist lat_send, lat_pub, lat_wire;
/* By POST (measured id / batch): the first and the last subscriber's latency. */
extern int64_t *post_first_us, *post_last_us;
extern uint64_t stream_reads, stream_bytes; /* recvmsg calls that returned data, and their bytes */
extern int n_open, n_ready, n_warm;
extern int64_t run_t0_real; /* CLOCK_REALTIME at the start of publishing */
#define SECS_MAX 3600
extern int64_t sec_max_us[SECS_MAX]; /* by second of the send time */
extern uint64_t sec_slow[SECS_MAX];  /* deliveries over 50 ms */
extern int64_t run_t0_mono;

/* Starts connecting s (non-blocking) and adds it to epfd; dies when it cannot. */
void sub_open(struct sub *s);

/* Serve the subscribers for up to ms milliseconds. */
void pump(int ms);

/* ------------------------------------------------------------ the publisher (publisher.c) */

/* One POST on a keep-alive connection; returns the HTTP status, -1 on I/O errors. */
int post_ping(int fd, int count, const char *detail, char *body_out, size_t body_cap);

/* What the publisher thread did; written by it alone, read by main after joining it. */
struct pub_stats {
    int fd;
    int64_t batches, late, max_behind_us;
    int64_t t0_mono, t1_mono;
    int failed;
    char error[512];
};

/*
 * The publisher thread (arg: a struct pub_stats with fd set): paces
 * opt_rate events a second in POSTs of opt_batch for opt_duration seconds.
 * It alone writes lat_post (read by main after the join) and published
 * (atomic: main reads it while it runs).
 */
void *publisher(void *arg);
extern atomic_int_fast64_t published;
extern struct hist lat_post;

#endif
