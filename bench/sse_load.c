/* SPDX-License-Identifier: MIT */
/*
 * Load generator for bench/events.sh: many subscribers of GET /api/v1/events
 * in one process (non-blocking sockets on one epoll), plus one publisher
 * thread that paces POST /api/v1/events/ping on a keep-alive connection.
 *
 *   sse_load --port P --token-file F --pid DAEMON_PID [--subs 1000]
 *            [--rate 1000] [--batch 10] [--duration 30] [--drain 10]
 *            [--keepalive 15]
 *
 * Every ping carries its send time in its detail ("t=<CLOCK_REALTIME ns>");
 * a subscriber's latency for an event is the time its bytes came out of
 * recvmsg(2) minus that send time. The kernel's receive timestamp of the
 * same bytes (SO_TIMESTAMPNS; on loopback: when the daemon wrote them) splits
 * that into the daemon's part and the load generator's. The ids of the
 * measured events are exactly warmup_id+1 .. warmup_id+published (nothing
 * else publishes Ping events), so a subscriber's losses are the ids of that
 * range it never saw; each subscriber keeps a bitmap of them, so duplicates
 * and reordering are seen too. The daemon's /proc/PID status (Threads, VmRSS, VmHWM, open fds) and
 * CPU time are sampled at each phase and every second while it publishes;
 * the CPU time of its threads and of the whole machine (/proc/stat) over the
 * run show who had the CPUs, and the time its threads and ours spent waiting
 * for one (schedstat), with the machine's CPU pressure (PSI), whether the
 * run was starved. This process competes with the daemon for the CPUs, so
 * its own cost per event is kept low: frames are parsed in place, a line at
 * a time, without memmem.
 *
 * Prints a report and a last line "STATS key=value ..." for the script.
 * Exit status: 0 when the run completed (goals met or not), 2 when it could
 * not be run (connect/subscribe/warm-up failed), 1 on usage errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

/* ------------------------------------------------------------ settings */

static int opt_port, opt_subs = 1000, opt_rate = 1000, opt_batch = 10, opt_duration = 30,
                     opt_drain = 10, opt_connect_step = 100, opt_keepalive = 15;
static const char *opt_token_file;
static pid_t opt_pid;
static char token[512];

/* ------------------------------------------------------------ helpers */

static int64_t
now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
#define REAL_NS() now_ns(CLOCK_REALTIME)
#define MONO_NS() now_ns(CLOCK_MONOTONIC)

static void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sse_load: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static int
tcp_connect(int nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ------------------------------------------------------------ latency histograms */

/* 1 us buckets up to 2 s, then 1 ms buckets up to 1000 s. */
#define H_FINE 2000000
#define H_COARSE 1000000
struct hist {
    uint64_t *fine, *coarse;
    uint64_t n, over;
    int64_t min_us, max_us;
    double sum_us;
};

static void
hist_init(struct hist *h)
{
    memset(h, 0, sizeof(*h));
    h->fine = calloc(H_FINE, sizeof(uint64_t));
    h->coarse = calloc(H_COARSE, sizeof(uint64_t));
    if (!h->fine || !h->coarse)
        die("out of memory");
    h->min_us = INT64_MAX;
}

static void
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
static double
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
static int64_t
quantile_i64(int64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_i64);
    size_t r = (size_t)(q * (double)n);
    return v[r < n ? r : n - 1];
}

/* ------------------------------------------------------------ the daemon's /proc */

struct proc_sample {
    int ok;
    long threads, rss_kb, hwm_kb, fds;
    double cpu_s; /* utime + stime */
};

static struct proc_sample
proc_sample(void)
{
    struct proc_sample s = {0};
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)opt_pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return s;
    while (fgets(line, sizeof(line), f)) {
        sscanf(line, "Threads: %ld", &s.threads);
        sscanf(line, "VmRSS: %ld", &s.rss_kb);
        sscanf(line, "VmHWM: %ld", &s.hwm_kb);
    }
    fclose(f);
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)opt_pid);
    f = fopen(path, "r");
    if (f) {
        char buf[1024];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = 0;
        fclose(f);
        char *p = strrchr(buf, ')'); /* comm may hold spaces */
        unsigned long ut = 0, st = 0;
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
            s.cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    }
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)opt_pid);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                s.fds++;
        closedir(d);
    } else {
        s.fds = -1;
    }
    s.ok = 1;
    return s;
}

static void
print_sample(const char *phase, struct proc_sample s)
{
    if (!s.ok) {
        printf("  %-34s (the daemon is gone)\n", phase);
        return;
    }
    printf("  %-34s threads %3ld  fds %5ld  VmRSS %7.1f MiB  VmHWM %7.1f MiB  cpu %7.2f s\n", phase,
           s.threads, s.fds, s.rss_kb / 1024.0, s.hwm_kb / 1024.0, s.cpu_s);
}

/* The whole machine's CPU time (all CPUs), from /proc/stat. */
struct machine_cpu {
    double busy_s, total_s;
};

static struct machine_cpu
machine_cpu(void)
{
    struct machine_cpu m = {0};
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    if (f) {
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) == 8) {
            double tck = (double)sysconf(_SC_CLK_TCK);
            double total = 0;
            for (int i = 0; i < 8; i++)
                total += (double)v[i];
            m.total_s = total / tck;
            m.busy_s = (total - (double)v[3] - (double)v[4]) / tck;
        }
        fclose(f);
    }
    return m;
}

/* Calls fn with /proc/PID/task/TID/<file> of each thread of pid, open for reading. */
static void
each_task(pid_t pid, const char *file, void (*fn)(FILE *f, int tid, void *ctx), void *ctx)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sp[300];
        snprintf(sp, sizeof(sp), "/proc/%d/task/%s/%s", (int)pid, e->d_name, file);
        FILE *f = fopen(sp, "r");
        if (!f)
            continue;
        fn(f, atoi(e->d_name), ctx);
        fclose(f);
    }
    closedir(d);
}

static void
add_wait(FILE *f, int tid, void *ctx)
{
    unsigned long long run = 0, wait = 0;
    (void)tid;
    if (fscanf(f, "%llu %llu", &run, &wait) == 2)
        *(double *)ctx += (double)wait / 1e9;
}

/*
 * How long the threads of process pid have been runnable but waiting for a
 * CPU, in s: the second field of /proc/PID/task/TID/schedstat, summed. On a
 * shared machine this tells a slow daemon from one that was not let run.
 */
static double
runq_wait_s(pid_t pid)
{
    double sum = 0;
    each_task(pid, "schedstat", add_wait, &sum);
    return sum;
}

/* The machine's CPU pressure: seconds during which some task waited for a CPU (PSI), or -1. */
static double
psi_cpu_some_s(void)
{
    FILE *f = fopen("/proc/pressure/cpu", "r");
    unsigned long long total = 0;
    int ok = f && fscanf(f, "some avg10=%*f avg60=%*f avg300=%*f total=%llu", &total) == 1;
    if (f)
        fclose(f);
    return ok ? (double)total / 1e6 : -1;
}

/* Per-thread CPU time of the daemon, from /proc/PID/task/TID/stat. */
#define MAX_TASKS 256
struct task_cpu {
    int tid;
    double cpu_s;
};

struct task_list {
    struct task_cpu *v;
    int n;
};

static void
add_task(FILE *f, int tid, void *ctx)
{
    struct task_list *l = ctx;
    char buf[1024];
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    buf[len] = 0;
    char *p = strrchr(buf, ')'); /* comm may hold spaces */
    unsigned long ut = 0, st = 0;
    if (l->n < MAX_TASKS && p &&
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2) {
        l->v[l->n].tid = tid;
        l->v[l->n].cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
        l->n++;
    }
}

static int
task_cpu(struct task_cpu *out)
{
    struct task_list l = {out, 0};
    each_task(opt_pid, "stat", add_task, &l);
    return l.n;
}

static int
cmp_task_desc(const void *a, const void *b)
{
    double x = ((const struct task_cpu *)a)->cpu_s, y = ((const struct task_cpu *)b)->cpu_s;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* ------------------------------------------------------------ subscribers */

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

static struct sub *subs;
static int epfd;
static int64_t warm_id = -1; /* id of the warm-up ping; measured ids follow it */
static int64_t range_max;    /* bitmap size in ids */
static atomic_int_fast64_t published;
static struct hist lat_send, lat_pub, lat_post, lat_wire;
/*
 * The kernel's receive timestamp (SO_TIMESTAMPNS) of the bytes being parsed:
 * on loopback it is taken when the daemon's write(2) hands the segment to
 * the loopback device, so it splits a latency into the daemon's part (sent
 * -> written) and the load generator's (written -> read). For a read that
 * covers several segments it is the newest one's time, so the daemon's part
 * is, if anything, overstated.
 */
static int64_t cur_kts;
/* By POST (measured id / batch): the first and the last subscriber's latency. */
static int64_t *post_first_us, *post_last_us;
static uint64_t stream_reads, stream_bytes; /* recvmsg calls that returned data, and their bytes */
static int n_open, n_ready, n_warm, n_dropped;
static int64_t run_t0_real; /* CLOCK_REALTIME at the start of publishing */
#define SECS_MAX 3600
static int64_t sec_max_us[SECS_MAX]; /* by second of the send time */
static uint64_t sec_slow[SECS_MAX];  /* deliveries over 50 ms */
static int64_t run_t0_mono;

static void
sub_close(struct sub *s, const char *fmt, ...)
{
    if (s->state == S_CLOSED)
        return;
    if (s->state == S_STREAM)
        n_ready--;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof(s->why), fmt, ap);
    va_end(ap);
    epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->fd = -1;
    s->state = S_CLOSED;
    s->closed_ns = MONO_NS();
    n_open--;
}

static void
sub_open(struct sub *s)
{
    s->fd = tcp_connect(1);
    if (s->fd < 0)
        die("subscriber %d: cannot connect to 127.0.0.1:%d: %s", s->idx, opt_port,
            strerror(errno));
    s->state = S_CONNECTING;
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
    n_open++;
}

/* Cached parse of the "time" field's seconds part (YYYY-MM-DDTHH:MM:SS). */
static int64_t
parse_time_ns(const char *p, size_t n)
{
    static char cached[20];
    static int64_t cached_s = -1;
    if (n < 24 || p[19] != '.')
        return -1;
    if (memcmp(p, cached, 19) != 0 || cached_s < 0) {
        struct tm tm = {0};
        char tmp[20];
        memcpy(tmp, p, 19);
        tmp[19] = 0;
        if (!strptime(tmp, "%Y-%m-%dT%H:%M:%S", &tm))
            return -1;
        memcpy(cached, p, 19);
        cached_s = (int64_t)timegm(&tm);
    }
    int ms = (p[20] - '0') * 100 + (p[21] - '0') * 10 + (p[22] - '0');
    return cached_s * 1000000000 + (int64_t)ms * 1000000;
}

/*
 * The byte after key in data, or NULL. It looks from the end, where the
 * daemon puts "time" and "detail", comparing the key's first two bytes
 * before calling memcmp: glibc's memmem sets up a shift table on every call,
 * which at a million frames a second was a fifth of this program's CPU time.
 */
static const char *
find_field(const char *data, size_t n, const char *key, size_t klen)
{
    if (n < klen)
        return NULL;
    for (const char *p = data + n - klen;; p--) {
        if (p[0] == key[0] && p[1] == key[1] && memcmp(p, key, klen) == 0)
            return p + klen;
        if (p == data)
            return NULL;
    }
}

/* A decimal number at p (strtoll's job for the digits-only numbers of a frame, without locale). */
static int64_t
parse_digits(const char *p, const char *end)
{
    int64_t v = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (*p - '0');
    return v;
}

/* The fields of a frame, as its lines come. */
struct fields {
    int64_t id; /* -1: no id line */
    const char *event, *data;
    size_t event_len, data_len;
};

static void
take_line(struct fields *ff, const char *line, const char *le)
{
    size_t ll = (size_t)(le - line);
    if (ll > 4 && memcmp(line, "id: ", 4) == 0)
        ff->id = parse_digits(line + 4, le);
    else if (ll > 7 && memcmp(line, "event: ", 7) == 0) {
        ff->event = line + 7;
        ff->event_len = ll - 7;
    } else if (ll > 6 && memcmp(line, "data: ", 6) == 0) {
        ff->data = line + 6;
        ff->data_len = ll - 6;
    }
}

/* One complete frame. */
static void
on_frame(struct sub *s, const struct fields *ff, int64_t recv_ns)
{
    int64_t id = ff->id;
    const char *event = ff->event, *data = ff->data;
    size_t event_len = ff->event_len, data_len = ff->data_len;
    s->frames++;
    if (event_len == 8 && memcmp(event, "DataLost", 8) == 0) {
        static int told;
        s->datalost++;
        if (told++ < 5)
            fprintf(stderr, "# subscriber %d: DataLost: %.*s\n", s->idx, (int)data_len, data);
        return;
    }
    if (!(event_len == 4 && memcmp(event, "Ping", 4) == 0)) {
        s->other++;
        return;
    }
    if (id < 0) {
        s->keepalives++; /* the stream's own keep-alive Ping */
        return;
    }
    const char *det = data ? find_field(data, data_len, "\"detail\":\"", 10) : NULL;
    if (!det) {
        s->foreign++;
        return;
    }
    if (strncmp(det, "warmup", 6) == 0) {
        if (!s->warm) {
            s->warm = 1;
            n_warm++;
            if (warm_id < 0)
                warm_id = id;
            else if (warm_id != id)
                fprintf(stderr, "# subscriber %d: warm-up id %" PRId64 ", others %" PRId64 "\n",
                        s->idx, id, warm_id);
        }
        return;
    }
    if (det[0] != 't' || det[1] != '=' || warm_id < 0) {
        s->foreign++;
        return;
    }
    int64_t k = id - warm_id - 1;
    if (k < 0 || k >= range_max) {
        s->foreign++;
        return;
    }
    s->measured++;
    if (s->seen[k >> 3] & (1u << (k & 7))) {
        s->dups++;
        return;
    }
    s->seen[k >> 3] |= (uint8_t)(1u << (k & 7));
    s->distinct++;
    if (id < s->last_id)
        s->reordered++;
    else
        s->last_id = id;
    int64_t sent = parse_digits(det + 2, data + data_len);
    int64_t us = (recv_ns - sent) / 1000;
    hist_add(&lat_send, us);
    if (us > s->max_us)
        s->max_us = us;
    s->slow += us > 50000;
    int64_t b = k / opt_batch;
    if (post_first_us[b] < 0 || us < post_first_us[b])
        post_first_us[b] = us;
    if (us > post_last_us[b])
        post_last_us[b] = us;
    if (cur_kts > 0)
        hist_add(&lat_wire, (cur_kts - sent) / 1000);
    int64_t sec = (sent - run_t0_real) / 1000000000;
    if (sec >= 0 && sec < SECS_MAX) {
        if (us > sec_max_us[sec])
            sec_max_us[sec] = us;
        sec_slow[sec] += us > 50000;
    }
    const char *tm = find_field(data, data_len, "\"time\":\"", 8);
    int64_t pub = tm ? parse_time_ns(tm, (size_t)(data + data_len - tm)) : -1;
    if (pub > 0) {
        hist_add(&lat_pub, (recv_ns - pub) / 1000);
    }
}

/*
 * Handle the complete frames in [p, p + n), line by line (one memchr per
 * line); returns the bytes they took: an incomplete frame is left over.
 */
static size_t
frames(struct sub *s, const char *p, size_t n, int64_t recv_ns)
{
    const char *end = p + n, *frame = p, *line = p, *nl;
    struct fields ff = {.id = -1};
    while (line < end && (nl = memchr(line, '\n', (size_t)(end - line)))) {
        if (nl == line) { /* the blank line that ends a frame */
            on_frame(s, &ff, recv_ns);
            ff = (struct fields){.id = -1};
            frame = nl + 1;
        } else {
            take_line(&ff, line, nl);
        }
        line = nl + 1;
    }
    return (size_t)(frame - p);
}

/* Decoded event-stream bytes: frames straight from p when nothing is pending, else appended. */
static void
on_stream(struct sub *s, const char *p, size_t n, int64_t recv_ns)
{
    if (s->slen == 0) {
        size_t used = frames(s, p, n, recv_ns);
        p += used;
        n -= used;
        if (n == 0)
            return;
    }
    if (s->slen + n > s->scap) {
        size_t cap = s->scap ? s->scap : 4096;
        while (cap < s->slen + n)
            cap *= 2;
        char *grown = realloc(s->sbuf, cap);
        if (!grown)
            die("out of memory");
        s->sbuf = grown;
        s->scap = cap;
    }
    memcpy(s->sbuf + s->slen, p, n);
    s->slen += n;
    size_t used = frames(s, s->sbuf, s->slen, recv_ns);
    if (used) {
        memmove(s->sbuf, s->sbuf + used, s->slen - used);
        s->slen -= used;
    }
}

/* Body bytes: undo the chunked transfer coding if there is one. */
static void
on_body(struct sub *s, const char *p, size_t n, int64_t recv_ns)
{
    if (!s->chunked) {
        on_stream(s, p, n, recv_ns);
        return;
    }
    const char *end = p + n;
    while (p < end && s->state == S_STREAM) {
        switch (s->cst) {
        case C_SIZE:
            if (isxdigit((unsigned char)*p)) {
                int c = tolower((unsigned char)*p);
                s->crem = s->crem * 16 + (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
            } else if (*p == '\r') {
                s->cst = C_SIZE_LF;
            } else if (*p == ';' || *p == ' ') {
                s->cst = C_SIZE_EXT;
            } else {
                sub_close(s, "bad chunk size byte 0x%02x", (unsigned char)*p);
                return;
            }
            p++;
            break;
        case C_SIZE_EXT:
            if (*p == '\r')
                s->cst = C_SIZE_LF;
            p++;
            break;
        case C_SIZE_LF:
            if (*p != '\n') {
                sub_close(s, "bad chunk line");
                return;
            }
            p++;
            if (s->crem == 0) {
                s->cst = C_END;
                sub_close(s, "the server ended the stream (last chunk)");
                return;
            }
            s->cst = C_DATA;
            break;
        case C_DATA: {
            size_t take = (size_t)(end - p) < s->crem ? (size_t)(end - p) : (size_t)s->crem;
            on_stream(s, p, take, recv_ns);
            p += take;
            s->crem -= take;
            if (s->crem == 0)
                s->cst = C_DATA_CR;
            break;
        }
        case C_DATA_CR:
            if (*p != '\r') {
                sub_close(s, "chunk without CRLF");
                return;
            }
            s->cst = C_DATA_LF;
            p++;
            break;
        case C_DATA_LF:
            if (*p != '\n') {
                sub_close(s, "chunk without CRLF");
                return;
            }
            s->cst = C_SIZE;
            s->crem = 0;
            p++;
            break;
        case C_END:
            return;
        }
    }
}

static void
on_headers(struct sub *s, int64_t recv_ns)
{
    char *end = memmem(s->hdr, s->hdr_len, "\r\n\r\n", 4);
    if (!end) {
        if (s->hdr_len == sizeof(s->hdr))
            sub_close(s, "response headers too long");
        return;
    }
    size_t hl = (size_t)(end - s->hdr) + 4;
    char status[64];
    size_t sl = strcspn(s->hdr, "\r");
    snprintf(status, sizeof(status), "%.*s", (int)(sl < 63 ? sl : 63), s->hdr);
    if (strncmp(s->hdr, "HTTP/1.1 200", 12) != 0) {
        sub_close(s, "answered '%s' instead of 200", status);
        return;
    }
    *end = 0;
    char *ct = strcasestr(s->hdr, "\r\ncontent-type: text/event-stream");
    s->chunked = strcasestr(s->hdr, "\r\ntransfer-encoding: chunked") != NULL;
    if (!ct) {
        sub_close(s, "no Content-Type: text/event-stream");
        return;
    }
    s->state = S_STREAM;
    n_ready++;
    if (s->hdr_len > hl)
        on_body(s, s->hdr + hl, s->hdr_len - hl, recv_ns);
}

static char readbuf[1 << 16];

static void
on_event(struct sub *s, uint32_t events)
{
    if (s->state == S_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof(err);
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            sub_close(s, "connect: %s", strerror(err));
            return;
        }
        char req[1024];
        int n = snprintf(req, sizeof(req),
                         "GET /api/v1/events?include=Ping&ping=%d HTTP/1.1\r\n"
                         "Host: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                         "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n",
                         opt_keepalive, opt_port, token);
        if (write_all(s->fd, req, (size_t)n) < 0) { /* a fresh socket: it all fits */
            sub_close(s, "write: %s", strerror(errno));
            return;
        }
        s->state = S_HEADERS;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = s};
        epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
        return;
    }
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
        return;
    ssize_t r;
    if (s->state == S_HEADERS) {
        r = read(s->fd, s->hdr + s->hdr_len, sizeof(s->hdr) - s->hdr_len);
        if (r > 0) {
            s->hdr_len += (size_t)r;
            on_headers(s, REAL_NS());
            return;
        }
    } else {
        struct iovec iov = {.iov_base = readbuf, .iov_len = sizeof(readbuf)};
        char cbuf[CMSG_SPACE(sizeof(struct timespec))];
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                            .msg_controllen = sizeof(cbuf)};
        r = recvmsg(s->fd, &mh, 0);
        cur_kts = 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); r > 0 && cm; cm = CMSG_NXTHDR(&mh, cm))
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
                cur_kts = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
            }
        if (r > 0) {
            stream_reads++;
            stream_bytes += (uint64_t)r;
            on_body(s, readbuf, (size_t)r, REAL_NS());
            return;
        }
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    sub_close(s, r == 0 ? "the daemon closed the connection (EOF)" : "read: %s",
              r == 0 ? "" : strerror(errno));
}

/* Serve the subscribers for up to ms milliseconds. */
static void
pump(int ms)
{
    struct epoll_event evs[256];
    int64_t until = MONO_NS() + (int64_t)ms * 1000000;
    for (;;) {
        int64_t left = (until - MONO_NS()) / 1000000;
        if (left < 0)
            left = 0;
        int n = epoll_wait(epfd, evs, 256, (int)left);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++)
            on_event(evs[i].data.ptr, evs[i].events);
        if (left == 0)
            return;
    }
}

/* ------------------------------------------------------------ the publisher */

/* One POST on a keep-alive connection; returns the HTTP status, -1 on I/O errors. */
static int
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

struct pub_stats {
    int fd;
    int64_t batches, late, max_behind_us;
    int64_t t0_mono, t1_mono;
    int failed;
    char error[512];
};

static void *
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

/* ------------------------------------------------------------ main */

static void
usage(void)
{
    fprintf(stderr, "usage: sse_load --port P --token-file F --pid PID [--subs N] [--rate EV_PER_S]\n"
                    "                [--batch N] [--duration S] [--drain S] [--keepalive S]\n");
    exit(1);
}

static int
subs_complete(int64_t want)
{
    for (int i = 0; i < opt_subs; i++)
        if (subs[i].state == S_STREAM && (int64_t)subs[i].distinct < want)
            return 0;
    return 1;
}

int
main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (!strcmp(a, "--port"))
            opt_port = atoi(v);
        else if (!strcmp(a, "--token-file"))
            opt_token_file = v;
        else if (!strcmp(a, "--pid"))
            opt_pid = (pid_t)atoi(v);
        else if (!strcmp(a, "--subs"))
            opt_subs = atoi(v);
        else if (!strcmp(a, "--rate"))
            opt_rate = atoi(v);
        else if (!strcmp(a, "--batch"))
            opt_batch = atoi(v);
        else if (!strcmp(a, "--duration"))
            opt_duration = atoi(v);
        else if (!strcmp(a, "--drain"))
            opt_drain = atoi(v);
        else if (!strcmp(a, "--keepalive"))
            opt_keepalive = atoi(v);
        else
            usage();
        i++;
    }
    if (opt_port <= 0 || !opt_token_file || opt_pid <= 0 || opt_subs < 1 || opt_rate < 1 ||
        opt_batch < 1 || opt_duration < 1 || opt_batch > opt_rate)
        usage();
    FILE *tf = fopen(opt_token_file, "r");
    if (!tf || !fgets(token, sizeof(token), tf))
        die("cannot read the token from %s", opt_token_file);
    fclose(tf);
    token[strcspn(token, "\r\n")] = 0;

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)opt_subs + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)opt_subs + 64)
            die("the open-file limit (%lu) is below %d", (unsigned long)rl.rlim_cur, opt_subs + 64);
    }

    hist_init(&lat_send);
    hist_init(&lat_pub);
    hist_init(&lat_post);
    hist_init(&lat_wire);
    range_max = (int64_t)opt_rate * opt_duration + 1024;
    post_first_us = malloc((size_t)(range_max / opt_batch + 1) * sizeof(int64_t));
    post_last_us = malloc((size_t)(range_max / opt_batch + 1) * sizeof(int64_t));
    if (!post_first_us || !post_last_us)
        die("out of memory");
    for (int64_t i = 0; i <= range_max / opt_batch; i++)
        post_first_us[i] = post_last_us[i] = -1;
    subs = calloc((size_t)opt_subs, sizeof(*subs));
    if (!subs)
        die("out of memory");
    for (int i = 0; i < opt_subs; i++) {
        subs[i].idx = i;
        subs[i].fd = -1;
        subs[i].seen = calloc((size_t)(range_max / 8 + 1), 1);
        if (!subs[i].seen)
            die("out of memory");
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1: %s", strerror(errno));

    printf("daemon (pid %d), /proc/PID/status and CPU time (utime+stime):\n", (int)opt_pid);
    struct proc_sample p_idle = proc_sample();
    print_sample("idle, before subscribing", p_idle);

    /* 1. Subscribe, opt_connect_step connections at a time. */
    int64_t c0 = MONO_NS();
    for (int i = 0; i < opt_subs; i += opt_connect_step) {
        int hi = i + opt_connect_step < opt_subs ? i + opt_connect_step : opt_subs;
        for (int j = i; j < hi; j++)
            sub_open(&subs[j]);
        int64_t deadline = MONO_NS() + 10000000000LL;
        while (n_ready < hi && MONO_NS() < deadline) {
            int closed = 0;
            for (int j = 0; j < hi; j++)
                closed += subs[j].state == S_CLOSED;
            if (closed)
                break;
            pump(20);
        }
        if (n_ready < hi) {
            for (int j = 0; j < hi; j++)
                if (subs[j].state != S_STREAM) {
                    fprintf(stderr, "sse_load: subscriber %d: %s\n", j,
                            subs[j].state == S_CLOSED ? subs[j].why : "no answer within 10 s");
                    break;
                }
            die("only %d of %d subscribers got the stream", n_ready, hi);
        }
    }
    double connect_s = (double)(MONO_NS() - c0) / 1e9;

    /* 2. Warm-up: one ping that every subscriber must see. */
    int pfd = tcp_connect(0);
    if (pfd < 0)
        die("publisher: cannot connect: %s", strerror(errno));
    char answer[256];
    int st = post_ping(pfd, 1, "warmup", answer, sizeof(answer));
    if (st != 200)
        die("warm-up POST /api/v1/events/ping answered %d: %s", st, answer);
    int64_t w0 = MONO_NS();
    while (n_warm < opt_subs && MONO_NS() - w0 < 10000000000LL && n_open == opt_subs)
        pump(10);
    if (n_warm < opt_subs)
        die("only %d of %d subscribers saw the warm-up ping within 10 s (%d connections open)", n_warm,
            opt_subs, n_open);
    double warm_ms = (double)(MONO_NS() - w0) / 1e6;
    pump(1000); /* let it settle */
    struct proc_sample p_conn = proc_sample();
    print_sample("subscribed, idle", p_conn);

    /* 3. Publish for opt_duration seconds while serving the subscribers. */
    struct pub_stats ps = {.fd = pfd};
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    run_t0_mono = MONO_NS();
    run_t0_real = REAL_NS();
    uint64_t reads0 = stream_reads, bytes0 = stream_bytes;
    struct machine_cpu m0 = machine_cpu();
    double psi0 = psi_cpu_some_s(), dwait0 = runq_wait_s(opt_pid), swait0 = runq_wait_s(getpid());
    struct task_cpu tasks0[MAX_TASKS];
    int n_tasks0 = task_cpu(tasks0);
    pthread_t pt;
    if (pthread_create(&pt, NULL, publisher, &ps) != 0)
        die("cannot start the publisher thread");
    struct proc_sample p_max = p_conn, p_pubend = {0};
    int64_t next_sample = MONO_NS() + 1000000000;
    int64_t publish_end_mono = run_t0_mono + (int64_t)opt_duration * 1000000000;
    int joined = 0;
    while (!joined) {
        pump(50);
        if (MONO_NS() >= next_sample) {
            struct proc_sample s = proc_sample();
            if (!s.ok)
                break;
            if (s.threads > p_max.threads)
                p_max.threads = s.threads;
            if (s.rss_kb > p_max.rss_kb)
                p_max.rss_kb = s.rss_kb;
            if (s.fds > p_max.fds)
                p_max.fds = s.fds;
            p_max.hwm_kb = s.hwm_kb;
            p_max.cpu_s = s.cpu_s;
            next_sample += 1000000000;
        }
        if (MONO_NS() >= publish_end_mono) {
            /* The publisher sends its last batch at about the end; wait for it here. */
            if (pthread_tryjoin_np(pt, NULL) == 0)
                joined = 1;
        }
    }
    if (!joined)
        pthread_join(pt, NULL);
    p_pubend = proc_sample();
    int64_t total = atomic_load(&published);
    /* The last POST goes out one interval before the end of its second. */
    double pub_secs = (double)(ps.t1_mono - ps.t0_mono) / 1e9 + (double)opt_batch / opt_rate;

    /* 4. Drain: until every open subscriber has every event, or opt_drain s. */
    int64_t d0 = MONO_NS();
    while (!subs_complete(total) && MONO_NS() - d0 < (int64_t)opt_drain * 1000000000)
        pump(20);
    double drain_s = (double)(MONO_NS() - d0) / 1e9;
    getrusage(RUSAGE_SELF, &ru1);
    struct proc_sample p_drained = proc_sample();
    int64_t drained_mono = MONO_NS();
    struct machine_cpu m1 = machine_cpu();
    double psi1 = psi_cpu_some_s(), dwait1 = runq_wait_s(opt_pid), swait1 = runq_wait_s(getpid());
    struct task_cpu tasks1[MAX_TASKS];
    int n_tasks1 = task_cpu(tasks1);

    /* 5. Unsubscribe all and watch the daemon let go. */
    int still_open = n_open;
    n_dropped = opt_subs - still_open;
    for (int i = 0; i < opt_subs; i++)
        if (subs[i].state != S_CLOSED) {
            epoll_ctl(epfd, EPOLL_CTL_DEL, subs[i].fd, NULL);
            close(subs[i].fd);
            subs[i].fd = -1;
        }
    close(pfd);
    /*
     * A parked (suspended) stream is not polled by the daemon, so it sees a
     * client's close only when it resumes the stream: for the next event or
     * the keep-alive ping. Wait for its fds to come back, up to the keep-alive
     * interval twice + 5 s (the first ping after the close still goes
     * out; the second one fails), and say how long that took.
     */
    int64_t u0 = MONO_NS();
    struct proc_sample p_closed = proc_sample();
    while (p_closed.ok && p_closed.fds > p_idle.fds + 2 &&
           MONO_NS() - u0 < (int64_t)(2 * opt_keepalive + 5) * 1000000000) {
        usleep(250000);
        p_closed = proc_sample();
    }
    double release_s = (double)(MONO_NS() - u0) / 1e9;
    usleep(500000);
    p_closed = proc_sample();

    print_sample("publishing (max over 1 s samples)", p_max);
    print_sample("publishing ended", p_pubend);
    print_sample("drained", p_drained);
    char closed_label[64];
    snprintf(closed_label, sizeof(closed_label), "all closed, fds back (%.1f s)", release_s);
    print_sample(closed_label, p_closed);
    double cpu_run = p_drained.cpu_s - p_conn.cpu_s;
    double run_wall = (double)(drained_mono - run_t0_mono) / 1e9;
    double self_cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
                               ru0.ru_stime.tv_sec) +
                      (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
                               ru0.ru_stime.tv_usec) /
                          1e6;
    printf("  daemon CPU while publishing+draining: %.2f s in %.1f s wall = %.0f%% of one CPU;"
           " this load generator: %.2f s (%.0f%%)\n",
           cpu_run, run_wall, run_wall > 0 ? 100 * cpu_run / run_wall : 0, self_cpu,
           run_wall > 0 ? 100 * self_cpu / run_wall : 0);
    for (int i = 0; i < n_tasks1; i++)
        for (int j = 0; j < n_tasks0; j++)
            if (tasks0[j].tid == tasks1[i].tid) {
                tasks1[i].cpu_s -= tasks0[j].cpu_s;
                break;
            }
    qsort(tasks1, (size_t)n_tasks1, sizeof(tasks1[0]), cmp_task_desc);
    printf("  daemon CPU by thread (s):");
    for (int i = 0; i < n_tasks1; i++)
        printf(" %.2f", tasks1[i].cpu_s);
    printf("\n");
    double m_busy = m1.busy_s - m0.busy_s, m_total = m1.total_s - m0.total_s;
    double others = m_busy - cpu_run - self_cpu;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("  machine: %ld CPUs %.0f%% busy during the run; other processes used %.2f s (%.0f%% of one"
           " CPU)\n",
           ncpu, m_total > 0 ? 100 * m_busy / m_total : 0, others > 0 ? others : 0,
           run_wall > 0 && others > 0 ? 100 * others / run_wall : 0);
    double psi_pct = psi0 >= 0 && run_wall > 0 ? 100 * (psi1 - psi0) / run_wall : -1;
    printf("  waiting for a CPU: the daemon's threads %.2f s in all, this load generator's %.2f s;"
           " some task on the machine was waiting %.0f%% of the time (PSI cpu some)\n",
           dwait1 - dwait0, swait1 - swait0, psi_pct);
    printf("\n");

    /* 6. Tally. */
    uint64_t lost = 0, dups = 0, reordered = 0, foreign = 0, keepalives = 0, datalost = 0, other = 0,
             delivered = 0;
    int subs_lossy = 0, subs_dup = 0, subs_dl = 0;
    uint64_t max_lost = 0;
    for (int i = 0; i < opt_subs; i++) {
        struct sub *s = &subs[i];
        uint64_t l = (uint64_t)total > s->distinct ? (uint64_t)total - s->distinct : 0;
        lost += l;
        if (l) {
            subs_lossy++;
            if (l > max_lost)
                max_lost = l;
        }
        dups += s->dups;
        subs_dup += s->dups > 0;
        reordered += s->reordered;
        foreign += s->foreign;
        keepalives += s->keepalives;
        datalost += s->datalost;
        subs_dl += s->datalost > 0;
        other += s->other;
        delivered += s->distinct;
    }
    printf("subscribers: %d connected in %.2f s, all saw the warm-up ping within %.1f ms; "
           "%d still open at the end, %d dropped during the run; the daemon let go of the closed"
           " streams in %.1f s\n",
           opt_subs, connect_s, warm_ms, still_open, n_dropped, release_s);
    int shown = 0;
    for (int i = 0; i < opt_subs && shown < 5; i++)
        if (subs[i].why[0]) {
            printf("  subscriber %d closed at +%.2f s: %s\n", i,
                   (double)(subs[i].closed_ns - run_t0_mono) / 1e9, subs[i].why);
            shown++;
        }
    printf("publisher: %" PRId64 " events in %" PRId64 " POSTs of %d over %.2f s = %.0f events/s "
           "(goal %d/s); %" PRId64 " POSTs sent more than 1 ms late (at most %.1f ms behind);"
           " POST round trip p50 %.2f ms p99 %.2f ms max %.2f ms\n",
           total, ps.batches, opt_batch, pub_secs, pub_secs > 0 ? (double)total / pub_secs : 0,
           opt_rate, ps.late, ps.max_behind_us / 1000.0, hist_q(&lat_post, 0.5),
           hist_q(&lat_post, 0.99), lat_post.max_us / 1000.0);
    if (ps.failed)
        printf("publisher FAILED: %s\n", ps.error);
    printf("delivery: %" PRIu64 " of %" PRId64 " expected (%d x %" PRId64 "); lost %" PRIu64
           " (%d subscribers lost some, at most %" PRIu64 " each); duplicates %" PRIu64
           " (%d subscribers); out of order %" PRIu64 "; DataLost frames %" PRIu64
           " (%d subscribers); keep-alive pings %" PRIu64 "; other frames %" PRIu64 " + %" PRIu64
           "; drain after the last POST %.3f s\n",
           delivered, total * opt_subs, opt_subs, total, lost, subs_lossy, max_lost, dups, subs_dup,
           reordered, datalost, subs_dl, keepalives, other, foreign, drain_s);
    uint64_t reads = stream_reads - reads0, bytes = stream_bytes - bytes0;
    printf("reads: %" PRIu64 " (%.2f per subscriber per POST), %.0f bytes and %.1f events each on"
           " average; %.1f MB/s received\n",
           reads, ps.batches ? (double)reads / opt_subs / (double)ps.batches : 0,
           reads ? (double)bytes / (double)reads : 0,
           reads ? (double)delivered / (double)reads : 0, run_wall > 0 ? bytes / run_wall / 1e6 : 0);
    printf("latency, send -> received (%" PRIu64 " deliveries): p50 %.2f ms  p90 %.2f ms  p99 %.2f ms"
           "  p99.9 %.2f ms  max %.2f ms  mean %.2f ms\n",
           lat_send.n, hist_q(&lat_send, 0.5), hist_q(&lat_send, 0.9), hist_q(&lat_send, 0.99),
           hist_q(&lat_send, 0.999), lat_send.max_us / 1000.0,
           lat_send.n ? lat_send.sum_us / (double)lat_send.n / 1000.0 : 0);
    if (lat_wire.n)
        printf("  of which the daemon's part, send -> written to the socket (kernel receive"
               " timestamp): p50 %.2f ms  p99 %.2f ms  max %.2f ms; the rest is the load generator"
               " waiting for a CPU or reading\n",
               hist_q(&lat_wire, 0.5), hist_q(&lat_wire, 0.99), lat_wire.max_us / 1000.0);
    /* Where the time goes: the first subscriber to get a POST's events, the last, and per subscriber. */
    {
        size_t nb = 0, np = (size_t)(total / opt_batch);
        int64_t *first = malloc((np + 1) * sizeof(int64_t)), *last = malloc((np + 1) * sizeof(int64_t));
        int64_t *spread = malloc((np + 1) * sizeof(int64_t));
        int64_t *smax = malloc((size_t)opt_subs * sizeof(int64_t));
        int64_t *sslow = malloc((size_t)opt_subs * sizeof(int64_t));
        if (!first || !last || !spread || !smax || !sslow)
            die("out of memory");
        for (size_t b = 0; b < np; b++)
            if (post_first_us[b] >= 0) {
                first[nb] = post_first_us[b];
                last[nb] = post_last_us[b];
                spread[nb] = post_last_us[b] - post_first_us[b];
                nb++;
            }
        int slow_subs = 0;
        for (int i = 0; i < opt_subs; i++) {
            smax[i] = subs[i].max_us;
            sslow[i] = (int64_t)subs[i].slow;
            slow_subs += subs[i].slow > 0;
        }
        printf("by POST (%zu): first subscriber got it after p50 %.2f / p99 %.2f / max %.2f ms;",
               nb, quantile_i64(first, nb, 0.5) / 1000.0, quantile_i64(first, nb, 0.99) / 1000.0,
               quantile_i64(first, nb, 1.0) / 1000.0);
        printf(" last after p50 %.2f / p99 %.2f / max %.2f ms; first to last p50 %.2f / p99 %.2f ms\n",
               quantile_i64(last, nb, 0.5) / 1000.0, quantile_i64(last, nb, 0.99) / 1000.0,
               quantile_i64(last, nb, 1.0) / 1000.0, quantile_i64(spread, nb, 0.5) / 1000.0,
               quantile_i64(spread, nb, 0.99) / 1000.0);
        printf("by subscriber: worst latency min %.1f / median %.1f / max %.1f ms; %d of %d had a"
               " delivery over 50 ms; deliveries over 50 ms per subscriber min %" PRId64
               " / median %" PRId64 " / max %" PRId64 "\n",
               quantile_i64(smax, (size_t)opt_subs, 0.0) / 1000.0,
               quantile_i64(smax, (size_t)opt_subs, 0.5) / 1000.0,
               quantile_i64(smax, (size_t)opt_subs, 1.0) / 1000.0, slow_subs, opt_subs,
               quantile_i64(sslow, (size_t)opt_subs, 0.0), quantile_i64(sslow, (size_t)opt_subs, 0.5),
               quantile_i64(sslow, (size_t)opt_subs, 1.0));
        free(first);
        free(last);
        free(spread);
        free(smax);
        free(sslow);
    }
    int secs = opt_duration < SECS_MAX ? opt_duration : SECS_MAX;
    printf("max latency (ms) by second of the run:");
    for (int i = 0; i < secs; i++)
        printf(" %.0f", sec_max_us[i] / 1000.0);
    printf("\ndeliveries over 50 ms by second:");
    for (int i = 0; i < secs; i++)
        printf(" %" PRIu64, sec_slow[i]);
    printf("\n");
    printf("latency, publish time (event \"time\", ms precision) -> received: p50 %.1f ms  p99 %.1f ms"
           "  max %.1f ms\n",
           hist_q(&lat_pub, 0.5), hist_q(&lat_pub, 0.99), lat_pub.max_us / 1000.0);
    printf("STATS subs=%d open_end=%d dropped=%d published=%" PRId64 " rate=%.0f delivered=%" PRIu64
           " lost=%" PRIu64 " lossy_subs=%d dup=%" PRIu64 " reordered=%" PRIu64 " datalost=%" PRIu64
           " p50_ms=%.2f p99_ms=%.2f max_ms=%.2f post_p99_ms=%.2f threads_idle=%ld threads_subscribed=%ld"
           " threads_max=%ld threads_closed=%ld rss_idle_mib=%.1f rss_subscribed_mib=%.1f"
           " rss_max_mib=%.1f rss_closed_mib=%.1f hwm_mib=%.1f cpu_s=%.2f cpu_pct=%.0f"
           " client_cpu_pct=%.0f publisher_failed=%d release_s=%.1f machine_busy_pct=%.0f others_cpu_pct=%.0f daemon_p50_ms=%.2f daemon_p99_ms=%.2f"
           " daemon_wait_s=%.2f client_wait_s=%.2f psi_some_pct=%.0f\n",
           opt_subs, still_open, n_dropped, total, pub_secs > 0 ? (double)total / pub_secs : 0,
           delivered, lost, subs_lossy, dups, reordered, datalost, hist_q(&lat_send, 0.5),
           hist_q(&lat_send, 0.99), lat_send.max_us / 1000.0, hist_q(&lat_post, 0.99), p_idle.threads,
           p_conn.threads, p_max.threads, p_closed.threads, p_idle.rss_kb / 1024.0,
           p_conn.rss_kb / 1024.0, p_max.rss_kb / 1024.0, p_closed.rss_kb / 1024.0,
           p_closed.hwm_kb / 1024.0, cpu_run, run_wall > 0 ? 100 * cpu_run / run_wall : 0,
           run_wall > 0 ? 100 * self_cpu / run_wall : 0, ps.failed, release_s,
           m_total > 0 ? 100 * m_busy / m_total : 0,
           run_wall > 0 && others > 0 ? 100 * others / run_wall : 0, hist_q(&lat_wire, 0.5),
           hist_q(&lat_wire, 0.99), dwait1 - dwait0, swait1 - swait0, psi_pct);
    return 0;
}
