/*
 * server_run.c - pop3-fuzz server mode: one session played to the server, every reply
 * read by the codec's decoder in strict mode (RFC 1939 section 3: CRLF only, +OK/-ERR,
 * the multi-line terminator; RFC 2449 section 4: a status line of at most 512 octets;
 * RFC 5034 section 4: "+ " continuations) and judged: a hang, a broken reply, or an odd
 * end that sends the campaign to check that the server still greets (RFC 1939 section 4).
 *
 * Which replies are multi-line follows RFC 1939 (LIST and UIDL without an argument, RETR,
 * TOP), RFC 2449 (CAPA) and RFC 6856 (LANG without an argument); AUTH without an argument
 * is the mechanism list many servers send. A line whose end we cannot count replies after
 * (a bare CR or LF, two line ends in one step) loses the framing: from there on replies
 * are read and dropped, never judged, so a server that takes a bare LF either way is not
 * blamed for it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "pop3/error.h"
#include "pop3/parse.h"
#include "pop3/wire.h"
#include "server_fuzz.h"
/* Our own program reaches the socket under the transport for shutdown(SHUT_WR), which the
 * transport's table has no op for. */
#include "transport_socket.h"

/* Most state transitions kept per session (each reply adds one). */
#define TRANS_MAX 4096
/* A framing-lost read waits this long for more octets before it goes on (ms). */
#define DRAIN_MS  100
/* The longest reply text kept in a transcript comment. */
#define NOTE_TEXT 120

const char *pop3fuzz_srv_kind_name(pop3fuzz_srv_kind k)
{
    switch (k) {
    case POP3FUZZ_SRV_DEAD: return "dead";
    case POP3FUZZ_SRV_HANG: return "hang";
    case POP3FUZZ_SRV_BROKEN: return "broken";
    default: return "none";
    }
}

enum verb {
    V_OTHER,
    V_USER,
    V_PASS,
    V_APOP,
    V_AUTH,
    V_CAPA,
    V_STLS,
    V_STAT,
    V_LIST,
    V_UIDL,
    V_RETR,
    V_TOP,
    V_DELE,
    V_RSET,
    V_NOOP,
    V_QUIT,
    V_UTF8,
    V_LANG,
    V_SASL,
    V_GREETING,
    V_COUNT
};
static const char *const verb_names[V_COUNT] = {
    "OTHER", "USER", "PASS", "APOP", "AUTH", "CAPA", "STLS", "STAT", "LIST", "UIDL",
    "RETR",  "TOP",  "DELE", "RSET", "NOOP", "QUIT", "UTF8", "LANG", "SASL", "GREETING",
};

typedef struct conn {
    const pop3fuzz_target *t;
    pop3_transport *tr;
    pop3_decoder dec;
    char in[65536];
    size_t in_at, in_len;
    bool sasl;    /* the last reply was a SASL continuation */
    bool dele_ok; /* a DELE was accepted and not undone by RSET */
    char ts[256]; /* the APOP timestamp of the greeting, "" when none */
    unsigned prev;
    size_t last_step; /* the step whose reply came last, and its verb */
    int last_verb;
} conn;

typedef enum { R_DONE, R_CLOSED, R_HANG, R_BROKEN } reply_outcome;

typedef struct reply {
    pop3_status_kind status;
    pop3_resp_code code;
    uint64_t octets;
    char text[NOTE_TEXT + 1];
} reply;

/* One reply expected in a write: the step it answers and how to read it. */
typedef struct expected {
    size_t step;
    enum verb verb;
    pop3_expect expect;
    enum verb post; /* LIST or UIDL with an argument: multi-line when +OK is not a listing */
    enum verb alt;  /* the verb as a server that stops at NUL and splits at tabs reads it */
} expected;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Replace each `secret` (case-insensitive: servers echo commands upper-cased) in `text`
 * by "***", so that no transcript holds what a server echoed of the credentials. */
static void scrub(char *text, const char *secret)
{
    size_t sl = strlen(secret), tl = strlen(text);
    if (sl < 3) return;
    for (size_t k = 0; k + sl <= tl; k++)
        if (strncasecmp(text + k, secret, sl) == 0) {
            memcpy(text + k, "***", 3);
            memmove(text + k + 3, text + k + sl, tl - k - sl + 1);
            tl -= sl - 3;
            k += 2;
        }
}

static void note(pop3fuzz_srv_result *res, size_t step, const char *fmt, const char *text)
{
    if (res->notes == NULL || step >= res->nnotes) return;
    pop3_buf b;
    pop3_buf_init(&b, 4096);
    if (res->notes[step] != NULL) pop3_buf_printf(&b, "%s\n", res->notes[step]);
    pop3_buf_printf(&b, fmt, text);
    free(res->notes[step]);
    res->notes[step] = pop3_buf_detach(&b, NULL);
}

static void transition(conn *c, pop3fuzz_srv_result *res, enum verb v, unsigned status,
                       unsigned code)
{
    unsigned cur = ((unsigned)v << 8) | (status << 4) | (code & 15u);
    uint32_t h = (uint32_t)(c->prev * 2654435761u) ^ (cur * 40503u);
    h ^= h >> 15;
    c->prev = cur;
    int rc;
    uint32_t *p = pop3_array_grow(res->trans, &res->trans_cap, res->ntrans + 1, sizeof *p, 32,
                                  TRANS_MAX, &rc);
    if (p == NULL) return;
    res->trans = p;
    p[res->ntrans++] = h & ((1u << POP3FUZZ_SRV_MAP_BITS) - 1);
}

static void escape_into(char *out, size_t cap, const char *p, size_t len)
{
    pop3_buf b;
    pop3_buf_init(&b, cap * 4);
    pop3fuzz_escape(&b, p, len < cap ? len : cap);
    snprintf(out, cap, "%s", b.ptr ? b.ptr : "");
    pop3_buf_free(&b);
}

/* Read one reply. `detail` says what broke for R_BROKEN and R_HANG. */
static reply_outcome read_reply(conn *c, pop3_expect expect, enum verb post, reply *rp,
                                char *detail, size_t dl)
{
    memset(rp, 0, sizeof *rp);
    if (pop3_decoder_expect(&c->dec, expect) != POP3_OK) {
        snprintf(detail, dl, "decoder: %s", c->dec.message ? c->dec.message : "not idle");
        return R_BROKEN;
    }
    bool got_status = false, got_any = false;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        while (c->in_at < c->in_len) {
            pop3_event ev;
            size_t used = pop3_decode(&c->dec, c->in + c->in_at, c->in_len - c->in_at, &ev);
            c->in_at += used;
            rp->octets += used;
            got_any = true;
            switch (ev.kind) {
            case POP3_EV_STATUS:
                got_status = true;
                rp->status = ev.status.kind;
                rp->code = ev.status.code;
                escape_into(rp->text, sizeof rp->text, ev.status.line.ptr, ev.status.line.len);
                if (ev.status.line.len + 2 > c->t->max_status) {
                    snprintf(detail, dl,
                             "a status line of %zu octets (RFC 2449 section 4 allows %zu, CRLF "
                             "included)",
                             ev.status.line.len + 2, c->t->max_status);
                    return R_BROKEN;
                }
                if (post != V_OTHER && ev.status.kind == POP3_STATUS_OK) {
                    /* LIST n / UIDL n: "+OK n size" is the whole reply; anything else means
                     * the server took the argument as absent and a listing follows. */
                    const char *tx = ev.status.text.ptr;
                    size_t tl = ev.status.text.len;
                    uint64_t a, b;
                    pop3_view uid;
                    bool single = post == V_LIST
                                      ? pop3_parse_scan(tx, tl, &a, &b, NULL) == POP3_OK
                                      : pop3_parse_uidl(tx, tl, &a, &uid, NULL) == POP3_OK;
                    if (!single) {
                        pop3_event e2;
                        pop3_decoder_expect(&c->dec, POP3_EXPECT_LISTING);
                        pop3_decode(&c->dec, "+OK\r\n", 5, &e2);
                        break;
                    }
                }
                if (pop3_decoder_idle(&c->dec)) return R_DONE;
                break;
            case POP3_EV_END: return R_DONE;
            case POP3_EV_ERROR:
                snprintf(detail, dl, "%s%s%s", ev.message ? ev.message : "protocol violation",
                         rp->text[0] ? " after " : "", rp->text);
                return R_BROKEN;
            case POP3_EV_IDLE:
                snprintf(detail, dl, "octets the decoder did not expect");
                return R_BROKEN;
            default: break;
            }
            if (rp->octets > c->t->max_reply) {
                snprintf(detail, dl, "a reply of more than %llu octets",
                         (unsigned long long)c->t->max_reply);
                return R_BROKEN;
            }
        }
        c->in_at = c->in_len = 0;
        size_t got = 0;
        int rc = c->tr->ops->read(c->tr, c->in, sizeof c->in, &got, (int)c->t->hang_ms);
        if (rc == POP3_ETIMEOUT) {
            if (got_status) {
                snprintf(detail, dl,
                         "a multi-line reply not terminated within %u ms of its last octet",
                         c->t->hang_ms);
                return R_BROKEN;
            }
            snprintf(detail, dl, "%s within %u ms",
                     got_any ? "no complete status line" : "no reply", c->t->hang_ms);
            return R_HANG;
        }
        if (rc != POP3_OK) return R_CLOSED;
        c->in_len = got;
        /* A server that drips a reply out an octet at a time never times out above. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long el = (long)(now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (el > (long)c->t->hang_ms * POP3FUZZ_SRV_SLOW_REPLY) {
            snprintf(detail, dl, "a reply still not complete after %u ms",
                     c->t->hang_ms * POP3FUZZ_SRV_SLOW_REPLY);
            return R_HANG;
        }
    }
}

/* Read and drop whatever comes until a pause (the framing is lost). */
static bool drain(conn *c, unsigned ms)
{
    c->in_at = c->in_len = 0;
    /* Bounded for a server that never stops talking: --max-reply octets, and --hang-ms
     * (at least `ms`) of time. */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t total = 0;
    unsigned limit = c->t->hang_ms > ms ? c->t->hang_ms : ms;
    for (;;) {
        size_t got = 0;
        int rc = c->tr->ops->read(c->tr, c->in, sizeof c->in, &got, (int)ms);
        if (rc == POP3_ETIMEOUT) return true;
        if (rc != POP3_OK) return false;
        total += got;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long el = (long)(now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (total > c->t->max_reply || el > (long)limit) return false;
    }
}

/* The octets pending are one -ERR line, and the server closes right after it. */
static bool farewell(conn *c)
{
    const char *p = c->in + c->in_at;
    size_t n = c->in_len - c->in_at;
    const char *lf = memchr(p, '\n', n);
    if (n < 6 || memcmp(p, "-ERR", 4) != 0 || lf != p + n - 1 || p[n - 2] != '\r') return false;
    char buf[256];
    size_t got = 0;
    int rc = c->tr->ops->read(c->tr, buf, sizeof buf, &got, (int)c->t->hang_ms);
    return rc != POP3_OK && rc != POP3_ETIMEOUT;
}

static void conn_close(conn *c)
{
    if (c->tr != NULL) c->tr->ops->close(c->tr);
    c->tr = NULL;
    pop3_decoder_free(&c->dec);
}

/* Connect and read the greeting (and STLS with --starttls). false: `why` says. */
static bool conn_open(conn *c, const pop3fuzz_target *t, reply *greet, char *why, size_t wl)
{
    memset(c, 0, sizeof *c);
    c->t = t;
    pop3_decoder_options o;
    pop3_decoder_options_default(&o);
    o.tolerances = POP3_TOL_STRICT;
    o.max_line = POP3FUZZ_SRV_LISTING_LINE;
    o.max_body = 0;
    if (pop3_decoder_init(&c->dec, &o) != POP3_OK) {
        snprintf(why, wl, "out of memory");
        return false;
    }
    char err[POP3_TRANSPORT_ERROR_SIZE] = "";
    int rc = t->tls ? pop3_transport_tls_connect(&c->tr, t->host, t->port, (int)t->hang_ms,
                                                 &t->tlsopt, err, sizeof err)
                    : pop3_transport_tcp_connect(&c->tr, t->host, t->port, (int)t->hang_ms, err,
                                                 sizeof err);
    if (rc != POP3_OK) {
        c->tr = NULL;
        snprintf(why, wl, "%s", err);
        return false;
    }
    char detail[256];
    reply_outcome ro = read_reply(c, POP3_EXPECT_GREETING, V_OTHER, greet, detail, sizeof detail);
    if (ro != R_DONE || greet->status != POP3_STATUS_OK) {
        snprintf(why, wl, "greeting: %s",
                 ro == R_CLOSED ? "connection closed"
                 : ro == R_DONE ? greet->text
                                : detail);
        return false;
    }
    /* The timestamp, found again in the line as sent (the note is escaped). */
    pop3_view tsv;
    if (pop3_apop_timestamp(greet->text, strlen(greet->text), &tsv) && tsv.len < sizeof c->ts)
        snprintf(c->ts, sizeof c->ts, "%.*s", (int)tsv.len, tsv.ptr);
    if (t->starttls) {
        reply r;
        if (c->tr->ops->write(c->tr, "STLS\r\n", 6, (int)t->hang_ms) != POP3_OK ||
            read_reply(c, POP3_EXPECT_SINGLE, V_OTHER, &r, detail, sizeof detail) != R_DONE ||
            r.status != POP3_STATUS_OK) {
            snprintf(why, wl, "STLS refused or unanswered");
            return false;
        }
        if (c->tr->ops->starttls(c->tr, &t->tlsopt, (int)t->hang_ms) != POP3_OK) {
            snprintf(why, wl, "TLS handshake after STLS: %s", c->tr->error);
            return false;
        }
    }
    return true;
}

bool pop3fuzz_srv_alive(const pop3fuzz_target *t, char *why, size_t whylen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        conn c;
        reply g;
        bool ok = conn_open(&c, t, &g, why, whylen);
        if (ok) c.tr->ops->write(c.tr, "QUIT\r\n", 6, (int)t->hang_ms);
        conn_close(&c);
        if (ok) return true;
        /* One more try a moment later: a server between two accepts is not dead. */
        sleep_ms(200);
    }
    return false;
}

/* The verb and the number of arguments of a command line. `loose` reads it as a server
 * that stops at a NUL and splits at tabs too would. */
static enum verb verb_of(const char *line, size_t len, bool loose, size_t *nargs)
{
    if (loose) {
        const char *nul = memchr(line, '\0', len);
        if (nul != NULL) len = (size_t)(nul - line);
    }
    size_t vl = 0;
    while (vl < len && line[vl] != ' ' && !(loose && line[vl] == '\t'))
        vl++;
    enum verb v = V_OTHER;
    for (int k = V_USER; k <= V_LANG; k++)
        if (strlen(verb_names[k]) == vl && strncasecmp(line, verb_names[k], vl) == 0)
            v = (enum verb)k;
    *nargs = 0;
    bool in = false;
    /* Counting arguments of a MiB line costs a pass over it; an argument is an argument. */
    for (size_t k = vl; k < len && *nargs < 8; k++) {
        bool sp = line[k] == ' ' || (loose && line[k] == '\t');
        if (!sp && !in) (*nargs)++;
        in = !sp;
    }
    return v;
}

/* How the reply to `v` with `nargs` arguments is read. */
static void classify(enum verb v, size_t nargs, pop3_expect *expect, enum verb *post)
{
    *expect = POP3_EXPECT_SINGLE;
    *post = V_OTHER;
    if (v == V_CAPA) {
        *expect = POP3_EXPECT_LISTING;
    } else if (v == V_RETR || v == V_TOP) {
        *expect = POP3_EXPECT_MULTI;
    } else if (v == V_LIST || v == V_UIDL) {
        if (nargs == 0)
            *expect = POP3_EXPECT_LISTING;
        else
            *post = v;
    } else if (v == V_LANG && nargs == 0) {
        *expect = POP3_EXPECT_LISTING;
    } else if (v == V_AUTH) {
        *expect = nargs == 0 ? POP3_EXPECT_LISTING : POP3_EXPECT_SASL;
    }
}

void pop3fuzz_srv_result_free(pop3fuzz_srv_result *r)
{
    for (size_t k = 0; k < r->nnotes; k++)
        free(r->notes[k]);
    free(r->notes);
    free(r->trans);
    memset(r, 0, sizeof *r);
}

static void set_result(pop3fuzz_srv_result *res, pop3fuzz_srv_kind kind, size_t step, enum verb v,
                       const char *detail)
{
    res->kind = kind;
    res->trigger = step;
    snprintf(res->verb, sizeof res->verb, "%s", verb_names[v]);
    snprintf(res->detail, sizeof res->detail, "%s", detail);
}

int pop3fuzz_srv_run(const pop3fuzz_target *t, const pop3fuzz_session *s, pop3fuzz_srv_result *res)
{
    memset(res, 0, sizeof *res);
    res->notes = calloc(s->n + 1, sizeof *res->notes);
    if (res->notes == NULL) return -1;
    res->nnotes = s->n;
    conn c;
    reply greet;
    char why[512];
    if (!conn_open(&c, t, &greet, why, sizeof why)) {
        conn_close(&c);
        res->no_connect = res->odd_end = true;
        snprintf(res->verb, sizeof res->verb, "GREETING");
        snprintf(res->detail, sizeof res->detail, "%.255s", why);
        return 0;
    }
    transition(&c, res, V_GREETING, greet.status, greet.code);
    pop3fuzz_fill fill = {.user = t->user,
                          .password = t->password,
                          .timestamp = c.ts[0] ? c.ts : NULL,
                          .max = POP3FUZZ_SRV_SEND_MAX};
    /* What a server might echo of the credentials, for scrub(). */
    char secrets[3][512] = {"", "", ""};
    const char *names[3] = {"{password}", "{plain}", "{apop}"};
    for (int q = 0; q < 3; q++) {
        pop3_buf b;
        const char *w;
        pop3_buf_init(&b, sizeof secrets[q] - 1);
        if (pop3fuzz_expand(names[q], &fill, &b, &w) == POP3_OK && b.ptr)
            snprintf(secrets[q], sizeof secrets[q], "%s", b.ptr);
        pop3_buf_free(&b);
    }
    pop3_buf unit, line; /* what one write sends; the line the server is assembling */
    pop3_buf_init(&unit, POP3FUZZ_SRV_SEND_MAX);
    pop3_buf_init(&line, POP3FUZZ_SRV_SEND_MAX);
    expected exp[1024];
    bool ended = false;
    size_t k = 0;
    while (k < s->n && !ended) {
        const pop3fuzz_step *st = &s->v[k];
        if (st->kind == POP3FUZZ_STEP_IDLE ||
            (st->kind == POP3FUZZ_STEP_BURST && res->framing_lost)) {
            if (st->kind == POP3FUZZ_STEP_IDLE) sleep_ms(st->n);
            k++;
            continue;
        }
        if (st->kind == POP3FUZZ_STEP_SHUTDOWN) {
            shutdown(((pop3__socket *)c.tr)->fd, SHUT_WR);
            note(res, k, "# (our sending half closed)%s", "");
            res->sent = k + 1;
            drain(&c, t->hang_ms);
            break;
        }
        /* Once the framing is lost the rest goes out in one write and one drain. */
        size_t want = res->framing_lost ? SIZE_MAX : 1;
        if (st->kind == POP3FUZZ_STEP_BURST && !res->framing_lost) {
            want = st->n;
            k++;
        }
        /* Compose one write from `want` line steps. */
        pop3_buf_reset(&unit);
        size_t nexp = 0, last = k;
        bool stop_after = false;
        for (size_t got = 0; k < s->n && got < want; k++) {
            st = &s->v[k];
            if (st->kind != POP3FUZZ_STEP_CMD && st->kind != POP3FUZZ_STEP_RAW) break;
            size_t before = unit.len;
            const char *w = "";
            int rc = pop3fuzz_expand(st->text, &fill, &unit, &w);
            if (rc == POP3_OK && st->kind == POP3FUZZ_STEP_CMD)
                rc = pop3_buf_append(&unit, "\r\n", 2);
            if (rc != POP3_OK) {
                /* A line past the limits or a bad escape: leave it out. */
                unit.len = before;
                if (unit.ptr) unit.ptr[before] = '\0';
                note(res, k, "# (not sent: %s)", w);
                got++;
                continue;
            }
            const char *p = unit.ptr + before;
            size_t n = unit.len - before;
            size_t lfs = 0, crs = 0;
            for (size_t q = 0; q < n; q++) {
                lfs += p[q] == '\n';
                crs += p[q] == '\r';
            }
            bool crlf_end = n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n';
            if (lfs == 0 && crs == 0) {
                /* A fragment: the server's line goes on in the next step. */
                if (pop3_buf_append(&line, p, n) != POP3_OK) res->framing_lost = true;
            } else if (lfs == 1 && crs == 1 && crlf_end && !res->framing_lost) {
                if (pop3_buf_append(&line, p, n - 2) != POP3_OK) res->framing_lost = true;
                size_t nargs, nargs2;
                const char *lp = line.ptr ? line.ptr : "";
                enum verb v = verb_of(lp, line.len, false, &nargs);
                enum verb v2 = verb_of(lp, line.len, true, &nargs2);
                pop3_buf_reset(&line);
                if ((v == V_QUIT || v2 == V_QUIT) && !t->destructive) {
                    bool dele_here = c.dele_ok;
                    for (size_t q = 0; q < nexp; q++)
                        dele_here = dele_here || exp[q].verb == V_DELE || exp[q].alt == V_DELE;
                    if (dele_here) {
                        unit.len = before;
                        note(res, k,
                             "# (not sent: a DELE may have been accepted and --destructive is "
                             "off)%s",
                             "");
                        stop_after = true;
                        break;
                    }
                }
                expected e = {.step = k, .verb = v, .alt = v2};
                if (c.sasl && nexp == 0) {
                    e.verb = e.alt = V_SASL;
                    e.expect = POP3_EXPECT_SASL;
                } else {
                    classify(v, nargs, &e.expect, &e.post);
                    pop3_expect x2;
                    enum verb p2;
                    classify(v2, nargs2, &x2, &p2);
                    if (x2 != e.expect || p2 != e.post) {
                        /* A server may read the line either way (a NUL, a tab). For LIST
                         * and UIDL the +OK text tells which; for the rest we cannot know. */
                        if (v2 == V_LIST || v2 == V_UIDL) {
                            e.verb = v2;
                            e.expect = POP3_EXPECT_SINGLE;
                            e.post = v2;
                        } else {
                            res->framing_lost = true;
                        }
                    }
                }
                /* After an AUTH in the same burst the server may read the next line as a
                 * SASL response: replies can no longer be told apart. */
                if (nexp > 0 && exp[nexp - 1].verb == V_AUTH) res->framing_lost = true;
                if (nexp < sizeof exp / sizeof *exp) exp[nexp++] = e;
            } else {
                res->framing_lost = true;
                pop3_buf_reset(&line);
            }
            last = k;
            got++;
        }
        if (unit.len > 0) {
            /* Octets that arrived with no command pending. */
            if (c.in_at < c.in_len && !res->framing_lost) {
                char tx[NOTE_TEXT + 1];
                escape_into(tx, sizeof tx, c.in + c.in_at, c.in_len - c.in_at);
                enum verb lv = (enum verb)c.last_verb;
                if (farewell(&c)) {
                    /* One -ERR line and the end of the connection: a server's last word
                     * before it hangs up (too many bad commands, autologout), not a
                     * reply out of turn. */
                    note(res, c.last_step, "# S: %s (a farewell: then the server closed)", tx);
                    res->odd_end = true;
                    res->trigger = c.last_step;
                    snprintf(res->verb, sizeof res->verb, "%s", verb_names[lv]);
                    break;
                }
                char d[256];
                snprintf(d, sizeof d, "octets with no command pending: %s", tx);
                /* The transcript keeps the command that finds them pending. */
                set_result(res, POP3FUZZ_SRV_BROKEN, last, lv, d);
                break;
            }
            res->sent = last + 1;
            int rc = c.tr->ops->write(c.tr, unit.ptr, unit.len, (int)t->hang_ms);
            if (rc != POP3_OK) {
                note(res, last, "# (write failed: %s)", pop3_strerror(rc));
                res->odd_end = true;
                res->trigger = last;
                snprintf(res->verb, sizeof res->verb, "%s",
                         nexp ? verb_names[exp[nexp - 1].verb] : "OTHER");
                break;
            }
        }
        if (res->framing_lost) {
            if (!drain(&c, t->hang_ms < DRAIN_MS ? t->hang_ms : DRAIN_MS)) {
                res->odd_end = true;
                res->trigger = last;
                break;
            }
            if (stop_after) break;
            continue;
        }
        for (size_t q = 0; q < nexp && !ended; q++) {
            const expected *e = &exp[q];
            reply rp;
            char d[256] = "";
            reply_outcome ro = read_reply(&c, e->expect, e->post, &rp, d, sizeof d);
            if (ro == R_DONE) {
                c.last_step = e->step;
                c.last_verb = (int)e->verb;
                char extra[64] = "";
                if (rp.octets > strlen(rp.text) + 2)
                    snprintf(extra, sizeof extra, " (%llu octets)", (unsigned long long)rp.octets);
                note(res, e->step, "# S: %s", rp.text);
                if (extra[0]) note(res, e->step, "#   %s", extra + 1);
                transition(&c, res, e->verb, rp.status, rp.code);
                bool ok = rp.status == POP3_STATUS_OK;
                c.sasl = rp.status == POP3_STATUS_CONTINUE;
                if ((e->verb == V_DELE || e->alt == V_DELE) && ok) c.dele_ok = true;
                if (e->verb == V_RSET && e->alt == V_RSET && ok) c.dele_ok = false;
                if (e->verb == V_QUIT && ok) ended = true;
                if (e->verb == V_STLS && ok) {
                    /* What was sent behind STLS must be thrown away (RFC 2595 section 4 and
                     * RFC 3207's note on injection); a reply to it in clear is broken. */
                    if (c.in_at < c.in_len) {
                        set_result(res, POP3FUZZ_SRV_BROKEN, e->step, V_STLS,
                                   "octets in clear after +OK to STLS");
                        ended = true;
                    } else if (t->can_tls && !c.tr->ops->is_tls(c.tr)) {
                        if (c.tr->ops->starttls(c.tr, &t->tlsopt, (int)t->hang_ms) != POP3_OK) {
                            note(res, e->step, "# (TLS handshake failed: %s)", c.tr->error);
                            res->odd_end = true;
                            res->trigger = e->step;
                            snprintf(res->verb, sizeof res->verb, "STLS");
                            ended = true;
                        }
                    } else {
                        note(res, e->step, "# (no TLS handshake here: the session ends)%s", "");
                        ended = true;
                    }
                    break; /* the rest of the burst went in clear: not answered */
                }
            } else if (ro == R_CLOSED) {
                note(res, e->step, "# (connection closed by the server)%s", "");
                transition(&c, res, e->verb, 0, 0);
                if (e->verb != V_QUIT) {
                    res->odd_end = true;
                    res->trigger = e->step;
                    snprintf(res->verb, sizeof res->verb, "%s", verb_names[e->verb]);
                }
                ended = true;
            } else {
                note(res, e->step, ro == R_HANG ? "# S: (%s)" : "# S: broken: %s", d);
                set_result(res, ro == R_HANG ? POP3FUZZ_SRV_HANG : POP3FUZZ_SRV_BROKEN, e->step,
                           e->verb, d);
                ended = true;
            }
        }
        if (stop_after) break;
    }
    pop3_buf_free(&unit);
    pop3_buf_free(&line);
    conn_close(&c);
    for (int q = 0; q < 3; q++) {
        for (size_t n = 0; n < res->nnotes; n++)
            if (res->notes[n]) scrub(res->notes[n], secrets[q]);
        scrub(res->detail, secrets[q]);
    }
    return 0;
}
