/*
 * body.c - a message as an RFC 1939 multi-line response, produced chunk by chunk.
 *
 * RFC 1939 section 3: lines starting with "." are byte-stuffed, the body ends with
 * ".\r\n" on a line of its own; section 11: LF on disk goes out as CRLF. Both are the
 * codec's pop3_stuffer (crlf = true): the mock uses the same encoder the round-trip
 * fuzzers check against the decoder. RFC 1939 section 7 (TOP): the headers, the blank
 * line, then n lines of the body; a message without a blank line is all headers.
 *
 * The quirks (conformance/QUIRKS.md) that change a body (Q1, Q2, Q4, Q6, Q7) are applied here,
 * each as a small departure from the one correct path. Reads are as large as the
 * session's output limit (16 to 64 KiB) and happen only when the output has room, so a
 * message of any size streams in bounded memory. On the correct path the stuffer writes
 * straight into the output queue: a body octet is copied from the file into the queue,
 * and from there to the socket.
 */
#include "body.h"

#include <errno.h>
#include <string.h>

#define READ_CHUNK 65536 /* octets read from the message file at once, at most */
#define CHUNK      16384 /* octets the quirk paths convert at once (stack buffers) */

int pop3mock__body_start(pop3mock__body *b, const pop3mock_maildrop *md, size_t i,
                         const pop3mock__body_style *style, bool top, uint64_t lines)
{
    memset(b, 0, sizeof *b);
    if (pop3mock_reader_open(&b->rd, md, i) != 0) return -1;
    b->style = *style;
    b->top = top;
    b->lines_left = lines;
    b->line_blank = true;
    pop3_stuffer_init(&b->st, !style->bare_lf);
    b->index = i;
    b->active = true;
    return 0;
}

void pop3mock__body_stop(pop3mock__body *b)
{
    if (b->active) pop3mock_reader_close(&b->rd);
    b->active = false;
}

/* TOP: how much of `p` belongs to the response; sets eof when the cut is reached. */
static size_t top_cut(pop3mock__body *b, const char *p, size_t n)
{
    if (b->in_body && b->lines_left == 0) {
        b->eof = true;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c != '\n') {
            if (c != '\r') b->line_blank = false;
            continue;
        }
        if (!b->in_body) {
            if (b->line_blank) b->in_body = true;
        } else {
            b->lines_left--;
        }
        b->line_blank = true;
        if (b->in_body && b->lines_left == 0) {
            b->eof = true;
            return i + 1;
        }
    }
    return n;
}

static void emit(pop3mock__body *b, pop3mock__output *o, const char *p, size_t n)
{
    if (n == 0) return;
    pop3mock__output_append(o, p, n);
    b->any = true;
    b->last = p[n - 1];
}

/* Q4: line ends converted, nothing stuffed. */
static void convert_unstuffed(pop3mock__body *b, pop3mock__output *o, const char *p, size_t n)
{
    char out[2 * CHUNK];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n' && !b->saw_cr && !b->style.bare_lf) out[k++] = '\r';
        out[k++] = p[i];
        b->saw_cr = p[i] == '\r';
    }
    emit(b, o, out, k);
}

static void stuff(pop3mock__body *b, pop3mock__output *o, const char *p, size_t n)
{
    char out[2 * CHUNK + 1];
    while (n > 0) {
        size_t used = 0, made = 0;
        /* Stuffing at most doubles the octets (a "." or a CR before each), plus one. */
        char *dst = pop3mock__output_reserve(o, 2 * n + 1);
        if (dst != NULL) {
            pop3_stuff(&b->st, p, n, dst, 2 * n + 1, &used, &made);
            pop3mock__output_commit(o, made);
            if (made > 0) {
                b->any = true;
                b->last = dst[made - 1];
            }
        } else {
            if (o->failed) return;
            pop3_stuff(&b->st, p, n, out, sizeof out, &used, &made);
            emit(b, o, out, made);
        }
        p += used;
        n -= used;
    }
}

/* Q6: drop the CR of every CRLF, holding a trailing CR until the next octet is known. */
static size_t strip_cr(pop3mock__body *b, const char *p, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (b->held_cr) {
            b->held_cr = false;
            if (p[i] != '\n') out[k++] = '\r';
        }
        if (p[i] == '\r')
            b->held_cr = true;
        else
            out[k++] = p[i];
    }
    return k;
}

static void encode(pop3mock__body *b, pop3mock__output *o, const char *p, size_t n)
{
    if (b->style.no_stuffing)
        convert_unstuffed(b, o, p, n);
    else
        stuff(b, o, p, n);
}

static void send_chunk(pop3mock__body *b, pop3mock__output *o, const char *p, size_t n)
{
    char stripped[CHUNK + 1];
    if (b->style.bare_lf) {
        n = strip_cr(b, p, n, stripped);
        p = stripped;
    }
    encode(b, o, p, n);
}

static void finish(pop3mock__body *b, pop3mock__output *o)
{
    const char *eol = b->style.bare_lf ? "\n" : "\r\n";
    if (b->held_cr) {
        b->held_cr = false;
        encode(b, o, "\r", 1);
    }
    bool plain = !b->style.bare_lf && !b->style.dot_no_crlf && !b->style.dot_cr &&
                 !b->style.extra_blank && !b->style.no_stuffing;
    if (plain) {
        char end[8];
        size_t n = pop3_stuffer_finish(&b->st, end, sizeof end);
        pop3mock__output_append(o, end, n);
    } else {
        bool open_line = b->any && b->last != '\n';
        if (open_line && b->style.dot_no_crlf) {
            /* Q1: the terminator's "." lands at the end of the last line. */
            pop3mock__output_str(o, ".");
            pop3mock__output_str(o, eol);
        } else {
            if (open_line) pop3mock__output_str(o, eol);
            if (b->style.extra_blank) pop3mock__output_str(o, eol);
            if (b->style.dot_cr) {
                /* Q2: ".\r" and the connection ends. */
                pop3mock__output_str(o, ".\r");
                pop3mock__output_mark(o, POP3MOCK__MARK_CLOSE, 0, 0);
            } else {
                pop3mock__output_str(o, ".");
                pop3mock__output_str(o, eol);
            }
        }
    }
    pop3mock_reader_close(&b->rd);
    b->active = false;
}

/* RETR read the whole file of a message taken on the word of its name: is it still the
 * message measured (same octets, which the reader checks, but also the same size as
 * sent and the same last line end)? A file rewritten in place under the same name could
 * differ in its line ends alone. A message whose file was found unchanged by stat is
 * trusted as before: changes made during a session are its own business. */
static bool changed(const pop3mock__body *b)
{
    const pop3mock_message *m = b->rd.msg;
    if (!m->_by_name) return false;
    bool final_lf = m->octets == 0 || b->src_last == '\n';
    return b->src_size != m->size || final_lf != m->final_lf;
}

void pop3mock__body_produce(pop3mock__body *b, pop3mock__output *o, size_t want)
{
    if (!b->active) return;
    char raw[READ_CHUNK];
    size_t cap = want < CHUNK ? CHUNK : want < READ_CHUNK ? want : READ_CHUNK;
    errno = 0;
    long n = b->eof ? 0 : pop3mock_reader_read(&b->rd, raw, cap);
    if (n < 0) {
        b->stale = errno == ESTALE;
        /* The file went away mid-body, or is not the one measured (it grew or shrank):
         * the response cannot be completed truthfully; end the connection rather than
         * send a wrong message as if it were right. */
        pop3mock_reader_close(&b->rd);
        b->active = false;
        pop3mock__output_mark(o, POP3MOCK__MARK_CLOSE, 0, 0);
        return;
    }
    size_t len = (size_t)n;
    if (!b->top && len > 0 && b->rd.msg->_by_name) {
        b->src_size += pop3_wire_size(raw, len, &b->src_cr);
        b->src_last = raw[len - 1];
    }
    if (b->top && len > 0) len = top_cut(b, raw, len);
    if (!b->style.bare_lf && !b->style.no_stuffing) {
        if (len > 0) stuff(b, o, raw, len);
    } else {
        for (size_t at = 0; at < len; at += CHUNK)
            send_chunk(b, o, raw + at, len - at < CHUNK ? len - at : CHUNK);
    }
    if (n == 0 && !b->top && changed(b)) {
        b->stale = true;
        pop3mock_reader_close(&b->rd);
        b->active = false;
        pop3mock__output_mark(o, POP3MOCK__MARK_CLOSE, 0, 0);
        return;
    }
    if (n == 0 || b->eof) finish(b, o);
}
