/*
 * test_mock_server.c - the server library as a test program embeds it (pop3mock/server.h).
 *
 * bind gives the port before anything runs; a client served through step and run; stop
 * from another thread returns run promptly and ends a live session with a shutdown; the
 * transcript and session-end callbacks fire with the octets and verdicts; the library
 * writes nothing to stdout or stderr; case dialogues and the command splitter.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "command_line.h"
#include "pop3mock/case_file.h"
#include "pop3mock/maildrop.h"
#include "pop3mock/script_factory.h"
#include "pop3mock/server.h"

typedef struct seen {
    char transcript[8192];
    size_t tlen;
    int ends;
    pop3mock_end why;
    pop3mock_script_result verdict;
    char report[2048];
} seen;

static void on_transcript(void *ctx, unsigned long conn, char dir, bool tls, const char *data,
                          size_t len)
{
    seen *s = ctx;
    (void)conn;
    (void)tls;
    int n = snprintf(s->transcript + s->tlen, sizeof s->transcript - s->tlen, "%c:%.*s|", dir,
                     (int)len, data);
    if (n > 0 && s->tlen + (size_t)n < sizeof s->transcript) s->tlen += (size_t)n;
}

static void on_end(void *ctx, const pop3mock_session_end *e)
{
    seen *s = ctx;
    s->ends++;
    s->why = e->why;
    s->verdict = e->verdict;
    snprintf(s->report, sizeof s->report, "%s", e->report);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_to(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Step `srv` until `fd` has `want` in what it read (or 5 s pass); returns what arrived. */
static void step_until(pop3mock_server *srv, int fd, const char *want, char *got, size_t cap)
{
    size_t n = 0;
    got[0] = '\0';
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int64_t end = now_ms() + 5000;
    char err[256];
    while (strstr(got, want) == NULL && now_ms() < end) {
        cr_assert_geq(pop3mock_server_step(srv, 20, err, sizeof err), 0, "%s", err);
        ssize_t r = read(fd, got + n, cap - 1 - n);
        if (r > 0) {
            n += (size_t)r;
            got[n] = '\0';
        }
    }
}

static pop3mock_script *script(const char *text)
{
    char err[256];
    pop3mock_script *sc = pop3mock_script_parse("t", text, strlen(text), err, sizeof err);
    cr_assert(sc != NULL, "%s", err);
    return sc;
}

Test(mock_server, bind_gives_the_port_before_running)
{
    pop3mock_script *sc = script("S: +OK hi\nC: QUIT\nS: +OK bye\n");
    pop3mock_script_factory *sf = pop3mock_script_factory_new(&sc, 1, NULL, false, false);
    pop3mock_factory f = pop3mock_script_factory_get(sf);
    pop3mock_server_config cfg;
    pop3mock_server_config_default(&cfg);
    seen s = {0};
    cfg.on_transcript = on_transcript;
    cfg.on_session_end = on_end;
    cfg.callback_ctx = &s;
    char err[256];
    pop3mock_server *srv = pop3mock_server_new(&cfg, &f, err, sizeof err);
    cr_assert(srv != NULL, "%s", err);
    cr_expect_eq(pop3mock_server_port(srv), 0u);
    cr_assert_eq(pop3mock_server_bind(srv, err, sizeof err), 0, "%s", err);
    unsigned port = pop3mock_server_port(srv);
    cr_expect_gt(port, 0u);
    char addr[64], want[64];
    pop3mock_server_address(srv, addr, sizeof addr);
    snprintf(want, sizeof want, "127.0.0.1:%u", port);
    cr_expect_str_eq(addr, want);
    /* The kernel queues the connection before any step runs. */
    int fd = connect_to(port);
    char got[512];
    step_until(srv, fd, "+OK hi\r\n", got, sizeof got);
    cr_expect_str_eq(got, "+OK hi\r\n");
    cr_expect_eq(write(fd, "QUIT\r\n", 6), 6);
    step_until(srv, fd, "bye\r\n", got, sizeof got);
    cr_expect_str_eq(got, "+OK bye\r\n");
    /* Every session ran: the factory is finished, step says so. */
    int rc = 1;
    for (int i = 0; i < 100 && rc == 1; i++)
        rc = pop3mock_server_step(srv, 20, err, sizeof err);
    cr_expect_eq(rc, 0);
    cr_expect_eq(s.ends, 1);
    cr_expect_eq(s.verdict, POP3MOCK_SCRIPT_PASSED);
    cr_expect(strstr(s.transcript, "E:connect|S:+OK hi\r\n|C:QUIT\r\n|S:+OK bye\r\n|") != NULL,
              "%s", s.transcript);
    close(fd);
    pop3mock_server_free(srv);
    pop3mock_script_factory_free(sf);
    pop3mock_script_free(sc);
}

static void *runner(void *arg)
{
    char err[256];
    static int rc;
    rc = pop3mock_server_run(arg, err, sizeof err);
    return &rc;
}

Test(mock_server, stop_from_another_thread_is_prompt)
{
    /* A session waiting for a client line: only stop ends it. */
    pop3mock_script *sc = script("S: +OK hi\nC: QUIT\nS: +OK bye\n");
    pop3mock_script_factory *sf = pop3mock_script_factory_new(&sc, 1, NULL, false, false);
    pop3mock_factory f = pop3mock_script_factory_get(sf);
    pop3mock_server_config cfg;
    pop3mock_server_config_default(&cfg);
    seen s = {0};
    cfg.on_session_end = on_end;
    cfg.callback_ctx = &s;
    char err[256];
    pop3mock_server *srv = pop3mock_server_new(&cfg, &f, err, sizeof err);
    cr_assert_eq(pop3mock_server_bind(srv, err, sizeof err), 0, "%s", err);
    int fd = connect_to(pop3mock_server_port(srv));
    pthread_t t;
    pthread_create(&t, NULL, runner, srv);
    char buf[64];
    cr_expect_gt(read(fd, buf, sizeof buf), 0); /* the greeting: the session is live */
    int64_t t0 = now_ms();
    pop3mock_server_stop(srv);
    void *ret;
    pthread_join(t, &ret);
    cr_expect_lt(now_ms() - t0, 1000, "run returned %lld ms after stop",
                 (long long)(now_ms() - t0));
    cr_expect_eq(*(int *)ret, 0);
    cr_expect_eq(s.ends, 1);
    cr_expect_eq(s.why, POP3MOCK_END_SHUTDOWN);
    cr_expect_eq(s.verdict, POP3MOCK_SCRIPT_DEPARTED, "the client never sent QUIT");
    cr_expect(strstr(s.report, "server shutdown") != NULL, "%s", s.report);
    cr_expect_eq(read(fd, buf, sizeof buf), 0, "the connection was closed");
    close(fd);
    pop3mock_server_free(srv);
    pop3mock_script_factory_free(sf);
    pop3mock_script_free(sc);
}

static pop3mock_session *open_maildrop(void *ctx, unsigned long conn)
{
    (void)conn;
    return pop3mock_maildrop_session_new(ctx, NULL, "<1.2@x>");
}

static void redirect(void)
{
    cr_redirect_stdout();
    cr_redirect_stderr();
}

Test(mock_server, library_prints_nothing, .init = redirect)
{
    pop3mock_maildrop md;
    pop3mock_maildrop_init(&md, "u", "p");
    pop3mock_factory f = {.open = open_maildrop, .ctx = &md};
    pop3mock_server_config cfg;
    pop3mock_server_config_default(&cfg);
    char err[256];
    /* A configuration error is reported in `err`, not printed. */
    cfg.tls_cert = "/nonexistent/cert.pem";
    cr_expect(pop3mock_server_new(&cfg, &f, err, sizeof err) == NULL);
    cr_expect(strstr(err, "/nonexistent/cert.pem") != NULL, "%s", err);
    cfg.tls_cert = NULL;
    cfg.listen = "256.0.0.1:0";
    pop3mock_server *srv = pop3mock_server_new(&cfg, &f, err, sizeof err);
    cr_assert(srv != NULL);
    cr_expect_eq(pop3mock_server_bind(srv, err, sizeof err), -1);
    pop3mock_server_free(srv);
    cfg.listen = "127.0.0.1:0";
    srv = pop3mock_server_new(&cfg, &f, err, sizeof err);
    cr_assert_eq(pop3mock_server_bind(srv, err, sizeof err), 0);
    int fd = connect_to(pop3mock_server_port(srv));
    char got[256];
    step_until(srv, fd, "<1.2@x>\r\n", got, sizeof got);
    cr_expect(strstr(got, "+OK POP3 server ready <1.2@x>\r\n") != NULL, "%s", got);
    close(fd);
    pop3mock_server_stop(srv);
    cr_expect_eq(pop3mock_server_step(srv, 100, err, sizeof err), 0);
    pop3mock_server_free(srv);
    pop3mock_maildrop_free(&md);
    fflush(stdout);
    fflush(stderr);
    cr_expect_stdout_eq_str("");
    cr_expect_stderr_eq_str("");
}

Test(mock_server, case_dialogue_keeps_line_numbers)
{
    const char text[] = "title: x\nrun: connect\n  ok\n\ndialogue:\nS: +OK %repeat[3|ab]%\n"
                        "C: QUIT\n";
    char err[256];
    size_t len = 0;
    char *d = pop3mock_case_dialogue("c.case", text, sizeof text - 1, &len, err, sizeof err);
    cr_assert(d != NULL, "%s", err);
    cr_expect_str_eq(d, "#\n#\n#\n#\n#\nS: +OK ababab\nC: QUIT\n");
    cr_expect_eq(len, strlen(d));
    free(d);
    cr_expect(pop3mock_case_dialogue("c.case", "title: x\n", 9, &len, err, sizeof err) == NULL);
    cr_expect_str_eq(err, "c.case:1: no \"dialogue:\" section");
    const char *why = NULL;
    cr_expect(pop3mock_case_expand("%repeat[0|x]%", 13, &len, &why) == NULL);
    cr_expect(pop3mock_case_expand("%repeat[5000000|x]%", 19, &len, &why) == NULL);
    cr_expect(strstr(why, "4 MiB") != NULL);
    char *at = pop3mock_case_expand("%repeat[4194304|x]%", 19, &len, &why);
    cr_expect(at != NULL && len == POP3MOCK_CASE_REPEAT_MAX, "at the limit");
    free(at);
    /* The count is digits only (the codec's number parser): no sign, no blank, not
     * empty; a count past 2^64-1 is "too large" like one past the limit. */
    static const char *const refused[] = {"%repeat[+3|x]%", "%repeat[-3|x]%", "%repeat[ 3|x]%",
                                          "%repeat[3 |x]%", "%repeat[|x]%",   "%repeat[0x3|x]%",
                                          "%repeat[3x]%"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        why = NULL;
        cr_expect(pop3mock_case_expand(refused[i], strlen(refused[i]), &len, &why) == NULL, "%s",
                  refused[i]);
        cr_expect(why != NULL && strstr(why, "expected a count") != NULL, "%s: %s", refused[i],
                  why);
    }
    static const char *const too_large[] = {"%repeat[4194305|x]%", "%repeat[2097153|xy]%",
                                            "%repeat[18446744073709551615|x]%",
                                            "%repeat[18446744073709551616|x]%"};
    for (size_t i = 0; i < sizeof too_large / sizeof too_large[0]; i++) {
        why = NULL;
        cr_expect(pop3mock_case_expand(too_large[i], strlen(too_large[i]), &len, &why) == NULL,
                  "%s", too_large[i]);
        cr_expect(why != NULL && strstr(why, "4 MiB") != NULL, "%s: %s", too_large[i], why);
    }
    at = pop3mock_case_expand("%repeat[003|ab]%", 16, &len, &why);
    cr_expect(at != NULL && strcmp(at, "ababab") == 0, "leading zeros are digits");
    free(at);
    /* A script error names the case file's own line. */
    const char bad[] = "title: x\ndialogue:\nS: +OK\nX: nonsense\n";
    d = pop3mock_case_dialogue("c.case", bad, sizeof bad - 1, &len, err, sizeof err);
    pop3mock_script *sc = pop3mock_script_parse("c.case", d, len, err, sizeof err);
    cr_expect(sc == NULL);
    cr_expect(strncmp(err, "c.case:4:", 9) == 0, "%s", err);
    free(d);
}

Test(mock_server, command_split)
{
    pop3mock__command c;
    pop3_request req;
    cr_assert(pop3mock__command_split("TOP 1  2", 8, &c, &req));
    cr_expect_eq(c.keyword_len, 3);
    cr_expect_eq(c.nargs, 2);
    cr_expect(c.arg_len[0] == 1 && c.arg[0][0] == '1');
    cr_expect(c.arg_len[1] == 1 && c.arg[1][0] == '2');
    cr_assert(pop3mock__command_split("PASS a b c", 10, &c, NULL));
    cr_expect_eq(c.nargs, POP3MOCK__ARGS_MAX + 1, "more than two words");
    cr_expect_eq(c.rest_len, 5);
    cr_expect(memcmp(c.rest, "a b c", 5) == 0);
    cr_assert(pop3mock__command_split("NOOP", 4, &c, &req));
    cr_expect_eq(c.nargs, 0);
    cr_expect_eq(c.rest_len, 0);
    /* The codec's parser decides what is a command: a control octet is refused, with
     * the rule and where. */
    cr_expect(!pop3mock__command_split("USER a\001b", 8, &c, &req));
    cr_expect_eq(req.fault, POP3_CMDF_CONTROL);
    cr_expect_eq(req.fault_at, 6);
    cr_expect(!pop3mock__command_split("", 0, &c, &req));
    cr_expect_eq(req.fault, POP3_CMDF_EMPTY);
    cr_expect(!pop3mock__command_split("", 0, &c, NULL));
}

/* pop3mock_server_quiet_since: set while every session waits for its client, 0 while one
 * has a pause running or octets of the client still unread. */
Test(mock_server, quiet_since_tells_waiting_from_pausing)
{
    pop3mock_script *sc = script("S: +OK hi\nC: STAT\n!delay 300\nS: +OK 0 0\nC: QUIT\n"
                                 "S: +OK bye\n");
    pop3mock_script_factory *sf = pop3mock_script_factory_new(&sc, 1, NULL, false, false);
    pop3mock_factory f = pop3mock_script_factory_get(sf);
    pop3mock_server_config cfg;
    pop3mock_server_config_default(&cfg);
    char err[256], got[512];
    pop3mock_server *srv = pop3mock_server_new(&cfg, &f, err, sizeof err);
    cr_assert(srv != NULL, "%s", err);
    cr_assert_eq(pop3mock_server_bind(srv, err, sizeof err), 0, "%s", err);
    cr_expect_eq(pop3mock_server_quiet_since(srv), 0, "nothing is known before a step");
    int fd = connect_to(pop3mock_server_port(srv));
    step_until(srv, fd, "+OK hi\r\n", got, sizeof got);
    cr_assert_eq(pop3mock_server_step(srv, 20, err, sizeof err), 1, "%s", err);
    int64_t since = pop3mock_server_quiet_since(srv);
    cr_expect_gt(since, 0, "greeted, the session waits for a command");
    cr_expect_leq(since, now_ms());
    /* The command arrives: a pause runs, the session is busy until it has answered. */
    cr_expect_eq(write(fd, "STAT\r\n", 6), 6);
    int64_t pause_end = now_ms() + 250;
    bool busy_seen = false, quiet_in_pause = false;
    while (now_ms() < pause_end) {
        cr_assert_eq(pop3mock_server_step(srv, 10, err, sizeof err), 1, "%s", err);
        if (pop3mock_server_quiet_since(srv) == 0)
            busy_seen = true;
        else if (busy_seen)
            quiet_in_pause = true;
    }
    cr_expect(busy_seen, "the pause is not waiting for the client");
    cr_expect(!quiet_in_pause, "quiet during the pause");
    step_until(srv, fd, "+OK 0 0\r\n", got, sizeof got);
    cr_assert_eq(pop3mock_server_step(srv, 20, err, sizeof err), 1, "%s", err);
    cr_expect_gt(pop3mock_server_quiet_since(srv), since, "waiting again, from a later time");
    close(fd);
    pop3mock_server_free(srv);
    pop3mock_script_factory_free(sf);
    pop3mock_script_free(sc);
}
