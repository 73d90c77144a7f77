/* SPDX-License-Identifier: MIT */
/* The log sink: one line per message on stderr, written with one fputs. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static volatile int threshold = OF_LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

void
of_log_set_level(enum of_log_level level)
{
    threshold = (int)level;
}

int
of_log_parse_level(const char *name, enum of_log_level *ret_level)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) == 0) {
            *ret_level = (enum of_log_level)i;
            return 0;
        }
    }
    return -1;
}

int
of_log_enabled(enum of_log_level level)
{
    return (int)level <= threshold;
}

void
of_log(enum of_log_level level, const char *fmt, ...)
{
    if (!of_log_enabled(level))
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %-5s ", ts.tv_nsec / 1000000,
                          names[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    /* One write per line so lines from threads do not interleave. */
    size_t len = strlen(line);
    if (len + 1 < sizeof(line)) {
        line[len] = '\n';
        line[len + 1] = '\0';
    }
    fputs(line, stderr);
}
