/*
 * uidl_state.c - the UIDs already fetched, per account (see uidl_state.h for the file
 * format). RFC 1939 section 7 UIDs are 0x21..0x7E; tolerated odd ones (spaces, 8-bit;
 * Q46) are kept as they are, since only CR, LF and NUL would break the format and
 * listings never hold them. A file holding any of those is not one of ours: refused.
 */
#define _POSIX_C_SOURCE 200809L
#include "errbuf.h"
#include "uidl_state.h"
#include "pop3/buf.h"
#include "pop3/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* FNV-1a: UIDs come from the server, but a hostile server gains nothing by colliding
 * them but a slower run of its own client, bounded by the listing limit. */
static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

static int grow(uidl_state *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    char **slots = calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i]) continue;
        size_t j = hash(s->slots[i]) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

bool uidl_state_has(const uidl_state *s, const char *uid)
{
    if (!s->cap) return false;
    for (size_t j = hash(uid) & (s->cap - 1); s->slots[j]; j = (j + 1) & (s->cap - 1))
        if (strcmp(s->slots[j], uid) == 0) return true;
    return false;
}

int uidl_state_add(uidl_state *s, const char *uid)
{
    if (strpbrk(uid, "\r\n") || !*uid) return -1;
    if (uidl_state_has(s, uid)) return 0;
    if ((s->count + 1) * 2 > s->cap && grow(s)) return -1;
    char *copy = strdup(uid);
    if (!copy) return -1;
    size_t j = hash(uid) & (s->cap - 1);
    while (s->slots[j])
        j = (j + 1) & (s->cap - 1);
    s->slots[j] = copy;
    s->count++;
    s->dirty = true;
    return 0;
}

void uidl_state_retain(uidl_state *s, bool (*keep)(void *ud, const char *uid), void *ud)
{
    size_t old_cap = s->cap;
    char **old = s->slots;
    s->slots = NULL;
    s->cap = s->count = 0;
    bool dropped = false;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i]) continue;
        if (keep(ud, old[i]))
            uidl_state_add(s, old[i]); /* fits: the new set is no larger than the old */
        else
            dropped = true;
        free(old[i]);
    }
    free(old);
    s->dirty = dropped || s->dirty;
}

/* The temporary file a save writes, next to the state file. */
static char *temp_path(const char *path)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (tmp) snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    return tmp;
}

/* Can the save work? Create and remove its temporary file now. */
static int check_writable(const uidl_state *s, char *err, size_t errlen)
{
    char *tmp = temp_path(s->path);
    if (!tmp) return cli_seterr(err, errlen, "out of memory");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    int e = errno;
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    if (fd < 0 && e != EEXIST)
        return cli_seterr(err, errlen, "%s: cannot be saved: %s", s->path, strerror(e));
    return 0;
}

static int parse(uidl_state *s, char *text, size_t len, char *err, size_t errlen)
{
    bool v1 = len >= strlen(UIDL_STATE_MAGIC) + 1 &&
              memcmp(text, UIDL_STATE_MAGIC "\n", strlen(UIDL_STATE_MAGIC) + 1) == 0;
    size_t at = v1 ? strlen(UIDL_STATE_MAGIC) + 1 : 0;
    bool mine = !v1; /* the old format: every line is one of our UIDs */
    size_t other_start = 0;
    bool in_other = false;
    size_t lineno = v1 ? 1 : 0;
    /* The other accounts' sections: never more than the file read, plus one LF. */
    pop3_buf others;
    pop3_buf_init(&others, len + 1);
    while (at < len) {
        char *line = text + at;
        char *lf = memchr(line, '\n', len - at);
        size_t n = lf ? (size_t)(lf - line) : len - at;
        size_t next = at + n + (lf ? 1 : 0);
        lineno++;
        if (memchr(line, '\0', n) || memchr(line, '\r', n)) {
            pop3_buf_free(&others);
            return cli_seterr(err, errlen,
                              "%s: line %zu holds a NUL or CR: not a UIDL state file; move it "
                              "away or name another with --uidl-state",
                              s->path, lineno);
        }
        if (v1 && n >= 8 && memcmp(line, "account ", 8) == 0) {
            if (in_other) {
                /* End of another account's section: keep it verbatim. */
                if (pop3_buf_append(&others, text + other_start, at - other_start) != POP3_OK)
                    goto oom;
            }
            mine = n - 8 == strlen(s->account) && memcmp(line + 8, s->account, n - 8) == 0;
            in_other = !mine;
            other_start = at;
        } else if (v1 && n >= 4 && memcmp(line, "uid ", 4) == 0) {
            if (mine) {
                line[n] = '\0';
                if (n > 4 && uidl_state_add(s, line + 4)) goto oom;
            }
        } else if (!v1) {
            line[n] = '\0';
            if (n > 0 && uidl_state_add(s, line)) goto oom;
        } else if (n > 0) {
            pop3_buf_free(&others);
            return cli_seterr(err, errlen,
                              "%s: line %zu is neither 'account' nor 'uid': not a "
                              "UIDL state file",
                              s->path, lineno);
        }
        at = next;
    }
    if (in_other) {
        if (pop3_buf_append(&others, text + other_start, len - other_start) != POP3_OK) goto oom;
        if (others.ptr[others.len - 1] != '\n' && pop3_buf_putc(&others, '\n') != POP3_OK) goto oom;
    }
    size_t others_len = others.len;
    if (others_len > 0) {
        s->others = pop3_buf_detach(&others, NULL);
        if (s->others == NULL) goto oom;
    }
    s->others_len = others_len;
    /* An old-format file is rewritten in version 1 at the next save. */
    s->dirty = !v1 && len > 0;
    return 0;
oom:
    pop3_buf_free(&others);
    return cli_seterr(err, errlen, "%s: out of memory", s->path);
}

int uidl_state_load(uidl_state *s, const char *path, const char *account, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->path = strdup(path);
    s->account = strdup(account);
    if (!s->path || !s->account) return cli_seterr(err, errlen, "out of memory");
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno != ENOENT) return cli_seterr(err, errlen, "%s: %s", path, strerror(errno));
        return check_writable(s, err, errlen);
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        int e = errno;
        fclose(f);
        return cli_seterr(err, errlen, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(f);
        return cli_seterr(err, errlen, "%s: %s", path,
                          S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file");
    }
    if ((uint64_t)st.st_size > UIDL_STATE_MAX_FILE) {
        fclose(f);
        return cli_seterr(err, errlen, "%s: %s", path, strerror(EFBIG));
    }
    size_t len = (size_t)st.st_size;
    char *text = malloc(len + 1);
    if (!text) {
        fclose(f);
        return cli_seterr(err, errlen, "%s: out of memory", path);
    }
    size_t got = fread(text, 1, len, f);
    int rerr = ferror(f) ? errno : 0;
    fclose(f);
    if (rerr) {
        free(text);
        return cli_seterr(err, errlen, "%s: %s", path, strerror(rerr));
    }
    int rc = parse(s, text, got, err, errlen);
    free(text);
    if (rc) return rc;
    return check_writable(s, err, errlen);
}

void uidl_state_free(uidl_state *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i]);
    free(s->slots);
    free(s->path);
    free(s->account);
    free(s->others);
    memset(s, 0, sizeof *s);
}

/* The folder that holds `path`, to fsync it after the rename. */
static int open_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return open(".", O_RDONLY | O_DIRECTORY);
    if (slash == path) return open("/", O_RDONLY | O_DIRECTORY);
    char *dir = strndup(path, (size_t)(slash - path));
    if (!dir) return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    free(dir);
    return fd;
}

int uidl_state_save(uidl_state *s, char *err, size_t errlen)
{
    if (!s->dirty || !s->path) return 0; /* an in-memory set (no file asked for) */
    char *tmp = temp_path(s->path);
    if (!tmp) return cli_seterr(err, errlen, "out of memory");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        int e = errno;
        int rc = cli_seterr(err, errlen, "%s: %s", tmp, strerror(e));
        free(tmp);
        return rc;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        int rc = cli_seterr(err, errlen, "%s: %s", tmp, strerror(e));
        free(tmp);
        return rc;
    }
    fprintf(f, "%s\n", UIDL_STATE_MAGIC);
    if (s->others_len) fwrite(s->others, 1, s->others_len, f);
    fprintf(f, "account %s\n", s->account ? s->account : "");
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i]) fprintf(f, "uid %s\n", s->slots[i]);
    int e = 0;
    if (fflush(f) != 0 || ferror(f) || fsync(fd) != 0) e = errno ? errno : EIO;
    if (fclose(f) != 0 && !e) e = errno;
    const char *failed = tmp;
    if (!e && rename(tmp, s->path) != 0) {
        e = errno;
        failed = s->path;
    }
    if (e) {
        int rc = cli_seterr(err, errlen, "%s: %s", failed, strerror(e));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    int dfd = open_parent(s->path);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    s->dirty = false;
    return 0;
}
