/*
 * buf.c - memory for the runner and the probe: the codec's pop3_buf and pop3_array_grow
 * (pop3/buf.h) behind wrappers that cannot fail, string lists, whole files.
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
#include "pop3/error.h"

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

/* The only failures of an unlimited pop3_buf: no memory, or a size past size_t. */
static void must(int rc)
{
    if (rc == POP3_OK) return;
    fprintf(stderr, "pop3-conform: %s\n", pop3_strerror(rc));
    abort();
}

void cbuf_add(pop3_buf *b, const void *p, size_t n)
{
    must(pop3_buf_append(b, p, n));
}

void cbuf_puts(pop3_buf *b, const char *s)
{
    cbuf_add(b, s, strlen(s));
}

void cbuf_putc(pop3_buf *b, char c)
{
    cbuf_add(b, &c, 1);
}

void cbuf_printf(pop3_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    must(pop3_buf_vprintf(b, fmt, ap));
    va_end(ap);
}

void cbuf_free(pop3_buf *b)
{
    pop3_buf_free(b);
}

char *cbuf_take(pop3_buf *b)
{
    char *p = pop3_buf_detach(b, NULL);
    if (p == NULL) oom();
    return p;
}

void *xarray_grow(void *ptr, size_t *cap, size_t need, size_t elem)
{
    int rc = POP3_OK;
    void *p = pop3_array_grow(ptr, cap, need, elem, 8, 0, &rc);
    if (p == NULL) must(rc);
    return p;
}

void strlist_take(strlist *l, char *s)
{
    l->v = xarray_grow(l->v, &l->cap, l->n + 1, sizeof *l->v);
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
    pop3_buf b = {0};
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
