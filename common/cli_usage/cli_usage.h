/*
 * cli_usage.h - the command-line conventions shared by pop3, pop3-mock, pop3-conform and
 * pop3-record: a usage error is exactly two lines on standard error, the message and a
 * hint, and exit status 2; `--version` prints "PROG (pop3kit) VERSION" on standard output
 * with exit 0; a numeric option value is read by the codec's number parser (RFC 1939
 * digits), so "-1", "+5", " 5", "0x10" and "" are refused the same way by every program.
 *
 *   pop3-mock: option '--listen' needs a value
 *   try 'pop3-mock --help'
 */
#ifndef POP3KIT_CLI_USAGE_H
#define POP3KIT_CLI_USAGE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The exit status of a usage error in every pop3kit program. */
#define POP3_EXIT_USAGE 2

struct option;

#if defined(__GNUC__)
#define POP3__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define POP3__PRINTF(f, a)
#endif

/* pop3__say - one line "PROG: MESSAGE" on stderr (an error that is not a usage error). */
void pop3__say(const char *prog, const char *fmt, ...) POP3__PRINTF(2, 3);
/* pop3__vsay - the same with a va_list. */
void pop3__vsay(const char *prog, const char *fmt, va_list ap) POP3__PRINTF(2, 0);

/*
 * pop3__usage_error - "PROG: MESSAGE" and "try 'PROG --help'" on stderr.
 * Returns POP3_EXIT_USAGE, so that a caller can `return pop3__usage_error(...)`.
 */
int pop3__usage_error(const char *prog, const char *fmt, ...) POP3__PRINTF(2, 3);
/* pop3__usage_verror - the same with a va_list (for a program's own wrapper). */
int pop3__usage_verror(const char *prog, const char *fmt, va_list ap) POP3__PRINTF(2, 0);

/*
 * pop3__getopt_error - the usage error for what getopt_long returned, '?' or ':' (the
 * caller sets opterr = 0 and starts optstring with ':'): "unknown option '--x'",
 * "unknown option '-x'", "ambiguous option '--ma'", "option '--log' needs a value",
 * "option '--once' takes no value". `opts` is the table given to getopt_long; argv is
 * read at optind - 1, the word getopt_long has just moved past. Returns POP3_EXIT_USAGE.
 */
int pop3__getopt_error(const char *prog, int c, char **argv, const struct option *opts);

/* pop3__print_version - "PROG (pop3kit) VERSION" on stdout. Returns 0 (exit ok). */
int pop3__print_version(const char *prog);

/*
 * pop3__arg_in_range - the whole of `s` is a decimal number from lo to hi (digits only:
 * no sign, no blank, no base prefix, not empty; read by pop3_parse_number). Sets *out and
 * returns true, or returns false with *out untouched. Prints nothing.
 */
bool pop3__arg_in_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/*
 * pop3__arg_number - pop3__arg_in_range, and when it fails the usage error
 * "OPTION wants WHAT from LO to HI, not 'S'" (WHAT: "a number", "seconds", ...).
 * Returns 0 with *out set, or POP3_EXIT_USAGE (already reported).
 */
int pop3__arg_number(const char *prog, const char *option, const char *what, const char *s,
                     uint64_t lo, uint64_t hi, uint64_t *out);

#ifdef __cplusplus
}
#endif

#endif
