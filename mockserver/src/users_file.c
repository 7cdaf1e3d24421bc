/*
 * users_file.c - reading pop3-mock --users FILE.
 *
 * One account per line: USER PASSWORD MAILDIR, separated by spaces or tabs. A password
 * holds no blank (RFC 1939 section 7 allows spaces in PASS; use --user/--password for
 * such an account). Errors name the file and line.
 */
#define _POSIX_C_SOURCE 200809L
#include "users_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/buf.h"

/* Longest line read; a longer one is an error, not a truncation. */
#define USERS_LINE_MAX 4096

/* Up to 4 blank-separated fields of `line` (NUL-terminated in place); returns the count. */
static size_t fields(char *line, char **f)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || n == 4) return n;
        f[n++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
        if (*p != '\0') *p++ = '\0';
    }
}

/* MAILDIR as written, or joined to the folder of the users file when relative. */
static char *resolve(const char *file, const char *dir)
{
    const char *slash = strrchr(file, '/');
    size_t base = dir[0] == '/' || slash == NULL ? 0 : (size_t)(slash - file) + 1;
    size_t n = base + strlen(dir) + 1;
    char *out = malloc(n);
    if (out != NULL) snprintf(out, n, "%.*s%s", (int)base, file, dir);
    return out;
}

int pop3mock__users_load(const char *path, pop3mock_maildrop **mds, size_t *n, char *err,
                         size_t errlen)
{
    *mds = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    pop3mock_maildrop *list = NULL;
    unsigned *lines = NULL; /* where each account was given */
    size_t count = 0, list_cap = 0, lines_cap = 0;
    char buf[USERS_LINE_MAX + 2];
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(buf, sizeof buf, f) != NULL) {
        lineno++;
        size_t len = strlen(buf);
        if (len > 0 && buf[len - 1] == '\n')
            buf[--len] = '\0';
        else if (!feof(f)) {
            snprintf(err, errlen, "%s:%u: longer than %u octets", path, lineno, USERS_LINE_MAX);
            rc = -1;
            break;
        }
        if (len > 0 && buf[len - 1] == '\r') buf[--len] = '\0';
        char *fl[4];
        size_t nf = fields(buf, fl);
        if (nf == 0 || fl[0][0] == '#') continue;
        if (nf != 3) {
            if (nf > 3)
                snprintf(err, errlen,
                         "%s:%u: expected USER PASSWORD MAILDIR, found more fields "
                         "(a password holds no blank)",
                         path, lineno);
            else
                snprintf(err, errlen, "%s:%u: expected USER PASSWORD MAILDIR, found %zu field%s",
                         path, lineno, nf, nf == 1 ? "" : "s");
            rc = -1;
            break;
        }
        for (size_t i = 0; i < count; i++) {
            if (strcmp(list[i].user, fl[0]) == 0) {
                snprintf(err, errlen, "%s:%u: user %s is already given on line %u", path, lineno,
                         fl[0], lines[i]);
                rc = -1;
            }
        }
        if (rc != 0) break;
        if (count == POP3MOCK_USERS_MAX) {
            snprintf(err, errlen, "%s:%u: more than %u accounts", path, lineno, POP3MOCK_USERS_MAX);
            rc = -1;
            break;
        }
        /* The check above names the limit; the growth keeps to it as well. */
        int grc;
        pop3mock_maildrop *nl =
            pop3_array_grow(list, &list_cap, count + 1, sizeof *list, 16, POP3MOCK_USERS_MAX, &grc);
        if (nl != NULL) list = nl;
        unsigned *nn = nl != NULL ? pop3_array_grow(lines, &lines_cap, count + 1, sizeof *lines, 16,
                                                    POP3MOCK_USERS_MAX, &grc)
                                  : NULL;
        if (nn != NULL) lines = nn;
        char *dir = resolve(path, fl[2]);
        if (nl == NULL || nn == NULL || dir == NULL) {
            free(dir);
            snprintf(err, errlen, "%s:%u: out of memory", path, lineno);
            rc = -1;
            break;
        }
        char why[768];
        if (pop3mock_maildrop_load(&list[count], dir, fl[0], fl[1], why, sizeof why) != 0) {
            snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
            rc = -1;
        } else {
            lines[count++] = lineno;
        }
        free(dir);
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    }
    if (rc == 0 && count == 0) {
        snprintf(err, errlen, "%s: no account (lines USER PASSWORD MAILDIR)", path);
        rc = -1;
    }
    fclose(f);
    free(lines);
    if (rc != 0) {
        for (size_t i = 0; i < count; i++)
            pop3mock_maildrop_free(&list[i]);
        free(list);
        return -1;
    }
    *mds = list;
    *n = count;
    return 0;
}
