/* SPDX-License-Identifier: MIT */
/*
 * Leveled logging to one sink (stderr by default). The sink and level are the
 * only process-wide mutable state besides the daemon's stop flag. Never pass a
 * token, a password or a credential-bearing URL to these functions.
 */
#ifndef OF_LOG_H
#define OF_LOG_H

enum of_log_level { OF_LOG_ERROR, OF_LOG_WARN, OF_LOG_INFO, OF_LOG_DEBUG };

/* Set the threshold; messages above it are dropped. Thread-safe. */
void of_log_set_level(enum of_log_level level);
/* Parse "error|warn|info|debug"; returns 0 or -1 for an unknown name. */
int of_log_parse_level(const char *name, enum of_log_level *ret_level);
int of_log_enabled(enum of_log_level level);
/* Write one line "TIME LEVEL message" to stderr. Thread-safe. */
void of_log(enum of_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define of_log_error(...) of_log(OF_LOG_ERROR, __VA_ARGS__)
#define of_log_warn(...) of_log(OF_LOG_WARN, __VA_ARGS__)
#define of_log_info(...) of_log(OF_LOG_INFO, __VA_ARGS__)
#define of_log_debug(...) of_log(OF_LOG_DEBUG, __VA_ARGS__)
/* Our own bug, not bad input: logged at error with the location. */
#define of_log_bug(fmt, ...) of_log(OF_LOG_ERROR, "%s:%d: " fmt, __FILE__, __LINE__, __VA_ARGS__)

#endif
