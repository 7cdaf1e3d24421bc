/* mockcheck - embed pop3kit's mock server library (libpop3mock) in a program of your own.
 *
 * A test of a POP3 client does not always need a socket: a mock session is sans-I/O, fed
 * the octets a client sends and handing back the octets a server answers. This program
 * plays the two kinds of session the library has, in memory:
 *  - a maildrop session (a correct RFC 1939 server) over a message added in memory, and
 *  - a script session (a dialogue, as pop3-mock SCRIPT plays it), once with a client that
 *    follows the script and once with one that does not, whose report it prints.
 * Exit status 0 when every outcome is the expected one, 1 otherwise.
 * Build: examples/mock_embed/CMakeLists.txt (find_package), or
 *   cc mockcheck.c $(pkg-config --cflags --libs pop3mock)
 */
#include <pop3mock/maildrop.h>
#include <pop3mock/script.h>
#include <pop3mock/session.h>
#include <stdio.h>
#include <string.h>

static int failures;

static void expect(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    if (!ok) failures++;
}

static void maildrop_session(void)
{
    pop3mock_maildrop md;
    if (pop3mock_maildrop_init(&md, "alice", "secret") != 0) {
        expect(0, "maildrop: init");
        return;
    }
    static const char msg[] = "Subject: hello\r\n\r\nHi.\r\n";
    pop3mock_maildrop_add(&md, "1.eml", msg, sizeof msg - 1);
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    pop3mock_session *s = pop3mock_maildrop_session_new(&md, &opt, "<1.1@mockcheck>");
    static const char in[] = "USER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n";
    char out[4096];
    size_t n = s != NULL ? pop3mock_session_run(s, in, sizeof in - 1, out, sizeof out - 1) : 0;
    out[n < sizeof out ? n : sizeof out - 1] = '\0';
    char stat[64];
    snprintf(stat, sizeof stat, "+OK 1 %zu\r\n", sizeof msg - 1);
    expect(strncmp(out, "+OK", 3) == 0, "maildrop: greeting");
    expect(strstr(out, stat) != NULL, "maildrop: STAT counts the message in octets");
    pop3mock_session_free(s);
    pop3mock_maildrop_free(&md);
}

static const char dialogue[] = "S: +OK ready\n"
                               "C: USER alice\n"
                               "S: +OK\n"
                               "C: PASS {*}\n"
                               "S: +OK\n"
                               "C: STAT\n"
                               "S: +OK 0 0\n"
                               "C: QUIT\n"
                               "S: +OK bye\n";

/* Play the dialogue against `in`; returns the script's verdict, prints a departure. */
static pop3mock_script_result play(const pop3mock_script *sc, const char *in)
{
    pop3mock_limits lim;
    pop3mock_limits_default(&lim);
    pop3mock_session *s = pop3mock_script_session_new(sc, 0, &lim, "<1.1@mockcheck>", false);
    if (s == NULL) return POP3MOCK_SCRIPT_RUNNING;
    char out[4096];
    pop3mock_session_run(s, in, strlen(in), out, sizeof out);
    pop3mock_script_result r = pop3mock_script_session_finish(s, "end of input");
    const char *report;
    pop3mock_script_session_result(s, &report);
    if (r == POP3MOCK_SCRIPT_DEPARTED) printf("the mock's report:\n%s", report);
    pop3mock_session_free(s);
    return r;
}

static void script_sessions(void)
{
    char err[512];
    pop3mock_script *sc =
        pop3mock_script_parse("dialogue", dialogue, sizeof dialogue - 1, err, sizeof err);
    if (sc == NULL) {
        printf("%s\n", err);
        expect(0, "script: parse");
        return;
    }
    expect(play(sc, "USER alice\r\nPASS x\r\nSTAT\r\nQUIT\r\n") == POP3MOCK_SCRIPT_PASSED,
           "script: a client that follows passes");
    expect(play(sc, "USER alice\r\nPASS x\r\nLIST\r\nQUIT\r\n") == POP3MOCK_SCRIPT_DEPARTED,
           "script: a client that sends LIST for STAT departs");
    pop3mock_script_free(sc);
    expect(pop3mock_script_parse("bad", "X: nonsense\n", 12, err, sizeof err) == NULL &&
               strstr(err, "bad:1") != NULL,
           "script: an error names the line");
}

int main(void)
{
    maildrop_session();
    script_sessions();
    printf("%s\n", failures == 0 ? "all as expected" : "unexpected outcomes");
    return failures == 0 ? 0 : 1;
}
