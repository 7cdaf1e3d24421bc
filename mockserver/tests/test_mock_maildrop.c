/*
 * test_mock_maildrop.c - loading, adding to and rescanning a maildrop: the limit on its
 * messages (max_messages), at the limit and past it, in memory and from a folder.
 * RFC 1939 section 7 unique-ids stay those of the file names across a rescan. A Maildir
 * name's ",S=" size is trusted only to skip a stat of a file already measured: one that
 * lies never makes RETR send other than the octet count LIST announced. A Maildir whose
 * folders are unchanged is not read again, and a file rewritten in it all the same is
 * refused when opened, never sent as measured.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mock_support.h"
#include "pop3mock/maildrop.h"

static char dir[64];

static void put_text(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL, "%s", path);
    fputs(text, f);
    fclose(f);
}

static void put(const char *name)
{
    put_text(name, "Subject: x\n\nbody\n");
}

static void make_maildir(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/new", dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/cur", dir);
    cr_assert_eq(mkdir(path, 0700), 0);
}

/* One session: log in, then `cmds`; everything the server sent. */
static char *session(pop3mock_maildrop *md, const char *cmds)
{
    pop3mock_session *s = mock_session(md, NULL);
    char in[512];
    snprintf(in, sizeof in, "USER u\r\nPASS p\r\n%s", cmds);
    char *out = mock_run(s, in, NULL);
    pop3mock_session_free(s);
    return out;
}

static void drop(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cr_assert_eq(unlink(path), 0);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/pop3mock-md-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(mock_maildrop, .init = setup, .fini = teardown);

Test(mock_maildrop, add_at_and_past_max_messages)
{
    pop3mock_maildrop md;
    cr_assert_eq(pop3mock_maildrop_init(&md, "u", "p"), 0);
    cr_expect_eq(md.max_messages, POP3MOCK_MAX_MESSAGES_DEFAULT);
    md.max_messages = 3;
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", i);
        cr_expect_eq(pop3mock_maildrop_add(&md, name, "x\n", 2), 0, "message %d", i);
    }
    cr_expect_eq(pop3mock_maildrop_add(&md, "m3", "x\n", 2), -1, "past the limit");
    cr_expect_eq(md.count, 3);
    cr_expect_str_eq(md.msgs[2].name, "m2");
    pop3mock_maildrop_free(&md);
}

Test(mock_maildrop, folder_at_and_past_max_messages)
{
    put("a");
    put("b");
    put("c");
    pop3mock_maildrop md;
    char err[512] = "";
    cr_assert_eq(pop3mock_maildrop_load(&md, dir, "u", "p", err, sizeof err), 0, "%s", err);
    cr_expect_eq(md.count, 3);
    cr_expect_eq(md.max_messages, POP3MOCK_MAX_MESSAGES_DEFAULT);
    /* At the limit: a rescan of the same three is fine. */
    md.max_messages = 3;
    cr_expect_eq(pop3mock_maildrop_rescan(&md, err, sizeof err), 0, "%s", err);
    cr_expect_eq(md.count, 3);
    /* Past it: an error naming the folder, and the old list is kept whole. */
    put("d");
    cr_expect_eq(pop3mock_maildrop_rescan(&md, err, sizeof err), -1);
    char want[256];
    snprintf(want, sizeof want, "%s: more than 3 messages", dir);
    cr_expect_str_eq(err, want);
    cr_expect_eq(md.count, 3);
    cr_expect_str_eq(md.msgs[0].name, "a");
    cr_expect_str_eq(md.msgs[2].name, "c");
    /* Back at the limit, the rescan sees the change. */
    drop("a");
    cr_expect_eq(pop3mock_maildrop_rescan(&md, err, sizeof err), 0, "%s", err);
    cr_expect_eq(md.count, 3);
    cr_expect_str_eq(md.msgs[0].name, "b");
    cr_expect_str_eq(md.msgs[2].name, "d");
    /* A message added after a rescan uses the room the rescan left. */
    cr_expect_eq(pop3mock_maildrop_add(&md, "e", "x\n", 2), -1, "still at the limit");
    md.max_messages = 0; /* the default */
    cr_expect_eq(pop3mock_maildrop_add(&md, "e", "x\n", 2), 0);
    cr_expect_eq(md.count, 4);
    pop3mock_maildrop_free(&md);
}

/* 17 octets stored, 20 as sent (three bare LF). */
#define TEXT17 "Subject: x\n\nbody\n"

Test(mock_maildrop, stated_size_that_lies_is_not_believed)
{
    make_maildir();
    put_text("new/1700000000.M1P1.host,S=5", TEXT17);
    put_text("cur/1700000001.M2P1.host,S=17:2,S", TEXT17); /* true */
    pop3mock_maildrop md;
    char err[512] = "";
    cr_assert_eq(pop3mock_maildrop_load(&md, dir, "u", "p", err, sizeof err), 0, "%s", err);
    cr_assert_eq(md.count, 2);
    cr_expect_eq(md.msgs[0].octets, 17);
    cr_expect_str_eq(md.msgs[0].uid, "1700000000.M1P1.host,S=5");
    cr_expect_str_eq(md.msgs[1].uid, "1700000001.M2P1.host,S=17");
    /* Twice: the second login rescans, the first name still lies. */
    for (int i = 0; i < 2; i++) {
        char *out = session(&md, "LIST\r\nRETR 1\r\nRETR 2\r\nQUIT\r\n");
        cr_expect(strstr(out, "1 20\r\n2 20\r\n.\r\n") != NULL, "%s", out);
        cr_expect(strstr(out, "+OK 20 octets\r\nSubject: x\r\n\r\nbody\r\n.\r\n+OK 20 "
                              "octets\r\nSubject: x\r\n\r\nbody\r\n.\r\n+OK") != NULL,
                  "%s", out);
        free(out);
    }
    pop3mock_maildrop_free(&md);
}

Test(mock_maildrop, file_rewritten_under_its_name)
{
    /* A Maildir file is never rewritten, so a name whose ",S=" matches what was measured
     * spares the stat at the next login. Rewritten all the same (now the name lies), the
     * file is caught when sent: the connection ends before the terminator rather than
     * deliver other octets than announced, and the next login measures it again. */
    make_maildir();
    put_text("new/1700000000.M1P1.host,S=17", TEXT17);
    pop3mock_maildrop md;
    char err[512] = "";
    cr_assert_eq(pop3mock_maildrop_load(&md, dir, "u", "p", err, sizeof err), 0, "%s", err);
    /* Longer, shorter, and as long with other line ends. */
    const char *texts[] = {"Subject: longer\n\nbody\n", "Subject\n", "Subject: x\r\n\r\nbo\n"};
    const char *sizes[] = {"25", "9", "18"};
    for (int i = 0; i < 3; i++) {
        put_text("new/1700000000.M1P1.host,S=17", texts[i]);
        char *out = session(&md, "RETR 1\r\nQUIT\r\n");
        const char *ok = strstr(out, "+OK 20 octets\r\n");
        cr_expect(ok != NULL, "%d: %s", i, out);
        cr_expect(ok == NULL || strstr(ok + 1, "+OK") == NULL, "%d: ends there: %s", i, out);
        cr_expect(strstr(out, "\r\n.\r\n") == NULL, "%d: no terminator: %s", i, out);
        free(out);
        /* The next session sees the file as it is. */
        char want[64];
        snprintf(want, sizeof want, "+OK %s octets\r\n", sizes[i]);
        out = session(&md, "RETR 1\r\nQUIT\r\n");
        cr_expect(strstr(out, want) != NULL, "%d: %s", i, out);
        cr_expect(strstr(out, "\r\n.\r\n+OK") != NULL, "%d: %s", i, out);
        free(out);
        /* Back as it was measured first, for the next round. (After the last round
         * that would be one more rewrite of 17 octets, caught when sent.) */
        if (i == 2) break;
        put_text("new/1700000000.M1P1.host,S=17", TEXT17);
        out = session(&md, "RETR 1\r\nQUIT\r\n");
        cr_expect(strstr(out, "+OK 20 octets\r\n") != NULL, "%d: %s", i, out);
        free(out);
    }
    pop3mock_maildrop_free(&md);
}

Test(mock_maildrop, rescan_shares_names_and_keeps_uids)
{
    make_maildir();
    put_text("new/a,S=17", TEXT17);
    put_text("new/b", TEXT17);
    put_text("cur/c:2,S", TEXT17);
    pop3mock_maildrop md;
    char err[512] = "";
    cr_assert_eq(pop3mock_maildrop_load(&md, dir, "u", "p", err, sizeof err), 0, "%s", err);
    cr_assert_eq(md.count, 3);
    cr_expect_str_eq(md.msgs[2].uid, "c");
    cr_expect_str_eq(md.msgs[2].name, "c:2,S");
    const char *name0 = md.msgs[0].name;
    drop("new/b");
    put_text("new/d", TEXT17);
    cr_assert_eq(pop3mock_maildrop_rescan(&md, err, sizeof err), 0, "%s", err);
    cr_assert_eq(md.count, 3);
    cr_expect_eq(md.msgs[0].name, name0, "kept, not copied");
    cr_expect_str_eq(md.msgs[0].uid, "a,S=17");
    cr_expect_str_eq(md.msgs[1].uid, "c");
    cr_expect_str_eq(md.msgs[2].uid, "d");
    /* A rescan that fails keeps the old list whole, shared names included. */
    md.max_messages = 2;
    cr_expect_eq(pop3mock_maildrop_rescan(&md, err, sizeof err), -1);
    cr_expect_str_eq(md.msgs[0].name, "a,S=17");
    cr_expect_str_eq(md.msgs[2].uid, "d");
    pop3mock_maildrop_free(&md);
}

Test(mock_maildrop, deletions_survive_rescans_and_moves)
{
    make_maildir();
    put_text("new/x", TEXT17);
    put_text("new/y", TEXT17);
    put_text("new/z", TEXT17);
    pop3mock_maildrop md;
    char err[512] = "";
    cr_assert_eq(pop3mock_maildrop_load(&md, dir, "u", "p", err, sizeof err), 0, "%s", err);
    char *out = session(&md, "DELE 1\r\nDELE 2\r\nQUIT\r\n");
    free(out);
    cr_assert(md.msgs[0].removed && md.msgs[1].removed && !md.msgs[2].removed);
    /* x kept where it is, y moved to cur/ with flags (same unique-id), a new w. */
    char from[128], to[128];
    snprintf(from, sizeof from, "%s/new/y", dir);
    snprintf(to, sizeof to, "%s/cur/y:2,S", dir);
    cr_assert_eq(rename(from, to), 0);
    put_text("new/w", TEXT17);
    out = session(&md, "UIDL\r\nQUIT\r\n");
    cr_expect(strstr(out, "+OK u's maildrop has 2 messages") != NULL, "%s", out);
    cr_expect(strstr(out, "1 w\r\n2 z\r\n.\r\n") != NULL, "%s", out);
    free(out);
    cr_assert_eq(md.count, 4);
    cr_expect_str_eq(md.msgs[0].uid, "w");
    cr_expect(!md.msgs[0].removed);
    cr_expect_str_eq(md.msgs[1].uid, "x");
    cr_expect(md.msgs[1].removed, "kept, still deleted");
    cr_expect_str_eq(md.msgs[2].name, "y:2,S");
    cr_expect(md.msgs[2].removed, "moved, still deleted");
    cr_expect(!md.msgs[3].removed);
    /* SIGHUP's reset forgets them. */
    cr_expect_eq(pop3mock_maildrop_reset(&md, err, sizeof err), 0, "%s", err);
    cr_expect(!md.msgs[1].removed && !md.msgs[2].removed);
    pop3mock_maildrop_free(&md);
}

static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) != -1) n++;
    return n;
}

Test(mock_maildrop, folders_held_only_during_transaction)
{
    /* The folders are held open while a session is in TRANSACTION (messages are opened
     * relative to them), and closed when the last session leaves it. */
    make_maildir();
    put_text("new/x", TEXT17);
    put_text("cur/y:2,S", TEXT17);
    int before = open_fds();
    pop3mock_maildrop md;
    char err[512] = "";
    cr_assert_eq(pop3mock_maildrop_load(&md, dir, "u", "p", err, sizeof err), 0, "%s", err);
    cr_expect_eq(open_fds(), before, "none after the load");
    pop3mock_session *s = mock_session(&md, NULL);
    size_t len;
    char *out = mock_run(s, "USER u\r\nPASS p\r\nRETR 1\r\nRETR 2\r\n", &len);
    cr_expect(strstr(out, "+OK 20 octets\r\nSubject: x\r\n\r\nbody\r\n.\r\n+OK 20 octets\r\n"
                          "Subject: x\r\n\r\nbody\r\n.\r\n") != NULL,
              "%s", out);
    free(out);
    pop3mock_session_free(s);
    cr_expect_eq(open_fds(), before, "none once the session is gone");
    pop3mock_maildrop_free(&md);
}

/* Give `folder` (under the maildrop) a modification time long past, as a Maildir that
 * received nothing lately has: old enough to be trusted (POP3MOCK_STAMP_MARGIN_NS). */
static void age(const char *folder)
{
    char path[128];
    snprintf(path, sizeof path, "%s%s", dir, folder);
    struct timespec old[2] = {{1700000000, 0}, {1700000000, 0}};
    cr_assert_eq(utimensat(AT_FDCWD, path, old, 0), 0, "%s", path);
}

Test(mock_maildrop, unchanged_folders_are_not_read_again)
{
    /* cur/ and new/ as they were at the last rescan: the files in them are taken without
     * a stat. A file rewritten in place all the same (no Maildir does that) is caught
     * when it is opened, before its +OK: -ERR [SYS/TEMP], and the session goes on; the
     * next login reads the folders whole and serves the file as it now is. */
    make_maildir();
    put_text("new/1700000000.M1P1.host", TEXT17);
    put_text("cur/1700000001.M2P1.host:2,S", TEXT17);
    age("/new");
    age("/cur");
    pop3mock_maildrop md;
    char err[512] = "";
    cr_assert_eq(pop3mock_maildrop_load(&md, dir, "u", "p", err, sizeof err), 0, "%s", err);
    char *out = session(&md, "LIST\r\nQUIT\r\n");
    cr_expect(strstr(out, "1 20\r\n2 20\r\n.\r\n") != NULL, "%s", out);
    free(out);
    put_text("cur/1700000001.M2P1.host:2,S", "Subject: yy\n\nbody\n"); /* in place */
    out = session(&md, "RETR 2\r\nRETR 1\r\nQUIT\r\n");
    cr_expect(strstr(out, "-ERR [SYS/TEMP] message 2 cannot be read\r\n+OK 20 octets\r\n"
                          "Subject: x\r\n\r\nbody\r\n.\r\n+OK") != NULL,
              "%s", out);
    free(out);
    out = session(&md, "LIST\r\nRETR 2\r\nQUIT\r\n");
    cr_expect(
        strstr(out, "1 20\r\n2 21\r\n.\r\n+OK 21 octets\r\nSubject: yy\r\n\r\nbody\r\n.\r\n") !=
            NULL,
        "%s", out);
    free(out);
    pop3mock_maildrop_free(&md);
}

Test(mock_maildrop, changed_or_recent_folders_are_read_whole)
{
    /* A message delivered changes new/: seen at the next login. new/ then carries a
     * modification time of now, which a change in the same tick of the clock could keep:
     * until it is older, each login reads the folder whole, and so sees a file rewritten
     * in place at once. */
    make_maildir();
    put_text("new/1700000000.M1P1.host", TEXT17);
    age("/new");
    age("/cur");
    pop3mock_maildrop md;
    char err[512] = "";
    cr_assert_eq(pop3mock_maildrop_load(&md, dir, "u", "p", err, sizeof err), 0, "%s", err);
    put_text("new/1700000002.M3P1.host", TEXT17);
    char *out = session(&md, "LIST\r\nQUIT\r\n");
    cr_expect(strstr(out, "1 20\r\n2 20\r\n.\r\n") != NULL, "%s", out);
    free(out);
    put_text("new/1700000002.M3P1.host", "Subject: yy\n\nbody\n");
    out = session(&md, "LIST\r\nRETR 2\r\nQUIT\r\n");
    cr_expect(strstr(out, "1 20\r\n2 21\r\n.\r\n+OK 21 octets\r\n") != NULL, "%s", out);
    free(out);
    pop3mock_maildrop_free(&md);
}

Test(mock_maildrop, folder_of_files_is_always_read_whole)
{
    /* Not a Maildir: files in a plain folder may well be edited in place. */
    put_text("a", TEXT17);
    age("");
    pop3mock_maildrop md;
    char err[512] = "";
    cr_assert_eq(pop3mock_maildrop_load(&md, dir, "u", "p", err, sizeof err), 0, "%s", err);
    char *out = session(&md, "LIST\r\nQUIT\r\n");
    cr_expect(strstr(out, "1 20\r\n.\r\n") != NULL, "%s", out);
    free(out);
    put_text("a", "Subject: yy\n\nbody\n");
    out = session(&md, "LIST\r\nRETR 1\r\nQUIT\r\n");
    cr_expect(strstr(out, "1 21\r\n.\r\n+OK 21 octets\r\n") != NULL, "%s", out);
    free(out);
    pop3mock_maildrop_free(&md);
}

Test(mock_maildrop, folder_touched_back_or_failed_rescan_is_read_again)
{
    /* A message delivered, then new/ given its old modification time back: its change
     * time still differs, and the rescan reads it. A rescan that fails (past
     * max_messages) keeps the old list and what it knew of the folders, so the next
     * one reads them again too. */
    make_maildir();
    put_text("new/1700000000.M1P1.host", TEXT17);
    age("/new");
    age("/cur");
    pop3mock_maildrop md;
    char err[512] = "";
    cr_assert_eq(pop3mock_maildrop_load(&md, dir, "u", "p", err, sizeof err), 0, "%s", err);
    put_text("new/1700000001.M2P1.host", TEXT17);
    age("/new");
    cr_expect_eq(pop3mock_maildrop_rescan(&md, err, sizeof err), 0, "%s", err);
    cr_expect_eq(md.count, 2);
    md.max_messages = 2;
    put_text("new/1700000002.M3P1.host", TEXT17);
    age("/new");
    cr_expect_eq(pop3mock_maildrop_rescan(&md, err, sizeof err), -1);
    cr_expect_eq(md.count, 2, "the old list, whole");
    cr_expect_eq(pop3mock_maildrop_rescan(&md, err, sizeof err), -1, "read again, still too many");
    md.max_messages = 0;
    cr_expect_eq(pop3mock_maildrop_rescan(&md, err, sizeof err), 0, "%s", err);
    cr_expect_eq(md.count, 3);
    pop3mock_maildrop_free(&md);
}
