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
 *
 * A login rescans (RFC 1939 section 8: the maildrop as it is when the session enters
 * TRANSACTION). maildir(5) files are renamed in and out of a folder, never rewritten,
 * so a Maildir whose cur/ and new/ have not changed since they were last read holds the
 * same messages: the rescan costs two stats, not one per message (on tmpfs, 1000
 * messages: 1.4 ms before every +OK of PASS or AUTH, now a few microseconds); the file
 * of a message taken that way is checked when it is opened.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* d_type, DT_REG */
#include "pop3mock/maildrop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pop3/encode.h"
#include "pop3/buf.h"
#include "pop3/error.h"
#include "pop3/parse.h"

#include "body.h" /* POP3MOCK__STALE */
#include "maildrop_internal.h"

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
    pop3mock__maildrop_unhold(md);
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

/* The allocation of a message's name, holding its unique-id too when that is not the
 * name itself: most Maildir names (no ":2,flags") are their own unique-id, and cost
 * nothing more. */
static char *name_block(const char *name, const char **uid)
{
    size_t len = strlen(name), n = strcspn(name, ":");
    bool ok = n >= 1 && n <= POP3_UID_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x21 || c > 0x7e) ok = false;
    }
    char hashed[71];
    const char *u = name;
    if (!ok) {
        hash_uid(name, hashed);
        u = hashed;
        n = strlen(hashed);
    }
    bool own = ok && n == len; /* the name is the unique-id */
    char *block = malloc(len + 1 + (own ? 0 : n + 1));
    if (block == NULL) return NULL;
    memcpy(block, name, len + 1);
    if (own) {
        *uid = block;
    } else {
        memcpy(block + len + 1, u, n);
        block[len + 1 + n] = '\0';
        *uid = block + len + 1;
    }
    return block;
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
}

int pop3mock_maildrop_add(pop3mock_maildrop *md, const char *name, const char *data, size_t len)
{
    if (grow(md) != POP3_OK) return -1;
    pop3mock_message *msg = &md->msgs[md->count];
    memset(msg, 0, sizeof *msg);
    msg->name = name_block(name, &msg->uid);
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

/* Folders of a maildrop, in the order their paths sort ("cur" < "new"). */
enum { FOLDER_SELF = 0, FOLDER_CUR = 1, FOLDER_NEW = 2 };
static const char *const folder_names[] = {"", "/cur", "/new"};

static int by_name(const void *a, const void *b)
{
    const pop3mock_message *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (int)x->_folder - (int)y->_folder;
}

static long long mtime_of(const struct stat *st)
{
    return (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/* The message of `prev` (sorted by name) in `folder` named `name`, or NULL. */
static pop3mock_message *previous(const pop3mock_maildrop *prev, const char *name,
                                  unsigned char folder)
{
    if (prev == NULL || prev->count == 0) return NULL;
    pop3mock_message key = {.name = (char *)name, ._folder = folder};
    pop3mock_message *m = bsearch(&key, prev->msgs, prev->count, sizeof *prev->msgs, by_name);
    return m != NULL && m->data == NULL ? m : NULL; /* an in-memory message has no file */
}

/* The octets a Maildir name states (",S=NNN" in the unique part, the Dovecot and Courier
 * convention), or -1. */
static long long stated_size(const char *name)
{
    size_t n = strcspn(name, ":");
    for (const char *p = name; (p = strstr(p, ",S=")) != NULL && (size_t)(p - name) < n; p++) {
        long long v = 0;
        const char *q = p + 3;
        if (*q < '0' || *q > '9') continue;
        for (; *q >= '0' && *q <= '9'; q++) {
            if (v > (LLONG_MAX - 9) / 10) return -1;
            v = v * 10 + (*q - '0');
        }
        if (*q == ',' || *q == ':' || *q == '\0') return v;
    }
    return -1;
}

/* Measure the open file `fd` of `st_size` octets. A read that comes back short at the
 * size fstatat gave has reached the end (a regular file reads short only there): no
 * second read just to see 0. Returns 0, or -1 with errno set. */
static int measure_fd(int fd, long long st_size, measure *m, char *buf, size_t cap)
{
    for (;;) {
        size_t want = cap;
        if (st_size >= 0 && (uint64_t)st_size >= m->octets && (uint64_t)st_size - m->octets < cap)
            want = (size_t)((uint64_t)st_size - m->octets) + 1;
        ssize_t n = read(fd, buf, want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) return 0;
        measure_chunk(m, buf, (size_t)n);
        if ((size_t)n < want && st_size >= 0 && m->octets == (uint64_t)st_size) return 0;
    }
}

/* What a rescan keeps of the table it replaces. */
typedef struct keep {
    pop3mock_maildrop *prev; /* the table being replaced (sorted by name), or NULL */
    bool *taken;             /* per message of prev: unchanged, kept as it is */
    size_t count;            /* messages of prev taken */
} keep;

static void scan_error(char *errbuf, size_t errlen, const char *dir, size_t max, int rc)
{
    if (rc == POP3_ELIMIT)
        snprintf(errbuf, errlen, "%s: more than %zu messages", dir, max);
    else
        snprintf(errbuf, errlen, "out of memory");
}

/* Add every regular, non-hidden file of folder `folder` (path `dir`) to `md`, except the
 * unchanged messages of `k->prev`, which are only marked as taken: they stay where they
 * are, and the rescan needs no second table of them. */
static int scan_dir(pop3mock_maildrop *md, const char *dir, unsigned char folder, keep *k,
                    char *errbuf, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    int dfd = dirfd(d);
    struct dirent *e;
    char buf[65536];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (md->count + k->count >= max_messages(md)) {
            closedir(d);
            scan_error(errbuf, errlen, dir, max_messages(md), POP3_ELIMIT);
            return -1;
        }
        pop3mock_message *old = previous(k->prev, e->d_name, folder);
        /* A Maildir file is written once and then only renamed: one whose name states the
         * octets measured last time, still a regular file by its directory entry, is that
         * same file, and needs no stat. Should it have been rewritten in place all the
         * same, the reader notices when it is sent (pop3mock_reader_read, body.c), before
         * a wrong size could pass for right. */
        struct stat st;
        bool known = old != NULL && e->d_type == DT_REG && old->mtime_ns != POP3MOCK__STALE &&
                     stated_size(e->d_name) == (long long)old->octets &&
                     old->octets <= (uint64_t)LLONG_MAX;
        if (!known) {
            if (fstatat(dfd, e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
                continue; /* gone since readdir (a Maildir moves files), or not a file */
            if (old != NULL &&
                (old->octets != (uint64_t)st.st_size || old->mtime_ns != mtime_of(&st)))
                old = NULL;
        }
        if (old != NULL) {
            old->_by_name = known; /* only ever adds a check: harmless if the rescan fails */
            old->_by_dir = false;
            k->taken[old - k->prev->msgs] = true;
            k->count++;
            continue;
        }
        int grc = grow(md);
        if (grc != POP3_OK) {
            closedir(d);
            scan_error(errbuf, errlen, dir, max_messages(md), grc);
            return -1;
        }
        int fd = openat(dfd, e->d_name, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) continue;
        measure m = {0};
        if (fd < 0 || measure_fd(fd, (long long)st.st_size, &m, buf, sizeof buf) != 0) {
            snprintf(errbuf, errlen, "%s/%s: %s", dir, e->d_name, strerror(errno));
            if (fd >= 0) close(fd);
            closedir(d);
            return -1;
        }
        close(fd);
        pop3mock_message *msg = &md->msgs[md->count];
        memset(msg, 0, sizeof *msg);
        msg->_folder = folder;
        msg->mtime_ns = mtime_of(&st);
        msg->name = name_block(e->d_name, &msg->uid);
        if (msg->name == NULL) {
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

/* Stat folder `path` into `st` (stamped before it is read, so a change made while it is
 * read makes the stamp old). Returns whether it is a directory. */
static bool stamp_folder(const char *path, pop3mock__folder_stamp *st, long long now_ns)
{
    struct stat sb;
    memset(st, 0, sizeof *st);
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        st->known = true; /* absent: seen again if it appears */
        return false;
    }
    st->present = true;
    st->dev = (unsigned long long)sb.st_dev;
    st->ino = (unsigned long long)sb.st_ino;
    st->mtime_ns = mtime_of(&sb);
    st->ctime_ns = (long long)sb.st_ctim.tv_sec * 1000000000LL + sb.st_ctim.tv_nsec;
    /* A modification time in the clock's current tick may be given to the next change as
     * well; an older one never is (a change sets it to the present time). ctime cannot be
     * set back, so the pair also catches a folder changed and then touched back. */
    st->known = now_ns - st->mtime_ns >= POP3MOCK_STAMP_MARGIN_NS;
    return true;
}

static bool same_stamp(const pop3mock__folder_stamp *a, const pop3mock__folder_stamp *b)
{
    return a->known && b->known && a->present == b->present &&
           (!a->present || (a->dev == b->dev && a->ino == b->ino && a->mtime_ns == b->mtime_ns &&
                            a->ctime_ns == b->ctime_ns));
}

static long long realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Scan `dir` into `md` (initialised, empty), leaving out what `k` keeps (see scan_dir);
 * `stamps` (indexed by folder) get the state cur/ and new/ were read in, or are unknown
 * when `dir` is not a Maildir or the scan fails. */
static int scan(pop3mock_maildrop *md, const char *dir, keep *k, pop3mock__folder_stamp *stamps,
                char *errbuf, size_t errlen)
{
    memset(stamps, 0, 3 * sizeof *stamps);
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
    long long now = realtime_ns();
    snprintf(sub, plen, "%s/cur", dir);
    bool has_cur = stamp_folder(sub, &stamps[FOLDER_CUR], now);
    snprintf(sub, plen, "%s/new", dir);
    bool has_new = stamp_folder(sub, &stamps[FOLDER_NEW], now);
    if (has_cur || has_new) {
        if (has_new) rc = scan_dir(md, sub, FOLDER_NEW, k, errbuf, errlen);
        snprintf(sub, plen, "%s/cur", dir);
        if (rc == 0 && has_cur) rc = scan_dir(md, sub, FOLDER_CUR, k, errbuf, errlen);
    } else {
        rc = scan_dir(md, dir, FOLDER_SELF, k, errbuf, errlen);
    }
    free(sub);
    /* A folder of plain files may be edited in place: it is always read whole. */
    if (rc != 0 || !(has_cur || has_new)) memset(stamps, 0, 3 * sizeof *stamps);
    return rc;
}

/* Are cur/ and new/ of `md` as they were when last read whole, and was every message
 * then read from them? Then a rescan would find the same files (see rescan's comment
 * in pop3mock/maildrop.h): two stats instead of one per message. */
static bool folders_unchanged(pop3mock_maildrop *md)
{
    if (md->count > max_messages(md)) return false; /* the limit was lowered: say so */
    for (size_t i = 0; i < md->count; i++)
        if (md->msgs[i].data != NULL || md->msgs[i].mtime_ns == POP3MOCK__STALE) return false;
    size_t plen = strlen(md->dir) + 5;
    char *sub = malloc(plen);
    if (sub == NULL) return false;
    static const unsigned char folders[] = {FOLDER_CUR, FOLDER_NEW};
    bool same = true;
    long long now = realtime_ns();
    for (size_t f = 0; f < 2 && same; f++) {
        pop3mock__folder_stamp now_st;
        snprintf(sub, plen, "%s%s", md->dir, folder_names[folders[f]]);
        (void)stamp_folder(sub, &now_st, now);
        now_st.known = true; /* compared, not kept: its age does not matter */
        same = same_stamp(&md->_stamp[folders[f]], &now_st);
    }
    free(sub);
    return same;
}

/* Sort the table by name and give back the room doubling left: it lives until the next
 * rescan. */
static void settle(pop3mock_maildrop *md)
{
    if (md->count > 1) qsort(md->msgs, md->count, sizeof *md->msgs, by_name);
    if (md->count > 0 && md->msgs_cap > md->count) {
        pop3mock_message *fit = realloc(md->msgs, md->count * sizeof *md->msgs);
        if (fit != NULL) {
            md->msgs = fit;
            md->msgs_cap = md->count;
        }
    }
}

int pop3mock_maildrop_load(pop3mock_maildrop *md, const char *dir, const char *user,
                           const char *password, char *errbuf, size_t errlen)
{
    if (pop3mock_maildrop_init(md, user, password) != 0 || (md->dir = dup_str(dir)) == NULL) {
        pop3mock_maildrop_free(md);
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    keep none = {0};
    if (scan(md, dir, &none, md->_stamp, errbuf, errlen) != 0) {
        pop3mock_maildrop_free(md);
        return -1;
    }
    settle(md);
    return 0;
}

static void free_messages(pop3mock_message *msgs, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(msgs[i].name);
        free(msgs[i].data);
    }
    free(msgs);
}

int pop3mock_maildrop_rescan(pop3mock_maildrop *md, char *errbuf, size_t errlen)
{
    if (md->dir == NULL || md->active > 0) return 0;
    if (folders_unchanged(md)) {
        for (size_t i = 0; i < md->count; i++)
            md->msgs[i]._by_dir = true;
        return 0;
    }
    /* Unchanged messages stay in the table where they are: the scan collects only what
     * is new or changed, and nothing is altered until it has succeeded, so a failed
     * rescan keeps the old list whole. */
    keep k = {.prev = md, .taken = calloc(md->count > 0 ? md->count : 1, sizeof *k.taken)};
    if (k.taken == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    pop3mock_maildrop fresh;
    memset(&fresh, 0, sizeof fresh);
    fresh.max_messages = md->max_messages;
    if (scan(&fresh, md->dir, &k, fresh._stamp, errbuf, errlen) != 0) {
        free_messages(fresh.msgs, fresh.count);
        free(k.taken);
        return -1;
    }
    size_t total = k.count + fresh.count;
    if (total > md->msgs_cap) {
        int rc;
        pop3mock_message *grown =
            pop3_array_grow(md->msgs, &md->msgs_cap, total, sizeof *md->msgs, total, 0, &rc);
        if (grown == NULL) {
            snprintf(errbuf, errlen, "out of memory");
            free_messages(fresh.msgs, fresh.count);
            free(k.taken);
            return -1;
        }
        md->msgs = grown;
    }
    /* Deletions made at QUIT last for the life of the process: a kept message keeps its
     * mark; a new one gets the mark of a message gone with the same unique-id (a file
     * moved from new/ to cur/). There are few, so each is looked up by unique-id. */
    for (size_t i = 0; i < md->count; i++) {
        if (!md->msgs[i].removed) continue;
        for (size_t j = 0; j < fresh.count; j++)
            if (strcmp(fresh.msgs[j].uid, md->msgs[i].uid) == 0) fresh.msgs[j].removed = true;
        for (size_t j = 0; j < md->count; j++)
            if (k.taken[j] && strcmp(md->msgs[j].uid, md->msgs[i].uid) == 0)
                md->msgs[j].removed = true;
    }
    size_t w = 0;
    for (size_t i = 0; i < md->count; i++) {
        if (k.taken[i]) {
            md->msgs[w++] = md->msgs[i];
        } else {
            free(md->msgs[i].name);
            free(md->msgs[i].data);
        }
    }
    if (fresh.count > 0) memcpy(md->msgs + w, fresh.msgs, fresh.count * sizeof *md->msgs);
    md->count = w + fresh.count;
    /* Only now does the list match the folders as stamped: a rescan that failed keeps the
     * stamps of the list it kept. */
    memcpy(md->_stamp, fresh._stamp, sizeof md->_stamp);
    free(fresh.msgs);
    free(k.taken);
    settle(md);
    return 0;
}

int pop3mock_maildrop_reset(pop3mock_maildrop *md, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < md->count; i++)
        md->msgs[i].removed = false;
    return pop3mock_maildrop_rescan(md, errbuf, errlen);
}

void pop3mock__maildrop_hold(pop3mock_maildrop *md)
{
    if (md->dir == NULL) return;
    bool used[3] = {false, false, false};
    for (size_t i = 0; i < md->count; i++)
        if (md->msgs[i].data == NULL && md->msgs[i]._folder < 3) used[md->msgs[i]._folder] = true;
    for (int f = 0; f < 3; f++) {
        char path[4096];
        int n = snprintf(path, sizeof path, "%s%s", md->dir, folder_names[f]);
        if (!used[f] || md->_folder_fd[f] > 0 || n < 0 || (size_t)n >= sizeof path) continue;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) md->_folder_fd[f] = fd + 1;
    }
}

void pop3mock__maildrop_unhold(pop3mock_maildrop *md)
{
    for (int f = 0; f < 3; f++) {
        if (md->_folder_fd[f] > 0) close(md->_folder_fd[f] - 1);
        md->_folder_fd[f] = 0;
    }
}

int pop3mock_reader_open(pop3mock_reader *r, const pop3mock_maildrop *md, size_t i)
{
    r->msg = &md->msgs[i];
    r->offset = 0;
    r->fd = -1;
    if (r->msg->data != NULL) return 0;
    unsigned folder = r->msg->_folder < 3 ? r->msg->_folder : 0;
    if (md->_folder_fd[folder] > 0) {
        r->fd = openat(md->_folder_fd[folder] - 1, r->msg->name, O_RDONLY | O_CLOEXEC);
    } else {
        char path[4096];
        int n = snprintf(path, sizeof path, "%s%s/%s", md->dir != NULL ? md->dir : ".",
                         folder_names[folder], r->msg->name);
        if (n < 0 || (size_t)n >= sizeof path) return -1;
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (r->fd < 0) return -1;
    /* Taken on its folder's word: the stat the rescan spared, on the open file. */
    struct stat st;
    if (r->msg->_by_dir && (fstat(r->fd, &st) != 0 || (uint64_t)st.st_size != r->msg->octets ||
                            mtime_of(&st) != r->msg->mtime_ns)) {
        pop3mock_reader_close(r);
        errno = ESTALE;
        return -1;
    }
    return 0;
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
    /* Ask for one octet more than the measured rest: a read that returns exactly the rest
     * has proved the end, and one that returns more has found a file that grew. */
    uint64_t left = r->offset <= r->msg->octets ? r->msg->octets - r->offset : 0;
    size_t want = left < cap ? (size_t)left + 1 : cap;
    ssize_t n;
    do {
        n = read(r->fd, buf, want);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -1;
    if ((uint64_t)n > left || (n == 0 && left > 0)) {
        errno = ESTALE; /* not the file that was measured: its size would be wrong */
        return -1;
    }
    r->offset += (uint64_t)n;
    if ((size_t)n < want && r->offset == r->msg->octets) pop3mock_reader_close(r);
    return (long)n;
}

void pop3mock_reader_close(pop3mock_reader *r)
{
    if (r->fd >= 0) close(r->fd);
    r->fd = -1;
}
