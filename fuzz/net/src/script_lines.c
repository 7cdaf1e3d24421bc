/*
 * script_lines.c - a pop3-mock script held as its lines, the unit that pop3-fuzz mutates
 * and minimises (each line is one S:, C: or ! step of the script format).
 */
#include <stdlib.h>
#include <string.h>

#include "netfuzz.h"

void pop3fuzz_script_free(pop3fuzz_script *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->line[i]);
    free(s->line);
    memset(s, 0, sizeof *s);
}

static bool reserve(pop3fuzz_script *s)
{
    if (s->n < s->cap) return true;
    size_t cap = s->cap ? s->cap * 2 : 32;
    char **p = realloc(s->line, cap * sizeof *p);
    if (p == NULL) return false;
    s->line = p;
    s->cap = cap;
    return true;
}

static char *dup_n(const char *text, size_t len)
{
    char *c = malloc(len + 1);
    if (c == NULL) return NULL;
    memcpy(c, text, len);
    c[len] = '\0';
    return c;
}

bool pop3fuzz_script_push(pop3fuzz_script *s, const char *text, size_t len)
{
    return pop3fuzz_script_insert(s, s->n, NULL) && (s->line[s->n - 1] = dup_n(text, len)) != NULL;
}

bool pop3fuzz_script_insert(pop3fuzz_script *s, size_t at, const char *text)
{
    if (!reserve(s)) return false;
    char *c = NULL;
    if (text != NULL && (c = dup_n(text, strlen(text))) == NULL) return false;
    memmove(s->line + at + 1, s->line + at, (s->n - at) * sizeof *s->line);
    s->line[at] = c;
    s->n++;
    return true;
}

void pop3fuzz_script_remove(pop3fuzz_script *s, size_t at)
{
    free(s->line[at]);
    memmove(s->line + at, s->line + at + 1, (s->n - at - 1) * sizeof *s->line);
    s->n--;
}

bool pop3fuzz_script_set(pop3fuzz_script *s, size_t at, const char *text)
{
    char *c = dup_n(text, strlen(text));
    if (c == NULL) return false;
    free(s->line[at]);
    s->line[at] = c;
    return true;
}

bool pop3fuzz_script_copy(pop3fuzz_script *dst, const pop3fuzz_script *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < src->n; i++)
        if (!pop3fuzz_script_push(dst, src->line[i], strlen(src->line[i]))) return false;
    return true;
}

bool pop3fuzz_script_from_text(pop3fuzz_script *s, const char *text, size_t len)
{
    memset(s, 0, sizeof *s);
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n') continue;
        size_t end = i;
        if (end > start && text[end - 1] == '\r') end--;
        if (i < len || end > start)
            if (!pop3fuzz_script_push(s, text + start, end - start)) return false;
        start = i + 1;
    }
    return true;
}

char *pop3fuzz_script_text(const pop3fuzz_script *s, size_t *len)
{
    size_t total = 1;
    for (size_t i = 0; i < s->n; i++)
        total += strlen(s->line[i]) + 1;
    char *t = malloc(total), *p = t;
    if (t == NULL) return NULL;
    for (size_t i = 0; i < s->n; i++) {
        size_t l = strlen(s->line[i]);
        memcpy(p, s->line[i], l);
        p += l;
        *p++ = '\n';
    }
    *p = '\0';
    *len = (size_t)(p - t);
    return t;
}
