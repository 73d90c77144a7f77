/* SPDX-License-Identifier: MIT */
/*
 * Real WebDAV servers for the integration tests: Apache httpd with mod_dav
 * and mod_dav_fs, and nginx with its dav module and dav-ext (Debian packages
 * apache2, nginx-light, libnginx-mod-http-dav-ext). Each server runs as a
 * child process group on a free 127.0.0.1 port, with its config, logs, lock
 * database and served directory in a temp tree of its own, so tests run in
 * parallel. The collection is http://127.0.0.1:PORT/dav/, served from
 * dav->dir. Servers can require basic auth and throttle their replies, and
 * can be killed and started again on the same port and directory. nginx
 * can also serve https with a self-signed certificate of its own.
 */
#ifndef OF_IT_DAV_H
#define OF_IT_DAV_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum it_dav_kind { IT_DAV_APACHE = 0, IT_DAV_NGINX, IT_DAV__COUNT };

struct it_dav {
    enum it_dav_kind kind;
    char root[PATH_MAX]; /* the temp tree: config, logs, locks, served files */
    char dir[PATH_MAX];  /* the served directory: dir/REL is URL/REL */
    char url[96];        /* "http://127.0.0.1:PORT/dav" (no trailing slash); https with tls */
    char cert[PATH_MAX]; /* with tls: the server's self-signed certificate (PEM), a CA file */
    uint16_t port;
    pid_t pid; /* leader of the server's process group; 0 when stopped */
    /* Settings read at each start: */
    const char *user, *password; /* require basic auth when user is set */
    long rate_kib;               /* throttle replies to this many KiB/s; 0: no limit */
    int tls;                     /* serve https (nginx only) */
    int digest;                  /* with user: digest auth instead of basic (Apache only) */
    int no_ranges;               /* ignore Range headers: whole files, 200 (Apache only) */
};

/* "apache" or "nginx". */
const char *it_dav_name(enum it_dav_kind kind);

/* 1 when the server's binary and modules are installed. */
int it_dav_available(enum it_dav_kind kind);

/*
 * Make dav's temp tree (tag names it) and start the server of kind on a free
 * port; the settings (user ... no_ranges) as set in *dav before the call
 * (the rest is overwritten). Waits until the server answers. Returns 0, or -1 with the
 * reason printed (and the server's error log).
 */
int it_dav_start(struct it_dav *dav, enum it_dav_kind kind, const char *tag);

/* Start the server again on the same port and directory with dav's current settings. */
int it_dav_restart(struct it_dav *dav);

/* Kill the whole server (SIGKILL to its process group) and reap it. */
void it_dav_kill(struct it_dav *dav);

/* Kill the server and remove its temp tree; NULL-safe. */
void it_dav_free(struct it_dav *dav);

/*
 * Create or replace the served file REL (parents made) with len bytes, so
 * that the server can read, replace and delete it. Returns 0 or -1.
 */
int it_dav_put_file(const struct it_dav *dav, const char *rel, const void *data, size_t len);

/* Make directory REL (and parents) in the served tree; 0 or -1. */
int it_dav_mkdir(const struct it_dav *dav, const char *rel);

/* The served file REL, NUL-terminated and malloc'ed (length in *ret_len); NULL if absent. */
char *it_dav_read_file(const struct it_dav *dav, const char *rel, size_t *ret_len);

/* The host path of REL in the served tree into buf (PATH_MAX bytes). */
void it_dav_path(const struct it_dav *dav, const char *rel, char *buf);

/*
 * LOCK the served REL as another client would (exclusive write lock, 60 s;
 * Apache): its lock token, "<opaquelocktoken:...>", into tok (cap bytes).
 * Returns 0 or -1.
 */
int it_dav_lock(const struct it_dav *dav, const char *rel, char *tok, size_t cap);

/* UNLOCK REL with the token it_dav_lock gave; 0 or -1. */
int it_dav_unlock(const struct it_dav *dav, const char *rel, const char *tok);

/* Print the tail of the server's error log to stderr (diagnostics). */
void it_dav_dump_log(const struct it_dav *dav);

#endif
