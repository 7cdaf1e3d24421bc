/*
 * test_mock_maildrop.c - loading, adding to and rescanning a maildrop: the limit on its
 * messages (max_messages), at the limit and past it, in memory and from a folder.
 * RFC 1939 section 7 unique-ids stay those of the file names across a rescan.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pop3mock/maildrop.h"

static char dir[64];

static void put(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL, "%s", path);
    fputs("Subject: x\n\nbody\n", f);
    fclose(f);
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
