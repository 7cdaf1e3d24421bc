/*
 * bench_floor.c - the server's floor: the least a client can take to retrieve a whole
 * mailbox from a given server, for bench_clients.py to report each client against.
 *
 * It logs in as `pop3 fetch` does against Dovecot (AUTH CRAM-MD5, RFC 2195 over RFC 5034),
 * then writes "RETR 1" .. "RETR N" and QUIT in one go (RFC 2449 section 6.6: the server
 * answers in order) and reads everything to the end, keeping nothing. There is no
 * parsing beyond counting the multi-line terminators (RFC 1939 section 3, CRLF "." CRLF)
 * to prove every message came, no storage and no window: what remains of its time is
 * process start, the handshake, the login and the server producing the octets. A client
 * near this figure is as fast as that server lets any client be.
 *
 * --window N keeps at most N commands unanswered instead (what a client that bounds its
 * pipeline does), for telling whether the server itself prefers one way or the other.
 *
 * usage: bench_floor HOST PORT USER COUNT [--tls CAFILE] [--window N]
 *        (password in $POP3_PASSWORD)
 * prints: "octets N messages N login S stream S" (seconds); exit 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pop3/digest.h"
#include "pop3/error.h"

/* The read size: large enough that the reads cost nothing beside the transfer. */
#define FLOOR_READ_BUF (256 * 1024)

typedef struct conn {
    int fd;
    SSL *ssl;
} conn;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_floor: %s\n", what);
    exit(1);
}

static long rd(conn *c, char *buf, size_t cap)
{
    if (c->ssl) {
        size_t got = 0;
        int r = SSL_read_ex(c->ssl, buf, cap, &got);
        if (r == 1) return (long)got;
        return SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
    ssize_t n = read(c->fd, buf, cap);
    return n < 0 ? -1 : (long)n;
}

static void wr(conn *c, const char *buf, size_t len)
{
    while (len > 0) {
        long n;
        if (c->ssl) {
            size_t done = 0;
            n = SSL_write_ex(c->ssl, buf, len, &done) == 1 ? (long)done : -1;
        } else {
            n = (long)write(c->fd, buf, len);
        }
        if (n <= 0) die("write failed");
        buf += n;
        len -= (size_t)n;
    }
}

/* One reply line of the login dialogue (short; the server sends nothing unasked then). */
static void line(conn *c, char *out, size_t cap)
{
    size_t n = 0;
    for (;;) {
        if (n + 1 >= cap) die("reply line too long");
        long r = rd(c, out + n, 1);
        if (r <= 0) die("connection closed during login");
        if (out[n++] == '\n') break;
    }
    out[n] = '\0';
    if (out[0] != '+') {
        fprintf(stderr, "bench_floor: server said: %s", out);
        exit(1);
    }
}

static int dial(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0) die("cannot resolve the host");
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) die("cannot connect");
    freeaddrinfo(ai);
    return fd;
}

static void login(conn *c, const char *user, const char *pass)
{
    char l[1024], chal[512], hex[POP3_MD5_HEX_SIZE], resp[600], b64[900];
    size_t clen, blen;
    line(c, l, sizeof l); /* greeting */
    wr(c, "AUTH CRAM-MD5\r\n", 15);
    line(c, l, sizeof l);
    size_t ll = strcspn(l + 2, "\r\n");
    if (pop3_base64_decode(l + 2, ll, chal, sizeof chal, &clen) != POP3_OK)
        die("bad CRAM-MD5 challenge");
    if (pop3_cram_md5_digest(chal, clen, pass, strlen(pass), hex) != POP3_OK) die("digest");
    int n = snprintf(resp, sizeof resp, "%s %s", user, hex);
    if (n < 0 || (size_t)n >= sizeof resp) die("user name too long");
    if (pop3_base64_encode(resp, (size_t)n, b64, sizeof b64 - 2, &blen) != POP3_OK) die("b64");
    memcpy(b64 + blen, "\r\n", 2);
    wr(c, b64, blen + 2);
    line(c, l, sizeof l);
}

/* Append commands while fewer than `window` are unanswered; QUIT after the last RETR. */
static void send_more(conn *c, long *sent, long answered, long count, long window, bool *quit)
{
    char cmds[64 * 24];
    size_t len = 0;
    while (*sent < count && *sent - answered < window && len + 24 < sizeof cmds)
        len += (size_t)sprintf(cmds + len, "RETR %ld\r\n", ++*sent);
    if (*sent == count && !*quit) {
        len += (size_t)sprintf(cmds + len, "QUIT\r\n");
        *quit = true;
    }
    if (len) wr(c, cmds, len);
}

int main(int argc, char **argv)
{
    const char *cafile = NULL;
    long window = 0;
    for (int i = 5; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--tls") == 0)
            cafile = argv[i + 1];
        else if (strcmp(argv[i], "--window") == 0)
            window = strtol(argv[i + 1], NULL, 10);
        else
            argc = 0;
    }
    if (argc < 5 || argc % 2 == 0) {
        fprintf(stderr, "usage: bench_floor HOST PORT USER COUNT [--tls CAFILE] [--window N]\n");
        return 2;
    }
    const char *pass = getenv("POP3_PASSWORD");
    long count = strtol(argv[4], NULL, 10);
    if (!pass || count < 1) die("needs $POP3_PASSWORD and a COUNT of at least 1");
    if (window <= 0) window = count;
    conn c = {dial(argv[1], argv[2]), NULL};
    double t0 = now();
    SSL_CTX *ctx = NULL;
    if (cafile) {
        ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx || SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) die("CA file");
        /* A server that closes without close_notify after QUIT has still said it all. */
        SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        c.ssl = SSL_new(ctx);
        SSL_set_fd(c.ssl, c.fd);
        SSL_set1_host(c.ssl, argv[1]);
        if (SSL_connect(c.ssl) != 1) die("TLS handshake failed");
    }
    login(&c, argv[3], pass);
    double t1 = now();

    char *buf = malloc(FLOOR_READ_BUF + 4);
    if (!buf) die("out of memory");
    long sent = 0;
    bool quit = false;
    send_more(&c, &sent, 0, count, window, &quit);

    /* Count CRLF "." CRLF across reads: the last 4 octets of a read lead the next. */
    unsigned long long octets = 0;
    long ends = 0;
    size_t keep = 0;
    for (;;) {
        long n = rd(&c, buf + keep, FLOOR_READ_BUF);
        if (n < 0) die("read failed");
        if (n == 0) break;
        octets += (unsigned long long)n;
        size_t have = keep + (size_t)n;
        for (const char *p = buf; (p = memchr(p, '.', (size_t)(buf + have - p))) != NULL; p++)
            if (p - buf >= 2 && p + 2 < buf + have && p[-2] == '\r' && p[-1] == '\n' &&
                p[1] == '\r' && p[2] == '\n')
                ends++;
        keep = have < 4 ? have : 4;
        memmove(buf, buf + have - keep, keep);
        if (!quit) send_more(&c, &sent, ends, count, window, &quit);
    }
    double t2 = now();
    printf("octets %llu messages %ld login %.4f stream %.4f\n", octets, ends, t1 - t0, t2 - t1);
    if (c.ssl) SSL_free(c.ssl);
    SSL_CTX_free(ctx);
    close(c.fd);
    free(buf);
    return ends == count ? 0 : 1;
}
