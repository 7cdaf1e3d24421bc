/*
 * pop3/command.h - the request side of the codec: one received command line in,
 * keyword and argument views out.
 *
 * Implements RFC 1939 section 3 (a command is a case-insensitive keyword of three or
 * four characters, possibly followed by arguments, each separated by a single SP;
 * keywords and arguments are printable ASCII; an argument is at most 40 characters),
 * RFC 2449 sections 3 and 4 (keyword = 3*4VCHAR, param = 1*VCHAR; a command line is at
 * most 255 octets with its CRLF, which lifts RFC 1939's 40-character argument limit
 * within that line), RFC 1939 section 7 (PASS takes the rest of the line, spaces
 * included) and RFC 6856 section 2 (UTF-8 in arguments).
 *
 * It is the inverse of pop3_encode_command (pop3/encode.h): parsing what that encoder
 * wrote gives back its keyword and, in `rest`, its arguments joined by single spaces.
 *
 * What a server feeds it: one line as its framing cut it, without the line end. The
 * framing itself (finding CRLF, refusing a line that grows past the limit before its
 * end arrives) is the caller's: a server must not buffer an endless line to hand it
 * here. Lines that are not commands must not be given to it:
 *   - after "AUTH mechanism" the client's lines are SASL responses until the exchange
 *     ends (RFC 5034 section 4): a base64 string, possibly empty, or "*" to cancel. They
 *     have no keyword, and no length limit but the server's own (a server sets one);
 *     decode them with pop3_base64_decode (pop3/digest.h), answer "*" with -ERR;
 *   - the initial response of "AUTH mechanism initial-response" IS part of the command:
 *     it is argument 2 (RFC 5034 section 4 keeps the 255-octet line limit for it, and
 *     "=" stands for an empty response).
 *
 * Nothing here allocates or keeps state: every view points into the caller's line and
 * lives as long as it does.
 */
#ifndef POP3_COMMAND_H
#define POP3_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "pop3/error.h"
#include "pop3/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 1939 section 3: an argument may be up to 40 characters long (the strict limit;
 * RFC 2449 section 4 lets a longer one fill the 255-octet line). */
#define POP3_ARG_MAX_RFC1939 40

/* Arguments a parsed command holds views of. No command of RFC 1939, 2449, 2595, 5034
 * or 6856 takes more than two; a line with more still parses (`nargs` counts them all,
 * `rest` holds them all). */
#define POP3_COMMAND_ARGS_MAX 8

/* The commands of RFC 1939 (and RFC 1081's RPOP, which poplib still sends), RFC 2449
 * (CAPA), RFC 2595 (STLS), RFC 5034 (AUTH) and RFC 6856 (UTF8, LANG). */
#define POP3_COMMAND_LIST(X) \
    X(USER)                  \
    X(PASS)                  \
    X(APOP)                  \
    X(RPOP)                  \
    X(AUTH)                  \
    X(STLS)                  \
    X(CAPA)                  \
    X(UTF8)                  \
    X(LANG)                  \
    X(STAT)                  \
    X(LIST)                  \
    X(RETR)                  \
    X(DELE)                  \
    X(NOOP)                  \
    X(RSET)                  \
    X(TOP)                   \
    X(UIDL)                  \
    X(QUIT)

typedef enum pop3_command_id {
    POP3_CMD_UNKNOWN = 0, /* a well-formed keyword that is none of the list */
#define POP3__COMMAND_ENUM(name) POP3_CMD_##name,
    POP3_COMMAND_LIST(POP3__COMMAND_ENUM)
#undef POP3__COMMAND_ENUM
} pop3_command_id;

/* Named deviations a server may accept; set in `tolerances`, reported in `quirks`. */
enum {
    /* SP runs between arguments, and SP at the end of the line ("LIST  1", "STAT "):
     * the arguments are then the non-empty words. RFC 1939 wants a single SP. */
    POP3_CMDTOL_SPACES = 1u << 0,
    /* Octets 0x80-0xFF in arguments: UTF-8 user names and passwords (RFC 6856 section
     * 2 allows them after UTF8; clients send them before it too). Never in a keyword. */
    POP3_CMDTOL_8BIT = 1u << 1,
};

/* What a server accepts unless told otherwise: spaces and 8-bit arguments. */
#define POP3_CMDTOL_DEFAULT (POP3_CMDTOL_SPACES | POP3_CMDTOL_8BIT)
/* The RFCs to the letter. */
#define POP3_CMDTOL_STRICT  0u

/* Limits and tolerances. Zero-initialised means the defaults in parentheses. */
typedef struct pop3_command_options {
    /* Longest command line, its CRLF counted (0: POP3_COMMAND_MAX of pop3/encode.h,
     * 255, RFC 2449 section 4). A server raises it when a capability it offers allows more. */
    size_t max_line;
    /* Longest argument (0: no limit but the line's, RFC 2449 section 4;
     * POP3_ARG_MAX_RFC1939 for RFC 1939 section 3, as Exchange enforces it). */
    size_t max_arg;
    /* POP3_CMDTOL_* accepted. Zero-initialised options are strict; use
     * pop3_command_options_default for POP3_CMDTOL_DEFAULT. */
    unsigned tolerances;
} pop3_command_options;

/* Why a line is not a command: each rule of the RFCs has its own fault, so that a server
 * (or a probe) can say which one a client broke. X(NAME, error, message). */
#define POP3_COMMAND_FAULT_LIST(X)                                                       \
    X(NONE, POP3_OK, "well-formed command")                                              \
    X(EMPTY, POP3_EPROTO, "empty command line")                                          \
    X(TOO_LONG, POP3_ELIMIT, "command line longer than the limit (RFC 2449 section 4)")  \
    X(NUL, POP3_EPROTO, "command line contains NUL")                                     \
    X(CR, POP3_EPROTO, "command line contains CR")                                       \
    X(LF, POP3_EPROTO, "command line contains LF")                                       \
    X(TAB, POP3_EPROTO, "command line contains TAB")                                     \
    X(CONTROL, POP3_EPROTO, "command line contains a control octet")                     \
    X(EIGHT_BIT, POP3_EPROTO, "command line contains an 8-bit octet")                    \
    X(KEYWORD, POP3_EPROTO, "keyword must be 3 or 4 printable ASCII characters")         \
    X(SPACES, POP3_EPROTO, "arguments must be separated by one SP (RFC 1939 section 3)") \
    X(ARG_TOO_LONG, POP3_ELIMIT, "argument longer than the limit (RFC 1939 section 3)")

typedef enum pop3_command_fault {
#define POP3__COMMAND_FAULT_ENUM(name, error, message) POP3_CMDF_##name,
    POP3_COMMAND_FAULT_LIST(POP3__COMMAND_FAULT_ENUM)
#undef POP3__COMMAND_FAULT_ENUM
} pop3_command_fault;

/* One parsed command. Views point into the line given to pop3_parse_command. */
typedef struct pop3_request {
    pop3_command_id id; /* POP3_CMD_UNKNOWN for a keyword not in POP3_COMMAND_LIST */
    pop3_view keyword;  /* as received, any case */
    char name[5];       /* the keyword in upper case, NUL-terminated: "RETR" */
    size_t nargs;       /* arguments on the line; views for the first
                           POP3_COMMAND_ARGS_MAX of them */
    pop3_view args[POP3_COMMAND_ARGS_MAX];
    pop3_view rest;           /* everything after the keyword and its SP, unsplit: PASS's
                                 password (RFC 1939 section 7). Empty when the line is the
                                 keyword alone; `rest.ptr` is NULL exactly then */
    unsigned quirks;          /* POP3_CMDTOL_* this line needed */
    pop3_command_fault fault; /* why the line was refused; POP3_CMDF_NONE on success */
    size_t fault_at;          /* offset in the line of the octet that broke the rule */
} pop3_request;

/* Fill `opt` with max_line 255, no argument limit, POP3_CMDTOL_DEFAULT. */
void pop3_command_options_default(pop3_command_options *opt);

/*
 * pop3_parse_command - one received command line (without its CRLF) into `cmd`.
 * `opt` may be NULL for pop3_command_options_default. Checks, in this order: the length
 * (`len` + 2 for the CRLF against max_line), every octet (controls always refused,
 * 8-bit outside arguments or without POP3_CMDTOL_8BIT), the keyword (3 or 4 VCHAR,
 * matched case-insensitively against POP3_COMMAND_LIST), the separators, each
 * argument's length.
 * Returns POP3_OK; or POP3_EPROTO / POP3_ELIMIT with `cmd->fault` and `cmd->fault_at`
 * set (pop3_command_fault_message says why) and `*message` (may be NULL) set to the same
 * static text. On error the views in `cmd` are not meaningful.
 */
int pop3_parse_command(const char *line, size_t len, const pop3_command_options *opt,
                       pop3_request *cmd, const char **message);

/* The static message of a fault ("command line contains CR"); "unknown fault" else. */
const char *pop3_command_fault_message(pop3_command_fault fault);

/* The keyword of a command id in upper case ("RETR"), "" for POP3_CMD_UNKNOWN. */
const char *pop3_command_name(pop3_command_id id);

#ifdef __cplusplus
}
#endif
#endif
