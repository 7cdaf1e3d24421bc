/*
 * test_mock_limits.c - the mock's two growth limits, each at the limit and one past it:
 * the output a session queues (pop3mock_limits.max_output) and the steps of one scripted
 * session (pop3mock_script_options.max_steps). Past either, the mock ends cleanly with a
 * message: the session resets and says why; the parser refuses the script at FILE:LINE.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_support.h"
#include "pop3mock/script.h"
#include "pop3mock/server.h"

/* Session 0 of `text` played with output limit `max_output`; *over gets the verdict. */
static char *play_limited(const char *text, size_t max_output, bool *over)
{
    char err[256] = "";
    pop3mock_script *sc = pop3mock_script_parse("t.pop3", text, strlen(text), err, sizeof err);
    cr_assert(sc != NULL, "%s", err);
    pop3mock_limits lim;
    pop3mock_limits_default(&lim);
    lim.max_output = max_output;
    pop3mock_session *s = pop3mock_script_session_new(sc, 0, &lim, "<1@x>", false);
    cr_assert(s != NULL);
    char *out = mock_run(s, "", NULL);
    *over = pop3mock_session_over_limit(s);
    cr_expect(pop3mock_session_done(s));
    pop3mock_session_free(s);
    pop3mock_script_free(sc);
    return out;
}

Test(mock_limits, defaults_are_documented_values)
{
    pop3mock_limits lim;
    pop3mock_limits_default(&lim);
    cr_expect_eq(lim.max_output, 16777216);
    pop3mock_script_options opt;
    pop3mock_script_options_default(&opt);
    cr_expect_eq(opt.max_steps, 1048576);
    cr_expect_str_eq(pop3mock_end_name(POP3MOCK_END_LIMIT), "output over the max-output limit");
}

Test(mock_limits, output_at_and_past_the_limit)
{
    /* "+OK hello" CRLF is 11 octets: with 11 it is sent whole; with 10 nothing of it is,
     * and the session ends (a reset) saying its output limit was passed. */
    bool over = true;
    char *out = play_limited("S: +OK hello\n", 11, &over);
    cr_expect_str_eq(out, "+OK hello\r\n");
    cr_expect(!over);
    free(out);
    out = play_limited("S: +OK hello\n", 10, &over);
    cr_expect_str_eq(out, "");
    cr_expect(over);
    free(out);
}

Test(mock_limits, output_limit_counts_what_is_queued_not_what_was_sent)
{
    /* Two replies of 5 octets under a limit of 5: the first is sent before the second is
     * queued (the client's NOOP comes after), so neither passes the limit. */
    bool over = true;
    char err[256] = "";
    const char *text = "S: +OK\nC: NOOP\nS: +OK\n";
    pop3mock_script *sc = pop3mock_script_parse("t.pop3", text, strlen(text), err, sizeof err);
    cr_assert(sc != NULL, "%s", err);
    pop3mock_limits lim;
    pop3mock_limits_default(&lim);
    lim.max_output = 5;
    pop3mock_session *s = pop3mock_script_session_new(sc, 0, &lim, "<1@x>", false);
    cr_assert(s != NULL);
    char *out = mock_run(s, "NOOP\r\n", NULL);
    over = pop3mock_session_over_limit(s);
    cr_expect_str_eq(out, "+OK\r\n+OK\r\n");
    cr_expect(!over);
    free(out);
    pop3mock_session_free(s);
    pop3mock_script_free(sc);
}

/* Parse `text` with at most `max_steps` steps a session. */
static pop3mock_script *parse_steps(const char *text, size_t max_steps, char *err, size_t errlen)
{
    pop3mock_script_options opt;
    pop3mock_script_options_default(&opt);
    opt.max_steps = max_steps;
    return pop3mock_script_parse_with("t.pop3", text, strlen(text), &opt, err, errlen);
}

Test(mock_limits, script_steps_at_and_past_the_limit)
{
    /* Three steps a session: taken with 3 (per session: a second session of 3 too),
     * refused with 2 at the line of the third step. */
    const char *text = "S: +OK\nC: NOOP\nS: +OK\n!session\nS: +OK\nC: QUIT\nS: +OK\n";
    char err[256] = "";
    pop3mock_script *sc = parse_steps(text, 3, err, sizeof err);
    cr_expect(sc != NULL, "%s", err);
    if (sc != NULL) cr_expect_eq(pop3mock_script_sessions(sc), 2);
    pop3mock_script_free(sc);
    sc = parse_steps(text, 2, err, sizeof err);
    cr_expect(sc == NULL);
    cr_expect_str_eq(err, "t.pop3:3: more than 2 steps in one session (the max-steps limit)");
    pop3mock_script_free(sc);
}
