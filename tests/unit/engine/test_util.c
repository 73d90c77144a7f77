/* SPDX-License-Identifier: MIT */
/* Helpers every unit test links: see test_util.h. */
#include "test_util.h"

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void
ut_rm_rf(const char *path)
{
    /* Depth first, so each directory is empty by the time it is removed. */
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
