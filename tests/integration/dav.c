/* SPDX-License-Identifier: MIT */
/*
 * The WebDAV servers of dav.h. Apache runs as root and serves as www-data
 * (it refuses to serve as root), so its tree is made traversable and the
 * served files are handed to www-data; nginx runs as one process
 * (master_process off) as the test's own user. Each start writes a fresh
 * config from the settings in struct it_dav.
 */
#include "dav.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
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

#include "harness.h"

#define APACHE_BIN "/usr/sbin/apache2"
#define APACHE_MODS "/usr/lib/apache2/modules"
#define NGINX_BIN "/usr/sbin/nginx"
#define NGINX_DAV_EXT "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so"
#define APACHE_USER "www-data"

const char *
it_dav_name(enum it_dav_kind kind)
{
    return kind == IT_DAV_APACHE ? "apache" : "nginx";
}

int
it_dav_available(enum it_dav_kind kind)
{
    if (kind == IT_DAV_APACHE)
        return access(APACHE_BIN, X_OK) == 0 && access(APACHE_MODS "/mod_dav_fs.so", R_OK) == 0 &&
               getpwnam(APACHE_USER) != NULL;
    return access(NGINX_BIN, X_OK) == 0 && access(NGINX_DAV_EXT, R_OK) == 0;
}

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

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Hand path to the server's user (Apache serves as www-data); 0 or -1. */
static int
give(const struct it_dav *dav, const char *path)
{
    if (dav->kind != IT_DAV_APACHE)
        return 0;
    struct passwd *pw = getpwnam(APACHE_USER);
    return pw && chown(path, pw->pw_uid, pw->pw_gid) == 0 ? 0 : -1;
}

void
it_dav_path(const struct it_dav *dav, const char *rel, char *buf)
{
    if (snprintf(buf, PATH_MAX, "%s/%s", dav->dir, rel) >= PATH_MAX)
        abort();
}

int
it_dav_mkdir(const struct it_dav *dav, const char *rel)
{
    char path[PATH_MAX];
    it_dav_path(dav, rel, path);
    for (char *p = path + strlen(dav->dir) + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return -1;
        if (give(dav, path) < 0)
            return -1;
        *p = c;
        if (!c)
            return 0;
    }
}

int
it_dav_put_file(const struct it_dav *dav, const char *rel, const void *data, size_t len)
{
    char path[PATH_MAX];
    const char *slash = strrchr(rel, '/');
    if (slash) {
        char parent[PATH_MAX];
        snprintf(parent, sizeof(parent), "%.*s", (int)(slash - rel), rel);
        if (it_dav_mkdir(dav, parent) < 0)
            return -1;
    }
    it_dav_path(dav, rel, path);
    if (it_write_file(path, data, len) < 0)
        return -1;
    chmod(path, 0644);
    return give(dav, path);
}

char *
it_dav_read_file(const struct it_dav *dav, const char *rel, size_t *ret_len)
{
    char path[PATH_MAX];
    it_dav_path(dav, rel, path);
    return it_read_file(path, ret_len);
}

void
it_dav_dump_log(const struct it_dav *dav)
{
    char *path = it_fmt("%s/error.log", dav->root);
    size_t len = 0;
    char *log = it_read_file(path, &len);
    if (log) {
        const char *tail = len > 4000 ? log + len - 4000 : log;
        fprintf(stderr, "---- %s error log, last bytes ----\n%s---- end ----\n",
                it_dav_name(dav->kind), tail);
    }
    free(log);
    free(path);
}

/* ---- configs ---- */

static int
write_text(const char *path, const char *text)
{
    return it_write_file(path, text, strlen(text));
}

static int
apache_config(const struct it_dav *dav, const char *conf)
{
    const char *r = dav->root;
    const char *type = dav->digest ? "Digest" : "Basic";
    char *auth = dav->user ? it_fmt("  AuthType %s\n"
                                    "  AuthName dav\n"
                                    "  Auth%sProvider file\n"
                                    "  AuthUserFile %s/htpasswd\n"
                                    "  Require valid-user\n",
                                    type, type, r)
                           : it_fmt("  Require all granted\n");
    char *rate = dav->rate_kib > 0 ? it_fmt("  SetOutputFilter RATE_LIMIT\n"
                                            "  SetEnv rate-limit %ld\n",
                                            dav->rate_kib)
                                   : it_fmt("%s", "");
    char *text = it_fmt("Listen 127.0.0.1:%u\n"
                        "ServerName 127.0.0.1\n"
                        "LoadModule mpm_event_module " APACHE_MODS "/mod_mpm_event.so\n"
                        "LoadModule authz_core_module " APACHE_MODS "/mod_authz_core.so\n"
                        "LoadModule authn_core_module " APACHE_MODS "/mod_authn_core.so\n"
                        "LoadModule authn_file_module " APACHE_MODS "/mod_authn_file.so\n"
                        "LoadModule auth_basic_module " APACHE_MODS "/mod_auth_basic.so\n"
                        "LoadModule auth_digest_module " APACHE_MODS "/mod_auth_digest.so\n"
                        "LoadModule authz_user_module " APACHE_MODS "/mod_authz_user.so\n"
                        "LoadModule alias_module " APACHE_MODS "/mod_alias.so\n"
                        "LoadModule env_module " APACHE_MODS "/mod_env.so\n"
                        "LoadModule ratelimit_module " APACHE_MODS "/mod_ratelimit.so\n"
                        "LoadModule dav_module " APACHE_MODS "/mod_dav.so\n"
                        "LoadModule dav_fs_module " APACHE_MODS "/mod_dav_fs.so\n"
                        "User " APACHE_USER "\n"
                        "Group " APACHE_USER "\n"
                        "PidFile %s/httpd.pid\n"
                        "ErrorLog %s/error.log\n"
                        "LogLevel warn\n"
                        "DefaultRuntimeDir %s/run\n"
                        /* Not file: fcntl locks kept concurrent PUTs waiting 1 s each. */
                        "Mutex pthread default\n"
                        "DavLockDB %s/lock/davlock\n"
                        "StartServers 1\n"
                        "ServerLimit 2\n"
                        "ThreadLimit 16\n"
                        "ThreadsPerChild 16\n"
                        "MaxRequestWorkers 32\n"
                        "MinSpareThreads 4\n"
                        "MaxSpareThreads 32\n"
                        "%s"
                        "Alias /dav %s\n"
                        "<Directory %s>\n"
                        "  Dav On\n"
                        "%s%s"
                        "</Directory>\n",
                        (unsigned)dav->port, r, r, r, r, dav->no_ranges ? "MaxRanges none\n" : "",
                        dav->dir, dav->dir, auth, rate);
    int rc = write_text(conf, text);
    free(text);
    free(auth);
    free(rate);
    return rc;
}

static int
nginx_config(const struct it_dav *dav, const char *conf)
{
    const char *r = dav->root;
    char *auth = dav->user ? it_fmt("      auth_basic dav;\n"
                                    "      auth_basic_user_file %s/htpasswd;\n",
                                    r)
                           : it_fmt("%s", "");
    char *rate =
        dav->rate_kib > 0 ? it_fmt("      limit_rate %ldk;\n", dav->rate_kib) : it_fmt("%s", "");
    char *tls = dav->tls ? it_fmt("    ssl_certificate %s;\n"
                                  "    ssl_certificate_key %s/key.pem;\n",
                                  dav->cert, r)
                         : it_fmt("%s", "");
    char *text = it_fmt("load_module " NGINX_DAV_EXT ";\n"
                        "daemon off;\n"
                        "master_process off;\n"
                        "worker_processes 1;\n"
                        "pid %s/nginx.pid;\n"
                        "error_log %s/error.log warn;\n"
                        "events { worker_connections 256; }\n"
                        "http {\n"
                        "  access_log off;\n"
                        "  client_body_temp_path %s/tmp;\n"
                        "  proxy_temp_path %s/tmp;\n"
                        "  fastcgi_temp_path %s/tmp;\n"
                        "  uwsgi_temp_path %s/tmp;\n"
                        "  scgi_temp_path %s/tmp;\n"
                        "  client_max_body_size 0;\n"
                        "  server {\n"
                        "    listen 127.0.0.1:%u%s;\n"
                        "%s"
                        "    root %s/srv;\n"
                        "    location /dav/ {\n"
                        "      dav_methods PUT DELETE MKCOL COPY MOVE;\n"
                        "      dav_ext_methods PROPFIND OPTIONS;\n"
                        "      create_full_put_path off;\n"
                        "      dav_access user:rw group:rw all:r;\n"
                        "%s%s"
                        "    }\n"
                        "  }\n"
                        "}\n",
                        r, r, r, r, r, r, r, (unsigned)dav->port, dav->tls ? " ssl" : "", tls, r,
                        auth, rate);
    int rc = write_text(conf, text);
    free(text);
    free(auth);
    free(rate);
    free(tls);
    return rc;
}

/* The password file: Apache's own tool for Apache, nginx reads {PLAIN}. */
static int
password_file(const struct it_dav *dav)
{
    char *path = it_fmt("%s/htpasswd", dav->root);
    int rc = 0;
    if (dav->kind == IT_DAV_NGINX) {
        char *line = it_fmt("%s:{PLAIN}%s\n", dav->user, dav->password);
        rc = write_text(path, line);
        free(line);
    } else if (dav->digest) {
        /* htdigest's format: user:realm:MD5(user:realm:password), the realm being "dav". */
        char *cmd = it_fmt("printf '%%s' '%s:dav:%s' | md5sum", dav->user, dav->password);
        char hash[64] = "";
        FILE *p = popen(cmd, "r");
        rc = p && fscanf(p, "%32s", hash) == 1 ? 0 : -1;
        if (p)
            pclose(p);
        char *line = it_fmt("%s:dav:%s\n", dav->user, hash);
        if (rc == 0)
            rc = write_text(path, line);
        if (rc == 0)
            chmod(path, 0644);
        free(line);
        free(cmd);
    } else {
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_RDWR);
            dup2(null, 1);
            dup2(null, 2);
            execlp("htpasswd", "htpasswd", "-b", "-c", "-B", path, dav->user, dav->password,
                   (char *)NULL);
            _exit(127);
        }
        int st = 0;
        rc = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0
                                                                                             : -1;
        if (rc == 0)
            chmod(path, 0644);
    }
    free(path);
    return rc;
}

/* A self-signed certificate for 127.0.0.1 (cert.pem, key.pem in the tree); 0 or -1. */
static int
certificate(struct it_dav *dav)
{
    if (snprintf(dav->cert, sizeof(dav->cert), "%s/cert.pem", dav->root) >= (int)sizeof(dav->cert))
        return -1;
    if (access(dav->cert, R_OK) == 0)
        return 0;
    char *key = it_fmt("%s/key.pem", dav->root);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        execlp("openssl", "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
               "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", dav->cert,
               (char *)NULL);
        _exit(127);
    }
    int st = 0;
    int rc =
        pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
    free(key);
    return rc;
}

/* ---- processes ---- */

static pid_t
spawn(const struct it_dav *dav, const char *conf)
{
    char *out = it_fmt("%s/server.out", dav->root);
    char *errlog = it_fmt("%s/error.log", dav->root);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (dav->kind == IT_DAV_APACHE)
            execl(APACHE_BIN, APACHE_BIN, "-f", conf, "-DFOREGROUND", (char *)NULL);
        else
            execl(NGINX_BIN, NGINX_BIN, "-c", conf, "-p", dav->root, "-e", errlog, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        setpgid(pid, pid); /* also here: no race with a kill right after */
    free(out);
    free(errlog);
    return pid;
}

static size_t
discard(char *data, size_t size, size_t n, void *ud)
{
    (void)data;
    (void)ud;
    return size * n;
}

struct lock_reply {
    char *tok;
    size_t cap;
};

static size_t
lock_token_header(char *line, size_t size, size_t n, void *ud)
{
    struct lock_reply *lr = ud;
    size_t len = size * n;
    static const char name[] = "lock-token:";
    if (len > sizeof(name) && strncasecmp(line, name, sizeof(name) - 1) == 0) {
        const char *v = line + sizeof(name) - 1;
        size_t vlen = len - (sizeof(name) - 1);
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
            vlen--;
        snprintf(lr->tok, lr->cap, "%.*s", (int)vlen, v);
    }
    return len;
}

/* method on REL with one header (may be NULL) and body (may be NULL): the HTTP status, 0 if none.
 */
static long
dav_request(const struct it_dav *dav, const char *method, const char *rel, const char *header,
            const char *body, struct lock_reply *lr)
{
    CURL *c = curl_easy_init();
    if (!c)
        return 0;
    char *url = it_fmt("%s/%s", dav->url, rel);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/xml");
    if (header)
        h = curl_slist_append(h, header);
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (lr) {
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, lock_token_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, lr);
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L); /* the tls server's own certificate */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(url);
    return status;
}

/* The HTTP status of a PROPFIND on the collection; 0 when nothing answers. */
static long
poke(const struct it_dav *dav)
{
    return dav_request(dav, "PROPFIND", "", "Depth: 0", NULL, NULL);
}

int
it_dav_lock(const struct it_dav *dav, const char *rel, char *tok, size_t cap)
{
    static const char body[] = "<?xml version=\"1.0\"?><D:lockinfo xmlns:D=\"DAV:\">"
                               "<D:lockscope><D:exclusive/></D:lockscope>"
                               "<D:locktype><D:write/></D:locktype></D:lockinfo>";
    struct lock_reply lr = {tok, cap};
    tok[0] = '\0';
    long st = dav_request(dav, "LOCK", rel, "Timeout: Second-60", body, &lr);
    return st == 200 && tok[0] ? 0 : -1;
}

int
it_dav_unlock(const struct it_dav *dav, const char *rel, const char *tok)
{
    char *h = it_fmt("Lock-Token: %s", tok);
    long st = dav_request(dav, "UNLOCK", rel, h, NULL, NULL);
    free(h);
    return st == 204 ? 0 : -1;
}

static int
alive(struct it_dav *dav)
{
    if (dav->pid <= 0)
        return 0;
    if (waitpid(dav->pid, NULL, WNOHANG) == 0)
        return 1;
    dav->pid = 0;
    return 0;
}

static int
launch(struct it_dav *dav)
{
    char *conf = it_fmt("%s/%s.conf", dav->root, it_dav_name(dav->kind));
    int rc = dav->tls && (dav->kind != IT_DAV_NGINX || certificate(dav) < 0) ? -1 : 0;
    if (rc == 0)
        rc = dav->kind == IT_DAV_APACHE ? apache_config(dav, conf) : nginx_config(dav, conf);
    if (rc == 0 && dav->user)
        rc = password_file(dav);
    if (rc < 0) {
        fprintf(stderr, "dav: cannot write the %s config%s\n", it_dav_name(dav->kind),
                dav->tls ? " (tls: nginx only, with the openssl tool)" : "");
        free(conf);
        return -1;
    }
    snprintf(dav->url, sizeof(dav->url), "%s://127.0.0.1:%u/dav", dav->tls ? "https" : "http",
             (unsigned)dav->port);
    dav->pid = spawn(dav, conf);
    free(conf);
    if (dav->pid < 0) {
        dav->pid = 0;
        return -1;
    }
    for (int i = 0; i < 400 && alive(dav); i++) {
        long st = poke(dav);
        if (st == 207 || (dav->user && st == 401))
            return 0;
        sleep_ms(25);
    }
    fprintf(stderr, "dav: %s did not come up on port %u\n", it_dav_name(dav->kind),
            (unsigned)dav->port);
    it_dav_dump_log(dav);
    it_dav_kill(dav);
    return -1;
}

static int
make_tree(struct it_dav *dav, const char *tag)
{
    char *root = it_tmpdir(tag);
    if (!root)
        return -1;
    snprintf(dav->root, sizeof(dav->root), "%s", root);
    snprintf(dav->dir, sizeof(dav->dir), "%s/srv/dav", root);
    free(root);
    const char *subdirs[] = {"srv", "srv/dav", "tmp", "run", "lock"};
    /* Apache's workers (www-data) must get through the tree to the files, locks and runtime. */
    if (chmod(dav->root, 0755) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        char *p = it_fmt("%s/%s", dav->root, subdirs[i]);
        int rc = mkdir(p, 0755);
        if (rc == 0 && (strcmp(subdirs[i], "srv/dav") == 0 || strcmp(subdirs[i], "lock") == 0 ||
                        strcmp(subdirs[i], "run") == 0))
            rc = give(dav, p);
        free(p);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int
it_dav_start(struct it_dav *dav, enum it_dav_kind kind, const char *tag)
{
    dav->kind = kind;
    dav->pid = 0;
    dav->root[0] = '\0';
    if (make_tree(dav, tag) < 0) {
        fprintf(stderr, "dav: cannot make the temp tree for %s\n", it_dav_name(kind));
        return -1;
    }
    /* Another test may take the port between the probe and the server's bind: try again. */
    for (int attempt = 0; attempt < 5; attempt++) {
        dav->port = free_port();
        if (launch(dav) == 0)
            return 0;
    }
    return -1;
}

int
it_dav_restart(struct it_dav *dav)
{
    it_dav_kill(dav);
    for (int attempt = 0; attempt < 20; attempt++) {
        if (launch(dav) == 0)
            return 0;
        sleep_ms(100);
    }
    return -1;
}

void
it_dav_kill(struct it_dav *dav)
{
    if (dav->pid <= 0)
        return;
    kill(-dav->pid, SIGKILL);
    kill(dav->pid, SIGKILL);
    waitpid(dav->pid, NULL, 0);
    dav->pid = 0;
    /* Apache's workers are in the group too; give the kernel a moment to close their sockets. */
    sleep_ms(20);
}

void
it_dav_free(struct it_dav *dav)
{
    if (!dav)
        return;
    it_dav_kill(dav);
    if (dav->root[0] && !getenv("OF_IT_KEEP"))
        it_rmrf(dav->root);
    dav->root[0] = '\0';
}
