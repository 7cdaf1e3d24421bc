/*
 * test_command.c - client command lines and SASL response lines (codec/src/command.c).
 *
 * RFC 1939 section 3 and 7 (keyword, single SP, CRLF; PASS keeps spaces, RFC1939-7.6),
 * RFC 2449 section 4 (255 octets with CRLF, RFC2449-4.2), RFC 5034 section 4 (response
 * lines: base64, "*", empty), and the command-injection refusals of quirk Q42
 * (CVE-2025-15367): every control octet in every position of every argument.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "pop3/encode.h"
#include "pop3/error.h"

#define GUARD 0xA5

/* The buffer is pre-filled with GUARD so that "nothing written" can be checked. */
static void fill_guard(char *buf, size_t n)
{
    memset(buf, GUARD, n);
}

static bool untouched(const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] != GUARD) return false;
    return true;
}

/* ---- pop3_check_arg ------------------------------------------------------------------ */

Test(check_arg, every_octet_in_every_position)
{
    for (unsigned v = 0; v < 256; v++) {
        unsigned char c = (unsigned char)v;
        bool control = c < 0x20 || c == 0x7f;
        for (int allow_space = 0; allow_space < 2; allow_space++) {
            bool refused = control || (c == ' ' && !allow_space);
            /* alone, first, middle, last */
            char bufs[4][4] = {
                {(char)c}, {(char)c, 'a', 'b'}, {'a', (char)c, 'b'}, {'a', 'b', (char)c}};
            size_t lens[4] = {1, 3, 3, 3};
            for (size_t p = 0; p < 4; p++) {
                const char *msg = NULL;
                int rc = pop3_check_arg(bufs[p], lens[p], allow_space != 0, &msg);
                cr_expect_eq(rc, refused ? POP3_EUSAGE : POP3_OK,
                             "octet 0x%02x position %zu allow_space %d: rc %d", v, p, allow_space,
                             rc);
                if (refused)
                    cr_expect(msg != NULL && strstr(msg, "argument contains") == msg,
                              "octet 0x%02x: message %s", v, msg ? msg : "(null)");
                else
                    cr_expect_null(msg, "octet 0x%02x: message set on success", v);
            }
        }
    }
}

static const struct {
    unsigned char octet;
    const char *name;
} named_octets[] = {
    {0x00, "NUL"}, {0x0d, "CR"}, {0x0a, "LF"}, {0x09, "TAB"}, {0x7f, "DEL"}, {0x20, "SP"},
};

Test(check_arg, message_names_the_octet)
{
    for (size_t i = 0; i < sizeof named_octets / sizeof named_octets[0]; i++) {
        char arg[3] = {'x', (char)named_octets[i].octet, 'y'};
        const char *msg = NULL;
        cr_assert_eq(pop3_check_arg(arg, 3, false, &msg), POP3_EUSAGE);
        cr_assert_not_null(msg);
        cr_expect(strstr(msg, named_octets[i].name) != NULL, "0x%02x: \"%s\" lacks %s",
                  named_octets[i].octet, msg, named_octets[i].name);
    }
}

Test(check_arg, empty_and_null_message_pointer)
{
    cr_expect_eq(pop3_check_arg("", 0, false, NULL), POP3_OK);
    cr_expect_eq(pop3_check_arg(NULL, 0, false, NULL), POP3_OK);
    cr_expect_eq(pop3_check_arg("a\rb", 3, true, NULL), POP3_EUSAGE);
    cr_expect_eq(pop3_check_arg(NULL, 1, true, NULL), POP3_EUSAGE);
    /* RFC 6856: UTF-8 user names pass. */
    cr_expect_eq(pop3_check_arg("j\xc3\xb6rg", 5, false, NULL), POP3_OK);
}

/* ---- pop3_encode_command: accepted lines -------------------------------------------- */

static const struct {
    const char *what;
    const char *keyword;
    const char *args[3];
    size_t nargs;
    size_t max;
    const char *wire;
} good_commands[] = {
    {"RFC 1939 section 7 USER", "USER", {"mrose"}, 1, 0, "USER mrose\r\n"},
    {"RFC 1939 section 7 APOP",
     "APOP",
     {"mrose", "c4c9334bac560ecc979e58001b3e22fb"},
     2,
     0,
     "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"},
    {"TOP with two numbers", "TOP", {"1", "10"}, 2, 0, "TOP 1 10\r\n"},
    {"RFC1939-7.6 PASS keeps spaces", "PASS", {"pa ss word"}, 1, 0, "PASS pa ss word\r\n"},
    {"PASS with an empty password", "PASS", {""}, 1, 0, "PASS \r\n"},
    {"PASS with a leading space", "PASS", {" x "}, 1, 0, "PASS  x \r\n"},
    {"no arguments", "STAT", {NULL}, 0, 0, "STAT\r\n"},
    {"three letters", "TOP", {"3"}, 1, 0, "TOP 3\r\n"},
    {"keyword case is kept", "uSeR", {"mrose"}, 1, 0, "uSeR mrose\r\n"},
    /* RFC 6856 section 2: the one keyword with a digit. */
    {"UTF8 keyword", "UTF8", {NULL}, 0, 0, "UTF8\r\n"},
    {"RFC5034-4.16 AUTH PLAIN with IR",
     "AUTH",
     {"PLAIN", "dGVzdAB0ZXN0AHRlc3Q="},
     2,
     0,
     "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n"},
    {"RFC5034-4.1 empty IR", "AUTH", {"PLAIN", "="}, 2, 0, "AUTH PLAIN =\r\n"},
    {"RFC 6856 8-bit user", "USER", {"j\xc3\xb6rg"}, 1, 0, "USER j\xc3\xb6rg\r\n"},
    {"empty last of several", "TOP", {"1", ""}, 2, 0, "TOP 1 \r\n"},
    {"small explicit max, exact", "NOOP", {NULL}, 0, 6, "NOOP\r\n"},
};

Test(encode_command, good_rows)
{
    for (size_t r = 0; r < sizeof good_commands / sizeof good_commands[0]; r++) {
        char out[512];
        size_t out_len = 12345;
        const char *msg = NULL;
        size_t want = strlen(good_commands[r].wire);
        int rc = pop3_encode_command(out, sizeof out, &out_len, good_commands[r].max,
                                     good_commands[r].keyword, good_commands[r].args,
                                     good_commands[r].nargs, &msg);
        cr_expect_eq(rc, POP3_OK, "%s: rc %d (%s)", good_commands[r].what, rc, msg ? msg : "");
        cr_expect_eq(out_len, want, "%s: length %zu, want %zu", good_commands[r].what, out_len,
                     want);
        cr_expect(rc == POP3_OK && memcmp(out, good_commands[r].wire, want) == 0,
                  "%s: wrong octets", good_commands[r].what);
        /* Exactly the line's size is enough; one less is not, and leaves out untouched. */
        char exact[512];
        cr_expect_eq(pop3_encode_command(exact, want, NULL, good_commands[r].max,
                                         good_commands[r].keyword, good_commands[r].args,
                                         good_commands[r].nargs, NULL),
                     POP3_OK, "%s: exact cap", good_commands[r].what);
        fill_guard(exact, sizeof exact);
        cr_expect_eq(pop3_encode_command(exact, want - 1, &out_len, good_commands[r].max,
                                         good_commands[r].keyword, good_commands[r].args,
                                         good_commands[r].nargs, &msg),
                     POP3_ELIMIT, "%s: cap - 1", good_commands[r].what);
        cr_expect(untouched(exact, sizeof exact), "%s: written on failure", good_commands[r].what);
    }
}

/* ---- pop3_encode_command: refused lines --------------------------------------------- */

static const struct {
    const char *what;
    const char *keyword;
    const char *args[3];
    size_t nargs;
    int error;
} bad_commands[] = {
    {"Q42 CVE-2025-15367 injection in USER", "USER", {"user\r\nDELE 1"}, 1, POP3_EUSAGE},
    {"Q42 injection in PASS (last, spaces allowed)", "PASS", {"x\r\nDELE 1"}, 1, POP3_EUSAGE},
    {"Q42 LF alone in PASS", "PASS", {"secret\nQUIT"}, 1, POP3_EUSAGE},
    {"SP in a non-last argument", "APOP", {"mr ose", "c4c9"}, 2, POP3_EUSAGE},
    {"empty non-last argument", "TOP", {"", "10"}, 2, POP3_EUSAGE},
    {"empty middle argument", "AUTH", {"PLAIN", "", "x"}, 3, POP3_EUSAGE},
    {"NULL argument", "USER", {NULL}, 1, POP3_EUSAGE},
    {"keyword too short", "US", {"x"}, 1, POP3_EUSAGE},
    {"keyword too long", "USERS", {"x"}, 1, POP3_EUSAGE},
    {"keyword empty", "", {NULL}, 0, POP3_EUSAGE},
    {"keyword with a dot", "U.ER", {"x"}, 1, POP3_EUSAGE},
    {"keyword with a dash", "UT-8", {NULL}, 0, POP3_EUSAGE},
    {"keyword with SP", "US R", {"x"}, 1, POP3_EUSAGE},
    {"keyword with CR", "US\rR", {"x"}, 1, POP3_EUSAGE},
    {"keyword with LF", "STA\n", {NULL}, 0, POP3_EUSAGE},
    {"keyword with 8-bit", "US\xc3\x96", {NULL}, 0, POP3_EUSAGE},
    {"NULL keyword", NULL, {NULL}, 0, POP3_EUSAGE},
};

Test(encode_command, bad_rows)
{
    for (size_t r = 0; r < sizeof bad_commands / sizeof bad_commands[0]; r++) {
        char out[512];
        size_t out_len = 777;
        const char *msg = NULL;
        fill_guard(out, sizeof out);
        int rc = pop3_encode_command(out, sizeof out, &out_len, 0, bad_commands[r].keyword,
                                     bad_commands[r].args, bad_commands[r].nargs, &msg);
        cr_expect_eq(rc, bad_commands[r].error, "%s: rc %d", bad_commands[r].what, rc);
        cr_expect_not_null(msg, "%s: no message", bad_commands[r].what);
        cr_expect(untouched(out, sizeof out), "%s: written on failure", bad_commands[r].what);
        cr_expect_eq(out_len, 777, "%s: out_len set on failure", bad_commands[r].what);
        /* message may be NULL */
        cr_expect_eq(pop3_encode_command(out, sizeof out, NULL, 0, bad_commands[r].keyword,
                                         bad_commands[r].args, bad_commands[r].nargs, NULL),
                     bad_commands[r].error);
    }
    cr_expect_eq(pop3_encode_command(NULL, 0, NULL, 0, "USER", NULL, 1, NULL), POP3_EUSAGE);
}

/* Every control octet (NUL cannot occur inside a C string argument, so it is covered by
 * pop3_check_arg and pop3_encode_line) and SP, at the start, middle and end of the first
 * and of the last argument. */
Test(encode_command, controls_in_each_position)
{
    for (unsigned v = 1; v < 0x80; v++) {
        unsigned char c = (unsigned char)v;
        bool control = c < 0x20 || c == 0x7f;
        if (!control && c != ' ') continue;
        for (size_t which = 0; which < 2; which++) {
            for (size_t pos = 0; pos < 3; pos++) {
                char arg[4] = "abc";
                arg[pos] = (char)c;
                const char *args[2] = {"mrose", "digest"};
                args[which] = arg;
                /* SP is fine in the last argument only. */
                int want = (c == ' ' && which == 1) ? POP3_OK : POP3_EUSAGE;
                char out[64];
                fill_guard(out, sizeof out);
                const char *msg = NULL;
                int rc = pop3_encode_command(out, sizeof out, NULL, 0, "APOP", args, 2, &msg);
                cr_expect_eq(rc, want, "octet 0x%02x in argument %zu at %zu: rc %d", v, which, pos,
                             rc);
                if (want != POP3_OK)
                    cr_expect(untouched(out, sizeof out), "0x%02x: written on failure", v);
            }
        }
    }
}

/* RFC2449-4.2: 255 octets with CRLF is the limit; "USER " + 248 + CRLF = 255. */
Test(encode_command, length_limit_255)
{
    char user[300];
    memset(user, 'u', sizeof user);
    static const struct {
        size_t arg_len;
        size_t max;
        int error;
    } rows[] = {
        {248, 0, POP3_OK},   {249, 0, POP3_ELIMIT}, {248, 255, POP3_OK},   {249, 255, POP3_ELIMIT},
        {249, 256, POP3_OK}, {290, 1024, POP3_OK},  {0, 0, POP3_OK},       {1, 6, POP3_ELIMIT},
        {0, 7, POP3_OK},     {1, 8, POP3_OK},       {299, 0, POP3_ELIMIT}, {1, 3, POP3_ELIMIT},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        char arg[300];
        memcpy(arg, user, rows[r].arg_len);
        arg[rows[r].arg_len] = '\0';
        const char *args[1] = {arg};
        char out[2048];
        fill_guard(out, sizeof out);
        size_t out_len = 0;
        const char *msg = NULL;
        int rc = pop3_encode_command(out, sizeof out, &out_len, rows[r].max, "USER", args, 1, &msg);
        cr_expect_eq(rc, rows[r].error, "row %zu: arg %zu max %zu: rc %d", r, rows[r].arg_len,
                     rows[r].max, rc);
        if (rc == POP3_OK) {
            cr_expect_eq(out_len, 5 + rows[r].arg_len + 2);
            cr_expect(memcmp(out + out_len - 2, "\r\n", 2) == 0);
        } else {
            cr_expect(untouched(out, sizeof out), "row %zu: written on failure", r);
            cr_expect_not_null(msg);
        }
    }
}

/* The limit counts every argument and separator, and CRLF: 255 exactly with 2 args. */
Test(encode_command, length_limit_spread_over_args)
{
    char a[200], b[200];
    memset(a, '1', sizeof a);
    memset(b, 'x', sizeof b);
    a[120] = '\0';
    /* "APOP " 5 + 120 + " " 1 + n + CRLF 2 = 255 -> n = 127 */
    b[127] = '\0';
    const char *args[2] = {a, b};
    char out[300];
    size_t out_len = 0;
    cr_expect_eq(pop3_encode_command(out, sizeof out, &out_len, 0, "APOP", args, 2, NULL), POP3_OK);
    cr_expect_eq(out_len, 255);
    b[127] = 'x';
    b[128] = '\0';
    cr_expect_eq(pop3_encode_command(out, sizeof out, &out_len, 0, "APOP", args, 2, NULL),
                 POP3_ELIMIT);
}

/* A hostile argument is named as such even when it is also too long. */
Test(encode_command, usage_before_limit)
{
    char arg[400];
    memset(arg, 'a', sizeof arg);
    arg[10] = '\r';
    arg[399] = '\0';
    const char *args[1] = {arg};
    char out[16];
    cr_expect_eq(pop3_encode_command(out, sizeof out, NULL, 0, "USER", args, 1, NULL), POP3_EUSAGE);
}

/* ---- pop3_encode_line ---------------------------------------------------------------- */

static const struct {
    const char *what;
    const char *line;
    size_t len;
    int error;
    const char *wire;
} line_rows[] = {
    {"RFC5034-4.15 empty response", "", 0, POP3_OK, "\r\n"},
    {"RFC5034-4.5 cancel", "*", 1, POP3_OK, "*\r\n"},
    {"base64", "dGVzdAB0ZXN0AHRlc3Q=", 20, POP3_OK, "dGVzdAB0ZXN0AHRlc3Q=\r\n"},
    {"spaces allowed", "a b ", 4, POP3_OK, "a b \r\n"},
    {"8-bit passes", "\xff\x80", 2, POP3_OK, "\xff\x80\r\n"},
    {"CR", "ab\rc", 4, POP3_EUSAGE, NULL},
    {"LF", "ab\nc", 4, POP3_EUSAGE, NULL},
    {"CRLF at the end", "abc\r\n", 5, POP3_EUSAGE, NULL},
    {"NUL in the middle", "ab\0c", 4, POP3_EUSAGE, NULL},
    {"NUL at the start", "\0abc", 4, POP3_EUSAGE, NULL},
    {"TAB", "\tabc", 4, POP3_EUSAGE, NULL},
    {"DEL", "abc\x7f", 4, POP3_EUSAGE, NULL},
    {"ESC", "a\x1b", 2, POP3_EUSAGE, NULL},
    {"NULL with length", NULL, 3, POP3_EUSAGE, NULL},
};

Test(encode_line, rows)
{
    for (size_t r = 0; r < sizeof line_rows / sizeof line_rows[0]; r++) {
        char out[64];
        fill_guard(out, sizeof out);
        size_t out_len = 999;
        const char *msg = NULL;
        int rc =
            pop3_encode_line(out, sizeof out, &out_len, line_rows[r].line, line_rows[r].len, &msg);
        cr_expect_eq(rc, line_rows[r].error, "%s: rc %d", line_rows[r].what, rc);
        if (line_rows[r].error == POP3_OK) {
            cr_expect_eq(out_len, line_rows[r].len + 2, "%s", line_rows[r].what);
            cr_expect(memcmp(out, line_rows[r].wire, line_rows[r].len + 2) == 0, "%s",
                      line_rows[r].what);
            char exact[64];
            cr_expect_eq(pop3_encode_line(exact, line_rows[r].len + 2, NULL, line_rows[r].line,
                                          line_rows[r].len, NULL),
                         POP3_OK, "%s: exact cap", line_rows[r].what);
            fill_guard(exact, sizeof exact);
            cr_expect_eq(pop3_encode_line(exact, line_rows[r].len + 1, NULL, line_rows[r].line,
                                          line_rows[r].len, NULL),
                         POP3_ELIMIT, "%s: cap - 1", line_rows[r].what);
            cr_expect(untouched(exact, sizeof exact), "%s: written on failure", line_rows[r].what);
        } else {
            cr_expect_not_null(msg, "%s", line_rows[r].what);
            cr_expect(untouched(out, sizeof out), "%s: written on failure", line_rows[r].what);
            cr_expect_eq(out_len, 999);
        }
    }
    cr_expect_eq(pop3_encode_line(NULL, 0, NULL, "", 0, NULL), POP3_ELIMIT);
}

/* RFC5034-4.10: response lines have no limit of their own, only the buffer's. */
Test(encode_line, long_line_beyond_255)
{
    static char line[70000];
    static char out[70002];
    memset(line, 'A', sizeof line);
    size_t out_len = 0;
    cr_assert_eq(pop3_encode_line(out, sizeof out, &out_len, line, sizeof line, NULL), POP3_OK);
    cr_expect_eq(out_len, sizeof out);
    cr_expect(out[sizeof line] == '\r' && out[sizeof line + 1] == '\n');
}
