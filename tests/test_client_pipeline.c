/*
 * test_client_pipeline.c - bulk retrieval with and without pipelining (RFC 2449 section
 * 6.6): identical results either way, commands in flight bounded in number and octets,
 * DELE only after the handler's verdict, replies paired in order, and no deadlock on a
 * real socket when the server writes big bodies with blocking writes while commands are
 * still coming.
 *
 * The in-memory server is a responder: it answers each command line as soon as the
 * client writes it, which is exactly what a pipelining server sees (RFC2449-6.6a: it
 * processes commands in order). RFC matrix rows: RFC2449-6.6b, RFC2449-7. Quirk Q31.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "client_harness.h"
#include "pop3/parse.h"

#define MAXMSG 200

/* The scripted maildrop
 * --------------------- */

typedef struct server {
    char in[65536];
    size_t in_len;
    unsigned nmsgs;
    bool deleted[MAXMSG + 1];
    const char *capa; /* reply to CAPA, NULL: -ERR */
    /* in-flight accounting for RETR/DELE */
    size_t lens[4 * MAXMSG];
    unsigned cmds;
    const unsigned *replies; /* the handler's count of replies consumed */
    unsigned max_inflight;
    size_t max_inflight_bytes;
    unsigned writes_in_run;
    bool in_run;
} server;

static void body_of(unsigned i, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "Subject: message %u\r\n\r\n", i);
    if (i % 3 == 0) o += (size_t)snprintf(out + o, cap - o, ".dot line\r\n");
    for (unsigned k = 0; k < i % 7 + 1; k++)
        o += (size_t)snprintf(out + o, cap - o, "line %u of message %u\r\n", k, i);
}

static void push(pop3_transport *t, const char *s)
{
    cr_assert_eq(pop3_transport_memory_add_str(t, s, 0), POP3_OK);
}

static void serve_line(server *s, pop3_transport *t, const char *line, size_t len)
{
    char buf[8192];
    unsigned n = 0;
    if (strncmp(line, "RETR ", 5) == 0 || strncmp(line, "DELE ", 5) == 0) {
        cr_assert(s->cmds < sizeof s->lens / sizeof s->lens[0]);
        s->lens[s->cmds++] = len;
        /* The client must send "RETR n\r\n": n in the digits RFC 1939 allows, read by
         * the codec's one number parser. */
        uint64_t v = 0;
        cr_assert(len >= 7 && line[len - 2] == '\r', "no CRLF: %s", line);
        cr_assert_eq(pop3_parse_number(line + 5, len - 7, &v), POP3_OK, "argument of %s", line);
        n = v > s->nmsgs ? 0 : (unsigned)v;
    }
    if (strncmp(line, "RETR ", 5) == 0) {
        if (n == 0 || n > s->nmsgs || s->deleted[n]) {
            push(t, "-ERR no such message\r\n");
            return;
        }
        char body[2048], stuffed[4096];
        body_of(n, body, sizeof body);
        /* Byte-stuff: a line starting with "." gets another. */
        size_t o = 0;
        for (const char *p = body; *p;) {
            if (*p == '.') stuffed[o++] = '.';
            const char *nl = strchr(p, '\n');
            size_t l = (size_t)(nl - p) + 1;
            memcpy(stuffed + o, p, l);
            o += l;
            p += l;
        }
        stuffed[o] = '\0';
        snprintf(buf, sizeof buf, "+OK %zu octets\r\n%s.\r\n", strlen(body), stuffed);
        push(t, buf);
    } else if (strncmp(line, "DELE ", 5) == 0) {
        if (n == 0 || n > s->nmsgs || s->deleted[n]) {
            push(t, "-ERR no such message\r\n");
        } else {
            s->deleted[n] = true;
            snprintf(buf, sizeof buf, "+OK message %u deleted\r\n", n);
            push(t, buf);
        }
    } else if (strncmp(line, "CAPA", 4) == 0) {
        push(t, s->capa ? s->capa : "-ERR what?\r\n");
    } else if (strncmp(line, "USER", 4) == 0 || strncmp(line, "PASS", 4) == 0 ||
               strncmp(line, "NOOP", 4) == 0 || strncmp(line, "QUIT", 4) == 0) {
        push(t, "+OK\r\n");
    } else {
        push(t, "-ERR unknown\r\n");
    }
}

static void respond(void *ud, pop3_transport *t, const char *data, size_t len)
{
    server *s = ud;
    cr_assert(s->in_len + len <= sizeof s->in);
    memcpy(s->in + s->in_len, data, len);
    s->in_len += len;
    char *nl;
    while ((nl = memchr(s->in, '\n', s->in_len)) != NULL) {
        size_t n = (size_t)(nl - s->in) + 1;
        char line[512];
        cr_assert(n < sizeof line);
        memcpy(line, s->in, n);
        line[n] = '\0';
        memmove(s->in, s->in + n, s->in_len - n);
        s->in_len -= n;
        serve_line(s, t, line, n);
    }
    /* Everything written so far is in the server's hands: the commands in flight are
     * those whose replies the client has not consumed yet. */
    if (s->in_run && s->replies) {
        s->writes_in_run++;
        unsigned inflight = s->cmds - *s->replies;
        if (inflight > s->max_inflight) s->max_inflight = inflight;
        size_t bytes = 0;
        for (unsigned i = *s->replies; i < s->cmds; i++)
            bytes += s->lens[i];
        if (bytes > s->max_inflight_bytes) s->max_inflight_bytes = bytes;
    }
}

/* The handler: a transcript of what it saw
 * --------------------------------------- */

typedef struct record {
    char log[1 << 17];
    size_t len;
    char cur[4096];
    size_t cur_len;
    unsigned replies;
    int delete_every; /* DELETE when msg % delete_every == 0 (0: never) */
    uint64_t fail_data_of;
    uint64_t skip_begin_of;
    uint64_t stop_at;
    bool deleted[MAXMSG + 1];
    /* Deferred deletion: messages kept, then deleted by pop3_retrieve_delete once
     * `defer` of them (or the message `last`) are in, as a sink syncing in batches. */
    pop3_client *c;
    unsigned defer;
    uint64_t last;
    uint64_t held[MAXMSG];
    unsigned nheld;
} record;

static void logf_(record *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(record *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->log + r->len, sizeof r->log - r->len, fmt, ap);
    va_end(ap);
    cr_assert(n > 0 && (size_t)n < sizeof r->log - r->len);
    r->len += (size_t)n;
}

static int h_begin(void *ud, uint64_t msg)
{
    record *r = ud;
    r->cur_len = 0;
    logf_(r, "begin %llu\n", (unsigned long long)msg);
    return msg == r->skip_begin_of ? POP3_EIO : POP3_OK;
}

static int h_data(void *ud, uint64_t msg, const char *data, size_t len)
{
    record *r = ud;
    if (msg == r->fail_data_of) return POP3_EIO;
    cr_assert(r->cur_len + len < sizeof r->cur);
    memcpy(r->cur + r->cur_len, data, len);
    r->cur_len += len;
    return POP3_OK;
}

static int h_done(void *ud, uint64_t msg, int status)
{
    record *r = ud;
    r->replies++;
    logf_(r, "done %llu %s %zu\n", (unsigned long long)msg, pop3_errname(status),
          status == POP3_OK ? r->cur_len : 0);
    if (status == POP3_OK) {
        char want[2048];
        body_of((unsigned)msg, want, sizeof want);
        cr_assert_eq(r->cur_len, strlen(want), "message %llu", (unsigned long long)msg);
        cr_assert(memcmp(r->cur, want, r->cur_len) == 0);
    }
    r->cur_len = 0;
    if (msg == r->stop_at) return POP3_EUSAGE;
    if (r->defer) {
        if (status == POP3_OK)
            r->held[r->nheld++] = msg;
        else
            cr_assert_eq(pop3_retrieve_delete(r->c, msg), POP3_EUSAGE, "not received whole");
        if (r->nheld == r->defer || msg == r->last) {
            for (unsigned i = 0; i < r->nheld; i++) {
                cr_assert_eq(pop3_retrieve_delete(r->c, r->held[i]), POP3_OK);
                cr_assert_eq(pop3_retrieve_delete(r->c, r->held[i]), POP3_EUSAGE, "twice");
            }
            r->nheld = 0;
        }
        return POP3_KEEP;
    }
    if (r->delete_every && msg % (uint64_t)r->delete_every == 0) return POP3_DELETE;
    return POP3_KEEP;
}

static void h_deleted(void *ud, uint64_t msg, int status)
{
    record *r = ud;
    r->replies++;
    if (status == POP3_OK) r->deleted[msg] = true;
}

typedef struct run {
    server srv;
    record rec;
    unsigned writes;
    int rc;
    char out[1 << 16];
} run;

/* Retrieve msgs 1..n (plus any extra numbers) from a maildrop of `nmsgs`. */
static void do_run(run *x, const pop3_options *opt, size_t chunk, const uint64_t *msgs,
                   size_t count, unsigned nmsgs, const char *capa)
{
    memset(&x->srv, 0, sizeof x->srv);
    x->srv.nmsgs = nmsgs;
    x->srv.capa = capa;
    x->srv.replies = &x->rec.replies;
    pop3_transport *t = pop3_transport_memory_new();
    pop3_transport_memory_set_chunk(t, chunk);
    pop3_transport_memory_set_responder(t, respond, &x->srv);
    push(t, "+OK ready\r\n");
    pop3_client *c;
    cr_assert_eq(pop3_client_new(&c, opt), POP3_OK);
    cr_assert_eq(pop3_connect_transport(c, t, "h", 110), POP3_OK);
    cr_assert_eq(pop3_user(c, "u"), POP3_OK);
    cr_assert_eq(pop3_pass(c, "p"), POP3_OK);
    pop3_retrieve_handler h = {h_begin, h_data, h_done, h_deleted, &x->rec};
    x->rec.c = c;
    unsigned before = pop3_transport_memory_writes(t);
    size_t out_before;
    pop3_transport_memory_output(t, &out_before);
    x->srv.in_run = true;
    x->rc = pop3_retrieve(c, msgs, count, &h);
    x->srv.in_run = false;
    x->writes = pop3_transport_memory_writes(t) - before;
    snprintf(x->out, sizeof x->out, "%s", pop3_transport_memory_output(t, NULL) + out_before);
    if (x->rc == POP3_OK || pop3_is_connected(c)) cr_assert_eq(pop3_noop(c), POP3_OK);
    pop3_client_free(c);
    pop3_transport_memory_free(t);
}

static uint64_t *seq(size_t n)
{
    uint64_t *m = malloc(n * sizeof *m);
    for (size_t i = 0; i < n; i++)
        m[i] = i + 1;
    return m;
}

#define CAPA_PIPE  "+OK\r\nUSER\r\nPIPELINING\r\n.\r\n"
#define CAPA_PLAIN "+OK\r\nUSER\r\n.\r\n"

static void options(pop3_options *o, pop3_pipelining p, unsigned window)
{
    pop3_options_default(o);
    o->pipelining = p;
    o->pipeline_window = window;
}

Test(pipeline, identical_results_with_and_without)
{
    size_t n = 100;
    uint64_t *msgs = seq(n);
    static run off, on;
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        unsigned windows[] = {32, 3, 1};
        for (size_t w = 0; w < 3; w++) {
            pop3_options o;
            memset(&off, 0, sizeof off);
            memset(&on, 0, sizeof on);
            off.rec.delete_every = on.rec.delete_every = 2;
            options(&o, POP3_PIPELINING_OFF, windows[w]);
            do_run(&off, &o, harness_chunks[ci], msgs, n, (unsigned)n, CAPA_PIPE);
            options(&o, POP3_PIPELINING_AUTO, windows[w]);
            do_run(&on, &o, harness_chunks[ci], msgs, n, (unsigned)n, CAPA_PIPE);
            cr_assert_eq(off.rc, POP3_OK);
            cr_assert_eq(on.rc, POP3_OK);
            /* The handler saw the same calls, in the same order. */
            cr_assert_str_eq(on.rec.log, off.rec.log);
            cr_assert(memcmp(on.rec.deleted, off.rec.deleted, sizeof on.rec.deleted) == 0);
            cr_assert(memcmp(on.srv.deleted, off.srv.deleted, sizeof on.srv.deleted) == 0);
            for (unsigned i = 1; i <= n; i++)
                cr_assert_eq(on.srv.deleted[i], i % 2 == 0);
            /* One command at a time without pipelining: RETR 1, DELE 1, RETR 2... */
            cr_assert(strncmp(off.out, "RETR 1\r\nRETR 2\r\nDELE 2\r\nRETR 3\r\n", 32) == 0,
                      "%.60s", off.out);
            cr_assert(strncmp(on.out, "CAPA\r\nRETR 1\r\nRETR 2\r\n", 22) == 0);
            cr_assert_eq(off.srv.max_inflight, 1);
            cr_assert_eq(on.srv.max_inflight, windows[w]);
            cr_assert_leq(on.srv.max_inflight_bytes, o.pipeline_max_bytes);
            /* Batched writes: half a window per write once the pipe is full. */
            if (windows[w] >= 4) cr_assert_lt(on.writes * 2, off.writes);
            if (windows[w] == 3) cr_assert_lt(on.writes, off.writes);
        }
    }
    free(msgs);
}

Test(pipeline, byte_bound_on_commands_in_flight)
{
    size_t n = 150;
    uint64_t *msgs = seq(n);
    static run on;
    memset(&on, 0, sizeof on);
    pop3_options o;
    options(&o, POP3_PIPELINING_ON, 1000);
    o.pipeline_max_bytes = 300; /* about 25 "RETR nnn" lines */
    on.rec.delete_every = 1;
    do_run(&on, &o, 0, msgs, n, (unsigned)n, NULL);
    cr_assert_eq(on.rc, POP3_OK);
    cr_assert_leq(on.srv.max_inflight_bytes, 300);
    cr_assert_geq(on.srv.max_inflight_bytes, 250);
    for (unsigned i = 1; i <= n; i++)
        cr_assert(on.srv.deleted[i]);
    free(msgs);
}

Test(pipeline, per_message_errors_and_verdicts)
{
    /* 42 does not exist (-ERR), 6's begin says skip, 9's data sink fails; all of them
     * would be DELETEd by the verdict, none may be. */
    uint64_t msgs[] = {1, 2, 42, 3, 6, 9, 4};
    for (int p = 0; p < 2; p++) {
        for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
            static run x;
            memset(&x, 0, sizeof x);
            x.rec.delete_every = 1;
            x.rec.skip_begin_of = 6;
            x.rec.fail_data_of = 9;
            pop3_options o;
            options(&o, p ? POP3_PIPELINING_ON : POP3_PIPELINING_OFF, 32);
            do_run(&x, &o, harness_chunks[ci], msgs, 7, 9, CAPA_PLAIN);
            cr_assert_eq(x.rc, POP3_OK);
            cr_assert(harness_has(x.rec.log, "done 42 ESERVER 0\n"), "%s", x.rec.log);
            cr_assert(harness_has(x.rec.log, "done 6 EIO 0\n"), "%s", x.rec.log);
            cr_assert(harness_has(x.rec.log, "done 9 EIO 0\n"));
            cr_assert(!harness_has(x.rec.log, "begin 42"));
            cr_assert(!x.srv.deleted[6] && !x.srv.deleted[9]);
            cr_assert(!harness_has(x.out, "DELE 42") && !harness_has(x.out, "DELE 6") &&
                      !harness_has(x.out, "DELE 9"));
            cr_assert(x.srv.deleted[1] && x.srv.deleted[2] && x.srv.deleted[3] && x.srv.deleted[4]);
        }
    }
}

/* A sink that makes messages safe in batches deletes each only once its batch is:
 * DELE n is written after the RETR of its batch's last message, never before, and every
 * message received whole is deleted, the last short batch too. */
Test(pipeline, deferred_delete_after_its_batch)
{
    uint64_t msgs[] = {1, 2, 3, 4, 42, 5, 6, 7};
    for (int p = 0; p < 2; p++) {
        for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
            static run x;
            memset(&x, 0, sizeof x);
            x.rec.defer = 3;
            x.rec.last = 7;
            pop3_options o;
            options(&o, p ? POP3_PIPELINING_ON : POP3_PIPELINING_OFF, 4);
            do_run(&x, &o, harness_chunks[ci], msgs, 8, 7, CAPA_PLAIN);
            cr_assert_eq(x.rc, POP3_OK, "%s", x.rec.log);
            for (unsigned i = 1; i <= 7; i++)
                cr_assert(x.srv.deleted[i] && x.rec.deleted[i], "message %u", i);
            cr_assert(!harness_has(x.out, "DELE 42"));
            /* Batches {1,2,3}, {4,5,6}, {7}: each DELE after its batch's last RETR. */
            static const char *const after[][2] = {{"DELE 1\r\n", "RETR 3\r\n"},
                                                   {"DELE 3\r\n", "RETR 3\r\n"},
                                                   {"DELE 4\r\n", "RETR 6\r\n"},
                                                   {"DELE 6\r\n", "RETR 6\r\n"},
                                                   {"DELE 7\r\n", "RETR 7\r\n"}};
            for (size_t i = 0; i < sizeof after / sizeof *after; i++) {
                const char *d = strstr(x.out, after[i][0]), *r = strstr(x.out, after[i][1]);
                cr_assert(d && r && d > r, "%s before %s:\n%s", after[i][0], after[i][1], x.out);
            }
        }
    }
}

/* pop3_retrieve_delete outside a retrieval is refused; a run the handler stopped before a
 * batch was safe deletes nothing of it. */
Test(pipeline, deferred_delete_refused_outside_a_run)
{
    pop3_client *c;
    cr_assert_eq(pop3_client_new(&c, NULL), POP3_OK);
    cr_assert_eq(pop3_retrieve_delete(c, 1), POP3_EUSAGE);
    pop3_client_free(c);
    size_t n = 10;
    uint64_t *msgs = seq(n);
    static run x;
    memset(&x, 0, sizeof x);
    x.rec.defer = 4;
    x.rec.stop_at = 3; /* stops before the first batch is complete */
    pop3_options o;
    options(&o, POP3_PIPELINING_ON, 8);
    do_run(&x, &o, 0, msgs, n, (unsigned)n, NULL);
    cr_assert_eq(x.rc, POP3_EUSAGE);
    cr_assert(!harness_has(x.out, "DELE"), "%s", x.out);
    free(msgs);
}

Test(pipeline, missing_message_gets_err)
{
    uint64_t msgs[] = {1, 42, 2};
    static run x;
    memset(&x, 0, sizeof x);
    x.rec.delete_every = 1;
    pop3_options o;
    options(&o, POP3_PIPELINING_ON, 32);
    do_run(&x, &o, 0, msgs, 3, 2, NULL);
    cr_assert_eq(x.rc, POP3_OK);
    cr_assert(harness_has(x.rec.log, "done 42 ESERVER 0\n"), "%s", x.rec.log);
    cr_assert(!harness_has(x.out, "DELE 42"));
    cr_assert(harness_has(x.out, "DELE 1\r\n") && harness_has(x.out, "DELE 2\r\n"));
}

Test(pipeline, handler_stop_drains_in_flight)
{
    size_t n = 40;
    uint64_t *msgs = seq(n);
    for (int p = 0; p < 2; p++) {
        static run x;
        memset(&x, 0, sizeof x);
        x.rec.delete_every = 1;
        x.rec.stop_at = 5;
        pop3_options o;
        options(&o, p ? POP3_PIPELINING_ON : POP3_PIPELINING_OFF, 8);
        do_run(&x, &o, 1, msgs, n, (unsigned)n, NULL);
        cr_assert_eq(x.rc, POP3_EUSAGE);
        /* done was not called after the stop, nothing was deleted after it, and the
         * session is in step (do_run sent a NOOP and got its +OK). */
        cr_assert(!harness_has(x.rec.log, "done 6 "));
        cr_assert(!x.srv.deleted[5]);
        for (unsigned i = 5; i <= n; i++)
            cr_assert(!x.srv.deleted[i], "%u", i);
        cr_assert(x.srv.deleted[1] && x.srv.deleted[4]);
        /* No RETR was queued after the stop was known beyond the window. */
        cr_assert(!harness_has(x.out, p ? "RETR 14\r\n" : "RETR 6\r\n"), "%s", x.out);
    }
    free(msgs);
}

Test(pipeline, auto_mode_follows_capa_rfc2449_7_q31)
{
    uint64_t msgs[] = {1, 2, 3};
    static run x;
    pop3_options o;
    options(&o, POP3_PIPELINING_AUTO, 32);
    /* No CAPA at all: still works, one at a time (RFC2449-7). */
    memset(&x, 0, sizeof x);
    do_run(&x, &o, 0, msgs, 3, 3, NULL);
    cr_assert_eq(x.rc, POP3_OK);
    cr_assert_eq(x.srv.max_inflight, 1);
    cr_assert(strncmp(x.out, "CAPA\r\nRETR 1\r\n", 14) == 0);
    /* CAPA lists PIPELINING: pipelined. */
    memset(&x, 0, sizeof x);
    do_run(&x, &o, 0, msgs, 3, 3, CAPA_PIPE);
    cr_assert_eq(x.srv.max_inflight, 3);
    cr_assert_str_eq(x.out, "CAPA\r\nRETR 1\r\nRETR 2\r\nRETR 3\r\n");

    /* Q31: the list before login lacks PIPELINING, the one after has it. */
    pop3_transport *t = pop3_transport_memory_new();
    const char *script[] = {"+OK\r\n", CAPA_PLAIN, "+OK\r\n", "+OK\r\n", CAPA_PIPE, NULL};
    for (unsigned i = 0; script[i]; i++)
        pop3_transport_memory_add_str(t, script[i], i);
    pop3_client *c;
    cr_assert_eq(pop3_client_new(&c, &o), POP3_OK);
    cr_assert_eq(pop3_connect_transport(c, t, NULL, 0), POP3_OK);
    cr_assert_eq(pop3_capa(c, NULL), POP3_OK);
    cr_assert(!pop3_pipelining_active(c));
    cr_assert_eq(pop3_user(c, "u"), POP3_OK);
    cr_assert_eq(pop3_pass(c, "p"), POP3_OK);
    memset(&x.rec, 0, sizeof x.rec);
    pop3_retrieve_handler h = {NULL, h_data, h_done, NULL, &x.rec};
    /* No message: only the decision to pipeline is taken, after a fresh CAPA. */
    cr_assert_eq(pop3_retrieve(c, NULL, 0, &h), POP3_OK);
    cr_assert(pop3_pipelining_active(c));
    cr_assert_str_eq(pop3_transport_memory_output(t, NULL), "CAPA\r\nUSER u\r\nPASS p\r\nCAPA\r\n");
    pop3_client_free(c);
    pop3_transport_memory_free(t);
}

Test(pipeline, fatal_error_mid_run)
{
    /* The server dies after two replies: ECLOSED, the rest never reported as done. */
    pop3_transport *t = pop3_transport_memory_new();
    pop3_transport_memory_add_str(t, "+OK\r\n", 0);
    pop3_transport_memory_add_str(t,
                                  "+OK\r\nSubject: message 1\r\n\r\nline 0 of message 1\r\n"
                                  "line 1 of message 1\r\n.\r\n+OK\r\npartial",
                                  1);
    pop3_options o;
    options(&o, POP3_PIPELINING_ON, 32);
    pop3_client *c;
    cr_assert_eq(pop3_client_new(&c, &o), POP3_OK);
    cr_assert_eq(pop3_connect_transport(c, t, NULL, 0), POP3_OK);
    static record rec;
    memset(&rec, 0, sizeof rec);
    pop3_retrieve_handler h = {h_begin, h_data, h_done, h_deleted, &rec};
    uint64_t msgs[] = {1, 2, 3};
    cr_assert_eq(pop3_retrieve(c, msgs, 3, &h), POP3_ECLOSED);
    cr_assert(harness_has(rec.log, "done 1 OK"));
    cr_assert(!harness_has(rec.log, "done 2"));
    cr_assert(!pop3_is_connected(c));
    pop3_client_free(c);
    pop3_transport_memory_free(t);
}

Test(pipeline, usage_errors)
{
    const char *script[] = {"+OK\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    pop3_retrieve_handler none = {0};
    uint64_t m = 1;
    ASSERT_RC(pop3_retrieve(h.c, &m, 1, &none), POP3_EUSAGE);
    ASSERT_RC(pop3_retrieve(h.c, &m, 1, NULL), POP3_EUSAGE);
    cr_assert_str_eq(harness_out(&h), "");
    harness_close(&h);
}

/* A real socket: the server writes whole bodies with blocking writes
 * ------------------------------------------------------------------ */

#define BIG_BODY (256 * 1024)
#define BIG_MSGS 48

typedef struct tcp_server {
    int lfd;
    unsigned short port;
    size_t commands;
} tcp_server;

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static void *tcp_serve(void *arg)
{
    tcp_server *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    /* A small receive buffer on the server makes a deadlock easy if the client sends
     * more commands than fit while the server is blocked writing a body. */
    int small = 4096, one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char *body = malloc(BIG_BODY + 64);
    size_t o = (size_t)snprintf(body, 64, "+OK %d octets\r\n", BIG_BODY);
    for (size_t i = 0; i < BIG_BODY / 64; i++) {
        memset(body + o, 'a' + (int)(i % 26), 62);
        memcpy(body + o + 62, "\r\n", 2);
        o += 64;
    }
    memcpy(body + o, ".\r\n", 3);
    o += 3;
    send_all(fd, "+OK loopback\r\n", 14);
    char in[4096];
    size_t in_len = 0;
    for (;;) {
        char *nl = memchr(in, '\n', in_len);
        if (!nl) {
            ssize_t r = recv(fd, in + in_len, sizeof in - in_len, 0);
            if (r <= 0) break;
            in_len += (size_t)r;
            continue;
        }
        size_t n = (size_t)(nl - in) + 1;
        s->commands++;
        /* One command, then its whole reply, blocking: strictly in order. */
        if (strncmp(in, "RETR", 4) == 0)
            send_all(fd, body, o);
        else if (strncmp(in, "QUIT", 4) == 0) {
            send_all(fd, "+OK bye\r\n", 9);
            break;
        } else
            send_all(fd, "+OK\r\n", 5);
        memmove(in, in + n, in_len - n);
        in_len -= n;
    }
    free(body);
    close(fd);
    return NULL;
}

typedef struct big_rec {
    uint64_t octets;
    unsigned done;
} big_rec;

static int big_data(void *ud, uint64_t msg, const char *data, size_t len)
{
    (void)msg, (void)data;
    ((big_rec *)ud)->octets += len;
    return POP3_OK;
}

static int big_done(void *ud, uint64_t msg, int status)
{
    (void)msg;
    cr_assert_eq(status, POP3_OK);
    ((big_rec *)ud)->done++;
    return POP3_DELETE;
}

Test(pipeline, no_deadlock_on_a_real_socket_rfc2449_6_6b)
{
    tcp_server s = {0};
    s.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(s.lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(s.lfd, 1), 0);
    socklen_t al = sizeof a;
    getsockname(s.lfd, (struct sockaddr *)&a, &al);
    s.port = ntohs(a.sin_port);
    pthread_t th;
    pthread_create(&th, NULL, tcp_serve, &s);

    pop3_options o;
    options(&o, POP3_PIPELINING_ON, 32);
    o.timeout_ms = 20000; /* a deadlock shows as ETIMEOUT, never as a hung test */
    pop3_client *c;
    cr_assert_eq(pop3_client_new(&c, &o), POP3_OK);
    cr_assert_eq(pop3_connect(c, "127.0.0.1", s.port, POP3_TIMEOUT_DEFAULT), POP3_OK);
    uint64_t *msgs = seq(BIG_MSGS);
    big_rec r = {0};
    pop3_retrieve_handler h = {NULL, big_data, big_done, NULL, &r};
    int rc = pop3_retrieve(c, msgs, BIG_MSGS, &h);
    cr_assert_eq(rc, POP3_OK, "%s: %s", pop3_errname(rc), pop3_errmsg(c));
    cr_assert_eq(r.done, BIG_MSGS);
    cr_assert_eq(r.octets, (uint64_t)BIG_MSGS * BIG_BODY);
    cr_assert_eq(pop3_quit(c), POP3_OK);
    pthread_join(th, NULL);
    cr_assert_eq(s.commands, 2 * BIG_MSGS + 1);
    close(s.lfd);
    free(msgs);
    pop3_client_free(c);
}
