/*
 * maildir.c - crash-safe delivery into a Maildir (see maildir.h).
 *
 * Names follow maildir(5): "TIME.MUSECPPID_SEQ.HOST", plus ",U=<hex uid>" when the
 * POP3 unique-id is known. A MUA may later move the file to cur/ and append ":2,FLAGS";
 * the ",U=" part survives that, which is what lets the next `pop3 fetch` recognise a
 * message stored by a run that stopped before it saved its UIDL state.
 *
 * The "P<pid>_<seq>" part is this program's own: a tmp/ file with it, this host's name,
 * and a process id that is no longer running was left by a run that was killed before
 * it could clean up (SIGKILL, a crash, a power cut); no one will ever finish it.
 */
/* syncfs(2), to make a batch of messages durable at once, and sync_file_range(2), to
 * start a large message's writeback early, are GNU/Linux calls. */
#define _GNU_SOURCE
#include "errbuf.h"
#include "maildir.h"
#include "pop3/error.h"
#include "pop3/parse.h"
#include "pop3/wire.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

/* Longest UID recorded in a file name: 2 hex digits per octet must stay well inside the
 * 255-octet name limit. Longer (non-RFC, Q46) UIDs are only in the state file. */
#define MAILDIR_UID_MAX 100

/* A message complete in tmp/, its file still open, waiting for its batch to be made
 * durable. */
struct maildir_pending {
    int fd;
    char *tmp_path;
    char *name;
    uint64_t tag;
};

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    if (!s) return NULL;
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

static int ensure_dir(const char *path, char *err, size_t errlen)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) != 0) return cli_seterr(err, errlen, "%s: %s", path, strerror(errno));
        if (S_ISDIR(st.st_mode)) return 0;
        return cli_seterr(err, errlen, "%s: %s", path, strerror(ENOTDIR));
    }
    return cli_seterr(err, errlen, "%s: %s", path, strerror(errno));
}

/* This host's name as it appears in Maildir names ("/", ":" and "," replaced). */
static void host_name(char *host, size_t cap)
{
    if (gethostname(host, cap) != 0) snprintf(host, cap, "localhost");
    host[cap - 1] = '\0';
    for (char *h = host; *h; h++)
        if (*h == '/' || *h == ':' || *h == ',') *h = '_';
}

/* The run of digits at `*p` (read by the codec's one decimal parser), then `sep`;
 * `*p` moves past both. */
static bool number_then(const char **p, char sep, uint64_t *v)
{
    size_t n = strspn(*p, "0123456789");
    if (n == 0 || (*p)[n] != sep || pop3_parse_number(*p, n, v) != POP3_OK) return false;
    *p += n + 1;
    return true;
}

/* Was `name` written by this program on this host, in a process that is gone?
 * Our names are "TIME.MUSECPPID_SEQ.HOST[,U=...]". */
static bool orphan_of_ours(const char *name, const char *host)
{
    uint64_t sec, usec, pid, seq;
    const char *h = name;
    if (!number_then(&h, '.', &sec) || *h++ != 'M' || !number_then(&h, 'P', &usec) ||
        !number_then(&h, '_', &pid) || !number_then(&h, '.', &seq))
        return false;
    if (pid > INT_MAX) return false; /* no process id of ours */
    size_t hl = strlen(host);
    if (strncmp(h, host, hl) != 0 || (h[hl] != '\0' && h[hl] != ',')) return false;
    if (pid == 0 || (pid_t)pid == getpid()) return false;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static void clean_tmp(maildir *m)
{
    char *tmpdir = join(m->path, "tmp");
    DIR *d = tmpdir ? opendir(tmpdir) : NULL;
    if (!d) {
        free(tmpdir);
        return;
    }
    const char *host = m->host;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char *p = join(tmpdir, e->d_name);
        struct stat st;
        if (p && lstat(p, &st) == 0 && S_ISREG(st.st_mode) &&
            (now - st.st_atime > MAILDIR_TMP_STALE_SECONDS || orphan_of_ours(e->d_name, host)) &&
            unlink(p) == 0)
            m->stale_removed++;
        free(p);
    }
    closedir(d);
    free(tmpdir);
}

int maildir_open(maildir *m, const char *dir, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->new_fd = m->tmp_fd = -1;
    m->fsync = true;
    m->batch_max = 1;
    /* Read once: each message's name carries both (two system calls fewer per message). */
    host_name(m->host, sizeof m->host);
    m->pid = (long)getpid();
    if (ensure_dir(dir, err, errlen)) return -1;
    static const char *const subs[] = {"tmp", "new", "cur"};
    for (size_t i = 0; i < 3; i++) {
        char *p = join(dir, subs[i]);
        if (!p) return cli_seterr(err, errlen, "out of memory");
        int rc = ensure_dir(p, err, errlen);
        free(p);
        if (rc) return -1;
    }
    m->path = strdup(dir);
    char *newdir = join(dir, "new");
    if (!m->path || !newdir) {
        free(newdir);
        maildir_close(m);
        return cli_seterr(err, errlen, "out of memory");
    }
    m->new_fd = open(newdir, O_RDONLY | O_DIRECTORY);
    int e = errno;
    free(newdir);
    if (m->new_fd < 0) {
        maildir_close(m);
        return cli_seterr(err, errlen, "%s/new: %s", dir, strerror(e));
    }
    char *tmpdir = join(dir, "tmp");
    m->tmp_fd = tmpdir ? open(tmpdir, O_RDONLY | O_DIRECTORY) : -1;
    e = tmpdir ? errno : ENOMEM;
    free(tmpdir);
    if (m->tmp_fd < 0) {
        maildir_close(m);
        return cli_seterr(err, errlen, "%s/tmp: %s", dir, strerror(e));
    }
    clean_tmp(m);
    return 0;
}

void maildir_close(maildir *m)
{
    /* Messages still waiting were never flushed: they are not delivered. */
    for (unsigned i = 0; i < m->npending; i++) {
        close(m->pending[i].fd);
        unlink(m->pending[i].tmp_path);
        free(m->pending[i].tmp_path);
        free(m->pending[i].name);
    }
    free(m->pending);
    m->pending = NULL;
    m->npending = 0;
    if (m->new_fd >= 0) close(m->new_fd);
    if (m->tmp_fd >= 0) close(m->tmp_fd);
    free(m->path);
    m->path = NULL;
    m->new_fd = m->tmp_fd = -1;
}

int maildir_begin(maildir *m, const char *uid, maildir_msg *msg, char *err, size_t errlen)
{
    memset(msg, 0, sizeof *msg);
    msg->fd = -1;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char name[512];
    /* "/" and ":" cannot appear in a Maildir name (maildir(5) replaces them). */
    int n = snprintf(name, sizeof name, "%lld.M%ldP%ld_%u.%s", (long long)tv.tv_sec,
                     (long)tv.tv_usec, m->pid, m->seq++, m->host);
    if (n < 0 || (size_t)n >= sizeof name - 8) return cli_seterr(err, errlen, "host name too long");
    size_t ulen = uid ? strlen(uid) : 0;
    if (uid && ulen > 0 && ulen <= MAILDIR_UID_MAX) {
        size_t at = (size_t)n;
        memcpy(name + at, ",U=", 3);
        at += 3;
        for (size_t i = 0; i < ulen; i++) {
            snprintf(name + at, 3, "%02x", (unsigned char)uid[i]);
            at += 2;
        }
        name[at] = '\0';
    }
    msg->name = strdup(name);
    char *tmpdir = join(m->path, "tmp");
    msg->tmp_path = tmpdir ? join(tmpdir, name) : NULL;
    free(tmpdir);
    if (!msg->name || !msg->tmp_path) {
        maildir_abort(msg);
        return cli_seterr(err, errlen, "out of memory");
    }
    msg->to_lf = !m->keep_crlf;
    /* Relative to tmp/, held open: no walk of the Maildir's path for each message. */
    msg->fd = openat(m->tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (msg->fd < 0) {
        int e = errno;
        int rc = cli_seterr(err, errlen, "%s: %s", msg->tmp_path, strerror(e));
        free(msg->tmp_path);
        msg->tmp_path = NULL; /* nothing to unlink: it was not ours */
        maildir_abort(msg);
        return rc;
    }
    return 0;
}

/* Start the writeback of what was written since the last step, without waiting for it. */
static void start_writeback(maildir_msg *msg)
{
    if (msg->size - msg->flushed < MAILDIR_WRITEBACK_STEP) return;
    /* An error here only loses the head start: the batch's sync still reports it. */
    (void)sync_file_range(msg->fd, (off_t)msg->flushed, (off_t)(msg->size - msg->flushed),
                          SYNC_FILE_RANGE_WRITE);
    msg->flushed = msg->size;
}

static int write_all(maildir_msg *msg, const char *data, size_t len, char *err, size_t errlen)
{
    while (len > 0) {
        ssize_t w = write(msg->fd, data, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return cli_seterr(err, errlen, "%s: %s", msg->tmp_path, strerror(errno));
        }
        data += w;
        len -= (size_t)w;
        msg->size += (uint64_t)w;
    }
    start_writeback(msg);
    return 0;
}

int maildir_write(maildir_msg *msg, const char *data, size_t len, char *err, size_t errlen)
{
    if (!msg->to_lf) return write_all(msg, data, len, err, errlen);
    /* CRLF -> LF (pop3_crlf_to_lf holds a CR that ends a chunk until the next one),
     * a buffer at a time: room for a piece and the held CR it may start with. */
    static _Thread_local char out[MAILDIR_CONVERT_BUF + 1];
    while (len > 0) {
        size_t piece = len < MAILDIR_CONVERT_BUF ? len : MAILDIR_CONVERT_BUF;
        size_t o = pop3_crlf_to_lf(out, data, piece, &msg->held_cr);
        if (o && write_all(msg, out, o, err, errlen)) return -1;
        data += piece;
        len -= piece;
    }
    return 0;
}

/* The last octet was a lone CR: it belongs to the message. */
static int finish_line_ends(maildir_msg *msg, char *err, size_t errlen)
{
    if (!msg->held_cr) return 0;
    msg->held_cr = false;
    return write_all(msg, "\r", 1, err, errlen);
}

static void free_msg(maildir_msg *msg)
{
    free(msg->tmp_path);
    free(msg->name);
    memset(msg, 0, sizeof *msg);
    msg->fd = -1;
}

/* rename tmp/NAME to new/NAME, relative to both folders held open. 0 or -1 with `err`. */
static int move_to_new(maildir *m, const char *name, char *err, size_t errlen)
{
    if (renameat(m->tmp_fd, name, m->new_fd, name) == 0) return 0;
    return cli_seterr(err, errlen, "%s/new/%s: %s", m->path, name, strerror(errno));
}

static int sync_new(maildir *m, char *err, size_t errlen)
{
    /* A rename is durable only once the directory is. */
    if (m->fsync && fsync(m->new_fd) != 0)
        return cli_seterr(err, errlen, "%s/new: fsync: %s", m->path, strerror(errno));
    return 0;
}

int maildir_flush(maildir *m, char *err, size_t errlen)
{
    if (m->npending == 0) return 0;
    int rc = 0;
    bool each = m->npending == 1;
#ifdef __linux__
    /* A batch of several files: one sync of the file system makes them all durable, where
     * one fsync each cost twice as long on ext4 (1000 x 10 KB: 0.54 s against 0.25 s),
     * each forcing its own journal commit. A batch of one file (the last of a run, or
     * a large message alone) is synced by itself: syncfs also waits for every other
     * program's dirty data on that file system, which on a busy machine cost 120 ms
     * where the file's own octets needed 14. */
    if (m->fsync && !each && syncfs(m->new_fd) != 0)
        rc = cli_seterr(err, errlen, "%s: syncfs: %s", m->path, strerror(errno));
#else
    each = true;
#endif
    for (unsigned i = 0; i < m->npending; i++) {
        maildir_pending *p = &m->pending[i];
        if (rc == 0 && m->fsync && each && fsync(p->fd) != 0)
            rc = cli_seterr(err, errlen, "%s: fsync: %s", p->tmp_path, strerror(errno));
        if (close(p->fd) != 0 && rc == 0)
            rc = cli_seterr(err, errlen, "%s: %s", p->tmp_path, strerror(errno));
        p->fd = -1;
    }
    unsigned moved = 0;
    for (unsigned i = 0; i < m->npending && rc == 0; i++, moved++)
        rc = move_to_new(m, m->pending[i].name, err, errlen);
    if (rc == 0) rc = sync_new(m, err, errlen);
    for (unsigned i = 0; i < m->npending; i++) {
        /* On failure, what was not moved is not delivered: remove its tmp/ file. Moved
         * files stay in new/ (their octets are on disk) but are not reported, so their
         * messages stay on the server and are fetched again: a duplicate, never a loss. */
        if (rc == 0 && m->committed) m->committed(m->committed_ud, m->pending[i].tag);
        if (rc != 0 && i >= moved) unlink(m->pending[i].tmp_path);
        free(m->pending[i].tmp_path);
        free(m->pending[i].name);
    }
    m->npending = 0;
    return rc;
}

int maildir_commit(maildir *m, maildir_msg *msg, uint64_t tag, char *err, size_t errlen)
{
    bool batched = m->batch_max > 1;
    if (finish_line_ends(msg, err, errlen)) {
        maildir_abort(msg);
        return -1;
    }
    if (!batched && m->fsync && fsync(msg->fd) != 0) {
        cli_seterr(err, errlen, "%s: fsync: %s", msg->tmp_path, strerror(errno));
        maildir_abort(msg);
        return -1;
    }
    if (batched) {
        if (!m->pending) {
            m->pending = calloc(m->batch_max, sizeof *m->pending);
            if (!m->pending) {
                maildir_abort(msg);
                return cli_seterr(err, errlen, "out of memory");
            }
        }
        /* The file stays open until its batch is synced (maildir_flush). */
        maildir_pending *p = &m->pending[m->npending++];
        p->fd = msg->fd;
        p->tmp_path = msg->tmp_path;
        p->name = msg->name;
        p->tag = tag;
        memset(msg, 0, sizeof *msg);
        msg->fd = -1;
        return m->npending >= m->batch_max ? maildir_flush(m, err, errlen) : 0;
    }
    int rc = close(msg->fd);
    msg->fd = -1;
    if (rc != 0) {
        cli_seterr(err, errlen, "%s: %s", msg->tmp_path, strerror(errno));
        maildir_abort(msg);
        return -1;
    }
    if (move_to_new(m, msg->name, err, errlen)) {
        maildir_abort(msg);
        return -1;
    }
    free_msg(msg);
    if (sync_new(m, err, errlen)) return -1;
    if (m->committed) m->committed(m->committed_ud, tag);
    return 0;
}

void maildir_abort(maildir_msg *msg)
{
    if (msg->fd >= 0) close(msg->fd);
    if (msg->tmp_path) unlink(msg->tmp_path);
    free(msg->tmp_path);
    free(msg->name);
    memset(msg, 0, sizeof *msg);
    msg->fd = -1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int scan_folder(const char *dir, void (*fn)(void *ud, const char *uid), void *ud)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    struct dirent *e;
    char uid[MAILDIR_UID_MAX + 1];
    while ((e = readdir(d)) != NULL) {
        const char *u = strstr(e->d_name, ",U=");
        if (!u) continue;
        u += 3;
        size_t n = 0;
        while (n < MAILDIR_UID_MAX && hexval(u[2 * n]) >= 0 && hexval(u[2 * n + 1]) >= 0) {
            uid[n] = (char)(hexval(u[2 * n]) * 16 + hexval(u[2 * n + 1]));
            n++;
        }
        uid[n] = '\0';
        if (n > 0) fn(ud, uid);
    }
    closedir(d);
    return 0;
}

int maildir_each_uid(const maildir *m, void (*fn)(void *ud, const char *uid), void *ud)
{
    static const char *const subs[] = {"new", "cur"};
    for (size_t i = 0; i < 2; i++) {
        char *p = join(m->path, subs[i]);
        if (!p) return -1;
        int rc = scan_folder(p, fn, ud);
        free(p);
        if (rc) return -1;
    }
    return 0;
}
