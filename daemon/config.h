/* SPDX-License-Identifier: MIT */
/*
 * Daemon configuration: defaults, then the config file (JSON), then command
 * line flags. Owns every string it holds; free with of_config_done.
 */
#ifndef OF_CONFIG_H
#define OF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct of_config_share {
    struct of_share_rec rec;
};

struct of_config {
    char *listen;
    char *data_dir;
    char *web_dir;
    char *log_level;
    /* Numbers: 0 leaves the default of the module that uses them. */
    int64_t threads;
    int64_t max_json_body;
    int64_t max_upload;
    int64_t background_sync_s;
    int64_t mass_delete_count;
    int64_t mass_delete_percent;
    int64_t events_keep_count;
    int64_t events_keep_s;
    int64_t probe_first_ms;
    int64_t probe_max_s;
    int64_t probe_online_s;
    int no_background_sync;
    struct of_config_share *shares;
    size_t n_shares;
};

/* Fill cfg with the built-in defaults. */
void of_config_init(struct of_config *cfg);
/*
 * Merge a JSON config file into cfg; 0, or -1 with a reason in errbuf (an
 * unknown key, a value of the wrong type or out of its range is refused,
 * never ignored).
 */
int of_config_load(struct of_config *cfg, const char *path, char *errbuf, size_t errcap);
/* Replace a string field (NULL-safe for the old value). */
void of_config_set(char **field, const char *value);
void of_config_done(struct of_config *cfg);

#endif
