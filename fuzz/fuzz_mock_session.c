/*
 * fuzz_mock_session.c - fuzzed client octets into pop3-mock's sans-I/O session engine,
 * in maildrop mode (an RFC 1939 / 2449 / 2595 / 5034 / 6856 server with any set of the
 * named quirks) and in script mode (the input's first part is a dialogue script, parsed
 * and then played against the rest).
 *
 * Input: byte 0 chooses the mode and options, bytes 1-4 the quirk flags, byte 5 the feed
 * chunk size; then, in script mode, the script up to a line "@@client@@" and the client's
 * octets after it; in maildrop mode everything is the client's.
 * Invariants beyond memory safety: every SEND action has octets, the session's appetite
 * (room) never exceeds its input limit, the output of a session is bounded by what its
 * commands may ask for, and a parse error names FILE:LINE.
 */
#include "fuzz_common.h"

#include "pop3/error.h"
#include "pop3mock/maildrop.h"
#include "pop3mock/quirks.h"
#include "pop3mock/script.h"
#include "pop3mock/session.h"

/* Messages that exercise stuffing, bare LF, a missing final newline, 8-bit headers.
 * Built afresh for every input: a QUIT removes messages for the life of the maildrop,
 * and one input must not change what the next one sees. */
static void make_maildrop(pop3mock_maildrop *md)
{
    static const char m1[] = "Subject: dots\r\n\r\n.\r\n..\r\n.x\r\nend\r\n";
    static const char m2[] = "Subject: lf\n\nbare\nlines\n";
    static const char m3[] = "Subject: caf\xc3\xa9\r\n\r\nno final newline";
    static const char m4[] = "";
    if (pop3mock_maildrop_init(md, "user", "pass") != 0 ||
        pop3mock_maildrop_add(md, "1.a", m1, sizeof m1 - 1) != 0 ||
        pop3mock_maildrop_add(md, "2.b", m2, sizeof m2 - 1) != 0 ||
        pop3mock_maildrop_add(md, "3.c", m3, sizeof m3 - 1) != 0 ||
        pop3mock_maildrop_add(md, "4.d", m4, 0) != 0)
        FUZZ_UNREACHABLE("cannot build the maildrop");
}

/* Drive `s` with `in` fed `chunk` octets at a time; returns the octets it sent. */
static size_t drive(pop3mock_session *s, const char *in, size_t len, size_t chunk,
                    const pop3mock_limits *lim)
{
    size_t used = 0, produced = 0;
    int eof = 0;
    /* Each action is progress; a session that asks for nothing more is done. Bound the
     * number of steps so a livelock in the engine is a finding, not a hang. */
    for (size_t steps = 0; steps < 1000000; steps++) {
        pop3mock_action a;
        pop3mock_session_next(s, &a);
        switch (a.kind) {
        case POP3MOCK_ACT_SEND:
            FUZZ_CHECK(a.data.len > 0);
            produced += a.data.len;
            pop3mock_session_ack(s, &a, a.data.len);
            break;
        case POP3MOCK_ACT_WAIT:
        case POP3MOCK_ACT_START_TLS:
        case POP3MOCK_ACT_HALF_CLOSE: pop3mock_session_ack(s, &a, 0); break;
        case POP3MOCK_ACT_CLOSE:
        case POP3MOCK_ACT_RESET:
        case POP3MOCK_ACT_STALL: pop3mock_session_ack(s, &a, 0); return produced;
        case POP3MOCK_ACT_IDLE: {
            size_t room = pop3mock_session_room(s);
            FUZZ_CHECK(room <= lim->max_input);
            if (used < len && room > 0) {
                size_t n = len - used < chunk ? len - used : chunk;
                used += pop3mock_session_feed(s, in + used, n);
            } else if (!eof) {
                pop3mock_session_eof(s);
                eof = 1;
            } else {
                return produced;
            }
            break;
        }
        }
    }
    FUZZ_UNREACHABLE("session engine did not settle");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t mode = fuzz_byte(&in);
    uint64_t flags = 0;
    for (int i = 0; i < 4; i++)
        flags = (flags << 8) | fuzz_byte(&in);
    size_t chunk = (size_t)fuzz_byte(&in) % 16 + 1;
    if (chunk == 16) chunk = 4096;
    pop3mock_limits lim;
    pop3mock_limits_default(&lim);
    lim.output_high = 512; /* back-pressure paths run often */

    if (!(mode & 1)) {
        pop3mock_maildrop maildrop;
        make_maildrop(&maildrop);
        pop3mock_maildrop_options opt;
        pop3mock_maildrop_options_default(&opt);
        opt.limits = lim;
        opt.quirks.flags = flags & ((UINT64_C(1) << POP3MOCK_QUIRK_COUNT) - 1);
        opt.quirks.drip_ms = 0;
        opt.tls_available = (mode & 2) != 0;
        opt.utf8_strict = (mode & 4) != 0;
        opt.sasl_all = (mode & 8) != 0;
        opt.implicit_tls = (mode & 16) != 0;
        char *client = fuzz_dup(in.p, in.len);
        pop3mock_session *s =
            pop3mock_maildrop_session_new(&maildrop, &opt, "<1.2.3@fuzz.example>");
        FUZZ_CHECK(s != NULL);
        size_t out = drive(s, client, in.len, chunk, &lim);
        /* A command is at least 4 octets and none asks for more than the whole maildrop
         * a few times over (TOP answered twice, banners, stuffing doubles dots). */
        FUZZ_CHECK(out <= (in.len / 4 + 2) * 8192);
        pop3mock_session_free(s);
        pop3mock_maildrop_free(&maildrop);
        free(client);
        return 0;
    }

    /* Script mode: "SCRIPT\n@@client@@\nCLIENT". */
    static const char sep[] = "\n@@client@@\n";
    const char *text = (const char *)in.p;
    size_t script_len = in.len, client_off = in.len;
    for (size_t i = 0; i + sizeof sep - 1 <= in.len; i++) {
        if (memcmp(text + i, sep, sizeof sep - 1) == 0) {
            script_len = i;
            client_off = i + sizeof sep - 1;
            break;
        }
    }
    char *script_text = fuzz_dup(text, script_len);
    char err[512];
    err[0] = '\0';
    pop3mock_script *sc =
        pop3mock_script_parse("fuzz.pop3", script_text, script_len, err, sizeof err);
    if (sc == NULL) {
        /* Every script error is reported with its file and line. */
        FUZZ_CHECK(strncmp(err, "fuzz.pop3:", 10) == 0);
        free(script_text);
        return 0;
    }
    FUZZ_CHECK(pop3mock_script_sessions(sc) >= 1);
    char *client = fuzz_dup(text + client_off, in.len - client_off);
    size_t sessions = pop3mock_script_sessions(sc);
    for (size_t k = 0; k < sessions && k < 4; k++) {
        pop3mock_session *s =
            pop3mock_script_session_new(sc, k, &lim, "<1.2.3@fuzz.example>", (mode & 2) != 0);
        FUZZ_CHECK(s != NULL);
        drive(s, client, in.len - client_off, chunk, &lim);
        pop3mock_script_result r = pop3mock_script_session_finish(s, "end of input");
        const char *report = NULL;
        FUZZ_CHECK(pop3mock_script_session_result(s, &report) == r);
        FUZZ_CHECK(report != NULL);
        FUZZ_CHECK(r != POP3MOCK_SCRIPT_DEPARTED || report[0] != '\0');
        pop3mock_session_free(s);
    }
    pop3mock_script_free(sc);
    free(client);
    free(script_text);
    return 0;
}
