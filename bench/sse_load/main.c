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
 *
 * This file runs the phases (subscribe, warm up, publish, drain, close) and
 * prints the report; the parts it drives are listed in sse_load.h.
 */
#include "sse_load.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

/* ------------------------------------------------------------ main */

static int n_dropped; /* subscribers that closed before the end */

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
