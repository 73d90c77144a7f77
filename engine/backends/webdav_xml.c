/* SPDX-License-Identifier: MIT */
/*
 * The PROPFIND reply parser of webdav_xml.h. Expat reports elements as
 * "namespace-URI SEP local-name"; only DAV: elements in their RFC 4918 places
 * mean anything (multistatus > response > href | propstat > status | prop >
 * resourcetype > collection, getcontentlength, getlastmodified, getetag),
 * everything else is skipped with its subtree. The parser owns its expat
 * handle, the decoded segments of the base path, one text buffer (capturing
 * elements never nest) and the growing entry array.
 */
#include "webdav_xml.h"

#include <ctype.h>
#include <expat.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "util.h"

/* of_error_set that visibly returns code (to readers and to the static analyzer alike). */
#define FAIL(err, code, ...) (of_error_set((err), (code), __VA_ARGS__), (code))

#define NS_SEP ' '
#define DAV_NS "DAV:"
#define TEXT_MAX 8192 /* an href; other texts are far shorter */
#define RAW_ETAG_MAX 256
#define FEED_CHUNK ((size_t)1 << 20)

enum elem {
    E_NONE = 0,
    E_OTHER,
    E_MULTISTATUS,
    E_RESPONSE,
    E_HREF,
    E_PROPSTAT,
    E_STATUS,
    E_PROP,
    E_RESOURCETYPE,
    E_COLLECTION,
    E_LENGTH,
    E_MODIFIED,
    E_ETAG,
};

/* What one propstat, or the 200 propstats of a response together, said. */
struct props {
    int is_dir, has_len, has_mtime, has_etag;
    int64_t len, mtime_ns;
    char etag[RAW_ETAG_MAX];
};

struct response {
    int has_href, href_bad, ok;
    char href[TEXT_MAX];
    struct props props;
};

struct seg {
    size_t off, len; /* into base_buf */
};

struct of_webdav_xml {
    XML_Parser parser;
    int rc; /* 0, or the first error */
    char detail[160];
    size_t fed;
    int seen_root, seen_end;

    enum elem stack[OF_WEBDAV_XML_MAX_DEPTH];
    int depth;

    char text[TEXT_MAX];
    size_t text_len;
    int text_over;

    struct response resp;
    struct props ps;
    long ps_status;

    char *base_buf; /* the decoded segments of the base path, back to back */
    struct seg *base;
    size_t n_base;

    struct of_webdav_entry *v;
    size_t n, cap;
};

static void
stop(struct of_webdav_xml *x, int code, const char *detail)
{
    if (x->rc == 0) {
        x->rc = code;
        snprintf(x->detail, sizeof(x->detail), "%s", detail);
    }
    XML_StopParser(x->parser, XML_FALSE);
}

/* ---- hrefs ---- */

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode raw[0..len) into out (at least len bytes); the length, or -1 if malformed. */
static long
pct_decode(const char *raw, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (raw[i] != '%') {
            out[o++] = raw[i];
            continue;
        }
        int hi = i + 2 < len ? hexval((unsigned char)raw[i + 1]) : -1;
        int lo = hi >= 0 ? hexval((unsigned char)raw[i + 2]) : -1;
        if (lo < 0)
            return -1;
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    return (long)o;
}

/* The next non-empty segment of *p (up to end) as [*ret_seg, +*ret_len); 0 at the end. */
static int
next_seg(const char **p, const char *end, const char **ret_seg, size_t *ret_len)
{
    while (*p < end && **p == '/')
        (*p)++;
    if (*p >= end)
        return 0;
    const char *s = *p;
    while (*p < end && **p != '/')
        (*p)++;
    *ret_seg = s;
    *ret_len = (size_t)(*p - s);
    return 1;
}

/* Where the path of href starts and ends: scheme and authority, query and fragment cut off. */
static const char *
href_path(const char *href, const char **ret_end, int *ret_relative)
{
    const char *p = href;
    *ret_relative = 0;
    if (isalpha((unsigned char)*p)) {
        const char *q = p;
        while (isalnum((unsigned char)*q) || *q == '+' || *q == '-' || *q == '.')
            q++;
        if (strncmp(q, "://", 3) == 0) {
            p = strchr(q + 3, '/');
            if (!p)
                p = q + strlen(q); /* "http://host": the root */
        }
    }
    if (p == href && p[0] == '/' && p[1] == '/') {
        p = strchr(p + 2, '/'); /* "//host/path", a network-path reference */
        if (!p)
            p = href + strlen(href);
    } else if (p == href && p[0] != '/') {
        *ret_relative = 1; /* "name" or "sub/", relative to the base */
    }
    *ret_end = p + strcspn(p, "?#");
    return p;
}

/*
 * Name href relative to the base: 1 when it is the base itself, 0 with the
 * decoded name in name (OF_NAME_MAX bytes) for one segment below it, -1 for
 * anything else (elsewhere, deeper, badly encoded, not a valid name).
 */
static int
href_name(const struct of_webdav_xml *x, const char *href, char *name)
{
    char dec[TEXT_MAX];
    const char *end, *seg;
    size_t len;
    int relative;
    const char *p = href_path(href, &end, &relative);
    for (size_t i = 0; !relative && i < x->n_base; i++) {
        if (!next_seg(&p, end, &seg, &len))
            return -1;
        long n = pct_decode(seg, len, dec);
        if (n < 0 || (size_t)n != x->base[i].len ||
            memcmp(dec, x->base_buf + x->base[i].off, (size_t)n) != 0)
            return -1;
    }
    if (!next_seg(&p, end, &seg, &len))
        return 1;
    long n = pct_decode(seg, len, dec);
    if (n < 0 || n >= OF_NAME_MAX || of_path_segment_check(dec, (size_t)n) < 0)
        return -1;
    const char *more;
    size_t more_len;
    if (next_seg(&p, end, &more, &more_len))
        return -1;
    memcpy(name, dec, (size_t)n);
    name[n] = '\0';
    return 0;
}

/* ---- values ---- */

static void
trim(const char *s, size_t len, const char **ret, size_t *ret_len)
{
    while (len && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    *ret = s;
    *ret_len = len;
}

/* "HTTP/1.1 200 OK" -> 200; -1 when not a status line. */
static long
status_code(const char *s)
{
    const char *t;
    size_t len;
    trim(s, strlen(s), &t, &len);
    if (len < 12 || strncmp(t, "HTTP/", 5) != 0)
        return -1;
    const char *sp = memchr(t, ' ', len);
    if (!sp || (size_t)(sp - t) + 4 > len || !isdigit((unsigned char)sp[1]) ||
        !isdigit((unsigned char)sp[2]) || !isdigit((unsigned char)sp[3]))
        return -1;
    return (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
}

static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
month_of(const char *s)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (strlen(s) != 3)
        return 0;
    char low[4] = {(char)tolower((unsigned char)s[0]), (char)tolower((unsigned char)s[1]),
                   (char)tolower((unsigned char)s[2]), '\0'};
    const char *hit = strstr(names, low);
    return hit && (hit - names) % 3 == 0 ? (int)((hit - names) / 3) + 1 : 0;
}

static int
only_blanks(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

int
of_webdav_http_date(const char *s, int64_t *ret_ns)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    char mon[8], zone[8];
    int d, y, hh, mm, ss, used = 0;
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    if (isdigit((unsigned char)*p) && of_time_parse(p, ret_ns) == 0)
        return 0;
    /* Skip the weekday, if any: "Sun," (RFC 1123), "Sunday," (RFC 850), "Sun " (asctime). */
    const char *q = p;
    while (isalpha((unsigned char)*q))
        q++;
    const char *after = q + strspn(q, " ");
    if (*q == ',')
        p = q + 1;
    else if (q > p && isalpha((unsigned char)*after))
        p = after; /* asctime: the month follows the weekday */
    if (sscanf(p, " %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", &d, mon, &y, &hh, &mm, &ss, zone,
               &used) == 7) {
        /* RFC 1123 */
    } else if (sscanf(p, " %2d-%3[A-Za-z]-%2d %2d:%2d:%2d %3[A-Z]%n", &d, mon, &y, &hh, &mm, &ss,
                      zone, &used) == 7) {
        y += y < 50 ? 2000 : 1900; /* RFC 850's two-digit year */
    } else if (sscanf(p, " %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", mon, &d, &hh, &mm, &ss, &y, &used) ==
               6) {
        snprintf(zone, sizeof(zone), "GMT"); /* asctime */
    } else {
        return -1;
    }
    int m = month_of(mon);
    if (!only_blanks(p + used) || m == 0 || (strcmp(zone, "GMT") != 0 && strcmp(zone, "UTC") != 0))
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || y > 9999 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap) ||
        hh > 23 || mm > 59 || ss > 60 || hh < 0 || mm < 0 || ss < 0)
        return -1;
    int64_t secs = days_from_civil(y, m, d) * 86400 + (int64_t)hh * 3600 + (int64_t)mm * 60 + ss;
    *ret_ns = secs * 1000000000;
    return 0;
}

/* A tag's bytes may go back into an If-Match header: visible ASCII or UTF-8, quoted. */
static int
sendable(const char *t, size_t len)
{
    if (len < 2 || t[0] != '"' || t[len - 1] != '"')
        return 0;
    for (size_t i = 1; i + 1 < len; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == '"' || c < 0x21 || c == 0x7f)
            return 0;
    }
    return 1;
}

static int
printable(const char *t, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
            return 0;
    return 1;
}

unsigned int
of_webdav_etag_set(const char *raw, struct of_stat *st)
{
    const char *t = "";
    size_t len = 0;
    unsigned int flags = 0;
    if (raw)
        trim(raw, strlen(raw), &t, &len);
    if (len >= 2 && t[0] == 'W' && t[1] == '/') {
        flags |= OF_WEBDAV_ETAG_WEAK;
        t += 2;
        len -= 2;
    }
    if (len == 0 || len >= OF_ETAG_MAX || !printable(t, len)) {
        int64_t sec = st->mtime_ns / 1000000000;
        snprintf(st->etag, sizeof(st->etag), "lm-%" PRIx64 "-%" PRIx64, (uint64_t)sec,
                 (uint64_t)st->size);
        return 0;
    }
    memcpy(st->etag, t, len);
    st->etag[len] = '\0';
    return sendable(t, len) ? flags | OF_WEBDAV_ETAG_SERVER : 0;
}

/* ---- expat callbacks ---- */

/* The DAV: local name of an expat name, or NULL for another namespace. */
static const char *
dav_local(const char *name)
{
    size_t n = sizeof(DAV_NS) - 1;
    if (strncmp(name, DAV_NS, n) == 0 && name[n] == NS_SEP)
        return name + n + 1;
    return NULL;
}

static enum elem
classify(enum elem parent, const char *local)
{
    static const struct {
        const char *local;
        enum elem parent, kind;
    } places[] = {
        {"response", E_MULTISTATUS, E_RESPONSE},
        {"href", E_RESPONSE, E_HREF},
        {"propstat", E_RESPONSE, E_PROPSTAT},
        {"status", E_PROPSTAT, E_STATUS},
        {"prop", E_PROPSTAT, E_PROP},
        {"resourcetype", E_PROP, E_RESOURCETYPE},
        {"getcontentlength", E_PROP, E_LENGTH},
        {"getlastmodified", E_PROP, E_MODIFIED},
        {"getetag", E_PROP, E_ETAG},
        {"collection", E_RESOURCETYPE, E_COLLECTION},
    };
    if (!local)
        return E_OTHER;
    for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
        if (places[i].parent == parent && strcmp(places[i].local, local) == 0)
            return places[i].kind;
    return E_OTHER;
}

static int
captures(enum elem e)
{
    return e == E_HREF || e == E_STATUS || e == E_LENGTH || e == E_MODIFIED || e == E_ETAG;
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct of_webdav_xml *x = ud;
    (void)attrs;
    if (x->depth >= OF_WEBDAV_XML_MAX_DEPTH) {
        stop(x, OF_E(UNAVAILABLE), "the server's reply nests too deep");
        return;
    }
    enum elem kind;
    if (x->depth == 0) {
        const char *local = dav_local(name);
        if (x->seen_root || !local || strcmp(local, "multistatus") != 0) {
            stop(x, OF_E(UNAVAILABLE), "the server's reply is not a DAV multistatus");
            return;
        }
        x->seen_root = 1;
        kind = E_MULTISTATUS;
    } else {
        enum elem parent = x->stack[x->depth - 1];
        kind = parent == E_OTHER ? E_OTHER : classify(parent, dav_local(name));
    }
    x->stack[x->depth++] = kind;
    if (captures(kind)) {
        x->text_len = 0;
        x->text_over = 0;
    }
    if (kind == E_RESPONSE)
        memset(&x->resp, 0, sizeof(x->resp));
    else if (kind == E_PROPSTAT) {
        memset(&x->ps, 0, sizeof(x->ps));
        x->ps_status = -1;
    } else if (kind == E_COLLECTION)
        x->ps.is_dir = 1;
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
    struct of_webdav_xml *x = ud;
    if (x->depth == 0 || !captures(x->stack[x->depth - 1]) || len <= 0)
        return;
    if ((size_t)len >= sizeof(x->text) - x->text_len) {
        x->text_over = 1;
        return;
    }
    memcpy(x->text + x->text_len, s, (size_t)len);
    x->text_len += (size_t)len;
}

static void
merge(struct props *into, const struct props *from)
{
    into->is_dir |= from->is_dir;
    if (from->has_len) {
        into->has_len = 1;
        into->len = from->len;
    }
    if (from->has_mtime) {
        into->has_mtime = 1;
        into->mtime_ns = from->mtime_ns;
    }
    if (from->has_etag) {
        into->has_etag = 1;
        memcpy(into->etag, from->etag, sizeof(into->etag));
    }
}

static void
add_entry(struct of_webdav_xml *x)
{
    struct of_webdav_entry e;
    memset(&e, 0, sizeof(e));
    int self = href_name(x, x->resp.href, e.name); /* stored trimmed */
    if (self < 0)
        return;
    const struct props *p = &x->resp.props;
    e.st.type = p->is_dir ? OF_STAT_DIR : OF_STAT_FILE;
    e.st.size = p->is_dir || !p->has_len ? 0 : p->len;
    e.st.mtime_ns = p->has_mtime ? p->mtime_ns : 0;
    e.st.attrs = p->is_dir ? OF_ATTR_DIRECTORY : 0;
    if (e.name[0] == '.')
        e.st.attrs |= OF_ATTR_HIDDEN;
    e.flags = of_webdav_etag_set(p->has_etag ? p->etag : NULL, &e.st);
    if (x->n == OF_WEBDAV_XML_MAX_ENTRIES) {
        stop(x, OF_E(UNAVAILABLE), "the server's reply lists too many entries");
        return;
    }
    if (x->n == x->cap) {
        size_t ncap = x->cap ? x->cap * 2 : 32;
        struct of_webdav_entry *nv = reallocarray(x->v, ncap, sizeof(*nv));
        if (!nv) {
            stop(x, OF_E(NOMEM), "out of memory reading the server's reply");
            return;
        }
        x->v = nv;
        x->cap = ncap;
    }
    x->v[x->n++] = e;
}

/* The captured text, blanks trimmed, into buf (cap bytes); 0, or -1 if it does not fit. */
static int
text_take(struct of_webdav_xml *x, char *buf, size_t cap)
{
    const char *t;
    size_t len;
    trim(x->text, x->text_len, &t, &len);
    if (x->text_over || len >= cap)
        return -1;
    memcpy(buf, t, len);
    buf[len] = '\0';
    return 0;
}

static void
end_value(struct of_webdav_xml *x, enum elem kind)
{
    char buf[RAW_ETAG_MAX];
    int64_t v;
    if (kind == E_HREF && !x->resp.has_href) {
        x->resp.has_href = 1;
        x->resp.href_bad = text_take(x, x->resp.href, sizeof(x->resp.href)) < 0;
        return;
    }
    if (kind == E_HREF || text_take(x, buf, sizeof(buf)) < 0)
        return; /* a second href; or a value too long to be one: as if absent */
    if (kind == E_STATUS)
        x->ps_status = status_code(buf);
    else if (kind == E_LENGTH && of_parse_i64(buf, &v) == 0 && v >= 0) {
        x->ps.has_len = 1;
        x->ps.len = v;
    } else if (kind == E_MODIFIED && of_webdav_http_date(buf, &v) == 0) {
        x->ps.has_mtime = 1;
        x->ps.mtime_ns = v;
    } else if (kind == E_ETAG) {
        x->ps.has_etag = 1;
        memcpy(x->ps.etag, buf, sizeof(buf));
    }
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
    struct of_webdav_xml *x = ud;
    (void)name;
    if (x->depth == 0)
        return;
    enum elem kind = x->stack[--x->depth];
    if (captures(kind))
        end_value(x, kind);
    else if (kind == E_PROPSTAT && x->ps_status == 200) {
        merge(&x->resp.props, &x->ps);
        x->resp.ok = 1;
    } else if (kind == E_RESPONSE && x->resp.ok && x->resp.has_href && !x->resp.href_bad)
        add_entry(x);
    else if (kind == E_MULTISTATUS)
        x->seen_end = 1;
}

/* Entities are where XML parsers get hurt (billion laughs, external files): no DTD at all. */
static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
           int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    stop(ud, OF_E(UNAVAILABLE), "the server's reply has a DTD");
}

/* ---- the parser object ---- */

static int
base_split(struct of_webdav_xml *x, const char *base_path)
{
    size_t blen = strlen(base_path);
    const char *p = base_path, *end = base_path + blen, *seg;
    size_t len, off = 0, n = 0;
    x->base_buf = malloc(blen + 1);
    x->base = calloc(blen / 2 + 1, sizeof(*x->base));
    if (!x->base_buf || !x->base)
        return OF_E(NOMEM);
    while (next_seg(&p, end, &seg, &len)) {
        long d = pct_decode(seg, len, x->base_buf + off);
        if (d < 0)
            return OF_E(INVALID);
        x->base[n].off = off;
        x->base[n].len = (size_t)d;
        off += (size_t)d;
        n++;
    }
    x->n_base = n;
    return 0;
}

int
of_webdav_xml_new(const char *base_path, struct of_webdav_xml **ret, struct of_error *reterr)
{
    if (!base_path || base_path[0] != '/')
        return FAIL(reterr, OF_E(INVALID), "the base path must be absolute");
    struct of_webdav_xml *x = calloc(1, sizeof(*x));
    if (!x)
        return FAIL(reterr, OF_E(NOMEM), "out of memory");
    int rc = base_split(x, base_path);
    if (rc == 0) {
        x->parser = XML_ParserCreateNS(NULL, NS_SEP);
        rc = x->parser ? 0 : OF_E(NOMEM);
    }
    if (rc < 0) {
        of_webdav_xml_free(x);
        return FAIL(reterr, rc,
                    rc == OF_E(NOMEM) ? "out of memory" : "the base path is badly encoded");
    }
    XML_SetUserData(x->parser, x);
    XML_SetElementHandler(x->parser, on_start, on_end);
    XML_SetCharacterDataHandler(x->parser, on_text);
    XML_SetStartDoctypeDeclHandler(x->parser, on_doctype);
    XML_SetParamEntityParsing(x->parser, XML_PARAM_ENTITY_PARSING_NEVER);
    *ret = x;
    return 0;
}

static int
parse(struct of_webdav_xml *x, const char *buf, size_t len, int final)
{
    if (x->rc == 0 && XML_Parse(x->parser, buf, (int)len, final) == XML_STATUS_ERROR)
        stop(x, OF_E(UNAVAILABLE), "the server's reply is not well-formed XML");
    return x->rc;
}

int
of_webdav_xml_feed(struct of_webdav_xml *x, const char *buf, size_t len)
{
    if (x->rc)
        return x->rc;
    if (len > OF_WEBDAV_XML_MAX_BYTES - x->fed) {
        stop(x, OF_E(UNAVAILABLE), "the server's reply is too large");
        return x->rc;
    }
    x->fed += len;
    while (len > 0 && x->rc == 0) {
        size_t n = len < FEED_CHUNK ? len : FEED_CHUNK;
        parse(x, buf, n, 0);
        buf += n;
        len -= n;
    }
    return x->rc;
}

int
of_webdav_xml_finish(struct of_webdav_xml *x, struct of_webdav_entry **ret_entries,
                     size_t *ret_count, struct of_error *reterr)
{
    parse(x, "", 0, 1);
    if (x->rc == 0 && !x->seen_end)
        stop(x, OF_E(UNAVAILABLE), "the server's reply is not a complete DAV multistatus");
    if (x->rc)
        return FAIL(reterr, x->rc, "%s", x->detail);
    *ret_entries = x->v;
    *ret_count = x->n;
    x->v = NULL;
    x->n = x->cap = 0;
    return 0;
}

void
of_webdav_xml_free(struct of_webdav_xml *x)
{
    if (!x)
        return;
    if (x->parser)
        XML_ParserFree(x->parser);
    free(x->base_buf);
    free(x->base);
    free(x->v);
    free(x);
}

int
of_webdav_xml_parse(const char *base_path, const char *body, size_t len,
                    struct of_webdav_entry **ret_entries, size_t *ret_count,
                    struct of_error *reterr)
{
    struct of_webdav_xml *x;
    int rc = of_webdav_xml_new(base_path, &x, reterr);
    if (rc < 0)
        return rc;
    rc = of_webdav_xml_feed(x, body, len);
    if (rc == 0)
        rc = of_webdav_xml_finish(x, ret_entries, ret_count, reterr);
    else
        of_error_set(reterr, rc, "%s", x->detail);
    of_webdav_xml_free(x);
    return rc;
}
