/*
 * mock_thread.c - a case's dialogue played by pop3-mock's own engine, in a thread.
 *
 * The runner links the mock (pop3mock: script parser, sessions, the epoll server) and
 * runs one server per case run on 127.0.0.1 port 0, so that the reference client and any
 * adapter around another client talk to the same real socket, with real TLS (RFC 2595
 * STLS, RFC 8314 implicit TLS) and real write boundaries. Sessions are handed out in
 * order, one per connection, by the library's script factory, as pop3-mock does with a
 * script. The server is bound before its thread starts, so the port is known at once;
 * it stops by itself once every session has ended, and when a client opened fewer
 * connections than the dialogue has sessions the runner closes the factory and stops
 * the server through its wake-up descriptor (pop3mock_server_stop).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"
#include "pop3mock/script.h"
#include "pop3mock/script_factory.h"
#include "pop3mock/server.h"

static atomic_ulong log_counter;

struct mock_run {
    pthread_t thread;
    pop3mock_script *sc;
    pop3mock_script_factory *sf;
    pop3mock_server *srv;
    char logpath[400];
    int rc;
    char err[512];
    pop3_buf reports; /* departure reports, written on the server's thread */
};

static void session_end(void *ctx, const pop3mock_session_end *e)
{
    mock_run *m = ctx;
    if (e->verdict != POP3MOCK_SCRIPT_DEPARTED) return;
    cbuf_puts(&m->reports, e->report);
    if (m->reports.len > 0 && m->reports.ptr[m->reports.len - 1] != '\n')
        cbuf_putc(&m->reports, '\n');
}

static void *serve(void *arg)
{
    mock_run *m = arg;
    m->rc = pop3mock_server_run(m->srv, m->err, sizeof m->err);
    return NULL;
}

static void mock_free(mock_run *m)
{
    pop3mock_server_free(m->srv);
    pop3mock_script_factory_free(m->sf);
    pop3mock_script_free(m->sc);
    cbuf_free(&m->reports);
    if (m->logpath[0] != '\0') unlink(m->logpath);
    free(m);
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
    pop3mock_limits lim;
    pop3mock_limits_default(&lim);
    /* Long SASL responses (RFC5034-4.10) and long client lines are the client's to send;
     * the script decides whether they are right. */
    lim.max_sasl_line = 1u << 20;
    lim.max_input = 1u << 21;
    m->sf = pop3mock_script_factory_new(&m->sc, 1, &lim, false, false);
    if (m->sf == NULL) {
        snprintf(err, errlen, "out of memory");
        mock_free(m);
        return NULL;
    }
    pop3mock_server_config cfg;
    pop3mock_server_config_default(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.idle_timeout = idle_timeout;
    cfg.max_sessions = 64;
    cfg.on_session_end = session_end;
    cfg.callback_ctx = m;
    if (cert != NULL) {
        cfg.tls_cert = cert->cert;
        cfg.tls_key = cert->key;
    }
    if (logdir != NULL) {
        snprintf(m->logpath, sizeof m->logpath, "%s/mock-%ld-%lu.log", logdir, (long)getpid(),
                 atomic_fetch_add(&log_counter, 1) + 1);
        cfg.log_path = m->logpath;
    }
    pop3mock_factory f = pop3mock_script_factory_get(m->sf);
    char why[512];
    m->srv = pop3mock_server_new(&cfg, &f, why, sizeof why);
    if (m->srv == NULL || pop3mock_server_bind(m->srv, why, sizeof why) != 0) {
        snprintf(err, errlen, "the mock did not start: %s", why);
        mock_free(m);
        return NULL;
    }
    if (pthread_create(&m->thread, NULL, serve, m) != 0) {
        snprintf(err, errlen, "cannot start the mock's thread");
        mock_free(m);
        return NULL;
    }
    return m;
}

unsigned mock_port(const mock_run *m)
{
    return pop3mock_server_port(m->srv);
}

void mock_finish(mock_run *m, int wait_ms, mock_report *rep)
{
    memset(rep, 0, sizeof *rep);
    /* Wait for the sessions the clients opened to end. A client that never connected
     * (an adapter that answered n/a) is given a moment only: a connection it did make is
     * accepted within microseconds on loopback. */
    size_t total = pop3mock_script_factory_sessions(m->sf);
    int64_t start = mono_ms();
    size_t started = 0, ended = 0;
    for (;;) {
        pop3mock_script_factory_counts(m->sf, &started, &ended);
        if (ended == total || (started > 0 && ended >= started)) break;
        if (mono_ms() - start >= (started == 0 ? 200 : wait_ms)) break;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (ended < total) {
        pop3mock_script_factory_close(m->sf);
        pop3mock_server_stop(m->srv);
    }
    pthread_join(m->thread, NULL);

    rep->passed = m->rc == 0;
    if (m->rc != 0) cbuf_printf(&rep->text, "the mock failed: %s\n", m->err);
    if (m->reports.len > 0) {
        rep->passed = false;
        cbuf_add(&rep->text, m->reports.ptr, m->reports.len);
    }
    pop3mock_script_slot sl;
    for (size_t i = 0; pop3mock_script_factory_slot(m->sf, i, &sl); i++) {
        if (!sl.started) {
            rep->passed = false;
            cbuf_printf(&rep->text,
                        "session %zu never ran: the client did not open a connection for it\n",
                        i + 1);
        } else if (!sl.ended) {
            rep->passed = false;
            cbuf_printf(&rep->text, "session %zu did not end\n", i + 1);
        } else if (sl.result != POP3MOCK_SCRIPT_PASSED && sl.result != POP3MOCK_SCRIPT_DEPARTED) {
            rep->passed = false;
            cbuf_printf(&rep->text, "session %zu did not finish its script\n", i + 1);
        }
    }
    if (m->logpath[0] != '\0') {
        pop3mock_server_free(m->srv); /* closes the transcript file */
        m->srv = NULL;
        size_t n = 0;
        char *log = read_file(m->logpath, &n);
        if (log != NULL) cbuf_add(&rep->transcript, log, n);
        free(log);
    }
    mock_free(m);
}

void mock_report_free(mock_report *r)
{
    cbuf_free(&r->text);
    cbuf_free(&r->transcript);
}
