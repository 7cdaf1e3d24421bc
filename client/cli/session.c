/*
 * session.c - how the `pop3` command opens a session: implicit TLS (RFC 8314 section
 * 3.1) or TCP, STLS when required (RFC 2595 section 4; nothing but CAPA and STLS is sent
 * in clear then, RFC 8314 section 5.2), and the login the options ask for (RFC 1939
 * section 7 USER/PASS and APOP, RFC 5034 AUTH); the -v trace of both directions.
 *
 * The command opens the transport itself and wraps it, so that a signal can end a wait
 * for the server (fetch's SIGINT/SIGTERM handling) without the library ever touching
 * signals: the wrapper waits in slices and looks at cli_interrupted between them.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_usage.h"
#include "pop3/parse.h"

volatile sig_atomic_t cli_interrupted;

int cli_exit_status(int error)
{
    switch (error) {
    case POP3_OK: return EXIT_OK;
    case POP3_ESERVER:
    case POP3_ESTATE: /* the server cannot do what was asked (no APOP timestamp, no usable
                         login): the server's answer, not a fault of ours */
        return EXIT_SERVER;
    case POP3_EUSAGE: return EXIT_USAGE;
    case POP3_EIO:
    case POP3_ETLS:
    case POP3_ETIMEOUT:
    case POP3_ECLOSED: return EXIT_CONNECTION;
    default: return EXIT_PROTOCOL; /* EPROTO, ELIMIT, ENOMEM */
    }
}

int cli_report(pop3_client *c, int error, const char *what)
{
    const char *msg = c ? pop3_errmsg(c) : "";
    if (!msg || !*msg) msg = pop3_strerror(error);
    /* The library names a failed verification "...; certificate: <reason>". */
    const char *hint = error == POP3_ETLS && strstr(msg, "certificate")
                           ? " (--cafile FILE trusts the server's CA; --insecure skips the check)"
                           : "";
    /* The client's message often names the command already ("STLS: ..."). */
    size_t n = strlen(what);
    if (strncmp(msg, what, n) == 0 && msg[n] == ':')
        fprintf(stderr, "pop3: %s%s\n", msg, hint);
    else
        fprintf(stderr, "pop3: %s: %s%s\n", what, msg, hint);
    return cli_exit_status(error);
}

int cli_number(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    return pop3__arg_in_range(s, min, max, out) ? 0 : -1;
}

/* Tracing
 * ------- */

/* Print `len` octets escaped (a hostile server must not drive the terminal). */
static void put_escaped(FILE *f, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f)
            fputc(ch, f);
        else
            fprintf(f, "\\x%02x", ch);
    }
}

/*
 * The library's trace lines are poplib's ("*cmd* STAT", "*resp* +OK", "*get* 1 120").
 * -v shows the commands ("> ") and the status lines ("< "), passwords already masked by
 * the library; -vv adds the listing and CAPA lines and the end of each body.
 */
static void trace_line(void *ud, int level, const char *line)
{
    const cli_options *o = ud;
    (void)level;
    static const struct {
        const char *tag;
        int verbose;
        const char *shown; /* NULL: not shown */
    } map[] = {
        {"*cmd* ", 1, "> "},
        {"*resp* ", 1, "< "},
        {"*put* ", 9, NULL},
        {"*get* ", 2, "< "},
        {"*banner* ", 2, "< "},
        {"*body* ", 2, "  body: "},
        {"*unsolicited* ", 1, "< (unsolicited) "},
        {"*tls* ", 1, "* "}, /* "* TLS established: TLSv1.3, TLS_AES_256_GCM_SHA384" */
    };
    const char *text = line;
    const char *shown = "* ";
    int need = 1;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t n = strlen(map[i].tag);
        if (strncmp(line, map[i].tag, n) == 0) {
            text = line + n;
            shown = map[i].shown;
            need = map[i].verbose;
            break;
        }
    }
    if (!shown || o->verbose < need) return;
    if (text == line && line[0] == '*') {
        /* "*connect* host port": "* connect host port" */
        const char *end = strchr(line + 1, '*');
        if (end) {
            fprintf(stderr, "* %.*s%s\n", (int)(end - line - 1), line + 1, end + 1);
            return;
        }
    }
    fprintf(stderr, "%s%s\n", shown, text);
}

void cli_trace_body(const cli_options *o, const char *data, size_t len)
{
    /* Lines may be split across chunks: a line is printed as its pieces arrive. */
    static bool mid_line;
    if (o->verbose < 2) return;
    while (len > 0) {
        const char *lf = memchr(data, '\n', len);
        size_t n = lf ? (size_t)(lf - data) + 1 : len;
        if (!mid_line) fputs("< ", stderr);
        size_t show = n;
        if (lf) show -= (show >= 2 && data[n - 2] == '\r') ? 2 : 1;
        put_escaped(stderr, data, show);
        if (lf) fputc('\n', stderr);
        mid_line = lf == NULL;
        data += n;
        len -= n;
    }
}

/* The interruptible transport
 * --------------------------- */

/* How long one wait may last before cli_interrupted is looked at again. */
#define CLI_WAIT_SLICE_MS 100

typedef struct cli_transport {
    pop3_transport base;
    pop3_transport *inner;
} cli_transport;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int interrupted(cli_transport *w)
{
    snprintf(w->base.error, sizeof w->base.error, "interrupted by %s",
             cli_interrupted == SIGTERM ? "SIGTERM" : "SIGINT");
    return POP3_EIO;
}

static int ct_read(pop3_transport *t, char *buf, size_t cap, size_t *got, int timeout_ms)
{
    cli_transport *w = (cli_transport *)t;
    long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        if (cli_interrupted) return interrupted(w);
        int slice = CLI_WAIT_SLICE_MS;
        if (deadline >= 0) {
            long long left = deadline - now_ms();
            if (left < slice) slice = left < 1 ? 1 : (int)left;
        }
        int rc = w->inner->ops->read(w->inner, buf, cap, got, slice);
        if (rc == POP3_ETIMEOUT && (deadline < 0 || now_ms() < deadline)) continue;
        if (rc != POP3_OK) memcpy(t->error, w->inner->error, sizeof t->error);
        return rc;
    }
}

static int ct_write(pop3_transport *t, const char *buf, size_t len, int timeout_ms)
{
    cli_transport *w = (cli_transport *)t;
    if (cli_interrupted) return interrupted(w);
    int rc = w->inner->ops->write(w->inner, buf, len, timeout_ms);
    if (rc != POP3_OK) memcpy(t->error, w->inner->error, sizeof t->error);
    return rc;
}

static int ct_starttls(pop3_transport *t, const pop3_tls_options *tls, int timeout_ms)
{
    cli_transport *w = (cli_transport *)t;
    int rc = w->inner->ops->starttls(w->inner, tls, timeout_ms);
    if (rc != POP3_OK) memcpy(t->error, w->inner->error, sizeof t->error);
    return rc;
}

static bool ct_is_tls(const pop3_transport *t)
{
    const cli_transport *w = (const cli_transport *)t;
    return w->inner->ops->is_tls(w->inner);
}

static int ct_tls_info(const pop3_transport *t, const char **version, const char **cipher)
{
    const cli_transport *w = (const cli_transport *)t;
    if (w->inner->ops->tls_info == NULL) {
        *version = *cipher = NULL;
        return POP3_ESTATE;
    }
    return w->inner->ops->tls_info(w->inner, version, cipher);
}

static void ct_close(pop3_transport *t)
{
    cli_transport *w = (cli_transport *)t;
    w->inner->ops->close(w->inner);
    free(w);
}

static const pop3_transport_ops cli_transport_ops = {
    .read = ct_read,
    .write = ct_write,
    .starttls = ct_starttls,
    .is_tls = ct_is_tls,
    .close = ct_close,
    .tls_info = ct_tls_info, /* the library's TLS trace line names what was negotiated */
};

/* Connecting
 * ---------- */

int cli_connect(pop3_client **out, const cli_options *o)
{
    pop3_options opt;
    pop3_options_default(&opt);
    opt.require_tls = o->starttls || o->tls;
    opt.allow_apop = true; /* strongest SASL, then APOP, then USER/PASS */
    if (o->timeout > 0) {
        /* Rounded up, so that a tiny timeout does not become 0 (no wait at all). */
        double ms = o->timeout * 1000.0;
        int v = ms >= 2147483647.0 ? 2147483647 : (int)ms;
        if ((double)v < ms) v++;
        opt.timeout_ms = opt.connect_timeout_ms = v;
    } else {
        opt.timeout_ms = opt.connect_timeout_ms = -1; /* --timeout 0: no limit */
    }
    pop3_client *c = NULL;
    int rc = pop3_client_new(&c, &opt);
    if (rc != POP3_OK) {
        fprintf(stderr, "pop3: %s\n", pop3_strerror(rc));
        return rc;
    }
    if (o->verbose > 0) {
        pop3_set_debuglevel(c, 2);
        pop3_set_debug_callback(c, trace_line, (void *)o);
    }
    pop3_tls_options tls;
    memset(&tls, 0, sizeof tls);
    tls.ca_file = o->cafile;
    tls.insecure = o->insecure;
    unsigned port = o->port ? o->port : o->tls ? POP3_TLS_PORT : POP3_PORT;
    if (o->verbose > 0)
        fprintf(stderr, "* connect %s port %u%s\n", o->host, port, o->tls ? " (TLS)" : "");
    char err[POP3_TRANSPORT_ERROR_SIZE];
    pop3_transport *inner = NULL;
    if (o->tls)
        rc = pop3_transport_tls_connect(&inner, o->host, port, opt.connect_timeout_ms, &tls, err,
                                        sizeof err);
    else
        rc = pop3_transport_tcp_connect(&inner, o->host, port, opt.connect_timeout_ms, err,
                                        sizeof err);
    if (rc != POP3_OK) {
        const char *hint = rc == POP3_ETLS && strstr(err, "certificate")
                               ? " (--cafile FILE trusts the server's CA; --insecure skips the "
                                 "check)"
                               : "";
        fprintf(stderr, "pop3: connect: %s%s\n", err, hint);
        pop3_client_free(c);
        return rc;
    }
    cli_transport *w = calloc(1, sizeof *w);
    if (!w) {
        inner->ops->close(inner);
        pop3_client_free(c);
        fprintf(stderr, "pop3: out of memory\n");
        return POP3_ENOMEM;
    }
    w->base.ops = &cli_transport_ops;
    w->inner = inner;
    rc = pop3_connect_transport(c, &w->base, o->host, port);
    if (rc != POP3_OK) {
        cli_report(c, rc, "connect");
        pop3_client_free(c);
        return rc;
    }
    if (o->starttls && !o->tls) {
        rc = pop3_stls(c, &tls);
        if (rc != POP3_OK) {
            /* A refused or missing STLS is a TLS failure for the user: they asked for it. */
            if (rc == POP3_ESERVER) rc = POP3_ETLS;
            cli_report(c, rc, "STLS");
            pop3_client_free(c);
            return rc;
        }
    }
    *out = c;
    return POP3_OK;
}

static bool bearer_mechanism(const char *mech)
{
    return mech && (strcmp(mech, "XOAUTH2") == 0 || strcmp(mech, "OAUTHBEARER") == 0);
}

int cli_login(pop3_client *c, const cli_options *o)
{
    if (!o->user || !o->password) {
        fprintf(stderr, "pop3: a user (-u, a URL or --netrc-file) and a password "
                        "(--password-command, --password-file, POP3_PASSWORD or "
                        "--netrc-file) are needed\n");
        return POP3_EUSAGE;
    }
    int rc;
    const char *what;
    if (o->apop) {
        what = "APOP";
        rc = pop3_apop(c, o->user, o->password);
    } else {
        pop3_credentials cred;
        memset(&cred, 0, sizeof cred);
        cred.user = o->user;
        cred.secret = o->password;
        if (o->auth) {
            what = "AUTH";
            cred.bearer = bearer_mechanism(o->auth);
            rc = pop3_auth(c, o->auth, &cred);
        } else {
            what = "login";
            rc = pop3_login(c, &cred);
        }
    }
    if (rc != POP3_OK) cli_report(c, rc, what);
    return rc;
}
