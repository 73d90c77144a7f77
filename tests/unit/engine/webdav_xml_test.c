/* SPDX-License-Identifier: MIT */
/*
 * Table-driven tests of engine/backends/webdav_xml.c: PROPFIND replies as
 * Apache mod_dav, nginx dav-ext and rclone write them, hrefs in every form
 * (percent-encoded, absolute URLs, outside or below the base, invalid
 * names), collections, missing props, 404 propstats, other namespaces,
 * malformed and hostile XML, oversized and deep replies, replies fed in
 * pieces; HTTP dates and the etag rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/webdav_xml.h"

#define MS "<D:multistatus xmlns:D=\"DAV:\">"
#define END "</D:multistatus>"
#define OK200 "<D:status>HTTP/1.1 200 OK</D:status>"
#define E404 "<D:status>HTTP/1.1 404 Not Found</D:status>"
/* A response for href with the given prop contents, in one 200 propstat. */
#define RESP(href, props)                                                                          \
    "<D:response><D:href>" href "</D:href><D:propstat><D:prop>" props "</D:prop>" OK200            \
    "</D:propstat></D:response>"
#define COLL "<D:resourcetype><D:collection/></D:resourcetype>"
#define FILE_PROPS(len) "<D:resourcetype/><D:getcontentlength>" len "</D:getcontentlength>"

/* Tue, 24 Nov 2026 02:09:45 GMT */
#define T1 INT64_C(1795486185000000000)

#define DIR_ATTR OF_ATTR_DIRECTORY
#define SRV OF_WEBDAV_ETAG_SERVER
#define WEAK OF_WEBDAV_ETAG_WEAK

struct want {
    const char *name;
    enum of_stat_type type;
    int64_t size;
    int64_t mtime_ns;
    const char *etag;
    unsigned int flags;
    uint32_t attrs;
};

struct parse_case {
    const char *what;
    const char *base;
    const char *body;
    int rc;
    size_t n;
    struct want want[5];
};

static const char apache_reply[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<D:multistatus xmlns:D=\"DAV:\">\n"
    "<D:response xmlns:lp1=\"DAV:\" xmlns:lp2=\"http://apache.org/dav/props/\">\n"
    "<D:href>/dav/</D:href>\n"
    "<D:propstat>\n<D:prop>\n"
    "<lp1:resourcetype><D:collection/></lp1:resourcetype>\n"
    "<lp1:creationdate>2026-11-24T02:09:45Z</lp1:creationdate>\n"
    "<lp1:getlastmodified>Tue, 24 Nov 2026 02:09:45 GMT</lp1:getlastmodified>\n"
    "<lp1:getetag>W/\"1000-660fc34452c59\"</lp1:getetag>\n"
    "<D:getcontenttype>httpd/unix-directory</D:getcontenttype>\n"
    "</D:prop>\n<D:status>HTTP/1.1 200 OK</D:status>\n</D:propstat>\n"
    "</D:response>\n"
    "<D:response xmlns:lp1=\"DAV:\" xmlns:lp2=\"http://apache.org/dav/props/\">\n"
    "<D:href>/dav/a.txt</D:href>\n"
    "<D:propstat>\n<D:prop>\n"
    "<lp1:resourcetype/>\n"
    "<lp1:getcontentlength>5</lp1:getcontentlength>\n"
    "<lp1:getlastmodified>Tue, 24 Nov 2026 02:09:45 GMT</lp1:getlastmodified>\n"
    "<lp1:getetag>\"5-660fc34452c59\"</lp1:getetag>\n"
    "<lp2:executable>F</lp2:executable>\n"
    "</D:prop>\n<D:status>HTTP/1.1 200 OK</D:status>\n</D:propstat>\n"
    "</D:response>\n"
    "<D:response xmlns:lp1=\"DAV:\" xmlns:lp2=\"http://apache.org/dav/props/\">\n"
    "<D:href>/dav/sub%20dir/</D:href>\n"
    "<D:propstat>\n<D:prop>\n"
    "<lp1:resourcetype><D:collection/></lp1:resourcetype>\n"
    "<lp1:getlastmodified>Tue, 24 Nov 2026 02:09:45 GMT</lp1:getlastmodified>\n"
    "<lp1:getetag>\"1000-660fc34452c5a\"</lp1:getetag>\n"
    "</D:prop>\n<D:status>HTTP/1.1 200 OK</D:status>\n</D:propstat>\n"
    "</D:response>\n"
    "</D:multistatus>\n";

static const char nginx_reply[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
    "<D:multistatus xmlns:D=\"DAV:\">\n"
    "<D:response>\n<D:href>/dav/sub/</D:href>\n<D:propstat>\n<D:prop>\n"
    "<D:displayname>sub</D:displayname>\n"
    "<D:getlastmodified>Tue, 24 Nov 2026 02:09:45 GMT</D:getlastmodified>\n"
    "<D:resourcetype><D:collection/></D:resourcetype>\n"
    "<D:lockdiscovery/>\n<D:supportedlock>\n</D:supportedlock>\n"
    "</D:prop>\n<D:status>HTTP/1.1 200 OK</D:status>\n</D:propstat>\n</D:response>\n"
    "<D:response>\n<D:href>/dav/sub/b%20c%C3%A9%25.txt</D:href>\n<D:propstat>\n<D:prop>\n"
    "<D:displayname>b c\xc3\xa9%.txt</D:displayname>\n"
    "<D:getcontentlength>6</D:getcontentlength>\n"
    "<D:getlastmodified>Tue, 24 Nov 2026 02:09:45 GMT</D:getlastmodified>\n"
    "<D:resourcetype></D:resourcetype>\n"
    "<D:lockdiscovery/>\n<D:supportedlock>\n</D:supportedlock>\n"
    "</D:prop>\n<D:status>HTTP/1.1 200 OK</D:status>\n</D:propstat>\n</D:response>\n"
    "</D:multistatus>\n";

static const char rclone_reply[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><D:multistatus xmlns:D=\"DAV:\"><D:response>"
    "<D:href>/dav/</D:href><D:propstat><D:prop><D:resourcetype><D:collection xmlns:D=\"DAV:\"/>"
    "</D:resourcetype><D:getlastmodified>Tue, 24 Nov 2026 02:09:45 GMT</D:getlastmodified>"
    "<D:displayname></D:displayname></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
    "</D:response><D:response><D:href>/dav/.hidden</D:href><D:propstat><D:prop>"
    "<D:getcontenttype>text/plain; charset=utf-8</D:getcontenttype>"
    "<D:getetag>\"18ead935152a2a1c6\"</D:getetag><D:displayname>.hidden</D:displayname>"
    "<D:getcontentlength>6</D:getcontentlength><D:resourcetype></D:resourcetype>"
    "<D:getlastmodified>Tue, 24 Nov 2026 02:09:45 GMT</D:getlastmodified></D:prop>"
    "<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>";

static const struct parse_case cases[] = {
    {"Apache mod_dav, Depth 1",
     "/dav/",
     apache_reply,
     0,
     3,
     {{"", OF_STAT_DIR, 0, T1, "\"1000-660fc34452c59\"", SRV | WEAK, DIR_ATTR},
      {"a.txt", OF_STAT_FILE, 5, T1, "\"5-660fc34452c59\"", SRV, 0},
      {"sub dir", OF_STAT_DIR, 0, T1, "\"1000-660fc34452c5a\"", SRV, DIR_ATTR}}},
    {"nginx dav-ext: no etags, upper-case escapes",
     "/dav/sub",
     nginx_reply,
     0,
     2,
     {{"", OF_STAT_DIR, 0, T1, "lm-6b04f1e9-0", 0, DIR_ATTR},
      {"b c\xc3\xa9%.txt", OF_STAT_FILE, 6, T1, "lm-6b04f1e9-6", 0, 0}}},
    {"rclone: one line, hidden name",
     "/dav/",
     rclone_reply,
     0,
     2,
     {{"", OF_STAT_DIR, 0, T1, "lm-6b04f1e9-0", 0, DIR_ATTR},
      {".hidden", OF_STAT_FILE, 6, T1, "\"18ead935152a2a1c6\"", SRV, OF_ATTR_HIDDEN}}},
    {"absolute URLs, lower-case escapes, a base given encoded",
     "/my%20dav/",
     MS RESP("http://h:8080/my%20dav/", COLL) RESP("https://h/my dav/caf%c3%a9", FILE_PROPS("3"))
         RESP("//h/my%20dav/x", FILE_PROPS("1")) END,
     0,
     3,
     {{"", OF_STAT_DIR, 0, 0, "lm-0-0", 0, DIR_ATTR},
      {"caf\xc3\xa9", OF_STAT_FILE, 3, 0, "lm-0-3", 0, 0},
      {"x", OF_STAT_FILE, 1, 0, "lm-0-1", 0, 0}}},
    {"a query or fragment on an href is not part of the name",
     "/dav/",
     MS RESP("/dav/a.txt?x=1", FILE_PROPS("1")) RESP("/dav/b.txt#frag", FILE_PROPS("2")) END,
     0,
     2,
     {{"a.txt", OF_STAT_FILE, 1, 0, "lm-0-1", 0, 0},
      {"b.txt", OF_STAT_FILE, 2, 0, "lm-0-2", 0, 0}}},
    {"hrefs elsewhere, deeper or not valid names are skipped",
     "/dav/",
     MS RESP("/other/a", "") RESP("/dav/a/b", "") RESP("/dav/..", "") RESP("/dav/a%2Fb", "")
         RESP("/dav/a%zz", "") RESP("/dav/%01", "") RESP("/dav/%C3%28", "") RESP("/da", "")
             RESP("/dav/ok", "") END,
     0,
     1,
     {{"ok", OF_STAT_FILE, 0, 0, "lm-0-0", 0, 0}}},
    {"a relative href is relative to the base",
     "/dav/sub/",
     MS RESP("rel.txt", FILE_PROPS("4")) END,
     0,
     1,
     {{"rel.txt", OF_STAT_FILE, 4, 0, "lm-0-4", 0, 0}}},
    {"missing props: a file of size 0 and no date",
     "/dav/",
     MS RESP("/dav/bare", "") END,
     0,
     1,
     {{"bare", OF_STAT_FILE, 0, 0, "lm-0-0", 0, 0}}},
    {"only 200 propstats count; several merge",
     "/dav/",
     MS "<D:response><D:href>/dav/f</D:href>"
        "<D:propstat><D:prop><D:getetag>\"bad\"</D:getetag><D:resourcetype><D:collection/>"
        "</D:resourcetype></D:prop>" E404 "</D:propstat>"
        "<D:propstat><D:prop><D:getcontentlength>7</D:getcontentlength></D:prop>" OK200
        "</D:propstat>"
        "<D:propstat><D:prop><D:getetag>\"good\"</D:getetag></D:prop>" OK200 "</D:propstat>"
        "</D:response>" END,
     0,
     1,
     {{"f", OF_STAT_FILE, 7, 0, "\"good\"", SRV, 0}}},
    {"a response without a 200 propstat, or with a status only, is skipped",
     "/dav/",
     MS "<D:response><D:href>/dav/x</D:href><D:propstat><D:prop><D:getcontentlength>1"
        "</D:getcontentlength></D:prop>" E404 "</D:propstat></D:response>"
        "<D:response><D:href>/dav/y</D:href><D:href>/dav/z</D:href>" E404 "</D:response>"
        "<D:response><D:propstat><D:prop/>" OK200 "</D:propstat></D:response>" END,
     0,
     0,
     {{NULL}}},
    {"elements of other namespaces mean nothing, even with DAV names",
     "/dav/",
     MS "<D:response xmlns:x=\"urn:x\"><D:href>/dav/f</D:href><D:propstat><D:prop>"
        "<x:getetag>\"other\"</x:getetag><x:resourcetype><D:collection/></x:resourcetype>"
        "<x:getcontentlength>9</x:getcontentlength><D:getcontentlength>2</D:getcontentlength>"
        "</D:prop>" OK200 "</D:propstat></D:response>" END,
     0,
     1,
     {{"f", OF_STAT_FILE, 2, 0, "lm-0-2", 0, 0}}},
    {"DAV: as the default namespace, blanks around values",
     "/dav/",
     "<multistatus xmlns=\"DAV:\"><response><href>\n  /dav/f  \n</href><propstat><prop>"
     "<getcontentlength> 12 </getcontentlength><getetag>\n W/\"t\" \n</getetag>"
     "<getlastmodified> Tue, 24 Nov 2026 02:09:45 GMT </getlastmodified></prop>"
     "<status>HTTP/1.1 200 OK</status></propstat></response></multistatus>",
     0,
     1,
     {{"f", OF_STAT_FILE, 12, T1, "\"t\"", SRV | WEAK, 0}}},
    {"bad values are as if absent",
     "/dav/",
     MS RESP("/dav/f", "<D:getcontentlength>-3</D:getcontentlength>"
                       "<D:getlastmodified>yesterday</D:getlastmodified><D:getetag></D:getetag>")
         END,
     0,
     1,
     {{"f", OF_STAT_FILE, 0, 0, "lm-0-0", 0, 0}}},
    {"an empty multistatus", "/dav/", MS END, 0, 0, {{NULL}}},
    {"not XML", "/dav/", "hello", OF_E(UNAVAILABLE), 0, {{NULL}}},
    {"an empty body", "/dav/", "", OF_E(UNAVAILABLE), 0, {{NULL}}},
    {"cut short", "/dav/", MS RESP("/dav/f", ""), OF_E(UNAVAILABLE), 0, {{NULL}}},
    {"not well-formed", "/dav/", MS "<D:response></D:href>" END, OF_E(UNAVAILABLE), 0, {{NULL}}},
    {"an HTML error page",
     "/dav/",
     "<html><body>500</body></html>",
     OF_E(UNAVAILABLE),
     0,
     {{NULL}}},
    {"a multistatus outside the DAV: namespace",
     "/dav/",
     "<multistatus></multistatus>",
     OF_E(UNAVAILABLE),
     0,
     {{NULL}}},
    {"an undeclared prefix",
     "/dav/",
     "<D:multistatus></D:multistatus>",
     OF_E(UNAVAILABLE),
     0,
     {{NULL}}},
    {"a DTD (entity expansion)",
     "/dav/",
     "<?xml version=\"1.0\"?><!DOCTYPE m [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;\">]>"
     "<D:multistatus xmlns:D=\"DAV:\">&b;</D:multistatus>",
     OF_E(UNAVAILABLE),
     0,
     {{NULL}}},
    {"an external entity",
     "/dav/",
     "<?xml version=\"1.0\"?><!DOCTYPE m SYSTEM \"file:///etc/passwd\">"
     "<D:multistatus xmlns:D=\"DAV:\"></D:multistatus>",
     OF_E(UNAVAILABLE),
     0,
     {{NULL}}},
    {"two roots", "/dav/", MS END MS END, OF_E(UNAVAILABLE), 0, {{NULL}}},
};

static void
check_entries(const struct parse_case *c, const struct of_webdav_entry *v, size_t n)
{
    if (n != c->n)
        fail_msg("%s: %zu entries, expected %zu", c->what, n, c->n);
    for (size_t i = 0; i < n; i++) {
        const struct want *w = &c->want[i];
        const struct of_webdav_entry *e = &v[i];
        if (strcmp(e->name, w->name) != 0 || e->st.type != w->type || e->st.size != w->size ||
            e->st.mtime_ns != w->mtime_ns || strcmp(e->st.etag, w->etag) != 0 ||
            e->flags != w->flags || e->st.attrs != w->attrs)
            fail_msg("%s: entry %zu is {'%s' type %d size %lld mtime %lld etag %s flags %u attrs "
                     "%x}, expected {'%s' %d %lld %lld %s %u %x}",
                     c->what, i, e->name, e->st.type, (long long)e->st.size,
                     (long long)e->st.mtime_ns, e->st.etag, e->flags, e->st.attrs, w->name, w->type,
                     (long long)w->size, (long long)w->mtime_ns, w->etag, w->flags, w->attrs);
    }
}

static void
test_replies_parse_as_the_table_says(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct parse_case *c = &cases[i];
        struct of_webdav_entry *v = NULL;
        size_t n = 0;
        struct of_error err = {0};
        int rc = of_webdav_xml_parse(c->base, c->body, strlen(c->body), &v, &n, &err);
        if (rc != c->rc)
            fail_msg("%s: rc %d (%s), expected %d", c->what, rc, err.detail, c->rc);
        if (rc == 0)
            check_entries(c, v, n);
        else
            assert_true(err.detail[0] != '\0');
        free(v);
    }
}

static void
test_replies_fed_byte_by_byte_parse_the_same(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct parse_case *c = &cases[i];
        struct of_webdav_xml *x;
        struct of_webdav_entry *v = NULL;
        size_t n = 0;
        struct of_error err = {0};
        assert_int_equal(of_webdav_xml_new(c->base, &x, &err), 0);
        int rc = 0;
        for (const char *p = c->body; *p && rc == 0; p++)
            rc = of_webdav_xml_feed(x, p, 1);
        if (rc == 0)
            rc = of_webdav_xml_finish(x, &v, &n, &err);
        of_webdav_xml_free(x);
        if (rc != c->rc)
            fail_msg("%s (byte by byte): rc %d, expected %d", c->what, rc, c->rc);
        if (rc == 0)
            check_entries(c, v, n);
        free(v);
    }
}

static void
test_a_reply_over_the_size_cap_is_refused(void **state)
{
    (void)state;
    struct of_webdav_xml *x;
    struct of_error err = {0};
    size_t chunk = (size_t)1 << 20;
    char *blanks = malloc(chunk);
    assert_non_null(blanks);
    memset(blanks, ' ', chunk);
    assert_int_equal(of_webdav_xml_new("/dav/", &x, &err), 0);
    assert_int_equal(of_webdav_xml_feed(x, MS, strlen(MS)), 0);
    int rc = 0;
    size_t fed = strlen(MS);
    while (rc == 0 && fed < OF_WEBDAV_XML_MAX_BYTES + chunk) {
        rc = of_webdav_xml_feed(x, blanks, chunk);
        fed += chunk;
    }
    assert_int_equal(rc, OF_E(UNAVAILABLE));
    assert_true(fed > OF_WEBDAV_XML_MAX_BYTES);
    /* It stays refused, and finish says why. */
    assert_int_equal(of_webdav_xml_feed(x, END, strlen(END)), OF_E(UNAVAILABLE));
    struct of_webdav_entry *v = NULL;
    size_t n = 0;
    assert_int_equal(of_webdav_xml_finish(x, &v, &n, &err), OF_E(UNAVAILABLE));
    assert_non_null(strstr(err.detail, "too large"));
    of_webdav_xml_free(x);
    free(blanks);
}

static void
test_a_reply_nested_too_deep_is_refused(void **state)
{
    (void)state;
    char body[8192];
    size_t len = (size_t)snprintf(body, sizeof(body), "%s", MS);
    for (int i = 0; i < OF_WEBDAV_XML_MAX_DEPTH + 5; i++)
        len += (size_t)snprintf(body + len, sizeof(body) - len, "<D:x>");
    for (int i = 0; i < OF_WEBDAV_XML_MAX_DEPTH + 5; i++)
        len += (size_t)snprintf(body + len, sizeof(body) - len, "</D:x>");
    len += (size_t)snprintf(body + len, sizeof(body) - len, "%s", END);
    struct of_webdav_entry *v = NULL;
    size_t n = 0;
    struct of_error err = {0};
    assert_int_equal(of_webdav_xml_parse("/dav/", body, len, &v, &n, &err), OF_E(UNAVAILABLE));
    assert_non_null(strstr(err.detail, "deep"));
}

static void
test_a_base_path_must_be_absolute_and_well_encoded(void **state)
{
    (void)state;
    struct of_webdav_xml *x = NULL;
    assert_int_equal(of_webdav_xml_new("dav/", &x, NULL), OF_E(INVALID));
    assert_int_equal(of_webdav_xml_new("/dav%zz/", &x, NULL), OF_E(INVALID));
    assert_int_equal(of_webdav_xml_new("/", &x, NULL), 0);
    of_webdav_xml_free(x);
    of_webdav_xml_free(NULL);
}

struct date_case {
    const char *s;
    int rc;
    int64_t sec;
};

static const struct date_case dates[] = {
    {"Tue, 24 Nov 2026 02:09:45 GMT", 0, 1795486185},
    {"Sun, 06 Nov 1994 08:49:37 GMT", 0, 784111777},
    {"Sunday, 06-Nov-94 08:49:37 GMT", 0, 784111777},
    {"Sun Nov  6 08:49:37 1994", 0, 784111777},
    {"06 Nov 1994 08:49:37 GMT", 0, 784111777},
    {"  Sun, 06 Nov 1994 08:49:37 GMT  ", 0, 784111777},
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0, 0},
    {"Tue, 29 Feb 2028 12:00:00 UTC", 0, 1835438400},
    {"1994-11-06T08:49:37Z", 0, 784111777},
    {"Sun, 06 Nov 1994 08:49:37", -1, 0},
    {"Sun, 06 Nov 1994 08:49:37 PST", -1, 0},
    {"Sun, 06 Foo 1994 08:49:37 GMT", -1, 0},
    {"Sun, 31 Apr 1994 08:49:37 GMT", -1, 0},
    {"Mon, 29 Feb 2027 08:49:37 GMT", -1, 0},
    {"Sun, 06 Nov 1994 24:49:37 GMT", -1, 0},
    {"Sun, 06 Nov 1994 08:49:37 GMT trailing", -1, 0},
    {"Sun, 06 Nov 1969 08:49:37 GMT", -1, 0},
    {"", -1, 0},
    {"yesterday", -1, 0},
};

static void
test_http_dates_parse_as_the_table_says(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
        int64_t ns = -1;
        int rc = of_webdav_http_date(dates[i].s, &ns);
        if (rc != dates[i].rc || (rc == 0 && ns != dates[i].sec * 1000000000))
            fail_msg("'%s': rc %d, %lld ns; expected rc %d, %lld s", dates[i].s, rc, (long long)ns,
                     dates[i].rc, (long long)dates[i].sec);
    }
}

struct etag_case {
    const char *raw;
    const char *etag;
    unsigned int flags;
};

static const struct etag_case etags[] = {
    {"\"abc\"", "\"abc\"", SRV},
    {"W/\"abc\"", "\"abc\"", SRV | WEAK},
    {"  \"abc\"\n", "\"abc\"", SRV},
    {"abc", "abc", 0},
    {"\"a\"b\"", "\"a\"b\"", 0},
    {"\"a b\"", "\"a b\"", 0},
    {"\"", "\"", 0},
    {"", "lm-3e8-2a", 0},
    {NULL, "lm-3e8-2a", 0},
    {"W/", "lm-3e8-2a", 0},
    {"\"a\x01\"", "lm-3e8-2a", 0},
    {"\"0123456789012345678901234567890123456789012345678901234567890123456789012345678901"
     "23456789012345678901234567890123456789012345\"",
     "lm-3e8-2a", 0},
};

static void
test_etags_follow_the_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(etags) / sizeof(etags[0]); i++) {
        struct of_stat st = {.size = 42, .mtime_ns = INT64_C(1000) * 1000000000 + 5};
        unsigned int flags = of_webdav_etag_set(etags[i].raw, &st);
        if (strcmp(st.etag, etags[i].etag) != 0 || flags != etags[i].flags)
            fail_msg("'%s': etag '%s' flags %u; expected '%s' %u",
                     etags[i].raw ? etags[i].raw : "(null)", st.etag, flags, etags[i].etag,
                     etags[i].flags);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replies_parse_as_the_table_says),
        cmocka_unit_test(test_replies_fed_byte_by_byte_parse_the_same),
        cmocka_unit_test(test_a_reply_over_the_size_cap_is_refused),
        cmocka_unit_test(test_a_reply_nested_too_deep_is_refused),
        cmocka_unit_test(test_a_base_path_must_be_absolute_and_well_encoded),
        cmocka_unit_test(test_http_dates_parse_as_the_table_says),
        cmocka_unit_test(test_etags_follow_the_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
