/* SPDX-License-Identifier: MIT */
/*
 * The webdav backend's operations on content: read (GET) and write (PUT).
 * A read PROPFINDs first and checks the GET's reply against that version
 * before any byte reaches the sink, so a changed file is fetched again,
 * never delivered torn; once a listing has shown how the server names
 * versions, a whole-file read is one GET named by its own reply headers. A
 * conditional write checks its precondition as webdav.c says, with a
 * PROPFIND first, unless it updates a tagged version on a server found (by a
 * probe, once per backend) to honour If-Match on PUT.
 */
#include "webdav_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "path.h"
#include "util.h"

#define READ_ATTEMPTS 3

/* ---- reading ---- */

/*
 * One GET of bytes [offset, offset + want) of the version cur describes.
 * Returns 0, 1 when the server holds another version by now (nothing was
 * delivered), or a negative code.
 */
static int
get_once(struct webdav *w, const char *rel, const struct of_webdav_entry *cur, int64_t offset,
         int64_t want, const struct of_sink *sink, struct of_error *err)
{
    struct xfer x;
    char range[64], hdr[OF_ETAG_MAX + 16];
    int rc = webdav_xfer_open(w, &x, "GET", rel, 0, err);
    unsigned int f = cur->flags;
    if (rc == 0 && (f & OF_WEBDAV_ETAG_SERVER) && !(f & OF_WEBDAV_ETAG_WEAK)) {
        snprintf(hdr, sizeof(hdr), "If-Match: %s", cur->st.etag);
        rc = webdav_xfer_header(&x, hdr, err);
    }
    if (rc < 0)
        goto out;
    if (offset > 0 || want < cur->st.size - offset) {
        snprintf(range, sizeof(range), "%" PRId64 "-%" PRId64, offset, offset + want - 1);
        curl_easy_setopt(x.easy, CURLOPT_RANGE, range);
    }
    x.mode = BODY_SINK;
    x.sink = sink;
    x.expect = cur;
    x.offset = offset;
    x.want = want;
    webdav_run(w, &x, "GET", rel);
    if (x.sink_rc)
        rc = FAIL(err, x.sink_rc, "the transfer of '%s' was stopped by its receiver", rel);
    else if (x.mismatch || x.status == 412 || x.status == 416)
        rc = 1;
    else if (x.result != CURLE_OK && !(x.complete && x.result == CURLE_WRITE_ERROR))
        rc = webdav_transport_fail(&x, "reading", rel, err);
    else if (x.status != 200 && x.status != 206)
        rc = webdav_status_fail(w, x.status, "reading", rel, err);
    else if (x.got != want)
        rc = FAIL(err, OF_E(UNAVAILABLE), "the download of '%s' was cut short", rel);
out:
    webdav_xfer_done(&x);
    return rc;
}

/*
 * A whole file in one GET (or only its version, with a HEAD when sink is
 * NULL), its version read from the reply's own headers:
 * the reply is one version as the server sent it, so no PROPFIND is needed
 * first. Named as a listing would name it: by the ETag when the server's
 * PROPFIND gives tags, else by Last-Modified and size. Returns 1 when the
 * server answered anything but 200 (a directory, a missing file, a refusal):
 * nothing reached the sink, and the caller asks again the careful way.
 */
static int
get_whole(struct webdav *w, const char *rel, int tags, const struct of_sink *sink,
          struct of_stat *ret_st, struct of_error *err)
{
    struct xfer x;
    int rc = webdav_xfer_open(w, &x, "GET", rel, 0, err);
    if (rc < 0)
        goto out;
    if (sink) {
        x.mode = BODY_SINK;
        x.sink = sink;
        x.want = -1;
    } else {
        curl_easy_setopt(x.easy, CURLOPT_NOBODY, 1L); /* HEAD: the version, no bytes */
    }
    webdav_run(w, &x, sink ? "GET" : "HEAD", rel);
    if (!sink)
        x.got = x.content_length;
    int64_t mtime = 0;
    if (x.sink_rc)
        rc = FAIL(err, x.sink_rc, "the transfer of '%s' was stopped by its receiver", rel);
    else if (x.result != CURLE_OK)
        rc = webdav_transport_fail(&x, "reading", rel, err);
    else if (x.status != 200 || x.got < 0)
        rc = 1; /* nothing was delivered: let the careful path tell what is wrong */
    else if (x.content_length >= 0 && x.got != x.content_length)
        rc = FAIL(err, OF_E(UNAVAILABLE), "the download of '%s' was cut short", rel);
    else if (!x.last_modified[0] || of_webdav_http_date(x.last_modified, &mtime) < 0)
        rc = FAIL(err, OF_E(UNAVAILABLE), "the server did not say which version of '%s' it sent",
                  rel);
    if (rc == 0 && ret_st) {
        memset(ret_st, 0, sizeof(*ret_st));
        ret_st->type = OF_STAT_FILE;
        ret_st->size = x.got;
        ret_st->mtime_ns = mtime;
        if (of_path_name(rel)[0] == '.')
            ret_st->attrs |= OF_ATTR_HIDDEN;
        of_webdav_etag_set(tags ? x.etag : NULL, ret_st);
    }
out:
    webdav_xfer_done(&x);
    return rc;
}

/* Only a file's version, with a HEAD (get_whole without a sink): 0, or nonzero when it cannot tell.
 */
static int
head_version(struct webdav *w, const char *rel, int tags, struct of_stat *ret_st)
{
    return get_whole(w, rel, tags, NULL, ret_st, NULL);
}

int
webdav_read(struct of_backend *be, const char *rel, int64_t offset, int64_t length,
            const struct of_sink *sink, struct of_stat *ret_st, struct of_error *err)
{
    struct webdav *w = (struct webdav *)be;
    if (offset < 0)
        return FAIL(err, OF_E(BAD_RANGE), "a read cannot start before the file");
    int rc = webdav_check_rel(rel, err);
    int tags = __atomic_load_n(&w->propfind_etags, __ATOMIC_RELAXED);
    /* Until a listing has shown how the server names versions, ask it first (below). */
    if (rc == 0 && offset == 0 && length < 0 && tags >= 0 && rel[0]) {
        rc = get_whole(w, rel, tags, sink, ret_st, err);
        if (rc <= 0)
            return rc;
        rc = 0;
    }
    for (int attempt = 0; rc == 0 && attempt < READ_ATTEMPTS; attempt++) {
        struct of_webdav_entry cur;
        rc = webdav_stat_entry(w, rel, &cur, err);
        if (rc == 0 && cur.st.type != OF_STAT_FILE)
            rc = FAIL(err, OF_E(NOT_A_FILE), "'%s' is a directory", webdav_shown(rel));
        if (rc < 0)
            return rc;
        /* Past the end there is nothing to read, and offset + want must not overflow. */
        int64_t left = offset < cur.st.size ? cur.st.size - offset : 0;
        int64_t want = length >= 0 && length < left ? length : left;
        rc = want > 0 ? get_once(w, rel, &cur, offset, want, sink, err) : 0;
        if (rc == 0 && ret_st)
            *ret_st = cur.st;
        if (rc != 1)
            return rc;
        rc = 0; /* changed between the PROPFIND and the GET: look again */
    }
    return FAIL(err, OF_E(IO), "'%s' kept changing on the server while it was read", rel);
}

/* ---- writing ---- */

/* PUT the whole of fd_in (len bytes) to rel with the precondition header hdr. */
static int
put_once(struct webdav *w, const char *rel, int fd_in, int64_t len, const char *hdr, char *ret_etag,
         long *ret_status, struct of_error *err)
{
    struct xfer x;
    int rc = webdav_xfer_open(w, &x, "PUT", rel, 0, err);
    if (rc == 0 && hdr[0])
        rc = webdav_xfer_header(&x, hdr, err);
    /*
     * A small body goes with the headers: waiting for a 100 Continue first
     * costs a round trip, and a second whenever a server answers late.
     */
    if (rc == 0 && len < ((int64_t)1 << 20))
        rc = webdav_xfer_header(&x, "Expect:", err);
    if (rc < 0)
        goto out;
    x.fd = fd_in;
    x.up_len = len;
    curl_easy_setopt(x.easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(x.easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(x.easy, CURLOPT_READFUNCTION, webdav_on_upload);
    curl_easy_setopt(x.easy, CURLOPT_READDATA, &x);
    curl_easy_setopt(x.easy, CURLOPT_SEEKFUNCTION, webdav_on_seek);
    curl_easy_setopt(x.easy, CURLOPT_SEEKDATA, &x);
    webdav_run(w, &x, "PUT", rel);
    *ret_status = x.status;
    snprintf(ret_etag, HDR_VALUE_MAX, "%s", x.etag);
    if (x.result != CURLE_OK)
        rc = webdav_transport_fail(&x, "writing", rel, err);
out:
    webdav_xfer_done(&x);
    return rc;
}
/*
 * PUT nothing to a name that does not exist with an If-Match no version can
 * match: a server that honours preconditions answers 412 and creates
 * nothing; one that ignores them creates the file, which goes again at once.
 * Returns 1, 0, or -1 when the server could not be asked (ask again later).
 */
static int
probe_preconditions(struct webdav *w)
{
    unsigned char rnd[8];
    char rel[64], hex[17], etag[HDR_VALUE_MAX];
    long st = 0;
    struct of_error err = {0};
    if (of_random(rnd, sizeof(rnd)) < 0)
        return -1;
    of_hex(rnd, sizeof(rnd), hex);
    snprintf(rel, sizeof(rel), ".of-precondition-probe-%s", hex);
    if (put_once(w, rel, -1, 0, "If-Match: \"of-never-a-version\"", etag, &st, &err) < 0)
        return -1;
    if (st >= 200 && st < 300)
        webdav_remove(&w->base, rel, NULL, &err);
    of_log_info("webdav: the server %s If-Match on PUT (HTTP %ld to the probe)",
                st == 412 ? "honours" : "does not honour", st);
    return st == 412;
}

static int
honours_preconditions(struct webdav *w)
{
    int v = __atomic_load_n(&w->preconds, __ATOMIC_ACQUIRE);
    if (v != -1)
        return v == 1;
    /* One thread probes; the others take the careful path meanwhile. */
    if (!__atomic_compare_exchange_n(&w->preconds, &v, -2, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return 0;
    v = probe_preconditions(w);
    __atomic_store_n(&w->preconds, v, __ATOMIC_RELEASE);
    return v == 1;
}

int
webdav_write(struct of_backend *be, const char *rel, int fd_in, const char *if_match,
             struct of_stat *ret_st, struct of_error *err)
{
    struct webdav *w = (struct webdav *)be;
    struct of_webdav_entry *v = NULL, *self = NULL, after;
    char hdr[OF_ETAG_MAX + 32] = "", etag[HDR_VALUE_MAX];
    size_t n = 0;
    struct stat sb;
    long st = 0;
    int rc = webdav_check_rel(rel, err);
    if (rc == 0 && !rel[0])
        rc = FAIL(err, OF_E(NOT_A_FILE), "the share root is a directory");
    if (rc == 0 && fstat(fd_in, &sb) < 0)
        rc = FAIL(err, OF_E(IO), "cannot read the new content of '%s'", rel);
    /*
     * An update of a server-tagged version goes straight out with If-Match
     * where the server honours it. A 412 may still be a tag the server calls
     * weak for now, so it is looked into the careful way below.
     */
    int direct = rc == 0 && if_match && if_match[0] == '"' && honours_preconditions(w);
    if (direct) {
        snprintf(hdr, sizeof(hdr), "If-Match: %s", if_match);
        rc = put_once(w, rel, fd_in, (int64_t)sb.st_size, hdr, etag, &st, err);
        direct = rc < 0 || st != 412;
        hdr[0] = '\0';
    }
    if (!direct && rc == 0 && if_match)
        rc = webdav_precheck(w, rel, if_match, 0, hdr, sizeof(hdr), &v, &n, &self, err);
    if (rc == OF_E(NOT_FOUND))
        rc = FAIL(err, OF_E(PRECONDITION), "'%s' no longer exists on the server", rel);
    if (rc == 0 && self && self->st.type == OF_STAT_DIR)
        rc = FAIL(err, OF_E(NOT_A_FILE), "'%s' is a directory", rel);
    free(v);
    if (!direct && rc == 0)
        rc = put_once(w, rel, fd_in, (int64_t)sb.st_size, hdr, etag, &st, err);
    if (rc < 0)
        return rc;
    if (st == 412)
        return FAIL(err, OF_E(PRECONDITION),
                    if_match && !if_match[0] ? "'%s' already exists on the server"
                                             : "'%s' changed on the server",
                    rel);
    if (st == 405 || ((st == 404 || st == 409) && webdav_stat_entry(w, rel, &after, NULL) == 0 &&
                      after.st.type == OF_STAT_DIR))
        return FAIL(err, OF_E(NOT_A_FILE), "'%s' is a directory", rel);
    if (st == 404 || st == 409 || st >= 500)
        return webdav_create_fail(w, rel, st, "writing", err);
    /* Apache answers a PUT below another client's lock with 207: never a success for PUT. */
    if (st == 207 || st == 423)
        return webdav_status_fail(w, 423, "writing", rel, err);
    if (st < 200 || st >= 300)
        return webdav_status_fail(w, st, "writing", rel, err);
    if (!ret_st)
        return 0; /* the caller reads the new version from a listing */
    /*
     * The new version's name: the server's own word when the PUT reply gave
     * one; else asked at once, with a HEAD where the server's listings are
     * known to name versions as its headers do (far cheaper than a PROPFIND).
     */
    struct of_stat out;
    int tags = __atomic_load_n(&w->propfind_etags, __ATOMIC_RELAXED);
    if (tags >= 0 && head_version(w, rel, tags, &out) == 0)
        ;
    else if (webdav_stat_entry(w, rel, &after, NULL) == 0)
        out = after.st;
    else
        webdav_stat_guess(&out, OF_STAT_FILE, (int64_t)sb.st_size, etag);
    if (etag[0]) {
        out.mtime_ns = out.mtime_ns ? out.mtime_ns : of_now_ns();
        of_webdav_etag_set(etag, &out);
    }
    *ret_st = out;
    return 0;
}
