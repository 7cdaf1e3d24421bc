/*
 * case_list.c - which case files a run covers: every NAME.case of the cases folder, or
 * those whose NAME matches a --filter glob (fnmatch: "rfc1939-*", "*stls*", "q4?-*").
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cases_list(const char *dir, const strlist *globs, strlist *paths, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    strlist names = {0};
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= 5 || strcmp(e->d_name + n - 5, ".case") != 0 || e->d_name[0] == '.') continue;
        char *id = xstrndup(e->d_name, n - 5);
        bool keep = globs->n == 0;
        for (size_t i = 0; i < globs->n && !keep; i++)
            keep = fnmatch(globs->v[i], id, 0) == 0;
        free(id);
        if (keep) strlist_add(&names, e->d_name);
    }
    closedir(d);
    if (names.n > 0) qsort(names.v, names.n, sizeof *names.v, cmp);
    for (size_t i = 0; i < names.n; i++) {
        cbuf p = {0};
        cbuf_printf(&p, "%s/%s", dir, names.v[i]);
        strlist_take(paths, cbuf_take(&p));
    }
    strlist_free(&names);
    return 0;
}
