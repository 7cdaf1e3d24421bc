/*
 * script_writer.c - a relayed session as a pop3-mock dialogue script.
 *
 * The escapes are the script format's (mockserver/README.md, "Escapes"): \r \n \t \0
 * \xNN \\ \{ \} \s and a final \c. RFC 1939 section 3 lines end in CRLF, which is what
 * an "S:" line adds by itself; any other ending (a bare LF, Q6; nothing yet) is spelled
 * out, so the replay sends the octets the server sent, stuffing and all: the recorder
 * never un-stuffs a body, it writes the wire.
 */
#define _POSIX_C_SOURCE 200809L
#include "script_writer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/error.h"

int rec_writer_open(rec_writer *w, const char *path, bool keep_timing, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->keep_timing = keep_timing;
    w->last_ms = -1;
    w->f = fopen(path, "wb");
    if (w->f == NULL) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    w->path = strdup(path);
    if (w->path == NULL) {
        fclose(w->f);
        w->f = NULL;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int rec_writer_close(rec_writer *w)
{
    if (w->f == NULL) return 0;
    rec_server_flush(w);
    rec_sync(w);
    if (fclose(w->f) != 0 && !w->failed) {
        w->failed = true;
        w->err = errno;
    }
    w->f = NULL;
    free(w->path);
    w->path = NULL;
    return w->failed ? -1 : 0;
}

/* Every octet written goes through here: the file and the session's mirror. */
static void put(rec_writer *w, const char *s, size_t n)
{
    if (w->failed || n == 0) return;
    if (fwrite(s, 1, n, w->f) != n) {
        w->failed = true;
        w->err = errno != 0 ? errno : EIO;
        return;
    }
    w->written += n;
    if (w->mirror != NULL && pop3_buf_append(w->mirror, s, n) != POP3_OK) {
        /* Too large for a case file: the script itself goes on. */
        pop3_buf_free(w->mirror);
        w->mirror = NULL;
    }
}

static void puts_(rec_writer *w, const char *s)
{
    put(w, s, strlen(s));
}

bool rec_sync(rec_writer *w)
{
    if (!w->failed && fflush(w->f) != 0) {
        w->failed = true;
        w->err = errno;
    }
    return !w->failed;
}

int rec_escape(pop3_buf *out, const char *data, size_t len, bool edges)
{
    int rc = POP3_OK;
    for (size_t i = 0; i < len && rc == POP3_OK; i++) {
        unsigned char c = (unsigned char)data[i];
        char tmp[8];
        const char *e = NULL;
        switch (c) {
        case '\r': e = "\\r"; break;
        case '\n': e = "\\n"; break;
        case '\t': e = "\\t"; break;
        case '\0': e = "\\0"; break;
        case '\\': e = "\\\\"; break;
        case '{': e = "\\{"; break;
        case '}': e = "\\}"; break;
        case ' ':
            /* The parser trims spaces at both ends of a line's text. */
            if (edges && (i == 0 || i + 1 == len)) e = "\\s";
            break;
        default:
            if (c < 0x20 || c >= 0x7f) {
                snprintf(tmp, sizeof tmp, "\\x%02X", c);
                e = tmp;
            }
        }
        rc = e != NULL ? pop3_buf_append(out, e, strlen(e)) : pop3_buf_putc(out, (char)c);
    }
    return rc;
}

/* One script line: PREFIX, the escaped octets, then "{*}" when `wild`, SUFFIX, LF.
 * The parser trims spaces at both ends of a line's text, so a space at either edge is
 * "\s". RFC 1939 section 10's pseudo-lines ("<wait for ...>", "<open connection>",
 * "<close connection>") mean something to the parser: a text that starts like one gets
 * its "<" escaped. */
static void line_out(rec_writer *w, const char *prefix, const char *data, size_t len, bool wild,
                     const char *suffix)
{
    pop3_buf b;
    pop3_buf_init(&b, 0);
    int rc = pop3_buf_append(&b, prefix, strlen(prefix));
    size_t from = 0, to = len;
    if (rc == POP3_OK && len > 0 && (data[0] == '<' || data[0] == ' ')) {
        rc = pop3_buf_append(&b, data[0] == '<' ? "\\x3C" : "\\s", data[0] == '<' ? 4 : 2);
        from = 1;
    }
    bool last_space = !wild && to > from && data[to - 1] == ' ';
    if (last_space) to--;
    if (rc == POP3_OK) rc = rec_escape(&b, data + from, to - from, false);
    if (rc == POP3_OK && last_space) rc = pop3_buf_append(&b, "\\s", 2);
    if (rc == POP3_OK && wild) rc = pop3_buf_append(&b, "{*}", 3);
    if (rc == POP3_OK) rc = pop3_buf_append(&b, suffix, strlen(suffix));
    if (rc == POP3_OK) rc = pop3_buf_putc(&b, '\n');
    if (rc != POP3_OK) {
        w->failed = true;
        w->err = ENOMEM;
    } else {
        put(w, b.ptr, b.len);
    }
    pop3_buf_free(&b);
}

void rec_comment(rec_writer *w, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    for (char *p = text; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20) *p = '?';
    rec_server_flush(w);
    puts_(w, "# ");
    puts_(w, text);
    puts_(w, "\n");
}

void rec_directive(rec_writer *w, const char *text)
{
    rec_server_flush(w);
    puts_(w, text);
    puts_(w, "\n");
}

/* Held octets out as an "S:" line: CRLF-terminated ones as a plain line, others
 * spelled out and ended with "\c". */
static void emit_pending(rec_writer *w)
{
    size_t n = w->npending;
    if (n == 0) return;
    w->npending = 0;
    if (n >= 2 && w->pending[n - 2] == '\r' && w->pending[n - 1] == '\n')
        line_out(w, "S: ", w->pending, n - 2, false, "");
    else
        line_out(w, "S: ", w->pending, n, false, "\\c");
}

void rec_server_flush(rec_writer *w)
{
    emit_pending(w);
}

/* The pause since the last event, as "!delay MS" (keep_timing only). */
static void timing(rec_writer *w, int64_t now_ms)
{
    if (!w->keep_timing) return;
    if (w->last_ms >= 0 && now_ms - w->last_ms >= 1) {
        char d[48];
        int64_t ms = now_ms - w->last_ms;
        if (ms > 3600000) ms = 3600000; /* the format's longest pause */
        snprintf(d, sizeof d, "!delay %lld", (long long)ms);
        rec_directive(w, d);
    }
    w->last_ms = now_ms;
}

void rec_server(rec_writer *w, const char *data, size_t len, int64_t now_ms)
{
    timing(w, now_ms);
    for (size_t i = 0; i < len; i++) {
        w->pending[w->npending++] = data[i];
        if (data[i] == '\n' || w->npending == sizeof w->pending) emit_pending(w);
    }
    if (w->keep_timing) {
        /* The chunk as it came: one write, its last line possibly unfinished. */
        emit_pending(w);
        rec_directive(w, "!flush");
    }
}

void rec_client(rec_writer *w, const char *line, size_t len, rec_redaction r, int64_t now_ms)
{
    rec_server_flush(w);
    if (w->keep_timing) w->last_ms = now_ms;
    if (r.keep > len) r.keep = len;
    line_out(w, "C: ", line, r.wild ? r.keep : len, r.wild, "");
}
