/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the PROPFIND reply parser (engine/backends/webdav_xml.c):
 * any bytes, fed whole or in pieces of a size the input picks, must parse or
 * fail cleanly, never crash, leak or read out of bounds. The HTTP date and
 * etag helpers get the same bytes. Built with -DOF_FUZZ=ON under clang:
 *   ./fuzz_webdav_xml -max_len=65536 corpus/
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/webdav_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first byte picks the piece size (0: all at once) and the base path. */
    size_t piece = size ? data[0] : 0;
    const char *base = size && (data[0] & 1) ? "/dav/sub%20dir/" : "/dav/";
    const char *body = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;

    struct of_webdav_xml *x;
    if (of_webdav_xml_new(base, &x, NULL) < 0)
        return 0;
    int rc = 0;
    for (size_t off = 0; rc == 0 && off < len;) {
        size_t n = piece == 0 || piece > len - off ? len - off : piece;
        rc = of_webdav_xml_feed(x, body + off, n);
        off += n;
    }
    struct of_webdav_entry *v = NULL;
    size_t count = 0;
    if (rc == 0 && of_webdav_xml_finish(x, &v, &count, NULL) == 0) {
        for (size_t i = 0; i < count; i++)
            if (strlen(v[i].name) >= sizeof(v[i].name) || strlen(v[i].st.etag) >= OF_ETAG_MAX)
                abort();
        free(v);
    }
    of_webdav_xml_free(x);

    char text[512];
    size_t tl = len < sizeof(text) - 1 ? len : sizeof(text) - 1;
    memcpy(text, body, tl);
    text[tl] = '\0';
    int64_t ns;
    of_webdav_http_date(text, &ns);
    struct of_stat st = {.size = (int64_t)len, .mtime_ns = (int64_t)tl * 1000000000};
    of_webdav_etag_set(text, &st);
    if (strlen(st.etag) >= OF_ETAG_MAX)
        abort();
    return 0;
}
