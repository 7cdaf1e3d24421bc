/*
 * bench_copy.c - the loopback ceiling for bench_ceiling.py: the same octets a POP3 session
 * carries, copied from one process to another over TCP on loopback, in clear or over TLS,
 * with no protocol at all.
 *
 *   bench_copy send FILE [--tls PEM] [--tls-version 1.2|1.3] [--cipher NAME]
 *       listens on 127.0.0.1 (a free port), prints "bench_copy listening on 127.0.0.1:PORT"
 *       and then, for every connection until it is killed: the TLS handshake (PEM holds
 *       the certificate and its key), FILE read from the start and written to the
 *       connection, close_notify, close. FILE is read again for each connection, the way
 *       pop3-mock reads a message file for each RETR.
 *   bench_copy recv PORT OUT [--cafile PEM] [--tls-version V] [--cipher NAME] [--split N]
 *                  [--rename-to DIR]
 *       connects (with --cafile: TLS, the server's certificate verified against PEM),
 *       reads until the end of the stream and writes every octet to OUT, the way
 *       `pop3 fetch` writes what it retrieves; with --split, a new file (OUT.1, OUT.2, ...)
 *       every N octets, as many files as a Maildir would get; with --rename-to as well,
 *       each file once complete is renamed into DIR (OUT's folder and DIR held open,
 *       renameat), the tmp/ to new/ step of a Maildir delivery (maildir(5)). Prints the
 *       octet and file counts and, under TLS, the version and cipher negotiated on
 *       stderr. Exit 0, or 1 on any failure.
 *
 * Both sides copy through one 256 KiB buffer; the TLS reader reads ahead (several records
 * per read from the socket). --tls-version pins the version on both sides, --cipher the
 * suite (a TLS 1.3 ciphersuite, or a TLS 1.2 cipher list), so the ceiling uses what the
 * pop3kit run negotiated.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BUF (256u * 1024u)

static char buf[BUF];

static int fail(const char *what)
{
    fprintf(stderr, "bench_copy: %s: %s\n", what, errno ? strerror(errno) : "failed");
    ERR_print_errors_fp(stderr);
    return 1;
}

typedef struct opts {
    const char *pem, *cafile, *cipher;
    int version;              /* 0: OpenSSL's range */
    unsigned long long split; /* recv: a new file every `split` octets (0: one file) */
    const char *rename_to;    /* recv: each complete file renamed into this folder */
} opts;

static int parse_opts(int argc, char **argv, int first, opts *o)
{
    memset(o, 0, sizeof *o);
    /* Every option takes a value: a step of two. */
    for (int i = first; i < argc; i += 2) {
        if (i + 1 >= argc) return -1;
        const char *v = argv[i + 1];
        if (strcmp(argv[i], "--tls") == 0) {
            o->pem = v;
        } else if (strcmp(argv[i], "--cafile") == 0) {
            o->cafile = v;
        } else if (strcmp(argv[i], "--split") == 0) {
            o->split = strtoull(v, NULL, 10);
        } else if (strcmp(argv[i], "--rename-to") == 0) {
            o->rename_to = v;
        } else if (strcmp(argv[i], "--cipher") == 0) {
            o->cipher = v;
        } else if (strcmp(argv[i], "--tls-version") == 0) {
            if (strcmp(v, "1.2") == 0 || strcmp(v, "TLSv1.2") == 0)
                o->version = TLS1_2_VERSION;
            else if (strcmp(v, "1.3") == 0 || strcmp(v, "TLSv1.3") == 0)
                o->version = TLS1_3_VERSION;
            else
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

static SSL_CTX *make_ctx(const opts *o, bool server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL) return NULL;
    bool ok = SSL_CTX_set_min_proto_version(ctx, o->version ? o->version : TLS1_2_VERSION) == 1;
    if (ok && o->version) ok = SSL_CTX_set_max_proto_version(ctx, o->version) == 1;
    if (ok && o->cipher) {
        /* A TLS 1.3 suite name is set with set_ciphersuites; a 1.2 one with the list. */
        if (strncmp(o->cipher, "TLS_", 4) == 0)
            ok = SSL_CTX_set_ciphersuites(ctx, o->cipher) == 1;
        else
            ok = SSL_CTX_set_cipher_list(ctx, o->cipher) == 1;
    }
    if (ok && server)
        ok = SSL_CTX_use_certificate_chain_file(ctx, o->pem) == 1 &&
             SSL_CTX_use_PrivateKey_file(ctx, o->pem, SSL_FILETYPE_PEM) == 1;
    if (ok && !server) {
        ok = SSL_CTX_load_verify_locations(ctx, o->cafile, NULL) == 1;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_read_ahead(ctx, 1);
        SSL_CTX_set_default_read_buffer_len(ctx, 4 * (16384 + 512));
    }
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static int write_all(int fd, SSL *ssl, const char *p, size_t n)
{
    while (n > 0) {
        size_t w = 0;
        if (ssl != NULL) {
            if (SSL_write_ex(ssl, p, n, &w) != 1) return -1;
        } else {
            ssize_t r = write(fd, p, n);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return -1;
            w = (size_t)r;
        }
        p += w;
        n -= w;
    }
    return 0;
}

static void serve(int fd, SSL_CTX *ctx, const char *file)
{
    SSL *ssl = NULL;
    if (ctx != NULL) {
        ssl = SSL_new(ctx);
        if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
            ERR_print_errors_fp(stderr);
            SSL_free(ssl);
            return;
        }
    }
    int in = open(file, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        fail(file);
    } else {
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
            if (write_all(fd, ssl, buf, (size_t)n) != 0) break;
        close(in);
    }
    if (ssl != NULL) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    ERR_clear_error();
}

static int do_send(const char *file, const opts *o)
{
    SSL_CTX *ctx = NULL;
    if (o->pem != NULL && (ctx = make_ctx(o, true)) == NULL) return fail("TLS setup");
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 16) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) != 0)
        return fail("listen");
    printf("bench_copy listening on 127.0.0.1:%u\n", (unsigned)ntohs(a.sin_port));
    fflush(stdout);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) continue;
            return fail("accept");
        }
        serve(fd, ctx, file);
        close(fd);
    }
}

/* Where recv's files go: created by path (OUT, OUT.1, ...), and with --rename-to each
 * moved, once closed, from OUT's folder into that folder. */
typedef struct sink {
    int from, to; /* the two folders, -1 without --rename-to */
    char path[4096];
} sink;

static int sink_init(sink *k, const char *out, const opts *o)
{
    k->from = k->to = -1;
    snprintf(k->path, sizeof k->path, "%s", out);
    if (o->rename_to == NULL) return 0;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    k->from = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    k->to = open(o->rename_to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return k->from < 0 || k->to < 0 ? -1 : 0;
}

/* The file at k->path is complete: move it where it belongs. */
static int sink_done(const sink *k)
{
    if (k->to < 0) return 0;
    const char *slash = strrchr(k->path, '/');
    const char *base = slash != NULL ? slash + 1 : k->path;
    return renameat(k->from, base, k->to, base);
}

static int do_recv(const char *port, const char *out, const opts *o)
{
    SSL_CTX *ctx = NULL;
    if (o->cafile != NULL && (ctx = make_ctx(o, false)) == NULL) return fail("TLS setup");
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)atoi(port))};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return fail("connect");
    SSL *ssl = NULL;
    if (ctx != NULL) {
        ssl = SSL_new(ctx);
        if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1)
            return fail("TLS handshake");
    }
    sink k;
    if (sink_init(&k, out, o) != 0) return fail(o->rename_to);
    int of = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (of < 0) return fail(out);
    unsigned long long total = 0, in_file = 0;
    unsigned files = 1;
    for (;;) {
        size_t n = 0;
        if (ssl != NULL) {
            if (SSL_read_ex(ssl, buf, sizeof buf, &n) != 1) {
                int e = SSL_get_error(ssl, 0);
                if (e == SSL_ERROR_ZERO_RETURN) break;
                return fail("TLS read");
            }
        } else {
            ssize_t r = read(fd, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) return fail("read");
            if (r == 0) break;
            n = (size_t)r;
        }
        total += n;
        const char *p = buf;
        while (o->split > 0 && in_file + n > o->split) {
            /* One file per message, the way a Maildir holds them: OUT.1, OUT.2, ... */
            size_t part = (size_t)(o->split - in_file);
            if (write_all(of, NULL, p, part) != 0 || close(of) != 0) return fail(k.path);
            if (sink_done(&k) != 0) return fail(k.path);
            snprintf(k.path, sizeof k.path, "%s.%u", out, files++);
            if ((of = open(k.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
                return fail(k.path);
            p += part;
            n -= part;
            in_file = 0;
        }
        if (write_all(of, NULL, p, n) != 0) return fail(out);
        in_file += n;
    }
    if (close(of) != 0 || sink_done(&k) != 0) return fail(k.path);
    if (k.from >= 0) close(k.from);
    if (k.to >= 0) close(k.to);
    if (ssl != NULL)
        fprintf(stderr, "received %llu octets in %u files, %s, %s\n", total, files,
                SSL_get_version(ssl), SSL_get_cipher_name(ssl));
    else
        fprintf(stderr, "received %llu octets in %u files\n", total, files);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    opts o;
    if (argc >= 3 && strcmp(argv[1], "send") == 0 && parse_opts(argc, argv, 3, &o) == 0)
        return do_send(argv[2], &o);
    if (argc >= 4 && strcmp(argv[1], "recv") == 0 && parse_opts(argc, argv, 4, &o) == 0)
        return do_recv(argv[2], argv[3], &o);
    fprintf(stderr, "usage: bench_copy send FILE [--tls PEM] [--tls-version V] [--cipher C]\n"
                    "       bench_copy recv PORT OUT [--cafile PEM] [--tls-version V] "
                    "[--cipher C] [--split N] [--rename-to DIR]\n");
    return 2;
}
