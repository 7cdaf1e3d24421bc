/*
 * errbuf.h - the error convention of the `pop3` command's file-handling parts
 * (maildir.c, uidl_state.c): a failing call writes a sentence into the caller's buffer
 * and returns -1, so the command can print why a fetch stopped without any global state.
 */
#ifndef POP3_CLI_ERRBUF_H
#define POP3_CLI_ERRBUF_H

#include <stddef.h>

/* Write the formatted sentence into `err` (when given, cut to `errlen`); returns -1. */
int cli_seterr(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
