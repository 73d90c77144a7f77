/* SPDX-License-Identifier: MIT */
/*
 * The filters of GET /api/v1/events: each path match mode (self,
 * children, descendants, the two combinations with self, and the default)
 * selects exactly its items, compared with an unfiltered stream of the
 * same events; include and exclude select event types, also together and
 * with a path; bad filters and positions are refused with 400.
 *
 * Pings pass every filter: each test reads its streams up to a Ping marker
 * (see events_util.h).
 */
#include "events_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- filters ---- */

enum mode { SELF, CHILDREN, DESCENDANTS, SELF_CHILDREN, SELF_DESCENDANTS };

static int
in_mode(const char *path, const char *base, enum mode m)
{
    if (!path)
        return 1; /* events about no item pass the path filter */
    size_t n = strlen(base);
    int self = strcmp(path, base) == 0;
    int below = strncmp(path, base, n) == 0 && path[n] == '/';
    int child = below && !strchr(path + n + 1, '/');
    switch (m) {
    case SELF:
        return self;
    case CHILDREN:
        return child;
    case DESCENDANTS:
        return below;
    case SELF_CHILDREN:
        return self || child;
    case SELF_DESCENDANTS:
        return self || below;
    }
    return 0;
}

/* The ids of the logged events (not Pings) of s before the marker. */
static json_t *
ids_before(const struct sse *s, const char *marker)
{
    json_t *ids = json_array();
    long end = find_marker(s, marker);
    for (long i = 0; i < end; i++)
        if (s->f[i].id >= 0 && strcmp(s->f[i].event, "Ping") != 0)
            json_array_append_new(ids, json_integer(s->f[i].id));
    return ids;
}

static void
assert_same_ids(json_t *got, json_t *want, const char *what)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT), *w = json_dumps(want, JSON_COMPACT);
        print_error("%s: got ids %s, want %s\n", what, g, w);
        free(g);
        free(w);
        fail();
    }
}

static void
test_each_match_mode_selects_its_items(void **state)
{
    struct it_env *env = *state;
    static const char *const names[] = {"self", "children", "descendants", "selfAndChildren",
                                        "selfAndDescendants"};
    struct sse *all = sse_ready(sse_open(&env->d, ""));
    struct sse *v[6];
    for (int m = 0; m < 5; m++) {
        char *q = it_fmt("?path=//srv/s/d&match=%s", names[m]);
        v[m] = sse_ready(sse_open(&env->d, q));
        free(q);
    }
    /* Without match: selfAndDescendants. */
    v[5] = sse_ready(sse_open(&env->d, "?path=//srv/s/d"));
    mkdir_api(env, "d");                     /* self */
    put_file(env, "d/f.txt", "child", 0);    /* child */
    put_file(env, "d/f.txt", "child 2", 0);  /* child */
    mkdir_api(env, "d/e");                   /* child */
    put_file(env, "d/e/g.txt", "grand", 0);  /* descendant */
    put_file(env, "dx.txt", "a sibling", 0); /* //srv/s/d is a prefix of its path, not a parent */
    mkdir_api(env, "dx");                    /* the same */
    put_file(env, "dx/h.txt", "not below d", 0);
    put_file(env, "other.txt", "elsewhere", 0);
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/d/f.txt"); /* child */
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    publish(&env->d, 1, "modes");
    sse_wait_marker(all, "modes", 10);
    for (int m = 0; m < 6; m++)
        sse_wait_marker(v[m], "modes", 10);
    json_t *every = ids_before(all, "modes");
    assert_int_equal(json_array_size(every), 15);
    static const size_t expect_n[] = {1, 5, 7, 6, 8, 8};
    for (int m = 0; m < 6; m++) {
        enum mode mode = m == 5 ? SELF_DESCENDANTS : (enum mode)m;
        json_t *want = json_array();
        for (size_t i = 0; i < all->n; i++) {
            const struct frame *f = &all->f[i];
            if (f->id < 0 || strcmp(f->event, "Ping") == 0 ||
                f->id > all->f[find_marker(all, "modes")].id)
                continue;
            if (in_mode(json_string_value(json_object_get(f->json, "path")), "//srv/s/d", mode))
                json_array_append_new(want, json_integer(f->id));
        }
        json_t *got = ids_before(v[m], "modes");
        char what[64];
        snprintf(what, sizeof(what), "match=%s", m == 5 ? "(default)" : names[m]);
        assert_same_ids(got, want, what);
        if (json_array_size(want) != expect_n[m]) {
            print_error("%s: %zu events, expected %zu\n", what, json_array_size(want), expect_n[m]);
            dump_frames(all, 0, all->n);
            fail();
        }
        json_decref(got);
        json_decref(want);
        sse_close(v[m]);
    }
    json_decref(every);
    sse_close(all);
}

static int
type_in(const char *type, const char *list)
{
    char *padded = it_fmt(",%s,", list), *t = it_fmt(",%s,", type);
    int in = strstr(padded, t) != NULL;
    free(padded);
    free(t);
    return in;
}

static void
test_include_and_exclude_select_event_types(void **state)
{
    struct it_env *env = *state;
    static const struct {
        const char *query, *include, *exclude, *path;
    } cases[] = {
        {"?include=ItemAddedToCache", "ItemAddedToCache", NULL, NULL},
        {"?exclude=ItemModified", NULL, "ItemModified", NULL},
        {"?include=ItemAddedToCache,ItemModified&exclude=ItemModified",
         "ItemAddedToCache,ItemModified", "ItemModified", NULL},
        {"?include=ItemModified,ItemDeletedFromCache&path=//srv/s/b.txt&match=self",
         "ItemModified,ItemDeletedFromCache", NULL, "//srv/s/b.txt"},
        {"?include=ItemDisconnected,ItemReconnected&exclude=ItemReconnected", "ItemDisconnected",
         NULL, NULL},
    };
    enum { N = sizeof(cases) / sizeof(cases[0]) };
    struct sse *all = sse_ready(sse_open(&env->d, ""));
    struct sse *v[N];
    for (size_t i = 0; i < N; i++)
        v[i] = sse_ready(sse_open(&env->d, cases[i].query));
    put_file(env, "a.txt", "one", 0);
    put_file(env, "a.txt", "two", 0);
    put_file(env, "b.txt", "bee", 0);
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/b.txt");
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
    set_online(env, 0);
    set_online(env, 1);
    publish(&env->d, 1, "types");
    sse_wait_marker(all, "types", 10);
    json_t *every = ids_before(all, "types");
    assert_int_equal(json_array_size(every), 8);
    for (size_t c = 0; c < N; c++) {
        /* The marker is a Ping: Pings pass every filter. */
        sse_wait_marker(v[c], "types", 10);
        json_t *want = json_array();
        long end = find_marker(all, "types");
        for (long i = 0; i < end; i++) {
            const struct frame *f = &all->f[i];
            const char *path = json_string_value(json_object_get(f->json, "path"));
            if (f->id < 0 || strcmp(f->event, "Ping") == 0)
                continue;
            if ((cases[c].include && !type_in(f->event, cases[c].include)) ||
                (cases[c].exclude && type_in(f->event, cases[c].exclude)) ||
                (cases[c].path && path && strcmp(path, cases[c].path) != 0))
                continue;
            json_array_append_new(want, json_integer(f->id));
        }
        assert_true(json_array_size(want) > 0);
        json_t *got = ids_before(v[c], "types");
        assert_same_ids(got, want, cases[c].query);
        json_decref(got);
        json_decref(want);
        sse_close(v[c]);
    }
    json_decref(every);
    sse_close(all);
}

static void
assert_refused(const struct it_env *env, const char *query, const char *header, const char *code)
{
    char *path = it_fmt("/api/v1/events%s", query);
    struct it_request rq = {.path = path, .timeout_s = 5};
    rq.headers[0] = header;
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_PROBLEM(r, 400, code);
    it_response_free(r);
    free(path);
}

static void
test_bad_filters_and_positions_are_refused(void **state)
{
    struct it_env *env = *state;
    assert_refused(env, "?include=Nope", NULL, "invalid-query");
    assert_refused(env, "?exclude=ItemModified,Nope", NULL, "invalid-query");
    assert_refused(env, "?path=//srv/s&match=everything", NULL, "invalid-query");
    assert_refused(env, "?ping=0", NULL, "invalid-query");
    assert_refused(env, "?ping=3601", NULL, "invalid-query");
    assert_refused(env, "?since=-1", NULL, "invalid-query");
    assert_refused(env, "?since=12abc", NULL, "invalid-query");
    assert_refused(env, "", "Last-Event-ID: abc", "invalid-query");
    assert_refused(env, "?path=srv/s", NULL, "invalid-path");
    assert_refused(env, "?path=//srv/s/../x", NULL, "invalid-path");
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define A(f) cmocka_unit_test_setup_teardown(f, it_setup_auto, it_teardown)
    const struct CMUnitTest tests[] = {
        A(test_each_match_mode_selects_its_items),
        A(test_include_and_exclude_select_event_types),
        A(test_bad_filters_and_positions_are_refused),
    };
    return cmocka_run_group_tests_name("events_filter", tests, NULL, NULL);
}
