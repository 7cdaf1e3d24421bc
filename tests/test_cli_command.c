/*
 * test_cli_command.c - the `pop3` program as a user meets it: command-line conventions
 * (help, version, usage errors), server addresses and URLs, password sources, the
 * default I/O timeout, the -v trace, listings with duplicate message numbers (RFC 1939
 * section 7 LIST; Q45), local errors of `fetch` (exit status 5), and the -v line
 * naming the TLS version and cipher (implicit TLS and STLS against pop3-mock).
 */
#include "cli_run.h"

#include <regex.h>

#include "pop3/client.h"
#include "pop3/error.h"
#include "pop3/parse.h"

static const cli_rule login_rules[] = {
    {"CAPA", "-ERR no CAPA here\r\n"},
    {"USER *", "+OK\r\n"},
    {"PASS secret", "+OK logged in\r\n"},
    {"PASS *", "-ERR [AUTH] wrong password\r\n"},
    {"STAT", "+OK 2 300\r\n"},
    {"NOOP", "+OK\r\n"},
    {"RETR 1", "+OK\r\nSubject: a\r\n\r\nbody without end" CLI_HANG},
};

static char hostport[64];

static cli_server *serve(const cli_rule *rules, size_t n)
{
    cli_server *s = calloc(1, sizeof *s);
    s->rules = rules;
    s->nrules = n;
    cli_server_start(s);
    snprintf(hostport, sizeof hostport, "127.0.0.1:%u", s->port);
    setenv("POP3_PASSWORD", "secret", 1);
    return s;
}

static void done(cli_server *s, cli_result *r)
{
    cli_server_stop(s);
    free(s);
    free(r);
}

/* Conventions
 * ----------- */

Test(cli_conventions, version_is_one_format_on_stdout)
{
    cli_result *r = cli_run(CLI_ARGS("--version"));
    cr_assert_eq(r->status, 0);
    cr_assert_str_eq(r->out, "pop3 (pop3kit) " POP3KIT_VERSION "\n");
    cr_assert_str_eq(r->err, "");
    free(r);
}

Test(cli_conventions, help_on_stdout_names_the_default_timeout)
{
    const char *forms[] = {"--help", "-h"};
    for (size_t i = 0; i < 2; i++) {
        cli_result *r = cli_run(CLI_ARGS((char *)forms[i]));
        cr_assert_eq(r->status, 0);
        cr_assert_str_eq(r->err, "");
        cr_assert(strstr(r->out, "--timeout SECONDS") != NULL);
        char want[64];
        snprintf(want, sizeof want, "default %d; 0: none", POP3_DEFAULT_TIMEOUT_MS / 1000);
        cr_assert(strstr(r->out, want) != NULL, "%s", r->out);
        cr_assert(strstr(r->out, "5 local") != NULL, "exit status 5 documented");
        free(r);
    }
}

/* A usage error: exactly two lines, the reason and the hint, and exit status 2. */
static void usage_error(char *const *argv, const char *reason)
{
    cli_result *r = cli_run(argv);
    char want[256];
    snprintf(want, sizeof want, "pop3: %s\ntry 'pop3 --help'\n", reason);
    cr_assert_eq(r->status, 2, "%s", r->err);
    cr_assert_str_eq(r->err, want);
    cr_assert_str_eq(r->out, "");
    free(r);
}

Test(cli_conventions, usage_errors_are_one_line_and_a_hint)
{
    usage_error(CLI_ARGS("-H", "h", "--delete", "stat"), "--delete is only for fetch");
    usage_error(CLI_ARGS("--delete", "-H", "h", "stat"), "--delete is only for fetch");
    usage_error(CLI_ARGS("-H", "h", "--max-size", "9", "list"), "--max-size is only for fetch");
    usage_error(CLI_ARGS("--bogus", "stat"), "unknown option '--bogus'");
    usage_error(CLI_ARGS("-H", "h", "-x", "stat"), "unknown option '-x'");
    usage_error(CLI_ARGS("stat", "-H"), "option '-H' needs a value");
    usage_error(CLI_ARGS("-H", "h", "stat", "--timeout"), "option '--timeout' needs a value");
    usage_error(CLI_ARGS("-H", "h", "--timeout", "-1", "stat"),
                "--timeout wants seconds from 0 (no timeout) to 86400, not '-1'");
    usage_error(CLI_ARGS("-H", "h", "frobnicate"), "unknown command 'frobnicate'");
    usage_error(CLI_ARGS("-H", "h"), "no command");
    usage_error(CLI_ARGS("stat"), "no server: -H HOST or -H pop3://HOST");
    usage_error(CLI_ARGS("-H", "h:0", "stat"), "-H 'h:0': the port must be 1 to 65535");
    usage_error(CLI_ARGS("-H", "pop3://u:pw@h", "stat"),
                "'pop3://u:pw@h': no password in a URL, please (it shows in process lists); "
                "use --password-command or --password-file");
    usage_error(CLI_ARGS("-H", "imap://h", "stat"), "'imap://': only pop3:// and pop3s:// URLs");
}

/* Numbers on the command line
 * --------------------------- */

/* One past the largest 64-bit number. */
#define TWO_TO_64  "18446744073709551616"
#define UINT64_TOP "18446744073709551615"

Test(cli_numbers, options_past_their_range_or_signed)
{
    const char *timeout_bad[] = {TWO_TO_64, "-1",  "86401", "86400.001", "1e3", "0x10", " 5",
                                 "inf",     "nan", ".5",    "5.",        "+5",  ""};
    for (size_t i = 0; i < sizeof timeout_bad / sizeof timeout_bad[0]; i++) {
        char want[160];
        snprintf(want, sizeof want,
                 "--timeout wants seconds from 0 (no timeout) to 86400, not '%s'", timeout_bad[i]);
        usage_error(CLI_ARGS("-H", "h", "--timeout", (char *)timeout_bad[i], "stat"), want);
    }
    const char *count_bad[] = {TWO_TO_64, "-1", "0", "1x", "+1", " 1", "0x1"};
    for (size_t i = 0; i < sizeof count_bad / sizeof count_bad[0]; i++) {
        char want[160];
        snprintf(want, sizeof want,
                 "--max-messages wants a number from 1 to " UINT64_TOP ", not '%s'", count_bad[i]);
        usage_error(CLI_ARGS("-H", "h", "--max-messages", (char *)count_bad[i], "fetch", "d"),
                    want);
        snprintf(want, sizeof want, "--max-size wants a number from 1 to " UINT64_TOP ", not '%s'",
                 count_bad[i]);
        usage_error(CLI_ARGS("-H", "h", "--max-size", (char *)count_bad[i], "fetch", "d"), want);
    }
    usage_error(CLI_ARGS("-H", "h", "-p", "65536", "stat"),
                "--port wants a number from 1 to 65535, not '65536'");
    usage_error(CLI_ARGS("-H", "h", "-p", TWO_TO_64, "stat"),
                "--port wants a number from 1 to 65535, not '" TWO_TO_64 "'");
    usage_error(CLI_ARGS("-H", "h:" TWO_TO_64, "stat"),
                "-H 'h:" TWO_TO_64 "': the port must be 1 to 65535");
}

Test(cli_numbers, options_at_their_limits)
{
    cli_server *s = serve(login_rules, sizeof login_rules / sizeof login_rules[0]);
    const char *ok[] = {"86400", "0.25", "007", "86400.000000000000000000001"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cli_result *r =
            cli_run(CLI_ARGS("-H", hostport, "-u", "me", "--timeout", (char *)ok[i], "stat"));
        cr_assert_eq(r->status, 0, "--timeout %s: %s", ok[i], r->err);
        free(r);
    }
    /* The largest counts are taken: fetch goes on to find its folder is a file (exit 5). */
    char file[] = "/tmp/pop3kit-notdir-XXXXXX";
    close(mkstemp(file));
    cli_result *r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "--max-messages", UINT64_TOP,
                                     "--max-size", UINT64_TOP, "fetch", file));
    cr_assert_eq(r->status, 5, "%s", r->err);
    unlink(file);
    done(s, r);
}

Test(cli_numbers, message_numbers_and_line_counts)
{
    usage_error(CLI_ARGS("-H", "h", "retr", TWO_TO_64),
                "retr: the message number must be a number from 1 to " UINT64_TOP
                ", not '" TWO_TO_64 "'");
    usage_error(CLI_ARGS("-H", "h", "retr", "--", "-1"),
                "retr: the message number must be a number from 1 to " UINT64_TOP ", not '-1'");
    /* Without "--", getopt reads "-1" as an option; the message says what went wrong. */
    usage_error(CLI_ARGS("-H", "h", "retr", "-1"), "unknown option '-1' (numbers take no sign)");
    usage_error(CLI_ARGS("-H", "h", "dele", "0"),
                "dele: the message number must be a number from 1 to " UINT64_TOP ", not '0'");
    usage_error(CLI_ARGS("-H", "h", "list", "+1"),
                "list: the message number must be a number from 1 to " UINT64_TOP ", not '+1'");
    usage_error(CLI_ARGS("-H", "h", "uidl", " 1"),
                "uidl: the message number must be a number from 1 to " UINT64_TOP ", not ' 1'");
    usage_error(CLI_ARGS("-H", "h", "top", "1", TWO_TO_64),
                "top: the line count must be a number from 0 to " UINT64_TOP ", not '" TWO_TO_64
                "'");
    usage_error(CLI_ARGS("-H", "h", "retr"), "usage: pop3 [options] retr N");
    /* At the limit: sent as it is, and the server's answer decides. */
    static const cli_rule rules[] = {
        {"CAPA", "-ERR\r\n"},
        {"USER *", "+OK\r\n"},
        {"PASS *", "+OK\r\n"},
        {"RETR " UINT64_TOP, "-ERR no such message\r\n"},
        {"TOP 1 0", "+OK\r\nSubject: a\r\n.\r\n"},
    };
    cli_server *s = serve(rules, sizeof rules / sizeof rules[0]);
    cli_result *r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "retr", UINT64_TOP));
    cr_assert_eq(r->status, 1, "%s", r->err);
    cr_assert(strstr(r->err, "no such message") != NULL, "%s", r->err);
    free(r);
    r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "top", "1", "0"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_str_eq(r->out, "Subject: a\r\n");
    done(s, r);
}

/* Addresses and passwords
 * ----------------------- */

Test(cli_address, host_port_forms_and_urls)
{
    cli_server *s = serve(login_rules, sizeof login_rules / sizeof login_rules[0]);
    char url[96], port[16];
    snprintf(port, sizeof port, "%u", s->port);
    cli_result *r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "stat"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_str_eq(r->out, "2 300\n");
    free(r);
    snprintf(url, sizeof url, "pop3://me%%40example.org@127.0.0.1:%u/", s->port);
    r = cli_run(CLI_ARGS("-H", url, "stat"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(cli_server_log(s), "USER me@example.org\n") != NULL, "%s", cli_server_log(s));
    free(r);
    r = cli_run(CLI_ARGS("-H", "127.0.0.1", "-p", port, "-u", "me", "noop"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    free(r);
    done(s, NULL);
}

Test(cli_address, ipv6_literal_in_brackets)
{
    /* The address parses; an IPv6 loopback may be missing in a container, so only the
     * parsing is checked: the connect error names the literal without brackets. */
    cli_result *r = cli_run(CLI_ARGS("-H", "[::1]:1", "--timeout", "2", "-u", "me", "stat"));
    cr_assert_eq(r->status, 3, "%s", r->err);
    cr_assert(strstr(r->err, "::1") != NULL, "%s", r->err);
    free(r);
}

Test(cli_password, netrc_file_gives_user_and_password)
{
    cli_server *s = serve(login_rules, sizeof login_rules / sizeof login_rules[0]);
    unsetenv("POP3_PASSWORD");
    char netrc[] = "/tmp/pop3kit-netrc-XXXXXX";
    int fd = mkstemp(netrc);
    const char *text = "# test\nmachine other login x password y\n"
                       "machine 127.0.0.1\n  login me\n  password \"secret\"\n"
                       "default login anon password nothing\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    cli_result *r = cli_run(CLI_ARGS("-H", hostport, "--netrc-file", netrc, "stat"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(cli_server_log(s), "USER me\nPASS secret\n") != NULL, "%s", cli_server_log(s));
    free(r);
    /* A user given on the command line that the file does not know: the default entry
     * is for "anon" only, so no password: a clear error, nothing sent. */
    r = cli_run(CLI_ARGS("-H", hostport, "--netrc-file", netrc, "-u", "stranger", "stat"));
    cr_assert_eq(r->status, 2, "%s", r->err);
    free(r);
    unlink(netrc);
    done(s, NULL);
}

Test(cli_password, password_command_first_line)
{
    cli_server *s = serve(login_rules, sizeof login_rules / sizeof login_rules[0]);
    setenv("POP3_PASSWORD", "not-this-one", 1);
    cli_result *r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "--password-command",
                                     "printf 'secret\\nsecond line\\n'", "stat"));
    cr_assert_eq(r->status, 0, "the command wins over POP3_PASSWORD: %s", r->err);
    free(r);
    r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "--password-command", "exit 3", "stat"));
    cr_assert_eq(r->status, 2);
    cr_assert_str_eq(r->err, "pop3: --password-command: exit status 3\n");
    free(r);
    r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "--password-command", "true", "stat"));
    cr_assert_eq(r->status, 2);
    cr_assert_str_eq(r->err, "pop3: --password-command: printed no password\n");
    free(r);
    done(s, NULL);
}

/* Timeout
 * ------- */

/* The library's named default bounds every wait out of the box. */
Test(cli_timeout, library_default_is_named_and_bounded)
{
    pop3_options opt;
    pop3_options_default(&opt);
    cr_assert_eq(opt.timeout_ms, POP3_DEFAULT_TIMEOUT_MS);
    cr_assert_eq(opt.connect_timeout_ms, POP3_DEFAULT_CONNECT_TIMEOUT_MS);
    cr_assert(POP3_DEFAULT_TIMEOUT_MS > 0 && POP3_DEFAULT_TIMEOUT_MS <= 300000);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A server that never ends the body: the run ends with exit 3 and says why. */
Test(cli_timeout, retr_of_a_body_that_never_ends, .timeout = 30)
{
    cli_server *s = serve(login_rules, sizeof login_rules / sizeof login_rules[0]);
    double t0 = now_s();
    cli_result *r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "--timeout", "0.5", "retr", "1"));
    double took = now_s() - t0;
    cr_assert_eq(r->status, 3, "%s", r->err);
    cr_assert(strstr(r->err, "timeout") != NULL, "%s", r->err);
    cr_assert(took < 10, "took %.1f s", took);
    cr_assert(strncmp(r->out, "Subject: a\r\n\r\n", 14) == 0, "what arrived was written: %s",
              r->out);
    done(s, r);
}

Test(cli_timeout, zero_means_no_timeout)
{
    cli_server *s = serve(login_rules, sizeof login_rules / sizeof login_rules[0]);
    cli_result *r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "--timeout", "0", "stat"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    done(s, r);
}

/* Trace
 * ----- */

Test(cli_trace, v_shows_both_directions_password_masked)
{
    cli_server *s = serve(login_rules, sizeof login_rules / sizeof login_rules[0]);
    cli_result *r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "-v", "stat"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->err, "< +OK ready\n") != NULL, "%s", r->err);
    cr_assert(strstr(r->err, "> USER me\n") != NULL, "%s", r->err);
    cr_assert(strstr(r->err, "> PASS ****\n") != NULL, "%s", r->err);
    cr_assert(strstr(r->err, "< +OK logged in\n") != NULL, "%s", r->err);
    cr_assert(strstr(r->err, "> STAT\n< +OK 2 300\n") != NULL, "%s", r->err);
    cr_assert(strstr(r->err, "secret") == NULL, "the password never shows");
    done(s, r);
}

static const cli_rule listing_rules[] = {
    {"CAPA", "-ERR\r\n"},
    {"USER *", "+OK\r\n"},
    {"PASS *", "+OK\r\n"},
    {"RETR 1", "+OK\r\nSubject: a\r\n\r\n..dot\r\n.\r\n"},
};

Test(cli_trace, vv_adds_body_lines)
{
    cli_server *s = serve(listing_rules, sizeof listing_rules / sizeof listing_rules[0]);
    cli_result *r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "-v", "retr", "1"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->err, "< .dot") == NULL, "-v shows no body: %s", r->err);
    free(r);
    r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "-vv", "retr", "1"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->err, "< Subject: a\n< \n< .dot\n") != NULL, "%s", r->err);
    done(s, r);
}

/* Listings with duplicate numbers
 * ------------------------------- */

/* curl's test 993: message 95 listed a thousand times. */
Test(cli_listing, duplicates_and_zero_are_kept_out_and_named)
{
    static char list_reply[32768], uidl_reply[32768];
    size_t n = (size_t)snprintf(list_reply, sizeof list_reply, "+OK\r\n1 10\r\n");
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(list_reply + n, sizeof list_reply - n, "95 20\r\n");
    snprintf(list_reply + n, sizeof list_reply - n, "0 5\r\n.\r\n");
    snprintf(uidl_reply, sizeof uidl_reply, "+OK\r\n1 a\r\n2 b\r\n2 c\r\n.\r\n");
    cli_rule rules[] = {
        {"CAPA", "-ERR\r\n"}, {"USER *", "+OK\r\n"}, {"PASS *", "+OK\r\n"},
        {"LIST", list_reply}, {"UIDL", uidl_reply},
    };
    cli_server *s = serve(rules, sizeof rules / sizeof rules[0]);
    cli_result *r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "list"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_str_eq(r->out, "1 10\n95 20\n");
    cr_assert(strstr(r->err, "pop3: warning: LIST: the server listed message number 0 (1 line)") !=
                  NULL,
              "%s", r->err);
    cr_assert(strstr(r->err, "pop3: warning: LIST: the server listed message 95 1000 times") !=
                  NULL,
              "%s", r->err);
    free(r);
    r = cli_run(CLI_ARGS("-H", hostport, "-u", "me", "uidl"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_str_eq(r->out, "1 a\n2 b\n");
    cr_assert(strstr(r->err, "message 2 2 times") != NULL, "%s", r->err);
    done(s, r);
}

/* Local errors of fetch: exit status 5, the path and the OS error
 * ----------------------------------------------------------------- */

Test(cli_fetch_errors, a_file_where_the_maildir_should_be)
{
    char file[] = "/tmp/pop3kit-notdir-XXXXXX";
    close(mkstemp(file));
    cli_result *r = cli_run(CLI_ARGS("-H", "127.0.0.1:1", "-u", "me", "fetch", file));
    char want[256];
    snprintf(want, sizeof want, "pop3: %s: Not a directory\n", file);
    cr_assert_eq(r->status, 5, "%s", r->err);
    cr_assert_str_eq(r->err, want);
    free(r);
    /* A file where new/ should be. */
    unlink(file);
    mkdir(file, 0700);
    char sub[160];
    snprintf(sub, sizeof sub, "%s/new", file);
    close(open(sub, O_WRONLY | O_CREAT, 0600));
    r = cli_run(CLI_ARGS("-H", "127.0.0.1:1", "-u", "me", "fetch", file));
    snprintf(want, sizeof want, "pop3: %s: Not a directory\n", sub);
    cr_assert_eq(r->status, 5, "%s", r->err);
    cr_assert_str_eq(r->err, want);
    free(r);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", file);
    cr_assert_eq(system(cmd), 0);
}

Test(cli_fetch_errors, a_binary_state_file)
{
    char dir[] = "/tmp/pop3kit-state-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char state[128], md[128];
    snprintf(state, sizeof state, "%s/state", dir);
    snprintf(md, sizeof md, "%s/Mail", dir);
    FILE *f = fopen(state, "wb");
    fwrite("\x7f"
           "ELF\x02\x01\x01\0\0\0",
           1, 10, f);
    fclose(f);
    cli_result *r =
        cli_run(CLI_ARGS("-H", "127.0.0.1:1", "-u", "me", "fetch", md, "--uidl-state", state));
    cr_assert_eq(r->status, 5, "%s", r->err);
    char want[256];
    snprintf(want, sizeof want, "pop3: %s: line 1 holds a NUL or CR: not a UIDL state file", state);
    cr_assert(strncmp(r->err, want, strlen(want)) == 0, "%s", r->err);
    cr_assert(strchr(r->err, '\n') == r->err + strlen(r->err) - 1, "one line: %s", r->err);
    free(r);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* A state file that cannot be written is found before anything is fetched (as root
 * too: /sys refuses new files to everyone). */
Test(cli_fetch_errors, an_unwritable_state_file_stops_before_fetching)
{
    struct stat st;
    if (stat("/sys/kernel", &st) != 0) cr_skip_test("no /sys here");
    int probe = open("/sys/pop3kit-state.probe", O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (probe >= 0) {
        close(probe);
        unlink("/sys/pop3kit-state.probe");
        cr_skip_test("/sys accepts new files here");
    }
    int refused = errno;
    cli_server *s = serve(login_rules, sizeof login_rules / sizeof login_rules[0]);
    char dir[] = "/tmp/pop3kit-state-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    cli_result *r = cli_run(
        CLI_ARGS("-H", hostport, "-u", "me", "fetch", dir, "--uidl-state", "/sys/pop3kit-state"));
    char want[256];
    snprintf(want, sizeof want, "pop3: /sys/pop3kit-state: cannot be saved: %s\n",
             strerror(refused));
    cr_assert_eq(r->status, 5, "%s", r->err);
    cr_assert_str_eq(r->err, want);
    cr_assert_eq(s->sessions, 0, "nothing fetched: the server was never contacted");
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    done(s, r);
}

/* pop3-mock with a self-signed certificate for 127.0.0.1, serving one session (--once)
 * with implicit TLS or with STLS; returns its port. The certificate (c.pem) and the
 * mock's output stay in `dir` for the test to use and remove. */
static unsigned start_tls_mock(char *dir, bool implicit)
{
#ifndef POP3_MOCK_BIN
    (void)dir, (void)implicit;
    cr_skip_test("no pop3-mock in this build");
    return 0;
#else
    if (system("command -v openssl >/dev/null") != 0) cr_skip_test("no openssl command");
    cr_assert_not_null(mkdtemp(dir));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem "
             "-days 1 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 "
             "&& mkdir -p md/new md/cur md/tmp && printf 'Subject: a\\n\\nhi\\n' > md/new/1 && "
             "{ '%s' --maildrop md --user u --password p --tls-cert c.pem --tls-key k.pem %s "
             "--once --listen 127.0.0.1:0 --port-file port > out 2>&1 & }",
             dir, POP3_MOCK_BIN, implicit ? "--implicit-tls" : "");
    cr_assert_eq(system(cmd), 0);
    /* The port file is written (atomically) once the mock accepts connections. */
    char path[128], port[16] = "";
    snprintf(path, sizeof path, "%s/port", dir);
    for (int i = 0; i < 200 && port[0] == '\0'; i++) {
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(port, sizeof port, f)) port[0] = '\0';
            fclose(f);
        }
        if (port[0] == '\0') usleep(50000);
    }
    cr_assert(port[0] != '\0', "pop3-mock wrote no port file");
    uint64_t v = 0;
    port[strcspn(port, "\n")] = '\0';
    cr_assert_eq(pop3_parse_number(port, strlen(port), &v), POP3_OK, "port file: %s", port);
    cr_assert(v > 0 && v <= 65535);
    return (unsigned)v;
#endif
}

static void remove_dir(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* A certificate that cannot be verified: exit 3, OpenSSL's reason, and a hint at
 * --cafile and --insecure (pop3-mock serves implicit TLS with a self-signed one). */
Test(cli_trace, certificate_failure_hints_at_cafile, .timeout = 60)
{
    char dir[] = "/tmp/pop3kit-cert-XXXXXX";
    unsigned port = start_tls_mock(dir, true);
    char url[64];
    snprintf(url, sizeof url, "pop3s://u@127.0.0.1:%u", port);
    setenv("POP3_PASSWORD", "p", 1);
    cli_result *r = cli_run(CLI_ARGS("-H", url, "--timeout", "10", "stat"));
    cr_assert_eq(r->status, 3, "%s", r->err);
    cr_assert(strstr(r->err, "certificate") != NULL, "%s", r->err);
    cr_assert(strstr(r->err, "--cafile") && strstr(r->err, "--insecure"), "%s", r->err);
    free(r);
    /* --once: the mock ends after this session. */
    remove_dir(dir);
}

/* The -v line of the TLS session names its protocol version and cipher suite, for
 * implicit TLS (RFC 8314 section 3.1) and STLS (RFC 2595 section 4); it comes right
 * after the handshake: before the greeting, or after the STLS +OK. */
static void tls_line_names_version_and_cipher(bool implicit)
{
    char dir[] = "/tmp/pop3kit-tlsv-XXXXXX";
    unsigned port = start_tls_mock(dir, implicit);
    char hp[64], cafile[64];
    snprintf(hp, sizeof hp, "127.0.0.1:%u", port);
    snprintf(cafile, sizeof cafile, "%s/c.pem", dir);
    setenv("POP3_PASSWORD", "p", 1);
    cli_result *r = implicit ? cli_run(CLI_ARGS("-H", hp, "--tls", "--cafile", cafile, "-u", "u",
                                                "--timeout", "10", "-v", "stat"))
                             : cli_run(CLI_ARGS("-H", hp, "--starttls", "--cafile", cafile, "-u",
                                                "u", "--timeout", "10", "-v", "stat"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_str_eq(r->out, "1 18\n");
    regex_t re;
    cr_assert_eq(regcomp(&re, "^\\* TLS established: (TLSv1\\.[23]), ([A-Za-z0-9_-]+)$",
                         REG_EXTENDED | REG_NEWLINE),
                 0);
    regmatch_t m[3];
    cr_assert_eq(regexec(&re, r->err, 3, m, 0), 0, "no TLS line naming version and cipher:\n%s",
                 r->err);
    regfree(&re);
    /* Only one TLS line, in its place. */
    const char *line = r->err + m[0].rm_so;
    const char *end = r->err + m[0].rm_eo;
    cr_assert(strstr(end, "TLS established") == NULL, "%s", r->err);
    const char *before = implicit ? "* connect 127.0.0.1" : "< +OK Begin TLS";
    const char *after = implicit ? "< +OK POP3 server ready" : "> CAPA";
    const char *b = strstr(r->err, before);
    cr_assert(b != NULL && b < line && strncmp(end, "\n", 1) == 0 &&
                  strncmp(end + 1, after, strlen(after)) == 0,
              "%s", r->err);
    free(r);
    remove_dir(dir);
}

Test(cli_trace, tls_line_names_version_and_cipher_implicit, .timeout = 60)
{
    tls_line_names_version_and_cipher(true);
}

Test(cli_trace, tls_line_names_version_and_cipher_stls, .timeout = 60)
{
    tls_line_names_version_and_cipher(false);
}
