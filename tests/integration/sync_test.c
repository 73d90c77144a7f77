/* SPDX-License-Identifier: MIT */
/*
 * POST /api/v1/sync over HTTP against a real share directory: offline
 * changes going out, server changes coming in, one-way syncs, both sides
 * changed under each conflict policy, and changes that are no conflict or
 * no change at all. (Other clashes, two daemons, background sync and events
 * are in sync_conflicts_test.c; safety nets in sync_safety_test.c.)
 */
#include "sync_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LOCAL "local edit"
#define REMOTE "remote edit, longer"

/* ---- one side changed ---- */

static void
test_offline_changes_go_out_to_the_server(void **state)
{
    struct it_env *env = *state;
    st_seed(env, "edit.txt", ST_BASE);
    st_seed(env, "gone.txt", "to be deleted");
    st_cache_file(env, "edit.txt");
    st_cache_file(env, "gone.txt");
    st_unplug(env);
    st_put_offline(env, "edit.txt", "edited offline");
    st_put_offline(env, "new.txt", "created offline");
    struct it_response *r = it_delete(&env->d, "/api/v1/files/srv/s/gone.txt");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JBOOL(r->json, "storedOffline", 1);
    it_response_free(r);
    st_replug_and_restart(env);
    ST_ASSERT_ON_SERVER(env, "edit.txt", ST_BASE);
    r = ST_SYNC_SHARE(env, NULL, "succeeded");
    ST_ASSERT_RESULT(r, "edit.txt", "ok", "syncToServer", "FileChangedOnClient");
    ST_ASSERT_RESULT(r, "new.txt", "ok", "createServerCopy", "FileCreatedOnClient_NoServerCopy");
    ST_ASSERT_RESULT(r, "gone.txt", "ok", "deleteServerCopy", "DeletedOnClient_FileOnServer");
    IT_ASSERT_JSTR(ST_RESULT_OF(r, "edit.txt"), "code", "ok");
    IT_ASSERT_JINT(r->json, "progress.itemsTotal", 3);
    IT_ASSERT_JINT(r->json, "progress.itemsDone", 3);
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "edit.txt", "edited offline");
    ST_ASSERT_ON_SERVER(env, "new.txt", "created offline");
    ST_ASSERT_ON_SERVER(env, "gone.txt", NULL);
    ST_ASSERT_DIRTY(env, "edit.txt", 0);
    ST_ASSERT_DIRTY(env, "new.txt", 0);
    r = st_item(env, "gone.txt");
    IT_ASSERT_PROBLEM(r, 404, "not-found");
    it_response_free(r);
    ST_ASSERT_NO_CONFLICTS(env);
    /* A second sync finds nothing left to do. */
    r = ST_SYNC_SHARE(env, NULL, "succeeded");
    assert_int_equal(json_array_size(it_jget(r->json, "results")), 0);
    it_response_free(r);
}

static void
test_server_edit_comes_into_the_cached_file(void **state)
{
    struct it_env *env = *state;
    st_seed(env, "a.txt", ST_BASE);
    st_cache_file(env, "a.txt");
    st_seed(env, "a.txt", "the server's new version");
    struct it_response *r = ST_SYNC_SHARE(env, NULL, "succeeded");
    ST_ASSERT_RESULT(r, "a.txt", "ok", "syncToClient", "FileChangedOnServer");
    it_response_free(r);
    ST_ASSERT_DIRTY(env, "a.txt", 0);
    r = st_item(env, "a.txt");
    IT_ASSERT_JINT(r->json, "local.size", (long long)strlen("the server's new version"));
    IT_ASSERT_JBOOL(r->json, "ghosted", 0);
    it_response_free(r);
    ST_ASSERT_CACHED(env, "a.txt", "the server's new version");
}

static void
test_a_sync_of_one_file_leaves_its_neighbours_alone(void **state)
{
    struct it_env *env = *state;
    st_seed(env, "a.txt", ST_BASE);
    st_seed(env, "b.txt", ST_BASE);
    st_cache_file(env, "a.txt");
    st_cache_file(env, "b.txt");
    st_unplug(env);
    st_put_offline(env, "a.txt", "a edited offline");
    st_put_offline(env, "b.txt", "b edited offline");
    st_replug_and_restart(env);
    struct it_response *r = it_sync(&env->d, "//srv/s/a.txt", NULL, NULL);
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    ST_ASSERT_RESULT(r, "a.txt", "ok", "syncToServer", "FileChangedOnClient");
    ST_ASSERT_NO_RESULT(r, "b.txt");
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "a.txt", "a edited offline");
    ST_ASSERT_ON_SERVER(env, "b.txt", ST_BASE);
    ST_ASSERT_DIRTY(env, "b.txt", 1);
}

static void
test_one_way_syncs_leave_the_other_direction_for_later(void **state)
{
    struct it_env *env = *state;
    st_seed(env, "up.txt", ST_BASE);
    st_seed(env, "down.txt", ST_BASE);
    st_cache_file(env, "up.txt");
    st_cache_file(env, "down.txt");
    st_unplug(env);
    st_put_offline(env, "up.txt", "goes up");
    st_put_offline(env, "made.txt", "made offline");
    st_seed(env, "down.txt", "comes down");
    st_replug_and_restart(env);
    /* In only: the server's change comes down, nothing goes up. */
    struct it_response *r = it_sync(&env->d, "//srv/s", NULL, "{\"out\":false}");
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    ST_ASSERT_RESULT(r, "down.txt", "ok", "syncToClient", "FileChangedOnServer");
    ST_ASSERT_NO_RESULT(r, "up.txt");
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "up.txt", ST_BASE);
    ST_ASSERT_ON_SERVER(env, "made.txt", NULL);
    ST_ASSERT_DIRTY(env, "up.txt", 1);
    /* Out without new files: the edit goes up, the file made offline stays behind. */
    r = it_sync(&env->d, "//srv/s", NULL, "{\"in\":false,\"noNewFilesOut\":true}");
    IT_ASSERT_JSTR(r->json, "state", "succeeded");
    ST_ASSERT_RESULT(r, "up.txt", "ok", "syncToServer", "FileChangedOnClient");
    ST_ASSERT_NO_RESULT(r, "made.txt");
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "up.txt", "goes up");
    ST_ASSERT_ON_SERVER(env, "made.txt", NULL);
    ST_ASSERT_DIRTY(env, "made.txt", 1);
    /* Neither direction is no sync at all. */
    r = it_sync(&env->d, "//srv/s", NULL, "{\"in\":false,\"out\":false}");
    IT_ASSERT_PROBLEM(r, 400, "invalid-field");
    it_response_free(r);
    r = ST_SYNC_SHARE(env, NULL, "succeeded");
    ST_ASSERT_RESULT(r, "made.txt", "ok", "createServerCopy", "FileCreatedOnClient_NoServerCopy");
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "made.txt", "made offline");
    ST_ASSERT_CACHED(env, "down.txt", "comes down");
}

/* ---- both sides changed, under each policy ---- */

/* Both sides as they were before the sync: nothing settled, nothing lost. */
static void
assert_edit_conflict_untouched(struct it_env *env)
{
    ST_ASSERT_ON_SERVER(env, "a.txt", REMOTE);
    ST_ASSERT_DIRTY(env, "a.txt", 1);
    ST_ASSERT_CACHED(env, "a.txt", LOCAL);
}

static void
test_both_edited_with_ask_records_a_conflict_and_changes_nothing(void **state)
{
    struct it_env *env = *state;
    st_edit_both(env, LOCAL, REMOTE, 0);
    struct it_response *r = ST_SYNC_SHARE(env, "ask", "succeeded");
    json_t *res = ST_RESULT_OF(r, "a.txt");
    IT_ASSERT_JSTR(res, "result", "conflict");
    IT_ASSERT_JSTR(res, "code", "conflict");
    IT_ASSERT_JSTR(res, "syncState", "FileChangedOnClient_ChangedOnServer");
    IT_ASSERT_JINT(res, "local.size", (long long)strlen(LOCAL));
    IT_ASSERT_JINT(res, "remote.size", (long long)strlen(REMOTE));
    IT_ASSERT_JINT(res, "original.size", (long long)strlen(ST_BASE));
    it_response_free(r);
    r = st_conflicts(env);
    json_t *list = it_jget(r->json, "conflicts");
    assert_int_equal(json_array_size(list), 1);
    IT_ASSERT_JSTR(list, "0.path", "//srv/s/a.txt");
    IT_ASSERT_JSTR(list, "0.kind", "item");
    IT_ASSERT_JSTR(list, "0.syncState", "FileChangedOnClient_ChangedOnServer");
    IT_ASSERT_JBOOL(list, "0.local.exists", 1);
    IT_ASSERT_JINT(list, "0.local.size", (long long)strlen(LOCAL));
    IT_ASSERT_JINT(list, "0.remote.size", (long long)strlen(REMOTE));
    IT_ASSERT_JINT(list, "0.original.size", (long long)strlen(ST_BASE));
    assert_true(json_is_integer(it_jget(list, "0.id")));
    it_response_free(r);
    /* Another sync refreshes the record, it does not add one. */
    r = ST_SYNC_SHARE(env, "ask", "succeeded");
    it_response_free(r);
    ST_ASSERT_ONE_CONFLICT(env, "//srv/s/a.txt", "FileChangedOnClient_ChangedOnServer");
    assert_edit_conflict_untouched(env);
}

static void
test_both_edited_with_log_records_a_conflict_and_changes_nothing(void **state)
{
    struct it_env *env = *state;
    st_edit_both(env, LOCAL, REMOTE, 0);
    struct it_response *r = ST_SYNC_SHARE(env, "log", "succeeded");
    IT_ASSERT_JSTR(ST_RESULT_OF(r, "a.txt"), "result", "conflict");
    it_response_free(r);
    ST_ASSERT_ONE_CONFLICT(env, "//srv/s/a.txt", "FileChangedOnClient_ChangedOnServer");
    assert_edit_conflict_untouched(env);
}

static void
test_both_edited_with_skip_records_nothing_and_changes_nothing(void **state)
{
    struct it_env *env = *state;
    st_edit_both(env, LOCAL, REMOTE, 0);
    struct it_response *r = ST_SYNC_SHARE(env, "skip", "succeeded");
    ST_ASSERT_NO_RESULT(r, "a.txt");
    it_response_free(r);
    ST_ASSERT_NO_CONFLICTS(env);
    assert_edit_conflict_untouched(env);
}

static void
test_both_edited_with_abort_fails_the_job_with_aborted(void **state)
{
    struct it_env *env = *state;
    st_edit_both(env, LOCAL, REMOTE, 0);
    struct it_response *r = ST_SYNC_SHARE(env, "abort", "failed");
    IT_ASSERT_JSTR(r->json, "error.code", "aborted");
    it_response_free(r);
    assert_edit_conflict_untouched(env);
}

static void
test_both_edited_with_keep_local_puts_the_local_version_on_the_server(void **state)
{
    struct it_env *env = *state;
    st_edit_both(env, LOCAL, REMOTE, 0);
    struct it_response *r = ST_SYNC_SHARE(env, "keepLocal", "succeeded");
    ST_ASSERT_RESULT(r, "a.txt", "ok", "syncToServer", "FileChangedOnClient_ChangedOnServer");
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "a.txt", LOCAL);
    ST_ASSERT_DIRTY(env, "a.txt", 0);
    ST_ASSERT_NO_CONFLICTS(env);
    ST_ASSERT_CACHED(env, "a.txt", LOCAL);
}

static void
test_both_edited_with_keep_remote_takes_the_server_version(void **state)
{
    struct it_env *env = *state;
    st_edit_both(env, LOCAL, REMOTE, 0);
    struct it_response *r = ST_SYNC_SHARE(env, "keepRemote", "succeeded");
    ST_ASSERT_RESULT(r, "a.txt", "ok", "syncToClient", "FileChangedOnClient_ChangedOnServer");
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "a.txt", REMOTE);
    ST_ASSERT_DIRTY(env, "a.txt", 0);
    ST_ASSERT_NO_CONFLICTS(env);
    ST_ASSERT_CACHED(env, "a.txt", REMOTE);
}

static void
test_both_edited_with_keep_latest_takes_the_newer_server_version(void **state)
{
    struct it_env *env = *state;
    st_edit_both(env, LOCAL, REMOTE, 0);
    struct it_response *r = ST_SYNC_SHARE(env, "keepLatest", "succeeded");
    ST_ASSERT_RESULT(r, "a.txt", "ok", "syncToClient", "FileChangedOnClient_ChangedOnServer");
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "a.txt", REMOTE);
    ST_ASSERT_DIRTY(env, "a.txt", 0);
    ST_ASSERT_NO_CONFLICTS(env);
    ST_ASSERT_CACHED(env, "a.txt", REMOTE);
}

static void
test_both_edited_with_keep_latest_takes_the_newer_local_version(void **state)
{
    struct it_env *env = *state;
    st_edit_both(env, LOCAL, REMOTE, 1);
    struct it_response *r = ST_SYNC_SHARE(env, "keepLatest", "succeeded");
    ST_ASSERT_RESULT(r, "a.txt", "ok", "syncToServer", "FileChangedOnClient_ChangedOnServer");
    it_response_free(r);
    ST_ASSERT_ON_SERVER(env, "a.txt", LOCAL);
    ST_ASSERT_DIRTY(env, "a.txt", 0);
    ST_ASSERT_NO_CONFLICTS(env);
    ST_ASSERT_CACHED(env, "a.txt", LOCAL);
}

static void
test_both_edited_with_keep_all_keeps_both_versions_on_both_sides(void **state)
{
    struct it_env *env = *state;
    st_edit_both(env, LOCAL, REMOTE, 0);
    struct it_response *r = ST_SYNC_SHARE(env, "keepAll", "succeeded");
    ST_ASSERT_RESULT(r, "a.txt", "ok", "keepAll", "FileChangedOnClient_ChangedOnServer");
    it_response_free(r);
    int count = 0;
    char *kept = st_find_name(env, "a (conflict ", &count);
    assert_int_equal(count, 1);
    if (!st_is_conflict_name(kept, "a", ".txt", 120)) {
        print_error("'%s' is not a conflict name stamped now (UTC)\n", kept);
        fail();
    }
    ST_ASSERT_ON_SERVER(env, "a.txt", REMOTE);
    ST_ASSERT_ON_SERVER(env, kept, LOCAL);
    ST_ASSERT_DIRTY(env, "a.txt", 0);
    char *enc = it_urlencode(kept);
    ST_ASSERT_DIRTY(env, enc, 0);
    ST_ASSERT_NO_CONFLICTS(env);
    ST_ASSERT_CACHED(env, "a.txt", REMOTE);
    ST_ASSERT_CACHED(env, enc, LOCAL);
    free(enc);
    free(kept);
}

/* ---- changes that are no conflict, or no change ---- */

static void
test_the_same_bytes_written_on_both_sides_is_no_conflict(void **state)
{
    struct it_env *env = *state;
    st_edit_both(env, "identical new text", "identical new text", 0);
    struct it_response *r = ST_SYNC_SHARE(env, "ask", "succeeded");
    IT_ASSERT_JSTR(ST_RESULT_OF(r, "a.txt"), "result", "ok");
    IT_ASSERT_JSTR(ST_RESULT_OF(r, "a.txt"), "operation", "updateOriginal");
    it_response_free(r);
    ST_ASSERT_NO_CONFLICTS(env);
    ST_ASSERT_DIRTY(env, "a.txt", 0);
    ST_ASSERT_ON_SERVER(env, "a.txt", "identical new text");
    ST_ASSERT_CACHED(env, "a.txt", "identical new text");
}

static void
test_a_local_write_restoring_the_original_bytes_is_no_change(void **state)
{
    struct it_env *env = *state;
    st_seed(env, "a.txt", ST_BASE);
    st_cache_file(env, "a.txt");
    char path[PATH_MAX];
    it_share_file(env, "a.txt", path);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    st_unplug(env);
    st_put_offline(env, "a.txt", "a passing change");
    ST_ASSERT_DIRTY(env, "a.txt", 1);
    st_put_offline(env, "a.txt", ST_BASE);
    struct it_response *r = st_item(env, "a.txt");
    IT_ASSERT_JBOOL(r->json, "change.dirty", 0);
    IT_ASSERT_JBOOL(r->json, "change.modifiedData", 0);
    it_response_free(r);
    st_replug_and_restart(env);
    r = ST_SYNC_SHARE(env, "ask", "succeeded");
    ST_ASSERT_NO_RESULT(r, "a.txt");
    it_response_free(r);
    /* The server's file was not even rewritten. */
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(before.st_ino, after.st_ino);
    assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
    assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
    ST_ASSERT_ON_SERVER(env, "a.txt", ST_BASE);
    ST_ASSERT_NO_CONFLICTS(env);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define A(f) cmocka_unit_test_setup_teardown(f, it_setup_auto, it_teardown)
    const struct CMUnitTest tests[] = {
        A(test_offline_changes_go_out_to_the_server),
        A(test_server_edit_comes_into_the_cached_file),
        A(test_a_sync_of_one_file_leaves_its_neighbours_alone),
        A(test_one_way_syncs_leave_the_other_direction_for_later),
        A(test_both_edited_with_ask_records_a_conflict_and_changes_nothing),
        A(test_both_edited_with_log_records_a_conflict_and_changes_nothing),
        A(test_both_edited_with_skip_records_nothing_and_changes_nothing),
        A(test_both_edited_with_abort_fails_the_job_with_aborted),
        A(test_both_edited_with_keep_local_puts_the_local_version_on_the_server),
        A(test_both_edited_with_keep_remote_takes_the_server_version),
        A(test_both_edited_with_keep_latest_takes_the_newer_server_version),
        A(test_both_edited_with_keep_latest_takes_the_newer_local_version),
        A(test_both_edited_with_keep_all_keeps_both_versions_on_both_sides),
        A(test_the_same_bytes_written_on_both_sides_is_no_conflict),
        A(test_a_local_write_restoring_the_original_bytes_is_no_change),
    };
#undef A
    return cmocka_run_group_tests(tests, NULL, NULL);
}
