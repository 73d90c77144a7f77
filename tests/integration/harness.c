/* SPDX-License-Identifier: MIT */
/*
 * The integration test harness of harness.h: the daemon as a child process
 * (its stderr appended to a log file, killed with the test runner through
 * PR_SET_PDEATHSIG), libcurl requests with one easy handle each, and the
 * temp trees of each test.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char daemon_bin[PATH_MAX];

void
it_init(int argc, char **argv)
{
    if (argc < 2 || access(argv[1], X_OK) != 0) {
        fprintf(stderr, "usage: %s /path/to/offlinefilesd\n", argc > 0 ? argv[0] : "test");
        exit(2);
    }
    snprintf(daemon_bin, sizeof(daemon_bin), "%s", argv[1]);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "curl_global_init failed\n");
        exit(2);
    }
    signal(SIGPIPE, SIG_IGN);
    /* OF_IT_FILTER=test_offline_* runs only the matching tests (a cmocka glob). */
    const char *filter = getenv("OF_IT_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
}

const char *
it_daemon_bin(void)
{
    return daemon_bin;
}

static void *
xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "harness: out of memory\n");
        abort();
    }
    return p;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- temp trees and files ---- */

char *
it_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *path = it_fmt("%s/of-it-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(path)) {
        fprintf(stderr, "harness: mkdtemp %s: %s\n", path, strerror(errno));
        free(path);
        return NULL;
    }
    return path;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void
it_rmrf(const char *path)
{
    if (path && *path)
        nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

static int
mkdir_parents(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

int
it_write_file(const char *path, const void *data, size_t len)
{
    if (mkdir_parents(path) < 0)
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = len ? fwrite(data, 1, len, f) : 0;
    return fclose(f) == 0 && n == len ? 0 : -1;
}

char *
it_read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = xmalloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            char *grown = realloc(buf, cap);
            if (!grown)
                abort();
            buf = grown;
        }
    }
    fclose(f);
    buf[len] = '\0';
    if (ret_len)
        *ret_len = len;
    return buf;
}

int
it_exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

char *
it_repeat(char c, size_t n)
{
    char *s = xmalloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

char *
it_urlencode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = xmalloc(strlen(s) * 3 + 1), *w = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            *w++ = (char)*p;
        } else {
            *w++ = '%';
            *w++ = hex[*p >> 4];
            *w++ = hex[*p & 15];
        }
    }
    *w = '\0';
    return out;
}

char *
it_fmt(const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xmalloc(n > 0 ? (size_t)n + 1 : 1);
    vsnprintf(s, n > 0 ? (size_t)n + 1 : 1, fmt, again);
    va_end(again);
    return s;
}

/* ---- the daemon ---- */

/* A port nobody listens on right now: bind port 0, read it, close. */
static uint16_t
free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof(sa);
    uint16_t port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

void
it_daemon_dump_log(const struct it_daemon *d)
{
    size_t len = 0;
    char *log = it_read_file(d->log_path, &len);
    if (!log)
        return;
    const char *tail = len > 6000 ? log + len - 6000 : log;
    fprintf(stderr, "---- daemon log (%s), last bytes ----\n%s---- end of log ----\n", d->log_path,
            tail);
    free(log);
}

/*
 * In a child about to exec the daemon: give it the sanitizer options meant
 * for it. The test runner itself runs without leak checks (a failed cmocka
 * assertion leaks by design), the daemon with them.
 */
static void
daemon_env(void)
{
    const char *opts = getenv("OF_IT_DAEMON_ASAN_OPTIONS");
    if (opts)
        setenv("ASAN_OPTIONS", opts, 1);
}

static pid_t
spawn(const struct it_daemon *d, const char *listen)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* The child: die with the test runner, log to the file, never read stdin. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int log = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (log < 0 || null < 0)
        _exit(127);
    dup2(null, 0);
    dup2(log, 1);
    dup2(log, 2);
    daemon_env();
    const char *argv[12];
    int n = 0;
    argv[n++] = daemon_bin;
    if (d->config_path[0]) {
        argv[n++] = "--config";
        argv[n++] = d->config_path;
    }
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--data-dir";
    argv[n++] = d->data_dir;
    argv[n++] = "--log-level";
    argv[n++] = d->log_level ? d->log_level : "debug";
    argv[n] = NULL;
    execv(daemon_bin, (char *const *)argv);
    _exit(127);
}

static long
health_status(const struct it_daemon *d)
{
    struct it_request rq = {.path = "/api/v1/health", .auth = IT_AUTH_NONE, .timeout_s = 2};
    struct it_response *r = it_http(d, &rq);
    long st = r->status;
    it_response_free(r);
    return st;
}

static int
read_token(struct it_daemon *d)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/admin.token", d->data_dir);
    char *tok = it_read_file(path, NULL);
    if (!tok)
        return -1;
    tok[strcspn(tok, "\r\n")] = '\0';
    snprintf(d->token, sizeof(d->token), "%s", tok);
    free(tok);
    return d->token[0] ? 0 : -1;
}

int
it_daemon_start(struct it_daemon *d)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        uint16_t port = free_port();
        char listen[32];
        snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)port);
        d->port = port;
        snprintf(d->base_url, sizeof(d->base_url), "http://127.0.0.1:%u", (unsigned)port);
        d->pid = spawn(d, listen);
        if (d->pid < 0) {
            d->pid = 0;
            fprintf(stderr, "harness: fork: %s\n", strerror(errno));
            return -1;
        }
        double deadline = now_s() + 60;
        while (now_s() < deadline) {
            if (!it_daemon_alive(d))
                break;
            if (health_status(d) == 200) {
                if (read_token(d) < 0) {
                    fprintf(stderr, "harness: no admin.token in %s\n", d->data_dir);
                    return -1;
                }
                return 0;
            }
            sleep_ms(25);
        }
        if (it_daemon_alive(d)) {
            fprintf(stderr, "harness: the daemon did not answer /api/v1/health within 60 s\n");
            it_daemon_dump_log(d);
            it_daemon_kill(d);
            return -1;
        }
        /* It exited: another test may have taken the port between our probe and its bind. */
        char *log = it_read_file(d->log_path, NULL);
        int port_taken = log && strstr(log, "cannot listen");
        free(log);
        if (!port_taken)
            break;
    }
    fprintf(stderr, "harness: the daemon did not start\n");
    it_daemon_dump_log(d);
    return -1;
}

static int
decode_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

/* Wait up to timeout_s for the child; its decoded status, or -2 when still running. */
static int
wait_for(struct it_daemon *d, double timeout_s)
{
    double deadline = now_s() + timeout_s;
    for (;;) {
        int status;
        pid_t p = waitpid(d->pid, &status, WNOHANG);
        if (p == d->pid) {
            d->pid = 0;
            return decode_status(status);
        }
        if (p < 0) {
            d->pid = 0;
            return -1;
        }
        if (now_s() > deadline)
            return -2;
        sleep_ms(10);
    }
}

int
it_daemon_stop(struct it_daemon *d)
{
    if (d->pid <= 0)
        return -1;
    kill(d->pid, SIGTERM);
    int rc = wait_for(d, 30);
    if (rc == -2) {
        fprintf(stderr, "harness: the daemon ignored SIGTERM for 30 s; killing it\n");
        it_daemon_kill(d);
        return -1;
    }
    if (rc != 0)
        it_daemon_dump_log(d);
    return rc;
}

void
it_daemon_kill(struct it_daemon *d)
{
    if (d->pid <= 0)
        return;
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    d->pid = 0;
}

int
it_daemon_alive(struct it_daemon *d)
{
    if (d->pid <= 0)
        return 0;
    int status;
    pid_t p = waitpid(d->pid, &status, WNOHANG);
    if (p == 0)
        return 1;
    if (p == d->pid)
        fprintf(stderr, "harness: the daemon exited with status %d\n", decode_status(status));
    d->pid = 0;
    return 0;
}

long
it_proc_status_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t klen = strlen(key);
    long v = -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            char *end;
            v = strtol(line + klen + 1, &end, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

/* Entries of dir (not dot files) whose names start with prefix; 0 when it is missing. */
static int
count_prefixed(const char *dir, const char *prefix)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return 0;
    int n = 0;
    for (struct dirent *de; (de = readdir(dp)) != NULL;)
        n += de->d_name[0] != '.' && strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    closedir(dp);
    return n;
}

int
it_cache_temp_files(const struct it_daemon *d)
{
    char dir[PATH_MAX + 64], link[PATH_MAX], target[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/cache/tmp", d->data_dir);
    int n = count_prefixed(dir, "");
    snprintf(dir, sizeof(dir), "%s/cache/content", d->data_dir);
    DIR *dp = opendir(dir);
    for (struct dirent *de; dp && (de = readdir(dp)) != NULL;) {
        if (de->d_name[0] == '.')
            continue;
        char sub[PATH_MAX + 400];
        if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) < sizeof(sub))
            n += count_prefixed(sub, "t-");
    }
    if (dp)
        closedir(dp);
    /* An unnamed temp file shows in /proc as "DIR/#INODE (deleted)". */
    snprintf(link, sizeof(link), "/proc/%d/fd", (int)d->pid);
    dp = d->pid > 0 ? opendir(link) : NULL;
    for (struct dirent *de; dp && (de = readdir(dp)) != NULL;) {
        snprintf(link, sizeof(link), "/proc/%d/fd/%s", (int)d->pid, de->d_name);
        ssize_t len = readlink(link, target, sizeof(target) - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        n += strstr(target, "/cache/content/") && strstr(target, "/#") &&
             strstr(target, "(deleted)");
    }
    if (dp)
        closedir(dp);
    return n;
}

/* Read all of fd into buf (cap bytes, NUL-terminated), discarding what does not fit. */
static void
drain(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    char sink[4096];
    for (;;) {
        ssize_t n =
            len + 1 < cap ? read(fd, buf + len, cap - len - 1) : read(fd, sink, sizeof(sink));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (len + 1 < cap)
            len += (size_t)n;
    }
    if (cap)
        buf[len] = '\0';
}

int
it_run_daemon_cmd(const char *const *args, long timeout_s, char *out, size_t cap, char *err,
                  size_t errcap)
{
    char tmpl_out[] = "/tmp/of-it-out-XXXXXX", tmpl_err[] = "/tmp/of-it-err-XXXXXX";
    int fo = mkstemp(tmpl_out), fe = mkstemp(tmpl_err);
    unlink(tmpl_out);
    unlink(tmpl_err);
    if (fo < 0 || fe < 0) {
        if (fo >= 0)
            close(fo);
        if (fe >= 0)
            close(fe);
        return -1;
    }
    const char *argv[32];
    size_t n = 0;
    argv[n++] = daemon_bin;
    for (size_t i = 0; args[i] && n + 1 < sizeof(argv) / sizeof(argv[0]); i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        daemon_env();
        execv(daemon_bin, (char *const *)argv);
        _exit(127);
    }
    int rc = -1;
    if (pid > 0) {
        struct it_daemon tmp = {.pid = pid};
        rc = wait_for(&tmp, (double)timeout_s);
        if (rc == -2) {
            it_daemon_kill(&tmp);
            rc = -1;
        }
    }
    /* Files, not pipes: a chatty child can never block on a full pipe. */
    lseek(fo, 0, SEEK_SET);
    lseek(fe, 0, SEEK_SET);
    if (out)
        drain(fo, out, cap);
    if (err)
        drain(fe, err, errcap);
    close(fo);
    close(fe);
    return rc;
}

int
it_token_create(const char *data_dir, const char *user, int admin, char *out, size_t cap, char *err,
                size_t errcap)
{
    const char *args[] = {
        "token", "create", "--user", user, "--data-dir", data_dir, admin ? "--admin" : NULL, NULL};
    int rc = it_run_daemon_cmd(args, 30, out, cap, err, errcap);
    if (cap)
        out[strcspn(out, "\r\n")] = '\0';
    return rc;
}

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

/* ---- the fixture ---- */

struct it_env *
it_env_new(const char *tag, const char *mode)
{
    return it_env_new_cfg(tag, mode, NULL);
}

struct it_env *
it_env_new_cfg(const char *tag, const char *mode, const char *config_json)
{
    struct it_env *env = xmalloc(sizeof(*env));
    env->root = it_tmpdir(tag);
    if (!env->root) {
        free(env);
        return NULL;
    }
    if (config_json) {
        snprintf(env->d.config_path, sizeof(env->d.config_path), "%s/config.json", env->root);
        if (it_write_file(env->d.config_path, config_json, strlen(config_json)) < 0) {
            it_rmrf(env->root);
            free(env->root);
            free(env);
            return NULL;
        }
    }
    snprintf(env->share_dir, sizeof(env->share_dir), "%s/share", env->root);
    snprintf(env->outside, sizeof(env->outside), "%s/outside", env->root);
    snprintf(env->d.data_dir, sizeof(env->d.data_dir), "%s/data", env->root);
    snprintf(env->d.log_path, sizeof(env->d.log_path), "%s/daemon.log", env->root);
    if (mkdir(env->share_dir, 0700) < 0 || mkdir(env->outside, 0700) < 0 ||
        it_daemon_start(&env->d) < 0 ||
        it_share_add(&env->d, "srv", "s", env->share_dir, mode) != 201) {
        it_daemon_kill(&env->d);
        it_rmrf(env->root);
        free(env->root);
        free(env);
        return NULL;
    }
    return env;
}

int
it_env_free(struct it_env *env)
{
    if (!env)
        return 0;
    int rc = 0;
    if (!it_daemon_alive(&env->d)) {
        fprintf(stderr, "harness: the daemon is not running at the end of the test\n");
        it_daemon_dump_log(&env->d);
        rc = -1;
    } else {
        int st = it_daemon_stop(&env->d);
        if (st != 0) {
            fprintf(stderr, "harness: SIGTERM: the daemon exited with %d, not 0\n", st);
            rc = -1;
        }
    }
    /* Keep the tree of a failed test for a post-mortem when asked to. */
    if (rc == 0 || !getenv("OF_IT_KEEP"))
        it_rmrf(env->root);
    free(env->root);
    free(env);
    return rc;
}

int
it_setup_manual(void **state)
{
    *state = it_env_new("manual", "manual");
    return *state ? 0 : -1;
}

int
it_setup_auto(void **state)
{
    *state = it_env_new("auto", "auto");
    return *state ? 0 : -1;
}

int
it_teardown(void **state)
{
    int rc = it_env_free(*state);
    *state = NULL;
    return rc;
}

void
it_share_file(const struct it_env *env, const char *rel, char *buf)
{
    if (snprintf(buf, PATH_MAX, "%s/%s", env->share_dir, rel) >= PATH_MAX)
        abort();
}

void
it_restart(struct it_env *env)
{
    int st = it_daemon_stop(&env->d);
    if (st != 0) {
        print_error("the daemon exited with %d on SIGTERM, not 0\n", st);
        fail();
    }
    if (it_daemon_start(&env->d) < 0) {
        print_error("the daemon did not start again\n");
        fail();
    }
}

/* ---- jobs, sync, conflicts and events ---- */

static int
job_active(json_t *job)
{
    const char *st = json_string_value(json_object_get(job, "state"));
    return !st || strcmp(st, "queued") == 0 || strcmp(st, "running") == 0;
}

struct it_response *
it_job_wait(const struct it_daemon *d, long long id, double timeout_s)
{
    double until = now_s() + timeout_s;
    for (;;) {
        struct it_response *r = it_get(d, "/api/v1/jobs/%lld", id);
        if (r->status != 200 || !job_active(r->json) || now_s() > until)
            return r;
        it_response_free(r);
        sleep_ms(20);
    }
}

int
it_jobs_idle(const struct it_daemon *d, double timeout_s)
{
    double until = now_s() + timeout_s;
    for (;;) {
        struct it_response *r = it_get(d, "/api/v1/jobs?limit=1000");
        json_t *jobs = it_jget(r->json, "jobs"), *job;
        size_t i;
        int busy = r->status != 200;
        json_array_foreach(jobs, i, job)
        {
            busy |= job_active(job);
        }
        it_response_free(r);
        if (!busy)
            return 0;
        if (now_s() > until)
            return -1;
        sleep_ms(20);
    }
}

struct it_response *
it_sync(const struct it_daemon *d, const char *path, const char *policy, const char *extra_json)
{
    json_t *body = extra_json ? json_loads(extra_json, 0, NULL) : json_object();
    if (!body)
        abort(); /* a test's own JSON text is wrong */
    json_object_set_new(body, "paths", json_pack("[s]", path));
    json_object_set_new(body, "wait", json_true());
    if (policy)
        json_object_set_new(body, "conflict", json_string(policy));
    char *text = json_dumps(body, JSON_COMPACT);
    struct it_response *r = it_json_req(d, "POST", "/api/v1/sync", text);
    free(text);
    json_decref(body);
    return r;
}

json_t *
it_jfind_path(json_t *json, const char *key, const char *path)
{
    json_t *arr = it_jget(json, key), *el;
    size_t i;
    json_array_foreach(arr, i, el)
    {
        const char *p = json_string_value(json_object_get(el, "path"));
        if (p && strcmp(p, path) == 0)
            return el;
    }
    return NULL;
}

long long
it_events_newest(const struct it_daemon *d)
{
    struct it_response *r = it_get(d, "/api/v1/events/log?limit=1");
    long long newest = (long long)json_integer_value(it_jget(r->json, "newest"));
    it_response_free(r);
    return newest;
}

json_t *
it_events_since(const struct it_daemon *d, long long since)
{
    json_t *all = json_array();
    for (;;) {
        struct it_response *r = it_get(d, "/api/v1/events/log?since=%lld&limit=1000", since);
        json_t *events = it_jget(r->json, "events");
        size_t n = json_array_size(events);
        if (r->status == 200)
            json_array_extend(all, events);
        long long next = (long long)json_integer_value(it_jget(r->json, "next"));
        it_response_free(r);
        if (n == 0 || next <= since)
            return all;
        since = next;
    }
}

int
it_env_unplug(struct it_env *env)
{
    char *away = it_fmt("%s/unplugged", env->root);
    int rc = rename(env->share_dir, away);
    free(away);
    return rc == 0 ? 0 : -1;
}

int
it_env_replug(struct it_env *env)
{
    char *away = it_fmt("%s/unplugged", env->root);
    int rc = rename(away, env->share_dir);
    free(away);
    return rc == 0 ? 0 : -1;
}
