/*
 * pop3_mock.c - the `pop3-mock` command: options, then the epoll server.
 *
 * pop3-mock [options] (SCRIPT... | --maildrop DIR --user U --password P)
 * The command-line contract (names, the ready line, exit statuses) is in DESIGN.md and
 * is relied on by tests outside this repository: change it only there first.
 *
 * Exit status: 0 every session went as it should (maildrop mode: the server stopped
 * cleanly); 1 a client departed from a script; 2 usage, script or configuration error
 * (reported before any client can connect); 3 the server could not run (address in
 * use, I/O failure).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modes.h"
#include "pop3mock/maildrop.h"
#include "pop3mock/quirks.h"
#include "pop3mock/script.h"
#include "pop3mock/server.h"

#define EXIT_DEPARTED 1
#define EXIT_USAGE    2
#define EXIT_RUNTIME  3

static void usage(FILE *f)
{
    fputs("usage: pop3-mock [options] (SCRIPT... | --maildrop DIR --user U --password P)\n"
          "\n"
          "  --listen ADDR:PORT      where to listen (127.0.0.1:0; port 0 picks a free one)\n"
          "  --once                  serve one connection, then exit\n"
          "  --idle-timeout SECONDS  close a silent connection (600; 0 = never)\n"
          "  --max-sessions N        connections at once (4096)\n"
          "  --log FILE              transcript of both directions, timestamped\n"
          "  --log-format text|json  transcript format (text)\n"
          "  --tls-cert PEM          certificate chain: enables STLS\n"
          "  --tls-key PEM           private key (default: the --tls-cert file)\n"
          "  --implicit-tls          TLS handshake before the greeting (port 995 style)\n"
          "  --tls-max VERSION       highest TLS version offered: 1.0, 1.1, 1.2 or 1.3\n"
          "  --max-command OCTETS    longest command line, CRLF included (255)\n"
          "  --max-sasl-line OCTETS  longest SASL response line (16384)\n"
          "  --max-input OCTETS      client octets buffered per session (65536)\n"
          "  --output-buffer OCTETS  output queued per session before it waits (65536)\n"
          "maildrop mode:\n"
          "  --maildrop DIR          a Maildir (cur/, new/) or a folder of message files\n"
          "  --user U --password P   the one account (the password is also the APOP secret)\n"
          "  --no-lock               several sessions of the user at once (no [IN-USE])\n"
          "  --quirk NAME[=ARG]      misbehave in a named way (repeatable; --list-quirks)\n"
          "  --preset NAME           imitate a server: dovecot, qmail, exchange\n"
          "  --hostname NAME         host part of the APOP timestamp (pop3kit.mock)\n"
          "  --sasl-all              CAPA lists SASL PLAIN LOGIN CRAM-MD5 (default: PLAIN)\n"
          "  --plain-in-clear        list and accept SASL PLAIN without TLS too\n"
          "                          (RFC 2595 section 6 wants TLS first)\n"
          "  --utf8-strict           RETR/TOP of a message with 8-bit headers: -ERR [UTF8]\n"
          "                          until the client sends UTF8 (RFC 6856 section 2.2)\n"
          "\n"
          "  --list-quirks  --help  --version\n",
          f);
}

static void list_quirks(void)
{
    for (unsigned id = 0; pop3mock_quirk_name(id) != NULL; id++)
        printf("%-22s %s\n", pop3mock_quirk_name(id), pop3mock_quirk_help(id));
}

static int bad(const char *fmt, const char *arg)
{
    fputs("pop3-mock: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (pop3-mock --help)\n", stderr);
    return EXIT_USAGE;
}

static bool parse_size(const char *s, size_t lo, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > (1ull << 31))
        return false;
    *out = (size_t)v;
    return true;
}

static bool parse_tls_version(const char *s, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned version;
    } v[] = {{"1.0", POP3MOCK_TLS_1_0},
             {"1.1", POP3MOCK_TLS_1_1},
             {"1.2", POP3MOCK_TLS_1_2},
             {"1.3", POP3MOCK_TLS_1_3}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (strcmp(s, v[i].name) == 0) {
            *out = v[i].version;
            return true;
        }
    }
    return false;
}

/* Everything but the allocation of `scripts`, so that every return frees it. */
static int run(int argc, char **argv, const char **scripts)
{
    pop3mock_server_config cfg;
    pop3mock_server_config_default(&cfg);
    pop3mock_maildrop_options mopt;
    pop3mock_maildrop_options_default(&mopt);
    const char *maildrop = NULL, *user = NULL, *password = NULL, *hostname = "pop3kit.mock";
    bool no_lock = false;
    size_t nscripts = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            scripts[nscripts++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                scripts[nscripts++] = argv[i];
            break;
        }
        /* "--name=value" is the same as "--name value". */
        char name[64];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t nlen = eq != NULL ? (size_t)(eq - a) : strlen(a);
        if (nlen >= sizeof name) return bad("unknown option %s", a);
        memcpy(name, a, nlen);
        name[nlen] = '\0';
        if (eq != NULL) val = eq + 1;
        static const char *const flags[] = {
            "--once",    "--implicit-tls", "--no-lock",     "--help",     "-h",
            "--version", "--list-quirks",  "--utf8-strict", "--sasl-all", "--plain-in-clear"};
        bool is_flag = false;
        for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++)
            if (strcmp(name, flags[k]) == 0) is_flag = true;
        if (is_flag && val != NULL) return bad("%s takes no value", name);
        if (!is_flag && val == NULL) {
            if (i + 1 >= argc) return bad("%s needs a value", name);
            val = argv[++i];
        }
        size_t sz;
        const char *why = NULL;
        if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(name, "--version") == 0) {
            puts("pop3-mock (pop3kit) 0.1.0");
            return 0;
        } else if (strcmp(name, "--list-quirks") == 0) {
            list_quirks();
            return 0;
        } else if (strcmp(name, "--once") == 0) {
            cfg.once = true;
        } else if (strcmp(name, "--implicit-tls") == 0) {
            mopt.implicit_tls = true;
        } else if (strcmp(name, "--no-lock") == 0) {
            no_lock = true;
        } else if (strcmp(name, "--utf8-strict") == 0) {
            mopt.utf8_strict = true;
        } else if (strcmp(name, "--sasl-all") == 0) {
            mopt.sasl_all = true;
        } else if (strcmp(name, "--plain-in-clear") == 0) {
            mopt.plain_in_clear = true;
        } else if (strcmp(name, "--tls-max") == 0) {
            if (!parse_tls_version(val, &cfg.tls_max_version))
                return bad("--tls-max %s: want 1.0, 1.1, 1.2 or 1.3", val);
        } else if (strcmp(name, "--listen") == 0) {
            cfg.listen = val;
        } else if (strcmp(name, "--idle-timeout") == 0) {
            if (!parse_size(val, 0, &sz)) return bad("--idle-timeout %s: want seconds", val);
            cfg.idle_timeout = (unsigned)sz;
        } else if (strcmp(name, "--max-sessions") == 0) {
            if (!parse_size(val, 1, &sz)) return bad("--max-sessions %s: want a count", val);
            cfg.max_sessions = sz;
        } else if (strcmp(name, "--log") == 0) {
            cfg.log_path = val;
        } else if (strcmp(name, "--log-format") == 0) {
            if (strcmp(val, "json") == 0)
                cfg.log_json = true;
            else if (strcmp(val, "text") != 0)
                return bad("--log-format %s: want text or json", val);
        } else if (strcmp(name, "--tls-cert") == 0) {
            cfg.tls_cert = val;
        } else if (strcmp(name, "--tls-key") == 0) {
            cfg.tls_key = val;
        } else if (strcmp(name, "--max-command") == 0) {
            if (!parse_size(val, 8, &sz)) return bad("--max-command %s: want octets >= 8", val);
            mopt.limits.max_command = sz;
        } else if (strcmp(name, "--max-sasl-line") == 0) {
            if (!parse_size(val, 8, &sz)) return bad("--max-sasl-line %s: want octets >= 8", val);
            mopt.limits.max_sasl_line = sz;
        } else if (strcmp(name, "--max-input") == 0) {
            if (!parse_size(val, 8, &sz)) return bad("--max-input %s: want octets >= 8", val);
            mopt.limits.max_input = sz;
        } else if (strcmp(name, "--output-buffer") == 0) {
            if (!parse_size(val, 1, &sz)) return bad("--output-buffer %s: want octets", val);
            mopt.limits.output_high = sz;
        } else if (strcmp(name, "--maildrop") == 0) {
            maildrop = val;
        } else if (strcmp(name, "--user") == 0) {
            user = val;
        } else if (strcmp(name, "--password") == 0) {
            password = val;
        } else if (strcmp(name, "--hostname") == 0) {
            hostname = val;
        } else if (strcmp(name, "--quirk") == 0) {
            if (pop3mock_quirk_enable(&mopt.quirks, val, &why) != 0) {
                fprintf(stderr, "pop3-mock: --quirk %s: %s\n", val, why);
                return EXIT_USAGE;
            }
        } else if (strcmp(name, "--preset") == 0) {
            if (pop3mock_preset_apply(&mopt.quirks, val, &why) != 0) {
                fprintf(stderr, "pop3-mock: --preset %s: %s\n", val, why);
                return EXIT_USAGE;
            }
        } else {
            return bad("unknown option %s", a);
        }
    }

    if ((maildrop != NULL) == (nscripts > 0))
        return bad("%s", "give either SCRIPT files or --maildrop DIR");
    if (cfg.tls_key != NULL && cfg.tls_cert == NULL) return bad("%s", "--tls-key needs --tls-cert");
    /* Scripts may name their own certificates (!tls-cert): script_mode.c checks. */
    if (mopt.implicit_tls && cfg.tls_cert == NULL && maildrop != NULL)
        return bad("%s", "--implicit-tls needs --tls-cert");
    mopt.tls_available = cfg.tls_cert != NULL;

    int rc;
    if (maildrop != NULL) {
        if (user == NULL || password == NULL)
            return bad("%s", "--maildrop needs --user and --password");
        rc = pop3mock__run_maildrop(&cfg, &mopt, maildrop, user, password, hostname, no_lock);
    } else {
        if (mopt.quirks.flags != 0 || user != NULL || password != NULL || no_lock ||
            mopt.utf8_strict || mopt.sasl_all || mopt.plain_in_clear)
            return bad("%s", "--quirk, --preset, --user, --password, --no-lock and "
                             "--utf8-strict, --sasl-all belong to --maildrop mode");
        rc = pop3mock__run_scripts(&cfg, &mopt, scripts, nscripts);
    }
    return rc;
}

int main(int argc, char **argv)
{
    const char **scripts = calloc((size_t)argc + 1, sizeof *scripts);
    if (scripts == NULL) return EXIT_RUNTIME;
    int rc = run(argc, argv, scripts);
    free(scripts);
    return rc;
}
