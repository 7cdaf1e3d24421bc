/*
 * test_client_transport.c - the transports under the client: the in-memory one's
 * contract (segments released after writes, chunked reads, injected failures), and TCP
 * on the loopback: IPv4 and IPv6, trying each address of a name, refused connections,
 * read timeouts, a peer that vanishes. No assertion depends on how long anything takes.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "client_harness.h"

/* The memory transport
 * -------------------- */

Test(memory, segments_wait_for_writes)
{
    pop3_transport *t = pop3_transport_memory_new();
    cr_assert_eq(pop3_transport_memory_add_str(t, "one\r\n", 0), POP3_OK);
    cr_assert_eq(pop3_transport_memory_add_str(t, "two\r\n", 1), POP3_OK);
    char buf[64];
    size_t got;
    cr_assert_eq(t->ops->read(t, buf, sizeof buf, &got, 100), POP3_OK);
    cr_assert_eq(got, 5);
    cr_assert(memcmp(buf, "one\r\n", 5) == 0);
    /* The next segment waits for a write: a read now would wait forever. */
    cr_assert_eq(t->ops->read(t, buf, sizeof buf, &got, 100), POP3_ETIMEOUT);
    cr_assert_eq(t->ops->write(t, "X\r\n", 3, 100), POP3_OK);
    cr_assert_eq(pop3_transport_memory_unread(t), 5);
    cr_assert_eq(t->ops->read(t, buf, sizeof buf, &got, 100), POP3_OK);
    cr_assert_eq(got, 5);
    cr_assert_eq(t->ops->read(t, buf, sizeof buf, &got, 100), POP3_ECLOSED);
    pop3_transport_memory_set_end(t, POP3_ETLS);
    cr_assert_eq(t->ops->read(t, buf, sizeof buf, &got, 100), POP3_ETLS);
    cr_assert_eq(pop3_transport_memory_writes(t), 1);
    size_t len;
    cr_assert_str_eq(pop3_transport_memory_output(t, &len), "X\r\n");
    cr_assert_eq(len, 3);
    t->ops->close(t);
    cr_assert(pop3_transport_memory_closed(t));
    cr_assert_eq(t->ops->write(t, "Y", 1, 100), POP3_EIO);
    pop3_transport_memory_free(t);
}

Test(memory, chunked_reads_stop_at_segment_ends)
{
    pop3_transport *t = pop3_transport_memory_new();
    pop3_transport_memory_add_str(t, "abc", 0);
    pop3_transport_memory_add_str(t, "", 0);
    pop3_transport_memory_add_str(t, "de", 0);
    pop3_transport_memory_set_chunk(t, 2);
    char buf[8];
    size_t got;
    const char *want[] = {"ab", "c", "de"};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(t->ops->read(t, buf, sizeof buf, &got, 0), POP3_OK);
        cr_assert_eq(got, strlen(want[i]));
        cr_assert(memcmp(buf, want[i], got) == 0);
    }
    pop3_transport_memory_free(t);
}

Test(memory, injected_failures_and_tls)
{
    pop3_transport *t = pop3_transport_memory_new();
    pop3_transport_memory_fail_write(t, 2, POP3_EIO);
    cr_assert_eq(t->ops->write(t, "a", 1, 0), POP3_OK);
    cr_assert_eq(t->ops->write(t, "b", 1, 0), POP3_EIO);
    cr_assert_eq(t->ops->write(t, "c", 1, 0), POP3_OK);
    cr_assert_str_eq(pop3_transport_memory_output(t, NULL), "ac");
    cr_assert(!t->ops->is_tls(t));
    cr_assert_eq(pop3_transport_memory_tls_offset(t), (size_t)-1);
    /* Unread plaintext makes the handshake fail, as it would for real. */
    pop3_transport_memory_add_str(t, "+OK injected\r\n", 0);
    cr_assert_eq(t->ops->starttls(t, NULL, 0), POP3_ETLS);
    char buf[32];
    size_t got;
    cr_assert_eq(t->ops->read(t, buf, sizeof buf, &got, 0), POP3_OK);
    cr_assert_eq(t->ops->starttls(t, NULL, 0), POP3_OK);
    cr_assert(t->ops->is_tls(t));
    cr_assert_eq(pop3_transport_memory_tls_offset(t), 2);
    cr_assert_eq(t->ops->starttls(t, NULL, 0), POP3_ESTATE);
    pop3_transport_memory_free(t);
}

Test(memory, write_failure_is_fatal_for_the_client)
{
    const char *script[] = {"+OK\r\n", "+OK\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    pop3_transport_memory_fail_write(h.t, 1, POP3_EIO);
    ASSERT_RC(pop3_noop(h.c), POP3_EIO);
    cr_assert(!pop3_is_connected(h.c));
    cr_assert(harness_has(pop3_errmsg(h.c), "injected write failure"));
    harness_close(&h);
}

Test(memory, read_timeout_is_fatal_for_the_client)
{
    /* The reply never comes (it waits for a second write): ETIMEOUT, session closed. */
    const char *script[] = {"+OK\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    pop3_transport_memory_add_str(h.t, "+OK late\r\n", 2);
    ASSERT_RC(pop3_noop(h.c), POP3_ETIMEOUT);
    cr_assert(!pop3_is_connected(h.c));
    harness_close(&h);
}

/* Failure injection at every write: whatever write fails, the client reports a fatal
 * error, closes, frees everything (ASan checks), and never reports success. */
Test(memory, every_write_failing_in_turn)
{
    const char *script[] = {"+OK <1@x>\r\n",
                            "+OK\r\nSASL PLAIN\r\nUSER\r\n.\r\n",
                            "+OK\r\n",
                            "+OK 1 5\r\n",
                            "+OK\r\nhello\r\n.\r\n",
                            "+OK\r\n",
                            "+OK\r\n",
                            NULL};
    for (unsigned fail = 1; fail <= 6; fail++) {
        harness h = harness_start(script, 1, NULL);
        pop3_transport_memory_fail_write(h.t, fail, POP3_EIO);
        pop3_credentials cred = {"u", "p", NULL, false};
        int rc = pop3_login(h.c, &cred);
        if (rc == POP3_OK) rc = pop3_stat(h.c, NULL, NULL);
        harness_buf b = {0};
        if (rc == POP3_OK) rc = pop3_retr(h.c, 1, harness_sink, &b);
        if (rc == POP3_OK) rc = pop3_dele(h.c, 1);
        if (rc == POP3_OK) rc = pop3_quit(h.c);
        cr_assert_eq(rc, POP3_EIO, "write %u: %s", fail, pop3_errname(rc));
        cr_assert(!pop3_is_connected(h.c));
        harness_buf_free(&b);
        harness_close(&h);
    }
}

/* TCP on the loopback
 * ------------------- */

typedef struct tcp {
    int lfd;
    unsigned short port;
    const char *greeting; /* NULL: say nothing */
    bool close_after_greeting;
    pthread_t th;
} tcp;

static void *tcp_serve(void *arg)
{
    tcp *s = arg;
    struct pollfd p = {.fd = s->lfd, .events = POLLIN};
    if (poll(&p, 1, 10000) <= 0) return NULL;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    if (s->greeting) (void)send(fd, s->greeting, strlen(s->greeting), MSG_NOSIGNAL);
    if (!s->close_after_greeting) {
        char buf[256];
        ssize_t n;
        /* Answer each NOOP, until the client goes away. */
        while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
            if (!s->greeting) continue; /* a silent server */
            (void)send(fd, "+OK\r\n", 5, MSG_NOSIGNAL);
        }
    }
    close(fd);
    return NULL;
}

static bool tcp_start(tcp *s, int family)
{
    s->lfd = socket(family, SOCK_STREAM, 0);
    if (s->lfd < 0) return false;
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    }
    if (bind(s->lfd, (struct sockaddr *)&ss, len) != 0 || listen(s->lfd, 1) != 0) {
        close(s->lfd);
        return false;
    }
    getsockname(s->lfd, (struct sockaddr *)&ss, &len);
    s->port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                       : ((struct sockaddr_in *)&ss)->sin_port);
    pthread_create(&s->th, NULL, tcp_serve, s);
    return true;
}

static void tcp_stop(tcp *s)
{
    pthread_join(s->th, NULL);
    close(s->lfd);
}

static pop3_client *new_client(void)
{
    pop3_client *c;
    cr_assert_eq(pop3_client_new(&c, NULL), POP3_OK);
    return c;
}

Test(tcp, ipv4_literal)
{
    tcp s = {.greeting = "+OK v4\r\n"};
    cr_assert(tcp_start(&s, AF_INET));
    pop3_client *c = new_client();
    cr_assert_eq(pop3_connect(c, "127.0.0.1", s.port, 5.0), POP3_OK, "%s", pop3_errmsg(c));
    cr_assert_str_eq(pop3_getwelcome(c), "+OK v4");
    cr_assert(!pop3_is_tls(c));
    cr_assert_eq(pop3_noop(c), POP3_OK);
    cr_assert_eq(pop3_connect(c, "127.0.0.1", s.port, 5.0), POP3_ESTATE);
    pop3_close(c);
    pop3_client_free(c);
    tcp_stop(&s);
}

Test(tcp, ipv6_literal)
{
    tcp s = {.greeting = "+OK v6\r\n"};
    if (!tcp_start(&s, AF_INET6)) cr_skip_test("no IPv6 loopback here");
    pop3_client *c = new_client();
    cr_assert_eq(pop3_connect(c, "::1", s.port, 5.0), POP3_OK, "%s", pop3_errmsg(c));
    cr_assert_str_eq(pop3_getwelcome(c), "+OK v6");
    pop3_close(c);
    pop3_client_free(c);
    tcp_stop(&s);
}

Test(tcp, name_tries_each_address)
{
    /* Only 127.0.0.1 listens; "localhost" may resolve to ::1 first, which is then
     * refused, and the next address is tried. */
    tcp s = {.greeting = "+OK any\r\n"};
    cr_assert(tcp_start(&s, AF_INET));
    pop3_client *c = new_client();
    cr_assert_eq(pop3_connect(c, "localhost", s.port, 5.0), POP3_OK, "%s", pop3_errmsg(c));
    pop3_close(c);
    pop3_client_free(c);
    tcp_stop(&s);
}

Test(tcp, refused)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd); /* nobody listens on that port now */
    pop3_client *c = new_client();
    cr_assert_eq(pop3_connect(c, "127.0.0.1", ntohs(a.sin_port), 5.0), POP3_EIO);
    cr_assert(strstr(pop3_errmsg(c), "refused") != NULL, "%s", pop3_errmsg(c));
    cr_assert(!pop3_is_connected(c));
    pop3_client_free(c);
}

Test(tcp, bad_arguments)
{
    pop3_client *c = new_client();
    cr_assert_eq(pop3_connect(c, "", 110, 5.0), POP3_EUSAGE);
    cr_assert_eq(pop3_connect(c, NULL, 110, 5.0), POP3_EUSAGE);
    cr_assert_eq(pop3_connect(c, "127.0.0.1", 70000, 5.0), POP3_EUSAGE);
    pop3_client_free(c);
    pop3_transport *t = NULL;
    char err[128];
    cr_assert_eq(pop3_transport_tcp_connect(&t, "127.0.0.1", 0, 100, err, sizeof err), POP3_EUSAGE);
    cr_assert_null(t);
}

Test(tcp, silent_server_times_out)
{
    tcp s = {.greeting = NULL};
    cr_assert(tcp_start(&s, AF_INET));
    pop3_client *c = new_client();
    int rc = pop3_connect(c, "127.0.0.1", s.port, 0.2);
    cr_assert_eq(rc, POP3_ETIMEOUT, "%s", pop3_errmsg(c));
    cr_assert(!pop3_is_connected(c));
    pop3_client_free(c); /* the server sees the close and ends */
    tcp_stop(&s);
}

Test(tcp, peer_gone_is_an_error_not_a_signal)
{
    tcp s = {.greeting = "+OK bye at once\r\n", .close_after_greeting = true};
    cr_assert(tcp_start(&s, AF_INET));
    pop3_client *c = new_client();
    cr_assert_eq(pop3_connect(c, "127.0.0.1", s.port, 5.0), POP3_OK);
    tcp_stop(&s);
    /* Writes to a closed peer: EPIPE/ECONNRESET come back as errors (MSG_NOSIGNAL). */
    int rc = POP3_OK;
    for (int i = 0; i < 3 && rc == POP3_OK; i++)
        rc = pop3_noop(c);
    cr_assert(rc == POP3_ECLOSED || rc == POP3_EIO, "%s", pop3_errname(rc));
    cr_assert(!pop3_is_connected(c));
    pop3_client_free(c);
}
