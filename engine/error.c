/* SPDX-License-Identifier: MIT */
/* Lookups generated from the error registry in error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

struct entry {
    int status;
    const char *code;
    const char *title;
};

static const struct entry table[OF_ERRC__COUNT] = {
#define OF_ERR_ROW(name, st, cd, ti) [OF_ERRC_##name] = {st, cd, ti},
    OF_ERRORS(OF_ERR_ROW)
#undef OF_ERR_ROW
};

static const struct entry *
lookup(int code)
{
    if (code < 0)
        code = -code;
    if (code >= OF_ERRC__COUNT)
        code = OF_ERRC_INTERNAL;
    return &table[code];
}

int
of_error_set(struct of_error *reterr, int code, const char *fmt, ...)
{
    if (reterr) {
        va_list ap;
        reterr->code = code;
        va_start(ap, fmt);
        vsnprintf(reterr->detail, sizeof(reterr->detail), fmt, ap);
        va_end(ap);
    }
    return code;
}

int
of_error_status(int code)
{
    return lookup(code)->status;
}

const char *
of_error_code_str(int code)
{
    return lookup(code)->code;
}

const char *
of_error_title(int code)
{
    return lookup(code)->title;
}
