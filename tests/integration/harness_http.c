/* SPDX-License-Identifier: MIT */
/*
 * The HTTP side of the harness (harness.h): libcurl requests with one easy
 * handle each (bodies from memory, a file or a generator; responses with
 * status, headers, body and parsed JSON), the shorthands built on them, JSON
 * members by dotted path, and the assertions on responses and JSON that
 * report the caller's location through cmocka.
 */
#include "harness.h"
#include "harness_int.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- HTTP ---- */

unsigned char
it_gen_byte(int64_t i)
{
    return (unsigned char)((i * 131 + (i >> 12) * 7 + 17) & 0xff);
}

struct body_src {
    const struct it_request *rq;
    FILE *file;
    int64_t off;
};

static size_t
read_body(char *buf, size_t size, size_t nitems, void *ctx)
{
    struct body_src *src = ctx;
    const struct it_request *rq = src->rq;
    size_t cap = size * nitems;
    if (src->file)
        return fread(buf, 1, cap, src->file);
    if (rq->body) {
        size_t left = rq->body_len - (size_t)src->off;
        size_t n = left < cap ? left : cap;
        memcpy(buf, (const char *)rq->body + src->off, n);
        src->off += (int64_t)n;
        return n;
    }
    int64_t left = rq->gen_len - src->off;
    size_t n = left < (int64_t)cap ? (size_t)left : cap;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)it_gen_byte(src->off + (int64_t)i);
    src->off += (int64_t)n;
    return n;
}

struct sink {
    struct it_response *r;
    size_t cap;
    FILE *file;
};

static size_t
write_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct sink *s = ctx;
    size_t n = size * nmemb;
    if (s->file)
        return fwrite(data, 1, n, s->file);
    struct it_response *r = s->r;
    if (r->body_len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < r->body_len + n + 1)
            cap *= 2;
        char *grown = realloc(r->body, cap);
        if (!grown)
            return 0;
        r->body = grown;
        s->cap = cap;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return n;
}

static void
headers_clear(struct it_response *r)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    r->headers = NULL;
    r->n_headers = 0;
}

static size_t
write_header(char *data, size_t size, size_t nitems, void *ctx)
{
    struct it_response *r = ctx;
    size_t n = size * nitems;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        headers_clear(r); /* a new response (after 100 Continue): forget the old one */
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n;
    size_t nlen = (size_t)(colon - data);
    const char *v = colon + 1, *end = data + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    struct it_header *grown = realloc(r->headers, (r->n_headers + 1) * sizeof(*grown));
    if (!grown)
        return 0;
    r->headers = grown;
    r->headers[r->n_headers].name = strndup(data, nlen);
    r->headers[r->n_headers].value = strndup(v, (size_t)(end - v));
    r->n_headers++;
    return n;
}

const char *
it_resp_header(const struct it_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

struct it_response *
it_http(const struct it_daemon *d, const struct it_request *rq)
{
    struct it_response *r = xmalloc(sizeof(*r));
    const char *method = rq->method ? rq->method : "GET";
    snprintf(r->what, sizeof(r->what), "%s %.140s", method, rq->path);
    r->body = xmalloc(1);
    CURL *c = curl_easy_init();
    if (!c)
        abort();
    char *url = it_fmt("%s%s", d->base_url, rq->path);
    struct curl_slist *hl = NULL;
    char auth[512] = "";
    if (rq->auth == IT_AUTH_ADMIN)
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", d->token);
    else if (rq->auth == IT_AUTH_TOKEN)
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", rq->token ? rq->token : "");
    else if (rq->auth == IT_AUTH_RAW)
        snprintf(auth, sizeof(auth), "Authorization: %s", rq->token ? rq->token : "");
    if (auth[0])
        hl = curl_slist_append(hl, auth);
    char ctype[256];
    if (rq->content_type) {
        snprintf(ctype, sizeof(ctype), "Content-Type: %s", rq->content_type);
        hl = curl_slist_append(hl, ctype);
    } else {
        hl = curl_slist_append(hl, "Content-Type:"); /* curl adds none then */
    }
    for (size_t i = 0; i < sizeof(rq->headers) / sizeof(rq->headers[0]) && rq->headers[i]; i++)
        hl = curl_slist_append(hl, rq->headers[i]);
    struct body_src src = {.rq = rq};
    struct sink sink = {.r = r};
    int has_body = rq->body || rq->body_file || rq->gen_len > 0;
    if (rq->body_file && !(src.file = fopen(rq->body_file, "rb"))) {
        snprintf(r->curl_error, sizeof(r->curl_error), "cannot open %s", rq->body_file);
        r->curl_code = -1;
        goto out;
    }
    if (rq->save_to && !(sink.file = fopen(rq->save_to, "wb"))) {
        snprintf(r->curl_error, sizeof(r->curl_error), "cannot write %s", rq->save_to);
        r->curl_code = -1;
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, rq->timeout_s > 0 ? rq->timeout_s : 30L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, rq->path_as_is ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, write_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_error);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
        /* UPLOAD streams through the read callback; the custom method replaces PUT. */
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(c, CURLOPT_READDATA, &src);
        if (!rq->chunked) {
            curl_off_t len = (curl_off_t)rq->body_len;
            if (rq->body_file) {
                struct stat sb;
                len = stat(rq->body_file, &sb) == 0 ? (curl_off_t)sb.st_size : 0;
            } else if (!rq->body) {
                len = (curl_off_t)rq->gen_len;
            }
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, len);
        } else {
            hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
        }
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    r->curl_code = (int)curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    const char *ct = it_resp_header(r, "Content-Type");
    if (ct && (strncmp(ct, "application/json", 16) == 0 ||
               strncmp(ct, "application/problem+json", 24) == 0))
        r->json = json_loadb(r->body, r->body_len, 0, NULL);
out:
    if (src.file)
        fclose(src.file);
    if (sink.file)
        fclose(sink.file);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    free(url);
    return r;
}

void
it_response_free(struct it_response *r)
{
    if (!r)
        return;
    headers_clear(r);
    free(r->body);
    json_decref(r->json);
    free(r);
}

struct it_response *
it_get(const struct it_daemon *d, const char *fmt, ...)
{
    char path[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    struct it_request rq = {.path = path};
    return it_http(d, &rq);
}

struct it_response *
it_json_req(const struct it_daemon *d, const char *method, const char *path, const char *json_text)
{
    struct it_request rq = {.method = method,
                            .path = path,
                            .content_type = "application/json",
                            .body = json_text,
                            .body_len = strlen(json_text)};
    return it_http(d, &rq);
}

struct it_response *
it_put(const struct it_daemon *d, const char *path, const void *data, size_t len)
{
    struct it_request rq = {.method = "PUT",
                            .path = path,
                            .content_type = "application/octet-stream",
                            .body = data ? data : "",
                            .body_len = len};
    return it_http(d, &rq);
}

struct it_response *
it_delete(const struct it_daemon *d, const char *path)
{
    struct it_request rq = {.method = "DELETE", .path = path};
    return it_http(d, &rq);
}

long
it_share_add(const struct it_daemon *d, const char *server, const char *share, const char *dir,
             const char *mode)
{
    json_t *body = json_pack("{s:s, s:s, s:s}", "server", server, "share", share, "remote", "");
    char *remote = it_fmt("file://%s", dir);
    json_object_set_new(body, "remote", json_string(remote));
    if (mode)
        json_object_set_new(body, "cachingMode", json_string(mode));
    char *text = json_dumps(body, JSON_COMPACT);
    struct it_response *r = it_json_req(d, "POST", "/api/v1/shares", text);
    long st = r->status;
    if (st != 201)
        fprintf(stderr, "harness: adding //%s/%s answered %ld: %s\n", server, share, st, r->body);
    it_response_free(r);
    free(text);
    free(remote);
    json_decref(body);
    return st;
}

long
it_share_set_online(const struct it_daemon *d, const char *server, const char *share, int online)
{
    char *path = it_fmt("/api/v1/connection/%s/%s", server, share);
    struct it_response *r =
        it_json_req(d, "PUT", path, online ? "{\"state\":\"online\"}" : "{\"state\":\"offline\"}");
    long st = r->status;
    if (st != 200)
        fprintf(stderr, "harness: PUT %s answered %ld: %s\n", path, st, r->body);
    it_response_free(r);
    free(path);
    return st;
}

json_t *
it_jget(json_t *json, const char *dotted)
{
    char key[256];
    const char *p = dotted;
    while (json && *p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        if (json_is_array(json)) {
            char *end;
            long i = strtol(key, &end, 10);
            json = *end || i < 0 ? NULL : json_array_get(json, (size_t)i);
        } else {
            json = json_object_get(json, key);
        }
        p += n;
        if (*p == '.')
            p++;
    }
    return json;
}

/* ---- assertions ---- */

void
it_show_response(const struct it_response *r)
{
    print_error("  request: %s\n", r->what);
    if (r->curl_code)
        print_error("  curl error %d: %s\n", r->curl_code, r->curl_error);
    print_error("  status: %ld, Content-Type: %s\n", r->status,
                it_resp_header(r, "Content-Type") ? it_resp_header(r, "Content-Type") : "(none)");
    print_error("  body: %.2000s\n", r->body);
}

void
it_assert_status(const struct it_response *r, long status, const char *file, int line)
{
    if (r->status == status)
        return;
    print_error("expected HTTP %ld, got %ld\n", status, r->status);
    it_show_response(r);
    _fail(file, line);
}

const char *
it_problem_mismatch(const struct it_response *r, long status, const char *code)
{
    const char *ct = it_resp_header(r, "Content-Type");
    json_t *jcode = r->json ? json_object_get(r->json, "code") : NULL;
    json_t *jstatus = r->json ? json_object_get(r->json, "status") : NULL;
    if (r->status != status)
        return "wrong status";
    if (!ct || strcmp(ct, "application/problem+json") != 0)
        return "Content-Type is not application/problem+json";
    if (!json_is_object(r->json))
        return "the body is not a JSON object";
    if (!json_is_string(jcode) || strcmp(json_string_value(jcode), code) != 0)
        return "wrong problem code";
    if (!json_is_integer(jstatus) || json_integer_value(jstatus) != status)
        return "the problem's status member does not match";
    if (!json_is_string(json_object_get(r->json, "type")) ||
        !json_is_string(json_object_get(r->json, "title")) ||
        !json_is_string(json_object_get(r->json, "detail")))
        return "type, title or detail missing";
    return NULL;
}

void
it_assert_problem(const struct it_response *r, long status, const char *code, const char *file,
                  int line)
{
    const char *why = it_problem_mismatch(r, status, code);
    if (!why)
        return;
    print_error("%s: expected %ld problem+json with code '%s'\n", why, status, code);
    it_show_response(r);
    _fail(file, line);
}

static void
json_fail(json_t *json, const char *key, const char *msg, const char *file, int line)
{
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    print_error("JSON member '%s': %s\n  in: %.3000s\n", key, msg, text ? text : "(null)");
    free(text);
    _fail(file, line);
}

void
it_assert_jstr(json_t *json, const char *key, const char *want, const char *file, int line)
{
    json_t *v = it_jget(json, key);
    if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
        return;
    char msg[600];
    snprintf(msg, sizeof(msg), "expected the string \"%.500s\"", want);
    json_fail(json, key, msg, file, line);
}

void
it_assert_jbool(json_t *json, const char *key, int want, const char *file, int line)
{
    json_t *v = it_jget(json, key);
    if (json_is_boolean(v) && json_is_true(v) == !!want)
        return;
    json_fail(json, key, want ? "expected true" : "expected false", file, line);
}

void
it_assert_jint(json_t *json, const char *key, long long want, const char *file, int line)
{
    json_t *v = it_jget(json, key);
    if (json_is_integer(v) && json_integer_value(v) == want)
        return;
    char msg[64];
    snprintf(msg, sizeof(msg), "expected the integer %lld", want);
    json_fail(json, key, msg, file, line);
}

void
it_assert_jnull(json_t *json, const char *key, const char *file, int line)
{
    json_t *v = it_jget(json, key);
    if (json_is_null(v))
        return;
    json_fail(json, key, "expected null", file, line);
}

void
it_assert_keys(json_t *obj, const char *const *keys, const char *file, int line)
{
    if (!json_is_object(obj)) {
        json_fail(obj, "(object)", "not an object", file, line);
        return;
    }
    size_t n = 0;
    for (; keys[n]; n++)
        if (!json_object_get(obj, keys[n]))
            json_fail(obj, keys[n], "missing", file, line);
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        int known = 0;
        for (size_t i = 0; i < n && !known; i++)
            known = strcmp(keys[i], k) == 0;
        if (!known)
            json_fail(obj, k, "not expected in this object", file, line);
    }
}
