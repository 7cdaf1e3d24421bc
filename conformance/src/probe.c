/*
 * probe.c - `pop3-conform --probe HOST:PORT --user U`: check a real server, read-only
 * unless --destructive, and report each finding against a requirement id (the reference
 * requirement matrix: RFC 1939, 2449, 2595, 3206, 5034, 6856, 8314) or a quirk of the
 * catalogue, named as pop3-mock names its misbehaviours.
 *
 * Output: one line per finding, "pass", "note" or "dev" (a deviation), the requirement
 * id, "quirk=NAME" when it is a named quirk, and what was seen; then a summary line.
 * Exit status: 0 no deviation, 1 deviations found, 2 usage, 3 the server could not be
 * reached or would not let us log in.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pop3/error.h"
#include "probe_checks.h"

static const char probe_usage[] =
    "usage: pop3-conform --probe HOST:PORT --user U [options]\n"
    "  password: the environment variable POP3_PASSWORD, or --password-file FILE\n"
    "  --tls               implicit TLS (RFC 8314, port 995 style)\n"
    "  --starttls          STLS after the greeting (RFC 2595)\n"
    "  --cafile FILE       trust these certificates instead of the system store\n"
    "  --insecure          do not verify the server's certificate\n"
    "  --timeout SECONDS   each wait for the server (10)\n"
    "  --max-messages N    messages retrieved and checked (20); larger than\n"
    "  --max-size OCTETS   (1048576) are skipped\n"
    "  --idle SECONDS      also stay idle this long and check the session survives\n"
    "  --destructive       also DELE and RSET (nothing is committed: no QUIT after DELE,\n"
    "                      but a server that deletes on disconnect will lose message 1)\n";

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
        if (quirk[0] == 'Q' && quirk[1] >= '0' && quirk[1] <= '9')
            snprintf(q, sizeof q, "%s", quirk);
        else
            snprintf(q, sizeof q, "quirk=%.*s%s", (int)n, quirk, quirk + n);
        if (!(quirk[0] == 'Q' && quirk[1] >= '0' && quirk[1] <= '9')) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)n, quirk);
            bool seen = false;
            for (size_t i = 0; i < f->quirks.n && !seen; i++)
                seen = strcmp(f->quirks.v[i], name) == 0;
            if (!seen) strlist_add(&f->quirks, name);
        }
    }
    printf("%-4s  %-13s %s%s%s\n", names[level], id, q, q[0] ? "  " : "", text);
    fflush(stdout);
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
    st.cfg = cfg;
    c.cfg = cfg;
    if (!opened) {
        fprintf(stderr, "pop3-conform: %s:%u: %s\n", cfg->host, cfg->port,
                st.login_error[0] ? st.login_error : "no usable greeting");
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
            fprintf(stderr, "pop3-conform: STLS failed: %s\n", ok ? c.error : "refused");
            probe_conn_close(&c);
            free(st.greeting);
            free(st.apop_ts);
            pop3_capa_free(&st.caps);
            return 3;
        }
        finding(f, F_PASS, "RFC2595-4.3", NULL, "STLS: the handshake succeeded");
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
         * offered only once TLS is on. */
        bool hidden =
            (pop3_capa_find(&before, "USER") == NULL && pop3_capa_find(&st.caps, "USER") != NULL) ||
            (!pop3_capa_has_param(&before, "SASL", "PLAIN") &&
             pop3_capa_has_param(&st.caps, "SASL", "PLAIN")) ||
            (!pop3_capa_has_param(&before, "SASL", "LOGIN") &&
             pop3_capa_has_param(&st.caps, "SASL", "LOGIN"));
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
        fprintf(stderr, "pop3-conform: cannot log in as %s: %s\n", cfg->user,
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
    free(st.greeting);
    free(st.apop_ts);
    pop3_capa_free(&st.caps);
    return rc;
}

int probe_main(int argc, char **argv)
{
    probe_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.timeout_ms = 10000;
    cfg.max_msgs = 20;
    cfg.max_octets = 1u << 20;
    const char *target = NULL, *password_file = NULL, *cafile = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--probe") == 0 && v != NULL) {
            target = v;
            i++;
        } else if (strcmp(a, "--user") == 0 && v != NULL) {
            cfg.user = v;
            i++;
        } else if (strcmp(a, "--password-file") == 0 && v != NULL) {
            password_file = v;
            i++;
        } else if (strcmp(a, "--cafile") == 0 && v != NULL) {
            cafile = v;
            i++;
        } else if (strcmp(a, "--tls") == 0) {
            cfg.tls = true;
        } else if (strcmp(a, "--starttls") == 0) {
            cfg.starttls = true;
        } else if (strcmp(a, "--insecure") == 0) {
            cfg.tlsopt.insecure = true;
        } else if (strcmp(a, "--destructive") == 0) {
            cfg.destructive = true;
        } else if (strcmp(a, "--timeout") == 0 && v != NULL && atoi(v) > 0) {
            cfg.timeout_ms = atoi(v) * 1000;
            i++;
        } else if (strcmp(a, "--idle") == 0 && v != NULL && atoi(v) > 0) {
            cfg.idle_s = (unsigned)atoi(v);
            i++;
        } else if (strcmp(a, "--max-messages") == 0 && v != NULL && atoi(v) >= 0) {
            cfg.max_msgs = (unsigned)atoi(v);
            i++;
        } else if (strcmp(a, "--max-size") == 0 && v != NULL && atol(v) > 0) {
            cfg.max_octets = (uint64_t)atol(v);
            i++;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(probe_usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "pop3-conform: unknown or incomplete probe option \"%s\"\n%s", a,
                    probe_usage);
            return 2;
        }
    }
    if (target == NULL || cfg.user == NULL || (cfg.tls && cfg.starttls)) {
        fputs(probe_usage, stderr);
        return 2;
    }
    /* HOST:PORT, [V6]:PORT */
    char host[256];
    const char *colon = strrchr(target, ':');
    if (colon == NULL || colon == target || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535) {
        fprintf(stderr, "pop3-conform: --probe wants HOST:PORT, got \"%s\"\n", target);
        return 2;
    }
    const char *hs = target;
    size_t hl = (size_t)(colon - target);
    if (hs[0] == '[' && hl > 2 && hs[hl - 1] == ']') {
        hs++;
        hl -= 2;
    }
    snprintf(host, sizeof host, "%.*s", (int)hl, hs);
    cfg.host = host;
    cfg.port = (unsigned)atoi(colon + 1);
    char *pw = NULL;
    if (password_file != NULL) {
        size_t n = 0;
        pw = read_file(password_file, &n);
        if (pw == NULL) {
            fprintf(stderr, "pop3-conform: cannot read %s\n", password_file);
            return 2;
        }
        while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
            pw[--n] = '\0';
        cfg.password = pw;
    } else {
        cfg.password = getenv("POP3_PASSWORD");
    }
    if (cfg.password == NULL) {
        fputs("pop3-conform: no password: set POP3_PASSWORD or give --password-file\n", stderr);
        return 2;
    }
    cfg.tlsopt.ca_file = cafile;
    printf("pop3-conform probe of %s:%u as %s (%s)%s\n", cfg.host, cfg.port, cfg.user,
           cfg.tls        ? "implicit TLS"
           : cfg.starttls ? "STLS"
                          : "plain",
           cfg.destructive ? ", destructive" : ", read-only");
    probe_findings f = {0};
    int rc = probe_run(&cfg, &f);
    printf("probe: %zu passed, %zu notes, %zu deviations", f.pass, f.note, f.dev);
    if (f.quirks.n > 0) {
        printf("; quirks:");
        for (size_t i = 0; i < f.quirks.n; i++)
            printf(" %s", f.quirks.v[i]);
    }
    printf("\n");
    strlist_free(&f.quirks);
    free(pw);
    if (rc != 0) return rc;
    return f.dev > 0 ? 1 : 0;
}
