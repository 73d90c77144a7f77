/* SPDX-License-Identifier: MIT */
/*
 * Tests of API tokens through engine.h (engine/tokens.c): a new token and
 * the check that finds its user, unknown or altered tokens, bad user names,
 * and the admin token file that bootstrap writes once, with mode 0600. Over
 * engine_fixture.c: a temp data directory and the fs share //srv/docs on a
 * temp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_fixture.h"
#include "log.h"

/* ---- tokens ---- */

static void
test_token_create_then_check_finds_the_user(void **state)
{
    struct fixture *f = *state;
    char alice[OF_TOKEN_MAX], root[OF_TOKEN_MAX];
    assert_int_equal(of_engine_token_create(f->eng, "alice", 0, alice, NULL), 0);
    assert_int_equal(of_engine_token_create(f->eng, "root", 1, root, NULL), 0);
    assert_int_equal(strncmp(alice, "of_", 3), 0);
    assert_int_equal(strlen(alice), 3 + 64);
    assert_string_not_equal(alice, root);
    struct of_principal who;
    assert_int_equal(of_engine_token_check(f->eng, alice, &who, NULL), 0);
    assert_string_equal(who.user, "alice");
    assert_int_equal(who.admin, 0);
    assert_int_equal(of_engine_token_check(f->eng, root, &who, NULL), 0);
    assert_string_equal(who.user, "root");
    assert_int_equal(who.admin, 1);
}

static void
test_token_check_of_unknown_or_altered_token_is_unauthorized(void **state)
{
    struct fixture *f = *state;
    char tok[OF_TOKEN_MAX], altered[OF_TOKEN_MAX], longer[200];
    assert_int_equal(of_engine_token_create(f->eng, "alice", 1, tok, NULL), 0);
    memcpy(altered, tok, sizeof(tok));
    altered[10] = altered[10] == 'a' ? 'b' : 'a';
    snprintf(longer, sizeof(longer), "%s%s", tok, tok);
    const char *const bad[] = {NULL, "", "of_", altered, longer};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct of_principal who = {.user = "untouched", .admin = 7};
        struct of_error err = {0};
        assert_int_equal(of_engine_token_check(f->eng, bad[i], &who, &err), OF_E(UNAUTHORIZED));
        assert_int_equal(err.code, OF_E(UNAUTHORIZED));
        assert_string_equal(who.user, "untouched");
        assert_int_equal(who.admin, 7);
    }
}

static void
test_token_create_refuses_bad_user_names(void **state)
{
    struct fixture *f = *state;
    char u63[64], u64[65];
    memset(u63, 'u', 63);
    u63[63] = '\0';
    memset(u64, 'u', 64);
    u64[64] = '\0';
    const char *const bad[] = {"", "a b", "tab\there", "del\x7f", u64};
    char tok[OF_TOKEN_MAX] = "untouched";
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct of_error err = {0};
        assert_int_equal(of_engine_token_create(f->eng, bad[i], 0, tok, &err), OF_E(BAD_FIELD));
        assert_int_equal(err.code, OF_E(BAD_FIELD));
        assert_string_equal(tok, "untouched");
    }
    assert_int_equal(of_engine_token_create(f->eng, u63, 0, tok, NULL), 0);
    struct of_principal who;
    assert_int_equal(of_engine_token_check(f->eng, tok, &who, NULL), 0);
    assert_string_equal(who.user, u63);
}

static void
read_text(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

static void
test_token_bootstrap_writes_an_admin_token_file_once_with_mode_0600(void **state)
{
    struct fixture *f = *state;
    char path[512], want[256];
    snprintf(want, sizeof(want), "%s/admin.token", f->data);
    assert_int_equal(of_engine_token_bootstrap(f->eng, path, sizeof(path), NULL), 1);
    assert_string_equal(path, want);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0600);
    char text[256];
    read_text(path, text, sizeof(text));
    size_t len = strlen(text);
    assert_true(len > 4 && text[len - 1] == '\n');
    text[len - 1] = '\0';
    struct of_principal who;
    assert_int_equal(of_engine_token_check(f->eng, text, &who, NULL), 0);
    assert_string_equal(who.user, "admin");
    assert_int_equal(who.admin, 1);

    /* Only once: neither a second call nor a reopen makes another. */
    char again[512] = "untouched", text2[256];
    assert_int_equal(of_engine_token_bootstrap(f->eng, again, sizeof(again), NULL), 0);
    reopen(f);
    assert_int_equal(of_engine_token_bootstrap(f->eng, again, sizeof(again), NULL), 0);
    read_text(want, text2, sizeof(text2));
    text2[strcspn(text2, "\n")] = '\0';
    assert_string_equal(text2, text);
    assert_int_equal(of_engine_token_check(f->eng, text, &who, NULL), 0);
    /* No temp file left behind in the data directory. */
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s/.admin.token.tmp", f->data);
    assert_int_equal(access(tmp, F_OK), -1);
}

static void
test_token_bootstrap_does_nothing_when_tokens_exist(void **state)
{
    struct fixture *f = *state;
    char tok[OF_TOKEN_MAX], path[512];
    assert_int_equal(of_engine_token_create(f->eng, "alice", 0, tok, NULL), 0);
    assert_int_equal(of_engine_token_bootstrap(f->eng, path, sizeof(path), NULL), 0);
    char file[512];
    snprintf(file, sizeof(file), "%s/admin.token", f->data);
    assert_int_equal(access(file, F_OK), -1);
}

int
main(void)
{
    of_log_set_level(OF_LOG_ERROR);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_token_create_then_check_finds_the_user),
        T(test_token_check_of_unknown_or_altered_token_is_unauthorized),
        T(test_token_create_refuses_bad_user_names),
        T(test_token_bootstrap_writes_an_admin_token_file_once_with_mode_0600),
        T(test_token_bootstrap_does_nothing_when_tokens_exist),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
