/*
 * command_line.c - a received command line as the mock's handlers want it, read by the
 * codec's command parser (pop3_parse_command, RFC 1939 section 3, RFC 2449 section 4):
 * the mock does not split command lines itself.
 */
#include "command_line.h"

#include "pop3/command.h"

bool pop3mock__command_split(const char *line, size_t len, pop3mock__command *cmd,
                             pop3_request *request)
{
    pop3_command_options opt;
    pop3_command_options_default(&opt);
    /* session.c enforces the line length (and lets AUTH's initial response be longer,
     * RFC 5034 section 4), so the codec checks every rule but that one here. */
    opt.max_line = len + 2;
    pop3_request local;
    pop3_request *rq = request != NULL ? request : &local;
    if (pop3_parse_command(line, len, &opt, rq, NULL) != 0) return false;
    cmd->keyword = rq->keyword.ptr;
    cmd->keyword_len = rq->keyword.len;
    cmd->rest = rq->rest.ptr != NULL ? rq->rest.ptr : line + len;
    cmd->rest_len = rq->rest.len;
    size_t n = rq->nargs < POP3MOCK__ARGS_MAX ? rq->nargs : POP3MOCK__ARGS_MAX;
    for (size_t i = 0; i < n; i++) {
        cmd->arg[i] = rq->args[i].ptr;
        cmd->arg_len[i] = rq->args[i].len;
    }
    cmd->nargs = rq->nargs > POP3MOCK__ARGS_MAX ? POP3MOCK__ARGS_MAX + 1 : rq->nargs;
    return true;
}
