/* SPDX-License-Identifier: MIT */
/*
 * Every bad request gets its 4xx problem+json, and none crashes the daemon,
 * hangs it, or writes outside the data dir and the share root: a table of
 * requests (auth, routes, JSON bodies, paths, query parameters, sizes and
 * media types) run against the fixture of badinput_util.h, whose daemon
 * runs with maxUpload = 2 MiB so that the upload limit can be crossed
 * cheaply; JSON bodies keep the default 1 MiB limit. (Raw-socket abuse is
 * in badinput_sockets_test.c, host paths and symlinks in
 * badinput_escape_test.c.)
 */
#include "badinput_util.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_JSON ((size_t)1024 * 1024)

enum body_kind {
    BODY_TEXT = 0, /* .body as given, or none when NULL */
    BODY_BIG_JSON, /* MAX_JSON + 1 bytes of JSON, with Content-Length */
    BODY_BIG_JSON_CHUNKED,
    BODY_BIG_UPLOAD, /* BI_MAX_UPLOAD + 1 bytes, with Content-Length */
    BODY_BIG_UPLOAD_CHUNKED,
    BODY_DEEP_JSON, /* 100000 nested arrays, under the size limit */
};

enum auth_kind { AUTH_ADMIN = 0, AUTH_NONE, AUTH_USER, AUTH_RAW };

struct bad_case {
    const char *method;
    const char *path; /* %SEG256% and %LONG% are expanded; %PID% is our pid */
    enum auth_kind auth;
    const char *raw_auth; /* AUTH_RAW: the Authorization header's value */
    const char *ctype;
    const char *body;
    enum body_kind kind;
    const char *header;
    long status;
    const char *code;
};

#define JSON "application/json"
#define OCTETS "application/octet-stream"
#define SHARE_OK "{\"server\":\"new\",\"share\":\"x\",\"remote\":\"file:///nonexistent\"}"

static const struct bad_case cases[] = {
    /* Authentication and authorization. */
    {"GET", "/api/v1/shares", AUTH_NONE, NULL, NULL, NULL, 0, NULL, 401, "unauthorized"},
    {"GET", "/api/v1/shares", AUTH_RAW,
     "Bearer of_0000000000000000000000000000000000000000000000000000000000000000", NULL, NULL, 0,
     NULL, 401, "unauthorized"},
    {"GET", "/api/v1/shares", AUTH_RAW, "Basic YWRtaW46YWRtaW4=", NULL, NULL, 0, NULL, 401,
     "unauthorized"},
    {"GET", "/api/v1/shares", AUTH_RAW, "Bearer ", NULL, NULL, 0, NULL, 401, "unauthorized"},
    {"GET", "/api/v1/shares", AUTH_RAW, "Bearer%SEG256%", NULL, NULL, 0, NULL, 401, "unauthorized"},
    {"GET", "/api/v1/items/srv/s/a.txt", AUTH_NONE, NULL, NULL, NULL, 0, NULL, 401, "unauthorized"},
    {"PUT", "/api/v1/files/srv/s/noauth.txt", AUTH_NONE, NULL, OCTETS, "data", 0, NULL, 401,
     "unauthorized"},
    {"DELETE", "/api/v1/files/srv/s/a.txt", AUTH_RAW, "Bearer wrong", NULL, NULL, 0, NULL, 401,
     "unauthorized"},
    {"POST", "/api/v1/shares", AUTH_USER, NULL, JSON, SHARE_OK, 0, NULL, 403, "forbidden"},
    {"PATCH", "/api/v1/shares/srv/s", AUTH_USER, NULL, JSON, "{\"cachingMode\":\"auto\"}", 0, NULL,
     403, "forbidden"},
    {"DELETE", "/api/v1/shares/srv/s", AUTH_USER, NULL, NULL, NULL, 0, NULL, 403, "forbidden"},
    {"PATCH", "/api/v1/cache", AUTH_USER, NULL, JSON, "{\"limit\":0}", 0, NULL, 403, "forbidden"},
    /* Routes and methods, and the static files. */
    {"GET", "/api/v1/nope", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 404, "no-such-endpoint"},
    {"GET", "/api/v2/shares", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 404, "no-such-endpoint"},
    {"GET", "/api/v1/shares/srv", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 404, "no-such-endpoint"},
    {"GET", "/api/v1/files", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 404, "no-such-endpoint"},
    {"DELETE", "/api/v1/health", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 405, "method-not-allowed"},
    {"PUT", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, "{}", 0, NULL, 405, "method-not-allowed"},
    {"POST", "/api/v1/items", AUTH_ADMIN, NULL, JSON, "{}", 0, NULL, 405, "method-not-allowed"},
    {"GET", "/web/../../../../etc/passwd", AUTH_NONE, NULL, NULL, NULL, 0, NULL, 404,
     "no-such-endpoint"},
    {"GET", "/web/..%2f..%2fdata%2fadmin.token", AUTH_NONE, NULL, NULL, NULL, 0, NULL, 404,
     "no-such-endpoint"},
    {"GET", "/web/.hidden", AUTH_NONE, NULL, NULL, NULL, 0, NULL, 404, "no-such-endpoint"},
    {"GET", "/../../../etc/passwd", AUTH_NONE, NULL, NULL, NULL, 0, NULL, 404, "no-such-endpoint"},
    /* JSON bodies: syntax. */
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, "{\"server\":", 0, NULL, 400,
     "malformed-json"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, "{} trailing", 0, NULL, 400,
     "malformed-json"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, "[]", 0, NULL, 400, "malformed-json"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, "\"text\"", 0, NULL, 400, "malformed-json"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, "null", 0, NULL, 400, "malformed-json"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, "{\"server\":\"a\",\"server\":\"b\"}", 0,
     NULL, 400, "malformed-json"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, "{\"server\":\"\xff\xfe\"}", 0, NULL, 400,
     "malformed-json"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, "{'server':'a'}", 0, NULL, 400,
     "malformed-json"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, NULL, BODY_DEEP_JSON, NULL, 400,
     "malformed-json"},
    /* JSON bodies: types, values and unknown fields. */
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, "", 0, NULL, 400, "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":42,\"share\":\"x\",\"remote\":\"file:///tmp\"}", 0, NULL, 400, "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"a\",\"share\":null,\"remote\":\"file:///tmp\"}", 0, NULL, 400, "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"a\",\"share\":\"x\",\"remote\":[\"file:///tmp\"]}", 0, NULL, 400,
     "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"a\",\"share\":\"x\",\"remote\":\"file:///tmp\",\"cachingMode\":true}", 0, NULL,
     400, "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"a\",\"share\":\"x\",\"remote\":\"file:///tmp\",\"cachingMode\":\"often\"}", 0,
     NULL, 400, "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"a\",\"share\":\"x\",\"remote\":\"file:///tmp\",\"colour\":\"red\"}", 0, NULL,
     400, "unknown-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, "{\"server\":\"a\",\"share\":\"x\"}", 0,
     NULL, 400, "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"..\",\"share\":\"x\",\"remote\":\"file:///tmp\"}", 0, NULL, 400,
     "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"a/b\",\"share\":\"x\",\"remote\":\"file:///tmp\"}", 0, NULL, 400,
     "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"\",\"share\":\"x\",\"remote\":\"file:///tmp\"}", 0, NULL, 400, "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"a\",\"share\":\".\",\"remote\":\"file:///tmp\"}", 0, NULL, 400,
     "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"a\\u0000b\",\"share\":\"x\",\"remote\":\"file:///tmp\"}", 0, NULL, 400,
     "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"%SEG256%\",\"share\":\"x\",\"remote\":\"file:///tmp\"}", 0, NULL, 400,
     "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"a\",\"share\":\"x\",\"remote\":\"file://relative/dir\"}", 0, NULL, 400,
     "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"a\",\"share\":\"x\",\"remote\":\"ftp://127.0.0.1/x\"}", 0, NULL, 400,
     "invalid-field"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON,
     "{\"server\":\"a\",\"share\":\"x\",\"remote\":\"file:///%LONG%\"}", 0, NULL, 400,
     "invalid-field"},
    {"PATCH", "/api/v1/shares/srv/s", AUTH_ADMIN, NULL, JSON, "{\"cachingMode\":1}", 0, NULL, 400,
     "invalid-field"},
    {"PATCH", "/api/v1/shares/srv/s", AUTH_ADMIN, NULL, JSON, "{\"remote\":null}", 0, NULL, 400,
     "invalid-field"},
    {"PATCH", "/api/v1/shares/srv/s", AUTH_ADMIN, NULL, JSON, "{\"remote\":\"file://rel\"}", 0,
     NULL, 400, "invalid-field"},
    {"PATCH", "/api/v1/shares/srv/s", AUTH_ADMIN, NULL, JSON, "{\"server\":\"other\"}", 0, NULL,
     400, "unknown-field"},
    {"PUT", "/api/v1/connection/srv/s", AUTH_ADMIN, NULL, JSON, "{\"state\":\"sideways\"}", 0, NULL,
     400, "invalid-field"},
    {"PUT", "/api/v1/connection/srv/s", AUTH_ADMIN, NULL, JSON, "{\"state\":true}", 0, NULL, 400,
     "invalid-field"},
    {"PUT", "/api/v1/connection/srv/s", AUTH_ADMIN, NULL, JSON, "{}", 0, NULL, 400,
     "invalid-field"},
    {"PUT", "/api/v1/connection/srv/s", AUTH_ADMIN, NULL, JSON, "{\"state\":\"offline\",\"why\":1}",
     0, NULL, 400, "unknown-field"},
    {"PATCH", "/api/v1/cache", AUTH_ADMIN, NULL, JSON, "{\"limit\":\"big\"}", 0, NULL, 400,
     "invalid-field"},
    {"PATCH", "/api/v1/cache", AUTH_ADMIN, NULL, JSON, "{\"limit\":1.5}", 0, NULL, 400,
     "invalid-field"},
    {"PATCH", "/api/v1/cache", AUTH_ADMIN, NULL, JSON, "{\"enabled\":\"yes\"}", 0, NULL, 400,
     "invalid-field"},
    {"PATCH", "/api/v1/cache", AUTH_ADMIN, NULL, JSON, "{\"limit\":-5}", 0, NULL, 400,
     "invalid-field"},
    {"PATCH", "/api/v1/cache", AUTH_ADMIN, NULL, JSON, "{\"size\":5}", 0, NULL, 400,
     "unknown-field"},
    {"POST", "/api/v1/files/srv/s/newdir", AUTH_ADMIN, NULL, JSON, "{\"type\":\"file\"}", 0, NULL,
     400, "invalid-field"},
    {"POST", "/api/v1/files/srv/s/newdir", AUTH_ADMIN, NULL, JSON, "{\"type\":7}", 0, NULL, 400,
     "invalid-field"},
    {"POST", "/api/v1/files/srv/s/newdir", AUTH_ADMIN, NULL, JSON,
     "{\"type\":\"directory\",\"mode\":493}", 0, NULL, 400, "unknown-field"},
    {"POST", "/api/v1/files/srv/s/newdir", AUTH_ADMIN, NULL, JSON, "{\"type\":", 0, NULL, 400,
     "malformed-json"},
    /* Media types. */
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, "text/plain", SHARE_OK, 0, NULL, 415,
     "unsupported-media-type"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, NULL, SHARE_OK, 0, NULL, 415,
     "unsupported-media-type"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, "application/jsonp", SHARE_OK, 0, NULL, 415,
     "unsupported-media-type"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, "application/x-www-form-urlencoded",
     "server=a&share=x", 0, NULL, 415, "unsupported-media-type"},
    {"POST", "/api/v1/files/srv/s/newdir", AUTH_ADMIN, NULL, "text/plain",
     "{\"type\":\"directory\"}", 0, NULL, 415, "unsupported-media-type"},
    {"PUT", "/api/v1/connection/srv/s", AUTH_ADMIN, NULL, "text/json", "{\"state\":\"offline\"}", 0,
     NULL, 415, "unsupported-media-type"},
    /* Sizes. */
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, NULL, BODY_BIG_JSON, NULL, 413,
     "payload-too-large"},
    {"POST", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, NULL, BODY_BIG_JSON_CHUNKED, NULL, 413,
     "payload-too-large"},
    {"PATCH", "/api/v1/cache", AUTH_ADMIN, NULL, JSON, NULL, BODY_BIG_JSON_CHUNKED, NULL, 413,
     "payload-too-large"},
    {"PUT", "/api/v1/files/srv/s/big.bin", AUTH_ADMIN, NULL, OCTETS, NULL, BODY_BIG_UPLOAD, NULL,
     413, "payload-too-large"},
    {"PUT", "/api/v1/files/srv/s/big-chunked.bin", AUTH_ADMIN, NULL, OCTETS, NULL,
     BODY_BIG_UPLOAD_CHUNKED, NULL, 413, "payload-too-large"},
    /* Paths: reads. */
    {"GET", "/api/v1/files/srv/s/../../../../etc/passwd", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL,
     400, "invalid-path"},
    {"GET", "/api/v1/files/srv/s/..", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400, "invalid-path"},
    {"GET", "/api/v1/files/srv/s/d/../a.txt", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/./a.txt", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/a.txt/.", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s//a.txt", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/d/", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400, "invalid-path"},
    {"GET", "/api/v1/files//srv/s/a.txt", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/a%00b", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/a.txt%00.jpg", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/%2e%2e/%2e%2e/outside", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/d%2f..%2f..%2f..%2fdata%2fadmin.token", AUTH_ADMIN, NULL, NULL,
     NULL, 0, NULL, 400, "invalid-path"},
    {"GET", "/api/v1/files/srv/s/a%5cb", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/..%5c..%5coutside", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/%ff", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400, "invalid-path"},
    {"GET", "/api/v1/files/srv/s/%c0%ae%c0%ae/x", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/a%01b", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/a%0ab", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/%SEG256%", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/%LONG%", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 414,
     "uri-too-long"},
    {"GET", "/api/v1/files/srv", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400, "invalid-path"},
    {"GET", "/api/v1/items/srv/s/../x", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400, "invalid-path"},
    {"GET", "/api/v1/items/srv/s/%SEG256%", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/items/srv/s/%LONG%", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 414,
     "uri-too-long"},
    /* Paths: writes, creates, deletes. Nothing of these may appear anywhere. */
    {"PUT", "/api/v1/files/srv/s/../escape-%PID%.txt", AUTH_ADMIN, NULL, OCTETS, "escape", 0, NULL,
     400, "invalid-path"},
    {"PUT", "/api/v1/files/srv/s/../../../../../../../../tmp/of-escape-%PID%", AUTH_ADMIN, NULL,
     OCTETS, "escape", 0, NULL, 400, "invalid-path"},
    {"PUT", "/api/v1/files/srv/s/%2e%2e/outside/escape-%PID%", AUTH_ADMIN, NULL, OCTETS, "escape",
     0, NULL, 400, "invalid-path"},
    {"PUT", "/api/v1/files/srv/s/d/../../data/escape-%PID%", AUTH_ADMIN, NULL, OCTETS, "escape", 0,
     NULL, 400, "invalid-path"},
    {"PUT", "/api/v1/files/srv/s/./escape-%PID%", AUTH_ADMIN, NULL, OCTETS, "escape", 0, NULL, 400,
     "invalid-path"},
    {"PUT", "/api/v1/files/srv/s/escape%00-%PID%", AUTH_ADMIN, NULL, OCTETS, "escape", 0, NULL, 400,
     "invalid-path"},
    {"PUT", "/api/v1/files/srv/s/d//escape-%PID%", AUTH_ADMIN, NULL, OCTETS, "escape", 0, NULL, 400,
     "invalid-path"},
    {"PUT", "/api/v1/files/srv/s/%SEG256%", AUTH_ADMIN, NULL, OCTETS, "escape", 0, NULL, 400,
     "invalid-path"},
    {"PUT", "/api/v1/files/srv/s/%LONG%", AUTH_ADMIN, NULL, OCTETS, "escape", 0, NULL, 414,
     "uri-too-long"},
    {"PUT", "/api/v1/files/srv/s/..", AUTH_ADMIN, NULL, OCTETS, "escape", 0, NULL, 400,
     "invalid-path"},
    {"PUT", "/api/v1/files/srv/s/inm-%PID%.txt", AUTH_ADMIN, NULL, OCTETS, "x", 0,
     "If-None-Match: \"abc\"", 400, "invalid-request"},
    {"POST", "/api/v1/files/srv/s/../escape-dir-%PID%", AUTH_ADMIN, NULL, JSON,
     "{\"type\":\"directory\"}", 0, NULL, 400, "invalid-path"},
    {"POST", "/api/v1/files/srv/s/%2e%2e/%2e%2e/escape-dir-%PID%", AUTH_ADMIN, NULL, JSON,
     "{\"type\":\"directory\"}", 0, NULL, 400, "invalid-path"},
    {"POST", "/api/v1/files/srv/s/%SEG256%", AUTH_ADMIN, NULL, JSON, "{\"type\":\"directory\"}", 0,
     NULL, 400, "invalid-path"},
    {"DELETE", "/api/v1/files/srv/s/..", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"DELETE", "/api/v1/files/srv/s/d/..", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"DELETE", "/api/v1/files/srv/s/d/../a.txt", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"DELETE", "/api/v1/files/srv/s/%2e%2e/outside", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    /* Our own temp files are unreachable by name; a read of a very deep path finds nothing. */
    {"GET", "/api/v1/files/srv/s/.of-tmp-0123456789abcdef", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL,
     400, "invalid-path"},
    {"PUT", "/api/v1/files/srv/s/.of-tmp-0123456789abcdef", AUTH_ADMIN, NULL, OCTETS, "x", 0, NULL,
     400, "invalid-path"},
    {"PUT", "/api/v1/files/srv/s/d/.of-tmp-x", AUTH_ADMIN, NULL, OCTETS, "x", 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/files/srv/s/%DEEP%", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 404, "not-found"},
    {"PUT", "/api/v1/files/srv/s/%DEEP%", AUTH_ADMIN, NULL, OCTETS, "x", 0, NULL, 409,
     "parent-missing"},
    {"POST", "/api/v1/files/srv/s/%DEEP%", AUTH_ADMIN, NULL, JSON, "{\"type\":\"directory\"}", 0,
     NULL, 409, "parent-missing"},
    /* Query parameters. */
    {"GET", "/api/v1/items?under=//srv/s/../..", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/items?under=srv/s", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/items?under=//srv/s/a%00b", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-path"},
    {"GET", "/api/v1/items?depth=2", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400, "invalid-query"},
    {"GET", "/api/v1/items?depth=-1", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400, "invalid-query"},
    {"GET", "/api/v1/items?limit=0", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400, "invalid-query"},
    {"GET", "/api/v1/items?limit=1001", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-query"},
    {"GET", "/api/v1/items?limit=ten", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400, "invalid-query"},
    {"GET", "/api/v1/items?limit=", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400, "invalid-query"},
    {"GET", "/api/v1/items?limit=99999999999999999999", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-query"},
    {"GET", "/api/v1/items?type=socket", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-query"},
    {"GET", "/api/v1/items?flags=bogus", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-query"},
    {"GET", "/api/v1/items?mask=dirty,bogus", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-query"},
    {"GET",
     "/api/v1/items?flags=dirty,dirty,dirty,dirty,dirty,dirty,dirty,dirty,dirty,dirty,dirty,"
     "dirty,dirty,dirty,dirty,dirty,dirty,dirty,dirty,dirty",
     AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400, "invalid-query"},
    {"GET", "/api/v1/items?includeFiles=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", AUTH_ADMIN, NULL, NULL,
     NULL, 0, NULL, 400, "invalid-query"},
    {"GET", "/api/v1/items?excludeDirs=%SEG256%%SEG256%%SEG256%%SEG256%", AUTH_ADMIN, NULL, NULL,
     NULL, 0, NULL, 400, "invalid-query"},
    {"GET", "/api/v1/items?modifiedAfter=yesterday", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-query"},
    {"GET", "/api/v1/items?modifiedBefore=2020-13-01T00:00:00Z", AUTH_ADMIN, NULL, NULL, NULL, 0,
     NULL, 400, "invalid-query"},
    {"GET", "/api/v1/items?modifiedBefore=2020-01-01T00:00:00", AUTH_ADMIN, NULL, NULL, NULL, 0,
     NULL, 400, "invalid-query"},
    {"GET", "/api/v1/items?cursor=not-a-path", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-query"},
    {"GET", "/api/v1/items?under=//srv/s&cursor=//srv/s/..", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL,
     400, "invalid-query"},
    {"DELETE", "/api/v1/shares/srv/s?force=maybe", AUTH_ADMIN, NULL, NULL, NULL, 0, NULL, 400,
     "invalid-query"},
    /* A body where none belongs. */
    {"GET", "/api/v1/shares", AUTH_ADMIN, NULL, JSON, "{\"x\":1}", 0, NULL, 400, "invalid-request"},
    {"DELETE", "/api/v1/files/srv/s/nothing-%PID%.txt", AUTH_ADMIN, NULL, JSON, "{\"x\":1}", 0,
     NULL, 400, "invalid-request"},
};

/* Expand the placeholders of a table path or body. */
static char *
expand(const char *tmpl)
{
    char *seg = it_repeat('a', 256);
    /* 20 segments of 230 bytes: a path of about 4.7 KB, every segment valid. */
    char *one = it_repeat('b', 230);
    char *lng = it_fmt("%s", one);
    for (int i = 1; i < 20; i++) {
        char *next = it_fmt("%s/%s", lng, one);
        free(lng);
        lng = next;
    }
    char pid[24];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    /* 1500 one-byte segments: 3000 bytes, within the path limit. */
    char *deep = it_repeat('z', 2999);
    for (size_t i = 1; i < 2999; i += 2)
        deep[i] = '/';
    size_t cap = strlen(tmpl) * 8 + strlen(lng) * 2 + 1024, n = 0;
    char *out = calloc(1, cap);
    assert_non_null(out);
    for (const char *p = tmpl; *p;) {
        const char *sub = NULL;
        size_t skip = 0;
        if (strncmp(p, "%SEG256%", 8) == 0) {
            sub = seg;
            skip = 8;
        } else if (strncmp(p, "%LONG%", 6) == 0) {
            sub = lng;
            skip = 6;
        } else if (strncmp(p, "%DEEP%", 6) == 0) {
            sub = deep;
            skip = 6;
        } else if (strncmp(p, "%PID%", 5) == 0) {
            sub = pid;
            skip = 5;
        }
        if (sub) {
            size_t len = strlen(sub);
            assert_true(n + len < cap);
            memcpy(out + n, sub, len);
            n += len;
            p += skip;
        } else {
            assert_true(n + 1 < cap);
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    free(seg);
    free(one);
    free(lng);
    free(deep);
    return out;
}

/* A JSON object of exactly len bytes: {"server":"aaaa..."}. */
static char *
big_json(size_t len)
{
    char *filler = it_repeat('a', len - 13);
    char *s = it_fmt("{\"server\":\"%s\"}", filler);
    free(filler);
    assert_int_equal(strlen(s), len);
    return s;
}

static char *
deep_json(void)
{
    size_t depth = 100000;
    char *s = calloc(1, depth * 2 + 1);
    assert_non_null(s);
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    return s;
}

/* Run one row; a sentence describing the mismatch (printed), or NULL. */
static const char *
run_case(struct it_env *env, const struct bad_case *c)
{
    char *path = expand(c->path);
    char *body = c->body ? expand(c->body) : NULL;
    char *raw = c->raw_auth ? expand(c->raw_auth) : NULL;
    struct it_request rq = {.method = c->method,
                            .path = path,
                            .content_type = c->ctype,
                            .path_as_is = 1,
                            .timeout_s = 60,
                            .headers = {c->header}};
    if (body) {
        rq.body = body;
        rq.body_len = strlen(body);
    }
    switch (c->auth) {
    case AUTH_ADMIN:
        rq.auth = IT_AUTH_ADMIN;
        break;
    case AUTH_NONE:
        rq.auth = IT_AUTH_NONE;
        break;
    case AUTH_USER:
        rq.auth = IT_AUTH_TOKEN;
        rq.token = bi_user_token();
        break;
    case AUTH_RAW:
        rq.auth = IT_AUTH_RAW;
        rq.token = raw;
        break;
    }
    char *generated = NULL;
    switch (c->kind) {
    case BODY_TEXT:
        break;
    case BODY_BIG_JSON:
    case BODY_BIG_JSON_CHUNKED:
        generated = big_json(MAX_JSON + 1);
        rq.body = generated;
        rq.body_len = MAX_JSON + 1;
        rq.chunked = c->kind == BODY_BIG_JSON_CHUNKED;
        break;
    case BODY_BIG_UPLOAD:
    case BODY_BIG_UPLOAD_CHUNKED:
        rq.gen_len = (int64_t)BI_MAX_UPLOAD + 1;
        rq.chunked = c->kind == BODY_BIG_UPLOAD_CHUNKED;
        break;
    case BODY_DEEP_JSON:
        generated = deep_json();
        rq.body = generated;
        rq.body_len = strlen(generated);
        break;
    }
    struct it_response *r = it_http(&env->d, &rq);
    const char *why = it_problem_mismatch(r, c->status, c->code);
    if (why) {
        print_error("MISMATCH (%s): %s %.120s%s -> expected %ld %s\n", why, c->method, c->path,
                    c->header ? " [header]" : "", c->status, c->code);
        it_show_response(r);
    }
    it_response_free(r);
    free(generated);
    free(raw);
    free(body);
    free(path);
    return why;
}

/* ---- the tree: everything below ROOT but the data dir, as "path type size" lines ---- */

static char snapshot_buf[65536];
static const char *snapshot_root;

static int
snap_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)flag;
    (void)ftw;
    const char *rel = path + strlen(snapshot_root);
    if (strncmp(rel, "/data/", 6) == 0 || strcmp(rel, "/daemon.log") == 0)
        return 0;
    size_t len = strlen(snapshot_buf);
    snprintf(snapshot_buf + len, sizeof(snapshot_buf) - len, "%s %c %lld\n", rel[0] ? rel : "/",
             S_ISDIR(sb->st_mode)   ? 'd'
             : S_ISREG(sb->st_mode) ? 'f'
                                    : 'o',
             S_ISDIR(sb->st_mode) ? 0LL : (long long)sb->st_size);
    return 0;
}

static char *
snapshot(const char *root)
{
    snapshot_buf[0] = '\0';
    snapshot_root = root;
    nftw(root, snap_one, 16, FTW_PHYS);
    return strdup(snapshot_buf);
}

static void
assert_nothing_escaped(struct it_env *env, const char *before)
{
    char *after = snapshot(env->root);
    if (strcmp(before, after) != 0)
        print_error("the tree changed:\n--- before\n%s--- after\n%s", before, after);
    assert_string_equal(before, after);
    free(after);
    char probe[PATH_MAX];
    snprintf(probe, sizeof(probe), "/tmp/of-escape-%d", (int)getpid());
    assert_false(it_exists(probe));
    DIR *dir = opendir(env->outside);
    assert_non_null(dir);
    struct dirent *de;
    int entries = 0;
    while ((de = readdir(dir)) != NULL)
        entries += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(dir);
    assert_int_equal(entries, 0);
}

static void
test_every_bad_input_gets_its_problem_and_nothing_escapes(void **state)
{
    struct it_env *env = *state;
    char *before = snapshot(env->root);
    size_t n = sizeof(cases) / sizeof(cases[0]), failed = 0;
    for (size_t i = 0; i < n; i++)
        if (run_case(env, &cases[i]))
            failed++;
    if (failed)
        print_error("%zu of %zu bad-input rows answered wrongly\n", failed, n);
    bi_assert_alive_and_well(env);
    assert_nothing_escaped(env, before);
    /* The share is still configured as it was. */
    struct it_response *r = it_get(&env->d, "/api/v1/shares/srv/s");
    IT_ASSERT_STATUS(r, 200);
    IT_ASSERT_JSTR(r->json, "cachingMode", "manual");
    IT_ASSERT_JSTR(r->json, "connection.state", "online");
    it_response_free(r);
    r = it_get(&env->d, "/api/v1/shares");
    assert_int_equal(json_array_size(it_jget(r->json, "shares")), 1);
    it_response_free(r);
    free(before);
    assert_int_equal(failed, 0);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
#define T(f) cmocka_unit_test_setup_teardown(f, bi_setup, it_teardown)
    const struct CMUnitTest tests[] = {
        T(test_every_bad_input_gets_its_problem_and_nothing_escapes),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
