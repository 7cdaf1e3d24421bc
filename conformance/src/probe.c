/*
 * probe.c - `pop3-conform --probe HOST:PORT --user U`: check a real server, read-only
 * unless --destructive, and report each finding against a requirement id (coverage.txt:
 * RFC 1939, 2449, 2595, 3206, 5034, 6856, 8314) or a quirk of the catalogue
 * (QUIRKS.md), named as pop3-mock names its misbehaviours.
 *
 * Output: one line per finding, "pass", "note" or "dev" (a deviation), the requirement
 * id, "quirk=NAME" when it is a named quirk, and what was seen; then a summary line. Or
 * TAP (--tap), or one JSON document (--json); and JUnit XML besides (--junit FILE).
 * Exit status: 0 no deviation, 1 deviations found, 2 usage, 3 the server could not be
 * reached or would not let us log in.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_usage.h"
#include "pop3/error.h"
#include "probe_checks.h"
#include "quirk_names.h"

static const char probe_usage[] =
    "usage: pop3-conform --probe HOST:PORT --user U [options]\n"
    "  password: the environment variable POP3_PASSWORD, or --password-file FILE\n"
    "  --tap               TAP 13 on standard output: a test point per finding\n"
    "  --json              one JSON document on standard output (pop3-conform(1))\n"
    "  --junit FILE        also write JUnit XML to FILE: a failure per deviation\n"
    "  --tls               implicit TLS (RFC 8314, port 995 style)\n"
    "  --starttls          STLS after the greeting (RFC 2595)\n"
    "  --cafile FILE       trust these certificates instead of the system store\n"
    "  --insecure          do not verify the server's certificate\n"
    "  --timeout SECONDS   each wait for the server (10)\n"
    "  --max-messages N    messages retrieved and checked (20); larger than\n"
    "  --max-size OCTETS   (1048576) are skipped\n"
    "  --idle SECONDS      also stay idle this long and check the session survives\n"
    "  --destructive       also DELE and RSET (nothing is committed: no QUIT after DELE,\n"
    "                      but a server that deletes on disconnect will lose message 1)\n"
    "  -h, --help, --version\n"
    "Exit status: 0 no deviation, 1 deviations, 2 usage, 3 the server could not be\n"
    "reached or refused the login.\n";

void finding(probe_findings *f, finding_level level, const char *id, const char *quirk,
             const char *fmt, ...)
{
    static const char *const names[] = {"pass", "note", "dev"};
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (level == F_PASS) f->pass++;
    if (level == F_NOTE) f->note++;
    if (level == F_DEV) f->dev++;
    char q[80] = "";
    if (quirk != NULL) {
        /* "no-dot-stuffing Q4": the mock's name first, then the catalogue number(s). */
        size_t n = strcspn(quirk, " ");
        bool only_ids = pop3conform_quirk_ids_only(quirk);
        if (only_ids)
            snprintf(q, sizeof q, "%s", quirk);
        else
            snprintf(q, sizeof q, "quirk=%.*s%s", (int)n, quirk, quirk + n);
        if (!only_ids) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)n, quirk);
            bool seen = false;
            for (size_t i = 0; i < f->quirks.n && !seen; i++)
                seen = strcmp(f->quirks.v[i], name) == 0;
            if (!seen) strlist_add(&f->quirks, name);
        }
    }
    f->v = xarray_grow(f->v, &f->cap, f->n + 1, sizeof *f->v);
    probe_finding *x = &f->v[f->n++];
    *x = (probe_finding){.level = level,
                         .id = xstrdup(id),
                         .quirk = quirk != NULL ? xstrdup(quirk) : NULL,
                         .text = xstrdup(text)};
    if (f->format == PROBE_TAP) {
        probe_tap_point(f, x);
    } else if (f->format == PROBE_TEXT) {
        char label[160]; /* each catalogue number with its name, "Q41 (stls-injection)" */
        pop3conform_quirk_annotate(q, label, sizeof label);
        printf("%-4s  %-13s %s%s%s\n", names[level], id, label, q[0] ? "  " : "", text);
        fflush(stdout);
    }
}

void probe_fatal(probe_findings *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->fatal, sizeof f->fatal, fmt, ap);
    va_end(ap);
    fprintf(stderr, "pop3-conform: %s\n", f->fatal);
}

void probe_findings_free(probe_findings *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].id);
        free(f->v[i].quirk);
        free(f->v[i].text);
    }
    free(f->v);
    strlist_free(&f->quirks);
    strlist_free(&f->caps);
    strlist_free(&f->sasl_works);
    free(f->greeting);
    memset(f, 0, sizeof *f);
}

/* What the JSON report says the server supports: kept before the state goes. */
static void keep_supported(probe_findings *f, const probe_state *st)
{
    /* The first greeting: later sessions replace st->greeting. */
    if (f->greeting == NULL && st->greeting != NULL) f->greeting = xstrdup(st->greeting);
    f->apop = st->apop_ts != NULL;
    f->caps_known = st->caps_known;
    strlist_free(&f->caps);
    for (size_t i = 0; i < st->caps.count; i++)
        strlist_take(&f->caps, xstrndup(st->caps.caps[i].line.ptr, st->caps.caps[i].line.len));
}

int probe_run(const probe_config *cfg, probe_findings *f)
{
    probe_state st = {.cfg = cfg, .f = f};
    pop3_capa_init(&st.caps);
    probe_conn c;
    /* The first session opens in clear even with --starttls, so that CAPA can be seen
     * before and after TLS (RFC 2595 section 4: STLS is announced, and gone under TLS;
     * RFC 5034 section 3: the mechanisms may change). */
    probe_config clear = *cfg;
    clear.starttls = false;
    st.cfg = &clear;
    bool opened = probe_open(&st, &c, true);
    if (st.greeting != NULL) f->greeting = xstrdup(st.greeting);
    st.cfg = cfg;
    c.cfg = cfg;
    if (!opened) {
        probe_fatal(f, "%s:%u: %s", cfg->host, cfg->port,
                    st.login_error[0] ? st.login_error : "no usable greeting");
        keep_supported(f, &st);
        probe_conn_close(&c);
        free(st.greeting);
        free(st.apop_ts);
        return 3;
    }
    st.greetings++;
    st.caps_known = probe_capa(&st, &c, &st.caps, cfg->starttls ? "before STLS" : "before login");
    if (st.caps_known) {
        finding(f, F_PASS, "RFC2449-5.1", NULL, "CAPA %s: %zu capabilities",
                cfg->starttls ? "before STLS" : "before login", st.caps.count);
        if (pop3_capa_find(&st.caps, "CAPA") != NULL)
            finding(f, F_NOTE, "RFC2449-5.5", "capa-lists-capa",
                    "CAPA lists \"CAPA\" itself (not a registered capability; Dovecot does it)");
        if (cfg->tls && pop3_capa_find(&st.caps, "STLS") != NULL)
            finding(f, F_DEV, "RFC2595-4.2", NULL, "STLS is announced under implicit TLS");
    }
    if (cfg->starttls) {
        if (st.caps_known && pop3_capa_find(&st.caps, "STLS") == NULL)
            finding(f, F_DEV, "RFC2595-4.1", NULL, "CAPA does not announce STLS");
        probe_reply r;
        probe_cmd(&c, "STLS", &r, false);
        bool ok = r.ok;
        probe_reply_free(&r);
        if (ok && probe_unsolicited(&c, 0) > 0) {
            finding(f, F_DEV, "RFC2595-4.8", "Q41",
                    "octets followed the STLS +OK before the handshake");
            ok = false;
        }
        if (!ok || probe_starttls(&c) != POP3_OK) {
            probe_fatal(f, "STLS failed: %s", ok ? c.error : "refused");
            keep_supported(f, &st);
            probe_conn_close(&c);
            free(st.greeting);
            free(st.apop_ts);
            pop3_capa_free(&st.caps);
            return 3;
        }
        finding(f, F_PASS, "RFC2595-4.3", NULL, "STLS: the handshake succeeded");
        f->stls = true;
        pop3_capa_set before = st.caps;
        pop3_capa_init(&st.caps);
        st.caps_known = probe_capa(&st, &c, &st.caps, "after STLS");
        if (pop3_capa_find(&st.caps, "STLS") != NULL)
            finding(f, F_DEV, "RFC2595-4.2", NULL, "STLS is still announced under TLS");
        else if (st.caps_known)
            finding(f, F_PASS, "RFC2595-4.2", NULL, "STLS is no longer announced under TLS");
        /* A mechanism announced in clear and gone under TLS (RFC 5034 section 3 allows it). */
        for (size_t i = 0; i < before.count; i++) {
            const pop3_capability *b = &before.caps[i];
            if (b->name.len != 4 || strncasecmp(b->name.ptr, "SASL", 4) != 0) continue;
            bool gone = false;
            for (size_t j = 0; j < b->nparams && !gone; j++) {
                char mech[64];
                snprintf(mech, sizeof mech, "%.*s", (int)b->params[j].len, b->params[j].ptr);
                gone = !pop3_capa_has_param(&st.caps, "SASL", mech);
            }
            if (gone)
                finding(f, F_NOTE, "RFC5034-3.2", NULL,
                        "the SASL list changed under TLS (allowed): before \"%.*s\"",
                        (int)b->line.len, b->line.ptr);
        }
        /* RFC 2595 section 2.3 (and Dovecot's disable_plaintext_auth): cleartext logins
         * offered only once TLS is on. USER is the sign: PLAIN alone appearing under TLS
         * is what RFC 2595 section 6 asks of every server. */
        bool hidden =
            pop3_capa_find(&before, "USER") == NULL && pop3_capa_find(&st.caps, "USER") != NULL;
        if (hidden)
            finding(f, F_NOTE, "RFC2595-2.3", "plaintext-needs-tls",
                    "USER and plaintext SASL mechanisms are offered only under TLS");
        pop3_capa_free(&before);
        probe_cmd(&c, "STLS", &r, false);
        finding(f, r.err ? F_PASS : F_DEV, "RFC2595-4.4", NULL, "a second STLS is %s",
                r.err ? "refused" : "not refused");
        probe_reply_free(&r);
    }
    int rc = 0;
    if (!probe_login(&st, &c)) {
        probe_fatal(f, "cannot log in as %s: %s", cfg->user,
                    st.login_error[0] ? st.login_error : "refused");
        rc = 3;
    } else {
        finding(f, F_PASS, "RFC1939-7.6", NULL, "logged in as %s", cfg->user);
        check_transaction(&st, &c);
    }
    probe_conn_close(&c);
    if (rc == 0) {
        check_authorization_state(&st);
        check_bad_command_limit(&st);
        check_bad_password(&st);
        check_apop(&st);
        check_sasl_mechanisms(&st);
        if (cfg->destructive) check_destructive(&st);
    }
    keep_supported(f, &st);
    free(st.greeting);
    free(st.apop_ts);
    pop3_capa_free(&st.caps);
    return rc;
}

enum {
    P_PROBE = 256,
    P_USER,
    P_PASSWORD_FILE,
    P_CAFILE,
    P_TLS,
    P_STARTTLS,
    P_INSECURE,
    P_DESTRUCTIVE,
    P_TIMEOUT,
    P_IDLE,
    P_MAX_MESSAGES,
    P_MAX_SIZE,
    P_TAP,
    P_JSON,
    P_JUNIT,
    P_VERSION,
};

static const struct option probe_options[] = {
    {"probe", required_argument, NULL, P_PROBE},
    {"user", required_argument, NULL, P_USER},
    {"password-file", required_argument, NULL, P_PASSWORD_FILE},
    {"cafile", required_argument, NULL, P_CAFILE},
    {"tls", no_argument, NULL, P_TLS},
    {"starttls", no_argument, NULL, P_STARTTLS},
    {"insecure", no_argument, NULL, P_INSECURE},
    {"destructive", no_argument, NULL, P_DESTRUCTIVE},
    {"timeout", required_argument, NULL, P_TIMEOUT},
    {"idle", required_argument, NULL, P_IDLE},
    {"max-messages", required_argument, NULL, P_MAX_MESSAGES},
    {"max-size", required_argument, NULL, P_MAX_SIZE},
    {"tap", no_argument, NULL, P_TAP},
    {"json", no_argument, NULL, P_JSON},
    {"junit", required_argument, NULL, P_JUNIT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, P_VERSION},
    {NULL, 0, NULL, 0},
};

int probe_main(int argc, char **argv)
{
    probe_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.timeout_ms = 10000;
    cfg.max_msgs = 20;
    cfg.max_octets = 1u << 20;
    const char *target = NULL, *password_file = NULL, *cafile = NULL, *junit = NULL;
    probe_format format = PROBE_TEXT;
    /* "--probe --help": --help would be taken for the probe's HOST:PORT. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(probe_usage, stdout);
            return 0;
        }
    }
    int c;
    uint64_t v;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", probe_options, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(probe_usage, stdout); return 0;
        case P_VERSION: return conform_version();
        case P_PROBE: target = optarg; break;
        case P_USER: cfg.user = optarg; break;
        case P_PASSWORD_FILE: password_file = optarg; break;
        case P_CAFILE: cafile = optarg; break;
        case P_TLS: cfg.tls = true; break;
        case P_STARTTLS: cfg.starttls = true; break;
        case P_INSECURE: cfg.tlsopt.insecure = true; break;
        case P_DESTRUCTIVE: cfg.destructive = true; break;
        case P_TIMEOUT:
            if (pop3__arg_number("pop3-conform", "--timeout", "seconds", optarg, 1, 3600, &v) != 0)
                return POP3_EXIT_USAGE;
            cfg.timeout_ms = (int)v * 1000;
            break;
        case P_IDLE:
            if (pop3__arg_number("pop3-conform", "--idle", "seconds", optarg, 1, 86400, &v) != 0)
                return POP3_EXIT_USAGE;
            cfg.idle_s = (unsigned)v;
            break;
        case P_MAX_MESSAGES:
            if (pop3__arg_number("pop3-conform", "--max-messages", "a number", optarg, 0, 1000000,
                                 &v) != 0)
                return POP3_EXIT_USAGE;
            cfg.max_msgs = (unsigned)v;
            break;
        case P_MAX_SIZE:
            if (pop3__arg_number("pop3-conform", "--max-size", "octets", optarg, 1, UINT64_MAX,
                                 &v) != 0)
                return POP3_EXIT_USAGE;
            cfg.max_octets = v;
            break;
        case P_TAP:
        case P_JSON:
            if (format != PROBE_TEXT && format != (c == P_TAP ? PROBE_TAP : PROBE_JSON))
                return conform_usage_error("--tap and --json exclude each other");
            format = c == P_TAP ? PROBE_TAP : PROBE_JSON;
            break;
        case P_JUNIT: junit = optarg; break;
        default: return conform_getopt_error(c, argv, probe_options);
        }
    }
    if (optind < argc) return conform_usage_error("unexpected argument '%s'", argv[optind]);
    if (cfg.user == NULL) return conform_usage_error("--probe needs --user");
    if (cfg.tls && cfg.starttls)
        return conform_usage_error("--tls and --starttls exclude each other");
    /* HOST:PORT, [V6]:PORT */
    char host[256];
    const char *colon = strrchr(target, ':');
    uint64_t port = 0;
    if (colon == NULL || colon == target || !conform_number(colon + 1, 1, 65535, &port))
        return conform_usage_error("--probe wants HOST:PORT, not '%s'", target);
    const char *hs = target;
    size_t hl = (size_t)(colon - target);
    if (hs[0] == '[' && hl > 2 && hs[hl - 1] == ']') {
        hs++;
        hl -= 2;
    }
    if (hl >= sizeof host) return conform_usage_error("--probe: the host name is too long");
    snprintf(host, sizeof host, "%.*s", (int)hl, hs);
    cfg.host = host;
    cfg.port = (unsigned)port;
    char *pw = NULL;
    if (password_file != NULL) {
        size_t n = 0;
        pw = read_file(password_file, &n);
        if (pw == NULL) return conform_usage_error("cannot read %s", password_file);
        while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
            pw[--n] = '\0';
        cfg.password = pw;
    } else {
        cfg.password = getenv("POP3_PASSWORD");
    }
    if (cfg.password == NULL)
        return conform_usage_error("no password: set POP3_PASSWORD or give --password-file");
    cfg.tlsopt.ca_file = cafile;
    char title[512];
    snprintf(title, sizeof title, "pop3-conform probe of %s:%u as %s (%s)%s", cfg.host, cfg.port,
             cfg.user,
             cfg.tls        ? "implicit TLS"
             : cfg.starttls ? "STLS"
                            : "plain",
             cfg.destructive ? ", destructive" : ", read-only");
    if (format == PROBE_TEXT) printf("%s\n", title);
    if (format == PROBE_TAP) printf("TAP version 13\n# %s\n", title);
    fflush(stdout);
    probe_findings f = {0};
    f.format = format;
    int rc = probe_run(&cfg, &f);
    if (rc == 0) rc = f.dev > 0 ? 1 : 0;
    if (format == PROBE_TEXT) {
        printf("probe: %zu passed, %zu notes, %zu deviations", f.pass, f.note, f.dev);
        if (f.quirks.n > 0) {
            printf("; quirks:");
            for (size_t i = 0; i < f.quirks.n; i++)
                printf(" %s", f.quirks.v[i]);
        }
        printf("\n");
    } else if (format == PROBE_TAP) {
        probe_tap_end(&f);
    } else {
        probe_json(&f, &cfg, rc);
    }
    fflush(stdout);
    char err[600];
    if (junit != NULL && probe_junit(&f, &cfg, junit, err, sizeof err) != 0) {
        fprintf(stderr, "pop3-conform: %s\n", err);
        if (rc == 0) rc = 2;
    }
    probe_findings_free(&f);
    free(pw);
    return rc;
}
