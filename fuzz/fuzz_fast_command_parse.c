/*
 * fuzz_fast_command_parse.c - received command lines, parse only: the fast twin of
 * fuzz_command_parse.
 *
 * Exercises pop3_parse_command (pop3/command.h): RFC 1939 section 3 (keyword of 3 or 4
 * characters, case-insensitive; arguments separated by one SP; printable ASCII;
 * 40-character arguments), RFC 2449 sections 3-4 (3*4VCHAR, 1*VCHAR, 255 octets with
 * the CRLF), RFC 1939 section 7 (PASS takes the rest of the line), RFC 6856 (8-bit
 * arguments), and the server's side of Q42 (CR, LF and NUL inside a line).
 *
 * Why a twin: fuzz_command_parse runs a reference parser beside the codec's and
 * round-trips every line through the encoder. This target runs the parser alone, so
 * that its time is the parser's; the reference parser and the round trips stay with
 * fuzz_command_parse.
 *
 * Input: as fuzz_command_parse (whose seeds serve unchanged): byte 0 bit 0:
 * POP3_CMDTOL_SPACES, bit 1: POP3_CMDTOL_8BIT, bits 2-3: the argument limit (0 none, 1
 * RFC 1939's 40, 2 and 3: byte 1 % 16 + 1); byte 1: max_line (0: the default 255, else
 * the value); the rest is the line, ending where the input does, so that
 * AddressSanitizer sees a read past it.
 *
 * Invariants: the result is the one the fault names (POP3_OK exactly for no fault), the
 * fault offset lies in the line and a message is given; on success the keyword is 3 or
 * 4 octets at the start of the line, its upper-case name is NUL-terminated, the id is
 * that of the name, every argument view lies inside the line, is not empty and holds no
 * SP, rest runs to the end of the line (NULL exactly when there are no arguments),
 * quirks are tolerances that were granted.
 */
#include "fuzz_common.h"

#include "pop3/command.h"
#include "pop3/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t flags = fuzz_byte(&in);
    uint8_t max = fuzz_byte(&in);
    pop3_command_options opt = {.max_line = max, .tolerances = flags & 3u};
    switch ((flags >> 2) & 3u) {
    case 0: break;
    case 1: opt.max_arg = POP3_ARG_MAX_RFC1939; break;
    default: opt.max_arg = (size_t)max % 16 + 1; break;
    }
    const char *line = (const char *)in.p;
    size_t len = in.len;

    pop3_request cmd;
    const char *message = NULL;
    int rc = pop3_parse_command(line, len, &opt, &cmd, &message);
    if (rc != POP3_OK) {
        FUZZ_CHECK(rc == POP3_EPROTO || rc == POP3_ELIMIT);
        FUZZ_CHECK(cmd.fault != POP3_CMDF_NONE && message != NULL);
        FUZZ_CHECK(message == pop3_command_fault_message(cmd.fault));
        FUZZ_CHECK(cmd.fault_at <= len);
        return 0;
    }
    FUZZ_CHECK(cmd.fault == POP3_CMDF_NONE);
    FUZZ_CHECK((cmd.quirks & ~opt.tolerances) == 0);
    FUZZ_CHECK(cmd.keyword.ptr == line && (cmd.keyword.len == 3 || cmd.keyword.len == 4));
    FUZZ_CHECK(cmd.name[cmd.keyword.len] == '\0');
    FUZZ_CHECK(strcmp(pop3_command_name(cmd.id), cmd.id == POP3_CMD_UNKNOWN ? "" : cmd.name) == 0);
    size_t shown = cmd.nargs < POP3_COMMAND_ARGS_MAX ? cmd.nargs : POP3_COMMAND_ARGS_MAX;
    for (size_t i = 0; i < shown; i++) {
        FUZZ_CHECK(cmd.args[i].len > 0 && fuzz_inside(cmd.args[i].ptr, cmd.args[i].len, line, len));
        FUZZ_CHECK(memchr(cmd.args[i].ptr, ' ', cmd.args[i].len) == NULL);
    }
    if (cmd.rest.ptr == NULL) {
        FUZZ_CHECK(cmd.nargs == 0 && cmd.rest.len == 0);
    } else {
        FUZZ_CHECK(fuzz_inside(cmd.rest.ptr, cmd.rest.len, line, len));
        FUZZ_CHECK(cmd.rest.ptr + cmd.rest.len == line + len);
    }
    return 0;
}
