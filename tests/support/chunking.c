/*
 * chunking.c - test support: decoder transcripts under any chunking (see chunking.h).
 */
#include "chunking.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/error.h"

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void put(text *t, const char *p, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        t->s = realloc(t->s, cap);
        if (!t->s) abort();
        t->cap = cap;
    }
    memcpy(t->s + t->len, p, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void putf(text *t, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) put(t, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void put_escaped(text *t, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\r': put(t, "\\r", 2); break;
        case '\n': put(t, "\\n", 2); break;
        case '\0': put(t, "\\0", 2); break;
        case '\\': put(t, "\\\\", 2); break;
        default:
            if (c < 0x20 || c >= 0x7F)
                putf(t, "\\x%02x", c);
            else
                put(t, (const char *)&c, 1);
        }
    }
}

char *pop3t_escape(const char *p, size_t n)
{
    text t = {0};
    put(&t, "", 0);
    put_escaped(&t, p, n);
    return t.s;
}

static const char *kind_name(pop3_status_kind k)
{
    return k == POP3_STATUS_OK ? "OK" : k == POP3_STATUS_ERR ? "ERR" : "CONT";
}

typedef struct run {
    text out;
    text data; /* pending merged DATA */
    const pop3_expect *expects;
    size_t nexpects, next;
    int stopped;
} run;

static void flush_data(run *r)
{
    if (r->data.len) {
        put(&r->out, "DATA ", 5);
        put_escaped(&r->out, r->data.s, r->data.len);
        put(&r->out, "\n", 1);
        r->data.len = 0;
    }
}

static void render(run *r, const pop3_event *ev)
{
    if (ev->kind == POP3_EV_DATA) {
        put(&r->data, ev->data.ptr, ev->data.len);
        return;
    }
    flush_data(r);
    text *t = &r->out;
    switch (ev->kind) {
    case POP3_EV_STATUS:
        putf(t, "STATUS %s", kind_name(ev->status.kind));
        if (ev->status.code != POP3_CODE_NONE) {
            putf(t, " code=%s[", pop3_resp_code_name(ev->status.code));
            put_escaped(t, ev->status.code_text.ptr, ev->status.code_text.len);
            put(t, "]", 1);
        }
        put(t, " text=", 6);
        put_escaped(t, ev->status.text.ptr, ev->status.text.len);
        putf(t, " q=%x\n", ev->quirks);
        break;
    case POP3_EV_BANNER:
        put(t, "BANNER ", 7);
        put_escaped(t, ev->line.ptr, ev->line.len);
        put(t, "\n", 1);
        break;
    case POP3_EV_LINE:
        put(t, "LINE ", 5);
        put_escaped(t, ev->line.ptr, ev->line.len);
        put(t, "\n", 1);
        break;
    case POP3_EV_END: putf(t, "END q=%x\n", ev->quirks); break;
    case POP3_EV_ERROR: putf(t, "ERROR %s %s\n", pop3_errname(ev->error), ev->message); break;
    case POP3_EV_IDLE: put(t, "EOF-IDLE\n", 9); break;
    default: break;
    }
}

static void feed(run *r, pop3_decoder *d, const char *chunk, size_t n)
{
    /* An exact-size copy: reading past the chunk is a heap overflow ASan reports. */
    char *copy = malloc(n ? n : 1);
    if (!copy) abort();
    memcpy(copy, chunk, n);
    size_t off = 0;
    while (!r->stopped && off < n) {
        pop3_event ev;
        size_t used = pop3_decode(d, copy + off, n - off, &ev);
        if (used > n - off) {
            put(&r->out, "BUG consumed more than given\n", 29);
            r->stopped = 1;
            break;
        }
        off += used;
        if (ev.kind == POP3_EV_NEED_MORE) {
            if (off != n) put(&r->out, "BUG NEED_MORE with input left\n", 30);
            break;
        }
        if (ev.kind == POP3_EV_IDLE) {
            if (r->next < r->nexpects) {
                pop3_decoder_expect(d, r->expects[r->next++]);
                continue;
            }
            flush_data(r);
            /* Where the unsolicited bytes start is what matters; how many arrived in
             * this chunk depends on the chunking. */
            put(&r->out, "UNSOLICITED ", 12);
            put_escaped(&r->out, copy + off, 1);
            put(&r->out, "\n", 1);
            r->stopped = 1;
            break;
        }
        render(r, &ev);
        if (ev.kind == POP3_EV_ERROR) r->stopped = 1;
    }
    free(copy);
}

char *pop3t_transcript(const char *in, size_t len, const pop3_expect *expects, size_t nexpects,
                       const pop3_decoder_options *opt, const size_t *cuts, size_t ncuts)
{
    pop3_decoder d;
    run r = {0};
    r.expects = expects;
    r.nexpects = nexpects;
    put(&r.out, "", 0);
    if (pop3_decoder_init(&d, opt) != POP3_OK) abort();
    if (nexpects) pop3_decoder_expect(&d, expects[r.next++]);
    size_t start = 0;
    for (size_t c = 0; c <= ncuts && !r.stopped; c++) {
        size_t end = c < ncuts ? cuts[c] : len;
        if (end < start) end = start;
        feed(&r, &d, in + start, end - start);
        start = end;
    }
    if (!r.stopped) {
        pop3_event ev;
        pop3_decode_eof(&d, &ev);
        render(&r, &ev);
    }
    flush_data(&r);
    pop3_decoder_free(&d);
    free(r.data.s);
    return r.out.s;
}

char *pop3t_whole(const char *in, size_t len, const pop3_expect *expects, size_t nexpects,
                  const pop3_decoder_options *opt)
{
    return pop3t_transcript(in, len, expects, nexpects, opt, NULL, 0);
}

char *pop3t_chunked(const char *in, size_t len, const pop3_expect *expects, size_t nexpects,
                    const pop3_decoder_options *opt, size_t size)
{
    size_t n = len / size + 1;
    size_t *cuts = calloc(n, sizeof *cuts);
    if (!cuts) abort();
    size_t k = 0;
    for (size_t at = size; at < len; at += size)
        cuts[k++] = at;
    char *s = pop3t_transcript(in, len, expects, nexpects, opt, cuts, k);
    free(cuts);
    return s;
}

char *pop3t_check_chunkings(const char *in, size_t len, const pop3_expect *expects, size_t nexpects,
                            const pop3_decoder_options *opt)
{
    char *whole = pop3t_whole(in, len, expects, nexpects, opt);
    char *bad = NULL;
    for (size_t k = 1; k < len && !bad; k++) {
        char *split = pop3t_transcript(in, len, expects, nexpects, opt, &k, 1);
        if (strcmp(split, whole) != 0) {
            text t = {0};
            putf(&t, "split at %zu differs:\n--- whole\n", k);
            put(&t, whole, strlen(whole));
            put(&t, "--- split\n", 10);
            put(&t, split, strlen(split));
            bad = t.s;
        }
        free(split);
    }
    if (!bad) {
        char *bytes = pop3t_chunked(in, len, expects, nexpects, opt, 1);
        if (strcmp(bytes, whole) != 0) {
            text t = {0};
            put(&t, "one octet at a time differs:\n--- whole\n", 39);
            put(&t, whole, strlen(whole));
            put(&t, "--- bytes\n", 10);
            put(&t, bytes, strlen(bytes));
            bad = t.s;
        }
        free(bytes);
    }
    free(whole);
    return bad;
}
