/* SPDX-License-Identifier: MIT */
/* Defaults and the JSON config file of the daemon; see config.h. */
#include "config.h"

#include <inttypes.h>
#include <jansson.h>
#include <stddef.h>
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

/*
 * The plain keys of a config file: where each goes and, for numbers, the
 * range (a value outside it is refused, not ignored). "backgroundSync" and
 * "shares" are read apart.
 */
static const struct key {
    const char *name;
    size_t off;
    int is_string;
    int64_t min, max;
} keys[] = {
    {"listen", offsetof(struct of_config, listen), 1, 0, 0},
    {"dataDir", offsetof(struct of_config, data_dir), 1, 0, 0},
    {"webDir", offsetof(struct of_config, web_dir), 1, 0, 0},
    {"logLevel", offsetof(struct of_config, log_level), 1, 0, 0},
    {"threads", offsetof(struct of_config, threads), 0, 1, 1024},
    {"maxJsonBody", offsetof(struct of_config, max_json_body), 0, 1024, 1LL << 30},
    {"maxUpload", offsetof(struct of_config, max_upload), 0, 1, 1LL << 50},
    {"backgroundSyncSeconds", offsetof(struct of_config, background_sync_s), 0, 1, 7 * 86400},
    {"massDeleteCount", offsetof(struct of_config, mass_delete_count), 0, 1, 1LL << 40},
    {"massDeletePercent", offsetof(struct of_config, mass_delete_percent), 0, 1, 100},
    {"eventsKeepCount", offsetof(struct of_config, events_keep_count), 0, 1, 1LL << 40},
    {"eventsKeepSeconds", offsetof(struct of_config, events_keep_s), 0, 1, 10LL * 365 * 86400},
    {"probeFirstMs", offsetof(struct of_config, probe_first_ms), 0, 1, 600000},
    {"probeMaxSeconds", offsetof(struct of_config, probe_max_s), 0, 1, 86400},
    {"probeOnlineSeconds", offsetof(struct of_config, probe_online_s), 0, 1, 86400},
};

static const struct key *
find_key(const char *name)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
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
    const char *key;
    json_t *v, *shares = NULL;
    errbuf[0] = '\0';
    json_object_foreach(root, key, v)
    {
        const struct key *k = find_key(key);
        void *field = k ? (char *)cfg + k->off : NULL;
        if (k && k->is_string && !json_is_string(v))
            snprintf(errbuf, errcap, "%s: '%s' must be a string", path, key);
        else if (k && k->is_string)
            of_config_set(field, json_string_value(v));
        else if (k && (!json_is_integer(v) || json_integer_value(v) < k->min ||
                       json_integer_value(v) > k->max))
            snprintf(errbuf, errcap, "%s: '%s' must be an integer from %" PRId64 " to %" PRId64,
                     path, key, k->min, k->max);
        else if (k)
            *(int64_t *)field = json_integer_value(v);
        else if (strcmp(key, "backgroundSync") == 0 && !json_is_boolean(v))
            snprintf(errbuf, errcap, "%s: 'backgroundSync' must be true or false", path);
        else if (strcmp(key, "backgroundSync") == 0)
            cfg->no_background_sync = !json_is_true(v);
        else if (strcmp(key, "shares") == 0)
            shares = v;
        else
            snprintf(errbuf, errcap, "%s: unknown key '%s'", path, key);
        if (errbuf[0]) {
            json_decref(root);
            return -1;
        }
    }
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
