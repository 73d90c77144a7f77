/* SPDX-License-Identifier: MIT */
/*
 * Many subscribers of GET /api/v1/events: 1,000 concurrent idle streams
 * hold no daemon thread each, the daemon still answers /health at once,
 * and one event reaches every one of them; steady bursts of events to 200
 * streams arrive whole and in order.
 *
 * Streams are read in lite mode (frames without their data) with the
 * raw-socket client of events_util.h. These tests open many streams:
 * CMakeLists.txt gives this executable a timeout of its own.
 */
#include "events_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#define SUBSCRIBERS 1000

/* ---- many subscribers ---- */

static void
test_a_thousand_idle_streams_hold_no_thread_and_all_receive_an_event(void **state)
{
    struct it_env *env = *state;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < 2 * SUBSCRIBERS + 64) {
        rl.rlim_cur = rl.rlim_max < 4 * SUBSCRIBERS ? rl.rlim_max : 4 * SUBSCRIBERS;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < SUBSCRIBERS + 64) {
        print_message("RLIMIT_NOFILE is %lu: cannot open %d streams\n", (unsigned long)rl.rlim_cur,
                      SUBSCRIBERS);
        skip();
    }
    long threads0 = it_proc_status_kb(env->d.pid, "Threads");
    struct sse **v = calloc(SUBSCRIBERS, sizeof(*v));
    assert_non_null(v);
    double t0 = now_s();
    for (int i = 0; i < SUBSCRIBERS; i++) {
        v[i] = sse_open(&env->d, "");
        v[i]->lite = 1;
    }
    if (sse_wait_all(v, SUBSCRIBERS, has_head, NULL, 60) < 0) {
        size_t n = 0;
        for (int i = 0; i < SUBSCRIBERS; i++)
            n += v[i]->head_done != 0;
        print_error("only %zu of %d streams answered within 60 s\n", n, SUBSCRIBERS);
        fail();
    }
    for (int i = 0; i < SUBSCRIBERS; i++)
        sse_assert_ok(v[i]);
    print_message("%d streams open in %.2f s\n", SUBSCRIBERS, now_s() - t0);
    /* Idle streams are suspended: no thread each. */
    long threads = it_proc_status_kb(env->d.pid, "Threads");
    print_message("daemon threads: %ld before, %ld with %d idle streams\n", threads0, threads,
                  SUBSCRIBERS);
    if (threads < 0 || threads > threads0 + 8) {
        print_error("the daemon has %ld threads with %d idle streams (%ld before)\n", threads,
                    SUBSCRIBERS, threads0);
        fail();
    }
    /* ... and the daemon still answers at once. */
    double worst = 0;
    for (int i = 0; i < 5; i++) {
        double t = now_s();
        struct it_request rq = {.path = "/api/v1/health", .auth = IT_AUTH_NONE, .timeout_s = 10};
        struct it_response *r = it_http(&env->d, &rq);
        IT_ASSERT_STATUS(r, 200);
        it_response_free(r);
        if (now_s() - t > worst)
            worst = now_s() - t;
    }
    print_message("GET /health with %d idle streams: at worst %.3f s\n", SUBSCRIBERS, worst);
    assert_true(worst < 1.0);
    /* One event reaches every one of them. */
    t0 = now_s();
    publish(&env->d, 1, "everyone");
    sse_wait_all_marker(v, SUBSCRIBERS, "everyone", 30);
    print_message("the event reached %d streams in %.3f s\n", SUBSCRIBERS, now_s() - t0);
    long long id = marker_id(v[0], "everyone");
    for (int i = 0; i < SUBSCRIBERS; i++) {
        sse_assert_ok(v[i]);
        assert_int_equal(marker_id(v[i], "everyone"), id);
        sse_close(v[i]);
    }
    free(v);
    /* All gone again: the daemon still answers. */
    struct it_request rq = {.path = "/api/v1/health", .auth = IT_AUTH_NONE, .timeout_s = 10};
    struct it_response *r = it_http(&env->d, &rq);
    IT_ASSERT_STATUS(r, 200);
    it_response_free(r);
}

/*
 * Bursts of events closer together than the hub's pacing frame, to many
 * streams: most streams are parked and waiting for their frame while more
 * events come, which must join the same write, never be skipped or sent
 * twice.
 */
#define STEADY_STREAMS 200
#define STEADY_POSTS 50
#define STEADY_BATCH 20

static void
assert_ids_follow(const struct sse *s, const char *from_marker, const char *to_marker, long long n)
{
    long from = find_marker(s, from_marker), to = find_marker(s, to_marker);
    assert_true(from >= 0 && to > from);
    long long want = s->f[from].id + 1, got = 0;
    for (long i = from + 1; i < to; i++) {
        if (s->f[i].id < 0)
            continue; /* a keep-alive */
        if (s->f[i].id != want) {
            print_error("after id %lld came id %lld\n", want - 1, s->f[i].id);
            fail();
        }
        want++;
        got++;
    }
    assert_int_equal(want, s->f[to].id);
    assert_int_equal(got, n);
}

static void
test_steady_bursts_to_many_streams_arrive_whole_and_in_order(void **state)
{
    struct it_env *env = *state;
    struct sse *v[STEADY_STREAMS];
    for (int i = 0; i < STEADY_STREAMS; i++) {
        v[i] = sse_open(&env->d, "");
        v[i]->lite = 1;
    }
    assert_int_equal(sse_wait_all(v, STEADY_STREAMS, has_head, NULL, 30), 0);
    publish(&env->d, 1, "steady-start");
    sse_wait_all_marker(v, STEADY_STREAMS, "steady-start", 30);
    double t0 = now_s();
    for (int k = 0; k < STEADY_POSTS; k++) {
        publish(&env->d, STEADY_BATCH, NULL);
        sse_pump(v, STEADY_STREAMS, 2);
    }
    publish(&env->d, 1, "steady-end");
    sse_wait_all_marker(v, STEADY_STREAMS, "steady-end", 30);
    print_message("%d events to %d streams in %.2f s\n", STEADY_POSTS * STEADY_BATCH,
                  STEADY_STREAMS, now_s() - t0);
    for (int i = 0; i < STEADY_STREAMS; i++) {
        sse_assert_ok(v[i]);
        assert_ids_follow(v[i], "steady-start", "steady-end", STEADY_POSTS * STEADY_BATCH);
        sse_close(v[i]);
    }
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define A(f) cmocka_unit_test_setup_teardown(f, it_setup_auto, it_teardown)
    const struct CMUnitTest tests[] = {
        A(test_a_thousand_idle_streams_hold_no_thread_and_all_receive_an_event),
        A(test_steady_bursts_to_many_streams_arrive_whole_and_in_order),
    };
    return cmocka_run_group_tests_name("events_subscribers", tests, NULL, NULL);
}
