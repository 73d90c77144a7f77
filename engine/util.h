/* SPDX-License-Identifier: MIT */
/*
 * Small helpers shared by engine modules: time, durable file I/O, hex.
 * No state; all functions are thread-safe.
 */
#ifndef OF_UTIL_H
#define OF_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Wall-clock time in ns since the epoch. */
int64_t of_now_ns(void);
/* *ts = now + ms on CLOCK_REALTIME: the deadline pthread_cond_timedwait takes. */
struct timespec;
void of_deadline_ms(struct timespec *ts, long ms);

/* RFC 3339 UTC with milliseconds ("2026-11-24T10:15:30.123Z") into buf (>= 32 bytes). */
void of_time_format(int64_t ns, char *buf, size_t cap);
/* Parse RFC 3339 ("...Z" or "+hh:mm", optional fraction) or a bare date; 0 or -1. */
int of_time_parse(const char *s, int64_t *ret_ns);

/* write(2) until done or error; 0 or -errno. */
int of_write_all(int fd, const void *buf, size_t len);
/* pread until len bytes or EOF; returns bytes read or -errno. */
ssize_t of_pread_full(int fd, void *buf, size_t len, off_t off);
/* fsync the directory at path so a rename in it is durable; 0 or -errno. */
int of_fsync_dir(const char *path);
/* mkdir -p with mode; 0 or -errno. */
int of_mkdir_p(const char *path, unsigned int mode);

/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void of_hex(const unsigned char *in, size_t len, char *out);
/* Fill buf with len random bytes from the kernel; 0 or -errno. */
int of_random(void *buf, size_t len);

/* Name the calling thread (at most 15 characters) as top -H, perf and gdb show it. */
void of_thread_name(const char *name);

/* strtoll of a whole string; 0 or -1 if s is not entirely a number. */
int of_parse_i64(const char *s, int64_t *ret);

#endif
