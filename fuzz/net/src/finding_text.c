/*
 * finding_text.c - the pieces every pop3-fuzz mode shares when it names, dates and
 * describes a finding and reads its own command line: a monotonic clock for rates and
 * deadlines, the hash in a finding's file name, a word quoted for sh in a reproduce
 * line, and the usage error and the number reader of the three modes' options.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netfuzz.h"
#include "pop3/error.h"
#include "pop3/parse.h"

double pop3fuzz_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint32_t pop3fuzz_fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

void pop3fuzz_shell_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else if (*s == '\n')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

int pop3fuzz_usage_error(const char *fmt, const char *arg)
{
    fputs("pop3-fuzz: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\ntry 'pop3-fuzz --help'\n", stderr);
    return 2;
}

bool pop3fuzz_parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
    /* The codec's one number parser: digits only, and a number past 64 bits is refused
     * where strtoull would have given ULLONG_MAX. */
    uint64_t v;
    size_t n = strlen(s);
    if (n == 0 || strspn(s, "0123456789") != n || pop3_parse_number(s, n, &v) != POP3_OK || v > max)
        return false;
    *out = (unsigned long)v;
    return true;
}
