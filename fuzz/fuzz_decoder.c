/*
 * fuzz_decoder.c - the streaming response decoder, differentially.
 *
 * Exercises pop3_decode, pop3_decode_eof and pop3_decoder_expect: RFC 1939 section 3
 * (status lines, multi-line responses, the termination octet, byte-stuffing), RFC 2449
 * sections 4 and 8 (line limit, response codes), RFC 5034 section 4 (continuations),
 * and the quirks the decoder tolerates by name: Q1, Q2 (".\r" then close), Q3 (empty
 * listing), Q4 (".x" lines), Q6 (bare LF), Q35 (banners), Q39, Q40, Q43 (body lines of
 * any length), Q48 (NUL), Q50 (a listing line starting with ".").
 *
 * Input (13 header bytes, then the server's bytes):
 *   0      tolerances (bits 0-5); bit 6: set the next expectation as soon as a response
 *          ends (a pipelining client) rather than when the decoder reports idle
 *   1      max_line: 0 for the default 2048, else 8 + the byte
 *   2      max_body: 0 for none, else the byte
 *   3      bits 0-2 max_banner_lines (7: the default 16), bits 3-7 max_listing_lines
 *          (31: the default)
 *   4      bits 0-2: number of expectations - 1
 *   5-8    one expectation per nibble (mod 6), low nibble first
 *   9-12   chunk sizes (1 + byte), used in turn
 *
 * Oracles:
 *  - the same bytes fed whole, in the chunk sizes above and one octet at a time give
 *    the same transcript: every STATUS, BANNER, LINE, END, ERROR (with its message) and
 *    the concatenation of the DATA between them;
 *  - that transcript equals the one of a reference decoder below that sees the whole
 *    input at once and works line by line, written from the header's documentation;
 *  - per event: nothing is consumed beyond what was given, NEED_MORE consumes all,
 *    views lie in the input of that call or in the line buffer, status lines re-parse
 *    to the same fields, no tolerance that was not granted is used, limits hold, an
 *    error is sticky, a new expectation is refused while a body is pending, an empty
 *    read is no event, a line limit under 8 octets is refused.
 * Each chunk is copied to the end of a heap block, so that the block ends where the
 * chunk does and AddressSanitizer catches a read past it.
 */
#include "fuzz_common.h"

#include "pop3/error.h"
#include "pop3/wire.h"

#define TOL_MASK   0x3Fu
#define SEEN_MASK  (POP3_SEEN_DOT_NOT_STUFFED | POP3_SEEN_PLUS_ERR)
#define MAX_EXPECT 8
#define NCHUNKS    4

typedef struct config {
    pop3_decoder_options opt;
    bool eager;
    pop3_expect expects[MAX_EXPECT];
    size_t nexpects;
    size_t chunks[NCHUNKS];
} config;

/* Where a response stands, as the harness sees it from the events. */
enum phase { PH_DONE, PH_STATUS, PH_BODY, PH_LIST };

/* Transcript records; DATA between two other records is merged into one. */
enum { R_STATUS = 'S', R_BANNER = 'B', R_LINE = 'L', R_DATA = 'D', R_END = 'E', R_ERROR = 'X' };
enum { R_UNSOLICITED = 'U', R_EOF_IDLE = 'I' };

typedef struct transcript {
    fuzz_buf out;
    fuzz_buf data; /* pending DATA */
    const char *message;
} transcript;

static void flush_data(transcript *t)
{
    if (t->data.len == 0) return;
    fuzz_put_byte(&t->out, R_DATA);
    fuzz_put_field(&t->out, t->data.p, t->data.len);
    t->data.len = 0;
}

static void rec_status(transcript *t, const pop3_status_line *st, unsigned quirks)
{
    flush_data(t);
    fuzz_put_byte(&t->out, R_STATUS);
    fuzz_put_byte(&t->out, (uint8_t)st->kind);
    fuzz_put_byte(&t->out, (uint8_t)st->code);
    fuzz_put_field(&t->out, st->code_text.ptr, st->code_text.len);
    fuzz_put_field(&t->out, st->text.ptr, st->text.len);
    fuzz_put_field(&t->out, st->line.ptr, st->line.len);
    fuzz_put_u64(&t->out, quirks);
}

static void rec_line(transcript *t, int kind, const char *p, size_t n, unsigned quirks)
{
    flush_data(t);
    fuzz_put_byte(&t->out, (uint8_t)kind);
    fuzz_put_field(&t->out, p, n);
    fuzz_put_u64(&t->out, quirks);
}

static void rec_end(transcript *t, unsigned quirks)
{
    flush_data(t);
    fuzz_put_byte(&t->out, R_END);
    fuzz_put_u64(&t->out, quirks);
}

static void rec_error(transcript *t, int error, const char *message)
{
    flush_data(t);
    fuzz_put_byte(&t->out, R_ERROR);
    fuzz_put_byte(&t->out, (uint8_t)-error);
    t->message = message;
}

static void rec_mark(transcript *t, int kind, const char *first)
{
    flush_data(t);
    fuzz_put_byte(&t->out, (uint8_t)kind);
    if (first) fuzz_put_byte(&t->out, (uint8_t)*first);
}

/* The streaming runs
 * ------------------ */

typedef struct run {
    const config *cfg;
    pop3_decoder d;
    transcript t;
    size_t next; /* next expectation */
    pop3_expect cur;
    enum phase phase;
    uint64_t body, lines;
    unsigned banners;
    bool stopped;
    bool zero_checked;
} run;

/* Give the decoder the next expectations while it is idle. */
static void advance(run *r)
{
    while (pop3_decoder_idle(&r->d) && r->next < r->cfg->nexpects) {
        r->cur = r->cfg->expects[r->next++];
        FUZZ_CHECK(pop3_decoder_expect(&r->d, r->cur) == POP3_OK);
        r->phase = r->cur == POP3_EXPECT_NONE ? PH_DONE : PH_STATUS;
        r->body = r->lines = 0;
        r->banners = 0;
    }
}

static bool in_line_buffer(const run *r, const char *p, size_t n)
{
    return fuzz_inside(p, n, r->d.buf, r->cfg->opt.max_line);
}

static void check_quirks(const run *r, unsigned quirks)
{
    FUZZ_CHECK((quirks & ~(TOL_MASK | SEEN_MASK)) == 0);
    FUZZ_CHECK((quirks & TOL_MASK & ~r->cfg->opt.tolerances) == 0);
}

static void on_status(run *r, const pop3_event *ev)
{
    const pop3_status_line *st = &ev->status;
    FUZZ_CHECK(r->phase == PH_STATUS);
    FUZZ_CHECK(in_line_buffer(r, st->line.ptr, st->line.len));
    FUZZ_CHECK(st->line.len + 1 <= r->cfg->opt.max_line);
    check_quirks(r, ev->quirks);

    /* The decoder classifies the line as pop3_parse_status does. */
    pop3_status_line again;
    unsigned line_quirks = 0;
    const char *message = NULL;
    FUZZ_CHECK(pop3_parse_status(st->line.ptr, st->line.len, r->cur, r->cfg->opt.tolerances, &again,
                                 &line_quirks, &message) == POP3_OK);
    FUZZ_CHECK(again.kind == st->kind && again.code == st->code);
    FUZZ_CHECK(again.text.ptr == st->text.ptr && again.text.len == st->text.len);
    FUZZ_CHECK(again.code_text.ptr == st->code_text.ptr &&
               again.code_text.len == st->code_text.len);
    FUZZ_CHECK((ev->quirks & line_quirks) == line_quirks);
    if (st->kind == POP3_STATUS_CONTINUE) FUZZ_CHECK(r->cur == POP3_EXPECT_SASL);

    if (st->kind == POP3_STATUS_OK && r->cur == POP3_EXPECT_MULTI)
        r->phase = PH_BODY;
    else if (st->kind == POP3_STATUS_OK && r->cur == POP3_EXPECT_LISTING)
        r->phase = PH_LIST;
    else
        r->phase = PH_DONE;
    rec_status(&r->t, st, ev->quirks);
    /* A body is pending: a new expectation is refused and changes nothing. */
    if (r->phase != PH_DONE)
        FUZZ_CHECK(pop3_decoder_expect(&r->d, POP3_EXPECT_SINGLE) == POP3_ESTATE);
}

/* Check one event and add it to the transcript. Returns false when the run stops. */
static bool on_event(run *r, const pop3_event *ev, const char *given, size_t given_len)
{
    const pop3_decoder_options *opt = &r->cfg->opt;
    switch (ev->kind) {
    case POP3_EV_BANNER:
        FUZZ_CHECK(r->phase == PH_STATUS && r->cur == POP3_EXPECT_GREETING);
        FUZZ_CHECK(opt->tolerances & POP3_TOL_BANNER);
        FUZZ_CHECK(++r->banners <= opt->max_banner_lines);
        FUZZ_CHECK(in_line_buffer(r, ev->line.ptr, ev->line.len));
        FUZZ_CHECK(memchr(ev->line.ptr, '\0', ev->line.len) == NULL);
        check_quirks(r, ev->quirks);
        rec_line(&r->t, R_BANNER, ev->line.ptr, ev->line.len, ev->quirks);
        return true;
    case POP3_EV_STATUS: on_status(r, ev); return true;
    case POP3_EV_DATA:
        FUZZ_CHECK(r->phase == PH_BODY);
        /* A view into this call's input, or the one CR of a ".\rX" line, which the
         * decoder consumed in an earlier call and hands out from a constant. */
        FUZZ_CHECK(fuzz_inside(ev->data.ptr, ev->data.len, given, given_len) ||
                   (ev->data.len == 1 && ev->data.ptr[0] == '\r'));
        r->body += ev->data.len;
        if (opt->max_body) FUZZ_CHECK(r->body <= opt->max_body);
        fuzz_put(&r->t.data, ev->data.ptr, ev->data.len);
        return true;
    case POP3_EV_LINE:
        FUZZ_CHECK(r->phase == PH_LIST);
        FUZZ_CHECK(in_line_buffer(r, ev->line.ptr, ev->line.len));
        FUZZ_CHECK(memchr(ev->line.ptr, '\0', ev->line.len) == NULL);
        FUZZ_CHECK(++r->lines <= opt->max_listing_lines);
        check_quirks(r, ev->quirks);
        rec_line(&r->t, R_LINE, ev->line.ptr, ev->line.len, ev->quirks);
        return true;
    case POP3_EV_END:
        FUZZ_CHECK(r->phase == PH_BODY || r->phase == PH_LIST);
        check_quirks(r, ev->quirks);
        r->phase = PH_DONE;
        rec_end(&r->t, ev->quirks);
        return true;
    case POP3_EV_ERROR:
        FUZZ_CHECK(ev->message != NULL);
        rec_error(&r->t, ev->error, ev->message);
        return false;
    default: FUZZ_UNREACHABLE("unexpected event kind"); return false;
    }
}

static void check_sticky(run *r, int error, const char *message)
{
    pop3_event ev;
    FUZZ_CHECK(pop3_decode(&r->d, "+OK\r\n", 5, &ev) == 0);
    FUZZ_CHECK(ev.kind == POP3_EV_ERROR && ev.error == error && ev.message == message);
    FUZZ_CHECK(pop3_decoder_expect(&r->d, POP3_EXPECT_SINGLE) == error);
    pop3_decode_eof(&r->d, &ev);
    FUZZ_CHECK(ev.kind == POP3_EV_ERROR && ev.error == error);
}

static void feed(run *r, const char *chunk, size_t n)
{
    size_t off = 0;
    if (!r->stopped && !r->zero_checked) {
        /* Nothing to read is no event at all (once per run: it is cheap to ask, not free). */
        pop3_event ev;
        FUZZ_CHECK(pop3_decode(&r->d, chunk, 0, &ev) == 0 && ev.kind == POP3_EV_NEED_MORE);
        r->zero_checked = true;
    }
    while (!r->stopped && off < n) {
        pop3_event ev;
        size_t used = pop3_decode(&r->d, chunk + off, n - off, &ev);
        FUZZ_CHECK(used <= n - off);
        if (ev.kind == POP3_EV_NEED_MORE) {
            FUZZ_CHECK(used == n - off);
            return;
        }
        if (ev.kind == POP3_EV_IDLE) {
            FUZZ_CHECK(used == 0 && pop3_decoder_idle(&r->d) && r->phase == PH_DONE);
            advance(r);
            if (pop3_decoder_idle(&r->d)) {
                /* Where the unsolicited bytes start matters, not how many arrived. */
                rec_mark(&r->t, R_UNSOLICITED, chunk + off);
                r->stopped = true;
            }
            continue;
        }
        if (!on_event(r, &ev, chunk + off, n - off)) {
            FUZZ_CHECK(ev.error == POP3_EPROTO || ev.error == POP3_ELIMIT);
            check_sticky(r, ev.error, ev.message);
            r->stopped = true;
            return;
        }
        FUZZ_CHECK(pop3_decoder_idle(&r->d) == (r->phase == PH_DONE));
        if (r->cfg->eager) advance(r);
        off += used;
    }
}

/*
 * Decode `in` in chunks of the sizes in `sizes` (cycled; NULL: one chunk). `scratch`
 * has room for the whole input; each chunk is placed at its end so that the block ends
 * where the chunk ends.
 */
static void stream(const config *cfg, const char *in, size_t len, const size_t *sizes,
                   size_t nsizes, char *scratch, size_t scratch_len, transcript *out)
{
    run r;
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    FUZZ_CHECK(pop3_decoder_init(&r.d, &cfg->opt) == POP3_OK);
    r.phase = PH_DONE;
    advance(&r);

    size_t off = 0, k = 0;
    while (off < len && !r.stopped) {
        size_t n = sizes ? sizes[k++ % nsizes] : len;
        if (n > len - off) n = len - off;
        char *chunk = scratch + scratch_len - n;
        memcpy(chunk, in + off, n);
        feed(&r, chunk, n);
        off += n;
    }
    if (!r.stopped) {
        pop3_event ev;
        pop3_decode_eof(&r.d, &ev);
        if (ev.kind == POP3_EV_IDLE) {
            FUZZ_CHECK(r.phase == PH_DONE);
            rec_mark(&r.t, R_EOF_IDLE, NULL);
        } else if (ev.kind == POP3_EV_END) {
            FUZZ_CHECK(r.phase == PH_BODY && (ev.quirks & POP3_TOL_DOT_CR_EOF));
            check_quirks(&r, ev.quirks);
            rec_end(&r.t, ev.quirks);
        } else {
            FUZZ_CHECK(ev.kind == POP3_EV_ERROR && ev.error == POP3_ECLOSED);
            FUZZ_CHECK(r.phase != PH_DONE && ev.message != NULL);
            rec_error(&r.t, ev.error, ev.message);
        }
    }
    flush_data(&r.t);
    pop3_decoder_free(&r.d);
    fuzz_buf_free(&r.t.data);
    *out = r.t;
}

/* The reference decoder
 * ---------------------
 * Sees the whole input at once and walks it line by line, as the documentation of
 * pop3/wire.h describes responses. No state machine over octets, no chunking. */

typedef struct ref {
    const config *cfg;
    const char *in;
    size_t len, pos;
    size_t next;
    pop3_expect cur;
    enum phase phase;
    unsigned banners, body_quirks;
    uint64_t lines, body;
    transcript t;
} ref;

static void ref_advance(ref *m)
{
    while (m->phase == PH_DONE && m->next < m->cfg->nexpects) {
        m->cur = m->cfg->expects[m->next++];
        m->phase = m->cur == POP3_EXPECT_NONE ? PH_DONE : PH_STATUS;
        m->banners = 0;
        m->lines = m->body = 0;
        m->body_quirks = 0;
    }
}

enum line_result { LN_OK, LN_EOF, LN_TOO_LONG };

/* A status or listing line: its text without the line end, within max_line with it. */
static enum line_result ref_line(ref *m, const char **line, size_t *n, bool *bare)
{
    size_t avail = m->len - m->pos;
    const char *start = m->in + m->pos;
    const char *lf = memchr(start, '\n', avail);
    if (lf == NULL) return avail >= m->cfg->opt.max_line ? LN_TOO_LONG : LN_EOF;
    size_t with_lf = (size_t)(lf - start) + 1;
    if (with_lf > m->cfg->opt.max_line) return LN_TOO_LONG;
    *bare = !(with_lf >= 2 && start[with_lf - 2] == '\r');
    *line = start;
    *n = with_lf - 1 - (*bare ? 0 : 1);
    m->pos += with_lf;
    return LN_OK;
}

/* Returns false when the transcript is complete. */
static bool ref_status(ref *m)
{
    const pop3_decoder_options *opt = &m->cfg->opt;
    const char *line = NULL;
    size_t n = 0;
    bool bare = false;
    switch (ref_line(m, &line, &n, &bare)) {
    case LN_TOO_LONG: rec_error(&m->t, POP3_ELIMIT, NULL); return false;
    case LN_EOF: rec_error(&m->t, POP3_ECLOSED, NULL); return false;
    case LN_OK: break;
    }
    if (bare && !(opt->tolerances & POP3_TOL_BARE_LF)) {
        rec_error(&m->t, POP3_EPROTO, NULL);
        return false;
    }
    unsigned quirks = bare ? POP3_TOL_BARE_LF : 0;
    pop3_status_line st;
    unsigned line_quirks = 0;
    const char *message = NULL;
    int rc = pop3_parse_status(line, n, m->cur, opt->tolerances, &st, &line_quirks, &message);
    if (rc != POP3_OK && m->cur == POP3_EXPECT_GREETING && (opt->tolerances & POP3_TOL_BANNER) &&
        n > 0 && line[0] != '+' && line[0] != '-') {
        if (m->banners >= opt->max_banner_lines) {
            rec_error(&m->t, POP3_ELIMIT, NULL);
            return false;
        }
        if (memchr(line, '\0', n)) {
            rec_error(&m->t, POP3_EPROTO, NULL);
            return false;
        }
        m->banners++;
        rec_line(&m->t, R_BANNER, line, n, quirks | POP3_TOL_BANNER);
        return true;
    }
    if (rc != POP3_OK) {
        rec_error(&m->t, rc, NULL);
        return false;
    }
    quirks |= line_quirks | (m->banners ? POP3_TOL_BANNER : 0);
    rec_status(&m->t, &st, quirks);
    if (st.kind == POP3_STATUS_OK && m->cur == POP3_EXPECT_MULTI)
        m->phase = PH_BODY;
    else if (st.kind == POP3_STATUS_OK && m->cur == POP3_EXPECT_LISTING)
        m->phase = PH_LIST;
    else
        m->phase = PH_DONE;
    m->body_quirks = quirks;
    return true;
}

static bool ref_listing(ref *m)
{
    const pop3_decoder_options *opt = &m->cfg->opt;
    const char *line = NULL;
    size_t n = 0;
    bool bare = false;
    switch (ref_line(m, &line, &n, &bare)) {
    case LN_TOO_LONG: rec_error(&m->t, POP3_ELIMIT, NULL); return false;
    case LN_EOF: rec_error(&m->t, POP3_ECLOSED, NULL); return false;
    case LN_OK: break;
    }
    if (bare) {
        if (!(opt->tolerances & POP3_TOL_BARE_LF)) {
            rec_error(&m->t, POP3_EPROTO, NULL);
            return false;
        }
        m->body_quirks |= POP3_TOL_BARE_LF;
    }
    if (n == 1 && line[0] == '.') {
        rec_end(&m->t, m->body_quirks);
        m->phase = PH_DONE;
        return true;
    }
    if (memchr(line, '\0', n) || ++m->lines > opt->max_listing_lines) {
        rec_error(&m->t, memchr(line, '\0', n) ? POP3_EPROTO : POP3_ELIMIT, NULL);
        return false;
    }
    if (n > 0 && line[0] == '.') {
        if (!(n > 1 && line[1] == '.')) m->body_quirks |= POP3_SEEN_DOT_NOT_STUFFED;
        line++, n--;
    }
    rec_line(&m->t, R_LINE, line, n, m->body_quirks);
    return true;
}

/* Deliver body octets within max_body; false when the limit cut them short. */
static bool ref_deliver(ref *m, const char *p, size_t n)
{
    uint64_t max = m->cfg->opt.max_body;
    uint64_t room = max ? max - m->body : UINT64_MAX;
    size_t take = n > room ? (size_t)room : n;
    fuzz_put(&m->t.data, p, take);
    m->body += take;
    if (take < n) {
        rec_error(&m->t, POP3_ELIMIT, NULL);
        return false;
    }
    return true;
}

static bool ref_body(ref *m)
{
    unsigned tol = m->cfg->opt.tolerances;
    const char *in = m->in;
    size_t len = m->len, pos = m->pos;
    size_t c0 = pos; /* where the line's content starts, after a stuffing dot */

    if (in[pos] == '.') {
        /* The terminator, or a dot to remove (RFC 1939 section 3). */
        if (pos + 1 == len) {
            rec_error(&m->t, POP3_ECLOSED, NULL);
            return false;
        }
        char c = in[pos + 1];
        if (c == '\r' && pos + 2 == len) {
            if (tol & POP3_TOL_DOT_CR_EOF)
                rec_end(&m->t, m->body_quirks | POP3_TOL_DOT_CR_EOF);
            else
                rec_error(&m->t, POP3_ECLOSED, NULL);
            return false;
        }
        if (c == '\r' && in[pos + 2] == '\n') {
            rec_end(&m->t, m->body_quirks);
            m->pos = pos + 3;
            m->phase = PH_DONE;
            return true;
        }
        if (c == '\n') {
            if (!(tol & POP3_TOL_BARE_LF)) {
                rec_error(&m->t, POP3_EPROTO, NULL);
                return false;
            }
            m->body_quirks |= POP3_TOL_BARE_LF;
            rec_end(&m->t, m->body_quirks);
            m->pos = pos + 2;
            m->phase = PH_DONE;
            return true;
        }
        if (c != '.') m->body_quirks |= POP3_SEEN_DOT_NOT_STUFFED;
        c0 = pos + 1;
    }

    const char *lf = memchr(in + c0, '\n', len - c0);
    if (lf == NULL) {
        if (ref_deliver(m, in + c0, len - c0)) rec_error(&m->t, POP3_ECLOSED, NULL);
        return false;
    }
    size_t q = (size_t)(lf - in);
    bool bare = !(q > c0 && in[q - 1] == '\r');
    uint64_t room = m->cfg->opt.max_body ? m->cfg->opt.max_body - m->body : UINT64_MAX;
    if (bare && !(tol & POP3_TOL_BARE_LF) && q + 1 - c0 <= room) {
        /* The octets before the LF are delivered, then the bare LF is refused. */
        ref_deliver(m, in + c0, q - c0);
        rec_error(&m->t, POP3_EPROTO, NULL);
        return false;
    }
    if (bare) m->body_quirks |= POP3_TOL_BARE_LF;
    if (!ref_deliver(m, in + c0, q + 1 - c0)) return false;
    m->pos = q + 1;
    return true;
}

static void reference(const config *cfg, const char *in, size_t len, transcript *out)
{
    ref m;
    memset(&m, 0, sizeof m);
    m.cfg = cfg;
    m.in = in;
    m.len = len;
    m.phase = PH_DONE;
    ref_advance(&m);
    for (;;) {
        if (m.phase == PH_DONE) {
            if (m.pos == m.len) {
                rec_mark(&m.t, R_EOF_IDLE, NULL);
                break;
            }
            ref_advance(&m);
            if (m.phase == PH_DONE) {
                rec_mark(&m.t, R_UNSOLICITED, in + m.pos);
                break;
            }
            continue;
        }
        if (m.pos == m.len) {
            /* The peer closed inside a response. */
            rec_error(&m.t, POP3_ECLOSED, NULL);
            break;
        }
        bool more = m.phase == PH_STATUS ? ref_status(&m)
                    : m.phase == PH_LIST ? ref_listing(&m)
                                         : ref_body(&m);
        if (!more) break;
        if (cfg->eager) ref_advance(&m);
    }
    flush_data(&m.t);
    fuzz_buf_free(&m.t.data);
    *out = m.t;
}

/* The target
 * ---------- */

static void configure(fuzz_input *in, config *cfg)
{
    uint8_t flags = fuzz_byte(in);
    uint8_t line = fuzz_byte(in);
    uint8_t body = fuzz_byte(in);
    uint8_t counts = fuzz_byte(in);
    uint8_t nexp = fuzz_byte(in);

    pop3_decoder_options_default(&cfg->opt);
    /* Under 8 octets no status line fits: refused. */
    pop3_decoder tiny;
    cfg->opt.max_line = 7;
    FUZZ_CHECK(pop3_decoder_init(&tiny, &cfg->opt) == POP3_EUSAGE);
    pop3_decoder_options_default(&cfg->opt);
    cfg->opt.tolerances = flags & TOL_MASK;
    cfg->eager = (flags & 0x40) != 0;
    if (line) cfg->opt.max_line = 8u + line;
    cfg->opt.max_body = body;
    if ((counts & 7) != 7) cfg->opt.max_banner_lines = counts & 7u;
    if ((counts >> 3) != 31) cfg->opt.max_listing_lines = counts >> 3;

    cfg->nexpects = 1u + (nexp & 7u);
    for (size_t i = 0; i < MAX_EXPECT; i += 2) {
        uint8_t b = fuzz_byte(in);
        cfg->expects[i] = (pop3_expect)((b & 15) % 6);
        cfg->expects[i + 1] = (pop3_expect)((b >> 4) % 6);
    }
    for (size_t i = 0; i < NCHUNKS; i++)
        cfg->chunks[i] = 1u + fuzz_byte(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    config cfg;
    configure(&in, &cfg);
    const char *wire = (const char *)in.p;
    size_t len = in.len;

    char *scratch = fuzz_xmalloc(len);
    static const size_t one = 1;
    transcript whole, chunked, bytes, model;
    stream(&cfg, wire, len, NULL, 0, scratch, len, &whole);
    stream(&cfg, wire, len, cfg.chunks, NCHUNKS, scratch, len, &chunked);
    stream(&cfg, wire, len, &one, 1, scratch, len, &bytes);
    reference(&cfg, wire, len, &model);

    FUZZ_CHECK(fuzz_buf_eq(&whole.out, &chunked.out));
    FUZZ_CHECK(whole.message == chunked.message);
    FUZZ_CHECK(fuzz_buf_eq(&whole.out, &bytes.out));
    FUZZ_CHECK(whole.message == bytes.message);
    FUZZ_CHECK(fuzz_buf_eq(&whole.out, &model.out));

    free(scratch);
    fuzz_buf_free(&whole.out);
    fuzz_buf_free(&chunked.out);
    fuzz_buf_free(&bytes.out);
    fuzz_buf_free(&model.out);
    return 0;
}
