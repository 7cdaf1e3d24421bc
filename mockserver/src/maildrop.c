/*
 * maildrop.c - loading a Maildir or a folder of messages; sizes and unique-ids.
 *
 * RFC 1939 section 11: the size of a message counts every line end as two octets
 * (CRLF), whatever the file uses; it is computed once at load with pop3_wire_size.
 * RFC 1939 section 7: a unique-id is 1 to 70 octets in 0x21..0x7E and must not change
 * between sessions. The Maildir unique part of a file name (before ":2,", so flags may
 * change) is used as it is when it qualifies; otherwise the MD5 of the file name in hex.
 * Either way the same file gives the same unique-id in every process. RFC 6856 section
 * 2.2: whether the header holds 8-bit octets is noted at load too (for --utf8-strict).
 */
#define _POSIX_C_SOURCE 200809L
#include "pop3mock/maildrop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pop3/encode.h"
#include "pop3/buf.h"
#include "pop3/error.h"
#include "pop3/parse.h"

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d != NULL) memcpy(d, s, n + 1);
    return d;
}

int pop3mock_maildrop_init(pop3mock_maildrop *md, const char *user, const char *password)
{
    memset(md, 0, sizeof *md);
    md->max_messages = POP3MOCK_MAX_MESSAGES_DEFAULT;
    md->user = dup_str(user != NULL ? user : "");
    md->password = dup_str(password != NULL ? password : "");
    if (md->user == NULL || md->password == NULL) {
        pop3mock_maildrop_free(md);
        return -1;
    }
    return 0;
}

static void free_messages(pop3mock_message *msgs, size_t count);

void pop3mock_maildrop_free(pop3mock_maildrop *md)
{
    free_messages(md->msgs, md->count);
    free(md->user);
    free(md->password);
    free(md->dir);
    memset(md, 0, sizeof *md);
}

static void hash_uid(const char *name, char uid[71])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    static const char hex[] = "0123456789abcdef";
    if (EVP_Digest(name, strlen(name), digest, &dlen, EVP_md5(), NULL) != 1 || dlen > 35) {
        /* No MD5 (a FIPS-only provider): FNV-1a is stable too, if weaker. */
        uint64_t h = UINT64_C(14695981039346656037);
        for (const char *p = name; *p != '\0'; p++) {
            h ^= (unsigned char)*p;
            h *= UINT64_C(1099511628211);
        }
        for (int i = 0; i < 16; i++)
            uid[i] = hex[(h >> (60 - 4 * i)) & 0xf];
        uid[16] = '\0';
        return;
    }
    for (unsigned i = 0; i < dlen; i++) {
        uid[2 * i] = hex[digest[i] >> 4];
        uid[2 * i + 1] = hex[digest[i] & 0xf];
    }
    uid[2 * dlen] = '\0';
}

static void make_uid(const char *name, char uid[71])
{
    size_t n = strcspn(name, ":");
    bool ok = n >= 1 && n <= POP3_UID_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x21 || c > 0x7e) ok = false;
    }
    if (ok) {
        memcpy(uid, name, n);
        uid[n] = '\0';
    } else {
        hash_uid(name, uid);
    }
}

/* Sizes of a message, fed in chunks. */
typedef struct measure {
    uint64_t octets, size, lines;
    bool saw_cr;
    char last;
    bool in_body;   /* the empty line that ends the header was seen */
    bool line_text; /* the current line holds an octet other than CR */
    bool header_8bit;
} measure;

/* RFC 5322 section 2.1: the header ends at the first empty line (CRLF or bare LF). */
static void measure_header(measure *m, const char *p, size_t n)
{
    for (size_t i = 0; i < n && !m->in_body; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n') {
            if (!m->line_text) m->in_body = true;
            m->line_text = false;
        } else if (c != '\r') {
            m->line_text = true;
            if (c >= 0x80) m->header_8bit = true;
        }
    }
}

static void measure_chunk(measure *m, const char *p, size_t n)
{
    if (n == 0) return;
    measure_header(m, p, n);
    m->octets += n;
    m->size += pop3_wire_size(p, n, &m->saw_cr);
    for (const char *q = p; (q = memchr(q, '\n', n - (size_t)(q - p))) != NULL; q++)
        m->lines++;
    m->last = p[n - 1];
}

static size_t max_messages(const pop3mock_maildrop *md)
{
    return md->max_messages != 0 ? md->max_messages : POP3MOCK_MAX_MESSAGES_DEFAULT;
}

/* Room for one more message: POP3_OK, POP3_ELIMIT (max_messages held) or POP3_ENOMEM. */
static int grow(pop3mock_maildrop *md)
{
    int rc;
    pop3mock_message *nm = pop3_array_grow(md->msgs, &md->msgs_cap, md->count + 1, sizeof *nm, 64,
                                           max_messages(md), &rc);
    if (nm == NULL) return rc;
    md->msgs = nm;
    return POP3_OK;
}

static void finish(pop3mock_message *msg, const measure *m)
{
    msg->octets = m->octets;
    msg->size = m->size;
    msg->lines = m->lines;
    msg->final_lf = m->octets == 0 || m->last == '\n';
    msg->header_8bit = m->header_8bit;
    make_uid(msg->name, msg->uid);
}

int pop3mock_maildrop_add(pop3mock_maildrop *md, const char *name, const char *data, size_t len)
{
    if (grow(md) != POP3_OK) return -1;
    pop3mock_message *msg = &md->msgs[md->count];
    memset(msg, 0, sizeof *msg);
    msg->name = dup_str(name);
    msg->data = malloc(len > 0 ? len : 1);
    if (msg->name == NULL || msg->data == NULL) {
        free(msg->name);
        free(msg->data);
        return -1;
    }
    if (len > 0) memcpy(msg->data, data, len);
    measure m = {0};
    measure_chunk(&m, data, len);
    finish(msg, &m);
    md->count++;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    const pop3mock_message *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->path, y->path);
}

static long long mtime_of(const struct stat *st)
{
    return (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/* The message of `prev` (sorted by name) read from `path` as `name`, if its file is
 * unchanged: its measurements can be copied instead of reading the file again. */
static const pop3mock_message *unchanged(const pop3mock_maildrop *prev, const char *name,
                                         const char *path, const struct stat *st)
{
    if (prev == NULL || prev->count == 0) return NULL;
    pop3mock_message key = {.name = (char *)name, .path = (char *)path};
    const pop3mock_message *m = bsearch(&key, prev->msgs, prev->count, sizeof *prev->msgs, by_name);
    if (m == NULL || m->octets != (uint64_t)st->st_size || m->mtime_ns != mtime_of(st)) return NULL;
    return m;
}

/* Add every regular, non-hidden file of `dir`; `prev` (or NULL) lends what it measured. */
static int scan_dir(pop3mock_maildrop *md, const char *dir, const pop3mock_maildrop *prev,
                    char *errbuf, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    char buf[65536];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        size_t plen = strlen(dir) + 1 + strlen(e->d_name) + 1;
        char *path = malloc(plen);
        int grc = path != NULL ? grow(md) : POP3_ENOMEM;
        if (grc != POP3_OK) {
            free(path);
            closedir(d);
            if (grc == POP3_ELIMIT)
                snprintf(errbuf, errlen, "%s: more than %zu messages", dir, max_messages(md));
            else
                snprintf(errbuf, errlen, "out of memory");
            return -1;
        }
        snprintf(path, plen, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path); /* gone since readdir (a Maildir moves files), or not a file */
            continue;
        }
        pop3mock_message *msg = &md->msgs[md->count];
        const pop3mock_message *old = unchanged(prev, e->d_name, path, &st);
        if (old != NULL) {
            *msg = *old;
            msg->path = path;
            msg->name = dup_str(e->d_name);
            msg->data = NULL;
            msg->removed = false;
            if (msg->name == NULL) {
                free(path);
                closedir(d);
                snprintf(errbuf, errlen, "out of memory");
                return -1;
            }
            md->count++;
            continue;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            free(path);
            continue;
        }
        if (fd < 0) {
            snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
            free(path);
            closedir(d);
            return -1;
        }
        measure m = {0};
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
            measure_chunk(&m, buf, (size_t)n);
        close(fd);
        if (n < 0) {
            snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
            free(path);
            closedir(d);
            return -1;
        }
        memset(msg, 0, sizeof *msg);
        msg->path = path;
        msg->mtime_ns = mtime_of(&st);
        msg->name = dup_str(e->d_name);
        if (msg->name == NULL) {
            free(path);
            closedir(d);
            snprintf(errbuf, errlen, "out of memory");
            return -1;
        }
        finish(msg, &m);
        md->count++;
    }
    closedir(d);
    return 0;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Scan `dir` into `md` (initialised, empty); `prev` lends unchanged measurements. */
static int scan(pop3mock_maildrop *md, const char *dir, const pop3mock_maildrop *prev, char *errbuf,
                size_t errlen)
{
    if (!is_dir(dir)) {
        snprintf(errbuf, errlen, "%s: not a directory", dir);
        return -1;
    }
    size_t plen = strlen(dir) + 5;
    char *sub = malloc(plen);
    if (sub == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    snprintf(sub, plen, "%s/cur", dir);
    bool has_cur = is_dir(sub);
    snprintf(sub, plen, "%s/new", dir);
    bool has_new = is_dir(sub);
    if (has_cur || has_new) {
        if (has_new) rc = scan_dir(md, sub, prev, errbuf, errlen);
        snprintf(sub, plen, "%s/cur", dir);
        if (rc == 0 && has_cur) rc = scan_dir(md, sub, prev, errbuf, errlen);
    } else {
        rc = scan_dir(md, dir, prev, errbuf, errlen);
    }
    free(sub);
    if (rc != 0) return -1;
    if (md->count > 1) qsort(md->msgs, md->count, sizeof *md->msgs, by_name);
    return 0;
}

int pop3mock_maildrop_load(pop3mock_maildrop *md, const char *dir, const char *user,
                           const char *password, char *errbuf, size_t errlen)
{
    if (pop3mock_maildrop_init(md, user, password) != 0 || (md->dir = dup_str(dir)) == NULL) {
        pop3mock_maildrop_free(md);
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    if (scan(md, dir, NULL, errbuf, errlen) != 0) {
        pop3mock_maildrop_free(md);
        return -1;
    }
    return 0;
}

static void free_messages(pop3mock_message *msgs, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(msgs[i].name);
        free(msgs[i].path);
        free(msgs[i].data);
    }
    free(msgs);
}

int pop3mock_maildrop_rescan(pop3mock_maildrop *md, char *errbuf, size_t errlen)
{
    if (md->dir == NULL || md->active > 0) return 0;
    pop3mock_maildrop fresh;
    memset(&fresh, 0, sizeof fresh);
    fresh.max_messages = md->max_messages;
    if (scan(&fresh, md->dir, md, errbuf, errlen) != 0) {
        free_messages(fresh.msgs, fresh.count);
        return -1;
    }
    /* Deletions made at QUIT last for the life of the process: carry them over. There
     * are few, so each is looked up among the new messages by unique-id. */
    for (size_t i = 0; i < md->count; i++) {
        if (!md->msgs[i].removed) continue;
        for (size_t k = 0; k < fresh.count; k++)
            if (strcmp(fresh.msgs[k].uid, md->msgs[i].uid) == 0) fresh.msgs[k].removed = true;
    }
    free_messages(md->msgs, md->count);
    md->msgs = fresh.msgs;
    md->count = fresh.count;
    md->msgs_cap = fresh.msgs_cap;
    return 0;
}

int pop3mock_maildrop_reset(pop3mock_maildrop *md, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < md->count; i++)
        md->msgs[i].removed = false;
    return pop3mock_maildrop_rescan(md, errbuf, errlen);
}

int pop3mock_reader_open(pop3mock_reader *r, const pop3mock_maildrop *md, size_t i)
{
    r->msg = &md->msgs[i];
    r->offset = 0;
    r->fd = -1;
    if (r->msg->path == NULL) return 0;
    r->fd = open(r->msg->path, O_RDONLY | O_CLOEXEC);
    return r->fd >= 0 ? 0 : -1;
}

long pop3mock_reader_read(pop3mock_reader *r, char *buf, size_t cap)
{
    if (cap > 1u << 20) cap = 1u << 20;
    if (r->fd < 0) {
        if (r->msg->data == NULL || r->offset >= r->msg->octets) return 0;
        uint64_t left = r->msg->octets - r->offset;
        size_t n = left < cap ? (size_t)left : cap;
        memcpy(buf, r->msg->data + r->offset, n);
        r->offset += n;
        return (long)n;
    }
    ssize_t n;
    do {
        n = read(r->fd, buf, cap);
    } while (n < 0 && errno == EINTR);
    if (n > 0) r->offset += (uint64_t)n;
    return (long)n;
}

void pop3mock_reader_close(pop3mock_reader *r)
{
    if (r->fd >= 0) close(r->fd);
    r->fd = -1;
}
