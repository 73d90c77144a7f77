/* SPDX-License-Identifier: MIT */
/*
 * libmicrohttpd glue: the daemon with its epoll thread pool, the access
 * handler (route, authenticate, take the body, dispatch), per-request state
 * and its release in the completion callback, and a graceful stop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api_int.h"
#include "log.h"

struct of_api {
    struct MHD_Daemon *mhd;
    _Atomic int inflight; /* requests between their first call and completion */
    struct sse_hub *sse;
    struct of_engine *eng;
    struct of_api_config cfg;
    uint16_t port;
};

static const struct {
    const char *name;
    enum api_method method;
} methods[] = {{"GET", API_GET}, {"HEAD", API_HEAD},   {"POST", API_POST},
               {"PUT", API_PUT}, {"PATCH", API_PATCH}, {"DELETE", API_DELETE}};

static void
allow_header(unsigned allowed, char *buf, size_t cap)
{
    buf[0] = '\0';
    size_t n = 0;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (allowed & (unsigned)methods[i].method)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", methods[i].name);
}

static enum MHD_Result
reply_not_allowed(struct api_request *req, unsigned allowed)
{
    allow_header(allowed, req->err_value, sizeof(req->err_value));
    req->err_header = "Allow";
    struct of_error err;
    of_error_set(&err, OF_E(METHOD), "this resource allows %s", req->err_value);
    return api_reply_error(req, &err);
}

/* Bearer token from the Authorization header; NULL when absent or malformed. */
static const char *
bearer(struct api_request *req)
{
    const char *h = api_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

static int
authenticate(struct of_api *api, struct api_request *req, struct of_error *err)
{
    if (req->route->auth == API_AUTH_NONE)
        return 0;
    const char *token = bearer(req);
    if (!token && req->route->auth == API_AUTH_STREAM) {
        /* EventSource cannot set headers: a query parameter or a cookie carries the token. */
        token = api_query(req, "access_token");
        if (!token)
            token = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, "of_token");
    }
    if (!token)
        return of_error_set(err, OF_E(UNAUTHORIZED), "send 'Authorization: Bearer TOKEN'");
    int rc = of_engine_token_check(api->eng, token, &req->who, err);
    if (rc < 0)
        return of_error_set(err, OF_E(UNAUTHORIZED), "the token is not valid");
    if (req->route->auth == API_AUTH_ADMIN && !req->who.admin)
        return of_error_set(err, OF_E(FORBIDDEN), "this needs an admin token");
    return 0;
}

static int64_t
content_length(struct api_request *req)
{
    const char *v = api_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!v)
        return -1;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    return (errno || *end || n < 0) ? -1 : n;
}

/* First call for a request: route, authenticate, and prepare for its body. */
static enum MHD_Result
begin(struct of_api *api, struct api_request *req, const char *method)
{
    struct of_error err = {0};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(method, methods[i].name) == 0)
            req->method = methods[i].method;
    unsigned allowed = 0;
    int rc = api_route_match(req->url, req->method, req, &allowed);
    if (rc == OF_E(METHOD))
        return reply_not_allowed(req, allowed);
    if (rc < 0)
        return api_reply_problem(req, rc, "no such endpoint");
    if (authenticate(api, req, &err) < 0)
        return api_reply_error(req, &err);
    int64_t len = content_length(req);
    if (req->route->body == API_BODY_JSON && len > (int64_t)api->cfg.max_json_body) {
        of_error_set(&err, OF_E(TOO_LARGE), "JSON bodies are limited to %zu bytes",
                     api->cfg.max_json_body);
        return api_reply_error(req, &err);
    }
    if (req->route->body == API_BODY_UPLOAD) {
        char path[OF_PATH_MAX + 3];
        if (len > api->cfg.max_upload) {
            of_error_set(&err, OF_E(TOO_LARGE), "uploads are limited to %lld bytes",
                         (long long)api->cfg.max_upload);
            return api_reply_error(req, &err);
        }
        /* Refuse a bad path before taking a possibly huge body. */
        if (api_rest_path(req, path, sizeof(path), &err) < 0 ||
            of_engine_upload_new(api->eng, &req->upload, &err) < 0)
            return api_reply_error(req, &err);
    }
    return MHD_YES;
}

static void
take_body(struct of_api *api, struct api_request *req, const char *data, size_t size)
{
    if (req->route->body == API_BODY_UPLOAD) {
        if (req->upload_err.code)
            return;
        req->upload_len += (int64_t)size;
        if (req->upload_len > api->cfg.max_upload)
            of_error_set(&req->upload_err, OF_E(TOO_LARGE), "uploads are limited to %lld bytes",
                         (long long)api->cfg.max_upload);
        else
            of_content_tmp_write(req->upload, data, size, &req->upload_err);
        return;
    }
    if (req->route->body == API_BODY_NONE) {
        req->body_len += size; /* counted, not kept: dispatch refuses it */
        return;
    }
    if (req->body_too_large)
        return;
    if (req->body_len + size > api->cfg.max_json_body) {
        req->body_too_large = 1;
        return;
    }
    if (req->body_len + size + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 1024;
        while (cap < req->body_len + size + 1)
            cap *= 2;
        char *grown = realloc(req->body, cap);
        if (!grown) {
            req->body_too_large = 1;
            return;
        }
        req->body = grown;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, size);
    req->body_len += size;
    req->body[req->body_len] = '\0';
}

static enum MHD_Result
dispatch(struct of_api *api, struct api_request *req)
{
    struct of_error err = {0};
    if (req->body_too_large) {
        of_error_set(&err, OF_E(TOO_LARGE), "JSON bodies are limited to %zu bytes",
                     api->cfg.max_json_body);
        return api_reply_error(req, &err);
    }
    if (req->upload_err.code)
        return api_reply_error(req, &req->upload_err);
    if (req->route->body != API_BODY_JSON && req->body_len > 0)
        return api_reply_problem(req, OF_E(INVALID), "this endpoint takes no body");
    enum MHD_Result r = req->route->handler(req);
    if (req->streaming)
        atomic_fetch_sub(&api->inflight, 1); /* a stream lasts; shutdown need not wait for it */
    if (!req->replied && !req->on_resume && !req->wait_job) {
        of_log_bug("handler for %s replied nothing", req->route->pattern);
        return api_reply_problem(req, OF_E(INTERNAL), "no response");
    }
    return r;
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct of_api *api = cls;
    struct api_request *req = *con_cls;
    (void)version;
    if (!req) {
        req = calloc(1, sizeof(*req));
        if (!req)
            return MHD_NO;
        req->conn = conn;
        req->eng = api->eng;
        req->cfg = &api->cfg;
        req->url = url;
        req->rest = "";
        req->sse = api->sse;
        *con_cls = req;
        atomic_fetch_add(&api->inflight, 1);
        return begin(api, req, method);
    }
    if (*upload_data_size) {
        if (!req->replied)
            take_body(api, req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->on_resume) {
        /* Back from a suspension (a wait for a job): the continuation replies. */
        enum MHD_Result (*resume)(struct api_request *) = req->on_resume;
        req->on_resume = NULL;
        return resume(req);
    }
    if (req->replied)
        return MHD_YES;
    return dispatch(api, req);
}

static void
completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct of_api *api = cls;
    struct api_request *req = *con_cls;
    (void)conn;
    (void)toe;
    if (!req)
        return;
    if (!req->streaming)
        atomic_fetch_sub(&api->inflight, 1);
    of_content_tmp_free(req->upload);
    free(req->body);
    free(req);
    *con_cls = NULL;
}

/* %XX decoding that turns %00 into a control byte the path rules refuse, never a NUL. */
static size_t
unescape_cb(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *w = s;
    for (const char *r = s; *r; r++) {
        unsigned hi, lo;
        if (r[0] == '%' && sscanf(r + 1, "%1x%1x", &hi, &lo) == 2) {
            unsigned char b = (unsigned char)(hi << 4 | lo);
            *w++ = b ? (char)b : '\x01';
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    of_log_warn("http: %s", line);
}

static int
parse_listen(const char *listen, struct sockaddr_storage *ss, char *errbuf, size_t errcap)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof(host)) {
        snprintf(errbuf, errcap, "--listen takes HOST:PORT, got '%s'", listen);
        return -1;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(errbuf, errcap, "bad port in '%s'", listen);
        return -1;
    }
    memset(ss, 0, sizeof(*ss));
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        host[hl - 1] = '\0';
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1)
            return 0;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (strcmp(host, "localhost") == 0)
            snprintf(host, sizeof(host), "127.0.0.1");
        if (inet_pton(AF_INET, host, &s4->sin_addr) == 1)
            return 0;
    }
    snprintf(errbuf, errcap, "bad address in '%s' (use an IP address)", listen);
    return -1;
}

int
of_api_start(struct of_engine *eng, const struct of_api_config *cfg, struct of_api **ret_api,
             char *errbuf, size_t errcap)
{
    struct sockaddr_storage ss;
    if (parse_listen(cfg->listen, &ss, errbuf, errcap) < 0)
        return -1;
    struct of_api *api = calloc(1, sizeof(*api));
    if (!api) {
        snprintf(errbuf, errcap, "out of memory");
        return -1;
    }
    api->eng = eng;
    api->cfg = *cfg;
    api->sse = api_sse_start(eng);
    unsigned threads = cfg->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n * 2 : 4;
    }
    /*
     * poll(2), not epoll: with libmicrohttpd 0.9.75 (Debian 12) a thread pool
     * on epoll misses a client that closes mid-upload (the request lingers
     * until the timeout) and can abort in MHD_quiesce_daemon ("Failed to
     * remove listen FD from epoll set"). poll has neither problem.
     */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    api->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, access_cb, api, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_NOTIFY_COMPLETED, completed_cb, api, MHD_OPTION_UNESCAPE_CALLBACK, unescape_cb,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(64 * 1024), MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096, MHD_OPTION_END);
    if (!api->mhd) {
        snprintf(errbuf, errcap, "cannot listen on %s: %s", cfg->listen, strerror(errno));
        api_sse_stop(api->sse);
        free(api);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_BIND_PORT);
    api->port = info ? info->port : 0;
    *ret_api = api;
    return 0;
}

uint16_t
of_api_port(const struct of_api *api)
{
    return api->port;
}

void
of_api_stop(struct of_api *api)
{
    if (!api)
        return;
    /* Stop accepting, then give requests in flight (uploads too) up to 10 s to finish. */
    MHD_quiesce_daemon(api->mhd);
    api_wait_cancel_all();
    api_sse_detach(api->sse);
    api_sse_close_all(api->sse);
    api_sse_drain(api->sse, 1000);
    struct timespec tick = {0, 20 * 1000000};
    for (int i = 0; i < 500 && atomic_load(&api->inflight) > 0; i++)
        nanosleep(&tick, NULL);
    MHD_stop_daemon(api->mhd);
    api_sse_stop(api->sse);
    free(api);
}
