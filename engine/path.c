/* SPDX-License-Identifier: MIT */
/* Validation and slicing of UNC share paths; see path.h for the rules. */
#include "path.h"

#include <string.h>

/* Length of the UTF-8 sequence starting at s (at most n bytes), 0 if invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned int cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Reject overlong forms, surrogates and values past Unicode. */
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return len;
}

int
of_path_segment_check(const char *seg, size_t len)
{
    if (len == 0 || len > OF_SEGMENT_MAX)
        return OF_E(BAD_PATH);
    if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
        return OF_E(BAD_PATH);
    const unsigned char *s = (const unsigned char *)seg;
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\' || s[i] == '/')
            return OF_E(BAD_PATH);
        size_t n = utf8_len(s + i, len - i);
        if (n == 0)
            return OF_E(BAD_PATH);
        i += n;
    }
    return 0;
}

static int
check_segments(const char *p, struct of_error *reterr)
{
    int count = 0;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len > OF_SEGMENT_MAX)
            return of_error_set(reterr, OF_E(BAD_PATH), "a path segment is longer than %d bytes",
                                OF_SEGMENT_MAX);
        if (of_path_segment_check(p, len) < 0)
            return of_error_set(reterr, OF_E(BAD_PATH),
                                "a path segment is empty, '.', '..', or holds a control byte, a "
                                "backslash or invalid UTF-8");
        count++;
        if (!slash)
            return count;
        p = slash + 1;
    }
}

int
of_path_validate(const char *path, struct of_error *reterr)
{
    if (!path)
        return of_error_set(reterr, OF_E(BAD_PATH), "no path given");
    size_t len = strnlen(path, OF_PATH_MAX + 1);
    if (len > OF_PATH_MAX)
        return of_error_set(reterr, OF_E(TOO_LONG), "the path is longer than %d bytes",
                            OF_PATH_MAX);
    if (len < 3 || path[0] != '/' || path[1] != '/')
        return of_error_set(reterr, OF_E(BAD_PATH), "a path starts with //server/share");
    return check_segments(path + 2, reterr);
}

int
of_path_validate_rel(const char *rel, struct of_error *reterr)
{
    if (!rel)
        return of_error_set(reterr, OF_E(BAD_PATH), "no path given");
    if (strnlen(rel, OF_PATH_MAX + 1) > OF_PATH_MAX)
        return of_error_set(reterr, OF_E(TOO_LONG), "the path is longer than %d bytes",
                            OF_PATH_MAX);
    if (rel[0] == '\0')
        return 0;
    return check_segments(rel, reterr);
}

int
of_path_split(const char *path, char *server, char *share, const char **ret_rel)
{
    if (of_path_validate(path, NULL) < 0)
        return OF_E(BAD_PATH);
    const char *s = path + 2;
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    memcpy(server, s, n);
    server[n] = '\0';
    share[0] = '\0';
    const char *rel = s + n;
    if (slash) {
        s = slash + 1;
        slash = strchr(s, '/');
        n = slash ? (size_t)(slash - s) : strlen(s);
        memcpy(share, s, n);
        share[n] = '\0';
        rel = slash ? slash + 1 : s + n;
    }
    if (ret_rel)
        *ret_rel = rel;
    return 0;
}

int
of_path_parent(const char *path, char *buf, size_t cap)
{
    const char *last = strrchr(path, '/');
    if (!last || last <= path + 1)
        return OF_E(NOT_FOUND);
    size_t n = (size_t)(last - path);
    if (n + 1 > cap)
        return OF_E(TOO_LONG);
    memcpy(buf, path, n);
    buf[n] = '\0';
    return 0;
}

const char *
of_path_name(const char *path)
{
    const char *last = strrchr(path, '/');
    return last ? last + 1 : path;
}

int
of_path_is_under(const char *path, const char *root)
{
    size_t n = strlen(root);
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
