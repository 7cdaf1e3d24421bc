/*
 * test_cli_maildir.c - the pieces of `pop3 fetch` that make it crash-safe: Maildir
 * delivery (tmp/, fsync, rename into new/), UIDs recorded in file names, the UIDL
 * state file saved atomically, and the progress line.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
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

/* A batch reaches new/ only as a whole, after one sync; the callback then reports each. */
Test(maildir, batch_is_delivered_together)
{
    make_root();
    char err[256], sub[320];
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
    /* A batch never flushed is not delivered, and leaves no tmp/ file behind. */
    maildir_msg msg;
    cr_assert_eq(maildir_begin(&m, NULL, &msg, err, sizeof err), 0);
    cr_assert_eq(maildir_commit(&m, &msg, 60, err, sizeof err), 0);
    maildir_close(&m);
    cr_assert_eq(count_files(sub), 5);
    snprintf(sub, sizeof sub, "%s/tmp", root);
    cr_assert_eq(count_files(sub), 0);
    cr_assert_eq(ntags, 5);
    remove_tree(root);
}

Test(uidl_state, saves_atomically_and_reloads)
{
    make_root();
    char path[300], err[256];
    snprintf(path, sizeof path, "%s/state", root);
    uidl_state s;
    cr_assert_eq(uidl_state_load(&s, path, err, sizeof err), 0, "missing file is empty");
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

    cr_assert_eq(uidl_state_load(&s, path, err, sizeof err), 0);
    cr_assert_eq(s.count, 1000);
    cr_assert(uidl_state_has(&s, "uid-999"));
    cr_assert_not(uidl_state_has(&s, "uid-1000"));
    uidl_state_free(&s);
    remove_tree(root);
}

Test(uidl_state, unwritable_folder_is_an_error_not_a_loss)
{
    if (geteuid() == 0) cr_skip_test("root writes anywhere");
    make_root();
    char path[300], err[256];
    snprintf(path, sizeof path, "%s/state", root);
    uidl_state s;
    cr_assert_eq(uidl_state_load(&s, path, err, sizeof err), 0);
    cr_assert_eq(uidl_state_add(&s, "a"), 0);
    chmod(root, 0500);
    cr_assert_eq(uidl_state_save(&s, err, sizeof err), -1);
    chmod(root, 0700);
    uidl_state_free(&s);
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
