/*
 * pop3_record.c - the `pop3-record` command: options (getopt_long), the listening
 * socket, one relayed session after another.
 *
 * pop3-record --upstream HOST:PORT [--listen ADDR:PORT] [--upstream-tls |
 *             --upstream-starttls] [--cafile FILE | --insecure] [--tls-cert PEM
 *             --tls-key PEM] [--once] --out FILE
 * The command-line contract (names, the ready line, exit statuses) is documented in
 * the man page pop3-record.1.
 *
 * Exit status: 0 every session was recorded whole; 1 a recording is partial (marked so
 * in the file); 2 usage or configuration error; 3 the recorder could not listen, or the
 * upstream could not be reached; 5 FILE could not be written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "case_writer.h"
#include "cli_usage.h"
#include "listener.h"
#include "script_writer.h"
#include "session.h"
#include "tls_server.h"

#ifndef POP3KIT_VERSION
#error "POP3KIT_VERSION is defined by the build (the project's version)"
#endif

enum {
    EXIT_PARTIAL = 1,
    EXIT_USAGE = 2,
    EXIT_NETWORK = 3,
    EXIT_FILE = 5,
};

static void usage(FILE *f)
{
    fputs("usage: pop3-record --upstream HOST:PORT --out FILE [options]\n"
          "\n"
          "A POP3 proxy that writes each session it relays as a pop3-mock script:\n"
          "`pop3-mock FILE` replays it to the same client with the same result.\n"
          "\n"
          "  --upstream HOST:PORT    the real server ([HOST]:PORT for IPv6)\n"
          "  --out FILE              the script (several sessions: one !session each)\n"
          "  --listen ADDR:PORT      where clients connect (127.0.0.1:0; 0 picks a port)\n"
          "  --once                  relay one session, then exit\n"
          "  --upstream-tls          TLS to the upstream from the start (port 995 style)\n"
          "  --upstream-starttls     STLS to the upstream (the client's, or the recorder's\n"
          "                          own before the first command that is not CAPA)\n"
          "  --cafile FILE           trust these CA certificates for the upstream\n"
          "  --insecure              do not verify the upstream's certificate\n"
          "  --tls-cert PEM          the recorder's certificate: clients may STLS\n"
          "  --tls-key PEM           its key (the --tls-cert file when omitted)\n"
          "  --implicit-tls          clients connect with TLS (needs --tls-cert)\n"
          "  --timeout SECONDS       how long the upstream may stay silent while a reply\n"
          "                          is due, and the limit on each write and handshake (30)\n"
          "  --max-line OCTETS       longest client line, CRLF included (16384)\n"
          "  --keep-timing           keep the server's chunking and pauses (!flush, !delay)\n"
          "  --case FILE             also write a conformance case skeleton of each session\n"
          "                          (FILE, then FILE.2, FILE.3, ...)\n"
          "  -h, --help              this help\n"
          "  --version               the version\n"
          "\n"
          "Passwords, SASL responses and APOP digests are written as {*}: the replay\n"
          "accepts any credential. Exit status: 0 recorded, 1 a recording is partial,\n"
          "2 usage, 3 cannot listen or reach the upstream, 5 FILE cannot be written.\n",
          f);
}

/* A usage error: "pop3-record: MESSAGE" and the hint on stderr; returns exit status 2. */
#define bad(...) pop3__usage_error("pop3-record", __VA_ARGS__)

enum {
    OPT_UPSTREAM = 256,
    OPT_LISTEN,
    OPT_CAFILE,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_OUT,
    OPT_TIMEOUT,
    OPT_MAX_LINE,
    OPT_CASE,
    /* options without a value from here on */
    OPT_UPSTREAM_TLS,
    OPT_UPSTREAM_STARTTLS,
    OPT_INSECURE,
    OPT_IMPLICIT_TLS,
    OPT_ONCE,
    OPT_KEEP_TIMING,
    OPT_VERSION,
};

static const struct option long_options[] = {
    {"upstream", required_argument, NULL, OPT_UPSTREAM},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"cafile", required_argument, NULL, OPT_CAFILE},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"out", required_argument, NULL, OPT_OUT},
    {"case", required_argument, NULL, OPT_CASE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"max-line", required_argument, NULL, OPT_MAX_LINE},
    {"upstream-tls", no_argument, NULL, OPT_UPSTREAM_TLS},
    {"upstream-starttls", no_argument, NULL, OPT_UPSTREAM_STARTTLS},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"implicit-tls", no_argument, NULL, OPT_IMPLICIT_TLS},
    {"once", no_argument, NULL, OPT_ONCE},
    {"keep-timing", no_argument, NULL, OPT_KEEP_TIMING},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct record_cli {
    const char *upstream, *listen, *cafile, *tls_cert, *tls_key, *out, *case_path;
    bool upstream_tls, upstream_starttls, insecure, implicit_tls, once, keep_timing;
    uint64_t timeout_s, max_line;
} record_cli;

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int number(const char *name, const char *val, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!pop3__arg_in_range(val, lo, hi, out))
        return bad("%s '%s': expected a number from %llu to %llu", name, val,
                   (unsigned long long)lo, (unsigned long long)hi);
    return 0;
}

static int parse(record_cli *o, int argc, char **argv, bool *done)
{
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        int rc = 0;
        switch (opt) {
        case 'h':
            usage(stdout);
            *done = true;
            return 0;
        case OPT_VERSION: *done = true; return pop3__print_version("pop3-record");
        case OPT_UPSTREAM: o->upstream = optarg; break;
        case OPT_LISTEN: o->listen = optarg; break;
        case OPT_CAFILE: o->cafile = optarg; break;
        case OPT_TLS_CERT: o->tls_cert = optarg; break;
        case OPT_TLS_KEY: o->tls_key = optarg; break;
        case OPT_OUT: o->out = optarg; break;
        case OPT_CASE: o->case_path = optarg; break;
        case OPT_TIMEOUT: rc = number("--timeout", optarg, 1, 86400, &o->timeout_s); break;
        case OPT_MAX_LINE: rc = number("--max-line", optarg, 8, 1u << 24, &o->max_line); break;
        case OPT_UPSTREAM_TLS: o->upstream_tls = true; break;
        case OPT_UPSTREAM_STARTTLS: o->upstream_starttls = true; break;
        case OPT_INSECURE: o->insecure = true; break;
        case OPT_IMPLICIT_TLS: o->implicit_tls = true; break;
        case OPT_ONCE: o->once = true; break;
        case OPT_KEEP_TIMING: o->keep_timing = true; break;
        default: return pop3__getopt_error("pop3-record", opt, argv, long_options);
        }
        if (rc != 0) return rc;
    }
    if (optind < argc) return bad("unexpected argument '%s'", argv[optind]);
    if (o->upstream == NULL) return bad("--upstream HOST:PORT is required");
    if (o->out == NULL) return bad("--out FILE is required");
    if (o->upstream_tls && o->upstream_starttls)
        return bad("--upstream-tls and --upstream-starttls exclude each other");
    if (o->cafile != NULL && o->insecure) return bad("--cafile and --insecure exclude each other");
    if (o->tls_key != NULL && o->tls_cert == NULL) return bad("--tls-key needs --tls-cert");
    if (o->implicit_tls && o->tls_cert == NULL) return bad("--implicit-tls needs --tls-cert");
    return 0;
}

/* The top of the script: where it came from, and the certificate its replay serves. */
static void header(rec_writer *w, const record_cli *o)
{
    rec_comment(w, "recorded by pop3-record (pop3kit) " POP3KIT_VERSION " from %s", o->upstream);
    rec_comment(w, "replay: pop3-mock %s", o->out);
    if (o->tls_cert != NULL) {
        /* Absolute, so the script replays from any folder with the same certificate. */
        char cert[PATH_MAX], key[PATH_MAX];
        if (realpath(o->tls_cert, cert) == NULL) snprintf(cert, sizeof cert, "%s", o->tls_cert);
        const char *k = o->tls_key != NULL ? o->tls_key : o->tls_cert;
        if (realpath(k, key) == NULL) snprintf(key, sizeof key, "%s", k);
        char line[2 * PATH_MAX + 16];
        snprintf(line, sizeof line, "!tls-cert %s %s", cert, key);
        rec_directive(w, line);
    }
    rec_sync(w);
}

static int serve(const record_cli *o, rec_config *cfg, rec_writer *w)
{
    char addr[300], err[512];
    int lfd = rec_listen(o->listen != NULL ? o->listen : "127.0.0.1:0", addr, sizeof addr, err,
                         sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "pop3-record: %s\n", err);
        return EXIT_NETWORK;
    }
    printf("pop3-record listening on %s\n", addr);
    fflush(stdout);
    int status = 0;
    unsigned sessions = 0;
    bool warned = false;
    while (!stop_flag) {
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        if (poll(&p, 1, 1000) <= 0) continue; /* EINTR: look at the flag */
        int cfd = accept(lfd, NULL, NULL);
        if (cfd < 0) continue;
        sessions++;
        if (sessions > 1) {
            rec_directive(w, "");
            rec_directive(w, "!session");
        }
        rec_comment(w, "session %u", sessions);
        rec_case *cs = NULL;
        if (o->case_path != NULL) {
            cs = rec_case_begin(w, o->case_path, sessions, o->upstream);
            cfg->hooks = cs != NULL ? rec_case_hooks() : NULL;
            cfg->hooks_ctx = cs;
        }
        char why[512];
        rec_end end = rec_session_run(cfg, cfd, w, why, sizeof why);
        if (cs != NULL && rec_case_finish(cs, w, err, sizeof err) != 0) {
            fprintf(stderr, "pop3-record: %s\n", err);
            if (status < EXIT_FILE) status = EXIT_FILE;
        }
        if (end != REC_END_COMPLETE)
            fprintf(stderr, "pop3-record: session %u: %s\n", sessions, why);
        int s = end == REC_END_FILE       ? EXIT_FILE
                : end == REC_END_UPSTREAM ? EXIT_NETWORK
                : end == REC_END_PARTIAL  ? EXIT_PARTIAL
                                          : 0;
        if (s > status) status = s;
        if (w->written > REC_REPLAYABLE_OCTETS && !warned) {
            warned = true;
            fprintf(stderr,
                    "pop3-record: warning: %s is over %u octets, more than pop3-mock reads "
                    "from a script\n",
                    o->out, REC_REPLAYABLE_OCTETS);
        }
        if (end == REC_END_FILE || o->once) break;
    }
    close(lfd);
    return status;
}

int main(int argc, char **argv)
{
    record_cli o;
    memset(&o, 0, sizeof o);
    o.timeout_s = REC_DEFAULT_TIMEOUT_S;
    o.max_line = REC_DEFAULT_MAX_LINE;
    bool done = false;
    int rc = parse(&o, argc, argv, &done);
    if (rc != 0 || done) return rc;

    rec_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char host[256], err[512];
    if (rec_split_hostport(o.upstream, host, sizeof host, &cfg.up_port, 0, err, sizeof err) != 0)
        return bad("--upstream %s", err);
    cfg.up_host = host;
    cfg.up_mode = o.upstream_tls        ? REC_UP_TLS
                  : o.upstream_starttls ? REC_UP_STARTTLS
                                        : REC_UP_PLAIN;
    cfg.tls.ca_file = o.cafile;
    cfg.tls.insecure = o.insecure;
    cfg.implicit_tls = o.implicit_tls;
    cfg.timeout_ms = (int)(o.timeout_s * 1000);
    cfg.max_line = (size_t)o.max_line;
    cfg.stop = &stop_flag;
    if (o.tls_cert != NULL) {
        cfg.server_ctx = pop3mock__tls_ctx_new(
            o.tls_cert, o.tls_key != NULL ? o.tls_key : o.tls_cert, err, sizeof err);
        if (cfg.server_ctx == NULL) {
            fprintf(stderr, "pop3-record: %s\n", err);
            return EXIT_USAGE;
        }
    }
    rec_writer w;
    if (rec_writer_open(&w, o.out, o.keep_timing, err, sizeof err) != 0) {
        fprintf(stderr, "pop3-record: %s\n", err);
        SSL_CTX_free(cfg.server_ctx);
        return EXIT_FILE;
    }
    header(&w, &o);
    if (w.failed) {
        fprintf(stderr, "pop3-record: cannot write %s: %s\n", o.out, strerror(w.err));
        rec_writer_close(&w);
        SSL_CTX_free(cfg.server_ctx);
        return EXIT_FILE;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int status = serve(&o, &cfg, &w);
    if (rec_writer_close(&w) != 0) {
        fprintf(stderr, "pop3-record: cannot write %s: %s\n", o.out, strerror(w.err));
        status = EXIT_FILE;
    }
    SSL_CTX_free(cfg.server_ctx);
    return status;
}
