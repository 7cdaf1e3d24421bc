/*
 * client_trace.c - poplib's set_debuglevel: a trace of the session for people.
 *
 * Level 1 gives one line per command, level 2 adds every line sent and received (as
 * poplib's "*cmd*", "*put*", "*get*", "*resp*"). Secrets never reach a trace: the
 * callers pass command lines with the password or SASL payload already masked
 * (client_io.c). Received octets are escaped so a hostile server cannot drive the
 * terminal the trace is read on.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client_internal.h"

#define TRACE_MAX 1024 /* one trace line; longer ones are cut and marked */

void pop3_set_debuglevel(pop3_client *c, int level)
{
    c->debuglevel = level < 0 ? 0 : level;
}

void pop3_set_debug_stream(pop3_client *c, FILE *fp)
{
    c->debug_fp = fp;
}

void pop3_set_debug_callback(pop3_client *c, pop3_debug_fn fn, void *ud)
{
    c->debug_fn = fn;
    c->debug_ud = ud;
}

static void emit(pop3_client *c, int level, const char *line)
{
    if (c->debug_fn)
        c->debug_fn(c->debug_ud, level, line);
    else if (c->debug_fp)
        fprintf(c->debug_fp, "%s\n", line);
}

void pop3__trace(pop3_client *c, int level, const char *fmt, ...)
{
    if (c->debuglevel < level) return;
    char line[TRACE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    emit(c, level, line);
}

void pop3__trace_line(pop3_client *c, int level, const char *prefix, const char *text, size_t len)
{
    if (c->debuglevel < level) return;
    char line[TRACE_MAX];
    int n = snprintf(line, sizeof line, "%s ", prefix);
    size_t o = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < len; i++) {
        if (o + 8 >= sizeof line) {
            memcpy(line + o, "...", 4);
            o += 3;
            break;
        }
        unsigned char ch = (unsigned char)text[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
            line[o++] = (char)ch;
        } else if (ch == '\\') {
            line[o++] = '\\';
            line[o++] = '\\';
        } else {
            o += (size_t)snprintf(line + o, sizeof line - o, "\\x%02x", ch);
        }
    }
    line[o] = '\0';
    emit(c, level, line);
}
