/*
 * cli_usage.c - the command-line conventions every pop3kit program shares (see
 * cli_usage.h): the two-line usage error, getopt_long's complaints in our own words,
 * the version line and numeric option values.
 *
 * getopt_long's own messages are switched off (opterr = 0) because their wording differs
 * between C libraries and they are not two lines with a hint; the words here are the
 * programs' documented contract, and tests outside the repository match them.
 */
#define _GNU_SOURCE
#include "cli_usage.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "pop3/error.h"
#include "pop3/parse.h"

#ifndef POP3KIT_VERSION
#error "POP3KIT_VERSION is defined by the build (the project's version)"
#endif

void pop3__vsay(const char *prog, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void pop3__say(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pop3__vsay(prog, fmt, ap);
    va_end(ap);
}

int pop3__usage_verror(const char *prog, const char *fmt, va_list ap)
{
    pop3__vsay(prog, fmt, ap);
    fprintf(stderr, "try '%s --help'\n", prog);
    return POP3_EXIT_USAGE;
}

int pop3__usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = pop3__usage_verror(prog, fmt, ap);
    va_end(ap);
    return rc;
}

int pop3__print_version(const char *prog)
{
    printf("%s (pop3kit) %s\n", prog, POP3KIT_VERSION);
    return 0;
}

/* How many long options `name` (without "--", cut at "=", n octets) is a prefix of,
 * and whether one of them is `name` exactly: getopt_long accepts unique abbreviations. */
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

int pop3__getopt_error(const char *prog, int c, char **argv, const struct option *opts)
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
            return pop3__usage_error(prog, "ambiguous option '--%.*s'", (int)n, name);
        if (count == 0) return pop3__usage_error(prog, "unknown option '--%.*s'", (int)n, name);
        if (c == ':' || (o->has_arg == required_argument && name[n] == '\0'))
            return pop3__usage_error(prog, "option '--%s' needs a value", o->name);
        if (o->has_arg == no_argument && name[n] == '=')
            return pop3__usage_error(prog, "option '--%s' takes no value", o->name);
        /* A good long option before a bad short one still inside its cluster ("-xv"):
         * optind has not moved past the cluster yet, so the word is the one before. */
        if (optopt > 0x20 && optopt < 0x7f)
            return pop3__usage_error(prog, "unknown option '-%c'", optopt);
        return pop3__usage_error(prog, "bad option '%s'", word);
    }
    if (c == ':') return pop3__usage_error(prog, "option '-%c' needs a value", optopt);
    if (optopt > 0x20 && optopt < 0x7f)
        return pop3__usage_error(prog, "unknown option '-%c'", optopt);
    return pop3__usage_error(prog, "unknown option '%s'", word);
}

bool pop3__arg_in_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t v = 0;
    if (s == NULL || pop3_parse_number(s, strlen(s), &v) != POP3_OK || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int pop3__arg_number(const char *prog, const char *option, const char *what, const char *s,
                     uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (pop3__arg_in_range(s, lo, hi, out)) return 0;
    return pop3__usage_error(prog, "%s wants %s from %llu to %llu, not '%s'", option, what,
                             (unsigned long long)lo, (unsigned long long)hi, s != NULL ? s : "");
}
