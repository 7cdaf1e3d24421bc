/*
 * pop3_mock.c - the `pop3-mock` command: options (getopt_long), then a mode.
 *
 * pop3-mock [options] (SCRIPT... | --case FILE | --maildrop DIR --user U --password P |
 *                      --users FILE)
 * The command-line contract (names, the ready line, exit statuses) is relied on by tests
 * outside this repository; the man page pop3-mock.1 documents it.
 *
 * Exit status: 0 every session went as it should (maildrop mode: the server stopped
 * cleanly, also on SIGTERM or SIGINT); 1 a client departed from a script; 2 usage, script
 * or configuration error (reported before any client can connect); 3 the server could
 * not run (address in use, I/O failure). A usage error is two lines on stderr:
 * "pop3-mock: MESSAGE" and "try 'pop3-mock --help'".
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_usage.h"
#include "modes.h"
#include "pop3mock/quirks.h"

static void usage(FILE *f)
{
    fputs("usage: pop3-mock [options] SCRIPT...\n"
          "       pop3-mock [options] --case FILE\n"
          "       pop3-mock [options] --maildrop DIR --user U --password P\n"
          "       pop3-mock [options] --users FILE\n"
          "\n"
          "  --listen ADDR:PORT      where to listen (127.0.0.1:0; port 0 picks a free one)\n"
          "  --port-file FILE        write the bound port to FILE once listening\n"
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
          "  --max-output OCTETS     output queued per session at most; past it the\n"
          "                          session ends (16777216)\n"
          "script mode:\n"
          "  SCRIPT...               dialogue scripts, one session per connection\n"
          "  --case FILE             the dialogue of a conformance case file\n"
          "  --max-steps N           steps (S:, C: lines, directives) in one scripted\n"
          "                          session (1048576)\n"
          "maildrop mode:\n"
          "  --maildrop DIR          a Maildir (cur/, new/) or a folder of message files\n"
          "  --user U --password P   the one account (the password is also the APOP secret)\n"
          "  --users FILE            accounts, one per line: USER PASSWORD MAILDIR\n"
          "  --no-lock               several sessions of a user at once (no [IN-USE])\n"
          "  --quirk NAME[=ARG]      misbehave in a named way (repeatable; --list-quirks)\n"
          "  --preset NAME           imitate a server: dovecot, qmail, exchange\n"
          "  --hostname NAME         host part of the APOP timestamp (pop3kit.mock)\n"
          "  --sasl-all              CAPA lists SASL PLAIN LOGIN CRAM-MD5 (default: PLAIN\n"
          "                          under TLS, CRAM-MD5 in clear)\n"
          "  --plain-in-clear        list and accept SASL PLAIN without TLS too\n"
          "                          (RFC 2595 section 6 wants TLS first)\n"
          "  --utf8-strict           RETR/TOP of a message with 8-bit headers: -ERR [UTF8]\n"
          "                          until the client sends UTF8 (RFC 6856 section 2.2)\n"
          "\n"
          "  --list-quirks           the quirks and what each does\n"
          "  -h, --help              this text\n"
          "  --version               the version\n"
          "\n"
          "Signals: SIGTERM and SIGINT stop the server cleanly (exit 0 in maildrop mode);\n"
          "SIGHUP drops the deletions made so far and reads the maildrops again.\n"
          "Exit status: 0 ok, 1 a client departed from a script, 2 usage or configuration\n"
          "error, 3 the server could not run.\n",
          f);
}

static void list_quirks(void)
{
    for (unsigned id = 0; pop3mock_quirk_name(id) != NULL; id++)
        printf("%-22s %s\n", pop3mock_quirk_name(id), pop3mock_quirk_help(id));
}

/* A usage error: "pop3-mock: MESSAGE" and the hint on stderr; returns exit status 2. */
#define bad(...) pop3__usage_error("pop3-mock", __VA_ARGS__)

/* The largest value a size, count or time option takes (2^31): far past any useful
 * setting, and small enough that no sum of two of them overflows an int-sized field. */
#define OPTION_VALUE_MAX (1ull << 31)

/* A numeric option's value, read by the codec's number parser (digits only: no sign,
 * no blank, no base prefix, not empty), in [lo, OPTION_VALUE_MAX]. */
static bool parse_size(const char *s, size_t lo, size_t *out)
{
    uint64_t v;
    if (!pop3__arg_in_range(s, lo, OPTION_VALUE_MAX, &v)) return false;
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

enum {
    OPT_LISTEN = 256,
    OPT_PORT_FILE,
    OPT_ONCE,
    OPT_IDLE_TIMEOUT,
    OPT_MAX_SESSIONS,
    OPT_LOG,
    OPT_LOG_FORMAT,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_IMPLICIT_TLS,
    OPT_TLS_MAX,
    OPT_MAX_COMMAND,
    OPT_MAX_SASL_LINE,
    OPT_MAX_INPUT,
    OPT_OUTPUT_BUFFER,
    OPT_MAX_OUTPUT,
    OPT_MAX_STEPS,
    OPT_CASE,
    OPT_MAILDROP,
    OPT_USER,
    OPT_PASSWORD,
    OPT_USERS,
    OPT_NO_LOCK,
    OPT_QUIRK,
    OPT_PRESET,
    OPT_HOSTNAME,
    OPT_SASL_ALL,
    OPT_PLAIN_IN_CLEAR,
    OPT_UTF8_STRICT,
    OPT_LIST_QUIRKS,
    OPT_VERSION,
};

static const struct option long_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"once", no_argument, NULL, OPT_ONCE},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"max-sessions", required_argument, NULL, OPT_MAX_SESSIONS},
    {"log", required_argument, NULL, OPT_LOG},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"implicit-tls", no_argument, NULL, OPT_IMPLICIT_TLS},
    {"tls-max", required_argument, NULL, OPT_TLS_MAX},
    {"max-command", required_argument, NULL, OPT_MAX_COMMAND},
    {"max-sasl-line", required_argument, NULL, OPT_MAX_SASL_LINE},
    {"max-input", required_argument, NULL, OPT_MAX_INPUT},
    {"output-buffer", required_argument, NULL, OPT_OUTPUT_BUFFER},
    {"max-output", required_argument, NULL, OPT_MAX_OUTPUT},
    {"max-steps", required_argument, NULL, OPT_MAX_STEPS},
    {"case", required_argument, NULL, OPT_CASE},
    {"maildrop", required_argument, NULL, OPT_MAILDROP},
    {"user", required_argument, NULL, OPT_USER},
    {"password", required_argument, NULL, OPT_PASSWORD},
    {"users", required_argument, NULL, OPT_USERS},
    {"no-lock", no_argument, NULL, OPT_NO_LOCK},
    {"quirk", required_argument, NULL, OPT_QUIRK},
    {"preset", required_argument, NULL, OPT_PRESET},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"sasl-all", no_argument, NULL, OPT_SASL_ALL},
    {"plain-in-clear", no_argument, NULL, OPT_PLAIN_IN_CLEAR},
    {"utf8-strict", no_argument, NULL, OPT_UTF8_STRICT},
    {"list-quirks", no_argument, NULL, OPT_LIST_QUIRKS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* A value option's handler: 0, or a usage error's exit status (already reported). */
/* The numeric options: name, what the value counts, lowest value (the highest is
 * OPTION_VALUE_MAX), and where it goes. */
static const struct numeric_option {
    int opt;
    const char *name, *what;
    size_t lo;
} numeric_options[] = {
    {OPT_IDLE_TIMEOUT, "--idle-timeout", "seconds", 0},
    {OPT_MAX_SESSIONS, "--max-sessions", "a count", 1},
    {OPT_MAX_COMMAND, "--max-command", "octets", 8},
    {OPT_MAX_SASL_LINE, "--max-sasl-line", "octets", 8},
    {OPT_MAX_INPUT, "--max-input", "octets", 8},
    {OPT_OUTPUT_BUFFER, "--output-buffer", "octets", 1},
    {OPT_MAX_OUTPUT, "--max-output", "octets", 1},
    {OPT_MAX_STEPS, "--max-steps", "a count", 1},
};

static void set_numeric(mock_cli *o, int opt, size_t v)
{
    switch (opt) {
    case OPT_IDLE_TIMEOUT: o->cfg.idle_timeout = (unsigned)v; break;
    case OPT_MAX_SESSIONS: o->cfg.max_sessions = v; break;
    case OPT_MAX_COMMAND: o->mopt.limits.max_command = v; break;
    case OPT_MAX_SASL_LINE: o->mopt.limits.max_sasl_line = v; break;
    case OPT_MAX_INPUT: o->mopt.limits.max_input = v; break;
    case OPT_OUTPUT_BUFFER: o->mopt.limits.output_high = v; break;
    case OPT_MAX_OUTPUT: o->mopt.limits.max_output = v; break;
    case OPT_MAX_STEPS: o->sopt.max_steps = v; break;
    }
}

static int take_value(mock_cli *o, int opt, const char *val)
{
    const char *why = NULL;
    for (size_t i = 0; i < sizeof numeric_options / sizeof numeric_options[0]; i++) {
        const struct numeric_option *n = &numeric_options[i];
        if (n->opt != opt) continue;
        size_t sz;
        if (!parse_size(val, n->lo, &sz))
            return bad("%s %s: want %s, %zu to %llu", n->name, val, n->what, n->lo,
                       OPTION_VALUE_MAX);
        set_numeric(o, opt, sz);
        return 0;
    }
    switch (opt) {
    case OPT_LISTEN: o->cfg.listen = val; return 0;
    case OPT_PORT_FILE: o->port_file = val; return 0;
    case OPT_LOG: o->cfg.log_path = val; return 0;
    case OPT_LOG_FORMAT:
        if (strcmp(val, "json") == 0)
            o->cfg.log_json = true;
        else if (strcmp(val, "text") != 0)
            return bad("--log-format %s: want text or json", val);
        return 0;
    case OPT_TLS_CERT: o->cfg.tls_cert = val; return 0;
    case OPT_TLS_KEY: o->cfg.tls_key = val; return 0;
    case OPT_TLS_MAX:
        if (!parse_tls_version(val, &o->cfg.tls_max_version))
            return bad("--tls-max %s: want 1.0, 1.1, 1.2 or 1.3", val);
        return 0;
    case OPT_CASE: o->case_file = val; return 0;
    case OPT_MAILDROP: o->maildrop = val; return 0;
    case OPT_USER: o->user = val; return 0;
    case OPT_PASSWORD: o->password = val; return 0;
    case OPT_USERS: o->users_file = val; return 0;
    case OPT_HOSTNAME: o->hostname = val; return 0;
    case OPT_QUIRK:
        if (pop3mock_quirk_enable(&o->mopt.quirks, val, &why) != 0)
            return bad("--quirk %s: %s", val, why);
        return 0;
    case OPT_PRESET:
        if (pop3mock_preset_apply(&o->mopt.quirks, val, &why) != 0)
            return bad("--preset %s: %s", val, why);
        return 0;
    }
    return bad("internal error: option %d", opt);
}

/* The modes and what belongs to each, once every option is read. */
static int check(const mock_cli *o)
{
    bool md = o->maildrop != NULL || o->users_file != NULL;
    int modes = (o->nscripts > 0) + (o->case_file != NULL) + md;
    if (modes == 0) return bad("give SCRIPT files, --case FILE, --maildrop DIR or --users FILE");
    if (modes > 1) return bad("give only one of SCRIPT files, --case FILE and --maildrop/--users");
    if (o->maildrop != NULL && o->users_file != NULL)
        return bad("--maildrop and --users exclude each other");
    if (o->cfg.tls_key != NULL && o->cfg.tls_cert == NULL) return bad("--tls-key needs --tls-cert");
    if (md) {
        /* Scripts may name their own certificates (!tls-cert): script_mode.c checks. */
        if (o->mopt.implicit_tls && o->cfg.tls_cert == NULL)
            return bad("--implicit-tls needs --tls-cert");
        if (o->maildrop != NULL && (o->user == NULL || o->password == NULL))
            return bad("--maildrop needs --user and --password");
        if (o->users_file != NULL && (o->user != NULL || o->password != NULL))
            return bad("--users gives the accounts: no --user or --password with it");
    } else if (o->mopt.quirks.flags != 0 || o->user != NULL || o->password != NULL || o->no_lock ||
               o->mopt.utf8_strict || o->mopt.sasl_all || o->mopt.plain_in_clear ||
               strcmp(o->hostname, "pop3kit.mock") != 0) {
        return bad("--quirk, --preset, --user, --password, --no-lock, --hostname, "
                   "--utf8-strict, --sasl-all and --plain-in-clear belong to maildrop mode");
    }
    return 0;
}

/* Everything but the allocation of `scripts`, so that every return frees it. */
static int run(int argc, char **argv, const char **scripts)
{
    mock_cli o;
    memset(&o, 0, sizeof o);
    pop3mock_server_config_default(&o.cfg);
    pop3mock_maildrop_options_default(&o.mopt);
    pop3mock_script_options_default(&o.sopt);
    o.hostname = "pop3kit.mock";
    o.scripts = scripts;
    opterr = 0; /* the messages below are ours: two lines, the contract's words */
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        int rc = 0;
        switch (opt) {
        case 'h': usage(stdout); return 0;
        case OPT_VERSION: return pop3__print_version("pop3-mock");
        case OPT_LIST_QUIRKS: list_quirks(); return 0;
        case OPT_ONCE: o.cfg.once = true; break;
        case OPT_IMPLICIT_TLS: o.mopt.implicit_tls = true; break;
        case OPT_NO_LOCK: o.no_lock = true; break;
        case OPT_SASL_ALL: o.mopt.sasl_all = true; break;
        case OPT_PLAIN_IN_CLEAR: o.mopt.plain_in_clear = true; break;
        case OPT_UTF8_STRICT: o.mopt.utf8_strict = true; break;
        case ':':
        case '?': return pop3__getopt_error("pop3-mock", opt, argv, long_options);
        default:
            rc = take_value(&o, opt, optarg);
            if (rc != 0) return rc;
            break;
        }
    }
    while (optind < argc)
        scripts[o.nscripts++] = argv[optind++];
    int rc = check(&o);
    if (rc != 0) return rc;
    o.mopt.tls_available = o.cfg.tls_cert != NULL;
    if (o.maildrop != NULL || o.users_file != NULL) return pop3mock__run_maildrop(&o);
    return pop3mock__run_scripts(&o);
}

int main(int argc, char **argv)
{
    const char **scripts = calloc((size_t)argc + 1, sizeof *scripts);
    if (scripts == NULL) return EXIT_RUNTIME;
    int rc = run(argc, argv, scripts);
    free(scripts);
    return rc;
}
