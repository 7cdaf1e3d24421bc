/*
 * command_line.h - a POP3 command line as the server received it: keyword and arguments.
 *
 * RFC 1939 section 3: a keyword, then arguments separated by single spaces (runs of
 * spaces are tolerated); RFC 2449 section 4: at most 255 octets with CRLF (session.c
 * enforces the length before a line gets here). The codec's pop3_parse_command reads it.
 */
#ifndef POP3MOCK_COMMAND_LINE_H
#define POP3MOCK_COMMAND_LINE_H

#include <stdbool.h>
#include <stddef.h>

#include "pop3/command.h"

/* Arguments kept as words; a command needs at most two (TOP, APOP, AUTH). */
#define POP3MOCK__ARGS_MAX 2

typedef struct pop3mock__command {
    const char *keyword; /* not NUL-terminated */
    size_t keyword_len;
    /* Everything after the keyword and the one space after it (PASS takes it whole:
     * RFC 1939 section 7 allows spaces in a password). */
    const char *rest;
    size_t rest_len;
    const char *arg[POP3MOCK__ARGS_MAX];
    size_t arg_len[POP3MOCK__ARGS_MAX];
    size_t nargs; /* words after the keyword; POP3MOCK__ARGS_MAX + 1 when there are more */
} pop3mock__command;

/* Read `line` (without its line end) with the codec's command parser; the views point
 * into `line`. False when the line is not a command (a control octet, a keyword that is
 * not 3 or 4 printable characters, an empty line): `request` (may be NULL) then holds
 * the codec's reason in its `fault` and `fault_at`. */
bool pop3mock__command_split(const char *line, size_t len, pop3mock__command *cmd,
                             pop3_request *request);

#endif
