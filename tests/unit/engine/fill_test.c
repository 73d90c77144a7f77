/* SPDX-License-Identifier: MIT */
/*
 * Tests of batched fills (engine/fill.c) through engine_int.h, over a temp
 * data directory and an fs share on a temp directory (//srv/docs): a batch
 * larger than one flush commits every file, each readable offline with its
 * bytes; a file written offline while its fetched content waits in a batch
 * keeps the offline change (the fill reports a conflict and its content is
 * dropped), while the rest of the batch commits; nothing is left behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_int.h"
#include "test_util.h"
#include "log.h"

#define USER "alice"

struct fixture {
    char base[64];
    char data[128];
    char root[128];
    struct of_engine *eng;
};

struct results {
    int ok, conflicts, other;
    char last_conflict[OF_PATH_MAX + 1];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    UT_ENGINE_SETUP(f, "fill-test");
    ut_share_add(f->eng, "docs", f->root, OF_CACHING_MANUAL, NULL);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    ut_engine_teardown(f->eng, f->base);
    free(f);
    return 0;
}

static void
put_host(const struct fixture *f, const char *rel, const char *data)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", f->root, rel);
    ut_write_file(p, data);
}

static void
count(void *ctx, const char *path, int rc, const struct of_error *err)
{
    struct results *r = ctx;
    (void)err;
    if (rc == 0) {
        r->ok++;
    } else if (rc == OF_E(CONFLICT)) {
        r->conflicts++;
        snprintf(r->last_conflict, sizeof(r->last_conflict), "%s", path);
    } else {
        r->other++;
        print_error("fill of %s: %d %s\n", path, rc, err ? err->detail : "");
    }
}

static void
assert_reads(struct fixture *f, const char *path, const char *want)
{
    struct of_file_read rd;
    struct of_error err = {0};
    if (of_engine_file_open(f->eng, path, USER, &rd, &err) != 0)
        fail_msg("open %s: %s", path, err.detail);
    char buf[256];
    ssize_t n = read(rd.fd, buf, sizeof(buf) - 1);
    close(rd.fd);
    assert_true(n >= 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

/* Content files in the store (not temp files): what rows may name. */
static int
content_files(const struct fixture *f)
{
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/cache/content", f->data);
    return ut_bucket_files(dir, 0);
}

static void
test_a_batch_larger_than_one_flush_commits_every_file(void **state)
{
    struct fixture *f = *state;
    enum { FILES = 300 }; /* more than one batch of 256 */
    char rel[32], text[32], path[64];
    for (int i = 0; i < FILES; i++) {
        snprintf(rel, sizeof(rel), "f%03d.txt", i);
        snprintf(text, sizeof(text), "file %03d", i);
        put_host(f, rel, text);
    }
    struct results r = {0};
    struct fill_batch *b = engine_fill_batch_new(f->eng, count, &r);
    assert_non_null(b);
    for (int i = 0; i < FILES; i++) {
        snprintf(path, sizeof(path), "//srv/docs/f%03d.txt", i);
        engine_fill(b, path);
    }
    /* Batches settled on their own before the last flush (at 256 files, or sooner on time). */
    assert_true(r.ok > 0);
    engine_fill_batch_free(b);
    assert_int_equal(r.ok, FILES);
    assert_int_equal(r.conflicts + r.other, 0);
    assert_int_equal(content_files(f), FILES);
    assert_int_equal(of_engine_connection_set(f->eng, "srv", "docs", 0, NULL), 0);
    for (int i = 0; i < FILES; i += 37) {
        snprintf(path, sizeof(path), "//srv/docs/f%03d.txt", i);
        snprintf(text, sizeof(text), "file %03d", i);
        assert_reads(f, path, text);
    }
}

static void
test_a_file_written_offline_while_its_fill_waits_keeps_the_offline_change(void **state)
{
    struct fixture *f = *state;
    put_host(f, "a.txt", "server a");
    put_host(f, "b.txt", "server b");
    struct results r = {0};
    struct fill_batch *b = engine_fill_batch_new(f->eng, count, &r);
    assert_non_null(b);
    engine_fill(b, "//srv/docs/a.txt");
    engine_fill(b, "//srv/docs/b.txt");
    assert_int_equal(r.ok + r.conflicts + r.other, 0); /* both wait in the batch */
    /* Meanwhile a.txt is written offline: a dirty change the fill must not replace. */
    assert_int_equal(of_engine_connection_set(f->eng, "srv", "docs", 0, NULL), 0);
    struct of_content_tmp *up = NULL;
    assert_int_equal(of_engine_upload_new(f->eng, &up, NULL), 0);
    assert_int_equal(of_content_tmp_write(up, "mine", 4, NULL), 0);
    struct of_write_result res;
    assert_int_equal(
        of_engine_file_write(f->eng, "//srv/docs/a.txt", USER, up, NULL, NULL, &res, NULL), 0);
    of_content_tmp_free(up);
    assert_true(res.stored_offline);
    engine_fill_batch_free(b);
    assert_int_equal(r.ok, 1);
    assert_int_equal(r.conflicts, 1);
    assert_string_equal(r.last_conflict, "//srv/docs/a.txt");
    assert_int_equal(r.other, 0);
    assert_reads(f, "//srv/docs/a.txt", "mine");
    assert_reads(f, "//srv/docs/b.txt", "server b");
    /* a's fetched copy went again: only a's change and b remain. */
    assert_int_equal(content_files(f), 2);
}

int
main(void)
{
    of_log_set_level(OF_LOG_WARN);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_batch_larger_than_one_flush_commits_every_file),
        T(test_a_file_written_offline_while_its_fill_waits_keeps_the_offline_change),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
