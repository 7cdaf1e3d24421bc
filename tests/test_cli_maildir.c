/*
 * test_cli_maildir.c - the pieces of `pop3 fetch` that make it crash-safe: Maildir
 * delivery (tmp/, fsync, rename into new/), UIDs recorded in file names, the UIDL
 * state file saved atomically and kept per account, CRLF to LF, the clean-up of tmp/,
 * the error paths (tested as root as well), and the progress line.
 */
#define _GNU_SOURCE /* unshare(2) and mount(2) for the read-only sub-case */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir.h"
#include "progress.h"
#include "uidl_state.h"

static char root[256];

static void make_root(void)
{
    snprintf(root, sizeof root, "/tmp/pop3kit-maildir-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
}

static void remove_tree(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    cr_assert_eq(system(cmd), 0);
}

static size_t count_files(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static char *only_file(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    char *found = NULL;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') found = strdup(e->d_name);
    closedir(d);
    return found;
}

Test(maildir, delivers_through_tmp_into_new)
{
    make_root();
    char dir[300], sub[320], err[256];
    snprintf(dir, sizeof dir, "%s/Mail", root);
    maildir m;
    cr_assert_eq(maildir_open(&m, dir, err, sizeof err), 0, "%s", err);
    m.keep_crlf = true; /* the octets as transferred */
    snprintf(sub, sizeof sub, "%s/cur", dir);
    cr_assert_eq(count_files(sub), 0);

    maildir_msg msg;
    cr_assert_eq(maildir_begin(&m, "whqtswO00WBw418f9t5JxYwZ", &msg, err, sizeof err), 0);
    cr_assert_eq(maildir_write(&msg, "Subject: a\r\n\r\nbody\0x\r\n", 22, err, sizeof err), 0);
    /* Before the commit the message is only in tmp/: not delivered mail. */
    snprintf(sub, sizeof sub, "%s/tmp", dir);
    cr_assert_eq(count_files(sub), 1);
    snprintf(sub, sizeof sub, "%s/new", dir);
    cr_assert_eq(count_files(sub), 0);
    cr_assert_eq(maildir_commit(&m, &msg, 7, err, sizeof err), 0, "%s", err);
    cr_assert_eq(count_files(sub), 1);
    snprintf(sub, sizeof sub, "%s/tmp", dir);
    cr_assert_eq(count_files(sub), 0);

    /* Byte for byte, NUL included. */
    snprintf(sub, sizeof sub, "%s/new", dir);
    char *name = only_file(sub);
    cr_assert(strstr(name, ",U=") != NULL);
    char path[700];
    snprintf(path, sizeof path, "%s/%s", sub, name);
    FILE *f = fopen(path, "rb");
    char buf[64];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cr_assert_eq(n, 22);
    cr_assert_eq(memcmp(buf, "Subject: a\r\n\r\nbody\0x\r\n", 22), 0);
    free(name);
    maildir_close(&m);
    remove_tree(root);
}

Test(maildir, abort_leaves_nothing)
{
    make_root();
    char err[256], sub[320];
    maildir m;
    cr_assert_eq(maildir_open(&m, root, err, sizeof err), 0);
    maildir_msg msg;
    cr_assert_eq(maildir_begin(&m, NULL, &msg, err, sizeof err), 0);
    cr_assert_eq(maildir_write(&msg, "x", 1, err, sizeof err), 0);
    maildir_abort(&msg);
    snprintf(sub, sizeof sub, "%s/tmp", root);
    cr_assert_eq(count_files(sub), 0);
    snprintf(sub, sizeof sub, "%s/new", root);
    cr_assert_eq(count_files(sub), 0);
    maildir_close(&m);
    remove_tree(root);
}

static void collect(void *ud, const char *uid)
{
    uidl_state *s = ud;
    cr_assert_eq(uidl_state_add(s, uid), 0);
}

/* A message moved to cur/ by a MUA (":2,S" appended) still names its UID. */
Test(maildir, uids_recovered_from_names_in_new_and_cur)
{
    make_root();
    char err[256];
    maildir m;
    cr_assert_eq(maildir_open(&m, root, err, sizeof err), 0);
    const char *uids[] = {"1 a", "QhdPYR:00WBw1Ph7x7", "x"};
    for (size_t i = 0; i < 3; i++) {
        maildir_msg msg;
        cr_assert_eq(maildir_begin(&m, uids[i], &msg, err, sizeof err), 0);
        cr_assert_eq(maildir_commit(&m, &msg, 7, err, sizeof err), 0);
    }
    char newdir[320], from[700], to[700];
    snprintf(newdir, sizeof newdir, "%s/new", root);
    DIR *d = opendir(newdir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(from, sizeof from, "%s/%s", newdir, e->d_name);
        snprintf(to, sizeof to, "%s/cur/%s:2,S", root, e->d_name);
        cr_assert_eq(rename(from, to), 0);
        break;
    }
    closedir(d);
    uidl_state s;
    memset(&s, 0, sizeof s);
    cr_assert_eq(maildir_each_uid(&m, collect, &s), 0);
    cr_assert_eq(s.count, 3);
    for (size_t i = 0; i < 3; i++)
        cr_assert(uidl_state_has(&s, uids[i]), "%s", uids[i]);
    uidl_state_free(&s);
    maildir_close(&m);
    remove_tree(root);
}

static uint64_t tags[16];
static unsigned ntags;
static void note_tag(void *ud, uint64_t tag)
{
    (void)ud;
    if (ntags < 16) tags[ntags++] = tag;
}

/* Descriptors this process has open: a batch keeps its files open until its sync. */
static size_t open_fds(void)
{
    return count_files("/proc/self/fd");
}

/* A batch reaches new/ only as a whole, after one sync; the callback then reports each. */
Test(maildir, batch_is_delivered_together)
{
    make_root();
    char err[256], sub[320];
    size_t fds_before = open_fds();
    maildir m;
    cr_assert_eq(maildir_open(&m, root, err, sizeof err), 0);
    m.batch_max = 3;
    m.committed = note_tag;
    ntags = 0;
    snprintf(sub, sizeof sub, "%s/new", root);
    for (uint64_t i = 1; i <= 5; i++) {
        maildir_msg msg;
        cr_assert_eq(maildir_begin(&m, NULL, &msg, err, sizeof err), 0);
        cr_assert_eq(maildir_write(&msg, "x\r\n", 3, err, sizeof err), 0);
        cr_assert_eq(maildir_commit(&m, &msg, i * 10, err, sizeof err), 0, "%s", err);
        if (i == 2) {
            cr_assert_eq(count_files(sub), 0, "nothing in new/ before the batch is synced");
            cr_assert_eq(ntags, 0);
        }
    }
    cr_assert_eq(count_files(sub), 3);
    cr_assert_eq(ntags, 3);
    cr_assert_eq(tags[0], 10);
    cr_assert_eq(tags[2], 30);
    cr_assert_eq(maildir_flush(&m, err, sizeof err), 0);
    cr_assert_eq(count_files(sub), 5);
    cr_assert_eq(ntags, 5);
    cr_assert_eq(tags[4], 50);
    /* A batch of one message (synced by itself, not with the whole file system). */
    maildir_msg msg;
    cr_assert_eq(maildir_begin(&m, NULL, &msg, err, sizeof err), 0);
    cr_assert_eq(maildir_write(&msg, "y\r\n", 3, err, sizeof err), 0);
    cr_assert_eq(maildir_commit(&m, &msg, 60, err, sizeof err), 0);
    cr_assert_eq(count_files(sub), 5, "waits for its flush");
    cr_assert_eq(maildir_flush(&m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(count_files(sub), 6);
    cr_assert_eq(ntags, 6);
    cr_assert_eq(tags[5], 60);
    /* A batch never flushed is not delivered, and leaves no tmp/ file behind. */
    cr_assert_eq(maildir_begin(&m, NULL, &msg, err, sizeof err), 0);
    cr_assert_eq(maildir_commit(&m, &msg, 70, err, sizeof err), 0);
    maildir_close(&m);
    cr_assert_eq(count_files(sub), 6);
    snprintf(sub, sizeof sub, "%s/tmp", root);
    cr_assert_eq(count_files(sub), 0);
    cr_assert_eq(ntags, 6);
    cr_assert_eq(open_fds(), fds_before, "every file of every batch was closed");
    remove_tree(root);
}

Test(uidl_state, saves_atomically_and_reloads)
{
    make_root();
    char path[300], err[256];
    snprintf(path, sizeof path, "%s/state", root);
    uidl_state s;
    cr_assert_eq(uidl_state_load(&s, path, "me@host:110", err, sizeof err), 0,
                 "missing file is empty");
    cr_assert_eq(s.count, 0);
    for (int i = 0; i < 1000; i++) {
        char uid[32];
        snprintf(uid, sizeof uid, "uid-%d", i);
        cr_assert_eq(uidl_state_add(&s, uid), 0);
    }
    cr_assert_eq(uidl_state_add(&s, "uid-5"), 0);
    cr_assert_eq(s.count, 1000);
    cr_assert_eq(uidl_state_add(&s, "bad\nuid"), -1, "a line end cannot be stored");
    cr_assert_eq(uidl_state_save(&s, err, sizeof err), 0, "%s", err);
    uidl_state_free(&s);
    /* No temporary file is left next to it. */
    cr_assert_eq(count_files(root), 1);

    cr_assert_eq(uidl_state_load(&s, path, "me@host:110", err, sizeof err), 0);
    cr_assert_eq(s.count, 1000);
    cr_assert(uidl_state_has(&s, "uid-999"));
    cr_assert_not(uidl_state_has(&s, "uid-1000"));
    uidl_state_free(&s);
    remove_tree(root);
}

/* Error paths, reachable as root too (CI runs as root): every one names the path and the
 * OS error, and leaves nothing half-written. */

static void assert_error(const char *err, const char *path, int e)
{
    char want[700];
    snprintf(want, sizeof want, "%s: %s", path, strerror(e));
    cr_assert_str_eq(err, want);
}

/* ENOTDIR: a file where a folder of the Maildir should be. */
Test(maildir_errors, a_file_where_a_folder_should_be)
{
    make_root();
    char dir[300], sub[320], err[512];
    snprintf(dir, sizeof dir, "%s/Mail", root);
    cr_assert_eq(mkdir(dir, 0700), 0);
    snprintf(sub, sizeof sub, "%s/tmp", dir);
    FILE *f = fopen(sub, "w");
    fclose(f);
    maildir m;
    cr_assert_eq(maildir_open(&m, dir, err, sizeof err), -1);
    assert_error(err, sub, ENOTDIR);
    /* The Maildir itself a file. */
    snprintf(sub, sizeof sub, "%s/file", root);
    f = fopen(sub, "w");
    fclose(f);
    cr_assert_eq(maildir_open(&m, sub, err, sizeof err), -1);
    assert_error(err, sub, ENOTDIR);
    /* Below a file: mkdir itself says ENOTDIR. */
    char below[340];
    snprintf(below, sizeof below, "%s/x", sub);
    cr_assert_eq(maildir_open(&m, below, err, sizeof err), -1);
    assert_error(err, below, ENOTDIR);
    remove_tree(root);
}

/*
 * EFBIG: a full disk, simulated with RLIMIT_FSIZE in a child (SIGXFSZ ignored, so the
 * write fails instead of killing it); root is bound by the limit like anyone. The
 * message is dropped: tmp/ and new/ stay empty.
 */
Test(maildir_errors, a_full_disk_drops_the_message)
{
    make_root();
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        char err[512];
        maildir m;
        if (maildir_open(&m, root, err, sizeof err)) _exit(10);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {100, 100};
        if (setrlimit(RLIMIT_FSIZE, &rl)) _exit(11);
        maildir_msg msg;
        if (maildir_begin(&m, "u1", &msg, err, sizeof err)) _exit(12);
        char big[4096];
        memset(big, 'x', sizeof big);
        if (maildir_write(&msg, big, sizeof big, err, sizeof err) != -1) _exit(13);
        char want[700];
        snprintf(want, sizeof want, "%s: %s", msg.tmp_path, strerror(EFBIG));
        if (strcmp(err, want) != 0) _exit(14);
        maildir_abort(&msg);
        maildir_close(&m);
        _exit(0);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st), "the child was killed (SIGXFSZ?)");
    cr_assert_eq(WEXITSTATUS(st), 0, "step %d failed", WEXITSTATUS(st));
    char sub[320];
    snprintf(sub, sizeof sub, "%s/tmp", root);
    cr_assert_eq(count_files(sub), 0);
    snprintf(sub, sizeof sub, "%s/new", root);
    cr_assert_eq(count_files(sub), 0);
    remove_tree(root);
}

/* The same for the state file: the old file stays whole, no temporary file is left. */
Test(maildir_errors, a_full_disk_keeps_the_old_state_file)
{
    make_root();
    char path[300], err[512];
    snprintf(path, sizeof path, "%s/state", root);
    uidl_state s;
    cr_assert_eq(uidl_state_load(&s, path, "me@host:110", err, sizeof err), 0);
    cr_assert_eq(uidl_state_add(&s, "old"), 0);
    cr_assert_eq(uidl_state_save(&s, err, sizeof err), 0);
    uidl_state_free(&s);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        if (uidl_state_load(&s, path, "me@host:110", err, sizeof err)) _exit(10);
        for (int i = 0; i < 1000; i++) {
            char uid[32];
            snprintf(uid, sizeof uid, "uid-%d", i);
            if (uidl_state_add(&s, uid)) _exit(11);
        }
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {200, 200};
        if (setrlimit(RLIMIT_FSIZE, &rl)) _exit(12);
        if (uidl_state_save(&s, err, sizeof err) != -1) _exit(13);
        if (!strstr(err, strerror(EFBIG)) || strncmp(err, path, strlen(path)) != 0) _exit(14);
        _exit(0);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st));
    cr_assert_eq(WEXITSTATUS(st), 0, "step %d failed", WEXITSTATUS(st));
    cr_assert_eq(count_files(root), 1, "no temporary file left");
    cr_assert_eq(uidl_state_load(&s, path, "me@host:110", err, sizeof err), 0);
    cr_assert_eq(s.count, 1);
    cr_assert(uidl_state_has(&s, "old"));
    uidl_state_free(&s);
    remove_tree(root);
}

/* A place that refuses writes to root as well: /sys. */
Test(maildir_errors, a_place_that_refuses_writes)
{
    int probe = open("/sys/pop3kit-probe", O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (probe >= 0) {
        close(probe);
        unlink("/sys/pop3kit-probe");
        cr_skip_test("/sys accepts new files here");
    }
    if (errno == ENOENT) cr_skip_test("no /sys here");
    char err[512];
    maildir m;
    errno = 0;
    int e = mkdir("/sys/pop3kit-maildir", 0700) == 0 ? 0 : errno;
    if (e == 0) rmdir("/sys/pop3kit-maildir");
    cr_assert_neq(e, 0);
    cr_assert_eq(maildir_open(&m, "/sys/pop3kit-maildir", err, sizeof err), -1);
    assert_error(err, "/sys/pop3kit-maildir", e);
    uidl_state s;
    cr_assert_eq(uidl_state_load(&s, "/sys/pop3kit-state", "me@host:110", err, sizeof err), -1);
    static const char want[] = "/sys/pop3kit-state: cannot be saved: ";
    cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
    uidl_state_free(&s);
}

/* A read-only bind mount in a private mount namespace (EROFS), where the kernel and
 * the container allow one: a sub-case skipped only when the mechanism is missing. */
Test(maildir_errors, a_read_only_mount)
{
    make_root();
    char err[512];
    maildir m;
    cr_assert_eq(maildir_open(&m, root, err, sizeof err), 0);
    maildir_close(&m);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) != 0) {
            uid_t uid = getuid();
            gid_t gid = getgid();
            if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) _exit(77);
            char map[64];
            int fd = open("/proc/self/setgroups", O_WRONLY);
            if (fd >= 0) {
                (void)!write(fd, "deny", 4);
                close(fd);
            }
            snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
            fd = open("/proc/self/uid_map", O_WRONLY);
            if (fd < 0 || write(fd, map, strlen(map)) < 0) _exit(77);
            close(fd);
            snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
            fd = open("/proc/self/gid_map", O_WRONLY);
            if (fd < 0 || write(fd, map, strlen(map)) < 0) _exit(77);
            close(fd);
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) _exit(77);
        if (mount(root, root, NULL, MS_BIND, NULL) != 0) _exit(77);
        if (mount(NULL, root, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0) _exit(77);
        if (maildir_open(&m, root, err, sizeof err)) _exit(10);
        maildir_msg msg;
        if (maildir_begin(&m, "u", &msg, err, sizeof err) != -1) _exit(11);
        if (!strstr(err, strerror(EROFS)) || strncmp(err, root, strlen(root)) != 0) _exit(12);
        maildir_close(&m);
        _exit(0);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st));
    int code = WEXITSTATUS(st);
    remove_tree(root);
    if (code == 77) cr_skip_test("no private mount namespace here");
    cr_assert_eq(code, 0, "step %d failed", code);
}

/* Line ends and the tmp/ clean-up
 * ------------------------------- */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static char buf[4096];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

/* CRLF becomes LF across chunk boundaries, a lone CR stays; --keep-crlf keeps all. */
Test(maildir, lf_line_ends_by_default)
{
    static const char body[] = "Subject: a\r\n\r\nline\rcr\r\nlast\r";
    static const char want_lf[] = "Subject: a\n\nline\rcr\nlast\r";
    for (int keep = 0; keep < 2; keep++) {
        for (size_t split = 0; split <= sizeof body - 1; split++) {
            make_root();
            char err[512], sub[320];
            maildir m;
            cr_assert_eq(maildir_open(&m, root, err, sizeof err), 0);
            m.keep_crlf = keep;
            maildir_msg msg;
            cr_assert_eq(maildir_begin(&m, NULL, &msg, err, sizeof err), 0);
            cr_assert_eq(maildir_write(&msg, body, split, err, sizeof err), 0);
            cr_assert_eq(
                maildir_write(&msg, body + split, sizeof body - 1 - split, err, sizeof err), 0);
            cr_assert_eq(maildir_commit(&m, &msg, 1, err, sizeof err), 0);
            snprintf(sub, sizeof sub, "%s/new", root);
            char *name = only_file(sub);
            char path[700];
            snprintf(path, sizeof path, "%s/%s", sub, name);
            size_t n;
            char *got = read_all(path, &n);
            const char *want = keep ? body : want_lf;
            cr_assert_eq(n, strlen(want), "split %zu keep %d", split, keep);
            cr_assert_eq(memcmp(got, want, n), 0, "split %zu keep %d", split, keep);
            free(name);
            maildir_close(&m);
            remove_tree(root);
        }
    }
}

/* Past the conversion buffer and the writeback step: a message of 9 MiB, written in
 * chunks of odd sizes (so CRs land on every kind of boundary), arrives as the reference
 * conversion says, octet for octet. */
Test(maildir, large_message_converted_in_full)
{
    size_t len = MAILDIR_WRITEBACK_STEP + (1u << 20);
    char *body = malloc(len), *want = malloc(len);
    cr_assert(body && want);
    uint32_t x = 12345;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        unsigned r = (x >> 16) % 97;
        body[i] = r < 6 ? '\r' : r < 12 ? '\n' : (char)('a' + r % 26);
    }
    size_t wl = 0;
    for (size_t i = 0; i < len; i++)
        if (!(body[i] == '\r' && i + 1 < len && body[i + 1] == '\n')) want[wl++] = body[i];
    make_root();
    char err[512], sub[320];
    maildir m;
    cr_assert_eq(maildir_open(&m, root, err, sizeof err), 0);
    maildir_msg msg;
    cr_assert_eq(maildir_begin(&m, NULL, &msg, err, sizeof err), 0);
    static const size_t sizes[] = {1, 7, 4093, 65535, 65536, 65537, 131071, 300000};
    for (size_t off = 0, k = 0; off < len; k++) {
        size_t n = sizes[k % (sizeof sizes / sizeof sizes[0])];
        if (n > len - off) n = len - off;
        cr_assert_eq(maildir_write(&msg, body + off, n, err, sizeof err), 0, "%s", err);
        off += n;
    }
    cr_assert_eq(maildir_commit(&m, &msg, 1, err, sizeof err), 0, "%s", err);
    snprintf(sub, sizeof sub, "%s/new", root);
    char *name = only_file(sub);
    char path[700];
    snprintf(path, sizeof path, "%s/%s", sub, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    char *got = malloc(len + 1);
    size_t n = fread(got, 1, len + 1, f);
    fclose(f);
    cr_assert_eq(n, wl);
    cr_assert_eq(memcmp(got, want, wl), 0);
    free(got);
    free(name);
    free(body);
    free(want);
    maildir_close(&m);
    remove_tree(root);
}

static void touch(const char *dir, const char *name, time_t age)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    if (age) {
        struct timeval tv[2];
        gettimeofday(&tv[0], NULL);
        tv[0].tv_sec -= age;
        tv[1] = tv[0];
        cr_assert_eq(utimes(path, tv), 0);
    }
}

/* This host's name as Maildir names carry it ("/", ":" and "," replaced). */
static void host_in_names(char *host, size_t cap)
{
    gethostname(host, cap);
    host[cap - 1] = '\0';
    for (char *h = host; *h; h++)
        if (*h == '/' || *h == ':' || *h == ',') *h = '_';
}

/* A pid that is surely gone: a child that has been reaped. */
static pid_t gone_pid(void)
{
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    return dead;
}

/* Files of a killed run of ours (its process is gone) and files older than 36 hours
 * go; a fresh file of someone else, or of a live process, stays. Our names hold plain
 * decimal digits: a name only a lenient scanf would read (a sign, a blank, a number
 * past 64 bits) is not ours either. */
Test(maildir, stale_tmp_files_are_removed)
{
    make_root();
    char err[512], tmp[320], host[128], name[400];
    maildir m;
    cr_assert_eq(maildir_open(&m, root, err, sizeof err), 0);
    maildir_close(&m);
    snprintf(tmp, sizeof tmp, "%s/tmp", root);
    host_in_names(host, sizeof host);
    pid_t dead = gone_pid();
    snprintf(name, sizeof name, "1700000000.M1P%ld_0.%s,U=6162", (long)dead, host);
    touch(tmp, name, 0);
    snprintf(name, sizeof name, "1700000000.M1P%ld_1.%s", (long)getpid(), host);
    touch(tmp, name, 0);                                  /* a live process: ours, in fact */
    touch(tmp, "1700000000.M1P1Q2.otherhost", 0);         /* someone else's, fresh */
    touch(tmp, "1600000000.M1P1Q3.otherhost", 37 * 3600); /* someone else's, stale */
    const char *lenient[] = {"P+%ld_4", "P %ld_5", "P%ld_18446744073709551616"};
    for (size_t i = 0; i < 3; i++) {
        char part[64];
        snprintf(part, sizeof part, lenient[i], (long)dead);
        snprintf(name, sizeof name, "1700000000.M1%s.%s", part, host);
        touch(tmp, name, 0);
    }
    cr_assert_eq(count_files(tmp), 7);
    cr_assert_eq(maildir_open(&m, root, err, sizeof err), 0);
    cr_assert_eq(m.stale_removed, 2);
    maildir_close(&m);
    cr_assert_eq(count_files(tmp), 5);
    remove_tree(root);
}

/* State per account, pruned
 * ------------------------- */

Test(uidl_state, accounts_are_kept_apart_and_pruned)
{
    make_root();
    char path[300], err[512];
    snprintf(path, sizeof path, "%s/state", root);
    FILE *f = fopen(path, "w");
    fputs(UIDL_STATE_MAGIC "\naccount bob@h:110\nuid b1\nuid b2\naccount me@h:110\nuid gone\n"
                           "uid kept\naccount eve@h:995\nuid e1\n",
          f);
    fclose(f);
    uidl_state s;
    cr_assert_eq(uidl_state_load(&s, path, "me@h:110", err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.count, 2);
    cr_assert_not(uidl_state_has(&s, "b1"), "another account's UID");
    cr_assert_eq(uidl_state_add(&s, "new"), 0);
    uidl_state listed;
    memset(&listed, 0, sizeof listed);
    uidl_state_add(&listed, "kept");
    uidl_state_add(&listed, "new");
    uidl_state_retain(&s, (bool (*)(void *, const char *))uidl_state_has, &listed);
    uidl_state_free(&listed);
    cr_assert_eq(uidl_state_save(&s, err, sizeof err), 0, "%s", err);
    uidl_state_free(&s);
    size_t n;
    char *text = read_all(path, &n);
    text[n] = '\0';
    cr_assert(strncmp(text,
                      UIDL_STATE_MAGIC "\naccount bob@h:110\nuid b1\nuid b2\naccount eve@h:995\n"
                                       "uid e1\naccount me@h:110\n",
                      strlen(UIDL_STATE_MAGIC) + 72) == 0,
              "%s", text);
    cr_assert(strstr(text, "uid kept\n") && strstr(text, "uid new\n"), "%s", text);
    cr_assert_null(strstr(text, "uid gone"), "pruned: %s", text);
    /* Each account reads its own. */
    cr_assert_eq(uidl_state_load(&s, path, "bob@h:110", err, sizeof err), 0);
    cr_assert_eq(s.count, 2);
    uidl_state_free(&s);
    remove_tree(root);
}

/* Another account's section at the end of a file without a final LF is kept, and
 * ends with one when saved. */
Test(uidl_state, last_section_without_final_newline)
{
    make_root();
    char path[300], err[512];
    snprintf(path, sizeof path, "%s/state", root);
    FILE *f = fopen(path, "w");
    fputs(UIDL_STATE_MAGIC "\naccount me@h:110\nuid m1\naccount bob@h:110\nuid b1", f);
    fclose(f);
    uidl_state s;
    cr_assert_eq(uidl_state_load(&s, path, "me@h:110", err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.count, 1);
    cr_assert_eq(uidl_state_add(&s, "m2"), 0);
    cr_assert_eq(uidl_state_save(&s, err, sizeof err), 0, "%s", err);
    uidl_state_free(&s);
    size_t n;
    char *text = read_all(path, &n);
    text[n] = '\0';
    static const char other[] = UIDL_STATE_MAGIC "\naccount bob@h:110\nuid b1\naccount me@h:110\n";
    cr_assert_eq(strncmp(text, other, strlen(other)), 0, "%s", text);
    cr_assert(strstr(text, "uid m1\n") && strstr(text, "uid m2\n"), "%s", text);
    remove_tree(root);
}

/* The older format (one UID per line) is read as the current account's. */
Test(uidl_state, old_format_is_migrated)
{
    make_root();
    char path[300], err[512];
    snprintf(path, sizeof path, "%s/state", root);
    FILE *f = fopen(path, "w");
    fputs("a\nb\n", f);
    fclose(f);
    uidl_state s;
    cr_assert_eq(uidl_state_load(&s, path, "me@h:110", err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.count, 2);
    cr_assert_eq(uidl_state_save(&s, err, sizeof err), 0);
    uidl_state_free(&s);
    size_t n;
    char *text = read_all(path, &n);
    static const char want[] = UIDL_STATE_MAGIC "\naccount me@h:110\n";
    cr_assert_eq(memcmp(text, want, strlen(want)), 0);
    remove_tree(root);
}

Test(progress, line_shows_messages_octets_and_rate)
{
    progress p;
    progress_start(&p, NULL, false, 4, 2000000);
    progress_add(&p, 1000000, 2);
    char line[200];
    progress_format(&p, p.start + 2.0, line, sizeof line);
    cr_assert(strstr(line, "2/4 messages") != NULL, "%s", line);
    cr_assert(strstr(line, "1.0 MB/2.0 MB") != NULL, "%s", line);
    cr_assert(strstr(line, "500.0 kB/s") != NULL, "%s", line);
    cr_assert(strstr(line, "[##########..........]") != NULL, "%s", line);
}
