/*
 * mock_thread.c - a case's dialogue played by pop3-mock's own engine, in a thread.
 *
 * The runner links the mock (pop3mock: script parser, sessions, the epoll server) and
 * runs one server per case run on 127.0.0.1 port 0, so that the reference client and any
 * adapter around another client talk to the same real socket, with real TLS (RFC 2595
 * STLS, RFC 8314 implicit TLS) and real write boundaries. Sessions are handed out in
 * order, one per connection, as pop3-mock does with a script.
 *
 * The server stops by itself once every session has ended. When a client opened fewer
 * connections than the dialogue has sessions, the runner wakes the server with one more
 * connection of its own that gets a one-line "stop" session; its end tells the loop it is
 * finished. (The loop's other way out, SIGTERM, is process-wide and would stop every
 * server of a parallel run.)
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"
#include "pop3mock/script.h"
#include "pop3mock/server.h"

static atomic_ulong greeting_counter;

typedef struct slot {
    unsigned long conn; /* the connection playing it */
    bool started;
    bool ended;
    pop3mock_script_result result;
} slot;

struct mock_run {
    pthread_t thread;
    pop3mock_script *sc;
    pop3mock_script *stop_sc;
    pop3mock_limits lim;
    pop3mock_server_config cfg;
    char logpath[400];
    slot *slots;
    size_t nslots, next, ended;
    bool stopping;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pipefd[2];
    unsigned port;
    int rc;
    char err[512];
    cbuf reports;
};

static pop3mock_session *open_session(void *ctx, unsigned long conn)
{
    mock_run *m = ctx;
    char ts[128];
    snprintf(ts, sizeof ts, "<%ld.%lu.%lld@pop3kit.mock>", (long)getpid(),
             atomic_fetch_add(&greeting_counter, 1) + 1, (long long)time(NULL));
    pthread_mutex_lock(&m->mu);
    pop3mock_session *s = NULL;
    if (m->stopping) {
        s = pop3mock_script_session_new(m->stop_sc, 0, &m->lim, ts, false);
    } else if (m->next < m->nslots) {
        s = pop3mock_script_session_new(m->sc, m->next, &m->lim, ts, false);
        if (s != NULL) {
            m->slots[m->next].conn = conn;
            m->slots[m->next++].started = true;
        }
    }
    pthread_mutex_unlock(&m->mu);
    return s;
}

static void closed(void *ctx, unsigned long conn, pop3mock_session *s, pop3mock_end why)
{
    mock_run *m = ctx;
    static const char *const names[] = {"closed by the server", "closed by the client",
                                        "idle timeout", "TLS failure", "server shutdown"};
    pop3mock_script_result r = pop3mock_script_session_finish(s, names[why]);
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->next; i++) {
        if (m->slots[i].conn != conn || m->slots[i].ended) continue;
        m->slots[i].ended = true;
        m->slots[i].result = r;
        m->ended++;
        if (r == POP3MOCK_SCRIPT_DEPARTED) {
            const char *report = "";
            pop3mock_script_session_result(s, &report);
            cbuf_puts(&m->reports, report);
            if (m->reports.len > 0 && m->reports.ptr[m->reports.len - 1] != '\n')
                cbuf_putc(&m->reports, '\n');
        }
        break;
    }
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

static bool finished(void *ctx)
{
    mock_run *m = ctx;
    pthread_mutex_lock(&m->mu);
    bool f = m->stopping || m->ended == m->nslots;
    pthread_mutex_unlock(&m->mu);
    return f;
}

static void *serve(void *arg)
{
    mock_run *m = arg;
    pop3mock_factory f = {.open = open_session, .closed = closed, .finished = finished, .ctx = m};
    m->rc = pop3mock_server_run(&m->cfg, &f, m->err, sizeof m->err);
    fclose(m->cfg.ready); /* the runner sees the end of the ready pipe either way */
    return NULL;
}

mock_run *mock_start(const char *name, const char *script, size_t len, const tls_cert *cert,
                     const char *logdir, unsigned idle_timeout, char *err, size_t errlen)
{
    mock_run *m = xcalloc(1, sizeof *m);
    m->sc = pop3mock_script_parse(name, script, len, err, errlen);
    if (m->sc == NULL) {
        free(m);
        return NULL;
    }
    static const char stop_text[] = "S: -ERR [SYS/TEMP] pop3-conform: this case is over\n";
    m->stop_sc = pop3mock_script_parse("stop", stop_text, sizeof stop_text - 1, err, errlen);
    if (m->stop_sc == NULL) {
        pop3mock_script_free(m->sc);
        free(m);
        return NULL;
    }
    m->nslots = pop3mock_script_sessions(m->sc);
    m->slots = xcalloc(m->nslots, sizeof *m->slots);
    pop3mock_limits_default(&m->lim);
    /* Long SASL responses (RFC5034-4.10) and long client lines are the client's to send;
     * the script decides whether they are right. */
    m->lim.max_sasl_line = 1u << 20;
    m->lim.max_input = 1u << 21;
    pop3mock_server_config_default(&m->cfg);
    m->cfg.listen = "127.0.0.1:0";
    m->cfg.idle_timeout = idle_timeout;
    m->cfg.max_sessions = 64;
    if (cert != NULL) {
        m->cfg.tls_cert = cert->cert;
        m->cfg.tls_key = cert->key;
    }
    if (logdir != NULL) {
        snprintf(m->logpath, sizeof m->logpath, "%s/mock-%lu.log", logdir,
                 atomic_fetch_add(&greeting_counter, 1) + 1);
        m->cfg.log_path = m->logpath;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    if (pipe(m->pipefd) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    m->cfg.ready = fdopen(m->pipefd[1], "w");
    if (m->cfg.ready == NULL) {
        close(m->pipefd[1]);
        close(m->pipefd[0]);
        snprintf(err, errlen, "fdopen: %s", strerror(errno));
        goto fail;
    }
    if (pthread_create(&m->thread, NULL, serve, m) != 0) {
        fclose(m->cfg.ready);
        close(m->pipefd[0]);
        snprintf(err, errlen, "cannot start the mock's thread");
        goto fail;
    }
    /* The ready line: "pop3-mock listening on 127.0.0.1:PORT". */
    char line[256];
    size_t got = 0;
    int64_t deadline = mono_ms() + 10000;
    while (got < sizeof line - 1 && memchr(line, '\n', got) == NULL) {
        struct pollfd pfd = {.fd = m->pipefd[0], .events = POLLIN};
        int64_t left = deadline - mono_ms();
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) break;
        ssize_t r = read(m->pipefd[0], line + got, sizeof line - 1 - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    line[got] = '\0';
    close(m->pipefd[0]);
    const char *colon = strrchr(line, ':');
    if (strncmp(line, "pop3-mock listening on ", 23) != 0 || colon == NULL) {
        pthread_join(m->thread, NULL);
        snprintf(err, errlen, "the mock did not start: %s", m->err[0] ? m->err : "no ready line");
        goto fail_started;
    }
    m->port = (unsigned)strtoul(colon + 1, NULL, 10);
    return m;
fail_started:
fail:
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    pop3mock_script_free(m->sc);
    pop3mock_script_free(m->stop_sc);
    free(m->slots);
    cbuf_free(&m->reports);
    if (m->logpath[0] != '\0') unlink(m->logpath);
    free(m);
    return NULL;
}

unsigned mock_port(const mock_run *m)
{
    return m->port;
}

/* Connect, read until the server closes (it says "-ERR" and hangs up), close. */
static void knock(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        char buf[256];
        int64_t deadline = mono_ms() + 3000;
        for (;;) {
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            int64_t left = deadline - mono_ms();
            if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) break;
            if (read(fd, buf, sizeof buf) <= 0) break;
        }
    }
    close(fd);
}

void mock_finish(mock_run *m, int wait_ms, mock_report *rep)
{
    memset(rep, 0, sizeof *rep);
    /* Wait for the sessions the clients opened to end. A client that never connected
     * (an adapter that answered n/a) is given a moment only: a connection it did make is
     * accepted within microseconds on loopback. */
    int64_t start = mono_ms();
    pthread_mutex_lock(&m->mu);
    for (;;) {
        int64_t now = mono_ms();
        if (m->next > 0 && m->ended >= m->next) break;
        if (now - start >= (m->next == 0 ? 200 : wait_ms)) break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 20 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&m->cv, &m->mu, &until);
    }
    bool stop = m->ended < m->nslots;
    if (stop) m->stopping = true;
    pthread_mutex_unlock(&m->mu);
    if (stop) knock(m->port);
    pthread_join(m->thread, NULL);

    rep->passed = m->rc == 0;
    if (m->rc != 0) cbuf_printf(&rep->text, "the mock failed: %s\n", m->err);
    if (m->reports.len > 0) {
        rep->passed = false;
        cbuf_add(&rep->text, m->reports.ptr, m->reports.len);
    }
    for (size_t i = 0; i < m->nslots; i++) {
        if (!m->slots[i].started) {
            rep->passed = false;
            cbuf_printf(&rep->text,
                        "session %zu never ran: the client did not open a connection for it\n",
                        i + 1);
        } else if (!m->slots[i].ended) {
            rep->passed = false;
            cbuf_printf(&rep->text, "session %zu did not end\n", i + 1);
        } else if (m->slots[i].result != POP3MOCK_SCRIPT_PASSED &&
                   m->slots[i].result != POP3MOCK_SCRIPT_DEPARTED) {
            rep->passed = false;
            cbuf_printf(&rep->text, "session %zu did not finish its script\n", i + 1);
        }
    }
    if (m->logpath[0] != '\0') {
        size_t n = 0;
        char *log = read_file(m->logpath, &n);
        if (log != NULL) cbuf_add(&rep->transcript, log, n);
        free(log);
        unlink(m->logpath);
    }
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    pop3mock_script_free(m->sc);
    pop3mock_script_free(m->stop_sc);
    free(m->slots);
    cbuf_free(&m->reports);
    free(m);
}

void mock_report_free(mock_report *r)
{
    cbuf_free(&r->text);
    cbuf_free(&r->transcript);
}
