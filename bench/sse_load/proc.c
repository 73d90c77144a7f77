/* SPDX-License-Identifier: MIT */
/*
 * What sse_load reads of the daemon and the machine from /proc: the
 * daemon's threads, memory, open fds and CPU time (status, stat, fd), the
 * CPU time of each of its threads, the time threads spent waiting for a CPU
 * (schedstat), the machine's CPU time (/proc/stat) and pressure (PSI). They
 * tell a slow daemon from one that was not let run on a shared machine.
 */
#include "sse_load.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ the daemon's /proc */

struct proc_sample
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

void
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
struct machine_cpu
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

/* Sums the second field of schedstat: time runnable but waiting for a CPU. */
double
runq_wait_s(pid_t pid)
{
    double sum = 0;
    each_task(pid, "schedstat", add_wait, &sum);
    return sum;
}

/* The machine's CPU pressure: seconds during which some task waited for a CPU (PSI), or -1. */
double
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

int
task_cpu(struct task_cpu *out)
{
    struct task_list l = {out, 0};
    each_task(opt_pid, "stat", add_task, &l);
    return l.n;
}

int
cmp_task_desc(const void *a, const void *b)
{
    double x = ((const struct task_cpu *)a)->cpu_s, y = ((const struct task_cpu *)b)->cpu_s;
    return x < y ? 1 : x > y ? -1 : 0;
}
