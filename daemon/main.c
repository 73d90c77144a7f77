/* SPDX-License-Identifier: MIT */
/*
 * offlinefilesd: parses flags and the config, opens the engine, starts the
 * HTTP API, and on SIGTERM/SIGINT stops taking requests, lets requests in
 * flight finish, and closes the database. Also `token create`.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "config.h"
#include "engine.h"
#include "log.h"

static void
usage(FILE *out)
{
    fprintf(out, "usage: offlinefilesd [--listen HOST:PORT] [--data-dir DIR] [--config FILE]\n"
                 "                     [--log-level error|warn|info|debug] [--web-dir DIR]\n"
                 "       offlinefilesd token create --user NAME [--admin] [--data-dir DIR]\n"
                 "       offlinefilesd --version | --help\n"
                 "\n"
                 "Offline Files for Linux: caches network shares and serves them over HTTP.\n"
                 "Defaults: --listen 127.0.0.1:7780, --data-dir $XDG_DATA_HOME/offlinefiles.\n");
}

static int
token_create(int argc, char **argv, struct of_config *cfg)
{
    static const struct option opts[] = {{"user", required_argument, NULL, 'u'},
                                         {"admin", no_argument, NULL, 'a'},
                                         {"data-dir", required_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    const char *user = NULL;
    int admin = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'u')
            user = optarg;
        else if (c == 'a')
            admin = 1;
        else if (c == 'd')
            of_config_set(&cfg->data_dir, optarg);
        else
            return 2;
    }
    if (!user) {
        fprintf(stderr, "token create needs --user NAME\n");
        return 2;
    }
    struct of_engine_config ecfg = {.data_dir = cfg->data_dir, .tool_only = 1};
    struct of_engine *eng = NULL;
    struct of_error err = {0};
    char token[OF_TOKEN_MAX];
    of_log_set_level(OF_LOG_WARN);
    if (of_engine_open(&ecfg, &eng, &err) < 0 ||
        of_engine_token_create(eng, user, admin, token, &err) < 0) {
        fprintf(stderr, "offlinefilesd: %s\n", err.detail);
        of_engine_free(eng);
        return 1;
    }
    printf("%s\n", token);
    of_engine_free(eng);
    return 0;
}

/* Shares named in the config that the store does not have yet are added. */
static void
add_config_shares(struct of_engine *eng, const struct of_config *cfg)
{
    for (size_t i = 0; i < cfg->n_shares; i++) {
        const struct of_share_rec *r = &cfg->shares[i].rec;
        struct of_share_view v;
        struct of_error err = {0};
        if (of_engine_share_get(eng, r->server, r->share, &v, NULL) == 0)
            continue;
        if (of_engine_share_add(eng, r, &v, &err) < 0)
            of_log_error("config: share //%s/%s: %s", r->server, r->share, err.detail);
    }
}

static int
serve(struct of_config *cfg)
{
    struct of_engine_config ecfg = {.data_dir = cfg->data_dir,
                                    .background_sync_s = cfg->background_sync_s,
                                    .mass_delete_count = cfg->mass_delete_count,
                                    .mass_delete_percent = (int)cfg->mass_delete_percent,
                                    .events_keep_count = cfg->events_keep_count,
                                    .events_keep_s = cfg->events_keep_s,
                                    .probe_first_ms = cfg->probe_first_ms,
                                    .probe_max_s = cfg->probe_max_s,
                                    .probe_online_s = cfg->probe_online_s,
                                    .no_background_sync = cfg->no_background_sync};
    struct of_engine *eng = NULL;
    struct of_api *api = NULL;
    struct of_error err = {0};
    char path[2300], errbuf[512];
    sigset_t set;
    int sig = 0, rc = 1;
    /* Block the stop signals before any thread starts, then wait for them here. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Every event stream holds a socket: raise the open-file limit as far as allowed. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    if (of_engine_open(&ecfg, &eng, &err) < 0) {
        of_log_error("cannot open the engine in %s: %s", cfg->data_dir, err.detail);
        return 1;
    }
    int made = of_engine_token_bootstrap(eng, path, sizeof(path), &err);
    if (made < 0) {
        of_log_error("cannot create the admin token: %s", err.detail);
        goto out_engine;
    }
    if (made)
        of_log_info("first start: admin token written to %s (mode 0600)", path);
    add_config_shares(eng, cfg);
    struct of_api_config acfg = {.listen = cfg->listen,
                                 .threads = (unsigned)cfg->threads,
                                 .max_json_body = (size_t)cfg->max_json_body,
                                 .max_upload = cfg->max_upload,
                                 .web_dir = cfg->web_dir};
    if (of_api_start(eng, &acfg, &api, errbuf, sizeof(errbuf)) < 0) {
        of_log_error("%s", errbuf);
        goto out_engine;
    }
    of_log_info("offlinefilesd %s listening on %s (port %u), data in %s", OF_VERSION, cfg->listen,
                (unsigned)of_api_port(api), cfg->data_dir);
    while (sigwait(&set, &sig) != 0)
        ;
    of_log_info("signal %d: stopping", sig);
    of_api_stop(api);
    rc = 0;
out_engine:
    of_engine_free(eng);
    of_log_info("stopped");
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},  {"data-dir", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},  {"log-level", required_argument, NULL, 'L'},
        {"web-dir", required_argument, NULL, 'w'}, {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    struct of_config cfg;
    char errbuf[512];
    int c, rc;
    of_config_init(&cfg);
    if (argc >= 3 && strcmp(argv[1], "token") == 0 && strcmp(argv[2], "create") == 0) {
        rc = token_create(argc - 2, argv + 2, &cfg);
        of_config_done(&cfg);
        return rc;
    }
    /* The config file first, so flags given with it override it. */
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 &&
            of_config_load(&cfg, argv[i + 1], errbuf, sizeof(errbuf)) < 0) {
            fprintf(stderr, "offlinefilesd: %s\n", errbuf);
            of_config_done(&cfg);
            return 2;
        }
    }
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            of_config_set(&cfg.listen, optarg);
            break;
        case 'd':
            of_config_set(&cfg.data_dir, optarg);
            break;
        case 'L':
            of_config_set(&cfg.log_level, optarg);
            break;
        case 'w':
            of_config_set(&cfg.web_dir, optarg);
            break;
        case 'c':
            break;
        case 'V':
            printf("offlinefilesd %s\n", OF_VERSION);
            of_config_done(&cfg);
            return 0;
        case 'h':
            usage(stdout);
            of_config_done(&cfg);
            return 0;
        default:
            usage(stderr);
            of_config_done(&cfg);
            return 2;
        }
    }
    enum of_log_level level;
    if (optind < argc || of_log_parse_level(cfg.log_level, &level) < 0) {
        usage(stderr);
        of_config_done(&cfg);
        return 2;
    }
    of_log_set_level(level);
    rc = serve(&cfg);
    of_config_done(&cfg);
    return rc;
}
