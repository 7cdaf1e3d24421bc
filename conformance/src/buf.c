/*
 * buf.c - growable buffers and string lists for the runner and the probe.
 *
 * Allocation failure aborts: the runner reads our own case files and talks to a mock on
 * loopback; a report built on a failed allocation would say nothing true.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conform.h"

static void oom(void)
{
    fputs("pop3-conform: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);
    if (p == NULL) oom();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n > 0 ? n : 1, size > 0 ? size : 1);
    if (p == NULL) oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n > 0 ? n : 1);
    if (q == NULL) oom();
    return q;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

static void cbuf_grow(cbuf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap) return;
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < b->len + more + 1)
        cap *= 2;
    b->ptr = xrealloc(b->ptr, cap);
    b->cap = cap;
}

void cbuf_add(cbuf *b, const void *p, size_t n)
{
    cbuf_grow(b, n);
    if (n > 0) memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
}

void cbuf_puts(cbuf *b, const char *s)
{
    cbuf_add(b, s, strlen(s));
}

void cbuf_putc(cbuf *b, char c)
{
    cbuf_add(b, &c, 1);
}

void cbuf_printf(cbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        cbuf_grow(b, (size_t)n);
        vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void cbuf_free(cbuf *b)
{
    free(b->ptr);
    memset(b, 0, sizeof *b);
}

char *cbuf_take(cbuf *b)
{
    if (b->ptr == NULL) cbuf_add(b, "", 0);
    char *p = b->ptr;
    memset(b, 0, sizeof *b);
    return p;
}

void strlist_take(strlist *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap < 8 ? 8 : l->cap * 2;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = s;
}

void strlist_add(strlist *l, const char *s)
{
    strlist_take(l, xstrdup(s));
}

void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    cbuf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        cbuf_add(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        cbuf_free(&b);
        errno = EIO;
        return NULL;
    }
    if (len != NULL) *len = b.len;
    return cbuf_take(&b);
}

int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
