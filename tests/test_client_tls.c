/*
 * test_client_tls.c - real TLS on the loopback: certificates made at test time with the
 * OpenSSL API (a CA, a second CA nobody trusts, server certificates for the right host,
 * a wrong host, a DNS name only, and an expired one) and a small TLS server in a thread
 * on 127.0.0.1, port 0. It checks what the client verifies, what it sends as SNI, and
 * that no credential ever crosses in clear when STLS is stripped, refused or injected,
 * and that pop3_tls_info names the version and cipher the server's side negotiated.
 *
 * RFC matrix rows: RFC8314-3.1a, RFC8314-3.1b, RFC8314-3.4, RFC8314-5a, RFC8314-5.2a,
 * RFC8314-5.2b, RFC2595-2.2, RFC2595-2.4, RFC2595-4.8, RFC7817-3.1, RFC7817-3.4,
 * RFC7817-3.5, RFC5034-4.17;
 * poplib's test_stls_context (B2 case 23); curl tests 982, 985.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>

#ifdef POP3_HAVE_TLS

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "pop3/client.h"
#include "pop3/error.h"

/* Certificates
 * ------------ */

typedef struct pki {
    EVP_PKEY *key; /* one key for every certificate: the tests are about names and chains */
    X509 *ca, *ca2;
    X509 *ok;        /* DNS:localhost, IP:127.0.0.1, by ca */
    X509 *dnsonly;   /* DNS:localhost, by ca */
    X509 *wrong;     /* DNS:wrong.example, by ca */
    X509 *untrusted; /* DNS:localhost, IP:127.0.0.1, by ca2 */
    X509 *expired;   /* DNS:localhost, IP:127.0.0.1, by ca, ended yesterday */
    X509 *wildcard;  /* DNS:*.example.test, by ca */
    X509 *cn_right;  /* CN=localhost but SAN DNS:other.example, by ca */
} pki;

static pki P;

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    cr_assert(ext != NULL, "extension %s", value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

static X509 *make_cert(const char *cn, X509 *issuer, const char *san, bool ca, long from_days,
                       long to_days)
{
    static long serial = 1;
    X509 *c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
    X509_gmtime_adj(X509_getm_notBefore(c), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(c), to_days * 86400);
    X509_set_pubkey(c, P.key);
    X509_NAME *name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    if (ca) {
        add_ext(c, issuer ? issuer : c, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(c, issuer ? issuer : c, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(c, issuer, NID_basic_constraints, "CA:FALSE");
        add_ext(c, issuer, NID_ext_key_usage, "serverAuth");
        add_ext(c, issuer, NID_subject_alt_name, san);
    }
    add_ext(c, issuer ? issuer : c, NID_subject_key_identifier, "hash");
    cr_assert(X509_sign(c, P.key, EVP_sha256()) > 0);
    return c;
}

static void pki_setup(void)
{
    P.key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    cr_assert(P.key != NULL);
    P.ca = make_cert("pop3kit test CA", NULL, NULL, true, -1, 30);
    P.ca2 = make_cert("pop3kit untrusted CA", NULL, NULL, true, -1, 30);
    P.ok = make_cert("localhost", P.ca, "DNS:localhost,IP:127.0.0.1", false, -1, 30);
    P.dnsonly = make_cert("localhost", P.ca, "DNS:localhost", false, -1, 30);
    P.wrong = make_cert("wrong.example", P.ca, "DNS:wrong.example", false, -1, 30);
    P.untrusted = make_cert("localhost", P.ca2, "DNS:localhost,IP:127.0.0.1", false, -1, 30);
    P.expired = make_cert("localhost", P.ca, "DNS:localhost,IP:127.0.0.1", false, -3, -1);
    P.wildcard = make_cert("*.example.test", P.ca, "DNS:*.example.test", false, -1, 30);
    P.cn_right = make_cert("localhost", P.ca, "DNS:other.example", false, -1, 30);
}

static void pki_teardown(void)
{
    X509 *all[] = {P.ca,        P.ca2,     P.ok,       P.dnsonly, P.wrong,
                   P.untrusted, P.expired, P.wildcard, P.cn_right};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        X509_free(all[i]);
    EVP_PKEY_free(P.key);
    memset(&P, 0, sizeof P);
}

/* A client context that trusts our CA (poplib's "CA-pinned context"). */
static SSL_CTX *trusting_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), P.ca);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

/* The CA as a PEM file, for pop3_tls_options.ca_file, made in the test's working
 * directory and removed by the test. */
static char ca_path[64];

static const char *ca_file(void)
{
    snprintf(ca_path, sizeof ca_path, "pop3kit-ca-XXXXXX");
    int fd = mkstemp(ca_path);
    cr_assert(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    PEM_write_X509(fp, P.ca);
    fclose(fp);
    return ca_path;
}

/* The server
 * ---------- */

enum smode {
    IMPLICIT,    /* TLS from the first octet (port 995 style) */
    STLS_OK,     /* plain, CAPA lists STLS, STLS answered +OK then the handshake */
    STLS_STRIP,  /* plain, CAPA without STLS (a stripping attacker) */
    STLS_REFUSE, /* plain, STLS answered -ERR */
    STLS_INJECT, /* plain, STLS answered +OK plus forged plaintext replies */
};

typedef struct server {
    int lfd;
    unsigned short port;
    SSL_CTX *ctx;
    enum smode mode;
    bool truncate_retr; /* cut the TLS stream mid-body without close_notify */
    char clear[4096];   /* octets received before TLS */
    size_t clear_len;
    char secure[4096]; /* octets received under TLS */
    size_t secure_len;
    char sni[256];
    bool handshake_ok;
    char version[32]; /* what the server's side negotiated, for pop3_tls_info */
    char cipher[128];
    pthread_t th;
} server;

static int on_sni(SSL *ssl, int *al, void *arg)
{
    (void)al;
    server *s = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    snprintf(s->sni, sizeof s->sni, "%s", name ? name : "");
    return SSL_TLSEXT_ERR_OK;
}

static void put_plain(int fd, const char *s)
{
    (void)send(fd, s, strlen(s), MSG_NOSIGNAL);
}

/* One line in clear, read one octet at a time so nothing of a ClientHello is eaten. */
static bool get_plain_line(server *s, int fd, char *line, size_t cap)
{
    size_t n = 0;
    for (;;) {
        char ch;
        ssize_t r = recv(fd, &ch, 1, 0);
        if (r <= 0) return false;
        if (s->clear_len < sizeof s->clear - 1) s->clear[s->clear_len++] = ch;
        if (n < cap - 1) line[n++] = ch;
        if (ch == '\n') break;
    }
    line[n] = '\0';
    return true;
}

static bool get_tls_line(server *s, SSL *ssl, char *line, size_t cap)
{
    size_t n = 0;
    for (;;) {
        char ch;
        if (SSL_read(ssl, &ch, 1) <= 0) return false;
        if (s->secure_len < sizeof s->secure - 1) s->secure[s->secure_len++] = ch;
        if (n < cap - 1) line[n++] = ch;
        if (ch == '\n') break;
    }
    line[n] = '\0';
    return true;
}

static void put_tls(SSL *ssl, const char *s)
{
    SSL_write(ssl, s, (int)strlen(s));
}

static void serve_tls(server *s, int fd, bool greet)
{
    SSL *ssl = SSL_new(s->ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        return;
    }
    s->handshake_ok = true;
    snprintf(s->version, sizeof s->version, "%s", SSL_get_version(ssl));
    snprintf(s->cipher, sizeof s->cipher, "%s", SSL_get_cipher_name(ssl));
    if (greet) put_tls(ssl, "+OK TLS ready\r\n");
    char line[512];
    while (get_tls_line(s, ssl, line, sizeof line)) {
        if (strncmp(line, "CAPA", 4) == 0)
            put_tls(ssl, "+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n");
        else if (strncmp(line, "RETR", 4) == 0 && s->truncate_retr) {
            put_tls(ssl, "+OK\r\nhalf of a mes");
            /* No close_notify: the TCP connection just ends. */
            shutdown(fd, SHUT_RDWR);
            SSL_free(ssl);
            return;
        } else if (strncmp(line, "RETR", 4) == 0)
            put_tls(ssl, "+OK\r\nSubject: hi\r\n\r\n..dot\r\n.\r\n");
        else if (strncmp(line, "QUIT", 4) == 0) {
            put_tls(ssl, "+OK bye\r\n");
            break;
        } else
            put_tls(ssl, "+OK\r\n");
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
}

static void *serve(void *arg)
{
    server *s = arg;
    struct pollfd p = {.fd = s->lfd, .events = POLLIN};
    if (poll(&p, 1, 10000) <= 0) return NULL;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    if (s->mode == IMPLICIT) {
        serve_tls(s, fd, true);
        close(fd);
        return NULL;
    }
    put_plain(fd, "+OK plain ready\r\n");
    char line[512];
    while (get_plain_line(s, fd, line, sizeof line)) {
        if (strncmp(line, "CAPA", 4) == 0) {
            put_plain(fd, s->mode == STLS_STRIP ? "+OK\r\nUSER\r\n.\r\n"
                                                : "+OK\r\nUSER\r\nSTLS\r\n.\r\n");
        } else if (strncmp(line, "STLS", 4) == 0 && s->mode == STLS_REFUSE) {
            put_plain(fd, "-ERR TLS not available\r\n");
        } else if (strncmp(line, "STLS", 4) == 0) {
            put_plain(fd, s->mode == STLS_INJECT
                              ? "+OK Begin TLS\r\n+OK user accepted\r\n+OK authenticated\r\n"
                              : "+OK Begin TLS\r\n");
            serve_tls(s, fd, false);
            break;
        } else if (strncmp(line, "QUIT", 4) == 0) {
            put_plain(fd, "+OK bye\r\n");
            break;
        } else {
            put_plain(fd, "+OK\r\n"); /* a careless server that takes anything in clear */
        }
    }
    close(fd);
    return NULL;
}

static void server_start(server *s, enum smode mode, X509 *cert)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->ctx = SSL_CTX_new(TLS_server_method());
    cr_assert(SSL_CTX_use_certificate(s->ctx, cert) == 1);
    cr_assert(SSL_CTX_use_PrivateKey(s->ctx, P.key) == 1);
    SSL_CTX_set_tlsext_servername_callback(s->ctx, on_sni);
    SSL_CTX_set_tlsext_servername_arg(s->ctx, s);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(s->lfd, 1), 0);
    socklen_t al = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
}

static void server_run(server *s)
{
    pthread_create(&s->th, NULL, serve, s);
}

static void server_stop(server *s)
{
    pthread_join(s->th, NULL);
    close(s->lfd);
    SSL_CTX_free(s->ctx);
}

/* The client
 * ---------- */

static pop3_client *client(const pop3_options *opt)
{
    pop3_client *c;
    pop3_options o;
    if (opt == NULL) {
        pop3_options_default(&o);
        opt = &o;
    }
    cr_assert_eq(pop3_client_new(&c, opt), POP3_OK);
    return c;
}

static bool has(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

TestSuite(tls, .init = pki_setup, .fini = pki_teardown);

/* Implicit TLS */

Test(tls, implicit_with_caller_ctx_and_sni_rfc8314_3_1)
{
    server s;
    server_start(&s, IMPLICIT, P.ok);
    server_run(&s);
    SSL_CTX *ctx = trusting_ctx();
    pop3_tls_options tls = {.ssl_ctx = ctx};
    pop3_client *c = client(NULL);
    int rc = pop3_connect_tls(c, "localhost", s.port, 10.0, &tls);
    cr_assert_eq(rc, POP3_OK, "%s", pop3_errmsg(c));
    cr_assert(pop3_is_tls(c));
    cr_assert_str_eq(pop3_getwelcome(c), "+OK TLS ready");
    cr_assert_eq(pop3_user(c, "u"), POP3_OK);
    cr_assert_eq(pop3_pass(c, "secret"), POP3_OK);
    char body[256] = {0};
    pop3_lines l;
    cr_assert_eq(pop3_retr_lines(c, 1, &l), POP3_OK);
    cr_assert_eq(l.count, 3);
    cr_assert_str_eq(l.lines[2].ptr, ".dot");
    pop3_lines_free(&l);
    (void)body;
    cr_assert_eq(pop3_quit(c), POP3_OK);
    pop3_client_free(c);
    server_stop(&s);
    cr_assert_str_eq(s.sni, "localhost");
    cr_assert_str_eq(s.secure, "USER u\r\nPASS secret\r\nRETR 1\r\nQUIT\r\n");
    SSL_CTX_free(ctx);
}

Test(tls, implicit_ip_literal_with_ca_file)
{
    server s;
    server_start(&s, IMPLICIT, P.ok);
    server_run(&s);
    pop3_tls_options tls = {.ca_file = ca_file()};
    pop3_client *c = client(NULL);
    int rc = pop3_connect_tls(c, "127.0.0.1", s.port, 10.0, &tls);
    cr_assert_eq(rc, POP3_OK, "%s", pop3_errmsg(c));
    cr_assert_eq(pop3_quit(c), POP3_OK);
    pop3_client_free(c);
    server_stop(&s);
    /* RFC 6066 section 3: no SNI for an address. */
    cr_assert_str_eq(s.sni, "");
    unlink(ca_path);
}

Test(tls, server_name_override)
{
    server s;
    server_start(&s, IMPLICIT, P.dnsonly);
    server_run(&s);
    SSL_CTX *ctx = trusting_ctx();
    pop3_tls_options tls = {.ssl_ctx = ctx, .server_name = "localhost"};
    pop3_client *c = client(NULL);
    int rc = pop3_connect_tls(c, "127.0.0.1", s.port, 10.0, &tls);
    cr_assert_eq(rc, POP3_OK, "%s", pop3_errmsg(c));
    pop3_close(c);
    pop3_client_free(c);
    server_stop(&s);
    cr_assert_str_eq(s.sni, "localhost");
    SSL_CTX_free(ctx);
}

/* What was negotiated: pop3_tls_info and the trace line name the server's choice. */

static char trace_tls[256];

static void keep_tls_line(void *ud, int level, const char *line)
{
    (void)ud, (void)level;
    if (strncmp(line, "*tls* ", 6) == 0) snprintf(trace_tls, sizeof trace_tls, "%s", line);
}

/* The client's "*tls*" trace line lands in trace_tls. */
static void traced(pop3_client *c)
{
    trace_tls[0] = '\0';
    pop3_set_debuglevel(c, 1);
    pop3_set_debug_callback(c, keep_tls_line, NULL);
}

static void assert_tls_info(pop3_client *c, const server *s)
{
    const char *version = "x", *cipher = "x";
    cr_assert_eq(pop3_tls_info(c, &version, &cipher), POP3_OK);
    cr_assert_str_eq(version, s->version);
    cr_assert_str_eq(cipher, s->cipher);
    /* The default context asks for TLS 1.2 at least (RFC 8314 section 5). */
    cr_assert(strcmp(version, "TLSv1.2") == 0 || strcmp(version, "TLSv1.3") == 0, "%s", version);
    char want[256];
    snprintf(want, sizeof want, "*tls* TLS established: %s, %s", version, cipher);
    cr_assert_str_eq(trace_tls, want);
    /* Either name alone. */
    cr_assert_eq(pop3_tls_info(c, NULL, &cipher), POP3_OK);
    cr_assert_str_eq(cipher, s->cipher);
}

Test(tls, info_names_version_and_cipher_implicit)
{
    server s;
    server_start(&s, IMPLICIT, P.ok);
    server_run(&s);
    pop3_tls_options tls = {.ca_file = ca_file()};
    pop3_client *c = client(NULL);
    const char *version = "x", *cipher = "x";
    cr_assert_eq(pop3_tls_info(c, &version, &cipher), POP3_ESTATE, "not connected");
    cr_assert(version == NULL && cipher == NULL);
    traced(c);
    cr_assert_eq(pop3_connect_tls(c, "localhost", s.port, 10.0, &tls), POP3_OK, "%s",
                 pop3_errmsg(c));
    assert_tls_info(c, &s);
    cr_assert_eq(pop3_quit(c), POP3_OK);
    cr_assert_eq(pop3_tls_info(c, &version, &cipher), POP3_ESTATE, "closed");
    pop3_client_free(c);
    server_stop(&s);
    unlink(ca_path);
}

Test(tls, info_names_version_and_cipher_after_stls)
{
    server s;
    server_start(&s, STLS_OK, P.ok);
    server_run(&s);
    pop3_tls_options tls = {.ca_file = ca_file()};
    pop3_client *c = client(NULL);
    traced(c);
    cr_assert_eq(pop3_connect(c, "localhost", s.port, 10.0), POP3_OK);
    const char *version = "x", *cipher = "x";
    cr_assert_eq(pop3_tls_info(c, &version, &cipher), POP3_ESTATE, "still in clear");
    cr_assert(version == NULL && cipher == NULL);
    cr_assert_str_eq(trace_tls, "", "no TLS line before the handshake");
    cr_assert_eq(pop3_stls(c, &tls), POP3_OK, "%s", pop3_errmsg(c));
    assert_tls_info(c, &s);
    cr_assert_eq(pop3_quit(c), POP3_OK);
    pop3_client_free(c);
    server_stop(&s);
    unlink(ca_path);
}

/* Certificates that must be refused (RFC8314-5.2a, RFC2595-2.4, RFC7817). */
static void expect_refused(X509 *cert, const char *host, bool use_ctx, const char *reason)
{
    server s;
    server_start(&s, IMPLICIT, cert);
    server_run(&s);
    SSL_CTX *ctx = use_ctx ? trusting_ctx() : NULL;
    pop3_tls_options tls = {.ssl_ctx = ctx};
    pop3_client *c = client(NULL);
    int rc = pop3_connect_tls(c, host, s.port, 10.0, &tls);
    cr_assert_eq(rc, POP3_ETLS, "%s: %s", pop3_errname(rc), pop3_errmsg(c));
    cr_assert(has(pop3_errmsg(c), reason), "%s", pop3_errmsg(c));
    cr_assert(!pop3_is_connected(c));
    pop3_client_free(c);
    server_stop(&s);
    cr_assert(!s.handshake_ok);
    cr_assert_eq(s.secure_len, 0);
    if (ctx) SSL_CTX_free(ctx);
}

Test(tls, wrong_host_refused)
{
    expect_refused(P.wrong, "localhost", true, "hostname mismatch");
}

Test(tls, untrusted_ca_refused)
{
    expect_refused(P.untrusted, "localhost", true, "unable to get local issuer certificate");
}

Test(tls, expired_refused)
{
    expect_refused(P.expired, "localhost", true, "certificate has expired");
}

Test(tls, ip_not_in_certificate_refused)
{
    /* poplib's test_stls_context: a certificate for "localhost" only, reached by IP. */
    expect_refused(P.dnsonly, "127.0.0.1", true, "IP address mismatch");
}

Test(tls, verification_on_by_default_system_store)
{
    /* No CA given: the system store does not know our CA. */
    expect_refused(P.ok, "localhost", false, "certificate verify failed");
}

/* RFC7817-3.5 / RFC 6125 section 6.4.3: "*" is a whole left-most label matching one
 * label; RFC7817-3.4: no CN fallback when a DNS-ID is present. The names are given as
 * server_name, since nothing resolves them here. */
static int connect_as(X509 *cert, const char *name)
{
    server s;
    server_start(&s, IMPLICIT, cert);
    server_run(&s);
    SSL_CTX *ctx = trusting_ctx();
    pop3_tls_options tls = {.ssl_ctx = ctx, .server_name = name};
    pop3_client *c = client(NULL);
    int rc = pop3_connect_tls(c, "127.0.0.1", s.port, 10.0, &tls);
    pop3_close(c);
    pop3_client_free(c);
    server_stop(&s);
    SSL_CTX_free(ctx);
    if (rc == POP3_OK) cr_assert_str_eq(s.sni, name);
    return rc;
}

Test(tls, wildcards_rfc7817_3_5)
{
    cr_assert_eq(connect_as(P.wildcard, "pop.example.test"), POP3_OK);
    cr_assert_eq(connect_as(P.wildcard, "a.pop.example.test"), POP3_ETLS);
    cr_assert_eq(connect_as(P.wildcard, "example.test"), POP3_ETLS);
}

Test(tls, no_cn_fallback_with_dns_id_rfc7817_3_4)
{
    cr_assert_eq(connect_as(P.cn_right, "localhost"), POP3_ETLS);
    cr_assert_eq(connect_as(P.cn_right, "other.example"), POP3_OK);
}

Test(tls, insecure_opt_out)
{
    server s;
    server_start(&s, IMPLICIT, P.untrusted);
    server_run(&s);
    pop3_tls_options tls = {.insecure = true};
    pop3_client *c = client(NULL);
    int rc = pop3_connect_tls(c, "localhost", s.port, 10.0, &tls);
    cr_assert_eq(rc, POP3_OK, "%s", pop3_errmsg(c));
    cr_assert_eq(pop3_quit(c), POP3_OK);
    pop3_client_free(c);
    server_stop(&s);
}

Test(tls, caller_ctx_gets_host_check_added)
{
    /* A caller's context that trusts the CA: the chain is fine, the name is not. */
    expect_refused(P.wrong, "localhost", true, "hostname mismatch");
    /* A caller's context that verifies nothing: their choice is respected. */
    server s;
    server_start(&s, IMPLICIT, P.untrusted);
    server_run(&s);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    pop3_tls_options tls = {.ssl_ctx = ctx};
    pop3_client *c = client(NULL);
    cr_assert_eq(pop3_connect_tls(c, "localhost", s.port, 10.0, &tls), POP3_OK);
    pop3_close(c);
    pop3_client_free(c);
    server_stop(&s);
    SSL_CTX_free(ctx);
}

Test(tls, tls_1_1_server_refused_rfc8314_5a)
{
    server s;
    server_start(&s, IMPLICIT, P.ok);
    SSL_CTX_set_security_level(s.ctx, 0);
    SSL_CTX_set_min_proto_version(s.ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(s.ctx, TLS1_1_VERSION);
    SSL_CTX_set_cipher_list(s.ctx, "DEFAULT:@SECLEVEL=0");
    server_run(&s);
    pop3_tls_options tls = {.insecure = true}; /* even with checks off: never below 1.2 */
    pop3_client *c = client(NULL);
    int rc = pop3_connect_tls(c, "localhost", s.port, 10.0, &tls);
    cr_assert_eq(rc, POP3_ETLS, "%s", pop3_errmsg(c));
    pop3_client_free(c);
    server_stop(&s);
}

Test(tls, truncation_without_close_notify_rfc8314_3_4)
{
    server s;
    server_start(&s, IMPLICIT, P.ok);
    s.truncate_retr = true;
    server_run(&s);
    SSL_CTX *ctx = trusting_ctx();
    pop3_tls_options tls = {.ssl_ctx = ctx};
    pop3_client *c = client(NULL);
    cr_assert_eq(pop3_connect_tls(c, "localhost", s.port, 10.0, &tls), POP3_OK);
    char buf[64];
    (void)buf;
    int rc = pop3_retr(c, 1, NULL, NULL);
    cr_assert_eq(rc, POP3_ETLS, "%s: %s", pop3_errname(rc), pop3_errmsg(c));
    cr_assert(has(pop3_errmsg(c), "close_notify"), "%s", pop3_errmsg(c));
    cr_assert(!pop3_is_connected(c));
    pop3_client_free(c);
    server_stop(&s);
    SSL_CTX_free(ctx);
}

/* STLS */

static pop3_options require_tls_options(SSL_CTX *ctx)
{
    pop3_options o;
    pop3_options_default(&o);
    o.require_tls = true;
    o.tls.ssl_ctx = ctx;
    return o;
}

static const pop3_credentials cred = {"user", "secret", NULL, false};

Test(tls, stls_then_login_rfc2595)
{
    server s;
    server_start(&s, STLS_OK, P.ok);
    server_run(&s);
    SSL_CTX *ctx = trusting_ctx();
    pop3_options o = require_tls_options(ctx);
    pop3_client *c = client(&o);
    cr_assert_eq(pop3_connect(c, "localhost", s.port, 10.0), POP3_OK);
    int rc = pop3_login(c, &cred);
    cr_assert_eq(rc, POP3_OK, "%s", pop3_errmsg(c));
    cr_assert(pop3_is_tls(c));
    cr_assert_eq(pop3_quit(c), POP3_OK);
    pop3_client_free(c);
    server_stop(&s);
    cr_assert_str_eq(s.clear, "CAPA\r\nSTLS\r\n");
    cr_assert_str_eq(s.secure, "CAPA\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\nQUIT\r\n");
    cr_assert_str_eq(s.sni, "localhost");
    SSL_CTX_free(ctx);
}

Test(tls, stls_poplib_test_stls_context)
{
    /* A certificate for "localhost" only: by IP the STLS handshake fails and the
     * session ends; by name it works. */
    for (int by_name = 0; by_name < 2; by_name++) {
        server s;
        server_start(&s, STLS_OK, P.dnsonly);
        server_run(&s);
        SSL_CTX *ctx = trusting_ctx();
        pop3_tls_options tls = {.ssl_ctx = ctx};
        pop3_client *c = client(NULL);
        cr_assert_eq(pop3_connect(c, by_name ? "localhost" : "127.0.0.1", s.port, 10.0), POP3_OK);
        int rc = pop3_stls(c, &tls);
        if (by_name) {
            cr_assert_eq(rc, POP3_OK, "%s", pop3_errmsg(c));
            cr_assert_str_eq(pop3_response(c), "+OK Begin TLS");
            cr_assert_eq(pop3_quit(c), POP3_OK);
        } else {
            cr_assert_eq(rc, POP3_ETLS);
            cr_assert(has(pop3_errmsg(c), "IP address mismatch"), "%s", pop3_errmsg(c));
            cr_assert(!pop3_is_connected(c));
        }
        pop3_client_free(c);
        server_stop(&s);
        SSL_CTX_free(ctx);
    }
}

/* The attacks: credentials never in clear, nothing after a failed STLS. */
static void expect_no_login(enum smode mode, X509 *cert, int want, const char *clear)
{
    server s;
    server_start(&s, mode, cert);
    server_run(&s);
    SSL_CTX *ctx = trusting_ctx();
    pop3_options o = require_tls_options(ctx);
    pop3_client *c = client(&o);
    cr_assert_eq(pop3_connect(c, "localhost", s.port, 10.0), POP3_OK);
    int rc = pop3_login(c, &cred);
    if (want == POP3_EPROTO)
        cr_assert(rc == POP3_EPROTO || rc == POP3_ETLS, "%s: %s", pop3_errname(rc), pop3_errmsg(c));
    else
        cr_assert_eq(rc, want, "%s: %s", pop3_errname(rc), pop3_errmsg(c));
    cr_assert(!pop3_is_authenticated(c));
    pop3_close(c);
    pop3_client_free(c);
    server_stop(&s);
    cr_assert_str_eq(s.clear, clear);
    cr_assert(!has(s.clear, "secret") && !has(s.clear, "USER") && !has(s.clear, "AUTH"));
    cr_assert_eq(s.secure_len, 0, "sent under TLS: %s", s.secure);
    SSL_CTX_free(ctx);
}

Test(tls, stls_stripped_rfc2595_2_2)
{
    expect_no_login(STLS_STRIP, P.ok, POP3_ETLS, "CAPA\r\n");
}

Test(tls, stls_refused)
{
    expect_no_login(STLS_REFUSE, P.ok, POP3_ETLS, "CAPA\r\nSTLS\r\n");
}

Test(tls, stls_injected_curl_982_rfc2595_4_8)
{
    expect_no_login(STLS_INJECT, P.ok, POP3_EPROTO, "CAPA\r\nSTLS\r\n");
}

Test(tls, stls_bad_certificate_rfc5034_4_17)
{
    expect_no_login(STLS_OK, P.wrong, POP3_ETLS, "CAPA\r\nSTLS\r\n");
}

#else

Test(tls, built_without_tls)
{
    cr_skip_test("POP3_TLS=OFF");
}

#endif
