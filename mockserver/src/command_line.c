/*
 * command_line.c - splitting a received command line (RFC 1939 section 3).
 */
#include "command_line.h"

void pop3mock__command_split(const char *line, size_t len, pop3mock__command *cmd)
{
    size_t kw = 0;
    while (kw < len && line[kw] != ' ')
        kw++;
    cmd->keyword = line;
    cmd->keyword_len = kw;
    cmd->rest = kw < len ? line + kw + 1 : line + len;
    cmd->rest_len = kw < len ? len - kw - 1 : 0;
    cmd->nargs = 0;
    const char *a = cmd->rest;
    size_t i = 0, n = cmd->rest_len;
    for (;;) {
        while (i < n && a[i] == ' ')
            i++;
        if (i == n) return;
        if (cmd->nargs == POP3MOCK__ARGS_MAX) {
            cmd->nargs = POP3MOCK__ARGS_MAX + 1;
            return;
        }
        size_t start = i;
        while (i < n && a[i] != ' ')
            i++;
        cmd->arg[cmd->nargs] = a + start;
        cmd->arg_len[cmd->nargs] = i - start;
        cmd->nargs++;
    }
}
