/*
 * cli.c - the command-line conventions `pop3-conform` shares with `pop3`, `pop3-mock`
 * and `pop3-record` (common/cli_usage): getopt_long; `--help` and `--version` on standard
 * output with exit 0; a usage error is exactly two lines on standard error, the message
 * and a hint, with exit 2. These wrappers only put the program's name in.
 *
 *   pop3-conform: option '--cases' needs a value
 *   try 'pop3-conform --help'
 */
#include <stdarg.h>

#include "cli_usage.h"
#include "conform.h"

static const char prog[] = "pop3-conform";

int conform_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = pop3__usage_verror(prog, fmt, ap);
    va_end(ap);
    return rc;
}

int conform_version(void)
{
    return pop3__print_version(prog);
}

int conform_getopt_error(int c, char **argv, const struct option *opts)
{
    return pop3__getopt_error(prog, c, argv, opts);
}
