/*
 * uidl_state.c - the UIDs already fetched (see uidl_state.h).
 *
 * File format: one UID per line, LF-terminated, in no particular order. RFC 1939
 * section 7 UIDs are 0x21..0x7E; tolerated odd ones (spaces, 8-bit; Q46) are kept as
 * they are, since only CR and LF would break the format and listings never hold them.
 */
#define _POSIX_C_SOURCE 200809L
#include "errbuf.h"
#include "uidl_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int uidl_state_load(uidl_state *s, const char *path, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->path = strdup(path);
    if (!s->path) return cli_seterr(err, errlen, "out of memory");
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        return cli_seterr(err, errlen, "%s: %s", path, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0) continue;
        if (uidl_state_add(s, line)) {
            rc = cli_seterr(err, errlen, "out of memory");
            break;
        }
    }
    if (!rc && ferror(f)) rc = cli_seterr(err, errlen, "%s: read error", path);
    free(line);
    fclose(f);
    s->dirty = false;
    return rc;
}

void uidl_state_free(uidl_state *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i]);
    free(s->slots);
    free(s->path);
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
    size_t plen = strlen(s->path);
    char *tmp = malloc(plen + 32);
    if (!tmp) return cli_seterr(err, errlen, "out of memory");
    snprintf(tmp, plen + 32, "%s.tmp.%ld", s->path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return cli_seterr(err, errlen, "%s: %s", s->path, strerror(e));
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        free(tmp);
        return cli_seterr(err, errlen, "out of memory");
    }
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i]) fprintf(f, "%s\n", s->slots[i]);
    int bad = fflush(f) != 0 || ferror(f) || fsync(fd) != 0;
    int e = errno;
    if (fclose(f) != 0) bad = 1;
    if (bad || rename(tmp, s->path) != 0) {
        if (!bad) e = errno;
        unlink(tmp);
        free(tmp);
        return cli_seterr(err, errlen, "%s: %s", s->path, strerror(e));
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
