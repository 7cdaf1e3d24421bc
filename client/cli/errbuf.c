/*
 * errbuf.c - cli_seterr: the sentence-in-a-buffer error convention of errbuf.h.
 */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

int cli_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}
