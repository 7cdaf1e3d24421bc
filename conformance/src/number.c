/*
 * number.c - the decimal numbers pop3-conform reads for itself: command-line values, the
 * numbers of a case file, and the line and session numbers inside its own reports.
 *
 * All of them are read by the codec's pop3_parse_number (RFC 1939 digits, 64 bits), so
 * that "-1", "+5", " 5", "0x10", "" and a value past 2^64-1 are refused the same way
 * everywhere instead of being wrapped, cut short or taken as 0 by atoi and strtol. A
 * protocol number (a STAT, LIST or UIDL value) is never read here: the codec's
 * pop3_parse_stat, pop3_parse_scan and pop3_parse_uidl read those.
 */
#include <string.h>

#include "cli_usage.h"
#include "conform.h"
#include "pop3/error.h"
#include "pop3/parse.h"

bool conform_number(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    /* The same reading as every program's command-line values. */
    return pop3__arg_in_range(s, lo, hi, out);
}

size_t conform_leading_number(const char *s, uint64_t *out)
{
    size_t n = strspn(s, "0123456789");
    /* pop3_parse_number refuses 0 digits (EPROTO) and values past 2^64-1 (ELIMIT). */
    return pop3_parse_number(s, n, out) == POP3_OK ? n : 0;
}

bool conform_seconds(const char *s, uint64_t max_s, double *out)
{
    if (s == NULL) return false;
    uint64_t whole = 0, frac = 0;
    size_t n = conform_leading_number(s, &whole);
    if (n == 0 || whole > max_s) return false;
    double v = (double)whole;
    if (s[n] == '.') {
        /* Milliseconds at most: the client's timeouts are counted in them. */
        const char *f = s + n + 1;
        size_t fn = conform_leading_number(f, &frac);
        if (fn == 0 || fn > 3 || f[fn] != '\0') return false;
        static const double scale[] = {1.0, 10.0, 100.0, 1000.0};
        v += (double)frac / scale[fn];
        if (v > (double)max_s) return false;
    } else if (s[n] != '\0') {
        return false;
    }
    *out = v;
    return true;
}
