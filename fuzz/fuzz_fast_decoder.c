/*
 * fuzz_fast_decoder.c - the streaming response decoder fed in one piece, parse only: the
 * fast twin of fuzz_decoder.
 *
 * Exercises pop3_decode, pop3_decode_eof and pop3_decoder_expect: RFC 1939 section 3
 * (status lines, multi-line responses, the termination octet, byte-stuffing), RFC 2449
 * sections 4 and 8 (line limit, response codes), RFC 5034 section 4 (continuations),
 * and the tolerated quirks Q1, Q2, Q3, Q4, Q6, Q35, Q39, Q40, Q43, Q48, Q50.
 *
 * Why a twin: fuzz_decoder feeds every input three times (whole, in chunks, an octet at
 * a time), records transcripts and runs a reference decoder beside it. This target
 * feeds the input once, whole, and checks only what costs nothing, so that nearly all
 * of its time is the decoder's; the chunking and the reference model stay with
 * fuzz_decoder.
 *
 * Input: byte 0 bits 0-5 the tolerances, bits 6-7 the line limit (0: the default 2048,
 * 1: 8, the least allowed, 2: 16, 3: 64); byte 1 low nibble the first expectation, high
 * nibble every later one (each mod 6; NONE makes the rest unsolicited); the rest is
 * what the server sends, given in one call, ending where the input does.
 *
 * The decoder's one allocation, its line buffer, is made once per setting: a decoder is
 * plain data, so each run starts from a copy of one initialised for its header byte and
 * kept for the process's life (with pop3_decoder_init and _free per run, perf put about
 * a seventh of the time in the allocator and the page faults behind it). The buffer is
 * written before it is read, so what an earlier run left in it does not matter.
 *
 * Invariants: a call consumes no more than it was given, NEED_MORE consumes all of it;
 * status, banner and listing lines lie in the decoder's line buffer and fit the limit,
 * body data lies in the input (or is the one CR of a ".\rX" line); no tolerance that was
 * not granted is reported; an error has a message and is sticky; the run ends within a
 * bounded number of events.
 */
#include "fuzz_common.h"

#include "pop3/error.h"
#include "pop3/wire.h"

#define TOL_MASK  0x3Fu
#define SEEN_MASK (POP3_SEEN_DOT_NOT_STUFFED | POP3_SEEN_PLUS_ERR)

static const size_t line_limits[4] = {0, 8, 16, 64};

/* A freshly initialised decoder per header byte (tolerances and line limit). */
static pop3_decoder pristine[256];
static bool ready[256];

static void check_quirks(unsigned quirks, unsigned tol)
{
    FUZZ_CHECK((quirks & ~(TOL_MASK | SEEN_MASK)) == 0);
    FUZZ_CHECK((quirks & TOL_MASK & ~tol) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t b0 = fuzz_byte(&in), b1 = fuzz_byte(&in);
    pop3_decoder_options opt;
    pop3_decoder_options_default(&opt);
    opt.tolerances = b0 & TOL_MASK;
    if (line_limits[b0 >> 6]) opt.max_line = line_limits[b0 >> 6];
    pop3_expect first = (pop3_expect)((b1 & 15u) % 6), next = (pop3_expect)((b1 >> 4) % 6);
    const char *wire = (const char *)in.p;
    size_t len = in.len;

    if (!ready[b0]) {
        FUZZ_CHECK(pop3_decoder_init(&pristine[b0], &opt) == POP3_OK);
        ready[b0] = true;
    }
    pop3_decoder d = pristine[b0];
    FUZZ_CHECK(pop3_decoder_expect(&d, first) == POP3_OK);

    /* Every event but the last consumes an octet, or is the CR of ".\rX" that the next
     * call follows with at least one octet consumed. */
    size_t off = 0, events = 0, bound = 2 * len + 4;
    pop3_event ev;
    for (;;) {
        FUZZ_CHECK(++events <= bound);
        const char *given = wire + off;
        size_t avail = len - off;
        size_t used = pop3_decode(&d, given, avail, &ev);
        FUZZ_CHECK(used <= avail);
        off += used;
        bool done = false;
        switch (ev.kind) {
        case POP3_EV_NEED_MORE:
            FUZZ_CHECK(off == len);
            done = true;
            break;
        case POP3_EV_IDLE:
            FUZZ_CHECK(used == 0);
            done = true;
            break;
        case POP3_EV_STATUS:
            FUZZ_CHECK(fuzz_inside(ev.status.line.ptr, ev.status.line.len, d.buf, opt.max_line));
            FUZZ_CHECK(ev.status.line.len < opt.max_line);
            FUZZ_CHECK(fuzz_inside(ev.status.text.ptr, ev.status.text.len, ev.status.line.ptr,
                                   ev.status.line.len));
            check_quirks(ev.quirks, opt.tolerances);
            break;
        case POP3_EV_BANNER:
        case POP3_EV_LINE:
            FUZZ_CHECK(fuzz_inside(ev.line.ptr, ev.line.len, d.buf, opt.max_line));
            FUZZ_CHECK(ev.line.len < opt.max_line);
            check_quirks(ev.quirks, opt.tolerances);
            break;
        case POP3_EV_DATA:
            FUZZ_CHECK(fuzz_inside(ev.data.ptr, ev.data.len, given, avail) ||
                       (ev.data.len == 1 && ev.data.ptr[0] == '\r'));
            break;
        case POP3_EV_END: check_quirks(ev.quirks, opt.tolerances); break;
        case POP3_EV_ERROR:
            FUZZ_CHECK(ev.message != NULL && (ev.error == POP3_EPROTO || ev.error == POP3_ELIMIT));
            done = true;
            break;
        default: FUZZ_UNREACHABLE("unknown event kind");
        }
        if (done) break;
        if ((ev.kind == POP3_EV_STATUS || ev.kind == POP3_EV_END) && pop3_decoder_idle(&d))
            FUZZ_CHECK(pop3_decoder_expect(&d, next) == POP3_OK);
    }

    if (ev.kind == POP3_EV_ERROR) {
        int error = ev.error;
        const char *message = ev.message;
        FUZZ_CHECK(pop3_decode(&d, "+OK\r\n", 5, &ev) == 0);
        FUZZ_CHECK(ev.kind == POP3_EV_ERROR && ev.error == error && ev.message == message);
    }
    pop3_decode_eof(&d, &ev);
    FUZZ_CHECK(ev.kind == POP3_EV_END || ev.kind == POP3_EV_IDLE || ev.kind == POP3_EV_ERROR);
    FUZZ_CHECK(ev.kind != POP3_EV_ERROR || ev.message != NULL);
    return 0;
}
