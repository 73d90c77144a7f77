/* SPDX-License-Identifier: MIT */
/*
 * The fixture of the bad-input integration tests (badinput_*_test.c): a
 * daemon run with maxUpload = BI_MAX_UPLOAD (config file) so that the
 * upload limit can be crossed cheaply (JSON bodies keep the default 1 MiB
 * limit), its manual share //srv/s holding a.txt ("keep me") and
 * d/inner.txt, both known to the cache so that paths resolve to real
 * items, and a non-admin token of the user mallory; then the check that
 * abuse left the daemon alive and well.
 *
 * The environment is the harness's (struct it_env), freed by it_teardown;
 * the token is held here, for one test at a time.
 */
#ifndef OF_IT_BADINPUT_UTIL_H
#define OF_IT_BADINPUT_UTIL_H

#include "harness.h"

#define BI_MAX_UPLOAD ((size_t)2 * 1024 * 1024)

/* cmocka setup: the daemon, the share and the token above; 0 or -1. Pair with it_teardown. */
int bi_setup(void **state);
/* The token bi_setup made for mallory (borrowed, valid until the next bi_setup). */
const char *bi_user_token(void);
/* The daemon still runs, answers /api/v1/health and still serves a.txt as it was. */
void bi_assert_alive_and_well(struct it_env *env);

#endif
