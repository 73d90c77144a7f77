/* SPDX-License-Identifier: MIT */
/*
 * The fs backend tests' fixture, shared by every fs_*_test.c: a fresh share
 * under /tmp and a sibling "outside" directory (holding secret.txt) that the
 * backend must never reach, the backend opened on the share (setup/teardown,
 * for cmocka; teardown also fails the test if a file descriptor leaked); the
 * share's files as the host sees them; and calls through the backend vtable
 * that check what they report. The helpers assert as they go, so a failed
 * step fails the test.
 */
#ifndef OF_TESTS_FS_FIXTURE_H
#define OF_TESTS_FS_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

struct fixture {
    char base[64];    /* mkdtemp'ed; holds the two below */
    char root[96];    /* the share */
    char outside[96]; /* next to the share, never to be touched */
    struct of_backend *be;
    int fds; /* open descriptors at setup: none may leak */
};

/* Collects what a read streams; fail_with makes the sink stop the transfer. */
struct buf {
    char *data;
    size_t len;
    int calls;
    int fail_with;
};

/* A new fixture in *state; teardown checks for leaked descriptors, then removes it all. */
int setup(void **state);
int teardown(void **state);

/* ---- the share, seen directly ---- */

/* The host path of rel (relative to the share) into out, PATH_MAX bytes. */
void host(const struct fixture *f, const char *rel, char *out);
/* Create the share's file rel with content, its directory rel, its symlink rel to target. */
void put_file(const struct fixture *f, const char *rel, const char *content);
void put_dir(const struct fixture *f, const char *rel);
void put_link(const struct fixture *f, const char *rel, const char *target);
/* The host file's content, or "<missing>". Static storage: one at a time. */
const char *content(const struct fixture *f, const char *rel);
/* rel exists on the share (a symlink counts, whatever it points to). */
int exists(const struct fixture *f, const char *rel);
/* Entries named like the backend's temp files in host directory dir. */
int temp_files(const char *dir);

/* ---- the backend ---- */

/* Write data (a string) to rel from a memfd whose offset is left at its end; checks reterr. */
int write_str(const struct fixture *f, const char *rel, const char *data, const char *if_match,
              struct of_stat *ret_st);
/* Read len bytes (-1: to the end) of rel from off into b. */
int read_all(const struct fixture *f, const char *rel, int64_t off, int64_t len, struct buf *b,
             struct of_stat *ret_st);
/* Stat rel; a failure's code must be in reterr, and its detail must not show the host path. */
int stat_of(const struct fixture *f, const char *rel, struct of_stat *st);

#endif
