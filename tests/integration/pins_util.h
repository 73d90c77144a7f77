/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the pin and suspend integration tests (pins_*_test.c), over
 * the harness fixture with its share //srv/s in manual caching mode: files
 * put on the share, requests made as a given user's token, pin jobs run to
 * their end, and assertions on the items' pin state, their ghosts and what
 * reads are served from.
 *
 * Wherever a token is asked for, NULL means the daemon's admin token (a
 * user of its own). Helpers assert as they go; what they return is new and
 * the caller's to free.
 */
#ifndef OF_IT_PINS_UTIL_H
#define OF_IT_PINS_UTIL_H

#include "harness.h"

/* ---- the share ---- */

/* Write REL on the share; asserts. */
void pt_seed(const struct it_env *env, const char *rel, const char *text);
/* d/a.txt, d/sub/b.txt, d/sub/deeper/c.txt and top.txt on the share. */
void pt_seed_tree(const struct it_env *env);
/* Force the share offline. */
void pt_go_offline(const struct it_env *env);

/* ---- requests ---- */

/* A request with a user's token (NULL: the admin token); json_text: a JSON body, or NULL. */
struct it_response *pt_as(const struct it_env *env, const char *token, const char *method,
                          const char *path, const char *json_text);
/* GET /api/v1/items/srv/s/REL ("" for the share root) as token's user; asserted 200. */
struct it_response *pt_item_as(const struct it_env *env, const char *token, const char *rel);
/* The same with the admin token. */
struct it_response *pt_item(const struct it_env *env, const char *rel);
/* GET /api/v1/files/srv/s/REL ("" for the share root) answers 200. */
void pt_list_dir(const struct it_env *env, const char *rel);
/* POST /api/v1/sync of path (wait: true, extra members or NULL) ended in state succeeded. */
void pt_sync_ok(const struct it_env *env, const char *path, const char *extra);
/* The job's result for //srv/s/REL, which must be there (borrowed). */
json_t *pt_result_of(struct it_response *r, const char *rel);

/* ---- pins ---- */

/* POST /api/v1/pins with body as token's user. */
struct it_response *pt_pin_req(const struct it_env *env, const char *token, const char *body);
/*
 * Pin //srv/s/REL for token's user with wait: true and extra members (JSON
 * object members such as "\"fill\":false", or NULL); asserts the job succeeded.
 */
void pt_pin_as(const struct it_env *env, const char *token, const char *rel, int deep,
               const char *extra);
/* The same with the admin token and no extra members. */
void pt_pin(const struct it_env *env, const char *rel, int deep);

/* ---- assertions ---- */

/* GET REL answers 200 with exactly want, and X-Offline-Source source unless that is NULL. */
void pt_assert_reads(const struct it_env *env, const char *rel, const char *want,
                     const char *source);
/* GET REL answers 503 not-available-offline. */
void pt_assert_not_offline(const struct it_env *env, const char *rel);
/* The item's pin.pinned and pin.forUser, as token's user. */
void pt_assert_pin(const struct it_env *env, const char *token, const char *rel, int pinned,
                   int for_user);
/* The item's ghosted flag. */
void pt_assert_ghosted(const struct it_env *env, const char *rel, int ghosted);

#endif
