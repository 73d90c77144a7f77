/* SPDX-License-Identifier: MIT */
/*
 * SQLite behind the store contract of store.h: the connections, the schema
 * and its numbered migrations, a cache of prepared statements, transactions,
 * and the helpers that the store's tables share (store_int.h). The tables
 * themselves are mapped in store_items.c, store_meta.c and store_log.c.
 */
#include "store_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Migration N brings the schema from version N to N+1; never edit a landed one. */
static const char *const migrations[] = {
    "CREATE TABLE shares ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  server TEXT NOT NULL, share TEXT NOT NULL, remote TEXT NOT NULL,"
    "  caching_mode INTEGER NOT NULL DEFAULT 0, forced_offline INTEGER NOT NULL DEFAULT 0,"
    "  created_ns INTEGER NOT NULL, UNIQUE(server, share));"
    "CREATE TABLE items ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  path TEXT NOT NULL UNIQUE,"
    "  parent_id INTEGER REFERENCES items(id) ON DELETE CASCADE,"
    "  share_id INTEGER REFERENCES shares(id) ON DELETE CASCADE,"
    "  type INTEGER NOT NULL,"
    "  l_exists INTEGER NOT NULL DEFAULT 0, l_size INTEGER NOT NULL DEFAULT 0,"
    "  l_mtime INTEGER NOT NULL DEFAULT 0, l_attrs INTEGER NOT NULL DEFAULT 0,"
    "  l_etag TEXT NOT NULL DEFAULT '', l_hash TEXT NOT NULL DEFAULT '',"
    "  r_exists INTEGER NOT NULL DEFAULT 0, r_size INTEGER NOT NULL DEFAULT 0,"
    "  r_mtime INTEGER NOT NULL DEFAULT 0, r_attrs INTEGER NOT NULL DEFAULT 0,"
    "  r_etag TEXT NOT NULL DEFAULT '', r_hash TEXT NOT NULL DEFAULT '',"
    "  o_exists INTEGER NOT NULL DEFAULT 0, o_size INTEGER NOT NULL DEFAULT 0,"
    "  o_mtime INTEGER NOT NULL DEFAULT 0, o_attrs INTEGER NOT NULL DEFAULT 0,"
    "  o_etag TEXT NOT NULL DEFAULT '', o_hash TEXT NOT NULL DEFAULT '',"
    "  content TEXT NOT NULL DEFAULT '', cached_bytes INTEGER NOT NULL DEFAULT 0,"
    "  ghosted INTEGER NOT NULL DEFAULT 0, sparse INTEGER NOT NULL DEFAULT 0,"
    "  created_offline INTEGER NOT NULL DEFAULT 0, deleted_offline INTEGER NOT NULL DEFAULT 0,"
    "  mod_data INTEGER NOT NULL DEFAULT 0, mod_attrs INTEGER NOT NULL DEFAULT 0,"
    "  mod_time INTEGER NOT NULL DEFAULT 0,"
    "  suspended INTEGER NOT NULL DEFAULT 0, suspended_root INTEGER NOT NULL DEFAULT 0,"
    "  transparent INTEGER NOT NULL DEFAULT 0, marked_delete INTEGER NOT NULL DEFAULT 0,"
    "  encrypted INTEGER NOT NULL DEFAULT 0, last_access INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX items_parent ON items(parent_id, path);"
    "CREATE INDEX items_share ON items(share_id);"
    "CREATE TABLE pins ("
    "  item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,"
    "  scope INTEGER NOT NULL, user TEXT NOT NULL DEFAULT '', inherit INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(item_id, scope, user));"
    "CREATE TABLE tokens ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,"
    "  admin INTEGER NOT NULL DEFAULT 0, created_ns INTEGER NOT NULL);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",

    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, type INTEGER NOT NULL,"
    "  path TEXT NOT NULL, old_path TEXT NOT NULL, item_type INTEGER NOT NULL,"
    "  job_id INTEGER NOT NULL, result INTEGER NOT NULL, sync_state INTEGER NOT NULL,"
    "  operation INTEGER NOT NULL, flag_a INTEGER NOT NULL, flag_b INTEGER NOT NULL,"
    "  n_a INTEGER NOT NULL, n_b INTEGER NOT NULL, n_c INTEGER NOT NULL, n_d INTEGER NOT NULL,"
    "  text TEXT NOT NULL);"
    "CREATE INDEX events_time ON events(time_ns);"
    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, state TEXT NOT NULL,"
    "  created_by TEXT NOT NULL, created_ns INTEGER NOT NULL, started_ns INTEGER NOT NULL,"
    "  ended_ns INTEGER NOT NULL, items_total INTEGER NOT NULL, items_done INTEGER NOT NULL,"
    "  bytes_total INTEGER NOT NULL, bytes_done INTEGER NOT NULL, result INTEGER NOT NULL,"
    "  message TEXT NOT NULL);"
    "CREATE TABLE job_items ("
    "  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE, seq INTEGER NOT NULL,"
    "  path TEXT NOT NULL, operation INTEGER NOT NULL, sync_state INTEGER NOT NULL,"
    "  result INTEGER NOT NULL, conflict INTEGER NOT NULL, change_flags INTEGER NOT NULL,"
    "  message TEXT NOT NULL, have_copies INTEGER NOT NULL,"
    "  l_exists INTEGER, l_size INTEGER, l_mtime INTEGER, l_attrs INTEGER,"
    "  r_exists INTEGER, r_size INTEGER, r_mtime INTEGER, r_attrs INTEGER,"
    "  o_exists INTEGER, o_size INTEGER, o_mtime INTEGER, o_attrs INTEGER,"
    "  PRIMARY KEY(job_id, seq));"
    "CREATE TABLE conflicts ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
    "  sync_state INTEGER NOT NULL, change_details INTEGER NOT NULL,"
    "  l_exists INTEGER, l_size INTEGER, l_mtime INTEGER, l_attrs INTEGER,"
    "  r_exists INTEGER, r_size INTEGER, r_mtime INTEGER, r_attrs INTEGER,"
    "  o_exists INTEGER, o_size INTEGER, o_mtime INTEGER, o_attrs INTEGER,"
    "  detected_ns INTEGER NOT NULL, updated_ns INTEGER NOT NULL, count INTEGER NOT NULL);",

    "ALTER TABLE shares ADD COLUMN auth_type INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE shares ADD COLUMN username TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE shares ADD COLUMN secret TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE shares ADD COLUMN ca_file TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE shares ADD COLUMN insecure INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE shares ADD COLUMN transfers INTEGER NOT NULL DEFAULT 4;"
    "ALTER TABLE shares ADD COLUMN offline_on_slow INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE shares ADD COLUMN slow_ms INTEGER NOT NULL DEFAULT 0;",

    /* Offline changes are found without reading the clean rows around them. */
    "CREATE INDEX items_dirty ON items(path) WHERE " STORE_DIRTY_SQL ";",
};
#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define ITEM_COLS                                                                                  \
    "id, parent_id, share_id, type, path,"                                                         \
    " l_exists, l_size, l_mtime, l_attrs, l_etag, l_hash,"                                         \
    " r_exists, r_size, r_mtime, r_attrs, r_etag, r_hash,"                                         \
    " o_exists, o_size, o_mtime, o_attrs, o_etag, o_hash,"                                         \
    " content, cached_bytes, ghosted, sparse, created_offline, deleted_offline,"                   \
    " mod_data, mod_attrs, mod_time, suspended, suspended_root, transparent,"                      \
    " marked_delete, encrypted, last_access"
#define ITEM_NCOLS 38
#define JOB_COLS                                                                                   \
    "id, kind, state, created_by, created_ns, started_ns, ended_ns, items_total, items_done,"      \
    " bytes_total, bytes_done, result, message"
#define JOB_ITEM_COLS                                                                              \
    "job_id, seq, path, operation, sync_state, result, conflict, change_flags, message,"           \
    " have_copies, l_exists, l_size, l_mtime, l_attrs, r_exists, r_size, r_mtime, r_attrs,"        \
    " o_exists, o_size, o_mtime, o_attrs"
#define CONFLICT_COLS                                                                              \
    "id, path, kind, sync_state, change_details, l_exists, l_size, l_mtime, l_attrs,"              \
    " r_exists, r_size, r_mtime, r_attrs, o_exists, o_size, o_mtime, o_attrs, detected_ns,"        \
    " updated_ns, count"
#define SHARE_COLS                                                                                 \
    "id, server, share, remote, caching_mode, forced_offline, created_ns, auth_type, username,"    \
    " secret, ca_file, insecure, transfers, offline_on_slow, slow_ms"

static const char *const stmt_sql[S__COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_ITEM_BY_PATH] = "SELECT " ITEM_COLS " FROM items WHERE path = ?1",
    [S_ITEM_BY_ID] = "SELECT " ITEM_COLS " FROM items WHERE id = ?1",
    [S_ITEM_INSERT] = "INSERT INTO items (" ITEM_COLS ") VALUES (NULL, ?2, ?3, ?4, ?5,"
                      " ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
                      " ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29,"
                      " ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38)",
    [S_ITEM_UPDATE] = "UPDATE items SET parent_id=?2, share_id=?3, type=?4, path=?5,"
                      " l_exists=?6, l_size=?7, l_mtime=?8, l_attrs=?9, l_etag=?10, l_hash=?11,"
                      " r_exists=?12, r_size=?13, r_mtime=?14, r_attrs=?15, r_etag=?16,"
                      " r_hash=?17, o_exists=?18, o_size=?19, o_mtime=?20, o_attrs=?21,"
                      " o_etag=?22, o_hash=?23, content=?24, cached_bytes=?25, ghosted=?26,"
                      " sparse=?27, created_offline=?28, deleted_offline=?29, mod_data=?30,"
                      " mod_attrs=?31, mod_time=?32, suspended=?33, suspended_root=?34,"
                      " transparent=?35, marked_delete=?36, encrypted=?37, last_access=?38"
                      " WHERE id=?1",
    [S_ITEM_DELETE] = "DELETE FROM items WHERE id = ?1",
    [S_ITEM_MOVE_ROOT] = "UPDATE items SET path = ?2, parent_id = ?3 WHERE id = ?1",
    [S_ITEM_MOVE_BELOW] = "UPDATE items SET path = ?2 || substr(path, length(?1) + 1)"
                          " WHERE path > ?1 || '/' AND path < ?1 || '0'",
    [S_ITEM_TOUCH] = "UPDATE items SET last_access = ?2 WHERE id = ?1",
    [S_ITEM_CHILDREN] = "SELECT count(*) FROM items WHERE parent_id = ?1",
    [S_SCAN_ALL] = "SELECT " ITEM_COLS " FROM items WHERE path > ?1 ORDER BY path LIMIT ?2",
    [S_SCAN_DESC] = "SELECT " ITEM_COLS " FROM items WHERE path > ?1 AND path < ?2"
                    " ORDER BY path LIMIT ?3",
    /* The same condition as the index's, so that SQLite can use it. */
    [S_SCAN_DIRTY] = "SELECT " ITEM_COLS " FROM items WHERE " STORE_DIRTY_SQL
                     " AND path > ?1 AND path < ?2 ORDER BY path LIMIT ?3",
    [S_SCAN_CHILD] = "SELECT " ITEM_COLS " FROM items WHERE parent_id = ?1 AND path > ?2"
                     " ORDER BY path LIMIT ?3",
    [S_SCAN_ROOTS] = "SELECT " ITEM_COLS " FROM items WHERE parent_id IS NULL AND path > ?1"
                     " ORDER BY path LIMIT ?2",
    [S_PINS_OF] = "SELECT scope, user, inherit FROM pins WHERE item_id = ?1",
    [S_PIN_BELOW] = "SELECT 1 FROM pins p JOIN items i ON i.id = p.item_id"
                    " WHERE i.path > ?1 AND i.path < ?2 LIMIT 1",
    [S_PIN_SET] = "INSERT OR REPLACE INTO pins (item_id, scope, user, inherit)"
                  " VALUES (?1, ?2, ?3, ?4)",
    [S_PIN_ROWS] = "SELECT scope, user, inherit FROM pins WHERE item_id = ?1",
    [S_PIN_CLEAR] = "DELETE FROM pins WHERE item_id = ?1 AND scope = ?2 AND user = ?3",
    [S_EVICTABLE] = "SELECT " ITEM_COLS " FROM items WHERE content != '' AND created_offline = 0"
                    " AND deleted_offline = 0 AND mod_data = 0 AND mod_attrs = 0 AND mod_time = 0"
                    " AND id NOT IN (SELECT item_id FROM pins) ORDER BY last_access LIMIT ?1",
    [S_SUSPEND_BELOW] =
        "UPDATE items SET suspended = ?2 WHERE path > ?1 || '/' AND path < ?1 || '0'",
    [S_SHARE_GET] = "SELECT " SHARE_COLS " FROM shares WHERE server = ?1 AND share = ?2",
    [S_SHARE_LIST] = "SELECT " SHARE_COLS " FROM shares ORDER BY server, share",
    [S_SHARE_INSERT] = "INSERT INTO shares (" SHARE_COLS ") VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7,"
                       " ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [S_SHARE_UPDATE] =
        "UPDATE shares SET remote = ?4, caching_mode = ?5, forced_offline = ?6,"
        " auth_type = ?8, username = ?9, secret = ?10, ca_file = ?11, insecure = ?12,"
        " transfers = ?13, offline_on_slow = ?14, slow_ms = ?15 WHERE id = ?1",
    [S_SHARE_DELETE] = "DELETE FROM shares WHERE id = ?1",
    [S_TOKEN_ADD] = "INSERT INTO tokens (user, hash, admin, created_ns)"
                    " VALUES (?1, ?2, ?3, CAST(strftime('%s','now') AS INTEGER) * 1000000000)",
    [S_TOKEN_FIND] = "SELECT user, admin FROM tokens WHERE hash = ?1",
    [S_TOKEN_COUNT] = "SELECT count(*) FROM tokens",
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [S_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
    [S_CONTENT_NAMES] = "SELECT content FROM items WHERE content != ''",
    [S_EVENT_APPEND] = "INSERT INTO events (id, time_ns, type, path, old_path, item_type, job_id,"
                       " result, sync_state, operation, flag_a, flag_b, n_a, n_b, n_c, n_d, text)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                       " ?15, ?16, ?17)",
    [S_EVENT_SCAN] = "SELECT id, time_ns, type, path, old_path, item_type, job_id, result,"
                     " sync_state, operation, flag_a, flag_b, n_a, n_b, n_c, n_d, text"
                     " FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
    [S_EVENT_BOUNDS] = "SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM events",
    [S_EVENT_PRUNE] = "DELETE FROM events WHERE time_ns < ?2 OR id <= (SELECT MAX(id) FROM events)"
                      " - ?1",
    [S_JOB_INSERT] = "INSERT INTO jobs (kind, state, created_by, created_ns, started_ns, ended_ns,"
                     " items_total, items_done, bytes_total, bytes_done, result, message)"
                     " VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [S_JOB_UPDATE] = "UPDATE jobs SET kind=?2, state=?3, created_by=?4, created_ns=?5,"
                     " started_ns=?6, ended_ns=?7, items_total=?8, items_done=?9,"
                     " bytes_total=?10, bytes_done=?11, result=?12, message=?13 WHERE id=?1",
    [S_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = ?1",
    [S_JOB_SCAN] = "SELECT " JOB_COLS " FROM jobs WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
    [S_JOB_INTERRUPT] = "UPDATE jobs SET state = 'interrupted', ended_ns = ?1,"
                        " message = 'the daemon stopped while the job ran'"
                        " WHERE state IN ('queued', 'running')",
    [S_JOB_ITEM_ADD] = "INSERT INTO job_items (" JOB_ITEM_COLS ") VALUES (?1, ?2, ?3, ?4, ?5,"
                       " ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,"
                       " ?21, ?22)",
    [S_JOB_ITEM_SCAN] = "SELECT " JOB_ITEM_COLS " FROM job_items WHERE job_id = ?1 AND seq > ?2"
                        " ORDER BY seq LIMIT ?3",
    [S_CONFLICT_UPSERT] = "INSERT INTO conflicts (" CONFLICT_COLS ") VALUES (NULL, ?2, ?3, ?4,"
                          " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
                          " ?19, ?20) ON CONFLICT(path) DO UPDATE SET kind=excluded.kind,"
                          " sync_state=excluded.sync_state, change_details=excluded.change_details,"
                          " l_exists=excluded.l_exists, l_size=excluded.l_size,"
                          " l_mtime=excluded.l_mtime, l_attrs=excluded.l_attrs,"
                          " r_exists=excluded.r_exists, r_size=excluded.r_size,"
                          " r_mtime=excluded.r_mtime, r_attrs=excluded.r_attrs,"
                          " o_exists=excluded.o_exists, o_size=excluded.o_size,"
                          " o_mtime=excluded.o_mtime, o_attrs=excluded.o_attrs,"
                          " updated_ns=excluded.updated_ns, count=excluded.count",
    [S_CONFLICT_GET] = "SELECT " CONFLICT_COLS " FROM conflicts WHERE id = ?1",
    [S_CONFLICT_FIND] = "SELECT " CONFLICT_COLS " FROM conflicts WHERE path = ?1",
    [S_CONFLICT_DELETE] = "DELETE FROM conflicts WHERE id = ?1",
    [S_CONFLICT_SCAN] = "SELECT " CONFLICT_COLS " FROM conflicts WHERE ?1 = '' OR path = ?1 OR"
                        " (path > ?1 || '/' AND path < ?1 || '0') ORDER BY path",
    [S_USAGE] = "SELECT COALESCE(SUM(cached_bytes), 0), COALESCE(SUM(CASE WHEN id IN"
                " (SELECT item_id FROM pins) THEN 0 ELSE cached_bytes END), 0) FROM items",
};

/* The connections this thread holds, innermost last. */
static _Thread_local struct store_conn *held[16];
static _Thread_local int n_held;

static struct store_conn *
current(struct of_store *st)
{
    return n_held && held[n_held - 1]->st == st ? held[n_held - 1] : &st->w;
}

int
store_fail(struct of_store *st, struct of_error *reterr, const char *what)
{
    of_log_error("store: %s: %s", what, sqlite3_errmsg(current(st)->db));
    return of_error_set(reterr, OF_E(STORE), "the metadata store failed (%s)", what);
}

sqlite3_stmt *
store_stmt(struct of_store *st, enum stmt_id id)
{
    struct store_conn *c = current(st);
    if (!c->stmts[id]) {
        if (sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[id],
                               NULL) != SQLITE_OK) {
            of_log_bug("prepare %d: %s", (int)id, sqlite3_errmsg(c->db));
            return NULL;
        }
    }
    return c->stmts[id];
}

void
store_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static void
push(struct store_conn *c)
{
    pthread_mutex_lock(&c->lock);
    if (n_held == (int)(sizeof(held) / sizeof(held[0])))
        of_log_bug("store: %d nested locks", n_held);
    else
        held[n_held++] = c;
}

void
store_lock(struct of_store *st)
{
    push(&st->w);
}

void
store_rlock(struct of_store *st)
{
    for (int i = n_held - 1; i >= 0; i--) {
        if (held[i]->st == st) {
            push(held[i]);
            return;
        }
    }
    /* A free reader if there is one, else wait for the next in turn. */
    for (int i = 0; i < STORE_READERS; i++) {
        if (pthread_mutex_trylock(&st->r[i].lock) == 0) {
            held[n_held++] = &st->r[i];
            return;
        }
    }
    push(&st->r[__atomic_fetch_add(&st->next_reader, 1, __ATOMIC_RELAXED) % STORE_READERS]);
}

void
store_unlock(struct of_store *st)
{
    (void)st;
    struct store_conn *c = held[--n_held];
    pthread_mutex_unlock(&c->lock);
}

void
store_copy_text(char *dst, size_t cap, const unsigned char *src)
{
    size_t n = src ? strnlen((const char *)src, cap - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

int
store_exec(struct of_store *st, enum stmt_id id, const char *what, const struct store_arg *args,
           int n, struct of_error *reterr)
{
    store_lock(st);
    int rc = 0;
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, id, rc, reterr);
    for (int i = 0; i < n; i++) {
        if (args[i].text)
            sqlite3_bind_text(s, i + 1, args[i].text, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(s, i + 1, args[i].i);
    }
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = store_fail(st, reterr, what);
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

int
store_exec_id(struct of_store *st, enum stmt_id id, int64_t value, struct of_error *reterr)
{
    return store_exec(st, id, "delete", &STORE_INT(value), 1, reterr);
}

int
store_query_int(struct of_store *st, enum stmt_id id, int64_t value, int64_t *ret,
                struct of_error *reterr)
{
    store_rlock(st);
    int rc = 0;
    sqlite3_stmt *s;
    STORE_PREPARE(st, s, id, rc, reterr);
    if (sqlite3_bind_parameter_count(s) > 0)
        sqlite3_bind_int64(s, 1, value);
    if (sqlite3_step(s) == SQLITE_ROW)
        *ret = sqlite3_column_int64(s, 0);
    else
        rc = store_fail(st, reterr, "count");
    store_done(s);
out_unlock:
    store_unlock(st);
    return rc;
}

/* "//a/b" -> "//a/b/" and "//a/b0": the bounds of every path below it. */
void
store_below_bounds(const char *under, char *lo, char *hi, size_t cap)
{
    snprintf(lo, cap, "%s/", under);
    snprintf(hi, cap, "%s0", under);
}

static int
migrate(struct of_store *st, struct of_error *reterr)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->w.db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, reterr, "read schema version");
    int v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_finalize(s);
    if (v > N_MIGRATIONS)
        return of_error_set(reterr, OF_E(STORE),
                            "the database has schema %d, newer than this daemon's %d", v,
                            N_MIGRATIONS);
    for (; v < N_MIGRATIONS; v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if (sqlite3_exec(st->w.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(st->w.db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(st->w.db, pragma, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(st->w.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            int rc = store_fail(st, reterr, "migrate");
            sqlite3_exec(st->w.db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        of_log_info("store: migrated schema to version %d", v + 1);
    }
    st->version = v;
    return 0;
}

static int
conn_open(struct of_store *st, struct store_conn *c, const char *path, int reader,
          struct of_error *reterr)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&c->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    c->st = st;
    if (sqlite3_open_v2(path, &c->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return of_error_set(reterr, OF_E(STORE), "cannot open the database: %s",
                            c->db ? sqlite3_errmsg(c->db) : "out of memory");
    sqlite3_busy_timeout(c->db, 5000);
    /* synchronous=FULL: a committed row must survive power loss, as the content does. */
    const char *pragmas = reader ? "PRAGMA foreign_keys=ON; PRAGMA query_only=ON;"
                                 : "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
                                   " PRAGMA synchronous=FULL;";
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
        of_log_error("store: configure: %s", sqlite3_errmsg(c->db));
        return of_error_set(reterr, OF_E(STORE), "cannot configure the database");
    }
    return 0;
}

static void
conn_close(struct store_conn *c)
{
    if (!c->st)
        return;
    for (int i = 0; i < S__COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->lock);
}

int
of_store_open(const char *path, struct of_store **ret_store, struct of_error *reterr)
{
    struct of_store *st = calloc(1, sizeof(*st));
    if (!st)
        return of_error_set(reterr, OF_E(NOMEM), "out of memory");
    int rc = conn_open(st, &st->w, path, 0, reterr);
    if (rc == 0)
        rc = migrate(st, reterr);
    /* Readers open after the migrations, on the schema they will read. */
    for (int i = 0; rc == 0 && i < STORE_READERS; i++)
        rc = conn_open(st, &st->r[i], path, 1, reterr);
    if (rc < 0) {
        of_store_free(st);
        return rc;
    }
    *ret_store = st;
    return 0;
}

void
of_store_free(struct of_store *st)
{
    if (!st)
        return;
    for (int i = 0; i < STORE_READERS; i++)
        conn_close(&st->r[i]);
    conn_close(&st->w);
    free(st);
}

int
of_store_schema_version(struct of_store *st)
{
    return st->version;
}

int
of_store_integrity_check(struct of_store *st, struct of_error *reterr)
{
    sqlite3_stmt *s;
    store_lock(st);
    int rc = 0;
    if (sqlite3_prepare_v2(st->w.db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK) {
        rc = store_fail(st, reterr, "integrity check");
        goto out_unlock;
    }
    if (sqlite3_step(s) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0)
        rc = of_error_set(reterr, OF_E(STORE), "integrity check failed");
    sqlite3_finalize(s);
out_unlock:
    store_unlock(st);
    return rc;
}

/*
 * Transactions nest: an inner begin/commit pair joins the outer transaction
 * (the writer lock is recursive and held by this thread), and an inner
 * rollback makes the outer commit roll back too.
 */
int
of_store_begin(struct of_store *st, struct of_error *reterr)
{
    store_lock(st);
    if (st->txn_depth++ > 0)
        return 0;
    st->txn_failed = 0;
    sqlite3_stmt *s = store_stmt(st, S_BEGIN);
    if (!s || sqlite3_step(s) != SQLITE_DONE) {
        int rc = store_fail(st, reterr, "begin");
        if (s)
            store_done(s);
        st->txn_depth--;
        store_unlock(st);
        return rc;
    }
    store_done(s);
    return 0;
}

int
of_store_commit(struct of_store *st, struct of_error *reterr)
{
    if (st->txn_depth > 1) {
        st->txn_depth--;
        store_unlock(st);
        return 0;
    }
    if (st->txn_failed) {
        of_store_rollback(st);
        return of_error_set(reterr, OF_E(STORE), "an inner step failed; nothing was written");
    }
    sqlite3_stmt *s = store_stmt(st, S_COMMIT);
    if (!s || sqlite3_step(s) != SQLITE_DONE) {
        int rc = store_fail(st, reterr, "commit");
        if (s)
            store_done(s);
        of_store_rollback(st);
        return rc;
    }
    store_done(s);
    st->txn_depth = 0;
    store_unlock(st);
    return 0;
}

void
of_store_rollback(struct of_store *st)
{
    if (st->txn_depth > 1) {
        st->txn_depth--;
        st->txn_failed = 1;
        store_unlock(st);
        return;
    }
    sqlite3_stmt *s = store_stmt(st, S_ROLLBACK);
    if (s) {
        sqlite3_step(s);
        store_done(s);
    }
    st->txn_depth = 0;
    store_unlock(st);
}
