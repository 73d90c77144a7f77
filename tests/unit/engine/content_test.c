/* SPDX-License-Identifier: MIT */
/*
 * Tests of engine/content.c through content.h: temp files hashed as they are
 * written (checked against published SHA-256 vectors), finishing, installing
 * under fresh names, what freeing does before and after an install, reading
 * and removing stored content, batched installs made durable by one sync,
 * and the start-up collection of orphans. Each test gets a fresh content
 * store in its own temp directory; the tests of temp files run both with
 * unnamed temp files (O_TMPFILE) and with named ones (the fallback).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content.h"
#include "test_util.h"
#include "log.h"

struct fixture {
    char dir[64];
    struct of_content *cs;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/of-content-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(of_content_open(f->dir, &f->cs, NULL), 0);
    *state = f;
    return 0;
}

/* The same, with named temp files ("t-NAME" in the bucket), as without O_TMPFILE. */
static int
setup_named(void **state)
{
    setup(state);
    struct fixture *f = *state;
    of_content_use_named_temps(f->cs);
    return 0;
}

static int named_temps(struct fixture *f);

static int
teardown(void **state)
{
    struct fixture *f = *state;
    of_content_free(f->cs);
    ut_rm_rf(f->dir);
    free(f);
    return 0;
}

/* Entries (not dot files) in dir; -1 when it cannot be opened. */
static int
count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *de; (de = readdir(d));)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Files across every DIR/content/xx/ directory: named temp files, or content. */
static int
bucket_files(const struct fixture *f, int temp)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/content", f->dir);
    return ut_bucket_files(p, temp);
}

/* Temp files: named ones in the buckets, and any in DIR/tmp (older versions kept them there). */
static int
tmp_files(const struct fixture *f)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/tmp", f->dir);
    int legacy = count_entries(p);
    return (legacy > 0 ? legacy : 0) + bucket_files(f, 1);
}

static int
content_files(const struct fixture *f)
{
    return bucket_files(f, 0);
}

/* Does this fixture give temp files names? (Only a named one can be counted.) */
static int
named_temps(struct fixture *f)
{
    struct of_content_tmp *t = NULL;
    assert_int_equal(of_content_tmp_new(f->cs, &t, NULL), 0);
    int named = tmp_files(f) == 1;
    of_content_tmp_free(t);
    return named;
}

/* A finished temp file holding data. */
static struct of_content_tmp *
tmp_with(struct fixture *f, const char *data)
{
    struct of_content_tmp *tmp = NULL;
    assert_int_equal(of_content_tmp_new(f->cs, &tmp, NULL), 0);
    assert_non_null(tmp);
    assert_int_equal(of_content_tmp_write(tmp, data, strlen(data), NULL), 0);
    return tmp;
}

/* Install data and return its name in name (OF_CONTENT_NAME_MAX). */
static void
install(struct fixture *f, const char *data, char *name)
{
    struct of_content_tmp *tmp = tmp_with(f, data);
    assert_int_equal(of_content_tmp_install(tmp, name, NULL), 0);
    of_content_tmp_free(tmp);
}

/* The whole content of stored name, NUL-terminated, into buf. */
static void
read_stored(struct fixture *f, const char *name, char *buf, size_t cap)
{
    int fd = -1;
    assert_int_equal(of_content_open_read(f->cs, name, &fd, NULL), 0);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, cap - 1);
    assert_true(n >= 0);
    buf[n] = '\0';
    close(fd);
}

static void
test_open_creates_the_content_directory(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(of_content_dir(f->cs), f->dir);
    const char *const subs[] = {"content"};
    for (size_t i = 0; i < 1; i++) {
        char p[PATH_MAX];
        struct stat sb;
        snprintf(p, sizeof(p), "%s/%s", f->dir, subs[i]);
        assert_int_equal(stat(p, &sb), 0);
        assert_true(S_ISDIR(sb.st_mode));
        assert_int_equal(sb.st_mode & 0777, 0700);
    }
    assert_int_equal(tmp_files(f), 0);
    assert_int_equal(content_files(f), 0);
}

static void
test_open_creates_missing_parent_directories(void **state)
{
    struct fixture *f = *state;
    char deep[128];
    snprintf(deep, sizeof(deep), "%s/a/b/cache", f->dir);
    struct of_content *cs = NULL;
    assert_int_equal(of_content_open(deep, &cs, NULL), 0);
    char p[256];
    snprintf(p, sizeof(p), "%s/content", deep);
    assert_int_equal(count_entries(p), 0);
    of_content_free(cs);
    of_content_free(NULL);
}

struct hash_case {
    const char *data;
    size_t chunk; /* write in pieces of this size; 0: all at once */
    const char *sha256;
};

/* FIPS 180-2 examples and the empty string. */
static const struct hash_case hash_cases[] = {
    {"", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", 0, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 0,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 5,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"hello world", 3, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"},
};

static void
test_tmp_hash_and_size_match_known_sha256_vectors(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(hash_cases) / sizeof(hash_cases[0]); i++) {
        const struct hash_case *c = &hash_cases[i];
        struct of_content_tmp *tmp = NULL;
        assert_int_equal(of_content_tmp_new(f->cs, &tmp, NULL), 0);
        assert_int_equal(of_content_tmp_size(tmp), 0);
        size_t len = strlen(c->data), step = c->chunk ? c->chunk : len;
        for (size_t off = 0; off < len; off += step) {
            size_t n = len - off < step ? len - off : step;
            assert_int_equal(of_content_tmp_write(tmp, c->data + off, n, NULL), 0);
            assert_int_equal(of_content_tmp_size(tmp), (int64_t)(off + n));
        }
        char hash[OF_HASH_HEX];
        assert_int_equal(of_content_tmp_finish(tmp, hash, NULL), 0);
        if (strcmp(hash, c->sha256) != 0)
            fail_msg("'%s' in chunks of %zu: got %s, want %s", c->data, c->chunk, hash, c->sha256);
        assert_int_equal(of_content_tmp_size(tmp), (int64_t)len);
        /* The temp file itself holds the bytes. */
        char back[128] = "";
        assert_int_equal(pread(of_content_tmp_fd(tmp), back, sizeof(back), 0), (ssize_t)len);
        assert_memory_equal(back, c->data, len);
        of_content_tmp_free(tmp);
    }
}

static void
test_million_a_written_in_chunks_hashes_to_the_fips_vector(void **state)
{
    struct fixture *f = *state;
    char chunk[4099];
    memset(chunk, 'a', sizeof(chunk));
    struct of_content_tmp *tmp = NULL;
    assert_int_equal(of_content_tmp_new(f->cs, &tmp, NULL), 0);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
        assert_int_equal(of_content_tmp_write(tmp, chunk, n, NULL), 0);
        left -= n;
    }
    char hash[OF_HASH_HEX];
    assert_int_equal(of_content_tmp_finish(tmp, hash, NULL), 0);
    assert_string_equal(hash, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    assert_int_equal(of_content_tmp_size(tmp), 1000000);
    struct stat sb;
    assert_int_equal(fstat(of_content_tmp_fd(tmp), &sb), 0);
    assert_int_equal(sb.st_size, 1000000);
    of_content_tmp_free(tmp);
}

static void
test_finish_is_idempotent_and_refuses_further_writes(void **state)
{
    struct fixture *f = *state;
    struct of_content_tmp *tmp = tmp_with(f, "abc");
    char first[OF_HASH_HEX], second[OF_HASH_HEX];
    assert_int_equal(of_content_tmp_finish(tmp, first, NULL), 0);
    assert_int_equal(of_content_tmp_finish(tmp, NULL, NULL), 0);
    assert_int_equal(of_content_tmp_finish(tmp, second, NULL), 0);
    assert_string_equal(first, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(second, first);
    struct of_error err = {0};
    assert_true(of_content_tmp_write(tmp, "more", 4, &err) < 0);
    assert_true(err.code < 0);
    assert_int_equal(of_content_tmp_size(tmp), 3);
    assert_int_equal(of_content_tmp_finish(tmp, second, NULL), 0);
    assert_string_equal(second, first);
    of_content_tmp_free(tmp);
}

static int
is_lower_hex(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

static void
test_named_temp_files_are_visible_until_freed(void **state)
{
    struct fixture *f = *state;
    assert_true(named_temps(f));
    assert_int_equal(tmp_files(f), 0);
}

static void
test_install_gives_a_new_unique_name_each_time(void **state)
{
    struct fixture *f = *state;
    char names[3][OF_CONTENT_NAME_MAX];
    /* Same bytes every time: names are never derived from content, never reused. */
    for (int i = 0; i < 3; i++) {
        memset(names[i], 'X', sizeof(names[i]));
        install(f, "same bytes", names[i]);
        size_t len = strnlen(names[i], OF_CONTENT_NAME_MAX);
        assert_true(len >= 3 && len < OF_CONTENT_NAME_MAX);
        assert_null(strchr(names[i], '/'));
        assert_true(is_lower_hex(names[i]));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(names[i], names[j]);
    }
    assert_int_equal(content_files(f), 3);
    assert_int_equal(tmp_files(f), 0);
}

static void
test_installed_file_has_the_bytes_under_content_xx_name(void **state)
{
    struct fixture *f = *state;
    char name[OF_CONTENT_NAME_MAX];
    install(f, "abc", name);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/content/%.2s/%s", f->dir, name, name);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_size, 3);
    char buf[16];
    read_stored(f, name, buf, sizeof(buf));
    assert_string_equal(buf, "abc");
}

static void
test_install_finishes_the_tmp_and_its_fd_still_reads_the_content(void **state)
{
    struct fixture *f = *state;
    struct of_content_tmp *tmp = tmp_with(f, "hello world");
    char name[OF_CONTENT_NAME_MAX], hash[OF_HASH_HEX];
    assert_int_equal(of_content_tmp_install(tmp, name, NULL), 0);
    assert_int_equal(of_content_tmp_finish(tmp, hash, NULL), 0);
    assert_string_equal(hash, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
    assert_true(of_content_tmp_write(tmp, "x", 1, NULL) < 0);
    char buf[32] = "";
    assert_int_equal(pread(of_content_tmp_fd(tmp), buf, sizeof(buf) - 1, 0), 11);
    assert_string_equal(buf, "hello world");
    assert_int_equal(tmp_files(f), 0);
    of_content_tmp_free(tmp);
}

static void
test_free_after_install_does_not_unlink_the_content(void **state)
{
    struct fixture *f = *state;
    struct of_content_tmp *tmp = tmp_with(f, "keep me");
    char name[OF_CONTENT_NAME_MAX];
    assert_int_equal(of_content_tmp_install(tmp, name, NULL), 0);
    of_content_tmp_free(tmp);
    char buf[16];
    read_stored(f, name, buf, sizeof(buf));
    assert_string_equal(buf, "keep me");
    assert_int_equal(content_files(f), 1);
}

static void
test_free_without_install_unlinks_the_temp_file(void **state)
{
    struct fixture *f = *state;
    int named = named_temps(f);
    struct of_content_tmp *a = tmp_with(f, "dropped");
    struct of_content_tmp *b = NULL;
    assert_int_equal(of_content_tmp_new(f->cs, &b, NULL), 0);
    /* An unnamed temp file is never visible; a named one is, until it is freed. */
    assert_int_equal(tmp_files(f), named ? 2 : 0);
    assert_int_equal(content_files(f), 0);
    char hash[OF_HASH_HEX];
    assert_int_equal(of_content_tmp_finish(a, hash, NULL), 0);
    of_content_tmp_free(a);
    assert_int_equal(tmp_files(f), named ? 1 : 0);
    of_content_tmp_free(b);
    assert_int_equal(tmp_files(f), 0);
    assert_int_equal(content_files(f), 0);
    of_content_tmp_free(NULL);
}

static void
test_open_read_of_missing_or_malformed_name_fails(void **state)
{
    struct fixture *f = *state;
    char name[OF_CONTENT_NAME_MAX];
    install(f, "abc", name);
    const char *const bad[] = {"", "00000000000000000000000000000000", "../tmp", "ab/cd"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int fd = -7;
        struct of_error err = {0};
        int rc = of_content_open_read(f->cs, bad[i], &fd, &err);
        if (rc >= 0 || fd != -7 || err.code != rc)
            fail_msg("open_read('%s'): rc %d fd %d code %d", bad[i], rc, fd, err.code);
    }
}

static void
test_remove_unlinks_and_a_missing_file_is_fine(void **state)
{
    struct fixture *f = *state;
    char a[OF_CONTENT_NAME_MAX], b[OF_CONTENT_NAME_MAX];
    install(f, "a", a);
    install(f, "b", b);
    assert_int_equal(of_content_remove(f->cs, a), 0);
    int fd = -1;
    assert_true(of_content_open_read(f->cs, a, &fd, NULL) < 0);
    assert_int_equal(of_content_remove(f->cs, a), 0);
    assert_int_equal(of_content_remove(f->cs, "ffffffffffffffffffffffffffffffff"), 0);
    char buf[4];
    read_stored(f, b, buf, sizeof(buf));
    assert_string_equal(buf, "b");
    assert_int_equal(content_files(f), 1);
}

struct live {
    const char *names[4];
    int asked;
};

static int
is_live(void *ctx, const char *name)
{
    struct live *l = ctx;
    l->asked++;
    for (size_t i = 0; i < 4 && l->names[i]; i++)
        if (strcmp(l->names[i], name) == 0)
            return 1;
    return 0;
}

/* A file left by a crash: in DIR/tmp (older versions), or a named temp in a bucket. */
static void
stray_tmp(struct fixture *f, const char *where, const char *leaf)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", f->dir, where);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/%s/%s", f->dir, where, leaf);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "junk", 4), 4);
    close(fd);
}

static void
test_collect_removes_orphans_and_temp_files_but_keeps_live_names(void **state)
{
    struct fixture *f = *state;
    char a[OF_CONTENT_NAME_MAX], b[OF_CONTENT_NAME_MAX], c[OF_CONTENT_NAME_MAX];
    install(f, "alpha", a);
    install(f, "beta", b);
    install(f, "gamma", c);
    stray_tmp(f, "tmp", "0123456789abcdef01234567");
    stray_tmp(f, "tmp", "leftover");
    stray_tmp(f, "content/ab", "t-ab0123456789abcdef0123456789ab");
    struct live l = {{a, c, NULL}, 0};

    assert_int_equal(of_content_collect(f->cs, is_live, &l), 4);
    assert_int_equal(l.asked, 3); /* asked about stored content, not temp files */
    char buf[16];
    read_stored(f, a, buf, sizeof(buf));
    assert_string_equal(buf, "alpha");
    read_stored(f, c, buf, sizeof(buf));
    assert_string_equal(buf, "gamma");
    int fd = -1;
    assert_true(of_content_open_read(f->cs, b, &fd, NULL) < 0);
    assert_int_equal(tmp_files(f), 0);
    assert_int_equal(content_files(f), 2);

    /* Nothing left to collect. */
    assert_int_equal(of_content_collect(f->cs, is_live, &l), 0);
    assert_int_equal(content_files(f), 2);
}

static void
test_batched_content_is_readable_after_one_sync(void **state)
{
    struct fixture *f = *state;
    char names[8][OF_CONTENT_NAME_MAX], hash[OF_HASH_HEX];
    for (int i = 0; i < 8; i++) {
        struct of_content_tmp *t = NULL;
        assert_int_equal(of_content_tmp_new_batched(f->cs, &t, NULL), 0);
        assert_int_equal(of_content_tmp_write(t, "abc", 3, NULL), 0);
        assert_int_equal(of_content_tmp_finish(t, hash, NULL), 0);
        assert_string_equal(hash,
                            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_int_equal(of_content_tmp_install(t, names[i], NULL), 0);
        assert_true(of_content_tmp_install(t, names[i], NULL) < 0); /* once only */
        of_content_tmp_free(t);
    }
    assert_int_equal(of_content_sync(f->cs, NULL), 0);
    assert_int_equal(content_files(f), 8);
    assert_int_equal(tmp_files(f), 0);
    char buf[8];
    for (int i = 0; i < 8; i++) {
        read_stored(f, names[i], buf, sizeof(buf));
        assert_string_equal(buf, "abc");
    }
}

/* A batched file larger than the writeback step: its bytes and hash are whole. */
static void
test_batched_large_content_keeps_every_byte(void **state)
{
    struct fixture *f = *state;
    enum { CHUNK = 1 << 16, CHUNKS = 200 }; /* 12.5 MiB: past one writeback kick */
    char *buf = malloc(CHUNK);
    assert_non_null(buf);
    struct of_content_tmp *t = NULL;
    assert_int_equal(of_content_tmp_new_batched(f->cs, &t, NULL), 0);
    for (int i = 0; i < CHUNKS; i++) {
        memset(buf, 'a' + i % 26, CHUNK);
        assert_int_equal(of_content_tmp_write(t, buf, CHUNK, NULL), 0);
    }
    char name[OF_CONTENT_NAME_MAX];
    assert_int_equal(of_content_tmp_install(t, name, NULL), 0);
    of_content_tmp_free(t);
    assert_int_equal(of_content_sync(f->cs, NULL), 0);
    int fd = -1;
    assert_int_equal(of_content_open_read(f->cs, name, &fd, NULL), 0);
    for (int i = 0; i < CHUNKS; i++) {
        assert_int_equal(read(fd, buf, CHUNK), CHUNK);
        assert_true(buf[0] == 'a' + i % 26 && buf[CHUNK - 1] == 'a' + i % 26);
    }
    assert_int_equal(read(fd, buf, 1), 0);
    close(fd);
    free(buf);
}

int
main(void)
{
    of_log_set_level(OF_LOG_WARN);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define N(name) cmocka_unit_test_setup_teardown(name, setup_named, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_creates_the_content_directory),
        T(test_open_creates_missing_parent_directories),
        T(test_tmp_hash_and_size_match_known_sha256_vectors),
        T(test_million_a_written_in_chunks_hashes_to_the_fips_vector),
        T(test_finish_is_idempotent_and_refuses_further_writes),
        T(test_install_gives_a_new_unique_name_each_time),
        T(test_installed_file_has_the_bytes_under_content_xx_name),
        T(test_install_finishes_the_tmp_and_its_fd_still_reads_the_content),
        T(test_free_after_install_does_not_unlink_the_content),
        T(test_free_without_install_unlinks_the_temp_file),
        T(test_open_read_of_missing_or_malformed_name_fails),
        T(test_remove_unlinks_and_a_missing_file_is_fine),
        T(test_collect_removes_orphans_and_temp_files_but_keeps_live_names),
        T(test_batched_content_is_readable_after_one_sync),
        T(test_batched_large_content_keeps_every_byte),
        /* The same with named temp files. */
        N(test_named_temp_files_are_visible_until_freed),
        N(test_install_gives_a_new_unique_name_each_time),
        N(test_install_finishes_the_tmp_and_its_fd_still_reads_the_content),
        N(test_free_after_install_does_not_unlink_the_content),
        N(test_free_without_install_unlinks_the_temp_file),
        N(test_collect_removes_orphans_and_temp_files_but_keeps_live_names),
        N(test_batched_content_is_readable_after_one_sync),
    };
#undef T
#undef N
    return cmocka_run_group_tests(tests, NULL, NULL);
}
