/* SPDX-License-Identifier: MIT */
/*
 * The one error registry of offlinefiles. Every failure the engine or the
 * API can report is an entry here: its enum name, the HTTP status it maps to,
 * the stable string that clients see as problem+json `code`, and a short
 * title. The list generates the enum and the lookups, so a new error is one
 * line. Functions that can fail return 0 or a negative OF_E_* value and may
 * fill an optional trailing `struct of_error *reterr` with detail.
 */
#ifndef OF_ERROR_H
#define OF_ERROR_H

#include <stddef.h>

/* X(NAME, http_status, "code", "title") */
#define OF_ERRORS(X)                                                                               \
    X(OK, 200, "ok", "OK")                                                                         \
    X(INVALID, 400, "invalid-request", "The request is not valid")                                 \
    X(BAD_JSON, 400, "malformed-json", "The body is not well-formed JSON")                         \
    X(BAD_FIELD, 400, "invalid-field", "A field has a wrong type or value")                        \
    X(UNKNOWN_FIELD, 400, "unknown-field", "The body has a field this endpoint does not know")     \
    X(BAD_PATH, 400, "invalid-path", "The path is not a valid share path")                         \
    X(BAD_QUERY, 400, "invalid-query", "A query parameter is not valid")                           \
    X(BAD_RANGE, 416, "range-not-satisfiable", "The requested range cannot be served")             \
    X(UNAUTHORIZED, 401, "unauthorized", "A valid bearer token is required")                       \
    X(FORBIDDEN, 403, "forbidden", "This token may not do that")                                   \
    X(NOT_FOUND, 404, "not-found", "No such item in the cache")                                    \
    X(NO_ROUTE, 404, "no-such-endpoint", "No such endpoint")                                       \
    X(NO_SHARE, 404, "no-such-share", "No share is configured for that path")                      \
    X(METHOD, 405, "method-not-allowed", "The method is not allowed on this resource")             \
    X(EXISTS, 409, "already-exists", "The item already exists")                                    \
    X(CONFLICT, 409, "conflict", "The request clashes with the item's state")                      \
    X(PARENT_MISSING, 409, "parent-missing", "The parent directory does not exist")                \
    X(NOT_A_FILE, 409, "not-a-file", "The item is not a file")                                     \
    X(NOT_A_DIR, 409, "not-a-directory", "The item is not a directory")                            \
    X(NOT_EMPTY, 409, "directory-not-empty", "The directory is not empty")                         \
    X(PRECONDITION, 412, "precondition-failed", "The item changed: the precondition failed")       \
    X(TOO_LARGE, 413, "payload-too-large", "The request body is too large")                        \
    X(TOO_LONG, 414, "uri-too-long", "The path is too long")                                       \
    X(MEDIA_TYPE, 415, "unsupported-media-type", "The body must be application/json")              \
    X(NOT_OFFLINE, 503, "not-available-offline", "The item is not available offline")              \
    X(UNAVAILABLE, 503, "share-unavailable", "The share cannot be reached")                        \
    X(ABORTED, 409, "aborted", "The operation was aborted")                                        \
    X(CACHE_FULL, 507, "cache-full", "The cache is full")                                          \
    X(IO, 500, "io-error", "A disk operation failed")                                              \
    X(STORE, 500, "store-error", "The metadata store failed")                                      \
    X(NOMEM, 500, "out-of-memory", "Out of memory")                                                \
    X(INTERNAL, 500, "internal-error", "Internal error")                                           \
    X(LOCKED, 423, "locked", "The item is locked on the server")

enum of_errcode {
#define OF_ERR_ENUM(name, status, code, title) OF_ERRC_##name,
    OF_ERRORS(OF_ERR_ENUM)
#undef OF_ERR_ENUM
        OF_ERRC__COUNT
};

/* Negative return values: OF_E_NOT_FOUND == -OF_ERRC_NOT_FOUND, and so on. */
#define OF_E(name) (-(int)OF_ERRC_##name)

/* Detail of a failure, filled by a function that returns a negative code. */
struct of_error {
    int code;         /* the negative OF_E value, 0 when unset */
    char detail[512]; /* human sentence for problem+json `detail`; may be "" */
};

/*
 * of_error_set - record code and a printf-style detail in reterr (may be NULL).
 * Returns code, so a caller can write `return of_error_set(err, OF_E(IO), ...)`.
 */
int of_error_set(struct of_error *reterr, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Lookups for a code (negative or positive); unknown codes map to INTERNAL. */
int of_error_status(int code);
const char *of_error_code_str(int code);
const char *of_error_title(int code);

#endif
