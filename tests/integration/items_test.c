/* SPDX-License-Identifier: MIT */
/*
 * /api/v1/items over HTTP: the exact shape of an item, FindItem on servers,
 * shares, directories and files, and enumeration with under and depth, type,
 * flags and mask, include and exclude patterns, a modification-time window,
 * and limit/cursor pages.
 *
 * The fixture is an auto-caching share with this tree, listed so that the
 * cache knows every entry, a.txt read (cached), d/new.txt written offline:
 *   a.txt (2020-01-01)  b.log (2022-06-01)  d/ (2019-01-01)
 *   d/c.txt (2021-01-01)  d/e.log (2018-01-01)  d/new.txt (now, created offline)
 *   x/ (2023-01-01)
 */
#include "harness.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static time_t
utc(int y, int mo, int d)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
    return timegm(&tm);
}

static int
set_mtime(const struct it_env *env, const char *rel, time_t t)
{
    char path[PATH_MAX];
    it_share_file(env, rel, path);
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

static int
status_of(struct it_response *r)
{
    long st = r->status;
    if (st >= 300)
        fprintf(stderr, "fixture: %s answered %ld: %s\n", r->what, st, r->body);
    it_response_free(r);
    return (int)st;
}

static int
setup_tree(void **state)
{
    /* No background sync: the offline-created d/new.txt must stay dirty for the tests. */
    struct it_env *env = it_env_new_cfg("items", "auto", "{\"backgroundSync\": false}");
    *state = env;
    if (!env)
        return -1;
    char path[PATH_MAX];
    static const char *const files[] = {"a.txt", "b.log", "d/c.txt", "d/e.log"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        it_share_file(env, files[i], path);
        if (it_write_file(path, "0123456789", 10) < 0)
            return -1;
    }
    it_share_file(env, "x", path);
    if (mkdir(path, 0700) < 0)
        return -1;
    if (set_mtime(env, "a.txt", utc(2020, 1, 1)) || set_mtime(env, "b.log", utc(2022, 6, 1)) ||
        set_mtime(env, "d/c.txt", utc(2021, 1, 1)) || set_mtime(env, "d/e.log", utc(2018, 1, 1)) ||
        set_mtime(env, "d", utc(2019, 1, 1)) || set_mtime(env, "x", utc(2023, 1, 1)))
        return -1;
    if (status_of(it_get(&env->d, "/api/v1/files/srv/s")) != 200 ||
        status_of(it_get(&env->d, "/api/v1/files/srv/s/d")) != 200 ||
        status_of(it_get(&env->d, "/api/v1/files/srv/s/x")) != 200 ||
        status_of(it_get(&env->d, "/api/v1/files/srv/s/a.txt")) != 200 ||
        it_share_set_online(&env->d, "srv", "s", 0) != 200 ||
        status_of(it_put(&env->d, "/api/v1/files/srv/s/d/new.txt", "new", 3)) != 201 ||
        it_share_set_online(&env->d, "srv", "s", 1) != 200)
        return -1;
    return 0;
}

/* Append s to the NUL-terminated text in buf (cap bytes), with a space between words. */
static void
append(char *buf, size_t cap, const char *s)
{
    size_t len = strlen(buf);
    int n = snprintf(buf + len, cap - len, "%s%s", len ? " " : "", s);
    assert_true(n >= 0 && (size_t)n < cap - len);
}

/* The items' paths relative to //srv/s/ ("//srv/s" itself as "."), space separated. */
static char *
names(json_t *items)
{
    size_t cap = 64;
    for (size_t i = 0; i < json_array_size(items); i++)
        cap += strlen(json_string_value(it_jget(json_array_get(items, i), "path"))) + 1;
    char *out = calloc(1, cap);
    assert_non_null(out);
    for (size_t i = 0; i < json_array_size(items); i++) {
        const char *p = json_string_value(it_jget(json_array_get(items, i), "path"));
        assert_non_null(p);
        if (strncmp(p, "//srv/s/", 8) == 0)
            p += 8;
        else if (strcmp(p, "//srv/s") == 0)
            p = ".";
        append(out, cap, p);
    }
    return out;
}

/* GET /api/v1/items?QUERY, asserting 200, and the names of its items. */
static char *
query(const struct it_env *env, const char *q)
{
    struct it_response *r = it_get(&env->d, "/api/v1/items?%s", q);
    IT_ASSERT_STATUS(r, 200);
    assert_true(json_is_array(it_jget(r->json, "items")));
    char *n = names(it_jget(r->json, "items"));
    it_response_free(r);
    return n;
}

#define ASSERT_QUERY(env, q, want)                                                                 \
    do {                                                                                           \
        char *got_ = query((env), (q));                                                            \
        if (strcmp(got_, (want)) != 0)                                                             \
            print_error("query: %s\n  want: %s\n  got:  %s\n", (q), (want), got_);                 \
        assert_string_equal(got_, (want));                                                         \
        free(got_);                                                                                \
    } while (0)

static void
test_item_has_exactly_the_documented_keys(void **state)
{
    struct it_env *env = *state;
    static const char *const keys[] = {"path",
                                       "type",
                                       "parent",
                                       "local",
                                       "remote",
                                       "original",
                                       "change",
                                       "dirtyBytes",
                                       "pin",
                                       "ghosted",
                                       "sparse",
                                       "encrypted",
                                       "suspend",
                                       "transparentlyCached",
                                       "markedForDeletion",
                                       "lastAccess",
                                       "connection",
                                       NULL};
    static const char *const copy_keys[] = {"exists", "size", "mtime", "attributes", NULL};
    static const char *const change_keys[] = {"dirty",
                                              "createdOffline",
                                              "deletedOffline",
                                              "modifiedData",
                                              "modifiedAttributes",
                                              "modifiedTime",
                                              NULL};
    static const char *const dirty_keys[] = {"local", "remote", NULL};
    static const char *const pin_keys[] = {"pinned",   "forUser",     "forUserInherit",
                                           "byPolicy", "forComputer", "forRedirection",
                                           "partly",   NULL};
    static const char *const suspend_keys[] = {"suspended", "root", NULL};
    static const char *const conn_keys[] = {"state", "reason", NULL};
    const char *paths[] = {"/api/v1/items/srv", "/api/v1/items/srv/s", "/api/v1/items/srv/s/d",
                           "/api/v1/items/srv/s/a.txt", "/api/v1/items/srv/s/d/new.txt"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct it_response *r = it_get(&env->d, "%s", paths[i]);
        IT_ASSERT_STATUS(r, 200);
        assert_string_equal(it_resp_header(r, "Content-Type"), "application/json");
        IT_ASSERT_KEYS(r->json, keys);
        IT_ASSERT_KEYS(it_jget(r->json, "local"), copy_keys);
        IT_ASSERT_KEYS(it_jget(r->json, "remote"), copy_keys);
        IT_ASSERT_KEYS(it_jget(r->json, "original"), copy_keys);
        IT_ASSERT_KEYS(it_jget(r->json, "change"), change_keys);
        IT_ASSERT_KEYS(it_jget(r->json, "dirtyBytes"), dirty_keys);
        IT_ASSERT_KEYS(it_jget(r->json, "pin"), pin_keys);
        IT_ASSERT_KEYS(it_jget(r->json, "suspend"), suspend_keys);
        IT_ASSERT_KEYS(it_jget(r->json, "connection"), conn_keys);
        assert_true(json_is_array(it_jget(r->json, "local.attributes")));
        it_response_free(r);
    }
}

static void
test_item_of_a_cached_file_describes_its_copies(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_get(&env->d, "/api/v1/items/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "path", "//srv/s/a.txt");
    IT_ASSERT_JSTR(r->json, "type", "file");
    IT_ASSERT_JSTR(r->json, "parent", "//srv/s");
    IT_ASSERT_JBOOL(r->json, "local.exists", 1);
    IT_ASSERT_JINT(r->json, "local.size", 10);
    IT_ASSERT_JSTR(r->json, "local.mtime", "2020-01-01T00:00:00.000Z");
    IT_ASSERT_JSTR(r->json, "remote.mtime", "2020-01-01T00:00:00.000Z");
    IT_ASSERT_JBOOL(r->json, "ghosted", 0);
    IT_ASSERT_JBOOL(r->json, "change.dirty", 0);
    IT_ASSERT_JINT(r->json, "dirtyBytes.local", 0);
    IT_ASSERT_JBOOL(r->json, "pin.pinned", 0);
    assert_true(json_is_string(it_jget(r->json, "lastAccess")));
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items/srv/s/b.log");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "ghosted", 1);
    IT_ASSERT_JINT(r->json, "remote.size", 10);
    it_response_free(r);
}

static void
test_items_of_server_share_and_directory_have_their_types_and_parents(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_get(&env->d, "/api/v1/items/srv");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "type", "server");
    IT_ASSERT_JNULL(r->json, "parent");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items/srv/s");
    IT_ASSERT_JSTR(r->json, "type", "share");
    IT_ASSERT_JSTR(r->json, "parent", "//srv");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items/srv/s/d");
    IT_ASSERT_JSTR(r->json, "type", "directory");
    IT_ASSERT_JSTR(r->json, "parent", "//srv/s");
    IT_ASSERT_JSTR(r->json, "local.attributes.0", "directory");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items/srv/s/d/c.txt");
    IT_ASSERT_JSTR(r->json, "parent", "//srv/s/d");
    it_response_free(r);
}

static void
test_item_not_in_the_cache_answers_404_not_found(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_get(&env->d, "/api/v1/items/srv/s/nothing.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items/other");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

static void
test_items_without_under_lists_the_servers(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_get(&env->d, "/api/v1/items");
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(it_jget(r->json, "items")), 1);
    IT_ASSERT_JSTR(r->json, "items.0.path", "//srv");
    IT_ASSERT_JNULL(r->json, "next");
    it_response_free(r);
}

static void
test_items_under_a_share_lists_its_children_in_path_order(void **state)
{
    struct it_env *env = *state;
    ASSERT_QUERY(env, "under=//srv/s", "a.txt b.log d x");
    ASSERT_QUERY(env, "under=//srv/s&depth=1", "a.txt b.log d x");
    ASSERT_QUERY(env, "under=//srv/s/d", "d/c.txt d/e.log d/new.txt");
    ASSERT_QUERY(env, "under=//srv", ".");
}

static void
test_items_depth_all_lists_every_descendant(void **state)
{
    struct it_env *env = *state;
    ASSERT_QUERY(env, "under=//srv/s&depth=all", "a.txt b.log d d/c.txt d/e.log d/new.txt x");
    ASSERT_QUERY(env, "under=//srv/s/d&depth=all", "d/c.txt d/e.log d/new.txt");
    ASSERT_QUERY(env, "depth=all", "//srv . a.txt b.log d d/c.txt d/e.log d/new.txt x");
}

static void
test_items_type_selects_files_or_directories(void **state)
{
    struct it_env *env = *state;
    ASSERT_QUERY(env, "under=//srv/s&depth=all&type=file", "a.txt b.log d/c.txt d/e.log d/new.txt");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&type=directory", "d x");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&type=file,directory",
                 "a.txt b.log d d/c.txt d/e.log d/new.txt x");
    ASSERT_QUERY(env, "depth=all&type=share", ".");
}

static void
test_items_flags_select_items_with_every_named_flag(void **state)
{
    struct it_env *env = *state;
    ASSERT_QUERY(env, "under=//srv/s&depth=all&flags=dirty", "d/new.txt");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&flags=createdOffline", "d/new.txt");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&flags=ghosted", "b.log d/c.txt d/e.log");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&flags=ghosted,dirty", "");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&flags=directory", "d x");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&flags=modifiedData", "");
}

static void
test_items_mask_without_flags_selects_items_without_them(void **state)
{
    struct it_env *env = *state;
    ASSERT_QUERY(env, "under=//srv/s&depth=all&type=file&mask=ghosted", "a.txt d/new.txt");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&mask=dirty,directory",
                 "a.txt b.log d/c.txt d/e.log");
    /* flags=file with mask=file,dirty: files that are not dirty. */
    ASSERT_QUERY(env, "under=//srv/s&depth=all&flags=file&mask=file,dirty",
                 "a.txt b.log d/c.txt d/e.log");
}

static void
test_items_online_and_offline_flags_follow_the_connection(void **state)
{
    struct it_env *env = *state;
    ASSERT_QUERY(env, "under=//srv/s&flags=online", "a.txt b.log d x");
    ASSERT_QUERY(env, "under=//srv/s&flags=offline", "");
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 0), 200);
    ASSERT_QUERY(env, "under=//srv/s&flags=online", "");
    ASSERT_QUERY(env, "under=//srv/s&flags=offline", "a.txt b.log d x");
}

/* An item's connection state, and reason when offline (null when not). */
#define ASSERT_CONN(env, path, state, reason)                                                      \
    do {                                                                                           \
        struct it_response *r_ = it_get(&(env)->d, "/api/v1/items/%s", (path));                    \
        IT_ASSERT_STATUS(r_, 200);                                                                 \
        IT_ASSERT_JSTR(r_->json, "connection.state", (state));                                     \
        if (reason)                                                                                \
            IT_ASSERT_JSTR(r_->json, "connection.reason", (const char *)(reason));                 \
        else                                                                                       \
            assert_true(json_is_null(it_jget(r_->json, "connection.reason")));                     \
        it_response_free(r_);                                                                      \
    } while (0)

/*
 * GetConnectState of items: the share's state for its items, the server's
 * for the server; an item in a suspended tree is offline (suspended) while
 * the share is online, and a forced-offline share's items say why.
 */
static void
test_items_connection_state_follows_the_share_and_suspension(void **state)
{
    struct it_env *env = *state;
    ASSERT_CONN(env, "srv", "online", NULL);
    ASSERT_CONN(env, "srv/s", "online", NULL);
    ASSERT_CONN(env, "srv/s/d/c.txt", "online", NULL);
    struct it_response *r = it_json_req(&env->d, "POST", "/api/v1/suspend",
                                        "{\"path\":\"//srv/s/d\",\"suspend\":true}");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    ASSERT_CONN(env, "srv/s/d", "offline", "suspended");
    ASSERT_CONN(env, "srv/s/d/c.txt", "offline", "suspended");
    ASSERT_CONN(env, "srv/s/a.txt", "online", NULL);
    r = it_json_req(&env->d, "POST", "/api/v1/suspend",
                    "{\"path\":\"//srv/s/d\",\"suspend\":false}");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    ASSERT_CONN(env, "srv/s/d/c.txt", "online", NULL);
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 0), 200);
    ASSERT_CONN(env, "srv", "offline", "forced");
    ASSERT_CONN(env, "srv/s", "offline", "forced");
    ASSERT_CONN(env, "srv/s/d/c.txt", "offline", "forced");
}

static void
test_items_include_and_exclude_patterns_filter_by_name(void **state)
{
    struct it_env *env = *state;
    ASSERT_QUERY(env, "under=//srv/s&depth=all&includeFiles=*.txt", "a.txt d d/c.txt d/new.txt x");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&excludeFiles=*.log", "a.txt d d/c.txt d/new.txt x");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&includeFiles=*.txt,*.log&excludeFiles=?.log",
                 "a.txt d d/c.txt d/new.txt x");
    ASSERT_QUERY(env, "under=//srv/s&includeDirs=d", "a.txt b.log d");
    ASSERT_QUERY(env, "under=//srv/s&excludeDirs=x", "a.txt b.log d");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&type=file&includeFiles=n*", "d/new.txt");
}

static void
test_items_modified_after_and_before_use_the_local_mtime(void **state)
{
    struct it_env *env = *state;
    ASSERT_QUERY(env,
                 "under=//srv/s&depth=all&type=file&modifiedAfter=2020-06-01T00:00:00Z"
                 "&modifiedBefore=2025-01-01T00:00:00Z",
                 "b.log d/c.txt");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&type=file&modifiedBefore=2019-06-01T00:00:00Z",
                 "d/e.log");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&type=file&modifiedAfter=2025-01-01T00:00:00Z",
                 "d/new.txt");
    /* Offsets are honoured: 2020-01-01T01:00+01:00 is midnight UTC, not after a.txt. */
    ASSERT_QUERY(env,
                 "under=//srv/s&type=file&modifiedAfter=2019-12-31T23:00:00Z"
                 "&modifiedBefore=2020-01-01T01:00:00%2B01:00",
                 "");
    ASSERT_QUERY(env,
                 "under=//srv/s&type=file&modifiedAfter=2019-12-31T23:00:00Z"
                 "&modifiedBefore=2020-01-01T02:00:00%2B01:00",
                 "a.txt");
}

static void
test_items_limit_and_cursor_page_through_everything_once(void **state)
{
    struct it_env *env = *state;
    char *all = query(env, "under=//srv/s&depth=all");
    char collected[4096] = "";
    char *cursor = NULL;
    int pages = 0;
    for (;;) {
        char *enc = cursor ? it_urlencode(cursor) : NULL;
        struct it_response *r = it_get(&env->d, "/api/v1/items?under=//srv/s&depth=all&limit=2%s%s",
                                       enc ? "&cursor=" : "", enc ? enc : "");
        free(enc);
        free(cursor);
        cursor = NULL;
        IT_ASSERT_STATUS(r, 200);
        json_t *items = it_jget(r->json, "items");
        assert_true(json_array_size(items) <= 2);
        char *page = names(items);
        if (page[0])
            append(collected, sizeof(collected), page);
        free(page);
        json_t *next = it_jget(r->json, "next");
        assert_true(json_is_null(next) || json_is_string(next));
        if (json_is_string(next))
            cursor = strdup(json_string_value(next));
        it_response_free(r);
        pages++;
        assert_true(pages <= 5);
        if (!cursor)
            break;
    }
    assert_string_equal(collected, all);
    assert_true(pages >= 4);
    free(all);
}

static void
test_items_filter_finds_matches_beyond_the_first_batch(void **state)
{
    struct it_env *env = *state;
    char path[PATH_MAX];
    for (int i = 0; i < 700; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "many/f%04d", i);
        it_share_file(env, rel, path);
        assert_int_equal(it_write_file(path, "", 0), 0);
    }
    it_share_file(env, "many/zz.txt", path);
    assert_int_equal(it_write_file(path, "z", 1), 0);
    struct it_response *r = it_get(&env->d, "/api/v1/files/srv/s/many");
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(it_jget(r->json, "entries")), 701);
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/files/srv/s/many/zz.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    ASSERT_QUERY(env, "under=//srv/s/many&mask=ghosted", "many/zz.txt");
    ASSERT_QUERY(env, "under=//srv/s/many&includeFiles=f0699,zz*", "many/f0699 many/zz.txt");
    r = it_get(&env->d, "/api/v1/items?under=//srv/s/many&limit=1000");
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(it_jget(r->json, "items")), 701);
    IT_ASSERT_JNULL(r->json, "next");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/items?under=//srv/s/many");
    IT_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(it_jget(r->json, "items")), 100);
    assert_true(json_is_string(it_jget(r->json, "next")));
    it_response_free(r);
}

static void
test_items_under_a_file_answers_409_not_a_directory(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_get(&env->d, "/api/v1/items?under=//srv/s/a.txt");
    IT_ASSERT_PROBLEM(r, 409, "not-a-directory");
    it_response_free(r);
}

static void
test_items_under_an_unknown_path_answers_404(void **state)
{
    struct it_env *env = *state;
    struct it_response *r = it_get(&env->d, "/api/v1/items?under=//srv/s/nowhere");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
}

static void
test_items_after_offline_delete_keep_the_tombstone_enumerable(void **state)
{
    struct it_env *env = *state;
    assert_int_equal(it_share_set_online(&env->d, "srv", "s", 0), 200);
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/a.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    ASSERT_QUERY(env, "under=//srv/s&depth=all&flags=deletedOffline", "a.txt");
    ASSERT_QUERY(env, "under=//srv/s&depth=all&flags=dirty", "a.txt d/new.txt");
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define T(f) cmocka_unit_test_setup_teardown(f, setup_tree, it_teardown)
    const struct CMUnitTest tests[] = {
        T(test_item_has_exactly_the_documented_keys),
        T(test_item_of_a_cached_file_describes_its_copies),
        T(test_items_of_server_share_and_directory_have_their_types_and_parents),
        T(test_item_not_in_the_cache_answers_404_not_found),
        T(test_items_without_under_lists_the_servers),
        T(test_items_under_a_share_lists_its_children_in_path_order),
        T(test_items_depth_all_lists_every_descendant),
        T(test_items_type_selects_files_or_directories),
        T(test_items_flags_select_items_with_every_named_flag),
        T(test_items_mask_without_flags_selects_items_without_them),
        T(test_items_online_and_offline_flags_follow_the_connection),
        T(test_items_connection_state_follows_the_share_and_suspension),
        T(test_items_include_and_exclude_patterns_filter_by_name),
        T(test_items_modified_after_and_before_use_the_local_mtime),
        T(test_items_limit_and_cursor_page_through_everything_once),
        T(test_items_filter_finds_matches_beyond_the_first_batch),
        T(test_items_under_a_file_answers_409_not_a_directory),
        T(test_items_under_an_unknown_path_answers_404),
        T(test_items_after_offline_delete_keep_the_tombstone_enumerable),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
