/*
 * test_cli_fetch.c - `pop3 fetch` end to end against a scripted server: LF line ends in
 * the Maildir (--keep-crlf for CRLF), dot-unstuffing (RFC 1939 section 3), the closing
 * summary, --max-size and --max-messages, --delete (DELE only at QUIT, RFC 1939 section
 * 6), the UIDL state per account pruned to what the server lists (RFC 1939 section 7),
 * and SIGINT/SIGTERM in the middle of a message.
 */
#include "cli_run.h"

#include <dirent.h>
#include <regex.h>

#define BODY1 "Subject: one\r\n\r\n..stuffed\r\nline\r\n"
#define BODY2 "Subject: two\r\n\r\nshort\r\n"

static char big_reply[8192];

static const char *big_body(void)
{
    if (!big_reply[0]) {
        size_t n = (size_t)snprintf(big_reply, sizeof big_reply, "+OK\r\nSubject: three\r\n\r\n");
        for (int i = 0; i < 40; i++)
            n += (size_t)snprintf(big_reply + n, sizeof big_reply - n,
                                  "line %02d of a long one\r\n", i);
        snprintf(big_reply + n, sizeof big_reply - n, ".\r\n");
    }
    return big_reply;
}

static cli_rule rules[] = {
    {"CAPA", "-ERR\r\n"},
    {"USER *", "+OK\r\n"},
    {"PASS *", "+OK\r\n"},
    {"LIST", "+OK\r\n1 36\r\n2 25\r\n3 1000\r\n.\r\n"},
    {"UIDL", "+OK\r\n1 u1\r\n2 u2\r\n3 u3\r\n.\r\n"},
    {"RETR 1", "+OK\r\n" BODY1 ".\r\n"},
    {"RETR 2", "+OK\r\n" BODY2 ".\r\n"},
    {"RETR 3", NULL},
    {"DELE *", "+OK\r\n"},
};

static char hostport[64];
static char root[64];

static cli_server *serve(int drip_ms)
{
    rules[7].reply = big_body();
    cli_server *s = calloc(1, sizeof *s);
    s->rules = rules;
    s->nrules = sizeof rules / sizeof rules[0];
    s->drip_ms = drip_ms;
    cli_server_start(s);
    snprintf(hostport, sizeof hostport, "127.0.0.1:%u", s->port);
    setenv("POP3_PASSWORD", "pw", 1);
    snprintf(root, sizeof root, "/tmp/pop3kit-fetch-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    return s;
}

static void finish(cli_server *s, cli_result *r)
{
    cli_server_stop(s);
    free(s);
    free(r);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

static size_t count_in(const char *sub)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/Mail/%s", root, sub);
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* The stored message whose text contains `needle`, into buf. */
static bool stored_with(const char *needle, char *buf, size_t cap)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/Mail/new", root);
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    bool found = false;
    while (!found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        size_t n = fread(buf, 1, cap - 1, f);
        fclose(f);
        buf[n] = '\0';
        found = strstr(buf, needle) != NULL;
    }
    closedir(d);
    return found;
}

static void assert_summary(const char *err, const char *prefix, int fetched, int skipped,
                           int deleted)
{
    char pattern[256];
    snprintf(pattern, sizeof pattern,
             "pop3: %sfetched %d, skipped %d, deleted %d, [0-9]+ octets, [0-9]+\\.[0-9] seconds\n$",
             prefix, fetched, skipped, deleted);
    regex_t re;
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED), 0);
    int m = regexec(&re, err, 0, NULL, 0);
    regfree(&re);
    cr_assert_eq(m, 0, "want /%s/ in:\n%s", pattern, err);
}

static cli_result *fetch(const char *extra1, const char *extra2, const char *extra3)
{
    char md[96];
    snprintf(md, sizeof md, "%s/Mail", root);
    return cli_run(CLI_ARGS("-H", hostport, "-u", "me", "fetch", md, (char *)extra1, (char *)extra2,
                            (char *)extra3));
}

Test(cli_fetch, lf_line_ends_unstuffed_and_a_summary)
{
    cli_server *s = serve(0);
    cli_result *r = fetch(NULL, NULL, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_eq(count_in("new"), 3);
    cr_assert_eq(count_in("tmp"), 0);
    char buf[4096];
    cr_assert(stored_with("Subject: one", buf, sizeof buf));
    cr_assert_str_eq(buf, "Subject: one\n\n.stuffed\nline\n");
    assert_summary(r->err, "", 3, 0, 0);
    cr_assert(strstr(r->err, " 993 octets") != NULL, "octets as transferred: %s", r->err);
    finish(s, r);
}

Test(cli_fetch, keep_crlf_stores_the_octets_as_transferred)
{
    cli_server *s = serve(0);
    cli_result *r = fetch("--keep-crlf", NULL, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    char buf[4096];
    cr_assert(stored_with("Subject: one", buf, sizeof buf));
    cr_assert_str_eq(buf, "Subject: one\r\n\r\n.stuffed\r\nline\r\n");
    finish(s, r);
}

Test(cli_fetch, max_size_and_max_messages)
{
    cli_server *s = serve(0);
    cli_result *r = fetch("--max-size", "100", NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_eq(count_in("new"), 2);
    assert_summary(r->err, "", 2, 1, 0);
    cr_assert_null(strstr(cli_server_log(s), "RETR 3"));
    free(r);
    r = fetch("--max-messages", "1", NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_eq(count_in("new"), 3);
    assert_summary(r->err, "", 1, 2, 0);
    finish(s, r);
}

Test(cli_fetch, delete_counts_what_quit_removed)
{
    cli_server *s = serve(0);
    cli_result *r = fetch("--delete", NULL, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    assert_summary(r->err, "", 3, 0, 3);
    cr_assert(strstr(cli_server_log(s), "DELE 1\n") && strstr(cli_server_log(s), "DELE 3\nQUIT\n"),
              "%s", cli_server_log(s));
    finish(s, r);
}

static char *slurp_state(const char *path)
{
    static char text[4096];
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

/* The state holds this account's UIDs the server still lists; other accounts stay. */
Test(cli_fetch, uidl_state_per_account_pruned)
{
    cli_server *s = serve(0);
    char state[96], account[96];
    snprintf(state, sizeof state, "%s/state", root);
    snprintf(account, sizeof account, "account me@127.0.0.1:%u\n", s->port);
    FILE *f = fopen(state, "w");
    fprintf(f, "pop3-uidl-state 1\naccount other@127.0.0.1:%u\nuid u1\n%suid gone\nuid u2\n",
            s->port, account);
    fclose(f);
    cli_result *r = fetch("--uidl-state", state, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_eq(count_in("new"), 2, "u2 was fetched before");
    assert_summary(r->err, "", 2, 1, 0);
    char *text = slurp_state(state);
    cr_assert(strstr(text, "uid gone") == NULL, "pruned: %s", text);
    char *mine = strstr(text, account);
    cr_assert_not_null(mine, "%s", text);
    cr_assert(strstr(mine, "uid u1\n") && strstr(mine, "uid u2\n") && strstr(mine, "uid u3\n"),
              "%s", text);
    cr_assert(strstr(text, "other@127.0.0.1") != NULL, "the other account stays: %s", text);
    free(r);
    r = fetch("--uidl-state", state, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    assert_summary(r->err, "", 0, 3, 0);
    finish(s, r);
}

/* Wait until the server has seen `what`. */
static void wait_for(cli_server *s, const char *what)
{
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&s->lock);
        bool seen = strstr(s->log, what) != NULL;
        pthread_mutex_unlock(&s->lock);
        if (seen) return;
        usleep(5000);
    }
    cr_assert_fail("the server never saw %s", what);
}

/*
 * A signal in the middle of message 3 (dripped one line every 40 ms): the message in
 * hand is dropped, the two complete ones are in new/, nothing stays in tmp/, the state
 * names them, the summary says so, and the status is 128 + the signal. The next run
 * fetches only what is left.
 */
static void interrupted(int sig, int want_status, const char *said)
{
    cli_server *s = serve(40);
    char md[96], state[96];
    snprintf(md, sizeof md, "%s/Mail", root);
    snprintf(state, sizeof state, "%s/state", root);
    char out[64], err[64];
    pid_t pid = cli_start(CLI_ARGS("-H", hostport, "-u", "me", "fetch", md, "--uidl-state", state),
                          out, err);
    wait_for(s, "RETR 3\n");
    usleep(200000); /* a few lines of message 3 are in tmp/ */
    /* Message 3 is being written; 1 and 2 may wait there for their batch's sync. */
    cr_assert_geq(count_in("tmp"), 1, "message 3 is being written");
    kill(pid, sig);
    cli_result *r = calloc(1, sizeof *r);
    cli_wait(pid, out, err, r);
    cr_assert_eq(r->status, want_status, "%s", r->err);
    cr_assert_eq(count_in("tmp"), 0, "nothing half-written stays");
    cr_assert_eq(count_in("new"), 2);
    assert_summary(r->err, said, 2, 1, 0);
    char *text = slurp_state(state);
    cr_assert(strstr(text, "uid u1\n") && strstr(text, "uid u2\n"), "%s", text);
    cr_assert_null(strstr(text, "uid u3"), "%s", text);
    free(r);
    s->drip_ms = 0;
    r = fetch("--uidl-state", state, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_eq(count_in("new"), 3);
    assert_summary(r->err, "", 1, 2, 0);
    finish(s, r);
}

Test(cli_fetch, sigint_keeps_the_progress, .timeout = 60)
{
    interrupted(SIGINT, 130, "interrupted by SIGINT: ");
}

Test(cli_fetch, sigterm_keeps_the_progress, .timeout = 60)
{
    interrupted(SIGTERM, 143, "interrupted by SIGTERM: ");
}
