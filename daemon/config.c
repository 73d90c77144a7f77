/* SPDX-License-Identifier: MIT */
/* Defaults and the JSON config file of the daemon; see config.h. */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef OF_WEB_DIR
#define OF_WEB_DIR "/usr/share/offlinefiles/web"
#endif

void
of_config_set(char **field, const char *value)
{
    char *copy = value ? strdup(value) : NULL;
    free(*field);
    *field = copy;
}

void
of_config_init(struct of_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    of_config_set(&cfg->listen, "127.0.0.1:7780");
    char dir[2048];
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(dir, sizeof(dir), "%s/offlinefiles", xdg);
    else
        snprintf(dir, sizeof(dir), "%s/.local/share/offlinefiles", home && *home ? home : ".");
    of_config_set(&cfg->data_dir, dir);
    const char *web = getenv("OFFLINEFILES_WEB_DIR");
    of_config_set(&cfg->web_dir, web && *web ? web : OF_WEB_DIR);
    of_config_set(&cfg->log_level, "info");
    cfg->max_json_body = 1024 * 1024;
    cfg->max_upload = 64LL * 1024 * 1024 * 1024;
}

static int
load_shares(struct of_config *cfg, json_t *arr, char *errbuf, size_t errcap)
{
    size_t i;
    json_t *s;
    if (!json_is_array(arr)) {
        snprintf(errbuf, errcap, "'shares' must be an array");
        return -1;
    }
    /* A later config file replaces the shares of an earlier one. */
    free(cfg->shares);
    cfg->n_shares = 0;
    cfg->shares = calloc(json_array_size(arr) + 1, sizeof(*cfg->shares));
    if (!cfg->shares) {
        snprintf(errbuf, errcap, "out of memory");
        return -1;
    }
    json_array_foreach(arr, i, s)
    {
        const char *server = NULL, *share = NULL, *remote = NULL, *mode = "manual";
        json_error_t jerr;
        struct of_share_rec *r = &cfg->shares[i].rec;
        if (json_unpack_ex(s, &jerr, JSON_STRICT, "{s:s, s:s, s:s, s?:s}", "server", &server,
                           "share", &share, "remote", &remote, "cachingMode", &mode) < 0) {
            snprintf(errbuf, errcap, "shares[%zu]: %s", i, jerr.text);
            return -1;
        }
        if (of_caching_mode_parse(mode, &r->caching_mode) < 0) {
            snprintf(errbuf, errcap,
                     "shares[%zu]: cachingMode is manual, auto, autoPrograms or noCaching", i);
            return -1;
        }
        if (strlen(server) >= sizeof(r->server) || strlen(share) >= sizeof(r->share) ||
            strlen(remote) >= sizeof(r->remote)) {
            snprintf(errbuf, errcap, "shares[%zu]: a name or the remote is too long", i);
            return -1;
        }
        memcpy(r->server, server, strlen(server) + 1);
        memcpy(r->share, share, strlen(share) + 1);
        memcpy(r->remote, remote, strlen(remote) + 1);
        cfg->n_shares++;
    }
    return 0;
}

int
of_config_load(struct of_config *cfg, const char *path, char *errbuf, size_t errcap)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        snprintf(errbuf, errcap, "%s:%d: %s", path, jerr.line,
                 root ? "the config must be a JSON object" : jerr.text);
        json_decref(root);
        return -1;
    }
    const char *listen = NULL, *data_dir = NULL, *web_dir = NULL, *level = NULL;
    json_int_t threads = -1, max_json = -1, max_upload = -1, bg = -1, mdc = -1, mdp = -1, ekc = -1,
               eks = -1;
    json_t *shares = NULL;
    int bg_sync = -1;
    if (json_unpack_ex(
            root, &jerr, JSON_STRICT,
            "{s?:s, s?:s, s?:s, s?:s, s?:I, s?:I, s?:I, s?:o, s?:I, s?:I, s?:I, s?:I, s?:I, s?:b}",
            "listen", &listen, "dataDir", &data_dir, "webDir", &web_dir, "logLevel", &level,
            "threads", &threads, "maxJsonBody", &max_json, "maxUpload", &max_upload, "shares",
            &shares, "backgroundSyncSeconds", &bg, "massDeleteCount", &mdc, "massDeletePercent",
            &mdp, "eventsKeepCount", &ekc, "eventsKeepSeconds", &eks, "backgroundSync",
            &bg_sync) < 0) {
        snprintf(errbuf, errcap, "%s: %s", path, jerr.text);
        json_decref(root);
        return -1;
    }
    if (listen)
        of_config_set(&cfg->listen, listen);
    if (data_dir)
        of_config_set(&cfg->data_dir, data_dir);
    if (web_dir)
        of_config_set(&cfg->web_dir, web_dir);
    if (level)
        of_config_set(&cfg->log_level, level);
    if (threads > 0 && threads <= 1024)
        cfg->threads = (unsigned)threads;
    if (max_json > 0)
        cfg->max_json_body = (size_t)max_json;
    if (max_upload > 0)
        cfg->max_upload = max_upload;
    if (bg > 0)
        cfg->background_sync_s = bg;
    if (mdc > 0)
        cfg->mass_delete_count = mdc;
    if (mdp > 0 && mdp <= 100)
        cfg->mass_delete_percent = mdp;
    if (ekc > 0)
        cfg->events_keep_count = ekc;
    if (eks > 0)
        cfg->events_keep_s = eks;
    if (bg_sync == 0)
        cfg->no_background_sync = 1;
    int rc = shares ? load_shares(cfg, shares, errbuf, errcap) : 0;
    json_decref(root);
    return rc;
}

void
of_config_done(struct of_config *cfg)
{
    free(cfg->listen);
    free(cfg->data_dir);
    free(cfg->web_dir);
    free(cfg->log_level);
    free(cfg->shares);
    memset(cfg, 0, sizeof(*cfg));
}
