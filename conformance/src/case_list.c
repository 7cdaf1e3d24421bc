/*
 * case_list.c - which case files a run covers: every NAME.case of the cases folder, or
 * those whose NAME matches a --filter glob (fnmatch: "rfc1939-*", "*stls*", "q4?-*"); and
 * where that folder is when the command line does not say.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
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
        pop3_buf p = {0};
        cbuf_printf(&p, "%s/%s", dir, names.v[i]);
        strlist_take(paths, cbuf_take(&p));
    }
    strlist_free(&names);
    return 0;
}

#ifndef POP3_CONFORM_CASES_DIR
#define POP3_CONFORM_CASES_DIR "conformance/cases"
#endif

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * An installed pop3-conform (cmake --install) finds the cases installed with it: the
 * program is <prefix>/bin/pop3-conform, the cases <prefix>/share/pop3kit/cases. That
 * comes before the source tree the program was built from, which may have moved on or be
 * gone; a program in the build tree has no share/ beside it and uses the source tree.
 */
char *cases_default_dir(void)
{
    const char *env = getenv("POP3_CONFORM_CASES");
    if (env != NULL && *env != '\0') return xstrdup(env);
    if (is_dir("conformance/cases")) return xstrdup("conformance/cases");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            pop3_buf p = {0};
            cbuf_printf(&p, "%s/../share/pop3kit/cases", exe);
            char real[PATH_MAX];
            if (realpath(p.ptr, real) != NULL && is_dir(real)) {
                cbuf_free(&p);
                return xstrdup(real);
            }
            cbuf_free(&p);
        }
    }
    return xstrdup(POP3_CONFORM_CASES_DIR);
}
