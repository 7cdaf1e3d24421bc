/*
 * adapter_marker.c - does an adapter declare itself persistent? A line within the first
 * 2048 octets of its file that is a comment (it starts with a character that is no letter
 * or digit: "#", "//", "--", ";", " *") holding "pop3-conform-adapter: persistent", as
 *
 *   # pop3-conform-adapter: persistent
 *
 * (conformance/README.md, "Persistent adapters"). An adapter without it runs one process
 * per case, as adapters always did.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "adapter.h"

#define MARKER      "pop3-conform-adapter: persistent"
#define MARKER_SCAN 2048

bool adapter_file_is_persistent(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return false;
    char head[MARKER_SCAN + 1];
    size_t n = fread(head, 1, MARKER_SCAN, f);
    fclose(f);
    head[n] = '\0';
    for (const char *l = head; l < head + n;) {
        const char *nl = memchr(l, '\n', (size_t)(head + n - l));
        size_t len = nl != NULL ? (size_t)(nl - l) : (size_t)(head + n - l);
        const char *p = l;
        while (p < l + len && (*p == ' ' || *p == '\t'))
            p++;
        if (p < l + len && !isalnum((unsigned char)*p)) {
            char line[MARKER_SCAN + 1];
            memcpy(line, l, len);
            line[len] = '\0';
            if (strstr(line, MARKER) != NULL) return true;
        }
        l += len + 1;
    }
    return false;
}
