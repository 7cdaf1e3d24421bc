/*
 * client_spec.c - `--client [NAME=]COMMAND`: the name of the client's column, where its
 * adapter is, and whether the command can be started at all, checked before any case
 * runs so that a mistyped path is one clear usage error, not every case failed.
 *
 * A relative path in COMMAND (the program, or the script an interpreter is given) that
 * does not exist from the working folder is looked for where the cases are: under the
 * cases folder's parent, then its grandparent, and, for a path with a "peers/" part,
 * in the "peers" folder beside the cases (the installed layout, share/pop3kit/peers).
 * So `python3 conformance/peers/poplib_adapter.py` and `peers/poplib_adapter.py` work
 * from any folder, like the default `--cases`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conform.h"

/* One word of the command: where it is in the text and what the shell makes of it. */
typedef struct word {
    size_t start, end; /* span in the command text, quotes included */
    char *value;       /* unquoted */
} word;

typedef struct words {
    word *v;
    size_t n, cap;
    bool complex; /* expansions, pipes, redirections: the shell decides, we do not guess */
} words;

static void words_free(words *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i].value);
    free(w->v);
    memset(w, 0, sizeof *w);
}

/* Split like sh does for simple commands: blanks separate, '...' and "..." quote, a
 * backslash escapes. Anything that needs the shell's expansion marks the command complex. */
static void split(const char *cmd, words *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0, n = strlen(cmd);
    while (i < n) {
        while (i < n && (cmd[i] == ' ' || cmd[i] == '\t'))
            i++;
        if (i >= n) break;
        pop3_buf val = {0};
        size_t start = i;
        char q = 0;
        for (; i < n; i++) {
            char ch = cmd[i];
            if (q == '\'') {
                if (ch == '\'')
                    q = 0;
                else
                    cbuf_putc(&val, ch);
            } else if (q == '"') {
                if (ch == '"')
                    q = 0;
                else if (ch == '$' || ch == '`')
                    out->complex = true;
                else if (ch == '\\' && i + 1 < n)
                    cbuf_putc(&val, cmd[++i]);
                else
                    cbuf_putc(&val, ch);
            } else if (ch == ' ' || ch == '\t') {
                break;
            } else if (ch == '\'' || ch == '"') {
                q = ch;
            } else if (ch == '\\' && i + 1 < n) {
                cbuf_putc(&val, cmd[++i]);
            } else {
                if (strchr("|&;<>()$`*?[~\n", ch) != NULL) out->complex = true;
                cbuf_putc(&val, ch);
            }
        }
        if (q != 0) out->complex = true;
        out->v = xarray_grow(out->v, &out->cap, out->n + 1, sizeof *out->v);
        if (val.ptr == NULL) cbuf_add(&val, "", 0);
        out->v[out->n++] = (word){.start = start, .end = i, .value = cbuf_take(&val)};
    }
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s != NULL ? s + 1 : p;
}

/* Script interpreters: their first non-option argument is the adapter. */
static bool is_interpreter(const char *prog)
{
    static const char *const prefixes[] = {"python", "pypy", "perl", "ruby",
                                           "node",   "lua",  "php",  "tclsh"};
    static const char *const shells[] = {"sh", "bash", "dash", "zsh", "ksh"};
    const char *b = base_name(prog);
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(b, prefixes[i], strlen(prefixes[i])) == 0) return true;
    for (size_t i = 0; i < sizeof shells / sizeof shells[0]; i++)
        if (strcmp(b, shells[i]) == 0) return true;
    return false;
}

static bool looks_like_script(const char *w)
{
    static const char *const ext[] = {".py", ".sh", ".pl", ".rb", ".js", ".lua", ".php", ".tcl"};
    if (strchr(w, '/') != NULL) return true;
    size_t n = strlen(w);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcmp(w + n - e, ext[i]) == 0) return true;
    }
    return false;
}

static bool exists(const char *p, bool *is_dir)
{
    struct stat st;
    if (stat(p, &st) != 0) return false;
    *is_dir = S_ISDIR(st.st_mode);
    return true;
}

/*
 * Find a relative path as described at the top. Returns a malloc'd path that exists (the
 * path itself when it exists from the working folder), or NULL; `tried` lists the places.
 */
static char *locate(const char *path, const char *cases_dir, pop3_buf *tried)
{
    bool dir;
    if (path[0] == '/' || exists(path, &dir)) return exists(path, &dir) ? xstrdup(path) : NULL;
    cbuf_printf(tried, "%s", path);
    char parent[PATH_MAX], grand[PATH_MAX];
    snprintf(parent, sizeof parent, "%s/..", cases_dir);
    snprintf(grand, sizeof grand, "%s/../..", cases_dir);
    char real[PATH_MAX];
    const char *bases[2] = {parent, grand};
    for (size_t i = 0; i < 2; i++) {
        if (realpath(bases[i], real) == NULL) continue;
        pop3_buf c = {0};
        cbuf_printf(&c, "%s/%s", real, path);
        cbuf_printf(tried, ", %s", c.ptr);
        if (exists(c.ptr, &dir)) return cbuf_take(&c);
        cbuf_free(&c);
    }
    /* "conformance/peers/x.py" in the installed layout: <share/pop3kit>/peers/x.py. */
    const char *pe = NULL;
    for (const char *p = path; (p = strstr(p, "peers/")) != NULL; p++)
        if (p == path || p[-1] == '/') pe = p;
    if (pe != NULL && pe != path && realpath(parent, real) != NULL) {
        pop3_buf c = {0};
        cbuf_printf(&c, "%s/%s", real, pe);
        cbuf_printf(tried, ", %s", c.ptr);
        if (exists(c.ptr, &dir)) return cbuf_take(&c);
        cbuf_free(&c);
    }
    return NULL;
}

static bool in_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (path == NULL || *path == '\0') path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p != '\0';) {
        size_t n = strcspn(p, ":");
        pop3_buf c = {0};
        cbuf_printf(&c, "%.*s/%s", (int)n, n > 0 ? p : ".", prog);
        bool dir = false;
        bool ok = exists(c.ptr, &dir) && !dir && access(c.ptr, X_OK) == 0;
        cbuf_free(&c);
        if (ok) return true;
        p += n + (p[n] == ':');
    }
    return false;
}

/* The interpreter of a "#!" script, when it names one that is not there: what the shell
 * would report as "not found" on every run. NULL when the file is fine. */
static char *missing_interpreter(const char *file)
{
    FILE *f = fopen(file, "r");
    if (f == NULL) return NULL;
    char line[256];
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!got || line[0] != '#' || line[1] != '!') return NULL;
    char *p = line + 2;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, " \t\r\n");
    char *rest = p + n;
    p[n] = '\0';
    if (*p != '/') return NULL;
    bool dir = false;
    if (!exists(p, &dir) || dir || access(p, X_OK) != 0) return xstrdup(p);
    if (strcmp(base_name(p), "env") == 0) {
        /* "#!/usr/bin/env python3": the program env looks for. */
        rest++;
        while (*rest == ' ' || *rest == '\t')
            rest++;
        size_t m = strcspn(rest, " \t\r\n");
        rest[m] = '\0';
        if (m > 0 && rest[0] != '-' && strchr(rest, '=') == NULL && !in_path(rest))
            return xstrdup(rest);
    }
    return NULL;
}

/* Single-quote `s` for sh. */
static void sh_quote(pop3_buf *out, const char *s)
{
    cbuf_putc(out, '\'');
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            cbuf_puts(out, "'\\''");
        else
            cbuf_putc(out, *s);
    }
    cbuf_putc(out, '\'');
}

/* The column name from a file name: ".../poplib_adapter.py" -> "poplib". */
static char *derive_name(const char *file)
{
    const char *b = base_name(file);
    size_t n = strlen(b);
    const char *dot = strrchr(b, '.');
    if (dot != NULL && dot != b) n = (size_t)(dot - b);
    static const char *const suffixes[] = {"_adapter", "-adapter"};
    for (size_t i = 0; i < 2; i++) {
        size_t sl = strlen(suffixes[i]);
        if (n > sl && strncmp(b + n - sl, suffixes[i], sl) == 0) n -= sl;
    }
    pop3_buf out = {0};
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
        cbuf_putc(&out, keep ? ch : '_');
    }
    if (out.len == 0) cbuf_puts(&out, "client");
    return cbuf_take(&out);
}

static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || n > 32) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return false;
    }
    return true;
}

int client_spec_prepare(conform_client *cl, const char *spec, const char *cases_dir, char *err,
                        size_t errlen)
{
    memset(cl, 0, sizeof *cl);
    const char *eq = strchr(spec, '=');
    const char *cmd = spec;
    char *name = NULL;
    if (eq != NULL && valid_name(spec, (size_t)(eq - spec))) {
        name = xstrndup(spec, (size_t)(eq - spec));
        cmd = eq + 1;
    }
    words w;
    split(cmd, &w);
    /* Leading NAME=VALUE words are environment assignments, not the program; so are
     * "env" and its options. */
    size_t prog = 0;
    for (;;) {
        while (prog < w.n && strchr(w.v[prog].value, '=') != NULL &&
               valid_name(w.v[prog].value, strcspn(w.v[prog].value, "=")))
            prog++;
        if (prog >= w.n || strcmp(w.v[prog].value, "env") != 0) break;
        prog++;
        while (prog < w.n && w.v[prog].value[0] == '-')
            prog++;
    }
    if (prog >= w.n) {
        snprintf(err, errlen, "--client '%s': no command", spec);
        words_free(&w);
        free(name);
        return -1;
    }
    static const char *const builtins[] = {"exec", "command", "eval", ".", "cd"};
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(w.v[prog].value, builtins[i]) == 0) w.complex = true;

    /* Paths to replace in the command: [word index] -> located path. */
    char *fixed[2] = {NULL, NULL};
    size_t fixed_at[2] = {0, 0};
    const char *script = NULL;
    int rc = 0;
    if (!w.complex) {
        const char *p = w.v[prog].value;
        pop3_buf tried = {0};
        if (strchr(p, '/') != NULL) {
            char *found = locate(p, cases_dir, &tried);
            bool dir = false;
            if (found == NULL) {
                snprintf(err, errlen, "--client '%s': %s: no such file (looked at %s)", cmd, p,
                         tried.ptr != NULL ? tried.ptr : p);
                rc = -1;
            } else if (!exists(found, &dir) || dir || access(found, X_OK) != 0) {
                snprintf(err, errlen, "--client '%s': %s: %s", cmd, found,
                         dir ? "is a folder"
                             : "not executable (chmod +x, or name its interpreter)");
                rc = -1;
            } else {
                char *interp = missing_interpreter(found);
                if (interp != NULL) {
                    snprintf(err, errlen, "--client '%s': %s: its interpreter %s is not there", cmd,
                             found, interp);
                    rc = -1;
                    free(interp);
                }
            }
            if (found != NULL && strcmp(found, p) != 0) {
                fixed[0] = found;
                fixed_at[0] = prog;
            } else {
                free(found);
            }
        } else if (!in_path(p)) {
            snprintf(err, errlen, "--client '%s': %s: command not found in PATH", cmd, p);
            rc = -1;
        }
        cbuf_free(&tried);
        if (rc == 0 && is_interpreter(p)) {
            for (size_t i = prog + 1; i < w.n; i++) {
                const char *a = w.v[i].value;
                /* "-c CODE", "-m MODULE", "-e CODE": no script file to check. */
                if (strcmp(a, "-c") == 0 || strcmp(a, "-m") == 0 || strcmp(a, "-e") == 0) break;
                if (a[0] == '-') continue;
                if (!looks_like_script(a)) break;
                pop3_buf t = {0};
                char *found = locate(a, cases_dir, &t);
                bool dir = false;
                if (found == NULL || !exists(found, &dir) || dir) {
                    snprintf(err, errlen, "--client '%s': %s: %s (looked at %s)", cmd, a,
                             found == NULL ? "no such file" : "is a folder",
                             t.ptr != NULL ? t.ptr : a);
                    rc = -1;
                    free(found);
                } else if (strcmp(found, a) != 0) {
                    fixed[1] = found;
                    fixed_at[1] = i;
                } else {
                    free(found);
                }
                cbuf_free(&t);
                script = a;
                break;
            }
        }
    }
    if (rc == 0) {
        pop3_buf c = {0};
        size_t at = 0;
        for (size_t k = 0; k < 2; k++) {
            if (fixed[k] == NULL) continue;
            const word *wd = &w.v[fixed_at[k]];
            cbuf_add(&c, cmd + at, wd->start - at);
            sh_quote(&c, fixed[k]);
            at = wd->end;
        }
        cbuf_puts(&c, cmd + at);
        cl->command = cbuf_take(&c);
        if (script == NULL && is_interpreter(w.v[prog].value))
            for (size_t i = prog + 1; i < w.n && script == NULL; i++)
                if (w.v[i].value[0] != '-' && looks_like_script(w.v[i].value))
                    script = w.v[i].value;
        cl->name = name != NULL ? name : derive_name(script != NULL ? script : w.v[prog].value);
        name = NULL;
        /* The file that may declare the adapter persistent: the script, else the program
         * when it is a path. */
        if (fixed[1] != NULL)
            cl->file = xstrdup(fixed[1]);
        else if (script != NULL)
            cl->file = xstrdup(script);
        else if (fixed[0] != NULL)
            cl->file = xstrdup(fixed[0]);
        else if (!w.complex && strchr(w.v[prog].value, '/') != NULL)
            cl->file = xstrdup(w.v[prog].value);
    }
    free(fixed[0]);
    free(fixed[1]);
    free(name);
    words_free(&w);
    return rc;
}
