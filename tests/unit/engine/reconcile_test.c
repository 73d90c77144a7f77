/* SPDX-License-Identifier: MIT */
/*
 * Table-driven tests of engine/reconcile.c: one row per sync state that can
 * arise (input, expected state, op and conflict flag) plus the special cases
 * (server unknown, same bytes, touched files, directory etags), a property
 * sweep over a grid of inputs, one row per core conflict and policy, the
 * conflict names for keep-all, and the name tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "reconcile.h"

/* Times: the last sync, a client deletion, a server edit, a client edit. */
#define T0 1000
#define T_DEL 1500
#define T_R 2000
#define T_L 3000

/*
 * Sides as initializers (kept one per line, clang-format off). A string
 * literal initializes the arrays, so tag and h cannot be parenthesized.
 */
/* clang-format off */
#define NOTHING {0}
/* NOLINTNEXTLINE(bugprone-macro-parentheses) */
#define FILE_(sz, t, tag, h) {.exists = 1, .size = (sz), .mtime_ns = (t), .etag = tag, .hash = h}
#define DIR_(t, tag)                                                                               \
    {.exists = 1, .is_dir = 1, .attrs = OF_ATTR_DIRECTORY, .mtime_ns = (t), .etag = tag} // NOLINT
/* clang-format on */

/* ORIGINAL and the copies that match it. */
#define F_ORIG FILE_(10, T0, "e1", "h1")
#define F_LOCAL FILE_(10, T0, "", "h1")
#define F_SERVER F_ORIG
#define D_ORIG DIR_(T0, "d1")
#define D_LOCAL DIR_(T0, "")
#define D_SERVER D_ORIG
/* Changed copies. */
#define F_LOCAL_EDIT FILE_(11, T_L, "", "h2")
#define F_SERVER_EDIT FILE_(12, T_R, "e2", "h3")
#define F_SERVER_EDIT_AS_LOCAL FILE_(11, T_R, "e2", "h2")
#define F_SERVER_TOUCHED FILE_(10, T_R, "e9", "h1")
#define F_SERVER_NEW FILE_(20, T_R, "e5", "h5")
#define D_SERVER_NEW DIR_(T_R, "d5")
#define D_SERVER_TOUCHED DIR_(T_R, "d2")
#define F_GHOST FILE_(10, T0, "", "")

/* clang-format off: every row but one knows the server */
#define IN(...)                                                                                    \
    {                                                                                              \
        .remote_known = 1, __VA_ARGS__                                                             \
    }
/* clang-format on */

struct classify_case {
    const char *what;
    struct of_reconcile_input in;
    enum of_sync_state state;
    enum of_sync_op op;
    int conflict;
};

/* clang-format off */
#define ROW(what, state, op, ...) {what, IN(__VA_ARGS__), OF_SYNC_##state, OF_SYNC_OP_##op, 0}
#define CONFLICT_ROW(what, state, ...)                                                             \
    {what, IN(__VA_ARGS__), OF_SYNC_##state, OF_SYNC_OP_CONFLICT, 1}
/* clang-format on */

static const struct classify_case classify_cases[] = {
    /* Stable, and the special cases that must stay Stable. */
    ROW("nothing changed", Stable, NONE, .local = F_LOCAL, .remote = F_SERVER, .original = F_ORIG),
    {"an unreachable server is never a deletion",
     {.local = F_LOCAL_EDIT, .original = F_ORIG, .local_modified = 1, .remote_known = 0},
     OF_SYNC_Stable,
     OF_SYNC_OP_NONE,
     0},
    ROW("both edited to the same bytes", Stable, UPDATE_ORIGINAL, .local = F_LOCAL_EDIT,
        .remote = F_SERVER_EDIT_AS_LOCAL, .original = F_ORIG, .local_modified = 1),
    ROW("touched on the server with the same bytes", Stable, NONE, .local = F_LOCAL,
        .remote = F_SERVER_TOUCHED, .original = F_ORIG),
    ROW("a directory whose etag and mtime moved", Stable, NONE, .local = D_LOCAL,
        .remote = D_SERVER_TOUCHED, .original = D_ORIG),
    ROW("deleted on both sides is forgotten", Stable, UPDATE_ORIGINAL, .original = F_ORIG,
        .local_deleted = 1),
    ROW("evicted and deleted on the server is forgotten", Stable, UPDATE_ORIGINAL,
        .original = F_ORIG),
    ROW("created on both sides with the same bytes", Stable, UPDATE_ORIGINAL,
        .local = FILE_(20, T_L, "", "h5"), .remote = F_SERVER_NEW, .local_created = 1),
    ROW("created on both sides with the same bytes after a server edit", Stable, UPDATE_ORIGINAL,
        .local = FILE_(12, T_L, "", "h3"), .remote = F_SERVER_EDIT, .original = F_ORIG,
        .local_created = 1),
    /* 1-5: kind clashes and orphans (no ORIGINAL, not created offline). */
    CONFLICT_ROW("a clean file where the server made a directory", FileOnClient_DirOnServer,
                 .local = F_LOCAL, .remote = D_SERVER_NEW, .original = F_ORIG),
    CONFLICT_ROW("an orphan file against a directory", FileOnClient_DirOnServer, .local = F_LOCAL,
                 .remote = D_SERVER_NEW),
    ROW("an orphan file with no server copy", FileOnClient_NoServerCopy, CREATE_SERVER_COPY,
        .local = F_LOCAL),
    CONFLICT_ROW("an orphan directory against a file", DirOnClient_FileOnServer, .local = D_LOCAL,
                 .remote = F_SERVER_NEW),
    CONFLICT_ROW("a clean directory where the server made a file", DirOnClient_FileChangedOnServer,
                 .local = D_LOCAL, .remote = F_SERVER_NEW, .original = D_ORIG),
    ROW("an orphan directory with no server copy", DirOnClient_NoServerCopy, CREATE_SERVER_COPY,
        .local = D_LOCAL),
    /* 6-11: files created offline. */
    ROW("a file created offline", FileCreatedOnClient_NoServerCopy, CREATE_SERVER_COPY,
        .local = F_LOCAL_EDIT, .local_created = 1),
    CONFLICT_ROW("a file created over one the server edited",
                 FileCreatedOnClient_FileChangedOnServer, .local = F_LOCAL_EDIT,
                 .remote = F_SERVER_EDIT, .original = F_ORIG, .local_created = 1),
    CONFLICT_ROW("a file created where the server made a directory",
                 FileCreatedOnClient_DirChangedOnServer, .local = F_LOCAL_EDIT,
                 .remote = D_SERVER_NEW, .original = F_ORIG, .local_created = 1),
    CONFLICT_ROW("a file created on both sides with other bytes", FileCreatedOnClient_FileOnServer,
                 .local = F_LOCAL_EDIT, .remote = F_SERVER_NEW, .local_created = 1),
    CONFLICT_ROW("a file created where the server has a directory", FileCreatedOnClient_DirOnServer,
                 .local = F_LOCAL_EDIT, .remote = D_SERVER_NEW, .local_created = 1),
    ROW("a file created where the server deleted the old one", FileCreatedOnClient_DeletedOnServer,
        CREATE_SERVER_COPY, .local = F_LOCAL_EDIT, .original = F_ORIG, .local_created = 1),
    /* 12-15: files changed offline. */
    CONFLICT_ROW("edited on both sides", FileChangedOnClient_ChangedOnServer, .local = F_LOCAL_EDIT,
                 .remote = F_SERVER_EDIT, .original = F_ORIG, .local_modified = 1),
    CONFLICT_ROW("a modified orphan file against a directory", FileChangedOnClient_DirOnServer,
                 .local = F_LOCAL_EDIT, .remote = D_SERVER_NEW, .local_modified = 1),
    CONFLICT_ROW("edited where the server made a directory", FileChangedOnClient_DirChangedOnServer,
                 .local = F_LOCAL_EDIT, .remote = D_SERVER_NEW, .original = F_ORIG,
                 .local_modified = 1),
    CONFLICT_ROW("edited where the server deleted", FileChangedOnClient_DeletedOnServer,
                 .local = F_LOCAL_EDIT, .original = F_ORIG, .local_modified = 1),
    /* 16-19: sparse files. */
    ROW("a sparse file the server edited", FileSparseOnClient_ChangedOnServer, SYNC_TO_CLIENT,
        .local = F_GHOST, .remote = F_SERVER_EDIT, .original = F_ORIG, .local_sparse = 1),
    ROW("a sparse file the server deleted", FileSparseOnClient_DeletedOnServer, DELETE_CLIENT_COPY,
        .local = F_GHOST, .original = F_ORIG, .local_sparse = 1),
    ROW("a sparse file with no base against a directory", FileSparseOnClient_DirOnServer,
        CREATE_CLIENT_COPY, .local = F_GHOST, .remote = D_SERVER_NEW, .local_sparse = 1),
    ROW("a sparse file the server turned into a directory", FileSparseOnClient_DirChangedOnServer,
        CREATE_CLIENT_COPY, .local = F_GHOST, .remote = D_SERVER_NEW, .original = F_ORIG,
        .local_sparse = 1),
    /* 20-25: directories created offline. */
    ROW("a directory created offline", DirCreatedOnClient_NoServerCopy, CREATE_SERVER_COPY,
        .local = D_LOCAL, .local_created = 1),
    ROW("a directory created on both sides merges", DirCreatedOnClient_DirOnServer, UPDATE_ORIGINAL,
        .local = D_LOCAL, .remote = D_SERVER_NEW, .local_created = 1),
    CONFLICT_ROW("a directory created where the server has a file", DirCreatedOnClient_FileOnServer,
                 .local = D_LOCAL, .remote = F_SERVER_NEW, .local_created = 1),
    CONFLICT_ROW("a file replaced by a directory offline while the server edited it",
                 DirCreatedOnClient_FileChangedOnServer, .local = D_LOCAL, .remote = F_SERVER_EDIT,
                 .original = F_ORIG),
    ROW("a file replaced by a directory on both sides merges",
        DirCreatedOnClient_DirChangedOnServer, UPDATE_ORIGINAL, .local = D_LOCAL,
        .remote = D_SERVER_NEW, .original = F_ORIG),
    ROW("a directory created where the server deleted the old one",
        DirCreatedOnClient_DeletedOnServer, CREATE_SERVER_COPY, .local = D_LOCAL,
        .original = D_ORIG, .local_created = 1),
    /* 26-29: directories changed offline (28 cannot arise). */
    CONFLICT_ROW("a modified orphan directory against a file", DirChangedOnClient_FileOnServer,
                 .local = D_LOCAL, .remote = F_SERVER_NEW, .local_modified = 1),
    CONFLICT_ROW("a modified directory the server turned into a file",
                 DirChangedOnClient_FileChangedOnServer, .local = D_LOCAL, .remote = F_SERVER_NEW,
                 .original = D_ORIG, .local_modified = 1),
    CONFLICT_ROW("a modified directory the server deleted", DirChangedOnClient_DeletedOnServer,
                 .local = D_LOCAL, .original = D_ORIG, .local_modified = 1),
    /* 30-33: nothing on the client. */
    ROW("a file new on the server", NoClientCopy_FileOnServer, CREATE_CLIENT_COPY,
        .remote = F_SERVER_NEW),
    ROW("a directory new on the server", NoClientCopy_DirOnServer, CREATE_CLIENT_COPY,
        .remote = D_SERVER_NEW),
    ROW("an evicted file the server edited", NoClientCopy_FileChangedOnServer, CREATE_CLIENT_COPY,
        .remote = F_SERVER_EDIT, .original = F_ORIG),
    ROW("an evicted file the server turned into a directory", NoClientCopy_DirChangedOnServer,
        CREATE_CLIENT_COPY, .remote = D_SERVER_NEW, .original = F_ORIG),
    /* 34-37: deleted offline. */
    ROW("a file deleted offline", DeletedOnClient_FileOnServer, DELETE_SERVER_COPY,
        .remote = F_SERVER, .original = F_ORIG, .local_deleted = 1),
    ROW("a directory deleted offline, children changed on the server", DeletedOnClient_DirOnServer,
        DELETE_SERVER_COPY, .remote = D_SERVER_TOUCHED, .original = D_ORIG, .local_deleted = 1),
    CONFLICT_ROW("deleted offline and edited on the server", DeletedOnClient_FileChangedOnServer,
                 .remote = F_SERVER_EDIT, .original = F_ORIG, .local_deleted = 1),
    CONFLICT_ROW("a file deleted offline that the server turned into a directory",
                 DeletedOnClient_DirChangedOnServer, .remote = D_SERVER_NEW, .original = F_ORIG,
                 .local_deleted = 1),
    /* 38-49: one side only (the Renamed states and 47 cannot arise). */
    ROW("a sparse file", FileSparseOnClient, FILL, .local = F_GHOST, .remote = F_SERVER,
        .original = F_ORIG, .local_sparse = 1),
    ROW("edited offline", FileChangedOnClient, SYNC_TO_SERVER, .local = F_LOCAL_EDIT,
        .remote = F_SERVER, .original = F_ORIG, .local_modified = 1),
    ROW("other bytes offline without the modified flag", FileChangedOnClient, SYNC_TO_SERVER,
        .local = F_LOCAL_EDIT, .remote = F_SERVER, .original = F_ORIG),
    ROW("a sparse directory", DirSparseOnClient, FILL, .local = D_LOCAL, .remote = D_SERVER,
        .original = D_ORIG, .local_sparse = 1),
    ROW("a directory whose attributes changed offline", DirChangedOnClient, SYNC_TO_SERVER,
        .local = D_LOCAL, .remote = D_SERVER_TOUCHED, .original = D_ORIG, .local_modified = 1),
    ROW("edited on the server", FileChangedOnServer, SYNC_TO_CLIENT, .local = F_LOCAL,
        .remote = F_SERVER_EDIT, .original = F_ORIG),
    ROW("made read-only on the server", FileChangedOnServer, SYNC_TO_CLIENT, .local = F_LOCAL,
        .remote = {.exists = 1,
                   .size = 10,
                   .mtime_ns = T0,
                   .attrs = OF_ATTR_READONLY,
                   .etag = "e1",
                   .hash = "h1"},
        .original = F_ORIG),
    ROW("edited on a server without etags", FileChangedOnServer, SYNC_TO_CLIENT,
        .local = FILE_(10, T0, "", ""), .remote = FILE_(10, T_R, "", ""),
        .original = FILE_(10, T0, "", "")),
    ROW("deleted on the server", FileDeletedOnServer, DELETE_CLIENT_COPY, .local = F_LOCAL,
        .original = F_ORIG),
    ROW("a directory deleted on the server", DirDeletedOnServer, DELETE_CLIENT_COPY,
        .local = D_LOCAL, .original = D_ORIG),
    /* 50-53: replaced and deleted offline (52 cannot arise). */
    ROW("replaced and deleted offline", FileReplacedAndDeletedOnClient_FileOnServer,
        DELETE_SERVER_COPY, .remote = F_SERVER, .original = F_ORIG, .local_deleted = 1,
        .local_replaced = 1),
    CONFLICT_ROW("replaced and deleted offline, edited on the server",
                 FileReplacedAndDeletedOnClient_FileChangedOnServer, .remote = F_SERVER_EDIT,
                 .original = F_ORIG, .local_deleted = 1, .local_replaced = 1),
    CONFLICT_ROW("replaced and deleted offline, a directory on the server",
                 FileReplacedAndDeletedOnClient_DirChangedOnServer, .remote = D_SERVER_NEW,
                 .original = F_ORIG, .local_deleted = 1, .local_replaced = 1),
};

#define N_CLASSIFY (sizeof(classify_cases) / sizeof(classify_cases[0]))

/* Never produced: the reserved Renamed states, and those the rules rule out. */
static int
unreachable(enum of_sync_state s)
{
    switch (s) {
    case OF_SYNC_FileRenamedOnClient:
    case OF_SYNC_DirRenamedOnClient:
    case OF_SYNC_FileRenamedOnServer:
    case OF_SYNC_DirRenamedOnServer:
    case OF_SYNC_DirChangedOnClient_ChangedOnServer: /* server dirs change only by kind */
    case OF_SYNC_DirChangedOnServer:
    case OF_SYNC_FileReplacedAndDeletedOnClient_DirOnServer: /* a kind change is "Changed" */
        return 1;
    default:
        return 0;
    }
}

static void
test_classify_names_the_state_op_and_conflict_of_every_row(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CLASSIFY; i++) {
        const struct classify_case *c = &classify_cases[i];
        struct of_reconcile_result r;
        memset(&r, 0xa5, sizeof(r));
        of_reconcile_classify(&c->in, &r);
        if (r.state != c->state || r.op != c->op || r.conflict != c->conflict)
            fail_msg("row %zu (%s): got %s/%s/%d, want %s/%s/%d", i, c->what,
                     of_sync_state_name(r.state), of_sync_op_name(r.op), r.conflict,
                     of_sync_state_name(c->state), of_sync_op_name(c->op), c->conflict);
    }
}

static void
test_classify_table_covers_every_reachable_state(void **state)
{
    (void)state;
    int seen[OF_SYNC__COUNT] = {0};
    for (size_t i = 0; i < N_CLASSIFY; i++)
        seen[classify_cases[i].state] = 1;
    for (int s = 0; s < OF_SYNC__COUNT; s++) {
        if (unreachable((enum of_sync_state)s) == seen[s])
            fail_msg("state %d %s: %s", s, of_sync_state_name((enum of_sync_state)s),
                     seen[s] ? "in the table but listed unreachable" : "has no row");
    }
}

/*
 * A sweep over a grid of sides and flags: every result is a named, reachable
 * state; conflict is exactly op == CONFLICT; a client copy holding changes is
 * never deleted; a server copy is deleted only when it is as at the last sync.
 */
static void
test_classify_keeps_its_invariants_over_a_grid_of_inputs(void **state)
{
    (void)state;
    static const struct of_side sides[] = {
        NOTHING, F_ORIG, F_SERVER_EDIT,    F_SERVER_TOUCHED,
        F_GHOST, D_ORIG, D_SERVER_TOUCHED, F_SERVER_EDIT_AS_LOCAL,
    };
    const size_t n = sizeof(sides) / sizeof(sides[0]);
    size_t count = 0;
    for (size_t l = 0; l < n; l++) {
        for (size_t r = 0; r < n; r++) {
            for (size_t o = 0; o < n; o++) {
                for (unsigned flags = 0; flags < 64; flags++) {
                    struct of_reconcile_input in = {
                        .local = sides[l],
                        .remote = sides[r],
                        .original = sides[o],
                        .local_created = (flags & 1) != 0,
                        .local_deleted = (flags & 2) != 0,
                        .local_replaced = (flags & 4) != 0,
                        .local_sparse = (flags & 8) != 0,
                        .local_modified = (flags & 16) != 0,
                        .remote_known = (flags & 32) != 0,
                    };
                    struct of_reconcile_result res;
                    of_reconcile_classify(&in, &res);
                    count++;
                    assert_true((unsigned)res.state < OF_SYNC__COUNT);
                    assert_true((unsigned)res.op < OF_SYNC_OP__COUNT);
                    assert_false(unreachable(res.state));
                    assert_int_equal(res.conflict, res.op == OF_SYNC_OP_CONFLICT);
                    assert_true(res.op != OF_SYNC_OP_KEEP_ALL);
                    if (!in.remote_known) {
                        assert_int_equal(res.state, OF_SYNC_Stable);
                        assert_int_equal(res.op, OF_SYNC_OP_NONE);
                    }
                    if (res.op == OF_SYNC_OP_DELETE_CLIENT_COPY) {
                        assert_false(in.local_modified);
                        assert_false(in.local_created);
                    }
                    if (res.op == OF_SYNC_OP_DELETE_SERVER_COPY)
                        assert_true(in.original.exists && in.remote.exists);
                    if (res.conflict) /* a conflict has two sides that both moved */
                        assert_true(in.remote.exists || in.original.exists);
                }
            }
        }
    }
    assert_int_equal(count, n * n * n * 64);
}

static void
test_classify_reports_what_changed_on_each_side(void **state)
{
    (void)state;
    struct of_reconcile_input in =
        IN(.local = F_LOCAL_EDIT, .remote = F_SERVER_EDIT, .original = F_ORIG, .local_modified = 1);
    in.remote.attrs = OF_ATTR_READONLY;
    struct of_reconcile_result r;
    of_reconcile_classify(&in, &r);
    assert_int_equal(r.change_details, OF_CHANGES_LOCAL_SIZE | OF_CHANGES_LOCAL_TIME |
                                           OF_CHANGES_REMOTE_SIZE | OF_CHANGES_REMOTE_TIME |
                                           OF_CHANGES_REMOTE_ATTRIBUTES);
    assert_int_equal(r.item_change, OF_ITEM_CHANGE_FILESIZE | OF_ITEM_CHANGE_WRITETIME |
                                        OF_ITEM_CHANGE_ATTRIBUTES);

    struct of_reconcile_input same = IN(.local = F_LOCAL, .remote = F_SERVER, .original = F_ORIG);
    of_reconcile_classify(&same, &r);
    assert_int_equal(r.change_details, 0);
    assert_int_equal(r.item_change, 0);
}

/* The seven core conflicts, with times chosen to exercise keepLatest. */
static const struct of_reconcile_input in_edit_edit =
    IN(.local = F_LOCAL_EDIT, .remote = F_SERVER_EDIT, .original = F_ORIG, .local_modified = 1);
static const struct of_reconcile_input in_edit_edit_server_newer =
    IN(.local = FILE_(11, T0 + 1, "", "h2"), .remote = F_SERVER_EDIT, .original = F_ORIG,
       .local_modified = 1);
static const struct of_reconcile_input in_edit_delete =
    IN(.local = F_LOCAL_EDIT, .original = F_ORIG, .local_modified = 1);
static const struct of_reconcile_input in_delete_edit =
    IN(.local = {.mtime_ns = T_DEL}, .remote = F_SERVER_EDIT, .original = F_ORIG,
       .local_deleted = 1);
static const struct of_reconcile_input in_create_create_tie =
    IN(.local = FILE_(7, T_R, "", "h7"), .remote = F_SERVER_NEW, .local_created = 1);
static const struct of_reconcile_input in_create_change =
    IN(.local = F_LOCAL_EDIT, .remote = F_SERVER_EDIT, .original = F_ORIG, .local_created = 1);
static const struct of_reconcile_input in_file_vs_dir =
    IN(.local = F_LOCAL, .remote = D_SERVER_NEW, .original = F_ORIG);
static const struct of_reconcile_input in_dir_vs_file =
    IN(.local = DIR_(T_L, ""), .remote = F_SERVER_NEW);
/* Conflicts that no policy but keepRemote/keepLocal/keepAll can break. */
static const struct of_reconcile_input in_delete_vs_new_dir =
    IN(.remote = D_SERVER_NEW, .original = F_ORIG, .local_deleted = 1);
static const struct of_reconcile_input in_dir_edit_delete =
    IN(.local = D_LOCAL, .original = D_ORIG, .local_modified = 1);

struct resolve_case {
    const struct of_reconcile_input *in;
    enum of_sync_state state;
    enum of_conflict_policy policy;
    enum of_sync_op op;
    int abort;
};

/* clang-format off */
#define RES(in, state, policy, op)                                                                 \
    {&(in), OF_SYNC_##state, OF_POLICY_##policy, OF_SYNC_OP_##op, 0}
#define EVERY_RECORDING_POLICY(in, state)                                                          \
    RES(in, state, ASK, CONFLICT), RES(in, state, LOG, CONFLICT), RES(in, state, SKIP, NONE),      \
    {&(in), OF_SYNC_##state, OF_POLICY_ABORT, OF_SYNC_OP_NONE, 1}
/* clang-format on */

static const struct resolve_case resolve_cases[] = {
    /* 12: edit/edit. */
    EVERY_RECORDING_POLICY(in_edit_edit, FileChangedOnClient_ChangedOnServer),
    RES(in_edit_edit, FileChangedOnClient_ChangedOnServer, KEEP_LOCAL, SYNC_TO_SERVER),
    RES(in_edit_edit, FileChangedOnClient_ChangedOnServer, KEEP_REMOTE, SYNC_TO_CLIENT),
    RES(in_edit_edit, FileChangedOnClient_ChangedOnServer, KEEP_LATEST, SYNC_TO_SERVER),
    RES(in_edit_edit, FileChangedOnClient_ChangedOnServer, KEEP_ALL, KEEP_ALL),
    RES(in_edit_edit_server_newer, FileChangedOnClient_ChangedOnServer, KEEP_LATEST,
        SYNC_TO_CLIENT),
    /* 15: edit/delete; keepLatest restores the file (the documented quirk). */
    EVERY_RECORDING_POLICY(in_edit_delete, FileChangedOnClient_DeletedOnServer),
    RES(in_edit_delete, FileChangedOnClient_DeletedOnServer, KEEP_LOCAL, CREATE_SERVER_COPY),
    RES(in_edit_delete, FileChangedOnClient_DeletedOnServer, KEEP_REMOTE, DELETE_CLIENT_COPY),
    RES(in_edit_delete, FileChangedOnClient_DeletedOnServer, KEEP_LATEST, CREATE_SERVER_COPY),
    RES(in_edit_delete, FileChangedOnClient_DeletedOnServer, KEEP_ALL, CONFLICT),
    /* 36: delete/edit; the deletion time is older than the server edit. */
    EVERY_RECORDING_POLICY(in_delete_edit, DeletedOnClient_FileChangedOnServer),
    RES(in_delete_edit, DeletedOnClient_FileChangedOnServer, KEEP_LOCAL, DELETE_SERVER_COPY),
    RES(in_delete_edit, DeletedOnClient_FileChangedOnServer, KEEP_REMOTE, CREATE_CLIENT_COPY),
    RES(in_delete_edit, DeletedOnClient_FileChangedOnServer, KEEP_LATEST, CREATE_CLIENT_COPY),
    RES(in_delete_edit, DeletedOnClient_FileChangedOnServer, KEEP_ALL, CONFLICT),
    /* 9: create/create; equal times go to the server. */
    EVERY_RECORDING_POLICY(in_create_create_tie, FileCreatedOnClient_FileOnServer),
    RES(in_create_create_tie, FileCreatedOnClient_FileOnServer, KEEP_LOCAL, SYNC_TO_SERVER),
    RES(in_create_create_tie, FileCreatedOnClient_FileOnServer, KEEP_REMOTE, SYNC_TO_CLIENT),
    RES(in_create_create_tie, FileCreatedOnClient_FileOnServer, KEEP_LATEST, SYNC_TO_CLIENT),
    RES(in_create_create_tie, FileCreatedOnClient_FileOnServer, KEEP_ALL, KEEP_ALL),
    /* 7: created offline over a file the server changed. */
    EVERY_RECORDING_POLICY(in_create_change, FileCreatedOnClient_FileChangedOnServer),
    RES(in_create_change, FileCreatedOnClient_FileChangedOnServer, KEEP_LOCAL, SYNC_TO_SERVER),
    RES(in_create_change, FileCreatedOnClient_FileChangedOnServer, KEEP_REMOTE, SYNC_TO_CLIENT),
    RES(in_create_change, FileCreatedOnClient_FileChangedOnServer, KEEP_LATEST, SYNC_TO_SERVER),
    RES(in_create_change, FileCreatedOnClient_FileChangedOnServer, KEEP_ALL, KEEP_ALL),
    /* 1: a file here, a directory there; keepLocal would delete the directory. */
    EVERY_RECORDING_POLICY(in_file_vs_dir, FileOnClient_DirOnServer),
    RES(in_file_vs_dir, FileOnClient_DirOnServer, KEEP_LOCAL, CONFLICT),
    RES(in_file_vs_dir, FileOnClient_DirOnServer, KEEP_REMOTE, CREATE_CLIENT_COPY),
    RES(in_file_vs_dir, FileOnClient_DirOnServer, KEEP_LATEST, CREATE_CLIENT_COPY),
    RES(in_file_vs_dir, FileOnClient_DirOnServer, KEEP_ALL, KEEP_ALL),
    /* 3: a directory here, a file there; keepRemote would delete the directory. */
    EVERY_RECORDING_POLICY(in_dir_vs_file, DirOnClient_FileOnServer),
    RES(in_dir_vs_file, DirOnClient_FileOnServer, KEEP_LOCAL, CREATE_SERVER_COPY),
    RES(in_dir_vs_file, DirOnClient_FileOnServer, KEEP_REMOTE, CONFLICT),
    RES(in_dir_vs_file, DirOnClient_FileOnServer, KEEP_LATEST, CREATE_SERVER_COPY),
    RES(in_dir_vs_file, DirOnClient_FileOnServer, KEEP_ALL, KEEP_ALL),
    /* Winners that would have to delete a directory, and keepAll with a side missing. */
    RES(in_delete_vs_new_dir, DeletedOnClient_DirChangedOnServer, KEEP_LOCAL, CONFLICT),
    RES(in_delete_vs_new_dir, DeletedOnClient_DirChangedOnServer, KEEP_REMOTE, CREATE_CLIENT_COPY),
    RES(in_delete_vs_new_dir, DeletedOnClient_DirChangedOnServer, KEEP_ALL, CONFLICT),
    RES(in_dir_edit_delete, DirChangedOnClient_DeletedOnServer, KEEP_REMOTE, CONFLICT),
    RES(in_dir_edit_delete, DirChangedOnClient_DeletedOnServer, KEEP_LOCAL, CREATE_SERVER_COPY),
    RES(in_dir_edit_delete, DirChangedOnClient_DeletedOnServer, KEEP_LATEST, CREATE_SERVER_COPY),
    RES(in_dir_edit_delete, DirChangedOnClient_DeletedOnServer, KEEP_ALL, CONFLICT),
};

#define N_RESOLVE (sizeof(resolve_cases) / sizeof(resolve_cases[0]))

static void
test_resolve_settles_each_core_conflict_under_each_policy(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_RESOLVE; i++) {
        const struct resolve_case *c = &resolve_cases[i];
        struct of_reconcile_result r;
        of_reconcile_classify(c->in, &r);
        if (r.state != c->state || !r.conflict)
            fail_msg("row %zu: classified %s, want the conflict %s", i, of_sync_state_name(r.state),
                     of_sync_state_name(c->state));
        int abort = 0;
        enum of_sync_op op = of_reconcile_resolve(c->in, &r, c->policy, &abort);
        if (op != c->op || abort != c->abort)
            fail_msg("row %zu (%s, %s): got %s abort=%d, want %s abort=%d", i,
                     of_sync_state_name(c->state), of_conflict_policy_name(c->policy),
                     of_sync_op_name(op), abort, of_sync_op_name(c->op), c->abort);
    }
}

static void
test_resolve_covers_every_policy_for_every_core_conflict(void **state)
{
    (void)state;
    static const enum of_sync_state core[] = {
        OF_SYNC_FileChangedOnClient_ChangedOnServer,
        OF_SYNC_FileChangedOnClient_DeletedOnServer,
        OF_SYNC_DeletedOnClient_FileChangedOnServer,
        OF_SYNC_FileCreatedOnClient_FileOnServer,
        OF_SYNC_FileCreatedOnClient_FileChangedOnServer,
        OF_SYNC_FileOnClient_DirOnServer,
        OF_SYNC_DirOnClient_FileOnServer,
    };
    for (size_t s = 0; s < sizeof(core) / sizeof(core[0]); s++) {
        for (int p = 0; p < OF_POLICY__COUNT; p++) {
            int found = 0;
            for (size_t i = 0; i < N_RESOLVE; i++)
                found |= resolve_cases[i].state == core[s] && (int)resolve_cases[i].policy == p;
            if (!found)
                fail_msg("no row for %s under %s", of_sync_state_name(core[s]),
                         of_conflict_policy_name((enum of_conflict_policy)p));
        }
    }
}

static void
test_resolve_passes_a_non_conflict_through_under_every_policy(void **state)
{
    (void)state;
    struct of_reconcile_input in =
        IN(.local = F_LOCAL_EDIT, .remote = F_SERVER, .original = F_ORIG, .local_modified = 1);
    struct of_reconcile_result r;
    of_reconcile_classify(&in, &r);
    for (int p = 0; p < OF_POLICY__COUNT; p++) {
        int abort = 0;
        assert_int_equal(of_reconcile_resolve(&in, &r, (enum of_conflict_policy)p, &abort),
                         OF_SYNC_OP_SYNC_TO_SERVER);
        assert_int_equal(abort, 0);
    }
}

static void
test_resolve_abort_accepts_a_null_abort_flag(void **state)
{
    (void)state;
    struct of_reconcile_result r;
    of_reconcile_classify(&in_edit_edit, &r);
    assert_int_equal(of_reconcile_resolve(&in_edit_edit, &r, OF_POLICY_ABORT, NULL),
                     OF_SYNC_OP_NONE);
}

/* 2026-11-23 10:15:30 UTC, plus a fraction that must not round up. */
#define WHEN (INT64_C(1795428930) * 1000000000 + 999999999)
#define STAMP "2026-11-23 101530"

#define A10 "aaaaaaaaaa"
#define A50 A10 A10 A10 A10 A10
#define A200 A50 A50 A50 A50
#define A220 A200 A10 A10

struct name_case {
    const char *name;
    int64_t when_ns;
    int attempt;
    const char *want;
};

static const struct name_case name_cases[] = {
    {"report.txt", WHEN, 1, "report (conflict " STAMP ").txt"},
    {"report.txt", WHEN, 0, "report (conflict " STAMP ").txt"},
    {"report.txt", WHEN, 2, "report (conflict " STAMP " 2).txt"},
    {"report.txt", WHEN, 12, "report (conflict " STAMP " 12).txt"},
    {".bashrc", WHEN, 1, ".bashrc (conflict " STAMP ")"},
    {".config.json", WHEN, 1, ".config (conflict " STAMP ").json"},
    {"archive.tar.gz", WHEN, 1, "archive.tar (conflict " STAMP ").gz"},
    {"Makefile", WHEN, 1, "Makefile (conflict " STAMP ")"},
    {"trailing.", WHEN, 1, "trailing (conflict " STAMP ")."},
    {"caf\xc3\xa9.txt", WHEN, 1, "caf\xc3\xa9 (conflict " STAMP ").txt"},
    {"old.txt", -1, 1, "old (conflict 1969-12-31 235959).txt"},
    {"epoch", 0, 1, "epoch (conflict 1970-01-01 000000)"},
    /* 222 + 29 + 4 = 255: the stem is cut to fit. */
    {A220 "aaaaaaaaaa.txt", WHEN, 1, A220 "aa (conflict " STAMP ").txt"},
    /* A cut through "é" backs off to the character's start. */
    {A220 "a\xc3\xa9" A10 ".txt", WHEN, 1, A220 "a (conflict " STAMP ").txt"},
    /* An extension too long to keep is shortened as part of the stem. */
    {"a." A220 A10 A10, WHEN, 1, "a." A200 "aaaaaaaaaaaaaaaaaaaaaaaa (conflict " STAMP ")"},
};

static void
test_conflict_name_puts_the_stamp_before_the_extension(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
        const struct name_case *c = &name_cases[i];
        char buf[512];
        int rc = of_reconcile_conflict_name(c->name, c->when_ns, c->attempt, buf, sizeof(buf));
        if (rc != 0 || strcmp(buf, c->want) != 0)
            fail_msg("case %zu (\"%.30s\"): rc %d, got \"%s\", want \"%s\"", i, c->name, rc,
                     rc == 0 ? buf : "", c->want);
        assert_true(strlen(buf) <= OF_SEGMENT_MAX);
    }
}

static void
test_conflict_name_fails_when_the_buffer_is_too_small(void **state)
{
    (void)state;
    const char *want = "report (conflict " STAMP ").txt";
    size_t len = strlen(want);
    char buf[64];
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(of_reconcile_conflict_name("report.txt", WHEN, 1, buf, len), -1);
    assert_int_equal(buf[0], 'x'); /* untouched on failure */
    assert_int_equal(of_reconcile_conflict_name("report.txt", WHEN, 1, buf, len + 1), 0);
    assert_string_equal(buf, want);
    assert_int_equal(of_reconcile_conflict_name("report.txt", WHEN, 1, buf, 0), -1);
    assert_int_equal(of_reconcile_conflict_name(NULL, WHEN, 1, buf, sizeof(buf)), -1);
}

static void
test_names_come_from_the_tables(void **state)
{
    (void)state;
    assert_string_equal(of_sync_state_name(OF_SYNC_Stable), "Stable");
    assert_string_equal(of_sync_state_name(OF_SYNC_FileChangedOnClient_ChangedOnServer),
                        "FileChangedOnClient_ChangedOnServer");
    assert_string_equal(
        of_sync_state_name(OF_SYNC_FileReplacedAndDeletedOnClient_DirChangedOnServer),
        "FileReplacedAndDeletedOnClient_DirChangedOnServer");
    for (int s = 0; s < OF_SYNC__COUNT; s++)
        assert_true(of_sync_state_name((enum of_sync_state)s)[0] != '\0');
    assert_string_equal(of_sync_state_name(OF_SYNC__COUNT), "");
    assert_string_equal(of_sync_state_name((enum of_sync_state) - 1), "");

    static const char *const ops[] = {
        "none",           "createServerCopy", "createClientCopy", "syncToServer",
        "syncToClient",   "deleteServerCopy", "deleteClientCopy", "fill",
        "updateOriginal", "keepAll",          "conflict",
    };
    for (int op = 0; op < OF_SYNC_OP__COUNT; op++)
        assert_string_equal(of_sync_op_name((enum of_sync_op)op), ops[op]);
    assert_string_equal(of_sync_op_name(OF_SYNC_OP__COUNT), "");
}

static void
test_policy_names_round_trip_and_unknown_names_fail(void **state)
{
    (void)state;
    static const char *const names[] = {"ask",     "keepLocal", "keepRemote", "keepLatest",
                                        "keepAll", "log",       "skip",       "abort"};
    for (int p = 0; p < OF_POLICY__COUNT; p++) {
        enum of_conflict_policy got = OF_POLICY__COUNT;
        assert_string_equal(of_conflict_policy_name((enum of_conflict_policy)p), names[p]);
        assert_int_equal(of_conflict_policy_parse(names[p], &got), 0);
        assert_int_equal(got, p);
    }
    enum of_conflict_policy got = OF_POLICY_SKIP;
    assert_int_equal(of_conflict_policy_parse("KeepLocal", &got), -1);
    assert_int_equal(of_conflict_policy_parse("", &got), -1);
    assert_int_equal(of_conflict_policy_parse(NULL, &got), -1);
    assert_int_equal(got, OF_POLICY_SKIP);
    assert_string_equal(of_conflict_policy_name(OF_POLICY__COUNT), "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_names_the_state_op_and_conflict_of_every_row),
        cmocka_unit_test(test_classify_table_covers_every_reachable_state),
        cmocka_unit_test(test_classify_keeps_its_invariants_over_a_grid_of_inputs),
        cmocka_unit_test(test_classify_reports_what_changed_on_each_side),
        cmocka_unit_test(test_resolve_settles_each_core_conflict_under_each_policy),
        cmocka_unit_test(test_resolve_covers_every_policy_for_every_core_conflict),
        cmocka_unit_test(test_resolve_passes_a_non_conflict_through_under_every_policy),
        cmocka_unit_test(test_resolve_abort_accepts_a_null_abort_flag),
        cmocka_unit_test(test_conflict_name_puts_the_stamp_before_the_extension),
        cmocka_unit_test(test_conflict_name_fails_when_the_buffer_is_too_small),
        cmocka_unit_test(test_names_come_from_the_tables),
        cmocka_unit_test(test_policy_names_round_trip_and_unknown_names_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
