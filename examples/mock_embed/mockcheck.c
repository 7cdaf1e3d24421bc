/* mockcheck - embed pop3kit's mock server library (libpop3mock) in a program of your own.
 *
 * A test of a POP3 client does not always need a socket: a mock session is sans-I/O, fed
 * the octets a client sends and handing back the octets a server answers. This program
 * plays the two kinds of session the library has, in memory:
 *  - a maildrop session (a correct RFC 1939 server) over a message added in memory, and
 *  - a script session (a dialogue, as pop3-mock SCRIPT plays it), once with a client that
 *    follows the script and once with one that does not, whose report it prints.
 * and the server as a test program embeds it (pop3mock/server.h): bound on 127.0.0.1 and a
 * port the kernel picks, run on a thread of its own, a real TCP client, and
 *  - a script server that ends by itself once its session was played, and
 *  - a maildrop server stopped from the main thread while a client is still connected.
 * Exit status 0 when every outcome is the expected one, 1 otherwise.
 * Build: examples/mock_embed/CMakeLists.txt (find_package), or
 *   cc mockcheck.c $(pkg-config --cflags --libs pop3mock)
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pop3mock/maildrop.h>
#include <pop3mock/script.h>
#include <pop3mock/script_factory.h>
#include <pop3mock/server.h>
#include <pop3mock/session.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int failures;

static void expect(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    if (!ok) failures++;
}

static void maildrop_session(void)
{
    pop3mock_maildrop md;
    if (pop3mock_maildrop_init(&md, "alice", "secret") != 0) {
        expect(0, "maildrop: init");
        return;
    }
    static const char msg[] = "Subject: hello\r\n\r\nHi.\r\n";
    pop3mock_maildrop_add(&md, "1.eml", msg, sizeof msg - 1);
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    pop3mock_session *s = pop3mock_maildrop_session_new(&md, &opt, "<1.1@mockcheck>");
    static const char in[] = "USER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n";
    char out[4096];
    size_t n = s != NULL ? pop3mock_session_run(s, in, sizeof in - 1, out, sizeof out - 1) : 0;
    out[n < sizeof out ? n : sizeof out - 1] = '\0';
    char stat[64];
    snprintf(stat, sizeof stat, "+OK 1 %zu\r\n", sizeof msg - 1);
    expect(strncmp(out, "+OK", 3) == 0, "maildrop: greeting");
    expect(strstr(out, stat) != NULL, "maildrop: STAT counts the message in octets");
    pop3mock_session_free(s);
    pop3mock_maildrop_free(&md);
}

static const char dialogue[] = "S: +OK ready\n"
                               "C: USER alice\n"
                               "S: +OK\n"
                               "C: PASS {*}\n"
                               "S: +OK\n"
                               "C: STAT\n"
                               "S: +OK 0 0\n"
                               "C: QUIT\n"
                               "S: +OK bye\n";

/* Play the dialogue against `in`; returns the script's verdict, prints a departure. */
static pop3mock_script_result play(const pop3mock_script *sc, const char *in)
{
    pop3mock_limits lim;
    pop3mock_limits_default(&lim);
    pop3mock_session *s = pop3mock_script_session_new(sc, 0, &lim, "<1.1@mockcheck>", false);
    if (s == NULL) return POP3MOCK_SCRIPT_RUNNING;
    char out[4096];
    pop3mock_session_run(s, in, strlen(in), out, sizeof out);
    pop3mock_script_result r = pop3mock_script_session_finish(s, "end of input");
    const char *report;
    pop3mock_script_session_result(s, &report);
    if (r == POP3MOCK_SCRIPT_DEPARTED) printf("the mock's report:\n%s", report);
    pop3mock_session_free(s);
    return r;
}

static void script_sessions(void)
{
    char err[512];
    pop3mock_script *sc =
        pop3mock_script_parse("dialogue", dialogue, sizeof dialogue - 1, err, sizeof err);
    if (sc == NULL) {
        printf("%s\n", err);
        expect(0, "script: parse");
        return;
    }
    expect(play(sc, "USER alice\r\nPASS x\r\nSTAT\r\nQUIT\r\n") == POP3MOCK_SCRIPT_PASSED,
           "script: a client that follows passes");
    expect(play(sc, "USER alice\r\nPASS x\r\nLIST\r\nQUIT\r\n") == POP3MOCK_SCRIPT_DEPARTED,
           "script: a client that sends LIST for STAT departs");
    pop3mock_script_free(sc);
    expect(pop3mock_script_parse("bad", "X: nonsense\n", 12, err, sizeof err) == NULL &&
               strstr(err, "bad:1") != NULL,
           "script: an error names the line");
}

/* ---- The server on a thread, over TCP. ---------------------------------------------- */

typedef struct served {
    pop3mock_server *srv;
    int rc;
    pop3mock_script_result verdict; /* of the last session that ended */
    int sessions;
} served;

static void *run_server(void *arg)
{
    served *sv = arg;
    char err[256];
    sv->rc = pop3mock_server_run(sv->srv, err, sizeof err);
    return NULL;
}

/* Called on the server's thread as each connection ends. */
static void session_ended(void *ctx, const pop3mock_session_end *e)
{
    served *sv = ctx;
    sv->verdict = e->verdict;
    sv->sessions++;
}

/* Connect to 127.0.0.1:port, send `commands`, read `want` octets or until the server
 * closes; the connection stays open when `keep` is given (its descriptor goes there). */
static size_t client(unsigned port, const char *commands, char *out, size_t cap, size_t want,
                     int *keep)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 10};
    size_t n = 0;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
        connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(fd, commands, strlen(commands)) == (ssize_t)strlen(commands)) {
        ssize_t r;
        while (n < want && n + 1 < cap && (r = read(fd, out + n, cap - 1 - n)) > 0)
            n += (size_t)r;
    }
    out[n] = '\0';
    if (keep != NULL)
        *keep = fd;
    else if (fd >= 0)
        close(fd);
    return n;
}

static bool start(served *sv, const pop3mock_factory *f)
{
    pop3mock_server_config cfg;
    pop3mock_server_config_default(&cfg); /* 127.0.0.1:0: a free port */
    cfg.on_session_end = session_ended;
    cfg.callback_ctx = sv;
    char err[256];
    sv->srv = pop3mock_server_new(&cfg, f, err, sizeof err);
    if (sv->srv == NULL || pop3mock_server_bind(sv->srv, err, sizeof err) != 0) {
        printf("%s\n", err);
        return false;
    }
    return true;
}

static void script_server(void)
{
    char err[512];
    pop3mock_script *sc =
        pop3mock_script_parse("dialogue", dialogue, sizeof dialogue - 1, err, sizeof err);
    pop3mock_script_factory *sf =
        sc != NULL ? pop3mock_script_factory_new(&sc, 1, NULL, false, false) : NULL;
    served sv = {0};
    pthread_t t;
    pop3mock_factory f = sf != NULL ? pop3mock_script_factory_get(sf) : (pop3mock_factory){0};
    if (sf == NULL || !start(&sv, &f) || pthread_create(&t, NULL, run_server, &sv) != 0) {
        expect(0, "server: a script server starts");
    } else {
        /* Connections queue from bind on: the thread need not be running yet. */
        char out[1024];
        client(pop3mock_server_port(sv.srv), "USER alice\r\nPASS x\r\nSTAT\r\nQUIT\r\n", out,
               sizeof out, sizeof out, NULL);
        expect(strstr(out, "+OK 0 0\r\n") != NULL, "server: a client over TCP follows the script");
        pthread_join(t, NULL); /* the script's one session played: run returns by itself */
        expect(sv.rc == 0 && sv.sessions == 1 && sv.verdict == POP3MOCK_SCRIPT_PASSED,
               "server: the script server ends by itself, the session passed");
    }
    pop3mock_server_free(sv.srv);
    pop3mock_script_factory_free(sf);
    pop3mock_script_free(sc);
}

/* Sessions keep a pointer to their options: they must outlive the server. */
static pop3mock_maildrop_options maildrop_options;

static pop3mock_session *open_maildrop(void *ctx, unsigned long conn)
{
    char ts[64];
    snprintf(ts, sizeof ts, "<%lu.1@mockcheck>", conn); /* differs for every greeting */
    pop3mock_maildrop *md = ctx;
    return pop3mock_maildrop_session_new(md, &maildrop_options, ts);
}

static void maildrop_server(void)
{
    pop3mock_maildrop md;
    if (pop3mock_maildrop_init(&md, "alice", "secret") != 0) {
        expect(0, "server: maildrop");
        return;
    }
    pop3mock_maildrop_options_default(&maildrop_options);
    pop3mock_factory f = {.open = open_maildrop, .ctx = &md};
    served sv = {0};
    pthread_t t;
    if (!start(&sv, &f) || pthread_create(&t, NULL, run_server, &sv) != 0) {
        expect(0, "server: a maildrop server starts");
    } else {
        char out[1024];
        int fd = -1;
        client(pop3mock_server_port(sv.srv), "USER alice\r\nPASS secret\r\nSTAT\r\n", out,
               sizeof out, 3, &fd);
        expect(strncmp(out, "+OK", 3) == 0, "server: the maildrop server greets");
        pop3mock_server_stop(sv.srv); /* from this thread, while the client is connected */
        pthread_join(t, NULL);
        expect(sv.rc == 0 && sv.sessions == 1, "server: stopped from another thread, the "
                                               "session ended");
        if (fd >= 0) close(fd);
    }
    pop3mock_server_free(sv.srv);
    pop3mock_maildrop_free(&md);
}

int main(void)
{
    maildrop_session();
    script_sessions();
    script_server();
    maildrop_server();
    printf("%s\n", failures == 0 ? "all as expected" : "unexpected outcomes");
    return failures == 0 ? 0 : 1;
}
