/*
 * cli.c - the command-line conventions `pop3-conform` shares with `pop3` and `pop3-mock`:
 * getopt_long; `--help` and `--version` on standard output with exit 0; a usage error is
 * exactly two lines on standard error, the message and a hint, with exit 2.
 *
 *   pop3-conform: option '--cases' needs a value
 *   try 'pop3-conform --help'
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"

#ifndef POP3KIT_VERSION
#define POP3KIT_VERSION "0"
#endif

int conform_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pop3-conform: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\ntry 'pop3-conform --help'\n", stderr);
    va_end(ap);
    return 2;
}

int conform_version(void)
{
    printf("pop3-conform (pop3kit) %s\n", POP3KIT_VERSION);
    return 0;
}

/* How many long options `name` (without "--", cut at "=") is a prefix of, and whether
 * one of them is `name` exactly: getopt_long accepts unique abbreviations. */
static size_t long_matches(const struct option *opts, const char *name, size_t n, bool *exact,
                           const struct option **which)
{
    size_t count = 0;
    *exact = false;
    for (const struct option *o = opts; o->name != NULL; o++) {
        if (strncmp(o->name, name, n) != 0) continue;
        if (strlen(o->name) == n) {
            *exact = true;
            *which = o;
            return 1;
        }
        count++;
        *which = o;
    }
    return count;
}

int conform_getopt_error(int c, char **argv, const struct option *opts)
{
    /* getopt_long has moved past the offending word: argv[optind - 1]. */
    const char *word = optind > 0 ? argv[optind - 1] : "";
    if (strncmp(word, "--", 2) == 0 && word[2] != '\0') {
        const char *name = word + 2;
        size_t n = strcspn(name, "=");
        bool exact = false;
        const struct option *o = NULL;
        size_t count = long_matches(opts, name, n, &exact, &o);
        if (count > 1 && !exact)
            return conform_usage_error("ambiguous option '--%.*s'", (int)n, name);
        if (count == 0) return conform_usage_error("unknown option '--%.*s'", (int)n, name);
        if (c == ':' || (o->has_arg == required_argument && name[n] == '\0'))
            return conform_usage_error("option '--%s' needs a value", o->name);
        if (o->has_arg == no_argument && name[n] == '=')
            return conform_usage_error("option '--%s' takes no value", o->name);
        return conform_usage_error("bad option '%s'", word);
    }
    if (c == ':') return conform_usage_error("option '-%c' needs a value", optopt);
    if (optopt >= 0x21 && optopt < 0x7f) return conform_usage_error("unknown option '-%c'", optopt);
    return conform_usage_error("unknown option '%s'", word);
}
