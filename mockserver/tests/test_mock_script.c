/*
 * test_mock_script.c - the dialogue script parser (every error message) and the script
 * session (matching, captures, APOP / CRAM-MD5 answers, escapes, faults, TLS, several
 * sessions, departure reports), driven in memory.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_support.h"
#include "pop3/digest.h"
#include "pop3mock/script.h"

static pop3mock_script *parse(const char *text)
{
    char err[512] = "";
    pop3mock_script *sc = pop3mock_script_parse("t.pop3", text, strlen(text), err, sizeof err);
    cr_assert(sc != NULL, "parse failed: %s", err);
    return sc;
}

static const struct {
    const char *script;
    const char *error;
} bad_scripts[] = {
    {"", "t.pop3:1: the script has no S: or C: line: expected a dialogue"},
    {"# only a comment\n", "t.pop3:1: the script has no S: or C: line: expected a dialogue"},
    {"S: +OK\nX: nope\n", "t.pop3:2: expected \"S:\", \"C:\", \"C=\", \"C~\", a !directive or a "
                          "# comment, got \"X: nope\""},
    {"S: +OK \\q\n", "t.pop3:1: bad escape \"\\q\": expected \\r \\n \\t \\0 \\xNN \\\\ \\{ \\} "
                     "\\s, or \\c at the end of an S: line"},
    {"S: +OK \\x4\n", "t.pop3:1: bad escape \"\\x4\": expected two hex digits after \\x"},
    {"S: +OK \\xZZ\n", "t.pop3:1: bad escape \"\\xZZ\": expected two hex digits after \\x"},
    {"S: +OK \\\n", "t.pop3:1: a line cannot end with a lone \"\\\": expected \\r \\n \\t \\0 "
                    "\\xNN \\\\ \\{ \\} \\s, or \\c at the end of an S: line"},
    {"S: +OK \\c more\n", "t.pop3:1: \\c (no CRLF) is only allowed at the very end of an S: line"},
    {"C: USER x\\c\n", "t.pop3:1: \\c (no CRLF) is only allowed at the very end of an S: line"},
    {"S: +OK {\n", "t.pop3:1: unclosed \"{\": expected {name}, {*}, {word}, {digits} or "
                   "{name:*|word|digits} (\\{ for a brace)"},
    {"S: +OK {*}\n", "t.pop3:1: {*} matches client octets: only in C: lines; expected {name}, "
                     "{*}, {word}, {digits} or {name:*|word|digits}"},
    {"C: USER {a b}\n", "t.pop3:1: bad {a b}: expected {name}, {*}, {word}, {digits} or "
                        "{name:*|word|digits}"},
    {"C: USER {n:foo}\n", "t.pop3:1: unknown class in {n:foo}: expected *, word or digits"},
    {"C: USER {a b:*}\n", "t.pop3:1: bad capture name in {a b:*}: expected {name}, {*}, {word}, "
                          "{digits} or {name:*|word|digits} (names: letters, digits, _ and -)"},
    {"C: USER {apop:*}\n", "t.pop3:1: {apop:*}: apop is a builtin and cannot be captured into"},
    {"S: +OK {who}\n", "t.pop3:1: {who} is not defined here: expected a capture {who:...} in an "
                       "earlier C: line or a \"!set who ...\" before it"},
    {"C: APOP u {apop}\n", "t.pop3:1: {apop} needs a \"!secret USER SECRET\" line before it"},
    {"C: USER {u:word}\n!session\nS: {u}\n",
     "t.pop3:3: {u} is not defined here: expected a capture {u:...} in an earlier C: line or a "
     "\"!set u ...\" before it"},
    {"!bogus\n", "t.pop3:1: unknown directive \"!bogus\": expected one of !session !delay !drip "
                 "!split !flush !close !reset !half-close !close-after !stall !starttls "
                 "!implicit-tls !tls-abort !tls-garbage !tls-alert !tls-truncate !tls-cert "
                 "!tls-max !secret !set !optional"},
    {"!tls-bogus\n", "t.pop3:1: unknown directive \"!tls-bogus\": expected one of !session "
                     "!delay !drip !split !flush !close !reset !half-close !close-after !stall "
                     "!starttls !implicit-tls !tls-abort !tls-garbage !tls-alert !tls-truncate "
                     "!tls-cert !tls-max !secret !set !optional"},
    {"!delay\n", "t.pop3:1: !delay: expected a pause in milliseconds (0..3600000)"},
    {"!delay 5000000\n", "t.pop3:1: !delay: expected a pause in milliseconds (0..3600000)"},
    {"!drip 0 5\n", "t.pop3:1: !drip: expected octets per write (1..1048576) and a pause in "
                    "milliseconds, or \"off\""},
    {"!split\n", "t.pop3:1: !split: expected increasing octet offsets into the next S: line "
                 "(\"!split 1 5\"), optionally \"wait MS\" between the pieces"},
    {"!split 5 3\nS: x\n", "t.pop3:1: !split: expected increasing octet offsets into the next "
                           "S: line (\"!split 1 5\"), optionally \"wait MS\" between the pieces"},
    {"!split 2\nC: X\n", "t.pop3:2: the !split of line 1 applies to the next S: line: expected "
                         "an S: line before this C: line"},
    {"S: x\n!split 2\n", "t.pop3:2: !split applies to the next S: line: expected an S: line "
                         "after it"},
    {"!close now\n", "t.pop3:1: !close takes no argument"},
    {"!session 2\n", "t.pop3:1: !session takes no argument"},
    {"S: x\n!close\nS: y\n", "t.pop3:3: nothing can follow line 2 (the connection ends there): "
                             "expected !session"},
    {"S: x\n!implicit-tls\n", "t.pop3:2: !implicit-tls must come first in a session (the "
                              "handshake precedes the greeting): expected it before any S: or "
                              "C: line"},
    {"!close-after x\n", "t.pop3:1: !close-after: expected a number of octets"},
    {"!tls-abort 0\n", "t.pop3:1: !tls-abort: expected a number of octets"},
    {"!tls-abort 1073741825\n", "t.pop3:1: !tls-abort: expected a number of octets"},
    {"!tls-truncate 1073741825\n", "t.pop3:1: !tls-truncate: expected the octets of the server's "
                                   "handshake to send, then optionally \"stall\" "
                                   "(\"!tls-truncate 100 stall\")"},
    {"!tls-cert\n", "t.pop3:1: !tls-cert: expected a PEM certificate file and optionally its key "
                    "file, relative to the script's folder (\"!tls-cert server.pem server.key\")"},
    {"!tls-cert a b c\n", "t.pop3:1: !tls-cert: expected a PEM certificate file and optionally "
                          "its key file, relative to the script's folder (\"!tls-cert server.pem "
                          "server.key\")"},
    {"!tls-max 2.0\n", "t.pop3:1: !tls-max: expected 1.0, 1.1, 1.2, 1.3, or off for the "
                       "server's own setting"},
    {"!tls-max\n", "t.pop3:1: !tls-max: expected 1.0, 1.1, 1.2, 1.3, or off for the server's "
                   "own setting"},
    {"!tls-alert nope\n", "t.pop3:1: !tls-alert: expected an alert description: a number "
                          "(0..255) or a name such as handshake_failure, protocol_version, "
                          "internal_error"},
    {"!tls-alert 256\n", "t.pop3:1: !tls-alert: expected an alert description: a number "
                         "(0..255) or a name such as handshake_failure, protocol_version, "
                         "internal_error"},
    {"!tls-alert 40 41\n", "t.pop3:1: !tls-alert: expected an alert description: a number "
                           "(0..255) or a name such as handshake_failure, protocol_version, "
                           "internal_error"},
    {"!tls-truncate\n", "t.pop3:1: !tls-truncate: expected the octets of the server's handshake "
                        "to send, then optionally \"stall\" (\"!tls-truncate 100 stall\")"},
    {"!tls-truncate 5 forever\n", "t.pop3:1: !tls-truncate: expected the octets of the server's "
                                  "handshake to send, then optionally \"stall\" "
                                  "(\"!tls-truncate 100 stall\")"},
    {"!tls-garbage {timestamp}\n", "t.pop3:1: !tls-garbage: {timestamp} cannot be used here: "
                                   "expected octets and escapes"},
    {"!tls-garbage x\\q\n", "t.pop3:1: bad escape \"\\q\": expected \\r \\n \\t \\0 "
                            "\\xNN \\\\ \\{ \\} \\s, or \\c at the end of an S: line"},
    {"S: x\n!tls-alert\nS: y\n", "t.pop3:3: nothing can follow line 2 (the connection ends "
                                 "there): expected !session"},
    {"S: x\n!tls-truncate 9 stall\nC: QUIT\n", "t.pop3:3: nothing can follow line 2 (the "
                                               "connection ends there): expected !session"},
    {"!secret onlyuser\n", "t.pop3:1: !secret: expected a user name and a secret (\"!secret "
                           "mrose tanstaaf\")"},
    {"!optional CAPA\n", "t.pop3:1: !optional takes no argument: it marks the C: line after it"},
    {"S: +OK\n!optional\n", "t.pop3:2: !optional applies to the next C: line: expected a C: "
                            "line after it"},
    {"S: +OK\n!optional\nS: +OK\n", "t.pop3:3: the !optional of line 2 applies to the next C: "
                                    "line: expected a C: line, not an S: line"},
    {"S: +OK\n!optional\n!close\n", "t.pop3:3: the !optional of line 2 applies to the next C: "
                                    "line: expected a C: line, not !close"},
    {"S: +OK\n!optional\nC: <close connection>\n",
     "t.pop3:3: the !optional of line 2 applies to a command: expected a C: line with a "
     "command, not <close connection>"},
    {"S: +OK\n!optional\nC: USER {u:word}\nS: +OK\nC: QUIT\n",
     "t.pop3:3: an !optional C: line cannot capture {u:...}: expected a line without captures"},
    {"S: +OK\n!optional\nC: CAPA\nS: +OK\nS: .\n",
     "t.pop3:3: the optional exchange of line 3 must be followed by a C: line (what a client "
     "that leaves it out sends next): expected a C: line here"},
    {"S: +OK\n!optional\nC: CAPA\nS: +OK\n!close\n",
     "t.pop3:5: the optional exchange of line 3 must be followed by a C: line (what a client "
     "that leaves it out sends next): expected a C: line here"},
    {"!set apop 1\n", "t.pop3:1: !set: expected a variable name (letters, digits, _ and -, not a "
                      "builtin) and a value"},
};

Test(mock_script, every_parse_error)
{
    for (size_t i = 0; i < sizeof bad_scripts / sizeof bad_scripts[0]; i++) {
        char err[512] = "";
        const char *text = bad_scripts[i].script;
        pop3mock_script *sc = pop3mock_script_parse("t.pop3", text, strlen(text), err, sizeof err);
        cr_expect(sc == NULL, "row %zu parsed", i);
        cr_expect_str_eq(err, bad_scripts[i].error, "row %zu", i);
        pop3mock_script_free(sc);
    }
}

Test(mock_script, load_reports_missing_file)
{
    char err[256];
    cr_expect(pop3mock_script_load("/nonexistent/x.pop3", err, sizeof err) == NULL);
    cr_expect(strstr(err, "/nonexistent/x.pop3: ") == err, "%s", err);
}

/* Play session `index` of `sc` against `in`; returns the output, result in *r. */
static char *play(const pop3mock_script *sc, size_t index, const char *in,
                  pop3mock_script_result *r, char **report)
{
    pop3mock_session *s =
        pop3mock_script_session_new(sc, index, NULL, "<1.2.3@pop3kit.mock>", false);
    cr_assert(s != NULL);
    char *out = mock_run(s, in, NULL);
    const char *rep;
    *r = pop3mock_script_session_finish(s, "test");
    pop3mock_script_session_result(s, &rep);
    if (report != NULL) *report = strdup(rep);
    pop3mock_session_free(s);
    return out;
}

static const char rfc1939_10[] =
    "      S: <wait for connection on TCP port 110>\n"
    "      C: <open connection>\n"
    "      S:    +OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\n"
    "      C:    APOP mrose c4c9334bac560ecc979e58001b3e22fb\n"
    "      S:    +OK mrose's maildrop has 2 messages (320 octets)\n"
    "      C:    STAT\n"
    "      S:    +OK 2 320\n"
    "      C:    QUIT\n"
    "      S:    +OK dewey POP3 server signing off (maildrop empty)\n"
    "      C:  <close connection>\n"
    "      S:  <wait for next connection>\n";

Test(mock_script, rfc_dialogue_pastes_unchanged)
{
    pop3mock_script *sc = parse(rfc1939_10);
    cr_expect_eq(pop3mock_script_sessions(sc), 1);
    pop3mock_script_result r;
    char *out =
        play(sc, 0, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\nstat\r\nQUIT\r\n", &r, NULL);
    cr_expect_str_eq(out, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"
                          "+OK mrose's maildrop has 2 messages (320 octets)\r\n+OK 2 320\r\n"
                          "+OK dewey POP3 server signing off (maildrop empty)\r\n");
    cr_expect_eq(r, POP3MOCK_SCRIPT_PASSED);
    free(out);
    pop3mock_script_free(sc);
}

Test(mock_script, departure_report)
{
    pop3mock_script *sc = parse(rfc1939_10);
    pop3mock_script_result r;
    char *report;
    char *out = play(sc, 0, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\nLIST\r\n", &r, &report);
    cr_expect_eq(r, POP3MOCK_SCRIPT_DEPARTED);
    cr_expect(strstr(out, "-ERR [SYS/PERM] pop3-mock: not what the script expects at line 6\r\n"),
              "%s", out);
    cr_expect_str_eq(report,
                     "t.pop3:6: session 1: the client departed from the script\n"
                     "  expected: C:    STAT\n"
                     "  received: \"LIST\\r\\n\"\n"
                     "  transcript up to there:\n"
                     "    S: +OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\\r\\n\n"
                     "    C: APOP mrose c4c9334bac560ecc979e58001b3e22fb\n"
                     "    S: +OK mrose's maildrop has 2 messages (320 octets)\\r\\n\n"
                     "    C: LIST\n");
    free(report);
    free(out);
    /* The client leaving early is a departure too. */
    out = play(sc, 0, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n", &r, &report);
    cr_expect_eq(r, POP3MOCK_SCRIPT_DEPARTED);
    cr_expect(strstr(report, "received: the client closed the connection") != NULL, "%s", report);
    free(report);
    free(out);
    pop3mock_script_free(sc);
}

/* A script of `sessions` sessions, each defining `names` variables with !set. */
static char *many_names(size_t sessions, size_t names, size_t *len)
{
    char *text = malloc(sessions * (names * 24 + 16) + 1);
    cr_assert(text != NULL);
    size_t n = 0;
    for (size_t k = 0; k < sessions; k++) {
        if (k > 0) n += (size_t)sprintf(text + n, "!session\n");
        for (size_t i = 0; i < names; i++)
            n += (size_t)sprintf(text + n, "!set v%zu %zu\n", i, i);
        n += (size_t)sprintf(text + n, "S: +OK {v%zu}\n", names - 1);
    }
    *len = n;
    return text;
}

Test(mock_script, names_per_session_at_and_past_the_limit)
{
    /* 4096 names in a session (per session: two sessions of 4096 are fine); 4097 are
     * refused at parse, naming the line, so a running session never holds more. */
    char err[256] = "";
    size_t len;
    char *text = many_names(2, 4096, &len);
    pop3mock_script *sc = pop3mock_script_parse("t.pop3", text, len, err, sizeof err);
    cr_expect(sc != NULL, "%s", err);
    if (sc != NULL) {
        pop3mock_script_result r;
        char *out = play(sc, 1, "", &r, NULL);
        cr_expect_str_eq(out, "+OK 4095\r\n");
        free(out);
    }
    pop3mock_script_free(sc);
    free(text);
    text = many_names(1, 4097, &len);
    sc = pop3mock_script_parse("t.pop3", text, len, err, sizeof err);
    cr_expect(sc == NULL);
    cr_expect_str_eq(err, "t.pop3:4097: more than 4096 names (captures and !set) in one session");
    pop3mock_script_free(sc);
    free(text);
}

/* A script whose C: line is "USER " and `n` octets of 'x', then a session that sends
 * "USER y": the report of that departure. */
static char *report_for_long_line(size_t n)
{
    size_t len = 0;
    char *text = malloc(n + 64);
    cr_assert(text != NULL);
    len += (size_t)sprintf(text, "S: +OK\nC: USER ");
    memset(text + len, 'x', n);
    len += n;
    len += (size_t)sprintf(text + len, "\nS: +OK\n");
    char err[256];
    pop3mock_script *sc = pop3mock_script_parse("t.pop3", text, len, err, sizeof err);
    cr_assert(sc != NULL, "%s", err);
    free(text);
    pop3mock_script_result r;
    char *report;
    char *out = play(sc, 0, "USER y\r\n", &r, &report);
    cr_expect_eq(r, POP3MOCK_SCRIPT_DEPARTED);
    free(out);
    pop3mock_script_free(sc);
    return report;
}

Test(mock_script, departure_report_is_bounded)
{
    /* 65536 octets is the longest report. One that fits is whole; a part that would go
     * past the limit (a script line of 70000 octets) is left out, the rest (what was
     * received, the transcript) is kept, and the report says what happened. */
    static const char cut[] =
        "  (parts of this report are left out: it would be longer than 65536 octets)\n";
    char *whole = report_for_long_line(60000);
    cr_expect(strstr(whole, "  expected: C: USER xxx") != NULL);
    cr_expect(strstr(whole, "left out") == NULL);
    cr_expect(strstr(whole, "  received: \"USER y\\r\\n\"\n") != NULL, "%.200s", whole);
    free(whole);
    char *part = report_for_long_line(70000);
    cr_expect(strstr(part, "  expected:") == NULL);
    cr_expect(strstr(part, "  received: \"USER y\\r\\n\"\n  transcript up to there:\n") != NULL,
              "%s", part);
    size_t len = strlen(part);
    cr_expect(len <= 65536 + sizeof cut - 1);
    cr_expect(len > sizeof cut && strcmp(part + len - (sizeof cut - 1), cut) == 0, "%s", part);
    free(part);
}

Test(mock_script, matching_modes)
{
    pop3mock_script *sc = parse("S: +OK\nC: USER Mrose\nS: +OK\nC= PASS Secret\nS: +OK\n"
                                "C~ stat\nS: +OK\n");
    pop3mock_script_result r;
    char *out = play(sc, 0, "user Mrose\r\nPASS Secret\r\nSTAT\r\n", &r, NULL);
    cr_expect_eq(r, POP3MOCK_SCRIPT_PASSED, "%s", out);
    free(out);
    char *report;
    out = play(sc, 0, "user mrose\r\n", &r, &report);
    cr_expect_eq(r, POP3MOCK_SCRIPT_DEPARTED, "C: folds the keyword only");
    free(report);
    free(out);
    out = play(sc, 0, "USER Mrose\r\npass Secret\r\n", &r, &report);
    cr_expect_eq(r, POP3MOCK_SCRIPT_DEPARTED, "C= is exact");
    free(report);
    free(out);
    out = play(sc, 0, "USER Mrose\r\nPASS Secret\n", &r, &report);
    cr_expect_eq(r, POP3MOCK_SCRIPT_DEPARTED, "C= wants CRLF");
    cr_expect(strstr(report, "C= wants the line to end CRLF") != NULL, "%s", report);
    free(report);
    free(out);
    pop3mock_script_free(sc);
}

Test(mock_script, captures_and_variables)
{
    pop3mock_script *sc =
        parse("S: +OK\nC: USER {who:word}\nS: +OK hello {who}\nC: PASS {*}\n!set n 7\\s\n"
              "S: +OK {n}done\nC: RETR {m:digits}\nS: +OK {m}\n");
    pop3mock_script_result r;
    char *out = play(sc, 0, "USER bob\r\nPASS any thing\r\nRETR 12\r\n", &r, NULL);
    cr_expect_str_eq(out, "+OK\r\n+OK hello bob\r\n+OK 7 done\r\n+OK 12\r\n");
    cr_expect_eq(r, POP3MOCK_SCRIPT_PASSED);
    free(out);
    char *report;
    out = play(sc, 0, "USER bob\r\nPASS x\r\nRETR x1\r\n", &r, &report);
    cr_expect_eq(r, POP3MOCK_SCRIPT_DEPARTED);
    free(report);
    free(out);
    pop3mock_script_free(sc);
}

Test(mock_script, apop_and_cram_md5_answers)
{
    pop3mock_script *sc = parse("!secret mrose tanstaaf\n"
                                "S: +OK POP3 server ready {timestamp}\n"
                                "C: APOP {user} {apop}\n"
                                "S: -ERR try CRAM\n"
                                "C: AUTH CRAM-MD5\n"
                                "S: + PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\n"
                                "C: {cram-md5}\n"
                                "S: +OK\n");
    char apop[POP3_MD5_HEX_SIZE], cram[POP3_MD5_HEX_SIZE];
    const char *ts = "<1.2.3@pop3kit.mock>";
    pop3_apop_digest(ts, strlen(ts), "tanstaaf", 8, apop);
    const char *chal = "<1896.697170952@postoffice.reston.mci.net>";
    pop3_cram_md5_digest(chal, strlen(chal), "tanstaaf", 8, cram);
    char plain[128], b64[256];
    size_t n = 0;
    snprintf(plain, sizeof plain, "mrose %s", cram);
    pop3_base64_encode(plain, strlen(plain), b64, sizeof b64, &n);
    char in[512];
    snprintf(in, sizeof in, "APOP mrose %s\r\nAUTH CRAM-MD5\r\n%s\r\n", apop, b64);
    pop3mock_script_result r;
    char *out = play(sc, 0, in, &r, NULL);
    cr_expect_eq(r, POP3MOCK_SCRIPT_PASSED, "%s", out);
    cr_expect(strncmp(out, "+OK POP3 server ready <1.2.3@pop3kit.mock>\r\n", 44) == 0, "%s", out);
    free(out);
    /* An upper-case digest is not what RFC 1939 section 7 asks for. */
    for (char *p = in; *p != '\r'; p++)
        if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
    char *report;
    out = play(sc, 0, in, &r, &report);
    cr_expect_eq(r, POP3MOCK_SCRIPT_DEPARTED);
    cr_expect(strstr(report, "where {apop} = ") != NULL, "%s", report);
    free(report);
    free(out);
    pop3mock_script_free(sc);
}

Test(mock_script, escapes_and_line_ends)
{
    pop3mock_script *sc = parse("S: +OK a\\r\\nb\\0c\\x7f\\t\\\\\\{\\}\\s\\c\nS: +OK\\c\nS: \\n\n");
    pop3mock_script_result r;
    size_t len;
    pop3mock_session *s = pop3mock_script_session_new(sc, 0, NULL, "<a@b>", false);
    char *out = mock_run(s, "", &len);
    static const char want[] = "+OK a\r\nb\0c\x7f\t\\{} +OK\n\r\n";
    cr_expect_eq(len, sizeof want - 1);
    cr_expect(memcmp(out, want, sizeof want - 1) == 0);
    r = pop3mock_script_session_finish(s, "test");
    cr_expect_eq(r, POP3MOCK_SCRIPT_PASSED);
    free(out);
    pop3mock_session_free(s);
    pop3mock_script_free(sc);
}

/* Actions of a session with no client input, as a compact string. */
static void actions(const char *script, char *desc, size_t cap)
{
    pop3mock_script *sc = parse(script);
    pop3mock_session *s = pop3mock_script_session_new(sc, 0, NULL, "<a@b>", false);
    size_t k = 0;
    desc[0] = '\0';
    for (int i = 0; i < 64; i++) {
        pop3mock_action a;
        pop3mock_session_next(s, &a);
        switch (a.kind) {
        case POP3MOCK_ACT_SEND:
            k += (size_t)snprintf(desc + k, cap - k, "[%.*s]", (int)a.data.len, a.data.ptr);
            break;
        case POP3MOCK_ACT_WAIT: k += (size_t)snprintf(desc + k, cap - k, "wait%u ", a.ms); break;
        case POP3MOCK_ACT_START_TLS:
            k += (size_t)snprintf(desc + k, cap - k, "tls%u ",
                                  a.tls != NULL && a.tls->fault == POP3MOCK_TLS_ABORT ? a.tls->n
                                                                                      : 0u);
            break;
        case POP3MOCK_ACT_CLOSE: k += (size_t)snprintf(desc + k, cap - k, "close"); break;
        case POP3MOCK_ACT_RESET: k += (size_t)snprintf(desc + k, cap - k, "reset"); break;
        case POP3MOCK_ACT_HALF_CLOSE: k += (size_t)snprintf(desc + k, cap - k, "half "); break;
        case POP3MOCK_ACT_STALL: k += (size_t)snprintf(desc + k, cap - k, "stall"); break;
        case POP3MOCK_ACT_IDLE: k += (size_t)snprintf(desc + k, cap - k, "idle"); break;
        }
        if (a.kind == POP3MOCK_ACT_CLOSE || a.kind == POP3MOCK_ACT_RESET ||
            a.kind == POP3MOCK_ACT_STALL || a.kind == POP3MOCK_ACT_IDLE)
            break;
        pop3mock_session_ack(s, &a, a.data.len);
    }
    pop3mock_session_free(s);
    pop3mock_script_free(sc);
}

Test(mock_script, faults_become_actions)
{
    static const struct {
        const char *script, *want;
    } rows[] = {
        {"S: +OK a\nS: +OK b\n", "[+OK a\r\n+OK b\r\n]close"},
        {"S: +OK a\n!flush\nS: +OK b\n", "[+OK a\r\n][+OK b\r\n]close"},
        {"!delay 250\nS: +OK\n", "wait250 [+OK\r\n]close"},
        {"S: +OK a\n!delay 10\nS: +OK b\n", "[+OK a\r\n]wait10 [+OK b\r\n]close"},
        {"!split 1 3\nS: +OK\n", "[+][OK][\r\n]close"},
        {"!split 2 wait 5\nS: +OK\n", "[+O]wait5 [K\r\n]close"},
        {"!drip 2 0\nS: +OK\n", "[+O][K\r][\n]close"},
        {"!drip 2 3\nS: +OK\n!drip off\nS: x\n", "[+O]wait3 [K\r]wait3 [\n]wait3 [x\r\n]close"},
        {"S: +OK\n!close\n", "[+OK\r\n]close"},
        {"S: +OK\n!reset\n", "[+OK\r\n]reset"},
        {"S: +OK\n!half-close\nS: x\n", "[+OK\r\n]half [x\r\n]close"},
        {"S: +OK\n!stall\n", "[+OK\r\n]stall"},
        {"!close-after 3\nS: +OK a\n", "[+OK]close"},
        {"S: +OK\n!starttls\nS: +OK tls\n", "[+OK\r\n]tls0 [+OK tls\r\n]close"},
        {"!implicit-tls\nS: +OK\n", "tls0 [+OK\r\n]close"},
        {"S: +OK\n!tls-abort 10\n", "[+OK\r\n]tls10 close"},
        {"S: +OK\n!tls-alert\n", "[+OK\r\n]tls0 close"},
        {"S: +OK\n!tls-garbage\n", "[+OK\r\n]tls0 close"},
        {"S: +OK\n!tls-truncate 50\n", "[+OK\r\n]tls0 close"},
        {"S: +OK\n!tls-truncate 50 stall\n", "[+OK\r\n]tls0 stall"},
        /* POP3MOCK_TLS_FAULT_MAX (1 GiB) is the most a fault reads or sends. */
        {"S: +OK\n!tls-abort 1073741824\n", "[+OK\r\n]tls1073741824 close"},
        {"S: +OK\n!tls-truncate 1073741824\n", "[+OK\r\n]tls0 close"},
        {"S: +OK\nC: QUIT\n", "[+OK\r\n]idle"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char desc[512];
        actions(rows[i].script, desc, sizeof desc);
        cr_expect_str_eq(desc, rows[i].want, "row %zu: %s", i, rows[i].script);
    }
}

/* The plan of the next START_TLS of `s`, acknowledging every SEND before it. */
static const pop3mock_tls_plan *next_tls(pop3mock_session *s, pop3mock_action *a)
{
    bool fed = false;
    for (int i = 0; i < 64; i++) {
        pop3mock_session_next(s, a);
        if (a->kind == POP3MOCK_ACT_START_TLS) return a->tls;
        if (a->kind == POP3MOCK_ACT_IDLE && !fed) {
            pop3mock_session_feed(s, "STLS\r\n", 6); /* what session 1 waits for */
            fed = true;
            continue;
        }
        if (a->kind != POP3MOCK_ACT_SEND && a->kind != POP3MOCK_ACT_WAIT) break;
        pop3mock_session_ack(s, a, a->data.len);
    }
    cr_assert_fail("no START_TLS");
    return NULL;
}

static const char tls_script[] = "!tls-cert certs/a.pem\n"
                                 "S: +OK\n"
                                 "C: STLS\n"
                                 "S: +OK go\n"
                                 "!starttls\n"
                                 "C: QUIT\n"
                                 "!session\n"
                                 "!tls-max 1.1\n"
                                 "!tls-cert /abs/b.pem /abs/b.key\n"
                                 "S: +OK two\n"
                                 "!tls-alert protocol_version\n"
                                 "!session\n"
                                 "!tls-max off\n"
                                 "!tls-garbage \\x00abc\\s\n"
                                 "!session\n"
                                 "!tls-truncate 120 stall\n"
                                 "!session\n"
                                 "!tls-abort 7\n"
                                 "!session\n"
                                 "!tls-garbage\n"
                                 "!session\n"
                                 "!tls-alert 0\n";

Test(mock_script, tls_plans)
{
    char err[512] = "";
    pop3mock_script *sc =
        pop3mock_script_parse("dir/t.pop3", tls_script, strlen(tls_script), err, sizeof err);
    cr_assert(sc != NULL, "%s", err);
    cr_assert_eq(pop3mock_script_sessions(sc), 7);
    /* Certificates are named relative to the script's folder; absolute names stay. */
    const char *cert, *key;
    unsigned line;
    cr_assert(pop3mock_script_tls_cert(sc, 0, &cert, &key, &line));
    cr_expect_str_eq(cert, "dir/certs/a.pem");
    cr_expect(key == NULL && line == 1);
    cr_assert(pop3mock_script_tls_cert(sc, 1, &cert, &key, &line));
    cr_expect_str_eq(cert, "/abs/b.pem");
    cr_expect_str_eq(key, "/abs/b.key");
    cr_expect_eq(line, 9);
    cr_expect(!pop3mock_script_tls_cert(sc, 2, &cert, &key, &line));

    static const struct {
        pop3mock_tls_fault fault;
        unsigned n;
        bool stall;
        const char *cert;
        unsigned max;
        const char *garbage;
        size_t glen;
    } want[] = {
        {POP3MOCK_TLS_HANDSHAKE, 0, false, "dir/certs/a.pem", 0, NULL, 0},
        {POP3MOCK_TLS_ALERT, 70, false, "/abs/b.pem", POP3MOCK_TLS_1_1, NULL, 0},
        {POP3MOCK_TLS_GARBAGE, 0, false, "/abs/b.pem", 0, "\0abc ", 5},
        {POP3MOCK_TLS_TRUNCATE, 120, true, "/abs/b.pem", 0, NULL, 0},
        {POP3MOCK_TLS_ABORT, 7, false, "/abs/b.pem", 0, NULL, 0},
        {POP3MOCK_TLS_GARBAGE, 0, false, "/abs/b.pem", 0, "-ERR this is not TLS\r\n", 22},
        {POP3MOCK_TLS_ALERT, 0, false, "/abs/b.pem", 0, NULL, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        pop3mock_session *s = pop3mock_script_session_new(sc, i, NULL, "<a@b>", false);
        pop3mock_action a;
        const pop3mock_tls_plan *p = next_tls(s, &a);
        cr_assert(p != NULL, "session %zu", i);
        cr_expect_eq(p->fault, want[i].fault, "session %zu", i);
        cr_expect_eq(p->n, want[i].n, "session %zu", i);
        cr_expect_eq(p->stall, want[i].stall, "session %zu", i);
        cr_expect_str_eq(p->cert, want[i].cert, "session %zu", i);
        cr_expect_eq(p->max_version, want[i].max, "session %zu", i);
        if (want[i].garbage != NULL) {
            cr_expect_eq(p->garbage.len, want[i].glen, "session %zu", i);
            cr_expect(memcmp(p->garbage.ptr, want[i].garbage, want[i].glen) == 0);
        }
        pop3mock_session_free(s);
    }
    pop3mock_script_free(sc);
}

Test(mock_script, implicit_tls_takes_the_sessions_settings)
{
    char err[512] = "";
    pop3mock_script *sc =
        pop3mock_script_parse("t.pop3", tls_script, strlen(tls_script), err, sizeof err);
    cr_assert(sc != NULL, "%s", err);
    /* Session 2 begins with S: the handshake of --implicit-tls comes first, with the
     * certificate and version cap in force at that line. */
    pop3mock_session *s = pop3mock_script_session_new(sc, 1, NULL, "<a@b>", true);
    pop3mock_action a;
    pop3mock_session_next(s, &a);
    cr_assert_eq(a.kind, POP3MOCK_ACT_START_TLS);
    cr_assert(a.tls != NULL);
    cr_expect_eq(a.tls->fault, POP3MOCK_TLS_HANDSHAKE);
    cr_expect_str_eq(a.tls->cert, "/abs/b.pem");
    cr_expect_eq(a.tls->max_version, POP3MOCK_TLS_1_1);
    pop3mock_session_ack(s, &a, 0);
    pop3mock_session_next(s, &a);
    cr_assert_eq(a.kind, POP3MOCK_ACT_SEND);
    cr_expect(a.data.len == 9 && memcmp(a.data.ptr, "+OK two\r\n", 9) == 0);
    pop3mock_session_free(s);
    /* Session 3 begins with a handshake of its own: there is only that one. */
    s = pop3mock_script_session_new(sc, 2, NULL, "<a@b>", true);
    pop3mock_session_next(s, &a);
    cr_assert_eq(a.kind, POP3MOCK_ACT_START_TLS);
    cr_expect_eq(a.tls->fault, POP3MOCK_TLS_GARBAGE);
    pop3mock_session_ack(s, &a, 0);
    pop3mock_session_next(s, &a);
    cr_expect_eq(a.kind, POP3MOCK_ACT_CLOSE);
    pop3mock_session_free(s);
    /* The same for !implicit-tls. */
    pop3mock_script *one = parse("!implicit-tls\nS: +OK\n");
    s = pop3mock_script_session_new(one, 0, NULL, "<a@b>", true);
    pop3mock_session_next(s, &a);
    cr_assert_eq(a.kind, POP3MOCK_ACT_START_TLS);
    pop3mock_session_ack(s, &a, 0);
    pop3mock_session_next(s, &a);
    cr_expect_eq(a.kind, POP3MOCK_ACT_SEND, "one handshake, then the greeting");
    pop3mock_session_free(s);
    pop3mock_script_free(one);
    pop3mock_script_free(sc);
}

Test(mock_script, several_sessions)
{
    pop3mock_script *sc = parse("S: +OK one\nC: QUIT\nS: +OK bye\n!session\nS: +OK two\n"
                                "C: APOP mrose {*}\nS: -ERR [IN-USE] Do you have another POP "
                                "session running?\n");
    cr_assert_eq(pop3mock_script_sessions(sc), 2);
    pop3mock_script_result r;
    char *out = play(sc, 1, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n", &r, NULL);
    cr_expect_str_eq(out, "+OK two\r\n-ERR [IN-USE] Do you have another POP session running?\r\n");
    cr_expect_eq(r, POP3MOCK_SCRIPT_PASSED);
    free(out);
    pop3mock_script_free(sc);
    /* An RFC pseudo-line separates sessions too. */
    sc = parse("S: +OK a\nS: <wait for next connection>\nS: +OK b\n");
    cr_expect_eq(pop3mock_script_sessions(sc), 2);
    pop3mock_script_free(sc);
}

Test(mock_script, expect_close)
{
    pop3mock_script *sc = parse("S: +OK\nC: QUIT\nS: +OK bye\nC: <close connection>\n");
    pop3mock_script_result r;
    char *report;
    char *out = play(sc, 0, "QUIT\r\n", &r, NULL);
    cr_expect_eq(r, POP3MOCK_SCRIPT_PASSED);
    free(out);
    out = play(sc, 0, "QUIT\r\nNOOP\r\n", &r, &report);
    cr_expect_eq(r, POP3MOCK_SCRIPT_DEPARTED);
    cr_expect(strstr(report, "(the client closes the connection)") != NULL, "%s", report);
    free(report);
    free(out);
    pop3mock_script_free(sc);
}

/* RFC 2449 section 5: CAPA is the client's choice. An !optional exchange is played
 * when the client sends its line, and left out when the client goes on without it. */
static const char optional_capa[] = "S: +OK ready\n"
                                    "!optional\n"
                                    "C: CAPA\n"
                                    "S: +OK\n"
                                    "S: USER\n"
                                    "S: .\n"
                                    "!optional\n"
                                    "C= NOOP\n"
                                    "S: +OK noop\n"
                                    "C: USER mrose\n"
                                    "S: +OK\n"
                                    "!optional\n"
                                    "C: QUIT\n"
                                    "S: +OK bye\n"
                                    "C: <close connection>\n";

Test(mock_script, optional_exchange)
{
    pop3mock_script *sc = parse(optional_capa);
    pop3mock_script_result r;
    char *report = NULL;
    /* Sent: played in place. */
    char *out = play(sc, 0, "CAPA\r\nNOOP\r\nUSER mrose\r\nQUIT\r\n", &r, NULL);
    cr_expect_eq(r, POP3MOCK_SCRIPT_PASSED);
    cr_expect_str_eq(out, "+OK ready\r\n+OK\r\nUSER\r\n.\r\n+OK noop\r\n+OK\r\n+OK bye\r\n");
    free(out);
    /* Left out, two in a row: the line is matched against the C: line after them. */
    out = play(sc, 0, "USER mrose\r\nQUIT\r\n", &r, NULL);
    cr_expect_eq(r, POP3MOCK_SCRIPT_PASSED);
    cr_expect_str_eq(out, "+OK ready\r\n+OK\r\n+OK bye\r\n");
    free(out);
    /* An optional C= line that arrives with a bare LF is not that line: left out. */
    out = play(sc, 0, "CAPA\r\nNOOP\nUSER mrose\r\n", &r, &report);
    cr_expect_eq(r, POP3MOCK_SCRIPT_DEPARTED);
    cr_expect(strstr(report, "t.pop3:10: session 1") == report, "%s", report);
    cr_expect(strstr(report, "received: \"NOOP\\n\"") != NULL, "%s", report);
    free(report);
    free(out);
    /* The client closes where an optional QUIT may come: the close is what follows. */
    out = play(sc, 0, "USER mrose\r\n", &r, NULL);
    cr_expect_eq(r, POP3MOCK_SCRIPT_PASSED);
    free(out);
    /* Neither the optional line nor the next one: a departure at the next one. */
    out = play(sc, 0, "STAT\r\n", &r, &report);
    cr_expect_eq(r, POP3MOCK_SCRIPT_DEPARTED);
    cr_expect(strstr(report, "t.pop3:10: session 1") == report, "%s", report);
    cr_expect(strstr(report, "expected: C: USER mrose") != NULL, "%s", report);
    free(report);
    free(out);
    pop3mock_script_free(sc);
}

Test(mock_script, long_client_line_departs)
{
    pop3mock_script *sc = parse("S: +OK\nC: NOOP\n");
    pop3mock_limits lim;
    pop3mock_limits_default(&lim);
    lim.max_sasl_line = 64;
    pop3mock_session *s = pop3mock_script_session_new(sc, 0, &lim, "<a@b>", false);
    char in[200];
    memset(in, 'x', sizeof in - 3);
    memcpy(in + sizeof in - 3, "\r\n", 3);
    char *out = mock_run(s, in, NULL);
    const char *report;
    cr_expect_eq(pop3mock_script_session_result(s, &report), POP3MOCK_SCRIPT_DEPARTED);
    cr_expect(strstr(report, "a line longer than 64 octets") != NULL, "%s", report);
    free(out);
    pop3mock_session_free(s);
    pop3mock_script_free(sc);
}
