/*
 * adapter_frame.c - the frames of the persistent adapter contract (conformance/README.md,
 * "Persistent adapters"): the request the runner writes for each case and a reader for the
 * reply, fed octets as they come and never blocking.
 *
 * A frame is a sequence of records, each "NAME LENGTH\n", LENGTH octets of data, "\n";
 * an "end 0\n\n" record closes it. A request has an "env" record per variable
 * (NAME=VALUE), one "stdin" record and "end". A reply has at most one each of "stdout",
 * "stderr", "exit" (decimal 0 to 255, required) and then "end". Lengths say where the data
 * ends, so data may hold any octet; the line feed after the data is checked so that a
 * wrong length is caught at once rather than read as the next header.
 *
 * Memory is bounded by the reader: a header is at most 39 octets, the data of "stdout" and
 * "stderr" together at most `limit` (checked against the announced length, before any of
 * it is stored), standard error is kept up to ADAPTER_LOG_MAX.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "adapter.h"

enum { R_STDOUT, R_STDERR, R_EXIT, R_END, R_COUNT };
static const char *const record_names[R_COUNT] = {"stdout", "stderr", "exit", "end"};

static void record(pop3_buf *out, const char *name, const char *data, size_t len)
{
    cbuf_printf(out, "%s %zu\n", name, len);
    cbuf_add(out, data, len);
    cbuf_putc(out, '\n');
}

void adapter_frame_request(pop3_buf *out, const strlist *env, const char *input, size_t len)
{
    for (size_t i = 0; i < env->n; i++)
        if (env->v[i] != NULL) record(out, "env", env->v[i], strlen(env->v[i]));
    record(out, "stdin", input, len);
    record(out, "end", "", 0);
}

static adapter_frame_status bad(adapter_frame_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static adapter_frame_status bad(adapter_frame_reader *r, const char *fmt, ...)
{
    char what[120];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(r->why, sizeof r->why, "%s (at octet %zu of the reply)", what, r->total);
    return FRAME_BAD;
}

/* The header "NAME LENGTH" in r->_head is complete: start its record. */
static adapter_frame_status header(adapter_frame_reader *r)
{
    char *sp = memchr(r->_head, ' ', r->_headlen);
    if (sp == NULL) return bad(r, "a record header without a length: \"%s\"", r->_head);
    *sp = '\0';
    int rec = -1;
    for (int i = 0; i < R_COUNT; i++)
        if (strcmp(r->_head, record_names[i]) == 0) rec = i;
    if (rec < 0) return bad(r, "an unknown record \"%s\"", r->_head);
    if (r->_seen & (1u << rec)) return bad(r, "a second \"%s\" record", r->_head);
    const char *digits = sp + 1;
    uint64_t n = 0;
    if (!conform_number(digits, 0, (uint64_t)1 << 48, &n))
        return bad(r, "a record length that is no number: \"%s\"", digits);
    if (rec == R_EXIT && (n == 0 || n > 3)) return bad(r, "an exit record of %s octets", digits);
    if (rec == R_END && n != 0) return bad(r, "an end record with data (%s octets)", digits);
    if (rec == R_END && !(r->_seen & (1u << R_EXIT))) return bad(r, "no exit record");
    if (rec == R_STDOUT || rec == R_STDERR) {
        if (n > r->limit - r->data) return FRAME_TOO_BIG;
        r->data += (size_t)n;
    }
    r->_seen |= 1u << rec;
    r->_record = rec + 1;
    r->_left = (size_t)n;
    r->_headlen = 0;
    return FRAME_MORE;
}

adapter_frame_status adapter_frame_feed(adapter_frame_reader *r, const char *p, size_t n,
                                        size_t *used, adapter_result *res)
{
    size_t i = 0;
    while (i < n) {
        if (r->_record == 0) {
            /* A header: up to its line feed. */
            char ch = p[i++];
            r->total++;
            if (ch != '\n') {
                if (r->_headlen + 1 >= sizeof r->_head) {
                    r->_head[r->_headlen] = '\0';
                    return bad(r, "a record header longer than 39 octets: \"%s...\"", r->_head);
                }
                if ((unsigned char)ch < 0x20 || (unsigned char)ch > 0x7e)
                    return bad(r, "a record header with a control or non-ASCII octet");
                r->_head[r->_headlen++] = ch;
                continue;
            }
            r->_head[r->_headlen] = '\0';
            adapter_frame_status st = header(r);
            if (st != FRAME_MORE) return st;
            continue;
        }
        if (r->_left > 0) {
            size_t take = n - i < r->_left ? n - i : r->_left;
            if (r->_record == R_STDOUT + 1) {
                cbuf_add(&res->out, p + i, take);
            } else if (r->_record == R_STDERR + 1) {
                size_t room = ADAPTER_LOG_MAX -
                              (res->err.len < ADAPTER_LOG_MAX ? res->err.len : ADAPTER_LOG_MAX);
                cbuf_add(&res->err, p + i, take < room ? take : room);
            } else if (r->_record == R_EXIT + 1) {
                for (size_t k = 0; k < take; k++) {
                    char d = p[i + k];
                    if (d < '0' || d > '9') return bad(r, "an exit status that is no number");
                    res->status = res->status * 10 + (d - '0');
                }
            }
            i += take;
            r->total += take;
            r->_left -= take;
            continue;
        }
        /* The line feed after the data. */
        r->total++;
        if (p[i++] != '\n')
            return bad(r, "no line feed after the data of the \"%s\" record: its length is wrong",
                       record_names[r->_record - 1]);
        if (r->_record == R_EXIT + 1) {
            if (res->status > 255) return bad(r, "an exit status past 255");
            res->exited = true;
        }
        if (r->_record == R_END + 1) {
            *used = i;
            return FRAME_DONE;
        }
        r->_record = 0;
    }
    return FRAME_MORE;
}
