/*
 * greeting.c - the APOP timestamp of a POP3 greeting (pop3/parse.h).
 *
 * Implements RFC 1939 section 7 (APOP: the timestamp is a msg-id "<...>" in the
 * greeting) with two defences from the quirk catalogue (conformance/QUIRKS.md):
 *   - only a well-formed msg-id counts (CVE-2007-1558, Q33): printable ASCII without
 *     spaces, and an "@" with text on both sides, so that "<abc>" or "<a.b.c>" in a
 *     greeting is not mistaken for a timestamp and an attacker cannot make the client
 *     hash a chosen string;
 *   - one pass over the line, whatever it holds (CVE-2018-1060, Q44: poplib's regex
 *     went quadratic on a greeting of a million "<").
 */
#include "pop3/parse.h"

/*
 * The text between the angle brackets of a candidate. RFC 822 msg-id is
 * "<" local-part "@" domain ">"; we check its shape, not its grammar: 0x21..0x7E only
 * (no space, no control, no 8-bit), no angle bracket, some "@" that is neither first nor
 * last.
 */
static bool is_msg_id(const char *s, size_t len)
{
    bool at = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || c == '<' || c == '>') return false;
        if (c == '@' && i > 0 && i + 1 < len) at = true;
    }
    return at;
}

bool pop3_apop_timestamp(const char *line, size_t len, pop3_view *ts)
{
    /*
     * A candidate runs from a "<" to the next ">"; a later "<" before that ">" starts
     * the candidate afresh ("<<a@b>" gives "<a@b>"). Candidates are therefore disjoint,
     * so checking each one when its ">" arrives reads every octet at most twice: linear
     * time with no backtracking, however many "<" there are.
     */
    size_t start = 0;
    bool open = false;
    for (size_t i = 0; i < len; i++) {
        if (line[i] == '<') {
            start = i;
            open = true;
        } else if (line[i] == '>' && open) {
            if (is_msg_id(line + start + 1, i - start - 1)) {
                ts->ptr = line + start;
                ts->len = i - start + 1;
                return true;
            }
            open = false; /* the first valid candidate wins; keep looking */
        }
    }
    return false;
}
