/*
 * case_file.c - the server's side of a conformance case file (see pop3mock/case_file.h).
 *
 * The case format is the conformance runner's; only the part the mock plays is read
 * here: the lines after "dialogue:", in the script format. Everything above it is the
 * client's and becomes empty comments, which keeps line numbers.
 */
#define _POSIX_C_SOURCE 200809L
#include "pop3mock/case_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pop3/error.h"
#include "pop3/parse.h"

/* Largest case file read (a case is a test fixture; a script may be 16 MiB). */
#define CASE_FILE_MAX (16u << 20)

char *pop3mock_case_expand(const char *in, size_t len, size_t *outlen, const char **err)
{
    static const char open[] = "%repeat[";
    const size_t olen = sizeof open - 1;
    /* Two passes: the size first (every count checked), then the copy. */
    char *out = NULL;
    for (int pass = 0; pass < 2; pass++) {
        size_t total = 0;
        char *o = pass == 1 ? out : NULL;
        size_t i = 0;
        while (i < len) {
            const char *hit = NULL;
            for (size_t k = i; k + olen <= len; k++)
                if (memcmp(in + k, open, olen) == 0) {
                    hit = in + k;
                    break;
                }
            size_t plain = hit != NULL ? (size_t)(hit - (in + i)) : len - i;
            if (o != NULL) memcpy(o + total, in + i, plain);
            total += plain;
            if (hit == NULL) break;
            const char *p = hit + olen, *end = in + len;
            const char *bar = memchr(p, '|', (size_t)(end - p));
            uint64_t count = 0;
            /* The count is read by the codec's number parser: digits only (no sign, no
             * blank), and a count too large for 64 bits is as much "too large" as one
             * past the limit. */
            int nrc = bar != NULL ? pop3_parse_number(p, (size_t)(bar - p), &count) : POP3_EPROTO;
            if (nrc == POP3_EPROTO || (nrc == POP3_OK && count == 0)) {
                *err = "%repeat[COUNT|TEXT]%: expected a count (1 or more, digits) and a '|'";
                free(out);
                return NULL;
            }
            if (nrc != POP3_OK || count > POP3MOCK_CASE_REPEAT_MAX) {
                *err = "%repeat[COUNT|TEXT]%: more than 4 MiB";
                free(out);
                return NULL;
            }
            p = bar;
            const char *text = ++p;
            while (p + 1 < end && !(p[0] == ']' && p[1] == '%'))
                p++;
            if (p + 1 >= end) {
                *err = "%repeat[COUNT|TEXT]%: no closing ]%";
                free(out);
                return NULL;
            }
            size_t tl = (size_t)(p - text);
            if (tl == 0 || count > POP3MOCK_CASE_REPEAT_MAX / tl) {
                *err = "%repeat[COUNT|TEXT]%: empty text, or more than 4 MiB";
                free(out);
                return NULL;
            }
            for (uint64_t k = 0; k < count; k++, total += tl)
                if (o != NULL) memcpy(o + total, text, tl);
            i = (size_t)(p + 2 - in);
        }
        if (pass == 0) {
            /* The expansions are bounded, the plain text is the input's: no overflow. */
            char *buf = malloc(total + 1);
            if (buf == NULL) {
                *err = "out of memory";
                return NULL;
            }
            out = buf;
        } else {
            out[total] = '\0';
            *outlen = total;
            return out;
        }
    }
    return NULL; /* not reached */
}

/* The line `p` (length n) is "dialogue:" once blanks around it are dropped, and not
 * indented (an indented line is a result of a "run:" operation). */
static bool is_dialogue_line(const char *p, size_t n)
{
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    return n == 9 && memcmp(p, "dialogue:", 9) == 0;
}

char *pop3mock_case_dialogue(const char *name, const char *text, size_t len, size_t *outlen,
                             char *err, size_t errlen)
{
    size_t i = 0, lines = 0;
    bool found = false;
    while (i < len && !found) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t n = nl != NULL ? (size_t)(nl - (text + i)) : len - i;
        found = is_dialogue_line(text + i, n);
        lines++;
        i += n + (nl != NULL ? 1 : 0);
    }
    if (!found) {
        snprintf(err, errlen, "%s:%zu: no \"dialogue:\" section", name, lines);
        return NULL;
    }
    /* "#\n" per line above, then the dialogue as it is. */
    size_t blen = 2 * lines + (len - i);
    char *buf = malloc(blen + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    for (size_t k = 0; k < lines; k++)
        memcpy(buf + 2 * k, "#\n", 2);
    memcpy(buf + 2 * lines, text + i, len - i);
    const char *why = NULL;
    char *out = pop3mock_case_expand(buf, blen, outlen, &why);
    free(buf);
    if (out == NULL) snprintf(err, errlen, "%s: %s", name, why);
    return out;
}

pop3mock_script *pop3mock_case_load(const char *path, char *err, size_t errlen)
{
    return pop3mock_case_load_with(path, NULL, err, errlen);
}

pop3mock_script *pop3mock_case_load_with(const char *path, const pop3mock_script_options *opt,
                                         char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    if ((unsigned long long)st.st_size > CASE_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %u octets", path, CASE_FILE_MAX);
        fclose(f);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    char *text = malloc(size + 1);
    if (text == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        fclose(f);
        return NULL;
    }
    size_t got = fread(text, 1, size, f);
    bool bad = ferror(f) != 0 || got != size;
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        free(text);
        return NULL;
    }
    size_t dlen = 0;
    char *dialogue = pop3mock_case_dialogue(path, text, size, &dlen, err, errlen);
    free(text);
    if (dialogue == NULL) return NULL;
    pop3mock_script *sc = pop3mock_script_parse_with(path, dialogue, dlen, opt, err, errlen);
    free(dialogue);
    return sc;
}
