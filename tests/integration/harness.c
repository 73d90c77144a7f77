/* SPDX-License-Identifier: MIT */
/*
 * The integration test harness of harness.h, its set-up and processes: the
 * daemon as a child process (its stderr appended to a log file, killed with
 * the test runner through PR_SET_PDEATHSIG), one-shot runs of the daemon
 * binary (token create), and the temp trees of each test. harness_http.c
 * holds the HTTP requests and assertions, harness_env.c the fixture and the
 * waits for jobs and events.
 */
#include "harness.h"
#include "harness_int.h"

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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
