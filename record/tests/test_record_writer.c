/*
 * test_record_writer.c - the recorder's script writer and tracker, in memory.
 *
 * Round trips through pop3-mock's own script parser: whatever octets the writer is given
 * as server output, the parsed "S:" steps send exactly those octets back (every byte
 * value, every line end, long lines, spaces at the edges, text that looks like RFC 1939
 * section 10 pseudo-lines); client lines come back as written, secrets as wildcards. The
 * tracker's redaction table and its pipelining limit, at and past it.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pop3/buf.h"
#include "pop3mock/script.h"
#include "script_internal.h"
#include "script_writer.h"
#include "tracker.h"

/* Write with `fn`, read the file back, parse it as a script. */
static pop3mock_script *written(void (*fn)(rec_writer *, void *), void *arg, bool timing,
                                char **text)
{
    char path[] = "/tmp/test_record_writer_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    rec_writer w;
    char err[256];
    cr_assert_eq(rec_writer_open(&w, path, timing, err, sizeof err), 0, "%s", err);
    fn(&w, arg);
    cr_assert_eq(rec_writer_close(&w), 0);
    FILE *f = fopen(path, "rb");
    pop3_buf b;
    pop3_buf_init(&b, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        pop3_buf_append(&b, chunk, n);
    fclose(f);
    unlink(path);
    pop3mock_script *sc = pop3mock_script_parse("t.pop3", b.ptr, b.len, err, sizeof err);
    cr_assert_not_null(sc, "%s\n%s", err, b.ptr);
    *text = pop3_buf_detach(&b, NULL);
    return sc;
}

/* The octets the parsed S: steps send, in order. */
static void sent(const pop3mock_script *sc, pop3_buf *out)
{
    const pop3mock__script_session *ss = &sc->sessions[0];
    for (size_t i = 0; i < ss->nsteps; i++) {
        const pop3mock__step *st = &ss->steps[i];
        if (st->kind != POP3MOCK__STEP_SEND) continue;
        for (size_t k = 0; k < st->nsegs; k++) {
            cr_assert_eq(st->segs[k].kind, POP3MOCK__SEG_LITERAL);
            pop3_buf_append(out, st->segs[k].text, st->segs[k].len);
        }
        if (st->crlf) pop3_buf_append(out, "\r\n", 2);
    }
}

typedef struct octets {
    const char *p;
    size_t n;
    size_t chunk; /* fed in pieces of this size */
} octets;

static void server_octets(rec_writer *w, void *arg)
{
    octets *o = arg;
    for (size_t i = 0; i < o->n; i += o->chunk)
        rec_server(w, o->p + i, o->n - i < o->chunk ? o->n - i : o->chunk, (int64_t)i);
}

static void roundtrip(const char *p, size_t n, size_t chunk, bool timing)
{
    octets o = {p, n, chunk};
    char *text = NULL;
    pop3mock_script *sc = written(server_octets, &o, timing, &text);
    pop3_buf got;
    pop3_buf_init(&got, 0);
    sent(sc, &got);
    cr_assert_eq(got.len, n, "%zu octets back for %zu:\n%s", got.len, n, text);
    cr_assert(memcmp(got.ptr, p, n) == 0, "different octets back:\n%s", text);
    pop3_buf_free(&got);
    pop3mock_script_free(sc);
    free(text);
}

Test(writer, every_octet_value_and_line_end)
{
    char all[256 * 3];
    size_t n = 0;
    for (int i = 0; i < 256; i++) {
        all[n++] = (char)i;
        if (i % 16 == 0) all[n++] = '\n';
        if (i % 32 == 0) {
            all[n++] = '\r';
            all[n++] = '\n';
        }
    }
    for (size_t chunk = 1; chunk <= 7; chunk++) {
        roundtrip(all, n, chunk, false);
        roundtrip(all, n, chunk, true);
    }
}

Test(writer, edges_pseudo_lines_stuffing)
{
    static const char *cases[] = {
        " leading and trailing \r\n",
        "  \r\n",
        " \r\n",
        "\r\n",
        "<wait for next connection>\r\n",
        "<close connection>\r\n",
        "..stuffed\r\n.\r\n",
        "{braces} and \\backslash\\\r\n",
        "no line end",
        ".\r",
        "bare cr\rinside\r\n",
        "# not a comment\r\n",
        "!not a directive\r\n",
        "S: not a prefix\r\n",
        "tab\tat end\t\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        roundtrip(cases[i], strlen(cases[i]), 1000, false);
        roundtrip(cases[i], strlen(cases[i]), 1, true);
    }
}

Test(writer, long_lines_at_and_past_the_piece_size)
{
    size_t sizes[] = {REC_PIECE_OCTETS - 2, REC_PIECE_OCTETS - 1,     REC_PIECE_OCTETS,
                      REC_PIECE_OCTETS + 1, 5 * REC_PIECE_OCTETS + 3, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *p = malloc(sizes[i] + 2);
        for (size_t k = 0; k < sizes[i]; k++)
            p[k] = (char)('a' + k % 26);
        p[sizes[i]] = '\r';
        p[sizes[i] + 1] = '\n';
        roundtrip(p, sizes[i] + 2, 4096, false);
        roundtrip(p, sizes[i] + 2, 700, true);
        free(p);
    }
}

static void client_lines(rec_writer *w, void *arg)
{
    (void)arg;
    static const char *lines[] = {"USER alice",
                                  "PASS my secret pw",
                                  "APOP alice 0123abcd",
                                  "AUTH PLAIN AGFsaWNlAHB3",
                                  "AUTH CRAM-MD5",
                                  " lead",
                                  "trail ",
                                  "<open connection>",
                                  "CAPA"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        size_t n = strlen(lines[i]);
        rec_client(w, lines[i], n, rec_tracker_redact(lines[i], n, false), 0);
    }
    rec_client(w, "c2VjcmV0", 8, rec_tracker_redact("c2VjcmV0", 8, true), 0);
    rec_client(w, "*", 1, rec_tracker_redact("*", 1, true), 0);
}

Test(writer, client_lines_and_secrets)
{
    char *text = NULL;
    pop3mock_script *sc = written(client_lines, NULL, false, &text);
    const char *want = "C: USER alice\n"
                       "C: PASS {*}\n"
                       "C: APOP alice {*}\n"
                       "C: AUTH PLAIN {*}\n"
                       "C: AUTH CRAM-MD5\n"
                       "C: \\slead\n"
                       "C: trail\\s\n"
                       "C: \\x3Copen connection>\n"
                       "C: CAPA\n"
                       "C: {*}\n"
                       "C: *\n";
    cr_assert_str_eq(text, want);
    cr_assert(strstr(text, "secret") == NULL && strstr(text, "0123abcd") == NULL);
    cr_assert_eq(sc->sessions[0].nsteps, 11);
    pop3mock_script_free(sc);
    free(text);
}

Test(tracker, redaction_of_malformed_and_lower_case_lines)
{
    rec_redaction r = rec_tracker_redact("pass x\ty", 8, false);
    cr_assert(r.wild && r.keep == 5);
    r = rec_tracker_redact("PASS", 4, false);
    cr_assert(!r.wild);
    r = rec_tracker_redact("APOP alice", 10, false);
    cr_assert(!r.wild); /* no digest: nothing to hide */
    r = rec_tracker_redact("PASSWORD x", 10, false);
    cr_assert(!r.wild); /* not the PASS keyword */
}

Test(tracker, pipelined_commands_at_and_past_the_limit)
{
    rec_tracker t;
    cr_assert_eq(rec_tracker_init(&t, NULL, NULL), 0);
    pop3_command_id id;
    /* The greeting is pending: REC_MAX_PENDING - 1 more lines fit. */
    for (int i = 0; i < REC_MAX_PENDING - 1; i++)
        rec_tracker_client(&t, "NOOP", 4, &id);
    cr_assert(!t.lost && t.count == REC_MAX_PENDING);
    rec_tracker_client(&t, "NOOP", 4, &id);
    cr_assert(t.lost, "one past the limit loses track");
    cr_assert(!rec_tracker_due(&t));
    rec_tracker_free(&t);
}

Test(tracker, replies_stls_and_sasl)
{
    rec_tracker t;
    cr_assert_eq(rec_tracker_init(&t, NULL, NULL), 0);
    bool stls = false;
    pop3_command_id id;
    cr_assert(rec_tracker_due(&t));
    const char *g = "+OK hello\r\n";
    rec_tracker_server(&t, g, strlen(g), &stls);
    cr_assert(rec_tracker_idle(&t));
    rec_tracker_client(&t, "RETR 1", 6, &id);
    const char *body = "+OK\r\nline\r\n";
    rec_tracker_server(&t, body, strlen(body), &stls);
    cr_assert(rec_tracker_mid_reply(&t));
    rec_tracker_server(&t, ".\r\n", 3, &stls);
    cr_assert(rec_tracker_idle(&t));
    rec_tracker_client(&t, "AUTH LOGIN", 10, &id);
    cr_assert(t.in_sasl);
    rec_tracker_server(&t, "+ VXNlcm5hbWU6\r\n", 16, &stls);
    cr_assert(!rec_tracker_due(&t), "the client speaks after a continuation");
    rec_redaction r = rec_tracker_client(&t, "YWxpY2U=", 8, &id);
    cr_assert(r.wild && r.keep == 0);
    rec_tracker_server(&t, "+OK\r\n", 5, &stls);
    cr_assert(!t.in_sasl && rec_tracker_idle(&t));
    rec_tracker_client(&t, "STLS", 4, &id);
    size_t n = rec_tracker_server(&t, "+OK go\r\nXX", 10, &stls);
    cr_assert(stls && n == 8);
    rec_tracker_free(&t);
}
