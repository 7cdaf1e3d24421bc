/*
 * command_parse.c - received command lines (pop3/command.h), the server's side of
 * command.c.
 *
 * RFC 1939 section 3 (keyword, arguments, single SP, printable ASCII, 40-character
 * arguments), RFC 2449 sections 3 and 4 (3*4VCHAR keywords, 1*VCHAR params, 255 octets
 * with the CRLF), RFC 1939 section 7 (PASS takes the rest of the line), RFC 6856
 * section 2 (UTF-8 arguments).
 *
 * One pass per rule, in the order the header documents, so that a line that breaks
 * several rules is always refused for the same one (the fuzz target's reference model
 * relies on it). Views only: nothing is copied but the four keyword octets.
 */
#include "pop3/command.h"

#include <string.h>

#include "pop3/encode.h"
#include "pop3/error.h"

static const char *const fault_messages[] = {
#define POP3__FAULT_MESSAGE(name, error, message) [POP3_CMDF_##name] = message,
    POP3_COMMAND_FAULT_LIST(POP3__FAULT_MESSAGE)
#undef POP3__FAULT_MESSAGE
};

static const int fault_errors[] = {
#define POP3__FAULT_ERROR(name, error, message) [POP3_CMDF_##name] = error,
    POP3_COMMAND_FAULT_LIST(POP3__FAULT_ERROR)
#undef POP3__FAULT_ERROR
};

static const char *const command_names[] = {[POP3_CMD_UNKNOWN] = "",
#define POP3__COMMAND_NAME(name) [POP3_CMD_##name] = #name,
                                            POP3_COMMAND_LIST(POP3__COMMAND_NAME)
#undef POP3__COMMAND_NAME
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void pop3_command_options_default(pop3_command_options *opt)
{
    opt->max_line = POP3_COMMAND_MAX;
    opt->max_arg = 0;
    opt->tolerances = POP3_CMDTOL_DEFAULT;
}

const char *pop3_command_fault_message(pop3_command_fault fault)
{
    if ((unsigned)fault >= COUNT(fault_messages)) return "unknown fault";
    return fault_messages[fault];
}

const char *pop3_command_name(pop3_command_id id)
{
    if ((unsigned)id >= COUNT(command_names)) return "";
    return command_names[id];
}

static int refuse(pop3_request *cmd, pop3_command_fault fault, size_t at, const char **message)
{
    cmd->fault = fault;
    cmd->fault_at = at;
    if (message != NULL) *message = fault_messages[fault];
    return fault_errors[fault];
}

/* The control octets get names: CR and LF would end the line early (a second command
 * smuggled in, the server's side of Q42), NUL cuts C strings short. */
static pop3_command_fault control_fault(unsigned char c)
{
    switch (c) {
    case 0x00: return POP3_CMDF_NUL;
    case 0x0d: return POP3_CMDF_CR;
    case 0x0a: return POP3_CMDF_LF;
    case 0x09: return POP3_CMDF_TAB;
    default: return c < 0x20 || c == 0x7f ? POP3_CMDF_CONTROL : POP3_CMDF_NONE;
    }
}

/* RFC 5234 VCHAR: 0x21-0x7E. */
static bool is_vchar(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e;
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static pop3_command_id lookup(const char name[5])
{
    for (size_t i = 1; i < COUNT(command_names); i++)
        if (strcmp(command_names[i], name) == 0) return (pop3_command_id)i;
    return POP3_CMD_UNKNOWN;
}

/* The arguments after the keyword's SP: words separated by SP, judged left to right. */
static int split_args(const char *line, size_t start, size_t len, const pop3_command_options *o,
                      pop3_request *cmd, const char **message)
{
    size_t pos = start;
    bool tolerant = (o->tolerances & POP3_CMDTOL_SPACES) != 0;
    /* "KEYWORD " and nothing after: an empty last argument (RFC 2449 param = 1*VCHAR). */
    if (pos == len) {
        if (!tolerant) return refuse(cmd, POP3_CMDF_SPACES, start - 1, message);
        cmd->quirks |= POP3_CMDTOL_SPACES;
        return POP3_OK;
    }
    while (pos < len) {
        if (line[pos] == ' ') {
            /* A SP where a word should start: leading, doubled or trailing. */
            if (!tolerant) return refuse(cmd, POP3_CMDF_SPACES, pos, message);
            cmd->quirks |= POP3_CMDTOL_SPACES;
            pos++;
            continue;
        }
        size_t word = pos;
        while (pos < len && line[pos] != ' ') {
            if ((unsigned char)line[pos] >= 0x80) {
                if ((o->tolerances & POP3_CMDTOL_8BIT) == 0)
                    return refuse(cmd, POP3_CMDF_EIGHT_BIT, pos, message);
                cmd->quirks |= POP3_CMDTOL_8BIT;
            }
            pos++;
        }
        if (o->max_arg != 0 && pos - word > o->max_arg)
            return refuse(cmd, POP3_CMDF_ARG_TOO_LONG, word, message);
        if (cmd->nargs < POP3_COMMAND_ARGS_MAX)
            cmd->args[cmd->nargs] = (pop3_view){line + word, pos - word};
        cmd->nargs++;
        /* One SP ends a word; it may be the last octet (strict: a trailing SP). */
        if (pos < len) {
            pos++;
            if (pos == len) {
                if (!tolerant) return refuse(cmd, POP3_CMDF_SPACES, pos - 1, message);
                cmd->quirks |= POP3_CMDTOL_SPACES;
            }
        }
    }
    return POP3_OK;
}

int pop3_parse_command(const char *line, size_t len, const pop3_command_options *opt,
                       pop3_request *cmd, const char **message)
{
    pop3_command_options defaults;
    if (opt == NULL) {
        pop3_command_options_default(&defaults);
        opt = &defaults;
    }
    memset(cmd, 0, sizeof *cmd);
    if (line == NULL || len == 0) return refuse(cmd, POP3_CMDF_EMPTY, 0, message);

    /* The limit counts the CRLF the line arrived with; compared without adding, so
     * that no length can wrap the sum. */
    size_t max = opt->max_line != 0 ? opt->max_line : POP3_COMMAND_MAX;
    if (max < 2 || len > max - 2)
        return refuse(cmd, POP3_CMDF_TOO_LONG, max < 2 ? 0 : max - 2, message);

    for (size_t i = 0; i < len; i++) {
        pop3_command_fault f = control_fault((unsigned char)line[i]);
        if (f != POP3_CMDF_NONE) return refuse(cmd, f, i, message);
    }

    size_t kw = 0;
    while (kw < len && line[kw] != ' ') {
        if (!is_vchar((unsigned char)line[kw])) return refuse(cmd, POP3_CMDF_KEYWORD, kw, message);
        kw++;
    }
    if (kw < 3 || kw > 4) return refuse(cmd, POP3_CMDF_KEYWORD, kw < 3 ? kw : 4, message);
    cmd->keyword = (pop3_view){line, kw};
    for (size_t i = 0; i < kw; i++)
        cmd->name[i] = upper(line[i]);
    cmd->name[kw] = '\0';
    cmd->id = lookup(cmd->name);

    if (kw < len) {
        cmd->rest = (pop3_view){line + kw + 1, len - kw - 1};
        int rc = split_args(line, kw + 1, len, opt, cmd, message);
        if (rc != POP3_OK) return rc;
    }
    cmd->fault = POP3_CMDF_NONE;
    return POP3_OK;
}
