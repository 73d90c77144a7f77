/* SPDX-License-Identifier: MIT */
/*
 * The webdav backend: a share is a WebDAV collection on an http:// or
 * https:// server, reached with libcurl. This file holds the backend object
 * (opening, the share's URL, freeing), the PROPFIND that most operations
 * start from, and the operations on names: stat, list, remove, mkdir,
 * rename, probe. Reading and writing content is webdav_rw.c; every request
 * runs on its caller's thread on an easy handle of the share's pool
 * (webdav_http.c).
 *
 * Preconditions: many servers (nginx, rclone) ignore If-Match and
 * If-None-Match on PUT and DELETE, so a conditional write first checks the
 * current etag with a PROPFIND and then also sends the header, which makes
 * the check atomic on servers that honour it (Apache). A 412 is always a
 * conflict, never a reason to overwrite. Apache marks a tag weak for the
 * first second after a change, and a weak tag never passes If-Match: such a
 * write waits for the tag to turn strong (see webdav_xml.h for how weak and
 * missing tags are recorded).
 *
 * Other things the protocol leaves to the client: a remove PROPFINDs at
 * depth 1, since DELETE takes a collection's members along; a rename checks
 * the destination's parent, since nginx would make it.
 *
 * The object owns its copies of the URL and of the credentials (wiped on
 * free); neither a secret nor a credential-bearing URL is ever logged or put
 * in an error detail: details name share-relative paths.
 */
#include "webdav_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "path.h"
#include "util.h"

#define WEAK_WAITS 4
#define WEAK_WAIT_MS 500

static const char propfind_body[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:resourcetype/><D:getcontentlength/>"
    "<D:getlastmodified/><D:getetag/></D:prop></D:propfind>\n";

int
webdav_check_rel(const char *rel, struct of_error *err)
{
    if (!rel || of_path_validate_rel(rel, err) < 0)
        return FAIL(err, OF_E(BAD_PATH), "'%s' is not a valid share path", rel ? rel : "");
    return 0;
}

/* ---- PROPFIND ---- */

static int
propfind_once(struct webdav *w, const char *rel, int depth, int slash,
              struct of_webdav_entry **ret_v, size_t *ret_n, long *ret_status, struct of_error *err)
{
    struct xfer x;
    int rc = webdav_xfer_open(w, &x, "PROPFIND", rel, slash, err);
    if (rc == 0)
        rc = webdav_xfer_xml(&x, err);
    if (rc == 0)
        rc = webdav_xfer_header(&x, depth ? "Depth: 1" : "Depth: 0", err);
    if (rc == 0)
        rc = webdav_xfer_header(&x, "Content-Type: application/xml; charset=utf-8", err);
    if (rc < 0)
        goto out;
    curl_easy_setopt(x.easy, CURLOPT_POSTFIELDS, propfind_body);
    curl_easy_setopt(x.easy, CURLOPT_POSTFIELDSIZE, (long)(sizeof(propfind_body) - 1));
    webdav_run(w, &x, depth ? "PROPFIND 1" : "PROPFIND 0", rel);
    *ret_status = x.status;
    if (x.status == 207 && (x.result == CURLE_OK || x.result == CURLE_WRITE_ERROR))
        rc = of_webdav_xml_finish(x.xml, ret_v, ret_n, err);
    else if (x.result != CURLE_OK)
        rc = webdav_transport_fail(&x, "reading", rel, err);
    else if (x.status >= 300 && x.status < 400)
        rc = FAIL(err, OF_E(IO), "the server redirected the request for '%s'", webdav_shown(rel));
    else if (x.status >= 200 && x.status < 300)
        rc = FAIL(err, OF_E(UNAVAILABLE), "the server's reply about '%s' is not a DAV multistatus",
                  webdav_shown(rel));
    else
        rc = webdav_status_fail(w, x.status, "reading", rel, err);
out:
    webdav_xfer_done(&x);
    return rc;
}

/* Note whether the server tags files in its PROPFIND replies (the first file seen decides). */
static void
learn_etags(struct webdav *w, const struct of_webdav_entry *v, size_t n)
{
    if (__atomic_load_n(&w->propfind_etags, __ATOMIC_RELAXED) >= 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (v[i].st.type == OF_STAT_FILE) {
            int tags = (v[i].flags & OF_WEBDAV_ETAG_SERVER) != 0;
            __atomic_store_n(&w->propfind_etags, tags, __ATOMIC_RELAXED);
            return;
        }
    }
}

/*
 * PROPFIND rel at depth 0 or 1: its entries (malloc'ed) and a pointer to the
 * one for rel itself. A server that redirects a collection's URL to its
 * slash form is asked again at that form.
 */
static int
propfind(struct webdav *w, const char *rel, int depth, struct of_webdav_entry **ret_v,
         size_t *ret_n, struct of_webdav_entry **ret_self, struct of_error *err)
{
    struct of_webdav_entry *v = NULL;
    size_t n = 0;
    long status = 0;
    int rc = propfind_once(w, rel, depth, 0, &v, &n, &status, err);
    if (rc < 0 && status >= 300 && status < 400 && rel[0])
        rc = propfind_once(w, rel, depth, 1, &v, &n, &status, err);
    if (rc < 0)
        return rc;
    struct of_webdav_entry *self = NULL;
    for (size_t i = 0; i < n && !self; i++)
        if (v[i].name[0] == '\0')
            self = &v[i];
    if (!self) {
        free(v);
        return FAIL(err, OF_E(UNAVAILABLE), "the server's reply does not describe '%s' itself",
                    webdav_shown(rel));
    }
    learn_etags(w, v, n);
    /* Hidden follows the item's own name, as in a listing of its parent. */
    const char *name = rel[0] ? of_path_name(rel) : "";
    if (name[0] == '.')
        self->st.attrs |= OF_ATTR_HIDDEN;
    *ret_v = v;
    *ret_n = n;
    *ret_self = self;
    return 0;
}

int
webdav_stat_entry(struct webdav *w, const char *rel, struct of_webdav_entry *ret,
                  struct of_error *err)
{
    struct of_webdav_entry *v, *self;
    size_t n;
    int rc = propfind(w, rel, 0, &v, &n, &self, err);
    if (rc < 0)
        return rc;
    *ret = *self;
    free(v);
    return 0;
}

/* The parent of rel into buf (OF_PATH_MAX + 1 bytes). */
static void
parent_of(const char *rel, char *buf)
{
    const char *slash = strrchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : 0;
    memcpy(buf, rel, n);
    buf[n] = '\0';
}

/*
 * Creating rel failed with HTTP st: say why from its parent's state (servers
 * answer 404, 409 or even 500 for a missing parent).
 */
int
webdav_create_fail(struct webdav *w, const char *rel, long st, const char *what,
                   struct of_error *err)
{
    char parent[OF_PATH_MAX + 1];
    struct of_webdav_entry pe;
    struct of_error perr = {0};
    parent_of(rel, parent);
    int rc = webdav_stat_entry(w, parent, &pe, &perr);
    if (rc == OF_E(NOT_FOUND))
        return FAIL(err, OF_E(PARENT_MISSING), "the directory '%s' does not exist",
                    webdav_shown(parent));
    if (rc == 0 && pe.st.type != OF_STAT_DIR)
        return FAIL(err, OF_E(NOT_A_DIR), "'%s' is not a directory", webdav_shown(parent));
    if (rc == OF_E(UNAVAILABLE) && st < 500) {
        if (err)
            *err = perr;
        return rc;
    }
    if (st == 404 || st == 409)
        return FAIL(err, OF_E(IO), "the server refused %s '%s' (HTTP %ld)", what, webdav_shown(rel),
                    st);
    return webdav_status_fail(w, st, what, rel, err);
}

/*
 * Check the precondition if_match ("" or an etag) of a change to rel against
 * the server's current state, read at depth, and write the header that makes
 * the server check it again (hdr, cap bytes, "" for none). The entries read
 * (NULL when rel does not exist) are handed to the caller.
 */
int
webdav_precheck(struct webdav *w, const char *rel, const char *if_match, int depth, char *hdr,
                size_t cap, struct of_webdav_entry **ret_v, size_t *ret_n,
                struct of_webdav_entry **ret_self, struct of_error *err)
{
    for (int waits = 0;; waits++) {
        struct of_webdav_entry *v = NULL, *self = NULL;
        size_t n = 0;
        int rc = propfind(w, rel, depth, &v, &n, &self, err);
        hdr[0] = '\0';
        if (rc == OF_E(NOT_FOUND) && !if_match[0]) {
            snprintf(hdr, cap, "If-None-Match: *");
            *ret_v = *ret_self = NULL;
            *ret_n = 0;
            return 0;
        }
        if (rc < 0)
            return rc;
        if (!if_match[0] || strcmp(self->st.etag, if_match) != 0) {
            free(v);
            return FAIL(err, OF_E(PRECONDITION),
                        if_match[0] ? "'%s' changed on the server"
                                    : "'%s' already exists on the server",
                        rel);
        }
        unsigned int f = self->flags;
        if ((f & OF_WEBDAV_ETAG_SERVER) && !(f & OF_WEBDAV_ETAG_WEAK))
            snprintf(hdr, cap, "If-Match: %s", self->st.etag);
        /* A weak tag fails If-Match: wait for the server to call it strong, for a while. */
        if ((f & OF_WEBDAV_ETAG_SERVER) && (f & OF_WEBDAV_ETAG_WEAK) && waits < WEAK_WAITS) {
            free(v);
            webdav_sleep_ms(WEAK_WAIT_MS);
            continue;
        }
        *ret_v = v;
        *ret_n = n;
        *ret_self = self;
        return 0;
    }
}

/* ---- operations ---- */

static int
wd_stat(struct of_backend *be, const char *rel, struct of_stat *ret_st, struct of_error *err)
{
    struct of_webdav_entry e;
    int rc = webdav_check_rel(rel, err);
    if (rc == 0)
        rc = webdav_stat_entry((struct webdav *)be, rel, &e, err);
    if (rc == 0)
        *ret_st = e.st;
    return rc;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct of_dirent *)a)->name, ((const struct of_dirent *)b)->name);
}

static int
wd_list(struct of_backend *be, const char *rel, struct of_dirent **ret_entries, size_t *ret_count,
        struct of_error *err)
{
    struct of_webdav_entry *v, *self;
    size_t n, k = 0;
    int rc = webdav_check_rel(rel, err);
    if (rc == 0)
        rc = propfind((struct webdav *)be, rel, 1, &v, &n, &self, err);
    if (rc < 0)
        return rc;
    struct of_dirent *out = NULL;
    if (self->st.type != OF_STAT_DIR)
        rc = FAIL(err, OF_E(NOT_A_DIR), "'%s' is not a directory", webdav_shown(rel));
    else if (!(out = calloc(n, sizeof(*out)))) /* n counts rel itself too */
        rc = FAIL(err, OF_E(NOMEM), "out of memory listing '%s'", webdav_shown(rel));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (v[i].name[0] == '\0')
            continue;
        memcpy(out[k].name, v[i].name, sizeof(out[k].name));
        out[k].st = v[i].st;
        k++;
    }
    free(v);
    if (rc < 0) {
        free(out);
        return rc;
    }
    /* Sorted, so that callers and tests see a stable order (as from the fs backend). */
    if (k > 1)
        qsort(out, k, sizeof(*out), by_name);
    *ret_entries = out;
    *ret_count = k;
    return 0;
}

/* What we know of a version we just wrote when the server will not tell. */
void
webdav_stat_guess(struct of_stat *st, enum of_stat_type type, int64_t size, const char *etag)
{
    memset(st, 0, sizeof(*st));
    st->type = type;
    st->size = size;
    st->mtime_ns = of_now_ns();
    st->attrs = type == OF_STAT_DIR ? OF_ATTR_DIRECTORY : 0;
    of_webdav_etag_set(etag, st);
}

int
webdav_remove(struct of_backend *be, const char *rel, const char *if_match, struct of_error *err)
{
    struct webdav *w = (struct webdav *)be;
    struct of_webdav_entry *v = NULL, *self = NULL;
    char hdr[OF_ETAG_MAX + 32] = "";
    size_t n = 0;
    int rc = webdav_check_rel(rel, err);
    if (rc == 0 && !rel[0])
        rc = FAIL(err, OF_E(BAD_PATH), "the share root cannot be removed");
    if (rc == 0 && if_match)
        rc = webdav_precheck(w, rel, if_match, 1, hdr, sizeof(hdr), &v, &n, &self, err);
    else if (rc == 0)
        rc = propfind(w, rel, 1, &v, &n, &self, err);
    if (rc == 0 && !self)
        rc = FAIL(err, OF_E(NOT_FOUND), "'%s' does not exist", rel);
    /* DELETE of a collection takes its members with it; the contract wants only empty ones. */
    if (rc == 0 && self->st.type == OF_STAT_DIR && n > 1)
        rc = FAIL(err, OF_E(NOT_EMPTY), "the directory '%s' is not empty", rel);
    int dir = rc == 0 && self->st.type == OF_STAT_DIR;
    free(v);
    if (rc < 0)
        return rc;
    struct xfer x;
    rc = webdav_xfer_open(w, &x, "DELETE", rel, dir, err);
    if (rc == 0 && hdr[0])
        rc = webdav_xfer_header(&x, hdr, err);
    if (rc < 0)
        goto out;
    webdav_run(w, &x, "DELETE", rel);
    if (x.result != CURLE_OK)
        rc = webdav_transport_fail(&x, "removing", rel, err);
    else if (x.status == 207)
        rc = FAIL(err, OF_E(IO), "the server could not remove all of '%s'", rel);
    else if (x.status < 200 || x.status >= 300)
        rc = webdav_status_fail(w, x.status, "removing", rel, err);
out:
    webdav_xfer_done(&x);
    return rc;
}

static int
wd_mkdir(struct of_backend *be, const char *rel, struct of_stat *ret_st, struct of_error *err)
{
    struct webdav *w = (struct webdav *)be;
    struct of_webdav_entry after;
    struct xfer x;
    int rc = webdav_check_rel(rel, err);
    if (rc == 0 && !rel[0])
        rc = FAIL(err, OF_E(EXISTS), "the share root exists");
    if (rc < 0)
        return rc;
    rc = webdav_xfer_open(w, &x, "MKCOL", rel, 1, err);
    if (rc == 0)
        webdav_run(w, &x, "MKCOL", rel);
    if (rc == 0 && x.result != CURLE_OK)
        rc = webdav_transport_fail(&x, "creating", rel, err);
    long st = x.status;
    webdav_xfer_done(&x);
    if (rc < 0)
        return rc;
    if (st == 405)
        return FAIL(err, OF_E(EXISTS), "'%s' already exists", rel);
    if (st == 404 || st == 409 || st >= 500)
        return webdav_create_fail(w, rel, st, "creating", err);
    if (st < 200 || st >= 300)
        return webdav_status_fail(w, st, "creating", rel, err);
    if (ret_st && webdav_stat_entry(w, rel, &after, NULL) == 0)
        *ret_st = after.st;
    else if (ret_st)
        webdav_stat_guess(ret_st, OF_STAT_DIR, 0, NULL);
    return 0;
}

static int
move(struct webdav *w, const char *from, const char *to, int dir, int replace, struct of_error *err)
{
    struct xfer x;
    char *dest = webdav_url_of(w, to, dir);
    size_t cap = dest ? strlen(dest) + 16 : 0;
    char *line = dest ? malloc(cap) : NULL; /* NULL: webdav_xfer_header fails as out of memory */
    if (line)
        snprintf(line, cap, "Destination: %s", dest);
    free(dest);
    int rc = webdav_xfer_open(w, &x, "MOVE", from, dir, err);
    if (rc == 0)
        rc = webdav_xfer_header(&x, line, err);
    if (rc == 0)
        rc = webdav_xfer_header(&x, replace ? "Overwrite: T" : "Overwrite: F", err);
    free(line);
    if (rc == 0)
        webdav_run(w, &x, "MOVE", from);
    if (rc == 0 && x.result != CURLE_OK)
        rc = webdav_transport_fail(&x, "moving", from, err);
    long st = x.status;
    /* Back to the pool first: webdav_create_fail makes requests of its own. */
    webdav_xfer_done(&x);
    if (rc == 0 && st == 412 && !replace)
        rc = FAIL(err, OF_E(EXISTS), "'%s' already exists", to);
    else if (rc == 0 && (st == 409 || (st >= 500 && st != 502)))
        rc = webdav_create_fail(w, to, st, "moving to", err);
    else if (rc == 0 && (st < 200 || st >= 300))
        rc = webdav_status_fail(w, st, "moving", from, err);
    return rc;
}

static int
wd_rename(struct of_backend *be, const char *from, const char *to, int replace,
          struct of_error *err)
{
    struct webdav *w = (struct webdav *)be;
    struct of_webdav_entry src, dst;
    int rc = webdav_check_rel(from, err);
    if (rc == 0)
        rc = webdav_check_rel(to, err);
    if (rc == 0 && (!from[0] || !to[0]))
        rc = FAIL(err, OF_E(BAD_PATH), "the share root cannot be moved");
    size_t flen = rc == 0 ? strlen(from) : 0;
    if (rc == 0 && strncmp(to, from, flen) == 0 && to[flen] == '/')
        rc = FAIL(err, OF_E(INVALID), "'%s' cannot move into itself", from);
    if (rc == 0)
        rc = webdav_stat_entry(w, from, &src, err);
    if (rc < 0 || strcmp(from, to) == 0)
        return rc;
    int dir = src.st.type == OF_STAT_DIR;
    struct of_error derr = {0};
    int found = replace ? webdav_stat_entry(w, to, &dst, &derr) : OF_E(NOT_FOUND);
    if (found == OF_E(UNAVAILABLE)) {
        if (err)
            *err = derr;
        return found;
    }
    /* replace overwrites files only: swallowing a directory is never what a client meant. */
    if (found == 0 && dst.st.type == OF_STAT_DIR)
        return FAIL(err, OF_E(NOT_A_FILE), "'%s' is a directory", to);
    if (found == 0 && dir)
        return FAIL(err, OF_E(NOT_A_DIR), "'%s' is not a directory", to);
    /* Some servers (nginx) make the missing parents of a destination: the contract does not. */
    char parent[OF_PATH_MAX + 1];
    struct of_webdav_entry pe;
    parent_of(to, parent);
    rc = parent[0] ? webdav_stat_entry(w, parent, &pe, err) : 0;
    if (rc == OF_E(NOT_FOUND))
        return FAIL(err, OF_E(PARENT_MISSING), "the directory '%s' does not exist", parent);
    if (rc == 0 && parent[0] && pe.st.type != OF_STAT_DIR)
        return FAIL(err, OF_E(NOT_A_DIR), "'%s' is not a directory", parent);
    return rc < 0 ? rc : move(w, from, to, dir, replace, err);
}

static int
wd_probe(struct of_backend *be, struct of_error *err)
{
    struct of_webdav_entry root;
    int rc = webdav_stat_entry((struct webdav *)be, "", &root, err);
    if (rc == OF_E(NOT_FOUND))
        return FAIL(err, OF_E(UNAVAILABLE), "the share's collection does not exist on the server");
    if (rc == 0 && root.st.type != OF_STAT_DIR)
        return FAIL(err, OF_E(UNAVAILABLE), "the share's URL names a file, not a collection");
    if (rc < 0 && rc != OF_E(UNAVAILABLE)) {
        char why[sizeof(err->detail)];
        snprintf(why, sizeof(why), "%s", err ? err->detail : "");
        return FAIL(err, OF_E(UNAVAILABLE), "the share cannot be checked now: %s", why);
    }
    return rc;
}

static void
wipe(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void
wd_free(struct of_backend *be)
{
    struct webdav *w = (struct webdav *)be;
    if (!w)
        return;
    webdav_stop(w);
    pthread_mutex_destroy(&w->lock);
    free(w->url);
    wipe(w->username);
    wipe(w->secret);
    free(w->ca_file);
    free(w);
}

static const struct of_backend_ops webdav_ops = {
    .name = "webdav",
    .versions_by_listing = 1,
    .stat = wd_stat,
    .list = wd_list,
    .read = webdav_read,
    .write = webdav_write,
    .remove = webdav_remove,
    .mkdir = wd_mkdir,
    .rename = wd_rename,
    .probe = wd_probe,
    .free = wd_free,
};

/* ---- opening ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Is part set in u? (A scheme-less or absent part reads as unset.) */
static int
has_part(CURLU *u, CURLUPart part)
{
    char *v = NULL;
    int has = curl_url_get(u, part, &v, 0) == CURLUE_OK && v && v[0];
    curl_free(v);
    return has;
}

/*
 * Check url and store it, normalized with a trailing slash, in w->url.
 * Credentials in the URL are refused: they would end up in the share's
 * configuration, its listing and logs.
 */
static int
parse_url(struct webdav *w, const char *url, struct of_error *err)
{
    char *scheme = NULL, *path = NULL, *full = NULL;
    int rc = OF_E(BAD_FIELD);
    /* curl reads "http:///x" as host "x"; RFC 9110 says an empty authority is invalid. */
    const char *auth = strstr(url, "://");
    if (!auth || auth[3] == '\0' || auth[3] == '/')
        return of_error_set(err, rc, "the remote URL needs a host: http://HOST/path");
    CURLU *u = curl_url();
    if (!u)
        return FAIL(err, OF_E(NOMEM), "out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
        !has_part(u, CURLUPART_HOST)) {
        of_error_set(err, rc, "the remote is not a valid http:// or https:// URL");
        goto out;
    }
    if (has_part(u, CURLUPART_USER) || has_part(u, CURLUPART_PASSWORD)) {
        of_error_set(err, rc,
                     "the remote URL must not hold credentials: give them as the "
                     "share's auth settings");
        goto out;
    }
    if (has_part(u, CURLUPART_QUERY) || has_part(u, CURLUPART_FRAGMENT)) {
        of_error_set(err, rc, "the remote URL must not have a query or a fragment");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        of_error_set(err, rc, "the remote URL has no path");
        goto out;
    }
    size_t plen = strlen(path);
    if (plen == 0 || path[plen - 1] != '/') {
        char *slashed = malloc(plen + 2);
        if (!slashed) {
            rc = FAIL(err, OF_E(NOMEM), "out of memory");
            goto out;
        }
        snprintf(slashed, plen + 2, "%s/", path);
        CURLUcode uc = curl_url_set(u, CURLUPART_PATH, slashed, 0);
        free(slashed);
        if (uc != CURLUE_OK) {
            of_error_set(err, rc, "the remote URL's path is not valid");
            goto out;
        }
        curl_free(path);
        path = NULL;
        curl_url_get(u, CURLUPART_PATH, &path, 0);
    }
    struct of_webdav_xml *probe = NULL;
    if (!path || curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK ||
        strlen(full) < strlen(path) || strcmp(full + strlen(full) - strlen(path), path) != 0 ||
        of_webdav_xml_new(path, &probe, NULL) < 0) {
        of_error_set(err, rc, "the remote URL's path is not valid");
        goto out;
    }
    of_webdav_xml_free(probe);
    w->url = strdup(full);
    if (!w->url) {
        rc = FAIL(err, OF_E(NOMEM), "out of memory");
        goto out;
    }
    w->origin_len = strlen(full) - strlen(path);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(path);
    curl_free(full);
    curl_url_cleanup(u);
    return rc;
}

static int
copy_options(struct webdav *w, const struct of_backend_options *o, struct of_error *err)
{
    w->auth = o->auth;
    w->insecure = o->insecure;
    w->transfers = o->transfers > 0 ? o->transfers : 4;
    w->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    w->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
    if (o->auth != OF_AUTH_NONE && o->auth != OF_AUTH_BASIC && o->auth != OF_AUTH_DIGEST &&
        o->auth != OF_AUTH_BEARER)
        return FAIL(err, OF_E(BAD_FIELD), "unknown authentication scheme");
    if ((o->auth == OF_AUTH_BASIC || o->auth == OF_AUTH_DIGEST) && (!o->username || !o->secret))
        return FAIL(err, OF_E(BAD_FIELD), "basic and digest auth need a user name and a password");
    if (o->auth == OF_AUTH_BEARER && (!o->secret || !o->secret[0]))
        return FAIL(err, OF_E(BAD_FIELD), "bearer auth needs a token");
    if ((o->username && !(w->username = strdup(o->username))) ||
        (o->secret && !(w->secret = strdup(o->secret))) ||
        (o->ca_file && o->ca_file[0] && !(w->ca_file = strdup(o->ca_file))))
        return FAIL(err, OF_E(NOMEM), "out of memory");
    return 0;
}

int
of_backend_webdav_open(const char *url, const struct of_backend_options *opts,
                       struct of_backend **ret_be, struct of_error *reterr)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return FAIL(reterr, OF_E(INTERNAL), "libcurl cannot be initialized");
    struct webdav *w = calloc(1, sizeof(*w));
    if (w)
        w->propfind_etags = w->preconds = -1;
    if (!w)
        return FAIL(reterr, OF_E(NOMEM), "out of memory");
    w->base.ops = &webdav_ops;
    pthread_mutex_init(&w->lock, NULL);
    int rc = parse_url(w, url, reterr);
    if (rc == 0)
        rc = copy_options(w, opts, reterr);
    if (rc == 0)
        rc = webdav_start(w, reterr);
    if (rc < 0) {
        wd_free(&w->base);
        return rc;
    }
    if (w->insecure)
        of_log_warn("webdav: TLS verification is off for %s, as configured", w->url);
    *ret_be = &w->base;
    return 0;
}
