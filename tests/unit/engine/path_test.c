/* SPDX-License-Identifier: MIT */
/*
 * Table-driven tests of engine/path.c: which UNC and share-relative paths are
 * valid (segments, UTF-8, lengths), and how paths are split, climbed, named
 * and compared.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "path.h"

#define A10 "aaaaaaaaaa"
#define A50 A10 A10 A10 A10 A10
#define A250 A50 A50 A50 A50 A50
#define A255 A250 "aaaaa"
#define A256 A255 "a"

struct validate_case {
    const char *path;
    int want; /* the segment count, or the negative error */
};

static const struct validate_case full_cases[] = {
    /* Valid: a server, a share, items below it. */
    {"//srv", 1},
    {"//srv/share", 2},
    {"//srv/share/a/b.txt", 4},
    {"//srv/share/...", 3},
    {"//srv/share/.hidden", 3},
    {"//srv/share/a b~!@#$%^&()[]{}", 3},
    {"//srv/share/caf\xc3\xa9", 3},              /* 2-byte UTF-8 */
    {"//srv/share/\xe6\x97\xa5\xe6\x9c\xac", 3}, /* 3-byte */
    {"//srv/share/\xf0\x9f\x98\x80", 3},         /* 4-byte */
    {"//srv/share/\xef\xbf\xbf", 3},             /* U+FFFF */
    {"//srv/share/\xf4\x8f\xbf\xbf", 3},         /* U+10FFFF, the last code point */
    {"//srv/share/" A255, 3},                    /* longest segment */
    {"//" A255 "/" A255, 2},
    /* Not a UNC path at all. */
    {NULL, OF_E(BAD_PATH)},
    {"", OF_E(BAD_PATH)},
    {"/", OF_E(BAD_PATH)},
    {"//", OF_E(BAD_PATH)},
    {"/srv/share", OF_E(BAD_PATH)},
    {"srv/share", OF_E(BAD_PATH)},
    {"\\\\srv\\share", OF_E(BAD_PATH)},
    /* Empty segments, trailing slashes. */
    {"///srv", OF_E(BAD_PATH)},
    {"//srv/", OF_E(BAD_PATH)},
    {"//srv/share/", OF_E(BAD_PATH)},
    {"//srv//share", OF_E(BAD_PATH)},
    {"//srv/share//a", OF_E(BAD_PATH)},
    /* Dot segments. */
    {"//./share", OF_E(BAD_PATH)},
    {"//../share", OF_E(BAD_PATH)},
    {"//srv/.", OF_E(BAD_PATH)},
    {"//srv/..", OF_E(BAD_PATH)},
    {"//srv/share/.", OF_E(BAD_PATH)},
    {"//srv/share/..", OF_E(BAD_PATH)},
    {"//srv/share/a/../b", OF_E(BAD_PATH)},
    {"//srv/share/a/./b", OF_E(BAD_PATH)},
    /* Control bytes and backslashes. */
    {"//srv/share/a\\b", OF_E(BAD_PATH)},
    {"//srv/share/\x01", OF_E(BAD_PATH)},
    {"//srv/share/a\tb", OF_E(BAD_PATH)},
    {"//srv/share/a\nb", OF_E(BAD_PATH)},
    {"//srv/share/\x1f", OF_E(BAD_PATH)},
    {"//srv/share/\x7f", OF_E(BAD_PATH)},
    {"//sr\x1bv/share", OF_E(BAD_PATH)},
    /* Invalid UTF-8. */
    {"//srv/share/\x80", OF_E(BAD_PATH)}, /* lone continuation byte */
    {"//srv/share/\xbf", OF_E(BAD_PATH)},
    {"//srv/share/caf\xc3", OF_E(BAD_PATH)},   /* truncated at the end */
    {"//srv/share/caf\xc3/x", OF_E(BAD_PATH)}, /* truncated by the slash */
    {"//srv/share/\xc3(", OF_E(BAD_PATH)},     /* bad continuation */
    {"//srv/share/\xe6\x97", OF_E(BAD_PATH)},
    {"//srv/share/\xf0\x9f\x98", OF_E(BAD_PATH)},
    {"//srv/share/\xed\xa0\x80", OF_E(BAD_PATH)}, /* UTF-16 surrogate */
    {"//srv/share/\xed\xbf\xbf", OF_E(BAD_PATH)},
    {"//srv/share/\xf4\x90\x80\x80", OF_E(BAD_PATH)}, /* past U+10FFFF */
    {"//srv/share/\xf5\x80\x80\x80", OF_E(BAD_PATH)},
    {"//srv/share/\xf8\x88\x80\x80\x80", OF_E(BAD_PATH)}, /* 5-byte form */
    {"//srv/share/\xfe", OF_E(BAD_PATH)},
    {"//srv/share/\xff", OF_E(BAD_PATH)},
    /* Overlong encodings: '/', '.', NUL and the smallest of each length. */
    {"//srv/share/\xc0\xaf", OF_E(BAD_PATH)},
    {"//srv/share/\xc0\xae\xc0\xae", OF_E(BAD_PATH)},
    {"//srv/share/a\xc0\x80", OF_E(BAD_PATH)},
    {"//srv/share/\xc1\xbf", OF_E(BAD_PATH)},
    {"//srv/share/\xe0\x80\xaf", OF_E(BAD_PATH)},
    {"//srv/share/\xe0\x9f\xbf", OF_E(BAD_PATH)},
    {"//srv/share/\xf0\x80\x80\xaf", OF_E(BAD_PATH)},
    {"//srv/share/\xf0\x8f\xbf\xbf", OF_E(BAD_PATH)},
    /* Segment length. */
    {"//srv/share/" A256, OF_E(BAD_PATH)},
    {"//" A256 "/share", OF_E(BAD_PATH)},
    {"//srv/share/" A250 "aaaa\xc3\xa9", OF_E(BAD_PATH)}, /* 256 bytes, 255 characters */
};

static const struct validate_case rel_cases[] = {
    {"", 0},
    {"a", 1},
    {"a/b/c.txt", 3},
    {"...", 1},
    {".a/b.", 2},
    {"caf\xc3\xa9/\xf0\x9f\x98\x80", 2},
    {A255, 1},
    {NULL, OF_E(BAD_PATH)},
    {"/", OF_E(BAD_PATH)},
    {"/a", OF_E(BAD_PATH)},
    {"a/", OF_E(BAD_PATH)},
    {"a//b", OF_E(BAD_PATH)},
    {".", OF_E(BAD_PATH)},
    {"..", OF_E(BAD_PATH)},
    {"../a", OF_E(BAD_PATH)},
    {"a/..", OF_E(BAD_PATH)},
    {"a/./b", OF_E(BAD_PATH)},
    {"a\\b", OF_E(BAD_PATH)},
    {"a\x01", OF_E(BAD_PATH)},
    {"\xc0\xaf", OF_E(BAD_PATH)},
    {"a/\xff", OF_E(BAD_PATH)},
    {A256, OF_E(BAD_PATH)},
};

static void
check_validate(int (*fn)(const char *, struct of_error *), const struct validate_case *cases,
               size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct of_error err = {0};
        int got = fn(cases[i].path, &err);
        if (got != cases[i].want)
            fail_msg("case %zu (\"%.40s\"): got %d, want %d", i,
                     cases[i].path ? cases[i].path : "(null)", got, cases[i].want);
        /* A failure explains itself; a success leaves reterr alone. */
        if (got < 0) {
            assert_int_equal(err.code, got);
            assert_true(err.detail[0] != '\0');
        } else {
            assert_int_equal(err.code, 0);
        }
        assert_int_equal(fn(cases[i].path, NULL), cases[i].want);
    }
}

static void
test_validate_accepts_good_paths_and_rejects_bad_ones(void **state)
{
    (void)state;
    check_validate(of_path_validate, full_cases, sizeof(full_cases) / sizeof(full_cases[0]));
}

static void
test_validate_rel_accepts_good_paths_and_rejects_bad_ones(void **state)
{
    (void)state;
    check_validate(of_path_validate_rel, rel_cases, sizeof(rel_cases) / sizeof(rel_cases[0]));
}

/* "//srv/share/aaa.../aaa..." of exactly len bytes, in segments of at most 100. */
static void
make_long(char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len + 1, "//srv/share");
    while (n < len) {
        buf[n++] = '/';
        for (size_t k = 0; k < 100 && n < len; k++)
            buf[n++] = 'x';
    }
    buf[len] = '\0';
    /* Never end on a slash: that would be an empty segment, not a long path. */
    if (buf[len - 1] == '/')
        buf[len - 1] = 'x';
}

static void
test_validate_allows_4096_bytes_and_no_more(void **state)
{
    (void)state;
    char buf[OF_PATH_MAX + 64];
    struct of_error err = {0};
    make_long(buf, OF_PATH_MAX);
    assert_int_equal(strlen(buf), OF_PATH_MAX);
    assert_true(of_path_validate(buf, NULL) > 2);
    make_long(buf, OF_PATH_MAX + 1);
    assert_int_equal(of_path_validate(buf, &err), OF_E(TOO_LONG));
    assert_int_equal(err.code, OF_E(TOO_LONG));
    make_long(buf, OF_PATH_MAX + 50);
    assert_int_equal(of_path_validate(buf, NULL), OF_E(TOO_LONG));
    /* The same cap for share-relative paths: "aaa.../aaa..." of 4097, then 4096 bytes. */
    memset(buf, 'a', OF_PATH_MAX + 1);
    for (size_t i = 100; i < OF_PATH_MAX; i += 101)
        buf[i] = '/';
    buf[OF_PATH_MAX + 1] = '\0';
    assert_int_equal(of_path_validate_rel(buf, NULL), OF_E(TOO_LONG));
    buf[OF_PATH_MAX] = '\0';
    assert_true(of_path_validate_rel(buf, NULL) > 0);
}

static void
test_segment_check_judges_one_segment(void **state)
{
    (void)state;
    static const struct {
        const char *seg;
        size_t len;
        int want;
    } cases[] = {
        {"abc", 3, 0},
        {"...", 3, 0},
        {"caf\xc3\xa9", 5, 0},
        {"abc", 2, 0}, /* only len bytes count */
        {"", 0, OF_E(BAD_PATH)},
        {".", 1, OF_E(BAD_PATH)},
        {"..", 2, OF_E(BAD_PATH)},
        {"a/b", 3, OF_E(BAD_PATH)},
        {"a\\b", 3, OF_E(BAD_PATH)},
        {"a\0b", 3, OF_E(BAD_PATH)},
        {"caf\xc3\xa9", 4, OF_E(BAD_PATH)}, /* cut inside a character */
        {A255, 255, 0},
        {A256, 256, OF_E(BAD_PATH)},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (of_path_segment_check(cases[i].seg, cases[i].len) != cases[i].want)
            fail_msg("case %zu: got %d, want %d", i,
                     of_path_segment_check(cases[i].seg, cases[i].len), cases[i].want);
}

static void
test_split_yields_server_share_and_rest(void **state)
{
    (void)state;
    static const struct {
        const char *path, *server, *share, *rel;
    } cases[] = {
        {"//srv", "srv", "", ""},
        {"//srv/share", "srv", "share", ""},
        {"//srv/share/a", "srv", "share", "a"},
        {"//srv/share/a/b/c.txt", "srv", "share", "a/b/c.txt"},
        {"//" A255 "/" A255 "/x", A255, A255, "x"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char server[OF_SEGMENT_MAX + 1], share[OF_SEGMENT_MAX + 1];
        const char *rel = NULL;
        assert_int_equal(of_path_split(cases[i].path, server, share, &rel), 0);
        assert_string_equal(server, cases[i].server);
        assert_string_equal(share, cases[i].share);
        assert_string_equal(rel, cases[i].rel);
        /* rel points into the path itself. */
        assert_ptr_equal(rel, cases[i].path + strlen(cases[i].path) - strlen(cases[i].rel));
        assert_int_equal(of_path_split(cases[i].path, server, share, NULL), 0);
    }
}

static void
test_split_rejects_invalid_paths(void **state)
{
    (void)state;
    static const char *bad[] = {"", "//", "/srv/share", "//srv/../x", "//srv/share/", "a/b"};
    char server[OF_SEGMENT_MAX + 1], share[OF_SEGMENT_MAX + 1];
    const char *rel = "untouched";
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(of_path_split(bad[i], server, share, &rel), OF_E(BAD_PATH));
    assert_string_equal(rel, "untouched");
}

static void
test_parent_climbs_one_segment_and_stops_at_the_server(void **state)
{
    (void)state;
    static const struct {
        const char *path, *want;
    } cases[] = {
        {"//srv/share/a/b.txt", "//srv/share/a"},
        {"//srv/share/a", "//srv/share"},
        {"//srv/share", "//srv"},
    };
    char buf[OF_PATH_MAX + 1];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(of_path_parent(cases[i].path, buf, sizeof(buf)), 0);
        assert_string_equal(buf, cases[i].want);
    }
    assert_int_equal(of_path_parent("//srv", buf, sizeof(buf)), OF_E(NOT_FOUND));
}

static void
test_parent_respects_the_buffer_size(void **state)
{
    (void)state;
    char buf[16];
    memset(buf, '#', sizeof(buf));
    assert_int_equal(of_path_parent("//srv/share/a", buf, 11), OF_E(TOO_LONG));
    assert_int_equal(buf[0], '#');
    assert_int_equal(of_path_parent("//srv/share/a", buf, 12), 0);
    assert_string_equal(buf, "//srv/share");
}

static void
test_name_is_the_last_segment(void **state)
{
    (void)state;
    static const struct {
        const char *path, *want;
    } cases[] = {
        {"//srv/share/a/b.txt", "b.txt"},
        {"//srv/share", "share"},
        {"//srv", "srv"},
        {"a/b", "b"},
        {"a", "a"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(of_path_name(cases[i].path), cases[i].want);
}

static void
test_is_under_matches_whole_segments_only(void **state)
{
    (void)state;
    static const struct {
        const char *path, *root;
        int want;
    } cases[] = {
        {"//srv/share", "//srv/share", 1},     {"//srv/share/a", "//srv/share", 1},
        {"//srv/share/a/b", "//srv/share", 1}, {"//srv/share/a/b", "//srv/share/a", 1},
        {"//srv/share", "//srv", 1},           {"//srv/shared", "//srv/share", 0},
        {"//srv/share2/a", "//srv/share", 0},  {"//srv", "//srv/share", 0},
        {"//srv/other", "//srv/share", 0},     {"//srvx/share", "//srv", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (of_path_is_under(cases[i].path, cases[i].root) != cases[i].want)
            fail_msg("case %zu: \"%s\" under \"%s\" should be %d", i, cases[i].path, cases[i].root,
                     cases[i].want);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_accepts_good_paths_and_rejects_bad_ones),
        cmocka_unit_test(test_validate_rel_accepts_good_paths_and_rejects_bad_ones),
        cmocka_unit_test(test_validate_allows_4096_bytes_and_no_more),
        cmocka_unit_test(test_segment_check_judges_one_segment),
        cmocka_unit_test(test_split_yields_server_share_and_rest),
        cmocka_unit_test(test_split_rejects_invalid_paths),
        cmocka_unit_test(test_parent_climbs_one_segment_and_stops_at_the_server),
        cmocka_unit_test(test_parent_respects_the_buffer_size),
        cmocka_unit_test(test_name_is_the_last_segment),
        cmocka_unit_test(test_is_under_matches_whole_segments_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
