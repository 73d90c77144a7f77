/* SPDX-License-Identifier: MIT */
/*
 * Resuming GET /api/v1/events: after a disconnect, with Last-Event-ID or
 * ?since=, nothing is lost and nothing comes twice, also while live events
 * arrive during the replay; a replay from further back than the memory
 * ring comes from the log without a gap, also when a filter drops whole
 * log batches; DataLost, first, when the log (eventsKeepCount) no longer
 * holds the requested id, and for a slow consumer that stopped reading
 * while some 100,000 events were published, which then resumes from the
 * log without a gap.
 *
 * These tests publish many events: CMakeLists.txt gives this executable a
 * timeout of its own.
 */
#include "events_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RING 8192     /* frames api/sse.c keeps in memory for live clients */
#define LOG_BATCH 256 /* events api/sse.c reads from the log per call */
#define KEEP 1000     /* eventsKeepCount of setup_small_log */

/* ---- resuming ---- */

/* s has exactly the ids first..last, each once, in order, whatever control frames come between. */
static void
assert_ids_once(const struct sse *s, long long first, long long last, const char *what)
{
    long long want = first;
    for (size_t i = 0; i < s->n && want <= last; i++) {
        if (s->f[i].id < 0)
            continue;
        if (s->f[i].id != want) {
            print_error("%s: frame %zu has id %lld, expected %lld\n", what, i, s->f[i].id, want);
            dump_frames(s, i > 3 ? i - 3 : 0, 6);
            fail();
        }
        want++;
    }
    if (want != last + 1) {
        print_error("%s: the ids end at %lld, expected %lld\n", what, want - 1, last);
        fail();
    }
}

static void
test_resuming_after_a_disconnect_loses_nothing_and_repeats_nothing(void **state)
{
    struct it_env *env = *state;
    struct sse *s1 = sse_ready(sse_open(&env->d, ""));
    publish(&env->d, 100, "before");
    put_file(env, "a.txt", "written", 0);
    publish(&env->d, 1, "m1");
    sse_wait_marker(s1, "m1", 10);
    long long first = s1->f[0].id;
    /* Drop the connection after some 40 events, mid-way. */
    long long seen = s1->f[40].id;
    close(s1->fd);
    s1->fd = -1;
    publish(&env->d, 150, "while away");
    put_file(env, "a.txt", "written again", 0);

    char *h = it_fmt("Authorization: Bearer %s\r\nLast-Event-ID: %lld\r\n", env->d.token, seen);
    struct sse *s2 = sse_ready(sse_open_raw(&env->d, "?since=1", h, 0)); /* the header wins */
    free(h);
    char *q = it_fmt("?since=%lld", seen);
    struct sse *s3 = sse_ready(sse_open(&env->d, q));
    free(q);
    /* More, while the replay runs: the switch from the log to live keeps every id once. */
    publish(&env->d, 300, "live");
    publish(&env->d, 1, "m2");
    struct sse *v[2] = {s2, s3};
    for (int i = 0; i < 2; i++)
        sse_wait_marker(v[i], "m2", 20);
    long long last = marker_id(s2, "m2");
    assert_contiguous(s2, seen + 1, last, "Last-Event-ID");
    assert_contiguous(s3, seen + 1, last, "since");
    /* What the first connection got and what the second replayed: the log, once. */
    json_t *logged = it_events_since(&env->d, first - 1);
    assert_true(json_array_size(logged) >= (size_t)(last - first + 1));
    for (long long id = first; id <= last; id++) {
        json_t *ev = json_array_get(logged, (size_t)(id - first));
        const struct frame *f = NULL;
        for (size_t i = 0; i < s2->n && !f; i++)
            if (s2->f[i].id == id)
                f = &s2->f[i];
        for (size_t i = 0; i < s1->n && !f; i++)
            if (s1->f[i].id == id && id <= seen)
                f = &s1->f[i];
        assert_non_null(f);
        assert_int_equal(json_integer_value(json_object_get(ev, "id")), id);
        assert_string_equal(json_string_value(json_object_get(ev, "type")), f->event);
        if (strcmp(f->event, "Ping") != 0)
            assert_true(json_equal(ev, f->json));
    }
    json_decref(logged);
    sse_close(s1);
    sse_close(s2);
    sse_close(s3);
}

static void
test_a_replay_longer_than_the_memory_ring_comes_from_the_log_without_a_gap(void **state)
{
    struct it_env *env = *state;
    publish(&env->d, 10, "start");
    long long from = it_events_newest(&env->d);
    publish(&env->d, RING + 3000, "old");
    char *q = it_fmt("?since=%lld", from);
    struct sse *s = sse_open(&env->d, q);
    free(q);
    s->lite = 1;
    sse_ready(s);
    publish(&env->d, 2000, "live");
    publish(&env->d, 1, "end");
    sse_wait_marker(s, "end", 30);
    assert_contiguous(s, from + 1, marker_id(s, "end"), "replay from the log, then live");
    sse_close(s);
}

static void
test_a_filtered_replay_from_the_log_does_not_stall_on_events_it_filters_out(void **state)
{
    struct it_env *env = *state;
    put_file(env, "a.txt", "v0", 0);
    long long from = it_events_newest(&env->d);
    /* More than one log batch of events the stream below filters out, ... */
    for (int i = 1; i <= LOG_BATCH + 44; i++) {
        char text[16];
        snprintf(text, sizeof(text), "v%d", i);
        put_file(env, "a.txt", text, 0);
    }
    /* ... then more than the memory ring holds, so that the replay comes from the log. */
    publish(&env->d, RING + 100, "bulk");
    publish(&env->d, 1, "end");
    char *q = it_fmt("?since=%lld&include=ItemAddedToCache&ping=3600", from);
    struct sse *s = sse_open(&env->d, q);
    free(q);
    s->lite = 1;
    sse_ready(s);
    if (sse_wait(s, has_marker, "end", 10) < 0) {
        print_error("BUG: a stream replaying from the log stalls: %zu frames within 10 s, "
                    "expected %d Pings. The reader (api/sse.c, reader()) suspends the "
                    "connection when one batch of %d logged events had nothing the filter "
                    "wants (out == 0) although it is still behind the ring; only a keep-alive "
                    "(ping=3600 here) or a wanted live event resumes it.\n",
                    s->n, RING + 101, LOG_BATCH);
        fail();
    }
    sse_assert_ok(s);
    size_t pings = 0;
    for (size_t i = 0; i < s->n; i++)
        pings += s->f[i].id >= 0 && strcmp(s->f[i].event, "Ping") == 0;
    assert_int_equal(pings, RING + 101);
    sse_close(s);
}

/* ---- DataLost ---- */

static void
test_data_lost_comes_first_when_the_log_no_longer_holds_the_requested_id(void **state)
{
    struct it_env *env = *state;
    /*
     * The daemon runs with eventsKeepCount KEEP; the log is pruned once in
     * so many writes of a batch (PRUNE_EVERY, engine/events.c). Publish past
     * the bound, then write small batches (a log read writes what is
     * pending) until the log has been pruned.
     */
    publish(&env->d, 2 * KEEP, NULL);
    int lost = 0;
    for (int round = 0; round < 450 && !lost; round++) {
        publish(&env->d, 1, NULL);
        struct it_response *r = it_get(&env->d, "/api/v1/events/log?since=1&limit=1");
        IT_ASSERT_STATUS(r, 200);
        lost = json_is_true(it_jget(r->json, "dataLost"));
        it_response_free(r);
    }
    assert_true(lost);
    struct it_response *r = it_get(&env->d, "/api/v1/events/log?since=0&limit=1");
    long long oldest = (long long)json_integer_value(it_jget(r->json, "events.0.id"));
    long long newest = (long long)json_integer_value(it_jget(r->json, "newest"));
    it_response_free(r);
    assert_true(oldest > 2);
    assert_true(newest - oldest + 1 >= KEEP);

    /* Asked from before the oldest kept event: DataLost first, then the oldest kept one on. */
    struct sse *s = sse_open(&env->d, "?since=1");
    s->lite = 1;
    sse_ready(s);
    char *h =
        it_fmt("Authorization: Bearer %s\r\nLast-Event-ID: %lld\r\n", env->d.token, oldest - 1);
    struct sse *exact = sse_open_raw(&env->d, "", h, 0);
    free(h);
    exact->lite = 1;
    sse_ready(exact);
    double until = now_s() + 10;
    while ((s->n < 3 || exact->n < 2) && now_s() < until) {
        struct sse *v[2] = {s, exact};
        sse_pump(v, 2, 100);
    }
    assert_true(s->n >= 3);
    assert_string_equal(s->f[0].event, "DataLost");
    assert_int_equal(s->f[0].id, -1);
    const char *reason = json_string_value(json_object_get(s->f[0].json, "reason"));
    assert_non_null(reason);
    assert_int_equal(s->f[1].id, oldest);
    assert_int_equal(s->f[2].id, oldest + 1);
    /* From exactly the oldest kept one on, nothing is lost. */
    assert_true(exact->n >= 2);
    assert_int_equal(exact->f[0].id, oldest);
    assert_int_equal(exact->f[1].id, oldest + 1);
    sse_assert_ok(exact);
    /* The frame has the shape of the other DataLost frame (type and time, as every frame). */
    if (s->err[0]) {
        char *j = json_dumps(s->f[0].json, JSON_COMPACT);
        print_error("BUG: %s\n  the DataLost frame sent at the start of a stream (api/sse.c, "
                    "api_events_stream) is %s: no time, unlike the DataLost of a slow consumer "
                    "and every other frame\n",
                    s->err, j);
        free(j);
        fail();
    }
    sse_close(s);
    sse_close(exact);
}

static long
tcp_wmem_max(void)
{
    char *text = it_read_file("/proc/sys/net/ipv4/tcp_wmem", NULL);
    long a = 0, b = 0, c = 4 * 1024 * 1024;
    if (text && sscanf(text, "%ld %ld %ld", &a, &b, &c) != 3)
        c = 4 * 1024 * 1024;
    free(text);
    return c;
}

struct publisher {
    const struct it_daemon *d;
    long n;
    _Atomic int done;
    int failed;
    double took;
    char error[300];
};

static int
post_ping(struct publisher *p, const char *body)
{
    struct it_response *r = it_json_req(p->d, "POST", "/api/v1/events/ping", body);
    if (r->status != 200 && !p->failed) {
        p->failed = 1;
        snprintf(p->error, sizeof(p->error), "%ld %s", r->status, r->body);
    }
    it_response_free(r);
    return p->failed ? -1 : 0;
}

/* POST /api/v1/events/ping: n Pings (in requests of at most 100,000), then the marker "end". */
static void *
publisher_run(void *arg)
{
    struct publisher *p = arg;
    double t0 = now_s();
    for (long left = p->n; left > 0 && !p->failed;) {
        long k = left > 100000 ? 100000 : left;
        char *body = it_fmt("{\"count\":%ld}", k);
        post_ping(p, body);
        free(body);
        left -= k;
    }
    if (!p->failed)
        post_ping(p, "{\"count\":1,\"detail\":\"end\"}");
    p->took = now_s() - t0;
    atomic_store(&p->done, 1);
    return NULL;
}

static void
test_a_slow_consumer_is_told_data_lost_and_resumes_from_the_log_without_a_gap(void **state)
{
    struct it_env *env = *state;
    /*
     * The slow client stops reading; the kernel buffers (its receive buffer
     * is small, the daemon's send buffer grows to tcp_wmem's maximum) hold
     * some 100-byte frames, the daemon's ring 8,192 more: publish beyond both.
     */
    long n = tcp_wmem_max() / 60 + 2 * RING;
    if (n < 20000)
        n = 20000;
    if (n > 600000)
        n = 600000;
    char *h = it_fmt("Authorization: Bearer %s\r\n", env->d.token);
    struct sse *slow = sse_open_raw(&env->d, "", h, 4096);
    free(h);
    slow->lite = 1;
    sse_ready(slow);
    struct sse *fast = sse_open(&env->d, "");
    fast->lite = 1;
    sse_ready(fast);
    slow->paused = 1;
    long long first = it_events_newest(&env->d) + 1;
    /* Publish from another thread while the fast client reads and the slow one does not. */
    struct publisher pub = {.d = &env->d, .n = n};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, publisher_run, &pub), 0);
    double until = now_s() + 120;
    while (!(atomic_load(&pub.done) && find_marker(fast, "end") >= 0) && now_s() < until)
        sse_pump(&fast, 1, 50);
    pthread_join(th, NULL);
    if (pub.failed) {
        print_error("publishing failed: %s\n", pub.error);
        fail();
    }
    /* The engine was not held up (the publishing returned), nor was another client. */
    sse_wait_marker(fast, "end", 1);
    long long last = marker_id(fast, "end");
    assert_int_equal(last, first + n);
    assert_ids_once(fast, first, last, "the fast client");
    double took = pub.took;
    slow->paused = 0;
    sse_wait_marker(slow, "end", 120);
    size_t lost_at = 0, lost_n = 0;
    for (size_t i = 0; i < slow->n; i++)
        if (slow->f[i].id < 0 && strcmp(slow->f[i].event, "DataLost") == 0) {
            lost_at = i;
            lost_n++;
        }
    if (lost_n != 1) {
        print_error("the slow client got %zu DataLost frames, expected 1 (%ld events published "
                    "in %.1f s)\n",
                    lost_n, n + 1, took);
        fail();
    }
    const struct frame *dl = &slow->f[lost_at];
    /* resumeFrom: the last id it got (none yet when the daemon had no chance to send any). */
    long long before = first - 1;
    for (size_t i = lost_at; i-- > 0 && before == first - 1;)
        if (slow->f[i].id >= 0)
            before = slow->f[i].id;
    IT_ASSERT_JINT(dl->json, "resumeFrom", before);
    assert_true(jint(dl, "liveFrom") > before + 1);
    assert_non_null(json_string_value(json_object_get(dl->json, "reason")));
    /* Every id once, in order, across the DataLost: nothing was actually lost. */
    assert_ids_once(slow, first, last, "the slow client");
    sse_close(slow);
    sse_close(fast);
}

/* The usual fixture, with a log that keeps KEEP events. */
static int
setup_small_log(void **state)
{
    char *cfg = it_fmt("{\"eventsKeepCount\":%d}", KEEP);
    *state = it_env_new_cfg("events", "auto", cfg);
    free(cfg);
    return *state ? 0 : -1;
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define A(f) cmocka_unit_test_setup_teardown(f, it_setup_auto, it_teardown)
    const struct CMUnitTest tests[] = {
        A(test_resuming_after_a_disconnect_loses_nothing_and_repeats_nothing),
        A(test_a_replay_longer_than_the_memory_ring_comes_from_the_log_without_a_gap),
        A(test_a_filtered_replay_from_the_log_does_not_stall_on_events_it_filters_out),
        cmocka_unit_test_setup_teardown(
            test_data_lost_comes_first_when_the_log_no_longer_holds_the_requested_id,
            setup_small_log, it_teardown),
        A(test_a_slow_consumer_is_told_data_lost_and_resumes_from_the_log_without_a_gap),
    };
    return cmocka_run_group_tests_name("events_replay", tests, NULL, NULL);
}
