/*
 * transcript.c - writing the transcript of every connection (--log, --log-format json).
 *
 * Text records read like an RFC dialogue: "TIME #CONN S: +OK ready\r\n", with the TLS
 * state ("S*:" under TLS) and every octet that is not printable ASCII escaped (\r \n
 * \t \0 \xNN), so line ends and NULs are visible. JSON lines carry the same: time,
 * conn, dir, tls, data (JSON-escaped) or event. A record is written per line, so a
 * chunk cut mid-line gives two records for one line; the octets are exact.
 */
#define _POSIX_C_SOURCE 200809L
#include "transcript.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pop3mock__log {
    FILE *f;
    bool json;
};

pop3mock__log *pop3mock__log_open(const char *path, bool json, char *err, size_t errlen)
{
    pop3mock__log *log = calloc(1, sizeof *log);
    if (log == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    log->f = fopen(path, "a");
    if (log->f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(log);
        return NULL;
    }
    log->json = json;
    return log;
}

void pop3mock__log_close(pop3mock__log *log)
{
    if (log == NULL) return;
    fclose(log->f);
    free(log);
}

static void stamp(FILE *f)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(f, "%s.%06ldZ", buf, ts.tv_nsec / 1000);
}

static void escaped(FILE *f, const char *p, size_t n, bool json)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\r': fputs("\\r", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\\': fputs("\\\\", f); break;
        case '"':
            if (json)
                fputs("\\\"", f);
            else
                fputc(c, f);
            break;
        default:
            if (c < 0x20 || c >= 0x7f) {
                /* JSON strings hold code points, so an octet >= 0x80 is written as
                 * U+00NN: the reader gets the octet back as latin-1. */
                if (json)
                    fprintf(f, "\\u%04x", c);
                else if (c == 0)
                    fputs("\\0", f);
                else
                    fprintf(f, "\\x%02x", c);
            } else {
                fputc(c, f);
            }
        }
    }
}

static void record(pop3mock__log *log, unsigned long conn, char dir, bool tls, const char *p,
                   size_t n)
{
    FILE *f = log->f;
    if (log->json) {
        fputs("{\"time\":\"", f);
        stamp(f);
        fprintf(f, "\",\"conn\":%lu,\"dir\":\"%c\",\"tls\":%s,\"data\":\"", conn, dir,
                tls ? "true" : "false");
        escaped(f, p, n, true);
        fputs("\"}\n", f);
    } else {
        stamp(f);
        fprintf(f, " #%lu %c%s: ", conn, dir, tls ? "*" : "");
        escaped(f, p, n, false);
        fputc('\n', f);
    }
}

void pop3mock__log_data(pop3mock__log *log, unsigned long conn, char dir, bool tls, const char *p,
                        size_t n)
{
    if (log == NULL) return;
    while (n > 0) {
        const char *lf = memchr(p, '\n', n);
        size_t len = lf != NULL ? (size_t)(lf - p) + 1 : n;
        record(log, conn, dir, tls, p, len);
        p += len;
        n -= len;
    }
    fflush(log->f);
}

void pop3mock__log_event(pop3mock__log *log, unsigned long conn, bool tls, const char *what)
{
    if (log == NULL) return;
    FILE *f = log->f;
    if (log->json) {
        fputs("{\"time\":\"", f);
        stamp(f);
        fprintf(f, "\",\"conn\":%lu,\"tls\":%s,\"event\":\"", conn, tls ? "true" : "false");
        escaped(f, what, strlen(what), true);
        fputs("\"}\n", f);
    } else {
        stamp(f);
        fprintf(f, " #%lu -- %s%s\n", conn, what, tls ? " (tls)" : "");
    }
    fflush(f);
}
