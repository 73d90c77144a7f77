/* SPDX-License-Identifier: MIT */
/*
 * The PROPFIND reply parser of the webdav backend: reads a 207 multistatus
 * body, fed in pieces as it arrives, with expat in namespace mode, and turns
 * each <DAV:response> into an entry named relative to the resource that was
 * asked for. A parser owns its expat handle and the entries it has found; it
 * is used by one thread at a time. Hostile input (malformed XML, DTDs,
 * oversized replies, deep nesting, odd hrefs) fails or is skipped, never
 * crashes: the parser is a libFuzzer target (tests/fuzz/webdav_xml_fuzz.c).
 */
#ifndef OF_WEBDAV_XML_H
#define OF_WEBDAV_XML_H

#include <stddef.h>

#include "backend.h"
#include "error.h"

/* A reply larger than this is refused: no directory listing needs more. */
#define OF_WEBDAV_XML_MAX_BYTES ((size_t)64 * 1024 * 1024)
/* Elements nested deeper than this are refused. */
#define OF_WEBDAV_XML_MAX_DEPTH 64
/* Entries kept from one reply, at most. */
#define OF_WEBDAV_XML_MAX_ENTRIES ((size_t)1 << 20)

/* st.etag is the server's own entity-tag (quoted), so it may be sent back in If-Match. */
#define OF_WEBDAV_ETAG_SERVER 0x1u
/* The server marked that tag weak (W/); st.etag holds it without the W/. */
#define OF_WEBDAV_ETAG_WEAK 0x2u

/*
 * One resource of a reply. st.etag is the server's getetag with a leading
 * "W/" removed (Apache marks a tag weak for the first second after a change,
 * then strong: both forms name one version), or, when the server sent none,
 * a tag made from the modification time and size ("lm-<sec hex>-<size hex>",
 * never quoted, never sent to the server).
 */
struct of_webdav_entry {
    char name[OF_NAME_MAX]; /* "" for the resource asked for itself */
    struct of_stat st;
    unsigned int flags; /* OF_WEBDAV_ETAG_* */
};

struct of_webdav_xml;

/*
 * of_webdav_xml_new - a parser for the reply to a PROPFIND on base_path, the
 * absolute, percent-encoded path of the request URL ("/dav/a%20b/"; a
 * trailing slash does not matter). Returns 0 and the parser in *ret, or
 * OF_E(NOMEM) / OF_E(INVALID) (base_path not absolute, or badly encoded).
 */
int of_webdav_xml_new(const char *base_path, struct of_webdav_xml **ret, struct of_error *reterr);

/*
 * of_webdav_xml_feed - parse the next len bytes of the body. Returns 0, or
 * OF_E(UNAVAILABLE) once the body is malformed or too large (and from then
 * on); the detail is kept for of_webdav_xml_finish.
 */
int of_webdav_xml_feed(struct of_webdav_xml *x, const char *buf, size_t len);

/*
 * of_webdav_xml_finish - end of the body: check it was a complete
 * multistatus and hand over the entries, in reply order, as a malloc'ed
 * array (free with free(); NULL when there are none). Entries are those with
 * a "200" propstat whose href names the base itself (name "") or one valid
 * segment below it (of_path_segment_check); others are skipped. Only the
 * properties of 200 propstats count. Returns 0, or OF_E(UNAVAILABLE) with a
 * short detail for a malformed or oversized reply, OF_E(NOMEM).
 */
int of_webdav_xml_finish(struct of_webdav_xml *x, struct of_webdav_entry **ret_entries,
                         size_t *ret_count, struct of_error *reterr);

/* NULL-safe destructor. */
void of_webdav_xml_free(struct of_webdav_xml *x);

/* new + feed + finish + free over a body in memory. */
int of_webdav_xml_parse(const char *base_path, const char *body, size_t len,
                        struct of_webdav_entry **ret_entries, size_t *ret_count,
                        struct of_error *reterr);

/*
 * of_webdav_http_date - parse an HTTP date (RFC 1123, also RFC 850 and
 * asctime forms; an RFC 3339 date is accepted too) into ns since the epoch.
 * Returns 0, or -1 when s is not a date.
 */
int of_webdav_http_date(const char *s, int64_t *ret_ns);

/*
 * of_webdav_etag_set - the etag rules of struct of_webdav_entry for one
 * resource: raw is the server's tag (NULL or "" when none; surrounding
 * blanks ignored), mtime_ns and size are used when it has none or it is
 * longer than OF_ETAG_MAX - 1. Writes st->etag and returns the
 * OF_WEBDAV_ETAG_* flags.
 */
unsigned int of_webdav_etag_set(const char *raw, struct of_stat *st);

#endif
