/* SPDX-License-Identifier: MIT */
/* Helpers every unit test links: see test_util.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_util.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void
ut_engine_setup(const char *tag, char *base, size_t base_cap, char *data, size_t data_cap,
                char *root, size_t root_cap, struct of_engine **ret_eng)
{
    assert_true((size_t)snprintf(base, base_cap, "/tmp/of-%s-XXXXXX", tag) < base_cap);
    assert_non_null(mkdtemp(base));
    assert_true((size_t)snprintf(data, data_cap, "%s/data", base) < data_cap);
    assert_true((size_t)snprintf(root, root_cap, "%s/share", base) < root_cap);
    assert_int_equal(mkdir(root, 0755), 0);
    struct of_engine_config cfg = {.data_dir = data};
    assert_int_equal(of_engine_open(&cfg, ret_eng, NULL), 0);
}

void
ut_engine_teardown(struct of_engine *eng, const char *base)
{
    of_engine_free(eng);
    ut_rm_rf(base);
}

void
ut_share_add(struct of_engine *eng, const char *share, const char *dir, enum of_caching_mode mode,
             struct of_share_view *ret_view)
{
    struct of_share_rec rec = {0};
    struct of_error err = {0};
    snprintf(rec.server, sizeof(rec.server), "srv");
    snprintf(rec.share, sizeof(rec.share), "%s", share);
    snprintf(rec.remote, sizeof(rec.remote), "file://%s", dir);
    rec.caching_mode = mode;
    if (of_engine_share_add(eng, &rec, ret_view, &err) != 0)
        fail_msg("share_add //srv/%s: %s", share, err.detail);
}

void
ut_write_file(const char *path, const char *data)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(data, fp);
    assert_int_equal(fclose(fp), 0);
}

/* Entries of dir whose names start with "t-" (temp) or not (content); 0 if no dir. */
static int
count_kind(const char *dir, int temp)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    for (struct dirent *de; (de = readdir(d));)
        n += de->d_name[0] != '.' && (strncmp(de->d_name, "t-", 2) == 0) == temp;
    closedir(d);
    return n;
}

int
ut_bucket_files(const char *content_dir, int temp)
{
    DIR *d = opendir(content_dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s/%s", content_dir, de->d_name);
        n += count_kind(sub, temp);
    }
    closedir(d);
    return n;
}
