/*
 * script_session.c - replaying one session of a dialogue script.
 *
 * The server's part (S: lines, faults, TLS start) is queued step by step until the
 * script expects a client line (C:); each client line is then compared with it. The
 * first difference ends the session: the report names the script line, what was
 * expected and what arrived, with the transcript up to there, and the client gets
 * "-ERR" and a close so that it does not wait forever. RFC 1939 section 7 APOP and
 * RFC 2195 CRAM-MD5 answers are computed from what this session sent (the last msg-id
 * timestamp, the last "+ " challenge) and the script's !secret, so a script checks a
 * client's digest without hard-coding it. A TLS step (RFC 2595 section 4, RFC 8314
 * section 3) hands the driver a plan: the certificate and version cap in force at its
 * line, and for the faults how the handshake is to fail; the session itself never
 * sees a TLS octet. A C: line marked !optional that the client's line does not match
 * (or a close where it is expected) is left out: the line is tried against the C: line
 * after the optional exchange, as a client that never sends CAPA would go on.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/buf.h"
#include "pop3/digest.h"
#include "pop3/error.h"
#include "pop3/parse.h"
#include "script_internal.h"
#include "session_internal.h"

/* Transcript kept for a departure report; older lines are dropped past this. */
#define TRANSCRIPT_MAX 16384
/* A captured or computed value shown in a report is cut to this. */
#define SHOW_MAX       200
/* Longest departure report (octets): the parts that would go past it are left out and
 * REPORT_CUT says so.
 * The transcript part alone is at most TRANSCRIPT_MAX; a script line of megabytes, or
 * one with thousands of {name} references, would otherwise make a report of megabytes. */
#define REPORT_MAX     65536
#define REPORT_CUT     "  (parts of this report are left out: it would be longer than 65536 octets)\n"

typedef struct sc_state {
    const pop3mock_script *sc;
    const pop3mock__script_session *ss;
    size_t index;
    size_t pc; /* next step */
    pop3mock__vars vars;
    char timestamp[256];
    char last_ts[256]; /* the last msg-id timestamp this session sent (for {apop}) */
    char *challenge;   /* the last SASL challenge sent, decoded (for {cram-md5}) */
    size_t challenge_len;
    char scratch[512];           /* a computed builtin value */
    const pop3mock__step *split; /* a !split waiting for its S: line */
    bool implicit_tls;
    bool tls_wait;
    bool stalled;
    bool closing; /* a close, reset or truncated handshake is queued */
    pop3mock_script_result result;
    char *report;
    char *log; /* transcript of this session, escaped text lines */
    size_t log_len;
    bool log_cut;
} sc_state;

static void log_add(sc_state *st, const char *who, const char *p, size_t n)
{
    char line[600];
    size_t k = (size_t)snprintf(line, sizeof line, "    %s ", who);
    for (size_t i = 0; i < n && k + 8 < sizeof line; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r')
            k += (size_t)snprintf(line + k, sizeof line - k, "\\r");
        else if (c == '\n')
            k += (size_t)snprintf(line + k, sizeof line - k, "\\n");
        else if (c == '\\')
            k += (size_t)snprintf(line + k, sizeof line - k, "\\\\");
        else if (c < 0x20 || c >= 0x7f)
            k += (size_t)snprintf(line + k, sizeof line - k, "\\x%02x", c);
        else
            line[k++] = (char)c;
    }
    if (k + 8 >= sizeof line) k += (size_t)snprintf(line + k, sizeof line - k, "...");
    line[k++] = '\n';
    if (st->log == NULL) {
        st->log = malloc(TRANSCRIPT_MAX);
        if (st->log == NULL) return;
    }
    if (k > TRANSCRIPT_MAX) return;
    if (st->log_len + k > TRANSCRIPT_MAX) {
        /* Drop the oldest lines: the end of the transcript is what explains a departure. */
        size_t drop = st->log_len + k - TRANSCRIPT_MAX;
        const char *nl = memchr(st->log + drop, '\n', st->log_len - drop);
        drop = nl != NULL ? (size_t)(nl - st->log) + 1 : st->log_len;
        memmove(st->log, st->log + drop, st->log_len - drop);
        st->log_len -= drop;
        st->log_cut = true;
    }
    memcpy(st->log + st->log_len, line, k);
    st->log_len += k;
}

/* {name}: a variable or a builtin, or NULL when it has no value yet. */
static const char *lookup(void *ctx, const char *name, size_t *len)
{
    sc_state *st = ctx;
    const pop3mock_script *sc = st->sc;
    const char *v = NULL;
    if (strcmp(name, "timestamp") == 0) {
        v = st->timestamp;
    } else if (strcmp(name, "user") == 0) {
        v = sc->user;
    } else if (strcmp(name, "secret") == 0) {
        v = sc->secret;
    } else if (strcmp(name, "apop") == 0) {
        const char *ts = st->last_ts[0] != '\0' ? st->last_ts : st->timestamp;
        char hex[POP3_MD5_HEX_SIZE];
        if (sc->secret != NULL &&
            pop3_apop_digest(ts, strlen(ts), sc->secret, strlen(sc->secret), hex) == POP3_OK) {
            memcpy(st->scratch, hex, sizeof hex);
            v = st->scratch;
        }
    } else if (strcmp(name, "cram-md5") == 0) {
        char hex[POP3_MD5_HEX_SIZE];
        char plain[300];
        if (sc->secret != NULL && st->challenge != NULL &&
            pop3_cram_md5_digest(st->challenge, st->challenge_len, sc->secret, strlen(sc->secret),
                                 hex) == POP3_OK) {
            int n = snprintf(plain, sizeof plain, "%s %s", sc->user, hex);
            size_t out = 0;
            if (n > 0 && (size_t)n < sizeof plain &&
                pop3_base64_encode(plain, (size_t)n, st->scratch, sizeof st->scratch, &out) ==
                    POP3_OK)
                v = st->scratch;
        }
    } else {
        return pop3mock__vars_get(&st->vars, name, len);
    }
    if (v != NULL) *len = strlen(v);
    return v;
}

/* The octets of a SEND or SET step, references expanded. Caller frees. */
static char *expand(sc_state *st, const pop3mock__step *step, size_t *out_len)
{
    size_t total = 0;
    for (size_t i = 0; i < step->nsegs; i++) {
        const pop3mock__seg *g = &step->segs[i];
        size_t n = 0;
        if (g->kind == POP3MOCK__SEG_LITERAL)
            n = g->len;
        else if (g->kind == POP3MOCK__SEG_REF && lookup(st, g->name, &n) == NULL)
            n = 0;
        total += n;
    }
    char *buf = malloc(total + 3);
    if (buf == NULL) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < step->nsegs; i++) {
        const pop3mock__seg *g = &step->segs[i];
        size_t n = 0;
        const char *v = NULL;
        if (g->kind == POP3MOCK__SEG_LITERAL) {
            v = g->text;
            n = g->len;
        } else if (g->kind == POP3MOCK__SEG_REF) {
            v = lookup(st, g->name, &n);
        }
        if (v != NULL && k + n <= total) {
            memcpy(buf + k, v, n);
            k += n;
        }
    }
    *out_len = k;
    return buf;
}

/* Remember what {apop} and {cram-md5} need from a line the server sent. */
static void observe_sent(sc_state *st, const char *p, size_t n)
{
    size_t len = n;
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    pop3_view ts;
    if (pop3_apop_timestamp(p, len, &ts) && ts.len < sizeof st->last_ts) {
        memcpy(st->last_ts, ts.ptr, ts.len);
        st->last_ts[ts.len] = '\0';
    }
    if (len >= 2 && p[0] == '+' && p[1] == ' ') {
        size_t cap = (len - 2) / 4 * 3 + 3;
        char *raw = malloc(cap);
        size_t rlen = 0;
        if (raw != NULL && pop3_base64_decode(p + 2, len - 2, raw, cap, &rlen) == POP3_OK) {
            free(st->challenge);
            st->challenge = raw;
            st->challenge_len = rlen;
        } else {
            free(raw);
        }
    }
}

static bool pending_expect(const sc_state *st)
{
    for (size_t i = st->pc; i < st->ss->nsteps; i++) {
        pop3mock__step_kind k = st->ss->steps[i].kind;
        if (k == POP3MOCK__STEP_EXPECT || k == POP3MOCK__STEP_EXPECT_EOF) return true;
    }
    return false;
}

/* A departure report in the making: a pop3_buf cut at REPORT_MAX. */
typedef struct report_buf {
    pop3_buf b;
    bool cut; /* something was left out: the report says so at its end */
} report_buf;

/* Append to the report unless that would take it past REPORT_MAX; then leave this
 * part out (a report must stay readable, not grow with a script line of megabytes),
 * go on with the next ones (the transcript at the end explains the most), and mark
 * the report cut. */
static void appendf(report_buf *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void appendf(report_buf *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || r->b.len + (size_t)n > REPORT_MAX) {
        r->cut = true;
        return;
    }
    va_start(ap, fmt);
    if (pop3_buf_vprintf(&r->b, fmt, ap) != POP3_OK) r->cut = true; /* out of memory */
    va_end(ap);
}

/* The client did something else than line `step` wanted: report, -ERR, close. */
static void depart(pop3mock_session *s, const char *received)
{
    sc_state *st = s->state;
    if (st->result != POP3MOCK_SCRIPT_RUNNING) return;
    st->result = POP3MOCK_SCRIPT_DEPARTED;
    const pop3mock__step *step = st->pc < st->ss->nsteps ? &st->ss->steps[st->pc] : NULL;
    report_buf r = {.cut = false};
    /* The marker for a cut report fits past REPORT_MAX: the limit leaves room for it. */
    pop3_buf_init(&r.b, REPORT_MAX + sizeof REPORT_CUT);
    appendf(&r, "%s:%u: session %zu: the client departed from the script\n", st->sc->name,
            step != NULL ? step->line : st->ss->line, st->index + 1);
    if (step != NULL) {
        const char *what =
            step->kind == POP3MOCK__STEP_EXPECT_EOF ? " (the client closes the connection)" : "";
        appendf(&r, "  expected: %s%s\n", step->source, what);
        for (size_t i = 0; i < step->nsegs; i++) {
            const pop3mock__seg *g = &step->segs[i];
            size_t n = 0;
            const char *v = g->kind == POP3MOCK__SEG_REF ? lookup(st, g->name, &n) : NULL;
            if (g->kind == POP3MOCK__SEG_REF)
                appendf(&r, "            where {%s} = %.*s\n", g->name,
                        v != NULL ? (int)(n > SHOW_MAX ? SHOW_MAX : n) : 9,
                        v != NULL ? v : "(not set)");
        }
    }
    appendf(&r, "  received: %s\n", received);
    appendf(&r, "  transcript up to there%s:\n%.*s", st->log_cut ? " (its end)" : "",
            (int)st->log_len, st->log != NULL ? st->log : "");
    if (r.cut) pop3_buf_append(&r.b, REPORT_CUT, sizeof REPORT_CUT - 1);
    free(st->report);
    st->report = r.b.ptr; /* NULL only when nothing could be allocated */
    char line[128];
    int n = snprintf(line, sizeof line,
                     "-ERR [SYS/PERM] pop3-mock: not what the script expects at line %u\r\n",
                     step != NULL ? step->line : 0);
    if (n > 0) pop3mock__output_append(&s->out, line, (size_t)n);
    pop3mock__output_mark(&s->out, POP3MOCK__MARK_CLOSE, 0, 0);
    st->closing = true;
}

static void send_step(pop3mock_session *s, const pop3mock__step *step)
{
    sc_state *st = s->state;
    size_t n = 0;
    char *buf = expand(st, step, &n);
    if (buf == NULL) {
        pop3mock__output_mark(&s->out, POP3MOCK__MARK_RESET, 0, 0);
        st->closing = true;
        return;
    }
    if (step->crlf) {
        buf[n++] = '\r';
        buf[n++] = '\n';
    }
    uint64_t base = pop3mock__output_end(&s->out);
    if (st->split != NULL) {
        for (size_t i = 0; i < st->split->noffsets; i++) {
            if (st->split->offsets[i] >= n) break;
            uint64_t at = base + st->split->offsets[i];
            pop3mock__output_mark_at(&s->out, at, POP3MOCK__MARK_BOUNDARY, 0, 0);
            if (st->split->ms > 0)
                pop3mock__output_mark_at(&s->out, at, POP3MOCK__MARK_PAUSE, 0, st->split->ms);
        }
        st->split = NULL;
    }
    pop3mock__output_append(&s->out, buf, n);
    observe_sent(st, buf, n);
    log_add(st, "S:", buf, n);
    free(buf);
}

/* Queue server steps up to the next client line (or the end). */
static void run(pop3mock_session *s)
{
    sc_state *st = s->state;
    while (st->pc < st->ss->nsteps && st->result == POP3MOCK_SCRIPT_RUNNING && !st->tls_wait) {
        const pop3mock__step *step = &st->ss->steps[st->pc];
        pop3mock__output *o = &s->out;
        switch (step->kind) {
        case POP3MOCK__STEP_EXPECT:
        case POP3MOCK__STEP_EXPECT_EOF: return;
        case POP3MOCK__STEP_SEND: send_step(s, step); break;
        case POP3MOCK__STEP_DELAY:
            pop3mock__output_mark(o, POP3MOCK__MARK_PAUSE, 0, step->ms);
            break;
        case POP3MOCK__STEP_DRIP:
            pop3mock__output_mark(o, POP3MOCK__MARK_DRIP, step->n, step->ms);
            break;
        case POP3MOCK__STEP_SPLIT: st->split = step; break;
        case POP3MOCK__STEP_FLUSH: pop3mock__output_mark(o, POP3MOCK__MARK_BOUNDARY, 0, 0); break;
        case POP3MOCK__STEP_CLOSE:
            pop3mock__output_mark(o, POP3MOCK__MARK_CLOSE, 0, 0);
            st->closing = true;
            break;
        case POP3MOCK__STEP_RESET:
            pop3mock__output_mark(o, POP3MOCK__MARK_RESET, 0, 0);
            st->closing = true;
            break;
        case POP3MOCK__STEP_HALF_CLOSE:
            pop3mock__output_mark(o, POP3MOCK__MARK_HALF_CLOSE, 0, 0);
            break;
        case POP3MOCK__STEP_CLOSE_AFTER:
            pop3mock__output_mark_at(o, pop3mock__output_end(o) + step->n, POP3MOCK__MARK_CLOSE, 0,
                                     0);
            st->closing = true;
            break;
        case POP3MOCK__STEP_STALL:
            pop3mock__output_mark(o, POP3MOCK__MARK_STALL, 0, 0);
            st->stalled = true;
            break;
        case POP3MOCK__STEP_STARTTLS:
            pop3mock__output_mark_tls(o, &step->tls);
            log_add(st, "--", "TLS handshake", 13);
            st->tls_wait = true;
            break;
        case POP3MOCK__STEP_TLS_FAULT:
            /* The loop makes the handshake fail and ends the connection itself; the close
             * (or stall) is for drivers without a network, which acknowledge the
             * handshake at once. */
            pop3mock__output_mark_tls(o, &step->tls);
            log_add(st, "--", "TLS handshake, failing on purpose", 33);
            if (step->tls.fault == POP3MOCK_TLS_TRUNCATE && step->tls.stall) {
                pop3mock__output_mark(o, POP3MOCK__MARK_STALL, 0, 0);
                st->stalled = true;
            } else {
                pop3mock__output_mark(o, POP3MOCK__MARK_CLOSE, 0, 0);
                st->closing = true;
            }
            break;
        case POP3MOCK__STEP_SET: {
            size_t n = 0;
            char *v = expand(st, step, &n);
            if (v == NULL || pop3mock__vars_set(&st->vars, step->name, v, n) != 0) {
                pop3mock__output_mark(o, POP3MOCK__MARK_RESET, 0, 0);
                st->closing = true;
            }
            free(v);
            break;
        }
        }
        st->pc++;
    }
    if (st->pc == st->ss->nsteps && st->result == POP3MOCK_SCRIPT_RUNNING && !st->tls_wait) {
        st->result = POP3MOCK_SCRIPT_PASSED;
        /* The dialogue is over: the server hangs up, as after QUIT (RFC 1939 section 6),
         * unless the script stalls or already ends the connection its own way. */
        if (!st->stalled && !st->closing)
            pop3mock__output_mark(&s->out, POP3MOCK__MARK_CLOSE, 0, 0);
    }
}

static void show(char *out, size_t cap, const char *p, size_t n, bool crlf, bool eol)
{
    size_t k = 0;
    out[k++] = '"';
    for (size_t i = 0; i < n && k + 12 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\')
            k += (size_t)snprintf(out + k, cap - k, "\\%c", c);
        else if (c == '\r')
            k += (size_t)snprintf(out + k, cap - k, "\\r");
        else if (c < 0x20 || c >= 0x7f)
            k += (size_t)snprintf(out + k, cap - k, "\\x%02x", c);
        else
            out[k++] = (char)c;
    }
    if (k + 12 >= cap) k += (size_t)snprintf(out + k, cap - k, "...");
    if (eol) k += (size_t)snprintf(out + k, cap - k, crlf ? "\\r\\n" : "\\n");
    snprintf(out + k, cap - k, "\"");
}

static void on_line(pop3mock_session *s, const char *line, size_t len, bool crlf)
{
    sc_state *st = s->state;
    char got[700];
    log_add(st, "C:", line, len);
    const pop3mock__step *step = &st->ss->steps[st->pc];
    show(got, sizeof got, line, len, crlf, true);
    /* Leave out the optional exchanges this line is not the C: line of (they capture
     * nothing, so trying them costs no state). The parser made each skip_to a C: line. */
    while (step->kind == POP3MOCK__STEP_EXPECT && step->optional &&
           !(pop3mock__match_line(step, line, len, lookup, st, &st->vars) &&
             (step->match != POP3MOCK__MATCH_EXACT || crlf))) {
        st->pc = step->skip_to;
        step = &st->ss->steps[st->pc];
    }
    if (step->kind == POP3MOCK__STEP_EXPECT_EOF) {
        depart(s, got);
        return;
    }
    bool ok = pop3mock__match_line(step, line, len, lookup, st, &st->vars);
    if (ok && step->match == POP3MOCK__MATCH_EXACT && !crlf) {
        char why[760];
        snprintf(why, sizeof why, "%s (C= wants the line to end CRLF, not a bare LF)", got);
        depart(s, why);
        return;
    }
    if (!ok) {
        depart(s, got);
        return;
    }
    st->pc++;
    run(s);
}

static void on_too_long(pop3mock_session *s)
{
    char why[96];
    snprintf(why, sizeof why, "a line longer than %zu octets (--max-sasl-line)",
             s->lim.max_sasl_line);
    depart(s, why);
}

static size_t max_line(const pop3mock_session *s)
{
    return s->lim.max_sasl_line;
}

static bool blocked(const pop3mock_session *s)
{
    const sc_state *st = s->state;
    return st->tls_wait || st->stalled || st->result != POP3MOCK_SCRIPT_RUNNING;
}

static void start(pop3mock_session *s)
{
    sc_state *st = s->state;
    /* A session that begins with a handshake of its own (!implicit-tls, a TLS fault)
     * already is implicit TLS: one handshake, not two. */
    pop3mock__step_kind first = st->ss->nsteps > 0 ? st->ss->steps[0].kind : POP3MOCK__STEP_SEND;
    if (st->implicit_tls && first != POP3MOCK__STEP_STARTTLS && first != POP3MOCK__STEP_TLS_FAULT) {
        pop3mock__output_mark_tls(&s->out, &st->ss->implicit);
        log_add(st, "--", "TLS handshake", 13);
        st->tls_wait = true;
        return;
    }
    run(s);
}

static void on_eof(pop3mock_session *s)
{
    sc_state *st = s->state;
    if (st->result == POP3MOCK_SCRIPT_RUNNING && st->pc < st->ss->nsteps) {
        const pop3mock__step *step = &st->ss->steps[st->pc];
        while (step->kind == POP3MOCK__STEP_EXPECT && step->optional) {
            st->pc = step->skip_to;
            step = &st->ss->steps[st->pc];
        }
        if (step->kind == POP3MOCK__STEP_EXPECT_EOF) {
            log_add(st, "--", "client closed", 13);
            st->pc++;
            run(s);
        } else if (step->kind == POP3MOCK__STEP_EXPECT) {
            depart(s, "the client closed the connection");
        }
    }
    if (!st->closing && !st->stalled) {
        pop3mock__output_mark(&s->out, POP3MOCK__MARK_CLOSE, 0, 0);
        st->closing = true;
    }
}

static void tls_started(pop3mock_session *s)
{
    sc_state *st = s->state;
    st->tls_wait = false;
    run(s);
}

static void destroy(pop3mock_session *s)
{
    sc_state *st = s->state;
    pop3mock__vars_free(&st->vars);
    free(st->challenge);
    free(st->report);
    free(st->log);
    free(st);
}

static const pop3mock__engine engine = {
    .start = start,
    .line = on_line,
    .too_long = on_too_long,
    .max_line = max_line,
    .blocked = blocked,
    .eof = on_eof,
    .tls_started = tls_started,
    .destroy = destroy,
};

pop3mock_session *pop3mock_script_session_new(const pop3mock_script *sc, size_t index,
                                              const pop3mock_limits *lim, const char *timestamp,
                                              bool implicit_tls)
{
    if (index >= sc->nsessions) return NULL;
    sc_state *st = calloc(1, sizeof *st);
    if (st == NULL) return NULL;
    st->sc = sc;
    st->ss = &sc->sessions[index];
    st->index = index;
    st->implicit_tls = implicit_tls;
    snprintf(st->timestamp, sizeof st->timestamp, "%s", timestamp != NULL ? timestamp : "");
    pop3mock_session *s = pop3mock__session_new(&engine, st, lim, false);
    if (s == NULL) free(st);
    return s;
}

static bool is_script(const pop3mock_session *s)
{
    return s->eng == &engine;
}

pop3mock_script_result pop3mock_script_session_result(const pop3mock_session *s,
                                                      const char **report)
{
    if (!is_script(s)) {
        if (report != NULL) *report = "";
        return POP3MOCK_SCRIPT_RUNNING;
    }
    const sc_state *st = s->state;
    if (report != NULL) *report = st->report != NULL ? st->report : "";
    return st->result;
}

pop3mock_script_result pop3mock_script_session_finish(pop3mock_session *s, const char *why)
{
    if (!is_script(s)) return POP3MOCK_SCRIPT_RUNNING;
    sc_state *st = s->state;
    if (st->result != POP3MOCK_SCRIPT_RUNNING) return st->result;
    if (pending_expect(st) && !st->stalled) {
        char msg[160];
        snprintf(msg, sizeof msg, "nothing: the connection ended (%s)", why);
        depart(s, msg);
    } else {
        st->result = POP3MOCK_SCRIPT_PASSED;
    }
    return st->result;
}
