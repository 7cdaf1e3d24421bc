/*
 * escape.c - how text values are written in case files, in results and by adapters.
 *
 * Result values are compared as text, so the reference client and every adapter must
 * write a value the same way: plain when it is a run of visible ASCII with single inner
 * spaces (a capability line, a unique-id), quoted with C escapes otherwise (a message
 * body with its CRLFs, 8-bit octets, a NUL). Operation arguments use the same quoting, so
 * a case can hand a client a password with a CR in it (quirk Q42).
 */
#include <stdio.h>
#include <string.h>

#include "conform.h"

static bool plain_ok(const char *p, size_t n)
{
    if (n == 0 || p[0] == ' ' || p[n - 1] == ' ') return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\') return false;
        if (c == ' ' && i > 0 && p[i - 1] == ' ') return false;
        if (c < 0x20 || c > 0x7e) return false;
    }
    return true;
}

void text_format(pop3_buf *out, const char *p, size_t n)
{
    if (plain_ok(p, n)) {
        cbuf_add(out, p, n);
        return;
    }
    cbuf_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\r': cbuf_puts(out, "\\r"); break;
        case '\n': cbuf_puts(out, "\\n"); break;
        case '\t': cbuf_puts(out, "\\t"); break;
        case '\\': cbuf_puts(out, "\\\\"); break;
        case '"': cbuf_puts(out, "\\\""); break;
        default:
            if (c < 0x20 || c > 0x7e)
                cbuf_printf(out, "\\x%02x", c);
            else
                cbuf_putc(out, (char)c);
        }
    }
    cbuf_putc(out, '"');
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool unescape(const char *in, size_t n, pop3_buf *out, const char **err)
{
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '\\') {
            cbuf_putc(out, in[i]);
            continue;
        }
        if (++i >= n) {
            *err = "a backslash at the end of the text";
            return false;
        }
        switch (in[i]) {
        case 'r': cbuf_putc(out, '\r'); break;
        case 'n': cbuf_putc(out, '\n'); break;
        case 't': cbuf_putc(out, '\t'); break;
        case '0': cbuf_putc(out, '\0'); break;
        case 's': cbuf_putc(out, ' '); break;
        case '\\': cbuf_putc(out, '\\'); break;
        case '"': cbuf_putc(out, '"'); break;
        case 'x': {
            int hi = i + 1 < n ? hexval(in[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(in[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *err = "\\x needs two hex digits";
                return false;
            }
            cbuf_putc(out, (char)(hi * 16 + lo));
            i += 2;
            break;
        }
        default: *err = "unknown escape (known: \\r \\n \\t \\0 \\s \\\\ \\\" \\xNN)"; return false;
        }
    }
    return true;
}

bool words_split(const char *line, strlist *out, const char **err)
{
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0') return true;
        pop3_buf w = {0};
        if (*p == '"') {
            const char *start = ++p;
            while (*p != '\0' && *p != '"') {
                if (*p == '\\' && p[1] != '\0') p++;
                p++;
            }
            if (*p != '"') {
                *err = "a quoted word without its closing quote";
                cbuf_free(&w);
                return false;
            }
            if (!unescape(start, (size_t)(p - start), &w, err)) {
                cbuf_free(&w);
                return false;
            }
            p++;
        } else {
            const char *start = p;
            while (*p != '\0' && *p != ' ' && *p != '\t')
                p++;
            cbuf_add(&w, start, (size_t)(p - start));
        }
        if (w.ptr == NULL) cbuf_add(&w, "", 0);
        strlist_take(out, cbuf_take(&w));
    }
}
