/*
 * options.c - pop3-mock's settings by name, with the words of its usage errors.
 *
 * One table: a name, whether it takes a value, and where the value goes. Numbers are
 * read by the codec's number parser (digits only: no sign, no blank, no base prefix, not
 * empty). The limits (RFC 2449 section 4: a command line of 255 octets by default) are
 * the session's; the server's are the idle timeout (RFC 1939 section 3) and the number
 * of sessions at once.
 */
#include "options.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pop3/error.h"
#include "pop3/parse.h"
#include "pop3mock/quirks.h"

typedef enum opt_id {
    O_LISTEN,
    O_PORT_FILE,
    O_ONCE,
    O_IDLE_TIMEOUT,
    O_MAX_SESSIONS,
    O_LOG,
    O_LOG_FORMAT,
    O_TLS_CERT,
    O_TLS_KEY,
    O_IMPLICIT_TLS,
    O_TLS_MAX,
    O_MAX_COMMAND,
    O_MAX_SASL_LINE,
    O_MAX_INPUT,
    O_OUTPUT_BUFFER,
    O_MAX_OUTPUT,
    O_MAX_STEPS,
    O_CASE,
    O_MAILDROP,
    O_USER,
    O_PASSWORD,
    O_USERS,
    O_NO_LOCK,
    O_QUIRK,
    O_PRESET,
    O_HOSTNAME,
    O_SASL_ALL,
    O_PLAIN_IN_CLEAR,
    O_ALLOW_PLAINTEXT,
    O_UTF8_STRICT,
} opt_id;

static const struct {
    const char *name;
    bool value;
    opt_id id;
} table[] = {
    {"listen", true, O_LISTEN},
    {"port-file", true, O_PORT_FILE},
    {"once", false, O_ONCE},
    {"idle-timeout", true, O_IDLE_TIMEOUT},
    {"max-sessions", true, O_MAX_SESSIONS},
    {"log", true, O_LOG},
    {"log-format", true, O_LOG_FORMAT},
    {"tls-cert", true, O_TLS_CERT},
    {"tls-key", true, O_TLS_KEY},
    {"implicit-tls", false, O_IMPLICIT_TLS},
    {"tls-max", true, O_TLS_MAX},
    {"max-command", true, O_MAX_COMMAND},
    {"max-sasl-line", true, O_MAX_SASL_LINE},
    {"max-input", true, O_MAX_INPUT},
    {"output-buffer", true, O_OUTPUT_BUFFER},
    {"max-output", true, O_MAX_OUTPUT},
    {"max-steps", true, O_MAX_STEPS},
    {"case", true, O_CASE},
    {"maildrop", true, O_MAILDROP},
    {"user", true, O_USER},
    {"password", true, O_PASSWORD},
    {"users", true, O_USERS},
    {"no-lock", false, O_NO_LOCK},
    {"quirk", true, O_QUIRK},
    {"preset", true, O_PRESET},
    {"hostname", true, O_HOSTNAME},
    {"sasl-all", false, O_SASL_ALL},
    {"plain-in-clear", false, O_PLAIN_IN_CLEAR},
    {"allow-plaintext", false, O_ALLOW_PLAINTEXT},
    {"utf8-strict", false, O_UTF8_STRICT},
};

void pop3mock__options_default(pop3mock__options *o)
{
    memset(o, 0, sizeof *o);
    pop3mock_server_config_default(&o->cfg);
    pop3mock_maildrop_options_default(&o->mopt);
    pop3mock_script_options_default(&o->sopt);
    o->hostname = "pop3kit.mock";
}

static int find(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0) return (int)i;
    return -1;
}

const char *pop3mock__option_name(size_t i)
{
    return i < sizeof table / sizeof table[0] ? table[i].name : NULL;
}

int pop3mock__option_kind(const char *name)
{
    int i = find(name);
    return i < 0 ? -1 : table[i].value ? 1 : 0;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen > 0) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A number in [lo, POP3MOCK_OPTION_VALUE_MAX]. */
static bool parse_size(const char *s, size_t lo, size_t *out)
{
    uint64_t v;
    if (pop3_parse_number(s, strlen(s), &v) != POP3_OK || v < lo || v > POP3MOCK_OPTION_VALUE_MAX)
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

/* The host part of an APOP timestamp, a msg-id: printable, no space, no angle bracket;
 * "localhost" when nothing of `in` is left. */
static const char *msgid_host(char *out, size_t cap, const char *in)
{
    size_t k = 0;
    for (; *in != '\0' && k + 1 < cap; in++) {
        char c = *in;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '-' || c == '_')
            out[k++] = c;
    }
    if (k == 0) return "localhost";
    out[k] = '\0';
    return out;
}

/* The numeric options: what the value counts and its lowest value (the highest is
 * POP3MOCK_OPTION_VALUE_MAX), both for the check and for the message. */
static const struct {
    opt_id id;
    const char *what;
    size_t lo;
} numeric[] = {
    {O_IDLE_TIMEOUT, "seconds", 0}, {O_MAX_SESSIONS, "a count", 1}, {O_MAX_COMMAND, "octets", 8},
    {O_MAX_SASL_LINE, "octets", 8}, {O_MAX_INPUT, "octets", 8},     {O_OUTPUT_BUFFER, "octets", 1},
    {O_MAX_OUTPUT, "octets", 1},    {O_MAX_STEPS, "a count", 1},
};

/* Where a numeric option's value goes. */
static void set_numeric(pop3mock__options *o, opt_id id, size_t v)
{
    pop3mock_limits *lim = &o->mopt.limits;
    switch (id) {
    case O_IDLE_TIMEOUT: o->cfg.idle_timeout = (unsigned)v; break;
    case O_MAX_SESSIONS: o->cfg.max_sessions = v; break;
    case O_MAX_COMMAND: lim->max_command = v; break;
    case O_MAX_SASL_LINE: lim->max_sasl_line = v; break;
    case O_MAX_INPUT: lim->max_input = v; break;
    case O_OUTPUT_BUFFER: lim->output_high = v; break;
    case O_MAX_OUTPUT: lim->max_output = v; break;
    case O_MAX_STEPS: o->sopt.max_steps = v; break;
    default: break;
    }
}

/* A numeric option: 0 set, -1 refused with the message, 1 `id` is no numeric option. */
static int set_number(pop3mock__options *o, opt_id id, const char *name, const char *val, char *err,
                      size_t errlen)
{
    for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++) {
        if (numeric[i].id != id) continue;
        size_t v;
        if (!parse_size(val, numeric[i].lo, &v))
            return fail(err, errlen, "--%s %s: want %s, %zu to %llu", name, val, numeric[i].what,
                        numeric[i].lo, POP3MOCK_OPTION_VALUE_MAX);
        set_numeric(o, id, v);
        return 0;
    }
    return 1;
}

static int set_switch(pop3mock__options *o, opt_id id)
{
    switch (id) {
    case O_ONCE: o->cfg.once = true; break;
    case O_IMPLICIT_TLS: o->mopt.implicit_tls = true; break;
    case O_NO_LOCK: o->no_lock = true; break;
    case O_SASL_ALL: o->mopt.sasl_all = true; break;
    case O_PLAIN_IN_CLEAR: o->mopt.plain_in_clear = true; break;
    case O_ALLOW_PLAINTEXT: o->allow_plaintext = true; break;
    case O_UTF8_STRICT: o->mopt.utf8_strict = true; break;
    default: return -1;
    }
    return 0;
}

static int set_value(pop3mock__options *o, opt_id id, const char *name, const char *val, char *err,
                     size_t errlen)
{
    const char *why = NULL;
    int rc = set_number(o, id, name, val, err, errlen);
    if (rc <= 0) return rc;
    switch (id) {
    case O_LISTEN: o->cfg.listen = val; return 0;
    case O_PORT_FILE: o->port_file = val; return 0;
    case O_LOG: o->cfg.log_path = val; return 0;
    case O_LOG_FORMAT:
        if (strcmp(val, "json") != 0 && strcmp(val, "text") != 0)
            return fail(err, errlen, "--log-format %s: want text or json", val);
        o->cfg.log_json = strcmp(val, "json") == 0;
        return 0;
    case O_TLS_CERT: o->cfg.tls_cert = val; return 0;
    case O_TLS_KEY: o->cfg.tls_key = val; return 0;
    case O_TLS_MAX:
        if (!parse_tls_version(val, &o->cfg.tls_max_version))
            return fail(err, errlen, "--tls-max %s: want 1.0, 1.1, 1.2 or 1.3", val);
        return 0;
    case O_CASE: o->case_file = val; return 0;
    case O_MAILDROP: o->maildrop = val; return 0;
    case O_USER: o->user = val; return 0;
    case O_PASSWORD: o->password = val; return 0;
    case O_USERS: o->users_file = val; return 0;
    case O_HOSTNAME: o->hostname = msgid_host(o->host, sizeof o->host, val); return 0;
    case O_QUIRK:
        if (pop3mock_quirk_enable(&o->mopt.quirks, val, &why) != 0)
            return fail(err, errlen, "--quirk %s: %s", val, why);
        return 0;
    case O_PRESET:
        if (pop3mock_preset_apply(&o->mopt.quirks, val, &why) != 0)
            return fail(err, errlen, "--preset %s: %s", val, why);
        return 0;
    default: return -1;
    }
}

int pop3mock__options_set(pop3mock__options *o, const char *name, const char *value, char *err,
                          size_t errlen)
{
    int i = find(name);
    if (i < 0) return fail(err, errlen, "unknown option '--%s'", name);
    if (!table[i].value) {
        if (value != NULL) return fail(err, errlen, "option '--%s' takes no value", name);
        return set_switch(o, table[i].id);
    }
    if (value == NULL) return fail(err, errlen, "option '--%s' needs a value", name);
    return set_value(o, table[i].id, name, value, err, errlen);
}

int pop3mock__options_check(pop3mock__options *o, size_t nscripts, char *err, size_t errlen)
{
    bool md = o->maildrop != NULL || o->users_file != NULL;
    int modes = (nscripts > 0) + (o->case_file != NULL) + md;
    if (modes == 0)
        return fail(err, errlen, "give SCRIPT files, --case FILE, --maildrop DIR or --users FILE");
    if (modes > 1)
        return fail(err, errlen,
                    "give only one of SCRIPT files, --case FILE and --maildrop/--users");
    if (o->maildrop != NULL && o->users_file != NULL)
        return fail(err, errlen, "--maildrop and --users exclude each other");
    if (o->cfg.tls_key != NULL && o->cfg.tls_cert == NULL)
        return fail(err, errlen, "--tls-key needs --tls-cert");
    if (md) {
        /* Scripts may name their own certificates (!tls-cert): checked when loaded. */
        if (o->mopt.implicit_tls && o->cfg.tls_cert == NULL)
            return fail(err, errlen, "--implicit-tls needs --tls-cert");
        if (o->maildrop != NULL && (o->user == NULL || o->password == NULL))
            return fail(err, errlen, "--maildrop needs --user and --password");
        if (o->users_file != NULL && (o->user != NULL || o->password != NULL))
            return fail(err, errlen, "--users gives the accounts: no --user or --password with it");
    } else if (o->mopt.quirks.flags != 0 || o->user != NULL || o->password != NULL || o->no_lock ||
               o->mopt.utf8_strict || o->mopt.sasl_all || o->mopt.plain_in_clear ||
               o->allow_plaintext || strcmp(o->hostname, "pop3kit.mock") != 0) {
        return fail(err, errlen,
                    "--quirk, --preset, --user, --password, --no-lock, --hostname, "
                    "--utf8-strict, --sasl-all, --plain-in-clear and --allow-plaintext belong "
                    "to maildrop mode");
    }
    /* After every --preset and --quirk, whatever their order: a server that counts this
     * connection as secure (Dovecot on loopback) takes plaintext logins. */
    if (o->allow_plaintext) o->mopt.quirks.flags &= ~POP3MOCK_QUIRK(PLAINTEXT_NEEDS_TLS);
    o->mopt.tls_available = o->cfg.tls_cert != NULL;
    return 0;
}
